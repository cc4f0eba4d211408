// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl resume: release stop holds; the world runs again when none is
 * left.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "requests.h"

static int run_resume(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "hold", required_argument, NULL, 'H' },
		COMMON_LONGOPTS,
		OPT_END
	};
	bool force = false, resumed;
	struct stw_cycle cycle;
	uint32_t hold_id = 0;
	struct stw_sock *s;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fH:" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'H':
			ret = opt_u32(&cmd_resume, "--hold", optarg, 1,
				      UINT32_MAX, &hold_id);
			if (ret)
				return ret;
			break;
		default:
			ret = opt_common(&cmd_resume, c, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind < argc)
		return usage_error(&cmd_resume, "unexpected argument '%s'",
				   argv[optind]);
	if (force && hold_id)
		return usage_error(&cmd_resume,
				   "give --force or --hold, not both");

	ret = ctl_open(&s, "resume", false);
	if (ret)
		return ret;
	if (!stw_resume_ex(s, force, hold_id, &resumed, &cycle)) {
		resume_print(resumed, &cycle);
		ret = EXIT_OK;
	} else if (!s->local && s->err == EALREADY) {
		fputs("stwctl: resume: nothing to resume", stderr);
		if (s->extack[0] && !strstr(s->extack, "nothing to resume"))
			fprintf(stderr, ": %s", s->extack);
		fputc('\n', stderr);
		ret = EXIT_FAILED;
	} else {
		ret = ctl_fail(s, "resume");
	}
	stw_close(s);
	return ret;
}

const struct subcommand cmd_resume = {
	.name = "resume",
	.run = run_resume,
	.synopsis = "[--force] [--hold ID] [-w NAME] [-j]",
	.summary = "release stop holds; the world runs when none is left",
	.help =
"Releases stop holds. With no option: every detached hold (those of\n"
"'stwctl stop'). The world resumes when its last hold goes.\n"
"\n"
"  --hold ID    release this hold only (the number 'stwctl stop' printed)\n"
"  --force      release every hold, also those of running 'stwctl hold's\n"
"               and of other controllers\n"
"  -w, --world NAME\n"
"               the world to resume (default \"" STW_WORLD_DEFAULT "\"); hold ids are\n"
"               per world\n"
"  -j, --json   JSON output\n"
"\n"
"Prints 'resumed' if the world runs again, else 'released, N holds remain'.\n"
"With -j: {\"version\", \"world\", \"resumed\": true|false, \"generation\": N,\n"
"  \"holds\": N}\n"
"If there was nothing to release: 'nothing to resume' on stderr, exit 1.\n",
};
