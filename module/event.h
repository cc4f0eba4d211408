/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events: what the world and the controller announce, delivered in order.
 *
 * The lowest layer of stw. Whoever changes the world posts an event while
 * it still holds the lock that ordered the change, so events are numbered
 * in the order the world went through them. One ordered worker delivers
 * them to the listeners of one notifier chain (netlink.c, control.c, the
 * stop notifiers of other modules), with no stw lock held. Nothing below
 * calls up: listeners subscribe, as netdev notifiers work.
 */
#ifndef _STW_EVENT_H
#define _STW_EVENT_H

#include <linux/list.h>
#include <linux/notifier.h>
#include <linux/types.h>

#include "uapi/stw.h"

struct stw_world;

enum stw_event_type {
	STW_EV_STOPPED,		/* a stop cycle or a step reached STOPPED */
	STW_EV_RESUMED,		/* the world is back in RUN_ALL */
	STW_EV_TIMEOUT,		/* a stop timed out; laggards named */
	STW_EV_VM_ADDED,
	STW_EV_VM_GONE,
	STW_EV_LEASE_EXPIRED,	/* a detached hold ran out of lease */
	STW_EV_DONE,		/* a STOP or RUN_ONE completed: tell its socket */
};

/* A VM as reported outside: copied when the event is posted. */
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

/* The VMs that had not parked when a stop timed out. */
struct stw_laggards {
	struct stw_vm_snap *vms;	/* kvfree()d with the event */
	u32 listed;
	u32 total;
	bool stacks_logged;
};

/**
 * struct stw_event - one thing that happened, as listeners see it
 * @node: in the delivery queue
 * @type: what happened
 * @world: the world it happened in; opaque here (events are below worlds)
 * @seq: its place in the order of events, from 1
 * @generation: the stop cycle it belongs to
 * @tts_ns: time to stop (STOPPED, DONE of a stop)
 * @step_vm: the VM whose step ended (STOPPED), or 0
 * @hold_id: the hold concerned (LEASE_EXPIRED, TIMEOUT, DONE), or 0
 * @holds: holds left (DONE)
 * @has_tts: @tts_ns is meaningful
 * @has_vm: @vm is meaningful
 * @vm: the VM (VM_ADDED, VM_GONE, DONE of a step)
 * @laggards: TIMEOUT, and DONE of a stop that timed out
 * @portid: DONE: the requesting socket
 * @nlseq: DONE: the request's sequence number
 * @err: DONE: 0 or a negative errno
 * @msg: DONE: what went wrong, for the requester
 */
struct stw_event {
	struct list_head node;
	enum stw_event_type type;
	struct stw_world *world;
	u64 seq;
	u64 generation;
	u64 tts_ns;
	u32 step_vm;
	u32 hold_id;
	u32 holds;
	bool has_tts;
	bool has_vm;
	struct stw_vm_snap vm;
	struct stw_laggards laggards;
	u32 portid;
	u32 nlseq;
	int err;
	const char *msg;
};

struct stw_event *stw_event_new(enum stw_event_type type);
void stw_event_post(struct stw_event *ev);
void stw_event_lost(void);
u64 stw_event_last_seq(void);
void stw_event_flush(void);

/* Listeners get (type, struct stw_event *), in order, may sleep. */
int stw_event_listen(struct notifier_block *nb);
void stw_event_unlisten(struct notifier_block *nb);

int stw_event_init(void);
void stw_event_exit(void);

#endif /* _STW_EVENT_H */
