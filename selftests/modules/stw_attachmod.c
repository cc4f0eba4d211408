// SPDX-License-Identifier: GPL-2.0
/*
 * stw_attachmod: a client of stw's attach API for the selftests. It owns
 * kthread_workers and plain kthreads, as a driver would, and makes them
 * VMs: the workers with stw_vm_attach_worker(), the threads with
 * stw_vm_register_current() and a run loop in stw_vm_wait_event(). Its
 * threads do nothing until fed, so a test decides when each has work.
 * Driven through its parameters:
 *
 *	insmod stw_attachmod.ko workers=1 threads=1 [world=NAME] [unit=POLLS]
 *	echo feed_thread > /sys/module/stw_attachmod/parameters/action
 *
 * Actions, on worker 0 or thread 0:
 *	feed_worker	queue a job: entered, a unit of polls
 *	feed_thread	give the thread a unit of work, and wake it
 *	block_worker	queue a job that does not enter and waits for
 *	unblock_worker	this: the worker stays busy meanwhile
 *	detach_worker	let it go as an owner must (stw_vm_shutdown(), its
 *			job cancelled, stw_vm_detach()), then count what
 *			stw left on the worker (left): removed, so it
 *			never runs
 *	detach_worker_only  stw_vm_detach() alone, as an owner may when no
 *			job of its uses the VM; then left, as above
 *	forget_worker	kthread_destroy_worker() without detaching first,
 *			as a buggy owner would; detach_worker afterwards
 *			frees the VM (its VM is named "forgetful")
 *	forget_thread	the thread returns without detaching; detach_thread
 *			afterwards frees the VM (named "forgetful" too)
 *	detach_thread	stop the thread (it detaches itself) or free its
 *			forgotten VM
 */
#include <linux/atomic.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "module/stw.h"

#define ATTACHMOD_MAX	4

static char *world_name;
module_param_named(world, world_name, charp, 0444);
MODULE_PARM_DESC(world, "make a world of this name (default: stw's default world)");

static int workers = 1;
module_param(workers, int, 0444);
MODULE_PARM_DESC(workers, "kthread_workers made and attached at load");

static int threads = 1;
module_param(threads, int, 0444);
MODULE_PARM_DESC(threads, "plain kthreads made at load, each registers itself");

/* Each poll of a step is a stop point: selftests/explore wants few. */
static uint unit = 100;
module_param(unit, uint, 0444);
MODULE_PARM_DESC(unit, "polls in a unit of work (default 100)");

static bool forget;
module_param(forget, bool, 0444);
MODULE_PARM_DESC(forget, "name the VMs \"forgetful\": a test forgets to detach them");

/* Results and counters, read by the tests. */
static uint worker_jobs;
module_param(worker_jobs, uint, 0444);
static uint thread_jobs;
module_param(thread_jobs, uint, 0444);
/* Every VM's units count here: an atomic, read through its own get. */
static atomic_t unit_polls = ATOMIC_INIT(0);

static int unit_polls_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&unit_polls));
}

static const struct kernel_param_ops unit_polls_ops = {
	.get = unit_polls_get,
};

module_param_cb(unit_polls, &unit_polls_ops, NULL, 0444);
MODULE_PARM_DESC(unit_polls, "polls made in units of work by every VM: how far a unit is");
static uint registered;
module_param(registered, uint, 0444);
MODULE_PARM_DESC(registered, "threads that registered (or failed: see register_err)");
static int register_err;
module_param(register_err, int, 0444);
static int worker_blocked;
module_param(worker_blocked, int, 0444);
static int left = -1;
module_param(left, int, 0444);
MODULE_PARM_DESC(left, "stw's works found on worker 0 after its detach");

struct attachmod_worker {
	struct kthread_worker *worker;
	struct stw_vm *vm;
	struct kthread_work job;
	bool forgotten;		/* destroyed without a detach */
};

struct attachmod_thread {
	struct task_struct *task;
	struct stw_vm *vm;	/* written by the thread at registration */
	atomic_t work;		/* units given, not done */
	bool forget;		/* return without detaching */
};

static struct attachmod_worker aworkers[ATTACHMOD_MAX];
static int nr_aworkers;
static struct attachmod_thread athreads[ATTACHMOD_MAX];
static int nr_athreads;
static struct stw_world *aworld;
static struct kthread_work block_work;
static DECLARE_WAIT_QUEUE_HEAD(block_wq);
static bool unblock;
/* Registrations, for load to wait on. */
static DECLARE_WAIT_QUEUE_HEAD(registered_wq);

/* A unit of work, entered: unit polls. */
static void attachmod_unit(struct stw_vm *vm)
{
	unsigned int i;

	stw_vm_enter(vm);
	for (i = 0; i < unit; i++) {
		atomic_inc(&unit_polls);
		if (stw_vm_poll(vm))
			break;
	}
	stw_vm_exit(vm);
}

static void attachmod_worker_job(struct kthread_work *work)
{
	struct attachmod_worker *a = container_of(work, struct attachmod_worker,
						  job);

	attachmod_unit(a->vm);
	WRITE_ONCE(worker_jobs, worker_jobs + 1);
}

/* A job a driver could have: it knows nothing of stw, and waits. */
static void attachmod_block_job(struct kthread_work *work)
{
	WRITE_ONCE(worker_blocked, 1);
	wait_event_idle(block_wq, READ_ONCE(unblock));
	WRITE_ONCE(worker_blocked, 0);
}

static bool attachmod_has_work(struct attachmod_thread *t)
{
	return atomic_read(&t->work) > 0;
}

static int attachmod_thread_fn(void *data)
{
	struct attachmod_thread *t = data;
	struct stw_vm *vm;

	vm = stw_vm_register_current(aworld, forget ? "forgetful" : "athread");
	if (IS_ERR(vm)) {
		WRITE_ONCE(register_err, PTR_ERR(vm));
		goto out_registered;
	}
	WRITE_ONCE(t->vm, vm);
out_registered:
	WRITE_ONCE(registered, registered + 1);
	wake_up_all(&registered_wq);
	if (IS_ERR(vm))
		goto out_wait_stop;

	while (!kthread_should_stop() && !READ_ONCE(t->forget)) {
		stw_vm_wait_event(vm, attachmod_has_work(t) ||
				      kthread_should_stop() ||
				      READ_ONCE(t->forget));
		if (!attachmod_has_work(t))
			continue;
		attachmod_unit(vm);
		atomic_dec(&t->work);
		WRITE_ONCE(thread_jobs, thread_jobs + 1);
	}
	/* A buggy owner's thread: gone, its VM left attached. */
	if (READ_ONCE(t->forget))
		return 0;
	stw_vm_detach(vm);
out_wait_stop:
	/* kthread_stop() is coming: a kthread must not return before it. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_IDLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/*
 * What stw left on a detached worker: every work queued there that is
 * not this module's. Taken off the list, so that none of them runs on a
 * freed VM (a mutant's leftovers would).
 */
static int attachmod_take_foreign_works(struct kthread_worker *worker)
{
	struct kthread_work *work, *tmp;
	int n = 0;

	raw_spin_lock_irq(&worker->lock);
	list_for_each_entry_safe(work, tmp, &worker->work_list, node) {
		if (work == &block_work || work == &aworkers[0].job)
			continue;
		list_del_init(&work->node);
		n++;
	}
	raw_spin_unlock_irq(&worker->lock);
	return n;
}

/*
 * Let worker @a go. Its job uses the VM: out of the world first, so that
 * a job parked at a poll is released and parks no more, then the job
 * cancelled, then the VM detached (freed). @only: stw_vm_detach() alone,
 * which takes the VM out itself; right when no queued job uses it.
 */
static void attachmod_detach_worker(struct attachmod_worker *a, bool only)
{
	if (!a->vm)
		return;
	if (!only) {
		stw_vm_shutdown(a->vm);
		/* A forgotten worker is freed, and its job with it. */
		if (!a->forgotten)
			kthread_cancel_work_sync(&a->job);
	}
	stw_vm_detach(a->vm);
	a->vm = NULL;
	/* A forgotten worker is freed: nothing to look at. */
	if (!a->forgotten)
		WRITE_ONCE(left, attachmod_take_foreign_works(a->worker));
}

/* The thread stops, detaching itself on the way; or its forgotten VM. */
static void attachmod_stop_thread(struct attachmod_thread *t)
{
	if (!t->task)
		return;
	kthread_stop(t->task);
	put_task_struct(t->task);
	t->task = NULL;
	if (t->forget && !IS_ERR_OR_NULL(t->vm))
		stw_vm_detach(t->vm);
	t->vm = NULL;
}

static int attachmod_action_set(const char *val, const struct kernel_param *kp)
{
	struct attachmod_worker *a = &aworkers[0];
	struct attachmod_thread *t = &athreads[0];

	if (sysfs_streq(val, "feed_worker") && a->vm) {
		kthread_queue_work(a->worker, &a->job);
	} else if (sysfs_streq(val, "feed_thread") && t->vm) {
		atomic_inc(&t->work);
		stw_vm_wake(t->vm);
	} else if (sysfs_streq(val, "block_worker") && a->worker) {
		WRITE_ONCE(unblock, false);
		kthread_queue_work(a->worker, &block_work);
	} else if (sysfs_streq(val, "unblock_worker")) {
		WRITE_ONCE(unblock, true);
		wake_up_all(&block_wq);
	} else if (sysfs_streq(val, "detach_worker") && a->worker) {
		attachmod_detach_worker(a, false);
	} else if (sysfs_streq(val, "detach_worker_only") && a->worker) {
		attachmod_detach_worker(a, true);
	} else if (sysfs_streq(val, "forget_worker") && a->vm &&
		   !a->forgotten) {
		a->forgotten = true;
		kthread_destroy_worker(a->worker);
	} else if (sysfs_streq(val, "forget_thread") && t->vm) {
		WRITE_ONCE(t->forget, true);
		wake_up_process(t->task);
	} else if (sysfs_streq(val, "detach_thread")) {
		attachmod_stop_thread(t);
	} else {
		return -EINVAL;
	}
	return 0;
}

static const struct kernel_param_ops attachmod_action_ops = {
	.set = attachmod_action_set,
};
module_param_cb(action, &attachmod_action_ops, NULL, 0200);

static void attachmod_cleanup(void)
{
	int i;

	WRITE_ONCE(unblock, true);
	wake_up_all(&block_wq);
	for (i = 0; i < nr_athreads; i++)
		attachmod_stop_thread(&athreads[i]);
	for (i = 0; i < nr_aworkers; i++) {
		attachmod_detach_worker(&aworkers[i], false);
		if (!aworkers[i].forgotten)
			kthread_destroy_worker(aworkers[i].worker);
	}
	if (world_name && !IS_ERR_OR_NULL(aworld))
		stw_world_destroy(aworld);
}

static int __init attachmod_init(void)
{
	int ret, i;

	kthread_init_work(&block_work, attachmod_block_job);
	aworld = world_name ? stw_world_create(world_name) :
			      stw_default_world();
	if (IS_ERR(aworld))
		return PTR_ERR(aworld);
	for (i = 0; i < min(workers, ATTACHMOD_MAX); i++) {
		struct attachmod_worker *a = &aworkers[i];

		a->worker = kthread_create_worker(0, "attachmod/%d", i);
		if (IS_ERR(a->worker)) {
			ret = PTR_ERR(a->worker);
			goto err_cleanup;
		}
		nr_aworkers++;
		kthread_init_work(&a->job, attachmod_worker_job);
		a->vm = stw_vm_attach_worker(aworld, a->worker,
					     forget ? "forgetful" : "aworker");
		if (IS_ERR(a->vm)) {
			ret = PTR_ERR(a->vm);
			a->vm = NULL;
			goto err_cleanup;
		}
	}
	for (i = 0; i < min(threads, ATTACHMOD_MAX); i++) {
		struct attachmod_thread *t = &athreads[i];
		struct task_struct *task;

		task = kthread_run(attachmod_thread_fn, t, "attachmod-t%d", i);
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			goto err_cleanup;
		}
		t->task = get_task_struct(task);
		nr_athreads++;
	}
	/* Loaded means registered: a test looks at the VMs next. */
	wait_event(registered_wq, READ_ONCE(registered) == nr_athreads);
	ret = READ_ONCE(register_err);
	if (ret)
		goto err_cleanup;
	return 0;

err_cleanup:
	attachmod_cleanup();
	return ret;
}

static void __exit attachmod_exit(void)
{
	attachmod_cleanup();
}

module_init(attachmod_init);
module_exit(attachmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stw selftests: attached kthread_workers and registered kthreads");
