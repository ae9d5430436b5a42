/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap - peer-to-peer mapping of file data for devices: in-kernel API.
 *
 * Three parties meet in p2pmap.ko:
 *
 *  - importers: device drivers (a GPU, an accelerator, dummy-gpu) that mirror
 *    a range of a process's address space and want, per page, a bus address
 *    their device can use;
 *  - file systems, through device-map callbacks (struct p2pmap_vm_ops) that
 *    fs-hooks attach to a file-system type: the vm_operations extension
 *    proposed upstream in 2019, kept outside vm_operations_struct because
 *    stock kernels have no such members;
 *  - providers: P2P memory in front of a block device, such as an NVMe
 *    Controller Memory Buffer, that stage blocks and give bus addresses.
 *
 * Each party knows only the one below it. Ownership is explicit: whoever
 * holds an address registered a revoke (invalidate) callback for it, and is
 * told before the address may be reused.
 */
#ifndef _LINUX_P2PMAP_H
#define _LINUX_P2PMAP_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/kref.h>
#include <linux/atomic.h>
#include <uapi/linux/p2pmap.h>

struct device;
struct file;
struct file_system_type;
struct block_device;
struct mm_struct;
struct module;
struct page;

/* ------------------------------------------------------------------------
 * Importers: device drivers that mirror user ranges
 * ------------------------------------------------------------------------
 *
 * The mirror protocol is HMM's (see lib/test_hmm.c), run by p2pmap so that
 * no importer can get it wrong:
 *
 *   fault:      seq = mmu_interval_read_begin()
 *               resolve each page (device_map callback, or hmm_range_fault)
 *               lock the mirror
 *               if mmu_interval_read_retry(seq): unlock, release, go again
 *               ops->populate()            <- device page table written
 *               unlock the mirror
 *
 *   invalidate: lock the mirror (trylock if the notifier cannot block)
 *               mmu_interval_set_seq()
 *               ops->invalidate()          <- device page table cleared
 *               unlock the mirror
 *
 * The mirror lock is p2pmap's; both callbacks run under it and must not
 * sleep when called from a non-blockable notifier.
 */

struct p2pmap_importer;
struct p2pmap_mirror;

/**
 * struct p2pmap_page - what a device gets for one page of a mirrored range
 * @addr: the address the importer's device uses: a P2P bus address
 *	(@path == P2PMAP_PATH_P2P) or the DMA address of the page-cache or
 *	anonymous page mapped for the importer's device. Valid until the
 *	importer's invalidate callback covers the page.
 * @page: the page behind @addr: the page-cache or anonymous page, or the
 *	ZONE_DEVICE page of P2P memory (for a CPU engine that must touch the
 *	data, such as dummy-gpu's software engine). No reference is held:
 *	valid until the importer's invalidate callback covers the page.
 * @path: enum p2pmap_path.
 * @reason: enum p2pmap_reason: P2PMAP_REASON_NONE for P2P, otherwise why
 *	the page cache serves this page.
 * @writable: the device may write through @addr.
 * @__pad: zero.
 */
struct p2pmap_page {
	dma_addr_t addr;
	struct page *page;
	u8 path;
	u8 reason;
	u8 writable;
	u8 __pad[5];
};

/**
 * struct p2pmap_importer_ops - callbacks of a device driver
 * @invalidate: take back the device's mappings of [@start, @end) of @mirror
 *	because of @cause. Called with the mirror locked, after the notifier
 *	sequence was advanced. On return the device must no longer use the
 *	addresses (they may be reused at once). Must not sleep: it may be
 *	called from a non-blockable mmu notifier.
 * @populate: write @npages entries of @pages, starting at user address
 *	@start, into the device's page table. Called with the mirror locked,
 *	after mmu_interval_read_retry() confirmed that nothing changed. Must
 *	not sleep. Return 0 or a negative errno, handed back to the fault.
 */
struct p2pmap_importer_ops {
	void (*invalidate)(struct p2pmap_mirror *mirror, unsigned long start,
			   unsigned long end, enum p2pmap_revoke_cause cause);
	int (*populate)(struct p2pmap_mirror *mirror, unsigned long start,
			unsigned long npages, const struct p2pmap_page *pages);
};

/* p2pmap_mirror_fault() and p2pmap_vm_ops.device_map() flags */
#define P2PMAP_FAULT_WRITE	BIT(0)	/* the device will write */
/*
 * device_map() only: report, change nothing. No flush, no allocation: a
 * range with dirty page cache is refused with P2PMAP_REASON_DIRTY. Used by
 * P2PMAP_IOC_CHECK ("p2pmap check").
 */
#define P2PMAP_MAP_PROBE	BIT(1)

struct p2pmap_importer *p2pmap_importer_register(struct device *dev,
						 const struct p2pmap_importer_ops *ops,
						 struct module *owner);
void p2pmap_importer_unregister(struct p2pmap_importer *importer);
struct device *p2pmap_importer_device(const struct p2pmap_importer *importer);

/*
 * A device access (a job) starts with p2pmap_mirror_begin_access(), the
 * coherency point, and touches pages that p2pmap_mirror_fault() put in
 * the device's page table; an access that wrote ends with
 * p2pmap_mirror_end_access() before it is reported complete.
 */
struct p2pmap_mirror *p2pmap_mirror_create(struct p2pmap_importer *importer,
					   struct mm_struct *mm,
					   unsigned long start,
					   unsigned long length, void *priv);
int p2pmap_mirror_fault(struct p2pmap_mirror *mirror, unsigned long start,
			unsigned long npages, unsigned int flags);
long p2pmap_mirror_begin_access(struct p2pmap_mirror *mirror,
				unsigned long start, unsigned long npages);
long p2pmap_mirror_end_access(struct p2pmap_mirror *mirror,
			      unsigned long start, unsigned long npages);
void p2pmap_mirror_destroy(struct p2pmap_mirror *mirror);
void *p2pmap_mirror_priv(const struct p2pmap_mirror *mirror);

/* ------------------------------------------------------------------------
 * Device-map callbacks: the file system's side
 * ------------------------------------------------------------------------
 */

/**
 * struct p2pmap_extent - where a range of a file lives
 * @pgoff: first file page of the range.
 * @npages: length of the range in pages.
 * @bdev: block device holding the blocks (NULL unless @reason is NONE).
 * @sector: first 512-byte sector of the blocks on @bdev.
 * @reason: P2PMAP_REASON_NONE when the blocks hold the file's current data
 *	and may be read in place; otherwise why they may not.
 * @cookie: the file system's change cookie when the extent was described;
 *	opaque to the caller, handed back through @device_revalidate.
 */
struct p2pmap_extent {
	pgoff_t pgoff;
	unsigned long npages;
	struct block_device *bdev;
	sector_t sector;
	enum p2pmap_reason reason;
	u64 cookie;
};

/* ---- the write side: blocks handed out for device writes ---- */

/* p2pmap_vm_ops.map_blocks() flags */
#define P2PMAP_BLOCKS_WRITE	BIT(0)	/* the device will write: allocate */

/**
 * enum p2pmap_block_type - what a range handed out by map_blocks is
 * @P2PMAP_BLOCKS_MAPPED: written blocks holding the file's data; a device
 *	may read them, and write them in place.
 * @P2PMAP_BLOCKS_UNWRITTEN: allocated blocks whose content is not the
 *	file's (it reads as zeros): a writer must write whole blocks (or zero
 *	what it does not write) and have them converted by commit_blocks.
 * @P2PMAP_BLOCKS_HOLE: no blocks (only without P2PMAP_BLOCKS_WRITE).
 */
enum p2pmap_block_type {
	P2PMAP_BLOCKS_MAPPED	= 0,
	P2PMAP_BLOCKS_UNWRITTEN	= 1,
	P2PMAP_BLOCKS_HOLE	= 2,
};

/**
 * struct p2pmap_block_map - one range of a file and its blocks, for device
 *	I/O (modelled on struct iomap as export_operations->map_blocks fills
 *	it in)
 * @offset: byte offset in the file, a multiple of the block size.
 * @length: bytes, a multiple of the block size.
 * @bdev: the block device of the blocks (NULL for a hole).
 * @sector: first 512-byte sector of the blocks on @bdev (0 for a hole).
 * @type: enum p2pmap_block_type.
 * @reason: when map_blocks refuses the range (-EOPNOTSUPP), why: an enum
 *	p2pmap_reason the caller reports; P2PMAP_REASON_NONE otherwise.
 */
struct p2pmap_block_map {
	loff_t offset;
	u64 length;
	struct block_device *bdev;
	sector_t sector;
	u32 type;
	u32 reason;
};

/**
 * struct p2pmap_vm_ops - device-map callbacks of a file-system type
 * @owner: the module implementing the callbacks.
 * @device_map: describe the file range starting at page @pgoff, at most
 *	@npages long, as one extent in @ext: either blocks that hold the
 *	file's data (ext->reason == P2PMAP_REASON_NONE) or a refusal with
 *	its reason. @flags are P2PMAP_FAULT_*. Called without mmap_lock held
 *	(a file system's locks rank above it) and with a reference on @file;
 *	may sleep. Return 0, or a negative errno for a hard failure.
 * @device_unmap: the extent described earlier is no longer used by any
 *	device; for a file system that pinned or leased something in
 *	@device_map. May be NULL.
 * @device_revalidate: is @ext, a P2PMAP_REASON_NONE extent that
 *	@device_map gave for @file, still true: the same blocks, holding the
 *	range's current data? Changes that no mmu notifier reports (online
 *	defragmentation, reflink of the file as a source, a write that was
 *	written back between two checks) are found here. Call it after
 *	staging and before publishing, and at every coherency point. Called
 *	without mmap_lock held; may sleep. Return 0 when @ext still holds,
 *	-ESTALE when the caller must revoke it and fault again, another
 *	negative errno on failure. May be NULL: nothing can be revalidated.
 *
 * @map_blocks: the write side (export_operations->map_blocks): describe the
 *	range of @file starting at byte @pos (block-aligned), at most @len
 *	bytes, as one extent in @map. With P2PMAP_BLOCKS_WRITE, holes below
 *	the end of the file are allocated as unwritten extents. Requires a
 *	layout lease on @file (p2pmap_lease_get()) for as long as the blocks
 *	are used: the file system breaks it before it removes or moves blocks.
 *	Called without mmap_lock and outside any mmu notifier; may flush and
 *	invalidate the file's page cache (XFS does, for the whole file). Return
 *	0; -EOPNOTSUPP with @map->reason set when the range cannot be handed
 *	out (ext4: anything but written extents; XFS: reflink, realtime);
 *	-EINVAL for a range beyond what the file system allows; another
 *	negative errno. May be NULL: no write mappings on this file system.
 * @commit_blocks: the device's writes to @maps (from @map_blocks) reached
 *	the blocks: make them the file's data and durable: unwritten extents
 *	become written, the page cache of the ranges is invalidated, mtime and
 *	ctime are updated, and the size grows to @new_size when it is larger
 *	than the current size (@new_size < 0: unchanged). Called without
 *	mmap_lock and outside any mmu notifier; sleeps. Return 0, -EOPNOTSUPP
 *	for a size change the file system cannot make (ext4), -EIO when the
 *	size would point past written data, another negative errno. May be
 *	NULL when @map_blocks is.
 * @no_layout_recall: the file system never breaks a layout lease (ext4): a
 *	CPU write(2) reaches the blocks behind device write mappings without
 *	telling p2pmap, so the end of each device access
 *	(p2pmap_mirror_end_access()) writes the device's data back.
 *
 * This is the 2019 vm_operations proposal with one change: the callbacks
 * take a file and a page offset instead of a VMA, because they cannot run
 * under mmap_lock, which is what keeps a VMA alive.
 */
struct p2pmap_vm_ops {
	struct module *owner;
	int (*device_map)(struct file *file, pgoff_t pgoff,
			  unsigned long npages, unsigned int flags,
			  struct p2pmap_extent *ext);
	void (*device_unmap)(struct file *file,
			     const struct p2pmap_extent *ext);
	int (*device_revalidate)(struct file *file,
				 const struct p2pmap_extent *ext);
	int (*map_blocks)(struct file *file, loff_t pos, u64 len,
			  unsigned int flags, struct p2pmap_block_map *map);
	int (*commit_blocks)(struct file *file,
			     const struct p2pmap_block_map *maps,
			     unsigned int nr_maps, loff_t new_size);
	bool no_layout_recall;
};

int p2pmap_vm_ops_register(struct file_system_type *fstype,
			   const struct p2pmap_vm_ops *ops);
void p2pmap_vm_ops_unregister(struct file_system_type *fstype);
const struct p2pmap_vm_ops *p2pmap_vm_ops_get(struct file_system_type *fstype);
void p2pmap_vm_ops_put(const struct p2pmap_vm_ops *ops);

/* ------------------------------------------------------------------------
 * Layout leases: being told before a file system removes or moves blocks
 * ------------------------------------------------------------------------
 *
 * An FL_LAYOUT lease, as knfsd takes for pNFS block layouts. XFS breaks
 * it before every operation that removes or moves blocks (truncate, hole
 * punch, fallocate, reflink/dedupe with the file as either side, swapext)
 * and before every write(2) and O_DIRECT write, including the holder's
 * own; unlink does not break it. ext4 never breaks it (no map_blocks): a
 * lease there only keeps the rules the same.
 */

struct p2pmap_lease;

/**
 * struct p2pmap_lease_ops - what a lease holder does when it is recalled
 * @recall: the file system wants the lease back. Called once per lease,
 *	from a workqueue (never under the VFS's spinlock), without locks. The
 *	breaker waits (no time-out: fl_break_time is 0) until the holder has
 *	stopped every device access through the blocks, written back and
 *	committed, and called p2pmap_lease_put(), which may be done from
 *	@recall itself. The breaker holds no file-system lock while it waits,
 *	so @recall may call commit_blocks.
 */
struct p2pmap_lease_ops {
	void (*recall)(struct p2pmap_lease *lease, void *priv);
};

struct p2pmap_lease *p2pmap_lease_get(struct file *file,
				      const struct p2pmap_lease_ops *ops,
				      void *priv);
void p2pmap_lease_put(struct p2pmap_lease *lease);
bool p2pmap_lease_recalled(const struct p2pmap_lease *lease);

/* ------------------------------------------------------------------------
 * Providers: P2P memory that stages a block device's blocks
 * ------------------------------------------------------------------------
 */

struct p2pmap_provider;

/**
 * struct p2pmap_chunk - blocks staged in a provider's P2P memory
 * @provider: the provider holding the memory.
 * @bdev: the block device the blocks belong to.
 * @sector: first 512-byte sector staged.
 * @nr_pages: number of pages staged.
 * @bus_addr: bus address of the first page, as a peer device on the
 *	provider's PCI hierarchy uses it; pages are contiguous on the bus.
 * @pages: the ZONE_DEVICE pages backing the chunk, @nr_pages of them.
 *
 * A chunk is handed out referenced; the provider keeps it staged, and its
 * address stable, until the reference is dropped or it calls the owner's
 * revoke callback. Members are read-only outside the provider.
 */
struct p2pmap_chunk {
	struct p2pmap_provider *provider;
	struct block_device *bdev;
	sector_t sector;
	unsigned int nr_pages;
	u64 bus_addr;
	struct page **pages;
};

/**
 * struct p2pmap_owner - who holds a chunk, and how to take it back
 * @revoke: the provider needs @chunk back (eviction, reset, removal,
 *	unload) for @cause. The owner must stop every device access to the
 *	chunk's addresses before returning and drop its reference with
 *	p2pmap_chunk_put() (from the callback or later). Called in process
 *	context, may sleep, never with a provider lock that p2pmap_chunk_put()
 *	takes. Called at most once per chunk, and never after
 *	p2pmap_chunk_put() has returned (a put from another task waits for a
 *	running callback), so it must not wait for a task that is putting
 *	the same chunk. For P2PMAP_REVOKE_PROVIDER_GONE the data is lost:
 *	what the device wrote was not written back (report -EIO).
 * @priv: the owner's cookie, passed back to @revoke.
 */
struct p2pmap_owner {
	void (*revoke)(struct p2pmap_chunk *chunk, void *priv,
		       enum p2pmap_revoke_cause cause);
	void *priv;
};

/* p2pmap_provider_ops.stage() flags */
#define P2PMAP_STAGE_WRITE	BIT(0)	/* the device will write: dirty on put */
#define P2PMAP_STAGE_NOWAIT	BIT(1)	/* fail with -EAGAIN rather than evict */
/*
 * staged ahead of need (a sequential reader's next ranges): until a request
 * without this flag finds it, evict it only after everything else that
 * can go, held ranges included
 */
#define P2PMAP_STAGE_AHEAD	BIT(2)

/**
 * struct p2pmap_stage_req - one range of a staging batch
 * @bdev: (in) the block device (a whole disk or a partition).
 * @sector: (in) first 512-byte sector, relative to @bdev and aligned to
 *	its logical block size.
 * @nr_pages: (in) number of pages to stage.
 * @owner: (in) the owner of this range's chunk (copied, need not outlive
 *	the call), or NULL: the batch's @owner. Lets one batch stage chunks
 *	that are revoked one by one (one cookie per range).
 * @chunk: (out) the chunk, with a reference for the batch's owner; NULL
 *	when @error is set.
 * @error: (out) 0, or a negative errno: -EINVAL (range outside @bdev or
 *	misaligned), -EBUSY (the range overlaps a chunk staged over a
 *	different range that is still referenced), -ENOSPC (nothing can be
 *	evicted), -EAGAIN (P2PMAP_STAGE_NOWAIT and no free space), -EIO (read
 *	error, or the provider was reset while reading), -ENODEV (the
 *	provider is going away), -ENOMEM.
 */
struct p2pmap_stage_req {
	struct block_device *bdev;
	sector_t sector;
	unsigned int nr_pages;
	const struct p2pmap_owner *owner;
	struct p2pmap_chunk *chunk;
	int error;
};

/**
 * struct p2pmap_stage_batch - ranges staged together, with their reads in
 *	flight at the same time
 * @reqs: the ranges; each one succeeds or fails on its own.
 * @nr_reqs: number of @reqs.
 * @flags: P2PMAP_STAGE_* for every range.
 * @owner: the owner of every chunk returned whose range names none;
 *	copied, need not outlive the call. May be NULL when every range
 *	names its own.
 * @done: called exactly once, in process context (a workqueue or the
 *	caller's own context), when every range has finished; the batch and
 *	@reqs must stay valid until then. A chunk may be revoked before
 *	@done runs (a later range of the same batch, or a reset, evicted it):
 *	the owner must then recognise it in @reqs, and must not use it.
 * @priv: the caller's cookie, for @done.
 * @pending: private to the provider.
 */
struct p2pmap_stage_batch {
	struct p2pmap_stage_req *reqs;
	unsigned int nr_reqs;
	unsigned int flags;
	const struct p2pmap_owner *owner;
	void (*done)(struct p2pmap_stage_batch *batch);
	void *priv;
	atomic_t pending;
};

/**
 * struct p2pmap_provider_ops - what a provider does for p2pmap
 * @owns_bdev: does this provider serve @bdev (a whole disk or a partition)?
 *	Must not sleep on I/O (called under p2pmap's registry lock).
 * @reach: can @client DMA to this provider's memory peer to peer? Return 0,
 *	or -EXDEV and a human-readable reason in @why (@len bytes).
 * @stage: find or stage @nr_pages pages of @bdev from @sector and return
 *	the chunk with a reference for @owner; ERR_PTR(-errno) on failure
 *	(the errnos of struct p2pmap_stage_req). May sleep.
 * @stage_batch: stage every range of @batch with their reads in flight at
 *	once; @batch->done reports the end. May sleep (eviction writes back).
 *	Return 0 when @batch->done will be called, or a negative errno when
 *	the batch was refused as a whole (then @done is not called). May be
 *	NULL: p2pmap then calls @stage once per range.
 * @put: drop a reference taken by @stage; a chunk staged with
 *	P2PMAP_STAGE_WRITE is written back before its memory is reused.
 * @forget: the blocks behind @chunk may have changed, or been freed, since
 *	it was staged (a write through the page cache or O_DIRECT, truncate,
 *	hole punch): once it is unreferenced, no later @stage may find it; the
 *	blocks are read again. The caller still holds its reference and drops
 *	it with @put afterwards. May sleep. Required of a provider that keeps
 *	chunks after their last @put.
 * @sync: write back what devices wrote into chunks of @bdev (every block
 *	device when NULL) and have already put. Return 0, or -EIO when some
 *	data could not be written (it is counted lost). May be NULL.
 */
struct p2pmap_provider_ops {
	bool (*owns_bdev)(struct p2pmap_provider *provider,
			  struct block_device *bdev);
	int (*reach)(struct p2pmap_provider *provider, struct device *client,
		     char *why, size_t len);
	struct p2pmap_chunk *(*stage)(struct p2pmap_provider *provider,
				      struct block_device *bdev,
				      sector_t sector, unsigned int nr_pages,
				      unsigned int flags,
				      const struct p2pmap_owner *owner);
	int (*stage_batch)(struct p2pmap_provider *provider,
			   struct p2pmap_stage_batch *batch);
	void (*put)(struct p2pmap_chunk *chunk);
	void (*forget)(struct p2pmap_chunk *chunk);
	int (*sync)(struct p2pmap_provider *provider,
		    struct block_device *bdev);
};

/**
 * struct p2pmap_provider - P2P memory registered with p2pmap
 * @name: a name users see (e.g. "nvme0").
 * @dev: the device whose BAR holds the memory (for topology checks).
 * @ops: the provider's callbacks.
 * @owner: the module implementing @ops.
 * @node: p2pmap's list of providers; private to p2pmap.
 * @ref: references from p2pmap_provider_find(); private to p2pmap.
 * @gone: completed when the last reference is dropped after unregister;
 *	private to p2pmap.
 */
struct p2pmap_provider {
	const char *name;
	struct device *dev;
	const struct p2pmap_provider_ops *ops;
	struct module *owner;
	struct list_head node;
	struct kref ref;
	struct completion *gone;
};

int p2pmap_provider_register(struct p2pmap_provider *provider);
void p2pmap_provider_unregister(struct p2pmap_provider *provider);
struct p2pmap_provider *p2pmap_provider_find(struct block_device *bdev);
void p2pmap_provider_put(struct p2pmap_provider *provider);

/**
 * p2pmap_chunk_put() - drop a reference to a staged chunk
 * @chunk: a chunk returned by the provider's stage callback.
 *
 * Context: process context; may sleep (write-back of a dirty chunk).
 */
static inline void p2pmap_chunk_put(struct p2pmap_chunk *chunk)
{
	chunk->provider->ops->put(chunk);
}

#endif /* _LINUX_P2PMAP_H */
