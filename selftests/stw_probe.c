// SPDX-License-Identifier: GPL-2.0
/*
 * stw_probe: the client side of the "stw_probe" family, and second
 * controllers running a blocking request in a thread.
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np() */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/genl.h>

#include "stw_probe.h"
#include "testmod.h"

static const char *const stw_probe_names[STW_PROBE_COUNT] = {
	[STW_PROBE_ENTRY_CHECKED] = "entry_checked",
	[STW_PROBE_STOP_POINT_LOCK] = "stop_point_lock",
	[STW_PROBE_BEFORE_COUNT] = "before_count",
	[STW_PROBE_AFTER_COUNT] = "after_count",
	[STW_PROBE_REPORT_STOPPED] = "report_stopped",
	[STW_PROBE_PARKING] = "parking",
	[STW_PROBE_STOP_WORK_QUEUED] = "stop_work_queued",
	[STW_PROBE_STOP_WORK_ENTER] = "stop_work_enter",
	[STW_PROBE_EXIT_IDLE] = "exit_idle",
	[STW_PROBE_RESUME_CLEAR] = "resume_clear",
	[STW_PROBE_VM_DESTROY] = "vm_destroy",
	[STW_PROBE_STEP_LEAVE] = "step_leave",
	[STW_PROBE_CLAIMED] = "claimed",
	[STW_PROBE_ARMED] = "armed",
	[STW_PROBE_IDLE_WAIT] = "idle_wait",
	[STW_PROBE_JOB_POLL] = "job_poll",
	[STW_PROBE_UNPARKED] = "unparked",
	[STW_PROBE_WORK_START] = "work_start",
	[STW_PROBE_LOCKED] = "locked",
	[STW_PROBE_LOCKING] = "locking",
	[STW_PROBE_VM_STORED] = "vm_stored",
};

const char *stw_probe_name(int point)
{
	if (point < 0 || point >= STW_PROBE_COUNT)
		return "?";
	return stw_probe_names[point];
}

static bool stw_probe_family_present(void)
{
	struct stw_sock *p = stw_open_family(STW_PROBE_GENL_NAME,
					     STW_PROBE_GENL_VERSION);

	stw_close(p);
	return p != NULL;
}

int stw_probe_enable(void)
{
	int fd, err;

	if (stw_probe_family_present())
		return 0;
	err = stw_module_unload();
	if (err && err != ENOENT)
		return err;
	fd = open(stw_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	err = syscall(SYS_finit_module, fd, "probes=1", 0) ? errno : 0;
	close(fd);
	if (err)
		return err;
	return stw_probe_family_present() ? 0 : ENOENT;
}

struct stw_sock *stw_probe_open(void)
{
	struct stw_sock *p;
	int err;

	p = stw_open_family(STW_PROBE_GENL_NAME, STW_PROBE_GENL_VERSION);
	if (!p)
		return NULL;
	/* Joined before any WAIT: no REACHED_NTF can come unseen. */
	err = stw_join(p, STW_PROBE_GENL_NAME, STW_PROBE_MCGRP_REACHED);
	if (err) {
		stw_close(p);
		errno = err;
		return NULL;
	}
	return p;
}

/*
 * STW_PROBES_UNARMED=1: arming, waiting and releasing do nothing, so a
 * script runs its steps with no interleaving forced. Run many times on a
 * mutant, it shows how often the bug shows without the script.
 */
static bool stw_probes_unarmed(void)
{
	return stw_env_uint("STW_PROBES_UNARMED", 0);
}

/* The requests of the probe family: its only builder. */
static struct nl_msg *stw_probe_msg(struct stw_sock *p, uint8_t cmd,
				    int point, uint32_t vm, bool park)
{
	struct nl_msg *msg = stw_msg_new(p, cmd, 0);

	if (msg && point >= 0 &&
	    (nla_put_u32(msg, STW_PROBE_A_POINT, point) ||
	     nla_put_u32(msg, STW_PROBE_A_VM, vm) ||
	     (park && nla_put_flag(msg, STW_PROBE_A_PARK)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int stw_probe_request(struct stw_sock *p, uint8_t cmd, int point,
			     uint32_t vm, bool park)
{
	if (stw_probes_unarmed() && cmd != STW_PROBE_CMD_RESET)
		return 0;
	return stw_transact(p, stw_probe_msg(p, cmd, point, vm, park), NULL);
}

int stw_probe_arm(struct stw_sock *p, int point, uint32_t vm, bool park)
{
	return stw_probe_request(p, STW_PROBE_CMD_ARM, point, vm, park);
}

struct stw_probe_reached {
	int point;
	uint32_t vm;		/* armed for */
	uint32_t hit_vm;	/* the VM that reached it */
};

/* A REACHED_NTF of the probe we wait for: 1, else 0 to read on. */
static int stw_probe_match(struct stw_sock *p, const struct stw_msg *m,
			   void *arg)
{
	struct nlattr *tb[STW_PROBE_A_MAX + 1];
	struct stw_probe_reached *r = arg;

	(void)p;
	if (m->cmd != STW_PROBE_CMD_REACHED_NTF ||
	    genlmsg_parse(m->nlh, 0, tb, STW_PROBE_A_MAX, NULL) ||
	    !tb[STW_PROBE_A_POINT] || !tb[STW_PROBE_A_VM] ||
	    !tb[STW_PROBE_A_ARMED_VM])
		return 0;
	if ((int)nla_get_u32(tb[STW_PROBE_A_POINT]) != r->point ||
	    nla_get_u32(tb[STW_PROBE_A_ARMED_VM]) != r->vm)
		return 0;
	r->hit_vm = nla_get_u32(tb[STW_PROBE_A_VM]);
	return 1;
}

/*
 * WAIT answers at once: reached, or not yet. Then the REACHED_NTF of the
 * "reached" group says when; on our deadline, RESET lets every parked
 * thread go, so that a failed script leaves nothing behind.
 */
int stw_probe_wait(struct stw_sock *p, int point, uint32_t vm,
		   int timeout_ms, uint32_t *hit_vm)
{
	struct stw_probe_reached r = { .point = point, .vm = vm };
	struct stw_reply rep;
	int err;

	if (stw_probes_unarmed()) {
		if (hit_vm)
			*hit_vm = vm;
		return 0;
	}
	/*
	 * What came before is of a past wait: the reply tells the state now,
	 * and a REACHED_NTF after it (kept while the request ran) the rest.
	 */
	stw_drain(p);
	err = stw_transact(p, stw_probe_msg(p, STW_PROBE_CMD_WAIT, point, vm,
					    false), &rep);
	if (!err && rep.tb[STW_PROBE_A_REACHED]) {
		if (rep.tb[STW_PROBE_A_VM])
			r.hit_vm = nla_get_u32(rep.tb[STW_PROBE_A_VM]);
		else
			err = stw_fail_local(p, EBADMSG,
					     "probe %s reached without STW_PROBE_A_VM",
					     stw_probe_name(point));
	} else if (!err) {
		err = stw_read_until(p, timeout_ms, stw_probe_match, &r);
	}
	stw_reply_free(&rep);
	if (err == ETIMEDOUT && p->err != ETIMEDOUT) {
		stw_probe_reset(p);
		return stw_fail_local(p, ETIMEDOUT,
				      "probe %s (armed for vm %u) not reached in %d ms",
				      stw_probe_name(point), vm, timeout_ms);
	}
	if (err && !p->err)
		stw_fail_local(p, err, "waiting for probe %s: %s",
			       stw_probe_name(point), strerror(err));
	if (!err && hit_vm)
		*hit_vm = r.hit_vm;
	return err;
}

int stw_probe_release(struct stw_sock *p, int point, uint32_t vm)
{
	return stw_probe_request(p, STW_PROBE_CMD_RELEASE, point, vm, false);
}

int stw_probe_reset(struct stw_sock *p)
{
	return stw_probe_request(p, STW_PROBE_CMD_RESET, -1, 0, false);
}

/* ---- gates ---- */

/* @pid 0: STW_PROBE_A_BORN instead, the VMs' threads to be born. */
static int stw_probe_pid_request(struct stw_sock *p, uint8_t cmd, pid_t pid,
				 bool gated)
{
	struct nl_msg *msg = stw_msg_new(p, cmd, 0);

	if (msg && ((pid ? nla_put_u32(msg, STW_PROBE_A_PID, pid) :
			   nla_put_flag(msg, STW_PROBE_A_BORN)) ||
		    (gated && nla_put_flag(msg, STW_PROBE_A_GATED)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return stw_transact(p, msg, NULL);
}

int stw_probe_gate(struct stw_sock *p, pid_t pid, bool gated)
{
	return stw_probe_pid_request(p, STW_PROBE_CMD_GATE, pid, gated);
}

int stw_probe_gate_born(struct stw_sock *p, bool gated)
{
	return stw_probe_pid_request(p, STW_PROBE_CMD_GATE, 0, gated);
}

int stw_probe_go(struct stw_sock *p, pid_t pid)
{
	return stw_probe_pid_request(p, STW_PROBE_CMD_GO, pid, false);
}

struct stw_probe_gates_ctx {
	struct stw_probe_gate_info *g;
	size_t n, cap;
	struct stw_probe_worker_info *w;
};

static int stw_probe_gate_one(struct stw_sock *p, const struct stw_msg *m,
			      void *arg)
{
	struct stw_probe_gates_ctx *ctx = arg;
	struct nlattr *tb[STW_PROBE_A_MAX + 1];
	struct stw_probe_gate_info *g;

	(void)p;
	if (genlmsg_parse(m->nlh, 0, tb, STW_PROBE_A_MAX, NULL) ||
	    !tb[STW_PROBE_A_PID] || !tb[STW_PROBE_A_SEQ])
		return EBADMSG;
	if (ctx->n == ctx->cap)
		return E2BIG;
	g = &ctx->g[ctx->n++];
	g->pid = nla_get_u32(tb[STW_PROBE_A_PID]);
	g->parks = nla_get_u64(tb[STW_PROBE_A_SEQ]);
	g->holds = tb[STW_PROBE_A_HOLDS] ? nla_get_u32(tb[STW_PROBE_A_HOLDS]) : 0;
	g->parked = tb[STW_PROBE_A_PARKED];
	g->point = g->parked && tb[STW_PROBE_A_POINT] ?
		   (int)nla_get_u32(tb[STW_PROBE_A_POINT]) : -1;
	g->vm = g->parked && tb[STW_PROBE_A_VM] ?
		nla_get_u32(tb[STW_PROBE_A_VM]) : 0;
	if (tb[STW_PROBE_A_WORKER_BUSY]) {
		ctx->w->busy = true;
		if (tb[STW_PROBE_A_WORKER_PID])
			ctx->w->pid = nla_get_u32(tb[STW_PROBE_A_WORKER_PID]);
	}
	return 0;
}

int stw_probe_gates(struct stw_sock *p, struct stw_probe_gate_info *g,
		    size_t cap, size_t *n, struct stw_probe_worker_info *w)
{
	struct stw_probe_gates_ctx ctx = { .g = g, .cap = cap, .w = w };
	int err;

	memset(w, 0, sizeof(*w));
	err = stw_call(p, stw_msg_new(p, STW_PROBE_CMD_GATES, NLM_F_DUMP),
		       stw_probe_gate_one, &ctx);
	*n = ctx.n;
	return err;
}

struct stw_probe_log_ctx {
	struct stw_probe_hit *hits;
	size_t n, cap;
};

static int stw_probe_log_one(struct stw_sock *p, const struct stw_msg *m,
			     void *arg)
{
	struct stw_probe_log_ctx *ctx = arg;
	struct nlattr *tb[STW_PROBE_A_MAX + 1];
	struct stw_probe_hit *hit;

	(void)p;
	if (genlmsg_parse(m->nlh, 0, tb, STW_PROBE_A_MAX, NULL) ||
	    !tb[STW_PROBE_A_SEQ] || !tb[STW_PROBE_A_POINT] ||
	    !tb[STW_PROBE_A_VM] || !tb[STW_PROBE_A_GENERATION])
		return EBADMSG;
	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? 2 * ctx->cap : 256;
		void *h = realloc(ctx->hits, cap * sizeof(*ctx->hits));

		if (!h)
			return ENOMEM;
		ctx->hits = h;
		ctx->cap = cap;
	}
	hit = &ctx->hits[ctx->n++];
	hit->seq = nla_get_u64(tb[STW_PROBE_A_SEQ]);
	hit->point = nla_get_u32(tb[STW_PROBE_A_POINT]);
	hit->vm = nla_get_u32(tb[STW_PROBE_A_VM]);
	hit->generation = nla_get_u64(tb[STW_PROBE_A_GENERATION]);
	return 0;
}

int stw_probe_log(struct stw_sock *p, struct stw_probe_hit **hits, size_t *n)
{
	struct stw_probe_log_ctx ctx = { 0 };
	int err;

	err = stw_call(p, stw_msg_new(p, STW_PROBE_CMD_LOG, NLM_F_DUMP),
		       stw_probe_log_one, &ctx);
	if (err) {
		free(ctx.hits);
		return err;
	}
	*hits = ctx.hits;
	*n = ctx.n;
	return 0;
}

size_t stw_probe_hits(const struct stw_probe_hit *hits, size_t n, int point,
		      uint32_t vm, uint64_t generation)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if (hits[i].point == point && hits[i].vm == vm &&
		    hits[i].generation == generation)
			count++;
	return count;
}

/* ---- second controllers ---- */

enum stw_bg_op {
	STW_BG_STOP, STW_BG_KILL, STW_BG_RUN_ONE, STW_BG_ACTION, STW_BG_SPAWN
};

struct stw_bg {
	struct stw_sock *s;
	enum stw_bg_op op;
	uint32_t arg;
	uint32_t polls;
	pthread_t thread;
	bool joined;
	int err;
	struct stw_cycle cycle;
	char mod[64];		/* STW_BG_ACTION: the module, its action */
	char what[64];
};

static void *stw_bg_run(void *arg)
{
	struct stw_bg *bg = arg;

	switch (bg->op) {
	case STW_BG_STOP:
		bg->err = stw_stop(bg->s, bg->arg, 0, &bg->cycle, NULL);
		break;
	case STW_BG_KILL:
		bg->err = stw_kill(bg->s, &bg->arg, 1);
		break;
	case STW_BG_RUN_ONE:
		bg->err = stw_run_one(bg->s, bg->arg, bg->polls, 60000, NULL);
		break;
	case STW_BG_ACTION:
		bg->err = mod_action(bg->mod, bg->what);
		break;
	case STW_BG_SPAWN: {
		size_t n = 0;

		bg->err = stw_spawn(bg->s, 0, 1, 0, 0, &bg->arg, &n);
		break;
	}
	}
	return NULL;
}

static struct stw_bg *stw_bg_start(enum stw_bg_op op, uint32_t arg,
				   uint32_t polls, const char *mod,
				   const char *what)
{
	struct stw_bg *bg = calloc(1, sizeof(*bg));

	if (!bg)
		return NULL;
	if (mod) {
		snprintf(bg->mod, sizeof(bg->mod), "%s", mod);
		snprintf(bg->what, sizeof(bg->what), "%s", what);
	}
	bg->op = op;
	bg->arg = arg;
	bg->polls = polls;
	bg->s = stw_open();
	if (!bg->s)
		goto err_free;
	if (pthread_create(&bg->thread, NULL, stw_bg_run, bg))
		goto err_close;
	return bg;

err_close:
	stw_close(bg->s);
err_free:
	free(bg);
	return NULL;
}

struct stw_bg *stw_bg_stop(uint32_t timeout_ms)
{
	return stw_bg_start(STW_BG_STOP, timeout_ms, 0, NULL, NULL);
}

struct stw_bg *stw_bg_spawn_idle(void)
{
	return stw_bg_start(STW_BG_SPAWN, 0, 0, NULL, NULL);
}

uint32_t stw_bg_spawned(const struct stw_bg *bg)
{
	return bg->arg;
}

struct stw_bg *stw_bg_kill(uint32_t vm)
{
	return stw_bg_start(STW_BG_KILL, vm, 0, NULL, NULL);
}

struct stw_bg *stw_bg_run_one(uint32_t vm, uint32_t polls)
{
	return stw_bg_start(STW_BG_RUN_ONE, vm, polls, NULL, NULL);
}

struct stw_bg *stw_bg_action(const char *mod, const char *what)
{
	return stw_bg_start(STW_BG_ACTION, 0, 0, mod, what);
}

int stw_bg_join(struct stw_bg *bg, int timeout_ms)
{
	struct timespec ts;

	if (bg->joined)
		return bg->err;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(bg->thread, NULL, &ts))
		return ETIMEDOUT;
	bg->joined = true;
	return bg->err;
}

const struct stw_cycle *stw_bg_cycle(const struct stw_bg *bg)
{
	return &bg->cycle;
}

void stw_bg_free(struct stw_bg *bg)
{
	if (!bg->joined) {
		/* Unblock a STOP still waiting, then wait for the thread. */
		struct stw_sock *s = stw_open();

		if (s) {
			stw_resume(s, true, 0, NULL);
			stw_close(s);
		}
		pthread_join(bg->thread, NULL);
	}
	stw_close(bg->s);
	free(bg);
}
