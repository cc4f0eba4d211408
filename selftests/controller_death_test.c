// SPDX-License-Identifier: GPL-2.0
/*
 * controller_death_test: a controller that stops the world and dies must
 * not leave the VMs frozen (Documentation/design.md, race 8). A hold bound to its netlink
 * socket goes with the socket; a detached hold goes when its lease ends.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define LEASE_MS	1000

/* What a controller child tells the test through a pipe. */
struct report {
	int err;
	uint32_t hold_id;
	uint64_t generation;
};

FIXTURE(death) {
	struct stw_sock *s;
	struct stw_sock *ev;	/* the events, for tests that listen */
	uint32_t ids[3];
	size_t n;
	pid_t child;
	int pipe[2];
};

FIXTURE_SETUP(death)
{
	self->pipe[0] = self->pipe[1] = -1;
	STW_SETUP(self->s);
	ASSERT_SPAWN(self->s, 1, 1, 0, 0, self->ids, &self->n);
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
	ASSERT_EQ(0, pipe(self->pipe));
}

FIXTURE_TEARDOWN(death)
{
	int status;

	stw_close(self->ev);
	self->ev = NULL;
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &status, 0);
	}
	if (self->pipe[0] >= 0)
		close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
	STW_TEARDOWN(self->s);
}

static void send_report(int fd, int err, const struct stw_cycle *c)
{
	struct report r = {
		.err = err,
		.hold_id = c ? c->hold_id : 0,
		.generation = c ? c->generation : 0,
	};

	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

/*
 * A controller in its own process, with its own socket: stop the world
 * (@lease_ms 0: a hold bound to the socket), report, then stay (@stay) or
 * exit. @ready: report once before the STOP too.
 */
static void controller(int fd, uint32_t timeout_ms, uint32_t lease_ms,
		       bool ready, bool stay)
{
	struct stw_sock *cs = stw_open();
	struct stw_cycle c;
	int err;

	if (!cs) {
		send_report(fd, errno ? errno : EIO, NULL);
		_exit(1);
	}
	if (ready)
		send_report(fd, 0, NULL);
	if (lease_ms)
		err = stw_stop_leased(cs, timeout_ms, lease_ms, 0, &c, NULL);
	else
		err = stw_stop(cs, timeout_ms, 0, &c, NULL);
	send_report(fd, err, err ? NULL : &c);
	if (err)
		_exit(2);
	if (!stay)
		_exit(0);	/* the socket closes with the process */
	for (;;)
		pause();
}

static pid_t start_controller(int *fds, uint32_t timeout_ms,
			      uint32_t lease_ms, bool ready, bool stay)
{
	pid_t pid = stw_fork();

	if (pid == 0) {
		close(fds[0]);
		controller(fds[1], timeout_ms, lease_ms, ready, stay);
	}
	if (pid > 0) {
		close(fds[1]);
		fds[1] = -1;
	}
	return pid;
}

/* A controller holding the world stopped is killed: the world resumes. */
TEST_F(death, socket_hold_goes_with_its_dead_controller)
{
	struct stw_sock *s = self->s;
	struct stw_world w;
	struct report r;
	int status;

	self->child = start_controller(self->pipe, STW_T_STOP, 0, false,
				       true);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &r, sizeof(r),
				      STW_T_CHILD));
	ASSERT_EQ(0, r.err) TH_LOG("the child's STOP: %s", strerror(r.err));

	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(1U, w.holds);
	ASSERT_EQ(r.generation, w.generation);

	ASSERT_EQ(0, kill(self->child, SIGKILL));
	ASSERT_EQ(0, stw_waitpid_timeout(self->child, &status, STW_T_CHILD));
	self->child = 0;
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, 5000));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(0U, w.holds);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * A controller whose STOP is still waiting (a VM that never polls holds it
 * up) is killed: its pending hold goes too and the world runs again.
 */
TEST_F(death, pending_stop_goes_with_its_dead_controller)
{
	struct stw_sock *s = self->s;
	uint32_t nopoll;
	struct stw_world w;
	struct report r;
	size_t n;
	int status;

	ASSERT_SPAWN(s, 0, 0, 0, 1, &nopoll, &n);
	ASSERT_OK(s, stw_wait_vm_doing(s, nopoll, STW_VM_DOING_RUNNING,
				       STW_T_WAIT));

	self->child = start_controller(self->pipe, 60000, 0, true, true);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &r, sizeof(r),
				      STW_T_CHILD));
	ASSERT_EQ(0, r.err) TH_LOG("the child's socket: %s", strerror(r.err));

	/* Its STOP has begun and cannot complete. */
	ASSERT_OK(s, stw_wait_mode(s, STW_STOPPING, STW_T_WAIT));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(1U, w.holds);

	ASSERT_EQ(0, kill(self->child, SIGKILL));
	ASSERT_EQ(0, stw_waitpid_timeout(self->child, &status, STW_T_CHILD));
	self->child = 0;
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* It never got an answer: the pipe ends without a second report. */
	ASSERT_EQ(EPIPE, stw_read_timeout(self->pipe[0], &r, sizeof(r),
					  STW_T_CHILD));

	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, 5000));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(0U, w.holds);
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * A detached (leased) hold outlives its owner: the world stays stopped
 * after the owner exits, and resumes when the lease runs out.
 */
TEST_F(death, leased_hold_outlives_its_owner_until_the_lease_ends)
{
	struct stw_sock *s = self->s;
	struct stw_event e;
	struct stw_world w;
	struct report r;
	int status;

	self->ev = stw_open_events();
	ASSERT_TRUE(self->ev != NULL)
		TH_LOG("cannot join the events group: %s", strerror(errno));
	self->child = start_controller(self->pipe, STW_T_STOP, LEASE_MS,
				       false, false);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &r, sizeof(r),
				      STW_T_CHILD));
	ASSERT_EQ(0, r.err) TH_LOG("the child's STOP: %s", strerror(r.err));
	ASSERT_NE(0U, r.hold_id);
	ASSERT_EQ(0, stw_waitpid_timeout(self->child, &status, STW_T_CHILD));
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The owner and its socket are gone; the hold is not. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode)
		TH_LOG("the world did not stay stopped: %s", stw_describe(s));
	ASSERT_EQ(1U, w.holds);
	ASSERT_EQ(r.generation, w.generation);

	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, 5000));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(0U, w.holds);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_NO_VIOLATIONS(s);

	/* Listeners were told whose lease ran out. */
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_LEASE_EXPIRED_NTF,
				    STW_T_WAIT, &e));
	ASSERT_TRUE(e.has_hold_id);
	ASSERT_EQ(r.hold_id, e.hold_id);
	stw_event_free(&e);
}

/*
 * A plain RESUME (no hold id, no force) from another controller releases
 * detached holds, whoever took them.
 */
TEST_F(death, plain_resume_releases_a_dead_owners_leased_hold)
{
	struct stw_sock *s = self->s;
	struct stw_world w;
	struct report r;
	bool resumed;
	int status;

	self->child = start_controller(self->pipe, STW_T_STOP, 600000, false,
				       false);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, stw_read_timeout(self->pipe[0], &r, sizeof(r),
				      STW_T_CHILD));
	ASSERT_EQ(0, r.err) TH_LOG("the child's STOP: %s", strerror(r.err));
	ASSERT_EQ(0, stw_waitpid_timeout(self->child, &status, STW_T_CHILD));
	self->child = 0;

	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
	ASSERT_TRUE(resumed);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_EQ(0U, w.holds);
}

TEST_HARNESS_MAIN
