// SPDX-License-Identifier: GPL-2.0
/*
 * The stop-the-world protocol (Documentation/design.md, "The protocol").
 *
 * A controller begins a stop under the world lock, in O(1): the world
 * moves from RUN_ALL to STOPPING and every VM in it is counted active (a
 * VM born before the cycle stops is counted when it is published; one born
 * later counts itself at its first stop point). It then drops the lock and
 * arms the VMs, walking them under RCU: each gets its trap bits set, and
 * one that is not entered gets a stop work item on its own run loop. VMs
 * reach their stop points while the walk goes on, each on its own thread:
 * at a poll, when it leaves its entry scope, or when it enters (the stop
 * work just enters and leaves). There it marks itself stopped and counts
 * itself arrived in one atomic word, without the lock, and parks. The
 * count starts one above the VMs counted, the walk's own share, so the
 * cycle cannot complete while the walk goes on. Whoever takes the count to
 * zero (the last VM, or the end of arming) takes the lock once, to move
 * the world to STOPPED. Resuming clears the trap bits and releases every
 * parked VM; each marks itself running on its own thread, without the
 * lock. What the lock-free count is not for (a step, a VM born after the
 * cycle stopped) goes through the lock, as the slow path.
 *
 * The races this layout designs out are numbered as in the design document;
 * each guard below names the race it prevents. The mutant builds put each
 * bug back (mutant.c, make check-mutants).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "world.h"
#include "mutant.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

enum stw_stop_at {
	STW_AT_ENTRY,
	STW_AT_POLL,
	STW_AT_EXIT,
};

void stw_violation(struct stw_world *w, enum stw_invariant inv,
		   const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	atomic64_inc(&w->violations[inv]);
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	WARN_ONCE(1, "stw: invariant I%d violated: %pV\n", inv + 1, &vaf);
	va_end(args);
}

/*
 * The arrival count (struct stw_world's @arrival): one 64-bit word, so
 * that a VM counts itself with one compare-and-exchange that checks the
 * cycle too.
 * Only the low 32 bits of the generation are kept: a VM would have to sleep
 * through 2^32 stop cycles between reading the count and counting for the
 * check to be fooled.
 */
#define STW_ARRIVAL(gen, left)	((s64)(((u64)(u32)(gen) << 32) | (u32)(left)))

static inline u32 stw_arrival_gen(s64 v)
{
	return (u64)v >> 32;
}

static inline u32 stw_arrival_left(s64 v)
{
	return (u32)v;
}

/*
 * Count one arrival in cycle @gen, @v holding what the caller last read.
 * Race 5: the compare-and-exchange fails if another cycle began, or if
 * none counts any more (the world resumed): a late arrival from one cycle
 * never takes a place of the next
 * (Documentation/litmus/late-arrival.litmus). Fully ordered when it
 * counts. Returns false if cycle @gen no longer counts; @v is then the
 * current count.
 */
static bool stw_world_count_arrival(struct stw_world *w, u32 gen, s64 *v)
{
	do {
		if (stw_arrival_gen(*v) != gen || !stw_arrival_left(*v))
			return false;
	} while (!atomic64_try_cmpxchg(&w->arrival, v, *v - 1));
	*v -= 1;
	return true;
}

/*
 * Race 3: a VM is counted once per cycle, and both its own arrival and its
 * destroy may try. Whichever moves @vm->arrived_gen to @gen first is the
 * one that counts. Fully ordered when it claims.
 */
static bool stw_vm_claim(struct stw_vm *vm, u32 gen)
{
	u32 seen = READ_ONCE(vm->arrived_gen);

	do {
		if (seen == gen)
			return false;
	} while (!try_cmpxchg(&vm->arrived_gen, &seen, gen));
	return true;
}

/* Under the world lock: one fewer to arrive (a VM gone, arming over). */
static void stw_world_uncount(struct stw_world *w)
{
	s64 v = atomic64_read(&w->arrival);

	lockdep_assert_held(&w->lock);
	if (!stw_world_count_arrival(w, lower_32_bits(w->generation), &v))
		stw_violation(w, STW_INV_I1, "nothing left to count in generation %llu",
			      w->generation);
}

/* Counted VMs parked now (what STATUS calls stopped). */
static u32 stw_world_nr_stopped(struct stw_world *w)
{
	lockdep_assert_held(&w->lock);
	if (w->mode != STW_STOPPING)
		return w->stopped;
	return w->active + w->arming -
	       stw_arrival_left(atomic64_read(&w->arrival));
}

/*
 * The one writer of the world's mode, after stop_machine's set_state().
 * Every legal move is listed; anything else is a bug in stw and is refused.
 */
static bool stw_world_set_mode(struct stw_world *w, enum stw_world_mode to)
{
	static const u8 legal[] = {
		[STW_RUN_ALL] = BIT(STW_STOPPING),
		/* stopped, or rolled back after a timeout */
		[STW_STOPPING] = BIT(STW_STOPPED) | BIT(STW_RUN_ALL),
		[STW_STOPPED] = BIT(STW_RUN_ONE) | BIT(STW_RUN_ALL),
		/* the step ended, or the world resumed during it */
		[STW_RUN_ONE] = BIT(STW_STOPPED) | BIT(STW_RUN_ALL),
	};
	enum stw_world_mode from = w->mode;

	lockdep_assert_held(&w->lock);
	if (WARN_ONCE(!(legal[from] & BIT(to)),
		      "stw: illegal world mode change %d -> %d\n", from, to))
		return false;
	/* Waiters and STATUS read it without the lock. */
	WRITE_ONCE(w->mode, to);
	WRITE_ONCE(w->change_seq, w->change_seq + 1);
	return true;
}

/* Tell the listeners; a lost event leaves a gap in the numbers. */
static void stw_world_post(struct stw_world *w, enum stw_event_type type,
			   struct stw_vm *vm)
{
	struct stw_event *ev = stw_event_new(type);

	lockdep_assert_held(&w->lock);
	if (!ev) {
		stw_event_lost();
		return;
	}
	ev->world = w;
	ev->generation = w->generation;
	if (type == STW_EV_STOPPED) {
		ev->tts_ns = w->last_tts_ns;
		ev->has_tts = true;
		ev->step_vm = vm ? vm->id : 0;
	} else if (vm) {
		stw_vm_snapshot(vm, &ev->vm);
		ev->has_vm = true;
	}
	stw_event_post(ev);
}

static void stw_world_account_tts(struct stw_world *w, u64 tts_ns)
{
	unsigned int bucket = tts_ns ? ilog2(tts_ns) : 0;

	lockdep_assert_held(&w->lock);
	w->cycles++;
	/* stw_stop_world() reads it without the lock, once STOPPED. */
	WRITE_ONCE(w->last_tts_ns, tts_ns);
	w->max_tts_ns = max(w->max_tts_ns, tts_ns);
	w->tts_hist[min_t(unsigned int, bucket,
				 STW_TTS_HIST_BUCKETS - 1)]++;
}

/*
 * I3: in STOPPED every counted VM says stopped and is parked. A VM born
 * after the cycle stopped is not counted until it parks at its first entry;
 * until then it must not have run at all.
 */
static void stw_world_check_stopped(struct stw_world *w)
{
	XA_STATE(xas, &w->vms, 0);
	enum stw_vm_state state;
	struct stw_vm *vm;
	bool counted;

	lockdep_assert_held(&w->lock);
	/* Node by node, as stw_world_resume() walks. */
	rcu_read_lock();
	xas_for_each(&xas, vm, ULONG_MAX) {
		if (xas_retry(&xas, vm))
			continue;
		/*
		 * A VM's id is its place, written once: any other id there
		 * means its memory was handed out again while it was in the
		 * world (a use after free), which no count would explain.
		 */
		if (vm->id != xas.xa_index)
			stw_violation(w, STW_INV_I3,
				      "place %lu holds vm %u %s: its memory was reused",
				      xas.xa_index, vm->id, vm->name);
		counted = stw_vm_counted(vm);
		/* A VM released by the last resume writes it without the lock. */
		state = READ_ONCE(vm->state);
		if (counted ? !READ_ONCE(vm->parked) || state != STW_VM_STOPPED
			    : state != STW_VM_STARTING)
			stw_violation(w, STW_INV_I3,
				      "vm %u %s in STOPPED: counted %d parked %d state %d (generation %llu, uncounted %llu, arrived %u, entered %u, stop work %d, dying %d)",
				      vm->id, vm->name, counted,
				      READ_ONCE(vm->parked), state, w->generation,
				      vm->uncounted_gen, READ_ONCE(vm->arrived_gen),
				      READ_ONCE(vm->entered),
				      READ_ONCE(vm->in_stop_work), vm->dying);
	}
	rcu_read_unlock();
}

/*
 * Times to stop come from local_clock(), not ktime_get(): every VM reads
 * the clock as it arrives, and ktime_get() reads the clocksource, which
 * on a machine without a stable TSC (many virtual machines) is the HPET
 * or the ACPI PM timer: a device read of a microsecond or more, per VM,
 * on the stop path. local_clock() stays on the CPU; read on two CPUs it
 * may disagree by a little, so a VM's time to stop is never below zero.
 */
static u64 stw_world_since_stop_start(struct stw_world *w)
{
	u64 start = READ_ONCE(w->stop_start);
	u64 now = local_clock();

	return now > start ? now - start : 0;
}

static void stw_world_reach_stopped(struct stw_world *w)
{
	u64 tts = stw_world_since_stop_start(w);

	lockdep_assert_held(&w->lock);
	stw_world_set_mode(w, STW_STOPPED);
	w->stopped = w->active;
	WRITE_ONCE(w->reached, w->generation);
	stw_world_account_tts(w, tts);
	stw_mutant_mark_all_stopped(w);
	trace_stw_stopped(w->generation, tts, 0);
	stw_world_post(w, STW_EV_STOPPED, NULL);
	wake_up_all(&w->wq);
	/* O(N): after the kernel waiters are on their way, not before. */
	stw_world_check_stopped(w);
}

/*
 * Move to STOPPED if nobody is left to arrive: the count holds the walk's
 * share while it arms. Whoever holds the lock and sees the count at zero
 * moves the world on; the others find it done.
 */
static void stw_world_maybe_stopped(struct stw_world *w)
{
	lockdep_assert_held(&w->lock);
	if (w->mode == STW_STOPPING &&
	    !stw_arrival_left(atomic64_read(&w->arrival)))
		stw_world_reach_stopped(w);
}

static void stw_world_end_step(struct stw_world *w, struct stw_vm *vm)
{
	lockdep_assert_held(&w->lock);
	WRITE_ONCE(w->step_vm, NULL);
	WRITE_ONCE(w->step_seq, w->step_seq + 1);
	stw_world_set_mode(w, STW_STOPPED);
	stw_world_check_stopped(w);
	trace_stw_stopped(w->generation, w->last_tts_ns, vm->id);
	stw_world_post(w, STW_EV_STOPPED, vm);
	wake_up_all(&w->wq);
}

/*
 * Queue the stop work on an idle VM's run loop: a VM that is not entered
 * polls nothing. From the arming walk (RCU alone: no sleeping, and the
 * caller says STW_PROBE_STOP_WORK_QUEUED once out of RCU), or under the
 * world lock. Returns true if a stop work was queued.
 */
static bool stw_world_dispatch_stop(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;
	/* Written under the world lock, which the walk does not hold. */
	u64 epoch = READ_ONCE(w->epoch);
	bool queued = false;

	spin_lock(&vm->lock);
	/* Its worker may be on its way out; a dying VM stops nowhere. */
	if (vm->dying)
		goto out_unlock;
	/*
	 * An attached thread that exited: its owner forgot stw_vm_detach().
	 * Its worker may be freed; the caller takes it out of the world.
	 */
	if (stw_vm_orphaned(vm)) {
		set_bit(STW_VM_ORPHANED, &vm->flags);
		WRITE_ONCE(w->orphans, true);
		goto out_unlock;
	}
	if (stw_mutant_dispatch(vm, epoch)) {
		queued = true;
		goto out_unlock;
	}
	/*
	 * Race 6: one stop work per VM per epoch (I4). One dispatched in
	 * this epoch already, queued or started, serves: every caller armed
	 * the VM first, so that work enters with the entry trap set and
	 * parks the VM. The flag alone does not say so once the work has
	 * started: the walk may see the VM idle just as it leaves its entry
	 * scope (a job, or a stop work of an earlier cycle) whose exit saw
	 * the trap and dispatched, and that work may start before the walk
	 * takes this lock.
	 */
	if (vm->dispatch_epoch == epoch)
		goto out_unlock;
	vm->dispatch_epoch = epoch;
	/*
	 * The flag stays set until the work starts: one queued in an earlier
	 * epoch and not started yet serves this one too.
	 */
	if (test_and_set_bit(STW_VM_DISPATCHED, &vm->flags))
		goto out_unlock;
	if (vm->worker)
		kthread_queue_work(vm->worker, &vm->stop_work);
	else if (stw_mutant(10))
		stw_mutant_wake_sleeper(vm);
	else
		wake_up(&vm->idle_wq);	/* its wait serves the stop */
	queued = true;
out_unlock:
	spin_unlock(&vm->lock);
	return queued;
}

/*
 * Make one VM stop: trap bits for an entered VM, stop work for an idle one.
 * Returns true if a stop work was queued. Context as for the dispatch.
 */
static bool stw_world_arm(struct stw_vm *vm)
{
	unsigned long was;

	/*
	 * Both trap bits and ARMED in one compare-and-exchange, fully
	 * ordered: the arrival count the cycle opened with is out before
	 * the trap. A VM that reads an older count all the same finds the
	 * cycle under the lock and arrives again (stw_stop_point_locked()).
	 * Setting them on a VM armed already changes nothing.
	 */
	was = set_mask_bits(&vm->trap, 0, BIT(STW_TRAP_ENTRY) |
			    BIT(STW_TRAP_NEED_STOP) | BIT(STW_TRAP_ARMED));
	/*
	 * Once per cycle: a VM born during the walk is armed at birth and
	 * may be met by the walk too; arming it again could queue a second
	 * stop work in the epoch (race 6, I4) once the first has started.
	 */
	if ((was & BIT(STW_TRAP_ARMED)) && !stw_mutant(6))
		return false;
	/*
	 * The trap, then entered: the compare-and-exchange above, fully
	 * ordered even when it changed nothing, pairs with the smp_mb() in
	 * stw_vm_enter() and stw_vm_exit(). Either we see the VM entered and
	 * it meets the trap at its next poll or exit, or it sees the trap
	 * when it enters or after it left, or we see it idle and dispatch.
	 * Never none of them: the litmus tests
	 * Documentation/litmus/enter-vs-arm.litmus and
	 * Documentation/litmus/exit-vs-arm.litmus state both halves.
	 */
	return !READ_ONCE(vm->entered) && stw_world_dispatch_stop(vm);
}

/*
 * Arm every VM, without the world lock: the VMs reach their stop points
 * (and take the lock there) while the walk goes on. RCU keeps each VM's
 * memory while the walk looks at it; a VM that leaves meanwhile is dying
 * and gets no stop work (its own lock says so).
 *
 * The walk is the stop's one O(N) part before the VMs can all be parked,
 * so it goes through the xarray's nodes in order (xas_for_each(), not a
 * lookup from the root per VM as xa_for_each() does) and stays in RCU.
 * It leaves RCU only to report a stop work queued while the probes are
 * armed (a probe point may park) and to reschedule when asked to.
 */
static void stw_world_arm_all(struct stw_world *w, u64 generation)
{
	XA_STATE(xas, &w->vms, 0);
	struct stw_vm *vm;
	unsigned long id;
	bool queued;

	rcu_read_lock();
	xas_for_each(&xas, vm, ULONG_MAX) {
		if (xas_retry(&xas, vm))
			continue;
		queued = stw_world_arm(vm);
		if (!(queued && stw_probe_armed()) && !need_resched())
			continue;
		id = xas.xa_index;	/* the pause moves it on */
		xas_pause(&xas);
		rcu_read_unlock();
		if (queued)
			stw_probe_id(STW_PROBE_STOP_WORK_QUEUED, id, generation);
		cond_resched();
		rcu_read_lock();
	}
	rcu_read_unlock();
}

/* Under the world lock: arm, and say when a stop work was queued. */
static void stw_world_arm_locked(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	lockdep_assert_held(&w->lock);
	if (stw_world_arm(vm))
		stw_world_probe(w, STW_PROBE_STOP_WORK_QUEUED, vm);
}

/* In STOPPING: count one VM more, unless the count reached zero. */
static bool stw_world_count_birth(struct stw_world *w)
{
	s64 v = atomic64_read(&w->arrival);

	lockdep_assert_held(&w->lock);
	do {
		if (!stw_arrival_left(v))
			return false;
	} while (!atomic64_try_cmpxchg(&w->arrival, &v, v + 1));
	w->active++;
	return true;
}

/* RUN_ALL -> STOPPING, in O(1): every VM in the world counts. */
static u64 stw_world_open_cycle(struct stw_world *w)
{
	lockdep_assert_held(&w->lock);
	if (w->active != STW_ACTIVE_SENTINEL)
		stw_violation(w, STW_INV_I2, "active count %u in RUN_ALL",
			      w->active);
	if (w->generation < w->reached)
		stw_violation(w, STW_INV_I5, "generation %llu behind %llu",
			      w->generation, w->reached);
	WRITE_ONCE(w->generation, w->generation + 1);
	WRITE_ONCE(w->epoch, w->epoch + 1);
	stw_world_set_mode(w, STW_STOPPING);
	/*
	 * Every VM is counted, entered or idle, so that STOPPED means every
	 * VM parked (I3), not just the ones that were running. Arrivals
	 * cannot complete the cycle before the arming walk is over.
	 */
	if (!stw_mutant_count_entered(w))
		w->active = w->nr_live;
	w->stopped = 0;
	w->arming = true;
	/* One more than counted: the walk's share, given up when it ends. */
	atomic64_set(&w->arrival,
		     STW_ARRIVAL(w->generation, w->active + 1));
	/* Arrivals read it without the lock, for their time to stop. */
	WRITE_ONCE(w->stop_start, local_clock());
	trace_stw_stop_begin(w->generation, w->nr_vms);
	return w->generation;
}

static void stw_world_reap_orphans(struct stw_world *w);

/**
 * stw_world_begin_stop() - begin a stop cycle, or join the one in progress
 * @w: the world to stop
 * @joined: set when a cycle was already in progress
 *
 * The world lock is held only to open the cycle and to close arming; the
 * VMs are armed without it. The caller must keep every other controller
 * out meanwhile (control.c's lock): nothing but the VMs themselves moves
 * the world while it arms.
 *
 * Context: process context, the controller's lock held, not the world
 * lock; may sleep.
 * Return: the generation of the cycle.
 */
u64 stw_world_begin_stop(struct stw_world *w, bool *joined)
{
	u64 generation;

	stw_world_lock(w);
	*joined = w->mode != STW_RUN_ALL;
	generation = *joined ? w->generation : stw_world_open_cycle(w);
	stw_world_unlock(w);
	if (*joined)
		return generation;

	stw_world_arm_all(w, generation);

	stw_world_lock(w);
	if (READ_ONCE(w->orphans))
		stw_world_reap_orphans(w);
	w->arming = false;
	stw_world_uncount(w);
	stw_world_maybe_stopped(w);
	stw_world_unlock(w);
	stw_probe(STW_PROBE_ARMED, NULL, generation);
	return generation;
}

/*
 * Let a parked VM go. It reads what was written before this (dying)
 * without the world lock once it sees parked cleared: the release here
 * pairs with the acquire in stw_stop_point()'s wait
 * (Documentation/litmus/release-vs-wait.litmus).
 */
static void stw_vm_release(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	lockdep_assert_held(&w->lock);
	/* Pairs with the smp_load_acquire() of the parked VM's wait. */
	smp_store_release(&vm->parked, false);
	wake_up(&vm->park_wq);
}

/**
 * stw_world_resume() - release every VM and return to RUN_ALL
 * @w: the world
 *
 * Also the rollback of a stop that timed out (from STOPPING).
 *
 * Context: world lock held.
 */
void stw_world_resume(struct stw_world *w)
{
	XA_STATE(xas, &w->vms, 0);
	struct stw_vm *vm;

	lockdep_assert_held(&w->lock);
	if (w->mode == STW_RUN_ALL)
		return;

	stw_world_probe(w, STW_PROBE_RESUME_CLEAR, NULL);
	/* Nobody is left to count: a late arrival finds no place. */
	atomic64_set(&w->arrival, STW_ARRIVAL(w->generation, 0));
	/*
	 * Close the count, then look at who parked. Pairs with the arrival,
	 * which marks itself parked and then counts (fully ordered): either
	 * it counted before the count closed and we see it parked, or its
	 * count fails and it does not park
	 * (Documentation/litmus/resume-vs-arrival.litmus).
	 */
	smp_mb();
	/*
	 * In the xarray's order, node by node, like the arming walk. The
	 * lock keeps the VMs in place; RCU is what the xarray asks of a
	 * walk that does not take its own lock.
	 */
	rcu_read_lock();
	xas_for_each(&xas, vm, ULONG_MAX) {
		if (xas_retry(&xas, vm))
			continue;
		set_mask_bits(&vm->trap, BIT(STW_TRAP_NEED_STOP) |
			      BIT(STW_TRAP_ENTRY) | BIT(STW_TRAP_ARMED), 0);
		if (READ_ONCE(vm->parked))
			stw_vm_release(vm);
	}
	rcu_read_unlock();
	stw_world_set_mode(w, STW_RUN_ALL);
	w->active = STW_ACTIVE_SENTINEL;
	w->stopped = 0;
	WRITE_ONCE(w->step_vm, NULL);
	trace_stw_resumed(w->generation);
	stw_world_post(w, STW_EV_RESUMED, NULL);
	wake_up_all(&w->wq);
}

/**
 * stw_world_step() - let one parked VM run while the others stay parked
 * @w: the world, STOPPED
 * @vm: the target, parked
 * @polls: polls it may pass before it parks again
 *
 * Only the target is woken. Its trap bits stay set, so each of its polls
 * comes to the stop point, which spends the budget and ends the step.
 *
 * Context: world lock held, world STOPPED, @vm parked.
 * Return: the step sequence number the end of this step will move past.
 */
u64 stw_world_step(struct stw_world *w, struct stw_vm *vm, u32 polls)
{
	lockdep_assert_held(&w->lock);
	stw_world_set_mode(w, STW_RUN_ONE);
	WRITE_ONCE(w->step_vm, vm);
	WRITE_ONCE(w->epoch, w->epoch + 1);
	w->stopped--;
	vm->step_budget = polls;
	trace_stw_step_begin(w->generation, vm->id, polls);
	stw_vm_release(vm);
	return w->step_seq;
}

/**
 * stw_world_stopped() - tell whether a cycle reached STOPPED and stays there
 * @w: the world
 * @generation: the cycle
 *
 * Not while a step runs: a kernel holder is promised every VM parked.
 *
 * Context: any; reads without the lock.
 * Return: true if the world is STOPPED in @generation or later.
 */
bool stw_world_stopped(struct stw_world *w, u64 generation)
{
	return READ_ONCE(w->mode) == STW_STOPPED &&
	       READ_ONCE(w->reached) >= generation;
}

/*
 * A VM leaves the world, during a stop or not. A VM counted in this cycle
 * is uncounted, so its going may complete the stop; a RUN_ONE target going
 * ends the step. The holds stay when the last VM goes: a holder was
 * promised a stopped world, and VMs born now park at birth.
 */
static void stw_world_vm_gone(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	lockdep_assert_held(&w->lock);
	if (stw_vm_counted(vm) && !stw_mutant(7)) {
		w->active--;
		if (w->mode != STW_STOPPING) {
			/*
			 * Every counted VM is parked but a step's target;
			 * not its parked flag, which a dying VM clears.
			 */
			if (w->step_vm != vm)
				w->stopped--;
		} else if (stw_mutant(9) ||
			   stw_vm_claim(vm,
					lower_32_bits(w->generation))) {
			/*
			 * It had not claimed its place: it never will.
			 * Mutant 9 uncounts it without the claim, so a VM
			 * that claimed and counts on is counted twice.
			 */
			stw_world_uncount(w);
		}
	}
	/*
	 * dying (set by the caller) before parked is read; pairs with the
	 * arrival, which marks itself parked, counts and then reads dying:
	 * either it sees itself dying and does not wait, or we see it parked
	 * and let it go. A failed claim is not ordered by itself.
	 */
	smp_mb();
	if (READ_ONCE(vm->parked))
		stw_vm_release(vm);
	if (w->step_vm == vm)
		stw_world_end_step(w, vm);
	else
		stw_world_maybe_stopped(w);
}

/**
 * stw_world_add_vm() - reserve a place (and an id) for a VM being created
 * @vm: the VM, its thread not created yet
 *
 * Context: process context; takes the world lock.
 * Return: 0 with @vm->id set, -ESHUTDOWN, -ENOSPC or -ENOMEM.
 */
int stw_world_add_vm(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;
	int ret;

	stw_world_lock(w);
	ret = -ESHUTDOWN;
	if (w->shutting_down)
		goto out_unlock;
	ret = -ENOSPC;
	if (w->nr_vms >= STW_MAX_VMS)
		goto out_unlock;
	/* Cyclic, so a killed VM's id does not name a new VM at once. */
	ret = xa_alloc_cyclic(&w->vms, &vm->id, NULL, xa_limit_31b,
			      &w->next_vm_id, GFP_KERNEL);
	if (ret < 0)
		goto out_unlock;
	ret = 0;
	WRITE_ONCE(w->nr_vms, w->nr_vms + 1);
out_unlock:
	stw_world_unlock(w);
	return ret;
}

/**
 * stw_world_forget_vm() - give back the place of a VM never published
 * @vm: as given to stw_world_add_vm()
 *
 * Context: process context; takes the world lock.
 */
void stw_world_forget_vm(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	stw_world_lock(w);
	xa_erase(&w->vms, vm->id);
	WRITE_ONCE(w->nr_vms, w->nr_vms - 1);
	stw_world_unlock(w);
}

/* A VM born during a stop: counted in it, or marked born after it. */
static void stw_world_settle_birth(struct stw_world *w, struct stw_vm *vm)
{
	lockdep_assert_held(&w->lock);
	if (w->mode != STW_STOPPING || !stw_world_count_birth(w)) {
		vm->uncounted_gen = w->generation;
		stw_world_maybe_stopped(w);
	}
}

/**
 * stw_world_publish_vm() - make a VM with a thread part of the world
 * @vm: the VM, not entered yet
 *
 * Born in RUN_ALL it says it runs once its thread starts. Born during
 * STOPPING it is counted and the stop waits for it; born later it counts
 * itself when it parks at its first entry. Either way the stop work it gets
 * makes it park at once, and says it runs when the world resumed first.
 *
 * Context: process context; takes the world lock.
 */
void stw_world_publish_vm(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;
	bool stopping;

	stw_world_lock(w);
	stopping = w->mode != STW_RUN_ALL;
	/*
	 * Counted only while some VM is left to arrive: at zero the cycle is
	 * complete (its last VM is on its way to the lock we hold, so
	 * complete it now), and this VM is born after. Settled before the
	 * VM is stored: the arming walk reads the xarray without the world
	 * lock, and may meet the VM, arm it and queue its stop work at once.
	 * The stop work's arrival must then find it counted, or find it born
	 * after the cycle stopped (uncounted_gen); a VM that counted itself
	 * without either would take another's place in the cycle, and it
	 * could stop with a VM still running (I1, I3). xa_store() publishes
	 * the entry with a release, which orders these writes before it.
	 */
	if (stopping && !stw_mutant(13))
		stw_world_settle_birth(w, vm);
	xa_store(&w->vms, vm->id, vm, GFP_KERNEL);
	w->nr_live++;
	WRITE_ONCE(w->change_seq, w->change_seq + 1);
	if (!stopping) {
		/* A registered kthread publishes itself, on its own thread. */
		if (vm->worker)
			kthread_queue_work(vm->worker, &vm->start_work);
		else
			WRITE_ONCE(vm->state, STW_VM_RUNNING);
	} else {
		stw_world_probe(w, STW_PROBE_VM_STORED, vm);
		/* Mutant 13: counted after the walk could meet it. */
		if (stw_mutant(13))
			stw_world_settle_birth(w, vm);
		stw_world_arm_locked(vm);
	}
	stw_world_post(w, STW_EV_VM_ADDED, vm);
	stw_world_unlock(w);
}

/* stw_world_remove_vm() with the world lock held. */
static bool stw_world_take_out(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	lockdep_assert_held(&w->lock);
	if (vm->dying)
		return false;
	/* The VM reads it without either lock once released. */
	spin_lock(&vm->lock);
	WRITE_ONCE(vm->dying, true);
	spin_unlock(&vm->lock);
	set_bit(STW_TRAP_NEED_STOP, &vm->trap);	/* its polls notice */
	xa_erase(&w->vms, vm->id);
	w->nr_live--;
	WRITE_ONCE(w->nr_vms, w->nr_vms - 1);
	WRITE_ONCE(w->change_seq, w->change_seq + 1);
	stw_world_vm_gone(vm);
	stw_world_post(w, STW_EV_VM_GONE, vm);
	return true;
}

/**
 * stw_world_remove_vm() - take a VM out of the world, leaving its thread
 * @vm: the VM
 *
 * From now on the VM never parks: a parked VM is released, its polls return
 * true and it no longer counts in any stop, so its going may complete one.
 *
 * Context: process context; takes the world lock.
 * Return: false if it was out already.
 */
bool stw_world_remove_vm(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;
	bool removed;

	stw_world_lock(w);
	removed = stw_world_take_out(vm);
	stw_world_unlock(w);
	return removed;
}

/*
 * The arming walk met attached VMs whose threads exited: their owners
 * forgot stw_vm_detach(). They can never park, so they leave the world
 * (and the cycle) now; their memory stays until the owner detaches late.
 */
static void stw_world_reap_orphans(struct stw_world *w)
{
	struct stw_vm *vm;
	unsigned long id;

	lockdep_assert_held(&w->lock);
	WRITE_ONCE(w->orphans, false);
	xa_for_each(&w->vms, id, vm) {
		if (!test_bit(STW_VM_ORPHANED, &vm->flags))
			continue;
		WARN(1, "stw: VM %s of world %s: its thread exited while attached; stw_vm_detach() must come first\n",
		     vm->name, w->name);
		stw_world_take_out(vm);
	}
}

/**
 * stw_world_vm_started() - a VM's thread says it runs, on that thread
 * @vm: the VM
 *
 * Only from STARTING: a VM born during a stop may have parked first.
 *
 * Context: @vm's own thread; takes the world lock.
 */
void stw_world_vm_started(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	stw_world_lock(w);
	if (vm->state == STW_VM_STARTING && !vm->parked)
		WRITE_ONCE(vm->state, STW_VM_RUNNING);
	stw_world_unlock(w);
}

/*
 * Arrive without the world lock, in STOPPING: say stopped, claim this VM's
 * place in the cycle, mark it parked and count it. Returns true if it was
 * counted (and so must park), with @last set if nobody is left to arrive.
 * False leaves the VM as it was, for the locked path to decide.
 */
static bool stw_world_arrive(struct stw_vm *vm, bool *last)
{
	struct stw_world *w = vm->world;
	enum stw_vm_state was = READ_ONCE(vm->state);
	s64 v = atomic64_read(&w->arrival);
	u32 gen;

	if (!stw_arrival_left(v))
		return false;
	/*
	 * Races 1 and 4: a VM marks only itself stopped, and before it is
	 * counted (a fully ordered cmpxchg): whoever sees the count complete
	 * sees this VM say stopped.
	 */
	if (!stw_mutant(4))
		WRITE_ONCE(vm->state, STW_VM_STOPPED);
	stw_world_probe(w, STW_PROBE_BEFORE_COUNT, vm);
	for (;;) {
		/* Race 5: the world resumed; there is nothing to stop for. */
		if (!stw_arrival_left(v) && !stw_mutant(5))
			break;
		gen = stw_arrival_gen(v);
		/*
		 * Out of the world before this cycle began: not counted in
		 * it. The cycle opened under the lock that marked the VM
		 * dying; the count read, then dying (one gone during the
		 * cycle is settled by the claim below).
		 */
		smp_rmb();
		if (READ_ONCE(vm->dying))
			break;
		/* Born after the cycle stopped: the locked path counts it. */
		if (lower_32_bits(READ_ONCE(vm->uncounted_gen)) == gen)
			break;
		/* Race 3: its destroy uncounted it already. */
		if (!stw_vm_claim(vm, gen))
			break;
		/*
		 * Parked before counted: a resume that closes the count
		 * after we counted sees us parked
		 * (Documentation/litmus/resume-vs-arrival.litmus), and so
		 * does a destroy that did not see us claim
		 * (Documentation/litmus/destroy-vs-arrival.litmus).
		 */
		WRITE_ONCE(vm->parked, true);
		stw_world_probe(w, STW_PROBE_CLAIMED, vm);
		if (stw_mutant(5)) {
			/* Mutant 5: count with no look at the cycle. */
			v = atomic64_dec_return(&w->arrival);
			*last = !stw_arrival_left(v);
			return true;
		}
		if (stw_world_count_arrival(w, gen, &v)) {
			*last = !stw_arrival_left(v);
			return true;
		}
		/* That cycle ended under us: the next one may count us. */
		WRITE_ONCE(vm->parked, false);
	}
	WRITE_ONCE(vm->state, was);
	return false;
}

enum stw_locked_arrival {
	STW_LOCKED_RUN_ON,	/* nothing to stop for: go on */
	STW_LOCKED_PARK,	/* counted under the lock: park */
	STW_LOCKED_AGAIN,	/* a cycle that counts without the lock began */
};

/*
 * The stop point's slow path, under the world lock: a step, a VM born
 * after its cycle stopped, a VM going away, and whatever found the arrival
 * count closed.
 */
static enum stw_locked_arrival stw_stop_point_locked(struct stw_vm *vm,
						     enum stw_stop_at at)
{
	struct stw_world *w = vm->world;
	enum stw_locked_arrival ret = STW_LOCKED_RUN_ON;
	s64 v;

	stw_world_lock(w);
	/*
	 * Race 5: a VM that saw its trap before a resume cleared it arrives
	 * in RUN_ALL. Counting or parking it now would corrupt the counts of
	 * the next cycle; it has nothing to stop for.
	 */
	if ((w->mode == STW_RUN_ALL && !stw_mutant(5)) || vm->dying)
		goto out_unlock;
	/*
	 * A step runs until its polls are spent or the VM goes idle, which
	 * is when its stop work enters. Leaving a job, or entering the next
	 * one already queued, does not end it.
	 */
	if (w->step_vm == vm &&
	    ((at == STW_AT_POLL && --vm->step_budget) || at == STW_AT_EXIT ||
	     (at == STW_AT_ENTRY && !vm->in_stop_work)))
		goto out_unlock;
	/*
	 * The VM read the count before the cycle under way opened it (the
	 * lock orders us after the opening): it is counted there, so it
	 * counts itself there, without the lock.
	 */
	v = atomic64_read(&w->arrival);
	if (stw_arrival_left(v) && stw_vm_counted(vm) &&
	    READ_ONCE(vm->arrived_gen) != stw_arrival_gen(v)) {
		ret = STW_LOCKED_AGAIN;
		goto out_unlock;
	}

	stw_world_probe(w, STW_PROBE_BEFORE_COUNT, vm);
	/*
	 * Race 3: born after the cycle stopped, the VM counts itself here,
	 * once; it holds its place in a cycle still counting like any
	 * arrival. Any other VM here in STOPPING was counted and found
	 * nobody left to arrive: the count is off.
	 */
	if (vm->uncounted_gen == w->generation) {
		vm->uncounted_gen = 0;
		w->active++;
		if (w->mode == STW_STOPPING)
			WRITE_ONCE(vm->arrived_gen,
				   lower_32_bits(w->generation));
	} else if (w->mode == STW_STOPPING) {
		stw_violation(w, STW_INV_I1, "vm %u %s arrives, nobody left to count",
			      vm->id, vm->name);
	}
	stw_world_probe(w, STW_PROBE_AFTER_COUNT, vm);
	if (!stw_mutant(4))
		WRITE_ONCE(vm->state, STW_VM_STOPPED);
	WRITE_ONCE(vm->parked, true);
	WRITE_ONCE(vm->stops, vm->stops + 1);
	if (w->mode != STW_STOPPING) {
		w->stopped++;
		if (w->stopped > w->active)
			stw_violation(w, STW_INV_I1, "stopped %u > active %u at vm %u %s",
				      w->stopped, w->active,
				      vm->id, vm->name);
	}
	if (w->step_vm == vm) {
		stw_world_probe(w, STW_PROBE_STEP_LEAVE, vm);
		stw_world_end_step(w, vm);
	} else {
		stw_world_maybe_stopped(w);
	}
	ret = STW_LOCKED_PARK;
out_unlock:
	stw_world_unlock(w);
	return ret;
}

/* On a registered kthread's own thread: its owner is stopping it. */
static bool stw_vm_thread_stopping(struct stw_vm *vm)
{
	return vm->kind == STW_VM_KIND_KTHREAD && kthread_should_stop();
}

/*
 * The stop point: always on the VM's own thread. Returns true if the VM is
 * dying and its job should wind down.
 */
static bool stw_stop_point(struct stw_vm *vm, enum stw_stop_at at)
{
	struct stw_world *w = vm->world;
	bool last = false;
	bool dying;

	stw_world_probe(w, STW_PROBE_STOP_POINT_LOCK, vm);
	while (!stw_world_arrive(vm, &last)) {
		switch (stw_stop_point_locked(vm, at)) {
		case STW_LOCKED_RUN_ON:
			return READ_ONCE(vm->dying);
		case STW_LOCKED_PARK:
			goto park;
		case STW_LOCKED_AGAIN:
			break;
		}
	}
	stw_world_probe(w, STW_PROBE_AFTER_COUNT, vm);
	WRITE_ONCE(vm->stops, vm->stops + 1);
	WRITE_ONCE(vm->last_tts_ns, stw_world_since_stop_start(w));
	if (last) {
		/* The one lock of the cycle's arrivals: move it to STOPPED. */
		stw_world_probe(w, STW_PROBE_REPORT_STOPPED, vm);
		stw_world_lock(w);
		stw_world_maybe_stopped(w);
		stw_world_unlock(w);
	}

park:
	trace_stw_vm_park(vm->id, READ_ONCE(w->generation));
	stw_world_probe(w, STW_PROBE_PARKING, vm);
	if (stw_mutant(4))	/* Mutant 4: marked stopped after counting. */
		WRITE_ONCE(vm->state, STW_VM_STOPPED);
	/*
	 * TASK_IDLE: a world held stopped for long is not a hung task. dying:
	 * our destroy may have looked before we marked ourselves parked (see
	 * stw_world_vm_gone()); then we see dying here instead. A registered
	 * kthread that its owner stops (kthread_stop() wakes it) leaves the
	 * world on its own, as a destroy would take it out.
	 */
	wait_event_idle(vm->park_wq,
			/* pairs with the release in stw_vm_release() */
			!smp_load_acquire(&vm->parked) || READ_ONCE(vm->dying) ||
			stw_vm_thread_stopping(vm));
	stw_world_probe(w, STW_PROBE_UNPARKED, vm);
	/* Still parked and not dying: only a kthread stopped by its owner. */
	if (READ_ONCE(vm->parked) && stw_vm_thread_stopping(vm))
		stw_world_remove_vm(vm);	/* a no-op if it is dying */
	if (READ_ONCE(vm->parked))	/* left for dying, not released */
		WRITE_ONCE(vm->parked, false);

	/*
	 * Released: say so without the world lock, which the resume that woke
	 * us holds. Nobody can take this for a stopped VM: the world left
	 * STOPPED before we were woken, and a new cycle that stops again
	 * counts on us arriving, which comes after this on our own thread.
	 */
	WRITE_ONCE(vm->state, STW_VM_RUNNING);
	dying = READ_ONCE(vm->dying);
	trace_stw_vm_release(vm->id, READ_ONCE(w->generation));
	return dying;
}

/*
 * A step ends when its VM goes idle, which its stop work says by entering.
 * A VM that left one job with the next one already queued (behind the stop
 * work its leaving dispatched) is not idle: the stop work goes behind
 * that job, and the step goes on into it.
 */
static bool stw_world_step_goes_on(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;
	struct kthread_worker *worker = vm->worker;
	bool busy = false;

	/* A registered kthread's wait says itself whether work waits. */
	if (!worker)
		return false;
	/*
	 * Every idle VM of a stop comes here: keep them off the world lock.
	 * A step's target has taken the lock on its own thread since the
	 * step named it (to queue this work), so it cannot miss it here.
	 */
	if (READ_ONCE(w->step_vm) != vm)
		return false;
	stw_world_lock(w);
	if (w->step_vm == vm) {
		raw_spin_lock_irq(&worker->lock);
		busy = !list_empty(&worker->work_list);
		raw_spin_unlock_irq(&worker->lock);
		if (busy)
			kthread_queue_work(worker, &vm->stop_work);
	}
	stw_world_unlock(w);
	return busy;
}

/**
 * stw_world_stop_work() - what the stop work does on an idle VM's thread
 * @vm: the VM
 *
 * Nothing by hand: entering runs the entry service, which parks the VM at
 * the stop point like any VM that enters during a stop (race 2). A VM born
 * during a stop that the world resumed before this ran says it runs now;
 * nothing else would.
 *
 * Context: @vm's own thread.
 */
void stw_world_stop_work(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	stw_world_probe(w, STW_PROBE_WORK_START, vm);
	if (stw_world_step_goes_on(vm))
		return;
	/*
	 * Race 6: clear the flag before entering. Once the work has started
	 * it serves no further request, so the next one must dispatch again.
	 */
	clear_bit(STW_VM_DISPATCHED, &vm->flags);
	smp_mb__after_atomic(); /* clear the flag, then look at the trap */
	stw_world_probe(w, STW_PROBE_STOP_WORK_ENTER, vm);
	if (stw_mutant_stop_by_hand(vm))
		return;
	vm->in_stop_work = true;
	stw_vm_enter(vm);
	stw_vm_exit(vm);
	vm->in_stop_work = false;
	if (READ_ONCE(vm->state) == STW_VM_STARTING)
		stw_world_vm_started(vm);
}

/**
 * stw_vm_idle() - a registered kthread's wait serves its stop work
 * @vm: the VM of the calling thread
 * @busy: its wait's condition is true: work waits for it
 *
 * The stop work of a VM without a worker: called by stw_vm_wait_event()
 * before it sleeps. A VM with work waiting is not idle: it leaves for the
 * work, which a pending stop catches at its entry, and a step goes on into
 * it (as a worker's step goes on into a queued job).
 *
 * Context: @vm's own thread, not entered; may sleep.
 * Return: true if it served a stop (and so may have slept).
 */
bool stw_vm_idle(struct stw_vm *vm, bool busy)
{
	if ((busy && !stw_mutant(11)) ||
	    !test_bit(STW_VM_DISPATCHED, &vm->flags)) {
		if (!busy)
			stw_world_probe(vm->world, STW_PROBE_IDLE_WAIT, vm);
		return false;
	}
	stw_world_stop_work(vm);
	return true;
}
EXPORT_SYMBOL_GPL(stw_vm_idle);

/**
 * stw_vm_stop_pending() - whether a registered kthread has a stop to serve
 * @vm: the VM
 *
 * Part of stw_vm_wait_event()'s condition: it is checked after the thread
 * is on its wait queue, so a stop dispatched at any moment before it sleeps
 * is seen (the dispatch sets the flag, then wakes the queue).
 *
 * Context: @vm's own thread, in its wait.
 * Return: true if a stop work is dispatched and not started.
 */
bool stw_vm_stop_pending(struct stw_vm *vm)
{
	if (stw_mutant(10))
		return stw_mutant_woken(vm);
	return test_bit(STW_VM_DISPATCHED, &vm->flags);
}
EXPORT_SYMBOL_GPL(stw_vm_stop_pending);

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
	struct stw_world *w = vm->world;

	if (vm->entered) {
		WRITE_ONCE(vm->entered, vm->entered + 1);
		return;
	}
	WRITE_ONCE(vm->entered, 1);
	smp_mb(); /* pairs with stw_world_arm() */
	if (unlikely(test_bit(STW_TRAP_ENTRY, &vm->trap))) {
		/*
		 * Race 3 lives here: the check above is made without the
		 * world lock, so the world may resume before the stop point
		 * takes it. The stop point copes; nothing is counted here.
		 */
		stw_world_probe(w, STW_PROBE_ENTRY_CHECKED, vm);
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
	struct stw_world *w = vm->world;

	if (WARN_ON_ONCE(!vm->entered))
		return;
	if (vm->entered > 1) {
		WRITE_ONCE(vm->entered, vm->entered - 1);
		return;
	}
	if (unlikely(test_bit(STW_TRAP_NEED_STOP, &vm->trap)))
		stw_stop_point(vm, STW_AT_EXIT);
	WRITE_ONCE(vm->entered, 0);
	smp_mb(); /* pairs with stw_world_arm() */
	stw_world_probe(w, STW_PROBE_EXIT_IDLE, vm);
	if (unlikely(test_bit(STW_TRAP_NEED_STOP, &vm->trap))) {
		stw_world_lock(w);
		if (w->mode != STW_RUN_ALL && !vm->dying &&
		    test_bit(STW_TRAP_NEED_STOP, &vm->trap) &&
		    stw_world_dispatch_stop(vm))
			stw_world_probe(w, STW_PROBE_STOP_WORK_QUEUED, vm);
		stw_world_unlock(w);
	}
}
EXPORT_SYMBOL_GPL(stw_vm_exit);

static enum stw_vm_doing stw_vm_doing(struct stw_vm *vm)
{
	if (READ_ONCE(vm->parked))
		return STW_VM_DOING_PARKED;
	if (READ_ONCE(vm->entered))
		return task_is_running(vm->task) ?
			STW_VM_DOING_RUNNING : STW_VM_DOING_BLOCKED;
	if (test_bit(STW_VM_DISPATCHED, &vm->flags))
		return STW_VM_DOING_IDLE_DISPATCHED;
	return STW_VM_DOING_IDLE;
}

/**
 * stw_vm_snapshot() - copy what is told outside about a VM
 * @vm: the VM, alive: in the world, or under RCU after a lookup there
 * @snap: filled in
 *
 * Every field is a single word the VM or the world lock writes with
 * WRITE_ONCE(); a snapshot without the lock is a sample, which is what a
 * STATUS dump promises (its consistency check covers the world's mode).
 *
 * Context: any; takes no lock.
 */
void stw_vm_snapshot(struct stw_vm *vm, struct stw_vm_snap *snap)
{
	snap->id = vm->id;
	strscpy(snap->name, vm->name, sizeof(snap->name));
	snap->pid = vm->pid;
	snap->kind = vm->kind;
	snap->state = READ_ONCE(vm->state);
	snap->doing = stw_vm_doing(vm);
	snap->stops = READ_ONCE(vm->stops);
	snap->last_tts_ns = READ_ONCE(vm->last_tts_ns);
	snap->polls = READ_ONCE(vm->polls);
	snap->jobs = READ_ONCE(vm->jobs);
}

/**
 * stw_world_snapshot() - copy what is told outside about the world
 * @w: the world
 * @snap: filled in
 *
 * Context: world lock held.
 */
void stw_world_snapshot(struct stw_world *w, struct stw_world_snap *snap)
{
	int i;

	lockdep_assert_held(&w->lock);
	snap->mode = w->mode;
	snap->generation = w->generation;
	snap->reached = w->reached;
	snap->nr_vms = w->nr_vms;
	snap->active = w->mode == STW_RUN_ALL ? 0 : w->active;
	snap->stopped = stw_world_nr_stopped(w);
	snap->step_vm = w->step_vm ? w->step_vm->id : 0;
	snap->step_seq = w->step_seq;
	snap->change_seq = w->change_seq;
	snap->cycles = w->cycles;
	snap->timeouts = w->timeouts;
	snap->last_tts_ns = w->last_tts_ns;
	snap->max_tts_ns = w->max_tts_ns;
	memcpy(snap->tts_hist, w->tts_hist, sizeof(snap->tts_hist));
	strscpy(snap->name, w->name, sizeof(snap->name));
	strscpy(snap->owner, w->owner, sizeof(snap->owner));
	for (i = 0; i < STW_INV_COUNT; i++)
		snap->violations[i] = atomic64_read(&w->violations[i]);
}

/**
 * stw_world_time_out() - count a stop that timed out and name its laggards
 * @w: the world
 * @generation: the cycle that timed out
 * @ev: a TIMEOUT event, its laggards array allocated with room for @room;
 *	filled in here unless the cycle is over; the caller posts it before
 *	dropping the world lock
 * @room: room in @ev->laggards.vms
 * @tasks: set to the threads of the first @ntasks laggards, each with a
 *	reference the caller drops, for their stacks
 * @ntasks: room in @tasks
 *
 * Context: world lock held; allocates nothing.
 * Return: false if the cycle already stopped or ended: no timeout then.
 */
bool stw_world_time_out(struct stw_world *w, u64 generation,
			struct stw_event *ev, u32 room,
			struct task_struct **tasks, u32 ntasks)
{
	struct stw_laggards *lag = &ev->laggards;
	struct stw_vm *vm;
	unsigned long id;

	lockdep_assert_held(&w->lock);
	if (w->mode != STW_STOPPING ||
	    w->generation != generation)
		return false;
	xa_for_each(&w->vms, id, vm) {
		if (READ_ONCE(vm->parked) || !stw_vm_counted(vm))
			continue;
		if (lag->total < ntasks)
			tasks[lag->total] = get_task_struct(vm->task);
		if (lag->listed < room)
			stw_vm_snapshot(vm, &lag->vms[lag->listed++]);
		lag->total++;
	}
	w->timeouts++;
	ev->generation = generation;
	return true;
}

/**
 * stw_world_reached() - tell whether a cycle reached STOPPED
 * @w: the world
 * @generation: the cycle
 *
 * Also while a step runs: the cycle did stop (for STOP requests).
 *
 * Context: any; reads without the lock.
 * Return: true if @generation or a later cycle reached STOPPED and the
 * world has not resumed since.
 */
bool stw_world_reached(struct stw_world *w, u64 generation)
{
	enum stw_world_mode mode = READ_ONCE(w->mode);

	return (mode == STW_STOPPED || mode == STW_RUN_ONE) &&
	       READ_ONCE(w->reached) >= generation;
}

/**
 * stw_world_step_ended() - tell whether a step is over
 * @w: the world the step runs in
 * @step_seq: what stw_world_step() returned
 *
 * Context: any; reads without the lock.
 * Return: true once the step ended or the world left RUN_ONE.
 */
bool stw_world_step_ended(struct stw_world *w, u64 step_seq)
{
	return READ_ONCE(w->step_seq) != step_seq ||
	       READ_ONCE(w->mode) != STW_RUN_ONE;
}

/**
 * stw_world_vm_next() - the next VM from an id on, as a snapshot
 * @w: the world whose VMs to look at
 * @id: where to look from; set to the VM's id
 * @snap: filled in
 *
 * Context: any; takes no lock (RCU: VMs are freed after a grace period).
 * Return: false if there is none.
 */
bool stw_world_vm_next(struct stw_world *w, unsigned long *id,
		       struct stw_vm_snap *snap)
{
	struct stw_vm *vm;

	rcu_read_lock();
	vm = xa_find(&w->vms, id, ULONG_MAX, XA_PRESENT);
	if (vm)
		stw_vm_snapshot(vm, snap);
	rcu_read_unlock();
	return vm;
}

/* @w is zeroed memory: generations, statistics and counts start at 0. */
void stw_world_init(struct stw_world *w)
{
	int i;

	mutex_init(&w->lock);
	w->mode = STW_RUN_ALL;
	w->active = STW_ACTIVE_SENTINEL;
	atomic64_set(&w->arrival, 0);
	/* Not 0: a dump's consistency check takes 0 for "not seen yet". */
	w->change_seq = 1;
	xa_init_flags(&w->vms, XA_FLAGS_ALLOC1);
	init_waitqueue_head(&w->wq);
	for (i = 0; i < STW_INV_COUNT; i++)
		atomic64_set(&w->violations[i], 0);
}

/* Called once every VM is gone and no request can come in any more. */
void stw_world_exit(struct stw_world *w)
{
	/* The controller dropped every hold: the world runs, empty. */
	WARN_ON(w->nr_vms || w->mode != STW_RUN_ALL);
	xa_destroy(&w->vms);
	mutex_destroy(&w->lock);
}
