// SPDX-License-Identifier: GPL-2.0
/*
 * timeout_test: a VM that never polls makes a stop time out. The stop
 * names it as the laggard (like HotSpot's safepoint timeout or the
 * freezer's "tasks refusing to freeze") and rolls back, or with
 * KEEP_WAITING keeps the world stopping until the laggard goes.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define SHORT_TIMEOUT_MS	300

FIXTURE(timeout) {
	struct stw_sock *s;
	struct stw_sock *ev;
	uint32_t ids[3];
	size_t n;
	uint32_t nopoll;
	uint32_t active[2];
};

FIXTURE_SETUP(timeout)
{
	struct stw_vm *vms;
	size_t n, i, na = 0;

	STW_SETUP(self->s);
	/* Subscribed before anything happens, so no event is missed. */
	self->ev = stw_open_events();
	ASSERT_TRUE(self->ev != NULL)
		TH_LOG("cannot join the events group: %s", strerror(errno));
	ASSERT_SPAWN(self->s, 2, 0, 0, 1, self->ids, &self->n);
	ASSERT_OK(self->s, stw_vms(self->s, &vms, &n));
	for (i = 0; i < n; i++) {
		if (vms[i].kind == STW_VM_KIND_NOPOLL)
			self->nopoll = vms[i].id;
		else if (vms[i].kind == STW_VM_KIND_ACTIVE && na < 2)
			self->active[na++] = vms[i].id;
	}
	free(vms);
	ASSERT_NE(0U, self->nopoll);
	ASSERT_EQ(2U, na);
	/*
	 * The nopoll VM must be inside its endless job: one that has not
	 * entered yet would park at its entry and the stop would succeed.
	 */
	ASSERT_OK(self->s, stw_wait_vm_doing(self->s, self->nopoll,
					     STW_VM_DOING_RUNNING, STW_T_WAIT));
	for (i = 0; i < 2; i++)
		ASSERT_OK(self->s, stw_wait_vm_polls(self->s, self->active[i],
						     1, STW_T_WAIT));
}

FIXTURE_TEARDOWN(timeout)
{
	stw_close(self->ev);
	self->ev = NULL;
	STW_TEARDOWN(self->s);
}

TEST_F(timeout, stop_times_out_names_the_laggard_and_rolls_back)
{
	struct stw_sock *s = self->s;
	struct stw_vm_list lag;
	struct stw_world w0, w;
	struct stw_event e;
	struct stw_cycle c;
	const struct stw_vm *vm;

	ASSERT_OK(s, stw_status(s, &w0));
	ASSERT_ERRNO(s, ETIMEDOUT, stw_stop(s, SHORT_TIMEOUT_MS, 0, &c, &lag));
	ASSERT_EXTACK(s);

	/* The reply names exactly the VM that never polls, still running. */
	ASSERT_EQ(1U, lag.n)
		TH_LOG("%zu laggards; %s", lag.n, stw_describe(s));
	ASSERT_EQ(self->nopoll, lag.vms[0].id);
	ASSERT_EQ(STW_VM_DOING_RUNNING, lag.vms[0].doing)
		TH_LOG("laggard doing %s", stw_doing_name(lag.vms[0].doing));
	ASSERT_EQ(STW_VM_KIND_NOPOLL, lag.vms[0].kind);
	ASSERT_EQ(0, strncmp(lag.vms[0].name, "nopoll-", 7))
		TH_LOG("laggard name '%s'", lag.vms[0].name);
	stw_vm_list_free(&lag);
	ASSERT_EQ(w0.generation + 1, c.generation);
	ASSERT_FALSE(c.has_tts);

	/* Rolled back: running again, no hold left, the timeout counted. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode)
		TH_LOG("%s", stw_describe(s));
	ASSERT_EQ(0U, w.holds);
	ASSERT_EQ(w0.timeouts + 1, w.timeouts);
	ASSERT_EQ(w0.cycles, w.cycles);
	ASSERT_OK(s, stw_wait_vm_state(s, self->active[0], STW_VM_RUNNING,
				       STW_T_WAIT));
	ASSERT_OK(s, stw_wait_vm_state(s, self->active[1], STW_VM_RUNNING,
				       STW_T_WAIT));

	/* The timeout was announced, with the same laggard. */
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_TIMEOUT_NTF, STW_T_WAIT,
				    &e));
	ASSERT_TRUE(e.cycle.present);
	ASSERT_EQ(c.generation, e.cycle.generation);
	vm = stw_vm_find(e.laggards.list.vms, e.laggards.list.n, self->nopoll);
	ASSERT_TRUE(vm != NULL);
	ASSERT_EQ(1U, e.laggards.list.n);
	ASSERT_EQ(1U, e.laggards.total);
	ASSERT_FALSE(e.laggards.truncated);
	ASSERT_NE(0ULL, (unsigned long long)e.seq);
	stw_event_free(&e);
	ASSERT_NO_VIOLATIONS(s);
}

TEST_F(timeout, keep_waiting_holds_the_world_until_the_laggard_goes)
{
	struct stw_sock *s = self->s;
	struct stw_vm_list lag;
	struct stw_vm *vms;
	struct stw_world w;
	struct stw_event e;
	struct stw_cycle c;
	bool resumed;
	size_t n, i;

	ASSERT_ERRNO(s, ETIMEDOUT, stw_stop(s, SHORT_TIMEOUT_MS,
					    STW_STOP_KEEP_WAITING, &c, &lag));
	ASSERT_EXTACK(s);
	ASSERT_EQ(1U, lag.n)
		TH_LOG("%zu laggards; %s", lag.n, stw_describe(s));
	ASSERT_EQ(self->nopoll, lag.vms[0].id);
	ASSERT_EQ(STW_VM_DOING_RUNNING, lag.vms[0].doing);
	stw_vm_list_free(&lag);
	/* The hold was kept: it is named, so it can be released. */
	ASSERT_NE(0U, c.hold_id);

	/* Still stopping: the hold stands and the laggard holds it up. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPING, w.mode)
		TH_LOG("%s", stw_describe(s));
	ASSERT_EQ(1U, w.holds);
	ASSERT_EQ(c.generation, w.generation);

	/* The laggard goes: the stop completes without it. */
	ASSERT_OK(s, stw_kill(s, &self->nopoll, 1));
	ASSERT_OK(s, stw_wait_mode(s, STW_STOPPED, STW_T_WAIT));
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	for (i = 0; i < n; i++)
		if (vms[i].state != STW_VM_STOPPED)
			break;
	free(vms);
	ASSERT_EQ(2U, n);
	ASSERT_EQ(n, i) TH_LOG("%s", stw_describe(s));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(c.generation, w.generation);
	ASSERT_EQ(2U, w.active);
	ASSERT_EQ(2U, w.stopped);

	/* Its completion is announced like any stop. */
	ASSERT_EQ(0, stw_event_wait(self->ev, STW_CMD_STOPPED_NTF, STW_T_WAIT,
				    &e));
	ASSERT_TRUE(e.cycle.present);
	ASSERT_EQ(c.generation, e.cycle.generation);
	stw_event_free(&e);

	/* Releasing that hold resumes the world. */
	ASSERT_OK(s, stw_resume(s, false, c.hold_id, &resumed));
	ASSERT_TRUE(resumed);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_EQ(0U, w.holds);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_NO_VIOLATIONS(s);
}

TEST_HARNESS_MAIN
