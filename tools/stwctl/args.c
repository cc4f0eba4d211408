// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: command line parsing shared by the subcommands.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

/* Decimal only: no sign, no space, no trailing junk, within [min, max]. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int usage_error(const struct subcommand *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("stwctl: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, " (see 'stwctl help %s')\n", cmd->name);
	else
		fputs(" (see 'stwctl --help')\n", stderr);
	return EXIT_USAGE;
}

int opt_u32(const struct subcommand *cmd, const char *opt, const char *s,
	    uint32_t min, uint32_t max, uint32_t *out)
{
	if (!parse_u32(s, min, max, out))
		return 0;
	return usage_error(cmd, "%s: '%s' is not a number in %u..%u",
			   opt, s, min, max);
}

int opt_world_arg(const struct subcommand *cmd, const char *name)
{
	size_t len = strlen(name);

	/* The lib would refuse it too, but as a failed request (exit 1). */
	if (!len || len >= STW_WORLD_NAME_LEN)
		return usage_error(cmd, "--world: a world's name is 1 to %d bytes",
				   STW_WORLD_NAME_LEN - 1);
	opt_world = name;
	return 0;
}

int opt_common(const struct subcommand *cmd, int c, char **argv)
{
	switch (c) {
	case 'j':
		opt_json = true;
		return -1;
	case 'w':
		return opt_world_arg(cmd, optarg) ?: -1;
	case 'h':
		print_help(cmd, stdout);
		return EXIT_OK;
	case ':':
		return usage_error(cmd, "option '%s' needs a value",
				   argv[optind - 1]);
	case '?':
		if (optopt)
			return usage_error(cmd, "unknown option '-%c'", optopt);
		return usage_error(cmd, "unknown option '%s'",
				   argv[optind - 1]);
	default:
		return usage_error(cmd, "unhandled option");
	}
}

int opts_common_only(const struct subcommand *cmd, int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, OPT_END };
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		ret = opt_common(cmd, c, argv);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind]);
	return -1;
}
