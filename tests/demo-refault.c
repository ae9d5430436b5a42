// SPDX-License-Identifier: GPL-2.0
/*
 * demo-refault FILE SHRINK-CMD GROW-CMD: the part of 'make demo' that needs
 * one process to hold a device mapping across changes to the file.
 *
 * The file (4 MiB, written) is mapped MAP_SHARED and imported by the PCI
 * dummy GPU as one userptr object, which stays alive throughout:
 *   1. the device checksums the 4 MiB (P2P from the CMB);
 *   2. SHRINK-CMD runs (another process truncates the file to 1 MiB);
 *   3. the device checksums the 4 MiB again: it stops at 1 MiB with EFAULT,
 *      as a CPU would get SIGBUS there; the first 1 MiB is still right;
 *   4. GROW-CMD runs (another process writes new bytes from 1 to 4 MiB);
 *   5. the device checksums the 4 MiB once more: it re-faults the pages that
 *      were taken back and its CRC equals the CPU's CRC of the new file.
 * Exit status 0 when every step shows what it should, 1 otherwise (with the
 * step that did not), 2 for a bad command line, 3 without the device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libp2pmap_dgpu.h>

#define LEN	(4u << 20)

static uint32_t cpu_crc(int fd, uint64_t len)
{
	static char buf[1 << 16];
	uint32_t crc = 0;
	uint64_t off;
	ssize_t n;

	for (off = 0; off < len; off += n) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n <= 0)
			break;
		crc = p2pmap_dgpu_crc32(crc, buf, n);
	}
	return crc;
}

static int job(struct p2pmap_dgpu *dev, uint32_t handle, uint64_t off,
	       struct drm_p2pmap_dgpu_result *r)
{
	uint64_t id;
	int ret;

	ret = p2pmap_dgpu_checksum(dev, P2PMAP_DGPU_ENGINE_CPU, handle, off, LEN,
				   &id);
	if (!ret)
		ret = p2pmap_dgpu_wait(dev, id, P2PMAP_DGPU_WAIT_FOREVER, r);
	if (ret)
		fprintf(stderr, "demo-refault: the job: %s\n", strerror(-ret));
	return ret;
}

static void show(const char *what, const struct drm_p2pmap_dgpu_result *r)
{
	printf("  %s\n", what);
	if (r->error)
		printf("    the device stopped at byte %llu: %s\n",
		       (unsigned long long)r->error_offset, strerror(r->error));
	else
		printf("    device CRC-32 %08llx of %llu bytes\n",
		       (unsigned long long)r->checksum & 0xffffffffULL,
		       (unsigned long long)r->bytes);
	printf("    pages P2P %llu, from the page cache %llu; faults %llu (%llu pages), refaults %llu, invalidations %llu\n",
	       (unsigned long long)r->pages_p2p,
	       (unsigned long long)r->pages_pagecache,
	       (unsigned long long)r->faults,
	       (unsigned long long)r->faulted_pages,
	       (unsigned long long)r->refaults,
	       (unsigned long long)r->invalidations);
}

static int fail(const char *why)
{
	printf("demo-refault: FAILED: %s\n", why);
	return 1;
}

int main(int argc, char **argv)
{
	struct drm_p2pmap_dgpu_result r;
	struct p2pmap_dgpu_file_map fm;
	struct p2pmap_dgpu *dev;
	uint32_t crc;
	int fd, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: demo-refault FILE SHRINK-CMD GROW-CMD\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	ret = p2pmap_dgpu_open(P2PMAP_DGPU_KIND_PCI, &dev);
	if (ret) {
		fprintf(stderr, "demo-refault: no PCI dummy GPU: %s\n", strerror(-ret));
		return 3;
	}
	ret = p2pmap_dgpu_import_file(dev, fd, 0, LEN, 0, &fm);
	if (ret) {
		fprintf(stderr, "demo-refault: importing %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}

	if (job(dev, fm.handle, fm.data_offset, &r))
		return 1;
	show("1. the device checksums the 4 MiB file through its mapping:", &r);
	crc = cpu_crc(fd, LEN);
	printf("    CPU CRC-32    %08x (read through the page cache, after the job)\n", crc);
	if (r.error || r.pages_p2p != LEN / 4096 || (uint32_t)r.checksum != crc)
		return fail("step 1 was not all P2P with the CPU's CRC");

	printf("  2. another process: %s\n", argv[2]);
	fflush(stdout);
	if (system(argv[2]))
		return fail("the shrink command failed");

	if (job(dev, fm.handle, fm.data_offset, &r))
		return 1;
	show("3. the same mapping, the same 4 MiB job, after the truncate:", &r);
	if (r.error != EFAULT || r.error_offset != 1u << 20)
		return fail("step 3 did not stop with EFAULT at the new end (1 MiB)");

	printf("  4. another process: %s\n", argv[3]);
	fflush(stdout);
	if (system(argv[3]))
		return fail("the grow command failed");

	if (job(dev, fm.handle, fm.data_offset, &r))
		return 1;
	show("5. the same mapping, the same job, after the file grew with new bytes:", &r);
	crc = cpu_crc(fd, LEN);
	printf("    CPU CRC-32    %08x\n", crc);
	if (r.error || (uint32_t)r.checksum != crc || !r.faulted_pages)
		return fail("step 5 did not re-fault to the file's new bytes");
	printf("  The device never saw a stale byte: the truncate took its pages back\n"
	       "  (p2pmap's interval notifier), and it faulted them again when it next\n"
	       "  touched them.\n");
	p2pmap_dgpu_release_file(dev, &fm);
	p2pmap_dgpu_close(dev);
	close(fd);
	return 0;
}
