// SPDX-License-Identifier: GPL-2.0
/*
 * fs-hooks: the device-map engine that XFS and ext4 share, and the module
 * that attaches it to both file-system types.
 *
 * Only exported interfaces are used:
 *  - bmap() gives the block of one file block, and 0 for a hole, an
 *    unwritten extent, a delayed allocation, and (XFS) every block of a
 *    reflink inode. Both file systems implement it with iomap_bmap(),
 *    which first writes back the WHOLE file (filemap_write_and_wait()):
 *    bmap() is therefore only called while the file has no dirty page.
 *  - FIEMAP in counting mode (fi_extents_max == 0, nothing is copied out):
 *    the number of extents in a range, holes not counted. It tells a hole
 *    from an allocated range without touching the page cache.
 *  - the page cache: a clean, up-to-date page over a block that bmap()
 *    does not map holds zeros when the block is unwritten, and the file's
 *    data when it belongs to an XFS reflink inode.
 * SEEK_DATA is not used: llseek moves f_pos, and the caller's file is the
 * user's; a private file would do, but its last fput() runs xfs_release(),
 * which may free post-EOF preallocation (a transaction) and start
 * writeback.
 *
 * docs/fs-hooks.md describes each answer and what cannot be told apart.
 */
#define pr_fmt(fmt) "p2pmap_fs: " fmt

#include <linux/blkdev.h>
#include <linux/cred.h>
#include <linux/fiemap.h>
#include <linux/file.h>
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iversion.h>
#include <linux/lockdep.h>
#include <linux/mm_types.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "internal.h"

#define P2PMAP_FS_PAGE_SECTORS	(PAGE_SIZE >> SECTOR_SHIFT)
/* at most this many pages are read ahead at once (2 MiB) */
#define P2PMAP_FS_MAX_READAHEAD	512

/**
 * struct p2pmap_fs_walk - the state of one device_map or revalidate call
 * @fs: the file system's description.
 * @file: the caller's file; only read.
 * @inode: file_inode(@file).
 * @mapping: @inode's page cache.
 * @bdev: the block device of @inode's super block.
 * @blkbits: log2 of the file system's block size (at most PAGE_SHIFT).
 * @last: the last page the caller asked about: reading ahead stops there.
 * @why: find out why a page is refused; when false (revalidation) any
 *	reason will do and nothing is read.
 */
struct p2pmap_fs_walk {
	const struct p2pmap_fs *fs;
	struct file *file;
	struct inode *inode;
	struct address_space *mapping;
	struct block_device *bdev;
	unsigned int blkbits;
	pgoff_t last;
	bool why;
};

/* What one page of the file is: a reason, and its sector when it is NONE. */
struct p2pmap_fs_page {
	enum p2pmap_reason reason;
	sector_t sector;
};

/* What the page cache says about one block that bmap() does not map. */
enum p2pmap_fs_cached {
	P2PMAP_FS_NOT_CACHED,	/* no page */
	P2PMAP_FS_READING,	/* a page that is not up to date yet */
	P2PMAP_FS_CACHED_ZERO,	/* clean, up to date, all zeros */
	P2PMAP_FS_CACHED_DATA,	/* clean, up to date, not zeros */
	P2PMAP_FS_CACHED_DIRTY,	/* dirty or under writeback */
	P2PMAP_FS_READ_ERROR,	/* reading it in failed */
};

void p2pmap_fs_assert_unlocked(void)
{
	might_sleep();
	/* a file system's locks rank above mmap_lock */
	if (current->mm)
		lockdep_assert_not_held(&current->mm->mmap_lock);
}

/*
 * Whether pages [@first, @last] hold data newer than their blocks: dirty, or
 * being written back. The page-cache tags answer without looking at each
 * page (filemap_range_needs_writeback() would also count locked pages,
 * which every read in flight holds).
 */
static bool p2pmap_fs_range_dirty(struct address_space *mapping,
				  pgoff_t first, pgoff_t last)
{
	unsigned long index = first;

	if (xa_find(&mapping->i_pages, &index, last, PAGECACHE_TAG_DIRTY))
		return true;
	index = first;
	return xa_find(&mapping->i_pages, &index, last,
		       PAGECACHE_TAG_WRITEBACK) != NULL;
}

/* Whether @file is an XFS realtime file (its blocks are on another device). */
bool p2pmap_fs_is_realtime(struct file *file)
{
	struct fileattr fa = { };

	return !vfs_fileattr_get(file_dentry(file), &fa) &&
	       (fa.fsx_xflags & FS_XFLAG_REALTIME);
}

/* A reason that covers the whole file, or NONE. */
enum p2pmap_reason p2pmap_fs_file_reason(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct fileattr fa = { };

	if (IS_ENCRYPTED(inode) || IS_VERITY(inode) || IS_DAX(inode))
		return P2PMAP_REASON_ENCRYPTED;
	if (!vfs_fileattr_get(file_dentry(file), &fa)) {
		/* ext4's inline_data: the data is in the inode, not in blocks */
		if (fa.flags & FS_INLINE_DATA_FL)
			return P2PMAP_REASON_INLINE;
		/* XFS realtime: the blocks are on a device we cannot name */
		if (fa.fsx_xflags & FS_XFLAG_REALTIME)
			return P2PMAP_REASON_UNSUPPORTED_FS;
	}
	return P2PMAP_REASON_NONE;
}

/*
 * Write back the range [@first, @last] if it has dirty pages (unless
 * @probe: then nothing is written), and say whether blocks may be looked
 * up now: NONE when the whole file is clean, DIRTY when some page is dirty
 * (here because a writer raced or @probe, or elsewhere: bmap() would write
 * back the whole file), ERROR when the range could not be written.
 */
static enum p2pmap_reason p2pmap_fs_settle(struct address_space *mapping,
					   pgoff_t first, pgoff_t last,
					   bool probe)
{
	if (!probe && p2pmap_fs_range_dirty(mapping, first, last) &&
	    filemap_write_and_wait_range(mapping, (loff_t)first << PAGE_SHIFT,
					 ((loff_t)(last + 1) << PAGE_SHIFT) - 1))
		return P2PMAP_REASON_ERROR;
	if (mapping_tagged(mapping, PAGECACHE_TAG_DIRTY))
		return P2PMAP_REASON_DIRTY;
	return P2PMAP_REASON_NONE;
}

/*
 * FIEMAP in counting mode: the number of extents (written, unwritten or
 * delayed; holes are never reported) that [@pos, @pos + @len) touches.
 * With fi_extents_max == 0 fiemap_fill_next_extent() only counts, so no
 * user buffer is needed. XFS takes the IOLOCK (i_rwsem) shared here.
 */
static int p2pmap_fs_count_extents(struct p2pmap_fs_walk *w, loff_t pos,
				   loff_t len, unsigned int *count)
{
	struct fiemap_extent_info fieinfo = { };
	int ret;

	if (!w->inode->i_op->fiemap)
		return -EOPNOTSUPP;
	ret = w->inode->i_op->fiemap(w->inode, &fieinfo, pos, len);
	if (ret)
		return ret;
	*count = fieinfo.fi_extents_mapped;
	return 0;
}

/*
 * What the page cache holds for the block at @pos. With @read, a missing
 * page is read in first: an unwritten block reads as zeros without I/O, a
 * written one is read from the device. The caller serves such a page from
 * the page cache anyway, so the read is not extra work.
 */
static enum p2pmap_fs_cached p2pmap_fs_cached(struct p2pmap_fs_walk *w,
					      loff_t pos, bool read)
{
	enum p2pmap_fs_cached state = P2PMAP_FS_NOT_CACHED;
	struct folio *folio;
	void *kaddr;

	/* pairs with folio_put() below */
	if (read) {
		/* also waits for a read in flight (readahead) */
		folio = read_mapping_folio(w->mapping, pos >> PAGE_SHIFT, NULL);
		if (IS_ERR(folio))
			return P2PMAP_FS_READ_ERROR;
	} else {
		folio = filemap_get_folio(w->mapping, pos >> PAGE_SHIFT);
		if (!folio)
			return state;
	}
	if (folio_test_dirty(folio) || folio_test_writeback(folio)) {
		state = P2PMAP_FS_CACHED_DIRTY;
	} else if (!folio_test_uptodate(folio)) {
		state = P2PMAP_FS_READING;
	} else {
		/* one block never crosses a page: blocksize <= PAGE_SIZE */
		kaddr = kmap_local_folio(folio, offset_in_folio(folio, pos));
		state = memchr_inv(kaddr, 0, 1U << w->blkbits) ?
			P2PMAP_FS_CACHED_DATA : P2PMAP_FS_CACHED_ZERO;
		kunmap_local(kaddr);
	}
	folio_put(folio);
	return state;
}

/*
 * Read the pages from @index on that belong to the same allocated extent
 * (FIEMAP counts one extent in them; a hole after it is included), at most
 * P2PMAP_FS_MAX_READAHEAD and not beyond @w->last, with one readahead
 * instead of one synchronous read per page. They are about to be served
 * from the page cache.
 */
static void p2pmap_fs_readahead(struct p2pmap_fs_walk *w, pgoff_t index)
{
	unsigned long lo = 1, hi = min_t(unsigned long, w->last - index + 1,
					 P2PMAP_FS_MAX_READAHEAD);
	struct file_ra_state ra;
	unsigned int count;

	while (lo < hi) {
		unsigned long mid = lo + (hi - lo + 1) / 2;

		if (p2pmap_fs_count_extents(w, (loff_t)index << PAGE_SHIFT,
					    (loff_t)mid << PAGE_SHIFT, &count))
			break;
		if (count > 1)
			hi = mid - 1;
		else
			lo = mid;
	}
	/* a window of exactly @lo pages: see ondemand_readahead() */
	file_ra_state_init(&ra, w->mapping);
	ra.ra_pages = lo;
	page_cache_sync_readahead(w->mapping, &ra, NULL, index, lo);
}

/*
 * Why the block at @pos, which bmap() does not map, cannot be read in
 * place. The file is clean (p2pmap_fs_settle()).
 */
static int p2pmap_fs_unmapped(struct p2pmap_fs_walk *w, loff_t pos,
			      struct p2pmap_fs_page *pg)
{
	enum p2pmap_fs_cached state;
	unsigned int count;
	int ret;

	if (!w->why) {
		pg->reason = P2PMAP_REASON_HOLE;	/* not NONE is enough */
		return 0;
	}
	ret = p2pmap_fs_count_extents(w, pos, 1U << w->blkbits, &count);
	if (ret)
		return ret;
	if (!count) {
		pg->reason = P2PMAP_REASON_HOLE;
		return 0;
	}

	/*
	 * Allocated, but bmap() does not map it: unwritten, delayed (its page
	 * is dirty), or (XFS) a reflink inode's data. Where the file system
	 * has no reflink, a clean block is unwritten; elsewhere the page tells:
	 * an unwritten block reads as zeros.
	 */
	state = p2pmap_fs_cached(w, pos, false);
	if (state == P2PMAP_FS_NOT_CACHED || state == P2PMAP_FS_READING) {
		if (!w->fs->read_unmapped) {
			pg->reason = P2PMAP_REASON_UNWRITTEN;
			return 0;
		}
		if (state == P2PMAP_FS_NOT_CACHED)
			p2pmap_fs_readahead(w, pos >> PAGE_SHIFT);
		state = p2pmap_fs_cached(w, pos, true);
	}
	switch (state) {
	case P2PMAP_FS_CACHED_DIRTY:
		pg->reason = P2PMAP_REASON_DIRTY;
		break;
	case P2PMAP_FS_CACHED_DATA:
		pg->reason = w->fs->unmapped_data;
		break;
	case P2PMAP_FS_READ_ERROR:
		pg->reason = P2PMAP_REASON_ERROR;
		break;
	case P2PMAP_FS_CACHED_ZERO:
	case P2PMAP_FS_NOT_CACHED:
	case P2PMAP_FS_READING:		/* truncated while it was read */
		/* what an unwritten block reads as; a shared block of zeros too */
		pg->reason = P2PMAP_REASON_UNWRITTEN;
		break;
	}
	return 0;
}

/* What page @index of the file is. */
static int p2pmap_fs_classify(struct p2pmap_fs_walk *w, pgoff_t index,
			      struct p2pmap_fs_page *pg)
{
	unsigned int shift = PAGE_SHIFT - w->blkbits;
	sector_t first = (sector_t)index << shift;
	sector_t phys0 = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < 1U << shift; i++) {
		sector_t phys = first + i;

		ret = bmap(w->inode, &phys);
		if (ret)
			return ret;
		if (!phys)
			return p2pmap_fs_unmapped(w,
						  (loff_t)(first + i) << w->blkbits,
						  pg);
		if (!i) {
			phys0 = phys;
		} else if (phys != phys0 + i) {
			/* the blocks of one page are not contiguous */
			pg->reason = P2PMAP_REASON_NOT_ALIGNED;
			return 0;
		}
	}

	pg->sector = phys0 << (w->blkbits - SECTOR_SHIFT);
	if ((get_start_sect(w->bdev) + pg->sector) &
	    (P2PMAP_FS_PAGE_SECTORS - 1)) {
		pg->reason = P2PMAP_REASON_NOT_ALIGNED;
		return 0;
	}
	pg->reason = P2PMAP_REASON_NONE;
	return 0;
}

/*
 * The length of the hole that starts at page @index, at most @max pages:
 * FIEMAP counts no extent in it. A binary search, O(log @max) calls.
 */
static int p2pmap_fs_hole_run(struct p2pmap_fs_walk *w, pgoff_t index,
			      unsigned long max, unsigned long *run)
{
	unsigned long lo = 1, hi = max;
	unsigned int count;
	int ret;

	while (lo < hi) {
		unsigned long mid = lo + (hi - lo + 1) / 2;

		ret = p2pmap_fs_count_extents(w, (loff_t)index << PAGE_SHIFT,
					      (loff_t)mid << PAGE_SHIFT, &count);
		if (ret)
			return ret;
		if (count)
			hi = mid - 1;
		else
			lo = mid;
	}
	*run = lo;
	return 0;
}

/*
 * Whether pages [@index, @index + @n) are written blocks of one extent
 * that goes on from @first (page @index, P2PMAP_REASON_NONE): the last page
 * maps where that extent puts it, and FIEMAP counts one extent in the
 * range -- an extent is physically contiguous and of one kind, so every
 * page between maps in line. Three lookups instead of one bmap() per
 * block; false (the caller looks page by page) when in doubt.
 */
static bool p2pmap_fs_one_extent(struct p2pmap_fs_walk *w, pgoff_t index,
				 unsigned long n,
				 const struct p2pmap_fs_page *first)
{
	struct p2pmap_fs_page last;
	unsigned int count;
	bool why = w->why;
	int ret;

	if (n < 2)
		return true;
	/* no reading in, no FIEMAP for an unmapped last page: just "no" */
	w->why = false;
	ret = p2pmap_fs_classify(w, index + n - 1, &last);
	w->why = why;
	if (ret || last.reason != P2PMAP_REASON_NONE ||
	    last.sector != first->sector + (n - 1) * P2PMAP_FS_PAGE_SECTORS)
		return false;
	if (p2pmap_fs_count_extents(w, (loff_t)index << PAGE_SHIFT,
				    (loff_t)n << PAGE_SHIFT, &count))
		return false;
	return count == 1;
}

/* The longest run from @index, at most @max pages, that is like @first. */
static int p2pmap_fs_run(struct p2pmap_fs_walk *w, pgoff_t index,
			 unsigned long max, const struct p2pmap_fs_page *first,
			 unsigned long *run)
{
	struct p2pmap_fs_page next;
	unsigned long n, lo, hi;

	if (first->reason == P2PMAP_REASON_HOLE)
		return p2pmap_fs_hole_run(w, index, max, run);

	/*
	 * Written blocks: the whole range in one extent (the common case), or
	 * the part of it that is (a binary search, O(log @max) lookups).
	 */
	if (first->reason == P2PMAP_REASON_NONE && max > 1 &&
	    p2pmap_fs_one_extent(w, index, 2, first)) {
		lo = 2;
		hi = max;
		if (p2pmap_fs_one_extent(w, index, hi, first))
			lo = hi;
		while (lo < hi) {
			unsigned long mid = lo + (hi - lo + 1) / 2;

			cond_resched();
			if (fatal_signal_pending(current))
				break;
			if (p2pmap_fs_one_extent(w, index, mid, first))
				lo = mid;
			else
				hi = mid - 1;
		}
		*run = lo;
		return 0;
	}

	for (n = 1; n < max; n++) {
		cond_resched();
		/* a shorter extent is a valid answer: the caller asks again */
		if (fatal_signal_pending(current))
			break;
		if (p2pmap_fs_classify(w, index + n, &next))
			break;	/* reported when the caller asks for that page */
		if (next.reason != first->reason)
			break;
		if (first->reason == P2PMAP_REASON_NONE &&
		    next.sector != first->sector + n * P2PMAP_FS_PAGE_SECTORS)
			break;
	}
	*run = n;
	return 0;
}

static void p2pmap_fs_walk_init(struct p2pmap_fs_walk *w,
				const struct p2pmap_fs *fs, struct file *file,
				pgoff_t last, bool why)
{
	w->fs = fs;
	w->file = file;
	w->inode = file_inode(file);
	w->mapping = w->inode->i_mapping;
	w->bdev = w->inode->i_sb->s_bdev;
	w->blkbits = w->inode->i_blkbits;
	w->last = last;
	w->why = why;
}

/**
 * p2pmap_fs_map() - the device_map callback of a file system
 * @fs: the file system's description.
 * @file: a regular file of that file system, referenced by the caller.
 * @pgoff: first page of the range.
 * @npages: at most this many pages.
 * @flags: P2PMAP_FAULT_WRITE (described like a read: the core decides
 *	what a device may write), P2PMAP_MAP_PROBE (nothing is written back:
 *	a range with dirty pages is refused with P2PMAP_REASON_DIRTY).
 * @ext: the answer: the longest run from @pgoff that is one extent of
 *	blocks (P2PMAP_REASON_NONE, @ext->bdev, @ext->sector: physically
 *	contiguous and page-aligned on the device) or one refusal with its
 *	reason; @ext->cookie for p2pmap_fs_revalidate().
 *
 * Dirty pages in the range are written back first (the range only); if
 * the file still has dirty pages anywhere the range is refused with
 * P2PMAP_REASON_DIRTY, because bmap() would write back the whole file.
 * On XFS a page that bmap() does not map, that FIEMAP says is allocated
 * and that is not in the page cache is read into the page cache (zeros
 * without I/O when it is unwritten): its content tells an unwritten block
 * from a reflink inode's data, and the caller serves it from the page cache
 * anyway.
 *
 * No lock is held across the lookups (bmap() takes i_rwsem on ext4,
 * FIEMAP on XFS: holding it here would recurse), so the extent may change
 * as soon as it is computed. Truncate and hole punch unmap the page cache
 * before they free blocks, which the caller's mmu notifier sees; what no
 * notifier sees is caught by p2pmap_fs_revalidate().
 *
 * Context: process context, without mmap_lock; sleeps (writeback, I/O).
 * Return: 0 with @ext filled in, -EINVAL for bad arguments or a file that
 * is not regular, -EFAULT when @pgoff is at or beyond the end of the file
 * (there is no page: a CPU access gets SIGBUS, hmm_range_fault() -EFAULT,
 * and the device gets the same answer), or another negative errno from the
 * file system.
 */
int p2pmap_fs_map(const struct p2pmap_fs *fs, struct file *file, pgoff_t pgoff,
		  unsigned long npages, unsigned int flags,
		  struct p2pmap_extent *ext)
{
	struct inode *inode = file_inode(file);
	struct p2pmap_fs_walk w;
	struct p2pmap_fs_page first;
	enum p2pmap_reason reason;
	unsigned long max, run;
	loff_t size;
	int ret;

	p2pmap_fs_assert_unlocked();
	if (!npages || (flags & ~(P2PMAP_FAULT_WRITE | P2PMAP_MAP_PROBE)) ||
	    !S_ISREG(inode->i_mode))
		return -EINVAL;

	memset(ext, 0, sizeof(*ext));
	size = i_size_read(inode);
	if (!size || pgoff > (pgoff_t)((size - 1) >> PAGE_SHIFT))
		return -EFAULT;
	max = min_t(unsigned long, npages,
		    ((size - 1) >> PAGE_SHIFT) - pgoff + 1);
	ext->pgoff = pgoff;
	ext->npages = max;

	if (inode->i_blkbits > PAGE_SHIFT || !inode->i_sb->s_bdev) {
		ext->reason = P2PMAP_REASON_UNSUPPORTED_FS;
		return 0;
	}
	reason = p2pmap_fs_file_reason(file);
	if (reason == P2PMAP_REASON_NONE)
		reason = p2pmap_fs_settle(inode->i_mapping, pgoff,
					  pgoff + max - 1,
					  flags & P2PMAP_MAP_PROBE);
	if (reason != P2PMAP_REASON_NONE) {
		ext->reason = reason;
		return 0;
	}

	/*
	 * After the range was written back (on XFS that allocates blocks,
	 * which moves i_version) and before any block is looked up: a change
	 * from now on moves it.
	 */
	if (IS_I_VERSION(inode))
		ext->cookie = inode_query_iversion(inode);
	p2pmap_fs_walk_init(&w, fs, file, pgoff + max - 1, true);
	ret = p2pmap_fs_classify(&w, pgoff, &first);
	if (!ret)
		ret = p2pmap_fs_run(&w, pgoff, max, &first, &run);
	if (ret)
		return ret;

	ext->npages = run;
	ext->reason = first.reason;
	if (first.reason == P2PMAP_REASON_NONE) {
		ext->bdev = w.bdev;
		ext->sector = first.sector;
	}
	return 0;
}

/**
 * p2pmap_fs_revalidate() - the device_revalidate callback of a file system
 * @fs: the file system's description.
 * @file: the file @ext was described for.
 * @ext: a P2PMAP_REASON_NONE extent from p2pmap_fs_map().
 *
 * @ext is stale when the file changed since it was described (i_version
 * moved: a write, a truncate, a change of the block map), when the range
 * has dirty pages, or when the range is no longer on the same blocks. On
 * XFS every block-map change bumps i_version, so an unchanged cookie and a
 * clean range suffice; ext4's EXT4_IOC_MOVE_EXT does not bump it, so the
 * range is looked up again (its first and last pages and one FIEMAP when
 * it is still one extent in line, else one bmap() per block), and while
 * the file has dirty pages anywhere that cannot be done without a whole-file writeback:
 * the answer is then -ESTALE.
 *
 * Context: process context, without mmap_lock; may sleep.
 * Return: 0 when @ext still holds, -ESTALE when it must be revoked and
 * faulted again, -EINVAL when @ext is not a P2PMAP_REASON_NONE extent of
 * @file's block device, or another negative errno from the file system.
 */
int p2pmap_fs_revalidate(const struct p2pmap_fs *fs, struct file *file,
			 const struct p2pmap_extent *ext)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = inode->i_mapping;
	bool versioned = IS_I_VERSION(inode);
	struct p2pmap_fs_walk w;
	struct p2pmap_fs_page pg;
	unsigned long i;
	int ret = 0;

	p2pmap_fs_assert_unlocked();
	if (ext->reason != P2PMAP_REASON_NONE || !ext->npages ||
	    !S_ISREG(inode->i_mode) || !inode->i_sb->s_bdev ||
	    ext->bdev != inode->i_sb->s_bdev ||
	    inode->i_blkbits > PAGE_SHIFT)
		return -EINVAL;

	if (versioned && !inode_eq_iversion(inode, ext->cookie))
		return -ESTALE;
	if (p2pmap_fs_range_dirty(mapping, ext->pgoff,
				  ext->pgoff + ext->npages - 1))
		return -ESTALE;
	if (versioned && fs->cookie_sees_moves)
		return 0;
	if (mapping_tagged(mapping, PAGECACHE_TAG_DIRTY))
		return -ESTALE;

	p2pmap_fs_walk_init(&w, fs, file, ext->pgoff + ext->npages - 1, false);
	ret = p2pmap_fs_classify(&w, ext->pgoff, &pg);
	if (ret)
		return ret;
	if (pg.reason != P2PMAP_REASON_NONE || pg.sector != ext->sector)
		return -ESTALE;
	/* still one extent in line with the first page: nothing moved */
	if (p2pmap_fs_one_extent(&w, ext->pgoff, ext->npages, &pg))
		return 0;
	for (i = 1; i < ext->npages; i++) {
		cond_resched();
		ret = p2pmap_fs_classify(&w, ext->pgoff + i, &pg);
		if (ret)
			break;
		if (pg.reason != P2PMAP_REASON_NONE ||
		    pg.sector != ext->sector + i * P2PMAP_FS_PAGE_SECTORS) {
			ret = -ESTALE;
			break;
		}
	}
	return ret;
}

/* ---- the module: attach to every file-system type that is available ---- */

static struct p2pmap_fs *const p2pmap_fs_all[] = {
	&p2pmap_fs_xfs,
	&p2pmap_fs_ext4,
};

static int p2pmap_fs_attach(struct p2pmap_fs *fs)
{
	struct file_system_type *fstype;
	int ret;

	/*
	 * Loads the file system's module if it is not loaded yet, and takes a
	 * reference on it: the type cannot go away while its callbacks are
	 * registered. Pairs with module_put() in p2pmap_fs_detach().
	 */
	fstype = get_fs_type(fs->name);
	if (!fstype) {
		pr_info("%s is not available: no device-map callbacks for it\n",
			fs->name);
		return 0;
	}
	ret = p2pmap_vm_ops_register(fstype, fs->vm_ops);
	if (ret) {
		pr_err("cannot register the device-map callbacks of %s: %d\n",
		       fs->name, ret);
		module_put(fstype->owner);
		return ret;
	}
	fs->fstype = fstype;
	pr_info("device-map callbacks attached to %s\n", fs->name);
	return 0;
}

static void p2pmap_fs_detach(struct p2pmap_fs *fs)
{
	if (!fs->fstype)
		return;
	p2pmap_vm_ops_unregister(fs->fstype);
	module_put(fs->fstype->owner);
	fs->fstype = NULL;
}

static int __init p2pmap_fs_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(p2pmap_fs_all); i++) {
		ret = p2pmap_fs_attach(p2pmap_fs_all[i]);
		if (ret)
			goto out_detach;
	}
	return 0;

out_detach:
	while (i--)
		p2pmap_fs_detach(p2pmap_fs_all[i]);
	return ret;
}

static void __exit p2pmap_fs_exit(void)
{
	unsigned int i = ARRAY_SIZE(p2pmap_fs_all);

	while (i--)
		p2pmap_fs_detach(p2pmap_fs_all[i]);
}

module_init(p2pmap_fs_init);
module_exit(p2pmap_fs_exit);

MODULE_DESCRIPTION("p2pmap device-map callbacks for XFS and ext4");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION_STR);
