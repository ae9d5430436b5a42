/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest tests driving p2pmap_test_importer.ko share: one device
 * access, the pattern files are filled with, and the framework's totals.
 */
#ifndef _P2PMAP_TESTS_IMPORTER_UTIL_H
#define _P2PMAP_TESTS_IMPORTER_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/p2pmap.h>
#include "../modules/p2pmap_test_importer.h"

static int dev_cmd(int fd, unsigned long op, void *addr, unsigned long npages,
		   void *ptr, struct p2pmap_test_cmd *out)
{
	struct p2pmap_test_cmd cmd = {
		.addr = (uintptr_t)addr,
		.npages = npages,
		.ptr = (uintptr_t)ptr,
	};
	int ret = ioctl(fd, op, &cmd);

	if (out)
		*out = cmd;
	return ret ? -errno : 0;
}

static void fill(void *p, unsigned long len, unsigned int seed)
{
	unsigned int *w = p;
	unsigned long i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = seed * 2654435761u + i;
}

static void get_stats(struct p2pmap_stats *st)
{
	int fd = open("/dev/p2pmap", O_RDWR);

	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (fd < 0 || ioctl(fd, P2PMAP_IOC_STATS, st))
		memset(st, 0xff, sizeof(*st));
	if (fd >= 0)
		close(fd);
}

#endif /* _P2PMAP_TESTS_IMPORTER_UTIL_H */
