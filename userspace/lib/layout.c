// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: layouts (P2PMAP_IOC_LAYOUT_*), the pNFS block-layout model for
 * local clients: get a layout, read and write its blocks, commit, return,
 * and the recall events that ask for it back. docs/layouts.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

/* The most extents one layout may have (the kernel's limit). */
#define P2PMAP_LAYOUT_EXTENTS_MAX	4096

static int p2pmap_layout_failed(struct p2pmap *h, const char *what, uint32_t id,
				int e, uint32_t reason, struct p2pmap_error *err)
{
	switch (e) {
	case ENOTTY:
		return p2pmap_fail(err, P2PMAP_ERR_UNSUPPORTED, e,
				   "the p2pmap module behind %s has no layouts; load the module that comes with libp2pmap %s",
				   h->path, P2PMAP_VERSION_STR);
	case EBADF:
		return p2pmap_fail(err, P2PMAP_ERR_BAD_FILE, e,
				   "%s: not allowed by the open mode (a layout needs a file open for reading, a read-write layout O_RDWR; only a read-write layout writes or commits)",
				   what);
	case EACCES:
		return p2pmap_fail(err, P2PMAP_ERR_PERMISSION, e,
				   "%s: only the file's owner, or a process with CAP_LEASE, may take a layout lease",
				   what);
	case EOPNOTSUPP:
		return p2pmap_fail(err, P2PMAP_ERR_UNSUPPORTED, e,
				   "%s: the file's blocks cannot be handed out: %s (%s)",
				   what, p2pmap_reason_description(reason),
				   p2pmap_reason_name(reason));
	case ENXIO:
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, e,
				   "%s: the offset is at or past the end of the file",
				   what);
	case ERANGE:
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, e,
				   "%s: the range is outside layout %u", what, id);
	case ENOENT:
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, e,
				   "%s: no layout %u on this handle (returned, or never granted)",
				   what, id);
	case ESTALE:
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e,
				   "%s: layout %u was revoked (fenced): return it and get a new one",
				   what, id);
	case EAGAIN:
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e,
				   "%s: a conflicting layout, or one being recalled, is held; try again when it is returned",
				   what);
	case EINVAL:
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, e,
				   "%s: refused as invalid (alignment to the block size, overflow, blocks committed that were not written, or a module of another ABI)",
				   what);
	}
	return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e, "%s failed: %s", what,
			   strerror(e));
}

P2PMAP_EXPORT int p2pmap_layout_get(struct p2pmap *handle, int fd,
				    uint32_t iomode, uint64_t offset,
				    uint64_t length, uint32_t break_ms,
				    struct p2pmap_layout **layout,
				    struct p2pmap_error *err)
{
	struct p2pmap_layout_get g;
	struct p2pmap_layout *l;
	int e;

	if (!handle || !layout || fd < 0 || !length ||
	    (iomode != P2PMAP_LAYOUT_READ && iomode != P2PMAP_LAYOUT_RW))
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "layout get: a handle, an open file, a length and an iomode (read or read-write) are needed");
	l = calloc(1, sizeof(*l));
	if (l)
		l->extents = calloc(P2PMAP_LAYOUT_EXTENTS_MAX, sizeof(*l->extents));
	if (!l || !l->extents) {
		free(l);
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, ENOMEM,
				   "layout get: out of memory");
	}
	memset(&g, 0, sizeof(g));
	g.size = sizeof(g);
	g.fd = fd;
	g.iomode = iomode;
	g.offset = offset;
	g.length = length;
	g.break_ms = break_ms;
	g.extents = (uintptr_t)l->extents;
	g.nr_extents = P2PMAP_LAYOUT_EXTENTS_MAX;
	if (ioctl(handle->fd, P2PMAP_IOC_LAYOUT_GET, &g)) {
		e = errno;
		free(l->extents);
		free(l);
		return p2pmap_layout_failed(handle, "layout get", 0, e, g.reason,
					    err);
	}
	l->id = g.id;
	l->iomode = iomode;
	l->offset = g.offset;
	l->length = g.length;
	l->blksize = g.blksize;
	l->nr_extents = g.nr_extents;
	*layout = l;
	p2pmap_clear_error(err);
	return 0;
}

P2PMAP_EXPORT int p2pmap_layout_io(struct p2pmap *handle,
				   const struct p2pmap_layout *layout,
				   int write, uint64_t offset, void *buf,
				   uint64_t length, struct p2pmap_error *err)
{
	struct p2pmap_layout_io io;

	if (!handle || !layout || !buf || !length)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "layout io: a handle, a layout, a buffer and a length are needed");
	memset(&io, 0, sizeof(io));
	io.size = sizeof(io);
	io.flags = write ? P2PMAP_LAYOUT_IO_WRITE : 0;
	io.id = layout->id;
	io.offset = offset;
	io.length = length;
	io.buf = (uintptr_t)buf;
	if (ioctl(handle->fd, P2PMAP_IOC_LAYOUT_IO, &io))
		return p2pmap_layout_failed(handle, "layout io", layout->id,
					    errno, 0, err);
	p2pmap_clear_error(err);
	return 0;
}

P2PMAP_EXPORT int p2pmap_layout_commit(struct p2pmap *handle,
				       const struct p2pmap_layout *layout,
				       const struct p2pmap_layout_range *ranges,
				       unsigned int nr_ranges, int64_t new_size,
				       struct p2pmap_error *err)
{
	struct p2pmap_layout_commit c;

	if (!handle || !layout || !ranges || !nr_ranges)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "layout commit: a handle, a layout and written ranges are needed");
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.id = layout->id;
	c.nr_ranges = nr_ranges;
	c.ranges = (uintptr_t)ranges;
	if (new_size >= 0) {
		c.flags = P2PMAP_LAYOUT_COMMIT_SIZE;
		c.new_size = (uint64_t)new_size;
	}
	if (ioctl(handle->fd, P2PMAP_IOC_LAYOUT_COMMIT, &c))
		return p2pmap_layout_failed(handle, "layout commit", layout->id,
					    errno, 0, err);
	p2pmap_clear_error(err);
	return 0;
}

P2PMAP_EXPORT int p2pmap_layout_return(struct p2pmap *handle,
				       struct p2pmap_layout *layout,
				       struct p2pmap_error *err)
{
	struct p2pmap_layout_return r;
	int ret = 0;

	if (!layout)
		return 0;
	if (handle) {
		memset(&r, 0, sizeof(r));
		r.size = sizeof(r);
		r.id = layout->id;
		if (ioctl(handle->fd, P2PMAP_IOC_LAYOUT_RETURN, &r))
			ret = p2pmap_layout_failed(handle, "layout return",
						   layout->id, errno, 0, err);
	}
	free(layout->extents);
	free(layout);
	if (!ret)
		p2pmap_clear_error(err);
	return ret;
}

P2PMAP_EXPORT int p2pmap_layout_event_fd(const struct p2pmap *handle)
{
	return handle ? handle->fd : -1;
}

P2PMAP_EXPORT int p2pmap_layout_next_event(struct p2pmap *handle,
					   int timeout_ms,
					   struct p2pmap_layout_event *event,
					   struct p2pmap_error *err)
{
	struct pollfd pfd;
	ssize_t n;
	int ret;

	if (!handle || !event)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "layout event: a handle and an event are needed");
	pfd.fd = handle->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, errno,
				   "layout event: poll failed: %s",
				   strerror(errno));
	if (!ret) {
		p2pmap_clear_error(err);
		return -ETIMEDOUT;
	}
	n = read(handle->fd, event, sizeof(*event));
	if (n != (ssize_t)sizeof(*event)) {
		if (n < 0 && errno == EAGAIN) {
			p2pmap_clear_error(err);
			return -ETIMEDOUT;
		}
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, n < 0 ? errno : EIO,
				   "layout event: reading %s failed: %s",
				   handle->path, n < 0 ? strerror(errno) : "short read");
	}
	p2pmap_clear_error(err);
	return 0;
}

static const char * const p2pmap_layout_cause_names[] = {
	[P2PMAP_LAYOUT_CAUSE_BREAK]	= "break",
	[P2PMAP_LAYOUT_CAUSE_UNMAP]	= "unmap",
	[P2PMAP_LAYOUT_CAUSE_CONFLICT]	= "conflict",
	[P2PMAP_LAYOUT_CAUSE_TIMEOUT]	= "timeout",
	[P2PMAP_LAYOUT_CAUSE_MOVED]	= "moved",
	[P2PMAP_LAYOUT_CAUSE_EXIT]	= "exit",
};

static const char * const p2pmap_extent_state_names[] = {
	[P2PMAP_EXTENT_WRITTEN]		= "written",
	[P2PMAP_EXTENT_UNWRITTEN]	= "unwritten",
	[P2PMAP_EXTENT_HOLE]		= "hole",
};

P2PMAP_EXPORT const char *p2pmap_layout_cause_name(int cause)
{
	if (cause < 0 ||
	    cause >= (int)(sizeof(p2pmap_layout_cause_names) / sizeof(char *)) ||
	    !p2pmap_layout_cause_names[cause])
		return "unknown";
	return p2pmap_layout_cause_names[cause];
}

P2PMAP_EXPORT const char *p2pmap_extent_state_name(int state)
{
	if (state < 0 ||
	    state >= (int)(sizeof(p2pmap_extent_state_names) / sizeof(char *)) ||
	    !p2pmap_extent_state_names[state])
		return "unknown";
	return p2pmap_extent_state_names[state];
}
