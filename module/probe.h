/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe points: the named places in the protocol where an interleaving
 * matters (DESIGN.md section 7). The race tests park a VM's thread at one of
 * them to force an interleaving.
 */
#ifndef _STW_PROBE_H
#define _STW_PROBE_H

struct stw_vm;

enum stw_probe_point {
	STW_PROBE_ENTRY_CHECKED,	/* after the unlocked entry-service check */
	STW_PROBE_STOP_POINT_LOCK,	/* stop point, before taking the lock */
	STW_PROBE_BEFORE_COUNT,		/* stop point, before counting */
	STW_PROBE_AFTER_COUNT,		/* stop point, after counting */
	STW_PROBE_REPORT_STOPPED,	/* the last VM moves the world to STOPPED */
	STW_PROBE_PARKING,		/* stop point, lock dropped, about to park */
	STW_PROBE_STOP_WORK_QUEUED,	/* stop work queued on an idle VM */
	STW_PROBE_STOP_WORK_ENTER,	/* stop work about to enter */
	STW_PROBE_RESUME_CLEAR,		/* resume about to clear flags */
	STW_PROBE_VM_DESTROY,		/* VM destroy during a stop */
	STW_PROBE_STEP_LEAVE,		/* a RUN_ONE target leaving */
	STW_PROBE_COUNT
};

static inline void stw_probe(enum stw_probe_point point, struct stw_vm *vm)
{
}

#endif /* _STW_PROBE_H */
