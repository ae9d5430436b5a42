// SPDX-License-Identifier: GPL-2.0
/*
 * P2PMAP_IOC_CHECK: the path each range of a file would take, and why;
 * every bad input refused with its errno and nothing written back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/p2pmap.h>

#include "kselftest_harness.h"

#define PAGE 4096UL
#define EDU_BDF ((0 << 16) | (4 << 8) | 0)	/* 0000:04:00.0 in the rig */

FIXTURE(check)
{
	int dev;
	int fd;
	struct p2pmap_check_extent ext[64];
};

FIXTURE_SETUP(check)
{
	char buf[PAGE];
	int i;

	self->dev = open("/dev/p2pmap", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->dev, 0);
	self->fd = open("check.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(self->fd, 0);
	memset(buf, 0x42, sizeof(buf));
	for (i = 0; i < 16; i++)
		ASSERT_EQ((ssize_t)PAGE, write(self->fd, buf, PAGE));
	ASSERT_EQ(0, fsync(self->fd));
}

FIXTURE_TEARDOWN(check)
{
	close(self->fd);
	close(self->dev);
}

static void check_init(struct p2pmap_check *c, int fd, void *ext, unsigned int n)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->fd = fd;
	c->offset = 0;
	c->length = 16 * PAGE;
	c->extents = (uintptr_t)ext;
	c->nr_extents = n;
}

/* The answer covers the file, and every page-cache range says why. */
TEST_F(check, covers_file_with_reasons)
{
	struct p2pmap_check c;
	uint64_t covered = 0;
	unsigned int i;

	check_init(&c, self->fd, self->ext, 64);
	ASSERT_EQ(0, ioctl(self->dev, P2PMAP_IOC_CHECK, &c));
	ASSERT_GE(c.nr_extents, 1u);
	for (i = 0; i < c.nr_extents; i++) {
		struct p2pmap_check_extent *e = &self->ext[i];

		EXPECT_EQ(covered, e->offset);
		covered += e->length;
		if (e->path == P2PMAP_PATH_P2P) {
			EXPECT_EQ(P2PMAP_REASON_NONE, (int)e->reason);
			EXPECT_NE(0, c.provider[0]);
		} else {
			EXPECT_EQ(P2PMAP_PATH_PAGECACHE, (int)e->path);
			EXPECT_NE(P2PMAP_REASON_NONE, (int)e->reason);
		}
		if (e->reason == P2PMAP_REASON_UNSUPPORTED_FS)
			EXPECT_NE(NULL, strstr((char *)c.why, "no p2pmap hooks"));
	}
	EXPECT_EQ(16 * PAGE, covered);
	EXPECT_EQ(16 * PAGE, c.next_offset);
}

/* With the rig's edu named as the reader, a route exists or is explained. */
TEST_F(check, with_device)
{
	struct p2pmap_check c;
	unsigned int i;

	check_init(&c, self->fd, self->ext, 64);
	c.flags = P2PMAP_CHECK_DEVICE;
	c.device = EDU_BDF;
	ASSERT_EQ(0, ioctl(self->dev, P2PMAP_IOC_CHECK, &c));
	for (i = 0; i < c.nr_extents; i++)
		if (self->ext[i].reason == P2PMAP_REASON_NO_ROUTE)
			EXPECT_NE(0, c.why[0]);
}

/* A one-entry array answers the first range and says where it stopped. */
TEST_F(check, partial_answer)
{
	struct p2pmap_check c;

	check_init(&c, self->fd, self->ext, 1);
	ASSERT_EQ(0, ioctl(self->dev, P2PMAP_IOC_CHECK, &c));
	EXPECT_EQ(1u, c.nr_extents);
	EXPECT_EQ(self->ext[0].offset + self->ext[0].length, c.next_offset);
}

/* Past the end of the file there is nothing to describe. */
TEST_F(check, past_eof_is_empty)
{
	struct p2pmap_check c;

	check_init(&c, self->fd, self->ext, 64);
	c.offset = 64 * PAGE;
	ASSERT_EQ(0, ioctl(self->dev, P2PMAP_IOC_CHECK, &c));
	EXPECT_EQ(0u, c.nr_extents);
}

static int bad(int dev, struct p2pmap_check *c)
{
	struct p2pmap_check before = *c;
	int ret = ioctl(dev, P2PMAP_IOC_CHECK, c);

	if (ret == 0)
		return 0;
	ret = errno;
	/* a refusal writes nothing back */
	if (memcmp(&before, c, sizeof(before)))
		return -1;
	return ret;
}

/* Every bad input gets its errno and changes nothing. */
TEST_F(check, bad_input)
{
	struct p2pmap_check c;
	int wronly, dir;

	check_init(&c, 9999, self->ext, 64);
	EXPECT_EQ(EBADF, bad(self->dev, &c));

	wronly = open("check.dat", O_WRONLY);
	ASSERT_GE(wronly, 0);
	check_init(&c, wronly, self->ext, 64);
	EXPECT_EQ(EBADF, bad(self->dev, &c));
	close(wronly);

	dir = open(".", O_RDONLY | O_DIRECTORY);
	ASSERT_GE(dir, 0);
	check_init(&c, dir, self->ext, 64);
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	close(dir);

	check_init(&c, self->fd, self->ext, 64);
	c.length = 0;
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	check_init(&c, self->fd, self->ext, 64);
	c.offset = ~0ULL - 10;
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	check_init(&c, self->fd, self->ext, 0);
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	check_init(&c, self->fd, self->ext, 64);
	c.flags = 1u << 7;
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	check_init(&c, self->fd, self->ext, 64);
	c.reserved[0] = 1;
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	check_init(&c, self->fd, self->ext, 64);
	c.size = sizeof(c) - 8;
	EXPECT_EQ(EINVAL, bad(self->dev, &c));
	check_init(&c, self->fd, self->ext, 64);
	c.flags = P2PMAP_CHECK_DEVICE;
	c.device = (0x7f << 8) | 0x1f;	/* no such PCI function */
	EXPECT_EQ(ENODEV, bad(self->dev, &c));
	check_init(&c, self->fd, (void *)8, 64);
	EXPECT_EQ(EFAULT, bad(self->dev, &c));
}

TEST_HARNESS_MAIN
