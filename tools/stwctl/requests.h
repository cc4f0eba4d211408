/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: requests shared by several subcommands, and their reports:
 * STOP (stop, hold), RESUME (resume, hold), STATUS as a do (status,
 * hold) and the id lists of SPAWN and KILL.
 */
#ifndef STWCTL_REQUESTS_H
#define STWCTL_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "attrs.h"
#include "nl.h"

struct stop_opts {
	uint32_t timeout_ms;	/* 0: the kernel's default (5 s) */
	bool keep_waiting;
	uint32_t lease_ms;	/* 0: a hold bound to our socket */
};

struct stop_result {
	struct stw_cycle_info cycle;
	struct stw_vms laggards;
	bool has_laggards;
};

/* Sends STOP and waits. Returns 0, or -1 with *E filled in. */
int stop_request(struct stw_nl *nl, const struct stop_opts *o,
		 struct stop_result *r, struct stw_err *e);

/* "stopped: generation 12, time to stop 85us, hold 3 (lease 60s)" or JSON. */
void stop_print(const struct stop_opts *o, const struct stop_result *r);

/*
 * A failed STOP: the error line on stderr and, on a timeout, the laggard
 * table (or JSON) on stdout. Returns the exit code.
 */
int stop_fail(const struct stw_nl *nl, const struct stop_opts *o,
	      const struct stop_result *r, const struct stw_err *e);

void stop_result_free(struct stop_result *r);

struct resume_result {
	struct stw_cycle_info cycle;
	bool resumed;		/* the world is RUN_ALL now */
};

/* HOLD_ID 0: none. Returns 0, or -1 with *E filled in. */
int resume_request(struct stw_nl *nl, uint32_t hold_id, bool force,
		   struct resume_result *r, struct stw_err *e);

/* "resumed" or "released, N holds remain", or JSON. */
void resume_print(const struct resume_result *r);

/* STATUS as a do. Returns 0, or -1 with *E filled in. */
int world_fetch(struct stw_nl *nl, struct stw_world_info *w,
		struct stw_err *e);

/*
 * Sends MSG (SPAWN or KILL) and prints the STW_A_VM_IDS of the reply: one
 * line of space-separated ids (nothing for none), or {"ids": [...]}.
 * Returns the exit code.
 */
int ids_request(struct stw_nl *nl, struct nl_msg *msg);

#endif /* STWCTL_REQUESTS_H */
