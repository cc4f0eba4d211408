// SPDX-License-Identifier: GPL-2.0
/*
 * testmod: the selftests' hands on selftests/modules/, client modules of
 * stw's in-kernel API driven through their parameters.
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

int mod_unload(const char *mod)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	if (access(path, F_OK))
		return 0;
	return syscall(SYS_delete_module, mod, O_NONBLOCK) ? errno : 0;
}

long long mod_get(const char *mod, const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod,
		 name);
	if (stw_read_file(path, buf, sizeof(buf)) || !buf[0])
		return LLONG_MIN;
	return strtoll(buf, NULL, 10);
}

int mod_action(const char *mod, const char *what)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/action", mod);
	return stw_write_file(path, what);
}

long long mod_wait_change(const char *mod, const char *name, long long from,
			  int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	long long v;

	while ((v = mod_get(mod, name)) == from && stw_now_ms() < deadline)
		usleep(2000);
	return v;
}

long long mod_wait_at_least(const char *mod, const char *name,
			    long long min, int timeout_ms)
{
	int64_t deadline = stw_now_ms() + timeout_ms;
	long long v;

	while ((v = mod_get(mod, name)) < min && stw_now_ms() < deadline)
		usleep(2000);
	return v;
}
