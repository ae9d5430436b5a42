// SPDX-License-Identifier: GPL-2.0
/*
 * fs-hooks for XFS.
 *
 * What XFS answers through the exported interfaces (fs/xfs, 6.1):
 *  - bmap() (xfs_vm_bmap) returns 0 for every block of a reflink (COW)
 *    inode, and of a realtime inode; otherwise iomap_bmap() over the data
 *    fork: 0 for holes, unwritten and delayed extents.
 *  - FIEMAP (xfs_vn_fiemap) reports the data fork: written, unwritten and
 *    delayed extents; the COW fork is not reported.
 *  - realtime files are flagged FS_XFLAG_REALTIME (vfs_fileattr_get()).
 * So a block that FIEMAP counts and that bmap() does not map, in a clean
 * file, is unwritten, or belongs to a reflink inode. Its page tells them
 * apart: an unwritten block reads as zeros, a reflink inode's block as
 * the file's data (P2PMAP_REASON_SHARED). A reflink inode's block that
 * holds zeros is reported UNWRITTEN: the device would read the same
 * bytes. Once XFS has set the reflink flag on an inode, bmap() refuses
 * all its blocks, shared or not, so every written block of such a file is
 * reported SHARED.
 *
 * Every change of an XFS inode's block map is logged in a transaction that
 * logs the inode, and xfs_trans_log_inode() bumps i_version once it has
 * been queried: XFS_IOC_SWAPEXT (xfs_fsr), reflink of the file as a source
 * (the reflink flag is set in such a transaction), truncate, punch,
 * unwritten conversion. An unchanged i_version proves an extent unchanged.
 */
#define pr_fmt(fmt) "p2pmap_fs: xfs: " fmt

#include <linux/fs.h>
#include <linux/module.h>

#include "internal.h"

static int p2pmap_xfs_device_map(struct file *file, pgoff_t pgoff,
				 unsigned long npages, unsigned int flags,
				 struct p2pmap_extent *ext)
{
	return p2pmap_fs_map(&p2pmap_fs_xfs, file, pgoff, npages, flags, ext);
}

static int p2pmap_xfs_device_revalidate(struct file *file,
					const struct p2pmap_extent *ext)
{
	return p2pmap_fs_revalidate(&p2pmap_fs_xfs, file, ext);
}

static const struct p2pmap_vm_ops p2pmap_xfs_vm_ops = {
	.owner			= THIS_MODULE,
	.device_map		= p2pmap_xfs_device_map,
	.device_revalidate	= p2pmap_xfs_device_revalidate,
};

struct p2pmap_fs p2pmap_fs_xfs = {
	.name			= "xfs",
	.vm_ops			= &p2pmap_xfs_vm_ops,
	.unmapped_data		= P2PMAP_REASON_SHARED,
	.read_unmapped		= true,
	.cookie_sees_moves	= true,
};
