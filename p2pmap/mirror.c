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
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
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
 *	forget the chunk before it is put.
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
};

static atomic64_t p2pmap_held_ids = ATOMIC64_INIT(0);

static void p2pmap_held_put_chunk(struct p2pmap_held *held)
{
	struct p2pmap_chunk *chunk = held->chunk;

	if (chunk) {
		if (held->stale && chunk->provider->ops->forget)
			chunk->provider->ops->forget(chunk);
		p2pmap_chunk_put(chunk);
	}
	if (held->file)
		fput(held->file);	/* pairs with get_file() in p2pmap_fault_p2p() */
	kfree(held);
}

static void p2pmap_mirror_release_work(struct work_struct *work)
{
	struct p2pmap_mirror *mirror =
		container_of(work, struct p2pmap_mirror, release_work);
	struct p2pmap_held *held, *next;
	LIST_HEAD(list);

	spin_lock(&mirror->release_lock);
	list_splice_init(&mirror->release, &list);
	spin_unlock(&mirror->release_lock);

	list_for_each_entry_safe(held, next, &list, node) {
		list_del(&held->node);
		p2pmap_held_put_chunk(held);
	}
}

/*
 * Forget what the device had for pages [first, first + n): undo DMA
 * mappings and queue chunk references whose last page went. Does not sleep.
 */
static void p2pmap_mirror_release_locked(struct p2pmap_mirror *mirror,
					 unsigned long first, unsigned long n,
					 bool revoked, bool stale)
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
			spin_lock(&mirror->release_lock);
			list_move_tail(&held->node, &mirror->release);
			spin_unlock(&mirror->release_lock);
			queue = true;
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

/* Take back [first, first + n) of the mirror for @cause. */
static unsigned long p2pmap_mirror_revoke_locked(struct p2pmap_mirror *mirror,
						 unsigned long first,
						 unsigned long n,
						 enum p2pmap_revoke_cause cause,
						 bool stale)
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
	p2pmap_mirror_release_locked(mirror, first, n, true, stale);
	p2pmap_stats_revoke(mirror->importer, cause, mapped);
	return mapped;
}

static bool p2pmap_mirror_invalidate(struct mmu_interval_notifier *notifier,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct p2pmap_mirror *mirror =
		container_of(notifier, struct p2pmap_mirror, notifier);
	unsigned long start, end;

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&mirror->lock);
	else if (!mutex_trylock(&mirror->lock))
		return false;

	mmu_interval_set_seq(notifier, cur_seq);

	/*
	 * Write-protecting a page (writeback's page_mkclean(), or our own
	 * range flush before handing blocks out) changes nothing a reading
	 * device sees: the page and the blocks stay where they are. Only
	 * writable device mappings must go. The sequence still moves, so a
	 * fault racing with it starts again, as the protocol requires.
	 */
	if (range->event == MMU_NOTIFY_PROTECTION_PAGE && !mirror->nr_writable)
		goto out_unlock;

	start = max(range->start, mirror->start);
	end = min(range->end, mirror->start + (mirror->npages << PAGE_SHIFT));
	if (start < end)
		p2pmap_mirror_revoke_locked(mirror,
					    (start - mirror->start) >> PAGE_SHIFT,
					    (end - start) >> PAGE_SHIFT,
					    p2pmap_event_cause(range),
					    p2pmap_event_changes_blocks(range));
out_unlock:
	mutex_unlock(&mirror->lock);
	return true;
}

static const struct mmu_interval_notifier_ops p2pmap_mirror_notifier_ops = {
	.invalidate = p2pmap_mirror_invalidate,
};

/*
 * The provider takes a chunk back (eviction, reset, removal): revoke the
 * pages using it, then drop the reference.
 */
static void p2pmap_mirror_chunk_revoke(struct p2pmap_chunk *chunk, void *priv,
				       enum p2pmap_revoke_cause cause)
{
	struct p2pmap_held *held = priv;
	struct p2pmap_mirror *mirror = held->mirror;
	struct p2pmap_chunk *put = NULL;

	mutex_lock(&mirror->lock);
	if (held->published) {
		/* the pages go; the last one queues the put (if not queued yet) */
		if (held->live)
			p2pmap_mirror_revoke_locked(mirror, held->first,
						    held->npages, cause, false);
	} else {
		/* still being staged or published: the fault starts again */
		held->revoked = true;
		put = held->chunk;
		held->chunk = NULL;
	}
	mutex_unlock(&mirror->lock);
	if (put)
		p2pmap_chunk_put(put);
}

/* ---- resolving a range ---- */

/*
 * struct p2pmap_segment - a run of the faulting range with one VMA
 * @first: first page (index into the mirror).
 * @n: pages.
 * @file: the file to ask for blocks (referenced), or NULL.
 * @pgoff: file page of @first.
 * @reason: the fallback reason when @file is NULL.
 */
struct p2pmap_segment {
	unsigned long first;
	unsigned long n;
	struct file *file;
	pgoff_t pgoff;
	enum p2pmap_reason reason;
};

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
};

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
				/* pairs with fput() in p2pmap_fault_put_files() */
				seg->file = get_file(vma->vm_file);
				seg->pgoff = vma->vm_pgoff +
					     ((addr - vma->vm_start) >> PAGE_SHIFT);
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

/* Ask the file system and the provider for one file segment. */
static int p2pmap_fault_p2p(struct p2pmap_fault *f, struct p2pmap_segment *seg)
{
	struct p2pmap_mirror *mirror = f->mirror;
	struct device *dev = p2pmap_importer_device(mirror->importer);
	struct inode *inode = file_inode(seg->file);
	const struct p2pmap_vm_ops *ops;
	unsigned long done = 0;
	u64 iversion;
	int ret = 0;

	ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	if (!ops) {
		p2pmap_fault_fallback(f, seg->first, seg->n,
				      P2PMAP_REASON_UNSUPPORTED_FS);
		return 0;
	}

	/*
	 * Any change to the file's data after this point moves i_version:
	 * the coherency point (p2pmap_mirror_begin_access()) compares it.
	 */
	iversion = inode_query_iversion(inode);
	while (done < seg->n) {
		struct p2pmap_extent ext = { };
		struct p2pmap_provider *provider;
		struct p2pmap_held *held;
		struct p2pmap_chunk *chunk;
		struct p2pmap_owner owner;
		unsigned long first = seg->first + done;
		unsigned long i, n;
		bool revoked;
		char why[96];

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
		if (f->flags & P2PMAP_FAULT_WRITE) {
			/* device writes go through the page cache, for now */
			p2pmap_fault_fallback(f, first, n, P2PMAP_REASON_WRITE);
			continue;
		}

		provider = p2pmap_provider_find(ext.bdev);
		if (!provider) {
			p2pmap_fault_fallback(f, first, n, P2PMAP_REASON_NO_CMB);
			continue;
		}
		if (provider->ops->reach(provider, dev, why, sizeof(why))) {
			p2pmap_stats_no_route(mirror->importer, provider, why);
			p2pmap_provider_put(provider);
			p2pmap_fault_fallback(f, first, n, P2PMAP_REASON_NO_ROUTE);
			continue;
		}

		held = kzalloc(sizeof(*held), GFP_KERNEL);
		if (!held) {
			p2pmap_provider_put(provider);
			ret = -ENOMEM;
			break;
		}
		held->mirror = mirror;
		held->first = first;
		held->npages = n;
		held->file = get_file(seg->file);	/* pairs with fput() when the chunk goes */
		held->pgoff = seg->pgoff + (first - seg->first);
		held->iversion = iversion;
		held->ext = ext;
		held->ext.npages = n;
		held->id = atomic64_inc_return(&p2pmap_held_ids);
		owner.revoke = p2pmap_mirror_chunk_revoke;
		owner.priv = held;
		list_add_tail(&held->node, &f->held);

		chunk = provider->ops->stage(provider, ext.bdev, ext.sector, n,
					     (f->flags & P2PMAP_FAULT_WRITE) ?
					     P2PMAP_STAGE_WRITE : 0, &owner);
		p2pmap_provider_put(provider);
		if (IS_ERR(chunk)) {
			list_del(&held->node);
			p2pmap_held_put_chunk(held);
			p2pmap_fault_fallback(f, first, n,
					      PTR_ERR(chunk) == -ENOSPC ?
					      P2PMAP_REASON_CMB_EXHAUSTED :
					      P2PMAP_REASON_ERROR);
			continue;
		}
		mutex_lock(&mirror->lock);
		revoked = held->revoked;
		if (!revoked)
			held->chunk = chunk;
		mutex_unlock(&mirror->lock);
		if (revoked) {
			/* taken back before we had it: the attempt retries */
			p2pmap_chunk_put(chunk);
			continue;
		}
		/*
		 * Changes no notifier reports (online defragmentation, reflink
		 * of the file as a source) may have moved the blocks while they
		 * were staged: ask the file system before publishing.
		 */
		if (ops->device_revalidate) {
			ret = ops->device_revalidate(seg->file, &held->ext);
			if (ret) {
				held->stale = true;	/* unwind forgets the chunk */
				if (ret == -ESTALE)
					ret = -EAGAIN;
				break;
			}
		}

		for (i = 0; i < n; i++) {
			struct p2pmap_page *p = &f->pages[first + i - f->first];

			p->addr = chunk->bus_addr + (i << PAGE_SHIFT);
			p->page = chunk->pages[i];
			p->path = P2PMAP_PATH_P2P;
			p->reason = P2PMAP_REASON_NONE;
			p->writable = !!(f->flags & P2PMAP_FAULT_WRITE);
		}
	}
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
	p2pmap_mirror_release_locked(mirror, f->first, f->npages, false, false);

	for (i = 0; i < f->npages; i++) {
		struct p2pmap_page *p = &f->pages[i];
		struct p2pmap_entry *e = &mirror->entries[f->first + i];

		e->addr = p->addr;
		e->page = p->page;
		e->dma_mapped = __test_and_clear_bit(i, f->dma_mapped);
		e->dma_write = !!(f->flags & P2PMAP_FAULT_WRITE);
		if (p->writable)
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
		if (held->revoked)
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
 * Context: process context; sleeps. Must not hold the mirrored mm's
 * mmap_lock or any file-system lock.
 * Return: 0; -EINVAL for a range outside the mirror; -EFAULT when part of
 * the range is not mapped (or lies past the end of its file); -EPERM for a
 * write fault on a read-only mapping; -ESRCH when the process has exited;
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
	f.pages = kvcalloc(npages, sizeof(*f.pages), GFP_KERNEL);
	f.pfns = kvcalloc(npages, sizeof(*f.pfns), GFP_KERNEL);
	/* one segment per VMA at most; a VMA is at least a page */
	f.segs = kvcalloc(npages, sizeof(*f.segs), GFP_KERNEL);
	f.dma_mapped = bitmap_zalloc(npages, GFP_KERNEL);
	ret = -ENOMEM;
	if (!f.pages || !f.pfns || !f.segs || !f.dma_mapped)
		goto out_free;

	ret = -ESRCH;
	if (!mmget_not_zero(mm))	/* pairs with mmput() below */
		goto out_free;

	p2pmap_stats_fault_begin(mirror->importer);
	for (attempts = 0;; attempts++) {
		unsigned long seq;

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
			 * system said the blocks moved while they were staged
			 */
			p2pmap_fault_unwind(&f);
			p2pmap_stats_retry(mirror->importer);
			continue;
		}
		if (ret) {
			p2pmap_fault_unwind(&f);
			break;
		}

		mutex_lock(&mirror->lock);
		if (mmu_interval_read_retry(&mirror->notifier, seq) ||
		    p2pmap_fault_revoked_locked(&f)) {
			mutex_unlock(&mirror->lock);
			p2pmap_fault_unwind(&f);
			p2pmap_stats_retry(mirror->importer);
			continue;
		}
		ret = p2pmap_fault_publish_locked(&f);
		mutex_unlock(&mirror->lock);
		break;
	}
	mmput(mm);
out_free:
	bitmap_free(f.dma_mapped);
	kvfree(f.segs);
	kvfree(f.pfns);
	kvfree(f.pages);
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_fault);

struct p2pmap_recheck {
	u64 id;
	struct file *file;
	struct p2pmap_extent ext;
	u64 iversion;
	bool stale;
};

/* Whether the blocks behind a P2P extent still hold the file's data. */
static bool p2pmap_recheck_stale(struct p2pmap_recheck *rc)
{
	struct inode *inode = file_inode(rc->file);
	const struct p2pmap_vm_ops *ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	loff_t pos = (loff_t)rc->ext.pgoff << PAGE_SHIFT;
	bool stale;

	if (ops && ops->device_revalidate)
		stale = ops->device_revalidate(rc->file, &rc->ext) != 0;
	else
		stale = !inode_eq_iversion(inode, rc->iversion) ||
			filemap_range_needs_writeback(rc->file->f_mapping, pos,
						      pos + rc->ext.npages * PAGE_SIZE - 1);
	p2pmap_vm_ops_put(ops);
	return stale;
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
 * undefined, as with O_DIRECT.
 *
 * Context: process context; sleeps (takes the mirror lock).
 * Return: the number of pages revoked; -EINVAL for a range outside the
 * mirror; -ENOMEM.
 */
long p2pmap_mirror_begin_access(struct p2pmap_mirror *mirror,
				unsigned long start, unsigned long npages)
{
	struct p2pmap_recheck *rcs = NULL;
	unsigned long first, last, n = 0, i;
	struct p2pmap_held *held;
	long revoked = 0;

	might_sleep();
	if (!PAGE_ALIGNED(start) || start < mirror->start ||
	    ((start - mirror->start) >> PAGE_SHIFT) + npages > mirror->npages)
		return -EINVAL;
	first = (start - mirror->start) >> PAGE_SHIFT;
	last = first + npages;

	/*
	 * Revalidation takes file-system locks, which rank above the mirror
	 * lock (truncate holds i_rwsem when the notifier takes it): the
	 * extents are copied out under the lock and checked without it.
	 */
	/*
	 * No allocation under the mirror lock: reclaim can invalidate, and
	 * the notifier takes the lock. Count, allocate, then copy what fits.
	 */
	mutex_lock(&mirror->lock);
	list_for_each_entry(held, &mirror->held, node)
		if (held->first < last && held->first + held->npages > first)
			n++;
	mutex_unlock(&mirror->lock);
	if (!n)
		return 0;
	rcs = kvcalloc(n, sizeof(*rcs), GFP_KERNEL);
	if (!rcs)
		return -ENOMEM;

	i = 0;
	mutex_lock(&mirror->lock);
	list_for_each_entry(held, &mirror->held, node) {
		if (i == n)
			break;	/* faulted since the count: checked next time */
		if (held->first >= last || held->first + held->npages <= first)
			continue;
		rcs[i].id = held->id;
		rcs[i].file = get_file(held->file);	/* pairs with fput() below */
		rcs[i].ext = held->ext;
		rcs[i].iversion = held->iversion;
		i++;
	}
	mutex_unlock(&mirror->lock);
	n = i;

	for (i = 0; i < n; i++)
		rcs[i].stale = p2pmap_recheck_stale(&rcs[i]);

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
							       true);
			break;
		}
	}
	mutex_unlock(&mirror->lock);

	for (i = 0; i < n; i++)
		fput(rcs[i].file);
	kvfree(rcs);
	return revoked;
}
EXPORT_SYMBOL_GPL(p2pmap_mirror_begin_access);

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
 * several VMAs, holes included (faulting a hole fails with -EFAULT).
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

	ret = mmu_interval_notifier_insert(&mirror->notifier, mm, start, length,
					   &p2pmap_mirror_notifier_ops);
	if (ret)
		goto out_free_entries;

	p2pmap_importer_add_mirror(importer, &mirror->node);
	return mirror;

out_free_entries:
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
 * this returns.
 *
 * Context: process context; sleeps.
 */
void p2pmap_mirror_destroy(struct p2pmap_mirror *mirror)
{
	might_sleep();
	if (!mirror)
		return;

	p2pmap_importer_del_mirror(mirror->importer, &mirror->node);
	mmu_interval_notifier_remove(&mirror->notifier);

	mutex_lock(&mirror->lock);
	p2pmap_mirror_release_locked(mirror, 0, mirror->npages, false, false);
	mutex_unlock(&mirror->lock);
	flush_work(&mirror->release_work);
	WARN_ON_ONCE(!list_empty(&mirror->held));

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
