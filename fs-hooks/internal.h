/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs-hooks: what the files of p2pmap_fs.ko share, and nothing else.
 */
#ifndef _P2PMAP_FS_INTERNAL_H
#define _P2PMAP_FS_INTERNAL_H

#include <linux/p2pmap.h>
#include <p2pmap/compat.h>

struct file;
struct file_system_type;

/**
 * struct p2pmap_fs - what the common engine needs to know of one file system
 * @name: the file_system_type name ("xfs", "ext4").
 * @vm_ops: the device-map callbacks registered for it.
 * @unmapped_data: the reason for a block that FIEMAP counts, whose clean
 *	page holds data (not zeros), but that bmap() does not map: on XFS a
 *	reflink (COW) inode, whose every block bmap() refuses; on ext4 a race
 *	with a writer (the block was delayed again).
 * @read_unmapped: a clean block that FIEMAP counts and bmap() does not map
 *	may hold data (XFS reflink inodes): read its page in when it is not
 *	cached, and let its content decide. Without reflink (ext4) such a
 *	block is unwritten.
 * @cookie_sees_moves: every change of the file's block map bumps i_version
 *	(XFS logs the inode in every such transaction), so an unchanged
 *	cookie proves an extent is unchanged. ext4 moves blocks in
 *	EXT4_IOC_MOVE_EXT without touching i_version: revalidation maps the
 *	range again.
 * @fstype: the registered type, with a module reference from
 *	get_fs_type(); NULL when the file system is not available.
 */
struct p2pmap_fs {
	const char *name;
	const struct p2pmap_vm_ops *vm_ops;
	enum p2pmap_reason unmapped_data;
	bool read_unmapped;
	bool cookie_sees_moves;
	struct file_system_type *fstype;
};

extern struct p2pmap_fs p2pmap_fs_xfs;
extern struct p2pmap_fs p2pmap_fs_ext4;

int p2pmap_fs_map(const struct p2pmap_fs *fs, struct file *file, pgoff_t pgoff,
		  unsigned long npages, unsigned int flags,
		  struct p2pmap_extent *ext);
void p2pmap_fs_assert_unlocked(void);
enum p2pmap_reason p2pmap_fs_file_reason(struct file *file);
bool p2pmap_fs_is_realtime(struct file *file);
int p2pmap_fs_revalidate(const struct p2pmap_fs *fs, struct file *file,
			 const struct p2pmap_extent *ext);

#endif /* _P2PMAP_FS_INTERNAL_H */
