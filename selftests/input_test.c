// SPDX-License-Identifier: GPL-2.0
/*
 * input_test: bad requests are refused with the right errno and an extack
 * message saying what was wrong, and they change nothing: afterwards the
 * module answers and no invariant was violated.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define NO_SUCH_VM	0x7ffffff0U
#define NO_SUCH_HOLD	0x7ffffff0U

FIXTURE(input) {
	struct stw_sock *s;
	uint32_t idle;		/* a VM that exists */
	size_t n;
	unsigned char buf[256];	/* raw attributes */
	size_t len;
};

FIXTURE_SETUP(input)
{
	STW_SETUP(self->s);
	ASSERT_SPAWN(self->s, 0, 1, 0, 0, &self->idle, &self->n);
	ASSERT_OK(self->s, stw_wait_vm_state(self->s, self->idle,
					     STW_VM_RUNNING, STW_T_WAIT));
}

FIXTURE_TEARDOWN(input)
{
	STW_TEARDOWN(self->s);
}

/* Raw attributes: PUT_U32(type, v), PUT(type, data, len), then RAW(cmd). */
#define RAW_RESET()		(self->len = 0)
#define PUT(type, data, l)	(self->len = stw_attr_put(self->buf, \
				 sizeof(self->buf), self->len, (type), \
				 (data), (l)))
#define PUT_U32(type, v)	(self->len = stw_attr_put_u32(self->buf, \
				 sizeof(self->buf), self->len, (type), (v)))
#define RAW(cmd)		stw_raw(self->s, (cmd), 0, self->buf, \
					self->len, NULL)

/* The world is as the fixture left it: running, one VM, no hold. */
#define ASSERT_UNCHANGED() do { \
	struct stw_world __w; \
	ASSERT_OK(self->s, stw_status(self->s, &__w)); \
	ASSERT_EQ(STW_RUN_ALL, __w.mode); \
	ASSERT_EQ(1U, __w.nr_vms); \
	ASSERT_EQ(0U, __w.holds); \
} while (0)

static const uint8_t all_cmds[] = {
	STW_CMD_STATUS, STW_CMD_STOP, STW_CMD_RESUME, STW_CMD_RUN_ONE,
	STW_CMD_SPAWN, STW_CMD_KILL, STW_CMD_QUEUE_JOB,
};

TEST_F(input, unknown_command_is_eopnotsupp)
{
	static const uint8_t bad[] = {
		STW_CMD_UNSPEC, STW_CMD_STOPPED_NTF, STW_CMD_VM_GONE_NTF,
		__STW_CMD_MAX, 200, 255,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		STW_CTX("cmd %u", bad[i]);
		ASSERT_ERRNO(self->s, EOPNOTSUPP,
			     stw_raw(self->s, bad[i], 0, NULL, 0, NULL));
	}
	ASSERT_UNCHANGED();
}

TEST_F(input, unknown_attribute_is_einval_for_every_command)
{
	size_t i;

	RAW_RESET();
	PUT_U32(STW_A_MAX + 1, 1);
	for (i = 0; i < ARRAY_SIZE(all_cmds); i++) {
		STW_CTX("cmd %u", all_cmds[i]);
		ASSERT_REJECTED(self->s, RAW(all_cmds[i]), EINVAL, EINVAL);
	}
	STW_CTX("STATUS dump");
	ASSERT_REJECTED(self->s, stw_raw(self->s, STW_CMD_STATUS, NLM_F_DUMP,
					 self->buf, self->len, NULL),
			EINVAL, EINVAL);
	ASSERT_UNCHANGED();
}

TEST_F(input, attribute_of_another_command_is_einval)
{
	RAW_RESET();
	PUT_U32(STW_A_JOBS, 1);		/* a QUEUE_JOB attribute */
	ASSERT_REJECTED(self->s, RAW(STW_CMD_STOP), EINVAL, EINVAL);
	RAW_RESET();
	PUT_U32(STW_A_TIMEOUT_MS, 1000);	/* not a KILL attribute */
	ASSERT_REJECTED(self->s, RAW(STW_CMD_KILL), EINVAL, EINVAL);
	ASSERT_UNCHANGED();
}

TEST_F(input, run_one_without_vm_id_is_einval)
{
	RAW_RESET();
	ASSERT_REJECTED(self->s, RAW(STW_CMD_RUN_ONE), EINVAL, EINVAL);
	PUT_U32(STW_A_POLLS, 10);
	ASSERT_REJECTED(self->s, RAW(STW_CMD_RUN_ONE), EINVAL, EINVAL);
	ASSERT_UNCHANGED();
}

TEST_F(input, stop_timeout_out_of_range_is_refused)
{
	struct stw_sock *s = self->s;

	STW_CTX("TIMEOUT_MS 0");
	ASSERT_REJECTED(s, stw_stop(s, 0, 0, NULL, NULL), ERANGE, EINVAL);
	STW_CTX("TIMEOUT_MS 600001");
	ASSERT_REJECTED(s, stw_stop(s, 600001, 0, NULL, NULL), ERANGE,
			EINVAL);
	STW_CTX("LEASE_MS 0");
	ASSERT_REJECTED(s, stw_stop_leased(s, 1000, 0, 0, NULL, NULL),
			ERANGE, EINVAL);
	STW_CTX("LEASE_MS 86400001");
	ASSERT_REJECTED(s, stw_stop_leased(s, 1000, 86400001, 0, NULL, NULL),
			ERANGE, EINVAL);
	ASSERT_UNCHANGED();
}

TEST_F(input, stop_with_ill_typed_attributes_is_refused)
{
	static const uint8_t one_byte = 100;
	static const uint64_t eight_bytes = 1000;
	static const uint32_t four_bytes = 1;

	STW_CTX("TIMEOUT_MS of 1 byte");
	RAW_RESET();
	PUT(STW_A_TIMEOUT_MS, &one_byte, 1);
	ASSERT_REJECTED(self->s, RAW(STW_CMD_STOP), EINVAL, ERANGE);

	STW_CTX("TIMEOUT_MS of 8 bytes");
	RAW_RESET();
	PUT(STW_A_TIMEOUT_MS, &eight_bytes, 8);
	ASSERT_REJECTED(self->s, RAW(STW_CMD_STOP), EINVAL, ERANGE);

	STW_CTX("KEEP_WAITING flag with a payload");
	RAW_RESET();
	PUT(STW_A_KEEP_WAITING, &four_bytes, 4);
	ASSERT_REJECTED(self->s, RAW(STW_CMD_STOP), EINVAL, ERANGE);
	ASSERT_UNCHANGED();
}

TEST_F(input, spawn_without_a_sane_request_is_refused)
{
	struct stw_sock *s = self->s;
	unsigned char nest[64];
	size_t nlen;

	STW_CTX("no STW_A_SPAWN");
	RAW_RESET();
	ASSERT_REJECTED(s, RAW(STW_CMD_SPAWN), EINVAL, EINVAL);

	STW_CTX("every count zero");
	ASSERT_REJECTED(s, stw_spawn(s, 0, 0, 0, 0, NULL, NULL), EINVAL,
			EINVAL);

	STW_CTX("ACTIVE STW_SPAWN_MAX + 1");
	ASSERT_REJECTED(s, stw_spawn(s, STW_SPAWN_MAX + 1, 0, 0, 0, NULL, NULL),
			ERANGE, EINVAL);
	STW_CTX("IDLE STW_SPAWN_MAX + 1");
	ASSERT_REJECTED(s, stw_spawn(s, 0, STW_SPAWN_MAX + 1, 0, 0, NULL, NULL),
			ERANGE, EINVAL);
	STW_CTX("STW_SPAWN_MAX + 1 in all, no count above it");
	ASSERT_REJECTED(s, stw_spawn(s, STW_SPAWN_MAX / 2 + 1,
				     STW_SPAWN_MAX / 2, 0, 0, NULL, NULL),
			ERANGE, EINVAL);

	STW_CTX("STW_A_SPAWN without NLA_F_NESTED");
	nlen = stw_attr_put_u32(nest, sizeof(nest), 0, STW_SPAWN_A_IDLE, 1);
	RAW_RESET();
	PUT(STW_A_SPAWN, nest, nlen);
	ASSERT_REJECTED(s, RAW(STW_CMD_SPAWN), EINVAL, EINVAL);

	STW_CTX("unknown attribute inside STW_A_SPAWN");
	nlen = stw_attr_put_u32(nest, sizeof(nest), 0, STW_SPAWN_A_MAX + 1, 1);
	RAW_RESET();
	PUT(STW_A_SPAWN | NLA_F_NESTED, nest, nlen);
	ASSERT_REJECTED(s, RAW(STW_CMD_SPAWN), EINVAL, EINVAL);

	/* Not one VM was made by any of them. */
	ASSERT_UNCHANGED();
}

TEST_F(input, kill_of_nothing_or_of_an_unknown_vm_is_refused)
{
	struct stw_sock *s = self->s;
	uint32_t ids[2] = { self->idle, NO_SUCH_VM };

	STW_CTX("unknown id");
	ids[0] = NO_SUCH_VM;
	ASSERT_REJECTED(s, stw_kill(s, ids, 1), ENOENT, ENOENT);

	STW_CTX("neither VM_ID nor KILL_ALL");
	RAW_RESET();
	ASSERT_REJECTED(s, RAW(STW_CMD_KILL), EINVAL, EINVAL);

	STW_CTX("no id at all");
	ASSERT_REJECTED(s, stw_kill(s, ids, 0), EINVAL, ERANGE);

	STW_CTX("both VM_ID and KILL_ALL");
	RAW_RESET();
	PUT(STW_A_VM_ID, &self->idle, sizeof(self->idle));
	PUT(STW_A_KILL_ALL, NULL, 0);
	ASSERT_REJECTED(s, RAW(STW_CMD_KILL), EINVAL, EINVAL);

	STW_CTX("STW_KILL_MAX + 1 ids");
	{
		uint32_t many[STW_KILL_MAX + 1];
		size_t i;

		for (i = 0; i < STW_KILL_MAX + 1; i++)
			many[i] = self->idle;
		ASSERT_REJECTED(s, stw_kill(s, many, STW_KILL_MAX + 1),
				ERANGE, EINVAL);
	}

	/* The VM that exists is still there. */
	ASSERT_UNCHANGED();
}

TEST_F(input, queue_job_without_a_vm_or_jobs_is_refused)
{
	struct stw_sock *s = self->s;
	struct stw_vm *vms;
	size_t n;

	STW_CTX("no VM_ID");
	RAW_RESET();
	PUT_U32(STW_A_JOBS, 1);
	ASSERT_REJECTED(s, RAW(STW_CMD_QUEUE_JOB), EINVAL, EINVAL);

	STW_CTX("JOBS 0");
	ASSERT_REJECTED(s, stw_queue_job(s, self->idle, 0, 100), ERANGE,
			EINVAL);
	STW_CTX("POLLS 0");
	ASSERT_REJECTED(s, stw_queue_job(s, self->idle, 1, 0), ERANGE,
			EINVAL);
	STW_CTX("unknown VM");
	ASSERT_REJECTED(s, stw_queue_job(s, NO_SUCH_VM, 1, 100), ENOENT,
			ENOENT);

	/* No job reached the idle VM. */
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	ASSERT_EQ(1U, n);
	ASSERT_EQ(0ULL, (unsigned long long)vms[0].jobs);
	free(vms);
	ASSERT_UNCHANGED();
}

TEST_F(input, resume_of_an_unknown_hold_is_enoent)
{
	struct stw_sock *s = self->s;
	struct stw_cycle c;
	struct stw_world w;

	STW_CTX("nothing held");
	ASSERT_REJECTED(s, stw_resume(s, false, NO_SUCH_HOLD, NULL), ENOENT,
			ENOENT);
	STW_CTX("plain RESUME, nothing held");
	ASSERT_REJECTED(s, stw_resume(s, false, 0, NULL), EALREADY,
			EALREADY);

	/* With a hold in place, naming another one releases nothing. */
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	STW_CTX("world stopped");
	ASSERT_REJECTED(s, stw_resume(s, false, c.hold_id + 1000, NULL),
			ENOENT, ENOENT);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(1U, w.holds);
	ASSERT_OK(s, stw_resume(s, false, c.hold_id, NULL));
	ASSERT_UNCHANGED();
}

TEST_F(input, run_one_in_a_running_world_is_ebusy)
{
	ASSERT_REJECTED(self->s, stw_run_one(self->s, self->idle, 1, 1000,
					     NULL), EBUSY, EBUSY);
	ASSERT_UNCHANGED();
}

TEST_F(input, run_one_of_an_unknown_vm_in_a_stopped_world_is_enoent)
{
	struct stw_sock *s = self->s;
	struct stw_world w;

	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	STW_CTX("unknown VM");
	ASSERT_REJECTED(s, stw_run_one(s, NO_SUCH_VM, 1, 1000, NULL), ENOENT,
			ENOENT);
	STW_CTX("POLLS 0");
	ASSERT_REJECTED(s, stw_run_one(s, self->idle, 0, 1000, NULL), ERANGE,
			EINVAL);
	STW_CTX("TIMEOUT_MS 0");
	ASSERT_REJECTED(s, stw_run_one(s, self->idle, 1, 0, NULL), ERANGE,
			EINVAL);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_FALSE(w.has_step_vm);
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_UNCHANGED();
}

/* Last: after all of the above the module still works, unharmed. */
TEST_F(input, module_is_unharmed_by_bad_input)
{
	struct stw_sock *s = self->s;
	bool resumed;

	ASSERT_UNCHANGED();
	ASSERT_NO_VIOLATIONS(s);
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
	ASSERT_TRUE(resumed);
	ASSERT_NO_VIOLATIONS(s);
}

TEST_HARNESS_MAIN
