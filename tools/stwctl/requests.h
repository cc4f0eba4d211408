/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: the reports of requests shared by several subcommands: STOP
 * (stop, hold), RESUME (resume, hold) and the id lists of SPAWN and KILL.
 * The requests themselves are lib/stw_client.h's.
 */
#ifndef STWCTL_REQUESTS_H
#define STWCTL_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

/* "stopped: generation 12, time to stop 85us, hold 3 (lease 60s)" or JSON. */
void stop_print(const struct stw_stop_req *o, const struct stw_stop_result *r);

/*
 * A failed STOP: the error line on stderr and, on a timeout, the laggard
 * table (or JSON) on stdout. Returns the exit code.
 */
int stop_fail(const struct stw_sock *s, const char *cmd,
	      const struct stw_stop_req *o, const struct stw_stop_result *r);

/* "resumed" or "released, N holds remain", or JSON. */
void resume_print(bool resumed, const struct stw_cycle *c);

/* The ids on one line, space-separated (nothing for none), or JSON. */
void print_ids(const struct stw_ids *ids);

#endif /* STWCTL_REQUESTS_H */
