// SPDX-License-Identifier: GPL-2.0
/*
 * attach_test: threads that already exist, as VMs. A module's own
 * kthread_worker (attached) and its plain kthread (registered, its run loop
 * in stw_vm_wait_event()), in a world of their own
 * (selftests/modules/stw_attachmod.ko): both listed with their kind, both
 * stopped, stepped and resumed; a worker busy with a job that knows
 * nothing of stw is stopped when the job ends; a detach releases a parked
 * VM and leaves the stop standing; an owner that forgets to detach gets a
 * warning, and the stop goes on without its VM; unloading the owner while
 * its world is stopped takes everything along.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"
#include "testmod.h"

#define WORLD		"attach"
#define UNIT		100	/* the module's unit of work: its polls */

FIXTURE(attach) {
	struct stw_sock *s0;	/* the default world */
	struct stw_sock *s;	/* the module's world */
};

/* Both fixtures: a clean default world, a socket on the module's. */
static void open_worlds(struct __test_metadata *_metadata,
			 struct stw_sock **s0, struct stw_sock **s)
{
	STW_SETUP(*s0);
	ASSERT_EQ(0, mod_unload(ATTACHMOD));
	*s = stw_open();
	ASSERT_TRUE(*s != NULL);
	ASSERT_OK(*s, stw_set_world(*s, WORLD));
}

static void close_worlds(struct __test_metadata *_metadata,
			    struct stw_sock **s0, struct stw_sock *s)
{
	int err;

	if (s) {
		stw_resume(s, true, 0, NULL);
		stw_close(s);
	}
	err = mod_unload(ATTACHMOD);
	if (err)
		STW_TEARDOWN_FAIL("unloading stw_attachmod: %s", strerror(err));
	STW_TEARDOWN(*s0);
}

FIXTURE_SETUP(attach)
{
	open_worlds(_metadata, &self->s0, &self->s);
}

FIXTURE_TEARDOWN(attach)
{
	close_worlds(_metadata, &self->s0, self->s);
}

/* The module's VM of @kind in its world, with the world's state. */
static int find_kind(struct stw_sock *s, int kind, struct stw_vm *vm,
		     struct stw_world *w)
{
	struct stw_vm_list vms = {};
	size_t i;
	int err;

	err = stw_dump(s, w, &vms);
	if (err)
		return err;
	err = ENOENT;
	for (i = 0; i < vms.n; i++) {
		if (vms.vms[i].kind == kind) {
			*vm = vms.vms[i];
			err = 0;
		}
	}
	stw_vm_list_free(&vms);
	return err;
}

static bool every_vm_parked(const struct stw_vm *vms, size_t n, void *arg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vms[i].state != STW_VM_STOPPED ||
		    vms[i].doing != STW_VM_DOING_PARKED)
			return false;
	return true;
}

/* STOPPED, with @nr VMs, every one of them parked and counted. */
static void assert_stopped(struct __test_metadata *_metadata,
			   struct stw_sock *s, uint32_t nr)
{
	struct stw_world w;

	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode) TH_LOG("%s", stw_describe(s));
	ASSERT_EQ(nr, w.nr_vms);
	ASSERT_EQ(nr, w.active);
	ASSERT_EQ(nr, w.stopped);
	ASSERT_OK(s, stw_wait_vms(s, every_vm_parked, NULL, STW_T_WAIT));
	ASSERT_NO_VIOLATIONS(s);
}

TEST_F(attach, both_kinds_are_listed_with_their_kind)
{
	struct stw_vm worker, thread;
	struct stw_world w;

	ASSERT_EQ(0, load_module(ATTACHMOD_KO, "world=" WORLD " workers=1 threads=1"));
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
	ASSERT_OK(self->s, find_kind(self->s, STW_VM_KIND_WORKER, &worker, &w));
	ASSERT_OK(self->s, find_kind(self->s, STW_VM_KIND_KTHREAD, &thread, &w));
	ASSERT_EQ(2U, w.nr_vms);
	ASSERT_EQ(0, strncmp(worker.name, "aworker-", 8)) TH_LOG("%s", worker.name);
	ASSERT_EQ(0, strncmp(thread.name, "athread-", 8)) TH_LOG("%s", thread.name);
	ASSERT_STREQ("worker", stw_kind_name(worker.kind));
	ASSERT_STREQ("kthread", stw_kind_name(thread.kind));
	/* Their owner's threads, idle in their run loops. */
	ASSERT_NE(0U, worker.pid);
	ASSERT_NE(0U, thread.pid);
	ASSERT_NE(worker.pid, thread.pid);
	ASSERT_EQ(STW_VM_DOING_IDLE, thread.doing);
}

/*
 * Idle, both park through their run loops. Work given while stopped waits;
 * a step of one runs its work (and only its), then it parks again; the
 * resume lets the rest go.
 */
TEST_F(attach, an_idle_worker_and_kthread_stop_step_and_resume)
{
	struct stw_vm worker, thread, after;
	struct stw_world w;

	ASSERT_EQ(0, load_module(ATTACHMOD_KO, "world=" WORLD " workers=1 threads=1"));
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL, NULL));
	assert_stopped(_metadata, self->s, 2);
	ASSERT_OK(self->s, find_kind(self->s, STW_VM_KIND_WORKER, &worker, &w));
	ASSERT_OK(self->s, find_kind(self->s, STW_VM_KIND_KTHREAD, &thread, &w));

	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_worker"));
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_thread"));
	ASSERT_EQ(0, mod_get(ATTACHMOD, "worker_jobs"));
	ASSERT_EQ(0, mod_get(ATTACHMOD, "thread_jobs"));

	/* The kthread's step runs its unit: it is no longer idle. */
	ASSERT_OK(self->s, stw_run_one(self->s, thread.id, 10 * UNIT,
				       STW_T_STOP, &after));
	ASSERT_EQ(1, mod_get(ATTACHMOD, "thread_jobs"));
	ASSERT_EQ(0, mod_get(ATTACHMOD, "worker_jobs"));
	assert_stopped(_metadata, self->s, 2);

	/* The worker's step goes on into its queued job. */
	ASSERT_OK(self->s, stw_run_one(self->s, worker.id, 10 * UNIT,
				       STW_T_STOP, &after));
	ASSERT_EQ(1, mod_get(ATTACHMOD, "worker_jobs"));
	ASSERT_EQ(1, mod_get(ATTACHMOD, "thread_jobs"));
	assert_stopped(_metadata, self->s, 2);

	/* A step's budget ends it in the middle of a unit. */
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_thread"));
	ASSERT_OK(self->s, stw_run_one(self->s, thread.id, UNIT / 2,
				       STW_T_STOP, &after));
	ASSERT_EQ(1, mod_get(ATTACHMOD, "thread_jobs"));
	assert_stopped(_metadata, self->s, 2);

	ASSERT_OK(self->s, stw_resume(self->s, false, 0, NULL));
	ASSERT_EQ(2, mod_wait_at_least(ATTACHMOD, "thread_jobs", 2, STW_T_WAIT));
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_worker"));
	ASSERT_EQ(2, mod_wait_at_least(ATTACHMOD, "worker_jobs", 2, STW_T_WAIT));
	ASSERT_OK(self->s, stw_wait_mode(self->s, STW_RUN_ALL, STW_T_WAIT));
}

/*
 * A job that knows nothing of stw: the worker is stopped when it ends, not
 * before. Meanwhile a stop times out naming it, idle with its stop work
 * queued behind the job.
 */
TEST_F(attach, a_worker_busy_with_a_foreign_job_stops_when_it_ends)
{
	struct stw_vm_list lag = {};

	ASSERT_EQ(0, load_module(ATTACHMOD_KO, "world=" WORLD " workers=1 threads=0"));
	ASSERT_EQ(0, mod_action(ATTACHMOD, "block_worker"));
	ASSERT_EQ(1, mod_wait_at_least(ATTACHMOD, "worker_blocked", 1, STW_T_WAIT));
	ASSERT_ERRNO(self->s, ETIMEDOUT, stw_stop(self->s, 500, 0, NULL, &lag));
	ASSERT_EQ(1U, lag.n);
	ASSERT_EQ(STW_VM_KIND_WORKER, lag.vms[0].kind);
	ASSERT_EQ(STW_VM_DOING_IDLE_DISPATCHED, lag.vms[0].doing)
		TH_LOG("doing %s", stw_doing_name(lag.vms[0].doing));
	stw_vm_list_free(&lag);
	ASSERT_OK(self->s, stw_wait_mode(self->s, STW_RUN_ALL, STW_T_WAIT));

	ASSERT_EQ(0, mod_action(ATTACHMOD, "unblock_worker"));
	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL, NULL));
	assert_stopped(_metadata, self->s, 1);
}

/*
 * Detaching a parked VM releases it and takes it out of the count: the
 * world stays STOPPED with the others, and nothing of stw's is left on the
 * owner's worker.
 */
TEST_F(attach, a_detach_releases_a_parked_vm_and_the_stop_stands)
{
	ASSERT_EQ(0, load_module(ATTACHMOD_KO, "world=" WORLD " workers=1 threads=1"));
	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL, NULL));
	assert_stopped(_metadata, self->s, 2);
	ASSERT_EQ(0, mod_action(ATTACHMOD, "detach_worker"));
	ASSERT_EQ(0, mod_get(ATTACHMOD, "left"));
	assert_stopped(_metadata, self->s, 1);
	ASSERT_EQ(0, mod_action(ATTACHMOD, "detach_thread"));
	assert_stopped(_metadata, self->s, 0);
	ASSERT_OK(self->s, stw_resume(self->s, false, 0, NULL));
}

/*
 * A forgotten detach: the owner's thread is gone while its VM is attached.
 * The next stop says so (a warning naming the VM, which the guest's runner
 * expects for VMs named "forgetful") and completes without it.
 */
FIXTURE(attach_forgotten) {
	struct stw_sock *s0;
	struct stw_sock *s;
};

FIXTURE_VARIANT(attach_forgotten) {
	const char *params;
	const char *forget;	/* the owner's mistake */
	const char *late;	/* its late detach, which frees the VM */
};

FIXTURE_VARIANT_ADD(attach_forgotten, worker) {
	.params = "world=" WORLD " forget=1 workers=1 threads=0",
	.forget = "forget_worker",
	.late = "detach_worker",
};

FIXTURE_VARIANT_ADD(attach_forgotten, kthread) {
	.params = "world=" WORLD " forget=1 workers=0 threads=1",
	.forget = "forget_thread",
	.late = "detach_thread",
};

FIXTURE_SETUP(attach_forgotten)
{
	open_worlds(_metadata, &self->s0, &self->s);
}

FIXTURE_TEARDOWN(attach_forgotten)
{
	close_worlds(_metadata, &self->s0, self->s);
}

/* Until /proc has no PID: the thread exited. */
static bool thread_gone(pid_t pid, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	while (!access(path, F_OK) && stw_now_ms() < deadline)
		usleep(2000);
	return access(path, F_OK) != 0;
}

TEST_F(attach_forgotten, is_reported_and_the_stop_goes_on_without_it)
{
	struct stw_vm_list vms = {};
	struct stw_world w;
	char who[64];
	int kmsg;

	ASSERT_EQ(0, load_module(ATTACHMOD_KO, variant->params));
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
	ASSERT_OK(self->s, stw_dump(self->s, &w, &vms));
	ASSERT_EQ(1U, vms.n);
	snprintf(who, sizeof(who), "stw: VM %s of world " WORLD ":",
		 vms.vms[0].name);
	kmsg = stw_kmsg_open();
	ASSERT_LE(0, kmsg);

	ASSERT_EQ(0, mod_action(ATTACHMOD, variant->forget));
	ASSERT_TRUE(thread_gone(vms.vms[0].pid, STW_T_WAIT))
		TH_LOG("thread %u did not exit", vms.vms[0].pid);
	stw_vm_list_free(&vms);

	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL, NULL));
	assert_stopped(_metadata, self->s, 0);
	ASSERT_TRUE(stw_kmsg_has(kmsg, who, "stw_vm_detach() must come first"))
		TH_LOG("no \"%s ...\" warning in the kernel log", who);
	close(kmsg);
	ASSERT_EQ(0, mod_action(ATTACHMOD, variant->late));
	ASSERT_OK(self->s, stw_resume(self->s, false, 0, NULL));
}

/*
 * The owner goes while its world is stopped, its VMs parked with work
 * given: unloading detaches them, the world goes, and nothing is left.
 */
TEST_F(attach, unloading_the_owner_while_stopped_takes_its_world_along)
{
	struct stw_world_list l = {};

	ASSERT_EQ(0, load_module(ATTACHMOD_KO, "world=" WORLD " workers=2 threads=2"));
	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, NULL, NULL));
	assert_stopped(_metadata, self->s, 4);
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_worker"));
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_thread"));
	ASSERT_EQ(0, mod_unload(ATTACHMOD));
	ASSERT_OK(self->s0, stw_worlds(self->s0, &l));
	ASSERT_TRUE(stw_world_find(&l, WORLD) == NULL)
		TH_LOG("world " WORLD " outlived its module");
	stw_world_list_free(&l);
	ASSERT_EQ(0, stw_wait_no_threads("attachmod", STW_T_WAIT));
}

TEST_HARNESS_MAIN
