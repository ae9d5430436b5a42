// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/p2pmap: the version ioctl and the ABI rules every ioctl follows
 * (unknown ioctl -> ENOTTY, bad pointer -> EFAULT, unknown size, flags or
 * reserved bits -> EINVAL with the caller's structure left unchanged).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/p2pmap.h>

#include "kselftest_harness.h"

FIXTURE(dev)
{
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open("/dev/p2pmap", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open /dev/p2pmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

static void version_init(struct p2pmap_version *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The version ioctl reports the module's version, as modinfo does. */
TEST_F(dev, version_matches_module)
{
	struct p2pmap_version v;
	char sysfs[64], mine[64];

	version_init(&v);
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_IOC_VERSION, &v));
	ASSERT_EQ(0, read_file("/sys/module/p2pmap/version", sysfs, sizeof(sysfs)));
	snprintf(mine, sizeof(mine), "%u.%u.%u", v.major, v.minor, v.patch);
	EXPECT_STREQ(sysfs, mine);
	EXPECT_EQ(P2PMAP_ABI_VERSION, (int)v.abi);
	EXPECT_EQ(sizeof(v), (size_t)v.size);
}

/* The P2PDMA feature bit says whether nvme-pci could publish its CMB. */
TEST_F(dev, feature_p2pdma_matches_kernel)
{
	struct p2pmap_version v;
	int published = access("/sys/bus/pci/devices/0000:03:00.0/p2pmem", F_OK) == 0;

	version_init(&v);
	ASSERT_EQ(0, ioctl(self->fd, P2PMAP_IOC_VERSION, &v));
	EXPECT_EQ(published, (int)!!(v.features & P2PMAP_FEATURE_PCI_P2PDMA));
	/* Debian's 6.1 and the debug kernel both mirror with HMM. */
	EXPECT_NE(0, (int)!!(v.features & P2PMAP_FEATURE_HMM_MIRROR));
}

/* An ioctl number the driver does not know fails with ENOTTY. */
TEST_F(dev, unknown_ioctl_enotty)
{
	struct p2pmap_version v;

	version_init(&v);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(P2PMAP_IOCTL_MAGIC, 0x3f, struct p2pmap_version), &v));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 0x00, struct p2pmap_version), &v));
	EXPECT_EQ(ENOTTY, errno);
	/* the right number with the wrong direction is a different ioctl */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(P2PMAP_IOCTL_MAGIC, 0x00, struct p2pmap_version), &v));
	EXPECT_EQ(ENOTTY, errno);
}

/* A pointer the kernel cannot read fails with EFAULT. */
TEST_F(dev, bad_pointer_efault)
{
	void *unmapped;

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PMAP_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);

	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PMAP_IOC_VERSION, unmapped));
	EXPECT_EQ(EFAULT, errno);
	munmap(unmapped, 4096);
}

/* A read-only buffer: readable, so the copy-out is what fails, with EFAULT. */
TEST_F(dev, readonly_buffer_efault)
{
	struct p2pmap_version *v;

	v = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, v);
	version_init(v);
	ASSERT_EQ(0, mprotect(v, 4096, PROT_READ));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PMAP_IOC_VERSION, v));
	EXPECT_EQ(EFAULT, errno);
	munmap(v, 4096);
}

/* Unknown size, flags or reserved bits: EINVAL, and nothing is written. */
TEST_F(dev, bad_fields_einval_unchanged)
{
	struct p2pmap_version v, before;

	version_init(&v);
	v.size = sizeof(v) - 8;
	before = v;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PMAP_IOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, memcmp(&v, &before, sizeof(v)));

	version_init(&v);
	v.flags = 1;
	before = v;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PMAP_IOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, memcmp(&v, &before, sizeof(v)));

	version_init(&v);
	v.reserved[3] = 1;
	before = v;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, P2PMAP_IOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, memcmp(&v, &before, sizeof(v)));
}

/* The uapi structure has the layout the ABI promises on every architecture. */
TEST(uapi_layout)
{
	EXPECT_EQ(64u, sizeof(struct p2pmap_version));
	EXPECT_EQ(24u, __builtin_offsetof(struct p2pmap_version, features));
	EXPECT_EQ(0xc040ba00u, (unsigned int)P2PMAP_IOC_VERSION);
}

TEST_HARNESS_MAIN
