/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testmod: load, drive and read selftests/modules/stw_testmod.ko (see the
 * module's own comment for its parameters).
 */
#ifndef STW_TESTMOD_H
#define STW_TESTMOD_H

#define TESTMOD_KO	"/stw/selftests/modules/stw_testmod.ko"
#define TESTMOD_PARAMS	"/sys/module/stw_testmod/parameters/"

/* finit_module() of @path with @params: 0 or an errno. */
int load_module(const char *path, const char *params);
/* Unload stw_testmod if it is loaded: 0 or an errno. */
int testmod_unload(void);
/* Parameter @name as a number, or LLONG_MIN if it cannot be read. */
long long testmod_get(const char *name);
/* Write @what to its "action" parameter: 0 or an errno. */
int testmod_action(const char *what);
/* Wait until parameter @name is no longer @from; its value, or @from. */
long long testmod_wait_change(const char *name, long long from,
			      int timeout_ms);

#endif /* STW_TESTMOD_H */
