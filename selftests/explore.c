// SPDX-License-Identifier: GPL-2.0
/*
 * explore: a systematic scheduler over stw's probe points (make explore).
 *
 * The race tests force the one interleaving each was written for. This
 * program looks for the ones nobody wrote, the way CHESS and loom do: it
 * runs a small configuration (a few demo VMs, or stw_attachmod's kthread
 * or worker; one or two controllers with short scripts, an attached
 * thread's owner among them) with every thread of it gated
 * (uapi/stw_probe.h), so that each
 * stops at every probe point it reaches. One thread runs at a time: at
 * each step the scheduler picks one of the threads that can go on, lets it
 * go, and waits until everything has settled again: each thread parked at
 * its gate, asleep (idle in its run loop, parked at a stop point, waiting
 * for a lock), or done. It never sleeps to order anything: it waits for
 * what the kernel and /proc say.
 *
 * Schedules are enumerated depth first, with a bound on preemptions (a
 * switch away from a thread that could have gone on); most concurrency bugs
 * need no more than two. Each schedule runs from scratch: fresh VMs, fresh
 * sockets. After each step, unless a gated thread holds one of stw's locks,
 * the scheduler reads STATUS: no invariant violated (the kernel checks
 * I1-I5 at every transition and counts), and STOPPED only with every VM
 * parked and saying stopped, the counts exact. At the end it checks the
 * world where the scripts leave it (STOPPED while a hold is left, else
 * RUN_ALL with every VM running and its job finished), every STOP
 * completed, the events in order and without a gap, and the promise the
 * configuration is about. A failure prints the schedule, step by step,
 * and the choices that replay it (-r).
 *
 * Many schedules reach the same state by different paths, and everything
 * after a state depends on the state alone. So the enumeration keeps, for
 * each state it reached, the largest number of preemptions it had left
 * there; a schedule that reaches a state again with no more left ends
 * there: the earlier visit tried or will try everything that can follow
 * (see "the state" below for what a state is, and why that is sound). The
 * threads then run on unscheduled, unchecked, so that the next schedule
 * can start. -P turns the pruning off; -C keeps it, but a schedule cut
 * short runs on to its end as scheduled and checked, trying no other
 * choice (as this program did first; to check the cut loses nothing).
 * The steps of a schedule that replay an earlier one's prefix are not
 * checked again: only what came is read (check_step()).
 *
 *   explore [-c CONFIG] [-b BOUND] [-l MAX_SCHEDULES] [-r CHOICES]
 *           [-R CHOICES [-S FILE]] [-U CHOICES] [-s SEED -n WALKS [-p]]
 *           [-f|-F] [-q] [-t] [-P|-C] [-H]
 *
 *   -c   a configuration (default: all of them; -c list names them)
 *   -b   the preemption bound (default 2)
 *   -l   stop after this many schedules per configuration (default: none)
 *   -r   replay one schedule: the participants' numbers, comma-separated,
 *        as a failure prints them (then -c is required)
 *   -R   resume an enumeration that stopped (-l, a timeout): start at this
 *        schedule, as the progress lines and the limit print it, taking
 *        every one before it as explored (then -c is required; the same
 *        module, bound and options as the run that printed it)
 *   -S   with -R: the output of the run that printed it (or of the run
 *        that resumed that one, and so on), whose "# seen" lines before
 *        that -R give back the states it had noted
 *   -U   stop before the schedule -R CHOICES would start at (a point to
 *        go on from, as printed): with -R, an enumeration of the
 *        schedules from one point up to another. Two runs, one with -U
 *        and one with -R of the same choices, explore the whole between
 *        them: one enumeration on two CPUs (then -c is required)
 *   -s, -n  random walks instead of the enumeration: N schedules, each
 *        choice drawn from SEED's sequence, no bound
 *   -p   with -s: walks by random priorities (PCT, pct_choose()), changed
 *        at as many random steps as the bound says
 *   -f   stop a configuration at its first failure; -F: stop at the
 *        first failure of any
 *   -q   one line per configuration
 *   -t   trace every step as it goes
 *   -P   no pruning of states already explored: every schedule
 *   -C   a schedule cut short runs on to its end, scheduled and checked
 *   -H   print the hash of every distinct place reached, at the end (to
 *        compare the places reached with and without -P)
 *
 * Prints one result line per configuration:
 *   explore CONFIG: bound B, S schedules, N states, P places, T s,
 *   F failures, K pruned[, first failure after J schedules]
 * (N: the distinct states, see "the state", at the steps after which
 * STATUS was read; P: the distinct places of the participants alone; K:
 * the schedules cut short at a state explored already)
 * and exits 1 if any schedule failed (a thread that never settles fails
 * it too), 2 on an error of its own. A replay that goes elsewhere than the
 * run it replays (stw's event worker, which it does not schedule, took a
 * lock first) is run again; if it never follows its prefix, it ends there
 * and is counted as diverged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "stw_nl.h"
#include "stw_probe.h"
#include "testmod.h"

#define MAX_PARTS	8
#define MAX_STEPS	400
#define MAX_ACTIONS	4
#define MAX_BOUND	8	/* -p: priority changes in a walk */
#define SETTLE_MS	5000
#define DONE_MS		10000
#define STOP_TIMEOUT_MS	60000	/* never reached within a schedule */

/* ---- configurations ---- */

enum op {
	OP_STOP,	/* STOP: a hold bound to the socket */
	OP_RESUME,	/* RESUME: this socket's holds */
	OP_FORCE,	/* RESUME with force: every controller's holds */
	OP_CLOSE,	/* close the socket (a controller that dies), open anew */
	OP_KILL,	/* KILL one VM */
	OP_STEP,	/* RUN_ONE one VM, and wait for its completion */
	OP_FEED,	/* stw_attachmod's owner gives its kthread a unit of work */
	OP_DETACH,	/* stw_attachmod's owner detaches its worker */
	OP_SPAWN,	/* SPAWN an idle demo VM: its thread is gated at birth */
};

struct action {
	enum op op;
	int vm;		/* OP_KILL, OP_STEP: which VM (its index) */
	int polls;	/* OP_STEP */
};

struct explorer;

struct config {
	const char *name;
	const char *about;
	int nvms;
	int job_vm;		/* the VM that runs a job; -1: none */
	int job_polls;
	/*
	 * The VMs: the demo's, spawned; or, with @attach, those of
	 * stw_attachmod loaded with these parameters, its worker busy
	 * with a job that knows nothing of stw if @block_worker.
	 */
	const char *attach;
	bool block_worker;
	int nctl;
	int nact[2];
	struct action script[2][MAX_ACTIONS];
	/* The promise this configuration is about, checked at the end. */
	void (*check)(struct explorer *x);
	/*
	 * What of the run so far @check reads, for the state (hashed). It
	 * reads stw_attachmod's parameters: not while a controller is in an
	 * action on them (see check_step()).
	 */
	uint64_t (*history)(struct explorer *x, uint64_t h);
};

static void check_step_ran_fed(struct explorer *x);
static void check_detach_left_nothing(struct explorer *x);
static uint64_t history_step_ran_fed(struct explorer *x, uint64_t h);
static uint64_t history_detach(struct explorer *x, uint64_t h);

static const struct config configs[] = {
	{
		.name = "stop-resume",
		.about = "an idle VM, a VM in a job of 2 polls; A stops and resumes",
		.nvms = 2, .job_vm = 1, .job_polls = 2,
		.nctl = 1, .nact = { 2 },
		.script = { { { .op = OP_STOP }, { .op = OP_RESUME } } },
	},
	{
		.name = "stop",
		.about = "an idle VM, a VM in a job of 2 polls; A stops and keeps it",
		.nvms = 2, .job_vm = 1, .job_polls = 2,
		.nctl = 1, .nact = { 1 },
		.script = { { { .op = OP_STOP } } },
	},
	{
		.name = "holder-dies",
		.about = "an idle VM, a VM in a job of 1 poll; A stops, then its socket closes",
		.nvms = 2, .job_vm = 1, .job_polls = 1,
		.nctl = 1, .nact = { 2 },
		.script = { { { .op = OP_STOP }, { .op = OP_CLOSE } } },
	},
	{
		.name = "stop-force",
		.about = "an idle VM, a VM in a job of 2 polls; A stops, B resumes with force",
		.nvms = 2, .job_vm = 1, .job_polls = 2,
		.nctl = 2, .nact = { 1, 1 },
		.script = { { { .op = OP_STOP } }, { { .op = OP_FORCE } } },
	},
	{
		.name = "stop-kill",
		.about = "an idle VM, a VM in a job of 1 poll; A stops, B kills the idle VM",
		.nvms = 2, .job_vm = 1, .job_polls = 1,
		.nctl = 2, .nact = { 1, 1 },
		.script = { { { .op = OP_STOP } }, { { .op = OP_KILL, .vm = 0 } } },
	},
	{
		.name = "two-controllers",
		.about = "an idle VM, a VM in a job of 1 poll; A and B each stop and resume",
		.nvms = 2, .job_vm = 1, .job_polls = 1,
		.nctl = 2, .nact = { 2, 2 },
		.script = { { { .op = OP_STOP }, { .op = OP_RESUME } },
			    { { .op = OP_STOP }, { .op = OP_RESUME } } },
	},
	{
		.name = "spawn",
		.about = "an idle VM, a VM in a job of 1 poll; A stops and resumes, B spawns an idle VM",
		.nvms = 2, .job_vm = 1, .job_polls = 1,
		.nctl = 2, .nact = { 2, 1 },
		.script = { { { .op = OP_STOP }, { .op = OP_RESUME } },
			    { { .op = OP_SPAWN } } },
	},
	{
		.name = "kthread-idle",
		.about = "an attached kthread (stw_attachmod); A stops, B gives it work",
		.nvms = 1, .job_vm = -1,
		.attach = "workers=0 threads=1 unit=2",
		.nctl = 2, .nact = { 1, 1 },
		.script = { { { .op = OP_STOP } }, { { .op = OP_FEED } } },
	},
	{
		.name = "kthread-step",
		.about = "an attached kthread; A stops and steps it, B gives it work",
		.nvms = 1, .job_vm = -1,
		.attach = "workers=0 threads=1 unit=2",
		.nctl = 2, .nact = { 2, 1 },
		.script = { { { .op = OP_STOP },
			      { .op = OP_STEP, .vm = 0, .polls = 20 } },
			    { { .op = OP_FEED } } },
		.check = check_step_ran_fed,
		.history = history_step_ran_fed,
	},
	{
		.name = "detach-stopping",
		.about = "an attached worker busy with a job of its owner's; A stops, B detaches it",
		.nvms = 1, .job_vm = -1,
		.attach = "workers=1 threads=0", .block_worker = true,
		.nctl = 2, .nact = { 1, 1 },
		.script = { { { .op = OP_STOP } }, { { .op = OP_DETACH } } },
		.check = check_detach_left_nothing,
		.history = history_detach,
	},
	{
		.name = "spawn-stop",
		.about = "an idle VM; A stops and keeps it, B spawns an idle VM",
		.nvms = 1, .job_vm = -1,
		.nctl = 2, .nact = { 1, 1 },
		.script = { { { .op = OP_STOP } }, { { .op = OP_SPAWN } } },
	},
};

#define NR_CONFIGS (sizeof(configs) / sizeof(configs[0]))

/* ---- participants ---- */

enum where {
	W_RUNNING,	/* not settled */
	W_GATE,		/* parked at its gate: can go on */
	W_ASLEEP,	/* asleep elsewhere: someone else must wake it */
	W_BLOCKED,	/* asleep on a lock */
	W_AWAY,		/* asleep where something unwatched wakes it */
	W_IDLE,		/* a controller between actions: can go on */
	W_DONE,		/* gone, or a controller with nothing left to do */
};

struct part {
	char name[16];
	bool ctl;
	pid_t tid;
	/* Settled observation. */
	enum where where;
	int point;		/* W_GATE: where */
	uint32_t holds;		/* stw's locks it holds */
	uint64_t parks;		/* times it parked at its gate */
	/*
	 * Where in the code it is, beyond the gate (context_of()): its
	 * kernel stack's hash, and the parks it was read at.
	 */
	uint64_t ctx, ctx_parks;
	/*
	 * What /proc said of it when it last looked asleep: its times on a
	 * CPU then, its state letter, where it sleeps (sleeps_on()) and the
	 * hash of its wchan.
	 */
	uint64_t slept_ran[2], slept_wchan;
	char slept_state, slept_on;
	/* A controller's thread and script. */
	const struct action *script;
	int nact, next;
	struct stw_sock *s;
	int go[2];		/* a byte per action; 'q' to quit */
	atomic_int busy;	/* in an action */
	pthread_t thread;
	int stops_pending;	/* STOP replies that said a completion follows */
	bool holding;		/* holds a stop hold, as far as its replies say */
	int err[MAX_ACTIONS];	/* each action's errno */
	char result[MAX_ACTIONS][64];
	/* The steps at which each action began and ended. */
	int sent_at[MAX_ACTIONS], done_at[MAX_ACTIONS];
	int seen;		/* actions whose end is noted */
};

struct step {
	int nen;
	int enabled[MAX_PARTS];
	int chosen;
	int prev;		/* who ran the step before, -1 if none */
	int preemptions;	/* before this step */
	uint32_t tried;		/* bit per participant, for the enumeration */
	int from_point;		/* where the chosen one was, -1: */
	int action;		/* a controller starting this action */
	int to_point;		/* where it settled (-1: not at a gate) */
	enum where to;
	bool keyed;		/* the state before it is known: */
	uint64_t key;		/* its hash (state_key()) */
};

struct explorer {
	const struct config *cfg;
	int bound;
	bool verbose;
	bool trace;		/* every step, as it goes (-t) */
	bool first_only;	/* stop at the first failure (-f) */
	bool hung;		/* never settled, or a controller never done: stop */
	bool diverged;		/* the replay of a prefix went elsewhere */
	struct stw_sock *s;	/* the driver's own requests */
	struct stw_sock *p;	/* stw_probe */
	struct stw_sock *ev;	/* events */
	int nparts;
	int nfixed;		/* the VMs, then the controllers; then the VMs born */
	struct part parts[MAX_PARTS];
	uint32_t vm_ids[MAX_PARTS];
	/* The schedule under way. */
	struct step steps[MAX_STEPS];
	int nsteps;
	const int *prefix;
	int nprefix;
	/*
	 * The steps before the prefix's last are an earlier schedule's, that
	 * went the same way: checked, and their states noted, then.
	 */
	bool prefix_ran;
	unsigned int seed;	/* random walk when non-zero */
	/*
	 * The walk by priorities (-p, pct_choose()): each participant's, the
	 * steps after which the one that ran drops below all (one per
	 * preemption of the bound), and how long the last walk was.
	 */
	bool pct;
	int prio[MAX_PARTS];
	int change[MAX_BOUND];
	int walk_len;
	char failure[512];
	/* Distinct places: hashes of every participant's place. */
	uint64_t *places;
	size_t nplaces, capplaces;
	/*
	 * The full states reached (see "the state"), each with the most
	 * preemptions it was reached with still to spend: an open hash table.
	 */
	bool prune;		/* on unless -P */
	bool print_places;	/* -H */
	bool pruning;		/* this schedule reached one again: no branch */
	bool run_on;		/* -C: and runs on, scheduled, to its end */
	long pruned;		/* schedules cut short so */
	struct seen {
		uint64_t h;
		signed char left[MAX_PARTS + 1]; /* after each ran, -1 first */
		bool dirty;	/* not printed since it changed (-S) */
	} *seen;
	size_t nseen, capseen;
	const char *states;	/* -S: a resumed run's states, from here */
	/* -U: the schedule the enumeration stops before, and its length. */
	const int *until;
	int nuntil;
	/* The world after the last step, hashed; valid only if observed. */
	bool observed;
	uint64_t world_h;
	uint64_t gen0;		/* the world's generation after setup */
	/*
	 * The events read so far: the latest's number (at setup, the latest
	 * posted before the schedule) and cycle.
	 */
	uint64_t ev_seq, ev_gen;
	/* Where the time goes, in µs: setup, steps, checks after them, end. */
	int64_t us[4];
	long steps_run;
	long looks;		/* observe()s, to see what a step costs */
};

enum { T_SETUP, T_STEPS, T_CHECKS, T_END };

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Set once the probe socket is open: die() lets every gated thread go. */
static struct stw_sock *probe_sock;
/* The schedule under way, which die() prints. */
static struct explorer *running;

static void print_schedule(struct explorer *x);

static int die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "explore: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (running && running->nsteps)
		print_schedule(running);
	if (probe_sock)
		stw_probe_reset(probe_sock);
	exit(2);
}

static void fail(struct explorer *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failure[0])
		return;		/* the first one says it */
	va_start(ap, fmt);
	vsnprintf(x->failure, sizeof(x->failure), fmt, ap);
	va_end(ap);
}

static const char *where_name(enum where w)
{
	static const char *const n[] = {
		[W_RUNNING] = "running", [W_GATE] = "gate", [W_AWAY] = "away",
		[W_ASLEEP] = "asleep", [W_BLOCKED] = "blocked",
		[W_IDLE] = "idle", [W_DONE] = "done",
	};
	return n[w];
}

static const char *op_name(enum op op)
{
	static const char *const n[] = {
		[OP_STOP] = "STOP", [OP_RESUME] = "RESUME",
		[OP_FORCE] = "RESUME --force", [OP_CLOSE] = "close",
		[OP_KILL] = "KILL", [OP_STEP] = "STEP",
		[OP_FEED] = "feed its kthread", [OP_DETACH] = "detach its worker",
		[OP_SPAWN] = "SPAWN",
	};
	return n[op];
}

/* ---- a controller's thread ---- */

static void ctl_act(struct explorer *x, struct part *c)
{
	const struct action *a = &c->script[c->next];
	char *out = c->result[c->next];
	struct stw_stop_req req = {
		.timeout_ms = STOP_TIMEOUT_MS, .lease_ms = STW_UNSET,
	};
	struct stw_cycle cycle;
	bool resumed = false;
	int err = EINVAL;	/* an op the switch does not know */

	switch (a->op) {
	case OP_STOP:
		err = stw_stop_send(c->s, &req, &cycle);
		if (!err && cycle.pending)
			c->stops_pending++;
		c->holding |= !err;
		snprintf(out, 64, "STOP: %s%s", err ? strerror(err) : "ok",
			 !err && cycle.pending ? ", pending" : "");
		break;
	case OP_RESUME:
	case OP_FORCE:
		err = stw_resume_ex(c->s, a->op == OP_FORCE, 0, &resumed, NULL);
		snprintf(out, 64, "%s: %s%s", op_name(a->op),
			 err ? strerror(err) : "ok", resumed ? ", resumed" : "");
		break;
	case OP_CLOSE:
		/* A closed socket has no completion to wait for. */
		stw_close(c->s);
		c->stops_pending = 0;
		c->s = stw_open();
		err = c->s ? 0 : errno;
		snprintf(out, 64, "close: %s", err ? strerror(err) : "ok");
		break;
	case OP_KILL:
		err = stw_kill(c->s, &x->vm_ids[a->vm], 1);
		snprintf(out, 64, "KILL vm%d: %s", a->vm,
			 err ? strerror(err) : "ok");
		break;
	case OP_STEP:
		err = stw_run_one(c->s, x->vm_ids[a->vm], a->polls,
				  STOP_TIMEOUT_MS, NULL);
		snprintf(out, 64, "STEP vm%d: %s", a->vm,
			 err ? strerror(err) : "ok");
		break;
	case OP_SPAWN: {
		uint32_t id = 0;
		size_t n = 0;

		err = stw_spawn(c->s, 0, 1, 0, 0, &id, &n);
		snprintf(out, 64, "SPAWN: %s, VM %u", err ? strerror(err) : "ok",
			 id);
		break;
	}
	case OP_FEED:
	case OP_DETACH:
		err = mod_action(ATTACHMOD, a->op == OP_FEED ? "feed_thread" :
				 "detach_worker_only");
		snprintf(out, 64, "%s: %s", op_name(a->op),
			 err ? strerror(err) : "ok");
		break;
	}
	c->err[c->next] = err;
	/*
	 * Whether this controller holds a stop: its own requests end in
	 * order. Another's force is left to holds_left(), since when it ran
	 * in the kernel against this STOP is not known here.
	 */
	if (a->op == OP_RESUME || a->op == OP_CLOSE)
		c->holding = false;
}

struct ctl_arg {
	struct explorer *x;
	struct part *c;
};

static void *ctl_main(void *arg)
{
	struct ctl_arg *ca = arg;
	struct part *c = ca->c;
	char b;

	__atomic_store_n(&c->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		if (read(c->go[0], &b, 1) != 1 || b == 'q')
			break;
		ctl_act(ca->x, c);
		c->next++;
		atomic_store(&c->busy, 0);
	}
	free(ca);
	return NULL;
}

/* ---- observing ---- */

#define HASH_INIT	1469598103934665603ULL

/* FNV-1a: @len bytes at @p into @h. */
static uint64_t hash_in(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/*
 * Between two looks at what the kernel says (/proc, the gates, a
 * controller's busy flag): /proc tells no one when a thread moves, so it
 * is polled. A wait until something is so, never an order between
 * threads.
 */
static void poll_pause(void)
{
	struct timespec ts = { 0, 200 * 1000 };

	nanosleep(&ts, NULL);
}

/* /proc/TID/WHAT into @buf, NUL-terminated: its length, or -1. */
static ssize_t proc_read(pid_t tid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", tid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* A thread's state letter from /proc (R, S, D, I...), 0 if it is gone. */
static char proc_state(pid_t tid)
{
	char buf[512], *p;

	if (proc_read(tid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	/* A zombie or a dead thread is as good as gone. */
	return p[2] == 'Z' || p[2] == 'X' ? 0 : p[2];
}

/* What a thread that never settles is doing, for the failure. */
static void dump_stack_of(pid_t tid)
{
	const char *what[] = { "stat", "wchan", "stack" };
	char buf[4096];
	size_t k;

	for (k = 0; k < sizeof(what) / sizeof(what[0]); k++)
		if (proc_read(tid, what[k], buf, sizeof(buf)) > 0)
			fprintf(stderr, "explore: %s of %d:\n%s\n", what[k], tid,
				buf);
}

/*
 * The driver's own requests to stw must not wait for a gated thread: it
 * reads STATUS only when no gated thread holds one of stw's locks. If one
 * waits all the same (a lock held that the gates do not count), every
 * gate would let itself go after 60 s and the run go on from a state the
 * scheduler never chose. A watchdog thread says so instead, with every
 * thread's stack and the schedule so far, and ends the run.
 *
 * It also bounds what the driver waits for between schedules (setting one
 * up, letting the controllers go at the end), which the kernel's own
 * limits bound too: a reset's 10 s, a VM's start, the 60 s after which a
 * gate lets itself go and a STEP gives up. Past those, something waits
 * for ever, and a guest that would sit until its time limit says why now.
 */
#define WATCH_MS	20000
#define WATCH_SETUP_MS	90000

static struct {
	_Atomic int64_t deadline;	/* 0: no request under way */
	const char *what;
	int ms;
	pid_t tid;			/* the driver's thread */
} watch;

static void watch_begin(const char *what, int ms)
{
	watch.what = what;
	watch.ms = ms;
	atomic_store(&watch.deadline, stw_now_ms() + ms);
}

static void watch_end(void)
{
	atomic_store(&watch.deadline, 0);
}

/* Every gate as stw says it is, for a failure of the scheduler's own. */
static void dump_gates(void)
{
	struct stw_probe_gate_info g[STW_PROBE_GATES];
	struct stw_probe_worker_info wk;
	size_t n = 0, j;

	if (stw_probe_gates(probe_sock, g, STW_PROBE_GATES, &n, &wk))
		return;
	fprintf(stderr, "explore: event worker: %s, thread %d\n",
		wk.busy ? "busy" : "idle", wk.pid);
	for (j = 0; j < n; j++)
		fprintf(stderr, "explore: gate of %d: %s %s, %u locks held, parked %" PRIu64 " times\n",
			g[j].pid, g[j].parked ? "parked at" : "not parked",
			g[j].parked ? stw_probe_name(g[j].point) : "",
			g[j].holds, g[j].parks);
}

static void *watchdog(void *arg)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	struct explorer *x = running;
	int64_t d;
	int i;

	for (;;) {
		nanosleep(&ts, NULL);	/* a watchdog's period, not an order */
		d = atomic_load(&watch.deadline);
		if (!d || stw_now_ms() < d)
			continue;
		fprintf(stderr, "explore: %s waited more than %d ms\n",
			watch.what, watch.ms);
		dump_stack_of(watch.tid);
		for (i = 0; i < x->nparts; i++)
			dump_stack_of(x->parts[i].tid);
		dump_gates();
		print_schedule(x);
		fflush(stdout);
		stw_probe_reset(probe_sock);
		_exit(2);
	}
	return arg;
}

/*
 * Whether a sleeping thread waits for a mutex: its kernel stack says so
 * (its wchan names the function that took the lock, which may be any).
 */
static bool waits_on_mutex(pid_t tid)
{
	char buf[4096];

	return proc_read(tid, "stack", buf, sizeof(buf)) > 0 &&
	       strstr(buf, "mutex_lock");
}

/*
 * The places where a thread settles asleep (the start of /proc's wchan):
 * those where what wakes it is a thread the scheduler watches (another
 * participant, or stw's event worker) or an action it takes. A VM idle in
 * its run loop, stw's own waits (a stop point, a gate, a controller's
 * wait), stw_attachmod's thread and its owner's job, a wait for a VM's
 * thread (flushing its worker, cancelling its work, stopping it), and a
 * controller waiting in user space for an answer.
 *
 * Anywhere else, something the scheduler does not watch will wake the
 * thread: kthreadd making a VM's thread (a SPAWN sleeps in kthread_create()
 * until it is made), a timer, an RCU grace period. Taken for settled there,
 * the thread would go on unseen once woken, to a lock the scheduler's own
 * STATUS then waits for.
 */
static const char *const settling_places[] = {
	"kthread_worker_fn", "stw_", "__stw_", "attachmod_",
	"kthread_flush_", "kthread_cancel_", "__kthread_cancel_",
	"kthread_stop", "do_sys_poll", "pipe_read",
};

/*
 * Where a thread whose state says asleep sleeps (/proc's wchan): 'M' on a
 * mutex, 'S' at one of the settling places, 'E' elsewhere (it will wake on
 * its own), or 'R' if the kernel names no place: the thread is still on a
 * CPU (it set its state and has not called schedule() yet, or spins on a
 * mutex as its first waiter).
 */
static char sleeps_on(pid_t tid, char state, uint64_t *wchan_h)
{
	char buf[128];
	ssize_t n;
	size_t k;

	n = proc_read(tid, "wchan", buf, sizeof(buf));
	if (n <= 0 || !strcmp(buf, "0"))
		return 'R';
	if (wchan_h)
		*wchan_h = hash_in(HASH_INIT, buf, n);
	/*
	 * The wait for one of stw's locks is uninterruptible, and the wchan
	 * names the stw function that took it (the lock helpers are
	 * inline); the stack, when the kernel gives it, says so plainly.
	 */
	if (waits_on_mutex(tid) ||
	    (state == 'D' && (strstr(buf, "mutex") || !strncmp(buf, "stw_", 4))))
		return 'M';
	for (k = 0; k < sizeof(settling_places) / sizeof(settling_places[0]); k++)
		if (!strncmp(buf, settling_places[k],
			     strlen(settling_places[k])))
			return 'S';
	return 'E';
}

/*
 * How often a thread has been on a CPU (/proc's schedstat: its run time and
 * its time slices): a thread whose state says asleep may still be on its
 * way to schedule(), or about to set itself running again; the same count
 * twice says it did not run in between.
 */
static void proc_runs(pid_t tid, uint64_t *ran)
{
	unsigned long long a = 0, b = 0, c = 0;
	char buf[128];

	ran[0] = ran[1] = 0;
	if (proc_read(tid, "schedstat", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%llu %llu %llu", &a, &b, &c) == 3) {
		ran[0] = a;
		ran[1] = c;
	}
}

/*
 * Where a participant sleeps, read again only if it ran since /proc said
 * last (most of a step's looks see the same threads asleep where they
 * were, and the stack is the dearest of /proc's files). A thread that
 * has not been on a CPU since has not moved: a wakeup alone shows in its
 * state letter. Not so one the kernel named no place for ('R'): it was
 * still on its CPU, going to sleep, and is not counted off it yet.
 */
static char sleeps_on_again(struct part *pt, const uint64_t *ran, char state)
{
	if (state != pt->slept_state || ran[0] != pt->slept_ran[0] ||
	    ran[1] != pt->slept_ran[1] || !ran[1] || pt->slept_on == 'R') {
		pt->slept_on = sleeps_on(pt->tid, state, &pt->slept_wchan);
		pt->slept_state = state;
		memcpy(pt->slept_ran, ran, sizeof(pt->slept_ran));
	}
	return pt->slept_on;
}

struct snap {
	char worker;		/* the event worker: 0 idle, else as sleeps_on() */
	pid_t worker_pid;
	uint64_t ran[MAX_PARTS][2];
	enum where where[MAX_PARTS];
	int point[MAX_PARTS];
	uint64_t parks[MAX_PARTS];
	uint32_t holds[MAX_PARTS];
};

/* A participant for a VM's thread gated at its birth. */
static void born(struct explorer *x, pid_t tid)
{
	struct part *pt = &x->parts[x->nparts];

	memset(pt, 0, sizeof(*pt));
	snprintf(pt->name, sizeof(pt->name), "vm%d",
		 x->cfg->nvms + x->nparts - x->nfixed);
	pt->tid = tid;
	pt->where = W_RUNNING;
	pt->point = -1;
	x->nparts++;
}

/*
 * One look at every participant: the gates first, then /proc for those not
 * parked at one. A thread parked at its gate stays there until this
 * program lets it go, and a controller between its actions waits on its
 * pipe: /proc has nothing to add about either (and reading it is most of
 * the time a step takes under emulation). A thread the gates saw on its
 * way and /proc then sees asleep may have parked in between: the next
 * look says so, and settle_once() wants two looks alike.
 */
static void observe(struct explorer *x, struct snap *sn)
{
	struct stw_probe_gate_info g[STW_PROBE_GATES];
	struct stw_probe_worker_info wk;
	char st[MAX_PARTS];
	bool busy[MAX_PARTS];
	size_t n = 0, j;
	int i, err;

	x->looks++;
	memset(sn, 0, sizeof(*sn));
	err = stw_probe_gates(x->p, g, STW_PROBE_GATES, &n, &wk);
	if (err)
		die("GATES: %s (%s)", strerror(err), x->p->extack);
	/* A VM's thread gated at its birth (a SPAWN's): one more. */
	for (j = 0; j < n; j++) {
		for (i = 0; i < x->nparts; i++)
			if (x->parts[i].tid == g[j].pid)
				break;
		if (i < x->nparts)
			continue;
		if (x->nparts == MAX_PARTS)
			die("more than %d threads", MAX_PARTS);
		born(x, g[j].pid);
	}
	for (i = 0; i < x->nparts; i++) {
		struct part *pt = &x->parts[i];

		/* Read once: both loops say the same of a controller. */
		busy[i] = pt->ctl && atomic_load(&pt->busy);
		sn->point[i] = -1;
		for (j = 0; j < n; j++) {
			if (g[j].pid != pt->tid)
				continue;
			sn->parks[i] = g[j].parks;
			sn->holds[i] = g[j].holds;
			if (g[j].parked)
				sn->point[i] = g[j].point;
		}
		if (sn->point[i] >= 0 || (pt->ctl && !busy[i])) {
			st[i] = 'G';
			continue;
		}
		proc_runs(pt->tid, sn->ran[i]);
		st[i] = proc_state(pt->tid);
		if (st[i] && st[i] != 'R')
			st[i] = sleeps_on_again(pt, sn->ran[i], st[i]);
	}
	/* Queued and not started counts as running. */
	sn->worker_pid = wk.pid;
	sn->worker = !wk.busy ? 0 : !wk.pid ? 'R' : proc_state(wk.pid);
	if (sn->worker && sn->worker != 'R')
		sn->worker = sleeps_on(wk.pid, sn->worker, NULL);
	for (i = 0; i < x->nparts; i++) {
		struct part *pt = &x->parts[i];

		if (pt->ctl && !busy[i])
			sn->where[i] = pt->next < pt->nact ? W_IDLE : W_DONE;
		else if (sn->point[i] >= 0)
			sn->where[i] = W_GATE;
		else if (!st[i])
			sn->where[i] = W_DONE;
		else if (st[i] == 'R')
			sn->where[i] = W_RUNNING;
		else if (st[i] == 'M')
			sn->where[i] = W_BLOCKED;
		else if (st[i] == 'E')
			sn->where[i] = W_AWAY;
		else
			sn->where[i] = W_ASLEEP;
	}
}

/*
 * Nothing runs, stw's event worker included (it takes the locks ours take:
 * it must be done, or wait for a lock), and a thread asleep on a lock waits
 * for one of ours: one waiting while none of ours holds a lock waits for
 * the event worker, which lets it go on its own.
 */
static bool settled(const struct explorer *x, const struct snap *sn)
{
	bool blocked = sn->worker == 'M', held = false;
	int i;

	if (sn->worker && sn->worker != 'M')
		return false;
	for (i = 0; i < x->nparts; i++) {
		if (sn->where[i] == W_RUNNING || sn->where[i] == W_AWAY)
			return false;
		blocked |= sn->where[i] == W_BLOCKED;
		held |= sn->holds[i] > 0;
	}
	return !blocked || held;
}

static const char *wchan_of(pid_t tid)
{
	static char buf[128];

	proc_read(tid, "wchan", buf, sizeof(buf));
	return buf;
}

/*
 * Wait until nothing runs: the same settled picture twice in a row, in
 * which no thread ran in between. False if that never comes: a thread
 * runs on for SETTLE_MS (a livelock, or a thread lost outside its gate).
 */
static bool settle_once(struct explorer *x)
{
	int64_t deadline = stw_now_ms() + SETTLE_MS;
	struct snap a, b;
	int i;

	for (;;) {
		observe(x, &a);
		if (settled(x, &a)) {
			observe(x, &b);
			if (!memcmp(&a, &b, sizeof(a)))
				break;
		}
		if (stw_now_ms() > deadline) {
			for (i = 0; i < x->nparts; i++)
				if (a.where[i] == W_RUNNING ||
				    a.where[i] == W_BLOCKED ||
				    a.where[i] == W_AWAY)
					break;
			if (i < x->nparts) {
				fail(x, "%s never settled: %s%s%s for %d ms",
				     x->parts[i].name, where_name(a.where[i]),
				     a.where[i] == W_AWAY ? ", asleep in " : "",
				     a.where[i] == W_AWAY ?
				     wchan_of(x->parts[i].tid) : "", SETTLE_MS);
				dump_stack_of(x->parts[i].tid);
			} else {
				fail(x, "stw's event worker (thread %d) never settled: '%c' for %d ms",
				     a.worker_pid, a.worker, SETTLE_MS);
				if (a.worker_pid)
					dump_stack_of(a.worker_pid);
			}
			for (i = 0; i < x->nparts; i++)
				if (a.where[i] != W_GATE)
					dump_stack_of(x->parts[i].tid);
			x->hung = true;
			return false;
		}
		poll_pause();
	}
	for (i = 0; i < x->nparts; i++) {
		x->parts[i].where = a.where[i];
		x->parts[i].point = a.point[i];
		x->parts[i].holds = a.holds[i];
		x->parts[i].parks = a.parks[i];
	}
	return true;
}

/*
 * Settle, then let every thread waiting before one of stw's locks
 * (STW_PROBE_LOCKING) take it, and settle again. That gate is no choice:
 * it is there so that a thread that let a lock go and wants it back waits
 * until the thread its unlock woke has taken it, whichever CPU runs which
 * first. Without it the two raced for the lock, and the replay of a
 * prefix went one way or the other.
 */
static bool settle(struct explorer *x)
{
	bool again;
	int i, err;

	do {
		if (!settle_once(x))
			return false;
		again = false;
		for (i = 0; i < x->nparts; i++) {
			struct part *pt = &x->parts[i];

			if (pt->where != W_GATE ||
			    pt->point != STW_PROBE_LOCKING)
				continue;
			err = stw_probe_go(x->p, pt->tid);
			if (err)
				die("GO %s: %s (%s)", pt->name, strerror(err),
				    x->p->extack);
			again = true;
		}
	} while (again);
	return true;
}

static void trace_parts(const struct explorer *x)
{
	int i;

	printf("# trace:  ");
	for (i = 0; i < x->nparts; i++) {
		const struct part *pt = &x->parts[i];

		printf(" %s(%d)=%s", pt->name, pt->tid,
		       pt->where == W_GATE ? stw_probe_name(pt->point) :
		       where_name(pt->where));
		if (pt->where == W_ASLEEP || pt->where == W_BLOCKED)
			printf("[%s]", wchan_of(pt->tid));
	}
	printf("\n");
}

static bool enabled(const struct part *pt)
{
	return pt->where == W_GATE || pt->where == W_IDLE;
}

/* A kernel stack read while its thread was preempted (gate_stack()). */
static bool preempted(const char *stack)
{
	return strstr(stack, "preempt_schedule") || strstr(stack, "] asm_");
}

/*
 * The kernel stack of a thread parked at its gate. The gate says parked
 * just before the thread goes to sleep: the stack of a thread still on a
 * CPU reads empty, and one preempted on its way (runnable, or preempted
 * between setting its sleeping state and sleeping, by a preemption point
 * or on the way out of an interrupt) reads as the place it was preempted
 * at, in the wait's own code, which would make the same place two. Read
 * until it is asleep, not preempted: no preemption and no interrupt's
 * entry (asm_*) on its stack.
 */
static ssize_t gate_stack(pid_t tid, char *buf, size_t len)
{
	int64_t deadline = stw_now_ms() + SETTLE_MS;
	ssize_t n;

	for (;;) {
		char st = proc_state(tid);

		if (!st)
			return -1;
		n = st != 'R' ? proc_read(tid, "stack", buf, len) : 0;
		if ((n > 0 && !preempted(buf)) ||
		    stw_now_ms() >= deadline)
			return n;
		poll_pause();
	}
}

/*
 * Where a settled thread is in the code, as its kernel stack says. A gate
 * is one probe point, reached from several places: the stop point from a
 * poll, from a stop work's entry, after a park, each going on its own way
 * from there. The gate alone would make them one state, and the pruning
 * would take one's future for the other's. A thread parked at its gate
 * stays where it was read until it parks again. Of one asleep, only the
 * function it sleeps in: where in it, and its callers', varies from run
 * to run (a mutex's waiter spins first, or not), and such a state would
 * be new every time.
 */
static void context_of(struct part *pt)
{
	char buf[4096];
	ssize_t n;

	if (pt->where == W_ASLEEP || pt->where == W_BLOCKED) {
		/* Its wchan, as the settled look read it (sleeps_on_again()). */
		pt->ctx = pt->slept_wchan;
		return;
	}
	if (pt->where == W_GATE && pt->ctx && pt->ctx_parks == pt->parks)
		return;
	pt->ctx = 0;
	if (pt->where != W_GATE)
		return;
	n = gate_stack(pt->tid, buf, sizeof(buf));
	pt->ctx = n > 0 ? hash_in(HASH_INIT, buf, n) : 0;
	pt->ctx_parks = pt->parks;
}

/* Every participant's place; counted if new. Returns its hash. */
static uint64_t note_places(struct explorer *x)
{
	uint64_t h = HASH_INIT;
	size_t i;
	int k;

	for (k = 0; k < x->nparts; k++) {
		struct part *pt = &x->parts[k];
		int v[3] = { pt->where, pt->point, pt->ctl ? pt->next : 0 };

		context_of(pt);
		h = hash_in(h, v, sizeof(v));
		h = hash_in(h, &pt->ctx, sizeof(pt->ctx));
	}
	for (i = 0; i < x->nplaces; i++)
		if (x->places[i] == h)
			return h;
	if (x->nplaces == x->capplaces) {
		x->capplaces = x->capplaces ? 2 * x->capplaces : 1024;
		x->places = realloc(x->places,
				    x->capplaces * sizeof(*x->places));
		if (!x->places)
			die("out of memory");
	}
	x->places[x->nplaces++] = h;
	return h;
}

/* ---- one schedule ---- */

static void let_go(struct explorer *x, int i)
{
	struct part *pt = &x->parts[i];
	int err;

	if (pt->where == W_IDLE) {
		atomic_store(&pt->busy, 1);
		if (write(pt->go[1], "g", 1) != 1)
			die("write: %s", strerror(errno));
		return;
	}
	err = stw_probe_go(x->p, pt->tid);
	if (err)
		die("GO %s: %s (%s)", pt->name, strerror(err), x->p->extack);
}

/*
 * A walk by priorities: PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * "A randomized scheduler with probabilistic guarantees of finding bugs",
 * ASPLOS 2010). Each participant has a random priority, and the highest
 * that can go on runs; after BOUND steps drawn at random, the one that ran
 * drops below every other. A bug that needs d threads' steps in a given
 * order shows with a chance of at least 1/(n k^(d-1)) per walk (n threads,
 * k steps) when the bound is d-1: far better than drawing at every step,
 * which rarely lets one thread run far enough alone to reach the place a
 * race needs it at.
 */
static void pct_begin(struct explorer *x)
{
	int len = x->walk_len > 1 ? x->walk_len : 50;
	int i, j, t;

	for (i = 0; i < MAX_PARTS; i++)
		x->prio[i] = x->bound + 1 + i;
	for (i = MAX_PARTS - 1; i > 0; i--) {
		j = rand_r(&x->seed) % (i + 1);
		t = x->prio[i];
		x->prio[i] = x->prio[j];
		x->prio[j] = t;
	}
	for (j = 0; j < x->bound; j++)
		x->change[j] = 1 + rand_r(&x->seed) % len;
}

static int pct_choose(struct explorer *x, const struct step *st)
{
	int best = st->enabled[0], i, j;

	for (j = 0; x->nsteps && j < x->bound; j++)
		if (x->change[j] == x->nsteps)
			x->prio[x->steps[x->nsteps - 1].chosen] = j;
	for (i = 1; i < st->nen; i++)
		if (x->prio[st->enabled[i]] > x->prio[best])
			best = st->enabled[i];
	return best;
}

static int choose(struct explorer *x, struct step *st)
{
	int k = x->nsteps, i;

	if (k < x->nprefix) {
		for (i = 0; i < st->nen; i++)
			if (st->enabled[i] == x->prefix[k])
				return x->prefix[k];
		/*
		 * What this scheduler does not control changed the run (stw's
		 * event worker took a lock first): run it again, or count it
		 * and explore on.
		 */
		if (x->trace)
			printf("# trace: diverged at step %d: %s cannot go on\n",
			       k + 1, x->parts[x->prefix[k]].name);
		x->diverged = true;
		return -1;
	}
	if (x->seed && x->pct)
		return pct_choose(x, st);
	if (x->seed)
		return st->enabled[rand_r(&x->seed) % st->nen];
	/* No preemption: the one that ran goes on if it can. */
	for (i = 0; i < st->nen; i++)
		if (st->enabled[i] == st->prev)
			return st->prev;
	return st->enabled[0];
}

/* Wait until thread @tid sleeps, as settle() would see it. */
static void wait_asleep(pid_t tid)
{
	int64_t deadline = stw_now_ms() + SETTLE_MS;
	char st;

	for (;;) {
		st = proc_state(tid);
		if (st && st != 'R' && sleeps_on(tid, st, NULL) == 'S')
			return;
		if (stw_now_ms() > deadline)
			die("thread %d never went to sleep after setup", tid);
		poll_pause();
	}
}

/*
 * stw_attachmod, loaded anew with the configuration's parameters: its
 * VMs, in the order STATUS lists them, each asleep in its run loop.
 */
static void setup_attached(struct explorer *x)
{
	const struct config *cfg = x->cfg;
	struct stw_vm *vms = NULL;
	size_t n = 0, i;
	int err;

	err = load_module(ATTACHMOD_KO, cfg->attach);
	if (err)
		die("load %s %s: %s", ATTACHMOD_KO, cfg->attach,
		    strerror(err));
	err = stw_wait_all_vms_state(x->s, STW_VM_RUNNING, 10000);
	if (!err)
		err = stw_vms(x->s, &vms, &n);
	if (err)
		die("STATUS: %s (%s)", strerror(err), x->s->extack);
	if (n != (size_t)cfg->nvms)
		die("%s %s made %zu VMs, not %d", ATTACHMOD, cfg->attach, n,
		    cfg->nvms);
	for (i = 0; i < n; i++)
		x->vm_ids[i] = vms[i].id;
	free(vms);
	if (cfg->block_worker &&
	    (mod_action(ATTACHMOD, "block_worker") ||
	     mod_wait_at_least(ATTACHMOD, "worker_blocked", 1, 10000) < 1))
		die("%s: its worker never blocked", ATTACHMOD);
}

static void setup(struct explorer *x)
{
	const struct config *cfg = x->cfg;
	struct stw_vm *vms = NULL;
	struct stw_world w;
	size_t n = 0, i;
	int err, k;

	err = stw_probe_reset(x->p);
	if (!err && cfg->attach)
		err = mod_unload(ATTACHMOD);
	if (!err)
		err = stw_reset(x->s, 10000);
	if (err)
		die("reset: %s (%s)", strerror(err), x->s->extack);
	if (x->trace)
		printf("# trace: reset\n");
	if (cfg->attach) {
		setup_attached(x);
	} else {
		err = stw_spawn(x->s, 0, cfg->nvms, 0, 0, x->vm_ids, &n);
		if (err || n != (size_t)cfg->nvms)
			die("SPAWN: %s (%s)", strerror(err), x->s->extack);
	}
	/* Started (each VM's start work ran), so that each starts asleep. */
	err = stw_wait_all_vms_state(x->s, STW_VM_RUNNING, 10000);
	if (!err)
		err = stw_vms(x->s, &vms, &n);
	if (err)
		die("STATUS: %s (%s)", strerror(err), x->s->extack);
	for (k = 0; k < cfg->nvms; k++) {
		struct part *pt = &x->parts[k];

		for (i = 0; i < n; i++)
			if (vms[i].id == x->vm_ids[k])
				pt->tid = vms[i].pid;
		/* Gated asleep, not on its way: one place to start from. */
		wait_asleep(pt->tid);
		err = stw_probe_gate(x->p, pt->tid, true);
		if (err)
			die("GATE vm%d: %s (%s)", k, strerror(err),
			    x->p->extack);
	}
	free(vms);
	for (k = cfg->nvms; k < x->nfixed; k++) {
		struct part *c = &x->parts[k];

		stw_close(c->s);
		c->s = stw_open();
		if (!c->s)
			die("socket: %s", strerror(errno));
		c->next = 0;
		c->seen = 0;
		c->stops_pending = 0;
		c->holding = false;
		atomic_store(&c->busy, 0);
		err = stw_probe_gate(x->p, c->tid, true);
		if (err)
			die("GATE %s: %s (%s)", c->name, strerror(err),
			    x->p->extack);
	}
	x->nparts = x->nfixed;
	/*
	 * The gates count their parks from 0 again, and a VM's thread is a
	 * new one: nothing known of them holds.
	 */
	for (k = 0; k < x->nparts; k++) {
		x->parts[k].ctx = 0;
		x->parts[k].slept_state = 0;
	}
	err = stw_probe_gate_born(x->p, true);
	if (err)
		die("GATE the VMs to be born: %s (%s)", strerror(err),
		    x->p->extack);
	if (cfg->job_vm >= 0) {
		err = stw_queue_job(x->s, x->vm_ids[cfg->job_vm], 1,
				    cfg->job_polls);
		if (err)
			die("QUEUE_JOB: %s (%s)", strerror(err),
			    x->s->extack);
	}
	x->observed = false;	/* no STATUS read since */
	x->pruning = false;
	x->nsteps = 0;
	x->failure[0] = 0;
	if (!settle(x))
		die("the threads never settled after setup: %s", x->failure);
	/*
	 * The events posted before this schedule (the reset's, the VMs'
	 * births) are not its own. Settled, stw's event worker is idle:
	 * every one of them is on the socket, none still on its way (it
	 * may have been late, blocked on a lock the reset held), and nothing
	 * posts another until a step. So this schedule reads its own alone,
	 * the first of them numbered one past the latest now: what a step
	 * finds unread (world_hash()) follows from the schedule, not from
	 * when the worker caught up.
	 */
	stw_drain(x->ev);
	err = stw_status(x->s, &w);
	if (err)
		die("STATUS: %s (%s)", strerror(err), x->s->extack);
	x->gen0 = w.generation;
	x->ev_seq = w.event_seq;
	x->ev_gen = 0;
	if (x->trace)
		trace_parts(x);
}

/*
 * The holds the scripts left, as far as the controllers' own replies say:
 * -1 if that depends on the order of two controllers' requests in the
 * kernel (a RESUME with force against another's STOP).
 */
static int holds_left(const struct explorer *x)
{
	int k, a, n = 0;

	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		const struct part *c = &x->parts[k];

		for (a = 0; a < c->nact; a++)
			if (c->script[a].op == OP_FORCE)
				return -1;
		n += c->holding;
	}
	return n;
}

/*
 * What STOPPED promises: every VM parked and saying stopped, and the
 * counts exact; but a VM born since, which has not run yet and parks
 * before it does. @when says at which point of the schedule.
 */
static void check_stopped(struct explorer *x, const struct stw_world *w,
			  const struct stw_vm *vms, size_t n, const char *when)
{
	size_t i, counted = 0;
	int k;

	for (k = 0; k < STW_INV_COUNT; k++)
		if (w->violations[k])
			fail(x, "%sinvariant I%d violated (%" PRIu64 " times)",
			     when, k + 1, w->violations[k]);
	if (w->mode != STW_STOPPED)
		return;
	for (i = 0; i < n; i++) {
		const struct stw_vm *v = &vms[i];

		/*
		 * Born into the stopped world, it has run nothing of its
		 * owner's: its stop work, queued or on its way to the park,
		 * parks it first. Not counted by the world either (but one
		 * born while it was stopping is, and must have parked).
		 */
		if (v->state == STW_VM_STARTING &&
		    v->doing != STW_VM_DOING_PARKED)
			continue;
		counted++;
		if (v->doing != STW_VM_DOING_PARKED ||
		    v->state != STW_VM_STOPPED)
			fail(x, "%sSTOPPED, but VM %u is %s and says %s", when,
			     v->id, stw_doing_name(v->doing),
			     stw_state_name(v->state));
	}
	if (w->active != counted || w->stopped != counted)
		fail(x, "%sSTOPPED with %zu VMs counted, but %u active and %u stopped",
		     when, counted, w->active, w->stopped);
}

/* One event, after those read before it: in order, without a gap. */
static void check_event(struct explorer *x, const struct stw_event *e)
{
	if (e->seq != x->ev_seq + 1)
		fail(x, "event %" PRIu64 " came after %" PRIu64, e->seq,
		     x->ev_seq);
	x->ev_seq = e->seq;
	if (e->cycle.present) {
		if (e->cycle.generation < x->ev_gen)
			fail(x, "an event of cycle %" PRIu64
			     " came after one of cycle %" PRIu64,
			     e->cycle.generation, x->ev_gen);
		x->ev_gen = e->cycle.generation;
	}
}

/*
 * The events that came, without waiting: settled, stw's event worker is
 * idle, so every event posted so far was sent.
 */
static void read_events(struct explorer *x)
{
	struct stw_event e;

	while (!stw_event_wait(x->ev, -1, 0, &e)) {
		check_event(x, &e);
		stw_event_free(&e);
	}
}

/*
 * The completions that came to each controller between its requests (a
 * controller in a request waits on its socket: not there). False if one in
 * a request is owed a completion: whether it came is not known.
 */
/*
 * One completion of controller @c's STOPs, within @timeout_ms: checked and
 * no longer owed. Returns what reading it failed with.
 */
static int take_done(struct explorer *x, struct part *c, int timeout_ms)
{
	struct stw_done d;
	int err;

	memset(&d, 0, sizeof(d));
	err = stw_read_any_done(c->s, timeout_ms, &d);
	if (err)
		return err;
	if (d.err && d.err != ECANCELED)
		fail(x, "%s: its STOP completed with %s: %s", c->name,
		     strerror(d.err), d.msg);
	c->stops_pending--;
	return 0;
}

static bool read_dones(struct explorer *x)
{
	bool known = true;
	int k;

	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		struct part *c = &x->parts[k];

		if (atomic_load(&c->busy)) {
			known &= !c->stops_pending;
			continue;
		}
		while (c->stops_pending && !take_done(x, c, 0))
			;
	}
	return known;
}

/*
 * A VM by who it is in this schedule, not by its id, which grows from one
 * schedule to the next: its participant, or how far its id is from the
 * first VM's.
 */
static int vm_ident(const struct explorer *x, uint32_t id,
		    const struct stw_vm *vms, size_t n)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		if (vms[i].id != id)
			continue;
		for (k = 0; k < x->nparts; k++)
			if (x->parts[k].tid == (pid_t)vms[i].pid)
				return k;
	}
	return MAX_PARTS + (int)(id - x->vm_ids[0]);
}

/*
 * The state, for the pruning: what decides everything after a step, and
 * what the checks at the end read of the run so far.
 *
 * The participants' places (note_places()): where each thread is, at which
 * gate and from where in the code (context_of()), how far each controller
 * is in its script; who ran the last step, since going on with another is
 * a preemption (seen_before()).
 *
 * The world as STATUS shows it: its mode, holds, active and stopped counts,
 * its VMs and the one a step runs; each VM by who it is (vm_ident()), its
 * state and what it does (parked or not, in its job), and its jobs and
 * polls. Those count the progress of the one job queued at setup (an idle
 * VM polls nothing; stw_attachmod's threads count none): two paths at the
 * same point of it have the same counts, and how many polls are left
 * decides what the VM does next; stw_attachmod's VMs count theirs in the
 * module (unit_polls, and the units done). The stop cycles since setup: a
 * pending STOP's completion belongs to a cycle, which STATUS does not
 * show. A step's budget of polls is not shown either: the steps of the
 * configurations give more polls than their VM has work for, so it never
 * runs out and decides nothing. Left
 * out are the counters that differ between paths to the same state and
 * that nothing of stw's decides on: each VM's stops and times, the events'
 * numbers.
 *
 * What the checks at the end read of the run so far, so that a schedule
 * cut short cannot hide a failure of theirs. A schedule that reaches a
 * known state ends there; what its end would have found, and its other
 * choices, the earlier visit finds from the same state, if the past joins
 * the future there as it did then:
 * - the events in order and without a gap: read after each step as they
 *   come (read_events()), so each schedule checks its own; where its past
 *   meets its future is in the state: how many events are not read yet,
 *   how many cycles the world is past the last one read (relative, as the
 *   check is);
 * - every STOP completed: each controller's completions are read after
 *   each step too (read_dones()), and the STOPs still owed one are in the
 *   state. A controller in a request waits on its own socket: while one
 *   that is owed a completion is in a request, the state is not known;
 * - the holds left (holds_left()): each controller's holding is in it;
 * - every participant finished: their places are in it;
 * - a configuration's own check: its history() adds what it reads;
 * - no end after MAX_STEPS, a livelock: a schedule that comes round to a
 *   state of its own, where going round again costs no preemption, fails
 *   there (came_round()); without the pruning it would have gone round
 *   until MAX_STEPS.
 *
 * Where a gated thread holds one of stw's locks, STATUS is not read: the
 * state is not known, and nothing is pruned there.
 */
static uint64_t world_hash(struct explorer *x, const struct stw_world *w,
			   const struct stw_vm *vms, size_t n)
{
	uint64_t h = HASH_INIT;
	int64_t v[10];
	size_t i;
	int k;

	v[0] = w->mode;
	v[1] = w->holds;
	v[2] = w->kernel_holds;
	v[3] = w->active;
	v[4] = w->stopped;
	v[5] = w->nr_vms;
	v[6] = w->has_step_vm ? vm_ident(x, w->step_vm, vms, n) : -1;
	v[7] = w->generation - x->gen0;
	v[8] = (int64_t)(w->event_seq - x->ev_seq);
	v[9] = x->ev_gen ? (int64_t)(w->generation - x->ev_gen) : -1;
	h = hash_in(h, v, sizeof(v));
	h = hash_in(h, &x->ev->lost, sizeof(x->ev->lost));
	for (i = 0; i < n; i++) {
		v[0] = vm_ident(x, vms[i].id, vms, n);
		v[1] = vms[i].kind;
		v[2] = vms[i].state;
		/*
		 * Entered, running or asleep says what the scheduler found
		 * the thread doing as STATUS read it: at a gate it may still
		 * be on its way to sleep. Where it is, its place says; stw
		 * decides nothing on the difference.
		 */
		v[3] = vms[i].doing == STW_VM_DOING_BLOCKED ?
		       STW_VM_DOING_RUNNING : vms[i].doing;
		v[4] = vms[i].jobs;
		v[5] = vms[i].polls;
		h = hash_in(h, v, 6 * sizeof(v[0]));
	}
	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		const struct part *c = &x->parts[k];

		v[0] = c->stops_pending;
		v[1] = c->holding;
		h = hash_in(h, v, 2 * sizeof(v[0]));
	}
	if (x->cfg->attach) {
		/*
		 * stw_attachmod's VMs count no polls in STATUS: how far
		 * their units are is its own (a unit's polls are one place
		 * of the code, several times).
		 */
		long long am[3] = {
			mod_get(ATTACHMOD, "unit_polls"),
			mod_get(ATTACHMOD, "thread_jobs"),
			mod_get(ATTACHMOD, "worker_jobs"),
		};

		h = hash_in(h, am, sizeof(am));
	}
	if (x->cfg->history)
		h = x->cfg->history(x, h);
	return h;
}

/*
 * After every step, where it can be read without waiting: STATUS takes
 * the world lock, so not while a gated thread holds one of stw's locks.
 * Then the events and completions that came, and the state, if known.
 */
static void check_step(struct explorer *x, bool replaying)
{
	struct stw_vm *vms = NULL;
	struct stw_world w;
	char when[32];
	size_t n = 0;
	bool known;
	int i, err;

	x->observed = false;
	for (i = 0; i < x->nparts; i++)
		if (x->parts[i].holds)
			return;
	if (replaying) {
		/*
		 * An earlier schedule checked this step, and noted the state
		 * after it. What came is read all the same: the events and
		 * completions a controller's next request would otherwise
		 * find on its socket, and their checks this schedule's own.
		 */
		read_events(x);
		read_dones(x);
		return;
	}
	watch_begin("STATUS after a step", WATCH_MS);
	err = stw_status(x->s, &w);
	if (!err)
		err = stw_vms(x->s, &vms, &n);
	watch_end();
	if (err)
		die("STATUS: %s (%s)", strerror(err), x->s->extack);
	snprintf(when, sizeof(when), "after step %d: ", x->nsteps);
	check_stopped(x, &w, vms, n, when);
	read_events(x);
	known = read_dones(x);
	/*
	 * A controller that feeds or detaches writes a parameter of
	 * stw_attachmod's, and the kernel holds the module's parameter lock
	 * while it does, gated or not: reading one (world_hash()) would wait
	 * until its gate let it go by itself. Not known then.
	 */
	for (i = x->cfg->nvms; i < x->nfixed && x->cfg->attach; i++) {
		const struct part *c = &x->parts[i];
		enum op op = c->script[c->next < c->nact ? c->next : 0].op;

		if (atomic_load(&c->busy) && (op == OP_FEED || op == OP_DETACH))
			known = false;
	}
	if (known) {
		x->world_h = world_hash(x, &w, vms, n);
		x->observed = true;
	}
	free(vms);
}

/*
 * The state before a step: the world's and the places. Who ran last is
 * kept beside it (step.prev), since it decides only what the next choice
 * costs.
 */
static uint64_t state_key(const struct explorer *x, uint64_t places)
{
	return hash_in(x->world_h, &places, sizeof(places)) ?: 1;
}

/* What choosing @t costs after @prev ran (-1: it cannot go on). */
static int cost(int prev, int t)
{
	return prev >= 0 && t != prev;
}

/*
 * A schedule that comes back to a state of its own can go round that
 * circle again; if going round again costs no preemption, for ever
 * within the bound: a livelock. Without the pruning it would run until
 * MAX_STEPS; with it, the second visit would be cut short as explored
 * already and the circle never noticed. Going round again costs what
 * the first round did, but its first step is chosen after another: a
 * circle that costs a preemption each time can be gone round only as
 * often as the bound allows, no failure.
 */
static void came_round(struct explorer *x, const struct step *st)
{
	int k;

	for (k = 0; k < x->nsteps; k++) {
		const struct step *e = &x->steps[k];
		int again = st->preemptions - e->preemptions -
			    cost(e->prev, e->chosen) + cost(st->prev, e->chosen);

		if (e->keyed && e->key == st->key && !again) {
			fail(x, "a livelock: the state before step %d is that before step %d, and going round again costs no preemption",
			     x->nsteps + 1, k + 1);
			return;
		}
	}
}

/* The entry of state @h in the table of those reached, new if need be. */
static struct seen *seen_entry(struct explorer *x, uint64_t h)
{
	struct seen *e;
	size_t i, mask;

	if (2 * (x->nseen + 1) > x->capseen) {
		struct seen *old = x->seen;
		size_t cap = x->capseen, j;

		x->capseen = cap ? 2 * cap : 4096;
		x->seen = calloc(x->capseen, sizeof(*x->seen));
		if (!x->seen)
			die("out of memory");
		mask = x->capseen - 1;
		for (j = 0; j < cap; j++) {
			if (!old[j].h)
				continue;
			i = old[j].h & mask;
			while (x->seen[i].h)
				i = (i + 1) & mask;
			x->seen[i] = old[j];
		}
		free(old);
	}
	mask = x->capseen - 1;
	for (i = h & mask; x->seen[i].h && x->seen[i].h != h; i = (i + 1) & mask)
		;
	e = &x->seen[i];
	if (!e->h) {
		e->h = h;
		memset(e->left, -1, sizeof(e->left));
		x->nseen++;
	}
	return e;
}

/*
 * Whether the state before step @st was reached before with enough
 * preemptions left: then everything after it was tried from there, or
 * will be (the enumeration is depth first: what is left of that visit's
 * choices is still on the stack), with every choice this schedule could
 * make from here, and this schedule's own past is checked by this
 * schedule. Else it is noted, with what is left.
 *
 * Enough: a visit after @p ran with L left tries every schedule from
 * there that costs at most L. After @q ran instead, a schedule costs what
 * it costs after @p, but for its first choice: at most one more, and
 * nothing more if @q is @p or if none could go on (-1). So that visit
 * covers this one if L is at least what this one has left, plus one
 * unless @p is @q or -1. Two orders of the same two steps reach the same
 * state after different threads: this is what spares the second.
 */
static bool seen_before(struct explorer *x, const struct step *st)
{
	int left = x->bound - st->preemptions;
	struct seen *e = seen_entry(x, st->key);
	int p;

	for (p = -1; p < MAX_PARTS; p++)
		if (e->left[p + 1] >= left + (p != st->prev && p >= 0))
			return true;
	if (e->left[st->prev + 1] < left) {
		e->left[st->prev + 1] = left;
		e->dirty = true;
	}
	return false;
}


static void check_end(struct explorer *x)
{
	const struct config *cfg = x->cfg;
	int expect = holds_left(x);
	bool stopped;
	struct stw_world w;
	struct stw_vm *vms = NULL;
	struct stw_event e;
	size_t n = 0, i;
	int k, err;

	/*
	 * Nothing can run, so a controller still in its action waits for an
	 * answer nothing will bring. Its socket is in use: no next schedule.
	 */
	for (k = cfg->nvms; k < x->nfixed; k++) {
		const struct part *c = &x->parts[k];

		if (!atomic_load(&c->busy))
			continue;
		fail(x, "%s never finished its %s", c->name,
		     op_name(c->script[c->next].op));
		x->hung = true;
		return;
	}
	watch_begin("STATUS at the end", WATCH_MS);
	err = stw_status(x->s, &w);
	if (!err)
		err = stw_vms(x->s, &vms, &n);
	watch_end();
	if (err)
		die("STATUS: %s (%s)", strerror(err), x->s->extack);
	/* Stopped while any hold is left; running once the last one went. */
	if (expect >= 0 && w.holds != (uint32_t)expect)
		fail(x, "%u holds at the end, not %d", w.holds, expect);
	stopped = w.holds > 0;
	check_stopped(x, &w, vms, n, "at the end: ");
	if (w.mode != (stopped ? STW_STOPPED : STW_RUN_ALL))
		fail(x, "the world is %s at the end, not %s",
		     stw_mode_name(w.mode),
		     stw_mode_name(stopped ? STW_STOPPED : STW_RUN_ALL));
	for (i = 0; i < n; i++) {
		const struct stw_vm *v = &vms[i];
		bool parked = v->doing == STW_VM_DOING_PARKED;

		if (!stopped && (parked || v->state == STW_VM_STOPPED))
			fail(x, "RUN_ALL, but VM %u is %s and says %s", v->id,
			     stw_doing_name(v->doing),
			     stw_state_name(v->state));
		if (!stopped && cfg->job_vm >= 0 &&
		    v->id == x->vm_ids[cfg->job_vm] &&
		    (v->jobs != 1 || v->polls != (uint64_t)cfg->job_polls))
			fail(x, "VM %u ran %" PRIu64 " jobs, %" PRIu64
			     " polls, not 1 job of %d", v->id, v->jobs,
			     v->polls, cfg->job_polls);
	}
	free(vms);
	/* Every STOP that said a completion follows got it. */
	for (k = cfg->nvms; k < x->nfixed; k++) {
		struct part *c = &x->parts[k];

		while (c->stops_pending) {
			err = take_done(x, c, DONE_MS);
			if (err) {
				fail(x, "%s: no completion of its STOP (%s)",
				     c->name, strerror(err));
				break;
			}
		}
	}
	/*
	 * The events, up to the latest, in order and without a gap: after
	 * those read after the steps.
	 */
	while (x->ev_seq < w.event_seq) {
		err = stw_event_wait(x->ev, -1, DONE_MS, &e);
		if (err) {
			fail(x, "event %" PRIu64 " of %" PRIu64 " never came: %s",
			     x->ev_seq + 1, w.event_seq, strerror(err));
			break;
		}
		check_event(x, &e);
		stw_event_free(&e);
	}
	if (x->ev->lost)
		fail(x, "events were lost");
	if (cfg->check)
		cfg->check(x);
}

/* The controller and the index of the script's action @op, if it ran. */
static const struct part *ran(const struct explorer *x, enum op op, int *a)
{
	int k;

	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		const struct part *c = &x->parts[k];

		for (*a = 0; *a < c->next; (*a)++)
			if (c->script[*a].op == op)
				return c;
	}
	return NULL;
}

/*
 * kthread-step: a step runs its VM until it is idle, so work given before
 * the step began is done when it ends; a kthread with work waiting is not
 * idle (race 11). Work given during the step may come after its end.
 */
static void check_step_ran_fed(struct explorer *x)
{
	const struct part *feeder, *stepper;
	long long jobs;
	int f, st;

	feeder = ran(x, OP_FEED, &f);
	stepper = ran(x, OP_STEP, &st);
	if (!feeder || !stepper || stepper->err[st] ||
	    feeder->done_at[f] >= stepper->sent_at[st])
		return;
	jobs = mod_get(ATTACHMOD, "thread_jobs");
	if (jobs != 1)
		fail(x, "the kthread was given work at step %d and stepped at step %d, but did %lld units, not 1",
		     feeder->done_at[f] + 1, stepper->sent_at[st] + 1, jobs);
}

/*
 * What check_step_ran_fed() reads: whether the work was given before the
 * step began (known once it began), how the step ended, the units done.
 */
static uint64_t history_step_ran_fed(struct explorer *x, uint64_t h)
{
	const struct part *feeder = NULL, *stepper = NULL;
	int k, a, f = 0, st = 0;
	long long v[3] = { 0, -1, mod_get(ATTACHMOD, "thread_jobs") };

	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		const struct part *c = &x->parts[k];

		for (a = 0; a < c->nact; a++) {
			if (c->script[a].op == OP_FEED && a < c->seen) {
				feeder = c;
				f = a;
			}
			if (c->script[a].op == OP_STEP &&
			    (a < c->next ||
			     (a == c->next && atomic_load(&c->busy)))) {
				stepper = c;
				st = a;
			}
		}
	}
	if (feeder && stepper)
		v[0] = feeder->done_at[f] < stepper->sent_at[st];
	if (stepper && st < stepper->next)
		v[1] = stepper->err[st];
	return hash_in(h, v, sizeof(v));
}

/* What check_detach_left_nothing() reads, but for the detach's end. */
static uint64_t history_detach(struct explorer *x, uint64_t h)
{
	long long left = mod_get(ATTACHMOD, "left");

	(void)x;
	return hash_in(h, &left, sizeof(left));
}

/*
 * detach-stopping: once its owner detached it, nothing of stw's is left
 * on the owner's worker, which it may now destroy (race 12).
 */
static void check_detach_left_nothing(struct explorer *x)
{
	long long left;
	int a;

	if (!ran(x, OP_DETACH, &a))
		return;
	left = mod_get(ATTACHMOD, "left");
	if (left != 0)
		fail(x, "the detach left %lld of stw's works on its owner's worker",
		     left);
}

static void print_schedule(struct explorer *x)
{
	char from[64];
	int k;

	printf("#   schedule:\n");
	for (k = 0; k < x->nsteps; k++) {
		const struct step *st = &x->steps[k];
		const struct part *pt = &x->parts[st->chosen];

		if (st->from_point >= 0)
			snprintf(from, sizeof(from), "from %s",
				 stw_probe_name(st->from_point));
		else
			snprintf(from, sizeof(from), "sends %s",
				 op_name(st->action));
		printf("#   %3d. %-4s %s -> %s%s\n", k + 1, pt->name, from,
		       st->to == W_GATE ? stw_probe_name(st->to_point) :
		       where_name(st->to),
		       st->prev >= 0 && st->prev != st->chosen ?
		       "  (preempts)" : "");
	}
	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		const struct part *c = &x->parts[k];
		int a;

		for (a = 0; a < c->next; a++)
			printf("#   %s's %s\n", c->name, c->result[a]);
	}
	printf("#   replay: explore -c %s -r ", x->cfg->name);
	for (k = 0; k < x->nsteps; k++)
		printf("%s%d", k ? "," : "", x->steps[k].chosen);
	printf("\n");
}

/* The actions that ended in the step under way. */
static void note_done(struct explorer *x)
{
	int k;

	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		struct part *c = &x->parts[k];

		while (c->seen < c->next)
			c->done_at[c->seen++] = x->nsteps;
	}
}

/* Run one schedule from scratch, following x->prefix; 1 if it failed. */
/*
 * A schedule cut short at a state explored already ends there: what would
 * follow was or will be run and checked from the earlier visit, and what
 * came before is checked already (events and completions are read after
 * every step). Every gate opens, each controller runs what is left of its
 * script unscheduled, and the next setup starts once all are done, so
 * that none is still using the socket setup replaces.
 */
static void finish_free(struct explorer *x)
{
	bool left;
	int k;

	watch_begin("the controllers' scripts after a cut", WATCH_SETUP_MS);
	stw_probe_reset(x->p);
	do {
		left = false;
		for (k = x->cfg->nvms; k < x->nfixed; k++) {
			struct part *c = &x->parts[k];

			if (atomic_load(&c->busy)) {
				left = true;
			} else if (c->next < c->nact) {
				let_go(x, k);
				left = true;
			}
		}
		if (left)
			poll_pause();
	} while (left);
	watch_end();
}

static int run_schedule(struct explorer *x)
{
	int i, prev = -1, preemptions = 0;
	int64_t t = now_us(), t1;

	x->nsteps = 0;		/* none of this schedule's yet */
	watch_begin("setting up a schedule", WATCH_SETUP_MS);
	setup(x);
	watch_end();
	if (x->seed && x->pct)
		pct_begin(x);
	t1 = now_us();
	x->us[T_SETUP] += t1 - t;
	t = t1;
	x->diverged = false;
	for (;;) {
		struct step *st = &x->steps[x->nsteps];
		bool replaying = x->prefix_ran && x->nsteps < x->nprefix;
		bool prev_enabled = false;
		uint64_t places = 0;

		if (!replaying)
			places = note_places(x);
		st->nen = 0;
		for (i = 0; i < x->nparts; i++)
			if (enabled(&x->parts[i]))
				st->enabled[st->nen++] = i;
		if (!st->nen)
			break;
		if (x->nsteps == MAX_STEPS - 1) {
			fail(x, "no end after %d steps", MAX_STEPS);
			break;
		}
		for (i = 0; i < st->nen; i++)
			prev_enabled |= st->enabled[i] == prev;
		st->prev = prev_enabled ? prev : -1;
		st->preemptions = preemptions;
		/*
		 * Past the prefix (the steps before it are those of an
		 * earlier schedule, their states noted then), a state known
		 * already: this schedule goes on, with no other choice tried
		 * from here on.
		 */
		if (!replaying)
			st->keyed = x->observed;
		if (st->keyed && !replaying) {
			st->key = state_key(x, places);
			came_round(x, st);
			if (x->failure[0])
				break;
			if (!x->prune || x->seed || x->pruning) {
				seen_entry(x, st->key);	/* counted only */
			} else if (seen_before(x, st)) {
				x->pruning = true;
				x->pruned++;
				if (x->trace)
					printf("# trace: step %d: a state explored already\n",
					       x->nsteps + 1);
				if (!x->run_on)
					break;
			}
		}
		st->chosen = choose(x, st);
		if (st->chosen < 0)
			break;
		st->tried = 1u << st->chosen;
		for (i = 0; x->pruning && i < st->nen; i++)
			st->tried |= 1u << st->enabled[i];
		st->from_point = x->parts[st->chosen].where == W_GATE ?
				 x->parts[st->chosen].point : -1;
		st->action = -1;
		if (x->parts[st->chosen].where == W_IDLE) {
			struct part *c = &x->parts[st->chosen];

			st->action = c->script[c->next].op;
			c->sent_at[c->next] = x->nsteps;
		}
		preemptions += cost(st->prev, st->chosen);
		prev = st->chosen;
		if (x->trace)
			printf("# trace: step %d: %s goes (%d can)\n",
			       x->nsteps + 1, x->parts[st->chosen].name,
			       st->nen);
		let_go(x, st->chosen);
		x->steps_run++;
		if (!settle(x)) {
			x->nsteps++;
			break;
		}
		if (x->trace)
			trace_parts(x);
		st->to = x->parts[st->chosen].where;
		st->to_point = x->parts[st->chosen].point;
		note_done(x);
		x->nsteps++;
		t1 = now_us();
		x->us[T_STEPS] += t1 - t;
		check_step(x, x->prefix_ran && x->nsteps < x->nprefix);
		t = now_us();
		x->us[T_CHECKS] += t - t1;
		if (x->failure[0])
			break;
	}
	x->us[T_STEPS] += now_us() - t;
	x->walk_len = x->nsteps;
	if (x->diverged)
		return 0;
	t = now_us();
	if (x->pruning && !x->run_on)
		finish_free(x);
	else if (!x->failure[0])
		check_end(x);
	x->us[T_END] += now_us() - t;
	if (x->failure[0] && x->verbose) {
		printf("# FAIL %s: %s\n", x->cfg->name, x->failure);
		print_schedule(x);
	}
	return x->failure[0] != 0;
}

/*
 * The next schedule of the enumeration: the deepest step with a choice not
 * tried yet within the bound, the same steps before it. False when none.
 */
static bool next_prefix(struct explorer *x, int *prefix, int *n)
{
	int k, i, j;

	for (k = x->nsteps - 1; k >= 0; k--) {
		struct step *st = &x->steps[k];

		for (i = 0; i < st->nen; i++) {
			int c = st->enabled[i];

			if (st->tried & (1u << c))
				continue;
			if (st->preemptions + cost(st->prev, c) > x->bound)
				continue;
			st->tried |= 1u << c;
			for (j = 0; j < k; j++)
				prefix[j] = x->steps[j].chosen;
			prefix[k] = c;
			*n = k + 1;
			return true;
		}
	}
	return false;
}

/*
 * The steps a replayed prefix goes through keep what the earlier runs
 * tried at them: the enumeration's stack is x->steps itself, and a run
 * overwrites only what comes after its prefix.
 *
 * A replay that went elsewhere (stw's event worker took a lock first)
 * ended before the prefix did: what lies past the step where it went
 * elsewhere would go unexplored. It is run again, up to RETRIES times,
 * and counted as diverged only if it never follows its prefix.
 */
#define RETRIES	5

/*
 * Where choice @c comes at step @st in the enumeration's order: first the
 * choice made with no preemption (choose()), then the others in the order
 * next_prefix() takes them; one that cannot go on there after all of them.
 */
static int rank_of(const struct step *st, int c)
{
	int d = st->prev >= 0 ? st->prev : st->enabled[0];
	int i;

	if (c == d)
		return 0;
	for (i = 0; i < st->nen; i++)
		if (st->enabled[i] == c)
			return 1 + i;
	return 1 + MAX_PARTS;
}

/*
 * What the enumeration had tried at step @st by the time it took choice
 * @c there: every choice that comes before it (rank_of()). Depth first,
 * the schedules after each of those were all explored before @c was taken.
 */
static uint32_t tried_by(const struct step *st, int c)
{
	uint32_t t = 1u << c;
	int i;

	for (i = 0; i < st->nen; i++)
		if (rank_of(st, st->enabled[i]) < rank_of(st, c))
			t |= 1u << st->enabled[i];
	return t;
}

/*
 * -U: whether the schedule that starts with @prefix comes before the one
 * that starts with x->until in the enumeration's order. Both go through
 * the steps of the schedule that just ran up to where they part (@prefix
 * is one it ran, or next_prefix()'s, which parts from it at its last
 * step), so that schedule's steps say how the two choices there compare.
 * One that starts with the other and goes on comes after it: past a
 * prefix a schedule takes the choices with no preemption, which come
 * first, and x->until, a point to go on from, ends with one that does not
 * (a preemption, or another first step).
 */
static bool comes_before(const struct explorer *x, const int *prefix, int n)
{
	int k;

	for (k = 0; k < n && k < x->nuntil && k < x->nsteps; k++)
		if (prefix[k] != x->until[k])
			return rank_of(&x->steps[k], prefix[k]) <
			       rank_of(&x->steps[k], x->until[k]);
	return n < x->nuntil;
}

/*
 * Where an enumeration that stops here would go on: the next schedule's
 * choices, for -R. Everything before it in the order of the enumeration
 * was explored. First the states noted since the last time it said so,
 * for -S: with them the run that resumes prunes as this one would have.
 * Without them it prunes less at first, and misses nothing.
 */
#define RESUME_LEN	(4 * MAX_STEPS + 64)

/*
 * "to go on from here: -c CONFIG -b B -R CHOICES" into @buf: the end of
 * the line print_resume() prints, and what load_states() looks for.
 * Returns its length.
 */
static size_t resume_line(const struct explorer *x, const int *prefix, int n,
			  char buf[RESUME_LEN])
{
	size_t len;
	int k;

	len = snprintf(buf, RESUME_LEN, "to go on from here: -c %s -b %d -R ",
		       x->cfg->name, x->bound);
	for (k = 0; k < n && len < RESUME_LEN - 4; k++)
		len += snprintf(buf + len, RESUME_LEN - len, "%s%d",
				k ? "," : "", prefix[k]);
	return len;
}

static void print_resume(struct explorer *x, const char *why,
			 const int *prefix, int n)
{
	char line[RESUME_LEN];
	size_t i;
	int k;

	for (i = 0; x->prune && i < x->capseen; i++) {
		struct seen *e = &x->seen[i];

		if (!e->h || !e->dirty)
			continue;
		printf("# seen %s %d %016" PRIx64, x->cfg->name, x->bound, e->h);
		for (k = 0; k <= MAX_PARTS; k++)
			printf("%c%d", k ? ',' : ' ', e->left[k]);
		printf("\n");
		e->dirty = false;
	}
	resume_line(x, prefix, n, line);
	printf("# %s: %s; %s\n", x->cfg->name, why, line);
}

/*
 * -S: the states a run noted up to where it said to go on from @from
 * (print_resume()), read back from its output. Only those before that
 * line: a state noted after it was reached in a schedule after @from, and
 * what follows it may not have been explored yet. Each is printed again
 * at the next progress line, so that the output of this run is enough to
 * resume it in turn. A line the console garbled (a kernel message in the
 * middle) is left out: a state not given back costs pruning, not
 * schedules.
 */
static void load_states(struct explorer *x, const int *from, int nfrom)
{
	static char line[RESUME_LEN + 64];
	char want[RESUME_LEN], *p;
	size_t len = resume_line(x, from, nfrom, want), garbled = 0;
	bool found = false;
	FILE *f = fopen(x->states, "r");
	int k;

	if (!f)
		die("-S %s: %s", x->states, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		uint64_t h;
		int b, l[MAX_PARTS + 1], used;
		struct seen *e;

		line[strcspn(line, "\r\n")] = 0;
		p = strstr(line, want);
		if (p && !p[len]) {
			found = true;
			break;
		}
		if (sscanf(line, "# seen %63s %d %" SCNx64 " %n", name, &b, &h,
			   &used) != 3 || strcmp(name, x->cfg->name) ||
		    b != x->bound || !h)
			continue;
		p = line + used;
		for (k = 0; k <= MAX_PARTS; k++) {
			char *end;

			l[k] = strtol(p, &end, 10);
			if (end == p || l[k] < -1 || l[k] > x->bound ||
			    *end != (k < MAX_PARTS ? ',' : 0))
				break;
			p = end + 1;
		}
		if (k <= MAX_PARTS) {
			garbled++;
			continue;
		}
		e = seen_entry(x, h);
		for (k = 0; k <= MAX_PARTS; k++)
			if (e->left[k] < l[k])
				e->left[k] = l[k];
		e->dirty = true;
	}
	fclose(f);
	if (!found)
		die("-S %s: no line says \"%s\"", x->states, want);
	printf("# %s: %zu states from %s, %zu lines garbled\n", x->cfg->name,
	       x->nseen, x->states, garbled);
}

static int explore_config(struct explorer *x, long limit, long walks,
			  const int *from, int nfrom)
{
	static int prefix[MAX_STEPS];
	uint32_t tried[MAX_STEPS];
	long schedules = 0, failures = 0, first = 0, diverged = 0;
	long retried = 0;
	int64_t start = stw_now_ms();
	int n = nfrom, k, keep = 0, retries = 0;

	x->nplaces = 0;
	x->nseen = 0;
	x->pruned = 0;
	if (x->seen)
		memset(x->seen, 0, x->capseen * sizeof(*x->seen));
	x->hung = false;
	x->prefix = prefix;
	x->prefix_ran = true;
	memset(x->us, 0, sizeof(x->us));
	x->steps_run = 0;
	x->looks = 0;
	memcpy(prefix, from, nfrom * sizeof(*from));
	if (x->states)
		load_states(x, from, nfrom);
	for (;;) {
		x->nprefix = n;
		if (!retries)
			schedules++;
		if (run_schedule(x)) {
			failures++;
			if (!first)
				first = schedules;
			if (!x->verbose) {
				printf("# FAIL %s: %s\n", x->cfg->name,
				       x->failure);
				print_schedule(x);
			}
		}
		if ((failures && x->first_only) || x->hung)
			break;
		/* What the steps before the prefix's last had tried. */
		for (k = 0; k < keep; k++)
			x->steps[k].tried |= tried[k];
		/* Resumed: what the run that stopped had tried, as it would. */
		for (k = 0; schedules == 1 && k < nfrom && k < x->nsteps; k++)
			x->steps[k].tried |= tried_by(&x->steps[k], from[k]);
		if (schedules == 1 && nfrom && x->nuntil && !x->diverged &&
		    !comes_before(x, from, nfrom))
			die("-R: that schedule does not come before -U's");
		if (x->diverged && !x->seed && retries < RETRIES) {
			retries++;
			retried++;
			continue;
		}
		retries = 0;
		diverged += x->diverged;
		if (x->verbose && !(schedules % 1000))
			printf("# %s: %ld schedules, %zu states, %zu places, %ld pruned, %.0f s so far\n",
			       x->cfg->name, schedules, x->nseen, x->nplaces,
			       x->pruned,
			       (stw_now_ms() - start) / 1000.0);
		if (x->seed) {
			if (schedules >= walks || (limit && schedules >= limit))
				break;
			continue;
		}
		if (!next_prefix(x, prefix, &n))
			break;
		if (x->nuntil && !comes_before(x, prefix, n)) {
			print_resume(x, "stopped where -U starts", prefix, n);
			break;
		}
		if (limit && schedules >= limit) {
			print_resume(x, "stopped at the limit", prefix, n);
			break;
		}
		if (x->verbose && !(schedules % 1000))
			print_resume(x, "the next schedule", prefix, n);
		keep = n;
		for (k = 0; k < keep; k++)
			tried[k] = x->steps[k].tried;
	}
	printf("explore %s: bound %d, %ld schedules, %zu states, %zu places, %.1f s, %ld failures, %ld pruned",
	       x->cfg->name, x->seed ? -1 : x->bound, schedules, x->nseen,
	       x->nplaces,
	       (stw_now_ms() - start) / 1000.0, failures, x->pruned);
	if (nfrom)
		printf(", resumed");
	if (failures)
		printf(", first failure after %ld schedules", first);
	if (retried)
		printf(", %ld runs again", retried);
	if (diverged)
		printf(", %ld diverged", diverged);
	printf("\n");
	for (k = 0; x->print_places && k < (int)x->nplaces; k++)
		printf("# place %s %016" PRIx64 "\n", x->cfg->name,
		       x->places[k]);
	if (x->verbose)
		printf("#   time: setup %.1f s, %ld steps (%ld looks) %.1f s, checks after them %.1f s, at the end %.1f s\n",
		       x->us[T_SETUP] / 1e6, x->steps_run, x->looks,
		       x->us[T_STEPS] / 1e6,
		       x->us[T_CHECKS] / 1e6, x->us[T_END] / 1e6);
	return failures ? 1 : 0;
}

/* ---- main ---- */

static void start_parts(struct explorer *x)
{
	const struct config *cfg = x->cfg;
	int k, c;

	memset(x->parts, 0, sizeof(x->parts));
	x->nparts = x->nfixed = cfg->nvms + cfg->nctl;
	for (k = 0; k < cfg->nvms; k++)
		snprintf(x->parts[k].name, sizeof(x->parts[k].name), "vm%d",
			 k);
	for (c = 0; c < cfg->nctl; c++) {
		struct part *pt = &x->parts[cfg->nvms + c];
		struct ctl_arg *ca = malloc(sizeof(*ca));

		snprintf(pt->name, sizeof(pt->name), "%c", 'A' + c);
		pt->ctl = true;
		pt->script = cfg->script[c];
		pt->nact = cfg->nact[c];
		if (!ca || pipe(pt->go))
			die("setup: %s", strerror(errno));
		ca->x = x;
		ca->c = pt;
		if (pthread_create(&pt->thread, NULL, ctl_main, ca))
			die("pthread_create");
		while (!__atomic_load_n(&pt->tid, __ATOMIC_ACQUIRE))
			sched_yield();	/* its first instruction: no order */
	}
}

static void stop_parts(struct explorer *x)
{
	int k;

	watch_begin("letting the controllers go", WATCH_SETUP_MS);
	stw_probe_reset(x->p);
	for (k = x->cfg->nvms; k < x->nfixed; k++) {
		struct part *c = &x->parts[k];

		if (write(c->go[1], "q", 1) != 1)
			die("write: %s", strerror(errno));
		pthread_join(c->thread, NULL);
		close(c->go[0]);
		close(c->go[1]);
		stw_close(c->s);
	}
	if (x->cfg->attach)
		mod_unload(ATTACHMOD);
	stw_reset(x->s, 10000);
	watch_end();
}

static int parse_choices(const char *s, int *out)
{
	int n = 0;
	char *end;

	while (*s && n < MAX_STEPS) {
		out[n] = strtol(s, &end, 10);
		if (end == s || out[n] < 0 || out[n] >= MAX_PARTS)
			die("choices: not a participant's number at '%s'", s);
		n++;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int main(int argc, char **argv)
{
	static int replay[MAX_STEPS], from[MAX_STEPS], until[MAX_STEPS];
	struct explorer x = { .bound = 2, .verbose = true, .prune = true };
	pthread_t wd;
	const char *only = NULL, *rep = NULL, *resume = NULL, *upto = NULL;
	long limit = 0, walks = 1;
	unsigned int seed = 0;
	bool quiet = false, all_first = false;
	int opt, ret = 0, nfrom = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "c:b:l:r:R:S:U:s:n:pfFqtPCH")) != -1) {
		switch (opt) {
		case 'c': only = optarg; break;
		case 'b': x.bound = atoi(optarg); break;
		case 'l': limit = atol(optarg); break;
		case 'r': rep = optarg; break;
		case 'R': resume = optarg; break;
		case 'S': x.states = optarg; break;
		case 'U': upto = optarg; break;
		case 's': seed = strtoul(optarg, NULL, 0) ?: 1; break;
		case 'n': walks = atol(optarg); break;
		case 'p': x.pct = true; break;
		case 'q': quiet = true; break;
		case 't': x.trace = true; break;
		case 'f': x.first_only = true; break;
		case 'F': x.first_only = all_first = true; break;
		case 'P': x.prune = false; break;
		case 'C': x.run_on = true; break;
		case 'H': x.print_places = true; break;
		default:
			fprintf(stderr, "usage: explore [-c CONFIG] [-b BOUND] [-l MAX] [-r CHOICES] [-R CHOICES [-S FILE]] [-U CHOICES] [-s SEED -n WALKS [-p]] [-f|-F] [-q] [-t] [-P|-C] [-H]\n");
			return 2;
		}
	}
	if (only && !strcmp(only, "list")) {
		for (i = 0; i < NR_CONFIGS; i++)
			printf("%-16s %s\n", configs[i].name, configs[i].about);
		return 0;
	}
	if (rep && !only)
		die("-r needs -c CONFIG");
	if (x.pct && (!seed || x.bound < 0 || x.bound > MAX_BOUND))
		die("-p needs -s SEED, and a bound from 0 to %d", MAX_BOUND);
	if (resume && (!only || rep || seed))
		die("-R needs -c CONFIG, and no -r or -s");
	if (x.states && (!resume || !x.prune))
		die("-S needs -R, and the pruning (no -P)");
	if (resume)
		nfrom = parse_choices(resume, from);
	if (upto && (!only || rep || seed))
		die("-U needs -c CONFIG, and no -r or -s");
	if (upto) {
		x.nuntil = parse_choices(upto, until);
		x.until = until;
	}
	x.verbose = !quiet;
	if (stw_probe_enable())
		die("stw with probes=1: %s", strerror(errno));
	x.s = stw_open();
	x.p = stw_probe_open();
	x.ev = stw_open_events();
	if (!x.s || !x.p || !x.ev)
		die("sockets: %s", strerror(errno));
	probe_sock = x.p;
	running = &x;
	watch.tid = syscall(SYS_gettid);
	if (pthread_create(&wd, NULL, watchdog, NULL))
		die("pthread_create");

	for (i = 0; i < NR_CONFIGS; i++) {
		if (only && strcmp(only, configs[i].name))
			continue;
		x.cfg = &configs[i];
		x.seed = seed;
		start_parts(&x);
		if (rep) {
			x.prune = false;
			x.prefix_ran = false;
			x.prefix = replay;
			x.nprefix = parse_choices(rep, replay);
			ret |= run_schedule(&x);
			if (x.diverged) {
				printf("explore %s: the replay went elsewhere at step %d\n",
				       x.cfg->name, x.nsteps + 1);
				ret |= 2;
			} else if (!x.failure[0]) {
				printf("explore %s: the schedule passed\n",
				       x.cfg->name);
			}
		} else {
			ret |= explore_config(&x, limit, walks, from, nfrom);
		}
		stop_parts(&x);
		if (ret && all_first)
			break;
	}
	if (only && !x.cfg)
		die("no configuration '%s' (-c list)", only);
	stw_close(x.ev);
	stw_close(x.p);
	stw_close(x.s);
	return ret;
}
