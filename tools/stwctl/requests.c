// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: requests shared by several subcommands, and their reports.
 * Their JSON names the world the request acted on: a generation, a hold
 * or a VM id means something only in its world.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "requests.h"
#include "output.h"
#include "stwctl.h"
#include "table.h"

static void json_cycle_fields(struct json *j, const struct stw_stop_req *o,
			      const struct stw_stop_result *r)
{
	const struct stw_cycle *c = &r->cycle;

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
	if (o->lease_ms != STW_UNSET)
		json_u64(j, "lease_ms", o->lease_ms);
	else
		json_null(j, "lease_ms");
}

static void print_lease(const struct stw_stop_req *o)
{
	if (o->lease_ms % 1000)
		printf(" (lease %" PRIu32 "ms)", o->lease_ms);
	else
		printf(" (lease %" PRIu32 "s)", o->lease_ms / 1000);
}

void stop_print(const struct stw_stop_req *o, const struct stw_stop_result *r)
{
	const struct stw_cycle *c = &r->cycle;
	char tts[NS_BUF];
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "world", ctl_world());
		json_str(&j, "result", c->joined ? "joined" : "stopped");
		json_cycle_fields(&j, o, r);
		json_end(&j);
		return;
	}
	printf("%s: generation %" PRIu64 ", time to stop %s, hold %" PRIu32,
	       c->joined ? "joined" : "stopped", c->generation,
	       c->has_tts ? fmt_ns(tts, c->tts_ns) : "?", c->hold_id);
	if (o->lease_ms != STW_UNSET)
		print_lease(o);
	if (c->holds > 1)
		printf(", %" PRIu32 " holds", c->holds);
	putchar('\n');
	fflush(stdout);
}

static void print_laggards(const struct stw_vm_list *vms)
{
	static const char *const headers[] = {
		"ID", "NAME", "PID", "KIND", "DOING",
	};
	char id[16], pid[16];
	struct table t;
	size_t i;

	table_init(&t, 5, headers, "rlrll");
	for (i = 0; i < vms->n; i++) {
		const struct stw_vm *vm = &vms->vms[i];
		const char *row[] = {
			id, vm->name, pid, stw_kind_name(vm->kind),
			stw_doing_name(vm->doing),
		};

		snprintf(id, sizeof(id), "%" PRIu32, vm->id);
		snprintf(pid, sizeof(pid), "%" PRIu32, vm->pid);
		if (table_add(&t, row))
			break;
	}
	table_print(&t, stdout);
	table_free(&t);
}

/* "; 2 laggards:" and the table, with how many of how many. */
static void print_laggard_list(const struct stw_laggards *l)
{
	size_t n = l->list.n;

	if (!l->total) {
		printf("; no laggard named\n");
		return;
	}
	printf("; %u laggard%s", l->total, l->total == 1 ? "" : "s");
	if (l->truncated)
		printf(" (%zu of %u shown)", n, l->total);
	printf(":\n");
	print_laggards(&l->list);
	if (l->stacks_logged)
		printf("stacks in the kernel log (dmesg)\n");
}

int stop_fail(const struct stw_sock *s, const char *cmd,
	      const struct stw_stop_req *o, const struct stw_stop_result *r)
{
	const struct stw_cycle *c = &r->cycle;
	bool kept = c->has_hold_id;	/* --keep-waiting kept it */
	struct json j;
	int ret;

	ret = ctl_fail(s, cmd);
	if (s->local || s->err != ETIMEDOUT || !c->present)
		return ret;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "world", ctl_world());
		json_str(&j, "result", "timeout");
		json_cycle_fields(&j, o, r);
		json_bool(&j, "rolled_back", !kept);
		json_laggards(&j, &r->laggards);
		json_end(&j);
		return ret;
	}
	printf("timed out: generation %" PRIu64, c->generation);
	if (kept) {
		printf(", still stopping, hold %" PRIu32 " kept", c->hold_id);
		if (o->lease_ms != STW_UNSET)
			print_lease(o);
	} else {
		printf(", rolled back");
	}
	print_laggard_list(&r->laggards);
	fflush(stdout);
	return ret;
}

/* ---- RESUME ---- */

void resume_print(bool resumed, const struct stw_cycle *c)
{
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "world", ctl_world());
		json_bool(&j, "resumed", resumed);
		json_u64(&j, "generation", c->generation);
		json_u64(&j, "holds", c->holds);
		json_end(&j);
		return;
	}
	if (resumed)
		printf("resumed\n");
	else
		printf("released, %" PRIu32 " holds remain\n", c->holds);
	fflush(stdout);
}

/* ---- SPAWN and KILL ---- */

/* The ids on one line, space-separated (nothing for none), or JSON. */
void print_ids(const struct stw_ids *ids)
{
	struct json j;
	size_t i;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "world", ctl_world());
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
