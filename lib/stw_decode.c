// SPDX-License-Identifier: GPL-2.0
/*
 * stw_decode: parse the stw attribute tree (uapi/stw.h) into plain structs.
 * Lengths are checked here, attribute by attribute, instead of through a
 * libnl policy: a kernel that sends a wrong size is a bug the selftests
 * must see (EBADMSG), not a value to truncate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>

#include "stw_decode.h"

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nla_len(a) != sizeof(uint32_t))
		return EBADMSG;
	memcpy(v, nla_data(a), sizeof(*v));
	return 0;
}

static int get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || nla_len(a) != sizeof(uint64_t))
		return EBADMSG;
	memcpy(v, nla_data(a), sizeof(*v));
	return 0;
}

static int get_int(const struct nlattr *a, int *v)
{
	uint32_t u;

	if (get_u32(a, &u))
		return EBADMSG;
	*v = (int)u;
	return 0;
}

/* An optional attribute: absent is fine, a wrong length is not. */
static int opt_u32(const struct nlattr *a, bool *has, uint32_t *v)
{
	if (!a)
		return 0;
	if (has)
		*has = true;
	return get_u32(a, v);
}

static int opt_u64(const struct nlattr *a, uint64_t *v)
{
	return a ? get_u64(a, v) : 0;
}

static int opt_int(const struct nlattr *a, int *v)
{
	return a ? get_int(a, v) : 0;
}

static int get_flag(const struct nlattr *a, bool *v)
{
	if (!a)
		return 0;
	if (nla_len(a))
		return EBADMSG;
	*v = true;
	return 0;
}

static void get_str(const struct nlattr *a, char *buf, size_t size)
{
	size_t n = strnlen(nla_data(a), nla_len(a));

	if (n >= size)
		n = size - 1;
	memcpy(buf, nla_data(a), n);
	buf[n] = '\0';
}

/*
 * An optional NLA_NUL_STRING that must fit @buf whole: a name cut short
 * could name another world, so a longer one is a bad message, not a
 * value to truncate. Absent: "".
 */
static int opt_name(const struct nlattr *a, char *buf, size_t size)
{
	size_t n;

	buf[0] = '\0';
	if (!a)
		return 0;
	n = strnlen(nla_data(a), nla_len(a));
	if (n == (size_t)nla_len(a) || n >= size)
		return EBADMSG;
	memcpy(buf, nla_data(a), n + 1);
	return 0;
}

/* Attribute type i + 1 holds element i. */
static int get_u64_array(const struct nlattr *nest, uint64_t *v, int count)
{
	struct nlattr *tb[STW_TTS_HIST_BUCKETS + STW_INV_COUNT + 1];
	int i;

	if (!nest || count > STW_TTS_HIST_BUCKETS + STW_INV_COUNT ||
	    nla_parse_nested(tb, count, (struct nlattr *)nest, NULL))
		return EBADMSG;
	for (i = 0; i < count; i++)
		if (get_u64(tb[i + 1], &v[i]))
			return EBADMSG;
	return 0;
}

int stw_parse_msg(struct nlmsghdr *nlh, struct nlattr **tb)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN) ||
	    genlmsg_parse(nlh, 0, tb, STW_A_MAX, NULL))
		return EBADMSG;
	return 0;
}

int stw_parse_world(const struct nlattr *nest, struct stw_world *w)
{
	struct nlattr *tb[STW_WORLD_A_MAX + 1];

	memset(w, 0, sizeof(*w));
	if (!nest || nla_parse_nested(tb, STW_WORLD_A_MAX,
				      (struct nlattr *)nest, NULL))
		return EBADMSG;
	if (get_int(tb[STW_WORLD_A_MODE], &w->mode) ||
	    get_u64(tb[STW_WORLD_A_GENERATION], &w->generation) ||
	    get_u32(tb[STW_WORLD_A_NR_VMS], &w->nr_vms) ||
	    get_u32(tb[STW_WORLD_A_ACTIVE], &w->active) ||
	    get_u32(tb[STW_WORLD_A_STOPPED], &w->stopped) ||
	    get_u32(tb[STW_WORLD_A_HOLDS], &w->holds) ||
	    get_u64(tb[STW_WORLD_A_CYCLES], &w->cycles) ||
	    get_u64(tb[STW_WORLD_A_TIMEOUTS], &w->timeouts) ||
	    get_u64(tb[STW_WORLD_A_LAST_TTS_NS], &w->last_tts_ns) ||
	    get_u64(tb[STW_WORLD_A_MAX_TTS_NS], &w->max_tts_ns) ||
	    get_u64_array(tb[STW_WORLD_A_TTS_HIST], w->tts_hist,
			  STW_TTS_HIST_BUCKETS) ||
	    get_u64_array(tb[STW_WORLD_A_VIOLATIONS], w->violations,
			  STW_INV_COUNT) ||
	    opt_u32(tb[STW_WORLD_A_STEP_VM], &w->has_step_vm, &w->step_vm) ||
	    opt_u32(tb[STW_WORLD_A_KERNEL_HOLDS], NULL, &w->kernel_holds) ||
	    opt_u64(tb[STW_WORLD_A_EVENT_SEQ], &w->event_seq) ||
	    opt_name(tb[STW_WORLD_A_NAME], w->name, sizeof(w->name)) ||
	    opt_name(tb[STW_WORLD_A_OWNER], w->owner, sizeof(w->owner)))
		return EBADMSG;
	return 0;
}

int stw_parse_vm(const struct nlattr *nest, struct stw_vm *vm, bool full)
{
	struct nlattr *tb[STW_VM_A_MAX + 1];
	int i;

	memset(vm, 0, sizeof(*vm));
	vm->kind = vm->state = vm->doing = -1;
	if (!nest || nla_parse_nested(tb, STW_VM_A_MAX,
				      (struct nlattr *)nest, NULL) ||
	    get_u32(tb[STW_VM_A_ID], &vm->id))
		return EBADMSG;
	/* A dump entry has them all; an event may name the VM only. */
	for (i = STW_VM_A_NAME; full && i <= STW_VM_A_JOBS; i++)
		if (!tb[i])
			return EBADMSG;
	if (tb[STW_VM_A_NAME])
		get_str(tb[STW_VM_A_NAME], vm->name, sizeof(vm->name));
	if (opt_u32(tb[STW_VM_A_PID], NULL, &vm->pid) ||
	    opt_int(tb[STW_VM_A_KIND], &vm->kind) ||
	    opt_int(tb[STW_VM_A_STATE], &vm->state) ||
	    opt_int(tb[STW_VM_A_DOING], &vm->doing) ||
	    opt_u64(tb[STW_VM_A_STOPS], &vm->stops) ||
	    opt_u64(tb[STW_VM_A_LAST_TTS_NS], &vm->last_tts_ns) ||
	    opt_u64(tb[STW_VM_A_POLLS], &vm->polls) ||
	    opt_u64(tb[STW_VM_A_JOBS], &vm->jobs))
		return EBADMSG;
	return 0;
}

int stw_parse_cycle(const struct nlattr *nest, struct stw_cycle *c)
{
	struct nlattr *tb[STW_CYCLE_A_MAX + 1];

	memset(c, 0, sizeof(*c));
	if (!nest || nla_parse_nested(tb, STW_CYCLE_A_MAX,
				      (struct nlattr *)nest, NULL) ||
	    get_u64(tb[STW_CYCLE_A_GENERATION], &c->generation))
		return EBADMSG;
	c->present = true;
	if (tb[STW_CYCLE_A_TTS_NS]) {
		c->has_tts = true;
		if (get_u64(tb[STW_CYCLE_A_TTS_NS], &c->tts_ns))
			return EBADMSG;
	}
	if (get_flag(tb[STW_CYCLE_A_JOINED], &c->joined) ||
	    get_flag(tb[STW_CYCLE_A_PENDING], &c->pending) ||
	    opt_u32(tb[STW_CYCLE_A_HOLD_ID], &c->has_hold_id, &c->hold_id) ||
	    opt_u32(tb[STW_CYCLE_A_HOLDS], &c->has_holds, &c->holds))
		return EBADMSG;
	return 0;
}

int stw_parse_laggards(struct nlattr **tb, struct nlattr *attrs, int len,
		       struct stw_laggards *l)
{
	struct nlattr *a;
	struct stw_vm vm;
	int rem, err;

	memset(l, 0, sizeof(*l));
	nla_for_each_attr(a, attrs, len, rem) {
		if (nla_type(a) != STW_A_LAGGARD)
			continue;
		err = stw_parse_vm(a, &vm, true);
		if (!err)
			err = stw_vm_list_add(&l->list, &vm);
		if (err)
			goto err;
	}
	err = EBADMSG;
	if (opt_u32(tb[STW_A_LAGGARDS_TOTAL], NULL, &l->total) ||
	    get_flag(tb[STW_A_LAGGARDS_TRUNCATED], &l->truncated) ||
	    get_flag(tb[STW_A_STACKS_LOGGED], &l->stacks_logged))
		goto err;
	if (!tb[STW_A_LAGGARDS_TOTAL])
		l->total = l->list.n;
	if (l->total < l->list.n || (l->total > l->list.n && !l->truncated))
		goto err;
	return 0;
err:
	stw_laggards_free(l);
	return err;
}

int stw_parse_ids(struct nlattr *attrs, int len, struct stw_ids *ids)
{
	struct nlattr *a;
	uint32_t id;
	int rem;

	nla_for_each_attr(a, attrs, len, rem) {
		if (nla_type(a) != STW_A_VM_ID)
			continue;
		if (get_u32(a, &id))
			return EBADMSG;
		if (stw_ids_add(ids, id))
			return ENOMEM;
	}
	return 0;
}

static struct nlattr *msg_attrs(struct nlmsghdr *nlh, int *len)
{
	struct genlmsghdr *g = nlmsg_data(nlh);

	*len = genlmsg_attrlen(g, 0);
	return genlmsg_attrdata(g, 0);
}

int stw_parse_done(struct nlmsghdr *nlh, struct stw_done *d)
{
	struct nlattr *tb[STW_A_MAX + 1], *attrs;
	uint32_t err;
	int len;

	memset(d, 0, sizeof(*d));
	if (stw_parse_msg(nlh, tb) || get_u32(tb[STW_A_ERRNO], &err) ||
	    stw_parse_cycle(tb[STW_A_CYCLE], &d->cycle) ||
	    opt_name(tb[STW_A_WORLD_NAME], d->world, sizeof(d->world)))
		return EBADMSG;
	d->err = err;
	if (tb[STW_A_MESSAGE])
		get_str(tb[STW_A_MESSAGE], d->msg, sizeof(d->msg));
	if (tb[STW_A_VM]) {
		d->has_vm = true;
		if (stw_parse_vm(tb[STW_A_VM], &d->vm, true))
			return EBADMSG;
	}
	attrs = msg_attrs(nlh, &len);
	return stw_parse_laggards(tb, attrs, len, &d->laggards);
}

int stw_parse_event(struct nlmsghdr *nlh, struct stw_event *e)
{
	struct nlattr *tb[STW_A_MAX + 1], *wtb[STW_WORLD_A_MAX + 1], *attrs;
	int len;

	memset(e, 0, sizeof(*e));
	if (stw_parse_msg(nlh, tb))
		return EBADMSG;
	e->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	if (opt_u64(tb[STW_A_EVENT_SEQ], &e->seq) ||
	    opt_name(tb[STW_A_WORLD_NAME], e->world, sizeof(e->world)) ||
	    (tb[STW_A_CYCLE] && stw_parse_cycle(tb[STW_A_CYCLE], &e->cycle)) ||
	    opt_u32(tb[STW_A_HOLD_ID], &e->has_hold_id, &e->hold_id))
		return EBADMSG;
	/* A STOPPED_NTF after a step names the VM in a partial world. */
	if (tb[STW_A_WORLD] &&
	    (nla_parse_nested(wtb, STW_WORLD_A_MAX, tb[STW_A_WORLD], NULL) ||
	     opt_u32(wtb[STW_WORLD_A_STEP_VM], &e->has_step_vm, &e->step_vm)))
		return EBADMSG;
	if (tb[STW_A_VM]) {
		e->has_vm = true;
		if (stw_parse_vm(tb[STW_A_VM], &e->vm, false))
			return EBADMSG;
	}
	attrs = msg_attrs(nlh, &len);
	return stw_parse_laggards(tb, attrs, len, &e->laggards);
}

/* ---- growing arrays ---- */

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*v, ncap * size);
	if (!p)
		return ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

int stw_vm_list_add(struct stw_vm_list *l, const struct stw_vm *vm)
{
	if (grow((void **)&l->vms, &l->cap, l->n, sizeof(*vm)))
		return ENOMEM;
	l->vms[l->n++] = *vm;
	return 0;
}

void stw_vm_list_free(struct stw_vm_list *l)
{
	if (!l)
		return;
	free(l->vms);
	memset(l, 0, sizeof(*l));
}

int stw_world_list_add(struct stw_world_list *l, const struct stw_world *w)
{
	if (grow((void **)&l->worlds, &l->cap, l->n, sizeof(*w)))
		return ENOMEM;
	l->worlds[l->n++] = *w;
	return 0;
}

void stw_world_list_free(struct stw_world_list *l)
{
	if (!l)
		return;
	free(l->worlds);
	memset(l, 0, sizeof(*l));
}

const struct stw_world *stw_world_find(const struct stw_world_list *l,
				       const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->worlds[i].name, name))
			return &l->worlds[i];
	return NULL;
}

const struct stw_vm *stw_vm_find(const struct stw_vm *vms, size_t n,
				 uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vms[i].id == id)
			return &vms[i];
	return NULL;
}

int stw_ids_add(struct stw_ids *ids, uint32_t id)
{
	if (grow((void **)&ids->v, &ids->cap, ids->n, sizeof(id)))
		return ENOMEM;
	ids->v[ids->n++] = id;
	return 0;
}

void stw_ids_free(struct stw_ids *ids)
{
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

void stw_laggards_free(struct stw_laggards *l)
{
	stw_vm_list_free(&l->list);
	memset(l, 0, sizeof(*l));
}

void stw_done_free(struct stw_done *d)
{
	if (d)
		stw_laggards_free(&d->laggards);
}

void stw_event_free(struct stw_event *e)
{
	if (e)
		stw_laggards_free(&e->laggards);
}

/* ---- names ---- */

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v] ? names[v] : "unknown";
}

#define NAME_OF(names, v) name_of(names, ARRAY_SIZE(names), v)

const char *stw_mode_name(int mode)
{
	static const char *const names[] = {
		[STW_RUN_ALL] = "run_all",
		[STW_STOPPING] = "stopping",
		[STW_STOPPED] = "stopped",
		[STW_RUN_ONE] = "run_one",
	};

	return NAME_OF(names, mode);
}

const char *stw_kind_name(int kind)
{
	static const char *const names[] = {
		[STW_VM_KIND_EXTERNAL] = "external",
		[STW_VM_KIND_ACTIVE] = "active",
		[STW_VM_KIND_IDLE] = "idle",
		[STW_VM_KIND_BURSTY] = "bursty",
		[STW_VM_KIND_NOPOLL] = "nopoll",
		[STW_VM_KIND_WORKER] = "worker",
		[STW_VM_KIND_KTHREAD] = "kthread",
	};

	return NAME_OF(names, kind);
}

const char *stw_state_name(int state)
{
	static const char *const names[] = {
		[STW_VM_STARTING] = "starting",
		[STW_VM_RUNNING] = "running",
		[STW_VM_STOPPED] = "stopped",
	};

	return NAME_OF(names, state);
}

const char *stw_doing_name(int doing)
{
	static const char *const names[] = {
		[STW_VM_DOING_IDLE] = "idle",
		[STW_VM_DOING_IDLE_DISPATCHED] = "idle_dispatched",
		[STW_VM_DOING_RUNNING] = "running",
		[STW_VM_DOING_BLOCKED] = "blocked",
		[STW_VM_DOING_PARKED] = "parked",
	};

	return NAME_OF(names, doing);
}

#define NAME(x) [x] = #x

static const char *const attr_names[STW_A_MAX + 1] = {
	NAME(STW_A_PAD), NAME(STW_A_WORLD), NAME(STW_A_VM),
	NAME(STW_A_VM_ID), NAME(STW_A_VM_IDS), NAME(STW_A_TIMEOUT_MS),
	NAME(STW_A_KEEP_WAITING), NAME(STW_A_LEASE_MS), NAME(STW_A_HOLD_ID),
	NAME(STW_A_FORCE), NAME(STW_A_POLLS), NAME(STW_A_SPAWN),
	NAME(STW_A_KILL_ALL), NAME(STW_A_CYCLE), NAME(STW_A_LAGGARDS),
	NAME(STW_A_RESUMED), NAME(STW_A_JOBS), NAME(STW_A_COUNT),
	NAME(STW_A_MORE), NAME(STW_A_ERRNO), NAME(STW_A_MESSAGE),
	NAME(STW_A_LAGGARD), NAME(STW_A_LAGGARDS_TOTAL),
	NAME(STW_A_LAGGARDS_TRUNCATED), NAME(STW_A_STACKS_LOGGED),
	NAME(STW_A_EVENT_SEQ), NAME(STW_A_WORLD_NAME),
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

uint64_t stw_violations_total(const struct stw_world *w)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < STW_INV_COUNT; i++)
		sum += w->violations[i];
	return sum;
}
