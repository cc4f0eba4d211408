/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stw selftests share on top of kselftest_harness.h: assertions
 * that print the request's errno, its extack and the state of the world,
 * fixture setup/teardown, and the time limits. Include after the harness.
 */
#ifndef STW_TEST_H
#define STW_TEST_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stw_nl.h"

/*
 * Time limits in ms. The guest is TCG with 2 vCPUs: generous, but finite.
 * A STOP of a few demo VMs takes milliseconds; these only bound a hang.
 */
#define STW_T_STOP	20000	/* STW_A_TIMEOUT_MS of a STOP or RUN_ONE */
#define STW_T_WAIT	10000	/* waiting for a state of the world */
#define STW_T_RESET	20000	/* back to RUN_ALL with no VM */
#define STW_T_CHILD	30000	/* a child process to report or exit */

/* Where a loop is, printed by every assertion below ("cycle 17: "). */
static char stw_ctx[160] __attribute__((unused));
#define STW_CTX(fmt, ...) \
	snprintf(stw_ctx, sizeof(stw_ctx), fmt ": ", ##__VA_ARGS__)

/* Loop counts scale with $STW_SCALE (percent, default 100), at least 1. */
static inline unsigned int stw_scaled(unsigned int n)
{
	unsigned long long v = (unsigned long long)n *
			       stw_env_uint("STW_SCALE", 100) / 100;

	return v ? (v > 0xffffffffULL ? 0xffffffffU : (unsigned int)v) : 1;
}

/* @expr (an stw_nl request) succeeds. */
#define ASSERT_OK(s, expr) do { \
	int __stw_err = (expr); \
	ASSERT_EQ(0, __stw_err) \
		TH_LOG("%s%s: %s (extack '%s'); %s", stw_ctx, #expr, \
		       strerror(__stw_err), (s)->extack, stw_describe(s)); \
} while (0)

/* @expr fails with exactly @e. */
#define ASSERT_ERRNO(s, e, expr) do { \
	int __stw_err = (expr); \
	ASSERT_EQ((e), __stw_err) \
		TH_LOG("%s%s: got %s (%d), want %s (extack '%s')", stw_ctx, \
		       #expr, strerror(__stw_err), __stw_err, strerror(e), \
		       (s)->extack); \
} while (0)

/* The last request carried an extack message. */
#define ASSERT_EXTACK(s) \
	ASSERT_NE(0, (int)strlen((s)->extack)) \
		TH_LOG("%sno extack message with %s (miss_type %d, offset %d)", \
		       stw_ctx, strerror((s)->err), (s)->miss_type, \
		       (s)->bad_offset)

/* @expr is rejected with @e1 or @e2 and an extack message saying why. */
#define ASSERT_REJECTED(s, expr, e1, e2) do { \
	int __stw_err = (expr); \
	ASSERT_TRUE(__stw_err == (e1) || __stw_err == (e2)) \
		TH_LOG("%s%s: got %s (%d), want %s or %s (extack '%s')", \
		       stw_ctx, #expr, strerror(__stw_err), __stw_err, \
		       strerror(e1), strerror(e2), (s)->extack); \
	ASSERT_EXTACK(s); \
} while (0)

/* SPAWN exactly the VMs asked for; @ids needs room for all of them. */
#define ASSERT_SPAWN(s, a, i, b, np, ids, np_out) do { \
	ASSERT_OK(s, stw_spawn(s, a, i, b, np, ids, np_out)); \
	ASSERT_EQ((size_t)((a) + (i) + (b) + (np)), *(np_out)); \
} while (0)

/* No invariant was ever violated (STW_WORLD_A_VIOLATIONS all 0). */
#define ASSERT_NO_VIOLATIONS(s) do { \
	struct stw_world __stw_w; \
	ASSERT_OK(s, stw_status(s, &__stw_w)); \
	ASSERT_EQ(0ULL, (unsigned long long)stw_violations_total(&__stw_w)) \
		TH_LOG("%sviolations I1..I5: %llu %llu %llu %llu %llu", stw_ctx, \
		       (unsigned long long)__stw_w.violations[0], \
		       (unsigned long long)__stw_w.violations[1], \
		       (unsigned long long)__stw_w.violations[2], \
		       (unsigned long long)__stw_w.violations[3], \
		       (unsigned long long)__stw_w.violations[4]); \
} while (0)

/* Fixture setup: a socket and a clean world (RUN_ALL, no VM, no hold). */
#define STW_SETUP(sock) do { \
	(sock) = stw_open(); \
	ASSERT_TRUE((sock) != NULL) \
		TH_LOG("cannot resolve the stw family: %s (is stw.ko loaded?)", \
		       strerror(errno)); \
	ASSERT_OK((sock), stw_reset((sock), STW_T_RESET)); \
} while (0)

/*
 * A failure noted in a teardown. Not ASSERT: in 6.1 an ASSERT in a teardown
 * jumps back into it. Not EXPECT either: after a failed ASSERT the harness
 * leaves its handler armed, so EXPECT's TH_LOG would print even on success.
 */
#define STW_TEARDOWN_FAIL(fmt, ...) do { \
	TH_LOG("teardown: " fmt, ##__VA_ARGS__); \
	_metadata->passed = 0; \
} while (0)

/* Fixture teardown: force-resume, kill every demo VM, leave RUN_ALL. */
#define STW_TEARDOWN(sock) do { \
	if (sock) { \
		int __stw_err = stw_reset((sock), STW_T_RESET); \
		if (__stw_err) \
			STW_TEARDOWN_FAIL("reset: %s '%s'; %s", \
					  strerror(__stw_err), \
					  (sock)->extack, stw_describe(sock)); \
		stw_close(sock); \
		(sock) = NULL; \
	} \
} while (0)

/* The comm prefix of every VM thread. */
#define STW_THREAD_PREFIX	"stw/"

/* Setup of a test that unloads stw: it is loaded when the test starts. */
#define STW_SETUP_LOADED(sock) do { \
	if (!stw_module_loaded()) { \
		ASSERT_EQ(0, stw_module_load(stw_ko_path())) \
			TH_LOG("stw is not loaded and %s does not load", \
			       stw_ko_path()); \
	} \
	STW_SETUP(sock); \
} while (0)

/* Teardown of a test that may leave stw unloaded: load it, then reset. */
#define STW_TEARDOWN_LOADED(sock) do { \
	if (!stw_module_loaded()) { \
		int __stw_lerr; \
		stw_close(sock); \
		(sock) = NULL; \
		__stw_lerr = stw_module_load(stw_ko_path()); \
		if (__stw_lerr) \
			STW_TEARDOWN_FAIL("reloading %s: %s", stw_ko_path(), \
					  strerror(__stw_lerr)); \
		(sock) = stw_open(); \
		if (!(sock)) \
			STW_TEARDOWN_FAIL("stw_open: %s", strerror(errno)); \
	} \
	STW_TEARDOWN(sock); \
} while (0)

/* The module is gone and so is everything it made. */
#define ASSERT_UNLOADED() do { \
	ASSERT_FALSE(stw_module_loaded()) \
		TH_LOG("the stw family still resolves"); \
	ASSERT_FALSE(stw_module_in_sysfs()) \
		TH_LOG("/sys/module/stw is still there"); \
	ASSERT_EQ(0, stw_wait_no_threads(STW_THREAD_PREFIX, 5000)) \
		TH_LOG("%d threads named " STW_THREAD_PREFIX "* are left", \
		       stw_count_threads(STW_THREAD_PREFIX)); \
} while (0)

#endif /* STW_TEST_H */
