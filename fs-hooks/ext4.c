// SPDX-License-Identifier: GPL-2.0
/*
 * fs-hooks for ext4.
 *
 * What ext4 answers through the exported interfaces (fs/ext4, 6.1):
 *  - bmap() (ext4_bmap) takes i_rwsem shared, returns 0 for inline data,
 *    writes back the whole file when it has dirty pages and delayed
 *    allocation is on, flushes the journal for data-journalled files, and
 *    then iomap_bmap(): 0 for holes, unwritten and delayed extents.
 *  - FIEMAP (ext4_fiemap, ext4_iomap_begin_report) reports written,
 *    unwritten and delayed extents; inline data as one inline extent.
 *  - FS_INLINE_DATA_FL is visible through vfs_fileattr_get() (lsattr 'N').
 * ext4 has no shared extents: a clean block that FIEMAP counts and bmap()
 * does not map is unwritten; one that holds data can only have been
 * written to again while it was looked up: P2PMAP_REASON_DIRTY.
 *
 * EXT4_IOC_MOVE_EXT (e4defrag) swaps the blocks of two files page by page
 * under the page lock, without unmapping the page cache (no mmu notifier)
 * and without bumping i_version: revalidation must look the blocks up
 * again.
 */
#define pr_fmt(fmt) "p2pmap_fs: ext4: " fmt

#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pagemap.h>

#include "internal.h"

static int p2pmap_ext4_device_map(struct file *file, pgoff_t pgoff,
				  unsigned long npages, unsigned int flags,
				  struct p2pmap_extent *ext)
{
	return p2pmap_fs_map(&p2pmap_fs_ext4, file, pgoff, npages, flags, ext);
}

static int p2pmap_ext4_device_revalidate(struct file *file,
					 const struct p2pmap_extent *ext)
{
	return p2pmap_fs_revalidate(&p2pmap_fs_ext4, file, ext);
}

/*
 * map_blocks: ext4 has no export_operations->map_blocks, and allocating
 * behind its back is not possible. What it can hand out is the blocks of
 * written extents, for reading or for overwriting in place: the same
 * lookup as device_map. Holes, unwritten extents, delayed allocation and
 * the rest are refused with their reason (-EOPNOTSUPP), for writes as for
 * reads (a hole is described as one for a read).
 */
static int p2pmap_ext4_map_blocks(struct file *file, loff_t pos, u64 len,
				  unsigned int flags, struct p2pmap_block_map *map)
{
	bool write = flags & P2PMAP_BLOCKS_WRITE;
	struct p2pmap_extent ext;
	u64 pages;
	int ret;

	memset(map, 0, sizeof(*map));
	if ((flags & ~P2PMAP_BLOCKS_WRITE) || !len || pos < 0 ||
	    !PAGE_ALIGNED(pos))
		return -EINVAL;
	if (write && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	pages = DIV_ROUND_UP_ULL(len, PAGE_SIZE);
	ret = p2pmap_fs_map(&p2pmap_fs_ext4, file, pos >> PAGE_SHIFT,
			    min_t(u64, pages, ULONG_MAX),
			    write ? P2PMAP_FAULT_WRITE : 0, &ext);
	if (ret == -EFAULT)
		return -EINVAL;		/* at or beyond the end of the file */
	if (ret)
		return ret;
	map->offset = pos;
	map->length = min_t(u64, (u64)ext.npages << PAGE_SHIFT, len);
	if (ext.reason == P2PMAP_REASON_HOLE && !write) {
		map->type = P2PMAP_BLOCKS_HOLE;
		map->reason = P2PMAP_REASON_HOLE;
		return 0;
	}
	if (ext.reason != P2PMAP_REASON_NONE) {
		map->reason = ext.reason;
		return -EOPNOTSUPP;
	}
	map->type = P2PMAP_BLOCKS_MAPPED;
	map->bdev = ext.bdev;
	map->sector = ext.sector;
	return 0;
}

/*
 * commit_blocks: the blocks were written in place, so there is nothing to
 * convert. What is left: the page cache of the ranges may hold what the
 * blocks held before (invalidated), the times, and durability (a cache
 * flush of the device). The size cannot change: ext4 cannot have handed
 * out blocks past it.
 */
static int p2pmap_ext4_commit_blocks(struct file *file,
				     const struct p2pmap_block_map *maps,
				     unsigned int nr_maps, loff_t new_size)
{
	struct inode *inode = file_inode(file);
	unsigned int i;
	int ret = 0;

	p2pmap_fs_assert_unlocked();
	if (!S_ISREG(inode->i_mode) || (nr_maps && !maps))
		return -EINVAL;
	if (new_size >= 0 && new_size > i_size_read(inode))
		return -EOPNOTSUPP;
	for (i = 0; i < nr_maps; i++) {
		if (!maps[i].length)
			continue;
		/* a page a process keeps mapped and dirty stays: it is newer */
		invalidate_inode_pages2_range(inode->i_mapping,
					      maps[i].offset >> PAGE_SHIFT,
					      (maps[i].offset + maps[i].length - 1) >>
					      PAGE_SHIFT);
	}
	if (inode->i_sb->s_bdev)
		ret = blkdev_issue_flush(inode->i_sb->s_bdev);
	if (!ret)
		ret = file_update_time(file);
	return ret;
}

static const struct p2pmap_vm_ops p2pmap_ext4_vm_ops = {
	.owner			= THIS_MODULE,
	.device_map		= p2pmap_ext4_device_map,
	.device_revalidate	= p2pmap_ext4_device_revalidate,
	.map_blocks		= p2pmap_ext4_map_blocks,
	.commit_blocks		= p2pmap_ext4_commit_blocks,
	.no_layout_recall	= true,	/* ext4 breaks no layouts */
};

struct p2pmap_fs p2pmap_fs_ext4 = {
	.name			= "ext4",
	.vm_ops			= &p2pmap_ext4_vm_ops,
	.unmapped_data		= P2PMAP_REASON_DIRTY,
	.read_unmapped		= false,
	.cookie_sees_moves	= false,
};
