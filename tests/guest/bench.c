// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap bench's own figures, checked against counters it does not own, at
 * small sizes (4 KiB, 1 MiB, 4 MiB; one round): its JSON is well-formed and
 * complete; every path moved exactly the file's size; the P2P path reached
 * every page peer to peer and p2pmap's own counters (read here, around the
 * whole run) moved by as many pages; the page-cache growth it reports for
 * read(2) is what this test measures itself in /proc/meminfo for the same
 * read; P2P and O_DIRECT do not grow the page cache; the CMB staged the
 * file; the plot is an SVG with a line per path; bad arguments are refused
 * with exit status 2 and a reason. The kernel's loop (debugfs), drained after
 * each piece, waits once per piece and splits no bio across two; a bad
 * drain= is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <libp2pmap.h>

#include "jsonflat.h"
#include "kselftest_harness.h"

/* per run of this program: its TESTs are children of one process */
#define OUT(name)	out_path(name)
#define JSON_OUT	OUT("json")
#define SVG_OUT		OUT("svg")
#define STATS_OUT	OUT("stats")
#define SIZES		"4K,1M,4M"

static const uint64_t sizes[] = { 4096, 1 << 20, 4 << 20 };
static const char *const paths[] = { "p2p", "read", "odirect", "bio" };

static const char *out_path(const char *what)
{
	static char path[4][64];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "/tmp/bench-test.%d.%s", (int)getppid(), what);
	return p;
}

static char *slurp(const char *file)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(file, "re");
	size_t n;

	if (!f)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		n = fread(buf + len, 1, 4096, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static uint64_t pages_p2p_now(void)
{
	struct p2pmap_stats st;
	struct p2pmap *h;

	memset(&st, 0, sizeof(st));
	if (p2pmap_open(&h, NULL))
		return UINT64_MAX;
	if (p2pmap_get_stats(h, &st, NULL))
		st.pages_p2p = UINT64_MAX;
	p2pmap_close(h);
	return st.pages_p2p;
}

/*
 * Run the bench once per test program (each TEST runs in its own process:
 * the results are kept in files) and parse its JSON into @j. Return: the
 * bench's exit status, or -1.
 */
static int bench_once(struct jf *j, uint64_t *stats_delta)
{
	char cmd[512];
	const char *p;
	char *text;
	FILE *f;
	int rc = -1;
	unsigned long long before, after;

	f = fopen(STATS_OUT, "re");
	if (f) {
		if (fscanf(f, "%d %llu", &rc, &before) != 2)
			rc = -1;
		fclose(f);
		*stats_delta = before;
	} else {
		snprintf(cmd, sizeof(cmd),
			 "p2pmap bench -o json --rounds 1 --sizes " SIZES
			 " --svg %s . >%s 2>/tmp/bench-test.err", SVG_OUT, JSON_OUT);
		before = pages_p2p_now();
		rc = system(cmd);
		rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
		after = pages_p2p_now();
		*stats_delta = after - before;
		f = fopen(STATS_OUT, "we");
		if (f) {
			fprintf(f, "%d %llu\n", rc, (unsigned long long)*stats_delta);
			fclose(f);
		}
	}
	text = slurp(JSON_OUT);
	p = text;
	if (!text || jf_parse(&p, j) || *p)
		rc = -1;
	free(text);
	return rc;
}

/*
 * The first test runs the bench (about a minute on the debug kernel, more
 * than the harness's default 30 s); the others reuse its files.
 */
FIXTURE(bench) {
	int unused;
};

FIXTURE_SETUP(bench)
{
}

FIXTURE_TEARDOWN(bench)
{
}

/*
 * Size @s's one round ratio @ratios (a JSON array) is its map-and-stage rate
 * over the bio path's @rate, within rounding.
 */
static void check_round_ratio(struct __test_metadata *_metadata, struct jf *j,
			      size_t s, const char *ratios, const char *rate)
{
	double got, map, loop;
	char key[96];

	snprintf(key, sizeof(key), "sizes[%zu].%s", s, ratios);
	ASSERT_EQ(1u, jf_len(j, key));
	snprintf(key, sizeof(key), "sizes[%zu].%s[0]", s, ratios);
	got = jf_u64(j, key);
	snprintf(key, sizeof(key), "sizes[%zu].p2p.map_and_stage_mb_per_s_x1000", s);
	map = jf_u64(j, key);
	snprintf(key, sizeof(key), "sizes[%zu].bio.%s", s, rate);
	loop = jf_u64(j, key);
	ASSERT_LT(0, loop);
	ASSERT_NE((double)UINT64_MAX, loop);
	ASSERT_NE((double)UINT64_MAX, got);
	EXPECT_GE(2.0, fabs(got - 1000 * map / loop)) {
		TH_LOG("%s %.0f, rates %.0f / %.0f", ratios, got, map, loop);
	}
}

/* Its JSON is one well-formed document with every size, path and bar. */
TEST_F_TIMEOUT(bench, json_is_complete, 900)
{
	uint64_t delta;
	struct jf j;
	size_t s, k;
	int rc = bench_once(&j, &delta);

	ASSERT_NE(-1, rc) {
		TH_LOG("no well-formed JSON from p2pmap bench (see /tmp/bench-test.err)");
	}
	/* exit 1 is allowed: a bar may fail at these sizes; paths may not */
	EXPECT_TRUE(rc == 0 || rc == 1);
	ASSERT_EQ(3u, jf_len(&j, "sizes"));
	EXPECT_EQ(3u, jf_len(&j, "bars"));
	EXPECT_EQ(1u, jf_u64(&j, "rounds"));
	EXPECT_NE(UINT64_MAX, jf_u64(&j, "cmb_size"));
	/* the bare loop's default shape: 1 MiB bios, as many as fit, 16 at most */
	EXPECT_EQ(1u << 20, jf_u64(&j, "bio_bytes"));
	EXPECT_LE(1u, jf_u64(&j, "bio_depth"));
	EXPECT_GE(16u, jf_u64(&j, "bio_depth"));
	EXPECT_GE(jf_u64(&j, "cmb_size"), jf_u64(&j, "bio_depth") * jf_u64(&j, "bio_bytes"));
	/* the drained loop: a 4 MiB piece's bios in flight at once */
	EXPECT_EQ(4u << 20, jf_u64(&j, "piece"));
	EXPECT_EQ(4u, jf_u64(&j, "drain_depth"));
	for (s = 0; s < 3; s++) {
		char key[96];

		snprintf(key, sizeof(key), "sizes[%zu].size", s);
		EXPECT_EQ(sizes[s], jf_u64(&j, key));
		for (k = 0; k < 4; k++) {
			const char *ok = jf_getf(&j, "sizes[%zu].%s.ok", s, paths[k]);
			const char *why = jf_getf(&j, "sizes[%zu].%s.error", s, paths[k]);

			EXPECT_STREQ("true", ok ? ok : "missing") {
				TH_LOG("%s at %llu: %s", paths[k],
				       (unsigned long long)sizes[s], why ? why : "?");
			}
		}
		/* one round: its ratios are the map-and-stage rate over the loops' */
		check_round_ratio(_metadata, &j, s, "map_and_stage_ratios_x1000",
				  "mb_per_s_x1000");
		check_round_ratio(_metadata, &j, s,
				  "map_and_stage_drained_ratios_x1000",
				  "drained_mb_per_s_x1000");
		snprintf(key, sizeof(key), "sizes[%zu].p2p.cmb_stall_evictions", s);
		EXPECT_NE(UINT64_MAX, jf_u64(&j, key));
		snprintf(key, sizeof(key), "sizes[%zu].p2p.cmb_evicted_ahead", s);
		EXPECT_NE(UINT64_MAX, jf_u64(&j, key));
		snprintf(key, sizeof(key), "sizes[%zu].p2p.cmb_space_timeouts", s);
		EXPECT_NE(UINT64_MAX, jf_u64(&j, key));
	}
	jf_free(&j);
}

/*
 * Every path moved exactly the file's bytes (the bio loop: times the passes
 * it reports); no piece differed from the file. The drained loop read the
 * same, and the kernel's loop waited for an empty queue once per 4 MiB
 * piece (a shorter file: once per pass), by its own count.
 */
TEST_F_TIMEOUT(bench, bytes_moved_are_the_file_size, 900)
{
	char key[128];
	uint64_t delta;
	struct jf j;
	size_t s, k;

	ASSERT_NE(-1, bench_once(&j, &delta));
	for (s = 0; s < 3; s++) {
		for (k = 0; k < 4; k++) {
			uint64_t passes;

			snprintf(key, sizeof(key), "sizes[%zu].%s.passes", s, paths[k]);
			passes = jf_u64(&j, key);
			/* the bio loop repeats to move 256 MiB, at most 1024 times */
			EXPECT_EQ(k != 3 ? 1 : (256ULL << 20) / sizes[s] > 1024 ?
				  1024 : (256ULL << 20) / sizes[s], passes);
			snprintf(key, sizeof(key), "sizes[%zu].%s.bytes", s, paths[k]);
			EXPECT_EQ(sizes[s] * passes, jf_u64(&j, key)) TH_LOG("%s", key);
			snprintf(key, sizeof(key), "sizes[%zu].%s.mismatches", s, paths[k]);
			EXPECT_EQ(0u, jf_u64(&j, key)) TH_LOG("%s", key);
			if (k != 3)
				continue;
			snprintf(key, sizeof(key), "sizes[%zu].bio.drained_bytes", s);
			EXPECT_EQ(sizes[s] * passes, jf_u64(&j, key)) TH_LOG("%s", key);
			snprintf(key, sizeof(key), "sizes[%zu].bio.drained_drains", s);
			EXPECT_EQ(passes * ((sizes[s] + (4ULL << 20) - 1) >> 22),
				  jf_u64(&j, key)) TH_LOG("%s", key);
		}
	}
	jf_free(&j);
}

/*
 * P2P: every page of the fully written file peer to peer, none from the
 * page cache, in the copies and in the map-and-stage pass before them;
 * p2pmap's own counter (read by this test) moved by the sum of both.
 */
TEST_F_TIMEOUT(bench, pages_p2p_match_p2pmap_stats, 900)
{
	uint64_t delta, sum = 0, bench_sum = 0;
	char key[128];
	struct jf j;
	size_t s;

	ASSERT_NE(-1, bench_once(&j, &delta));
	for (s = 0; s < 3; s++) {
		snprintf(key, sizeof(key), "sizes[%zu].p2p.pages_p2p", s);
		EXPECT_EQ(sizes[s] / 4096, jf_u64(&j, key));
		sum += jf_u64(&j, key);
		snprintf(key, sizeof(key), "sizes[%zu].p2p.pages_pagecache", s);
		EXPECT_EQ(0u, jf_u64(&j, key));
		snprintf(key, sizeof(key), "sizes[%zu].p2p.stats_pages_p2p", s);
		bench_sum += jf_u64(&j, key);
		snprintf(key, sizeof(key), "sizes[%zu].p2p.stats_pages_fallback", s);
		EXPECT_EQ(0u, jf_u64(&j, key));
		/* the CMB read the file's blocks itself */
		snprintf(key, sizeof(key), "sizes[%zu].p2p.cmb_staged", s);
		EXPECT_LE(sizes[s], jf_u64(&j, key)) TH_LOG("%s", key);
		/* the map-and-stage pass: every page P2P, none fell back */
		snprintf(key, sizeof(key), "sizes[%zu].p2p.map_and_stage_pages_p2p", s);
		EXPECT_EQ(sizes[s] / 4096, jf_u64(&j, key));
		sum += jf_u64(&j, key);
		bench_sum += jf_u64(&j, key);
		snprintf(key, sizeof(key), "sizes[%zu].p2p.map_and_stage_pages_fallback", s);
		EXPECT_EQ(0u, jf_u64(&j, key));
	}
	EXPECT_EQ(sum, delta);
	EXPECT_EQ(bench_sum, delta);
	jf_free(&j);
}

static int64_t cached_now(void)
{
	char line[128];
	long long kb, sum = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Cached: %lld kB", &kb) == 1 ||
		    sscanf(line, "Buffers: %lld kB", &kb) == 1)
			sum += kb;
	fclose(f);
	return sum * 1024;
}

/*
 * The growth it reports for read(2) of 4 MiB is what this test sees in
 * /proc/meminfo reading a 4 MiB file itself; P2P and O_DIRECT stay under 1%.
 */
TEST_F_TIMEOUT(bench, page_cache_growth_matches_meminfo, 900)
{
	static char buf[1 << 20];
	int64_t before, mine, theirs;
	uint64_t delta;
	struct jf j;
	int fd, i, dc;

	ASSERT_NE(-1, bench_once(&j, &delta));
	fd = open("own.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < 4; i++)
		ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, fsync(fd));
	sync();
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, dc);
	ASSERT_EQ(1, write(dc, "3", 1));
	close(dc);
	before = cached_now();
	for (i = 0; i < 4; i++)
		ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), i * sizeof(buf)));
	mine = cached_now() - before;
	close(fd);
	unlink("own.dat");

	theirs = strtoll(jf_get(&j, "sizes[2].read.page_cache_growth") ?: "-1", NULL, 10);
	/* both near 4 MiB: within a quarter of each other plus 256 KiB */
	EXPECT_LE(llabs(theirs - mine), mine / 4 + (256 << 10)) {
		TH_LOG("bench reported %lld bytes, this test measured %lld",
		       (long long)theirs, (long long)mine);
	}
	EXPECT_LE(3 << 20, theirs);
	EXPECT_GT((4 << 20) / 100,
		  strtoll(jf_get(&j, "sizes[2].p2p.page_cache_growth") ?: "999999999", NULL, 10));
	EXPECT_GT((4 << 20) / 100,
		  strtoll(jf_get(&j, "sizes[2].odirect.page_cache_growth") ?: "999999999", NULL, 10));
	jf_free(&j);
}

/* The plot is an SVG with one line per path and one for map-and-stage. */
TEST_F_TIMEOUT(bench, svg_has_a_line_per_path, 900)
{
	uint64_t delta;
	char *svg, *p;
	struct jf j;
	int lines = 0;

	ASSERT_NE(-1, bench_once(&j, &delta));
	jf_free(&j);
	svg = slurp(SVG_OUT);
	ASSERT_NE(NULL, svg);
	EXPECT_EQ(0, strncmp(svg, "<svg ", 5));
	EXPECT_NE(NULL, strstr(svg, "</svg>"));
	for (p = svg; (p = strstr(p, "<polyline")); p++)
		lines++;
	EXPECT_EQ(5, lines);
	free(svg);
}

static int run(const char *cmd, char *err, size_t len)
{
	char full[512];
	FILE *f;
	int rc;

	snprintf(full, sizeof(full), "%s 2>&1 >/dev/null", cmd);
	f = popen(full, "r");
	if (!f)
		return -1;
	len = fread(err, 1, len - 1, f);
	err[len] = '\0';
	rc = pclose(f);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Bad arguments: exit 2 with a reason, and no file left behind. */
TEST_F_TIMEOUT(bench, bad_arguments_are_refused, 900)
{
	char err[512];

	EXPECT_EQ(2, run("p2pmap bench --sizes 5000 .", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "multiple of 4 KiB"));
	EXPECT_EQ(2, run("p2pmap bench --rounds 0 .", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--rounds"));
	EXPECT_EQ(2, run("p2pmap bench --sizes 4K /proc", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not on a block device"));
	EXPECT_EQ(2, run("p2pmap bench --sizes 4K /nonexistent", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not a directory"));
	EXPECT_EQ(2, run("p2pmap bench --bio-size 6K --sizes 4K .", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--bio-size"));
	EXPECT_EQ(2, run("p2pmap bench --bio-size 2M --sizes 4K .", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "at most 1 MiB"));
	EXPECT_EQ(2, run("p2pmap bench --bio-depth 0 --sizes 4K .", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "--bio-depth"));
	/* 256 x 1 MiB in flight: more than the rig's CMB */
	EXPECT_EQ(2, run("p2pmap bench --bio-depth 256 --bio-size 1M --sizes 4K .",
			 err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "do not fit"));
	EXPECT_NE(0, access("p2pmap-bench.dat", F_OK));
}

/*
 * A written file of @size bytes; its extents as "SECTOR+NR ..." in @buf,
 * how many in *@nr.
 */
static int loop_file(const char *name, size_t size, char *buf, size_t len,
		     unsigned int *nr)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[32];
	} f;
	static char data[1 << 20];
	size_t off, used = 0;
	unsigned int i;
	int fd;

	fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(data, 0x5a, sizeof(data));
	for (off = 0; off < size; off += sizeof(data))
		if (pwrite(fd, data, sizeof(data), off) != sizeof(data))
			goto fail;
	if (fsync(fd))
		goto fail;
	memset(&f, 0, sizeof(f));
	f.fm.fm_length = size;
	f.fm.fm_flags = FIEMAP_FLAG_SYNC;
	f.fm.fm_extent_count = 32;
	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm) || !f.fm.fm_mapped_extents)
		goto fail;
	buf[0] = '\0';
	for (i = 0; i < f.fm.fm_mapped_extents; i++)
		used += snprintf(buf + used, len - used, "%llu+%llu ",
				 (unsigned long long)f.ext[i].fe_physical / 512,
				 (unsigned long long)f.ext[i].fe_length / 512);
	*nr = f.fm.fm_mapped_extents;
	return fd;
fail:
	close(fd);
	return -1;
}

/* One command to the debugfs loop; Return: 0 and its result, or -errno. */
static int loop_run(int dfd, const char *cmd, char *out, size_t len)
{
	ssize_t n;

	if (write(dfd, cmd, strlen(cmd)) < 0)
		return -errno;
	n = read(dfd, out, len - 1);	/* the write rewound it */
	if (n < 0)
		return -errno;
	out[n] = '\0';
	return 0;
}

static unsigned long long loop_value(const char *out, const char *key)
{
	char pat[32];
	const char *p;
	unsigned long long v;

	snprintf(pat, sizeof(pat), "%s ", key);
	p = strstr(out, pat);
	if (!p || sscanf(p + strlen(pat), "%llu", &v) != 1)
		return ~0ULL;
	return v;
}

/*
 * drain=PIECE: one wait per piece and one for a pass's shorter last piece,
 * and a bio that would cross a piece is cut at it (4 MiB, 1 MiB bios, pieces
 * of 1.5 MiB: 1 + 0.5, 1 + 0.5, 1: five bios, three waits). Without drain=
 * the loop waits for nothing. A drain of 0, one not a multiple of 4 KiB, or
 * one with no range after it is refused with EINVAL, and leaves no result.
 */
TEST(debugfs_loop_drains_per_piece)
{
	char ranges[2048], cmd[2300], out[256];
	const char *name = "bench-drain.dat";
	unsigned int extents = 0;
	int fd, dfd;

	fd = loop_file(name, 4 << 20, ranges, sizeof(ranges), &extents);
	ASSERT_LE(0, fd);
	/* the bio counts below are those of a file in one extent */
	ASSERT_EQ(1u, extents) {
		TH_LOG("4 MiB in more than one extent: %s", ranges);
	}
	dfd = open("/sys/kernel/debug/p2pmap-nvme-cmb/bench", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dfd);

	snprintf(cmd, sizeof(cmd), "%d 4 1048576 2 drain=1048576 %s", fd, ranges);
	ASSERT_EQ(0, loop_run(dfd, cmd, out, sizeof(out)));
	EXPECT_EQ(8ULL << 20, loop_value(out, "bytes"));
	EXPECT_EQ(8u, loop_value(out, "bios"));
	EXPECT_EQ(8u, loop_value(out, "drains")) TH_LOG("%s", out);
	EXPECT_EQ(0u, loop_value(out, "errors"));

	snprintf(cmd, sizeof(cmd), "%d 4 1048576 1 drain=1572864 %s", fd, ranges);
	ASSERT_EQ(0, loop_run(dfd, cmd, out, sizeof(out)));
	EXPECT_EQ(4ULL << 20, loop_value(out, "bytes"));
	EXPECT_EQ(5u, loop_value(out, "bios")) TH_LOG("%s", out);
	EXPECT_EQ(3u, loop_value(out, "drains")) TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), "%d 4 1048576 1 %s", fd, ranges);
	ASSERT_EQ(0, loop_run(dfd, cmd, out, sizeof(out)));
	EXPECT_EQ(4u, loop_value(out, "bios"));
	EXPECT_EQ(0u, loop_value(out, "drains")) TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), "%d 4 1048576 1 drain=0 %s", fd, ranges);
	EXPECT_EQ(-EINVAL, loop_run(dfd, cmd, out, sizeof(out)));
	/* the refused command left no result behind */
	EXPECT_EQ(-ENODATA, (int)(read(dfd, out, sizeof(out)) < 0 ? -errno : 0));
	snprintf(cmd, sizeof(cmd), "%d 4 1048576 1 drain=6000 %s", fd, ranges);
	EXPECT_EQ(-EINVAL, loop_run(dfd, cmd, out, sizeof(out)));
	snprintf(cmd, sizeof(cmd), "%d 4 1048576 1 drain=1048576", fd);
	EXPECT_EQ(-EINVAL, loop_run(dfd, cmd, out, sizeof(out)));

	close(dfd);
	close(fd);
	unlink(name);
}

TEST_HARNESS_MAIN
