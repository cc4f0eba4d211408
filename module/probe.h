/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe points: the named places in the protocol where an interleaving
 * matters (uapi/stw_probe.h lists them). The race tests park a thread at one
 * of them to force an interleaving. Unarmed, a probe is a static branch: a
 * NOP on the fast path. probe.c is the control family of the tests.
 */
#ifndef _STW_PROBE_H
#define _STW_PROBE_H

#include <linux/jump_label.h>
#include <linux/types.h>

#include "uapi/stw_probe.h"

struct stw_vm;

DECLARE_STATIC_KEY_FALSE(stw_probe_key);

void __stw_probe(enum stw_probe_point point, u32 vm_id, u64 generation);

/* A probe point for the VM with id @vm_id (0: a controller's thread). */
static __always_inline void stw_probe_id(enum stw_probe_point point,
					 u32 vm_id, u64 generation)
{
	if (static_branch_unlikely(&stw_probe_key))
		__stw_probe(point, vm_id, generation);
}

/* True while a test has armed probe points: a NOP when none are. */
static __always_inline bool stw_probe_armed(void)
{
	return static_branch_unlikely(&stw_probe_key);
}

/* The same for @vm, or NULL on a controller's thread. */
#define stw_probe(point, vm, generation) ({				\
	struct stw_vm *__vm = (vm);					\
									\
	stw_probe_id(point, __vm ? __vm->id : 0, generation);		\
})

void __stw_probe_holds(int delta);

/*
 * The calling thread took (+1) or dropped (-1) a lock that threads of stw
 * contend on (the world's, a controller's). A gated thread's count is in
 * STW_PROBE_CMD_GATES: make explore tells a thread waiting for a gated one
 * from one waiting for stw's own workers.
 */
static __always_inline void stw_probe_holds(int delta)
{
	if (static_branch_unlikely(&stw_probe_key))
		__stw_probe_holds(delta);
}

struct task_struct;

void __stw_probe_born(struct task_struct *task);

/* A VM's thread @task was created: gated at birth if that was asked. */
static __always_inline void stw_probe_born(struct task_struct *task)
{
	if (static_branch_unlikely(&stw_probe_key))
		__stw_probe_born(task);
}

/* What stw's event worker is doing, for make explore (STW_PROBE_CMD_GATES). */
enum stw_probe_worker {
	STW_PROBE_WORKER_IDLE,		/* nothing queued */
	STW_PROBE_WORKER_QUEUED,	/* events queued, not being delivered */
	STW_PROBE_WORKER_RUNNING,	/* delivering, on the calling thread */
};

void __stw_probe_worker(enum stw_probe_worker state);

static __always_inline void stw_probe_worker(enum stw_probe_worker state)
{
	if (static_branch_unlikely(&stw_probe_key))
		__stw_probe_worker(state);
}

int stw_probe_init(void);
void stw_probe_exit(void);

#endif /* _STW_PROBE_H */
