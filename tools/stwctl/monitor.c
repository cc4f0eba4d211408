// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl monitor: print the events of the "events" multicast group, one
 * line each, until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "nl.h"
#include "output.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void print_cycle_event(const char *what, uint8_t cmd,
			      struct nlattr **tb)
{
	struct stw_world_info w = {};
	struct stw_cycle_info c = {};
	char tts[NS_BUF];
	struct json j;

	if (tb[STW_A_CYCLE])
		stw_parse_cycle(tb[STW_A_CYCLE], &c);
	if (tb[STW_A_WORLD])
		stw_parse_world(tb[STW_A_WORLD], &w);
	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "event", what);
		json_u64(&j, "generation", c.generation);
		if (cmd == STW_CMD_STOPPED_NTF) {
			if (c.has_tts)
				json_u64(&j, "tts_ns", c.tts_ns);
			else
				json_null(&j, "tts_ns");
			if (w.has_step_vm)
				json_u64(&j, "step_vm", w.step_vm);
			else
				json_null(&j, "step_vm");
		}
		json_end(&j);
		return;
	}
	printf("%s generation %" PRIu64, what, c.generation);
	if (cmd == STW_CMD_STOPPED_NTF) {
		printf(" tts %s", c.has_tts ? fmt_ns(tts, c.tts_ns) : "?");
		if (w.has_step_vm)
			printf(" (step of vm %" PRIu32 " ended)", w.step_vm);
	}
	putchar('\n');
}

static int print_timeout(struct nlattr **tb)
{
	struct stw_cycle_info c = {};
	struct stw_vms vms = {};
	struct json j;
	size_t i;

	if (tb[STW_A_CYCLE])
		stw_parse_cycle(tb[STW_A_CYCLE], &c);
	if (tb[STW_A_LAGGARDS] &&
	    stw_parse_laggards(tb[STW_A_LAGGARDS], &vms)) {
		stw_vms_free(&vms);
		return -1;
	}
	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "event", "timeout");
		json_u64(&j, "generation", c.generation);
		json_arr(&j, "laggards");
		for (i = 0; i < vms.n; i++)
			json_vm(&j, NULL, &vms.v[i]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		printf("timeout generation %" PRIu64 ": laggards", c.generation);
		for (i = 0; i < vms.n; i++)
			printf(" %" PRIu32 "(%s)", vms.v[i].id, vms.v[i].name);
		printf(vms.n ? "\n" : " none\n");
	}
	stw_vms_free(&vms);
	return 0;
}

static int print_vm_event(const char *what, struct nlattr **tb)
{
	struct stw_vm_info vm;
	struct json j;

	if (!tb[STW_A_VM] || stw_parse_vm(tb[STW_A_VM], &vm))
		return -1;
	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "event", what);
		json_vm(&j, "vm", &vm);
		json_end(&j);
	} else {
		printf("%s %" PRIu32 " %s\n",
		       !strcmp(what, "vm_added") ? "vm added" : "vm gone",
		       vm.id, vm.name);
	}
	return 0;
}

static int on_event(const struct stw_msg *m, void *arg)
{
	struct nlattr **tb = m->tb;
	struct json j;
	int ret = 0;

	(void)arg;
	switch (m->cmd) {
	case STW_CMD_STOPPED_NTF:
		print_cycle_event("stopped", m->cmd, tb);
		break;
	case STW_CMD_RESUMED_NTF:
		print_cycle_event("resumed", m->cmd, tb);
		break;
	case STW_CMD_TIMEOUT_NTF:
		ret = print_timeout(tb);
		break;
	case STW_CMD_VM_ADDED_NTF:
		ret = print_vm_event("vm_added", tb);
		break;
	case STW_CMD_VM_GONE_NTF:
		ret = print_vm_event("vm_gone", tb);
		break;
	default:
		if (opt_json) {
			json_begin(&j, stdout);
			json_str(&j, "event", "unknown");
			json_u64(&j, "cmd", m->cmd);
			json_end(&j);
		} else {
			printf("unknown event %u\n", m->cmd);
		}
	}
	fflush(stdout);
	return ret;
}

static void print_lost(void)
{
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "event", "lost");
		json_end(&j);
	} else {
		printf("lost events (receive buffer overrun)\n");
	}
	fflush(stdout);
}

static int listen_events(struct stw_nl *nl)
{
	struct pollfd pfd = { .fd = stw_nl_fd(nl), .events = POLLIN };
	sigset_t block, oldmask;
	struct sigaction sa;
	int ret = EXIT_OK;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	/* On stderr, so that a script can wait for it before acting. */
	fputs("stwctl: monitor: listening for events\n", stderr);
	while (!got_signal) {
		if (ppoll(&pfd, 1, NULL, &oldmask) < 0) {
			if (errno == EINTR)
				continue;
			perror("stwctl: monitor: poll");
			ret = EXIT_FAILED;
			break;
		}
		switch (stw_nl_events(nl, on_event, NULL)) {
		case 0:
			break;
		case -ENOBUFS:
			print_lost();
			break;
		case -EPROTO:
			fputs("stwctl: monitor: skipped a malformed event\n",
			      stderr);
			break;
		default:
			fputs("stwctl: monitor: receiving events failed\n",
			      stderr);
			return EXIT_FAILED;
		}
	}
	return ret;
}

static int run_monitor(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, OPT_END };
	struct stw_nl nl;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
		ret = opt_common(&cmd_monitor, c, argv);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc)
		return usage_error(&cmd_monitor, "unexpected argument '%s'",
				   argv[optind]);

	ret = stw_nl_open(&nl, "monitor");
	if (ret)
		return ret;
	ret = stw_nl_join_events(&nl);
	if (!ret)
		ret = listen_events(&nl);
	stw_nl_close(&nl);
	return ret;
}

const struct subcommand cmd_monitor = {
	.name = "monitor",
	.run = run_monitor,
	.synopsis = "[-j]",
	.summary = "print stw events as they happen, until ^C",
	.help =
"Joins the \"events\" multicast group and prints one line per event until\n"
"SIGINT or SIGTERM (then exits 0). Needs no privilege. Once it listens it\n"
"says so on stderr ('stwctl: monitor: listening for events'), so that a\n"
"script can wait for that line before it acts. Each line is flushed at\n"
"once.\n"
"\n"
"  stopped generation 12 tts 85us\n"
"  stopped generation 12 tts 3.1ms (step of vm 3 ended)\n"
"  resumed generation 12\n"
"  timeout generation 13: laggards 4(nopoll-4) 5(nopoll-5)\n"
"  vm added 7 active-7\n"
"  vm gone 7 active-7\n"
"  lost events (receive buffer overrun)\n"
"\n"
"With -j, one JSON object per line:\n"
"  {\"event\": \"stopped\", \"generation\": 12, \"tts_ns\": 85000, \"step_vm\": null}\n"
"  {\"event\": \"resumed\", \"generation\": 12}\n"
"  {\"event\": \"timeout\", \"generation\": 13, \"laggards\": [{VM}, ...]}\n"
"  {\"event\": \"vm_added\", \"vm\": {VM}}   {\"event\": \"vm_gone\", \"vm\": {VM}}\n"
"  {\"event\": \"lost\"}\n"
"where {VM} is as in 'stwctl status -j'.\n",
};
