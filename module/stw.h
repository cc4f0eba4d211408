/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw: stop the world for a set of kernel threads.
 *
 * The in-kernel API. A VM is a kernel thread with its own run loop (a
 * kthread_worker). Its owner queues jobs on it; a job brackets its work with
 * stw_vm_enter() and stw_vm_exit() and calls stw_vm_poll() at safe points.
 * When a controller stops the world, every VM parks: an entered VM at its
 * next poll (or at exit), an idle VM through a stop work item that stw
 * queues on its run loop. The world is STOPPED once every VM has parked.
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
