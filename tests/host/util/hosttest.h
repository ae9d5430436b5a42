/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the host unit tests (tests/host/NAME.c, run by
 * tests/host/run): capturing a FILE's output, checking JSON, finding the
 * source tree.
 */
#ifndef _P2PMAP_HOSTTEST_H
#define _P2PMAP_HOSTTEST_H

#include <stddef.h>
#include <stdio.h>

/*
 * struct capture - a FILE whose output ends up in a string
 * @f: write to this.
 * @buf: after capture_end(), the NUL-terminated output (free()d by
 *	capture_free()).
 * @len: its length.
 */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

/* Return: 0, or -1 with errno set. */
int capture_begin(struct capture *c);
/* Closes c->f; c->buf then holds everything written. */
const char *capture_end(struct capture *c);
void capture_free(struct capture *c);

/*
 * json_check() - is @text exactly one valid JSON document (RFC 8259)?
 * @text: NUL-terminated text; surrounding whitespace is allowed.
 * @why: (out) on failure, what is wrong and at which offset.
 * @why_len: size of @why.
 *
 * Strings must be valid UTF-8 with no raw control characters; nesting is
 * limited to 64 levels.
 *
 * Return: 0 if valid, -1 if not.
 */
int json_check(const char *text, char *why, size_t why_len);

/*
 * source_path() - a path in the source tree
 * @rel: path relative to the top of the tree, e.g. "include/libp2pmap.h".
 *
 * The top is $P2PMAP_TOP, or else three levels above this executable
 * (build/host-tests/NAME).
 *
 * Return: a malloc()ed path, or NULL.
 */
char *source_path(const char *rel);

#endif /* _P2PMAP_HOSTTEST_H */
