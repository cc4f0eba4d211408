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

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "stw_probe.h"

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
};

const char *stw_probe_name(int point)
{
	if (point < 0 || point >= STW_PROBE_COUNT)
		return "?";
	return stw_probe_names[point];
}

static bool stw_probe_family_present(void)
{
	struct nl_sock *nl = nl_socket_alloc();
	bool present = false;

	if (!nl)
		return false;
	if (!genl_connect(nl))
		present = genl_ctrl_resolve(nl, STW_PROBE_GENL_NAME) >= 0;
	nl_socket_free(nl);
	return present;
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
	struct stw_sock *p = stw_open();
	int family;

	if (!p)
		return NULL;
	family = genl_ctrl_resolve(p->nl, STW_PROBE_GENL_NAME);
	if (family < 0) {
		stw_close(p);
		errno = ENOENT;
		return NULL;
	}
	p->family = family;
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

static int stw_probe_request(struct stw_sock *p, uint8_t cmd, int point,
			     uint32_t vm, bool park, int timeout_ms,
			     uint32_t *hit_vm)
{
	struct nl_msg *msg;
	struct stw_reply rep;
	int err;

	if (stw_probes_unarmed() && cmd != STW_PROBE_CMD_RESET) {
		if (hit_vm)
			*hit_vm = vm;
		return 0;
	}
	msg = stw_msg_new(p, cmd, 0);
	if (msg && point >= 0 &&
	    (nla_put_u32(msg, STW_PROBE_A_POINT, point) ||
	     nla_put_u32(msg, STW_PROBE_A_VM, vm) ||
	     (park && nla_put_flag(msg, STW_PROBE_A_PARK)) ||
	     (timeout_ms > 0 &&
	      nla_put_u32(msg, STW_PROBE_A_TIMEOUT_MS, timeout_ms)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = stw_transact(p, msg, &rep);
	if (!err && hit_vm) {
		if (rep.tb[STW_PROBE_A_VM])
			*hit_vm = nla_get_u32(rep.tb[STW_PROBE_A_VM]);
		else
			err = EBADMSG;
	}
	stw_reply_free(&rep);
	return err;
}

int stw_probe_arm(struct stw_sock *p, int point, uint32_t vm, bool park)
{
	return stw_probe_request(p, STW_PROBE_CMD_ARM, point, vm, park, 0,
				 NULL);
}

int stw_probe_wait(struct stw_sock *p, int point, uint32_t vm,
		   int timeout_ms, uint32_t *hit_vm)
{
	uint32_t hit;

	return stw_probe_request(p, STW_PROBE_CMD_WAIT, point, vm, false,
				 timeout_ms, hit_vm ? hit_vm : &hit);
}

int stw_probe_release(struct stw_sock *p, int point, uint32_t vm)
{
	return stw_probe_request(p, STW_PROBE_CMD_RELEASE, point, vm, false, 0,
				 NULL);
}

int stw_probe_reset(struct stw_sock *p)
{
	return stw_probe_request(p, STW_PROBE_CMD_RESET, -1, 0, false, 0,
				 NULL);
}

struct stw_probe_log_ctx {
	struct stw_probe_hit *hits;
	size_t n, cap;
	int err;
};

static int stw_probe_log_one(struct nl_msg *msg, void *arg)
{
	struct stw_probe_log_ctx *ctx = arg;
	struct nlattr *tb[STW_PROBE_A_MAX + 1];
	struct stw_probe_hit *hit;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, STW_PROBE_A_MAX, NULL) ||
	    !tb[STW_PROBE_A_SEQ] || !tb[STW_PROBE_A_POINT] ||
	    !tb[STW_PROBE_A_VM] || !tb[STW_PROBE_A_GENERATION]) {
		ctx->err = EBADMSG;
		return NL_STOP;
	}
	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? 2 * ctx->cap : 256;
		void *m = realloc(ctx->hits, cap * sizeof(*ctx->hits));

		if (!m) {
			ctx->err = ENOMEM;
			return NL_STOP;
		}
		ctx->hits = m;
		ctx->cap = cap;
	}
	hit = &ctx->hits[ctx->n++];
	hit->seq = nla_get_u64(tb[STW_PROBE_A_SEQ]);
	hit->point = nla_get_u32(tb[STW_PROBE_A_POINT]);
	hit->vm = nla_get_u32(tb[STW_PROBE_A_VM]);
	hit->generation = nla_get_u64(tb[STW_PROBE_A_GENERATION]);
	return NL_OK;
}

int stw_probe_log(struct stw_sock *p, struct stw_probe_hit **hits, size_t *n)
{
	struct stw_probe_log_ctx ctx = {};
	int ret;

	/*
	 * A dump's parts can be larger than libnl's default buffer; and
	 * stw_nl numbers its own requests, so libnl's sequence check would
	 * compare against a number it never sent.
	 */
	nl_socket_enable_msg_peek(p->nl);
	nl_socket_disable_seq_check(p->nl);
	ret = genl_send_simple(p->nl, p->family, STW_PROBE_CMD_LOG,
			       STW_PROBE_GENL_VERSION, NLM_F_DUMP);
	if (ret >= 0) {
		nl_socket_modify_cb(p->nl, NL_CB_VALID, NL_CB_CUSTOM,
				    stw_probe_log_one, &ctx);
		ret = nl_recvmsgs_default(p->nl);
		nl_socket_modify_cb(p->nl, NL_CB_VALID, NL_CB_DEFAULT, NULL,
				    NULL);
	}
	if (ret < 0 && !ctx.err) {
		snprintf(p->extack, sizeof(p->extack), "probe log: %s",
			 nl_geterror(ret));
		ctx.err = EIO;
	}
	if (ctx.err) {
		free(ctx.hits);
		return ctx.err;
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

enum stw_bg_op { STW_BG_STOP, STW_BG_KILL, STW_BG_RUN_ONE };

struct stw_bg {
	struct stw_sock *s;
	enum stw_bg_op op;
	uint32_t arg;
	uint32_t polls;
	pthread_t thread;
	bool joined;
	int err;
	struct stw_cycle cycle;
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
	}
	return NULL;
}

static struct stw_bg *stw_bg_start(enum stw_bg_op op, uint32_t arg,
				   uint32_t polls)
{
	struct stw_bg *bg = calloc(1, sizeof(*bg));

	if (!bg)
		return NULL;
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
	return stw_bg_start(STW_BG_STOP, timeout_ms, 0);
}

struct stw_bg *stw_bg_kill(uint32_t vm)
{
	return stw_bg_start(STW_BG_KILL, vm, 0);
}

struct stw_bg *stw_bg_run_one(uint32_t vm, uint32_t polls)
{
	return stw_bg_start(STW_BG_RUN_ONE, vm, polls);
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
