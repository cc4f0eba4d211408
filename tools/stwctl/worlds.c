// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl worlds: every world (WORLDS dump), one line each; with -w, that
 * world only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "nl.h"
#include "output.h"
#include "table.h"

static void print_json(const struct stw_world_list *l)
{
	struct json j;
	size_t i;

	json_begin(&j, stdout);
	json_arr(&j, "worlds");
	for (i = 0; i < l->n; i++)
		json_world(&j, NULL, &l->worlds[i]);
	json_arr_end(&j);
	json_end(&j);
}

/* A line per world, the table's columns: for cut(1) and the completion. */
static void print_tab(const struct stw_world_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct stw_world *w = &l->worlds[i];

		printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu32 "\n",
		       w->name, w->owner[0] ? w->owner : "-",
		       stw_mode_name(w->mode), w->generation, w->nr_vms,
		       w->holds);
	}
}

static int print_table(const struct stw_world_list *l)
{
	static const char *const headers[] = {
		"NAME", "OWNER", "MODE", "GENERATION", "VMS", "HOLDS",
	};
	char gen[24], vms[16], holds[16];
	struct table t;
	size_t i;

	if (!l->n) {
		printf("no worlds\n");
		return EXIT_OK;
	}
	table_init(&t, 6, headers, "lllrrr");
	for (i = 0; i < l->n; i++) {
		const struct stw_world *w = &l->worlds[i];
		const char *row[] = {
			w->name, w->owner[0] ? w->owner : "-",
			stw_mode_name(w->mode), gen, vms, holds,
		};

		snprintf(gen, sizeof(gen), "%" PRIu64, w->generation);
		snprintf(vms, sizeof(vms), "%" PRIu32, w->nr_vms);
		snprintf(holds, sizeof(holds), "%" PRIu32, w->holds);
		if (table_add(&t, row)) {
			table_free(&t);
			fprintf(stderr, "stwctl: worlds: out of memory\n");
			return EXIT_FAILED;
		}
	}
	table_print(&t, stdout);
	table_free(&t);
	return EXIT_OK;
}

/*
 * With -w, the list is cut down to that world here: WORLDS names no
 * world, and "no such world" should read as it does for every command.
 */
static int keep_only(struct stw_world_list *l, const char *name)
{
	const struct stw_world *w = stw_world_find(l, name);

	if (!w) {
		fprintf(stderr, "stwctl: worlds: %s: no world '%s'\n",
			strerror(ENOENT), name);
		return EXIT_FAILED;
	}
	l->worlds[0] = *w;
	l->n = 1;
	return EXIT_OK;
}

static int run_worlds(int argc, char **argv)
{
	struct stw_world_list l = {};
	struct stw_sock *s;
	int ret;

	ret = opts_common_only(&cmd_worlds, argc, argv);
	if (ret >= 0)
		return ret;

	ret = ctl_open(&s, "worlds", false);
	if (ret)
		return ret;
	ret = stw_worlds(s, &l) ? ctl_fail(s, "worlds") : EXIT_OK;
	stw_close(s);
	if (!ret && opt_world)
		ret = keep_only(&l, opt_world);
	if (ret)
		goto out;

	if (opt_json)
		print_json(&l);
	else if (!isatty(STDOUT_FILENO))
		print_tab(&l);
	else
		ret = print_table(&l);
	fflush(stdout);
out:
	stw_world_list_free(&l);
	return ret;
}

const struct subcommand cmd_worlds = {
	.name = "worlds",
	.run = run_worlds,
	.synopsis = "[-w NAME] [-j]",
	.summary = "list the worlds: each is stopped and resumed on its own",
	.help =
"Lists every world, in the order they were made: its name, the module\n"
"that made it, its mode, its latest generation, its VMs and its holds.\n"
"Each world is stopped, stepped and resumed on its own; -w NAME (before\n"
"or after any command) says which one a command acts on, \"" STW_WORLD_DEFAULT "\" if none.\n"
"\n"
"  -w, --world NAME   that world only (exit 1 if there is none)\n"
"  -j, --json         JSON output\n"
"\n"
"On a terminal:\n"
"  NAME  OWNER     MODE     GENERATION  VMS  HOLDS\n"
"  demo  stw       run_all          12    5      0\n"
"  pool  stw_bank  stopped           3    8      1\n"
"\n"
"Not on a terminal: one tab-separated line per world, the same columns:\n"
"  NAME<TAB>OWNER<TAB>MODE<TAB>GENERATION<TAB>VMS<TAB>HOLDS\n"
"\n"
"With -j: {\"version\", \"worlds\": [{world as in 'status -j'}, ...]}\n",
};
