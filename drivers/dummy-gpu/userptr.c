// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_dgpu: userptr objects. A range of a process's address space - a
 * file mapping, anonymous memory, or several - imported through p2pmap's
 * importer API. The device page table (one entry per page) starts empty;
 * a job faults pages in with p2pmap_mirror_fault(), p2pmap writes them
 * through our populate callback, and takes them back through our
 * invalidate callback whenever the process, the file system or the CMB
 * needs them. The HMM protocol itself (sequence, retry) is p2pmap's.
 *
 * Locks, outermost first:
 *   dgpu->lock          the device's list of userptr objects
 *   up->fault_lock      one fault at a time per object; the mirror pointer
 *   (p2pmap's mirror lock, held around populate and invalidate)
 *   up->pt_lock         the page table, pins included
 *
 * An engine uses a page between pin and unpin. invalidate must not return
 * while a page it takes back is pinned (p2pmap may reuse the address at
 * once), and may not sleep, so it spins until the pin goes: at most one
 * CPU page copy, or one edu piece (four DMAs, ~400 ms: a job pins for edu
 * only once it holds the engine). A job never faults while it
 * holds a pin (a fault may have to wait for an invalidation), and pins only
 * with a trylock of fault_lock, so no pin appears on a page being faulted.
 */
#define pr_fmt(fmt) "p2pmap_dgpu: " fmt

#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <drm/drm_drv.h>

#include "dgpu.h"

/*
 * pages one p2pmap_mirror_fault() may ask for: 4 MiB, so that the mirror
 * stages a whole job-sized piece of a file with its reads in flight together
 */
#define DGPU_FAULT_BATCH	1024
/* page-table entries looked at per round of pt_lock */
#define DGPU_SCAN_BATCH		4096
/* the largest userptr object */
#define DGPU_MAX_USERPTR_BYTES	BIT_ULL(36)

/**
 * struct dgpu_pte - one entry of the device page table
 * @addr: the device address p2pmap gave (P2P bus address or DMA address).
 * @page: the page behind @addr.
 * @path: enum p2pmap_path.
 * @reason: enum p2pmap_reason.
 * @valid: the entry may be used.
 * @writable: the device may write through it.
 * @revoked: an invalidation took the entry back since it was last valid.
 * @pins: engines using the page now.
 * @revocations: invalidations that took the entry back while valid, ever
 *	(DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT reports it).
 */
struct dgpu_pte {
	dma_addr_t addr;
	struct page *page;
	u8 path;
	u8 reason;
	bool valid;
	bool writable;
	bool revoked;
	unsigned int pins;
	u32 revocations;
};

/**
 * struct dgpu_userptr - a userptr object
 * @obj: the object.
 * @dgpu: the device.
 * @node: in dgpu->userptrs.
 * @start: first user address.
 * @npages: pages in the range.
 * @fault_lock: see below.
 * @mirror: p2pmap's mirror; NULL once the device is gone.
 * @pt_lock: see below.
 * @ptes: the device page table.
 * @invalidations: invalidate callbacks so far.
 */
struct dgpu_userptr {
	struct dgpu_obj obj;
	struct dgpu_device *dgpu;
	struct list_head node;
	unsigned long start;
	unsigned long npages;

	/* fault_lock serialises faults of the object and protects mirror. */
	struct mutex fault_lock;
	struct p2pmap_mirror *mirror;

	/* pt_lock protects ptes[]; taken inside p2pmap's mirror lock. */
	spinlock_t pt_lock;
	struct dgpu_pte *ptes;
	atomic64_t invalidations;
};

static struct dgpu_userptr *to_dgpu_userptr(struct dgpu_obj *obj)
{
	return container_of(obj, struct dgpu_userptr, obj);
}

static bool dgpu_pte_usable(const struct dgpu_pte *pte, bool write)
{
	return pte->valid && (!write || pte->writable);
}

static bool dgpu_pt_pinned_locked(struct dgpu_userptr *up, unsigned long first,
				  unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&up->pt_lock);
	for (i = first; i < first + n; i++)
		if (up->ptes[i].pins)
			return true;
	return false;
}

/* ---- p2pmap's callbacks ---- */

static void dgpu_importer_invalidate(struct p2pmap_mirror *mirror,
				     unsigned long start, unsigned long end,
				     enum p2pmap_revoke_cause cause)
{
	struct dgpu_userptr *up = p2pmap_mirror_priv(mirror);
	unsigned long first = (start - up->start) >> PAGE_SHIFT;
	unsigned long n = (end - start) >> PAGE_SHIFT;
	unsigned long i;

	spin_lock(&up->pt_lock);
	for (i = first; i < first + n; i++) {
		struct dgpu_pte *pte = &up->ptes[i];

		if (pte->valid) {
			pte->revoked = true;
			pte->revocations++;
		}
		pte->valid = false;
		pte->writable = false;
	}
	/*
	 * An engine may be using a page right now (an edu DMA is in flight
	 * for up to 100 ms). Nothing new can be pinned (the entries are no
	 * longer valid): wait for what is, without sleeping.
	 */
	while (dgpu_pt_pinned_locked(up, first, n)) {
		spin_unlock(&up->pt_lock);
		cpu_relax();
		spin_lock(&up->pt_lock);
	}
	for (i = first; i < first + n; i++) {
		up->ptes[i].addr = 0;
		up->ptes[i].page = NULL;
	}
	spin_unlock(&up->pt_lock);
	atomic64_inc(&up->invalidations);
}

static int dgpu_importer_populate(struct p2pmap_mirror *mirror,
				  unsigned long start, unsigned long npages,
				  const struct p2pmap_page *pages)
{
	struct dgpu_userptr *up = p2pmap_mirror_priv(mirror);
	unsigned long first = (start - up->start) >> PAGE_SHIFT;
	unsigned long i;

	spin_lock(&up->pt_lock);
	for (i = 0; i < npages; i++) {
		struct dgpu_pte *pte = &up->ptes[first + i];

		/* faults never cover a pinned page (see the top of the file) */
		WARN_ON_ONCE(pte->pins);
		pte->addr = pages[i].addr;
		pte->page = pages[i].page;
		pte->path = pages[i].path;
		pte->reason = pages[i].reason;
		pte->writable = pages[i].writable;
		pte->valid = pages[i].path != P2PMAP_PATH_NONE && pages[i].page;
		pte->revoked = false;
	}
	spin_unlock(&up->pt_lock);
	return 0;
}

const struct p2pmap_importer_ops dgpu_importer_ops = {
	.invalidate = dgpu_importer_invalidate,
	.populate = dgpu_importer_populate,
};

/* ---- the object as jobs see it ---- */

/* Fault pages from @idx (not beyond @last) for the device. */
static int dgpu_userptr_fault_locked(struct dgpu_userptr *up, unsigned long idx,
				     unsigned long last, bool write,
				     struct dgpu_job_stats *stats)
{
	unsigned int flags = write ? P2PMAP_FAULT_WRITE : 0;
	unsigned long n, revoked = 0;
	int ret;

	lockdep_assert_held(&up->fault_lock);
	for (;;) {
		spin_lock(&up->pt_lock);
		if (dgpu_pte_usable(&up->ptes[idx], write)) {
			spin_unlock(&up->pt_lock);
			return 0;	/* a racing job faulted it */
		}
		if (!up->ptes[idx].pins)
			break;
		/* mapped for reading, pinned, and wanted for writing */
		spin_unlock(&up->pt_lock);
		usleep_range(100, 1000);
	}
	/* a run of pages to map, that stops before a page already mapped */
	for (n = 0; idx + n <= last && n < DGPU_FAULT_BATCH; n++) {
		struct dgpu_pte *pte = &up->ptes[idx + n];

		if (n && (dgpu_pte_usable(pte, write) || pte->pins))
			break;
		revoked += pte->revoked;
	}
	spin_unlock(&up->pt_lock);

	ret = p2pmap_mirror_fault(up->mirror, up->start + (idx << PAGE_SHIFT),
				  n, flags);
	stats->faults++;
	if (ret == -EFAULT && n > 1) {
		/* find the page that is not there: fault the first alone */
		spin_lock(&up->pt_lock);
		revoked = up->ptes[idx].revoked;
		spin_unlock(&up->pt_lock);
		n = 1;
		ret = p2pmap_mirror_fault(up->mirror,
					  up->start + (idx << PAGE_SHIFT), n, flags);
		stats->faults++;
	}
	if (!ret) {
		stats->faulted_pages += n;
		stats->refaults += revoked;
	}
	return ret;
}

/*
 * Run a coherency point of p2pmap (@access: begin or end) over the pages of
 * [offset, offset + length) of the object, under its fault lock.
 */
static int dgpu_userptr_access(struct dgpu_obj *obj, u64 offset, u64 length,
			       long (*access)(struct p2pmap_mirror *mirror,
					      unsigned long start,
					      unsigned long npages))
{
	struct dgpu_userptr *up = to_dgpu_userptr(obj);
	unsigned long first = offset >> PAGE_SHIFT;
	unsigned long last = (offset + length - 1) >> PAGE_SHIFT;
	long ret = -ENODEV;

	might_sleep();
	mutex_lock(&up->fault_lock);
	if (up->mirror)
		ret = access(up->mirror, up->start + (first << PAGE_SHIFT),
			     last - first + 1);
	mutex_unlock(&up->fault_lock);
	return ret < 0 ? ret : 0;
}

static int dgpu_userptr_begin_access(struct dgpu_obj *obj, u64 offset,
				     u64 length)
{
	return dgpu_userptr_access(obj, offset, length,
				   p2pmap_mirror_begin_access);
}

/*
 * A job that wrote [offset, offset + length) ends: on a file system that
 * recalls no layouts (ext4) the device's writes go to the blocks now, so
 * that a completed job's data survives a CPU write(2) and its sync.
 */
static int dgpu_userptr_end_access(struct dgpu_obj *obj, u64 offset,
				   u64 length)
{
	return dgpu_userptr_access(obj, offset, length,
				   p2pmap_mirror_end_access);
}

static int dgpu_userptr_prepare(struct dgpu_obj *obj, u64 offset, u64 end,
				bool write, struct dgpu_job_stats *stats)
{
	struct dgpu_userptr *up = to_dgpu_userptr(obj);
	int ret;

	might_sleep();
	mutex_lock(&up->fault_lock);
	if (!up->mirror)
		ret = -ENODEV;
	else
		ret = dgpu_userptr_fault_locked(up, offset >> PAGE_SHIFT,
						(end - 1) >> PAGE_SHIFT, write,
						stats);
	mutex_unlock(&up->fault_lock);
	return ret;
}

static int dgpu_userptr_pin(struct dgpu_obj *obj, u64 offset, bool write,
			    struct dgpu_job_stats *stats, struct dgpu_span *span)
{
	struct dgpu_userptr *up = to_dgpu_userptr(obj);
	struct dgpu_pte *pte = &up->ptes[offset >> PAGE_SHIFT];
	int ret = -EAGAIN;

	/* a fault in progress may be about to replace the entry */
	if (!mutex_trylock(&up->fault_lock))
		return -EAGAIN;
	spin_lock(&up->pt_lock);
	if (dgpu_pte_usable(pte, write)) {
		pte->pins++;
		span->page = pte->page;
		span->offset = offset_in_page(offset);
		span->addr = pte->addr;
		span->mapped = true;
		if (stats && pte->path == P2PMAP_PATH_P2P) {
			stats->pages_p2p++;
		} else if (stats) {
			stats->pages_pagecache++;
			stats->reasons[min_t(unsigned int, pte->reason,
					     P2PMAP_DGPU_MAX_REASONS - 1)]++;
		}
		ret = 0;
	}
	spin_unlock(&up->pt_lock);
	mutex_unlock(&up->fault_lock);
	return ret;
}

static void dgpu_userptr_unpin(struct dgpu_obj *obj, u64 offset)
{
	struct dgpu_userptr *up = to_dgpu_userptr(obj);

	spin_lock(&up->pt_lock);
	WARN_ON_ONCE(!up->ptes[offset >> PAGE_SHIFT].pins);
	up->ptes[offset >> PAGE_SHIFT].pins--;
	spin_unlock(&up->pt_lock);
}

static u64 dgpu_userptr_invalidations(struct dgpu_obj *obj)
{
	return atomic64_read(&to_dgpu_userptr(obj)->invalidations);
}

static const struct dgpu_obj_ops dgpu_userptr_ops = {
	.begin_access = dgpu_userptr_begin_access,
	.end_access = dgpu_userptr_end_access,
	.prepare = dgpu_userptr_prepare,
	.pin = dgpu_userptr_pin,
	.unpin = dgpu_userptr_unpin,
	.invalidations = dgpu_userptr_invalidations,
};

/* Stop mirroring: the device's page table empties for good. */
static void dgpu_userptr_kill(struct dgpu_userptr *up)
{
	struct p2pmap_mirror *mirror;

	mutex_lock(&up->fault_lock);
	mirror = up->mirror;
	up->mirror = NULL;
	spin_lock(&up->pt_lock);
	WARN_ON_ONCE(dgpu_pt_pinned_locked(up, 0, up->npages));
	memset(up->ptes, 0, up->npages * sizeof(*up->ptes));
	spin_unlock(&up->pt_lock);
	mutex_unlock(&up->fault_lock);
	p2pmap_mirror_destroy(mirror);
}

static void dgpu_userptr_free(struct drm_gem_object *gem)
{
	struct dgpu_userptr *up = to_dgpu_userptr(to_dgpu_obj(gem));
	struct dgpu_device *dgpu = up->dgpu;

	mutex_lock(&dgpu->lock);
	list_del_init(&up->node);
	mutex_unlock(&dgpu->lock);
	dgpu_userptr_kill(up);	/* no job holds the object: no pin */

	drm_gem_object_release(gem);
	kvfree(up->ptes);
	mutex_destroy(&up->fault_lock);
	kfree(up);
}

static const struct drm_gem_object_funcs dgpu_userptr_funcs = {
	.free = dgpu_userptr_free,
};

/**
 * dgpu_userptr_kill_all() - stop every mirror of a device being removed
 * @dgpu: the device; its jobs have all stopped.
 *
 * The objects stay (their handles are user space's) but jobs on them fail
 * with ENODEV.
 *
 * Context: process context; sleeps.
 */
void dgpu_userptr_kill_all(struct dgpu_device *dgpu)
{
	struct dgpu_userptr *up, *next;

	mutex_lock(&dgpu->lock);
	list_for_each_entry_safe(up, next, &dgpu->userptrs, node) {
		list_del_init(&up->node);
		dgpu_userptr_kill(up);
	}
	mutex_unlock(&dgpu->lock);
}

/**
 * dgpu_ioctl_userptr() - DRM_IOCTL_P2PMAP_DGPU_USERPTR
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_userptr.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL for bad arguments, -ENODEV if the device is going
 * away, -ENOMEM, or an error from p2pmap_mirror_create().
 */
int dgpu_ioctl_userptr(struct drm_device *drm, void *data,
		       struct drm_file *file)
{
	struct drm_p2pmap_dgpu_userptr *args = data;
	struct dgpu_device *dgpu = to_dgpu(drm);
	struct p2pmap_mirror *mirror;
	struct dgpu_userptr *up;
	u32 handle;
	int idx, ret;

	if (args->flags || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (!args->length || !PAGE_ALIGNED(args->addr) ||
	    !PAGE_ALIGNED(args->length) ||
	    args->length > DGPU_MAX_USERPTR_BYTES ||
	    args->addr + args->length < args->addr ||
	    args->addr + args->length > TASK_SIZE)
		return -EINVAL;

	/* the importer lives until an unplug, which waits for this section */
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	up = kzalloc(sizeof(*up), GFP_KERNEL);
	if (!up) {
		ret = -ENOMEM;
		goto out_exit;
	}
	up->dgpu = dgpu;
	INIT_LIST_HEAD(&up->node);
	up->start = args->addr;
	up->npages = args->length >> PAGE_SHIFT;
	mutex_init(&up->fault_lock);
	spin_lock_init(&up->pt_lock);
	atomic64_set(&up->invalidations, 0);
	up->ptes = kvcalloc(up->npages, sizeof(*up->ptes), GFP_KERNEL);
	if (!up->ptes) {
		ret = -ENOMEM;
		goto out_free_up;
	}

	mirror = p2pmap_mirror_create(dgpu->importer, current->mm, up->start,
				      args->length, up);
	if (IS_ERR(mirror)) {
		ret = PTR_ERR(mirror);
		goto out_free_ptes;
	}
	up->mirror = mirror;
	up->obj.kind = DGPU_OBJ_USERPTR;
	up->obj.ops = &dgpu_userptr_ops;
	up->obj.base.funcs = &dgpu_userptr_funcs;
	drm_gem_private_object_init(drm, &up->obj.base, args->length);

	mutex_lock(&dgpu->lock);
	if (dgpu->dying) {
		mutex_unlock(&dgpu->lock);
		drm_gem_object_put(&up->obj.base);	/* frees it all */
		ret = -ENODEV;
		goto out_exit;
	}
	list_add_tail(&up->node, &dgpu->userptrs);
	mutex_unlock(&dgpu->lock);

	ret = drm_gem_handle_create(file, &up->obj.base, &handle);
	drm_gem_object_put(&up->obj.base);	/* the handle holds it now */
	if (!ret)
		args->handle = handle;
	goto out_exit;

out_free_ptes:
	kvfree(up->ptes);
out_free_up:
	mutex_destroy(&up->fault_lock);
	kfree(up);
out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* The userptr object @handle of @file, referenced; ERR_PTR otherwise. */
static struct dgpu_userptr *dgpu_userptr_lookup(struct drm_file *file,
						u32 handle)
{
	struct drm_gem_object *gem = drm_gem_object_lookup(file, handle);

	if (!gem)
		return ERR_PTR(-ENOENT);
	if (to_dgpu_obj(gem)->kind != DGPU_OBJ_USERPTR) {
		drm_gem_object_put(gem);
		return ERR_PTR(-EINVAL);
	}
	return to_dgpu_userptr(to_dgpu_obj(gem));
}

/* A page-aligned range [@offset, @offset + @length) inside @up, not empty. */
static bool dgpu_userptr_range_ok(struct dgpu_userptr *up, u64 offset,
				  u64 length)
{
	return length && PAGE_ALIGNED(offset) && PAGE_ALIGNED(length) &&
	       offset < up->obj.base.size &&
	       length <= up->obj.base.size - offset;
}

/* fault attempts per page before DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT gives up */
#define DGPU_FAULT_TRIES	64

/*
 * Map [first, last] as a job would, and count what the table then holds.
 * fault_lock is taken per batch, so that jobs on the object go on between.
 */
static int dgpu_userptr_fault_range(struct dgpu_userptr *up,
				    unsigned long first, unsigned long last,
				    bool write, struct dgpu_job_stats *stats,
				    u64 *unmapped)
{
	unsigned long idx = first, tries = 0;
	long ret = -ENODEV;

	mutex_lock(&up->fault_lock);
	if (up->mirror)
		ret = p2pmap_mirror_begin_access(up->mirror,
						 up->start + (first << PAGE_SHIFT),
						 last - first + 1);
	mutex_unlock(&up->fault_lock);
	if (ret < 0)
		return ret;
	ret = 0;

	while (idx <= last) {
		unsigned long from = idx;

		/* skip what is mapped already, a lock round per scan batch */
		spin_lock(&up->pt_lock);
		while (idx <= last && idx - from < DGPU_SCAN_BATCH &&
		       dgpu_pte_usable(&up->ptes[idx], write))
			idx++;
		spin_unlock(&up->pt_lock);
		if (idx > last)
			break;
		if (idx != from)
			tries = 0;
		if (idx - from == DGPU_SCAN_BATCH) {
			cond_resched();
			continue;
		}
		if (++tries > DGPU_FAULT_TRIES) {
			ret = -EBUSY;
			break;
		}
		mutex_lock(&up->fault_lock);
		if (up->mirror)
			ret = dgpu_userptr_fault_locked(up, idx, last, write,
							stats);
		else
			ret = -ENODEV;
		mutex_unlock(&up->fault_lock);
		if (ret)
			break;
		cond_resched();
	}

	/* what the device page table holds now, page by page */
	spin_lock(&up->pt_lock);
	for (idx = first; idx <= last; idx++) {
		const struct dgpu_pte *pte = &up->ptes[idx];

		if (!pte->valid) {
			(*unmapped)++;
		} else if (pte->path == P2PMAP_PATH_P2P) {
			stats->pages_p2p++;
		} else {
			stats->pages_pagecache++;
			stats->reasons[min_t(unsigned int, pte->reason,
					     P2PMAP_DGPU_MAX_REASONS - 1)]++;
		}
	}
	spin_unlock(&up->pt_lock);
	return ret;
}

/**
 * dgpu_ioctl_userptr_fault() - DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_userptr_fault.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL for bad arguments, -ENOENT for an unknown handle, or
 * the error that stopped the fault (see the uapi header); the out members
 * are written even then.
 */
int dgpu_ioctl_userptr_fault(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct drm_p2pmap_dgpu_userptr_fault *args = data;
	struct dgpu_job_stats *stats;
	struct dgpu_userptr *up;
	u64 unmapped = 0;
	ktime_t start;
	int idx, ret;

	if ((args->flags & ~P2PMAP_DGPU_FAULT_FLAGS) ||
	    memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	up = dgpu_userptr_lookup(file, args->handle);
	if (IS_ERR(up))
		return PTR_ERR(up);
	if (!dgpu_userptr_range_ok(up, args->offset, args->length)) {
		ret = -EINVAL;
		goto out_put;
	}
	stats = kzalloc(sizeof(*stats), GFP_KERNEL);
	if (!stats) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (!drm_dev_enter(drm, &idx)) {
		ret = -ENODEV;
		goto out_free_stats;
	}
	start = ktime_get();
	ret = dgpu_userptr_fault_range(up, args->offset >> PAGE_SHIFT,
				       (args->offset + args->length - 1) >> PAGE_SHIFT,
				       args->flags & P2PMAP_DGPU_FAULT_WRITE,
				       stats, &unmapped);
	args->duration_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	drm_dev_exit(idx);

	args->pages_p2p = stats->pages_p2p;
	args->pages_pagecache = stats->pages_pagecache;
	args->pages_unmapped = unmapped;
	args->faults = stats->faults;
	args->faulted_pages = stats->faulted_pages;
	args->refaults = stats->refaults;
	args->invalidations = atomic64_read(&up->invalidations);
	memcpy(args->reasons, stats->reasons, sizeof(args->reasons));
out_free_stats:
	kfree(stats);
out_put:
	drm_gem_object_put(&up->obj.base);
	return ret;
}

/* snapshot entries one call may ask for (24 MiB of entries) */
#define DGPU_SNAPSHOT_MAX	BIT(20)

/**
 * dgpu_ioctl_userptr_snapshot() - DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_userptr_snapshot.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL for bad arguments, -ENOENT for an unknown handle,
 * -ENOMEM, or -EFAULT when the entries cannot be written.
 */
int dgpu_ioctl_userptr_snapshot(struct drm_device *drm, void *data,
				struct drm_file *file)
{
	struct drm_p2pmap_dgpu_userptr_snapshot *args = data;
	struct drm_p2pmap_dgpu_pte *out = NULL;
	struct dgpu_userptr *up;
	unsigned long first, i;
	int ret = 0;

	if (args->flags || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	up = dgpu_userptr_lookup(file, args->handle);
	if (IS_ERR(up))
		return PTR_ERR(up);
	if (args->npages > DGPU_SNAPSHOT_MAX ||
	    (args->npages && !args->entries) ||
	    !dgpu_userptr_range_ok(up, args->offset,
				   max_t(u64, args->npages, 1) << PAGE_SHIFT)) {
		ret = -EINVAL;
		goto out_put;
	}
	first = args->offset >> PAGE_SHIFT;
	if (args->npages) {
		out = kvcalloc(args->npages, sizeof(*out), GFP_KERNEL);
		if (!out) {
			ret = -ENOMEM;
			goto out_put;
		}
	}

	spin_lock(&up->pt_lock);
	for (i = 0; i < args->npages; i++) {
		const struct dgpu_pte *pte = &up->ptes[first + i];

		out[i].revocations = pte->revocations;
		out[i].flags = pte->revoked ? P2PMAP_DGPU_PTE_REVOKED : 0;
		if (!pte->valid)
			continue;
		out[i].addr = pte->addr;
		out[i].path = pte->path;
		out[i].reason = pte->reason;
		out[i].flags |= P2PMAP_DGPU_PTE_VALID |
				(pte->writable ? P2PMAP_DGPU_PTE_WRITABLE : 0);
	}
	spin_unlock(&up->pt_lock);

	if (out && copy_to_user(u64_to_user_ptr(args->entries), out,
				args->npages * sizeof(*out)))
		ret = -EFAULT;
	else
		args->invalidations = atomic64_read(&up->invalidations);
	kvfree(out);
out_put:
	drm_gem_object_put(&up->obj.base);
	return ret;
}
