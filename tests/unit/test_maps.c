/*
 * test_maps.c - the maps/smaps parser on fixtures in tests/data/maps/.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtop/maps.h"

static char *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/maps/%s", MT_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void assert_sorted(const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		assert_true(r->start < r->end);
		assert_int_equal(strlen(r->path), r->path_len);
		if (i)
			assert_true(s->regions[i - 1].end <= r->start);
	}
}

static void assert_name(const struct mt_region *r, const char *name, bool suffix)
{
	assert_int_equal(r->path_len, strlen(name));
	assert_memory_equal(r->path, name, r->path_len);
	assert_int_equal(r->deleted_suffix, suffix);
	assert_false(r->deleted); /* the parser never decides that */
}

static void test_odd_names(void **state)
{
	size_t len, bad = 0;
	char *text = load("odd.maps", &len);
	struct mt_snapshot s;
	snapshot_init(&s);

	assert_int_equal(maps_parse(&s, text, len, &bad), 0);
	assert_int_equal(bad, 5); /* garbage, overlap, start >= end, perms, backwards */
	assert_int_equal(s.n_regions, 18);
	assert_sorted(&s);

	const struct mt_region *r = s.regions;
	assert_name(&r[0], "/usr/bin/my prog", false);
	assert_ptr_equal(r[0].path, r[1].path); /* interned once */
	assert_int_equal(r[0].start, 0x400000);
	assert_int_equal(r[0].end, 0x401000);
	assert_int_equal(r[0].perms, MT_PERM_R);
	assert_int_equal(r[1].perms, MT_PERM_R | MT_PERM_X);
	assert_int_equal(r[1].offset, 0x1000);
	assert_int_equal(r[0].dev_major, 0xfe);
	assert_int_equal(r[0].dev_minor, 0);
	assert_int_equal(r[0].inode, 1234);
	assert_name(&r[2], "/tmp/a\nb", false);
	assert_name(&r[3], "/tmp/gone", true);
	assert_name(&r[4], "/memfd:x", true);
	assert_name(&r[5], "/SYSV0000abcd", true);
	assert_name(&r[6], "/dev/zero", true);
	assert_int_equal(r[6].perms, MT_PERM_R | MT_PERM_W | MT_PERM_SHARED);
	assert_name(&r[7], "[anon:my name]", false);
	assert_name(&r[8], "[anon_shmem:shm name]", false);
	assert_name(&r[9], "", false);
	assert_true(mt_region_is_anonymous(&r[9]));
	assert_int_equal(r[9].perms, 0);
	assert_name(&r[10], "[vvar_vclock]", false);
	assert_name(&r[11], "[uprobes]", false);
	assert_name(&r[12], "[never seen before]", false);
	assert_name(&r[13], "/tmp/weird \x01\xff\t\\x bytes", false);
	assert_int_equal(r[14].path_len, 5 + 4200);
	assert_int_equal(r[14].path[4204], 'd');
	assert_name(&r[15], "/tmp/x (deleted)", true);
	assert_name(&r[16], "[stack]", false);
	assert_name(&r[17], "[vsyscall]", false); /* no trailing newline */
	assert_int_equal(r[17].start, 0xffffffffff600000ull);
	assert_int_equal(r[0].rss, MT_UNKNOWN);

	snapshot_free(&s);
	free(text);
}

/* Not something the kernel writes, but it must not crash or lie. */
static void test_crlf(void **state)
{
	size_t len, bad = 0;
	char *text = load("crlf.maps", &len);
	struct mt_snapshot s;
	snapshot_init(&s);
	assert_int_equal(maps_parse(&s, text, len, &bad), 0);
	assert_int_equal(s.n_regions + bad, 3);
	assert_sorted(&s);
	snapshot_free(&s);
	free(text);
}

static void test_inline_cases(void **state)
{
	static const char text[] =
		"1000-2000 rw-p 00000000 00:00 0\n"            /* no padding at all */
		"2000-3000 rw-p 0 0:0 0  \n"                   /* short fields */
		"3000-4000 rw-p 00000000 00:00 0 [heap]\n"
		"4000-5000 rw-p 00000000 00:00 18446744073709551615 x\n"
		"5000-6000 rw-p 00000000 00:00 18446744073709551616 x\n" /* overflow */
		"10000000000000000-10000000000000001 rw-p 0 0:0 0\n"    /* overflow */
		"6000-7000 rw-p 00000000 00:00 0\\012 x\n"     /* inode then junk */
		"7000-8000 rw-p 00000000 00:00 0 \\01\n"       /* truncated escape */
		"8000-9000 rw-p 00000000 00:00 0 a\\012\\012\n"
		"9000-a000 rw-p 00000000 00:00 0 /a (deleted)\\012 (deleted)\n";
	struct mt_snapshot s;
	size_t bad = 0;
	snapshot_init(&s);
	assert_int_equal(maps_parse(&s, text, sizeof(text) - 1, &bad), 0);
	assert_int_equal(bad, 3);
	assert_int_equal(s.n_regions, 7);
	assert_sorted(&s);
	assert_string_equal(s.regions[0].path, "");
	assert_string_equal(s.regions[1].path, "");
	assert_string_equal(s.regions[2].path, "[heap]");
	assert_int_equal(s.regions[3].inode, UINT64_MAX);
	assert_string_equal(s.regions[4].path, "\\01");
	assert_string_equal(s.regions[5].path, "a\n\n");
	assert_string_equal(s.regions[6].path, "/a (deleted)\n");
	assert_true(s.regions[6].deleted_suffix);
	snapshot_free(&s);
}

static void test_smaps_match(void **state)
{
	static const char maps[] =
		"10000-20000 rw-p 00000000 00:00 0\n"
		"20000-30000 rw-p 00000000 00:00 0\n" /* not in smaps */
		"50000-60000 rw-p 00000000 00:00 0\n";
	size_t len;
	char *text = load("basic.smaps", &len);
	struct mt_snapshot s;
	snapshot_init(&s);
	assert_int_equal(maps_parse(&s, maps, sizeof(maps) - 1, NULL), 0);
	assert_int_equal(maps_parse_smaps(&s, text, len), 2);
	assert_true(s.have_rss);

	const struct mt_region *r = s.regions;
	assert_int_equal(r[0].rss, 40 * 1024);
	assert_int_equal(r[0].pss, 20 * 1024);
	assert_int_equal(r[0].shared_dirty, 3 * 1024);
	assert_int_equal(r[0].private_dirty, 5 * 1024);
	assert_int_equal(r[0].anon_huge, 2048 * 1024);
	assert_int_equal(r[0].swap, 7 * 1024); /* not SwapPss */
	assert_int_equal(r[0].locked, 11 * 1024);
	assert_int_equal(r[1].rss, MT_UNKNOWN);
	assert_int_equal(r[2].rss, 12 * 1024);
	assert_int_equal(r[2].pss, 6 * 1024);
	snapshot_free(&s);
	free(text);
}

static void test_smaps_all(void **state)
{
	size_t len, bad = 0;
	char *text = load("basic.smaps", &len);
	struct mt_snapshot s;
	snapshot_init(&s);
	assert_int_equal(maps_parse_all(&s, text, len, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(s.n_regions, 3);
	assert_true(s.have_rss);
	assert_int_equal(s.regions[1].start, 0x30000);
	assert_int_equal(s.regions[1].rss, 8 * 1024);
	assert_int_equal(s.regions[1].locked, 11 * 1024);

	/* maps_parse on smaps text: attribute lines are not regions. */
	snapshot_reset(&s);
	bad = 0;
	assert_int_equal(maps_parse(&s, text, len, &bad), 0);
	assert_int_equal(s.n_regions, 3);
	assert_int_equal(bad, 3 * 18);
	assert_int_equal(s.regions[0].rss, MT_UNKNOWN);
	snapshot_free(&s);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odd_names),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_inline_cases),
		cmocka_unit_test(test_smaps_match),
		cmocka_unit_test(test_smaps_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
