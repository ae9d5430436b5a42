/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * __attribute__((cleanup)) helpers, the user-space goto ladder (as in
 * libnvme): a variable declared with one of these is released when it goes
 * out of scope, on every return path.
 *
 *	_cleanup_free_ char *buf = NULL;
 *	_cleanup_fd_ int fd = -1;
 *
 * Hand ownership away by resetting the variable (buf = NULL, fd = -1).
 */
#ifndef _P2PMAP_CLEANUP_H
#define _P2PMAP_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void p2pmap_freep(void *p)
{
	free(*(void **)p);
}

static inline void p2pmap_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_		__attribute__((cleanup(p2pmap_freep)))
#define _cleanup_fd_		__attribute__((cleanup(p2pmap_closep)))

#endif /* _P2PMAP_CLEANUP_H */
