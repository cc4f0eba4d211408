/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_nl: the selftests' conveniences on top of the tree's client of the
 * "stw" family (lib/stw_client.h, whose conventions hold here: 0 or a
 * positive errno, the outcome of the last request in the socket), so that
 * each test reads as the scenario it checks.
 *
 *  - The requests below always send the values they take, so that a test
 *    can send one out of range through the same helper (stw_stop(s, 0,
 *    ...)); STOP and RUN_ONE return once their completion came.
 *  - stw_wait_*() poll STATUS until a condition holds or the timeout
 *    expires (ETIMEDOUT): they wait for a state, they never order steps by
 *    sleeping.
 */
#ifndef STW_NL_H
#define STW_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stw_client.h"

/* ---- raw attributes, for malformed requests (stw_raw()) ---- */

/* Append an attribute to @buf (size @size) at @off; returns the new end. */
size_t stw_attr_put(void *buf, size_t size, size_t off, uint16_t type,
		    const void *data, uint16_t len);
size_t stw_attr_put_u32(void *buf, size_t size, size_t off, uint16_t type,
			uint32_t v);

/* ---- requests with the selftests' arguments (lib/stw_client.h) ---- */

/* The STATUS dump's VMs, in a malloc'ed array (free()). */
int stw_vms(struct stw_sock *s, struct stw_vm **vms, size_t *n);

#define STW_STOP_KEEP_WAITING	0x1

/*
 * STOP with a hold bound to this socket, and its completion. @cycle,
 * @laggards may be NULL; on ETIMEDOUT they say what the kernel said.
 */
int stw_stop(struct stw_sock *s, uint32_t timeout_ms, unsigned int flags,
	     struct stw_cycle *cycle, struct stw_vm_list *laggards);
/* STOP with a detached hold leased for @lease_ms. */
int stw_stop_leased(struct stw_sock *s, uint32_t timeout_ms,
		    uint32_t lease_ms, unsigned int flags,
		    struct stw_cycle *cycle, struct stw_vm_list *laggards);
int stw_resume(struct stw_sock *s, bool force, uint32_t hold_id,
	       bool *resumed);
/* RUN_ONE and its completion; @target (may be NULL) gets the VM after. */
int stw_run_one(struct stw_sock *s, uint32_t vm, uint32_t polls,
		uint32_t timeout_ms, struct stw_vm *target);
/* One SPAWN request; @ids (may be NULL) has room for the sum of counts. */
int stw_spawn(struct stw_sock *s, uint32_t active, uint32_t idle,
	      uint32_t bursty, uint32_t nopoll, uint32_t *ids, size_t *n);
/*
 * The next completion on @s, of whichever request (stw_wait_done() waits
 * for the last one's): 0, or ETIMEDOUT after @timeout_ms.
 */
int stw_read_any_done(struct stw_sock *s, int timeout_ms, struct stw_done *d);
/* One KILL request. */
int stw_kill(struct stw_sock *s, const uint32_t *ids, size_t n);
/* Every demo VM, in as many requests as it takes; @n may be NULL. */
int stw_kill_all(struct stw_sock *s, size_t *n);

/* ---- waiting for a state ---- */

typedef bool (*stw_world_pred)(const struct stw_world *w, void *arg);
typedef bool (*stw_vms_pred)(const struct stw_vm *vms, size_t n, void *arg);

/* Poll STATUS until @pred holds: 0, ETIMEDOUT or the request's errno. */
int stw_wait_world(struct stw_sock *s, stw_world_pred pred, void *arg,
		   int timeout_ms, struct stw_world *last);
int stw_wait_vms(struct stw_sock *s, stw_vms_pred pred, void *arg,
		 int timeout_ms);
int stw_wait_mode(struct stw_sock *s, int mode, int timeout_ms);
int stw_wait_nr_vms(struct stw_sock *s, uint32_t nr, int timeout_ms);
int stw_wait_all_vms_state(struct stw_sock *s, int state, int timeout_ms);
int stw_wait_vm_state(struct stw_sock *s, uint32_t id, int state,
		      int timeout_ms);
int stw_wait_vm_doing(struct stw_sock *s, uint32_t id, int doing,
		      int timeout_ms);
int stw_wait_vm_jobs(struct stw_sock *s, uint32_t id, uint64_t min_jobs,
		     int timeout_ms);
int stw_wait_vm_polls(struct stw_sock *s, uint32_t id, uint64_t min_polls,
		      int timeout_ms);

/*
 * Back to a clean world: force-resume (EALREADY is fine), kill every demo
 * VM, then wait for RUN_ALL with no VM and no hold.
 */
int stw_reset(struct stw_sock *s, int timeout_ms);

/* ---- processes ---- */

/* fork(); the child gets SIGKILL when the test process dies. */
pid_t stw_fork(void);

/*
 * Fork; in the child drop to @uid/@gid (no supplementary groups, no
 * capabilities left) and _exit(fn(arg)). Returns fn's result (0..255), or
 * -1 if fork failed, the drop failed or the child died by a signal.
 */
int stw_as_user(uid_t uid, gid_t gid, int (*fn)(void *arg), void *arg);
#define STW_NOBODY	65534

/* Memory shared with children forked later (results of child scenarios). */
void *stw_shared_alloc(size_t size);
void stw_shared_free(void *p, size_t size);

/* waitpid() with a timeout: 0 (status filled) or ETIMEDOUT. */
int stw_waitpid_timeout(pid_t pid, int *status, int timeout_ms);
/* read() exactly @len bytes within @timeout_ms: 0, ETIMEDOUT, EPIPE, errno */
int stw_read_timeout(int fd, void *buf, size_t len, int timeout_ms);

/* ---- the module itself ---- */

/* $STW_KO, default /stw/stw.ko */
const char *stw_ko_path(void);
/* finit_module(@path): 0 or errno (EEXIST when loaded). */
int stw_module_load(const char *path);
/* delete_module("stw", O_NONBLOCK): 0 or errno. */
int stw_module_unload(void);
/* /sys/module/stw exists. */
bool stw_module_in_sysfs(void);
/* Threads whose /proc/PID/task/TID/comm starts with @prefix. */
int stw_count_threads(const char *prefix);
/* Wait until no such thread is left: 0 or ETIMEDOUT. */
int stw_wait_no_threads(const char *prefix, int timeout_ms);

/* ---- misc ---- */

int64_t stw_now_ms(void);

/*
 * A small file's first line (a sysctl, a knob, a module parameter) into
 * @buf without its newline; writing @val to one. 0 or an errno.
 */
int stw_read_file(const char *path, char *buf, size_t len);
int stw_write_file(const char *path, const char *val);

/* /dev/kmsg, to be read from its end: an fd, or -1 and errno. */
int stw_kmsg_open(void);
/* Whether the kernel log, from @fd on, has a line with @a and one with @b. */
bool stw_kmsg_has(int fd, const char *a, const char *b);
/* $name as an unsigned number, or @dflt (for scaling loops). */
unsigned int stw_env_uint(const char *name, unsigned int dflt);
/* One line about the world and its VMs, for TH_LOG (static buffer). */
const char *stw_describe(struct stw_sock *s);

#endif /* STW_NL_H */
