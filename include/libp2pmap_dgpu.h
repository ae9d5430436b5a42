/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap_dgpu - user space of p2pmap's dummy GPU, on libdrm.
 *
 * Opens the render node of a p2pmap_dgpu instance, creates VRAM objects,
 * imports user memory (a file range mapped MAP_SHARED, or anything else
 * mapped) as userptr objects, submits jobs and reads their results. The
 * structures are those of <drm/p2pmap_dgpu_drm.h>.
 *
 * Conventions: a function that can fail returns 0 or a negative errno and
 * changes nothing the caller passed in when it fails (one exception:
 * p2pmap_dgpu_userptr_fault() reports what it did before a fault failed).
 * Symbols are versioned (nodes P2PMAP_DGPU_0.1, P2PMAP_DGPU_0.2).
 */
#ifndef _LIBP2PMAP_DGPU_H
#define _LIBP2PMAP_DGPU_H

#include <stddef.h>
#include <stdint.h>

#include <drm/p2pmap_dgpu_drm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pass as @kind to p2pmap_dgpu_open() to take the first instance found. */
#define P2PMAP_DGPU_KIND_ANY	0

/* A timeout for p2pmap_dgpu_wait() that does not expire. */
#define P2PMAP_DGPU_WAIT_FOREVER	UINT64_MAX

/* An open render node of a p2pmap_dgpu instance; opaque. */
struct p2pmap_dgpu;

/**
 * p2pmap_dgpu_open() - open the first p2pmap_dgpu render node of a kind
 * @kind: enum p2pmap_dgpu_kind, or P2PMAP_DGPU_KIND_ANY.
 * @dev: where to store the handle.
 *
 * Looks at /dev/dri/renderD128 to renderD191 in order, for a node whose
 * DRM driver is P2PMAP_DGPU_DRIVER_NAME and whose instance is of @kind.
 *
 * Return: 0; -ENODEV when no such instance exists (the module is not
 * loaded, or has no instance of @kind); -EACCES; -ENOMEM.
 */
int p2pmap_dgpu_open(unsigned int kind, struct p2pmap_dgpu **dev);

/**
 * p2pmap_dgpu_open_path() - open a given render node
 * @path: e.g. "/dev/dri/renderD128".
 * @dev: where to store the handle.
 *
 * Return: 0; -ENODEV when @path is not a p2pmap_dgpu node; -ENOENT,
 * -EACCES or another errno of open(2); -ENOMEM.
 */
int p2pmap_dgpu_open_path(const char *path, struct p2pmap_dgpu **dev);

/**
 * p2pmap_dgpu_close() - close a handle (its objects and jobs go with it)
 * @dev: a handle, or NULL.
 */
void p2pmap_dgpu_close(struct p2pmap_dgpu *dev);

/**
 * p2pmap_dgpu_fd() - the DRM file descriptor behind a handle
 * @dev: a handle.
 *
 * Return: the descriptor, owned by the handle.
 */
int p2pmap_dgpu_fd(const struct p2pmap_dgpu *dev);

/**
 * p2pmap_dgpu_path() - the render node a handle opened
 * @dev: a handle.
 *
 * Return: its path, owned by the handle.
 */
const char *p2pmap_dgpu_path(const struct p2pmap_dgpu *dev);

/**
 * p2pmap_dgpu_get_info() - what the instance is, read afresh
 * @dev: a handle.
 * @info: filled with DRM_IOCTL_P2PMAP_DGPU_INFO's answer.
 *
 * Return: 0 or a negative errno.
 */
int p2pmap_dgpu_get_info(struct p2pmap_dgpu *dev,
			 struct drm_p2pmap_dgpu_info *info);

/**
 * p2pmap_dgpu_vram_create() - create a VRAM object
 * @dev: a handle.
 * @size: bytes (rounded up to pages by the kernel).
 * @handle: where to store its GEM handle.
 *
 * Return: 0, -EINVAL, -ENOSPC (VRAM budget) or another negative errno.
 */
int p2pmap_dgpu_vram_create(struct p2pmap_dgpu *dev, uint64_t size,
			    uint32_t *handle);

/**
 * p2pmap_dgpu_vram_map() - map a VRAM object into the caller (MAP_SHARED)
 * @dev: a handle.
 * @handle: a VRAM object.
 * @size: bytes to map from its start.
 * @addr: where to store the address; unmap it with munmap(2).
 *
 * Return: 0 or a negative errno.
 */
int p2pmap_dgpu_vram_map(struct p2pmap_dgpu *dev, uint32_t handle,
			 uint64_t size, void **addr);

/**
 * p2pmap_dgpu_userptr() - import a range of the caller's address space
 * @dev: a handle.
 * @addr: page-aligned start.
 * @length: page-aligned length.
 * @handle: where to store the userptr object's GEM handle.
 *
 * Return: 0 or a negative errno (-EINVAL for a misaligned range).
 */
int p2pmap_dgpu_userptr(struct p2pmap_dgpu *dev, const void *addr,
			uint64_t length, uint32_t *handle);

/**
 * p2pmap_dgpu_handle_close() - drop a GEM handle (DRM_IOCTL_GEM_CLOSE)
 * @dev: a handle.
 * @handle: a GEM handle of @dev's file.
 *
 * Jobs that use the object keep it until they end.
 *
 * Return: 0 or a negative errno.
 */
int p2pmap_dgpu_handle_close(struct p2pmap_dgpu *dev, uint32_t handle);

/**
 * p2pmap_dgpu_copy() - submit a copy job
 * @dev: a handle.
 * @engine: enum p2pmap_dgpu_engine.
 * @dst: the object written.
 * @dst_offset: byte offset in @dst.
 * @src: the object read.
 * @src_offset: byte offset in @src.
 * @length: bytes.
 * @job: where to store the job id.
 *
 * Return: 0 with the job queued, or a negative errno.
 */
int p2pmap_dgpu_copy(struct p2pmap_dgpu *dev, unsigned int engine,
		     uint32_t dst, uint64_t dst_offset, uint32_t src,
		     uint64_t src_offset, uint64_t length, uint64_t *job);

/**
 * p2pmap_dgpu_checksum() - submit a checksum job
 * @dev: a handle.
 * @engine: enum p2pmap_dgpu_engine.
 * @src: the object read.
 * @src_offset: byte offset in @src.
 * @length: bytes.
 * @job: where to store the job id.
 *
 * The job's result carries the CRC-32 that p2pmap_dgpu_crc32() computes.
 *
 * Return: 0 with the job queued, or a negative errno.
 */
int p2pmap_dgpu_checksum(struct p2pmap_dgpu *dev, unsigned int engine,
			 uint32_t src, uint64_t src_offset, uint64_t length,
			 uint64_t *job);

/**
 * p2pmap_dgpu_wait() - wait for a job and take its result
 * @dev: a handle.
 * @job: a job id from a submit.
 * @timeout_ns: how long to wait; 0 polls; P2PMAP_DGPU_WAIT_FOREVER.
 * @result: filled when the job has finished.
 *
 * A job's own failure is not an error of this call: it is in
 * @result->error.
 *
 * Return: 0 when the job has finished (its id is then released); -ETIME
 * when the timeout passed first; -ENOENT for an unknown job.
 */
int p2pmap_dgpu_wait(struct p2pmap_dgpu *dev, uint64_t job,
		     uint64_t timeout_ns, struct drm_p2pmap_dgpu_result *result);

/**
 * p2pmap_dgpu_userptr_fault() - map a range of a userptr object, no job
 * @dev: a handle.
 * @handle: a userptr object.
 * @offset: page-aligned first byte of the range in the object.
 * @length: page-aligned bytes, not 0.
 * @flags: P2PMAP_DGPU_FAULT_WRITE or 0.
 * @out: filled with DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT's answer: the
 *	pages now held P2P, from the page cache (by reason) or not at all,
 *	the faults made, the object's invalidations. May be NULL.
 *
 * The coherency point and the faults a job would make before it touches
 * the range (see <drm/p2pmap_dgpu_drm.h>), to inspect or time mapping.
 *
 * Return: 0; -EINVAL or -ENOENT for a refused argument (@out untouched);
 * otherwise the error that stopped the fault (-EFAULT, -EPERM, -ESRCH,
 * -EBUSY, -ENODEV), with @out saying what was done before it.
 * (since P2PMAP_DGPU_0.2)
 */
int p2pmap_dgpu_userptr_fault(struct p2pmap_dgpu *dev, uint32_t handle,
			      uint64_t offset, uint64_t length, uint32_t flags,
			      struct drm_p2pmap_dgpu_userptr_fault *out);

/**
 * p2pmap_dgpu_userptr_snapshot() - read a userptr object's device page table
 * @dev: a handle.
 * @handle: a userptr object.
 * @offset: page-aligned first byte in the object.
 * @npages: entries wanted, one per page; 0 for @invalidations alone.
 * @entries: room for @npages entries (NULL when @npages is 0).
 * @invalidations: where to store the invalidations the object has seen
 *	since it was created; may be NULL.
 *
 * Faults nothing: what the device page table holds now, per page.
 *
 * Return: 0 or a negative errno (-EINVAL, -ENOENT, -EFAULT, -ENOMEM).
 * (since P2PMAP_DGPU_0.2)
 */
int p2pmap_dgpu_userptr_snapshot(struct p2pmap_dgpu *dev, uint32_t handle,
				 uint64_t offset, uint64_t npages,
				 struct drm_p2pmap_dgpu_pte *entries,
				 uint64_t *invalidations);

/**
 * struct p2pmap_dgpu_file_map - a file range mapped and imported
 * @map: the mapping (MAP_SHARED, readable; writable if asked).
 * @map_length: its length, whole pages.
 * @data_offset: where the requested range starts in the mapping (the file
 *	offset rounded down to a page is mapped).
 * @handle: the userptr object over the mapping.
 */
struct p2pmap_dgpu_file_map {
	void *map;
	uint64_t map_length;
	uint64_t data_offset;
	uint32_t handle;
};

/**
 * p2pmap_dgpu_import_file() - map a file range and import it
 * @dev: a handle.
 * @fd: the file, open for reading (and writing if @writable).
 * @offset: first byte of the range.
 * @length: bytes; not 0.
 * @writable: map it PROT_WRITE too, for jobs that write into it.
 * @fm: filled on success; release with p2pmap_dgpu_release_file().
 *
 * Return: 0 or a negative errno.
 */
int p2pmap_dgpu_import_file(struct p2pmap_dgpu *dev, int fd, uint64_t offset,
			    uint64_t length, int writable,
			    struct p2pmap_dgpu_file_map *fm);

/**
 * p2pmap_dgpu_release_file() - drop the object and unmap the range
 * @dev: the handle it was imported with.
 * @fm: from p2pmap_dgpu_import_file().
 */
void p2pmap_dgpu_release_file(struct p2pmap_dgpu *dev,
			      struct p2pmap_dgpu_file_map *fm);

/**
 * p2pmap_dgpu_crc32() - CRC-32 of a buffer on the CPU, as the device does
 * @crc: 0 to start, or the CRC of the bytes before @buf (to continue).
 * @buf: the bytes.
 * @len: how many.
 *
 * The zlib / IEEE 802.3 CRC-32: crc32(0, "123456789", 9) == 0xcbf43926.
 *
 * Return: the CRC of everything so far.
 */
uint32_t p2pmap_dgpu_crc32(uint32_t crc, const void *buf, size_t len);

/**
 * p2pmap_dgpu_engine_name() - the name of an engine ("cpu", "edu")
 * @engine: enum p2pmap_dgpu_engine.
 *
 * Return: the name, or "unknown".
 */
const char *p2pmap_dgpu_engine_name(unsigned int engine);

/**
 * p2pmap_dgpu_engine_parse() - an engine by name
 * @name: "cpu" or "edu".
 *
 * Return: the enum p2pmap_dgpu_engine value, or -EINVAL.
 */
int p2pmap_dgpu_engine_parse(const char *name);

/**
 * p2pmap_dgpu_kind_name() - the name of an instance kind ("pci", "virtual")
 * @kind: enum p2pmap_dgpu_kind.
 *
 * Return: the name, or "unknown".
 */
const char *p2pmap_dgpu_kind_name(unsigned int kind);

#ifdef __cplusplus
}
#endif

#endif /* _LIBP2PMAP_DGPU_H */
