// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: bios between a namespace and CMB pages.
 *
 * An extent's pages are contiguous in the CMB and its sectors contiguous on
 * the disk: one bio per BIO_MAX_VECS pages (a multi-page bvec per run of
 * contiguous pages), all submitted under one plug
 * and completed asynchronously. The last completion queues the extent's
 * done_work, which finishes it in process context. Many extents (of one
 * batch or of many callers) are in flight at once.
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>

#include "nvme-cmb.h"

/**
 * nvme_cmb_end_io() - completion of one of our bios
 * @bio: a bio of nvme_cmb_submit().
 *
 * Also how the snoop probe tells our bios from others.
 *
 * Context: any context (bio completion).
 */
void nvme_cmb_end_io(struct bio *bio)
{
	struct nvme_cmb_extent *ext = bio->bi_private;

	if (bio->bi_status)
		atomic_cmpxchg(&ext->io_error, 0,
			       blk_status_to_errno(bio->bi_status));
	bio_put(bio);
	/* the last use of @ext here: done_work may free it */
	if (atomic_dec_and_test(&ext->io_pending))
		queue_work(nvme_cmb_wq, &ext->done_work);
}

/**
 * nvme_cmb_bio_add_pages() - add CMB pages to a bio
 * @bio: a bio with room for @n vectors.
 * @pages: the pages, in order.
 * @n: how many.
 *
 * One multi-page bvec per run of pages contiguous in the CMB (the block
 * layer splits it as the queue needs), not a __bio_add_page() per page:
 * under emulation, and on a kernel with KASAN and P2PDMA, that per-page
 * work costs more than the read.
 *
 * Context: any context.
 */
void nvme_cmb_bio_add_pages(struct bio *bio, struct page **pages,
			    unsigned int n)
{
	unsigned int j, run;

	for (j = 0; j < n; j += run) {
		for (run = 1; j + run < n &&
		     pages[j + run] == nth_page(pages[j], run); run++)
			;
		__bio_add_page(bio, pages[j], run << PAGE_SHIFT, 0);
	}
}

/**
 * nvme_cmb_submit() - start reading or writing an extent
 * @ext: the extent, with @io_busy set and counted in @cmb->inflight by the
 *	caller (under the cmb lock).
 * @opf: REQ_OP_READ (stage) or REQ_OP_WRITE (write back).
 * @lo: first page of the extent to transfer.
 * @hi: last page to transfer, plus one.
 *
 * Returns before the I/O completes; nvme_cmb_io_done() finishes it.
 *
 * Context: process context, without the cmb lock.
 */
void nvme_cmb_submit(struct nvme_cmb_extent *ext, blk_opf_t opf,
		     unsigned int lo, unsigned int hi)
{
	struct block_device *bdev = ext->disk->part0;
	unsigned int i = lo, n;
	unsigned long *poison;
	struct blk_plug plug;
	struct bio *bio;

	atomic_set(&ext->io_pending, 1);	/* ours, while submitting */
	atomic_set(&ext->io_error, 0);
	ext->io_write = op_is_write(opf);
	ext->io_lo = lo;
	ext->io_hi = hi;
	/* a write-back skips pages written behind the cache */
	poison = ext->io_write ? READ_ONCE(ext->poison) : NULL;
	ext->io_skipped = 0;

	blk_start_plug(&plug);
	while (i < hi) {
		if (poison && test_bit(i, poison)) {
			n = find_next_zero_bit(poison, hi, i) - i;
			ext->io_skipped += n;
			i += n;
			continue;
		}
		n = min_t(unsigned int, hi - i, BIO_MAX_VECS);
		if (poison)
			n = find_next_bit(poison, i + n, i) - i;
		bio = bio_alloc(bdev, n, opf, GFP_KERNEL);
		bio->bi_iter.bi_sector = ext->it.start +
			((sector_t)i << (PAGE_SHIFT - SECTOR_SHIFT));
		bio->bi_end_io = nvme_cmb_end_io;
		bio->bi_private = ext;
		nvme_cmb_bio_add_pages(bio, ext->pages + i, n);
		i += n;
		atomic_inc(&ext->io_pending);
		submit_bio(bio);
	}
	blk_finish_plug(&plug);

	if (atomic_dec_and_test(&ext->io_pending))
		queue_work(nvme_cmb_wq, &ext->done_work);
}

/**
 * nvme_cmb_io_done() - an extent's I/O has completed
 * @work: the extent's done_work.
 *
 * Data moved while the CMB was reset is void: the generation must be the
 * one of submission and CMBMSC still ours.
 *
 * Context: workqueue.
 */
void nvme_cmb_io_done(struct work_struct *work)
{
	struct nvme_cmb_extent *ext =
		container_of(work, struct nvme_cmb_extent, done_work);
	struct nvme_cmb *cmb = ext->cmb;
	struct nvme_cmb_extent *tmp;
	LIST_HEAD(done);
	LIST_HEAD(dead);
	LIST_HEAD(wb);
	int err;

	mutex_lock(&cmb->lock);
	err = atomic_read(&ext->io_error);
	if (!err && ((ext->io_write ? ext->io_gen != cmb->loss_gen :
				      ext->gen != cmb->gen) ||
		     !nvme_cmb_backend_alive(cmb)))
		err = -EIO;
	ext->io_busy = false;
	if (ext->io_write) {
		ext->wb_error = err;
	} else {
		if (err)
			pr_warn_ratelimited("%s: staging %u pages at sector %lu of %s failed: %d\n",
					    cmb->name, ext->nr_pages, ext->it.start,
					    ext->disk->disk_name, err);
		else
			atomic64_add((u64)ext->nr_pages << PAGE_SHIFT,
				     &cmb->stats.staged);
		ext->state = err ? NVME_CMB_EXT_FAILED : NVME_CMB_EXT_READY;
		nvme_cmb_read_done_locked(ext, &done);
		/* a failed extent is never dirty: nothing to write back */
		nvme_cmb_ext_check_locked(ext, &wb, &dead);
		WARN_ON_ONCE(!list_empty(&wb));
	}
	atomic_dec(&cmb->inflight);
	wake_up_all(&cmb->wq);
	mutex_unlock(&cmb->lock);

	nvme_cmb_complete_waiters(cmb, &done);
	list_for_each_entry_safe(ext, tmp, &dead, lru_node)
		nvme_cmb_ext_free_mem(ext);
}
