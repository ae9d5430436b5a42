/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pmap_dgpu - the dummy GPU of p2pmap: its private DRM uapi.
 *
 * A render node (/dev/dri/renderD*) of a stand-in GPU that consumes user
 * memory - a file mapping or anonymous memory - through p2pmap's importer
 * API, peer to peer from an NVMe CMB where a route exists, from the page
 * cache otherwise. Used through libdrm (drmIoctl()).
 *
 * Objects are GEM objects with handles (DRM_IOCTL_GEM_CLOSE frees them):
 *  - VRAM objects: device memory (host memory: this is a dummy), created
 *    with DRM_IOCTL_P2PMAP_DGPU_GEM_CREATE and mapped with mmap(2) at the
 *    offset DRM_IOCTL_P2PMAP_DGPU_GEM_MMAP_OFFSET returns;
 *  - userptr objects: a range of the caller's address space, imported with
 *    DRM_IOCTL_P2PMAP_DGPU_USERPTR. The device page table is filled when a
 *    job touches a page and cleared when p2pmap takes the page back.
 *
 * Jobs (DRM_IOCTL_P2PMAP_DGPU_SUBMIT) copy between objects or checksum a
 * range, on one of the device's engines, asynchronously; each job's results
 * are read with DRM_IOCTL_P2PMAP_DGPU_WAIT.
 *
 * Introspection, as a GPU driver's debug ioctls: DRM_IOCTL_P2PMAP_DGPU_
 * USERPTR_FAULT maps a range of a userptr object the way a job would,
 * without running one, and DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT reports
 * its device page table page by page (path, reason, address, revocations).
 *
 * Rules every structure here follows:
 *  - only __u32 and __u64 members, naturally aligned, explicit padding;
 *  - @flags, padding and reserved members must be zero on input (-EINVAL
 *    otherwise), so that they can be given a meaning later;
 *  - an ioctl number the driver does not know fails with -ENOTTY;
 *  - a refused call changes nothing.
 */
#ifndef _UAPI_DRM_P2PMAP_DGPU_DRM_H
#define _UAPI_DRM_P2PMAP_DGPU_DRM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The DRM driver name, as drmGetVersion() and drmOpen() see it. */
#define P2PMAP_DGPU_DRIVER_NAME		"p2pmap_dgpu"

/*
 * Bumped when an incompatible change is made to this header, or ioctls are
 * added (2: DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT and _USERPTR_SNAPSHOT).
 */
#define P2PMAP_DGPU_ABI_VERSION		2

/* Entries of drm_p2pmap_dgpu_result.reasons; enum p2pmap_reason indexes it. */
#define P2PMAP_DGPU_MAX_REASONS		32

/*
 * The ioctl numbers are DRM driver ioctls: DRM_IOCTL_BASE ('d') and
 * DRM_COMMAND_BASE (0x40) come from <drm/drm.h>, spelled out here so that
 * this header stands alone.
 */
#define P2PMAP_DGPU_IOWR(nr, type)	_IOWR('d', 0x40 + (nr), type)

/**
 * enum p2pmap_dgpu_kind - what a device instance is
 * @P2PMAP_DGPU_KIND_PCI: bound to QEMU's edu PCI function; its engines DMA
 *	with the edu device, and P2P is possible where the topology allows it.
 * @P2PMAP_DGPU_KIND_VIRTUAL: created by the module parameter
 *	virtual_instances; no PCI function, so no P2P route: every page is
 *	served from the page cache (P2PMAP_REASON_NO_ROUTE for files).
 */
enum p2pmap_dgpu_kind {
	P2PMAP_DGPU_KIND_PCI		= 1,
	P2PMAP_DGPU_KIND_VIRTUAL	= 2,
};

/**
 * enum p2pmap_dgpu_engine - the engines a job can run on
 * @P2PMAP_DGPU_ENGINE_CPU: the CPU reads and writes the pages (P2P pages
 *	through the kernel's mapping of the CMB). Every instance has it.
 * @P2PMAP_DGPU_ENGINE_EDU: the edu device's DMA engine, a real PCI bus
 *	master, through a 4 KiB buffer; about 100 ms per DMA, for a few pages.
 *	PCI instances only.
 */
enum p2pmap_dgpu_engine {
	P2PMAP_DGPU_ENGINE_CPU		= 0,
	P2PMAP_DGPU_ENGINE_EDU		= 1,
};

/**
 * struct drm_p2pmap_dgpu_info - DRM_IOCTL_P2PMAP_DGPU_INFO: the device
 * @flags: (in) must be 0.
 * @kind: (out) enum p2pmap_dgpu_kind.
 * @engines: (out) bit (1 << enum p2pmap_dgpu_engine) per engine present.
 * @abi: (out) P2PMAP_DGPU_ABI_VERSION of the module.
 * @nr_reasons: (out) reasons the module counts (P2PMAP_REASON_COUNT it was
 *	built with); entries of drm_p2pmap_dgpu_result.reasons past it are 0.
 * @max_jobs: (out) jobs one open file may have submitted and not waited for.
 * @vram_size: (out) bytes of VRAM the device may allocate in all.
 * @vram_used: (out) bytes of VRAM allocated now.
 * @pci_domain: (out) PCI domain of a PCI instance; 0 otherwise.
 * @pci_bdf: (out) bus << 8 | devfn of a PCI instance; 0 otherwise.
 * @max_job_bytes: (out) the largest @length a job accepts.
 * @reserved: (in) must be 0; (out) 0.
 */
struct drm_p2pmap_dgpu_info {
	__u32 flags;
	__u32 kind;
	__u32 engines;
	__u32 abi;
	__u32 nr_reasons;
	__u32 max_jobs;
	__u64 vram_size;
	__u64 vram_used;
	__u32 pci_domain;
	__u32 pci_bdf;
	__u64 max_job_bytes;
	__u64 reserved[4];
};

/**
 * struct drm_p2pmap_dgpu_gem_create - DRM_IOCTL_P2PMAP_DGPU_GEM_CREATE
 * @size: (in) bytes of VRAM, rounded up to whole pages; not 0. -ENOSPC when
 *	the device's VRAM budget would be exceeded.
 * @flags: (in) must be 0.
 * @handle: (out) the GEM handle of the new object, zero-filled.
 * @reserved: (in) must be 0.
 */
struct drm_p2pmap_dgpu_gem_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 reserved[2];
};

/**
 * struct drm_p2pmap_dgpu_gem_mmap_offset - DRM_IOCTL_P2PMAP_DGPU_GEM_MMAP_OFFSET
 * @handle: (in) a VRAM object (-EINVAL for a userptr object, -ENOENT for no
 *	object).
 * @flags: (in) must be 0.
 * @offset: (out) the offset to give mmap(2) on the DRM file to map the
 *	object (MAP_SHARED).
 * @reserved: (in) must be 0.
 */
struct drm_p2pmap_dgpu_gem_mmap_offset {
	__u32 handle;
	__u32 flags;
	__u64 offset;
	__u64 reserved[2];
};

/**
 * struct drm_p2pmap_dgpu_userptr - DRM_IOCTL_P2PMAP_DGPU_USERPTR
 * @addr: (in) first byte of the range in the caller's address space,
 *	page-aligned.
 * @length: (in) bytes, page-aligned, not 0.
 * @flags: (in) must be 0.
 * @handle: (out) the GEM handle of the new userptr object.
 * @reserved: (in) must be 0.
 *
 * Nothing is mapped or checked here: the range may hold several mappings
 * (file, anonymous) or none; a job that touches an unmapped page fails with
 * EFAULT in its result. The object keeps following the process's address
 * space: what is mapped at @addr when a job runs is what the job sees.
 */
struct drm_p2pmap_dgpu_userptr {
	__u64 addr;
	__u64 length;
	__u32 flags;
	__u32 handle;
	__u64 reserved[2];
};

/**
 * enum p2pmap_dgpu_op - what a job does
 * @P2PMAP_DGPU_OP_COPY: copy @length bytes from @src_handle at @src_offset
 *	to @dst_handle at @dst_offset. Either object may be VRAM or userptr:
 *	userptr to VRAM is a device read of user memory, VRAM to userptr a
 *	device write (the pages are faulted for writing).
 * @P2PMAP_DGPU_OP_CHECKSUM: CRC-32 (the zlib/IEEE 802.3 one) of @length
 *	bytes of @src_handle from @src_offset, computed by the device;
 *	@dst_handle and @dst_offset must be 0.
 */
enum p2pmap_dgpu_op {
	P2PMAP_DGPU_OP_COPY		= 0,
	P2PMAP_DGPU_OP_CHECKSUM		= 1,
};

/**
 * struct drm_p2pmap_dgpu_submit - DRM_IOCTL_P2PMAP_DGPU_SUBMIT
 * @op: (in) enum p2pmap_dgpu_op.
 * @engine: (in) enum p2pmap_dgpu_engine; -ENODEV if the device has no such
 *	engine.
 * @flags: (in) must be 0.
 * @src_handle: (in) the object read.
 * @src_offset: (in) byte offset in @src_handle.
 * @dst_handle: (in) the object written (COPY), 0 (CHECKSUM).
 * @pad: (in) must be 0.
 * @dst_offset: (in) byte offset in @dst_handle (COPY), 0 (CHECKSUM).
 * @length: (in) bytes; not 0, at most drm_p2pmap_dgpu_info.max_job_bytes,
 *	and inside both objects (-EINVAL otherwise).
 * @job: (out) the job's id in this DRM file, for
 *	DRM_IOCTL_P2PMAP_DGPU_WAIT.
 * @reserved: (in) must be 0.
 *
 * Returns once the job is queued; -EBUSY when the file already has
 * drm_p2pmap_dgpu_info.max_jobs jobs not waited for. The job holds
 * references to its objects: closing their handles does not stop it, and
 * closing the DRM file cancels it.
 */
struct drm_p2pmap_dgpu_submit {
	__u32 op;
	__u32 engine;
	__u32 flags;
	__u32 src_handle;
	__u64 src_offset;
	__u32 dst_handle;
	__u32 pad;
	__u64 dst_offset;
	__u64 length;
	__u64 job;
	__u64 reserved[2];
};

/**
 * struct drm_p2pmap_dgpu_result - what one job did
 * @error: 0 when the job completed; otherwise the positive errno that
 *	stopped it: EFAULT (a page not mapped, or past the end of its file),
 *	EPERM (a device write into a read-only mapping), ESRCH (the process
 *	that owns a userptr object has exited), EBUSY (invalidations kept
 *	racing the fault), ECANCELED (the DRM file was closed or the device
 *	removed), ENODEV (the device went away), EIO (an engine failed).
 * @engine: the engine it ran on.
 * @error_offset: when @error is set, the byte of the job's range (0 is its
 *	first) at which it stopped; @bytes before it were done.
 * @bytes: bytes copied or checksummed.
 * @checksum: P2PMAP_DGPU_OP_CHECKSUM: the CRC-32 in the low 32 bits.
 * @pages_p2p: user pages the device reached peer to peer (a CMB bus
 *	address), counted once per page per job.
 * @pages_pagecache: user pages served from the page cache or anonymous
 *	memory; @reasons says why.
 * @faults: p2pmap_mirror_fault() calls the job made.
 * @faulted_pages: pages those calls mapped.
 * @refaults: pages the job had to fault again because an invalidation took
 *	them back (p2pmap's revoke callback) after they had been mapped: the
 *	retries after invalidation.
 * @invalidations: invalidation callbacks that hit the job's userptr objects
 *	while it ran.
 * @duration_ns: time from the job's start on its engine to its end.
 * @reasons: per enum p2pmap_reason, the pages counted in @pages_pagecache
 *	(index P2PMAP_REASON_NONE stays 0).
 * @reserved: 0.
 */
struct drm_p2pmap_dgpu_result {
	__u32 error;
	__u32 engine;
	__u64 error_offset;
	__u64 bytes;
	__u64 checksum;
	__u64 pages_p2p;
	__u64 pages_pagecache;
	__u64 faults;
	__u64 faulted_pages;
	__u64 refaults;
	__u64 invalidations;
	__u64 duration_ns;
	__u64 reasons[P2PMAP_DGPU_MAX_REASONS];
	__u64 reserved[4];
};

/**
 * struct drm_p2pmap_dgpu_wait - DRM_IOCTL_P2PMAP_DGPU_WAIT
 * @job: (in) a job id from DRM_IOCTL_P2PMAP_DGPU_SUBMIT.
 * @timeout_ns: (in) how long to wait; 0 only polls.
 * @flags: (in) must be 0.
 * @pad: (in) must be 0.
 * @reserved: (in) must be 0.
 * @result: (out) the job's results, once it has finished.
 *
 * Returns 0 when the job has finished: @result is filled and the job id is
 * released (a second wait on it fails with -ENOENT). -ETIME when the
 * timeout passed first (the job goes on; wait again), -EINTR or
 * -ERESTARTSYS on a signal, -ENOENT for an unknown job.
 */
struct drm_p2pmap_dgpu_wait {
	__u64 job;
	__u64 timeout_ns;
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
	struct drm_p2pmap_dgpu_result result;
};

/* drm_p2pmap_dgpu_userptr_fault.flags */
/* fault the pages for a device write (a read-only mapping: -EPERM) */
#define P2PMAP_DGPU_FAULT_WRITE		(1U << 0)
#define P2PMAP_DGPU_FAULT_FLAGS		P2PMAP_DGPU_FAULT_WRITE

/**
 * struct drm_p2pmap_dgpu_userptr_fault - DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT
 * @handle: (in) a userptr object (-EINVAL for a VRAM object, -ENOENT for
 *	no object).
 * @flags: (in) P2PMAP_DGPU_FAULT_*; other bits must be 0.
 * @offset: (in) first byte of the range in the object, page-aligned.
 * @length: (in) bytes, page-aligned, not 0, inside the object.
 * @pages_p2p: (out) pages of the range the device page table holds peer to
 *	peer (a CMB bus address) when the call returns.
 * @pages_pagecache: (out) pages it holds from the page cache or anonymous
 *	memory; @reasons says why.
 * @pages_unmapped: (out) pages of the range not in the device page table
 *	when the call returns: an invalidation took them back again after
 *	they were faulted (counted, never silent).
 * @faults: (out) p2pmap_mirror_fault() calls made.
 * @faulted_pages: (out) pages those calls mapped.
 * @refaults: (out) pages faulted again because an invalidation had taken
 *	them back since they were last mapped.
 * @invalidations: (out) invalidation callbacks the object has seen since
 *	it was created (not only during this call).
 * @duration_ns: (out) time the call spent mapping.
 * @reasons: (out) per enum p2pmap_reason, the pages in @pages_pagecache.
 * @reserved: (in) must be 0; (out) 0.
 *
 * What a job does before it touches the range, without running one: the
 * coherency point (p2pmap_mirror_begin_access()), then the pages not yet
 * in the device page table faulted, in batches, for reading or, with
 * P2PMAP_DGPU_FAULT_WRITE, for writing. A debug and benchmarking aid in
 * the spirit of lib/test_hmm's HMM_DMIRROR_SNAPSHOT: it measures the
 * map-and-stage rate with no engine in the way.
 *
 * Return: 0, or -EFAULT when a page of the range is not mapped or lies
 * past the end of its file, -EPERM for a write fault of a read-only
 * mapping, -ESRCH when the owning process has exited, -EBUSY when
 * invalidations kept racing the fault, -ENODEV when the device is gone.
 * The out members are written in every case (what was done before the
 * error); a refused argument (-EINVAL, -ENOENT) maps nothing.
 */
struct drm_p2pmap_dgpu_userptr_fault {
	__u32 handle;
	__u32 flags;
	__u64 offset;
	__u64 length;
	__u64 pages_p2p;
	__u64 pages_pagecache;
	__u64 pages_unmapped;
	__u64 faults;
	__u64 faulted_pages;
	__u64 refaults;
	__u64 invalidations;
	__u64 duration_ns;
	__u64 reasons[P2PMAP_DGPU_MAX_REASONS];
	__u64 reserved[4];
};

/* drm_p2pmap_dgpu_pte.flags */
/* the entry may be used by the device */
#define P2PMAP_DGPU_PTE_VALID		(1U << 0)
/* the device may write through it */
#define P2PMAP_DGPU_PTE_WRITABLE	(1U << 1)
/* an invalidation took the page back and it was not faulted since */
#define P2PMAP_DGPU_PTE_REVOKED		(1U << 2)

/**
 * struct drm_p2pmap_dgpu_pte - one entry of a userptr object's device page
 *	table, as DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT reports it
 * @addr: the device address of the page: a P2P bus address (CMB) or the
 *	DMA address of a page-cache or anonymous page (its physical address
 *	for a virtual instance, which has no DMA); 0 when not valid.
 * @path: enum p2pmap_path (P2PMAP_PATH_NONE when not valid).
 * @reason: enum p2pmap_reason of a page-cache page; P2PMAP_REASON_NONE for
 *	P2P or an empty entry.
 * @flags: P2PMAP_DGPU_PTE_*.
 * @revocations: times an invalidation took this page back from the device
 *	since the object was created; it only grows, so a test sees that a
 *	revocation happened between two snapshots.
 */
struct drm_p2pmap_dgpu_pte {
	__u64 addr;
	__u32 path;
	__u32 reason;
	__u32 flags;
	__u32 revocations;
};

/**
 * struct drm_p2pmap_dgpu_userptr_snapshot - DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT
 * @handle: (in) a userptr object (-EINVAL for a VRAM object, -ENOENT for
 *	no object).
 * @flags: (in) must be 0.
 * @offset: (in) first byte of the range in the object, page-aligned.
 * @npages: (in) entries to report, one per page from @offset, inside the
 *	object; 0 reports only the counters.
 * @entries: (in) user pointer to @npages struct drm_p2pmap_dgpu_pte.
 * @invalidations: (out) invalidation callbacks the object has seen since
 *	it was created.
 * @reserved: (in) must be 0; (out) 0.
 *
 * Reads the device page table as it is, faulting nothing; the entries are
 * one consistent picture (taken under the page-table lock).
 *
 * Return: 0; -EINVAL for bad arguments; -ENOENT; -EFAULT when @entries
 * cannot be written; -ENOMEM.
 */
struct drm_p2pmap_dgpu_userptr_snapshot {
	__u32 handle;
	__u32 flags;
	__u64 offset;
	__u64 npages;
	__u64 entries;
	__u64 invalidations;
	__u64 reserved[3];
};

#define DRM_P2PMAP_DGPU_INFO		0x00
#define DRM_P2PMAP_DGPU_GEM_CREATE	0x01
#define DRM_P2PMAP_DGPU_GEM_MMAP_OFFSET	0x02
#define DRM_P2PMAP_DGPU_USERPTR		0x03
#define DRM_P2PMAP_DGPU_SUBMIT		0x04
#define DRM_P2PMAP_DGPU_WAIT		0x05
#define DRM_P2PMAP_DGPU_USERPTR_FAULT	0x06
#define DRM_P2PMAP_DGPU_USERPTR_SNAPSHOT	0x07

#define DRM_IOCTL_P2PMAP_DGPU_INFO \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_INFO, struct drm_p2pmap_dgpu_info)
#define DRM_IOCTL_P2PMAP_DGPU_GEM_CREATE \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_GEM_CREATE, struct drm_p2pmap_dgpu_gem_create)
#define DRM_IOCTL_P2PMAP_DGPU_GEM_MMAP_OFFSET \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_GEM_MMAP_OFFSET, \
			 struct drm_p2pmap_dgpu_gem_mmap_offset)
#define DRM_IOCTL_P2PMAP_DGPU_USERPTR \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_USERPTR, struct drm_p2pmap_dgpu_userptr)
#define DRM_IOCTL_P2PMAP_DGPU_SUBMIT \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_SUBMIT, struct drm_p2pmap_dgpu_submit)
#define DRM_IOCTL_P2PMAP_DGPU_WAIT \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_WAIT, struct drm_p2pmap_dgpu_wait)
#define DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_USERPTR_FAULT, \
			 struct drm_p2pmap_dgpu_userptr_fault)
#define DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT \
	P2PMAP_DGPU_IOWR(DRM_P2PMAP_DGPU_USERPTR_SNAPSHOT, \
			 struct drm_p2pmap_dgpu_userptr_snapshot)

#endif /* _UAPI_DRM_P2PMAP_DGPU_DRM_H */
