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
#include "probe.h"

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
 * A world of demo VMs: stw's default world "demo", and any other a SPAWN
 * names, which is made for them.
 * @vms: id -> struct stw_demo, by the world's VM ids
 * @made: made here, so destroyed here; not the default world
 */
struct stw_demo_world {
	struct stw_world *world;
	struct xarray vms;
	struct list_head node;
	bool made;
};

/*
 * Protects stw_demo_worlds, every one's @vms, and stw_demo_closed. Held
 * while a SPAWN creates and publishes its VM, so that the exit, which
 * takes it to close, never meets a VM half made. A VM killed is taken out
 * under it, by one killer.
 */
static DEFINE_MUTEX(stw_demo_lock);
static LIST_HEAD(stw_demo_worlds);

/* Set once by stw_demo_exit(): from then on no VM and no world is made. */
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
		/* No cycle of its own to log: 0. */
		stw_probe(STW_PROBE_JOB_POLL, vm, 0);
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

static struct stw_demo_world *stw_demo_world_find(const char *name)
{
	struct stw_demo_world *dw;

	lockdep_assert_held(&stw_demo_lock);
	list_for_each_entry(dw, &stw_demo_worlds, node)
		if (!strcmp(stw_world_name(dw->world), name))
			return dw;
	return NULL;
}

/* The demo world @name, made if it does not exist yet. */
static struct stw_demo_world *stw_demo_world_make(const char *name)
{
	struct stw_demo_world *dw;
	struct stw_world *w;

	lockdep_assert_held(&stw_demo_lock);
	dw = stw_demo_world_find(name);
	if (dw)
		return dw;
	if (stw_demo_closed)
		return ERR_PTR(-ESHUTDOWN);
	dw = kzalloc(sizeof(*dw), GFP_KERNEL);
	if (!dw)
		return ERR_PTR(-ENOMEM);
	/* -EEXIST: a world of that name is another module's. */
	w = stw_world_create(name);
	if (IS_ERR(w)) {
		kfree(dw);
		return ERR_CAST(w);
	}
	dw->world = w;
	dw->made = true;
	xa_init(&dw->vms);
	list_add_tail(&dw->node, &stw_demo_worlds);
	return dw;
}

/**
 * stw_demo_spawn() - create a demo VM and start its workload
 * @world: the name of its world, made if need be
 * @kind: active, idle, bursty or nopoll
 * @id: set to the new VM's id, in that world
 *
 * Context: process context; may sleep.
 * Return: 0, -ESHUTDOWN once stw_demo_exit() ran, -EEXIST if @world is
 * another module's, or what stw_world_create() or stw_vm_create() failed
 * with.
 */
int stw_demo_spawn(const char *world, enum stw_vm_kind kind, u32 *id)
{
	struct stw_demo_world *dw;
	struct stw_demo *d;
	struct stw_vm *vm;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	kthread_init_work(&d->run_work, stw_demo_run);
	kthread_init_delayed_work(&d->burst_work, stw_demo_burst);
	kthread_init_work(&d->queued_work, stw_demo_queued);

	mutex_lock(&stw_demo_lock);
	dw = stw_demo_world_make(world);
	if (IS_ERR(dw)) {
		ret = PTR_ERR(dw);
		goto err_unlock;
	}
	vm = stw_vm_create(dw->world, kind, d, stw_demo_names[kind]);
	if (IS_ERR(vm)) {
		ret = PTR_ERR(vm);
		goto err_unlock;
	}
	d->vm = vm;
	set_user_nice(vm->task, STW_DEMO_NICE);
	/*
	 * Start it and read its id before dropping the lock: once published,
	 * a KILL may take the VM and free it.
	 */
	ret = xa_insert(&dw->vms, vm->id, d, GFP_KERNEL);
	if (ret)
		goto err_destroy;
	*id = vm->id;
	if (kind == STW_VM_KIND_ACTIVE || kind == STW_VM_KIND_NOPOLL)
		kthread_queue_work(vm->worker, &d->run_work);
	else if (kind == STW_VM_KIND_BURSTY)
		kthread_queue_delayed_work(vm->worker, &d->burst_work, 0);
	mutex_unlock(&stw_demo_lock);
	return 0;

err_destroy:
	stw_vm_destroy(vm);
err_unlock:
	mutex_unlock(&stw_demo_lock);
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

/* Take demo VM @id of @world out, for its killer; NULL if none. */
static struct stw_demo *stw_demo_take(const char *world, unsigned long id)
{
	struct stw_demo_world *dw;

	lockdep_assert_held(&stw_demo_lock);
	dw = stw_demo_world_find(world);
	return dw ? xa_erase(&dw->vms, id) : NULL;
}

/**
 * stw_demo_kill() - destroy a demo VM
 * @world: the name of its world
 * @id: its id there
 *
 * Context: process context; may sleep.
 * Return: 0, or -ENOENT if @id is no demo VM of @world.
 */
int stw_demo_kill(const char *world, u32 id)
{
	struct stw_demo *d;

	mutex_lock(&stw_demo_lock);
	d = stw_demo_take(world, id);
	mutex_unlock(&stw_demo_lock);
	if (!d)
		return -ENOENT;
	stw_demo_destroy(d);
	return 0;
}

/**
 * stw_demo_exists() - tell whether @id is a demo VM of @world
 * @world: a world's name
 * @id: a VM id
 *
 * Context: process context; may sleep.
 * Return: true if it is, at the time of the call.
 */
bool stw_demo_exists(const char *world, u32 id)
{
	struct stw_demo_world *dw;
	bool ret;

	mutex_lock(&stw_demo_lock);
	dw = stw_demo_world_find(world);
	ret = dw && xa_load(&dw->vms, id);
	mutex_unlock(&stw_demo_lock);
	return ret;
}

/**
 * stw_demo_kill_all() - destroy the demo VMs of a world in id order
 * @world: its name
 * @ids: filled with the ids destroyed, up to @max of them; may be NULL
 * @max: how many to destroy at most, 0 for every one
 * @n: set to how many were destroyed
 *
 * Context: process context; may sleep.
 * Return: true if demo VMs are left (@max reached).
 */
bool stw_demo_kill_all(const char *world, u32 *ids, unsigned int max,
		       unsigned int *n)
{
	struct stw_demo_world *dw;
	struct stw_demo *d;
	unsigned long id;

	*n = 0;
	for (;;) {
		mutex_lock(&stw_demo_lock);
		id = 0;
		dw = stw_demo_world_find(world);
		d = dw ? xa_find(&dw->vms, &id, ULONG_MAX, XA_PRESENT) : NULL;
		if (d && (!max || *n < max))
			xa_erase(&dw->vms, id);
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
 * stw_demo_queue_jobs() - give a demo VM work
 * @world: the name of its world
 * @id: its id there
 * @jobs: how many jobs
 * @polls: polls per job
 *
 * Context: process context; may sleep.
 * Return: 0, or -ENOENT if @id is no demo VM of @world.
 */
int stw_demo_queue_jobs(const char *world, u32 id, u32 jobs, u32 polls)
{
	struct stw_demo_world *dw;
	struct stw_demo *d;
	int ret = -ENOENT;

	mutex_lock(&stw_demo_lock);
	dw = stw_demo_world_find(world);
	d = dw ? xa_load(&dw->vms, id) : NULL;
	if (d) {
		WRITE_ONCE(d->queued_polls, polls);
		atomic_add(jobs, &d->queued_jobs);
		kthread_queue_work(d->vm->worker, &d->queued_work);
		ret = 0;
	}
	mutex_unlock(&stw_demo_lock);
	return ret;
}

/**
 * stw_demo_init() - demo VMs go in stw's default world unless told otherwise
 *
 * Context: module init; process context.
 * Return: 0 or -ENOMEM.
 */
int __init stw_demo_init(void)
{
	struct stw_demo_world *dw = kzalloc(sizeof(*dw), GFP_KERNEL);

	if (!dw)
		return -ENOMEM;
	dw->world = stw_default_world();
	xa_init(&dw->vms);
	mutex_lock(&stw_demo_lock);
	list_add_tail(&dw->node, &stw_demo_worlds);
	mutex_unlock(&stw_demo_lock);
	return 0;
}

/**
 * stw_demo_exit() - destroy every demo VM, for good
 *
 * A SPAWN still in its handler when the module began to go either
 * published its VM before this closed the set (and the kill below finds
 * it) or fails with -ESHUTDOWN.
 *
 * Context: module exit; process context; may sleep.
 */
void stw_demo_exit(void)
{
	struct stw_demo_world *dw;
	unsigned int n;

	mutex_lock(&stw_demo_lock);
	stw_demo_closed = true;
	mutex_unlock(&stw_demo_lock);
	/* The list no longer changes: closed, and only stw_demo_free() cuts. */
	list_for_each_entry(dw, &stw_demo_worlds, node)
		stw_demo_kill_all(stw_world_name(dw->world), NULL, 0, &n);
}

/**
 * stw_demo_free() - destroy the worlds made for demo VMs
 *
 * After stw_demo_exit() and once no netlink request can come: a KILL in
 * its handler may still be destroying a VM until then.
 *
 * Context: module exit; process context; may sleep.
 */
void stw_demo_free(void)
{
	struct stw_demo_world *dw, *tmp;

	list_for_each_entry_safe(dw, tmp, &stw_demo_worlds, node) {
		list_del(&dw->node);
		/* Empty, and stw holds no kernel hold: it cannot fail. */
		if (dw->made)
			WARN_ON(stw_world_destroy(dw->world));
		xa_destroy(&dw->vms);
		kfree(dw);
	}
}
