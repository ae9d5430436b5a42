/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap, the command: its argument parser, command table and the output
 * of each command, separated from main() so that tests/host can drive them.
 */
#ifndef _P2PMAP_CLI_H
#define _P2PMAP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libp2pmap.h>

/* Exit codes, documented in p2pmap(8). */
enum cli_exit {
	CLI_EXIT_OK		= 0,	/* done */
	CLI_EXIT_FAILED		= 1,	/* the operation failed */
	CLI_EXIT_USAGE		= 2,	/* bad command line */
	CLI_EXIT_UNAVAILABLE	= 3,	/* p2pmap is not available */
};

enum cli_output {
	CLI_OUTPUT_TEXT,
	CLI_OUTPUT_JSON,
};

struct cli_invocation;

/* Whether an option takes a value. */
enum cli_option_arg {
	CLI_ARG_NONE,		/* --name */
	CLI_ARG_REQUIRED,	/* --name VALUE or --name=VALUE */
	CLI_ARG_OPTIONAL_NUMBER,/* --name, --name=N, or --name N when N is a number */
};

/* The most options one command has. */
#define CLI_MAX_OPTIONS	8

/**
 * struct cli_option - an option of one command
 * @name: the long name, without its dashes ("device" for --device).
 * @arg: whether it takes a value.
 * @value_name: the value in the usage ("BDF"), or NULL.
 * @help: one line for 'p2pmap COMMAND --help'.
 */
struct cli_option {
	const char *name;
	enum cli_option_arg arg;
	const char *value_name;
	const char *help;
};

/**
 * struct cli_command - one row of the command table
 * @name: the subcommand, as typed.
 * @handler: runs the command; returns an enum cli_exit.
 * @help: one line for 'p2pmap --help'.
 * @usage: the arguments after the name, e.g. "FILE [OFFSET LENGTH]", or "".
 * @min_args: the fewest positional arguments the command takes.
 * @max_args: the most positional arguments the command takes.
 * @options: the command's own options, ended by an entry without a name;
 *	NULL when it has none. At most CLI_MAX_OPTIONS.
 */
struct cli_command {
	const char *name;
	int (*handler)(const struct cli_invocation *inv);
	const char *help;
	const char *usage;
	unsigned int min_args;
	unsigned int max_args;
	const struct cli_option *options;
};

/**
 * struct cli_invocation - a parsed command line
 * @output: -o/--output (text by default).
 * @help: --help was given (for the command, when there is one).
 * @version: --version was given.
 * @command: the command's row, or NULL when none was named.
 * @argc: the number of positional arguments after the command.
 * @argv: the positional arguments (pointers into the caller's argv).
 * @opt_given: per entry of @command's options: it was given.
 * @opt_value: per entry of @command's options: its value (the last one
 *	given), or NULL.
 * @out: where results go (stdout).
 * @err: where messages go (stderr).
 */
struct cli_invocation {
	enum cli_output output;
	bool help;
	bool version;
	const struct cli_command *command;
	int argc;
	char **argv;
	bool opt_given[CLI_MAX_OPTIONS];
	const char *opt_value[CLI_MAX_OPTIONS];
	FILE *out;
	FILE *err;
};

static inline void cli_p2pmap_closep(struct p2pmap **handle)
{
	p2pmap_close(*handle);
}

/* A handle closed when it goes out of scope. */
#define _cleanup_p2pmap_	__attribute__((cleanup(cli_p2pmap_closep)))

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/*
 * cli_parse() - parse p2pmap's command line
 *
 * Options may come before or after the command; "--" ends them. Fills @inv
 * (whose @out and @err the caller sets); inv->argv must be released with
 * cli_invocation_release(), also after a failure.
 *
 * Return: CLI_EXIT_OK, or CLI_EXIT_USAGE after printing why on inv->err.
 */
int cli_parse(int argc, char **argv, const struct cli_command *table,
	      size_t table_len, struct cli_invocation *inv);
void cli_invocation_release(struct cli_invocation *inv);

/* The whole command: parse, then help, --version or the command. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

void cli_print_usage(FILE *f, const struct cli_command *table,
		     size_t table_len);
void cli_print_command_usage(FILE *f, const struct cli_command *cmd);

/* Map a libp2pmap failure to an exit code. */
int cli_exit_for_error(const struct p2pmap_error *err);

/*
 * cli_usage_error() - report a bad command line
 *
 * Prints "p2pmap: MESSAGE (see 'p2pmap COMMAND --help')" on inv->err.
 * Return: CLI_EXIT_USAGE.
 */
__attribute__((format(printf, 2, 3)))
int cli_usage_error(const struct cli_invocation *inv, const char *fmt, ...);

/* Was the command's option @name given? */
bool cli_option_given(const struct cli_invocation *inv, const char *name);
/* The value of the command's option @name, or NULL. */
const char *cli_option_value(const struct cli_invocation *inv,
			     const char *name);

/*
 * Values on the command line. Each returns 0, or CLI_EXIT_USAGE after a
 * message naming @what and the text.
 *
 * cli_parse_size(): a byte count or offset: decimal, 0x hexadecimal, or
 * with a binary suffix K, M, G, T (KiB ... TiB; "4K" is 4096).
 * cli_parse_count(): a whole number from @min to @max.
 * cli_parse_seconds(): a duration in seconds, "2" or "0.5", from 0.01 to
 * 86400, as milliseconds.
 */
int cli_parse_size(const struct cli_invocation *inv, const char *what,
		   const char *text, uint64_t *out);
int cli_parse_count(const struct cli_invocation *inv, const char *what,
		    const char *text, uint64_t min, uint64_t max,
		    uint64_t *out);
int cli_parse_seconds(const struct cli_invocation *inv, const char *what,
		      const char *text, uint64_t *ms);

/* Copy @src into @dst of @len bytes, truncated and NUL-terminated. */
void cli_copy(char *dst, size_t len, const char *src);

/*
 * cli_format_bytes() - a byte count for people: "512 B", "4 KiB",
 * "1.5 MiB" (one decimal when it is not whole). Return: @buf.
 */
char *cli_format_bytes(uint64_t bytes, char *buf, size_t len);

/**
 * struct cli_version_report - what 'p2pmap version' reports
 * @program: this command's version.
 * @library: libp2pmap's version.
 * @library_abi: the ABI libp2pmap speaks.
 * @module_loaded: @module is valid; otherwise @error says why not.
 * @module: the loaded module's answer to the version ioctl.
 * @error: why the module could not be asked.
 */
struct cli_version_report {
	const char *program;
	const char *library;
	unsigned int library_abi;
	bool module_loaded;
	struct p2pmap_version module;
	struct p2pmap_error error;
};

/* Print @r as text or JSON. Return: 0, or -EINVAL for a JSON writer bug. */
int cli_version_print(FILE *out, enum cli_output output,
		      const struct cli_version_report *r);

/* The handler of 'p2pmap version'. */
int cli_version_command(const struct cli_invocation *inv);

/* 'p2pmap --version' */
int cli_program_version_print(FILE *out, enum cli_output output);

/* The handlers of 'p2pmap stats', 'check' and 'topo' (stats.c, check.c, topo.c). */
int cli_stats_command(const struct cli_invocation *inv);
int cli_check_command(const struct cli_invocation *inv);
int cli_topo_command(const struct cli_invocation *inv);

extern const struct cli_option cli_stats_options[];
extern const struct cli_option cli_check_options[];
extern const struct cli_option cli_topo_options[];

/* 'p2pmap bench' (bench.c): P2P against read(2), O_DIRECT, a bare bio loop. */
int cli_bench_command(const struct cli_invocation *inv);
extern const struct cli_option cli_bench_options[];

/* 'p2pmap layout' (layout.c): a pNFS-style client of /dev/p2pmap's layouts. */
int cli_layout_command(const struct cli_invocation *inv);
extern const struct cli_option cli_layout_options[];

#endif /* _P2PMAP_CLI_H */
