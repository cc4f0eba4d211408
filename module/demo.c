// SPDX-License-Identifier: GPL-2.0
/*
 * Demo VMs, so stw is useful on its own: active VMs run jobs continuously,
 * idle ones sleep until given work, bursty ones run short jobs with idle gaps
 * (so they cross idle/active during stops), and nopoll ones run without ever
 * polling (so a stop times out on them).
 */
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "stw.h"
#include "demo.h"

#define STW_DEMO_UNIT_LOOPS	256	/* about a microsecond of work */
#define STW_DEMO_ACTIVE_POLLS	1000	/* polls per job of an active VM */
#define STW_DEMO_BURST_POLLS	20	/* polls per job of a bursty VM */
#define STW_DEMO_BURST_GAP	1	/* jiffies between bursts */
#define STW_DEMO_NICE		10	/* controllers come first */

struct stw_demo {
	struct stw_vm *vm;
	struct kthread_work run_work;		/* active and nopoll */
	struct kthread_delayed_work burst_work;	/* bursty */
	struct kthread_work queued_work;	/* jobs from QUEUE_JOB */
	atomic_t queued_jobs;
	u32 queued_polls;
	bool quit;
};

/*
 * Protects stw_demos and stw_demo_closed: a VM killed is taken out under
 * it, by one killer.
 */
static DEFINE_MUTEX(stw_demo_lock);
static DEFINE_XARRAY(stw_demos);
/*
 * Set once by stw_demo_exit(): from then on a VM is never published. A
 * SPAWN that created its VM before the module began to go publishes it
 * before the flag (and the final kill finds it) or not at all.
 */
static bool stw_demo_closed;

static const char *const stw_demo_names[] = {
	[STW_VM_KIND_ACTIVE] = "active",
	[STW_VM_KIND_IDLE] = "idle",
	[STW_VM_KIND_BURSTY] = "bursty",
	[STW_VM_KIND_NOPOLL] = "nopoll",
};

/* @seed varies, so the compiler cannot fold the loop away. */
static noinline u32 stw_demo_unit(u32 seed)
{
	u32 x = seed | 1;
	int i;

	for (i = 0; i < STW_DEMO_UNIT_LOOPS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
	}
	return x;
}

/* Enter, run @polls units polling after each, leave. False if dying. */
static bool stw_demo_job(struct stw_vm *vm, u32 polls)
{
	bool dying = false;
	u32 i, x = 0;

	stw_vm_enter(vm);
	for (i = 0; i < polls && !dying; i++) {
		x = stw_demo_unit(x + i);
		barrier_data(&x);
		WRITE_ONCE(vm->polls, vm->polls + 1);
		dying = stw_vm_poll(vm);
	}
	stw_vm_exit(vm);
	WRITE_ONCE(vm->jobs, vm->jobs + 1);
	return !dying;
}

static void stw_demo_run(struct kthread_work *work)
{
	struct stw_demo *d = container_of(work, struct stw_demo, run_work);
	struct stw_vm *vm = d->vm;

	if (vm->kind == STW_VM_KIND_NOPOLL) {
		stw_vm_enter(vm);
		u32 x = 0;

		while (!READ_ONCE(d->quit)) {
			x = stw_demo_unit(x);
			barrier_data(&x);
			cond_resched();
		}
		stw_vm_exit(vm);
		return;
	}
	if (stw_demo_job(vm, STW_DEMO_ACTIVE_POLLS) && !READ_ONCE(d->quit))
		kthread_queue_work(vm->worker, &d->run_work);
}

static void stw_demo_burst(struct kthread_work *work)
{
	struct stw_demo *d = container_of(work, struct stw_demo,
					  burst_work.work);

	if (stw_demo_job(d->vm, STW_DEMO_BURST_POLLS) && !READ_ONCE(d->quit))
		kthread_queue_delayed_work(d->vm->worker, &d->burst_work,
					   STW_DEMO_BURST_GAP);
}

static void stw_demo_queued(struct kthread_work *work)
{
	struct stw_demo *d = container_of(work, struct stw_demo, queued_work);

	while (atomic_dec_if_positive(&d->queued_jobs) >= 0)
		if (!stw_demo_job(d->vm, READ_ONCE(d->queued_polls)))
			break;
}

/**
 * stw_demo_spawn() - create a demo VM and start its workload
 * @kind: active, idle, bursty or nopoll
 * @id: set to the new VM's id
 *
 * Context: process context; may sleep.
 * Return: 0, -ESHUTDOWN once stw_demo_exit() ran, or what
 * stw_vm_create() failed with.
 */
int stw_demo_spawn(enum stw_vm_kind kind, u32 *id)
{
	struct stw_demo *d;
	struct stw_vm *vm;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	kthread_init_work(&d->run_work, stw_demo_run);
	kthread_init_delayed_work(&d->burst_work, stw_demo_burst);
	kthread_init_work(&d->queued_work, stw_demo_queued);

	vm = stw_vm_create(kind, d, stw_demo_names[kind]);
	if (IS_ERR(vm)) {
		ret = PTR_ERR(vm);
		goto err_free;
	}
	d->vm = vm;
	set_user_nice(vm->task, STW_DEMO_NICE);

	/*
	 * Start it and read its id before dropping the lock: once published,
	 * a KILL may take the VM and free it.
	 */
	mutex_lock(&stw_demo_lock);
	ret = stw_demo_closed ? -ESHUTDOWN :
	      xa_insert(&stw_demos, vm->id, d, GFP_KERNEL);
	if (!ret) {
		*id = vm->id;
		if (kind == STW_VM_KIND_ACTIVE || kind == STW_VM_KIND_NOPOLL)
			kthread_queue_work(vm->worker, &d->run_work);
		else if (kind == STW_VM_KIND_BURSTY)
			kthread_queue_delayed_work(vm->worker, &d->burst_work,
						   0);
	}
	mutex_unlock(&stw_demo_lock);
	if (ret)
		goto err_destroy;
	return 0;

err_destroy:
	stw_vm_destroy(vm);
err_free:
	kfree(d);
	return ret;
}

static void stw_demo_destroy(struct stw_demo *d)
{
	WRITE_ONCE(d->quit, true);
	/* Release it first: a cancel would wait for a job parked in it. */
	stw_vm_shutdown(d->vm);
	/*
	 * A job that read quit just before it was set requeues itself; a
	 * cancel blocks that while it waits for the job, where a flush
	 * would leave it queued behind the flush.
	 */
	kthread_cancel_work_sync(&d->run_work);
	kthread_cancel_delayed_work_sync(&d->burst_work);
	stw_vm_destroy(d->vm);
	kfree(d);
}

/**
 * stw_demo_kill() - destroy a demo VM
 * @id: its id
 *
 * Context: process context; may sleep.
 * Return: 0, or -ENOENT if @id is no demo VM.
 */
int stw_demo_kill(u32 id)
{
	struct stw_demo *d;

	mutex_lock(&stw_demo_lock);
	d = xa_erase(&stw_demos, id);
	mutex_unlock(&stw_demo_lock);
	if (!d)
		return -ENOENT;
	stw_demo_destroy(d);
	return 0;
}

/**
 * stw_demo_exists() - tell whether @id is a demo VM
 * @id: a VM id
 *
 * Context: process context.
 * Return: true if it is, at the time of the call.
 */
bool stw_demo_exists(u32 id)
{
	return xa_load(&stw_demos, id);
}

/**
 * stw_demo_kill_all() - destroy demo VMs in id order
 * @ids: filled with the ids destroyed, up to @max of them; may be NULL
 * @max: how many to destroy at most, 0 for every one
 * @n: set to how many were destroyed
 *
 * Context: process context; may sleep.
 * Return: true if demo VMs are left (@max reached).
 */
bool stw_demo_kill_all(u32 *ids, unsigned int max, unsigned int *n)
{
	struct stw_demo *d;
	unsigned long id;

	*n = 0;
	for (;;) {
		mutex_lock(&stw_demo_lock);
		id = 0;
		d = xa_find(&stw_demos, &id, ULONG_MAX, XA_PRESENT);
		if (d && (!max || *n < max))
			xa_erase(&stw_demos, id);
		mutex_unlock(&stw_demo_lock);
		if (!d)
			return false;
		if (max && *n == max)
			return true;
		if (ids)
			ids[*n] = id;
		(*n)++;
		stw_demo_destroy(d);
	}
}

/**
 * stw_demo_exit() - destroy every demo VM, for good
 *
 * A SPAWN still in its handler when the module began to go may have
 * created a VM that no kill has seen yet: once this has closed the set,
 * that VM is destroyed by its own SPAWN instead of outliving the module.
 *
 * Context: module exit; process context; may sleep.
 */
void stw_demo_exit(void)
{
	unsigned int n;

	mutex_lock(&stw_demo_lock);
	stw_demo_closed = true;
	mutex_unlock(&stw_demo_lock);
	stw_demo_kill_all(NULL, 0, &n);
}

/**
 * stw_demo_queue_jobs() - give a demo VM work
 * @id: the VM
 * @jobs: how many jobs
 * @polls: polls per job
 *
 * Context: process context.
 * Return: 0, or -ENOENT if @id is no demo VM.
 */
int stw_demo_queue_jobs(u32 id, u32 jobs, u32 polls)
{
	struct stw_demo *d;
	int ret = -ENOENT;

	/* Under the lock, so a concurrent kill cannot free it meanwhile. */
	mutex_lock(&stw_demo_lock);
	d = xa_load(&stw_demos, id);
	if (d) {
		WRITE_ONCE(d->queued_polls, polls);
		atomic_add(jobs, &d->queued_jobs);
		kthread_queue_work(d->vm->worker, &d->queued_work);
		ret = 0;
	}
	mutex_unlock(&stw_demo_lock);
	return ret;
}
