// SPDX-License-Identifier: GPL-2.0
/*
 * VMs: kernel threads with a run loop, and their life in the world: made
 * by stw (a kthread_worker of its own), or its owner's (an attached
 * kthread_worker, a registered plain kthread). The protocol's side of a VM
 * (stop points, the stop work) is in world.c; here is creation and
 * destruction.
 */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "world.h"
#include "mutant.h"

static void stw_vm_stop_work(struct kthread_work *work)
{
	stw_world_stop_work(container_of(work, struct stw_vm, stop_work));
}

/* The first thing a VM born in RUN_ALL does: say it runs, on its thread. */
static void stw_vm_start_work(struct kthread_work *work)
{
	stw_world_vm_started(container_of(work, struct stw_vm, start_work));
}

/* A VM not in the world yet, with its place (and id) reserved there. */
static struct stw_vm *stw_vm_alloc(struct stw_world *w,
				   enum stw_vm_kind kind, void *priv,
				   const char *name)
{
	struct stw_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	vm->world = w;
	vm->kind = kind;
	vm->priv = priv;
	vm->state = STW_VM_STARTING;
	spin_lock_init(&vm->lock);
	init_waitqueue_head(&vm->park_wq);
	init_waitqueue_head(&vm->idle_wq);
	kthread_init_work(&vm->stop_work, stw_vm_stop_work);
	kthread_init_work(&vm->start_work, stw_vm_start_work);

	/* Reserve the id first: it is part of the VM's name. */
	ret = stw_world_add_vm(vm);
	if (ret) {
		kfree(vm);
		return ERR_PTR(ret);
	}
	snprintf(vm->name, sizeof(vm->name), "%s-%u", name, vm->id);
	return vm;
}

/* Give back a VM from stw_vm_alloc() that was never published. */
static void stw_vm_free_unpublished(struct stw_vm *vm)
{
	stw_world_forget_vm(vm);
	kfree(vm);
}

/**
 * stw_vm_create() - create a VM and add it to a world
 * @w: the world it joins, from stw_world_create(); it stops with it
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
struct stw_vm *stw_vm_create(struct stw_world *w, enum stw_vm_kind kind,
			     void *priv, const char *name)
{
	struct kthread_worker *worker;
	struct task_struct *task;
	struct stw_vm *vm;
	int ret;

	/* Those run on their owners' threads: attach or register them. */
	if (WARN_ON_ONCE(kind == STW_VM_KIND_WORKER ||
			 kind == STW_VM_KIND_KTHREAD))
		return ERR_PTR(-EINVAL);
	vm = stw_vm_alloc(w, kind, priv, name);
	if (IS_ERR(vm))
		return vm;
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
	stw_probe_born(task);
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
	stw_vm_free_unpublished(vm);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(stw_vm_create);

/**
 * stw_vm_attach_worker() - make an existing kthread_worker a VM
 * @w: the world it joins
 * @worker: its owner's, from kthread_create_worker(), running
 * @name: the VM is named "@name-<id>"; the thread keeps its own name
 *
 * The owner keeps its worker: it queues its jobs there as before and
 * destroys it. stw queues its stop work there too, so the worker is
 * stopped between jobs; a job that brackets itself with stw_vm_enter() and
 * stw_vm_exit() (the VM is the one returned here) is stopped at its polls
 * as well. A worker attached twice is two VMs that never stop apart: don't.
 *
 * To let go, in this order: stw_vm_shutdown(), so that a job parked at a
 * poll is released and no job parks again; cancel or flush the jobs that
 * use the VM; stw_vm_detach(); kthread_destroy_worker(). A worker whose
 * thread exits while attached is reported (WARN) at the next stop, which
 * goes on without it.
 *
 * Context: process context; may sleep. Not on @worker's thread.
 * Return: the VM, or an ERR_PTR(): -EINVAL for a worker without a thread,
 * -ENOSPC when STW_MAX_VMS VMs live, -ESHUTDOWN while stw unloads, -ENOMEM.
 */
struct stw_vm *stw_vm_attach_worker(struct stw_world *w,
				    struct kthread_worker *worker,
				    const char *name)
{
	struct stw_vm *vm;

	if (WARN_ON_ONCE(!worker || !worker->task))
		return ERR_PTR(-EINVAL);
	vm = stw_vm_alloc(w, STW_VM_KIND_WORKER, NULL, name);
	if (IS_ERR(vm))
		return vm;
	vm->worker = worker;
	vm->task = get_task_struct(worker->task);
	vm->pid = task_pid_nr(vm->task);
	/*
	 * A worker just made stores its task again when its thread starts
	 * (see stw_vm_create()): once this returns, it has.
	 */
	kthread_flush_worker(worker);
	stw_world_publish_vm(vm);
	return vm;
}
EXPORT_SYMBOL_GPL(stw_vm_attach_worker);

/**
 * stw_vm_register_current() - make the calling kthread a VM
 * @w: the world it joins
 * @name: the VM is named "@name-<id>"; the thread keeps its own name
 *
 * For a plain kthread with a loop of its own. Between its units of work it
 * sleeps only in stw_vm_wait_event(), which is its run loop as far as stw
 * is concerned: an idle thread is stopped there. Its work brackets itself
 * with stw_vm_enter()/stw_vm_exit() and polls. It calls stw_vm_detach()
 * before it returns. kthread_stop() may come at any time: a thread parked
 * in a stopped world then leaves the world (its polls return true) and
 * goes on to its end.
 *
 * Context: a kthread, process context; may sleep.
 * Return: the VM, or an ERR_PTR(): -EINVAL if not called on a kthread,
 * -ENOSPC, -ESHUTDOWN, -ENOMEM.
 */
struct stw_vm *stw_vm_register_current(struct stw_world *w, const char *name)
{
	struct stw_vm *vm;

	if (WARN_ON_ONCE(!(current->flags & PF_KTHREAD)))
		return ERR_PTR(-EINVAL);
	vm = stw_vm_alloc(w, STW_VM_KIND_KTHREAD, NULL, name);
	if (IS_ERR(vm))
		return vm;
	vm->task = get_task_struct(current);
	vm->pid = task_pid_nr(current);
	stw_world_publish_vm(vm);
	return vm;
}
EXPORT_SYMBOL_GPL(stw_vm_register_current);

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

/*
 * Nothing of stw's left on an attached worker, unless its thread exited
 * (its owner destroyed it before detaching): then the worker may be freed
 * already, and nothing runs there any more.
 */
static void stw_vm_cancel_works(struct stw_vm *vm)
{
	if (!vm->worker || test_bit(STW_VM_ORPHANED, &vm->flags) ||
	    stw_vm_orphaned(vm))
		return;
	kthread_cancel_work_sync(&vm->stop_work);
	kthread_cancel_work_sync(&vm->start_work);
}

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
	/* Its thread is its owner's to stop. */
	if (WARN_ON_ONCE(stw_vm_attached(vm))) {
		stw_vm_detach(vm);
		return;
	}
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
	if (WARN_ON_ONCE(!vm->worker))
		return false;
	return kthread_queue_work(vm->worker, work);
}
EXPORT_SYMBOL_GPL(stw_vm_queue_job);

/**
 * stw_vm_detach() - take an attached or registered VM out, and free it
 * @vm: from stw_vm_attach_worker() or stw_vm_register_current()
 *
 * The VM leaves its world as stw_vm_shutdown() says (a parked VM is
 * released, a stop under way no longer waits for it), and nothing of
 * stw's is left on its thread: a stop work queued on the worker is
 * cancelled, one running has returned. The owner may then destroy its
 * worker, or its thread may return. @vm is freed: nothing may use it
 * after, so the owner's jobs that use it are cancelled or flushed first
 * (after stw_vm_shutdown(), so that none is parked), and whatever wakes a
 * registered kthread with stw_vm_wake() is stopped first.
 *
 * A registered kthread detaches itself at the end of its loop, or its
 * owner detaches it once kthread_stop() has returned.
 *
 * Context: process context; may sleep. An attached worker's VM not on
 * that worker's thread.
 */
void stw_vm_detach(struct stw_vm *vm)
{
	/*
	 * Out of the world first: once dying, no dispatch queues a stop
	 * work, so the cancel below is the last word. Mutant 12 cancels
	 * first, and a stop work queued in between stays on the worker.
	 */
	if (stw_mutant(12))
		stw_vm_cancel_works(vm);
	stw_vm_shutdown(vm);
	if (!stw_mutant(12))
		stw_vm_cancel_works(vm);
	call_rcu(&vm->rcu, stw_vm_free_rcu);
}
EXPORT_SYMBOL_GPL(stw_vm_detach);
