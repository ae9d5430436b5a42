// SPDX-License-Identifier: GPL-2.0
/*
 * A strict JSON validator (RFC 8259) for the host tests: the JSON that
 * p2pmap prints is checked with something that does not share its code.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "hosttest.h"

#define JSON_CHECK_MAX_DEPTH	64

struct parser {
	const unsigned char *s;
	size_t pos;
	char *why;
	size_t why_len;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (p->failed)
		return false;
	p->failed = true;
	n = snprintf(p->why, p->why_len, "offset %zu: ", p->pos);
	if (n < p->why_len) {
		va_start(ap, fmt);
		vsnprintf(p->why + n, p->why_len - n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	       p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* One UTF-8 character of two or more bytes at p->pos. */
static bool parse_utf8(struct parser *p)
{
	const unsigned char *c = p->s + p->pos;
	unsigned int cp, len, i;

	if (c[0] >= 0xc2 && c[0] <= 0xdf) {
		len = 2;
		cp = c[0] & 0x1f;
	} else if (c[0] >= 0xe0 && c[0] <= 0xef) {
		len = 3;
		cp = c[0] & 0x0f;
	} else if (c[0] >= 0xf0 && c[0] <= 0xf4) {
		len = 4;
		cp = c[0] & 0x07;
	} else {
		return fail(p, "invalid UTF-8 lead byte 0x%02x", c[0]);
	}
	for (i = 1; i < len; i++) {
		if ((c[i] & 0xc0) != 0x80)
			return fail(p, "truncated UTF-8 sequence");
		cp = (cp << 6) | (c[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
		return fail(p, "overlong UTF-8 sequence");
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(p, "UTF-8 encodes U+%X, not a character", cp);
	p->pos += len;
	return true;
}

static bool parse_string(struct parser *p)
{
	unsigned char c;
	int i;

	p->pos++;	/* the opening quote */
	for (;;) {
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return true;
		}
		if (c == '\0')
			return fail(p, "unterminated string");
		if (c < 0x20)
			return fail(p, "raw control character 0x%02x in a string", c);
		if (c == '\\') {
			c = p->s[++p->pos];
			if (c == 'u') {
				for (i = 1; i <= 4; i++)
					if (!is_hex(p->s[p->pos + i]))
						return fail(p, "\\u needs four hex digits");
				p->pos += 5;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				p->pos++;
			} else {
				return fail(p, "invalid escape \\%c", c);
			}
			continue;
		}
		if (c < 0x80) {
			p->pos++;
			continue;
		}
		if (!parse_utf8(p))
			return false;
	}
}

static bool parse_number(struct parser *p)
{
	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->s[p->pos] == '0') {
		p->pos++;
	} else if (is_digit(p->s[p->pos])) {
		while (is_digit(p->s[p->pos]))
			p->pos++;
	} else {
		return fail(p, "invalid number");
	}
	if (p->s[p->pos] == '.') {
		p->pos++;
		if (!is_digit(p->s[p->pos]))
			return fail(p, "a fraction needs digits");
		while (is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->s[p->pos] == 'e' || p->s[p->pos] == 'E') {
		p->pos++;
		if (p->s[p->pos] == '+' || p->s[p->pos] == '-')
			p->pos++;
		if (!is_digit(p->s[p->pos]))
			return fail(p, "an exponent needs digits");
		while (is_digit(p->s[p->pos]))
			p->pos++;
	}
	return true;
}

static bool parse_value(struct parser *p, int depth);

static bool parse_container(struct parser *p, int depth, bool object)
{
	char close = object ? '}' : ']';

	if (depth >= JSON_CHECK_MAX_DEPTH)
		return fail(p, "nested too deep");
	p->pos++;
	skip_ws(p);
	if (p->s[p->pos] == close) {
		p->pos++;
		return true;
	}
	for (;;) {
		if (object) {
			if (p->s[p->pos] != '"')
				return fail(p, "expected a key");
			if (!parse_string(p))
				return false;
			skip_ws(p);
			if (p->s[p->pos] != ':')
				return fail(p, "expected ':'");
			p->pos++;
		}
		if (!parse_value(p, depth + 1))
			return false;
		skip_ws(p);
		if (p->s[p->pos] == close) {
			p->pos++;
			return true;
		}
		if (p->s[p->pos] != ',')
			return fail(p, "expected ',' or '%c'", close);
		p->pos++;
		skip_ws(p);
	}
}

static bool parse_literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp((const char *)p->s + p->pos, word, n))
		return fail(p, "unexpected character '%c'", p->s[p->pos]);
	p->pos += n;
	return true;
}

static bool parse_value(struct parser *p, int depth)
{
	skip_ws(p);
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, depth, true);
	case '[':
		return parse_container(p, depth, false);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true");
	case 'f':
		return parse_literal(p, "false");
	case 'n':
		return parse_literal(p, "null");
	case '\0':
		return fail(p, "unexpected end of input");
	default:
		if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
			return parse_number(p);
		return fail(p, "unexpected character '%c'", p->s[p->pos]);
	}
}

int json_check(const char *text, char *why, size_t why_len)
{
	struct parser p = {
		.s = (const unsigned char *)text,
		.why = why,
		.why_len = why_len,
	};

	if (why_len)
		why[0] = '\0';
	if (!parse_value(&p, 0))
		return -1;
	skip_ws(&p);
	if (p.s[p.pos] != '\0') {
		fail(&p, "text after the document");
		return -1;
	}
	return 0;
}
