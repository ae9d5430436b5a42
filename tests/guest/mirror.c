// SPDX-License-Identifier: GPL-2.0
/*
 * The p2pmap mirror, driven through the test importer
 * (tests/modules/p2pmap_test_importer.ko), modelled on the HMM selftests:
 * data through the device equals the memory, every revocation cause takes
 * the pages back and the device re-faults to the new truth, races with
 * munmap and truncate, two importers on one range, and the counters.
 * Runs in a directory of the file system under test (XFS or ext4).
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

static int load_module(void)
{
	if (access("/dev/p2pmap_test_importer", F_OK) == 0)
		return 0;
	return system("modprobe p2pmap_test_importer");
}

static int dev_open(void)
{
	return open("/dev/p2pmap_test_importer", O_RDWR | O_CLOEXEC);
}

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
	int fd;
	void *buf;
};

FIXTURE_SETUP(mirror)
{
	ASSERT_EQ(0, load_module());
	self->fd = dev_open();
	ASSERT_GE(self->fd, 0);
	self->buf = malloc(64 * PAGE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(mirror)
{
	close(self->fd);
	free(self->buf);
}

/* Anonymous memory: the device reads it through the page-cache path. */
TEST_F(mirror, anon_read)
{
	unsigned long n = 16, i;
	struct p2pmap_test_cmd cmd;
	unsigned char snap[32];
	void *p;

	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, n * PAGE, 1);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &cmd));
	EXPECT_EQ(0, memcmp(p, self->buf, n * PAGE));
	EXPECT_EQ(n, cmd.pages_fallback);
	EXPECT_EQ(0u, cmd.pages_p2p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_SNAPSHOT, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(P2PMAP_PATH_PAGECACHE, snap[i]);
		EXPECT_EQ(P2PMAP_REASON_ANONYMOUS, snap[n + i]);
	}
	munmap(p, n * PAGE);
}

/* A shared file mapping: the device sees exactly the file's bytes. */
TEST_F(mirror, file_shared_read)
{
	unsigned long n = 32, i;
	struct p2pmap_test_cmd cmd;
	unsigned char snap[64];
	int fd = make_file("shared.dat", n, 2);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &cmd));
	fill(self->buf + n * PAGE, n * PAGE, 2);
	EXPECT_EQ(0, memcmp(self->buf + n * PAGE, self->buf, n * PAGE));
	EXPECT_EQ(n, cmd.pages_fallback + cmd.pages_p2p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_SNAPSHOT, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		/* P2P carries no reason; the page cache always says why */
		if (snap[i] == P2PMAP_PATH_P2P) {
			EXPECT_EQ(P2PMAP_REASON_NONE, snap[n + i]);
		} else {
			EXPECT_NE(P2PMAP_REASON_NONE, snap[n + i]);
		}
		EXPECT_NE(P2PMAP_REASON_ANONYMOUS, snap[n + i]);
		EXPECT_NE(P2PMAP_REASON_PRIVATE, snap[n + i]);
	}
	munmap(p, n * PAGE);
	close(fd);
}

/* MAP_PRIVATE file pages may differ from the blocks: page cache, PRIVATE. */
TEST_F(mirror, file_private_falls_back)
{
	unsigned long n = 4, i;
	unsigned char snap[8];
	int fd = make_file("private.dat", n, 3);
	char *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'x';	/* copy-on-write: this page is no longer the file's */
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	EXPECT_EQ('x', ((char *)self->buf)[0]);
	EXPECT_EQ(0, memcmp(p, self->buf, n * PAGE));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_SNAPSHOT, p, n, snap, NULL));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(P2PMAP_PATH_PAGECACHE, snap[i]);
		EXPECT_EQ(P2PMAP_REASON_PRIVATE, snap[n + i]);
	}
	munmap(p, n * PAGE);
	close(fd);
}

/* munmap revokes the pages; the device then faults on nothing: EFAULT. */
TEST_F(mirror, munmap_revokes)
{
	unsigned long n = 8;
	struct p2pmap_test_cmd before, after;
	unsigned char snap[16];
	int fd = make_file("unmap.dat", n, 4);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &before));
	ASSERT_EQ(0, munmap(p, n * PAGE));
	EXPECT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_SNAPSHOT, p, n, snap, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	EXPECT_EQ(P2PMAP_PATH_NONE, snap[0]);
	EXPECT_EQ(P2PMAP_PATH_NONE, snap[n - 1]);
	EXPECT_EQ(-EFAULT, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	close(fd);
}

/* truncate revokes the pages past the new end; they then fault with EFAULT. */
TEST_F(mirror, truncate_revokes_and_refaults)
{
	unsigned long n = 8;
	struct p2pmap_test_cmd cmd;
	unsigned char snap[16];
	int fd = make_file("trunc.dat", n, 5);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	ASSERT_EQ(0, ftruncate(fd, 2 * PAGE));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_SNAPSHOT, p, n, snap, NULL));
	EXPECT_EQ(P2PMAP_PATH_NONE, snap[2]);
	EXPECT_EQ(P2PMAP_PATH_NONE, snap[7]);
	/* the first two pages are still the file's */
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, 2, self->buf, &cmd));
	fill(self->buf + 8 * PAGE, 2 * PAGE, 5);
	EXPECT_EQ(0, memcmp(self->buf, self->buf + 8 * PAGE, 2 * PAGE));
	/* past the end of the file there is nothing to read */
	EXPECT_EQ(-EFAULT, dev_cmd(self->fd, P2PMAP_TEST_READ,
				   (char *)p + 4 * PAGE, 1, self->buf, NULL));
	munmap(p, n * PAGE);
	close(fd);
}

/* A punched hole is revoked, and the device re-faults to zeros. */
TEST_F(mirror, punch_hole_refaults_zeros)
{
	unsigned long n = 4;
	struct p2pmap_test_cmd before, after;
	static const char zeros[PAGE];
	int fd = make_file("punch.dat", n, 6);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &before));
	EXPECT_NE(0, memcmp(self->buf + PAGE, zeros, PAGE));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       PAGE, PAGE));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &after));
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
	struct p2pmap_test_cmd before, after;
	char *want = self->buf + 32 * PAGE;
	int fd = make_file("shift.dat", n, 14);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, 16, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, 16, self->buf, &before));

	/* drop pages 0-3: page 4 becomes page 0 */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4 * PAGE));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, 16, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	fill(want, 20 * PAGE, 14);
	EXPECT_EQ(0, memcmp(self->buf, want + 4 * PAGE, 16 * PAGE));

	/* put 4 pages of hole back at 0: the data moves back up */
	before = after;
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4 * PAGE));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, 16, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	EXPECT_EQ(0, memcmp(self->buf + 8 * PAGE, want + 8 * PAGE, 8 * PAGE));
	munmap(p, n * PAGE);
	close(fd);
}

/* mprotect(PROT_NONE) revokes; the device cannot read what the CPU cannot. */
TEST_F(mirror, mprotect_revokes)
{
	unsigned long n = 4;
	struct p2pmap_test_cmd before, after;
	int fd = make_file("prot.dat", n, 7);
	void *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &before));
	ASSERT_EQ(0, mprotect(p, n * PAGE, PROT_NONE));
	EXPECT_EQ(-EFAULT, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &after));
	EXPECT_GT(after.invalidations, before.invalidations);
	ASSERT_EQ(0, mprotect(p, n * PAGE, PROT_READ));
	EXPECT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	munmap(p, n * PAGE);
	close(fd);
}

/* mremap moves the range away: the old addresses are revoked. */
TEST_F(mirror, mremap_revokes)
{
	unsigned long n = 4;
	struct p2pmap_test_cmd before, after;
	int fd = make_file("remap.dat", n, 8);
	void *p, *q, *hint;

	ASSERT_GE(fd, 0);
	hint = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hint);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &before));
	q = mremap(p, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hint);
	ASSERT_EQ(hint, q);
	EXPECT_EQ(-EFAULT, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &after));
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
		int fd = dev_open();
		void *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memset(p, 1, 4 * PAGE);
		if (fd < 0 || dev_cmd(fd, P2PMAP_TEST_MIRROR, p, 4, NULL, NULL) ||
		    dev_cmd(fd, P2PMAP_TEST_READ, p, 4, NULL, NULL))
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
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	fill(fresh, n * PAGE, 12);
	/* not through the mapping: no page of this mm changes */
	ASSERT_EQ((ssize_t)(2 * PAGE), pwrite(fd, fresh + 3 * PAGE, 2 * PAGE, 3 * PAGE));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 3 * PAGE, fresh + 3 * PAGE, 2 * PAGE));
	/* and after the data reached the blocks, too */
	ASSERT_EQ(0, fsync(fd));
	fill(fresh, n * PAGE, 13);
	ASSERT_EQ((ssize_t)PAGE, pwrite(fd, fresh, PAGE, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, NULL));
	EXPECT_EQ(0, memcmp(self->buf, fresh, PAGE));
	munmap(p, n * PAGE);
	close(fd);
}

/* 1,000 faults on a file the CPU also writes: the device always sees it. */
TEST_F_TIMEOUT(mirror, cpu_and_device_1000, 600)
{
	unsigned long n = 4, round;
	struct p2pmap_test_cmd cmd;
	uint64_t faults = 0;
	int fd = make_file("both.dat", n, 9);
	unsigned char *p;

	ASSERT_GE(fd, 0);
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	for (round = 0; round < 1000; round++) {
		p[(round % n) * PAGE + round % PAGE] = round;
		/* a job boundary: the device reads after the CPU wrote */
		if (round % 50 == 0)
			ASSERT_EQ(0, msync(p, n * PAGE, MS_SYNC));
		ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &cmd));
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

/* munmap, truncate and hole punch racing device reads, 100 rounds each. */
TEST_F_TIMEOUT(mirror, races_100, 900)
{
	unsigned long n = 16, round;
	int mode;

	for (mode = 0; mode < 3; mode++) {
		for (round = 0; round < 100; round++) {
			struct racer r = { .len = n * PAGE, .mode = mode };
			pthread_t t;
			void *tret;
			int ret, fd;

			fd = make_file("race.dat", n, round);
			ASSERT_GE(fd, 0);
			r.fd = fd;
			r.p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
			ASSERT_NE(MAP_FAILED, r.p);
			ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, r.p, n,
					     NULL, NULL));
			ASSERT_EQ(0, pthread_create(&t, NULL, race_thread, &r));
			ret = dev_cmd(self->fd, P2PMAP_TEST_READ, r.p, n,
				      self->buf, NULL);
			ASSERT_EQ(0, pthread_join(t, &tret));
			ASSERT_EQ(NULL, tret);
			/* either the read won, or the device saw the race */
			ASSERT_TRUE(ret == 0 || ret == -EFAULT) TH_LOG("mode %d: %d", mode, ret);
			if (ret == 0 && mode == 0) {
				char *want = self->buf + 32 * PAGE;

				/* a completed read returned the file's bytes */
				fill(want, n * PAGE, round);
				ASSERT_EQ(0, memcmp(self->buf, want, n * PAGE));
			}
			/* afterwards the device sees the new truth */
			if (mode == 0) {
				ASSERT_EQ(-EFAULT, dev_cmd(self->fd, P2PMAP_TEST_READ,
							   r.p, n, self->buf, NULL));
			} else if (mode == 2) {
				static const char zeros[16 * PAGE];

				ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ,
						     r.p, n, self->buf, NULL));
				ASSERT_EQ(0, memcmp(self->buf, zeros, n * PAGE));
			}
			ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_RELEASE, NULL, 0,
					     NULL, NULL));
			if (mode != 0)
				munmap(r.p, n * PAGE);
			close(fd);
		}
	}
}

/* Two importers on one range both read it, and munmap revokes both. */
TEST_F(mirror, two_importers)
{
	unsigned long n = 8;
	struct p2pmap_test_cmd a0, a1, b0, b1;
	int fd = make_file("two.dat", n, 10);
	int fd2 = dev_open();
	void *p;

	ASSERT_GE(fd, 0);
	ASSERT_GE(fd2, 0);
	p = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(fd2, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &a0));
	ASSERT_EQ(0, dev_cmd(fd2, P2PMAP_TEST_READ, p, n, self->buf + n * PAGE, &b0));
	EXPECT_EQ(0, memcmp(self->buf, self->buf + n * PAGE, n * PAGE));
	ASSERT_EQ(0, munmap(p, n * PAGE));
	EXPECT_EQ(-EFAULT, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, self->buf, &a1));
	EXPECT_EQ(-EFAULT, dev_cmd(fd2, P2PMAP_TEST_READ, p, n, self->buf, &b1));
	EXPECT_GT(a1.invalidations, a0.invalidations);
	EXPECT_GT(b1.invalidations, b0.invalidations);
	close(fd2);
	close(fd);
}

/* Bad input to the mirror changes nothing and says why. */
TEST_F(mirror, bad_input)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EINVAL, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, (char *)p + 1, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, dev_cmd(self->fd, P2PMAP_TEST_MIRROR,
				   (void *)(~0UL & ~(PAGE - 1)), 2, NULL, NULL));
	/* reading outside the mirror is refused */
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, dev_cmd(self->fd, P2PMAP_TEST_READ, p, 2, self->buf, NULL));
	munmap(p, PAGE);
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
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_MIRROR, p, n, NULL, NULL));
	ASSERT_EQ(0, dev_cmd(self->fd, P2PMAP_TEST_READ, p, n, NULL, NULL));
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
