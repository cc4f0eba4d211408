// SPDX-License-Identifier: GPL-2.0
/*
 * failslab_test: every allocation of a request's path fails once.
 *
 * Only on a kernel with CONFIG_FAILSLAB and fault injection in debugfs
 * (the debug kernel; the tests SKIP elsewhere): SPAWN, STOP (also one
 * that times out), the STATUS do and dump, RESUME, RUN_ONE and KILL are
 * each made with the first, then the second, ... allocation of the test's
 * own thread failing, until one goes through without a failure. Each
 * failure must become a clean errno with nothing leaked: no VM, no VM
 * thread, no hold, no violated invariant, and a module that answers.
 * (Leaked memory is for kmemleak: `make check-debug` scans once stw is
 * unloaded.) A binary of its own, so that its runs have the suite's
 * whole time limit per binary on the debug kernel.
 *
 * Only the test's own syscalls fail. By default through
 * /proc/thread-self/fail-nth: run N fails exactly the N-th allocation of
 * the test's thread, so each allocation of the request's path fails once,
 * in turn (some tens of runs per request). With STW_FAILSLAB_MODE=space,
 * through failslab's task-filter instead, with /proc/thread-self/make-it-fail
 * set around the request only and a "space" budget that grows by
 * SPACE_STEP bytes from one run to the next: the same failures, but
 * many runs each (too slow for the debug kernel under TCG: hours).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define MAX_RUNS	3000	/* runs per request, at most */
#define SPACE_STEP	32	/* bytes of budget more per run (space mode) */
#define NR_DUMP_VMS	300	/* a dump of several messages */

/* The failslab settings we change, and what they were. */
static const char *const fs_knobs[] = {
	"probability", "interval", "times", "space", "verbose",
	"task-filter", "ignore-gfp-wait", "cache-filter",
};

FIXTURE(failslab) {
	struct stw_sock *chk;		/* never under injection */
	struct stw_sock *s;		/* the requests under injection */
	bool skip;
	const char *why;		/* of the skip */
	bool nth;			/* fail-nth, not task-filter + space */
	int mif_fd;			/* /proc/thread-self/make-it-fail */
	int nth_fd;			/* /proc/thread-self/fail-nth */
	char saved[ARRAY_SIZE(fs_knobs)][32];
	uint32_t ids[NR_DUMP_VMS];
	size_t n;
	/* Outcomes of the runs of a test. */
	unsigned int runs, injected, ok, errs[140], acks_lost, failed_done;
};

static int fs_read(const char *knob, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB "/%s", knob);
	return stw_read_file(path, buf, len);
}

static int fs_write(const char *knob, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB "/%s", knob);
	return stw_write_file(path, val);
}

static int pwrite_str(int fd, const char *v)
{
	return pwrite(fd, v, strlen(v), 0) < 0 ? errno : 0;
}

static long pread_long(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

FIXTURE_SETUP(failslab)
{
	struct stat st;
	const char *mode = getenv("STW_FAILSLAB_MODE");
	size_t i;

	self->mif_fd = self->nth_fd = -1;
	if (stat(FAILSLAB, &st)) {
		/* debugfs may just not be mounted. */
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	}
	if (stat(FAILSLAB, &st)) {
		self->skip = true;
		self->why = "no " FAILSLAB ": the kernel lacks CONFIG_FAILSLAB or CONFIG_FAULT_INJECTION_DEBUG_FS";
		return;
	}
	/*
	 * Walking every allocation of each request under KCSAN's watchpoints
	 * takes longer than the suite's time limit; the debug kernel (KASAN,
	 * kmemleak) is where failslab runs.
	 */
	if (!stat("/sys/kernel/debug/kcsan", &st)) {
		self->skip = true;
		self->why = "under KCSAN: failslab runs on the debug kernel";
		return;
	}
	self->nth = !mode || strcmp(mode, "space");
	for (i = 0; i < ARRAY_SIZE(fs_knobs); i++) {
		int err = fs_read(fs_knobs[i], self->saved[i],
				  sizeof(self->saved[i]));

		ASSERT_EQ(0, err) TH_LOG("reading " FAILSLAB "/...: %s",
					 strerror(err));
	}
	/* GFP_KERNEL allocations too; a notice, not a stack, per failure. */
	ASSERT_EQ(0, fs_write("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, fs_write("cache-filter", "N"));
	ASSERT_EQ(0, fs_write("verbose", "1"));
	ASSERT_EQ(0, fs_write("interval", "1"));
	ASSERT_EQ(0, fs_write("space", "0"));
	if (self->nth) {
		/* Only fail-nth fails anything. */
		ASSERT_EQ(0, fs_write("probability", "0"));
		ASSERT_EQ(0, fs_write("task-filter", "N"));
		self->nth_fd = open("/proc/thread-self/fail-nth",
				    O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->nth_fd)
			TH_LOG("/proc/thread-self/fail-nth: %s",
			       strerror(errno));
	} else {
		ASSERT_EQ(0, fs_write("task-filter", "Y"));
		ASSERT_EQ(0, fs_write("times", "0"));
		ASSERT_EQ(0, fs_write("probability", "100"));
		self->mif_fd = open("/proc/thread-self/make-it-fail",
				    O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->mif_fd)
			TH_LOG("/proc/thread-self/make-it-fail: %s",
			       strerror(errno));
	}
	STW_SETUP(self->chk);
}

FIXTURE_TEARDOWN(failslab)
{
	size_t i;

	if (self->skip)
		return;
	if (self->mif_fd >= 0) {
		pwrite_str(self->mif_fd, "0");
		close(self->mif_fd);
	}
	if (self->nth_fd >= 0) {
		pwrite_str(self->nth_fd, "0");
		close(self->nth_fd);
	}
	/* times last but one, probability last: nothing fails meanwhile. */
	fs_write("probability", "0");
	for (i = 0; i < ARRAY_SIZE(fs_knobs); i++)
		if (self->saved[i][0])
			fs_write(fs_knobs[i], self->saved[i]);
	stw_close(self->s);
	self->s = NULL;
	STW_TEARDOWN(self->chk);
}

#define FAILSLAB_SKIP() do { \
	if (self->skip) \
		SKIP(return, "%s", self->why); \
} while (0)

/*
 * Make run @run fail an allocation of this thread: the @run-th (fail-nth),
 * or the first one past @run * SPACE_STEP bytes (task-filter + space).
 * Nothing after this but the request itself.
 */
static int fs_arm(FIXTURE_DATA(failslab) *self, unsigned int run)
{
	char v[32];
	int err;

	if (self->nth) {
		snprintf(v, sizeof(v), "%u", run + 1);
		return pwrite_str(self->nth_fd, v);
	}
	snprintf(v, sizeof(v), "%u", run * SPACE_STEP);
	err = fs_write("space", v);
	if (!err)
		err = fs_write("times", "1");
	if (!err)		/* last: from here on our allocations count */
		err = pwrite_str(self->mif_fd, "1");
	return err;
}

/* Stop failing; true if a failure was injected during the request. */
static bool fs_disarm(FIXTURE_DATA(failslab) *self)
{
	char v[32];
	long left;

	if (self->nth) {
		left = pread_long(self->nth_fd);
		pwrite_str(self->nth_fd, "0");
		return left == 0;
	}
	/* First: our allocations no longer fail, opening files is safe. */
	pwrite_str(self->mif_fd, "0");
	left = fs_read("times", v, sizeof(v)) ? -1 : strtol(v, NULL, 10);
	fs_write("times", "0");
	return left == 0;
}

/* A fresh socket for the next request, made while nothing fails. */
static void fs_new_sock(FIXTURE_DATA(failslab) *self)
{
	stw_close(self->s);
	self->s = stw_open();
}

static void fs_count(FIXTURE_DATA(failslab) *self, int err, bool injected)
{
	self->runs++;
	self->injected += injected;
	if (!err)
		self->ok++;
	else if (err < (int)ARRAY_SIZE(self->errs))
		self->errs[err]++;
}

static void fs_log(struct __test_metadata *_metadata,
		   FIXTURE_DATA(failslab) *self, const char *what)
{
	char line[512];
	size_t n = 0;
	int i;

	line[0] = '\0';
	for (i = 1; i < (int)ARRAY_SIZE(self->errs); i++)
		if (self->errs[i] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s:%u",
				      strerrorname_np(i) ?: "?",
				      self->errs[i]);
	TH_LOG("%s: %u runs, %u with an allocation failed (%s mode): %u succeeded, errors:%s; %u acks lost, %u failed after doing the work",
	       what, self->runs, self->injected,
	       self->nth ? "fail-nth" : "task-filter+space", self->ok, line,
	       self->acks_lost, self->failed_done);
}

/* Every VM of the world has its thread: none leaked, none missing. */
static int threads_match(struct stw_sock *chk, char *why, size_t len)
{
	int64_t deadline = stw_now_ms() + STW_T_WAIT;
	struct stw_world w;
	int t, err;

	for (;;) {
		err = stw_status(chk, &w);
		if (err) {
			snprintf(why, len, "STATUS: %s", strerror(err));
			return err;
		}
		t = stw_count_threads(STW_THREAD_PREFIX);
		if (t == (int)w.nr_vms)
			return 0;
		if (stw_now_ms() > deadline) {
			snprintf(why, len, "%d VM threads for %u VMs", t,
				 w.nr_vms);
			return EINVAL;
		}
		usleep(10000);
	}
}

/* No hold left once the socket that took them is closed; world running. */
#define ASSERT_CLEAN(self, run) do { \
	struct stw_world __w; \
	char __why[128]; \
	stw_close((self)->s); \
	(self)->s = NULL; \
	ASSERT_OK((self)->chk, stw_wait_mode((self)->chk, STW_RUN_ALL, \
					     STW_T_WAIT)); \
	ASSERT_OK((self)->chk, stw_status((self)->chk, &__w)); \
	ASSERT_EQ(0U, __w.holds) TH_LOG("run %u: %s", run, \
					 stw_describe((self)->chk)); \
	ASSERT_EQ(0ULL, (unsigned long long)stw_violations_total(&__w)) \
		TH_LOG("run %u: %s", run, stw_describe((self)->chk)); \
	ASSERT_EQ(0, threads_match((self)->chk, __why, sizeof(__why))) \
		TH_LOG("run %u: %s", run, __why); \
} while (0)

/*
 * SPAWN: all or nothing. A failed SPAWN leaves no VM and no thread; only
 * when the ack alone was lost (ENOBUFS on our socket) may the VMs exist.
 */
TEST_F_TIMEOUT(failslab, spawn_fails_cleanly, 900)
{
	unsigned int run;
	uint32_t ids[2];
	size_t n, killed;
	bool injected;
	int err;

	FAILSLAB_SKIP();
	for (run = 0; run < MAX_RUNS; run++) {
		fs_new_sock(self);
		ASSERT_TRUE(self->s != NULL);
		ASSERT_EQ(0, fs_arm(self, run));
		err = stw_spawn(self->s, 1, 1, 0, 0, ids, &n);
		injected = fs_disarm(self);
		fs_count(self, err, injected);

		ASSERT_OK(self->chk, stw_kill_all(self->chk, &killed));
		if (!err) {
			ASSERT_EQ(2U, n);
			ASSERT_EQ(2U, killed) TH_LOG("run %u", run);
		} else if (err == ENOBUFS && killed == 2) {
			self->acks_lost++;
		} else {
			ASSERT_EQ(0U, killed)
				TH_LOG("run %u: SPAWN failed with %s ('%s') but made %zu VMs",
				       run, strerror(err), self->s->extack,
				       killed);
		}
		ASSERT_CLEAN(self, run);
		if (!injected)
			break;
	}
	fs_log(_metadata, self, "SPAWN");
	ASSERT_LT(run, (unsigned int)MAX_RUNS);
}

/*
 * STOP: a STOP that failed holds nothing (the world runs again); one that
 * succeeded holds the world stopped, until its socket closes.
 */
static void stop_runs(struct __test_metadata *_metadata,
		      FIXTURE_DATA(failslab) *self, uint32_t timeout_ms,
		      uint32_t lease_ms, int expect)
{
	struct stw_world w;
	unsigned int run;
	bool injected;
	int err;

	for (run = 0; run < MAX_RUNS; run++) {
		fs_new_sock(self);
		ASSERT_TRUE(self->s != NULL);
		ASSERT_EQ(0, fs_arm(self, run));
		if (lease_ms)
			err = stw_stop_leased(self->s, timeout_ms, lease_ms, 0,
					      NULL, NULL);
		else
			err = stw_stop(self->s, timeout_ms, 0, NULL, NULL);
		injected = fs_disarm(self);
		fs_count(self, err, injected);

		ASSERT_OK(self->chk, stw_status(self->chk, &w));
		if (err == expect && !expect) {
			ASSERT_EQ(STW_STOPPED, w.mode) TH_LOG("run %u", run);
			ASSERT_EQ(1U, w.holds) TH_LOG("run %u", run);
		} else if (err == ENOBUFS && w.holds) {
			self->acks_lost++;	/* it stopped; the ack is lost */
		} else {
			ASSERT_EQ(0U, w.holds)
				TH_LOG("run %u: STOP failed with %s ('%s') but left %u holds",
				       run, strerror(err), self->s->extack,
				       w.holds);
		}
		/* A leased hold outlives the socket: resume it by hand. */
		if (lease_ms && w.holds) {
			err = stw_resume(self->chk, true, 0, NULL);
			ASSERT_TRUE(!err || err == EALREADY);
		}
		ASSERT_CLEAN(self, run);
		if (!injected)
			break;
	}
	ASSERT_LT(run, (unsigned int)MAX_RUNS);
}

TEST_F_TIMEOUT(failslab, stop_fails_cleanly, 900)
{
	FAILSLAB_SKIP();
	ASSERT_SPAWN(self->chk, 2, 2, 0, 0, self->ids, &self->n);
	ASSERT_OK(self->chk, stw_wait_all_vms_state(self->chk, STW_VM_RUNNING,
						    STW_T_WAIT));
	stop_runs(_metadata, self, STW_T_STOP, 0, 0);
	fs_log(_metadata, self, "STOP");
}

TEST_F_TIMEOUT(failslab, leased_stop_fails_cleanly, 900)
{
	FAILSLAB_SKIP();
	ASSERT_SPAWN(self->chk, 1, 1, 0, 0, self->ids, &self->n);
	ASSERT_OK(self->chk, stw_wait_all_vms_state(self->chk, STW_VM_RUNNING,
						    STW_T_WAIT));
	stop_runs(_metadata, self, STW_T_STOP, 600000, 0);
	fs_log(_metadata, self, "STOP with a lease");
}

/* A STOP that times out (laggards, the event): rolled back all the same. */
TEST_F_TIMEOUT(failslab, stop_that_times_out_fails_cleanly, 900)
{
	struct stw_sock *ev;

	FAILSLAB_SKIP();
	/* A listener, so that the TIMEOUT event is built too. */
	ev = stw_open_events();
	ASSERT_TRUE(ev != NULL);
	ASSERT_SPAWN(self->chk, 1, 0, 0, 1, self->ids, &self->n);
	ASSERT_OK(self->chk, stw_wait_vm_doing(self->chk, self->ids[1],
					       STW_VM_DOING_RUNNING,
					       STW_T_WAIT));
	stop_runs(_metadata, self, 30, 0, ETIMEDOUT);
	stw_close(ev);
	fs_log(_metadata, self, "STOP timing out");
}

/* STATUS, do and dump: an errno or the answer; the module answers after. */
TEST_F_TIMEOUT(failslab, status_and_dump_fail_cleanly, 900)
{
	struct stw_world w;
	struct stw_vm *vms;
	unsigned int run;
	bool injected;
	size_t n;
	int err, pass;

	FAILSLAB_SKIP();
	ASSERT_SPAWN(self->chk, 0, NR_DUMP_VMS, 0, 0, self->ids, &self->n);
	for (pass = 0; pass < 2; pass++) {
		for (run = 0; run < MAX_RUNS; run++) {
			fs_new_sock(self);
			ASSERT_TRUE(self->s != NULL);
			ASSERT_EQ(0, fs_arm(self, run));
			if (pass == 0) {
				err = stw_status(self->s, &w);
			} else {
				err = stw_vms(self->s, &vms, &n);
				if (!err)
					free(vms);
			}
			injected = fs_disarm(self);
			fs_count(self, err, injected);
			if (!err && pass == 1)
				ASSERT_EQ((size_t)NR_DUMP_VMS, n);
			/* The module answers whole, on a fresh socket. */
			ASSERT_OK(self->chk, stw_vms(self->chk, &vms, &n));
			free(vms);
			ASSERT_EQ((size_t)NR_DUMP_VMS, n);
			ASSERT_CLEAN(self, run);
			if (!injected)
				break;
		}
		ASSERT_LT(run, (unsigned int)MAX_RUNS);
	}
	fs_log(_metadata, self, "STATUS do and dump");
}

/* RESUME: failed, the hold is still there; succeeded, the world runs. */
TEST_F_TIMEOUT(failslab, resume_fails_cleanly, 900)
{
	struct stw_world w;
	unsigned int run;
	bool injected, resumed;
	int err;

	FAILSLAB_SKIP();
	ASSERT_SPAWN(self->chk, 1, 1, 0, 0, self->ids, &self->n);
	for (run = 0; run < MAX_RUNS; run++) {
		fs_new_sock(self);
		ASSERT_TRUE(self->s != NULL);
		ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL,
					    NULL));
		ASSERT_EQ(0, fs_arm(self, run));
		err = stw_resume(self->s, false, 0, &resumed);
		injected = fs_disarm(self);
		fs_count(self, err, injected);
		ASSERT_OK(self->chk, stw_status(self->chk, &w));
		if (!err) {
			ASSERT_TRUE(resumed);
			ASSERT_EQ(0U, w.holds);
		} else if (err == ENOBUFS && !w.holds) {
			self->acks_lost++;
		} else if (!w.holds) {
			self->failed_done++;	/* resumed, reply lost */
			TH_LOG("run %u: RESUME failed with %s ('%s') but resumed",
			       run, strerror(err), self->s->extack);
		}
		ASSERT_CLEAN(self, run);
		if (!injected)
			break;
	}
	fs_log(_metadata, self, "RESUME");
	ASSERT_LT(run, (unsigned int)MAX_RUNS);
}

/* RUN_ONE: whatever its answer, the world is stopped again after it. */
TEST_F_TIMEOUT(failslab, run_one_fails_cleanly, 900)
{
	struct stw_world w;
	unsigned int run;
	bool injected;
	int err;

	FAILSLAB_SKIP();
	ASSERT_SPAWN(self->chk, 1, 1, 0, 0, self->ids, &self->n);
	ASSERT_OK(self->chk, stw_wait_vm_polls(self->chk, self->ids[0], 1,
					       STW_T_WAIT));
	for (run = 0; run < MAX_RUNS; run++) {
		fs_new_sock(self);
		ASSERT_TRUE(self->s != NULL);
		ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL,
					    NULL));
		ASSERT_EQ(0, fs_arm(self, run));
		err = stw_run_one(self->s, self->ids[run % 2], 3, STW_T_STOP,
				  NULL);
		injected = fs_disarm(self);
		fs_count(self, err, injected);
		ASSERT_EQ(0, stw_wait_mode(self->chk, STW_STOPPED,
					   STW_T_WAIT))
			TH_LOG("run %u: RUN_ONE gave %s; %s", run,
			       strerror(err), stw_describe(self->chk));
		ASSERT_OK(self->chk, stw_status(self->chk, &w));
		ASSERT_EQ(1U, w.holds);
		ASSERT_CLEAN(self, run);
		if (!injected)
			break;
	}
	fs_log(_metadata, self, "RUN_ONE");
	ASSERT_LT(run, (unsigned int)MAX_RUNS);
}

/* KILL: the VMs are gone, or (failed early) all still there. */
TEST_F_TIMEOUT(failslab, kill_fails_cleanly, 900)
{
	struct stw_world w;
	unsigned int run;
	uint32_t ids[3];
	bool injected;
	size_t n;
	int err;

	FAILSLAB_SKIP();
	for (run = 0; run < MAX_RUNS; run++) {
		ASSERT_SPAWN(self->chk, 1, 1, 1, 0, ids, &n);
		fs_new_sock(self);
		ASSERT_TRUE(self->s != NULL);
		ASSERT_EQ(0, fs_arm(self, run));
		err = stw_kill(self->s, ids, 3);
		injected = fs_disarm(self);
		fs_count(self, err, injected);
		ASSERT_OK(self->chk, stw_status(self->chk, &w));
		if (!err) {
			ASSERT_EQ(0U, w.nr_vms);
		} else if (!w.nr_vms) {
			/* Killed, and then the reply failed. */
			if (err == ENOBUFS)
				self->acks_lost++;
			else
				self->failed_done++;
		} else {
			ASSERT_EQ(3U, w.nr_vms)
				TH_LOG("run %u: KILL failed with %s ('%s') and killed some",
				       run, strerror(err), self->s->extack);
		}
		ASSERT_OK(self->chk, stw_kill_all(self->chk, NULL));
		ASSERT_CLEAN(self, run);
		if (!injected)
			break;
	}
	fs_log(_metadata, self, "KILL");
	ASSERT_LT(run, (unsigned int)MAX_RUNS);
}

TEST_HARNESS_MAIN
