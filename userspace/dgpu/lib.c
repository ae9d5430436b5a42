// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap_dgpu: the dummy GPU's render node through libdrm.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include <libp2pmap_dgpu.h>

#define EXPORT __attribute__((visibility("default")))

#define DGPU_RENDER_FIRST	128
#define DGPU_RENDER_LAST	191

struct p2pmap_dgpu {
	int fd;
	char path[PATH_MAX];
};

/* drmIoctl() with the errno as a negative return value. */
static int dgpu_ioctl(const struct p2pmap_dgpu *dev, unsigned long req,
		      void *arg)
{
	return drmIoctl(dev->fd, req, arg) ? -errno : 0;
}

static int dgpu_is_ours(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	int ours;

	if (!v)
		return 0;
	ours = v->name && !strcmp(v->name, P2PMAP_DGPU_DRIVER_NAME);
	drmFreeVersion(v);
	return ours;
}

EXPORT int p2pmap_dgpu_open_path(const char *path, struct p2pmap_dgpu **dev)
{
	struct p2pmap_dgpu *d;
	int fd;

	if (!path || !dev || strlen(path) >= sizeof(d->path))
		return -EINVAL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!dgpu_is_ours(fd)) {
		close(fd);
		return -ENODEV;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	d->fd = fd;
	strcpy(d->path, path);
	*dev = d;
	return 0;
}

EXPORT int p2pmap_dgpu_open(unsigned int kind, struct p2pmap_dgpu **dev)
{
	int minor, ret, denied = 0;

	if (!dev)
		return -EINVAL;
	for (minor = DGPU_RENDER_FIRST; minor <= DGPU_RENDER_LAST; minor++) {
		struct drm_p2pmap_dgpu_info info;
		struct p2pmap_dgpu *d;
		char path[64];

		snprintf(path, sizeof(path), "%s/renderD%d", DRM_DIR_NAME, minor);
		ret = p2pmap_dgpu_open_path(path, &d);
		if (ret == -EACCES || ret == -EPERM)
			denied = 1;
		if (ret)
			continue;
		if (p2pmap_dgpu_get_info(d, &info) == 0 &&
		    (kind == P2PMAP_DGPU_KIND_ANY || info.kind == kind)) {
			*dev = d;
			return 0;
		}
		p2pmap_dgpu_close(d);
	}
	return denied ? -EACCES : -ENODEV;
}

EXPORT void p2pmap_dgpu_close(struct p2pmap_dgpu *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	free(dev);
}

EXPORT int p2pmap_dgpu_fd(const struct p2pmap_dgpu *dev)
{
	return dev->fd;
}

EXPORT const char *p2pmap_dgpu_path(const struct p2pmap_dgpu *dev)
{
	return dev->path;
}

EXPORT int p2pmap_dgpu_get_info(struct p2pmap_dgpu *dev,
				struct drm_p2pmap_dgpu_info *info)
{
	struct drm_p2pmap_dgpu_info args;
	int ret;

	memset(&args, 0, sizeof(args));
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_INFO, &args);
	if (!ret)
		*info = args;
	return ret;
}

EXPORT int p2pmap_dgpu_vram_create(struct p2pmap_dgpu *dev, uint64_t size,
				   uint32_t *handle)
{
	struct drm_p2pmap_dgpu_gem_create args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.size = size;
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_GEM_CREATE, &args);
	if (!ret)
		*handle = args.handle;
	return ret;
}

EXPORT int p2pmap_dgpu_vram_map(struct p2pmap_dgpu *dev, uint32_t handle,
				uint64_t size, void **addr)
{
	struct drm_p2pmap_dgpu_gem_mmap_offset args;
	void *map;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = handle;
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_GEM_MMAP_OFFSET, &args);
	if (ret)
		return ret;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		   (off_t)args.offset);
	if (map == MAP_FAILED)
		return -errno;
	*addr = map;
	return 0;
}

EXPORT int p2pmap_dgpu_userptr(struct p2pmap_dgpu *dev, const void *addr,
			       uint64_t length, uint32_t *handle)
{
	struct drm_p2pmap_dgpu_userptr args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.addr = (uintptr_t)addr;
	args.length = length;
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_USERPTR, &args);
	if (!ret)
		*handle = args.handle;
	return ret;
}

EXPORT int p2pmap_dgpu_handle_close(struct p2pmap_dgpu *dev, uint32_t handle)
{
	struct drm_gem_close args;

	memset(&args, 0, sizeof(args));
	args.handle = handle;
	return dgpu_ioctl(dev, DRM_IOCTL_GEM_CLOSE, &args);
}

static int dgpu_submit(struct p2pmap_dgpu *dev, struct drm_p2pmap_dgpu_submit *args,
		       uint64_t *job)
{
	int ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_SUBMIT, args);

	if (!ret)
		*job = args->job;
	return ret;
}

EXPORT int p2pmap_dgpu_copy(struct p2pmap_dgpu *dev, unsigned int engine,
			    uint32_t dst, uint64_t dst_offset, uint32_t src,
			    uint64_t src_offset, uint64_t length, uint64_t *job)
{
	struct drm_p2pmap_dgpu_submit args;

	memset(&args, 0, sizeof(args));
	args.op = P2PMAP_DGPU_OP_COPY;
	args.engine = engine;
	args.src_handle = src;
	args.src_offset = src_offset;
	args.dst_handle = dst;
	args.dst_offset = dst_offset;
	args.length = length;
	return dgpu_submit(dev, &args, job);
}

EXPORT int p2pmap_dgpu_checksum(struct p2pmap_dgpu *dev, unsigned int engine,
				uint32_t src, uint64_t src_offset,
				uint64_t length, uint64_t *job)
{
	struct drm_p2pmap_dgpu_submit args;

	memset(&args, 0, sizeof(args));
	args.op = P2PMAP_DGPU_OP_CHECKSUM;
	args.engine = engine;
	args.src_handle = src;
	args.src_offset = src_offset;
	args.length = length;
	return dgpu_submit(dev, &args, job);
}

EXPORT int p2pmap_dgpu_wait(struct p2pmap_dgpu *dev, uint64_t job,
			    uint64_t timeout_ns,
			    struct drm_p2pmap_dgpu_result *result)
{
	struct drm_p2pmap_dgpu_wait args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.job = job;
	args.timeout_ns = timeout_ns;
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_WAIT, &args);
	if (!ret)
		*result = args.result;
	return ret;
}

EXPORT int p2pmap_dgpu_userptr_fault(struct p2pmap_dgpu *dev, uint32_t handle,
				     uint64_t offset, uint64_t length,
				     uint32_t flags,
				     struct drm_p2pmap_dgpu_userptr_fault *out)
{
	struct drm_p2pmap_dgpu_userptr_fault args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = handle;
	args.flags = flags;
	args.offset = offset;
	args.length = length;
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT, &args);
	/* the kernel reports what it did before a fault failed */
	if (out && ret != -EINVAL && ret != -ENOENT && ret != -ENOTTY)
		*out = args;
	return ret;
}

EXPORT int p2pmap_dgpu_userptr_snapshot(struct p2pmap_dgpu *dev,
					uint32_t handle, uint64_t offset,
					uint64_t npages,
					struct drm_p2pmap_dgpu_pte *entries,
					uint64_t *invalidations)
{
	struct drm_p2pmap_dgpu_userptr_snapshot args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = handle;
	args.offset = offset;
	args.npages = npages;
	args.entries = (uintptr_t)entries;
	ret = dgpu_ioctl(dev, DRM_IOCTL_P2PMAP_DGPU_USERPTR_SNAPSHOT, &args);
	if (!ret && invalidations)
		*invalidations = args.invalidations;
	return ret;
}

EXPORT int p2pmap_dgpu_import_file(struct p2pmap_dgpu *dev, int fd,
				   uint64_t offset, uint64_t length,
				   int writable, struct p2pmap_dgpu_file_map *fm)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = offset & ~(uint64_t)(page - 1);
	uint64_t map_length;
	uint32_t handle;
	void *map;
	int ret;

	if (!length || offset + length < offset)
		return -EINVAL;
	map_length = (offset + length - start + page - 1) & ~(uint64_t)(page - 1);
	map = mmap(NULL, map_length, PROT_READ | (writable ? PROT_WRITE : 0),
		   MAP_SHARED, fd, (off_t)start);
	if (map == MAP_FAILED)
		return -errno;
	ret = p2pmap_dgpu_userptr(dev, map, map_length, &handle);
	if (ret) {
		munmap(map, map_length);
		return ret;
	}
	fm->map = map;
	fm->map_length = map_length;
	fm->data_offset = offset - start;
	fm->handle = handle;
	return 0;
}

EXPORT void p2pmap_dgpu_release_file(struct p2pmap_dgpu *dev,
				     struct p2pmap_dgpu_file_map *fm)
{
	if (!fm->map)
		return;
	p2pmap_dgpu_handle_close(dev, fm->handle);
	munmap(fm->map, fm->map_length);
	fm->map = NULL;
}

static uint32_t dgpu_crc_table[256];

static void dgpu_crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
		dgpu_crc_table[i] = c;
	}
}

EXPORT uint32_t p2pmap_dgpu_crc32(uint32_t crc, const void *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const unsigned char *p = buf;

	pthread_once(&once, dgpu_crc_init);
	crc = ~crc;
	while (len--)
		crc = dgpu_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

EXPORT const char *p2pmap_dgpu_engine_name(unsigned int engine)
{
	switch (engine) {
	case P2PMAP_DGPU_ENGINE_CPU:
		return "cpu";
	case P2PMAP_DGPU_ENGINE_EDU:
		return "edu";
	default:
		return "unknown";
	}
}

EXPORT int p2pmap_dgpu_engine_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	if (!strcmp(name, "cpu"))
		return P2PMAP_DGPU_ENGINE_CPU;
	if (!strcmp(name, "edu"))
		return P2PMAP_DGPU_ENGINE_EDU;
	return -EINVAL;
}

EXPORT const char *p2pmap_dgpu_kind_name(unsigned int kind)
{
	switch (kind) {
	case P2PMAP_DGPU_KIND_PCI:
		return "pci";
	case P2PMAP_DGPU_KIND_VIRTUAL:
		return "virtual";
	default:
		return "unknown";
	}
}
