// SPDX-License-Identifier: GPL-2.0
/*
 * stw_nl: the selftests' conveniences on top of lib/stw_client.h: the
 * requests with the tests' arguments, waiting for a state of the world,
 * processes and the module itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "stw_nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* ---- small things ---- */

int64_t stw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned int stw_env_uint(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || *end || n > 0xffffffffUL)
		return dflt;
	return n;
}

/* ---- raw attributes, for malformed requests ---- */

size_t stw_attr_put(void *buf, size_t size, size_t off, uint16_t type,
		    const void *data, uint16_t len)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
	size_t end = off + NLA_ALIGN(a.nla_len);

	if (end > size)
		abort();	/* a test's buffer is too small: its bug */
	memset((char *)buf + off, 0, NLA_ALIGN(a.nla_len));
	memcpy((char *)buf + off, &a, sizeof(a));
	if (len)
		memcpy((char *)buf + off + NLA_HDRLEN, data, len);
	return end;
}

size_t stw_attr_put_u32(void *buf, size_t size, size_t off, uint16_t type,
			uint32_t v)
{
	return stw_attr_put(buf, size, off, type, &v, sizeof(v));
}

/* ---- requests with the selftests' arguments ---- */

int stw_vms(struct stw_sock *s, struct stw_vm **vms, size_t *n)
{
	struct stw_vm_list l = { 0 };
	struct stw_world w;
	int err;

	err = stw_dump(s, &w, &l);
	if (err)
		stw_vm_list_free(&l);
	*vms = l.vms;
	*n = l.n;
	return err;
}

static int stw_stop_common(struct stw_sock *s,
			   const struct stw_stop_req *req,
			   struct stw_cycle *cycle,
			   struct stw_vm_list *laggards)
{
	struct stw_stop_result r;
	int err;

	err = stw_stop_ex(s, req, &r);
	if (cycle)
		*cycle = r.cycle;
	if (laggards) {
		*laggards = r.laggards.list;
		memset(&r.laggards.list, 0, sizeof(r.laggards.list));
	}
	stw_stop_result_free(&r);
	return err;
}

int stw_stop(struct stw_sock *s, uint32_t timeout_ms, unsigned int flags,
	     struct stw_cycle *cycle, struct stw_vm_list *laggards)
{
	struct stw_stop_req req = {
		.timeout_ms = timeout_ms, .lease_ms = STW_UNSET,
		.keep_waiting = flags & STW_STOP_KEEP_WAITING,
	};

	return stw_stop_common(s, &req, cycle, laggards);
}

int stw_stop_leased(struct stw_sock *s, uint32_t timeout_ms,
		    uint32_t lease_ms, unsigned int flags,
		    struct stw_cycle *cycle, struct stw_vm_list *laggards)
{
	struct stw_stop_req req = {
		.timeout_ms = timeout_ms, .lease_ms = lease_ms,
		.keep_waiting = flags & STW_STOP_KEEP_WAITING,
	};

	return stw_stop_common(s, &req, cycle, laggards);
}

int stw_resume(struct stw_sock *s, bool force, uint32_t hold_id,
	       bool *resumed)
{
	return stw_resume_ex(s, force, hold_id, resumed, NULL);
}

int stw_run_one(struct stw_sock *s, uint32_t vm, uint32_t polls,
		uint32_t timeout_ms, struct stw_vm *target)
{
	struct stw_done d;
	int err;

	err = stw_run_one_ex(s, vm, polls, timeout_ms, &d);
	if (target) {
		memset(target, 0, sizeof(*target));
		if (!err && d.has_vm)
			*target = d.vm;
	}
	stw_done_free(&d);
	return err;
}

int stw_spawn(struct stw_sock *s, uint32_t active, uint32_t idle,
	      uint32_t bursty, uint32_t nopoll, uint32_t *ids, size_t *n)
{
	const uint32_t count[STW_SPAWN_A_MAX + 1] = {
		[STW_SPAWN_A_ACTIVE] = active, [STW_SPAWN_A_IDLE] = idle,
		[STW_SPAWN_A_BURSTY] = bursty, [STW_SPAWN_A_NOPOLL] = nopoll,
	};
	uint64_t total = (uint64_t)active + idle + bursty + nopoll;
	struct stw_ids got = { 0 };
	int err;

	err = stw_spawn_ex(s, count, &got);
	if (!err && got.n > total)
		err = stw_fail_local(s, EBADMSG,
				     "SPAWN of %llu VMs named %zu ids",
				     (unsigned long long)total, got.n);
	if (!err && ids)
		memcpy(ids, got.v, got.n * sizeof(*ids));
	if (n)
		*n = err ? 0 : got.n;
	stw_ids_free(&got);
	return err;
}

int stw_kill(struct stw_sock *s, const uint32_t *ids, size_t n)
{
	return stw_kill_ex(s, ids, n, NULL);
}

int stw_kill_all(struct stw_sock *s, size_t *n)
{
	struct stw_ids got = { 0 };
	int err;

	err = stw_kill_all_ex(s, &got);
	if (n)
		*n = got.n;
	stw_ids_free(&got);
	return err;
}

/* ---- waiting for a state ---- */

static void stw_pause_ms(int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int stw_wait_world(struct stw_sock *s, stw_world_pred pred, void *arg,
		   int timeout_ms, struct stw_world *last)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	struct stw_world w;
	int interval = 1;
	int err;

	for (;;) {
		err = stw_status(s, &w);
		if (err)
			return err;
		if (last)
			*last = w;
		if (pred(&w, arg))
			return 0;
		if (stw_now_ms() >= deadline)
			return ETIMEDOUT;
		stw_pause_ms(interval);
		if (interval < 16)
			interval *= 2;
	}
}

int stw_wait_vms(struct stw_sock *s, stw_vms_pred pred, void *arg,
		 int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	struct stw_vm *vms;
	int interval = 1;
	size_t n;
	bool ok;
	int err;

	for (;;) {
		err = stw_vms(s, &vms, &n);
		if (err)
			return err;
		ok = pred(vms, n, arg);
		free(vms);
		if (ok)
			return 0;
		if (stw_now_ms() >= deadline)
			return ETIMEDOUT;
		stw_pause_ms(interval);
		if (interval < 16)
			interval *= 2;
	}
}

static bool stw_pred_mode(const struct stw_world *w, void *arg)
{
	return w->mode == *(int *)arg;
}

int stw_wait_mode(struct stw_sock *s, int mode, int timeout_ms)
{
	return stw_wait_world(s, stw_pred_mode, &mode, timeout_ms, NULL);
}

static bool stw_pred_nr_vms(const struct stw_world *w, void *arg)
{
	return w->nr_vms == *(uint32_t *)arg;
}

int stw_wait_nr_vms(struct stw_sock *s, uint32_t nr, int timeout_ms)
{
	return stw_wait_world(s, stw_pred_nr_vms, &nr, timeout_ms, NULL);
}

static bool stw_pred_all_state(const struct stw_vm *vms, size_t n, void *arg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vms[i].state != *(int *)arg)
			return false;
	return true;
}

int stw_wait_all_vms_state(struct stw_sock *s, int state, int timeout_ms)
{
	return stw_wait_vms(s, stw_pred_all_state, &state, timeout_ms);
}

struct stw_vm_cond {
	uint32_t id;
	int value;
	uint64_t min;
};

static bool stw_pred_vm_state(const struct stw_vm *vms, size_t n, void *arg)
{
	struct stw_vm_cond *c = arg;
	const struct stw_vm *vm = stw_vm_find(vms, n, c->id);

	return vm && vm->state == c->value;
}

int stw_wait_vm_state(struct stw_sock *s, uint32_t id, int state,
		      int timeout_ms)
{
	struct stw_vm_cond c = { .id = id, .value = state };

	return stw_wait_vms(s, stw_pred_vm_state, &c, timeout_ms);
}

static bool stw_pred_vm_doing(const struct stw_vm *vms, size_t n, void *arg)
{
	struct stw_vm_cond *c = arg;
	const struct stw_vm *vm = stw_vm_find(vms, n, c->id);

	return vm && vm->doing == c->value;
}

int stw_wait_vm_doing(struct stw_sock *s, uint32_t id, int doing,
		      int timeout_ms)
{
	struct stw_vm_cond c = { .id = id, .value = doing };

	return stw_wait_vms(s, stw_pred_vm_doing, &c, timeout_ms);
}

static bool stw_pred_vm_jobs(const struct stw_vm *vms, size_t n, void *arg)
{
	struct stw_vm_cond *c = arg;
	const struct stw_vm *vm = stw_vm_find(vms, n, c->id);

	return vm && vm->jobs >= c->min;
}

int stw_wait_vm_jobs(struct stw_sock *s, uint32_t id, uint64_t min_jobs,
		     int timeout_ms)
{
	struct stw_vm_cond c = { .id = id, .min = min_jobs };

	return stw_wait_vms(s, stw_pred_vm_jobs, &c, timeout_ms);
}

static bool stw_pred_vm_polls(const struct stw_vm *vms, size_t n, void *arg)
{
	struct stw_vm_cond *c = arg;
	const struct stw_vm *vm = stw_vm_find(vms, n, c->id);

	return vm && vm->polls >= c->min;
}

int stw_wait_vm_polls(struct stw_sock *s, uint32_t id, uint64_t min_polls,
		      int timeout_ms)
{
	struct stw_vm_cond c = { .id = id, .min = min_polls };

	return stw_wait_vms(s, stw_pred_vm_polls, &c, timeout_ms);
}

int stw_reset(struct stw_sock *s, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	struct stw_world w;
	int err;

	for (;;) {
		err = stw_resume(s, true, 0, NULL);
		if (err && err != EALREADY)
			return err;
		err = stw_kill_all(s, NULL);
		if (err)
			return err;
		err = stw_status(s, &w);
		if (err)
			return err;
		if (w.mode == STW_RUN_ALL && !w.nr_vms && !w.holds)
			return 0;
		if (stw_now_ms() >= deadline)
			return stw_fail_local(s, ETIMEDOUT,
					      "reset: world %s, %u VMs, %u holds",
					      stw_mode_name(w.mode), w.nr_vms,
					      w.holds);
		stw_pause_ms(10);
	}
}

/* ---- processes ---- */

pid_t stw_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* Never outlive the test, even if it is killed on a timeout. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(255);
	}
	return pid;
}

int stw_as_user(uid_t uid, gid_t gid, int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	pid = stw_fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid) || getuid() != uid ||
		    geteuid() != uid || getegid() != gid) {
			fprintf(stderr, "# stw_as_user: cannot become %u:%u: %s\n",
				uid, gid, strerror(errno));
			_exit(255);
		}
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status)) {
		fprintf(stderr, "# stw_as_user: child died by signal %d\n",
			WIFSIGNALED(status) ? WTERMSIG(status) : -1);
		return -1;
	}
	if (WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}

void *stw_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, size);
	return p;
}

void stw_shared_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

int stw_waitpid_timeout(pid_t pid, int *status, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return errno;
		if (stw_now_ms() >= deadline)
			return ETIMEDOUT;
		stw_pause_ms(5);
	}
}

int stw_read_timeout(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - stw_now_ms();
		ssize_t n;
		int ret;

		if (left <= 0)
			return ETIMEDOUT;
		ret = poll(&pfd, 1, (int)left);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return errno;
		if (ret == 0)
			return ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EPIPE;
		got += n;
	}
	return 0;
}

/* ---- the module itself ---- */

const char *stw_ko_path(void)
{
	const char *p = getenv("STW_KO");

	return p && *p ? p : "/stw/stw.ko";
}

int stw_module_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		err = errno;
	close(fd);
	return err;
}

int stw_module_unload(void)
{
	if (syscall(SYS_delete_module, "stw", O_NONBLOCK))
		return errno;
	return 0;
}

bool stw_module_in_sysfs(void)
{
	struct stat st;

	return stat("/sys/module/stw", &st) == 0;
}

static bool stw_comm_has_prefix(const char *path, const char *prefix)
{
	char comm[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* gone meanwhile */
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return !strncmp(comm, prefix, strlen(prefix));
}

int stw_count_threads(const char *prefix)
{
	struct dirent *p, *t;
	DIR *proc, *task;
	char path[600];
	int count = 0;

	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((p = readdir(proc))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		task = opendir(path);
		if (!task)
			continue;	/* gone meanwhile */
		while ((t = readdir(task))) {
			if (t->d_name[0] < '0' || t->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/comm",
				 p->d_name, t->d_name);
			if (stw_comm_has_prefix(path, prefix))
				count++;
		}
		closedir(task);
	}
	closedir(proc);
	return count;
}

int stw_wait_no_threads(const char *prefix, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;

	for (;;) {
		if (stw_count_threads(prefix) == 0)
			return 0;
		if (stw_now_ms() >= deadline)
			return ETIMEDOUT;
		stw_pause_ms(10);
	}
}

/* ---- describing the world, for failure messages ---- */

const char *stw_describe(struct stw_sock *s)
{
	static char buf[4096];
	char saved_extack[STW_EXTACK_LEN];
	bool saved_local = s->local;
	int saved_err = s->err;
	struct stw_vm_list l = { 0 };
	const struct stw_vm *vm;
	struct stw_world w;
	size_t i, len;

	/* Describing must not hide the outcome of the request being logged. */
	memcpy(saved_extack, s->extack, sizeof(saved_extack));
	/* One dump: the world and its VMs as they were together. */
	if (stw_dump(s, &w, &l)) {
		snprintf(buf, sizeof(buf), "(STATUS dump failed: %s '%s')",
			 strerror(s->err), s->extack);
		goto out;
	}
	len = snprintf(buf, sizeof(buf),
		       "world %s gen %llu vms %u active %u stopped %u holds %u cycles %llu timeouts %llu violations %llu",
		       stw_mode_name(w.mode),
		       (unsigned long long)w.generation, w.nr_vms, w.active,
		       w.stopped, w.holds, (unsigned long long)w.cycles,
		       (unsigned long long)w.timeouts,
		       (unsigned long long)stw_violations_total(&w));
	for (i = 0; i < l.n && i < 16 && len < sizeof(buf) - 1; i++) {
		vm = &l.vms[i];
		len += snprintf(buf + len, sizeof(buf) - len,
				"; %s %s/%s polls %llu jobs %llu stops %llu",
				vm->name, stw_state_name(vm->state),
				stw_doing_name(vm->doing),
				(unsigned long long)vm->polls,
				(unsigned long long)vm->jobs,
				(unsigned long long)vm->stops);
	}
	if (i < l.n && len < sizeof(buf) - 1)
		snprintf(buf + len, sizeof(buf) - len, "; ... %zu more",
			 l.n - i);
out:
	stw_vm_list_free(&l);
	s->err = saved_err;
	s->local = saved_local;
	memcpy(s->extack, saved_extack, sizeof(saved_extack));
	return buf;
}

int stw_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool stw_kmsg_has(int fd, const char *a, const char *b)
{
	bool has_a = false, has_b = false;
	char rec[1024];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (n <= 0)
			continue;	/* overwritten records: read on */
		rec[n] = '\0';
		has_a |= strstr(rec, a) != NULL;
		has_b |= strstr(rec, b) != NULL;
	}
	return has_a && has_b;
}

static int match_any_done(struct stw_sock *s, const struct stw_msg *m,
			  void *arg)
{
	(void)s;
	if (m->cmd != STW_CMD_DONE_NTF)
		return 0;
	return stw_parse_done(m->nlh, arg) ?: 1;
}

int stw_read_any_done(struct stw_sock *s, int timeout_ms, struct stw_done *d)
{
	memset(d, 0, sizeof(*d));
	return stw_read_until(s, timeout_ms, match_any_done, d);
}

int stw_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int stw_write_file(const char *path, const char *val)
{
	/* O_TRUNC: tracefs clears a buffer on it; sysfs and /proc ignore it. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return errno;
	n = write(fd, val, strlen(val));
	err = n < 0 ? errno : n != (ssize_t)strlen(val) ? EIO : 0;
	close(fd);
	return err;
}
