// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl spawn: create demo VMs running the built-in workload.
 */
#include <stdio.h>

#include "args.h"
#include "requests.h"

static int run_spawn(int argc, char **argv)
{
	static const char *const names[] = {
		[STW_SPAWN_A_ACTIVE] = "--active",
		[STW_SPAWN_A_IDLE] = "--idle",
		[STW_SPAWN_A_BURSTY] = "--bursty",
		[STW_SPAWN_A_NOPOLL] = "--nopoll",
	};
	static const struct option longopts[] = {
		{ "active", required_argument, NULL, STW_SPAWN_A_ACTIVE },
		{ "idle", required_argument, NULL, STW_SPAWN_A_IDLE },
		{ "bursty", required_argument, NULL, STW_SPAWN_A_BURSTY },
		{ "nopoll", required_argument, NULL, STW_SPAWN_A_NOPOLL },
		COMMON_LONGOPTS,
		OPT_END
	};
	uint32_t count[STW_SPAWN_A_MAX + 1] = {};
	struct stw_ids ids = {};
	struct stw_sock *s;
	uint64_t total = 0;
	int c, i, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		if (c >= STW_SPAWN_A_ACTIVE && c <= STW_SPAWN_A_MAX) {
			ret = opt_u32(&cmd_spawn, names[c], optarg, 0,
				      STW_MAX_VMS, &count[c]);
			if (ret)
				return ret;
			continue;
		}
		ret = opt_common(&cmd_spawn, c, argv);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc)
		return usage_error(&cmd_spawn, "unexpected argument '%s'",
				   argv[optind]);
	for (i = STW_SPAWN_A_ACTIVE; i <= STW_SPAWN_A_MAX; i++)
		total += count[i];
	if (!total)
		return usage_error(&cmd_spawn,
				   "give at least one of --active, --idle, --bursty, --nopoll");

	if (total > STW_MAX_VMS)
		return usage_error(&cmd_spawn, "at most %d VMs in all",
				   STW_MAX_VMS);

	ret = ctl_open(&s, "spawn", false);
	if (ret)
		return ret;
	if (stw_spawn_split(s, count, &ids)) {
		ret = ctl_fail(s, "spawn");
		if (ids.n)
			fprintf(stderr, "stwctl: spawn: %zu VMs were created before the failure\n",
				ids.n);
	}
	if (!ret || ids.n)
		print_ids(&ids);
	stw_ids_free(&ids);
	stw_close(s);
	return ret;
}

const struct subcommand cmd_spawn = {
	.name = "spawn",
	.run = run_spawn,
	.synopsis = "[--active N] [--idle N] [--bursty N] [--nopoll N] [-w NAME] [-j]",
	.summary = "create demo VMs",
	.help =
"Creates demo VMs running a built-in workload, named KIND-ID:\n"
"\n"
"  --active N   VMs that always run jobs, polling every few microseconds\n"
"  --idle N     VMs that sleep until 'stwctl job' gives them work\n"
"  --bursty N   VMs that run short jobs with idle gaps\n"
"  --nopoll N   VMs that run without ever polling: any stop times out\n"
"  -w, --world NAME\n"
"               the world to put them in (default \"" STW_WORLD_DEFAULT "\"), made if\n"
"               there is none of that name\n"
"  -j, --json   JSON output\n"
"\n"
"At least one N is non-zero; at most " STR(STW_MAX_VMS) " VMs live at once.\n"
"The kernel creates at most " STR(STW_SPAWN_MAX) " per request, all or none:\n"
"more are asked for in several requests. Prints the new ids on one line,\n"
"space-separated (on a failure, those created before it):\n"
"  4 5 6\n"
"With -j: {\"version\": \"...\", \"world\": \"demo\", \"ids\": [4, 5, 6]}\n",
};
