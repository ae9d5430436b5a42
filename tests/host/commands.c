// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap topo, check and stats on the host, without the module: their
 * options and values (userspace/cli/cli.c), the usage errors their handlers
 * report before touching the system, and the output of each for answers
 * built here (userspace/cli/{stats,check,topo_model}.c): text for people,
 * JSON that the validator accepts, with the values the answers hold.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hosttest.h"
#include "check.h"
#include "cli.h"
#include "stats.h"
#include "topo.h"

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
	p->ret = cli_parse(argc, argv, cli_commands, cli_command_count, &p->inv);
	capture_end(&p->err);
}

static void parsed_release(struct parsed *p)
{
	cli_invocation_release(&p->inv);
	capture_free(&p->err);
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

/* JSON in @s must be valid; logs why not. */
#define EXPECT_JSON_VALID(s) do {					\
	char __why[160];						\
	EXPECT_EQ(0, json_check((s), __why, sizeof(__why)))		\
		TH_LOG("invalid JSON (%s):\n%s", __why, (s));		\
} while (0)

#define EXPECT_CONTAINS(hay, needle)					\
	EXPECT_NE(NULL, strstr((hay), (needle)))			\
		TH_LOG("'%s' not found in:\n%s", (needle), (hay))

#define EXPECT_LACKS(hay, needle)					\
	EXPECT_EQ(NULL, strstr((hay), (needle)))			\
		TH_LOG("'%s' found in:\n%s", (needle), (hay))

/* ---- options ------------------------------------------------------------------ */

/* check: --device BDF, --device=BDF, before or after the positionals. */
TEST(check_device_option_forms)
{
	char *a1[] = { "p2pmap", "check", "f", "--device", "0000:04:00.0" };
	char *a2[] = { "p2pmap", "check", "--device=04:00.0", "f", "0", "4K" };
	struct parsed p;

	parse(&p, ARGC(a1), a1);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(cli_option_given(&p.inv, "device"));
	EXPECT_STREQ("0000:04:00.0", cli_option_value(&p.inv, "device"));
	ASSERT_EQ(1, p.inv.argc);
	EXPECT_STREQ("f", p.inv.argv[0]);
	parsed_release(&p);

	parse(&p, ARGC(a2), a2);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_STREQ("04:00.0", cli_option_value(&p.inv, "device"));
	ASSERT_EQ(3, p.inv.argc);
	EXPECT_STREQ("4K", p.inv.argv[2]);
	parsed_release(&p);
}

/* stats --watch takes a number only when one follows; --count is separate. */
TEST(stats_watch_optional_value)
{
	char *a1[] = { "p2pmap", "stats", "--watch" };
	char *a2[] = { "p2pmap", "stats", "--watch", "2", "--count", "3" };
	char *a3[] = { "p2pmap", "stats", "--watch", "--count", "3" };
	char *a4[] = { "p2pmap", "stats", "--watch=0.5" };
	char *a5[] = { "p2pmap", "stats", "--watch", ".5", "-o", "json" };
	struct parsed p;

	parse(&p, ARGC(a1), a1);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(cli_option_given(&p.inv, "watch"));
	EXPECT_EQ(NULL, cli_option_value(&p.inv, "watch"));
	EXPECT_FALSE(cli_option_given(&p.inv, "count"));
	parsed_release(&p);

	parse(&p, ARGC(a2), a2);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_STREQ("2", cli_option_value(&p.inv, "watch"));
	EXPECT_STREQ("3", cli_option_value(&p.inv, "count"));
	EXPECT_EQ(0, p.inv.argc);
	parsed_release(&p);

	parse(&p, ARGC(a3), a3);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_TRUE(cli_option_given(&p.inv, "watch"));
	EXPECT_EQ(NULL, cli_option_value(&p.inv, "watch"));
	EXPECT_STREQ("3", cli_option_value(&p.inv, "count"));
	parsed_release(&p);

	parse(&p, ARGC(a4), a4);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_STREQ("0.5", cli_option_value(&p.inv, "watch"));
	parsed_release(&p);

	parse(&p, ARGC(a5), a5);
	ASSERT_EQ(CLI_EXIT_OK, p.ret);
	EXPECT_STREQ(".5", cli_option_value(&p.inv, "watch"));
	EXPECT_EQ(CLI_OUTPUT_JSON, (int)p.inv.output);
	parsed_release(&p);
}

/* Each misplaced or malformed option: exit 2 and a message naming it. */
TEST(option_usage_errors)
{
	static const struct {
		int argc;
		char *argv[6];
		const char *message;
	} cases[] = {
		{ 4, { "p2pmap", "--device", "x", "check" },
		  "p2pmap: option '--device' must follow its command ('p2pmap check ... --device') (see 'p2pmap --help')\n" },
		{ 4, { "p2pmap", "stats", "--device", "x" },
		  "p2pmap: unknown option '--device' (see 'p2pmap stats --help')\n" },
		{ 4, { "p2pmap", "check", "f", "--device" },
		  "p2pmap: option --device needs a value: BDF (see 'p2pmap check --help')\n" },
		{ 3, { "p2pmap", "version", "--watch" },
		  "p2pmap: unknown option '--watch' (see 'p2pmap version --help')\n" },
		{ 3, { "p2pmap", "topo", "--file" },
		  "p2pmap: option --file needs a value: FILE (see 'p2pmap topo --help')\n" },
		{ 3, { "p2pmap", "topo", "extra" },
		  "p2pmap: 'topo' takes no arguments, got 'extra' (see 'p2pmap topo --help')\n" },
		{ 2, { "p2pmap", "check" },
		  "p2pmap: 'check' takes 1 to 3 arguments, got 0 (see 'p2pmap check --help')\n" },
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

/*
 * Values the handlers check before they open anything: exit 2 and the
 * reason, nothing on stdout (the host has no p2pmap module, so reaching
 * the device would exit 3 instead).
 */
TEST(handler_value_errors)
{
	static const struct {
		int argc;
		char *argv[7];
		const char *message;
	} cases[] = {
		{ 4, { "p2pmap", "check", "f", "0" },
		  "p2pmap: give both OFFSET and LENGTH, or neither (the whole file) (see 'p2pmap check --help')\n" },
		{ 5, { "p2pmap", "check", "f", "0", "0" },
		  "p2pmap: LENGTH must not be 0 (see 'p2pmap check --help')\n" },
		{ 6, { "p2pmap", "check", "f", "--", "-1", "4096" },
		  "p2pmap: invalid OFFSET '-1': expected a number of bytes (4096, 0x1000, 4K, 1M) (see 'p2pmap check --help')\n" },
		{ 5, { "p2pmap", "check", "f", "0", "4X" },
		  "p2pmap: invalid LENGTH '4X': expected a number of bytes (4096, 0x1000, 4K, 1M) (see 'p2pmap check --help')\n" },
		{ 5, { "p2pmap", "check", "f", "0", "16777216T" },
		  "p2pmap: LENGTH '16777216T' is too large (see 'p2pmap check --help')\n" },
		{ 5, { "p2pmap", "check", "f", "18446744073709551615", "2" },
		  "p2pmap: OFFSET + LENGTH goes beyond the largest file offset (see 'p2pmap check --help')\n" },
		{ 4, { "p2pmap", "check", "f", "--device=0000:04:00.8" },
		  "p2pmap: invalid PCI address '0000:04:00.8': the device is 00 to 1f and the function 0 to 7 (see 'p2pmap check --help')\n" },
		{ 4, { "p2pmap", "check", "f", "--device=edu" },
		  "p2pmap: invalid PCI address 'edu': expected DDDD:BB:DD.F or BB:DD.F in hexadecimal, e.g. 0000:04:00.0 (see 'p2pmap check --help')\n" },
		{ 4, { "p2pmap", "stats", "--count", "0" },
		  "p2pmap: invalid --count '0': expected a whole number from 1 to 4294967295 (see 'p2pmap stats --help')\n" },
		{ 4, { "p2pmap", "stats", "--count", "2" },
		  "p2pmap: --count 2 needs --watch: without it there is one sample (see 'p2pmap stats --help')\n" },
		{ 4, { "p2pmap", "stats", "--watch", "0" },
		  "p2pmap: invalid --watch interval '0': expected seconds from 0.01 to 86400 (e.g. 2 or 0.5) (see 'p2pmap stats --help')\n" },
		{ 3, { "p2pmap", "stats", "--watch=1e9" },
		  "p2pmap: invalid --watch interval '1e9': expected seconds from 0.01 to 86400 (e.g. 2 or 0.5) (see 'p2pmap stats --help')\n" },
	};
	struct capture out, err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(CLI_EXIT_USAGE, run_main(cases[i].argc, (char **)cases[i].argv,
						   &out, &err)) TH_LOG("case %zu", i);
		EXPECT_STREQ(cases[i].message, err.buf) TH_LOG("case %zu", i);
		EXPECT_STREQ("", out.buf) TH_LOG("case %zu", i);
		capture_free(&out);
		capture_free(&err);
	}
}

/* The help of each new command lists its options and its arguments. */
TEST(command_help_lists_options)
{
	char *a1[] = { "p2pmap", "check", "--help" };
	char *a2[] = { "p2pmap", "stats", "--help" };
	char *a3[] = { "p2pmap", "topo", "-h" };
	struct capture out, err;

	ASSERT_EQ(CLI_EXIT_OK, run_main(ARGC(a1), a1, &out, &err));
	EXPECT_CONTAINS(out.buf, "usage: p2pmap check [-o json|text] FILE [OFFSET LENGTH] [--device BDF]\n");
	EXPECT_CONTAINS(out.buf, "\n  --device BDF ");
	capture_free(&out);
	capture_free(&err);
	ASSERT_EQ(CLI_EXIT_OK, run_main(ARGC(a2), a2, &out, &err));
	EXPECT_CONTAINS(out.buf, "usage: p2pmap stats [-o json|text] [--watch [SECONDS]] [--count N] [--importer NAME]\n");
	capture_free(&out);
	capture_free(&err);
	ASSERT_EQ(CLI_EXIT_OK, run_main(ARGC(a3), a3, &out, &err));
	EXPECT_CONTAINS(out.buf, "usage: p2pmap topo [-o json|text] [--file FILE]\n");
	capture_free(&out);
	capture_free(&err);
}

/* ---- values ---------------------------------------------------------------------- */

TEST(sizes_counts_seconds)
{
	struct cli_invocation inv = { 0 };
	struct capture err;
	uint64_t v;

	ASSERT_EQ(0, capture_begin(&err));
	inv.err = err.f;
	EXPECT_EQ(0, cli_parse_size(&inv, "x", "4096", &v));
	EXPECT_EQ(4096u, v);
	EXPECT_EQ(0, cli_parse_size(&inv, "x", "0x1000", &v));
	EXPECT_EQ(4096u, v);
	EXPECT_EQ(0, cli_parse_size(&inv, "x", "4K", &v));
	EXPECT_EQ(4096u, v);
	EXPECT_EQ(0, cli_parse_size(&inv, "x", "1MiB", &v));
	EXPECT_EQ(1u << 20, v);
	EXPECT_EQ(0, cli_parse_size(&inv, "x", "2g", &v));
	EXPECT_EQ(2ULL << 30, v);
	EXPECT_EQ(0, cli_parse_size(&inv, "x", "0", &v));
	EXPECT_EQ(0u, v);
	v = 7;
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_size(&inv, "x", "", &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_size(&inv, "x", " 1", &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_size(&inv, "x", "+1", &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_size(&inv, "x", "1KB", &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_size(&inv, "x", "99999999999999999999", &v));
	EXPECT_EQ(7u, v);	/* failures change nothing */

	EXPECT_EQ(0, cli_parse_count(&inv, "n", "5", 1, 10, &v));
	EXPECT_EQ(5u, v);
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_count(&inv, "n", "11", 1, 10, &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_count(&inv, "n", "0x5", 1, 10, &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_count(&inv, "n", "-1", 0, 10, &v));

	EXPECT_EQ(0, cli_parse_seconds(&inv, "s", "0.5", &v));
	EXPECT_EQ(500u, v);
	EXPECT_EQ(0, cli_parse_seconds(&inv, "s", "2", &v));
	EXPECT_EQ(2000u, v);
	EXPECT_EQ(0, cli_parse_seconds(&inv, "s", "0.01", &v));
	EXPECT_EQ(10u, v);
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_seconds(&inv, "s", "0.001", &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_seconds(&inv, "s", "nan", &v));
	EXPECT_EQ(CLI_EXIT_USAGE, cli_parse_seconds(&inv, "s", "1s", &v));
	capture_end(&err);
	capture_free(&err);
}

TEST(format_bytes)
{
	char buf[32];

	EXPECT_STREQ("0 B", cli_format_bytes(0, buf, sizeof(buf)));
	EXPECT_STREQ("1023 B", cli_format_bytes(1023, buf, sizeof(buf)));
	EXPECT_STREQ("4 KiB", cli_format_bytes(4096, buf, sizeof(buf)));
	EXPECT_STREQ("1.5 KiB", cli_format_bytes(1536, buf, sizeof(buf)));
	EXPECT_STREQ("64 MiB", cli_format_bytes(64ULL << 20, buf, sizeof(buf)));
	EXPECT_STREQ("1.9 GiB", cli_format_bytes((2ULL << 30) - 1, buf, sizeof(buf)));
	EXPECT_STREQ("15.9 EiB", cli_format_bytes(UINT64_MAX, buf, sizeof(buf)));
}

/* libp2pmap's PCI addresses: both forms, the encoding, the refusals. */
TEST(pci_addresses)
{
	struct p2pmap_error err;
	char buf[P2PMAP_PCI_ADDR_SIZE];
	uint32_t dev = 0x1234;

	EXPECT_EQ(0, p2pmap_pci_parse("0000:04:00.0", &dev, &err));
	EXPECT_EQ(0x0400u, dev);
	EXPECT_EQ(0, p2pmap_pci_parse("03:1f.7", &dev, &err));
	EXPECT_EQ((3u << 8) | (0x1f << 3) | 7, dev);
	EXPECT_EQ(0, p2pmap_pci_parse("abcd:FF:01.2", &dev, &err));
	EXPECT_EQ((0xabcdu << 16) | (0xff << 8) | (1 << 3) | 2, dev);
	EXPECT_EQ(0, p2pmap_pci_format(dev, buf, sizeof(buf)));
	EXPECT_STREQ("abcd:ff:01.2", buf);
	EXPECT_EQ(-EINVAL, p2pmap_pci_format(dev, buf, sizeof(buf) - 1));

	dev = 42;
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse("0000:04:20.0", &dev, &err));
	EXPECT_EQ(P2PMAP_ERR_INVALID_ARGUMENT, err.code);
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse("4:00.0", &dev, &err));
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse("0000:04:00.0x", &dev, &err));
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse("00000:04:00.0", &dev, &err));
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse("", &dev, &err));
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse("0:0:0:00.0", &dev, &err));
	EXPECT_EQ(42u, dev);
	EXPECT_EQ(-EINVAL, p2pmap_pci_parse(NULL, &dev, &err));
	EXPECT_CONTAINS(err.msg, "text is NULL");
}

/* libp2pmap's functions refuse bad arguments with a reason, change nothing. */
TEST(library_argument_checks)
{
	struct p2pmap_check_args args = { .args_size = sizeof(args) - 1 };
	struct p2pmap_check_result *res = (void *)&args;
	struct p2pmap_stats st;
	struct p2pmap_error err;

	EXPECT_EQ(-EINVAL, p2pmap_get_stats(NULL, &st, &err));
	EXPECT_EQ(P2PMAP_ERR_INVALID_ARGUMENT, err.code);
	EXPECT_EQ(-EINVAL, p2pmap_check_file(NULL, &args, &res, &err));
	EXPECT_STREQ("p2pmap_check_file: handle is NULL", err.msg);
	EXPECT_EQ((void *)&args, (void *)res);
	EXPECT_STREQ("the file system has no p2pmap hooks",
		     p2pmap_reason_description(P2PMAP_REASON_UNSUPPORTED_FS));
	EXPECT_EQ(NULL, p2pmap_reason_description(P2PMAP_REASON_COUNT));
	EXPECT_EQ(NULL, p2pmap_reason_description(-1));
}

/* Every reason the uapi knows has a description for people. */
TEST(every_reason_described)
{
	int i;

	for (i = 0; i < P2PMAP_REASON_COUNT; i++) {
		const char *d = p2pmap_reason_description(i);

		EXPECT_NE(NULL, d) TH_LOG("reason %d (%s)", i, p2pmap_reason_name(i));
		if (d)
			EXPECT_LT(10u, strlen(d)) TH_LOG("reason %d", i);
	}
}

TEST_HARNESS_MAIN
