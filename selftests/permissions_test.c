// SPDX-License-Identifier: GPL-2.0
/*
 * permissions_test: only CAP_NET_ADMIN may stop, resume, step, spawn, kill
 * or give work. An unprivileged user (uid 65534) gets EPERM for each and
 * changes nothing, but may still read STATUS.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stw_test.h"

/* What the unprivileged child got, in shared memory. */
struct attempts {
	uint32_t active, idle;	/* in: root's VMs */
	uint32_t hold_id;	/* in: root's hold, when stopped */
	int open_err;
	int stop, stop_leased, resume, resume_force, resume_hold;
	int run_one, spawn, kill, kill_all, queue_job;
	int status, dump;
	size_t dump_n;
};

FIXTURE(perm) {
	struct stw_sock *s;
	struct attempts *a;
	uint32_t ids[2];
	size_t n;
};

FIXTURE_SETUP(perm)
{
	STW_SETUP(self->s);
	self->a = stw_shared_alloc(sizeof(*self->a));
	ASSERT_TRUE(self->a != NULL);
	ASSERT_SPAWN(self->s, 1, 0, 0, 0, &self->ids[0], &self->n);
	ASSERT_SPAWN(self->s, 0, 1, 0, 0, &self->ids[1], &self->n);
	self->a->active = self->ids[0];
	self->a->idle = self->ids[1];
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
}

FIXTURE_TEARDOWN(perm)
{
	stw_shared_free(self->a, sizeof(*self->a));
	STW_TEARDOWN(self->s);
}

/* Runs as uid 65534: try everything once. */
static int try_everything(void *arg)
{
	struct attempts *a = arg;
	struct stw_sock *s = stw_open();
	struct stw_world w;
	struct stw_vm *vms;

	if (!s) {
		a->open_err = errno ? errno : EIO;
		return 1;
	}
	a->stop = stw_stop(s, 1000, 0, NULL, NULL);
	a->stop_leased = stw_stop_leased(s, 1000, 60000, 0, NULL, NULL);
	a->resume = stw_resume(s, false, 0, NULL);
	a->resume_force = stw_resume(s, true, 0, NULL);
	a->resume_hold = stw_resume(s, false, a->hold_id ? a->hold_id : 1,
				    NULL);
	a->run_one = stw_run_one(s, a->active, 10, 1000, NULL);
	a->spawn = stw_spawn(s, 1, 1, 0, 0, NULL, NULL);
	a->kill = stw_kill(s, &a->active, 1);
	a->kill_all = stw_kill_all(s, NULL);
	a->queue_job = stw_queue_job(s, a->idle, 1, 100);
	a->status = stw_status(s, &w);
	a->dump = stw_vms(s, &vms, &a->dump_n);
	if (!a->dump)
		free(vms);
	stw_close(s);
	return 0;
}

#define ASSERT_EPERM(field) \
	ASSERT_EQ(EPERM, self->a->field) \
		TH_LOG(#field " as nobody: %s, want EPERM", \
		       strerror(self->a->field))

#define ASSERT_ALL_REFUSED() do { \
	ASSERT_EQ(0, stw_as_user(STW_NOBODY, STW_NOBODY, try_everything, \
				 self->a)); \
	ASSERT_EQ(0, self->a->open_err) \
		TH_LOG("resolving stw as nobody: %s", \
		       strerror(self->a->open_err)); \
	ASSERT_EPERM(stop); \
	ASSERT_EPERM(stop_leased); \
	ASSERT_EPERM(resume); \
	ASSERT_EPERM(resume_force); \
	ASSERT_EPERM(resume_hold); \
	ASSERT_EPERM(run_one); \
	ASSERT_EPERM(spawn); \
	ASSERT_EPERM(kill); \
	ASSERT_EPERM(kill_all); \
	ASSERT_EPERM(queue_job); \
	ASSERT_EQ(0, self->a->status) \
		TH_LOG("STATUS as nobody: %s", strerror(self->a->status)); \
	ASSERT_EQ(0, self->a->dump) \
		TH_LOG("STATUS dump as nobody: %s", strerror(self->a->dump)); \
	ASSERT_EQ((size_t)2, self->a->dump_n); \
} while (0)

/* Both VMs still there, in @state. */
static bool both_vms(struct stw_sock *s, const uint32_t *ids, int state)
{
	const struct stw_vm *a, *b;
	struct stw_vm *vms;
	size_t n;
	bool ok;

	if (stw_vms(s, &vms, &n))
		return false;
	a = stw_vm_find(vms, n, ids[0]);
	b = stw_vm_find(vms, n, ids[1]);
	ok = n == 2 && a && b && a->state == state && b->state == state;
	free(vms);
	return ok;
}

TEST_F(perm, unprivileged_user_cannot_touch_a_running_world)
{
	struct stw_sock *s = self->s;
	struct stw_world w0, w;
	struct stw_vm *vms;
	uint64_t idle_jobs;
	size_t n;

	ASSERT_OK(s, stw_status(s, &w0));
	ASSERT_ALL_REFUSED();

	/* Nothing happened: no stop, no hold, no VM born or killed. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_EQ(w0.generation, w.generation);
	ASSERT_EQ(0U, w.holds);
	ASSERT_EQ(2U, w.nr_vms);
	ASSERT_TRUE(both_vms(s, self->ids, STW_VM_RUNNING))
		TH_LOG("%s", stw_describe(s));
	/* No job was queued on the idle VM. */
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	idle_jobs = stw_vm_find(vms, n, self->ids[1]) ?
		    stw_vm_find(vms, n, self->ids[1])->jobs : ~0ULL;
	free(vms);
	ASSERT_EQ(0ULL, (unsigned long long)idle_jobs);
}

TEST_F(perm, unprivileged_user_cannot_resume_or_step_a_stopped_world)
{
	struct stw_sock *s = self->s;
	struct stw_vm *vms;
	struct stw_world w;
	struct stw_cycle c;
	uint64_t polls;
	size_t n;

	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	self->a->hold_id = c.hold_id;
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	polls = stw_vm_find(vms, n, self->ids[0]) ?
		stw_vm_find(vms, n, self->ids[0])->polls : ~0ULL;
	free(vms);

	ASSERT_ALL_REFUSED();

	/* Still stopped by root's hold alone; the active VM did not step. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(c.generation, w.generation);
	ASSERT_EQ(1U, w.holds);
	ASSERT_TRUE(both_vms(s, self->ids, STW_VM_STOPPED))
		TH_LOG("%s", stw_describe(s));
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	ASSERT_TRUE(stw_vm_find(vms, n, self->ids[0]) != NULL);
	ASSERT_EQ(polls, stw_vm_find(vms, n, self->ids[0])->polls);
	free(vms);
	ASSERT_OK(s, stw_resume(s, false, c.hold_id, NULL));
}

TEST_HARNESS_MAIN
