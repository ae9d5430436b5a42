// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap's command line (userspace/cli/cli.c): global options before or
 * after the command, -o forms, usage errors with their messages and exit
 * code 2, --help and --version, the command table.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hosttest.h"
#include "cli.h"

static int fake_handler(const struct cli_invocation *inv)
{
	return 42;
}

/* A table shaped like the commands to come: no, one to three arguments. */
static const struct cli_command fake_table[] = {
	{ "plain", fake_handler, "takes nothing", "", 0, 0, NULL },
	{ "check", fake_handler, "takes a file and a range", "FILE [OFFSET LENGTH]", 1, 3, NULL },
};

#define FAKE_LEN	(sizeof(fake_table) / sizeof(fake_table[0]))
#define ARGC(a)		((int)(sizeof(a) / sizeof((a)[0])))

struct parsed {
	int ret;
	struct cli_invocation inv;
	struct capture err;
};

static void parse(struct parsed *p, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	if (capture_begin(&p->err))
		abort();
	p->inv.out = stdout;
	p->inv.err = p->err.f;
	p->ret = cli_parse(argc, argv, fake_table, FAKE_LEN, &p->inv);
	capture_end(&p->err);
}

static void parsed_release(struct parsed *p)
{
	cli_invocation_release(&p->inv);
	capture_free(&p->err);
}

/* A command alone: text output, no arguments, nothing on stderr. */
TEST(command_alone)
{
	char *argv[] = { "p2pmap", "plain" };
	struct parsed p;

	parse(&p, ARGC(argv), argv);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	ASSERT_NE(NULL, p.inv.command);
	EXPECT_STREQ("plain", p.inv.command->name);
	EXPECT_EQ(CLI_OUTPUT_TEXT, (int)p.inv.output);
	EXPECT_EQ(0, p.inv.argc);
	EXPECT_FALSE(p.inv.help);
	EXPECT_FALSE(p.inv.version);
	EXPECT_STREQ("", p.err.buf);
	parsed_release(&p);
}

/* -o json, -ojson, --output json and --output=json, before or after. */
TEST(output_option_forms)
{
	char *a1[] = { "p2pmap", "-o", "json", "plain" };
	char *a2[] = { "p2pmap", "plain", "-ojson" };
	char *a3[] = { "p2pmap", "--output", "json", "plain" };
	char *a4[] = { "p2pmap", "plain", "--output=json" };
	char *a5[] = { "p2pmap", "-o", "json", "plain", "-o", "text" };
	struct parsed p;

	parse(&p, ARGC(a1), a1);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	parsed_release(&p);
	parse(&p, ARGC(a2), a2);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	parsed_release(&p);
	parse(&p, ARGC(a3), a3);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	parsed_release(&p);
	parse(&p, ARGC(a4), a4);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	parsed_release(&p);
	/* the last one wins */
	parse(&p, ARGC(a5), a5);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_EQ(CLI_OUTPUT_TEXT, (int)p.inv.output);
	parsed_release(&p);
}

/* Positional arguments are collected in order; "--" ends the options. */
TEST(positional_arguments)
{
	char *argv[] = { "p2pmap", "check", "file", "-o", "json", "--", "-1", "4096" };
	struct parsed p;

	parse(&p, ARGC(argv), argv);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_STREQ("check", p.inv.command->name);
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	ASSERT_EQ(3, p.inv.argc);
	EXPECT_STREQ("file", p.inv.argv[0]);
	EXPECT_STREQ("-1", p.inv.argv[1]);
	EXPECT_STREQ("4096", p.inv.argv[2]);
	parsed_release(&p);
}

/* Each usage error: exit 2 and a message that names the problem. */
TEST(usage_errors)
{
	static const struct {
		int argc;
		char *argv[6];
		const char *message;
	} cases[] = {
		{ 2, { "p2pmap", "frobnicate" },
		  "p2pmap: unknown command 'frobnicate' (see 'p2pmap --help')\n" },
		{ 3, { "p2pmap", "--bogus", "plain" },
		  "p2pmap: unknown option '--bogus' (see 'p2pmap --help')\n" },
		{ 3, { "p2pmap", "plain", "-x" },
		  "p2pmap: unknown option '-x' (see 'p2pmap plain --help')\n" },
		{ 3, { "p2pmap", "plain", "-o" },
		  "p2pmap: option -o needs a value: json or text (see 'p2pmap plain --help')\n" },
		{ 4, { "p2pmap", "-o", "xml", "plain" },
		  "p2pmap: invalid output format 'xml': expected json or text (see 'p2pmap --help')\n" },
		{ 3, { "p2pmap", "--output=", "plain" },
		  "p2pmap: invalid output format '': expected json or text (see 'p2pmap --help')\n" },
		{ 3, { "p2pmap", "-o", "json" },
		  "p2pmap: no command given (see 'p2pmap --help')\n" },
		{ 3, { "p2pmap", "plain", "extra" },
		  "p2pmap: 'plain' takes no arguments, got 'extra' (see 'p2pmap plain --help')\n" },
		{ 2, { "p2pmap", "check" },
		  "p2pmap: 'check' takes 1 to 3 arguments, got 0 (see 'p2pmap check --help')\n" },
		{ 6, { "p2pmap", "check", "a", "b", "c", "d" },
		  "p2pmap: 'check' takes 1 to 3 arguments, got 4 (see 'p2pmap check --help')\n" },
	};
	struct parsed p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(&p, cases[i].argc, (char **)cases[i].argv);
		EXPECT_EQ(CLI_EXIT_USAGE, p.ret) TH_LOG("case %zu", i);
		EXPECT_STREQ(cases[i].message, p.err.buf) TH_LOG("case %zu", i);
		parsed_release(&p);
	}
}

/* A bare 'p2pmap' prints the usage on stderr and exits 2. */
TEST(bare_command_prints_usage)
{
	char *argv[] = { "p2pmap" };
	struct parsed p;

	parse(&p, ARGC(argv), argv);
	EXPECT_EQ(CLI_EXIT_USAGE, p.ret);
	EXPECT_NE(NULL, strstr(p.err.buf, "usage: p2pmap [-o json|text] COMMAND [ARGS]"));
	EXPECT_NE(NULL, strstr(p.err.buf, "  check      takes a file and a range\n"));
	parsed_release(&p);
}

/* --help and --version need no command and ignore the argument count. */
TEST(help_and_version_flags)
{
	char *a1[] = { "p2pmap", "--help" };
	char *a2[] = { "p2pmap", "check", "-h" };
	char *a3[] = { "p2pmap", "-V" };
	char *a4[] = { "p2pmap", "--version", "-o", "json" };
	struct parsed p;

	parse(&p, ARGC(a1), a1);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(p.inv.help);
	EXPECT_EQ(NULL, p.inv.command);
	parsed_release(&p);
	parse(&p, ARGC(a2), a2);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(p.inv.help);
	ASSERT_NE(NULL, p.inv.command);
	EXPECT_STREQ("check", p.inv.command->name);
	parsed_release(&p);
	parse(&p, ARGC(a3), a3);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(p.inv.version);
	parsed_release(&p);
	parse(&p, ARGC(a4), a4);
	EXPECT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(p.inv.version);
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	parsed_release(&p);
}

static int run_main(int argc, char **argv, struct capture *out,
		    struct capture *err)
{
	int ret;

	if (capture_begin(out) || capture_begin(err))
		abort();
	ret = cli_main(argc, argv, out->f, err->f);
	capture_end(out);
	capture_end(err);
	return ret;
}

/* The real table: every row is complete, and --help lists every command. */
TEST(command_table_complete)
{
	char *argv[] = { "p2pmap", "--help" };
	struct capture out, err;
	char line[128];
	size_t i, j;

	ASSERT_LT(0U, cli_command_count);
	ASSERT_EQ(CLI_EXIT_OK, run_main(ARGC(argv), argv, &out, &err));
	EXPECT_STREQ("", err.buf);
	for (i = 0; i < cli_command_count; i++) {
		const struct cli_command *c = &cli_commands[i];

		EXPECT_NE(NULL, c->name);
		EXPECT_NE(NULL, c->handler) TH_LOG("%s", c->name);
		EXPECT_NE(NULL, c->usage) TH_LOG("%s", c->name);
		ASSERT_NE(NULL, c->help);
		EXPECT_LT(0U, strlen(c->help)) TH_LOG("%s", c->name);
		EXPECT_LE(c->min_args, c->max_args) TH_LOG("%s", c->name);
		snprintf(line, sizeof(line), "  %-10s %s\n", c->name, c->help);
		EXPECT_NE(NULL, strstr(out.buf, line)) TH_LOG("%s", line);
		for (j = 0; j < i; j++)
			EXPECT_STRNE(cli_commands[j].name, c->name);
	}
	capture_free(&out);
	capture_free(&err);
}

/* --version prints the project's version from the VERSION file. */
TEST(version_flag_prints_version_file)
{
	char *argv[] = { "p2pmap", "--version" };
	char want[64], *path, *nl;
	struct capture out, err;
	FILE *f;

	path = source_path("VERSION");
	ASSERT_NE(NULL, path);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s", path);
	strcpy(want, "p2pmap ");
	ASSERT_NE(NULL, fgets(want + 7, sizeof(want) - 7, f));
	fclose(f);
	free(path);
	nl = strchr(want, '\n');
	if (!nl)
		nl = want + strlen(want);
	strcpy(nl, "\n");

	ASSERT_EQ(CLI_EXIT_OK, run_main(ARGC(argv), argv, &out, &err));
	EXPECT_STREQ(want, out.buf);
	EXPECT_STREQ("", err.buf);
	capture_free(&out);
	capture_free(&err);
}

/* 'p2pmap COMMAND --help' shows that command's usage on stdout, exit 0. */
TEST(command_help)
{
	char *argv[] = { "p2pmap", "version", "--help" };
	struct capture out, err;

	ASSERT_EQ(CLI_EXIT_OK, run_main(ARGC(argv), argv, &out, &err));
	EXPECT_EQ(0, strncmp(out.buf, "usage: p2pmap version [-o json|text]\n",
			     strlen("usage: p2pmap version [-o json|text]\n")))
		TH_LOG("%s", out.buf);
	EXPECT_STREQ("", err.buf);
	capture_free(&out);
	capture_free(&err);
}

TEST_HARNESS_MAIN
