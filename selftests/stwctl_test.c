// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl_test: the command-line tool as a shell user meets it: its output,
 * its JSON (key by key against Documentation/stwctl-json.md), its help,
 * its version, its command abbreviations, its signals and its exit codes
 * (0 ok, 2 usage, 3 stw not loaded, 4 timed out).
 * $STWCTL names the binary (default: stwctl in $PATH).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_test.h"
#include "stw_json.h"

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
 * Run "stwctl @args" with its stdout (and stderr if @err) in @out; its
 * exit status, or 128 + signal, or -1 if it could not be run.
 */
static int stwctl_run(const char *args, bool err, char *out, size_t len)
{
	char cmd[512];
	size_t got = 0;
	FILE *f;
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s %s </dev/null", stwctl_bin(),
		 args, err ? "2>&1" : "2>/dev/null");
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

static int stwctl(const char *args, char *out, size_t len)
{
	return stwctl_run(args, true, out, len);
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
	ASSERT_TRUE(strstr(self->out, "modprobe stw") != NULL)
		TH_LOG("no \"modprobe stw\" hint in:\n%s", self->out);

	err = stw_module_load(stw_ko_path());
	ASSERT_EQ(0, err) TH_LOG("loading %s: %s", stw_ko_path(),
				 strerror(err));
	self->s = stw_open();
	ASSERT_TRUE(self->s != NULL);
	rc = stwctl("status", self->out, OUT_LEN);
	ASSERT_EQ(0, rc) TH_LOG("stwctl status after reload: %s", self->out);
}

/* Reads @fd until the line @want within @timeout_ms: 0 or an errno. */
static int wait_line(int fd, const char *want, int timeout_ms)
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
		if (!strcmp(line, want))
			return 0;
		n = 0;
	}
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
		      wait_line(fd, "ready", STW_T_CHILD);
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

/* ---- JSON, key by key against Documentation/stwctl-json.md ---- */

struct json_key {
	const char *section, *key, *type;
};

static const struct json_key json_spec[] = {
#include "stwctl_json_spec.h"
};

#define BAD_LEN	2048

/* Appends one complaint to @bad. */
static void complain(char *bad, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void complain(char *bad, const char *fmt, ...)
{
	size_t n = strlen(bad);
	va_list ap;

	if (n + 2 >= BAD_LEN)
		return;
	if (n)
		bad[n++] = ';', bad[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(bad + n, BAD_LEN - n, fmt, ap);
	va_end(ap);
}

static const struct json_key *spec_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(json_spec); i++)
		if (!strcmp(json_spec[i].section, section) &&
		    !strcmp(json_spec[i].key, key))
			return &json_spec[i];
	return NULL;
}

/* @v is of @type: "number", "vm" (an object), "number|null"... */
static bool type_ok(const struct stw_json *v, const char *type)
{
	const char *alt = strchr(type, '|');
	int len = alt ? (int)(alt - type) : (int)strlen(type);

	if (alt && !strcmp(alt + 1, "null") && v->type == STW_JSON_NULL)
		return true;
	if (!strncmp(type, "vm", len) && len == 2)
		return v->type == STW_JSON_OBJECT;
	return !strncmp(type, stw_json_type_name(v->type), len) &&
	       (int)strlen(stw_json_type_name(v->type)) == len;
}

static void check_object(const char *section, const char *prefix,
			 const struct stw_json *v, bool all, char *bad);

static void check_value(const char *section, const char *path,
			const struct stw_json *v, bool all, char *bad)
{
	const struct json_key *k = spec_find(section, path);
	char sub[256];
	size_t i;

	if (!k) {
		complain(bad, "%s: undocumented key '%s'", section, path);
		return;
	}
	if (!type_ok(v, k->type)) {
		complain(bad, "%s: '%s' is %s, documented %s", section, path,
			 stw_json_type_name(v->type), k->type);
		return;
	}
	if (!strncmp(k->type, "vm", 2) && v->type == STW_JSON_OBJECT) {
		check_object("vm", "", v, true, bad);
	} else if (v->type == STW_JSON_ARRAY) {
		snprintf(sub, sizeof(sub), "%s[]", path);
		for (i = 0; i < v->n; i++)
			check_value(section, sub, &v->items[i], all, bad);
	} else if (v->type == STW_JSON_OBJECT) {
		check_object(section, path, v, all, bad);
	}
}

/* A documented key one level under @prefix, not in an array. */
static const char *child_of(const char *prefix, const char *key)
{
	size_t n = strlen(prefix);

	if (n && (strncmp(key, prefix, n) || key[n] != '.'))
		return NULL;
	key += n ? n + 1 : 0;
	return strpbrk(key, ".[") ? NULL : key;
}

/*
 * Every member of object @v at @prefix is documented with its type; with
 * @all, every key documented there is in @v.
 */
static void check_object(const char *section, const char *prefix,
			 const struct stw_json *v, bool all, char *bad)
{
	const char *child;
	char path[256];
	size_t i;

	for (i = 0; i < v->n; i++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix,
			 *prefix ? "." : "", v->keys[i]);
		check_value(section, path, &v->items[i], all, bad);
	}
	for (i = 0; all && i < ARRAY_SIZE(json_spec); i++) {
		if (strcmp(json_spec[i].section, section))
			continue;
		child = child_of(prefix, json_spec[i].key);
		if (child && !stw_json_get(v, child))
			complain(bad, "%s: no '%s%s%s'", section, prefix,
				 *prefix ? "." : "", child);
	}
}

/*
 * Each JSON object in @out follows @section; there is at least one, and
 * the first is returned in *@first (may be NULL) for the test to read.
 * Returns "" or what is wrong.
 */
static const char *check_json(const char *out, const char *section, bool all,
			      struct stw_json **first)
{
	static char bad[BAD_LEN];
	struct stw_json *v;
	const char *p = out;
	char err[128];
	int n = 0;

	bad[0] = '\0';
	if (first)
		*first = NULL;
	while (*p) {
		v = stw_json_parse(&p, err, sizeof(err));
		if (!v) {
			complain(bad, "not JSON: %s", err);
			break;
		}
		if (v->type != STW_JSON_OBJECT)
			complain(bad, "not an object");
		else
			check_object(section, "", v, all, bad);
		if (first && !n)
			*first = v;
		else
			stw_json_free(v);
		n++;
	}
	if (!n)
		complain(bad, "%s: no JSON at all", section);
	return bad;
}

/* "stwctl -j ARGS..." exits @rc, and its stdout follows @section. */
#define ASSERT_JSON(self, rc, section, fmt, ...) do { \
	char __args[128]; \
	const char *__bad; \
	snprintf(__args, sizeof(__args), "-j " fmt, ##__VA_ARGS__); \
	ASSERT_EQ((rc), stwctl_run(__args, false, (self)->out, OUT_LEN)) \
		TH_LOG("stwctl %s: %s", __args, (self)->out); \
	__bad = check_json((self)->out, (section), true, NULL); \
	ASSERT_STREQ("", __bad) TH_LOG("stwctl %s:\n%s", __args, \
				       (self)->out); \
} while (0)

/* The output of "stwctl -V" has @version. */
static bool version_agrees(const char *version)
{
	char out[512];

	return stwctl("-V", out, sizeof(out)) == 0 &&
	       strstr(out, version) != NULL;
}

TEST_F(stwctl, json_carries_the_version_also_pretty)
{
	const struct stw_json *ver;
	struct stw_json *first;

	ASSERT_JSON(self, 0, "status", "status");
	ASSERT_STREQ("", check_json(self->out, "status", true, &first));
	ver = stw_json_get(first, "version");
	ASSERT_TRUE(ver && ver->type == STW_JSON_STRING && ver->str[0]);
	ASSERT_TRUE(version_agrees(ver->str))
		TH_LOG("JSON version '%s' is not stwctl -V's", ver->str);
	stw_json_free(first);

	/* -p: the same JSON, indented as iproute2's -jp. */
	ASSERT_JSON(self, 0, "status", "-p status");
	ASSERT_TRUE(strstr(self->out, "\n    \"world\": {") != NULL)
		TH_LOG("stwctl -jp status is not indented:\n%s", self->out);
}

TEST_F(stwctl, json_of_every_command_is_as_documented)
{
	struct stw_sock *s = self->s;
	uint32_t ids[2];
	size_t n;

	ASSERT_SPAWN(s, 1, 1, 0, 0, ids, &n);
	ASSERT_JSON(self, 0, "status", "status");
	ASSERT_JSON(self, 0, "job", "job %u", ids[1]);
	ASSERT_JSON(self, 0, "stop", "stop --lease 60");
	ASSERT_JSON(self, 0, "step", "step %u", ids[0]);
	ASSERT_JSON(self, 0, "resume", "resume");
	ASSERT_JSON(self, 0, "stop", "hold -- true");
	ASSERT_JSON(self, 0, "spawn", "spawn --nopoll 1");
	ASSERT_JSON(self, 4, "stop, timed out", "stop --timeout 100");
	ASSERT_JSON(self, 0, "kill", "kill %u", ids[1]);
	ASSERT_JSON(self, 0, "kill", "kill --all");
	ASSERT_OK(s, stw_wait_nr_vms(s, 0, STW_T_WAIT));
}

/* "stwctl -j monitor", its stdout and stderr in *@out and *@err. */
static pid_t start_monitor(int *out, int *err)
{
	int o[2], e[2];
	pid_t pid;

	if (pipe(o) || pipe(e))
		return -1;
	pid = stw_fork();
	if (pid) {
		close(o[1]);
		close(e[1]);
		*out = o[0];
		*err = e[0];
		return pid;
	}
	dup2(o[1], STDOUT_FILENO);
	dup2(e[1], STDERR_FILENO);
	execlp(stwctl_bin(), "stwctl", "-j", "monitor", (char *)NULL);
	_exit(127);
}

/*
 * Reads @fd into @buf from *@n on, until a whole line of it mentions @want
 * (NULL: until end of file), within @timeout_ms. A monitor flushes each
 * event it prints: this is how a test knows an event reached it.
 */
static int read_until(int fd, char *buf, size_t len, size_t *n,
		      const char *want, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	int err;

	while (*n < len - 1) {
		err = stw_read_timeout(fd, &buf[*n], 1,
				       (int)(deadline - stw_now_ms()));
		if (err == EPIPE && !want)
			return 0;
		if (err)
			return err;
		buf[++*n] = '\0';
		if (want && buf[*n - 1] == '\n' && strstr(buf, want))
			return 0;
	}
	return want ? ENOSPC : 0;
}

TEST_F(stwctl, json_of_monitor_events_is_as_documented)
{
	static const char *const events[] = {
		"\"vm_added\"", "\"stopped\"", "\"resumed\"", "\"vm_gone\"",
	};
	struct stw_sock *s = self->s;
	int out, err, rc, status;
	size_t n, len = 0;
	uint32_t id;
	unsigned int i;
	pid_t pid;

	pid = start_monitor(&out, &err);
	ASSERT_LT(0, pid);
	rc = wait_line(err, "stwctl: monitor: listening for events",
		       STW_T_CHILD);
	close(err);
	if (rc)
		kill(pid, SIGKILL);
	ASSERT_EQ(0, rc) TH_LOG("stwctl monitor does not listen: %s",
				strerror(rc));

	ASSERT_SPAWN(s, 0, 1, 0, 0, &id, &n);
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_OK(s, stw_kill(s, &id, 1));
	/*
	 * The kill's event is the last: once the monitor printed it, it
	 * printed the others. Not before: the kernel delivers events on its
	 * own worker, and a monitor interrupted drops what it has not read.
	 */
	self->out[0] = '\0';
	rc = read_until(out, self->out, OUT_LEN, &len, "\"vm_gone\"",
			STW_T_WAIT);
	if (rc)
		kill(pid, SIGKILL);
	ASSERT_EQ(0, rc) TH_LOG("no vm_gone event from stwctl -j monitor (%s):\n%s",
				strerror(rc), self->out);

	ASSERT_EQ(0, kill(pid, SIGINT));
	ASSERT_EQ(0, stw_waitpid_timeout(pid, &status, STW_T_CHILD));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, read_until(out, self->out, OUT_LEN, &len, NULL,
				STW_T_CHILD));
	close(out);
	/* Each event has its own keys: none is required of all. */
	ASSERT_STREQ("", check_json(self->out, "monitor", false, NULL))
		TH_LOG("stwctl -j monitor:\n%s", self->out);
	for (i = 0; i < ARRAY_SIZE(events); i++)
		if (!strstr(self->out, events[i]))
			break;
	ASSERT_EQ(ARRAY_SIZE(events), i)
		TH_LOG("not every event of %s (%s) in:\n%s",
		       "vm_added stopped resumed vm_gone",
		       i < ARRAY_SIZE(events) ? events[i] : "", self->out);
}

TEST_F(stwctl, a_unique_prefix_names_a_command)
{
	int rc;

	rc = stwctl("sta", self->out, OUT_LEN);
	ASSERT_EQ(0, rc) TH_LOG("stwctl sta: %s", self->out);
	ASSERT_TRUE(mentions(self->out, run_all_words))
		TH_LOG("stwctl sta is not status:\n%s", self->out);

	rc = stwctl("st", self->out, OUT_LEN);
	ASSERT_EQ(2, rc) TH_LOG("stwctl st: %s", self->out);
	ASSERT_TRUE(strstr(self->out, "ambiguous") &&
		    strstr(self->out, "status stop step"))
		TH_LOG("stwctl st does not list status stop step:\n%s",
		       self->out);
}

TEST_F(stwctl, version_comes_from_the_tree)
{
	int rc = stwctl("-V", self->out, OUT_LEN);

	ASSERT_EQ(0, rc) TH_LOG("stwctl -V: %s", self->out);
	ASSERT_TRUE(!strncmp(self->out, "stwctl ", 7) &&
		    strchr(self->out, '.') != NULL)
		TH_LOG("no version in:\n%s", self->out);
	ASSERT_EQ(0, stwctl("--version", self->out, OUT_LEN));
}

/* The world is stopped and held (by a stwctl hold). */

TEST_HARNESS_MAIN
