// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl monitor: print the events of the "events" multicast group, one
 * line each, until SIGINT or SIGTERM: every world's, or with -w one
 * world's.
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

static const char *const event_names[] = {
	[STW_CMD_STOPPED_NTF] = "stopped",
	[STW_CMD_RESUMED_NTF] = "resumed",
	[STW_CMD_TIMEOUT_NTF] = "timeout",
	[STW_CMD_VM_ADDED_NTF] = "vm_added",
	[STW_CMD_VM_GONE_NTF] = "vm_gone",
	[STW_CMD_LEASE_EXPIRED_NTF] = "lease_expired",
};

static const char *event_name(int cmd)
{
	if (cmd < 0 || (size_t)cmd >= ARRAY_SIZE(event_names))
		return NULL;
	return event_names[cmd];
}

/* The fields each kind of event adds to its JSON object. */
static void json_event_fields(struct json *j, const struct stw_event *e)
{
	switch (e->cmd) {
	case STW_CMD_STOPPED_NTF:
		json_u64(j, "generation", e->cycle.generation);
		if (e->cycle.has_tts)
			json_u64(j, "tts_ns", e->cycle.tts_ns);
		else
			json_null(j, "tts_ns");
		if (e->has_step_vm)
			json_u64(j, "step_vm", e->step_vm);
		else
			json_null(j, "step_vm");
		break;
	case STW_CMD_RESUMED_NTF:
		json_u64(j, "generation", e->cycle.generation);
		break;
	case STW_CMD_TIMEOUT_NTF:
		json_u64(j, "generation", e->cycle.generation);
		if (e->cycle.has_hold_id)
			json_u64(j, "hold_id", e->cycle.hold_id);
		else
			json_null(j, "hold_id");
		json_laggards(j, &e->laggards);
		break;
	case STW_CMD_VM_ADDED_NTF:
	case STW_CMD_VM_GONE_NTF:
		json_vm(j, "vm", &e->vm);
		break;
	case STW_CMD_LEASE_EXPIRED_NTF:
		json_u64(j, "hold_id", e->hold_id);
		break;
	}
}

static void print_json(const struct stw_event *e)
{
	const char *name = event_name(e->cmd);
	struct json j;

	json_begin(&j, stdout);
	json_str(&j, "event", name ?: "unknown");
	json_str(&j, "world", e->world[0] ? e->world : "?");
	json_u64(&j, "seq", e->seq);
	if (name)
		json_event_fields(&j, e);
	else
		json_u64(&j, "cmd", e->cmd);
	json_end(&j);
}

static void print_timeout(const struct stw_event *e)
{
	const struct stw_laggards *l = &e->laggards;
	size_t i;

	printf("timeout generation %" PRIu64 ": laggards", e->cycle.generation);
	for (i = 0; i < l->list.n; i++)
		printf(" %" PRIu32 "(%s)", l->list.vms[i].id,
		       l->list.vms[i].name);
	if (!l->total)
		printf(" none");
	if (l->truncated)
		printf(" (%zu of %" PRIu32 " shown)", l->list.n, l->total);
	if (l->stacks_logged)
		printf("; stacks in the kernel log (dmesg)");
	putchar('\n');
}

static void print_text(const struct stw_event *e)
{
	const struct stw_cycle *c = &e->cycle;
	char tts[NS_BUF];

	/* First, so that "stopped generation 12 ..." reads as it did. */
	printf("%s: ", e->world[0] ? e->world : "?");
	switch (e->cmd) {
	case STW_CMD_STOPPED_NTF:
		printf("stopped generation %" PRIu64 " tts %s", c->generation,
		       c->has_tts ? fmt_ns(tts, c->tts_ns) : "?");
		if (e->has_step_vm)
			printf(" (step of vm %" PRIu32 " ended)", e->step_vm);
		putchar('\n');
		break;
	case STW_CMD_RESUMED_NTF:
		printf("resumed generation %" PRIu64 "\n", c->generation);
		break;
	case STW_CMD_TIMEOUT_NTF:
		print_timeout(e);
		break;
	case STW_CMD_VM_ADDED_NTF:
	case STW_CMD_VM_GONE_NTF:
		printf("%s %" PRIu32 " %s\n", e->cmd == STW_CMD_VM_ADDED_NTF ?
		       "vm added" : "vm gone", e->vm.id, e->vm.name);
		break;
	case STW_CMD_LEASE_EXPIRED_NTF:
		printf("lease expired hold %" PRIu32 "\n", e->hold_id);
		break;
	default:
		printf("unknown event %d\n", e->cmd);
	}
}

static void print_lost(void)
{
	struct json j;

	if (opt_json) {
		json_begin(&j, stdout);
		json_str(&j, "event", "lost");
		json_end(&j);
	} else {
		printf("lost events\n");
	}
}

/*
 * Prints what is queued. Events are lost when the socket overran or
 * when STW_A_EVENT_SEQ skips. Returns 0 or an exit code.
 */
static int drain(struct stw_sock *s, uint64_t *last_seq)
{
	struct stw_event e;
	int err;

	for (;;) {
		err = stw_event_wait(s, -1, 0, &e);
		if (s->lost || (!err && e.seq && *last_seq &&
				e.seq != *last_seq + 1)) {
			s->lost = false;
			print_lost();
		}
		if (err == EAGAIN)
			break;
		if (err == EBADMSG) {
			fputs("stwctl: monitor: skipped a malformed event\n",
			      stderr);
			continue;
		}
		if (err) {
			fprintf(stderr, "stwctl: monitor: receiving events: %s\n",
				strerror(err));
			return EXIT_FAILED;
		}
		if (e.seq)
			*last_seq = e.seq;
		/*
		 * Filtered here, after the sequence check: the kernel sends
		 * every world's events to the group, numbered as one stream.
		 */
		if (opt_world && e.world[0] && strcmp(e.world, opt_world)) {
			stw_event_free(&e);
			continue;
		}
		if (opt_json)
			print_json(&e);
		else
			print_text(&e);
		stw_event_free(&e);
	}
	fflush(stdout);
	return 0;
}

static int listen_events(struct stw_sock *s)
{
	struct pollfd pfd = { .fd = stw_fd(s), .events = POLLIN };
	sigset_t block, oldmask;
	struct sigaction sa;
	uint64_t last_seq = 0;
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
	while (!got_signal && !ret) {
		if (ppoll(&pfd, 1, NULL, &oldmask) < 0) {
			if (errno == EINTR)
				continue;
			perror("stwctl: monitor: poll");
			return EXIT_FAILED;
		}
		ret = drain(s, &last_seq);
	}
	return ret;
}

static int run_monitor(int argc, char **argv)
{
	struct stw_sock *s;
	int ret;

	ret = opts_common_only(&cmd_monitor, argc, argv);
	if (ret >= 0)
		return ret;

	ret = ctl_open(&s, "monitor", true);
	if (ret)
		return ret;
	ret = listen_events(s);
	stw_close(s);
	return ret;
}

const struct subcommand cmd_monitor = {
	.name = "monitor",
	.run = run_monitor,
	.synopsis = "[-w NAME] [-j]",
	.summary = "print stw events as they happen, until ^C",
	.help =
"Joins the \"events\" multicast group and prints one line per event until\n"
"SIGINT or SIGTERM (then exits 0). Needs no privilege. Once it listens it\n"
"says so on stderr ('stwctl: monitor: listening for events'), so that a\n"
"script can wait for that line before it acts. Each line is flushed at\n"
"once, and begins with the event's world.\n"
"\n"
"  -w, --world NAME   only the events of this world (default: every world's)\n"
"  -j, --json         JSON output\n"
"\n"
"  demo: stopped generation 12 tts 85us\n"
"  demo: stopped generation 12 tts 3.1ms (step of vm 3 ended)\n"
"  demo: resumed generation 12\n"
"  demo: timeout generation 13: laggards 4(nopoll-4) 5(nopoll-5)\n"
"  pool: vm added 7 active-7\n"
"  pool: vm gone 7 active-7\n"
"  demo: lease expired hold 3\n"
"  lost events\n"
"(a timeout line ends with '(N of M shown)' when the kernel named only\n"
"some laggards, and '; stacks in the kernel log (dmesg)' when it logged\n"
"their stacks; 'lost events', of any world, when the receive buffer\n"
"overran or the events' sequence numbers skipped)\n"
"\n"
"With -j, one JSON object per line, each with \"version\", \"world\" and\n"
"\"seq\":\n"
"  {\"event\": \"stopped\", \"generation\": 12, \"tts_ns\": 85000, \"step_vm\": null}\n"
"  {\"event\": \"resumed\", \"generation\": 12}\n"
"  {\"event\": \"timeout\", \"generation\": 13, \"hold_id\": null,\n"
"   \"laggards\": [{VM}, ...], \"laggards_total\", \"laggards_truncated\",\n"
"   \"stacks_logged\"}\n"
"  {\"event\": \"vm_added\", \"vm\": {VM}}   {\"event\": \"vm_gone\", \"vm\": {VM}}\n"
"  {\"event\": \"lease_expired\", \"hold_id\": 3}\n"
"  {\"event\": \"lost\"} (no \"world\", no \"seq\")\n"
"where {VM} is as in 'stwctl status -j'.\n",
};
