/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stwctl: shared declarations: exit codes, the subcommand table entry and
 * the global options.
 */
#ifndef STWCTL_H
#define STWCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "stw_client.h"

/* "0.2.0-<git describe>", from VERSION and the tree (see the Makefile). */
extern const char stwctl_version[];

/* Exit codes, documented in `stwctl --help`. */
enum {
	EXIT_OK		= 0,	/* done */
	EXIT_FAILED	= 1,	/* the request failed */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NOMODULE	= 3,	/* the stw module is not loaded */
	EXIT_TIMEDOUT	= 4,	/* the stop or the step timed out */
};

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;	/* the arguments, after the name */
	const char *summary;	/* one line for `stwctl --help` */
	const char *help;	/* the body of `stwctl help NAME` */
};

extern const struct subcommand cmd_status, cmd_stop, cmd_hold, cmd_resume,
	cmd_step, cmd_spawn, cmd_kill, cmd_job, cmd_monitor, cmd_worlds;

/* -j/--json, given before or after the subcommand; -p/--pretty before. */
extern bool opt_json;
extern bool opt_pretty;
/*
 * -w/--world NAME, before or after the subcommand (the last one given
 * wins): the world the command acts on. NULL: none given, the kernel's
 * default (STW_WORLD_DEFAULT); monitor then shows every world's events.
 */
extern const char *opt_world;

void print_help(const struct subcommand *cmd, FILE *f);

#endif /* STWCTL_H */
