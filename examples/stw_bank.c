// SPDX-License-Identifier: GPL-2.0
/*
 * stw_bank: an example client of stw's in-kernel API (module/stw.h).
 *
 * A pool of worker VMs, in a world of their own ("bank"), moves money
 * between shared accounts. Each job makes
 * `units` transfers, one unit at a time: it takes a unit out of one account,
 * puts it into another, and only then polls. A VM can therefore stop between
 * two transfers, never in the middle of one, and whenever the world is
 * stopped the accounts add up to what they held at load time.
 *
 * A stop notifier checks exactly that each time the world stops (and each
 * time a step ends): no worker is half-way through a transfer, and no unit
 * was lost or made. Notifiers run on stw's event worker, after the fact, so
 * it first takes a hold of its own (stw_stop_world()): that joins the stop
 * it is told about if the world is still stopped, or stops it again if a
 * controller resumed it meanwhile; either way every worker is parked while
 * it looks. It counts its checks and failures; both, and the transfers
 * made, are read-only module parameters:
 *
 *	/sys/module/stw_bank/parameters/{checks,failures,last_generation,transfers}
 *
 * A feeder (a delayed work on the system workqueue) queues a job on every
 * idle worker each jiffy, so that workers are sometimes running (they stop
 * at a poll) and sometimes idle (stw stops them through their run loop).
 *
 * Build it against a built stw tree (see the Makefile beside this file):
 *
 *	make -C examples KDIR=... STW_DIR=/path/to/stw
 *	insmod module/stw.ko && insmod examples/stw_bank.ko workers=4
 *	stwctl -w bank stop && cat /sys/module/stw_bank/parameters/checks
 */
#include <linux/atomic.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "module/stw.h"

#define BANK_OPENING_BALANCE	1000

static unsigned int workers = 4;
module_param(workers, uint, 0444);
MODULE_PARM_DESC(workers, "worker VMs (1..64, default 4)");

static unsigned int accounts = 16;
module_param(accounts, uint, 0444);
MODULE_PARM_DESC(accounts, "accounts the workers move units between (2..4096, default 16)");

static unsigned int units = 100;
module_param(units, uint, 0444);
MODULE_PARM_DESC(units, "transfers per job, a poll after each (1..100000, default 100)");

/* The notifier's results, written under bank_lock. */
static unsigned long checks;
module_param(checks, ulong, 0444);
MODULE_PARM_DESC(checks, "stops the notifier checked (read-only)");

static unsigned long failures;
module_param(failures, ulong, 0444);
MODULE_PARM_DESC(failures, "checks that found a transfer in flight or the total changed (read-only)");

static unsigned long long last_generation;
module_param(last_generation, ullong, 0444);
MODULE_PARM_DESC(last_generation, "the stop cycle checked last (read-only)");

static unsigned long missed;
module_param(missed, ulong, 0444);
MODULE_PARM_DESC(missed, "stops not checked: the notifier's own stop timed out (read-only)");

/* A cycle the notifier started itself: its own STOPPED is not checked. */
static u64 own_generation;

struct bank_worker {
	struct stw_vm *vm;
	struct kthread_work job;
	u32 rnd;		/* xorshift state, the VM's own */
	/* Odd while a transfer is in flight; twice the transfers made. */
	atomic_long_t seq;
};

static atomic_long_t *balance;
/* The workers' world: they stop and resume together, apart from any other. */
static struct stw_world *bank_world;
static struct bank_worker *pool;
static DEFINE_MUTEX(bank_lock);
static bool closing;

static int bank_get_transfers(char *buf, const struct kernel_param *kp)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; pool && i < workers; i++)
		sum += atomic_long_read(&pool[i].seq) / 2;
	return sysfs_emit(buf, "%lu\n", sum);
}

static const struct kernel_param_ops bank_transfers_ops = {
	.get = bank_get_transfers,
};
module_param_cb(transfers, &bank_transfers_ops, NULL, 0444);
MODULE_PARM_DESC(transfers, "transfers made by every worker (read-only)");

static u32 bank_rand(struct bank_worker *w)
{
	u32 x = w->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	w->rnd = x;
	return x;
}

/* A job: `units` transfers on the worker's own VM, polling between them. */
static void bank_job(struct kthread_work *work)
{
	struct bank_worker *w = container_of(work, struct bank_worker, job);
	unsigned int i;

	stw_vm_enter(w->vm);
	for (i = 0; i < units; i++) {
		unsigned int from = bank_rand(w) % accounts;
		unsigned int to = bank_rand(w) % accounts;

		atomic_long_inc(&w->seq);	/* odd: a unit in flight */
		smp_mb__after_atomic();
		atomic_long_dec(&balance[from]);
		atomic_long_inc(&balance[to]);
		smp_mb__before_atomic();
		atomic_long_inc(&w->seq);	/* even: it arrived */
		/* The safe point: nothing is in flight here. */
		if (stw_vm_poll(w->vm))
			break;			/* the VM is going away */
	}
	stw_vm_exit(w->vm);
}

static void bank_feed(struct work_struct *work);
static DECLARE_DELAYED_WORK(bank_feeder, bank_feed);

/* Give every worker a job (one already queued stays the only one). */
static void bank_feed(struct work_struct *work)
{
	unsigned int i;

	for (i = 0; i < workers; i++)
		stw_vm_queue_job(pool[i].vm, &pool[i].job);
	if (!READ_ONCE(closing))
		schedule_delayed_work(&bank_feeder, 1);
}

/*
 * Whether every worker is between two transfers (or idle); *@seqs is the
 * sum of their sequence numbers, which grows whenever one of them moves.
 */
static bool bank_between_transfers(u64 generation, long *seqs)
{
	bool ok = true;
	unsigned int i;
	long seq;

	*seqs = 0;
	for (i = 0; i < workers; i++) {
		seq = atomic_long_read(&pool[i].seq);
		if (seq & 1) {
			pr_err("stw_bank: generation %llu: worker %u is in the middle of a transfer\n",
			       generation, i);
			ok = false;
		}
		*seqs += seq;
	}
	return ok;
}

/*
 * Called by stw's event worker after a stop cycle or a step reached
 * STOPPED. With our own hold taken, every worker is parked: between two
 * transfers, or idle.
 */
static int bank_stopped(struct notifier_block *nb, unsigned long action,
			void *data)
{
	const struct stw_stop_info *info = data;
	long total = 0, expected = (long)accounts * BANK_OPENING_BALANCE;
	struct stw_stop_info held;
	long before, after;
	bool ok = true;
	unsigned int i;
	int hold;

	/* Every world's stops come here: only ours matter. */
	if (info->world != bank_world)
		return NOTIFY_DONE;
	mutex_lock(&bank_lock);
	if (own_generation && info->generation == own_generation && !info->step_vm)
		goto out;		/* we stopped it: checked already */
	hold = stw_stop_world(bank_world, 1000, &held);
	if (hold < 0) {
		WRITE_ONCE(missed, missed + 1);
		goto out;
	}
	if (held.generation != info->generation)
		own_generation = held.generation;
	ok = bank_between_transfers(info->generation, &before);
	for (i = 0; i < accounts; i++)
		total += atomic_long_read(&balance[i]);
	if (total != expected) {
		pr_err("stw_bank: generation %llu: the accounts hold %ld, not %ld\n",
		       info->generation, total, expected);
		ok = false;
	}
	/* Nobody may have moved while we looked. */
	if (!bank_between_transfers(info->generation, &after) ||
	    after != before) {
		pr_err("stw_bank: generation %llu: workers moved while the world was held\n",
		       info->generation);
		ok = false;
	}
	stw_resume_world(bank_world, hold);
	WRITE_ONCE(checks, checks + 1);
	if (!ok)
		WRITE_ONCE(failures, failures + 1);
out:
	/* Last: a test that waits for it may then step or resume. */
	WRITE_ONCE(last_generation, info->generation);
	mutex_unlock(&bank_lock);
	return NOTIFY_OK;
}

static struct notifier_block bank_nb = {
	.notifier_call = bank_stopped,
};

static void bank_destroy_workers(unsigned int n)
{
	while (n--)
		stw_vm_destroy(pool[n].vm);
}

static int __init bank_init(void)
{
	unsigned int i;
	int ret;

	if (workers < 1 || workers > 64 || accounts < 2 || accounts > 4096 ||
	    units < 1 || units > 100000)
		return -EINVAL;

	balance = kcalloc(accounts, sizeof(*balance), GFP_KERNEL);
	pool = kcalloc(workers, sizeof(*pool), GFP_KERNEL);
	if (!balance || !pool) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < accounts; i++)
		atomic_long_set(&balance[i], BANK_OPENING_BALANCE);
	bank_world = stw_world_create("bank");
	if (IS_ERR(bank_world)) {
		ret = PTR_ERR(bank_world);
		goto err_free;
	}

	for (i = 0; i < workers; i++) {
		struct bank_worker *w = &pool[i];

		w->rnd = get_random_u32() | 1;
		atomic_long_set(&w->seq, 0);
		kthread_init_work(&w->job, bank_job);
		w->vm = stw_vm_create(bank_world, STW_VM_KIND_EXTERNAL, w,
					      "bank");
		if (IS_ERR(w->vm)) {
			ret = PTR_ERR(w->vm);
			goto err_destroy;
		}
	}

	ret = stw_register_stop_notifier(&bank_nb);
	if (ret)
		goto err_destroy;
	schedule_delayed_work(&bank_feeder, 1);
	pr_info("stw_bank: %u workers moving units between %u accounts\n",
		workers, accounts);
	return 0;

err_destroy:
	bank_destroy_workers(i);
	stw_world_destroy(bank_world);
err_free:
	kfree(pool);
	kfree(balance);
	return ret;
}

static void __exit bank_exit(void)
{
	WRITE_ONCE(closing, true);
	cancel_delayed_work_sync(&bank_feeder);
	stw_unregister_stop_notifier(&bank_nb);
	/* Runs the jobs still queued: their polls see the VM going away. */
	bank_destroy_workers(workers);
	stw_world_destroy(bank_world);
	pr_info("stw_bank: %lu checks, %lu failures\n", checks, failures);
	kfree(pool);
	kfree(balance);
}

module_init(bank_init);
module_exit(bank_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stw example: worker VMs moving units between accounts, checked at each stop");
MODULE_AUTHOR("The stw developers");
