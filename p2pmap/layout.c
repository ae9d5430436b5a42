// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: layouts, the pNFS block-layout model for local clients.
 *
 * A layout is a byte range of a file, the blocks behind it, and a lease that
 * keeps them: LAYOUT_GET hands out the extents, LAYOUT_IO reads and writes
 * the blocks for clients that may not open the block device, LAYOUT_COMMIT
 * makes what was written part of the file, LAYOUT_RETURN gives it back.
 *
 * Two mechanisms take a layout back, because the two file systems differ:
 *  - an FL_LAYOUT lease (p2pmap_lease_get(), lease.c: the one lease
 *    mechanism the write mappings use too): XFS calls break_layout()
 *    before every operation that removes or moves blocks (truncate,
 *    punch, reflink, swapext, and every write(2)). The recall marks the
 *    layout recalled, wakes the holder and arms the fence work; the lease
 *    has no break time of its own (fl_break_time 0), so the breaker waits
 *    until the layout is returned or fenced;
 *  - an mmu interval notifier on a PROT_NONE, MAP_SHARED mapping of the
 *    range that p2pmap makes in the holder's address space at LAYOUT_GET:
 *    truncate and hole punch unmap the page cache (truncate_pagecache*())
 *    of every mapping of the file before blocks are freed, on ext4 (which
 *    never calls break_layout()) as on XFS, and so does XFS_IOC_SWAPEXT.
 *    The callback cannot wait for user space: it fences at once.
 * Fencing sets the layout revoked and waits for the I/O in flight through
 * it (a bio or two: LAYOUT_IO never holds the I/O lock across user memory
 * access); from then on LAYOUT_IO and LAYOUT_COMMIT fail with -ESTALE.
 *
 * Extents come from the same extent-mapping layer as device write
 * mappings: p2pmap_vm_ops->map_blocks and ->commit_blocks of fs-hooks
 * (XFS: export_operations->map_blocks allocates unwritten extents for
 * read-write layouts, commit_blocks converts them and sets the size, as
 * for knfsd; ext4: written extents can be read and overwritten in place,
 * nothing is allocated or converted).
 *
 * docs/layouts.md describes the model, the permission rules and the gaps.
 */
#define pr_fmt(fmt) "p2pmap: layout: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/cred.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iversion.h>
#include <linux/lockdep.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "internal.h"

#define P2PMAP_LAYOUT_MAX_EXTENTS	4096
#define P2PMAP_LAYOUT_MAX_LENGTH	BIT_ULL(30)	/* 1 GiB per layout */
#define P2PMAP_LAYOUT_MAX_IO		(64ULL << 20)
#define P2PMAP_LAYOUT_MAX_RANGES	256
#define P2PMAP_LAYOUT_CHUNK_PAGES	256		/* bounce buffer: 1 MiB */
#define P2PMAP_LAYOUT_MAX_EVENTS	64
#define P2PMAP_LAYOUT_MAX_PER_OPEN	1024	/* layouts one open of /dev/p2pmap holds */

enum p2pmap_layout_state {
	P2PMAP_LAYOUT_ACTIVE,
	P2PMAP_LAYOUT_RECALLED,		/* usable until the break time */
	P2PMAP_LAYOUT_REVOKED,		/* fenced */
	P2PMAP_LAYOUT_RETURNED,
};

#define P2PMAP_LAYOUT_EV_RECALL		BIT(0)
#define P2PMAP_LAYOUT_EV_REVOKED	BIT(1)

/**
 * struct p2pmap_layout_ctx - the layouts of one open of /dev/p2pmap
 * @lock: serialises changes of @layouts and event reading.
 * @layouts: id -> struct p2pmap_layout; the xarray's own lock covers
 *	lookups, which take a reference.
 * @next_id: for xa_alloc_cyclic(): ids are not reused soon.
 * @wait: poll() and read() wait here for events.
 * @pending: events not read yet, over all layouts.
 * @count: layouts held (at most P2PMAP_LAYOUT_MAX_PER_OPEN).
 */
struct p2pmap_layout_ctx {
	struct mutex lock;		/* protects layouts changes, event reads */
	struct xarray layouts;
	u32 next_id;
	wait_queue_head_t wait;
	atomic_t pending;
	atomic_t count;
};

/* One extent of a layout, and the block device behind it. */
struct p2pmap_layout_kext {
	struct p2pmap_layout_extent ue;
	struct block_device *bdev;
};

/**
 * struct p2pmap_layout - one layout
 * @ref: references: the ctx's xarray holds one, each ioctl in flight one.
 * @ctx: the /dev/p2pmap open that holds the layout.
 * @id: the id user space knows it by (0 until it is published).
 * @iomode: P2PMAP_LAYOUT_READ or P2PMAP_LAYOUT_RW.
 * @file: the file, referenced (the lease is attached to it).
 * @cred: the credentials that took the lease; they remove it again.
 * @vm_ops: the fs-hooks callbacks, referenced.
 * @blkbits: alignment of writes and of the layout's bounds.
 * @start: first byte of the layout.
 * @end: byte after the layout.
 * @ext: the extents, sorted, covering [@start, @end).
 * @nr_ext: number of @ext.
 * @written: RW layouts: a bit per block of [@start, @end) written through
 *	the layout; only written blocks may be committed out of unwritten.
 * @state_lock: protects @state, the causes, @deadline, @events (taken in
 *	lm_break under the lease spinlock and in mmu notifiers).
 * @state: enum p2pmap_layout_state.
 * @cause: enum p2pmap_layout_cause of the revocation.
 * @recall_cause: enum p2pmap_layout_cause of the recall.
 * @deadline: jiffies when a recalled layout is fenced.
 * @events: P2PMAP_LAYOUT_EV_* not read yet.
 * @break_ms: the break time.
 * @eventfd: signalled with every event, or NULL.
 * @fence_work: fences at the break time; removes the lease after a fence.
 * @io_lock: held for reading by LAYOUT_IO and LAYOUT_COMMIT around the
 *	block I/O and the commit; for writing by a fence, which thereby
 *	waits for them. Never held across user memory access.
 * @lease_lock: protects @lease.
 * @lease: the FL_LAYOUT lease on the file, NULL once given back.
 * @notifier: the interval notifier on the mapping at @va.
 * @notifier_live: @notifier is inserted.
 * @mm: the address space holding the mapping.
 * @va: where the PROT_NONE mapping of the range is.
 * @va_len: its length.
 * @node: in p2pmap_layouts (conflict detection), under p2pmap_layouts_lock.
 */
struct p2pmap_layout {
	struct kref ref;
	struct p2pmap_layout_ctx *ctx;
	u32 id;
	u32 iomode;
	struct file *file;
	const struct cred *cred;
	const struct p2pmap_vm_ops *vm_ops;
	unsigned int blkbits;
	u64 start;
	u64 end;
	struct p2pmap_layout_kext *ext;
	u32 nr_ext;
	unsigned long *written;
	spinlock_t state_lock;		/* protects state, causes, deadline, events */
	u32 state;
	u32 cause;
	u32 recall_cause;
	unsigned long deadline;
	u32 events;
	unsigned int break_ms;
	struct eventfd_ctx *eventfd;
	struct delayed_work fence_work;
	struct rw_semaphore io_lock;
	struct mutex lease_lock;	/* protects lease */
	struct p2pmap_lease *lease;
	struct mmu_interval_notifier notifier;
	bool notifier_live;
	struct mm_struct *mm;
	unsigned long va;
	unsigned long va_len;
	struct list_head node;
};

/* p2pmap_layouts_lock protects p2pmap_layouts: every layout being set up or live. */
static DEFINE_MUTEX(p2pmap_layouts_lock);
static LIST_HEAD(p2pmap_layouts);

/*
 * Page-cache invalidations that p2pmap's own layout code runs (before and
 * after LAYOUT_IO writes, at commit, in map_blocks): the notifier must
 * not take them for a truncate. p2pmap_layout_self_lock protects
 * p2pmap_layout_selves, entries on the invalidating task's stack.
 */
struct p2pmap_layout_self {
	struct list_head node;
	struct task_struct *task;
	struct inode *inode;
};

static DEFINE_SPINLOCK(p2pmap_layout_self_lock);
static LIST_HEAD(p2pmap_layout_selves);

static void p2pmap_layout_self_begin(struct p2pmap_layout_self *self,
				     struct inode *inode)
{
	self->task = current;
	self->inode = inode;
	spin_lock(&p2pmap_layout_self_lock);
	list_add(&self->node, &p2pmap_layout_selves);
	spin_unlock(&p2pmap_layout_self_lock);
}

static void p2pmap_layout_self_end(struct p2pmap_layout_self *self)
{
	spin_lock(&p2pmap_layout_self_lock);
	list_del(&self->node);
	spin_unlock(&p2pmap_layout_self_lock);
}

static bool p2pmap_layout_is_self(struct inode *inode)
{
	struct p2pmap_layout_self *self;
	bool found = false;

	spin_lock(&p2pmap_layout_self_lock);
	list_for_each_entry(self, &p2pmap_layout_selves, node) {
		if (self->task == current && self->inode == inode) {
			found = true;
			break;
		}
	}
	spin_unlock(&p2pmap_layout_self_lock);
	return found;
}

/* ------------------------------------------------------------------------
 * Events, recall and fencing
 * ------------------------------------------------------------------------
 */

/*
 * The eventfd first: a holder woken by poll() or read() that reads its
 * eventfd next must find it signalled (layout.recall_on_truncate_returned
 * saw it not yet signalled once, on the debug kernel).
 */
static void p2pmap_layout_notify(struct p2pmap_layout *layout)
{
	if (layout->eventfd)
		eventfd_signal(layout->eventfd, 1);
	wake_up_interruptible(&layout->ctx->wait);
}

/* Queue @ev unless it is pending already. Caller holds state_lock. */
static void p2pmap_layout_queue_event_locked(struct p2pmap_layout *layout,
					     u32 ev)
{
	lockdep_assert_held(&layout->state_lock);
	if (!(layout->events & ev)) {
		layout->events |= ev;
		atomic_inc(&layout->ctx->pending);
	}
}

/*
 * Ask the holder to return @layout within its break time; fence it then.
 * Any context (lm_break calls it under the lease spinlock).
 */
static void p2pmap_layout_recall(struct p2pmap_layout *layout, u32 cause)
{
	unsigned long flags, delay = msecs_to_jiffies(layout->break_ms);
	bool notify = false;

	spin_lock_irqsave(&layout->state_lock, flags);
	if (layout->state == P2PMAP_LAYOUT_ACTIVE) {
		layout->state = P2PMAP_LAYOUT_RECALLED;
		layout->recall_cause = cause;
		layout->deadline = jiffies + delay;
		p2pmap_layout_queue_event_locked(layout, P2PMAP_LAYOUT_EV_RECALL);
		mod_delayed_work(system_wq, &layout->fence_work, delay);
		notify = true;
	}
	spin_unlock_irqrestore(&layout->state_lock, flags);
	if (notify)
		p2pmap_layout_notify(layout);
}

/* Mark @layout revoked; true when this call did it. */
static bool p2pmap_layout_mark_revoked(struct p2pmap_layout *layout, u32 cause)
{
	unsigned long flags;
	bool done = false;

	spin_lock_irqsave(&layout->state_lock, flags);
	if (layout->state < P2PMAP_LAYOUT_REVOKED) {
		layout->state = P2PMAP_LAYOUT_REVOKED;
		layout->cause = cause;
		p2pmap_layout_queue_event_locked(layout,
						 P2PMAP_LAYOUT_EV_REVOKED);
		done = true;
	}
	spin_unlock_irqrestore(&layout->state_lock, flags);
	return done;
}

/*
 * Fence @layout: no I/O or commit through it may start, and the ones in
 * flight have finished when this returns. May sleep for one bio.
 */
static void p2pmap_layout_revoke(struct p2pmap_layout *layout, u32 cause)
{
	bool done = p2pmap_layout_mark_revoked(layout, cause);

	/* pairs with down_read() in LAYOUT_IO and LAYOUT_COMMIT */
	down_write(&layout->io_lock);
	up_write(&layout->io_lock);
	if (done) {
		pr_info_ratelimited("%s: layout %u fenced (cause %u)\n",
				    current->comm, layout->id, cause);
		p2pmap_layout_notify(layout);
	}
}

/* Remove the lease; a breaker waiting in break_layout() goes on. */
static void p2pmap_layout_unlease(struct p2pmap_layout *layout)
{
	mutex_lock(&layout->lease_lock);
	p2pmap_lease_put(layout->lease);
	layout->lease = NULL;
	mutex_unlock(&layout->lease_lock);
}

static void p2pmap_layout_fence_work(struct work_struct *work)
{
	struct p2pmap_layout *layout =
		container_of(to_delayed_work(work), struct p2pmap_layout,
			     fence_work);

	p2pmap_layout_revoke(layout, P2PMAP_LAYOUT_CAUSE_TIMEOUT);
	p2pmap_layout_unlease(layout);
}

/* The file system broke the lease (from the lease's workqueue). */
static void p2pmap_layout_lease_recall(struct p2pmap_lease *lease, void *priv)
{
	p2pmap_layout_recall(priv, P2PMAP_LAYOUT_CAUSE_BREAK);
}

static const struct p2pmap_lease_ops p2pmap_layout_lease_ops = {
	.recall	= p2pmap_layout_lease_recall,
};

static int p2pmap_layout_lease(struct p2pmap_layout *layout)
{
	/* -EACCES unless the caller owns the inode or has CAP_LEASE */
	struct p2pmap_lease *lease = p2pmap_lease_get(layout->file,
						      &p2pmap_layout_lease_ops,
						      layout);

	if (IS_ERR(lease))
		return PTR_ERR(lease);
	mutex_lock(&layout->lease_lock);
	layout->lease = lease;
	mutex_unlock(&layout->lease_lock);
	return 0;
}

static bool p2pmap_layout_invalidate(struct mmu_interval_notifier *sub,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct p2pmap_layout *layout =
		container_of(sub, struct p2pmap_layout, notifier);
	u32 cause = P2PMAP_LAYOUT_CAUSE_UNMAP;

	mmu_interval_set_seq(sub, cur_seq);
	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
	case MMU_NOTIFY_EXCLUSIVE:
	case MMU_NOTIFY_MIGRATE:
		/* write-back's page_mkclean(), mprotect(): no block moves */
		return true;
	case MMU_NOTIFY_RELEASE:
		cause = P2PMAP_LAYOUT_CAUSE_EXIT;
		break;
	default:
		if (p2pmap_layout_is_self(file_inode(layout->file)))
			return true;
		break;
	}

	if (!mmu_notifier_range_blockable(range)) {
		p2pmap_layout_mark_revoked(layout, cause);
		if (!down_write_trylock(&layout->io_lock))
			return false;
		up_write(&layout->io_lock);
		p2pmap_layout_notify(layout);
	} else {
		p2pmap_layout_revoke(layout, cause);
	}
	/* the lease goes from process context */
	mod_delayed_work(system_wq, &layout->fence_work, 0);
	return true;
}

static const struct mmu_interval_notifier_ops p2pmap_layout_notifier_ops = {
	.invalidate = p2pmap_layout_invalidate,
};

/*
 * Map the layout's range PROT_NONE, MAP_SHARED in the caller's address
 * space and watch it: unmapping the file's page cache over the range,
 * which truncate and hole punch do before freeing blocks, reaches us.
 */
static int p2pmap_layout_watch(struct p2pmap_layout *layout)
{
	u64 first = round_down(layout->start, PAGE_SIZE);
	unsigned long len = round_up(layout->end, PAGE_SIZE) - first;
	struct vm_area_struct *vma;
	unsigned long va;
	int ret;

	if (!current->mm)
		return -EINVAL;
	va = vm_mmap(layout->file, 0, len, PROT_NONE, MAP_SHARED, first);
	if (IS_ERR_VALUE(va))
		return (int)va;

	/* a forked child must not inherit it */
	mmap_write_lock(current->mm);
	vma = find_vma(current->mm, va);
	if (vma && vma->vm_start == va)
		p2pmap_vm_flags_set(vma, VM_DONTCOPY);
	mmap_write_unlock(current->mm);

	ret = mmu_interval_notifier_insert(&layout->notifier, current->mm, va,
					   len, &p2pmap_layout_notifier_ops);
	if (ret) {
		vm_munmap(va, len);
		return ret;
	}
	layout->mm = current->mm;
	layout->va = va;
	layout->va_len = len;
	layout->notifier_live = true;
	return 0;
}

static void p2pmap_layout_unwatch(struct p2pmap_layout *layout)
{
	if (!layout->notifier_live)
		return;
	mmu_interval_notifier_remove(&layout->notifier);
	layout->notifier_live = false;
	/* from another address space (a passed fd) it goes with that mm */
	if (current->mm == layout->mm)
		vm_munmap(layout->va, layout->va_len);
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ------------------------------------------------------------------------
 */

static void p2pmap_layout_free(struct kref *ref)
{
	struct p2pmap_layout *layout = container_of(ref, struct p2pmap_layout,
						    ref);

	if (layout->eventfd)
		eventfd_ctx_put(layout->eventfd);
	p2pmap_vm_ops_put(layout->vm_ops);
	if (layout->file)
		fput(layout->file);
	if (layout->cred)
		put_cred(layout->cred);
	kvfree(layout->ext);
	bitmap_free(layout->written);
	kfree(layout);
}

static void p2pmap_layout_put(struct p2pmap_layout *layout)
{
	kref_put(&layout->ref, p2pmap_layout_free);
}

/*
 * Take @layout back for good: no I/O after this returns, the mapping, the
 * notifier and the lease are gone. Process context.
 */
static void p2pmap_layout_shutdown(struct p2pmap_layout *layout)
{
	unsigned long flags;

	spin_lock_irqsave(&layout->state_lock, flags);
	layout->state = P2PMAP_LAYOUT_RETURNED;
	if (layout->events) {
		atomic_sub(hweight32(layout->events), &layout->ctx->pending);
		layout->events = 0;
	}
	spin_unlock_irqrestore(&layout->state_lock, flags);
	down_write(&layout->io_lock);
	up_write(&layout->io_lock);

	p2pmap_layout_unwatch(layout);
	p2pmap_layout_unlease(layout);
	cancel_delayed_work_sync(&layout->fence_work);

	mutex_lock(&p2pmap_layouts_lock);
	list_del_init(&layout->node);
	mutex_unlock(&p2pmap_layouts_lock);
}

static struct p2pmap_layout *p2pmap_layout_find(struct p2pmap_layout_ctx *ctx,
						u32 id)
{
	struct p2pmap_layout *layout;

	xa_lock(&ctx->layouts);
	layout = id ? xa_load(&ctx->layouts, id) : NULL;
	if (layout)
		kref_get(&layout->ref);	/* pairs with p2pmap_layout_put() */
	xa_unlock(&ctx->layouts);
	return layout;
}

/* Usable for I/O: 0, or -ESTALE (fenced) / -ENOENT (returned). */
static int p2pmap_layout_usable(struct p2pmap_layout *layout)
{
	switch (READ_ONCE(layout->state)) {
	case P2PMAP_LAYOUT_ACTIVE:
	case P2PMAP_LAYOUT_RECALLED:
		return 0;
	case P2PMAP_LAYOUT_REVOKED:
		return -ESTALE;
	default:
		return -ENOENT;
	}
}

/* ------------------------------------------------------------------------
 * LAYOUT_GET
 * ------------------------------------------------------------------------
 */

struct p2pmap_layout_get_ctx {
	struct p2pmap_layout *layout;
	struct p2pmap_layout_get *g;
	struct pci_dev *pdev;
	u32 cap;
};

/* Append an extent, merged into the previous one when it continues it. */
static bool p2pmap_layout_add(struct p2pmap_layout_get_ctx *gc, u64 offset,
			      u64 length, struct block_device *bdev,
			      sector_t sector, u32 state)
{
	struct p2pmap_layout *layout = gc->layout;
	struct p2pmap_layout_kext *prev, *k;

	prev = layout->nr_ext ? &layout->ext[layout->nr_ext - 1] : NULL;
	if (prev && prev->ue.state == state && prev->bdev == bdev &&
	    prev->ue.offset + prev->ue.length == offset &&
	    (state == P2PMAP_EXTENT_HOLE ||
	     prev->ue.sector + (prev->ue.length >> SECTOR_SHIFT) == sector)) {
		prev->ue.length += length;
		return true;
	}
	if (layout->nr_ext == gc->cap)
		return false;
	k = &layout->ext[layout->nr_ext++];
	memset(k, 0, sizeof(*k));
	k->ue.offset = offset;
	k->ue.length = length;
	k->ue.state = state;
	k->bdev = bdev;
	if (bdev) {
		k->ue.sector = sector;
		k->ue.dev = new_encode_dev(bdev->bd_dev);
	}
	return true;
}

/* Whether a CMB that the caller (or @pdev) can reach can stage @k. */
static void p2pmap_layout_cmb(struct p2pmap_layout_kext *k,
			      struct pci_dev *pdev)
{
	struct p2pmap_provider *provider;
	char why[64];

	switch (k->ue.state) {
	case P2PMAP_EXTENT_HOLE:
		k->ue.reason = P2PMAP_REASON_HOLE;
		return;
	case P2PMAP_EXTENT_UNWRITTEN:
		k->ue.reason = P2PMAP_REASON_UNWRITTEN;
		return;
	}
	provider = p2pmap_provider_find(k->bdev);
	if (!provider) {
		k->ue.reason = P2PMAP_REASON_NO_CMB;
		return;
	}
	if (pdev && provider->ops->reach(provider, &pdev->dev, why, sizeof(why))) {
		k->ue.reason = P2PMAP_REASON_NO_ROUTE;
	} else {
		k->ue.reason = P2PMAP_REASON_NONE;
		k->ue.flags |= P2PMAP_EXTENT_CMB;
	}
	p2pmap_provider_put(provider);
}

/*
 * The extents, from the extent-mapping layer that device write mappings
 * use (fs-hooks: XFS's export_operations->map_blocks, as knfsd calls it;
 * ext4's written extents).
 */
static int p2pmap_layout_map(struct p2pmap_layout_get_ctx *gc)
{
	struct p2pmap_layout *layout = gc->layout;
	struct inode *inode = file_inode(layout->file);
	bool write = layout->iomode == P2PMAP_LAYOUT_RW;
	struct p2pmap_layout_self self;
	u64 pos = layout->start;
	int tries = 0, ret = 0;

	while (pos < layout->end) {
		struct p2pmap_block_map map;
		u32 state;
		u64 len;

		/* XFS's map_blocks flushes and invalidates the page cache */
		p2pmap_layout_self_begin(&self, inode);
		ret = layout->vm_ops->map_blocks(layout->file, pos,
						 layout->end - pos,
						 write ? P2PMAP_BLOCKS_WRITE : 0,
						 &map);
		p2pmap_layout_self_end(&self);
		if (ret == -EOPNOTSUPP && map.reason == P2PMAP_REASON_DIRTY &&
		    tries++ < 3) {
			/* dirty pages elsewhere in the file: write it all back */
			ret = filemap_write_and_wait(inode->i_mapping);
			if (ret)
				return ret;
			continue;
		}
		if (ret == -EOPNOTSUPP && !write &&
		    map.reason == P2PMAP_REASON_UNWRITTEN && map.length) {
			/* ext4 hands out no unwritten blocks: they read as zeros */
			map.type = P2PMAP_BLOCKS_UNWRITTEN;
			map.bdev = NULL;
			ret = 0;
		} else if (write && ret == -EINVAL &&
			   pos >= i_size_read(inode)) {
			/* past EOF without allocation (ext4) */
			gc->g->reason = P2PMAP_REASON_HOLE;
			return -EOPNOTSUPP;
		} else if (ret == -EOPNOTSUPP) {
			gc->g->reason = map.reason;
			return ret;
		}
		if (ret)
			return ret;
		if (map.offset != pos || !map.length)
			return -EIO;
		len = min_t(u64, map.length, layout->end - pos);
		switch (map.type) {
		case P2PMAP_BLOCKS_MAPPED:
			state = P2PMAP_EXTENT_WRITTEN;
			break;
		case P2PMAP_BLOCKS_UNWRITTEN:
			state = P2PMAP_EXTENT_UNWRITTEN;
			break;
		default:
			state = P2PMAP_EXTENT_HOLE;
			break;
		}
		if (write && state == P2PMAP_EXTENT_HOLE)
			return -EIO;	/* map_blocks allocates for a write */
		if (state != P2PMAP_EXTENT_HOLE && !map.bdev &&
		    !(state == P2PMAP_EXTENT_UNWRITTEN && !write))
			return -EIO;
		if (!map.bdev)
			state = state == P2PMAP_EXTENT_WRITTEN ?
				P2PMAP_EXTENT_HOLE : state;
		if (!p2pmap_layout_add(gc, pos, len, map.bdev, map.sector, state))
			break;
		pos += len;
	}
	layout->end = pos;
	return 0;
}

/*
 * A read-write layout conflicts with any other client's layout over the
 * same bytes: recall the others; the caller tries again (-EAGAIN).
 */
static int p2pmap_layout_conflicts(struct p2pmap_layout *layout)
{
	struct inode *inode = file_inode(layout->file);
	struct p2pmap_layout *other;
	int ret = 0;

	mutex_lock(&p2pmap_layouts_lock);
	list_for_each_entry(other, &p2pmap_layouts, node) {
		if (other->ctx == layout->ctx ||
		    file_inode(other->file) != inode ||
		    other->end <= layout->start || layout->end <= other->start)
			continue;
		if (other->iomode != P2PMAP_LAYOUT_RW &&
		    layout->iomode != P2PMAP_LAYOUT_RW)
			continue;
		if (READ_ONCE(other->state) >= P2PMAP_LAYOUT_REVOKED)
			continue;
		p2pmap_layout_recall(other, P2PMAP_LAYOUT_CAUSE_CONFLICT);
		ret = -EAGAIN;
	}
	if (!ret)
		list_add(&layout->node, &p2pmap_layouts);
	mutex_unlock(&p2pmap_layouts_lock);
	return ret;
}

static int p2pmap_layout_check_file(struct file *file, u32 iomode)
{
	struct inode *inode = file_inode(file);

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (iomode == P2PMAP_LAYOUT_RW && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	if (iomode == P2PMAP_LAYOUT_RW &&
	    ((file->f_flags & O_APPEND) || IS_APPEND(inode) ||
	     IS_IMMUTABLE(inode)))
		return -EPERM;
	if (IS_SWAPFILE(inode))
		return -ETXTBSY;
	return 0;
}

static struct p2pmap_layout *p2pmap_layout_alloc(struct p2pmap_layout_ctx *ctx,
						 struct file *file, u32 iomode)
{
	struct p2pmap_layout *layout = kzalloc(sizeof(*layout), GFP_KERNEL);

	if (!layout)
		return NULL;
	kref_init(&layout->ref);
	layout->ctx = ctx;
	layout->iomode = iomode;
	layout->file = get_file(file);	/* pairs with fput() in p2pmap_layout_free() */
	layout->cred = get_current_cred();
	spin_lock_init(&layout->state_lock);
	INIT_DELAYED_WORK(&layout->fence_work, p2pmap_layout_fence_work);
	init_rwsem(&layout->io_lock);
	mutex_init(&layout->lease_lock);
	INIT_LIST_HEAD(&layout->node);
	return layout;
}

static int p2pmap_layout_setup(struct p2pmap_layout_get_ctx *gc, struct file *file)
{
	struct p2pmap_layout *layout = gc->layout;
	struct p2pmap_layout_get *g = gc->g;
	struct inode *inode = file_inode(file);
	u64 size = i_size_read(inode), blk, u;
	unsigned int i;
	int ret;

	layout->vm_ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	if (!layout->vm_ops || !layout->vm_ops->map_blocks ||
	    !layout->vm_ops->commit_blocks) {
		g->reason = P2PMAP_REASON_UNSUPPORTED_FS;
		return -EOPNOTSUPP;
	}
	layout->blkbits = max_t(unsigned int, inode->i_blkbits, PAGE_SHIFT);
	blk = 1ULL << layout->blkbits;

	layout->start = round_down(g->offset, blk);
	u = min_t(u64, g->offset + g->length, layout->start + P2PMAP_LAYOUT_MAX_LENGTH);
	layout->end = round_up(u, blk);
	if (layout->iomode == P2PMAP_LAYOUT_RW) {
		/* past EOF only where map_blocks allocates (XFS) */
		if (layout->end > inode->i_sb->s_maxbytes)
			return -EFBIG;
	} else {
		/* nothing to read past EOF */
		if (g->offset >= size)
			return -ENXIO;
		layout->end = min(layout->end, round_up(size, blk));
	}

	if (layout->iomode == P2PMAP_LAYOUT_RW) {
		/* a client writing the blocks bypasses setuid stripping */
		inode_lock(inode);
		ret = file_remove_privs(file);
		inode_unlock(inode);
		if (ret)
			return ret;
		layout->written = bitmap_zalloc((layout->end - layout->start) >>
						layout->blkbits, GFP_KERNEL);
		if (!layout->written)
			return -ENOMEM;
	}

	if (g->flags & P2PMAP_LAYOUT_GET_EVENTFD) {
		layout->eventfd = eventfd_ctx_fdget(g->eventfd);
		if (IS_ERR(layout->eventfd)) {
			ret = PTR_ERR(layout->eventfd);
			layout->eventfd = NULL;
			return ret;
		}
	}

	ret = p2pmap_layout_conflicts(layout);
	if (ret)
		return ret;
	/* the lease first: a break from now on reaches the layout */
	ret = p2pmap_layout_lease(layout);
	if (ret)
		return ret;
	ret = p2pmap_layout_watch(layout);
	if (ret)
		return ret;

	gc->cap = g->nr_extents;
	layout->ext = kvcalloc(gc->cap, sizeof(*layout->ext), GFP_KERNEL);
	if (!layout->ext)
		return -ENOMEM;
	ret = p2pmap_layout_map(gc);
	if (ret)
		return ret;
	for (i = 0; i < layout->nr_ext; i++)
		p2pmap_layout_cmb(&layout->ext[i], gc->pdev);
	/* broken while being set up: the caller asks again */
	if (READ_ONCE(layout->state) != P2PMAP_LAYOUT_ACTIVE)
		return -EAGAIN;
	return 0;
}

static long p2pmap_layout_ioc_get(struct p2pmap_layout_ctx *ctx,
				  void __user *uarg)
{
	struct p2pmap_layout_get_ctx gc = { };
	struct p2pmap_layout_extent __user *uext;
	struct p2pmap_layout *layout;
	struct p2pmap_layout_get g;
	unsigned int i;
	struct fd f;
	u32 id;
	long ret;

	if (copy_from_user(&g, uarg, sizeof(g)))
		return -EFAULT;
	if (g.size != sizeof(g) ||
	    g.flags & ~(P2PMAP_LAYOUT_GET_DEVICE | P2PMAP_LAYOUT_GET_EVENTFD) ||
	    g.__pad || memchr_inv(g.reserved, 0, sizeof(g.reserved)) ||
	    (g.iomode != P2PMAP_LAYOUT_READ && g.iomode != P2PMAP_LAYOUT_RW) ||
	    !g.length || g.offset + g.length < g.offset ||
	    g.offset + g.length > (u64)MAX_LFS_FILESIZE ||
	    !g.nr_extents || g.nr_extents > P2PMAP_LAYOUT_MAX_EXTENTS ||
	    g.break_ms > P2PMAP_LAYOUT_BREAK_MS_MAX || g.id)
		return -EINVAL;
	if (!(g.flags & P2PMAP_LAYOUT_GET_DEVICE) && g.device)
		return -EINVAL;
	if (!(g.flags & P2PMAP_LAYOUT_GET_EVENTFD) && g.eventfd)
		return -EINVAL;
	g.reason = P2PMAP_REASON_NONE;

	f = fdget(g.fd);
	if (!f.file)
		return -EBADF;
	ret = p2pmap_layout_check_file(f.file, g.iomode);
	if (ret)
		goto out_fdput;

	if (g.flags & P2PMAP_LAYOUT_GET_DEVICE) {
		/* pairs with pci_dev_put() below */
		gc.pdev = pci_get_domain_bus_and_slot(g.device >> 16,
						      (g.device >> 8) & 0xff,
						      g.device & 0xff);
		ret = -ENODEV;
		if (!gc.pdev)
			goto out_fdput;
	}

	ret = -ENOSPC;
	if (atomic_inc_return(&ctx->count) > P2PMAP_LAYOUT_MAX_PER_OPEN)
		goto out_uncount;
	ret = -ENOMEM;
	layout = p2pmap_layout_alloc(ctx, f.file, g.iomode);
	if (!layout)
		goto out_uncount;
	layout->break_ms = g.break_ms ?: P2PMAP_LAYOUT_BREAK_MS_DEFAULT;
	gc.layout = layout;
	gc.g = &g;

	ret = p2pmap_layout_setup(&gc, f.file);
	if (ret)
		goto out_shutdown;

	g.offset = layout->start;
	g.length = layout->end - layout->start;
	g.nr_extents = layout->nr_ext;
	g.blksize = 1U << layout->blkbits;
	uext = u64_to_user_ptr(g.extents);
	ret = -EFAULT;
	for (i = 0; i < layout->nr_ext; i++)
		if (copy_to_user(&uext[i], &layout->ext[i].ue, sizeof(uext[i])))
			goto out_shutdown;

	mutex_lock(&ctx->lock);
	ret = xa_alloc_cyclic(&ctx->layouts, &id, layout, XA_LIMIT(1, INT_MAX),
			      &ctx->next_id, GFP_KERNEL);
	if (ret >= 0)
		layout->id = id;
	mutex_unlock(&ctx->lock);
	if (ret < 0)
		goto out_shutdown;
	g.id = id;
	if (copy_to_user(uarg, &g, sizeof(g))) {
		/* the layout stays: the caller returns it, or close() does */
		ret = -EFAULT;
		goto out_put_pdev;
	}
	ret = 0;
	goto out_put_pdev;

out_shutdown:
	p2pmap_layout_shutdown(layout);
	p2pmap_layout_put(layout);
	if (ret == -EOPNOTSUPP && copy_to_user(uarg, &g, sizeof(g)))
		ret = -EFAULT;
out_uncount:
	atomic_dec(&ctx->count);
out_put_pdev:
	pci_dev_put(gc.pdev);
out_fdput:
	fdput(f);
	return ret;
}

/* ------------------------------------------------------------------------
 * LAYOUT_IO
 * ------------------------------------------------------------------------
 */

static struct p2pmap_layout_kext *
p2pmap_layout_ext_at(struct p2pmap_layout *layout, u64 pos)
{
	unsigned int lo = 0, hi = layout->nr_ext;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct p2pmap_layout_kext *k = &layout->ext[mid];

		if (pos < k->ue.offset)
			hi = mid;
		else if (pos >= k->ue.offset + k->ue.length)
			lo = mid + 1;
		else
			return k;
	}
	return NULL;
}

/*
 * A bio for @len bytes at byte @boff of @pages, to or from @sector; built
 * before the I/O lock is taken (an allocation that may reclaim must not
 * happen under a lock an mmu notifier takes).
 */
static struct bio *p2pmap_layout_bio(struct block_device *bdev, sector_t sector,
				     struct page **pages, size_t boff,
				     size_t len, blk_opf_t op)
{
	unsigned int nr = DIV_ROUND_UP(offset_in_page(boff) + len, PAGE_SIZE);
	struct bio *bio = bio_alloc(bdev, nr, op | REQ_SYNC, GFP_KERNEL);

	bio->bi_iter.bi_sector = sector;
	while (len) {
		size_t poff = offset_in_page(boff);
		size_t n = min_t(size_t, len, PAGE_SIZE - poff);

		if (bio_add_page(bio, pages[boff >> PAGE_SHIFT], n, poff) != n) {
			bio_put(bio);
			return NULL;
		}
		boff += n;
		len -= n;
	}
	return bio;
}

/* Zero @len bytes at byte @boff of @pages. */
static void p2pmap_layout_zero(struct page **pages, size_t boff, size_t len)
{
	while (len) {
		size_t poff = offset_in_page(boff);
		size_t n = min_t(size_t, len, PAGE_SIZE - poff);

		memzero_page(pages[boff >> PAGE_SHIFT], poff, n);
		boff += n;
		len -= n;
	}
}

/* Copy between user memory and @pages; no I/O lock is held here. */
static int p2pmap_layout_copy(struct page **pages, size_t boff,
			      u8 __user *ubuf, size_t len, bool to_pages)
{
	while (len) {
		size_t poff = offset_in_page(boff);
		size_t n = min_t(size_t, len, PAGE_SIZE - poff);
		void *kaddr = kmap_local_page(pages[boff >> PAGE_SHIFT]);
		unsigned long left;

		if (to_pages)
			left = copy_from_user(kaddr + poff, ubuf, n);
		else
			left = copy_to_user(ubuf, kaddr + poff, n);
		kunmap_local(kaddr);
		if (left)
			return -EFAULT;
		boff += n;
		ubuf += n;
		len -= n;
	}
	return 0;
}

/*
 * The block I/O of one chunk [@pos, @pos + @len) of a layout: the bios are
 * built first, then submitted under the I/O lock, since the blocks are the
 * layout's only while it is not fenced. Nothing under the lock may enter
 * reclaim: reclaim calls mmu notifiers (ours, and other layouts', which
 * wait for their own I/O), so a layout's I/O in reclaim could wait for
 * another's that waits for it.
 */
static int p2pmap_layout_chunk_io(struct p2pmap_layout *layout, u64 pos,
				  size_t len, struct page **pages,
				  struct bio **bios, bool write)
{
	unsigned int nr = 0, i, noreclaim;
	size_t boff = 0;
	int ret = 0;

	while (boff < len) {
		struct p2pmap_layout_kext *k = p2pmap_layout_ext_at(layout, pos + boff);
		u64 in_ext, n;

		if (!k || nr == P2PMAP_LAYOUT_CHUNK_PAGES) {
			ret = -ERANGE;
			goto out_put;
		}
		in_ext = pos + boff - k->ue.offset;
		n = min_t(u64, len - boff, k->ue.length - in_ext);
		if (write && k->ue.state == P2PMAP_EXTENT_HOLE) {
			ret = -EINVAL;
			goto out_put;
		}
		if (write || k->ue.state == P2PMAP_EXTENT_WRITTEN) {
			bios[nr] = p2pmap_layout_bio(k->bdev, k->ue.sector +
						     (in_ext >> SECTOR_SHIFT),
						     pages, boff, n,
						     write ? REQ_OP_WRITE : REQ_OP_READ);
			if (!bios[nr]) {
				ret = -EIO;
				goto out_put;
			}
			nr++;
		} else {
			/*
			 * Holes and unwritten blocks read as zeros: an
			 * unwritten block may hold another file's old data.
			 */
			p2pmap_layout_zero(pages, boff, n);
		}
		boff += n;
	}

	down_read(&layout->io_lock);	/* pairs with p2pmap_layout_revoke() */
	noreclaim = memalloc_noreclaim_save();
	ret = p2pmap_layout_usable(layout);
	for (i = 0; i < nr && !ret; i++)
		ret = submit_bio_wait(bios[i]);
	memalloc_noreclaim_restore(noreclaim);
	up_read(&layout->io_lock);

	if (!ret && write) {
		unsigned long b = (pos - layout->start) >> layout->blkbits;
		unsigned long e = b + (len >> layout->blkbits);

		for (; b < e; b++)
			set_bit(b, layout->written);
	}
out_put:
	for (i = 0; i < nr; i++)
		bio_put(bios[i]);
	return ret;
}

/* Page cache over [@pos, @pos + @len) out of the way of a write to the blocks. */
static int p2pmap_layout_drop_cache(struct p2pmap_layout *layout, u64 pos,
				    u64 len)
{
	struct address_space *mapping = layout->file->f_mapping;
	struct p2pmap_layout_self self;
	int ret;

	ret = filemap_write_and_wait_range(mapping, pos, pos + len - 1);
	if (ret)
		return ret;
	p2pmap_layout_self_begin(&self, file_inode(layout->file));
	ret = invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT,
					    (pos + len - 1) >> PAGE_SHIFT);
	p2pmap_layout_self_end(&self);
	return ret;
}

/*
 * ext4 moves blocks in EXT4_IOC_MOVE_EXT without any notifier or lease
 * break: ask fs-hooks whether the extents under [@pos, @pos + @len) are
 * still the file's. A move between this check and the bio is not seen.
 */
static int p2pmap_layout_revalidate(struct p2pmap_layout *layout, u64 pos,
				    u64 len)
{
	struct inode *inode = file_inode(layout->file);
	u64 end = pos + len;
	bool flushed = false;
	int ret;

	if (!layout->vm_ops->device_revalidate)
		return 0;
	while (pos < end) {
		struct p2pmap_layout_kext *k = p2pmap_layout_ext_at(layout, pos);
		struct p2pmap_extent ext = { };

		if (!k)
			return -ERANGE;
		if (k->ue.state != P2PMAP_EXTENT_WRITTEN) {
			pos = k->ue.offset + k->ue.length;
			continue;
		}
		ext.pgoff = k->ue.offset >> PAGE_SHIFT;
		ext.npages = k->ue.length >> PAGE_SHIFT;
		ext.bdev = k->bdev;
		ext.sector = k->ue.sector;
		ext.reason = P2PMAP_REASON_NONE;
		/* the blocks are what is checked, not the change cookie */
		if (IS_I_VERSION(inode))
			ext.cookie = inode_query_iversion(inode);
		ret = layout->vm_ops->device_revalidate(layout->file, &ext);
		if (ret == -ESTALE && !flushed) {
			/* dirty pages elsewhere in the file make it unsure */
			flushed = true;
			ret = filemap_write_and_wait(inode->i_mapping);
			if (!ret)
				continue;
		}
		if (ret == -ESTALE) {
			p2pmap_layout_revoke(layout, P2PMAP_LAYOUT_CAUSE_MOVED);
			mod_delayed_work(system_wq, &layout->fence_work, 0);
		}
		if (ret)
			return ret;
		pos = k->ue.offset + k->ue.length;
	}
	return 0;
}

static long p2pmap_layout_do_io(struct p2pmap_layout *layout,
				struct p2pmap_layout_io *io)
{
	bool write = io->flags & P2PMAP_LAYOUT_IO_WRITE;
	u64 blk = 1ULL << layout->blkbits;
	u64 first = round_down(io->offset, blk);
	u64 last = round_up(io->offset + io->length, blk);
	u8 __user *ubuf = u64_to_user_ptr(io->buf);
	struct page **pages;
	struct bio **bios;
	unsigned int i, nr = P2PMAP_LAYOUT_CHUNK_PAGES;
	u64 pos;
	long ret;

	if (write && layout->iomode != P2PMAP_LAYOUT_RW)
		return -EBADF;
	if (io->offset < layout->start || io->offset + io->length > layout->end)
		return -ERANGE;
	if (write && (first != io->offset || last != io->offset + io->length))
		return -EINVAL;
	ret = p2pmap_layout_usable(layout);
	if (ret)
		return ret;
	ret = p2pmap_layout_revalidate(layout, first, last - first);
	if (ret)
		return ret;

	/* the bounce pages, and room for a bio per extent of a chunk */
	pages = kcalloc(nr, sizeof(*pages) + sizeof(*bios), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	bios = (struct bio **)(pages + nr);
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			ret = -ENOMEM;
			goto out_free_pages;
		}
	}

	if (write) {
		ret = p2pmap_layout_drop_cache(layout, first, last - first);
		if (ret)
			goto out_free_pages;
	}
	for (pos = first; pos < last; ) {
		size_t n = min_t(u64, last - pos, (u64)nr << PAGE_SHIFT);
		u64 ustart = max(pos, io->offset);
		u64 uend = min(pos + n, io->offset + io->length);

		if (write) {
			ret = p2pmap_layout_copy(pages, 0, ubuf + (pos - io->offset),
						 n, true);
			if (!ret)
				ret = p2pmap_layout_chunk_io(layout, pos, n, pages,
							     bios, true);
		} else {
			ret = p2pmap_layout_chunk_io(layout, pos, n, pages,
						     bios, false);
			if (!ret)
				ret = p2pmap_layout_copy(pages, ustart - pos,
							 ubuf + (ustart - io->offset),
							 uend - ustart, false);
		}
		if (ret)
			break;
		pos += n;
	}
	/* readers through the page cache must see the blocks */
	if (write && pos > first)
		p2pmap_layout_drop_cache(layout, first, pos - first);

out_free_pages:
	for (i = 0; i < nr && pages[i]; i++)
		__free_page(pages[i]);
	kfree(pages);
	return ret;
}

static long p2pmap_layout_ioc_io(struct p2pmap_layout_ctx *ctx,
				 void __user *uarg)
{
	struct p2pmap_layout *layout;
	struct p2pmap_layout_io io;
	long ret;

	if (copy_from_user(&io, uarg, sizeof(io)))
		return -EFAULT;
	if (io.size != sizeof(io) || io.flags & ~P2PMAP_LAYOUT_IO_WRITE ||
	    io.__pad || memchr_inv(io.reserved, 0, sizeof(io.reserved)) ||
	    !io.length || io.length > P2PMAP_LAYOUT_MAX_IO ||
	    io.offset + io.length < io.offset)
		return -EINVAL;
	layout = p2pmap_layout_find(ctx, io.id);
	if (!layout)
		return -ENOENT;
	ret = p2pmap_layout_do_io(layout, &io);
	p2pmap_layout_put(layout);
	return ret;
}

/* ------------------------------------------------------------------------
 * LAYOUT_COMMIT, LAYOUT_RETURN
 * ------------------------------------------------------------------------
 */

/* Every block of @r inside an unwritten extent was written through the layout. */
static int p2pmap_layout_check_written(struct p2pmap_layout *layout,
				       const struct p2pmap_layout_range *r)
{
	u64 pos = r->offset, end = r->offset + r->length;

	while (pos < end) {
		struct p2pmap_layout_kext *k = p2pmap_layout_ext_at(layout, pos);
		u64 e;

		if (!k)
			return -ERANGE;
		e = min(end, k->ue.offset + k->ue.length);
		if (k->ue.state == P2PMAP_EXTENT_UNWRITTEN) {
			unsigned long b = (round_down(pos, 1ULL << layout->blkbits) -
					   layout->start) >> layout->blkbits;
			unsigned long eb = (round_up(e, 1ULL << layout->blkbits) -
					    layout->start) >> layout->blkbits;

			if (find_next_zero_bit(layout->written, eb, b) < eb)
				return -EINVAL;
		} else if (k->ue.state == P2PMAP_EXTENT_HOLE) {
			return -EINVAL;
		}
		pos = e;
	}
	return 0;
}

static int p2pmap_layout_do_commit(struct p2pmap_layout *layout,
				   struct p2pmap_layout_commit *c,
				   struct p2pmap_layout_range *ranges)
{
	struct inode *inode = file_inode(layout->file);
	struct p2pmap_layout_self self;
	struct p2pmap_block_map *maps;
	loff_t new_size = -1;
	unsigned int i;
	int ret;

	for (i = 0; i < c->nr_ranges; i++) {
		struct p2pmap_layout_range *r = &ranges[i];

		if (!r->length || r->offset + r->length < r->offset)
			return -EINVAL;
		if (r->offset < layout->start ||
		    r->offset + r->length > layout->end)
			return -ERANGE;
		ret = p2pmap_layout_check_written(layout, r);
		if (ret)
			return ret;
	}
	if (c->flags & P2PMAP_LAYOUT_COMMIT_SIZE) {
		if (c->new_size > layout->end)
			return -ERANGE;
		if (c->new_size > i_size_read(inode))
			new_size = c->new_size;
	}

	maps = kcalloc(c->nr_ranges, sizeof(*maps), GFP_KERNEL);
	if (!maps)
		return -ENOMEM;
	for (i = 0; i < c->nr_ranges; i++) {
		struct p2pmap_layout_kext *k =
			p2pmap_layout_ext_at(layout, ranges[i].offset);

		maps[i].offset = ranges[i].offset;
		maps[i].length = ranges[i].length;
		maps[i].bdev = k->bdev;
		maps[i].type = k->ue.state == P2PMAP_EXTENT_UNWRITTEN ?
			       P2PMAP_BLOCKS_UNWRITTEN : P2PMAP_BLOCKS_MAPPED;
	}

	/*
	 * Not under the I/O lock: a fence may come from a notifier called
	 * with the file system's locks held (XFS_IOC_SWAPEXT holds the
	 * IOLOCK that commit_blocks takes). The file system orders a commit
	 * and the operation that broke the layout itself: XFS converts
	 * nothing past a size a truncate has set, under its IOLOCK.
	 */
	ret = p2pmap_layout_usable(layout);
	if (ret)
		goto out_free;
	/*
	 * Converts unwritten extents, sets the size and times, drops the
	 * ranges' page cache (which must not count as a truncate here).
	 */
	p2pmap_layout_self_begin(&self, inode);
	ret = layout->vm_ops->commit_blocks(layout->file, maps, c->nr_ranges,
					    new_size);
	p2pmap_layout_self_end(&self);
	if (!ret)
		ret = vfs_fsync_range(layout->file, 0, LLONG_MAX, 1);
out_free:
	kfree(maps);
	return ret;
}

static long p2pmap_layout_ioc_commit(struct p2pmap_layout_ctx *ctx,
				     void __user *uarg)
{
	struct p2pmap_layout_range *ranges;
	struct p2pmap_layout_commit c;
	struct p2pmap_layout *layout;
	long ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (c.size != sizeof(c) || c.flags & ~P2PMAP_LAYOUT_COMMIT_SIZE ||
	    memchr_inv(c.reserved, 0, sizeof(c.reserved)) || !c.nr_ranges ||
	    c.nr_ranges > P2PMAP_LAYOUT_MAX_RANGES ||
	    (!(c.flags & P2PMAP_LAYOUT_COMMIT_SIZE) && c.new_size))
		return -EINVAL;
	ranges = memdup_user(u64_to_user_ptr(c.ranges),
			     c.nr_ranges * sizeof(*ranges));
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	layout = p2pmap_layout_find(ctx, c.id);
	ret = -ENOENT;
	if (!layout)
		goto out_free;
	ret = -EBADF;
	if (layout->iomode == P2PMAP_LAYOUT_RW)
		ret = p2pmap_layout_do_commit(layout, &c, ranges);
	p2pmap_layout_put(layout);
out_free:
	kfree(ranges);
	return ret;
}

static long p2pmap_layout_ioc_return(struct p2pmap_layout_ctx *ctx,
				     void __user *uarg)
{
	struct p2pmap_layout_return r;
	struct p2pmap_layout *layout;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (r.size != sizeof(r) || r.flags || r.__pad ||
	    memchr_inv(r.reserved, 0, sizeof(r.reserved)))
		return -EINVAL;
	if (!r.id)
		return -ENOENT;
	mutex_lock(&ctx->lock);
	layout = xa_erase(&ctx->layouts, r.id);
	mutex_unlock(&ctx->lock);
	if (!layout)
		return -ENOENT;
	atomic_dec(&ctx->count);
	p2pmap_layout_shutdown(layout);
	p2pmap_layout_put(layout);	/* the xarray's reference */
	return 0;
}

/* ------------------------------------------------------------------------
 * The /dev/p2pmap file: ioctls, events, close
 * ------------------------------------------------------------------------
 */

/**
 * p2pmap_layout_open() - set up the layouts of a new open of /dev/p2pmap
 * @file: the /dev/p2pmap file.
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int p2pmap_layout_open(struct file *file)
{
	struct p2pmap_layout_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->layouts, XA_FLAGS_ALLOC1);
	init_waitqueue_head(&ctx->wait);
	file->private_data = ctx;
	return 0;
}

/**
 * p2pmap_layout_release() - return every layout of a closing /dev/p2pmap
 * @file: the /dev/p2pmap file.
 *
 * Context: process context; waits for I/O in flight through the layouts.
 */
void p2pmap_layout_release(struct file *file)
{
	struct p2pmap_layout_ctx *ctx = file->private_data;
	struct p2pmap_layout *layout;
	unsigned long id;

	mutex_lock(&ctx->lock);
	xa_for_each(&ctx->layouts, id, layout) {
		xa_erase(&ctx->layouts, id);
		p2pmap_layout_shutdown(layout);
		p2pmap_layout_put(layout);
	}
	mutex_unlock(&ctx->lock);
	xa_destroy(&ctx->layouts);
	kfree(ctx);
}

/**
 * p2pmap_layout_ioctl() - the layout ioctls of /dev/p2pmap
 * @file: the /dev/p2pmap file.
 * @cmd: P2PMAP_IOC_LAYOUT_*.
 * @uarg: the user's argument.
 *
 * Context: process context.
 * Return: the ioctl's result, -ENOTTY for another @cmd.
 */
long p2pmap_layout_ioctl(struct file *file, unsigned int cmd,
			 void __user *uarg)
{
	struct p2pmap_layout_ctx *ctx = file->private_data;

	switch (cmd) {
	case P2PMAP_IOC_LAYOUT_GET:
		return p2pmap_layout_ioc_get(ctx, uarg);
	case P2PMAP_IOC_LAYOUT_COMMIT:
		return p2pmap_layout_ioc_commit(ctx, uarg);
	case P2PMAP_IOC_LAYOUT_RETURN:
		return p2pmap_layout_ioc_return(ctx, uarg);
	case P2PMAP_IOC_LAYOUT_IO:
		return p2pmap_layout_ioc_io(ctx, uarg);
	default:
		return -ENOTTY;
	}
}

/* Collect up to @max pending events into @ev. */
static size_t p2pmap_layout_collect(struct p2pmap_layout_ctx *ctx,
				    struct p2pmap_layout_event *ev, size_t max)
{
	struct p2pmap_layout *layout;
	unsigned long id, flags;
	size_t n = 0;

	mutex_lock(&ctx->lock);
	xa_for_each(&ctx->layouts, id, layout) {
		spin_lock_irqsave(&layout->state_lock, flags);
		while (layout->events && n < max) {
			u32 type = layout->events & P2PMAP_LAYOUT_EV_RECALL ?
				P2PMAP_LAYOUT_EV_RECALL : P2PMAP_LAYOUT_EV_REVOKED;
			long left = (long)(layout->deadline - jiffies);

			layout->events &= ~type;
			atomic_dec(&ctx->pending);
			ev[n].id = layout->id;
			ev[n].type = type == P2PMAP_LAYOUT_EV_RECALL ?
				P2PMAP_LAYOUT_EVENT_RECALL :
				P2PMAP_LAYOUT_EVENT_REVOKED;
			ev[n].cause = type == P2PMAP_LAYOUT_EV_RECALL ?
				layout->recall_cause : layout->cause;
			ev[n].break_ms = type == P2PMAP_LAYOUT_EV_RECALL &&
				left > 0 ? jiffies_to_msecs(left) : 0;
			n++;
		}
		spin_unlock_irqrestore(&layout->state_lock, flags);
		if (n == max)
			break;
	}
	mutex_unlock(&ctx->lock);
	return n;
}

/**
 * p2pmap_layout_read() - read recall and revocation events
 * @file: the /dev/p2pmap file.
 * @buf: user buffer for struct p2pmap_layout_event entries.
 * @count: its size.
 * @nonblock: fail with -EAGAIN instead of waiting.
 *
 * Context: process context; may wait for an event.
 * Return: bytes read, -EINVAL for a buffer smaller than one event, -EAGAIN,
 * -ERESTARTSYS or -EFAULT.
 */
ssize_t p2pmap_layout_read(struct file *file, char __user *buf, size_t count,
			   bool nonblock)
{
	struct p2pmap_layout_ctx *ctx = file->private_data;
	struct p2pmap_layout_event ev[P2PMAP_LAYOUT_MAX_EVENTS];
	size_t max = min_t(size_t, count / sizeof(ev[0]), ARRAY_SIZE(ev));
	size_t n;
	int ret;

	if (!max)
		return -EINVAL;
	for (;;) {
		n = p2pmap_layout_collect(ctx, ev, max);
		if (n)
			break;
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(ctx->wait,
					       atomic_read(&ctx->pending) > 0);
		if (ret)
			return ret;
	}
	if (copy_to_user(buf, ev, n * sizeof(ev[0])))
		return -EFAULT;
	return n * sizeof(ev[0]);
}

/**
 * p2pmap_layout_poll() - whether recall or revocation events are pending
 * @file: the /dev/p2pmap file.
 * @wait: the poll table.
 *
 * Context: process context.
 * Return: EPOLLIN | EPOLLRDNORM | EPOLLPRI when read() has events, else 0.
 */
__poll_t p2pmap_layout_poll(struct file *file, poll_table *wait)
{
	struct p2pmap_layout_ctx *ctx = file->private_data;

	poll_wait(file, &ctx->wait, wait);
	if (atomic_read(&ctx->pending) > 0)
		return EPOLLIN | EPOLLRDNORM | EPOLLPRI;
	return 0;
}
