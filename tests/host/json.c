// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer behind p2pmap -o json (userspace/cli/json.c): escaping,
 * layout, misuse detection; and the validator the other tests rely on.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "hosttest.h"
#include "json.h"

/* Return: the JSON string literal json_write_string() makes of @s. */
static char *escaped(const char *s)
{
	struct capture c;

	if (capture_begin(&c))
		return NULL;
	json_write_string(c.f, s);
	capture_end(&c);
	return c.buf;
}

#define EXPECT_ESCAPED(raw, want) do {				\
	char *__got = escaped(raw);				\
	char __why[128];					\
	ASSERT_NE(NULL, __got);					\
	EXPECT_STREQ(want, __got);				\
	EXPECT_EQ(0, json_check(__got, __why, sizeof(__why)))	\
		TH_LOG("invalid JSON %s: %s", __got, __why);	\
	free(__got);						\
} while (0)

/* Quotes and backslashes are escaped; '/' need not be. */
TEST(escapes_quote_and_backslash)
{
	EXPECT_ESCAPED("say \"hi\"", "\"say \\\"hi\\\"\"");
	EXPECT_ESCAPED("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	EXPECT_ESCAPED("\\\"", "\"\\\\\\\"\"");
	EXPECT_ESCAPED("a/b", "\"a/b\"");
	EXPECT_ESCAPED("", "\"\"");
}

/* Control characters get their short escapes, or \u00XX. */
TEST(escapes_control_characters)
{
	EXPECT_ESCAPED("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	EXPECT_ESCAPED("\x01", "\"\\u0001\"");
	EXPECT_ESCAPED("a\x1f" "b", "\"a\\u001fb\"");
	EXPECT_ESCAPED("\x1b[0m", "\"\\u001b[0m\"");
	/* DEL is not a control character for JSON */
	EXPECT_ESCAPED("\x7f", "\"\x7f\"");
}

/* Valid UTF-8 passes through unchanged; invalid bytes become U+FFFD. */
TEST(utf8_passes_invalid_bytes_replaced)
{
	EXPECT_ESCAPED("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* a lone continuation byte, a truncated sequence, 0xff */
	EXPECT_ESCAPED("a\x80z", "\"a\\ufffdz\"");
	EXPECT_ESCAPED("\xc3", "\"\\ufffd\"");
	EXPECT_ESCAPED("\xe2\x82z", "\"\\ufffd\\ufffdz\"");
	EXPECT_ESCAPED("\xff", "\"\\ufffd\"");
	/* overlong '/', a UTF-16 surrogate, beyond U+10FFFF */
	EXPECT_ESCAPED("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	EXPECT_ESCAPED("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_ESCAPED("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

/* Nested objects and arrays are laid out like jq's output. */
TEST(layout_nested)
{
	struct json_writer w;
	struct capture c;
	char why[128];

	ASSERT_EQ(0, capture_begin(&c));
	json_init(&w, c.f);
	json_object_begin(&w, NULL);
	json_string(&w, "name", "nvme0");
	json_u64(&w, "size", UINT64_MAX);
	json_i64(&w, "delta", INT64_MIN);
	json_bool(&w, "yes", true);
	json_bool(&w, "no", false);
	json_null(&w, "nothing");
	json_string(&w, "null_string", NULL);
	json_array_begin(&w, "list");
	json_u64(&w, NULL, 1);
	json_object_begin(&w, NULL);
	json_string(&w, "k", "v");
	json_object_end(&w);
	json_array_end(&w);
	json_object_begin(&w, "empty_object");
	json_object_end(&w);
	json_array_begin(&w, "empty_array");
	json_array_end(&w);
	json_object_end(&w);
	EXPECT_EQ(0, json_finish(&w));
	capture_end(&c);

	EXPECT_STREQ("{\n"
		     "  \"name\": \"nvme0\",\n"
		     "  \"size\": 18446744073709551615,\n"
		     "  \"delta\": -9223372036854775808,\n"
		     "  \"yes\": true,\n"
		     "  \"no\": false,\n"
		     "  \"nothing\": null,\n"
		     "  \"null_string\": null,\n"
		     "  \"list\": [\n"
		     "    1,\n"
		     "    {\n"
		     "      \"k\": \"v\"\n"
		     "    }\n"
		     "  ],\n"
		     "  \"empty_object\": {},\n"
		     "  \"empty_array\": []\n"
		     "}\n", c.buf);
	EXPECT_EQ(0, json_check(c.buf, why, sizeof(why))) TH_LOG("%s", why);
	capture_free(&c);
}

/* Keys are escaped like values. */
TEST(keys_escaped)
{
	struct json_writer w;
	struct capture c;
	char why[128];

	ASSERT_EQ(0, capture_begin(&c));
	json_init(&w, c.f);
	json_object_begin(&w, NULL);
	json_string(&w, "a\"b\n", "\x02");
	json_object_end(&w);
	EXPECT_EQ(0, json_finish(&w));
	capture_end(&c);
	EXPECT_STREQ("{\n  \"a\\\"b\\n\": \"\\u0002\"\n}\n", c.buf);
	EXPECT_EQ(0, json_check(c.buf, why, sizeof(why))) TH_LOG("%s", why);
	capture_free(&c);
}

enum misuse {
	MISUSE_KEY_IN_ARRAY,
	MISUSE_NO_KEY_IN_OBJECT,
	MISUSE_WRONG_END,
	MISUSE_END_AT_TOP,
	MISUSE_UNCLOSED,
	MISUSE_TWO_DOCUMENTS,
	MISUSE_KEY_AT_TOP,
	MISUSE_EMPTY,
	MISUSE_TOO_DEEP,
};

static int misuse(enum misuse how)
{
	struct json_writer w;
	struct capture c;
	int i, ret;

	if (capture_begin(&c))
		return 1;
	json_init(&w, c.f);
	switch (how) {
	case MISUSE_KEY_IN_ARRAY:
		json_array_begin(&w, NULL);
		json_u64(&w, "key", 1);
		json_array_end(&w);
		break;
	case MISUSE_NO_KEY_IN_OBJECT:
		json_object_begin(&w, NULL);
		json_u64(&w, NULL, 1);
		json_object_end(&w);
		break;
	case MISUSE_WRONG_END:
		json_object_begin(&w, NULL);
		json_array_end(&w);
		break;
	case MISUSE_END_AT_TOP:
		json_object_end(&w);
		break;
	case MISUSE_UNCLOSED:
		json_object_begin(&w, NULL);
		json_array_begin(&w, "a");
		json_array_end(&w);
		break;
	case MISUSE_TWO_DOCUMENTS:
		json_object_begin(&w, NULL);
		json_object_end(&w);
		json_object_begin(&w, NULL);
		json_object_end(&w);
		break;
	case MISUSE_KEY_AT_TOP:
		json_string(&w, "key", "value");
		break;
	case MISUSE_EMPTY:
		break;
	case MISUSE_TOO_DEEP:
		for (i = 0; i <= JSON_MAX_DEPTH; i++)
			json_array_begin(&w, NULL);
		for (i = 0; i <= JSON_MAX_DEPTH; i++)
			json_array_end(&w);
		break;
	}
	ret = json_finish(&w);
	capture_free(&c);
	return ret;
}

/* Every misuse is reported by json_finish() instead of passing silently. */
TEST(misuse_reported)
{
	EXPECT_NE(0, misuse(MISUSE_KEY_IN_ARRAY));
	EXPECT_NE(0, misuse(MISUSE_NO_KEY_IN_OBJECT));
	EXPECT_NE(0, misuse(MISUSE_WRONG_END));
	EXPECT_NE(0, misuse(MISUSE_END_AT_TOP));
	EXPECT_NE(0, misuse(MISUSE_UNCLOSED));
	EXPECT_NE(0, misuse(MISUSE_TWO_DOCUMENTS));
	EXPECT_NE(0, misuse(MISUSE_KEY_AT_TOP));
	EXPECT_NE(0, misuse(MISUSE_EMPTY));
	EXPECT_NE(0, misuse(MISUSE_TOO_DEEP));
}

/* JSON_MAX_DEPTH levels are allowed, and a scalar is a whole document. */
TEST(max_depth_and_scalar_documents)
{
	struct json_writer w;
	struct capture c;
	char why[128];
	int i;

	ASSERT_EQ(0, capture_begin(&c));
	json_init(&w, c.f);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_begin(&w, NULL);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_end(&w);
	EXPECT_EQ(0, json_finish(&w));
	capture_end(&c);
	EXPECT_EQ(0, json_check(c.buf, why, sizeof(why))) TH_LOG("%s", why);
	capture_free(&c);

	ASSERT_EQ(0, capture_begin(&c));
	json_init(&w, c.f);
	json_string(&w, NULL, "alone");
	EXPECT_EQ(0, json_finish(&w));
	capture_end(&c);
	EXPECT_STREQ("\"alone\"\n", c.buf);
	capture_free(&c);
}

/* The validator itself rejects what is not JSON (so the others can fail). */
TEST(validator_rejects_invalid)
{
	static const char * const bad[] = {
		"", "{", "}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]",
		"{a:1}", "'x'", "\"unterminated", "\"raw\ttab\"", "\"\\x\"",
		"\"\\u12\"", "01", "1.", "-", "1e", "tru", "nul", "{} {}",
		"\"\xc3\"", "\"\xed\xa0\x80\"", "[\"a\"]]", "NaN",
	};
	static const char * const good[] = {
		"{}", "[]", "0", "-1.5e+3", "\"\\u00e9\\n\"", "true", " null ",
		"{\"a\":[1,{\"b\":false}],\"c\":\"\xe2\x82\xac\"}",
	};
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_NE(0, json_check(bad[i], why, sizeof(why)))
			TH_LOG("accepted invalid JSON #%zu", i);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		EXPECT_EQ(0, json_check(good[i], why, sizeof(why)))
			TH_LOG("rejected valid JSON #%zu: %s", i, why);
}

TEST_HARNESS_MAIN
