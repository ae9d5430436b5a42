/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libp2pmap - the user-space library over /dev/p2pmap.
 *
 * Conventions every function here follows:
 *  - a function that can fail returns 0 on success or a negative errno, and
 *    fills the caller's struct p2pmap_error (when it is not NULL) with a
 *    category (enum p2pmap_errcode), the errno behind it and a sentence a
 *    user can act on; on success the error is cleared;
 *  - a function that fails changes nothing the caller passed in, except the
 *    error;
 *  - the names of enum values are stable, lower-case identifiers (the
 *    uapi enumerator without its prefix), suitable as JSON keys.
 *
 * Symbols are versioned (node P2PMAP_0.1, P2PMAP_0.2 for statistics,
 * checks and PCI addresses, P2PMAP_0.3 for layouts); the uapi header
 * <linux/p2pmap.h> defines the structures and enums used here.
 */
#ifndef _LIBP2PMAP_H
#define _LIBP2PMAP_H

#include <stddef.h>
#include <stdint.h>

#include <linux/p2pmap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The device node of the p2pmap module. */
#define P2PMAP_DEVICE_PATH	"/dev/p2pmap"

/**
 * enum p2pmap_errcode - what kind of failure a struct p2pmap_error reports
 * @P2PMAP_ERR_NONE: no error.
 * @P2PMAP_ERR_NOT_LOADED: the p2pmap kernel module is not loaded: its device
 *	node is missing, or nothing is behind it.
 * @P2PMAP_ERR_NO_DEVICE_NODE: the module is loaded but its device node is
 *	missing (no devtmpfs or udev in this mount namespace).
 * @P2PMAP_ERR_NOT_P2PMAP: the device node does not belong to p2pmap (it does
 *	not answer the version ioctl).
 * @P2PMAP_ERR_ABI: the module refused a request built for another ABI.
 * @P2PMAP_ERR_PERMISSION: the caller may not open the device node.
 * @P2PMAP_ERR_INVALID_ARGUMENT: the caller passed an invalid argument to a
 *	libp2pmap function.
 * @P2PMAP_ERR_SYSTEM: any other failure of a system call or an allocation;
 *	the errno says which.
 * @P2PMAP_ERR_UNSUPPORTED: the loaded module does not know the request (it
 *	is older than libp2pmap).
 * @P2PMAP_ERR_BAD_FILE: the file cannot be checked: not a regular file, or
 *	not open for reading.
 * @P2PMAP_ERR_NO_PCI_DEVICE: no PCI function has the address given.
 * @P2PMAP_ERR_COUNT: number of codes; not a code.
 *
 * New codes are only ever appended.
 */
enum p2pmap_errcode {
	P2PMAP_ERR_NONE			= 0,
	P2PMAP_ERR_NOT_LOADED		= 1,
	P2PMAP_ERR_NO_DEVICE_NODE	= 2,
	P2PMAP_ERR_NOT_P2PMAP		= 3,
	P2PMAP_ERR_ABI			= 4,
	P2PMAP_ERR_PERMISSION		= 5,
	P2PMAP_ERR_INVALID_ARGUMENT	= 6,
	P2PMAP_ERR_SYSTEM		= 7,
	P2PMAP_ERR_UNSUPPORTED		= 8,
	P2PMAP_ERR_BAD_FILE		= 9,
	P2PMAP_ERR_NO_PCI_DEVICE	= 10,
	P2PMAP_ERR_COUNT
};

/* Size of struct p2pmap_error's message, terminating NUL included. */
#define P2PMAP_ERROR_MSG_SIZE	256

/**
 * struct p2pmap_error - why a libp2pmap call failed
 * @code: the kind of failure (enum p2pmap_errcode); P2PMAP_ERR_NONE after
 *	a successful call.
 * @sys_errno: the errno behind the failure (positive), or 0.
 * @msg: what failed and why, as a sentence without a trailing newline,
 *	for example "module p2pmap not loaded (/dev/p2pmap missing)". Empty
 *	after a successful call.
 *
 * Allocated by the caller (on the stack is fine) and passed as the last
 * argument of the functions that can fail.
 */
struct p2pmap_error {
	int code;
	int sys_errno;
	char msg[P2PMAP_ERROR_MSG_SIZE];
};

/* An open handle on a p2pmap device node; opaque. */
struct p2pmap;

/**
 * p2pmap_open() - open the p2pmap device node, /dev/p2pmap
 * @handle: where to store the new handle.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Equivalent to p2pmap_open_path(P2PMAP_DEVICE_PATH, @handle, @err).
 *
 * Return: 0, with *@handle set, or a negative errno; see p2pmap_open_path().
 */
int p2pmap_open(struct p2pmap **handle, struct p2pmap_error *err);

/**
 * p2pmap_open_path() - open a p2pmap device node at a given path
 * @path: the device node, for example in a container's bind mount.
 * @handle: where to store the new handle; unchanged on failure.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Opens @path and checks, with the version ioctl, that a p2pmap module is
 * behind it. The handle is released with p2pmap_close().
 *
 * Return: 0, with *@handle set, or a negative errno with @err's code:
 * P2PMAP_ERR_NOT_LOADED (-ENOENT, -ENODEV, -ENXIO: the module is not
 * loaded), P2PMAP_ERR_NO_DEVICE_NODE (-ENOENT while the module is loaded),
 * P2PMAP_ERR_PERMISSION (-EACCES, -EPERM), P2PMAP_ERR_NOT_P2PMAP (-ENOTTY:
 * @path is something else), P2PMAP_ERR_ABI (-EINVAL from the module),
 * P2PMAP_ERR_INVALID_ARGUMENT (-EINVAL: @path or @handle is NULL) or
 * P2PMAP_ERR_SYSTEM (anything else, -ENOMEM included).
 */
int p2pmap_open_path(const char *path, struct p2pmap **handle,
		     struct p2pmap_error *err);

/**
 * p2pmap_close() - release a handle
 * @handle: a handle from p2pmap_open(), or NULL (nothing is done).
 *
 * Return: nothing.
 */
void p2pmap_close(struct p2pmap *handle);

/**
 * p2pmap_get_version() - ask the loaded module for its version
 * @handle: an open handle.
 * @version: (out) the module's version, ABI and P2PMAP_FEATURE_* bits;
 *	unchanged on failure.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Return: 0, or a negative errno: -EINVAL with P2PMAP_ERR_INVALID_ARGUMENT
 * for a NULL argument, -EINVAL with P2PMAP_ERR_ABI when the module refuses
 * the request, P2PMAP_ERR_SYSTEM for any other failure of the ioctl.
 */
int p2pmap_get_version(struct p2pmap *handle, struct p2pmap_version *version,
		       struct p2pmap_error *err);

/**
 * p2pmap_library_version() - the version of this libp2pmap
 *
 * Return: the project's version, for example "0.1.0" (a static string).
 */
const char *p2pmap_library_version(void);

/**
 * p2pmap_library_abi() - the /dev/p2pmap ABI this libp2pmap speaks
 *
 * Return: the P2PMAP_ABI_VERSION libp2pmap was built with; compare it with
 * struct p2pmap_version's @abi.
 */
unsigned int p2pmap_library_abi(void);

/**
 * p2pmap_errcode_name() - the name of an error code
 * @code: an enum p2pmap_errcode value.
 *
 * Return: the name ("not_loaded", ...), or NULL for a value that is not a
 * code.
 */
const char *p2pmap_errcode_name(int code);

/**
 * p2pmap_reason_name() - the name of a fallback reason
 * @reason: an enum p2pmap_reason value.
 *
 * Return: the name ("hole", "no_cmb", ...), or NULL for a value that is not
 * a reason.
 */
const char *p2pmap_reason_name(int reason);

/**
 * p2pmap_revoke_cause_name() - the name of a revocation cause
 * @cause: an enum p2pmap_revoke_cause value.
 *
 * Return: the name ("unmap", "layout", ...), or NULL for a value that is
 * not a cause.
 */
const char *p2pmap_revoke_cause_name(int cause);

/**
 * p2pmap_path_name() - the name of a data path
 * @path: an enum p2pmap_path value.
 *
 * Return: the name ("none", "p2p", "pagecache"), or NULL for a value that
 * is not a path.
 */
const char *p2pmap_path_name(int path);

/**
 * p2pmap_feature_name() - the name of a module feature bit
 * @feature: one P2PMAP_FEATURE_* bit.
 *
 * Return: the name ("pci_p2pdma", ...), or NULL when @feature is not exactly
 * one known bit.
 */
const char *p2pmap_feature_name(uint64_t feature);

/**
 * p2pmap_reason_description() - what a fallback reason means, for people
 * @reason: an enum p2pmap_reason value.
 *
 * Return: one sentence without a final period ("a hole in the file: there
 * are no blocks to read"), or NULL for a value that is not a reason.
 */
const char *p2pmap_reason_description(int reason);

/**
 * p2pmap_get_stats() - read the framework's counters
 * @handle: an open handle.
 * @stats: (out) the module's totals (see struct p2pmap_stats); unchanged on
 *	failure.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * One P2PMAP_IOC_STATS ioctl: the totals since the module was loaded, and
 * the importers and mirrors alive now. Per-importer and per-provider
 * counters are in debugfs, not here: debugfs is not an ABI.
 *
 * Return: 0, or a negative errno: -EINVAL with P2PMAP_ERR_INVALID_ARGUMENT
 * for a NULL argument, -ENOTTY with P2PMAP_ERR_UNSUPPORTED when the module
 * has no statistics, -EINVAL with P2PMAP_ERR_ABI when it refuses the
 * request, P2PMAP_ERR_SYSTEM for any other failure.
 */
int p2pmap_get_stats(struct p2pmap *handle, struct p2pmap_stats *stats,
		     struct p2pmap_error *err);

/**
 * struct p2pmap_check_args - what p2pmap_check_file() is asked
 * @args_size: (in) sizeof(struct p2pmap_check_args) as the caller knows it,
 *	so that the structure can grow; a size libp2pmap does not know is
 *	refused.
 * @flags: (in) P2PMAP_CHECK_DEVICE when @device names the importing PCI
 *	function; no other bit.
 * @fd: (in) an open file descriptor of a regular file, open for reading.
 * @device: (in) with P2PMAP_CHECK_DEVICE: the PCI function that would read,
 *	domain << 16 | bus << 8 | devfn (see p2pmap_pci_parse()).
 * @offset: (in) first byte; the kernel rounds it down to a page.
 * @length: (in) number of bytes, rounded up to a page; 0 means up to the
 *	end of the file.
 */
struct p2pmap_check_args {
	uint32_t args_size;
	uint32_t flags;
	int32_t fd;
	uint32_t device;
	uint64_t offset;
	uint64_t length;
};

/* Sizes of struct p2pmap_check_result's strings, terminating NUL included. */
#define P2PMAP_CHECK_PROVIDER_SIZE	32
#define P2PMAP_CHECK_WHY_SIZE		128

/**
 * struct p2pmap_check_result - the kernel's answer to p2pmap_check_file()
 * @offset: the first byte described: the request's offset rounded down to
 *	a page.
 * @end: the end of what is described: the request's end rounded up to a
 *	page, or the end of the file (rounded up to a page) when it comes first.
 *	@offset when the range lies beyond the end of the file.
 * @file_size: the file's size when it was checked.
 * @provider: the provider serving the file's blocks ("nvme0"), or "" when
 *	no range reached one.
 * @why: the kernel's explanation when there is no P2P route from the device
 *	asked about, or when the file system cannot be used ("file system xfs
 *	has no p2pmap hooks (is p2pmap_fs loaded?)"); else "".
 * @nr_extents: entries in @extents.
 * @extents: the ranges from @offset to @end in order, each with the path a
 *	device would get and the reason (adjacent ranges with the same answer
 *	are merged).
 *
 * Allocated by p2pmap_check_file(), released with p2pmap_check_result_free().
 */
struct p2pmap_check_result {
	uint64_t offset;
	uint64_t end;
	uint64_t file_size;
	char provider[P2PMAP_CHECK_PROVIDER_SIZE];
	char why[P2PMAP_CHECK_WHY_SIZE];
	size_t nr_extents;
	struct p2pmap_check_extent *extents;
};

/**
 * p2pmap_check_file() - which path each range of a file would take, and why
 * @handle: an open handle.
 * @args: the file, the range and optionally the importing PCI function.
 * @result: (out) where to store the answer, to be released with
 *	p2pmap_check_result_free(); unchanged on failure.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Asks the kernel (P2PMAP_IOC_CHECK, as many times as the range needs) the
 * same questions a device fault would, without changing anything: nothing
 * is staged, flushed or allocated.
 *
 * Return: 0, with *@result set, or a negative errno: -EINVAL with
 * P2PMAP_ERR_INVALID_ARGUMENT (NULL argument, unknown @args_size or flag,
 * a range that overflows), -EBADF or -EINVAL with P2PMAP_ERR_BAD_FILE (@fd
 * is not open for reading, or not a regular file), -ENODEV with
 * P2PMAP_ERR_NO_PCI_DEVICE (no PCI function at @device), -ENOTTY with
 * P2PMAP_ERR_UNSUPPORTED (the module has no check), -EINVAL with
 * P2PMAP_ERR_ABI (the module refuses the request), P2PMAP_ERR_SYSTEM for
 * any other failure (an I/O error of the file system, -ENOMEM).
 */
int p2pmap_check_file(struct p2pmap *handle,
		      const struct p2pmap_check_args *args,
		      struct p2pmap_check_result **result,
		      struct p2pmap_error *err);

/**
 * p2pmap_check_result_free() - release an answer of p2pmap_check_file()
 * @result: the answer, or NULL (nothing is done).
 *
 * Return: nothing.
 */
void p2pmap_check_result_free(struct p2pmap_check_result *result);

/* Size of a PCI address string "DDDD:BB:DD.F", terminating NUL included. */
#define P2PMAP_PCI_ADDR_SIZE	13

/**
 * p2pmap_pci_parse() - read a PCI function's address
 * @text: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hexadecimal, as lspci
 *	and sysfs write them.
 * @device: (out) domain << 16 | bus << 8 | devfn, as struct p2pmap_check
 *	wants it; unchanged on failure.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Only the syntax is checked, not whether the function exists.
 *
 * Return: 0, or -EINVAL with P2PMAP_ERR_INVALID_ARGUMENT and a message that
 * says what is wrong with @text.
 */
int p2pmap_pci_parse(const char *text, uint32_t *device,
		     struct p2pmap_error *err);

/**
 * p2pmap_pci_format() - write a PCI function's address
 * @device: domain << 16 | bus << 8 | devfn.
 * @buf: (out) at least P2PMAP_PCI_ADDR_SIZE bytes: "DDDD:BB:DD.F".
 * @len: size of @buf.
 *
 * Return: 0, or -EINVAL when @buf is NULL or too small (@buf is then left
 * as it was).
 */
int p2pmap_pci_format(uint32_t device, char *buf, size_t len);

/* ---- layouts (node P2PMAP_0.3): the pNFS block-layout model ---- */

/**
 * struct p2pmap_layout - a layout held through a handle (docs/layouts.md)
 * @id: the kernel's id of the layout.
 * @iomode: P2PMAP_LAYOUT_READ or P2PMAP_LAYOUT_RW.
 * @offset: the layout's first byte (rounded down to @blksize).
 * @length: its length: may be shorter than asked for (a read layout stops
 *	at the end of the file).
 * @blksize: writes must be aligned to this.
 * @nr_extents: number of @extents.
 * @extents: the blocks: device, sector, state, whether a CMB can stage them.
 */
struct p2pmap_layout {
	uint32_t id;
	uint32_t iomode;
	uint64_t offset;
	uint64_t length;
	uint32_t blksize;
	uint32_t nr_extents;
	struct p2pmap_layout_extent *extents;
};

/**
 * p2pmap_layout_get() - lease a range of a file and learn its blocks
 * @handle: an open handle; the layout belongs to it (closing it returns
 *	every layout it holds).
 * @fd: the file, open for reading (P2PMAP_LAYOUT_READ) or for reading and
 *	writing (P2PMAP_LAYOUT_RW).
 * @iomode: P2PMAP_LAYOUT_READ or P2PMAP_LAYOUT_RW.
 * @offset: first byte.
 * @length: bytes, not 0. On XFS a read-write layout may reach past the end
 *	of the file: the blocks are allocated unwritten.
 * @break_ms: how long a recalled layout may still be used before it is
 *	fenced; 0 for the default (5 s).
 * @layout: (out) the layout, freed by p2pmap_layout_return().
 * @err: (out, may be NULL) the reason of a failure.
 *
 * The caller must own the file or have CAP_LEASE.
 *
 * Return: 0, or a negative errno: -EBADF (open mode), -EACCES (not the
 * owner), -EOPNOTSUPP (blocks that cannot be handed out; @err says why),
 * -ENXIO (past the end of the file), -EAGAIN (a conflicting layout is being
 * recalled: try again), -ENOTTY (an older module), -EINVAL.
 */
int p2pmap_layout_get(struct p2pmap *handle, int fd, uint32_t iomode,
		      uint64_t offset, uint64_t length, uint32_t break_ms,
		      struct p2pmap_layout **layout, struct p2pmap_error *err);

/**
 * p2pmap_layout_io() - read or write the blocks of a layout
 * @handle: the handle holding @layout.
 * @layout: the layout.
 * @write: nonzero to write @buf to the blocks (a read-write layout; @offset
 *	and @length aligned to @layout->blksize), zero to read into @buf.
 * @offset: file offset, inside the layout.
 * @buf: @length bytes.
 * @length: bytes, at most 64 MiB.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Holes and unwritten blocks read as zeros. Written data becomes the
 * file's with p2pmap_layout_commit().
 *
 * Return: 0, or a negative errno: -ESTALE (the layout was fenced), -ERANGE
 * (outside the layout), -EBADF (writing a read layout), -ENOENT, -EINVAL.
 */
int p2pmap_layout_io(struct p2pmap *handle, const struct p2pmap_layout *layout,
		     int write, uint64_t offset, void *buf, uint64_t length,
		     struct p2pmap_error *err);

/**
 * p2pmap_layout_commit() - make what was written through a layout the file's
 * @handle: the handle holding @layout.
 * @layout: a read-write layout.
 * @ranges: the ranges written (unwritten blocks in them must have been
 *	written whole through @layout).
 * @nr_ranges: 1 to 256.
 * @new_size: the file's new size when it grows (at most the layout's end),
 *	or -1.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Return: 0, or a negative errno: -ESTALE (fenced), -EOPNOTSUPP (ext4
 * cannot grow the file), -ERANGE, -EINVAL, -EBADF (a read layout).
 */
int p2pmap_layout_commit(struct p2pmap *handle,
			 const struct p2pmap_layout *layout,
			 const struct p2pmap_layout_range *ranges,
			 unsigned int nr_ranges, int64_t new_size,
			 struct p2pmap_error *err);

/**
 * p2pmap_layout_return() - give a layout back and free it
 * @handle: the handle holding @layout.
 * @layout: the layout; freed in every case. NULL is ignored.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Waits for I/O in flight through the layout. Returning a fenced layout
 * succeeds.
 *
 * Return: 0, or a negative errno (-ENOENT: it was not held).
 */
int p2pmap_layout_return(struct p2pmap *handle, struct p2pmap_layout *layout,
			 struct p2pmap_error *err);

/**
 * p2pmap_layout_event_fd() - the file descriptor to poll for recalls
 * @handle: an open handle.
 *
 * It polls readable (POLLIN, POLLPRI) while recall or revocation events
 * are pending; read them with p2pmap_layout_next_event().
 *
 * Return: the descriptor, or -1 for a NULL handle.
 */
int p2pmap_layout_event_fd(const struct p2pmap *handle);

/**
 * p2pmap_layout_next_event() - wait for a recall or revocation
 * @handle: an open handle.
 * @timeout_ms: how long to wait: 0 not at all, -1 for ever.
 * @event: (out) the event: which layout, recall or revoked, why, and for a
 *	recall the milliseconds left before the layout is fenced.
 * @err: (out, may be NULL) the reason of a failure.
 *
 * Return: 0 with @event filled in, -ETIMEDOUT when none came, or another
 * negative errno.
 */
int p2pmap_layout_next_event(struct p2pmap *handle, int timeout_ms,
			     struct p2pmap_layout_event *event,
			     struct p2pmap_error *err);

/**
 * p2pmap_layout_cause_name() - the name of an enum p2pmap_layout_cause
 * @cause: the cause.
 *
 * Return: "break", "unmap", "conflict", "timeout", "moved", "exit", or
 * "unknown".
 */
const char *p2pmap_layout_cause_name(int cause);

/**
 * p2pmap_extent_state_name() - the name of a P2PMAP_EXTENT_* state
 * @state: the state.
 *
 * Return: "written", "unwritten", "hole", or "unknown".
 */
const char *p2pmap_extent_state_name(int state);

#ifdef __cplusplus
}
#endif

#endif /* _LIBP2PMAP_H */
