// SPDX-License-Identifier: GPL-2.0
/*
 * fs-hooks (p2pmap_fs.ko): the device-map callbacks of XFS and ext4,
 * called through tests/modules/p2pmap_test_fsmap.ko exactly as the core
 * calls them, and compared with what user space sees: FIEMAP, the raw
 * block device, the file's bytes. Also the changes that no mmu notifier
 * reports (online defragmentation, reflink of a mapped file) and the
 * revalidation that catches them. Runs in a directory of the file system
 * under test; every test knows which one it is on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/p2pmap.h>
#include "../modules/p2pmap_test_fsmap.h"

#include "kselftest_harness.h"
#include "jsonflat.h"

#define PAGE		4096L
#define SECTORS		(PAGE / 512)
#define MAX_EXTENTS	1024

enum fs_kind { FS_OTHER, FS_XFS, FS_EXT4 };

static void fill(void *p, unsigned long len, unsigned int seed,
		 unsigned long first_page)
{
	unsigned int *w = p;
	unsigned long i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = seed * 2654435761u + first_page * (PAGE / 4) + i + 1;
}

/* Write pages [first, first + n) of @fd with fill(seed), page-aligned. */
static int write_pages(int fd, unsigned long first, unsigned long n,
		       unsigned int seed)
{
	void *buf;
	ssize_t done;

	if (posix_memalign(&buf, PAGE, n * PAGE))
		return -1;
	fill(buf, n * PAGE, seed, first);
	done = pwrite(fd, buf, n * PAGE, first * PAGE);
	free(buf);
	return done == (ssize_t)(n * PAGE) ? 0 : -1;
}

/* A file of @npages written pages, on disk (fsync). */
static int make_file(const char *name, unsigned long npages, unsigned int seed)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (npages && (write_pages(fd, 0, npages, seed) || fsync(fd))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A file of @npages pages whose blocks are interleaved with another
 * file's (written @chunk pages at a time with O_DIRECT, each chunk
 * synced), which is then deleted: fragments with free space between them.
 */
static int make_fragmented(const char *name, unsigned long npages,
			   unsigned long chunk, unsigned int seed)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	int other = open("filler", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	unsigned long i;
	int ret = -1;

	if (fd < 0 || other < 0)
		goto out;
	for (i = 0; i < npages; i += chunk) {
		if (write_pages(fd, i, chunk, seed) || fsync(fd) ||
		    write_pages(other, i, chunk, seed + 1) || fsync(other))
			goto out;
	}
	ret = 0;
out:
	if (other >= 0)
		close(other);
	unlink("filler");
	if (fd >= 0)
		close(fd);
	return ret ? -1 : open(name, O_RDWR);
}

struct extents {
	int n;
	struct fiemap_extent e[MAX_EXTENTS];
};

/* FIEMAP of the whole file, without FIEMAP_FLAG_SYNC: nothing is written. */
static int fiemap_get(int fd, struct extents *x)
{
	struct fiemap *fm = calloc(1, sizeof(*fm) +
				   MAX_EXTENTS * sizeof(struct fiemap_extent));
	int ret;

	if (!fm)
		return -1;
	fm->fm_start = 0;
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_extent_count = MAX_EXTENTS;
	ret = ioctl(fd, FS_IOC_FIEMAP, fm);
	if (!ret) {
		x->n = fm->fm_mapped_extents;
		memcpy(x->e, fm->fm_extents, x->n * sizeof(x->e[0]));
	}
	free(fm);
	return ret;
}

/* The FIEMAP extent holding file byte @off, or NULL for a hole. */
static const struct fiemap_extent *fiemap_at(const struct extents *x,
					     unsigned long long off)
{
	int i;

	for (i = 0; i < x->n; i++)
		if (off >= x->e[i].fe_logical &&
		    off < x->e[i].fe_logical + x->e[i].fe_length)
			return &x->e[i];
	return NULL;
}

/* Device byte of file byte @off per FIEMAP, or -1 (hole, delalloc, ...). */
static long long fiemap_phys(const struct extents *x, unsigned long long off)
{
	const struct fiemap_extent *e = fiemap_at(x, off);

	if (!e || (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN |
				  FIEMAP_EXTENT_DELALLOC |
				  FIEMAP_EXTENT_DATA_INLINE)))
		return -1;
	return e->fe_physical + (off - e->fe_logical);
}

static unsigned int fiemap_flags(const struct extents *x,
				 unsigned long long off)
{
	const struct fiemap_extent *e = fiemap_at(x, off);

	return e ? e->fe_flags : 0;
}

/* An extent as the callbacks describe it, in types the checks compare. */
struct fsext {
	long pgoff;
	long npages;
	long long sector;
	unsigned long long cookie;
	int reason;
	unsigned int major;
	unsigned int minor;
};

static int fsmap_flags(int dev, int fd, unsigned long pgoff,
		       unsigned long npages, unsigned int flags, struct fsext *x)
{
	struct p2pmap_test_fsmap m = {
		.fd = fd,
		.flags = flags,
		.pgoff = pgoff,
		.npages = npages,
	};

	memset(x, 0, sizeof(*x));
	if (ioctl(dev, P2PMAP_TEST_FSMAP_MAP, &m))
		return -errno;
	x->pgoff = m.ext_pgoff;
	x->npages = m.ext_npages;
	x->sector = m.sector;
	x->cookie = m.cookie;
	x->reason = m.reason;
	x->major = m.bdev_major;
	x->minor = m.bdev_minor;
	return m.result;
}

static int fsmap(int dev, int fd, unsigned long pgoff, unsigned long npages,
		 struct fsext *x)
{
	return fsmap_flags(dev, fd, pgoff, npages, 0, x);
}

static int revalidate(int dev, int fd, const struct fsext *x)
{
	struct p2pmap_test_fsmap m = {
		.fd = fd,
		.pgoff = x->pgoff,
		.npages = x->npages,
		.sector = x->sector,
		.cookie = x->cookie,
	};

	if (ioctl(dev, P2PMAP_TEST_FSMAP_REVALIDATE, &m))
		return -errno;
	return m.result;
}

static int watch(int dev, void *addr, unsigned long len)
{
	struct p2pmap_test_fsmap_watch w = {
		.addr = (uintptr_t)addr,
		.length = len,
	};

	return ioctl(dev, P2PMAP_TEST_FSMAP_WATCH, &w) ? -errno : 0;
}

static int watch_read(int dev, struct p2pmap_test_fsmap_watch *w)
{
	memset(w, 0, sizeof(*w));
	return ioctl(dev, P2PMAP_TEST_FSMAP_WATCH_READ, w) ? -errno : 0;
}

/* Open the block device @major:@minor (its node from sysfs) for O_DIRECT. */
static int open_bdev(unsigned int major, unsigned int minor)
{
	char path[160], line[128], *name = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "DEVNAME=", 8)) {
			line[strcspn(line, "\n")] = '\0';
			name = line + 8;
			break;
		}
	fclose(f);
	if (!name)
		return -1;
	snprintf(path, sizeof(path), "/dev/%s", name);
	return open(path, O_RDONLY | O_DIRECT);
}

/* Do the blocks at @sector of the extent's device hold @expect (one page)? */
static int device_holds(const struct fsext *m,
			unsigned long long sector, const void *expect)
{
	int fd = open_bdev(m->major, m->minor);
	void *buf = NULL;
	int same = -1;

	if (fd < 0 || posix_memalign(&buf, PAGE, PAGE))
		goto out;
	if (pread(fd, buf, PAGE, sector * 512) != (ssize_t)PAGE)
		goto out;
	same = !memcmp(buf, expect, PAGE);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return same;
}

/* Does page @pgoff of the extent's device hold fill(seed) for that page? */
static int device_holds_page(const struct fsext *m,
			     unsigned long pgoff, unsigned int seed)
{
	unsigned char expect[PAGE];

	fill(expect, PAGE, seed, pgoff);
	return device_holds(m, m->sector + (pgoff - m->pgoff) * SECTORS,
			    expect);
}

/* Is file byte @off of @fd delayed (dirty, no blocks yet) per FIEMAP? */
static int delalloc_at(int fd, unsigned long long off)
{
	struct extents *x = malloc(sizeof(*x));
	int ret = -1;

	if (x && !fiemap_get(fd, x))
		ret = !!(fiemap_flags(x, off) & FIEMAP_EXTENT_DELALLOC);
	free(x);
	return ret;
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

FIXTURE(fs)
{
	int dev;
	enum fs_kind kind;
	bool no_module;
	long blksize;
	struct extents *x;
};

FIXTURE_SETUP(fs)
{
	struct statfs sf;

	ASSERT_EQ(0, statfs(".", &sf));
	if (sf.f_type == XFS_SUPER_MAGIC)
		self->kind = FS_XFS;
	else if (sf.f_type == EXT4_SUPER_MAGIC)
		self->kind = FS_EXT4;
	else
		self->kind = FS_OTHER;
	self->blksize = sf.f_bsize;
	/* the rig loads every module it finds built */
	if (access("/sys/module/p2pmap_fs", F_OK) &&
	    run("modprobe p2pmap_fs 2>/dev/null")) {
		self->no_module = true;
		return;
	}
	if (access("/dev/p2pmap_test_fsmap", F_OK))
		ASSERT_EQ(0, run("modprobe p2pmap_test_fsmap"));
	self->dev = open("/dev/p2pmap_test_fsmap", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->dev, 0);
	self->x = malloc(sizeof(*self->x));
	ASSERT_NE(NULL, self->x);
}

FIXTURE_TEARDOWN(fs)
{
	free(self->x);
	if (self->dev > 0)
		close(self->dev);
}

#define NEED_FS_HOOKS() do { \
	if (self->no_module) \
		SKIP(return, "p2pmap_fs.ko is not built (fs-hooks/ not in the root Kbuild)"); \
	if (self->kind == FS_OTHER) \
		SKIP(return, "the test directory is neither XFS nor ext4"); \
} while (0)

/* Tests that expect blocks handed out need page-sized blocks, which are
 * page-aligned on the device (the rig's mkfs default); with smaller ones
 * most pages are NOT_ALIGNED, as page_alignment_decides checks. */
#define NEED_XFS_OR_EXT4() do { \
	NEED_FS_HOOKS(); \
	if (self->blksize < PAGE) \
		SKIP(return, "%ld-byte blocks: pages are seldom page-aligned on the device", \
		     self->blksize); \
} while (0)

/*
 * Check that extent @m is the longest run of @fd's blocks from its first
 * page that FIEMAP shows contiguous (at most @limit pages), on @fd's
 * device, and that the device holds the file's bytes at both of its ends.
 */
static void check_extent(struct __test_metadata *_metadata, int fd,
			 const struct extents *x,
			 const struct fsext *m, long limit, unsigned int seed)
{
	long long base = m->sector * 512;
	long i, last;
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(major(st.st_dev), m->major);
	EXPECT_EQ(minor(st.st_dev), m->minor);
	EXPECT_EQ(0, m->sector % SECTORS);
	for (i = 0; i < m->npages; i++)
		ASSERT_EQ((long long)(base + i * PAGE),
			  fiemap_phys(x, (m->pgoff + i) * PAGE))
			TH_LOG("page %ld", m->pgoff + i);
	last = m->pgoff + m->npages;
	if (last < limit)	/* the longest run: the next page is elsewhere */
		EXPECT_NE((long long)(base + m->npages * PAGE),
			  fiemap_phys(x, last * PAGE));
	EXPECT_EQ(1, device_holds_page(m, m->pgoff, seed));
	EXPECT_EQ(1, device_holds_page(m, last - 1, seed));
}

/* A written file maps, extent by extent, to the blocks FIEMAP shows. */
TEST_F(fs, written_file_maps_to_its_blocks)
{
	long n = 256, pg = 0;
	struct fsext m;
	int fd, extents = 0;

	NEED_XFS_OR_EXT4();
	fd = make_file("dense", n, 1);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fiemap_get(fd, self->x));
	while (pg < n) {
		ASSERT_EQ(0, fsmap(self->dev, fd, pg, n - pg, &m));
		ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
		ASSERT_EQ(pg, m.pgoff);
		ASSERT_GE(n - pg, m.npages);
		ASSERT_LT(0, m.npages);
		check_extent(_metadata, fd, self->x, &m, n, 1);
		pg += m.npages;
		extents++;
	}
	TH_LOG("%ld pages in %d extents", n, extents);
	close(fd);
}

/* Fragmented files map to one extent per run of contiguous blocks. */
TEST_F(fs, fragmented_file_maps_run_by_run)
{
	long n = 64, pg = 0;
	struct fsext m;
	int fd, extents = 0;

	NEED_XFS_OR_EXT4();
	fd = make_fragmented("frag", n, 4, 2);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fiemap_get(fd, self->x));
	ASSERT_LT(1, self->x->n) TH_LOG("the file did not fragment");
	while (pg < n) {
		ASSERT_EQ(0, fsmap(self->dev, fd, pg, n - pg, &m));
		ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
		check_extent(_metadata, fd, self->x, &m, n, 2);
		pg += m.npages;
		extents++;
	}
	EXPECT_LT(1, extents);
	close(fd);
}

/*
 * A page is handed out only when its blocks are contiguous and start at a
 * page-aligned sector; otherwise it is NOT_ALIGNED. With page-sized blocks
 * every written page qualifies; with smaller ones FIEMAP decides.
 */
TEST_F(fs, page_alignment_decides)
{
	long n = 64, pg, b, aligned = 0;
	struct fsext m;
	int fd;

	NEED_FS_HOOKS();
	fd = make_file("aligned", n, 17);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fiemap_get(fd, self->x));
	for (pg = 0; pg < n; pg++) {
		long long phys = fiemap_phys(self->x, pg * PAGE);
		int ok = phys >= 0 && phys % PAGE == 0;

		for (b = 1; ok && b < PAGE / self->blksize; b++)
			ok = fiemap_phys(self->x, pg * PAGE + b * self->blksize) ==
			     phys + b * self->blksize;
		ASSERT_EQ(0, fsmap(self->dev, fd, pg, 1, &m));
		if (ok) {
			EXPECT_EQ(P2PMAP_REASON_NONE, m.reason) TH_LOG("page %ld", pg);
			EXPECT_EQ(phys / 512, m.sector);
			aligned++;
		} else {
			EXPECT_EQ(P2PMAP_REASON_NOT_ALIGNED, m.reason) TH_LOG("page %ld", pg);
		}
	}
	TH_LOG("%ld-byte blocks: %ld of %ld pages page-aligned", self->blksize,
	       aligned, n);
	if (self->blksize >= PAGE)
		EXPECT_EQ(n, aligned);
	close(fd);
}

/* A hole is reported as one HOLE extent of exactly its length. */
TEST_F(fs, hole_is_reported_with_its_length)
{
	struct fsext m;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("holey", 0, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, write_pages(fd, 0, 1, 3));
	ASSERT_EQ(0, write_pages(fd, 100, 1, 3));
	ASSERT_EQ(0, fsync(fd));

	ASSERT_EQ(0, fsmap(self->dev, fd, 1, 200, &m));
	EXPECT_EQ(P2PMAP_REASON_HOLE, m.reason);
	EXPECT_EQ(1, m.pgoff);
	EXPECT_EQ(99, m.npages);
	EXPECT_EQ(0U, m.major);
	ASSERT_EQ(0, fsmap(self->dev, fd, 50, 10, &m));
	EXPECT_EQ(P2PMAP_REASON_HOLE, m.reason);
	EXPECT_EQ(10, m.npages);
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 200, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, m.npages);
	EXPECT_EQ(1, device_holds_page(&m, 0, 3));
	/* the last page: the extent ends at end of file */
	ASSERT_EQ(0, fsmap(self->dev, fd, 100, 8, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, m.npages);
	EXPECT_EQ(1, device_holds_page(&m, 100, 3));
	close(fd);
}

/* Pages at or past the end of the file are an error, as for the CPU: -EFAULT. */
TEST_F(fs, past_end_of_file_is_efault)
{
	struct fsext m;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("short", 3, 4);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EFAULT, fsmap(self->dev, fd, 3, 1, &m));
	EXPECT_EQ(-EFAULT, fsmap(self->dev, fd, ~0UL >> 12, 1, &m));
	ASSERT_EQ(0, ftruncate(fd, 0));
	EXPECT_EQ(-EFAULT, fsmap(self->dev, fd, 0, 1, &m));
	/* a partial last page is part of the file, and served */
	ASSERT_EQ(0, write_pages(fd, 0, 2, 4));
	ASSERT_EQ(0, ftruncate(fd, PAGE + 100));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsmap(self->dev, fd, 1, 16, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, m.npages);
	EXPECT_EQ(-EFAULT, fsmap(self->dev, fd, 2, 1, &m));
	close(fd);
}

/* Bad arguments are refused with -EINVAL and change nothing. */
TEST_F(fs, bad_arguments_are_einval)
{
	struct p2pmap_test_fsmap raw = { };
	struct fsext m;
	int fd, dir;

	NEED_XFS_OR_EXT4();
	fd = make_file("args", 2, 5);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EINVAL, fsmap(self->dev, fd, 0, 0, &m));
	raw.fd = fd;
	raw.npages = 1;
	raw.flags = 1U << 7;
	ASSERT_EQ(0, ioctl(self->dev, P2PMAP_TEST_FSMAP_MAP, &raw));
	EXPECT_EQ(-EINVAL, raw.result);
	dir = open(".", O_RDONLY | O_DIRECTORY);
	ASSERT_GE(dir, 0);
	EXPECT_EQ(-EINVAL, fsmap(self->dev, dir, 0, 1, &m));
	close(dir);
	/* revalidation takes only extents of blocks, with the file's length */
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 2, &m));
	ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
	m.npages = 0;
	EXPECT_EQ(-EINVAL, revalidate(self->dev, fd, &m));
	close(fd);
}

/* A file system without hooks (tmpfs) has no callbacks at all. */
TEST_F(fs, tmpfs_has_no_callbacks)
{
	struct fsext m;
	int fd;

	NEED_FS_HOOKS();
	fd = open("/tmp/p2pmap-fs-hooks", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, write_pages(fd, 0, 1, 6));
	EXPECT_EQ(-EOPNOTSUPP, fsmap(self->dev, fd, 0, 1, &m));
	close(fd);
	unlink("/tmp/p2pmap-fs-hooks");
}

/*
 * Preallocated (unwritten) blocks are UNWRITTEN, whether or not the page
 * cache holds their (zero) pages, and device_map leaves the file offset
 * (the user's f_pos) alone.
 */
TEST_F(fs, unwritten_range_is_reported)
{
	struct fsext m;
	char buf[PAGE];
	unsigned long i;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("prealloc", 0, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, write_pages(fd, 0, 1, 7));
	ASSERT_EQ(0, fallocate(fd, 0, PAGE, 31 * PAGE));
	ASSERT_EQ(0, write_pages(fd, 32, 1, 7));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fiemap_get(fd, self->x));
	ASSERT_NE(0U, fiemap_flags(self->x, PAGE) & FIEMAP_EXTENT_UNWRITTEN);
	ASSERT_EQ(123, lseek(fd, 123, SEEK_SET));

	/* the pages are not cached: SEEK_DATA tells them from written ones */
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	ASSERT_EQ(0, fsmap(self->dev, fd, 1, 64, &m));
	EXPECT_EQ(P2PMAP_REASON_UNWRITTEN, m.reason);
	EXPECT_EQ(31, m.npages);
	EXPECT_EQ(123, lseek(fd, 0, SEEK_CUR));

	/* cached zero pages: still UNWRITTEN */
	for (i = 1; i < 32; i++)
		ASSERT_EQ((ssize_t)PAGE, pread(fd, buf, PAGE, i * PAGE));
	ASSERT_EQ(0, fsmap(self->dev, fd, 1, 64, &m));
	EXPECT_EQ(P2PMAP_REASON_UNWRITTEN, m.reason);
	EXPECT_EQ(31, m.npages);

	/* the written page before it is its own extent */
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 64, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, m.npages);
	ASSERT_EQ(0, fsmap(self->dev, fd, 32, 1, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	close(fd);
}

/*
 * Dirty pages in the range (delayed allocation) are written back, the
 * range only, and then mapped: the device holds what write(2) wrote.
 */
TEST_F(fs, dirty_range_is_written_back_then_mapped)
{
	long n = 16, pg = 0;
	struct fsext m, first;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("dirty", 0, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, write_pages(fd, 0, n, 8));
	ASSERT_EQ(1, delalloc_at(fd, 0)) TH_LOG("the write was not delayed");
	while (pg < n) {
		ASSERT_EQ(0, fsmap(self->dev, fd, pg, n - pg, &m));
		ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
		if (!pg)
			first = m;	/* the call that wrote the range back */
		pg += m.npages;
	}
	EXPECT_EQ(0, delalloc_at(fd, 0));
	/* the write-back it did itself does not make its answer stale */
	EXPECT_EQ(0, revalidate(self->dev, fd, &first));
	ASSERT_EQ(0, fiemap_get(fd, self->x));
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, n, &m));
	check_extent(_metadata, fd, self->x, &m, n, 8);
	close(fd);
}

/*
 * A clean range of a file with dirty pages elsewhere is refused (DIRTY)
 * rather than mapped: bmap() would write back the whole file. The dirty
 * page elsewhere stays dirty (still delayed).
 */
TEST_F(fs, dirty_elsewhere_is_refused_without_flush)
{
	struct fsext m;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("dirty-elsewhere", 32, 9);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, write_pages(fd, 64, 1, 9));
	ASSERT_EQ(1, delalloc_at(fd, 64 * PAGE));
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 32, &m));
	EXPECT_EQ(P2PMAP_REASON_DIRTY, m.reason);
	EXPECT_EQ(32, m.npages);
	EXPECT_EQ(1, delalloc_at(fd, 64 * PAGE));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 32, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	close(fd);
}

/* A probe (p2pmap check) writes nothing back: a dirty range is DIRTY. */
TEST_F(fs, probe_writes_nothing_back)
{
	struct fsext m;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("probe", 0, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, write_pages(fd, 0, 8, 16));
	ASSERT_EQ(1, delalloc_at(fd, 0));
	ASSERT_EQ(0, fsmap_flags(self->dev, fd, 0, 8, P2PMAP_TEST_FSMAP_PROBE,
				 &m));
	EXPECT_EQ(P2PMAP_REASON_DIRTY, m.reason);
	EXPECT_EQ(8, m.npages);
	EXPECT_EQ(1, delalloc_at(fd, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fsmap_flags(self->dev, fd, 0, 8, P2PMAP_TEST_FSMAP_PROBE,
				 &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, device_holds_page(&m, 0, 16));
	/* a device write is described like a read */
	ASSERT_EQ(0, fsmap_flags(self->dev, fd, 0, 8, P2PMAP_TEST_FSMAP_WRITE,
				 &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	close(fd);
}

/* A store through a shared mapping is written back before the range maps. */
TEST_F(fs, mmap_store_is_written_back_then_mapped)
{
	unsigned char expect[PAGE];
	struct fsext m;
	unsigned char *p;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("stored", 8, 10);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[3 * PAGE + 5] ^= 0xff;
	memcpy(expect, p + 3 * PAGE, PAGE);
	ASSERT_EQ(0, fsmap(self->dev, fd, 3, 1, &m));
	ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, device_holds(&m, m.sector, expect));
	munmap(p, 8 * PAGE);
	close(fd);
}

/*
 * XFS: both sides of a reflink are SHARED, whether their pages are cached
 * (source) or not (clone, and the source after it is dropped). ext4 has no
 * reflink: FICLONE fails with EOPNOTSUPP, the clone stays empty, and the
 * source still maps to its own, unshared blocks.
 */
TEST_F(fs, reflink_shares_both_files_or_is_refused)
{
	struct fsext m;
	struct stat st;
	int src, dst;

	NEED_XFS_OR_EXT4();
	src = make_file("reflink-src", 64, 11);
	ASSERT_GE(src, 0);
	dst = open("reflink-dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(dst, 0);
	if (self->kind == FS_EXT4) {
		EXPECT_EQ(-1, ioctl(dst, FICLONE, src));
		EXPECT_EQ(EOPNOTSUPP, errno);
		ASSERT_EQ(0, fstat(dst, &st));
		EXPECT_EQ(0, st.st_size);
		ASSERT_EQ(0, fiemap_get(src, self->x));
		EXPECT_EQ(0U, fiemap_flags(self->x, 0) & FIEMAP_EXTENT_SHARED);
		ASSERT_EQ(0, fsmap(self->dev, src, 0, 64, &m));
		EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
		check_extent(_metadata, src, self->x, &m, 64, 11);
		goto out;
	}
	ASSERT_EQ(0, ioctl(dst, FICLONE, src))
		TH_LOG("FICLONE on XFS: %s (mkfs.xfs -m reflink=1 is the default)",
		       strerror(errno));
	ASSERT_EQ(0, fiemap_get(src, self->x));
	ASSERT_NE(0U, fiemap_flags(self->x, 0) & FIEMAP_EXTENT_SHARED);

	ASSERT_EQ(0, fsmap(self->dev, src, 0, 64, &m));	/* cached */
	EXPECT_EQ(P2PMAP_REASON_SHARED, m.reason);
	EXPECT_EQ(64, m.npages);
	ASSERT_EQ(0, fsmap(self->dev, dst, 0, 64, &m));	/* not cached */
	EXPECT_EQ(P2PMAP_REASON_SHARED, m.reason);
	EXPECT_EQ(64, m.npages);
	ASSERT_EQ(0, posix_fadvise(src, 0, 0, POSIX_FADV_DONTNEED));
	ASSERT_EQ(0, fsmap(self->dev, src, 10, 64, &m));
	EXPECT_EQ(P2PMAP_REASON_SHARED, m.reason);
	EXPECT_EQ(54, m.npages);
out:
	close(dst);
	close(src);
}

/* An extent nothing touched revalidates; one whose page was written does not. */
TEST_F(fs, revalidate_sees_writes)
{
	struct fsext m, m2;
	int fd;

	NEED_XFS_OR_EXT4();
	fd = make_file("reval", 8, 12);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 8, &m));
	ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(0, revalidate(self->dev, fd, &m));
	EXPECT_EQ(0, revalidate(self->dev, fd, &m));

	/* dirty in the page cache: the blocks are no longer the truth */
	ASSERT_EQ(0, write_pages(fd, 2, 1, 13));
	EXPECT_EQ(-ESTALE, revalidate(self->dev, fd, &m));
	/* written back, same blocks: the data changed all the same */
	ASSERT_EQ(0, fsync(fd));
	EXPECT_EQ(-ESTALE, revalidate(self->dev, fd, &m));

	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 8, &m2));
	ASSERT_EQ(P2PMAP_REASON_NONE, m2.reason);
	EXPECT_EQ(m.sector, m2.sector);
	EXPECT_EQ(0, revalidate(self->dev, fd, &m2));
	EXPECT_EQ(1, device_holds_page(&m2, 2, 13));
	close(fd);
}

/*
 * Online defragmentation moves a mapped file's blocks (ext4: e4defrag,
 * EXT4_IOC_MOVE_EXT; XFS: xfs_fsr, XFS_IOC_SWAPEXT). What the mmu notifier
 * sees differs: ext4 never unmaps the pages (the gap), XFS truncates the
 * page cache first. Revalidation catches both, and a new device_map finds
 * the new blocks.
 */
TEST_F(fs, defrag_moves_blocks_revalidate_catches_it)
{
	long n = 64, pg, moved = 0;
	struct p2pmap_test_fsmap_watch w;
	struct fsext before[64], m;
	struct extents *old;
	volatile unsigned char *p;
	unsigned int sum = 0;
	char cmd[128];
	int fd, i, nb = 0;

	NEED_XFS_OR_EXT4();
	old = malloc(sizeof(*old));
	ASSERT_NE(NULL, old);
	fd = make_fragmented("defrag", n, 4, 14);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fiemap_get(fd, old));
	ASSERT_LT(1, old->n) TH_LOG("the file did not fragment");
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (pg = 0; pg < n; pg++)
		sum += p[pg * PAGE];	/* map every page in this process */
	ASSERT_EQ(0, watch(self->dev, (void *)p, n * PAGE));
	for (pg = 0; pg < n; pg += before[nb++].npages) {
		ASSERT_EQ(0, fsmap(self->dev, fd, pg, n - pg, &before[nb]));
		ASSERT_EQ(P2PMAP_REASON_NONE, before[nb].reason);
	}

	if (self->kind == FS_EXT4) {
		/* e4defrag finds the mount point in /etc/mtab */
		if (access("/etc/mtab", F_OK))
			ASSERT_EQ(0, symlink("/proc/mounts", "/etc/mtab"));
		snprintf(cmd, sizeof(cmd), "e4defrag defrag >/dev/null 2>&1");
	} else {
		snprintf(cmd, sizeof(cmd), "xfs_fsr -v defrag >/dev/null 2>&1");
	}
	EXPECT_EQ(0, run(cmd));
	ASSERT_EQ(0, fiemap_get(fd, self->x));
	for (pg = 0; pg < n; pg++)
		moved += fiemap_phys(old, pg * PAGE) !=
			 fiemap_phys(self->x, pg * PAGE);
	TH_LOG("%s: %d extents before, %d after, %ld pages moved",
	       self->kind == FS_EXT4 ? "e4defrag" : "xfs_fsr",
	       old->n, self->x->n, moved);
	ASSERT_LT(0, moved) TH_LOG("the defragmenter moved nothing");

	ASSERT_EQ(0, watch_read(self->dev, &w));
	TH_LOG("notifier: %llu clears, %llu protections, %llu others",
	       (unsigned long long)w.clears,
	       (unsigned long long)w.protections,
	       (unsigned long long)w.others);
	if (self->kind == FS_EXT4) {
		EXPECT_EQ(0ULL, w.clears);	/* the gap: nothing unmapped */
	} else {
		EXPECT_LT(0ULL, w.clears);	/* swapext truncates the page cache */
	}

	/*
	 * every extent whose blocks moved is stale, also once the pages that
	 * EXT4_IOC_MOVE_EXT dirtied are clean again (then only a new lookup of
	 * the blocks can tell)
	 */
	ASSERT_EQ(0, fsync(fd));
	for (i = 0; i < nb; i++) {
		int changed = 0;

		for (pg = before[i].pgoff;
		     pg < before[i].pgoff + before[i].npages; pg++)
			changed |= fiemap_phys(old, pg * PAGE) !=
				   fiemap_phys(self->x, pg * PAGE);
		if (changed)
			EXPECT_EQ(-ESTALE, revalidate(self->dev, fd, &before[i]))
				TH_LOG("extent at page %llu",
				       (unsigned long long)before[i].pgoff);
	}
	/* and a new device_map is the new truth */
	for (pg = 0; pg < n; pg += m.npages) {
		ASSERT_EQ(0, fsmap(self->dev, fd, pg, n - pg, &m));
		ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);
		check_extent(_metadata, fd, self->x, &m, n, 14);
	}
	/*
	 * XFS logs the swap, which moves i_version; EXT4_IOC_MOVE_EXT does not
	 * touch it: only looking the blocks up again found the move above
	 */
	if (self->kind == FS_EXT4) {
		EXPECT_EQ(before[0].cookie, m.cookie);
	} else {
		EXPECT_NE(before[0].cookie, m.cookie);
	}
	for (pg = 0; pg < n; pg++)
		sum -= p[pg * PAGE];
	EXPECT_EQ(0U, sum);
	munmap((void *)p, n * PAGE);
	close(fd);
	free(old);
}

/*
 * Reflink with a mapped file as the source: on XFS the source's pages stay
 * mapped (no notifier event takes them), its blocks become shared, and
 * revalidation reports the extent stale; device_map then says SHARED. On
 * ext4 FICLONE is refused (EOPNOTSUPP) and changes nothing: the extent
 * handed out still revalidates and device_map finds the same blocks.
 */
TEST_F(fs, reflink_of_mapped_source_is_stale_or_refused)
{
	long n = 32, pg;
	struct p2pmap_test_fsmap_watch w;
	struct fsext m, again;
	volatile unsigned char *p;
	unsigned int sum = 0;
	int src, dst, ret;

	NEED_XFS_OR_EXT4();
	src = make_file("src", n, 15);
	ASSERT_GE(src, 0);
	dst = open("clone", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(dst, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, src, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (pg = 0; pg < n; pg++)
		sum += p[pg * PAGE];
	ASSERT_EQ(0, watch(self->dev, (void *)p, n * PAGE));
	ASSERT_EQ(0, fsmap(self->dev, src, 0, n, &m));
	ASSERT_EQ(P2PMAP_REASON_NONE, m.reason);

	ret = ioctl(dst, FICLONE, src);
	if (self->kind == FS_EXT4) {
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EOPNOTSUPP, errno);
	} else {
		ASSERT_EQ(0, ret) TH_LOG("FICLONE on XFS: %s", strerror(errno));
	}
	ASSERT_EQ(0, watch_read(self->dev, &w));
	TH_LOG("notifier: %llu clears, %llu protections, %llu others",
	       (unsigned long long)w.clears,
	       (unsigned long long)w.protections,
	       (unsigned long long)w.others);
	EXPECT_EQ(0ULL, w.clears);	/* the gap: the source is not unmapped */
	ASSERT_EQ(0, fsmap(self->dev, src, 0, n, &again));
	if (self->kind == FS_EXT4) {
		EXPECT_EQ(0, revalidate(self->dev, src, &m));
		EXPECT_EQ(P2PMAP_REASON_NONE, again.reason);
		EXPECT_EQ(m.sector, again.sector);
		EXPECT_EQ(m.npages, again.npages);
		EXPECT_EQ(1, device_holds_page(&again, 0, 15));
	} else {
		EXPECT_EQ(-ESTALE, revalidate(self->dev, src, &m));
		EXPECT_EQ(P2PMAP_REASON_SHARED, again.reason);
		EXPECT_EQ(n, again.npages);
	}
	for (pg = 0; pg < n; pg++)
		sum -= p[pg * PAGE];
	EXPECT_EQ(0U, sum);
	munmap((void *)p, n * PAGE);
	close(dst);
	close(src);
}

/*
 * A small ext4 with inline_data, which mkfs.ext4 (and so the rig's ext4
 * pass) leaves off: made here on a loop device over a file of the file
 * system under test and mounted below the test's directory, on either pass.
 */
#define INLINE_IMG	"inline-ext4.img"
#define INLINE_DIR	"inline-ext4"

FIXTURE(inline_ext4)
{
	int dev;	/* /dev/p2pmap_test_fsmap */
	int fd;		/* a file on the image, closed before unmounting */
	bool mounted;
};

FIXTURE_SETUP(inline_ext4)
{
	int img;

	self->dev = -1;
	self->fd = -1;
	if (access("/sys/module/p2pmap_fs", F_OK) && run("modprobe p2pmap_fs 2>/dev/null"))
		SKIP(return, "p2pmap_fs.ko is not built (fs-hooks/ not in the root Kbuild)");
	if (access("/dev/loop-control", F_OK) && run("modprobe loop 2>/dev/null"))
		SKIP(return, "this kernel has no loop device (CONFIG_BLK_DEV_LOOP), which an ext4 image with inline_data needs here");
	if (access("/dev/p2pmap_test_fsmap", F_OK))
		ASSERT_EQ(0, run("modprobe p2pmap_test_fsmap"));
	self->dev = open("/dev/p2pmap_test_fsmap", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->dev, 0);

	img = open(INLINE_IMG, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(img, 0);
	ASSERT_EQ(0, ftruncate(img, 32L << 20));
	close(img);
	/* explicit: the guest has no /etc/mke2fs.conf, whose defaults for a
	 * small file system are 1 KiB blocks and 128-byte inodes */
	ASSERT_EQ(0, run("/sbin/mke2fs -q -F -t ext4 -b 4096 -I 256 -O inline_data " INLINE_IMG));
	ASSERT_EQ(0, mkdir(INLINE_DIR, 0755));
	ASSERT_EQ(0, run("mount -t ext4 -o loop " INLINE_IMG " " INLINE_DIR));
	self->mounted = true;
}

FIXTURE_TEARDOWN(inline_ext4)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev >= 0)
		close(self->dev);
	if (self->mounted)
		EXPECT_EQ(0, run("umount -d " INLINE_DIR));
	rmdir(INLINE_DIR);
	unlink(INLINE_IMG);
}

/* The output of @cmd (a JSON document), parsed into @j; the exit status is 0. */
static void json_of(struct __test_metadata *_metadata, const char *cmd,
		    struct jf *j)
{
	char *out = NULL;
	const char *p;
	size_t len = 0;
	FILE *f;

	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	ASSERT_LT(0, getdelim(&out, &len, '\0', f)) TH_LOG("%s: no output", cmd);
	ASSERT_EQ(0, WEXITSTATUS(pclose(f))) TH_LOG("%s: %s", cmd, out);
	p = out;
	ASSERT_EQ(0, jf_parse(&p, j)) TH_LOG("%s: %s", cmd, out);
	free(out);
}

/*
 * ext4 inline data is INLINE to the file system's callback, to
 * P2PMAP_IOC_CHECK (p2pmap check) and to a device's fault (dgpu map);
 * a file with blocks on the same file system maps to them.
 */
TEST_F(inline_ext4, inline_data_is_inline)
{
	unsigned int flags = 0;
	char small[60];
	struct fsext m;
	struct jf j;
	int fd;

	if (_metadata->skip)	/* this harness runs the test after a setup's SKIP */
		return;
	self->fd = open(INLINE_DIR "/tiny", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(self->fd, 0);
	memset(small, 'i', sizeof(small));
	ASSERT_EQ((ssize_t)sizeof(small), write(self->fd, small, sizeof(small)));
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_EQ(0, ioctl(self->fd, FS_IOC_GETFLAGS, &flags));
	ASSERT_NE(0U, flags & FS_INLINE_DATA_FL)
		TH_LOG("made with -O inline_data, yet a %zu-byte file is not inline",
		       sizeof(small));

	ASSERT_EQ(0, fsmap(self->dev, self->fd, 0, 1, &m));
	EXPECT_EQ(P2PMAP_REASON_INLINE, m.reason);
	EXPECT_EQ(1, m.npages);
	EXPECT_EQ(0U, m.major);

	json_of(_metadata, "p2pmap check " INLINE_DIR "/tiny -o json", &j);
	EXPECT_STREQ("ext4", jf_get(&j, "mount.fstype"));
	ASSERT_EQ(1u, jf_len(&j, "extents"));
	EXPECT_STREQ("pagecache", jf_get(&j, "extents[0].path"));
	EXPECT_STREQ("inline", jf_getf(&j, "extents[%d].reason", 0));
	EXPECT_EQ(0u, jf_u64(&j, "summary.bytes_p2p"));
	ASSERT_NE(NULL, jf_get(&j, "summary.fallback_bytes.inline"));
	EXPECT_EQ(jf_u64(&j, "extents[0].length"),
		  jf_u64(&j, "summary.fallback_bytes.inline"));
	jf_free(&j);

	json_of(_metadata, "dgpu -o json map " INLINE_DIR "/tiny", &j);
	EXPECT_EQ(0u, jf_u64(&j, "error"));
	EXPECT_EQ(1u, jf_u64(&j, "reasons.inline"));
	EXPECT_EQ(0u, jf_u64(&j, "pages_p2p"));
	EXPECT_STREQ("inline", jf_get(&j, "runs[0].reason"));
	jf_free(&j);

	/* the control: blocks of the same file system, on the loop device */
	close(self->fd);
	self->fd = -1;
	fd = make_file(INLINE_DIR "/blocks", 16, 18);
	ASSERT_GE(fd, 0);
	self->fd = fd;
	ASSERT_EQ(0, ioctl(fd, FS_IOC_GETFLAGS, &flags));
	EXPECT_EQ(0U, flags & FS_INLINE_DATA_FL);
	ASSERT_EQ(0, fsmap(self->dev, fd, 0, 16, &m));
	EXPECT_EQ(P2PMAP_REASON_NONE, m.reason);
	EXPECT_EQ(1, device_holds_page(&m, 0, 18));
}

TEST_HARNESS_MAIN
