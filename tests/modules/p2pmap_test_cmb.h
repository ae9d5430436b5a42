/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Private ABI of tests/modules/p2pmap_test_cmb.ko (/dev/p2pmap_test_cmb):
 * drives a p2pmap provider (drivers/nvme-cmb) from guest tests. Test-only.
 * ioctl magic 0xBA, numbers 0x70-0x7f (p2pmap's driver range).
 */
#ifndef _P2PMAP_TEST_CMB_H
#define _P2PMAP_TEST_CMB_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define P2PMAP_TEST_CMB_SLOTS		8192
#define P2PMAP_TEST_CMB_BATCH_MAX	1024

/**
 * struct p2pmap_test_cmb_open - OPEN: open a block device and find its provider
 * @path: (in) user pointer to the device path, NUL-terminated.
 * @name: (out) the provider's name.
 */
struct p2pmap_test_cmb_open {
	__u64 path;
	char name[32];
};

/**
 * struct p2pmap_test_cmb_stage - one range to stage (STAGE, or an element of BATCH)
 * @sector: (in) first sector on the opened device.
 * @nr_pages: (in) pages to stage.
 * @flags: (in) P2PMAP_STAGE_* (STAGE only; BATCH uses the batch's).
 * @slot: (out) the slot now holding the chunk.
 * @error: (out) 0 or a negative errno.
 * @bus_addr: (out) bus address of the chunk's first page.
 */
struct p2pmap_test_cmb_stage {
	__u64 sector;
	__u32 nr_pages;
	__u32 flags;
	__u32 slot;
	__s32 error;
	__u64 bus_addr;
};

/*
 * p2pmap_test_cmb_stage.flags / p2pmap_test_cmb_batch.flags, beside the
 * P2PMAP_STAGE_* flags (stripped before the provider sees them): the slot
 * keeps a revoked chunk until PUT, as an owner whose device still uses the
 * memory (a DMA in flight) does.
 */
#define P2PMAP_TEST_CMB_KEEP	0x80000000U

/**
 * struct p2pmap_test_cmb_batch - BATCH: stage many ranges at once
 * @reqs: (in) user pointer to @nr struct p2pmap_test_cmb_stage.
 * @nr: (in) number of ranges, at most P2PMAP_TEST_CMB_BATCH_MAX.
 * @flags: (in) P2PMAP_STAGE_* for all.
 */
struct p2pmap_test_cmb_batch {
	__u64 reqs;
	__u32 nr;
	__u32 flags;
};

/* p2pmap_test_cmb_io.how */
#define P2PMAP_TEST_CMB_CPU	0	/* the CPU reads/writes the CMB pages */
#define P2PMAP_TEST_CMB_EDU	1	/* edu DMAs from the chunk's bus address (READ) */

/**
 * struct p2pmap_test_cmb_io - READ / WRITE the bytes of a slot's chunk
 * @slot: (in) the slot.
 * @how: (in) P2PMAP_TEST_CMB_CPU or P2PMAP_TEST_CMB_EDU.
 * @offset: (in) byte offset in the chunk.
 * @len: (in) bytes (EDU: at most 4096, not crossing a page).
 * @buf: (in) user pointer.
 */
struct p2pmap_test_cmb_io {
	__u32 slot;
	__u32 how;
	__u64 offset;
	__u64 len;
	__u64 buf;
};

/* slot states in STATUS */
#define P2PMAP_TEST_CMB_FREE	0
#define P2PMAP_TEST_CMB_LIVE	1
#define P2PMAP_TEST_CMB_REVOKED	2

/**
 * struct p2pmap_test_cmb_status - STATUS: what the owner saw
 * @revokes: (out) revoke callbacks received, per enum p2pmap_revoke_cause.
 * @live: (out) slots holding a chunk.
 * @revoked: (out) slots whose chunk was revoked.
 * @slot: (in) a slot to describe.
 * @slot_state: (out) its state.
 * @slot_cause: (out) its revoke cause, when revoked.
 */
struct p2pmap_test_cmb_status {
	__u64 revokes[16];
	__u32 live;
	__u32 revoked;
	__u32 slot;
	__u32 slot_state;
	__u32 slot_cause;
	__u32 pad;
};

/**
 * struct p2pmap_test_cmb_reach - REACH: can a PCI device reach the provider?
 * @pci: (in) the client's PCI name ("0000:04:00.0"); empty: the edu device.
 * @result: (out) 0 or a negative errno from the provider's reach().
 * @why: (out) the reason, when not.
 */
struct p2pmap_test_cmb_reach {
	char pci[32];
	__s32 result;
	__u32 pad;
	char why[128];
};

/**
 * struct p2pmap_test_cmb_bioloop - BIOLOOP: a bare bio loop into a slot's pages
 * @slot: (in) a live slot; its own sectors are read again into its pages,
 *	so that the cached data stays what the disk holds.
 * @depth: (in) bios in flight, 1 to 256.
 * @bio_bytes: (in) bytes per bio, a multiple of 4096 dividing the chunk.
 * @total_bytes: (in) bytes to read in all.
 * @ns: (out) elapsed nanoseconds.
 * @errors: (out) bios that failed.
 */
struct p2pmap_test_cmb_bioloop {
	__u32 slot;
	__u32 depth;
	__u64 bio_bytes;
	__u64 total_bytes;
	__u64 ns;
	__u64 errors;
};

#define P2PMAP_TEST_CMB_OPEN	_IOWR(0xBA, 0x70, struct p2pmap_test_cmb_open)
#define P2PMAP_TEST_CMB_STAGE	_IOWR(0xBA, 0x71, struct p2pmap_test_cmb_stage)
#define P2PMAP_TEST_CMB_BATCH	_IOW(0xBA, 0x72, struct p2pmap_test_cmb_batch)
#define P2PMAP_TEST_CMB_READ	_IOW(0xBA, 0x73, struct p2pmap_test_cmb_io)
#define P2PMAP_TEST_CMB_WRITE	_IOW(0xBA, 0x74, struct p2pmap_test_cmb_io)
#define P2PMAP_TEST_CMB_PUT	_IOW(0xBA, 0x75, __u32)
#define P2PMAP_TEST_CMB_STATUS	_IOWR(0xBA, 0x76, struct p2pmap_test_cmb_status)
#define P2PMAP_TEST_CMB_SYNC	_IO(0xBA, 0x77)
#define P2PMAP_TEST_CMB_REACH	_IOWR(0xBA, 0x78, struct p2pmap_test_cmb_reach)
#define P2PMAP_TEST_CMB_CLOSE	_IO(0xBA, 0x79)
#define P2PMAP_TEST_CMB_FORGET	_IOW(0xBA, 0x7a, __u32)
#define P2PMAP_TEST_CMB_BIOLOOP	_IOWR(0xBA, 0x7b, struct p2pmap_test_cmb_bioloop)

#endif /* _P2PMAP_TEST_CMB_H */
