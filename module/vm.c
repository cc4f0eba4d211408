// SPDX-License-Identifier: GPL-2.0
/*
 * VMs: kernel threads with a kthread_worker run loop, and their life in
 * the world. The protocol's side of a VM (stop points, the stop work) is
 * in world.c; here is creation and destruction.
 */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "world.h"

static void stw_vm_stop_work(struct kthread_work *work)
{
	stw_world_stop_work(container_of(work, struct stw_vm, stop_work));
}

/* The first thing a VM born in RUN_ALL does: say it runs, on its thread. */
static void stw_vm_start_work(struct kthread_work *work)
{
	stw_world_vm_started(container_of(work, struct stw_vm, start_work));
}

/**
 * stw_vm_create() - create a VM and add it to the world
 * @kind: STW_VM_KIND_EXTERNAL for VMs of other modules
 * @priv: the owner's pointer, stw does not touch it
 * @name: the VM is named "@name-<id>", its thread "stw/@name-<id>"
 *
 * A VM created while the world is stopping or stopped parks at its first
 * entry; the stop work queued on it makes that happen at once.
 *
 * Context: process context; may sleep.
 * Return: the VM, or an ERR_PTR(): -ENOSPC when STW_MAX_VMS VMs live,
 * -ESHUTDOWN while stw unloads, -ENOMEM, or what thread creation failed with.
 */
struct stw_vm *stw_vm_create(enum stw_vm_kind kind, void *priv,
			     const char *name)
{
	struct kthread_worker *worker;
	struct task_struct *task;
	struct stw_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	/* One world for now: every VM joins it. */
	vm->world = &stw_default_world;
	vm->kind = kind;
	vm->priv = priv;
	vm->state = STW_VM_STARTING;
	spin_lock_init(&vm->lock);
	init_waitqueue_head(&vm->park_wq);
	kthread_init_work(&vm->stop_work, stw_vm_stop_work);
	kthread_init_work(&vm->start_work, stw_vm_start_work);

	/* Reserve the id first: it is part of the thread's name. */
	ret = stw_world_add_vm(vm);
	if (ret)
		goto err_free_vm;
	snprintf(vm->name, sizeof(vm->name), "%s-%u", name, vm->id);
	/*
	 * kthread_create_worker() by hand. Once running, kthread_worker_fn()
	 * stores worker->task again (the same pointer, plainly), and every
	 * kthread_queue_work() reads it: so the thread must be past that
	 * store before the VM is published and anyone queues on it.
	 */
	ret = -ENOMEM;
	worker = kzalloc(sizeof(*worker), GFP_KERNEL);
	if (!worker)
		goto err_forget_vm;
	kthread_init_worker(worker);
	task = kthread_create(kthread_worker_fn, worker, "stw/%s", vm->name);
	if (IS_ERR(task)) {
		ret = PTR_ERR(task);
		goto err_free_worker;
	}
	worker->task = task;
	vm->worker = worker;
	vm->task = get_task_struct(task);
	vm->pid = task_pid_nr(task);
	/*
	 * The flush work is queued while the thread still sleeps where
	 * kthread_create() left it: queueing it is what wakes the thread,
	 * and its completion is the thread's word that it has passed its
	 * store.
	 */
	kthread_flush_worker(worker);
	stw_world_publish_vm(vm);
	return vm;

err_free_worker:
	kfree(worker);
err_forget_vm:
	stw_world_forget_vm(vm);
err_free_vm:
	kfree(vm);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(stw_vm_create);

/**
 * stw_vm_shutdown() - take a VM out of the world, leaving its thread
 * @vm: the VM
 *
 * From now on the VM never parks: a parked VM is released, its polls return
 * true and it no longer counts in any stop, so its going may complete one.
 * Its owner then lets its jobs finish (cancels delayed ones) and calls
 * stw_vm_destroy(). Idempotent.
 *
 * Context: process context; may sleep. Not on @vm's own thread.
 */
void stw_vm_shutdown(struct stw_vm *vm)
{
	stw_world_probe(vm->world, STW_PROBE_VM_DESTROY, vm);
	stw_world_remove_vm(vm);
}
EXPORT_SYMBOL_GPL(stw_vm_shutdown);

/* After the grace period no STATUS dump can be looking at it. */
static void stw_vm_free_rcu(struct rcu_head *head)
{
	struct stw_vm *vm = container_of(head, struct stw_vm, rcu);

	put_task_struct(vm->task);
	kfree(vm);
}

/**
 * stw_vm_destroy() - destroy a VM
 * @vm: the VM; its owner queues no more jobs on it
 *
 * Shuts the VM down if that was not done, runs the jobs still queued (they
 * see the VM dying), stops its thread and frees it. A job that queues
 * itself again must be cancelled first (kthread_cancel_work_sync(), after
 * stw_vm_shutdown() so that it is not parked), or it may be queued after
 * the flush.
 *
 * Context: process context; may sleep. Not on @vm's own thread.
 */
void stw_vm_destroy(struct stw_vm *vm)
{
	stw_vm_shutdown(vm);
	kthread_destroy_worker(vm->worker);
	call_rcu(&vm->rcu, stw_vm_free_rcu);
}
EXPORT_SYMBOL_GPL(stw_vm_destroy);

/**
 * stw_vm_queue_job() - queue a job on a VM's run loop
 * @vm: the VM
 * @work: the job; it brackets its work with stw_vm_enter()/stw_vm_exit()
 *
 * Context: any context.
 * Return: false if @work was already queued.
 */
bool stw_vm_queue_job(struct stw_vm *vm, struct kthread_work *work)
{
	return kthread_queue_work(vm->worker, work);
}
EXPORT_SYMBOL_GPL(stw_vm_queue_job);
