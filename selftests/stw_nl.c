// SPDX-License-Identifier: GPL-2.0
/*
 * stw_nl: the selftests' client of the "stw" generic netlink family.
 *
 * libnl-3 opens the socket, resolves the family and builds the messages;
 * replies are read here with plain recv() so that every message of an
 * exchange is seen: the reply, the NLMSG_ERROR ack and its extended ack
 * (NLMSGERR_ATTR_MSG), which libnl's callbacks do not hand over.
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

#define STW_RCVBUF	(4 << 20)

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

const char *stw_mode_name(int mode)
{
	switch (mode) {
	case STW_RUN_ALL:	return "RUN_ALL";
	case STW_STOPPING:	return "STOPPING";
	case STW_STOPPED:	return "STOPPED";
	case STW_RUN_ONE:	return "RUN_ONE";
	}
	return "?";
}

const char *stw_state_name(int state)
{
	switch (state) {
	case STW_VM_STARTING:	return "STARTING";
	case STW_VM_RUNNING:	return "RUNNING";
	case STW_VM_STOPPED:	return "STOPPED";
	}
	return "?";
}

const char *stw_doing_name(int doing)
{
	switch (doing) {
	case STW_VM_DOING_IDLE:			return "IDLE";
	case STW_VM_DOING_IDLE_DISPATCHED:	return "IDLE_DISPATCHED";
	case STW_VM_DOING_RUNNING:		return "RUNNING";
	case STW_VM_DOING_BLOCKED:		return "BLOCKED";
	case STW_VM_DOING_PARKED:		return "PARKED";
	}
	return "?";
}

const char *stw_kind_name(int kind)
{
	switch (kind) {
	case STW_VM_KIND_EXTERNAL:	return "external";
	case STW_VM_KIND_ACTIVE:	return "active";
	case STW_VM_KIND_IDLE:		return "idle";
	case STW_VM_KIND_BURSTY:	return "bursty";
	case STW_VM_KIND_NOPOLL:	return "nopoll";
	}
	return "?";
}

uint64_t stw_violations_total(const struct stw_world *w)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < STW_INV_COUNT; i++)
		sum += w->violations[i];
	return sum;
}

static void stw_set_local_error(struct stw_sock *s, int err,
				const char *fmt, ...)
{
	va_list ap;
	int n;

	s->err = err;
	n = snprintf(s->extack, sizeof(s->extack), "stw_nl: ");
	va_start(ap, fmt);
	vsnprintf(s->extack + n, sizeof(s->extack) - n, fmt, ap);
	va_end(ap);
}

static void stw_clear_result(struct stw_sock *s)
{
	s->err = 0;
	s->extack[0] = '\0';
	s->miss_type = -1;
	s->bad_offset = -1;
}

/* ---- sockets ---- */

static int stw_nlerr_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_OBJ_NOTFOUND:	return ENOENT;
	case NLE_NOMEM:		return ENOMEM;
	case NLE_PERM:		return EPERM;
	case NLE_AGAIN:		return EAGAIN;
	case NLE_INTR:		return EINTR;
	default:		return EIO;
	}
}

static struct stw_sock *stw_open_common(bool events)
{
	int one = 1, rcvbuf = STW_RCVBUF, ret, err;
	struct stw_sock *s;

	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	stw_clear_result(s);
	s->nl = nl_socket_alloc();
	if (!s->nl) {
		err = ENOMEM;
		goto err_free;
	}
	ret = genl_connect(s->nl);
	if (ret < 0) {
		err = stw_nlerr_to_errno(ret);
		goto err_sock;
	}
	ret = genl_ctrl_resolve(s->nl, STW_GENL_NAME);
	if (ret < 0) {
		err = stw_nlerr_to_errno(ret);
		goto err_sock;
	}
	s->family = ret;
	if (events) {
		ret = genl_ctrl_resolve_grp(s->nl, STW_GENL_NAME,
					    STW_MCGRP_EVENTS);
		if (ret < 0) {
			err = stw_nlerr_to_errno(ret);
			goto err_sock;
		}
		s->events_grp = ret;
		ret = nl_socket_add_membership(s->nl, s->events_grp);
		if (ret < 0) {
			err = stw_nlerr_to_errno(ret);
			goto err_sock;
		}
	}
	/*
	 * Room for a big reply and its ack: SPAWN or KILL of 10,000 VMs
	 * answers with ~80 KiB of ids, and with libnl's default 32 KiB
	 * buffer the ack that follows would be dropped (ENOBUFS).
	 */
	if (setsockopt(nl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)) &&
	    setsockopt(nl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF,
		       &rcvbuf, sizeof(rcvbuf))) {
		err = errno;
		goto err_sock;
	}
	if (setsockopt(nl_socket_get_fd(s->nl), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) ||
	    setsockopt(nl_socket_get_fd(s->nl), SOL_NETLINK, NETLINK_CAP_ACK,
		       &one, sizeof(one))) {
		err = errno;
		goto err_sock;
	}
	return s;

err_sock:
	nl_socket_free(s->nl);
err_free:
	free(s);
	errno = err;
	return NULL;
}

struct stw_sock *stw_open(void)
{
	return stw_open_common(false);
}

struct stw_sock *stw_open_events(void)
{
	return stw_open_common(true);
}

void stw_close(struct stw_sock *s)
{
	if (!s)
		return;
	nl_socket_free(s->nl);
	free(s->pend);
	free(s);
}

bool stw_module_loaded(void)
{
	struct stw_sock *s = stw_open();

	if (!s)
		return false;
	stw_close(s);
	return true;
}

/* ---- receiving ---- */

/* One datagram, whatever its size. 0 or errno. */
static int stw_recv(struct stw_sock *s, unsigned char **buf, size_t *len)
{
	int fd = nl_socket_get_fd(s->nl);
	struct sockaddr_nl sa;
	struct iovec iov;
	struct msghdr mh = {
		.msg_name = &sa,
		.msg_namelen = sizeof(sa),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	unsigned char *b;
	ssize_t n;

	for (;;) {
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return errno;
	}
	b = malloc(n > 0 ? n : 1);
	if (!b)
		return ENOMEM;
	iov.iov_base = b;
	iov.iov_len = n;
	for (;;) {
		ssize_t got = recvmsg(fd, &mh, 0);

		if (got >= 0) {
			n = got;
			break;
		}
		if (errno != EINTR) {
			int err = errno;

			free(b);
			return err;
		}
	}
	if (mh.msg_flags & MSG_TRUNC) {
		free(b);
		return EMSGSIZE;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* The TLVs of an ack (NLMSG_ERROR or NLMSG_DONE) into s->extack etc. */
static void stw_parse_ack_tlvs(struct stw_sock *s, const struct nlmsghdr *nlh,
			       size_t off)
{
	const unsigned char *end = (const unsigned char *)nlh + nlh->nlmsg_len;
	const unsigned char *p = (const unsigned char *)NLMSG_DATA(nlh) +
				 NLMSG_ALIGN(off);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = a->nla_len;
		size_t plen;
		const void *data = p + NLA_HDRLEN;

		if (alen < NLA_HDRLEN || p + alen > end)
			break;
		plen = alen - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			if (plen) {
				size_t n = strnlen(data, plen);

				if (n >= sizeof(s->extack))
					n = sizeof(s->extack) - 1;
				memcpy(s->extack, data, n);
				s->extack[n] = '\0';
			}
			break;
		case NLMSGERR_ATTR_OFFS:
			if (plen == sizeof(uint32_t))
				s->bad_offset = *(const uint32_t *)data;
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (plen == sizeof(uint32_t))
				s->miss_type = *(const uint32_t *)data;
			break;
		}
		p += NLA_ALIGN(alen);
	}
}

typedef int (*stw_msg_cb)(struct stw_sock *s, struct nlmsghdr *nlh,
			  void *arg);

/*
 * Send @msg (freed here) and read every message of the exchange until its
 * ack or, for a dump, NLMSG_DONE. @cb sees each message of the family.
 * Returns the kernel's errno, else the first error of @cb, else 0.
 */
static int stw_exchange(struct stw_sock *s, struct nl_msg *msg,
			stw_msg_cb cb, void *arg)
{
	uint32_t seq, port;
	int cb_err = 0;
	bool done = false;
	int ret;

	stw_clear_result(s);
	ret = nl_send_auto(s->nl, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	port = nl_socket_get_local_port(s->nl);
	nlmsg_free(msg);
	if (ret < 0) {
		stw_set_local_error(s, stw_nlerr_to_errno(ret), "send: %s",
				    nl_geterror(ret));
		return s->err;
	}

	while (!done) {
		unsigned char *buf;
		struct nlmsghdr *nlh;
		size_t len;
		int rem;

		ret = stw_recv(s, &buf, &len);
		if (ret) {
			stw_set_local_error(s, ret, "recv: %s", strerror(ret));
			return ret;
		}
		rem = len;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, rem);
		     nlh = NLMSG_NEXT(nlh, rem)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != port)
				continue;	/* not ours: stale */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				size_t off = sizeof(*e);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					stw_set_local_error(s, EBADMSG,
							    "short NLMSG_ERROR");
					done = true;
					break;
				}
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - NLMSG_HDRLEN;
				s->err = -e->error;
				stw_parse_ack_tlvs(s, nlh, off);
				done = true;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
					int e = *(int *)NLMSG_DATA(nlh);

					s->err = e < 0 ? -e : 0;
					stw_parse_ack_tlvs(s, nlh, sizeof(int));
				}
				done = true;
				break;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;	/* NOOP, OVERRUN */
			if (nlh->nlmsg_type != s->family) {
				if (!cb_err)
					cb_err = EBADMSG;
				continue;
			}
			if (cb && !cb_err)
				cb_err = cb(s, nlh, arg);
		}
		free(buf);
	}
	if (!s->err && cb_err) {
		s->err = cb_err;
		if (!s->extack[0])
			snprintf(s->extack, sizeof(s->extack),
				 "stw_nl: bad reply: %s", strerror(cb_err));
	}
	return s->err;
}

/* ---- attributes of replies ---- */

static int stw_get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nla_len(a) != sizeof(uint32_t))
		return EBADMSG;
	memcpy(v, nla_data(a), sizeof(*v));
	return 0;
}

static int stw_get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || nla_len(a) != sizeof(uint64_t))
		return EBADMSG;
	memcpy(v, nla_data(a), sizeof(*v));
	return 0;
}

static int stw_get_int(const struct nlattr *a, int *v)
{
	uint32_t u;

	if (stw_get_u32(a, &u))
		return EBADMSG;
	*v = (int)u;
	return 0;
}

static int stw_get_u64_array(const struct nlattr *nest, uint64_t *v,
			     int count)
{
	struct nlattr *tb[STW_TTS_HIST_BUCKETS + STW_INV_COUNT + 1];
	int i;

	if (!nest || count > STW_TTS_HIST_BUCKETS + STW_INV_COUNT)
		return EBADMSG;
	if (nla_parse_nested(tb, count, (struct nlattr *)nest, NULL))
		return EBADMSG;
	for (i = 0; i < count; i++)
		if (stw_get_u64(tb[i + 1], &v[i]))
			return EBADMSG;
	return 0;
}

static int stw_parse_world(const struct nlattr *nest, struct stw_world *w)
{
	struct nlattr *tb[STW_WORLD_A_MAX + 1];

	memset(w, 0, sizeof(*w));
	if (!nest || nla_parse_nested(tb, STW_WORLD_A_MAX,
				      (struct nlattr *)nest, NULL))
		return EBADMSG;
	if (stw_get_int(tb[STW_WORLD_A_MODE], &w->mode) ||
	    stw_get_u64(tb[STW_WORLD_A_GENERATION], &w->generation) ||
	    stw_get_u32(tb[STW_WORLD_A_NR_VMS], &w->nr_vms) ||
	    stw_get_u32(tb[STW_WORLD_A_ACTIVE], &w->active) ||
	    stw_get_u32(tb[STW_WORLD_A_STOPPED], &w->stopped) ||
	    stw_get_u32(tb[STW_WORLD_A_HOLDS], &w->holds) ||
	    stw_get_u64(tb[STW_WORLD_A_CYCLES], &w->cycles) ||
	    stw_get_u64(tb[STW_WORLD_A_TIMEOUTS], &w->timeouts) ||
	    stw_get_u64(tb[STW_WORLD_A_LAST_TTS_NS], &w->last_tts_ns) ||
	    stw_get_u64(tb[STW_WORLD_A_MAX_TTS_NS], &w->max_tts_ns) ||
	    stw_get_u64_array(tb[STW_WORLD_A_TTS_HIST], w->tts_hist,
			      STW_TTS_HIST_BUCKETS) ||
	    stw_get_u64_array(tb[STW_WORLD_A_VIOLATIONS], w->violations,
			      STW_INV_COUNT))
		return EBADMSG;
	if (tb[STW_WORLD_A_STEP_VM]) {
		if (stw_get_u32(tb[STW_WORLD_A_STEP_VM], &w->step_vm))
			return EBADMSG;
		w->has_step_vm = true;
	}
	return 0;
}

/* @full: every attribute of a STATUS dump entry; else ID (and NAME). */
static int stw_parse_vm(const struct nlattr *nest, struct stw_vm *vm,
			bool full)
{
	struct nlattr *tb[STW_VM_A_MAX + 1];

	memset(vm, 0, sizeof(*vm));
	vm->kind = vm->state = vm->doing = -1;
	if (!nest || nla_parse_nested(tb, STW_VM_A_MAX,
				      (struct nlattr *)nest, NULL))
		return EBADMSG;
	if (stw_get_u32(tb[STW_VM_A_ID], &vm->id))
		return EBADMSG;
	if (tb[STW_VM_A_NAME]) {
		size_t n = strnlen(nla_data(tb[STW_VM_A_NAME]),
				   nla_len(tb[STW_VM_A_NAME]));

		if (n >= sizeof(vm->name))
			n = sizeof(vm->name) - 1;
		memcpy(vm->name, nla_data(tb[STW_VM_A_NAME]), n);
		vm->name[n] = '\0';
	} else if (full) {
		return EBADMSG;
	}
	if (!full)
		return 0;
	if (stw_get_u32(tb[STW_VM_A_PID], &vm->pid) ||
	    stw_get_int(tb[STW_VM_A_KIND], &vm->kind) ||
	    stw_get_int(tb[STW_VM_A_STATE], &vm->state) ||
	    stw_get_int(tb[STW_VM_A_DOING], &vm->doing) ||
	    stw_get_u64(tb[STW_VM_A_STOPS], &vm->stops) ||
	    stw_get_u64(tb[STW_VM_A_LAST_TTS_NS], &vm->last_tts_ns) ||
	    stw_get_u64(tb[STW_VM_A_POLLS], &vm->polls) ||
	    stw_get_u64(tb[STW_VM_A_JOBS], &vm->jobs))
		return EBADMSG;
	return 0;
}

static int stw_parse_cycle(const struct nlattr *nest, struct stw_cycle *c)
{
	struct nlattr *tb[STW_CYCLE_A_MAX + 1];

	memset(c, 0, sizeof(*c));
	if (!nest || nla_parse_nested(tb, STW_CYCLE_A_MAX,
				      (struct nlattr *)nest, NULL))
		return EBADMSG;
	if (stw_get_u64(tb[STW_CYCLE_A_GENERATION], &c->generation))
		return EBADMSG;
	if (tb[STW_CYCLE_A_TTS_NS]) {
		if (stw_get_u64(tb[STW_CYCLE_A_TTS_NS], &c->tts_ns))
			return EBADMSG;
		c->has_tts = true;
	}
	if (tb[STW_CYCLE_A_JOINED]) {
		if (nla_len(tb[STW_CYCLE_A_JOINED]))
			return EBADMSG;
		c->joined = true;
	}
	if (tb[STW_CYCLE_A_HOLD_ID] &&
	    stw_get_u32(tb[STW_CYCLE_A_HOLD_ID], &c->hold_id))
		return EBADMSG;
	if (tb[STW_CYCLE_A_HOLDS]) {
		if (stw_get_u32(tb[STW_CYCLE_A_HOLDS], &c->holds))
			return EBADMSG;
		c->has_holds = true;
	}
	return 0;
}

/* STW_A_VM nests, repeated inside @nest. */
static int stw_parse_vm_list(const struct nlattr *nest, struct stw_vm_list *l)
{
	struct nlattr *a;
	size_t cap = 0;
	int rem;

	l->vms = NULL;
	l->n = 0;
	if (!nest)
		return 0;
	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		if (nla_type(a) != STW_A_VM)
			goto err;
		if (l->n == cap) {
			struct stw_vm *v;

			cap = cap ? 2 * cap : 8;
			v = realloc(l->vms, cap * sizeof(*v));
			if (!v)
				goto err;
			l->vms = v;
		}
		if (stw_parse_vm(a, &l->vms[l->n], true))
			goto err;
		l->n++;
	}
	return 0;
err:
	stw_vm_list_free(l);
	return EBADMSG;
}

void stw_vm_list_free(struct stw_vm_list *l)
{
	if (!l)
		return;
	free(l->vms);
	l->vms = NULL;
	l->n = 0;
}

static int stw_genl_parse(struct nlmsghdr *nlh, struct nlattr **tb, int max)
{
	if (genlmsg_parse(nlh, 0, tb, max, NULL))
		return EBADMSG;
	return 0;
}

/* ---- raw requests ---- */

struct nl_msg *stw_msg_new(struct stw_sock *s, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, s->family, 0, flags,
			 cmd, STW_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int stw_keep_first(struct stw_sock *s, struct nlmsghdr *nlh,
			  void *arg)
{
	struct stw_reply *rep = arg;
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	(void)s;
	if (!rep || rep->buf)
		return 0;
	if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return EBADMSG;
	rep->buf = malloc(nlh->nlmsg_len);
	if (!rep->buf)
		return ENOMEM;
	memcpy(rep->buf, nlh, nlh->nlmsg_len);
	rep->cmd = g->cmd;
	return stw_genl_parse(rep->buf, rep->tb, STW_A_MAX);
}

int stw_transact(struct stw_sock *s, struct nl_msg *msg,
		 struct stw_reply *rep)
{
	if (rep) {
		memset(rep, 0, sizeof(*rep));
		rep->cmd = -1;
	}
	if (!msg) {
		stw_clear_result(s);
		stw_set_local_error(s, ENOMEM, "no message");
		return s->err;
	}
	return stw_exchange(s, msg, stw_keep_first, rep);
}

int stw_raw(struct stw_sock *s, uint8_t cmd, int flags, const void *attrs,
	    size_t len, struct stw_reply *rep)
{
	struct nl_msg *msg = stw_msg_new(s, cmd, flags);
	struct stw_reply tmp;
	int err;

	if (msg && len && nlmsg_append(msg, (void *)attrs, len, NLMSG_ALIGNTO)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = stw_transact(s, msg, rep ? rep : &tmp);
	if (!rep)
		stw_reply_free(&tmp);
	return err;
}

void stw_reply_free(struct stw_reply *rep)
{
	if (!rep)
		return;
	free(rep->buf);
	memset(rep, 0, sizeof(*rep));
	rep->cmd = -1;
}

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

/* ---- commands ---- */

int stw_status(struct stw_sock *s, struct stw_world *w)
{
	struct stw_reply rep;
	int err;

	err = stw_transact(s, stw_msg_new(s, STW_CMD_STATUS, 0), &rep);
	if (!err) {
		if (rep.cmd != STW_CMD_STATUS ||
		    stw_parse_world(rep.tb[STW_A_WORLD], w))
			stw_set_local_error(s, EBADMSG,
					    "STATUS reply without a whole STW_A_WORLD");
		err = s->err;
	}
	stw_reply_free(&rep);
	return err;
}

struct stw_vms_acc {
	struct stw_vm *vms;
	size_t n;
	size_t cap;
};

static int stw_vms_one(struct stw_sock *s, struct nlmsghdr *nlh, void *arg)
{
	struct stw_vms_acc *acc = arg;
	struct nlattr *tb[STW_A_MAX + 1];

	(void)s;
	if (stw_genl_parse(nlh, tb, STW_A_MAX) || !tb[STW_A_VM])
		return EBADMSG;
	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 64;
		struct stw_vm *v = realloc(acc->vms, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		acc->vms = v;
		acc->cap = cap;
	}
	if (stw_parse_vm(tb[STW_A_VM], &acc->vms[acc->n], true))
		return EBADMSG;
	acc->n++;
	return 0;
}

int stw_vms(struct stw_sock *s, struct stw_vm **vms, size_t *n)
{
	struct stw_vms_acc acc = { 0 };
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_STATUS, NLM_F_DUMP);
	int err;

	*vms = NULL;
	*n = 0;
	if (!msg) {
		stw_clear_result(s);
		stw_set_local_error(s, ENOMEM, "no message");
		return s->err;
	}
	err = stw_exchange(s, msg, stw_vms_one, &acc);
	if (err) {
		free(acc.vms);
		return err;
	}
	*vms = acc.vms;
	*n = acc.n;
	return 0;
}

const struct stw_vm *stw_vm_find(const struct stw_vm *vms, size_t n,
				 uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vms[i].id == id)
			return &vms[i];
	return NULL;
}

static int stw_stop_common(struct stw_sock *s, uint32_t timeout_ms,
			   bool leased, uint32_t lease_ms, unsigned int flags,
			   struct stw_cycle *cycle,
			   struct stw_vm_list *laggards)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_STOP, 0);
	struct stw_reply rep;
	struct stw_cycle c;
	struct stw_vm_list l = { 0 };
	int err;

	if (cycle)
		memset(cycle, 0, sizeof(*cycle));
	if (laggards) {
		laggards->vms = NULL;
		laggards->n = 0;
	}
	if (msg && (nla_put_u32(msg, STW_A_TIMEOUT_MS, timeout_ms) ||
		    (leased && nla_put_u32(msg, STW_A_LEASE_MS, lease_ms)) ||
		    ((flags & STW_STOP_KEEP_WAITING) &&
		     nla_put_flag(msg, STW_A_KEEP_WAITING)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = stw_transact(s, msg, &rep);
	/* A timed-out stop has a reply too: the cycle and the laggards. */
	if ((!err || err == ETIMEDOUT) && rep.buf) {
		if (rep.cmd != STW_CMD_STOP ||
		    stw_parse_cycle(rep.tb[STW_A_CYCLE], &c) ||
		    stw_parse_vm_list(rep.tb[STW_A_LAGGARDS], &l)) {
			char ext[STW_EXTACK_LEN];

			memcpy(ext, s->extack, sizeof(ext));
			stw_set_local_error(s, EBADMSG,
					    "bad STOP reply (ack: %s, '%s')",
					    strerror(err), ext);
			err = s->err;
		} else {
			if (cycle)
				*cycle = c;
			if (laggards)
				*laggards = l;
			else
				stw_vm_list_free(&l);
		}
	} else if (!err) {
		stw_set_local_error(s, EBADMSG, "STOP succeeded without a reply");
		err = s->err;
	}
	stw_reply_free(&rep);
	return err;
}

int stw_stop(struct stw_sock *s, uint32_t timeout_ms, unsigned int flags,
	     struct stw_cycle *cycle, struct stw_vm_list *laggards)
{
	return stw_stop_common(s, timeout_ms, false, 0, flags, cycle,
			       laggards);
}

int stw_stop_leased(struct stw_sock *s, uint32_t timeout_ms,
		    uint32_t lease_ms, unsigned int flags,
		    struct stw_cycle *cycle, struct stw_vm_list *laggards)
{
	return stw_stop_common(s, timeout_ms, true, lease_ms, flags, cycle,
			       laggards);
}

int stw_resume_ex(struct stw_sock *s, bool force, uint32_t hold_id,
		  bool *resumed, struct stw_cycle *cycle)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_RESUME, 0);
	struct stw_reply rep;
	struct stw_cycle c;
	int err;

	if (resumed)
		*resumed = false;
	if (cycle)
		memset(cycle, 0, sizeof(*cycle));
	if (msg && ((force && nla_put_flag(msg, STW_A_FORCE)) ||
		    (hold_id && nla_put_u32(msg, STW_A_HOLD_ID, hold_id)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = stw_transact(s, msg, &rep);
	if (!err) {
		if (rep.cmd != STW_CMD_RESUME ||
		    stw_parse_cycle(rep.tb[STW_A_CYCLE], &c) ||
		    (rep.tb[STW_A_RESUMED] && nla_len(rep.tb[STW_A_RESUMED]))) {
			stw_set_local_error(s, EBADMSG, "bad RESUME reply");
			err = s->err;
		} else {
			if (resumed)
				*resumed = rep.tb[STW_A_RESUMED] != NULL;
			if (cycle)
				*cycle = c;
		}
	}
	stw_reply_free(&rep);
	return err;
}

int stw_resume(struct stw_sock *s, bool force, uint32_t hold_id,
	       bool *resumed)
{
	return stw_resume_ex(s, force, hold_id, resumed, NULL);
}

int stw_run_one(struct stw_sock *s, uint32_t vm, uint32_t polls,
		uint32_t timeout_ms, struct stw_vm *target)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_RUN_ONE, 0);
	struct stw_reply rep;
	struct stw_cycle c;
	struct stw_vm v;
	int err;

	if (target)
		memset(target, 0, sizeof(*target));
	if (msg && (nla_put_u32(msg, STW_A_VM_ID, vm) ||
		    nla_put_u32(msg, STW_A_POLLS, polls) ||
		    nla_put_u32(msg, STW_A_TIMEOUT_MS, timeout_ms))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = stw_transact(s, msg, &rep);
	if (!err) {
		/* No STW_A_VM: the target was destroyed during its step. */
		if (rep.cmd != STW_CMD_RUN_ONE ||
		    stw_parse_cycle(rep.tb[STW_A_CYCLE], &c) ||
		    (rep.tb[STW_A_VM] &&
		     stw_parse_vm(rep.tb[STW_A_VM], &v, true))) {
			stw_set_local_error(s, EBADMSG,
					    "bad RUN_ONE reply (needs STW_A_CYCLE)");
			err = s->err;
		} else if (target && rep.tb[STW_A_VM]) {
			*target = v;
		}
	}
	stw_reply_free(&rep);
	return err;
}

/* STW_A_VM_IDS of a reply into @ids (room for @cap, may be NULL). */
static int stw_parse_ids(const struct nlattr *nest, uint32_t *ids,
			 uint64_t cap, size_t *n)
{
	struct nlattr *a;
	int rem;

	*n = 0;
	if (!nest)
		return EBADMSG;
	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		uint32_t id;

		if (nla_type(a) != STW_A_VM_ID || stw_get_u32(a, &id))
			return EBADMSG;
		if (*n >= cap)
			return EBADMSG;
		if (ids)
			ids[*n] = id;
		(*n)++;
	}
	return 0;
}

int stw_spawn(struct stw_sock *s, uint32_t active, uint32_t idle,
	      uint32_t bursty, uint32_t nopoll, uint32_t *ids, size_t *n)
{
	uint64_t total = (uint64_t)active + idle + bursty + nopoll;
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_SPAWN, 0);
	struct stw_reply rep;
	struct nlattr *nest;
	size_t got = 0;
	int err;

	if (n)
		*n = 0;
	if (msg) {
		nest = nla_nest_start(msg, STW_A_SPAWN | NLA_F_NESTED);
		if (!nest ||
		    nla_put_u32(msg, STW_SPAWN_A_ACTIVE, active) ||
		    nla_put_u32(msg, STW_SPAWN_A_IDLE, idle) ||
		    nla_put_u32(msg, STW_SPAWN_A_BURSTY, bursty) ||
		    nla_put_u32(msg, STW_SPAWN_A_NOPOLL, nopoll)) {
			nlmsg_free(msg);
			msg = NULL;
		} else {
			nla_nest_end(msg, nest);
		}
	}
	err = stw_transact(s, msg, &rep);
	if (!err) {
		if (rep.cmd != STW_CMD_SPAWN ||
		    stw_parse_ids(rep.tb[STW_A_VM_IDS], ids, total, &got)) {
			stw_set_local_error(s, EBADMSG,
					    "bad SPAWN reply (STW_A_VM_IDS, at most %llu ids)",
					    (unsigned long long)total);
			err = s->err;
		} else if (n) {
			*n = got;
		}
	}
	stw_reply_free(&rep);
	return err;
}

int stw_kill(struct stw_sock *s, const uint32_t *ids, size_t n)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_KILL, 0);
	struct stw_reply rep;
	struct nlattr *nest;
	size_t got, i;
	int err;

	if (msg) {
		nest = nla_nest_start(msg, STW_A_VM_IDS | NLA_F_NESTED);
		for (i = 0; nest && i < n; i++)
			if (nla_put_u32(msg, STW_A_VM_ID, ids[i]))
				nest = NULL;
		if (!nest) {
			nlmsg_free(msg);
			msg = NULL;
		} else {
			nla_nest_end(msg, nest);
		}
	}
	err = stw_transact(s, msg, &rep);
	if (!err && (rep.cmd != STW_CMD_KILL ||
		     stw_parse_ids(rep.tb[STW_A_VM_IDS], NULL, n, &got))) {
		stw_set_local_error(s, EBADMSG, "bad KILL reply");
		err = s->err;
	}
	stw_reply_free(&rep);
	return err;
}

int stw_kill_all(struct stw_sock *s, size_t *n)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_KILL, 0);
	struct stw_reply rep;
	size_t got = 0;
	int err;

	if (n)
		*n = 0;
	if (msg && nla_put_flag(msg, STW_A_KILL_ALL)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	err = stw_transact(s, msg, &rep);
	if (!err) {
		if (rep.cmd != STW_CMD_KILL ||
		    stw_parse_ids(rep.tb[STW_A_VM_IDS], NULL, UINT64_MAX,
				  &got)) {
			stw_set_local_error(s, EBADMSG, "bad KILL reply");
			err = s->err;
		} else if (n) {
			*n = got;
		}
	}
	stw_reply_free(&rep);
	return err;
}

int stw_queue_job(struct stw_sock *s, uint32_t vm, uint32_t jobs,
		  uint32_t polls)
{
	struct nl_msg *msg = stw_msg_new(s, STW_CMD_QUEUE_JOB, 0);

	if (msg && (nla_put_u32(msg, STW_A_VM_ID, vm) ||
		    nla_put_u32(msg, STW_A_JOBS, jobs) ||
		    nla_put_u32(msg, STW_A_POLLS, polls))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return stw_transact(s, msg, NULL);
}

/* ---- events ---- */

static int stw_parse_event(struct nlmsghdr *nlh, struct stw_event *e)
{
	struct nlattr *tb[STW_A_MAX + 1];
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	memset(e, 0, sizeof(*e));
	if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return EBADMSG;
	e->cmd = g->cmd;
	if (stw_genl_parse(nlh, tb, STW_A_MAX))
		return EBADMSG;
	if (tb[STW_A_CYCLE]) {
		if (stw_parse_cycle(tb[STW_A_CYCLE], &e->cycle))
			return EBADMSG;
		e->has_cycle = true;
	}
	if (tb[STW_A_WORLD]) {
		struct nlattr *wtb[STW_WORLD_A_MAX + 1];

		if (nla_parse_nested(wtb, STW_WORLD_A_MAX, tb[STW_A_WORLD],
				     NULL))
			return EBADMSG;
		if (wtb[STW_WORLD_A_STEP_VM]) {
			if (stw_get_u32(wtb[STW_WORLD_A_STEP_VM], &e->step_vm))
				return EBADMSG;
			e->has_step_vm = true;
		}
	}
	if (tb[STW_A_VM]) {
		/* VM_GONE_NTF carries ID and NAME only. */
		if (stw_parse_vm(tb[STW_A_VM], &e->vm, false))
			return EBADMSG;
		e->has_vm = true;
	}
	if (tb[STW_A_LAGGARDS] &&
	    stw_parse_vm_list(tb[STW_A_LAGGARDS], &e->laggards))
		return EBADMSG;
	return 0;
}

void stw_event_free(struct stw_event *e)
{
	if (e)
		stw_vm_list_free(&e->laggards);
}

int stw_event_wait(struct stw_sock *ev, int cmd, int timeout_ms,
		   struct stw_event *out)
{
	int64_t deadline = stw_now_ms() + timeout_ms;

	memset(out, 0, sizeof(*out));
	for (;;) {
		while (ev->pend && ev->pend_off < ev->pend_len) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)
					       (ev->pend + ev->pend_off);
			size_t left = ev->pend_len - ev->pend_off;
			struct genlmsghdr *g;

			if (left < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN ||
			    nlh->nlmsg_len > left) {
				ev->pend_off = ev->pend_len;
				break;
			}
			ev->pend_off += NLMSG_ALIGN(nlh->nlmsg_len);
			if (nlh->nlmsg_type != ev->family ||
			    nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
				continue;
			g = NLMSG_DATA(nlh);
			if (cmd >= 0 && g->cmd != cmd)
				continue;
			if (stw_parse_event(nlh, out)) {
				stw_event_free(out);
				return EBADMSG;
			}
			return 0;
		}
		free(ev->pend);
		ev->pend = NULL;
		ev->pend_len = ev->pend_off = 0;

		for (;;) {
			struct pollfd pfd = {
				.fd = nl_socket_get_fd(ev->nl),
				.events = POLLIN,
			};
			int64_t left = deadline - stw_now_ms();
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
			ret = stw_recv(ev, &ev->pend, &ev->pend_len);
			if (ret == ENOBUFS)
				continue;	/* events were lost; go on */
			if (ret)
				return ret;
			ev->pend_off = 0;
			break;
		}
	}
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
		if (stw_now_ms() >= deadline) {
			stw_set_local_error(s, ETIMEDOUT,
					    "reset: world %s, %u VMs, %u holds",
					    stw_mode_name(w.mode), w.nr_vms,
					    w.holds);
			return ETIMEDOUT;
		}
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
	int saved_err = s->err;
	struct stw_world w;
	struct stw_vm *vms;
	size_t n, i, len;

	/* Describing must not hide the outcome of the request being logged. */
	memcpy(saved_extack, s->extack, sizeof(saved_extack));
	if (stw_status(s, &w)) {
		snprintf(buf, sizeof(buf), "(STATUS failed: %s '%s')",
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
	if (stw_vms(s, &vms, &n)) {
		snprintf(buf + len, sizeof(buf) - len, "; (dump failed: %s)",
			 strerror(s->err));
		goto out;
	}
	for (i = 0; i < n && i < 16 && len < sizeof(buf) - 1; i++)
		len += snprintf(buf + len, sizeof(buf) - len,
				"; %s %s/%s polls %llu jobs %llu stops %llu",
				vms[i].name, stw_state_name(vms[i].state),
				stw_doing_name(vms[i].doing),
				(unsigned long long)vms[i].polls,
				(unsigned long long)vms[i].jobs,
				(unsigned long long)vms[i].stops);
	if (i < n && len < sizeof(buf) - 1)
		snprintf(buf + len, sizeof(buf) - len, "; ... %zu more", n - i);
	free(vms);
out:
	s->err = saved_err;
	memcpy(s->extack, saved_extack, sizeof(saved_extack));
	return buf;
}
