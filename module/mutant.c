// SPDX-License-Identifier: GPL-2.0
/*
 * The bugs the mutant builds put back (make check-mutants). Each mirrors
 * what JavaScriptCore's VMManager did before its fix, in stw's terms. Built
 * only with STW_MUTANT set; the bugs that are a changed condition (races 4,
 * 5, 7 and 8) stay in place, as stw_mutant(N) tests.
 */
#include <linux/slab.h>

#include "world.h"
#include "mutant.h"

struct stw_mutant_work {
	struct kthread_work work;
	struct stw_vm *vm;
};

static void stw_mutant_stop_work(struct kthread_work *work)
{
	struct stw_mutant_work *mw = container_of(work, struct stw_mutant_work,
						  work);

	stw_world_probe(mw->vm->world, STW_PROBE_STOP_WORK_ENTER, mw->vm);
	stw_vm_enter(mw->vm);
	stw_vm_exit(mw->vm);
	kfree(mw);
}

/*
 * Mutant 6: a fresh work item per dispatch, no "already dispatched" flag
 * (nor, in stw_world_arm(), the "armed in this cycle" one). Under the
 * VM's lock, maybe in the RCU walk: no sleeping allocation.
 */
bool stw_mutant_dispatch(struct stw_vm *vm, u64 epoch)
{
	struct stw_mutant_work *mw;

	if (!stw_mutant(6) || !vm->worker)
		return false;
	lockdep_assert_held(&vm->lock);
	mw = kzalloc(sizeof(*mw), GFP_ATOMIC);
	if (!mw)
		return false;
	if (vm->dispatch_epoch == epoch)
		stw_violation(vm->world, STW_INV_I4,
			      "vm %u %s: second stop work in epoch %llu",
			      vm->id, vm->name, epoch);
	vm->dispatch_epoch = epoch;
	mw->vm = vm;
	kthread_init_work(&mw->work, stw_mutant_stop_work);
	kthread_queue_work(vm->worker, &mw->work);
	return true;
}

/*
 * Mutant 1: like JSC before its fix, count entered VMs only (@w's active
 * count). The idle ones are left to count themselves when they park, as
 * VMs born late do. Returns false (count them all) but in that mutant.
 */
bool stw_mutant_count_entered(struct stw_world *w)
{
	struct stw_vm *vm;
	unsigned long id;
	u32 n = 0;

	if (!stw_mutant(1))
		return false;
	lockdep_assert_held(&w->lock);
	xa_for_each(&w->vms, id, vm) {
		if (READ_ONCE(vm->entered))
			n++;
		else
			vm->uncounted_gen = w->generation;
	}
	w->active = n;
	return true;
}

/* Mutant 1: the last VM marks every VM of @w stopped. */
void stw_mutant_mark_all_stopped(struct stw_world *w)
{
	struct stw_vm *vm;
	unsigned long id;

	if (!stw_mutant(1))
		return;
	lockdep_assert_held(&w->lock);
	xa_for_each(&w->vms, id, vm)
		WRITE_ONCE(vm->state, STW_VM_STOPPED);
}

/*
 * Mutant 3: the entry service counts the VM as arrived too, by the count
 * alone, with no claim of the VM's place in the cycle: its stop point
 * counts it a second time.
 */
void stw_mutant_count_at_entry(struct stw_vm *vm)
{
	atomic64_t *arrival = &vm->world->arrival;
	s64 v;

	if (!stw_mutant(3))
		return;
	v = atomic64_read(arrival);
	do {
		if (!(u32)v)
			return;
	} while (!atomic64_try_cmpxchg(arrival, &v, v - 1));
}

/*
 * Mutant 2: JSC's handleStopViaDispatch(): clear the trap, count by hand,
 * enter the stop point and uncount, instead of entering the VM.
 */
bool stw_mutant_stop_by_hand(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	if (!stw_mutant(2))
		return false;
	if (!test_and_clear_bit(STW_TRAP_ENTRY, &vm->trap))
		return true;
	stw_world_lock(w);
	w->active++;
	stw_world_unlock(w);
	/* The stop point itself, reached the way a poll reaches it. */
	stw_vm_trap(vm);
	stw_world_lock(w);
	if (w->mode != STW_RUN_ALL)
		w->active--;
	stw_world_unlock(w);
	return true;
}

/*
 * Mutant 10: a registered kthread's wait looks for a wake-up token, not at
 * the dispatch itself, and a dispatch sends the token only to a thread
 * that is already asleep on its queue. One that found no stop and is on
 * its way to sleep misses it, and sleeps through its stop.
 */
void stw_mutant_wake_sleeper(struct stw_vm *vm)
{
	/* The bug: no barrier, and nobody on the queue gets no token. */
	if (waitqueue_active(&vm->idle_wq)) {
		set_bit(STW_VM_MUTANT_WOKEN, &vm->flags);
		wake_up(&vm->idle_wq);
	}
}

bool stw_mutant_woken(struct stw_vm *vm)
{
	return test_and_clear_bit(STW_VM_MUTANT_WOKEN, &vm->flags);
}
