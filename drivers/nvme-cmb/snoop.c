// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: keep the cache coherent with every write to a namespace.
 *
 * A cached extent holds a copy of blocks. Anything that writes those
 * blocks behind the cache (page-cache write-back of a file that reused
 * freed blocks, O_DIRECT, discard, another file system operation) makes
 * the copy stale. Every bio submitted to any disk passes the block layer's
 * block_bio_queue tracepoint after partition remapping (absolute sectors);
 * a probe on it records the written ranges of disks that have cached
 * extents. Before any lookup the recorded ranges are applied: overlapping
 * extents leave the cache, their holders are revoked
 * (P2PMAP_REVOKE_COHERENCY), and dirty CMB data they held is dropped
 * (the disk's write is newer) and counted lost. The module's own
 * write-back bios are not recorded.
 *
 * The tracepoint is found with for_each_kernel_tracepoint(); a kernel
 * without it (no CONFIG_TRACEPOINTS) gets no snooping, said at load time.
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "nvme-cmb.h"

struct nvme_cmb_inval {
	struct list_head node;		/* in cmb->invals */
	struct gendisk *disk;
	sector_t start;
	sector_t last;
};

static struct tracepoint *nvme_cmb_bio_queue_tp;

static void nvme_cmb_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "block_bio_queue"))
		nvme_cmb_bio_queue_tp = tp;
}

/* Does a bio of this op change the blocks? */
static bool nvme_cmb_op_changes_data(struct bio *bio)
{
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
	case REQ_OP_WRITE_ZEROES:
	case REQ_OP_DISCARD:
	case REQ_OP_SECURE_ERASE:
	case REQ_OP_ZONE_APPEND:
		return bio_sectors(bio) > 0;
	default:
		return false;
	}
}

/* Called for every bio queued to any disk, in the submitter's context. */
static void nvme_cmb_bio_queue_probe(void *data, struct bio *bio)
{
	struct gendisk *disk = bio->bi_bdev->bd_disk;
	struct nvme_cmb_inval *inval;
	struct nvme_cmb *cmb;
	unsigned long flags;

	if (!nvme_cmb_op_changes_data(bio) || bio->bi_end_io == nvme_cmb_end_io)
		return;
	rcu_read_lock();
	list_for_each_entry_rcu(cmb, &nvme_cmb_list, node) {
		if (!atomic_read(&cmb->nr_extents) ||
		    !nvme_cmb_owns_disk(cmb, disk))
			continue;
		inval = kmalloc(sizeof(*inval), GFP_ATOMIC);
		spin_lock_irqsave(&cmb->inval_lock, flags);
		if (inval) {
			inval->disk = disk;
			inval->start = bio->bi_iter.bi_sector;
			inval->last = bio_end_sector(bio) - 1;
			list_add_tail(&inval->node, &cmb->invals);
		} else {
			cmb->inval_all = true;	/* no memory: drop the whole cache */
		}
		spin_unlock_irqrestore(&cmb->inval_lock, flags);
		queue_work(nvme_cmb_wq, &cmb->inval_work);
		break;
	}
	rcu_read_unlock();
}

/* Whether every page of [@lo, @hi) of @ext is poisoned. */
static bool nvme_cmb_all_poisoned(const struct nvme_cmb_extent *ext,
				  unsigned int lo, unsigned int hi)
{
	return find_next_zero_bit(ext->poison, hi, lo) >= hi;
}

/* Whether no page of [@lo, @hi) of @ext is poisoned. */
static bool nvme_cmb_none_poisoned(const struct nvme_cmb_extent *ext,
				   unsigned int lo, unsigned int hi)
{
	return find_next_bit(ext->poison, hi, lo) >= hi;
}

/*
 * Whether the poisoned pages of @ext hold all that devices wrote into it
 * or may still write: its dirty range and the pages of its writers.
 */
static bool nvme_cmb_ext_writes_poisoned_locked(struct nvme_cmb_extent *ext)
{
	struct nvme_cmb_handle *h;

	lockdep_assert_held(&ext->cmb->lock);
	if (ext->dirty &&
	    !nvme_cmb_all_poisoned(ext, ext->dirty_lo, ext->dirty_hi))
		return false;
	list_for_each_entry(h, &ext->handles, node)
		if (h->writable && !h->waiting && !h->put &&
		    !nvme_cmb_all_poisoned(ext, h->off,
					   h->off + h->chunk.nr_pages))
			return false;
	return true;
}

/*
 * The blocks of sectors [@start, @last] (absolute on @ext's disk) were
 * written behind the cache. @ext leaves the cache and its owners are
 * revoked. What devices wrote into its other pages is newer than those
 * blocks and is kept: those pages are poisoned, not the whole extent, and
 * the write-back skips them; owners whose pages the write did not touch
 * are told P2PMAP_REVOKE_EVICT (their data is written back), the others
 * P2PMAP_REVOKE_COHERENCY. Only when the written blocks cover all that
 * devices wrote is the extent lost as a whole.
 */
static void nvme_cmb_invalidate_ext_locked(struct nvme_cmb_extent *ext,
					   sector_t start, sector_t last,
					   struct list_head *revokes,
					   struct list_head *wb,
					   struct list_head *dead)
{
	struct nvme_cmb *cmb = ext->cmb;
	unsigned int lo, hi;
	struct nvme_cmb_handle *h;
	u64 lost;

	lockdep_assert_held(&cmb->lock);
	start = max(start, ext->it.start);
	last = min(last, ext->it.last);
	lo = (start - ext->it.start) >> (PAGE_SHIFT - SECTOR_SHIFT);
	hi = ((last - ext->it.start) >> (PAGE_SHIFT - SECTOR_SHIFT)) + 1;

	nvme_cmb_ext_unindex_locked(ext);
	atomic64_add((u64)ext->nr_pages << PAGE_SHIFT, &cmb->stats.invalidated);
	/*
	 * No reclaim under the cmb lock: it unmaps pages through mmu
	 * notifiers, whose write-backs put chunks (lockdep: cmb->lock ->
	 * fs_reclaim -> mmu_notifier_invalidate_range_start -> cmb->lock).
	 * Failing, the extent is lost as a whole, counted.
	 */
	if (!ext->poison)
		ext->poison = bitmap_zalloc(ext->nr_pages,
					    GFP_NOWAIT | __GFP_NOWARN);
	if (ext->poison)
		bitmap_set(ext->poison, lo, hi - lo);
	if (ext->poison && !nvme_cmb_ext_writes_poisoned_locked(ext)) {
		list_for_each_entry(h, &ext->handles, node)
			h->keeps_data = nvme_cmb_none_poisoned(ext, h->off,
							       h->off + h->chunk.nr_pages);
	} else {
		lost = nvme_cmb_ext_lose_locked(ext);
		if (lost) {
			atomic64_add(lost, &cmb->stats.lost);
			pr_warn_ratelimited("%s: %llu bytes written by devices into the CMB were overwritten on disk before write-back\n",
					    cmb->name, lost);
		}
	}
	nvme_cmb_revoke_locked(ext, revokes);
	nvme_cmb_ext_check_locked(ext, wb, dead);
}

/**
 * nvme_cmb_apply_invals_locked() - take written ranges out of the cache
 * @cmb: the CMB.
 * @revokes: holders to revoke (P2PMAP_REVOKE_COHERENCY) after unlocking.
 * @wb: extents to write back (never filled here: invalidated data is lost).
 * @dead: extents to free after unlocking.
 *
 * Context: cmb lock held.
 */
void nvme_cmb_apply_invals_locked(struct nvme_cmb *cmb,
				  struct list_head *revokes,
				  struct list_head *wb, struct list_head *dead)
{
	struct nvme_cmb_inval *inval, *tmp;
	struct nvme_cmb_extent *ext, *etmp;
	struct interval_tree_node *it;
	LIST_HEAD(invals);
	bool all;

	lockdep_assert_held(&cmb->lock);
	spin_lock_irq(&cmb->inval_lock);
	list_splice_init(&cmb->invals, &invals);
	all = cmb->inval_all;
	cmb->inval_all = false;
	spin_unlock_irq(&cmb->inval_lock);

	if (all) {
		list_for_each_entry_safe(ext, etmp, &cmb->extents, all_node)
			if (!ext->lost && (ext->indexed || ext->dirty))
				nvme_cmb_invalidate_ext_locked(ext, 0,
							       (sector_t)-1,
							       revokes, wb,
							       dead);
	}
	list_for_each_entry_safe(inval, tmp, &invals, node) {
		it = interval_tree_iter_first(&cmb->tree, inval->start,
					      inval->last);
		while (it) {
			ext = container_of(it, struct nvme_cmb_extent, it);
			it = interval_tree_iter_next(it, inval->start,
						     inval->last);
			if (ext->disk == inval->disk)
				nvme_cmb_invalidate_ext_locked(ext,
							       inval->start,
							       inval->last,
							       revokes, wb,
							       dead);
		}
		/*
		 * Extents already out of the index (evicted, poisoned) with
		 * device data not written yet: dirty, or writers still to put
		 * theirs, which would otherwise land over these newer blocks.
		 */
		list_for_each_entry_safe(ext, etmp, &cmb->extents, all_node) {
			if (ext->indexed || ext->lost ||
			    (!ext->dirty && !ext->nr_writers) ||
			    ext->disk != inval->disk ||
			    ext->it.last < inval->start ||
			    ext->it.start > inval->last)
				continue;
			nvme_cmb_invalidate_ext_locked(ext, inval->start,
						       inval->last, revokes,
						       wb, dead);
		}
		list_del(&inval->node);
		kfree(inval);
	}
}

/**
 * nvme_cmb_inval_work() - apply recorded writes promptly
 * @work: the CMB's inval_work.
 *
 * Lookups apply them too; this revokes the holders of stale chunks without
 * waiting for the next lookup.
 *
 * Context: workqueue.
 */
void nvme_cmb_inval_work(struct work_struct *work)
{
	struct nvme_cmb *cmb = container_of(work, struct nvme_cmb, inval_work);
	LIST_HEAD(revokes);
	LIST_HEAD(dead);
	LIST_HEAD(wb);

	mutex_lock(&cmb->lock);
	nvme_cmb_apply_invals_locked(cmb, &revokes, &wb, &dead);
	mutex_unlock(&cmb->lock);
	nvme_cmb_finish_revokes(cmb, &revokes, P2PMAP_REVOKE_COHERENCY, &wb,
				&dead);
}

/**
 * nvme_cmb_snoop_init() - start recording writes to namespaces
 *
 * Context: module init.
 * Return: 0, or the error of tracepoint_probe_register(); a kernel without
 * the tracepoint is not an error (logged).
 */
int nvme_cmb_snoop_init(void)
{
	for_each_kernel_tracepoint(nvme_cmb_find_tp, NULL);
	if (!nvme_cmb_bio_queue_tp) {
		pr_warn("no block_bio_queue tracepoint: writes behind the CMB cache are not seen\n");
		return 0;
	}
	return tracepoint_probe_register(nvme_cmb_bio_queue_tp,
					 nvme_cmb_bio_queue_probe, NULL);
}

/**
 * nvme_cmb_snoop_exit() - stop recording writes
 *
 * Returns when no probe runs any more.
 *
 * Context: module exit.
 */
void nvme_cmb_snoop_exit(void)
{
	if (!nvme_cmb_bio_queue_tp)
		return;
	tracepoint_probe_unregister(nvme_cmb_bio_queue_tp,
				    nvme_cmb_bio_queue_probe, NULL);
	tracepoint_synchronize_unregister();
}

/**
 * nvme_cmb_snoop_discard() - drop the ranges recorded for a going CMB
 * @cmb: a CMB off nvme_cmb_list, after an RCU grace period.
 *
 * Context: process context.
 */
void nvme_cmb_snoop_discard(struct nvme_cmb *cmb)
{
	struct nvme_cmb_inval *inval, *tmp;

	cancel_work_sync(&cmb->inval_work);
	list_for_each_entry_safe(inval, tmp, &cmb->invals, node) {
		list_del(&inval->node);
		kfree(inval);
	}
}
