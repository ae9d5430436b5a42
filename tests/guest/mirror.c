// SPDX-License-Identifier: GPL-2.0
/*
 * The p2pmap mirror, driven through the dummy GPU (drivers/dummy-gpu, its
 * edu instance; tests/guest/importer_util.h), modelled on the HMM
 * selftests: data read by the device's jobs equals the memory, every
 * revocation cause takes the pages back (the device page table says so,
 * page by page) and the device re-faults to the new truth, races with
 * munmap, truncate and hole punch checked by the device's checksum, two
 * importers on one range (the edu instance and a virtual one), and the
 * counters. Runs in a directory of the file system under test (XFS or
 * ext4).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/p2pmap.h>
#include "importer_util.h"

#include "kselftest_harness.h"

#define PAGE 4096UL

static int make_file(const char *name, unsigned long npages, unsigned int seed)
{
	void *buf = malloc(npages * PAGE);
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || !buf)
		return -1;
	fill(buf, npages * PAGE, seed);
	if (pwrite(fd, buf, npages * PAGE, 0) != (ssize_t)(npages * PAGE) ||
	    fsync(fd)) {
		close(fd);
		fd = -1;
	}
	free(buf);
	return fd;
}

FIXTURE(mirror)
{
	struct imp imp;
	void *buf;
};

FIXTURE_SETUP(mirror)
{
	ASSERT_EQ(0, imp_load());
	ASSERT_EQ(0, imp_open(&self->imp, P2PMAP_DGPU_KIND_PCI));
	self->buf = malloc(64 * PAGE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(mirror)
{
	imp_close(&self->imp);
	free(self->buf);
}

/* Anonymous memory: the device reads it through the page-cache path. */
TEST_F(mirror, anon_read)
{
	unsigned long n = 16, i;
	struct imp_res cmd;
	struct drm_p2pmap_dgpu_pte snap[16];
	void *p;

	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, n * PAGE, 1);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &cmd));
	EXPECT_EQ(0, memcmp(p, self->buf, n * PAGE));
	EXPECT_EQ(n, cmd.pages_fallback);
	EXPECT_EQ(0u, cmd.pages_p2p);
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(P2PMAP_PATH_PAGECACHE, (int)snap[i].path);
		EXPECT_EQ(P2PMAP_REASON_ANONYMOUS, (int)snap[i].reason);
		EXPECT_TRUE(!!(snap[i].flags & P2PMAP_DGPU_PTE_VALID));
		EXPECT_NE(0u, snap[i].addr);
	}
	munmap(p, n * PAGE);
}

/* A shared file mapping: the device sees exactly the file's bytes. */
TEST_F(mirror, file_shared_read)
{
	unsigned long n = 32, i;
	struct imp_res cmd;
	struct drm_p2pmap_dgpu_pte snap[32];
	int fd = make_file("shared.dat", n, 2);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &cmd));
	fill(self->buf + n * PAGE, n * PAGE, 2);
	EXPECT_EQ(0, memcmp(self->buf + n * PAGE, self->buf, n * PAGE));
	EXPECT_EQ(n, cmd.pages_fallback + cmd.pages_p2p);
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		/* P2P carries no reason; the page cache always says why */
		if (snap[i].path == P2PMAP_PATH_P2P) {
			EXPECT_EQ(P2PMAP_REASON_NONE, (int)snap[i].reason);
		} else {
			EXPECT_NE(P2PMAP_REASON_NONE, (int)snap[i].reason);
		}
		EXPECT_NE(P2PMAP_REASON_ANONYMOUS, (int)snap[i].reason);
		EXPECT_NE(P2PMAP_REASON_PRIVATE, (int)snap[i].reason);
		EXPECT_TRUE(!!(snap[i].flags & P2PMAP_DGPU_PTE_VALID));
		EXPECT_NE(0u, snap[i].addr);
		/* a read-only mapping is never writable by the device */
		EXPECT_FALSE(!!(snap[i].flags & P2PMAP_DGPU_PTE_WRITABLE));
	}
	munmap(p, n * PAGE);
	close(fd);
}

/* MAP_PRIVATE file pages may differ from the blocks: page cache, PRIVATE. */
TEST_F(mirror, file_private_falls_back)
{
	unsigned long n = 4, i;
	struct drm_p2pmap_dgpu_pte snap[4];
	int fd = make_file("private.dat", n, 3);
	char *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'x';	/* copy-on-write: this page is no longer the file's */
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, NULL));
	EXPECT_EQ('x', ((char *)self->buf)[0]);
	EXPECT_EQ(0, memcmp(p, self->buf, n * PAGE));
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(P2PMAP_PATH_PAGECACHE, (int)snap[i].path);
		EXPECT_EQ(P2PMAP_REASON_PRIVATE, (int)snap[i].reason);
	}
	munmap(p, n * PAGE);
	close(fd);
}

/* munmap revokes the pages; the device then faults on nothing: EFAULT. */
TEST_F(mirror, munmap_revokes)
{
	unsigned long n = 8;
	struct imp_res before, after;
	struct drm_p2pmap_dgpu_pte snap[8];
	int fd = make_file("unmap.dat", n, 4);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &before));
	ASSERT_EQ(0, munmap(p, n * PAGE));
	EXPECT_EQ(0, imp_snapshot(&self->imp, p, n, snap, &after.invalidations));
	EXPECT_GT(after.invalidations, before.invalidations);
	EXPECT_EQ(P2PMAP_PATH_NONE, (int)snap[0].path);
	EXPECT_EQ(P2PMAP_PATH_NONE, (int)snap[n - 1].path);
	EXPECT_EQ(1u, snap[0].revocations);
	EXPECT_EQ(1u, snap[n - 1].revocations);
	EXPECT_EQ(P2PMAP_DGPU_PTE_REVOKED, snap[0].flags);
	EXPECT_EQ(0u, snap[0].addr);
	EXPECT_EQ(-EFAULT, imp_read(&self->imp, p, n, self->buf, NULL));
	close(fd);
}

/* truncate revokes the pages past the new end; they then fault with EFAULT. */
TEST_F(mirror, truncate_revokes_and_refaults)
{
	unsigned long n = 8;
	struct imp_res cmd;
	struct drm_p2pmap_dgpu_pte snap[8];
	int fd = make_file("trunc.dat", n, 5);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, NULL));
	ASSERT_EQ(0, ftruncate(fd, 2 * PAGE));
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	EXPECT_EQ(P2PMAP_PATH_NONE, (int)snap[2].path);
	EXPECT_EQ(P2PMAP_PATH_NONE, (int)snap[7].path);
	EXPECT_LE(1u, snap[2].revocations);
	EXPECT_LE(1u, snap[7].revocations);
	/* the first two pages are still the file's */
	ASSERT_EQ(0, imp_read(&self->imp, p, 2, self->buf, &cmd));
	fill(self->buf + 8 * PAGE, 2 * PAGE, 5);
	EXPECT_EQ(0, memcmp(self->buf, self->buf + 8 * PAGE, 2 * PAGE));
	/* past the end of the file there is nothing to read */
	EXPECT_EQ(-EFAULT, imp_read(&self->imp, (char *)p + 4 * PAGE, 1, self->buf, NULL));
	munmap(p, n * PAGE);
	close(fd);
}

/* A punched hole is revoked, and the device re-faults to zeros. */
TEST_F(mirror, punch_hole_refaults_zeros)
{
	unsigned long n = 4;
	struct imp_res before, after;
	static const char zeros[PAGE];
	int fd = make_file("punch.dat", n, 6);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &before));
	EXPECT_NE(0, memcmp(self->buf + PAGE, zeros, PAGE));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       PAGE, PAGE));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	EXPECT_EQ(0, memcmp(self->buf + PAGE, zeros, PAGE));
	EXPECT_NE(0, memcmp(self->buf, zeros, PAGE));
	munmap(p, n * PAGE);
	close(fd);
}

/* Collapse and insert range move the file's data: both revoke, and the
 * device re-faults to the shifted bytes. */
TEST_F(mirror, collapse_insert_range_revoke)
{
	unsigned long n = 64;	/* 256 KiB: a multiple of any block size here */
	struct imp_res before, after;
	char *want = self->buf + 32 * PAGE;
	int fd = make_file("shift.dat", n, 14);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, 16));
	ASSERT_EQ(0, imp_read(&self->imp, p, 16, self->buf, &before));

	/* drop pages 0-3: page 4 becomes page 0 */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4 * PAGE));
	ASSERT_EQ(0, imp_read(&self->imp, p, 16, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	fill(want, 20 * PAGE, 14);
	EXPECT_EQ(0, memcmp(self->buf, want + 4 * PAGE, 16 * PAGE));

	/* put 4 pages of hole back at 0: the data moves back up */
	before = after;
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4 * PAGE));
	ASSERT_EQ(0, imp_read(&self->imp, p, 16, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	EXPECT_EQ(0, memcmp(self->buf + 8 * PAGE, want + 8 * PAGE, 8 * PAGE));
	munmap(p, n * PAGE);
	close(fd);
}

/* mprotect(PROT_NONE) revokes; the device cannot read what the CPU cannot. */
TEST_F(mirror, mprotect_revokes)
{
	unsigned long n = 4;
	struct imp_res before, after;
	int fd = make_file("prot.dat", n, 7);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &before));
	ASSERT_EQ(0, mprotect(p, n * PAGE, PROT_NONE));
	EXPECT_EQ(-EFAULT, imp_read(&self->imp, p, n, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	ASSERT_EQ(0, mprotect(p, n * PAGE, PROT_READ));
	EXPECT_EQ(0, imp_read(&self->imp, p, n, self->buf, NULL));
	munmap(p, n * PAGE);
	close(fd);
}

/* mremap moves the range away: the old addresses are revoked. */
TEST_F(mirror, mremap_revokes)
{
	unsigned long n = 4;
	struct imp_res before, after;
	int fd = make_file("remap.dat", n, 8);
	void *p, *q, *hint;

	ASSERT_GE(fd, 0);
	hint = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hint);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &before));
	q = mremap(p, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hint);
	ASSERT_EQ(hint, q);
	EXPECT_EQ(-EFAULT, imp_read(&self->imp, p, n, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	munmap(q, n * PAGE);
	close(fd);
}

/* Process exit revokes with cause RELEASE (counted in the totals). */
TEST_F(mirror, exit_revokes)
{
	struct p2pmap_stats st0, st1;
	int status;
	pid_t pid;

	get_stats(&st0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct imp child;
		void *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memset(p, 1, 4 * PAGE);
		if (imp_open(&child, P2PMAP_DGPU_KIND_PCI) ||
		    imp_mirror(&child, p, 4) || imp_read(&child, p, 4, NULL, NULL))
			_exit(1);
		_exit(0);	/* the mm goes before the file is closed */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	get_stats(&st1);
	EXPECT_GE(st1.revoked[P2PMAP_REVOKE_RELEASE] -
		  st0.revoked[P2PMAP_REVOKE_RELEASE], 4u);
}

/* write(2) between two jobs: the second job sees the new bytes. */
TEST_F(mirror, write_between_jobs_is_seen)
{
	unsigned long n = 8;
	int fd = make_file("coherent.dat", n, 11);
	char *p, *fresh = self->buf + 32 * PAGE;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, NULL));
	fill(fresh, n * PAGE, 12);
	/* not through the mapping: no page of this mm changes */
	ASSERT_EQ((ssize_t)(2 * PAGE), pwrite(fd, fresh + 3 * PAGE, 2 * PAGE, 3 * PAGE));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 3 * PAGE, fresh + 3 * PAGE, 2 * PAGE));
	/* and after the data reached the blocks, too */
	ASSERT_EQ(0, fsync(fd));
	fill(fresh, n * PAGE, 13);
	ASSERT_EQ((ssize_t)PAGE, pwrite(fd, fresh, PAGE, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, NULL));
	EXPECT_EQ(0, memcmp(self->buf, fresh, PAGE));
	munmap(p, n * PAGE);
	close(fd);
}

/* 1,000 faults on a file the CPU also writes: the device always sees it. */
TEST_F_TIMEOUT(mirror, cpu_and_device_1000, 600)
{
	unsigned long n = 4, round;
	struct imp_res cmd;
	uint64_t faults = 0;
	int fd = make_file("both.dat", n, 9);
	unsigned char *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	for (round = 0; round < 1000; round++) {
		p[(round % n) * PAGE + round % PAGE] = round;
		/* a job boundary: the device reads after the CPU wrote */
		if (round % 50 == 0)
			ASSERT_EQ(0, msync(p, n * PAGE, MS_SYNC));
		ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &cmd));
		faults += cmd.faults;
		ASSERT_EQ(0, memcmp(p, self->buf, n * PAGE)) TH_LOG("round %lu", round);
	}
	/* bounded: a few faults per read, not a retry storm */
	EXPECT_LT(faults, 1000u * (1 + n) * 2);
	munmap(p, n * PAGE);
	close(fd);
}

struct racer {
	void *p;
	unsigned long len;
	int fd;
	int mode;	/* 0: munmap, 1: truncate, 2: punch */
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;

	usleep(rand() % 500);
	switch (r->mode) {
	case 0:
		munmap(r->p, r->len);
		break;
	case 1:
		if (ftruncate(r->fd, 0))
			return (void *)1;
		break;
	default:
		if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      0, r->len))
			return (void *)1;
		break;
	}
	return NULL;
}

/*
 * munmap, truncate and hole punch racing device reads, 100 rounds each:
 * the racing read is a CHECKSUM job, so that every round checks what the
 * device read; afterwards the device sees the new truth.
 */
TEST_F_TIMEOUT(mirror, races_100, 900)
{
	unsigned long n = 16, round;
	static const char zeros[16 * PAGE];
	uint32_t zcrc = p2pmap_dgpu_crc32(0, zeros, sizeof(zeros));
	unsigned int won[3] = { 0 };
	int mode;

	for (mode = 0; mode < 3; mode++) {
		for (round = 0; round < 100; round++) {
			struct racer r = { .len = n * PAGE, .mode = mode };
			char *want = self->buf + 32 * PAGE;
			uint32_t crc = 0, crc2 = 0;
			pthread_t t;
			void *tret;
			int ret, fd;

			fd = make_file("race.dat", n, round);
			ASSERT_GE(fd, 0);
			fill(want, n * PAGE, round);
			r.fd = fd;
			r.p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
			ASSERT_NE(MAP_FAILED, r.p);
			ASSERT_EQ(0, imp_mirror(&self->imp, r.p, n));
			ASSERT_EQ(0, pthread_create(&t, NULL, race_thread, &r));
			ret = imp_checksum(&self->imp, r.p, n, &crc, NULL);
			ASSERT_EQ(0, pthread_join(t, &tret));
			ASSERT_EQ(NULL, tret);
			/* either the read won, or the device saw the race */
			ASSERT_TRUE(ret == 0 || ret == -EFAULT) TH_LOG("mode %d: %d", mode, ret);
			won[mode] += ret == 0;
			/*
			 * A completed read returned the file's bytes: munmap
			 * and truncate leave nothing else to read (pages they
			 * took back fault with EFAULT).
			 */
			if (ret == 0 && mode != 2)
				ASSERT_EQ(p2pmap_dgpu_crc32(0, want, n * PAGE), crc)
					TH_LOG("mode %d round %lu", mode, round);
			/*
			 * (A read racing a punch may see some pages before it
			 * and some after: only what follows is defined.)
			 */
			/* afterwards the device sees the new truth */
			if (mode != 2) {
				ASSERT_EQ(-EFAULT, imp_checksum(&self->imp, r.p, n, &crc2, NULL));
				ASSERT_EQ(-EFAULT, imp_read(&self->imp, r.p, n, self->buf, NULL));
			} else {
				ASSERT_EQ(0, imp_checksum(&self->imp, r.p, n, &crc2, NULL));
				ASSERT_EQ(zcrc, crc2);
				ASSERT_EQ(0, imp_read(&self->imp, r.p, n, self->buf, NULL));
				ASSERT_EQ(0, memcmp(self->buf, zeros, n * PAGE));
			}
			imp_release(&self->imp);
			if (mode != 0)
				munmap(r.p, n * PAGE);
			close(fd);
		}
	}
	TH_LOG("the device read first in %u/%u/%u rounds (munmap/truncate/punch)",
	       won[0], won[1], won[2]);
}

/*
 * Two importers on one range - the edu instance and a virtual one (no P2P
 * route: the page cache, NO_ROUTE) - both read it, and munmap revokes both.
 */
TEST_F(mirror, two_importers)
{
	unsigned long n = 8, i;
	struct imp_res a0, a1, b0, b1;
	struct drm_p2pmap_dgpu_pte snap[8];
	int fd = make_file("two.dat", n, 10);
	struct imp other;
	void *p;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, imp_open(&other, P2PMAP_DGPU_KIND_VIRTUAL));
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_mirror(&other, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, self->buf, &a0));
	ASSERT_EQ(0, imp_read(&other, p, n, self->buf + n * PAGE, &b0));
	EXPECT_EQ(0, memcmp(self->buf, self->buf + n * PAGE, n * PAGE));
	fill(self->buf + 2 * n * PAGE, n * PAGE, 10);
	EXPECT_EQ(0, memcmp(self->buf, self->buf + 2 * n * PAGE, n * PAGE));
	EXPECT_EQ(n, b0.pages_fallback);
	EXPECT_EQ(n, b0.reasons[P2PMAP_REASON_NO_ROUTE]);
	ASSERT_EQ(0, imp_snapshot(&other, p, n, snap, NULL));
	for (i = 0; i < n; i++)
		EXPECT_EQ(P2PMAP_REASON_NO_ROUTE, (int)snap[i].reason);
	ASSERT_EQ(0, munmap(p, n * PAGE));
	EXPECT_EQ(-EFAULT, imp_read(&self->imp, p, n, self->buf, &a1));
	EXPECT_EQ(-EFAULT, imp_read(&other, p, n, self->buf, &b1));
	EXPECT_GT(a1.invalidations, a0.invalidations);
	EXPECT_GT(b1.invalidations, b0.invalidations);
	imp_close(&other);
	close(fd);
}

/* Bad input to the mirror changes nothing and says why. */
TEST_F(mirror, bad_input)
{
	struct drm_p2pmap_dgpu_userptr_fault f;
	struct drm_p2pmap_dgpu_pte snap[2];
	int dfd = p2pmap_dgpu_fd(self->imp.dev);
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EINVAL, imp_mirror(&self->imp, (char *)p + 1, 1));
	EXPECT_EQ(-EINVAL, imp_mirror(&self->imp, p, 0));
	EXPECT_EQ(-EINVAL, imp_mirror(&self->imp, (void *)(~0UL & ~(PAGE - 1)), 2));
	/* reading outside the mirror is refused */
	ASSERT_EQ(0, imp_mirror(&self->imp, p, 1));
	EXPECT_EQ(-EINVAL, imp_read(&self->imp, p, 2, self->buf, NULL));
	EXPECT_EQ(-EINVAL, imp_read(&self->imp, (char *)p - PAGE, 1, self->buf, NULL));

	/* so is faulting outside it, misaligned, or with unknown flags */
	memset(&f, 0x5a, sizeof(f));
	EXPECT_EQ(-EINVAL, imp_fault(&self->imp, p, 2, 0, &f));
	EXPECT_EQ(0x5a, ((unsigned char *)&f)[0]);	/* untouched */
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_userptr_fault(self->imp.dev, self->imp.handle,
						     1, PAGE, 0, NULL));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_userptr_fault(self->imp.dev, self->imp.handle,
						     0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_userptr_fault(self->imp.dev, self->imp.handle,
						     0, PAGE, 1u << 31, NULL));
	EXPECT_EQ(-ENOENT, p2pmap_dgpu_userptr_fault(self->imp.dev, 0x7fff, 0, PAGE,
						     0, NULL));
	/* a VRAM object has no device page table of user memory */
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_userptr_fault(self->imp.dev, self->imp.vram, 0,
						     PAGE, 0, NULL));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_userptr_snapshot(self->imp.dev, self->imp.vram,
							0, 1, snap, NULL));
	/* reserved members must be zero */
	{
		struct drm_p2pmap_dgpu_userptr_fault a = {
			.handle = self->imp.handle, .length = PAGE, .reserved[3] = 1,
		};
		struct drm_p2pmap_dgpu_userptr_snapshot b = {
			.handle = self->imp.handle, .npages = 1,
			.entries = (uintptr_t)snap, .reserved[0] = 1,
		};

		EXPECT_EQ(-1, ioctl(dfd, DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT, &a));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, ioctl(dfd, DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT, &b));
		EXPECT_EQ(EINVAL, errno);
		b.reserved[0] = 0;
		b.flags = 1;
		EXPECT_EQ(-1, ioctl(dfd, DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT, &b));
		EXPECT_EQ(EINVAL, errno);
		b.flags = 0;
		b.entries = 0;	/* entries wanted, nowhere to put them */
		EXPECT_EQ(-1, ioctl(dfd, DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT, &b));
		EXPECT_EQ(EINVAL, errno);
		b.entries = 8;	/* not a writable address */
		EXPECT_EQ(-1, ioctl(dfd, DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT, &b));
		EXPECT_EQ(EFAULT, errno);
	}
	/* snapshots outside the object */
	EXPECT_EQ(-EINVAL, imp_snapshot(&self->imp, p, 2, snap, NULL));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_userptr_snapshot(self->imp.dev, self->imp.handle,
							PAGE, 0, NULL, NULL));
	/* none of that mapped anything */
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, 1, snap, NULL));
	EXPECT_EQ(P2PMAP_PATH_NONE, (int)snap[0].path);
	EXPECT_EQ(0u, snap[0].flags);
	munmap(p, PAGE);
}

/*
 * DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT maps without a job, counts pages by
 * path and reason, maps nothing twice, and refuses a write fault of a
 * read-only mapping (EPERM) and unmapped memory (EFAULT).
 */
TEST_F(mirror, fault_without_job)
{
	unsigned long n = 8, i;
	struct drm_p2pmap_dgpu_userptr_fault f;
	struct drm_p2pmap_dgpu_pte snap[8];
	char *p;

	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 7, n * PAGE);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_fault(&self->imp, p + 2 * PAGE, 4, 0, &f));
	EXPECT_EQ(0u, f.pages_p2p);
	EXPECT_EQ(4u, f.pages_pagecache);
	EXPECT_EQ(4u, f.reasons[P2PMAP_REASON_ANONYMOUS]);
	EXPECT_EQ(0u, f.pages_unmapped);
	EXPECT_EQ(1u, f.faults);
	EXPECT_EQ(4u, f.faulted_pages);
	EXPECT_EQ(0u, f.refaults);
	EXPECT_LT(0u, f.duration_ns);
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		int in = i >= 2 && i < 6;

		EXPECT_EQ(in ? P2PMAP_PATH_PAGECACHE : P2PMAP_PATH_NONE, (int)snap[i].path)
			TH_LOG("page %lu", i);
		/* (a read fault of a page the CPU may write maps it writable) */
		EXPECT_EQ(in ? P2PMAP_DGPU_PTE_VALID : 0u,
			  snap[i].flags & P2PMAP_DGPU_PTE_VALID);
		EXPECT_EQ(in, snap[i].addr != 0);
	}
	/* mapped already: nothing to fault */
	ASSERT_EQ(0, imp_fault(&self->imp, p + 2 * PAGE, 4, 0, &f));
	EXPECT_EQ(0u, f.faults);
	EXPECT_EQ(4u, f.pages_pagecache);
	/* for writing: the writable mapping lets the device write */
	ASSERT_EQ(0, imp_fault(&self->imp, p, n, P2PMAP_DGPU_FAULT_WRITE, &f));
	EXPECT_EQ(n, f.pages_pagecache);
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	for (i = 0; i < n; i++)
		EXPECT_EQ(P2PMAP_DGPU_PTE_VALID | P2PMAP_DGPU_PTE_WRITABLE, snap[i].flags);
	/* mprotect takes them back: counted per page, refaulted after */
	ASSERT_EQ(0, mprotect(p, n * PAGE, PROT_READ));
	ASSERT_EQ(0, imp_snapshot(&self->imp, p, n, snap, NULL));
	EXPECT_EQ(P2PMAP_DGPU_PTE_REVOKED, snap[0].flags);
	EXPECT_EQ(1u, snap[0].revocations);
	EXPECT_EQ(-EPERM, imp_fault(&self->imp, p, n, P2PMAP_DGPU_FAULT_WRITE, &f));
	ASSERT_EQ(0, imp_fault(&self->imp, p, n, 0, &f));
	EXPECT_EQ(n, f.refaults);
	EXPECT_EQ(n, f.pages_pagecache);
	/* unmapped memory: EFAULT, and the pages before it were mapped */
	ASSERT_EQ(0, munmap(p + 4 * PAGE, 4 * PAGE));
	memset(&f, 0, sizeof(f));
	EXPECT_EQ(-EFAULT, imp_fault(&self->imp, p, n, 0, &f));
	EXPECT_EQ(4u, f.pages_pagecache);
	EXPECT_EQ(4u, f.pages_unmapped);
	munmap(p, 4 * PAGE);
}

/* The totals count every page handed out, by path and reason. */
TEST_F(mirror, stats_count_pages)
{
	struct p2pmap_stats st0, st1;
	unsigned long n = 5, i;
	uint64_t sum = 0;
	void *p;

	get_stats(&st0);
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 3, n * PAGE);
	ASSERT_EQ(0, imp_mirror(&self->imp, p, n));
	ASSERT_EQ(0, imp_read(&self->imp, p, n, NULL, NULL));
	get_stats(&st1);
	EXPECT_EQ(n, st1.fallback[P2PMAP_REASON_ANONYMOUS] -
		     st0.fallback[P2PMAP_REASON_ANONYMOUS]);
	EXPECT_GE(st1.faults - st0.faults, 1u);
	EXPECT_GE(st1.mirrors, 1u);
	EXPECT_GE(st1.importers, 1u);
	for (i = 0; i < P2PMAP_STATS_MAX_REASONS; i++)
		sum += st1.fallback[i];
	EXPECT_EQ(sum, st1.pages_fallback);
	munmap(p, n * PAGE);
}

TEST_HARNESS_MAIN
