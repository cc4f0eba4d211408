/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testmod: load, drive and read the selftests' client modules,
 * selftests/modules/stw_testmod.ko and stw_attachmod.ko (see each
 * module's own comment for its parameters).
 */
#ifndef STW_TESTMOD_H
#define STW_TESTMOD_H

#define TESTMOD_KO	"/stw/selftests/modules/stw_testmod.ko"
#define TESTMOD		"stw_testmod"
#define ATTACHMOD_KO	"/stw/selftests/modules/stw_attachmod.ko"
#define ATTACHMOD	"stw_attachmod"

/* finit_module() of @path with @params: 0 or an errno. */
int load_module(const char *path, const char *params);
/* Unload module @mod if it is loaded: 0 or an errno. */
int mod_unload(const char *mod);
/* Parameter @name of @mod as a number, or LLONG_MIN if it cannot be read. */
long long mod_get(const char *mod, const char *name);
/* Write @what to @mod's "action" parameter: 0 or an errno. */
int mod_action(const char *mod, const char *what);
/* Wait until parameter @name is no longer @from; its value, or @from. */
long long mod_wait_change(const char *mod, const char *name, long long from,
			  int timeout_ms);
/* Wait until parameter @name is at least @min; its value. */
long long mod_wait_at_least(const char *mod, const char *name,
			    long long min, int timeout_ms);

#define testmod_unload()		mod_unload(TESTMOD)
#define testmod_get(name)		mod_get(TESTMOD, name)
#define testmod_action(what)		mod_action(TESTMOD, what)
#define testmod_wait_change(name, from, ms) \
	mod_wait_change(TESTMOD, name, from, ms)

#endif /* STW_TESTMOD_H */
