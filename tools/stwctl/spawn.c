// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl spawn: create demo VMs running the built-in workload.
 */
#include "args.h"
#include "requests.h"

#define MAX_SPAWN	STW_MAX_SPAWN	/* per request, all counts */

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
	uint64_t total = 0;
	struct nlattr *nest;
	struct nl_msg *msg;
	struct stw_nl nl;
	int c, i, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
		if (c >= STW_SPAWN_A_ACTIVE && c <= STW_SPAWN_A_MAX) {
			ret = opt_u32(&cmd_spawn, names[c], optarg, 0,
				      MAX_SPAWN, &count[c]);
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

	ret = stw_nl_open(&nl, "spawn");
	if (ret)
		return ret;
	msg = stw_nl_msg(&nl, STW_CMD_SPAWN, 0, 64);
	nest = msg ? nla_nest_start(msg, STW_A_SPAWN) : NULL;
	if (!nest)
		goto err_nomem;
	for (i = STW_SPAWN_A_ACTIVE; i <= STW_SPAWN_A_MAX; i++)
		if (count[i] && nla_put_u32(msg, i, count[i]))
			goto err_nomem;
	if (nla_nest_end(msg, nest))
		goto err_nomem;
	ret = ids_request(&nl, msg);
	stw_nl_close(&nl);
	return ret;

err_nomem:
	nlmsg_free(msg);
	ret = stw_nl_nomem(&nl);
	stw_nl_close(&nl);
	return ret;
}

const struct subcommand cmd_spawn = {
	.name = "spawn",
	.run = run_spawn,
	.synopsis = "[--active N] [--idle N] [--bursty N] [--nopoll N] [-j]",
	.summary = "create demo VMs",
	.help =
"Creates demo VMs running a built-in workload, named KIND-ID:\n"
"\n"
"  --active N   VMs that always run jobs, polling every few microseconds\n"
"  --idle N     VMs that sleep until 'stwctl job' gives them work\n"
"  --bursty N   VMs that run short jobs with idle gaps\n"
"  --nopoll N   VMs that run without ever polling: any stop times out\n"
"  -j, --json   JSON output\n"
"\n"
"Each N is 0..8000, 8000 in all; at least one non-zero. All or none are\n"
"created. Prints the new ids on one line, space-separated:\n"
"  4 5 6\n"
"With -j: {\"ids\": [4, 5, 6]}\n",
};
