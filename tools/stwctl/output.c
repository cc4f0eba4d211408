// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: enum names, human units and JSON.
 */
#include <inttypes.h>
#include <string.h>

#include "output.h"
#include "stwctl.h"

const char *fmt_ns(char buf[NS_BUF], uint64_t ns)
{
	static const struct {
		const char *suffix;
		double div;
	} units[] = { { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	unsigned int i;
	double v;

	if (ns < 1000) {
		snprintf(buf, NS_BUF, "%" PRIu64 "ns", ns);
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		v = ns / units[i].div;
		/* Move up a unit when rounding would print 1000. */
		if (v >= 999.5 && i + 1 < ARRAY_SIZE(units))
			continue;
		if (v < 9.95)
			snprintf(buf, NS_BUF, "%.1f%s", v, units[i].suffix);
		else
			snprintf(buf, NS_BUF, "%.0f%s", v, units[i].suffix);
		break;
	}
	return buf;
}

/* ---- JSON ---- */

/* A new line, indented for depth j->depth inside the top object. */
static void json_indent(struct json *j)
{
	int i;

	fputc('\n', j->f);
	for (i = 0; i <= j->depth; i++)
		fputs("    ", j->f);
}

static void json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (opt_pretty)
		json_indent(j);
	if (key)
		fprintf(j->f, opt_pretty ? "\"%s\": " : "\"%s\":", key);
}

static void json_push(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_pop(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (opt_pretty && !empty)
		json_indent(j);
	fputc(c, j->f);
}

void json_begin(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	fputc('{', f);
	j->first[0] = true;
	json_str(j, "version", stwctl_version);
}

void json_end(struct json *j)
{
	if (opt_pretty)
		fputc('\n', j->f);
	fputs("}\n", j->f);
	fflush(j->f);
}

void json_obj(struct json *j, const char *key)
{
	json_key(j, key);
	json_push(j, '{');
}

void json_obj_end(struct json *j)
{
	json_pop(j, '}');
}

void json_arr(struct json *j, const char *key)
{
	json_key(j, key);
	json_push(j, '[');
}

void json_arr_end(struct json *j)
{
	json_pop(j, ']');
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_str(struct json *j, const char *key, const char *s)
{
	const unsigned char *p;

	json_key(j, key);
	fputc('"', j->f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(j->f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(j->f, "\\u%04x", *p);
		else
			fputc(*p, j->f);
	}
	fputc('"', j->f);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

void json_vm(struct json *j, const char *key, const struct stw_vm *vm)
{
	json_obj(j, key);
	json_u64(j, "id", vm->id);
	json_str(j, "name", vm->name);
	json_u64(j, "pid", vm->pid);
	json_str(j, "kind", stw_kind_name(vm->kind));
	json_str(j, "state", stw_state_name(vm->state));
	json_str(j, "doing", stw_doing_name(vm->doing));
	json_u64(j, "stops", vm->stops);
	json_u64(j, "last_tts_ns", vm->last_tts_ns);
	json_u64(j, "polls", vm->polls);
	json_u64(j, "jobs", vm->jobs);
	json_obj_end(j);
}

void json_world(struct json *j, const char *key, const struct stw_world *w)
{
	char name[8];
	int i;

	json_obj(j, key);
	json_str(j, "name", w->name);
	json_str(j, "owner", w->owner);
	json_str(j, "mode", stw_mode_name(w->mode));
	json_u64(j, "generation", w->generation);
	json_u64(j, "vms", w->nr_vms);
	json_u64(j, "active", w->active);
	json_u64(j, "stopped", w->stopped);
	json_u64(j, "holds", w->holds);
	json_u64(j, "kernel_holds", w->kernel_holds);
	if (w->has_step_vm)
		json_u64(j, "step_vm", w->step_vm);
	else
		json_null(j, "step_vm");
	json_u64(j, "cycles", w->cycles);
	json_u64(j, "timeouts", w->timeouts);
	json_u64(j, "last_tts_ns", w->last_tts_ns);
	json_u64(j, "max_tts_ns", w->max_tts_ns);
	json_u64(j, "event_seq", w->event_seq);
	json_arr(j, "tts_hist");
	for (i = 0; i < STW_TTS_HIST_BUCKETS; i++)
		json_u64(j, NULL, w->tts_hist[i]);
	json_arr_end(j);
	json_obj(j, "violations");
	for (i = 0; i < STW_INV_COUNT; i++) {
		snprintf(name, sizeof(name), "I%d", i + 1);
		json_u64(j, name, w->violations[i]);
	}
	json_obj_end(j);
	json_obj_end(j);
}

void json_ids(struct json *j, const char *key, const struct stw_ids *ids)
{
	size_t i;

	json_arr(j, key);
	for (i = 0; i < ids->n; i++)
		json_u64(j, NULL, ids->v[i]);
	json_arr_end(j);
}

void json_laggards(struct json *j, const struct stw_laggards *l)
{
	size_t i;

	json_arr(j, "laggards");
	for (i = 0; i < l->list.n; i++)
		json_vm(j, NULL, &l->list.vms[i]);
	json_arr_end(j);
	json_u64(j, "laggards_total", l->total);
	json_bool(j, "laggards_truncated", l->truncated);
	json_bool(j, "stacks_logged", l->stacks_logged);
}
