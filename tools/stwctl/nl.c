// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: opening the client and reporting its failures.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"

int ctl_open(struct stw_sock **s, const char *cmd, bool events)
{
	*s = events ? stw_open_events() : stw_open();
	if (*s) {
		/* Checked by opt_world_arg() already: cannot fail but for a bug. */
		if (!stw_set_world(*s, opt_world))
			return 0;
		ctl_fail(*s, cmd);
		stw_close(*s);
		*s = NULL;
		return EXIT_USAGE;
	}
	if (errno == ENOENT) {
		fputs("stwctl: the stw module is not loaded (generic netlink family \"" STW_GENL_NAME "\" not found); load it with: modprobe stw\n",
		      stderr);
		return EXIT_NOMODULE;
	}
	fprintf(stderr, "stwctl: %s: cannot open the \"%s\" family%s: %s\n",
		cmd, STW_GENL_NAME, events ? " and join its events" : "",
		strerror(errno));
	return EXIT_FAILED;
}

const char *ctl_world(void)
{
	return opt_world ?: STW_WORLD_DEFAULT;
}

int ctl_fail(const struct stw_sock *s, const char *cmd)
{
	fflush(stdout);
	if (s->local) {
		fprintf(stderr, "stwctl: %s: %s: %s\n", cmd,
			strerror(s->err), s->extack);
		return s->err == ETIMEDOUT ? EXIT_TIMEDOUT : EXIT_FAILED;
	}
	fprintf(stderr, "stwctl: %s: %s", cmd, strerror(s->err));
	if (s->extack[0])
		fprintf(stderr, ": %s", s->extack);
	if (s->bad_attr[0])
		fprintf(stderr, " (attribute %s)", s->bad_attr);
	if (s->miss_attr[0])
		fprintf(stderr, " (missing attribute %s)", s->miss_attr);
	if (s->has_range)
		fprintf(stderr, " (valid range %llu..%llu)",
			(unsigned long long)s->min,
			(unsigned long long)s->max);
	if (s->err == EPERM)
		fputs(" (needs CAP_NET_ADMIN)", stderr);
	fputc('\n', stderr);
	return s->err == ETIMEDOUT ? EXIT_TIMEDOUT : EXIT_FAILED;
}
