/*
 * test_gaps.c - free space of the user address space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "memtop/gaps.h"
#include "memtop/headroom.h"
#include "model_fixture.h"

static void assert_gap(const struct mt_gaps *g, size_t i, uint64_t start, uint64_t end)
{
	assert_true(i < g->n);
	assert_int_equal(g->v[i].start, start);
	assert_int_equal(g->v[i].end, end);
}

static void test_small(void **state)
{
	struct mt_snapshot s;
	struct mt_gaps g = { .largest = -1 };
	fixture_file(&s, "small.maps", 1);
	assert_int_equal(gaps_user_limit(&s), MT_X86_64_USER_LIMIT);
	assert_int_equal(gaps_compute(&g, &s), 0);

	assert_int_equal(g.low, 0x10000);
	assert_int_equal(g.high, 0x7ffffffff000);
	assert_int_equal(g.n, 3);
	assert_gap(&g, 0, 0x10000, 0x400000);
	assert_gap(&g, 1, 0x401000, 0x600000);
	/* [stack] ends at the limit: no gap above it; [vsyscall] ignored */
	assert_gap(&g, 2, 0x601000, 0x7ffffffde000);
	assert_int_equal(g.total, 0x3f0000 + 0x1ff000 + 0x7fffff9dd000);
	assert_int_equal(g.largest, 2);
	assert_int_equal(gaps_largest_size(&g), 0x7fffff9dd000);

	/* Recomputing reuses the buffer and gives the same answer. */
	assert_int_equal(gaps_compute(&g, &s), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.total, 0x7ffffffcc000);
	gaps_free(&g);
	snapshot_free(&s);
}

/* mmap_min_addr 0 still leaves page 0 out; a mapping below the floor
 * (root may map there) only moves the first gap up. */
static void test_low_floor(void **state)
{
	struct mt_snapshot s;
	struct mt_gaps g = { .largest = -1 };
	fixture_text(&s,
		"00000000-00003000 rw-p 00000000 00:00 0\n"
		"00005000-00006000 rw-p 00000000 00:00 0\n"
		"7ffffff00000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n", 1);
	s.mmap_min_addr = 0;
	assert_int_equal(gaps_compute(&g, &s), 0);
	assert_int_equal(g.low, 0x1000);
	assert_int_equal(g.n, 2);
	assert_gap(&g, 0, 0x3000, 0x5000);
	assert_gap(&g, 1, 0x6000, 0x7ffffff00000);
	assert_int_equal(g.largest, 1);
	gaps_free(&g);
	snapshot_free(&s);
}

static void test_five_level(void **state)
{
	struct mt_snapshot s;
	struct mt_gaps g = { .largest = -1 };
	fixture_file(&s, "fivelevel.maps", 1);
	assert_int_equal(gaps_user_limit(&s), MT_X86_64_USER_LIMIT_5LVL);
	assert_int_equal(gaps_compute(&g, &s), 0);
	assert_int_equal(g.n, 4);
	assert_gap(&g, 0, 0x10000, 0x400000);
	assert_gap(&g, 1, 0x401000, 0x7ffffffde000);
	assert_gap(&g, 2, 0x7ffffffff000, 0x800000000000);
	assert_gap(&g, 3, 0x800000200000, 0xfffffffffff000);
	assert_int_equal(g.largest, 3);
	assert_int_equal(gaps_largest_size(&g), 0xff7fffffdff000);
	assert_int_equal(g.total, 0xffffffffdcd000);
	gaps_free(&g);
	snapshot_free(&s);
}

/* The free space and the mapped size add up to the whole range. */
static void test_process(void **state)
{
	struct mt_snapshot s;
	struct mt_gaps g = { .largest = -1 };
	fixture_file(&s, "process.maps", 1);
	assert_int_equal(gaps_compute(&g, &s), 0);
	assert_int_equal(g.n, 26);
	assert_int_equal(g.total, 0x7fffe23c6000);
	assert_gap(&g, 0, 0x10000, 0x555555554000);
	assert_int_equal(g.largest, 0);

	uint64_t maps, vsz;
	headroom_measure(&s, &maps, &vsz);
	assert_int_equal(maps, s.n_regions - 1); /* without [vsyscall] */
	assert_int_equal(g.total + vsz, g.high - g.low);
	for (size_t i = 1; i < g.n; i++)
		assert_true(g.v[i - 1].end < g.v[i].start);
	gaps_free(&g);
	snapshot_free(&s);
}

static void test_empty(void **state)
{
	struct mt_snapshot s;
	struct mt_gaps g = { .largest = -1 };
	snapshot_init(&s);
	assert_int_equal(gaps_compute(&g, &s), 0);
	assert_int_equal(g.n, 1);
	assert_gap(&g, 0, 0x1000, MT_X86_64_USER_LIMIT);
	gaps_free(&g);
	assert_int_equal(gaps_largest_size(&g), 0);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_low_floor),
		cmocka_unit_test(test_five_level),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
