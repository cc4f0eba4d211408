// SPDX-License-Identifier: GPL-2.0
/*
 * stw_requests: every request of the "stw" family (uapi/stw.h), built in
 * one place, and the reading of its reply and completion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>

#include "stw_client.h"

/* Puts @v as @type unless it is STW_UNSET; false if the message is full. */
static bool put_opt_u32(struct nl_msg *msg, int type, uint32_t v)
{
	return v == STW_UNSET || !nla_put_u32(msg, type, v);
}

/* A message whose attributes did not fit counts as out of memory. */
static struct nl_msg *built(struct nl_msg *msg, bool ok)
{
	if (msg && !ok) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int bad_reply(struct stw_sock *s, const char *what)
{
	return stw_fail_local(s, EBADMSG, "bad %s reply from the kernel",
			      what);
}

/* ---- STATUS ---- */

int stw_status(struct stw_sock *s, struct stw_world *w)
{
	struct stw_reply rep;
	int err;

	err = stw_transact(s, stw_msg_new(s, STW_CMD_STATUS, 0), &rep);
	if (!err && (rep.cmd != STW_CMD_STATUS ||
		     stw_parse_world(rep.tb[STW_A_WORLD], w)))
		err = bad_reply(s, "STATUS (a whole STW_A_WORLD)");
	stw_reply_free(&rep);
	return err;
}

struct dump_ctx {
	struct stw_world *w;
	struct stw_vm_list *vms;
	bool has_world;
	bool intr;		/* NLM_F_DUMP_INTR: the world changed */
};

static int dump_one(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	struct dump_ctx *c = arg;
	struct stw_vm vm;
	int err;

	(void)s;
	if (m->nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->intr = true;
	if (m->tb[STW_A_WORLD]) {
		c->has_world = true;
		return stw_parse_world(m->tb[STW_A_WORLD], c->w);
	}
	err = stw_parse_vm(m->tb[STW_A_VM], &vm, true);
	return err ?: stw_vm_list_add(c->vms, &vm);
}

int stw_dump(struct stw_sock *s, struct stw_world *w,
	     struct stw_vm_list *vms)
{
	struct dump_ctx c = { .w = w, .vms = vms };
	int tries, err;

	for (tries = 0; tries < STW_DUMP_RETRIES; tries++) {
		vms->n = 0;
		c.has_world = c.intr = false;
		err = stw_call(s, stw_msg_new(s, STW_CMD_STATUS, NLM_F_DUMP),
			       dump_one, &c);
		if (err)
			return err;
		if (!c.has_world)
			return bad_reply(s, "STATUS dump (no STW_A_WORLD first)");
		if (!c.intr)
			return 0;
	}
	return stw_fail_local(s, EAGAIN,
			      "the world changed during %d dumps in a row",
			      STW_DUMP_RETRIES);
}

/* ---- WORLDS ---- */

struct worlds_ctx {
	struct stw_world_list *list;
	bool intr;		/* NLM_F_DUMP_INTR: a world came or went */
};

static int worlds_one(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	struct worlds_ctx *c = arg;
	struct stw_world w;

	(void)s;
	if (m->nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->intr = true;
	/* A world without its name cannot be told from another. */
	if (m->cmd != STW_CMD_WORLDS ||
	    stw_parse_world(m->tb[STW_A_WORLD], &w) || !w.name[0])
		return EBADMSG;
	return stw_world_list_add(c->list, &w);
}

int stw_worlds(struct stw_sock *s, struct stw_world_list *worlds)
{
	struct worlds_ctx c = { .list = worlds };
	size_t first = worlds->n;
	int tries, err;

	for (tries = 0; tries < STW_DUMP_RETRIES; tries++) {
		worlds->n = first;
		c.intr = false;
		/* No STW_A_WORLD_NAME: the dump is of every world. */
		err = stw_call(s, stw_msg_bare(s, STW_CMD_WORLDS, NLM_F_DUMP),
			       worlds_one, &c);
		if (err)
			return err;
		if (!c.intr)
			return 0;
	}
	return stw_fail_local(s, EAGAIN,
			      "the worlds changed during %d dumps in a row",
			      STW_DUMP_RETRIES);
}

/* ---- STOP ---- */

static int stop_reply(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	(void)s;
	if (m->cmd != STW_CMD_STOP)
		return EBADMSG;
	return stw_parse_cycle(m->tb[STW_A_CYCLE], arg);
}

int stw_stop_send(struct stw_sock *s, const struct stw_stop_req *req,
		  struct stw_cycle *cycle)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_STOP, 0);
	int err;

	memset(cycle, 0, sizeof(*cycle));
	msg = built(msg, msg &&
		    put_opt_u32(msg, STW_A_TIMEOUT_MS, req->timeout_ms) &&
		    put_opt_u32(msg, STW_A_LEASE_MS, req->lease_ms) &&
		    (!req->keep_waiting ||
		     !nla_put_flag(msg, STW_A_KEEP_WAITING)));
	err = stw_call(s, msg, stop_reply, cycle);
	if (!err && !cycle->present)
		err = bad_reply(s, "STOP (no STW_A_CYCLE)");
	return err;
}

void stw_cycle_update(struct stw_cycle *c, const struct stw_cycle *done)
{
	c->pending = false;
	c->has_tts = done->has_tts;
	c->tts_ns = done->tts_ns;
	c->has_hold_id = done->has_hold_id;
	c->hold_id = done->hold_id;
	if (done->has_holds) {
		c->has_holds = true;
		c->holds = done->holds;
	}
}

/*
 * The kernel's completion never came (lost for want of memory, or a
 * receive buffer that overran): release the hold we were told of, keeping
 * the error that is being reported.
 */
static void release_lost(struct stw_sock *s, uint32_t hold_id)
{
	char extack[sizeof(s->extack)];
	int err = s->err;

	memcpy(extack, s->extack, sizeof(extack));
	stw_resume_ex(s, false, hold_id, NULL, NULL);
	s->err = err;
	s->local = true;
	memcpy(s->extack, extack, sizeof(extack));
}

int stw_stop_ex(struct stw_sock *s, const struct stw_stop_req *req,
		struct stw_stop_result *r)
{
	struct stw_stop_result tmp;
	struct stw_done d;
	int err;

	if (!r)
		r = &tmp;
	memset(r, 0, sizeof(*r));
	err = stw_stop_send(s, req, &r->cycle);
	if (err || !r->cycle.pending)
		goto out;
	err = stw_wait_done(s, req->timeout_ms, &d);
	if (s->local) {
		if (err == ETIMEDOUT && r->cycle.has_hold_id)
			release_lost(s, r->cycle.hold_id);
		goto out;
	}
	stw_cycle_update(&r->cycle, &d.cycle);
	r->laggards = d.laggards;
out:
	if (r == &tmp)
		stw_stop_result_free(&tmp);
	return err;
}

void stw_stop_result_free(struct stw_stop_result *r)
{
	if (r)
		stw_laggards_free(&r->laggards);
}

/* ---- RESUME ---- */

struct resume_ctx {
	bool *resumed;
	struct stw_cycle *cycle;
};

static int resume_reply(struct stw_sock *s, const struct stw_msg *m,
			void *arg)
{
	struct resume_ctx *c = arg;

	(void)s;
	if (m->cmd != STW_CMD_RESUME ||
	    (m->tb[STW_A_RESUMED] && nla_len(m->tb[STW_A_RESUMED])))
		return EBADMSG;
	*c->resumed = m->tb[STW_A_RESUMED];
	return stw_parse_cycle(m->tb[STW_A_CYCLE], c->cycle);
}

int stw_resume_ex(struct stw_sock *s, bool force, uint32_t hold_id,
		  bool *resumed, struct stw_cycle *cycle)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_RESUME, 0);
	struct stw_cycle c = { 0 };
	bool r = false;
	struct resume_ctx ctx = { .resumed = &r, .cycle = &c };
	int err;

	msg = built(msg, msg && (!force || !nla_put_flag(msg, STW_A_FORCE)) &&
		    (!hold_id || !nla_put_u32(msg, STW_A_HOLD_ID, hold_id)));
	err = stw_call(s, msg, resume_reply, &ctx);
	if (!err && !c.present)
		err = bad_reply(s, "RESUME (no STW_A_CYCLE)");
	if (resumed)
		*resumed = r;
	if (cycle)
		*cycle = c;
	return err;
}

/* ---- RUN_ONE ---- */

static int run_one_reply(struct stw_sock *s, const struct stw_msg *m,
			 void *arg)
{
	(void)s;
	if (m->cmd != STW_CMD_RUN_ONE)
		return EBADMSG;
	return stw_parse_cycle(m->tb[STW_A_CYCLE], arg);
}

int stw_run_one_ex(struct stw_sock *s, uint32_t vm, uint32_t polls,
		   uint32_t timeout_ms, struct stw_done *d)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_RUN_ONE, 0);
	struct stw_cycle c = { 0 };
	struct stw_done tmp;
	int err;

	if (!d)
		d = &tmp;
	memset(d, 0, sizeof(*d));
	msg = built(msg, msg && !nla_put_u32(msg, STW_A_VM_ID, vm) &&
		    put_opt_u32(msg, STW_A_POLLS, polls) &&
		    put_opt_u32(msg, STW_A_TIMEOUT_MS, timeout_ms));
	err = stw_call(s, msg, run_one_reply, &c);
	if (!err && !c.present)
		err = bad_reply(s, "RUN_ONE (no STW_A_CYCLE)");
	if (!err && c.pending) {
		err = stw_wait_done(s, timeout_ms, d);
	} else if (!err) {
		/* Done at once: nothing more to wait for. */
		d->cycle = c;
	}
	if (d == &tmp)
		stw_done_free(&tmp);
	return err;
}

/* ---- SPAWN, KILL ---- */

struct ids_ctx {
	int cmd;
	struct stw_ids *ids;
	bool more;		/* STW_A_MORE */
};

static int ids_reply(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	struct ids_ctx *c = arg;
	struct stw_ids tmp = { 0 };
	int err;

	(void)s;
	if (m->cmd != c->cmd || !m->tb[STW_A_COUNT])
		return EBADMSG;
	c->more = m->tb[STW_A_MORE];
	err = stw_parse_ids(m->attrs, m->len, c->ids ?: &tmp);
	stw_ids_free(&tmp);
	return err;
}

int stw_spawn_ex(struct stw_sock *s, const uint32_t count[STW_SPAWN_A_MAX + 1],
		 struct stw_ids *ids)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_SPAWN, 0);
	struct ids_ctx c = { .cmd = STW_CMD_SPAWN, .ids = ids };
	struct nlattr *nest = msg ? nla_nest_start(msg, STW_A_SPAWN |
						   NLA_F_NESTED) : NULL;
	bool ok = nest;
	int i;

	for (i = STW_SPAWN_A_ACTIVE; ok && i <= STW_SPAWN_A_MAX; i++)
		ok = put_opt_u32(msg, i, count[i]);
	msg = built(msg, ok && !nla_nest_end(msg, nest));
	return stw_call(s, msg, ids_reply, &c);
}

int stw_spawn_split(struct stw_sock *s,
		    const uint32_t count[STW_SPAWN_A_MAX + 1],
		    struct stw_ids *ids)
{
	uint32_t left[STW_SPAWN_A_MAX + 1], part[STW_SPAWN_A_MAX + 1];
	uint32_t room, n;
	bool any = true;
	int i, err;

	/* STW_UNSET, as for stw_spawn_ex(), asks for none of a kind. */
	for (i = STW_SPAWN_A_ACTIVE; i <= STW_SPAWN_A_MAX; i++)
		left[i] = count[i] == STW_UNSET ? 0 : count[i];
	while (any) {
		room = STW_SPAWN_MAX;
		any = false;
		for (i = STW_SPAWN_A_ACTIVE; i <= STW_SPAWN_A_MAX; i++) {
			n = left[i] < room ? left[i] : room;
			part[i] = n ? n : STW_UNSET;
			left[i] -= n;
			room -= n;
			any |= left[i] > 0;
		}
		err = stw_spawn_ex(s, part, ids);
		if (err)
			return err;
	}
	return 0;
}

int stw_kill_ex(struct stw_sock *s, const uint32_t *ids, size_t n,
		struct stw_ids *killed)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_KILL, 0);
	struct ids_ctx c = { .cmd = STW_CMD_KILL, .ids = killed };
	bool ok = msg;
	size_t i;

	for (i = 0; ok && i < n; i++)
		ok = !nla_put_u32(msg, STW_A_VM_ID, ids[i]);
	return stw_call(s, built(msg, ok), ids_reply, &c);
}

int stw_kill_all_ex(struct stw_sock *s, struct stw_ids *killed)
{
	struct ids_ctx c = { .cmd = STW_CMD_KILL, .ids = killed };
	/* Enough rounds for every VM there can be, and no more. */
	int rounds = STW_MAX_VMS / STW_KILL_MAX + 2;
	struct nl_msg *msg;
	int err;

	do {
		msg = stw_msg_new(s, STW_CMD_KILL, 0);
		msg = built(msg, msg && !nla_put_flag(msg, STW_A_KILL_ALL));
		err = stw_call(s, msg, ids_reply, &c);
	} while (!err && c.more && --rounds);
	if (!err && c.more)
		err = stw_fail_local(s, EAGAIN,
				     "KILL_ALL still says more after %d rounds",
				     STW_MAX_VMS / STW_KILL_MAX + 2);
	return err;
}

/* ---- QUEUE_JOB ---- */

int stw_queue_job(struct stw_sock *s, uint32_t vm, uint32_t jobs,
		  uint32_t polls)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_QUEUE_JOB, 0);

	msg = built(msg, msg && !nla_put_u32(msg, STW_A_VM_ID, vm) &&
		    put_opt_u32(msg, STW_A_JOBS, jobs) &&
		    put_opt_u32(msg, STW_A_POLLS, polls));
	return stw_call(s, msg, NULL, NULL);
}
