/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader for guest tests (no python in the guest): one
 * document becomes a list of "path = value" entries, with paths such as
 * "totals.faults", "routes[0].kernel.answer", "nvme[0].namespaces[1]".
 * Strings are unescaped (\uXXXX to UTF-8), other values kept as written
 * ("123", "true", "null"); an empty object or array is an entry "{}" or
 * "[]" so that its presence shows. Header-only: each test includes it once.
 */
#ifndef _P2PMAP_JSONFLAT_H
#define _P2PMAP_JSONFLAT_H

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jf_entry {
	char *path;
	char *value;
	bool is_string;
};

struct jf {
	size_t n, cap;
	struct jf_entry *e;
};

static void jf_free(struct jf *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		free(j->e[i].path);
		free(j->e[i].value);
	}
	free(j->e);
	memset(j, 0, sizeof(*j));
}

static int jf_add(struct jf *j, const char *path, const char *value, size_t len,
		  bool is_string)
{
	struct jf_entry *grown;

	if (j->n == j->cap) {
		grown = realloc(j->e, (j->cap ? j->cap * 2 : 64) * sizeof(*grown));
		if (!grown)
			return -1;
		j->e = grown;
		j->cap = j->cap ? j->cap * 2 : 64;
	}
	j->e[j->n].path = strdup(path);
	j->e[j->n].value = strndup(value, len);
	j->e[j->n].is_string = is_string;
	if (!j->e[j->n].path || !j->e[j->n].value)
		return -1;
	j->n++;
	return 0;
}

static void jf_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

/* A string at *p (after its quote) into a malloc()ed buffer. */
static char *jf_string(const char **p)
{
	size_t cap = 64, len = 0;
	char *out = malloc(cap), *grown;
	unsigned int cp;

	if (!out)
		return NULL;
	for (;;) {
		char c = *(*p)++;

		if (len + 5 >= cap) {
			grown = realloc(out, cap *= 2);
			if (!grown)
				goto fail;
			out = grown;
		}
		if (!c || (unsigned char)c < 0x20)
			goto fail;
		if (c == '"')
			break;
		if (c != '\\') {
			out[len++] = c;
			continue;
		}
		c = *(*p)++;
		switch (c) {
		case '"': case '\\': case '/': out[len++] = c; break;
		case 'b': out[len++] = '\b'; break;
		case 'f': out[len++] = '\f'; break;
		case 'n': out[len++] = '\n'; break;
		case 'r': out[len++] = '\r'; break;
		case 't': out[len++] = '\t'; break;
		case 'u':
			if (sscanf(*p, "%4x", &cp) != 1)
				goto fail;
			*p += 4;
			if (cp < 0x80) {
				out[len++] = (char)cp;
			} else if (cp < 0x800) {
				out[len++] = (char)(0xc0 | cp >> 6);
				out[len++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[len++] = (char)(0xe0 | cp >> 12);
				out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[len++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			goto fail;
		}
	}
	out[len] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

static int jf_value(const char **p, char *path, size_t plen, struct jf *j,
		    unsigned int depth)
{
	size_t base = strlen(path), idx = 0;
	const char *start;
	char *s;
	int ret;

	if (depth > 32)
		return -1;
	jf_ws(p);
	if (**p == '{' || **p == '[') {
		bool obj = **p == '{';

		(*p)++;
		jf_ws(p);
		if (**p == (obj ? '}' : ']')) {
			(*p)++;
			return jf_add(j, path, obj ? "{}" : "[]", 2, false);
		}
		for (;;) {
			jf_ws(p);
			if (obj) {
				if (*(*p)++ != '"')
					return -1;
				s = jf_string(p);
				if (!s)
					return -1;
				snprintf(path + base, plen - base, "%s%s", base ? "." : "", s);
				free(s);
				jf_ws(p);
				if (*(*p)++ != ':')
					return -1;
			} else {
				snprintf(path + base, plen - base, "[%zu]", idx++);
			}
			ret = jf_value(p, path, plen, j, depth + 1);
			path[base] = '\0';
			if (ret)
				return ret;
			jf_ws(p);
			if (**p == ',') {
				(*p)++;
				continue;
			}
			if (*(*p)++ != (obj ? '}' : ']'))
				return -1;
			return 0;
		}
	}
	if (**p == '"') {
		(*p)++;
		s = jf_string(p);
		if (!s)
			return -1;
		ret = jf_add(j, path, s, strlen(s), true);
		free(s);
		return ret;
	}
	start = *p;
	while (**p && (isalnum((unsigned char)**p) || strchr("+-.", **p)))
		(*p)++;
	if (*p == start)
		return -1;
	return jf_add(j, path, start, *p - start, false);
}

/*
 * jf_parse() - read the document at *@text into @j; *@text then points
 * after it (where the next document of a stream starts).
 * Return: 0, or -1 (malformed, or out of memory) with @j emptied.
 */
static int jf_parse(const char **text, struct jf *j)
{
	char path[1024] = "";

	memset(j, 0, sizeof(*j));
	if (jf_value(text, path, sizeof(path), j, 0)) {
		jf_free(j);
		return -1;
	}
	jf_ws(text);
	return 0;
}

/* The value at @path, or NULL when there is none. */
static const char *jf_get(const struct jf *j, const char *path)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->e[i].path, path))
			return j->e[i].value;
	return NULL;
}

/* The value at the printf-formatted path, or NULL. */
__attribute__((format(printf, 2, 3)))
static const char *jf_getf(const struct jf *j, const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return jf_get(j, path);
}

/* The number at @path as a u64; UINT64_MAX when absent or not a number. */
static uint64_t jf_u64(const struct jf *j, const char *path)
{
	const char *v = jf_get(j, path);
	char *end;
	unsigned long long n;

	if (!v || !isdigit((unsigned char)v[0]))
		return UINT64_MAX;
	n = strtoull(v, &end, 10);
	return *end ? UINT64_MAX : n;
}

/* The number of elements of the array at @path. */
static size_t jf_len(const struct jf *j, const char *path)
{
	size_t n = 0;

	for (;;) {
		size_t i;
		char want[1040];
		bool found = false;

		snprintf(want, sizeof(want), "%s[%zu]", path, n);
		for (i = 0; i < j->n && !found; i++)
			found = !strncmp(j->e[i].path, want, strlen(want)) &&
				(j->e[i].path[strlen(want)] == '\0' ||
				 j->e[i].path[strlen(want)] == '.' ||
				 j->e[i].path[strlen(want)] == '[');
		if (!found)
			return n;
		n++;
	}
}

#endif /* _P2PMAP_JSONFLAT_H */
