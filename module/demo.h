/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Demo VMs (demo.c): VMs with a built-in workload, so that stw can be
 * tried on its own. A client of the in-kernel API like any other module.
 */
#ifndef _STW_DEMO_H
#define _STW_DEMO_H

#include <linux/types.h>

#include "uapi/stw.h"

int stw_demo_spawn(enum stw_vm_kind kind, u32 *id);
int stw_demo_kill(u32 id);
bool stw_demo_kill_all(u32 *ids, unsigned int max, unsigned int *n);
bool stw_demo_exists(u32 id);
int stw_demo_queue_jobs(u32 id, u32 jobs, u32 polls);
void stw_demo_exit(void);

#endif /* _STW_DEMO_H */
