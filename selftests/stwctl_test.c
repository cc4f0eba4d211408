// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl_test: the command-line tool as a shell user meets it: its output,
 * its JSON, its help and its exit codes (0 ok, 2 usage, 3 stw not loaded).
 * $STWCTL names the binary (default: stwctl in $PATH).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#define OUT_LEN	16384

FIXTURE(stwctl) {
	struct stw_sock *s;
	char out[OUT_LEN];
	bool no_ko;
};

FIXTURE_SETUP(stwctl)
{
	self->no_ko = access(stw_ko_path(), R_OK) != 0;
	STW_SETUP_LOADED(self->s);
}

FIXTURE_TEARDOWN(stwctl)
{
	STW_TEARDOWN_LOADED(self->s);
}

static const char *stwctl_bin(void)
{
	const char *p = getenv("STWCTL");

	return p && *p ? p : "stwctl";
}

/*
 * Run "stwctl @args" with stdout and stderr in @out; its exit status, or
 * 128 + signal, or -1 if it could not be run.
 */
static int stwctl(const char *args, char *out, size_t len)
{
	char cmd[512];
	size_t got = 0;
	FILE *f;
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1 </dev/null", stwctl_bin(),
		 args);
	out[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (got < len - 1) {
		size_t n = fread(out + got, 1, len - 1 - got, f);

		if (!n)
			break;
		got += n;
	}
	out[got] = '\0';
	/* Drain what did not fit, so the tool never blocks on its output. */
	while (fgetc(f) != EOF)
		;
	status = pclose(f);
	if (status == -1)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static bool mentions(const char *out, const char *const *words)
{
	for (; *words; words++)
		if (strcasestr(out, *words))
			return true;
	return false;
}

static const char *const run_all_words[] = {
	"RUN_ALL", "RUN-ALL", "run all", NULL
};
static const char *const stopped_words[] = { "STOPPED", NULL };

TEST_F(stwctl, status_prints_the_mode)
{
	struct stw_sock *s = self->s;
	int rc;

	rc = stwctl("status", self->out, OUT_LEN);
	ASSERT_EQ(0, rc) TH_LOG("stwctl status: %s", self->out);
	ASSERT_TRUE(mentions(self->out, run_all_words))
		TH_LOG("no RUN_ALL in:\n%s", self->out);

	/* Not a fixed text: a stopped world reads as stopped. */
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	rc = stwctl("status", self->out, OUT_LEN);
	ASSERT_EQ(0, rc) TH_LOG("stwctl status: %s", self->out);
	ASSERT_TRUE(mentions(self->out, stopped_words))
		TH_LOG("no STOPPED in:\n%s", self->out);
	ASSERT_FALSE(mentions(self->out, run_all_words))
		TH_LOG("a stopped world shown as RUN_ALL:\n%s", self->out);
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
}

TEST_F(stwctl, json_status_has_a_mode_key)
{
	int rc = stwctl("-j status", self->out, OUT_LEN);

	ASSERT_EQ(0, rc) TH_LOG("stwctl -j status: %s", self->out);
	ASSERT_TRUE(strstr(self->out, "\"mode\"") != NULL)
		TH_LOG("no \"mode\" key in:\n%s", self->out);
}

TEST_F(stwctl, help_exits_0)
{
	int rc = stwctl("--help", self->out, OUT_LEN);

	ASSERT_EQ(0, rc) TH_LOG("stwctl --help: %s", self->out);
	ASSERT_NE(0, (int)strlen(self->out));
}

TEST_F(stwctl, unknown_subcommand_exits_2)
{
	int rc = stwctl("frobnicate", self->out, OUT_LEN);

	ASSERT_EQ(2, rc) TH_LOG("stwctl frobnicate: %s", self->out);
}

TEST_F(stwctl, status_without_the_module_exits_3)
{
	int rc, err;

	if (self->no_ko)
		SKIP(return, "no %s to load stw again (set STW_KO)",
		     stw_ko_path());
	stw_close(self->s);
	self->s = NULL;
	err = stw_module_unload();
	ASSERT_EQ(0, err) TH_LOG("delete_module(stw): %s", strerror(err));

	rc = stwctl("status", self->out, OUT_LEN);
	ASSERT_EQ(3, rc) TH_LOG("stwctl status without stw: %s", self->out);
	ASSERT_TRUE(strcasestr(self->out, "not loaded") != NULL)
		TH_LOG("no \"not loaded\" in:\n%s", self->out);

	err = stw_module_load(stw_ko_path());
	ASSERT_EQ(0, err) TH_LOG("loading %s: %s", stw_ko_path(),
				 strerror(err));
	self->s = stw_open();
	ASSERT_TRUE(self->s != NULL);
	rc = stwctl("status", self->out, OUT_LEN);
	ASSERT_EQ(0, rc) TH_LOG("stwctl status after reload: %s", self->out);
}

/* The world is stopped and held (by a stwctl hold). */
static bool held(const struct stw_world *w, void *arg)
{
	(void)arg;
	return w->mode == STW_STOPPED && w->holds > 0;
}

/*
 * "stwctl hold -- sh -c 'echo ready; exec sleep 1000'", in a process
 * group of its own so that a failed test can take both down, its stdout
 * in *@out_fd: CMD says "ready" once it runs.
 */
static pid_t start_hold(int *out_fd)
{
	int fd, p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = stw_fork();
	if (pid) {
		close(p[1]);
		*out_fd = p[0];
		return pid;
	}
	setpgid(0, 0);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	dup2(p[1], STDOUT_FILENO);
	execlp(stwctl_bin(), "stwctl", "hold", "--", "sh", "-c",
	       "echo ready; exec sleep 1000", (char *)NULL);
	_exit(127);
}

/* Reads @fd until a line "ready" within @timeout_ms: 0 or an errno. */
static int wait_ready(int fd, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	char line[256];
	size_t n = 0;
	int err;

	for (;;) {
		err = stw_read_timeout(fd, &line[n], 1,
				       (int)(deadline - stw_now_ms()));
		if (err)
			return err;
		if (line[n] != '\n') {
			n += n < sizeof(line) - 1;
			continue;
		}
		line[n] = '\0';
		if (!strcmp(line, "ready"))
			return 0;
		n = 0;
	}
}

/*
 * A SIGINT (or SIGTERM) sent to stwctl alone, not by the terminal to the
 * whole group, must not be swallowed while CMD runs: it goes on to CMD
 * and the hold is released.
 */
TEST_F(stwctl, hold_passes_a_sigint_of_its_own_on_and_releases)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	struct stw_sock *s = self->s;
	struct stw_world w;
	int status, err, fd;
	unsigned int i;
	pid_t pid;

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		STW_CTX("%s", strsignal(sigs[i]));
		pid = start_hold(&fd);
		ASSERT_LT(0, pid);
		/* Held, and CMD runs: the signal comes while stwctl waits. */
		err = stw_wait_world(s, held, NULL, STW_T_WAIT, &w) ?:
		      wait_ready(fd, STW_T_CHILD);
		close(fd);
		if (err)
			kill(-pid, SIGKILL);
		ASSERT_EQ(0, err) TH_LOG("%sno hold, or CMD did not run: %s; %s",
					 stw_ctx, strerror(err),
					 stw_describe(s));

		ASSERT_EQ(0, kill(pid, sigs[i]));	/* stwctl only */
		err = stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT);
		if (err)
			kill(-pid, SIGKILL);
		ASSERT_EQ(0, err) TH_LOG("%sthe world stays held: %s", stw_ctx,
					 stw_describe(s));
		err = stw_waitpid_timeout(pid, &status, STW_T_CHILD);
		if (err)
			kill(-pid, SIGKILL);
		ASSERT_EQ(0, err) TH_LOG("%sstwctl hold did not exit", stw_ctx);
		/* CMD died of the signal, and stwctl says so. */
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(128 + sigs[i], WEXITSTATUS(status));
		ASSERT_OK(s, stw_status(s, &w));
		ASSERT_EQ(0U, w.holds);
		kill(-pid, SIGKILL);	/* sleep, if it outlived stwctl */
	}
}

TEST_HARNESS_MAIN
