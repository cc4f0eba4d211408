// SPDX-License-Identifier: GPL-2.0
/*
 * The stop-the-world protocol (DESIGN.md sections 3 to 6).
 *
 * A controller asks for a stop under the world lock: the world moves from
 * RUN_ALL to STOPPING, every live VM is counted active and gets its trap
 * bits set, and every VM that is not entered gets a stop work item on its
 * own run loop. Each VM then reaches a stop point on its own thread: at a
 * poll, when it leaves its entry scope, or when it enters (the stop work
 * just enters and leaves). There, under the lock, it counts itself if it was
 * not counted yet, marks itself stopped and parks. The VM whose arrival makes
 * stopped == active moves the world to STOPPED. Resuming clears the trap
 * bits and the counted flags and releases every parked VM; each marks itself
 * running on its own thread.
 *
 * The races this layout designs out are numbered as in DESIGN.md section 5;
 * each guard below names the race it prevents.
 */
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "world.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

struct stw_world stw_world;

static BLOCKING_NOTIFIER_HEAD(stw_stop_chain);

enum stw_stop_at {
	STW_AT_ENTRY,
	STW_AT_POLL,
	STW_AT_EXIT,
};

void stw_violation(enum stw_invariant inv, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	atomic64_inc(&stw_world.violations[inv]);
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	WARN_ONCE(1, "stw: invariant I%d violated: %pV\n", inv + 1, &vaf);
	va_end(args);
}

static void stw_world_account_tts(u64 tts_ns)
{
	unsigned int bucket = tts_ns ? ilog2(tts_ns) : 0;

	lockdep_assert_held(&stw_world.lock);
	stw_world.cycles++;
	stw_world.last_tts_ns = tts_ns;
	stw_world.max_tts_ns = max(stw_world.max_tts_ns, tts_ns);
	stw_world.tts_hist[min_t(unsigned int, bucket,
				 STW_TTS_HIST_BUCKETS - 1)]++;
}

/*
 * I3: in STOPPED every counted VM says stopped and is parked. A VM born
 * after the cycle began is not counted until it parks at its first entry;
 * until then it must not have run at all.
 */
static void stw_world_check_stopped(void)
{
	struct stw_vm *vm;
	unsigned long id;

	lockdep_assert_held(&stw_world.lock);
	xa_for_each(&stw_world.vms, id, vm) {
		if (vm->counted ? !vm->parked || vm->state != STW_VM_STOPPED
				: vm->state != STW_VM_STARTING)
			stw_violation(STW_INV_I3,
				      "vm %u %s in STOPPED: counted %d parked %d state %d",
				      vm->id, vm->name, vm->counted, vm->parked,
				      vm->state);
	}
}

static void stw_world_reach_stopped(struct stw_report *rep)
{
	u64 tts = ktime_to_ns(ktime_sub(ktime_get(), stw_world.stop_start));

	lockdep_assert_held(&stw_world.lock);
	stw_world.mode = STW_STOPPED;
	stw_world.reached = stw_world.generation;
	stw_world_account_tts(tts);
	if (stw_mutant(1)) {
		struct stw_vm *vm;
		unsigned long id;

		/* Mutant 1: the last VM marks every VM stopped. */
		xa_for_each(&stw_world.vms, id, vm)
			vm->state = STW_VM_STOPPED;
	}
	stw_world_check_stopped();
	trace_stw_stopped(stw_world.generation, tts, 0);
	rep->stopped = true;
	rep->info.generation = stw_world.generation;
	rep->info.tts_ns = tts;
	rep->info.step_vm = 0;
	wake_up_all(&stw_world.wq);
}

/**
 * stw_world_maybe_stopped() - move to STOPPED if every counted VM parked
 * @rep: told to report the stop once the lock is dropped
 *
 * Context: world lock held.
 */
void stw_world_maybe_stopped(struct stw_report *rep)
{
	lockdep_assert_held(&stw_world.lock);
	if (stw_world.mode == STW_STOPPING &&
	    stw_world.stopped == stw_world.active)
		stw_world_reach_stopped(rep);
}

static void stw_world_end_step(struct stw_vm *vm, struct stw_report *rep)
{
	lockdep_assert_held(&stw_world.lock);
	stw_world.step_vm = NULL;
	stw_world.step_seq++;
	stw_world.mode = STW_STOPPED;
	stw_world_check_stopped();
	trace_stw_stopped(stw_world.generation, stw_world.last_tts_ns, vm->id);
	rep->stopped = true;
	rep->info.generation = stw_world.generation;
	rep->info.tts_ns = stw_world.last_tts_ns;
	rep->info.step_vm = vm->id;
	wake_up_all(&stw_world.wq);
}

/*
 * The bugs the mutant builds put back (make check-mutants). Each mirrors
 * what JavaScriptCore's VMManager did before its fix, in stw's terms.
 */
struct stw_mutant_work {
	struct kthread_work work;
	struct stw_vm *vm;
};

static void stw_mutant_stop_work(struct kthread_work *work)
{
	struct stw_mutant_work *mw = container_of(work, struct stw_mutant_work,
						  work);

	stw_probe(STW_PROBE_STOP_WORK_ENTER, mw->vm);
	stw_vm_enter(mw->vm);
	stw_vm_exit(mw->vm);
	kfree(mw);
}

/* Mutant 6: a fresh work item per dispatch, no "already dispatched" flag. */
static void stw_mutant_dispatch(struct stw_vm *vm)
{
	struct stw_mutant_work *mw = kzalloc(sizeof(*mw), GFP_KERNEL);

	if (!mw)
		return;
	if (vm->dispatch_epoch == stw_world.epoch)
		stw_violation(STW_INV_I4, "vm %u %s: second stop work in epoch %llu",
			      vm->id, vm->name, stw_world.epoch);
	vm->dispatch_epoch = stw_world.epoch;
	mw->vm = vm;
	kthread_init_work(&mw->work, stw_mutant_stop_work);
	kthread_queue_work(vm->worker, &mw->work);
	stw_probe(STW_PROBE_STOP_WORK_QUEUED, vm);
}

/* Mutant 3: count at the entry service, with no RUN_ALL guard. */
static void stw_mutant_count_at_entry(struct stw_vm *vm)
{
	mutex_lock(&stw_world.lock);
	if (!vm->counted) {
		vm->counted = true;
		stw_world.active++;
	}
	mutex_unlock(&stw_world.lock);
}

/**
 * stw_vm_dispatch_stop() - queue the stop work on an idle VM's run loop
 * @vm: a VM that is not entered, so it polls nothing
 *
 * Context: world lock held.
 */
void stw_vm_dispatch_stop(struct stw_vm *vm)
{
	lockdep_assert_held(&stw_world.lock);
	/*
	 * Race 6: one stop work per VM per epoch. The flag stays set until
	 * the work starts, so a request made while one is queued relies on
	 * the queued one instead of adding a second.
	 */
	if (stw_mutant(6)) {
		stw_mutant_dispatch(vm);
		return;
	}
	if (test_and_set_bit(STW_VM_DISPATCHED, &vm->flags))
		return;
	if (vm->dispatch_epoch == stw_world.epoch)
		stw_violation(STW_INV_I4, "vm %u %s: second stop work in epoch %llu",
			      vm->id, vm->name, stw_world.epoch);
	vm->dispatch_epoch = stw_world.epoch;
	kthread_queue_work(vm->worker, &vm->stop_work);
	stw_probe(STW_PROBE_STOP_WORK_QUEUED, vm);
}

/* Make one VM stop: trap bits for an entered VM, stop work for an idle one. */
static void stw_vm_arm(struct stw_vm *vm)
{
	lockdep_assert_held(&stw_world.lock);
	set_bit(STW_TRAP_ENTRY, &vm->trap);
	set_bit(STW_TRAP_NEED_STOP, &vm->trap);
	/*
	 * Pairs with the smp_mb() in stw_vm_enter() and stw_vm_exit(): either
	 * we see the VM entered and it meets the trap at its next poll or
	 * exit, or it sees the trap when it enters or after it left, or we
	 * see it idle and dispatch. Never none of them.
	 */
	smp_mb__after_atomic();
	if (!READ_ONCE(vm->entered))
		stw_vm_dispatch_stop(vm);
}

/**
 * stw_world_arm_new_vm() - make a VM born during a stop part of it
 * @vm: the new VM, not entered yet
 *
 * Born during STOPPING, it is counted and the stop waits for it; born later,
 * it counts itself when it parks at its first entry.
 *
 * Context: world lock held, world not RUN_ALL.
 */
void stw_world_arm_new_vm(struct stw_vm *vm)
{
	lockdep_assert_held(&stw_world.lock);
	if (stw_world.mode == STW_STOPPING) {
		vm->counted = true;
		stw_world.active++;
	}
	stw_vm_arm(vm);
}

/**
 * stw_world_begin_stop() - begin a stop cycle, or join the one in progress
 * @joined: set when a cycle was already in progress
 * @rep: told to report the stop if it completes at once (no VMs)
 *
 * Context: world lock held.
 * Return: the generation of the cycle.
 */
u64 stw_world_begin_stop(bool *joined, struct stw_report *rep)
{
	struct stw_vm *vm;
	unsigned long id;

	lockdep_assert_held(&stw_world.lock);
	*joined = stw_world.mode != STW_RUN_ALL;
	if (*joined)
		return stw_world.generation;

	if (stw_world.active != STW_ACTIVE_SENTINEL)
		stw_violation(STW_INV_I2, "active count %u in RUN_ALL",
			      stw_world.active);
	if (stw_world.generation < stw_world.reached)
		stw_violation(STW_INV_I5, "generation %llu behind %llu",
			      stw_world.generation, stw_world.reached);
	stw_world.generation++;
	stw_world.epoch++;
	stw_world.mode = STW_STOPPING;
	stw_world.active = 0;
	stw_world.stopped = 0;
	stw_world.stop_start = ktime_get();
	trace_stw_stop_begin(stw_world.generation, stw_world.nr_vms);

	/*
	 * Every live VM is counted here, entered or idle, so that STOPPED
	 * means every VM parked (I3), not just the ones that were running.
	 */
	xa_for_each(&stw_world.vms, id, vm) {
		/* Mutant 1: like JSC before its fix, count entered VMs only. */
		if (stw_mutant(1) && !READ_ONCE(vm->entered)) {
			stw_vm_arm(vm);
			continue;
		}
		if (vm->counted) {
			/* A stale flag (race 3) would make us skip it. */
			stw_violation(STW_INV_I2, "vm %u %s counted in RUN_ALL",
				      vm->id, vm->name);
		} else {
			vm->counted = true;
			stw_world.active++;
		}
		stw_vm_arm(vm);
	}
	stw_world_maybe_stopped(rep);
	return stw_world.generation;
}

/**
 * stw_world_resume() - release every VM and return to RUN_ALL
 * @rep: told to report the resume once the lock is dropped
 *
 * Context: world lock held.
 */
void stw_world_resume(struct stw_report *rep)
{
	struct stw_vm *vm;
	unsigned long id;

	lockdep_assert_held(&stw_world.lock);
	if (stw_world.mode == STW_RUN_ALL)
		return;

	stw_probe(STW_PROBE_RESUME_CLEAR, NULL);
	xa_for_each(&stw_world.vms, id, vm) {
		clear_bit(STW_TRAP_NEED_STOP, &vm->trap);
		clear_bit(STW_TRAP_ENTRY, &vm->trap);
		vm->counted = false;
		if (vm->parked) {
			vm->parked = false;
			wake_up(&vm->park_wq);
		}
	}
	stw_world.mode = STW_RUN_ALL;
	stw_world.active = STW_ACTIVE_SENTINEL;
	stw_world.stopped = 0;
	stw_world.step_vm = NULL;
	trace_stw_resumed(stw_world.generation);
	rep->resumed = true;
	rep->info.generation = stw_world.generation;
	wake_up_all(&stw_world.wq);
}

/**
 * stw_world_step() - let one parked VM run while the others stay parked
 * @vm: the target, parked
 * @polls: polls it may pass before it parks again
 *
 * Only the target is woken. Its trap bits stay set, so each of its polls
 * comes to the stop point, which spends the budget and ends the step.
 *
 * Context: world lock held, world STOPPED.
 * Return: the step sequence number the end of this step will move past.
 */
u64 stw_world_step(struct stw_vm *vm, u32 polls)
{
	lockdep_assert_held(&stw_world.lock);
	stw_world.mode = STW_RUN_ONE;
	stw_world.step_vm = vm;
	stw_world.epoch++;
	stw_world.stopped--;
	vm->step_budget = polls;
	vm->parked = false;
	wake_up(&vm->park_wq);
	return stw_world.step_seq;
}

/**
 * stw_world_vm_gone() - take a VM out of the world, during a stop or not
 * @vm: the VM, already marked dying and out of the VM table
 * @rep: told what to report once the lock is dropped
 *
 * A VM counted in this cycle is uncounted, so its going may complete the
 * stop; a RUN_ONE target going ends the step; the last VM going returns the
 * world to RUN_ALL.
 *
 * Context: world lock held.
 */
void stw_world_vm_gone(struct stw_vm *vm, struct stw_report *rep)
{
	lockdep_assert_held(&stw_world.lock);
	if (vm->counted && !stw_mutant(7)) {
		vm->counted = false;
		stw_world.active--;
		if (vm->parked)
			stw_world.stopped--;
	}
	if (vm->parked) {
		vm->parked = false;
		wake_up(&vm->park_wq);
	}
	if (stw_world.step_vm == vm)
		stw_world_end_step(vm, rep);
	else
		stw_world_maybe_stopped(rep);
	if (!stw_world.nr_vms && stw_world.mode != STW_RUN_ALL)
		stw_hold_drop_all(rep);
}

/*
 * The stop point: always on the VM's own thread. Returns true if the VM is
 * dying and its job should wind down.
 */
static bool stw_stop_point(struct stw_vm *vm, enum stw_stop_at at)
{
	struct stw_report rep = {};
	bool dying;

	stw_probe(STW_PROBE_STOP_POINT_LOCK, vm);
	mutex_lock(&stw_world.lock);
	/*
	 * Race 5: a VM that saw its trap before a resume cleared it arrives
	 * in RUN_ALL. Counting or parking it now would corrupt the counts of
	 * the next cycle; it has nothing to stop for.
	 */
	if ((stw_world.mode == STW_RUN_ALL && !stw_mutant(5)) || vm->dying) {
		dying = vm->dying;
		mutex_unlock(&stw_world.lock);
		return dying;
	}
	/*
	 * A step runs until its polls are spent or the VM goes idle, which
	 * is when its stop work enters. Leaving a job, or entering the next
	 * one already queued, does not end it.
	 */
	if (stw_world.step_vm == vm &&
	    ((at == STW_AT_POLL && --vm->step_budget) || at == STW_AT_EXIT ||
	     (at == STW_AT_ENTRY && !vm->in_stop_work))) {
		mutex_unlock(&stw_world.lock);
		return false;
	}

	stw_probe(STW_PROBE_BEFORE_COUNT, vm);
	/*
	 * Race 3: count defensively, here and only here. A VM that passed its
	 * unlocked entry check before a resume and a new request was counted
	 * by that request; one born after the request counts itself now.
	 */
	if (!vm->counted) {
		vm->counted = true;
		stw_world.active++;
	}
	stw_probe(STW_PROBE_AFTER_COUNT, vm);
	/*
	 * Races 1 and 4: a VM marks only itself stopped, and does it under
	 * the lock, so whoever sees the world STOPPED sees it stopped too.
	 */
	if (!stw_mutant(4))
		vm->state = STW_VM_STOPPED;
	vm->parked = true;
	vm->stops++;
	stw_world.stopped++;
	if (stw_world.stopped > stw_world.active)
		stw_violation(STW_INV_I1, "stopped %u > active %u at vm %u %s",
			      stw_world.stopped, stw_world.active, vm->id,
			      vm->name);
	if (stw_world.step_vm == vm) {
		stw_probe(STW_PROBE_STEP_LEAVE, vm);
		stw_world_end_step(vm, &rep);
	} else {
		vm->last_tts_ns = ktime_to_ns(ktime_sub(ktime_get(),
							stw_world.stop_start));
		if (stw_world.stopped == stw_world.active)
			stw_probe(STW_PROBE_REPORT_STOPPED, vm);
		stw_world_maybe_stopped(&rep);
	}
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);

	trace_stw_vm_park(vm->id, stw_world.generation);
	stw_probe(STW_PROBE_PARKING, vm);
	if (stw_mutant(4))	/* Mutant 4: marked stopped outside the lock. */
		WRITE_ONCE(vm->state, STW_VM_STOPPED);
	/* TASK_IDLE: a world held stopped for long is not a hung task. */
	wait_event_idle(vm->park_wq, !READ_ONCE(vm->parked));

	mutex_lock(&stw_world.lock);
	vm->state = STW_VM_RUNNING;
	dying = vm->dying;
	trace_stw_vm_release(vm->id, stw_world.generation);
	mutex_unlock(&stw_world.lock);
	return dying;
}

/**
 * stw_mutant_stop_by_hand() - mutant 2's hand-made idle stop
 * @vm: an idle VM, on its own thread
 *
 * Clears the trap, counts by hand, calls the stop point and uncounts, as
 * JSC's handleStopViaDispatch() did, instead of entering the VM.
 *
 * Context: the VM's own thread; may sleep.
 */
void stw_mutant_stop_by_hand(struct stw_vm *vm)
{
	if (!test_and_clear_bit(STW_TRAP_ENTRY, &vm->trap))
		return;
	mutex_lock(&stw_world.lock);
	stw_world.active++;
	mutex_unlock(&stw_world.lock);
	stw_stop_point(vm, STW_AT_ENTRY);
	mutex_lock(&stw_world.lock);
	if (stw_world.mode != STW_RUN_ALL)
		stw_world.active--;
	mutex_unlock(&stw_world.lock);
}

/**
 * stw_vm_trap() - the slow path of stw_vm_poll(): a stop is pending
 * @vm: the VM the caller runs on
 *
 * Context: the VM's own thread, entered; may sleep.
 * Return: true if the VM is being destroyed.
 */
bool stw_vm_trap(struct stw_vm *vm)
{
	return stw_stop_point(vm, STW_AT_POLL);
}
EXPORT_SYMBOL_GPL(stw_vm_trap);

/**
 * stw_vm_enter() - enter a VM's entry scope before running a job's work
 * @vm: the VM the caller runs on
 *
 * Entering is a stop point: a VM that enters while a stop is pending parks
 * here before it runs anything. Scopes nest.
 *
 * Context: the VM's own thread; may sleep.
 */
void stw_vm_enter(struct stw_vm *vm)
{
	if (vm->entered) {
		vm->entered++;
		return;
	}
	WRITE_ONCE(vm->entered, 1);
	smp_mb(); /* pairs with stw_vm_arm() */
	if (unlikely(test_bit(STW_TRAP_ENTRY, &vm->trap))) {
		/*
		 * Race 3 lives here: the check above is made without the
		 * world lock, so the world may resume before the stop point
		 * takes it. The stop point copes; nothing is counted here.
		 */
		stw_probe(STW_PROBE_ENTRY_CHECKED, vm);
		if (stw_mutant(3))
			stw_mutant_count_at_entry(vm);
		stw_stop_point(vm, STW_AT_ENTRY);
	}
}
EXPORT_SYMBOL_GPL(stw_vm_enter);

/**
 * stw_vm_exit() - leave a VM's entry scope
 * @vm: the VM the caller runs on
 *
 * Leaving is a stop point too. Once out, the VM polls nothing: a stop that
 * raced with leaving gets a stop work item queued on its own run loop, so
 * it parks through the entry path like any idle VM.
 *
 * Context: the VM's own thread, entered; may sleep.
 */
void stw_vm_exit(struct stw_vm *vm)
{
	if (WARN_ON_ONCE(!vm->entered))
		return;
	if (vm->entered > 1) {
		vm->entered--;
		return;
	}
	if (unlikely(test_bit(STW_TRAP_NEED_STOP, &vm->trap)))
		stw_stop_point(vm, STW_AT_EXIT);
	WRITE_ONCE(vm->entered, 0);
	smp_mb(); /* pairs with stw_vm_arm() */
	stw_probe(STW_PROBE_EXIT_IDLE, vm);
	if (unlikely(test_bit(STW_TRAP_NEED_STOP, &vm->trap))) {
		mutex_lock(&stw_world.lock);
		if (stw_world.mode != STW_RUN_ALL && !vm->dying &&
		    test_bit(STW_TRAP_NEED_STOP, &vm->trap))
			stw_vm_dispatch_stop(vm);
		mutex_unlock(&stw_world.lock);
	}
}
EXPORT_SYMBOL_GPL(stw_vm_exit);

/**
 * stw_world_report() - tell the world's watchers what a transition did
 * @rep: filled under the world lock
 *
 * Stop notifiers run here, on the thread that completed the stop, with the
 * world lock dropped; controllers may be looking at the world concurrently.
 *
 * Context: process context, world lock not held; may sleep.
 */
void stw_world_report(const struct stw_report *rep)
{
	if (rep->stopped) {
		blocking_notifier_call_chain(&stw_stop_chain, 0,
					     (void *)&rep->info);
		stw_event_stopped(&rep->info);
	}
	if (rep->resumed)
		stw_event_resumed(rep->info.generation);
}

/**
 * stw_register_stop_notifier() - be called each time the world stops
 * @nb: called with a struct stw_stop_info, after a stop cycle or a step
 *	reaches STOPPED, on the thread that completed it
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
 * Context: process context.
 * Return: 0, or -ENOENT if @nb was not registered.
 */
int stw_unregister_stop_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&stw_stop_chain, nb);
}
EXPORT_SYMBOL_GPL(stw_unregister_stop_notifier);

void stw_world_init(void)
{
	int i;

	mutex_init(&stw_world.lock);
	stw_world.mode = STW_RUN_ALL;
	stw_world.active = STW_ACTIVE_SENTINEL;
	xa_init_flags(&stw_world.vms, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&stw_world.holds);
	INIT_DELAYED_WORK(&stw_world.lease_work, stw_hold_lease_work);
	init_waitqueue_head(&stw_world.wq);
	for (i = 0; i < STW_INV_COUNT; i++)
		atomic64_set(&stw_world.violations[i], 0);
}

/* Called once every VM is gone and no request can come in any more. */
void stw_world_exit(void)
{
	struct stw_report rep = {};

	cancel_delayed_work_sync(&stw_world.lease_work);
	mutex_lock(&stw_world.lock);
	stw_hold_drop_all(&rep);
	WARN_ON(stw_world.nr_vms);
	mutex_unlock(&stw_world.lock);
	xa_destroy(&stw_world.vms);
	mutex_destroy(&stw_world.lock);
}
