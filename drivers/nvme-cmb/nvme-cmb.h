/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap nvme-cmb: an NVMe Controller Memory Buffer as a p2pmap provider.
 * What the files of p2pmap_nvme_cmb.ko share, and nothing else.
 */
#ifndef _P2PMAP_NVME_CMB_H
#define _P2PMAP_NVME_CMB_H

#include <linux/atomic.h>
#include <linux/blk_types.h>
#include <linux/interval_tree.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/pci.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <p2pmap/compat.h>

struct dentry;
struct gendisk;

/* Where the memory comes from; chosen at build time by a capability macro. */
#if P2PMAP_HAVE_PCI_P2PDMA()
#define NVME_CMB_BACKEND_NAME	"p2pdma"
#else
#define NVME_CMB_BACKEND_NAME	"compat"
#endif

/**
 * enum nvme_cmb_state - life of one controller's CMB in this module
 * @NVME_CMB_LIVE: staging allowed.
 * @NVME_CMB_RESETTING: the controller was reset: everything staged was
 *	revoked and counted lost; the CMB is re-enabled once in-flight I/O
 *	has drained.
 * @NVME_CMB_GOING: nvme is being unbound or this module unloaded; no new
 *	staging, ever.
 */
enum nvme_cmb_state {
	NVME_CMB_LIVE,
	NVME_CMB_RESETTING,
	NVME_CMB_GOING,
};

/**
 * struct nvme_cmb_stats - counters shown in debugfs; bytes unless named
 * @staged: bytes read from the namespace into the CMB.
 * @written_back: dirty bytes written from the CMB to the namespace.
 * @evicted: bytes of cached extents evicted to make room or on overlap.
 * @lost: dirty (device-written) bytes that could not be written back:
 *	reset, surprise removal, write-back I/O error.
 * @hits: stage requests served from the cache (count).
 * @misses: stage requests that read from the namespace (count).
 * @errors: failed stage requests, I/O errors included (count).
 * @revokes: owner revoke callbacks made (count).
 * @resets: controller resets seen (count).
 * @invalidated: bytes of cached extents dropped because their blocks were
 *	written behind the cache.
 * @notified: controller restarts nvme announced (uevents, count).
 * @evicted_ahead: bytes of @evicted that the evict-ahead worker took out
 *	(not a stage request).
 * @evict_ahead_ns: time the evict-ahead worker spent (revokes and
 *	write-back included), in nanoseconds.
 * @stall_evictions: extents a stage request had to evict itself before
 *	it could have space (count): the evictions a fault waits for.
 * @space_timeouts: waits of a stage request for revoked owners to give
 *	pages back that ran out their HZ / 10 without any page coming back
 *	(count): an owner slow to put what was revoked from it.
 */
struct nvme_cmb_stats {
	atomic64_t staged;
	atomic64_t written_back;
	atomic64_t evicted;
	atomic64_t lost;
	atomic64_t hits;
	atomic64_t misses;
	atomic64_t errors;
	atomic64_t revokes;
	atomic64_t resets;
	atomic64_t invalidated;
	atomic64_t notified;
	atomic64_t evicted_ahead;
	atomic64_t evict_ahead_ns;
	atomic64_t stall_evictions;
	atomic64_t space_timeouts;
};

/**
 * struct nvme_cmb - one NVMe controller's CMB, offered to p2pmap
 * @provider: what p2pmap knows of it.
 * @node: in nvme_cmb_list (nvme_cmb_list_lock).
 * @pdev: the NVMe PCI function, referenced.
 * @name: "nvme0"-style name of the controller when it was found.
 * @regs: the controller's register page (BAR0), our own mapping.
 * @cmbmsc: the CMBMSC value that enables the CMB at its bus address.
 * @bar: the BAR holding the CMB.
 * @phys: CPU physical address of the part of the CMB used.
 * @bus: bus address of the same.
 * @size: bytes used; a multiple of PAGE_SIZE.
 * @npages: @size in pages.
 * @kaddr: the CPU mapping of the CMB (uncached).
 * @linear_map: how the pages' linear mapping was found to be cached.
 * @pgmap: compat backend: our ZONE_DEVICE pagemap over the CMB.
 * @p2pmem: p2pdma backend: the memory taken from nvme's P2PDMA pool.
 * @first_page: struct page of the CMB's first page.
 * @lock: protects @state, @bitmap, @used_pages, @freed_seq (written under
 *	it, read without it by a stager waiting for space), @evict_pending,
 *	@tree, @lru,
 *	@extents, @pressure, @pressure_at, @free_target, @keep_pages, and
 *	every extent's and handle's fields documented as "cmb lock".
 * @state: enum nvme_cmb_state.
 * @gen: bumped whenever everything is revoked (reset, removal, unload):
 *	reads submitted under an older one are void.
 * @loss_gen: bumped when the CMB's contents are lost (reset, surprise
 *	removal): write-backs submitted under an older one are void.
 * @bitmap: one bit per CMB page, set while an extent holds it.
 * @used_pages: bits set in @bitmap.
 * @freed_seq: bumped whenever an extent gives its pages back: a stager
 *	waiting for space waits for it to change, not for @used_pages to
 *	drop (another stager may take the pages before it looks).
 * @evict_pending: extents evicted while owners held them, whose pages have
 *	not come back yet (owners still to put their revoked chunks).
 * @pressure: a stage request had to revoke a held extent for space: the
 *	cache is being streamed through, and the evict-ahead worker keeps
 *	@free_target pages free until no held extent has been evicted for a
 *	second.
 * @pressure_at: jiffies of the last eviction of a held extent.
 * @free_target: pages the evict-ahead worker keeps free under @pressure.
 * @keep_pages: the worker leaves the most recently used extents holding
 *	this many pages alone (the last batch's: just handed out).
 * @tree: cached extents indexed by absolute sector (all disks).
 * @lru: cached extents, least recently used first.
 * @extents: every extent that holds CMB pages (for teardown).
 * @inflight: bios submitted and not completed.
 * @wq: waiters for @inflight, handle puts and extents to go.
 * @poll_work: watches CMBMSC for a controller reset.
 * @reset_work: handles a reset in process context.
 * @evict_work: the evict-ahead worker (nvme_cmb_evict_ahead_work()).
 * @inval_lock: protects @invals and @inval_all (taken in any context).
 * @invals: ranges written behind the cache, to apply (snoop.c).
 * @inval_all: a range could not be recorded: drop the whole cache.
 * @inval_work: applies @invals promptly.
 * @nr_extents: extents holding pages (read locklessly by the snoop probe).
 * @dir: debugfs directory.
 * @stats: counters.
 */
struct nvme_cmb {
	struct p2pmap_provider provider;
	struct list_head node;
	struct pci_dev *pdev;
	char name[32];
	void __iomem *regs;
	u64 cmbmsc;
	int bar;
	phys_addr_t phys;
	u64 bus;
	u64 size;
	unsigned long npages;
	void *kaddr;
	const char *linear_map;
	struct dev_pagemap pgmap;
	void *p2pmem;
	struct page *first_page;

	struct mutex lock;		/* see @lock above */
	enum nvme_cmb_state state;
	unsigned int gen;
	unsigned int loss_gen;
	unsigned long *bitmap;
	unsigned long used_pages;
	unsigned long freed_seq;
	unsigned int evict_pending;
	bool pressure;
	unsigned long pressure_at;
	unsigned long free_target;
	unsigned long keep_pages;
	struct rb_root_cached tree;
	struct list_head lru;
	struct list_head extents;

	atomic_t inflight;
	wait_queue_head_t wq;
	struct delayed_work poll_work;
	struct work_struct reset_work;
	struct work_struct evict_work;
	spinlock_t inval_lock;		/* see @inval_lock above */
	struct list_head invals;
	bool inval_all;
	struct work_struct inval_work;
	atomic_t nr_extents;
	struct dentry *dir;
	struct nvme_cmb_stats stats;
};

/**
 * enum nvme_cmb_ext_state - an extent's data
 * @NVME_CMB_EXT_STAGING: reads in flight.
 * @NVME_CMB_EXT_READY: holds the blocks (or newer, device-written data).
 * @NVME_CMB_EXT_FAILED: staging failed; its waiters got the error.
 */
enum nvme_cmb_ext_state {
	NVME_CMB_EXT_STAGING,
	NVME_CMB_EXT_READY,
	NVME_CMB_EXT_FAILED,
};

/**
 * struct nvme_cmb_extent - a run of CMB pages holding a run of sectors
 * @cmb: the CMB.
 * @it: interval [first sector, last sector], absolute on @disk; in
 *	@cmb->tree while @indexed (cmb lock).
 * @disk: the disk, referenced (get_device) for the extent's lifetime.
 * @first: index of the first CMB page.
 * @nr_pages: length in pages.
 * @pages: @nr_pages struct page pointers.
 * @state: enum nvme_cmb_ext_state (cmb lock).
 * @indexed: in @cmb->tree and @cmb->lru: new requests can find it (cmb lock).
 * @dirty: a device wrote it; write back before the pages are reused (cmb lock).
 * @dirty_lo: first page written by a device (cmb lock, with @dirty).
 * @dirty_hi: last page written by a device, plus one (cmb lock).
 * @io_lo: first page of the I/O in flight.
 * @io_hi: last page of the I/O in flight, plus one.
 * @io_skipped: poisoned pages the write-back in flight skipped.
 * @lost: a reset or removal took its data; never write it back (cmb lock).
 * @freeing: on its way out: written back and/or freed (cmb lock).
 * @poison: bitmap of the pages whose blocks were written behind the cache
 *	(a CPU page written back, O_DIRECT...) while the extent held
 *	device-written data; never written back from the CMB. NULL: none.
 *	Bits are set under the cmb lock and only ever set; the submission of
 *	a write-back reads them without it.
 * @ahead: staged with P2PMAP_STAGE_AHEAD and not found by another request
 *	yet: the last choice of eviction (cmb lock).
 * @evict_pending: evicted while held; counted in @cmb->evict_pending until
 *	its pages are given back (cmb lock).
 * @io_busy: I/O of this extent submitted and its done_work not run yet
 *	(cmb lock to set; cleared by done_work).
 * @io_write: the I/O in flight is a write-back.
 * @wb_error: result of the last write-back.
 * @syncing: a sync() is writing it back and holds it (cmb lock).
 * @sync_node: on that sync()'s private list.
 * @gen: @cmb->gen when its reads were submitted.
 * @io_gen: @cmb->loss_gen when its write-back was submitted.
 * @io_pending: bios not completed, plus one while submitting.
 * @io_error: first bio error.
 * @handles: references handed out (struct nvme_cmb_handle.node, cmb lock).
 * @nr_handles: entries on @handles (cmb lock).
 * @nr_writers: handles staged with P2PMAP_STAGE_WRITE (cmb lock).
 * @waiters: stage requests waiting for @state to leave STAGING (cmb lock).
 * @lru_node: in @cmb->lru while @indexed (cmb lock).
 * @all_node: in @cmb->extents (cmb lock).
 * @done_work: runs the end of staging in process context.
 */
struct nvme_cmb_extent {
	struct nvme_cmb *cmb;
	struct interval_tree_node it;
	struct gendisk *disk;
	unsigned long first;
	unsigned int nr_pages;
	struct page **pages;
	enum nvme_cmb_ext_state state;
	bool indexed;
	bool dirty;
	unsigned int dirty_lo;
	unsigned int dirty_hi;
	unsigned int io_lo;
	unsigned int io_hi;
	unsigned int io_skipped;
	bool lost;
	bool freeing;
	unsigned long *poison;
	bool ahead;
	bool evict_pending;
	bool io_busy;
	bool io_write;
	int wb_error;
	bool syncing;
	struct list_head sync_node;
	unsigned int gen;
	unsigned int io_gen;
	atomic_t io_pending;
	atomic_t io_error;
	struct list_head handles;
	unsigned int nr_handles;
	unsigned int nr_writers;
	struct list_head waiters;
	struct list_head lru_node;
	struct list_head all_node;
	struct work_struct done_work;
};

/**
 * struct nvme_cmb_handle - one owner's reference to (part of) an extent
 * @chunk: what the owner sees.
 * @ext: the extent (cmb lock).
 * @owner: the owner's revoke callback.
 * @node: in @ext->handles (cmb lock).
 * @writable: staged with P2PMAP_STAGE_WRITE.
 * @off: index in the extent of the chunk's first page.
 * @revoking: a revoke callback for it is running (cmb lock).
 * @revoked: a revoke callback was made (or is running) (cmb lock).
 * @put: the owner dropped it (cmb lock).
 * @revoker: the task running the revoke callback.
 * @keeps_data: revoked because blocks of its extent outside its pages were
 *	written behind the cache: its owner is told P2PMAP_REVOKE_EVICT (what
 *	it wrote is written back), not P2PMAP_REVOKE_COHERENCY (cmb lock).
 * @ref: the owner's reference and one per revoke in progress.
 * @revoke_node: on a private list of handles to revoke.
 * @waiting: on @ext->waiters: not yet handed to its owner (cmb lock).
 * @wait_node: in @ext->waiters (cmb lock).
 * @batch: the batch that asked for it, until it is handed out.
 * @req: the request of @batch it answers.
 */
struct nvme_cmb_handle {
	struct p2pmap_chunk chunk;
	struct nvme_cmb_extent *ext;
	struct p2pmap_owner owner;
	struct list_head node;
	bool writable;
	unsigned int off;
	bool revoking;
	bool revoked;
	bool put;
	struct task_struct *revoker;
	bool keeps_data;
	struct kref ref;
	struct list_head revoke_node;
	bool waiting;
	struct list_head wait_node;
	struct p2pmap_stage_batch *batch;
	struct p2pmap_stage_req *req;
};

static inline struct nvme_cmb *to_nvme_cmb(struct p2pmap_provider *provider)
{
	return container_of(provider, struct nvme_cmb, provider);
}

/* backend.c */
int nvme_cmb_backend_probe(struct nvme_cmb *cmb, char *why, size_t len);
void nvme_cmb_backend_remove(struct nvme_cmb *cmb);
bool nvme_cmb_backend_alive(struct nvme_cmb *cmb);
u64 nvme_cmb_backend_cmbmsc(struct nvme_cmb *cmb);
int nvme_cmb_backend_enable(struct nvme_cmb *cmb);
int nvme_cmb_dma_direct_check(struct pci_dev *pdev, u64 phys, u64 size,
			      char *why, size_t len);

/* cache.c */
int nvme_cmb_cache_init(struct nvme_cmb *cmb);
void nvme_cmb_cache_destroy(struct nvme_cmb *cmb);
struct p2pmap_chunk *nvme_cmb_stage(struct p2pmap_provider *provider,
				    struct block_device *bdev, sector_t sector,
				    unsigned int nr_pages, unsigned int flags,
				    const struct p2pmap_owner *owner);
int nvme_cmb_stage_batch(struct p2pmap_provider *provider,
			 struct p2pmap_stage_batch *batch);
void nvme_cmb_put(struct p2pmap_chunk *chunk);
void nvme_cmb_forget(struct p2pmap_chunk *chunk);
int nvme_cmb_sync(struct p2pmap_provider *provider, struct block_device *bdev);
bool nvme_cmb_owns_bdev(struct p2pmap_provider *provider,
			struct block_device *bdev);
void nvme_cmb_reset_work(struct work_struct *work);
void nvme_cmb_poll_work(struct work_struct *work);
void nvme_cmb_evict_ahead_work(struct work_struct *work);
u64 nvme_cmb_drop(struct nvme_cmb *cmb);
void nvme_cmb_drain(struct nvme_cmb *cmb, enum p2pmap_revoke_cause cause);
void nvme_cmb_read_done_locked(struct nvme_cmb_extent *ext,
			       struct list_head *done);
void nvme_cmb_complete_waiters(struct nvme_cmb *cmb, struct list_head *done);
void nvme_cmb_ext_free_mem(struct nvme_cmb_extent *ext);
bool nvme_cmb_ext_check_locked(struct nvme_cmb_extent *ext,
			       struct list_head *wb, struct list_head *dead);
void nvme_cmb_ext_unindex_locked(struct nvme_cmb_extent *ext);
u64 nvme_cmb_ext_lose_locked(struct nvme_cmb_extent *ext);
void nvme_cmb_revoke_locked(struct nvme_cmb_extent *ext,
			    struct list_head *revokes);
void nvme_cmb_finish_revokes(struct nvme_cmb *cmb, struct list_head *revokes,
			     enum p2pmap_revoke_cause cause,
			     struct list_head *wb, struct list_head *dead);

/* snoop.c */
int nvme_cmb_snoop_init(void);
void nvme_cmb_snoop_exit(void);
void nvme_cmb_snoop_discard(struct nvme_cmb *cmb);
void nvme_cmb_inval_work(struct work_struct *work);
void nvme_cmb_apply_invals_locked(struct nvme_cmb *cmb,
				  struct list_head *revokes,
				  struct list_head *wb, struct list_head *dead);

extern struct workqueue_struct *nvme_cmb_wq;
extern struct list_head nvme_cmb_list;

/* main.c */
bool nvme_cmb_owns_disk(struct nvme_cmb *cmb, struct gendisk *disk);
void nvme_cmb_check_all(bool notified);

/* uevent.c */
int nvme_cmb_uevent_init(void);
void nvme_cmb_uevent_exit(void);

/* stage.c */
void nvme_cmb_end_io(struct bio *bio);
void nvme_cmb_bio_add_pages(struct bio *bio, struct page **pages,
			    unsigned int n);
void nvme_cmb_submit(struct nvme_cmb_extent *ext, blk_opf_t opf,
		     unsigned int lo, unsigned int hi);
void nvme_cmb_io_done(struct work_struct *work);

/* topology.c */
int nvme_cmb_reach(struct p2pmap_provider *provider, struct device *client,
		   char *why, size_t len);

/* debugfs.c */
void nvme_cmb_debugfs_init(void);
void nvme_cmb_debugfs_exit(void);
void nvme_cmb_debugfs_add(struct nvme_cmb *cmb);
void nvme_cmb_debugfs_remove(struct nvme_cmb *cmb);
void nvme_cmb_debugfs_note(struct pci_dev *pdev, const char *what);

/* bench.c */
void nvme_cmb_bench_init(struct dentry *root);

#endif /* _P2PMAP_NVME_CMB_H */
