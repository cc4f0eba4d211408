/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stw_decode: the attribute tree of the "stw" family (uapi/stw.h) into
 * plain structs, for stwctl, the selftests and the benchmark alike.
 *
 * Every parser returns 0 or EBADMSG (a message that does not follow
 * uapi/stw.h: a missing attribute that is always sent, a wrong length) or
 * ENOMEM. Attributes newer than this file are ignored.
 */
#ifndef STW_DECODE_H
#define STW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

#include "uapi/stw.h"

/*
 * Room for STW_WORLD_A_OWNER, a module's name: the kernel's
 * MODULE_NAME_LEN is 64 - sizeof(long), and this is not uapi.
 */
#define STW_OWNER_LEN	64

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * STW_A_WORLD of a STATUS reply, the first message of a dump, a WORLDS
 * entry. @name and @owner are "" if the kernel did not send them (before
 * version 3).
 */
struct stw_world {
	char name[STW_WORLD_NAME_LEN];	/* STW_WORLD_A_NAME */
	char owner[STW_OWNER_LEN];	/* STW_WORLD_A_OWNER: a module's name */
	int mode;			/* enum stw_world_mode */
	uint64_t generation;
	uint32_t nr_vms;
	uint32_t active;
	uint32_t stopped;
	uint32_t holds;
	uint32_t kernel_holds;		/* of the holds, other modules' */
	bool has_step_vm;
	uint32_t step_vm;
	uint64_t cycles;
	uint64_t timeouts;
	uint64_t last_tts_ns;
	uint64_t max_tts_ns;
	uint64_t event_seq;		/* the latest event's STW_A_EVENT_SEQ */
	uint64_t tts_hist[STW_TTS_HIST_BUCKETS];
	uint64_t violations[STW_INV_COUNT];
};

/* STW_A_VM: a dump entry, a laggard, a RUN_ONE target, an event. */
struct stw_vm {
	uint32_t id;
	char name[STW_VM_NAME_LEN];
	uint32_t pid;
	int kind;			/* enum stw_vm_kind, -1 if absent */
	int state;			/* enum stw_vm_state, -1 if absent */
	int doing;			/* enum stw_vm_doing, -1 if absent */
	uint64_t stops;
	uint64_t last_tts_ns;
	uint64_t polls;
	uint64_t jobs;
};

/* STW_A_CYCLE of a reply, a completion or an event. */
struct stw_cycle {
	bool present;
	uint64_t generation;
	bool has_tts;
	uint64_t tts_ns;
	bool joined;
	bool has_hold_id;
	uint32_t hold_id;		/* 0 if absent */
	bool has_holds;
	uint32_t holds;
	bool pending;			/* a STW_CMD_DONE_NTF follows */
};

/* A growing array of VMs. */
struct stw_vm_list {
	struct stw_vm *vms;
	size_t n, cap;
};

/* A growing array of worlds (STW_CMD_WORLDS). */
struct stw_world_list {
	struct stw_world *worlds;
	size_t n, cap;
};

/* The VMs that did not park: STW_A_LAGGARD repeated and what goes along. */
struct stw_laggards {
	struct stw_vm_list list;
	uint32_t total;			/* STW_A_LAGGARDS_TOTAL */
	bool truncated;			/* fewer in the list than total */
	bool stacks_logged;		/* their stacks are in dmesg */
};

/* A growing array of VM ids (STW_A_VM_ID repeated). */
struct stw_ids {
	uint32_t *v;
	size_t n, cap;
};

/* STW_CMD_DONE_NTF: the completion of a STOP or a RUN_ONE. */
struct stw_done {
	char world[STW_WORLD_NAME_LEN];	/* STW_A_WORLD_NAME, "" if absent */
	int err;			/* STW_A_ERRNO: 0 or a positive errno */
	char msg[256];			/* STW_A_MESSAGE, "" if none */
	struct stw_cycle cycle;
	bool has_vm;
	struct stw_vm vm;		/* a RUN_ONE's target */
	struct stw_laggards laggards;
};

/* A message of the "events" group. */
struct stw_event {
	int cmd;			/* STW_CMD_*_NTF */
	char world[STW_WORLD_NAME_LEN];	/* STW_A_WORLD_NAME, "" if absent */
	uint64_t seq;			/* STW_A_EVENT_SEQ, 0 if absent */
	struct stw_cycle cycle;		/* .present if it came with one */
	bool has_step_vm;		/* STW_WORLD_A_STEP_VM in STW_A_WORLD */
	uint32_t step_vm;
	bool has_vm;
	struct stw_vm vm;		/* VM_GONE_NTF: ID and NAME only */
	struct stw_laggards laggards;	/* TIMEOUT_NTF */
	bool has_hold_id;		/* LEASE_EXPIRED_NTF */
	uint32_t hold_id;
};

/* Top-level attributes: genlmsg_parse() of a message of the family. */
int stw_parse_msg(struct nlmsghdr *nlh, struct nlattr **tb);

int stw_parse_world(const struct nlattr *nest, struct stw_world *w);
/* @full: every attribute of a dump entry; else ID (and NAME). */
int stw_parse_vm(const struct nlattr *nest, struct stw_vm *vm, bool full);
int stw_parse_cycle(const struct nlattr *nest, struct stw_cycle *c);
/* STW_A_LAGGARD in @attrs (all the top-level ones), TOTAL, flags in @tb. */
int stw_parse_laggards(struct nlattr **tb, struct nlattr *attrs, int len,
		       struct stw_laggards *l);
/* STW_A_VM_ID repeated at the top level of a message. */
int stw_parse_ids(struct nlattr *attrs, int len, struct stw_ids *ids);
int stw_parse_done(struct nlmsghdr *nlh, struct stw_done *d);
int stw_parse_event(struct nlmsghdr *nlh, struct stw_event *e);

int stw_vm_list_add(struct stw_vm_list *l, const struct stw_vm *vm);
void stw_vm_list_free(struct stw_vm_list *l);
int stw_world_list_add(struct stw_world_list *l, const struct stw_world *w);
void stw_world_list_free(struct stw_world_list *l);
const struct stw_world *stw_world_find(const struct stw_world_list *l,
				       const char *name);
const struct stw_vm *stw_vm_find(const struct stw_vm *vms, size_t n,
				 uint32_t id);
int stw_ids_add(struct stw_ids *ids, uint32_t id);
void stw_ids_free(struct stw_ids *ids);
void stw_laggards_free(struct stw_laggards *l);
void stw_done_free(struct stw_done *d);
void stw_event_free(struct stw_event *e);

/* Lower-case names, as in stwctl's output; "unknown" if out of range. */
const char *stw_mode_name(int mode);	/* run_all stopping stopped run_one */
const char *stw_kind_name(int kind);	/* external active idle bursty nopoll */
const char *stw_state_name(int state);	/* starting running stopped */
const char *stw_doing_name(int doing);	/* idle idle_dispatched running ... */
/* "STW_A_TIMEOUT_MS" etc., for error messages; NULL if unknown. */
const char *stw_attr_name(int type);
const char *stw_spawn_attr_name(int type);
uint64_t stw_violations_total(const struct stw_world *w);

#endif /* STW_DECODE_H */
