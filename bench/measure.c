// SPDX-License-Identifier: GPL-2.0
/*
 * Stop and resume cycles: stw's, the raw barrier's and kthread_park()'s.
 *
 * Time to stop is taken by the controller, from its request until it is
 * told every thread stopped (for stw: stw_stop_world() returning). Time to
 * resume runs from the resume call until every thread has run again, which
 * the controller sees by sleep-polling (bench_wait_until()). stw and the
 * barrier alternate on the same threads, cycle by cycle, so that drift in
 * the emulator's speed hits both alike.
 */
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/sched/clock.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "bench.h"

#define BENCH_STOP_TIMEOUT_MS	60000
#define BENCH_WARMUP		1
#define BENCH_MIN_CYCLES	5

enum {
	BENCH_S_STW_STOP,
	BENCH_S_STW_INNER,
	BENCH_S_STW_RESUME,
	BENCH_S_BAR_STOP,
	BENCH_S_BAR_INNER,
	BENCH_S_BAR_RESUME,
	BENCH_S_COUNT
};

static int bench_hold_id;

static u64 bench_ns_since(ktime_t t0)
{
	return ktime_to_ns(ktime_sub(ktime_get(), t0));
}

/* Let the released threads go back to their loops or to sleep. */
static void bench_settle(void)
{
	usleep_range(500, 1000);
}

static int bench_stw_cycle(struct bench_set *s, u64 *stop, u64 *inner,
			   u64 *resume)
{
	struct stw_stop_info info;
	ktime_t t0;
	int hold;

	t0 = ktime_get();
	hold = stw_stop_world(s->world, BENCH_STOP_TIMEOUT_MS, &info);
	*stop = bench_ns_since(t0);
	if (hold < 0)
		return hold;
	*inner = info.tts_ns;
	t0 = ktime_get();
	stw_resume_world(s->world, hold);
	if (!bench_wait_until(bench_all_running, s))
		return -ETIMEDOUT;
	*resume = bench_ns_since(t0);
	return 0;
}

static bool bench_bar_all_running(struct bench_set *s, unsigned int *pos)
{
	return !atomic_read(&bench_bar.run_left);
}

/**
 * bench_barrier_cycle() - one stop and release of the raw barrier
 * @s: a set of VMs, running
 * @stop: request to the controller waking up, in ns
 * @inner: request to the last thread arriving, in ns
 * @resume: release to every thread running again, in ns
 *
 * Context: process context; sleeps.
 * Return: 0, or -ETIMEDOUT.
 */
int bench_barrier_cycle(struct bench_set *s, u64 *stop, u64 *inner,
			u64 *resume)
{
	unsigned long gen = bench_bar.gen + 1;
	unsigned int i;
	ktime_t t0;
	long left;

	atomic_set(&bench_bar.arrive_left, s->n);
	atomic_set(&bench_bar.run_left, s->n);
	WRITE_ONCE(bench_bar.gen, gen);
	smp_wmb(); /* the counts and generation before any thread arrives */

	t0 = ktime_get();
	bench_bar.requested = local_clock();
	for (i = 0; i < s->n; i++) {
		struct bench_thread *t = &s->t[i];

		if (t->active)
			WRITE_ONCE(t->bar_trap, gen);
		else
			stw_vm_queue_job(t->vm, &t->bar_work);
	}
	if (bench_bar.profile)
		bench_bar.armed = local_clock();
	left = wait_event_idle_timeout(bench_bar.ctl_wq,
				       !atomic_read(&bench_bar.arrive_left),
				       msecs_to_jiffies(BENCH_STOP_TIMEOUT_MS));
	*stop = bench_ns_since(t0);
	*inner = ktime_to_ns(ktime_sub(bench_bar.last_arrival, t0));

	t0 = ktime_get();
	WRITE_ONCE(bench_bar.released, gen);
	wake_up_all(&bench_bar.release_wq);
	if (!left || !bench_wait_until(bench_bar_all_running, s))
		return -ETIMEDOUT;
	*resume = bench_ns_since(t0);
	return 0;
}

static void bench_emit(const char *section, struct bench_set *s,
		       const char *method, unsigned int n, u64 *stop,
		       u64 *resume, const char *note)
{
	bench_out("%s,%u,%s,%s,%u,%llu,%llu,%llu,%llu,%s\n", section, s->n,
		  bench_mix_names[s->mix], method, n, bench_median(stop, n),
		  bench_p99(stop, n), bench_median(resume, n),
		  bench_p99(resume, n), note);
}

/**
 * bench_measure() - stop/resume cycles of stw and the raw barrier
 * @s: a set of VMs, running
 * @section: the CSV section its rows go to
 * @o: cycles, time budget and which methods
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno (a cycle failed or timed out).
 */
int bench_measure(struct bench_set *s, const char *section,
		  const struct bench_opts *o)
{
	unsigned int i, k, done = 0;
	u64 *v[BENCH_S_COUNT] = {};
	u64 scratch[BENCH_S_COUNT];
	char note[64];
	ktime_t start;
	int ret = -ENOMEM;

	for (i = 0; i < BENCH_S_COUNT; i++) {
		v[i] = kvcalloc(o->cycles, sizeof(u64), GFP_KERNEL);
		if (!v[i])
			goto out;
	}
	for (k = 0; k < BENCH_WARMUP; k++) {
		if (o->stw) {
			ret = bench_stw_cycle(s, &scratch[0], &scratch[1],
					      &scratch[2]);
			if (ret)
				goto out;
			bench_settle();
		}
		if (o->barrier) {
			ret = bench_barrier_cycle(s, &scratch[3], &scratch[4],
						  &scratch[5]);
			if (ret)
				goto out;
			bench_settle();
		}
	}
	start = ktime_get();
	for (k = 0; k < o->cycles; k++) {
		if (o->stw) {
			ret = bench_stw_cycle(s, &v[BENCH_S_STW_STOP][k],
					      &v[BENCH_S_STW_INNER][k],
					      &v[BENCH_S_STW_RESUME][k]);
			if (ret)
				goto out;
			bench_settle();
		}
		if (o->barrier) {
			ret = bench_barrier_cycle(s, &v[BENCH_S_BAR_STOP][k],
						  &v[BENCH_S_BAR_INNER][k],
						  &v[BENCH_S_BAR_RESUME][k]);
			if (ret)
				goto out;
			bench_settle();
		}
		done = k + 1;
		if (o->budget_ms && done >= BENCH_MIN_CYCLES &&
		    bench_ns_since(start) > (u64)o->budget_ms * NSEC_PER_MSEC)
			break;
	}
	if (o->stw) {
		snprintf(note, sizeof(note), "inner_med_ns=%llu",
			 bench_median(v[BENCH_S_STW_INNER], done));
		bench_emit(section, s, "stw", done, v[BENCH_S_STW_STOP],
			   v[BENCH_S_STW_RESUME], note);
	}
	if (o->barrier) {
		snprintf(note, sizeof(note), "inner_med_ns=%llu",
			 bench_median(v[BENCH_S_BAR_INNER], done));
		bench_emit(section, s, "barrier", done, v[BENCH_S_BAR_STOP],
			   v[BENCH_S_BAR_RESUME], note);
	}
	ret = 0;
out:
	if (ret)
		pr_err("stw_bench: %s n=%u %s: cycle %u failed: %d\n", section,
		       s->n, bench_mix_names[s->mix], done, ret);
	for (i = 0; i < BENCH_S_COUNT; i++)
		kvfree(v[i]);
	return ret;
}

static bool bench_park_all_running(struct bench_set *s, unsigned int *pos)
{
	return !atomic_read(&bench_park_run_left);
}

/*
 * Park every thread in turn, as a user of kthread_park() would, then unpark
 * them all. Gives up parking more once @cap_ns passed: *@parked says how far
 * it got, and the time is then a lower bound.
 */
static int bench_park_cycle(struct bench_set *s, u64 cap_ns, u64 *stop,
			    u64 *resume, unsigned int *parked)
{
	unsigned int i, j;
	ktime_t t0;
	int ret = 0;

	t0 = ktime_get();
	for (i = 0; i < s->n;) {
		ret = kthread_park(s->t[i].task);
		if (ret)
			break;
		i++;
		if (cap_ns && bench_ns_since(t0) > cap_ns)
			break;
	}
	*stop = bench_ns_since(t0);
	*parked = i;

	atomic_set(&bench_park_run_left, i);
	t0 = ktime_get();
	for (j = 0; j < i; j++)
		kthread_unpark(s->t[j].task);
	if (!bench_wait_until(bench_park_all_running, s))
		return -ETIMEDOUT;
	*resume = bench_ns_since(t0);
	return ret;
}

/**
 * bench_park() - stop/resume cycles with kthread_park()/kthread_unpark()
 * @s: a set of park threads, running
 * @section: the CSV section its row goes to
 * @o: cycles and time budget; a cycle is cut short at the budget too
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno.
 */
int bench_park(struct bench_set *s, const char *section,
	       const struct bench_opts *o)
{
	u64 *stop, *resume, cap_ns = (u64)o->budget_ms * NSEC_PER_MSEC;
	unsigned int k, done = 0, parked = s->n;
	char note[64] = "";
	ktime_t start;
	int ret = -ENOMEM;

	stop = kvcalloc(o->cycles, sizeof(u64), GFP_KERNEL);
	resume = kvcalloc(o->cycles, sizeof(u64), GFP_KERNEL);
	if (!stop || !resume)
		goto out;
	start = ktime_get();
	for (k = 0; k < o->cycles; k++) {
		ret = bench_park_cycle(s, cap_ns, &stop[k], &resume[k],
				       &parked);
		if (ret)
			goto out;
		done = k + 1;
		bench_settle();
		if (parked < s->n) {
			snprintf(note, sizeof(note),
				 "censored: parked %u of %u", parked, s->n);
			break;
		}
		if (o->budget_ms && done >= BENCH_MIN_CYCLES &&
		    bench_ns_since(start) > cap_ns)
			break;
	}
	bench_emit(section, s, "park", done, stop, resume, note);
out:
	if (ret)
		pr_err("stw_bench: park n=%u %s failed: %d\n", s->n,
		       bench_mix_names[s->mix], ret);
	kvfree(stop);
	kvfree(resume);
	return ret;
}

/**
 * bench_hold_stop() - stop the world and keep it stopped
 * @s: the set the world holds, for the CSV row
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno.
 */
int bench_hold_stop(struct bench_set *s)
{
	struct stw_stop_info info;
	ktime_t t0;
	int hold;

	if (bench_hold_id)
		return -EBUSY;
	t0 = ktime_get();
	hold = stw_stop_world(bench_world, BENCH_STOP_TIMEOUT_MS, &info);
	if (hold < 0)
		return hold;
	bench_hold_id = hold;
	bench_out("hold,%u,%s,stop,1,%llu,,,,inner_ns=%llu\n", s->n,
		  bench_mix_names[s->mix], bench_ns_since(t0), info.tts_ns);
	return 0;
}

/**
 * bench_hold_resume() - resume the world bench_hold_stop() stopped
 * @s: the set to wait for, until every thread runs again
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno.
 */
int bench_hold_resume(struct bench_set *s)
{
	ktime_t t0;
	int ret;

	if (!bench_hold_id)
		return -ENOENT;
	t0 = ktime_get();
	ret = stw_resume_world(bench_world, bench_hold_id);
	bench_hold_id = 0;
	if (ret)
		return ret;
	if (!bench_wait_until(bench_all_running, s))
		return -ETIMEDOUT;
	bench_out("hold,%u,%s,resume,1,,,%llu,,\n", s->n,
		  bench_mix_names[s->mix], bench_ns_since(t0));
	return 0;
}
