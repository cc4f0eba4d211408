/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_probe: scripted interleavings for the race tests, after libauto's
 * AutoTestScript. A script arms a probe point, makes something happen, waits
 * until a VM's thread reaches the point (it parks there), does its next
 * step, releases it, and checks. Every wait has a timeout; on a timeout
 * everything parked is released (RESET) and the failure names the probe.
 *
 * Requests return 0 or a positive errno; the socket keeps the last extack.
 */
#ifndef STW_PROBE_H
#define STW_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "uapi/stw_probe.h"
#include "stw_nl.h"

#define STW_PROBE_PARK		true
#define STW_PROBE_NOTE		false
#define STW_PROBE_WAIT_MS	5000

struct stw_probe_hit {
	uint64_t seq;
	uint64_t generation;
	int point;
	uint32_t vm;
};

/*
 * Make sure stw is loaded with probes=1 (reloading it if it is loaded
 * without): 0 or errno.
 */
int stw_probe_enable(void);
/* A socket on the "stw_probe" family. NULL + errno. */
struct stw_sock *stw_probe_open(void);

int stw_probe_arm(struct stw_sock *p, int point, uint32_t vm, bool park);
/* Wait until @point armed for @vm is reached; @hit_vm (may be NULL). */
int stw_probe_wait(struct stw_sock *p, int point, uint32_t vm,
		   int timeout_ms, uint32_t *hit_vm);
int stw_probe_release(struct stw_sock *p, int point, uint32_t vm);
int stw_probe_reset(struct stw_sock *p);
/* The ordered log of hits, malloc'ed (free()). */
int stw_probe_log(struct stw_sock *p, struct stw_probe_hit **hits,
		  size_t *n);
/*
 * How many hits of @point for @vm in @generation the log holds. With
 * STW_PROBES_UNARMED=1 nothing is armed, so nothing is logged.
 */
size_t stw_probe_hits(const struct stw_probe_hit *hits, size_t n, int point,
		      uint32_t vm, uint64_t generation);
const char *stw_probe_name(int point);

/*
 * Gates (make explore): a gated thread parks at every probe point it
 * reaches until let go past it. Ungating lets it go for good.
 */
struct stw_probe_gate_info {
	pid_t pid;
	uint64_t parks;		/* times it parked at its gate */
	uint32_t holds;		/* stw's locks it holds */
	bool parked;		/* parked there now, at: */
	int point;
	uint32_t vm;
};

/* stw's event worker: busy while it has events, on thread @pid (0: none). */
struct stw_probe_worker_info {
	bool busy;
	pid_t pid;
};

int stw_probe_gate(struct stw_sock *p, pid_t pid, bool gated);
/* Gate (or not) the thread of every VM stw creates from now on. */
int stw_probe_gate_born(struct stw_sock *p, bool gated);
int stw_probe_go(struct stw_sock *p, pid_t pid);
/* Every gated thread, at most @cap (E2BIG beyond), and the event worker. */
int stw_probe_gates(struct stw_sock *p, struct stw_probe_gate_info *g,
		    size_t cap, size_t *n, struct stw_probe_worker_info *w);

/*
 * A request made by a second controller, on its own socket, in a thread:
 * for steps that block (a STOP that cannot complete yet, a KILL that waits
 * for a parked VM). The socket, and a hold taken on it, live until
 * stw_bg_free().
 */
struct stw_bg;

struct stw_bg *stw_bg_stop(uint32_t timeout_ms);
struct stw_bg *stw_bg_kill(uint32_t vm);
struct stw_bg *stw_bg_run_one(uint32_t vm, uint32_t polls);
/* SPAWN one idle demo VM; its id, once joined. */
struct stw_bg *stw_bg_spawn_idle(void);
uint32_t stw_bg_spawned(const struct stw_bg *bg);
/* A test module's action (testmod.h), written from the thread. */
struct stw_bg *stw_bg_action(const char *mod, const char *what);
/* Wait for the request: its errno, or ETIMEDOUT if it is still running. */
int stw_bg_join(struct stw_bg *bg, int timeout_ms);
/* The STOP's cycle, once joined. */
const struct stw_cycle *stw_bg_cycle(const struct stw_bg *bg);
/* Close its socket (dropping its hold); joins first if needed. */
void stw_bg_free(struct stw_bg *bg);

#endif /* STW_PROBE_H */
