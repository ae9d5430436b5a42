// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap: the command table, the argument parser and the dispatcher.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Every subcommand is one row here; p2pmap(8) documents each. */
const struct cli_command cli_commands[] = {
	{
		.name		= "version",
		.handler	= cli_version_command,
		.help		= "show the versions of p2pmap, libp2pmap and the loaded kernel module",
		.usage		= "",
		.min_args	= 0,
		.max_args	= 0,
	},
};

const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);

void cli_print_usage(FILE *f, const struct cli_command *table,
		     size_t table_len)
{
	size_t i;

	fputs("usage: p2pmap [-o json|text] COMMAND [ARGS]\n"
	      "       p2pmap --help | --version\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < table_len; i++)
		fprintf(f, "  %-10s %s\n", table[i].name, table[i].help);
	fputs("\n"
	      "Options:\n"
	      "  -o, --output FORMAT  text (the default) or json\n"
	      "  -h, --help           this text, or a command's with COMMAND --help\n"
	      "  -V, --version        print p2pmap's version and exit\n"
	      "\n"
	      "Exit status: 0 done, 1 the operation failed, 2 usage error,\n"
	      "3 p2pmap not available (module not loaded). See p2pmap(8).\n", f);
}

void cli_print_command_usage(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "usage: p2pmap %s [-o json|text]%s%s\n\n"
		"p2pmap %s: %s.\n"
		"Exit status: 0 done, 1 the operation failed, 2 usage error,\n"
		"3 p2pmap not available (module not loaded). See p2pmap(8).\n",
		cmd->name, cmd->usage[0] ? " " : "", cmd->usage,
		cmd->name, cmd->help);
}

__attribute__((format(printf, 2, 3)))
static int cli_usage_error(const struct cli_invocation *inv,
			   const char *fmt, ...)
{
	va_list ap;

	fputs("p2pmap: ", inv->err);
	va_start(ap, fmt);
	vfprintf(inv->err, fmt, ap);
	va_end(ap);
	if (inv->command)
		fprintf(inv->err, " (see 'p2pmap %s --help')\n",
			inv->command->name);
	else
		fputs(" (see 'p2pmap --help')\n", inv->err);
	return CLI_EXIT_USAGE;
}

static const struct cli_command *cli_find(const struct cli_command *table,
					  size_t table_len, const char *name)
{
	size_t i;

	for (i = 0; i < table_len; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

static int cli_parse_output(struct cli_invocation *inv, const char *option,
			    const char *value)
{
	if (!strcmp(value, "text"))
		inv->output = CLI_OUTPUT_TEXT;
	else if (!strcmp(value, "json"))
		inv->output = CLI_OUTPUT_JSON;
	else
		return cli_usage_error(inv, "invalid %s '%s': expected json or text",
				       option, value);
	return CLI_EXIT_OK;
}

int cli_parse(int argc, char **argv, const struct cli_command *table,
	      size_t table_len, struct cli_invocation *inv)
{
	bool options_done = false;
	const char *arg;
	int i, ret;

	inv->output = CLI_OUTPUT_TEXT;
	inv->help = false;
	inv->version = false;
	inv->command = NULL;
	inv->argc = 0;
	inv->argv = calloc(argc > 0 ? argc : 1, sizeof(*inv->argv));
	if (!inv->argv) {
		fputs("p2pmap: out of memory\n", inv->err);
		return CLI_EXIT_FAILED;
	}

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (!options_done && arg[0] == '-' && arg[1]) {
			if (!strcmp(arg, "--")) {
				options_done = true;
			} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
				inv->help = true;
			} else if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
				inv->version = true;
			} else if (!strcmp(arg, "-o") || !strcmp(arg, "--output")) {
				if (i + 1 >= argc)
					return cli_usage_error(inv, "option %s needs a value: json or text",
							       arg);
				ret = cli_parse_output(inv, "output format", argv[++i]);
				if (ret)
					return ret;
			} else if (!strncmp(arg, "--output=", 9)) {
				ret = cli_parse_output(inv, "output format", arg + 9);
				if (ret)
					return ret;
			} else if (!strncmp(arg, "-o", 2)) {
				ret = cli_parse_output(inv, "output format", arg + 2);
				if (ret)
					return ret;
			} else {
				return cli_usage_error(inv, "unknown option '%s'", arg);
			}
			continue;
		}
		if (!inv->command) {
			inv->command = cli_find(table, table_len, arg);
			if (!inv->command)
				return cli_usage_error(inv, "unknown command '%s'", arg);
			continue;
		}
		inv->argv[inv->argc++] = argv[i];
	}

	/* --help and --version need nothing else, and ignore what is there. */
	if (inv->help || inv->version)
		return CLI_EXIT_OK;
	if (!inv->command) {
		if (argc <= 1) {	/* a bare 'p2pmap': show what it can do */
			cli_print_usage(inv->err, table, table_len);
			return CLI_EXIT_USAGE;
		}
		return cli_usage_error(inv, "no command given");
	}
	if ((unsigned int)inv->argc < inv->command->min_args ||
	    (unsigned int)inv->argc > inv->command->max_args) {
		if (inv->command->max_args == 0)
			return cli_usage_error(inv, "'%s' takes no arguments, got '%s'",
					       inv->command->name, inv->argv[0]);
		return cli_usage_error(inv, "'%s' takes %u to %u arguments, got %d",
				       inv->command->name, inv->command->min_args,
				       inv->command->max_args, inv->argc);
	}
	return CLI_EXIT_OK;
}

void cli_invocation_release(struct cli_invocation *inv)
{
	free(inv->argv);
	inv->argv = NULL;
	inv->argc = 0;
}

int cli_exit_for_error(const struct p2pmap_error *err)
{
	switch (err->code) {
	case P2PMAP_ERR_NONE:
		return CLI_EXIT_OK;
	case P2PMAP_ERR_NOT_LOADED:
	case P2PMAP_ERR_NO_DEVICE_NODE:
	case P2PMAP_ERR_NOT_P2PMAP:
		return CLI_EXIT_UNAVAILABLE;
	default:
		return CLI_EXIT_FAILED;
	}
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct cli_invocation inv = { .out = out, .err = err };
	int ret;

	ret = cli_parse(argc, argv, cli_commands, cli_command_count, &inv);
	if (ret)
		goto out;

	if (inv.help) {
		if (inv.command)
			cli_print_command_usage(out, inv.command);
		else
			cli_print_usage(out, cli_commands, cli_command_count);
		ret = CLI_EXIT_OK;
	} else if (inv.version) {
		ret = cli_program_version_print(out, inv.output) ?
			CLI_EXIT_FAILED : CLI_EXIT_OK;
	} else {
		ret = inv.command->handler(&inv);
	}
out:
	cli_invocation_release(&inv);
	return ret;
}
