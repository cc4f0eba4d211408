// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl stop: stop the world with a detached hold that outlives stwctl
 * and is released by `stwctl resume` or when its lease runs out.
 */
#include "args.h"
#include "requests.h"

#define DEFAULT_LEASE_S	60
#define MAX_LEASE_S	86400		/* STW_A_LEASE_MS <= 86400000 */
#define MAX_TIMEOUT_MS	600000		/* STW_A_TIMEOUT_MS */

static int run_stop(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "keep-waiting", no_argument, NULL, 'k' },
		{ "lease", required_argument, NULL, 'l' },
		COMMON_LONGOPTS,
		OPT_END
	};
	struct stop_opts o = { .lease_ms = DEFAULT_LEASE_S * 1000 };
	struct stop_result r;
	uint32_t lease_s;
	struct stw_err e;
	struct stw_nl nl;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:kl:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			ret = opt_u32(&cmd_stop, "--timeout", optarg, 1,
				      MAX_TIMEOUT_MS, &o.timeout_ms);
			if (ret)
				return ret;
			break;
		case 'k':
			o.keep_waiting = true;
			break;
		case 'l':
			ret = opt_u32(&cmd_stop, "--lease", optarg, 1,
				      MAX_LEASE_S, &lease_s);
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

	ret = stw_nl_open(&nl, "stop");
	if (ret)
		return ret;
	if (stop_request(&nl, &o, &r, &e)) {
		ret = stop_fail(&nl, &o, &r, &e);
	} else {
		stop_print(&o, &r);
		ret = EXIT_OK;
	}
	stop_result_free(&r);
	stw_nl_close(&nl);
	return ret;
}

const struct subcommand cmd_stop = {
	.name = "stop",
	.run = run_stop,
	.synopsis = "[--timeout MS] [--keep-waiting] [--lease SEC] [-j]",
	.summary = "stop the world with a detached hold (leased, 60 s by default)",
	.help =
"Stops the world: every VM parks at a safe point. Waits until it is\n"
"stopped, then returns and leaves it stopped: the hold it takes is\n"
"detached from stwctl, released by 'stwctl resume' or when the lease runs\n"
"out, so that a forgotten stop cannot freeze the VMs for longer than that.\n"
"A stop while a cycle is in progress joins it. Use 'stwctl hold' for a\n"
"hold that ends when stwctl does.\n"
"\n"
"  --timeout MS     how long to wait, 1..600000 (kernel default 5000)\n"
"  --keep-waiting   on a timeout keep the hold and the world stopping\n"
"                   instead of rolling back\n"
"  --lease SEC      the hold's lease, 1..86400 (default 60)\n"
"  -j, --json       JSON output\n"
"\n"
"Prints:\n"
"  stopped: generation 12, time to stop 85us, hold 3 (lease 60s)\n"
"('joined:' instead of 'stopped:' if the cycle was in progress, and\n"
"', N holds' at the end if other holds are outstanding.)\n"
"With -j: {\"result\": \"stopped\"|\"joined\", \"generation\", \"tts_ns\",\n"
"  \"joined\", \"hold_id\", \"holds\", \"lease_ms\"}\n"
"\n"
"On a timeout the kernel's message goes to stderr and the VMs that did\n"
"not park to stdout, and stwctl exits with 4:\n"
"  timed out: generation 13, rolled back; 1 laggard:\n"
"  ID  NAME      PID  KIND    DOING\n"
"   4  nopoll-4  815  nopoll  running\n"
"With -j: {\"result\": \"timeout\", ..., \"rolled_back\": true|false,\n"
"  \"laggards\": [{VM as in 'status -j'}, ...]}\n",
};
