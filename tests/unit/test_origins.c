/*
 * test_origins.c - which traced stack mapped each live range, groups per
 * file, and the check against snapshot diffs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "memtop/growth.h"
#include "memtop/origins.h"
#include "memtop/traced.h"

static struct mt_tevent ev(int kind, uint64_t start, uint64_t len, long stack)
{
	return (struct mt_tevent){ .kind = (uint8_t)kind, .start = start, .len = len,
				   .stack = stack, .prot = -1, .fd = -1, .shared = -1 };
}

static void apply(struct mt_origins *o, int kind, uint64_t start, uint64_t len, long stack)
{
	struct mt_tevent e = ev(kind, start, len, stack);
	assert_int_equal(origins_apply(o, &e, NULL), 0);
}

static void test_map_unmap_split(void **state)
{
	struct mt_origins o;
	origins_init(&o);
	apply(&o, MT_TEV_MAP, 0x10000, 0x4000, 1);
	apply(&o, MT_TEV_MAP, 0x20000, 0x1000, 2);
	assert_int_equal(origins_stack_of(&o, 0x10000), 1);
	assert_int_equal(origins_stack_of(&o, 0x13fff), 1);
	assert_int_equal(origins_stack_of(&o, 0x14000), -1);
	assert_int_equal(origins_stack_of(&o, 0x20000), 2);
	/* An unmap in the middle splits the range. */
	apply(&o, MT_TEV_UNMAP, 0x11000, 0x1000, 9);
	assert_int_equal(o.n, 3);
	assert_int_equal(origins_stack_of(&o, 0x10fff), 1);
	assert_int_equal(origins_stack_of(&o, 0x11000), -1);
	assert_int_equal(origins_stack_of(&o, 0x12000), 1);
	/* A MAP_FIXED over both ranges claims what it covers. */
	apply(&o, MT_TEV_MAP, 0x13000, 0xe000, 3);
	assert_int_equal(origins_stack_of(&o, 0x12fff), 1);
	assert_int_equal(origins_stack_of(&o, 0x13000), 3);
	assert_int_equal(origins_stack_of(&o, 0x20000), 3);
	assert_int_equal(origins_stack_of(&o, 0x21000), -1);
	/* Unmapping everything leaves nothing. */
	apply(&o, MT_TEV_UNMAP, 0, 0x100000, 9);
	assert_int_equal(o.n, 0);
	origins_free(&o);
}

static void add_region(struct mt_snapshot *s, uint64_t start, uint64_t end, uint64_t inode,
		       enum mt_category cat)
{
	struct mt_region *r = snapshot_add_region(s);
	assert_non_null(r);
	r->start = start;
	r->end = end;
	r->inode = inode;
	r->dev_major = inode ? 8 : 0;
	r->dev_minor = inode ? 1 : 0;
	r->category = cat;
	r->path = inode ? snapshot_intern(s, "/data/f", 7) : "";
	r->path_len = inode ? 7 : 0;
}

static void test_groups_by_file_and_stack(void **state)
{
	struct mt_origins o;
	struct mt_snapshot s;
	struct mt_origin_groups g = { 0 };
	origins_init(&o);
	snapshot_init(&s);
	add_region(&s, 0x10000, 0x20000, 42, MT_CAT_FILE);  /* before tracing */
	add_region(&s, 0x20000, 0x30000, 42, MT_CAT_FILE);  /* stack 5 */
	add_region(&s, 0x30000, 0x40000, 42, MT_CAT_FILE);  /* stack 5 */
	add_region(&s, 0x40000, 0x48000, 42, MT_CAT_FILE);  /* stack 6 */
	add_region(&s, 0x50000, 0x51000, 0, MT_CAT_ANON);   /* stack 6 */
	add_region(&s, 0x60000, 0x61000, 0, MT_CAT_HEAP);   /* an arena, before */
	struct mt_region *named = snapshot_add_region(&s);  /* [heap]: not grouped */
	assert_non_null(named);
	*named = (struct mt_region){ .start = 0x70000, .end = 0x80000, .category = MT_CAT_HEAP,
				     .path = "[heap]", .path_len = 6 };
	apply(&o, MT_TEV_MAP, 0x20000, 0x20000, 5);
	apply(&o, MT_TEV_MAP, 0x40000, 0x8000, 6);
	apply(&o, MT_TEV_MAP, 0x50000, 0x1000, 6);
	assert_int_equal(origins_group(&o, &s, &g), 0);

	size_t first, n = origins_groups_find(&g, 8, 1, 42, &first);
	assert_int_equal(n, 3);
	/* Largest bytes first: stack 5 (2 x 64 KiB), before tracing (64 KiB),
	 * stack 6 (32 KiB). */
	assert_int_equal(g.v[first].stack, 5);
	assert_int_equal(g.v[first].count, 2);
	assert_int_equal(g.v[first].bytes, 0x20000);
	assert_int_equal(g.v[first + 1].stack, -1);
	assert_int_equal(g.v[first + 2].stack, 6);
	assert_int_equal(g.v[first + 2].bytes, 0x8000);
	n = origins_groups_find(&g, 0, 0, 0, &first);
	assert_int_equal(n, 2);
	assert_true(g.v[first].stack == 6 || g.v[first + 1].stack == 6);
	assert_int_equal(g.v[first].bytes + g.v[first + 1].bytes, 0x2000);
	assert_int_equal(origins_groups_find(&g, 8, 1, 43, &first), 0);
	origins_groups_free(&g);
	origins_free(&o);
	snapshot_free(&s);
}

static void test_shmat_size_from_snapshot(void **state)
{
	struct mt_origins o;
	struct mt_snapshot s;
	origins_init(&o);
	snapshot_init(&s);
	add_region(&s, 0x70000, 0x90000, 7, MT_CAT_SHARED);
	struct mt_tevent e = ev(MT_TEV_MAP, 0x70000, 0, 4);
	assert_int_equal(origins_apply(&o, &e, &s), 0);
	assert_int_equal(origins_stack_of(&o, 0x8ffff), 4);
	assert_int_equal(origins_stack_of(&o, 0x90000), -1);
	origins_free(&o);
	snapshot_free(&s);
}

static void test_explains_diff_events(void **state)
{
	struct mt_traced t;
	traced_init(&t);
	t.on = true;
	struct mt_tevent e = ev(MT_TEV_MAP, 0x10000, 0x10000, 0);
	assert_int_equal(origins_events_push(&t.events, &e), 0);
	struct mt_event diff = { .kind = MT_EV_MAP, .start = 0x18000, .end = 0x30000 };
	assert_true(traced_explains(&t, &diff));
	diff.kind = MT_EV_UNMAP;
	assert_false(traced_explains(&t, &diff));
	diff.kind = MT_EV_MAP;
	diff.start = 0x20000;
	assert_false(traced_explains(&t, &diff));
	/* The refresh before still counts: a diff may straddle the hand-off. */
	traced_next(&t);
	diff.start = 0x10000;
	assert_true(traced_explains(&t, &diff));
	traced_next(&t);
	assert_false(traced_explains(&t, &diff));
	traced_free(&t);
}

static void test_stack_build_copies_names(void **state)
{
	char sym[16] = "leak", mod[16] = "/bin/x";
	struct mt_frame fr[2] = {
		{ .ip = 1, .symbol = sym, .module = mod, .inlined = true },
		{ .ip = 1, .symbol = "main", .module = mod, .offset = 7 },
	};
	struct mt_stack st;
	struct mt_stacks tab;
	origins_stacks_init(&tab);
	assert_int_equal(origins_stack_build(&st, fr, 2), 0);
	strcpy(sym, "XXXX");
	strcpy(mod, "YYYY");
	assert_string_equal(st.frames[0].symbol, "leak");
	assert_string_equal(st.frames[1].module, "/bin/x");
	assert_true(st.frames[0].inlined);
	assert_int_equal(st.frames[1].offset, 7);
	assert_int_equal(origins_stacks_add(&tab, &st), 0);
	assert_int_equal(tab.n, 1);
	assert_null(st.frames);
	origins_stacks_free(&tab);
}

/* tracer_take's hand-over: when an append fails, the stacks not yet
 * handed over are freed (ASan's leak check sees the rest). */
static void test_stacks_move_frees_rest_on_failure(void **state)
{
	struct mt_frame fr = { .ip = 1, .symbol = "f", .module = "/bin/x" };
	struct mt_stacks src, ok, full;
	origins_stacks_init(&src);
	origins_stacks_init(&ok);
	for (int i = 0; i < 3; i++) {
		struct mt_stack st;
		assert_int_equal(origins_stack_build(&st, &fr, 1), 0);
		assert_int_equal(origins_stacks_add(&src, &st), 0);
	}
	assert_int_equal(origins_stacks_move(&ok, &src), 0);
	assert_int_equal(ok.n, 3);
	assert_int_equal(src.n, 0);
	for (int i = 0; i < 3; i++) {
		struct mt_stack st;
		assert_int_equal(origins_stack_build(&st, &fr, 1), 0);
		assert_int_equal(origins_stacks_add(&src, &st), 0);
	}
	/* Full, and too large to grow: the first append fails without allocating. */
	origins_stacks_init(&full);
	full.n = full.cap = SIZE_MAX / sizeof(*full.v);
	assert_int_equal(origins_stacks_move(&full, &src), -ENOMEM);
	assert_int_equal(src.n, 0);
	for (int i = 0; i < 3; i++) {
		assert_null(src.v[i].frames);
		assert_null(src.v[i].strings);
	}
	origins_stacks_free(&src);
	origins_stacks_free(&ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_unmap_split),
		cmocka_unit_test(test_groups_by_file_and_stack),
		cmocka_unit_test(test_shmat_size_from_snapshot),
		cmocka_unit_test(test_explains_diff_events),
		cmocka_unit_test(test_stack_build_copies_names),
		cmocka_unit_test(test_stacks_move_frees_rest_on_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
