// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl stop: stop the world with a detached hold that outlives stwctl
 * and is released by `stwctl resume` or when its lease runs out.
 */
#include "args.h"
#include "requests.h"

#define DEFAULT_LEASE_S	60

static int run_stop(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "keep-waiting", no_argument, NULL, 'k' },
		{ "lease", required_argument, NULL, 'l' },
		COMMON_LONGOPTS,
		OPT_END
	};
	struct stw_stop_req o = {
		.timeout_ms = STW_UNSET, .lease_ms = DEFAULT_LEASE_S * 1000,
	};
	struct stw_stop_result r;
	struct stw_sock *s;
	uint32_t lease_s;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:kl:" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			ret = opt_u32(&cmd_stop, "--timeout", optarg, 1,
				      STW_TIMEOUT_MAX_MS, &o.timeout_ms);
			if (ret)
				return ret;
			break;
		case 'k':
			o.keep_waiting = true;
			break;
		case 'l':
			ret = opt_u32(&cmd_stop, "--lease", optarg, 1,
				      STW_LEASE_MAX_MS / 1000, &lease_s);
			if (ret)
				return ret;
			o.lease_ms = lease_s * 1000;
			break;
		default:
			ret = opt_common(&cmd_stop, c, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind < argc)
		return usage_error(&cmd_stop, "unexpected argument '%s'",
				   argv[optind]);

	ret = ctl_open(&s, "stop", false);
	if (ret)
		return ret;
	if (stw_stop_ex(s, &o, &r)) {
		ret = stop_fail(s, "stop", &o, &r);
	} else {
		stop_print(&o, &r);
		ret = EXIT_OK;
	}
	stw_stop_result_free(&r);
	stw_close(s);
	return ret;
}

const struct subcommand cmd_stop = {
	.name = "stop",
	.run = run_stop,
	.synopsis = "[--timeout MS] [--keep-waiting] [--lease SEC] [-w NAME] [-j]",
	.summary = "stop the world with a detached hold (leased, 60 s by default)",
	.help =
"Stops the world: every VM parks at a safe point. Waits until it is\n"
"stopped, then returns and leaves it stopped: the hold it takes is\n"
"detached from stwctl, released by 'stwctl resume' or when the lease runs\n"
"out, so that a forgotten stop cannot freeze the VMs for longer than that.\n"
"A stop while a cycle is in progress joins it. Use 'stwctl hold' for a\n"
"hold that ends when stwctl does.\n"
"\n"
"  --timeout MS     how long to wait, 1.." STR(STW_TIMEOUT_MAX_MS)
" (default " STR(STW_TIMEOUT_DEFAULT_MS) ")\n"
"  --keep-waiting   on a timeout keep the hold and the world stopping\n"
"                   instead of rolling back\n"
"  --lease SEC      the hold's lease, at most a day (default " STR(DEFAULT_LEASE_S) ")\n"
"  -w, --world NAME the world to stop (default \"" STW_WORLD_DEFAULT "\")\n"
"  -j, --json       JSON output\n"
"\n"
"Prints:\n"
"  stopped: generation 12, time to stop 85us, hold 3 (lease 60s)\n"
"('joined:' instead of 'stopped:' if the cycle was in progress, and\n"
"', N holds' at the end if other holds are outstanding.)\n"
"With -j: {\"world\", \"result\": \"stopped\"|\"joined\", \"generation\",\n"
"  \"tts_ns\", \"joined\", \"hold_id\", \"holds\", \"lease_ms\"}\n"
"\n"
"On a timeout the kernel's message goes to stderr and the VMs that did\n"
"not park to stdout, and stwctl exits with 4:\n"
"  timed out: generation 13, rolled back; 1 laggard:\n"
"  ID  NAME      PID  KIND    DOING\n"
"   4  nopoll-4  815  nopoll  running\n"
"When the kernel named only some laggards, the count line says\n"
"'(N of M shown)'; when it wrote their stacks to the kernel log, a last\n"
"line says 'stacks in the kernel log (dmesg)'.\n"
"With -j: {\"result\": \"timeout\", ..., \"rolled_back\": true|false,\n"
"  \"laggards\": [{VM as in 'status -j'}, ...], \"laggards_total\": M,\n"
"  \"laggards_truncated\": false, \"stacks_logged\": false}\n"
"Every JSON object also has \"version\" (Documentation/stwctl-json.md).\n",
};
