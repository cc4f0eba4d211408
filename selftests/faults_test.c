// SPDX-License-Identifier: GPL-2.0
/*
 * faults_test: stw under the faults a machine throws at it.
 *
 * Unloading (what module_test does not cover already: it unloads with VMs,
 * with the world held stopped and with a STOP waiting):
 *  - while a RUN_ONE waits for a step that cannot end (its target is held
 *    at a probe point, as a VM of another module blocked in its step
 *    would be): the waiter is answered and the module goes at once, not
 *    when the step's timeout expires (meanwhile the unload would hold up
 *    every generic netlink request of the machine);
 *  - while a dump is half read: refused until the dump's socket goes, or
 *    clean;
 *  - while a SPAWN of thousands of VMs is under way;
 *  - again and again while other processes send every kind of request.
 * Each time nothing is left behind (no family, no VM thread) and the module
 * loads again into a fresh world.
 *
 * Allocation failures are failslab_test's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "stw_test.h"
#include "stw_probe.h"


/* ------------------------------------------------------------------ */
/* Unloading                                                           */
/* ------------------------------------------------------------------ */

FIXTURE(unload) {
	struct stw_sock *s;
	bool no_ko;
	pid_t child[4];
	int pipe[2];
	int *quit;		/* shared with the children */
};

static bool probes_loaded(void)
{
	struct stw_sock *p = stw_probe_open();

	stw_close(p);
	return p != NULL;
}

/* stw loaded, and without probes: reload it if need be. */
static int load_plain(void)
{
	int err;

	if (stw_module_loaded() && !probes_loaded())
		return 0;
	err = stw_module_unload();
	if (err && err != ENOENT)
		return err;
	return stw_module_load(stw_ko_path());
}

FIXTURE_SETUP(unload)
{
	int err;

	self->pipe[0] = self->pipe[1] = -1;
	self->no_ko = access(stw_ko_path(), R_OK) != 0;
	if (self->no_ko)
		return;		/* each test skips */
	self->quit = stw_shared_alloc(sizeof(*self->quit));
	ASSERT_TRUE(self->quit != NULL);
	err = load_plain();
	ASSERT_EQ(0, err) TH_LOG("loading %s: %s", stw_ko_path(),
				 strerror(err));
	STW_SETUP(self->s);
}

FIXTURE_TEARDOWN(unload)
{
	int status, err;
	size_t i;

	if (self->quit)
		*self->quit = 1;
	for (i = 0; i < ARRAY_SIZE(self->child); i++) {
		if (self->child[i] <= 0)
			continue;
		if (stw_waitpid_timeout(self->child[i], &status, STW_T_CHILD)) {
			kill(self->child[i], SIGKILL);
			waitpid(self->child[i], &status, 0);
		}
	}
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	stw_shared_free(self->quit, sizeof(*self->quit));
	stw_close(self->s);
	self->s = NULL;
	if (self->no_ko)
		return;
	err = load_plain();
	if (err) {
		STW_TEARDOWN_FAIL("loading %s: %s", stw_ko_path(),
				  strerror(err));
		return;
	}
	self->s = stw_open();
	if (!self->s)
		STW_TEARDOWN_FAIL("stw_open: %s", strerror(errno));
	STW_TEARDOWN(self->s);
}

/* Loaded again, plain: a fresh world. */
#define ASSERT_RELOADED_FRESH() do { \
	struct stw_world __w; \
	int __err = stw_module_load(stw_ko_path()); \
	ASSERT_EQ(0, __err) TH_LOG("loading %s: %s", stw_ko_path(), \
				   strerror(__err)); \
	stw_close(self->s); \
	self->s = stw_open(); \
	ASSERT_TRUE(self->s != NULL) TH_LOG("stw_open: %s", strerror(errno)); \
	ASSERT_OK(self->s, stw_status(self->s, &__w)); \
	ASSERT_EQ(STW_RUN_ALL, __w.mode); \
	ASSERT_EQ(0U, __w.nr_vms); \
	ASSERT_EQ(0U, __w.holds); \
	ASSERT_EQ(0ULL, (unsigned long long)__w.generation); \
} while (0)

#define UNLOAD_SKIP() do { \
	if (self->no_ko) \
		SKIP(return, "no %s to load stw again (set STW_KO)", \
		     stw_ko_path()); \
} while (0)

/* Unload, retrying while a transient reference holds it: 0 or errno. */
static int unload_retry(int timeout_ms, int64_t *took_ms)
{
	int64_t start = stw_now_ms();
	int err;

	for (;;) {
		err = stw_module_unload();
		if (err != EAGAIN && err != EBUSY)
			break;
		if (stw_now_ms() - start >= timeout_ms)
			break;
		usleep(20000);
	}
	if (took_ms)
		*took_ms = stw_now_ms() - start;
	return err;
}

/*
 * A RUN_ONE waits for a step that cannot end: its target is held at a
 * probe point before its stop point. Unloading must answer the waiter and
 * go at once; it must not sit out the step's 30 s timeout.
 */
TEST_F_TIMEOUT(unload, while_a_step_cannot_end, 180)
{
	struct stw_sock *p = NULL;
	uint32_t ids[2], hit;
	int64_t took;
	int err, child_err = -1, status;
	size_t n;

	UNLOAD_SKIP();

	err = stw_probe_enable();
	if (err == ENOENT)
		SKIP(return, "stw has no probes (stw_probe family missing)");
	ASSERT_EQ(0, err) TH_LOG("loading stw with probes=1: %s",
				 strerror(err));
	stw_close(self->s);
	self->s = stw_open();
	ASSERT_TRUE(self->s != NULL);
	ASSERT_OK(self->s, stw_reset(self->s, STW_T_RESET));
	p = stw_probe_open();
	ASSERT_TRUE(p != NULL) TH_LOG("stw_probe: %s", strerror(errno));
	ASSERT_OK(p, stw_probe_reset(p));

	ASSERT_SPAWN(self->s, 1, 1, 0, 0, ids, &n);
	ASSERT_OK(self->s, stw_wait_vm_polls(self->s, ids[0], 1, STW_T_WAIT));
	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(p, stw_probe_arm(p, STW_PROBE_STOP_POINT_LOCK, ids[0],
				   STW_PROBE_PARK));

	/* The step, in a child: its RUN_ONE waits up to 30 s. */
	ASSERT_EQ(0, pipe(self->pipe));
	self->child[0] = stw_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		struct stw_sock *cs = stw_open();

		child_err = cs ? stw_run_one(cs, ids[0], 1, 30000, NULL) : EIO;
		if (write(self->pipe[1], &child_err, sizeof(child_err)) < 0)
			_exit(1);
		_exit(0);
	}
	close(self->pipe[1]);
	self->pipe[1] = -1;
	ASSERT_OK(p, stw_probe_wait(p, STW_PROBE_STOP_POINT_LOCK, ids[0],
				    STW_T_WAIT, &hit));
	ASSERT_OK(self->s, stw_wait_mode(self->s, STW_RUN_ONE, STW_T_WAIT));
	stw_close(p);
	p = NULL;

	/* Our hold stays (our socket stays open): only the unload ends it. */
	err = unload_retry(0, &took);
	TH_LOG("unload: %s after %lld ms", err ? strerror(err) : "done",
	       (long long)took);
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &child_err,
				      sizeof(child_err), STW_T_CHILD));
	TH_LOG("the waiting RUN_ONE ended with %s",
	       child_err ? strerror(child_err) : "success");
	ASSERT_EQ(0, stw_waitpid_timeout(self->child[0], &status, STW_T_CHILD));
	self->child[0] = 0;
	ASSERT_EQ(0, err) TH_LOG("delete_module(stw): %s", strerror(err));
	ASSERT_LT(took, 10000)
		TH_LOG("the unload waited %lld ms for a step that could not end: RUN_ONE does not give up when stw unloads",
		       (long long)took);
	stw_close(self->s);
	self->s = NULL;
	ASSERT_UNLOADED();
	ASSERT_RELOADED_FRESH();
}

/*
 * A dump half read keeps a reference on the module: the unload is refused
 * (and the module keeps working) until the dump's socket goes; or it is
 * clean at once, and reading on does not touch the module that is gone.
 */
TEST_F_TIMEOUT(unload, while_a_dump_is_half_read, 180)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
	} req = {
		.n = {
			.nlmsg_len = sizeof(req),
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.g = { .cmd = STW_CMD_STATUS, .version = STW_GENL_VERSION },
	};
	static char buf[4096];	/* small: one part of the dump at a time */
	struct stw_world w;
	uint32_t *ids;
	int fd, err, rcv = 4096;
	ssize_t got;
	size_t n;

	UNLOAD_SKIP();

	ids = calloc(400, sizeof(*ids));
	ASSERT_TRUE(ids != NULL);
	ASSERT_SPAWN(self->s, 0, 400, 0, 0, ids, &n);
	free(ids);
	req.n.nlmsg_type = self->s->family;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, fd);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ((ssize_t)sizeof(req), send(fd, &req, sizeof(req), 0));
	got = recv(fd, buf, sizeof(buf), 0);
	ASSERT_LT(0, got) TH_LOG("recv: %s", strerror(errno));

	err = stw_module_unload();
	if (err) {
		ASSERT_TRUE(err == EAGAIN || err == EBUSY)
			TH_LOG("delete_module(stw): %s", strerror(err));
		TH_LOG("unload refused while a dump is open (%s)",
		       strerror(err));
		/* Refused, and not harmed: it answers and the dump goes on. */
		ASSERT_OK(self->s, stw_status(self->s, &w));
		ASSERT_EQ(400U, w.nr_vms);
		got = recv(fd, buf, sizeof(buf), 0);
		ASSERT_LT(0, got) TH_LOG("recv: %s", strerror(errno));
		close(fd);
		stw_close(self->s);
		self->s = NULL;
		err = unload_retry(STW_T_WAIT, NULL);
		ASSERT_EQ(0, err) TH_LOG("delete_module(stw) once the dump is closed: %s",
					 strerror(err));
	} else {
		/* Gone at once: reading on must not run its code. */
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		close(fd);
		stw_close(self->s);
		self->s = NULL;
	}
	ASSERT_UNLOADED();
	ASSERT_RELOADED_FRESH();
}

#define BIG_SPAWN	STW_SPAWN_MAX

/* A SPAWN of thousands of VMs under way: the unload ends it, cleanly. */
TEST_F_TIMEOUT(unload, while_a_big_spawn_is_under_way, 300)
{
	struct stw_world w;
	int64_t took, deadline;
	int err, child_err = -1, status;

	UNLOAD_SKIP();

	ASSERT_EQ(0, pipe(self->pipe));
	self->child[0] = stw_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		struct stw_sock *cs = stw_open();

		child_err = cs ? stw_spawn(cs, 0, BIG_SPAWN, 0, 0, NULL, NULL) : EIO;
		if (write(self->pipe[1], &child_err, sizeof(child_err)) < 0)
			_exit(1);
		_exit(0);
	}
	close(self->pipe[1]);
	self->pipe[1] = -1;
	/* Some VMs made, most not yet; unless the SPAWN is over already. */
	deadline = stw_now_ms() + 60000;
	for (;;) {
		struct pollfd pfd = { .fd = self->pipe[0], .events = POLLIN };

		ASSERT_OK(self->s, stw_status(self->s, &w));
		if (w.nr_vms >= 50 || poll(&pfd, 1, 0) > 0)
			break;
		ASSERT_LT(stw_now_ms(), deadline)
			TH_LOG("no VM after 60 s: %s", stw_describe(self->s));
		usleep(1000);
	}
	stw_close(self->s);
	self->s = NULL;

	err = unload_retry(0, &took);
	TH_LOG("unload with %u VMs of %u made: %s after %lld ms", w.nr_vms,
	       BIG_SPAWN,
	       err ? strerror(err) : "done", (long long)took);
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &child_err,
				      sizeof(child_err), 120000));
	TH_LOG("the SPAWN ended with %s",
	       child_err ? strerror(child_err) : "success");
	ASSERT_EQ(0, stw_waitpid_timeout(self->child[0], &status, STW_T_CHILD));
	self->child[0] = 0;
	ASSERT_EQ(0, err) TH_LOG("delete_module(stw): %s", strerror(err));
	ASSERT_UNLOADED();
	ASSERT_RELOADED_FRESH();
}

/*
 * A client that sends every kind of request, ignoring what it gets, and
 * opens a new socket after any error (the family may be gone or new).
 */
static int hammer(volatile int *quit, unsigned int seed)
{
	struct stw_sock *s = NULL;
	uint32_t ids[4] = { 0 };
	struct stw_vm *vms;
	struct stw_world w;
	size_t n;
	int err;

	while (!*quit) {
		if (!s) {
			s = stw_open();
			if (!s) {
				usleep(2000);
				continue;
			}
		}
		seed = seed * 1103515245 + 12345;
		switch ((seed >> 16) % 9) {
		case 0: err = stw_spawn(s, 1, 1, 1, 0, ids, &n); break;
		case 1: err = stw_stop(s, 2000, 0, NULL, NULL); break;
		case 2: err = stw_resume(s, false, 0, NULL); break;
		case 3: err = stw_status(s, &w); break;
		case 4:
			err = stw_vms(s, &vms, &n);
			if (!err)
				free(vms);
			break;
		case 5: err = stw_kill_all(s, NULL); break;
		case 6: err = stw_run_one(s, ids[seed % 3], 2, 2000, NULL); break;
		case 7: err = stw_queue_job(s, ids[seed % 3], 2, 100); break;
		default: err = stw_stop_leased(s, 2000, 500, 0, NULL, NULL);
		}
		if (err) {
			stw_close(s);
			s = NULL;
		}
	}
	stw_close(s);
	return 0;
}

static bool hammered(const struct stw_world *w, void *arg)
{
	(void)arg;
	return w->nr_vms || w->cycles;
}

/* Wait until a hammer client made a VM or a stop on the module loaded now. */
static int wait_hammered(int timeout_ms)
{
	struct stw_sock *s = stw_open();
	int err;

	if (!s)
		return errno;
	err = stw_wait_world(s, hammered, NULL, timeout_ms, NULL);
	stw_close(s);
	return err;
}

/* Unload and load again, five times, while three clients hammer it. */
TEST_F_TIMEOUT(unload, again_and_again_under_load, 400)
{
	unsigned int round, rounds = stw_scaled(5);
	int64_t took, worst = 0;
	struct stw_world w;
	int k, err, status;

	UNLOAD_SKIP();

	stw_close(self->s);
	self->s = NULL;
	for (k = 0; k < 3; k++) {
		self->child[k] = stw_fork();
		ASSERT_LE(0, self->child[k]);
		if (self->child[k] == 0)
			_exit(hammer(self->quit, 17 + k));
	}
	for (round = 0; round < rounds; round++) {
		/* Unload under load: wait until the hammers reach this module. */
		ASSERT_EQ(0, wait_hammered(10000))
			TH_LOG("round %u: no client reached the module", round);
		err = unload_retry(30000, &took);
		ASSERT_EQ(0, err) TH_LOG("round %u: delete_module(stw): %s",
					 round, strerror(err));
		if (took > worst)
			worst = took;
		ASSERT_FALSE(stw_module_in_sysfs());
		ASSERT_EQ(0, stw_wait_no_threads(STW_THREAD_PREFIX, 10000))
			TH_LOG("round %u: %d VM threads left", round,
			       stw_count_threads(STW_THREAD_PREFIX));
		err = stw_module_load(stw_ko_path());
		ASSERT_EQ(0, err) TH_LOG("round %u: loading: %s", round,
					 strerror(err));
	}
	TH_LOG("%u unloads under load, the slowest took %lld ms", rounds,
	       (long long)worst);

	*self->quit = 1;
	for (k = 0; k < 3; k++) {
		ASSERT_EQ(0, stw_waitpid_timeout(self->child[k], &status,
						 STW_T_CHILD))
			TH_LOG("client %d does not finish", k);
		self->child[k] = 0;
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("client %d died: status %#x", k, status);
	}
	self->s = stw_open();
	ASSERT_TRUE(self->s != NULL);
	ASSERT_OK(self->s, stw_reset(self->s, STW_T_RESET));
	ASSERT_OK(self->s, stw_status(self->s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_NO_VIOLATIONS(self->s);
}

TEST_HARNESS_MAIN
