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
bool opt_pretty;
const char *opt_world;

static const struct subcommand *const subcommands[] = {
	&cmd_status, &cmd_stop, &cmd_hold, &cmd_resume, &cmd_step,
	&cmd_spawn, &cmd_kill, &cmd_job, &cmd_monitor, &cmd_worlds,
};

/*
 * The subcommand NAME names, or the only one it begins (as iproute2 takes
 * "ip a"). NULL after a usage error, with *RET its exit code.
 */
static const struct subcommand *find_subcommand(const char *name, int *ret)
{
	const struct subcommand *found = NULL;
	size_t i, len = strlen(name), n = 0;

	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (!strcmp(subcommands[i]->name, name))
			return subcommands[i];
		if (len && !strncmp(subcommands[i]->name, name, len)) {
			found = subcommands[i];
			n++;
		}
	}
	if (n == 1)
		return found;
	if (!n) {
		*ret = usage_error(NULL, "no command '%s'", name);
		return NULL;
	}
	fprintf(stderr, "stwctl: '%s' is ambiguous:", name);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strncmp(subcommands[i]->name, name, len))
			fprintf(stderr, " %s", subcommands[i]->name);
	fputs(" (see 'stwctl --help')\n", stderr);
	*ret = EXIT_USAGE;
	return NULL;
}

static void print_usage(FILE *f)
{
	size_t i;

	fputs("Usage: stwctl [-j] [-p] [-w NAME] [COMMAND] [ARGS...]\n"
	      "\n"
	      "Stops, steps and resumes the kernel threads (\"VMs\") registered with\n"
	      "the stw module, over its generic netlink family \"" STW_GENL_NAME "\".\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i]->name,
			subcommands[i]->summary);
	fputs("\n"
	      "With no command, stwctl runs 'status'. A command may be shortened\n"
	      "to any prefix that names only it ('stwctl sta' is 'stwctl status').\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json     JSON output (also accepted after the command); every\n"
	      "                 object has \"version\" (Documentation/stwctl-json.md)\n"
	      "  -p, --pretty   indented JSON ('stwctl -jp status')\n"
	      "  -w, --world NAME\n"
	      "                 the world the command acts on (default \"" STW_WORLD_DEFAULT "\";\n"
	      "                 also accepted after the command: 'stwctl stop -w pool');\n"
	      "                 'stwctl worlds' lists them\n"
	      "  -h, --help     this help; 'stwctl help COMMAND' or\n"
	      "                 'stwctl COMMAND --help' describes one command\n"
	      "  -V, --version  print the version\n"
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
	int ret;

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error(NULL, "help takes one command");
	cmd = find_subcommand(argv[1], &ret);
	if (!cmd)
		return ret;
	print_help(cmd, stdout);
	return EXIT_OK;
}

static int print_version(void)
{
	printf("stwctl %s (generic netlink family \"%s\", version %d)\n",
	       stwctl_version, STW_GENL_NAME, STW_GENL_VERSION);
	return EXIT_OK;
}

/*
 * The value of -w/--world: the rest of the word ("-wpool", "--world=pool")
 * if there is one, else the next word, which *I then steps over.
 */
static int world_value(const char *rest, int argc, char **argv, int *i)
{
	if (*rest)
		return opt_world_arg(NULL, rest);
	if (*i + 1 >= argc)
		return usage_error(NULL, "option '%s' needs a value", argv[*i]);
	return opt_world_arg(NULL, argv[++*i]);
}

/*
 * The option argv[*i] before the command: "-j", "--json", or short ones
 * together ("-jp", "-jw pool"). Returns -1 to go on, else the exit code
 * to return at once.
 */
static int global_option(int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *c;
	int ret;

	if (!strncmp(arg, "--world=", 8)) {
		ret = opt_world_arg(NULL, arg + 8);	/* "--world=": empty */
		if (ret)
			return ret;
	} else if (!strcmp(arg, "--world")) {
		ret = world_value("", argc, argv, i);
		if (ret)
			return ret;
	} else if (!strcmp(arg, "--json")) {
		opt_json = true;
	} else if (!strcmp(arg, "--pretty")) {
		opt_pretty = true;
	} else if (!strcmp(arg, "--help")) {
		print_usage(stdout);
		return EXIT_OK;
	} else if (!strcmp(arg, "--version")) {
		return print_version();
	} else if (arg[1] == '-' || !arg[1]) {
		return usage_error(NULL, "unknown option '%s'", arg);
	} else {
		for (c = arg + 1; *c; c++) {
			switch (*c) {
			case 'j':
				opt_json = true;
				break;
			case 'p':
				opt_pretty = true;
				break;
			case 'h':
				print_usage(stdout);
				return EXIT_OK;
			case 'V':
				return print_version();
			case 'w':
				/* The value is the rest of the word, or the next. */
				ret = world_value(c + 1, argc, argv, i);
				return ret ? ret : -1;
			default:
				return usage_error(NULL, "unknown option '-%c'",
						   *c);
			}
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	static char *status_argv[] = { "status", NULL };
	const struct subcommand *cmd;
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		ret = global_option(argc, argv, &i);
		if (ret >= 0)
			return ret;
	}
	argc -= i;
	argv += i;
	if (!argc)
		return cmd_status.run(1, status_argv);
	if (!strcmp(argv[0], "help"))
		return do_help(argc, argv);
	cmd = find_subcommand(argv[0], &ret);
	if (!cmd)
		return ret;
	return cmd->run(argc, argv);
}
