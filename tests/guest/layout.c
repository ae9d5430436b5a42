// SPDX-License-Identifier: GPL-2.0
/*
 * Layouts (/dev/p2pmap LAYOUT_GET, _IO, _COMMIT, _RETURN; recall events):
 * the pNFS block-layout model for local clients, on XFS and ext4. A client
 * writes through a layout and commits, and another process reading through
 * the VFS sees exactly those bytes; recalls on truncate and hole punch, a
 * client that returns in time and one that is fenced; concurrent layouts;
 * online defragmentation; lease ownership; every bad input. Runs in a
 * directory of the file system under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/magic.h>
#include <linux/p2pmap.h>

#include "kselftest_harness.h"

#define KIB		1024UL
#define MIB		(1024UL * 1024)
#define MAX_EXT		64

enum fs_kind { FS_OTHER, FS_XFS, FS_EXT4 };

/* EXT4_IOC_MOVE_EXT (fs/ext4/ext4.h): what e4defrag calls */
struct move_extent {
	uint32_t reserved;
	uint32_t donor_fd;
	uint64_t orig_start;
	uint64_t donor_start;
	uint64_t len;
	uint64_t moved_len;
};

#define EXT4_IOC_MOVE_EXT	_IOWR('f', 15, struct move_extent)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(void *p, size_t len, unsigned int seed, uint64_t off)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = seed * 2654435761u + (uint32_t)(off / 4 + i) + 1;
}

/* A file of @len bytes of fill(@seed), on disk. */
static int make_file(const char *name, size_t len, unsigned int seed)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	void *buf;

	if (fd < 0)
		return -1;
	if (len) {
		buf = malloc(len);
		if (!buf)
			return -1;
		fill(buf, len, seed, 0);
		if (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd)) {
			free(buf);
			close(fd);
			return -1;
		}
		free(buf);
	}
	return fd;
}

/* A checksum of the whole file as the VFS shows it to another process. */
static uint64_t vfs_sum(const char *name, off_t *size)
{
	struct stat st;
	uint64_t sum = 1469598103934665603ULL;
	unsigned char buf[65536];
	ssize_t n, i;
	int fd = open(name, O_RDONLY);

	if (fd < 0)
		return 0;
	fstat(fd, &st);
	if (size)
		*size = st.st_size;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			sum = (sum ^ buf[i]) * 1099511628211ULL;
	close(fd);
	return sum;
}

struct lay {
	struct p2pmap_layout_get g;
	struct p2pmap_layout_extent ext[MAX_EXT];
};

static int layout_get(int dev, int fd, uint32_t iomode, uint64_t off,
		      uint64_t len, uint32_t break_ms, int efd, struct lay *l)
{
	memset(l, 0, sizeof(*l));
	l->g.size = sizeof(l->g);
	l->g.fd = fd;
	l->g.iomode = iomode;
	l->g.offset = off;
	l->g.length = len;
	l->g.break_ms = break_ms;
	if (efd >= 0) {
		l->g.flags |= P2PMAP_LAYOUT_GET_EVENTFD;
		l->g.eventfd = efd;
	}
	l->g.extents = (uintptr_t)l->ext;
	l->g.nr_extents = MAX_EXT;
	return ioctl(dev, P2PMAP_IOC_LAYOUT_GET, &l->g) ? -errno : 0;
}

static int layout_io(int dev, uint32_t id, bool write, uint64_t off,
		     void *buf, uint64_t len)
{
	struct p2pmap_layout_io io = {
		.size = sizeof(io), .id = id, .offset = off, .length = len,
		.buf = (uintptr_t)buf,
		.flags = write ? P2PMAP_LAYOUT_IO_WRITE : 0,
	};

	return ioctl(dev, P2PMAP_IOC_LAYOUT_IO, &io) ? -errno : 0;
}

static int layout_commit(int dev, uint32_t id, uint64_t off, uint64_t len,
			 int64_t new_size)
{
	struct p2pmap_layout_range r = { .offset = off, .length = len };
	struct p2pmap_layout_commit c = {
		.size = sizeof(c), .id = id, .nr_ranges = 1,
		.ranges = (uintptr_t)&r,
	};

	if (new_size >= 0) {
		c.flags = P2PMAP_LAYOUT_COMMIT_SIZE;
		c.new_size = new_size;
	}
	return ioctl(dev, P2PMAP_IOC_LAYOUT_COMMIT, &c) ? -errno : 0;
}

static int layout_return(int dev, uint32_t id)
{
	struct p2pmap_layout_return r = { .size = sizeof(r), .id = id };

	return ioctl(dev, P2PMAP_IOC_LAYOUT_RETURN, &r) ? -errno : 0;
}

/* Wait up to @ms for one event on @dev; 0 with @ev filled, or -errno. */
static int next_event(int dev, int ms, struct p2pmap_layout_event *ev)
{
	struct pollfd pfd = { .fd = dev, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return -ETIMEDOUT;
	n = read(dev, ev, sizeof(*ev));
	return n == sizeof(*ev) ? 0 : -errno;
}

/* Run @op (truncate or punch) of @name in a child; returns its pid. */
enum change { CHANGE_TRUNCATE, CHANGE_PUNCH };

static pid_t change_in_child(const char *name, enum change op, int pipe_w)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(name, O_RDWR);
		double t0 = now(), dt;
		int ret;

		if (op == CHANGE_TRUNCATE)
			ret = ftruncate(fd, 0);
		else
			ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					0, 256 * KIB);
		dt = now() - t0;
		if (write(pipe_w, &dt, sizeof(dt)) != sizeof(dt))
			_exit(3);
		_exit(ret ? 2 : 0);
	}
	return pid;
}

/* The child's status and how long its change took (seconds). */
static int wait_change(pid_t pid, int pipe_r, double *dt)
{
	int status;

	if (read(pipe_r, dt, sizeof(*dt)) != sizeof(*dt))
		return -1;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

FIXTURE(layout)
{
	int dev;
	enum fs_kind kind;
};

FIXTURE_SETUP(layout)
{
	struct statfs sf;

	ASSERT_EQ(0, statfs(".", &sf));
	self->kind = sf.f_type == XFS_SUPER_MAGIC ? FS_XFS :
		     sf.f_type == EXT4_SUPER_MAGIC ? FS_EXT4 : FS_OTHER;
	ASSERT_NE((int)FS_OTHER, (int)self->kind);
	self->dev = open("/dev/p2pmap", O_RDWR);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(layout)
{
	close(self->dev);
}

/* A client overwrites written blocks, commits; a reader through the VFS sees exactly those bytes. */
TEST_F(layout, write_commit_visible)
{
	size_t len = 1 * MIB;
	unsigned char *want = malloc(len), *buf = malloc(256 * KIB);
	struct lay l;
	off_t size;
	unsigned int i;
	int fd = make_file("f", len, 1), status;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 0, len, 0, -1, &l));
	EXPECT_NE(0U, l.g.id);
	EXPECT_EQ(0ULL, l.g.offset);
	EXPECT_EQ(len, l.g.length);
	EXPECT_EQ(4096U, l.g.blksize);
	ASSERT_LE(1U, l.g.nr_extents);
	for (i = 0; i < l.g.nr_extents; i++) {
		struct stat st;

		fstat(fd, &st);
		EXPECT_EQ((__u32)P2PMAP_EXTENT_WRITTEN, l.ext[i].state);
		EXPECT_EQ(st.st_dev, l.ext[i].dev);
		EXPECT_NE(0ULL, l.ext[i].sector);
		/* the rig's NVMe has a CMB, and no device was named */
		EXPECT_EQ((__u32)P2PMAP_EXTENT_CMB, l.ext[i].flags);
		EXPECT_EQ((__u32)P2PMAP_REASON_NONE, l.ext[i].reason);
	}

	fill(want, len, 1, 0);
	fill(want + 256 * KIB, 256 * KIB, 2, 256 * KIB);
	fill(buf, 256 * KIB, 2, 256 * KIB);
	ASSERT_EQ(0, layout_io(self->dev, l.g.id, true, 256 * KIB, buf, 256 * KIB));
	ASSERT_EQ(0, layout_commit(self->dev, l.g.id, 256 * KIB, 256 * KIB, -1));

	/* read back through the layout, at an unaligned offset */
	memset(buf, 0, 256 * KIB);
	ASSERT_EQ(0, layout_io(self->dev, l.g.id, false, 256 * KIB - 100, buf, 1000));
	EXPECT_EQ(0, memcmp(buf, want + 256 * KIB - 100, 1000));
	ASSERT_EQ(0, layout_return(self->dev, l.g.id));

	/* another process, through the VFS (page cache) */
	pid = fork();
	if (pid == 0) {
		unsigned char *got = malloc(len);
		int rfd = open("f", O_RDONLY);

		_exit(!(rfd >= 0 && pread(rfd, got, len, 0) == (ssize_t)len &&
			!memcmp(got, want, len)));
	}
	waitpid(pid, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
	vfs_sum("f", &size);
	EXPECT_EQ((off_t)len, size);
	close(fd);
	free(want);
	free(buf);
}

/* XFS: a new file gets unwritten extents, written and committed with a size extension; ext4 refuses allocation. */
TEST_F(layout, new_file_unwritten_size)
{
	size_t len = 2 * MIB, wlen = 1536 * KIB, size = 1536 * KIB - 100;
	unsigned char *buf = malloc(len), *got = malloc(len);
	struct lay l;
	struct stat st;
	unsigned int i;
	int fd = make_file("new", 0, 0), rfd;
	int ret;

	ASSERT_LE(0, fd);
	ret = layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 0, len, 0, -1, &l);
	if (self->kind == FS_EXT4) {
		/* no map_blocks: nothing can be allocated, the file is unchanged */
		EXPECT_EQ(-EOPNOTSUPP, ret);
		EXPECT_EQ((__u32)P2PMAP_REASON_HOLE, l.g.reason);
		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ(0, st.st_size);
		EXPECT_EQ(0, st.st_blocks);
		/* nor converted: a preallocated range */
		ASSERT_EQ(0, fallocate(fd, 0, 0, len));
		EXPECT_EQ(-EOPNOTSUPP, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW,
						  0, len, 0, -1, &l));
		EXPECT_EQ((__u32)P2PMAP_REASON_UNWRITTEN, l.g.reason);
		/* but a read layout reports it, reading zeros */
		ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, len,
					0, -1, &l));
		EXPECT_EQ((__u32)P2PMAP_EXTENT_UNWRITTEN, l.ext[0].state);
		memset(got, 0xaa, 4096);
		ASSERT_EQ(0, layout_io(self->dev, l.g.id, false, 0, got, 4096));
		for (i = 0; i < 4096; i++)
			ASSERT_EQ(0, got[i]);
		EXPECT_EQ(0, layout_return(self->dev, l.g.id));
		close(fd);
		return;
	}

	ASSERT_EQ(0, ret);
	EXPECT_EQ(len, l.g.length);
	for (i = 0; i < l.g.nr_extents; i++)
		EXPECT_EQ((__u32)P2PMAP_EXTENT_UNWRITTEN, l.ext[i].state);
	/* unwritten blocks read as zeros */
	memset(got, 0xaa, 4096);
	ASSERT_EQ(0, layout_io(self->dev, l.g.id, false, 0, got, 4096));
	for (i = 0; i < 4096; i++)
		ASSERT_EQ(0, got[i]);

	fill(buf, wlen, 3, 0);
	ASSERT_EQ(0, layout_io(self->dev, l.g.id, true, 0, buf, wlen));
	/* not committed yet: the file is still empty */
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_size);
	/* committing blocks never written through the layout is refused */
	EXPECT_EQ(-EINVAL, layout_commit(self->dev, l.g.id, 0, len, len));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_size);
	ASSERT_EQ(0, layout_commit(self->dev, l.g.id, 0, wlen, size));
	ASSERT_EQ(0, layout_return(self->dev, l.g.id));

	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)size, st.st_size);
	rfd = open("new", O_RDONLY);
	ASSERT_LE(0, rfd);
	EXPECT_EQ((ssize_t)size, pread(rfd, got, len, 0));
	EXPECT_EQ(0, memcmp(got, buf, size));
	close(rfd);
	close(fd);
	free(buf);
	free(got);
}

/*
 * Truncate from another process: XFS recalls (the client finishes its I/O
 * and returns in time, the truncate then completes); ext4 never breaks a
 * layout, and the page-cache unmap fences it at once.
 */
TEST_F(layout, recall_on_truncate_returned)
{
	struct p2pmap_layout_event ev;
	struct pollfd efd_poll;
	char buf[4096];
	struct lay l;
	uint64_t count;
	int fd = make_file("t", 1 * MIB, 4), efd = eventfd(0, EFD_NONBLOCK);
	int p[2], status;
	double dt;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 0, 1 * MIB, 5000,
				efd, &l));
	pid = change_in_child("t", CHANGE_TRUNCATE, p[1]);
	ASSERT_EQ(0, next_event(self->dev, 3000, &ev));
	EXPECT_EQ(l.g.id, ev.id);
	/*
	 * The eventfd fires right after the event is queued (a reader of
	 * /dev/p2pmap may see the event a moment before): wait for it.
	 */
	efd_poll.fd = efd;
	efd_poll.events = POLLIN;
	EXPECT_EQ(1, poll(&efd_poll, 1, 3000));
	EXPECT_EQ(1, read(efd, &count, sizeof(count)) > 0);
	if (self->kind == FS_XFS) {
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_RECALL, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_BREAK, ev.cause);
		EXPECT_LT(3000U, ev.break_ms);
		/* the truncate waits for the client */
		usleep(200000);
		EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
		/* in-flight I/O still goes through until the client returns */
		EXPECT_EQ(0, layout_io(self->dev, l.g.id, false, 0, buf, sizeof(buf)));
		EXPECT_EQ(0, layout_return(self->dev, l.g.id));
		ASSERT_EQ(0, wait_change(pid, p[0], &dt));
		EXPECT_GT(4.0, dt);
	} else {
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_REVOKED, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_UNMAP, ev.cause);
		ASSERT_EQ(0, wait_change(pid, p[0], &dt));
		EXPECT_GT(1.0, dt);
		EXPECT_EQ(-ESTALE, layout_io(self->dev, l.g.id, false, 0, buf,
					     sizeof(buf)));
		EXPECT_EQ(0, layout_return(self->dev, l.g.id));
	}
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	close(fd);
	close(efd);
}

/* A client that never returns is fenced after its break time; the truncate completes; commits after that fail. */
TEST_F(layout, fenced_when_not_returned)
{
	struct p2pmap_layout_event ev;
	char buf[4096] = { 1 };
	struct lay l;
	int fd = make_file("t", 1 * MIB, 5), p[2];
	double dt;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 0, 1 * MIB, 500,
				-1, &l));
	pid = change_in_child("t", CHANGE_TRUNCATE, p[1]);
	ASSERT_EQ(0, wait_change(pid, p[0], &dt));
	if (self->kind == FS_XFS) {
		/* the break time, not the VFS's 45 s lease-break-time */
		EXPECT_LT(0.45, dt);
		EXPECT_GT(5.0, dt);
		ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_RECALL, ev.type);
		ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_REVOKED, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_TIMEOUT, ev.cause);
	} else {
		EXPECT_GT(1.0, dt);
		ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_REVOKED, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_UNMAP, ev.cause);
	}
	EXPECT_EQ(l.g.id, ev.id);
	/* fenced: reads, writes and commits fail, and write nothing */
	EXPECT_EQ(-ESTALE, layout_io(self->dev, l.g.id, false, 0, buf, sizeof(buf)));
	EXPECT_EQ(-ESTALE, layout_io(self->dev, l.g.id, true, 0, buf, sizeof(buf)));
	EXPECT_EQ(-ESTALE, layout_commit(self->dev, l.g.id, 0, 4096, 4096));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(0, layout_return(self->dev, l.g.id));
	EXPECT_EQ(-ENOENT, layout_return(self->dev, l.g.id));
	close(fd);
}

/* Hole punch from another process: XFS recalls, ext4 fences at once; the punch completes. */
TEST_F(layout, punch_hole_recalls)
{
	struct p2pmap_layout_event ev;
	struct lay l;
	int fd = make_file("p", 1 * MIB, 6), p[2];
	double dt;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, 1 * MIB,
				5000, -1, &l));
	pid = change_in_child("p", CHANGE_PUNCH, p[1]);
	ASSERT_EQ(0, next_event(self->dev, 3000, &ev));
	if (self->kind == FS_XFS) {
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_RECALL, ev.type);
		EXPECT_EQ(0, layout_return(self->dev, l.g.id));
	} else {
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_REVOKED, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_UNMAP, ev.cause);
		EXPECT_EQ(0, layout_return(self->dev, l.g.id));
	}
	ASSERT_EQ(0, wait_change(pid, p[0], &dt));
	EXPECT_GT(4.0, dt);
	close(fd);
}

/* Two clients hold read-write layouts on disjoint halves, write and commit; a conflicting layout recalls. */
TEST_F(layout, concurrent_layouts)
{
	size_t half = 512 * KIB;
	unsigned char *want = malloc(2 * half), *got = malloc(2 * half);
	int dev2 = open("/dev/p2pmap", O_RDWR), dev3 = open("/dev/p2pmap", O_RDWR);
	struct p2pmap_layout_event ev;
	struct lay a, b, c, a2;
	int fd = make_file("c", 2 * half, 7), rfd;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, dev2);
	ASSERT_LE(0, dev3);
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 0, half, 5000, -1, &a));
	ASSERT_EQ(0, layout_get(dev2, fd, P2PMAP_LAYOUT_RW, half, half, 5000, -1, &b));
	/* one client may hold several layouts of one file */
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, half, 5000, -1, &a2));
	EXPECT_NE(a.g.id, a2.g.id);

	fill(want, half, 8, 0);
	fill(want + half, half, 9, half);
	ASSERT_EQ(0, layout_io(self->dev, a.g.id, true, 0, want, half));
	ASSERT_EQ(0, layout_io(dev2, b.g.id, true, half, want + half, half));
	ASSERT_EQ(0, layout_commit(dev2, b.g.id, half, half, -1));
	ASSERT_EQ(0, layout_commit(self->dev, a.g.id, 0, half, -1));

	/* a third client over the first half: the holder is recalled */
	EXPECT_EQ(-EAGAIN, layout_get(dev3, fd, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &c));
	ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
	EXPECT_EQ(a.g.id, ev.id);
	EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_RECALL, ev.type);
	EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_CONFLICT, ev.cause);
	EXPECT_EQ(-ETIMEDOUT, next_event(dev2, 100, &ev));
	ASSERT_EQ(0, layout_return(self->dev, a.g.id));
	ASSERT_EQ(0, layout_get(dev3, fd, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &c));
	ASSERT_EQ(0, layout_io(dev3, c.g.id, false, 0, got, 4096));
	EXPECT_EQ(0, memcmp(got, want, 4096));

	rfd = open("c", O_RDONLY);
	ASSERT_LE(0, rfd);
	ASSERT_EQ((ssize_t)(2 * half), pread(rfd, got, 2 * half, 0));
	EXPECT_EQ(0, memcmp(got, want, 2 * half));
	close(rfd);
	EXPECT_EQ(0, layout_return(dev2, b.g.id));
	EXPECT_EQ(0, layout_return(self->dev, a2.g.id));
	/* closing a /dev/p2pmap returns what it holds */
	close(dev3);
	EXPECT_EQ(0, ftruncate(fd, 0));
	close(dev2);
	close(fd);
	free(want);
	free(got);
}

/* Every bad input gets its errno and changes nothing: not the file, not the layout. */
TEST_F(layout, bad_inputs)
{
	char buf[8192];
	struct lay l, ok;
	struct p2pmap_layout_io io;
	struct p2pmap_layout_commit c;
	struct p2pmap_layout_return r;
	struct p2pmap_layout_range range = { 0, 4096 };
	off_t size, size2;
	uint64_t sum, sum2;
	int fd = make_file("b", 64 * KIB, 10), ro = open("b", O_RDONLY);
	int null = open("/dev/null", O_RDWR), closed = dup(fd);
	int other = open("/dev/p2pmap", O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, ro);
	close(closed);
	sum = vfs_sum("b", &size);

	EXPECT_EQ(-EBADF, layout_get(self->dev, -1, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &l));
	EXPECT_EQ(-EBADF, layout_get(self->dev, closed, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, null, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, self->dev, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &l));
	/* never more than the open mode */
	EXPECT_EQ(-EBADF, layout_get(self->dev, ro, P2PMAP_LAYOUT_RW, 0, 4096, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, 3, 0, 4096, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, 0, 0, 4096, 0, -1, &l));
	/* past EOF, overflowing, empty */
	EXPECT_EQ(-ENXIO, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 64 * KIB, 4096, 0, -1, &l));
	EXPECT_EQ(-ENXIO, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 1ULL << 40, 4096, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, ~0ULL - 100, 4096, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 1ULL << 63, 1ULL << 63, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, 0, 0, -1, &l));
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, 4096,
				      P2PMAP_LAYOUT_BREAK_MS_MAX + 1, -1, &l));
	/* an eventfd that is not one */
	EXPECT_EQ(-EINVAL, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, 4096, 0, fd, &l));
	/* the structure itself: size, flags, reserved, no room for extents */
	memset(&l, 0, sizeof(l));
	l.g.size = sizeof(l.g) - 8;
	l.g.fd = fd;
	l.g.iomode = P2PMAP_LAYOUT_READ;
	l.g.length = 4096;
	l.g.extents = (uintptr_t)l.ext;
	l.g.nr_extents = MAX_EXT;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_GET, &l.g));
	EXPECT_EQ(EINVAL, errno);
	l.g.size = sizeof(l.g);
	l.g.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_GET, &l.g));
	EXPECT_EQ(EINVAL, errno);
	l.g.reserved[2] = 0;
	l.g.flags = 1U << 7;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_GET, &l.g));
	EXPECT_EQ(EINVAL, errno);
	l.g.flags = 0;
	l.g.nr_extents = 0;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_GET, &l.g));
	EXPECT_EQ(EINVAL, errno);
	l.g.nr_extents = MAX_EXT;
	l.g.extents = 8;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_GET, &l.g));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, _IO(P2PMAP_IOCTL_MAGIC, 0x3f)));
	EXPECT_EQ(ENOTTY, errno);

	/* a good read layout, and what may not be done with it */
	ASSERT_EQ(0, layout_get(self->dev, ro, P2PMAP_LAYOUT_READ, 0, 32 * KIB, 0, -1, &ok));
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(-EBADF, layout_io(self->dev, ok.g.id, true, 0, buf, 4096));
	EXPECT_EQ(-EBADF, layout_commit(self->dev, ok.g.id, 0, 4096, -1));
	EXPECT_EQ(-ERANGE, layout_io(self->dev, ok.g.id, false, 32 * KIB - 100, buf, 4096));
	EXPECT_EQ(-ERANGE, layout_io(self->dev, ok.g.id, false, 64 * KIB, buf, 4096));
	EXPECT_EQ(-EINVAL, layout_io(self->dev, ok.g.id, false, ~0ULL - 10, buf, 4096));
	EXPECT_EQ(-EINVAL, layout_io(self->dev, ok.g.id, false, 0, buf, 0));
	EXPECT_EQ(-EFAULT, layout_io(self->dev, ok.g.id, false, 0, (void *)8, 4096));
	memset(&io, 0, sizeof(io));
	io.size = sizeof(io);
	io.id = ok.g.id;
	io.length = 4096;
	io.buf = (uintptr_t)buf;
	io.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_IO, &io));
	EXPECT_EQ(EINVAL, errno);
	/* unknown ids, and ids of another /dev/p2pmap */
	EXPECT_EQ(-ENOENT, layout_io(self->dev, 0, false, 0, buf, 4096));
	EXPECT_EQ(-ENOENT, layout_io(self->dev, ok.g.id + 1000, false, 0, buf, 4096));
	EXPECT_EQ(-ENOENT, layout_io(other, ok.g.id, false, 0, buf, 4096));
	EXPECT_EQ(-ENOENT, layout_return(other, ok.g.id));
	close(other);
	EXPECT_EQ(-ENOENT, layout_return(self->dev, 12345));
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.id = ok.g.id;
	r.__pad = 1;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_RETURN, &r));
	EXPECT_EQ(EINVAL, errno);
	/* still usable after all that */
	EXPECT_EQ(0, layout_io(self->dev, ok.g.id, false, 0, buf, 4096));
	ASSERT_EQ(0, layout_return(self->dev, ok.g.id));
	/* a returned id is gone */
	EXPECT_EQ(-ENOENT, layout_io(self->dev, ok.g.id, false, 0, buf, 4096));
	EXPECT_EQ(-ENOENT, layout_commit(self->dev, ok.g.id, 0, 4096, -1));
	EXPECT_EQ(-ENOENT, layout_return(self->dev, ok.g.id));

	/* a read-write layout: alignment, ranges, commit arguments */
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_RW, 0, 32 * KIB, 0, -1, &ok));
	EXPECT_EQ(-EINVAL, layout_io(self->dev, ok.g.id, true, 100, buf, 4096));
	EXPECT_EQ(-EINVAL, layout_io(self->dev, ok.g.id, true, 0, buf, 4000));
	EXPECT_EQ(-ERANGE, layout_io(self->dev, ok.g.id, true, 32 * KIB, buf, 4096));
	EXPECT_EQ(-ERANGE, layout_commit(self->dev, ok.g.id, 28 * KIB, 8192, -1));
	EXPECT_EQ(-EINVAL, layout_commit(self->dev, ok.g.id, 0, 0, -1));
	EXPECT_EQ(-ERANGE, layout_commit(self->dev, ok.g.id, 0, 4096, 1 * MIB));
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.id = ok.g.id;
	c.nr_ranges = 0;
	c.ranges = (uintptr_t)&range;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_COMMIT, &c));
	EXPECT_EQ(EINVAL, errno);
	c.nr_ranges = 1;
	c.new_size = 4096;	/* without P2PMAP_LAYOUT_COMMIT_SIZE */
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_COMMIT, &c));
	EXPECT_EQ(EINVAL, errno);
	c.new_size = 0;
	c.ranges = 8;
	EXPECT_EQ(-1, ioctl(self->dev, P2PMAP_IOC_LAYOUT_COMMIT, &c));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, layout_return(self->dev, ok.g.id));

	/* nothing above changed the file */
	sum2 = vfs_sum("b", &size2);
	EXPECT_EQ(size, size2);
	EXPECT_EQ(sum, sum2);
	close(null);
	close(ro);
	close(fd);
}

/* Only the file's owner, or a holder of CAP_LEASE, may take a layout (generic_setlease). */
TEST_F(layout, lease_ownership)
{
	int fd = make_file("o", 64 * KIB, 11);
	pid_t pid;
	int status;

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, chmod("o", 0666));
	ASSERT_EQ(0, chmod(".", 0777));
	pid = fork();
	if (pid == 0) {
		struct lay l;
		int rfd, dev, ret;

		/* another fsuid, but CAP_LEASE kept: allowed */
		setfsuid(65534);
		rfd = open("o", O_RDONLY);
		dev = open("/dev/p2pmap", O_RDWR);
		if (rfd < 0 || dev < 0)
			_exit(10);
		ret = layout_get(dev, rfd, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &l);
		if (ret)
			_exit(11);
		if (layout_return(dev, l.g.id))
			_exit(12);
		/* no capabilities at all: refused */
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(13);
		ret = layout_get(dev, rfd, P2PMAP_LAYOUT_READ, 0, 4096, 0, -1, &l);
		_exit(ret == -EACCES ? 0 : 14);
	}
	waitpid(pid, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * Online defragmentation moves blocks without breaking layouts (as for
 * knfsd). ext4 (EXT4_IOC_MOVE_EXT, e4defrag): the next LAYOUT_IO revalidates
 * and finds the blocks moved: the layout is fenced. XFS (XFS_IOC_SWAPEXT,
 * xfs_fsr): the swap breaks the lease and unmaps the page cache: recalled
 * and fenced.
 */
TEST_F(layout, defrag_moves_blocks)
{
	struct p2pmap_layout_event ev;
	char buf[4096];
	struct lay l;
	int fd = make_file("d", 256 * KIB, 12);
	int donor = make_file("donor", 256 * KIB, 13);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, donor);
	ASSERT_EQ(0, layout_get(self->dev, fd, P2PMAP_LAYOUT_READ, 0, 256 * KIB,
				300, -1, &l));
	ASSERT_EQ(0, layout_io(self->dev, l.g.id, false, 0, buf, sizeof(buf)));
	if (self->kind == FS_EXT4) {
		struct move_extent me = {
			.donor_fd = donor, .orig_start = 0, .donor_start = 0,
			.len = 256 * KIB / 4096,
		};

		ASSERT_EQ(0, ioctl(fd, EXT4_IOC_MOVE_EXT, &me));
		EXPECT_EQ(256 * KIB / 4096, me.moved_len);
		/* no notifier, no lease break */
		EXPECT_EQ(-ETIMEDOUT, next_event(self->dev, 200, &ev));
		EXPECT_EQ(-ESTALE, layout_io(self->dev, l.g.id, false, 0, buf,
					     sizeof(buf)));
		ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_REVOKED, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_MOVED, ev.cause);
	} else {
		double t0 = now();
		int status;

		close(donor);
		/*
		 * XFS_IOC_SWAPEXT breaks no lease in 6.1, but it truncates
		 * both files' page cache first: fenced at once.
		 */
		status = system("xfs_io -c 'swapext donor' d");
		EXPECT_EQ(0, WEXITSTATUS(status));
		/* no break time (5 s) waited: fenced at once */
		EXPECT_GT(4.5, now() - t0);
		ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
		if (ev.type == P2PMAP_LAYOUT_EVENT_RECALL)
			ASSERT_EQ(0, next_event(self->dev, 1000, &ev));
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_EVENT_REVOKED, ev.type);
		EXPECT_EQ((__u32)P2PMAP_LAYOUT_CAUSE_UNMAP, ev.cause);
		EXPECT_EQ(-ESTALE, layout_io(self->dev, l.g.id, false, 0, buf,
					     sizeof(buf)));
	}
	EXPECT_EQ(0, layout_return(self->dev, l.g.id));
	close(fd);
}

/* A client process that exits with layouts does not hold up a truncate. */
TEST_F(layout, exit_returns_layouts)
{
	int fd = make_file("e", 256 * KIB, 14);
	pid_t pid;
	int status;
	double t0;

	ASSERT_LE(0, fd);
	pid = fork();
	if (pid == 0) {
		int dev = open("/dev/p2pmap", O_RDWR);
		struct lay l;

		_exit(layout_get(dev, fd, P2PMAP_LAYOUT_RW, 0, 256 * KIB, 50000,
				 -1, &l) ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	ASSERT_EQ(0, WEXITSTATUS(status));
	t0 = now();
	EXPECT_EQ(0, ftruncate(fd, 0));
	EXPECT_GT(1.0, now() - t0);
	close(fd);
}

TEST_HARNESS_MAIN
