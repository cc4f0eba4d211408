/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw: stop the world for a set of kernel threads.
 *
 * The in-kernel API. A VM is a kernel thread with a run loop, in a world.
 * Its work brackets itself with stw_vm_enter() and stw_vm_exit() and calls
 * stw_vm_poll() at safe points. When a controller stops the world, every VM
 * parks: an entered VM at its next poll (or at exit), an idle VM through a
 * stop work that stw dispatches to its run loop. The world is STOPPED once
 * every VM has parked.
 *
 * Three kinds of run loop:
 *
 * - stw_vm_create(): stw makes the thread, a kthread_worker; its owner
 *   queues jobs with stw_vm_queue_job() and ends it with stw_vm_destroy().
 * - stw_vm_attach_worker(): a kthread_worker its owner made and keeps.
 *   stw queues its stop work there; jobs that never enter are simply
 *   stopped between. To let go: stw_vm_shutdown() (a job parked at a
 *   poll is released, and its polls return true), cancel or flush the
 *   jobs that use the VM, stw_vm_detach(), kthread_destroy_worker().
 * - stw_vm_register_current(): a plain kthread with its own loop, which
 *   sleeps in stw_vm_wait_event() whenever it has nothing to do; the stop
 *   work is served there. kthread_stop() works even while it is parked;
 *   the thread calls stw_vm_detach() before it returns.
 *
 *	static void my_job(struct kthread_work *work)
 *	{
 *		struct my_ctx *ctx = container_of(work, struct my_ctx, work);
 *
 *		stw_vm_enter(ctx->vm);
 *		while (more_to_do(ctx)) {
 *			do_a_little(ctx);
 *			if (stw_vm_poll(ctx->vm))
 *				break;		// the VM is being destroyed
 *		}
 *		stw_vm_exit(ctx->vm);
 *	}
 */
#ifndef _STW_H
#define _STW_H

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/kthread.h>
#include <linux/notifier.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "uapi/stw.h"

/*
 * Bits of struct stw_vm::trap, the word a VM polls. ARMED is stw's own:
 * in the same word, arming sets all three in one atomic operation.
 */
enum {
	STW_TRAP_NEED_STOP,	/* stop at the next poll or exit */
	STW_TRAP_ENTRY,		/* stop at the next entry */
	STW_TRAP_ARMED,		/* armed in this cycle: by the walk or at birth */
};

struct stw_world;

/* Bits of struct stw_vm::flags. */
enum {
	STW_VM_DISPATCHED,	/* a stop work item is queued and not started */
	STW_VM_ORPHANED,	/* its thread exited while attached */
};

/**
 * struct stw_vm - a VM: a kernel thread with a run loop that stw can stop
 *
 * Only @trap is read outside stw (by the inline stw_vm_poll()); the other
 * fields are private. Fields under "world lock" are protected by the world's
 * lock (see world.h); the VM's own thread is the only writer of @entered
 * and @in_stop_work. STATUS reads @entered, @state, @parked, @stops,
 * @last_tts_ns, @polls and @jobs without a lock, so their writers use
 * WRITE_ONCE(). The VM is freed after an RCU grace period, and @task is
 * pinned until then, so a dump under RCU may look at both.
 */
struct stw_vm {
	unsigned long trap;
	unsigned int entered;
	bool in_stop_work;
	unsigned long flags;

	/* The world the VM belongs to, for its whole life; set at creation. */
	struct stw_world *world;
	u32 id;
	enum stw_vm_kind kind;
	char name[STW_VM_NAME_LEN];
	/* The run loop: stw's own or its owner's; NULL for a plain kthread. */
	struct kthread_worker *worker;
	struct task_struct *task;
	u32 pid;
	/*
	 * The cycle (low 32 bits of its generation) this VM was counted as
	 * arrived in, or uncounted by its destroy: whichever claims it first
	 * with cmpxchg() is the one that counts (race 3). No lock.
	 */
	u32 arrived_gen;
	struct rcu_head rcu;
	struct kthread_work start_work;
	struct kthread_work stop_work;
	wait_queue_head_t park_wq;
	/* A registered kthread's idle wait: stw_vm_wait_event(). */
	wait_queue_head_t idle_wq;
	void *priv;

	/* Progress counters, written by the VM's own thread. */
	u64 polls;
	u64 jobs;

	/*
	 * Protects @dispatch_epoch, and @dying against a stop work queued
	 * without the world lock (the arming walk): set under it too, so a
	 * dispatch never queues on a worker being destroyed.
	 */
	spinlock_t lock;
	u64 dispatch_epoch;

	/* world lock (@dying: and @lock; @parked: also the VM, see world.c) */
	u64 uncounted_gen;	/* born in this cycle after it stopped */
	bool parked;
	bool dying;
	enum stw_vm_state state;
	u32 step_budget;
	u64 stops;
	u64 last_tts_ns;
};

/**
 * struct stw_stop_info - what a stop notifier is told
 * @world: the world that stopped; valid during the notifier call
 * @generation: the stop cycle, that world's
 * @tts_ns: its time to stop, from the first request to the last VM parking
 * @step_vm: the VM whose step just ended, or 0 for a stop
 */
struct stw_stop_info {
	struct stw_world *world;
	u64 generation;
	u64 tts_ns;
	u32 step_vm;
};

bool stw_vm_trap(struct stw_vm *vm);

/**
 * stw_vm_poll() - the safe point a job calls between units of work
 * @vm: the VM the caller runs on
 *
 * One load and a branch when no stop is pending. Otherwise the VM parks here
 * until the world resumes or a step lets it run.
 *
 * Context: the VM's own thread, inside stw_vm_enter()/stw_vm_exit(); may
 * sleep.
 * Return: true if the VM is being destroyed and the job should finish soon.
 */
static inline bool stw_vm_poll(struct stw_vm *vm)
{
	if (unlikely(test_bit(STW_TRAP_NEED_STOP, &vm->trap)))
		return stw_vm_trap(vm);
	return false;
}

struct stw_world *__stw_world_create(const char *name, struct module *owner);
/* A world of the calling module's: it destroys it before it goes. */
#define stw_world_create(name) __stw_world_create(name, THIS_MODULE)
int stw_world_destroy(struct stw_world *w);
struct stw_world *stw_default_world(void);
const char *stw_world_name(const struct stw_world *w);

struct stw_vm *stw_vm_create(struct stw_world *w, enum stw_vm_kind kind,
			     void *priv, const char *name);
void stw_vm_shutdown(struct stw_vm *vm);
void stw_vm_destroy(struct stw_vm *vm);
bool stw_vm_queue_job(struct stw_vm *vm, struct kthread_work *work);

struct stw_vm *stw_vm_attach_worker(struct stw_world *w,
				    struct kthread_worker *worker,
				    const char *name);
struct stw_vm *stw_vm_register_current(struct stw_world *w, const char *name);
void stw_vm_detach(struct stw_vm *vm);
bool stw_vm_idle(struct stw_vm *vm, bool busy);
bool stw_vm_stop_pending(struct stw_vm *vm);

/**
 * stw_vm_wait_event() - a registered kthread's idle wait, its run loop
 * @vm: the VM of the calling thread, from stw_vm_register_current()
 * @condition: what the thread waits for: its work, kthread_should_stop()
 *
 * Sleeps (TASK_IDLE) until @condition is true, like wait_event_idle(),
 * woken by stw_vm_wake() or by wake_up_process() of the thread (so
 * kthread_stop() wakes it too). While it waits, it is an idle VM: a stop
 * dispatched to it is served here, the thread parks until the world
 * resumes (or a step lets it go idle again), and the wait goes on. Work
 * comes first: once @condition is true the thread leaves, and a stop
 * pending then catches it when it enters.
 *
 *	while (!kthread_should_stop()) {
 *		stw_vm_wait_event(vm, have_work(ctx) || kthread_should_stop());
 *		stw_vm_enter(vm);
 *		while (have_work(ctx) && !stw_vm_poll(vm))
 *			do_a_little(ctx);
 *		stw_vm_exit(vm);
 *	}
 *	stw_vm_detach(vm);
 *
 * Context: @vm's own thread, not entered; may sleep.
 */
#define stw_vm_wait_event(vm, condition)				\
do {									\
	struct stw_vm *__stw_vm = (vm);					\
									\
	for (;;) {							\
		bool __stw_busy = (condition);				\
									\
		if (stw_vm_idle(__stw_vm, __stw_busy))			\
			continue;					\
		if (__stw_busy)						\
			break;						\
		wait_event_idle(__stw_vm->idle_wq, (condition) ||	\
				stw_vm_stop_pending(__stw_vm));		\
	}								\
} while (0)

/**
 * stw_vm_wake() - wake a registered kthread from stw_vm_wait_event()
 * @vm: the VM
 *
 * For its owner, after making its condition true; not once the thread may
 * have detached (the VM is freed then): stop what feeds it first.
 *
 * Context: any context.
 */
static inline void stw_vm_wake(struct stw_vm *vm)
{
	wake_up(&vm->idle_wq);
}

void stw_vm_enter(struct stw_vm *vm);
void stw_vm_exit(struct stw_vm *vm);

int stw_stop_world(struct stw_world *w, unsigned int timeout_ms,
		   struct stw_stop_info *info);
int stw_step_vm(int hold_id, struct stw_vm *vm, u32 polls,
		unsigned int timeout_ms);
int stw_resume_world(struct stw_world *w, int hold_id);

int stw_register_stop_notifier(struct notifier_block *nb);
int stw_unregister_stop_notifier(struct notifier_block *nb);

#endif /* _STW_H */
