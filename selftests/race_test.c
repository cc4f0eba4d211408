// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic race tests (Documentation/design.md: the races, the testing): each test forces
 * the interleaving of one race with probe points and checks the invariant
 * that race would break. Each passes on the real build and fails, with its
 * own message, on the mutant build that puts its race back
 * (make check-mutants). STW_RACE=N runs race N's test only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "stw_probe.h"
#include "testmod.h"

#define WAIT_MS		5000

/* STW_RACE=N: only race N's script runs (make check-mutants). */
#define RACE_SCRIPT(n) do {						\
	unsigned int only = stw_env_uint("STW_RACE", 0);		\
	if (only && only != (n))					\
		SKIP(return, "STW_RACE=%u", only);			\
} while (0)

FIXTURE(race) {
	struct stw_sock *s;	/* the test's controller */
	struct stw_sock *p;	/* the probe family */
	uint32_t active;	/* VM A: runs jobs, polls */
	uint32_t idle;		/* VM B: sleeps in its run loop */
	struct stw_bg *bg;	/* a second controller's request */
	struct stw_bg *bg2;
};

FIXTURE_SETUP(race)
{
	uint32_t ids[2];
	size_t n;

	ASSERT_EQ(0, stw_probe_enable());
	self->s = stw_open();
	ASSERT_NE(NULL, self->s);
	self->p = stw_probe_open();
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, stw_probe_reset(self->p));
	ASSERT_EQ(0, stw_reset(self->s, WAIT_MS));
	ASSERT_EQ(0, stw_spawn(self->s, 1, 1, 0, 0, ids, &n));
	ASSERT_EQ(2u, n);
	self->active = ids[0];
	self->idle = ids[1];
	/* Both have started: the active one polls, the idle one sleeps. */
	ASSERT_EQ(0, stw_wait_vm_polls(self->s, self->active, 1, WAIT_MS));
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->idle, STW_VM_DOING_IDLE,
				       WAIT_MS));
}

FIXTURE_TEARDOWN(race)
{
	/* Release whatever a failed script left parked, then clean up. */
	stw_probe_reset(self->p);
	stw_resume(self->s, true, 0, NULL);
	if (self->bg)
		stw_bg_free(self->bg);
	if (self->bg2)
		stw_bg_free(self->bg2);
	stw_reset(self->s, WAIT_MS);
	stw_close(self->p);
	stw_close(self->s);
}

static struct stw_vm find_vm(struct __test_metadata *_metadata,
			     struct stw_sock *s, uint32_t id)
{
	struct stw_vm vm = {}, *vms;
	const struct stw_vm *v;
	size_t n;

	ASSERT_EQ(0, stw_vms(s, &vms, &n)) {
		TH_LOG("dump: %s", s->extack);
	}
	v = stw_vm_find(vms, n, id);
	if (v)
		vm = *v;
	free(vms);
	ASSERT_NE(0u, vm.id) {
		TH_LOG("vm %u is not in the dump", id);
	}
	return vm;
}

/*
 * What STOPPED must mean: every VM counted, stopped by its own hand, parked;
 * the counts agree; no invariant was ever broken.
 */
static void check_world_stopped(struct __test_metadata *_metadata,
				struct stw_sock *s, const char *race)
{
	struct stw_world w;
	struct stw_vm *vms;
	size_t n, i;

	ASSERT_EQ(0, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode) {
		TH_LOG("%s: world %s, not stopped: %s", race,
		       stw_mode_name(w.mode), stw_describe(s));
	}
	ASSERT_EQ(0, stw_vms(s, &vms, &n));
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(vms[i].state == STW_VM_STOPPED &&
			    vms[i].doing == STW_VM_DOING_PARKED) {
			TH_LOG("%s: world STOPPED but vm %u %s says %s, %s",
			       race, vms[i].id, vms[i].name,
			       stw_state_name(vms[i].state),
			       stw_doing_name(vms[i].doing));
		}
	}
	free(vms);
	EXPECT_TRUE(w.active == w.nr_vms && w.stopped == w.nr_vms) {
		TH_LOG("%s: STOPPED with active %u stopped %u for %u VMs",
		       race, w.active, w.stopped, w.nr_vms);
	}
	EXPECT_EQ(0ull, stw_violations_total(&w)) {
		TH_LOG("%s: invariants broken: I1 %llu I2 %llu I3 %llu I4 %llu I5 %llu",
		       race,
		       (unsigned long long)w.violations[STW_INV_I1],
		       (unsigned long long)w.violations[STW_INV_I2],
		       (unsigned long long)w.violations[STW_INV_I3],
		       (unsigned long long)w.violations[STW_INV_I4],
		       (unsigned long long)w.violations[STW_INV_I5]);
	}
}

/*
 * A second controller asks for a stop; the idle VM B is held just before
 * its stop work enters (B has not stopped), while the active VM A parks at
 * its next poll. The stop cannot complete until B is let go.
 */
/*
 * Everything but the idle VM's arrival is over: the active VM counted
 * itself and is parking (it marks itself parked before it counts, so its
 * parked flag alone does not say it counted), and the controller ended
 * its arming walk, giving up its share of the count.
 */
static void hold_idle_vm_before_its_stop_work(struct __test_metadata *_metadata,
					      FIXTURE_DATA(race) *self)
{
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_ENTER,
				   self->idle, STW_PROBE_PARK));
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_PARKING, self->active,
				   false));
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_ARMED, 0, false));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_ENTER,
				    self->idle, WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_PARKING, self->active,
				    WAIT_MS, NULL));
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_ARMED, 0, WAIT_MS,
				    NULL));
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->active,
				       STW_VM_DOING_PARKED, WAIT_MS));
}

/*
 * Race 1: the last VM to stop marks the others stopped. Hold the idle VM's
 * stop work just before it enters: the idle VM has not stopped, so the
 * world must not be STOPPED, whatever the active VM did.
 */
TEST_F(race, race1_last_vm_marks_others_stopped)
{
	struct stw_world w;
	struct stw_vm b;

	RACE_SCRIPT(1);
	hold_idle_vm_before_its_stop_work(_metadata, self);
	ASSERT_EQ(0, stw_status(self->s, &w));
	b = find_vm(_metadata, self->s, self->idle);
	ASSERT_NE(STW_STOPPED, w.mode) {
		TH_LOG("race 1: world STOPPED while vm %u %s is %s and says %s",
		       b.id, b.name, stw_doing_name(b.doing),
		       stw_state_name(b.state));
	}
	EXPECT_NE(STW_VM_STOPPED, b.state);

	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_ENTER,
				       self->idle));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	check_world_stopped(_metadata, self->s, "race 1");
}

/*
 * Race 2: a hand-made stop path for idle VMs (clear the trap, count by
 * hand, stop) drifts from the entry path and counts twice. Once every VM
 * has parked, the world must become STOPPED with as many active as VMs.
 * (Becomes, not is: VMs park while their controller still arms, and the
 * end of arming completes the cycle.)
 */
TEST_F(race, race2_hand_made_idle_stop)
{
	struct stw_world w;

	RACE_SCRIPT(2);
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->active,
				       STW_VM_DOING_PARKED, WAIT_MS));
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->idle,
				       STW_VM_DOING_PARKED, WAIT_MS));
	/* A time-out here leaves the mode the assertion below reports. */
	stw_wait_mode(self->s, STW_STOPPED, WAIT_MS);
	ASSERT_EQ(0, stw_status(self->s, &w));
	ASSERT_TRUE(w.mode == STW_STOPPED && w.active == w.nr_vms) {
		TH_LOG("race 2: every VM parked, yet the world is %s with active %u for %u VMs",
		       stw_mode_name(w.mode), w.active, w.nr_vms);
	}
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	check_world_stopped(_metadata, self->s, "race 2");
}

/*
 * Race 3 (JSC's issue 3): park the idle VM B right after its unlocked
 * entry-service check while a stop is pending; resume the world under it
 * and begin the next cycle, which counts B from its start. Once A has
 * parked, let B go: it must be counted once in the new cycle, not once at
 * its entry and again at its stop point, and the cycle must complete with
 * every VM stopped and no invariant broken.
 */
TEST_F(race, race3_entry_check_then_resume)
{
	RACE_SCRIPT(3);
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_ENTRY_CHECKED,
				   self->idle, STW_PROBE_PARK));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_ENTRY_CHECKED,
				    self->idle, WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	/* The world resumes while B is between its check and counting. */
	ASSERT_EQ(0, stw_resume(self->s, true, 0, NULL));
	ASSERT_EQ(ECANCELED, stw_bg_join(self->bg, WAIT_MS));
	/* The next cycle counts B from its start; A parks in it. */
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->active,
				       STW_VM_DOING_PARKED, WAIT_MS));
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_ENTRY_CHECKED,
				       self->idle));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS)) {
		TH_LOG("race 3: the next stop failed: %s",
		       stw_describe(self->s));
	}
	check_world_stopped(_metadata, self->s, "race 3");
}

/*
 * Race 4: a VM that marks itself stopped after dropping the lock can be
 * seen running after STOPPED fired. Park the idle VM right after it drops
 * the lock at its stop point; once the world is STOPPED, it must already
 * say stopped.
 */
TEST_F(race, race4_stopped_state_outside_lock)
{
	struct stw_vm b;

	RACE_SCRIPT(4);
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_PARKING, self->idle,
				   STW_PROBE_PARK));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_PARKING, self->idle,
				    WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_STOPPED, WAIT_MS)) {
		TH_LOG("world: %s", stw_describe(self->s));
	}
	b = find_vm(_metadata, self->s, self->idle);
	EXPECT_EQ(STW_VM_STOPPED, b.state) {
		TH_LOG("race 4: world STOPPED but vm %u %s says %s",
		       b.id, b.name, stw_state_name(b.state));
	}
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_PARKING,
				       self->idle));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	check_world_stopped(_metadata, self->s, "race 4");
}

static bool active_moved_or_parked(const struct stw_vm *vms, size_t n,
				   void *arg)
{
	const struct stw_vm *start = arg;
	const struct stw_vm *a = stw_vm_find(vms, n, start->id);

	return a && (a->polls > start->polls ||
		     a->doing == STW_VM_DOING_PARKED);
}

/*
 * Race 5: a VM that saw its trap and read the arrival count before a
 * resume counts itself after it. Park the active VM just before it counts,
 * resume, let it go: it must run on, counted nowhere.
 */
TEST_F(race, race5_late_arrival_in_run_all)
{
	struct stw_world w;
	struct stw_vm a;

	RACE_SCRIPT(5);
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_BEFORE_COUNT,
				   self->active, STW_PROBE_PARK));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_BEFORE_COUNT,
				    self->active, WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_resume(self->s, true, 0, NULL));
	ASSERT_EQ(ECANCELED, stw_bg_join(self->bg, WAIT_MS));
	a = find_vm(_metadata, self->s, self->active);
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_BEFORE_COUNT,
				       self->active));
	/* A either runs on (right) or parks (wrong); wait for one of them. */
	ASSERT_EQ(0, stw_wait_vms(self->s, active_moved_or_parked, &a,
				  WAIT_MS));
	a = find_vm(_metadata, self->s, self->active);
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_TRUE(a.doing != STW_VM_DOING_PARKED && w.stopped == 0) {
		TH_LOG("race 5: late arrival in %s: vm %u %s %s, says %s; stopped %u",
		       stw_mode_name(w.mode), a.id, a.name,
		       stw_doing_name(a.doing), stw_state_name(a.state),
		       w.stopped);
	}
	EXPECT_EQ(0ull, stw_violations_total(&w));
	EXPECT_EQ(STW_RUN_ALL, w.mode);
}

/*
 * Race 6: two stop work items for one VM in one cycle. Park the active VM
 * as it leaves its job (no longer entered, trap not read yet); the stop
 * request sees it idle and queues a stop work; then let it read its trap.
 * It must rely on the work already queued.
 */
TEST_F(race, race6_duplicate_dispatch)
{
	struct stw_probe_hit *hits;
	struct stw_world w;
	size_t n, queued;

	RACE_SCRIPT(6);
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_EXIT_IDLE, self->active,
				   STW_PROBE_PARK));
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_EXIT_IDLE,
				    self->active, WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_QUEUED,
				   self->active, STW_PROBE_NOTE));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_QUEUED,
				    self->active, WAIT_MS, NULL));
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_QUEUED,
				       self->active));
	/* A now reads its trap, idle, with a stop pending. */
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_EXIT_IDLE,
				       self->active));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS)) {
		TH_LOG("stop: %s", stw_describe(self->s));
	}

	ASSERT_EQ(0, stw_status(self->s, &w));
	ASSERT_EQ(0, stw_probe_log(self->p, &hits, &n)) {
		TH_LOG("%s", self->p->extack);
	}
	queued = stw_probe_hits(hits, n, STW_PROBE_STOP_WORK_QUEUED,
				self->active, w.generation);
	free(hits);
	/* Unarmed, nothing is logged: I4's counter still tells. */
	if (stw_env_uint("STW_PROBES_UNARMED", 0))
		queued = 1;
	EXPECT_EQ(1u, queued) {
		TH_LOG("race 6: %zu stop works queued for vm %u in generation %llu",
		       queued, self->active, (unsigned long long)w.generation);
	}
	check_world_stopped(_metadata, self->s, "race 6");
}

/*
 * A second controller's stop, its arming walk held just after it queued
 * the idle VM B's stop work (outside RCU); A and B park. A VM born now
 * has a higher id than B's: the walk has yet to meet it.
 */
static void hold_walk_after_idle(struct __test_metadata *_metadata,
				 FIXTURE_DATA(race) *self)
{
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_QUEUED,
				   self->idle, STW_PROBE_PARK));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	/* The walk waits, after queuing B's stop work. */
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_QUEUED,
				    self->idle, WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->idle,
				       STW_VM_DOING_PARKED, WAIT_MS));
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, self->active,
				       STW_VM_DOING_PARKED, WAIT_MS));
}

/*
 * Race 6, in the arming walk: the controller arms the VMs without the world
 * lock, so a VM born meanwhile is armed at birth and then met by the walk.
 * Hold the walk after the idle VM B (C's id comes after it), let C be born
 * and its stop work start (flag cleared, not entered yet): the walk must
 * not queue C a second stop work in the same epoch (I4).
 */
TEST_F(race, race6_arming_walk_meets_a_vm_born_during_it)
{
	struct stw_stop_req join = {
		.timeout_ms = 2 * WAIT_MS,
		.lease_ms = STW_UNSET,
	};
	struct stw_sock *s2;
	struct stw_cycle c;
	uint32_t born;
	size_t n;

	RACE_SCRIPT(6);
	hold_walk_after_idle(_metadata, self);
	/* C, born during the walk, is held as its stop work starts. */
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_ENTER, 0,
				   STW_PROBE_PARK));
	ASSERT_EQ(0, stw_spawn(self->s, 0, 1, 0, 0, &born, &n)) {
		TH_LOG("spawn during the walk: %s", self->s->extack);
	}
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_ENTER, 0,
				    WAIT_MS, NULL));
	/* The walk goes on, meets C, and ends: a joining STOP says when. */
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_QUEUED,
				       self->idle));
	s2 = stw_open();
	ASSERT_NE(NULL, s2);
	ASSERT_EQ(0, stw_stop_send(s2, &join, &c)) {
		TH_LOG("joining STOP: %s", s2->extack);
	}
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_ENTER, 0));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS)) {
		TH_LOG("stop: %s", stw_describe(self->s));
	}
	check_world_stopped(_metadata, self->s, "race 6 (walk)");
	stw_close(s2);
}

/*
 * Race 13, a VM born as the arming walk passes: the walk reads the world's
 * VMs without the world lock, so it may meet a VM the moment it is stored,
 * arm it and queue its stop work before the VM's birth is settled. Hold
 * the walk after the idle VM B; spawn C and hold its birth just after C is
 * stored (world lock held); let the walk go on past C; C's stop work
 * arrives. C must have been counted before it could arrive: when its
 * birth goes on, the stop completes with every VM counted and parked.
 */
TEST_F(race, race13_vm_born_as_the_walk_passes)
{
	uint32_t born = 0, counted = 0;

	RACE_SCRIPT(13);
	hold_walk_after_idle(_metadata, self);
	/* C is born, and held as soon as it is in the world. */
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_VM_STORED, 0,
				   STW_PROBE_PARK));
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_AFTER_COUNT, 0,
				   STW_PROBE_NOTE));
	self->bg2 = stw_bg_spawn_idle();
	ASSERT_NE(NULL, self->bg2);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_VM_STORED, 0, WAIT_MS,
				    &born));
	/* The walk meets C and queues its stop work: C counts itself. */
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_QUEUED,
				       self->idle));
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_AFTER_COUNT, 0,
				    WAIT_MS, &counted));
	ASSERT_EQ(born, counted);
	/* C's birth goes on; then the walk ends and the stop completes. */
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_VM_STORED, 0));
	ASSERT_EQ(0, stw_bg_join(self->bg2, WAIT_MS));
	ASSERT_EQ(born, stw_bg_spawned(self->bg2));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS)) {
		TH_LOG("stop: %s", stw_describe(self->s));
	}
	check_world_stopped(_metadata, self->s, "race 13");
}

/*
 * Race 7: a VM destroyed while it is counted in a stop. Hold the idle VM's
 * stop work before it enters, so the active VM parks and the stop waits for
 * the idle one; destroy the idle one. It must be uncounted, and its going
 * completes the stop.
 */
TEST_F(race, race7_destroy_during_stop)
{
	struct stw_world w;

	RACE_SCRIPT(7);
	hold_idle_vm_before_its_stop_work(_metadata, self);
	/* The kill waits for B's stop work, parked: a second controller. */
	self->bg2 = stw_bg_kill(self->idle);
	ASSERT_NE(NULL, self->bg2);
	ASSERT_EQ(0, stw_wait_nr_vms(self->s, 1, WAIT_MS));
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_TRUE(w.mode == STW_STOPPED && w.active == 1 && w.stopped == 1) {
		TH_LOG("race 7: vm %u destroyed during the stop: world %s, active %u, stopped %u",
		       self->idle, stw_mode_name(w.mode), w.active, w.stopped);
	}
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_ENTER,
				       self->idle));
	ASSERT_EQ(0, stw_bg_join(self->bg2, WAIT_MS));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	check_world_stopped(_metadata, self->s, "race 7");
}

/*
 * Race 9 (the lock-free arrival): a VM destroyed while it counts itself.
 * Hold the idle VM B before its stop work, and the active VM A after it
 * claimed its place in the cycle but before it counted; destroy A. Its
 * arrival and its destroy must count it once between them: once A is
 * gone the stop still waits for B, and completes with B alone.
 */
TEST_F(race, race9_destroy_while_arriving)
{
	struct stw_world w;
	struct stw_vm b;

	RACE_SCRIPT(9);
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_ENTER,
				   self->idle, STW_PROBE_PARK));
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_CLAIMED, self->active,
				   STW_PROBE_PARK));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_ENTER,
				    self->idle, WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_CLAIMED, self->active,
				    WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	/* The kill waits for A's thread, held: a second controller. */
	self->bg2 = stw_bg_kill(self->active);
	ASSERT_NE(NULL, self->bg2);
	ASSERT_EQ(0, stw_wait_nr_vms(self->s, 1, WAIT_MS));
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_CLAIMED,
				       self->active));
	/* A counted itself, or not, and its thread is gone. */
	ASSERT_EQ(0, stw_bg_join(self->bg2, WAIT_MS));
	ASSERT_EQ(0, stw_status(self->s, &w));
	b = find_vm(_metadata, self->s, self->idle);
	EXPECT_TRUE(w.mode == STW_STOPPING && w.active == 1 && w.stopped == 0) {
		TH_LOG("race 9: vm %u destroyed while it arrived: world %s, active %u, stopped %u, while vm %u %s is %s",
		       self->active, stw_mode_name(w.mode), w.active,
		       w.stopped, b.id, b.name, stw_doing_name(b.doing));
	}
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_ENTER,
				       self->idle));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	check_world_stopped(_metadata, self->s, "race 9");
}

/*
 * Race 8: a controller dies holding the world. The hold belongs to its
 * netlink socket, so it goes when the socket goes (the process died or
 * closed it), and with the last hold the world resumes.
 */
TEST_F(race, race8_controller_dies_holding_the_world)
{
	struct stw_world w;

	RACE_SCRIPT(8);
	self->bg = stw_bg_stop(WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_STOPPED, WAIT_MS));
	/* Its socket closes, as when its process is killed. */
	stw_bg_free(self->bg);
	self->bg = NULL;
	stw_wait_mode(self->s, STW_RUN_ALL, WAIT_MS);
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_TRUE(w.mode == STW_RUN_ALL && !w.holds) {
		TH_LOG("race 8: the controller is gone, yet the world is %s with %u holds",
		       stw_mode_name(w.mode), w.holds);
	}
}

/*
 * The races of VMs on their owners' threads (selftests/modules/
 * stw_attachmod.ko, in stw's default world): a plain kthread whose run
 * loop is stw_vm_wait_event(), a kthread_worker attached by its owner.
 */
#define UNIT	100	/* stw_attachmod's unit of work: its polls */

FIXTURE(attached) {
	struct stw_sock *s;
	struct stw_sock *p;
	struct stw_bg *bg;	/* a controller's request */
	struct stw_bg *bg2;	/* the owner's action */
};

FIXTURE_SETUP(attached)
{
	ASSERT_EQ(0, stw_probe_enable());
	self->s = stw_open();
	ASSERT_NE(NULL, self->s);
	self->p = stw_probe_open();
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, stw_probe_reset(self->p));
	ASSERT_EQ(0, stw_reset(self->s, WAIT_MS));
	ASSERT_EQ(0, mod_unload(ATTACHMOD));
}

FIXTURE_TEARDOWN(attached)
{
	stw_probe_reset(self->p);
	mod_action(ATTACHMOD, "unblock_worker");
	stw_resume(self->s, true, 0, NULL);
	if (self->bg2)
		stw_bg_free(self->bg2);
	if (self->bg)
		stw_bg_free(self->bg);
	mod_unload(ATTACHMOD);
	stw_reset(self->s, WAIT_MS);
	stw_close(self->p);
	stw_close(self->s);
}

/* Load stw_attachmod with @params; its one VM, idle and running. */
static uint32_t load_attachmod(struct __test_metadata *_metadata,
			       struct stw_sock *s, const char *params)
{
	struct stw_vm *vms;
	uint32_t id;
	size_t n;

	ASSERT_EQ(0, load_module(ATTACHMOD_KO, params));
	ASSERT_EQ(0, stw_wait_all_vms_state(s, STW_VM_RUNNING, WAIT_MS));
	ASSERT_EQ(0, stw_vms(s, &vms, &n));
	ASSERT_EQ(1u, n);
	id = vms[0].id;
	free(vms);
	ASSERT_EQ(0, stw_wait_vm_doing(s, id, STW_VM_DOING_IDLE, WAIT_MS));
	return id;
}

/*
 * Race 10: a plain kthread goes idle exactly when its stop is dispatched.
 * Hold it after it found no stop pending, before it sleeps; dispatch the
 * stop then. Its wait must see the stop, not sleep through it.
 */
TEST_F(attached, race10_kthread_goes_idle_as_its_stop_is_dispatched)
{
	uint32_t k;
	int err;

	RACE_SCRIPT(10);
	k = load_attachmod(_metadata, self->s, "workers=0 threads=1");
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_IDLE_WAIT, k,
				   STW_PROBE_PARK));
	/* A unit of work, and back to its wait: held there. */
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_thread"));
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_IDLE_WAIT, k, WAIT_MS,
				    NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_QUEUED, k,
				   STW_PROBE_NOTE));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_QUEUED, k,
				    WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_IDLE_WAIT, k));
	err = stw_bg_join(self->bg, 3 * WAIT_MS);
	EXPECT_EQ(0, err) {
		TH_LOG("race 10: kthread VM %u slept through the stop dispatched as it went idle: %s",
		       k, strerror(err));
	}
	check_world_stopped(_metadata, self->s, "race 10");
}

/*
 * Race 11: a plain kthread is given work exactly when its stop is
 * dispatched, in a step. Its step left the stop work and dispatched the
 * next one (held there); work comes. A VM with work is not idle: the step
 * goes on into the work, and ends when the thread is idle again.
 */
TEST_F(attached, race11_kthread_woken_for_work_as_its_stop_is_dispatched)
{
	long long before, after;
	uint32_t k;

	RACE_SCRIPT(11);
	k = load_attachmod(_metadata, self->s, "workers=0 threads=1");
	ASSERT_EQ(0, stw_stop(self->s, WAIT_MS, 0, NULL, NULL));
	check_world_stopped(_metadata, self->s, "race 11 (stop)");
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_QUEUED, k,
				   STW_PROBE_PARK));
	self->bg = stw_bg_run_one(k, 10 * UNIT);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_QUEUED, k,
				    WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	before = mod_get(ATTACHMOD, "thread_jobs");
	ASSERT_EQ(0, mod_action(ATTACHMOD, "feed_thread"));
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_STOP_WORK_QUEUED, k));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	after = mod_get(ATTACHMOD, "thread_jobs");
	EXPECT_EQ(before + 1, after) {
		TH_LOG("race 11: the step of kthread VM %u ended with its work waiting: %lld units done in it, 1 given",
		       k, after - before);
	}
	check_world_stopped(_metadata, self->s, "race 11");
}

/*
 * Race 12: an attached worker detached during STOPPING. The worker runs a
 * job that knows nothing of stw, so the stop work the arming walk queues
 * waits behind it; the owner's detach is held before it takes the VM out.
 * Once detached, the stop completes without the VM and nothing of stw's is
 * left on the owner's worker, which it may now destroy.
 */
TEST_F(attached, race12_worker_detached_during_stopping)
{
	long long left;
	uint32_t w;

	RACE_SCRIPT(12);
	w = load_attachmod(_metadata, self->s, "workers=1 threads=0");
	ASSERT_EQ(0, mod_action(ATTACHMOD, "block_worker"));
	ASSERT_EQ(1, mod_wait_at_least(ATTACHMOD, "worker_blocked", 1,
				       WAIT_MS));
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_VM_DESTROY, w,
				   STW_PROBE_PARK));
	self->bg2 = stw_bg_action(ATTACHMOD, "detach_worker_only");
	ASSERT_NE(NULL, self->bg2);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_VM_DESTROY, w, WAIT_MS,
				    NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_arm(self->p, STW_PROBE_STOP_WORK_QUEUED, w,
				   STW_PROBE_NOTE));
	self->bg = stw_bg_stop(2 * WAIT_MS);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_probe_wait(self->p, STW_PROBE_STOP_WORK_QUEUED, w,
				    WAIT_MS, NULL)) {
		TH_LOG("%s", self->p->extack);
	}
	ASSERT_EQ(0, stw_probe_release(self->p, STW_PROBE_VM_DESTROY, w));
	ASSERT_EQ(0, stw_bg_join(self->bg2, WAIT_MS));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	left = mod_get(ATTACHMOD, "left");
	EXPECT_EQ(0, left) {
		TH_LOG("race 12: worker VM %u detached during STOPPING left %lld stop works on its owner's worker",
		       w, left);
	}
	check_world_stopped(_metadata, self->s, "race 12");
}

TEST_HARNESS_MAIN
