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
 * @P2PMAP_REASON_WRITE: the device writes, and P2P write mappings are not
 *	enabled for this file: device writes go through the page cache.
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
};

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

#endif /* _UAPI_LINUX_P2PMAP_H */
