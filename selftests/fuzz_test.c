// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: random and malformed messages to the "stw" family, as root and
 * as an unprivileged user, over a raw NETLINK_GENERIC socket so that every
 * byte is ours: command numbers 0..255 (weighted towards the real ones),
 * attribute types of this command, of others and random ones, lengths that
 * are 0, odd, too short, too long or lie about the size, nests of random
 * depth, truncated headers, several messages in one datagram, random
 * nlmsg_flags (NLM_F_DUMP & co.), genl version and reserved bytes, huge
 * SPAWN counts, KILL lists past STW_KILL_MAX ids, bad VM and hold ids; and,
 * between
 * them, short scripts of valid but odd requests (a VM that never polls and
 * stops that time out on it, leases of a millisecond, a dump abandoned
 * half-read, a KILL list of one id STW_KILL_MAX times, ...).
 *
 * A quarter of the messages are well-formed requests with valid, if odd,
 * values, so that the stream also walks stw's state machine: stops,
 * steps, leases, SPAWNs and KILLs in any order.
 *
 * The stream is deterministic for a seed: STW_FUZZ_SEED (default 1;
 * printed). STW_FUZZ_COUNT messages per test (default 25000, ~30 s of TCG
 * for both tests, for `make check`; `make fuzz` sends 100000, ~2.5 min).
 *
 * Nothing it sends may hang: every STOP and RUN_ONE it builds ends with a
 * short STW_A_TIMEOUT_MS, and the only VM that could make a stop wait (one
 * that never polls) lives only inside a script that kills it. Socket-bound
 * holds go when the socket is closed and reopened, every CHECK_EVERY
 * messages; the module is then asked for STATUS and must answer with no
 * invariant violated.
 *
 * Along the way the replies must say the truth: a KILL's STW_A_COUNT is
 * the number of distinct VMs it destroyed, and no command that does not
 * exist succeeds. (Acks are matched to what we sent by sequence number and
 * by the header the kernel copies back, since a message whose length lies
 * makes the kernel read our attributes as further messages.) Errors of
 * stw's commands without an extack message are counted and printed.
 *
 * Root: at the end every hold is released, the VMs left are exactly those
 * the fuzzer's SPAWNs created and its KILLs did not destroy (as told by the
 * replies), they all go with KILL_ALL, no VM thread is left, and a fresh
 * world stops and resumes cleanly.
 *
 * Unprivileged (uid 65534): every well-formed request but STATUS is
 * refused with EPERM, and the world is exactly as it was.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>

#include "kselftest_harness.h"
#include "stw_test.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK	12
#endif

#define DEFAULT_COUNT	25000		/* make fuzz: 100000 */
#define CHECK_EVERY	1000		/* reopen the socket, check the module */
#define MAX_LIVE	64		/* more fuzz VMs than this: KILL_ALL */
#define MSG_MAX		(60 * 1024)	/* one datagram, at most */
#define BUF_SIZE	(MSG_MAX + 4096)
#define RCVBUF		(2 << 20)
#define MAX_IDS		256		/* VM ids the fuzzer remembers */
#define MAX_HOLD_IDS	64
#define SEQ_RING	4096
/*
 * Sequence numbers: a counter under a fixed top byte. A message of ours
 * whose length lies makes the kernel parse our attributes as messages too;
 * their acks carry whatever "sequence number" those bytes hold, and the
 * top byte (and the header copied into the ack) tells them apart.
 */
#define SEQ_BASE	0x5a000000U
#define SAFE_TIMEOUT_MS	200		/* the longest wait a request asks */

/*
 * The harness' time limit per test: a fixed part plus a budget per message
 * generous for TCG (measured: see the report in the commit that added this
 * test), set before the harness starts.
 */
#define FUZZ_BASE_S	120
#define FUZZ_US_PER_MSG	10000

/* What the fuzzer learned about a message it sent, by sequence number. */
struct sent {
	uint32_t seq;
	uint32_t len;		/* the header as sent, to match the ack's copy */
	uint16_t type, flags;
	int cmd;		/* -1: the kernel cannot see a genl command */
	bool admin_req;		/* a well-formed request for an admin command */
	bool status_req;	/* a well-formed STATUS request */
	unsigned int index;	/* which message of the stream */
};

struct fuzz_stats {
	unsigned long msgs, datagrams, send_err, send_errno[140];
	unsigned long acks, ack_errno[140], ack_ok_cmd[256], replies;
	unsigned long dumps_done, enobufs, scripts, reopens, kill_alls;
	unsigned long max_send_us;
	unsigned int max_send_index;
	int max_send_cmd;
	/* Errors of stw's commands that came without an extack message. */
	unsigned long no_extack[STW_CMD_QUEUE_JOB + 1][140];
	unsigned int no_extack_index[STW_CMD_QUEUE_JOB + 1][140];
};

struct fuzzer {
	uint64_t x;			/* the stream's state */
	bool root;
	int fd;
	bool ext_ack;			/* NETLINK_EXT_ACK is on */
	bool cap_ack;			/* NETLINK_CAP_ACK is on */
	uint16_t family;
	uint32_t events_grp;		/* the "events" group, 0: unknown */
	uint32_t seq;
	unsigned int index;		/* messages sent */

	/* What replies told us. */
	uint32_t ids[MAX_IDS];		/* live VM ids, most recent */
	unsigned int nids;
	uint32_t holds[MAX_HOLD_IDS];
	unsigned int nholds;
	unsigned long created, destroyed;	/* VMs, per the replies */
	bool lost;			/* a reply may have been dropped */

	struct sent ring[SEQ_RING];
	struct fuzz_stats st;

	/* The first thing that went wrong. */
	char fail[256];

	uint8_t *buf;			/* the datagram being built */
	size_t len;
	size_t attr_offs[512];		/* attribute headers written */
	unsigned int nattrs;
	uint8_t *rbuf;			/* replies */
};

/* ---- randomness ---- */

static uint64_t rnd64(struct fuzzer *f)
{
	f->x ^= f->x >> 12;
	f->x ^= f->x << 25;
	f->x ^= f->x >> 27;
	return f->x * 2685821657736338717ULL;
}

static uint32_t rnd32(struct fuzzer *f)
{
	return (uint32_t)(rnd64(f) >> 32);
}

/* 0 .. n-1 */
static unsigned int rnd(struct fuzzer *f, unsigned int n)
{
	return n ? (unsigned int)(rnd64(f) >> 33) % n : 0;
}

/* true with probability pct % */
static bool chance(struct fuzzer *f, unsigned int pct)
{
	return rnd(f, 100) < pct;
}

static void rnd_bytes(struct fuzzer *f, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rnd32(f);
}

/* ---- building a datagram ---- */

static size_t room(struct fuzzer *f)
{
	return f->len < MSG_MAX ? MSG_MAX - f->len : 0;
}

static void *put(struct fuzzer *f, const void *d, size_t n)
{
	void *p;

	if (n > room(f))
		return NULL;
	p = f->buf + f->len;
	if (d)
		memcpy(p, d, n);
	else
		memset(p, 0, n);
	f->len += n;
	return p;
}

static void pad4(struct fuzzer *f)
{
	while (f->len & 3 && room(f))
		f->buf[f->len++] = 0;
}

/* An attribute header; its length is set by attr_end(). */
static ssize_t attr_begin(struct fuzzer *f, uint16_t type)
{
	struct nlattr *a;
	size_t off = f->len;

	a = put(f, NULL, NLA_HDRLEN);
	if (!a)
		return -1;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN;
	if (f->nattrs < ARRAY_SIZE(f->attr_offs))
		f->attr_offs[f->nattrs++] = off;
	return off;
}

static void attr_end(struct fuzzer *f, ssize_t off)
{
	struct nlattr *a;
	size_t n;

	if (off < 0)
		return;
	a = (struct nlattr *)(f->buf + off);
	n = f->len - off;
	a->nla_len = n > 0xffff ? 0xffff : n;	/* a nest too big lies */
	pad4(f);
}

static void put_attr(struct fuzzer *f, uint16_t type, const void *d,
		     size_t n)
{
	ssize_t off = attr_begin(f, type);

	if (off < 0)
		return;
	put(f, d, n);		/* if it does not fit: a bare header */
	attr_end(f, off);
}

static void put_u32(struct fuzzer *f, uint16_t type, uint32_t v)
{
	put_attr(f, type, &v, sizeof(v));
}

/* A payload of @n random bytes. */
static void put_random_attr(struct fuzzer *f, uint16_t type, size_t n)
{
	ssize_t off = attr_begin(f, type);
	uint8_t *p;

	if (off < 0)
		return;
	if (n > room(f))
		n = room(f);
	p = put(f, NULL, n);
	if (p)
		rnd_bytes(f, p, n);
	attr_end(f, off);
}

/* ---- values ---- */

static uint32_t live_id(struct fuzzer *f)
{
	return f->nids ? f->ids[rnd(f, f->nids)] : 1 + rnd(f, 64);
}

/*
 * A value for a u32 attribute: boundaries, garbage, and valid values, but
 * never a valid one that would make a request wait long or work hard.
 */
static uint32_t val_u32(struct fuzzer *f, int type)
{
	unsigned int r = rnd(f, 8);

	switch (type) {
	case STW_A_TIMEOUT_MS:
		switch (r) {
		case 0: return 0;
		case 1: return STW_TIMEOUT_MAX_MS + 1;
		case 2: return 0xffffffff;
		case 3: return rnd32(f) | 0x80000000;
		default: return 1 + rnd(f, SAFE_TIMEOUT_MS);
		}
	case STW_A_LEASE_MS:
		switch (r) {
		case 0: return 0;
		case 1: return STW_LEASE_MAX_MS + 1;
		case 2: return 0xffffffff;
		case 3: return rnd(f, 50) ? 1 : STW_LEASE_MAX_MS;
		default: return 1 + rnd(f, 3000);
		}
	case STW_A_POLLS:
	case STW_A_JOBS:
		switch (r) {
		case 0: return 0;
		case 1: return 1000001;
		case 2: return 0xffffffff;
		case 3: return rnd32(f) | 0x80000000;
		default: return 1 + rnd(f, type == STW_A_JOBS ? 5 : 1000);
		}
	case STW_A_VM_ID:
		switch (r) {
		case 0: return 0;
		case 1: return 0xffffffff;
		case 2: return rnd32(f);
		case 3: return 1 + rnd(f, 100000);
		default: return live_id(f);
		}
	case STW_A_HOLD_ID:
		switch (r) {
		case 0: return 0;
		case 1: return 0xffffffff;
		case 2: return rnd32(f);
		default:
			return f->nholds ? f->holds[rnd(f, f->nholds)] :
					   1 + rnd(f, 100);
		}
	}
	switch (r) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 0xffffffff;
	default: return rnd32(f);
	}
}

/* A SPAWN count: small valid ones, or ones the range check refuses. */
static uint32_t spawn_count(struct fuzzer *f, bool nopoll)
{
	switch (rnd(f, 8)) {
	case 0: return STW_SPAWN_MAX + 1;
	case 1: return 0xffffffff;
	case 2: return STW_SPAWN_MAX + 1 + rnd32(f) % 0x7fffffff;
	case 3: return 0;
	default: return nopoll ? 0 : rnd(f, 3);
	}
}

/* Strict validation wants NLA_F_NESTED on a nest: mostly there. */
static uint16_t nest_type(struct fuzzer *f, uint16_t type)
{
	return chance(f, 90) ? type | NLA_F_NESTED : type;
}

static void gen_spawn_nest(struct fuzzer *f, uint16_t type)
{
	ssize_t off = attr_begin(f, nest_type(f, type));
	unsigned int i, n;

	if (chance(f, 10)) {
		/* Each count valid, their sum too big: ERANGE, nothing made. */
		put_u32(f, STW_SPAWN_A_ACTIVE,
			STW_SPAWN_MAX / 2 + 1 + rnd(f, STW_SPAWN_MAX / 2));
		put_u32(f, STW_SPAWN_A_IDLE,
			STW_SPAWN_MAX / 2 + 1 + rnd(f, STW_SPAWN_MAX / 2));
		attr_end(f, off);
		return;
	}
	n = rnd(f, 6);
	for (i = 0; i < n; i++) {
		unsigned int t = rnd(f, STW_SPAWN_A_MAX + 3);

		switch (rnd(f, 10)) {
		case 0:	/* wrong length */
			put_random_attr(f, t, rnd(f, 9));
			break;
		case 1:	/* a flag bit on the type */
			put_u32(f, t | (rnd(f, 2) ? NLA_F_NESTED :
					NLA_F_NET_BYTEORDER),
				spawn_count(f, t == STW_SPAWN_A_NOPOLL));
			break;
		default:
			put_u32(f, t, spawn_count(f, t == STW_SPAWN_A_NOPOLL));
		}
	}
	attr_end(f, off);
}

/*
 * STW_A_VM_ID repeated at the top level: a few ids, or as many as a KILL
 * takes and more; good ones, bad ones, other attributes among them.
 */
static void gen_id_list(struct fuzzer *f)
{
	static const unsigned int sizes[] = { 0, 1, 2, 3, 5, 17, STW_KILL_MAX,
					      STW_KILL_MAX + 1, 5000 };
	unsigned int i, n = sizes[rnd(f, ARRAY_SIZE(sizes))];
	unsigned int mode = rnd(f, 4);

	for (i = 0; i < n && room(f) >= 8; i++) {
		if (chance(f, 2)) {
			put_random_attr(f, rnd(f, 8), rnd(f, 9));
			continue;
		}
		switch (mode) {
		case 0:	/* the live ones */
			put_u32(f, STW_A_VM_ID, live_id(f));
			break;
		case 1:	/* one id, again and again */
			put_u32(f, STW_A_VM_ID, f->nids ? f->ids[0] : 1);
			break;
		default:
			put_u32(f, STW_A_VM_ID, val_u32(f, STW_A_VM_ID));
		}
	}
}

static void gen_random_attrs(struct fuzzer *f, int depth);

static void gen_nest(struct fuzzer *f, uint16_t type, int depth)
{
	ssize_t off = attr_begin(f, nest_type(f, type));

	if (depth < 40)
		gen_random_attrs(f, depth + 1);
	attr_end(f, off);
}

enum kind { K_U32, K_FLAG, K_NEST, K_OTHER };

static enum kind attr_kind(int type)
{
	switch (type) {
	case STW_A_VM_ID: case STW_A_TIMEOUT_MS: case STW_A_LEASE_MS:
	case STW_A_HOLD_ID: case STW_A_POLLS: case STW_A_JOBS:
		return K_U32;
	case STW_A_KEEP_WAITING: case STW_A_FORCE: case STW_A_KILL_ALL:
	case STW_A_RESUMED:
		return K_FLAG;
	case STW_A_WORLD: case STW_A_VM: case STW_A_VM_IDS: case STW_A_SPAWN:
	case STW_A_CYCLE: case STW_A_LAGGARDS:
		return K_NEST;
	}
	return K_OTHER;
}

/* One attribute of @type in its proper form (values as val_u32 says). */
static void gen_proper(struct fuzzer *f, int type, int depth)
{
	switch (attr_kind(type)) {
	case K_U32:
		if (type == STW_A_VM_ID && chance(f, 30))
			gen_id_list(f);
		else
			put_u32(f, type, val_u32(f, type));
		break;
	case K_FLAG:
		put_attr(f, type, NULL, 0);
		break;
	case K_NEST:
		if (type == STW_A_SPAWN)
			gen_spawn_nest(f, type);
		else
			gen_nest(f, type, depth);
		break;
	default:
		put_random_attr(f, type, rnd(f, 2) ? 0 : 8);
	}
}

/* The attributes each command takes. */
static const uint8_t cmd_attrs[][4] = {
	[STW_CMD_STOP] = { STW_A_TIMEOUT_MS, STW_A_KEEP_WAITING,
			   STW_A_LEASE_MS },
	[STW_CMD_RESUME] = { STW_A_HOLD_ID, STW_A_FORCE },
	[STW_CMD_RUN_ONE] = { STW_A_VM_ID, STW_A_POLLS, STW_A_TIMEOUT_MS },
	[STW_CMD_SPAWN] = { STW_A_SPAWN },
	[STW_CMD_KILL] = { STW_A_VM_ID, STW_A_KILL_ALL },
	[STW_CMD_QUEUE_JOB] = { STW_A_VM_ID, STW_A_JOBS, STW_A_POLLS },
};

static int cmd_attr(struct fuzzer *f, int cmd)
{
	const uint8_t *a;
	unsigned int n = 0;

	if (cmd <= 0 || cmd >= (int)ARRAY_SIZE(cmd_attrs))
		return 1 + rnd(f, STW_A_MAX);
	a = cmd_attrs[cmd];
	while (n < 4 && a[n])
		n++;
	return n ? a[rnd(f, n)] : 1 + rnd(f, STW_A_MAX);
}

/* Anything: random types, lengths, nests, under no command in particular. */
static void gen_random_attrs(struct fuzzer *f, int depth)
{
	unsigned int i, n = rnd(f, depth ? 4 : 8);

	for (i = 0; i < n && room(f) > 64; i++) {
		unsigned int r = rnd(f, 100);
		uint16_t type = rnd(f, STW_A_MAX + 4);

		if (r < 35)
			gen_proper(f, type, depth);
		else if (r < 55)
			put_random_attr(f, type, rnd(f, 12));
		else if (r < 70 && depth < 40)
			gen_nest(f, type, depth);
		else if (r < 80)
			put_random_attr(f, type | (rnd(f, 2) ? NLA_F_NESTED :
						   NLA_F_NET_BYTEORDER),
					rnd(f, 9));
		else if (r < 95)
			put_random_attr(f, rnd32(f), rnd(f, 64));
		else
			put_random_attr(f, type, 256 + rnd(f, 4096));
	}
}

/* The attributes of a message for @cmd: mostly its own, some not. */
static void gen_cmd_attrs(struct fuzzer *f, int cmd)
{
	unsigned int i, n = rnd(f, 10) ? rnd(f, 5) : rnd(f, 24);

	for (i = 0; i < n && room(f) > 64; i++) {
		unsigned int r = rnd(f, 100);

		if (r < 55)
			gen_proper(f, cmd_attr(f, cmd), 0);
		else if (r < 70)
			gen_proper(f, 1 + rnd(f, STW_A_MAX), 0);
		else if (r < 80)	/* its own type, a wrong length */
			put_random_attr(f, cmd_attr(f, cmd),
					(size_t[]){ 0, 1, 2, 3, 5, 7, 8, 12 }
					[rnd(f, 8)]);
		else
			gen_random_attrs(f, 1);
	}
}

/* A command number: the real ones mostly, the others too. */
static int pick_cmd(struct fuzzer *f)
{
	unsigned int r = rnd(f, 100);

	if (r < 75)
		return STW_CMD_STATUS + rnd(f, STW_CMD_QUEUE_JOB);
	if (r < 85)
		return STW_CMD_STOPPED_NTF + rnd(f, 5);
	if (r < 88)
		return STW_CMD_UNSPEC;
	return rnd(f, 256);
}

static uint16_t pick_flags(struct fuzzer *f)
{
	uint16_t fl = 0;

	if (!chance(f, 4))
		fl |= NLM_F_REQUEST;
	if (chance(f, 50))
		fl |= NLM_F_ACK;
	if (chance(f, 12))
		fl |= NLM_F_DUMP;
	else if (chance(f, 5))
		fl |= rnd(f, 2) ? NLM_F_ROOT : NLM_F_MATCH;
	if (chance(f, 5))
		fl |= NLM_F_ECHO;
	if (chance(f, 5))
		fl |= NLM_F_REPLACE | NLM_F_EXCL | NLM_F_CREATE | NLM_F_APPEND;
	if (chance(f, 3))
		fl |= (uint16_t)rnd32(f);
	return fl;
}

static struct sent *ring_slot(struct fuzzer *f, uint32_t seq)
{
	return &f->ring[seq % SEQ_RING];
}

static uint32_t next_seq(struct fuzzer *f)
{
	return SEQ_BASE | (++f->seq & 0xffffff);
}

/*
 * The genl header check of the kernel (genl_header_check(), before the
 * permission check): reserved is 0 and no flag but the core's is set.
 */
static bool header_ok(const struct nlmsghdr *nlh, const struct genlmsghdr *g)
{
	uint16_t fl = nlh->nlmsg_flags;

	if (g->reserved)
		return false;
	if ((fl & NLM_F_DUMP) == NLM_F_DUMP)
		fl &= ~NLM_F_DUMP;
	return !(fl & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO));
}

/*
 * One message into the datagram: its header, its genl header, its
 * attributes, then maybe some damage. Returns false if it did not fit.
 */
static bool gen_message(struct fuzzer *f)
{
	size_t start = f->len, body;
	struct genlmsghdr *g;
	struct nlmsghdr *nlh;
	struct sent *s;
	uint32_t nlen;
	int cmd = pick_cmd(f);
	bool safe_timeout;

	if (room(f) < NLMSG_HDRLEN + GENL_HDRLEN + 64)
		return false;
	nlh = put(f, NULL, NLMSG_HDRLEN);
	nlh->nlmsg_type = f->family;
	if (chance(f, 2))
		nlh->nlmsg_type = rnd(f, NLMSG_MIN_TYPE);	/* control */
	nlh->nlmsg_flags = pick_flags(f);
	nlh->nlmsg_seq = next_seq(f);
	nlh->nlmsg_pid = chance(f, 3) ? rnd32(f) : 0;
	g = put(f, NULL, GENL_HDRLEN);
	g->cmd = cmd;
	g->version = chance(f, 90) ? STW_GENL_VERSION : rnd(f, 256);
	g->reserved = chance(f, 90) ? 0 : (uint16_t)rnd32(f);
	body = f->len;

	f->nattrs = 0;
	if (chance(f, 80))
		gen_cmd_attrs(f, cmd);
	else if (chance(f, 50))
		gen_random_attrs(f, 0);
	else
		put_random_attr(f, rnd32(f), rnd(f, 600));	/* whatever */

	/* Never a long wait: STOP and RUN_ONE end with a short timeout. */
	safe_timeout = cmd == STW_CMD_STOP || cmd == STW_CMD_RUN_ONE;
	if (safe_timeout)
		put_u32(f, STW_A_TIMEOUT_MS, 1 + rnd(f, SAFE_TIMEOUT_MS));

	/* Damage. */
	if (chance(f, 8) && f->nattrs) {
		/* An attribute lies about its length. */
		struct nlattr *a = (struct nlattr *)
				   (f->buf + f->attr_offs[rnd(f, f->nattrs)]);
		static const uint16_t lies[] = { 0, 1, 2, 3, 4, 5, 0xffff,
						 0x8000, 7 };

		a->nla_len = rnd(f, 3) ? lies[rnd(f, ARRAY_SIZE(lies))] :
					 a->nla_len + 1 + rnd(f, 64);
	}
	if (chance(f, 4) && f->len > body) {
		/* A random byte of the attributes flipped. */
		f->buf[body + rnd(f, f->len - body)] ^= 1 << rnd(f, 8);
	}
	if (chance(f, 4) && f->len > body)	/* cut short */
		f->len = body + rnd(f, f->len - body);

	nlen = f->len - start;
	switch (rnd(f, 40)) {
	case 0: nlen = rnd(f, NLMSG_HDRLEN); break;		/* too short */
	case 1: nlen = NLMSG_HDRLEN + rnd(f, GENL_HDRLEN); break;
	case 2: nlen += 1 + rnd(f, 4096); break;		/* too long */
	case 3: nlen = rnd32(f); break;
	case 4: if (nlen > body - start) nlen -= 1 + rnd(f, nlen - (body - start)); break;
	}
	nlh->nlmsg_len = nlen;

	s = ring_slot(f, nlh->nlmsg_seq);
	memset(s, 0, sizeof(*s));
	s->seq = nlh->nlmsg_seq;
	s->len = nlen;
	s->type = nlh->nlmsg_type;
	s->flags = nlh->nlmsg_flags;
	s->index = f->index;
	s->cmd = -1;
	/*
	 * What the kernel sees, when the header is whole and it is the only
	 * or the first message of the datagram (the next ones are checked
	 * against a length that may lie).
	 */
	if (start == 0 && nlen >= NLMSG_HDRLEN + GENL_HDRLEN &&
	    nlen <= f->len && nlh->nlmsg_type == f->family &&
	    (nlh->nlmsg_flags & NLM_F_REQUEST) && header_ok(nlh, g)) {
		s->cmd = cmd;
		s->admin_req = cmd >= STW_CMD_STOP && cmd <= STW_CMD_QUEUE_JOB;
		s->status_req = cmd == STW_CMD_STATUS;
	}
	/* The next message starts where this one says it ends, aligned. */
	if (nlen >= NLMSG_HDRLEN && start + NLMSG_ALIGN(nlen) <= f->len)
		f->len = start + NLMSG_ALIGN(nlen);
	else
		pad4(f);
	return true;
}

/* ---- talking to the kernel ---- */

static int fuzz_fail(struct fuzzer *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->fail[0])
		return -1;
	n = snprintf(f->fail, sizeof(f->fail), "message %u (seed stream): ",
		     f->index);
	va_start(ap, fmt);
	vsnprintf(f->fail + n, sizeof(f->fail) - n, fmt, ap);
	va_end(ap);
	return -1;
}

static void remember_id(struct fuzzer *f, uint32_t id)
{
	if (f->nids < MAX_IDS) {
		f->ids[f->nids++] = id;
	} else {
		memmove(f->ids, f->ids + 1, (MAX_IDS - 1) * sizeof(f->ids[0]));
		f->ids[MAX_IDS - 1] = id;
	}
}

static void forget_id(struct fuzzer *f, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < f->nids; i++) {
		if (f->ids[i] == id) {
			f->ids[i] = f->ids[--f->nids];
			return;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The ids of a SPAWN or KILL reply. A KILL may have named an id more than
 * once: it is destroyed once, and STW_A_COUNT must say so.
 */
static void learn_ids(struct fuzzer *f, struct nlmsghdr *nlh,
		      const struct nlattr *count, bool born)
{
	static uint32_t ids[STW_SPAWN_MAX + STW_KILL_MAX];
	const struct nlattr *a;
	unsigned int n = 0, uniq = 0, i;
	int rem;

	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		if (nla_type(a) != STW_A_VM_ID || nla_len(a) != 4)
			continue;
		if (n < ARRAY_SIZE(ids))
			ids[n++] = nla_get_u32(a);
	}
	qsort(ids, n, sizeof(ids[0]), cmp_u32);
	for (i = 0; i < n; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		uniq++;
		if (born)
			remember_id(f, ids[i]);
		else
			forget_id(f, ids[i]);
	}
	if (born)
		f->created += uniq;
	else
		f->destroyed += uniq;
	if (count && nla_len(count) == 4 &&
	    nla_get_u32(count) <= ARRAY_SIZE(ids) &&
	    nla_get_u32(count) != uniq)
		fuzz_fail(f, "%s reply: STW_A_COUNT %u, but %u distinct ids (%u listed)",
			  born ? "SPAWN" : "KILL", nla_get_u32(count), uniq, n);
}

static void learn_reply(struct fuzzer *f, struct nlmsghdr *nlh)
{
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct nlattr *tb[STW_A_MAX + 1];
	struct nlattr *c[STW_CYCLE_A_MAX + 1];

	f->st.replies++;
	if (nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return;
	if (nlmsg_parse(nlh, GENL_HDRLEN, tb, STW_A_MAX, NULL))
		return;
	switch (g->cmd) {
	case STW_CMD_SPAWN:
	case STW_CMD_KILL:
		if (tb[STW_A_COUNT])
			learn_ids(f, nlh, tb[STW_A_COUNT],
				  g->cmd == STW_CMD_SPAWN);
		break;
	case STW_CMD_STOP:
		if (tb[STW_A_CYCLE] &&
		    !nla_parse_nested(c, STW_CYCLE_A_MAX, tb[STW_A_CYCLE],
				      NULL) &&
		    c[STW_CYCLE_A_HOLD_ID] && f->nholds < MAX_HOLD_IDS)
			f->holds[f->nholds++] = nla_get_u32(c[STW_CYCLE_A_HOLD_ID]);
		break;
	}
}

/* The ack carries NLMSGERR_ATTR_MSG. */
static bool ack_has_msg(struct fuzzer *f, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;
	const uint8_t *p;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return false;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	p = (const uint8_t *)NLMSG_DATA(nlh) + NLMSG_ALIGN(off);
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			return true;
		p += NLA_ALIGN(a->nla_len);
	}
	return false;
}

/* An ack: count it; an unprivileged user must get EPERM for admin cmds. */
static void learn_ack(struct fuzzer *f, struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	struct sent *s;
	int err;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return;
	err = -e->error;
	f->st.acks++;
	if (err >= 0 && err < (int)ARRAY_SIZE(f->st.ack_errno))
		f->st.ack_errno[err]++;
	s = ring_slot(f, nlh->nlmsg_seq);
	if (s->seq != nlh->nlmsg_seq || s->cmd < 0 ||
	    e->msg.nlmsg_seq != s->seq || e->msg.nlmsg_len != s->len ||
	    e->msg.nlmsg_type != s->type || e->msg.nlmsg_flags != s->flags)
		return;
	if (!err)
		f->st.ack_ok_cmd[s->cmd]++;
	if (!err && (s->cmd < STW_CMD_STATUS || s->cmd > STW_CMD_QUEUE_JOB)) {
		char hex[3 * 48 + 1];
		unsigned int i;

		for (i = 0; i < 48 && i < f->len; i++)
			snprintf(hex + 3 * i, 4, "%02x ", f->buf[i]);
		fuzz_fail(f, "cmd %d, no such command, succeeded (message %u): %s",
			  s->cmd, s->index, hex);
	}
	/*
	 * "Every bad request gets an errno and an extack message": stw's
	 * own errors, that is; the genl core's EPERM and EOPNOTSUPP (unknown
	 * command) carry none.
	 */
	if (err > 0 && err < 140 && f->ext_ack && s->cmd >= STW_CMD_STATUS &&
	    s->cmd <= STW_CMD_QUEUE_JOB && err != EPERM && err != EOPNOTSUPP &&
	    !ack_has_msg(f, nlh)) {
		if (!f->st.no_extack[s->cmd][err])
			f->st.no_extack_index[s->cmd][err] = s->index;
		f->st.no_extack[s->cmd][err]++;
	}
	/*
	 * Refused either way: 6.12's genl core answers a dump request for a
	 * do-only command with EOPNOTSUPP before it looks at permissions,
	 * 6.1's with EPERM. Anything else (success above all) is a failure.
	 */
	if (!f->root && s->admin_req && err != EPERM && err != EOPNOTSUPP)
		fuzz_fail(f, "as uid %d, cmd %d (message %u) got %s, not EPERM",
			  getuid(), s->cmd, s->index, strerror(err));
}

/* Read whatever came back, without waiting; dumps go on as we read. */
/* NLMSG_OK() without its signed/unsigned comparison (clang warns). */
static bool nlmsg_fits(const struct nlmsghdr *nlh, int rem)
{
	return rem >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned int)rem;
}

static void drain(struct fuzzer *f, int wait_ms)
{
	for (;;) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t n;
		int rem;

		if (wait_ms && poll(&p, 1, wait_ms) <= 0)
			return;
		n = recv(f->fd, f->rbuf, BUF_SIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				f->st.enobufs++;
				f->lost = true;
				continue;
			}
			return;		/* EAGAIN: all read */
		}
		rem = n;
		for (nlh = (struct nlmsghdr *)f->rbuf; nlmsg_fits(nlh, rem);
		     nlh = NLMSG_NEXT(nlh, rem)) {
			if (nlh->nlmsg_type == NLMSG_ERROR)
				learn_ack(f, nlh);
			else if (nlh->nlmsg_type == NLMSG_DONE)
				f->st.dumps_done++;
			else if (nlh->nlmsg_type == f->family)
				learn_reply(f, nlh);
		}
	}
}

static int open_raw(struct fuzzer *f)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, rcv = RCVBUF;

	f->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (f->fd < 0)
		return -errno;
	if (bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	if (setsockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	/* Acks with and without TLVs, capped or not; strict dumps or not. */
	f->ext_ack = chance(f, 70) &&
		     !setsockopt(f->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
				 sizeof(one));
	f->cap_ack = chance(f, 50) &&
		     !setsockopt(f->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
				 sizeof(one));
	if (chance(f, 50))
		setsockopt(f->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
			   sizeof(one));
	/* The events too, now and then: what we cause comes back. */
	if (f->events_grp && chance(f, 30))
		setsockopt(f->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
			   &f->events_grp, sizeof(f->events_grp));
	f->nholds = 0;
	return 0;
}

static void close_raw(struct fuzzer *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Send the datagram built so far. */
static void send_built(struct fuzzer *f, int first_cmd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int64_t t0 = stw_now_ms();
	unsigned long us;
	ssize_t n;

	n = sendto(f->fd, f->buf, f->len, 0, (struct sockaddr *)&sa,
		   sizeof(sa));
	us = (stw_now_ms() - t0) * 1000;
	if (us > f->st.max_send_us) {
		f->st.max_send_us = us;
		f->st.max_send_index = f->index;
		f->st.max_send_cmd = first_cmd;
	}
	f->st.datagrams++;
	if (n < 0) {
		f->st.send_err++;
		if (errno < (int)ARRAY_SIZE(f->st.send_errno))
			f->st.send_errno[errno]++;
	}
	drain(f, 0);
}

/* ---- well-formed requests, for the scripts ---- */

static void begin(struct fuzzer *f, int cmd, uint16_t flags)
{
	struct genlmsghdr *g;
	struct nlmsghdr *nlh;
	struct sent *s;

	f->len = 0;
	f->nattrs = 0;
	nlh = put(f, NULL, NLMSG_HDRLEN);
	nlh->nlmsg_type = f->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = next_seq(f);
	g = put(f, NULL, GENL_HDRLEN);
	g->cmd = cmd;
	g->version = STW_GENL_VERSION;
	s = ring_slot(f, nlh->nlmsg_seq);
	memset(s, 0, sizeof(*s));
	s->seq = nlh->nlmsg_seq;
	s->type = nlh->nlmsg_type;
	s->flags = nlh->nlmsg_flags;
	s->index = f->index;
	s->cmd = cmd;
	s->admin_req = cmd >= STW_CMD_STOP && cmd <= STW_CMD_QUEUE_JOB;
	s->status_req = cmd == STW_CMD_STATUS;
}

static void finish(struct fuzzer *f, int wait_ms)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)f->buf;
	struct sent *s = ring_slot(f, nlh->nlmsg_seq);

	nlh->nlmsg_len = f->len;
	s->len = f->len;
	s->flags = nlh->nlmsg_flags;
	send_built(f, ((struct genlmsghdr *)(f->buf + NLMSG_HDRLEN))->cmd);
	f->st.msgs++;
	f->index++;
	drain(f, wait_ms);
}

static void req_spawn(struct fuzzer *f, uint32_t a, uint32_t i, uint32_t np)
{
	ssize_t off;

	begin(f, STW_CMD_SPAWN, 0);
	off = attr_begin(f, STW_A_SPAWN | NLA_F_NESTED);
	if (a)
		put_u32(f, STW_SPAWN_A_ACTIVE, a);
	if (i)
		put_u32(f, STW_SPAWN_A_IDLE, i);
	if (np)
		put_u32(f, STW_SPAWN_A_NOPOLL, np);
	attr_end(f, off);
	finish(f, 0);
}

static void req_stop(struct fuzzer *f, uint32_t timeout, uint32_t lease,
		     bool keep)
{
	begin(f, STW_CMD_STOP, 0);
	put_u32(f, STW_A_TIMEOUT_MS, timeout);
	if (lease)
		put_u32(f, STW_A_LEASE_MS, lease);
	if (keep)
		put_attr(f, STW_A_KEEP_WAITING, NULL, 0);
	finish(f, 0);
}

static void req_u32(struct fuzzer *f, int cmd, int type, uint32_t v)
{
	begin(f, cmd, 0);
	if (type)
		put_u32(f, type, v);
	if (cmd == STW_CMD_RUN_ONE)
		put_u32(f, STW_A_TIMEOUT_MS, SAFE_TIMEOUT_MS);
	finish(f, 0);
}

static void req_kill_all(struct fuzzer *f)
{
	begin(f, STW_CMD_KILL, 0);
	put_attr(f, STW_A_KILL_ALL, NULL, 0);
	finish(f, 0);
	f->st.kill_alls++;
}

/* The newest VM the replies told of, 0 if none. */
static uint32_t newest(struct fuzzer *f)
{
	return f->nids ? f->ids[f->nids - 1] : 0;
}

/*
 * A well-formed request with valid, if odd, values: past the policies,
 * into stw's own code and its state machine.
 */
static void valid_request(struct fuzzer *f)
{
	int cmd = STW_CMD_STATUS + rnd(f, STW_CMD_QUEUE_JOB);
	unsigned int i, n;
	ssize_t off;

	begin(f, cmd, cmd == STW_CMD_STATUS && chance(f, 50) ? NLM_F_DUMP : 0);
	if (chance(f, 50))
		((struct nlmsghdr *)f->buf)->nlmsg_flags &= ~NLM_F_ACK;
	switch (cmd) {
	case STW_CMD_STOP:
		put_u32(f, STW_A_TIMEOUT_MS, 1 + rnd(f, SAFE_TIMEOUT_MS));
		if (chance(f, 20))
			put_attr(f, STW_A_KEEP_WAITING, NULL, 0);
		if (chance(f, 20))
			put_u32(f, STW_A_LEASE_MS,
				rnd(f, 100) ? 1 + rnd(f, 3000) : STW_LEASE_MAX_MS);
		break;
	case STW_CMD_RESUME:
		if (chance(f, 30) && f->nholds)
			put_u32(f, STW_A_HOLD_ID, f->holds[rnd(f, f->nholds)]);
		else if (chance(f, 10))
			put_attr(f, STW_A_FORCE, NULL, 0);
		break;
	case STW_CMD_RUN_ONE:
		put_u32(f, STW_A_VM_ID, live_id(f));
		if (chance(f, 70))
			put_u32(f, STW_A_POLLS, 1 + rnd(f, 1000));
		put_u32(f, STW_A_TIMEOUT_MS, 1 + rnd(f, SAFE_TIMEOUT_MS));
		break;
	case STW_CMD_SPAWN:
		off = attr_begin(f, STW_A_SPAWN | NLA_F_NESTED);
		put_u32(f, STW_SPAWN_A_ACTIVE + rnd(f, 3), 1 + rnd(f, 2));
		if (chance(f, 30))
			put_u32(f, STW_SPAWN_A_ACTIVE + rnd(f, 3), rnd(f, 3));
		attr_end(f, off);
		break;
	case STW_CMD_KILL:
		if (chance(f, 20) || !f->nids) {
			put_attr(f, STW_A_KILL_ALL, NULL, 0);
			f->st.kill_alls += f->root;
			break;
		}
		n = 1 + rnd(f, 3);
		for (i = 0; i < n; i++)
			put_u32(f, STW_A_VM_ID, live_id(f));
		break;
	case STW_CMD_QUEUE_JOB:
		put_u32(f, STW_A_VM_ID, live_id(f));
		if (chance(f, 70))
			put_u32(f, STW_A_JOBS, 1 + rnd(f, 5));
		if (chance(f, 70))
			put_u32(f, STW_A_POLLS, 1 + rnd(f, 1000));
		break;
	}
	finish(f, 0);
}

/* ---- scripts: valid but odd ---- */

/* A VM that never polls: stops time out on it and name it; it goes. */
static void script_nopoll(struct fuzzer *f)
{
	uint32_t np;

	req_spawn(f, 1, 0, 1);
	np = newest(f);
	req_stop(f, 20, 0, false);		/* ETIMEDOUT, rolled back */
	req_stop(f, 20, 0, true);		/* ETIMEDOUT, kept: STOPPING */
	req_u32(f, STW_CMD_RUN_ONE, STW_A_VM_ID, np);	/* EBUSY */
	begin(f, STW_CMD_STATUS, NLM_F_DUMP);
	finish(f, 0);
	if (np) {
		begin(f, STW_CMD_KILL, 0);
		gen_id_list(f);		/* maybe it, maybe not */
		finish(f, 0);
	}
	req_kill_all(f);			/* it is gone for sure */
	req_u32(f, STW_CMD_RESUME, 0, 0);
}

/* Holds every way: leases of a millisecond, by id, force, twice. */
static void script_holds(struct fuzzer *f)
{
	req_spawn(f, 1, 1, 0);
	req_stop(f, SAFE_TIMEOUT_MS, 1, false);
	req_stop(f, SAFE_TIMEOUT_MS, 0, false);
	req_stop(f, SAFE_TIMEOUT_MS, 0, true);
	req_u32(f, STW_CMD_RESUME, STW_A_HOLD_ID,
		f->nholds ? f->holds[f->nholds - 1] : 1);
	req_u32(f, STW_CMD_RESUME, STW_A_HOLD_ID,
		f->nholds ? f->holds[f->nholds - 1] : 1);	/* ENOENT */
	req_u32(f, STW_CMD_RESUME, 0, 0);
	req_u32(f, STW_CMD_RESUME, 0, 0);			/* EALREADY */
	begin(f, STW_CMD_RESUME, 0);
	put_attr(f, STW_A_FORCE, NULL, 0);
	finish(f, 0);
}

/* VMs born and killed while stopped, a step of a VM not parked yet. */
static void script_lifecycle(struct fuzzer *f)
{
	req_spawn(f, 1, 0, 0);
	req_stop(f, SAFE_TIMEOUT_MS, 0, false);
	req_spawn(f, 1, 1, 0);
	req_u32(f, STW_CMD_RUN_ONE, STW_A_VM_ID, newest(f));
	req_u32(f, STW_CMD_QUEUE_JOB, STW_A_VM_ID, newest(f));
	req_u32(f, STW_CMD_RUN_ONE, STW_A_VM_ID, live_id(f));
	begin(f, STW_CMD_KILL, 0);
	gen_id_list(f);
	finish(f, 0);
	req_u32(f, STW_CMD_RESUME, 0, 0);
}

/* A dump abandoned half-read: the socket closes in the middle of it. */
static void script_abandoned_dump(struct fuzzer *f)
{
	req_spawn(f, 0, 2, 0);
	begin(f, STW_CMD_STATUS, NLM_F_DUMP);
	((struct nlmsghdr *)f->buf)->nlmsg_len = f->len;
	send(f->fd, f->buf, f->len, 0);
	begin(f, STW_CMD_STATUS, NLM_F_DUMP);	/* a second one meanwhile */
	((struct nlmsghdr *)f->buf)->nlmsg_len = f->len;
	send(f->fd, f->buf, f->len, 0);
	f->st.msgs += 2;
	f->index += 2;
	close_raw(f);
	if (open_raw(f))
		fuzz_fail(f, "reopening the socket: %s", strerror(errno));
	f->st.reopens++;
}

/* One id, STW_KILL_MAX times, in one KILL: destroyed (and counted) once. */
static void script_kill_dup(struct fuzzer *f)
{
	unsigned int i;
	uint32_t id;

	req_spawn(f, 0, 1, 0);
	id = newest(f);
	begin(f, STW_CMD_KILL, 0);
	for (i = 0; i < STW_KILL_MAX; i++)
		put_u32(f, STW_A_VM_ID, id ? id : 1);
	finish(f, 0);
}

static void run_script(struct fuzzer *f)
{
	f->st.scripts++;
	switch (rnd(f, 5)) {
	case 0: script_nopoll(f); break;
	case 1: script_holds(f); break;
	case 2: script_lifecycle(f); break;
	case 3: script_abandoned_dump(f); break;
	case 4: script_kill_dup(f); break;
	}
}

/* ---- the loop ---- */

static void fuzz_init(struct fuzzer *f, uint16_t family, uint32_t grp,
		      unsigned long seed, bool root)
{
	memset(f, 0, sizeof(*f));
	f->x = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ (root ? 0 : 0x5555);
	if (!f->x)
		f->x = 1;
	f->root = root;
	f->family = family;
	f->events_grp = grp;
	f->fd = -1;
	f->st.max_send_cmd = -1;
}

/*
 * Send @count messages. @check is called every CHECK_EVERY messages with
 * the raw socket closed (so its holds are gone); non-zero stops the run.
 */
static int fuzz_run(struct fuzzer *f, unsigned int count,
		    int (*check)(struct fuzzer *f, void *arg), void *arg)
{
	unsigned int next_check = CHECK_EVERY;

	f->buf = malloc(BUF_SIZE);
	f->rbuf = malloc(BUF_SIZE);
	if (!f->buf || !f->rbuf)
		return fuzz_fail(f, "no memory");
	if (open_raw(f))
		return fuzz_fail(f, "socket: %s", strerror(errno));
	while (f->index < count && !f->fail[0]) {
		unsigned int n, i, first;

		if (f->root && chance(f, 1) && !rnd(f, 4)) {
			run_script(f);
		} else if (f->root && f->created - f->destroyed > MAX_LIVE) {
			req_kill_all(f);
		} else if (chance(f, 25)) {
			valid_request(f);
		} else {
			/* One datagram: one message, sometimes a few. */
			f->len = 0;
			n = chance(f, 10) ? 2 + rnd(f, 4) : 1;
			first = f->index;
			for (i = 0; i < n; i++)
				if (gen_message(f))
					f->st.msgs++, f->index++;
			if (f->len)
				send_built(f, f->buf[NLMSG_HDRLEN]);
			(void)first;
		}
		if (f->index >= next_check) {
			next_check += CHECK_EVERY;
			drain(f, 0);
			close_raw(f);
			f->st.reopens++;
			if (check && check(f, arg))
				break;
			if (open_raw(f))
				return fuzz_fail(f, "socket: %s",
						 strerror(errno));
		}
	}
	drain(f, 10);
	close_raw(f);
	free(f->buf);
	free(f->rbuf);
	f->buf = f->rbuf = NULL;
	return f->fail[0] ? -1 : 0;
}

/* ---- reporting ---- */

static void log_stats(struct __test_metadata *_metadata, struct fuzzer *f,
		      int64_t ms)
{
	char line[1024];
	size_t n = 0;
	int i;

	TH_LOG("%lu messages in %lu datagrams in %lld.%03lld s (%.0f/s); %lu scripts, %lu reopens, %lu KILL_ALLs",
	       f->st.msgs, f->st.datagrams, (long long)ms / 1000,
	       (long long)ms % 1000, ms ? f->st.msgs * 1000.0 / ms : 0.0,
	       f->st.scripts, f->st.reopens, f->st.kill_alls);
	TH_LOG("%lu acks, %lu replies, %lu dumps done, %lu ENOBUFS; slowest send %lu ms (message %u, cmd %d)",
	       f->st.acks, f->st.replies, f->st.dumps_done, f->st.enobufs,
	       f->st.max_send_us / 1000, f->st.max_send_index,
	       f->st.max_send_cmd);
	for (i = 0; i < (int)ARRAY_SIZE(f->st.ack_errno); i++)
		if (f->st.ack_errno[i] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s:%lu",
				      i ? strerrorname_np(i) ?: "?" : "0",
				      f->st.ack_errno[i]);
	TH_LOG("acks by errno:%s", line);
	n = 0;
	line[0] = '\0';
	for (i = 0; i < 256; i++)
		if (f->st.ack_ok_cmd[i] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %d:%lu",
				      i, f->st.ack_ok_cmd[i]);
	TH_LOG("successful acks by cmd:%s", line);
	n = 0;
	line[0] = '\0';
	for (i = 0; i < (int)ARRAY_SIZE(f->st.send_errno); i++)
		if (f->st.send_errno[i] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s:%lu",
				      strerrorname_np(i) ?: "?",
				      f->st.send_errno[i]);
	TH_LOG("sendto errors (%lu):%s", f->st.send_err, line);
	n = 0;
	line[0] = '\0';
	for (i = STW_CMD_STATUS; i <= STW_CMD_QUEUE_JOB; i++) {
		int e;

		for (e = 1; e < 140; e++)
			if (f->st.no_extack[i][e] && n < sizeof(line))
				n += snprintf(line + n, sizeof(line) - n,
					      " cmd %d %s:%lu (first: message %u)",
					      i, strerrorname_np(e) ?: "?",
					      f->st.no_extack[i][e],
					      f->st.no_extack_index[i][e]);
	}
	TH_LOG("errors without an extack message:%s", n ? line : " none");
	TH_LOG("VMs: %lu created, %lu destroyed per the replies%s",
	       f->created, f->destroyed,
	       f->lost ? " (some replies were lost)" : "");
}

/* ---- the tests ---- */

FIXTURE(fuzz) {
	struct stw_sock *s;
	struct fuzzer *f;	/* shared with the unprivileged child */
};

FIXTURE_SETUP(fuzz)
{
	STW_SETUP(self->s);
	self->f = stw_shared_alloc(sizeof(*self->f));
	ASSERT_TRUE(self->f != NULL);
}

FIXTURE_TEARDOWN(fuzz)
{
	stw_shared_free(self->f, sizeof(*self->f));
	STW_TEARDOWN(self->s);
}

struct root_check {
	struct stw_sock *s;
};

/* Every CHECK_EVERY messages: the module answers, nothing is violated. */
static int check_alive(struct fuzzer *f, void *arg)
{
	struct stw_sock *s = ((struct root_check *)arg)->s;
	struct stw_world w;
	int err = stw_status(s, &w);

	if (err)
		return fuzz_fail(f, "STATUS: %s '%s'", strerror(err),
				 s->extack);
	if (stw_violations_total(&w))
		return fuzz_fail(f, "invariants violated: %s",
				 stw_describe(s));
	return 0;
}

static uint32_t events_group(void)
{
	struct stw_sock *s = stw_open();
	int grp = s ? genl_ctrl_resolve_grp(s->nl, STW_GENL_NAME,
					    STW_MCGRP_EVENTS) : 0;

	stw_close(s);
	return grp > 0 ? grp : 0;
}

static unsigned long fuzz_seed(void)
{
	return stw_env_uint("STW_FUZZ_SEED", 1);
}

static unsigned int fuzz_count(void)
{
	return stw_env_uint("STW_FUZZ_COUNT", DEFAULT_COUNT);
}

TEST_F_TIMEOUT(fuzz, root_sends_random_and_malformed_messages, FUZZ_BASE_S)
{
	struct root_check rc = { .s = self->s };
	struct stw_sock *s = self->s;
	struct fuzzer *f = self->f;
	unsigned long seed = fuzz_seed();
	unsigned int count = fuzz_count();
	struct stw_world w;
	uint32_t ids[4];
	bool resumed;
	int64_t start;
	size_t n;
	int err;

	TH_LOG("seed %lu, %u messages (STW_FUZZ_SEED, STW_FUZZ_COUNT)", seed,
	       count);
	fuzz_init(f, s->family, events_group(), seed, true);
	start = stw_now_ms();
	err = fuzz_run(f, count, check_alive, &rc);
	log_stats(_metadata, f, stw_now_ms() - start);
	ASSERT_EQ(0, err) TH_LOG("%s", f->fail);

	/* The module answers and no invariant was violated. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_NO_VIOLATIONS(s);

	/* Leases and other sockets' holds: released; the world runs. */
	err = stw_resume(s, true, 0, NULL);
	ASSERT_TRUE(err == 0 || err == EALREADY)
		TH_LOG("RESUME force: %s '%s'", strerror(err), s->extack);
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));

	/* Exactly the VMs the fuzzer made and did not kill are left. */
	ASSERT_OK(s, stw_status(s, &w));
	if (f->lost) {
		ASSERT_LE((unsigned long)w.nr_vms, f->created - f->destroyed)
			TH_LOG("%u VMs, the replies said %lu - %lu",
			       w.nr_vms, f->created, f->destroyed);
	} else {
		ASSERT_EQ(f->created - f->destroyed, (unsigned long)w.nr_vms)
			TH_LOG("%u VMs, the replies said %lu - %lu",
			       w.nr_vms, f->created, f->destroyed);
	}
	ASSERT_OK(s, stw_kill_all(s, &n));
	ASSERT_EQ((size_t)w.nr_vms, n);
	ASSERT_OK(s, stw_wait_nr_vms(s, 0, STW_T_WAIT));
	ASSERT_EQ(0, stw_wait_no_threads("stw/", STW_T_WAIT))
		TH_LOG("%d VM threads left", stw_count_threads("stw/"));

	/* A fresh world stops and resumes cleanly. */
	ASSERT_SPAWN(s, 2, 2, 0, 0, ids, &n);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode);
	ASSERT_EQ(4U, w.active);
	ASSERT_EQ(4U, w.stopped);
	ASSERT_EQ(1U, w.holds);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_STOPPED, 1));
	ASSERT_OK(s, stw_resume(s, false, 0, &resumed));
	ASSERT_TRUE(resumed);
	ASSERT_NO_VIOLATIONS(s);
}

struct user_run {
	uint16_t family;
	uint32_t grp;
	unsigned long seed;
	unsigned int count;
	struct fuzzer *f;
};

static int user_check(struct fuzzer *f, void *arg)
{
	struct stw_sock *s = stw_open();
	struct stw_world w;
	int err;

	if (!s)
		return fuzz_fail(f, "uid %d cannot open a socket: %s",
				 getuid(), strerror(errno));
	err = stw_status(s, &w);
	stw_close(s);
	if (err)
		return fuzz_fail(f, "uid %d: STATUS: %s", getuid(),
				 strerror(err));
	return 0;
}

static int user_fuzz(void *arg)
{
	struct user_run *u = arg;

	fuzz_init(u->f, u->family, u->grp, u->seed, false);
	return fuzz_run(u->f, u->count, user_check, NULL) ? 1 : 0;
}

TEST_F_TIMEOUT(fuzz, unprivileged_user_sends_random_and_malformed_messages,
	       FUZZ_BASE_S)
{
	struct stw_sock *s = self->s;
	struct user_run u = {
		.family = s->family,
		.grp = events_group(),
		.seed = fuzz_seed(),
		.count = fuzz_count(),
		.f = self->f,
	};
	struct stw_world before, after;
	uint32_t ids[3];
	int64_t start;
	size_t n;
	int ret;

	TH_LOG("seed %lu, %u messages as uid %d (STW_FUZZ_SEED, STW_FUZZ_COUNT)",
	       u.seed, u.count, STW_NOBODY);
	/* Something to look at, and to be refused to touch. */
	ASSERT_SPAWN(s, 1, 1, 1, 0, ids, &n);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(s, stw_status(s, &before));

	start = stw_now_ms();
	ret = stw_as_user(STW_NOBODY, STW_NOBODY, user_fuzz, &u);
	log_stats(_metadata, self->f, stw_now_ms() - start);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->f->fail[0] ? self->f->fail :
				 "the child died");

	/* Nothing changed: no stop, no VM, no hold. */
	ASSERT_OK(s, stw_status(s, &after));
	ASSERT_EQ(STW_RUN_ALL, after.mode);
	ASSERT_EQ(before.generation, after.generation);
	ASSERT_EQ(before.cycles, after.cycles);
	ASSERT_EQ(before.timeouts, after.timeouts);
	ASSERT_EQ(3U, after.nr_vms);
	ASSERT_EQ(0U, after.holds);
	ASSERT_NO_VIOLATIONS(s);
	/* A STATUS reply of a well-formed request always came back. */
	ASSERT_NE(0UL, self->f->st.ack_ok_cmd[STW_CMD_STATUS] +
		       self->f->st.dumps_done);
}

/* One request on a raw socket of the current netns: the ack's errno. */
static int raw_request(uint16_t family, uint8_t cmd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
	} req = {
		.n = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = family,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			.nlmsg_seq = 1,
		},
		.g = { .cmd = cmd, .version = STW_GENL_VERSION },
	};
	char buf[4096];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int fd, err = EIO;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, &req, sizeof(req), 0) != sizeof(req)) {
		err = errno;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0) {
			err = ETIMEDOUT;
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			break;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			err = -((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			break;
		}
		/* a reply before the ack: the request was served */
	}
out:
	close(fd);
	return err;
}

/* What root of a user namespace got, in shared memory. */
struct ns_run {
	uint16_t family;
	uint32_t grp;
	unsigned long seed;
	unsigned int count;
	struct fuzzer *f;
	int userns_err, netns_err;		/* unshare() */
	int stop, spawn, kill_all, resume;	/* in the user namespace */
	int open_in_netns;			/* stw_open() in the new netns */
	int raw_stop_in_netns, raw_status_in_netns;
};

static int ns_child(void *arg)
{
	struct ns_run *u = arg;
	struct stw_sock *s;

	if (unshare(CLONE_NEWUSER)) {
		u->userns_err = errno;
		return 0;
	}
	/* Every capability now, in a user namespace of its own. */
	s = stw_open();
	if (!s)
		return 2;
	u->stop = stw_stop(s, 1000, 0, NULL, NULL);
	u->spawn = stw_spawn(s, 1, 0, 0, 0, NULL, NULL);
	u->kill_all = stw_kill_all(s, NULL);
	u->resume = stw_resume(s, true, 0, NULL);
	stw_close(s);
	fuzz_init(u->f, u->family, u->grp, u->seed, false);
	if (fuzz_run(u->f, u->count, NULL, NULL))
		return 1;

	/* And a network namespace of its own: stw is not there. */
	if (unshare(CLONE_NEWNET)) {
		u->netns_err = errno;
		return 0;
	}
	s = stw_open();
	u->open_in_netns = s ? 0 : errno ? errno : EIO;
	stw_close(s);
	u->raw_stop_in_netns = raw_request(u->family, STW_CMD_STOP);
	u->raw_status_in_netns = raw_request(u->family, STW_CMD_STATUS);
	return 0;
}

/*
 * Root of a user namespace (made by uid 65534) has CAP_NET_ADMIN there,
 * not in the initial namespace: every admin request is refused with EPERM,
 * the fuzzer's too. In a network namespace of its own the family does not
 * exist. The world is exactly as it was.
 */
TEST_F_TIMEOUT(fuzz, user_namespace_root_is_not_root, 300)
{
	struct stw_sock *s = self->s;
	struct stw_world before, after;
	struct ns_run *u;
	uint32_t ids[2];
	int64_t start;
	int ret, err;
	size_t n;

	u = stw_shared_alloc(sizeof(*u));
	ASSERT_TRUE(u != NULL);
	u->family = s->family;
	u->grp = events_group();
	u->seed = fuzz_seed();
	u->count = fuzz_count() / 5;
	u->f = self->f;
	ASSERT_SPAWN(s, 1, 1, 0, 0, ids, &n);
	ASSERT_OK(s, stw_wait_all_vms_state(s, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(s, stw_status(s, &before));

	start = stw_now_ms();
	ret = stw_as_user(STW_NOBODY, STW_NOBODY, ns_child, u);
	if (!ret && u->userns_err) {
		err = u->userns_err;
		stw_shared_free(u, sizeof(*u));
		SKIP(return, "no user namespace for uid %d: %s", STW_NOBODY,
		     strerror(err));
	}
	log_stats(_metadata, self->f, stw_now_ms() - start);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->f->fail[0] ? self->f->fail :
				 "the child failed");
	EXPECT_EQ(EPERM, u->stop);
	EXPECT_EQ(EPERM, u->spawn);
	EXPECT_EQ(EPERM, u->kill_all);
	EXPECT_EQ(EPERM, u->resume);
	if (u->netns_err) {
		TH_LOG("no network namespace: %s", strerror(u->netns_err));
	} else {
		EXPECT_NE(0, u->open_in_netns);
		EXPECT_TRUE(u->raw_stop_in_netns == ENOENT ||
			    u->raw_stop_in_netns == EPERM)
			TH_LOG("STOP from another netns: %s",
			       strerror(u->raw_stop_in_netns));
		EXPECT_EQ(ENOENT, u->raw_status_in_netns)
			TH_LOG("STATUS from another netns: %s",
			       strerror(u->raw_status_in_netns));
	}
	stw_shared_free(u, sizeof(*u));

	ASSERT_OK(s, stw_status(s, &after));
	ASSERT_EQ(STW_RUN_ALL, after.mode);
	ASSERT_EQ(before.generation, after.generation);
	ASSERT_EQ(before.cycles, after.cycles);
	ASSERT_EQ(2U, after.nr_vms);
	ASSERT_EQ(0U, after.holds);
	ASSERT_NO_VIOLATIONS(s);
}

/* The time limits grow with the messages asked for. */
static void __attribute__((constructor)) fuzz_set_timeout(void)
{
	unsigned long long t = FUZZ_BASE_S +
			       (unsigned long long)fuzz_count() *
			       FUZZ_US_PER_MSG / 1000000;
	int v = t > 0x7fffffff ? 0x7fffffff : (int)t;

	_fuzz_root_sends_random_and_malformed_messages_object.timeout = v;
	_fuzz_unprivileged_user_sends_random_and_malformed_messages_object.timeout = v;
}

TEST_HARNESS_MAIN
