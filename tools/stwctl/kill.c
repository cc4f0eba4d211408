// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl kill: destroy demo VMs.
 */
#include <stdio.h>

#include "args.h"
#include "requests.h"

static int run_kill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		COMMON_LONGOPTS,
		OPT_END
	};
	struct stw_ids ids = {}, killed = {};
	struct stw_sock *s;
	bool all = false;
	uint32_t id;
	int c, i, n, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":a" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		if (c == 'a') {
			all = true;
			continue;
		}
		ret = opt_common(&cmd_kill, c, argv);
		if (ret >= 0)
			return ret;
	}
	n = argc - optind;
	if (all && n)
		return usage_error(&cmd_kill, "give VM ids or --all, not both");
	if (!all && !n)
		return usage_error(&cmd_kill, "which VMs? give ids or --all");
	if (n > STW_KILL_MAX)
		return usage_error(&cmd_kill, "at most %d ids at once",
				   STW_KILL_MAX);
	for (i = optind; i < argc; i++) {
		if (parse_u32(argv[i], 1, UINT32_MAX, &id)) {
			stw_ids_free(&ids);
			return usage_error(&cmd_kill, "'%s' is not a VM id",
					   argv[i]);
		}
		if (stw_ids_add(&ids, id)) {
			stw_ids_free(&ids);
			fputs("stwctl: kill: out of memory\n", stderr);
			return EXIT_FAILED;
		}
	}

	ret = ctl_open(&s, "kill", false);
	if (!ret) {
		if (all ? stw_kill_all_ex(s, &killed) :
			  stw_kill_ex(s, ids.v, ids.n, &killed))
			ret = ctl_fail(s, "kill");
		else
			print_ids(&killed);
		stw_close(s);
	}
	stw_ids_free(&ids);
	stw_ids_free(&killed);
	return ret;
}

const struct subcommand cmd_kill = {
	.name = "kill",
	.run = run_kill,
	.synopsis = "VM... | --all [-w NAME] [-j]",
	.summary = "destroy demo VMs",
	.help =
"Destroys the demo VMs given by id (1 to " STR(STW_KILL_MAX) " of them; all or none: an\n"
"unknown id fails the request with ENOENT), or with --all every demo VM\n"
"(asking again while the kernel says more are left).\n"
"VMs registered by other modules are theirs to destroy.\n"
"\n"
"  -w, --world NAME\n"
"               the VMs' world (default \"" STW_WORLD_DEFAULT "\"); VM ids are per world\n"
"  -j, --json   JSON output\n"
"\n"
"Prints the ids destroyed on one line, space-separated (nothing if none):\n"
"  4 5 6\n"
"With -j: {\"version\": \"...\", \"world\": \"demo\", \"ids\": [4, 5, 6]}\n",
};
