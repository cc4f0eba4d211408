// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: requests to the stw generic netlink family over libnl-genl-3.
 *
 * The socket asks for extended ACKs (NETLINK_EXT_ACK) without the echoed
 * request (NETLINK_CAP_ACK). A request waits for its ACK (or the end of a
 * dump); the error callback reads the errno and the extack TLVs: the
 * message, the offending attribute (named from the request we sent), a
 * missing attribute and the policy's range.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>

#include "attrs.h"
#include "nl.h"
#include "stwctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#define STW_NL_RCVBUF	(32 << 20)	/* for a burst of events */

struct call_ctx {
	struct stw_nl *nl;
	struct nl_msg *sent;	/* to name the attribute an error points at */
	stw_reply_fn fn;
	void *arg;
	struct stw_err *e;
	bool done;
	bool bad;		/* a reply did not parse */
};

void stw_err_local(struct stw_err *e, int err, const char *msg)
{
	memset(e, 0, sizeof(*e));
	e->err = err;
	e->local = true;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

int stw_nl_open(struct stw_nl *nl, const char *cmd)
{
	int one = 1, fd, ret;

	memset(nl, 0, sizeof(*nl));
	nl->cmd = cmd;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		fprintf(stderr, "stwctl: %s: out of memory\n", cmd);
		return EXIT_FAILED;
	}
	ret = genl_connect(nl->sk);
	if (ret) {
		fprintf(stderr,
			"stwctl: %s: cannot open a generic netlink socket: %s\n",
			cmd, nl_geterror(ret));
		goto err_free;
	}
	fd = nl_socket_get_fd(nl->sk);
	/* A hold bound to this socket must not live on in a child. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Best effort: without them errors just lose their message. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_enable_msg_peek(nl->sk);
	nl_socket_set_msg_buf_size(nl->sk, 32768);

	nl->family = genl_ctrl_resolve(nl->sk, STW_GENL_NAME);
	if (nl->family < 0) {
		if (nl->family == -NLE_OBJ_NOTFOUND) {
			fputs("stwctl: the stw module is not loaded (generic netlink family \"stw\" not found); load it with: insmod stw.ko\n",
			      stderr);
			stw_nl_close(nl);
			return EXIT_NOMODULE;
		}
		fprintf(stderr,
			"stwctl: %s: cannot resolve the generic netlink family \"%s\": %s\n",
			cmd, STW_GENL_NAME, nl_geterror(nl->family));
		goto err_free;
	}
	return 0;

err_free:
	stw_nl_close(nl);
	return EXIT_FAILED;
}

void stw_nl_close(struct stw_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);	/* closes it: socket holds go */
	nl->sk = NULL;
}

struct nl_msg *stw_nl_msg(struct stw_nl *nl, uint8_t cmd, int flags,
			  size_t size)
{
	size_t max = NLMSG_SPACE(GENL_HDRLEN + size) + 64;
	struct nl_msg *msg;

	msg = nlmsg_alloc_size(max < 4096 ? 4096 : max);
	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags, cmd, STW_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int stw_nl_nomem(const struct stw_nl *nl)
{
	fprintf(stderr, "stwctl: %s: out of memory building the request\n",
		nl->cmd);
	return EXIT_FAILED;
}

/* ---- naming what an extended ACK points at ---- */

static void child_name(int parent, int type, char *buf, size_t len)
{
	const char *name = NULL;

	if (parent == STW_A_SPAWN)
		name = stw_spawn_attr_name(type);
	else if (parent == STW_A_VM_IDS && type == STW_A_VM_ID)
		name = "STW_A_VM_ID";
	if (name)
		snprintf(buf, len, "%s in %s", name, stw_attr_name(parent));
	else
		snprintf(buf, len, "type %d in %s", type,
			 stw_attr_name(parent) ?: "a nest");
}

/* The requests' nests: SPAWN's counts and KILL's ids. */
static bool is_nest(int type)
{
	return type == STW_A_SPAWN || type == STW_A_VM_IDS;
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
		if (offs != start && is_nest(nla_type(a))) {
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
		return;
	}
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "type %u", type);
}

static void parse_policy(struct nlattr *nest, struct stw_err *e)
{
	struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];

	if (nla_parse_nested(tb, NL_POLICY_TYPE_ATTR_MAX, nest, NULL))
		return;
	if (tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] &&
	    tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U] &&
	    nla_len(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]) == 8 &&
	    nla_len(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]) == 8) {
		e->has_range = true;
		e->min = nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
		e->max = nla_get_u64(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
	}
}

static uint32_t tlv_u32(struct nlattr *a)
{
	return nla_len(a) >= 4 ? nla_get_u32(a) : 0;
}

/* The extack TLVs start OFF bytes into the payload of NLH. */
static void parse_ext_ack(struct call_ctx *c, struct nlmsghdr *nlh,
			  size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int datalen = nlmsg_datalen(nlh);
	struct stw_err *e = c->e;
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || datalen <= 0 ||
	    off >= (size_t)datalen)
		return;
	len = datalen - (int)off;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + off), len,
		      NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(e->msg, tb[NLMSGERR_ATTR_MSG], sizeof(e->msg));
	if (tb[NLMSGERR_ATTR_OFFS] && c->sent)
		name_offset(c->sent, tlv_u32(tb[NLMSGERR_ATTR_OFFS]),
			    e->attr, sizeof(e->attr));
	if (tb[NLMSGERR_ATTR_MISS_TYPE] && c->sent)
		name_missing(c->sent, tlv_u32(tb[NLMSGERR_ATTR_MISS_TYPE]),
			     tb[NLMSGERR_ATTR_MISS_NEST] ?
			     tlv_u32(tb[NLMSGERR_ATTR_MISS_NEST]) : 0,
			     e->missing, sizeof(e->missing));
	if (tb[NLMSGERR_ATTR_POLICY])
		parse_policy(tb[NLMSGERR_ATTR_POLICY], e);
}

/* ---- callbacks ---- */

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[STW_A_MAX + 1];
	struct call_ctx *c = arg;
	struct genlmsghdr *gh;
	struct stw_msg m;

	if (nlh->nlmsg_type != c->nl->family)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, STW_A_MAX, stw_policy)) {
		c->bad = true;
		return NL_SKIP;
	}
	gh = genlmsg_hdr(nlh);
	m.cmd = gh->cmd;
	m.tb = tb;
	m.attrs = genlmsg_attrdata(gh, 0);
	m.len = genlmsg_attrlen(gh, 0);
	if (c->fn && c->fn(&m, c->arg))
		c->bad = true;
	return NL_OK;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct call_ctx *c = arg;

	(void)msg;
	c->done = true;
	return NL_STOP;
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	/* libnl hands us the payload of the NLMSG_ERROR message. */
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct call_ctx *c = arg;
	size_t off = sizeof(*err);

	(void)nla;
	c->e->err = err->error < 0 ? -err->error : err->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    err->msg.nlmsg_len >= NLMSG_HDRLEN)
		off += NLMSG_ALIGN(err->msg.nlmsg_len - NLMSG_HDRLEN);
	parse_ext_ack(c, nlh, off);
	c->done = true;
	return NL_STOP;
}

/* The end of a dump: NLMSG_DONE carries the dump's error, if any. */
static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct call_ctx *c = arg;
	int err;

	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0) {
			c->e->err = -err;
			parse_ext_ack(c, nlh, NLMSG_ALIGN(sizeof(int)));
		}
	}
	c->done = true;
	return NL_STOP;
}

static int seq_ok_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* ---- requests ---- */

int stw_nl_call(struct stw_nl *nl, struct nl_msg *msg, stw_reply_fn fn,
		void *arg, struct stw_err *e)
{
	struct call_ctx c = {
		.nl = nl, .sent = msg, .fn = fn, .arg = arg, .e = e,
	};
	struct nl_cb *cb;
	char buf[160];
	int ret;

	memset(e, 0, sizeof(*e));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		stw_err_local(e, ENOMEM, "out of memory");
		goto out_free_msg;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &c);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &c);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &c);
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, &c);

	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		snprintf(buf, sizeof(buf), "sending the request: %s",
			 nl_geterror(ret));
		stw_err_local(e, EIO, buf);
		goto out_put_cb;
	}
	while (!c.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !c.done) {
			snprintf(buf, sizeof(buf), "receiving the reply: %s",
				 nl_geterror(ret));
			stw_err_local(e, EIO, buf);
			break;
		}
	}
	if (!e->err && c.bad)
		stw_err_local(e, EPROTO, "malformed reply from the kernel");

out_put_cb:
	nl_cb_put(cb);
out_free_msg:
	nlmsg_free(msg);
	return e->err ? -1 : 0;
}

int stw_nl_fail(const struct stw_nl *nl, const struct stw_err *e)
{
	if (e->local) {
		fprintf(stderr, "stwctl: %s: %s\n", nl->cmd, e->msg);
		return EXIT_FAILED;
	}
	fprintf(stderr, "stwctl: %s: %s", nl->cmd, strerror(e->err));
	if (e->msg[0])
		fprintf(stderr, ": %s", e->msg);
	if (e->attr[0])
		fprintf(stderr, " (attribute %s)", e->attr);
	if (e->missing[0])
		fprintf(stderr, " (missing attribute %s)", e->missing);
	if (e->has_range)
		fprintf(stderr, " (valid range %llu..%llu)",
			(unsigned long long)e->min,
			(unsigned long long)e->max);
	if (e->err == EPERM)
		fputs(" (needs CAP_NET_ADMIN)", stderr);
	fputc('\n', stderr);
	return e->err == ETIMEDOUT ? EXIT_TIMEDOUT : EXIT_FAILED;
}

/* ---- events ---- */

int stw_nl_join_events(struct stw_nl *nl)
{
	int fd = nl_socket_get_fd(nl->sk);
	int size = STW_NL_RCVBUF;
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, STW_GENL_NAME, STW_MCGRP_EVENTS);
	if (grp < 0) {
		fprintf(stderr,
			"stwctl: %s: cannot resolve the multicast group \"%s\": %s\n",
			nl->cmd, STW_MCGRP_EVENTS, nl_geterror(grp));
		return EXIT_FAILED;
	}
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret) {
		fprintf(stderr, "stwctl: %s: cannot join \"%s\": %s\n",
			nl->cmd, STW_MCGRP_EVENTS, nl_geterror(ret));
		return EXIT_FAILED;
	}
	/* A burst of VM events must not overrun us; root may go past rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	nl_socket_set_nonblocking(nl->sk);
	return 0;
}

int stw_nl_events(struct stw_nl *nl, stw_reply_fn fn, void *arg)
{
	struct stw_err e;
	struct call_ctx c = { .nl = nl, .fn = fn, .arg = arg, .e = &e };
	struct nl_cb *cb;
	int ret;

	memset(&e, 0, sizeof(e));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &c);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_ok_cb, NULL);
	ret = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (ret == -NLE_NOMEM)	/* ENOBUFS: the socket overran */
		return -ENOBUFS;
	if (ret < 0)
		return -EIO;
	return c.bad ? -EPROTO : 0;
}

int stw_nl_fd(const struct stw_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}
