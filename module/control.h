/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The controller (control.c): the one layer that takes the world lock on
 * someone's behalf. Stops, steps and resumes for netlink and for the
 * in-kernel API; stop holds, their leases and their owners' sockets;
 * completions of STOP and RUN_ONE; snapshots of the world and its VMs.
 * Nothing here waits for VMs on behalf of a netlink request: a request
 * that has to wait gets a ticket, and its outcome is posted as an
 * STW_EV_DONE event when it comes.
 */
#ifndef _STW_CONTROL_H
#define _STW_CONTROL_H

#include <linux/netlink.h>
#include <linux/types.h>

#include "event.h"
#include "world.h"

/* Laggards named in a TIMEOUT; the rest are counted. */
#define STW_LAGGARDS_LISTED	256

/* Who asked, for the completion: the netlink socket and request. */
struct stw_requester {
	u32 portid;
	u32 nlseq;
};

struct stw_stop_req {
	u32 timeout_ms;
	u32 lease_ms;		/* 0: the hold belongs to the socket */
	bool keep;		/* on timeout keep the hold: no rollback */
};

/* What a STOP, RUN_ONE or RESUME tells its requester at once. */
struct stw_cycle_res {
	u64 generation;
	u64 tts_ns;
	bool has_tts;		/* the world is stopped: @tts_ns is valid */
	bool joined;
	bool pending;		/* an STW_EV_DONE follows */
	bool resumed;		/* RESUME: the world is RUN_ALL now */
	u32 hold_id;
	u32 holds;
};

/* The world as STATUS shows it: its snapshot, and the controller's. */
struct stw_status {
	struct stw_world_snap w;
	u32 holds;
	u32 kernel_holds;
	u64 event_seq;
};

struct stw_ticket;

int stw_control_stop(struct stw_world *w, const struct stw_stop_req *req,
		     const struct stw_requester *who,
		     struct stw_cycle_res *res, struct stw_ticket **ticket,
		     struct netlink_ext_ack *extack);
int stw_control_step(struct stw_world *w, u32 vm_id, u32 polls,
		     u32 timeout_ms, const struct stw_requester *who,
		     struct stw_cycle_res *res, struct stw_ticket **ticket,
		     struct netlink_ext_ack *extack);
void stw_control_commit(struct stw_ticket *ticket, bool delivered);

/* RESUME: @hold_id 0 and !@force: the socket's holds and the leased ones. */
int stw_control_resume(struct stw_world *w, u32 hold_id, bool force,
		       u32 portid, struct stw_cycle_res *res,
		       struct netlink_ext_ack *extack);

void stw_control_status(struct stw_world *w, struct stw_status *st);
u32 stw_control_nr_vms(struct stw_world *w);
u64 stw_control_change_seq(struct stw_world *w);
bool stw_control_vm_next(struct stw_world *w, unsigned long *id,
			 struct stw_vm_snap *snap);

/* Worlds by name, for netlink: get and put within one handler call. */
struct stw_world *stw_control_world_get(const char *name);
void stw_control_world_put(struct stw_world *w);
bool stw_control_world_status(unsigned long *pos, struct stw_status *st);

int stw_control_init(void);
void stw_control_shutdown(void);
void stw_control_exit(void);

#endif /* _STW_CONTROL_H */
