// SPDX-License-Identifier: GPL-2.0
/*
 * stw_pool: an example client of stw's in-kernel API (module/stw.h) that
 * keeps its own threads: a pool of kthread_workers it makes with
 * kthread_create_worker() and queues its jobs on with kthread_queue_work(),
 * as any driver would, each made a VM with stw_vm_attach_worker() in a
 * world of their own ("pool").
 *
 * The workers look after a table of records, each `words` words sealed
 * with a checksum of them and of the record's version. Each worker runs
 * two jobs:
 *
 * - refresh rewrites `batch` records, one at a time: it locks a record,
 *   rewrites its words one by one, seals it and unlocks it, and only then
 *   polls. It brackets itself with stw_vm_enter()/stw_vm_exit(), so a stop
 *   catches it between two records, never in the middle of one. It queues
 *   itself again a jiffy later, so that workers are sometimes running
 *   (they stop at a poll) and sometimes idle (stw stops them through the
 *   stop work it queues on their worker).
 * - rotate, every few jobs, turns every record's words round by one
 *   and seals it again. It knows nothing of stw: it neither enters nor
 *   polls. stw stops its worker before it or after it, never within.
 *
 * A stop notifier checks, each time the world stops (and each time a step
 * ends), with a hold of its own taken so that every worker is parked: no
 * record is locked, every seal is right, and the records' versions add up
 * to the seals the workers made. It counts its checks and failures; both,
 * and the jobs done and records sealed, are read-only module parameters:
 *
 *	/sys/module/stw_pool/parameters/{checks,failures,last_generation,jobs,seals}
 *
 * Unloading keeps the order an owner of attached workers must: each VM out
 * of the world (stw_vm_shutdown(): no job stays parked), its jobs
 * cancelled, the VM detached (stw_vm_detach() frees it, so no job may be
 * left to use it), and only then kthread_destroy_worker().
 *
 *	make -C examples KDIR=... STW_DIR=/path/to/stw
 *	insmod module/stw.ko && insmod examples/stw_pool.ko workers=2
 *	stwctl -w pool stop && cat /sys/module/stw_pool/parameters/checks
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/jhash.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "module/stw.h"

/* A worker rotates the table after every so many of its jobs. */
#define POOL_ROTATE_EVERY	8

static unsigned int workers = 2;
module_param(workers, uint, 0444);
MODULE_PARM_DESC(workers, "kthread_workers attached as VMs (1..64, default 2)");

static unsigned int records = 64;
module_param(records, uint, 0444);
MODULE_PARM_DESC(records, "records the workers look after (1..4096, default 64)");

static unsigned int words = 8;
module_param(words, uint, 0444);
MODULE_PARM_DESC(words, "words in a record, rewritten and sealed at once (1..1024, default 8)");

static unsigned int batch = 16;
module_param(batch, uint, 0444);
MODULE_PARM_DESC(batch, "records a refresh rewrites, a poll after each (1..4096, default 16)");

/* The notifier's results, written under pool_lock. */
static unsigned long checks;
module_param(checks, ulong, 0444);
MODULE_PARM_DESC(checks, "stops the notifier checked (read-only)");

static unsigned long failures;
module_param(failures, ulong, 0444);
MODULE_PARM_DESC(failures, "checks that found a record open, a bad seal or a seal unaccounted for (read-only)");

static unsigned long long last_generation;
module_param(last_generation, ullong, 0444);
MODULE_PARM_DESC(last_generation, "the stop cycle checked last (read-only)");

static unsigned long missed;
module_param(missed, ulong, 0444);
MODULE_PARM_DESC(missed, "stops not checked: the notifier's own stop timed out (read-only)");

/* A cycle the notifier started itself: its own STOPPED is not checked. */
static u64 own_generation;

enum {
	POOL_RECORD_LOCKED,	/* bit of struct pool_record::lock */
};

/*
 * A record. Every field but @lock is written and read only by whoever
 * holds @lock's bit, taken with test_and_set_bit_lock(): a worker
 * rewriting it, or the notifier looking at it.
 */
struct pool_record {
	unsigned long lock;
	u32 version;		/* seals made of it */
	u32 seal;		/* jhash2() of @word, keyed by @version */
	u32 word[];		/* `words` of them */
};

struct pool_worker {
	struct kthread_worker *worker;
	struct stw_vm *vm;
	struct kthread_delayed_work refresh;
	struct kthread_work rotate;
	/* The worker's own: only its jobs write them, one at a time. */
	u32 rnd;		/* xorshift state */
	unsigned long seals;	/* seals it made; the notifier reads them */
	unsigned long jobs;	/* jobs done; the parameter reads them */
};

/* `records` records, each record_size bytes. */
static void *table;
static size_t record_size;
/* Where the next refresh starts: the workers share the table. */
static atomic_t pool_cursor = ATOMIC_INIT(0);
/* The workers' world: they stop and resume together, apart from any other. */
static struct stw_world *pool_world;
static struct pool_worker *pool;
static DEFINE_MUTEX(pool_lock);

static int pool_get_jobs(char *buf, const struct kernel_param *kp)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; pool && i < workers; i++)
		sum += READ_ONCE(pool[i].jobs);
	return sysfs_emit(buf, "%lu\n", sum);
}

static const struct kernel_param_ops pool_jobs_ops = {
	.get = pool_get_jobs,
};
module_param_cb(jobs, &pool_jobs_ops, NULL, 0444);
MODULE_PARM_DESC(jobs, "jobs done by every worker (read-only)");

static unsigned long pool_seals_made(void)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; pool && i < workers; i++)
		sum += READ_ONCE(pool[i].seals);
	return sum;
}

static int pool_get_seals(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", pool_seals_made());
}

static const struct kernel_param_ops pool_seals_ops = {
	.get = pool_get_seals,
};
module_param_cb(seals, &pool_seals_ops, NULL, 0444);
MODULE_PARM_DESC(seals, "records sealed by every worker (read-only)");

static u32 pool_rand(struct pool_worker *pw)
{
	u32 x = pw->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	pw->rnd = x;
	return x;
}

static struct pool_record *pool_record(unsigned int i)
{
	return table + i * record_size;
}

static u32 pool_seal_of(const struct pool_record *r)
{
	return jhash2(r->word, words, r->version);
}

/* Seal a record its caller has rewritten: it holds the record's lock. */
static void pool_seal(struct pool_worker *pw, struct pool_record *r)
{
	r->version++;
	r->seal = pool_seal_of(r);
	WRITE_ONCE(pw->seals, pw->seals + 1);
}

/* Lock the next record no other worker has locked, or give up: NULL. */
static struct pool_record *pool_lock_next(void)
{
	unsigned int tries;
	struct pool_record *r;

	for (tries = 0; tries < records; tries++) {
		r = pool_record((unsigned int)atomic_inc_return(&pool_cursor) %
				records);
		if (!test_and_set_bit_lock(POOL_RECORD_LOCKED, &r->lock))
			return r;
	}
	return NULL;
}

static void pool_job_done(struct pool_worker *pw)
{
	WRITE_ONCE(pw->jobs, pw->jobs + 1);
}

/* A job: rewrite `batch` records on the worker's own VM, polling between. */
static void pool_refresh(struct kthread_work *work)
{
	struct pool_worker *pw = container_of(work, struct pool_worker,
					      refresh.work);
	struct pool_record *r;
	unsigned int i, w;

	stw_vm_enter(pw->vm);
	for (i = 0; i < batch; i++) {
		r = pool_lock_next();
		if (r) {
			/* The seal is wrong from here until pool_seal(). */
			for (w = 0; w < words; w++)
				r->word[w] ^= pool_rand(pw);
			pool_seal(pw, r);
			clear_bit_unlock(POOL_RECORD_LOCKED, &r->lock);
		}
		/* The safe point: no record of ours is open. */
		if (stw_vm_poll(pw->vm))
			break;			/* the VM is going away */
	}
	stw_vm_exit(pw->vm);
	pool_job_done(pw);

	if (pw->jobs % POOL_ROTATE_EVERY == 0)
		kthread_queue_work(pw->worker, &pw->rotate);
	/* Ignored while pool_stop_worker() cancels it. */
	kthread_queue_delayed_work(pw->worker, &pw->refresh, 1);
}

/*
 * A job that neither enters nor polls: it may change every record, and
 * stw stops its worker only before or after it, so it is never seen half
 * done. Records another worker has locked are left for the next rotate.
 */
static void pool_rotate(struct kthread_work *work)
{
	struct pool_worker *pw = container_of(work, struct pool_worker, rotate);
	struct pool_record *r;
	unsigned int i;
	u32 first;

	for (i = 0; i < records; i++) {
		r = pool_record(i);
		if (test_and_set_bit_lock(POOL_RECORD_LOCKED, &r->lock))
			continue;
		first = r->word[0];
		memmove(&r->word[0], &r->word[1],
			(words - 1) * sizeof(r->word[0]));
		r->word[words - 1] = first;
		pool_seal(pw, r);
		clear_bit_unlock(POOL_RECORD_LOCKED, &r->lock);
	}
	pool_job_done(pw);
}

/*
 * Whether every record is closed and sealed right, and the versions add
 * up to the seals made. Each record's lock is taken: one found locked is
 * one a worker is in the middle of, and taking it orders what its last
 * writer did before what we read.
 */
static bool pool_table_sealed(u64 generation)
{
	unsigned long versions = 0, seals;
	struct pool_record *r;
	bool ok = true;
	unsigned int i;

	for (i = 0; i < records; i++) {
		r = pool_record(i);
		if (test_and_set_bit_lock(POOL_RECORD_LOCKED, &r->lock)) {
			pr_err("stw_pool: generation %llu: record %u is being rewritten\n",
			       generation, i);
			ok = false;
			continue;
		}
		if (r->seal != pool_seal_of(r)) {
			pr_err("stw_pool: generation %llu: record %u version %u is not sealed\n",
			       generation, i, r->version);
			ok = false;
		}
		versions += r->version;
		clear_bit_unlock(POOL_RECORD_LOCKED, &r->lock);
	}
	seals = pool_seals_made();
	if (ok && versions != seals) {
		pr_err("stw_pool: generation %llu: the records have %lu versions, the workers made %lu seals\n",
		       generation, versions, seals);
		ok = false;
	}
	return ok;
}

/*
 * Called by stw's event worker after a stop cycle or a step of any world
 * reached STOPPED. With our own hold taken, every worker is parked:
 * between two records, between two jobs, or idle.
 */
static int pool_stopped(struct notifier_block *nb, unsigned long action,
			void *data)
{
	const struct stw_stop_info *info = data;
	struct stw_stop_info held;
	unsigned long before;
	bool ok;
	int hold;

	/* Every world's stops come here: only ours matter. */
	if (info->world != pool_world)
		return NOTIFY_DONE;
	mutex_lock(&pool_lock);
	if (own_generation && info->generation == own_generation && !info->step_vm)
		goto out;		/* we stopped it: checked already */
	hold = stw_stop_world(pool_world, 1000, &held);
	if (hold < 0) {
		WRITE_ONCE(missed, missed + 1);
		goto out;
	}
	if (held.generation != info->generation)
		own_generation = held.generation;
	before = pool_seals_made();
	ok = pool_table_sealed(info->generation);
	/* Nobody may have sealed anything while we looked. */
	if (pool_seals_made() != before) {
		pr_err("stw_pool: generation %llu: workers sealed records while the world was held\n",
		       info->generation);
		ok = false;
	}
	stw_resume_world(pool_world, hold);
	WRITE_ONCE(checks, checks + 1);
	if (!ok)
		WRITE_ONCE(failures, failures + 1);
out:
	/* Last: a test that waits for it may then step or resume. */
	WRITE_ONCE(last_generation, info->generation);
	mutex_unlock(&pool_lock);
	return NOTIFY_OK;
}

static struct notifier_block pool_nb = {
	.notifier_call = pool_stopped,
};

/* A worker of our own, made a VM; its jobs are not queued yet. */
static int pool_start_worker(struct pool_worker *pw, unsigned int i)
{
	int ret;

	pw->rnd = get_random_u32() | 1;
	kthread_init_delayed_work(&pw->refresh, pool_refresh);
	kthread_init_work(&pw->rotate, pool_rotate);
	pw->worker = kthread_create_worker(0, "stw_pool/%u", i);
	if (IS_ERR(pw->worker))
		return PTR_ERR(pw->worker);
	pw->vm = stw_vm_attach_worker(pool_world, pw->worker, "pool");
	if (IS_ERR(pw->vm)) {
		ret = PTR_ERR(pw->vm);
		goto err_destroy_worker;
	}
	return 0;

err_destroy_worker:
	kthread_destroy_worker(pw->worker);
	return ret;
}

/*
 * Undo pool_start_worker(), whatever the world is doing. Out of the world
 * first: a job parked at a poll (a controller holds the world stopped) is
 * let go, and nothing parks any more, so the cancels below cannot wait for
 * a resume. The VM goes only once no job of ours runs or is queued, as
 * stw_vm_detach() frees it; the worker goes last, with nothing of stw's
 * left on it.
 */
static void pool_stop_worker(struct pool_worker *pw)
{
	stw_vm_shutdown(pw->vm);
	/* Waits for a refresh running, which then cannot queue itself. */
	kthread_cancel_delayed_work_sync(&pw->refresh);
	kthread_cancel_work_sync(&pw->rotate);
	stw_vm_detach(pw->vm);
	kthread_destroy_worker(pw->worker);
}

static void pool_stop_workers(unsigned int n)
{
	while (n--)
		pool_stop_worker(&pool[n]);
}

static int __init pool_init(void)
{
	struct pool_record *r;
	unsigned int i, w;
	int ret;

	if (workers < 1 || workers > 64 || records < 1 || records > 4096 ||
	    words < 1 || words > 1024 || batch < 1 || batch > 4096)
		return -EINVAL;

	/* Each record's lock an aligned long, as bitops want. */
	record_size = ALIGN(struct_size(r, word, words), sizeof(unsigned long));
	table = kvcalloc(records, record_size, GFP_KERNEL);
	pool = kcalloc(workers, sizeof(*pool), GFP_KERNEL);
	if (!table || !pool) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < records; i++) {
		r = pool_record(i);
		for (w = 0; w < words; w++)
			r->word[w] = get_random_u32();
		r->seal = pool_seal_of(r);
	}
	pool_world = stw_world_create("pool");
	if (IS_ERR(pool_world)) {
		ret = PTR_ERR(pool_world);
		goto err_free;
	}

	for (i = 0; i < workers; i++) {
		ret = pool_start_worker(&pool[i], i);
		if (ret)
			goto err_stop_workers;
	}

	ret = stw_register_stop_notifier(&pool_nb);
	if (ret)
		goto err_stop_workers;
	for (i = 0; i < workers; i++)
		kthread_queue_delayed_work(pool[i].worker, &pool[i].refresh, 0);
	pr_info("stw_pool: %u workers looking after %u records\n",
		workers, records);
	return 0;

err_stop_workers:
	pool_stop_workers(i);
	stw_world_destroy(pool_world);
err_free:
	kfree(pool);
	kvfree(table);
	return ret;
}

static void __exit pool_exit(void)
{
	/* First: it takes holds on the world, which would keep it. */
	stw_unregister_stop_notifier(&pool_nb);
	pool_stop_workers(workers);
	stw_world_destroy(pool_world);
	pr_info("stw_pool: %lu checks, %lu failures\n", checks, failures);
	kfree(pool);
	kvfree(table);
}

module_init(pool_init);
module_exit(pool_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stw example: attached kthread_workers sealing records, checked at each stop");
MODULE_AUTHOR("The stw developers");
