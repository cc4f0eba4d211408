// SPDX-License-Identifier: GPL-2.0
/*
 * stw_client: sockets, requests, ACKs and reading of the "stw" family.
 *
 * libnl-3 opens the socket, resolves the family and builds the messages;
 * replies are read here with plain recv() so that every message of an
 * exchange is seen in order: the replies, the NLMSG_ERROR ACK with its
 * extended ACK (which libnl's callbacks do not hand over whole), and a
 * STW_CMD_DONE_NTF that the kernel may send before the ACK of its request.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "stw_client.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* Room for a burst of events, and for a big reply and its ACK. */
#define STW_RCVBUF		(4 << 20)
#define STW_EVENTS_RCVBUF	(32 << 20)
/* Messages kept for later while a request runs, at most. */
#define STW_LATER_MAX		(1 << 20)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void clear_result(struct stw_sock *s)
{
	s->err = 0;
	s->local = false;
	s->extack[0] = '\0';
	s->miss_type = -1;
	s->bad_offset = -1;
	s->bad_attr[0] = '\0';
	s->miss_attr[0] = '\0';
	s->has_range = false;
}

int stw_fail_local(struct stw_sock *s, int err, const char *fmt, ...)
{
	va_list ap;

	s->err = err;
	s->local = true;
	va_start(ap, fmt);
	vsnprintf(s->extack, sizeof(s->extack), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- sockets ---- */

static int nlerr_to_errno(int nlerr)
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

static void set_rcvbuf(int fd, int size)
{
	/* Root may go past rmem_max; others get what they can. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

struct stw_sock *stw_open_family(const char *name, int version)
{
	struct stw_sock *s;
	int one = 1, fd, ret, err;

	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	clear_result(s);
	s->version = version;
	s->stw = !strcmp(name, STW_GENL_NAME);
	s->nl = nl_socket_alloc();
	if (!s->nl) {
		err = ENOMEM;
		goto err_free;
	}
	ret = genl_connect(s->nl);
	if (ret < 0) {
		err = nlerr_to_errno(ret);
		goto err_sock;
	}
	fd = nl_socket_get_fd(s->nl);
	/* A hold bound to this socket must not live on in a child. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = genl_ctrl_resolve(s->nl, name);
	if (ret < 0) {
		err = nlerr_to_errno(ret);
		goto err_sock;
	}
	s->family = ret;
	set_rcvbuf(fd, STW_RCVBUF);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one))) {
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
	return stw_open_family(STW_GENL_NAME, STW_GENL_VERSION);
}

int stw_join(struct stw_sock *s, const char *name, const char *group)
{
	int grp, ret;

	grp = genl_ctrl_resolve_grp(s->nl, name, group);
	if (grp < 0)
		return nlerr_to_errno(grp);
	ret = nl_socket_add_membership(s->nl, grp);
	return ret < 0 ? nlerr_to_errno(ret) : 0;
}

struct stw_sock *stw_open_events(void)
{
	struct stw_sock *s = stw_open();
	int err;

	if (!s)
		return NULL;
	err = stw_join(s, STW_GENL_NAME, STW_MCGRP_EVENTS);
	if (err) {
		stw_close(s);
		errno = err;
		return NULL;
	}
	/* A burst of VM events must not overrun us. */
	set_rcvbuf(stw_fd(s), STW_EVENTS_RCVBUF);
	return s;
}

void stw_close(struct stw_sock *s)
{
	if (!s)
		return;
	nl_socket_free(s->nl);	/* closes it: the socket's holds go */
	free(s->pend);
	free(s->later);
	free(s);
}

bool stw_module_loaded(void)
{
	struct stw_sock *s = stw_open();

	stw_close(s);
	return s != NULL;
}

int stw_fd(const struct stw_sock *s)
{
	return nl_socket_get_fd(s->nl);
}

int stw_set_world(struct stw_sock *s, const char *name)
{
	size_t len;

	clear_result(s);
	if (!name) {
		s->world[0] = '\0';
		return 0;
	}
	/*
	 * Checked here rather than sent for the kernel to refuse: the name
	 * is kept in s->world, and one that does not fit cannot be kept.
	 * A test of the kernel's policy sends its bytes with stw_raw().
	 */
	len = strlen(name);
	if (!len || len >= sizeof(s->world))
		return stw_fail_local(s, EINVAL,
				      "a world's name is 1 to %d bytes, not %zu",
				      STW_WORLD_NAME_LEN - 1, len);
	memcpy(s->world, name, len + 1);
	return 0;
}

const char *stw_sock_world(const struct stw_sock *s)
{
	return s->world[0] ? s->world : STW_WORLD_DEFAULT;
}

/* ---- receiving ---- */

/* One datagram, whatever its size, into s->pend. 0 or errno. */
static int recv_datagram(struct stw_sock *s)
{
	int fd = stw_fd(s);
	unsigned char *b;
	ssize_t n;

	n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno;
	b = malloc(n > 0 ? n : 1);
	if (!b)
		return ENOMEM;
	n = recv(fd, b, n, MSG_DONTWAIT);
	if (n < 0) {
		int err = errno;

		free(b);
		return err;
	}
	free(s->pend);
	s->pend = b;
	s->pend_len = n;
	s->pend_off = 0;
	return 0;
}

/*
 * Appends a copy of @nlh to the messages at *@buf (*@len bytes); past the
 * cap, it is lost.
 */
static int keep_msg(struct stw_sock *s, unsigned char **buf, size_t *len,
		    const struct nlmsghdr *nlh)
{
	size_t n = NLMSG_ALIGN(nlh->nlmsg_len);
	unsigned char *p;

	if (s->later_len + *len + n > STW_LATER_MAX) {
		s->lost = true;
		return 0;
	}
	p = realloc(*buf, *len + n);
	if (!p)
		return ENOMEM;
	memset(p + *len, 0, n);
	memcpy(p + *len, nlh, nlh->nlmsg_len);
	*buf = p;
	*len += n;
	return 0;
}

/* Keeps a copy of @nlh for stw_read_until(). */
static int keep_for_later(struct stw_sock *s, struct nlmsghdr *nlh)
{
	return keep_msg(s, &s->later, &s->later_len, nlh);
}

/*
 * The next message, valid until the next call: 0, ETIMEDOUT (@deadline
 * passed; -1: none), EINTR, or errno. With @later, those kept for later
 * come first. An overrun sets s->lost.
 */
static int next_msg(struct stw_sock *s, int64_t deadline, bool later,
		    struct nlmsghdr **out)
{
	struct pollfd pfd = { .fd = stw_fd(s), .events = POLLIN };
	struct nlmsghdr *nlh;
	int64_t left;
	int ret;

	for (;;) {
		if (later && s->later && !(s->pend && s->pend_off < s->pend_len)) {
			free(s->pend);
			s->pend = s->later;
			s->pend_len = s->later_len;
			s->pend_off = 0;
			s->later = NULL;
			s->later_len = 0;
		}
		if (s->pend && s->pend_off < s->pend_len) {
			size_t rem = s->pend_len - s->pend_off;

			nlh = (struct nlmsghdr *)(s->pend + s->pend_off);
			if (rem < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN ||
			    nlh->nlmsg_len > rem) {
				s->pend_off = s->pend_len;	/* torn */
				continue;
			}
			s->pend_off += NLMSG_ALIGN(nlh->nlmsg_len);
			*out = nlh;
			return 0;
		}
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		ret = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (ret < 0)
			return errno;
		if (ret == 0)
			return ETIMEDOUT;
		ret = recv_datagram(s);
		if (ret == ENOBUFS) {
			s->lost = true;
			s->overruns++;
		} else if (ret && ret != EAGAIN)
			return ret;
	}
}

static bool is_family_msg(struct stw_sock *s, struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == s->family &&
	       nlh->nlmsg_len >= NLMSG_LENGTH(GENL_HDRLEN);
}

static int msg_cmd(struct nlmsghdr *nlh)
{
	return ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
}

/* Fills @m from @nlh; the top-level table only for the stw family. */
static int fill_msg(struct stw_sock *s, struct nlmsghdr *nlh,
		    struct stw_msg *m)
{
	struct genlmsghdr *g = nlmsg_data(nlh);

	memset(m, 0, sizeof(*m));
	m->nlh = nlh;
	m->cmd = g->cmd;
	m->attrs = genlmsg_attrdata(g, 0);
	m->len = genlmsg_attrlen(g, 0);
	if (s->stw && stw_parse_msg(nlh, m->tb))
		return EBADMSG;
	return 0;
}

int stw_read_until(struct stw_sock *s, int timeout_ms, stw_msg_fn fn,
		   void *arg)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	unsigned char *kept = NULL;
	size_t kept_len = 0, i;
	struct nlmsghdr *nlh;
	struct stw_msg m;
	int ret;

	for (;;) {
		ret = next_msg(s, deadline, true, &nlh);
		if (ret)
			break;
		if (!is_family_msg(s, nlh) || fill_msg(s, nlh, &m))
			continue;
		ret = fn(s, &m, arg);
		/* Not among those read again: it would come round for ever. */
		if (ret == STW_MSG_KEEP)
			ret = keep_msg(s, &kept, &kept_len, nlh);
		if (ret) {
			ret = ret == 1 ? 0 : ret;
			break;
		}
	}
	/* After those kept before and not read yet; a failed read too. */
	for (i = 0; i < kept_len; i += NLMSG_ALIGN(nlh->nlmsg_len)) {
		int err;

		nlh = (struct nlmsghdr *)(kept + i);
		err = keep_for_later(s, nlh);
		ret = ret ?: err;
	}
	free(kept);
	return ret;
}

void stw_drain(struct stw_sock *s)
{
	int err;

	free(s->later);
	s->later = NULL;
	s->later_len = 0;
	/* Until the socket has nothing left (an overrun is nothing lost). */
	do {
		err = recv_datagram(s);
	} while (!err || err == ENOBUFS);
	s->pend_off = s->pend_len;
	s->lost = false;
}

/* ---- naming what an extended ACK points at ---- */

static void child_name(int parent, int type, char *buf, size_t len)
{
	const char *name = parent == STW_A_SPAWN ?
			   stw_spawn_attr_name(type) : NULL;

	if (name)
		snprintf(buf, len, "%s in %s", name, stw_attr_name(parent));
	else
		snprintf(buf, len, "type %d in %s", type,
			 stw_attr_name(parent) ?: "a nest");
}

/* Names the attribute at byte OFFS of the request we sent. */
static void name_offset(struct nl_msg *sent, uint32_t offs, char *buf,
			size_t len)
{
	struct nlmsghdr *nlh = nlmsg_hdr(sent);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *a, *n;
	int rem, nrem;

	snprintf(buf, len, "at offset %u", offs);
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem) {
		uint32_t start = (char *)a - (char *)nlh;
		const char *name = stw_attr_name(nla_type(a));

		if (offs < start || offs >= start + a->nla_len)
			continue;
		if (offs != start && nla_type(a) == STW_A_SPAWN) {
			nla_for_each_nested(n, a, nrem) {
				if ((char *)n - (char *)nlh != offs)
					continue;
				child_name(nla_type(a), nla_type(n), buf, len);
				return;
			}
		}
		if (name)
			snprintf(buf, len, "%s", name);
		else
			snprintf(buf, len, "type %d", nla_type(a));
		return;
	}
}

/* Names a missing attribute; NEST_OFFS (or 0) is the nest it belongs in. */
static void name_missing(struct nl_msg *sent, uint32_t type,
			 uint32_t nest_offs, char *buf, size_t len)
{
	struct nlmsghdr *nlh = nlmsg_hdr(sent);
	const char *name = stw_attr_name(type);

	if (nest_offs && nest_offs + NLA_HDRLEN <= nlh->nlmsg_len) {
		struct nlattr *nest = (struct nlattr *)((char *)nlh + nest_offs);

		child_name(nla_type(nest), type, buf, len);
	} else if (name) {
		snprintf(buf, len, "%s", name);
	} else {
		snprintf(buf, len, "type %u", type);
	}
}

static void parse_policy(struct stw_sock *s, struct nlattr *nest)
{
	struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];

	if (nla_parse_nested(tb, NL_POLICY_TYPE_ATTR_MAX, nest, NULL))
		return;
	if (tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] &&
	    tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U] &&
	    nla_len(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]) == 8 &&
	    nla_len(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]) == 8) {
		s->has_range = true;
		s->min = nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
		s->max = nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
	}
}

static uint32_t tlv_u32(struct nlattr *a)
{
	return nla_len(a) == 4 ? nla_get_u32(a) : 0;
}

/* The TLVs of an ACK (NLMSG_ERROR or NLMSG_DONE), @off into its payload. */
static void parse_ack_tlvs(struct stw_sock *s, struct nlmsghdr *nlh,
			   size_t off, struct nl_msg *sent)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int datalen = nlmsg_datalen(nlh);
	bool ours = sent && s->stw;

	off = NLMSG_ALIGN(off);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= (size_t)datalen ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + off),
		      datalen - (int)off, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(s->extack, tb[NLMSGERR_ATTR_MSG],
			    sizeof(s->extack));
	if (tb[NLMSGERR_ATTR_OFFS]) {
		s->bad_offset = tlv_u32(tb[NLMSGERR_ATTR_OFFS]);
		if (ours)
			name_offset(sent, s->bad_offset, s->bad_attr,
				    sizeof(s->bad_attr));
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		s->miss_type = tlv_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
		if (ours)
			name_missing(sent, s->miss_type,
				     tb[NLMSGERR_ATTR_MISS_NEST] ?
				     tlv_u32(tb[NLMSGERR_ATTR_MISS_NEST]) : 0,
				     s->miss_attr, sizeof(s->miss_attr));
	}
	if (tb[NLMSGERR_ATTR_POLICY])
		parse_policy(s, tb[NLMSGERR_ATTR_POLICY]);
}

/* ---- requests ---- */

struct nl_msg *stw_msg_bare(struct stw_sock *s, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(65536);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, s->family, 0, flags,
			 cmd, s->version)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct nl_msg *stw_msg_new(struct stw_sock *s, uint8_t cmd, int flags)
{
	struct nl_msg *msg = stw_msg_bare(s, cmd, flags);

	/*
	 * The world goes first, in every request of the family: no request
	 * function can forget it, and one that acts on the wrong world is
	 * worse than one that fails. The probe family has no worlds.
	 */
	if (msg && s->stw && s->world[0] &&
	    nla_put_string(msg, STW_A_WORLD_NAME, s->world)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* NLMSG_ERROR or NLMSG_DONE: the end of the exchange. */
static void read_ack(struct stw_sock *s, struct nlmsghdr *nlh,
		     struct nl_msg *sent)
{
	struct nlmsgerr *e = nlmsg_data(nlh);
	size_t off = sizeof(*e);
	int err;

	if (nlh->nlmsg_type == NLMSG_DONE) {
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
			return;
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		s->err = err < 0 ? -err : 0;
		parse_ack_tlvs(s, nlh, sizeof(int), sent);
		return;
	}
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
		stw_fail_local(s, EBADMSG, "short NLMSG_ERROR");
		return;
	}
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	s->err = e->error < 0 ? -e->error : e->error;
	parse_ack_tlvs(s, nlh, off, sent);
}

/*
 * Reads the exchange of request @seq until its ACK. 0 or a callback's.
 *
 * The kernel answers a request while the sender is in sendmsg(), and the
 * next part of a dump while the reader is in recvmsg(): whatever is still
 * to come of the exchange is queued on the socket by the time we look. So
 * once an overrun was reported (a message to us dropped: the buffer was
 * full or the kernel had no memory for it), an empty queue means the ACK
 * was the one lost, and waiting for it would be waiting for ever.
 */
static int read_exchange(struct stw_sock *s, struct nl_msg *sent,
			 stw_msg_fn fn, void *arg)
{
	uint32_t port = nl_socket_get_local_port(s->nl);
	unsigned int overruns = s->overruns;
	struct nlmsghdr *nlh;
	struct stw_msg m;
	int cb_err = 0, ret;

	for (;;) {
		ret = next_msg(s, s->overruns == overruns ? -1 : 0, false,
			       &nlh);
		if (ret == EINTR)
			continue;	/* a request runs to its ACK */
		if (ret == ETIMEDOUT)
			return stw_fail_local(s, ENOBUFS,
					      "the kernel's answer was lost (receive buffer overrun or no memory); the request may have been done");
		if (ret)
			return stw_fail_local(s, ret, "receiving: %s",
					      strerror(ret));
		/*
		 * A notification (sequence 0), or a completion: of this very
		 * request ahead of its ACK, or of an earlier one (a STOP whose
		 * completion comes while a RESUME on the same socket waits
		 * for its ACK). Not the answer, but not to lose.
		 */
		if (is_family_msg(s, nlh) &&
		    (!nlh->nlmsg_seq ||
		     (s->stw && msg_cmd(nlh) == STW_CMD_DONE_NTF))) {
			cb_err = cb_err ?: keep_for_later(s, nlh);
			continue;
		}
		if (nlh->nlmsg_seq != s->seq || nlh->nlmsg_pid != port)
			continue;	/* stale */
		if (nlh->nlmsg_type == NLMSG_ERROR ||
		    nlh->nlmsg_type == NLMSG_DONE) {
			read_ack(s, nlh, sent);
			return cb_err;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;	/* NOOP, OVERRUN */
		if (cb_err)
			continue;
		if (!is_family_msg(s, nlh))
			cb_err = EBADMSG;
		else if (!(cb_err = fill_msg(s, nlh, &m)) && fn)
			cb_err = fn(s, &m, arg);
	}
}

int stw_call(struct stw_sock *s, struct nl_msg *msg, stw_msg_fn fn,
	     void *arg)
{
	int ret;

	clear_result(s);
	if (!msg)
		return stw_fail_local(s, ENOMEM,
				      "out of memory building the request");
	ret = nl_send_auto(s->nl, msg);
	s->seq = nlmsg_hdr(msg)->nlmsg_seq;
	if (ret < 0) {
		stw_fail_local(s, nlerr_to_errno(ret), "sending: %s",
			       nl_geterror(ret));
	} else {
		ret = read_exchange(s, msg, fn, arg);
		if (!s->err && ret)
			stw_fail_local(s, ret, "bad reply from the kernel: %s",
				       strerror(ret));
	}
	nlmsg_free(msg);
	return s->err;
}

static int keep_first(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	struct stw_reply *rep = arg;
	struct nlmsghdr *nlh = m->nlh;

	(void)s;
	if (rep->buf)
		return 0;
	rep->buf = malloc(nlh->nlmsg_len);
	if (!rep->buf)
		return ENOMEM;
	memcpy(rep->buf, nlh, nlh->nlmsg_len);
	rep->cmd = m->cmd;
	/* The probe family's replies are parsed by the caller's max. */
	if (genlmsg_parse(rep->buf, 0, rep->tb, STW_A_MAX, NULL))
		return EBADMSG;
	return 0;
}

int stw_transact(struct stw_sock *s, struct nl_msg *msg,
		 struct stw_reply *rep)
{
	struct stw_reply tmp;
	int err;

	if (!rep)
		rep = &tmp;
	memset(rep, 0, sizeof(*rep));
	rep->cmd = -1;
	err = stw_call(s, msg, keep_first, rep);
	if (rep == &tmp)
		stw_reply_free(&tmp);
	return err;
}

int stw_raw(struct stw_sock *s, uint8_t cmd, int flags, const void *attrs,
	    size_t len, struct stw_reply *rep)
{
	struct nl_msg *msg = stw_msg_bare(s, cmd, flags);

	if (msg && len && nlmsg_append(msg, (void *)attrs, len, NLMSG_ALIGNTO)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return stw_transact(s, msg, rep);
}

void stw_reply_free(struct stw_reply *rep)
{
	if (!rep)
		return;
	free(rep->buf);
	memset(rep, 0, sizeof(*rep));
	rep->cmd = -1;
}

/* ---- completions ---- */

/* Another request's completion is its own caller's to read. */
static int match_done(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	if (m->cmd != STW_CMD_DONE_NTF)
		return 0;
	if (m->nlh->nlmsg_seq != s->seq)
		return STW_MSG_KEEP;
	return stw_parse_done(m->nlh, arg) ?: 1;
}

int stw_wait_done(struct stw_sock *s, uint32_t timeout_ms,
		  struct stw_done *d)
{
	int64_t wait = (int64_t)(timeout_ms == STW_UNSET ?
				 STW_TIMEOUT_DEFAULT_MS : timeout_ms) +
		       STW_DONE_SLACK_MS;
	int err;

	clear_result(s);
	err = stw_read_until(s, wait > INT32_MAX ? INT32_MAX : wait,
			     match_done, d);
	if (err == ETIMEDOUT)
		return stw_fail_local(s, ETIMEDOUT,
				      "no completion from the kernel within %lld ms",
				      (long long)wait);
	if (err == EINTR)
		return stw_fail_local(s, EINTR, "interrupted");
	if (err)
		return stw_fail_local(s, err, "bad completion: %s",
				      strerror(err));
	s->err = d->err;
	snprintf(s->extack, sizeof(s->extack), "%s", d->msg);
	return s->err;
}

/* ---- events ---- */

static int match_event(struct stw_sock *s, const struct stw_msg *m,
		       void *arg)
{
	struct stw_event *e = arg;
	int cmd = e->cmd;

	(void)s;
	if (m->cmd == STW_CMD_DONE_NTF || (cmd >= 0 && m->cmd != cmd))
		return 0;
	return stw_parse_event(m->nlh, e) ?: 1;
}

int stw_event_wait(struct stw_sock *ev, int cmd, int timeout_ms,
		   struct stw_event *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	err = stw_read_until(ev, timeout_ms, match_event, out);
	if (err == ETIMEDOUT && !timeout_ms)
		err = EAGAIN;
	if (err)
		stw_event_free(out);
	return err;
}
