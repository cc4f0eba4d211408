// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl kill: destroy demo VMs.
 */
#include "args.h"
#include "requests.h"

#define MAX_KILL_IDS	4096		/* STW_A_VM_IDS */

static int run_kill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		COMMON_LONGOPTS,
		OPT_END
	};
	struct nlattr *nest;
	struct nl_msg *msg;
	struct stw_nl nl;
	bool all = false;
	uint32_t id;
	int c, i, n, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ajh", longopts, NULL)) != -1) {
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
	if (n > MAX_KILL_IDS)
		return usage_error(&cmd_kill, "at most %d ids at once",
				   MAX_KILL_IDS);
	for (i = optind; i < argc; i++)
		if (parse_u32(argv[i], 1, UINT32_MAX, &id))
			return usage_error(&cmd_kill, "'%s' is not a VM id",
					   argv[i]);

	ret = stw_nl_open(&nl, "kill");
	if (ret)
		return ret;
	msg = stw_nl_msg(&nl, STW_CMD_KILL, 0, 64 + n * 8);
	if (!msg)
		goto err_nomem;
	if (all) {
		if (nla_put_flag(msg, STW_A_KILL_ALL))
			goto err_nomem;
	} else {
		nest = nla_nest_start(msg, STW_A_VM_IDS);
		if (!nest)
			goto err_nomem;
		for (i = optind; i < argc; i++) {
			parse_u32(argv[i], 1, UINT32_MAX, &id);
			if (nla_put_u32(msg, STW_A_VM_ID, id))
				goto err_nomem;
		}
		if (nla_nest_end(msg, nest))
			goto err_nomem;
	}
	ret = ids_request(&nl, msg);
	stw_nl_close(&nl);
	return ret;

err_nomem:
	nlmsg_free(msg);
	ret = stw_nl_nomem(&nl);
	stw_nl_close(&nl);
	return ret;
}

const struct subcommand cmd_kill = {
	.name = "kill",
	.run = run_kill,
	.synopsis = "VM... | --all [-j]",
	.summary = "destroy demo VMs",
	.help =
"Destroys the demo VMs given by id (1 to 4096 of them; all or none: an\n"
"unknown id fails the request with ENOENT), or with --all every demo VM.\n"
"VMs registered by other modules are theirs to destroy.\n"
"\n"
"  -j, --json   JSON output\n"
"\n"
"Prints the ids destroyed on one line, space-separated (nothing if none):\n"
"  4 5 6\n"
"With -j: {\"ids\": [4, 5, 6]}\n",
};
