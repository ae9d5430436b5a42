// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap: the JSON writer behind -o json (see json.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(struct json_writer *w, FILE *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

/* The length of the valid UTF-8 sequence at @s, or 0 if it is not one. */
static size_t utf8_sequence_length(const unsigned char *s)
{
	unsigned int cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;	/* continuation byte, overlong lead, > U+10FFFF */
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* includes the terminating NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong, out of range, or a surrogate */
	return len;
}

void json_write_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len;

	fputc('"', out);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*s < 0x20) {
				fprintf(out, "\\u%04x", *s);
				break;
			}
			len = utf8_sequence_length(s);
			if (!len) {
				fputs("\\ufffd", out);
				break;
			}
			fwrite(s, 1, len, out);
			s += len - 1;
		}
		s++;
	}
	fputc('"', out);
}

static void json_indent(struct json_writer *w)
{
	unsigned int i;

	fputc('\n', w->out);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* Everything before a value: separator, indentation, key. */
static bool json_value_prefix(struct json_writer *w, const char *key)
{
	unsigned int level;

	if (w->misused)
		return false;
	if (w->depth == 0) {
		if (w->done || key) {
			w->misused = true;	/* a second document, or a key */
			return false;
		}
		return true;
	}
	level = w->depth - 1;
	if (w->is_array[level] != !key) {
		w->misused = true;
		return false;
	}
	if (w->has_members[level])
		fputc(',', w->out);
	w->has_members[level] = true;
	json_indent(w);
	if (key) {
		json_write_string(w->out, key);
		fputs(": ", w->out);
	}
	return true;
}

static void json_value_done(struct json_writer *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void json_begin(struct json_writer *w, const char *key, bool array)
{
	if (w->depth == JSON_MAX_DEPTH) {
		w->misused = true;
		return;
	}
	if (!json_value_prefix(w, key))
		return;
	fputc(array ? '[' : '{', w->out);
	w->is_array[w->depth] = array;
	w->has_members[w->depth] = false;
	w->depth++;
}

static void json_end(struct json_writer *w, bool array)
{
	if (w->misused)
		return;
	if (w->depth == 0 || w->is_array[w->depth - 1] != array) {
		w->misused = true;
		return;
	}
	w->depth--;
	if (w->has_members[w->depth])
		json_indent(w);
	fputc(array ? ']' : '}', w->out);
	json_value_done(w);
}

void json_object_begin(struct json_writer *w, const char *key)
{
	json_begin(w, key, false);
}

void json_object_end(struct json_writer *w)
{
	json_end(w, false);
}

void json_array_begin(struct json_writer *w, const char *key)
{
	json_begin(w, key, true);
}

void json_array_end(struct json_writer *w)
{
	json_end(w, true);
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
	if (!value) {
		json_null(w, key);
		return;
	}
	if (!json_value_prefix(w, key))
		return;
	json_write_string(w->out, value);
	json_value_done(w);
}

void json_u64(struct json_writer *w, const char *key, uint64_t value)
{
	if (!json_value_prefix(w, key))
		return;
	fprintf(w->out, "%" PRIu64, value);
	json_value_done(w);
}

void json_i64(struct json_writer *w, const char *key, int64_t value)
{
	if (!json_value_prefix(w, key))
		return;
	fprintf(w->out, "%" PRId64, value);
	json_value_done(w);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
	if (!json_value_prefix(w, key))
		return;
	fputs(value ? "true" : "false", w->out);
	json_value_done(w);
}

void json_null(struct json_writer *w, const char *key)
{
	if (!json_value_prefix(w, key))
		return;
	fputs("null", w->out);
	json_value_done(w);
}

int json_finish(struct json_writer *w)
{
	if (w->misused || w->depth || !w->done)
		return -EINVAL;
	fputc('\n', w->out);
	return 0;
}
