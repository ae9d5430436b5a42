// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: mirrors of user ranges for importers.
 *
 * A mirror is an mmu interval notifier over a user range plus, per page,
 * what the importer's device was given: a P2P bus address in a provider's
 * chunk, or a page-cache/anonymous page DMA-mapped for the device. The HMM
 * protocol is run here (see include/linux/p2pmap.h): resolve the range with
 * mmap_lock held only to read the VMAs, ask the file system and the provider
 * without it, then publish under the mirror lock if and only if
 * mmu_interval_read_retry() says nothing changed.
 */
#define pr_fmt(fmt) "p2pmap: " fmt

#include <linux/blkdev.h>
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hmm.h>
#include <linux/iversion.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/rwsem.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "internal.h"

/*
 * struct p2pmap_held - one chunk reference a mirror holds
 * @node: in p2pmap_mirror.held, or in p2pmap_mirror.release.
 * @mirror: the mirror holding it.
 * @chunk: the chunk, referenced; NULL while staging or once revoked.
 * @first: index in the mirror of the first page using the chunk.
 * @npages: number of pages using it.
 * @live: pages of the mirror still mapped through it.
 * @file: the file whose blocks the chunk holds (referenced).
 * @pgoff: file page of @first.
 * @iversion: the inode's i_version when the blocks were looked up (for a
 *	file system without device_revalidate).
 * @ext: the extent the file system described, for device_revalidate.
 * @id: identifies @held across a dropped mirror lock.
 * @published: the pages were handed to the importer.
 * @revoked: the provider took the chunk back before it was published.
 * @stale: the blocks may have changed since staging: the provider must
 *	forget the chunk before it is put (never for a write chunk: its data
 *	is written back).
 * @wl: the write layout the blocks came from, for a write chunk; else NULL.
 * @cause: why the pages went, for the write-back accounting.
 * @on_release: on p2pmap_mirror.release, not yet taken by the release
 *	work (p2pmap_mirror.release_lock).
 */
struct p2pmap_held {
	struct list_head node;
	struct p2pmap_mirror *mirror;
	struct p2pmap_chunk *chunk;
	unsigned long first;
	unsigned long npages;
	unsigned long live;
	struct file *file;
	pgoff_t pgoff;
	u64 iversion;
	struct p2pmap_extent ext;
	u64 id;
	bool published;
	bool revoked;
	bool stale;
	struct p2pmap_wlayout *wl;
	enum p2pmap_revoke_cause cause;
	bool on_release;
};

/*
 * struct p2pmap_wlayout - a mirror's write layout on one file: the lease,
 *	and the blocks map_blocks handed out under it
 * @node: in p2pmap_mirror.wlayouts.
 * @mirror: the mirror.
 * @file: the file (referenced).
 * @lease: the layout lease; NULL once given back.
 * @maps: ranges map_blocks described (MAPPED: writable in place; a
 *	refusal keeps its reason in @reason and covers @offset/@length).
 * @nr_maps: entries of @maps used.
 * @max_maps: entries of @maps allocated.
 * @recalled: the file system recalled the layout (mirror lock).
 * @nr_held: write chunks staged from this layout and not yet put.
 * @maps_gen: p2pmap_mirror.maps_gen when @maps were described.
 * @commit_lock: protects @commit_lo, @commit_hi, @commit_pending.
 * @commit_lo: first byte written back and not yet committed.
 * @commit_hi: end of that range.
 * @commit_pending: @commit_lo/@commit_hi hold a range.
 * @commit_bdev: part of that range was put by a provider's revoke callback,
 *	which cannot sync (the provider writes it back at the extent's last
 *	put, which may be another owner's, later): the commit syncs this
 *	block device's provider before it drops the page cache; else NULL.
 *
 * @maps, @nr_maps, @max_maps, @lease and the mirror's list are protected
 * by p2pmap_mirror.layout_lock.
 */
struct p2pmap_wlayout {
	struct list_head node;
	struct p2pmap_mirror *mirror;
	struct file *file;
	struct p2pmap_lease *lease;
	struct p2pmap_block_map *maps;
	unsigned int nr_maps;
	unsigned int max_maps;
	bool recalled;
	atomic_t nr_held;
	int maps_gen;
	/* protects commit_lo, commit_hi, commit_pending, commit_bdev */
	spinlock_t commit_lock;
	loff_t commit_lo;
	loff_t commit_hi;
	bool commit_pending;
	struct block_device *commit_bdev;
};

/*
 * struct p2pmap_entry - what the device has for one page
 * @addr: the address given to the device (0: not mapped).
 * @page: the page behind @addr.
 * @held: the chunk reference for a P2P page; NULL for a fallback page.
 * @dma_mapped: @addr is a DMA mapping of @page to undo on release.
 * @dma_write: that mapping lets the device write (DMA_BIDIRECTIONAL);
 *	otherwise the device only reads (DMA_TO_DEVICE).
 * @revoked: the page was taken back since it was last mapped (re-fault).
 */
struct p2pmap_entry {
	dma_addr_t addr;
	struct page *page;
	struct p2pmap_held *held;
	bool dma_mapped;
	bool dma_write;
	bool revoked;
};

/*
 * struct p2pmap_fault_arrays - a fault's per-page arrays, for @cap pages
 * @cap: pages they hold (0: none allocated).
 * @pages: the answer, per page.
 * @pfns: hmm_range_fault() scratch.
 * @segs: one segment per VMA at most; a VMA is at least a page.
 * @dma_mapped: pages[i].addr is a DMA mapping.
 */
struct p2pmap_fault_arrays {
	unsigned long cap;
	struct p2pmap_page *pages;
	unsigned long *pfns;
	struct p2pmap_segment *segs;
	unsigned long *dma_mapped;
};

struct p2pmap_mirror {
	struct mmu_interval_notifier notifier;
	struct p2pmap_importer *importer;
	struct list_head node;		/* in the importer's mirrors */
	unsigned long start;
	unsigned long npages;
	void *priv;

	/*
	 * lock protects entries[], held and the device page table that the
	 * importer's callbacks write under it; with the notifier sequence it
	 * is the HMM "driver lock".
	 */
	struct mutex lock;
	struct p2pmap_entry *entries;
	struct list_head held;
	unsigned long nr_writable;

	/* release_lock protects release: chunks to put outside the notifier. */
	spinlock_t release_lock;
	struct list_head release;
	struct work_struct release_work;
	/*
	 * The chunk whose provider revoke callback is running, under the
	 * mirror lock: it puts the chunk itself, so its release is not
	 * queued to the work (protected by lock).
	 */
	struct p2pmap_held *revoking;
	/*
	 * Provider revoke callbacks writing back write chunks they took off
	 * the mirror (no longer in entries[] or on held): raised under lock,
	 * dropped once the write-back is done; destroy waits for zero
	 * (wait_var_event), since those chunks point at the mirror.
	 */
	atomic_t revoke_wb;

	/* the write side (docs/design.md "The write side") */
	const struct cred *cred;	/* the creator's: layout leases */
	/*
	 * layout_lock protects wlayouts and each layout's maps and lease; held
	 * across map_blocks and commit_blocks (file-system locks nest inside),
	 * never taken by the notifier. Ranks above the mirror lock.
	 */
	struct mutex layout_lock;
	struct list_head wlayouts;
	/*
	 * fault_sem is held for reading by each fault attempt, for writing by
	 * a layout recall that waits for the attempts in flight to finish.
	 */
	struct rw_semaphore fault_sem;
	/*
	 * recalls counts the layout recalls between their start and the
	 * lease's return (their write-back and commit done); recall_wq wakes
	 * the faults that wait for them to end, holding no lock.
	 */
	atomic_t recalls;
	wait_queue_head_t recall_wq;
	/*
	 * arrays_lock protects arrays: kept between faults for the next one
	 * (allocating and zeroing ~100 KiB per 4 MiB fault showed in traces);
	 * only ever trylocked -- a fault that finds it taken allocates its own.
	 */
	struct mutex arrays_lock;
	struct p2pmap_fault_arrays arrays;

	/*
	 * Where the last read fault of a file ended, for staging ahead: a
	 * hint, read and written without a lock (a lost update costs one
	 * staging ahead, or one too many); ahead_inode is compared, never
	 * dereferenced.
	 */
	const struct inode *ahead_inode;
	pgoff_t ahead_next;
	pgoff_t ahead_end;	/* staging ahead was asked for up to here */

	/* map_blocks or a commit of ours is invalidating the page cache */
	atomic_t self_inval;
	/* moves when an event may have freed blocks: write layouts map again */
	atomic_t maps_gen;
	struct work_struct commit_work;
};

static atomic64_t p2pmap_held_ids = ATOMIC64_INIT(0);

static void p2pmap_held_put_chunk(struct p2pmap_held *held)
{
	struct p2pmap_chunk *chunk = held->chunk;

	if (chunk) {
		if (held->stale && !held->wl && chunk->provider->ops->forget)
			chunk->provider->ops->forget(chunk);
		p2pmap_chunk_put(chunk);
	}
	if (held->wl)
		atomic_dec(&held->wl->nr_held);
	if (held->file)
		fput(held->file);	/* pairs with get_file() in p2pmap_fault_stage() */
	kfree(held);
}

/*
 * Have @provider (from p2pmap_provider_find(); NULL: none) write back what
 * was put for @bdev, and drop the reference. Returns 0 or its error.
 */
static int p2pmap_provider_sync_put(struct p2pmap_provider *provider,
				    struct block_device *bdev)
{
	int ret = 0;

	if (provider && provider->ops->sync)
		ret = provider->ops->sync(provider, bdev);
	p2pmap_provider_put(provider);
	return ret;
}

/*
 * A range of @wl's file was written back, or put to @unsynced's provider
 * without a sync: commit it (times, page cache).
 */
static void p2pmap_wlayout_written(struct p2pmap_wlayout *wl, loff_t lo,
				   loff_t hi, struct block_device *unsynced)
{
	spin_lock(&wl->commit_lock);
	if (unsynced)
		wl->commit_bdev = unsynced;
	if (!wl->commit_pending) {
		wl->commit_lo = lo;
		wl->commit_hi = hi;
	} else {
		wl->commit_lo = min(wl->commit_lo, lo);
		wl->commit_hi = max(wl->commit_hi, hi);
	}
	wl->commit_pending = true;
	spin_unlock(&wl->commit_lock);
}

/*
 * Put a write chunk and have what the device wrote reach the blocks. With
 * @sync the provider writes back now (the caller's context may sleep on
 * I/O); without it the provider does when it reuses the memory (eviction,
 * unload: it is taking the chunk back). The page cache of the range may
 * hold what the blocks held before: clean pages nobody maps are dropped
 * here, the rest when the range is committed (commit_work). Returns 0, or
 * -EIO when the data did not reach the blocks (failed or lost).
 */
static int p2pmap_held_writeback(struct p2pmap_held *held, bool sync)
{
	struct p2pmap_mirror *mirror = held->mirror;
	struct p2pmap_chunk *chunk = held->chunk;
	u64 bytes = (u64)held->npages << PAGE_SHIFT;
	loff_t lo = (loff_t)held->pgoff << PAGE_SHIFT;
	struct p2pmap_provider *provider = NULL;
	struct block_device *bdev;
	bool lost = held->cause == P2PMAP_REVOKE_PROVIDER_GONE;
	int ret = 0;

	if (!chunk)
		goto out_free;
	bdev = chunk->bdev;
	if (sync && !lost)
		provider = p2pmap_provider_find(bdev);	/* pairs with _put() below */
	held->chunk = NULL;
	p2pmap_chunk_put(chunk);	/* marks the device's range dirty */
	ret = p2pmap_provider_sync_put(provider, bdev);
	/* a failed write-back stays dirty in the provider, which counts it */
	p2pmap_stats_written_back(mirror->importer, held->cause, bytes,
				  lost || ret);
	invalidate_mapping_pages(held->file->f_mapping, held->pgoff,
				 held->pgoff + held->npages - 1);
	p2pmap_wlayout_written(held->wl, lo, lo + bytes,
			       sync || lost ? NULL : bdev);
	queue_work(system_unbound_wq, &mirror->commit_work);
out_free:
	p2pmap_held_put_chunk(held);
	return lost || ret ? -EIO : 0;
}

/* Write back and free the write chunks on @list: 0, or -EIO for a failure. */
static int p2pmap_writeback_list(struct list_head *list, bool sync)
{
	struct p2pmap_held *held, *next;
	int ret = 0;

	list_for_each_entry_safe(held, next, list, node) {
		list_del(&held->node);
		if (p2pmap_held_writeback(held, sync))
			ret = -EIO;
	}
	return ret;
}

static void p2pmap_mirror_release_work(struct work_struct *work)
{
	struct p2pmap_mirror *mirror =
		container_of(work, struct p2pmap_mirror, release_work);
	struct p2pmap_held *held, *next;
	LIST_HEAD(list);

	spin_lock(&mirror->release_lock);
	list_for_each_entry(held, &mirror->release, node)
		held->on_release = false;
	list_splice_init(&mirror->release, &list);
	spin_unlock(&mirror->release_lock);

	list_for_each_entry_safe(held, next, &list, node) {
		list_del(&held->node);
		if (held->wl)
			p2pmap_held_writeback(held, true);
		else
			p2pmap_held_put_chunk(held);
	}
}

/*
 * Forget what the device had for pages [first, first + n): undo DMA
 * mappings and queue chunk references whose last page went: write chunks
 * on @wb when the caller writes them back itself once it has unlocked,
 * everything else for the release work. Does not sleep.
 */
static void p2pmap_mirror_release_locked(struct p2pmap_mirror *mirror,
					 unsigned long first, unsigned long n,
					 bool revoked, bool stale,
					 enum p2pmap_revoke_cause cause,
					 struct list_head *wb)
{
	struct device *dev = p2pmap_importer_device(mirror->importer);
	bool queue = false;
	unsigned long i;

	lockdep_assert_held(&mirror->lock);
	for (i = first; i < first + n; i++) {
		struct p2pmap_entry *e = &mirror->entries[i];
		struct p2pmap_held *held = e->held;

		if (!e->addr && !e->held)
			continue;
		if (e->dma_mapped)
			dma_unmap_page(dev, e->addr, PAGE_SIZE,
				       e->dma_write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE);
		if (held && stale)
			held->stale = true;
		if (held && !--held->live) {
			held->cause = cause;
			if (held->wl && wb) {
				list_move_tail(&held->node, wb);
			} else {
				spin_lock(&mirror->release_lock);
				list_move_tail(&held->node, &mirror->release);
				held->on_release = true;
				spin_unlock(&mirror->release_lock);
				/* the revoke callback puts its own chunk at once */
				if (held != mirror->revoking || held->wl ||
				    held->stale)
					queue = true;
			}
		}
		memset(e, 0, sizeof(*e));
		e->revoked = revoked;
	}
	if (queue)
		queue_work(system_unbound_wq, &mirror->release_work);
}

/*
 * Whether the file's blocks may have changed under an event: truncate, hole
 * punch and page-cache invalidation (O_DIRECT writes) clear the range; an
 * munmap, an mremap or an exit only take the mapping away.
 */
static bool p2pmap_event_changes_blocks(const struct mmu_notifier_range *range)
{
	return range->event != MMU_NOTIFY_UNMAP &&
	       range->event != MMU_NOTIFY_RELEASE;
}

static enum p2pmap_revoke_cause
p2pmap_event_cause(const struct mmu_notifier_range *range)
{
	switch (range->event) {
	case MMU_NOTIFY_UNMAP:
	case MMU_NOTIFY_CLEAR:
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
		return P2PMAP_REVOKE_UNMAP;
	case MMU_NOTIFY_RELEASE:
		return P2PMAP_REVOKE_RELEASE;
	default:
		return P2PMAP_REVOKE_OTHER;
	}
}

/* Whether page @i of the mirror is a P2P page the device may write. */
static bool p2pmap_entry_writes_p2p(const struct p2pmap_mirror *mirror,
				    unsigned long i)
{
	const struct p2pmap_held *held = mirror->entries[i].held;

	return held && held->wl;
}

/* Take back [first, first + n) of the mirror, all of it, for @cause. */
static unsigned long p2pmap_mirror_revoke_run_locked(struct p2pmap_mirror *mirror,
						     unsigned long first,
						     unsigned long n,
						     enum p2pmap_revoke_cause cause,
						     bool stale,
						     struct list_head *wb)
{
	unsigned long i, mapped = 0;

	lockdep_assert_held(&mirror->lock);
	for (i = first; i < first + n; i++)
		if (mirror->entries[i].addr)
			mapped++;
	if (!mapped)
		return 0;

	mirror->importer->ops->invalidate(mirror,
					  mirror->start + (first << PAGE_SHIFT),
					  mirror->start + ((first + n) << PAGE_SHIFT),
					  cause);
	p2pmap_mirror_release_locked(mirror, first, n, true, stale, cause, wb);
	p2pmap_stats_revoke(mirror->importer, cause, mapped);
	return mapped;
}

/*
 * Take back [first, first + n) of the mirror for @cause; with @keep_writes
 * the P2P write pages stay (an event that does not touch their blocks).
 * Write chunks whose last page went are put on @wb (or, when @wb is NULL,
 * written back by the release work).
 */
static unsigned long p2pmap_mirror_revoke_locked(struct p2pmap_mirror *mirror,
						 unsigned long first,
						 unsigned long n,
						 enum p2pmap_revoke_cause cause,
						 bool stale, bool keep_writes,
						 struct list_head *wb)
{
	unsigned long i, run, revoked = 0;

	lockdep_assert_held(&mirror->lock);
	if (!keep_writes)
		return p2pmap_mirror_revoke_run_locked(mirror, first, n, cause,
						       stale, wb);
	for (i = first; i < first + n; i += run) {
		bool keep = p2pmap_entry_writes_p2p(mirror, i);

		for (run = 1; i + run < first + n &&
		     p2pmap_entry_writes_p2p(mirror, i + run) == keep; run++)
			;
		if (!keep)
			revoked += p2pmap_mirror_revoke_run_locked(mirror, i, run,
								   cause, stale,
								   wb);
	}
	return revoked;
}

static bool p2pmap_mirror_invalidate(struct mmu_interval_notifier *notifier,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct p2pmap_mirror *mirror =
		container_of(notifier, struct p2pmap_mirror, notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	unsigned long start, end, first = 0, n = 0, i;
	bool keep_writes;
	LIST_HEAD(wb);

	if (blockable)
		mutex_lock(&mirror->lock);
	else if (!mutex_trylock(&mirror->lock))
		return false;

	start = max(range->start, mirror->start);
	end = min(range->end, mirror->start + (mirror->npages << PAGE_SHIFT));
	if (start < end) {
		first = (start - mirror->start) >> PAGE_SHIFT;
		n = (end - start) >> PAGE_SHIFT;
	}

	/*
	 * What a device wrote into P2P pages is written back when they go,
	 * which means I/O: not from a notifier that cannot block (the OOM
	 * reaper retries later).
	 */
	if (!blockable) {
		for (i = first; i < first + n; i++) {
			if (p2pmap_entry_writes_p2p(mirror, i)) {
				mutex_unlock(&mirror->lock);
				return false;
			}
		}
	}

	mmu_interval_set_seq(notifier, cur_seq);

	/*
	 * Write-protecting a page (writeback's page_mkclean(), or our own
	 * range flush before handing blocks out) changes nothing a reading
	 * device sees: the page and the blocks stay where they are. Only
	 * writable page-cache mappings must go. The sequence still moves, so
	 * a fault racing with it starts again, as the protocol requires.
	 */
	if (range->event == MMU_NOTIFY_PROTECTION_PAGE && !mirror->nr_writable)
		goto out_unlock;

	/*
	 * P2P write pages stay when the event cannot touch their blocks:
	 * page reclaim, or the page-cache invalidation of our own
	 * map_blocks/commit (XFS: the layout lease, not this notifier,
	 * protects the blocks there).
	 */
	keep_writes = range->event == MMU_NOTIFY_CLEAR &&
		      ((current->flags & PF_MEMALLOC) ||
		       atomic_read(&mirror->self_inval));
	/*
	 * Truncate and hole punch may free blocks a write layout described
	 * (ext4 recalls no layout): map them again before the next use.
	 */
	if (n && !keep_writes && range->event == MMU_NOTIFY_CLEAR)
		atomic_inc(&mirror->maps_gen);
	/*
	 * A write chunk goes as a whole: what the device wrote into all of it
	 * is written back now, before truncate or punch free blocks under part
	 * of it (a later write-back of the rest would write the whole chunk,
	 * over blocks that may belong to another file by then).
	 */
	for (i = first; !keep_writes && i < first + n; i++) {
		struct p2pmap_held *held = mirror->entries[i].held;

		if (held && held->wl && held->live)
			p2pmap_mirror_revoke_run_locked(mirror, held->first,
							held->npages,
							p2pmap_event_cause(range),
							false, &wb);
	}
	if (n)
		p2pmap_mirror_revoke_locked(mirror, first, n,
					    p2pmap_event_cause(range),
					    p2pmap_event_changes_blocks(range),
					    keep_writes, &wb);
out_unlock:
	mutex_unlock(&mirror->lock);
	/*
	 * Before the event goes on: truncate and hole punch free the blocks
	 * after this returns (ext4 breaks no layout), munmap and exit expect
	 * the data in the file. Bios only: no file-system lock is taken here,
	 * and no allocation may enter reclaim, which invalidates through
	 * notifiers like this one (lockdep: mmu_notifier_invalidate_range_start
	 * -> fs_reclaim): the write-back's few small allocations (bios, from
	 * their mempool first) do not reclaim.
	 */
	if (!list_empty(&wb)) {
		unsigned int noreclaim = memalloc_noreclaim_save();

		p2pmap_writeback_list(&wb, true);
		memalloc_noreclaim_restore(noreclaim);
	}
	return true;
}

static const struct mmu_interval_notifier_ops p2pmap_mirror_notifier_ops = {
	.invalidate = p2pmap_mirror_invalidate,
};

/*
 * Take back the pages of the mirror that @held backs, and only those: a
 * later fault may have published other chunks over part of its range (a
 * write job over pages a read job staged), and their cause is not @held's.
 */
static void p2pmap_mirror_revoke_held_locked(struct p2pmap_mirror *mirror,
					     struct p2pmap_held *held,
					     enum p2pmap_revoke_cause cause,
					     struct list_head *wb)
{
	unsigned long i, run, end = held->first + held->npages;

	lockdep_assert_held(&mirror->lock);
	for (i = held->first; i < end; i += run) {
		bool ours = mirror->entries[i].held == held;

		for (run = 1; i + run < end &&
		     (mirror->entries[i + run].held == held) == ours; run++)
			;
		if (ours)
			p2pmap_mirror_revoke_run_locked(mirror, i, run, cause,
							false, wb);
	}
}

/*
 * The provider takes a chunk back (eviction, reset, removal): revoke the
 * pages using it, then drop the reference.
 */
static void p2pmap_mirror_chunk_revoke(struct p2pmap_chunk *chunk, void *priv,
				       enum p2pmap_revoke_cause cause)
{
	struct p2pmap_held *held = priv;
	struct p2pmap_mirror *mirror = held->mirror;
	struct p2pmap_held *mine = NULL;
	struct p2pmap_chunk *put = NULL;
	LIST_HEAD(wb);

	mutex_lock(&mirror->lock);
	if (held->published) {
		/* the pages go; the last one queues the put (if not queued yet) */
		if (held->live) {
			mirror->revoking = held;
			p2pmap_mirror_revoke_held_locked(mirror, held, cause,
							 &wb);
			mirror->revoking = NULL;
		}
		/*
		 * A read chunk the release work has not taken yet is put here,
		 * now: the provider is waiting for the space (a stager
		 * evicting), and a workqueue hop would make it wait longer.
		 * A stale one goes through the work (forget revokes others).
		 */
		spin_lock(&mirror->release_lock);
		if (held->on_release && !held->wl && !held->stale) {
			held->on_release = false;
			list_del(&held->node);
			mine = held;
		}
		spin_unlock(&mirror->release_lock);
	} else {
		/* still being staged or published: the fault starts again */
		held->revoked = true;
		put = held->chunk;
		held->chunk = NULL;
	}
	/* what is on @wb points at the mirror: destroy waits for it */
	if (!list_empty(&wb))
		atomic_inc(&mirror->revoke_wb);
	mutex_unlock(&mirror->lock);
	if (put)
		p2pmap_chunk_put(put);
	if (mine)
		p2pmap_held_put_chunk(mine);	/* the revoker's own put: no wait */
	/*
	 * The provider is taking the memory back: it writes the dirty range
	 * back itself before reusing it (eviction, unload), or it cannot
	 * (reset, removal: counted lost). A write behind the cache
	 * (COHERENCY) made the blocks newer than the device's data.
	 */
	if (cause == P2PMAP_REVOKE_COHERENCY) {
		struct p2pmap_held *h;

		list_for_each_entry(h, &wb, node)
			h->cause = P2PMAP_REVOKE_PROVIDER_GONE;	/* counted lost */
	}
	if (list_empty(&wb))
		return;
	p2pmap_writeback_list(&wb, false);
	/* the mirror may be freed as soon as this reaches zero */
	if (atomic_dec_and_test(&mirror->revoke_wb))
		wake_up_var(&mirror->revoke_wb);
}

/* ---- write layouts: commit, recall, release ---- */

/*
 * Commit what was written back: times, and the page cache of the ranges
 * (it may hold what the blocks held before). Takes file-system locks:
 * never from a notifier, never under mmap_lock.
 */
static void p2pmap_mirror_commit(struct p2pmap_mirror *mirror)
{
	struct p2pmap_wlayout *wl;

	mutex_lock(&mirror->layout_lock);
	list_for_each_entry(wl, &mirror->wlayouts, node) {
		struct inode *inode = file_inode(wl->file);
		struct block_device *unsynced;
		const struct p2pmap_vm_ops *ops;
		loff_t lo, hi;
		bool pending;
		int ret = 0;

		spin_lock(&wl->commit_lock);
		pending = wl->commit_pending;
		lo = wl->commit_lo;
		hi = wl->commit_hi;
		unsynced = wl->commit_bdev;
		wl->commit_pending = false;
		wl->commit_bdev = NULL;
		spin_unlock(&wl->commit_lock);
		if (!pending)
			continue;

		/*
		 * A revoke callback put part of the range without a sync: the
		 * extent is written back at its last put, which may be another
		 * owner's, later. Dropping the page cache before that let a
		 * read cache the old blocks, and keep them. A failure leaves
		 * the data dirty in the provider, which counts it.
		 */
		if (unsynced) {
			int err = p2pmap_provider_sync_put(p2pmap_provider_find(unsynced),
							   unsynced);

			if (err)
				pr_warn_ratelimited("%s[%d]: writing back device writes to %pD failed: %d\n",
						    current->comm,
						    task_pid_nr(current),
						    wl->file, err);
		}

		/*
		 * Write pages the device got again since are revoked by this
		 * (and written back): the page cache must not stay stale.
		 */
		invalidate_inode_pages2_range(wl->file->f_mapping,
					      lo >> PAGE_SHIFT,
					      (hi - 1) >> PAGE_SHIFT);
		ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
		if (ops && ops->commit_blocks)
			ret = ops->commit_blocks(wl->file, NULL, 0, -1);
		p2pmap_vm_ops_put(ops);
		if (ret)
			pr_warn_ratelimited("%s[%d]: committing device writes to %pD failed: %d\n",
					    current->comm, task_pid_nr(current),
					    wl->file, ret);
	}
	mutex_unlock(&mirror->layout_lock);
}

static void p2pmap_mirror_commit_work(struct work_struct *work)
{
	p2pmap_mirror_commit(container_of(work, struct p2pmap_mirror,
					  commit_work));
}

/* Free a write layout nobody uses: give its lease back. */
static void p2pmap_wlayout_free(struct p2pmap_wlayout *wl)
{
	struct p2pmap_lease *lease;

	mutex_lock(&wl->mirror->layout_lock);
	lease = wl->lease;
	wl->lease = NULL;
	mutex_unlock(&wl->mirror->layout_lock);
	p2pmap_lease_put(lease);	/* waits for a running recall */
	WARN_ON_ONCE(atomic_read(&wl->nr_held));
	fput(wl->file);		/* pairs with get_file() in p2pmap_wlayout_find_locked() */
	kfree(wl->maps);
	kfree(wl);
}

/*
 * Drop the write layouts the file systems recalled and nobody uses any
 * more: the next write fault takes a new lease.
 */
static void p2pmap_mirror_prune_layouts(struct p2pmap_mirror *mirror)
{
	struct p2pmap_wlayout *wl, *next;
	LIST_HEAD(dead);

	mutex_lock(&mirror->layout_lock);
	mutex_lock(&mirror->lock);
	list_for_each_entry_safe(wl, next, &mirror->wlayouts, node) {
		unsigned int i, kept = 0;

		if (wl->recalled && !wl->lease && !atomic_read(&wl->nr_held)) {
			list_move_tail(&wl->node, &dead);
			continue;
		}
		/* refusals are asked again: a hole may have been written */
		for (i = 0; i < wl->nr_maps; i++)
			if (wl->maps[i].type == P2PMAP_BLOCKS_MAPPED)
				wl->maps[kept++] = wl->maps[i];
		wl->nr_maps = kept;
	}
	mutex_unlock(&mirror->lock);
	mutex_unlock(&mirror->layout_lock);

	list_for_each_entry_safe(wl, next, &dead, node) {
		list_del(&wl->node);
		p2pmap_wlayout_free(wl);
	}
}

/*
 * The file system recalls a write layout (XFS: truncate, punch, fallocate,
 * reflink, a write(2) or O_DIRECT write to the file). From the lease's
 * workqueue, without locks; the breaker waits until the lease is put.
 * Device writes through the layout stop, what they wrote reaches the
 * blocks and is committed, and only then is the lease given back. Until
 * the next coherency point the mirror's device writes to the file go
 * through the page cache (reason "recalled").
 */
static void p2pmap_wlayout_recall(struct p2pmap_lease *lease, void *priv)
{
	struct p2pmap_wlayout *wl = priv;
	struct p2pmap_mirror *mirror = wl->mirror;
	unsigned long i, run;
	LIST_HEAD(wb);

	/* before the flag: a fault that sees it sees the recall running */
	atomic_inc(&mirror->recalls);
	mutex_lock(&mirror->lock);
	wl->recalled = true;
	mutex_unlock(&mirror->lock);
	/* the fault attempts in flight see the flag, or finish first */
	down_write(&mirror->fault_sem);
	up_write(&mirror->fault_sem);

	mutex_lock(&mirror->lock);
	for (i = 0; i < mirror->npages; i += run) {
		struct p2pmap_held *held = mirror->entries[i].held;
		bool ours = held && held->wl == wl;

		for (run = 1; i + run < mirror->npages; run++) {
			struct p2pmap_held *h = mirror->entries[i + run].held;

			if ((h && h->wl == wl) != ours)
				break;
		}
		if (ours)
			p2pmap_mirror_revoke_run_locked(mirror, i, run,
							P2PMAP_REVOKE_LAYOUT,
							false, &wb);
	}
	mutex_unlock(&mirror->lock);

	p2pmap_writeback_list(&wb, true);
	flush_work(&mirror->release_work);
	/* a commit_work that took the range may still be invalidating it */
	flush_work(&mirror->commit_work);
	p2pmap_mirror_commit(mirror);
	p2pmap_stats_layout_recalled(mirror->importer);

	mutex_lock(&mirror->layout_lock);
	lease = wl->lease;
	wl->lease = NULL;
	wl->nr_maps = 0;
	mutex_unlock(&mirror->layout_lock);
	p2pmap_lease_put(lease);	/* the breaker goes on */
	/* the waiting faults may read the blocks now */
	if (atomic_dec_and_test(&mirror->recalls))
		wake_up_all(&mirror->recall_wq);
}

/* ---- resolving a range ---- */

/*
 * struct p2pmap_segment - a run of the faulting range with one VMA
 * @first: first page (index into the mirror).
 * @n: pages.
 * @file: the file to ask for blocks (referenced), or NULL.
 * @pgoff: file page of @first.
 * @reason: the fallback reason when @file is NULL.
 * @vma_pgoff: file page of the first page of the VMA inside the mirror.
 * @vma_npages: pages of the VMA inside the mirror (write layouts map them
 *	all at once: map_blocks invalidates the page cache on every call).
 */
struct p2pmap_segment {
	unsigned long first;
	unsigned long n;
	struct file *file;
	pgoff_t pgoff;
	enum p2pmap_reason reason;
	pgoff_t vma_pgoff;
	unsigned long vma_npages;
};

/*
 * Pages a mirror's fault arrays are made for when it is created (larger
 * faults grow them): a dummy GPU job piece; a mirror's first fault then
 * allocates nothing.
 */
#define P2PMAP_FAULT_ARRAYS_PAGES	1024

/* attempts a fault makes before it may give up with -EBUSY */
#define P2PMAP_FAULT_MIN_TRIES	8

struct p2pmap_fault {
	struct p2pmap_mirror *mirror;
	unsigned long first;		/* first page of the fault */
	unsigned long npages;
	unsigned int flags;
	struct p2pmap_page *pages;	/* the answer, per page */
	unsigned long *pfns;		/* hmm_range_fault() scratch */
	unsigned long *dma_mapped;	/* pages[i].addr is a DMA mapping */
	struct p2pmap_segment *segs;
	unsigned int nsegs;
	struct list_head held;		/* chunks staged by this attempt */
	struct p2pmap_fault_arrays own;	/* when the mirror's are in use */
	bool cached;			/* the arrays are the mirror's */
	bool wait_recalls;		/* the next attempt waits for recalls */
	/* the next attempt waits for p2pmap's leases on it (referenced) */
	struct inode *wait_lease;
	bool lease_waited;		/* and then takes no new write layout */
};

static void p2pmap_fault_arrays_free(struct p2pmap_fault_arrays *a)
{
	bitmap_free(a->dma_mapped);
	kvfree(a->segs);
	kvfree(a->pfns);
	kvfree(a->pages);
	memset(a, 0, sizeof(*a));
}

static int p2pmap_fault_arrays_alloc(struct p2pmap_fault_arrays *a,
				     unsigned long n)
{
	a->pages = kvcalloc(n, sizeof(*a->pages), GFP_KERNEL);
	a->pfns = kvcalloc(n, sizeof(*a->pfns), GFP_KERNEL);
	a->segs = kvcalloc(n, sizeof(*a->segs), GFP_KERNEL);
	a->dma_mapped = bitmap_zalloc(n, GFP_KERNEL);
	if (!a->pages || !a->pfns || !a->segs || !a->dma_mapped) {
		p2pmap_fault_arrays_free(a);
		return -ENOMEM;
	}
	a->cap = n;
	return 0;
}

/*
 * Give @f its arrays: the mirror's when no other fault uses them (grown if
 * too small; the answer and the DMA bitmap zeroed, the rest is written
 * before it is read), else its own. Undone by p2pmap_fault_put_arrays().
 */
static int p2pmap_fault_get_arrays(struct p2pmap_fault *f)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct p2pmap_fault_arrays *a = &f->own;

	if (mutex_trylock(&mirror->arrays_lock)) {
		a = &mirror->arrays;
		if (a->cap < f->npages) {
			p2pmap_fault_arrays_free(a);
			if (p2pmap_fault_arrays_alloc(a, f->npages)) {
				mutex_unlock(&mirror->arrays_lock);
				return -ENOMEM;
			}
		} else {
			memset(a->pages, 0, f->npages * sizeof(*a->pages));
			bitmap_zero(a->dma_mapped, f->npages);
		}
		f->cached = true;
	} else if (p2pmap_fault_arrays_alloc(a, f->npages)) {
		return -ENOMEM;
	}
	f->pages = a->pages;
	f->pfns = a->pfns;
	f->segs = a->segs;
	f->dma_mapped = a->dma_mapped;
	return 0;
}

static void p2pmap_fault_put_arrays(struct p2pmap_fault *f)
{
	if (f->cached) {
		lockdep_assert_held(&f->mirror->arrays_lock);
		mutex_unlock(&f->mirror->arrays_lock);
		return;
	}
	p2pmap_fault_arrays_free(&f->own);
}

static void p2pmap_fault_put_files(struct p2pmap_fault *f)
{
	unsigned int i;

	for (i = 0; i < f->nsegs; i++)
		if (f->segs[i].file)
			fput(f->segs[i].file);
	f->nsegs = 0;
}

/*
 * Split the fault by VMA, with mmap_lock held for reading only while the
 * VMAs are looked at. Files are taken with a reference; everything else is
 * decided here.
 */
static int p2pmap_fault_segments(struct p2pmap_fault *f, struct mm_struct *mm)
{
	struct p2pmap_mirror *mirror = f->mirror;
	unsigned long addr = mirror->start + (f->first << PAGE_SHIFT);
	unsigned long end = addr + (f->npages << PAGE_SHIFT);
	const struct p2pmap_vm_ops *ops;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < end) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		struct p2pmap_segment *seg = &f->segs[f->nsegs];
		unsigned long seg_end;

		if (!vma) {
			ret = -EFAULT;
			break;
		}
		/* the device gets no more than the CPU: P2P pages skip hmm */
		if (!(vma->vm_flags & VM_READ)) {
			ret = -EFAULT;
			break;
		}
		if ((f->flags & P2PMAP_FAULT_WRITE) && !(vma->vm_flags & VM_WRITE)) {
			ret = -EPERM;
			break;
		}
		seg_end = min(end, vma->vm_end);
		seg->first = (addr - mirror->start) >> PAGE_SHIFT;
		seg->n = (seg_end - addr) >> PAGE_SHIFT;
		seg->file = NULL;
		seg->reason = P2PMAP_REASON_NONE;

		if (!vma->vm_file || vma_is_anonymous(vma)) {
			seg->reason = P2PMAP_REASON_ANONYMOUS;
		} else if (!(vma->vm_flags & VM_MAYSHARE)) {
			/*
			 * MAP_PRIVATE. (A MAP_SHARED mapping of a file opened
			 * read-only keeps VM_MAYSHARE but not VM_SHARED: its
			 * pages are the file's all the same.)
			 */
			seg->reason = P2PMAP_REASON_PRIVATE;
		} else if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) {
			seg->reason = P2PMAP_REASON_UNSUPPORTED_FS;
		} else {
			struct inode *inode = file_inode(vma->vm_file);

			ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
			if (!ops) {
				seg->reason = P2PMAP_REASON_UNSUPPORTED_FS;
			} else {
				p2pmap_vm_ops_put(ops);
				unsigned long lo = max(vma->vm_start,
						       mirror->start);
				unsigned long hi = min(vma->vm_end,
						       mirror->start +
						       (mirror->npages << PAGE_SHIFT));

				/* pairs with fput() in p2pmap_fault_put_files() */
				seg->file = get_file(vma->vm_file);
				seg->pgoff = vma->vm_pgoff +
					     ((addr - vma->vm_start) >> PAGE_SHIFT);
				seg->vma_pgoff = vma->vm_pgoff +
						 ((lo - vma->vm_start) >> PAGE_SHIFT);
				seg->vma_npages = (hi - lo) >> PAGE_SHIFT;
			}
		}
		f->nsegs++;
		addr = seg_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

static void p2pmap_fault_fallback(struct p2pmap_fault *f, unsigned long first,
				  unsigned long n, enum p2pmap_reason reason)
{
	unsigned long i;

	for (i = first; i < first + n; i++) {
		struct p2pmap_page *p = &f->pages[i - f->first];

		p->path = P2PMAP_PATH_PAGECACHE;
		p->reason = reason;
	}
}

/*
 * A P2P extent is staged in requests of at most this many pages (a CMB's
 * eviction unit), and a fault keeps up to P2PMAP_STAGE_WINDOW requests in
 * flight together (one stage_batch()).
 */
#define P2PMAP_STAGE_MAX_PAGES	256
#define P2PMAP_STAGE_WINDOW	32

/*
 * The pages of the staging request that starts at page @pgoff of the file,
 * at most @n: requests end on multiples of P2PMAP_STAGE_MAX_PAGES of the
 * file, whatever the fault's own range, so that a fault's requests fall
 * inside those staged ahead of it (a provider's cache finds a range inside
 * a staged one, and refuses one that straddles a range still in flight).
 */
static unsigned long p2pmap_stage_piece(pgoff_t pgoff, unsigned long n)
{
	return min_t(unsigned long, n,
		     P2PMAP_STAGE_MAX_PAGES - pgoff % P2PMAP_STAGE_MAX_PAGES);
}

/*
 * struct p2pmap_stage_window - staging requests of one fault, submitted
 *	together
 * @provider: the provider of every request (referenced), or NULL.
 * @nr: requests queued.
 * @held: the chunk owner of each request (on p2pmap_fault.held).
 * @owners: each request's owner (its revoke cookie is its @held).
 * @reqs: the requests.
 */
struct p2pmap_stage_window {
	struct p2pmap_provider *provider;
	unsigned int nr;
	struct p2pmap_held *held[P2PMAP_STAGE_WINDOW];
	struct p2pmap_owner owners[P2PMAP_STAGE_WINDOW];
	struct p2pmap_stage_req reqs[P2PMAP_STAGE_WINDOW];
};

/*
 * The provider of @ext, referenced, when the importer reaches it; NULL
 * after falling pages [@first, @first + @n) back with the reason.
 */
static struct p2pmap_provider *p2pmap_fault_provider(struct p2pmap_fault *f,
						     unsigned long first,
						     unsigned long n,
						     const struct p2pmap_extent *ext)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct device *dev = p2pmap_importer_device(mirror->importer);
	struct p2pmap_provider *provider;
	char why[96];

	provider = p2pmap_provider_find(ext->bdev);
	if (!provider) {
		p2pmap_fault_fallback(f, first, n, P2PMAP_REASON_NO_CMB);
		return NULL;
	}
	if (provider->ops->reach(provider, dev, why, sizeof(why))) {
		p2pmap_stats_no_route(mirror->importer, provider, why);
		p2pmap_provider_put(provider);
		p2pmap_fault_fallback(f, first, n, P2PMAP_REASON_NO_ROUTE);
		return NULL;
	}
	return provider;
}

/*
 * The owner of the chunk that will hold pages [@first, @first + @n) of the
 * mirror (the blocks of @ext), on the attempt's list; NULL without memory.
 */
static struct p2pmap_held *p2pmap_fault_held(struct p2pmap_fault *f,
					     struct p2pmap_segment *seg,
					     unsigned long first,
					     unsigned long n,
					     const struct p2pmap_extent *ext,
					     u64 iversion,
					     struct p2pmap_wlayout *wl)
{
	struct p2pmap_held *held;

	held = kzalloc(sizeof(*held), GFP_KERNEL);
	if (!held)
		return NULL;
	held->mirror = f->mirror;
	held->first = first;
	held->npages = n;
	held->file = get_file(seg->file);	/* pairs with fput() when the chunk goes */
	held->pgoff = seg->pgoff + (first - seg->first);
	held->iversion = iversion;
	held->ext = *ext;
	held->ext.npages = n;
	held->id = atomic64_inc_return(&p2pmap_held_ids);
	if (wl) {
		held->wl = wl;
		atomic_inc(&wl->nr_held);	/* pairs with atomic_dec() at the put */
	}
	list_add_tail(&held->node, &f->held);
	return held;
}

/*
 * The provider answered @held's request with @chunk (or an ERR_PTR): fill
 * in the pages, or fall them back with the reason. Return 0, -EAGAIN when
 * the attempt must start again, or a hard error.
 */
static int p2pmap_fault_staged(struct p2pmap_fault *f, struct p2pmap_segment *seg,
			       const struct p2pmap_vm_ops *ops,
			       struct p2pmap_held *held, struct p2pmap_chunk *chunk)
{
	struct p2pmap_mirror *mirror = f->mirror;
	unsigned long first = held->first, n = held->npages, i;
	bool write = held->wl;
	bool revoked;
	int ret;

	if (IS_ERR_OR_NULL(chunk)) {
		int err = chunk ? PTR_ERR(chunk) : -EIO;

		list_del(&held->node);
		p2pmap_held_put_chunk(held);
		p2pmap_fault_fallback(f, first, n,
				      err == -ENOSPC ?
				      P2PMAP_REASON_CMB_EXHAUSTED :
				      P2PMAP_REASON_ERROR);
		return 0;
	}
	mutex_lock(&mirror->lock);
	revoked = held->revoked;
	if (!revoked)
		held->chunk = chunk;
	mutex_unlock(&mirror->lock);
	if (revoked) {
		/* taken back before we had it: the attempt retries */
		p2pmap_chunk_put(chunk);
		return 0;
	}
	/*
	 * Changes no notifier reports (online defragmentation, reflink of the
	 * file as a source) may have moved the blocks while they were staged:
	 * ask the file system before publishing. A write layout needs no such
	 * check: the file system recalls it before it moves the blocks (and
	 * our own commits move the change cookie).
	 */
	if (!write && ops->device_revalidate) {
		ret = ops->device_revalidate(seg->file, &held->ext);
		if (ret) {
			held->stale = true;	/* unwind forgets the chunk */
			return ret == -ESTALE ? -EAGAIN : ret;
		}
	}

	for (i = 0; i < n; i++) {
		struct p2pmap_page *p = &f->pages[first + i - f->first];

		p->addr = chunk->bus_addr + (i << PAGE_SHIFT);
		p->page = chunk->pages[i];
		p->path = P2PMAP_PATH_P2P;
		p->reason = P2PMAP_REASON_NONE;
		p->writable = write;
	}
	return 0;
}

/*
 * Stage the blocks of @ext (pages [@first, @first + @n) of the mirror) in a
 * provider that the importer reaches, and fill in the pages; otherwise fall
 * back with the reason. With @wl the device writes: the chunk is staged
 * for writing and belongs to the write layout. One request, waited for.
 * Return 0, -EAGAIN when the attempt must start again, or a hard error.
 */
static int p2pmap_fault_stage(struct p2pmap_fault *f, struct p2pmap_segment *seg,
			      const struct p2pmap_vm_ops *ops, unsigned long first,
			      unsigned long n, const struct p2pmap_extent *ext,
			      u64 iversion, struct p2pmap_wlayout *wl)
{
	struct p2pmap_provider *provider;
	struct p2pmap_held *held;
	struct p2pmap_chunk *chunk;
	struct p2pmap_owner owner;

	provider = p2pmap_fault_provider(f, first, n, ext);
	if (!provider)
		return 0;
	held = p2pmap_fault_held(f, seg, first, n, ext, iversion, wl);
	if (!held) {
		p2pmap_provider_put(provider);
		return -ENOMEM;
	}
	owner.revoke = p2pmap_mirror_chunk_revoke;
	owner.priv = held;
	chunk = provider->ops->stage(provider, ext->bdev, ext->sector, n,
				     wl ? P2PMAP_STAGE_WRITE : 0, &owner);
	p2pmap_provider_put(provider);
	return p2pmap_fault_staged(f, seg, ops, held, chunk);
}

static void p2pmap_stage_window_done(struct p2pmap_stage_batch *batch)
{
	complete(batch->priv);
}

/*
 * Stage the requests of @w with their reads in flight together (the
 * provider's stage_batch(), or stage() one by one without it), wait for
 * them all, and fill in the pages. Every request is finished, whatever
 * the result. Return 0, -EAGAIN when the attempt must start again, or a
 * hard error.
 */
static int p2pmap_stage_window_flush(struct p2pmap_fault *f,
				     struct p2pmap_segment *seg,
				     const struct p2pmap_vm_ops *ops,
				     struct p2pmap_stage_window *w)
{
	struct p2pmap_provider *provider = w->provider;
	struct p2pmap_chunk *chunk;
	unsigned int i;
	int ret = 0, err;

	if (!w->nr)
		return 0;
	if (provider->ops->stage_batch) {
		DECLARE_COMPLETION_ONSTACK(done);
		struct p2pmap_stage_batch batch = {
			.reqs = w->reqs,
			.nr_reqs = w->nr,
			.done = p2pmap_stage_window_done,
			.priv = &done,
		};

		err = provider->ops->stage_batch(provider, &batch);
		if (err) {
			/* refused as a whole: every request fails with it */
			for (i = 0; i < w->nr; i++) {
				w->reqs[i].chunk = NULL;
				w->reqs[i].error = err;
			}
		} else {
			wait_for_completion(&done);
		}
	} else {
		for (i = 0; i < w->nr; i++) {
			struct p2pmap_stage_req *req = &w->reqs[i];

			chunk = provider->ops->stage(provider, req->bdev,
						     req->sector, req->nr_pages,
						     0, req->owner);
			req->chunk = IS_ERR(chunk) ? NULL : chunk;
			req->error = IS_ERR(chunk) ? PTR_ERR(chunk) : 0;
		}
	}
	for (i = 0; i < w->nr; i++) {
		struct p2pmap_stage_req *req = &w->reqs[i];

		chunk = req->error ? ERR_PTR(req->error) : req->chunk;
		err = p2pmap_fault_staged(f, seg, ops, w->held[i], chunk);
		if (err && !ret)
			ret = err;
	}
	w->nr = 0;
	return ret;
}

/*
 * Queue the blocks of @ext (pages [@first, @first + @n) of the mirror) for
 * staging in @w, in requests of at most P2PMAP_STAGE_MAX_PAGES pages,
 * flushing @w when it is full or the provider changes; pages no reachable
 * provider serves fall back with the reason. Return 0, -EAGAIN when the
 * attempt must start again, or a hard error.
 */
static int p2pmap_stage_window_add(struct p2pmap_fault *f,
				   struct p2pmap_segment *seg,
				   const struct p2pmap_vm_ops *ops,
				   struct p2pmap_stage_window *w,
				   unsigned long first, unsigned long n,
				   const struct p2pmap_extent *ext, u64 iversion)
{
	struct p2pmap_provider *provider;
	unsigned long off, piece;
	int ret;

	provider = p2pmap_fault_provider(f, first, n, ext);
	if (!provider)
		return 0;
	if (w->provider != provider) {
		ret = p2pmap_stage_window_flush(f, seg, ops, w);
		if (w->provider)
			p2pmap_provider_put(w->provider);
		w->provider = provider;	/* put by the window's last user */
		if (ret)
			return ret;
	} else {
		p2pmap_provider_put(provider);	/* the window holds one */
	}

	for (off = 0; off < n; off += piece) {
		struct p2pmap_extent sub = *ext;
		struct p2pmap_stage_req *req;
		struct p2pmap_held *held;

		piece = p2pmap_stage_piece(ext->pgoff + off, n - off);
		if (w->nr == P2PMAP_STAGE_WINDOW) {
			ret = p2pmap_stage_window_flush(f, seg, ops, w);
			if (ret)
				return ret;
		}
		sub.pgoff = ext->pgoff + off;
		sub.sector = ext->sector +
			     ((sector_t)off << (PAGE_SHIFT - SECTOR_SHIFT));
		held = p2pmap_fault_held(f, seg, first + off, piece, &sub,
					 iversion, NULL);
		if (!held)
			return -ENOMEM;
		w->held[w->nr] = held;
		w->owners[w->nr].revoke = p2pmap_mirror_chunk_revoke;
		w->owners[w->nr].priv = held;
		req = &w->reqs[w->nr];
		memset(req, 0, sizeof(*req));
		req->bdev = sub.bdev;
		req->sector = sub.sector;
		req->nr_pages = piece;
		req->owner = &w->owners[w->nr];
		w->nr++;
	}
	return 0;
}

static void p2pmap_wlayout_recall(struct p2pmap_lease *lease, void *priv);

static const struct p2pmap_lease_ops p2pmap_wlayout_lease_ops = {
	.recall = p2pmap_wlayout_recall,
};

/*
 * The mirror's write layout on @file, created (unless @create is false:
 * NULL then) with a layout lease taken with the mirror creator's
 * credentials. Called with layout_lock held.
 */
static struct p2pmap_wlayout *p2pmap_wlayout_find_locked(struct p2pmap_mirror *mirror,
							 struct file *file,
							 bool create)
{
	struct p2pmap_wlayout *wl;
	const struct cred *old;
	struct p2pmap_lease *lease;

	lockdep_assert_held(&mirror->layout_lock);
	list_for_each_entry(wl, &mirror->wlayouts, node)
		if (wl->file == file)
			return wl;
	if (!create)
		return NULL;

	wl = kzalloc(sizeof(*wl), GFP_KERNEL);
	if (!wl)
		return ERR_PTR(-ENOMEM);
	wl->mirror = mirror;
	spin_lock_init(&wl->commit_lock);
	atomic_set(&wl->nr_held, 0);
	/*
	 * Who may hold a layout lease is a security decision: the task that
	 * created the mirror, as if it called F_SETLEASE (owner or CAP_LEASE),
	 * not the importer's worker thread (docs/design.md).
	 */
	old = override_creds(mirror->cred);
	lease = p2pmap_lease_get(file, &p2pmap_wlayout_lease_ops, wl);
	revert_creds(old);
	if (IS_ERR(lease)) {
		kfree(wl);
		return ERR_CAST(lease);
	}
	wl->lease = lease;
	wl->file = get_file(file);	/* pairs with fput() in p2pmap_wlayout_free() */
	list_add_tail(&wl->node, &mirror->wlayouts);
	return wl;
}

/* The map of @wl that covers byte @pos, or NULL. Called with layout_lock. */
static struct p2pmap_block_map *p2pmap_wlayout_lookup(struct p2pmap_wlayout *wl,
						      loff_t pos)
{
	unsigned int i;

	lockdep_assert_held(&wl->mirror->layout_lock);
	for (i = 0; i < wl->nr_maps; i++)
		if (pos >= wl->maps[i].offset &&
		    pos < wl->maps[i].offset + (loff_t)wl->maps[i].length)
			return &wl->maps[i];
	return NULL;
}

static int p2pmap_wlayout_add(struct p2pmap_wlayout *wl,
			      const struct p2pmap_block_map *map)
{
	lockdep_assert_held(&wl->mirror->layout_lock);
	if (wl->nr_maps == wl->max_maps) {
		unsigned int max = wl->max_maps ? 2 * wl->max_maps : 8;
		struct p2pmap_block_map *maps;

		maps = krealloc_array(wl->maps, max, sizeof(*maps), GFP_KERNEL);
		if (!maps)
			return -ENOMEM;
		wl->maps = maps;
		wl->max_maps = max;
	}
	wl->maps[wl->nr_maps++] = *map;
	return 0;
}

/*
 * An unwritten extent holds what its blocks held before: zero them on the
 * device, then commit, so that the extent is the file's (zeros) before a
 * device is given it. Whatever the device writes afterwards lands on
 * written blocks, and a crash leaves zeros or the device's data, never
 * someone's old bytes.
 */
static int p2pmap_wlayout_zero_commit(struct p2pmap_wlayout *wl,
				      const struct p2pmap_vm_ops *ops,
				      struct p2pmap_block_map *map)
{
	int ret;

	ret = blkdev_issue_zeroout(map->bdev, map->sector,
				   map->length >> SECTOR_SHIFT, GFP_KERNEL, 0);
	if (ret)
		return ret;
	ret = ops->commit_blocks(wl->file, map, 1, -1);
	if (ret)
		return ret;
	map->type = P2PMAP_BLOCKS_MAPPED;
	return 0;
}

/*
 * Make @wl's maps cover file pages [@pgoff, @pgoff + @n): map_blocks for
 * what is not covered yet, from the first uncovered page to the end of the
 * VMA's part of the mirror (one call covers as much as one extent). Return
 * 1 when maps were added (map_blocks invalidated the page cache: the
 * attempt starts again), 0 when everything was covered, or an errno.
 */
static int p2pmap_wlayout_cover(struct p2pmap_wlayout *wl,
				const struct p2pmap_vm_ops *ops,
				struct p2pmap_segment *seg, pgoff_t pgoff,
				unsigned long n, loff_t isize)
{
	struct p2pmap_mirror *mirror = wl->mirror;
	loff_t pos = (loff_t)pgoff << PAGE_SHIFT;
	loff_t end = (loff_t)(pgoff + n) << PAGE_SHIFT;
	loff_t limit = min_t(loff_t, round_up(isize, PAGE_SIZE),
			     (loff_t)(seg->vma_pgoff + seg->vma_npages) << PAGE_SHIFT);
	int added = 0, ret = 0;

	lockdep_assert_held(&mirror->layout_lock);
	if (wl->maps_gen != atomic_read(&mirror->maps_gen)) {
		wl->nr_maps = 0;
		wl->maps_gen = atomic_read(&mirror->maps_gen);
	}
	while (pos < end) {
		struct p2pmap_block_map *have = p2pmap_wlayout_lookup(wl, pos);
		struct p2pmap_block_map map;

		if (have) {
			pos = have->offset + have->length;
			continue;
		}
		atomic_inc(&mirror->self_inval);
		ret = ops->map_blocks(wl->file, pos, limit - pos,
				      P2PMAP_BLOCKS_WRITE, &map);
		if (!ret && map.type == P2PMAP_BLOCKS_UNWRITTEN)
			ret = p2pmap_wlayout_zero_commit(wl, ops, &map);
		atomic_dec(&mirror->self_inval);
		if (ret == -EOPNOTSUPP) {
			/* refused, with its reason: remembered, not asked again */
			map.offset = pos;
			if (!map.length || map.length > (u64)(limit - pos))
				map.length = limit - pos;
			map.type = P2PMAP_BLOCKS_HOLE;
			if (map.reason == P2PMAP_REASON_NONE)
				map.reason = P2PMAP_REASON_WRITE;
			ret = 0;
		} else if (ret == -EINVAL &&
			   pos >= i_size_read(file_inode(wl->file))) {
			/* truncated meanwhile (ext4): the next attempt says EFAULT */
			ret = -EAGAIN;
		} else if (!ret && (map.offset != pos || !map.length)) {
			ret = -EIO;
		}
		if (ret)
			break;
		ret = p2pmap_wlayout_add(wl, &map);
		if (ret)
			break;
		added = 1;
		pos = map.offset + map.length;
	}
	return ret ? ret : added;
}

/*
 * A write fault on a MAP_SHARED writable mapping of a file: blocks from the
 * write layout (map_blocks under a layout lease), staged for writing.
 */
static int p2pmap_fault_write(struct p2pmap_fault *f, struct p2pmap_segment *seg,
			      const struct p2pmap_vm_ops *ops)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct inode *inode = file_inode(seg->file);
	struct p2pmap_wlayout *wl;
	unsigned long done = 0;
	loff_t isize;
	bool recalled;
	int ret;

	if (!ops->map_blocks || !ops->commit_blocks) {
		p2pmap_fault_fallback(f, seg->first, seg->n, P2PMAP_REASON_WRITE);
		return 0;
	}
	/* no page past the end of the file: what hmm_range_fault() says */
	isize = i_size_read(inode);
	if (!isize || seg->pgoff + seg->n - 1 > (pgoff_t)((isize - 1) >> PAGE_SHIFT))
		return -EFAULT;

	mutex_lock(&mirror->layout_lock);
	/*
	 * After waiting for another holder's lease to be given back, the
	 * file system's breaker may still be on its way: it does not break a
	 * lease taken meanwhile, it waits for it to go (__break_lease()), and
	 * a new write layout here would hold the truncate until this mirror
	 * lets go. This attempt goes through the page cache instead, whose
	 * blocks now hold what the other holder wrote.
	 */
	wl = p2pmap_wlayout_find_locked(mirror, seg->file, !f->lease_waited);
	if (!wl) {
		mutex_unlock(&mirror->layout_lock);
		p2pmap_fault_fallback(f, seg->first, seg->n,
				      P2PMAP_REASON_RECALLED);
		return 0;
	}
	if (IS_ERR(wl)) {
		ret = PTR_ERR(wl);
		mutex_unlock(&mirror->layout_lock);
		switch (ret) {
		case -EAGAIN:
			/*
			 * Another holder's lease is being broken. When it is
			 * one of p2pmap's (another mirror's write layout, a
			 * /dev/p2pmap layout), its recall may be writing a
			 * device's data to the blocks now: a page-cache
			 * fallback would read the old blocks, as in the race
			 * of docs/semantics.md. The attempt starts again once
			 * it is given back. A foreign holder's break (knfsd)
			 * is not ours to wait for.
			 */
			if (p2pmap_lease_breaking(inode)) {
				ihold(inode);	/* pairs with iput() in the fault */
				f->wait_lease = inode;
				return -EAGAIN;
			}
			p2pmap_fault_fallback(f, seg->first, seg->n,
					      P2PMAP_REASON_RECALLED);
			return 0;
		case -EINVAL:		/* fs.leases-enable = 0 */
		case -EOPNOTSUPP:	/* a lease API p2pmap does not know */
			p2pmap_fault_fallback(f, seg->first, seg->n,
					      P2PMAP_REASON_WRITE);
			return 0;
		case -ENOMEM:
			return ret;
		default:
			/* -EACCES: neither the owner nor CAP_LEASE; or the LSM */
			p2pmap_stats_write_refused(mirror->importer, seg->file, ret);
			return ret;
		}
	}
	mutex_lock(&mirror->lock);
	recalled = wl->recalled;
	mutex_unlock(&mirror->lock);
	if (recalled) {
		/*
		 * Until the recall has given the lease back, what the device
		 * wrote is on its way to the blocks: a page-cache fallback now
		 * would read the old blocks, and a write fault would mark that
		 * old page dirty, to be written over the device's data later.
		 * The attempt starts again once the recall is over.
		 */
		ret = wl->lease ? -EAGAIN : 0;
		mutex_unlock(&mirror->layout_lock);
		if (ret) {
			f->wait_recalls = true;
			return ret;
		}
		p2pmap_fault_fallback(f, seg->first, seg->n, P2PMAP_REASON_RECALLED);
		return 0;
	}
	ret = p2pmap_wlayout_cover(wl, ops, seg, seg->pgoff, seg->n, isize);
	if (ret) {
		mutex_unlock(&mirror->layout_lock);
		return ret > 0 ? -EAGAIN : ret;
	}

	while (done < seg->n) {
		loff_t pos = (loff_t)(seg->pgoff + done) << PAGE_SHIFT;
		struct p2pmap_block_map *map = p2pmap_wlayout_lookup(wl, pos);
		unsigned long first = seg->first + done, n;
		struct p2pmap_extent ext = { };
		sector_t sector;

		if (WARN_ON_ONCE(!map)) {
			ret = -EIO;
			break;
		}
		n = min_t(u64, (map->offset + map->length - pos) >> PAGE_SHIFT,
			  seg->n - done);
		if (!n) {
			/* a block-sized map that does not cover a whole page */
			p2pmap_fault_fallback(f, first, 1, P2PMAP_REASON_NOT_ALIGNED);
			done++;
			continue;
		}
		done += n;
		if (map->type != P2PMAP_BLOCKS_MAPPED) {
			p2pmap_fault_fallback(f, first, n, map->reason);
			continue;
		}
		sector = map->sector + ((pos - map->offset) >> SECTOR_SHIFT);
		if ((get_start_sect(map->bdev) + sector) &
		    ((PAGE_SIZE >> SECTOR_SHIFT) - 1)) {
			p2pmap_fault_fallback(f, first, n, P2PMAP_REASON_NOT_ALIGNED);
			continue;
		}
		ext.pgoff = seg->pgoff + (first - seg->first);
		ext.npages = n;
		ext.bdev = map->bdev;
		ext.sector = sector;
		ext.reason = P2PMAP_REASON_NONE;
		ret = p2pmap_fault_stage(f, seg, ops, first, n, &ext,
					 inode_query_iversion(inode), wl);
		if (ret)
			break;
	}
	mutex_unlock(&mirror->layout_lock);
	return ret;
}

/*
 * Staging ahead of sequential read faults (docs/design.md, "Staging
 * ahead"): a read fault that goes on where the mirror's previous read fault
 * of the file ended, or that starts at the file's first page, has the range
 * that follows it (twice the fault's length, at most stage_ahead_kb; only
 * what was not asked for already) staged into the same provider by a
 * worker while it waits for its own blocks, which is what the page cache's
 * read-ahead does for read(2): a sequential reader then finds the next two
 * faults' blocks staged or on their way, and the controller is never idle
 * between faults. The worker
 * puts each chunk as soon as it is staged: the blocks stay in the
 * provider's cache, referenced by no one, for the next fault to find, and
 * are evicted as any unreferenced blocks are. Nothing is mapped for a
 * device, nothing is held, nothing falls back; the next fault looks up,
 * revalidates and publishes as it always does.
 */
static unsigned int stage_ahead_kb = 8192;
module_param(stage_ahead_kb, uint, 0644);
MODULE_PARM_DESC(stage_ahead_kb,
		 "KiB kept staged ahead of sequential read faults, at most twice a fault's size (0: off; default 8192)");

#define P2PMAP_AHEAD_MAX_REQS	32

static struct workqueue_struct *p2pmap_ahead_wq;

/*
 * struct p2pmap_ahead - one staging ahead, from the fault to the worker
 * @work: runs p2pmap_ahead_work().
 * @file: the file (referenced).
 * @ops: its file system's callbacks (referenced).
 * @provider: the provider the fault reached (referenced); blocks elsewhere
 *	are not staged ahead.
 * @pgoff: first page of the range.
 * @npages: its length.
 * @owner: the owner of the chunks between their staging and their put.
 * @reqs: the requests.
 */
struct p2pmap_ahead {
	struct work_struct work;
	struct file *file;
	const struct p2pmap_vm_ops *ops;
	struct p2pmap_provider *provider;
	pgoff_t pgoff;
	unsigned long npages;
	struct p2pmap_owner owner;
	struct p2pmap_stage_req reqs[P2PMAP_AHEAD_MAX_REQS];
};

static void p2pmap_ahead_revoke(struct p2pmap_chunk *chunk, void *priv,
				enum p2pmap_revoke_cause cause)
{
	/* nothing is mapped: the worker puts the chunk once it is answered */
}

static void p2pmap_ahead_work(struct work_struct *work)
{
	struct p2pmap_ahead *a = container_of(work, struct p2pmap_ahead, work);
	struct p2pmap_provider *provider = a->provider;
	unsigned long done = 0, n, off, piece;
	unsigned int nr = 0, i;

	/* P2PMAP_MAP_PROBE: no write-back, no page read for the lookup */
	while (done < a->npages && nr < P2PMAP_AHEAD_MAX_REQS) {
		struct p2pmap_extent ext;

		if (a->ops->device_map(a->file, a->pgoff + done,
				       a->npages - done, P2PMAP_MAP_PROBE, &ext))
			break;
		n = min_t(unsigned long, ext.npages, a->npages - done);
		if (!n)
			break;
		done += n;
		if (ext.reason != P2PMAP_REASON_NONE ||
		    !provider->ops->owns_bdev(provider, ext.bdev))
			continue;
		for (off = 0; off < n && nr < P2PMAP_AHEAD_MAX_REQS;
		     off += piece) {
			struct p2pmap_stage_req *req = &a->reqs[nr++];

			piece = p2pmap_stage_piece(ext.pgoff + off, n - off);
			req->bdev = ext.bdev;
			req->sector = ext.sector +
				((sector_t)off << (PAGE_SHIFT - SECTOR_SHIFT));
			req->nr_pages = piece;
			req->owner = &a->owner;
		}
	}
	if (nr) {
		DECLARE_COMPLETION_ONSTACK(staged);
		struct p2pmap_stage_batch batch = {
			.reqs = a->reqs,
			.nr_reqs = nr,
			.flags = P2PMAP_STAGE_AHEAD,
			.done = p2pmap_stage_window_done,
			.priv = &staged,
		};

		if (!provider->ops->stage_batch(provider, &batch)) {
			wait_for_completion(&staged);
			/* a request refused (in use over another range...) is left */
			for (i = 0; i < nr; i++) {
				if (a->reqs[i].error || !a->reqs[i].chunk)
					continue;
				p2pmap_chunk_put(a->reqs[i].chunk);
				atomic64_add(a->reqs[i].nr_pages,
					     &p2pmap_staged_ahead);
			}
		}
	}
	p2pmap_provider_put(provider);
	p2pmap_vm_ops_put(a->ops);
	fput(a->file);		/* pairs with get_file() in p2pmap_stage_ahead() */
	kfree(a);
}

/*
 * Queue the staging of the range after @seg when the mirror reads @seg's
 * file sequentially; @provider is the one the fault's own requests went to.
 */
static void p2pmap_stage_ahead(struct p2pmap_fault *f,
			       struct p2pmap_segment *seg,
			       struct p2pmap_provider *provider)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct inode *inode = file_inode(seg->file);
	unsigned long max = READ_ONCE(stage_ahead_kb) >> (PAGE_SHIFT - 10);
	pgoff_t next = seg->pgoff + seg->n, start = next, last, end;
	loff_t isize = i_size_read(inode);
	struct p2pmap_ahead *a;
	bool same, sequential;

	same = READ_ONCE(mirror->ahead_inode) == inode;
	sequential = !seg->pgoff ||
		     (same && READ_ONCE(mirror->ahead_next) == seg->pgoff);
	if (same && sequential)
		start = max(next, READ_ONCE(mirror->ahead_end));
	WRITE_ONCE(mirror->ahead_inode, inode);
	WRITE_ONCE(mirror->ahead_next, next);
	WRITE_ONCE(mirror->ahead_end, next);
	if (!sequential || !max || !provider || !provider->ops->stage_batch ||
	    !isize)
		return;
	last = (isize - 1) >> PAGE_SHIFT;
	end = next + min(2 * seg->n, max);
	/* whole requests (p2pmap_stage_piece()), unless the file ends first */
	if (end <= last)
		end = round_down(end, P2PMAP_STAGE_MAX_PAGES);
	else
		end = last + 1;
	if (end <= start) {
		WRITE_ONCE(mirror->ahead_end, start);	/* asked for already */
		return;
	}

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return;		/* a hint: the next fault stages for itself */
	a->ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	if (!a->ops) {
		kfree(a);
		return;
	}
	a->file = get_file(seg->file);	/* pairs with fput() in the work */
	a->provider = p2pmap_provider_get(provider);
	a->pgoff = start;
	a->npages = end - start;
	WRITE_ONCE(mirror->ahead_end, end);
	a->owner.revoke = p2pmap_ahead_revoke;
	INIT_WORK(&a->work, p2pmap_ahead_work);
	queue_work(p2pmap_ahead_wq, &a->work);
}

/**
 * p2pmap_mirror_init() - set up what mirrors share
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int p2pmap_mirror_init(void)
{
	/* unbound: the staging ahead runs beside the fault, not after it */
	p2pmap_ahead_wq = alloc_workqueue("p2pmap_ahead", WQ_UNBOUND, 0);
	return p2pmap_ahead_wq ? 0 : -ENOMEM;
}

/**
 * p2pmap_mirror_exit() - wait for the staging ahead still running
 *
 * Context: module exit.
 */
void p2pmap_mirror_exit(void)
{
	destroy_workqueue(p2pmap_ahead_wq);
}

/* Ask the file system and the provider for one file segment. */
static int p2pmap_fault_p2p(struct p2pmap_fault *f, struct p2pmap_segment *seg)
{
	struct inode *inode = file_inode(seg->file);
	const struct p2pmap_vm_ops *ops;
	struct p2pmap_stage_window *w;
	unsigned long done = 0;
	u64 iversion;
	int ret = 0, err;

	ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	if (!ops) {
		p2pmap_fault_fallback(f, seg->first, seg->n,
				      P2PMAP_REASON_UNSUPPORTED_FS);
		return 0;
	}
	if (f->flags & P2PMAP_FAULT_WRITE) {
		ret = p2pmap_fault_write(f, seg, ops);
		p2pmap_vm_ops_put(ops);
		return ret;
	}

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		p2pmap_vm_ops_put(ops);
		return -ENOMEM;
	}
	/*
	 * Any change to the file's data after this point moves i_version:
	 * the coherency point (p2pmap_mirror_begin_access()) compares it.
	 */
	iversion = inode_query_iversion(inode);
	while (done < seg->n) {
		struct p2pmap_extent ext = { };
		unsigned long first = seg->first + done;
		unsigned long n;

		ret = ops->device_map(seg->file, seg->pgoff + done,
				      seg->n - done, f->flags, &ext);
		if (ret)
			break;
		n = min_t(unsigned long, ext.npages, seg->n - done);
		if (WARN_ON_ONCE(!n)) {
			ret = -EIO;
			break;
		}
		done += n;
		if (ext.reason != P2PMAP_REASON_NONE) {
			p2pmap_fault_fallback(f, first, n, ext.reason);
			continue;
		}
		ret = p2pmap_stage_window_add(f, seg, ops, w, first, n, &ext,
					      iversion);
		if (ret)
			break;
	}
	if (!ret)
		p2pmap_stage_ahead(f, seg, w->provider);
	/* what was queued is staged (and owned by the attempt) whatever ret */
	err = p2pmap_stage_window_flush(f, seg, ops, w);
	if (!ret)
		ret = err;
	if (w->provider)
		p2pmap_provider_put(w->provider);
	kfree(w);
	p2pmap_vm_ops_put(ops);
	return ret;
}

/* Fault the fallback pages in with HMM and map them for the device. */
static int p2pmap_fault_pages(struct p2pmap_fault *f, struct mm_struct *mm,
			      unsigned long seq)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct device *dev = p2pmap_importer_device(mirror->importer);
	bool write = f->flags & P2PMAP_FAULT_WRITE;
	enum dma_data_direction dir = write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	unsigned long i = 0;
	int ret;

	while (i < f->npages) {
		struct hmm_range range = {
			.notifier = &mirror->notifier,
			.notifier_seq = seq,
			.default_flags = HMM_PFN_REQ_FAULT |
					 (write ? HMM_PFN_REQ_WRITE : 0),
		};
		unsigned long j, n;

		if (f->pages[i].path != P2PMAP_PATH_PAGECACHE) {
			i++;
			continue;
		}
		for (n = 1; i + n < f->npages &&
		     f->pages[i + n].path == P2PMAP_PATH_PAGECACHE; n++)
			;
		range.start = mirror->start + ((f->first + i) << PAGE_SHIFT);
		range.end = range.start + (n << PAGE_SHIFT);
		range.hmm_pfns = f->pfns;

		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret)
			return ret;

		for (j = 0; j < n; j++) {
			struct p2pmap_page *p = &f->pages[i + j];
			struct page *page = hmm_pfn_to_page(f->pfns[j]);

			p->page = page;
			p->writable = !!(f->pfns[j] & HMM_PFN_WRITE);
			if (!dev->dma_mask) {
				/* a device without DMA uses the page itself */
				p->addr = page_to_phys(page);
				continue;
			}
			/*
			 * A reading device maps DMA_TO_DEVICE: the CPU never
			 * consumes what it did not write, and a page mapped
			 * twice (a re-fault publishing over the old entry)
			 * is legitimate that way.
			 */
			p->addr = dma_map_page(dev, page, 0, PAGE_SIZE, dir);
			if (dma_mapping_error(dev, p->addr)) {
				p->addr = 0;
				return -EFAULT;
			}
			__set_bit(i + j, f->dma_mapped);
		}
		i += n;
	}
	return 0;
}

/* Undo an attempt that will not be published. */
static void p2pmap_fault_unwind(struct p2pmap_fault *f)
{
	struct device *dev = p2pmap_importer_device(f->mirror->importer);
	struct p2pmap_held *held, *next;
	unsigned long i;

	for (i = 0; i < f->npages; i++) {
		struct p2pmap_page *p = &f->pages[i];

		if (__test_and_clear_bit(i, f->dma_mapped))
			dma_unmap_page(dev, p->addr, PAGE_SIZE,
				       (f->flags & P2PMAP_FAULT_WRITE) ?
				       DMA_BIDIRECTIONAL : DMA_TO_DEVICE);
		memset(p, 0, sizeof(*p));
	}
	list_for_each_entry_safe(held, next, &f->held, node) {
		struct p2pmap_chunk *chunk;

		mutex_lock(&f->mirror->lock);
		chunk = held->chunk;
		held->chunk = NULL;
		mutex_unlock(&f->mirror->lock);
		list_del(&held->node);
		held->chunk = chunk;
		p2pmap_held_put_chunk(held);
	}
}

/* Publish a validated attempt. Called with the mirror locked. */
static int p2pmap_fault_publish_locked(struct p2pmap_fault *f)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct p2pmap_held *held, *next;
	unsigned long i, p2p = 0, refaults = 0;
	unsigned int reasons[P2PMAP_REASON_COUNT] = { };
	int ret;

	lockdep_assert_held(&mirror->lock);

	/* what the device had for these pages before is replaced */
	for (i = 0; i < f->npages; i++)
		if (mirror->entries[f->first + i].revoked)
			refaults++;
	p2pmap_mirror_release_locked(mirror, f->first, f->npages, false, false,
				     P2PMAP_REVOKE_OTHER, NULL);

	for (i = 0; i < f->npages; i++) {
		struct p2pmap_page *p = &f->pages[i];
		struct p2pmap_entry *e = &mirror->entries[f->first + i];

		e->addr = p->addr;
		e->page = p->page;
		e->dma_mapped = __test_and_clear_bit(i, f->dma_mapped);
		e->dma_write = !!(f->flags & P2PMAP_FAULT_WRITE);
		/* a writable page-cache page must go when it is cleaned */
		if (p->writable && p->path != P2PMAP_PATH_P2P)
			mirror->nr_writable++;
		if (p->path == P2PMAP_PATH_P2P)
			p2p++;
		else
			reasons[p->reason]++;
	}
	list_for_each_entry_safe(held, next, &f->held, node) {
		held->live = held->npages;
		held->published = true;
		for (i = held->first; i < held->first + held->npages; i++)
			mirror->entries[i].held = held;
		list_move_tail(&held->node, &mirror->held);
	}

	ret = mirror->importer->ops->populate(mirror,
					      mirror->start + (f->first << PAGE_SHIFT),
					      f->npages, f->pages);
	p2pmap_stats_fault(mirror->importer, p2p, reasons, refaults);
	return ret;
}

static bool p2pmap_fault_revoked_locked(struct p2pmap_fault *f)
{
	struct p2pmap_held *held;

	lockdep_assert_held(&f->mirror->lock);
	list_for_each_entry(held, &f->held, node)
		if (held->revoked || (held->wl && held->wl->recalled))
			return true;
	return false;
}

/**
 * p2pmap_mirror_fault() - map part of a mirrored range for the device
 * @mirror: a mirror from p2pmap_mirror_create().
 * @start: first user address, page-aligned, inside the mirror.
 * @npages: number of pages, all inside the mirror.
 * @flags: P2PMAP_FAULT_* flags.
 *
 * Resolves every page — P2P where the file system and a reachable provider
 * allow it, the page cache (or anonymous memory) otherwise — and hands them
 * to the importer's populate callback under the mirror lock, once no
 * invalidation has raced with the resolution. Retries for up to
 * HMM_RANGE_DEFAULT_TIMEOUT milliseconds, and at least eight times.
 *
 * With P2PMAP_FAULT_WRITE, pages of a MAP_SHARED writable file mapping get
 * the file's blocks for writing (a write layout: a layout lease taken with
 * the mirror creator's credentials, then map_blocks); what the device
 * writes is written back when the pages are taken back or the mirror is
 * destroyed (docs/semantics.md).
 *
 * Context: process context; sleeps. Must not hold the mirrored mm's
 * mmap_lock or any file-system lock.
 * Return: 0; -EINVAL for a range outside the mirror; -EFAULT when part of
 * the range is not mapped (or lies past the end of its file); -EPERM for a
 * write fault on a read-only mapping; -EACCES for a write fault on a file
 * the mirror's creator may not take a layout lease on (neither its owner
 * nor CAP_LEASE); -ESRCH when the process has exited;
 * -EBUSY when invalidations kept racing past the timeout; -ENOMEM; or the
 * error of the importer's populate callback.
 */
int p2pmap_mirror_fault(struct p2pmap_mirror *mirror, unsigned long start,
			unsigned long npages, unsigned int flags)
{
	struct mm_struct *mm = mirror->notifier.mm;
	unsigned long timeout = jiffies +
		msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	struct p2pmap_fault f = { .mirror = mirror, .flags = flags };
	unsigned int i, attempts;
	int ret;

	might_sleep();
	if (flags & ~P2PMAP_FAULT_WRITE || !npages || !PAGE_ALIGNED(start) ||
	    start < mirror->start ||
	    ((start - mirror->start) >> PAGE_SHIFT) + npages > mirror->npages ||
	    ((start - mirror->start) >> PAGE_SHIFT) + npages < npages)
		return -EINVAL;

	f.first = (start - mirror->start) >> PAGE_SHIFT;
	f.npages = npages;
	INIT_LIST_HEAD(&f.held);
	ret = p2pmap_fault_get_arrays(&f);
	if (ret)
		return ret;

	ret = -ESRCH;
	if (!mmget_not_zero(mm))	/* pairs with mmput() below */
		goto out_put_arrays;

	p2pmap_stats_fault_begin(mirror->importer);
	for (attempts = 0;; attempts++) {
		unsigned long seq;

		if (f.wait_recalls) {
			/* no lock held: the recall may revoke and commit */
			wait_event(mirror->recall_wq,
				   !atomic_read(&mirror->recalls));
			f.wait_recalls = false;
			/* its write-back's time is not the fault's own */
			timeout = jiffies +
				msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
		}
		if (f.wait_lease) {
			/* no lock held: another holder's recall gives it back */
			p2pmap_lease_wait_returned(f.wait_lease);
			iput(f.wait_lease);	/* ihold() in p2pmap_fault_write() */
			f.wait_lease = NULL;
			f.lease_waited = true;
			timeout = jiffies +
				msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
		}
		/*
		 * HMM's timeout, but never fewer than P2PMAP_FAULT_MIN_TRIES
		 * attempts: one attempt stages blocks and may take a good part
		 * of the timeout on a slow (debug, emulated) machine.
		 */
		if (time_after(jiffies, timeout) &&
		    attempts >= P2PMAP_FAULT_MIN_TRIES) {
			ret = -EBUSY;
			break;
		}
		seq = mmu_interval_read_begin(&mirror->notifier);

		/* a layout recall waits for this attempt (pairs with up_read()) */
		down_read(&mirror->fault_sem);
		ret = p2pmap_fault_segments(&f, mm);
		for (i = 0; !ret && i < f.nsegs; i++) {
			struct p2pmap_segment *seg = &f.segs[i];

			if (seg->file)
				ret = p2pmap_fault_p2p(&f, seg);
			else
				p2pmap_fault_fallback(&f, seg->first, seg->n,
						      seg->reason);
		}
		p2pmap_fault_put_files(&f);
		if (!ret)
			ret = p2pmap_fault_pages(&f, mm, seq);
		if (ret == -EBUSY || ret == -EAGAIN) {
			/*
			 * hmm_range_fault() saw the sequence move, or the file
			 * system said the blocks moved while they were staged,
			 * or a write layout was just mapped
			 */
			p2pmap_fault_unwind(&f);
			up_read(&mirror->fault_sem);
			p2pmap_stats_retry(mirror->importer);
			continue;
		}
		if (ret) {
			p2pmap_fault_unwind(&f);
			up_read(&mirror->fault_sem);
			break;
		}

		mutex_lock(&mirror->lock);
		if (mmu_interval_read_retry(&mirror->notifier, seq) ||
		    p2pmap_fault_revoked_locked(&f)) {
			mutex_unlock(&mirror->lock);
			p2pmap_fault_unwind(&f);
			up_read(&mirror->fault_sem);
			p2pmap_stats_retry(mirror->importer);
			continue;
		}
		ret = p2pmap_fault_publish_locked(&f);
		mutex_unlock(&mirror->lock);
		up_read(&mirror->fault_sem);
		break;
	}
	if (f.wait_lease)	/* set by an attempt that did not retry */
		iput(f.wait_lease);
	mmput(mm);
out_put_arrays:
	p2pmap_fault_put_arrays(&f);
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_fault);

struct p2pmap_recheck {
	u64 id;
	struct file *file;
	struct p2pmap_extent ext;
	u64 iversion;
	bool write;
	bool stale;
};

/* Whether the blocks behind a P2P extent still hold the file's data. */
static bool p2pmap_recheck_stale(struct p2pmap_recheck *rc)
{
	struct inode *inode = file_inode(rc->file);
	const struct p2pmap_vm_ops *ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	loff_t pos = (loff_t)rc->ext.pgoff << PAGE_SHIFT;
	bool stale;

	if (rc->write)
		/*
		 * The CPU wrote the file (a write(2) no layout recall reported,
		 * ext4; or a store through a mapping) and the page cache has not
		 * written it back yet: when it does, the provider sees a write
		 * behind its cache and drops the device's data. Write it back
		 * first; the CPU's pages land on top.
		 */
		stale = mapping_tagged(rc->file->f_mapping, PAGECACHE_TAG_DIRTY) ||
			mapping_tagged(rc->file->f_mapping,
				       PAGECACHE_TAG_WRITEBACK);
	else if (ops && ops->device_revalidate)
		stale = ops->device_revalidate(rc->file, &rc->ext) != 0;
	else
		stale = !inode_eq_iversion(inode, rc->iversion) ||
			filemap_range_needs_writeback(rc->file->f_mapping, pos,
						      pos + rc->ext.npages * PAGE_SIZE - 1);
	p2pmap_vm_ops_put(ops);
	return stale;
}

/*
 * Copy out the chunks @mirror holds in pages [@first, @last) (write chunks
 * only, with @writes_only) into a new array, for checks that take locks
 * ranking above the mirror lock. No allocation under the mirror lock:
 * reclaim can invalidate, and the notifier takes the lock. So: count,
 * allocate, then copy what fits (a chunk faulted since the count is
 * checked next time). Each entry holds a reference on its file.
 * Return: the number of entries (0: *@rcsp is NULL), or -ENOMEM.
 */
static long p2pmap_mirror_copy_held(struct p2pmap_mirror *mirror,
				    unsigned long first, unsigned long last,
				    bool writes_only,
				    struct p2pmap_recheck **rcsp)
{
	struct p2pmap_recheck *rcs;
	struct p2pmap_held *held;
	unsigned long n = 0, i = 0;

	*rcsp = NULL;
	mutex_lock(&mirror->lock);
	list_for_each_entry(held, &mirror->held, node)
		if ((held->wl || !writes_only) && held->first < last &&
		    held->first + held->npages > first)
			n++;
	mutex_unlock(&mirror->lock);
	if (!n)
		return 0;
	rcs = kvcalloc(n, sizeof(*rcs), GFP_KERNEL);
	if (!rcs)
		return -ENOMEM;

	mutex_lock(&mirror->lock);
	list_for_each_entry(held, &mirror->held, node) {
		if (i == n)
			break;
		if ((!held->wl && writes_only) || held->first >= last ||
		    held->first + held->npages <= first)
			continue;
		rcs[i].id = held->id;
		/* pairs with fput() in p2pmap_mirror_put_held() */
		rcs[i].file = get_file(held->file);
		rcs[i].ext = held->ext;
		rcs[i].iversion = held->iversion;
		rcs[i].write = !!held->wl;
		i++;
	}
	mutex_unlock(&mirror->lock);
	if (!i) {
		/* revoked since they were counted: the caller gets nothing */
		kvfree(rcs);
		return 0;
	}
	*rcsp = rcs;
	return i;
}

/* Drop the array of p2pmap_mirror_copy_held() and its file references. */
static void p2pmap_mirror_put_held(struct p2pmap_recheck *rcs, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		fput(rcs[i].file);
	kvfree(rcs);
}

/*
 * Revoke, for P2PMAP_REVOKE_COHERENCY, the chunks of @rcs marked stale
 * that the mirror still holds; @forget: the provider forgets them (their
 * blocks changed) rather than keeping them clean. Write chunks go on @wb.
 * Return: the number of pages revoked.
 */
static long p2pmap_mirror_revoke_marked(struct p2pmap_mirror *mirror,
					const struct p2pmap_recheck *rcs,
					unsigned long n, bool forget,
					struct list_head *wb)
{
	struct p2pmap_held *held;
	long revoked = 0;
	unsigned long i;

	mutex_lock(&mirror->lock);
	for (i = 0; i < n; i++) {
		if (!rcs[i].stale)
			continue;
		list_for_each_entry(held, &mirror->held, node) {
			if (held->id != rcs[i].id)
				continue;
			/* the revocation moves @held off the list */
			revoked += p2pmap_mirror_revoke_locked(mirror, held->first,
							       held->npages,
							       P2PMAP_REVOKE_COHERENCY,
							       forget, false, wb);
			break;
		}
	}
	mutex_unlock(&mirror->lock);
	return revoked;
}

/**
 * p2pmap_mirror_begin_access() - a coherency point before a device access
 * @mirror: a mirror.
 * @start: first user address of the access, page-aligned.
 * @npages: number of pages.
 *
 * A CPU store through a shared mapping, write(2) and O_DIRECT writes can
 * change a file's data without any notifier reaching the mirror when the
 * written pages are not mapped in the mirrored address space. Importers call
 * this at the start of each device access (a job): every P2P page of the
 * range whose blocks may no longer hold the file's data — the file system's
 * device_revalidate says so (defragmentation, reflink, a write written
 * back), or without it the inode's i_version moved or the range has dirty
 * page cache — is revoked with cause
 * P2PMAP_REVOKE_COHERENCY and its chunk forgotten by the provider, so the
 * next p2pmap_mirror_fault() flushes or falls back and stages the blocks
 * again. Page-cache pages need nothing: they are the file's data.
 * Concurrent CPU and device access to one page between coherency points is
 * undefined, as with O_DIRECT. P2P write pages are not rechecked (their
 * layout protects them); a write layout the file system recalled during
 * the last access is dropped, so that this access may take a new one.
 *
 * Context: process context; sleeps (takes the mirror lock).
 * Return: the number of pages revoked; -EINVAL for a range outside the
 * mirror; -ENOMEM.
 */
long p2pmap_mirror_begin_access(struct p2pmap_mirror *mirror,
				unsigned long start, unsigned long npages)
{
	struct p2pmap_recheck *rcs;
	unsigned long first, i;
	long n, revoked;
	LIST_HEAD(wb);

	might_sleep();
	if (!PAGE_ALIGNED(start) || start < mirror->start ||
	    ((start - mirror->start) >> PAGE_SHIFT) + npages > mirror->npages)
		return -EINVAL;
	first = (start - mirror->start) >> PAGE_SHIFT;

	p2pmap_mirror_prune_layouts(mirror);

	/*
	 * Revalidation takes file-system locks, which rank above the mirror
	 * lock (truncate holds i_rwsem when the notifier takes it): the
	 * extents are copied out under the lock and checked without it.
	 * Write chunks keep their blocks (their layout lease on XFS; on ext4
	 * the notifier runs before blocks are freed); what is checked is
	 * whether the CPU has written the file and the page cache holds it
	 * (p2pmap_recheck_stale()).
	 */
	n = p2pmap_mirror_copy_held(mirror, first, first + npages, false, &rcs);
	if (n <= 0)
		return n;
	for (i = 0; i < n; i++)
		rcs[i].stale = p2pmap_recheck_stale(&rcs[i]);
	revoked = p2pmap_mirror_revoke_marked(mirror, rcs, n, true, &wb);
	if (!list_empty(&wb)) {
		/*
		 * The write layouts' maps go too: mapped again, ext4 refuses a
		 * file with dirty pages (reason "dirty") and the device writes
		 * through the page cache, behind the CPU's pages.
		 */
		atomic_inc(&mirror->maps_gen);
		p2pmap_writeback_list(&wb, true);
	}
	/*
	 * Stale read chunks are forgotten by the release work, and a forget
	 * takes the whole staged extent out, the data of its writers too:
	 * before this access faults. Otherwise one of its write faults could
	 * find the extent still cached, write into it, and lose that when
	 * the forget came (a read job, then write jobs over the same range).
	 */
	if (revoked > 0)
		flush_work(&mirror->release_work);
	p2pmap_mirror_put_held(rcs, n);
	return revoked;
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_begin_access);

/* Whether @file's file system never recalls write layouts (ext4). */
static bool p2pmap_file_no_layout_recall(struct file *file)
{
	const struct p2pmap_vm_ops *ops =
		p2pmap_vm_ops_get(file_inode(file)->i_sb->s_type);
	bool ret = ops && ops->no_layout_recall;

	p2pmap_vm_ops_put(ops);
	return ret;
}

/**
 * p2pmap_mirror_end_access() - a coherency point after a device access
 * @mirror: a mirror.
 * @start: first user address of the access, page-aligned.
 * @npages: number of pages.
 *
 * On a file system that never recalls write layouts (ext4: the vm_ops'
 * no_layout_recall), nothing tells p2pmap when a CPU write(2), O_SYNC or
 * O_DIRECT write reaches blocks a device wrote into through the CMB; the
 * provider would then drop the device's data as stale. Importers call this
 * when an access that wrote ends, before they report it complete: every
 * P2P write page of the range on such a file system is taken back (cause
 * P2PMAP_REVOKE_COHERENCY), what the device wrote is written back to the
 * blocks synchronously (counted written_back.coherency), and the page
 * cache of the range is invalidated and the write committed, so that an
 * acknowledged device write is on the blocks and a later CPU write lands
 * on top of it. The chunks stay in the provider's cache, clean: the next
 * access faults them in again without reading the blocks. Write mappings
 * on file systems that recall layouts (XFS) are left alone: the recall
 * writes them back before the file system touches the blocks.
 *
 * Context: process context; sleeps on I/O (takes the mirror and layout
 * locks, and file-system locks to invalidate the page cache).
 * Return: the number of pages taken back; -EIO when some of the device's
 * data could not be written back (the provider keeps it dirty, or it was
 * lost, and counts it): the access must not be reported as done; -EINVAL
 * for a range outside the mirror; -ENOMEM.
 */
long p2pmap_mirror_end_access(struct p2pmap_mirror *mirror,
			      unsigned long start, unsigned long npages)
{
	struct p2pmap_recheck *rcs;
	unsigned long first, i;
	long n, revoked;
	int err = 0;
	LIST_HEAD(wb);

	might_sleep();
	if (!PAGE_ALIGNED(start) || start < mirror->start ||
	    ((start - mirror->start) >> PAGE_SHIFT) + npages > mirror->npages)
		return -EINVAL;
	first = (start - mirror->start) >> PAGE_SHIFT;

	n = p2pmap_mirror_copy_held(mirror, first, first + npages, true, &rcs);
	if (n <= 0)
		return n;
	/* the vm_ops registry may sleep: asked without the mirror lock */
	for (i = 0; i < n; i++)
		rcs[i].stale = p2pmap_file_no_layout_recall(rcs[i].file);
	/* not forgotten: the provider keeps the chunks, clean */
	revoked = p2pmap_mirror_revoke_marked(mirror, rcs, n, false, &wb);
	if (!list_empty(&wb)) {
		err = p2pmap_writeback_list(&wb, true);
		/*
		 * The page cache of the range, now: the write-backs queued
		 * commit_work, which may have taken the range already and be
		 * invalidating it while this access is reported done; a page
		 * read meanwhile (an mmap fault's read-around) would then be
		 * served stale.
		 */
		flush_work(&mirror->commit_work);
		p2pmap_mirror_commit(mirror);
	}
	p2pmap_mirror_put_held(rcs, n);
	return err ? err : revoked;
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_end_access);

/**
 * p2pmap_mirror_create() - mirror a range of a process's address space
 * @importer: the importer whose device will access the range.
 * @mm: the address space (usually current->mm); the mirror keeps the
 *	mm_struct (not the address space) alive until it is destroyed.
 * @start: first user address, page-aligned.
 * @length: length in bytes, page-aligned, not zero.
 * @priv: the importer's cookie, returned by p2pmap_mirror_priv().
 *
 * Nothing is mapped until p2pmap_mirror_fault(). The range may cover
 * several VMAs, holes included (faulting a hole fails with -EFAULT). The
 * calling task's credentials are recorded: device write mappings of a file
 * take a layout lease on it as this task would (owner or CAP_LEASE).
 *
 * Context: process context; may sleep; must not hold @mm's mmap_lock.
 * Return: the mirror, or ERR_PTR(-EINVAL) for a misaligned, empty or
 * overflowing range, ERR_PTR(-ENOMEM).
 */
struct p2pmap_mirror *p2pmap_mirror_create(struct p2pmap_importer *importer,
					   struct mm_struct *mm,
					   unsigned long start,
					   unsigned long length, void *priv)
{
	struct p2pmap_mirror *mirror;
	int ret;

	might_sleep();
	if (!importer || !mm || !length || !PAGE_ALIGNED(start) ||
	    !PAGE_ALIGNED(length) || start + length < start ||
	    start + length > TASK_SIZE)
		return ERR_PTR(-EINVAL);

	mirror = kzalloc(sizeof(*mirror), GFP_KERNEL);
	if (!mirror)
		return ERR_PTR(-ENOMEM);
	mirror->npages = length >> PAGE_SHIFT;
	mirror->entries = kvcalloc(mirror->npages, sizeof(*mirror->entries),
				   GFP_KERNEL);
	if (!mirror->entries) {
		ret = -ENOMEM;
		goto out_free_mirror;
	}
	mirror->importer = importer;
	mirror->start = start;
	mirror->priv = priv;
	mutex_init(&mirror->lock);
	INIT_LIST_HEAD(&mirror->held);
	spin_lock_init(&mirror->release_lock);
	INIT_LIST_HEAD(&mirror->release);
	INIT_WORK(&mirror->release_work, p2pmap_mirror_release_work);
	mutex_init(&mirror->layout_lock);
	INIT_LIST_HEAD(&mirror->wlayouts);
	init_rwsem(&mirror->fault_sem);
	atomic_set(&mirror->recalls, 0);
	atomic_set(&mirror->revoke_wb, 0);
	init_waitqueue_head(&mirror->recall_wq);
	mutex_init(&mirror->arrays_lock);
	atomic_set(&mirror->self_inval, 0);
	atomic_set(&mirror->maps_gen, 0);
	INIT_WORK(&mirror->commit_work, p2pmap_mirror_commit_work);
	mirror->cred = get_current_cred();	/* pairs with put_cred() in destroy */

	ret = p2pmap_fault_arrays_alloc(&mirror->arrays,
					min_t(unsigned long, mirror->npages,
					      P2PMAP_FAULT_ARRAYS_PAGES));
	if (ret)
		goto out_free_entries;

	ret = mmu_interval_notifier_insert(&mirror->notifier, mm, start, length,
					   &p2pmap_mirror_notifier_ops);
	if (ret)
		goto out_free_arrays;

	p2pmap_importer_add_mirror(importer, &mirror->node);
	return mirror;

out_free_arrays:
	p2pmap_fault_arrays_free(&mirror->arrays);
out_free_entries:
	put_cred(mirror->cred);
	kvfree(mirror->entries);
out_free_mirror:
	kfree(mirror);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_create);

/**
 * p2pmap_mirror_destroy() - stop mirroring and release everything mapped
 * @mirror: a mirror from p2pmap_mirror_create(); NULL is ignored.
 *
 * The importer must have stopped its device's use of the range; its
 * invalidate callback is not called. Chunk references are dropped before
 * this returns; what the device wrote through P2P write mappings is
 * written back and committed (times, page cache), and the layout leases
 * are given back.
 *
 * Context: process context; sleeps.
 */
void p2pmap_mirror_destroy(struct p2pmap_mirror *mirror)
{
	struct p2pmap_wlayout *wl, *next;
	LIST_HEAD(layouts);
	LIST_HEAD(wb);

	might_sleep();
	if (!mirror)
		return;

	p2pmap_importer_del_mirror(mirror->importer, &mirror->node);
	mmu_interval_notifier_remove(&mirror->notifier);

	mutex_lock(&mirror->lock);
	p2pmap_mirror_release_locked(mirror, 0, mirror->npages, false, false,
				     P2PMAP_REVOKE_DESTROY, &wb);
	mutex_unlock(&mirror->lock);
	p2pmap_writeback_list(&wb, true);
	/*
	 * A provider's revoke callback may have taken write chunks off the
	 * mirror before the release above: its write-back queues the commit
	 * work and accounts to this mirror's layouts.
	 */
	wait_var_event(&mirror->revoke_wb, !atomic_read(&mirror->revoke_wb));
	flush_work(&mirror->release_work);
	WARN_ON_ONCE(!list_empty(&mirror->held));

	/* commit what was written back, then give the leases back */
	flush_work(&mirror->commit_work);
	p2pmap_mirror_commit(mirror);
	mutex_lock(&mirror->layout_lock);
	list_splice_init(&mirror->wlayouts, &layouts);
	mutex_unlock(&mirror->layout_lock);
	list_for_each_entry_safe(wl, next, &layouts, node) {
		list_del(&wl->node);
		p2pmap_wlayout_free(wl);
	}

	put_cred(mirror->cred);
	p2pmap_fault_arrays_free(&mirror->arrays);
	kvfree(mirror->entries);
	kfree(mirror);
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_destroy);

/**
 * p2pmap_mirror_priv() - the importer's cookie of a mirror
 * @mirror: a mirror.
 *
 * Context: any context.
 * Return: the @priv given to p2pmap_mirror_create().
 */
void *p2pmap_mirror_priv(const struct p2pmap_mirror *mirror)
{
	return mirror->priv;
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_priv);
