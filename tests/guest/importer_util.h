/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's guest tests (mirror.c, mirror_p2p.c, cli_inspect.c) drive
 * p2pmap's importer API through the dummy GPU (drivers/dummy-gpu) and
 * libp2pmap_dgpu: a userptr object is the device's mirror of a user range;
 * a device read is a COPY job into VRAM, read back through the VRAM
 * object's mmap; a checksum is the device's CRC-32 of what it read;
 * DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT maps without reading, and
 * DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT shows the device page table.
 * Also here: the pattern files are filled with, and the framework's totals.
 */
#ifndef _P2PMAP_TESTS_IMPORTER_UTIL_H
#define _P2PMAP_TESTS_IMPORTER_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/p2pmap.h>
#include <libp2pmap_dgpu.h>

#define IMP_PAGE	4096UL
/* VRAM a device read goes through; longer reads are several jobs */
#define IMP_VRAM_PAGES	256UL

/* One dgpu DRM file (a p2pmap importer: its instance) and its mirror. */
struct imp {
	struct p2pmap_dgpu *dev;
	struct drm_p2pmap_dgpu_info info;
	uint32_t handle;	/* the userptr object; 0: none */
	uintptr_t start;	/* the user range it mirrors */
	unsigned long npages;
	uint32_t vram;
	unsigned char *vmap;	/* the VRAM object, mapped */
};

/* What one device access did. */
struct imp_res {
	uint64_t faults;	/* p2pmap_mirror_fault() calls */
	uint64_t pages_p2p;	/* pages the device reached peer to peer */
	uint64_t pages_fallback;	/* through the page cache */
	uint64_t refaults;	/* pages faulted again after a revocation */
	uint64_t invalidations;	/* of the mirror since it was made */
	uint64_t reasons[P2PMAP_DGPU_MAX_REASONS];
};

/*
 * The dgpu module with one virtual instance beside the edu one, so that a
 * test can have two importers (the edu instance and the virtual one).
 */
static inline int imp_load(void)
{
	struct p2pmap_dgpu *d;

	if (!p2pmap_dgpu_open(P2PMAP_DGPU_KIND_VIRTUAL, &d)) {
		p2pmap_dgpu_close(d);
		return 0;
	}
	if (system("grep -q '^p2pmap_dgpu ' /proc/modules") == 0 &&
	    system("rmmod p2pmap_dgpu"))
		return -1;
	return system("modprobe p2pmap_dgpu virtual_instances=1") ? -1 : 0;
}

static inline void imp_close(struct imp *imp)
{
	if (imp->vmap)
		munmap(imp->vmap, IMP_VRAM_PAGES * IMP_PAGE);
	if (imp->dev)
		p2pmap_dgpu_close(imp->dev);	/* its objects go with it */
	memset(imp, 0, sizeof(*imp));
}

/* Open an instance of @kind (enum p2pmap_dgpu_kind) with its VRAM. */
static inline int imp_open(struct imp *imp, unsigned int kind)
{
	void *map;
	int ret;

	memset(imp, 0, sizeof(*imp));
	ret = p2pmap_dgpu_open(kind, &imp->dev);
	if (ret)
		return ret;
	ret = p2pmap_dgpu_get_info(imp->dev, &imp->info);
	if (!ret)
		ret = p2pmap_dgpu_vram_create(imp->dev, IMP_VRAM_PAGES * IMP_PAGE,
					      &imp->vram);
	if (!ret)
		ret = p2pmap_dgpu_vram_map(imp->dev, imp->vram,
					   IMP_VRAM_PAGES * IMP_PAGE, &map);
	if (ret) {
		imp_close(imp);
		return ret;
	}
	imp->vmap = map;
	return 0;
}

/* Drop the mirror (the userptr object). */
static inline void imp_release(struct imp *imp)
{
	if (imp->handle)
		p2pmap_dgpu_handle_close(imp->dev, imp->handle);
	imp->handle = 0;
	imp->start = 0;
	imp->npages = 0;
}

/* Mirror [addr, addr + npages pages); replaces the previous mirror. */
static inline int imp_mirror(struct imp *imp, void *addr, unsigned long npages)
{
	uint32_t handle;
	int ret;

	ret = p2pmap_dgpu_userptr(imp->dev, addr, npages * IMP_PAGE, &handle);
	if (ret)
		return ret;
	imp_release(imp);
	imp->handle = handle;
	imp->start = (uintptr_t)addr;
	imp->npages = npages;
	return 0;
}

/* Byte offset of @addr in the mirror (wraps below it: the kernel refuses). */
static inline uint64_t imp_off(const struct imp *imp, const void *addr)
{
	return (uint64_t)((uintptr_t)addr - imp->start);
}

static inline void imp_add(struct imp_res *res,
			   const struct drm_p2pmap_dgpu_result *r)
{
	unsigned int i;

	res->faults += r->faults;
	res->pages_p2p += r->pages_p2p;
	res->pages_fallback += r->pages_pagecache;
	res->refaults += r->refaults;
	for (i = 0; i < P2PMAP_DGPU_MAX_REASONS; i++)
		res->reasons[i] += r->reasons[i];
}

static inline int imp_wait(struct imp *imp, int ret, uint64_t job,
			   struct drm_p2pmap_dgpu_result *r)
{
	if (ret)
		return ret;
	ret = p2pmap_dgpu_wait(imp->dev, job, P2PMAP_DGPU_WAIT_FOREVER, r);
	return ret ? ret : -(int)r->error;
}

/*
 * A device read of @npages at @addr (in the mirror): COPY jobs on the CPU
 * engine into VRAM, whose mapping is then copied to @buf (may be NULL).
 * Return: 0, the job's error (-EFAULT: a page not mapped or past EOF), or
 * the kernel's refusal (-EINVAL: outside the mirror).
 */
static inline int imp_read(struct imp *imp, void *addr, unsigned long npages,
			   void *buf, struct imp_res *out)
{
	struct drm_p2pmap_dgpu_result r;
	struct imp_res res;
	unsigned long done, n;
	uint64_t job;
	int ret = 0;

	memset(&res, 0, sizeof(res));
	if (!imp->handle)
		return -EINVAL;
	for (done = 0; !ret && done < npages; done += n) {
		n = npages - done < IMP_VRAM_PAGES ? npages - done : IMP_VRAM_PAGES;
		ret = p2pmap_dgpu_copy(imp->dev, P2PMAP_DGPU_ENGINE_CPU, imp->vram, 0,
				       imp->handle,
				       imp_off(imp, addr) + done * IMP_PAGE,
				       n * IMP_PAGE, &job);
		if (ret)
			break;	/* refused: nothing ran */
		memset(&r, 0, sizeof(r));
		ret = imp_wait(imp, 0, job, &r);
		imp_add(&res, &r);
		if (!ret && buf)
			memcpy((char *)buf + done * IMP_PAGE, imp->vmap, n * IMP_PAGE);
	}
	p2pmap_dgpu_userptr_snapshot(imp->dev, imp->handle, 0, 0, NULL,
				     &res.invalidations);
	if (out)
		*out = res;
	return ret;
}

/* The device's CRC-32 of @npages at @addr (a CHECKSUM job). */
static inline int imp_checksum(struct imp *imp, void *addr, unsigned long npages,
			       uint32_t *crc, struct imp_res *out)
{
	struct drm_p2pmap_dgpu_result r;
	uint64_t job;
	int ret;

	if (!imp->handle)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	ret = p2pmap_dgpu_checksum(imp->dev, P2PMAP_DGPU_ENGINE_CPU, imp->handle,
				   imp_off(imp, addr), npages * IMP_PAGE, &job);
	ret = imp_wait(imp, ret, job, &r);
	if (!ret)
		*crc = (uint32_t)r.checksum;
	if (out) {
		memset(out, 0, sizeof(*out));
		imp_add(out, &r);
		p2pmap_dgpu_userptr_snapshot(imp->dev, imp->handle, 0, 0, NULL,
					     &out->invalidations);
	}
	return ret;
}

/* Map @npages at @addr for the device without reading them (USERPTR_FAULT). */
static inline int imp_fault(struct imp *imp, void *addr, unsigned long npages,
			    uint32_t flags, struct drm_p2pmap_dgpu_userptr_fault *out)
{
	if (!imp->handle)
		return -EINVAL;
	return p2pmap_dgpu_userptr_fault(imp->dev, imp->handle, imp_off(imp, addr),
					 npages * IMP_PAGE, flags, out);
}

/* The device page table for @npages at @addr, and the invalidations so far. */
static inline int imp_snapshot(struct imp *imp, void *addr, unsigned long npages,
			       struct drm_p2pmap_dgpu_pte *e, uint64_t *invalidations)
{
	if (!imp->handle)
		return -EINVAL;
	return p2pmap_dgpu_userptr_snapshot(imp->dev, imp->handle,
					    imp_off(imp, addr), npages, e,
					    invalidations);
}

static inline void fill(void *p, unsigned long len, unsigned int seed)
{
	unsigned int *w = p;
	unsigned long i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = seed * 2654435761u + i;
}

static inline void get_stats(struct p2pmap_stats *st)
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
