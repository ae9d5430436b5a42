// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: the framework's counters (P2PMAP_IOC_STATS).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

P2PMAP_EXPORT int p2pmap_get_stats(struct p2pmap *handle,
				   struct p2pmap_stats *stats,
				   struct p2pmap_error *err)
{
	struct p2pmap_stats st;
	int e;

	if (!handle || !stats)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_get_stats: %s is NULL",
				   !handle ? "handle" : "stats");

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (ioctl(handle->fd, P2PMAP_IOC_STATS, &st) == 0) {
		*stats = st;
		p2pmap_clear_error(err);
		return 0;
	}

	e = errno;
	switch (e) {
	case ENOTTY:
		return p2pmap_fail(err, P2PMAP_ERR_UNSUPPORTED, e,
				   "the p2pmap module behind %s has no statistics (P2PMAP_IOC_STATS); load the module that comes with libp2pmap %s",
				   handle->path, P2PMAP_VERSION_STR);
	case EINVAL:
		return p2pmap_fail(err, P2PMAP_ERR_ABI, e,
				   "the p2pmap module behind %s refused libp2pmap's statistics request: the module and libp2pmap %s (ABI %u) do not match",
				   handle->path, P2PMAP_VERSION_STR, P2PMAP_ABI_VERSION);
	default:
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e,
				   "statistics ioctl on %s failed: %s", handle->path,
				   strerror(e));
	}
}
