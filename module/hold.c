// SPDX-License-Identifier: GPL-2.0
/*
 * Stop holds. A stop belongs to whoever asked for it: the world stays
 * stopped while any hold is left and resumes when the last one goes. A hold
 * is either bound to the netlink socket that took it, and dropped when that
 * socket is released (its process died or closed it), or detached with a
 * lease, and dropped when the lease expires. Either way a controller that
 * goes away cannot leave the VMs frozen for ever.
 */
#include <linux/jiffies.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <net/net_namespace.h>

#include "world.h"

/**
 * stw_hold_take() - take a stop hold and begin or join a stop cycle
 * @portid: the owning netlink socket, or 0 for a detached hold
 * @lease_ms: a detached hold's lease
 * @gen: the generation of the cycle joined
 * @joined: set when the cycle was already in progress
 * @rep: told to report a stop that completes at once
 *
 * Context: world lock held.
 * Return: the hold, or NULL if out of memory.
 */
struct stw_hold *stw_hold_take(u32 portid, u32 lease_ms, u64 *gen,
			       bool *joined, struct stw_report *rep)
{
	struct stw_hold *hold;

	lockdep_assert_held(&stw_world.lock);
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!hold)
		return NULL;
	do {
		hold->id = ++stw_world.next_hold_id;
	} while (!hold->id || stw_hold_find(hold->id));
	hold->portid = portid;
	if (!portid) {
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
 * @detached_too: drop the detached holds as well
 * @rep: told to report the resume
 *
 * Context: world lock held.
 * Return: how many holds were dropped.
 */
unsigned int stw_hold_drop_owned(u32 portid, bool detached_too,
				 struct stw_report *rep)
{
	struct stw_hold *hold, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&stw_world.lock);
	list_for_each_entry_safe(hold, tmp, &stw_world.holds, node) {
		if (hold->portid == portid || (detached_too && !hold->portid)) {
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

void stw_hold_lease_work(struct work_struct *work)
{
	struct stw_hold *hold, *tmp;
	struct stw_report rep = {};
	unsigned long next = 0;
	bool rearm = false;

	mutex_lock(&stw_world.lock);
	list_for_each_entry_safe(hold, tmp, &stw_world.holds, node) {
		if (hold->portid)
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
