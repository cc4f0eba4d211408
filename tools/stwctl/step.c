// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl step: RUN_ONE: from STOPPED, let one VM pass a few polls while
 * the others stay parked, and wait until it parks again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "nl.h"
#include "output.h"

#define MAX_POLLS	1000000		/* STW_A_POLLS */
#define MAX_TIMEOUT_MS	600000		/* STW_A_TIMEOUT_MS */

struct step_result {
	struct stw_cycle_info cycle;
	bool has_vm;
	struct stw_vm_info vm;
};

static int step_reply(const struct stw_msg *m, void *arg)
{
	struct nlattr **tb = m->tb;
	struct step_result *r = arg;

	if (tb[STW_A_CYCLE] && stw_parse_cycle(tb[STW_A_CYCLE], &r->cycle))
		return -1;
	if (tb[STW_A_VM]) {
		if (stw_parse_vm(tb[STW_A_VM], &r->vm))
			return -1;
		r->has_vm = true;
	}
	return 0;
}

static void print_step(uint32_t id, const struct step_result *r)
{
	const struct stw_vm_info *vm = &r->vm;
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_u64(&j, "generation", r->cycle.generation);
		json_u64(&j, "holds", r->cycle.holds);
		if (r->has_vm)
			json_vm(&j, "vm", vm);
		else
			json_null(&j, "vm");
		json_end(&j);
		return;
	}
	if (!r->has_vm) {
		printf("stepped vm %" PRIu32 ": it is gone\n", id);
		return;
	}
	printf("stepped vm %" PRIu32 " (%s): polls %" PRIu64 ", jobs %" PRIu64
	       ", state %s, doing %s\n", vm->id, vm->name, vm->polls,
	       vm->jobs, state_name(vm->state), doing_name(vm->doing));
}

static int run_step(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "polls", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		COMMON_LONGOPTS,
		OPT_END
	};
	uint32_t id, polls = 0, timeout_ms = 0;
	struct step_result r = {};
	struct nl_msg *msg;
	struct stw_err e;
	struct stw_nl nl;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ret = opt_u32(&cmd_step, "--polls", optarg, 1,
				      MAX_POLLS, &polls);
			if (ret)
				return ret;
			break;
		case 't':
			ret = opt_u32(&cmd_step, "--timeout", optarg, 1,
				      MAX_TIMEOUT_MS, &timeout_ms);
			if (ret)
				return ret;
			break;
		default:
			ret = opt_common(&cmd_step, c, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind == argc)
		return usage_error(&cmd_step, "which VM? give its id");
	if (optind + 1 < argc)
		return usage_error(&cmd_step, "unexpected argument '%s'",
				   argv[optind + 1]);
	if (parse_u32(argv[optind], 1, UINT32_MAX, &id))
		return usage_error(&cmd_step, "'%s' is not a VM id",
				   argv[optind]);

	ret = stw_nl_open(&nl, "step");
	if (ret)
		return ret;
	msg = stw_nl_msg(&nl, STW_CMD_RUN_ONE, 0, 64);
	if (!msg || nla_put_u32(msg, STW_A_VM_ID, id) ||
	    (polls && nla_put_u32(msg, STW_A_POLLS, polls)) ||
	    (timeout_ms && nla_put_u32(msg, STW_A_TIMEOUT_MS, timeout_ms))) {
		nlmsg_free(msg);
		ret = stw_nl_nomem(&nl);
	} else if (stw_nl_call(&nl, msg, step_reply, &r, &e)) {
		ret = stw_nl_fail(&nl, &e);
	} else {
		print_step(id, &r);
		ret = EXIT_OK;
	}
	stw_nl_close(&nl);
	return ret;
}

const struct subcommand cmd_step = {
	.name = "step",
	.run = run_step,
	.synopsis = "VM [--polls N] [--timeout MS] [-j]",
	.summary = "let one VM run a few polls while the others stay stopped",
	.help =
"From a stopped world (see 'stwctl stop'), lets VM run until it has\n"
"passed N polls, goes idle or exits, while every other VM stays parked;\n"
"then the world is stopped again. Waits for that.\n"
"\n"
"  VM             the VM's id (see 'stwctl status')\n"
"  --polls N      polls it may pass, 1..1000000 (default 1)\n"
"  --timeout MS   how long to wait, 1..600000 (default 5000); on a\n"
"                 timeout the world stays run_one until the VM stops\n"
"                 or the world is resumed, and stwctl exits with 4\n"
"  -j, --json     JSON output\n"
"\n"
"Prints the VM after its step:\n"
"  stepped vm 3 (active-3): polls 1235, jobs 1, state stopped, doing parked\n"
"With -j: {\"generation\": N, \"holds\": N, \"vm\": {VM as in 'status -j'}}\n"
"Fails with EBUSY if the world is not stopped.\n",
};
