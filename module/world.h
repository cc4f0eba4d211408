/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world: the state machine every VM takes part in. Internal to stw.
 */
#ifndef _STW_WORLD_H
#define _STW_WORLD_H

#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "stw.h"
#include "probe.h"

/* The active count in RUN_ALL, where counting means nothing (I2). */
#define STW_ACTIVE_SENTINEL	U32_MAX

/**
 * struct stw_world - the one world all VMs belong to
 * @lock: protects every field below but @violations and @wq, and the
 *	"world lock" fields of every VM. Taken by controllers and by VM
 *	threads at their stop points; never held while parking.
 * @mode: RUN_ALL, STOPPING, STOPPED or RUN_ONE
 * @generation: the current (or latest) stop cycle; grows at RUN_ALL->STOPPING
 * @epoch: grows at each stop cycle and each step: at most one stop work per
 *	VM per epoch (I4)
 * @reached: the latest generation that reached STOPPED
 * @active: VMs counted in this cycle, STW_ACTIVE_SENTINEL in RUN_ALL
 * @stopped: counted VMs parked now
 * @vms: id -> struct stw_vm, the live VMs
 * @nr_vms: VMs in @vms, and VMs being created
 * @next_vm_id: where the cyclic VM id allocation goes on
 * @step_vm: the RUN_ONE target
 * @step_seq: grows at the end of each step
 * @stop_start: when this cycle was requested
 * @holds: the stop holds (struct stw_hold)
 * @nr_holds: entries in @holds
 * @next_hold_id: id for the next hold
 * @lease_work: releases holds whose lease expired
 * @shutting_down: the module is going away; requests fail
 * @wq: controllers waiting for a stop, a step or a resume
 */
struct stw_world {
	struct mutex lock;	/* the world lock: see above */
	enum stw_world_mode mode;
	u64 generation;
	u64 epoch;
	u64 reached;
	u32 active;
	u32 stopped;
	struct xarray vms;
	u32 nr_vms;
	u32 next_vm_id;
	struct stw_vm *step_vm;
	u64 step_seq;
	ktime_t stop_start;

	struct list_head holds;
	u32 nr_holds;
	u32 next_hold_id;
	struct delayed_work lease_work;
	bool shutting_down;

	/* statistics, world lock */
	u64 cycles;
	u64 timeouts;
	u64 last_tts_ns;
	u64 max_tts_ns;
	u64 tts_hist[STW_TTS_HIST_BUCKETS];

	atomic64_t violations[STW_INV_COUNT];
	wait_queue_head_t wq;
};

extern struct stw_world stw_world;

/* What a stop point tells the controllers once the world lock is dropped. */
struct stw_report {
	bool stopped;
	bool resumed;
	struct stw_stop_info info;
};

void stw_world_init(void);
void stw_world_exit(void);

u64 stw_world_begin_stop(bool *joined, struct stw_report *rep);
void stw_world_resume(struct stw_report *rep);
void stw_world_maybe_stopped(struct stw_report *rep);
u64 stw_world_step(struct stw_vm *vm, u32 polls);
void stw_world_arm_new_vm(struct stw_vm *vm);
void stw_world_vm_gone(struct stw_vm *vm, struct stw_report *rep);
void stw_world_report(const struct stw_report *rep);
void stw_vm_dispatch_stop(struct stw_vm *vm);
void stw_mutant_stop_by_hand(struct stw_vm *vm);

/* A VM as reported to user space, copied under the world lock. */
struct stw_vm_snap {
	u32 id;
	char name[STW_VM_NAME_LEN];
	u32 pid;
	enum stw_vm_kind kind;
	enum stw_vm_state state;
	enum stw_vm_doing doing;
	u64 stops;
	u64 last_tts_ns;
	u64 polls;
	u64 jobs;
};

void stw_vm_snapshot(struct stw_vm *vm, struct stw_vm_snap *snap);

void stw_violation(enum stw_invariant inv, const char *fmt, ...) __printf(2, 3);

/* Holds: hold.c */
#define STW_MAX_HOLDS		1024
#define STW_MAX_LAGGARDS	256	/* named in a stop that timed out */

enum stw_hold_kind {
	STW_HOLD_SOCKET,	/* dropped when its netlink socket goes */
	STW_HOLD_LEASE,		/* detached, dropped when its lease expires */
	STW_HOLD_KERNEL,	/* taken with stw_stop_world() */
};

struct stw_hold {
	struct list_head node;
	u32 id;
	enum stw_hold_kind kind;
	u32 portid;		/* STW_HOLD_SOCKET: the owning socket */
	unsigned long expires;	/* STW_HOLD_LEASE: jiffies */
};

/* What a stop request learns. */
struct stw_stop_result {
	u64 generation;
	u64 tts_ns;		/* valid when the stop succeeded */
	bool joined;
	u32 hold_id;		/* 0 once the hold is gone */
	u32 holds;
	struct stw_vm_snap *laggards;	/* on -ETIMEDOUT; kfree() it */
	unsigned int nlaggards;
};

int stw_hold_stop(enum stw_hold_kind kind, u32 portid, u32 lease_ms,
		  u32 timeout_ms, bool keep, struct stw_stop_result *res);
struct stw_hold *stw_hold_find(u32 id);
void stw_hold_drop(struct stw_hold *hold, struct stw_report *rep);
unsigned int stw_hold_drop_owned(u32 portid, bool leased_too,
				 struct stw_report *rep);
unsigned int stw_hold_drop_all(struct stw_report *rep);
void stw_hold_lease_work(struct work_struct *work);
int stw_hold_init(void);
void stw_hold_exit(void);

/* Events: netlink.c */
void stw_event_stopped(const struct stw_stop_info *info);
void stw_event_resumed(u64 generation);
void stw_event_vm(struct stw_vm *vm, bool added);
void stw_event_timeout(u64 generation, const struct stw_vm_snap *laggards,
		       unsigned int n);
int stw_netlink_init(void);
void stw_netlink_exit(void);

/* Demo VMs: workload.c */
int stw_demo_spawn(enum stw_vm_kind kind, u32 *id);
int stw_demo_kill(u32 id);
void stw_demo_kill_all(u32 *ids, unsigned int max, unsigned int *n);
bool stw_demo_exists(u32 id);
int stw_demo_queue_jobs(u32 id, u32 jobs, u32 polls);

#endif /* _STW_WORLD_H */
