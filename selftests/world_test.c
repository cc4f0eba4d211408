// SPDX-License-Identifier: GPL-2.0
/*
 * world_test: the stop/resume scenarios of JavaScriptCore's debugger tests
 * (VMManager), re-made for kernel-thread VMs. Each test spawns the VMs it
 * needs; the teardown force-resumes and kills them all.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define MAX_IDS	16

FIXTURE(world) {
	struct stw_sock *s;
	struct stw_sock *ev;
	uint32_t ids[MAX_IDS];
	size_t n;
};

FIXTURE_SETUP(world)
{
	STW_SETUP(self->s);
}

FIXTURE_TEARDOWN(world)
{
	stw_close(self->ev);
	self->ev = NULL;
	STW_TEARDOWN(self->s);
}

/* The state of VM @id in a fresh dump, -1 if it is not there. */
static int vm_state(struct stw_sock *s, uint32_t id, struct stw_vm *out)
{
	const struct stw_vm *vm;
	struct stw_vm *vms;
	size_t n;
	int state = -1;

	if (stw_vms(s, &vms, &n))
		return -1;
	vm = stw_vm_find(vms, n, id);
	if (vm) {
		state = vm->state;
		if (out)
			*out = *vm;
	}
	free(vms);
	return state;
}

/* How many VMs of a fresh dump are not in @state; -1 if the dump failed. */
static int vms_not_in_state(struct stw_sock *s, int state, size_t *nr)
{
	struct stw_vm *vms;
	size_t n, i;
	int bad = 0;

	if (stw_vms(s, &vms, &n))
		return -1;
	for (i = 0; i < n; i++)
		if (vms[i].state != state)
			bad++;
	free(vms);
	if (nr)
		*nr = n;
	return bad;
}

/*
 * (1) One active VM, stopped and resumed 1000 times: every STOP succeeds,
 * starts a new cycle whose generation is the previous one plus one, and
 * leaves the VM parked.
 */
TEST_F_TIMEOUT(world, one_active_vm_stops_and_resumes_1000_times, 300)
{
	unsigned int i, cycles = stw_scaled(1000);
	struct stw_sock *s = self->s;
	struct stw_cycle c;
	struct stw_world w;
	uint64_t gen;
	bool resumed;

	ASSERT_SPAWN(s, 1, 0, 0, 0, self->ids, &self->n);
	ASSERT_OK(s, stw_status(s, &w));
	gen = w.generation;

	for (i = 0; i < cycles; i++) {
		STW_CTX("cycle %u", i);
		ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
		ASSERT_EQ(gen + 1, c.generation);
		ASSERT_TRUE(c.has_tts);
		ASSERT_FALSE(c.joined);
		ASSERT_NE(0U, c.hold_id);
		gen = c.generation;
		ASSERT_EQ(STW_VM_STOPPED, vm_state(s, self->ids[0], NULL))
			TH_LOG("%s", stw_describe(s));
		ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
		ASSERT_TRUE(resumed);
	}
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * (2) An idle VM polls nothing: it stops through the stop work dispatched
 * onto its run loop. A job queued while the world is stopped must not run
 * until the world resumes.
 */
TEST_F(world, idle_vm_stops_through_dispatch_and_runs_no_job_while_stopped)
{
	struct stw_sock *s = self->s;
	struct stw_cycle c;
	struct stw_world w;
	struct stw_vm vm;
	uint32_t id;
	bool resumed;

	ASSERT_SPAWN(s, 0, 1, 0, 0, self->ids, &self->n);
	id = self->ids[0];
	ASSERT_OK(s, stw_wait_vm_state(s, id, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(s, stw_wait_vm_doing(s, id, STW_VM_DOING_IDLE, STW_T_WAIT));

	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	ASSERT_EQ(STW_VM_STOPPED, vm_state(s, id, &vm));
	ASSERT_EQ(STW_VM_DOING_PARKED, vm.doing);
	ASSERT_EQ(1ULL, (unsigned long long)vm.stops);
	ASSERT_EQ(0ULL, (unsigned long long)vm.jobs);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(1U, w.active);
	ASSERT_EQ(1U, w.stopped);

	ASSERT_OK(s, stw_queue_job(s, id, 1, 100));
	/* The job must not run while stopped: JOBS stays 0 for a while. */
	ASSERT_EQ(ETIMEDOUT, stw_wait_vm_jobs(s, id, 1, 100))
		TH_LOG("a job ran in a stopped world: %s", stw_describe(s));
	ASSERT_EQ(STW_VM_STOPPED, vm_state(s, id, &vm));
	ASSERT_EQ(0ULL, (unsigned long long)vm.jobs);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);

	ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
	ASSERT_TRUE(resumed);
	ASSERT_OK(s, stw_wait_vm_jobs(s, id, 1, STW_T_WAIT));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_EQ(c.generation, w.generation);
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * (3) Stop, resume, then give the VM work: its entry after the resume
 * must not find a stale stop (race 3 and 5): the job runs and the world
 * stays RUN_ALL, in the same generation.
 */
TEST_F(world, job_after_stop_and_resume_runs_and_world_stays_running)
{
	unsigned int i, rounds = stw_scaled(20);
	struct stw_sock *s = self->s;
	struct stw_world w, after;
	struct stw_vm vm;
	uint32_t id;
	bool resumed;

	ASSERT_SPAWN(s, 0, 1, 0, 0, self->ids, &self->n);
	id = self->ids[0];
	ASSERT_OK(s, stw_wait_vm_state(s, id, STW_VM_RUNNING, STW_T_WAIT));

	for (i = 0; i < rounds; i++) {
		STW_CTX("round %u", i);
		ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
		ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
		ASSERT_TRUE(resumed);
		ASSERT_OK(s, stw_status(s, &w));
		ASSERT_EQ(STW_RUN_ALL, w.mode);
		ASSERT_NE(-1, vm_state(s, id, &vm));

		ASSERT_OK(s, stw_queue_job(s, id, 1, 100));
		ASSERT_OK(s, stw_wait_vm_jobs(s, id, vm.jobs + 1, STW_T_WAIT));

		ASSERT_OK(s, stw_status(s, &after));
		ASSERT_EQ(STW_RUN_ALL, after.mode);
		ASSERT_EQ(w.generation, after.generation);
		ASSERT_EQ(w.cycles, after.cycles);
		ASSERT_EQ(0U, after.holds);
		ASSERT_EQ(0U, after.active);
		ASSERT_EQ(0U, after.stopped);
		ASSERT_EQ(STW_VM_RUNNING, vm_state(s, id, NULL));
	}
	ASSERT_NO_VIOLATIONS(s);
}

/* (4) Only idle VMs: every stop goes through dispatch, 200 times. */
TEST_F_TIMEOUT(world, eight_idle_vms_stop_200_times, 180)
{
	unsigned int i, cycles = stw_scaled(200);
	struct stw_sock *s = self->s;
	struct stw_world w;
	bool resumed;
	size_t nr;

	ASSERT_SPAWN(s, 0, 8, 0, 0, self->ids, &self->n);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));

	for (i = 0; i < cycles; i++) {
		STW_CTX("cycle %u", i);
		ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
		ASSERT_EQ(0, vms_not_in_state(s, STW_VM_STOPPED, &nr))
			TH_LOG("%s%s", stw_ctx, stw_describe(s));
		ASSERT_EQ(8U, nr);
		ASSERT_OK(s, stw_status(s, &w));
		ASSERT_EQ(STW_STOPPED, w.mode);
		ASSERT_EQ(8U, w.active);
		ASSERT_EQ(8U, w.stopped);
		ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
		ASSERT_TRUE(resumed);
	}
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * (5) Idle and active VMs together, 1000 cycles: when a STOP returns every
 * VM says it is stopped and the world counts them all (I3); after each
 * RESUME every VM runs again; no invariant is ever violated.
 */
TEST_F_TIMEOUT(world, idle_and_active_vms_stop_1000_times, 400)
{
	unsigned int i, cycles = stw_scaled(1000);
	struct stw_sock *s = self->s;
	struct stw_world w;
	bool resumed;
	size_t nr;

	ASSERT_SPAWN(s, 3, 2, 0, 0, self->ids, &self->n);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));

	for (i = 0; i < cycles; i++) {
		STW_CTX("cycle %u", i);
		ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
		ASSERT_EQ(0, vms_not_in_state(s, STW_VM_STOPPED, &nr))
			TH_LOG("%s%s", stw_ctx, stw_describe(s));
		ASSERT_EQ(5U, nr);
		ASSERT_OK(s, stw_status(s, &w));
		ASSERT_EQ(STW_STOPPED, w.mode);
		ASSERT_EQ(5U, w.nr_vms);
		ASSERT_EQ(w.nr_vms, w.active);
		ASSERT_EQ(w.nr_vms, w.stopped);
		ASSERT_EQ(0ULL, (unsigned long long)stw_violations_total(&w))
			TH_LOG("%s%s", stw_ctx, stw_describe(s));

		ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
		ASSERT_TRUE(resumed);
		ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING,
						    STW_T_WAIT));
	}
	ASSERT_NO_VIOLATIONS(s);
}

/*
 * Events: a VM coming and going, a stop and a resume are announced on the
 * "events" group, the stop with the generation its STOP reply named.
 */
TEST_F(world, events_announce_vms_stop_and_resume)
{
	struct stw_sock *s = self->s;
	struct stw_event e;
	struct stw_cycle c;
	bool seen[2] = { false, false };
	int i, j;

	self->ev = stw_open_events();
	ASSERT_TRUE(self->ev != NULL)
		TH_LOG("cannot join the events group: %s", strerror(errno));

	ASSERT_SPAWN(s, 1, 1, 0, 0, self->ids, &self->n);
	for (i = 0; i < 2; i++) {
		STW_CTX("VM_ADDED_NTF %d", i);
		ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_VM_ADDED_NTF,
					    STW_T_WAIT, &e));
		ASSERT_TRUE(e.has_vm);
		for (j = 0; j < 2; j++)
			if (e.vm.id == self->ids[j])
				seen[j] = true;
		stw_event_free(&e);
	}
	ASSERT_TRUE(seen[0] && seen[1]);

	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_STOPPED_NTF, STW_T_WAIT,
				    &e));
	ASSERT_TRUE(e.cycle.present);
	ASSERT_EQ(c.generation, e.cycle.generation);
	ASSERT_TRUE(e.cycle.has_tts);
	ASSERT_FALSE(e.has_step_vm);
	stw_event_free(&e);

	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_RESUMED_NTF, STW_T_WAIT,
				    &e));
	ASSERT_TRUE(e.cycle.present);
	ASSERT_EQ(c.generation, e.cycle.generation);
	stw_event_free(&e);

	ASSERT_OK(s, stw_kill(s, &self->ids[1], 1));
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_VM_GONE_NTF, STW_T_WAIT,
				    &e));
	ASSERT_TRUE(e.has_vm);
	ASSERT_EQ(self->ids[1], e.vm.id);
	stw_event_free(&e);
}

TEST_HARNESS_MAIN
