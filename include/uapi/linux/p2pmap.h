/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pmap - peer-to-peer mapping of file data for devices.
 *
 * The user-space ABI of /dev/p2pmap.
 *
 * Rules every structure here follows:
 *  - only __u32 and __u64 members, naturally aligned, with explicit padding;
 *  - user pointers are carried as __u64 (u64_to_user_ptr() in the kernel);
 *  - every structure starts with @size (in): the size the caller was built
 *    with, so that a structure can grow at its end; the kernel refuses a
 *    size it does not know with -EINVAL;
 *  - @flags and every reserved member must be zero on input (-EINVAL
 *    otherwise), so that they can be given a meaning later;
 *  - an ioctl number the driver does not know fails with -ENOTTY.
 */
#ifndef _UAPI_LINUX_P2PMAP_H
#define _UAPI_LINUX_P2PMAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * ioctl magic 0xBA, numbers 0x00-0x3f: /dev/p2pmap.
 * Numbers 0x40-0x7f are reserved for p2pmap's drivers (nvme-cmb, dummy-gpu
 * debug interfaces); 0x80-0xff are not claimed.
 */
#define P2PMAP_IOCTL_MAGIC	0xBA

/* Bumped when an incompatible change is made to this header. */
#define P2PMAP_ABI_VERSION	1

/**
 * struct p2pmap_version - P2PMAP_IOC_VERSION: what the kernel module is
 * @size: (in) sizeof(struct p2pmap_version) as the caller knows it.
 * @flags: (in) must be 0.
 * @major: (out) major version of the loaded p2pmap module.
 * @minor: (out) minor version.
 * @patch: (out) patch level.
 * @abi: (out) P2PMAP_ABI_VERSION the module was built with.
 * @features: (out) P2PMAP_FEATURE_* bits of the running module.
 * @reserved: (in) must be 0.
 */
struct p2pmap_version {
	__u32 size;
	__u32 flags;
	__u32 major;
	__u32 minor;
	__u32 patch;
	__u32 abi;
	__u64 features;
	__u64 reserved[4];
};

/* The running kernel has upstream PCI P2PDMA (CONFIG_PCI_P2PDMA). */
#define P2PMAP_FEATURE_PCI_P2PDMA	(1ULL << 0)
/* The running kernel has HMM mirroring (CONFIG_HMM_MIRROR). */
#define P2PMAP_FEATURE_HMM_MIRROR	(1ULL << 1)
/* The running kernel has layout leases for block exports (EXPORTFS_BLOCK_OPS). */
#define P2PMAP_FEATURE_BLOCK_LAYOUTS	(1ULL << 2)

#define P2PMAP_IOC_VERSION	_IOWR(P2PMAP_IOCTL_MAGIC, 0x00, struct p2pmap_version)

/**
 * enum p2pmap_path - how one page of a device mapping is served
 * @P2PMAP_PATH_NONE: not mapped (an error, or not yet faulted).
 * @P2PMAP_PATH_P2P: the file's blocks, staged in P2P memory (an NVMe CMB)
 *	that the device reaches peer to peer; no host RAM is involved.
 * @P2PMAP_PATH_PAGECACHE: the page-cache (or anonymous) page, DMA-mapped
 *	for the device; the reason says why the P2P path was not taken.
 */
enum p2pmap_path {
	P2PMAP_PATH_NONE	= 0,
	P2PMAP_PATH_P2P		= 1,
	P2PMAP_PATH_PAGECACHE	= 2,
};

/**
 * enum p2pmap_reason - why a range was not served peer to peer
 *
 * Reported per range to importers and to user space (p2pmap check, stats).
 * New reasons are only ever appended.
 *
 * @P2PMAP_REASON_NONE: served P2P; no fallback.
 * @P2PMAP_REASON_HOLE: the range is a hole in the file.
 * @P2PMAP_REASON_UNWRITTEN: the blocks are allocated but unwritten
 *	(preallocated); their content is zeros, not the blocks'.
 * @P2PMAP_REASON_DIRTY: delayed allocation or dirty page cache: the newest
 *	data is in memory, not on the blocks.
 * @P2PMAP_REASON_SHARED: the extent is shared (reflink); writing it in place
 *	would change another file.
 * @P2PMAP_REASON_PRIVATE: MAP_PRIVATE mapping; its pages may differ from the
 *	file's blocks.
 * @P2PMAP_REASON_INLINE: the data is stored inline in the inode.
 * @P2PMAP_REASON_ENCRYPTED: encrypted, verity or DAX file.
 * @P2PMAP_REASON_UNSUPPORTED_FS: the file system has no p2pmap hooks.
 * @P2PMAP_REASON_NO_CMB: the block device has no P2P memory provider.
 * @P2PMAP_REASON_NO_ROUTE: the importing device cannot reach the provider
 *	peer to peer (no common upstream bridge, ACS redirection, no PCI device).
 * @P2PMAP_REASON_CMB_EXHAUSTED: the provider's memory is full of pinned data.
 * @P2PMAP_REASON_ANONYMOUS: anonymous (not file-backed) memory.
 * @P2PMAP_REASON_NOT_ALIGNED: the blocks are not page-aligned on the device.
 * @P2PMAP_REASON_ERROR: an I/O or allocation error while staging.
 * @P2PMAP_REASON_WRITE: the device writes, and the file system cannot hand
 *	out blocks for writing (no map_blocks): device writes go through the
 *	page cache.
 * @P2PMAP_REASON_RECALLED: the device writes, and the file system recalled
 *	the file's write layout during this access (a write(2), truncate,
 *	punch, reflink on XFS): until the next coherency point device writes
 *	go through the page cache.
 * @P2PMAP_REASON_COUNT: number of reasons; not a reason.
 */
enum p2pmap_reason {
	P2PMAP_REASON_NONE		= 0,
	P2PMAP_REASON_HOLE		= 1,
	P2PMAP_REASON_UNWRITTEN		= 2,
	P2PMAP_REASON_DIRTY		= 3,
	P2PMAP_REASON_SHARED		= 4,
	P2PMAP_REASON_PRIVATE		= 5,
	P2PMAP_REASON_INLINE		= 6,
	P2PMAP_REASON_ENCRYPTED		= 7,
	P2PMAP_REASON_UNSUPPORTED_FS	= 8,
	P2PMAP_REASON_NO_CMB		= 9,
	P2PMAP_REASON_NO_ROUTE		= 10,
	P2PMAP_REASON_CMB_EXHAUSTED	= 11,
	P2PMAP_REASON_ANONYMOUS		= 12,
	P2PMAP_REASON_NOT_ALIGNED	= 13,
	P2PMAP_REASON_ERROR		= 14,
	P2PMAP_REASON_WRITE		= 15,
	P2PMAP_REASON_RECALLED		= 16,
	P2PMAP_REASON_COUNT
};

/**
 * enum p2pmap_revoke_cause - why a device mapping was taken back
 *
 * @P2PMAP_REVOKE_UNMAP: munmap, mremap or mprotect of the range, or the
 *	page-cache unmapping that precedes truncate and hole punch.
 * @P2PMAP_REVOKE_RELEASE: the process's address space went away (exit).
 * @P2PMAP_REVOKE_LAYOUT: the file system broke a layout lease.
 * @P2PMAP_REVOKE_EVICT: the provider needed the P2P memory back.
 * @P2PMAP_REVOKE_PROVIDER_GONE: the provider's device was reset or removed.
 * @P2PMAP_REVOKE_IMPORTER_GONE: the importing device went away.
 * @P2PMAP_REVOKE_UNLOAD: a p2pmap module is being unloaded.
 * @P2PMAP_REVOKE_COHERENCY: a coherency point found the range changed.
 * @P2PMAP_REVOKE_OTHER: any other mmu notifier event.
 * @P2PMAP_REVOKE_DESTROY: the importer let go of the mapping (its object
 *	was closed); only in p2pmap_stats.written_back: nothing is revoked.
 * @P2PMAP_REVOKE_COUNT: number of causes; not a cause.
 */
enum p2pmap_revoke_cause {
	P2PMAP_REVOKE_UNMAP		= 0,
	P2PMAP_REVOKE_RELEASE		= 1,
	P2PMAP_REVOKE_LAYOUT		= 2,
	P2PMAP_REVOKE_EVICT		= 3,
	P2PMAP_REVOKE_PROVIDER_GONE	= 4,
	P2PMAP_REVOKE_IMPORTER_GONE	= 5,
	P2PMAP_REVOKE_UNLOAD		= 6,
	P2PMAP_REVOKE_COHERENCY		= 7,
	P2PMAP_REVOKE_OTHER		= 8,
	P2PMAP_REVOKE_DESTROY		= 9,
	P2PMAP_REVOKE_COUNT
};

/* Room for reasons and causes to be added without changing the ABI. */
#define P2PMAP_STATS_MAX_REASONS	32
#define P2PMAP_STATS_MAX_CAUSES		16

/**
 * struct p2pmap_stats - P2PMAP_IOC_STATS: the framework's counters
 * @size: (in) sizeof(struct p2pmap_stats) as the caller knows it.
 * @flags: (in) must be 0.
 * @importers: (out) importers registered now.
 * @mirrors: (out) mirrors alive now.
 * @faults: (out) calls of p2pmap_mirror_fault() since the module loaded.
 * @retries: (out) fault attempts started again because an invalidation
 *	raced with them.
 * @refaults: (out) pages faulted again after they had been revoked.
 * @pages_p2p: (out) pages handed to devices as P2P bus addresses.
 * @pages_fallback: (out) pages handed to devices from the page cache or
 *	anonymous memory; the sum of @fallback.
 * @fallback: (out) @pages_fallback by enum p2pmap_reason.
 * @revoked: (out) pages taken back from devices, by enum
 *	p2pmap_revoke_cause.
 * @reserved: (in) must be 0.
 *
 * Since P2PMAP_STATS_SIZE_V2 (a caller built with the older, shorter
 * structure passes P2PMAP_STATS_SIZE_V1 and gets the members above only):
 * @written_back: (out) bytes devices could write through P2P write mappings
 *	that were written back to the file's blocks, by the enum
 *	p2pmap_revoke_cause that ended the mapping (counted in whole pages).
 * @lost: (out) bytes of P2P write mappings whose data never reached the
 *	blocks: the provider was reset or removed, or the write-back failed.
 * @write_refused: (out) write faults refused because the mapping's creator
 *	may not take a layout lease on the file (not its owner, no
 *	CAP_LEASE).
 * @layouts_recalled: (out) write layouts the file systems recalled.
 * @staged_ahead: (out) pages staged ahead of sequential read faults
 *	(module parameter stage_ahead_kb); 0 from a kernel module older than
 *	this member, which was reserved.
 * @reserved2: (in) must be 0.
 */
struct p2pmap_stats {
	__u32 size;
	__u32 flags;
	__u64 importers;
	__u64 mirrors;
	__u64 faults;
	__u64 retries;
	__u64 refaults;
	__u64 pages_p2p;
	__u64 pages_fallback;
	__u64 fallback[P2PMAP_STATS_MAX_REASONS];
	__u64 revoked[P2PMAP_STATS_MAX_CAUSES];
	__u64 reserved[8];
	/* P2PMAP_STATS_SIZE_V2 */
	__u64 written_back[P2PMAP_STATS_MAX_CAUSES];
	__u64 lost;
	__u64 write_refused;
	__u64 layouts_recalled;
	__u64 staged_ahead;
	__u64 reserved2[4];
};

#define P2PMAP_STATS_SIZE_V1	512	/* up to and including @reserved */
#define P2PMAP_STATS_SIZE_V2	(sizeof(struct p2pmap_stats))

#define P2PMAP_IOC_STATS	_IOWR(P2PMAP_IOCTL_MAGIC, 0x01, struct p2pmap_stats)

/**
 * struct p2pmap_check_extent - one range of a file, as a device would get it
 * @offset: (out) byte offset in the file.
 * @length: (out) length in bytes.
 * @sector: (out) first 512-byte sector on the block device when the blocks
 *	hold the data (@reason is NONE, NO_CMB or NO_ROUTE), else 0.
 * @path: (out) enum p2pmap_path the device would get.
 * @reason: (out) enum p2pmap_reason: why not P2P (NONE when P2P).
 */
struct p2pmap_check_extent {
	__u64 offset;
	__u64 length;
	__u64 sector;
	__u32 path;
	__u32 reason;
};

/* p2pmap_check.flags */
#define P2PMAP_CHECK_DEVICE	(1U << 0)	/* @device names the importing PCI function */

/**
 * struct p2pmap_check - P2PMAP_IOC_CHECK: which path each range of a file
 * would take, and why; changes nothing (no staging, no flushing)
 * @size: (in) sizeof(struct p2pmap_check).
 * @flags: (in) P2PMAP_CHECK_* flags; others must be 0.
 * @fd: (in) an open file descriptor of the file.
 * @device: (in) with P2PMAP_CHECK_DEVICE, the PCI function that would read:
 *	domain << 16 | bus << 8 | devfn. Without it no route is checked, and
 *	ranges a provider serves are reported as P2P if a device can reach it.
 * @offset: (in) first byte; rounded down to a page.
 * @length: (in) number of bytes; rounded up to a page; not 0.
 * @extents: (in) user pointer to an array of struct p2pmap_check_extent.
 * @nr_extents: (in) the array's capacity; (out) entries filled.
 * @__pad: (in) must be 0.
 * @next_offset: (out) where the answer stops: offset + length, or the
 *	first byte not described when the array was full or EOF came first.
 * @provider: (out) NUL-terminated name of the provider serving the file's
 *	block device ("nvme0"), or empty.
 * @why: (out) NUL-terminated human-readable reason when there is no P2P
 *	route from @device, or why the file system cannot be used; else empty.
 * @reserved: (in) must be 0.
 */
struct p2pmap_check {
	__u32 size;
	__u32 flags;
	__u32 fd;
	__u32 device;
	__u64 offset;
	__u64 length;
	__u64 extents;
	__u32 nr_extents;
	__u32 __pad;
	__u64 next_offset;
	__u8 provider[32];
	__u8 why[128];
	__u64 reserved[4];
};

#define P2PMAP_IOC_CHECK	_IOWR(P2PMAP_IOCTL_MAGIC, 0x02, struct p2pmap_check)

/* ------------------------------------------------------------------------
 * Layouts: the pNFS block-layout model for local clients (docs/layouts.md)
 * ------------------------------------------------------------------------
 *
 * A layout is a lease on a byte range of a file together with the blocks
 * behind it. The client reads and writes the blocks itself (LAYOUT_IO),
 * makes what it wrote part of the file (LAYOUT_COMMIT) and gives the
 * layout back (LAYOUT_RETURN). When the file system must change the blocks
 * (truncate, hole punch, reflink, a conflicting layout) the layout is
 * recalled: the /dev/p2pmap file that holds it polls readable (and the
 * eventfd given to LAYOUT_GET is signalled), read() on it returns a
 * struct p2pmap_layout_event, and the client has the layout's break time to
 * finish its I/O and return it. After that the layout is revoked by force
 * (fenced): I/O and commits through it fail with -ESTALE.
 * Layouts belong to the /dev/p2pmap open file that got them; closing it
 * returns them all.
 */

/* p2pmap_layout_get.iomode */
#define P2PMAP_LAYOUT_READ	1	/* LAYOUT_IO reads; needs FMODE_READ */
/* reads, writes, commits; needs FMODE_READ and FMODE_WRITE */
#define P2PMAP_LAYOUT_RW	2

/* p2pmap_layout_extent.state */
#define P2PMAP_EXTENT_WRITTEN	1	/* the blocks hold the file's data */
#define P2PMAP_EXTENT_UNWRITTEN	2	/* allocated; read as zeros until committed */
#define P2PMAP_EXTENT_HOLE	3	/* no blocks: reads as zeros; not writable */

/* p2pmap_layout_extent.flags */
/* A CMB that the caller (or p2pmap_layout_get.device) can reach can stage it. */
#define P2PMAP_EXTENT_CMB	(1U << 0)

/**
 * struct p2pmap_layout_extent - one extent of a layout
 * @offset: (out) byte offset in the file.
 * @length: (out) length in bytes.
 * @sector: (out) first 512-byte sector on @dev; 0 for a hole.
 * @dev: (out) the block device holding the blocks, encoded as stat(2)
 *	reports st_dev and st_rdev (glibc's makedev() form); 0 for a hole.
 * @state: (out) P2PMAP_EXTENT_*.
 * @flags: (out) P2PMAP_EXTENT_* flags.
 * @reason: (out) enum p2pmap_reason: why a CMB cannot stage the extent
 *	(NO_CMB, NO_ROUTE, HOLE, UNWRITTEN), NONE when it can.
 */
struct p2pmap_layout_extent {
	__u64 offset;
	__u64 length;
	__u64 sector;
	__u32 dev;
	__u32 state;
	__u32 flags;
	__u32 reason;
};

/* p2pmap_layout_get.flags */
/* @device names the PCI function that will use a CMB */
#define P2PMAP_LAYOUT_GET_DEVICE	(1U << 0)
/* signal @eventfd on recall and revocation */
#define P2PMAP_LAYOUT_GET_EVENTFD	(1U << 1)

/* Break time: default and longest. */
#define P2PMAP_LAYOUT_BREAK_MS_DEFAULT	5000
#define P2PMAP_LAYOUT_BREAK_MS_MAX	60000

/**
 * struct p2pmap_layout_get - P2PMAP_IOC_LAYOUT_GET: lease a range of a file
 *	and learn its blocks
 * @size: (in) sizeof(struct p2pmap_layout_get).
 * @flags: (in) P2PMAP_LAYOUT_GET_* flags; others must be 0.
 * @fd: (in) an open file descriptor of a regular file. The layout never
 *	grants more than its open mode.
 * @iomode: (in) P2PMAP_LAYOUT_READ or P2PMAP_LAYOUT_RW.
 * @offset: (in) first byte; rounded down to the file system block.
 *	(out) the layout's first byte.
 * @length: (in) number of bytes, not 0; rounded up to the file system
 *	block. (out) the layout's length: shorter when @extents filled up
 *	first, or a read layout reached EOF.
 * @device: (in) with P2PMAP_LAYOUT_GET_DEVICE: domain << 16 | bus << 8 |
 *	devfn of the PCI function that would read from a CMB.
 * @eventfd: (in) with P2PMAP_LAYOUT_GET_EVENTFD: an eventfd to signal.
 * @break_ms: (in) the break time: how long a recalled layout may still be
 *	used before it is revoked. 0 means P2PMAP_LAYOUT_BREAK_MS_DEFAULT;
 *	at most P2PMAP_LAYOUT_BREAK_MS_MAX.
 * @id: (out) the layout id, for the other layout ioctls; never 0.
 * @extents: (in) user pointer to an array of struct p2pmap_layout_extent.
 * @nr_extents: (in) the array's capacity, not 0; (out) entries filled.
 * @reason: (out) on -EOPNOTSUPP, enum p2pmap_reason: why the file's blocks
 *	cannot be leased (shared, inline, encrypted, unsupported file
 *	system, and on ext4 a read-write layout over a hole or unwritten
 *	extent); else NONE.
 * @blksize: (out) the file system block size: LAYOUT_IO writes must be
 *	aligned to it.
 * @__pad: (in) must be 0.
 * @reserved: (in) must be 0.
 */
struct p2pmap_layout_get {
	__u32 size;
	__u32 flags;
	__u32 fd;
	__u32 iomode;
	__u64 offset;
	__u64 length;
	__u32 device;
	__u32 eventfd;
	__u32 break_ms;
	__u32 id;
	__u64 extents;
	__u32 nr_extents;
	__u32 reason;
	__u32 blksize;
	__u32 __pad;
	__u64 reserved[4];
};

/**
 * struct p2pmap_layout_range - a byte range written through a layout
 * @offset: (in) first byte.
 * @length: (in) number of bytes.
 */
struct p2pmap_layout_range {
	__u64 offset;
	__u64 length;
};

/* p2pmap_layout_commit.flags */
/* @new_size is the file's new size (it only grows) */
#define P2PMAP_LAYOUT_COMMIT_SIZE	(1U << 0)

/**
 * struct p2pmap_layout_commit - P2PMAP_IOC_LAYOUT_COMMIT: make what was
 *	written through a read-write layout part of the file
 * @size: (in) sizeof(struct p2pmap_layout_commit).
 * @flags: (in) P2PMAP_LAYOUT_COMMIT_* flags; others must be 0.
 * @id: (in) the layout.
 * @nr_ranges: (in) number of @ranges, 1 to 256.
 * @ranges: (in) user pointer to struct p2pmap_layout_range: what was
 *	written. Unwritten blocks in them become written (each one must have
 *	been written whole through this layout), the page cache over them
 *	is dropped, the blocks are flushed to stable storage and the file's
 *	times are updated.
 * @new_size: (in) with P2PMAP_LAYOUT_COMMIT_SIZE: the new size, at most
 *	the layout's end; a size that is not larger changes nothing.
 * @reserved: (in) must be 0.
 */
struct p2pmap_layout_commit {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 nr_ranges;
	__u64 ranges;
	__u64 new_size;
	__u64 reserved[4];
};

/**
 * struct p2pmap_layout_return - P2PMAP_IOC_LAYOUT_RETURN: give a layout back
 * @size: (in) sizeof(struct p2pmap_layout_return).
 * @flags: (in) must be 0.
 * @id: (in) the layout; its id is not valid afterwards. Returning a
 *	revoked layout succeeds.
 * @__pad: (in) must be 0.
 * @reserved: (in) must be 0.
 */
struct p2pmap_layout_return {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __pad;
	__u64 reserved[2];
};

/* p2pmap_layout_io.flags */
#define P2PMAP_LAYOUT_IO_WRITE	(1U << 0)	/* write @buf to the blocks (else read) */

/**
 * struct p2pmap_layout_io - P2PMAP_IOC_LAYOUT_IO: read or write the leased
 *	blocks, for clients that may not open the block device
 * @size: (in) sizeof(struct p2pmap_layout_io).
 * @flags: (in) P2PMAP_LAYOUT_IO_* flags; others must be 0.
 * @id: (in) the layout.
 * @__pad: (in) must be 0.
 * @offset: (in) file offset; within the layout (-ERANGE otherwise).
 * @length: (in) bytes, not 0, at most 64 MiB; within the layout. A write
 *	is aligned to p2pmap_layout_get.blksize (-EINVAL otherwise) and
 *	covers no hole.
 * @buf: (in) user pointer to @length bytes.
 * @reserved: (in) must be 0.
 */
struct p2pmap_layout_io {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __pad;
	__u64 offset;
	__u64 length;
	__u64 buf;
	__u64 reserved[2];
};

/* p2pmap_layout_event.type */
#define P2PMAP_LAYOUT_EVENT_RECALL	1	/* return the layout within the break time */
#define P2PMAP_LAYOUT_EVENT_REVOKED	2	/* fenced: I/O and commits fail; return it */

/**
 * enum p2pmap_layout_cause - why a layout was recalled or revoked
 * @P2PMAP_LAYOUT_CAUSE_BREAK: the file system broke the layout lease
 *	(XFS: truncate, hole punch, reflink, write(2), fallocate modes that
 *	move blocks).
 * @P2PMAP_LAYOUT_CAUSE_UNMAP: the file's page cache over the range was
 *	unmapped, which comes before blocks are freed (truncate and hole
 *	punch on ext4, XFS_IOC_SWAPEXT), or the holder unmapped p2pmap's
 *	mapping of the file: revoked at once.
 * @P2PMAP_LAYOUT_CAUSE_CONFLICT: another client asked for a read-write
 *	layout over the range.
 * @P2PMAP_LAYOUT_CAUSE_TIMEOUT: the break time ran out (revocation only).
 * @P2PMAP_LAYOUT_CAUSE_MOVED: a revalidation found the blocks moved
 *	(online defragmentation on ext4: EXT4_IOC_MOVE_EXT).
 * @P2PMAP_LAYOUT_CAUSE_EXIT: the holder's address space went away.
 */
enum p2pmap_layout_cause {
	P2PMAP_LAYOUT_CAUSE_BREAK	= 1,
	P2PMAP_LAYOUT_CAUSE_UNMAP	= 2,
	P2PMAP_LAYOUT_CAUSE_CONFLICT	= 3,
	P2PMAP_LAYOUT_CAUSE_TIMEOUT	= 4,
	P2PMAP_LAYOUT_CAUSE_MOVED	= 5,
	P2PMAP_LAYOUT_CAUSE_EXIT	= 6,
};

/**
 * struct p2pmap_layout_event - what read() on /dev/p2pmap returns
 * @id: the layout.
 * @type: P2PMAP_LAYOUT_EVENT_*.
 * @cause: enum p2pmap_layout_cause.
 * @break_ms: for a recall, milliseconds left before revocation.
 *
 * read() returns whole events, as many as fit, each one once; -EAGAIN
 * with O_NONBLOCK when there is none, and it blocks otherwise. poll()
 * reports EPOLLIN | EPOLLPRI while events are pending.
 */
struct p2pmap_layout_event {
	__u32 id;
	__u32 type;
	__u32 cause;
	__u32 break_ms;
};

#define P2PMAP_IOC_LAYOUT_GET	_IOWR(P2PMAP_IOCTL_MAGIC, 0x03, struct p2pmap_layout_get)
#define P2PMAP_IOC_LAYOUT_COMMIT _IOW(P2PMAP_IOCTL_MAGIC, 0x04, struct p2pmap_layout_commit)
#define P2PMAP_IOC_LAYOUT_RETURN _IOW(P2PMAP_IOCTL_MAGIC, 0x05, struct p2pmap_layout_return)
#define P2PMAP_IOC_LAYOUT_IO	_IOW(P2PMAP_IOCTL_MAGIC, 0x06, struct p2pmap_layout_io)

#endif /* _UAPI_LINUX_P2PMAP_H */
