/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * stw: stop the world for a set of registered kernel threads ("VMs").
 *
 * Documentation
 * =============
 *
 * The generic netlink family is "stw" (STW_GENL_NAME), version
 * STW_GENL_VERSION, in the initial network namespace only. Every command
 * but STW_CMD_STATUS and STW_CMD_WORLDS needs CAP_NET_ADMIN. Unknown
 * attributes are rejected (strict validation); every error carries an
 * extended ack message naming what was wrong. VM ids are 1 or more. The
 * design of the protocol is in Documentation/design.md of the stw tree.
 *
 * Worlds (version 3)
 * ------------------
 *
 * VMs belong to worlds, and each world is stopped, stepped and resumed on
 * its own, with its own holds, statistics and events. A kernel module makes
 * its own world (stw_world_create()); the demo VMs live in the world named
 * STW_WORLD_DEFAULT ("demo") unless SPAWN names another. Every command may
 * contain
 *
 *    STW_A_WORLD_NAME: NLA_NUL_STRING, 1..STW_WORLD_NAME_LEN - 1 bytes,
 *        the world the command acts on (default STW_WORLD_DEFAULT)
 *
 * and fails with ENOENT if there is no such world, except SPAWN, which
 * makes it. Every reply, completion and event carries STW_A_WORLD_NAME.
 * VM ids and hold ids are per world.
 *
 * No command waits for VMs inside the kernel (version 2). STOP and RUN_ONE
 * answer at once; when what they started completes (the world STOPPED, the
 * stop timed out, the step ended), the outcome arrives later on the
 * requesting socket as a STW_CMD_DONE_NTF message addressed to it, with the
 * nlmsg_seq of the request (see "Completions" below). A client that sent a
 * STOP or RUN_ONE simply keeps reading its socket. If the socket is gone,
 * the completion is dropped; a hold bound to the socket goes with it.
 *
 * STW_CMD_STATUS
 * --------------
 *
 * As a do (no attributes), replies with the world:
 *
 *    STW_A_WORLD: NLA_NESTED
 *        STW_WORLD_A_MODE: NLA_U32, enum stw_world_mode
 *        STW_WORLD_A_GENERATION: NLA_U64, the latest stop cycle (0: none yet)
 *        STW_WORLD_A_NR_VMS: NLA_U32, live VMs
 *        STW_WORLD_A_ACTIVE: NLA_U32, VMs counted in this cycle (0 in RUN_ALL)
 *        STW_WORLD_A_STOPPED: NLA_U32, VMs parked in this cycle
 *        STW_WORLD_A_HOLDS: NLA_U32, stop holds outstanding
 *        STW_WORLD_A_STEP_VM: NLA_U32, the RUN_ONE target, only in RUN_ONE
 *        STW_WORLD_A_CYCLES: NLA_U64, stop cycles that reached STOPPED
 *        STW_WORLD_A_TIMEOUTS: NLA_U64, stop requests that timed out
 *        STW_WORLD_A_LAST_TTS_NS: NLA_U64, time to stop of the latest cycle
 *        STW_WORLD_A_MAX_TTS_NS: NLA_U64, the longest time to stop seen
 *        STW_WORLD_A_TTS_HIST: NLA_NESTED, STW_TTS_HIST_BUCKETS x NLA_U64;
 *            attribute type i + 1 counts cycles with 2^i <= tts_ns < 2^(i+1)
 *            (bucket 0 also holds tts_ns < 1)
 *        STW_WORLD_A_VIOLATIONS: NLA_NESTED, STW_INV_COUNT x NLA_U64;
 *            attribute type i + 1 counts violations of invariant I(i+1)
 *        STW_WORLD_A_KERNEL_HOLDS: NLA_U32, of the holds, those taken by
 *            other modules (stw_stop_world()); RUN_ONE is refused (EBUSY)
 *            and FORCE leaves them while there is one
 *        STW_WORLD_A_EVENT_SEQ: NLA_U64, sequence number of the latest event
 *        STW_WORLD_A_NAME: NLA_NUL_STRING, the world's name
 *        STW_WORLD_A_OWNER: NLA_NUL_STRING, the module that made it ("stw"
 *            for the worlds of demo VMs)
 *
 * As a dump (NLM_F_DUMP, no attributes): first one message with STW_A_WORLD
 * as above, then one message per VM, in id order:
 *
 *    STW_A_VM: NLA_NESTED
 *        STW_VM_A_ID: NLA_U32
 *        STW_VM_A_NAME: NLA_NUL_STRING
 *        STW_VM_A_PID: NLA_U32, the VM thread's pid
 *        STW_VM_A_KIND: NLA_U32, enum stw_vm_kind
 *        STW_VM_A_STATE: NLA_U32, enum stw_vm_state, set by the VM itself
 *        STW_VM_A_DOING: NLA_U32, enum stw_vm_doing, sampled now
 *        STW_VM_A_STOPS: NLA_U64, times this VM parked
 *        STW_VM_A_LAST_TTS_NS: NLA_U64, stop request to this VM parking,
 *            its latest stop
 *        STW_VM_A_POLLS: NLA_U64, trap polls made, a progress counter
 *        STW_VM_A_JOBS: NLA_U64, jobs run
 *
 * The dump is one consistent picture: if the world changed mode or gained
 * or lost a VM while it was read, its messages carry NLM_F_DUMP_INTR and
 * the client should dump again.
 *
 * STW_CMD_WORLDS
 * --------------
 *
 * A dump, no attributes: one message per world, in the order they were
 * made, each with STW_A_WORLD as STATUS's.
 *
 * STW_CMD_STOP
 * ------------
 *
 * Takes a stop hold and begins (or joins) a stop cycle. May contain:
 *
 *    STW_A_TIMEOUT_MS: NLA_U32, 1..STW_TIMEOUT_MAX_MS, how long the world
 *        may take to stop (default STW_TIMEOUT_DEFAULT_MS)
 *    STW_A_KEEP_WAITING: NLA_FLAG, on timeout keep the hold and the world
 *        STOPPING instead of rolling back
 *    STW_A_LEASE_MS: NLA_U32, 1..STW_LEASE_MAX_MS: a detached hold that
 *        outlives the requesting socket and is released by STW_CMD_RESUME
 *        or when the lease expires. Without it the hold belongs to the
 *        requesting socket and is released when that socket closes.
 *
 * Replies at once with the cycle it joined:
 *
 *    STW_A_CYCLE: NLA_NESTED
 *        STW_CYCLE_A_GENERATION: NLA_U64
 *        STW_CYCLE_A_TTS_NS: NLA_U64, time to stop, if already STOPPED
 *        STW_CYCLE_A_JOINED: NLA_FLAG, the cycle was already in progress
 *        STW_CYCLE_A_HOLD_ID: NLA_U32, the hold taken
 *        STW_CYCLE_A_HOLDS: NLA_U32, holds outstanding
 *        STW_CYCLE_A_PENDING: NLA_FLAG, the world has not stopped yet: a
 *            STW_CMD_DONE_NTF follows
 *
 * A request that joins a cycle already STOPPED completes at once (no
 * PENDING), also while a step of another controller runs (RUN_ONE): the
 * hold keeps the world from resuming and the stepped VM parks again when
 * its step ends. If the reply cannot be delivered, the hold is dropped and
 * the request fails.
 *
 * STW_CMD_RESUME
 * --------------
 *
 * Releases stop holds; the world resumes when none is left. May contain:
 *
 *    STW_A_HOLD_ID: NLA_U32, release this hold only
 *    STW_A_FORCE: NLA_FLAG, release every hold but those of kernel modules
 *        (stw_stop_world()): they were promised every VM parked until
 *        they resume
 *
 * With neither, releases the holds of the requesting socket and every
 * detached (leased) hold. Fails with EALREADY if there was nothing to
 * release. Replies with STW_A_CYCLE (GENERATION, HOLDS) and STW_A_RESUMED.
 *
 *    STW_A_RESUMED: NLA_FLAG, the world is RUN_ALL now
 *
 * STW_CMD_RUN_ONE
 * ---------------
 *
 * From STOPPED, lets one VM run while the others stay parked, until it
 * stops again (its polls are used up, it goes idle or it exits). Refused
 * with EBUSY while another module holds the world (STW_WORLD_A_KERNEL_HOLDS):
 * such a holder was promised that every VM stays parked.
 *
 *    STW_A_VM_ID: NLA_U32, required, the target
 *    STW_A_POLLS: NLA_U32, 1..STW_COUNT_MAX, polls it may pass (default 1)
 *    STW_A_TIMEOUT_MS: NLA_U32, 1..STW_TIMEOUT_MAX_MS (default 5000)
 *
 * Replies at once with STW_A_CYCLE (GENERATION, HOLDS, PENDING); the
 * STW_CMD_DONE_NTF that follows carries STW_A_VM of the target (unless it
 * was destroyed during the step). On timeout the world stays RUN_ONE until
 * the target stops or the world is resumed.
 *
 * STW_CMD_SPAWN
 * -------------
 *
 * Creates demo VMs running a built-in workload.
 *
 *    STW_A_SPAWN: NLA_NESTED, required
 *        STW_SPAWN_A_ACTIVE: NLA_U32, VMs that run jobs continuously,
 *            polling every few microseconds of work
 *        STW_SPAWN_A_IDLE: NLA_U32, VMs that sleep in their loop
 *        STW_SPAWN_A_BURSTY: NLA_U32, short jobs with idle gaps
 *        STW_SPAWN_A_NOPOLL: NLA_U32, VMs that run without ever polling
 *            (they make a stop time out)
 *
 * At least one count must be non-zero, at most STW_SPAWN_MAX in all per
 * request (so that one request stays short; a client asks again for more);
 * at most STW_MAX_VMS VMs live at once. Replies with the ids created:
 *
 *    STW_A_VM_ID: NLA_U32, repeated, one per VM
 *    STW_A_COUNT: NLA_U32, how many
 *
 * STW_CMD_KILL
 * ------------
 *
 * Destroys demo VMs (VMs registered by other modules are theirs to destroy).
 *
 *    STW_A_VM_ID: NLA_U32, repeated, 1..STW_KILL_MAX of them
 *    STW_A_KILL_ALL: NLA_FLAG, demo VMs in id order instead, at most
 *        STW_KILL_MAX of them; STW_A_MORE in the reply says some are left
 *
 * Replies with STW_A_COUNT, how many were destroyed, and STW_A_VM_ID
 * repeated, their ids.
 *
 *    STW_A_MORE: NLA_FLAG, KILL_ALL stopped at STW_KILL_MAX; ask again
 *
 * STW_CMD_QUEUE_JOB
 * -----------------
 *
 * Gives a demo VM work: queues jobs on its run loop. Each job enters the
 * VM, runs STW_A_POLLS units of work polling after each, and leaves.
 *
 *    STW_A_VM_ID: NLA_U32, required
 *    STW_A_JOBS: NLA_U32, 1..STW_COUNT_MAX, jobs to queue (default 1)
 *    STW_A_POLLS: NLA_U32, 1..STW_COUNT_MAX, polls per job (default 100)
 *
 * Completions
 * -----------
 *
 * STW_CMD_DONE_NTF, sent to the socket that made a STOP (with PENDING in
 * its reply) or a RUN_ONE, with the request's nlmsg_seq:
 *
 *    STW_A_ERRNO: NLA_U32, 0 when it succeeded, else a positive errno:
 *        ETIMEDOUT (the stop or the step did not complete in time),
 *        ECANCELED (the STOP's hold was released before the world stopped),
 *        ESHUTDOWN (stw is unloading)
 *    STW_A_MESSAGE: NLA_NUL_STRING, what an extack would have said, with
 *        any non-zero STW_A_ERRNO
 *    STW_A_CYCLE: GENERATION, TTS_NS (when stopped), HOLD_ID (while the
 *        hold stands), HOLDS
 *    STW_A_VM: a RUN_ONE's target after its step
 *    laggards, on a STOP's ETIMEDOUT, as in STW_CMD_TIMEOUT_NTF
 *
 * Events
 * ------
 *
 * The multicast group "events" (STW_MCGRP_EVENTS) carries, in the order the
 * world went through them (STW_A_EVENT_SEQ grows by one per event; a gap
 * means events were lost):
 *
 *    STW_CMD_STOPPED_NTF: STW_A_CYCLE (GENERATION, TTS_NS), and
 *        STW_WORLD_A_STEP_VM inside STW_A_WORLD when a step ended
 *    STW_CMD_RESUMED_NTF: STW_A_CYCLE (GENERATION)
 *    STW_CMD_TIMEOUT_NTF: STW_A_CYCLE (GENERATION, HOLD_ID if kept), and
 *        STW_A_LAGGARD: NLA_NESTED, repeated, each as STW_A_VM of the dump
 *        STW_A_LAGGARDS_TOTAL: NLA_U32, VMs that had not parked
 *        STW_A_LAGGARDS_TRUNCATED: NLA_FLAG, fewer STW_A_LAGGARD than
 *            STW_A_LAGGARDS_TOTAL: the message had no room for all
 *        STW_A_STACKS_LOGGED: NLA_FLAG, the laggards' stacks were written
 *            to the kernel log
 *    STW_CMD_VM_ADDED_NTF: STW_A_VM
 *    STW_CMD_VM_GONE_NTF: STW_A_VM (ID, NAME)
 *    STW_CMD_LEASE_EXPIRED_NTF: STW_A_HOLD_ID, a detached hold whose lease
 *        ran out
 *
 *    STW_A_EVENT_SEQ: NLA_U64, in every event
 */

#ifndef _UAPI_STW_H
#define _UAPI_STW_H

#define STW_GENL_NAME		"stw"
#define STW_GENL_VERSION	3
#define STW_MCGRP_EVENTS	"events"

/* Limits, for the module, its policies and its clients alike. */
#define STW_MAX_VMS		16384	/* live VMs at once */
#define STW_SPAWN_MAX		1024	/* VMs created by one SPAWN */
#define STW_KILL_MAX		1024	/* VMs destroyed by one KILL */
#define STW_TIMEOUT_MAX_MS	600000	/* STW_A_TIMEOUT_MS */
#define STW_TIMEOUT_DEFAULT_MS	5000
#define STW_LEASE_MAX_MS	86400000	/* STW_A_LEASE_MS: a day */
#define STW_COUNT_MAX		1000000	/* STW_A_POLLS, STW_A_JOBS */
#define STW_POLLS_DEFAULT	1	/* RUN_ONE's STW_A_POLLS */
#define STW_JOB_POLLS_DEFAULT	100	/* QUEUE_JOB's STW_A_POLLS */
#define STW_MAX_HOLDS		1024	/* stop holds at once */
#define STW_VM_NAME_LEN		32
#define STW_WORLD_NAME_LEN	32
#define STW_WORLD_DEFAULT	"demo"	/* STW_A_WORLD_NAME's default */
#define STW_MAX_WORLDS		64
#define STW_TTS_HIST_BUCKETS	40

enum stw_cmd {
	STW_CMD_UNSPEC,
	STW_CMD_STATUS,
	STW_CMD_STOP,
	STW_CMD_RESUME,
	STW_CMD_RUN_ONE,
	STW_CMD_SPAWN,
	STW_CMD_KILL,
	STW_CMD_QUEUE_JOB,
	STW_CMD_STOPPED_NTF,
	STW_CMD_RESUMED_NTF,
	STW_CMD_TIMEOUT_NTF,
	STW_CMD_VM_ADDED_NTF,
	STW_CMD_VM_GONE_NTF,
	STW_CMD_DONE_NTF,
	STW_CMD_LEASE_EXPIRED_NTF,
	STW_CMD_WORLDS,
	__STW_CMD_MAX
};

#define STW_CMD_MAX (__STW_CMD_MAX - 1)

enum stw_world_mode {
	STW_RUN_ALL,	/* every VM runs; nothing is counted */
	STW_STOPPING,	/* a stop cycle waits for its counted VMs to park */
	STW_STOPPED,	/* every counted VM parked; held by stop holds */
	STW_RUN_ONE,	/* stopped, but one VM runs a step */
};

enum stw_vm_kind {
	STW_VM_KIND_EXTERNAL,	/* made by another module: stw_vm_create() */
	STW_VM_KIND_ACTIVE,	/* the demo's (SPAWN) */
	STW_VM_KIND_IDLE,
	STW_VM_KIND_BURSTY,
	STW_VM_KIND_NOPOLL,
	STW_VM_KIND_WORKER,	/* another module's kthread_worker, attached */
	STW_VM_KIND_KTHREAD,	/* another module's plain kthread, registered */
};

enum stw_vm_state {
	STW_VM_STARTING,	/* created, has not run or parked yet */
	STW_VM_RUNNING,
	STW_VM_STOPPED,		/* parked at a stop point */
};

/* What a VM is doing, as seen from outside; names laggards on timeout. */
enum stw_vm_doing {
	STW_VM_DOING_IDLE,		/* asleep in its run loop */
	STW_VM_DOING_IDLE_DISPATCHED,	/* idle, stop work queued, not run */
	STW_VM_DOING_RUNNING,		/* entered, running, not polling */
	STW_VM_DOING_BLOCKED,		/* entered, asleep outside a stop point */
	STW_VM_DOING_PARKED,		/* parked at a stop point */
};

/* Invariants (Documentation/design.md), in STW_WORLD_A_VIOLATIONS order. */
enum stw_invariant {
	STW_INV_I1,	/* while STOPPING: stopped <= active */
	STW_INV_I2,	/* in RUN_ALL: no count, no VM counted */
	STW_INV_I3,	/* in STOPPED: every counted VM says stopped */
	STW_INV_I4,	/* at most one stop work per VM per cycle */
	STW_INV_I5,	/* generations strictly increase */
	STW_INV_COUNT
};

enum stw_attr {
	STW_A_UNSPEC,
	STW_A_PAD,
	STW_A_WORLD,
	STW_A_VM,
	STW_A_VM_ID,
	STW_A_VM_IDS,		/* unused since version 2 */
	STW_A_TIMEOUT_MS,
	STW_A_KEEP_WAITING,
	STW_A_LEASE_MS,
	STW_A_HOLD_ID,
	STW_A_FORCE,
	STW_A_POLLS,
	STW_A_SPAWN,
	STW_A_KILL_ALL,
	STW_A_CYCLE,
	STW_A_LAGGARDS,		/* unused since version 2 */
	STW_A_RESUMED,
	STW_A_JOBS,
	STW_A_COUNT,
	STW_A_MORE,
	STW_A_ERRNO,
	STW_A_MESSAGE,
	STW_A_LAGGARD,
	STW_A_LAGGARDS_TOTAL,
	STW_A_LAGGARDS_TRUNCATED,
	STW_A_STACKS_LOGGED,
	STW_A_EVENT_SEQ,
	STW_A_WORLD_NAME,
	__STW_A_MAX
};

#define STW_A_MAX (__STW_A_MAX - 1)

enum stw_world_attr {
	STW_WORLD_A_UNSPEC,
	STW_WORLD_A_PAD,
	STW_WORLD_A_MODE,
	STW_WORLD_A_GENERATION,
	STW_WORLD_A_NR_VMS,
	STW_WORLD_A_ACTIVE,
	STW_WORLD_A_STOPPED,
	STW_WORLD_A_HOLDS,
	STW_WORLD_A_STEP_VM,
	STW_WORLD_A_CYCLES,
	STW_WORLD_A_TIMEOUTS,
	STW_WORLD_A_LAST_TTS_NS,
	STW_WORLD_A_MAX_TTS_NS,
	STW_WORLD_A_TTS_HIST,
	STW_WORLD_A_VIOLATIONS,
	STW_WORLD_A_KERNEL_HOLDS,
	STW_WORLD_A_EVENT_SEQ,
	STW_WORLD_A_NAME,
	STW_WORLD_A_OWNER,
	__STW_WORLD_A_MAX
};

#define STW_WORLD_A_MAX (__STW_WORLD_A_MAX - 1)

enum stw_vm_attr {
	STW_VM_A_UNSPEC,
	STW_VM_A_PAD,
	STW_VM_A_ID,
	STW_VM_A_NAME,
	STW_VM_A_PID,
	STW_VM_A_KIND,
	STW_VM_A_STATE,
	STW_VM_A_DOING,
	STW_VM_A_STOPS,
	STW_VM_A_LAST_TTS_NS,
	STW_VM_A_POLLS,
	STW_VM_A_JOBS,
	__STW_VM_A_MAX
};

#define STW_VM_A_MAX (__STW_VM_A_MAX - 1)

enum stw_cycle_attr {
	STW_CYCLE_A_UNSPEC,
	STW_CYCLE_A_PAD,
	STW_CYCLE_A_GENERATION,
	STW_CYCLE_A_TTS_NS,
	STW_CYCLE_A_JOINED,
	STW_CYCLE_A_HOLD_ID,
	STW_CYCLE_A_HOLDS,
	STW_CYCLE_A_PENDING,
	__STW_CYCLE_A_MAX
};

#define STW_CYCLE_A_MAX (__STW_CYCLE_A_MAX - 1)

enum stw_spawn_attr {
	STW_SPAWN_A_UNSPEC,
	STW_SPAWN_A_ACTIVE,
	STW_SPAWN_A_IDLE,
	STW_SPAWN_A_BURSTY,
	STW_SPAWN_A_NOPOLL,
	__STW_SPAWN_A_MAX
};

#define STW_SPAWN_A_MAX (__STW_SPAWN_A_MAX - 1)

#endif /* _UAPI_STW_H */
