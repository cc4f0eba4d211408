// SPDX-License-Identifier: GPL-2.0
/*
 * Where a stop spends its time: when each thread stopped, counted from the
 * request, for one stw stop and one raw barrier on the same VMs. stw keeps
 * each VM's time itself (the STATUS dump's last_tts_ns); the barrier's
 * threads note theirs only while profiling, as that costs a clock read.
 * Both read local_clock(), which stays on the CPU: ktime_get() may read a
 * device (the HPET under QEMU), which would slow the threads profiled.
 */
#include <linux/sched/clock.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "bench.h"

#define BENCH_PROFILE_TIMEOUT_MS	60000

/* local_clock() read on two CPUs may disagree by a little. */
static u64 bench_clock_since(u64 start, u64 t)
{
	return t > start ? t - start : 0;
}

/* Percentiles of the times each thread stopped at, as a CSV row. */
static void bench_profile_row(struct bench_set *s, const char *method,
			      u64 *v, u64 total, u64 armed)
{
	unsigned int n = s->n;

	bench_median(v, n);	/* sorts */
	bench_out("profile,%u,%s,%s,1,%llu,%llu,,,", n,
		  bench_mix_names[s->mix], method, v[(n - 1) / 2], v[n - 1]);
	bench_out("first=%llu;p10=%llu;p90=%llu;total=%llu;armed=%llu\n",
		  v[0], v[n / 10], v[(n * 9) / 10], total, armed);
}

/**
 * bench_profile() - when each VM stops, for stw and for the raw barrier
 * @s: a set of VMs, running
 *
 * Context: process context; sleeps.
 * Return: 0, or an errno.
 */
int bench_profile(struct bench_set *s)
{
	struct stw_stop_info info;
	u64 *v, stop, inner, resume;
	unsigned int i;
	int hold, ret = 0;

	v = kvcalloc(s->n, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;

	hold = stw_stop_world(bench_world, BENCH_PROFILE_TIMEOUT_MS, &info);
	if (hold < 0) {
		ret = hold;
		goto out;
	}
	/* Stopped: every VM's own record of its stop holds still. */
	for (i = 0; i < s->n; i++)
		v[i] = READ_ONCE(s->t[i].vm->last_tts_ns);
	stw_resume_world(bench_world, hold);
	if (!bench_wait_until(bench_all_running, s)) {
		pr_err("stw_bench: profile: not every VM runs again\n");
		ret = -ETIMEDOUT;
		goto out;
	}
	bench_profile_row(s, "stw", v, info.tts_ns, 0);

	WRITE_ONCE(bench_bar.profile, true);
	ret = bench_barrier_cycle(s, &stop, &inner, &resume);
	WRITE_ONCE(bench_bar.profile, false);
	if (ret)
		goto out;
	for (i = 0; i < s->n; i++)
		v[i] = bench_clock_since(bench_bar.requested,
					 s->t[i].arrived);
	bench_profile_row(s, "barrier", v, inner,
			  bench_clock_since(bench_bar.requested,
					    bench_bar.armed));
out:
	if (ret)
		pr_err("stw_bench: profile n=%u %s failed: %d\n", s->n,
		       bench_mix_names[s->mix], ret);
	kvfree(v);
	return ret;
}
