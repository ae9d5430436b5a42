/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * The names of the uapi's reasons and revocation causes, in one place for
 * the kernel (p2pmap/stats.c: debugfs, messages) and libp2pmap
 * (userspace/lib/names.c: p2pmap_reason_name() and the CLI). A name is the
 * enumerator without its prefix, in lower case; tests/host/names.c checks
 * every enumerator of the uapi header against them.
 *
 * It defines the tables themselves: include it in the one file of each side
 * that looks names up. A value without a name here is NULL in the table.
 * <linux/p2pmap.h> is the uapi header in user space, and the kernel API
 * (which includes it) in the kernel.
 */
#ifndef _P2PMAP_NAMES_H
#define _P2PMAP_NAMES_H

#include <linux/p2pmap.h>

static const char *const p2pmap_reason_names[P2PMAP_REASON_COUNT] = {
	[P2PMAP_REASON_NONE]		= "none",
	[P2PMAP_REASON_HOLE]		= "hole",
	[P2PMAP_REASON_UNWRITTEN]	= "unwritten",
	[P2PMAP_REASON_DIRTY]		= "dirty",
	[P2PMAP_REASON_SHARED]		= "shared",
	[P2PMAP_REASON_PRIVATE]		= "private",
	[P2PMAP_REASON_INLINE]		= "inline",
	[P2PMAP_REASON_ENCRYPTED]	= "encrypted",
	[P2PMAP_REASON_UNSUPPORTED_FS]	= "unsupported_fs",
	[P2PMAP_REASON_NO_CMB]		= "no_cmb",
	[P2PMAP_REASON_NO_ROUTE]	= "no_route",
	[P2PMAP_REASON_CMB_EXHAUSTED]	= "cmb_exhausted",
	[P2PMAP_REASON_ANONYMOUS]	= "anonymous",
	[P2PMAP_REASON_NOT_ALIGNED]	= "not_aligned",
	[P2PMAP_REASON_ERROR]		= "error",
	[P2PMAP_REASON_WRITE]		= "write",
	[P2PMAP_REASON_RECALLED]	= "recalled",
};

static const char *const p2pmap_revoke_cause_names[P2PMAP_REVOKE_COUNT] = {
	[P2PMAP_REVOKE_UNMAP]		= "unmap",
	[P2PMAP_REVOKE_RELEASE]		= "release",
	[P2PMAP_REVOKE_LAYOUT]		= "layout",
	[P2PMAP_REVOKE_EVICT]		= "evict",
	[P2PMAP_REVOKE_PROVIDER_GONE]	= "provider_gone",
	[P2PMAP_REVOKE_IMPORTER_GONE]	= "importer_gone",
	[P2PMAP_REVOKE_UNLOAD]		= "unload",
	[P2PMAP_REVOKE_COHERENCY]	= "coherency",
	[P2PMAP_REVOKE_OTHER]		= "other",
	[P2PMAP_REVOKE_DESTROY]		= "destroy",
};

#endif /* _P2PMAP_NAMES_H */
