// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: requests shared by several subcommands, and their reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "requests.h"
#include "output.h"
#include "stwctl.h"
#include "table.h"

static int stop_reply(const struct stw_msg *m, void *arg)
{
	struct nlattr **tb = m->tb;
	struct stop_result *r = arg;

	if (tb[STW_A_CYCLE] && stw_parse_cycle(tb[STW_A_CYCLE], &r->cycle))
		return -1;
	if (tb[STW_A_LAGGARDS]) {
		r->has_laggards = true;
		if (stw_parse_laggards(tb[STW_A_LAGGARDS], &r->laggards))
			return -1;
	}
	return 0;
}

int stop_request(struct stw_nl *nl, const struct stop_opts *o,
		 struct stop_result *r, struct stw_err *e)
{
	struct nl_msg *msg;

	memset(r, 0, sizeof(*r));
	msg = stw_nl_msg(nl, STW_CMD_STOP, 0, 64);
	if (!msg ||
	    (o->timeout_ms &&
	     nla_put_u32(msg, STW_A_TIMEOUT_MS, o->timeout_ms)) ||
	    (o->keep_waiting && nla_put_flag(msg, STW_A_KEEP_WAITING)) ||
	    (o->lease_ms && nla_put_u32(msg, STW_A_LEASE_MS, o->lease_ms))) {
		nlmsg_free(msg);
		stw_err_local(e, ENOMEM, "out of memory building the request");
		return -1;
	}
	return stw_nl_call(nl, msg, stop_reply, r, e);
}

static void json_cycle_fields(struct json *j, const struct stop_opts *o,
			      const struct stop_result *r)
{
	const struct stw_cycle_info *c = &r->cycle;

	json_u64(j, "generation", c->generation);
	if (c->has_tts)
		json_u64(j, "tts_ns", c->tts_ns);
	else
		json_null(j, "tts_ns");
	json_bool(j, "joined", c->joined);
	if (c->has_hold_id)
		json_u64(j, "hold_id", c->hold_id);
	else
		json_null(j, "hold_id");
	json_u64(j, "holds", c->holds);
	if (o->lease_ms)
		json_u64(j, "lease_ms", o->lease_ms);
	else
		json_null(j, "lease_ms");
}

static void print_lease(const struct stop_opts *o)
{
	if (o->lease_ms % 1000)
		printf(" (lease %" PRIu32 "ms)", o->lease_ms);
	else
		printf(" (lease %" PRIu32 "s)", o->lease_ms / 1000);
}

void stop_print(const struct stop_opts *o, const struct stop_result *r)
{
	const struct stw_cycle_info *c = &r->cycle;
	char tts[NS_BUF];
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "result", c->joined ? "joined" : "stopped");
		json_cycle_fields(&j, o, r);
		json_end(&j);
		return;
	}
	printf("%s: generation %" PRIu64 ", time to stop %s, hold %" PRIu32,
	       c->joined ? "joined" : "stopped", c->generation,
	       c->has_tts ? fmt_ns(tts, c->tts_ns) : "?", c->hold_id);
	if (o->lease_ms)
		print_lease(o);
	if (c->holds > 1)
		printf(", %" PRIu32 " holds", c->holds);
	putchar('\n');
	fflush(stdout);
}

static void print_laggards(const struct stw_vms *vms)
{
	static const char *const headers[] = {
		"ID", "NAME", "PID", "KIND", "DOING",
	};
	char id[16], pid[16];
	struct table t;
	size_t i;

	table_init(&t, 5, headers, "rlrll");
	for (i = 0; i < vms->n; i++) {
		const struct stw_vm_info *vm = &vms->v[i];
		const char *row[] = {
			id, vm->name, pid, kind_name(vm->kind),
			doing_name(vm->doing),
		};

		snprintf(id, sizeof(id), "%" PRIu32, vm->id);
		snprintf(pid, sizeof(pid), "%" PRIu32, vm->pid);
		if (table_add(&t, row))
			break;
	}
	table_print(&t, stdout);
	table_free(&t);
}

int stop_fail(const struct stw_nl *nl, const struct stop_opts *o,
	      const struct stop_result *r, const struct stw_err *e)
{
	const struct stw_cycle_info *c = &r->cycle;
	bool kept = c->has_hold_id;	/* --keep-waiting kept it */
	struct json j;
	size_t i;
	int ret;

	fflush(stdout);
	ret = stw_nl_fail(nl, e);
	if (e->local || e->err != ETIMEDOUT || !c->present)
		return ret;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "result", "timeout");
		json_cycle_fields(&j, o, r);
		json_bool(&j, "rolled_back", !kept);
		json_arr(&j, "laggards");
		for (i = 0; i < r->laggards.n; i++)
			json_vm(&j, NULL, &r->laggards.v[i]);
		json_arr_end(&j);
		json_end(&j);
		return ret;
	}
	printf("timed out: generation %" PRIu64, c->generation);
	if (kept) {
		printf(", still stopping, hold %" PRIu32 " kept", c->hold_id);
		if (o->lease_ms)
			print_lease(o);
	} else {
		printf(", rolled back");
	}
	if (!r->laggards.n) {
		printf("; no laggard named\n");
	} else {
		printf("; %zu laggard%s:\n", r->laggards.n,
		       r->laggards.n == 1 ? "" : "s");
		print_laggards(&r->laggards);
	}
	fflush(stdout);
	return ret;
}

void stop_result_free(struct stop_result *r)
{
	stw_vms_free(&r->laggards);
}

/* ---- RESUME ---- */

static int resume_reply(const struct stw_msg *m, void *arg)
{
	struct nlattr **tb = m->tb;
	struct resume_result *r = arg;

	if (tb[STW_A_CYCLE] && stw_parse_cycle(tb[STW_A_CYCLE], &r->cycle))
		return -1;
	r->resumed = tb[STW_A_RESUMED];
	return 0;
}

int resume_request(struct stw_nl *nl, uint32_t hold_id, bool force,
		   struct resume_result *r, struct stw_err *e)
{
	struct nl_msg *msg;

	memset(r, 0, sizeof(*r));
	msg = stw_nl_msg(nl, STW_CMD_RESUME, 0, 64);
	if (!msg ||
	    (hold_id && nla_put_u32(msg, STW_A_HOLD_ID, hold_id)) ||
	    (force && nla_put_flag(msg, STW_A_FORCE))) {
		nlmsg_free(msg);
		stw_err_local(e, ENOMEM, "out of memory building the request");
		return -1;
	}
	return stw_nl_call(nl, msg, resume_reply, r, e);
}

void resume_print(const struct resume_result *r)
{
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_bool(&j, "resumed", r->resumed);
		json_u64(&j, "generation", r->cycle.generation);
		json_u64(&j, "holds", r->cycle.holds);
		json_end(&j);
		return;
	}
	if (r->resumed)
		printf("resumed\n");
	else
		printf("released, %" PRIu32 " holds remain\n", r->cycle.holds);
	fflush(stdout);
}

/* ---- STATUS ---- */

static int world_reply(const struct stw_msg *m, void *arg)
{
	struct nlattr **tb = m->tb;

	if (!tb[STW_A_WORLD])
		return -1;
	return stw_parse_world(tb[STW_A_WORLD], arg);
}

int world_fetch(struct stw_nl *nl, struct stw_world_info *w,
		struct stw_err *e)
{
	struct nl_msg *msg;

	memset(w, 0, sizeof(*w));
	msg = stw_nl_msg(nl, STW_CMD_STATUS, 0, 0);
	if (!msg) {
		stw_err_local(e, ENOMEM, "out of memory building the request");
		return -1;
	}
	return stw_nl_call(nl, msg, world_reply, w, e);
}

/* ---- SPAWN and KILL replies ---- */

/*
 * STW_A_VM_IDS may repeat: a nest holds at most 64 KiB, some 8000 ids,
 * and a reply may name up to STW_MAX_VMS of them.
 */
static int ids_reply(const struct stw_msg *m, void *arg)
{
	struct nlattr *pos;
	bool seen = false;
	int rem;

	nla_for_each_attr(pos, m->attrs, m->len, rem) {
		if (nla_type(pos) != STW_A_VM_IDS)
			continue;
		if (stw_parse_ids(pos, arg))
			return -1;
		seen = true;
	}
	return seen ? 0 : -1;
}

/* The ids on one line, space-separated (nothing for none), or JSON. */
static void print_ids(const struct stw_ids *ids)
{
	struct json j;
	size_t i;

	if (opt_json) {
		json_begin(&j, stdout);
		json_ids(&j, "ids", ids);
		json_end(&j);
		return;
	}
	for (i = 0; i < ids->n; i++)
		printf("%s%" PRIu32, i ? " " : "", ids->v[i]);
	if (ids->n)
		putchar('\n');
	fflush(stdout);
}

int ids_request(struct stw_nl *nl, struct nl_msg *msg)
{
	struct stw_ids ids = {};
	struct stw_err e;
	int ret = EXIT_OK;

	if (stw_nl_call(nl, msg, ids_reply, &ids, &e))
		ret = stw_nl_fail(nl, &e);
	else
		print_ids(&ids);
	stw_ids_free(&ids);
	return ret;
}
