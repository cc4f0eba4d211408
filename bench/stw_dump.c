// SPDX-License-Identifier: GPL-2.0
/*
 * stw_dump: how long the STATUS dump takes, seen from user space.
 *
 *	stw_dump [ROUNDS] [LABEL]
 *
 * Dumps the bench's world ("bench", bench/stw_bench.ko's) and every VM in
 * it ROUNDS times (default 5) through the tree's
 * client (lib/stw_client.h), parsing each message as stwctl does (and
 * dumping again when the world changed meanwhile), and prints one CSV row:
 *
 *	dump,<VMs per dump>,-,<LABEL>,<ROUNDS>,<median ns>,<max ns>,,,min_ns=<ns>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stw_client.h"

#define MAX_ROUNDS	100

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
	struct stw_vm_list vms = { 0 };
	long long ns[MAX_ROUNDS], t0;
	struct stw_world w;
	struct stw_sock *s;
	size_t n = 0;
	int r, err;

	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "stw_dump: ROUNDS is 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	s = stw_open();
	if (!s) {
		fprintf(stderr, "stw_dump: no stw family: %s\n",
			strerror(errno));
		return 1;
	}
	if (stw_set_world(s, "bench")) {
		fprintf(stderr, "stw_dump: world: %s\n", s->extack);
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		t0 = now_ns();
		err = stw_dump(s, &w, &vms);
		ns[r] = now_ns() - t0;
		if (err) {
			fprintf(stderr, "stw_dump: %s: %s\n", strerror(err),
				s->extack);
			return 1;
		}
		n = vms.n;
	}
	stw_vm_list_free(&vms);
	stw_close(s);
	qsort(ns, rounds, sizeof(ns[0]), cmp_ll);
	printf("dump,%zu,-,%s,%d,%lld,%lld,,,min_ns=%lld\n", n, label, rounds,
	       (ns[(rounds - 1) / 2] + ns[rounds / 2]) / 2, ns[rounds - 1],
	       ns[0]);
	return 0;
}
