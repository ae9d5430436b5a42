/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer for p2pmap's -o json output.
 *
 * Values are written in order; a member of an object has a key, an element
 * of an array has none (pass NULL). Output is indented by two spaces per
 * level, like jq's. Strings are escaped as RFC 8259 requires (quote,
 * backslash, control characters) and bytes that are not valid UTF-8 are
 * written as U+FFFD, so that the document is valid JSON whatever a file
 * name contains.
 *
 * Misuse (a key inside an array, none inside an object, an unbalanced end,
 * nesting deeper than JSON_MAX_DEPTH) is recorded and reported by
 * json_finish(), never written as broken JSON silently.
 */
#ifndef _P2PMAP_JSON_H
#define _P2PMAP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json_writer {
	FILE *out;
	unsigned int depth;		/* open containers */
	bool is_array[JSON_MAX_DEPTH];	/* per open container */
	bool has_members[JSON_MAX_DEPTH];
	bool done;			/* a complete top-level value is written */
	bool misused;
};

void json_init(struct json_writer *w, FILE *out);
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_u64(struct json_writer *w, const char *key, uint64_t value);
void json_i64(struct json_writer *w, const char *key, int64_t value);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);

/*
 * json_finish() - end the document with a newline
 *
 * Return: 0, or -EINVAL when the writer was misused or the document is
 * incomplete (nothing written, a container left open).
 */
int json_finish(struct json_writer *w);

/* Write @s as a JSON string, quotes included. */
void json_write_string(FILE *out, const char *s);

#endif /* _P2PMAP_JSON_H */
