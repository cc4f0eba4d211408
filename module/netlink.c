// SPDX-License-Identifier: GPL-2.0
/*
 * The "stw" generic netlink family: see uapi/stw.h for the commands and the
 * attribute tree. Every command but STATUS needs CAP_NET_ADMIN.
 *
 * Attributes in, calls to the controller (control.c) or the demo VMs
 * (demo.c), messages out; events and completions come from the event chain
 * (event.c), which this file listens to. No handler here waits for VMs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "control.h"
#include "demo.h"
#include "event.h"
#include "netlink.h"

static struct genl_family stw_family;

enum stw_mcgrp {
	STW_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group stw_mcgrps[] = {
	[STW_MCGRP_EVENTS_ID] = { .name = STW_MCGRP_EVENTS },
};

/* Not const: 6.1's struct nla_policy points to them without const. */
static struct netlink_range_validation stw_timeout_range = {
	.min = 1, .max = STW_TIMEOUT_MAX_MS,
};

static struct netlink_range_validation stw_lease_range = {
	.min = 1, .max = STW_LEASE_MAX_MS,
};

static struct netlink_range_validation stw_count_range = {
	.min = 1, .max = STW_COUNT_MAX,
};

static struct netlink_range_validation stw_spawn_range = {
	.min = 0, .max = STW_SPAWN_MAX,
};

/* Every command may name its world. */
#define STW_NL_WORLD_NAME \
	[STW_A_WORLD_NAME] = { .type = NLA_NUL_STRING, \
			       .len = STW_WORLD_NAME_LEN - 1 }

static const struct nla_policy stw_status_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
};

static const struct nla_policy stw_stop_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
	[STW_A_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_timeout_range),
	[STW_A_KEEP_WAITING] = { .type = NLA_FLAG },
	[STW_A_LEASE_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_lease_range),
};

static const struct nla_policy stw_resume_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
	[STW_A_HOLD_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_A_FORCE] = { .type = NLA_FLAG },
};

static const struct nla_policy stw_run_one_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
	[STW_A_VM_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_A_POLLS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_count_range),
	[STW_A_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_timeout_range),
};

static const struct nla_policy stw_spawn_nest_policy[STW_SPAWN_A_MAX + 1] = {
	[STW_SPAWN_A_ACTIVE] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_spawn_range),
	[STW_SPAWN_A_IDLE] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_spawn_range),
	[STW_SPAWN_A_BURSTY] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_spawn_range),
	[STW_SPAWN_A_NOPOLL] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_spawn_range),
};

static const struct nla_policy stw_spawn_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
	[STW_A_SPAWN] = NLA_POLICY_NESTED(stw_spawn_nest_policy),
};

/* STW_A_VM_ID repeats: strict validation checks every one of them. */
static const struct nla_policy stw_kill_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
	[STW_A_VM_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_A_KILL_ALL] = { .type = NLA_FLAG },
};

static const struct nla_policy stw_queue_job_policy[STW_A_MAX + 1] = {
	STW_NL_WORLD_NAME,
	[STW_A_VM_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_A_JOBS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_count_range),
	[STW_A_POLLS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_count_range),
};

static u32 stw_nl_u32(struct genl_info *info, int attr, u32 dflt)
{
	return info->attrs[attr] ? nla_get_u32(info->attrs[attr]) : dflt;
}

/* The world a request names: STW_A_WORLD_NAME, or the demo VMs' own. */
static const char *stw_nl_world_name(struct nlattr **attrs)
{
	return attrs[STW_A_WORLD_NAME] ? nla_data(attrs[STW_A_WORLD_NAME]) :
	       STW_WORLD_DEFAULT;
}

/*
 * The world a request acts on, for the length of its handler: give it back
 * with stw_control_world_put().
 */
static struct stw_world *stw_nl_world_get(struct genl_info *info)
{
	struct stw_world *w;

	w = stw_control_world_get(stw_nl_world_name(info->attrs));
	if (!w)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_WORLD_NAME],
				    "no such world");
	return w;
}

static int stw_nl_put_world_name(struct sk_buff *skb, const char *name)
{
	return nla_put_string(skb, STW_A_WORLD_NAME, name);
}

static int stw_nl_put_vm(struct sk_buff *skb, int attrtype,
			 const struct stw_vm_snap *s)
{
	struct nlattr *nest = nla_nest_start(skb, attrtype);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, STW_VM_A_ID, s->id) ||
	    nla_put_string(skb, STW_VM_A_NAME, s->name) ||
	    nla_put_u32(skb, STW_VM_A_PID, s->pid) ||
	    nla_put_u32(skb, STW_VM_A_KIND, s->kind) ||
	    nla_put_u32(skb, STW_VM_A_STATE, s->state) ||
	    nla_put_u32(skb, STW_VM_A_DOING, s->doing) ||
	    nla_put_u64_64bit(skb, STW_VM_A_STOPS, s->stops, STW_VM_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_VM_A_LAST_TTS_NS, s->last_tts_ns,
			      STW_VM_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_VM_A_POLLS, s->polls, STW_VM_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_VM_A_JOBS, s->jobs, STW_VM_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Room for one STW_A_VM nest, so that messages are sized, never cut. */
static size_t stw_nl_vm_size(void)
{
	return nla_total_size(0) + 5 * nla_total_size(sizeof(u32)) +
	       nla_total_size(STW_VM_NAME_LEN) +
	       4 * nla_total_size_64bit(sizeof(u64));
}

static int stw_nl_put_u64_array(struct sk_buff *skb, int attrtype,
				const u64 *v, unsigned int n, int pad)
{
	struct nlattr *nest = nla_nest_start(skb, attrtype);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_u64_64bit(skb, i + 1, v[i], pad))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int stw_nl_put_world(struct sk_buff *skb, const struct stw_status *st)
{
	struct nlattr *nest = nla_nest_start(skb, STW_A_WORLD);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(skb, STW_WORLD_A_NAME, st->w.name) ||
	    nla_put_string(skb, STW_WORLD_A_OWNER, st->w.owner) ||
	    nla_put_u32(skb, STW_WORLD_A_MODE, st->w.mode) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_GENERATION, st->w.generation,
			      STW_WORLD_A_PAD) ||
	    nla_put_u32(skb, STW_WORLD_A_NR_VMS, st->w.nr_vms) ||
	    nla_put_u32(skb, STW_WORLD_A_ACTIVE, st->w.active) ||
	    nla_put_u32(skb, STW_WORLD_A_STOPPED, st->w.stopped) ||
	    nla_put_u32(skb, STW_WORLD_A_HOLDS, st->holds) ||
	    nla_put_u32(skb, STW_WORLD_A_KERNEL_HOLDS, st->kernel_holds) ||
	    (st->w.step_vm &&
	     nla_put_u32(skb, STW_WORLD_A_STEP_VM, st->w.step_vm)) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_CYCLES, st->w.cycles,
			      STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_TIMEOUTS, st->w.timeouts,
			      STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_LAST_TTS_NS, st->w.last_tts_ns,
			      STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_MAX_TTS_NS, st->w.max_tts_ns,
			      STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_EVENT_SEQ, st->event_seq,
			      STW_WORLD_A_PAD) ||
	    stw_nl_put_u64_array(skb, STW_WORLD_A_TTS_HIST, st->w.tts_hist,
				 STW_TTS_HIST_BUCKETS, STW_WORLD_A_PAD) ||
	    stw_nl_put_u64_array(skb, STW_WORLD_A_VIOLATIONS, st->w.violations,
				 STW_INV_COUNT, STW_WORLD_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int stw_nl_put_cycle(struct sk_buff *skb, const struct stw_cycle_res *c)
{
	struct nlattr *nest = nla_nest_start(skb, STW_A_CYCLE);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, STW_CYCLE_A_GENERATION, c->generation,
			      STW_CYCLE_A_PAD) ||
	    (c->has_tts &&
	     nla_put_u64_64bit(skb, STW_CYCLE_A_TTS_NS, c->tts_ns,
			       STW_CYCLE_A_PAD)) ||
	    (c->joined && nla_put_flag(skb, STW_CYCLE_A_JOINED)) ||
	    (c->hold_id && nla_put_u32(skb, STW_CYCLE_A_HOLD_ID, c->hold_id)) ||
	    nla_put_u32(skb, STW_CYCLE_A_HOLDS, c->holds) ||
	    (c->pending && nla_put_flag(skb, STW_CYCLE_A_PENDING))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int stw_nl_put_laggards(struct sk_buff *skb,
			       const struct stw_laggards *lag)
{
	u32 i;

	for (i = 0; i < lag->listed; i++)
		if (stw_nl_put_vm(skb, STW_A_LAGGARD, &lag->vms[i]))
			return -EMSGSIZE;
	if (nla_put_u32(skb, STW_A_LAGGARDS_TOTAL, lag->total) ||
	    (lag->listed < lag->total &&
	     nla_put_flag(skb, STW_A_LAGGARDS_TRUNCATED)) ||
	    (lag->stacks_logged && nla_put_flag(skb, STW_A_STACKS_LOGGED)))
		return -EMSGSIZE;
	return 0;
}

/* ---- events and completions, from the event chain ---- */

static int stw_nl_put_event(struct sk_buff *skb, const struct stw_event *ev)
{
	struct stw_cycle_res c = {
		.generation = ev->generation,
		.tts_ns = ev->tts_ns,
		.has_tts = ev->has_tts,
		.hold_id = ev->hold_id,
		.holds = ev->holds,
	};
	struct nlattr *nest;

	if (stw_nl_put_world_name(skb, stw_world_name(ev->world)))
		return -EMSGSIZE;
	if (ev->type == STW_EV_DONE) {
		if (nla_put_u32(skb, STW_A_ERRNO, -ev->err) ||
		    (ev->msg && nla_put_string(skb, STW_A_MESSAGE, ev->msg)))
			return -EMSGSIZE;
	} else if (nla_put_u64_64bit(skb, STW_A_EVENT_SEQ, ev->seq,
				     STW_A_PAD)) {
		return -EMSGSIZE;
	}
	if (ev->type == STW_EV_LEASE_EXPIRED)
		return nla_put_u32(skb, STW_A_HOLD_ID, ev->hold_id);
	if (ev->type == STW_EV_VM_ADDED || ev->type == STW_EV_VM_GONE)
		return stw_nl_put_vm(skb, STW_A_VM, &ev->vm);
	if (stw_nl_put_cycle(skb, &c))
		return -EMSGSIZE;
	if (ev->step_vm) {
		nest = nla_nest_start(skb, STW_A_WORLD);
		if (!nest || nla_put_u32(skb, STW_WORLD_A_STEP_VM, ev->step_vm))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	if (ev->has_vm && stw_nl_put_vm(skb, STW_A_VM, &ev->vm))
		return -EMSGSIZE;
	if (ev->type == STW_EV_TIMEOUT ||
	    (ev->type == STW_EV_DONE && ev->laggards.total))
		return stw_nl_put_laggards(skb, &ev->laggards);
	return 0;
}

static const u8 stw_nl_event_cmd[] = {
	[STW_EV_STOPPED] = STW_CMD_STOPPED_NTF,
	[STW_EV_RESUMED] = STW_CMD_RESUMED_NTF,
	[STW_EV_TIMEOUT] = STW_CMD_TIMEOUT_NTF,
	[STW_EV_VM_ADDED] = STW_CMD_VM_ADDED_NTF,
	[STW_EV_VM_GONE] = STW_CMD_VM_GONE_NTF,
	[STW_EV_LEASE_EXPIRED] = STW_CMD_LEASE_EXPIRED_NTF,
	[STW_EV_DONE] = STW_CMD_DONE_NTF,
};

/* Multicast an event, or send a completion to its requester. */
static int stw_nl_event(struct notifier_block *nb, unsigned long type,
			void *data)
{
	const struct stw_event *ev = data;
	bool done = type == STW_EV_DONE;
	struct sk_buff *skb;
	size_t size;
	void *hdr;

	if (type >= ARRAY_SIZE(stw_nl_event_cmd) ||
	    (!done && !genl_has_listeners(&stw_family, &init_net,
					  STW_MCGRP_EVENTS_ID)))
		return NOTIFY_DONE;
	size = NLMSG_DEFAULT_SIZE + ev->laggards.listed * stw_nl_vm_size();
	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb) {
		/* The requester's library gives up waiting and releases. */
		if (done)
			pr_warn_ratelimited("out of memory: the completion for port %u was lost\n",
					    ev->portid);
		return NOTIFY_DONE;
	}
	hdr = genlmsg_put(skb, done ? ev->portid : 0, done ? ev->nlseq : 0,
			  &stw_family, 0, stw_nl_event_cmd[type]);
	if (!hdr || stw_nl_put_event(skb, ev)) {
		nlmsg_free(skb);
		return NOTIFY_DONE;
	}
	genlmsg_end(skb, hdr);
	if (done)	/* the socket may be gone: nobody to tell then */
		genlmsg_unicast(&init_net, skb, ev->portid);
	else
		genlmsg_multicast(&stw_family, skb, 0, STW_MCGRP_EVENTS_ID,
				  GFP_KERNEL);
	return NOTIFY_DONE;
}

static struct notifier_block stw_nl_event_nb = {
	.notifier_call = stw_nl_event,
};

/* ---- STATUS, WORLDS ---- */

static int stw_nl_status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_status st;
	struct stw_world *w;
	struct sk_buff *msg;
	void *hdr;

	w = stw_nl_world_get(info);
	if (!w)
		return -ENOENT;
	stw_control_status(w, &st);
	stw_control_world_put(w);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, STW_CMD_STATUS);
	if (!hdr || stw_nl_put_world_name(msg, st.w.name) ||
	    stw_nl_put_world(msg, &st)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* The first message of a STATUS dump: the world, with its change number. */
static int stw_nl_dump_world(struct sk_buff *skb, struct netlink_callback *cb,
			     struct stw_world *w)
{
	struct stw_status st;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &stw_family, NLM_F_MULTI, STW_CMD_STATUS);
	if (!hdr)
		return -EMSGSIZE;
	stw_control_status(w, &st);
	cb->seq = st.w.change_seq;
	genl_dump_check_consistent(cb, hdr);
	if (stw_nl_put_world_name(skb, st.w.name) ||
	    stw_nl_put_world(skb, &st)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * The world first, then its VMs from cb->args[1] on. Each message records
 * the world's change number: one that moved since the previous message is
 * flagged NLM_F_DUMP_INTR, and the client dumps again. The world is looked
 * up by name at each call, so that a dump read slowly never keeps it from
 * going; if it went meanwhile, the dump ends. The request's attributes
 * were checked against stw_status_policy before the dump began.
 *
 * Once the walk has met the last VM, cb->args[2] says so and the dump is
 * over: netlink calls again only when the client reads, and a VM spawned
 * in between (at a higher id) would be found then and flag a picture that
 * was whole when it was taken. On a world that fits in one message
 * buffer, a dump then spans one call, not a round trip to user space.
 */
static int stw_nl_status_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	const struct nlattr *name = nlmsg_find_attr(cb->nlh, GENL_HDRLEN,
						    STW_A_WORLD_NAME);
	unsigned long id = cb->args[1];
	struct stw_vm_snap snap;
	struct stw_world *w;
	void *hdr;
	int ret;

	w = stw_control_world_get(name ? nla_data(name) : STW_WORLD_DEFAULT);
	if (!w) {
		if (cb->args[0])
			return 0;
		NL_SET_ERR_MSG_ATTR(cb->extack, name, "no such world");
		return -ENOENT;
	}
	if (cb->args[2]) {
		ret = 0;
		goto out_put;
	}
	if (!cb->args[0]) {
		ret = stw_nl_dump_world(skb, cb, w);
		if (ret)
			goto out_put;
		cb->args[0] = 1;
	}
	for (;;) {
		if (!stw_control_vm_next(w, &id, &snap)) {
			cb->args[2] = 1;
			break;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &stw_family, NLM_F_MULTI,
				  STW_CMD_STATUS);
		if (!hdr)
			break;
		cb->seq = stw_control_change_seq(w);
		genl_dump_check_consistent(cb, hdr);
		if (stw_nl_put_vm(skb, STW_A_VM, &snap)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[1] = ++id;
	}
	ret = skb->len;
out_put:
	stw_control_world_put(w);
	return ret;
}

/* Every world, from cb->args[0] on, in the order they were made. */
static int stw_nl_worlds_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	unsigned long pos = cb->args[0];
	struct stw_status st;
	void *hdr;

	while (stw_control_world_status(&pos, &st)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &stw_family, NLM_F_MULTI,
				  STW_CMD_WORLDS);
		if (!hdr)
			break;
		if (stw_nl_put_world_name(skb, st.w.name) ||
		    stw_nl_put_world(skb, &st)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = pos;
	}
	return skb->len;
}

/* ---- STOP, RUN_ONE: answer now, the outcome follows as DONE ---- */

/* Send the reply of a request with a ticket, then commit the ticket. */
static int stw_nl_reply_cycle(struct genl_info *info, u8 cmd,
			      struct stw_world *w,
			      const struct stw_cycle_res *res,
			      struct stw_ticket *ticket)
{
	struct sk_buff *msg;
	void *hdr;
	int ret = -ENOMEM;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out_commit;
	ret = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, cmd);
	if (!hdr || stw_nl_put_world_name(msg, stw_world_name(w)) ||
	    stw_nl_put_cycle(msg, res)) {
		nlmsg_free(msg);
		goto out_commit;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out_commit:
	/* A reply that did not go out leaves no hold behind. */
	stw_control_commit(ticket, !ret);
	if (ret)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "could not send the reply; the request was undone");
	return ret;
}

static int stw_nl_stop_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_stop_req req = {
		.timeout_ms = stw_nl_u32(info, STW_A_TIMEOUT_MS,
					 STW_TIMEOUT_DEFAULT_MS),
		.lease_ms = stw_nl_u32(info, STW_A_LEASE_MS, 0),
		.keep = nla_get_flag(info->attrs[STW_A_KEEP_WAITING]),
	};
	struct stw_requester who = {
		.portid = info->snd_portid,
		.nlseq = info->snd_seq,
	};
	struct stw_ticket *ticket;
	struct stw_cycle_res res;
	struct stw_world *w;
	int ret;

	w = stw_nl_world_get(info);
	if (!w)
		return -ENOENT;
	ret = stw_control_stop(w, &req, &who, &res, &ticket, info->extack);
	if (!ret)
		ret = stw_nl_reply_cycle(info, STW_CMD_STOP, w, &res, ticket);
	stw_control_world_put(w);
	return ret;
}

static int stw_nl_run_one_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_requester who = {
		.portid = info->snd_portid,
		.nlseq = info->snd_seq,
	};
	struct stw_ticket *ticket;
	struct stw_cycle_res res;
	struct stw_world *w;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, STW_A_VM_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_A_VM_ID missing: which VM to run");
		return -EINVAL;
	}
	w = stw_nl_world_get(info);
	if (!w)
		return -ENOENT;
	ret = stw_control_step(w, nla_get_u32(info->attrs[STW_A_VM_ID]),
			       stw_nl_u32(info, STW_A_POLLS, STW_POLLS_DEFAULT),
			       stw_nl_u32(info, STW_A_TIMEOUT_MS,
					  STW_TIMEOUT_DEFAULT_MS),
			       &who, &res, &ticket, info->extack);
	if (!ret)
		ret = stw_nl_reply_cycle(info, STW_CMD_RUN_ONE, w, &res,
					 ticket);
	stw_control_world_put(w);
	return ret;
}

/* ---- RESUME ---- */

static int stw_nl_resume_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_cycle_res res;
	struct stw_world *w;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	w = stw_nl_world_get(info);
	if (!w) {
		ret = -ENOENT;
		goto err_free_msg;
	}
	ret = stw_control_resume(w, stw_nl_u32(info, STW_A_HOLD_ID, 0),
				 nla_get_flag(info->attrs[STW_A_FORCE]),
				 info->snd_portid, &res, info->extack);
	if (ret)
		goto err_put_world;
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, STW_CMD_RESUME);
	if (!hdr || stw_nl_put_world_name(msg, stw_world_name(w)) ||
	    stw_nl_put_cycle(msg, &res) ||
	    (res.resumed && nla_put_flag(msg, STW_A_RESUMED))) {
		ret = -EMSGSIZE;
		goto err_put_world;
	}
	stw_control_world_put(w);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_put_world:
	stw_control_world_put(w);
err_free_msg:
	nlmsg_free(msg);
	return ret;
}

/* ---- SPAWN, KILL, QUEUE_JOB ---- */

/* Reply with the world, STW_A_COUNT and the ids, STW_A_VM_ID each. */
static int stw_nl_reply_ids(struct genl_info *info, u8 cmd, const u32 *ids,
			    unsigned int n, bool more)
{
	struct sk_buff *msg;
	unsigned int i;
	void *hdr;

	msg = genlmsg_new(n * nla_total_size(sizeof(u32)) + 64 +
			  nla_total_size(STW_WORLD_NAME_LEN), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, cmd);
	if (!hdr ||
	    stw_nl_put_world_name(msg, stw_nl_world_name(info->attrs)) ||
	    nla_put_u32(msg, STW_A_COUNT, n) ||
	    (more && nla_put_flag(msg, STW_A_MORE)))
		goto err_free_msg;
	for (i = 0; i < n; i++)
		if (nla_put_u32(msg, STW_A_VM_ID, ids[i]))
			goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* Why a SPAWN could not make or use its world. */
static void stw_nl_spawn_world_err(struct genl_info *info, int err)
{
	struct nlattr *attr = info->attrs[STW_A_WORLD_NAME];

	if (err == -EEXIST)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "that world is another module's; demo VMs go in stw's own worlds");
	else if (err == -EINVAL)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "a world's name is 1 to STW_WORLD_NAME_LEN - 1 bytes");
	else if (err == -ENOSPC)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "STW_MAX_WORLDS worlds exist already");
	else
		NL_SET_ERR_MSG_MOD(info->extack,
				   "could not create a VM; none was kept");
}

static int stw_nl_spawn_doit(struct sk_buff *skb, struct genl_info *info)
{
	static const struct {
		int attr;
		enum stw_vm_kind kind;
	} kinds[] = {
		{ STW_SPAWN_A_ACTIVE, STW_VM_KIND_ACTIVE },
		{ STW_SPAWN_A_IDLE, STW_VM_KIND_IDLE },
		{ STW_SPAWN_A_BURSTY, STW_VM_KIND_BURSTY },
		{ STW_SPAWN_A_NOPOLL, STW_VM_KIND_NOPOLL },
	};
	const char *world = stw_nl_world_name(info->attrs);
	struct nlattr *tb[STW_SPAWN_A_MAX + 1];
	unsigned int total = 0, n = 0, i, j;
	struct stw_world *w;
	u32 nr_vms = 0;
	u32 *ids;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, STW_A_SPAWN)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_A_SPAWN missing: how many VMs of each kind");
		return -EINVAL;
	}
	ret = nla_parse_nested(tb, STW_SPAWN_A_MAX, info->attrs[STW_A_SPAWN],
			       stw_spawn_nest_policy, info->extack);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		total += tb[kinds[i].attr] ? nla_get_u32(tb[kinds[i].attr]) : 0;
	if (!total) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_SPAWN],
				    "no VM to spawn: every count is zero");
		return -EINVAL;
	}
	if (total > STW_SPAWN_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_SPAWN],
				    "more than STW_SPAWN_MAX VMs in one request");
		return -ERANGE;
	}
	/* A world that does not exist yet is made by the first VM's spawn. */
	w = stw_control_world_get(world);
	if (w) {
		nr_vms = stw_control_nr_vms(w);
		stw_control_world_put(w);
	}
	if (nr_vms + total > STW_MAX_VMS) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_SPAWN],
				    "that many VMs would pass STW_MAX_VMS");
		return -ENOSPC;
	}
	ids = kvcalloc(total, sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		u32 count = tb[kinds[i].attr] ?
			    nla_get_u32(tb[kinds[i].attr]) : 0;

		for (j = 0; j < count; j++) {
			ret = stw_demo_spawn(world, kinds[i].kind, &ids[n]);
			if (ret) {
				stw_nl_spawn_world_err(info, ret);
				goto err_kill;
			}
			n++;
		}
	}
	ret = stw_nl_reply_ids(info, STW_CMD_SPAWN, ids, n, false);
	if (!ret) {
		kvfree(ids);
		return 0;
	}
	NL_SET_ERR_MSG_MOD(info->extack,
			   "could not send the reply; none of the VMs was kept");
err_kill:
	/* All or nothing: a failed request leaves no VM behind. */
	while (n--)
		stw_demo_kill(world, ids[n]);
	kvfree(ids);
	return ret;
}

static int stw_nl_kill_doit(struct sk_buff *skb, struct genl_info *info)
{
	const char *world = stw_nl_world_name(info->attrs);
	bool all = nla_get_flag(info->attrs[STW_A_KILL_ALL]);
	unsigned int n = 0, i, max;
	struct nlattr *attr;
	bool more = false;
	u32 *ids;
	int rem, ret;

	if (!info->attrs[STW_A_VM_ID] == !all) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "give either STW_A_VM_ID or STW_A_KILL_ALL");
		return -EINVAL;
	}
	ids = kvcalloc(STW_KILL_MAX, sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;
	if (all) {
		more = stw_demo_kill_all(world, ids, STW_KILL_MAX, &n);
		goto reply;
	}
	/* Check every id before killing any: all or nothing. */
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != STW_A_VM_ID)
			continue;
		if (n == STW_KILL_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "more than STW_KILL_MAX VM ids");
			ret = -ERANGE;
			goto err_free;
		}
		ids[n] = nla_get_u32(attr);
		if (!stw_demo_exists(world, ids[n])) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "no such demo VM in that world");
			ret = -ENOENT;
			goto err_free;
		}
		n++;
	}
	/* Reply with what this request destroyed: not a repeated id twice. */
	max = n;
	for (n = 0, i = 0; i < max; i++)
		if (!stw_demo_kill(world, ids[i]))
			ids[n++] = ids[i];
reply:
	ret = stw_nl_reply_ids(info, STW_CMD_KILL, ids, n, more);
err_free:
	kvfree(ids);
	return ret;
}

static int stw_nl_queue_job_doit(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, STW_A_VM_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_A_VM_ID missing: which VM gets the jobs");
		return -EINVAL;
	}
	ret = stw_demo_queue_jobs(stw_nl_world_name(info->attrs),
				  nla_get_u32(info->attrs[STW_A_VM_ID]),
				  stw_nl_u32(info, STW_A_JOBS, 1),
				  stw_nl_u32(info, STW_A_POLLS,
					     STW_JOB_POLLS_DEFAULT));
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_VM_ID],
				    "no such demo VM in that world");
	return ret;
}

static const struct genl_ops stw_ops[] = {
	{
		.cmd = STW_CMD_STATUS,
		.doit = stw_nl_status_doit,
		.dumpit = stw_nl_status_dumpit,
		.policy = stw_status_policy,
		.maxattr = STW_A_MAX,
	},
	{
		.cmd = STW_CMD_STOP,
		.doit = stw_nl_stop_doit,
		.policy = stw_stop_policy,
		.maxattr = STW_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_CMD_RESUME,
		.doit = stw_nl_resume_doit,
		.policy = stw_resume_policy,
		.maxattr = STW_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_CMD_RUN_ONE,
		.doit = stw_nl_run_one_doit,
		.policy = stw_run_one_policy,
		.maxattr = STW_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_CMD_SPAWN,
		.doit = stw_nl_spawn_doit,
		.policy = stw_spawn_policy,
		.maxattr = STW_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_CMD_KILL,
		.doit = stw_nl_kill_doit,
		.policy = stw_kill_policy,
		.maxattr = STW_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_CMD_QUEUE_JOB,
		.doit = stw_nl_queue_job_doit,
		.policy = stw_queue_job_policy,
		.maxattr = STW_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_CMD_WORLDS,
		.dumpit = stw_nl_worlds_dumpit,
		.policy = stw_status_policy,
		.maxattr = STW_A_MAX,
	},
};

static struct genl_family stw_family __ro_after_init = {
	.name = STW_GENL_NAME,
	.version = STW_GENL_VERSION,
	.module = THIS_MODULE,
	/* No handler waits; SPAWN and KILL take a while, STATUS should not. */
	.parallel_ops = true,
	/* Strict validation for every command: unknown attributes fail. */
	.resv_start_op = STW_CMD_STATUS,
	.ops = stw_ops,
	.n_ops = ARRAY_SIZE(stw_ops),
	.mcgrps = stw_mcgrps,
	.n_mcgrps = ARRAY_SIZE(stw_mcgrps),
};

int __init stw_netlink_init(void)
{
	int ret;

	ret = genl_register_family(&stw_family);
	if (ret)
		return ret;
	ret = stw_event_listen(&stw_nl_event_nb);
	if (ret)
		genl_unregister_family(&stw_family);
	return ret;
}

/* After every event was delivered: nothing is sent to a stale group. */
void stw_netlink_exit(void)
{
	stw_event_unlisten(&stw_nl_event_nb);
	genl_unregister_family(&stw_family);
}
