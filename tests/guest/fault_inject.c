// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (the debug kernel's CONFIG_FAULT_INJECTION): the failure
 * paths of a device fault, driven through the dummy GPU (drivers/dummy-gpu)
 * on a file of the file system under test.
 *
 *  - every allocation and user copy of one fault fails in turn
 *    (/proc/thread-self/fail-nth with failslab and fail_page_alloc told to
 *    consider sleeping allocations): each attempt ends in 0 or a clean errno,
 *    the next job reads the right bytes, a fallback says "error" and is
 *    counted;
 *  - every bio of the fault fails (fail_make_request on nvme0n1, scoped to
 *    this thread by task-filter): the fault succeeds from the page cache with
 *    reason "error" on every page, the provider and the core count it, and
 *    nothing of the failed read stays in the CMB;
 *  - the write-back of data a device wrote into the CMB fails (the same,
 *    around nvme-cmb's sync): sync says -EIO, so nothing was acknowledged,
 *    the data stays dirty, nothing is counted lost, and the next sync writes
 *    it: the disk then holds it;
 *  - the CMB cannot be allocated: every page of it is held by an owner that
 *    does not give revoked chunks back (p2pmap_test_cmb.ko's KEEP slots, as a
 *    device with DMA in flight): the fault waits for the provider's bounded
 *    time and falls back with reason "cmb_exhausted", counted; once the
 *    owner lets go, the same pages go peer to peer.
 *
 * The faults run in this thread (DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT maps
 * the way a job does, in the caller), so the injection reaches the
 * importer, the core, the file system's hooks and the provider, and nothing
 * of the file system's own I/O (its log, write-back) in other threads.
 * Leaks are the rig's: kmemleak scans after every run on the debug kernel.
 * Debian's stock kernel has no CONFIG_FAULT_INJECTION at all: the two
 * injection tests skip there, saying so; the exhaustion test needs none and
 * runs on both kernels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/p2pmap.h>
#include <libp2pmap_dgpu.h>

#include "kselftest_harness.h"
#include "../modules/p2pmap_test_cmb.h"

#define PAGE		4096UL
#define DBG		"/sys/kernel/debug"
#define DISK_FAIL	"/sys/block/nvme0n1/make-it-fail"
/* pages of the file; the allocation test takes RANGE pages a step */
#define FILE_PAGES	2048UL
#define RANGE		4UL
#define MAX_STEPS	(FILE_PAGES / RANGE - 16)
/* the bio and exhaustion tests' ranges: past the allocation test's */
#define BIO_FIRST	(FILE_PAGES - 16 * RANGE)
#define BIO_PAGES	16UL
#define FULL_FIRST	(FILE_PAGES - 8 * RANGE)
#define FULL_PAGES	4UL
#define CMB_DEV		"/dev/p2pmap_test_cmb"
#define PIN_CHUNKS	16
#define STAGE_WRITE	1U	/* P2PMAP_STAGE_WRITE: dirty when put */

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int write_knob(const char *attr, const char *knob, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), DBG "/%s/%s", attr, knob);
	return write_str(path, val);
}

/* "key N" (the core's stats) or "key: N" (nvme-cmb's) in @path; -1 if absent. */
static long long stat_of(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && (line[klen] == ' ' || line[klen] == ':'))
			v = strtoll(line + klen + 1, NULL, 0);
	fclose(f);
	return v;
}

static long long core_stat(const char *key)
{
	return stat_of(DBG "/p2pmap/stats", key);
}

static char cmb_stats[PATH_MAX];

static long long cmb_stat(const char *key)
{
	return stat_of(cmb_stats, key);
}

static long long cmb_size(void)
{
	char info[PATH_MAX];

	snprintf(info, sizeof(info), "%s", cmb_stats);
	strcpy(strrchr(info, '/') + 1, "info");
	return stat_of(info, "size");
}

static int cmb_owner(void);
static int whole_cmb_free(void);
static const char *cmb_info_line(char *out, size_t len);

static void fill(void *p, unsigned long len, unsigned int seed, unsigned long pos)
{
	unsigned char *b = p;
	unsigned long i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(((pos + i) * 2654435761UL >> 13) ^ seed ^
				       ((pos + i) >> 12));
}

static uint32_t pattern_crc(unsigned long off, unsigned long len, unsigned int seed)
{
	static char buf[64 * 1024];
	uint32_t crc = 0;

	while (len) {
		unsigned long n = len < sizeof(buf) ? len : sizeof(buf);

		fill(buf, n, seed, off);
		crc = p2pmap_dgpu_crc32(crc, buf, n);
		off += n;
		len -= n;
	}
	return crc;
}

/*
 * Is there a P2P route from this edu instance to the NVMe CMB (the rig's
 * switch topology with a CMB)? The tests need staging to happen.
 */
static int p2p_route(const struct drm_p2pmap_dgpu_info *info)
{
	char edu[PATH_MAX], nvme[PATH_MAX], link[128];
	const char *a, *b, *common = NULL;

	if (!realpath("/sys/class/nvme/nvme0/device", nvme))
		return 0;
	snprintf(cmb_stats, sizeof(cmb_stats), DBG "/p2pmap-nvme-cmb/%s/stats",
		 strrchr(nvme, '/') + 1);
	if (access(cmb_stats, F_OK))
		return 0;
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%04x:%02x:%02x.%x",
		 info->pci_domain, info->pci_bdf >> 8, (info->pci_bdf >> 3) & 0x1f,
		 info->pci_bdf & 7);
	if (!realpath(link, edu))
		return 0;
	for (a = edu, b = nvme; *a && *a == *b; a++, b++)
		if (*a == '/')
			common = a;
	return common && common - edu > (long)strlen("/sys/devices/pci0000:00");
}

/*
 * The knobs the tests change, with the values they are put back to (the
 * kernel's defaults): a failed test must not leave injection armed for
 * the tests after it.
 */
static const struct knob {
	const char *attr, *knob, *dflt;
} knobs[] = {
	{ "failslab", "ignore-gfp-wait", "Y" },
	{ "failslab", "verbose", "2" },
	{ "fail_page_alloc", "ignore-gfp-wait", "Y" },
	{ "fail_page_alloc", "ignore-gfp-highmem", "Y" },
	{ "fail_page_alloc", "min-order", "1" },
	{ "fail_page_alloc", "verbose", "2" },
	{ "fail_usercopy", "verbose", "2" },
	{ "fail_make_request", "probability", "0" },
	{ "fail_make_request", "times", "1" },
	{ "fail_make_request", "task-filter", "N" },
	{ "fail_make_request", "verbose", "2" },
};

FIXTURE(fi)
{
	struct p2pmap_dgpu *dev;
	struct drm_p2pmap_dgpu_info info;
	struct p2pmap_dgpu_file_map fm;
	int fd;
	int injection;	/* the kernel has the fault-injection facilities */
};

#define NO_INJECTION "this kernel has no fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAIL_MAKE_REQUEST with debugfs: Debian's stock kernel has none; make check-debug runs this)"

FIXTURE_SETUP(fi)
{
	static char buf[256 * 1024];
	unsigned long off;
	int ret;

	self->fd = -1;
	self->dev = NULL;
	ret = p2pmap_dgpu_open(P2PMAP_DGPU_KIND_PCI, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("open the dummy GPU's edu instance: %s", strerror(-ret));
	ASSERT_EQ(0, p2pmap_dgpu_get_info(self->dev, &self->info));
	ASSERT_TRUE(p2p_route(&self->info))
		TH_LOG("no P2P route from edu to the CMB: nothing would be staged (run on the switch topology)");

	self->injection = !access(DBG "/failslab", F_OK) &&
			  !access(DBG "/fail_page_alloc", F_OK) &&
			  !access(DBG "/fail_make_request", F_OK) &&
			  !access("/proc/thread-self/fail-nth", F_OK);
	/* quiet: a stack trace per injected failure would fail the rig's run */
	if (self->injection) {
		ASSERT_EQ(0, write_knob("failslab", "verbose", "0"));
		ASSERT_EQ(0, write_knob("fail_page_alloc", "verbose", "0"));
		ASSERT_EQ(0, write_knob("fail_make_request", "verbose", "0"));
	}
	if (!access(DBG "/fail_usercopy", F_OK))
		ASSERT_EQ(0, write_knob("fail_usercopy", "verbose", "0"));

	self->fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, self->fd);
	for (off = 0; off < FILE_PAGES * PAGE; off += sizeof(buf)) {
		fill(buf, sizeof(buf), 1, off);
		ASSERT_EQ((ssize_t)sizeof(buf), pwrite(self->fd, buf, sizeof(buf), off));
	}
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, self->fd, 0, FILE_PAGES * PAGE,
					     0, &self->fm));
}

FIXTURE_TEARDOWN(fi)
{
	unsigned int i;

	if (self->injection) {
		write_str("/proc/thread-self/fail-nth", "0");
		write_str("/proc/thread-self/make-it-fail", "0");
		write_str(DISK_FAIL, "0");
		for (i = 0; i < ARRAY_SIZE(knobs); i++)
			write_knob(knobs[i].attr, knobs[i].knob, knobs[i].dflt);
	}
	if (self->dev && self->fm.handle)
		p2pmap_dgpu_release_file(self->dev, &self->fm);
	if (self->fd >= 0)
		close(self->fd);
	p2pmap_dgpu_close(self->dev);
}

static int fault_range(struct p2pmap_dgpu *dev, uint32_t handle, unsigned long first,
		       unsigned long npages, struct drm_p2pmap_dgpu_userptr_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->handle = handle;
	f->offset = first * PAGE;
	f->length = npages * PAGE;
	/* not drmIoctl(): it would retry EINTR and EAGAIN, hiding them */
	return ioctl(p2pmap_dgpu_fd(dev), DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT, f) ? -errno : 0;
}

/* The device's checksum of pages [first, first + npages) against the pattern. */
static void check_range(struct __test_metadata *_metadata, struct p2pmap_dgpu *dev,
			uint32_t handle, unsigned long first, unsigned long npages)
{
	struct drm_p2pmap_dgpu_result res;
	uint64_t job;

	ASSERT_EQ(0, p2pmap_dgpu_checksum(dev, P2PMAP_DGPU_ENGINE_CPU, handle,
					  first * PAGE, npages * PAGE, &job));
	ASSERT_EQ(0, p2pmap_dgpu_wait(dev, job, P2PMAP_DGPU_WAIT_FOREVER, &res));
	EXPECT_EQ(0, (int)res.error) TH_LOG("job on pages %lu+%lu: %s", first, npages,
					    strerror(res.error));
	EXPECT_EQ(pattern_crc(first * PAGE, npages * PAGE, 1), (uint32_t)res.checksum)
		TH_LOG("pages %lu+%lu: the device read other bytes than the file holds",
		       first, npages);
}

/*
 * Fail the @n-th fault-injection point this thread reaches inside one
 * fault of @npages pages from @first. Return the fault's result; *@reached
 * says whether the fault got as far as the @n-th point.
 */
static int fault_failing_nth(struct p2pmap_dgpu *dev, uint32_t handle,
			     unsigned long first, unsigned long npages, unsigned int n,
			     struct drm_p2pmap_dgpu_userptr_fault *f, int *reached)
{
	char num[32];
	ssize_t got;
	int nth, ret, i;

	/* opened first: opening it allocates, which would count */
	nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth < 0)
		return -errno;
	snprintf(num, sizeof(num), "%u", n);
	if (write(nth, num, strlen(num)) != (ssize_t)strlen(num)) {
		close(nth);
		return -EIO;
	}
	ret = fault_range(dev, handle, first, npages, f);
	/*
	 * What is left of the count: 0 when the n-th point failed. Reading it
	 * is a user copy, itself a point: with 1 left, the read fails.
	 */
	memset(num, 0, sizeof(num));
	got = pread(nth, num, sizeof(num) - 1, 0);
	*reached = got > 0 && strtoul(num, NULL, 10) == 0;
	for (i = 0; i < 4 && write(nth, "0", 1) != 1; i++)
		;
	close(nth);
	return ret;
}

/*
 * Each allocation (slab and page, sleeping or not) and user copy that one
 * fault makes fails in turn, from the first until the fault makes no more:
 * every attempt returns 0 or ENOMEM/EFAULT/EIO, what it mapped is right,
 * a page that fell back says "error" and the core counted it.
 */
TEST_F_TIMEOUT(fi, every_allocation_of_a_fault_fails_cleanly, 1500)
{
	unsigned int n, ok = 0, enomem = 0, efault = 0, eio = 0, other = 0;
	int reached_all;
	unsigned long long err_pages = 0;
	long long err_before, err_after;
	char info[160];
	struct drm_p2pmap_dgpu_userptr_fault f;
	int reached = 1, ret;

	if (!self->injection)
		SKIP(return, NO_INJECTION);
	ASSERT_EQ(0, write_knob("failslab", "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_knob("fail_page_alloc", "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_knob("fail_page_alloc", "ignore-gfp-highmem", "N"));
	ASSERT_EQ(0, write_knob("fail_page_alloc", "min-order", "0"));
	err_before = core_stat("fallback.error");
	ASSERT_LE(0, err_before);

	for (n = 1; n <= MAX_STEPS && reached; n++) {
		/* a range no earlier step touched: the fault stages it anew */
		unsigned long first = (n - 1) * RANGE;

		ret = fault_failing_nth(self->dev, self->fm.handle, first, RANGE, n, &f,
					&reached);
		switch (ret) {
		case 0:
			ok++;
			EXPECT_EQ(RANGE, f.pages_p2p + f.pages_pagecache + f.pages_unmapped);
			err_pages += f.reasons[P2PMAP_REASON_ERROR];
			break;
		case -ENOMEM:
			enomem++;
			break;
		case -EFAULT:
			efault++;
			break;
		case -EIO:
			eio++;
			break;
		default:
			other++;
			TH_LOG("step %u: the fault failed with %s (%d), not ENOMEM, EFAULT or EIO",
			       n, strerror(-ret), ret);
		}
		/* whatever failed, the range reads right now, injection off */
		check_range(_metadata, self->dev, self->fm.handle, first, RANGE);
		if (_metadata->passed == 0)
			break;
	}
	reached_all = !reached;
	err_after = core_stat("fallback.error");
	TH_LOG("%u injection points in one fault of %lu pages: %u returned 0 (%llu pages fell back with 'error'), %u ENOMEM, %u EFAULT, %u EIO, %u other",
	       n - 1, RANGE, ok, err_pages, enomem, efault, eio, other);
	EXPECT_EQ(0U, other);
	EXPECT_TRUE(reached_all)
		TH_LOG("after %u steps the fault still reached its last injection point", n - 1);
	EXPECT_LT(10U, n) TH_LOG("a fault that stages makes more than a few allocations");
	EXPECT_LT(0U, enomem) TH_LOG("some allocation failure must reach the caller or fall back");
	EXPECT_LE(err_before + (long long)err_pages, err_after)
		TH_LOG("every 'error' fallback is counted in the core's stats");

	/* no chunk leaked: with the object gone, the whole CMB can be had */
	p2pmap_dgpu_release_file(self->dev, &self->fm);
	memset(&self->fm, 0, sizeof(self->fm));
	ret = whole_cmb_free();
	EXPECT_EQ(0, ret) TH_LOG("after the failed faults the CMB cannot be had whole (%s): a chunk was leaked? %s",
				 strerror(-ret), cmb_info_line(info, sizeof(info)));
}

/*
 * Every bio of a fault fails (fail_make_request, this thread only): the
 * fault succeeds from the page cache, every page with reason "error",
 * counted by the core and the provider; nothing of the failed read stays
 * in the CMB, so the next fault stages it again, peer to peer.
 */
TEST_F_TIMEOUT(fi, failed_bios_fall_back_with_reason_error, 300)
{
	struct drm_p2pmap_dgpu_userptr_fault f;
	struct p2pmap_dgpu_file_map again;
	long long err_before, cmb_err_before;
	int ret;

	if (!self->injection)
		SKIP(return, NO_INJECTION);
	err_before = core_stat("fallback.error");
	cmb_err_before = cmb_stat("errors");
	ASSERT_LE(0, err_before);
	ASSERT_LE(0, cmb_err_before);
	ASSERT_EQ(0, write_knob("fail_make_request", "task-filter", "Y"));
	ASSERT_EQ(0, write_knob("fail_make_request", "times", "-1"));
	ASSERT_EQ(0, write_knob("fail_make_request", "probability", "100"));
	ASSERT_EQ(0, write_str(DISK_FAIL, "1"));
	ASSERT_EQ(0, write_str("/proc/thread-self/make-it-fail", "1"));
	ret = fault_range(self->dev, self->fm.handle, BIO_FIRST, BIO_PAGES, &f);
	ASSERT_EQ(0, write_str("/proc/thread-self/make-it-fail", "0"));
	ASSERT_EQ(0, write_str(DISK_FAIL, "0"));
	ASSERT_EQ(0, write_knob("fail_make_request", "probability", "0"));

	EXPECT_EQ(0, ret) TH_LOG("fault with failing bios: %s", strerror(-ret));
	EXPECT_EQ(0ULL, f.pages_p2p);
	EXPECT_EQ(BIO_PAGES, f.pages_pagecache);
	EXPECT_EQ(BIO_PAGES, f.reasons[P2PMAP_REASON_ERROR])
		TH_LOG("the staging read failed: the pages fall back with reason 'error'");
	EXPECT_LE(err_before + (long long)BIO_PAGES, core_stat("fallback.error"));
	EXPECT_LT(cmb_err_before, cmb_stat("errors"));
	check_range(_metadata, self->dev, self->fm.handle, BIO_FIRST, BIO_PAGES);

	/* a new object over the same pages: staged again, peer to peer */
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, self->fd, 0, FILE_PAGES * PAGE, 0,
					     &again));
	ASSERT_EQ(0, fault_range(self->dev, again.handle, BIO_FIRST, BIO_PAGES, &f));
	EXPECT_EQ(BIO_PAGES, f.pages_p2p)
		TH_LOG("the failed read left something in the CMB: %llu pages p2p, %llu error",
		       f.pages_p2p, f.reasons[P2PMAP_REASON_ERROR]);
	check_range(_metadata, self->dev, again.handle, BIO_FIRST, BIO_PAGES);
	p2pmap_dgpu_release_file(self->dev, &again);
}

/* Physical extents of @fd (page-aligned parts), as from FIEMAP. */
struct pin_map {
	uint64_t physical, length;
};

static int pin_maps(int fd, uint64_t len, struct pin_map *maps, int max)
{
	struct fiemap *fm;
	int i, n = 0;

	fm = calloc(1, sizeof(*fm) + max * sizeof(struct fiemap_extent));
	if (!fm)
		return -1;
	fm->fm_length = len;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = max;
	if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
		free(fm);
		return -1;
	}
	for (i = 0; i < (int)fm->fm_mapped_extents; i++) {
		struct fiemap_extent *e = &fm->fm_extents[i];
		uint64_t first = (e->fe_physical + PAGE - 1) & ~(PAGE - 1);

		if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_ENCODED |
				   FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DATA_INLINE))
			continue;
		if (e->fe_length <= first - e->fe_physical)
			continue;
		maps[n].physical = first;
		maps[n].length = (e->fe_length - (first - e->fe_physical)) & ~(PAGE - 1);
		if (maps[n].length)
			n++;
	}
	free(fm);
	return n;
}

/*
 * The whole CMB held by an owner that keeps revoked chunks (KEEP): a fault
 * of file pages that are not cached waits for the provider's bounded time
 * and falls back with "cmb_exhausted", counted; the job reads the right
 * bytes; once the owner puts its chunks the same pages go peer to peer.
 * The owner's chunks are the blocks of a file of its own (so that the file
 * system never writes them while they are held).
 */
TEST_F_TIMEOUT(fi, cmb_exhausted_falls_back_and_recovers, 300)
{
	static char buf[256 * 1024];
	struct p2pmap_test_cmb_stage st[4 * PIN_CHUNKS];
	struct drm_p2pmap_dgpu_userptr_fault f;
	struct p2pmap_dgpu_file_map again;
	struct pin_map maps[64];
	long long size = cmb_size(), left, full_before;
	char info[160];
	unsigned int chunk, held = 0, i;
	uint64_t off;
	int cmb, pin, nmaps, m, ret;

	ASSERT_LT(0, size) TH_LOG("no CMB size in the provider's info file");
	/*
	 * The whole CMB once, put: the cache then holds one idle extent and no
	 * holes, so that the owner's chunks below fill it exactly (idle extents
	 * left between them by earlier tests would leave gaps no chunk fits).
	 */
	ret = whole_cmb_free();
	ASSERT_EQ(0, ret) TH_LOG("the CMB cannot be had whole before the test (%s): %s",
				 strerror(-ret), cmb_info_line(info, sizeof(info)));
	cmb = cmb_owner();
	ASSERT_LE(0, cmb) TH_LOG("open " CMB_DEV " on /dev/nvme0n1");

	/* the owner's data: a file as large as the CMB */
	pin = open("pin", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, pin);
	for (off = 0; off < (uint64_t)size; off += sizeof(buf)) {
		fill(buf, sizeof(buf), 2, off);
		ASSERT_EQ((ssize_t)sizeof(buf), pwrite(pin, buf, sizeof(buf), off));
	}
	ASSERT_EQ(0, fsync(pin));
	nmaps = pin_maps(pin, size, maps, 64);
	ASSERT_LT(0, nmaps);

	/* every page of the CMB, in chunks of at most size / PIN_CHUNKS */
	chunk = size / PAGE / PIN_CHUNKS;
	left = size / PAGE;
	for (m = 0; m < nmaps && left > 0; m++) {
		uint64_t phys = maps[m].physical, pages = maps[m].length / PAGE;

		while (pages && left > 0 && held < ARRAY_SIZE(st)) {
			unsigned int n = pages < chunk ? pages : chunk;

			if (n > left)
				n = left;
			memset(&st[held], 0, sizeof(st[held]));
			st[held].sector = phys / 512;
			st[held].nr_pages = n;
			st[held].flags = P2PMAP_TEST_CMB_KEEP;
			ret = ioctl(cmb, P2PMAP_TEST_CMB_STAGE, &st[held]) ?
			      -errno : st[held].error;
			ASSERT_EQ(0, ret) TH_LOG("holding %u pages at sector %llu (%u held): %s; %s",
						 n, (unsigned long long)st[held].sector, held,
						 strerror(-ret), cmb_info_line(info, sizeof(info)));
			held++;
			phys += (uint64_t)n * PAGE;
			pages -= n;
			left -= n;
		}
	}
	ASSERT_EQ(0, left) TH_LOG("the owner's file did not cover the CMB");
	EXPECT_EQ(size, cmb_stat("in_use"));

	full_before = core_stat("fallback.cmb_exhausted");
	ASSERT_LE(0, full_before);
	ret = fault_range(self->dev, self->fm.handle, FULL_FIRST, FULL_PAGES, &f);
	EXPECT_EQ(0, ret) TH_LOG("fault with the CMB full: %s", strerror(-ret));
	EXPECT_EQ(0ULL, f.pages_p2p);
	EXPECT_EQ(FULL_PAGES, f.reasons[P2PMAP_REASON_CMB_EXHAUSTED])
		TH_LOG("the CMB is full of held chunks: reason 'cmb_exhausted' (error %llu)",
		       f.reasons[P2PMAP_REASON_ERROR]);
	EXPECT_LE(full_before + (long long)FULL_PAGES, core_stat("fallback.cmb_exhausted"));
	TH_LOG("the fault took %.1f s with the CMB full", f.duration_ns / 1e9);
	check_range(_metadata, self->dev, self->fm.handle, FULL_FIRST, FULL_PAGES);

	/* the owner lets go: the same pages are staged, peer to peer */
	for (i = 0; i < held; i++)
		EXPECT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_PUT, &st[i].slot));
	close(cmb);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, self->fd, 0, FILE_PAGES * PAGE, 0,
					     &again));
	ASSERT_EQ(0, fault_range(self->dev, again.handle, FULL_FIRST, FULL_PAGES, &f));
	EXPECT_EQ(FULL_PAGES, f.pages_p2p);
	check_range(_metadata, self->dev, again.handle, FULL_FIRST, FULL_PAGES);
	p2pmap_dgpu_release_file(self->dev, &again);
	close(pin);
}

static int cmb_owner(void)
{
	struct p2pmap_test_cmb_open o = { .path = (uintptr_t)"/dev/nvme0n1" };
	int cmb;

	if (access(CMB_DEV, F_OK) && system("modprobe p2pmap_test_cmb"))
		return -1;
	cmb = open(CMB_DEV, O_RDWR);
	if (cmb < 0)
		return -1;
	if (ioctl(cmb, P2PMAP_TEST_CMB_OPEN, &o)) {
		close(cmb);
		return -1;
	}
	return cmb;
}

/* nvme-cmb's info file, one line, for a failure message. */
static const char *cmb_info_line(char *out, size_t len)
{
	char info[PATH_MAX];

	snprintf(info, sizeof(info), "%s", cmb_stats);
	strcpy(strrchr(info, '/') + 1, "info");
	snprintf(out, len, "in_use %lld, inflight %lld, evict_pending %lld",
		 stat_of(info, "in_use"), stat_of(info, "inflight"),
		 stat_of(info, "evict_pending"));
	return out;
}

/*
 * Can every page of the CMB be had, in one piece? Idle cached extents are
 * evicted and held ones revoked; owners put revoked chunks at once, so this
 * fails (-ENOSPC after the provider's wait) only if a chunk was leaked: a
 * reference nobody will ever put. Raw blocks at 128 MiB, read only.
 */
static int whole_cmb_free(void)
{
	struct p2pmap_test_cmb_stage st;
	long long size = cmb_size();
	int cmb = cmb_owner(), ret;

	if (cmb < 0 || size <= 0)
		return -ENODEV;
	memset(&st, 0, sizeof(st));
	st.sector = (128ULL << 20) / 512;
	st.nr_pages = size / PAGE;
	ret = ioctl(cmb, P2PMAP_TEST_CMB_STAGE, &st) ? -errno : st.error;
	if (!ret)
		ioctl(cmb, P2PMAP_TEST_CMB_PUT, &st.slot);
	close(cmb);
	return ret;
}

/*
 * A device wrote into a staged chunk of a file's blocks; every bio of the
 * write-back fails (fail_make_request, this thread, around nvme-cmb's
 * sync): sync fails -EIO — nothing acknowledged — the provider counts the
 * error, loses nothing and keeps the data dirty; the next sync writes it,
 * and the disk holds what the device wrote.
 */
TEST_F_TIMEOUT(fi, failed_write_back_is_kept_dirty_not_acknowledged, 300)
{
	static char want[4 * PAGE], got[4 * PAGE] __attribute__((aligned(4096)));
	struct p2pmap_test_cmb_stage st;
	struct p2pmap_test_cmb_io io;
	struct pin_map map;
	long long errors, lost, wb;
	int cmb, file, direct, ret;
	unsigned long off;

	if (!self->injection)
		SKIP(return, NO_INJECTION);
	cmb = cmb_owner();
	ASSERT_LE(0, cmb);
	/* blocks of a file of the test's own, written and on disk */
	file = open("wb", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, file);
	for (off = 0; off < 16 * PAGE; off += sizeof(want)) {
		fill(want, sizeof(want), 3, off);
		ASSERT_EQ((ssize_t)sizeof(want), pwrite(file, want, sizeof(want), off));
	}
	ASSERT_EQ(0, fsync(file));
	ASSERT_LT(0, pin_maps(file, 16 * PAGE, &map, 1));
	ASSERT_LE(4 * PAGE, map.length);

	memset(&st, 0, sizeof(st));
	st.sector = map.physical / 512;
	st.nr_pages = 4;
	st.flags = STAGE_WRITE;
	ASSERT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_STAGE, &st));
	ASSERT_EQ(0, st.error);
	fill(want, sizeof(want), 4, 0);	/* what the "device" writes */
	memset(&io, 0, sizeof(io));
	io.slot = st.slot;
	io.how = P2PMAP_TEST_CMB_CPU;
	io.len = sizeof(want);
	io.buf = (uintptr_t)want;
	ASSERT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_WRITE, &io));
	ASSERT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_PUT, &st.slot));	/* dirty now */

	errors = cmb_stat("errors");
	lost = cmb_stat("lost");
	wb = cmb_stat("written_back");
	ASSERT_EQ(0, write_knob("fail_make_request", "task-filter", "Y"));
	ASSERT_EQ(0, write_knob("fail_make_request", "times", "-1"));
	ASSERT_EQ(0, write_knob("fail_make_request", "probability", "100"));
	ASSERT_EQ(0, write_str(DISK_FAIL, "1"));
	ASSERT_EQ(0, write_str("/proc/thread-self/make-it-fail", "1"));
	ret = ioctl(cmb, P2PMAP_TEST_CMB_SYNC) ? -errno : 0;
	ASSERT_EQ(0, write_str("/proc/thread-self/make-it-fail", "0"));
	ASSERT_EQ(0, write_str(DISK_FAIL, "0"));
	ASSERT_EQ(0, write_knob("fail_make_request", "probability", "0"));

	EXPECT_EQ(-EIO, ret) TH_LOG("a sync whose write-back failed must not succeed");
	EXPECT_LT(errors, cmb_stat("errors"));
	EXPECT_EQ(lost, cmb_stat("lost")) TH_LOG("a failed write-back keeps the data dirty");
	EXPECT_EQ(wb, cmb_stat("written_back"));

	/* the retry writes it; the disk holds what the device wrote */
	EXPECT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_SYNC));
	EXPECT_EQ(wb + (long long)sizeof(want), cmb_stat("written_back"));
	EXPECT_EQ(lost, cmb_stat("lost"));
	direct = open("wb", O_RDONLY | O_DIRECT);
	ASSERT_LE(0, direct);
	ASSERT_EQ((ssize_t)sizeof(got), pread(direct, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, want, sizeof(want)))
		TH_LOG("the disk does not hold the bytes written into the CMB");
	close(direct);
	close(file);
	close(cmb);
}

TEST_HARNESS_MAIN
