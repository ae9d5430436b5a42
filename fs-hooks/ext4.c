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

#include <linux/fs.h>
#include <linux/module.h>

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

static const struct p2pmap_vm_ops p2pmap_ext4_vm_ops = {
	.owner			= THIS_MODULE,
	.device_map		= p2pmap_ext4_device_map,
	.device_revalidate	= p2pmap_ext4_device_revalidate,
};

struct p2pmap_fs p2pmap_fs_ext4 = {
	.name			= "ext4",
	.vm_ops			= &p2pmap_ext4_vm_ops,
	.unmapped_data		= P2PMAP_REASON_DIRTY,
	.read_unmapped		= false,
	.cookie_sees_moves	= false,
};
