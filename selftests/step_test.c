// SPDX-License-Identifier: GPL-2.0
/*
 * step_test: RUN_ONE, a debugger's "step": from a stopped world exactly one
 * VM runs a few polls and parks again; nobody else moves.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define NR_VMS		4	/* 3 active + 1 idle */
#define STEP_POLLS	10

FIXTURE(step) {
	struct stw_sock *s;
	struct stw_sock *ev;
	uint32_t ids[NR_VMS];
	size_t n;
	uint32_t active;	/* the step target: an active VM */
	uint32_t idle;
};

FIXTURE_SETUP(step)
{
	struct stw_vm *vms;
	size_t n, i;

	STW_SETUP(self->s);
	ASSERT_SPAWN(self->s, 3, 1, 0, 0, self->ids, &self->n);
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
	ASSERT_OK(self->s, stw_vms(self->s, &vms, &n));
	for (i = 0; i < n; i++) {
		if (vms[i].kind == STW_VM_KIND_ACTIVE && !self->active)
			self->active = vms[i].id;
		if (vms[i].kind == STW_VM_KIND_IDLE)
			self->idle = vms[i].id;
	}
	free(vms);
	ASSERT_NE(0U, self->active);
	ASSERT_NE(0U, self->idle);
	/* The active VM is really running jobs before the world stops. */
	ASSERT_OK(self->s, stw_wait_vm_polls(self->s, self->active, 1,
					     STW_T_WAIT));
}

FIXTURE_TEARDOWN(step)
{
	stw_close(self->ev);
	self->ev = NULL;
	STW_TEARDOWN(self->s);
}

/* A fresh dump of exactly the fixture's VMs, in @vms (NR_VMS). */
static int snapshot(struct stw_sock *s, const uint32_t *ids,
		    struct stw_vm *out)
{
	const struct stw_vm *vm;
	struct stw_vm *vms;
	size_t n, i;
	int err;

	err = stw_vms(s, &vms, &n);
	if (err)
		return err;
	err = n == NR_VMS ? 0 : EBADMSG;
	for (i = 0; !err && i < NR_VMS; i++) {
		vm = stw_vm_find(vms, n, ids[i]);
		if (!vm)
			err = ENOENT;
		else
			out[i] = *vm;
	}
	free(vms);
	return err;
}

/*
 * Stop, then step one active VM 20 times by 10 polls: after each step the
 * world is STOPPED again in the same generation, the target made 1..10
 * polls and parked, and no other VM made a poll or finished a job.
 */
TEST_F_TIMEOUT(step, step_runs_only_the_target, 120)
{
	struct stw_vm prev[NR_VMS], cur[NR_VMS], target;
	unsigned int step, steps = stw_scaled(20);
	struct stw_sock *s = self->s;
	struct stw_cycle c, rc;
	struct stw_world w;
	size_t i;

	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	ASSERT_OK(s, snapshot(s, self->ids, prev));

	for (step = 0; step < steps; step++) {
		STW_CTX("step %u", step);
		ASSERT_OK(s, stw_run_one(s, self->active, STEP_POLLS,
					 STW_T_STOP, &target));
		ASSERT_EQ(self->active, target.id);
		ASSERT_EQ(STW_VM_STOPPED, target.state);

		ASSERT_OK(s, stw_status(s, &w));
		ASSERT_EQ(STW_STOPPED, w.mode);
		ASSERT_FALSE(w.has_step_vm);
		ASSERT_EQ(c.generation, w.generation);
		ASSERT_EQ(1U, w.holds);

		ASSERT_OK(s, snapshot(s, self->ids, cur));
		for (i = 0; i < NR_VMS; i++) {
			ASSERT_EQ(STW_VM_STOPPED, cur[i].state)
				TH_LOG("%s%s", stw_ctx, stw_describe(s));
			ASSERT_GE(cur[i].polls, prev[i].polls);
			ASSERT_GE(cur[i].jobs, prev[i].jobs);
			if (cur[i].id != self->active) {
				/* Nobody else moved. */
				ASSERT_EQ(prev[i].polls, cur[i].polls)
					TH_LOG("%s%s polls moved during a step of %u",
					       stw_ctx, cur[i].name, self->active);
				ASSERT_EQ(prev[i].jobs, cur[i].jobs)
					TH_LOG("%s%s jobs moved during a step of %u",
					       stw_ctx, cur[i].name, self->active);
				continue;
			}
			ASSERT_GE(cur[i].polls, prev[i].polls + 1)
				TH_LOG("%sthe step made no poll (jobs %llu -> %llu)",
				       stw_ctx,
				       (unsigned long long)prev[i].jobs,
				       (unsigned long long)cur[i].jobs);
			ASSERT_LE(cur[i].polls, prev[i].polls + STEP_POLLS)
				TH_LOG("%sthe step made %llu polls, at most %d asked",
				       stw_ctx,
				       (unsigned long long)(cur[i].polls -
							    prev[i].polls),
				       STEP_POLLS);
		}
		memcpy(prev, cur, sizeof(prev));
	}

	/* Resume: every VM runs again, the active ones make progress. */
	ASSERT_OK(s, stw_resume_ex(s, false, 0, NULL, &rc));
	ASSERT_EQ(c.generation, rc.generation);
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	for (i = 0; i < NR_VMS; i++)
		if (prev[i].kind == STW_VM_KIND_ACTIVE)
			ASSERT_OK(s, stw_wait_vm_polls(s, prev[i].id,
						       prev[i].polls + 1,
						       STW_T_WAIT));
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * An idle VM has nothing to run: its step ends at once, the world is
 * STOPPED again and no VM made a poll or finished a job.
 */
TEST_F(step, step_of_an_idle_vm_ends_at_once)
{
	struct stw_vm prev[NR_VMS], cur[NR_VMS], target;
	struct stw_sock *s = self->s;
	struct stw_world w;
	size_t i;

	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, snapshot(s, self->ids, prev));
	ASSERT_OK(s, stw_run_one(s, self->idle, STEP_POLLS, STW_T_STOP,
				 &target));
	ASSERT_EQ(self->idle, target.id);
	ASSERT_EQ(STW_VM_STOPPED, target.state);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_OK(s, snapshot(s, self->ids, cur));
	for (i = 0; i < NR_VMS; i++) {
		STW_CTX("%s", cur[i].name);
		ASSERT_EQ(STW_VM_STOPPED, cur[i].state);
		ASSERT_EQ(prev[i].polls, cur[i].polls);
		ASSERT_EQ(prev[i].jobs, cur[i].jobs);
	}
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
}

/* A step needs a stopped world: in RUN_ALL it is refused, with a reason. */
TEST_F(step, step_of_a_running_world_is_ebusy)
{
	struct stw_sock *s = self->s;
	struct stw_world w;

	ASSERT_REJECTED(s, stw_run_one(s, self->active, STEP_POLLS,
				       STW_T_STOP, NULL), EBUSY, EBUSY);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_EQ(0U, w.holds);
}

/* The end of a step is announced like a stop, naming the stepped VM. */
TEST_F(step, step_end_is_announced)
{
	struct stw_sock *s = self->s;
	struct stw_event e;
	struct stw_cycle c;

	self->ev = stw_open_events();
	ASSERT_TRUE(self->ev != NULL)
		TH_LOG("cannot join the events group: %s", strerror(errno));
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	/* The stop's own announcement comes first, without a step VM. */
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_STOPPED_NTF, STW_T_WAIT,
				    &e));
	ASSERT_FALSE(e.has_step_vm);
	stw_event_free(&e);

	ASSERT_OK(s, stw_run_one(s, self->active, STEP_POLLS, STW_T_STOP,
				 NULL));
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_STOPPED_NTF, STW_T_WAIT,
				    &e));
	ASSERT_TRUE(e.has_step_vm);
	ASSERT_EQ(self->active, e.step_vm);
	ASSERT_TRUE(e.cycle.present);
	ASSERT_EQ(c.generation, e.cycle.generation);
	stw_event_free(&e);
}

TEST_HARNESS_MAIN
