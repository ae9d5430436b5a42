// SPDX-License-Identifier: GPL-2.0
/*
 * What p2pmap stats, check and topo print for answers built here: the
 * debugfs parser, deltas between samples, the summary of a check by path
 * and reason, mountinfo lookups, and routes on model topologies (a switch,
 * a flat root complex, ACS redirection, unreadable config space, no CMB,
 * nvme-cmb missing) with the kernel's answer compared. Text for people,
 * JSON the validator accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hosttest.h"
#include "check.h"
#include "cli.h"
#include "stats.h"
#include "topo.h"

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

/* ---- stats ---------------------------------------------------------------------- */

static const char importer_stats[] =
	"device 0000:04:00.0\n"
	"faults 7\n"
	"retries 1\n"
	"refaults 0\n"
	"pages_p2p 0\n"
	"pages_fallback 12\n"
	"fallback.hole 4\n"
	"fallback.unsupported_fs 8\n"
	"revoked.unmap 12\n"
	"revoked.release 0\n";

static const char cmb_stats[] =
	"size: 67108864\n"
	"in_use: 8192\n"
	"staged: 1048576\n"
	"hits: 3\n"
	"a_new_counter: 5\n"
	"\n"
	"garbage\n";

/* Numbers become counters in file order, words attributes; both forms. */
TEST(stats_parse_debugfs_forms)
{
	static const char * const gauges[] = { "size", "in_use", NULL };
	static const char * const bytes[] = { "size", "in_use", "staged", NULL };
	struct cli_counter_set *set = calloc(1, sizeof(*set));
	const struct cli_counter *c;

	ASSERT_NE(NULL, set);
	EXPECT_EQ(10u, cli_stats_parse(importer_stats, NULL, NULL, set));
	EXPECT_EQ(9u, set->nr);
	EXPECT_STREQ("0000:04:00.0", cli_stats_attr(set, "device"));
	c = cli_stats_counter(set, "fallback.unsupported_fs");
	ASSERT_NE(NULL, c);
	EXPECT_EQ(8u, c->value);
	EXPECT_FALSE(c->gauge);
	EXPECT_STREQ("faults", set->c[0].key);
	EXPECT_STREQ("revoked.release", set->c[8].key);

	memset(set, 0, sizeof(*set));
	EXPECT_EQ(5u, cli_stats_parse(cmb_stats, gauges, bytes, set));
	ASSERT_EQ(5u, set->nr);
	EXPECT_TRUE(set->c[0].gauge);
	EXPECT_TRUE(set->c[0].bytes);
	EXPECT_FALSE(set->c[2].gauge);
	EXPECT_TRUE(set->c[2].bytes);
	EXPECT_FALSE(set->c[3].bytes);
	c = cli_stats_counter(set, "a_new_counter");
	ASSERT_NE(NULL, c);
	EXPECT_EQ(5u, c->value);
	EXPECT_EQ(NULL, cli_stats_counter(set, "garbage"));
	free(set);
}

/* The ioctl's answer: every reason and cause by name, "none" left out. */
TEST(stats_from_ioctl_names_everything)
{
	struct cli_counter_set *set = calloc(1, sizeof(*set));
	struct p2pmap_stats st = { .importers = 2, .faults = 9, .pages_fallback = 5,
				   .staged_ahead = 512 };
	const struct cli_counter *c;

	ASSERT_NE(NULL, set);
	st.fallback[P2PMAP_REASON_HOLE] = 5;
	st.revoked[P2PMAP_REVOKE_EVICT] = 3;
	st.fallback[P2PMAP_STATS_MAX_REASONS - 1] = 1;	/* a reason from the future */
	cli_stats_from_ioctl(&st, set);
	/* + written back by cause, lost, write_refused, layouts_recalled,
	 * staged_ahead
	 */
	EXPECT_EQ(7u + (P2PMAP_REASON_COUNT - 1) + 1 + 2 * P2PMAP_REVOKE_COUNT + 4,
		  set->nr);
	c = cli_stats_counter(set, "staged_ahead");
	ASSERT_NE(NULL, c);
	EXPECT_EQ(512u, c->value);
	EXPECT_EQ(NULL, cli_stats_counter(set, "fallback.none"));
	c = cli_stats_counter(set, "fallback.hole");
	ASSERT_NE(NULL, c);
	EXPECT_EQ(5u, c->value);
	c = cli_stats_counter(set, "fallback.reason_31");
	ASSERT_NE(NULL, c);
	EXPECT_EQ(1u, c->value);
	c = cli_stats_counter(set, "revoked.evict");
	ASSERT_NE(NULL, c);
	EXPECT_EQ(3u, c->value);
	c = cli_stats_counter(set, "importers");
	ASSERT_NE(NULL, c);
	EXPECT_TRUE(c->gauge);
	free(set);
}

static struct cli_stats_sample *make_sample(uint64_t faults, uint64_t in_use)
{
	static const char * const gauges[] = { "size", "in_use", NULL };
	struct cli_stats_sample *s = calloc(1, sizeof(*s));
	struct p2pmap_stats st = { .importers = 1, .faults = faults };
	char text[256];

	if (!s)
		return NULL;
	st.fallback[P2PMAP_REASON_UNSUPPORTED_FS] = faults * 2;
	st.pages_fallback = faults * 2;
	cli_stats_from_ioctl(&st, &s->totals);
	s->time_ms = 1000 * faults;
	s->importers_known = true;
	s->nr_importers = 2;
	strcpy(s->importers[0].name, "0000:04:00.0-0");
	cli_stats_parse(importer_stats, NULL, NULL, &s->importers[0]);
	strcpy(s->importers[1].name, "dgpu.1-3");
	snprintf(text, sizeof(text), "device dgpu.1\nfaults %llu\n",
		 (unsigned long long)faults);
	cli_stats_parse(text, NULL, NULL, &s->importers[1]);
	s->cmbs_known = true;
	s->nr_cmbs = 1;
	strcpy(s->cmbs[0].name, "0000:03:00.0");
	snprintf(text, sizeof(text), "size: 67108864\nin_use: %llu\nhits: %llu\n",
		 (unsigned long long)in_use, (unsigned long long)faults);
	cli_stats_parse(text, gauges, gauges, &s->cmbs[0]);
	cli_stats_parse("controller: nvme0\nstate: live\nbackend: compat\n", NULL, NULL,
			&s->cmbs[0]);
	return s;
}

static char *print_stats(enum cli_output o, const struct cli_stats_sample *cur,
			 const struct cli_stats_sample *prev,
			 const struct cli_stats_view *view)
{
	struct capture c;

	if (capture_begin(&c))
		return NULL;
	if (cli_stats_print(c.f, o, cur, prev, view))
		fputs("PRINT FAILED", c.f);
	capture_end(&c);
	return c.buf;
}

/* One sample as JSON: totals, importers, CMBs with their values, groups nested. */
TEST(stats_json_sample)
{
	struct cli_stats_sample *s = make_sample(3, 4096);
	struct cli_stats_view view = { 0 };
	char *out;

	ASSERT_NE(NULL, s);
	out = print_stats(CLI_OUTPUT_JSON, s, NULL, &view);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\n  \"totals\": {\n    \"importers\": 1,\n    \"mirrors\": 0,\n    \"faults\": 3,");
	EXPECT_CONTAINS(out, "\"fallback\": {\n      \"hole\": 0,");
	EXPECT_CONTAINS(out, "\"unsupported_fs\": 6,");
	EXPECT_CONTAINS(out, "\"name\": \"0000:04:00.0-0\",\n      \"device\": \"0000:04:00.0\",\n      \"faults\": 7,");
	EXPECT_CONTAINS(out, "\"pci\": \"0000:03:00.0\",\n      \"controller\": \"nvme0\",\n      \"backend\": \"compat\",\n      \"state\": \"live\",\n      \"size\": 67108864,\n      \"in_use\": 4096,");
	EXPECT_CONTAINS(out, "\"notes\": []");
	EXPECT_LACKS(out, "\"delta\"");
	EXPECT_LACKS(out, "\"sample\"");
	free(out);
	free(s);
}

/* A second watched sample carries deltas of counters, never of gauges. */
TEST(stats_json_watch_deltas)
{
	struct cli_stats_sample *a = make_sample(3, 4096), *b = make_sample(5, 0);
	struct cli_stats_view view = { .sample = 2, .interval_ms = 2000 };
	char *out;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	out = print_stats(CLI_OUTPUT_JSON, b, a, &view);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"sample\": 2,\n  \"interval_ms\": 2000,\n  \"elapsed_ms\": 2000,");
	EXPECT_CONTAINS(out, "\"delta\": {\n      \"faults\": 2,");
	EXPECT_CONTAINS(out, "\"delta\": {\n        \"hits\": 2\n      }");
	EXPECT_LACKS(out, "\"delta\": {\n      \"importers\"");
	free(out);
	/* the counters went down (module reloaded): a negative delta, not a wrap */
	out = print_stats(CLI_OUTPUT_JSON, a, b, &view);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "\"delta\": {\n      \"faults\": -2,");
	free(out);
	free(a);
	free(b);
}

/* Text: values, units for bytes, changes on the right, zero reasons hidden. */
TEST(stats_text_watch)
{
	struct cli_stats_sample *a = make_sample(3, 4096), *b = make_sample(5, 8192);
	struct cli_stats_view view = { .sample = 2, .interval_ms = 1000 };
	char *out;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	out = print_stats(CLI_OUTPUT_TEXT, b, a, &view);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "sample 2, +2.0 s");
	EXPECT_CONTAINS(out, "\n  faults             5  +2\n");
	/* in the totals, hole is 0 and unchanged: not shown */
	EXPECT_CONTAINS(out, "\n  fallback:\n    unsupported_fs   10  +4\n  revoked            none\n");
	/* the importer's hole is not 0: shown */
	EXPECT_CONTAINS(out, "\n  fallback:\n    hole             4  +0\n");
	EXPECT_CONTAINS(out, "importer 0000:04:00.0-0 (device 0000:04:00.0)\n");
	EXPECT_CONTAINS(out, "cmb nvme0 (0000:03:00.0, compat backend, live)\n");
	EXPECT_CONTAINS(out, "\n  size               67108864 (64 MiB)\n");
	EXPECT_CONTAINS(out, "\n  in_use             8192 (8 KiB)\n");
	free(out);
	free(a);
	free(b);
}

/* --importer NAME selects by debugfs name or by device. */
TEST(stats_importer_filter)
{
	struct cli_stats_sample *s = make_sample(1, 0);
	struct cli_stats_view view = { .importer = "dgpu.1" };
	char *out;

	ASSERT_NE(NULL, s);
	EXPECT_TRUE(cli_stats_importer_matches(&s->importers[0], "0000:04:00.0"));
	EXPECT_TRUE(cli_stats_importer_matches(&s->importers[0], "0000:04:00.0-0"));
	EXPECT_FALSE(cli_stats_importer_matches(&s->importers[0], "0000:04:00"));
	out = print_stats(CLI_OUTPUT_JSON, s, NULL, &view);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"name\": \"dgpu.1-3\"");
	EXPECT_LACKS(out, "\"name\": \"0000:04:00.0-0\"");
	free(out);
	free(s);
}

/* Without debugfs: importers and CMBs are null, and the notes say why. */
TEST(stats_without_debugfs)
{
	struct cli_stats_sample *s = make_sample(1, 0);
	struct cli_stats_view view = { 0 };
	char *out;

	ASSERT_NE(NULL, s);
	s->importers_known = false;
	s->cmbs_known = false;
	s->nr_notes = 1;
	strcpy(s->notes[0], "per-importer counters unavailable: permission denied reading /sys/kernel/debug/p2pmap/importers (run as root)");
	out = print_stats(CLI_OUTPUT_JSON, s, NULL, &view);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"importers\": null,\n  \"cmbs\": null,");
	EXPECT_CONTAINS(out, "\"notes\": [\n    \"per-importer counters unavailable: permission denied");
	free(out);
	out = print_stats(CLI_OUTPUT_TEXT, s, NULL, &view);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "note: per-importer counters unavailable: permission denied");
	EXPECT_LACKS(out, "importer 0000");
	free(out);
	free(s);
}

/* ---- check ------------------------------------------------------------------------ */

static struct p2pmap_check_extent extents[] = {
	{ .offset = 0, .length = 8192, .sector = 2048, .path = P2PMAP_PATH_P2P,
	  .reason = P2PMAP_REASON_NONE },
	{ .offset = 8192, .length = 4096, .path = P2PMAP_PATH_PAGECACHE,
	  .reason = P2PMAP_REASON_HOLE },
	{ .offset = 12288, .length = 4096, .sector = 4096, .path = P2PMAP_PATH_PAGECACHE,
	  .reason = P2PMAP_REASON_NO_ROUTE },
	{ .offset = 16384, .length = 4096, .path = P2PMAP_PATH_PAGECACHE,
	  .reason = P2PMAP_REASON_HOLE },
};

static struct p2pmap_check_result check_result = {
	.offset = 0, .end = 20480, .file_size = 20000,
	.provider = "nvme0",
	.why = "0000:00:02.0 and nvme0 (0000:03:00.0) share no upstream bridge",
	.nr_extents = 4, .extents = extents,
};

static char *print_check(enum cli_output o, const struct cli_check_report *rep)
{
	struct capture c;

	if (capture_begin(&c))
		return NULL;
	if (cli_check_print(c.f, o, rep))
		fputs("PRINT FAILED", c.f);
	capture_end(&c);
	return c.buf;
}

/* The summary adds bytes by path and by reason. */
TEST(check_summary_by_reason)
{
	struct cli_check_summary sum;

	cli_check_summarize(&check_result, &sum);
	EXPECT_EQ(8192u, sum.p2p);
	EXPECT_EQ(12288u, sum.pagecache);
	EXPECT_EQ(0u, sum.none);
	EXPECT_EQ(8192u, sum.by_reason[P2PMAP_REASON_HOLE]);
	EXPECT_EQ(4096u, sum.by_reason[P2PMAP_REASON_NO_ROUTE]);
	EXPECT_EQ(0u, sum.by_reason[P2PMAP_REASON_NONE]);
}

/* JSON: the file, the kernel's why, each range, the summary. */
TEST(check_json)
{
	struct cli_check_report rep = {
		.file = "/mnt/a \"b\"", .device = "0000:00:02.0",
		.result = &check_result,
		.mount = { .found = true, .fstype = "xfs", .source = "/dev/nvme0n1", .dir = "/mnt" },
	};
	char *out = print_check(CLI_OUTPUT_JSON, &rep);

	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"file\": \"/mnt/a \\\"b\\\"\",");
	EXPECT_CONTAINS(out, "\"device\": \"0000:00:02.0\",\n  \"provider\": \"nvme0\",\n  \"why\": \"0000:00:02.0 and nvme0 (0000:03:00.0) share no upstream bridge\",");
	EXPECT_CONTAINS(out, "\"offset\": 0,\n      \"length\": 8192,\n      \"path\": \"p2p\",\n      \"reason\": \"none\",\n      \"sector\": 2048");
	EXPECT_CONTAINS(out, "\"path\": \"pagecache\",\n      \"reason\": \"hole\",\n      \"sector\": null");
	EXPECT_CONTAINS(out, "\"reason\": \"no_route\",\n      \"sector\": 4096");
	EXPECT_CONTAINS(out, "\"summary\": {\n    \"bytes_p2p\": 8192,\n    \"bytes_pagecache\": 12288,\n    \"bytes_none\": 0,\n    \"fallback_bytes\": {\n      \"hole\": 8192,\n      \"no_route\": 4096\n    }");
	free(out);
}

/* Text: the why first, a table, then the summary with each reason explained. */
TEST(check_text)
{
	struct cli_check_report rep = { .file = "/mnt/a", .result = &check_result,
					 .whole_file = true };
	struct p2pmap_check_result empty = { .offset = 8192, .end = 8192, .file_size = 100 };
	char *out = print_check(CLI_OUTPUT_TEXT, &rep);

	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "file:      /mnt/a\n");
	EXPECT_CONTAINS(out, "range:     0 to 20480 (20 KiB, the whole file; file size 19.5 KiB)\n");
	EXPECT_CONTAINS(out, "device:    any device that reaches the provider (give --device BDF to check a route)\n");
	EXPECT_CONTAINS(out, "why:       0000:00:02.0 and nvme0 (0000:03:00.0) share no upstream bridge\n");
	EXPECT_CONTAINS(out, "\n0              8192           p2p        -\n");
	EXPECT_CONTAINS(out, "\n8192           4096           pagecache  hole\n");
	EXPECT_CONTAINS(out, "\nP2P:         8 KiB (40.0%)\npage cache:  12 KiB (60.0%)\n");
	EXPECT_CONTAINS(out, "  hole            8 KiB      a hole in the file: there are no blocks to read\n");
	EXPECT_CONTAINS(out, "  no_route        4 KiB      the device cannot reach the CMB peer to peer\n");
	free(out);

	rep.result = &empty;
	out = print_check(CLI_OUTPUT_TEXT, &rep);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "provider:  none\n");
	EXPECT_LACKS(out, "why:");
	EXPECT_CONTAINS(out, "nothing to check: the range lies beyond the end of the file\n");
	free(out);
	out = print_check(CLI_OUTPUT_JSON, &rep);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"provider\": null,\n  \"why\": null,\n  \"extents\": [],");
	free(out);
}

/* A reason or path newer than this p2pmap still prints, by number. */
TEST(check_unknown_reason)
{
	struct p2pmap_check_extent e = { .length = 4096, .path = 9, .reason = 30 };
	struct p2pmap_check_result r = { .end = 4096, .nr_extents = 1, .extents = &e };
	struct cli_check_report rep = { .file = "f", .result = &r };
	char *out = print_check(CLI_OUTPUT_JSON, &rep);

	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"path\": \"unknown(9)\",\n      \"reason\": \"unknown(30)\"");
	EXPECT_CONTAINS(out, "\"bytes_none\": 4096");
	free(out);
	out = print_check(CLI_OUTPUT_TEXT, &rep);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "unknown(30)     4 KiB      a reason this p2pmap does not know\n");
	free(out);
}

/* The mount of a file: by device number and the deepest covering directory. */
TEST(mountinfo_lookup)
{
	static const char info[] =
		"22 1 0:20 / / rw - rootfs rootfs rw\n"
		"30 22 259:0 / /mnt rw,relatime - xfs /dev/nvme0n1 rw\n"
		"31 30 259:0 /sub /mnt/my\\040dir rw - xfs /dev/nvme0n1 rw\n"
		"32 22 259:1 / /mnt2 rw shared:1 - ext4 /dev/nvme0n1p1 rw\n"
		"33 22 259:0 / /mntx rw - xfs /dev/nvme0n1 rw\n";
	struct cli_mount m;

	cli_mount_of(info, 259, 0, "/mnt/f", &m);
	ASSERT_TRUE(m.found);
	EXPECT_STREQ("/mnt", m.dir);
	EXPECT_STREQ("xfs", m.fstype);
	EXPECT_STREQ("/dev/nvme0n1", m.source);
	cli_mount_of(info, 259, 0, "/mnt/my dir/f", &m);
	ASSERT_TRUE(m.found);
	EXPECT_STREQ("/mnt/my dir", m.dir);
	cli_mount_of(info, 259, 1, "/mnt2/x", &m);
	ASSERT_TRUE(m.found);
	EXPECT_STREQ("ext4", m.fstype);	/* optional fields before " - " */
	cli_mount_of(info, 259, 0, "/mntxy/f", &m);
	EXPECT_FALSE(m.found);
	cli_mount_of(info, 8, 0, "/mnt/f", &m);
	EXPECT_FALSE(m.found);
}

/* ---- topo ------------------------------------------------------------------------ */

static void add_pci(struct topo *t, const char *addr, const char *up,
		    uint16_t vendor, uint16_t device, uint16_t class, int port,
		    enum topo_acs acs)
{
	struct topo_pci *p = &t->pci[t->nr_pci++];

	memset(p, 0, sizeof(*p));
	strcpy(p->addr, addr);
	strcpy(p->upstream, up);
	p->vendor = vendor;
	p->device = device;
	p->class = class;
	p->port_type = port;
	p->acs = acs;
}

/*
 * The rig: root port 00:01.0, switch 01:00.0 with downstream ports 02:00.0
 * (NVMe 03:00.0) and 02:01.0 (edu 04:00.0), a SATA controller aside. With
 * @flat, edu sits on the root bus at 00:02.0 instead.
 */
static struct topo *rig(bool flat)
{
	struct topo *t = calloc(1, sizeof(*t));
	struct topo_nvme *n;

	if (!t)
		return NULL;
	/* out of order on purpose: topo_finish() sorts */
	add_pci(t, "0000:03:00.0", "0000:02:00.0", 0x1b36, 0x0010, 0x0108, 0, TOPO_ACS_ABSENT);
	add_pci(t, "0000:00:01.0", "", 0x1b36, 0x000c, 0x0604, 4, TOPO_ACS_NO_REDIRECT);
	add_pci(t, "0000:01:00.0", "0000:00:01.0", 0x104c, 0x8232, 0x0604, 5, TOPO_ACS_ABSENT);
	add_pci(t, "0000:02:00.0", "0000:01:00.0", 0x104c, 0x8233, 0x0604, 6, TOPO_ACS_ABSENT);
	add_pci(t, "0000:02:01.0", "0000:01:00.0", 0x104c, 0x8233, 0x0604, 6, TOPO_ACS_ABSENT);
	if (flat)
		add_pci(t, "0000:00:02.0", "", 0x1234, 0x11e8, 0x00ff, -1, TOPO_ACS_ABSENT);
	else
		add_pci(t, "0000:04:00.0", "0000:02:01.0", 0x1234, 0x11e8, 0x00ff, -1, TOPO_ACS_ABSENT);
	add_pci(t, "0000:00:1f.2", "", 0x8086, 0x2922, 0x0106, -1, TOPO_ACS_ABSENT);

	t->nr_nvme = 1;
	n = &t->nvme[0];
	strcpy(n->name, "nvme0");
	strcpy(n->transport, "pcie");
	strcpy(n->address, "0000:03:00.0");
	strcpy(n->model, "QEMU NVMe Ctrl");
	strcpy(n->state, "live");
	n->nr_ns = 1;
	strcpy(n->ns[0], "nvme0n1");
	n->cmb.provider_known = true;
	n->cmb.nvme_cmb_loaded = true;
	n->cmb.provider = true;
	n->cmb.size = 64 << 20;
	n->cmb.bar = 2;
	n->cmb.bus_addr = 0xf4000000;
	strcpy(n->cmb.backend, "compat");
	strcpy(n->cmb.state, "live");
	t->importers_known = true;
	return t;
}

static char *print_topo(enum cli_output o, const struct topo *t)
{
	struct capture c;

	if (capture_begin(&c))
		return NULL;
	if (topo_print(c.f, o, t))
		fputs("PRINT FAILED", c.f);
	capture_end(&c);
	return c.buf;
}

/* Below one switch: P2P through its upstream port; the SATA port is not shown. */
TEST(topo_switch_route)
{
	struct topo *t = rig(false);
	char *out;

	ASSERT_NE(NULL, t);
	topo_finish(t);
	ASSERT_EQ(1u, t->nr_routes);
	EXPECT_EQ(TOPO_ROUTE_P2P, (int)t->routes[0].verdict);
	ASSERT_LE(0, t->routes[0].via);
	EXPECT_STREQ("0000:01:00.0", t->pci[t->routes[0].via].addr);
	EXPECT_STREQ("edu", t->pci[t->routes[0].importer].label);
	EXPECT_STREQ("nvme0", t->pci[t->nvme[0].pci].label);
	EXPECT_STREQ("0000:00:01.0", t->pci[0].addr);	/* sorted */

	out = print_topo(CLI_OUTPUT_TEXT, t);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "  0000:00:01.0  PCIe root port  [1b36:000c]");
	EXPECT_CONTAINS(out, "\n    0000:01:00.0  PCIe switch upstream port  [104c:8232]  no ACS\n");
	EXPECT_CONTAINS(out, "\n        0000:04:00.0  edu  [1234:11e8]\n");
	EXPECT_LACKS(out, "0000:00:1f.2");
	EXPECT_CONTAINS(out, "    CMB: 64 MiB in BAR 2 at bus address 0xf4000000, offered by nvme-cmb (compat backend, live, 0 B in use)\n");
	EXPECT_CONTAINS(out, "  edu 0000:04:00.0 -> nvme0 (0000:03:00.0): P2P, through 0000:01:00.0 (PCIe switch upstream port)\n");
	free(out);

	out = print_topo(CLI_OUTPUT_JSON, t);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"address\": \"0000:04:00.0\",\n      \"vendor\": \"1234\",\n      \"device\": \"11e8\",\n      \"class\": \"00ff\",\n      \"label\": \"edu\",\n      \"driver\": null,\n      \"upstream\": \"0000:02:01.0\",");
	EXPECT_CONTAINS(out, "\"cmb\": {\n        \"provider\": true,\n        \"size\": 67108864,\n        \"bar\": 2,\n        \"bus_address\": 4093640704,");
	EXPECT_CONTAINS(out, "\"verdict\": \"p2p\",\n      \"p2p\": true,\n      \"cause\": \"none\",\n      \"via\": \"0000:01:00.0\",\n      \"reason\": null,");
	EXPECT_LACKS(out, "0000:00:1f.2");
	free(out);
	free(t);
}

/* edu on the root complex: no upstream bridge in common, as the issue words it. */
TEST(topo_flat_no_common_bridge)
{
	struct topo *t = rig(true);
	char *out;

	ASSERT_NE(NULL, t);
	topo_finish(t);
	ASSERT_EQ(1u, t->nr_routes);
	EXPECT_EQ(TOPO_ROUTE_NONE, (int)t->routes[0].verdict);
	EXPECT_EQ(TOPO_CAUSE_NO_COMMON_BRIDGE, (int)t->routes[0].cause);
	EXPECT_STREQ("edu 0000:00:02.0 and nvme0 (0000:03:00.0) share no upstream bridge",
		     t->routes[0].reason);
	EXPECT_EQ(-1, t->routes[0].via);
	out = print_topo(CLI_OUTPUT_JSON, t);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"verdict\": \"none\",\n      \"p2p\": false,\n      \"cause\": \"no_common_bridge\",\n      \"via\": null,");
	free(out);
	free(t);
}

/* A downstream port that redirects, on either side, refuses the route. */
TEST(topo_acs_redirect)
{
	struct topo *t = rig(false);
	int i;

	ASSERT_NE(NULL, t);
	t->pci[4].acs = TOPO_ACS_REDIRECT;	/* 02:01.0, edu's side */
	t->pci[4].acs_ctrl = 0x001d;
	topo_finish(t);
	EXPECT_EQ(TOPO_ROUTE_NONE, (int)t->routes[0].verdict);
	EXPECT_EQ(TOPO_CAUSE_ACS, (int)t->routes[0].cause);
	EXPECT_STREQ("ACS redirection on bridge 0000:02:01.0 between edu 0000:04:00.0 and nvme0 (0000:03:00.0)",
		     t->routes[0].reason);
	free(t);

	/* on the root port above the common bridge: irrelevant */
	t = rig(false);
	ASSERT_NE(NULL, t);
	t->pci[1].acs = TOPO_ACS_REDIRECT;
	topo_finish(t);
	EXPECT_EQ(TOPO_ROUTE_P2P, (int)t->routes[0].verdict);
	/* on the common bridge itself: the kernel checks it too */
	for (i = 0; i < (int)t->nr_pci; i++)
		if (!strcmp(t->pci[i].addr, "0000:01:00.0"))
			t->pci[i].acs = TOPO_ACS_REDIRECT;
	topo_route_compute(t, &t->routes[0]);
	EXPECT_EQ(TOPO_CAUSE_ACS, (int)t->routes[0].cause);
	EXPECT_CONTAINS(t->routes[0].reason, "on bridge 0000:01:00.0");
	free(t);
}

/* Config space that cannot be read makes the route unknown, never P2P. */
TEST(topo_acs_unknown)
{
	struct topo *t = rig(false);

	ASSERT_NE(NULL, t);
	t->pci[3].acs = TOPO_ACS_UNKNOWN;	/* 02:00.0 */
	topo_finish(t);
	EXPECT_EQ(TOPO_ROUTE_UNKNOWN, (int)t->routes[0].verdict);
	EXPECT_STREQ("cannot read the ACS control of 0000:02:00.0 (its extended config space needs root)",
		     t->routes[0].reason);
	free(t);
}

/* No CMB: nvme-cmb's reason, worded for the controller. */
TEST(topo_no_cmb)
{
	struct topo *t = rig(false);
	char *out;

	ASSERT_NE(NULL, t);
	t->nvme[0].cmb.provider = false;
	strcpy(t->nvme[0].cmb.provider_note, "no CMB (CMBSZ=0)");
	topo_finish(t);
	EXPECT_EQ(TOPO_ROUTE_NONE, (int)t->routes[0].verdict);
	EXPECT_EQ(TOPO_CAUSE_NO_CMB, (int)t->routes[0].cause);
	EXPECT_STREQ("no CMB on nvme0 (CMBSZ=0)", t->routes[0].reason);
	out = print_topo(CLI_OUTPUT_TEXT, t);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "    CMB: none for P2P: no CMB on nvme0 (CMBSZ=0)\n");
	free(out);
	out = print_topo(CLI_OUTPUT_JSON, t);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"cmb\": {\n        \"provider\": false,\n        \"size\": null,\n        \"reason\": \"no CMB on nvme0 (CMBSZ=0)\",");
	free(out);

	strcpy(t->nvme[0].cmb.provider_note, "its DMA mask 0xfffffff does not reach the CMB");
	topo_route_compute(t, &t->routes[0]);
	EXPECT_STREQ("the CMB of nvme0 cannot be used: its DMA mask 0xfffffff does not reach the CMB",
		     t->routes[0].reason);

	t->nvme[0].cmb.provider_known = false;
	t->nvme[0].cmb.nvme_cmb_loaded = false;
	topo_route_compute(t, &t->routes[0]);
	EXPECT_STREQ("no P2P provider for nvme0: module p2pmap_nvme_cmb not loaded",
		     t->routes[0].reason);

	/* nvme's own registers, when it shows them, say what the CMB is */
	t->nvme[0].cmb.regs_known = true;
	t->nvme[0].cmb.cmbsz = 0x4021d;
	t->nvme[0].cmb.cmbloc = 0x62;
	out = print_topo(CLI_OUTPUT_TEXT, t);
	ASSERT_NE(NULL, out);
	EXPECT_CONTAINS(out, "    CMBSZ 0x0004021d: 64 MiB, capabilities sqs lists rds wds; CMBLOC 0x00000062: BAR 2, offset 0 B\n");
	free(out);
	out = print_topo(CLI_OUTPUT_JSON, t);
	ASSERT_NE(NULL, out);
	EXPECT_JSON_VALID(out);
	EXPECT_CONTAINS(out, "\"cmbsz_size\": 67108864,\n        \"capabilities\": [\n          \"sqs\",\n          \"lists\",\n          \"rds\",\n          \"wds\"\n        ]");
	free(out);

	/* debugfs unreadable: the CMB is unknown, and so is the route */
	t->nvme[0].cmb.regs_known = false;
	t->nvme[0].cmb.nvme_cmb_loaded = true;
	topo_route_compute(t, &t->routes[0]);
	EXPECT_EQ(TOPO_ROUTE_UNKNOWN, (int)t->routes[0].verdict);
	free(t);
}

/* Importers that are not PCI functions get a route with the kernel's reason. */
TEST(topo_non_pci_importer)
{
	struct topo *t = rig(false);

	ASSERT_NE(NULL, t);
	t->nr_importers = 2;
	strcpy(t->importers[0].name, "0000:04:00.0-0");
	strcpy(t->importers[0].device, "0000:04:00.0");
	strcpy(t->importers[1].name, "dgpu.1-1");
	strcpy(t->importers[1].device, "dgpu.1");
	topo_finish(t);
	ASSERT_EQ(2u, t->nr_routes);
	EXPECT_EQ(TOPO_ROUTE_P2P, (int)t->routes[0].verdict);
	EXPECT_EQ(-1, t->routes[1].importer);
	EXPECT_EQ(TOPO_CAUSE_NOT_PCI, (int)t->routes[1].cause);
	EXPECT_STREQ("dgpu.1 is not a PCI device", t->routes[1].reason);
	EXPECT_STREQ("0000:04:00.0", t->pci[t->importers[0].pci].addr);
	free(t);
}

/* The kernel's answer against the computed route. */
TEST(topo_agreement)
{
	struct topo_route r = { 0 };

	r.verdict = TOPO_ROUTE_P2P;
	r.kernel = TOPO_KERNEL_P2P;
	EXPECT_EQ(1, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_NO_ROUTE;
	EXPECT_EQ(0, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_NO_CMB;
	EXPECT_EQ(0, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_UNDECIDED;
	EXPECT_EQ(-1, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_NOT_ASKED;
	EXPECT_EQ(-1, topo_route_agreement(&r));

	r.verdict = TOPO_ROUTE_NONE;
	r.cause = TOPO_CAUSE_NO_COMMON_BRIDGE;
	r.kernel = TOPO_KERNEL_NO_ROUTE;
	EXPECT_EQ(1, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_P2P;
	EXPECT_EQ(0, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_NO_CMB;
	EXPECT_EQ(0, topo_route_agreement(&r));
	r.cause = TOPO_CAUSE_NO_CMB;
	EXPECT_EQ(1, topo_route_agreement(&r));
	r.kernel = TOPO_KERNEL_NO_ROUTE;
	EXPECT_EQ(0, topo_route_agreement(&r));

	r.verdict = TOPO_ROUTE_UNKNOWN;
	r.kernel = TOPO_KERNEL_P2P;
	EXPECT_EQ(-1, topo_route_agreement(&r));
}

/* A parent loop in a model cannot hang the walks. */
TEST(topo_parent_loop_terminates)
{
	struct topo *t = calloc(1, sizeof(*t));

	ASSERT_NE(NULL, t);
	add_pci(t, "0000:01:00.0", "0000:02:00.0", 1, 1, 0x0604, 5, TOPO_ACS_ABSENT);
	add_pci(t, "0000:02:00.0", "0000:01:00.0", 1, 1, 0x0604, 5, TOPO_ACS_ABSENT);
	add_pci(t, "0000:05:00.0", "", 1, 1, 0x0300, -1, TOPO_ACS_ABSENT);
	topo_finish(t);
	EXPECT_EQ(-1, topo_common_upstream(t, 0, 2));
	EXPECT_EQ(0, topo_common_upstream(t, 0, 1));
	free(t);
}

TEST_HARNESS_MAIN
