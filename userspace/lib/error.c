// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: filling in struct p2pmap_error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/*
 * p2pmap_fail() - record a failure in @err (which may be NULL)
 *
 * Return: -@sys_errno, or -EIO when the failure has no errno: the value the
 * failing public function returns.
 */
int p2pmap_fail(struct p2pmap_error *err, enum p2pmap_errcode code,
		int sys_errno, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		err->sys_errno = sys_errno;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return sys_errno ? -sys_errno : -EIO;
}

void p2pmap_clear_error(struct p2pmap_error *err)
{
	if (err) {
		err->code = P2PMAP_ERR_NONE;
		err->sys_errno = 0;
		err->msg[0] = '\0';
	}
}
