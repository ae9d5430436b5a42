/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * uapi of p2pmap_test_importer.ko: a device that mirrors user memory
 * through p2pmap's importer API and reads it with the CPU, in the style of
 * lib/test_hmm_uapi.h. Test-only: dummy-gpu is the real importer.
 */
#ifndef _P2PMAP_TEST_IMPORTER_H
#define _P2PMAP_TEST_IMPORTER_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * struct p2pmap_test_cmd - one device access
 * @addr: (in) user address the device accesses; page-aligned.
 * @npages: (in) number of pages.
 * @ptr: (in) user buffer receiving @npages pages read by the device
 *	(P2PMAP_TEST_READ), or @npages bytes of path and @npages bytes of
 *	reason (P2PMAP_TEST_SNAPSHOT), or 0.
 * @flags: (in) must be 0.
 * @faults: (out) p2pmap_mirror_fault() calls this access made.
 * @pages_p2p: (out) pages of the range the device reached P2P.
 * @pages_fallback: (out) pages it reached through the page cache.
 * @invalidations: (out) invalidate callbacks seen by this file so far.
 */
struct p2pmap_test_cmd {
	__u64 addr;
	__u64 npages;
	__u64 ptr;
	__u64 flags;
	__u64 faults;
	__u64 pages_p2p;
	__u64 pages_fallback;
	__u64 invalidations;
};

/* Mirror [addr, addr + npages pages); replaces the file's previous mirror. */
#define P2PMAP_TEST_MIRROR	_IOWR(0xBA, 0x70, struct p2pmap_test_cmd)
/* Read the range through the device page table, faulting what is missing. */
#define P2PMAP_TEST_READ	_IOWR(0xBA, 0x71, struct p2pmap_test_cmd)
/* Report path and reason of each page in the device page table. */
#define P2PMAP_TEST_SNAPSHOT	_IOWR(0xBA, 0x72, struct p2pmap_test_cmd)
/* Destroy the file's mirror. */
#define P2PMAP_TEST_RELEASE	_IOWR(0xBA, 0x73, struct p2pmap_test_cmd)
/* A job that only maps the range (coherency point, fault), reading nothing. */
#define P2PMAP_TEST_FAULT	_IOWR(0xBA, 0x74, struct p2pmap_test_cmd)

#endif /* _P2PMAP_TEST_IMPORTER_H */
