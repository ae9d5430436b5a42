/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * uapi of p2pmap_test_fsmap.ko: calls a file system's p2pmap device-map
 * callbacks (fs-hooks) on a file descriptor and reports the answer, and
 * counts the mmu notifier events a user range receives, so that guest
 * tests can compare the callbacks with FIEMAP and find the changes that no
 * notifier reports. Test-only.
 */
#ifndef _P2PMAP_TEST_FSMAP_H
#define _P2PMAP_TEST_FSMAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * struct p2pmap_test_fsmap - one device_map or device_revalidate call
 * @fd: (in) a file descriptor of the calling process.
 * @flags: (in) P2PMAP_TEST_FSMAP_* for device_map (unknown bits are passed
 *	on, to be refused by the callback); must be 0 for revalidate.
 * @pgoff: (in) first page of the range (revalidate: of the extent).
 * @npages: (in) at most this many pages (revalidate: the extent's length).
 * @ext_pgoff: (out) first page of the extent device_map described.
 * @ext_npages: (out) its length in pages.
 * @sector: (out) first 512-byte sector of the blocks when @reason is
 *	P2PMAP_REASON_NONE, relative to the block device (in, revalidate).
 * @cookie: (out) the extent's change cookie (in, revalidate).
 * @reason: (out) enum p2pmap_reason of the extent.
 * @result: (out) the callback's return value: 0 or a negative errno.
 * @bdev_major: (out) major number of the extent's block device, or 0.
 * @bdev_minor: (out) minor number of the extent's block device.
 * @bdev_start: (out) first sector of that block device on its disk.
 */
struct p2pmap_test_fsmap {
	__s32 fd;
	__u32 flags;
	__u64 pgoff;
	__u64 npages;
	__u64 ext_pgoff;
	__u64 ext_npages;
	__u64 sector;
	__u64 cookie;
	__u32 reason;
	__s32 result;
	__u32 bdev_major;
	__u32 bdev_minor;
	__u64 bdev_start;
};

/**
 * struct p2pmap_test_fsmap_watch - mmu notifier events on a user range
 * @addr: (in) start of the range in the caller's address space, page-aligned.
 * @length: (in) length of the range in bytes, page-aligned.
 * @clears: (out) events that take pages away: MMU_NOTIFY_UNMAP, _CLEAR,
 *	_RELEASE, _MIGRATE, _EXCLUSIVE.
 * @protections: (out) MMU_NOTIFY_PROTECTION_PAGE and _VMA (write-protect,
 *	as writeback's page_mkclean does).
 * @others: (out) any other event.
 */
struct p2pmap_test_fsmap_watch {
	__u64 addr;
	__u64 length;
	__u64 clears;
	__u64 protections;
	__u64 others;
};

/* device_map() flags: the values of P2PMAP_FAULT_WRITE, P2PMAP_MAP_PROBE */
#define P2PMAP_TEST_FSMAP_WRITE		0x1
#define P2PMAP_TEST_FSMAP_PROBE		0x2

/* device_map(fd's file, pgoff, npages, flags) */
#define P2PMAP_TEST_FSMAP_MAP		_IOWR(0xBA, 0x60, struct p2pmap_test_fsmap)
/* device_revalidate(fd's file, the NONE extent given in) */
#define P2PMAP_TEST_FSMAP_REVALIDATE	_IOWR(0xBA, 0x61, struct p2pmap_test_fsmap)
/* start counting the events of [addr, addr + length); one range per open */
#define P2PMAP_TEST_FSMAP_WATCH		_IOWR(0xBA, 0x62, struct p2pmap_test_fsmap_watch)
/* read the counts (and the range) of the current watch */
#define P2PMAP_TEST_FSMAP_WATCH_READ	_IOWR(0xBA, 0x63, struct p2pmap_test_fsmap_watch)
/* stop watching */
#define P2PMAP_TEST_FSMAP_WATCH_STOP	_IO(0xBA, 0x64)

#endif /* _P2PMAP_TEST_FSMAP_H */
