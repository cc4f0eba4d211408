// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl hold: stop the world with a hold bound to stwctl's own netlink
 * socket, run a command (or wait for a signal), then release it. If
 * stwctl dies, the kernel drops the hold when the socket closes.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "requests.h"

#define MAX_TIMEOUT_MS	600000

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void on_sigchld(int sig)
{
	(void)sig;	/* only wakes sigsuspend() */
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;	/* no SA_RESTART: interrupt waits */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

/* ---- watching our cycle on the events group ---- */

struct watch {
	uint64_t generation;
	bool stopped;		/* STOPPED_NTF for our generation */
	bool resumed;		/* RESUMED_NTF for it: our hold is gone */
	bool has_tts;
	uint64_t tts_ns;	/* from STOPPED_NTF */
};

static int watch_event(const struct stw_msg *m, void *arg)
{
	struct nlattr **tb = m->tb;
	struct stw_cycle_info c;
	struct watch *w = arg;

	if (!tb[STW_A_CYCLE])
		return 0;
	if (stw_parse_cycle(tb[STW_A_CYCLE], &c))
		return -1;
	if (c.generation != w->generation)
		return 0;
	if (m->cmd == STW_CMD_STOPPED_NTF) {
		if (!w->stopped && c.has_tts) {
			w->has_tts = true;
			w->tts_ns = c.tts_ns;
		}
		w->stopped = true;
	} else if (m->cmd == STW_CMD_RESUMED_NTF) {
		w->resumed = true;
	}
	return 0;
}

/* Events were lost: ask the world instead. */
static int watch_resync(struct stw_nl *nl, struct watch *w)
{
	struct stw_world_info world;
	struct stw_err e;

	if (world_fetch(nl, &world, &e))
		return stw_nl_fail(nl, &e);
	if (world.generation != w->generation || world.mode == STW_RUN_ALL)
		w->resumed = true;
	else if (world.mode == STW_STOPPED || world.mode == STW_RUN_ONE)
		w->stopped = true;
	if (w->stopped && !w->has_tts) {
		w->has_tts = true;
		w->tts_ns = world.last_tts_ns;
	}
	return 0;
}

/*
 * Waits until DONE(w) or a signal (unblocked only inside ppoll with
 * *MASK). Returns 0, or an exit code if the events socket failed.
 */
static int watch_wait(struct stw_nl *nl, struct stw_nl *ev, struct watch *w,
		      bool (*done)(const struct watch *w),
		      const sigset_t *mask)
{
	struct pollfd pfd = { .fd = stw_nl_fd(ev), .events = POLLIN };
	int ret;

	while (!done(w) && !got_signal) {
		if (ppoll(&pfd, 1, NULL, mask) < 0) {
			if (errno == EINTR)
				continue;
			perror("stwctl: hold: poll");
			return EXIT_FAILED;
		}
		ret = stw_nl_events(ev, watch_event, w);
		if (ret == -ENOBUFS)
			ret = watch_resync(nl, w);
		else if (ret == -EPROTO)
			ret = 0;	/* one malformed event: skip it */
		if (ret) {
			fprintf(stderr, "stwctl: hold: events: %s\n",
				strerror(-ret));
			return EXIT_FAILED;
		}
	}
	return 0;
}

static bool watch_stopped(const struct watch *w)
{
	return w->stopped || w->resumed;
}

static bool watch_resumed(const struct watch *w)
{
	return w->resumed;
}

/* ---- running the command ---- */

static int run_child(char **cmdv, const sigset_t *oldmask)
{
	pid_t pid, r;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("stwctl: hold: fork");
		return -1;
	}
	if (!pid) {
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		execvp(cmdv[0], cmdv);
		fprintf(stderr, "stwctl: hold: %s: %s\n", cmdv[0],
			strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			perror("stwctl: hold: waitpid");
			return -1;
		}
		/* SIGINT reached the child from the terminal already. */
		if (got_signal == SIGTERM || got_signal == SIGHUP)
			kill(pid, got_signal);
		got_signal = 0;
		if (r == 0)
			sigsuspend(oldmask);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* ---- releasing the hold ---- */

static int release(struct stw_nl *nl, uint32_t hold_id, bool quiet)
{
	struct resume_result r;
	struct stw_err e;

	if (!resume_request(nl, hold_id, false, &r, &e)) {
		if (!quiet)
			resume_print(&r);
		return 0;
	}
	if (!e.local && e.err == ENOENT) {
		fprintf(stderr,
			"stwctl: hold: hold %" PRIu32 " was already released\n",
			hold_id);
		return 0;
	}
	return stw_nl_fail(nl, &e);
}

static int run_hold(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "keep-waiting", no_argument, NULL, 'k' },
		COMMON_LONGOPTS,
		OPT_END
	};
	struct stop_opts o = { .lease_ms = 0 };
	struct stw_nl nl, ev;
	sigset_t block, oldmask;
	struct stop_result r;
	bool waiting = false;
	struct watch w = {};
	char **cmdv = NULL;
	struct stw_err e;
	int c, ret, rel;

	optind = 0;
	opterr = 0;
	/* '+': the command's own options are not ours. */
	while ((c = getopt_long(argc, argv, "+:t:kjh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			ret = opt_u32(&cmd_hold, "--timeout", optarg, 1,
				      MAX_TIMEOUT_MS, &o.timeout_ms);
			if (ret)
				return ret;
			break;
		case 'k':
			o.keep_waiting = true;
			break;
		default:
			ret = opt_common(&cmd_hold, c, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind < argc)
		cmdv = &argv[optind];

	install_handlers();
	ret = stw_nl_open(&nl, "hold");
	if (ret)
		return ret;
	/* Listen before stopping: no event of our cycle can be missed. */
	ret = stw_nl_open(&ev, "hold");
	if (ret)
		goto out_close_nl;
	ret = stw_nl_join_events(&ev);
	if (ret)
		goto out_close;

	if (stop_request(&nl, &o, &r, &e)) {
		ret = stop_fail(&nl, &o, &r, &e);
		if (e.local || e.err != ETIMEDOUT || !o.keep_waiting ||
		    !r.cycle.has_hold_id)
			goto out_free;
		/* --keep-waiting: the hold stands; wait for the stop. */
		fprintf(stderr,
			"stwctl: hold: still waiting for generation %" PRIu64
			" to stop\n", r.cycle.generation);
		waiting = true;
	}
	w.generation = r.cycle.generation;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	if (waiting) {
		ret = watch_wait(&nl, &ev, &w, watch_stopped, &oldmask);
		if (ret)
			goto out_release;
		if (got_signal) {
			ret = EXIT_FAILED;
			goto out_release;
		}
		if (w.resumed) {
			fprintf(stderr,
				"stwctl: hold: the world was resumed before it stopped (resume --force?)\n");
			ret = EXIT_FAILED;
			goto out_release;
		}
		r.cycle.has_tts = w.has_tts;
		r.cycle.tts_ns = w.tts_ns;
	}
	stop_print(&o, &r);
	if (got_signal) {
		ret = EXIT_OK;
		goto out_release;
	}

	if (cmdv) {
		ret = run_child(cmdv, &oldmask);
		if (ret < 0)
			ret = EXIT_FAILED;
	} else {
		if (isatty(STDERR_FILENO))
			fputs("stwctl: hold: the world stays stopped until ^C\n",
			      stderr);
		ret = watch_wait(&nl, &ev, &w, watch_resumed, &oldmask);
		if (!ret && w.resumed && !got_signal) {
			fputs("stwctl: hold: the world was resumed by someone else (resume --force?)\n",
			      stderr);
			ret = EXIT_FAILED;
		}
	}

out_release:
	/* Our generation resumed: our hold is gone already. */
	rel = w.resumed ? 0 : release(&nl, r.cycle.hold_id, cmdv != NULL);
	if (rel && !ret)
		ret = rel;
out_free:
	stop_result_free(&r);
out_close:
	stw_nl_close(&ev);
out_close_nl:
	stw_nl_close(&nl);
	return ret;
}

const struct subcommand cmd_hold = {
	.name = "hold",
	.run = run_hold,
	.synopsis = "[--timeout MS] [--keep-waiting] [-j] [-- CMD [ARGS...]]",
	.summary = "stop the world while a command runs, or until ^C",
	.help =
"Stops the world with a hold bound to stwctl's own netlink socket, then\n"
"runs CMD with the world stopped and exits with CMD's status (128+N if a\n"
"signal N killed it). Without CMD it prints the stop line and waits for\n"
"SIGINT or SIGTERM, then releases its hold, prints the release line and\n"
"exits 0. If stwctl itself is killed, the kernel drops the hold when its\n"
"socket closes, so the world never stays stopped behind a dead stwctl.\n"
"SIGTERM and SIGHUP are passed on to CMD.\n"
"\n"
"  --timeout MS     how long to wait for the stop, 1..600000 (default 5000)\n"
"  --keep-waiting   on a timeout, print the laggards and keep waiting\n"
"                   until they park instead of giving up\n"
"  -j, --json       JSON output, as for 'stwctl stop' and 'stwctl resume'\n"
"\n"
"Prints, as 'stwctl stop' does (without a lease):\n"
"  stopped: generation 12, time to stop 85us, hold 3\n"
"On a timeout (without --keep-waiting): the laggards, exit 4.\n",
};
