// SPDX-License-Identifier: GPL-2.0
/*
 * stw_loop: an example client of stw's in-kernel API (module/stw.h) whose
 * VMs are plain kthreads with loops of their own: each, started with
 * kthread_run(), makes itself a VM with stw_vm_register_current() in a
 * world of their own ("loop").
 *
 * A producer (a delayed work on the system workqueue, not a VM: it goes on
 * while the world is stopped) puts items in each thread's ring each jiffy
 * and wakes it with stw_vm_wake(). A thread sleeps in stw_vm_wait_event()
 * until its ring has items, then, entered, takes them one at a time: it
 * takes an item out of the ring, digests it, counts it done, and only then
 * polls. Between taking and counting the item is in no count at all, so
 * the thread may stop between two items, never in the middle of one. When
 * the ring is empty it leaves and waits again: a stop finds it there idle,
 * and its wait serves the stop.
 *
 * A stop notifier checks, each time the world stops (and each time a step
 * ends), with a hold of its own taken so that every thread is parked, that
 * every item given to a thread is in its ring or counted done: no item in
 * flight, none lost, none made. It counts its checks and failures; both,
 * and the items done, are read-only module parameters:
 *
 *	/sys/module/stw_loop/parameters/{checks,failures,last_generation,items}
 *
 * A thread detaches itself (stw_vm_detach()) when kthread_stop() tells it
 * to end, even from a world a controller holds stopped: kthread_stop()
 * wakes a parked thread, which leaves the world and goes on to its end.
 *
 *	make -C examples KDIR=... STW_DIR=/path/to/stw
 *	insmod module/stw.ko && insmod examples/stw_loop.ko threads=2
 *	stwctl -w loop stop && cat /sys/module/stw_loop/parameters/checks
 */
#include <linux/completion.h>
#include <linux/jhash.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "module/stw.h"

/* Items a ring holds; a power of two, so that its counters may wrap. */
#define LOOP_RING	64

static unsigned int threads = 2;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "kthreads registered as VMs (1..64, default 2)");

static unsigned int batch = 8;
module_param(batch, uint, 0444);
MODULE_PARM_DESC(batch, "items the producer gives each thread each jiffy (1..64, default 8)");

static unsigned int rounds = 16;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "hash rounds that digest an item, its work (1..100000, default 16)");

/* The notifier's results, written under loop_lock. */
static unsigned long checks;
module_param(checks, ulong, 0444);
MODULE_PARM_DESC(checks, "stops the notifier checked (read-only)");

static unsigned long failures;
module_param(failures, ulong, 0444);
MODULE_PARM_DESC(failures, "checks that found an item in flight, lost or made (read-only)");

static unsigned long long last_generation;
module_param(last_generation, ullong, 0444);
MODULE_PARM_DESC(last_generation, "the stop cycle checked last (read-only)");

static unsigned long missed;
module_param(missed, ulong, 0444);
MODULE_PARM_DESC(missed, "stops not checked: the notifier's own stop timed out (read-only)");

/* A cycle the notifier started itself: its own STOPPED is not checked. */
static u64 own_generation;

struct loop_thread {
	struct task_struct *task;
	/* Set by the thread, an ERR_PTR() if it failed, before @registered. */
	struct stw_vm *vm;
	struct completion registered;
	/*
	 * Protects @ring, @head, @tail and the counts below it: the
	 * producer puts, the thread takes and counts, the notifier adds up.
	 * The thread's wait reads @head without it, the items parameter
	 * @done.
	 */
	spinlock_t lock;
	u32 ring[LOOP_RING];
	unsigned int head;		/* the producer puts there */
	unsigned int tail;		/* the thread takes from there */
	unsigned long given;		/* items the producer put */
	u64 given_sum;			/* and what they add up to */
	unsigned long done;		/* items the thread counted done */
	u64 done_sum;
	/* What the thread made of its items: its own. */
	u32 digest;
};

/* The threads' world: they stop and resume together, apart from any other. */
static struct stw_world *loop_world;
static struct loop_thread *loop_threads;
static DEFINE_MUTEX(loop_lock);
static bool closing;

static int loop_get_items(char *buf, const struct kernel_param *kp)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; loop_threads && i < threads; i++)
		sum += READ_ONCE(loop_threads[i].done);
	return sysfs_emit(buf, "%lu\n", sum);
}

static const struct kernel_param_ops loop_items_ops = {
	.get = loop_get_items,
};
module_param_cb(items, &loop_items_ops, NULL, 0444);
MODULE_PARM_DESC(items, "items done by every thread (read-only)");

static bool loop_has_work(struct loop_thread *t)
{
	/* The thread is the only writer of @tail. */
	return READ_ONCE(t->head) != t->tail;
}

/* Take the next item: from now until loop_done() it is in no count. */
static bool loop_take(struct loop_thread *t, u32 *item)
{
	bool took = false;

	spin_lock(&t->lock);
	if (t->tail != t->head) {
		*item = t->ring[t->tail % LOOP_RING];
		t->tail++;
		took = true;
	}
	spin_unlock(&t->lock);
	return took;
}

static void loop_done(struct loop_thread *t, u32 item)
{
	spin_lock(&t->lock);
	WRITE_ONCE(t->done, t->done + 1);
	t->done_sum += item;
	spin_unlock(&t->lock);
}

static void loop_digest(struct loop_thread *t, u32 item)
{
	unsigned int i;

	for (i = 0; i < rounds; i++)
		t->digest = jhash_2words(item, i, t->digest);
}

/* Wait until kthread_stop(): a kthread must not return before it. */
static void loop_wait_stop(void)
{
	for (;;) {
		set_current_state(TASK_IDLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

static int loop_thread_fn(void *data)
{
	struct loop_thread *t = data;
	struct stw_vm *vm;
	u32 item;

	vm = stw_vm_register_current(loop_world, "loop");
	t->vm = vm;
	complete(&t->registered);
	if (IS_ERR(vm)) {
		/* Our starter stops us: the error is what kthread_stop() returns. */
		loop_wait_stop();
		return PTR_ERR(vm);
	}

	while (!kthread_should_stop()) {
		/* Idle, the thread is stopped here, by this wait. */
		stw_vm_wait_event(vm, loop_has_work(t) || kthread_should_stop());
		stw_vm_enter(vm);
		while (loop_take(t, &item)) {
			loop_digest(t, item);
			loop_done(t, item);
			/* The safe point: no item in flight. */
			if (stw_vm_poll(vm))
				break;		/* the VM is going away */
		}
		stw_vm_exit(vm);
	}
	stw_vm_detach(vm);
	return 0;
}

static void loop_produce(struct work_struct *work);
static DECLARE_DELAYED_WORK(loop_producer, loop_produce);

/* Fill every thread's ring by up to `batch` items, and wake the thread. */
static void loop_produce(struct work_struct *work)
{
	struct loop_thread *t;
	unsigned int i, n;
	u32 item;

	for (i = 0; i < threads; i++) {
		t = &loop_threads[i];
		spin_lock(&t->lock);
		for (n = 0; n < batch && t->head - t->tail < LOOP_RING; n++) {
			item = get_random_u32();
			t->ring[t->head % LOOP_RING] = item;
			WRITE_ONCE(t->head, t->head + 1);
			t->given++;
			t->given_sum += item;
		}
		spin_unlock(&t->lock);
		if (n)
			stw_vm_wake(t->vm);
	}
	if (!READ_ONCE(closing))
		schedule_delayed_work(&loop_producer, 1);
}

/*
 * Whether every item given to every thread is in its ring or counted
 * done; *@done is how many are done, which grows whenever a thread moves.
 * The producer goes on meanwhile: its lock keeps each ring whole.
 */
static bool loop_items_accounted(u64 generation, unsigned long *done)
{
	unsigned long queued, given, done_one;
	u64 queued_sum, given_sum, done_sum;
	struct loop_thread *t;
	unsigned int i, k;
	bool ok = true;

	*done = 0;
	for (i = 0; i < threads; i++) {
		t = &loop_threads[i];
		queued_sum = 0;
		spin_lock(&t->lock);
		queued = t->head - t->tail;
		for (k = t->tail; k != t->head; k++)
			queued_sum += t->ring[k % LOOP_RING];
		given = t->given;
		given_sum = t->given_sum;
		done_one = t->done;
		done_sum = t->done_sum;
		spin_unlock(&t->lock);
		if (done_one + queued != given ||
		    done_sum + queued_sum != given_sum) {
			pr_err("stw_loop: generation %llu: thread %u was given %lu items, has %lu and did %lu\n",
			       generation, i, given, queued, done_one);
			ok = false;
		}
		*done += done_one;
	}
	return ok;
}

/*
 * Called by stw's event worker after a stop cycle or a step of any world
 * reached STOPPED. With our own hold taken, every thread is parked:
 * between two items, or idle in its wait.
 */
static int loop_stopped(struct notifier_block *nb, unsigned long action,
			void *data)
{
	const struct stw_stop_info *info = data;
	struct stw_stop_info held;
	unsigned long before, after;
	bool ok;
	int hold;

	/* Every world's stops come here: only ours matter. */
	if (info->world != loop_world)
		return NOTIFY_DONE;
	mutex_lock(&loop_lock);
	if (own_generation && info->generation == own_generation && !info->step_vm)
		goto out;		/* we stopped it: checked already */
	hold = stw_stop_world(loop_world, 1000, &held);
	if (hold < 0) {
		WRITE_ONCE(missed, missed + 1);
		goto out;
	}
	if (held.generation != info->generation)
		own_generation = held.generation;
	ok = loop_items_accounted(info->generation, &before);
	/* Nobody may have moved while we looked. */
	if (!loop_items_accounted(info->generation, &after) ||
	    after != before) {
		pr_err("stw_loop: generation %llu: threads moved while the world was held\n",
		       info->generation);
		ok = false;
	}
	stw_resume_world(loop_world, hold);
	WRITE_ONCE(checks, checks + 1);
	if (!ok)
		WRITE_ONCE(failures, failures + 1);
out:
	/* Last: a test that waits for it may then step or resume. */
	WRITE_ONCE(last_generation, info->generation);
	mutex_unlock(&loop_lock);
	return NOTIFY_OK;
}

static struct notifier_block loop_nb = {
	.notifier_call = loop_stopped,
};

/* Start a thread and wait for it to be a VM: its own error if not. */
static int loop_start_thread(struct loop_thread *t, unsigned int i)
{
	struct task_struct *task;

	spin_lock_init(&t->lock);
	init_completion(&t->registered);
	task = kthread_run(loop_thread_fn, t, "stw_loop/%u", i);
	if (IS_ERR(task))
		return PTR_ERR(task);
	t->task = task;
	wait_for_completion(&t->registered);
	if (IS_ERR(t->vm))
		return kthread_stop(task);
	return 0;
}

/*
 * Undo loop_start_thread(), whatever the world is doing: a thread parked
 * while a controller holds the world stopped leaves it when stopped, and
 * detaches itself.
 */
static void loop_stop_threads(unsigned int n)
{
	while (n--)
		kthread_stop(loop_threads[n].task);
}

static int __init loop_init(void)
{
	unsigned int i;
	int ret;

	if (threads < 1 || threads > 64 || batch < 1 || batch > LOOP_RING ||
	    rounds < 1 || rounds > 100000)
		return -EINVAL;

	loop_threads = kcalloc(threads, sizeof(*loop_threads), GFP_KERNEL);
	if (!loop_threads)
		return -ENOMEM;
	loop_world = stw_world_create("loop");
	if (IS_ERR(loop_world)) {
		ret = PTR_ERR(loop_world);
		goto err_free;
	}

	for (i = 0; i < threads; i++) {
		ret = loop_start_thread(&loop_threads[i], i);
		if (ret)
			goto err_stop_threads;
	}

	ret = stw_register_stop_notifier(&loop_nb);
	if (ret)
		goto err_stop_threads;
	schedule_delayed_work(&loop_producer, 1);
	pr_info("stw_loop: %u threads, %u items each a jiffy\n",
		threads, batch);
	return 0;

err_stop_threads:
	loop_stop_threads(i);
	stw_world_destroy(loop_world);
err_free:
	kfree(loop_threads);
	return ret;
}

static void __exit loop_exit(void)
{
	/* First: it wakes the threads' VMs, which go with their threads. */
	WRITE_ONCE(closing, true);
	cancel_delayed_work_sync(&loop_producer);
	/* It takes holds on the world, which would keep it. */
	stw_unregister_stop_notifier(&loop_nb);
	loop_stop_threads(threads);
	stw_world_destroy(loop_world);
	pr_info("stw_loop: %lu checks, %lu failures\n", checks, failures);
	kfree(loop_threads);
}

module_init(loop_init);
module_exit(loop_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stw example: registered kthreads taking items off rings, checked at each stop");
MODULE_AUTHOR("The stw developers");
