// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap topo, check and stats in the rig, their JSON held against the
 * kernel's own answers: stats against /sys/kernel/debug/p2pmap/stats, the
 * importers' and the CMBs' debugfs files and P2PMAP_IOC_STATS, after real
 * traffic through the dummy GPU (device reads of a file mapping and of
 * anonymous memory, tests/guest/importer_util.h); --watch deltas against the faults
 * that traffic made; check against P2PMAP_IOC_CHECK asked directly; topo
 * against sysfs (upstream bridges), nvme-cmb's debugfs (64 MiB CMB at
 * 0000:03:00.0 in the rig) and the topology the rig was booted with (a
 * switch above edu and the NVMe controller, or edu on the root complex, or
 * no CMB): what to expect is read from the system, not assumed, so that
 * tests/qemu/cli-topologies runs these tests on the other boots too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/p2pmap.h>
#include "importer_util.h"

#include "kselftest_harness.h"
#include "jsonflat.h"

#define PAGE		4096UL
#define DEBUGFS		"/sys/kernel/debug"
#define NVME_PCI	"0000:03:00.0"
#define EDU_PCI_SWITCH	"0000:04:00.0"

/* ---- running p2pmap ------------------------------------------------------------ */

struct run {
	int status;	/* exit status, or -1 */
	char *out;
	char *err;
};

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

/* Run the shell command @cmd; its stdout and stderr are kept apart. */
static void run(struct run *r, const char *cmd)
{
	char *full;
	int st;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (asprintf(&full, "%s >/tmp/cli_inspect.out 2>/tmp/cli_inspect.err", cmd) < 0)
		return;
	st = system(full);
	free(full);
	if (st >= 0 && WIFEXITED(st))
		r->status = WEXITSTATUS(st);
	r->out = slurp("/tmp/cli_inspect.out");
	r->err = slurp("/tmp/cli_inspect.err");
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* ---- the kernel's own numbers ---------------------------------------------------- */

/* "key value" or "key: value" lines of a debugfs file. */
struct kv {
	int n;
	char key[128][48];
	char val[128][96];
};

static int read_kv(const char *path, struct kv *kv)
{
	char line[256], *sep;
	FILE *f = fopen(path, "r");

	memset(kv, 0, sizeof(*kv));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && kv->n < 128) {
		line[strcspn(line, "\n")] = '\0';
		sep = strpbrk(line, " :");
		if (!sep)
			continue;
		*sep++ = '\0';
		while (*sep == ' ')
			sep++;
		snprintf(kv->key[kv->n], sizeof(kv->key[0]), "%.47s", line);
		snprintf(kv->val[kv->n], sizeof(kv->val[0]), "%.95s", sep);
		kv->n++;
	}
	fclose(f);
	return 0;
}

/* Sorted names of the directories in @dir (at most 16). */
static int list_dirs(const char *dir, char names[16][64])
{
	struct dirent *d;
	DIR *dh = opendir(dir);
	int n = 0, i, j;
	char tmp[64];

	if (!dh)
		return -1;
	while ((d = readdir(dh)) && n < 16) {
		if (d->d_name[0] == '.' || d->d_type != DT_DIR)
			continue;
		snprintf(names[n++], 64, "%.63s", d->d_name);
	}
	closedir(dh);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				strcpy(tmp, names[i]);
				strcpy(names[i], names[j]);
				strcpy(names[j], tmp);
			}
	return n;
}

/* ---- traffic through the dummy GPU ---------------------------------------------- */

/*
 * A device read of @npages of a shared file mapping and of anonymous
 * memory (COPY jobs into VRAM). Return: the faults the kernel made for
 * it, or -1.
 */
static long traffic(struct imp *imp, const char *name, unsigned long npages)
{
	void *buf = malloc(npages * PAGE), *map = MAP_FAILED, *anon = MAP_FAILED;
	struct imp_res res;
	long faults = -1;
	int fd;

	if (!buf)
		return -1;
	memset(buf, 0x5a, npages * PAGE);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, buf, npages * PAGE, 0) != (ssize_t)(npages * PAGE) ||
	    fsync(fd))
		goto out;
	map = mmap(NULL, npages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	anon = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || anon == MAP_FAILED)
		goto out;
	memset(anon, 1, npages * PAGE);

	if (imp_mirror(imp, map, npages) || imp_read(imp, map, npages, buf, &res))
		goto out;
	faults = res.faults;
	if (imp_mirror(imp, anon, npages) || imp_read(imp, anon, npages, buf, &res)) {
		faults = -1;
		goto out;
	}
	faults += res.faults;
out:
	imp_release(imp);
	if (map != MAP_FAILED)
		munmap(map, npages * PAGE);
	if (anon != MAP_FAILED)
		munmap(anon, npages * PAGE);
	if (fd >= 0)
		close(fd);
	free(buf);
	return faults;
}

static int parse_json(const char *text, struct jf *j)
{
	const char *p = text;

	return text ? jf_parse(&p, j) : -1;
}

/* ---- stats ----------------------------------------------------------------------- */

FIXTURE(stats)
{
	struct imp imp;
	long faults;
};

FIXTURE_SETUP(stats)
{
	int ret = imp_open(&self->imp, P2PMAP_DGPU_KIND_ANY);

	ASSERT_EQ(0, ret) TH_LOG("p2pmap_dgpu: %s", strerror(-ret));
	self->faults = traffic(&self->imp, "stats.dat", 8);
	ASSERT_LT(0, self->faults);
}

FIXTURE_TEARDOWN(stats)
{
	imp_close(&self->imp);
}

/* Every total of -o json equals the kernel's debugfs line, and the ioctl's. */
TEST_F(stats, totals_match_debugfs_and_ioctl)
{
	struct p2pmap_stats st = { .size = sizeof(st) };
	struct run r;
	struct jf j;
	struct kv kv;
	int i, dev;

	run(&r, "p2pmap stats -o json");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, read_kv(DEBUGFS "/p2pmap/stats", &kv));
	dev = open("/dev/p2pmap", O_RDWR);
	ASSERT_GE(dev, 0);
	ASSERT_EQ(0, ioctl(dev, P2PMAP_IOC_STATS, &st));
	close(dev);
	ASSERT_EQ(0, parse_json(r.out, &j)) TH_LOG("%s", r.out);

	ASSERT_LT(20, kv.n);
	for (i = 0; i < kv.n; i++) {
		const char *v = jf_getf(&j, "totals.%s", kv.key[i]);

		ASSERT_NE(NULL, v) TH_LOG("totals.%s missing", kv.key[i]);
		EXPECT_STREQ(kv.val[i], v) TH_LOG("totals.%s", kv.key[i]);
	}
	EXPECT_EQ(st.faults, jf_u64(&j, "totals.faults"));
	EXPECT_EQ(st.pages_fallback, jf_u64(&j, "totals.pages_fallback"));
	EXPECT_EQ(st.pages_p2p, jf_u64(&j, "totals.pages_p2p"));
	EXPECT_EQ(st.fallback[P2PMAP_REASON_ANONYMOUS],
		  jf_u64(&j, "totals.fallback.anonymous"));
	EXPECT_EQ(st.revoked[P2PMAP_REVOKE_UNMAP], jf_u64(&j, "totals.revoked.unmap"));
	/* the traffic happened and is counted */
	EXPECT_LE((uint64_t)self->faults, jf_u64(&j, "totals.faults"));
	EXPECT_LE(8u, jf_u64(&j, "totals.fallback.anonymous"));
	EXPECT_LE(16u, jf_u64(&j, "totals.pages_p2p") + jf_u64(&j, "totals.pages_fallback"));
	EXPECT_STREQ("[]", jf_get(&j, "notes"));
	jf_free(&j);
	run_free(&r);
}

/* Each importer in -o json is a debugfs directory, with the same counters. */
TEST_F(stats, importers_match_debugfs)
{
	char names[16][64], path[256];
	struct run r;
	struct jf j;
	struct kv kv;
	int n, i, k;

	run(&r, "p2pmap stats -o json");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, parse_json(r.out, &j));
	n = list_dirs(DEBUGFS "/p2pmap/importers", names);
	ASSERT_LE(1, n);	/* the dummy GPU at least */
	EXPECT_EQ((size_t)n, jf_len(&j, "importers"));
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(names[i], jf_getf(&j, "importers[%d].name", i));
		snprintf(path, sizeof(path), DEBUGFS "/p2pmap/importers/%.63s/stats", names[i]);
		ASSERT_EQ(0, read_kv(path, &kv));
		ASSERT_LT(10, kv.n);
		for (k = 0; k < kv.n; k++) {
			const char *v = jf_getf(&j, "importers[%d].%s", i, kv.key[k]);

			ASSERT_NE(NULL, v) TH_LOG("importers[%d].%s missing", i, kv.key[k]);
			EXPECT_STREQ(kv.val[k], v) TH_LOG("%s: %s", names[i], kv.key[k]);
		}
	}
	jf_free(&j);
	run_free(&r);
}

/* Each CMB nvme-cmb offers is in -o json with its counters; the rig's is 64 MiB. */
TEST_F(stats, cmbs_match_debugfs)
{
	char names[16][64], path[256];
	struct run r;
	struct jf j;
	struct kv kv;
	int n, i, k, rig = -1;

	run(&r, "p2pmap stats -o json");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, parse_json(r.out, &j));
	n = list_dirs(DEBUGFS "/p2pmap-nvme-cmb", names);
	ASSERT_LE(0, n) TH_LOG("nvme-cmb's debugfs is missing");
	EXPECT_EQ((size_t)n, jf_len(&j, "cmbs"));
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(names[i], jf_getf(&j, "cmbs[%d].pci", i));
		snprintf(path, sizeof(path), DEBUGFS "/p2pmap-nvme-cmb/%.63s/stats", names[i]);
		ASSERT_EQ(0, read_kv(path, &kv));
		for (k = 0; k < kv.n; k++) {
			const char *v = jf_getf(&j, "cmbs[%d].%s", i, kv.key[k]);

			ASSERT_NE(NULL, v) TH_LOG("cmbs[%d].%s missing", i, kv.key[k]);
			/* in_use may move with staging; nothing stages here */
			EXPECT_STREQ(kv.val[k], v) TH_LOG("%s: %s", names[i], kv.key[k]);
		}
		if (!strcmp(names[i], NVME_PCI))
			rig = i;
	}
	/*
	 * The rig's 64 MiB CMB, unless this boot has none: all of it with the
	 * compat backend; with P2PDMA (debug kernel) nvme-pci keeps a part.
	 */
	if (access("/sys/kernel/debug/p2pmap-nvme-cmb/" NVME_PCI, F_OK) == 0) {
		char key[32];

		ASSERT_LE(0, rig);
		snprintf(key, sizeof(key), "cmbs[%d].size", rig);
		if (!strcmp("compat", jf_getf(&j, "cmbs[%d].backend", rig))) {
			EXPECT_EQ(64ULL << 20, jf_u64(&j, key));
		} else {
			EXPECT_GE(64ULL << 20, jf_u64(&j, key));
			EXPECT_LT(32ULL << 20, jf_u64(&j, key));
		}
		EXPECT_STREQ("nvme0", jf_getf(&j, "cmbs[%d].controller", rig));
	}
	jf_free(&j);
	run_free(&r);
}

/* --watch: samples as they come; the delta is the faults of the traffic between. */
TEST_F(stats, watch_delta_is_the_traffic_between)
{
	char line[512], *doc = NULL;
	size_t len = 0;
	FILE *p;
	struct jf a, b;
	long faults;
	int docs = 0, status;
	size_t dlen = 0;
	FILE *mem = open_memstream(&doc, &dlen);

	ASSERT_NE(NULL, mem);
	p = popen("p2pmap stats -o json --watch 2 --count 2", "r");
	ASSERT_NE(NULL, p);
	/* the first sample: a document ends with "}" alone on its line */
	while (docs < 1 && fgets(line, sizeof(line), p)) {
		fputs(line, mem);
		if (!strcmp(line, "}\n"))
			docs++;
	}
	fflush(mem);
	ASSERT_EQ(1, docs);
	ASSERT_EQ(0, parse_json(doc, &a)) TH_LOG("%s", doc);
	faults = traffic(&self->imp, "watch.dat", 4);
	ASSERT_LT(0, faults);
	fclose(mem);
	free(doc);
	doc = NULL;
	mem = open_memstream(&doc, &dlen);
	while (fgets(line, sizeof(line), p))
		fputs(line, mem);
	fclose(mem);
	status = pclose(p);
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, parse_json(doc, &b)) TH_LOG("%s", doc);

	EXPECT_EQ(1u, jf_u64(&a, "sample"));
	EXPECT_EQ(2u, jf_u64(&b, "sample"));
	EXPECT_EQ(2000u, jf_u64(&b, "interval_ms"));
	EXPECT_LE(1900u, jf_u64(&b, "elapsed_ms"));
	EXPECT_EQ(NULL, jf_get(&a, "totals.delta.faults"));
	EXPECT_EQ(jf_u64(&b, "totals.faults") - jf_u64(&a, "totals.faults"),
		  jf_u64(&b, "totals.delta.faults"));
	EXPECT_EQ((uint64_t)faults, jf_u64(&b, "totals.delta.faults"));
	EXPECT_LE(4u, jf_u64(&b, "totals.delta.fallback.anonymous"));
	/* gauges have no delta */
	EXPECT_EQ(NULL, jf_get(&b, "totals.delta.importers"));
	jf_free(&a);
	jf_free(&b);
	free(doc);
	(void)len;
}

/* --importer: by device; a name that is not there is an error that lists them. */
TEST_F(stats, importer_filter)
{
	struct run r;
	struct jf j;
	size_t i, n;

	run(&r, "p2pmap stats -o json --importer " EDU_PCI_SWITCH);
	if (access(DEBUGFS "/p2pmap/importers/" EDU_PCI_SWITCH "-0", F_OK) == 0) {
		ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
		ASSERT_EQ(0, parse_json(r.out, &j));
		n = jf_len(&j, "importers");
		EXPECT_LE(1u, n);
		for (i = 0; i < n; i++)
			EXPECT_STREQ(EDU_PCI_SWITCH, jf_getf(&j, "importers[%zu].device", i));
		jf_free(&j);
	}
	run_free(&r);

	run(&r, "p2pmap stats --importer no-such-importer");
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(0, strncmp(r.err, "p2pmap: no importer no-such-importer (registered: ", 50))
		TH_LOG("%s", r.err);
	EXPECT_STREQ("", r.out);
	run_free(&r);
}

/* ---- check ------------------------------------------------------------------------ */

FIXTURE(check)
{
	int dev;
	int fd;
	struct p2pmap_check_extent ext[64];
	struct p2pmap_check c;
};

FIXTURE_SETUP(check)
{
	char buf[PAGE];
	int i;

	self->dev = open("/dev/p2pmap", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->dev, 0);
	/* 4 pages of data, a 4-page hole, 4 pages of data */
	self->fd = open("check.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(self->fd, 0);
	memset(buf, 0x42, sizeof(buf));
	for (i = 0; i < 12; i++) {
		if (i >= 4 && i < 8)
			continue;
		ASSERT_EQ((ssize_t)PAGE, pwrite(self->fd, buf, PAGE, i * PAGE));
	}
	ASSERT_EQ(0, fsync(self->fd));
}

FIXTURE_TEARDOWN(check)
{
	close(self->fd);
	close(self->dev);
}

/* The file system type mounted on /mnt, from /proc/mounts. */
static const char *mnt_fstype(void)
{
	static char type[32];
	char dev[128], dir[128];
	FILE *f = fopen("/proc/mounts", "r");

	type[0] = '\0';
	while (f && fscanf(f, "%127s %127s %31s %*[^\n]", dev, dir, type) == 3)
		if (!strcmp(dir, "/mnt"))
			break;
	if (f)
		fclose(f);
	return type;
}

/* The kernel's answer, asked directly. */
static int kernel_check(struct _test_data_check *self, uint64_t off, uint64_t len,
			int device)
{
	memset(&self->c, 0, sizeof(self->c));
	self->c.size = sizeof(self->c);
	self->c.fd = self->fd;
	self->c.offset = off;
	self->c.length = len;
	self->c.extents = (uintptr_t)self->ext;
	self->c.nr_extents = 64;
	if (device >= 0) {
		self->c.flags = P2PMAP_CHECK_DEVICE;
		self->c.device = device;
	}
	return ioctl(self->dev, P2PMAP_IOC_CHECK, &self->c);
}

static const char * const path_names[] = { "none", "p2p", "pagecache" };
static const char * const reason_names[] = {
	"none", "hole", "unwritten", "dirty", "shared", "private", "inline",
	"encrypted", "unsupported_fs", "no_cmb", "no_route", "cmb_exhausted",
	"anonymous", "not_aligned", "error", "write",
};

/* -o json against the ioctl: every range, the provider, the why, the sums. */
static void compare(struct __test_metadata *_metadata,
		    struct _test_data_check *self, const struct jf *j)
{
	uint64_t sum;
	unsigned int i;

	ASSERT_EQ((size_t)self->c.nr_extents, jf_len(j, "extents"));
	for (i = 0; i < self->c.nr_extents; i++) {
		const struct p2pmap_check_extent *e = &self->ext[i];

		char key[64];

		snprintf(key, sizeof(key), "extents[%u].offset", i);
		EXPECT_EQ(e->offset, jf_u64(j, key));
		snprintf(key, sizeof(key), "extents[%u].length", i);
		EXPECT_EQ(e->length, jf_u64(j, key));
		EXPECT_STREQ(path_names[e->path], jf_getf(j, "extents[%u].path", i));
		EXPECT_STREQ(reason_names[e->reason], jf_getf(j, "extents[%u].reason", i));
	}
	EXPECT_EQ(self->c.next_offset, jf_u64(j, "end"));
	if (self->c.why[0]) {
		EXPECT_STREQ((char *)self->c.why, jf_get(j, "why"));
	} else {
		EXPECT_STREQ("null", jf_get(j, "why"));
	}
	if (self->c.provider[0]) {
		EXPECT_STREQ((char *)self->c.provider, jf_get(j, "provider"));
	} else {
		EXPECT_STREQ("null", jf_get(j, "provider"));
	}
	sum = jf_u64(j, "summary.bytes_p2p") + jf_u64(j, "summary.bytes_pagecache") +
	      jf_u64(j, "summary.bytes_none");
	EXPECT_EQ(jf_u64(j, "end") - jf_u64(j, "offset"), sum);
}

/* The whole file: the kernel's ranges, reasons and explanation, as JSON. */
TEST_F(check, whole_file_matches_kernel)
{
	struct run r;
	struct jf j;

	ASSERT_EQ(0, kernel_check(self, 0, 12 * PAGE, -1));
	run(&r, "p2pmap check check.dat -o json");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, parse_json(r.out, &j)) TH_LOG("%s", r.out);
	compare(_metadata, self, &j);
	EXPECT_STREQ("true", jf_get(&j, "whole_file"));
	EXPECT_EQ(12 * PAGE, jf_u64(&j, "file_size"));
	EXPECT_STREQ(mnt_fstype(), jf_get(&j, "mount.fstype"));
	EXPECT_STREQ("/mnt", jf_get(&j, "mount.dir"));
	EXPECT_STREQ("/dev/nvme0n1", jf_get(&j, "mount.source"));
	jf_free(&j);
	run_free(&r);
}

/* Text: the kernel's explanation is what the user reads first. */
TEST_F(check, text_shows_the_kernels_why)
{
	char want[256];
	struct run r;

	ASSERT_EQ(0, kernel_check(self, 0, 12 * PAGE, -1));
	run(&r, "p2pmap check check.dat");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	if (self->c.why[0]) {
		snprintf(want, sizeof(want), "\nwhy:       %s\n", (char *)self->c.why);
		EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	}
	/* the summary explains every reason the kernel gave */
	if (self->ext[0].reason == P2PMAP_REASON_UNSUPPORTED_FS)
		EXPECT_NE(NULL, strstr(r.out, "  unsupported_fs  48 KiB     the file system has no p2pmap hooks\n"))
			TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\noffset         length         path       reason\n"));
	run_free(&r);
}

/* A range, for the edu function: the kernel's answer for that device. */
TEST_F(check, range_for_a_device_matches_kernel)
{
	char cmd[128], addr[16];
	struct stat st;
	int device = -1;
	struct run r;
	struct jf j;

	/* edu's address in this boot: below the switch, or on the root bus */
	if (stat("/sys/bus/pci/devices/" EDU_PCI_SWITCH, &st) == 0) {
		strcpy(addr, EDU_PCI_SWITCH);
		device = 4 << 8;
	} else if (stat("/sys/bus/pci/devices/0000:00:02.0", &st) == 0) {
		strcpy(addr, "0000:00:02.0");
		device = 2 << 3;
	} else {
		SKIP(return, "no edu device in this boot");
	}
	ASSERT_EQ(0, kernel_check(self, PAGE, 8 * PAGE, device));
	snprintf(cmd, sizeof(cmd), "p2pmap check check.dat 4K 32K --device %s -o json", addr);
	run(&r, cmd);
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, parse_json(r.out, &j)) TH_LOG("%s", r.out);
	compare(_metadata, self, &j);
	EXPECT_STREQ(addr, jf_get(&j, "device"));
	EXPECT_EQ(PAGE, jf_u64(&j, "offset"));
	EXPECT_STREQ("false", jf_get(&j, "whole_file"));
	jf_free(&j);
	run_free(&r);
}

/* Errors a user can act on, with their exit status; never a bare errno. */
TEST_F(check, errors)
{
	struct run r;

	run(&r, "p2pmap check /nonexistent");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("p2pmap: cannot open /nonexistent: No such file or directory\n", r.err);
	run_free(&r);

	run(&r, "p2pmap check /mnt");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("p2pmap: /mnt: only regular files can be checked, and this is a directory\n",
		     r.err);
	run_free(&r);

	run(&r, "p2pmap check check.dat --device 0000:0f:1f.7");
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("p2pmap: check.dat: no PCI function 0000:0f:1f.7 on this system (see lspci -D)\n",
		     r.err);
	EXPECT_STREQ("", r.out);
	run_free(&r);

	run(&r, "p2pmap check check.dat 0 0");
	EXPECT_EQ(2, r.status);
	run_free(&r);

	/* beyond the end of the file: answered, with nothing in it */
	run(&r, "p2pmap check check.dat 1M 4K -o json");
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "\"extents\": [],")) TH_LOG("%s", r.out);
	run_free(&r);
}

/* ---- topo -------------------------------------------------------------------------- */

/* The upstream bridge of PCI function @addr from sysfs, or "". */
static void sysfs_upstream(const char *addr, char *out, size_t len)
{
	char path[128], real[512], *s;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", addr);
	if (!realpath(path, real))
		return;
	s = strrchr(real, '/');
	if (!s)
		return;
	*s = '\0';
	s = strrchr(real, '/');
	if (s && strlen(s + 1) == 12 && s[5] == ':')
		snprintf(out, len, "%s", s + 1);
}

/* The JSON index of PCI function @addr, or -1. */
static int pci_index(const struct jf *j, const char *addr)
{
	size_t i, n = jf_len(j, "pci");

	for (i = 0; i < n; i++)
		if (!strcmp(addr, jf_getf(j, "pci[%zu].address", i)))
			return (int)i;
	return -1;
}

FIXTURE(topo)
{
	struct run r;
	struct jf j;
	char edu[16];
};

FIXTURE_SETUP(topo)
{
	char buf[PAGE];
	int fd;

	memset(buf, 0x17, sizeof(buf));
	fd = open("probe.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)PAGE, write(fd, buf, PAGE));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	run(&self->r, "p2pmap topo -o json --file probe.dat");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	ASSERT_EQ(0, parse_json(self->r.out, &self->j)) TH_LOG("%s", self->r.out);
	self->edu[0] = '\0';
	if (access("/sys/bus/pci/devices/" EDU_PCI_SWITCH "/config", F_OK) == 0)
		strcpy(self->edu, EDU_PCI_SWITCH);
	else if (access("/sys/bus/pci/devices/0000:00:02.0/config", F_OK) == 0)
		strcpy(self->edu, "0000:00:02.0");
}

FIXTURE_TEARDOWN(topo)
{
	jf_free(&self->j);
	run_free(&self->r);
}

/* Every function shown has the upstream bridge sysfs gives, and its parents are shown. */
TEST_F(topo, pci_tree_is_sysfs)
{
	char up[16];
	size_t i, n = jf_len(&self->j, "pci");

	ASSERT_LE(2u, n);
	for (i = 0; i < n; i++) {
		const char *addr = jf_getf(&self->j, "pci[%zu].address", i);
		const char *json_up = jf_getf(&self->j, "pci[%zu].upstream", i);

		sysfs_upstream(addr, up, sizeof(up));
		EXPECT_STREQ(up[0] ? up : "null", json_up) TH_LOG("%s", addr);
		if (up[0])
			EXPECT_LE(0, pci_index(&self->j, up)) TH_LOG("%s above %s is not shown", up, addr);
	}
	/* the rig's NVMe controller and edu, with what they are */
	i = pci_index(&self->j, NVME_PCI);
	ASSERT_LE(0, (int)i);
	EXPECT_STREQ("nvme0", jf_getf(&self->j, "pci[%zu].label", i));
	EXPECT_STREQ("0108", jf_getf(&self->j, "pci[%zu].class", i));
	if (self->edu[0]) {
		i = pci_index(&self->j, self->edu);
		ASSERT_LE(0, (int)i);
		EXPECT_STREQ("edu", jf_getf(&self->j, "pci[%zu].label", i));
		EXPECT_STREQ("true", jf_getf(&self->j, "pci[%zu].importer_capable", i));
	}
}

/* nvme0 as libnvme and nvme-cmb see it: 64 MiB CMB in the default rig. */
TEST_F(topo, nvme_and_cmb_match_nvme_cmb)
{
	struct kv info;
	const char *note;
	char *controllers;
	int k;

	EXPECT_STREQ("nvme0", jf_get(&self->j, "nvme[0].name"));
	EXPECT_STREQ("pcie", jf_get(&self->j, "nvme[0].transport"));
	EXPECT_STREQ(NVME_PCI, jf_get(&self->j, "nvme[0].pci"));
	EXPECT_STREQ("p2p0", jf_get(&self->j, "nvme[0].serial"));
	EXPECT_STREQ("nvme0n1", jf_get(&self->j, "nvme[0].namespaces[0]"));
	EXPECT_STREQ("/mnt", jf_get(&self->j, "nvme[0].mount.dir"));

	if (read_kv(DEBUGFS "/p2pmap-nvme-cmb/" NVME_PCI "/info", &info) == 0) {
		/*
		 * Offered, in BAR 2, as nvme-cmb says: all of the rig's 64 MiB
		 * with the compat backend; with P2PDMA nvme-pci keeps a part,
		 * and shows the registers, which say 64 MiB.
		 */
		EXPECT_STREQ("true", jf_get(&self->j, "nvme[0].cmb.provider"));
		if (!strcmp("compat", jf_get(&self->j, "nvme[0].cmb.backend"))) {
			EXPECT_EQ(64ULL << 20, jf_u64(&self->j, "nvme[0].cmb.size"));
		} else {
			EXPECT_GE(64ULL << 20, jf_u64(&self->j, "nvme[0].cmb.size"));
		}
		if (strcmp("null", jf_get(&self->j, "nvme[0].cmb.cmbsz"))) {
			EXPECT_EQ(64ULL << 20, jf_u64(&self->j, "nvme[0].cmb.cmbsz_size"));
			EXPECT_EQ(2u, jf_u64(&self->j, "nvme[0].cmb.cmbloc") & 7);
			EXPECT_STREQ("rds", jf_get(&self->j, "nvme[0].cmb.capabilities[2]"));
		} else {
			EXPECT_NE(0, access("/sys/class/nvme/nvme0/cmbsz", F_OK));
		}
		for (k = 0; k < info.n; k++) {
			if (!strcmp(info.key[k], "size"))
				EXPECT_EQ(strtoull(info.val[k], NULL, 0),
					  jf_u64(&self->j, "nvme[0].cmb.size"));
			if (!strcmp(info.key[k], "bar"))
				EXPECT_EQ(strtoull(info.val[k], NULL, 0),
					  jf_u64(&self->j, "nvme[0].cmb.bar"));
			if (!strcmp(info.key[k], "bus_addr"))
				EXPECT_EQ(strtoull(info.val[k], NULL, 0),
					  jf_u64(&self->j, "nvme[0].cmb.bus_address"));
			if (!strcmp(info.key[k], "backend"))
				EXPECT_STREQ(info.val[k], jf_get(&self->j, "nvme[0].cmb.backend"));
		}
		EXPECT_STREQ("null", jf_get(&self->j, "nvme[0].cmb.reason"));
		return;
	}
	/* not offered: the reason is nvme-cmb's, worded for the controller */
	controllers = slurp(DEBUGFS "/p2pmap-nvme-cmb/controllers");
	ASSERT_NE(NULL, controllers);
	note = strstr(controllers, NVME_PCI " nvme0 none: ");
	ASSERT_NE(NULL, note) TH_LOG("%s", controllers);
	EXPECT_STREQ("false", jf_get(&self->j, "nvme[0].cmb.provider"));
	if (!strncmp(note + strlen(NVME_PCI " nvme0 none: "), "no CMB", 6))
		EXPECT_EQ(0, strncmp("no CMB on nvme0", jf_get(&self->j, "nvme[0].cmb.reason"), 15))
			TH_LOG("%s", jf_get(&self->j, "nvme[0].cmb.reason"));
	free(controllers);
}

/* The route edu -> nvme0 follows the boot's topology, and the kernel agrees. */
TEST_F(topo, route_follows_topology_and_kernel)
{
	char edu_up[16], nvme_up[16], want[256];
	const char *verdict, *answer;
	size_t i, n = jf_len(&self->j, "routes");
	int route = -1;
	bool switch_above_both = false;

	if (!self->edu[0])
		SKIP(return, "no edu device in this boot");
	for (i = 0; i < n; i++)
		if (!strcmp(self->edu, jf_getf(&self->j, "routes[%zu].importer", i)) &&
		    !strcmp("nvme0", jf_getf(&self->j, "routes[%zu].nvme", i)))
			route = (int)i;
	ASSERT_LE(0, route) TH_LOG("%s", self->r.out);

	/* what to expect, from sysfs: a bridge above both (2 levels up in the rig) */
	sysfs_upstream(self->edu, edu_up, sizeof(edu_up));
	sysfs_upstream(NVME_PCI, nvme_up, sizeof(nvme_up));
	if (edu_up[0] && nvme_up[0]) {
		char a[16], b[16];

		sysfs_upstream(edu_up, a, sizeof(a));
		sysfs_upstream(nvme_up, b, sizeof(b));
		switch_above_both = a[0] && !strcmp(a, b);
	}
	verdict = jf_getf(&self->j, "routes[%d].verdict", route);
	answer = jf_getf(&self->j, "routes[%d].kernel.answer", route);
	if (!strcmp(jf_get(&self->j, "nvme[0].cmb.provider"), "false")) {
		EXPECT_STREQ("none", verdict);
		EXPECT_STREQ("no_cmb", jf_getf(&self->j, "routes[%d].cause", route));
		EXPECT_STREQ(jf_get(&self->j, "nvme[0].cmb.reason"),
			     jf_getf(&self->j, "routes[%d].reason", route));
	} else if (switch_above_both) {
		EXPECT_STREQ("p2p", verdict);
		EXPECT_STREQ("0000:01:00.0", jf_getf(&self->j, "routes[%d].via", route));
	} else {
		EXPECT_STREQ("none", verdict);
		EXPECT_STREQ("no_common_bridge", jf_getf(&self->j, "routes[%d].cause", route));
		snprintf(want, sizeof(want),
			 "edu %s and nvme0 (" NVME_PCI ") share no upstream bridge", self->edu);
		EXPECT_STREQ(want, jf_getf(&self->j, "routes[%d].reason", route));
	}

	/* the kernel was asked with our file; when it decided, it agrees */
	EXPECT_STREQ("probe.dat", jf_getf(&self->j, "routes[%d].kernel.file", route));
	if (!strcmp(answer, "undecided")) {
		EXPECT_STREQ("null", jf_getf(&self->j, "routes[%d].kernel.agrees", route));
		EXPECT_NE(NULL, strstr(jf_getf(&self->j, "routes[%d].kernel.why", route),
				       "has no p2pmap hooks"));
	} else {
		EXPECT_STREQ("true", jf_getf(&self->j, "routes[%d].kernel.agrees", route))
			TH_LOG("kernel: %s", answer);
		if (!strcmp(answer, "no_route") && !switch_above_both)
			EXPECT_NE(NULL, strstr(jf_getf(&self->j, "routes[%d].kernel.why", route),
					       "share no upstream bridge"));
	}
}

/* Without root: ACS cannot be read, so the route is unknown, never guessed. */
TEST_F(topo, unprivileged_route_is_unknown)
{
	struct run r;
	struct jf j;
	size_t i, n;

	if (!self->edu[0])
		SKIP(return, "no edu device in this boot");
	run(&r, "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups p2pmap topo -o json");
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, parse_json(r.out, &j)) TH_LOG("%s", r.out);
	n = jf_len(&j, "routes");
	ASSERT_LE(1u, n);
	for (i = 0; i < n; i++) {
		const char *v = jf_getf(&j, "routes[%zu].verdict", i);

		EXPECT_NE(0, strcmp(v, "p2p")) TH_LOG("route %zu guessed P2P", i);
	}
	EXPECT_STREQ("unknown", jf_get(&j, "pci[0].acs"));
	EXPECT_LE(1u, jf_len(&j, "notes"));
	jf_free(&j);
	run_free(&r);
}

TEST_HARNESS_MAIN
