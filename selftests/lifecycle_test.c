// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle during a stop (Documentation/design.md, race 7): VMs born, destroyed and
 * stepped while the world is stopping or stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stw_probe.h"

#define WAIT_MS		5000

FIXTURE(life) {
	struct stw_sock *s;
	struct stw_bg *bg;
};

FIXTURE_SETUP(life)
{
	self->s = stw_open();
	ASSERT_NE(NULL, self->s);
	ASSERT_EQ(0, stw_reset(self->s, WAIT_MS));
}

FIXTURE_TEARDOWN(life)
{
	stw_resume(self->s, true, 0, NULL);
	if (self->bg)
		stw_bg_free(self->bg);
	stw_reset(self->s, WAIT_MS);
	stw_close(self->s);
}

static uint32_t spawn_one(struct __test_metadata *_metadata,
			  struct stw_sock *s, int kind)
{
	uint32_t id = 0;
	size_t n;

	ASSERT_EQ(0, stw_spawn(s, kind == STW_VM_KIND_ACTIVE,
			       kind == STW_VM_KIND_IDLE,
			       kind == STW_VM_KIND_BURSTY,
			       kind == STW_VM_KIND_NOPOLL, &id, &n)) {
		TH_LOG("spawn: %s", s->extack);
	}
	return id;
}

/* A VM created while the world is STOPPED parks at its first entry. */
TEST_F(life, born_while_stopped_parks_at_first_entry)
{
	struct stw_world w;
	uint32_t a, b;

	a = spawn_one(_metadata, self->s, STW_VM_KIND_ACTIVE);
	ASSERT_EQ(0, stw_stop(self->s, WAIT_MS, 0, NULL, NULL));
	b = spawn_one(_metadata, self->s, STW_VM_KIND_ACTIVE);
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, b, STW_VM_DOING_PARKED,
				       WAIT_MS)) {
		TH_LOG("%s", stw_describe(self->s));
	}
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_EQ(STW_STOPPED, w.mode);
	EXPECT_EQ(2u, w.active);
	EXPECT_EQ(2u, w.stopped);
	EXPECT_EQ(0ull, stw_violations_total(&w));
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
	ASSERT_EQ(0, stw_wait_all_vms_state(self->s, STW_VM_RUNNING, WAIT_MS));
	(void)a;
}

/* Born during STOPPING, it is counted: the stop waits for it too. */
TEST_F(life, born_while_stopping_is_waited_for)
{
	struct stw_vm_list lag = {};
	uint32_t nopoll, b;

	nopoll = spawn_one(_metadata, self->s, STW_VM_KIND_NOPOLL);
	/* Entered and spinning: it will never park, the stop cannot end. */
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, nopoll, STW_VM_DOING_RUNNING,
				       WAIT_MS));
	ASSERT_EQ(ETIMEDOUT, stw_stop(self->s, 100, STW_STOP_KEEP_WAITING,
				      NULL, &lag));
	stw_vm_list_free(&lag);
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_STOPPING, WAIT_MS));
	b = spawn_one(_metadata, self->s, STW_VM_KIND_IDLE);
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, b, STW_VM_DOING_PARKED,
				       WAIT_MS));
	ASSERT_EQ(0, stw_kill(self->s, &nopoll, 1));
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_STOPPED, WAIT_MS)) {
		TH_LOG("%s", stw_describe(self->s));
	}
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
}

/*
 * The last VM going away leaves the holds (version 2): a holder was
 * promised a stopped world, and a VM born now parks at birth. The world
 * runs again when the hold goes.
 */
TEST_F(life, last_vm_gone_keeps_the_world_held)
{
	struct stw_world w;
	uint32_t a;

	a = spawn_one(_metadata, self->s, STW_VM_KIND_ACTIVE);
	ASSERT_EQ(0, stw_stop(self->s, WAIT_MS, 0, NULL, NULL));
	ASSERT_EQ(0, stw_kill(self->s, &a, 1));
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_EQ(STW_STOPPED, w.mode);
	EXPECT_EQ(0u, w.nr_vms);
	EXPECT_EQ(1u, w.holds);
	EXPECT_EQ(0ull, stw_violations_total(&w));

	a = spawn_one(_metadata, self->s, STW_VM_KIND_ACTIVE);
	ASSERT_EQ(0, stw_wait_vm_state(self->s, a, STW_VM_STOPPED, WAIT_MS)) {
		TH_LOG("a VM born while held does not park: %s",
		       stw_describe(self->s));
	}
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_EQ(STW_RUN_ALL, w.mode);
	EXPECT_EQ(0u, w.holds);
	EXPECT_EQ(0ull, stw_violations_total(&w));
}

/* A RUN_ONE target that is destroyed ends the step: STOPPED again. */
TEST_F(life, step_target_destroyed_ends_step)
{
	struct stw_world w;
	uint32_t a, b;

	/* A runs one long job, so a long step keeps it running. */
	a = spawn_one(_metadata, self->s, STW_VM_KIND_IDLE);
	b = spawn_one(_metadata, self->s, STW_VM_KIND_IDLE);
	ASSERT_EQ(0, stw_queue_job(self->s, a, 1, 1000000));
	ASSERT_EQ(0, stw_wait_vm_polls(self->s, a, 1, WAIT_MS));
	ASSERT_EQ(0, stw_stop(self->s, WAIT_MS, 0, NULL, NULL));
	self->bg = stw_bg_run_one(a, 1000000);
	ASSERT_NE(NULL, self->bg);
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_RUN_ONE, WAIT_MS));
	ASSERT_EQ(0, stw_kill(self->s, &a, 1));
	ASSERT_EQ(0, stw_bg_join(self->bg, WAIT_MS));
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_EQ(STW_STOPPED, w.mode);
	EXPECT_FALSE(w.has_step_vm);
	EXPECT_EQ(1u, w.active);
	EXPECT_EQ(1u, w.stopped);
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
	(void)b;
}

/* A RUN_ONE target that goes idle ends the step and parks again. */
TEST_F(life, step_target_going_idle_ends_step)
{
	struct stw_vm target;
	struct stw_world w;
	uint32_t b;

	b = spawn_one(_metadata, self->s, STW_VM_KIND_IDLE);
	ASSERT_EQ(0, stw_stop(self->s, WAIT_MS, 0, NULL, NULL));
	ASSERT_EQ(0, stw_run_one(self->s, b, 1000, WAIT_MS, &target)) {
		TH_LOG("%s", self->s->extack);
	}
	EXPECT_EQ(STW_VM_STOPPED, target.state);
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(0, stw_run_one(self->s, b, 1, WAIT_MS, &target));
	EXPECT_EQ(STW_VM_DOING_PARKED, target.doing);
	ASSERT_EQ(0, stw_status(self->s, &w));
	EXPECT_EQ(0ull, stw_violations_total(&w));
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
}

/*
 * KCSAN samples one access in kcsan.skip_watch; a race between a new VM's
 * thread starting its run loop and the first queueing on it lasts a few
 * microseconds. Watching densely while VMs are born makes such a race
 * show (the runner fails a run on any KCSAN report). Without KCSAN the
 * test still checks that VMs born in bulk start or park.
 */
#define KCSAN_SKIP_WATCH	"/sys/module/kcsan/parameters/skip_watch"

static long kcsan_skip_watch(long set)
{
	long old = -1;
	FILE *f;

	f = fopen(KCSAN_SKIP_WATCH, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &old) != 1)
		old = -1;
	fclose(f);
	f = fopen(KCSAN_SKIP_WATCH, "w");
	if (f) {
		fprintf(f, "%ld\n", set);
		fclose(f);
	}
	return old;
}

/* Many VMs born running, then many born into a stopping world. */
TEST_F_TIMEOUT(life, born_in_bulk_into_each_mode, 300)
{
	uint32_t nopoll;
	long watch;
	size_t n;

	watch = kcsan_skip_watch(1);
	ASSERT_EQ(0, stw_spawn(self->s, 0, 100, 0, 0, NULL, &n));
	ASSERT_EQ(0, stw_wait_all_vms_state(self->s, STW_VM_RUNNING, WAIT_MS));

	nopoll = spawn_one(_metadata, self->s, STW_VM_KIND_NOPOLL);
	ASSERT_EQ(0, stw_wait_vm_doing(self->s, nopoll, STW_VM_DOING_RUNNING,
				       WAIT_MS));
	ASSERT_EQ(ETIMEDOUT, stw_stop(self->s, 100, STW_STOP_KEEP_WAITING,
				      NULL, NULL));
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_STOPPING, WAIT_MS));
	ASSERT_EQ(0, stw_spawn(self->s, 50, 50, 0, 0, NULL, &n));
	ASSERT_EQ(0, stw_kill(self->s, &nopoll, 1));
	if (watch >= 0)
		kcsan_skip_watch(watch);
	ASSERT_EQ(0, stw_wait_mode(self->s, STW_STOPPED, WAIT_MS)) {
		TH_LOG("%s", stw_describe(self->s));
	}
	ASSERT_EQ(0, stw_wait_all_vms_state(self->s, STW_VM_STOPPED, WAIT_MS));
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
	ASSERT_EQ(0, stw_wait_all_vms_state(self->s, STW_VM_RUNNING, WAIT_MS));
}

TEST_HARNESS_MAIN
