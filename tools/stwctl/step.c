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

static void print_step(uint32_t id, const struct stw_done *r)
{
	const struct stw_vm *vm = &r->vm;
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "world", ctl_world());
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
	       vm->jobs, stw_state_name(vm->state),
	       stw_doing_name(vm->doing));
}

static int run_step(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "polls", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		COMMON_LONGOPTS,
		OPT_END
	};
	uint32_t id, polls = STW_UNSET, timeout_ms = STW_UNSET;
	struct stw_sock *s;
	struct stw_done r;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ret = opt_u32(&cmd_step, "--polls", optarg, 1,
				      STW_COUNT_MAX, &polls);
			if (ret)
				return ret;
			break;
		case 't':
			ret = opt_u32(&cmd_step, "--timeout", optarg, 1,
				      STW_TIMEOUT_MAX_MS, &timeout_ms);
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

	ret = ctl_open(&s, "step", false);
	if (ret)
		return ret;
	if (stw_run_one_ex(s, id, polls, timeout_ms, &r)) {
		ret = ctl_fail(s, "step");
	} else {
		print_step(id, &r);
		ret = EXIT_OK;
	}
	stw_done_free(&r);
	stw_close(s);
	return ret;
}

const struct subcommand cmd_step = {
	.name = "step",
	.run = run_step,
	.synopsis = "VM [--polls N] [--timeout MS] [-w NAME] [-j]",
	.summary = "let one VM run a few polls while the others stay stopped",
	.help =
"From a stopped world (see 'stwctl stop'), lets VM run until it has\n"
"passed N polls, goes idle or exits, while every other VM stays parked;\n"
"then the world is stopped again. Waits for that.\n"
"\n"
"  VM             the VM's id (see 'stwctl status')\n"
"  --polls N      polls it may pass, 1.." STR(STW_COUNT_MAX) " (default "
STR(STW_POLLS_DEFAULT) ")\n"
"  --timeout MS   how long to wait, 1.." STR(STW_TIMEOUT_MAX_MS) " (default "
STR(STW_TIMEOUT_DEFAULT_MS) "); on a\n"
"                 timeout the world stays run_one until the VM stops\n"
"                 or the world is resumed, and stwctl exits with 4\n"
"  -w, --world NAME\n"
"                 the VM's world (default \"" STW_WORLD_DEFAULT "\"); VM ids are per world\n"
"  -j, --json     JSON output\n"
"\n"
"Prints the VM after its step:\n"
"  stepped vm 3 (active-3): polls 1235, jobs 1, state stopped, doing parked\n"
"With -j: {\"world\", \"generation\": N, \"holds\": N,\n"
"  \"vm\": {VM as in 'status -j'}}\n"
"Fails with EBUSY if the world is not stopped.\n",
};
