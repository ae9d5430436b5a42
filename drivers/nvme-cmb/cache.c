// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: the CMB as a cache of staged extents.
 *
 * An extent is a run of CMB pages holding a run of sectors of one disk. It
 * is found again by (disk, absolute sector): a request whose range lies
 * inside a cached extent, at a page boundary of it, is a hit. Indexed
 * extents of one disk never overlap: an extent that only partly overlaps a
 * request is evicted first (or the request refused with -EBUSY while it is
 * referenced), so that no block is ever staged twice and a device write is
 * never shadowed by a stale copy.
 *
 * Space is taken from a bitmap of CMB pages. When a run of free pages
 * cannot be found, the least recently used extent goes: its owners' revoke
 * callbacks first, then write-back if a device dirtied it, then the pages
 * are free. Revoked owners may put their chunks later; the pages stay taken
 * until then.
 *
 * Loss: a controller reset (CMBMSC no longer ours) or a removal that cannot
 * write back marks every extent lost, counts the dirty bytes, revokes the
 * owners with P2PMAP_REVOKE_PROVIDER_GONE and fails reads in flight; pages
 * are freed once each owner has put its chunks, exactly once.
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "nvme-cmb.h"

/* How long stage() waits for revoked owners to put their chunks. */
#define NVME_CMB_EVICT_WAIT	(5 * HZ)
/* How often a drain that waits for owners says so. */
#define NVME_CMB_DRAIN_NAG	(10 * HZ)
/* How often the poll runs (re-enabling after a reset, reset checks). */
#define NVME_CMB_POLL		(HZ / 10)
/* How long eviction ahead goes on after the last sign of pressure. */
#define NVME_CMB_PRESSURE	HZ

/*
 * Whether the poll also reads CMBMSC of a live CMB to notice resets
 * nobody announced (a reset whose restart failed, a controller gone from
 * the bus). Off, resets are seen at nvme's restart uevent, at every stage
 * request and at every I/O completion only.
 */
static bool reset_poll = true;
module_param(reset_poll, bool, 0644);
MODULE_PARM_DESC(reset_poll,
		 "read CMBMSC every 100 ms to notice controller resets (default on; nvme's restart uevent and every I/O check as well)");

/*
 * Eviction ahead of need. Once a stage request has had to revoke a held
 * extent to get space (a file larger than the CMB is being streamed
 * through it), a worker keeps room for the next two requests of the size
 * just seen (at most half the CMB) by evicting least recently used extents
 * while the devices work, so that the next fault finds free pages instead
 * of waiting for a revoke. The pressure lasts while held extents keep
 * being evicted (by requests or by the worker), and ends a second after
 * the last one.
 */
static bool evict_ahead = true;
module_param(evict_ahead, bool, 0644);
MODULE_PARM_DESC(evict_ahead,
		 "under streaming pressure, evict least recently used extents ahead of need in a worker (default on)");

#define NVME_CMB_SECTORS_PER_PAGE	(PAGE_SIZE >> SECTOR_SHIFT)

static u64 nvme_cmb_ext_bytes(const struct nvme_cmb_extent *ext)
{
	return (u64)ext->nr_pages << PAGE_SHIFT;
}

/* Bytes the I/O in flight moves. */
static u64 nvme_cmb_io_bytes(const struct nvme_cmb_extent *ext)
{
	return (u64)(ext->io_hi - ext->io_lo - ext->io_skipped) <<
	       PAGE_SHIFT;
}

/*
 * Count a finished write-back: what it wrote, and the device-written pages
 * it skipped because their blocks were written behind the cache (lost).
 */
static void nvme_cmb_count_written_locked(struct nvme_cmb_extent *ext)
{
	u64 skipped = (u64)ext->io_skipped << PAGE_SHIFT;

	atomic64_add(nvme_cmb_io_bytes(ext), &ext->cmb->stats.written_back);
	if (skipped) {
		atomic64_add(skipped, &ext->cmb->stats.lost);
		pr_warn_ratelimited("%s: %llu bytes written by devices into the CMB were overwritten on disk before write-back\n",
				    ext->cmb->name, skipped);
	}
}

/* Mark pages [@lo, @hi) of @ext written by a device (cmb lock). */
static void nvme_cmb_ext_dirty_locked(struct nvme_cmb_extent *ext,
				      unsigned int lo, unsigned int hi)
{
	lockdep_assert_held(&ext->cmb->lock);
	if (!ext->dirty) {
		ext->dirty_lo = lo;
		ext->dirty_hi = hi;
	} else {
		ext->dirty_lo = min(ext->dirty_lo, lo);
		ext->dirty_hi = max(ext->dirty_hi, hi);
	}
	ext->dirty = true;
}

/**
 * nvme_cmb_cache_init() - set up the cache of a CMB
 * @cmb: a CMB whose backend is set up (@npages known).
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int nvme_cmb_cache_init(struct nvme_cmb *cmb)
{
	cmb->bitmap = bitmap_zalloc(cmb->npages, GFP_KERNEL);
	if (!cmb->bitmap)
		return -ENOMEM;
	cmb->tree = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&cmb->lru);
	INIT_LIST_HEAD(&cmb->extents);
	return 0;
}

/**
 * nvme_cmb_cache_destroy() - free the cache of a drained CMB
 * @cmb: a CMB after nvme_cmb_drain().
 *
 * Context: process context.
 */
void nvme_cmb_cache_destroy(struct nvme_cmb *cmb)
{
	WARN_ON_ONCE(!list_empty(&cmb->extents) || cmb->used_pages);
	bitmap_free(cmb->bitmap);
	cmb->bitmap = NULL;
}

/**
 * nvme_cmb_owns_bdev() - does @bdev live on this CMB's controller?
 * @provider: the CMB's provider.
 * @bdev: a whole disk or a partition.
 *
 * A namespace disk of nvme-pci is a child of the controller's class device,
 * itself a child of the PCI function. A native-multipath head disk is a
 * child of the subsystem instead and is not served: its I/O may take
 * another controller's path.
 *
 * Context: any context.
 * Return: true when @bdev's disk descends from this controller.
 */
bool nvme_cmb_owns_bdev(struct p2pmap_provider *provider,
			struct block_device *bdev)
{
	if (!bdev || !bdev->bd_disk)
		return false;
	return nvme_cmb_owns_disk(to_nvme_cmb(provider), bdev->bd_disk);
}

static void nvme_cmb_ext_index_locked(struct nvme_cmb_extent *ext)
{
	struct nvme_cmb *cmb = ext->cmb;

	lockdep_assert_held(&cmb->lock);
	interval_tree_insert(&ext->it, &cmb->tree);
	list_add_tail(&ext->lru_node, &cmb->lru);
	ext->indexed = true;
}

/**
 * nvme_cmb_ext_unindex_locked() - no new request finds @ext any more
 * @ext: the extent.
 *
 * Context: cmb lock held.
 */
void nvme_cmb_ext_unindex_locked(struct nvme_cmb_extent *ext)
{
	struct nvme_cmb *cmb = ext->cmb;

	lockdep_assert_held(&cmb->lock);
	if (!ext->indexed)
		return;
	interval_tree_remove(&ext->it, &cmb->tree);
	list_del_init(&ext->lru_node);
	ext->indexed = false;
}

/* Give the extent's pages back; its memory is freed by the caller, unlocked. */
static void nvme_cmb_ext_unlink_locked(struct nvme_cmb_extent *ext)
{
	struct nvme_cmb *cmb = ext->cmb;

	lockdep_assert_held(&cmb->lock);
	bitmap_clear(cmb->bitmap, ext->first, ext->nr_pages);
	cmb->used_pages -= ext->nr_pages;
	WRITE_ONCE(cmb->freed_seq, cmb->freed_seq + 1);
	if (ext->evict_pending) {
		ext->evict_pending = false;
		cmb->evict_pending--;
	}
	list_del_init(&ext->all_node);
	atomic_dec(&cmb->nr_extents);
	wake_up_all(&cmb->wq);
}

/**
 * nvme_cmb_ext_free_mem() - free an unlinked extent's memory
 * @ext: an extent unlinked from its CMB.
 *
 * Context: process context; touches nothing of the CMB.
 */
void nvme_cmb_ext_free_mem(struct nvme_cmb_extent *ext)
{
	put_device(disk_to_dev(ext->disk));	/* pairs with get_device() in stage */
	kvfree(ext->pages);
	bitmap_free(ext->poison);
	kfree(ext);
}

/**
 * nvme_cmb_ext_check_locked() - let an extent go if nothing holds it
 * @ext: the extent.
 * @wb: where an extent that must be written back first is put.
 * @dead: where an extent whose pages were given back is put.
 *
 * Both lists use @lru_node; the caller finishes them with
 * nvme_cmb_finish() after dropping the lock.
 *
 * Context: cmb lock held.
 * Return: true when the extent was put on one of the lists.
 */
bool nvme_cmb_ext_check_locked(struct nvme_cmb_extent *ext,
			       struct list_head *wb, struct list_head *dead)
{
	lockdep_assert_held(&ext->cmb->lock);
	if (ext->indexed || ext->nr_handles || ext->freeing || ext->io_busy ||
	    ext->syncing || ext->state == NVME_CMB_EXT_STAGING)
		return false;
	ext->freeing = true;
	if (ext->dirty && !ext->lost) {
		list_add_tail(&ext->lru_node, wb);
	} else {
		nvme_cmb_ext_unlink_locked(ext);
		list_add_tail(&ext->lru_node, dead);
	}
	return true;
}

/*
 * Write back the extents on @wb (all at once), then give back their pages
 * and those of @dead. A failed write-back counts as lost data.
 */
static void nvme_cmb_finish(struct nvme_cmb *cmb, struct list_head *wb,
			    struct list_head *dead)
{
	struct nvme_cmb_extent *ext, *tmp;
	bool alive;

	might_sleep();
	if (!list_empty(wb)) {
		mutex_lock(&cmb->lock);
		alive = nvme_cmb_backend_alive(cmb);
		list_for_each_entry_safe(ext, tmp, wb, lru_node) {
			if (ext->lost) {	/* written behind us meanwhile */
				nvme_cmb_ext_unlink_locked(ext);
				list_move_tail(&ext->lru_node, dead);
				continue;
			}
			if (!alive)
				ext->wb_error = -EIO;
			ext->io_busy = alive;
			if (alive)
				atomic_inc(&cmb->inflight);
			ext->io_gen = cmb->loss_gen;
			ext->io_lo = ext->dirty_lo;
			ext->io_hi = ext->dirty_hi;
		}
		mutex_unlock(&cmb->lock);

		if (alive)
			list_for_each_entry(ext, wb, lru_node)
				nvme_cmb_submit(ext, REQ_OP_WRITE, ext->io_lo,
						ext->io_hi);

		mutex_lock(&cmb->lock);
		list_for_each_entry_safe(ext, tmp, wb, lru_node) {
			while (ext->io_busy) {
				mutex_unlock(&cmb->lock);
				wait_event(cmb->wq, !READ_ONCE(ext->io_busy));
				mutex_lock(&cmb->lock);
			}
			if (ext->wb_error) {
				pr_warn_ratelimited("%s: write-back of %u pages at sector %lu of %s failed (%d): data lost\n",
						    cmb->name, ext->nr_pages,
						    ext->it.start,
						    ext->disk->disk_name,
						    ext->wb_error);
				atomic64_add((u64)(ext->io_hi - ext->io_lo) <<
					     PAGE_SHIFT, &cmb->stats.lost);
				atomic64_inc(&cmb->stats.errors);
			} else {
				nvme_cmb_count_written_locked(ext);
			}
			ext->dirty = false;
			nvme_cmb_ext_unlink_locked(ext);
			list_move_tail(&ext->lru_node, dead);
		}
		mutex_unlock(&cmb->lock);
	}
	list_for_each_entry_safe(ext, tmp, dead, lru_node)
		nvme_cmb_ext_free_mem(ext);
	INIT_LIST_HEAD(wb);	/* the lists may be used again */
	INIT_LIST_HEAD(dead);
}

static void nvme_cmb_handle_release(struct kref *ref)
{
	kfree(container_of(ref, struct nvme_cmb_handle, ref));
}

/**
 * nvme_cmb_revoke_locked() - queue a revoke of @ext's handed-out handles
 * @ext: the extent.
 * @revokes: the list to run with nvme_cmb_run_revokes() after unlocking.
 *
 * Context: cmb lock held.
 */
void nvme_cmb_revoke_locked(struct nvme_cmb_extent *ext,
			    struct list_head *revokes)
{
	struct nvme_cmb_handle *h;

	lockdep_assert_held(&ext->cmb->lock);
	list_for_each_entry(h, &ext->handles, node) {
		if (h->revoked || h->waiting || h->put)
			continue;
		h->revoked = true;
		h->revoking = true;
		h->revoker = current;
		kref_get(&h->ref);	/* pairs with kref_put() in run_revokes */
		list_add_tail(&h->revoke_node, revokes);
	}
}

static void nvme_cmb_run_revokes(struct nvme_cmb *cmb,
				 struct list_head *revokes,
				 enum p2pmap_revoke_cause cause)
{
	struct nvme_cmb_handle *h, *tmp;

	might_sleep();
	lockdep_assert_not_held(&cmb->lock);
	list_for_each_entry_safe(h, tmp, revokes, revoke_node) {
		list_del(&h->revoke_node);
		atomic64_inc(&cmb->stats.revokes);
		h->owner.revoke(&h->chunk, h->owner.priv,
				h->keeps_data ? P2PMAP_REVOKE_EVICT : cause);
		mutex_lock(&cmb->lock);
		h->revoking = false;
		h->revoker = NULL;
		wake_up_all(&cmb->wq);
		mutex_unlock(&cmb->lock);
		kref_put(&h->ref, nvme_cmb_handle_release);
	}
}

/**
 * nvme_cmb_finish_revokes() - after unlocking: revoke, write back, free
 * @cmb: the CMB.
 * @revokes: handles queued by nvme_cmb_revoke_locked().
 * @cause: the cause the owners are told.
 * @wb: extents to write back, then free.
 * @dead: extents to free.
 *
 * Context: process context, without the cmb lock.
 */
void nvme_cmb_finish_revokes(struct nvme_cmb *cmb, struct list_head *revokes,
			     enum p2pmap_revoke_cause cause,
			     struct list_head *wb, struct list_head *dead)
{
	nvme_cmb_run_revokes(cmb, revokes, cause);
	nvme_cmb_finish(cmb, wb, dead);
}

/* Detach @h from its extent (cmb lock). */
static void nvme_cmb_handle_detach_locked(struct nvme_cmb_handle *h)
{
	struct nvme_cmb_extent *ext = h->ext;

	lockdep_assert_held(&ext->cmb->lock);
	list_del_init(&h->node);
	ext->nr_handles--;
	if (h->writable) {
		ext->nr_writers--;
		if (!ext->lost && ext->state == NVME_CMB_EXT_READY && !h->waiting)
			nvme_cmb_ext_dirty_locked(ext, h->off,
						  h->off + h->chunk.nr_pages);
	}
}

/**
 * nvme_cmb_put() - p2pmap_provider_ops.put: drop a chunk
 * @chunk: a chunk from stage.
 *
 * A revoke callback running for @chunk in another task is waited for. A
 * chunk staged for writing marks its extent dirty: written back before the
 * pages are reused. The last put of an evicted, reset or removed extent
 * frees it (writing it back first when it is dirty and not lost).
 *
 * Context: process context; may sleep.
 */
void nvme_cmb_put(struct p2pmap_chunk *chunk)
{
	struct nvme_cmb_handle *h = container_of(chunk, struct nvme_cmb_handle,
						 chunk);
	struct nvme_cmb_extent *ext = h->ext;
	struct nvme_cmb *cmb = ext->cmb;
	LIST_HEAD(dead);
	LIST_HEAD(wb);

	might_sleep();
	mutex_lock(&cmb->lock);
	while (h->revoking && h->revoker != current) {
		mutex_unlock(&cmb->lock);
		wait_event(cmb->wq, !READ_ONCE(h->revoking));
		mutex_lock(&cmb->lock);
	}
	if (WARN_ON_ONCE(h->put)) {
		mutex_unlock(&cmb->lock);
		return;
	}
	h->put = true;
	nvme_cmb_handle_detach_locked(h);
	nvme_cmb_ext_check_locked(ext, &wb, &dead);
	wake_up_all(&cmb->wq);
	mutex_unlock(&cmb->lock);

	nvme_cmb_finish(cmb, &wb, &dead);
	kref_put(&h->ref, nvme_cmb_handle_release);	/* the owner's */
}

/**
 * nvme_cmb_ext_lose_locked() - @ext's device-written data will never be
 *	written back
 * @ext: the extent.
 *
 * Context: cmb lock held.
 * Return: the bytes lost: the dirty range, widened by the ranges of
 * writers still holding @ext.
 */
u64 nvme_cmb_ext_lose_locked(struct nvme_cmb_extent *ext)
{
	struct nvme_cmb_handle *h;
	u64 lost = 0;

	lockdep_assert_held(&ext->cmb->lock);
	if (ext->lost)
		return 0;
	list_for_each_entry(h, &ext->handles, node)
		if (h->writable && !h->waiting)
			nvme_cmb_ext_dirty_locked(ext, h->off,
						  h->off + h->chunk.nr_pages);
	if (ext->dirty)
		lost = (u64)(ext->dirty_hi - ext->dirty_lo) << PAGE_SHIFT;
	ext->lost = true;
	ext->dirty = false;
	return lost;
}

/**
 * nvme_cmb_forget() - p2pmap_provider_ops.forget: the blocks changed
 * @chunk: a chunk the caller holds.
 *
 * The extent behind @chunk leaves the cache at once (no later stage finds
 * it) and is freed at its last put. Its data must never be written back:
 * the blocks may belong to someone else now, so what devices wrote into it
 * is dropped and counted lost. Other holders of the same extent are
 * revoked (P2PMAP_REVOKE_COHERENCY): their copy is stale too.
 *
 * Context: process context; may sleep (revoke callbacks).
 */
void nvme_cmb_forget(struct p2pmap_chunk *chunk)
{
	struct nvme_cmb_handle *h = container_of(chunk, struct nvme_cmb_handle,
						 chunk);
	struct nvme_cmb_extent *ext = h->ext;
	struct nvme_cmb *cmb = ext->cmb;
	LIST_HEAD(revokes);
	u64 lost;

	might_sleep();
	mutex_lock(&cmb->lock);
	nvme_cmb_ext_unindex_locked(ext);
	lost = nvme_cmb_ext_lose_locked(ext);
	if (lost) {
		atomic64_add(lost, &cmb->stats.lost);
		pr_warn_ratelimited("%s: %llu bytes written into a forgotten chunk were dropped\n",
				    cmb->name, lost);
	}
	/* everyone else; the caller is not revoked (it puts @chunk itself) */
	h->revoked = true;
	nvme_cmb_revoke_locked(ext, &revokes);
	mutex_unlock(&cmb->lock);
	nvme_cmb_run_revokes(cmb, &revokes, P2PMAP_REVOKE_COHERENCY);
}

/*
 * Take @ext out of the cache: no new hit finds it; its owners are revoked;
 * it goes when the last one puts it.
 */
static void nvme_cmb_evict_locked(struct nvme_cmb_extent *ext,
				  struct list_head *revokes,
				  struct list_head *wb, struct list_head *dead)
{
	lockdep_assert_held(&ext->cmb->lock);
	nvme_cmb_ext_unindex_locked(ext);
	atomic64_add(nvme_cmb_ext_bytes(ext), &ext->cmb->stats.evicted);
	nvme_cmb_revoke_locked(ext, revokes);
	if (!nvme_cmb_ext_check_locked(ext, wb, dead) && !ext->evict_pending) {
		/* its pages come back when its owners put it */
		ext->evict_pending = true;
		ext->cmb->evict_pending++;
	}
}

/*
 * Mark everything lost and revoke it (reset, surprise removal), or revoke
 * everything for an orderly going (@lose false). Reads in flight fail: the
 * generation moves on.
 */
static void nvme_cmb_revoke_all_locked(struct nvme_cmb *cmb, bool lose,
				       struct list_head *revokes,
				       struct list_head *wb,
				       struct list_head *dead)
{
	struct nvme_cmb_extent *ext, *tmp;
	u64 lost = 0;

	lockdep_assert_held(&cmb->lock);
	cmb->gen++;
	if (lose)
		cmb->loss_gen++;
	list_for_each_entry_safe(ext, tmp, &cmb->extents, all_node) {
		if (ext->freeing)
			continue;
		if (lose)
			lost += nvme_cmb_ext_lose_locked(ext);
		nvme_cmb_ext_unindex_locked(ext);
		nvme_cmb_revoke_locked(ext, revokes);
		nvme_cmb_ext_check_locked(ext, wb, dead);
	}
	if (lost) {
		atomic64_add(lost, &cmb->stats.lost);
		pr_warn("%s: %llu bytes written by devices into the CMB were lost\n",
			cmb->name, lost);
	}
}

/**
 * nvme_cmb_reset_work() - the controller was reset: lose, revoke, re-enable
 * @work: the CMB's reset_work.
 *
 * nvme-pci disabled the CMB while resetting the controller: whatever it
 * held is gone. Owners are revoked (P2PMAP_REVOKE_PROVIDER_GONE), reads in
 * flight fail with -EIO, and once they have drained the CMB is enabled
 * again. Revoked owners may put their chunks later; new staging uses the
 * pages that are free.
 *
 * Context: workqueue.
 */
void nvme_cmb_reset_work(struct work_struct *work)
{
	struct nvme_cmb *cmb = container_of(work, struct nvme_cmb, reset_work);
	LIST_HEAD(revokes);
	LIST_HEAD(dead);
	LIST_HEAD(wb);

	mutex_lock(&cmb->lock);
	if (cmb->state != NVME_CMB_LIVE || nvme_cmb_backend_alive(cmb)) {
		mutex_unlock(&cmb->lock);
		return;
	}
	cmb->state = NVME_CMB_RESETTING;
	atomic64_inc(&cmb->stats.resets);
	if (pci_device_is_present(cmb->pdev))
		pr_info("%s: controller reset: CMB contents lost, revoking\n",
			cmb->name);
	else
		pr_warn("%s: controller gone from the bus (surprise removal): CMB contents lost, revoking\n",
			cmb->name);
	nvme_cmb_revoke_all_locked(cmb, true, &revokes, &wb, &dead);
	mutex_unlock(&cmb->lock);

	nvme_cmb_run_revokes(cmb, &revokes, P2PMAP_REVOKE_PROVIDER_GONE);
	nvme_cmb_finish(cmb, &wb, &dead);
	/*
	 * I/O to a controller gone from the bus ends only when nvme times it
	 * out and cancels it (its io_timeout, 30 s by default, and more):
	 * wait in steps, saying so.
	 */
	while (!wait_event_timeout(cmb->wq, !atomic_read(&cmb->inflight),
				   NVME_CMB_DRAIN_NAG))
		pr_warn("%s: reset: still waiting for %d I/Os\n", cmb->name,
			atomic_read(&cmb->inflight));

	mutex_lock(&cmb->lock);
	if (cmb->state == NVME_CMB_RESETTING &&
	    pci_device_is_present(cmb->pdev)) {
		if (!nvme_cmb_backend_enable(cmb)) {
			cmb->state = NVME_CMB_LIVE;
			pr_info("%s: CMB enabled again after the reset\n",
				cmb->name);
		} else {
			pr_warn("%s: CMB cannot be enabled after the reset; retrying\n",
				cmb->name);
		}
	}
	mutex_unlock(&cmb->lock);
}

/**
 * nvme_cmb_poll_work() - watch CMBMSC for a controller reset
 * @work: the CMB's poll_work.
 *
 * nvme-pci has no notifier for resets; it rewrites CMBMSC on each. A reset
 * is also noticed by every stage request and every completed I/O; this
 * catches resets while the CMB is idle, and retries enabling after one.
 *
 * Context: workqueue.
 */
void nvme_cmb_poll_work(struct work_struct *work)
{
	struct nvme_cmb *cmb = container_of(to_delayed_work(work),
					    struct nvme_cmb, poll_work);
	enum nvme_cmb_state state;

	mutex_lock(&cmb->lock);
	state = cmb->state;
	/* a controller gone from the bus waits for its removal instead */
	if (state == NVME_CMB_RESETTING && !atomic_read(&cmb->inflight) &&
	    pci_device_is_present(cmb->pdev) &&
	    !nvme_cmb_backend_enable(cmb)) {
		cmb->state = NVME_CMB_LIVE;
		pr_info("%s: CMB enabled again\n", cmb->name);
	}
	mutex_unlock(&cmb->lock);

	if (state == NVME_CMB_GOING)
		return;
	if (state == NVME_CMB_LIVE && READ_ONCE(reset_poll) &&
	    !nvme_cmb_backend_alive(cmb))
		queue_work(nvme_cmb_wq, &cmb->reset_work);
	queue_delayed_work(nvme_cmb_wq, &cmb->poll_work, NVME_CMB_POLL);
}

/**
 * nvme_cmb_drain() - take everything back before the CMB goes
 * @cmb: the CMB.
 * @cause: P2PMAP_REVOKE_PROVIDER_GONE (nvme unbinding) or
 *	P2PMAP_REVOKE_UNLOAD.
 *
 * When the controller is still there and the CMB still ours (orderly
 * removal, unload), owners are revoked and what they wrote is written back
 * when they put their chunks; otherwise (surprise removal, reset during
 * removal) it is counted lost. Returns when every extent is gone: every
 * owner has put its chunks and every I/O has completed.
 *
 * Context: process context; sleeps.
 */
void nvme_cmb_drain(struct nvme_cmb *cmb, enum p2pmap_revoke_cause cause)
{
	LIST_HEAD(revokes);
	LIST_HEAD(dead);
	LIST_HEAD(wb);
	bool orderly;

	mutex_lock(&cmb->lock);
	cmb->state = NVME_CMB_GOING;
	mutex_unlock(&cmb->lock);
	cancel_delayed_work_sync(&cmb->poll_work);
	cancel_work_sync(&cmb->reset_work);
	cancel_work_sync(&cmb->evict_work);

	mutex_lock(&cmb->lock);
	orderly = pci_device_is_present(cmb->pdev) &&
		  nvme_cmb_backend_alive(cmb);
	if (!orderly)
		pr_warn("%s: controller gone or reset: dirty CMB data cannot be written back\n",
			cmb->name);
	nvme_cmb_revoke_all_locked(cmb, !orderly, &revokes, &wb, &dead);
	mutex_unlock(&cmb->lock);

	nvme_cmb_run_revokes(cmb, &revokes,
			     orderly ? cause : P2PMAP_REVOKE_PROVIDER_GONE);
	nvme_cmb_finish(cmb, &wb, &dead);

	/*
	 * Owners put their chunks (write-back happens there), I/O completes.
	 * An owner that never puts would keep devices on this memory: wait,
	 * and say who is waited for.
	 */
	while (!wait_event_timeout(cmb->wq, list_empty_careful(&cmb->extents) &&
				   !atomic_read(&cmb->inflight),
				   NVME_CMB_DRAIN_NAG))
		pr_warn("%s: still waiting for %d extents (owners must put revoked chunks) and %d I/Os\n",
			cmb->name, atomic_read(&cmb->nr_extents),
			atomic_read(&cmb->inflight));
	/* done_work that woke us may still be returning */
	mutex_lock(&cmb->lock);
	mutex_unlock(&cmb->lock);
	flush_workqueue(nvme_cmb_wq);
}

/* Is the cache under streaming pressure now? Ends it when not. */
static bool nvme_cmb_pressure_locked(struct nvme_cmb *cmb)
{
	lockdep_assert_held(&cmb->lock);
	if (cmb->pressure &&
	    (!READ_ONCE(evict_ahead) || cmb->state != NVME_CMB_LIVE ||
	     time_after(jiffies, cmb->pressure_at + NVME_CMB_PRESSURE)))
		cmb->pressure = false;
	return cmb->pressure;
}

/*
 * After a batch of @nr pages was given space: under pressure, keep room
 * for two more like it (at most half the CMB) and wake the worker when
 * there is less; the @nr pages most recently used are not its to evict.
 */
static void nvme_cmb_evict_ahead_kick(struct nvme_cmb *cmb, unsigned long nr)
{
	mutex_lock(&cmb->lock);
	if (nvme_cmb_pressure_locked(cmb)) {
		cmb->free_target = min(2 * nr, cmb->npages / 2);
		cmb->keep_pages = nr;
		if (cmb->npages - cmb->used_pages < cmb->free_target)
			queue_work(nvme_cmb_wq, &cmb->evict_work);
	}
	mutex_unlock(&cmb->lock);
}

/*
 * A request handed out or failed: tell its batch. After the last one, the
 * evict-ahead worker is woken if needed: it runs while the stager's caller
 * uses what it got (a device's job), not while the stager waits.
 */
static void nvme_cmb_batch_put(struct nvme_cmb *cmb,
			       struct p2pmap_stage_batch *batch)
{
	unsigned long nr = 0;
	unsigned int i;
	bool ahead;

	if (!atomic_dec_and_test(&batch->pending))
		return;
	for (i = 0; i < batch->nr_reqs; i++)
		nr += batch->reqs[i].nr_pages;
	ahead = batch->flags & P2PMAP_STAGE_AHEAD;
	batch->done(batch);	/* @batch may be gone after this */
	/* staging ahead makes no room: the faults it stages for do */
	if (!ahead)
		nvme_cmb_evict_ahead_kick(cmb, nr);
}

/**
 * nvme_cmb_read_done_locked() - answer the requests waiting for an extent
 * @ext: an extent whose reads finished (@state READY or FAILED).
 * @done: handles to pass to nvme_cmb_complete_waiters() after unlocking.
 *
 * Context: cmb lock held.
 */
void nvme_cmb_read_done_locked(struct nvme_cmb_extent *ext,
			       struct list_head *done)
{
	struct nvme_cmb *cmb = ext->cmb;
	struct nvme_cmb_handle *h, *tmp;
	bool failed = ext->state == NVME_CMB_EXT_FAILED;

	lockdep_assert_held(&cmb->lock);
	if (failed)
		nvme_cmb_ext_unindex_locked(ext);
	list_for_each_entry_safe(h, tmp, &ext->waiters, wait_node) {
		list_del(&h->wait_node);
		if (failed) {
			h->req->chunk = NULL;
			h->req->error = atomic_read(&ext->io_error) ?: -EIO;
			atomic64_inc(&cmb->stats.errors);
			nvme_cmb_handle_detach_locked(h);
			h->waiting = false;
			h->put = true;	/* never handed out: nobody will put it */
		} else {
			h->waiting = false;
			h->req->chunk = &h->chunk;
			h->req->error = 0;
			kref_get(&h->ref);	/* pairs with complete_waiters() */
		}
		list_add_tail(&h->wait_node, done);
	}
}

/**
 * nvme_cmb_complete_waiters() - tell batches their requests are answered
 * @cmb: the CMB.
 * @done: from nvme_cmb_read_done_locked().
 *
 * Context: process context, without the cmb lock.
 */
void nvme_cmb_complete_waiters(struct nvme_cmb *cmb, struct list_head *done)
{
	struct nvme_cmb_handle *h, *tmp;
	struct p2pmap_stage_batch *batch;

	list_for_each_entry_safe(h, tmp, done, wait_node) {
		list_del(&h->wait_node);
		batch = h->batch;
		h->batch = NULL;
		h->req = NULL;
		kref_put(&h->ref, nvme_cmb_handle_release);
		nvme_cmb_batch_put(cmb, batch);
	}
}

/* Attach @h to @ext for @req (cmb lock). */
static void nvme_cmb_handle_attach_locked(struct nvme_cmb_handle *h,
					  struct nvme_cmb_extent *ext,
					  sector_t abs)
{
	struct nvme_cmb *cmb = ext->cmb;
	unsigned long off = (abs - ext->it.start) / NVME_CMB_SECTORS_PER_PAGE;

	lockdep_assert_held(&cmb->lock);
	h->ext = ext;
	h->off = off;
	h->chunk.provider = &cmb->provider;
	h->chunk.bdev = h->req->bdev;
	h->chunk.sector = h->req->sector;
	h->chunk.nr_pages = h->req->nr_pages;
	h->chunk.bus_addr = cmb->bus + ((u64)(ext->first + off) << PAGE_SHIFT);
	h->chunk.pages = ext->pages + off;
	list_add_tail(&h->node, &ext->handles);
	ext->nr_handles++;
	if (h->writable)
		ext->nr_writers++;
	if (ext->indexed)
		list_move_tail(&ext->lru_node, &cmb->lru);
}

/*
 * The least recently used extent that can go now: one nobody holds first,
 * else the least recently used held one -- but none while the owners of a
 * held extent evicted earlier have not put it yet (a slow owner, a device
 * DMA in flight, must not make eviction revoke the whole cache). Extents
 * staged ahead and not used yet come last, after the held ones: evicting
 * them first would throw away the next read of a sequential reader to keep
 * blocks it is done with; evicting ahead and staging ahead never take
 * them. The most recently used extents holding @keep pages (staged-ahead
 * ones not counted) are never chosen: the evict-ahead worker and staging
 * ahead keep what was just handed out.
 */
enum nvme_cmb_victims {
	NVME_CMB_VICTIM_ANY,		/* a request that must have room */
	NVME_CMB_VICTIM_NOT_AHEAD,	/* evicting ahead, staging ahead */
};

static struct nvme_cmb_extent *
nvme_cmb_lru_victim_locked(struct nvme_cmb *cmb, unsigned long keep,
			   enum nvme_cmb_victims which)
{
	struct nvme_cmb_extent *ext, *held = NULL, *ahead = NULL, *stop = NULL;
	unsigned long kept = 0;

	lockdep_assert_held(&cmb->lock);
	list_for_each_entry_reverse(ext, &cmb->lru, lru_node) {
		if (kept >= keep)
			break;
		/* staged ahead: not what was handed out */
		if (!ext->ahead)
			kept += ext->nr_pages;
		stop = ext;
	}
	list_for_each_entry(ext, &cmb->lru, lru_node) {
		if (ext == stop)
			break;
		if (ext->state == NVME_CMB_EXT_STAGING || ext->io_busy)
			continue;
		if (!ext->nr_handles && !ext->ahead)
			return ext;
		if (!ext->nr_handles) {
			if (!ahead)
				ahead = ext;
		} else if (!held) {
			held = ext;
		}
	}
	if (held)
		return cmb->evict_pending ? NULL : held;
	return which == NVME_CMB_VICTIM_ANY ? ahead : NULL;
}

/*
 * Find a run of @nr free pages, evicting least recently used extents
 * (nvme_cmb_lru_victim_locked(); evicting a held one starts the pressure
 * that makes the evict-ahead worker run). Return the first page, or
 * -ENOSPC when nothing more can be evicted now (@evicted then says whether
 * something was queued to go, so that a retry after finishing it makes
 * sense), or -EAGAIN with P2PMAP_STAGE_NOWAIT, or with P2PMAP_STAGE_AHEAD
 * when only what was just handed out or staged ahead could go.
 */
static long nvme_cmb_alloc_locked(struct nvme_cmb *cmb, unsigned int nr,
				  unsigned int flags, struct list_head *revokes,
				  struct list_head *wb, struct list_head *dead,
				  bool *evicted)
{
	struct nvme_cmb_extent *ext;
	unsigned long first;

	lockdep_assert_held(&cmb->lock);
	*evicted = false;
	for (;;) {
		first = bitmap_find_next_zero_area(cmb->bitmap, cmb->npages, 0,
						   nr, 0);
		if (first < cmb->npages) {
			bitmap_set(cmb->bitmap, first, nr);
			cmb->used_pages += nr;
			return first;
		}
		if (flags & P2PMAP_STAGE_NOWAIT)
			return -EAGAIN;
		if (*evicted && (!list_empty(revokes) || !list_empty(wb)))
			return -ENOSPC;	/* finish those first, then retry */
		if (flags & P2PMAP_STAGE_AHEAD)
			ext = nvme_cmb_lru_victim_locked(cmb, cmb->keep_pages,
							 NVME_CMB_VICTIM_NOT_AHEAD);
		else
			ext = nvme_cmb_lru_victim_locked(cmb, 0,
							 NVME_CMB_VICTIM_ANY);
		if (!ext)
			return flags & P2PMAP_STAGE_AHEAD ? -EAGAIN : -ENOSPC;
		if (ext->nr_handles) {
			/* a device mapping goes: evict ahead for a while */
			cmb->pressure = true;
			cmb->pressure_at = jiffies;
		}
		atomic64_inc(&cmb->stats.stall_evictions);
		nvme_cmb_evict_locked(ext, revokes, wb, dead);
		*evicted = true;
	}
}

/* Are there extents on their way out whose pages will come back? */
static bool nvme_cmb_space_coming_locked(struct nvme_cmb *cmb)
{
	struct nvme_cmb_extent *ext;

	lockdep_assert_held(&cmb->lock);
	list_for_each_entry(ext, &cmb->extents, all_node)
		if (!ext->indexed)
			return true;
	return false;
}

static int nvme_cmb_check_req(struct nvme_cmb *cmb,
			      struct p2pmap_stage_req *req)
{
	struct block_device *bdev = req->bdev;
	unsigned int lbs;

	if (!bdev || !req->nr_pages)
		return -EINVAL;
	if (!nvme_cmb_owns_bdev(&cmb->provider, bdev))
		return -EINVAL;
	if (req->nr_pages > cmb->npages)
		return -EINVAL;
	lbs = bdev_logical_block_size(bdev) >> SECTOR_SHIFT;
	if (lbs > NVME_CMB_SECTORS_PER_PAGE || req->sector % lbs)
		return -EINVAL;
	if (req->sector + (sector_t)req->nr_pages * NVME_CMB_SECTORS_PER_PAGE >
	    bdev_nr_sectors(bdev))
		return -EINVAL;
	return 0;
}

/*
 * Stage one request of @batch. Either answers it at once (error, or a hit
 * on a READY extent) or queues it on an extent being read, with
 * @batch->pending raised.
 */
static void nvme_cmb_stage_one(struct nvme_cmb *cmb,
			       struct p2pmap_stage_batch *batch,
			       struct p2pmap_stage_req *req, bool *alive)
{
	const bool writable = batch->flags & P2PMAP_STAGE_WRITE;
	struct nvme_cmb_extent *ext, *newext = NULL;
	unsigned long deadline = jiffies + NVME_CMB_EVICT_WAIT;
	struct interval_tree_node *it;
	struct nvme_cmb_handle *h;
	sector_t abs, last;
	bool conflict, submit = false, evicted;
	LIST_HEAD(revokes);
	LIST_HEAD(stale);
	LIST_HEAD(dead);
	LIST_HEAD(wb);
	long first;
	int ret;
	unsigned int i;

	req->chunk = NULL;
	ret = nvme_cmb_check_req(cmb, req);
	if (ret)
		goto out_error;
	if (req->owner ? !req->owner->revoke : !batch->owner) {
		ret = -EINVAL;
		goto out_error;
	}

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h) {
		ret = -ENOMEM;
		goto out_error;
	}
	kref_init(&h->ref);	/* the owner's; pairs with put() */
	INIT_LIST_HEAD(&h->node);
	h->owner = req->owner ? *req->owner : *batch->owner;
	h->writable = writable;
	h->batch = batch;
	h->req = req;

	abs = req->bdev->bd_start_sect + req->sector;
	last = abs + (sector_t)req->nr_pages * NVME_CMB_SECTORS_PER_PAGE - 1;

retry:
	mutex_lock(&cmb->lock);
	if (cmb->state != NVME_CMB_LIVE) {
		ret = cmb->state == NVME_CMB_GOING ? -ENODEV : -EIO;
		goto out_unlock;
	}
	/* writes behind the cache first: no hit on stale blocks */
	nvme_cmb_apply_invals_locked(cmb, &stale, &wb, &dead);

	if (!*alive) {
		/* once per batch: a reset after this is caught at completion */
		*alive = nvme_cmb_backend_alive(cmb);
		if (!*alive) {
			queue_work(nvme_cmb_wq, &cmb->reset_work);
			ret = -EIO;
			goto out_unlock;
		}
	}

	/* a hit, or overlapping extents to evict (or to refuse) */
	conflict = false;
	ext = NULL;
	for (it = interval_tree_iter_first(&cmb->tree, abs, last); it;
	     it = interval_tree_iter_next(it, abs, last)) {
		struct nvme_cmb_extent *e =
			container_of(it, struct nvme_cmb_extent, it);

		if (e->disk != req->bdev->bd_disk)
			continue;
		if (e->it.start <= abs && e->it.last >= last &&
		    !((abs - e->it.start) % NVME_CMB_SECTORS_PER_PAGE)) {
			ext = e;
			break;
		}
		if (e->nr_handles || e->state == NVME_CMB_EXT_STAGING ||
		    e->io_busy)
			conflict = true;
	}
	if (ext) {
		atomic64_inc(&cmb->stats.hits);
		if (!(batch->flags & P2PMAP_STAGE_AHEAD))
			ext->ahead = false;	/* found: an extent like others */
		nvme_cmb_handle_attach_locked(h, ext, abs);
		if (ext->state == NVME_CMB_EXT_STAGING) {
			h->waiting = true;
			atomic_inc(&batch->pending);
			list_add_tail(&h->wait_node, &ext->waiters);
		} else {
			req->chunk = &h->chunk;
			req->error = 0;
		}
		goto out_done;
	}
	if (conflict) {
		ret = -EBUSY;
		goto out_unlock;
	}
	/* partial overlaps nobody uses: evict them (dirty ones written back) */
	for (it = interval_tree_iter_first(&cmb->tree, abs, last); it; ) {
		struct nvme_cmb_extent *e =
			container_of(it, struct nvme_cmb_extent, it);

		it = interval_tree_iter_next(it, abs, last);
		if (e->disk == req->bdev->bd_disk)
			nvme_cmb_evict_locked(e, &revokes, &wb, &dead);
	}
	if (!list_empty(&wb) || !list_empty(&revokes))
		goto out_finish_retry;

	if (!newext) {
		mutex_unlock(&cmb->lock);
		newext = kzalloc(sizeof(*newext), GFP_KERNEL);
		if (newext)
			newext->pages = kvmalloc_array(req->nr_pages,
						       sizeof(struct page *),
						       GFP_KERNEL);
		if (!newext || !newext->pages) {
			ret = -ENOMEM;
			goto out_finish;
		}
		goto retry;
	}

	first = nvme_cmb_alloc_locked(cmb, req->nr_pages, batch->flags,
				      &revokes, &wb, &dead, &evicted);
	if (first < 0) {
		if (first == -ENOSPC && evicted)
			goto out_finish_retry;
		if (first == -ENOSPC && nvme_cmb_space_coming_locked(cmb) &&
		    time_before(jiffies, deadline)) {
			unsigned long seq = cmb->freed_seq;

			/*
			 * Revoked owners have not put their chunks yet. Wait
			 * for pages to come back, not for @used_pages to drop:
			 * another stager may take them first, and this one
			 * slept out the whole timeout (100 ms stalls of a
			 * stream's faults). It tries again either way.
			 */
			mutex_unlock(&cmb->lock);
			nvme_cmb_run_revokes(cmb, &stale, P2PMAP_REVOKE_COHERENCY);
			INIT_LIST_HEAD(&stale);
			nvme_cmb_finish(cmb, &wb, &dead);
			if (!wait_event_timeout(cmb->wq,
						READ_ONCE(cmb->freed_seq) != seq,
						HZ / 10))
				atomic64_inc(&cmb->stats.space_timeouts);
			goto retry;
		}
		ret = first;
		goto out_unlock;
	}

	ext = newext;
	newext = NULL;
	ext->cmb = cmb;
	ext->disk = req->bdev->bd_disk;
	get_device(disk_to_dev(ext->disk));	/* pairs with ext_free_mem() */
	ext->it.start = abs;
	ext->it.last = last;
	ext->first = first;
	ext->nr_pages = req->nr_pages;
	for (i = 0; i < ext->nr_pages; i++)
		ext->pages[i] = nth_page(cmb->first_page, first + i);
	ext->state = NVME_CMB_EXT_STAGING;
	ext->ahead = batch->flags & P2PMAP_STAGE_AHEAD;
	ext->gen = cmb->gen;
	INIT_LIST_HEAD(&ext->handles);
	INIT_LIST_HEAD(&ext->waiters);
	INIT_LIST_HEAD(&ext->lru_node);
	INIT_WORK(&ext->done_work, nvme_cmb_io_done);
	list_add_tail(&ext->all_node, &cmb->extents);
	atomic_inc(&cmb->nr_extents);
	nvme_cmb_ext_index_locked(ext);
	ext->io_busy = true;
	atomic_inc(&cmb->inflight);
	atomic64_inc(&cmb->stats.misses);

	nvme_cmb_handle_attach_locked(h, ext, abs);
	h->waiting = true;
	atomic_inc(&batch->pending);
	list_add_tail(&h->wait_node, &ext->waiters);
	submit = true;

out_done:
	mutex_unlock(&cmb->lock);
	nvme_cmb_run_revokes(cmb, &stale, P2PMAP_REVOKE_COHERENCY);
	nvme_cmb_run_revokes(cmb, &revokes, P2PMAP_REVOKE_EVICT);
	nvme_cmb_finish(cmb, &wb, &dead);
	if (submit)
		nvme_cmb_submit(ext, REQ_OP_READ, 0, ext->nr_pages);
	if (newext) {
		kvfree(newext->pages);
		kfree(newext);
	}
	return;

out_finish_retry:
	mutex_unlock(&cmb->lock);
	nvme_cmb_run_revokes(cmb, &stale, P2PMAP_REVOKE_COHERENCY);
	nvme_cmb_run_revokes(cmb, &revokes, P2PMAP_REVOKE_EVICT);
	nvme_cmb_finish(cmb, &wb, &dead);
	INIT_LIST_HEAD(&stale);
	INIT_LIST_HEAD(&revokes);
	goto retry;

out_unlock:
	mutex_unlock(&cmb->lock);
out_finish:
	nvme_cmb_run_revokes(cmb, &stale, P2PMAP_REVOKE_COHERENCY);
	nvme_cmb_run_revokes(cmb, &revokes, P2PMAP_REVOKE_EVICT);
	nvme_cmb_finish(cmb, &wb, &dead);
	if (newext) {
		kvfree(newext->pages);
		kfree(newext);
	}
	kfree(h);
out_error:
	req->error = ret;
	/* staging ahead that finds no room is no error: it did not stage */
	if (!(ret == -EAGAIN && (batch->flags & P2PMAP_STAGE_AHEAD)))
		atomic64_inc(&cmb->stats.errors);
}

/**
 * nvme_cmb_drop() - evict every extent nobody uses (debugfs drop_cache)
 * @cmb: the CMB.
 *
 * What writing to /proc/sys/vm/drop_caches does for the page cache: staged
 * blocks that no owner holds and no I/O is moving are taken out of the
 * cache (a dirty one is written back first), so that the next request for
 * them reads the disk. The bench starts each measurement this way.
 *
 * Context: process context; takes the cmb lock.
 * Return: the bytes taken out.
 */
u64 nvme_cmb_drop(struct nvme_cmb *cmb)
{
	struct nvme_cmb_extent *ext, *tmp;
	LIST_HEAD(revokes);
	LIST_HEAD(dead);
	LIST_HEAD(wb);
	u64 bytes = 0;

	mutex_lock(&cmb->lock);
	list_for_each_entry_safe(ext, tmp, &cmb->lru, lru_node) {
		if (!ext->indexed || ext->nr_handles || ext->io_busy ||
		    ext->state == NVME_CMB_EXT_STAGING)
			continue;
		bytes += nvme_cmb_ext_bytes(ext);
		nvme_cmb_evict_locked(ext, &revokes, &wb, &dead);
	}
	mutex_unlock(&cmb->lock);
	nvme_cmb_finish_revokes(cmb, &revokes, P2PMAP_REVOKE_EVICT, &wb, &dead);
	return bytes;
}

/**
 * nvme_cmb_evict_ahead_work() - evict ahead of need
 * @work: &nvme_cmb.evict_work.
 *
 * Evicts least recently used extents, one at a time (their owners revoked
 * with P2PMAP_REVOKE_EVICT, dirty ones written back), until
 * @cmb->free_target pages are free or nothing more can go now; the same
 * choice a stage request makes (nvme_cmb_lru_victim_locked()), made while
 * the devices work instead of while a fault waits.
 *
 * Context: workqueue (process context); takes the cmb lock.
 */
void nvme_cmb_evict_ahead_work(struct work_struct *work)
{
	struct nvme_cmb *cmb = container_of(work, struct nvme_cmb, evict_work);
	struct nvme_cmb_extent *ext;
	u64 start = ktime_get_ns();
	LIST_HEAD(revokes);
	LIST_HEAD(dead);
	LIST_HEAD(wb);

	for (;;) {
		mutex_lock(&cmb->lock);
		if (!nvme_cmb_pressure_locked(cmb) ||
		    cmb->npages - cmb->used_pages >= cmb->free_target) {
			mutex_unlock(&cmb->lock);
			break;
		}
		ext = nvme_cmb_lru_victim_locked(cmb, cmb->keep_pages,
						 NVME_CMB_VICTIM_NOT_AHEAD);
		if (!ext) {
			mutex_unlock(&cmb->lock);
			break;
		}
		if (ext->nr_handles)	/* the stream goes on */
			cmb->pressure_at = jiffies;
		atomic64_add(nvme_cmb_ext_bytes(ext), &cmb->stats.evicted_ahead);
		nvme_cmb_evict_locked(ext, &revokes, &wb, &dead);
		mutex_unlock(&cmb->lock);
		nvme_cmb_finish_revokes(cmb, &revokes, P2PMAP_REVOKE_EVICT,
					&wb, &dead);
		INIT_LIST_HEAD(&revokes);
		cond_resched();
	}
	atomic64_add(ktime_get_ns() - start, &cmb->stats.evict_ahead_ns);
}

/**
 * nvme_cmb_stage_batch() - p2pmap_provider_ops.stage_batch
 * @provider: the CMB's provider.
 * @batch: the ranges; see struct p2pmap_stage_batch.
 *
 * Each range is looked up, given space (evicting) and its reads submitted
 * before the next range is looked at: the reads of the whole batch are in
 * flight together. @batch->done runs when the last one finishes, in the
 * context that finishes it.
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL for a malformed batch.
 */
int nvme_cmb_stage_batch(struct p2pmap_provider *provider,
			 struct p2pmap_stage_batch *batch)
{
	struct nvme_cmb *cmb = to_nvme_cmb(provider);
	struct blk_plug plug;
	bool alive = false;
	unsigned int i;

	might_sleep();
	if (!batch || !batch->reqs || !batch->nr_reqs || !batch->done ||
	    (batch->owner && !batch->owner->revoke) ||
	    (batch->flags & ~(P2PMAP_STAGE_WRITE | P2PMAP_STAGE_NOWAIT |
			      P2PMAP_STAGE_AHEAD)))
		return -EINVAL;

	atomic_set(&batch->pending, 1);	/* ours, while staging */
	/*
	 * One plug for the whole batch (the per-extent plugs of
	 * nvme_cmb_submit() nest in it): the reads of every range reach the
	 * driver together, one doorbell write for them, instead of one per
	 * range. A stage_one() that sleeps flushes it, as any plug.
	 */
	blk_start_plug(&plug);
	for (i = 0; i < batch->nr_reqs; i++)
		nvme_cmb_stage_one(cmb, batch, &batch->reqs[i], &alive);
	blk_finish_plug(&plug);
	nvme_cmb_batch_put(cmb, batch);	/* @batch may be gone after this */
	return 0;
}

static void nvme_cmb_stage_sync_done(struct p2pmap_stage_batch *batch)
{
	complete(batch->priv);
}

/**
 * nvme_cmb_stage() - p2pmap_provider_ops.stage: one range, waited for
 * @provider: the CMB's provider.
 * @bdev: the block device.
 * @sector: first sector, relative to @bdev.
 * @nr_pages: pages to stage.
 * @flags: P2PMAP_STAGE_*.
 * @owner: who holds the chunk and how to revoke it.
 *
 * Context: process context; sleeps.
 * Return: the chunk, referenced for @owner, or an ERR_PTR (the errnos of
 * struct p2pmap_stage_req).
 */
struct p2pmap_chunk *nvme_cmb_stage(struct p2pmap_provider *provider,
				    struct block_device *bdev, sector_t sector,
				    unsigned int nr_pages, unsigned int flags,
				    const struct p2pmap_owner *owner)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct p2pmap_stage_req req = {
		.bdev = bdev,
		.sector = sector,
		.nr_pages = nr_pages,
	};
	struct p2pmap_stage_batch batch = {
		.reqs = &req,
		.nr_reqs = 1,
		.flags = flags,
		.owner = owner,
		.done = nvme_cmb_stage_sync_done,
		.priv = &done,
	};
	int ret;

	ret = nvme_cmb_stage_batch(provider, &batch);
	if (ret)
		return ERR_PTR(ret);
	wait_for_completion(&done);
	return req.error ? ERR_PTR(req.error) : req.chunk;
}

/*
 * Is a write-back of an extent of @disk (NULL: any) in flight, or promised
 * (an eviction's, between nvme_cmb_ext_check_locked() and its submission)?
 * Each such state ends under the lock with a wake-up of @cmb->wq: the I/O's
 * done_work, or the extent's unlink.
 */
static bool nvme_cmb_wb_in_flight_locked(struct nvme_cmb *cmb,
					 struct gendisk *disk)
{
	struct nvme_cmb_extent *ext;

	lockdep_assert_held(&cmb->lock);
	list_for_each_entry(ext, &cmb->extents, all_node) {
		if (disk && ext->disk != disk)
			continue;
		if ((ext->io_busy && ext->io_write) ||
		    (ext->freeing && ext->dirty && !ext->lost))
			return true;
	}
	return false;
}

/**
 * nvme_cmb_sync() - p2pmap_provider_ops.sync: write back dirty extents
 * @provider: the CMB's provider.
 * @bdev: write back only extents of this block device's disk; NULL: all.
 *
 * What devices wrote into extents and put is written (all extents
 * together); the extents stay cached, clean, even those other writers
 * still hold (their pages are written once they put them). A write-back
 * of the disk that someone else started (an eviction, another sync) is
 * waited for too, and an extent put dirty again while it ran is written
 * after it: on return, what was put dirty before the call is on the
 * blocks, and the caller may drop the page cache and give the blocks
 * back.
 *
 * Context: process context; sleeps.
 * Return: 0, or -EIO when a write-back failed (the data stays dirty), or
 * -ENODEV when the CMB is going or being reset.
 */
int nvme_cmb_sync(struct p2pmap_provider *provider, struct block_device *bdev)
{
	struct nvme_cmb *cmb = to_nvme_cmb(provider);
	struct nvme_cmb_extent *ext, *tmp;
	LIST_HEAD(stale);
	LIST_HEAD(busy);
	LIST_HEAD(dead);
	LIST_HEAD(wb);
	bool again;
	int ret = 0;

	might_sleep();
again:
	again = false;
	mutex_lock(&cmb->lock);
	if (cmb->state != NVME_CMB_LIVE || !nvme_cmb_backend_alive(cmb)) {
		mutex_unlock(&cmb->lock);
		return -ENODEV;
	}
	/* never write back over blocks written behind the cache */
	nvme_cmb_apply_invals_locked(cmb, &stale, &wb, &dead);
	list_for_each_entry(ext, &cmb->extents, all_node) {
		/*
		 * Writers still holding the extent do not hold it back: what
		 * was put is written now (their pages are written when they
		 * put them). Skipping it let p2pmap drop the page cache over
		 * blocks that were still old, and a read keep them.
		 */
		if (!ext->dirty || ext->lost || ext->freeing ||
		    (bdev && ext->disk != bdev->bd_disk))
			continue;
		if (ext->io_busy || ext->syncing) {
			/* dirtied again during another write-back: after it */
			again |= ext->syncing || ext->io_write;
			continue;
		}
		ext->dirty = false;
		ext->io_lo = ext->dirty_lo;
		ext->io_hi = ext->dirty_hi;
		ext->syncing = true;
		ext->io_busy = true;
		ext->io_gen = cmb->loss_gen;
		ext->wb_error = 0;
		atomic_inc(&cmb->inflight);
		list_add_tail(&ext->sync_node, &busy);
	}
	mutex_unlock(&cmb->lock);
	nvme_cmb_finish_revokes(cmb, &stale, P2PMAP_REVOKE_COHERENCY, &wb,
				&dead);

	list_for_each_entry(ext, &busy, sync_node)
		nvme_cmb_submit(ext, REQ_OP_WRITE, ext->io_lo, ext->io_hi);
	/* @syncing keeps them: the list is ours, io_busy cleared by done_work */
	wait_event(cmb->wq, ({
		bool idle = true;

		list_for_each_entry(ext, &busy, sync_node)
			idle &= !READ_ONCE(ext->io_busy);
		idle;
	}));

	mutex_lock(&cmb->lock);
	list_for_each_entry_safe(ext, tmp, &busy, sync_node) {
		list_del_init(&ext->sync_node);
		ext->syncing = false;
		if (ext->wb_error) {
			atomic64_inc(&cmb->stats.errors);
			if (ext->lost)
				atomic64_add(nvme_cmb_io_bytes(ext),
					     &cmb->stats.lost);
			else
				nvme_cmb_ext_dirty_locked(ext, ext->io_lo,
							  ext->io_hi);
			ret = -EIO;
		} else {
			nvme_cmb_count_written_locked(ext);
		}
		/* evicted, reset or removed meanwhile: it may go now */
		nvme_cmb_ext_check_locked(ext, &wb, &dead);
	}
	mutex_unlock(&cmb->lock);
	nvme_cmb_finish(cmb, &wb, &dead);

	/*
	 * An extent skipped above because another sync or an eviction was
	 * writing it back holds data put before this call: returning before
	 * it lands let the caller's page cache read the old blocks (XFS: the
	 * device's re-fault after a layout recall), and keep them.
	 */
	mutex_lock(&cmb->lock);
	while (nvme_cmb_wb_in_flight_locked(cmb, bdev ? bdev->bd_disk : NULL)) {
		DEFINE_WAIT(wait);

		/* queued before unlocking: the state changes under the lock */
		prepare_to_wait(&cmb->wq, &wait, TASK_UNINTERRUPTIBLE);
		mutex_unlock(&cmb->lock);
		schedule();
		finish_wait(&cmb->wq, &wait);
		mutex_lock(&cmb->lock);
	}
	mutex_unlock(&cmb->lock);
	if (again) {
		cond_resched();	/* another sync clears @syncing under the lock */
		goto again;
	}
	return ret;
}
