/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_nl: a small client of the "stw" generic netlink family for the
 * selftests, so that each test reads as the scenario it checks.
 *
 * Conventions:
 *  - Every request returns 0 or a positive errno: the kernel's (from the
 *    netlink ACK) or, for a local failure, EIO / ENOMEM / EBADMSG (a reply
 *    that does not follow uapi/stw.h). The socket keeps the extended ack of
 *    the last request: s->extack (NLMSGERR_ATTR_MSG, "" if none),
 *    s->miss_type (NLMSGERR_ATTR_MISS_TYPE, -1 if none).
 *  - Requests that take a value always send it, so that a test can send an
 *    out-of-range value through the same helper (stw_stop(s, 0, ...)).
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

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "uapi/stw.h"

#define STW_EXTACK_LEN		256

struct stw_sock {
	struct nl_sock *nl;
	int family;		/* the family id of "stw" */
	int events_grp;		/* joined "events" group id, 0 if none */

	/* The last request's outcome. */
	int err;		/* 0 or a positive errno */
	char extack[STW_EXTACK_LEN];	/* NLMSGERR_ATTR_MSG, "" if none */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	int bad_offset;		/* NLMSGERR_ATTR_OFFS, -1 if none */

	/* Received but not yet consumed (event sockets). */
	unsigned char *pend;
	size_t pend_len;
	size_t pend_off;
};

/* STW_A_WORLD of a STATUS reply. */
struct stw_world {
	int mode;			/* enum stw_world_mode */
	uint64_t generation;
	uint32_t nr_vms;
	uint32_t active;
	uint32_t stopped;
	uint32_t holds;
	bool has_step_vm;
	uint32_t step_vm;
	uint64_t cycles;
	uint64_t timeouts;
	uint64_t last_tts_ns;
	uint64_t max_tts_ns;
	uint64_t tts_hist[STW_TTS_HIST_BUCKETS];
	uint64_t violations[STW_INV_COUNT];
};

/* STW_A_VM: a STATUS dump entry, a laggard, a RUN_ONE target, an event. */
struct stw_vm {
	uint32_t id;
	char name[STW_VM_NAME_LEN];
	uint32_t pid;
	int kind;			/* enum stw_vm_kind */
	int state;			/* enum stw_vm_state */
	int doing;			/* enum stw_vm_doing */
	uint64_t stops;
	uint64_t last_tts_ns;
	uint64_t polls;
	uint64_t jobs;
};

/* STW_A_CYCLE of a STOP/RESUME/RUN_ONE reply or an event. */
struct stw_cycle {
	uint64_t generation;
	bool has_tts;
	uint64_t tts_ns;
	bool joined;
	uint32_t hold_id;		/* 0 if absent */
	bool has_holds;
	uint32_t holds;
};

struct stw_vm_list {
	struct stw_vm *vms;
	size_t n;
};

/* A message of the "events" group. */
struct stw_event {
	int cmd;			/* STW_CMD_*_NTF */
	bool has_cycle;
	struct stw_cycle cycle;
	bool has_step_vm;		/* STW_WORLD_A_STEP_VM in STW_A_WORLD */
	uint32_t step_vm;
	bool has_vm;
	struct stw_vm vm;
	struct stw_vm_list laggards;	/* TIMEOUT_NTF */
};

/* A reply kept whole, for tests that look at it themselves. */
struct stw_reply {
	int cmd;			/* genl cmd of the reply, -1 if none */
	void *buf;			/* owns the message; tb points into it */
	struct nlattr *tb[STW_A_MAX + 1];
};

/* ---- sockets ---- */

/* A socket with "stw" resolved, extack and capped acks on. NULL + errno. */
struct stw_sock *stw_open(void);
/* The same, joined to the "events" multicast group. NULL + errno. */
struct stw_sock *stw_open_events(void);
void stw_close(struct stw_sock *s);
/* The family "stw" resolves. */
bool stw_module_loaded(void);

/* ---- raw requests ---- */

/* A request message for @cmd (@flags: NLM_F_DUMP or 0); add attributes. */
struct nl_msg *stw_msg_new(struct stw_sock *s, uint8_t cmd, int flags);
/* Send @msg (freed here), wait for the ACK; keep the first reply in @rep. */
int stw_transact(struct stw_sock *s, struct nl_msg *msg,
		 struct stw_reply *rep);
/* Send @cmd with exactly the attribute bytes @attrs; @rep may be NULL. */
int stw_raw(struct stw_sock *s, uint8_t cmd, int flags, const void *attrs,
	    size_t len, struct stw_reply *rep);
void stw_reply_free(struct stw_reply *rep);
/* Append an attribute to @buf (size @size) at @off; returns the new end. */
size_t stw_attr_put(void *buf, size_t size, size_t off, uint16_t type,
		    const void *data, uint16_t len);
size_t stw_attr_put_u32(void *buf, size_t size, size_t off, uint16_t type,
			uint32_t v);

/* ---- commands ---- */

int stw_status(struct stw_sock *s, struct stw_world *w);
/* The STATUS dump, in a malloc'ed array (free()); any number of VMs. */
int stw_vms(struct stw_sock *s, struct stw_vm **vms, size_t *n);
const struct stw_vm *stw_vm_find(const struct stw_vm *vms, size_t n,
				 uint32_t id);

#define STW_STOP_KEEP_WAITING	0x1

/* STOP, hold bound to this socket. @cycle, @laggards may be NULL. */
int stw_stop(struct stw_sock *s, uint32_t timeout_ms, unsigned int flags,
	     struct stw_cycle *cycle, struct stw_vm_list *laggards);
/* STOP with a detached hold leased for @lease_ms. */
int stw_stop_leased(struct stw_sock *s, uint32_t timeout_ms,
		    uint32_t lease_ms, unsigned int flags,
		    struct stw_cycle *cycle, struct stw_vm_list *laggards);
/* RESUME; @hold_id 0: not sent. @resumed, @cycle may be NULL. */
int stw_resume_ex(struct stw_sock *s, bool force, uint32_t hold_id,
		  bool *resumed, struct stw_cycle *cycle);
int stw_resume(struct stw_sock *s, bool force, uint32_t hold_id,
	       bool *resumed);
/* RUN_ONE; @target (may be NULL) gets the STW_A_VM of the reply. */
int stw_run_one(struct stw_sock *s, uint32_t vm, uint32_t polls,
		uint32_t timeout_ms, struct stw_vm *target);
/* SPAWN; @ids (may be NULL) has room for the sum of the counts. */
int stw_spawn(struct stw_sock *s, uint32_t active, uint32_t idle,
	      uint32_t bursty, uint32_t nopoll, uint32_t *ids, size_t *n);
int stw_kill(struct stw_sock *s, const uint32_t *ids, size_t n);
int stw_kill_all(struct stw_sock *s, size_t *n);
int stw_queue_job(struct stw_sock *s, uint32_t vm, uint32_t jobs,
		  uint32_t polls);

void stw_vm_list_free(struct stw_vm_list *l);

/* ---- events ---- */

/* The next event of @cmd (-1: any) within @timeout_ms; others skipped. */
int stw_event_wait(struct stw_sock *ev, int cmd, int timeout_ms,
		   struct stw_event *out);
void stw_event_free(struct stw_event *e);

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
/* $name as an unsigned number, or @dflt (for scaling loops). */
unsigned int stw_env_uint(const char *name, unsigned int dflt);
const char *stw_mode_name(int mode);
const char *stw_state_name(int state);
const char *stw_doing_name(int doing);
const char *stw_kind_name(int kind);
/* One line about the world and its VMs, for TH_LOG (static buffer). */
const char *stw_describe(struct stw_sock *s);
uint64_t stw_violations_total(const struct stw_world *w);

#endif /* STW_NL_H */
