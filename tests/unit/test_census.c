/*
 * test_census.c - grouping a census by class and size, growth against a
 * baseline, and the allocators the census refuses.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "memtop/census.h"

static void add_chunk(struct census *c, uint64_t user, uint64_t chunk_size, uint32_t cls)
{
	c->chunks = realloc(c->chunks, (c->n_chunks + 1) * sizeof(*c->chunks));
	c->chunks[c->n_chunks++] = (struct census_chunk){ user, (uint32_t)(chunk_size / 16), cls };
}

static void add_name(struct census *c, const char *name)
{
	c->names = realloc(c->names, (c->n_names + 1) * sizeof(*c->names));
	c->names[c->n_names++] = strdup(name);
}

static const struct census_class *find(const struct census *c, const char *name, uint64_t size)
{
	for (size_t i = 0; i < c->n_classes; i++) {
		const struct census_class *k = &c->classes[i];
		if (name ? k->name && strcmp(k->name, name) == 0 : !k->name && k->size == size)
			return k;
	}
	return NULL;
}

/* A census: 3 Widgets (48-byte chunks), 1 Gadget, 5 unnamed 32-byte
 * chunks, 2 unnamed mmapped ones of 8 KiB. */
static void make(struct census *c, int widgets)
{
	census_init(c);
	add_name(c, "Widget");
	add_name(c, "ns::Gadget");
	add_name(c, "Unused");
	uint64_t a = 0x1000;
	for (int i = 0; i < widgets; i++, a += 48)
		add_chunk(c, a + 16, 48, 0);
	add_chunk(c, a + 16, 64, 1);
	a += 64;
	for (int i = 0; i < 5; i++, a += 32)
		add_chunk(c, a + 16, 32, CENSUS_UNNAMED);
	add_chunk(c, 0x700000000010, 8192, CENSUS_UNNAMED | CENSUS_MMAPPED);
	add_chunk(c, 0x700000002010, 8192, CENSUS_UNNAMED | CENSUS_MMAPPED);
}

static void test_classes(void **state)
{
	(void)state;
	struct census c;
	make(&c, 3);
	assert_int_equal(census_classes(&c), 0);
	assert_int_equal(c.n_classes, 4); /* "Unused" has no chunk: left out */
	const struct census_class *w = find(&c, "Widget", 0);
	assert_non_null(w);
	assert_int_equal(w->count, 3);
	assert_int_equal(w->bytes, 3 * 40); /* usable: chunk size - 8 */
	assert_int_equal(w->size, 0);
	const struct census_class *u = find(&c, NULL, 24);
	assert_non_null(u);
	assert_int_equal(u->count, 5);
	const struct census_class *mm = find(&c, NULL, 8192 - 16);
	assert_non_null(mm);
	assert_int_equal(mm->count, 2);
	assert_int_equal(mm->bytes, 2 * (8192 - 16));
	/* Largest bytes first. */
	assert_ptr_equal(&c.classes[0], mm);
	for (size_t i = 1; i < c.n_classes; i++)
		assert_true(c.classes[i - 1].bytes >= c.classes[i].bytes);
	assert_int_equal(census_find(&c, 0x1000 + 16), 0);
	assert_int_equal(census_find(&c, 0x1000 + 16 + 39), 0);
	assert_int_equal(census_find(&c, 0x1000 + 8), -1);
	assert_int_equal(census_find(&c, 0x700000000010 + 8000), 9);
	assert_ptr_equal(&c.classes[census_class_index(&c, "Widget", 0)], w);
	assert_ptr_equal(&c.classes[census_class_index(&c, NULL, 24)], u);
	assert_int_equal(census_class_index(&c, "Unused", 0), -1);
	assert_int_equal(census_class_index(&c, NULL, 25), -1);
	/* Named first, by name; unnamed by size. */
	assert_true(census_cmp_kind("A", 0, NULL, 1) < 0);
	assert_true(census_cmp_kind(NULL, 1, "A", 0) > 0);
	assert_true(census_cmp_kind("A", 0, "B", 0) < 0);
	assert_true(census_cmp_kind(NULL, 24, NULL, 8) > 0);
	assert_int_equal(census_cmp_kind(NULL, 24, NULL, 24), 0);
	census_free(&c);
}

static void test_delta(void **state)
{
	(void)state;
	struct census base, cur;
	make(&base, 3);
	make(&cur, 10);
	assert_int_equal(census_classes(&base), 0);
	assert_int_equal(census_classes(&cur), 0);
	census_delta(&base, NULL);
	for (size_t i = 0; i < base.n_classes; i++)
		assert_int_equal(base.classes[i].delta_count, 0);
	census_delta(&cur, &base);
	/* The class that grew comes first, whatever its size. */
	assert_string_equal(cur.classes[0].name, "Widget");
	assert_int_equal(cur.classes[0].delta_count, 7);
	assert_int_equal(cur.classes[0].delta_bytes, 7 * 40);
	const struct census_class *g = find(&cur, "ns::Gadget", 0);
	assert_int_equal(g->delta_count, 0);
	census_free(&base);
	census_free(&cur);
}

static void test_allocator(void **state)
{
	(void)state;
	struct mt_region r[2];
	memset(r, 0, sizeof(r));
	struct mt_snapshot s;
	memset(&s, 0, sizeof(s));
	s.regions = r;
	s.n_regions = 2;
	r[0].category = MT_CAT_IMAGE;
	r[0].path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	r[0].path_len = (uint32_t)strlen(r[0].path);
	r[1].category = MT_CAT_IMAGE;
	r[1].path = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
	r[1].path_len = (uint32_t)strlen(r[1].path);
	assert_null(census_allocator(&s));
	r[1].path = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
	assert_string_equal(census_allocator(&s), "jemalloc");
	r[1].path = "/usr/lib/libtcmalloc_minimal.so.4";
	assert_string_equal(census_allocator(&s), "tcmalloc");
	r[1].path = "/usr/lib/gcc/x86_64-linux-gnu/12/libasan.so.8";
	assert_string_equal(census_allocator(&s), "ASan");
	r[1].path = "/lib/ld-musl-x86_64.so.1";
	assert_string_equal(census_allocator(&s), "musl");
	/* A data file named like one is not a module. */
	r[1].category = MT_CAT_FILE;
	assert_null(census_allocator(&s));
}

/* Whose malloc: glibc's own modules never count; a function named
 * malloc in any other does, a variable of that name does not. */
static void test_malloc_owner(void **state)
{
	(void)state;
	struct symbols_table libc = { 0 }, exe = { 0 }, dbg = { 0 };
	assert_int_equal(symbols_table_add(&libc, 0x1000, 100, STT_FUNC, "malloc"), 0);
	assert_int_equal(symbols_table_add(&dbg, 0x1000, 100, STT_FUNC, "malloc"), 0);
	assert_int_equal(symbols_table_add(&exe, 0x2000, 10, STT_FUNC, "main"), 0);
	assert_int_equal(symbols_table_add(&exe, 0x3000, 8, STT_OBJECT, "malloc"), 0);
	symbols_table_finish(&libc);
	symbols_table_finish(&dbg);
	symbols_table_finish(&exe);
	struct symbols_module mods[] = {
		{ .path = "/srv/redis-server", .table = &exe },
		{ .path = "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0", .table = &dbg },
		{ .path = "/usr/lib/x86_64-linux-gnu/libc.so.6", .table = &libc },
		{ .path = "/usr/lib/unreadable.so", .table = NULL },
	};
	struct symbols_map m = { mods, 4, 4 };
	assert_null(census_malloc_owner(&m));
	assert_int_equal(symbols_table_add(&exe, 0x4000, 300, STT_FUNC, "malloc"), 0);
	symbols_table_finish(&exe);
	assert_string_equal(census_malloc_owner(&m), "/srv/redis-server");
	symbols_table_free(&libc);
	symbols_table_free(&dbg);
	symbols_table_free(&exe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_allocator),
		cmocka_unit_test(test_malloc_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
