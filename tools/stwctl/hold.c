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

static volatile sig_atomic_t got_signal;
/* The last signal came from the terminal (to the whole process group). */
static volatile sig_atomic_t from_tty;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_signal = sig;
	/*
	 * The terminal's ^C, ^\\ and hangup come from the kernel (SI_KERNEL)
	 * to the whole foreground group: CMD has its own copy. A kill() is
	 * SI_USER (or SI_QUEUE) and was meant for stwctl alone.
	 */
	from_tty = si && si->si_code == SI_KERNEL;
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
	sa.sa_sigaction = on_signal;	/* no SA_RESTART: interrupt waits */
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

/* ---- watching our cycle on the events group ---- */

struct watch {
	const char *world;	/* ours: generations are per world */
	uint64_t generation;
	bool stopped;		/* STOPPED_NTF for our generation */
	bool resumed;		/* RESUMED_NTF for it: our hold is gone */
	bool has_tts;
	uint64_t tts_ns;	/* from STOPPED_NTF */
};

static void watch_event(struct watch *w, const struct stw_event *e)
{
	/*
	 * Another world's cycle of the same generation is not ours; an event
	 * naming no world comes from a kernel that has only one.
	 */
	if (e->world[0] && strcmp(e->world, w->world))
		return;
	if (!e->cycle.present || e->cycle.generation != w->generation)
		return;
	if (e->cmd == STW_CMD_STOPPED_NTF) {
		if (!w->stopped && e->cycle.has_tts) {
			w->has_tts = true;
			w->tts_ns = e->cycle.tts_ns;
		}
		w->stopped = true;
	} else if (e->cmd == STW_CMD_RESUMED_NTF) {
		w->resumed = true;
	}
}

/* Events were lost: ask the world instead. */
static int watch_resync(struct stw_sock *s, struct watch *w)
{
	struct stw_world world;

	if (stw_status(s, &world))
		return ctl_fail(s, "hold");
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

/* Feeds what the events socket holds to @w. 0 or an exit code. */
static int watch_drain(struct stw_sock *s, struct stw_sock *ev,
		       struct watch *w)
{
	struct stw_event e;
	int err;

	for (;;) {
		err = stw_event_wait(ev, -1, 0, &e);
		if (ev->lost) {
			ev->lost = false;
			if (watch_resync(s, w))
				return EXIT_FAILED;
		}
		if (err == EAGAIN)
			return 0;
		if (err == EBADMSG)
			continue;	/* one malformed event: skip it */
		if (err) {
			fprintf(stderr, "stwctl: hold: events: %s\n",
				strerror(err));
			return EXIT_FAILED;
		}
		watch_event(w, &e);
		stw_event_free(&e);
	}
}

/*
 * Waits until DONE(w) or a signal (unblocked only inside ppoll with
 * *MASK). Returns 0, or an exit code if the events socket failed.
 */
static int watch_wait(struct stw_sock *s, struct stw_sock *ev,
		      struct watch *w, bool (*done)(const struct watch *w),
		      const sigset_t *mask)
{
	struct pollfd pfd = { .fd = stw_fd(ev), .events = POLLIN };
	int ret;

	while (!done(w) && !got_signal) {
		if (ppoll(&pfd, 1, NULL, mask) < 0) {
			if (errno == EINTR)
				continue;
			perror("stwctl: hold: poll");
			return EXIT_FAILED;
		}
		ret = watch_drain(s, ev, w);
		if (ret)
			return ret;
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

/* ---- releasing the hold ---- */

static int release(struct stw_sock *s, uint32_t hold_id, bool quiet)
{
	struct stw_cycle cycle;
	bool resumed;

	if (!stw_resume_ex(s, false, hold_id, &resumed, &cycle)) {
		if (!quiet)
			resume_print(resumed, &cycle);
		return 0;
	}
	if (!s->local && s->err == ENOENT) {
		fprintf(stderr,
			"stwctl: hold: hold %" PRIu32 " was already released\n",
			hold_id);
		return 0;
	}
	return ctl_fail(s, "hold");
}

/* ---- running the command ---- */

/*
 * A signal for stwctl itself (not the terminal's, which CMD got too) is
 * passed on to CMD, and the world resumes at once: whoever sent it wants
 * the hold to end, whatever CMD does with it.
 */
static int pass_signal(pid_t pid, struct stw_sock *s, uint32_t hold_id,
		       bool *released)
{
	int sig = got_signal;
	int ret = 0;

	got_signal = 0;
	if (from_tty && sig == SIGINT)
		return 0;
	kill(pid, sig);
	if (!*released) {
		*released = true;
		ret = release(s, hold_id, true);
	}
	return ret;
}

/* Runs CMD; returns its exit status, 128+N for signal N, or -1. */
static int run_child(char **cmdv, const sigset_t *oldmask,
		     struct stw_sock *s, uint32_t hold_id, bool *released)
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
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
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
		if (got_signal && pass_signal(pid, s, hold_id, released))
			return -1;
		if (r == 0)
			sigsuspend(oldmask);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* ---- stopping ---- */

/*
 * STOP and its completion; with --keep-waiting, a timeout is reported
 * and the wait goes on for the events of our generation. Returns 0 with
 * the world stopped and our hold in r->cycle, else an exit code.
 */
static int hold_stop(struct stw_sock *s, struct stw_sock *ev,
		     const struct stw_stop_req *o, struct stw_stop_result *r,
		     struct watch *w, const sigset_t *mask)
{
	struct stw_done d;
	sigset_t blocked;
	int ret;

	if (stw_stop_send(s, o, &r->cycle))
		return stop_fail(s, "hold", o, r);
	w->generation = r->cycle.generation;
	if (!r->cycle.pending)
		return 0;
	/* Signals may end the wait: unblock them while we read. */
	sigprocmask(SIG_SETMASK, mask, &blocked);
	ret = got_signal ? EINTR : stw_wait_done(s, o->timeout_ms, &d);
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	if (ret == EINTR || got_signal) {
		if (!ret)
			stw_done_free(&d);
		return EXIT_FAILED;
	}
	if (!s->local) {
		stw_cycle_update(&r->cycle, &d.cycle);
		r->laggards = d.laggards;
	}
	if (!ret)
		return 0;
	ret = stop_fail(s, "hold", o, r);
	if (s->local || s->err != ETIMEDOUT || !o->keep_waiting ||
	    !r->cycle.has_hold_id)
		return ret;
	/* --keep-waiting: the hold stands; wait for the stop. */
	fprintf(stderr, "stwctl: hold: still waiting for generation %" PRIu64
		" to stop\n", r->cycle.generation);
	/* It may have stopped before we listened: ask once. */
	ret = watch_resync(s, w) ?: watch_wait(s, ev, w, watch_stopped, mask);
	if (ret || got_signal)
		return ret ?: EXIT_FAILED;
	if (w->resumed) {
		fputs("stwctl: hold: the world was resumed before it stopped (resume --force?)\n",
		      stderr);
		return EXIT_FAILED;
	}
	r->cycle.has_tts = w->has_tts;
	r->cycle.tts_ns = w->tts_ns;
	return 0;
}

static int run_hold(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "keep-waiting", no_argument, NULL, 'k' },
		COMMON_LONGOPTS,
		OPT_END
	};
	struct stw_stop_req o = {
		.timeout_ms = STW_UNSET, .lease_ms = STW_UNSET,
	};
	struct stw_stop_result r = {};
	struct stw_sock *s, *ev;
	sigset_t block, oldmask;
	bool released = false;
	struct watch w = {};
	char **cmdv = NULL;
	int c, ret, rel;

	optind = 0;
	opterr = 0;
	/* '+': the command's own options are not ours. */
	while ((c = getopt_long(argc, argv, "+:t:k" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			ret = opt_u32(&cmd_hold, "--timeout", optarg, 1,
				      STW_TIMEOUT_MAX_MS, &o.timeout_ms);
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
	/* After the options: 'stwctl hold -w pool' names it here. */
	w.world = ctl_world();

	install_handlers();
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	ret = ctl_open(&s, "hold", false);
	if (ret)
		return ret;
	/* Listen before stopping: no event of our cycle can be missed. */
	ret = ctl_open(&ev, "hold", true);
	if (ret)
		goto out_close_s;

	ret = hold_stop(s, ev, &o, &r, &w, &oldmask);
	if (ret) {
		/* A hold that stands (interrupted, kept) is ours to drop. */
		if (!r.cycle.has_hold_id || w.resumed)
			goto out_free;
		goto out_release;
	}
	stop_print(&o, &r);
	if (got_signal)
		goto out_release;

	if (cmdv) {
		ret = run_child(cmdv, &oldmask, s, r.cycle.hold_id, &released);
		if (ret < 0)
			ret = EXIT_FAILED;
	} else {
		if (isatty(STDERR_FILENO))
			fputs("stwctl: hold: the world stays stopped until ^C\n",
			      stderr);
		ret = watch_wait(s, ev, &w, watch_resumed, &oldmask);
		if (!ret && w.resumed && !got_signal) {
			fputs("stwctl: hold: the world was resumed by someone else (resume --force?)\n",
			      stderr);
			ret = EXIT_FAILED;
		}
	}

out_release:
	/* Our generation resumed: our hold is gone already. */
	rel = w.resumed || released ? 0 :
	      release(s, r.cycle.hold_id, cmdv != NULL);
	if (rel && !ret)
		ret = rel;
out_free:
	stw_stop_result_free(&r);
	stw_close(ev);
out_close_s:
	stw_close(s);
	return ret;
}

const struct subcommand cmd_hold = {
	.name = "hold",
	.run = run_hold,
	.synopsis = "[--timeout MS] [--keep-waiting] [-w NAME] [-j] [-- CMD [ARGS...]]",
	.summary = "stop the world while a command runs, or until ^C",
	.help =
"Stops the world with a hold bound to stwctl's own netlink socket, then\n"
"runs CMD with the world stopped and exits with CMD's status (128+N if a\n"
"signal N killed it). Without CMD it prints the stop line and waits for\n"
"SIGINT or SIGTERM, then releases its hold, prints the release line and\n"
"exits 0. If stwctl itself is killed, the kernel drops the hold when its\n"
"socket closes, so the world never stays stopped behind a dead stwctl.\n"
"A ^C on the terminal reaches CMD directly and stwctl waits for CMD; a\n"
"SIGINT, SIGTERM or SIGHUP sent to stwctl alone is passed on to CMD and\n"
"the hold is released at once.\n"
"\n"
"  --timeout MS     how long to wait for the stop, 1.." STR(STW_TIMEOUT_MAX_MS)
" (default " STR(STW_TIMEOUT_DEFAULT_MS) ")\n"
"  --keep-waiting   on a timeout, print the laggards and keep waiting\n"
"                   until they park instead of giving up\n"
"  -w, --world NAME the world to stop (default \"" STW_WORLD_DEFAULT "\")\n"
"  -j, --json       JSON output, as for 'stwctl stop' and 'stwctl resume'\n"
"\n"
"Prints, as 'stwctl stop' does (without a lease):\n"
"  stopped: generation 12, time to stop 85us, hold 3\n"
"On a timeout (without --keep-waiting): the laggards, exit 4.\n",
};
