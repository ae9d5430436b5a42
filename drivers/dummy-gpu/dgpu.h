/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap_dgpu: what the files of the dummy GPU driver share.
 */
#ifndef _P2PMAP_DGPU_H
#define _P2PMAP_DGPU_H

#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include <uapi/drm/p2pmap_dgpu_drm.h>

struct pci_dev;
struct dgpu_engine;

/* the largest job, so that a job's counters and timings stay meaningful */
#define DGPU_MAX_JOB_BYTES	BIT_ULL(32)
/* jobs one file may have submitted and not waited for */
#define DGPU_MAX_JOBS		64

/**
 * struct dgpu_span - one piece of an object as an engine sees it
 * @page: the page (VRAM, page-cache, anonymous or a CMB ZONE_DEVICE page).
 * @offset: first byte in @page.
 * @addr: the device address of @page (not of @offset) for the instance's
 *	DMA device, when @mapped.
 * @mapped: @addr is valid (userptr pages come DMA-mapped by p2pmap); VRAM
 *	pages are mapped by the engine that needs it.
 */
struct dgpu_span {
	struct page *page;
	unsigned int offset;
	dma_addr_t addr;
	bool mapped;
};

/**
 * struct dgpu_engine_ops - one interface, two engines
 * @copy: copy @len bytes from @src to @dst (neither crosses a page).
 *	May sleep. Return 0, -ECANCELED if @cancel became set before the
 *	bytes were all moved, or another negative errno.
 * @checksum: continue the CRC-32 in @crc (crc32_le() convention, without
 *	the final inversion) over @len bytes of @src. May sleep. Return as
 *	@copy does.
 *
 * A slow engine looks at @cancel (the job's) between its steps.
 */
struct dgpu_engine_ops {
	int (*copy)(struct dgpu_engine *engine, const struct dgpu_span *dst,
		    const struct dgpu_span *src, unsigned int len,
		    const atomic_t *cancel);
	int (*checksum)(struct dgpu_engine *engine, const struct dgpu_span *src,
			unsigned int len, u32 *crc, const atomic_t *cancel);
};

/**
 * struct dgpu_engine - an engine of a device instance
 * @ops: what it does.
 * @id: enum p2pmap_dgpu_engine.
 * @exclusive: the engine does one piece at a time (edu: one DMA channel);
 *	jobs then take @lock before they pin their pages.
 * @lock: see below.
 */
struct dgpu_engine {
	const struct dgpu_engine_ops *ops;
	enum p2pmap_dgpu_engine id;
	bool exclusive;

	/*
	 * lock, for an exclusive engine, is held by a job from the pinning of
	 * a piece's pages to their unpinning: a page is pinned only while the
	 * engine works on it, not while its job waits for the engine, since
	 * an invalidation of the page spins until the pin goes.
	 */
	struct mutex lock;
};

/**
 * struct dgpu_device - one instance of the dummy GPU
 * @drm: the DRM device (embedded: devm_drm_dev_alloc()).
 * @parent: the PCI function's or the virtual platform device's device.
 * @pdev: the edu PCI function; NULL for a virtual instance.
 * @kind: enum p2pmap_dgpu_kind.
 * @importer: this device as a p2pmap importer.
 * @engines: the engines present, indexed by enum p2pmap_dgpu_engine.
 * @wq: the queue jobs run on.
 * @vram_size: VRAM budget in bytes.
 * @vram_used: VRAM allocated, in bytes.
 * @lock: see below.
 * @files: open files (struct dgpu_file.node).
 * @userptrs: live userptr objects (struct dgpu_userptr.node).
 * @dying: the device is being removed: no new job, no new mirror.
 */
struct dgpu_device {
	struct drm_device drm;
	struct device *parent;
	struct pci_dev *pdev;
	enum p2pmap_dgpu_kind kind;
	struct p2pmap_importer *importer;
	struct dgpu_engine *engines[2];
	struct workqueue_struct *wq;
	u64 vram_size;
	atomic64_t vram_used;

	/* lock protects files, userptrs and dying. */
	struct mutex lock;
	struct list_head files;
	struct list_head userptrs;
	bool dying;
};

static inline struct dgpu_device *to_dgpu(struct drm_device *drm)
{
	return container_of(drm, struct dgpu_device, drm);
}

/**
 * struct dgpu_file - per open DRM file
 * @dgpu: the device.
 * @node: in dgpu->files.
 * @jobs: job id -> struct dgpu_job, each holding the file's reference;
 *	the xarray's own lock protects it.
 * @next_job: the next job id to try (ids are handed out cyclically, so
 *	that a stale id does not name a new job at once).
 * @nr_jobs: jobs in @jobs.
 */
struct dgpu_file {
	struct dgpu_device *dgpu;
	struct list_head node;
	struct xarray jobs;
	u32 next_job;
	atomic_t nr_jobs;
};

enum dgpu_obj_kind {
	DGPU_OBJ_VRAM,
	DGPU_OBJ_USERPTR,
};

struct dgpu_obj;
struct dgpu_job_stats;

/**
 * struct dgpu_obj_ops - how a job reaches the bytes of an object
 * @prepare: make the page holding byte @offset reachable by the device
 *	(fault it in for a userptr object, for writing if @write), together
 *	with following pages up to byte @end; count what was done in @stats.
 *	May sleep. Must not be called while the job holds a pin (a fault may
 *	wait for pins to go). Return 0 or a negative errno.
 * @pin: if the page holding byte @offset is reachable (for writing if
 *	@write), pin it - it stays in place until @unpin - describe it in
 *	@span and return 0; return -EAGAIN if it is not (@prepare again).
 *	With @stats, count the page's path in it. Does not sleep.
 * @unpin: the engine is done with the page of @pin.
 * @begin_access: a job is about to access [@offset, @offset + @length):
 *	the coherency point where p2pmap revokes P2P pages whose file
 *	changed behind them. May sleep. Return 0 or a negative errno.
 * @end_access: a job that wrote [@offset, @offset + @length) ends, before
 *	its completion is reported: what it wrote reaches the file's blocks
 *	where p2pmap needs that (ext4). May be NULL. May sleep. Return 0 or
 *	a negative errno.
 * @invalidations: invalidations the object has seen so far.
 */
struct dgpu_obj_ops {
	int (*begin_access)(struct dgpu_obj *obj, u64 offset, u64 length);
	int (*end_access)(struct dgpu_obj *obj, u64 offset, u64 length);
	int (*prepare)(struct dgpu_obj *obj, u64 offset, u64 end, bool write,
		       struct dgpu_job_stats *stats);
	int (*pin)(struct dgpu_obj *obj, u64 offset, bool write,
		   struct dgpu_job_stats *stats, struct dgpu_span *span);
	void (*unpin)(struct dgpu_obj *obj, u64 offset);
	u64 (*invalidations)(struct dgpu_obj *obj);
};

/**
 * struct dgpu_obj - a GEM object of the device
 * @base: the GEM object.
 * @kind: enum dgpu_obj_kind.
 * @ops: how jobs reach its bytes.
 */
struct dgpu_obj {
	struct drm_gem_object base;
	enum dgpu_obj_kind kind;
	const struct dgpu_obj_ops *ops;
};

static inline struct dgpu_obj *to_dgpu_obj(struct drm_gem_object *obj)
{
	return container_of(obj, struct dgpu_obj, base);
}

/**
 * struct dgpu_vram - a VRAM object
 * @obj: the object.
 * @pages: its pages, allocated when it is created.
 * @npages: number of @pages.
 */
struct dgpu_vram {
	struct dgpu_obj obj;
	struct page **pages;
	unsigned long npages;
};

static inline struct dgpu_vram *to_dgpu_vram(struct dgpu_obj *obj)
{
	return container_of(obj, struct dgpu_vram, obj);
}

/**
 * struct dgpu_job_stats - what a job counts while it runs
 * @pages_p2p: see struct drm_p2pmap_dgpu_result.
 * @pages_pagecache: idem.
 * @faults: idem.
 * @faulted_pages: idem.
 * @refaults: idem.
 * @reasons: idem.
 */
struct dgpu_job_stats {
	u64 pages_p2p;
	u64 pages_pagecache;
	u64 faults;
	u64 faulted_pages;
	u64 refaults;
	u64 reasons[P2PMAP_DGPU_MAX_REASONS];
};

/* gem.c */
int dgpu_ioctl_gem_create(struct drm_device *drm, void *data,
			  struct drm_file *file);
int dgpu_ioctl_gem_mmap_offset(struct drm_device *drm, void *data,
			       struct drm_file *file);

/* userptr.c */
int dgpu_ioctl_userptr(struct drm_device *drm, void *data,
		       struct drm_file *file);
int dgpu_ioctl_userptr_fault(struct drm_device *drm, void *data,
			     struct drm_file *file);
int dgpu_ioctl_userptr_snapshot(struct drm_device *drm, void *data,
				struct drm_file *file);
extern const struct p2pmap_importer_ops dgpu_importer_ops;
void dgpu_userptr_kill_all(struct dgpu_device *dgpu);

/* job.c */
int dgpu_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file);
int dgpu_ioctl_wait(struct drm_device *drm, void *data,
		    struct drm_file *file);
void dgpu_file_cancel_jobs(struct dgpu_file *dfile);
void dgpu_file_reap_jobs(struct dgpu_file *dfile);

/* engine_cpu.c, engine_edu.c */
struct dgpu_engine *dgpu_engine_cpu_create(struct dgpu_device *dgpu);
void dgpu_engine_cpu_destroy(struct dgpu_engine *engine);
struct dgpu_engine *dgpu_engine_edu_create(struct dgpu_device *dgpu);
void dgpu_engine_edu_destroy(struct dgpu_engine *engine);

#endif /* _P2PMAP_DGPU_H */
