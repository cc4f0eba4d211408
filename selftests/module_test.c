// SPDX-License-Identifier: GPL-2.0
/*
 * module_test: unloading stw leaves nothing behind (no family, no sysfs
 * directory, no VM thread), whatever the world was doing, and it loads
 * again into a fresh world. Every test leaves the module loaded.
 *
 * The module is loaded again from $STW_KO (default /stw/stw.ko); without
 * that file the tests skip rather than leave stw unloaded.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"


FIXTURE(module) {
	struct stw_sock *s;
	bool no_ko;
	pid_t child;
	int pipe[2];
};

FIXTURE_SETUP(module)
{
	self->pipe[0] = self->pipe[1] = -1;
	self->no_ko = access(stw_ko_path(), R_OK) != 0;
	STW_SETUP_LOADED(self->s);
}

FIXTURE_TEARDOWN(module)
{
	int status;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &status, 0);
	}
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	STW_TEARDOWN_LOADED(self->s);
}

/* Loaded again: the family resolves and the world is a fresh one. */
#define ASSERT_RELOADED_FRESH() do { \
	struct stw_world __w; \
	int __err = stw_module_load(stw_ko_path()); \
	ASSERT_EQ(0, __err) TH_LOG("loading %s: %s", stw_ko_path(), \
				   strerror(__err)); \
	ASSERT_TRUE(stw_module_loaded()); \
	ASSERT_TRUE(stw_module_in_sysfs()); \
	self->s = stw_open(); \
	ASSERT_TRUE(self->s != NULL) TH_LOG("stw_open: %s", strerror(errno)); \
	ASSERT_OK(self->s, stw_status(self->s, &__w)); \
	ASSERT_EQ(STW_RUN_ALL, __w.mode); \
	ASSERT_EQ(0U, __w.nr_vms); \
	ASSERT_EQ(0U, __w.holds); \
	ASSERT_EQ(0ULL, (unsigned long long)__w.generation); \
	ASSERT_EQ(0ULL, (unsigned long long)__w.cycles); \
} while (0)

TEST_F_TIMEOUT(module, unload_leaves_nothing_behind, 120)
{
	struct stw_sock *s = self->s;
	uint32_t ids[5];
	size_t n;
	int err;

	if (self->no_ko)
		SKIP(return, "no %s to load stw again (set STW_KO)",
		     stw_ko_path());
	ASSERT_SPAWN(s, 2, 2, 1, 0, ids, &n);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	/* A stop cycle first, so that its machinery was used. */
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	/* Each VM is a thread "stw/<name>": the check below can see them. */
	ASSERT_LE(5, stw_count_threads(STW_THREAD_PREFIX));

	stw_close(self->s);
	self->s = NULL;
	err = stw_module_unload();
	ASSERT_EQ(0, err) TH_LOG("delete_module(stw): %s", strerror(err));
	ASSERT_UNLOADED();
	ASSERT_RELOADED_FRESH();
}

/*
 * Unloading while a controller holds the world stopped (a socket hold and
 * a leased one) is either refused, and then clean once the world runs, or
 * clean at once: never a VM left parked, never a thread left.
 */
TEST_F_TIMEOUT(module, unload_while_the_world_is_held_stopped, 120)
{
	struct stw_sock *s = self->s;
	struct stw_world w;
	uint32_t ids[3];
	size_t n;
	int err;

	if (self->no_ko)
		SKIP(return, "no %s to load stw again (set STW_KO)",
		     stw_ko_path());
	ASSERT_SPAWN(s, 1, 1, 1, 0, ids, &n);
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, stw_stop_leased(s, STW_T_STOP, 600000, 0, NULL, NULL));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(2U, w.holds);

	err = stw_module_unload();
	if (err) {
		ASSERT_TRUE(err == EBUSY || err == EAGAIN)
			TH_LOG("delete_module(stw): %s", strerror(err));
		TH_LOG("unload refused while stopped (%s); resuming first",
		       strerror(err));
		ASSERT_TRUE(stw_module_loaded());
		ASSERT_OK(s, stw_reset(s, STW_T_RESET));
		err = stw_module_unload();
		ASSERT_EQ(0, err) TH_LOG("delete_module(stw) once running: %s",
					 strerror(err));
	}
	stw_close(self->s);
	self->s = NULL;
	ASSERT_UNLOADED();
	ASSERT_RELOADED_FRESH();
}

/*
 * Unloading while another controller's STOP is still waiting (a VM that
 * never polls holds it up): the waiter gets an error, not a hang, and the
 * module goes (or is refused and goes once the waiter is gone).
 */
TEST_F_TIMEOUT(module, unload_while_a_stop_is_waiting, 120)
{
	struct stw_sock *s = self->s;
	int ready, child_err, status, err;
	uint32_t active, nopoll;
	size_t n;

	if (self->no_ko)
		SKIP(return, "no %s to load stw again (set STW_KO)",
		     stw_ko_path());
	ASSERT_SPAWN(s, 1, 0, 0, 0, &active, &n);
	ASSERT_SPAWN(s, 0, 0, 0, 1, &nopoll, &n);
	ASSERT_OK(s, stw_wait_vm_doing(s, nopoll, STW_VM_DOING_RUNNING,
				       STW_T_WAIT));
	ASSERT_EQ(0, pipe(self->pipe));

	self->child = stw_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		struct stw_sock *cs = stw_open();

		ready = cs ? 0 : errno;
		if (write(self->pipe[1], &ready, sizeof(ready)) < 0 || ready)
			_exit(1);
		child_err = stw_stop(cs, 60000, 0, NULL, NULL);
		if (write(self->pipe[1], &child_err, sizeof(child_err)) < 0)
			_exit(1);
		_exit(0);
	}
	close(self->pipe[1]);
	self->pipe[1] = -1;
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &ready, sizeof(ready),
				      STW_T_CHILD));
	ASSERT_EQ(0, ready);
	ASSERT_OK(s, stw_wait_mode(s, STW_STOPPING, STW_T_WAIT));

	stw_close(self->s);
	self->s = NULL;
	err = stw_module_unload();
	if (err) {
		ASSERT_TRUE(err == EBUSY || err == EAGAIN)
			TH_LOG("delete_module(stw): %s", strerror(err));
		TH_LOG("unload refused while a stop waits (%s); killing it",
		       strerror(err));
		kill(self->child, SIGKILL);
		ASSERT_EQ(0, stw_waitpid_timeout(self->child, &status,
						 STW_T_CHILD));
		self->child = 0;
		self->s = stw_open();
		ASSERT_TRUE(self->s != NULL);
		ASSERT_OK(self->s, stw_reset(self->s, STW_T_RESET));
		stw_close(self->s);
		self->s = NULL;
		err = stw_module_unload();
		ASSERT_EQ(0, err) TH_LOG("delete_module(stw): %s",
					 strerror(err));
	} else {
		/* The waiting STOP ended with an error, it did not hang. */
		ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &child_err,
					      sizeof(child_err), STW_T_CHILD));
		ASSERT_NE(0, child_err);
		TH_LOG("the waiting STOP ended with %s", strerror(child_err));
		ASSERT_EQ(0, stw_waitpid_timeout(self->child, &status,
						 STW_T_CHILD));
		self->child = 0;
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_UNLOADED();
	ASSERT_RELOADED_FRESH();
}

TEST_HARNESS_MAIN
