// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: parse the stw attribute tree (uapi/stw.h) into plain structs.
 * Every nest is checked against a user-side policy; attributes newer than
 * this tool are ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "attrs.h"

struct nla_policy stw_policy[STW_A_MAX + 1] = {
	[STW_A_WORLD]		= { .type = NLA_NESTED },
	[STW_A_VM]		= { .type = NLA_NESTED },
	[STW_A_VM_ID]		= { .type = NLA_U32 },
	[STW_A_VM_IDS]		= { .type = NLA_NESTED },
	[STW_A_TIMEOUT_MS]	= { .type = NLA_U32 },
	[STW_A_KEEP_WAITING]	= { .type = NLA_FLAG },
	[STW_A_LEASE_MS]	= { .type = NLA_U32 },
	[STW_A_HOLD_ID]		= { .type = NLA_U32 },
	[STW_A_FORCE]		= { .type = NLA_FLAG },
	[STW_A_POLLS]		= { .type = NLA_U32 },
	[STW_A_SPAWN]		= { .type = NLA_NESTED },
	[STW_A_KILL_ALL]	= { .type = NLA_FLAG },
	[STW_A_CYCLE]		= { .type = NLA_NESTED },
	[STW_A_LAGGARDS]	= { .type = NLA_NESTED },
	[STW_A_RESUMED]		= { .type = NLA_FLAG },
	[STW_A_JOBS]		= { .type = NLA_U32 },
};

static struct nla_policy world_policy[STW_WORLD_A_MAX + 1] = {
	[STW_WORLD_A_MODE]		= { .type = NLA_U32 },
	[STW_WORLD_A_GENERATION]	= { .type = NLA_U64 },
	[STW_WORLD_A_NR_VMS]		= { .type = NLA_U32 },
	[STW_WORLD_A_ACTIVE]		= { .type = NLA_U32 },
	[STW_WORLD_A_STOPPED]		= { .type = NLA_U32 },
	[STW_WORLD_A_HOLDS]		= { .type = NLA_U32 },
	[STW_WORLD_A_STEP_VM]		= { .type = NLA_U32 },
	[STW_WORLD_A_CYCLES]		= { .type = NLA_U64 },
	[STW_WORLD_A_TIMEOUTS]		= { .type = NLA_U64 },
	[STW_WORLD_A_LAST_TTS_NS]	= { .type = NLA_U64 },
	[STW_WORLD_A_MAX_TTS_NS]	= { .type = NLA_U64 },
	[STW_WORLD_A_TTS_HIST]		= { .type = NLA_NESTED },
	[STW_WORLD_A_VIOLATIONS]	= { .type = NLA_NESTED },
};

static struct nla_policy vm_policy[STW_VM_A_MAX + 1] = {
	[STW_VM_A_ID]		= { .type = NLA_U32 },
	[STW_VM_A_NAME]		= { .type = NLA_STRING },
	[STW_VM_A_PID]		= { .type = NLA_U32 },
	[STW_VM_A_KIND]		= { .type = NLA_U32 },
	[STW_VM_A_STATE]	= { .type = NLA_U32 },
	[STW_VM_A_DOING]	= { .type = NLA_U32 },
	[STW_VM_A_STOPS]	= { .type = NLA_U64 },
	[STW_VM_A_LAST_TTS_NS]	= { .type = NLA_U64 },
	[STW_VM_A_POLLS]	= { .type = NLA_U64 },
	[STW_VM_A_JOBS]		= { .type = NLA_U64 },
};

static struct nla_policy cycle_policy[STW_CYCLE_A_MAX + 1] = {
	[STW_CYCLE_A_GENERATION]	= { .type = NLA_U64 },
	[STW_CYCLE_A_TTS_NS]		= { .type = NLA_U64 },
	[STW_CYCLE_A_JOINED]		= { .type = NLA_FLAG },
	[STW_CYCLE_A_HOLD_ID]		= { .type = NLA_U32 },
	[STW_CYCLE_A_HOLDS]		= { .type = NLA_U32 },
};

/* Attribute type i + 1 holds element i. */
static struct nla_policy u64_array_policy[STW_TTS_HIST_BUCKETS + 1] = {
	[1 ... STW_TTS_HIST_BUCKETS] = { .type = NLA_U64 },
};

#define GET_U32(tb, a, dst) do { if (tb[a]) (dst) = nla_get_u32(tb[a]); } while (0)
#define GET_U64(tb, a, dst) do { if (tb[a]) (dst) = nla_get_u64(tb[a]); } while (0)

static int parse_u64_array(struct nlattr *nest, uint64_t *v, int n)
{
	struct nlattr *tb[STW_TTS_HIST_BUCKETS + 1];
	int i;

	if (n > STW_TTS_HIST_BUCKETS ||
	    nla_parse_nested(tb, n, nest, u64_array_policy))
		return -1;
	for (i = 0; i < n; i++)
		v[i] = tb[i + 1] ? nla_get_u64(tb[i + 1]) : 0;
	return 0;
}

int stw_parse_world(struct nlattr *nest, struct stw_world_info *w)
{
	struct nlattr *tb[STW_WORLD_A_MAX + 1];

	memset(w, 0, sizeof(*w));
	if (nla_parse_nested(tb, STW_WORLD_A_MAX, nest, world_policy))
		return -1;
	GET_U32(tb, STW_WORLD_A_MODE, w->mode);
	GET_U64(tb, STW_WORLD_A_GENERATION, w->generation);
	GET_U32(tb, STW_WORLD_A_NR_VMS, w->nr_vms);
	GET_U32(tb, STW_WORLD_A_ACTIVE, w->active);
	GET_U32(tb, STW_WORLD_A_STOPPED, w->stopped);
	GET_U32(tb, STW_WORLD_A_HOLDS, w->holds);
	w->has_step_vm = tb[STW_WORLD_A_STEP_VM];
	GET_U32(tb, STW_WORLD_A_STEP_VM, w->step_vm);
	GET_U64(tb, STW_WORLD_A_CYCLES, w->cycles);
	GET_U64(tb, STW_WORLD_A_TIMEOUTS, w->timeouts);
	GET_U64(tb, STW_WORLD_A_LAST_TTS_NS, w->last_tts_ns);
	GET_U64(tb, STW_WORLD_A_MAX_TTS_NS, w->max_tts_ns);
	if (tb[STW_WORLD_A_TTS_HIST] &&
	    parse_u64_array(tb[STW_WORLD_A_TTS_HIST], w->tts_hist,
			    STW_TTS_HIST_BUCKETS))
		return -1;
	if (tb[STW_WORLD_A_VIOLATIONS] &&
	    parse_u64_array(tb[STW_WORLD_A_VIOLATIONS], w->violations,
			    STW_INV_COUNT))
		return -1;
	return 0;
}

int stw_parse_vm(struct nlattr *nest, struct stw_vm_info *vm)
{
	struct nlattr *tb[STW_VM_A_MAX + 1];

	memset(vm, 0, sizeof(*vm));
	if (nla_parse_nested(tb, STW_VM_A_MAX, nest, vm_policy) ||
	    !tb[STW_VM_A_ID])
		return -1;
	GET_U32(tb, STW_VM_A_ID, vm->id);
	if (tb[STW_VM_A_NAME])
		nla_strlcpy(vm->name, tb[STW_VM_A_NAME], sizeof(vm->name));
	GET_U32(tb, STW_VM_A_PID, vm->pid);
	GET_U32(tb, STW_VM_A_KIND, vm->kind);
	GET_U32(tb, STW_VM_A_STATE, vm->state);
	GET_U32(tb, STW_VM_A_DOING, vm->doing);
	GET_U64(tb, STW_VM_A_STOPS, vm->stops);
	GET_U64(tb, STW_VM_A_LAST_TTS_NS, vm->last_tts_ns);
	GET_U64(tb, STW_VM_A_POLLS, vm->polls);
	GET_U64(tb, STW_VM_A_JOBS, vm->jobs);
	return 0;
}

int stw_parse_cycle(struct nlattr *nest, struct stw_cycle_info *c)
{
	struct nlattr *tb[STW_CYCLE_A_MAX + 1];

	memset(c, 0, sizeof(*c));
	if (nla_parse_nested(tb, STW_CYCLE_A_MAX, nest, cycle_policy))
		return -1;
	c->present = true;
	GET_U64(tb, STW_CYCLE_A_GENERATION, c->generation);
	c->has_tts = tb[STW_CYCLE_A_TTS_NS];
	GET_U64(tb, STW_CYCLE_A_TTS_NS, c->tts_ns);
	c->joined = tb[STW_CYCLE_A_JOINED];
	c->has_hold_id = tb[STW_CYCLE_A_HOLD_ID];
	GET_U32(tb, STW_CYCLE_A_HOLD_ID, c->hold_id);
	GET_U32(tb, STW_CYCLE_A_HOLDS, c->holds);
	return 0;
}

int stw_parse_laggards(struct nlattr *nest, struct stw_vms *vms)
{
	struct stw_vm_info vm;
	struct nlattr *pos;
	int rem;

	nla_for_each_nested(pos, nest, rem) {
		if (nla_type(pos) != STW_A_VM)
			continue;
		if (stw_parse_vm(pos, &vm) || stw_vms_add(vms, &vm))
			return -1;
	}
	return 0;
}

int stw_parse_ids(struct nlattr *nest, struct stw_ids *ids)
{
	struct nlattr *pos;
	int rem;

	nla_for_each_nested(pos, nest, rem) {
		if (nla_type(pos) != STW_A_VM_ID)
			continue;
		if (nla_len(pos) < (int)sizeof(uint32_t) ||
		    stw_ids_add(ids, nla_get_u32(pos)))
			return -1;
	}
	return 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*v, ncap * size);
	if (!p)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

int stw_vms_add(struct stw_vms *vms, const struct stw_vm_info *vm)
{
	if (grow((void **)&vms->v, &vms->cap, vms->n, sizeof(*vm)))
		return -1;
	vms->v[vms->n++] = *vm;
	return 0;
}

void stw_vms_free(struct stw_vms *vms)
{
	free(vms->v);
	memset(vms, 0, sizeof(*vms));
}

int stw_ids_add(struct stw_ids *ids, uint32_t id)
{
	if (grow((void **)&ids->v, &ids->cap, ids->n, sizeof(id)))
		return -1;
	ids->v[ids->n++] = id;
	return 0;
}

void stw_ids_free(struct stw_ids *ids)
{
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

#define NAME(x) [x] = #x

static const char *const attr_names[STW_A_MAX + 1] = {
	NAME(STW_A_PAD), NAME(STW_A_WORLD), NAME(STW_A_VM),
	NAME(STW_A_VM_ID), NAME(STW_A_VM_IDS), NAME(STW_A_TIMEOUT_MS),
	NAME(STW_A_KEEP_WAITING), NAME(STW_A_LEASE_MS), NAME(STW_A_HOLD_ID),
	NAME(STW_A_FORCE), NAME(STW_A_POLLS), NAME(STW_A_SPAWN),
	NAME(STW_A_KILL_ALL), NAME(STW_A_CYCLE), NAME(STW_A_LAGGARDS),
	NAME(STW_A_RESUMED), NAME(STW_A_JOBS),
};

static const char *const spawn_attr_names[STW_SPAWN_A_MAX + 1] = {
	NAME(STW_SPAWN_A_ACTIVE), NAME(STW_SPAWN_A_IDLE),
	NAME(STW_SPAWN_A_BURSTY), NAME(STW_SPAWN_A_NOPOLL),
};

const char *stw_attr_name(int type)
{
	return type > 0 && type <= STW_A_MAX ? attr_names[type] : NULL;
}

const char *stw_spawn_attr_name(int type)
{
	return type > 0 && type <= STW_SPAWN_A_MAX ?
	       spawn_attr_names[type] : NULL;
}
