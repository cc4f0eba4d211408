// SPDX-License-Identifier: GPL-2.0
/*
 * status_test: anyone may look at the world. An unprivileged user (uid
 * 65534, no capabilities) reads STATUS as a do and as a dump, and sees what
 * root made.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define NR_VMS	5	/* 2 active + 3 idle */
#define MAX_SEEN 16

/* What the unprivileged child saw, in shared memory. */
struct view {
	int open_err;
	int status_err;
	char status_extack[STW_EXTACK_LEN];
	struct stw_world w;
	int dump_err;
	size_t nr;
	struct stw_vm vms[MAX_SEEN];
};

FIXTURE(status) {
	struct stw_sock *s;
	struct view *v;
	uint32_t ids[NR_VMS];
	size_t n;
};

FIXTURE_SETUP(status)
{
	STW_SETUP(self->s);
	self->v = stw_shared_alloc(sizeof(*self->v));
	ASSERT_TRUE(self->v != NULL);
	ASSERT_SPAWN(self->s, 2, 3, 0, 0, self->ids, &self->n);
	ASSERT_OK(self->s, stw_wait_all_vms_state(self->s, STW_VM_RUNNING,
						  STW_T_WAIT));
}

FIXTURE_TEARDOWN(status)
{
	stw_shared_free(self->v, sizeof(*self->v));
	STW_TEARDOWN(self->s);
}

/* Runs as uid 65534: STATUS do and dump, into the shared view. */
static int look_as_nobody(void *arg)
{
	struct view *v = arg;
	struct stw_sock *s = stw_open();
	struct stw_vm *vms;
	size_t n, i;

	if (!s) {
		v->open_err = errno ? errno : EIO;
		return 1;
	}
	v->status_err = stw_status(s, &v->w);
	memcpy(v->status_extack, s->extack, sizeof(v->status_extack));
	v->dump_err = stw_vms(s, &vms, &n);
	if (!v->dump_err) {
		v->nr = n;
		for (i = 0; i < n && i < MAX_SEEN; i++)
			v->vms[i] = vms[i];
		free(vms);
	}
	stw_close(s);
	return 0;
}

/* The unprivileged view matches the VMs root spawned, all in @want_state. */
#define ASSERT_VIEW(self, want_mode, want_state) do { \
	size_t __i; \
	ASSERT_EQ(0, stw_as_user(STW_NOBODY, STW_NOBODY, look_as_nobody, \
				 (self)->v)); \
	ASSERT_EQ(0, (self)->v->open_err) \
		TH_LOG("resolving stw as nobody: %s", \
		       strerror((self)->v->open_err)); \
	ASSERT_EQ(0, (self)->v->status_err) \
		TH_LOG("STATUS as nobody: %s '%s'", \
		       strerror((self)->v->status_err), \
		       (self)->v->status_extack); \
	ASSERT_EQ((want_mode), (self)->v->w.mode); \
	ASSERT_EQ((uint32_t)NR_VMS, (self)->v->w.nr_vms); \
	ASSERT_EQ(0, (self)->v->dump_err) \
		TH_LOG("STATUS dump as nobody: %s", \
		       strerror((self)->v->dump_err)); \
	ASSERT_EQ((size_t)NR_VMS, (self)->v->nr); \
	for (__i = 0; __i < NR_VMS; __i++) { \
		const struct stw_vm *__vm = stw_vm_find((self)->v->vms, \
							(self)->v->nr, \
							(self)->ids[__i]); \
		ASSERT_TRUE(__vm != NULL) \
			TH_LOG("VM %u missing from the dump", (self)->ids[__i]); \
		ASSERT_EQ((want_state), __vm->state); \
	} \
} while (0)

TEST_F(status, unprivileged_user_reads_a_running_world)
{
	struct stw_world w;

	ASSERT_VIEW(self, STW_RUN_ALL, STW_VM_RUNNING);
	ASSERT_OK(self->s, stw_status(self->s, &w));
	ASSERT_EQ(w.generation, self->v->w.generation);
}

TEST_F(status, unprivileged_user_reads_a_stopped_world)
{
	struct stw_cycle c;

	ASSERT_OK(self->s, stw_stop(self->s, STW_T_STOP, 0, &c, NULL));
	ASSERT_VIEW(self, STW_STOPPED, STW_VM_STOPPED);
	ASSERT_EQ(c.generation, self->v->w.generation);
	ASSERT_EQ(1U, self->v->w.holds);
	ASSERT_OK(self->s, stw_resume(self->s, false, 0, NULL));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The dump spans many messages: 1,000 VMs are all listed, once each, to
 * root and to nobody. (10,000 would need more than the default guest's
 * threads-max, about 7,700 threads with 1 GiB.)
 */
TEST_F_TIMEOUT(status, dump_lists_1000_vms, 300)
{
	const size_t total = 1000, more = total - NR_VMS;
	struct stw_sock *s = self->s;
	uint32_t *ids, *seen;
	struct stw_vm *vms;
	struct stw_world w;
	size_t n, i;

	ids = calloc(total, sizeof(*ids));
	seen = calloc(total, sizeof(*seen));
	ASSERT_TRUE(ids && seen);
	memcpy(ids, self->ids, sizeof(self->ids));
	ASSERT_SPAWN(s, 0, more, 0, 0, ids + NR_VMS, &n);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ((uint32_t)total, w.nr_vms);

	ASSERT_OK(s, stw_vms(s, &vms, &n));
	ASSERT_EQ(total, n);
	for (i = 0; i < n; i++)
		seen[i] = vms[i].id;
	free(vms);
	qsort(ids, total, sizeof(*ids), cmp_u32);
	qsort(seen, total, sizeof(*seen), cmp_u32);
	ASSERT_EQ(0, memcmp(ids, seen, total * sizeof(*ids)))
		TH_LOG("the dump does not list exactly the VMs spawned");
	free(ids);
	free(seen);

	ASSERT_EQ(0, stw_as_user(STW_NOBODY, STW_NOBODY, look_as_nobody,
				 self->v));
	ASSERT_EQ(0, self->v->dump_err);
	ASSERT_EQ(total, self->v->nr);
}

TEST_HARNESS_MAIN
