/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_client: the one user-space client of the "stw" generic netlink
 * family (and, for the selftests, of "stw_probe"), on libnl-genl-3:
 * sockets, requests and their ACKs with the extended ACK, completions
 * (STW_CMD_DONE_NTF), dumps retried when NLM_F_DUMP_INTR says the world
 * changed, events, and every request of uapi/stw.h. Nothing else in the
 * tree builds a message of the family: the request functions below are
 * the only callers of nla_put*().
 *
 * Conventions:
 *  - Every request returns 0 or a positive errno: the kernel's (from the
 *    ACK, or from the STW_A_ERRNO of a completion) or, for a failure in
 *    user space, EIO / ENOMEM / EBADMSG (a reply that does not follow
 *    uapi/stw.h) / ETIMEDOUT (no completion from the kernel in time).
 *  - The socket keeps the outcome of its last request: s->err, s->extack
 *    (the extended ACK's message, a completion's STW_A_MESSAGE, or what
 *    failed locally; "" if none), s->local (failed in user space), the
 *    attribute the kernel pointed at or missed, named from the request
 *    sent (s->bad_attr, s->miss_attr) and the valid range of its policy.
 *  - A value given as STW_UNSET is not sent (the kernel's default);
 *    any other value is sent as is, so that a test can send one out of
 *    range through the same function.
 *  - A socket acts on one world (family version 3): the one stw_set_world()
 *    named, sent as STW_A_WORLD_NAME in every request stw_msg_new() builds;
 *    none named, the attribute is not sent and the kernel takes
 *    STW_WORLD_DEFAULT, so that a client that never names a world works
 *    as it did with one world.
 */
#ifndef STW_CLIENT_H
#define STW_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

#include "stw_decode.h"

#define STW_EXTACK_LEN		256
#define STW_UNSET		UINT32_MAX
/*
 * A client waits this much longer than the timeout it asked the kernel: a
 * timeout's completion names its laggards and logs their stacks first,
 * which took more than 5 s on a KCSAN kernel under emulation with 100 VMs.
 */
#define STW_DONE_SLACK_MS	20000
/* Dumps interrupted by a change of the world are asked again this often. */
#define STW_DUMP_RETRIES	16

struct stw_sock {
	struct nl_sock *nl;
	int family;		/* the family id */
	int version;		/* the version its requests carry */
	bool stw;		/* the "stw" family (not "stw_probe") */
	/* STW_A_WORLD_NAME of its requests; "": not sent (the default). */
	char world[STW_WORLD_NAME_LEN];

	/* The last request's outcome. */
	int err;		/* 0 or a positive errno */
	bool local;		/* failed in user space */
	char extack[STW_EXTACK_LEN];
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	int bad_offset;		/* NLMSGERR_ATTR_OFFS, -1 if none */
	char bad_attr[64];	/* the attribute at bad_offset, "" if none */
	char miss_attr[64];	/* the missing attribute, "" if none */
	bool has_range;		/* NLMSGERR_ATTR_POLICY's range */
	uint64_t min, max;

	uint32_t seq;		/* of the last request sent */
	bool lost;		/* the receive buffer overran (events lost) */
	unsigned int overruns;	/* times it did */

	/* Received but not yet consumed. */
	unsigned char *pend;
	size_t pend_len, pend_off;
	/*
	 * Read during a request but not its answer: notifications, and a
	 * completion that overtook its request's ACK. Read again first by
	 * stw_read_until().
	 */
	unsigned char *later;
	size_t later_len;
};

/* A message of the family as a request's callback sees it. */
struct stw_msg {
	struct nlmsghdr *nlh;
	int cmd;
	struct nlattr *tb[STW_A_MAX + 1];	/* top level, stw family only */
	struct nlattr *attrs;			/* all of them, in order */
	int len;
};

/* Returns 0, or a positive errno that fails the request. */
typedef int (*stw_msg_fn)(struct stw_sock *s, const struct stw_msg *m,
			  void *arg);

/* ---- sockets ---- */

/*
 * A socket with the family resolved, extended and capped ACKs on, room
 * for big replies. NULL with errno (ENOENT: the family is not there).
 */
struct stw_sock *stw_open_family(const char *name, int version);
struct stw_sock *stw_open(void);
/* The same, joined to the "events" group with a big receive buffer. */
struct stw_sock *stw_open_events(void);
/* Join multicast group @group of family @name: 0 or errno. */
int stw_join(struct stw_sock *s, const char *name, const char *group);
void stw_close(struct stw_sock *s);
bool stw_module_loaded(void);
int stw_fd(const struct stw_sock *s);
/*
 * The world the socket's requests act on from now on: @name, 1 to
 * STW_WORLD_NAME_LEN - 1 bytes, or NULL for the kernel's default (the
 * attribute is not sent). Returns 0, or EINVAL (s->local, s->extack) and
 * the socket's world unchanged. Whether the world exists is the kernel's
 * to say (ENOENT), at the next request.
 */
int stw_set_world(struct stw_sock *s, const char *name);
/* The name of that world: the one set, else STW_WORLD_DEFAULT. */
const char *stw_sock_world(const struct stw_sock *s);

/* ---- raw requests ---- */

/* A reply kept whole, for callers that look at it themselves. */
struct stw_reply {
	int cmd;		/* genl cmd of the reply, -1 if none */
	void *buf;		/* owns the message; tb points into it */
	struct nlattr *tb[STW_A_MAX + 1];
};

/*
 * A request for @cmd (@flags: NLM_F_DUMP or 0), with the socket's world
 * (STW_A_WORLD_NAME) if one was set. NULL: out of memory.
 */
struct nl_msg *stw_msg_new(struct stw_sock *s, uint8_t cmd, int flags);
/*
 * The same without STW_A_WORLD_NAME, the genetlink header alone: for a
 * request that names no world (WORLDS) and for stw_raw().
 */
struct nl_msg *stw_msg_bare(struct stw_sock *s, uint8_t cmd, int flags);
/*
 * Sends @msg (freed here; NULL counts as ENOMEM) and reads until its ACK
 * or the end of the dump; @fn (may be NULL) sees each message of the
 * family that answers it. Returns s->err.
 */
int stw_call(struct stw_sock *s, struct nl_msg *msg, stw_msg_fn fn,
	     void *arg);
/* stw_call() keeping the first reply in @rep (may be NULL). */
int stw_transact(struct stw_sock *s, struct nl_msg *msg,
		 struct stw_reply *rep);
/*
 * Sends @cmd with exactly the attribute bytes @attrs (no STW_A_WORLD_NAME
 * of the socket's: a test says what it means); @rep may be NULL.
 */
int stw_raw(struct stw_sock *s, uint8_t cmd, int flags, const void *attrs,
	    size_t len, struct stw_reply *rep);
void stw_reply_free(struct stw_reply *rep);

/*
 * Reads messages of the family until @fn returns non-zero for one (1:
 * done; or a positive errno), @timeout_ms passes (ETIMEDOUT; -1: never) or
 * a signal interrupts the wait (EINTR). Other messages are skipped, but
 * those @fn returns STW_MSG_KEEP for, which the next read gets again.
 */
#define STW_MSG_KEEP	(-1)
int stw_read_until(struct stw_sock *s, int timeout_ms, stw_msg_fn fn,
		   void *arg);
/* Forgets every message received and not read yet (notifications). */
void stw_drain(struct stw_sock *s);
/* Sets the socket's outcome for a failure in user space; returns @err. */
int stw_fail_local(struct stw_sock *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- requests ---- */

/* STATUS as a do. */
int stw_status(struct stw_sock *s, struct stw_world *w);
/* STATUS as a dump: the world and its VMs from one consistent dump. */
int stw_dump(struct stw_sock *s, struct stw_world *w,
	     struct stw_vm_list *vms);
/*
 * WORLDS: every world, in the order they were made, appended to @worlds.
 * The request names no world (whatever the socket's), so that listing
 * them cannot fail for want of one.
 */
int stw_worlds(struct stw_sock *s, struct stw_world_list *worlds);

struct stw_stop_req {
	uint32_t timeout_ms;	/* STW_UNSET: the kernel's default */
	uint32_t lease_ms;	/* STW_UNSET: a hold bound to the socket */
	bool keep_waiting;
};

struct stw_stop_result {
	struct stw_cycle cycle;	/* the reply's, updated by the completion */
	struct stw_laggards laggards;	/* on ETIMEDOUT */
};

/*
 * STOP, then its completion if the reply says PENDING: returns 0 once
 * the world is stopped, else the errno of the request or the completion.
 * If no completion comes in time (ETIMEDOUT, s->local), the hold the
 * reply named is released before returning: a failed stop holds nothing.
 * @r may be NULL.
 */
int stw_stop_ex(struct stw_sock *s, const struct stw_stop_req *req,
		struct stw_stop_result *r);
/* @cycle is the reply's: stw_wait_done() follows if cycle->pending. */
int stw_stop_send(struct stw_sock *s, const struct stw_stop_req *req,
		  struct stw_cycle *cycle);
/*
 * Waits for the STW_CMD_DONE_NTF of the last request, up to @timeout_ms
 * (the timeout asked of the kernel; STW_DONE_SLACK_MS is added). Returns
 * the completion's errno (its message in s->extack), ETIMEDOUT if none
 * came, or EINTR.
 */
int stw_wait_done(struct stw_sock *s, uint32_t timeout_ms,
		  struct stw_done *d);
void stw_stop_result_free(struct stw_stop_result *r);
/* What a completion says about the cycle a STOP's reply began. */
void stw_cycle_update(struct stw_cycle *c, const struct stw_cycle *done);

/* RESUME; @hold_id 0: not sent. @resumed, @cycle may be NULL. */
int stw_resume_ex(struct stw_sock *s, bool force, uint32_t hold_id,
		  bool *resumed, struct stw_cycle *cycle);

/* RUN_ONE and its completion; @d (may be NULL) gets the target. */
int stw_run_one_ex(struct stw_sock *s, uint32_t vm, uint32_t polls,
		   uint32_t timeout_ms, struct stw_done *d);

/* One SPAWN request; the new ids are added to @ids (may be NULL). */
int stw_spawn_ex(struct stw_sock *s, const uint32_t count[STW_SPAWN_A_MAX + 1],
		 struct stw_ids *ids);
/* As many SPAWN requests of at most STW_SPAWN_MAX VMs as @count needs. */
int stw_spawn_split(struct stw_sock *s,
		    const uint32_t count[STW_SPAWN_A_MAX + 1],
		    struct stw_ids *ids);
/* One KILL request of @n ids; the destroyed ids are added to @killed. */
int stw_kill_ex(struct stw_sock *s, const uint32_t *ids, size_t n,
		struct stw_ids *killed);
/* KILL_ALL until no demo VM is left (STW_A_MORE); @killed may be NULL. */
int stw_kill_all_ex(struct stw_sock *s, struct stw_ids *killed);
int stw_queue_job(struct stw_sock *s, uint32_t vm, uint32_t jobs,
		  uint32_t polls);

/* ---- events ---- */

/*
 * The next event of @cmd (-1: any) within @timeout_ms (0: only what is
 * queued; EAGAIN if nothing). Others are skipped; an overrun of the
 * receive buffer sets s->lost and the wait goes on.
 */
int stw_event_wait(struct stw_sock *ev, int cmd, int timeout_ms,
		   struct stw_event *out);

#endif /* STW_CLIENT_H */
