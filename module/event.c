// SPDX-License-Identifier: GPL-2.0
/*
 * Ordered delivery of events. A poster numbers its event and queues it
 * under stw_event_lock; one work item on an ordered workqueue takes them
 * off in that order and calls the listeners. Posters are never delayed by
 * listeners, and a listener that sleeps (a stop notifier of another module)
 * delays later events, never reorders them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "stw.h"
#include "event.h"
#include "probe.h"

/* Protects stw_event_queue and stw_event_seq. */
static DEFINE_SPINLOCK(stw_event_lock);
static LIST_HEAD(stw_event_queue);
static u64 stw_event_seq;

static struct workqueue_struct *stw_event_wq;
static void stw_event_deliver(struct work_struct *work);
static DECLARE_WORK(stw_event_work, stw_event_deliver);

static BLOCKING_NOTIFIER_HEAD(stw_event_chain);
static BLOCKING_NOTIFIER_HEAD(stw_stop_chain);

/**
 * stw_event_new() - allocate an event to fill in and post
 * @type: what happened
 *
 * Context: process context; may sleep (also under a mutex of stw).
 * Return: the event, or NULL; the poster then calls stw_event_lost().
 */
struct stw_event *stw_event_new(enum stw_event_type type)
{
	struct stw_event *ev = kzalloc(sizeof(*ev), GFP_KERNEL);

	if (ev)
		ev->type = type;
	return ev;
}

/**
 * stw_event_post() - number an event and queue it for delivery
 * @ev: from stw_event_new(), filled in; owned by the queue from now on
 *
 * Post while holding the lock that ordered the change, so that the numbers
 * follow the order of the changes. A completion (STW_EV_DONE) is queued in
 * the same order but not numbered: it goes to its requester alone, and the
 * numbers of the events group must have no gap but for a lost event.
 *
 * Context: process context, any stw lock held.
 */
void stw_event_post(struct stw_event *ev)
{
	spin_lock(&stw_event_lock);
	if (ev->type != STW_EV_DONE)
		ev->seq = ++stw_event_seq;
	list_add_tail(&ev->node, &stw_event_queue);
	stw_probe_worker(STW_PROBE_WORKER_QUEUED);
	spin_unlock(&stw_event_lock);
	queue_work(stw_event_wq, &stw_event_work);
}

/**
 * stw_event_lost() - count an event that could not be allocated
 *
 * Listeners see a gap in the sequence numbers instead of nothing.
 *
 * Context: any.
 */
void stw_event_lost(void)
{
	spin_lock(&stw_event_lock);
	stw_event_seq++;
	spin_unlock(&stw_event_lock);
	pr_warn_ratelimited("out of memory: an event was lost\n");
}

/**
 * stw_event_last_seq() - the number of the latest event posted
 *
 * Context: any.
 * Return: the number, 0 before the first event.
 */
u64 stw_event_last_seq(void)
{
	u64 seq;

	spin_lock(&stw_event_lock);
	seq = stw_event_seq;
	spin_unlock(&stw_event_lock);
	return seq;
}

static void stw_event_free(struct stw_event *ev)
{
	kvfree(ev->laggards.vms);
	kfree(ev);
}

static void stw_event_deliver(struct work_struct *work)
{
	struct stw_stop_info info;
	struct stw_event *ev;

	for (;;) {
		spin_lock(&stw_event_lock);
		ev = list_first_entry_or_null(&stw_event_queue,
					      struct stw_event, node);
		if (ev)
			list_del(&ev->node);
		stw_probe_worker(ev ? STW_PROBE_WORKER_RUNNING :
				 STW_PROBE_WORKER_IDLE);
		spin_unlock(&stw_event_lock);
		if (!ev)
			return;
		blocking_notifier_call_chain(&stw_event_chain, ev->type, ev);
		if (ev->type == STW_EV_STOPPED) {
			info.world = ev->world;
			info.generation = ev->generation;
			info.tts_ns = ev->tts_ns;
			info.step_vm = ev->step_vm;
			blocking_notifier_call_chain(&stw_stop_chain, 0, &info);
		}
		stw_event_free(ev);
		cond_resched();
	}
}

/**
 * stw_event_flush() - wait until every event posted so far was delivered
 *
 * Context: process context; not from a listener.
 */
void stw_event_flush(void)
{
	flush_work(&stw_event_work);
}

/**
 * stw_event_listen() - be told every event, in order
 * @nb: called with the event type and a struct stw_event *
 *
 * Context: process context.
 * Return: 0.
 */
int stw_event_listen(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&stw_event_chain, nb);
}

/**
 * stw_event_unlisten() - stop being told
 * @nb: as registered
 *
 * Context: process context.
 */
void stw_event_unlisten(struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(&stw_event_chain, nb);
}

/**
 * stw_register_stop_notifier() - be called each time the world stops
 * @nb: called with a struct stw_stop_info after a stop cycle or a step
 *	reaches STOPPED
 *
 * Notifiers run on stw's event worker, in the order the world stopped and
 * resumed, with no stw lock held: they may sleep, take holds, resume the
 * world or destroy VMs. The world may have moved on by the time they run;
 * a notifier that needs it stopped takes its own hold (stw_stop_world()).
 *
 * Context: process context.
 * Return: 0.
 */
int stw_register_stop_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&stw_stop_chain, nb);
}
EXPORT_SYMBOL_GPL(stw_register_stop_notifier);

/**
 * stw_unregister_stop_notifier() - stop being called when the world stops
 * @nb: as registered
 *
 * Context: process context; not from the notifier itself.
 * Return: 0, or -ENOENT if @nb was not registered.
 */
int stw_unregister_stop_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&stw_stop_chain, nb);
}
EXPORT_SYMBOL_GPL(stw_unregister_stop_notifier);

int __init stw_event_init(void)
{
	stw_event_wq = alloc_ordered_workqueue("stw_events", 0);
	return stw_event_wq ? 0 : -ENOMEM;
}

/* Every poster is gone: deliver what is left, then free the worker. */
void stw_event_exit(void)
{
	flush_work(&stw_event_work);
	destroy_workqueue(stw_event_wq);
}
