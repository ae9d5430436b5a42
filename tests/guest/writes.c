// SPDX-License-Identifier: GPL-2.0
/*
 * Device writes into files (issue #8): the dummy GPU copies from a VRAM
 * object into a userptr object over a MAP_SHARED, writable mapping of a
 * file — a device write into the file, peer to peer into the CMB where the
 * rig's switch gives a route — and the data must reach the file's blocks:
 * read back with read(2) after the mapping is closed, after munmap, after
 * unmount and mount, after CMB eviction; through truncate, hole punch,
 * reflink and a CPU write(2) during the device's mapping; for the owner,
 * and for another user with and without CAP_LEASE. Runs on XFS and ext4
 * (RIG_FS); the file system is checked (xfs_repair -n, e2fsck -fn) last.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/p2pmap.h>
#include <libp2pmap_dgpu.h>

#include "kselftest_harness.h"
#include "../modules/p2pmap_test_cmb.h"

#define PAGE		4096UL
#define NOBODY		65534

static void fill(void *p, unsigned long len, unsigned int seed, unsigned long pos)
{
	unsigned char *b = p;
	unsigned long i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(((pos + i) * 2654435761UL >> 13) ^ seed ^
				       ((pos + i) >> 12) ^ 0x5a);
}

/* Write pattern @seed at [@off, @off + @len) of @fd with pwrite, durably. */
static int write_pattern(int fd, unsigned long off, unsigned long len,
			 unsigned int seed)
{
	char *buf = malloc(len);
	int ret = -1;

	if (!buf)
		return -1;
	fill(buf, len, seed, off);
	if (pwrite(fd, buf, len, off) == (ssize_t)len && !fsync(fd))
		ret = 0;
	free(buf);
	return ret;
}

/* Whether [@off, @off + @len) of @fd holds pattern @seed; logs the first miss. */
static int holds_pattern(int fd, unsigned long off, unsigned long len,
			 unsigned int seed)
{
	char *got = malloc(len), *want = malloc(len);
	unsigned long i;
	int ret = -1;

	if (!got || !want)
		goto out;
	fill(want, len, seed, off);
	if (pread(fd, got, len, off) != (ssize_t)len)
		goto out;
	for (i = 0; i < len && got[i] == want[i]; i++)
		;
	if (i == len) {
		ret = 0;
	} else {
		fprintf(stderr, "# byte %lu (page %lu): 0x%02x, pattern %u has 0x%02x\n",
			off + i, (off + i) / PAGE, (unsigned char)got[i], seed,
			(unsigned char)want[i]);
		/* where the wrong bytes are: the page cache, or the blocks too */
		fdatasync(fd);
		posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED);
		if (pread(fd, got, len, off) == (ssize_t)len)
			fprintf(stderr, "# read again without the clean page cache: %s\n",
				memcmp(got, want, len) ? "still wrong (the blocks)" :
				"right (the page cache was stale)");
	}
out:
	free(got);
	free(want);
	return ret;
}

static int holds_zeros(int fd, unsigned long off, unsigned long len)
{
	char *got = malloc(len);
	unsigned long i;
	int ret = -1;

	if (got && pread(fd, got, len, off) == (ssize_t)len) {
		for (i = 0; i < len && !got[i]; i++)
			;
		ret = i == len ? 0 : -1;
	}
	free(got);
	return ret;
}

static int stats(struct p2pmap_stats *st)
{
	int fd = open("/dev/p2pmap", O_RDONLY), ret;

	if (fd < 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	ret = ioctl(fd, P2PMAP_IOC_STATS, st) ? -errno : 0;
	close(fd);
	return ret;
}

static int rig_is_xfs(void)
{
	const char *fs = getenv("RIG_FS");

	return !fs || !strcmp(fs, "xfs");
}

static int sysfs_path(const char *link, char *out)
{
	return realpath(link, out) ? 0 : -1;
}

/* P2P when edu and the NVMe controller share a bridge (as tests/guest/dgpu.c). */
static enum p2pmap_reason expect_reason(const struct drm_p2pmap_dgpu_info *info)
{
	char edu[PATH_MAX], nvme[PATH_MAX], link[128], dbg[128];
	const char *a, *b, *common = NULL;

	if (sysfs_path("/sys/class/nvme/nvme0/device", nvme))
		return P2PMAP_REASON_NO_CMB;
	snprintf(dbg, sizeof(dbg), "/sys/kernel/debug/p2pmap-nvme-cmb/%s",
		 strrchr(nvme, '/') + 1);
	if (access(dbg, F_OK))
		return P2PMAP_REASON_NO_CMB;
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%04x:%02x:%02x.%x",
		 info->pci_domain, info->pci_bdf >> 8, (info->pci_bdf >> 3) & 0x1f,
		 info->pci_bdf & 7);
	if (sysfs_path(link, edu))
		return P2PMAP_REASON_NO_ROUTE;
	for (a = edu, b = nvme; *a && *a == *b; a++, b++)
		if (*a == '/')
			common = a;
	if (common && common - edu > (long)strlen("/sys/devices/pci0000:00"))
		return P2PMAP_REASON_NONE;
	return P2PMAP_REASON_NO_ROUTE;
}

/*
 * The harness's parent process would keep the test directory (on /mnt)
 * busy: it waits in /, each test runs in the directory it was started in.
 */
static char workdir[PATH_MAX];

static void __attribute__((constructor)) leave_workdir(void)
{
	if (!getcwd(workdir, sizeof(workdir)) || chdir("/"))
		workdir[0] = 0;
}

FIXTURE(writes)
{
	struct p2pmap_dgpu *dev;
	struct drm_p2pmap_dgpu_info info;
	int p2p;
	enum p2pmap_reason no_p2p;
	uint32_t vram;
	char *vmap;
	unsigned long vlen;
};

FIXTURE_SETUP(writes)
{
	int ret;

	ASSERT_NE(0, workdir[0]);
	ASSERT_EQ(0, chdir(workdir));
	if (system("grep -q '^p2pmap_dgpu ' /proc/modules") != 0)
		ASSERT_EQ(0, system("modprobe p2pmap_dgpu"));
	ret = p2pmap_dgpu_open(P2PMAP_DGPU_KIND_PCI, &self->dev);
	ASSERT_EQ(0, ret) TH_LOG("no dummy GPU on edu: %s", strerror(-ret));
	ASSERT_EQ(0, p2pmap_dgpu_get_info(self->dev, &self->info));
	self->no_p2p = expect_reason(&self->info);
	self->p2p = self->no_p2p == P2PMAP_REASON_NONE;
	self->vlen = 64 * PAGE;
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, self->vlen, &self->vram));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, self->vram, self->vlen,
					  (void **)&self->vmap));
}

FIXTURE_TEARDOWN(writes)
{
	munmap(self->vmap, self->vlen);
	p2pmap_dgpu_handle_close(self->dev, self->vram);
	p2pmap_dgpu_close(self->dev);
}

/*
 * The device writes pattern @seed at [@off, @off + @len) of @fm's file
 * (the mapping starts at file offset 0) with the CPU engine, from VRAM.
 */
static int dev_write(struct __test_metadata *_metadata, FIXTURE_DATA(writes) *self,
		     struct p2pmap_dgpu_file_map *fm, unsigned long off,
		     unsigned long len, unsigned int seed,
		     struct drm_p2pmap_dgpu_result *res)
{
	uint64_t job;
	int ret;

	if (len > self->vlen)
		return -EINVAL;
	fill(self->vmap, len, seed, off);
	ret = p2pmap_dgpu_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm->handle,
			       fm->data_offset + off, self->vram, 0, len, &job);
	if (!ret)
		ret = p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, res);
	if (!ret)
		TH_LOG("device write of %lu pages at page %lu: error %u, %llu P2P, %llu page cache (hole %llu unwritten %llu recalled %llu shared %llu write %llu)",
		       len / PAGE, off / PAGE, res->error, res->pages_p2p,
		       res->pages_pagecache, res->reasons[P2PMAP_REASON_HOLE],
		       res->reasons[P2PMAP_REASON_UNWRITTEN],
		       res->reasons[P2PMAP_REASON_RECALLED],
		       res->reasons[P2PMAP_REASON_SHARED],
		       res->reasons[P2PMAP_REASON_WRITE]);
	return ret;
}

/* The device reads the first @len bytes of @fm's file into VRAM (a read job). */
static int dev_read(FIXTURE_DATA(writes) *self, struct p2pmap_dgpu_file_map *fm,
		    unsigned long len, struct drm_p2pmap_dgpu_result *res)
{
	uint64_t job;
	int ret;

	if (len > self->vlen)
		return -EINVAL;
	ret = p2pmap_dgpu_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, self->vram, 0,
			       fm->handle, fm->data_offset, len, &job);
	return ret ?: p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, res);
}

/* A file of @pages pages of pattern @seed, opened read-write. */
static int make_file(const char *name, unsigned long pages, unsigned int seed)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0 && write_pattern(fd, 0, pages * PAGE, seed)) {
		close(fd);
		return -1;
	}
	return fd;
}

#define EXPECT_P2P(res, n) do {						\
	if (self->p2p) {						\
		EXPECT_EQ((unsigned long long)(n), (res).pages_p2p);	\
	} else {							\
		EXPECT_EQ(0ULL, (res).pages_p2p);			\
		EXPECT_EQ((unsigned long long)(n),			\
			  (res).reasons[self->no_p2p]);			\
	}								\
} while (0)

/* Device writes through a shared mapping are in the file once the object is closed. */
TEST_F(writes, write_reaches_file_after_close)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	int fd = make_file("a", 64, 1);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, stats(&before));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 64 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 64 * PAGE, 2, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 64);
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 64 * PAGE, 2));
	ASSERT_EQ(0, stats(&after));
	if (self->p2p && rig_is_xfs())
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_DESTROY] + 64 * PAGE,
			  after.written_back[P2PMAP_REVOKE_DESTROY]);
	if (self->p2p && !rig_is_xfs()) {
		/* ext4: at the job's end (p2pmap_mirror_end_access()) */
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_COHERENCY] + 64 * PAGE,
			  after.written_back[P2PMAP_REVOKE_COHERENCY]);
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_DESTROY],
			  after.written_back[P2PMAP_REVOKE_DESTROY]);
	}
	EXPECT_EQ(before.lost, after.lost);
	close(fd);
}

/* munmap while the object lives writes back before munmap returns. */
TEST_F(writes, write_reaches_file_after_munmap)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats start, before, after;
	int fd = make_file("b", 32, 3);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 32 * PAGE, 1, &fm));
	ASSERT_EQ(0, stats(&start));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 4 * PAGE, 16 * PAGE, 4, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	ASSERT_EQ(0, stats(&before));
	ASSERT_EQ(0, munmap(fm.map, fm.map_length));
	ASSERT_EQ(0, stats(&after));
	EXPECT_EQ(0, holds_pattern(fd, 0, 4 * PAGE, 3));
	EXPECT_EQ(0, holds_pattern(fd, 4 * PAGE, 16 * PAGE, 4));
	EXPECT_EQ(0, holds_pattern(fd, 20 * PAGE, 12 * PAGE, 3));
	if (self->p2p && rig_is_xfs())
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_UNMAP] + 16 * PAGE,
			  after.written_back[P2PMAP_REVOKE_UNMAP]);
	if (self->p2p && !rig_is_xfs()) {
		/* ext4: at the job's end, nothing left for munmap */
		EXPECT_EQ(start.written_back[P2PMAP_REVOKE_COHERENCY] + 16 * PAGE,
			  before.written_back[P2PMAP_REVOKE_COHERENCY]);
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_UNMAP],
			  after.written_back[P2PMAP_REVOKE_UNMAP]);
	}
	EXPECT_EQ(start.lost, after.lost);
	p2pmap_dgpu_handle_close(self->dev, fm.handle);
	close(fd);
}

/* The data is on the blocks: it survives unmount and mount. */
TEST_F(writes, write_survives_umount_and_mount)
{
	const char *fs = getenv("RIG_FS") ? getenv("RIG_FS") : "xfs";
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	char cwd[PATH_MAX];
	int fd = make_file("c", 16, 5);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 6, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	p2pmap_dgpu_release_file(self->dev, &fm);
	close(fd);

	ASSERT_EQ(0, chdir("/"));
	ASSERT_EQ(0, umount("/mnt")) TH_LOG("umount: %s", strerror(errno));
	ASSERT_EQ(0, mount("/dev/nvme0n1", "/mnt", fs, 0, NULL));
	ASSERT_EQ(0, chdir(cwd));
	fd = open("c", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, 6));
	close(fd);
}

static int count_extents(int fd, unsigned long len, unsigned int *unwritten,
			 unsigned long long *mapped)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[64];
	} f;
	unsigned int i;

	memset(&f, 0, sizeof(f));
	f.fm.fm_length = len;
	f.fm.fm_flags = FIEMAP_FLAG_SYNC;
	f.fm.fm_extent_count = 64;
	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm))
		return -errno;
	*unwritten = 0;
	*mapped = 0;
	for (i = 0; i < f.fm.fm_mapped_extents; i++) {
		if (f.ext[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN)
			(*unwritten)++;
		*mapped += f.ext[i].fe_length;
	}
	return 0;
}

/*
 * XFS: a device write into holes and a preallocated range gets blocks from
 * map_blocks, P2P; they become written extents, the size does not change.
 * ext4: those pages fall back to the page cache with reason hole/unwritten.
 */
TEST_F(writes, holes_and_prealloc_become_written)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	unsigned long long mapped = 0;
	unsigned int unwritten = 0;
	struct stat st;
	int fd = open("d", O_RDWR | O_CREAT | O_TRUNC, 0644);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, 4 * PAGE, 7));	/* 0-3 written */
	ASSERT_EQ(0, fallocate(fd, 0, 8 * PAGE, 4 * PAGE));	/* 8-11 unwritten */
	ASSERT_EQ(0, ftruncate(fd, 16 * PAGE));			/* 4-7, 12-15 holes */
	ASSERT_EQ(0, fsync(fd));

	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 8, &res));
	EXPECT_EQ(0U, res.error);
	if (rig_is_xfs()) {
		EXPECT_P2P(res, 16);
	} else {
		EXPECT_EQ(8ULL, res.reasons[P2PMAP_REASON_HOLE]);
		EXPECT_EQ(4ULL, res.reasons[P2PMAP_REASON_UNWRITTEN]);
		if (self->p2p)
			EXPECT_EQ(4ULL, res.pages_p2p);
	}
	p2pmap_dgpu_release_file(self->dev, &fm);

	EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, 8));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)(16 * PAGE), st.st_size);
	ASSERT_EQ(0, count_extents(fd, 16 * PAGE, &unwritten, &mapped));
	EXPECT_EQ(0U, unwritten);
	EXPECT_EQ(16 * PAGE, mapped);
	close(fd);
}

/* A P2P write layout cannot extend a file: past EOF the device gets EFAULT. */
TEST_F(writes, write_past_eof_is_efault)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct stat st;
	int fd = make_file("e", 4, 9);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * PAGE));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 8 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 8 * PAGE, 10, &res));
	EXPECT_EQ((unsigned int)EFAULT, res.error);
	EXPECT_EQ(4 * PAGE, res.error_offset);
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)(4 * PAGE), st.st_size);
	EXPECT_EQ(0, holds_pattern(fd, 0, 4 * PAGE, 10));
	close(fd);
}

/*
 * Staging 72 MiB of another file through the 64 MiB CMB evicts the live
 * write chunks: their data is written back, not lost.
 */
TEST_F_TIMEOUT(writes, writes_survive_cmb_eviction, 600)
{
	unsigned long big = 72UL << 20;
	struct drm_p2pmap_dgpu_userptr_fault out;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm, bm;
	struct p2pmap_stats start, before, after;
	int fd = make_file("f", 32, 11), bfd;

	ASSERT_LE(0, fd);
	bfd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, write_pattern(bfd, 0, big, 12));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 32 * PAGE, 1, &fm));
	ASSERT_EQ(0, stats(&start));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 32 * PAGE, 13, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 32);
	ASSERT_EQ(0, stats(&before));

	/* map (stage) the big file for reading: no data is touched */
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, bfd, 0, big, 0, &bm));
	memset(&out, 0, sizeof(out));
	ASSERT_EQ(0, p2pmap_dgpu_userptr_fault(self->dev, bm.handle, 0, big, 0, &out));
	p2pmap_dgpu_release_file(self->dev, &bm);
	ASSERT_EQ(0, stats(&after));
	if (self->p2p && rig_is_xfs())
		EXPECT_LE(before.written_back[P2PMAP_REVOKE_EVICT] + 32 * PAGE,
			  after.written_back[P2PMAP_REVOKE_EVICT]);
	if (self->p2p && !rig_is_xfs())
		/* ext4: written back at the job's end; eviction drops clean chunks */
		EXPECT_EQ(start.written_back[P2PMAP_REVOKE_COHERENCY] + 32 * PAGE,
			  before.written_back[P2PMAP_REVOKE_COHERENCY]);
	EXPECT_EQ(start.lost, after.lost);
	EXPECT_EQ(0, holds_pattern(fd, 0, 32 * PAGE, 13));
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 32 * PAGE, 13));
	close(bfd);
	close(fd);
}

/*
 * Truncate while the device holds write mappings: what it wrote below the
 * new size stays, nothing beyond reappears, the other file is untouched.
 */
TEST_F(writes, truncate_during_device_writes)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	int fd = make_file("g", 32, 14), ofd = make_file("g.other", 32, 15);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, ofd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 32 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 32 * PAGE, 16, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 32);
	ASSERT_EQ(0, ftruncate(fd, 12 * PAGE));
	EXPECT_EQ(0, holds_pattern(fd, 0, 12 * PAGE, 16));
	/* the blocks are free; another file takes and writes some */
	ASSERT_EQ(0, write_pattern(ofd, 32 * PAGE, 32 * PAGE, 17));
	/* the device's next job on the truncated part: EFAULT */
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 18, &res));
	EXPECT_EQ((unsigned int)EFAULT, res.error);
	EXPECT_EQ(12 * PAGE, res.error_offset);
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, ftruncate(fd, 32 * PAGE));
	EXPECT_EQ(0, holds_pattern(fd, 0, 12 * PAGE, 18));
	EXPECT_EQ(0, holds_zeros(fd, 12 * PAGE, 20 * PAGE));
	EXPECT_EQ(0, holds_pattern(ofd, 0, 32 * PAGE, 15));
	EXPECT_EQ(0, holds_pattern(ofd, 32 * PAGE, 32 * PAGE, 17));
	close(ofd);
	close(fd);
}

/* Hole punch under device write mappings: zeros in the hole, the rest written. */
TEST_F(writes, punch_during_device_writes)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	int fd = make_file("h", 32, 19), ofd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 32 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 32 * PAGE, 20, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 32);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       8 * PAGE, 8 * PAGE));
	ofd = make_file("h.other", 16, 21);	/* may reuse the punched blocks */
	ASSERT_LE(0, ofd);
	EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, 20));
	EXPECT_EQ(0, holds_zeros(fd, 8 * PAGE, 8 * PAGE));
	EXPECT_EQ(0, holds_pattern(fd, 16 * PAGE, 16 * PAGE, 20));
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, 20));
	EXPECT_EQ(0, holds_zeros(fd, 8 * PAGE, 8 * PAGE));
	EXPECT_EQ(0, holds_pattern(fd, 16 * PAGE, 16 * PAGE, 20));
	EXPECT_EQ(0, holds_pattern(ofd, 0, 16 * PAGE, 21));
	close(ofd);
	close(fd);
}

/*
 * XFS: reflink with the file as the source recalls its write layout first:
 * the clone gets what the device wrote, and later device writes to the
 * source (now shared) go through the page cache and never reach the clone.
 */
TEST_F(writes, reflink_source_during_device_writes)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	int fd = make_file("i", 16, 22), cfd;

	if (!rig_is_xfs())
		SKIP(return, "reflink is XFS's (ext4 has none)");
	ASSERT_LE(0, fd);
	cfd = open("i.clone", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 23, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	ASSERT_EQ(0, stats(&before));
	ASSERT_EQ(0, ioctl(cfd, FICLONE, fd)) TH_LOG("FICLONE: %s", strerror(errno));
	ASSERT_EQ(0, stats(&after));
	if (self->p2p)
		EXPECT_EQ(before.layouts_recalled + 1, after.layouts_recalled);
	EXPECT_EQ(0, holds_pattern(cfd, 0, 16 * PAGE, 23));

	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 24, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_EQ(0ULL, res.pages_p2p);
	if (self->p2p)
		EXPECT_EQ(16ULL, res.reasons[P2PMAP_REASON_SHARED]);
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, fsync(fd));
	EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, 24));
	EXPECT_EQ(0, holds_pattern(cfd, 0, 16 * PAGE, 23));
	close(cfd);
	close(fd);
}

/*
 * A CPU write(2) while the device holds a write mapping. XFS breaks the
 * layout: the device's data is written back first, the CPU's lands on top,
 * the rest of that job's device writes go through the page cache
 * (reason "recalled") and the next job is P2P again. ext4 tells nobody,
 * but the job's end wrote the device's data to the blocks
 * (p2pmap_mirror_end_access()): the CPU's write and its fsync land on top
 * and nothing the acknowledged job wrote is lost.
 */
TEST_F(writes, cpu_write_racing_device_mapping)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats start, before, after;
	int fd = make_file("j", 16, 25);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	ASSERT_EQ(0, stats(&start));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 26, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	ASSERT_EQ(0, stats(&before));
	if (!rig_is_xfs() && self->p2p)
		/* ext4: the job's end wrote the device's data to the blocks */
		EXPECT_EQ(start.written_back[P2PMAP_REVOKE_COHERENCY] + 16 * PAGE,
			  before.written_back[P2PMAP_REVOKE_COHERENCY]);
	ASSERT_EQ(0, write_pattern(fd, 3 * PAGE, PAGE, 27));
	/* the CPU's page reaches the blocks before the next coherency point */
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, stats(&after));
	EXPECT_EQ(0, holds_pattern(fd, 3 * PAGE, PAGE, 27));
	if (rig_is_xfs() && self->p2p) {
		EXPECT_EQ(before.layouts_recalled + 1, after.layouts_recalled);
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_LAYOUT] + 16 * PAGE,
			  after.written_back[P2PMAP_REVOKE_LAYOUT]);
	}
	/* the job was acknowledged: its bytes the CPU did not write stay */
	EXPECT_EQ(0, holds_pattern(fd, 0, 3 * PAGE, 26));
	EXPECT_EQ(0, holds_pattern(fd, 4 * PAGE, 12 * PAGE, 26));
	EXPECT_EQ(before.lost, after.lost);
	/* the next job takes a new layout */
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 8 * PAGE, 8 * PAGE, 28, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 8);
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, stats(&after));
	EXPECT_EQ(before.lost, after.lost);
	EXPECT_EQ(0, holds_pattern(fd, 0, 3 * PAGE, 26));
	EXPECT_EQ(0, holds_pattern(fd, 3 * PAGE, PAGE, 27));
	EXPECT_EQ(0, holds_pattern(fd, 4 * PAGE, 4 * PAGE, 26));
	EXPECT_EQ(0, holds_pattern(fd, 8 * PAGE, 8 * PAGE, 28));
	close(fd);
}

/*
 * A CPU write(2) without fsync while the device holds a write mapping,
 * then the next job: XFS recalled the layout at the write(2); ext4 is
 * caught at the job's coherency point, before the page cache writes the
 * CPU's page back. Either way both writes are in the file, nothing lost.
 */
TEST_F(writes, cpu_write_then_next_job_keeps_both)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats start, before, after;
	char *buf = malloc(PAGE);
	int fd = make_file("m", 16, 34);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	ASSERT_EQ(0, stats(&start));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 35, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	ASSERT_EQ(0, stats(&before));
	fill(buf, PAGE, 36, 3 * PAGE);
	ASSERT_EQ((ssize_t)PAGE, pwrite(fd, buf, PAGE, 3 * PAGE));	/* no fsync */
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 8 * PAGE, 8 * PAGE, 37, &res));
	EXPECT_EQ(0U, res.error);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, stats(&after));
	if (self->p2p) {
		EXPECT_EQ(before.lost, after.lost);
		if (rig_is_xfs()) {
			EXPECT_EQ(before.written_back[P2PMAP_REVOKE_LAYOUT] + 16 * PAGE,
				  after.written_back[P2PMAP_REVOKE_LAYOUT]);
		} else {
			/* at the first job's end (p2pmap_mirror_end_access()) */
			EXPECT_EQ(start.written_back[P2PMAP_REVOKE_COHERENCY] + 16 * PAGE,
				  before.written_back[P2PMAP_REVOKE_COHERENCY]);
		}
	}
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 3 * PAGE, 35));
	EXPECT_EQ(0, holds_pattern(fd, 3 * PAGE, PAGE, 36));
	EXPECT_EQ(0, holds_pattern(fd, 4 * PAGE, 4 * PAGE, 35));
	EXPECT_EQ(0, holds_pattern(fd, 8 * PAGE, 8 * PAGE, 37));
	free(buf);
	close(fd);
}

/* Unlink is no revocation: the mapping stays P2P and the data stays readable. */
TEST_F(writes, unlink_does_not_revoke)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	int fd = make_file("k", 16, 29);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 30, &res));
	EXPECT_EQ(0U, res.error);
	ASSERT_EQ(0, stats(&before));
	ASSERT_EQ(0, unlink("k"));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 31, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	/* ext4: the first job's end took its write pages back (written back) */
	EXPECT_EQ(rig_is_xfs() || !self->p2p ? 0ULL : 16ULL, res.refaults);
	ASSERT_EQ(0, stats(&after));
	EXPECT_EQ(before.layouts_recalled, after.layouts_recalled);
	EXPECT_EQ(before.revoked[P2PMAP_REVOKE_LAYOUT], after.revoked[P2PMAP_REVOKE_LAYOUT]);
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, 31));
	close(fd);
}

/*
 * Two device write mappings of one file share one staged CMB extent (a
 * read job staged all 32 pages; each write job's pages are found inside
 * it). One goes (MADV_DONTNEED on its half: the mmu notifier takes it
 * back and writes it back synchronously) while the other stays: what the
 * device wrote into the half that went must be on the blocks when the
 * revocation returns, the page cache of that half dropped, so that a
 * read(2) right after gets the device's bytes, not the old blocks'.
 *
 * The provider's sync used to skip an extent another writer still held;
 * the page cache, invalidated, then read the old blocks and kept them
 * (an ext4 race round: page 16 stale after a punch).
 */
TEST_F(writes, revoked_half_is_on_blocks_while_other_half_is_held)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	int fd = make_file("s", 32, 61);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 32 * PAGE, 1, &fm));
	/* a read job stages the whole file at once */
	ASSERT_EQ(0, dev_read(self, &fm, 32 * PAGE, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 32);
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 16 * PAGE, 16 * PAGE, 62, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 16 * PAGE, 63, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 16);
	ASSERT_EQ(0, stats(&before));
	ASSERT_EQ(0, madvise((char *)fm.map + fm.data_offset, 16 * PAGE, MADV_DONTNEED));
	ASSERT_EQ(0, stats(&after));
	/* no fsync, no fadvise: what read(2) gets now */
	EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, 63));
	if (self->p2p && rig_is_xfs())
		/* ext4: the job's end had written it back already */
		EXPECT_EQ(before.written_back[P2PMAP_REVOKE_UNMAP] + 16 * PAGE,
			  after.written_back[P2PMAP_REVOKE_UNMAP]);
	EXPECT_EQ(before.lost, after.lost);
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, 63));
	EXPECT_EQ(0, holds_pattern(fd, 16 * PAGE, 16 * PAGE, 62));
	close(fd);
}

/*
 * The layout of the shared-extent tests: the device wrote pages 0-31 of a
 * 64-page file with @dev, the CPU page 48 with @cpu, the rest is @file.
 */
static int keeps_both(int fd, unsigned int file, unsigned int dev,
		      unsigned int cpu)
{
	return holds_pattern(fd, 0, 32 * PAGE, dev) ||
	       holds_pattern(fd, 32 * PAGE, 16 * PAGE, file) ||
	       holds_pattern(fd, 48 * PAGE, PAGE, cpu) ||
	       holds_pattern(fd, 49 * PAGE, 15 * PAGE, file) ? -1 : 0;
}

/*
 * A CPU store through the same shared mapping, to a page the device did
 * not write, while the device's writes sit in the same staged CMB extent:
 * a read job staged the 64 pages at once, a write job then wrote pages
 * 0-31 into that extent. msync() writes the CPU's page 48 back (with the
 * rest of its page-cache folio, pages 32-63 at most, the old bytes but
 * for page 48): a write behind the CMB's cache over part of the extent.
 * The device's pages are not among those blocks and must survive, written
 * back, not dropped as stale and counted lost; the CPU's page too. Until
 * session 6 any such write lost the whole extent's device data (XFS,
 * where a store through a mapping breaks no layout and the device's data
 * waits in the CMB; ext4 wrote it back at the job's end already).
 */
TEST_F(writes, cpu_store_beside_device_writes_keeps_both)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	char *page;
	int fd = make_file("c", 64, 72);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 64 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_read(self, &fm, 64 * PAGE, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 64);
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 32 * PAGE, 73, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 32);
	ASSERT_EQ(0, stats(&before));
	page = (char *)fm.map + fm.data_offset + 48 * PAGE;
	fill(page, PAGE, 74, 48 * PAGE);
	ASSERT_EQ(0, msync(page, PAGE, MS_SYNC));
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, stats(&after));
	EXPECT_EQ(before.lost, after.lost);
	EXPECT_EQ(0, keeps_both(fd, 72, 73, 74));
	close(fd);
}

struct msync_race {
	char *page;		/* a page of the file, in a mapping of its own */
	pthread_barrier_t go;
	int ret;
};

static void *msync_racer(void *arg)
{
	struct msync_race *r = arg;

	pthread_barrier_wait(&r->go);
	r->ret = msync(r->page, PAGE, MS_SYNC) ? -errno : 0;
	return NULL;
}

/*
 * The previous test's write behind the cache, from another thread, racing
 * the release of the device's object (the mirror's destroy): the
 * provider's revoke callback takes the device's write chunk off the mirror
 * and writes it back after dropping the mirror lock, and that write-back
 * reaches the mirror's layouts and commit work. A destroy that ran in
 * between freed them under it: WARN nr_held in p2pmap_wlayout_free(),
 * then a use after free (KASAN; slab corruption on the stock kernel), as
 * make check-debug hit in session 6. The rig fails the run on either
 * report; here both the device's bytes and the CPU's must be in the file
 * whoever wins.
 */
TEST_F(writes, cpu_store_racing_object_release_keeps_both)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	struct msync_race r;
	pthread_t t;
	char *map;
	int round, fd;

	for (round = 0; round < 64; round++) {
		fd = make_file("r", 64, 80);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 64 * PAGE,
						     1, &fm));
		ASSERT_EQ(0, dev_read(self, &fm, 64 * PAGE, &res));
		EXPECT_EQ(0U, res.error);
		EXPECT_P2P(res, 64);
		ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 32 * PAGE, 81,
				       &res));
		EXPECT_EQ(0U, res.error);
		EXPECT_P2P(res, 32);
		map = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		r.page = map + 48 * PAGE;
		fill(r.page, PAGE, 82, 48 * PAGE);
		ASSERT_EQ(0, pthread_barrier_init(&r.go, NULL, 2));
		ASSERT_EQ(0, stats(&before));
		ASSERT_EQ(0, pthread_create(&t, NULL, msync_racer, &r));
		pthread_barrier_wait(&r.go);
		p2pmap_dgpu_release_file(self->dev, &fm);
		ASSERT_EQ(0, pthread_join(t, NULL));
		pthread_barrier_destroy(&r.go);
		EXPECT_EQ(0, r.ret);
		ASSERT_EQ(0, munmap(map, 64 * PAGE));
		ASSERT_EQ(0, stats(&after));
		EXPECT_EQ(before.lost, after.lost) TH_LOG("round %d", round);
		EXPECT_EQ(0, keeps_both(fd, 80, 81, 82));
		close(fd);
		if (!_metadata->passed)
			break;
	}
}

/* First sector of @fd's blocks when its first @pages pages are one extent. */
static long long one_extent(int fd, unsigned long pages)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[1];
	} f = { .fm = { .fm_length = pages * PAGE, .fm_flags = FIEMAP_FLAG_SYNC,
			.fm_extent_count = 1 } };
	struct fiemap_extent *e = &f.ext[0];

	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm) || f.fm.fm_mapped_extents < 1 ||
	    e->fe_logical || e->fe_length < pages * PAGE || e->fe_physical % PAGE ||
	    e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_UNWRITTEN |
			   FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED))
		return -1;
	return e->fe_physical / 512;
}

/*
 * Another owner keeps the staged extent after a revoke (a device with a DMA
 * in flight: p2pmap_test_cmb.ko's KEEP slot) while the device's write
 * chunk in it is revoked by a CPU page written back beside it (the
 * previous tests' write behind the cache; P2PMAP_REVOKE_EVICT for the
 * device's pages). The provider writes the extent back only at its last
 * put, the other owner's. Until session 7 p2pmap dropped the page cache
 * when it put its chunk: a read(2) in between cached the old blocks and
 * kept them after the write-back. Now the commit that follows syncs the
 * provider first: reads see the device's bytes within a moment (5 s
 * allowed; a work item), with the other owner still holding the extent,
 * and after it lets go.
 */
TEST_F(writes, evicted_beside_another_owner_reaches_reads)
{
	struct p2pmap_test_cmb_open o = { .path = (uintptr_t)"/dev/nvme0n1" };
	struct p2pmap_test_cmb_stage st = { .nr_pages = 64,
					    .flags = P2PMAP_TEST_CMB_KEEP };
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	int fd = make_file("k", 64, 90), cmb, i, ok = 0;
	long long sector;
	char *map;

	ASSERT_LE(0, fd);
	sector = one_extent(fd, 64);
	ASSERT_LE(0, sector) TH_LOG("the file's 64 pages are not one written extent");
	if (access("/dev/p2pmap_test_cmb", F_OK))
		ASSERT_EQ(0, system("modprobe p2pmap_test_cmb"));
	cmb = open("/dev/p2pmap_test_cmb", O_RDWR);
	ASSERT_LE(0, cmb);
	if (self->no_p2p == P2PMAP_REASON_NO_CMB) {
		/* a rig without a CMB: no extent to keep */
		close(cmb);
		close(fd);
		SKIP(return, "the rig has no CMB");
	}
	ASSERT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_OPEN, &o));
	st.sector = sector;
	ASSERT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_STAGE, &st));
	ASSERT_EQ(0, st.error);
	ASSERT_EQ(0, stats(&before));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 64 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 32 * PAGE, 91, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 32);
	map = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map + 48 * PAGE, PAGE, 92, 48 * PAGE);
	ASSERT_EQ(0, msync(map + 48 * PAGE, PAGE, MS_SYNC));
	ASSERT_EQ(0, munmap(map, 64 * PAGE));
	/* the other owner still holds the extent: reads must get there */
	for (i = 0; i < 50 && !ok; i++) {
		ok = !holds_pattern(fd, 0, 32 * PAGE, 91);
		if (!ok)
			usleep(100000);
	}
	EXPECT_TRUE(ok) TH_LOG("read(2) kept the blocks' old bytes after the device's chunk went");
	ASSERT_EQ(0, ioctl(cmb, P2PMAP_TEST_CMB_PUT, &st.slot));
	close(cmb);
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, stats(&after));
	EXPECT_EQ(before.lost, after.lost);
	EXPECT_EQ(0, keeps_both(fd, 90, 91, 92));
	close(fd);
}

/* Each page of [@off, @off + @len) holds pattern @seed or zeros, whole. */
static int pages_pattern_or_zeros(int fd, unsigned long off, unsigned long len,
				  unsigned int seed)
{
	unsigned long p;

	for (p = off; p < off + len; p += PAGE)
		if (holds_zeros(fd, p, PAGE) && holds_pattern(fd, p, PAGE, seed))
			return -1;
	return 0;
}

/*
 * 40 rounds of a device write job racing a truncate or a hole punch (in
 * turn) of its file, with another file written meanwhile: what a job that
 * completed wrote below the new size is there; a punched page is all
 * zeros or all the device's; the other file is never touched. The delays
 * sweep 0-9.75 ms in steps of 0.25 ms, the job's whole length on the rig.
 *
 * On XFS this caught a fault that fell back to the page cache while the
 * recall was still writing the device's data back: it read the old blocks,
 * its write fault dirtied them, and their write-back later put the old
 * data over the device's (about one round in 25 lost pages).
 */
TEST_F_TIMEOUT(writes, truncate_and_punch_race_device_writes_40, 900)
{
	unsigned int round;

	for (round = 0; round < 40; round++) {
		struct drm_p2pmap_dgpu_result res;
		struct p2pmap_dgpu_file_map fm;
		unsigned int seed = 40 + round;
		int punch = round & 1;
		uint64_t job;
		int fd = make_file("r", 32, 99), ofd = make_file("r.other", 16, 98);

		ASSERT_LE(0, fd);
		ASSERT_LE(0, ofd);
		ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 32 * PAGE, 1, &fm));
		fill(self->vmap, 32 * PAGE, seed, 0);
		ASSERT_EQ(0, p2pmap_dgpu_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle,
					      0, self->vram, 0, 32 * PAGE, &job));
		usleep((round % 20) * 500 + (round / 20) * 250);
		if (punch) {
			ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					       8 * PAGE, 8 * PAGE));
		} else {
			ASSERT_EQ(0, ftruncate(fd, 16 * PAGE));
		}
		ASSERT_EQ(0, write_pattern(ofd, 16 * PAGE, 16 * PAGE, 97));
		ASSERT_EQ(0, p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, &res));
		p2pmap_dgpu_release_file(self->dev, &fm);
		if (punch) {
			EXPECT_EQ(0U, res.error) TH_LOG("round %u", round);
			EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, seed)) TH_LOG("round %u", round);
			EXPECT_EQ(0, pages_pattern_or_zeros(fd, 8 * PAGE, 8 * PAGE, seed))
				TH_LOG("round %u", round);
			EXPECT_EQ(0, holds_pattern(fd, 16 * PAGE, 16 * PAGE, seed))
				TH_LOG("round %u", round);
		} else {
			EXPECT_TRUE(!res.error || (res.error == EFAULT &&
						   res.error_offset >= 16 * PAGE))
				TH_LOG("round %u: error %u at %llu", round, res.error,
				       (unsigned long long)res.error_offset);
			/* acknowledged: pages 0-15 were written before the end */
			EXPECT_EQ(0, holds_pattern(fd, 0, 16 * PAGE, seed)) TH_LOG("round %u", round);
		}
		EXPECT_EQ(0, holds_pattern(ofd, 0, 16 * PAGE, 98)) TH_LOG("round %u", round);
		EXPECT_EQ(0, holds_pattern(ofd, 16 * PAGE, 16 * PAGE, 97)) TH_LOG("round %u", round);
		close(ofd);
		close(fd);
		if (!_metadata->passed)
			break;
	}
}

/*
 * A controller reset under a live device write mapping (the compat
 * backend loses the CMB): the device's data cannot be written back; it is
 * counted in "lost" and the file keeps what it had. With upstream P2PDMA
 * (the debug kernel) the CMB survives a reset and the data is written back.
 * On ext4 the job's end wrote the data back already: nothing is lost.
 */
TEST_F(writes, reset_loses_and_counts)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_stats before, after;
	int fd = make_file("n", 8, 38), sysfd, i, p2pdma;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 8 * PAGE, 1, &fm));
	ASSERT_EQ(0, dev_write(_metadata, self, &fm, 0, 8 * PAGE, 39, &res));
	EXPECT_EQ(0U, res.error);
	EXPECT_P2P(res, 8);
	ASSERT_EQ(0, stats(&before));
	sysfd = open("/sys/class/nvme/nvme0/reset_controller", O_WRONLY);
	ASSERT_LE(0, sysfd);
	ASSERT_EQ(1, write(sysfd, "1", 1));
	close(sysfd);
	p2pdma = access("/sys/bus/pci/devices/0000:03:00.0/p2pmem", F_OK) == 0;
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, stats(&after));
		if (after.lost > before.lost || !self->p2p || p2pdma ||
		    !rig_is_xfs())
			break;
		usleep(100000);
	}
	if (p2pdma || !rig_is_xfs())
		sleep(1);
	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, stats(&after));
	if (self->p2p && !p2pdma && rig_is_xfs()) {
		EXPECT_EQ(before.lost + 8 * PAGE, after.lost);
		EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, 38));
	} else {
		/* ext4: the acknowledged job's data was on the blocks already */
		EXPECT_EQ(before.lost, after.lost);
		EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, 39));
	}
	close(fd);
}

/*
 * Another holder's recall, and a device write fault meanwhile. A layout
 * client of /dev/p2pmap holds a read-write layout of the file; a hole
 * punch breaks it (XFS) and waits for the client; while the client has
 * not given it back, a device write job on the file must not fall back to
 * the page cache (it would read blocks the client may still be writing,
 * and write that page back over them later): it waits, and finishes once
 * the client has written, committed and returned. Both writes are then in
 * the file. ext4 breaks no layout: the punch does not wait, nor the job.
 */
TEST_F(writes, write_fault_waits_for_another_holders_recall)
{
	struct p2pmap_layout_extent ext[8];
	struct p2pmap_layout_get g = { .size = sizeof(g) };
	struct p2pmap_layout_io io = { .size = sizeof(io) };
	struct p2pmap_layout_range r = { .offset = 4 * PAGE, .length = 4 * PAGE };
	struct p2pmap_layout_commit c = { .size = sizeof(c) };
	struct p2pmap_layout_return ret_ = { .size = sizeof(ret_) };
	struct p2pmap_layout_event ev;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	struct pollfd pfd;
	char *buf = malloc(4 * PAGE);
	int fd = make_file("h", 16, 51), dev = open("/dev/p2pmap", O_RDWR);
	int status, xfs = rig_is_xfs(), got;
	uint64_t job;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, dev);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, fsync(fd));
	g.fd = fd;
	g.iomode = P2PMAP_LAYOUT_RW;
	g.offset = 0;
	g.length = 16 * PAGE;
	g.break_ms = 60000;
	g.extents = (uintptr_t)ext;
	g.nr_extents = 8;
	ASSERT_EQ(0, ioctl(dev, P2PMAP_IOC_LAYOUT_GET, &g)) TH_LOG("%s", strerror(errno));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				12 * PAGE, 4 * PAGE) ? 2 : 0);
	pfd.fd = dev;
	pfd.events = POLLIN;
	got = poll(&pfd, 1, 5000) == 1 && read(dev, &ev, sizeof(ev)) == sizeof(ev);
	if (xfs) {
		/* the punch waits for the client */
		ASSERT_TRUE(got);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_RECALL, ev.type);
		EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	}

	/* the device writes pages 0-3 meanwhile */
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, 16 * PAGE, 1, &fm));
	fill(self->vmap, 4 * PAGE, 52, 0);
	ASSERT_EQ(0, p2pmap_dgpu_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle,
				      fm.data_offset, self->vram, 0, 4 * PAGE, &job));
	usleep(500000);
	if (xfs)	/* waiting for the client, not through the page cache */
		EXPECT_EQ(-ETIME, p2pmap_dgpu_wait(self->dev, job, 0, &res));

	/* the client writes pages 4-7 to the blocks, commits, returns */
	fill(buf, 4 * PAGE, 53, 4 * PAGE);
	io.id = g.id;
	io.offset = 4 * PAGE;
	io.length = 4 * PAGE;
	io.buf = (uintptr_t)buf;
	io.flags = P2PMAP_LAYOUT_IO_WRITE;
	c.id = g.id;
	c.nr_ranges = 1;
	c.ranges = (uintptr_t)&r;
	ret_.id = g.id;
	if (xfs) {
		EXPECT_EQ(0, ioctl(dev, P2PMAP_IOC_LAYOUT_IO, &io)) TH_LOG("%s", strerror(errno));
		EXPECT_EQ(0, ioctl(dev, P2PMAP_IOC_LAYOUT_COMMIT, &c)) TH_LOG("%s", strerror(errno));
	} else {
		/* ext4: revoked by the punch's unmap; write through the VFS */
		EXPECT_EQ((ssize_t)(4 * PAGE), pwrite(fd, buf, 4 * PAGE, 4 * PAGE));
	}
	EXPECT_EQ(0, ioctl(dev, P2PMAP_IOC_LAYOUT_RETURN, &ret_));

	ASSERT_EQ(0, p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, &res));
	EXPECT_EQ(0U, res.error);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	p2pmap_dgpu_release_file(self->dev, &fm);
	EXPECT_EQ(0, holds_pattern(fd, 0, 4 * PAGE, 52));
	EXPECT_EQ(0, holds_pattern(fd, 4 * PAGE, 4 * PAGE, 53));
	EXPECT_EQ(0, holds_pattern(fd, 8 * PAGE, 4 * PAGE, 51));
	EXPECT_EQ(0, holds_zeros(fd, 12 * PAGE, 4 * PAGE));
	close(dev);
	close(fd);
	free(buf);
}

/* Capabilities of this process: only CAP_LEASE (or nothing) kept. */
static int keep_only_cap_lease(int keep)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (keep) {
		data[0].effective = 1U << CAP_LEASE;
		data[0].permitted = 1U << CAP_LEASE;
	}
	return syscall(SYS_capset, &hdr, data);
}

/*
 * Another user maps the (world-writable) file: without CAP_LEASE the
 * device write is refused (EACCES) and the file unchanged; with CAP_LEASE
 * it is allowed. A layout lease delays the owner's truncates and writes.
 */
static void other_user_writes(struct __test_metadata *_metadata,
			      FIXTURE_DATA(writes) *self, int cap_lease)
{
	struct p2pmap_stats before, after;
	int fd = make_file(cap_lease ? "l.cap" : "l.nocap", 8, 32), status;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 0666));
	ASSERT_EQ(0, stats(&before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct drm_p2pmap_dgpu_result res;
		struct p2pmap_dgpu_file_map fm;
		int cfd;

		/* the child shares the DRM file; the mirror gets its credentials */
		if (prctl(PR_SET_KEEPCAPS, 1) || setgid(NOBODY) || setuid(NOBODY) ||
		    keep_only_cap_lease(cap_lease))
			_exit(10);
		cfd = open(cap_lease ? "l.cap" : "l.nocap", O_RDWR);
		if (cfd < 0)
			_exit(11);
		if (p2pmap_dgpu_import_file(self->dev, cfd, 0, 8 * PAGE, 1, &fm))
			_exit(12);
		if (dev_write(_metadata, self, &fm, 0, 8 * PAGE, 33, &res))
			_exit(13);
		p2pmap_dgpu_release_file(self->dev, &fm);
		if (cap_lease)
			_exit(res.error ? 20 + (res.error & 31) :
			      (self->p2p && res.pages_p2p != 8) ? 14 : 0);
		_exit(res.error == EACCES ? 0 : 15);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, stats(&after));
	if (cap_lease) {
		EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, 33));
		EXPECT_EQ(before.write_refused, after.write_refused);
	} else {
		EXPECT_EQ(0, holds_pattern(fd, 0, 8 * PAGE, 32));
		if (self->p2p)
			EXPECT_EQ(before.write_refused + 1, after.write_refused);
	}
	close(fd);
}

/* A non-owner without CAP_LEASE is refused with EACCES; the file is unchanged. */
TEST_F(writes, non_owner_without_cap_lease_refused)
{
	other_user_writes(_metadata, self, 0);
}

/* A non-owner with CAP_LEASE may write through the device. */
TEST_F(writes, non_owner_with_cap_lease_allowed)
{
	other_user_writes(_metadata, self, 1);
}

/* After everything, the file system is consistent (unmounted check, then mounted again). */
TEST_F(writes, zz_fsck_clean)
{
	const char *fs = getenv("RIG_FS") ? getenv("RIG_FS") : "xfs";
	char cwd[PATH_MAX];
	int ret;

	ASSERT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	ASSERT_EQ(0, chdir("/"));
	ASSERT_EQ(0, umount("/mnt")) TH_LOG("umount: %s", strerror(errno));
	if (!strcmp(fs, "xfs"))
		ret = system("xfs_repair -n /dev/nvme0n1 >/tmp/fsck.log 2>&1");
	else
		ret = system("e2fsck -fn /dev/nvme0n1 >/tmp/fsck.log 2>&1");
	if (ret && system("cat /tmp/fsck.log"))
		TH_LOG("no log");
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, mount("/dev/nvme0n1", "/mnt", fs, 0, NULL));
	ASSERT_EQ(0, chdir(cwd));
}

TEST_HARNESS_MAIN
