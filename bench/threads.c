// SPDX-License-Identifier: GPL-2.0
/*
 * Bench threads. A set is either stw VMs or plain kthreads for
 * kthread_park(), running the same workload: an active thread runs a unit of
 * work (about a microsecond on real hardware) and then polls, for ever; an
 * idle one sleeps in its run loop. The stw VMs also answer the raw barrier,
 * so stw and the barrier are measured on the very same threads.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>

#include "bench.h"

#define BENCH_UNIT_LOOPS	256	/* as a demo VM's unit of work */
#define BENCH_WAIT_MAX		(300 * HZ)

const char *const bench_mix_names[BENCH_MIX_COUNT] = {
	[BENCH_MIX_ACTIVE] = "active",
	[BENCH_MIX_IDLE] = "idle",
	[BENCH_MIX_HALF] = "half",
};

struct bench_barrier bench_bar;
atomic_t bench_park_run_left;

/* The nice of the threads made from now on (0644: a run may change it). */
static int bench_nice = BENCH_NICE;
module_param_named(nice, bench_nice, int, 0644);
MODULE_PARM_DESC(nice, "nice of the bench threads made from now on (default 10, the demo VMs')");

/* About a microsecond of work on real hardware. */
noinline void bench_unit(void)
{
	u32 x = 2463534242u;
	int i;

	for (i = 0; i < BENCH_UNIT_LOOPS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
	}
	barrier_data(&x);
}

/* Arrive at the raw barrier, wait for its release, say we run again. */
static void bench_barrier_wait(struct bench_thread *t, unsigned long gen)
{
	if (unlikely(bench_bar.profile))
		t->arrived = local_clock();
	if (atomic_dec_and_test(&bench_bar.arrive_left)) {
		bench_bar.last_arrival = ktime_get();
		wake_up(&bench_bar.ctl_wq);
	}
	wait_event_idle(bench_bar.release_wq,
			READ_ONCE(bench_bar.released) >= gen);
	atomic_dec(&bench_bar.run_left);
}

/**
 * bench_barrier_arrive() - an active VM met a pending raw barrier
 * @t: the thread, on its own thread
 *
 * Context: the VM's own thread; sleeps until the barrier is released.
 */
void bench_barrier_arrive(struct bench_thread *t)
{
	unsigned long gen = READ_ONCE(t->bar_trap);

	WRITE_ONCE(t->bar_trap, 0);
	bench_barrier_wait(t, gen);
}

/* The raw barrier's arrival on an idle VM: queued on its run loop. */
static void bench_bar_work(struct kthread_work *work)
{
	struct bench_thread *t = container_of(work, struct bench_thread,
					      bar_work);

	bench_barrier_wait(t, READ_ONCE(bench_bar.gen));
}

/* An active VM's job: work and poll until told to quit. */
static void bench_job(struct kthread_work *work)
{
	struct bench_thread *t = container_of(work, struct bench_thread, job);
	struct stw_vm *vm = t->vm;

	stw_vm_enter(vm);
	WRITE_ONCE(t->started, true);
	while (!READ_ONCE(t->quit)) {
		bench_unit();
		if (stw_vm_poll(vm))
			break;
		if (unlikely(READ_ONCE(t->bar_trap)))
			bench_barrier_arrive(t);
	}
	stw_vm_exit(vm);
}

/* A park thread: the same loop, with kthread_park()'s safe point. */
static int bench_park_fn(void *data)
{
	struct bench_thread *t = data;

	WRITE_ONCE(t->started, true);
	while (!kthread_should_stop()) {
		if (kthread_should_park()) {
			kthread_parkme();
			atomic_dec(&bench_park_run_left);
			continue;
		}
		if (t->active && !READ_ONCE(t->quit)) {
			bench_unit();
			continue;
		}
		set_current_state(TASK_IDLE);
		if (!kthread_should_park() && !kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static int bench_thread_create(struct bench_set *s, unsigned int i)
{
	struct bench_thread *t = &s->t[i];
	struct task_struct *task;
	struct stw_vm *vm;

	t->active = s->mix == BENCH_MIX_ACTIVE ||
		    (s->mix == BENCH_MIX_HALF && !(i & 1));
	kthread_init_work(&t->job, bench_job);
	kthread_init_work(&t->bar_work, bench_bar_work);
	if (s->park) {
		task = kthread_create(bench_park_fn, t, "stwb-park/%u", i);
		if (IS_ERR(task))
			return PTR_ERR(task);
		t->task = task;
	} else {
		vm = stw_vm_create(s->world, STW_VM_KIND_EXTERNAL, t, "bench");
		if (IS_ERR(vm))
			return PTR_ERR(vm);
		t->vm = vm;
		task = vm->worker->task;
	}
	set_user_nice(task, clamp(READ_ONCE(bench_nice), MIN_NICE, MAX_NICE));
	return 0;
}

/**
 * bench_all_running() - has every thread of @s run since it was released?
 * @s: the set
 * @pos: where the previous look stopped; threads before it ran already
 *
 * A VM runs again once it marked itself running, on its own thread, after
 * its park (stw.h's state; the bench peeks at it without the world lock).
 *
 * Return: true if every thread runs.
 */
bool bench_all_running(struct bench_set *s, unsigned int *pos)
{
	for (; *pos < s->n; (*pos)++) {
		struct bench_thread *t = &s->t[*pos];

		if (!READ_ONCE(t->started) && (t->active || s->park))
			return false;
		if (!s->park && READ_ONCE(t->vm->state) != STW_VM_RUNNING)
			return false;
	}
	return true;
}

/* Say what a set's threads do, after a wait for them failed. */
static void bench_set_report(struct bench_set *s, unsigned int pos)
{
	unsigned int i, started = 0, state[3] = {};
	struct bench_thread *t;

	for (i = 0; i < s->n; i++) {
		t = &s->t[i];
		started += READ_ONCE(t->started);
		if (!s->park)
			state[min_t(unsigned int, READ_ONCE(t->vm->state), 2)]++;
	}
	pr_err("stw_bench: %u %s threads, waiting at %u: %u started; VMs starting %u, running %u, stopped %u; barrier left %d/%d, park left %d\n",
	       s->n, bench_mix_names[s->mix], pos, started, state[0], state[1],
	       state[2], atomic_read(&bench_bar.arrive_left),
	       atomic_read(&bench_bar.run_left),
	       atomic_read(&bench_park_run_left));
}

/**
 * bench_wait_until() - sleep-poll until @done says so
 * @done: the condition, resumable at a position
 * @s: the set it looks at
 *
 * A controller that spun would take a CPU from the threads it waits for, so
 * it sleeps between looks: BENCH_WAIT_US at first, then 1/64 of the time
 * waited so far (at most BENCH_WAIT_MAX_US), so that looking costs little
 * and the time measured is late by less than about 2%.
 *
 * Context: process context; sleeps.
 * Return: false if it took more than five minutes.
 */
bool bench_wait_until(bool (*done)(struct bench_set *s, unsigned int *pos),
		      struct bench_set *s)
{
	unsigned long end = jiffies + BENCH_WAIT_MAX;
	ktime_t t0 = ktime_get();
	unsigned int pos = 0;
	u64 us;

	while (!done(s, &pos)) {
		if (time_after(jiffies, end)) {
			bench_set_report(s, pos);
			return false;
		}
		us = ktime_us_delta(ktime_get(), t0) / 64;
		us = clamp_t(u64, us, BENCH_WAIT_US, BENCH_WAIT_MAX_US);
		usleep_range(us, us + us / 8);
	}
	return true;
}

/**
 * bench_set_spawn() - create a set of threads and start their workload
 * @s: the set, empty
 * @n: how many threads
 * @mix: which are active
 * @park: plain kthreads for kthread_park() instead of stw VMs
 *
 * Every thread is created before any active one starts to spin, so that
 * creating the last ones does not compete with the first.
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno with the set empty.
 */
int bench_set_spawn(struct bench_set *s, unsigned int n, enum bench_mix mix,
		    bool park)
{
	unsigned int i;
	int ret;

	s->t = kvcalloc(n, sizeof(*s->t), GFP_KERNEL);
	if (!s->t)
		return -ENOMEM;
	s->n = 0;
	s->mix = mix;
	s->park = park;
	if (!s->world)
		s->world = bench_world;
	for (i = 0; i < n; i++) {
		ret = bench_thread_create(s, i);
		if (ret)
			goto err_kill;
		s->n++;
	}
	for (i = 0; i < n; i++) {
		struct bench_thread *t = &s->t[i];

		if (park)
			wake_up_process(t->task);
		else if (t->active)
			stw_vm_queue_job(t->vm, &t->job);
	}
	ret = -ETIMEDOUT;
	if (!bench_wait_until(bench_all_running, s)) {
		pr_err("stw_bench: %u %s threads did not all start\n", n,
		       bench_mix_names[mix]);
		goto err_kill;
	}
	return 0;

err_kill:
	bench_set_kill(s);
	return ret;
}

/**
 * bench_set_kill() - stop and free every thread of a set
 * @s: the set; empty afterwards
 *
 * Context: process context; sleeps. The world runs, no hold is taken.
 */
void bench_set_kill(struct bench_set *s)
{
	unsigned int i;

	/* Every active thread stops spinning before any is waited for. */
	for (i = 0; i < s->n; i++)
		WRITE_ONCE(s->t[i].quit, true);
	for (i = 0; i < s->n; i++) {
		struct bench_thread *t = &s->t[i];

		if (s->park) {
			/* A thread never woken runs no threadfn: fine too. */
			kthread_stop(t->task);
		} else {
			stw_vm_destroy(t->vm);
		}
	}
	kvfree(s->t);
	s->t = NULL;
	s->n = 0;
}
