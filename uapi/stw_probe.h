/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * stw probe points: the control interface of the deterministic race tests.
 *
 * Documentation
 * =============
 *
 * The generic netlink family "stw_probe" (STW_PROBE_GENL_NAME) exists only
 * when stw.ko is loaded with probes=1. Every command needs CAP_NET_ADMIN.
 *
 * A probe point is a named place in the protocol (enum stw_probe_point).
 * Unarmed it is a static branch (a NOP). A test arms a point for one VM or
 * for any VM; the first thread that reaches it for that VM either parks
 * there until released (STW_PROBE_A_PARK) or just marks it reached. Hits of
 * every point are logged, in order, while any probe is armed.
 *
 * Probe points inside the world lock park holding it: while such a thread
 * is parked only this family answers (STATUS of "stw" waits).
 *
 * STW_PROBE_CMD_ARM
 *    STW_PROBE_A_POINT: NLA_U32, required
 *    STW_PROBE_A_VM: NLA_U32, the VM id, 0 (default) for any VM; points on
 *        a controller's thread with no VM (resume) match only 0
 *    STW_PROBE_A_PARK: NLA_FLAG, park the thread that reaches it
 *    Fails with EBUSY if that point is armed for that VM already.
 *
 * STW_PROBE_CMD_WAIT
 *    STW_PROBE_A_POINT, STW_PROBE_A_VM: an armed probe
 *    Does not wait (version 2: no handler sleeps). Replies at once with
 *    STW_PROBE_A_POINT and, if the probe was reached, STW_PROBE_A_REACHED
 *    and STW_PROBE_A_VM, the VM that reached it. To wait, join the
 *    "reached" group first (STW_PROBE_MCGRP_REACHED), then ask: if not
 *    reached yet, a STW_PROBE_CMD_REACHED_NTF (STW_PROBE_A_POINT,
 *    STW_PROBE_A_VM, STW_PROBE_A_ARMED_VM) follows when it is. A test that
 *    gives up sends STW_PROBE_CMD_RESET, so nothing stays parked.
 *    EINVAL if the probe is not armed.
 *
 * STW_PROBE_CMD_RELEASE
 *    STW_PROBE_A_POINT, STW_PROBE_A_VM: a reached probe; lets its thread go
 *    and disarms it. EINVAL if it was not reached.
 *
 * STW_PROBE_CMD_LOG (dump)
 *    One message per hit, oldest first (up to STW_PROBE_LOG_LEN kept):
 *    STW_PROBE_A_SEQ: NLA_U64, STW_PROBE_A_POINT, STW_PROBE_A_VM,
 *    STW_PROBE_A_GENERATION: NLA_U64, the world's generation at the hit
 *
 * STW_PROBE_CMD_RESET
 *    Releases every parked thread, disarms every probe, ungates every
 *    thread, clears the log.
 *
 * Gates (version 3), for a scheduler that runs one thread at a time (make
 * explore): a gated thread parks at every probe point it reaches, whatever
 * is armed, until it is let go past that one.
 *
 * STW_PROBE_CMD_GATE
 *    STW_PROBE_A_PID: NLA_U32, required: the thread (its pid, as gettid()
 *        or STATUS's STW_VM_A_PID says)
 *    STW_PROBE_A_GATED: NLA_FLAG: gate it; absent: ungate it (and let it
 *        go if it is parked at its gate)
 *    ENOSPC when STW_PROBE_GATES threads are gated already, ESRCH if no
 *    such thread, EBUSY if it is gated already.
 *    Or, instead of STW_PROBE_A_PID, STW_PROBE_A_BORN (NLA_FLAG): with
 *    STW_PROBE_A_GATED, gate the thread of every VM stw creates from now
 *    on (a SPAWN's), from before it runs any of stw's code; without it,
 *    stop (the threads gated so far stay gated). GATES lists them by
 *    their pid in the initial namespace; when every gate is in use, a new
 *    VM's thread goes ungated. STW_PROBE_CMD_RESET stops it too.
 *
 * STW_PROBE_CMD_GO
 *    STW_PROBE_A_PID: a gated thread parked at its gate; lets it go on to
 *    its next probe point. EINVAL if it is not parked there.
 *
 * STW_PROBE_CMD_GATES (dump)
 *    One message per gated thread: STW_PROBE_A_PID, STW_PROBE_A_SEQ (how
 *    many times it has parked at its gate), STW_PROBE_A_HOLDS (NLA_U32:
 *    how many of stw's locks it holds, the world's and a controller's,
 *    counted since it was gated), and while it is parked there
 *    STW_PROBE_A_PARKED (NLA_FLAG), STW_PROBE_A_POINT, STW_PROBE_A_VM.
 *    While stw's event worker has events to deliver, each message also has
 *    STW_PROBE_A_WORKER_BUSY (NLA_FLAG) and STW_PROBE_A_WORKER_PID (NLA_U32,
 *    the thread delivering them, in the initial namespace; 0: not started).
 */
#ifndef _UAPI_STW_PROBE_H
#define _UAPI_STW_PROBE_H

#define STW_PROBE_GENL_NAME	"stw_probe"
#define STW_PROBE_GENL_VERSION	3
#define STW_PROBE_MCGRP_REACHED	"reached"
#define STW_PROBE_LOG_LEN	4096
#define STW_PROBE_GATES		16

enum stw_probe_point {
	STW_PROBE_ENTRY_CHECKED,	/* after the unlocked entry-service check */
	/*
	 * The stop point. A VM in a stopping world counts itself arrived
	 * without the world lock; a step, a VM born after its cycle stopped
	 * or one that found no cycle counting takes the lock (slow path).
	 * BEFORE_COUNT and AFTER_COUNT fire in whichever path counts it.
	 */
	STW_PROBE_STOP_POINT_LOCK,	/* stop point reached, nothing read yet */
	STW_PROBE_BEFORE_COUNT,		/* says stopped, not counted yet */
	STW_PROBE_AFTER_COUNT,		/* counted as arrived */
	STW_PROBE_REPORT_STOPPED,	/* last arrival, before the world lock */
	STW_PROBE_PARKING,		/* counted, lock not held, about to park */
	STW_PROBE_STOP_WORK_QUEUED,	/* stop work queued for a VM */
	STW_PROBE_STOP_WORK_ENTER,	/* stop work about to enter */
	STW_PROBE_EXIT_IDLE,		/* leaving: entered cleared, trap not read */
	STW_PROBE_RESUME_CLEAR,		/* resume about to clear flags (locked) */
	STW_PROBE_VM_DESTROY,		/* a VM being destroyed */
	STW_PROBE_STEP_LEAVE,		/* a RUN_ONE target ending its step (locked) */
	STW_PROBE_CLAIMED,		/* place in the cycle claimed, not counted */
	STW_PROBE_ARMED,		/* the arming walk ended, its share given up */
	STW_PROBE_IDLE_WAIT,		/* a registered kthread found no stop, about to sleep */
	/* Where a gated thread settles (version 3): */
	STW_PROBE_JOB_POLL,		/* a demo job about to poll */
	STW_PROBE_UNPARKED,		/* the park's wait ended, nothing written yet */
	STW_PROBE_WORK_START,		/* a stop work began, nothing read yet */
	STW_PROBE_LOCKED,		/* a world or controller lock just taken */
	STW_PROBE_LOCKING,		/* about to take a world or controller lock */
	STW_PROBE_VM_STORED,		/* born in a stop: stored, not armed (locked) */
	STW_PROBE_COUNT
};

enum stw_probe_cmd {
	STW_PROBE_CMD_UNSPEC,
	STW_PROBE_CMD_ARM,
	STW_PROBE_CMD_WAIT,
	STW_PROBE_CMD_RELEASE,
	STW_PROBE_CMD_LOG,
	STW_PROBE_CMD_RESET,
	STW_PROBE_CMD_REACHED_NTF,
	STW_PROBE_CMD_GATE,
	STW_PROBE_CMD_GO,
	STW_PROBE_CMD_GATES,
	__STW_PROBE_CMD_MAX
};

#define STW_PROBE_CMD_MAX (__STW_PROBE_CMD_MAX - 1)

enum stw_probe_attr {
	STW_PROBE_A_UNSPEC,
	STW_PROBE_A_PAD,
	STW_PROBE_A_POINT,
	STW_PROBE_A_VM,
	STW_PROBE_A_PARK,
	STW_PROBE_A_TIMEOUT_MS,	/* unused since version 2 */
	STW_PROBE_A_SEQ,
	STW_PROBE_A_GENERATION,
	STW_PROBE_A_REACHED,
	STW_PROBE_A_ARMED_VM,
	STW_PROBE_A_PID,
	STW_PROBE_A_GATED,
	STW_PROBE_A_PARKED,
	STW_PROBE_A_HOLDS,
	STW_PROBE_A_WORKER_BUSY,
	STW_PROBE_A_WORKER_PID,
	STW_PROBE_A_BORN,
	__STW_PROBE_A_MAX
};

#define STW_PROBE_A_MAX (__STW_PROBE_A_MAX - 1)

#endif /* _UAPI_STW_PROBE_H */
