/*
 * test_json.c - the JSON writer, above all the reversible byte escaping
 * of paths (docs/json.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "memtop/json.h"
#include "memtop/region.h"

/* Run fn into a memory stream and return what it wrote (static buffer). */
static const char *capture_bytes(const char *s, size_t len)
{
	static char out[4096];
	FILE *f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	json_write_bytes(f, s, len);
	fclose(f);
	return out;
}

static void test_plain_ascii(void **state)
{
	(void)state;
	assert_string_equal(capture_bytes("/usr/lib/libc.so.6", 18), "\"/usr/lib/libc.so.6\"");
}

static void test_json_escapes(void **state)
{
	(void)state;
	const char name[] = "a\"b\\c\nd\te\x01";
	assert_string_equal(capture_bytes(name, sizeof(name) - 1),
			    "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

static void test_valid_utf8_is_a_character(void **state)
{
	(void)state;
	/* é (2 bytes), € (3 bytes), 😀 (4 bytes, a surrogate pair in JSON) */
	const char name[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	assert_string_equal(capture_bytes(name, sizeof(name) - 1),
			    "\"\\u00e9\\u20ac\\ud83d\\ude00\"");
}

static void test_invalid_bytes_surrogateescape(void **state)
{
	(void)state;
	/* A lone continuation byte, a truncated sequence, an overlong '/',
	 * an encoded surrogate and 0xff: each byte becomes \udcXX. */
	assert_string_equal(capture_bytes("\x80", 1), "\"\\udc80\"");
	assert_string_equal(capture_bytes("a\xe2\x82", 3), "\"a\\udce2\\udc82\"");
	assert_string_equal(capture_bytes("\xc0\xaf", 2), "\"\\udcc0\\udcaf\"");
	assert_string_equal(capture_bytes("\xed\xa0\x80", 3), "\"\\udced\\udca0\\udc80\"");
	assert_string_equal(capture_bytes("\xff/x", 3), "\"\\udcff/x\"");
}

static void test_output_is_ascii(void **state)
{
	(void)state;
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)(i ? i : 'x');
	const char *out = capture_bytes(all, sizeof(all));
	for (const char *p = out; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void test_members_and_commas(void **state)
{
	(void)state;
	char out[512];
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct json j;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_u64(&j, "a", 1);
	json_addr(&j, "start", 0x7f0000001000ULL);
	json_size(&j, "rss", MT_UNKNOWN);
	json_str_or_null(&j, "s", "x");
	json_str_or_null(&j, "n", NULL);
	json_double(&j, "nan", 0.0 / 0.0, 2);
	json_array_begin(&j, "v");
	json_i64(&j, NULL, -2);
	json_bool(&j, NULL, true);
	json_array_end(&j);
	json_array_begin(&j, "empty");
	json_array_end(&j);
	json_object_end(&j);
	fclose(f);
	assert_string_equal(out, "{\"a\":1,\"start\":\"0x7f0000001000\",\"rss\":null,"
				 "\"s\":\"x\",\"n\":null,"
				 "\"nan\":null,\"v\":[-2,true],\"empty\":[]}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ascii),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_valid_utf8_is_a_character),
		cmocka_unit_test(test_invalid_bytes_surrogateescape),
		cmocka_unit_test(test_output_is_ascii),
		cmocka_unit_test(test_members_and_commas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
