// SPDX-License-Identifier: GPL-2.0
/*
 * What a safe point costs when no stop is pending: the same loop of units
 * of work, bare, with stw_vm_poll() after each unit, and with an unarmed
 * probe point (a static branch) after each unit. The loops run on a VM of
 * their own, entered, in rounds that rotate the order of the variants.
 */
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "bench.h"
#include "module/probe.h"

enum {
	BENCH_LOOP_BARE,
	BENCH_LOOP_POLL,
	BENCH_LOOP_PROBE,
	BENCH_LOOP_COUNT
};

static const char *const bench_loop_names[BENCH_LOOP_COUNT] = {
	[BENCH_LOOP_BARE] = "bare",
	[BENCH_LOOP_POLL] = "poll",
	[BENCH_LOOP_PROBE] = "probe",
};

struct bench_poll {
	struct kthread_work work;
	struct stw_vm *vm;
	unsigned int units;
	unsigned int rounds;
	u64 *ns[BENCH_LOOP_COUNT];
	bool done;
	wait_queue_head_t wq;
};

static noinline void bench_loop_bare(struct stw_vm *vm, unsigned int units)
{
	unsigned int i;

	for (i = 0; i < units; i++)
		bench_unit();
}

static noinline void bench_loop_poll(struct stw_vm *vm, unsigned int units)
{
	unsigned int i;

	for (i = 0; i < units; i++) {
		bench_unit();
		if (stw_vm_poll(vm))
			break;
	}
}

static noinline void bench_loop_probe(struct stw_vm *vm, unsigned int units)
{
	unsigned int i;

	for (i = 0; i < units; i++) {
		bench_unit();
		stw_probe(STW_PROBE_ENTRY_CHECKED, vm, 0);
	}
}

static void (*const bench_loops[BENCH_LOOP_COUNT])(struct stw_vm *,
						   unsigned int) = {
	[BENCH_LOOP_BARE] = bench_loop_bare,
	[BENCH_LOOP_POLL] = bench_loop_poll,
	[BENCH_LOOP_PROBE] = bench_loop_probe,
};

static void bench_poll_work(struct kthread_work *work)
{
	struct bench_poll *p = container_of(work, struct bench_poll, work);
	unsigned int r, i, v;
	ktime_t t0;

	stw_vm_enter(p->vm);
	for (r = 0; r < p->rounds; r++) {
		for (i = 0; i < BENCH_LOOP_COUNT; i++) {
			v = (r + i) % BENCH_LOOP_COUNT;
			t0 = ktime_get();
			bench_loops[v](p->vm, p->units);
			p->ns[v][r] = ktime_to_ns(ktime_sub(ktime_get(), t0));
		}
	}
	stw_vm_exit(p->vm);
	WRITE_ONCE(p->done, true);
	wake_up(&p->wq);
}

/**
 * bench_poll_cost() - time the three loops
 * @units: units of work per loop
 * @rounds: how many times each loop runs
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno.
 */
int bench_poll_cost(unsigned int units, unsigned int rounds)
{
	struct bench_poll *p;
	unsigned int v;
	int ret = -ENOMEM;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->units = units;
	p->rounds = rounds;
	init_waitqueue_head(&p->wq);
	kthread_init_work(&p->work, bench_poll_work);
	for (v = 0; v < BENCH_LOOP_COUNT; v++) {
		p->ns[v] = kvcalloc(rounds, sizeof(u64), GFP_KERNEL);
		if (!p->ns[v])
			goto out;
	}
	p->vm = stw_vm_create(bench_world, STW_VM_KIND_EXTERNAL, p, "bench-poll");
	if (IS_ERR(p->vm)) {
		ret = PTR_ERR(p->vm);
		goto out;
	}
	set_user_nice(p->vm->worker->task, BENCH_NICE);
	stw_vm_queue_job(p->vm, &p->work);
	wait_event_idle(p->wq, READ_ONCE(p->done));
	stw_vm_destroy(p->vm);

	/* The emulator's host is shared: the fastest round is the cleanest. */
	for (v = 0; v < BENCH_LOOP_COUNT; v++) {
		u64 med = bench_median(p->ns[v], rounds);	/* sorts */

		bench_out("poll,%u,-,%s,%u,%llu,%llu,,,min_ns=%llu\n", units,
			  bench_loop_names[v], rounds, med,
			  bench_p99(p->ns[v], rounds), p->ns[v][0]);
	}
	ret = 0;
out:
	for (v = 0; v < BENCH_LOOP_COUNT; v++)
		kvfree(p->ns[v]);
	kfree(p);
	return ret;
}
