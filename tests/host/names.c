// SPDX-License-Identifier: GPL-2.0
/*
 * libp2pmap's names for enum values and feature bits: every enumerator of
 * the headers, read from the headers themselves, has the name that is its
 * suffix in lower case, and values that are not enumerators have none. A
 * value added to a header without a name in libp2pmap fails here.
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hosttest.h"
#include <libp2pmap.h>

#define MAX_ENUMERATORS	128

struct enumerator {
	char name[64];
	long value;
};

struct parsed_enum {
	struct enumerator e[MAX_ENUMERATORS];
	int count;		/* enumerators, the _COUNT one excluded */
	long count_value;	/* value of PREFIX_COUNT, or -1 */
};

static char *read_file(const char *rel)
{
	char *path = source_path(rel), *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!path)
		return NULL;
	f = fopen(path, "r");
	free(path);
	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * Parse "enum TAG { ... };" of header @rel: its enumerators that start with
 * @prefix, their explicit or implicit values. Return: 0, or -1.
 */
static int parse_enum(const char *rel, const char *tag, const char *prefix,
		      struct parsed_enum *out)
{
	char *text = read_file(rel), *start, *end, *line, *save = NULL;
	char open[96], count_name[64];
	regmatch_t m[4];
	regex_t re;
	long next = 0;

	memset(out, 0, sizeof(*out));
	out->count_value = -1;
	if (!text)
		return -1;
	snprintf(open, sizeof(open), "enum %s {", tag);
	snprintf(count_name, sizeof(count_name), "%sCOUNT", prefix);
	start = strstr(text, open);
	end = start ? strstr(start, "};") : NULL;
	if (!end || regcomp(&re, "^[[:space:]]*([A-Z0-9_]+)[[:space:]]*(=[[:space:]]*([0-9]+))?[[:space:]]*,?[[:space:]]*(/\\*.*\\*/)?[[:space:]]*$",
			    REG_EXTENDED)) {
		free(text);
		return -1;
	}
	*end = '\0';
	for (line = strtok_r(start + strlen(open), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct enumerator e;
		size_t len;

		if (regexec(&re, line, 4, m, 0))
			continue;
		len = m[1].rm_eo - m[1].rm_so;
		if (len >= sizeof(e.name) || strncmp(line + m[1].rm_so, prefix, strlen(prefix)))
			continue;
		memcpy(e.name, line + m[1].rm_so, len);
		e.name[len] = '\0';
		e.value = m[3].rm_so >= 0 ? strtol(line + m[3].rm_so, NULL, 10) : next;
		next = e.value + 1;
		if (!strcmp(e.name, count_name)) {
			out->count_value = e.value;
		} else if (out->count < MAX_ENUMERATORS) {
			out->e[out->count++] = e;
		}
	}
	regfree(&re);
	free(text);
	return 0;
}

/* The expected name: the enumerator without @prefix, in lower case. */
static void expected_name(const char *enumerator, const char *prefix,
			  char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", enumerator + strlen(prefix));
	for (i = 0; buf[i]; i++)
		buf[i] = tolower((unsigned char)buf[i]);
}

struct enum_case {
	const char *header;
	const char *tag;
	const char *prefix;
	const char *(*name)(int value);
	bool has_count;
};

static const struct enum_case enum_cases[] = {
	{ "include/uapi/linux/p2pmap.h", "p2pmap_reason", "P2PMAP_REASON_",
	  p2pmap_reason_name, true },
	{ "include/uapi/linux/p2pmap.h", "p2pmap_revoke_cause", "P2PMAP_REVOKE_",
	  p2pmap_revoke_cause_name, true },
	{ "include/uapi/linux/p2pmap.h", "p2pmap_path", "P2PMAP_PATH_",
	  p2pmap_path_name, false },
	{ "include/libp2pmap.h", "p2pmap_errcode", "P2PMAP_ERR_",
	  p2pmap_errcode_name, true },
};

FIXTURE(enum_names)
{
	struct parsed_enum parsed;
	const struct enum_case *c;
};

FIXTURE_VARIANT(enum_names)
{
	int which;
};

FIXTURE_VARIANT_ADD(enum_names, reason) { .which = 0 };
FIXTURE_VARIANT_ADD(enum_names, revoke_cause) { .which = 1 };
FIXTURE_VARIANT_ADD(enum_names, path) { .which = 2 };
FIXTURE_VARIANT_ADD(enum_names, errcode) { .which = 3 };

FIXTURE_SETUP(enum_names)
{
	self->c = &enum_cases[variant->which];
	ASSERT_EQ(0, parse_enum(self->c->header, self->c->tag, self->c->prefix,
				&self->parsed))
		TH_LOG("cannot find enum %s in %s", self->c->tag, self->c->header);
	/* a parser that finds nothing must not pass the tests below */
	ASSERT_LT(1, self->parsed.count);
}

FIXTURE_TEARDOWN(enum_names)
{
}

/* Every enumerator has its lower-case suffix as its name. */
TEST_F(enum_names, every_value_named)
{
	const struct parsed_enum *p = &self->parsed;
	char want[64];
	const char *got;
	int i;

	for (i = 0; i < p->count; i++) {
		expected_name(p->e[i].name, self->c->prefix, want, sizeof(want));
		got = self->c->name(p->e[i].value);
		EXPECT_NE(NULL, got) TH_LOG("%s (%ld) has no name", p->e[i].name,
					   p->e[i].value);
		if (got)
			EXPECT_STREQ(want, got) TH_LOG("%s", p->e[i].name);
	}
}

/* _COUNT counts the enumerators, which run from 0 without a gap. */
TEST_F(enum_names, count_matches)
{
	const struct parsed_enum *p = &self->parsed;
	int i;

	if (self->c->has_count)
		EXPECT_EQ(p->count, p->count_value);
	for (i = 0; i < p->count; i++)
		EXPECT_EQ(i, p->e[i].value) TH_LOG("%s", p->e[i].name);
}

/* Values that are not enumerators (negative, _COUNT, beyond) have no name. */
TEST_F(enum_names, other_values_unnamed)
{
	const struct parsed_enum *p = &self->parsed;
	long max = 0;
	int i;

	for (i = 0; i < p->count; i++)
		if (p->e[i].value > max)
			max = p->e[i].value;
	EXPECT_EQ(NULL, self->c->name(-1));
	EXPECT_EQ(NULL, self->c->name(max + 1));
	EXPECT_EQ(NULL, self->c->name(1000000));
	if (self->c->has_count)
		EXPECT_EQ(NULL, self->c->name(p->count_value));
}

/* Every P2PMAP_FEATURE_* bit of the uapi has its name; other masks none. */
TEST(feature_names)
{
	char *text = read_file("include/uapi/linux/p2pmap.h"), *cur, want[64];
	uint64_t known = 0;
	regmatch_t m[3];
	regex_t re;
	size_t i, len;
	int found = 0;
	const char *got;

	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, regcomp(&re, "#define[[:space:]]+P2PMAP_FEATURE_([A-Z0-9_]+)[[:space:]]+\\(1ULL << ([0-9]+)\\)",
			     REG_EXTENDED));
	for (cur = text; !regexec(&re, cur, 3, m, 0); cur += m[0].rm_eo) {
		unsigned int bit = strtoul(cur + m[2].rm_so, NULL, 10);

		len = m[1].rm_eo - m[1].rm_so;
		ASSERT_LT(len, sizeof(want));
		for (i = 0; i < len; i++)
			want[i] = tolower((unsigned char)cur[m[1].rm_so + i]);
		want[len] = '\0';
		got = p2pmap_feature_name(1ULL << bit);
		EXPECT_NE(NULL, got) TH_LOG("P2PMAP_FEATURE bit %u has no name", bit);
		if (got)
			EXPECT_STREQ(want, got);
		known |= 1ULL << bit;
		found++;
	}
	regfree(&re);
	free(text);
	ASSERT_LT(0, found);

	EXPECT_EQ(NULL, p2pmap_feature_name(0));
	EXPECT_EQ(NULL, p2pmap_feature_name(known));	/* several bits */
	for (i = 0; i < 64; i++)
		if (!(known & (1ULL << i)))
			EXPECT_EQ(NULL, p2pmap_feature_name(1ULL << i))
				TH_LOG("bit %zu is not in the uapi", i);
}

TEST_HARNESS_MAIN
