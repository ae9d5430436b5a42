// SPDX-License-Identifier: GPL-2.0
/*
 * The dummy GPU (drivers/dummy-gpu, p2pmap_dgpu.ko) through libdrm: a file's
 * checksum computed by the device equals the CPU's, dense and sparse, on
 * the file system under test (the suite runs on XFS and on ext4); a job on
 * unmapped memory fails with EFAULT; truncate and hole punch during and
 * between jobs; closing the DRM file with jobs in flight; the edu engine's
 * DMA (P2P from the CMB where the topology allows); the virtual instance
 * always on the page cache with NO_ROUTE; the uapi's refusals; unloading
 * the module while objects exist is refused, and clean once they are gone.
 *
 * Instances come in two kinds: "pci" (bound to QEMU's edu device) and
 * "virtual" (virtual_instances=1; the module is reloaded with it when
 * needed). What both share runs in fixture dgpu, a variant per kind; what
 * only one kind has (the edu engine, unbinding; never a route) runs in
 * fixtures dgpu_pci and dgpu_virtual, so nothing is skipped for the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/p2pmap.h>
#include <libp2pmap_dgpu.h>

#include <libp2pmap.h>

#include "kselftest_harness.h"
#include "jsonflat.h"

#define PAGE		4096UL
#define MODULE		"p2pmap_dgpu"
#define NSEC		1000000000ULL

/* The module, with one virtual instance beside the edu one(s). */
static int load_module(void)
{
	struct p2pmap_dgpu *d;

	if (!p2pmap_dgpu_open(P2PMAP_DGPU_KIND_VIRTUAL, &d)) {
		p2pmap_dgpu_close(d);
		return 0;
	}
	if (system("grep -q '^" MODULE " ' /proc/modules") == 0 &&
	    system("rmmod " MODULE))
		return -1;
	return system("modprobe " MODULE " virtual_instances=1");
}

static void fill(void *p, unsigned long len, unsigned int seed, unsigned long pos)
{
	unsigned char *b = p;
	unsigned long i;

	/* byte i of a file filled from 0 depends on its position and @seed */
	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(((pos + i) * 2654435761UL >> 13) ^ seed ^
				       ((pos + i) >> 12));
}

/* Write @len bytes of pattern @seed at @off of @fd, and make them durable. */
static int write_pattern(int fd, unsigned long off, unsigned long len,
			 unsigned int seed)
{
	static char buf[256 * 1024];
	unsigned long done = 0;

	while (done < len) {
		unsigned long n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		fill(buf, n, seed, off + done);
		if (pwrite(fd, buf, n, off + done) != (ssize_t)n)
			return -1;
		done += n;
	}
	return fsync(fd);
}

/* The CPU's CRC-32 of [off, off + len) of @fd, read with pread(2). */
static uint32_t file_crc(int fd, unsigned long off, unsigned long len)
{
	static char buf[256 * 1024];
	uint32_t crc = 0;

	while (len) {
		unsigned long n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t got = pread(fd, buf, n, off);

		if (got <= 0)
			break;
		crc = p2pmap_dgpu_crc32(crc, buf, got);
		off += got;
		len -= got;
	}
	return crc;
}

static int run_checksum(struct p2pmap_dgpu *dev, unsigned int engine,
			uint32_t handle, uint64_t off, uint64_t len,
			struct drm_p2pmap_dgpu_result *res)
{
	uint64_t job;
	int ret = p2pmap_dgpu_checksum(dev, engine, handle, off, len, &job);

	return ret ? ret : p2pmap_dgpu_wait(dev, job, P2PMAP_DGPU_WAIT_FOREVER, res);
}

static int run_copy(struct p2pmap_dgpu *dev, unsigned int engine, uint32_t dst,
		    uint64_t doff, uint32_t src, uint64_t soff, uint64_t len,
		    struct drm_p2pmap_dgpu_result *res)
{
	uint64_t job;
	int ret = p2pmap_dgpu_copy(dev, engine, dst, doff, src, soff, len, &job);

	return ret ? ret : p2pmap_dgpu_wait(dev, job, P2PMAP_DGPU_WAIT_FOREVER, res);
}

/* PCI path of a device's sysfs directory, e.g. /sys/devices/pci0000:00/... */
static int sysfs_path(const char *link, char *out)
{
	return realpath(link, out) ? 0 : -1;
}

/*
 * What file data should take: P2P when edu and the NVMe controller share a
 * PCI bridge (the rig's switch) and the controller has a CMB; otherwise the
 * page cache, for the reason the core must give. The host bridge alone is
 * no route (the "flat" topology); a virtual instance has none at all.
 */
static enum p2pmap_reason expect_reason(const struct drm_p2pmap_dgpu_info *info)
{
	char edu[PATH_MAX], nvme[PATH_MAX], link[128], dbg[128];
	const char *a, *b, *common = NULL;

	if (sysfs_path("/sys/class/nvme/nvme0/device", nvme))
		return P2PMAP_REASON_NO_CMB;
	snprintf(dbg, sizeof(dbg), "/sys/kernel/debug/p2pmap-nvme-cmb/%s",
		 strrchr(nvme, '/') + 1);
	if (access(dbg, F_OK))
		return P2PMAP_REASON_NO_CMB;	/* --cmb-mb 0 */
	if (info->kind != P2PMAP_DGPU_KIND_PCI)
		return P2PMAP_REASON_NO_ROUTE;
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%04x:%02x:%02x.%x",
		 info->pci_domain, info->pci_bdf >> 8, (info->pci_bdf >> 3) & 0x1f,
		 info->pci_bdf & 7);
	if (sysfs_path(link, edu))
		return P2PMAP_REASON_NO_ROUTE;
	/* the last path component both share, at a '/' boundary */
	for (a = edu, b = nvme; *a && *a == *b; a++, b++)
		if (*a == '/')
			common = a;
	/* /sys/devices/pci0000:00 is the host bridge; a device below it is a bridge */
	if (common && common - edu > (long)strlen("/sys/devices/pci0000:00"))
		return P2PMAP_REASON_NONE;
	return P2PMAP_REASON_NO_ROUTE;
}

static void log_result(struct __test_metadata *_metadata, const char *what,
		       const struct drm_p2pmap_dgpu_result *r)
{
	char reasons[512] = "";
	unsigned int i;

	for (i = 1; i < P2PMAP_DGPU_MAX_REASONS; i++)
		if (r->reasons[i])
			snprintf(reasons + strlen(reasons), sizeof(reasons) - strlen(reasons),
				 " r%u=%llu", i, r->reasons[i]);
	TH_LOG("%s: error %u @%llu, %llu bytes, p2p %llu, pagecache %llu%s, faults %llu/%llu pages, refaults %llu, invalidations %llu, %llu us",
	       what, r->error, r->error_offset, r->bytes, r->pages_p2p,
	       r->pages_pagecache, reasons, r->faults, r->faulted_pages,
	       r->refaults, r->invalidations, r->duration_ns / 1000);
	if (r->reasons[P2PMAP_REASON_UNSUPPORTED_FS])
		TH_LOG("%s: %llu pages 'unsupported_fs': are the fs-hooks for this file system loaded?",
		       what, r->reasons[P2PMAP_REASON_UNSUPPORTED_FS]);
}

/*
 * Open an instance of @kind (loading the module with a virtual instance
 * first) and note what its file data should take. Returns -ENODEV when the
 * machine has no instance of that kind (no edu device), 0 when open.
 */
static int open_instance(struct __test_metadata *_metadata, unsigned int kind,
			 struct p2pmap_dgpu **dev, struct drm_p2pmap_dgpu_info *info,
			 int *p2p, enum p2pmap_reason *no_p2p)
{
	int ret;

	*dev = NULL;
	ASSERT_EQ(0, load_module()) TH_LOG("modprobe " MODULE " virtual_instances=1 failed");
	ret = p2pmap_dgpu_open(kind, dev);
	if (ret == -ENODEV && kind == P2PMAP_DGPU_KIND_PCI)
		return ret;
	ASSERT_EQ(0, ret) TH_LOG("open: %s", strerror(-ret));
	ASSERT_EQ(0, p2pmap_dgpu_get_info(*dev, info));
	*no_p2p = expect_reason(info);
	*p2p = *no_p2p == P2PMAP_REASON_NONE;
	return 0;
}

/* Behaviour both kinds of instance share: a variant per kind. */
FIXTURE(dgpu)
{
	struct p2pmap_dgpu *dev;
	struct drm_p2pmap_dgpu_info info;
	int p2p;	/* data pages are expected peer to peer */
	enum p2pmap_reason no_p2p;	/* or the reason they are not */
};

FIXTURE_VARIANT(dgpu)
{
	unsigned int kind;
};

FIXTURE_VARIANT_ADD(dgpu, pci)
{
	.kind = P2PMAP_DGPU_KIND_PCI,
};

FIXTURE_VARIANT_ADD(dgpu, virtual)
{
	.kind = P2PMAP_DGPU_KIND_VIRTUAL,
};

FIXTURE_SETUP(dgpu)
{
	if (open_instance(_metadata, variant->kind, &self->dev, &self->info,
			  &self->p2p, &self->no_p2p) == -ENODEV)
		SKIP(return, "no edu device in this machine");
}

FIXTURE_TEARDOWN(dgpu)
{
	p2pmap_dgpu_close(self->dev);
}

/* Behaviour of the instance bound to QEMU's edu device only: its engine, unbinding. */
FIXTURE(dgpu_pci)
{
	struct p2pmap_dgpu *dev;
	struct drm_p2pmap_dgpu_info info;
	int p2p;	/* data pages are expected peer to peer */
	enum p2pmap_reason no_p2p;	/* or the reason they are not */
};

FIXTURE_SETUP(dgpu_pci)
{
	if (open_instance(_metadata, P2PMAP_DGPU_KIND_PCI, &self->dev, &self->info,
			  &self->p2p, &self->no_p2p) == -ENODEV)
		SKIP(return, "no edu device in this machine");
	ASSERT_NE(0, (int)(self->info.engines & (1U << P2PMAP_DGPU_ENGINE_EDU)))
		TH_LOG("a PCI instance without its edu engine");
}

FIXTURE_TEARDOWN(dgpu_pci)
{
	p2pmap_dgpu_close(self->dev);
}

/* Behaviour of a virtual instance (virtual_instances=1) only. */
FIXTURE(dgpu_virtual)
{
	struct p2pmap_dgpu *dev;
	struct drm_p2pmap_dgpu_info info;
	int p2p;	/* data pages are expected peer to peer */
	enum p2pmap_reason no_p2p;	/* or the reason they are not */
};

FIXTURE_SETUP(dgpu_virtual)
{
	ASSERT_EQ(0, open_instance(_metadata, P2PMAP_DGPU_KIND_VIRTUAL, &self->dev,
				   &self->info, &self->p2p, &self->no_p2p));
}

FIXTURE_TEARDOWN(dgpu_virtual)
{
	p2pmap_dgpu_close(self->dev);
}

/* INFO tells the instance's kind, its engines and the module's limits. */
TEST_F(dgpu, info_describes_instance)
{
	EXPECT_EQ(variant->kind, self->info.kind);
	EXPECT_EQ(P2PMAP_DGPU_ABI_VERSION, (int)self->info.abi);
	EXPECT_EQ(P2PMAP_REASON_COUNT, (int)self->info.nr_reasons);
	EXPECT_NE(0, (int)(self->info.engines & (1U << P2PMAP_DGPU_ENGINE_CPU)));
	if (variant->kind == P2PMAP_DGPU_KIND_PCI) {
		EXPECT_NE(0, (int)(self->info.engines & (1U << P2PMAP_DGPU_ENGINE_EDU)));
		EXPECT_NE(0, (int)self->info.pci_bdf);
	} else {
		EXPECT_EQ(0, (int)(self->info.engines & (1U << P2PMAP_DGPU_ENGINE_EDU)));
		EXPECT_EQ(0, (int)self->info.pci_bdf);
	}
	EXPECT_LT(0ULL, self->info.vram_size);
	TH_LOG("%s: %s, file data expected %s (reason %d)", p2pmap_dgpu_path(self->dev),
	       p2pmap_dgpu_kind_name(self->info.kind),
	       self->p2p ? "peer to peer" : "from the page cache", self->no_p2p);
}

/* An ioctl number past the driver's table fails with ENOTTY. */
TEST_F(dgpu, unknown_ioctl_is_enotty)
{
	struct drm_p2pmap_dgpu_info info;

	memset(&info, 0, sizeof(info));
	EXPECT_EQ(-1, ioctl(p2pmap_dgpu_fd(self->dev), P2PMAP_DGPU_IOWR(0x3f, info), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(p2pmap_dgpu_fd(self->dev), P2PMAP_DGPU_IOWR(0x08, info), &info));
	EXPECT_EQ(ENOTTY, errno);
}

/* Reserved bits, bad ranges and unknown handles are refused, changing nothing. */
TEST_F(dgpu, bad_arguments_refused)
{
	int fd = p2pmap_dgpu_fd(self->dev);
	struct drm_p2pmap_dgpu_gem_create gc;
	struct drm_p2pmap_dgpu_submit sub;
	struct drm_p2pmap_dgpu_userptr up;
	struct drm_p2pmap_dgpu_wait w;
	uint32_t vram;
	uint64_t job;

	memset(&gc, 0, sizeof(gc));
	gc.size = PAGE;
	gc.reserved[1] = 1;
	gc.handle = 0xdead;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_P2PMAP_DGPU_GEM_CREATE, &gc));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0xdead, (int)gc.handle);
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_vram_create(self->dev, 0, &vram));
	EXPECT_EQ(-ENOSPC, p2pmap_dgpu_vram_create(self->dev, self->info.vram_size + 1, &vram));

	memset(&up, 0, sizeof(up));
	up.addr = PAGE + 1;
	up.length = PAGE;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_P2PMAP_DGPU_USERPTR, &up));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 2 * PAGE, &vram));
	memset(&sub, 0, sizeof(sub));
	sub.op = P2PMAP_DGPU_OP_CHECKSUM;
	sub.src_handle = vram;
	sub.length = PAGE;
	sub.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_P2PMAP_DGPU_SUBMIT, &sub));
	EXPECT_EQ(EINVAL, errno);
	sub.flags = 0;
	sub.op = 7;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_P2PMAP_DGPU_SUBMIT, &sub));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_checksum(self->dev, 0, vram, PAGE, 2 * PAGE, &job));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_checksum(self->dev, 0, vram, 0, 0, &job));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_checksum(self->dev, 0, vram, UINT64_MAX, 2, &job));
	EXPECT_EQ(-ENOENT, p2pmap_dgpu_checksum(self->dev, 0, vram + 100, 0, PAGE, &job));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_copy(self->dev, 0, vram, 100, vram, 0, PAGE, &job));
	EXPECT_EQ(-EINVAL, p2pmap_dgpu_checksum(self->dev, 9, vram, 0, PAGE, &job));
	if (variant->kind == P2PMAP_DGPU_KIND_VIRTUAL)
		EXPECT_EQ(-ENODEV, p2pmap_dgpu_checksum(self->dev, P2PMAP_DGPU_ENGINE_EDU,
							vram, 0, PAGE, &job));

	memset(&w, 0, sizeof(w));
	w.job = 12345;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_P2PMAP_DGPU_WAIT, &w));
	EXPECT_EQ(ENOENT, errno);
	w.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(fd, DRM_IOCTL_P2PMAP_DGPU_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, p2pmap_dgpu_handle_close(self->dev, vram));
}

/* The CPU engine copies between VRAM objects at unaligned offsets, and checksums. */
TEST_F(dgpu, vram_copy_and_checksum)
{
	struct drm_p2pmap_dgpu_result res;
	unsigned long len = 2 * PAGE + 777;
	uint32_t a, b;
	char *ma, *mb;

	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 3 * PAGE, &a));
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 4 * PAGE, &b));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, a, 3 * PAGE, (void **)&ma));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, b, 4 * PAGE, (void **)&mb));
	fill(ma, 3 * PAGE, 7, 0);

	ASSERT_EQ(0, run_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, b, 1001, a, 99, len, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(len, res.bytes);
	EXPECT_EQ(0, memcmp(mb + 1001, ma + 99, len));
	EXPECT_EQ(0, mb[1000]);
	EXPECT_EQ(0, mb[1001 + len]);

	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, b, 1001, len, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(p2pmap_dgpu_crc32(0, ma + 99, len), (uint32_t)res.checksum);
	EXPECT_EQ(0xcbf43926U, p2pmap_dgpu_crc32(0, "123456789", 9));
	munmap(ma, 3 * PAGE);
	munmap(mb, 4 * PAGE);
	p2pmap_dgpu_handle_close(self->dev, a);
	p2pmap_dgpu_handle_close(self->dev, b);
}

/*
 * Checksum a file through a userptr object of its MAP_SHARED mapping and
 * check the device's CRC against the CPU's; return the result.
 */
static void checksum_file(struct __test_metadata *_metadata, struct p2pmap_dgpu *dev,
			  unsigned int engine, int fd, unsigned long off,
			  unsigned long len, struct drm_p2pmap_dgpu_result *res)
{
	struct p2pmap_dgpu_file_map fm;

	ASSERT_EQ(0, p2pmap_dgpu_import_file(dev, fd, off, len, 0, &fm));
	ASSERT_EQ(0, run_checksum(dev, engine, fm.handle, fm.data_offset, len, res));
	log_result(_metadata, "checksum", res);
	EXPECT_EQ(0, (int)res->error) TH_LOG("job error %s", strerror(res->error));
	EXPECT_EQ(len, res->bytes);
	EXPECT_EQ(file_crc(fd, off, len), (uint32_t)res->checksum);
	p2pmap_dgpu_release_file(dev, &fm);
}

/* A dense file's device checksum equals the CPU's; its pages go P2P where a route exists. */
TEST_F_TIMEOUT(dgpu, file_checksum_dense, 120)
{
	unsigned long size = 4UL << 20, npages = size / PAGE;
	struct drm_p2pmap_dgpu_result res;
	int fd;

	fd = open("dense", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, size, 1));

	checksum_file(_metadata, self->dev, P2PMAP_DGPU_ENGINE_CPU, fd, 0, size, &res);
	EXPECT_EQ(npages, res.pages_p2p + res.pages_pagecache);
	if (self->p2p) {
		EXPECT_EQ(npages, res.pages_p2p) TH_LOG("edu reaches the CMB: every page should be P2P");
	} else {
		EXPECT_EQ(0ULL, res.pages_p2p);
		EXPECT_EQ(npages, res.reasons[self->no_p2p])
			TH_LOG("no route (or no CMB): every page from the page cache, reason %d",
			       self->no_p2p);
	}
	/* unaligned, inside pages */
	checksum_file(_metadata, self->dev, P2PMAP_DGPU_ENGINE_CPU, fd, 5 * PAGE + 123,
		      3 * PAGE + 5, &res);
	close(fd);
}

/*
 * The dgpu command's map: the device maps a file with data in pages 0-3
 * and a hole in 4-7 (USERPTR_FAULT), and prints its page table as runs
 * (USERPTR_SNAPSHOT) - the same as the ioctls say, in JSON and in text.
 */
TEST_F(dgpu, map_command_prints_the_page_table)
{
	const char *want = self->p2p ? "p2p" : "pagecache";
	char cmd[256], *out = NULL;
	size_t len = 0;
	const char *p;
	struct jf j;
	FILE *f;
	int fd;

	fd = open("mapped", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 8 * PAGE));
	ASSERT_EQ(0, write_pattern(fd, 0, 4 * PAGE, 9));
	close(fd);

	snprintf(cmd, sizeof(cmd), "dgpu -d %s -o json map mapped",
		 p2pmap_dgpu_path(self->dev));
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	ASSERT_LT(0, getdelim(&out, &len, '\0', f));
	ASSERT_EQ(0, WEXITSTATUS(pclose(f))) TH_LOG("%s", out);
	p = out;
	ASSERT_EQ(0, jf_parse(&p, &j)) TH_LOG("%s", out);
	EXPECT_STREQ("map", jf_get(&j, "op"));
	EXPECT_EQ(0u, jf_u64(&j, "error"));
	EXPECT_EQ(8u, jf_u64(&j, "pages_p2p") + jf_u64(&j, "pages_pagecache"));
	EXPECT_EQ(4u, jf_u64(&j, "reasons.hole"));
	EXPECT_EQ(self->p2p ? 4u : 0u, jf_u64(&j, "pages_p2p"));
	EXPECT_EQ(0u, jf_u64(&j, "pages_unmapped"));
	EXPECT_LE(1u, jf_u64(&j, "faults"));
	ASSERT_EQ(2u, jf_len(&j, "runs")) TH_LOG("%s", out);
	EXPECT_EQ(0u, jf_u64(&j, "runs[0].page"));
	EXPECT_EQ(4u, jf_u64(&j, "runs[0].pages"));
	EXPECT_STREQ(want, jf_get(&j, "runs[0].path"));
	if (!self->p2p)
		EXPECT_STREQ(p2pmap_reason_name(self->no_p2p), jf_get(&j, "runs[0].reason"));
	EXPECT_NE(0u, jf_u64(&j, "runs[0].addr"));
	EXPECT_EQ(4u, jf_u64(&j, "runs[1].page"));
	EXPECT_EQ(4u, jf_u64(&j, "runs[1].pages"));
	EXPECT_STREQ("pagecache", jf_getf(&j, "runs[%d].path", 1));
	EXPECT_STREQ("hole", jf_get(&j, "runs[1].reason"));
	EXPECT_STREQ("false", jf_get(&j, "runs[1].writable"));
	jf_free(&j);

	/* the text says the same; a missing file is an error, and says so */
	snprintf(cmd, sizeof(cmd), "dgpu -d %s map mapped | grep -Eq '^ +4-7 +pagecache +hole +0x'",
		 p2pmap_dgpu_path(self->dev));
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "dgpu -d %s map no-such-file 2>&1 | grep -q 'no-such-file: No such file'",
		 p2pmap_dgpu_path(self->dev));
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "dgpu -d %s map no-such-file 2>/dev/null",
		 p2pmap_dgpu_path(self->dev));
	EXPECT_EQ(1, WEXITSTATUS(system(cmd)));
	free(out);
}

/* A sparse file (holes, a preallocated range) checksums right; holes say so. */
TEST_F(dgpu, file_checksum_sparse)
{
	unsigned long npages = 64, size = npages * PAGE, i, data = 0;
	struct drm_p2pmap_dgpu_result res;
	int fd;

	fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	/* data in pages 0-3, 10, 20-23 and 63; pages 40-47 preallocated */
	for (i = 0; i < npages; i++) {
		if (i < 4 || i == 10 || (i >= 20 && i < 24) || i == 63) {
			ASSERT_EQ(0, write_pattern(fd, i * PAGE, PAGE, 2));
			data++;
		}
	}
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 40 * PAGE, 8 * PAGE));
	ASSERT_EQ(0, fsync(fd));

	checksum_file(_metadata, self->dev, P2PMAP_DGPU_ENGINE_CPU, fd, 0, size, &res);
	EXPECT_EQ(npages, res.pages_p2p + res.pages_pagecache);
	EXPECT_EQ(npages - data, res.reasons[P2PMAP_REASON_HOLE] +
				 res.reasons[P2PMAP_REASON_UNWRITTEN])
		TH_LOG("every page without data is a hole or unwritten");
	if (self->p2p) {
		EXPECT_EQ(data, res.pages_p2p);
	} else {
		EXPECT_EQ(0ULL, res.pages_p2p);
		EXPECT_EQ(data, res.reasons[self->no_p2p]);
	}
	close(fd);
}

/* Anonymous memory works through the same API, always from host memory. */
TEST_F(dgpu, anonymous_checksum_and_write)
{
	unsigned long len = 16 * PAGE;
	struct drm_p2pmap_dgpu_result res;
	uint32_t up, vram;
	char *mem, *mv;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	fill(mem, len, 3, 0);
	ASSERT_EQ(0, p2pmap_dgpu_userptr(self->dev, mem, len, &up));
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 0, len, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(p2pmap_dgpu_crc32(0, mem, len), (uint32_t)res.checksum);
	EXPECT_EQ(16ULL, res.reasons[P2PMAP_REASON_ANONYMOUS]);
	EXPECT_EQ(0ULL, res.pages_p2p);

	/* VRAM -> userptr: the device writes the process's memory */
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, len, &vram));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, vram, len, (void **)&mv));
	fill(mv, len, 4, 0);
	ASSERT_EQ(0, run_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 10, vram, 0, len - 20, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(0, memcmp(mem + 10, mv, len - 20));
	munmap(mv, len);
	p2pmap_dgpu_handle_close(self->dev, vram);
	p2pmap_dgpu_handle_close(self->dev, up);
	munmap(mem, len);
}

/* A job that reaches an unmapped page fails with EFAULT at that page, and nothing breaks. */
TEST_F(dgpu, unmapped_memory_fails_efault)
{
	struct drm_p2pmap_dgpu_result res;
	unsigned long len = 4 * PAGE;
	uint32_t up;
	char *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x5a, len);
	ASSERT_EQ(0, munmap(mem + 2 * PAGE, PAGE));
	ASSERT_EQ(0, p2pmap_dgpu_userptr(self->dev, mem, len, &up));

	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 0, len, &res));
	EXPECT_EQ(EFAULT, (int)res.error);
	EXPECT_EQ(2 * PAGE, res.error_offset);
	EXPECT_EQ(2 * PAGE, res.bytes);

	/* the mapped part still works */
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 0, 2 * PAGE, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(p2pmap_dgpu_crc32(0, mem, 2 * PAGE), (uint32_t)res.checksum);

	/* a range never mapped at all */
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 2 * PAGE + 1, 10, &res));
	EXPECT_EQ(EFAULT, (int)res.error);
	EXPECT_EQ(0ULL, res.error_offset);
	p2pmap_dgpu_handle_close(self->dev, up);
	munmap(mem, 2 * PAGE);
	munmap(mem + 3 * PAGE, PAGE);
}

/* Punching a hole takes the page back; the next job re-faults and sees zeros. */
TEST_F(dgpu, hole_punch_between_jobs_refaults)
{
	unsigned long len = 8 * PAGE;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	int fd;

	fd = open("punch", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, len, 5));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, len, 0, &fm));
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, 0, len, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(0ULL, res.refaults);

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * PAGE, PAGE));
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, 0, len, &res));
	log_result(_metadata, "after punch", &res);
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(file_crc(fd, 0, len), (uint32_t)res.checksum);
	EXPECT_LE(1ULL, res.refaults) TH_LOG("the punched page was mapped before: a re-fault");
	EXPECT_EQ(1ULL, res.reasons[P2PMAP_REASON_HOLE]);
	p2pmap_dgpu_release_file(self->dev, &fm);
	close(fd);
}

/* write(2) after a job changes what the next job reads (a coherency point). */
TEST_F(dgpu, write_between_jobs_is_seen)
{
	unsigned long len = 8 * PAGE;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	int fd;

	fd = open("coherent", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, len, 6));
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, len, 0, &fm));
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, 0, len, &res));
	EXPECT_EQ(file_crc(fd, 0, len), (uint32_t)res.checksum);

	ASSERT_EQ(0, write_pattern(fd, 2 * PAGE, 100, 66));
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, 0, len, &res));
	log_result(_metadata, "after write", &res);
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(file_crc(fd, 0, len), (uint32_t)res.checksum);
	p2pmap_dgpu_release_file(self->dev, &fm);
	close(fd);
}

struct truncator {
	int fd;
	unsigned long size;
	unsigned int delay_us;
};

static void *truncate_later(void *arg)
{
	struct truncator *t = arg;

	usleep(t->delay_us);
	return (void *)(long)ftruncate(t->fd, t->size);
}

/*
 * Truncate during a job, 10 rounds: the job completes or stops with EFAULT
 * past the new end; afterwards the head checksums right and the tail faults.
 */
TEST_F_TIMEOUT(dgpu, truncate_during_job, 300)
{
	unsigned long size = 8UL << 20, cut = 2UL << 20;
	struct drm_p2pmap_dgpu_result res;
	unsigned int round, stopped = 0;

	for (round = 0; round < 10; round++) {
		struct truncator t = { .size = cut, .delay_us = 2000 * round };
		struct p2pmap_dgpu_file_map fm;
		pthread_t thread;
		void *tret;
		uint64_t job;
		int fd;

		fd = open("truncated", O_RDWR | O_CREAT | O_TRUNC, 0644);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, write_pattern(fd, 0, size, 10 + round));
		ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, size, 0, &fm));
		t.fd = fd;

		ASSERT_EQ(0, p2pmap_dgpu_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU,
						  fm.handle, 0, size, &job));
		ASSERT_EQ(0, pthread_create(&thread, NULL, truncate_later, &t));
		ASSERT_EQ(0, p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, &res));
		ASSERT_EQ(0, pthread_join(thread, &tret));
		ASSERT_EQ(NULL, tret);
		if (res.error) {
			EXPECT_EQ(EFAULT, (int)res.error);
			EXPECT_LE(cut, res.error_offset) TH_LOG("only pages past the new end fault");
			stopped++;
		}

		ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, 0, cut, &res));
		EXPECT_EQ(0, (int)res.error);
		EXPECT_EQ(file_crc(fd, 0, cut), (uint32_t)res.checksum);
		ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, cut, PAGE, &res));
		EXPECT_EQ(EFAULT, (int)res.error) TH_LOG("past the end of the file");
		p2pmap_dgpu_release_file(self->dev, &fm);
		close(fd);
		unlink("truncated");
	}
	TH_LOG("%u of 10 jobs were cut short by the truncate", stopped);
}

/* munmap during a job: the job stops with EFAULT or completes, and the kernel stays clean. */
TEST_F_TIMEOUT(dgpu, munmap_during_job, 300)
{
	unsigned long len = 8UL << 20;
	struct drm_p2pmap_dgpu_result res;
	unsigned int round;

	for (round = 0; round < 10; round++) {
		uint64_t job;
		uint32_t up;
		char *mem;

		mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, mem);
		memset(mem, round, len);
		ASSERT_EQ(0, p2pmap_dgpu_userptr(self->dev, mem, len, &up));
		ASSERT_EQ(0, p2pmap_dgpu_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 0, len, &job));
		usleep(1000 * round);
		ASSERT_EQ(0, munmap(mem, len));
		ASSERT_EQ(0, p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, &res));
		if (res.error)
			EXPECT_EQ(EFAULT, (int)res.error);
		EXPECT_EQ(0, p2pmap_dgpu_handle_close(self->dev, up));
	}
}

/*
 * Closing the DRM file with jobs queued and running cancels them: the close
 * takes a fraction of what the jobs would have taken.
 */
TEST_F_TIMEOUT(dgpu, close_with_jobs_in_flight, 300)
{
	unsigned int engine = variant->kind == P2PMAP_DGPU_KIND_PCI ?
			      P2PMAP_DGPU_ENGINE_EDU : P2PMAP_DGPU_ENGINE_CPU;
	unsigned long len = variant->kind == P2PMAP_DGPU_KIND_PCI ? 4 * PAGE : 32UL << 20;
	const unsigned int njobs = 8;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu *dev;
	struct timespec t0, t1;
	long ms, job_ms;
	unsigned int i;
	uint32_t vram, up;
	uint64_t job;
	char *mem;

	/* every job has its own memory: one page is mapped once per device */
	mem = mmap(NULL, (njobs + 1) * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, (njobs + 1) * len);
	ASSERT_EQ(0, p2pmap_dgpu_open_path(p2pmap_dgpu_path(self->dev), &dev));
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(dev, len, &vram));

	/* what one job takes, run to its end */
	ASSERT_EQ(0, p2pmap_dgpu_userptr(dev, mem + njobs * len, len, &up));
	ASSERT_EQ(0, run_copy(dev, engine, vram, 0, up, 0, len, &res));
	ASSERT_EQ(0, (int)res.error);
	job_ms = res.duration_ns / 1000000;

	for (i = 0; i < njobs; i++) {
		ASSERT_EQ(0, p2pmap_dgpu_userptr(dev, mem + i * len, len, &up));
		ASSERT_EQ(0, p2pmap_dgpu_copy(dev, engine, vram, 0, up, 0, len, &job));
		ASSERT_EQ(0, p2pmap_dgpu_handle_close(dev, up));	/* the job keeps it */
	}
	EXPECT_EQ(-ETIME, p2pmap_dgpu_wait(dev, job, 0, &res));
	/* a quarter of a job's time: every job has started, none is near its end */
	usleep(job_ms * 1000 / 4);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p2pmap_dgpu_close(dev);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	TH_LOG("close took %ld ms; one job takes %ld ms, %u were queued", ms, job_ms, njobs);
	/* a CPU job stops at its next page, an edu job before its next DMA */
	EXPECT_GT(njobs * job_ms / 4, ms) TH_LOG("cancelled jobs stop promptly");
	munmap(mem, (njobs + 1) * len);

	/* the device still works */
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, PAGE, &vram));
	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, vram, 0, PAGE, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(0, p2pmap_dgpu_handle_close(self->dev, vram));
}

/* WAIT with a short timeout returns ETIME and the job goes on; a second wait gets it. */
TEST_F(dgpu_pci, wait_timeout_then_result)
{
	struct drm_p2pmap_dgpu_result res;
	uint32_t vram;
	uint64_t job;

	/* an edu job (about 100 ms a DMA) surely outlasts 1 ms */
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 2 * PAGE, &vram));
	ASSERT_EQ(0, p2pmap_dgpu_checksum(self->dev, P2PMAP_DGPU_ENGINE_EDU, vram, 0,
					  2 * PAGE, &job));
	EXPECT_EQ(-ETIME, p2pmap_dgpu_wait(self->dev, job, 1000000, &res));
	ASSERT_EQ(0, p2pmap_dgpu_wait(self->dev, job, 10 * NSEC, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(P2PMAP_DGPU_ENGINE_EDU, (int)res.engine);
	EXPECT_EQ(p2pmap_dgpu_crc32(0, (char[2 * PAGE]){ 0 }, 2 * PAGE), (uint32_t)res.checksum);
	EXPECT_EQ(-ENOENT, p2pmap_dgpu_wait(self->dev, job, 0, &res));
	p2pmap_dgpu_handle_close(self->dev, vram);
}

/* The edu engine DMAs a few pages between VRAM objects correctly. */
TEST_F(dgpu_pci, edu_copies_vram)
{
	struct drm_p2pmap_dgpu_result res;
	unsigned long len = PAGE + 300;
	uint32_t a, b;
	char *ma, *mb;

	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 2 * PAGE, &a));
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 2 * PAGE, &b));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, a, 2 * PAGE, (void **)&ma));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, b, 2 * PAGE, (void **)&mb));
	fill(ma, 2 * PAGE, 8, 0);
	ASSERT_EQ(0, run_copy(self->dev, P2PMAP_DGPU_ENGINE_EDU, b, 500, a, 100, len, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(0, memcmp(mb + 500, ma + 100, len));
	TH_LOG("edu: %llu bytes in %llu ms", res.bytes, res.duration_ns / 1000000);
	munmap(ma, 2 * PAGE);
	munmap(mb, 2 * PAGE);
	p2pmap_dgpu_handle_close(self->dev, a);
	p2pmap_dgpu_handle_close(self->dev, b);
}

/* The edu engine reads file pages - from the CMB, peer to peer, where a route exists. */
TEST_F(dgpu_pci, edu_reads_file)
{
	unsigned long len = 3 * PAGE;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	char *mv, want[3 * PAGE];
	uint32_t vram;
	int fd;

	fd = open("edu", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, len, 9));
	fill(want, len, 9, 0);

	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, len, 0, &fm));
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, len, &vram));
	ASSERT_EQ(0, run_copy(self->dev, P2PMAP_DGPU_ENGINE_EDU, vram, 0, fm.handle, 0, len, &res));
	log_result(_metadata, "edu copy", &res);
	EXPECT_EQ(0, (int)res.error);
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, vram, len, (void **)&mv));
	EXPECT_EQ(0, memcmp(mv, want, len));
	if (self->p2p) {
		EXPECT_EQ(3ULL, res.pages_p2p) TH_LOG("edu read the CMB's bus addresses");
	} else {
		EXPECT_EQ(0ULL, res.pages_p2p);
		EXPECT_EQ(3ULL, res.reasons[self->no_p2p]);
	}

	ASSERT_EQ(0, run_checksum(self->dev, P2PMAP_DGPU_ENGINE_EDU, fm.handle, 10, len - 20, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(p2pmap_dgpu_crc32(0, want + 10, len - 20), (uint32_t)res.checksum);
	munmap(mv, len);
	p2pmap_dgpu_handle_close(self->dev, vram);
	p2pmap_dgpu_release_file(self->dev, &fm);
	close(fd);
}

/* The device writes a file through its shared mapping (VRAM -> userptr); the file has the bytes. */
TEST_F(dgpu, device_write_into_file)
{
	unsigned long len = 6 * PAGE;
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu_file_map fm;
	unsigned int engine;
	char *mv, *want, *got;
	uint32_t vram;
	int fd;

	fd = open("written", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, len, 12));
	want = malloc(len);
	got = malloc(len);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	ASSERT_EQ((ssize_t)len, pread(fd, want, len, 0));

	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, len, &vram));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, vram, len, (void **)&mv));
	fill(mv, len, 13, 0);
	ASSERT_EQ(0, p2pmap_dgpu_import_file(self->dev, fd, 0, len, 1, &fm));

	/* the CPU engine writes pages 1-4 (from byte 100), edu a piece of page 5 */
	ASSERT_EQ(0, run_copy(self->dev, P2PMAP_DGPU_ENGINE_CPU, fm.handle, PAGE + 100,
			      vram, 0, 4 * PAGE, &res));
	log_result(_metadata, "cpu write", &res);
	EXPECT_EQ(0, (int)res.error);
	memcpy(want + PAGE + 100, mv, 4 * PAGE);
	/* P2P write mappings (issue #8): pages 1-5, where the route allows */
	EXPECT_EQ(self->p2p ? 5ULL : 0ULL, res.pages_p2p)
		TH_LOG("device writes into the CMB where P2P works, else the page cache");
	engine = self->info.engines & (1U << P2PMAP_DGPU_ENGINE_EDU) ?
		 P2PMAP_DGPU_ENGINE_EDU : P2PMAP_DGPU_ENGINE_CPU;
	ASSERT_EQ(0, run_copy(self->dev, engine, fm.handle, 5 * PAGE + 7, vram, 4 * PAGE,
			      300, &res));
	EXPECT_EQ(0, (int)res.error);
	memcpy(want + 5 * PAGE + 7, mv + 4 * PAGE, 300);

	p2pmap_dgpu_release_file(self->dev, &fm);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ((ssize_t)len, pread(fd, got, len, 0));
	EXPECT_EQ(0, memcmp(want, got, len));
	munmap(mv, len);
	p2pmap_dgpu_handle_close(self->dev, vram);
	free(want);
	free(got);
	close(fd);
}

/* A job whose process exits under it ends (done, or ESRCH/EFAULT) and the kernel stays clean. */
TEST_F(dgpu, process_exit_during_job)
{
	unsigned int round;

	for (round = 0; round < 5; round++) {
		struct drm_p2pmap_dgpu_result res;
		int pipefd[2], status;
		uint64_t job = 0;
		pid_t pid;

		ASSERT_EQ(0, pipe(pipefd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			unsigned long len = 8UL << 20;
			uint32_t up;
			char *mem;

			/* the child shares the DRM file; its memory goes when it exits */
			mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (mem == MAP_FAILED)
				_exit(1);
			memset(mem, 7, len);
			if (p2pmap_dgpu_userptr(self->dev, mem, len, &up) ||
			    p2pmap_dgpu_checksum(self->dev, P2PMAP_DGPU_ENGINE_CPU, up, 0,
						 len, &job) ||
			    p2pmap_dgpu_handle_close(self->dev, up))
				_exit(2);
			if (write(pipefd[1], &job, sizeof(job)) != sizeof(job))
				_exit(3);
			usleep(1000 * round);
			_exit(0);
		}
		close(pipefd[1]);
		ASSERT_EQ((ssize_t)sizeof(job), read(pipefd[0], &job, sizeof(job)));
		close(pipefd[0]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, status);
		ASSERT_EQ(0, p2pmap_dgpu_wait(self->dev, job, P2PMAP_DGPU_WAIT_FOREVER, &res));
		if (res.error)
			EXPECT_TRUE(res.error == ESRCH || res.error == EFAULT)
				TH_LOG("round %u: %s", round, strerror(res.error));
	}
}

/* The virtual instance has no PCI function: never P2P, NO_ROUTE for file data. */
TEST_F(dgpu_virtual, virtual_instance_is_always_pagecache)
{
	unsigned long len = 32 * PAGE;
	struct drm_p2pmap_dgpu_result res;
	int fd;

	fd = open("virtual", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_pattern(fd, 0, len, 11));
	checksum_file(_metadata, self->dev, P2PMAP_DGPU_ENGINE_CPU, fd, 0, len, &res);
	EXPECT_EQ(0ULL, res.pages_p2p);
	EXPECT_EQ(32ULL, res.pages_pagecache);
	/* no_route, or no_cmb on a machine without a CMB (the route is not asked) */
	EXPECT_EQ(32ULL, res.reasons[self->no_p2p])
		TH_LOG("written, clean file data: the reason is %s",
		       self->no_p2p == P2PMAP_REASON_NO_ROUTE ? "the route" : "no CMB");
	close(fd);
}

static int delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * Unloading is refused while a DRM file or a VRAM mapping is alive, and
 * clean once they are gone; the module loads again and works.
 */
TEST(unload_refused_while_objects_alive)
{
	struct drm_p2pmap_dgpu_result res;
	struct p2pmap_dgpu *dev;
	uint32_t vram;
	void *map;
	int ret;

	ASSERT_EQ(0, load_module());
	ASSERT_EQ(0, p2pmap_dgpu_open(P2PMAP_DGPU_KIND_ANY, &dev));
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(dev, 4 * PAGE, &vram));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(dev, vram, 4 * PAGE, &map));

	ret = delete_module(MODULE);
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("rmmod with an open file: %d", ret);
	p2pmap_dgpu_close(dev);		/* the mapping still holds the file */
	ret = delete_module(MODULE);
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("rmmod with a mapping: %d", ret);
	memset(map, 1, 4 * PAGE);	/* still usable */
	ASSERT_EQ(0, munmap(map, 4 * PAGE));

	EXPECT_EQ(0, delete_module(MODULE));
	EXPECT_NE(0, access("/sys/module/" MODULE, F_OK));

	ASSERT_EQ(0, load_module());
	ASSERT_EQ(0, p2pmap_dgpu_open(P2PMAP_DGPU_KIND_ANY, &dev));
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(dev, PAGE, &vram));
	ASSERT_EQ(0, run_checksum(dev, P2PMAP_DGPU_ENGINE_CPU, vram, 0, PAGE, &res));
	EXPECT_EQ(0, (int)res.error);
	p2pmap_dgpu_close(dev);
}

static int write_sysfs(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -errno;
}

/*
 * Unbinding the edu function while a file has objects, a mapping and a job
 * in flight: the job is cancelled, the file's ioctls fail with ENODEV, the
 * mapping stays readable, and binding again gives a working device.
 */
TEST_F_TIMEOUT(dgpu_pci, unbind_with_objects_and_jobs, 120)
{
	struct drm_p2pmap_dgpu_result res;
	struct drm_p2pmap_dgpu_info info;
	char bdf[32], *map, *mem;
	uint32_t vram, up, v2;
	struct p2pmap_dgpu *dev;
	uint64_t job;
	unsigned int i;

	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", self->info.pci_domain,
		 self->info.pci_bdf >> 8, (self->info.pci_bdf >> 3) & 0x1f,
		 self->info.pci_bdf & 7);
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x3c, 4 * PAGE);
	ASSERT_EQ(0, p2pmap_dgpu_vram_create(self->dev, 4 * PAGE, &vram));
	ASSERT_EQ(0, p2pmap_dgpu_vram_map(self->dev, vram, 4 * PAGE, (void **)&map));
	ASSERT_EQ(0, p2pmap_dgpu_userptr(self->dev, mem, 4 * PAGE, &up));
	ASSERT_EQ(0, p2pmap_dgpu_copy(self->dev, P2PMAP_DGPU_ENGINE_EDU, vram, 0, up, 0,
				      4 * PAGE, &job));
	usleep(200000);

	ASSERT_EQ(0, write_sysfs("/sys/bus/pci/drivers/" MODULE "/unbind", bdf));
	EXPECT_EQ(-ENODEV, p2pmap_dgpu_get_info(self->dev, &info));
	EXPECT_EQ(-ENODEV, p2pmap_dgpu_wait(self->dev, job, 0, &res));
	EXPECT_EQ(-ENODEV, p2pmap_dgpu_vram_create(self->dev, PAGE, &v2));
	for (i = 0; i < 4 * PAGE; i++)	/* whatever the job left: no fault */
		ASSERT_TRUE(map[i] == 0 || map[i] == 0x3c);
	munmap(map, 4 * PAGE);
	p2pmap_dgpu_close(self->dev);
	self->dev = NULL;

	ASSERT_EQ(0, write_sysfs("/sys/bus/pci/drivers/" MODULE "/bind", bdf));
	ASSERT_EQ(0, p2pmap_dgpu_open(P2PMAP_DGPU_KIND_PCI, &dev));
	ASSERT_EQ(0, p2pmap_dgpu_userptr(dev, mem, 4 * PAGE, &up));
	ASSERT_EQ(0, run_checksum(dev, P2PMAP_DGPU_ENGINE_EDU, up, 0, PAGE, &res));
	EXPECT_EQ(0, (int)res.error);
	EXPECT_EQ(p2pmap_dgpu_crc32(0, mem, PAGE), (uint32_t)res.checksum);
	p2pmap_dgpu_close(dev);
	munmap(mem, 4 * PAGE);
}

TEST_HARNESS_MAIN
