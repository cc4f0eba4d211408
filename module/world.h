/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world: the state machine every VM takes part in (world.c).
 *
 * Only the controller layer (control.c) and the VMs' own paths (vm.c, the
 * stop points in world.c) change it; everything else asks control.c.
 */
#ifndef _STW_WORLD_H
#define _STW_WORLD_H

#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "stw.h"
#include "event.h"
#include "probe.h"

/* The active count in RUN_ALL, where counting means nothing (I2). */
#define STW_ACTIVE_SENTINEL	U32_MAX

struct stw_control;

/**
 * struct stw_world - a world: a set of VMs stopped and resumed together
 * @lock: the world lock. Protects every field below but @arrival,
 *	@violations and @wq, and the "world lock" fields of every VM. Taken
 *	by controllers (control.c, always after the control lock) and by VM
 *	threads on the stop point's slow path and by the last arrival of a
 *	cycle; never held while parking, never held across a wait.
 * @mode: enum stw_world_mode, written only by stw_world_set_mode(); read
 *	without the lock by waiters and by STATUS (READ_ONCE)
 * @generation: the current (or latest) stop cycle; grows at RUN_ALL->STOPPING
 * @epoch: grows at each stop cycle and each step: at most one stop work per
 *	VM per epoch (I4); read without the lock by the arming walk
 * @reached: the latest generation that reached STOPPED
 * @active: VMs counted in this cycle, STW_ACTIVE_SENTINEL in RUN_ALL
 * @stopped: counted VMs parked now, in STOPPED and RUN_ONE; in STOPPING
 *	the arrival count says it (stw_world_nr_stopped())
 * @arming: the controller is arming the VMs of this cycle without the
 *	lock; the arrival count holds one more while it does, so that the
 *	cycle cannot reach STOPPED before that is over
 * @arrival: the arrival count, written without the lock by every VM that
 *	arrives at its stop point in STOPPING: the cycle's generation (its
 *	low 32 bits) above the VMs left to arrive. No VM is left to count in
 *	any other mode; it is (re)set only under the lock. See
 *	stw_world_count_arrival().
 * @vms: id -> struct stw_vm, the live VMs; walked under RCU by the arming
 *	walk and by STATUS dumps
 * @nr_live: VMs in @vms: the active count of a cycle that begins
 * @nr_vms: VMs in @vms, and VMs being created
 * @next_vm_id: where the cyclic VM id allocation goes on
 * @step_vm: the RUN_ONE target; an idle VM's stop work reads it without
 *	the lock first (READ_ONCE), to keep off the lock unless it is the one
 * @step_seq: grows at the end of each step
 * @change_seq: grows at each mode change and each VM added or gone; a
 *	STATUS dump that sees it move is marked inconsistent
 * @stop_start: when this cycle was requested, by local_clock()
 * @shutting_down: the module is going away; requests fail
 * @cycles: statistics: cycles that reached STOPPED
 * @timeouts: statistics: stop requests that timed out
 * @last_tts_ns: statistics: time to stop of the latest cycle
 * @max_tts_ns: statistics: the longest
 * @tts_hist: statistics: log2 histogram of the times to stop
 * @violations: invariant violations seen, per invariant
 * @wq: kernel callers of stw_stop_world() waiting for STOPPED
 * @orphans: the arming walk met an attached VM whose thread exited; the
 *	walk sets it without the lock, the lock's holder reaps them
 * @ctl: the controller's state for this world (holds, leases, tickets),
 *	set by control.c; opaque here: the world never calls up
 * @name: the world's name, unique among worlds; set before it is listed
 * @owner: the name of the module that made it
 *
 * Every function of world.c takes the world it works on (or reaches it
 * through a VM's @world). Worlds are made and listed by control.c
 * (stw_world_create()); the protocol is the same in each, and no lock is
 * shared between two worlds.
 */
struct stw_world {
	struct mutex lock;	/* see @lock above */
	enum stw_world_mode mode;
	u64 generation;
	u64 epoch;
	u64 reached;
	u32 active;
	u32 stopped;
	bool arming;
	atomic64_t arrival;
	struct xarray vms;
	u32 nr_live;
	u32 nr_vms;
	u32 next_vm_id;
	struct stw_vm *step_vm;
	u64 step_seq;
	u64 change_seq;
	u64 stop_start;
	bool shutting_down;

	u64 cycles;
	u64 timeouts;
	u64 last_tts_ns;
	u64 max_tts_ns;
	u64 tts_hist[STW_TTS_HIST_BUCKETS];

	atomic64_t violations[STW_INV_COUNT];
	wait_queue_head_t wq;
	bool orphans;
	struct stw_control *ctl;
	char name[STW_WORLD_NAME_LEN];
	char owner[MODULE_NAME_LEN];
};

/*
 * Whether @vm counts in the cycle under way: every VM that was in the world
 * when it began or was born before it stopped; one born later counts from
 * its first stop point on.
 */
static inline bool stw_vm_counted(struct stw_vm *vm)
{
	struct stw_world *w = vm->world;

	lockdep_assert_held(&w->lock);
	return w->mode != STW_RUN_ALL && vm->uncounted_gen != w->generation;
}

/* A VM on a thread its owner made: attached, or registered itself. */
static inline bool stw_vm_attached(const struct stw_vm *vm)
{
	return vm->kind == STW_VM_KIND_WORKER || vm->kind == STW_VM_KIND_KTHREAD;
}

/*
 * An attached VM whose thread is exiting: its owner did not detach it.
 * The task is pinned while the VM lives; its flags are the task's own to
 * write, so this is a sample, which is all the dispatch needs: the thread
 * will not come back from exiting.
 */
static inline bool stw_vm_orphaned(const struct stw_vm *vm)
{
	return stw_vm_attached(vm) &&
	       (READ_ONCE(vm->task->flags) & PF_EXITING);
}

/*
 * A probe point in world @w's code: the hit is logged with its cycle. The
 * world is passed, not taken from @vm, which is NULL at the world's own
 * points (the arming walk's end, a resume).
 */
#define stw_world_probe(w, point, vm)					\
	stw_probe(point, vm, READ_ONCE((w)->generation))

/*
 * Take and drop the world lock. A thread says so at a probe point before
 * it takes it and after: under make explore a gated thread settles at
 * both. After, so that a thread woken by the unlock of another runs
 * nothing of stw's until let go. Before, so that a thread that let the
 * lock go and wants it back waits while the waiter its unlock woke takes
 * it: which of the two gets the lock is then the scheduler's choice, not
 * the CPUs'.
 */
static inline void stw_world_lock(struct stw_world *w)
	__acquires(&w->lock)
{
	stw_world_probe(w, STW_PROBE_LOCKING, NULL);
	mutex_lock(&w->lock);
	stw_probe_holds(1);
	stw_world_probe(w, STW_PROBE_LOCKED, NULL);
}

static inline void stw_world_unlock(struct stw_world *w)
	__releases(&w->lock)
{
	stw_probe_holds(-1);
	mutex_unlock(&w->lock);
}

/* The world as reported outside, copied under the world lock. */
struct stw_world_snap {
	enum stw_world_mode mode;
	u64 generation;
	u64 reached;
	u32 nr_vms;
	u32 active;
	u32 stopped;
	u32 step_vm;
	u64 step_seq;
	u64 change_seq;
	u64 cycles;
	u64 timeouts;
	u64 last_tts_ns;
	u64 max_tts_ns;
	u64 tts_hist[STW_TTS_HIST_BUCKETS];
	u64 violations[STW_INV_COUNT];
	char name[STW_WORLD_NAME_LEN];
	char owner[MODULE_NAME_LEN];
};

void stw_world_init(struct stw_world *w);
void stw_world_exit(struct stw_world *w);

u64 stw_world_begin_stop(struct stw_world *w, bool *joined);
void stw_world_resume(struct stw_world *w);
u64 stw_world_step(struct stw_world *w, struct stw_vm *vm, u32 polls);
bool stw_world_stopped(struct stw_world *w, u64 generation);
void stw_world_snapshot(struct stw_world *w, struct stw_world_snap *snap);
bool stw_world_reached(struct stw_world *w, u64 generation);
bool stw_world_step_ended(struct stw_world *w, u64 step_seq);
bool stw_world_time_out(struct stw_world *w, u64 generation,
			struct stw_event *ev, u32 room,
			struct task_struct **tasks, u32 ntasks);
bool stw_world_vm_next(struct stw_world *w, unsigned long *id,
		       struct stw_vm_snap *snap);

/* VM life, for vm.c: @vm->world is the world it joins. */
int stw_world_add_vm(struct stw_vm *vm);
void stw_world_publish_vm(struct stw_vm *vm);
void stw_world_forget_vm(struct stw_vm *vm);
bool stw_world_remove_vm(struct stw_vm *vm);
void stw_world_vm_started(struct stw_vm *vm);
void stw_world_stop_work(struct stw_vm *vm);

void stw_vm_snapshot(struct stw_vm *vm, struct stw_vm_snap *snap);
void stw_violation(struct stw_world *w, enum stw_invariant inv,
		   const char *fmt, ...) __printf(3, 4);

#endif /* _STW_WORLD_H */
