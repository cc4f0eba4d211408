// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl job: queue jobs on a demo VM.
 */
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "nl.h"
#include "output.h"

static int run_job(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'n' },
		{ "polls", required_argument, NULL, 'p' },
		COMMON_LONGOPTS,
		OPT_END
	};
	uint32_t id, jobs = STW_UNSET, polls = STW_UNSET;
	struct stw_sock *s;
	struct json j;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:p:" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ret = opt_u32(&cmd_job, "--jobs", optarg, 1,
				      STW_COUNT_MAX, &jobs);
			if (ret)
				return ret;
			break;
		case 'p':
			ret = opt_u32(&cmd_job, "--polls", optarg, 1,
				      STW_COUNT_MAX, &polls);
			if (ret)
				return ret;
			break;
		default:
			ret = opt_common(&cmd_job, c, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind == argc)
		return usage_error(&cmd_job, "which VM? give its id");
	if (optind + 1 < argc)
		return usage_error(&cmd_job, "unexpected argument '%s'",
				   argv[optind + 1]);
	if (parse_u32(argv[optind], 1, UINT32_MAX, &id))
		return usage_error(&cmd_job, "'%s' is not a VM id",
				   argv[optind]);

	ret = ctl_open(&s, "job", false);
	if (ret)
		return ret;
	if (stw_queue_job(s, id, jobs, polls)) {
		ret = ctl_fail(s, "job");
		goto out;
	}
	/* What the kernel took for what we did not say. */
	if (jobs == STW_UNSET)
		jobs = 1;
	if (polls == STW_UNSET)
		polls = STW_JOB_POLLS_DEFAULT;
	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "world", ctl_world());
		json_u64(&j, "vm", id);
		json_u64(&j, "jobs", jobs);
		json_u64(&j, "polls", polls);
		json_end(&j);
	} else {
		printf("queued %" PRIu32 " job%s of %" PRIu32
		       " polls on vm %" PRIu32 "\n",
		       jobs, jobs == 1 ? "" : "s", polls, id);
	}
	ret = EXIT_OK;
out:
	stw_close(s);
	return ret;
}

const struct subcommand cmd_job = {
	.name = "job",
	.run = run_job,
	.synopsis = "VM [--jobs N] [--polls N] [-w NAME] [-j]",
	.summary = "queue jobs on a demo VM",
	.help =
"Queues jobs on a demo VM's run loop (idle VMs too). Each job enters the\n"
"VM, does N units of work polling after each, and leaves. The VM's JOBS\n"
"counter (see 'stwctl status') counts finished jobs.\n"
"\n"
"  VM           the VM's id\n"
"  --jobs N     jobs to queue, 1.." STR(STW_COUNT_MAX) " (default 1)\n"
"  --polls N    polls per job, 1.." STR(STW_COUNT_MAX) " (default "
STR(STW_JOB_POLLS_DEFAULT) ")\n"
"  -w, --world NAME\n"
"               the VM's world (default \"" STW_WORLD_DEFAULT "\"); VM ids are per world\n"
"  -j, --json   JSON output\n"
"\n"
"Prints:\n"
"  queued 1 job of 100 polls on vm 3\n"
"With -j: {\"version\": \"...\", \"world\": \"demo\", \"vm\": 3, \"jobs\": 1,\n"
"  \"polls\": 100}\n",
};
