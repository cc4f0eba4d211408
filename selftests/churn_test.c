// SPDX-License-Identifier: GPL-2.0
/*
 * churn_test: VMs are born and destroyed without pause (Documentation/design.md, race 7)
 * while a controller stops and resumes the world: every stop completes,
 * every VM it reports is parked (or was born after the stop and has not run
 * yet), and no invariant is violated. With one churning process, and with
 * three: more VMs leave jobs while the arming walk passes them (race 6).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define MAX_CHURNERS	3

/* Shared with the churning children. */
struct churn {
	int stop;			/* parent -> children: finish */
	unsigned long iterations;	/* spawn + kill rounds done, in all */
	int err;			/* a child's failure */
	int step;			/* 1 open, 2 spawn, 3 count, 4 kill */
	char extack[STW_EXTACK_LEN];
};

FIXTURE(churn) {
	struct stw_sock *s;
	struct churn *c;
	pid_t child[MAX_CHURNERS];
	uint32_t base[3];	/* VMs that live through the whole test */
	size_t n;
};

FIXTURE_VARIANT(churn) {
	unsigned int churners;	/* processes spawning and killing VMs */
};

FIXTURE_VARIANT_ADD(churn, one_churner) {
	.churners = 1,
};

FIXTURE_VARIANT_ADD(churn, three_churners) {
	.churners = 3,
};

FIXTURE_SETUP(churn)
{
	STW_SETUP(self->s);
	self->c = stw_shared_alloc(sizeof(*self->c));
	ASSERT_TRUE(self->c != NULL);
	/* The world never empties (the last VM going would resume it). */
	ASSERT_SPAWN(self->s, 2, 1, 0, 0, self->base, &self->n);
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
}

FIXTURE_TEARDOWN(churn)
{
	unsigned int i;
	int status;

	__atomic_store_n(&self->c->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < MAX_CHURNERS; i++) {
		if (self->child[i] <= 0)
			continue;
		if (stw_waitpid_timeout(self->child[i], &status, STW_T_CHILD)) {
			kill(self->child[i], SIGKILL);
			waitpid(self->child[i], &status, 0);
		}
	}
	stw_shared_free(self->c, sizeof(*self->c));
	STW_TEARDOWN(self->s);
}

static int churn_fail(struct churn *c, struct stw_sock *s, int step, int err)
{
	c->step = step;
	c->err = err;
	if (s)
		memcpy(c->extack, s->extack, sizeof(c->extack));
	return 1;
}

/* The child: spawn an active, an idle and a bursty VM, kill them, again. */
static int churn_child(struct churn *c)
{
	struct stw_sock *s = stw_open();
	uint32_t ids[3];
	size_t n;
	int err;

	if (!s)
		return churn_fail(c, NULL, 1, errno);
	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		err = stw_spawn(s, 1, 1, 1, 0, ids, &n);
		if (err)
			return churn_fail(c, s, 2, err);
		if (n != 3)
			return churn_fail(c, s, 3, EBADMSG);
		err = stw_kill(s, ids, n);
		if (err)
			return churn_fail(c, s, 4, err);
		__atomic_add_fetch(&c->iterations, 1, __ATOMIC_SEQ_CST);
	}
	stw_close(s);
	return 0;
}

/* Every VM of a fresh dump is STOPPED or STARTING; the base ones STOPPED. */
static int check_parked(struct stw_sock *s, const uint32_t *base,
			char *why, size_t len)
{
	const struct stw_vm *vm;
	struct stw_vm *vms;
	size_t n, i;
	int err;

	err = stw_vms(s, &vms, &n);
	if (err) {
		snprintf(why, len, "dump: %s", strerror(err));
		return err;
	}
	for (i = 0; !err && i < n; i++) {
		if (vms[i].state != STW_VM_STOPPED &&
		    vms[i].state != STW_VM_STARTING) {
			snprintf(why, len, "%s is %s/%s in a stopped world",
				 vms[i].name, stw_state_name(vms[i].state),
				 stw_doing_name(vms[i].doing));
			err = EINVAL;
		}
	}
	for (i = 0; !err && i < 3; i++) {
		vm = stw_vm_find(vms, n, base[i]);
		if (!vm || vm->state != STW_VM_STOPPED) {
			snprintf(why, len, "base VM %u is %s", base[i],
				 vm ? stw_state_name(vm->state) : "missing");
			err = EINVAL;
		}
	}
	free(vms);
	return err;
}

TEST_F_TIMEOUT(churn, stop_and_resume_while_vms_come_and_go, 400)
{
	unsigned int i, cycles = stw_scaled(1000);
	struct stw_sock *s = self->s;
	struct churn *c = self->c;
	unsigned long before;
	struct stw_world w;
	int64_t deadline;
	char why[256];
	size_t killed;
	bool resumed;
	int status;

	for (i = 0; i < variant->churners; i++) {
		self->child[i] = stw_fork();
		ASSERT_NE(-1, self->child[i]);
		if (self->child[i] == 0)
			_exit(churn_child(c));
	}

	/* The churn is under way before the first stop. */
	deadline = stw_now_ms() + STW_T_CHILD;
	while (!__atomic_load_n(&c->iterations, __ATOMIC_SEQ_CST) &&
	       !c->err && stw_now_ms() < deadline)
		usleep(1000);
	ASSERT_EQ(0, c->err)
		TH_LOG("churn child failed at step %d: %s '%s'", c->step,
		       strerror(c->err), c->extack);
	ASSERT_NE(0UL, __atomic_load_n(&c->iterations, __ATOMIC_SEQ_CST));

	for (i = 0; i < cycles; i++) {
		STW_CTX("cycle %u (churn %lu)", i,
			__atomic_load_n(&c->iterations, __ATOMIC_SEQ_CST));
		ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
		ASSERT_EQ(0, check_parked(s, self->base, why, sizeof(why)))
			TH_LOG("%s%s", stw_ctx, why);
		ASSERT_OK(s, stw_status(s, &w));
		ASSERT_EQ(STW_STOPPED, w.mode);
		ASSERT_EQ(0ULL, (unsigned long long)stw_violations_total(&w))
			TH_LOG("%sviolations I1..I5: %llu %llu %llu %llu %llu; %s",
			       stw_ctx,
			       (unsigned long long)w.violations[0],
			       (unsigned long long)w.violations[1],
			       (unsigned long long)w.violations[2],
			       (unsigned long long)w.violations[3],
			       (unsigned long long)w.violations[4],
			       stw_describe(s));
		ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
		ASSERT_TRUE(resumed);
	}

	/* The churn kept going through the stops, and ends cleanly. */
	before = __atomic_load_n(&c->iterations, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < variant->churners; i++) {
		ASSERT_EQ(0, stw_waitpid_timeout(self->child[i], &status,
						 STW_T_CHILD));
		self->child[i] = 0;
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("churn child failed at step %d: %s '%s'",
			       c->step, strerror(c->err), c->extack);
	}
	TH_LOG("%lu spawn/kill rounds during %u stop cycles", before, cycles);

	ASSERT_NO_VIOLATIONS(s);
	ASSERT_OK(s, stw_kill_all(s, &killed));
	ASSERT_EQ(3U, killed);
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	ASSERT_EQ(0U, w.nr_vms);
	ASSERT_EQ(0U, w.holds);
}

TEST_HARNESS_MAIN
