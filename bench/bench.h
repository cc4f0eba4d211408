/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_bench: measures stw against a raw barrier and kthread_park(). See
 * main.c for the commands and scripts/bench.sh for the whole bench.
 */
#ifndef _STW_BENCH_H
#define _STW_BENCH_H

#include <linux/atomic.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "module/stw.h"

/*
 * Bench threads run at the demo VMs' nice unless stw_bench.nice says
 * otherwise: controllers come first.
 */
#define BENCH_NICE		10
/* How often a controller looks whether every thread runs again, at most. */
#define BENCH_WAIT_US		10
#define BENCH_WAIT_MAX_US	2000

enum bench_mix {
	BENCH_MIX_ACTIVE,	/* every thread runs a job that polls */
	BENCH_MIX_IDLE,		/* every thread sleeps in its run loop */
	BENCH_MIX_HALF,		/* even threads active, odd ones idle */
	BENCH_MIX_COUNT
};

extern const char *const bench_mix_names[BENCH_MIX_COUNT];

/**
 * struct bench_thread - one thread of a bench set
 * @vm: the stw VM, in a set of VMs
 * @task: the plain kthread, in a set of park threads
 * @active: runs a job that polls after each unit of work
 * @started: the job (or the park thread) runs
 * @quit: the job should end
 * @bar_trap: a raw barrier is pending for this active thread
 * @arrived: when it arrived at the raw barrier, local_clock() (profile only)
 * @job: the active job of a VM
 * @bar_work: the raw barrier's arrival, queued on an idle VM's run loop
 */
struct bench_thread {
	struct stw_vm *vm;
	struct task_struct *task;
	bool active;
	bool started;
	bool quit;
	unsigned long bar_trap;
	u64 arrived;
	struct kthread_work job;
	struct kthread_work bar_work;
};

/**
 * struct bench_set - the threads one measurement runs on
 * @t: @n threads
 * @n: how many
 * @mix: which of them are active
 * @park: plain kthreads for kthread_park(), not stw VMs
 * @world: the world its VMs are in; bench_world unless set before spawn
 */
struct bench_set {
	struct bench_thread *t;
	unsigned int n;
	enum bench_mix mix;
	bool park;
	struct stw_world *world;
};

/*
 * The raw barrier: the least a stop can do. Every thread arrives once
 * (an atomic decrement), waits for the release and says it runs again.
 */
struct bench_barrier {
	unsigned long gen;
	atomic_t arrive_left;
	atomic_t run_left;
	unsigned long released;
	u64 requested;
	u64 armed;
	ktime_t last_arrival;
	bool profile;
	wait_queue_head_t ctl_wq;
	wait_queue_head_t release_wq;
};

extern struct bench_barrier bench_bar;
/* The bench's own world: its VMs, its stops. */
extern struct stw_world *bench_world;
/* A second world, whose VMs run beside (command other) while it stops. */
extern struct stw_world *bench_other_world;
extern atomic_t bench_park_run_left;

/* threads.c */
void bench_unit(void);
int bench_set_spawn(struct bench_set *s, unsigned int n, enum bench_mix mix,
		    bool park);
void bench_set_kill(struct bench_set *s);
void bench_barrier_arrive(struct bench_thread *t);
bool bench_wait_until(bool (*done)(struct bench_set *s, unsigned int *pos),
		      struct bench_set *s);
bool bench_all_running(struct bench_set *s, unsigned int *pos);

/* measure.c */
struct bench_opts {
	unsigned int cycles;
	unsigned int budget_ms;
	bool stw;
	bool barrier;
};

int bench_measure(struct bench_set *s, const char *section,
		  const struct bench_opts *o);
int bench_park(struct bench_set *s, const char *section,
	       const struct bench_opts *o);
int bench_barrier_cycle(struct bench_set *s, u64 *stop, u64 *inner,
			u64 *resume);
int bench_hold_stop(struct bench_set *s);
int bench_hold_resume(struct bench_set *s);

/* profile.c */
int bench_profile(struct bench_set *s);

/* poll.c */
int bench_poll_cost(unsigned int units, unsigned int rounds);

/* main.c */
void bench_out(const char *fmt, ...) __printf(1, 2);
u64 bench_median(u64 *v, unsigned int n);
u64 bench_p99(u64 *v, unsigned int n);

#endif /* _STW_BENCH_H */
