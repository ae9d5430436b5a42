// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap: the command table, the argument parser and the dispatcher.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
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
	{
		.name		= "topo",
		.handler	= cli_topo_command,
		.help		= "show the PCI devices, NVMe CMBs and P2P routes that matter, with reasons",
		.usage		= "",
		.min_args	= 0,
		.max_args	= 0,
		.options	= cli_topo_options,
	},
	{
		.name		= "check",
		.handler	= cli_check_command,
		.help		= "show which path each range of a file would take (P2P or page cache) and why",
		.usage		= "FILE [OFFSET LENGTH]",
		.min_args	= 1,
		.max_args	= 3,
		.options	= cli_check_options,
	},
	{
		.name		= "stats",
		.handler	= cli_stats_command,
		.help		= "show the framework's counters: totals, per importer, per CMB",
		.usage		= "",
		.min_args	= 0,
		.max_args	= 0,
		.options	= cli_stats_options,
	},
	{
		.name		= "bench",
		.handler	= cli_bench_command,
		.help		= "measure P2P against read(2), O_DIRECT and a bare bio loop, with the bars",
		.usage		= "[DIR]",
		.min_args	= 0,
		.max_args	= 1,
		.options	= cli_bench_options,
	},
	{
		.name		= "layout",
		.handler	= cli_layout_command,
		.help		= "a pNFS-style client: show a file's layout, read or write its blocks through one",
		.usage		= "show|read FILE [OFFSET [LENGTH]] | write FILE [OFFSET]",
		.min_args	= 2,
		.max_args	= 4,
		.options	= cli_layout_options,
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

/* "--name VALUE", "--name [N]" or "--name" */
static void cli_option_synopsis(FILE *f, const struct cli_option *o)
{
	switch (o->arg) {
	case CLI_ARG_NONE:
		fprintf(f, "--%s", o->name);
		break;
	case CLI_ARG_REQUIRED:
		fprintf(f, "--%s %s", o->name, o->value_name);
		break;
	case CLI_ARG_OPTIONAL_NUMBER:
		fprintf(f, "--%s [%s]", o->name, o->value_name);
		break;
	}
}

void cli_print_command_usage(FILE *f, const struct cli_command *cmd)
{
	const struct cli_option *o;
	int width;

	fprintf(f, "usage: p2pmap %s [-o json|text]%s%s", cmd->name,
		cmd->usage[0] ? " " : "", cmd->usage);
	for (o = cmd->options; o && o->name; o++) {
		fputs(" [", f);
		cli_option_synopsis(f, o);
		fputc(']', f);
	}
	fprintf(f, "\n\np2pmap %s: %s.\n", cmd->name, cmd->help);
	if (cmd->options && cmd->options->name) {
		fputs("\nOptions:\n", f);
		for (o = cmd->options; o->name; o++) {
			fputs("  ", f);
			width = (int)strlen(o->name) + 2 +
				(o->value_name && o->arg != CLI_ARG_NONE ?
				 (int)strlen(o->value_name) + 1 +
				 2 * (o->arg == CLI_ARG_OPTIONAL_NUMBER) : 0);
			cli_option_synopsis(f, o);
			fprintf(f, "%*s  %s\n", width < 20 ? 20 - width : 0, "",
				o->help);
		}
		fputc('\n', f);
	}
	fputs("Exit status: 0 done, 1 the operation failed, 2 usage error,\n"
	      "3 p2pmap not available (module not loaded). See p2pmap(8).\n", f);
}

int cli_usage_error(const struct cli_invocation *inv, const char *fmt, ...)
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

/* The index of --@name (@len bytes) among @cmd's options, or -1. */
static int cli_find_option(const struct cli_command *cmd, const char *name,
			   size_t len)
{
	int i;

	for (i = 0; cmd && cmd->options && cmd->options[i].name; i++)
		if (strlen(cmd->options[i].name) == len &&
		    !strncmp(cmd->options[i].name, name, len))
			return i;
	return -1;
}

/* Does @s look like a number (so that it is the value of --watch)? */
static bool cli_looks_numeric(const char *s)
{
	return (s[0] >= '0' && s[0] <= '9') || (s[0] == '.' && s[1] >= '0' && s[1] <= '9');
}

/*
 * A command's option at argv[*i]; may consume the next argument as its
 * value. Return: CLI_EXIT_OK, or CLI_EXIT_USAGE after the message.
 */
static int cli_parse_command_option(int argc, char **argv, int *i,
				    const struct cli_command *table,
				    size_t table_len,
				    struct cli_invocation *inv)
{
	const char *arg = argv[*i], *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_option *o;
	size_t t;
	int idx;

	idx = arg[1] == '-' ? cli_find_option(inv->command, name, len) : -1;
	if (idx < 0) {
		for (t = 0; !inv->command && arg[1] == '-' && t < table_len; t++)
			if (cli_find_option(&table[t], name, len) >= 0)
				return cli_usage_error(inv, "option '%.*s' must follow its command ('p2pmap %s ... --%.*s')",
						       (int)len + 2, arg, table[t].name,
						       (int)len, name);
		return cli_usage_error(inv, "unknown option '%s'", arg);
	}
	o = &inv->command->options[idx];
	inv->opt_given[idx] = true;
	switch (o->arg) {
	case CLI_ARG_NONE:
		if (eq)
			return cli_usage_error(inv, "option --%s takes no value",
					       o->name);
		inv->opt_value[idx] = NULL;
		break;
	case CLI_ARG_REQUIRED:
		if (eq) {
			inv->opt_value[idx] = eq + 1;
		} else if (*i + 1 < argc) {
			inv->opt_value[idx] = argv[++*i];
		} else {
			return cli_usage_error(inv, "option --%s needs a value: %s",
					       o->name, o->value_name);
		}
		break;
	case CLI_ARG_OPTIONAL_NUMBER:
		if (eq)
			inv->opt_value[idx] = eq + 1;
		else if (*i + 1 < argc && cli_looks_numeric(argv[*i + 1]))
			inv->opt_value[idx] = argv[++*i];
		else
			inv->opt_value[idx] = NULL;
		break;
	}
	return CLI_EXIT_OK;
}

bool cli_option_given(const struct cli_invocation *inv, const char *name)
{
	int idx = cli_find_option(inv->command, name, strlen(name));

	return idx >= 0 && inv->opt_given[idx];
}

const char *cli_option_value(const struct cli_invocation *inv,
			     const char *name)
{
	int idx = cli_find_option(inv->command, name, strlen(name));

	return idx >= 0 ? inv->opt_value[idx] : NULL;
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
	memset(inv->opt_given, 0, sizeof(inv->opt_given));
	memset(inv->opt_value, 0, sizeof(inv->opt_value));
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
				ret = cli_parse_command_option(argc, argv, &i, table,
							       table_len, inv);
				if (ret)
					return ret;
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
	case P2PMAP_ERR_UNSUPPORTED:	/* the loaded module cannot do it */
		return CLI_EXIT_UNAVAILABLE;
	default:
		return CLI_EXIT_FAILED;
	}
}

int cli_parse_size(const struct cli_invocation *inv, const char *what,
		   const char *text, uint64_t *out)
{
	unsigned int shift = 0;
	unsigned long long v;
	char *end;

	if (!text[0] || text[0] == '-' || text[0] == '+' || text[0] == ' ')
		goto bad;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text)
		goto bad;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (shift && !strcmp(end, "iB"))
		end += 2;
	if (*end)
		goto bad;
	if (shift && v > (UINT64_MAX >> shift))
		return cli_usage_error(inv, "%s '%s' is too large", what, text);
	*out = (uint64_t)v << shift;
	return CLI_EXIT_OK;
bad:
	return cli_usage_error(inv, "invalid %s '%s': expected a number of bytes (4096, 0x1000, 4K, 1M)",
			       what, text);
}

int cli_parse_count(const struct cli_invocation *inv, const char *what,
		    const char *text, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		goto bad;
	v = strtoull(text, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return CLI_EXIT_OK;
bad:
	return cli_usage_error(inv, "invalid %s '%s': expected a whole number from %" PRIu64 " to %" PRIu64,
			       what, text, min, max);
}

int cli_parse_seconds(const struct cli_invocation *inv, const char *what,
		      const char *text, uint64_t *ms)
{
	double v;
	char *end;

	errno = 0;
	if (!cli_looks_numeric(text))
		goto bad;
	v = strtod(text, &end);
	if (errno || *end || !isfinite(v) || v < 0.01 || v > 86400)
		goto bad;
	*ms = (uint64_t)(v * 1000 + 0.5);
	return CLI_EXIT_OK;
bad:
	return cli_usage_error(inv, "invalid %s '%s': expected seconds from 0.01 to 86400 (e.g. 2 or 0.5)",
			       what, text);
}

void cli_copy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

char *cli_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;
	uint64_t whole = bytes, rem = 0, div = 1;

	while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		div <<= 10;
		whole = bytes / div;
		rem = bytes % div;
		u++;
	}
	if (!rem) {
		snprintf(buf, len, "%" PRIu64 " %s", whole, units[u]);
	} else {
		/* one decimal, rounded down; rem < div <= 2^60: no overflow */
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s", whole,
			 rem * 10 / div, units[u]);
	}
	return buf;
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
