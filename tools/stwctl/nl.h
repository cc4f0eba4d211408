/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: talking to the stw generic netlink family over libnl-genl-3:
 * one socket per run, requests that wait for their ACK, extended ACK
 * messages, and the events multicast group.
 */
#ifndef STWCTL_NL_H
#define STWCTL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "uapi/stw.h"

struct stw_nl {
	struct nl_sock *sk;
	int family;
	const char *cmd;	/* the subcommand, for messages */
};

/* What went wrong with a request. */
struct stw_err {
	int err;		/* positive errno; 0: the request succeeded */
	bool local;		/* failed in user space; msg says how */
	char msg[256];		/* the extack message (or the local failure) */
	char attr[64];		/* attribute the kernel pointed at, or "" */
	char missing[64];	/* attribute the kernel missed, or "" */
	bool has_range;		/* the policy of the bad attribute */
	uint64_t min, max;
};

/* A message of the family, as the reply callbacks see it. */
struct stw_msg {
	uint8_t cmd;
	struct nlattr **tb;	/* top-level attributes, checked against stw_policy */
	struct nlattr *attrs;	/* all of them in order, for repeated ones */
	int len;
};

/*
 * Called for each reply message of the family. Returns 0, or -1 if the
 * message is malformed (the request then fails with EPROTO).
 */
typedef int (*stw_reply_fn)(const struct stw_msg *m, void *arg);

/*
 * Opens a socket and resolves the family. Returns 0, or an exit code
 * after printing why (3 if the module is not loaded).
 */
int stw_nl_open(struct stw_nl *nl, const char *cmd);
void stw_nl_close(struct stw_nl *nl);

/* A request for CMD with room for SIZE bytes of attributes; NULL: ENOMEM. */
struct nl_msg *stw_nl_msg(struct stw_nl *nl, uint8_t cmd, int flags,
			  size_t size);

/*
 * Sends MSG (and frees it), feeds the replies to FN and waits for the
 * ACK, or for the end of a dump. Returns 0, or -1 with *E filled in.
 */
int stw_nl_call(struct stw_nl *nl, struct nl_msg *msg, stw_reply_fn fn,
		void *arg, struct stw_err *e);

/*
 * Prints "stwctl: CMD: <strerror>: <extack message>" and hints; returns
 * the exit code (4 for ETIMEDOUT, else 1).
 */
int stw_nl_fail(const struct stw_nl *nl, const struct stw_err *e);
void stw_err_local(struct stw_err *e, int err, const char *msg);

/* Prints that building a request failed; returns 1. */
int stw_nl_nomem(const struct stw_nl *nl);

/*
 * Events: joins the "events" group (returns 0 or an exit code), then
 * stw_nl_events() takes what is queued without blocking and feeds it to
 * FN. It returns 0, -ENOBUFS if events were lost, or another -errno.
 */
int stw_nl_join_events(struct stw_nl *nl);
int stw_nl_events(struct stw_nl *nl, stw_reply_fn fn, void *arg);
int stw_nl_fd(const struct stw_nl *nl);

#endif /* STWCTL_NL_H */
