// SPDX-License-Identifier: GPL-2.0
/*
 * stwctl: drive the stw module (stop the world for registered kernel
 * threads) over generic netlink. One file per subcommand; this one holds
 * the table, the global options and the help.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "stwctl.h"
#include "uapi/stw.h"

bool opt_json;

static const struct subcommand *const subcommands[] = {
	&cmd_status, &cmd_stop, &cmd_hold, &cmd_resume, &cmd_step,
	&cmd_spawn, &cmd_kill, &cmd_job, &cmd_monitor,
};

static const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(subcommands[i]->name, name))
			return subcommands[i];
	return NULL;
}

static void print_usage(FILE *f)
{
	size_t i;

	fputs("Usage: stwctl [-j] [COMMAND] [ARGS...]\n"
	      "\n"
	      "Stops, steps and resumes the kernel threads (\"VMs\") registered with\n"
	      "the stw module, over its generic netlink family \"" STW_GENL_NAME "\".\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i]->name,
			subcommands[i]->summary);
	fputs("\n"
	      "With no command, stwctl runs 'status'.\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json   JSON output (also accepted after the command)\n"
	      "  -h, --help   this help; 'stwctl help COMMAND' or\n"
	      "               'stwctl COMMAND --help' describes one command\n"
	      "  --version    print the version\n"
	      "\n"
	      "Exit status:\n"
	      "  0  success\n"
	      "  1  the request failed (the kernel's reason is printed)\n"
	      "  2  usage error\n"
	      "  3  the stw module is not loaded\n"
	      "  4  the stop (or the step) timed out\n"
	      "\n"
	      "Every command but 'status' needs CAP_NET_ADMIN. Errors read\n"
	      "\"stwctl: COMMAND: <errno text>: <the kernel's message>\" on stderr.\n",
	      f);
}

void print_help(const struct subcommand *cmd, FILE *f)
{
	fprintf(f, "Usage: stwctl %s %s\n\n%s", cmd->name, cmd->synopsis,
		cmd->help);
}

static int do_help(int argc, char **argv)
{
	const struct subcommand *cmd;

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error(NULL, "help takes one command");
	cmd = find_subcommand(argv[1]);
	if (!cmd)
		return usage_error(NULL, "no command '%s'", argv[1]);
	print_help(cmd, stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static char *status_argv[] = { "status", NULL };
	const struct subcommand *cmd;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			opt_json = true;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			print_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("stwctl %s (generic netlink family \"%s\", version %d)\n",
			       STWCTL_VERSION, STW_GENL_NAME,
			       STW_GENL_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			return usage_error(NULL, "unknown option '%s'",
					   argv[i]);
		}
	}
	argc -= i;
	argv += i;
	if (!argc)
		return cmd_status.run(1, status_argv);
	if (!strcmp(argv[0], "help"))
		return do_help(argc, argv);
	cmd = find_subcommand(argv[0]);
	if (!cmd)
		return usage_error(NULL, "no command '%s'", argv[0]);
	return cmd->run(argc, argv);
}
