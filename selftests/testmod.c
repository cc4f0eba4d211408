// SPDX-License-Identifier: GPL-2.0
/*
 * testmod: the selftests' hands on selftests/modules/stw_testmod.ko, a
 * client module of stw's in-kernel API driven through its parameters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stw_nl.h"
#include "testmod.h"


int load_module(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		err = errno;
	close(fd);
	return err;
}

int testmod_unload(void)
{
	if (access(TESTMOD_PARAMS, F_OK))
		return 0;
	return syscall(SYS_delete_module, "stw_testmod", O_NONBLOCK) ?
	       errno : 0;
}

long long testmod_get(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), TESTMOD_PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return LLONG_MIN;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtoll(buf, NULL, 10) : LLONG_MIN;
}

int testmod_action(const char *what)
{
	FILE *f = fopen(TESTMOD_PARAMS "action", "w");
	int err = 0;

	if (!f)
		return errno;
	if (fputs(what, f) < 0)
		err = EIO;
	if (fclose(f))
		err = errno;
	return err;
}

/* Wait until parameter @name is no longer @from; its value, or @from. */
long long testmod_wait_change(const char *name, long long from,
				     int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	long long v;

	while ((v = testmod_get(name)) == from && stw_now_ms() < deadline)
		usleep(2000);
	return v;
}
