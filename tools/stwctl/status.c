// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl status: the world (STATUS do) and every VM (STATUS dump), of the
 * world -w names.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "requests.h"
#include "nl.h"
#include "output.h"
#include "table.h"

/* ---- JSON ---- */

static void print_json(const struct stw_world *w,
		       const struct stw_vm_list *vms)
{
	struct json j;
	size_t i;

	json_begin(&j, stdout);
	json_world(&j, "world", w);
	json_arr(&j, "vms");
	for (i = 0; i < vms->n; i++)
		json_vm(&j, NULL, &vms->vms[i]);
	json_arr_end(&j);
	json_end(&j);
}

/* ---- tab-separated ---- */

static void print_tab(const struct stw_world *w,
		      const struct stw_vm_list *vms)
{
	size_t i;
	int k;

	printf("world\tmode\t%s\n", stw_mode_name(w->mode));
	printf("world\tgeneration\t%" PRIu64 "\n", w->generation);
	printf("world\tvms\t%" PRIu32 "\n", w->nr_vms);
	printf("world\tactive\t%" PRIu32 "\n", w->active);
	printf("world\tstopped\t%" PRIu32 "\n", w->stopped);
	printf("world\tholds\t%" PRIu32 "\n", w->holds);
	printf("world\tkernel_holds\t%" PRIu32 "\n", w->kernel_holds);
	printf("world\tstep_vm\t%" PRIu32 "\n",
	       w->has_step_vm ? w->step_vm : 0);
	printf("world\tcycles\t%" PRIu64 "\n", w->cycles);
	printf("world\ttimeouts\t%" PRIu64 "\n", w->timeouts);
	printf("world\tlast_tts_ns\t%" PRIu64 "\n", w->last_tts_ns);
	printf("world\tmax_tts_ns\t%" PRIu64 "\n", w->max_tts_ns);
	printf("world\tevent_seq\t%" PRIu64 "\n", w->event_seq);
	printf("world\ttts_hist\t");
	for (k = 0; k < STW_TTS_HIST_BUCKETS; k++)
		printf("%s%" PRIu64, k ? " " : "", w->tts_hist[k]);
	printf("\nworld\tviolations\t");
	for (k = 0; k < STW_INV_COUNT; k++)
		printf("%s%" PRIu64, k ? " " : "", w->violations[k]);
	putchar('\n');
	/*
	 * New in version 3, last of the world's lines: a script that reads
	 * them in order finds the older ones where they were.
	 */
	printf("world\tname\t%s\n", w->name);
	printf("world\towner\t%s\n", w->owner[0] ? w->owner : "-");
	for (i = 0; i < vms->n; i++) {
		const struct stw_vm *vm = &vms->vms[i];

		printf("vm\t%" PRIu32 "\t%s\t%" PRIu32 "\t%s\t%s\t%s\t%" PRIu64
		       "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
		       vm->id, vm->name, vm->pid, stw_kind_name(vm->kind),
		       stw_state_name(vm->state), stw_doing_name(vm->doing),
		       vm->stops, vm->last_tts_ns, vm->polls, vm->jobs);
	}
}

/* ---- human ---- */

static void print_hist(const struct stw_world *w)
{
	char lo[NS_BUF], hi[NS_BUF];
	const char *sep = "";
	int i;

	printf("tts histogram:");
	for (i = 0; i < STW_TTS_HIST_BUCKETS; i++) {
		if (!w->tts_hist[i])
			continue;
		if (i == 0)
			printf("%s <2ns %" PRIu64, sep, w->tts_hist[i]);
		else
			printf("%s %s-%s %" PRIu64, sep,
			       fmt_ns(lo, 1ULL << i), fmt_ns(hi, 2ULL << i),
			       w->tts_hist[i]);
		sep = ",";
	}
	putchar('\n');
}

static void print_world(const struct stw_world *w)
{
	char last[NS_BUF], max[NS_BUF];
	bool clean = true;
	int i;

	printf("name: %s  owner: %s\n", w->name, w->owner[0] ? w->owner : "-");
	printf("world: %s  generation %" PRIu64 "  vms %" PRIu32
	       " (active %" PRIu32 ", stopped %" PRIu32 ")  holds %" PRIu32,
	       stw_mode_name(w->mode), w->generation, w->nr_vms, w->active,
	       w->stopped, w->holds);
	if (w->kernel_holds)
		printf(" (%" PRIu32 " by other modules)", w->kernel_holds);
	if (w->has_step_vm)
		printf("  step vm %" PRIu32, w->step_vm);
	printf("\nstats: cycles %" PRIu64 "  timeouts %" PRIu64
	       "  last tts %s  max tts %s\n",
	       w->cycles, w->timeouts,
	       w->cycles ? fmt_ns(last, w->last_tts_ns) : "-",
	       w->cycles ? fmt_ns(max, w->max_tts_ns) : "-");
	if (w->cycles)
		print_hist(w);
	printf("violations:");
	for (i = 0; i < STW_INV_COUNT; i++) {
		if (!w->violations[i])
			continue;
		printf(" I%d=%" PRIu64, i + 1, w->violations[i]);
		clean = false;
	}
	printf(clean ? " none\n" : "  (invariants broken)\n");
}

static int print_vms(const struct stw_vm_list *vms)
{
	static const char *const headers[] = {
		"ID", "NAME", "PID", "KIND", "STATE", "DOING", "STOPS",
		"LAST-TTS", "POLLS", "JOBS",
	};
	char id[16], pid[16], stops[24], tts[NS_BUF], polls[24], jobs[24];
	const char *row[] = {
		id, NULL, pid, NULL, NULL, NULL, stops, tts, polls, jobs,
	};
	struct table t;
	size_t i;

	if (!vms->n) {
		printf("\nno VMs\n");
		return EXIT_OK;
	}
	table_init(&t, 10, headers, "rlrlllrrrr");
	for (i = 0; i < vms->n; i++) {
		const struct stw_vm *vm = &vms->vms[i];

		snprintf(id, sizeof(id), "%" PRIu32, vm->id);
		row[1] = vm->name;
		snprintf(pid, sizeof(pid), "%" PRIu32, vm->pid);
		row[3] = stw_kind_name(vm->kind);
		row[4] = stw_state_name(vm->state);
		row[5] = stw_doing_name(vm->doing);
		snprintf(stops, sizeof(stops), "%" PRIu64, vm->stops);
		if (vm->stops)
			fmt_ns(tts, vm->last_tts_ns);
		else
			strcpy(tts, "-");
		snprintf(polls, sizeof(polls), "%" PRIu64, vm->polls);
		snprintf(jobs, sizeof(jobs), "%" PRIu64, vm->jobs);
		if (table_add(&t, row)) {
			table_free(&t);
			fprintf(stderr, "stwctl: status: out of memory\n");
			return EXIT_FAILED;
		}
	}
	putchar('\n');
	table_print(&t, stdout);
	table_free(&t);
	return EXIT_OK;
}

static int run_status(int argc, char **argv)
{
	struct stw_vm_list vms = {};
	struct stw_world w;
	struct stw_sock *s;
	int ret;

	ret = opts_common_only(&cmd_status, argc, argv);
	if (ret >= 0)
		return ret;

	ret = ctl_open(&s, "status", false);
	if (ret)
		return ret;
	ret = stw_dump(s, &w, &vms) ? ctl_fail(s, "status") : EXIT_OK;
	/* A kernel before version 3 does not name its one world. */
	if (!ret && !w.name[0])
		snprintf(w.name, sizeof(w.name), "%s", stw_sock_world(s));
	stw_close(s);
	if (ret)
		goto out;

	if (opt_json) {
		print_json(&w, &vms);
	} else if (!isatty(STDOUT_FILENO)) {
		print_tab(&w, &vms);
	} else {
		print_world(&w);
		ret = print_vms(&vms);
	}
	fflush(stdout);
out:
	stw_vm_list_free(&vms);
	return ret;
}

const struct subcommand cmd_status = {
	.name = "status",
	.run = run_status,
	.synopsis = "[-w NAME] [-j]",
	.summary = "show the world and every VM (the default command)",
	.help =
"Shows the world and every VM, from one STATUS dump (asked again if the\n"
"world changed while it was read). Needs no privilege.\n"
"\n"
"  -w, --world NAME   the world to show (default \"" STW_WORLD_DEFAULT "\")\n"
"  -j, --json         JSON output\n"
"\n"
"On a terminal: a header, then one row per VM:\n"
"  name: demo  owner: stw\n"
"  world: stopped  generation 12  vms 5 (active 5, stopped 5)  holds 1\n"
"  stats: cycles 12  timeouts 0  last tts 85us  max tts 1.2ms\n"
"  tts histogram: 66us-131us 3, 131us-262us 9\n"
"  violations: none\n"
"\n"
"  ID  NAME      PID  KIND    STATE    DOING   STOPS  LAST-TTS  POLLS  JOBS\n"
"   1  active-1  812  active  stopped  parked     12      85us  40211    40\n"
"\n"
"Not on a terminal: tab-separated lines, one value each, times in ns:\n"
"  world<TAB>mode<TAB>run_all|stopping|stopped|run_one\n"
"  world<TAB>KEY<TAB>NUMBER, KEY one of generation vms active stopped\n"
"      holds kernel_holds step_vm (0: none) cycles timeouts last_tts_ns\n"
"      max_tts_ns event_seq\n"
"  world<TAB>tts_hist<TAB>40 space-separated counts; count i has\n"
"      2^i <= tts_ns < 2^(i+1) (count 0 also tts_ns < 1)\n"
"  world<TAB>violations<TAB>5 space-separated counts, I1..I5\n"
"  world<TAB>name<TAB>NAME\n"
"  world<TAB>owner<TAB>the module that made the world (- if not said)\n"
"  vm<TAB>ID<TAB>NAME<TAB>PID<TAB>KIND<TAB>STATE<TAB>DOING<TAB>STOPS<TAB>\n"
"      LAST_TTS_NS<TAB>POLLS<TAB>JOBS   (one line per VM, in id order)\n"
"\n"
"With -j, one JSON object:\n"
"  {\"version\", \"world\": {\"name\", \"owner\", \"mode\", \"generation\",\n"
"    \"vms\", \"active\", \"stopped\", \"holds\", \"kernel_holds\",\n"
"    \"step_vm\" (null unless run_one), \"cycles\", \"timeouts\",\n"
"    \"last_tts_ns\", \"max_tts_ns\", \"event_seq\",\n"
"    \"tts_hist\": [40 counts], \"violations\": {\"I1\": 0, ...}},\n"
"   \"vms\": [{\"id\", \"name\", \"pid\", \"kind\", \"state\", \"doing\", \"stops\",\n"
"    \"last_tts_ns\", \"polls\", \"jobs\"}, ...]}\n"
"\n"
"Names: mode run_all|stopping|stopped|run_one;\n"
"  kind active|idle|bursty|nopoll|external; state starting|running|stopped;\n"
"  doing idle|idle_dispatched|running|blocked|parked.\n",
};
