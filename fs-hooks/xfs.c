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

#include <linux/exportfs.h>
#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/slab.h>

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

#if P2PMAP_HAVE_BLOCK_LAYOUTS()
/*
 * map_blocks: XFS's own export_operations->map_blocks (xfs_fs_map_blocks),
 * what knfsd calls for a pNFS block layout. It takes the IOLOCK, writes
 * back and invalidates the WHOLE file's page cache, and for a write
 * allocates holes as unwritten extents in a synchronous transaction. It
 * refuses (-ENXIO) realtime and reflink inodes.
 */
static int p2pmap_xfs_map_blocks(struct file *file, loff_t pos, u64 len,
				 unsigned int flags, struct p2pmap_block_map *map)
{
	struct inode *inode = file_inode(file);
	const struct export_operations *eops = inode->i_sb->s_export_op;
	bool write = flags & P2PMAP_BLOCKS_WRITE;
	struct iomap iomap = { };
	u32 generation;
	u64 skip;
	int ret;

	p2pmap_fs_assert_unlocked();
	memset(map, 0, sizeof(*map));
	if ((flags & ~P2PMAP_BLOCKS_WRITE) || !len || pos < 0 ||
	    !S_ISREG(inode->i_mode) ||
	    !IS_ALIGNED(pos, i_blocksize(inode)))
		return -EINVAL;
	if (write && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!eops || !eops->map_blocks || !eops->commit_blocks) {
		map->reason = P2PMAP_REASON_UNSUPPORTED_FS;
		return -EOPNOTSUPP;
	}
	map->reason = p2pmap_fs_file_reason(file);
	if (map->reason != P2PMAP_REASON_NONE)
		return -EOPNOTSUPP;

	ret = eops->map_blocks(inode, pos, len, &iomap, write, &generation);
	if (ret == -ENXIO) {
		/* a reflink inode (its blocks may be shared), or realtime */
		map->reason = IS_DAX(inode) ? P2PMAP_REASON_ENCRYPTED :
			      p2pmap_fs_is_realtime(file) ?
			      P2PMAP_REASON_UNSUPPORTED_FS : P2PMAP_REASON_SHARED;
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;

	/* the extent that contains @pos: clip it to [@pos, @pos + @len) */
	if (iomap.offset > pos || iomap.offset + iomap.length <= pos)
		return -EIO;
	skip = pos - iomap.offset;
	map->offset = pos;
	map->length = min_t(u64, iomap.length - skip, len);
	switch (iomap.type) {
	case IOMAP_MAPPED:
		map->type = P2PMAP_BLOCKS_MAPPED;
		break;
	case IOMAP_UNWRITTEN:
		map->type = P2PMAP_BLOCKS_UNWRITTEN;
		break;
	case IOMAP_HOLE:
		if (write)
			return -EIO;	/* map_blocks allocates for a write */
		map->type = P2PMAP_BLOCKS_HOLE;
		map->reason = P2PMAP_REASON_HOLE;
		return 0;
	default:
		/* delalloc cannot be: the whole file was written back */
		map->reason = P2PMAP_REASON_DIRTY;
		return -EOPNOTSUPP;
	}
	map->bdev = iomap.bdev ? iomap.bdev : inode->i_sb->s_bdev;
	map->sector = (iomap.addr + skip) >> SECTOR_SHIFT;
	return 0;
}

/*
 * commit_blocks: xfs_fs_commit_blocks converts the unwritten extents the
 * maps cover (below the new size), invalidates their page cache, sets the
 * times and the size, in a synchronous transaction (a log force: with it
 * the device's volatile cache is flushed).
 */
static int p2pmap_xfs_commit_blocks(struct file *file,
				    const struct p2pmap_block_map *maps,
				    unsigned int nr_maps, loff_t new_size)
{
	struct inode *inode = file_inode(file);
	const struct export_operations *eops = inode->i_sb->s_export_op;
	struct iattr iattr = { };
	struct iomap *iomaps;
	unsigned int i;
	int ret;

	p2pmap_fs_assert_unlocked();
	if (!S_ISREG(inode->i_mode) || (nr_maps && !maps))
		return -EINVAL;
	if (!eops || !eops->commit_blocks)
		return -EOPNOTSUPP;

	iomaps = kcalloc(max(nr_maps, 1U), sizeof(*iomaps), GFP_KERNEL);
	if (!iomaps)
		return -ENOMEM;
	for (i = 0; i < nr_maps; i++) {
		iomaps[i].offset = maps[i].offset;
		iomaps[i].length = maps[i].length;
		iomaps[i].type = maps[i].type == P2PMAP_BLOCKS_UNWRITTEN ?
				 IOMAP_UNWRITTEN : IOMAP_MAPPED;
	}
	/* xfs_fs_commit_blocks() always commits a transaction: times */
	iattr.ia_valid = ATTR_MTIME | ATTR_CTIME;
	iattr.ia_mtime = current_time(inode);
	iattr.ia_ctime = iattr.ia_mtime;
	if (new_size >= 0) {
		iattr.ia_valid |= ATTR_SIZE;
		iattr.ia_size = new_size;
	}

	ret = mnt_want_write_file(file);
	if (!ret) {
		ret = eops->commit_blocks(inode, iomaps, nr_maps, &iattr);
		mnt_drop_write_file(file);
	}
	kfree(iomaps);
	return ret;
}
#else
static int p2pmap_xfs_map_blocks(struct file *file, loff_t pos, u64 len,
				 unsigned int flags, struct p2pmap_block_map *map)
{
	memset(map, 0, sizeof(*map));
	map->reason = P2PMAP_REASON_UNSUPPORTED_FS;
	return -EOPNOTSUPP;	/* no CONFIG_EXPORTFS_BLOCK_OPS */
}

static int p2pmap_xfs_commit_blocks(struct file *file,
				    const struct p2pmap_block_map *maps,
				    unsigned int nr_maps, loff_t new_size)
{
	return -EOPNOTSUPP;
}
#endif

static const struct p2pmap_vm_ops p2pmap_xfs_vm_ops = {
	.owner			= THIS_MODULE,
	.device_map		= p2pmap_xfs_device_map,
	.device_revalidate	= p2pmap_xfs_device_revalidate,
	.map_blocks		= p2pmap_xfs_map_blocks,
	.commit_blocks		= p2pmap_xfs_commit_blocks,
};

struct p2pmap_fs p2pmap_fs_xfs = {
	.name			= "xfs",
	.vm_ops			= &p2pmap_xfs_vm_ops,
	.unmapped_data		= P2PMAP_REASON_SHARED,
	.read_unmapped		= true,
	.cookie_sees_moves	= true,
};
