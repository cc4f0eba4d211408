// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test: the world as many users at once will treat it.
 *
 * Twelve VMs (4 active, 4 idle, 4 bursty) live through the whole test.
 * Three controllers, each a process with its own socket, loop: STOP (a hold
 * bound to their socket), zero to two RUN_ONE steps of a random VM, a look
 * at the world, RESUME of their own hold, a pause of up to 10 ms (without
 * it the holds overlap for ever and every STOP joins one endless cycle; with
 * it about a third of the STOPs start a cycle of their own). Controller 0
 * now and then force-resumes everybody's holds instead. A churn process spawns
 * and kills VMs and queues jobs on the idle ones, and a deserter process
 * starts controllers that stop the world and die, with or without their
 * STOP answered. The test process watches STATUS and drains the events
 * group the whole time.
 *
 * The outcomes concurrency makes legitimate are accepted and counted:
 * joining a cycle in progress; EBUSY for a step (another controller's step
 * is running, the target has not parked yet, the world was resumed);
 * ENOENT for a step of a VM the churn killed; and, only when a force-resume
 * may have overlapped, ECANCELED for a STOP, ENOENT / EALREADY for a
 * RESUME and a world that is not stopped while we hold a stop. Anything else
 * fails the test, with the controller, the request, its errno and extack.
 *
 * At the end: no invariant was ever violated, the world is RUN_ALL with no
 * hold once every controller is gone, only the twelve VMs are left, and one
 * more stop and resume works cleanly.
 *
 * STW_STRESS_CYCLES: STOP requests over all controllers (default 500, so
 * that `make check` stays short; `make stress` runs 10000 or COUNT).
 * STW_STRESS_SEED: the seed of the controllers' choices (default 1).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/socket.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define NR_CTL		3
#define NR_EACH		4		/* base VMs of each kind */
#define NR_BASE		(3 * NR_EACH)
#define MAX_CHURN	6		/* churn VMs alive at once, at most */
#define DEFAULT_CYCLES	500
#define PAUSE_US	10000		/* a controller's pause, at most */

/*
 * The harness' time limit for the test, in seconds: a fixed part plus a
 * budget per STOP request, set before the harness starts. Measured in TCG
 * with 2 vCPUs: 10000 requests in about 65 s (6.5 ms each), 100000 in
 * about 10 min; 100 ms each leaves room for a slow (debug) kernel.
 */
#define STRESS_BASE_S	120
#define STRESS_MS_PER_CYCLE	100

/* What a child saw go wrong first. */
struct failure {
	int err;			/* errno, or EPROTO for a bad reply */
	char what[96];			/* the request and its context */
	char extack[STW_EXTACK_LEN];
	char world[192];		/* stw_describe() at the time */
};

struct ctl_stats {
	unsigned long stops, joined, stop_canceled;
	unsigned long steps, step_busy, step_gone;
	unsigned long resumes, resumed, resume_gone;
	unsigned long forces, checks, seen_run_one, seen_unheld;
	struct failure f;
};

struct churn_stats {
	unsigned long rounds, spawned, jobs;
	struct failure f;
};

struct deserter_stats {
	unsigned long deserters, killed_waiting;
	struct failure f;
};

/* Shared by the test and its children. */
struct stress {
	unsigned int cycles;
	unsigned long seed;
	unsigned long claimed;		/* STOP requests claimed, all ctls */
	int quit;			/* everybody: finish now */
	unsigned long forces_started;	/* force-resumes sent */
	unsigned long forces_done;	/* force-resumes answered */
	uint32_t base[NR_BASE];		/* active, idle, bursty */
	uint32_t churn_ids[MAX_CHURN];	/* the churn's VMs now, 0: none */
	struct ctl_stats ctl[NR_CTL];
	struct churn_stats churn;
	struct deserter_stats desert;
};

#define LOAD(p)		__atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v)	__atomic_store_n(p, v, __ATOMIC_SEQ_CST)
#define INC(p)		__atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST)

FIXTURE(stress) {
	struct stw_sock *s;
	struct stw_sock *ev;
	struct stress *st;
	pid_t ctl[NR_CTL];
	pid_t churn;
	pid_t deserter;
};

static uint64_t rnd_next(uint64_t *x)
{
	/* xorshift64* */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

static unsigned int rnd(uint64_t *x, unsigned int n)
{
	return (unsigned int)((rnd_next(x) >> 33) % n);
}

static uint64_t rnd_seed(unsigned long seed, unsigned int who)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ (who + 1) * 0xbf58476d1ce4e5b9ULL;

	return x ? x : 1;
}

/* Note the first failure of a child, and make everybody finish. */
static int fail(struct stress *st, struct failure *f, struct stw_sock *s,
		int err, const char *fmt, ...)
{
	va_list ap;

	if (!f->err) {
		f->err = err ? err : EPROTO;
		va_start(ap, fmt);
		vsnprintf(f->what, sizeof(f->what), fmt, ap);
		va_end(ap);
		if (s) {
			memcpy(f->extack, s->extack, sizeof(f->extack));
			snprintf(f->world, sizeof(f->world), "%s",
				 stw_describe(s));
		}
	}
	STORE(&st->quit, 1);
	return 1;
}

/* A force-resume may have overlapped the window that began at @done0. */
static bool forced_since(struct stress *st, unsigned long done0)
{
	return LOAD(&st->forces_started) != done0;
}

static uint32_t pick_target(struct stress *st, uint64_t *x, bool *churned)
{
	uint32_t id;
	int i;

	*churned = false;
	if (rnd(x, 5) == 0) {
		i = rnd(x, MAX_CHURN);
		id = LOAD(&st->churn_ids[i]);
		if (id) {
			*churned = true;
			return id;
		}
	}
	return st->base[rnd(x, NR_BASE)];
}

/* One controller: STOP, steps, a look, RESUME, until the cycles are used. */
static int controller(struct stress *st, int k)
{
	struct ctl_stats *cs = &st->ctl[k];
	uint64_t x = rnd_seed(st->seed, k);
	struct stw_sock *s = stw_open();
	struct stw_cycle c;
	struct stw_world w;
	struct stw_vm vm;
	unsigned long done0, n;
	unsigned int i, nsteps, r;
	uint32_t target;
	bool churned, resumed, force;
	int err;

	if (!s)
		return fail(st, &cs->f, NULL, errno, "ctl %d: open", k);
	while (!LOAD(&st->quit)) {
		n = __atomic_fetch_add(&st->claimed, 1, __ATOMIC_SEQ_CST);
		if (n >= st->cycles)
			break;
		done0 = LOAD(&st->forces_done);

		err = stw_stop(s, STW_T_STOP, 0, &c, NULL);
		if (err == ECANCELED && forced_since(st, done0)) {
			cs->stop_canceled++;
			continue;
		}
		if (err)
			return fail(st, &cs->f, s, err, "ctl %d cycle %lu: STOP",
				    k, n);
		cs->stops++;
		cs->joined += c.joined;
		if (!c.hold_id || !c.has_tts)
			return fail(st, &cs->f, s, EPROTO,
				    "ctl %d cycle %lu: STOP reply without %s",
				    k, n, c.hold_id ? "TTS" : "hold id");

		nsteps = rnd(&x, 3);
		for (i = 0; i < nsteps && !LOAD(&st->quit); i++) {
			target = pick_target(st, &x, &churned);
			err = stw_run_one(s, target, 1 + rnd(&x, 4), STW_T_STOP,
					  &vm);
			if (!err)
				cs->steps++;
			else if (err == EBUSY)
				cs->step_busy++;
			else if (err == ENOENT && churned)
				cs->step_gone++;
			else
				return fail(st, &cs->f, s, err,
					    "ctl %d cycle %lu: RUN_ONE of %s VM %u",
					    k, n, churned ? "churn" : "base",
					    target);
		}

		if (rnd(&x, 4) == 0) {
			err = stw_status(s, &w);
			if (err)
				return fail(st, &cs->f, s, err,
					    "ctl %d cycle %lu: STATUS", k, n);
			cs->checks++;
			if (stw_violations_total(&w))
				return fail(st, &cs->f, s, EPROTO,
					    "ctl %d cycle %lu: invariant violated",
					    k, n);
			if (w.mode == STW_RUN_ONE)
				cs->seen_run_one++;
			if ((w.mode != STW_STOPPED && w.mode != STW_RUN_ONE) ||
			    !w.holds) {
				if (!forced_since(st, done0))
					return fail(st, &cs->f, s, EPROTO,
						    "ctl %d cycle %lu: world %s with %u holds while we hold a stop",
						    k, n, stw_mode_name(w.mode),
						    w.holds);
				cs->seen_unheld++;
			}
		}

		r = rnd(&x, 100);
		force = k == 0 && r < 2;
		if (force) {
			INC(&st->forces_started);
			err = stw_resume(s, true, 0, &resumed);
			INC(&st->forces_done);
			cs->forces++;
			if (err && err != EALREADY)
				return fail(st, &cs->f, s, err,
					    "ctl %d cycle %lu: RESUME force", k,
					    n);
			if (!err && !resumed)
				return fail(st, &cs->f, s, EPROTO,
					    "ctl %d cycle %lu: RESUME force did not resume",
					    k, n);
		} else {
			if (r < 30)
				err = stw_resume(s, false, c.hold_id, &resumed);
			else
				err = stw_resume(s, false, 0, &resumed);
			if (!err) {
				cs->resumes++;
				cs->resumed += resumed;
			} else if ((err == ENOENT || err == EALREADY) &&
				   forced_since(st, done0)) {
				cs->resume_gone++;
			} else {
				return fail(st, &cs->f, s, err,
					    "ctl %d cycle %lu: RESUME %s", k, n,
					    r < 30 ? "of its hold id" :
						     "of its holds");
			}
		}
		usleep(rnd(&x, PAUSE_US));	/* see the top */
	}
	stw_close(s);
	return 0;
}

/* Spawn a few VMs, give them and the idle base VMs work, kill them. */
static int churn(struct stress *st)
{
	struct churn_stats *cs = &st->churn;
	uint64_t x = rnd_seed(st->seed, 100);
	struct stw_sock *s = stw_open();
	uint32_t ids[MAX_CHURN];
	unsigned int a, i, b, k;
	size_t n;
	int err;

	if (!s)
		return fail(st, &cs->f, NULL, errno, "churn: open");
	while (!LOAD(&st->quit)) {
		a = rnd(&x, 3);
		i = rnd(&x, 2);
		b = rnd(&x, 2);
		if (!a && !i && !b)
			a = 1;
		err = stw_spawn(s, a, i, b, 0, ids, &n);
		if (err || n != a + i + b)
			return fail(st, &cs->f, s, err,
				    "churn round %lu: SPAWN %u+%u+%u gave %zu",
				    cs->rounds, a, i, b, err ? 0 : n);
		cs->spawned += n;
		for (k = 0; k < n; k++)
			STORE(&st->churn_ids[k], ids[k]);

		/* Work for an idle base VM and for a new VM. */
		err = stw_queue_job(s, st->base[NR_EACH + rnd(&x, NR_EACH)],
				    1 + rnd(&x, 3), 20 + rnd(&x, 200));
		if (err)
			return fail(st, &cs->f, s, err,
				    "churn round %lu: QUEUE_JOB to a base VM",
				    cs->rounds);
		err = stw_queue_job(s, ids[rnd(&x, n)], 1, 50);
		if (err)
			return fail(st, &cs->f, s, err,
				    "churn round %lu: QUEUE_JOB to a new VM",
				    cs->rounds);
		cs->jobs += 2;

		for (k = 0; k < n; k++)
			STORE(&st->churn_ids[k], 0);
		err = stw_kill(s, ids, n);
		if (err)
			return fail(st, &cs->f, s, err,
				    "churn round %lu: KILL of its %zu VMs",
				    cs->rounds, n);
		cs->rounds++;
	}
	stw_close(s);
	return 0;
}

/*
 * A controller that stops the world and goes away: it exits holding the
 * stop, or is killed while its STOP waits. Its hold must go with it.
 */
static int deserter(struct stress *st)
{
	struct deserter_stats *ds = &st->desert;
	uint64_t x = rnd_seed(st->seed, 200);
	int status;
	pid_t pid;

	while (!LOAD(&st->quit)) {
		bool kill_it = rnd(&x, 2);
		unsigned int delay_us = rnd(&x, 3000);

		pid = fork();
		if (pid < 0)
			return fail(st, &ds->f, NULL, errno, "deserter: fork");
		if (pid == 0) {
			struct stw_sock *s = stw_open();

			if (!s)
				_exit(1);
			stw_stop(s, STW_T_STOP, 0, NULL, NULL);
			_exit(0);	/* the socket, and its hold, go */
		}
		if (kill_it) {
			usleep(delay_us);
			kill(pid, SIGKILL);
		}
		if (stw_waitpid_timeout(pid, &status, STW_T_CHILD)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return fail(st, &ds->f, NULL, ETIMEDOUT,
				    "deserter %lu: its STOP did not end",
				    ds->deserters);
		}
		if (WIFSIGNALED(status))
			ds->killed_waiting++;
		else if (WEXITSTATUS(status))
			return fail(st, &ds->f, NULL, EIO,
				    "deserter %lu: cannot open a socket",
				    ds->deserters);
		ds->deserters++;
		usleep(20000);
	}
	return 0;
}

static pid_t start_child(int (*fn)(struct stress *, int), struct stress *st,
			 int arg)
{
	pid_t pid = stw_fork();

	if (pid == 0)
		_exit(fn(st, arg));
	return pid;
}

static int churn_child(struct stress *st, int arg)
{
	return churn(st);
}

static int deserter_child(struct stress *st, int arg)
{
	return deserter(st);
}

/* Wait for a child: 0 if it exited with 0. */
static int reap(pid_t *pid, int timeout_ms)
{
	int status;

	if (*pid <= 0)
		return 0;
	if (stw_waitpid_timeout(*pid, &status, timeout_ms)) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &status, 0);
		*pid = 0;
		return ETIMEDOUT;
	}
	*pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return WIFEXITED(status) ? EIO : EINTR;
}

/* Read and drop what the events group sent; the kernel must keep going. */
static unsigned long drain_events(struct stw_sock *ev)
{
	int fd = nl_socket_get_fd(ev->nl);
	static char buf[65536];
	unsigned long n = 0;

	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (got > 0) {
			n++;
			continue;
		}
		if (got < 0 && errno == ENOBUFS)
			continue;	/* the group outran us: fine */
		return n;
	}
}

FIXTURE_SETUP(stress)
{
	struct stress *st;
	size_t n;

	STW_SETUP(self->s);
	st = self->st = stw_shared_alloc(sizeof(*self->st));
	ASSERT_TRUE(st != NULL);
	st->cycles = stw_env_uint("STW_STRESS_CYCLES", DEFAULT_CYCLES);
	st->seed = stw_env_uint("STW_STRESS_SEED", 1);
	ASSERT_SPAWN(self->s, NR_EACH, 0, 0, 0, &st->base[0], &n);
	ASSERT_SPAWN(self->s, 0, NR_EACH, 0, 0, &st->base[NR_EACH], &n);
	ASSERT_SPAWN(self->s, 0, 0, NR_EACH, 0, &st->base[2 * NR_EACH], &n);
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
	self->ev = stw_open_events();
	ASSERT_TRUE(self->ev != NULL) TH_LOG("events: %s", strerror(errno));
}

FIXTURE_TEARDOWN(stress)
{
	int k;

	if (self->st)
		STORE(&self->st->quit, 1);
	for (k = 0; k < NR_CTL; k++)
		reap(&self->ctl[k], STW_T_CHILD);
	reap(&self->churn, STW_T_CHILD);
	reap(&self->deserter, STW_T_CHILD);
	stw_shared_free(self->st, sizeof(*self->st));
	stw_close(self->ev);
	self->ev = NULL;
	STW_TEARDOWN(self->s);
}

static void log_failure(struct __test_metadata *_metadata, const char *who,
			const struct failure *f)
{
	if (!f->err)
		return;
	TH_LOG("%s failed: %s: %s (%d), extack '%s'; %s", who, f->what,
	       strerror(f->err), f->err, f->extack, f->world);
}

static void log_stats(struct __test_metadata *_metadata, struct stress *st,
		      int64_t ms, const struct stw_world *w)
{
	unsigned long stops = 0, steps = 0;
	int k;

	for (k = 0; k < NR_CTL; k++) {
		const struct ctl_stats *c = &st->ctl[k];

		stops += c->stops;
		steps += c->steps;
		TH_LOG("ctl %d: %lu stops (%lu joined, %lu canceled), %lu steps (%lu busy, %lu gone), %lu resumes (%lu resumed the world, %lu already gone), %lu forces, %lu checks (%lu in RUN_ONE, %lu unheld after a force)",
		       k, c->stops, c->joined, c->stop_canceled, c->steps,
		       c->step_busy, c->step_gone, c->resumes, c->resumed,
		       c->resume_gone, c->forces, c->checks, c->seen_run_one,
		       c->seen_unheld);
	}
	TH_LOG("churn: %lu rounds, %lu VMs spawned and killed, %lu jobs; deserters: %lu (%lu killed while waiting)",
	       st->churn.rounds, st->churn.spawned, st->churn.jobs,
	       st->desert.deserters, st->desert.killed_waiting);
	TH_LOG("%u STOP requests: %lu stops, %lu steps, %llu cycles reached STOPPED, max TTS %llu us, in %lld.%03lld s (%.1f stops/s)",
	       st->cycles, stops, steps, (unsigned long long)w->cycles,
	       (unsigned long long)w->max_tts_ns / 1000, (long long)ms / 1000,
	       (long long)ms % 1000, ms ? stops * 1000.0 / ms : 0.0);
}

TEST_F_TIMEOUT(stress, controllers_steps_and_churn, STRESS_BASE_S)
{
	struct stw_sock *s = self->s;
	struct stress *st = self->st;
	unsigned int next_log = 1;
	struct stw_world w, w0;
	unsigned long events = 0;
	int64_t start, ms;
	bool resumed;
	int k, err, bad = 0;
	size_t n;

	TH_LOG("%u STOP requests from %d controllers, seed %lu (STW_STRESS_CYCLES, STW_STRESS_SEED)",
	       st->cycles, NR_CTL, st->seed);
	ASSERT_OK(s, stw_status(s, &w0));
	start = stw_now_ms();
	self->churn = start_child(churn_child, st, 0);
	ASSERT_LT(0, self->churn);
	self->deserter = start_child(deserter_child, st, 0);
	ASSERT_LT(0, self->deserter);
	for (k = 0; k < NR_CTL; k++) {
		self->ctl[k] = start_child(controller, st, k);
		ASSERT_LT(0, self->ctl[k]);
	}

	/* Watch until the controllers are done or somebody failed. */
	for (;;) {
		bool running = false;
		int status;

		for (k = 0; k < NR_CTL; k++) {
			if (self->ctl[k] <= 0)
				continue;
			if (waitpid(self->ctl[k], &status, WNOHANG) ==
			    self->ctl[k]) {
				self->ctl[k] = 0;
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					bad = 1;
				continue;
			}
			running = true;
		}
		events += drain_events(self->ev);
		err = stw_status(s, &w);
		if (err || stw_violations_total(&w)) {
			STORE(&st->quit, 1);
			ASSERT_OK(s, err);
			ASSERT_NO_VIOLATIONS(s);
		}
		if (!running || bad || LOAD(&st->quit))
			break;
		if (LOAD(&st->claimed) * 10 >= (unsigned long)st->cycles * next_log) {
			TH_LOG("%u0%%: %lu STOP requests, %llu cycles, %lu churn rounds, %lu deserters, %lld s",
			       next_log, LOAD(&st->claimed),
			       (unsigned long long)(w.cycles - w0.cycles),
			       LOAD(&st->churn.rounds),
			       LOAD(&st->desert.deserters),
			       (long long)(stw_now_ms() - start) / 1000);
			next_log++;
		}
		usleep(200000);
	}
	ms = stw_now_ms() - start;
	STORE(&st->quit, 1);
	for (k = 0; k < NR_CTL; k++)
		if (reap(&self->ctl[k], STW_T_CHILD))
			bad = 1;
	if (reap(&self->churn, STW_T_CHILD))
		bad = 1;
	if (reap(&self->deserter, STW_T_CHILD))
		bad = 1;
	events += drain_events(self->ev);

	for (k = 0; k < NR_CTL; k++) {
		char who[16];

		snprintf(who, sizeof(who), "controller %d", k);
		log_failure(_metadata, who, &st->ctl[k].f);
		if (st->ctl[k].f.err)
			bad = 1;
	}
	log_failure(_metadata, "churn", &st->churn.f);
	log_failure(_metadata, "deserter", &st->desert.f);
	bad |= st->churn.f.err || st->desert.f.err;
	ASSERT_OK(s, stw_status(s, &w));
	log_stats(_metadata, st, ms, &w);
	TH_LOG("%lu event messages drained", events);
	ASSERT_EQ(0, bad);
	ASSERT_NO_VIOLATIONS(s);

	/* Every controller is gone, and so is every hold they had. */
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(0U, w.holds) TH_LOG("%s", stw_describe(s));
	ASSERT_EQ((uint32_t)NR_BASE, w.nr_vms) TH_LOG("%s", stw_describe(s));
	ASSERT_EQ(0U, w.active);
	ASSERT_EQ(0U, w.stopped);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	/* The last cycles ran: the world reached STOPPED in them. */
	ASSERT_LT(w0.cycles, w.cycles);

	/* One more clean stop and resume. */
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ((uint32_t)NR_BASE, w.active);
	ASSERT_EQ((uint32_t)NR_BASE, w.stopped);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_STOPPED, 1));
	ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
	ASSERT_TRUE(resumed);
	ASSERT_NO_VIOLATIONS(s);
	ASSERT_OK(s, stw_kill_all(s, &n));
	ASSERT_EQ((size_t)NR_BASE, n);
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
}

/* The time limit grows with the cycles asked for. */
static void __attribute__((constructor)) stress_set_timeout(void)
{
	unsigned long long cycles = stw_env_uint("STW_STRESS_CYCLES",
						 DEFAULT_CYCLES);
	unsigned long long t = STRESS_BASE_S +
			       cycles * STRESS_MS_PER_CYCLE / 1000;

	_stress_controllers_steps_and_churn_object.timeout =
		t > 0x7fffffff ? 0x7fffffff : (int)t;
}

TEST_HARNESS_MAIN
