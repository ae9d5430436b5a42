/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap internals: not part of the ABI (the library is built with
 * -fvisibility=hidden; only P2PMAP_EXPORT functions are exported, and the
 * version script libp2pmap.map lists them).
 */
#ifndef _LIBP2PMAP_INTERNAL_H
#define _LIBP2PMAP_INTERNAL_H

#include <libp2pmap.h>

#define P2PMAP_EXPORT	__attribute__((visibility("default")))

struct p2pmap {
	int fd;
	char *path;	/* the device node, for messages */
};

__attribute__((format(printf, 4, 5)))
int p2pmap_fail(struct p2pmap_error *err, enum p2pmap_errcode code,
		int sys_errno, const char *fmt, ...);
void p2pmap_clear_error(struct p2pmap_error *err);

#endif /* _LIBP2PMAP_INTERNAL_H */
