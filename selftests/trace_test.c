// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoints: a stop cycle shows up in tracefs as stw:stw_stop_begin,
 * one stw:stw_vm_park per VM, stw:stw_stopped and stw:stw_resumed, all with
 * the generation the STOP reply names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "stw_nl.h"

#define WAIT_MS		5000
#define TRACING		"/sys/kernel/tracing"

/* The trace buffer, malloc'ed. */
static char *read_trace(void)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap + 1);
	int fd = open(TRACING "/trace", O_RDONLY);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			char *m = realloc(buf, 2 * cap + 1);

			if (!m)
				break;
			buf = m;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

FIXTURE(trace) {
	struct stw_sock *s;
};

FIXTURE_SETUP(trace)
{
	self->s = stw_open();
	ASSERT_NE(NULL, self->s);
	ASSERT_EQ(0, stw_reset(self->s, WAIT_MS));
}

FIXTURE_TEARDOWN(trace)
{
	stw_write_file(TRACING "/events/stw/enable", "0");
	stw_reset(self->s, WAIT_MS);
	stw_close(self->s);
}

TEST_F(trace, stop_cycle_is_traced)
{
	char begin[64], stopped[64], resumed[64];
	struct stw_cycle c;
	uint32_t ids[2];
	char *trace;
	size_t n;

	if (access(TRACING "/events/stw", F_OK))
		SKIP(return, "no tracefs at " TRACING);
	ASSERT_EQ(0, stw_spawn(self->s, 1, 1, 0, 0, ids, &n));
	ASSERT_EQ(0, stw_write_file(TRACING "/trace", ""));
	ASSERT_EQ(0, stw_write_file(TRACING "/events/stw/enable", "1"));
	ASSERT_EQ(0, stw_stop(self->s, WAIT_MS, 0, &c, NULL));
	ASSERT_EQ(0, stw_resume(self->s, false, 0, NULL));
	ASSERT_EQ(0, stw_wait_all_vms_state(self->s, STW_VM_RUNNING, WAIT_MS));
	ASSERT_EQ(0, stw_write_file(TRACING "/events/stw/enable", "0"));

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(begin, sizeof(begin), "stw_stop_begin: generation=%llu vms=2",
		 (unsigned long long)c.generation);
	snprintf(stopped, sizeof(stopped), "stw_stopped: generation=%llu ",
		 (unsigned long long)c.generation);
	snprintf(resumed, sizeof(resumed), "stw_resumed: generation=%llu",
		 (unsigned long long)c.generation);
	EXPECT_EQ(1u, count(trace, begin));
	EXPECT_EQ(1u, count(trace, stopped));
	EXPECT_EQ(1u, count(trace, resumed));
	EXPECT_EQ(2u, count(trace, "stw_vm_park: "));
	EXPECT_EQ(2u, count(trace, "stw_vm_release: ")) {
		TH_LOG("trace:\n%s", trace);
	}
	free(trace);
}

TEST_HARNESS_MAIN
