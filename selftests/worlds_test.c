// SPDX-License-Identifier: GPL-2.0
/*
 * worlds_test: worlds are stopped apart. A module's pool in a world of its
 * own (stw_testmod.ko world=pool) and demo VMs in a world that SPAWN makes
 * ("other"): stopping one never holds up the other; worlds are listed with
 * their owners; a request names its world or gets ENOENT; a world with VMs
 * in it cannot be destroyed; a module that goes while its world is
 * stopped takes its VMs and its world along cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "kselftest_harness.h"
#include "stw_test.h"
#include "testmod.h"

#define POOL		"pool"
#define OTHER		"other"
#define POOL_CYCLES	10000

FIXTURE(worlds) {
	struct stw_sock *s;	/* the default world */
	struct stw_sock *pool;	/* the module's world */
	struct stw_sock *other;	/* the demo VMs' other world */
};

FIXTURE_SETUP(worlds)
{
	STW_SETUP_LOADED(self->s);
	ASSERT_EQ(0, testmod_unload());
	self->pool = stw_open();
	ASSERT_TRUE(self->pool != NULL);
	ASSERT_OK(self->pool, stw_set_world(self->pool, POOL));
	self->other = stw_open();
	ASSERT_TRUE(self->other != NULL);
	ASSERT_OK(self->other, stw_set_world(self->other, OTHER));
}

FIXTURE_TEARDOWN(worlds)
{
	int err;

	/* "other" stays (stw made it for demo VMs); its VMs go. */
	if (self->other) {
		stw_resume(self->other, true, 0, NULL);
		stw_kill_all(self->other, NULL);
		stw_close(self->other);
	}
	stw_close(self->pool);
	err = testmod_unload();
	if (err)
		STW_TEARDOWN_FAIL("unloading stw_testmod: %s", strerror(err));
	STW_TEARDOWN_LOADED(self->s);
}

/* A demo VM's polls pass @from within the wait: it is not held up. */
static int progress(struct stw_sock *s, uint32_t id, uint64_t *from)
{
	struct stw_vm_list vms = {};
	struct stw_world w;
	size_t i;
	int err;

	err = stw_wait_vm_polls(s, id, *from + 1, STW_T_WAIT);
	if (err)
		return err;
	err = stw_dump(s, &w, &vms);
	for (i = 0; !err && i < vms.n; i++)
		if (vms.vms[i].id == id)
			*from = vms.vms[i].polls;
	stw_vm_list_free(&vms);
	return err;
}

TEST_F(worlds, are_listed_with_their_owners)
{
	struct stw_world_list l = {};
	const struct stw_world *w;

	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL " vms=2"));
	ASSERT_OK(self->s, stw_worlds(self->s, &l));
	w = stw_world_find(&l, STW_WORLD_DEFAULT);
	ASSERT_TRUE(w != NULL) TH_LOG("no world \"demo\"");
	ASSERT_STREQ("stw", w->owner);
	w = stw_world_find(&l, POOL);
	ASSERT_TRUE(w != NULL) TH_LOG("the module's world is not listed");
	ASSERT_STREQ("stw_testmod", w->owner);
	ASSERT_EQ(2U, w->nr_vms);
	ASSERT_EQ(STW_RUN_ALL, w->mode);
	stw_world_list_free(&l);
}

/*
 * The module stops and resumes its world POOL_CYCLES times; meanwhile a
 * demo VM in another world keeps polling, sample after sample, and that
 * world never leaves RUN_ALL. (The harness's limit is raised for the KASAN
 * kernel under emulation, where the cycles take a minute: a guard against
 * a hang, not a measure.)
 */
TEST_F_TIMEOUT(worlds, a_pool_stopped_over_and_over_holds_up_no_other_world, 300)
{
	uint64_t polls = 0;
	long long done = 0;
	unsigned int samples = 0;
	struct stw_world w;
	uint32_t id;
	size_t n;

	ASSERT_SPAWN(self->other, 1, 0, 0, 0, &id, &n);
	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL " vms=2 cycles=10000"));
	ASSERT_EQ(0, testmod_action("cycle"));
	while (done < POOL_CYCLES) {
		ASSERT_EQ(0, progress(self->other, id, &polls))
			TH_LOG("world %s held up after %lld cycles of %s: %s",
			       OTHER, done, POOL, stw_describe(self->other));
		ASSERT_OK(self->other, stw_status(self->other, &w));
		ASSERT_EQ(STW_RUN_ALL, w.mode);
		ASSERT_EQ(0, testmod_get("cycle_err"));
		done = testmod_get("cycles_done");
		samples++;
	}
	ASSERT_OK(self->pool, stw_status(self->pool, &w));
	ASSERT_LE((uint64_t)POOL_CYCLES, w.cycles);
	ASSERT_EQ(0U, stw_violations_total(&w));
	TH_LOG("%u samples of %s's progress during %d cycles of %s", samples,
	       OTHER, POOL_CYCLES, POOL);
}

/* The reverse: a controller stops the demo VMs' world; the pool runs. */
TEST_F_TIMEOUT(worlds, a_world_stopped_from_user_space_holds_up_no_pool, 300)
{
	long long polls;
	struct stw_world w;
	uint32_t ids[2];
	size_t n;
	int i;

	ASSERT_SPAWN(self->other, 1, 1, 0, 0, ids, &n);
	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL " vms=2"));
	polls = testmod_wait_change("polls", 0, STW_T_WAIT);
	for (i = 0; i < 1000; i++) {
		ASSERT_OK(self->other, stw_stop(self->other, STW_T_STOP, 0,
						NULL, NULL));
		/* While it is stopped, the pool moves on. */
		if (i % 100 == 0) {
			polls = testmod_wait_change("polls", polls,
						    STW_T_WAIT);
			ASSERT_OK(self->pool, stw_status(self->pool, &w));
			ASSERT_EQ(STW_RUN_ALL, w.mode);
			ASSERT_EQ(0U, w.holds);
		}
		ASSERT_OK(self->other, stw_resume(self->other, false, 0,
						  NULL));
	}
	ASSERT_NE(LLONG_MIN, polls);
	ASSERT_OK(self->other, stw_status(self->other, &w));
	ASSERT_LE((uint64_t)1000, w.cycles);
}

TEST_F(worlds, a_request_names_a_world_that_exists)
{
	struct stw_sock *s = self->s;

	ASSERT_OK(s, stw_set_world(s, "nowhere"));
	ASSERT_ERRNO(s, ENOENT, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_EXTACK(s);
	ASSERT_ERRNO(s, ENOENT, stw_resume(s, true, 0, NULL));
	ASSERT_EXTACK(s);
	ASSERT_OK(s, stw_set_world(s, NULL));

	/* Demo VMs go in worlds stw makes, never in a module's. */
	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL));
	ASSERT_ERRNO(self->pool, EEXIST,
		     stw_spawn(self->pool, 1, 0, 0, 0, NULL, NULL));
	ASSERT_EXTACK(self->pool);
}

TEST_F(worlds, a_world_with_vms_is_not_destroyed)
{
	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL " vms=2"));
	ASSERT_EQ(0, testmod_action("destroy"));
	ASSERT_EQ(-EBUSY, testmod_get("destroy_ret"));
	ASSERT_OK(self->pool, stw_wait_nr_vms(self->pool, 2, STW_T_WAIT));
	ASSERT_OK(self->pool, stw_stop(self->pool, STW_T_STOP, 0, NULL,
				       NULL));
	ASSERT_OK(self->pool, stw_resume(self->pool, false, 0, NULL));
}

/*
 * Its module goes while a controller holds its world stopped: the VMs are
 * released and destroyed, the world goes, the hold with it.
 */
TEST_F(worlds, a_module_leaves_while_its_world_is_stopped)
{
	struct stw_world_list l = {};
	struct stw_world w;

	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL " vms=3"));
	ASSERT_OK(self->pool, stw_stop_leased(self->pool, STW_T_STOP, 60000,
					      0, NULL, NULL));
	ASSERT_OK(self->pool, stw_status(self->pool, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(0, testmod_unload());
	ASSERT_OK(self->s, stw_worlds(self->s, &l));
	ASSERT_TRUE(stw_world_find(&l, POOL) == NULL);
	stw_world_list_free(&l);
	ASSERT_ERRNO(self->pool, ENOENT, stw_status(self->pool, &w));
	ASSERT_EQ(0, stw_wait_no_threads("stw/testmod", STW_T_WAIT));
}

/* Events say which world they are about. */
TEST_F(worlds, events_carry_their_world)
{
	struct stw_sock *ev;
	struct stw_event e;

	ev = stw_open_events();
	ASSERT_TRUE(ev != NULL);
	ASSERT_EQ(0, load_module(TESTMOD_KO, "world=" POOL " vms=1"));
	ASSERT_OK(self->pool, stw_stop(self->pool, STW_T_STOP, 0, NULL,
				       NULL));
	do {
		ASSERT_EQ(0, stw_event_wait(ev, -1, STW_T_WAIT, &e));
		if (e.cmd != STW_CMD_STOPPED_NTF)
			stw_event_free(&e);
	} while (e.cmd != STW_CMD_STOPPED_NTF);
	ASSERT_STREQ(POOL, e.world);
	stw_event_free(&e);
	ASSERT_OK(self->pool, stw_resume(self->pool, false, 0, NULL));
	stw_close(ev);
}

TEST_HARNESS_MAIN
