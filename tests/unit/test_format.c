/*
 * test_format.c - human-readable sizes and durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memtop/format.h"

static void test_sizes(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(format_size(b, sizeof(b), 0), "0 B");
	assert_string_equal(format_size(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(format_size(b, sizeof(b), 4096), "4 KiB");
	assert_string_equal(format_size(b, sizeof(b), 256 * 1024), "256 KiB");
	assert_string_equal(format_size(b, sizeof(b), 1536ULL * 1024 * 1024), "1.5 GiB");
	assert_string_equal(format_size(b, sizeof(b), 1024 * 1024 - 1), "1.0 MiB");
	assert_string_equal(format_size(b, sizeof(b), 0x7ffffffff000ULL), "128 TiB");
	assert_string_equal(format_size(b, sizeof(b), UINT64_MAX), "16.0 EiB");
	/* In a column, one precision rule: one decimal below 100 of a unit,
	 * exact or not, so "3 MiB" never stands beside "4.2 MiB". */
	assert_string_equal(format_size_col(b, sizeof(b), 3u << 20), "3.0 MiB");
	assert_string_equal(format_size_col(b, sizeof(b), 4404019), "4.2 MiB");
	assert_string_equal(format_size_col(b, sizeof(b), 256 * 1024), "256 KiB");
	assert_string_equal(format_size_col(b, sizeof(b), 512), "512 B");
	assert_string_equal(format_delta_size_col(b, sizeof(b), -(4 << 10)), "-4.0 KiB");
}

static void test_deltas(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(format_delta_size(b, sizeof(b), 0), "0");
	assert_string_equal(format_delta_size(b, sizeof(b), 8 * 256 * 1024), "+2 MiB");
	assert_string_equal(format_delta_size(b, sizeof(b), -4096), "-4 KiB");
	assert_string_equal(format_delta_size(b, sizeof(b), INT64_MIN), "-8 EiB");
}

static void test_durations(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(format_duration(b, sizeof(b), -1), "-");
	assert_string_equal(format_duration(b, sizeof(b), 45), "45s");
	assert_string_equal(format_duration(b, sizeof(b), 725), "12m05s");
	assert_string_equal(format_duration(b, sizeof(b), 3 * 3600 + 12 * 60), "3h12m");
	assert_string_equal(format_duration(b, sizeof(b), 4 * 86400 + 7 * 3600), "4d07h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
