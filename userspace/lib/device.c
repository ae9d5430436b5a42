// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: the handle on /dev/p2pmap and the version ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"

/* Present while the p2pmap module is loaded, whatever /dev looks like. */
#define P2PMAP_SYSFS_MODULE	"/sys/module/p2pmap"

static int p2pmap_open_failed(const char *path, int e, struct p2pmap_error *err)
{
	struct stat st;

	switch (e) {
	case ENOENT:
		if (stat(P2PMAP_SYSFS_MODULE, &st) == 0)
			return p2pmap_fail(err, P2PMAP_ERR_NO_DEVICE_NODE, e,
					   "module p2pmap is loaded but %s is missing (no devtmpfs or udev here?)",
					   path);
		return p2pmap_fail(err, P2PMAP_ERR_NOT_LOADED, e,
				   "module p2pmap not loaded (%s missing)", path);
	case ENODEV:
	case ENXIO:
		return p2pmap_fail(err, P2PMAP_ERR_NOT_LOADED, e,
				   "module p2pmap not loaded (%s exists but no driver is behind it)",
				   path);
	case EACCES:
	case EPERM:
		return p2pmap_fail(err, P2PMAP_ERR_PERMISSION, e,
				   "permission denied opening %s (check its mode and your groups)",
				   path);
	default:
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e,
				   "cannot open %s: %s", path, strerror(e));
	}
}

/* The version ioctl; @path only names the node in messages. */
static int p2pmap_ioc_version(int fd, const char *path,
			      struct p2pmap_version *out,
			      struct p2pmap_error *err)
{
	struct p2pmap_version v;
	int e;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if (ioctl(fd, P2PMAP_IOC_VERSION, &v) == 0) {
		*out = v;
		return 0;
	}

	e = errno;
	switch (e) {
	case ENOTTY:
		return p2pmap_fail(err, P2PMAP_ERR_NOT_P2PMAP, e,
				   "%s is not a p2pmap device (it does not know the version ioctl)",
				   path);
	case EINVAL:
		return p2pmap_fail(err, P2PMAP_ERR_ABI, e,
				   "the p2pmap module behind %s refused libp2pmap's version request: the module and libp2pmap %s (ABI %u) do not match",
				   path, P2PMAP_VERSION_STR, P2PMAP_ABI_VERSION);
	default:
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e,
				   "version ioctl on %s failed: %s", path,
				   strerror(e));
	}
}

P2PMAP_EXPORT int p2pmap_open_path(const char *path, struct p2pmap **handle,
				   struct p2pmap_error *err)
{
	_cleanup_fd_ int fd = -1;
	_cleanup_free_ char *path_copy = NULL;
	struct p2pmap_version v;
	struct p2pmap *h;
	int ret;

	if (!path || !handle)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_open_path: %s is NULL",
				   !path ? "path" : "handle");

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return p2pmap_open_failed(path, errno, err);

	ret = p2pmap_ioc_version(fd, path, &v, err);
	if (ret)
		return ret;

	path_copy = strdup(path);
	h = calloc(1, sizeof(*h));
	if (!path_copy || !h) {
		free(h);
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, ENOMEM,
				   "out of memory opening %s", path);
	}
	h->fd = fd;
	h->path = path_copy;
	fd = -1;		/* owned by the handle now */
	path_copy = NULL;

	*handle = h;
	p2pmap_clear_error(err);
	return 0;
}

P2PMAP_EXPORT int p2pmap_open(struct p2pmap **handle, struct p2pmap_error *err)
{
	return p2pmap_open_path(P2PMAP_DEVICE_PATH, handle, err);
}

P2PMAP_EXPORT void p2pmap_close(struct p2pmap *handle)
{
	if (!handle)
		return;
	close(handle->fd);
	free(handle->path);
	free(handle);
}

P2PMAP_EXPORT int p2pmap_get_version(struct p2pmap *handle,
				     struct p2pmap_version *version,
				     struct p2pmap_error *err)
{
	int ret;

	if (!handle || !version)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_get_version: %s is NULL",
				   !handle ? "handle" : "version");

	ret = p2pmap_ioc_version(handle->fd, handle->path, version, err);
	if (ret)
		return ret;
	p2pmap_clear_error(err);
	return 0;
}

P2PMAP_EXPORT const char *p2pmap_library_version(void)
{
	return P2PMAP_VERSION_STR;
}

P2PMAP_EXPORT unsigned int p2pmap_library_abi(void)
{
	return P2PMAP_ABI_VERSION;
}
