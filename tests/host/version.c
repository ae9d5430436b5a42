// SPDX-License-Identifier: GPL-2.0
/*
 * 'p2pmap version' output, text and JSON, from made-up module answers; and
 * libp2pmap's error reporting where the host can provoke it (no module,
 * a node that is not p2pmap's, a directory, NULL arguments).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hosttest.h"
#include "cli.h"

static struct cli_version_report loaded_report(void)
{
	struct cli_version_report r = {
		.program = "1.2.3",
		.library = "1.2.4",
		.library_abi = 7,
		.module_loaded = true,
		.module = {
			.size = sizeof(struct p2pmap_version),
			.major = 10,
			.minor = 20,
			.patch = 30,
			.abi = 8,
			.features = P2PMAP_FEATURE_PCI_P2PDMA |
				    P2PMAP_FEATURE_BLOCK_LAYOUTS | (1ULL << 63),
		},
	};
	return r;
}

static char *print_report(const struct cli_version_report *r,
			  enum cli_output output, int *ret)
{
	struct capture c;

	if (capture_begin(&c))
		return NULL;
	*ret = cli_version_print(c.f, output, r);
	capture_end(&c);
	return c.buf;
}

/* Text: each version on its line; features by name, unknown bits as bitN. */
TEST(text_loaded)
{
	struct cli_version_report r = loaded_report();
	char *out;
	int ret;

	out = print_report(&r, CLI_OUTPUT_TEXT, &ret);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, ret);
	EXPECT_STREQ("p2pmap     1.2.3\n"
		     "libp2pmap  1.2.4 (ABI 7)\n"
		     "module     10.20.30 (ABI 8)\n"
		     "features   pci_p2pdma block_layouts bit63\n", out);
	free(out);
}

/* Text: a module without features says "none". */
TEST(text_no_features)
{
	struct cli_version_report r = loaded_report();
	char *out;
	int ret;

	r.module.features = 0;
	out = print_report(&r, CLI_OUTPUT_TEXT, &ret);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "\nfeatures   none\n")) TH_LOG("%s", out);
	free(out);
}

/* Text: without a module, the module line says so (the reason goes to stderr). */
TEST(text_unavailable)
{
	struct cli_version_report r = loaded_report();
	char *out;
	int ret;

	r.module_loaded = false;
	out = print_report(&r, CLI_OUTPUT_TEXT, &ret);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("p2pmap     1.2.3\n"
		     "libp2pmap  1.2.4 (ABI 7)\n"
		     "module     unavailable\n", out);
	free(out);
}

/* JSON: valid, and every field where a script expects it. */
TEST(json_loaded)
{
	struct cli_version_report r = loaded_report();
	char why[128], *out;
	int ret;

	out = print_report(&r, CLI_OUTPUT_JSON, &ret);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, json_check(out, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_STREQ("{\n"
		     "  \"p2pmap\": {\n"
		     "    \"version\": \"1.2.3\"\n"
		     "  },\n"
		     "  \"library\": {\n"
		     "    \"version\": \"1.2.4\",\n"
		     "    \"abi\": 7\n"
		     "  },\n"
		     "  \"module\": {\n"
		     "    \"available\": true,\n"
		     "    \"version\": \"10.20.30\",\n"
		     "    \"abi\": 8,\n"
		     "    \"features\": [\n"
		     "      \"pci_p2pdma\",\n"
		     "      \"block_layouts\",\n"
		     "      \"bit63\"\n"
		     "    ],\n"
		     "    \"feature_mask\": 9223372036854775813\n"
		     "  }\n"
		     "}\n", out);
	free(out);
}

/* JSON: the reason a module is unavailable is an object with its code. */
TEST(json_unavailable_escapes_message)
{
	struct cli_version_report r = loaded_report();
	char why[128], *out;
	int ret;

	r.module_loaded = false;
	r.error.code = P2PMAP_ERR_NOT_LOADED;
	r.error.sys_errno = ENOENT;
	snprintf(r.error.msg, sizeof(r.error.msg),
		 "module p2pmap not loaded (/tmp/\"odd\\dev\"\n missing)");
	out = print_report(&r, CLI_OUTPUT_JSON, &ret);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, json_check(out, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_NE(NULL, strstr(out,
			       "  \"module\": {\n"
			       "    \"available\": false,\n"
			       "    \"error\": {\n"
			       "      \"code\": \"not_loaded\",\n"
			       "      \"errno\": 2,\n"
			       "      \"message\": \"module p2pmap not loaded (/tmp/\\\"odd\\\\dev\\\"\\n missing)\"\n"
			       "    }\n"
			       "  }\n"
			       "}\n")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "\"features\"")) TH_LOG("%s", out);
	free(out);
}

/* --version in JSON is valid JSON with the program's version. */
TEST(program_version_json)
{
	char why[128];
	struct capture c;

	ASSERT_EQ(0, capture_begin(&c));
	EXPECT_EQ(0, cli_program_version_print(c.f, CLI_OUTPUT_JSON));
	capture_end(&c);
	EXPECT_EQ(0, json_check(c.buf, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_STREQ("{\n  \"p2pmap\": {\n    \"version\": \"" P2PMAP_VERSION_STR
		     "\"\n  }\n}\n", c.buf);
	capture_free(&c);
}

/* A failure's exit code: 3 when p2pmap is unreachable, 1 otherwise. */
TEST(exit_codes_for_errors)
{
	struct p2pmap_error e = { 0 };
	int code;

	for (code = 0; code < P2PMAP_ERR_COUNT; code++) {
		int want;

		e.code = code;
		switch (code) {
		case P2PMAP_ERR_NONE:
			want = CLI_EXIT_OK;
			break;
		case P2PMAP_ERR_NOT_LOADED:
		case P2PMAP_ERR_NO_DEVICE_NODE:
		case P2PMAP_ERR_NOT_P2PMAP:
		case P2PMAP_ERR_UNSUPPORTED:
			want = CLI_EXIT_UNAVAILABLE;
			break;
		default:
			want = CLI_EXIT_FAILED;
		}
		EXPECT_EQ(want, cli_exit_for_error(&e))
			TH_LOG("%s", p2pmap_errcode_name(code));
	}
}

static int open_path(const char *path, struct p2pmap **h,
		     struct p2pmap_error *e)
{
	memset(e, 0x5a, sizeof(*e));	/* every field must be written */
	*h = (struct p2pmap *)0x1;	/* and this one left alone */
	return p2pmap_open_path(path, h, e);
}

/* A missing node: -ENOENT, "not loaded", the node named in the message. */
TEST(open_missing_node)
{
	struct p2pmap_error e;
	struct p2pmap *h;

	EXPECT_EQ(-ENOENT, open_path("/nonexistent/p2pmap", &h, &e));
	EXPECT_EQ(P2PMAP_ERR_NOT_LOADED, e.code);
	EXPECT_EQ(ENOENT, e.sys_errno);
	EXPECT_STREQ("module p2pmap not loaded (/nonexistent/p2pmap missing)", e.msg);
	EXPECT_EQ((struct p2pmap *)0x1, h);
}

/*
 * The default node: on a host without the module (the usual case: modules
 * run in the rig) the message the CLI prints; with it, a working handle.
 */
TEST(open_default_node)
{
	struct p2pmap_error e;
	struct p2pmap *h = NULL;
	int ret;

	ret = p2pmap_open(&h, &e);
	if (access("/sys/module/p2pmap", F_OK) == 0) {
		EXPECT_EQ(0, ret) TH_LOG("%s", e.msg);
		EXPECT_EQ(P2PMAP_ERR_NONE, e.code);
		EXPECT_STREQ("", e.msg);
		EXPECT_NE(NULL, h);
		p2pmap_close(h);
		return;
	}
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(P2PMAP_ERR_NOT_LOADED, e.code);
	EXPECT_STREQ("module p2pmap not loaded (/dev/p2pmap missing)", e.msg);
	EXPECT_EQ(NULL, h);
}

/* A node that is not p2pmap's: -ENOTTY, "not a p2pmap device". */
TEST(open_not_p2pmap)
{
	struct p2pmap_error e;
	struct p2pmap *h;

	EXPECT_EQ(-ENOTTY, open_path("/dev/null", &h, &e));
	EXPECT_EQ(P2PMAP_ERR_NOT_P2PMAP, e.code);
	EXPECT_EQ(ENOTTY, e.sys_errno);
	EXPECT_STREQ("/dev/null is not a p2pmap device (it does not know the version ioctl)",
		     e.msg);
	EXPECT_EQ((struct p2pmap *)0x1, h);
}

/* Any other open failure says what failed, with strerror. */
TEST(open_directory)
{
	struct p2pmap_error e;
	struct p2pmap *h;

	EXPECT_EQ(-EISDIR, open_path("/", &h, &e));
	EXPECT_EQ(P2PMAP_ERR_SYSTEM, e.code);
	EXPECT_EQ(EISDIR, e.sys_errno);
	EXPECT_STREQ("cannot open /: Is a directory", e.msg);
}

/* NULL arguments: -EINVAL and a message naming the argument. */
TEST(null_arguments)
{
	struct p2pmap_version v = { 0 };
	struct p2pmap_error e;
	struct p2pmap *h = NULL;

	EXPECT_EQ(-EINVAL, p2pmap_open_path(NULL, &h, &e));
	EXPECT_EQ(P2PMAP_ERR_INVALID_ARGUMENT, e.code);
	EXPECT_STREQ("p2pmap_open_path: path is NULL", e.msg);
	EXPECT_EQ(-EINVAL, p2pmap_open(NULL, &e));
	EXPECT_STREQ("p2pmap_open_path: handle is NULL", e.msg);
	EXPECT_EQ(-EINVAL, p2pmap_get_version(NULL, &v, &e));
	EXPECT_EQ(P2PMAP_ERR_INVALID_ARGUMENT, e.code);
	EXPECT_STREQ("p2pmap_get_version: handle is NULL", e.msg);
	EXPECT_EQ(0U, v.size);
	/* a NULL error is allowed */
	EXPECT_EQ(-ENOENT, p2pmap_open_path("/nonexistent/p2pmap", &h, NULL));
	p2pmap_close(NULL);
}

/* The library reports the project's version and the uapi's ABI. */
TEST(library_version)
{
	EXPECT_STREQ(P2PMAP_VERSION_STR, p2pmap_library_version());
	EXPECT_EQ(P2PMAP_ABI_VERSION, (int)p2pmap_library_abi());
}

TEST_HARNESS_MAIN
