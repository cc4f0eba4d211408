/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: the stw attribute tree (uapi/stw.h) parsed into plain structs,
 * with user-side policies.
 */
#ifndef STWCTL_ATTRS_H
#define STWCTL_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

#include "uapi/stw.h"

/* Top-level attributes of any stw message, checked against a policy. */
extern struct nla_policy stw_policy[STW_A_MAX + 1];

struct stw_world_info {
	uint32_t mode;
	uint64_t generation;
	uint32_t nr_vms;
	uint32_t active;
	uint32_t stopped;
	uint32_t holds;
	bool has_step_vm;
	uint32_t step_vm;
	uint64_t cycles;
	uint64_t timeouts;
	uint64_t last_tts_ns;
	uint64_t max_tts_ns;
	uint64_t tts_hist[STW_TTS_HIST_BUCKETS];
	uint64_t violations[STW_INV_COUNT];
};

struct stw_vm_info {
	uint32_t id;
	char name[STW_VM_NAME_LEN];
	uint32_t pid;
	uint32_t kind;
	uint32_t state;
	uint32_t doing;
	uint64_t stops;
	uint64_t last_tts_ns;
	uint64_t polls;
	uint64_t jobs;
};

struct stw_cycle_info {
	bool present;
	uint64_t generation;
	bool has_tts;
	uint64_t tts_ns;
	bool joined;
	bool has_hold_id;
	uint32_t hold_id;
	uint32_t holds;
};

/* A growing array of VMs (a STATUS dump, laggards). */
struct stw_vms {
	struct stw_vm_info *v;
	size_t n, cap;
};

/* A growing array of VM ids (STW_A_VM_IDS). */
struct stw_ids {
	uint32_t *v;
	size_t n, cap;
};

/* Each returns 0, or -1 if the nest is malformed or memory ran out. */
int stw_parse_world(struct nlattr *nest, struct stw_world_info *w);
int stw_parse_vm(struct nlattr *nest, struct stw_vm_info *vm);
int stw_parse_cycle(struct nlattr *nest, struct stw_cycle_info *c);
int stw_parse_laggards(struct nlattr *nest, struct stw_vms *vms);
int stw_parse_ids(struct nlattr *nest, struct stw_ids *ids);

int stw_vms_add(struct stw_vms *vms, const struct stw_vm_info *vm);
void stw_vms_free(struct stw_vms *vms);
int stw_ids_add(struct stw_ids *ids, uint32_t id);
void stw_ids_free(struct stw_ids *ids);

/* "STW_A_TIMEOUT_MS" etc., for error messages; NULL if unknown. */
const char *stw_attr_name(int type);
const char *stw_spawn_attr_name(int type);

#endif /* STWCTL_ATTRS_H */
