// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: which path each range of a file would take (P2PMAP_IOC_CHECK).
 * The kernel answers at most a fixed number of ranges per call; this asks
 * again from where it stopped until the range, or the file, ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "internal.h"

/* Ranges asked per ioctl; the kernel accepts up to 4096. */
#define P2PMAP_CHECK_BATCH	256

#define P2PMAP_PAGE_SIZE	4096ULL

static int p2pmap_check_failed(struct p2pmap *h, const struct p2pmap_check_args *a,
			       int e, struct p2pmap_error *err)
{
	char dev[P2PMAP_PCI_ADDR_SIZE];

	switch (e) {
	case ENOTTY:
		return p2pmap_fail(err, P2PMAP_ERR_UNSUPPORTED, e,
				   "the p2pmap module behind %s cannot check files (no P2PMAP_IOC_CHECK); load the module that comes with libp2pmap %s",
				   h->path, P2PMAP_VERSION_STR);
	case EBADF:
		return p2pmap_fail(err, P2PMAP_ERR_BAD_FILE, e,
				   "file descriptor %d is not open for reading",
				   a->fd);
	case ENODEV:
		if (a->flags & P2PMAP_CHECK_DEVICE) {
			p2pmap_pci_format(a->device, dev, sizeof(dev));
			return p2pmap_fail(err, P2PMAP_ERR_NO_PCI_DEVICE, e,
					   "no PCI function %s on this system (see lspci -D)",
					   dev);
		}
		break;
	case EINVAL:
		return p2pmap_fail(err, P2PMAP_ERR_ABI, e,
				   "the p2pmap module behind %s refused libp2pmap's check request: the module and libp2pmap %s (ABI %u) do not match",
				   h->path, P2PMAP_VERSION_STR, P2PMAP_ABI_VERSION);
	}
	return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, e,
			   "checking the file failed: %s", strerror(e));
}

/* Append @e to @r, merged into the last range when it continues it. */
static int p2pmap_check_append(struct p2pmap_check_result *r, size_t *cap,
			       const struct p2pmap_check_extent *e)
{
	struct p2pmap_check_extent *prev, *grown;

	prev = r->nr_extents ? &r->extents[r->nr_extents - 1] : NULL;
	if (prev && prev->path == e->path && prev->reason == e->reason &&
	    prev->offset + prev->length == e->offset &&
	    (!e->sector || prev->sector + (prev->length >> 9) == e->sector)) {
		prev->length += e->length;
		return 0;
	}
	if (r->nr_extents == *cap) {
		grown = reallocarray(r->extents, *cap ? *cap * 2 : 16,
				     sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->extents = grown;
		*cap = *cap ? *cap * 2 : 16;
	}
	r->extents[r->nr_extents++] = *e;
	return 0;
}

/* Copy a NUL-terminated (or full) kernel string into @dst once. */
static void p2pmap_check_keep(char *dst, size_t dst_len, const __u8 *src,
			      size_t src_len)
{
	size_t n = strnlen((const char *)src, src_len);

	if (dst[0] || !n)
		return;
	if (n >= dst_len)
		n = dst_len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

P2PMAP_EXPORT int p2pmap_check_file(struct p2pmap *handle,
				    const struct p2pmap_check_args *args,
				    struct p2pmap_check_result **result,
				    struct p2pmap_error *err)
{
	struct p2pmap_check_extent batch[P2PMAP_CHECK_BATCH];
	struct p2pmap_check_result *r;
	struct p2pmap_check c;
	uint64_t end, pos;
	size_t cap = 0;
	struct stat st;
	int flags, ret;
	uint32_t i;

	if (!handle || !args || !result)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_check_file: %s is NULL",
				   !handle ? "handle" : !args ? "args" : "result");
	if (args->args_size != sizeof(*args))
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_check_file: args_size %u is not the size of struct p2pmap_check_args (%zu) this libp2pmap knows",
				   args->args_size, sizeof(*args));
	if (args->flags & ~P2PMAP_CHECK_DEVICE)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_check_file: unknown flags 0x%x",
				   args->flags & ~P2PMAP_CHECK_DEVICE);

	/* Say precisely what is wrong with the file before the kernel does. */
	if (fstat(args->fd, &st))
		return p2pmap_fail(err, P2PMAP_ERR_BAD_FILE, errno,
				   "file descriptor %d: %s", args->fd,
				   strerror(errno));
	if (!S_ISREG(st.st_mode))
		return p2pmap_fail(err, P2PMAP_ERR_BAD_FILE, EINVAL,
				   "only regular files can be checked, and this is %s",
				   S_ISDIR(st.st_mode) ? "a directory" :
				   S_ISBLK(st.st_mode) ? "a block device" :
				   S_ISCHR(st.st_mode) ? "a character device" :
				   S_ISFIFO(st.st_mode) ? "a pipe" :
				   S_ISSOCK(st.st_mode) ? "a socket" :
				   "not a regular file");
	flags = fcntl(args->fd, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH))
		return p2pmap_check_failed(handle, args, EBADF, err);

	if (args->length) {
		end = args->offset + args->length;
		if (end < args->offset || end > UINT64_MAX - P2PMAP_PAGE_SIZE)
			return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
					   "the range %llu+%llu goes beyond the largest file offset",
					   (unsigned long long)args->offset,
					   (unsigned long long)args->length);
	} else {
		end = (uint64_t)st.st_size > args->offset ?
			(uint64_t)st.st_size : args->offset;
	}

	r = calloc(1, sizeof(*r));
	if (!r)
		return p2pmap_fail(err, P2PMAP_ERR_SYSTEM, ENOMEM,
				   "out of memory checking a file");
	r->offset = args->offset & ~(P2PMAP_PAGE_SIZE - 1);
	r->end = r->offset;
	r->file_size = st.st_size;

	pos = r->offset;
	while (pos < end) {
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.flags = args->flags;
		c.fd = args->fd;
		c.device = args->device;
		c.offset = pos;
		c.length = end - pos;
		c.extents = (uintptr_t)batch;
		c.nr_extents = P2PMAP_CHECK_BATCH;
		if (ioctl(handle->fd, P2PMAP_IOC_CHECK, &c)) {
			ret = p2pmap_check_failed(handle, args, errno, err);
			goto out_free;
		}
		p2pmap_check_keep(r->provider, sizeof(r->provider), c.provider,
				  sizeof(c.provider));
		p2pmap_check_keep(r->why, sizeof(r->why), c.why, sizeof(c.why));
		for (i = 0; i < c.nr_extents && i < P2PMAP_CHECK_BATCH; i++) {
			if (p2pmap_check_append(r, &cap, &batch[i])) {
				ret = p2pmap_fail(err, P2PMAP_ERR_SYSTEM, ENOMEM,
						  "out of memory checking a file");
				goto out_free;
			}
		}
		/* the end of the file, or no progress: the answer is complete */
		if (!c.nr_extents || c.next_offset <= pos)
			break;
		pos = c.next_offset;
		r->end = pos;
	}
	*result = r;
	p2pmap_clear_error(err);
	return 0;

out_free:
	p2pmap_check_result_free(r);
	return ret;
}

P2PMAP_EXPORT void p2pmap_check_result_free(struct p2pmap_check_result *result)
{
	if (!result)
		return;
	free(result->extents);
	free(result);
}
