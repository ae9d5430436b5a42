/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap, the command: its argument parser, command table and the output
 * of each command, separated from main() so that tests/host can drive them.
 */
#ifndef _P2PMAP_CLI_H
#define _P2PMAP_CLI_H

#include <stdbool.h>
#include <stddef.h>
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

/**
 * struct cli_command - one row of the command table
 * @name: the subcommand, as typed.
 * @handler: runs the command; returns an enum cli_exit.
 * @help: one line for 'p2pmap --help'.
 * @usage: the arguments after the name, e.g. "FILE [OFFSET LENGTH]", or "".
 * @min_args: the fewest positional arguments the command takes.
 * @max_args: the most positional arguments the command takes.
 */
struct cli_command {
	const char *name;
	int (*handler)(const struct cli_invocation *inv);
	const char *help;
	const char *usage;
	unsigned int min_args;
	unsigned int max_args;
};

/**
 * struct cli_invocation - a parsed command line
 * @output: -o/--output (text by default).
 * @help: --help was given (for the command, when there is one).
 * @version: --version was given.
 * @command: the command's row, or NULL when none was named.
 * @argc: the number of positional arguments after the command.
 * @argv: the positional arguments (pointers into the caller's argv).
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

#endif /* _P2PMAP_CLI_H */
