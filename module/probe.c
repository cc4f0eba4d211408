// SPDX-License-Identifier: GPL-2.0
/*
 * Probe points and their control family "stw_probe" (uapi/stw_probe.h),
 * after libauto's AutoTestScript: a test arms a point, waits until a thread
 * reaches it, does its next step while that thread is parked, releases it.
 * The family exists only with probes=1; without it nothing enables the
 * static key, and every probe point stays a NOP.
 *
 * With probes=1 the key is turned on once, at load, before any VM exists,
 * and stays on: whether a hit is logged is stw_probe_logging's business.
 * Flipping the key per ARM and RESET had the kernel rewrite, hundreds of
 * times a suite, text that VMs were running through: a cross-CPU text poke
 * each, and on Linux 6.12 under QEMU's multi-threaded TCG a stray int3
 * (an oops) within a few hundred of them.
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <net/genetlink.h>

#include "stw.h"
#include "probe.h"

static bool probes;
module_param(probes, bool, 0444);
MODULE_PARM_DESC(probes, "register the stw_probe family for race tests");

DEFINE_STATIC_KEY_FALSE(stw_probe_key);
EXPORT_SYMBOL_GPL(stw_probe_key);

#define STW_PROBE_SLOTS		16
/* A parked thread gives up on its own after this: a test died. */
#define STW_PROBE_MAX_PARK	(60 * HZ)

enum stw_slot_state {
	STW_SLOT_FREE,
	STW_SLOT_ARMED,
	STW_SLOT_REACHED,
};

struct stw_probe_slot {
	enum stw_slot_state state;
	enum stw_probe_point point;
	u32 vm;		/* 0: any VM */
	bool park;
	u32 hit_vm;
};

/*
 * A gated thread (STW_PROBE_CMD_GATE): it parks at every probe point it
 * reaches until let go past it (STW_PROBE_CMD_GO). @seq counts its parks;
 * the thread waits for @let_go to reach its own, or for the gate to go.
 */
struct stw_probe_gate {
	pid_t pid;		/* in the initial namespace; 0: a free gate */
	pid_t asked_pid;	/* as the test named it */
	bool parked;
	u32 point;
	u32 vm;
	u32 holds;	/* locks held (stw_probe_holds()) */
	u64 seq;
	u64 let_go;
};

struct stw_probe_hit {
	u64 seq;
	u64 generation;
	u32 vm;
	u8 point;
};

/*
 * Protects the slots, the gates, the log, stw_probe_seq and
 * stw_probe_logging (arming, gating and reset change them under it alone);
 * taken under the world lock.
 */
static DEFINE_SPINLOCK(stw_probe_lock);
static struct stw_probe_slot stw_probe_slots[STW_PROBE_SLOTS];
static struct stw_probe_gate stw_probe_gates[STW_PROBE_GATES];
static struct stw_probe_hit stw_probe_log[STW_PROBE_LOG_LEN];
static u64 stw_probe_seq;
/*
 * Whether hits are logged: from the first ARM to the next RESET. Written
 * under stw_probe_lock; read once without it first, so that a probe point
 * costs one load while nothing is armed (a stale true only takes the lock).
 */
static bool stw_probe_logging;
/*
 * Gates in use: a hit looks for its thread's gate only if there is one.
 * Written under stw_probe_lock; read once without it by a lock's count.
 */
static int stw_probe_nr_gates;
/*
 * Gate the thread of every VM created from now on (STW_PROBE_A_BORN).
 * Written under stw_probe_lock; read once without it at each creation.
 */
static bool stw_probe_gate_born;
static DECLARE_WAIT_QUEUE_HEAD(stw_probe_wq);
/*
 * The event worker (stw_probe_worker()): busy from the first event queued
 * until its queue is empty, and the thread delivering them (0: none yet).
 * Written under the event queue's lock; read without any by GATES.
 */
static bool stw_probe_worker_busy;
static pid_t stw_probe_worker_pid;

static void stw_probe_notify_reached(enum stw_probe_point point, u32 vm,
				     u32 armed_vm);

/* Context: stw_probe_lock held. */
static struct stw_probe_slot *stw_probe_slot_find(enum stw_probe_point point,
						  u32 vm)
{
	int i;

	lockdep_assert_held(&stw_probe_lock);
	for (i = 0; i < STW_PROBE_SLOTS; i++)
		if (stw_probe_slots[i].state != STW_SLOT_FREE &&
		    stw_probe_slots[i].point == point &&
		    stw_probe_slots[i].vm == vm)
			return &stw_probe_slots[i];
	return NULL;
}

/* Context: stw_probe_lock held. */
static struct stw_probe_gate *stw_probe_gate_find(pid_t pid)
{
	int i;

	lockdep_assert_held(&stw_probe_lock);
	for (i = 0; i < STW_PROBE_GATES; i++)
		if (stw_probe_gates[i].pid == pid)
			return &stw_probe_gates[i];
	return NULL;
}

/* Gate thread @pid (@asked_pid as the asker named it); false if none is free. */
static bool stw_probe_gate_take(pid_t pid, pid_t asked_pid)
{
	struct stw_probe_gate *gate = stw_probe_gate_find(0);

	lockdep_assert_held(&stw_probe_lock);
	if (!gate)
		return false;
	WRITE_ONCE(gate->pid, pid);
	gate->asked_pid = asked_pid;
	/* Counted from here: it holds nothing it could say it dropped. */
	gate->holds = 0;
	WRITE_ONCE(stw_probe_nr_gates, stw_probe_nr_gates + 1);
	WRITE_ONCE(stw_probe_logging, true);
	return true;
}

/*
 * Let a gate's thread go, for good. @seq and @let_go stay: a thread still
 * waiting on the slot, which a new gate may take, is let go already.
 * Context: stw_probe_lock held; the caller wakes stw_probe_wq.
 */
static void stw_probe_gate_free(struct stw_probe_gate *gate)
{
	lockdep_assert_held(&stw_probe_lock);
	if (!gate->pid)
		return;
	gate->parked = false;
	WRITE_ONCE(gate->let_go, gate->seq);
	WRITE_ONCE(gate->pid, 0);
	WRITE_ONCE(stw_probe_nr_gates, stw_probe_nr_gates - 1);
}

/*
 * A gated thread at a probe point: park until let go past it, or until the
 * gate goes (ungated, or a reset).
 */
static void stw_probe_gate_park(enum stw_probe_point point, u32 vm_id)
{
	pid_t pid = current->pid;
	struct stw_probe_gate *gate;
	u64 ticket;

	spin_lock(&stw_probe_lock);
	gate = stw_probe_gate_find(pid);
	if (!gate) {
		spin_unlock(&stw_probe_lock);
		return;
	}
	gate->parked = true;
	gate->point = point;
	gate->vm = vm_id;
	ticket = ++gate->seq;
	spin_unlock(&stw_probe_lock);

	if (!wait_event_idle_timeout(stw_probe_wq,
				     READ_ONCE(gate->pid) != pid ||
				     READ_ONCE(gate->let_go) >= ticket,
				     STW_PROBE_MAX_PARK)) {
		spin_lock(&stw_probe_lock);
		if (gate->pid == pid) {
			gate->parked = false;
			WRITE_ONCE(gate->let_go, ticket);
		}
		spin_unlock(&stw_probe_lock);
		pr_warn_ratelimited("stw: gate of thread %d let itself go after 60 s\n",
				    pid);
	}
}

/**
 * __stw_probe_holds() - count a lock the calling thread took or dropped
 * @delta: +1 taken, -1 dropped
 *
 * Only a gated thread's count is kept; the others' cost one load.
 *
 * Context: process context; any lock held.
 */
void __stw_probe_holds(int delta)
{
	struct stw_probe_gate *gate;

	if (!READ_ONCE(stw_probe_nr_gates))
		return;
	spin_lock(&stw_probe_lock);
	gate = stw_probe_gate_find(current->pid);
	/* A lock taken before the thread was gated is not counted. */
	if (gate && (delta > 0 || gate->holds))
		gate->holds += delta;
	spin_unlock(&stw_probe_lock);
}
EXPORT_SYMBOL_GPL(__stw_probe_holds);

/**
 * __stw_probe_born() - a VM's thread was created
 * @task: the thread, not yet run any of stw's code
 *
 * Gated from birth if STW_PROBE_CMD_GATE asked for the VMs to be born:
 * make explore's SPAWN makes a participant of a thread it never saw.
 *
 * Context: process context; no spinlock held.
 */
void __stw_probe_born(struct task_struct *task)
{
	if (!READ_ONCE(stw_probe_gate_born))
		return;
	spin_lock(&stw_probe_lock);
	if (stw_probe_gate_born && !stw_probe_gate_find(task->pid) &&
	    !stw_probe_gate_take(task->pid, task->pid))
		pr_warn_ratelimited("stw: no gate left for thread %d\n",
				    task->pid);
	spin_unlock(&stw_probe_lock);
}

/**
 * __stw_probe_worker() - say what the event worker is doing
 * @state: idle, events queued, or delivering on the calling thread
 *
 * make explore lets its threads go one at a time and waits for them to
 * settle; the event worker takes the locks they take, so it waits for the
 * worker too, until it is idle or waits for a lock one of them holds.
 *
 * Context: the event queue's lock held (so the states come in order).
 */
void __stw_probe_worker(enum stw_probe_worker state)
{
	switch (state) {
	case STW_PROBE_WORKER_IDLE:
		WRITE_ONCE(stw_probe_worker_pid, 0);
		WRITE_ONCE(stw_probe_worker_busy, false);
		break;
	case STW_PROBE_WORKER_QUEUED:
		WRITE_ONCE(stw_probe_worker_busy, true);
		break;
	case STW_PROBE_WORKER_RUNNING:
		WRITE_ONCE(stw_probe_worker_busy, true);
		WRITE_ONCE(stw_probe_worker_pid, current->pid);
		break;
	}
}
EXPORT_SYMBOL_GPL(__stw_probe_worker);

/**
 * __stw_probe() - a thread reached a probe point while probes are on
 * @point: where
 * @vm_id: for which VM, or 0 on a controller's thread
 * @generation: the world's stop cycle at the hit, for the log
 *
 * Logs the hit; if the point is armed for this VM (or any VM), marks it
 * reached and, if asked to, parks the thread until the test releases it.
 * Then, if the thread is gated, it parks at its gate until let go.
 *
 * Context: process context; may hold the world lock; may sleep.
 */
void __stw_probe(enum stw_probe_point point, u32 vm_id, u64 generation)
{
	u32 id = vm_id;
	struct stw_probe_slot *slot = NULL;
	struct stw_probe_hit *hit;
	bool park = false, gated;
	u32 armed_vm;
	int i;

	if (!READ_ONCE(stw_probe_logging))
		return;
	spin_lock(&stw_probe_lock);
	if (!stw_probe_logging) {
		spin_unlock(&stw_probe_lock);
		return;
	}
	hit = &stw_probe_log[stw_probe_seq % STW_PROBE_LOG_LEN];
	hit->seq = stw_probe_seq++;
	hit->generation = generation;
	hit->vm = id;
	hit->point = point;
	for (i = 0; i < STW_PROBE_SLOTS; i++) {
		struct stw_probe_slot *s = &stw_probe_slots[i];

		if (s->state == STW_SLOT_ARMED && s->point == point &&
		    (!s->vm || s->vm == id)) {
			slot = s;
			slot->state = STW_SLOT_REACHED;
			slot->hit_vm = id;
			park = slot->park;
			break;
		}
	}
	armed_vm = slot ? slot->vm : 0;
	gated = stw_probe_nr_gates && stw_probe_gate_find(current->pid);
	spin_unlock(&stw_probe_lock);
	if (slot)
		stw_probe_notify_reached(point, id, armed_vm);
	/* Released when the test frees the slot, or on our own at last. */
	if (park &&
	    !wait_event_idle_timeout(stw_probe_wq,
				     READ_ONCE(slot->state) != STW_SLOT_REACHED,
				     STW_PROBE_MAX_PARK)) {
		spin_lock(&stw_probe_lock);
		if (slot->state == STW_SLOT_REACHED)
			slot->state = STW_SLOT_FREE;
		spin_unlock(&stw_probe_lock);
		pr_warn_ratelimited("stw: probe %u released itself after 60 s\n",
				    point);
	}
	if (gated)
		stw_probe_gate_park(point, id);
}
EXPORT_SYMBOL_GPL(__stw_probe);

static void stw_probe_reset(void)
{
	int i;

	spin_lock(&stw_probe_lock);
	memset(stw_probe_slots, 0, sizeof(stw_probe_slots));
	for (i = 0; i < STW_PROBE_GATES; i++)
		stw_probe_gate_free(&stw_probe_gates[i]);
	stw_probe_seq = 0;
	WRITE_ONCE(stw_probe_gate_born, false);
	WRITE_ONCE(stw_probe_logging, false);
	spin_unlock(&stw_probe_lock);
	wake_up_all(&stw_probe_wq);
}

static struct genl_family stw_probe_family;

static struct netlink_range_validation stw_probe_point_range = {
	.min = 0, .max = STW_PROBE_COUNT - 1,
};

static const struct nla_policy stw_probe_policy[STW_PROBE_A_MAX + 1] = {
	[STW_PROBE_A_POINT] = NLA_POLICY_FULL_RANGE(NLA_U32,
						    &stw_probe_point_range),
	[STW_PROBE_A_VM] = { .type = NLA_U32 },
	[STW_PROBE_A_PARK] = { .type = NLA_FLAG },
	[STW_PROBE_A_PID] = NLA_POLICY_MIN(NLA_U32, 1),
	[STW_PROBE_A_GATED] = { .type = NLA_FLAG },
	[STW_PROBE_A_BORN] = { .type = NLA_FLAG },
};

static const struct genl_multicast_group stw_probe_mcgrps[] = {
	{ .name = STW_PROBE_MCGRP_REACHED },
};

/*
 * Tell the tests that wait for it. The hit is on a VM's or a controller's
 * thread, in process context (it may park right after), so this may sleep.
 */
static void stw_probe_notify_reached(enum stw_probe_point point, u32 vm,
				     u32 armed_vm)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&stw_probe_family, &init_net, 0))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &stw_probe_family, 0,
			  STW_PROBE_CMD_REACHED_NTF);
	if (!hdr || nla_put_u32(msg, STW_PROBE_A_POINT, point) ||
	    nla_put_u32(msg, STW_PROBE_A_VM, vm) ||
	    nla_put_u32(msg, STW_PROBE_A_ARMED_VM, armed_vm)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&stw_probe_family, msg, 0, 0, GFP_KERNEL);
}

static u32 stw_probe_vm_attr(struct genl_info *info)
{
	return info->attrs[STW_PROBE_A_VM] ?
	       nla_get_u32(info->attrs[STW_PROBE_A_VM]) : 0;
}

static int stw_probe_arm_doit(struct sk_buff *skb, struct genl_info *info)
{
	enum stw_probe_point point;
	u32 vm = stw_probe_vm_attr(info);
	int i, ret = -ENOSPC;

	if (GENL_REQ_ATTR_CHECK(info, STW_PROBE_A_POINT)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_PROBE_A_POINT missing: which probe");
		return -EINVAL;
	}
	point = nla_get_u32(info->attrs[STW_PROBE_A_POINT]);

	spin_lock(&stw_probe_lock);
	if (stw_probe_slot_find(point, vm)) {
		ret = -EBUSY;
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_PROBE_A_POINT],
				    "that probe is armed for that VM already");
		goto out_unlock;
	}
	for (i = 0; i < STW_PROBE_SLOTS; i++) {
		struct stw_probe_slot *s = &stw_probe_slots[i];

		if (s->state != STW_SLOT_FREE)
			continue;
		s->state = STW_SLOT_ARMED;
		s->point = point;
		s->vm = vm;
		s->park = nla_get_flag(info->attrs[STW_PROBE_A_PARK]);
		WRITE_ONCE(stw_probe_logging, true);
		ret = 0;
		break;
	}
	if (ret)
		NL_SET_ERR_MSG_MOD(info->extack, "every probe slot is in use");
out_unlock:
	spin_unlock(&stw_probe_lock);
	return ret;
}

static bool stw_probe_reached(enum stw_probe_point point, u32 vm,
			      u32 *hit_vm, bool *armed)
{
	struct stw_probe_slot *slot;
	bool reached = false;

	spin_lock(&stw_probe_lock);
	slot = stw_probe_slot_find(point, vm);
	*armed = slot;
	if (slot && slot->state == STW_SLOT_REACHED) {
		*hit_vm = slot->hit_vm;
		reached = true;
	}
	spin_unlock(&stw_probe_lock);
	return reached;
}

static int stw_probe_wait_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 vm = stw_probe_vm_attr(info), hit_vm = 0;
	enum stw_probe_point point;
	struct sk_buff *msg;
	bool armed, reached;
	void *hdr;

	if (GENL_REQ_ATTR_CHECK(info, STW_PROBE_A_POINT)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_PROBE_A_POINT missing: which probe");
		return -EINVAL;
	}
	point = nla_get_u32(info->attrs[STW_PROBE_A_POINT]);
	reached = stw_probe_reached(point, vm, &hit_vm, &armed);
	if (!armed) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_PROBE_A_POINT],
				    "that probe is not armed for that VM");
		return -EINVAL;
	}
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &stw_probe_family, 0,
				STW_PROBE_CMD_WAIT);
	if (!hdr || nla_put_u32(msg, STW_PROBE_A_POINT, point) ||
	    (reached && (nla_put_flag(msg, STW_PROBE_A_REACHED) ||
			 nla_put_u32(msg, STW_PROBE_A_VM, hit_vm)))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int stw_probe_release_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 vm = stw_probe_vm_attr(info);
	struct stw_probe_slot *slot;
	int ret = 0;

	if (GENL_REQ_ATTR_CHECK(info, STW_PROBE_A_POINT)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_PROBE_A_POINT missing: which probe");
		return -EINVAL;
	}
	spin_lock(&stw_probe_lock);
	slot = stw_probe_slot_find(nla_get_u32(info->attrs[STW_PROBE_A_POINT]),
				   vm);
	if (!slot || slot->state != STW_SLOT_REACHED) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_PROBE_A_POINT],
				    "that probe has not been reached");
		ret = -EINVAL;
	} else {
		slot->state = STW_SLOT_FREE;
	}
	spin_unlock(&stw_probe_lock);
	wake_up_all(&stw_probe_wq);
	return ret;
}

static int stw_probe_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	stw_probe_reset();
	return 0;
}

static int stw_probe_log_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct stw_probe_hit hit;
	u64 seq = cb->args[0];
	void *hdr;

	for (;;) {
		spin_lock(&stw_probe_lock);
		if (seq + STW_PROBE_LOG_LEN < stw_probe_seq)
			seq = stw_probe_seq - STW_PROBE_LOG_LEN; /* overwritten */
		if (seq >= stw_probe_seq) {
			spin_unlock(&stw_probe_lock);
			break;
		}
		hit = stw_probe_log[seq % STW_PROBE_LOG_LEN];
		spin_unlock(&stw_probe_lock);

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &stw_probe_family,
				  NLM_F_MULTI, STW_PROBE_CMD_LOG);
		if (!hdr)
			break;
		if (nla_put_u64_64bit(skb, STW_PROBE_A_SEQ, hit.seq,
				      STW_PROBE_A_PAD) ||
		    nla_put_u32(skb, STW_PROBE_A_POINT, hit.point) ||
		    nla_put_u32(skb, STW_PROBE_A_VM, hit.vm) ||
		    nla_put_u64_64bit(skb, STW_PROBE_A_GENERATION,
				      hit.generation, STW_PROBE_A_PAD)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = ++seq;
	}
	return skb->len;
}

/*
 * The thread named by STW_PROBE_A_PID, in the initial namespace: 0 if none
 * (the extack says why).
 */
static pid_t stw_probe_pid_attr(struct genl_info *info)
{
	struct task_struct *task;
	pid_t pid = 0;

	if (GENL_REQ_ATTR_CHECK(info, STW_PROBE_A_PID)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "STW_PROBE_A_PID missing: which thread");
		return 0;
	}
	rcu_read_lock();
	task = pid_task(find_vpid(nla_get_u32(info->attrs[STW_PROBE_A_PID])),
			PIDTYPE_PID);
	if (task)
		pid = task->pid;
	rcu_read_unlock();
	if (!pid)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_PROBE_A_PID],
				    "no such thread");
	return pid;
}

static int stw_probe_gate_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_probe_gate *gate;
	bool gated;
	pid_t pid;
	int ret = 0;

	gated = nla_get_flag(info->attrs[STW_PROBE_A_GATED]);
	if (nla_get_flag(info->attrs[STW_PROBE_A_BORN])) {
		if (info->attrs[STW_PROBE_A_PID]) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[STW_PROBE_A_PID],
					    "a thread, or the VMs' threads to be born: not both");
			return -EINVAL;
		}
		spin_lock(&stw_probe_lock);
		WRITE_ONCE(stw_probe_gate_born, gated);
		spin_unlock(&stw_probe_lock);
		return 0;
	}
	pid = stw_probe_pid_attr(info);
	if (!pid)
		return info->attrs[STW_PROBE_A_PID] ? -ESRCH : -EINVAL;

	spin_lock(&stw_probe_lock);
	gate = stw_probe_gate_find(pid);
	if (!gated) {
		if (!gate) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[STW_PROBE_A_PID],
					    "that thread is not gated");
			ret = -EINVAL;
		} else {
			stw_probe_gate_free(gate);
		}
		goto out_unlock;
	}
	if (gate) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_PROBE_A_PID],
				    "that thread is gated already");
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!stw_probe_gate_take(pid, nla_get_u32(info->attrs[STW_PROBE_A_PID]))) {
		NL_SET_ERR_MSG_MOD(info->extack, "every gate is in use");
		ret = -ENOSPC;
	}
out_unlock:
	spin_unlock(&stw_probe_lock);
	wake_up_all(&stw_probe_wq);
	return ret;
}

static int stw_probe_go_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct stw_probe_gate *gate;
	pid_t pid;
	int ret = 0;

	pid = stw_probe_pid_attr(info);
	if (!pid)
		return info->attrs[STW_PROBE_A_PID] ? -ESRCH : -EINVAL;
	spin_lock(&stw_probe_lock);
	gate = stw_probe_gate_find(pid);
	if (!gate || !gate->parked) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[STW_PROBE_A_PID],
				    "that thread is not parked at its gate");
		ret = -EINVAL;
	} else {
		gate->parked = false;
		WRITE_ONCE(gate->let_go, gate->seq);
	}
	spin_unlock(&stw_probe_lock);
	wake_up_all(&stw_probe_wq);
	return ret;
}

static int stw_probe_gates_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct stw_probe_gate gate;
	int i;
	void *hdr;

	for (i = cb->args[0]; i < STW_PROBE_GATES; i++) {
		spin_lock(&stw_probe_lock);
		gate = stw_probe_gates[i];
		spin_unlock(&stw_probe_lock);
		if (!gate.pid)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &stw_probe_family,
				  NLM_F_MULTI, STW_PROBE_CMD_GATES);
		if (!hdr)
			break;
		if (nla_put_u32(skb, STW_PROBE_A_PID, gate.asked_pid) ||
		    nla_put_u64_64bit(skb, STW_PROBE_A_SEQ, gate.seq,
				      STW_PROBE_A_PAD) ||
		    nla_put_u32(skb, STW_PROBE_A_HOLDS, gate.holds) ||
		    (READ_ONCE(stw_probe_worker_busy) &&
		     (nla_put_flag(skb, STW_PROBE_A_WORKER_BUSY) ||
		      nla_put_u32(skb, STW_PROBE_A_WORKER_PID,
				  READ_ONCE(stw_probe_worker_pid)))) ||
		    (gate.parked &&
		     (nla_put_flag(skb, STW_PROBE_A_PARKED) ||
		      nla_put_u32(skb, STW_PROBE_A_POINT, gate.point) ||
		      nla_put_u32(skb, STW_PROBE_A_VM, gate.vm)))) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = i;
	return skb->len;
}

static const struct genl_ops stw_probe_ops[] = {
	{
		.cmd = STW_PROBE_CMD_ARM,
		.doit = stw_probe_arm_doit,
		.policy = stw_probe_policy,
		.maxattr = STW_PROBE_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_WAIT,
		.doit = stw_probe_wait_doit,
		.policy = stw_probe_policy,
		.maxattr = STW_PROBE_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_RELEASE,
		.doit = stw_probe_release_doit,
		.policy = stw_probe_policy,
		.maxattr = STW_PROBE_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_LOG,
		.dumpit = stw_probe_log_dumpit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_RESET,
		.doit = stw_probe_reset_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_GATE,
		.doit = stw_probe_gate_doit,
		.policy = stw_probe_policy,
		.maxattr = STW_PROBE_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_GO,
		.doit = stw_probe_go_doit,
		.policy = stw_probe_policy,
		.maxattr = STW_PROBE_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = STW_PROBE_CMD_GATES,
		.dumpit = stw_probe_gates_dumpit,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family stw_probe_family __ro_after_init = {
	.name = STW_PROBE_GENL_NAME,
	.version = STW_PROBE_GENL_VERSION,
	.module = THIS_MODULE,
	/* Probe points park threads, never a request: still, never serialize. */
	.parallel_ops = true,
	.resv_start_op = STW_PROBE_CMD_ARM,
	.ops = stw_probe_ops,
	.n_ops = ARRAY_SIZE(stw_probe_ops),
	.mcgrps = stw_probe_mcgrps,
	.n_mcgrps = ARRAY_SIZE(stw_probe_mcgrps),
};

/*
 * Context: module init, before the "stw" family exists: no VM runs through
 * a probe point while the key changes.
 */
int __init stw_probe_init(void)
{
	int ret;

	if (!probes)
		return 0;
	static_branch_enable(&stw_probe_key);
	ret = genl_register_family(&stw_probe_family);
	if (ret)
		static_branch_disable(&stw_probe_key);
	return ret;
}

void stw_probe_exit(void)
{
	if (!probes)
		return;
	genl_unregister_family(&stw_probe_family);
	stw_probe_reset();
}
