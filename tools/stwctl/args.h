/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: command line parsing shared by the subcommands: numbers with
 * range checks and one-line usage errors (exit code 2).
 */
#ifndef STWCTL_ARGS_H
#define STWCTL_ARGS_H

#include <getopt.h>
#include <stdint.h>

#include "stwctl.h"

/*
 * Options every subcommand takes; append them to its getopt table, and
 * COMMON_SHORTOPTS to its option string.
 */
#define COMMON_LONGOPTS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "world", required_argument, NULL, 'w' }
#define COMMON_SHORTOPTS	"jhw:"

#define OPT_END		{ NULL, 0, NULL, 0 }

/* A limit of uapi/stw.h in a help text: STR(STW_TIMEOUT_MAX_MS). */
#define STR_(x)		#x
#define STR(x)		STR_(x)

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Prints "stwctl: NAME: MESSAGE (see 'stwctl help NAME')"; returns 2. */
int usage_error(const struct subcommand *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses OPT's value into *out, or reports a usage error. */
int opt_u32(const struct subcommand *cmd, const char *opt, const char *s,
	    uint32_t min, uint32_t max, uint32_t *out);

/* Checks a -w/--world value and makes it opt_world, or a usage error. */
int opt_world_arg(const struct subcommand *cmd, const char *name);

/*
 * The default case of a subcommand's getopt loop: handles -j, -h, -w and
 * the errors. Returns -1 if the option was handled and parsing goes on, else
 * the exit code to return at once (0 after --help).
 */
int opt_common(const struct subcommand *cmd, int c, char **argv);

/*
 * The whole command line of a subcommand that takes the common options
 * only (status, worlds, monitor): -1 to go on, else the exit code.
 */
int opts_common_only(const struct subcommand *cmd, int argc, char **argv);

#endif /* STWCTL_ARGS_H */
