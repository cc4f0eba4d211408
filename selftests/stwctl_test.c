// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl_test: the command-line tool as a shell user meets it: its output,
 * its JSON, its help and its exit codes (0 ok, 2 usage, 3 stw not loaded).
 * $STWCTL names the binary (default: stwctl in $PATH).
 */
#define _GNU_SOURCE
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

TEST_HARNESS_MAIN
