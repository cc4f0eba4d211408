// SPDX-License-Identifier: GPL-2.0
/*
 * stw_dump: how long the STATUS dump takes, seen from user space.
 *
 *	stw_dump [ROUNDS] [LABEL]
 *
 * Dumps every VM ROUNDS times (default 5) over generic netlink, parsing each
 * message as a client would, and prints one CSV row:
 *
 *	dump,<VMs per dump>,-,<LABEL>,<ROUNDS>,<median ns>,<max ns>,,,min_ns=<ns>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "uapi/stw.h"

#define MAX_ROUNDS	100

static int count_vm(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[STW_A_MAX + 1], *vm[STW_VM_A_MAX + 1];
	unsigned int *n = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, STW_A_MAX, NULL) < 0 ||
	    !tb[STW_A_VM] ||
	    nla_parse_nested(vm, STW_VM_A_MAX, tb[STW_A_VM], NULL) < 0 ||
	    !vm[STW_VM_A_ID])
		return NL_SKIP;
	(*n)++;
	return NL_OK;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	const char *label = argc > 2 ? argv[2] : "status";
	long long ns[MAX_ROUNDS], t0;
	unsigned int n = 0;
	struct nl_sock *sk;
	int family, r, err;

	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "stw_dump: ROUNDS is 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk)) {
		fprintf(stderr, "stw_dump: cannot open a netlink socket\n");
		return 1;
	}
	family = genl_ctrl_resolve(sk, STW_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "stw_dump: no stw family: %s\n",
			nl_geterror(family));
		return 1;
	}
	nl_socket_set_buffer_size(sk, 4 << 20, 0);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, count_vm, &n);

	for (r = 0; r < rounds; r++) {
		n = 0;
		t0 = now_ns();
		err = genl_send_simple(sk, family, STW_CMD_STATUS,
				       STW_GENL_VERSION, NLM_F_DUMP);
		if (err >= 0)
			err = nl_recvmsgs_default(sk);
		ns[r] = now_ns() - t0;
		if (err < 0) {
			fprintf(stderr, "stw_dump: %s\n", nl_geterror(err));
			return 1;
		}
	}
	qsort(ns, rounds, sizeof(ns[0]), cmp_ll);
	printf("dump,%u,-,%s,%d,%lld,%lld,,,min_ns=%lld\n", n, label, rounds,
	       (ns[(rounds - 1) / 2] + ns[rounds / 2]) / 2, ns[rounds - 1],
	       ns[0]);
	nl_socket_free(sk);
	return 0;
}
