// SPDX-License-Identifier: GPL-2.0
/*
 * The controller. A stop belongs to whoever asked for it: the world stays
 * stopped while any stop hold is left and resumes when the last one goes.
 * A hold is bound to the netlink socket that took it, and dropped when that
 * socket is released (its process died or closed it); or detached with a
 * lease, and dropped when the lease expires; or taken by another module
 * with stw_stop_world(), and dropped only by its stw_resume_world(). A
 * controller in user space that goes away cannot leave the VMs frozen for
 * ever, and a module that holds the world can rely on it staying stopped.
 *
 * Netlink requests never wait here. A STOP that has to wait for VMs, and
 * every RUN_ONE, get a ticket; its outcome (STOPPED, a timeout with its
 * laggards, a cancelled hold, the end of a step) is posted as STW_EV_DONE
 * for the requester's socket when the world gets there, from the event
 * worker (the world's STOPPED and RESUMED events settle tickets) or from
 * the ticket's own timeout work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/ratelimit.h>
#include <linux/sched/debug.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <net/net_namespace.h>

#include "world.h"
#include "control.h"
#include "mutant.h"
#include "trace.h"

/* Tests start hold ids near INT_MAX, to see them wrap to 1. */
static uint first_hold_id;
module_param(first_hold_id, uint, 0444);
MODULE_PARM_DESC(first_hold_id, "where hold ids start (for tests; 0: at 1)");

/* Why requests fail once a world's maker (or stw) is going. */
#define STW_GOING_AWAY "the world is going away (its module unloads)"

/* Laggards whose stacks one timeout writes to the kernel log. */
#define STW_LAGGARD_STACKS	8

enum stw_hold_kind {
	STW_HOLD_SOCKET,	/* dropped when its netlink socket goes */
	STW_HOLD_LEASE,		/* detached, dropped when its lease expires */
	STW_HOLD_KERNEL,	/* taken with stw_stop_world() */
};

struct stw_hold {
	u32 id;
	enum stw_hold_kind kind;
	u32 portid;		/* STW_HOLD_SOCKET: the owning socket */
	unsigned long expires;	/* STW_HOLD_LEASE: jiffies */
};

enum stw_ticket_kind {
	STW_TICKET_STOP,
	STW_TICKET_STEP,
};

/*
 * A request whose outcome its requester awaits. Listed (and its timeout
 * queued) once the request's reply went out, so that the outcome never
 * overtakes the reply.
 */
struct stw_ticket {
	struct list_head node;
	enum stw_ticket_kind kind;
	struct stw_requester who;
	u32 timeout_ms;
	u64 generation;		/* STOP: the cycle */
	u32 hold_id;		/* STOP: its hold */
	bool keep;		/* STOP: no rollback on timeout */
	bool at_once;		/* STOP: complete in the reply already */
	u64 step_seq;		/* STEP */
	u32 vm_id;		/* STEP: the target */
	bool removed;		/* unlisted while its timeout work ran */
	/*
	 * The completion, allocated with the ticket: an outcome that could
	 * not be allocated when it is known would leave the requester
	 * waiting and its hold standing.
	 */
	struct stw_event *done;
	struct delayed_work timeout;
	struct stw_control *ctl;	/* the world's controller it waits on */
};

/**
 * struct stw_control - the controller's state for one world
 * @lock: protects every field below but @world. Taken before the world
 *	lock, never under it, and never with another world's control lock
 *	held; VMs never take it, so it may be held while allocating and while
 *	logging stacks.
 * @world: the world whose holds these are; its @ctl points back here
 * @holds: id -> struct stw_hold; ids cyclic in [1, INT_MAX], so that
 *	stw_stop_world() can return them as a positive int
 * @next_hold_id: where the cyclic allocation goes on
 * @nr_holds: holds in @holds; read without the lock by STATUS
 * @nr_kernel_holds: of them, STW_HOLD_KERNEL; read without the lock too
 * @nr_socket_holds: of them, STW_HOLD_SOCKET (stw_nr_socket_holds counts
 *	them over every world, for the socket-release fast path)
 * @tickets: struct stw_ticket awaiting their outcome
 * @lease_work: drops holds whose lease expired
 * @shutting_down: the module is going away; requests fail
 */
struct stw_control {
	struct mutex lock;	/* see @lock above */
	struct stw_world *world;
	struct xarray holds;
	u32 next_hold_id;
	u32 nr_holds;
	u32 nr_kernel_holds;
	u32 nr_socket_holds;
	struct list_head tickets;
	struct delayed_work lease_work;
	bool shutting_down;
};

/* Take and drop a controller's lock; see stw_world_lock() for the probes. */
static void stw_control_lock(struct stw_control *c)
	__acquires(&c->lock)
{
	stw_world_probe(c->world, STW_PROBE_LOCKING, NULL);
	mutex_lock(&c->lock);
	stw_probe_holds(1);
	stw_world_probe(c->world, STW_PROBE_LOCKED, NULL);
}

static void stw_control_unlock(struct stw_control *c)
	__releases(&c->lock)
{
	stw_probe_holds(-1);
	mutex_unlock(&c->lock);
}

/*
 * A world and its controller, made together by stw_world_create() and
 * freed together by stw_world_destroy().
 * @users: its maker's reference, and one per netlink request that found it
 *	by name and is still in its handler (no handler waits, so these go
 *	soon); the destroy waits for them
 */
struct stw_world_obj {
	struct stw_world world;
	struct stw_control ctl;
	struct list_head node;
	refcount_t users;
};

/*
 * Protects stw_worlds (the worlds by name, in the order they were made),
 * stw_nr_worlds and stw_worlds_closed. Taken before any control lock.
 */
static DEFINE_MUTEX(stw_worlds_lock);
static LIST_HEAD(stw_worlds);
static unsigned int stw_nr_worlds;
static bool stw_worlds_closed;	/* stw unloads: no world is made any more */

/* The world "demo", stw's own: see stw_default_world(). */
static struct stw_world *stw_default;

/*
 * Socket-bound holds of every world. Every generic netlink socket closed on
 * the machine reaches stw_control_netlink_event(), which reads this without
 * a lock and returns at once while it is 0.
 */
static atomic_t stw_nr_socket_holds;

/* stw's own workqueue: every world's lease work and tickets' timeouts. */
static struct workqueue_struct *stw_control_wq;

static struct stw_world_obj *stw_world_obj(struct stw_world *w)
{
	return container_of(w, struct stw_world_obj, world);
}

static void stw_hold_arm_lease(struct stw_control *c, struct stw_hold *hold,
			       u32 lease_ms)
{
	unsigned long delay = msecs_to_jiffies(lease_ms);

	lockdep_assert_held(&c->lock);
	hold->expires = jiffies + delay;
	/* The lease work wakes for the earliest expiry. */
	if (!delayed_work_pending(&c->lease_work) ||
	    time_before(hold->expires, c->lease_work.timer.expires))
		mod_delayed_work(stw_control_wq, &c->lease_work, delay);
}

static void stw_hold_count(struct stw_control *c, struct stw_hold *hold,
			   int delta)
{
	WRITE_ONCE(c->nr_holds, c->nr_holds + delta);
	if (hold->kind == STW_HOLD_KERNEL) {
		WRITE_ONCE(c->nr_kernel_holds, c->nr_kernel_holds + delta);
	} else if (hold->kind == STW_HOLD_SOCKET) {
		c->nr_socket_holds += delta;
		atomic_add(delta, &stw_nr_socket_holds);
	}
}

/* Take a stop hold. */
static struct stw_hold *stw_hold_take(struct stw_control *c,
				      enum stw_hold_kind kind, u32 portid,
				      u32 lease_ms,
				      struct netlink_ext_ack *extack)
{
	struct stw_hold *hold;
	int ret;

	lockdep_assert_held(&c->lock);
	if (c->shutting_down) {
		NL_SET_ERR_MSG_MOD(extack, STW_GOING_AWAY);
		return ERR_PTR(-ESHUTDOWN);
	}
	if (c->nr_holds >= STW_MAX_HOLDS) {
		NL_SET_ERR_MSG_MOD(extack, "too many stop holds");
		return ERR_PTR(-ENOSPC);
	}
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!hold)
		goto err_nomem;
	ret = xa_alloc_cyclic(&c->holds, &hold->id, hold,
			      XA_LIMIT(1, INT_MAX), &c->next_hold_id,
			      GFP_KERNEL);
	if (ret < 0)
		goto err_free_hold;
	hold->kind = kind;
	hold->portid = portid;
	if (kind == STW_HOLD_LEASE)
		stw_hold_arm_lease(c, hold, lease_ms);
	stw_hold_count(c, hold, 1);
	trace_stw_hold_take(hold->id, kind, c->nr_holds);
	return hold;

err_free_hold:
	kfree(hold);
err_nomem:
	NL_SET_ERR_MSG_MOD(extack, "no memory for a stop hold");
	return ERR_PTR(-ENOMEM);
}

/* Drop a hold; the world resumes with the last one. */
static void stw_hold_drop(struct stw_control *c, struct stw_hold *hold)
{
	struct stw_world *w = c->world;

	lockdep_assert_held(&c->lock);
	xa_erase(&c->holds, hold->id);
	stw_hold_count(c, hold, -1);
	trace_stw_hold_release(hold->id, hold->kind, c->nr_holds);
	kfree(hold);
	if (c->nr_holds)
		return;
	stw_world_lock(w);
	stw_world_resume(w);
	stw_world_unlock(w);
}

static struct stw_hold *stw_hold_find(struct stw_control *c, u32 id)
{
	lockdep_assert_held(&c->lock);
	return xa_load(&c->holds, id);
}

/* Take a hold of @kind and begin or join a stop cycle. */
static struct stw_hold *stw_control_begin_stop(struct stw_control *c,
					       enum stw_hold_kind kind,
					       u32 portid, u32 lease_ms,
					       struct stw_cycle_res *res,
					       struct netlink_ext_ack *extack)
{
	struct stw_world *w = c->world;
	struct stw_hold *hold;

	lockdep_assert_held(&c->lock);
	hold = stw_hold_take(c, kind, portid, lease_ms, extack);
	if (IS_ERR(hold))
		return hold;
	res->generation = stw_world_begin_stop(w, &res->joined);
	stw_world_lock(w);
	res->has_tts = stw_world_reached(w, res->generation);
	res->tts_ns = w->last_tts_ns;
	stw_world_unlock(w);
	res->hold_id = hold->id;
	res->holds = c->nr_holds;
	return hold;
}

static void stw_ticket_free(struct stw_ticket *t)
{
	if (t->done) {
		kvfree(t->done->laggards.vms);
		kfree(t->done);
	}
	kfree(t);
}

static void stw_ticket_unlist(struct stw_ticket *t, bool from_timeout)
{
	struct stw_control *c = t->ctl;

	lockdep_assert_held(&c->lock);
	list_del(&t->node);
	/* A timeout work that is running frees the ticket itself. */
	if (from_timeout || cancel_delayed_work(&t->timeout))
		stw_ticket_free(t);
	else
		t->removed = true;
}

/* Post the outcome of @t for its requester, and forget @t. */
static void stw_ticket_done(struct stw_ticket *t, int err, const char *msg,
			    bool from_timeout)
{
	struct stw_control *c = t->ctl;
	struct stw_world *w = c->world;
	struct stw_event *ev = t->done;

	lockdep_assert_held(&c->lock);
	t->done = NULL;		/* the event worker's from here on */
	ev->portid = t->who.portid;
	ev->nlseq = t->who.nlseq;
	ev->err = err;
	ev->msg = msg;
	if (t->kind == STW_TICKET_STOP && stw_hold_find(c, t->hold_id))
		ev->hold_id = t->hold_id;
	ev->holds = c->nr_holds;
	stw_world_lock(w);
	ev->generation = t->kind == STW_TICKET_STOP ? t->generation :
			 w->generation;
	if (!err && t->kind == STW_TICKET_STOP) {
		ev->tts_ns = w->last_tts_ns;
		ev->has_tts = true;
	}
	if (t->kind == STW_TICKET_STEP) {
		unsigned long id = t->vm_id;

		ev->has_vm = stw_world_vm_next(w, &id, &ev->vm) &&
			     id == t->vm_id;
	}
	stw_event_post(ev);
	stw_world_unlock(w);
	stw_ticket_unlist(t, from_timeout);
}

/* Complete @t if its outcome is known; false if it still waits. */
static bool stw_ticket_settle(struct stw_ticket *t, bool from_timeout)
{
	struct stw_control *c = t->ctl;
	struct stw_world *w = c->world;

	lockdep_assert_held(&c->lock);
	if (c->shutting_down) {
		stw_ticket_done(t, -ESHUTDOWN, STW_GOING_AWAY,
				from_timeout);
		return true;
	}
	if (t->kind == STW_TICKET_STOP) {
		if (!stw_hold_find(c, t->hold_id)) {
			stw_ticket_done(t, -ECANCELED,
					"the hold was released before the world stopped",
					from_timeout);
			return true;
		}
		if (!stw_world_reached(w, t->generation))
			return false;
	} else if (!stw_world_step_ended(w, t->step_seq)) {
		return false;
	}
	stw_ticket_done(t, 0, NULL, from_timeout);
	return true;
}

/* Complete every ticket whose outcome is known. */
static void stw_control_settle(struct stw_control *c)
{
	struct stw_ticket *t, *tmp;

	lockdep_assert_held(&c->lock);
	list_for_each_entry_safe(t, tmp, &c->tickets, node)
		stw_ticket_settle(t, false);
}

/* Log the laggards' stacks, like the freezer's "refusing to freeze". */
static void stw_log_stacks(struct task_struct **tasks, u32 n, bool log,
			   u32 timeout_ms)
{
	u32 i;

	for (i = 0; i < n && tasks[i]; i++) {
		if (log) {
			pr_info("%s (pid %d) did not stop within %u ms:\n",
				tasks[i]->comm, task_pid_nr(tasks[i]),
				timeout_ms);
			sched_show_task(tasks[i]);
		}
		put_task_struct(tasks[i]);
	}
}

/*
 * A stop timed out: name its laggards (TIMEOUT event), log their stacks,
 * roll it back unless @keep. @done, if not NULL, gets a copy of the
 * laggards for the requester. Returns false if the cycle stopped after
 * all. The arrays are allocated here, before the world lock is taken.
 */
static bool stw_control_time_out(struct stw_control *c, u64 generation,
				 u32 hold_id, bool keep, u32 timeout_ms,
				 struct stw_event *done)
{
	static DEFINE_RATELIMIT_STATE(stacks_rs, 10 * HZ, 4);
	struct task_struct *tasks[STW_LAGGARD_STACKS] = {};
	struct stw_world *w = c->world;
	u32 room = min_t(u32, READ_ONCE(w->nr_vms),
			 STW_LAGGARDS_LISTED);
	struct stw_laggards *lag;
	struct stw_hold *hold;
	struct stw_event *ev;
	bool timed_out, log;
	u32 total = 0;

	lockdep_assert_held(&c->lock);
	ev = stw_event_new(STW_EV_TIMEOUT);
	if (!ev)
		return false;	/* tried again at the next timeout */
	ev->world = w;
	ev->laggards.vms = kvcalloc(max(room, 1U), sizeof(*ev->laggards.vms),
				    GFP_KERNEL);
	if (done)
		done->laggards.vms = kvcalloc(max(room, 1U),
					      sizeof(*done->laggards.vms),
					      GFP_KERNEL);
	if (!ev->laggards.vms)
		room = 0;
	hold = stw_hold_find(c, hold_id);
	if (keep && hold)
		ev->hold_id = hold_id;
	log = __ratelimit(&stacks_rs);

	stw_world_lock(w);
	timed_out = stw_world_time_out(w, generation, ev, room, tasks,
				       ARRAY_SIZE(tasks));
	if (timed_out) {
		lag = &ev->laggards;
		total = lag->total;
		lag->stacks_logged = log && total;
		if (done && done->laggards.vms) {
			memcpy(done->laggards.vms, lag->vms,
			       lag->listed * sizeof(*lag->vms));
			done->laggards.listed = lag->listed;
		}
		/*
		 * Posted under the world lock, in order with the world's own
		 * events; from here the event worker owns (and frees) it.
		 */
		stw_event_post(ev);
	}
	stw_world_unlock(w);
	if (!timed_out) {
		kvfree(ev->laggards.vms);
		kfree(ev);
		return false;
	}
	trace_stw_timeout(generation, total, keep);
	if (done) {
		done->laggards.total = total;
		done->laggards.stacks_logged = log && total;
	}
	stw_log_stacks(tasks, ARRAY_SIZE(tasks), log, timeout_ms);
	if (!keep && hold)
		stw_hold_drop(c, hold);
	return true;
}

static void stw_ticket_timeout(struct work_struct *work)
{
	struct stw_ticket *t = container_of(to_delayed_work(work),
					    struct stw_ticket, timeout);
	struct stw_control *c = t->ctl;

	stw_control_lock(c);
	if (t->removed) {
		stw_ticket_free(t);
		goto out_unlock;
	}
	if (stw_ticket_settle(t, true))
		goto out_unlock;
	if (t->kind == STW_TICKET_STEP) {
		stw_ticket_done(t, -ETIMEDOUT,
				"the step did not end in time; the world stays RUN_ONE",
				true);
		goto out_unlock;
	}
	if (!stw_control_time_out(c, t->generation, t->hold_id, t->keep,
				  t->timeout_ms, t->done)) {
		/* Stopped after all, or no memory: look again soon. */
		kvfree(t->done->laggards.vms);
		t->done->laggards.vms = NULL;
		if (!stw_ticket_settle(t, true))
			queue_delayed_work(stw_control_wq, &t->timeout,
					   HZ / 10);
		goto out_unlock;
	}
	stw_ticket_done(t, -ETIMEDOUT,
			t->keep ? "stop timed out, still stopping; see laggards" :
				  "stop timed out and was rolled back; see laggards",
			true);
out_unlock:
	stw_control_unlock(c);
}

static struct stw_ticket *stw_ticket_new(struct stw_control *c,
					 enum stw_ticket_kind kind,
					 const struct stw_requester *who,
					 u32 timeout_ms)
{
	struct stw_ticket *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	t->done = stw_event_new(STW_EV_DONE);
	if (!t->done) {
		kfree(t);
		return NULL;
	}
	t->done->world = c->world;
	t->ctl = c;
	t->kind = kind;
	t->who = *who;
	t->timeout_ms = timeout_ms;
	INIT_DELAYED_WORK(&t->timeout, stw_ticket_timeout);
	return t;
}

/**
 * stw_control_stop() - take a stop hold for a netlink requester
 * @w: the world to stop
 * @req: timeout, lease, keep
 * @who: the requesting socket: the hold's owner unless leased, and where
 *	the outcome goes
 * @res: what the reply says
 * @ticket: set to the request's ticket, for stw_control_commit()
 * @extack: why it failed
 *
 * Returns at once: if the world has not stopped yet (@res->pending), the
 * outcome is posted as STW_EV_DONE once the reply went out.
 *
 * Context: process context; may sleep on the control and world locks.
 * Return: 0, -ESHUTDOWN, -ENOSPC (STW_MAX_HOLDS holds) or -ENOMEM.
 */
int stw_control_stop(struct stw_world *w, const struct stw_stop_req *req,
		     const struct stw_requester *who,
		     struct stw_cycle_res *res, struct stw_ticket **ticket,
		     struct netlink_ext_ack *extack)
{
	struct stw_control *c = w->ctl;
	enum stw_hold_kind kind = req->lease_ms ? STW_HOLD_LEASE :
				  STW_HOLD_SOCKET;
	struct stw_hold *hold;
	struct stw_ticket *t;

	memset(res, 0, sizeof(*res));
	t = stw_ticket_new(c, STW_TICKET_STOP, who, req->timeout_ms);
	if (!t) {
		NL_SET_ERR_MSG_MOD(extack, "no memory for a stop request");
		return -ENOMEM;
	}
	stw_control_lock(c);
	hold = stw_control_begin_stop(c, kind, who->portid, req->lease_ms, res,
				      extack);
	stw_control_unlock(c);
	if (IS_ERR(hold)) {
		stw_ticket_free(t);
		return PTR_ERR(hold);
	}
	t->generation = res->generation;
	t->hold_id = res->hold_id;
	t->keep = req->keep;
	t->at_once = res->has_tts;
	res->pending = !res->has_tts;
	*ticket = t;
	return 0;
}

/**
 * stw_control_step() - let one parked VM run a step, for netlink
 * @w: the stopped world
 * @vm_id: the target
 * @polls: polls it may pass
 * @timeout_ms: when to tell the requester the step did not end
 * @who: where the outcome goes
 * @res: what the reply says
 * @ticket: set to the request's ticket, for stw_control_commit()
 * @extack: why it failed
 *
 * Refused while another module holds the world: it was promised that every
 * VM stays parked until it resumes.
 *
 * Context: process context; may sleep on the control and world locks.
 * Return: 0, -EBUSY, -ENOENT, -ESHUTDOWN or -ENOMEM.
 */
int stw_control_step(struct stw_world *w, u32 vm_id, u32 polls,
		     u32 timeout_ms, const struct stw_requester *who,
		     struct stw_cycle_res *res, struct stw_ticket **ticket,
		     struct netlink_ext_ack *extack)
{
	struct stw_control *c = w->ctl;
	struct stw_ticket *t;
	struct stw_vm *vm;
	int ret;

	memset(res, 0, sizeof(*res));
	t = stw_ticket_new(c, STW_TICKET_STEP, who, timeout_ms);
	if (!t) {
		NL_SET_ERR_MSG_MOD(extack, "no memory for a step request");
		return -ENOMEM;
	}
	t->vm_id = vm_id;
	stw_control_lock(c);
	ret = -ESHUTDOWN;
	if (c->shutting_down) {
		NL_SET_ERR_MSG_MOD(extack, STW_GOING_AWAY);
		goto err_unlock_ctl;
	}
	ret = -EBUSY;
	if (c->nr_kernel_holds) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a kernel module holds the world stopped; no step until it resumes");
		goto err_unlock_ctl;
	}
	stw_world_lock(w);
	vm = xa_load(&w->vms, vm_id);
	if (w->mode != STW_STOPPED) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the world is not stopped; stop it first");
		goto err_unlock_world;
	}
	ret = -ENOENT;
	if (!vm) {
		NL_SET_ERR_MSG_MOD(extack, "no such VM");
		goto err_unlock_world;
	}
	ret = -EBUSY;
	if (!READ_ONCE(vm->parked)) {
		NL_SET_ERR_MSG_MOD(extack, "the VM has not parked yet");
		goto err_unlock_world;
	}
	t->step_seq = stw_world_step(w, vm, polls);
	res->generation = w->generation;
	stw_world_unlock(w);
	res->holds = c->nr_holds;
	res->pending = true;
	stw_control_unlock(c);
	*ticket = t;
	return 0;

err_unlock_world:
	stw_world_unlock(w);
err_unlock_ctl:
	stw_control_unlock(c);
	stw_ticket_free(t);
	return ret;
}

/**
 * stw_control_commit() - the reply of a STOP or RUN_ONE went out, or not
 * @t: the request's ticket
 * @delivered: the reply reached the requester
 *
 * Delivered, an outcome still to come is awaited from now on (the timeout
 * runs from here). Not delivered, a STOP's hold is dropped: nobody knows of
 * it; a step goes on, as nothing can be undone of it.
 *
 * Context: process context; may sleep.
 */
void stw_control_commit(struct stw_ticket *t, bool delivered)
{
	struct stw_control *c = t->ctl;
	struct stw_hold *hold;

	stw_control_lock(c);
	if (t->kind == STW_TICKET_STOP && (!delivered || t->at_once)) {
		hold = stw_hold_find(c, t->hold_id);
		if (!delivered && hold)
			stw_hold_drop(c, hold);
		stw_control_settle(c);
		stw_ticket_free(t);
	} else if (!delivered) {
		stw_ticket_free(t);
	} else {
		list_add_tail(&t->node, &c->tickets);
		queue_delayed_work(stw_control_wq, &t->timeout,
				   msecs_to_jiffies(t->timeout_ms));
		stw_ticket_settle(t, false);
	}
	stw_control_unlock(c);
}

/* Drop the holds of a socket, and the leased ones if @leased_too. */
static unsigned int stw_hold_drop_owned(struct stw_control *c, u32 portid,
					bool leased_too)
{
	struct stw_hold *hold;
	unsigned long id;
	unsigned int n = 0;

	lockdep_assert_held(&c->lock);
	xa_for_each(&c->holds, id, hold) {
		if ((hold->kind == STW_HOLD_SOCKET && hold->portid == portid) ||
		    (hold->kind == STW_HOLD_LEASE && leased_too)) {
			stw_hold_drop(c, hold);
			n++;
		}
	}
	return n;
}

/* Every hold but the kernel's: they are promised until they resume. */
static unsigned int stw_hold_drop_users(struct stw_control *c)
{
	struct stw_hold *hold;
	unsigned long id;
	unsigned int n = 0;

	lockdep_assert_held(&c->lock);
	xa_for_each(&c->holds, id, hold) {
		if (hold->kind != STW_HOLD_KERNEL) {
			stw_hold_drop(c, hold);
			n++;
		}
	}
	return n;
}

/**
 * stw_control_resume() - release stop holds for a netlink requester
 * @w: the world whose holds these are
 * @hold_id: release this one only, if not 0
 * @force: release every hold but those of kernel modules
 * @portid: else, release this socket's holds and the leased ones
 * @res: generation, holds left, resumed
 * @extack: why it failed
 *
 * Context: process context; may sleep on the control and world locks.
 * Return: 0; -ENOENT (no such hold, or one of a kernel module) or
 * -EALREADY (nothing to release).
 */
int stw_control_resume(struct stw_world *w, u32 hold_id, bool force,
		       u32 portid, struct stw_cycle_res *res,
		       struct netlink_ext_ack *extack)
{
	struct stw_control *c = w->ctl;
	struct stw_hold *hold;
	unsigned int n = 0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	stw_control_lock(c);
	if (hold_id) {
		hold = stw_hold_find(c, hold_id);
		if (!hold) {
			NL_SET_ERR_MSG_MOD(extack, "no such hold");
			ret = -ENOENT;
		} else if (hold->kind == STW_HOLD_KERNEL) {
			NL_SET_ERR_MSG_MOD(extack,
					   "that hold belongs to a kernel module");
			ret = -ENOENT;
		} else {
			stw_hold_drop(c, hold);
			n = 1;
		}
	} else if (force) {
		n = stw_hold_drop_users(c);
	} else {
		n = stw_hold_drop_owned(c, portid, true);
	}
	if (!ret && !n) {
		if (c->nr_kernel_holds)
			NL_SET_ERR_MSG_MOD(extack,
					   "the holds left belong to kernel modules");
		else if (c->nr_holds)
			NL_SET_ERR_MSG_MOD(extack,
					   "the holds left belong to other controllers; use force");
		else
			NL_SET_ERR_MSG_MOD(extack,
					   "nothing to resume: no stop hold");
		ret = -EALREADY;
	}
	stw_control_settle(c);
	res->holds = c->nr_holds;
	res->generation = READ_ONCE(w->generation);
	res->resumed = READ_ONCE(w->mode) == STW_RUN_ALL;
	stw_control_unlock(c);
	return ret;
}

/**
 * stw_control_nr_vms() - how many VMs a world has, as a sample
 * @w: the world
 *
 * For a request's early check; the world's own limit is the one enforced.
 *
 * Context: any; takes no lock.
 * Return: the VMs in the world and being created.
 */
u32 stw_control_nr_vms(struct stw_world *w)
{
	return READ_ONCE(w->nr_vms);
}

/**
 * stw_control_status() - a world as STATUS shows it
 * @w: the world
 * @st: filled in
 *
 * Context: process context; takes the world lock for a copy, O(1).
 */
void stw_control_status(struct stw_world *w, struct stw_status *st)
{
	struct stw_control *c = w->ctl;

	stw_world_lock(w);
	stw_world_snapshot(w, &st->w);
	stw_world_unlock(w);
	/* Written under the control lock, read as samples. */
	st->holds = READ_ONCE(c->nr_holds);
	st->kernel_holds = READ_ONCE(c->nr_kernel_holds);
	st->event_seq = stw_event_last_seq();
}

/**
 * stw_control_change_seq() - what a STATUS dump checks for consistency
 * @w: the world dumped
 *
 * Context: any.
 * Return: a number that moves with every mode change and VM added or gone.
 */
u64 stw_control_change_seq(struct stw_world *w)
{
	return READ_ONCE(w->change_seq);
}

/**
 * stw_control_vm_next() - the next VM from an id on, for a STATUS dump
 * @w: the world dumped
 * @id: where to look from; set to the VM's id
 * @snap: filled in
 *
 * Context: any; takes no lock: a dump never slows the VMs' stop points.
 * Return: false if there is none.
 */
bool stw_control_vm_next(struct stw_world *w, unsigned long *id,
			 struct stw_vm_snap *snap)
{
	return stw_world_vm_next(w, id, snap);
}

/**
 * stw_stop_world() - stop a world from the kernel and hold it stopped
 * @w: the world, from stw_world_create()
 * @timeout_ms: how long to wait for every VM to park
 * @info: filled with the cycle's generation and time to stop
 *
 * Once it returns a hold, every VM stays parked until stw_resume_world():
 * no step runs (RUN_ONE requests are refused while a kernel hold exists;
 * one that ran already is waited for), RESUME --force leaves the hold, and
 * a world whose VMs all go stays stopped (new VMs park at birth).
 *
 * Context: process context; sleeps until the world stops.
 * Return: the hold's id (> 0), to give to stw_resume_world(); or
 * -ETIMEDOUT (the stop was rolled back), -ESHUTDOWN, -ENOSPC, -ENOMEM.
 */
int stw_stop_world(struct stw_world *w, unsigned int timeout_ms,
		   struct stw_stop_info *info)
{
	struct stw_control *c = w->ctl;
	struct stw_cycle_res res;
	struct stw_hold *hold;
	u32 id;

	stw_control_lock(c);
	hold = stw_control_begin_stop(c, STW_HOLD_KERNEL, 0, 0, &res, NULL);
	stw_control_unlock(c);
	if (IS_ERR(hold))
		return PTR_ERR(hold);
	id = res.hold_id;

	wait_event_timeout(w->wq,
			   stw_world_stopped(w, res.generation) ||
			   READ_ONCE(w->shutting_down),
			   msecs_to_jiffies(timeout_ms));
	/*
	 * Stopped, and only stw_resume_world() drops a kernel hold: no need
	 * for the control lock, which the event worker may hold right now
	 * (preempted among the busy VMs that just parked: the others).
	 */
	if (stw_world_stopped(w, res.generation))
		goto out;

	stw_control_lock(c);
	if (!stw_world_stopped(w, res.generation)) {
		/*
		 * Not stopped in time: roll back (the TIMEOUT names the
		 * laggards); or it stopped, but a step that began before our
		 * hold is still running, and we promised a parked world.
		 */
		if (!stw_control_time_out(c, res.generation, id, false,
					  timeout_ms, NULL)) {
			hold = stw_hold_find(c, id);
			if (hold && !stw_world_stopped(w, res.generation))
				stw_hold_drop(c, hold);
		}
		if (!stw_world_stopped(w, res.generation) ||
		    !stw_hold_find(c, id)) {
			stw_control_settle(c);
			stw_control_unlock(c);
			return -ETIMEDOUT;
		}
	}
	stw_control_unlock(c);
out:
	info->world = w;
	info->generation = res.generation;
	info->tts_ns = READ_ONCE(w->last_tts_ns);
	info->step_vm = 0;
	return id;
}
EXPORT_SYMBOL_GPL(stw_stop_world);

/**
 * stw_step_vm() - let one VM run a step while the caller holds the world
 * @hold_id: the caller's hold, from stw_stop_world(); the only kernel hold
 * @vm: a VM of the caller's, parked
 * @polls: polls it may pass before it parks again
 * @timeout_ms: how long to wait for the step to end
 *
 * Context: process context; sleeps until the step ends.
 * Return: 0 with @vm parked again; -ETIMEDOUT (the step goes on: the world
 * stays RUN_ONE until it ends), -ENOENT (no such kernel hold), -EBUSY
 * (another kernel hold, the world not STOPPED or @vm not parked).
 */
int stw_step_vm(int hold_id, struct stw_vm *vm, u32 polls,
		unsigned int timeout_ms)
{
	struct stw_control *c;
	struct stw_hold *hold;
	struct stw_world *w;
	u64 seq;

	if (polls < 1 || hold_id <= 0)
		return -EINVAL;
	/* The VM's own world: the hold must be one of that world's. */
	w = vm->world;
	c = w->ctl;
	stw_control_lock(c);
	hold = stw_hold_find(c, hold_id);
	if (!hold || hold->kind != STW_HOLD_KERNEL) {
		stw_control_unlock(c);
		return -ENOENT;
	}
	stw_world_lock(w);
	if (c->nr_kernel_holds != 1 || w->mode != STW_STOPPED ||
	    vm->dying || !READ_ONCE(vm->parked)) {
		stw_world_unlock(w);
		stw_control_unlock(c);
		return -EBUSY;
	}
	seq = stw_world_step(w, vm, polls);
	stw_world_unlock(w);
	stw_control_unlock(c);

	if (!wait_event_timeout(w->wq, stw_world_step_ended(w, seq),
				msecs_to_jiffies(timeout_ms)))
		return -ETIMEDOUT;
	return 0;
}
EXPORT_SYMBOL_GPL(stw_step_vm);

/**
 * stw_resume_world() - drop a hold taken with stw_stop_world()
 * @w: the world it holds
 * @hold_id: what stw_stop_world() returned
 *
 * The world resumes if that was the last hold.
 *
 * Context: process context; may sleep.
 * Return: 0, or -ENOENT if there is no such kernel hold.
 */
int stw_resume_world(struct stw_world *w, int hold_id)
{
	struct stw_control *c = w->ctl;
	struct stw_hold *hold;
	int ret = -ENOENT;

	if (hold_id <= 0)
		return -ENOENT;
	stw_control_lock(c);
	hold = stw_hold_find(c, hold_id);
	if (hold && hold->kind == STW_HOLD_KERNEL) {
		stw_hold_drop(c, hold);
		stw_control_settle(c);
		ret = 0;
	}
	stw_control_unlock(c);
	return ret;
}
EXPORT_SYMBOL_GPL(stw_resume_world);

static void stw_hold_lease_work(struct work_struct *work)
{
	struct stw_control *c = container_of(to_delayed_work(work),
					     struct stw_control, lease_work);
	struct stw_world *w = c->world;
	unsigned long next = 0;
	struct stw_hold *hold;
	struct stw_event *ev;
	bool rearm = false;
	unsigned long id;

	stw_control_lock(c);
	xa_for_each(&c->holds, id, hold) {
		if (hold->kind != STW_HOLD_LEASE)
			continue;
		if (time_after_eq(jiffies, hold->expires)) {
			pr_info("hold %u: lease expired, released\n", hold->id);
			trace_stw_lease_expired(hold->id, hold->kind,
						c->nr_holds - 1);
			ev = stw_event_new(STW_EV_LEASE_EXPIRED);
			if (ev) {
				ev->world = w;
				ev->hold_id = hold->id;
				ev->generation = READ_ONCE(w->generation);
				stw_event_post(ev);
			} else {
				stw_event_lost();
			}
			stw_hold_drop(c, hold);
		} else if (!rearm || time_before(hold->expires, next)) {
			next = hold->expires;
			rearm = true;
		}
	}
	if (rearm)
		mod_delayed_work(stw_control_wq, &c->lease_work,
				 time_after(next, jiffies) ? next - jiffies : 0);
	stw_control_settle(c);
	stw_control_unlock(c);
}

/*
 * A controller's socket is gone: so are its holds (race 8), in every world.
 * Every generic netlink socket closed on the machine comes here: with no
 * socket-bound hold in any world, it returns without a lock.
 */
static int stw_control_netlink_event(struct notifier_block *nb,
				     unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct stw_world_obj *o;
	struct stw_control *c;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net) || !n->portid ||
	    !atomic_read(&stw_nr_socket_holds) || stw_mutant(8))
		return NOTIFY_DONE;
	/* Each world's controller in turn. */
	mutex_lock(&stw_worlds_lock);
	list_for_each_entry(o, &stw_worlds, node) {
		c = &o->ctl;
		stw_control_lock(c);
		if (c->nr_socket_holds &&
		    stw_hold_drop_owned(c, n->portid, false))
			stw_control_settle(c);
		stw_control_unlock(c);
	}
	mutex_unlock(&stw_worlds_lock);
	return NOTIFY_DONE;
}

static struct notifier_block stw_control_netlink_nb = {
	.notifier_call = stw_control_netlink_event,
};

/*
 * A world stopped or resumed: some of its tickets may know their outcome.
 * Only the world's own events come here (stw_world_post()), so @ev->world
 * is set.
 */
static int stw_control_world_event(struct notifier_block *nb,
				   unsigned long type, void *data)
{
	struct stw_event *ev = data;
	struct stw_control *c;

	if (type != STW_EV_STOPPED && type != STW_EV_RESUMED)
		return NOTIFY_DONE;
	c = ev->world->ctl;
	stw_control_lock(c);
	stw_control_settle(c);
	stw_control_unlock(c);
	return NOTIFY_DONE;
}

static struct notifier_block stw_control_event_nb = {
	.notifier_call = stw_control_world_event,
};

/* Give world @w its controller @c: no hold, no ticket yet. */
static void stw_control_attach(struct stw_control *c, struct stw_world *w)
{
	mutex_init(&c->lock);
	c->world = w;
	xa_init_flags(&c->holds, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&c->tickets);
	c->next_hold_id = min_t(uint, first_hold_id, INT_MAX);
	INIT_DELAYED_WORK(&c->lease_work, stw_hold_lease_work);
	w->ctl = c;
}

/*
 * Drop the holds left on @c: its world is empty, its lease work cancelled,
 * and no request can come in any more. The world resumes, and its RESUMED
 * reaches this file's listener, which takes @c->lock: so the lock lives
 * on until stw_control_free(), after the events are delivered.
 */
static void stw_control_drop_holds(struct stw_control *c)
{
	struct stw_hold *hold;
	unsigned long id;

	stw_control_lock(c);
	xa_for_each(&c->holds, id, hold)
		stw_hold_drop(c, hold);
	stw_control_unlock(c);
}

/* Once no event about its world is left to deliver. */
static void stw_control_free(struct stw_control *c)
{
	xa_destroy(&c->holds);
	mutex_destroy(&c->lock);
}

/* No request comes in any more: tickets get ESHUTDOWN, waiters give up. */
static void stw_control_close(struct stw_control *c)
{
	struct stw_world *w = c->world;

	stw_control_lock(c);
	c->shutting_down = true;
	stw_world_lock(w);
	WRITE_ONCE(w->shutting_down, true);
	stw_world_unlock(w);
	stw_control_settle(c);
	stw_control_unlock(c);
	wake_up_all(&w->wq);
}

/**
 * __stw_world_create() - make a world for VMs to join
 * @name: its name, unique among worlds, 1 to STW_WORLD_NAME_LEN - 1 bytes
 * @owner: the module that makes it (stw_world_create() passes THIS_MODULE)
 *
 * The world runs (RUN_ALL), empty, until VMs join it with stw_vm_create()
 * and a controller stops it: with stw_stop_world(), or from user space by
 * its name. The maker destroys it with stw_world_destroy() before it goes.
 *
 * Context: process context; may sleep.
 * Return: the world, or an ERR_PTR(): -EINVAL (no name or too long),
 * -EEXIST, -ENOSPC (STW_MAX_WORLDS worlds), -ESHUTDOWN (stw unloads),
 * -ENOMEM.
 */
struct stw_world *__stw_world_create(const char *name, struct module *owner)
{
	struct stw_world_obj *o, *other;
	struct stw_world *w;
	int ret;

	if (!name || !*name || strnlen(name, STW_WORLD_NAME_LEN) ==
	    STW_WORLD_NAME_LEN)
		return ERR_PTR(-EINVAL);
	o = kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return ERR_PTR(-ENOMEM);
	w = &o->world;
	stw_world_init(w);
	strscpy(w->name, name, sizeof(w->name));
	strscpy(w->owner, owner ? module_name(owner) : "kernel",
		sizeof(w->owner));
	refcount_set(&o->users, 1);
	stw_control_attach(&o->ctl, w);

	mutex_lock(&stw_worlds_lock);
	ret = -ESHUTDOWN;
	if (stw_worlds_closed)
		goto err_unlock;
	ret = -ENOSPC;
	if (stw_nr_worlds >= STW_MAX_WORLDS)
		goto err_unlock;
	ret = -EEXIST;
	list_for_each_entry(other, &stw_worlds, node)
		if (!strcmp(other->world.name, w->name))
			goto err_unlock;
	list_add_tail(&o->node, &stw_worlds);
	stw_nr_worlds++;
	mutex_unlock(&stw_worlds_lock);
	return w;

err_unlock:
	mutex_unlock(&stw_worlds_lock);
	/* Never listed: nothing was posted about it. */
	stw_control_free(&o->ctl);
	stw_world_exit(w);
	kfree(o);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(__stw_world_create);

/**
 * stw_world_destroy() - unmake a world its maker is done with
 * @w: from stw_world_create()
 *
 * Refused while VMs are in it or kernel holds stand on it: those are its
 * maker's to destroy and to resume first. Holds of user-space controllers
 * go with the world, and their pending requests fail with ESHUTDOWN.
 *
 * Context: process context; may sleep; not from a stop notifier (it waits
 * for the events about @w to be delivered).
 * Return: 0, or -EBUSY (nothing was done; the kernel log says why).
 */
int stw_world_destroy(struct stw_world *w)
{
	struct stw_world_obj *o = stw_world_obj(w);
	struct stw_control *c = &o->ctl;
	u32 vms, kernel_holds;

	mutex_lock(&stw_worlds_lock);
	stw_control_lock(c);
	vms = READ_ONCE(w->nr_vms);
	kernel_holds = c->nr_kernel_holds;
	if (!vms && !kernel_holds) {
		list_del(&o->node);
		stw_nr_worlds--;
	}
	stw_control_unlock(c);
	mutex_unlock(&stw_worlds_lock);
	if (vms || kernel_holds) {
		pr_err("world %s not destroyed: %u VMs and %u kernel holds left in it\n",
		       w->name, vms, kernel_holds);
		return -EBUSY;
	}
	stw_control_close(c);
	/* Requests that found it by name before: none of them waits. */
	if (!refcount_dec_and_test(&o->users))
		wait_var_event(&o->users, !refcount_read(&o->users));
	cancel_delayed_work_sync(&c->lease_work);
	/* Timeout works of the tickets settled above. */
	flush_workqueue(stw_control_wq);
	stw_control_drop_holds(c);
	/*
	 * Its events (the RESUMED of the holds dropped above) point at it,
	 * and the controller's listener takes its lock: both must outlive
	 * their delivery.
	 */
	stw_event_flush();
	stw_control_free(c);
	stw_world_exit(w);
	kfree(o);
	return 0;
}
EXPORT_SYMBOL_GPL(stw_world_destroy);

/**
 * stw_world_name() - a world's name
 * @w: the world
 *
 * Context: any.
 * Return: its name, as long as it exists.
 */
const char *stw_world_name(const struct stw_world *w)
{
	return w->name;
}
EXPORT_SYMBOL_GPL(stw_world_name);

/**
 * stw_default_world() - the world every module may put VMs in
 *
 * The world named STW_WORLD_DEFAULT ("demo"), stw's own, like system_wq
 * among workqueues: for VMs that need no world of their own, and where the
 * demo VMs go unless a SPAWN names another. It exists while stw is loaded,
 * which a module that calls this keeps it. Controllers that stop it stop
 * every VM in it, whoever made them.
 *
 * Context: any.
 * Return: the world.
 */
struct stw_world *stw_default_world(void)
{
	return stw_default;
}
EXPORT_SYMBOL_GPL(stw_default_world);

/**
 * stw_control_world_get() - find a world by name, for a netlink request
 * @name: its name
 *
 * Context: process context; may sleep.
 * Return: the world, to give back with stw_control_world_put() before the
 * handler returns; or NULL if there is none by that name.
 */
struct stw_world *stw_control_world_get(const char *name)
{
	struct stw_world_obj *o;

	mutex_lock(&stw_worlds_lock);
	list_for_each_entry(o, &stw_worlds, node) {
		if (!strcmp(o->world.name, name)) {
			refcount_inc(&o->users);
			mutex_unlock(&stw_worlds_lock);
			return &o->world;
		}
	}
	mutex_unlock(&stw_worlds_lock);
	return NULL;
}

/**
 * stw_control_world_put() - give back a world from stw_control_world_get()
 * @w: the world
 *
 * Context: any.
 */
void stw_control_world_put(struct stw_world *w)
{
	struct stw_world_obj *o = stw_world_obj(w);

	/* The last one only while its destroy waits for it. */
	if (refcount_dec_and_test(&o->users))
		wake_up_var(&o->users);
}

/**
 * stw_control_world_status() - the @pos'th world, as STATUS shows it
 * @pos: which, from 0 in the order they were made; moved to the next
 * @st: filled in
 *
 * Context: process context; may sleep.
 * Return: false if there are no more.
 */
bool stw_control_world_status(unsigned long *pos, struct stw_status *st)
{
	struct stw_world_obj *o;
	unsigned long i = 0;

	mutex_lock(&stw_worlds_lock);
	list_for_each_entry(o, &stw_worlds, node) {
		if (i++ == *pos) {
			stw_control_status(&o->world, st);
			mutex_unlock(&stw_worlds_lock);
			(*pos)++;
			return true;
		}
	}
	mutex_unlock(&stw_worlds_lock);
	return false;
}

int __init stw_control_init(void)
{
	int ret;

	stw_control_wq = alloc_workqueue("stw_control", WQ_UNBOUND, 0);
	if (!stw_control_wq)
		return -ENOMEM;
	stw_default = stw_world_create(STW_WORLD_DEFAULT);
	if (IS_ERR(stw_default)) {
		ret = PTR_ERR(stw_default);
		goto err_destroy_wq;
	}
	ret = stw_event_listen(&stw_control_event_nb);
	if (ret)
		goto err_destroy_default;
	ret = netlink_register_notifier(&stw_control_netlink_nb);
	if (ret)
		goto err_unlisten;
	return 0;

err_unlisten:
	stw_event_unlisten(&stw_control_event_nb);
err_destroy_default:
	stw_world_destroy(stw_default);
err_destroy_wq:
	destroy_workqueue(stw_control_wq);
	return ret;
}

/*
 * The module is going: no world is made any more, requests fail, waiting
 * kernel callers give up, and every ticket gets its ESHUTDOWN.
 */
void stw_control_shutdown(void)
{
	struct stw_world_obj *o;

	mutex_lock(&stw_worlds_lock);
	stw_worlds_closed = true;
	list_for_each_entry(o, &stw_worlds, node)
		stw_control_close(&o->ctl);
	mutex_unlock(&stw_worlds_lock);
}

/*
 * Every VM is gone, and every other world was destroyed by its maker:
 * modules that made worlds depend on stw, so they went first.
 */
void stw_control_exit(void)
{
	netlink_unregister_notifier(&stw_control_netlink_nb);
	/* Empty, and no module is left to hold it. */
	WARN_ON(stw_world_destroy(stw_default));
	WARN_ON(!list_empty(&stw_worlds));
	stw_event_unlisten(&stw_control_event_nb);
	/* Timeout works of tickets settled above free their tickets. */
	drain_workqueue(stw_control_wq);
	destroy_workqueue(stw_control_wq);
}
