// SPDX-License-Identifier: GPL-2.0
/*
 * Stop holds. A stop belongs to whoever asked for it: the world stays
 * stopped while any hold is left and resumes when the last one goes. A hold
 * is bound to the netlink socket that took it, and dropped when that socket
 * is released (its process died or closed it); or detached with a lease,
 * and dropped when the lease expires; or taken by another module with
 * stw_stop_world(), and dropped by stw_resume_world(). A controller in user
 * space that goes away cannot leave the VMs frozen for ever.
 */
#include <linux/jiffies.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <net/net_namespace.h>

#include "world.h"

/* Take a stop hold and begin or join a stop cycle. */
static struct stw_hold *stw_hold_take(enum stw_hold_kind kind, u32 portid,
				      u32 lease_ms, u64 *gen, bool *joined,
				      struct stw_report *rep)
{
	struct stw_hold *hold;

	lockdep_assert_held(&stw_world.lock);
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!hold)
		return NULL;
	do {
		hold->id = ++stw_world.next_hold_id;
	} while (!hold->id || stw_hold_find(hold->id));
	hold->kind = kind;
	hold->portid = portid;
	if (kind == STW_HOLD_LEASE) {
		unsigned long delay = msecs_to_jiffies(lease_ms);

		hold->expires = jiffies + delay;
		/* The lease work wakes for the earliest expiry. */
		if (!delayed_work_pending(&stw_world.lease_work) ||
		    time_before(hold->expires,
				stw_world.lease_work.timer.expires))
			mod_delayed_work(system_wq, &stw_world.lease_work,
					 delay);
	}
	list_add_tail(&hold->node, &stw_world.holds);
	stw_world.nr_holds++;
	*gen = stw_world_begin_stop(joined, rep);
	return hold;
}

/**
 * stw_hold_find() - look a hold up by id
 * @id: the hold's id
 *
 * Context: world lock held.
 * Return: the hold, or NULL.
 */
struct stw_hold *stw_hold_find(u32 id)
{
	struct stw_hold *hold;

	lockdep_assert_held(&stw_world.lock);
	list_for_each_entry(hold, &stw_world.holds, node)
		if (hold->id == id)
			return hold;
	return NULL;
}

/**
 * stw_hold_drop() - drop a hold; the world resumes with the last one
 * @hold: the hold, freed here
 * @rep: told to report the resume
 *
 * Context: world lock held.
 */
void stw_hold_drop(struct stw_hold *hold, struct stw_report *rep)
{
	lockdep_assert_held(&stw_world.lock);
	list_del(&hold->node);
	kfree(hold);
	if (!--stw_world.nr_holds)
		stw_world_resume(rep);
}

/**
 * stw_hold_drop_owned() - drop the holds of a socket
 * @portid: the socket
 * @leased_too: drop the leased holds as well
 * @rep: told to report the resume
 *
 * Context: world lock held.
 * Return: how many holds were dropped.
 */
unsigned int stw_hold_drop_owned(u32 portid, bool leased_too,
				 struct stw_report *rep)
{
	struct stw_hold *hold, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&stw_world.lock);
	list_for_each_entry_safe(hold, tmp, &stw_world.holds, node) {
		if ((hold->kind == STW_HOLD_SOCKET && hold->portid == portid) ||
		    (hold->kind == STW_HOLD_LEASE && leased_too)) {
			stw_hold_drop(hold, rep);
			n++;
		}
	}
	return n;
}

/**
 * stw_hold_drop_all() - drop every hold: the world resumes
 * @rep: told to report the resume
 *
 * Context: world lock held.
 * Return: how many holds were dropped.
 */
unsigned int stw_hold_drop_all(struct stw_report *rep)
{
	struct stw_hold *hold, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&stw_world.lock);
	list_for_each_entry_safe(hold, tmp, &stw_world.holds, node) {
		stw_hold_drop(hold, rep);
		n++;
	}
	/* Also when no hold was left: the world emptied and must run again. */
	stw_world_resume(rep);
	return n;
}

/* The VMs that have not parked, for a stop that timed out. */
static unsigned int stw_hold_laggards(struct stw_vm_snap *out,
				      unsigned int max)
{
	struct stw_vm *vm;
	unsigned long id;
	unsigned int n = 0;

	lockdep_assert_held(&stw_world.lock);
	xa_for_each(&stw_world.vms, id, vm) {
		if (n == max)
			break;
		if (!vm->parked)
			stw_vm_snapshot(vm, &out[n++]);
	}
	return n;
}

static bool stw_hold_stop_settled(u64 gen)
{
	return READ_ONCE(stw_world.reached) >= gen ||
	       READ_ONCE(stw_world.generation) != gen ||
	       READ_ONCE(stw_world.mode) == STW_RUN_ALL ||
	       READ_ONCE(stw_world.shutting_down);
}

/**
 * stw_hold_stop() - take a stop hold and wait until the world is stopped
 * @kind: who owns the hold
 * @portid: the owning socket, for STW_HOLD_SOCKET
 * @lease_ms: the lease, for STW_HOLD_LEASE
 * @timeout_ms: how long to wait
 * @keep: on timeout keep the hold (the world stays STOPPING)
 * @res: what the request learns; on -ETIMEDOUT, the laggards
 *
 * A request that joins a cycle which already reached STOPPED returns at
 * once, even while a step runs (RUN_ONE): its hold keeps the world from
 * resuming, and the stepped VM parks again when its step ends. Waiting for
 * the step instead would let back-to-back steps of other controllers
 * starve it.
 *
 * Context: process context; sleeps until the world stops, a signal comes or
 * @timeout_ms pass.
 * Return: 0 with the world STOPPED and the hold taken; -ETIMEDOUT (the hold
 * dropped unless @keep), -ECANCELED (the hold was released meanwhile),
 * -EINTR, -ESHUTDOWN, -ENOSPC (STW_MAX_HOLDS holds) or -ENOMEM.
 */
int stw_hold_stop(enum stw_hold_kind kind, u32 portid, u32 lease_ms,
		  u32 timeout_ms, bool keep, struct stw_stop_result *res)
{
	struct stw_report rep = {};
	struct stw_hold *hold;
	long left;
	int ret;

	memset(res, 0, sizeof(*res));
	mutex_lock(&stw_world.lock);
	if (stw_world.shutting_down) {
		ret = -ESHUTDOWN;
		goto out_unlock;
	}
	if (stw_world.nr_holds >= STW_MAX_HOLDS) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	hold = stw_hold_take(kind, portid, lease_ms, &res->generation,
			     &res->joined, &rep);
	if (!hold) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	res->hold_id = hold->id;
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
	memset(&rep, 0, sizeof(rep));

	left = wait_event_interruptible_timeout(stw_world.wq,
						stw_hold_stop_settled(res->generation),
						msecs_to_jiffies(timeout_ms));

	mutex_lock(&stw_world.lock);
	hold = stw_hold_find(res->hold_id);
	if (hold && stw_world.reached == res->generation) {
		/* The hold kept the world out of RUN_ALL: still our cycle. */
		res->tts_ns = stw_world.last_tts_ns;
		ret = 0;
	} else if (!hold) {
		res->hold_id = 0;
		ret = -ECANCELED;
	} else if (stw_world.shutting_down || left < 0) {
		stw_hold_drop(hold, &rep);
		res->hold_id = 0;
		ret = stw_world.shutting_down ? -ESHUTDOWN : -EINTR;
	} else {
		res->laggards = kcalloc(STW_MAX_LAGGARDS,
					sizeof(*res->laggards), GFP_KERNEL);
		if (res->laggards)
			res->nlaggards = stw_hold_laggards(res->laggards,
							   STW_MAX_LAGGARDS);
		stw_world.timeouts++;
		if (!keep) {
			stw_hold_drop(hold, &rep);
			res->hold_id = 0;
		}
		ret = -ETIMEDOUT;
	}
out_unlock:
	res->holds = stw_world.nr_holds;
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
	if (ret == -ETIMEDOUT)
		stw_event_timeout(res->generation, res->laggards,
				  res->nlaggards);
	return ret;
}

/**
 * stw_stop_world() - stop the world from the kernel and hold it stopped
 * @timeout_ms: how long to wait for every VM to park
 * @info: filled with the cycle's generation and time to stop
 *
 * Context: process context; sleeps until the world stops.
 * Return: the hold's id (> 0), to give to stw_resume_world(); or
 * -ETIMEDOUT (the stop was rolled back), -ESHUTDOWN, -ENOSPC, -ENOMEM.
 */
int stw_stop_world(unsigned int timeout_ms, struct stw_stop_info *info)
{
	struct stw_stop_result res;
	int ret;

	ret = stw_hold_stop(STW_HOLD_KERNEL, 0, 0, timeout_ms, false, &res);
	kfree(res.laggards);
	if (ret)
		return ret;
	info->generation = res.generation;
	info->tts_ns = res.tts_ns;
	info->step_vm = 0;
	return res.hold_id;
}
EXPORT_SYMBOL_GPL(stw_stop_world);

/**
 * stw_resume_world() - drop a hold taken with stw_stop_world()
 * @hold_id: what stw_stop_world() returned
 *
 * The world resumes if that was the last hold.
 *
 * Context: process context; may sleep.
 * Return: 0, or -ENOENT if there is no such kernel hold.
 */
int stw_resume_world(int hold_id)
{
	struct stw_report rep = {};
	struct stw_hold *hold;
	int ret = -ENOENT;

	mutex_lock(&stw_world.lock);
	hold = stw_hold_find(hold_id);
	if (hold && hold->kind == STW_HOLD_KERNEL) {
		stw_hold_drop(hold, &rep);
		ret = 0;
	}
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
	return ret;
}
EXPORT_SYMBOL_GPL(stw_resume_world);

void stw_hold_lease_work(struct work_struct *work)
{
	struct stw_hold *hold, *tmp;
	struct stw_report rep = {};
	unsigned long next = 0;
	bool rearm = false;

	mutex_lock(&stw_world.lock);
	list_for_each_entry_safe(hold, tmp, &stw_world.holds, node) {
		if (hold->kind != STW_HOLD_LEASE)
			continue;
		if (time_after_eq(jiffies, hold->expires)) {
			stw_hold_drop(hold, &rep);
		} else if (!rearm || time_before(hold->expires, next)) {
			next = hold->expires;
			rearm = true;
		}
	}
	if (rearm)
		mod_delayed_work(system_wq, &stw_world.lease_work,
				 time_after(next, jiffies) ? next - jiffies : 0);
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
}

/* A controller's socket is gone: so are its holds (DESIGN.md race 8). */
static int stw_hold_netlink_event(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct stw_report rep = {};

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net) || !n->portid)
		return NOTIFY_DONE;
	mutex_lock(&stw_world.lock);
	stw_hold_drop_owned(n->portid, false, &rep);
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
	return NOTIFY_DONE;
}

static struct notifier_block stw_hold_netlink_nb = {
	.notifier_call = stw_hold_netlink_event,
};

int stw_hold_init(void)
{
	return netlink_register_notifier(&stw_hold_netlink_nb);
}

void stw_hold_exit(void)
{
	netlink_unregister_notifier(&stw_hold_netlink_nb);
}
