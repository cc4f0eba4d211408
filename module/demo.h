/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Demo VMs (demo.c): VMs with a built-in workload, so that stw can be
 * tried on its own. A client of the in-kernel API like any other module.
 */
#ifndef _STW_DEMO_H
#define _STW_DEMO_H

#include <linux/types.h>

#include "uapi/stw.h"

/* Demo VMs by the name of their world and their id in it. */
int stw_demo_spawn(const char *world, enum stw_vm_kind kind, u32 *id);
int stw_demo_kill(const char *world, u32 id);
bool stw_demo_kill_all(const char *world, u32 *ids, unsigned int max,
		       unsigned int *n);
bool stw_demo_exists(const char *world, u32 id);
int stw_demo_queue_jobs(const char *world, u32 id, u32 jobs, u32 polls);

int stw_demo_init(void);
void stw_demo_exit(void);
void stw_demo_free(void);

#endif /* _STW_DEMO_H */
