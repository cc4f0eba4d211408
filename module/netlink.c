// SPDX-License-Identifier: GPL-2.0
/*
 * The "stw" generic netlink family: see uapi/stw.h for the commands and the
 * attribute tree. Every command but STATUS needs CAP_NET_ADMIN.
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "world.h"

#define STW_DEFAULT_TIMEOUT_MS	5000
#define STW_DEFAULT_JOB_POLLS	100
#define STW_MAX_KILL_IDS	4096

static struct genl_family stw_family;

enum stw_mcgrp {
	STW_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group stw_mcgrps[] = {
	[STW_MCGRP_EVENTS_ID] = { .name = STW_MCGRP_EVENTS },
};

/* Not const: 6.1's struct nla_policy points to them without const. */
static struct netlink_range_validation stw_timeout_range = {
	.min = 1, .max = 600000,
};

static struct netlink_range_validation stw_lease_range = {
	.min = 1, .max = 86400000,
};

static struct netlink_range_validation stw_count_range = {
	.min = 1, .max = 1000000,
};

static struct netlink_range_validation stw_spawn_range = {
	.min = 0, .max = STW_MAX_SPAWN,
};

static const struct nla_policy stw_stop_policy[STW_A_MAX + 1] = {
	[STW_A_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_timeout_range),
	[STW_A_KEEP_WAITING] = { .type = NLA_FLAG },
	[STW_A_LEASE_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_lease_range),
};

static const struct nla_policy stw_resume_policy[STW_A_MAX + 1] = {
	[STW_A_HOLD_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_A_FORCE] = { .type = NLA_FLAG },
};

static const struct nla_policy stw_run_one_policy[STW_A_MAX + 1] = {
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
	[STW_A_SPAWN] = NLA_POLICY_NESTED(stw_spawn_nest_policy),
};

static const struct nla_policy stw_kill_policy[STW_A_MAX + 1] = {
	[STW_A_VM_IDS] = { .type = NLA_NESTED },
	[STW_A_KILL_ALL] = { .type = NLA_FLAG },
};

static const struct nla_policy stw_queue_job_policy[STW_A_MAX + 1] = {
	[STW_A_VM_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_A_JOBS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_count_range),
	[STW_A_POLLS] = NLA_POLICY_FULL_RANGE(NLA_U32, &stw_count_range),
};

/* A required attribute: missing, the request fails naming it. */
static bool stw_nl_missing(struct genl_info *info, int attr, const char *msg)
{
	if (!GENL_REQ_ATTR_CHECK(info, attr))
		return false;
	if (info->extack)
		info->extack->_msg = msg;
	return true;
}

static u32 stw_nl_u32(struct genl_info *info, int attr, u32 dflt)
{
	return info->attrs[attr] ? nla_get_u32(info->attrs[attr]) : dflt;
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

/* Context: world lock held. */
static int stw_nl_put_world(struct sk_buff *skb)
{
	u64 violations[STW_INV_COUNT];
	struct nlattr *nest;
	int i;

	lockdep_assert_held(&stw_world.lock);
	for (i = 0; i < STW_INV_COUNT; i++)
		violations[i] = atomic64_read(&stw_world.violations[i]);
	nest = nla_nest_start(skb, STW_A_WORLD);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, STW_WORLD_A_MODE, stw_world.mode) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_GENERATION,
			      stw_world.generation, STW_WORLD_A_PAD) ||
	    nla_put_u32(skb, STW_WORLD_A_NR_VMS, stw_world.nr_vms) ||
	    nla_put_u32(skb, STW_WORLD_A_ACTIVE,
			stw_world.mode == STW_RUN_ALL ? 0 : stw_world.active) ||
	    nla_put_u32(skb, STW_WORLD_A_STOPPED, stw_world.stopped) ||
	    nla_put_u32(skb, STW_WORLD_A_HOLDS, stw_world.nr_holds) ||
	    (stw_world.step_vm &&
	     nla_put_u32(skb, STW_WORLD_A_STEP_VM, stw_world.step_vm->id)) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_CYCLES, stw_world.cycles,
			      STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_TIMEOUTS, stw_world.timeouts,
			      STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_LAST_TTS_NS,
			      stw_world.last_tts_ns, STW_WORLD_A_PAD) ||
	    nla_put_u64_64bit(skb, STW_WORLD_A_MAX_TTS_NS,
			      stw_world.max_tts_ns, STW_WORLD_A_PAD) ||
	    stw_nl_put_u64_array(skb, STW_WORLD_A_TTS_HIST, stw_world.tts_hist,
				 STW_TTS_HIST_BUCKETS, STW_WORLD_A_PAD) ||
	    stw_nl_put_u64_array(skb, STW_WORLD_A_VIOLATIONS, violations,
				 STW_INV_COUNT, STW_WORLD_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

struct stw_nl_cycle {
	u64 generation;
	u64 tts_ns;
	bool has_tts;
	bool joined;
	u32 hold_id;
	u32 holds;
};

static int stw_nl_put_cycle(struct sk_buff *skb, const struct stw_nl_cycle *c)
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
	    nla_put_u32(skb, STW_CYCLE_A_HOLDS, c->holds)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int stw_nl_put_laggards(struct sk_buff *skb,
			       const struct stw_vm_snap *laggards,
			       unsigned int n)
{
	struct nlattr *nest = nla_nest_start(skb, STW_A_LAGGARDS);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (stw_nl_put_vm(skb, STW_A_VM, &laggards[i]))
			break;	/* named as many as fit */
	nla_nest_end(skb, nest);
	return 0;
}

/* ---- events ---- */

static struct sk_buff *stw_event_new(u8 cmd, void **hdr, size_t size)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&stw_family, &init_net, STW_MCGRP_EVENTS_ID))
		return NULL;
	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &stw_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void stw_event_send(struct sk_buff *skb, void *hdr, int err)
{
	if (err) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&stw_family, skb, 0, STW_MCGRP_EVENTS_ID,
			  GFP_KERNEL);
}

void stw_event_stopped(const struct stw_stop_info *info)
{
	struct stw_nl_cycle c = {
		.generation = info->generation,
		.tts_ns = info->tts_ns,
		.has_tts = true,
	};
	struct nlattr *nest;
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = stw_event_new(STW_CMD_STOPPED_NTF, &hdr, NLMSG_DEFAULT_SIZE);
	if (!skb)
		return;
	err = stw_nl_put_cycle(skb, &c);
	if (!err && info->step_vm) {
		nest = nla_nest_start(skb, STW_A_WORLD);
		err = !nest || nla_put_u32(skb, STW_WORLD_A_STEP_VM,
					   info->step_vm);
		if (!err)
			nla_nest_end(skb, nest);
	}
	stw_event_send(skb, hdr, err);
}

void stw_event_resumed(u64 generation)
{
	struct stw_nl_cycle c = { .generation = generation };
	struct sk_buff *skb;
	void *hdr;

	skb = stw_event_new(STW_CMD_RESUMED_NTF, &hdr, NLMSG_DEFAULT_SIZE);
	if (skb)
		stw_event_send(skb, hdr, stw_nl_put_cycle(skb, &c));
}

void stw_event_timeout(u64 generation, const struct stw_vm_snap *laggards,
		       unsigned int n)
{
	struct stw_nl_cycle c = { .generation = generation };
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = stw_event_new(STW_CMD_TIMEOUT_NTF, &hdr, NLMSG_GOODSIZE);
	if (!skb)
		return;
	err = stw_nl_put_cycle(skb, &c) ?:
	      stw_nl_put_laggards(skb, laggards, n);
	stw_event_send(skb, hdr, err);
}

void stw_event_vm(struct stw_vm *vm, bool added)
{
	struct stw_vm_snap snap;
	struct sk_buff *skb;
	void *hdr;

	skb = stw_event_new(added ? STW_CMD_VM_ADDED_NTF : STW_CMD_VM_GONE_NTF,
			    &hdr, NLMSG_DEFAULT_SIZE);
	if (!skb)
		return;
	mutex_lock(&stw_world.lock);
	stw_vm_snapshot(vm, &snap);
	mutex_unlock(&stw_world.lock);
	stw_event_send(skb, hdr, stw_nl_put_vm(skb, STW_A_VM, &snap));
}

/* ---- STATUS ---- */

static int stw_nl_status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, STW_CMD_STATUS);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto err_free_msg;
	}
	mutex_lock(&stw_world.lock);
	ret = stw_nl_put_world(msg);
	mutex_unlock(&stw_world.lock);
	if (ret)
		goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return ret;
}

static int stw_nl_status_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	unsigned long id = cb->args[0];
	struct stw_vm_snap snap;
	struct stw_vm *vm;
	void *hdr;

	mutex_lock(&stw_world.lock);
	xa_for_each_start(&stw_world.vms, id, vm, cb->args[0]) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &stw_family, NLM_F_MULTI,
				  STW_CMD_STATUS);
		if (!hdr)
			break;
		stw_vm_snapshot(vm, &snap);
		if (stw_nl_put_vm(skb, STW_A_VM, &snap)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = id + 1;
	}
	mutex_unlock(&stw_world.lock);
	return skb->len;
}

/* ---- STOP ---- */

static int stw_nl_stop_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 timeout_ms = stw_nl_u32(info, STW_A_TIMEOUT_MS,
				    STW_DEFAULT_TIMEOUT_MS);
	u32 lease_ms = stw_nl_u32(info, STW_A_LEASE_MS, 0);
	bool keep = nla_get_flag(info->attrs[STW_A_KEEP_WAITING]);
	struct stw_stop_result res;
	struct stw_nl_cycle c;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = stw_hold_stop(lease_ms ? STW_HOLD_LEASE : STW_HOLD_SOCKET,
			    info->snd_portid, lease_ms, timeout_ms, keep, &res);
	switch (ret) {
	case 0:
		break;
	case -ETIMEDOUT:
		if (keep)
			NL_SET_ERR_MSG_MOD(info->extack,
					   "stop timed out, still stopping; see laggards");
		else
			NL_SET_ERR_MSG_MOD(info->extack,
					   "stop timed out and was rolled back; see laggards");
		break;
	case -ECANCELED:
		NL_SET_ERR_MSG_MOD(info->extack,
				   "the hold was released before the world stopped");
		goto err_free_msg;
	case -ESHUTDOWN:
		NL_SET_ERR_MSG_MOD(info->extack, "stw is unloading");
		goto err_free_msg;
	case -ENOSPC:
		NL_SET_ERR_MSG_MOD(info->extack, "too many stop holds");
		goto err_free_msg;
	case -ENOMEM:
		NL_SET_ERR_MSG_MOD(info->extack, "no memory for a stop hold");
		goto err_free_msg;
	default:	/* -EINTR: the requester is going away */
		goto err_free_msg;
	}

	c = (struct stw_nl_cycle) {
		.generation = res.generation,
		.tts_ns = res.tts_ns,
		.has_tts = !ret,
		.joined = res.joined,
		.hold_id = res.hold_id,
		.holds = res.holds,
	};
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, STW_CMD_STOP);
	if (!hdr || stw_nl_put_cycle(msg, &c) ||
	    (ret && stw_nl_put_laggards(msg, res.laggards, res.nlaggards))) {
		/* The stop stands; only the reply did not fit. */
		ret = ret ?: -EMSGSIZE;
		goto err_free_msg;
	}
	genlmsg_end(msg, hdr);
	kfree(res.laggards);
	genlmsg_reply(msg, info);
	return ret;

err_free_msg:
	kfree(res.laggards);
	nlmsg_free(msg);
	return ret;
}

/* ---- RESUME ---- */

static int stw_nl_resume_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_nl_cycle c = {};
	struct stw_report rep = {};
	struct stw_hold *hold;
	struct sk_buff *msg;
	unsigned int n = 0;
	bool resumed;
	void *hdr;
	int ret = 0;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&stw_world.lock);
	if (info->attrs[STW_A_HOLD_ID]) {
		hold = stw_hold_find(nla_get_u32(info->attrs[STW_A_HOLD_ID]));
		if (!hold) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[STW_A_HOLD_ID],
					    "no such hold");
			ret = -ENOENT;
		} else {
			stw_hold_drop(hold, &rep);
			n = 1;
		}
	} else if (nla_get_flag(info->attrs[STW_A_FORCE])) {
		n = stw_hold_drop_all(&rep);
	} else {
		n = stw_hold_drop_owned(info->snd_portid, true, &rep);
	}
	if (!ret && !n) {
		if (stw_world.nr_holds)
			NL_SET_ERR_MSG_MOD(info->extack,
					   "the holds left belong to other controllers; use force");
		else
			NL_SET_ERR_MSG_MOD(info->extack,
					   "nothing to resume: no stop hold");
		ret = -EALREADY;
	}
	c.generation = stw_world.generation;
	c.holds = stw_world.nr_holds;
	resumed = stw_world.mode == STW_RUN_ALL;
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
	if (ret)
		goto err_free_msg;

	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, STW_CMD_RESUME);
	if (!hdr || stw_nl_put_cycle(msg, &c) ||
	    (resumed && nla_put_flag(msg, STW_A_RESUMED))) {
		ret = -EMSGSIZE;
		goto err_free_msg;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return ret;
}

/* ---- RUN_ONE ---- */

static bool stw_nl_step_ended(u64 seq)
{
	return READ_ONCE(stw_world.step_seq) != seq ||
	       READ_ONCE(stw_world.mode) != STW_RUN_ONE;
}

/* The step ended, or stw is unloading and the wait must give up. */
static bool stw_nl_step_settled(u64 seq)
{
	return stw_nl_step_ended(seq) || READ_ONCE(stw_world.shutting_down);
}

static int stw_nl_run_one_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 polls = stw_nl_u32(info, STW_A_POLLS, 1);
	u32 timeout_ms = stw_nl_u32(info, STW_A_TIMEOUT_MS,
				    STW_DEFAULT_TIMEOUT_MS);
	struct nlattr *id_attr = info->attrs[STW_A_VM_ID];
	struct stw_nl_cycle c = {};
	struct stw_vm_snap snap;
	struct stw_vm *vm;
	struct sk_buff *msg;
	u64 seq;
	long left;
	void *hdr;
	int ret;

	if (stw_nl_missing(info, STW_A_VM_ID,
			   "stw: STW_A_VM_ID missing: which VM to run"))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&stw_world.lock);
	vm = xa_load(&stw_world.vms, nla_get_u32(id_attr));
	if (stw_world.mode != STW_STOPPED) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "the world is not stopped; stop it first");
		ret = -EBUSY;
		goto err_unlock;
	}
	if (!vm) {
		NL_SET_ERR_MSG_ATTR(info->extack, id_attr, "no such VM");
		ret = -ENOENT;
		goto err_unlock;
	}
	if (!vm->parked) {
		NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
				    "the VM has not parked yet");
		ret = -EBUSY;
		goto err_unlock;
	}
	seq = stw_world_step(vm, polls);
	mutex_unlock(&stw_world.lock);

	left = wait_event_interruptible_timeout(stw_world.wq,
						stw_nl_step_settled(seq),
						msecs_to_jiffies(timeout_ms));

	mutex_lock(&stw_world.lock);
	if (!stw_nl_step_ended(seq)) {
		if (stw_world.shutting_down) {
			NL_SET_ERR_MSG_MOD(info->extack, "stw is unloading");
			ret = -ESHUTDOWN;
		} else if (left < 0) {
			ret = -EINTR;
		} else {
			NL_SET_ERR_MSG_MOD(info->extack,
					   "the step did not end in time; the world stays RUN_ONE");
			ret = -ETIMEDOUT;
		}
		goto err_unlock;
	}
	c.generation = stw_world.generation;
	c.holds = stw_world.nr_holds;
	vm = xa_load(&stw_world.vms, nla_get_u32(id_attr));
	if (vm)
		stw_vm_snapshot(vm, &snap);
	mutex_unlock(&stw_world.lock);

	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, STW_CMD_RUN_ONE);
	if (!hdr || stw_nl_put_cycle(msg, &c) ||
	    (vm && stw_nl_put_vm(msg, STW_A_VM, &snap))) {
		ret = -EMSGSIZE;
		goto err_free_msg;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&stw_world.lock);
err_free_msg:
	nlmsg_free(msg);
	return ret;
}

/* ---- SPAWN, KILL, QUEUE_JOB ---- */

static int stw_nl_put_ids(struct sk_buff *skb, const u32 *ids,
			  unsigned int n)
{
	struct nlattr *nest = nla_nest_start(skb, STW_A_VM_IDS);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_u32(skb, STW_A_VM_ID, ids[i]))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* @n done; the first STW_MAX_SPAWN of @ids listed, as a nest holds no more. */
static int stw_nl_reply_ids(struct genl_info *info, u8 cmd, const u32 *ids,
			    unsigned int n)
{
	unsigned int listed = min_t(unsigned int, n, STW_MAX_SPAWN);
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(listed * nla_total_size(sizeof(u32)) + 64,
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &stw_family, 0, cmd);
	if (!hdr || nla_put_u32(msg, STW_A_COUNT, n) ||
	    stw_nl_put_ids(msg, ids, listed)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
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
	struct nlattr *tb[STW_SPAWN_A_MAX + 1];
	unsigned int total = 0, n = 0, i, j;
	u32 *ids;
	int ret;

	if (stw_nl_missing(info, STW_A_SPAWN,
			   "stw: STW_A_SPAWN missing: how many VMs of each kind"))
		return -EINVAL;
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
	if (total > STW_MAX_SPAWN) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_SPAWN],
				    "more than STW_MAX_SPAWN (8000) VMs in one request");
		return -ERANGE;
	}
	if (READ_ONCE(stw_world.nr_vms) + total > STW_MAX_VMS) {
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
			ret = stw_demo_spawn(kinds[i].kind, &ids[n]);
			if (ret) {
				NL_SET_ERR_MSG_MOD(info->extack,
						   "could not create a VM; none was kept");
				goto err_kill;
			}
			n++;
		}
	}
	ret = stw_nl_reply_ids(info, STW_CMD_SPAWN, ids, n);
	if (!ret) {
		kvfree(ids);
		return 0;
	}
	NL_SET_ERR_MSG_MOD(info->extack,
			   "could not send the reply; none of the VMs was kept");
err_kill:
	/* All or nothing: a failed request leaves no VM behind. */
	while (n--)
		stw_demo_kill(ids[n]);
	kvfree(ids);
	return ret;
}

static int stw_nl_kill_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *ids_attr = info->attrs[STW_A_VM_IDS];
	unsigned int n = 0, max = STW_MAX_KILL_IDS;
	struct nlattr *attr;
	u32 *ids;
	int rem, ret;

	if (!ids_attr == !info->attrs[STW_A_KILL_ALL]) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "give either STW_A_VM_IDS or STW_A_KILL_ALL");
		return -EINVAL;
	}
	if (!ids_attr)
		max = STW_MAX_VMS;
	ids = kvcalloc(max, sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;

	if (!ids_attr) {
		stw_demo_kill_all(ids, max, &n);
		goto reply;
	}
	/* Check every id before killing any: all or nothing. */
	nla_for_each_nested(attr, ids_attr, rem) {
		if (nla_type(attr) != STW_A_VM_ID || nla_len(attr) != sizeof(u32)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "STW_A_VM_IDS holds only u32 STW_A_VM_ID");
			ret = -EINVAL;
			goto err_free;
		}
		if (n == max) {
			NL_SET_ERR_MSG_ATTR(info->extack, ids_attr,
					    "more than 4096 VM ids");
			ret = -ERANGE;
			goto err_free;
		}
		ids[n] = nla_get_u32(attr);
		if (!stw_demo_exists(ids[n])) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "no such demo VM");
			ret = -ENOENT;
			goto err_free;
		}
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(info->extack, ids_attr, "no VM id given");
		ret = -EINVAL;
		goto err_free;
	}
	/* Reply with what this request destroyed: not a repeated id twice. */
	max = n;
	for (n = 0, rem = 0; rem < max; rem++)
		if (!stw_demo_kill(ids[rem]))
			ids[n++] = ids[rem];
reply:
	ret = stw_nl_reply_ids(info, STW_CMD_KILL, ids, n);
err_free:
	kvfree(ids);
	return ret;
}

static int stw_nl_queue_job_doit(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (stw_nl_missing(info, STW_A_VM_ID,
			   "stw: STW_A_VM_ID missing: which VM gets the jobs"))
		return -EINVAL;
	ret = stw_demo_queue_jobs(nla_get_u32(info->attrs[STW_A_VM_ID]),
				  stw_nl_u32(info, STW_A_JOBS, 1),
				  stw_nl_u32(info, STW_A_POLLS,
					     STW_DEFAULT_JOB_POLLS));
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_A_VM_ID],
				    "no such demo VM");
	return ret;
}

static const struct genl_ops stw_ops[] = {
	{
		.cmd = STW_CMD_STATUS,
		.doit = stw_nl_status_doit,
		.dumpit = stw_nl_status_dumpit,
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
};

static struct genl_family stw_family __ro_after_init = {
	.name = STW_GENL_NAME,
	.version = STW_GENL_VERSION,
	.module = THIS_MODULE,
	/* STOP and RUN_ONE sleep until the world moves: never serialize. */
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
	return genl_register_family(&stw_family);
}

void stw_netlink_exit(void)
{
	genl_unregister_family(&stw_family);
}
