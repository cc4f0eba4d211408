// SPDX-License-Identifier: GPL-2.0
/*
 * VMs: kernel threads with a kthread_worker run loop, and their life in
 * the world.
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "world.h"

/*
 * The stop work item that makes an idle VM stop. It does nothing by hand:
 * entering runs the entry service, which parks the VM at the stop point like
 * any VM that enters during a stop (race 2).
 */
static void stw_vm_stop_work(struct kthread_work *work)
{
	struct stw_vm *vm = container_of(work, struct stw_vm, stop_work);

	/*
	 * Race 6: clear the flag before entering. Once the work has started
	 * it serves no further request, so the next one must dispatch again.
	 */
	clear_bit(STW_VM_DISPATCHED, &vm->flags);
	smp_mb__after_atomic(); /* clear the flag, then look at the trap */
	stw_probe(STW_PROBE_STOP_WORK_ENTER, vm);
	if (stw_mutant(2)) {
		stw_mutant_stop_by_hand(vm);
		return;
	}
	vm->in_stop_work = true;
	stw_vm_enter(vm);
	stw_vm_exit(vm);
	vm->in_stop_work = false;
}

/* The first thing a VM born in RUN_ALL does: say it runs, on its thread. */
static void stw_vm_start_work(struct kthread_work *work)
{
	struct stw_vm *vm = container_of(work, struct stw_vm, start_work);

	mutex_lock(&stw_world.lock);
	if (vm->state == STW_VM_STARTING)
		vm->state = STW_VM_RUNNING;
	mutex_unlock(&stw_world.lock);
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
	struct stw_vm *vm;
	u32 id;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	vm->kind = kind;
	vm->priv = priv;
	vm->state = STW_VM_STARTING;
	init_waitqueue_head(&vm->park_wq);
	kthread_init_work(&vm->stop_work, stw_vm_stop_work);
	kthread_init_work(&vm->start_work, stw_vm_start_work);

	/* Reserve the id first: it is part of the thread's name. */
	mutex_lock(&stw_world.lock);
	ret = -ESHUTDOWN;
	if (stw_world.shutting_down)
		goto err_unlock;
	ret = -ENOSPC;
	if (stw_world.nr_vms >= STW_MAX_VMS)
		goto err_unlock;
	/* Cyclic, so a killed VM's id does not name a new VM at once. */
	ret = xa_alloc_cyclic(&stw_world.vms, &id, NULL, xa_limit_31b,
			      &stw_world.next_vm_id, GFP_KERNEL);
	if (ret < 0)
		goto err_unlock;
	stw_world.nr_vms++;
	mutex_unlock(&stw_world.lock);

	vm->id = id;
	snprintf(vm->name, sizeof(vm->name), "%s-%u", name, id);
	worker = kthread_create_worker(0, "stw/%s", vm->name);
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto err_release_id;
	}
	vm->worker = worker;

	mutex_lock(&stw_world.lock);
	xa_store(&stw_world.vms, id, vm, GFP_KERNEL);
	if (stw_world.mode == STW_RUN_ALL)
		kthread_queue_work(worker, &vm->start_work);
	else
		stw_world_arm_new_vm(vm);
	mutex_unlock(&stw_world.lock);
	stw_event_vm(vm, true);
	return vm;

err_release_id:
	mutex_lock(&stw_world.lock);
	xa_erase(&stw_world.vms, id);
	stw_world.nr_vms--;
err_unlock:
	mutex_unlock(&stw_world.lock);
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
	struct stw_report rep = {};

	stw_probe(STW_PROBE_VM_DESTROY, vm);
	mutex_lock(&stw_world.lock);
	if (vm->dying) {
		mutex_unlock(&stw_world.lock);
		return;
	}
	vm->dying = true;
	set_bit(STW_TRAP_NEED_STOP, &vm->trap);	/* its polls notice */
	xa_erase(&stw_world.vms, vm->id);
	stw_world.nr_vms--;
	stw_world_vm_gone(vm, &rep);
	mutex_unlock(&stw_world.lock);
	stw_world_report(&rep);
	stw_event_vm(vm, false);
}
EXPORT_SYMBOL_GPL(stw_vm_shutdown);

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
	kfree(vm);
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

static enum stw_vm_doing stw_vm_doing(struct stw_vm *vm)
{
	lockdep_assert_held(&stw_world.lock);
	if (vm->parked)
		return STW_VM_DOING_PARKED;
	if (READ_ONCE(vm->entered))
		return task_is_running(vm->worker->task) ?
			STW_VM_DOING_RUNNING : STW_VM_DOING_BLOCKED;
	if (test_bit(STW_VM_DISPATCHED, &vm->flags))
		return STW_VM_DOING_IDLE_DISPATCHED;
	return STW_VM_DOING_IDLE;
}

/**
 * stw_vm_snapshot() - copy what user space is told about a VM
 * @vm: the VM
 * @snap: filled in
 *
 * Context: world lock held.
 */
void stw_vm_snapshot(struct stw_vm *vm, struct stw_vm_snap *snap)
{
	lockdep_assert_held(&stw_world.lock);
	snap->id = vm->id;
	strscpy(snap->name, vm->name, sizeof(snap->name));
	snap->pid = task_pid_nr(vm->worker->task);
	snap->kind = vm->kind;
	snap->state = vm->state;
	snap->doing = stw_vm_doing(vm);
	snap->stops = vm->stops;
	snap->last_tts_ns = vm->last_tts_ns;
	snap->polls = READ_ONCE(vm->polls);
	snap->jobs = READ_ONCE(vm->jobs);
}
