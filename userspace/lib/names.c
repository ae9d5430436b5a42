// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: names of the uapi's enum values and feature bits, and of
 * libp2pmap's error codes. A name is the enumerator without its prefix, in
 * lower case; tests/host/names.c checks every enumerator of the headers
 * against these tables.
 */
#include <stddef.h>

#include <p2pmap/names.h>

#include "internal.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char * const p2pmap_errcode_names[] = {
	[P2PMAP_ERR_NONE]		= "none",
	[P2PMAP_ERR_NOT_LOADED]		= "not_loaded",
	[P2PMAP_ERR_NO_DEVICE_NODE]	= "no_device_node",
	[P2PMAP_ERR_NOT_P2PMAP]		= "not_p2pmap",
	[P2PMAP_ERR_ABI]		= "abi",
	[P2PMAP_ERR_PERMISSION]		= "permission",
	[P2PMAP_ERR_INVALID_ARGUMENT]	= "invalid_argument",
	[P2PMAP_ERR_SYSTEM]		= "system",
	[P2PMAP_ERR_UNSUPPORTED]	= "unsupported",
	[P2PMAP_ERR_BAD_FILE]		= "bad_file",
	[P2PMAP_ERR_NO_PCI_DEVICE]	= "no_pci_device",
};

/* What each reason means to someone asking "why is this slow". */
static const char * const p2pmap_reason_descriptions[] = {
	[P2PMAP_REASON_NONE]		= "served peer to peer from the CMB",
	[P2PMAP_REASON_HOLE]		= "a hole in the file: there are no blocks to read",
	[P2PMAP_REASON_UNWRITTEN]	= "preallocated but never written: the data are zeros, not the blocks",
	[P2PMAP_REASON_DIRTY]		= "the newest data are in memory (dirty page cache or delayed allocation), not on the blocks",
	[P2PMAP_REASON_SHARED]		= "the blocks are shared with another file (reflink)",
	[P2PMAP_REASON_PRIVATE]		= "a MAP_PRIVATE mapping, whose pages may differ from the file",
	[P2PMAP_REASON_INLINE]		= "the data are stored inline in the inode",
	[P2PMAP_REASON_ENCRYPTED]	= "an encrypted, verity or DAX file",
	[P2PMAP_REASON_UNSUPPORTED_FS]	= "the file system has no p2pmap hooks",
	[P2PMAP_REASON_NO_CMB]		= "the block device has no P2P memory provider (no usable CMB)",
	[P2PMAP_REASON_NO_ROUTE]	= "the device cannot reach the CMB peer to peer",
	[P2PMAP_REASON_CMB_EXHAUSTED]	= "the CMB is full of data devices hold",
	[P2PMAP_REASON_ANONYMOUS]	= "anonymous memory, not a file",
	[P2PMAP_REASON_NOT_ALIGNED]	= "the blocks are not page-aligned on the device",
	[P2PMAP_REASON_ERROR]		= "an I/O or allocation error while staging",
	[P2PMAP_REASON_WRITE]		= "device writes go through the page cache (the file system cannot hand out blocks for writing)",
	[P2PMAP_REASON_RECALLED]	= "device writes go through the page cache until the next job: the file system recalled the write layout (a write, truncate, punch or reflink)",
};

static const char * const p2pmap_path_names[] = {
	[P2PMAP_PATH_NONE]		= "none",
	[P2PMAP_PATH_P2P]		= "p2p",
	[P2PMAP_PATH_PAGECACHE]		= "pagecache",
};

static const struct {
	uint64_t bit;
	const char *name;
} p2pmap_feature_names[] = {
	{ P2PMAP_FEATURE_PCI_P2PDMA,	"pci_p2pdma" },
	{ P2PMAP_FEATURE_HMM_MIRROR,	"hmm_mirror" },
	{ P2PMAP_FEATURE_BLOCK_LAYOUTS,	"block_layouts" },
};

/* A table with a hole (a value added to a header, not here) gives NULL. */
static const char *p2pmap_table_name(const char * const *names, size_t n,
				     int value)
{
	if (value < 0 || (size_t)value >= n)
		return NULL;
	return names[value];
}

P2PMAP_EXPORT const char *p2pmap_errcode_name(int code)
{
	return p2pmap_table_name(p2pmap_errcode_names,
				 ARRAY_SIZE(p2pmap_errcode_names), code);
}

P2PMAP_EXPORT const char *p2pmap_reason_name(int reason)
{
	return p2pmap_table_name(p2pmap_reason_names,
				 ARRAY_SIZE(p2pmap_reason_names), reason);
}

P2PMAP_EXPORT const char *p2pmap_reason_description(int reason)
{
	return p2pmap_table_name(p2pmap_reason_descriptions,
				 ARRAY_SIZE(p2pmap_reason_descriptions), reason);
}

P2PMAP_EXPORT const char *p2pmap_revoke_cause_name(int cause)
{
	return p2pmap_table_name(p2pmap_revoke_cause_names,
				 ARRAY_SIZE(p2pmap_revoke_cause_names), cause);
}

P2PMAP_EXPORT const char *p2pmap_path_name(int path)
{
	return p2pmap_table_name(p2pmap_path_names,
				 ARRAY_SIZE(p2pmap_path_names), path);
}

P2PMAP_EXPORT const char *p2pmap_feature_name(uint64_t feature)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(p2pmap_feature_names); i++)
		if (p2pmap_feature_names[i].bit == feature)
			return p2pmap_feature_names[i].name;
	return NULL;
}
