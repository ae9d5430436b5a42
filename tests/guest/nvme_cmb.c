// SPDX-License-Identifier: GPL-2.0
/*
 * The NVMe CMB provider (drivers/nvme-cmb), driven through the test module
 * tests/modules/p2pmap_test_cmb.ko: staged bytes equal the bytes on disk
 * (single pages, batches of discontiguous ranges, more than the CMB holds),
 * write-back, a peer DMA by the edu device from the chunk's bus address,
 * reach(), refusals, and the loss rules (controller reset; orderly removal
 * and rescan, with --fs none only).
 *
 * The data: with a file system mounted, a file written here with a known
 * pattern whose blocks FIEMAP gives; with --fs none, the raw namespace.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <pthread.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../modules/p2pmap_test_cmb.h"

#define DISK		"/dev/nvme0n1"
#define DEVNODE		"/dev/p2pmap_test_cmb"
#define DATA_FILE	"nvme_cmb.data"	/* in the test's directory on /mnt */
#define DATA_SIZE	(112ULL << 20)	/* more than the 64 MiB CMB */
#define PAGE		4096ULL
#define STAGE_WRITE	1U	/* P2PMAP_STAGE_WRITE */
#define STAGE_NOWAIT	2U	/* P2PMAP_STAGE_NOWAIT */
#define REVOKE_EVICT	3	/* enum p2pmap_revoke_cause */
#define REVOKE_GONE	4
#define REVOKE_UNLOAD	6
#define REVOKE_COHERENCY	7
#define SEED		0x5eedcafe12345678ULL

struct map {
	uint64_t logical, physical, length;
};

static struct map maps[256];
static int nmaps;
static pid_t main_pid;
static int module_loaded_here;

__attribute__((constructor)) static void load_module(void)
{
	main_pid = getpid();
	if (access(DEVNODE, F_OK) && !system("modprobe p2pmap_test_cmb"))
		module_loaded_here = 1;
}

__attribute__((destructor)) static void unload_module(void)
{
	if (getpid() == main_pid && module_loaded_here &&
	    system("rmmod p2pmap_test_cmb"))
		fprintf(stderr, "# rmmod p2pmap_test_cmb failed\n");
}

static uint64_t pattern(uint64_t seed, uint64_t off)
{
	return (off / 8 + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
}

static void fill(void *buf, uint64_t seed, uint64_t off, size_t len)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern(seed, off + i * 8);
}

static int fs_mounted(void)
{
	char line[512];
	FILE *f = fopen("/proc/mounts", "r");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, DISK " /mnt ", strlen(DISK " /mnt ")))
			found = 1;
	fclose(f);
	return found;
}

/* Write the data (if not there yet) and find where it lives on DISK. */
static int setup_data(void)
{
	const size_t bufsz = 1 << 20;
	const char *path = fs_mounted() ? DATA_FILE : DISK;
	struct fiemap *fm;
	uint64_t off, first;
	void *buf;
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0600);
	if (fd < 0 || posix_memalign(&buf, PAGE, bufsz))
		return -1;
	/* the first and the last word tell whether it was written already */
	if (pread(fd, buf, PAGE, 0) != (ssize_t)PAGE ||
	    ((uint64_t *)buf)[0] != pattern(SEED, 0) ||
	    pread(fd, buf, PAGE, DATA_SIZE - PAGE) != (ssize_t)PAGE ||
	    ((uint64_t *)buf)[PAGE / 8 - 1] != pattern(SEED, DATA_SIZE - 8)) {
		for (off = 0; off < DATA_SIZE; off += bufsz) {
			fill(buf, SEED, off, bufsz);
			if (pwrite(fd, buf, bufsz, off) != (ssize_t)bufsz)
				return -1;
		}
		fsync(fd);
	}
	free(buf);
	nmaps = 0;
	if (!strcmp(path, DISK)) {
		maps[0] = (struct map){ 0, 0, DATA_SIZE };
		nmaps = 1;
		close(fd);
		return 0;
	}
	fm = calloc(1, sizeof(*fm) + 256 * sizeof(struct fiemap_extent));
	fm->fm_length = DATA_SIZE;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = 256;
	if (ioctl(fd, FS_IOC_FIEMAP, fm))
		return -1;
	for (i = 0; i < (int)fm->fm_mapped_extents; i++) {
		struct fiemap_extent *e = &fm->fm_extents[i];

		if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_ENCODED |
				   FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DATA_INLINE))
			return -1;
		first = (e->fe_physical + PAGE - 1) & ~(PAGE - 1);
		maps[nmaps].logical = e->fe_logical + (first - e->fe_physical);
		maps[nmaps].physical = first;
		maps[nmaps].length = (e->fe_length - (first - e->fe_physical)) & ~(PAGE - 1);
		nmaps++;
	}
	free(fm);
	close(fd);
	return nmaps ? 0 : -1;
}

/* Disk sector of file offset @off (page aligned, @len inside one map), or -1. */
static int64_t sector_of(uint64_t off, uint64_t len)
{
	int i;

	for (i = 0; i < nmaps; i++)
		if (off >= maps[i].logical &&
		    off + len <= maps[i].logical + maps[i].length)
			return (maps[i].physical + off - maps[i].logical) / 512;
	return -1;
}

/* Read @len bytes of DISK at @sector with O_DIRECT. */
static int disk_read(uint64_t sector, void *buf, size_t len)
{
	int fd = open(DISK, O_RDONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, sector * 512);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int disk_write(uint64_t sector, const void *buf, size_t len)
{
	int fd = open(DISK, O_WRONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pwrite(fd, buf, len, sector * 512);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int cmb_open_path(const char *path)
{
	struct p2pmap_test_cmb_open o = { .path = (uintptr_t)path };
	int fd = open(DEVNODE, O_RDWR);

	if (fd < 0)
		return -1;
	if (ioctl(fd, P2PMAP_TEST_CMB_OPEN, &o)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cmb_open(void)
{
	return cmb_open_path(DISK);
}

static int stage(int fd, uint64_t sector, uint32_t nr_pages, uint32_t flags,
		 struct p2pmap_test_cmb_stage *st)
{
	memset(st, 0, sizeof(*st));
	st->sector = sector;
	st->nr_pages = nr_pages;
	st->flags = flags;
	if (ioctl(fd, P2PMAP_TEST_CMB_STAGE, st))
		return -errno;
	return st->error;
}

static int cmb_io(int fd, unsigned long req, uint32_t slot, uint32_t how,
		  uint64_t off, void *buf, uint64_t len)
{
	struct p2pmap_test_cmb_io io = {
		.slot = slot, .how = how, .offset = off, .len = len,
		.buf = (uintptr_t)buf,
	};

	return ioctl(fd, req, &io) ? -errno : 0;
}

static int put(int fd, uint32_t slot)
{
	return ioctl(fd, P2PMAP_TEST_CMB_PUT, &slot) ? -errno : 0;
}

static int status(int fd, uint32_t slot, struct p2pmap_test_cmb_status *s)
{
	memset(s, 0, sizeof(*s));
	s->slot = slot;
	return ioctl(fd, P2PMAP_TEST_CMB_STATUS, s) ? -errno : 0;
}

/* A counter from the provider's debugfs stats or info file, or -1. */
static long long cmb_stat(const char *file, const char *key)
{
	char path[256], line[256];
	long long v = -1;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pmap-nvme-cmb/%s/%s",
		 getenv("CMB_PCI") ?: "0000:03:00.0", file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoll(line + klen + 1, NULL, 0);
	fclose(f);
	return v;
}

/* Does the provider's info file have the line "@key@value..."? */
static int cmb_info_is(const char *key, const char *value)
{
	char path[128], line[128];
	size_t klen = strlen(key);
	int yes = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pmap-nvme-cmb/%s/info",
		 getenv("CMB_PCI") ?: "0000:03:00.0");
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) &&
		    !strncmp(line + klen, value, strlen(value)))
			yes = 1;
	fclose(f);
	return yes;
}

static int cmb_state_is(const char *state)
{
	return cmb_info_is("state: ", state);
}

/* Do the CMB bytes of @slot equal DISK at @sector and the pattern at @off? */
static int check_slot(int fd, uint32_t slot, uint64_t sector, uint64_t off,
		      uint64_t pg, uint64_t npages, uint64_t seed)
{
	static char cmb[PAGE], want[PAGE];
	static char disk[PAGE] __attribute__((aligned(4096)));
	for (; npages; pg++, npages--) {
		if (cmb_io(fd, P2PMAP_TEST_CMB_READ, slot, P2PMAP_TEST_CMB_CPU,
			   pg * PAGE, cmb, PAGE))
			return -1;
		if (disk_read(sector + pg * 8, disk, PAGE))
			return -2;
		fill(want, seed, off + pg * PAGE, PAGE);
		if (memcmp(cmb, disk, PAGE))
			return -3;
		if (memcmp(disk, want, PAGE))
			return -4;
	}
	return 0;
}

#define EVICT_AHEAD_PARAM "/sys/module/p2pmap_nvme_cmb/parameters/evict_ahead"

static int set_evict_ahead(int on)
{
	int fd = open(EVICT_AHEAD_PARAM, O_WRONLY);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, on ? "Y" : "N", 1) == 1;
	close(fd);
	return ok ? 0 : -EIO;
}

FIXTURE(cmb)
{
	int fd;
};

FIXTURE_SETUP(cmb)
{
	if (access(DEVNODE, F_OK))
		SKIP(return, "no " DEVNODE " (p2pmap_test_cmb.ko not loadable)");
	if (access("/sys/kernel/debug/p2pmap-nvme-cmb", F_OK))
		SKIP(return, "p2pmap_nvme_cmb.ko is not loaded");
	if (cmb_stat("info", "size") <= 0)
		SKIP(return, "no CMB provider on " DISK);
	/*
	 * Each test sees the cache as its requests leave it: eviction ahead
	 * (on by default) is off but in the test that turns it on, so that a
	 * test following a streaming one is not thinned by its pressure.
	 */
	ASSERT_EQ(0, set_evict_ahead(0));
	ASSERT_EQ(0, setup_data());
	self->fd = cmb_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(cmb)
{
	if (self->fd > 0)
		close(self->fd);
	set_evict_ahead(1);	/* the default (fails if unloaded: fine) */
}

/* One page staged into the CMB holds the bytes of the disk. */
TEST_F(cmb, single_page_equals_disk)
{
	struct p2pmap_test_cmb_stage st;
	int64_t sector = sector_of(5 * PAGE, PAGE);

	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 1, 0, &st));
	EXPECT_NE(0ULL, st.bus_addr);
	EXPECT_EQ(0, check_slot(self->fd, st.slot, sector, 5 * PAGE, 0, 1, SEED));
	EXPECT_EQ(0, put(self->fd, st.slot));
	EXPECT_EQ(-ENOENT, put(self->fd, st.slot));
}

/* A batch of discontiguous ranges of several sizes: each equals the disk. */
TEST_F(cmb, batch_of_discontiguous_ranges_equals_disk)
{
	struct p2pmap_test_cmb_stage st[24];
	struct p2pmap_test_cmb_batch b = { .reqs = (uintptr_t)st, .nr = 24 };
	uint64_t offs[24];
	long long misses = cmb_stat("stats", "misses");
	int i;

	for (i = 0; i < 24; i++) {
		uint32_t n = 1 + (i * 7) % 33;

		offs[i] = (uint64_t)(64 + i * 97) * PAGE;
		memset(&st[i], 0, sizeof(st[i]));
		st[i].sector = sector_of(offs[i], n * PAGE);
		st[i].nr_pages = n;
		ASSERT_NE((uint64_t)-1, st[i].sector);
	}
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_BATCH, &b));
	for (i = 0; i < 24; i++) {
		ASSERT_EQ(0, st[i].error);
		/* first, second and last page of each range */
		EXPECT_EQ(0, check_slot(self->fd, st[i].slot, st[i].sector,
					offs[i], 0, st[i].nr_pages > 1 ? 2 : 1, SEED));
		EXPECT_EQ(0, check_slot(self->fd, st[i].slot, st[i].sector,
					offs[i], st[i].nr_pages - 1, 1, SEED));
	}
	EXPECT_LE((long long)misses + 24, cmb_stat("stats", "misses"));
	for (i = 0; i < 24; i++)
		EXPECT_EQ(0, put(self->fd, st[i].slot));
}

/* Staging the same range again is a cache hit at the same bus address. */
TEST_F(cmb, restaging_a_range_hits_the_cache)
{
	struct p2pmap_test_cmb_stage a, b, c;
	int64_t sector = sector_of(3000 * PAGE, 16 * PAGE);
	long long hits;

	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 16, 0, &a));
	ASSERT_EQ(0, put(self->fd, a.slot));
	hits = cmb_stat("stats", "hits");
	ASSERT_EQ(0, stage(self->fd, sector, 16, 0, &b));
	EXPECT_EQ(a.bus_addr, b.bus_addr);
	/* a page-aligned sub-range inside it hits too */
	ASSERT_EQ(0, stage(self->fd, sector + 8 * 4, 4, 0, &c));
	EXPECT_EQ(a.bus_addr + 4 * PAGE, c.bus_addr);
	EXPECT_EQ(hits + 2, cmb_stat("stats", "hits"));
	EXPECT_EQ(0, check_slot(self->fd, c.slot, sector + 32, 3004 * PAGE, 0, 4, SEED));
	EXPECT_EQ(0, put(self->fd, b.slot));
	EXPECT_EQ(0, put(self->fd, c.slot));
}

/* 112 MiB through a 64 MiB CMB: LRU eviction revokes the oldest holders. */
TEST_F(cmb, more_than_the_cmb_evicts_lru_with_revokes)
{
	enum { CHUNK = 256, NCHUNK = DATA_SIZE / (CHUNK * PAGE) };
	struct p2pmap_test_cmb_stage st[NCHUNK];
	struct p2pmap_test_cmb_status s;
	long long evicted = cmb_stat("stats", "evicted");
	int i, live = 0, revoked = 0;

	for (i = 0; i < NCHUNK; i++) {
		int64_t sector = sector_of((uint64_t)i * CHUNK * PAGE, CHUNK * PAGE);

		if (sector < 0) {	/* a range across two extents */
			st[i].slot = ~0U;
			continue;
		}
		ASSERT_EQ(0, stage(self->fd, sector, CHUNK, 0, &st[i]));
	}
	ASSERT_EQ(0, status(self->fd, 0, &s));
	EXPECT_LT(0ULL, s.revokes[REVOKE_EVICT]);
	EXPECT_LT(evicted, cmb_stat("stats", "evicted"));
	EXPECT_GE(64LL << 20, cmb_stat("stats", "in_use"));
	for (i = 0; i < NCHUNK; i++) {
		if (st[i].slot == ~0U)
			continue;
		ASSERT_EQ(0, status(self->fd, st[i].slot, &s));
		if (s.slot_state == P2PMAP_TEST_CMB_LIVE) {
			live++;
			EXPECT_EQ(0, check_slot(self->fd, st[i].slot, st[i].sector,
						(uint64_t)i * CHUNK * PAGE, CHUNK - 1, 1, SEED));
		} else {
			revoked++;
			EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
			EXPECT_EQ((__u32)REVOKE_EVICT, s.slot_cause);
			/* a revoked chunk cannot be read any more */
			EXPECT_EQ(-EIO, cmb_io(self->fd, P2PMAP_TEST_CMB_READ, st[i].slot,
					       P2PMAP_TEST_CMB_CPU, 0, &s, 8));
		}
	}
	EXPECT_LT(0, revoked);
	EXPECT_LT(0, live);
	/* the newest range is live, the oldest was evicted */
	ASSERT_EQ(0, status(self->fd, st[NCHUNK - 1].slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_LIVE, s.slot_state);
	ASSERT_EQ(0, status(self->fd, st[0].slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	TH_LOG("%d live, %d revoked", live, revoked);
}

/* Device-written CMB data reaches the disk: on sync, and on eviction. */
TEST_F(cmb, write_back_round_trip)
{
	static char buf[4 * PAGE] __attribute__((aligned(4096)));
	static char want[4 * PAGE];
	const uint64_t off = DATA_SIZE - 8 * PAGE, seed2 = ~SEED;
	struct p2pmap_test_cmb_stage st;
	int64_t sector = sector_of(off, 8 * PAGE);
	long long wb = cmb_stat("stats", "written_back");
	int i;

	ASSERT_LE(0, sector);
	/* sync */
	ASSERT_EQ(0, stage(self->fd, sector, 4, STAGE_WRITE, &st));
	fill(want, seed2, off, sizeof(want));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, st.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, sizeof(want)));
	ASSERT_EQ(0, put(self->fd, st.slot));
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_SYNC));
	ASSERT_EQ(0, disk_read(sector, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	EXPECT_LE(wb + 4 * (long long)PAGE, cmb_stat("stats", "written_back"));

	/* eviction: dirty the next 4 pages, then push them out of the CMB */
	ASSERT_EQ(0, stage(self->fd, sector + 32, 4, STAGE_WRITE, &st));
	fill(want, seed2, off + 4 * PAGE, sizeof(want));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, st.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, sizeof(want)));
	ASSERT_EQ(0, put(self->fd, st.slot));
	for (i = 0; i < 80; i++) {	/* 80 MiB of other blocks */
		struct p2pmap_test_cmb_stage o;
		int64_t s2 = sector_of((uint64_t)i * 256 * PAGE, 256 * PAGE);

		if (s2 < 0)
			continue;
		ASSERT_EQ(0, stage(self->fd, s2, 256, 0, &o));
		ASSERT_EQ(0, put(self->fd, o.slot));
	}
	ASSERT_EQ(0, disk_read(sector + 32, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));

	/* put the original data back for the other tests */
	fill(buf, SEED, off, 4 * PAGE);
	ASSERT_EQ(0, disk_write(sector, buf, sizeof(buf)));
	fill(buf, SEED, off + 4 * PAGE, 4 * PAGE);
	ASSERT_EQ(0, disk_write(sector + 32, buf, sizeof(buf)));
}

/* Unbind the driver of the rig's first edu; remember it to bind it back. */
static int edu_unbind(char *bdf, char *drv)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir("/sys/bus/pci/devices");
	int ret = -1;
	ssize_t n;
	FILE *f;

	while (dir && (de = readdir(dir))) {
		char id[32] = "";

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(id, sizeof(id), f))
			id[0] = 0;
		fclose(f);
		if (strncmp(id, "0x11e8", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		snprintf(drv, PATH_MAX, "/sys/bus/pci/drivers/%.200s", basename(link));
		snprintf(bdf, 16, "%.15s", de->d_name);
		snprintf(path, sizeof(path), "%s/unbind", drv);
		f = fopen(path, "w");
		ret = f && fputs(bdf, f) >= 0 && !fclose(f) ? 0 : -1;
		break;
	}
	if (dir)
		closedir(dir);
	return ret;
}

static int edu_rebind(const char *bdf, const char *drv)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bind", drv);
	f = fopen(path, "w");
	return f && fputs(bdf, f) >= 0 && !fclose(f) ? 0 : -1;
}

/* The edu device reads the staged bytes peer to peer from the bus address. */
TEST_F(cmb, edu_dma_from_bus_address_returns_staged_bytes)
{
	static char dma[PAGE], want[PAGE];
	struct p2pmap_test_cmb_stage st;
	int64_t sector = sector_of(777 * PAGE, 2 * PAGE);
	int ret;

	char drv[PATH_MAX] = "", bdf[16] = "";

	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 2, 0, &st));
	ret = cmb_io(self->fd, P2PMAP_TEST_CMB_READ, st.slot, P2PMAP_TEST_CMB_EDU,
		     PAGE, dma, PAGE);
	if (ret == -EBUSY) {
		/* dummy-gpu drives the rig's edu: lend it to the test module */
		ASSERT_EQ(0, edu_unbind(bdf, drv));
		ret = cmb_io(self->fd, P2PMAP_TEST_CMB_READ, st.slot,
			     P2PMAP_TEST_CMB_EDU, PAGE, dma, PAGE);
		EXPECT_EQ(0, edu_rebind(bdf, drv));
	}
	ASSERT_EQ(0, ret) TH_LOG("the rig has an edu device; the DMA must work");
	fill(want, SEED, 778 * PAGE, PAGE);
	EXPECT_EQ(0, memcmp(dma, want, PAGE));
	EXPECT_EQ(0, put(self->fd, st.slot));
}

/* reach() agrees with the PCI hierarchy: a route iff a common bridge. */
TEST_F(cmb, reach_follows_the_pci_hierarchy)
{
	struct p2pmap_test_cmb_reach r = { 0 };
	char nvme[256], edu[256], *a, *b;
	int bridges = 0;

	if (ioctl(self->fd, P2PMAP_TEST_CMB_REACH, &r) && errno == ENODEV)
		SKIP(return, "no edu device");
	ASSERT_NE(NULL, realpath("/sys/bus/pci/devices/0000:03:00.0", nvme));
	char link[256];

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s", r.pci);
	ASSERT_NE(NULL, realpath(link, edu));
	/* count the common path components below the root bus (pciDDDD:BB) */
	a = strtok(nvme, "/");
	for (b = edu; *b == '/'; b++)
		;
	while (a) {
		size_t n = strlen(a);

		if (strncmp(a, b, n) || (b[n] != '/' && b[n]))
			break;
		if (!strncmp(a, "0000:", 5))
			bridges++;
		b += n + (b[n] == '/');
		a = strtok(NULL, "/");
	}
	TH_LOG("edu %s: reach %d (%s), %d common bridges", r.pci, r.result, r.why, bridges);
	if (getenv("EXPECT_REACH"))
		EXPECT_EQ(atoi(getenv("EXPECT_REACH")), r.result == 0);
	if (bridges) {
		EXPECT_EQ(0, r.result);
	} else {
		EXPECT_EQ(-EXDEV, r.result);
		EXPECT_NE(NULL, strstr(r.why, "share no upstream bridge"));
	}
}

/* Bad requests fail with a clear errno and change nothing. */
TEST_F(cmb, bad_requests_are_refused)
{
	struct p2pmap_test_cmb_stage st, held;
	long long in_use;
	int64_t sector = sector_of(4000 * PAGE, 16 * PAGE);
	uint64_t disk_sectors = 0;
	int dfd = open(DISK, O_RDONLY);

	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ioctl(dfd, BLKGETSIZE64, &disk_sectors));
	close(dfd);
	disk_sectors /= 512;
	in_use = cmb_stat("stats", "in_use");
	EXPECT_EQ(-EINVAL, stage(self->fd, 0, 0, 0, &st));
	EXPECT_EQ(-EINVAL, stage(self->fd, disk_sectors - 4, 1, 0, &st));
	EXPECT_EQ(-EINVAL, stage(self->fd, 0, (64 << 20) / PAGE + 1, 0, &st));
	EXPECT_EQ(-EINVAL, cmb_io(self->fd, P2PMAP_TEST_CMB_READ, P2PMAP_TEST_CMB_SLOTS,
				  0, 0, &st, 8));
	EXPECT_EQ(-ENOENT, cmb_io(self->fd, P2PMAP_TEST_CMB_READ, 17, 0, 0, &st, 8));
	EXPECT_EQ(in_use, cmb_stat("stats", "in_use"));
	/* a range overlapping a held chunk staged over another range */
	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 8, 0, &held));
	EXPECT_EQ(-EBUSY, stage(self->fd, sector + 32, 8, 0, &st));
	EXPECT_EQ(0, put(self->fd, held.slot));
	/* once nobody holds it, the overlapping range replaces it */
	ASSERT_EQ(0, stage(self->fd, sector + 32, 8, 0, &st));
	EXPECT_EQ(0, check_slot(self->fd, st.slot, sector + 32, 4004 * PAGE, 0, 8, SEED));
	EXPECT_EQ(0, put(self->fd, st.slot));
}

/* NOWAIT never evicts: a range larger than the free space fails -EAGAIN. */
TEST_F(cmb, nowait_does_not_evict)
{
	struct p2pmap_test_cmb_stage st[20], extra;
	struct p2pmap_test_cmb_status s;
	long long evicted, in_use;
	uint64_t free_pages;
	int i, n = 0;

	for (i = 0; i < 20 && n < 15; i++) {	/* hold 15 x 4 MiB of 64 MiB */
		int64_t sector = sector_of((uint64_t)i * 1024 * PAGE, 1024 * PAGE);

		if (sector < 0)
			continue;
		ASSERT_EQ(0, stage(self->fd, sector, 1024, 0, &st[n]));
		n++;
	}
	ASSERT_EQ(15, n);
	ASSERT_EQ(0, status(self->fd, 0, &s));
	in_use = cmb_stat("stats", "in_use");
	evicted = cmb_stat("stats", "evicted");
	free_pages = ((64ULL << 20) - in_use) / PAGE;
	EXPECT_EQ(-EAGAIN, stage(self->fd, sector_of(100ULL << 20, (free_pages + 1) * PAGE),
				 free_pages + 1, STAGE_NOWAIT, &extra));
	EXPECT_EQ(evicted, cmb_stat("stats", "evicted"));
	EXPECT_EQ(in_use, cmb_stat("stats", "in_use"));
	for (i = 0; i < n; i++)
		put(self->fd, st[i].slot);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A CMB full of chunks whose owners do not put them when revoked (a device
 * DMA in flight): a request revokes the least recently used one only, waits
 * for its pages, and fails -ENOSPC (the core's cmb_exhausted); NOWAIT fails
 * -EAGAIN at once; once the owner puts it, the request is served.
 */
TEST_F(cmb, exhausted_by_kept_chunks_fails_enospc_after_one_revoke)
{
	enum { N = 16 };
	struct p2pmap_test_cmb_stage st[N], all, extra;
	struct p2pmap_test_cmb_status s;
	long long size = cmb_stat("info", "size");
	uint32_t chunk = size / PAGE / N, total = size / PAGE;
	int64_t sector_extra = sector_of(100ULL << 20, PAGE);
	long long errors;
	__u64 evict_revokes;
	double t;
	int i;

	ASSERT_LT(0, (int)chunk);
	ASSERT_LE(0, sector_extra);
	/*
	 * The whole CMB once, from blocks beyond the data (the rig's disk is
	 * 512 MiB), put: the cache holds one idle extent and no holes.
	 */
	ASSERT_EQ(0, stage(self->fd, (128ULL << 20) / 512, total, 0, &all));
	EXPECT_EQ(0, put(self->fd, all.slot));
	for (i = 0; i < N; i++) {
		int64_t sector = sector_of((uint64_t)i * chunk * PAGE, (uint64_t)chunk * PAGE);

		ASSERT_LE(0, sector);
		ASSERT_EQ(0, stage(self->fd, sector, chunk, P2PMAP_TEST_CMB_KEEP, &st[i]));
	}
	ASSERT_EQ(0, status(self->fd, 0, &s));
	ASSERT_EQ(0U, s.revoked);	/* only the idle extent was evicted */
	evict_revokes = s.revokes[REVOKE_EVICT];
	errors = cmb_stat("stats", "errors");

	/* NOWAIT: at once, nothing revoked */
	t = now_s();
	EXPECT_EQ(-EAGAIN, stage(self->fd, sector_extra, 1, STAGE_NOWAIT, &extra));
	EXPECT_GT(1.0, now_s() - t);
	ASSERT_EQ(0, status(self->fd, 0, &s));
	EXPECT_EQ(evict_revokes, s.revokes[REVOKE_EVICT]);

	/* waiting: one revoke (the LRU chunk), then -ENOSPC after the wait */
	t = now_s();
	EXPECT_EQ(-ENOSPC, stage(self->fd, sector_extra, 1, 0, &extra));
	t = now_s() - t;
	TH_LOG("-ENOSPC after %.1f s", t);
	EXPECT_LE(4.0, t);
	EXPECT_GT(15.0, t);
	ASSERT_EQ(0, status(self->fd, st[0].slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_EVICT, s.slot_cause);
	EXPECT_EQ(1U, s.revoked);
	EXPECT_EQ((__u32)N - 1, s.live);
	EXPECT_EQ(evict_revokes + 1, s.revokes[REVOKE_EVICT]);
	EXPECT_LT(errors, cmb_stat("stats", "errors"));
	EXPECT_EQ(size - (long long)(size / PAGE % N) * (long long)PAGE,
		  cmb_stat("stats", "in_use"));

	/* the owner puts the revoked chunk: its pages serve the request */
	EXPECT_EQ(0, put(self->fd, st[0].slot));
	t = now_s();
	ASSERT_EQ(0, stage(self->fd, sector_extra, 1, 0, &extra));
	EXPECT_GT(1.0, now_s() - t);
	EXPECT_EQ(0, check_slot(self->fd, extra.slot, sector_extra, 100ULL << 20, 0, 1, SEED));
	ASSERT_EQ(0, status(self->fd, 0, &s));
	EXPECT_EQ((__u32)N, s.live);
	EXPECT_EQ(0U, s.revoked);
	EXPECT_EQ(0, put(self->fd, extra.slot));
	for (i = 1; i < N; i++)
		EXPECT_EQ(0, put(self->fd, st[i].slot));
}

/* Wait (5 s at most) until the evict-ahead worker has made its room. */
static int wait_for_room(void)
{
	double t = now_s();

	while (now_s() - t < 5) {
		long long size = cmb_stat("info", "size");
		long long in_use = cmb_stat("stats", "in_use");
		long long target = cmb_stat("info", "free_target");

		if (cmb_stat("info", "pressure") != 1 || size - in_use >= target)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * Stream @n MiB of the data through the CMB in 1 MiB chunks, held until
 * revoked, letting the evict-ahead worker finish after each (the device's
 * work between two faults). Return: the stall_evictions of the requests
 * from chunk @from on; *@pressure: whether the provider was under pressure
 * when chunk @from was asked for.
 */
static long long stream_once(struct __test_metadata *_metadata, int fd,
			     struct p2pmap_test_cmb_stage *st, int n, int from,
			     int *pressure)
{
	long long stalls = 0, before;
	int i, err;

	for (i = 0; i < n; i++)
		st[i].slot = ~0U;
	for (i = 0; i < n; i++) {
		int64_t sector = sector_of((uint64_t)i * 256 * PAGE, 256 * PAGE);

		if (i == from)
			*pressure = cmb_stat("info", "pressure") == 1;
		if (sector < 0)	/* a range across two extents */
			continue;
		before = cmb_stat("stats", "stall_evictions");
		EXPECT_EQ(0, stage(fd, sector, 256, 0, &st[i]));
		if (i >= from)
			stalls += cmb_stat("stats", "stall_evictions") - before;
		err = wait_for_room();
		EXPECT_EQ(0, err) TH_LOG("no room made after request %d", i);
		if (err)
			break;
	}
	/* the newest chunk is live and holds the file's bytes (ends checked) */
	for (i = n - 1; i >= 0 && st[i].slot == ~0U; i--)
		;
	if (i >= 0) {
		EXPECT_EQ(0, check_slot(fd, st[i].slot, st[i].sector,
					(uint64_t)i * 256 * PAGE, 0, 1, SEED));
		EXPECT_EQ(0, check_slot(fd, st[i].slot, st[i].sector,
					(uint64_t)i * 256 * PAGE, 255, 1, SEED));
	}
	for (i = 0; i < n; i++)
		if (st[i].slot != ~0U)
			put(fd, st[i].slot);
	return stalls;
}

/*
 * 112 MiB streamed through the 64 MiB CMB, chunks held until revoked (a
 * device mapping): once a request has had to revoke a held chunk to get
 * space, the evict-ahead worker keeps room for the next ones while the
 * "device" works, so no later request waits for an eviction; its evictions
 * are counted apart (evicted_ahead). With the worker off, every request
 * past the CMB's size evicts for itself. Both ways the data is right.
 */
/* 224 requests of 1 MiB: minutes on the debug kernel under TCG */
TEST_F_TIMEOUT(cmb, evict_ahead_keeps_room_while_streaming, 900)
{
	enum { N = DATA_SIZE / (256 * PAGE), FROM = 80 };	/* 112, CMB 64 */
	static struct p2pmap_test_cmb_stage st[N];
	struct p2pmap_test_cmb_stage all;
	struct p2pmap_test_cmb_status s;
	long long ahead, stalls, ns;
	int pressure = 0, i;

	ASSERT_EQ(0, set_evict_ahead(1));
	ahead = cmb_stat("stats", "evicted_ahead");
	stalls = stream_once(_metadata, self->fd, st, N, FROM, &pressure);
	/* by chunk 80 the CMB is full of held chunks: one was revoked */
	EXPECT_EQ(1, pressure);
	EXPECT_EQ(0, stalls);
	EXPECT_LT(ahead + (16LL << 20), cmb_stat("stats", "evicted_ahead"));
	EXPECT_LT(0, cmb_stat("stats", "evict_ahead_ns"));
	/* room for two 1 MiB requests, not more */
	EXPECT_EQ(2LL << 20, cmb_stat("info", "free_target"));

	/*
	 * Still under pressure, a request as large as the CMB: the worker
	 * cannot make room without taking what was just handed out, so it
	 * does not.
	 */
	ASSERT_EQ(1, cmb_stat("info", "pressure"));
	ns = cmb_stat("stats", "evict_ahead_ns");
	ASSERT_EQ(0, stage(self->fd, (128ULL << 20) / 512,
			   cmb_stat("info", "size") / PAGE, 0, &all));
	ahead = cmb_stat("stats", "evicted_ahead");
	/* the worker was woken (it runs, and finds nothing it may take) */
	for (i = 0; i < 5000 && cmb_stat("stats", "evict_ahead_ns") == ns; i++)
		usleep(1000);
	EXPECT_LT(ns, cmb_stat("stats", "evict_ahead_ns"));
	ASSERT_EQ(0, status(self->fd, all.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_LIVE, s.slot_state);
	EXPECT_EQ(ahead, cmb_stat("stats", "evicted_ahead"));
	EXPECT_EQ(0, put(self->fd, all.slot));

	ASSERT_EQ(0, set_evict_ahead(0));
	ahead = cmb_stat("stats", "evicted_ahead");
	stalls = stream_once(_metadata, self->fd, st, N, FROM, &pressure);
	EXPECT_EQ(0, set_evict_ahead(1));
	/* LRU over a cycle larger than the cache: every request misses */
	EXPECT_LE(N - FROM - 4, stalls);
	EXPECT_EQ(0, pressure);
	EXPECT_EQ(ahead, cmb_stat("stats", "evicted_ahead"));
	TH_LOG("with the worker off, %lld of the last %d requests evicted for themselves",
	       stalls, N - FROM);
}

/* A forgotten chunk is never found again nor written back; its writes count lost. */
TEST_F(cmb, forget_drops_the_extent_and_its_writes)
{
	static char buf[4 * PAGE] __attribute__((aligned(4096)));
	static char junk[4 * PAGE];
	struct p2pmap_test_cmb_stage a, b;
	struct p2pmap_test_cmb_status s;
	int64_t sector = sector_of(5000 * PAGE, 4 * PAGE);
	long long lost = cmb_stat("stats", "lost"), misses;

	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 4, STAGE_WRITE, &a));
	fill(junk, ~SEED, 0, sizeof(junk));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, a.slot,
			    P2PMAP_TEST_CMB_CPU, 0, junk, sizeof(junk)));
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_FORGET, &a.slot));
	EXPECT_EQ(lost + 4 * (long long)PAGE, cmb_stat("stats", "lost"));
	/* the same blocks are read again, into other pages, while a is held */
	misses = cmb_stat("stats", "misses");
	ASSERT_EQ(0, stage(self->fd, sector, 4, 0, &b));
	EXPECT_EQ(misses + 1, cmb_stat("stats", "misses"));
	EXPECT_NE(a.bus_addr, b.bus_addr);
	EXPECT_EQ(0, check_slot(self->fd, b.slot, sector, 5000 * PAGE, 0, 4, SEED));
	EXPECT_EQ(0, put(self->fd, a.slot));
	EXPECT_EQ(0, put(self->fd, b.slot));
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_SYNC));
	/* nothing of a's writes reached the disk */
	ASSERT_EQ(0, disk_read(sector, buf, sizeof(buf)));
	fill(junk, SEED, 5000 * PAGE, sizeof(junk));
	EXPECT_EQ(0, memcmp(buf, junk, sizeof(junk)));

	/* another holder of the same extent is revoked for coherency */
	ASSERT_EQ(0, stage(self->fd, sector, 4, 0, &a));
	ASSERT_EQ(0, stage(self->fd, sector + 8, 2, 0, &b));
	EXPECT_EQ(a.bus_addr + PAGE, b.bus_addr);
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_FORGET, &b.slot));
	ASSERT_EQ(0, status(self->fd, a.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_COHERENCY, s.slot_cause);
	ASSERT_EQ(0, status(self->fd, b.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_LIVE, s.slot_state);
	EXPECT_EQ(0, put(self->fd, a.slot));
	EXPECT_EQ(0, put(self->fd, b.slot));
}

/* Wait up to a second for @slot to leave LIVE; @s: its last status. */
static int wait_revoked(int fd, uint32_t slot, struct p2pmap_test_cmb_status *s)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (status(fd, slot, s))
			return -1;
		if (s->slot_state != P2PMAP_TEST_CMB_LIVE)
			break;
		usleep(20000);
	}
	return 0;
}

/* Writes behind the cache (O_DIRECT here) are seen: no stale hit, holders revoked. */
TEST_F(cmb, writes_behind_the_cache_invalidate_it)
{
	static char buf[4 * PAGE] __attribute__((aligned(4096)));
	static char fresh[4 * PAGE] __attribute__((aligned(4096)));
	struct p2pmap_test_cmb_stage held, idle, again;
	struct p2pmap_test_cmb_status s;
	int64_t sector = sector_of(6000 * PAGE, 8 * PAGE);
	long long inval = cmb_stat("stats", "invalidated");
	int i;

	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 4, 0, &held));	/* held */
	ASSERT_EQ(0, stage(self->fd, sector + 32, 4, 0, &idle));	/* cached */
	ASSERT_EQ(0, put(self->fd, idle.slot));
	fill(fresh, ~SEED, 0, sizeof(fresh));
	ASSERT_EQ(0, disk_write(sector, fresh, sizeof(fresh)));
	ASSERT_EQ(0, disk_write(sector + 32, fresh, sizeof(fresh)));
	/* the holder is revoked for coherency, soon */
	ASSERT_EQ(0, wait_revoked(self->fd, held.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_COHERENCY, s.slot_cause);
	EXPECT_LE(inval + 8 * (long long)PAGE, cmb_stat("stats", "invalidated"));
	/* staging again reads the new bytes, not the cached copy */
	ASSERT_EQ(0, stage(self->fd, sector + 32, 4, 0, &again));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_READ, again.slot,
			    P2PMAP_TEST_CMB_CPU, 0, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, fresh, sizeof(fresh)));
	EXPECT_EQ(0, put(self->fd, again.slot));
	EXPECT_EQ(0, put(self->fd, held.slot));
	/* the pattern back for the other tests */
	for (i = 0; i < 2; i++) {
		fill(buf, SEED, (6000 + 4 * i) * PAGE, sizeof(buf));
		ASSERT_EQ(0, disk_write(sector + 32 * i, buf, sizeof(buf)));
	}
}

/*
 * Two writes behind the cache into an extent whose writer still holds its
 * chunk after the revoke (KEEP: a device with a DMA in flight) and has not
 * put its data yet. The first (page 0) takes the extent out of the cache
 * and poisons that page; the second (page 4) finds the extent out of the
 * cache, not dirty yet: it must still reach it, or the write-back at the
 * writer's put would write the CMB's page 4 over the newer block. Only
 * the written pages are dropped (counted lost): the device's pages 1-3,
 * between the two writes, and 5-7 are written back.
 */
TEST_F(cmb, writes_behind_a_held_writer_survive_its_write_back)
{
	static char buf[8 * PAGE] __attribute__((aligned(4096)));
	static char first[PAGE] __attribute__((aligned(4096)));
	static char second[PAGE] __attribute__((aligned(4096)));
	static char dev[8 * PAGE];
	struct p2pmap_test_cmb_stage w;
	struct p2pmap_test_cmb_status s;
	int64_t sector = sector_of(7600 * PAGE, 8 * PAGE);
	long long lost = cmb_stat("stats", "lost"), inval;
	int i;

	ASSERT_LE(0, sector);
	ASSERT_EQ(0, stage(self->fd, sector, 8, STAGE_WRITE | P2PMAP_TEST_CMB_KEEP, &w));
	fill(dev, ~SEED, 0, sizeof(dev));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, w.slot,
			    P2PMAP_TEST_CMB_CPU, 0, dev, sizeof(dev)));
	fill(first, SEED ^ 1, 0, PAGE);
	ASSERT_EQ(0, disk_write(sector, first, PAGE));
	ASSERT_EQ(0, wait_revoked(self->fd, w.slot, &s));
	ASSERT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_COHERENCY, s.slot_cause);
	/* the second write, once the first is applied; applied promptly too */
	inval = cmb_stat("stats", "invalidated");
	fill(second, SEED ^ 2, 0, PAGE);
	ASSERT_EQ(0, disk_write(sector + 32, second, PAGE));
	for (i = 0; i < 50 && cmb_stat("stats", "invalidated") == inval; i++)
		usleep(20000);
	EXPECT_LT(inval, cmb_stat("stats", "invalidated"))
		TH_LOG("the second write behind did not reach the extent");
	/* the writer lets go: its data is written back, around the writes */
	ASSERT_EQ(0, put(self->fd, w.slot));
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_SYNC));
	ASSERT_EQ(0, disk_read(sector, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, first, PAGE));
	EXPECT_EQ(0, memcmp(buf + PAGE, dev + PAGE, 3 * PAGE));
	EXPECT_EQ(0, memcmp(buf + 4 * PAGE, second, PAGE));
	EXPECT_EQ(0, memcmp(buf + 5 * PAGE, dev + 5 * PAGE, 3 * PAGE));
	EXPECT_EQ(lost + 2 * (long long)PAGE, cmb_stat("stats", "lost"));
	/* the pattern back for the other tests */
	fill(buf, SEED, 7600 * PAGE, sizeof(buf));
	ASSERT_EQ(0, disk_write(sector, buf, sizeof(buf)));
}

static int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -errno;
	close(fd);
	return ret;
}

static int wait_for(int (*cond)(void), int seconds)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i;

	for (i = 0; i < seconds * 10; i++) {
		if (cond())
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int cmb_live(void)
{
	return cmb_state_is("live");
}

static long long resets_before;

#define RESET_POLL	"/sys/module/p2pmap_nvme_cmb/parameters/reset_poll"

static int reset_seen_and_live(void)
{
	return cmb_stat("stats", "resets") > resets_before && cmb_live();
}

static long long notified_before;

static int restart_notified(void)
{
	return cmb_stat("stats", "notified") > notified_before;
}

static int ctrl_live(void)
{
	char buf[32] = "";
	int fd = open("/sys/class/nvme/nvme0/state", O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strncmp(buf, "live", 4);
}

/*
 * On the p2pdma backend nvme-pci keeps its CMB registered and enabled
 * across a controller reset (nvme_map_cmb() returns early) and the
 * controller keeps CMBMSC and the CMB's contents: nothing is revoked, the
 * staged bytes stay right, device-written data is written back as usual.
 */
static void reset_keeps_p2pdma_cmb(struct __test_metadata *_metadata, int fd,
				   int64_t sr, int64_t sw, int64_t sd)
{
	static char buf[4 * PAGE] __attribute__((aligned(4096)));
	static char want[4 * PAGE], wantd[2 * PAGE];
	struct p2pmap_test_cmb_stage r, w, d;
	struct p2pmap_test_cmb_status s;
	long long lost = cmb_stat("stats", "lost"), resets = cmb_stat("stats", "resets");
	long long gen = cmb_stat("info", "generation");

	ASSERT_EQ(0, stage(fd, sr, 8, 0, &r));
	ASSERT_EQ(0, stage(fd, sw, 4, STAGE_WRITE, &w));
	fill(want, ~SEED, 0, sizeof(want));
	ASSERT_EQ(0, cmb_io(fd, P2PMAP_TEST_CMB_WRITE, w.slot, P2PMAP_TEST_CMB_CPU, 0,
			    want, sizeof(want)));
	ASSERT_EQ(0, stage(fd, sd, 2, STAGE_WRITE, &d));
	fill(wantd, ~SEED, PAGE, sizeof(wantd));
	ASSERT_EQ(0, cmb_io(fd, P2PMAP_TEST_CMB_WRITE, d.slot, P2PMAP_TEST_CMB_CPU, 0,
			    wantd, sizeof(wantd)));
	ASSERT_EQ(0, put(fd, d.slot));	/* dirty and cached, not written yet */
	notified_before = cmb_stat("stats", "notified");
	/* the write returns once nvme-pci has reset the controller */
	ASSERT_EQ(0, write_sysfs("/sys/class/nvme/nvme0/reset_controller", "1"));
	ASSERT_EQ(0, wait_for(ctrl_live, 30));
	/* nvme's restart uevent was heard, and CMBMSC found unchanged */
	EXPECT_EQ(0, wait_for(restart_notified, 5));
	usleep(500 * 1000);	/* five polls of CMBMSC */
	EXPECT_EQ(resets, cmb_stat("stats", "resets"));
	EXPECT_EQ(gen, cmb_stat("info", "generation"));
	EXPECT_EQ(lost, cmb_stat("stats", "lost"));
	ASSERT_EQ(0, status(fd, r.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_LIVE, s.slot_state);
	ASSERT_EQ(0, status(fd, w.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_LIVE, s.slot_state);
	EXPECT_EQ(0, check_slot(fd, r.slot, sr, 200 * PAGE, 0, 8, SEED));
	ASSERT_EQ(0, cmb_io(fd, P2PMAP_TEST_CMB_READ, w.slot, P2PMAP_TEST_CMB_CPU, 0,
			    buf, sizeof(want)));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	/* the controller still stages into the CMB and writes back from it */
	EXPECT_EQ(0, put(fd, w.slot));
	EXPECT_EQ(0, ioctl(fd, P2PMAP_TEST_CMB_SYNC));
	ASSERT_EQ(0, disk_read(sw, buf, sizeof(want)));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	ASSERT_EQ(0, disk_read(sd, buf, sizeof(wantd)));
	EXPECT_EQ(0, memcmp(buf, wantd, sizeof(wantd)));
	EXPECT_EQ(0, put(fd, r.slot));
	/* the pattern back for the other tests */
	fill(buf, SEED, 300 * PAGE, sizeof(want));
	ASSERT_EQ(0, disk_write(sw, buf, sizeof(want)));
	fill(buf, SEED, 310 * PAGE, sizeof(wantd));
	ASSERT_EQ(0, disk_write(sd, buf, sizeof(wantd)));
}

/*
 * A controller reset (compat backend) revokes every holder, counts the dirty
 * bytes lost (held and cached ones), and the CMB works again; nvme's restart
 * uevent reports it without the CMBMSC poll. On the p2pdma backend the CMB
 * survives the reset intact.
 */
TEST_F(cmb, reset_controller_revokes_counts_lost_and_recovers)
{
	struct p2pmap_test_cmb_stage r, w, d, again;
	struct p2pmap_test_cmb_status s;
	static char want[PAGE] __attribute__((aligned(4096)));
	int64_t sr = sector_of(200 * PAGE, 8 * PAGE), sw = sector_of(300 * PAGE, 4 * PAGE);
	int64_t sd = sector_of(310 * PAGE, 2 * PAGE);
	long long lost = cmb_stat("stats", "lost");
	int ret, seen;

	ASSERT_LE(0, sr);
	ASSERT_LE(0, sw);
	ASSERT_LE(0, sd);
	if (cmb_info_is("backend: ", "p2pdma")) {
		reset_keeps_p2pdma_cmb(_metadata, self->fd, sr, sw, sd);
		return;
	}
	ASSERT_EQ(0, stage(self->fd, sr, 8, 0, &r));
	ASSERT_EQ(0, stage(self->fd, sw, 4, STAGE_WRITE, &w));
	fill(want, ~SEED, 0, PAGE);
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, w.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	/* a dirty extent nobody holds any more, cached until written back */
	ASSERT_EQ(0, stage(self->fd, sd, 2, STAGE_WRITE, &d));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, d.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	ASSERT_EQ(0, put(self->fd, d.slot));
	resets_before = cmb_stat("stats", "resets");
	notified_before = cmb_stat("stats", "notified");
	/* without the poll: nvme's restart uevent alone reports the reset */
	ASSERT_EQ(0, write_sysfs(RESET_POLL, "0"));
	ret = write_sysfs("/sys/class/nvme/nvme0/reset_controller", "1");
	seen = wait_for(reset_seen_and_live, 30);
	ASSERT_EQ(0, write_sysfs(RESET_POLL, "1"));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, seen);
	EXPECT_LT(notified_before, cmb_stat("stats", "notified"));
	ASSERT_EQ(0, status(self->fd, r.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_GONE, s.slot_cause);
	ASSERT_EQ(0, status(self->fd, w.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_GONE, s.slot_cause);
	EXPECT_EQ(0U, s.live);
	/* the writable chunk's 4 pages and the cached dirty 2 were lost */
	EXPECT_EQ(lost + 6 * (long long)PAGE, cmb_stat("stats", "lost"));
	EXPECT_EQ(-EIO, cmb_io(self->fd, P2PMAP_TEST_CMB_READ, r.slot,
			       P2PMAP_TEST_CMB_CPU, 0, want, 8));
	/* re-enabled: staging works and reads the disk again */
	ASSERT_EQ(0, stage(self->fd, sr, 8, 0, &again));
	EXPECT_EQ(0, check_slot(self->fd, again.slot, sr, 200 * PAGE, 0, 8, SEED));
	EXPECT_EQ(0, put(self->fd, again.slot));
	EXPECT_EQ(0, put(self->fd, r.slot));
	EXPECT_EQ(0, put(self->fd, w.slot));
	/* nothing of the lost writes reached the disk */
	ASSERT_EQ(0, stage(self->fd, sd, 2, 0, &again));
	EXPECT_EQ(0, check_slot(self->fd, again.slot, sd, 310 * PAGE, 0, 2, SEED));
	EXPECT_EQ(0, put(self->fd, again.slot));
}

/*
 * A function-level reset (PCI sysfs reset: FLR) sets the controller's
 * registers back, CMBMSC included, on either backend (on p2pdma nvme-pci
 * does not enable its CMB again): holders are revoked, dirty bytes counted
 * lost, and the CMB is enabled again (nvme-pci's own value on p2pdma).
 */
TEST_F(cmb, function_reset_revokes_counts_lost_and_recovers)
{
	struct p2pmap_test_cmb_stage r, w, again;
	struct p2pmap_test_cmb_status s;
	static char want[PAGE];
	int64_t sr = sector_of(220 * PAGE, 4 * PAGE), sw = sector_of(320 * PAGE, 2 * PAGE);
	long long lost = cmb_stat("stats", "lost"), gen = cmb_stat("info", "generation");

	ASSERT_LE(0, sr);
	ASSERT_LE(0, sw);
	ASSERT_EQ(0, stage(self->fd, sr, 4, 0, &r));
	ASSERT_EQ(0, stage(self->fd, sw, 2, STAGE_WRITE, &w));
	fill(want, ~SEED, 0, PAGE);
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, w.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	resets_before = cmb_stat("stats", "resets");
	ASSERT_EQ(0, write_sysfs("/sys/bus/pci/devices/0000:03:00.0/reset", "1"));
	ASSERT_EQ(0, wait_for(reset_seen_and_live, 30));
	ASSERT_EQ(0, wait_for(ctrl_live, 30));
	EXPECT_LT(gen, cmb_stat("info", "generation"));
	ASSERT_EQ(0, status(self->fd, r.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_GONE, s.slot_cause);
	ASSERT_EQ(0, status(self->fd, w.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ(lost + 2 * (long long)PAGE, cmb_stat("stats", "lost"));
	/* the CMB decodes again: staging reads the disk */
	ASSERT_EQ(0, stage(self->fd, sr, 4, 0, &again));
	EXPECT_EQ(0, check_slot(self->fd, again.slot, sr, 220 * PAGE, 0, 4, SEED));
	EXPECT_EQ(0, put(self->fd, again.slot));
	EXPECT_EQ(0, put(self->fd, r.slot));
	EXPECT_EQ(0, put(self->fd, w.slot));
	/* nothing of the lost write reached the disk */
	ASSERT_EQ(0, stage(self->fd, sw, 2, 0, &again));
	EXPECT_EQ(0, check_slot(self->fd, again.slot, sw, 320 * PAGE, 0, 2, SEED));
	EXPECT_EQ(0, put(self->fd, again.slot));
}

/* The counters of the detach note in "controllers" (after a removal). */
static int detach_note(long long *lost, long long *wb)
{
	char line[256], *p;
	int found = -1;
	FILE *f = fopen("/sys/kernel/debug/p2pmap-nvme-cmb/controllers", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0000:03:00.0 ", 13) || !(p = strstr(line, "detached (")))
			continue;
		if (sscanf(p, "detached (staged %*d, written back %lld, lost %lld bytes)",
			   wb, lost) == 2)
			found = 0;
	}
	fclose(f);
	return found;
}

static int disk_present(void)
{
	return !access(DISK, F_OK);
}

/* A partition is served too: its sectors are the disk's, shifted by its start. */
TEST_F(cmb, partition_is_served_at_its_offset)
{
	static char mbr[512] __attribute__((aligned(4096)));
	static char saved[512] __attribute__((aligned(4096)));
	const uint64_t start = 65536, len = 65536;	/* sectors: 32 MiB at 32 MiB */
	struct p2pmap_test_cmb_stage p, d;
	int dfd, pfd = -1, i;

	if (fs_mounted())
		SKIP(return, "a file system is mounted on " DISK " (run with --fs none)");
	ASSERT_EQ(0, disk_read(0, saved, 512));
	memset(mbr, 0, sizeof(mbr));
	mbr[446 + 4] = 0x83;				/* Linux */
	for (i = 0; i < 4; i++) {
		mbr[446 + 8 + i] = (start >> (8 * i)) & 0xff;	/* first LBA */
		mbr[446 + 12 + i] = (len >> (8 * i)) & 0xff;	/* sectors */
	}
	mbr[510] = 0x55;
	mbr[511] = (char)0xaa;
	ASSERT_EQ(0, disk_write(0, mbr, 512));
	dfd = open(DISK, O_RDONLY);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ioctl(dfd, BLKRRPART));
	for (i = 0; i < 50 && access(DISK "p1", F_OK); i++)
		usleep(20000);
	pfd = cmb_open_path(DISK "p1");
	EXPECT_LE(0, pfd);
	if (pfd >= 0) {
		/* page 3 of the partition is page 3 + 32 MiB of the disk */
		EXPECT_EQ(0, stage(pfd, 3 * 8, 4, 0, &p));
		EXPECT_EQ(0, check_slot(pfd, p.slot, start + 3 * 8,
					(start * 512) + 3 * PAGE, 0, 4, SEED));
		/* the same blocks through the whole disk: the same CMB pages */
		EXPECT_EQ(0, stage(self->fd, start + 3 * 8, 4, 0, &d));
		EXPECT_EQ(p.bus_addr, d.bus_addr);
		EXPECT_EQ(0, put(self->fd, d.slot));
		EXPECT_EQ(0, put(pfd, p.slot));
		/* past the partition's end is refused */
		EXPECT_EQ(-EINVAL, stage(pfd, len - 4, 1, 0, &p));
		close(pfd);
	}
	ASSERT_EQ(0, disk_write(0, saved, 512));
	EXPECT_EQ(0, ioctl(dfd, BLKRRPART));
	close(dfd);
}

/* Unloading the provider revokes (UNLOAD) and writes back first; reloading finds the CMB again. */
TEST_F(cmb, unload_with_live_chunks_revokes_and_writes_back)
{
	static char buf[PAGE] __attribute__((aligned(4096)));
	static char want[PAGE];
	struct p2pmap_test_cmb_stage r, w;
	struct p2pmap_test_cmb_status s;
	int64_t sr = sector_of(800 * PAGE, 4 * PAGE), sw = sector_of(900 * PAGE, PAGE);

	ASSERT_LE(0, sr);
	ASSERT_LE(0, sw);
	ASSERT_EQ(0, stage(self->fd, sr, 4, 0, &r));
	ASSERT_EQ(0, stage(self->fd, sw, 1, STAGE_WRITE, &w));
	fill(want, ~SEED, 900 * PAGE, PAGE);
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, w.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	ASSERT_EQ(0, system("rmmod p2pmap_nvme_cmb"));
	ASSERT_EQ(0, status(self->fd, r.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_UNLOAD, s.slot_cause);
	ASSERT_EQ(0, status(self->fd, w.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ(0U, s.live);
	EXPECT_EQ(-ENODEV, stage(self->fd, sr, 4, 0, &r));
	/* the device's write reached the disk before the module went */
	ASSERT_EQ(0, disk_read(sw, buf, PAGE));
	EXPECT_EQ(0, memcmp(buf, want, PAGE));
	fill(buf, SEED, 900 * PAGE, PAGE);
	ASSERT_EQ(0, disk_write(sw, buf, PAGE));
	ASSERT_EQ(0, system("modprobe p2pmap_nvme_cmb"));
	ASSERT_EQ(0, wait_for(cmb_live, 30));
	ASSERT_EQ(0, stage(self->fd, sr, 4, 0, &r));
	EXPECT_EQ(0, check_slot(self->fd, r.slot, sr, 800 * PAGE, 0, 4, SEED));
	EXPECT_EQ(0, put(self->fd, r.slot));
}

/* A read error while staging fails the request with -EIO and frees its pages. */
TEST_F(cmb, io_error_fails_the_request_and_frees_its_pages)
{
	static char buf[16 * PAGE] __attribute__((aligned(4096)));
	const char *fi = "/sys/kernel/debug/fail_make_request";
	struct p2pmap_test_cmb_stage st;
	int64_t sector = sector_of(7000 * PAGE, 16 * PAGE);
	long long errors = cmb_stat("stats", "errors"), in_use;
	char path[128];
	int ret;

	if (access(fi, F_OK))
		SKIP(return, "no fail_make_request (CONFIG_FAIL_MAKE_REQUEST)");
	if (fs_mounted())
		SKIP(return, "failing every bio would break the mounted file system");
	ASSERT_LE(0, sector);
	/* rewriting the blocks (same bytes) drops any cached copy of them */
	fill(buf, SEED, 7000 * PAGE, sizeof(buf));
	ASSERT_EQ(0, disk_write(sector, buf, sizeof(buf)));
	in_use = cmb_stat("stats", "in_use");
	snprintf(path, sizeof(path), "%s/verbose", fi);
	ASSERT_EQ(0, write_sysfs(path, "0"));
	snprintf(path, sizeof(path), "%s/probability", fi);
	ASSERT_EQ(0, write_sysfs(path, "100"));
	snprintf(path, sizeof(path), "%s/times", fi);
	ASSERT_EQ(0, write_sysfs(path, "-1"));
	ASSERT_EQ(0, write_sysfs("/sys/block/nvme0n1/make-it-fail", "1"));
	ret = stage(self->fd, sector, 16, 0, &st);
	ASSERT_EQ(0, write_sysfs("/sys/block/nvme0n1/make-it-fail", "0"));
	EXPECT_EQ(-EIO, ret);
	EXPECT_LT(errors, cmb_stat("stats", "errors"));
	EXPECT_GE(in_use, cmb_stat("stats", "in_use"));
	/* nothing of the failed read stays cached: the next stage reads again */
	ASSERT_EQ(0, stage(self->fd, sector, 16, 0, &st));
	EXPECT_EQ(0, check_slot(self->fd, st.slot, sector, 7000 * PAGE, 0, 16, SEED));
	EXPECT_EQ(0, put(self->fd, st.slot));
}

/*
 * Orderly removal (sysfs remove) with live chunks: holders are revoked,
 * dirty data is written back before nvme goes; after a rescan the CMB is
 * found again and works. Only without a mounted file system.
 */
TEST_F(cmb, remove_and_rescan_with_live_chunks)
{
	static char buf[PAGE] __attribute__((aligned(4096)));
	static char want[PAGE];
	struct p2pmap_test_cmb_stage r, w;
	struct p2pmap_test_cmb_status s;
	int64_t sr = sector_of(400 * PAGE, 8 * PAGE), sw = sector_of(500 * PAGE, PAGE);
	long long lost, wb, lost_after = -1, wb_after = -1;
	int fd2;

	if (fs_mounted())
		SKIP(return, "a file system is mounted on " DISK " (run with --fs none)");
	ASSERT_LE(0, sr);
	ASSERT_EQ(0, stage(self->fd, sr, 8, 0, &r));
	ASSERT_EQ(0, stage(self->fd, sw, 1, STAGE_WRITE, &w));
	fill(want, ~SEED, 500 * PAGE, PAGE);
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, w.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	lost = cmb_stat("stats", "lost");
	wb = cmb_stat("stats", "written_back");
	/* the test module holds DISK open: removal must not wait for it */
	ASSERT_EQ(0, write_sysfs("/sys/bus/pci/devices/0000:03:00.0/remove", "1"));
	/* orderly: the dirty page was written back, nothing more was lost */
	ASSERT_EQ(0, detach_note(&lost_after, &wb_after));
	EXPECT_EQ(lost, lost_after);
	EXPECT_EQ(wb + (long long)PAGE, wb_after);
	ASSERT_EQ(0, status(self->fd, r.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_GONE, s.slot_cause);
	EXPECT_EQ(0U, s.live);
	EXPECT_EQ(-ENODEV, stage(self->fd, sr, 8, 0, &r));
	EXPECT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_CLOSE));

	ASSERT_EQ(0, write_sysfs("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, wait_for(disk_present, 30));
	ASSERT_EQ(0, wait_for(cmb_live, 30));
	/* the dirty page was written back before the controller went */
	ASSERT_EQ(0, disk_read(sw, buf, PAGE));
	EXPECT_EQ(0, memcmp(buf, want, PAGE));
	fill(buf, SEED, 500 * PAGE, PAGE);
	ASSERT_EQ(0, disk_write(sw, buf, PAGE));
	fd2 = cmb_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, stage(fd2, sr, 8, 0, &r));
	EXPECT_EQ(0, check_slot(fd2, r.slot, sr, 400 * PAGE, 0, 8, SEED));
	close(fd2);
}

/* Offset of the PCI Express capability in @cfg (256 bytes), or 0. */
static int pcie_cap(const unsigned char *cfg)
{
	int pos = cfg[0x34] & ~3, n;

	for (n = 0; pos >= 0x40 && n < 48; n++, pos = cfg[pos + 1] & ~3)
		if (cfg[pos] == 0x10)
			return pos;
	return 0;
}

static const char *ctrl_pci = "/sys/bus/pci/devices/0000:03:00.0";

static int ctrl_vendor(void)
{
	char path[128];
	uint16_t vendor = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/config", ctrl_pci);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &vendor, 2, 0) != 2)
		vendor = 0;
	close(fd);
	return vendor;
}

/*
 * A thread staging 8 MiB ranges of its own 96 MiB of the raw disk (more
 * than the CMB: every request reads) until a request fails.
 */
struct stager {
	int fd;
	uint64_t base;
	volatile int done;
	int error;
	int count;
	double last_secs;
};

static void *stager_fn(void *arg)
{
	struct stager *st = arg;
	struct p2pmap_test_cmb_stage s;
	uint64_t off = 0;
	double t;
	int ret;

	for (;;) {
		t = now_s();
		ret = stage(st->fd, (st->base + off) / 512, 2048, 0, &s);
		st->last_secs = now_s() - t;
		if (ret) {
			st->error = ret;
			break;
		}
		put(st->fd, s.slot);
		st->count++;
		off = (off + (8ULL << 20)) % (96ULL << 20);
	}
	st->done = 1;
	return NULL;
}

static int read_int(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atoi(buf);
}

static long long lost_before;

static int loss_seen(void)
{
	return cmb_stat("stats", "lost") > lost_before;
}

/*
 * Surprise removal with live chunks and reads in flight: the NVMe
 * controller vanishes from the bus while held (read and device-written)
 * and cached dirty chunks exist and two threads keep staging. The guest
 * turns the slot's power off behind its hot-plug driver (QEMU then unplugs
 * the controller at once, as yanking it would); the kernel learns of it
 * only afterwards: nvme when its I/O times out (shortened here to 2 s),
 * and through sysfs remove, what a hot-plug driver does on a
 * presence-detect change. Holders are revoked (PROVIDER_GONE), the dirty
 * bytes are counted lost, reads in flight and new requests fail -EIO,
 * nothing hangs. Runs last: the controller does not come back in this boot.
 */
TEST_F(cmb, surprise_removal_revokes_and_counts_lost)
{
	static char want[PAGE];
	struct p2pmap_test_cmb_stage r, w, d, late;
	struct p2pmap_test_cmb_status s;
	int64_t sr = sector_of(600 * PAGE, 8 * PAGE), sw = sector_of(700 * PAGE, PAGE);
	int64_t sd = sector_of(710 * PAGE, 2 * PAGE);
	long long lost, note_lost = -1, note_wb = -1, wb;
	char link[PATH_MAX], port[PATH_MAX], path[PATH_MAX + 16];
	unsigned char cfg[256];
	struct stager sa = { .base = 128ULL << 20 }, sb = { .base = 224ULL << 20 };
	pthread_t ta, tb;
	int admin_timeout, i, with_io;
	long long inflight = 0, inflight_before = 0;
	uint16_t sltctl;
	ssize_t n;
	int pos, cfd;

	if (fs_mounted())
		SKIP(return, "a file system is mounted on " DISK " (run with --fs none)");
	ASSERT_LE(0, sr);
	ASSERT_LE(0, sw);
	ASSERT_LE(0, sd);
	/* the slot: the PCIe downstream port above the controller */
	n = readlink(ctrl_pci, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	snprintf(port, sizeof(port), "/sys/bus/pci/devices/%s", basename(dirname(link)));
	snprintf(path, sizeof(path), "%s/config", port);
	cfd = open(path, O_RDWR);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(256, pread(cfd, cfg, sizeof(cfg), 0));
	pos = pcie_cap(cfg);
	ASSERT_LT(0, pos);
	/* Slot Capabilities: Power Controller Present (QEMU's downstream port) */
	ASSERT_TRUE(cfg[pos + 0x14] & 0x02);
	memcpy(&sltctl, cfg + pos + 0x18, 2);
	TH_LOG("slot %s: SltCtl 0x%04x", port, sltctl);

	ASSERT_EQ(0, stage(self->fd, sr, 8, 0, &r));
	ASSERT_EQ(0, stage(self->fd, sw, 1, STAGE_WRITE, &w));
	fill(want, ~SEED, 0, PAGE);
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, w.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	ASSERT_EQ(0, stage(self->fd, sd, 2, STAGE_WRITE, &d));
	ASSERT_EQ(0, cmb_io(self->fd, P2PMAP_TEST_CMB_WRITE, d.slot,
			    P2PMAP_TEST_CMB_CPU, 0, want, PAGE));
	ASSERT_EQ(0, put(self->fd, d.slot));	/* dirty, cached */
	lost_before = lost = cmb_stat("stats", "lost");
	wb = cmb_stat("stats", "written_back");

	/*
	 * Reads in flight at the unplug make nvme-pci time out, and 6.1's
	 * nvme_timeout() -> nvme_dev_disable() trips lockdep by itself
	 * (shutdown_lock vs the queue's timeout_work; reproduced with no
	 * project module loaded), which also turns lockdep off for the rest
	 * of the boot: on a lockdep kernel the unplug happens without them.
	 */
	with_io = access("/proc/lockdep", F_OK) != 0;
	if (!with_io)
		TH_LOG("lockdep kernel: no reads in flight at the unplug (nvme-pci's own timeout path trips lockdep)");
	/* nvme gives up on lost I/O after 2 s (I/O) + 2 s (its abort) */
	admin_timeout = read_int("/sys/module/nvme_core/parameters/admin_timeout");
	if (with_io) {
		ASSERT_EQ(0, write_sysfs("/sys/module/nvme_core/parameters/admin_timeout", "2"));
		ASSERT_EQ(0, write_sysfs("/sys/block/nvme0n1/queue/io_timeout", "2000"));
		sa.fd = cmb_open();
		sb.fd = cmb_open();
		ASSERT_LE(0, sa.fd);
		ASSERT_LE(0, sb.fd);
		ASSERT_EQ(0, pthread_create(&ta, NULL, stager_fn, &sa));
		ASSERT_EQ(0, pthread_create(&tb, NULL, stager_fn, &sb));
		usleep(300 * 1000);
		/* unplug while reads are in flight */
		for (i = 0; i < 5000 && inflight_before <= 0; i++)
			inflight_before = cmb_stat("info", "inflight");
	}

	/* power and power indicator off: QEMU unplugs the controller */
	sltctl |= 0x0400 | 0x0300;
	n = pwrite(cfd, &sltctl, 2, pos + 0x18);
	inflight = cmb_stat("info", "inflight");	/* right after the unplug */
	close(cfd);
	ASSERT_EQ(2, n);
	EXPECT_EQ(0xffff, ctrl_vendor());	/* gone from the bus */
	/* noticed by the provider (CMBMSC no longer ours), no bio needed */
	ASSERT_EQ(0, wait_for(loss_seen, 10));
	EXPECT_EQ(-EIO, stage(self->fd, sector_of(720 * PAGE, PAGE), 1, 0, &late));
	ASSERT_EQ(0, status(self->fd, r.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_GONE, s.slot_cause);
	ASSERT_EQ(0, status(self->fd, w.slot, &s));
	EXPECT_EQ((__u32)P2PMAP_TEST_CMB_REVOKED, s.slot_state);
	EXPECT_EQ((__u32)REVOKE_GONE, s.slot_cause);
	EXPECT_EQ(0U, s.live);
	/* at least the held dirty page is lost */
	EXPECT_LE(lost + (long long)PAGE, cmb_stat("stats", "lost"));
	TH_LOG("CMBMSC after the unplug reads 0x%llx", cmb_stat("info", "cmbmsc"));

	/*
	 * The reads in flight end when nvme gives the controller up (its
	 * I/O and abort time out, its reset finds no controller, it unbinds
	 * itself: the provider detaches then).
	 */
	if (with_io) {
		for (i = 0; i < 600 && !(sa.done && sb.done); i++)
			usleep(100 * 1000);
		ASSERT_TRUE(sa.done && sb.done);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		/*
		 * Reads QEMU had started complete while it unplugs (their
		 * completion then finds CMBMSC gone: -EIO); reads it had not
		 * picked up never complete, and nvme times them out.
		 */
		TH_LOG("extents' I/O in flight: %lld before the unplug, %lld after; stagers: %d + %d ranges, then %d after %.1f s, %d after %.1f s",
		       inflight_before, inflight, sa.count, sb.count, sa.error,
		       sa.last_secs, sb.error, sb.last_secs);
		EXPECT_LT(0, inflight_before);
		EXPECT_LT(0, sa.count);
		EXPECT_LT(0, sb.count);
		EXPECT_EQ(-EIO, sa.error);
		EXPECT_EQ(-EIO, sb.error);
		close(sa.fd);
		close(sb.fd);
	}
	if (with_io && admin_timeout > 0) {
		char v[16];

		snprintf(v, sizeof(v), "%d", admin_timeout);
		write_sysfs("/sys/module/nvme_core/parameters/admin_timeout", v);
	}

	/* the kernel removes the function it can no longer reach */
	ASSERT_EQ(0, write_sysfs("/sys/bus/pci/devices/0000:03:00.0/remove", "1"));
	ASSERT_EQ(0, detach_note(&note_lost, &note_wb));
	/*
	 * The held dirty page is lost; the cached dirty 2 pages are lost too,
	 * unless the stagers evicted them (written back) before the unplug.
	 */
	EXPECT_LE(lost + (long long)PAGE, note_lost);
	EXPECT_EQ(3 * (long long)PAGE, note_lost - lost + note_wb - wb);
	EXPECT_EQ(-ENODEV, stage(self->fd, sr, 8, 0, &late));
	EXPECT_EQ(0, put(self->fd, r.slot));
	EXPECT_EQ(0, put(self->fd, w.slot));
	EXPECT_EQ(0, ioctl(self->fd, P2PMAP_TEST_CMB_CLOSE));
	EXPECT_EQ(0, disk_present());
}

TEST_HARNESS_MAIN
