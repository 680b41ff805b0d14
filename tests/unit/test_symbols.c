/*
 * test_symbols.c - the sorted symbol table, demangling, modules of a live
 * snapshot (this very process), the cache by build id, and C++ class
 * names from _ZTV symbols and from RTTI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <cmocka.h>

#include "memtop/pages.h"
#include "memtop/classify.h"
#include "memtop/proc.h"
#include "memtop/scan.h"
#include "memtop/symbols.h"

static void test_table_lookup(void **state)
{
	(void)state;
	struct symbols_table t;
	memset(&t, 0, sizeof(t));
	/* Added out of order; "outer" covers "inner" and "tail". */
	assert_int_equal(symbols_table_add(&t, 0x3000, 0x100, STT_OBJECT, "c"), 0);
	assert_int_equal(symbols_table_add(&t, 0x1000, 0x1000, STT_OBJECT, "outer"), 0);
	assert_int_equal(symbols_table_add(&t, 0x1100, 0x10, STT_OBJECT, "inner"), 0);
	assert_int_equal(symbols_table_add(&t, 0x2800, 0, STT_FUNC, "label"), 0);
	assert_int_equal(symbols_table_add(&t, 0x1f00, 0x80, STT_OBJECT, "tail"), 0);
	symbols_table_finish(&t);
	struct {
		uint64_t a;
		const char *want;
	} cases[] = {
		{ 0xfff, NULL },     { 0x1000, "outer" }, { 0x10ff, "outer" },
		{ 0x1100, "inner" }, { 0x110f, "inner" }, { 0x1110, "outer" },
		{ 0x1f00, "tail" },  { 0x1f7f, "tail" },  { 0x1f80, "outer" },
		{ 0x1fff, "outer" }, { 0x2000, NULL },    { 0x2800, "label" },
		{ 0x2801, NULL },    { 0x3000, "c" },     { 0x30ff, "c" },
		{ 0x3100, NULL },    { UINT64_MAX, NULL }, { 0, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct symbols_sym *s = symbols_table_lookup(&t, cases[i].a);
		if (!cases[i].want) {
			assert_null(s);
		} else {
			assert_non_null(s);
			assert_string_equal(symbols_name(&t, s), cases[i].want);
		}
	}
	symbols_table_free(&t);
	/* An empty table finds nothing. */
	assert_null(symbols_table_lookup(&t, 0x1000));
}

/* Lots of symbols: binary search against a linear scan. */
static void test_table_many(void **state)
{
	(void)state;
	struct symbols_table t;
	memset(&t, 0, sizeof(t));
	enum { N = 20000 };
	srand(3);
	uint64_t *addr = malloc(N * sizeof(*addr)), *size = malloc(N * sizeof(*size));
	for (size_t i = 0; i < N; i++) {
		addr[i] = 0x10000 + 64 * i;
		size[i] = (uint64_t)(rand() % 48);
		char name[32];
		snprintf(name, sizeof(name), "s%zu", i);
		assert_int_equal(symbols_table_add(&t, addr[i], size[i], STT_OBJECT, name), 0);
	}
	symbols_table_finish(&t);
	for (int k = 0; k < 50000; k++) {
		uint64_t a = 0x10000 + (uint64_t)(rand() % (64 * N + 64));
		long want = -1;
		size_t i = (a - 0x10000) / 64;
		if (i < N && (a == addr[i] || a - addr[i] < size[i]))
			want = (long)i;
		const struct symbols_sym *s = symbols_table_lookup(&t, a);
		if (want < 0) {
			assert_null(s);
		} else {
			char name[32];
			snprintf(name, sizeof(name), "s%ld", want);
			assert_non_null(s);
			assert_string_equal(symbols_name(&t, s), name);
		}
	}
	free(addr);
	free(size);
	symbols_table_free(&t);
}

static void test_demangle(void **state)
{
	(void)state;
	char out[256];
	assert_true(symbols_demangle("_ZN3foo3barEv", out, sizeof(out)));
	assert_string_equal(out, "foo::bar()");
	assert_true(symbols_demangle("_ZTVN3mmf13MMFSerializerE", out, sizeof(out)));
	assert_string_equal(out, "vtable for mmf::MMFSerializer");
	assert_false(symbols_demangle("g_table", out, sizeof(out)));
	assert_string_equal(out, "g_table");
	assert_false(symbols_demangle("_Zgarbage", out, sizeof(out)));
	assert_string_equal(out, "_Zgarbage");
}

/* ---- against this process -------------------------------------------------- */

void *volatile g_symbols_test_global = (void *)1;

/* libstdc++'s vtables, linked in through memtop_analysis. */
extern char _ZTVSt9exception[];
extern char _ZTVN10__cxxabiv117__class_type_infoE[];

/* A hand-made vtable + typeinfo, as g++ lays them out for a class
 * without a _ZTV symbol in sight (a stripped binary). */
static const char name_communicator[] = "12Communicator";
static const char name_malformed[] = "13Communicator"; /* length off by one */
static const char name_nested[] = "N3mmf13MMFSerializerE";
static const void *fake_ti[2];
static const void *fake_ti2[2];
static const void *fake_vt[4];
static const void *fake_vt2[4];
static const void *bad_ti[2];
static const void *bad_vt[4];
static const void *bad_ti2[2];
static const void *bad_vt2[4];

struct self {
	struct mt_proc *p;
	struct mt_snapshot s;
	struct symbols_cache cache;
	struct symbols_map map;
	struct pages rd;
};

static int setup_self(void **state)
{
	struct self *x = calloc(1, sizeof(*x));
	struct mt_error err;
	fake_ti[0] = _ZTVN10__cxxabiv117__class_type_infoE + 16;
	fake_ti[1] = name_communicator;
	fake_vt[1] = fake_ti;
	fake_ti2[0] = _ZTVN10__cxxabiv117__class_type_infoE + 16;
	fake_ti2[1] = name_nested;
	fake_vt2[1] = fake_ti2;
	/* A "typeinfo" whose vtable is no typeinfo vtable. */
	bad_ti[0] = (const void *)&g_symbols_test_global;
	bad_ti[1] = name_communicator;
	bad_vt[1] = bad_ti;
	bad_ti2[0] = _ZTVN10__cxxabiv117__class_type_infoE + 16;
	bad_ti2[1] = name_malformed;
	bad_vt2[1] = bad_ti2;
	if (proc_open(&x->p, getpid(), &err) < 0)
		return -1;
	snapshot_init(&x->s);
	if (proc_read(x->p, &x->s, PROC_READ_RSS_NEVER, &err) < 0)
		return -1;
	classify_run(&x->s);
	symbols_cache_init(&x->cache);
	if (symbols_map_build(&x->map, &x->cache, &x->s, getpid()) < 0)
		return -1;
	if (pages_open(&x->rd, getpid(), &x->s) < 0)
		return -1;
	*state = x;
	return 0;
}

static int teardown_self(void **state)
{
	struct self *x = *state;
	symbols_map_free(&x->map);
	symbols_cache_free(&x->cache);
	snapshot_free(&x->s);
	proc_close(x->p);
	pages_close(&x->rd);
	free(x);
	return 0;
}

static void test_self_lookup(void **state)
{
	struct self *x = *state;
	assert_true(x->map.n >= 2);
	struct symbols_hit hit;
	uint64_t a = (uint64_t)(uintptr_t)&g_symbols_test_global;
	assert_true(symbols_lookup(&x->map, a, &hit));
	assert_string_equal(hit.name, "g_symbols_test_global");
	assert_true(hit.start == a);
	assert_true(hit.offset == 0);
	assert_non_null(strstr(hit.module->path, "test_symbols"));
	/* A function, mid-way. */
	uint64_t f = (uint64_t)(uintptr_t)&test_demangle + 4;
	assert_true(symbols_lookup(&x->map, f, &hit));
	assert_string_equal(hit.name, "test_demangle");
	assert_true(hit.offset == 4);
	/* A copy relocation: libc's variable, copied into this executable. */
	a = (uint64_t)(uintptr_t)&stdout;
	assert_true(symbols_lookup(&x->map, a, &hit));
	assert_string_equal(hit.name, "stdout");
	/* libc's own data, through its module and bias. */
	a = (uint64_t)(uintptr_t)stdout + 8;
	assert_true(symbols_lookup(&x->map, a, &hit));
	assert_string_equal(hit.name, "_IO_2_1_stdout_");
	assert_true(hit.offset == 8);
	assert_non_null(strstr(hit.module->path, "libc"));
	/* Heap memory belongs to no module. */
	void *m = malloc(64);
	assert_null(symbols_module_of(&x->map, (uint64_t)(uintptr_t)m));
	free(m);
}

static void test_self_classes(void **state)
{
	struct self *x = *state;
	char out[256];
	/* From the _ZTV symbol. */
	uint64_t vptr = (uint64_t)(uintptr_t)(_ZTVSt9exception + 16);
	assert_true(symbols_class_of(&x->map, &x->s, vptr, pages_read_cb, &x->rd, out,
				     sizeof(out)));
	assert_string_equal(out, "std::exception");
	/* From RTTI. */
	vptr = (uint64_t)(uintptr_t)&fake_vt[2];
	assert_true(symbols_class_of(&x->map, &x->s, vptr, pages_read_cb, &x->rd, out,
				     sizeof(out)));
	assert_string_equal(out, "Communicator");
	vptr = (uint64_t)(uintptr_t)&fake_vt2[2];
	assert_true(symbols_class_of(&x->map, &x->s, vptr, pages_read_cb, &x->rd, out,
				     sizeof(out)));
	assert_string_equal(out, "mmf::MMFSerializer");
	/* Not classes: a typeinfo with a wrong vtable, code, the heap, odd. */
	vptr = (uint64_t)(uintptr_t)&bad_vt[2];
	assert_false(symbols_class_of(&x->map, &x->s, vptr, pages_read_cb, &x->rd, out,
				      sizeof(out)));
	vptr = (uint64_t)(uintptr_t)&bad_vt2[2];
	assert_false(symbols_class_of(&x->map, &x->s, vptr, pages_read_cb, &x->rd, out,
				      sizeof(out)));
	vptr = (uint64_t)(uintptr_t)&test_demangle;
	assert_false(symbols_class_of(&x->map, &x->s, vptr & ~7ULL, pages_read_cb, &x->rd, out,
				      sizeof(out)));
	void *m = calloc(1, 64);
	assert_false(symbols_class_of(&x->map, &x->s, (uint64_t)(uintptr_t)m + 16, pages_read_cb,
				      &x->rd, out, sizeof(out)));
	free(m);
	assert_false(symbols_class_of(&x->map, &x->s, (uint64_t)(uintptr_t)&fake_vt[2] + 1,
				      pages_read_cb, &x->rd, out, sizeof(out)));
}

static void test_cache(void **state)
{
	struct self *x = *state;
	unsigned long loads = x->cache.loads;
	size_t tables = x->cache.n;
	assert_true(loads >= 2);
	/* A second build reuses every table. */
	struct symbols_map m2;
	memset(&m2, 0, sizeof(m2));
	assert_int_equal(symbols_map_build(&m2, &x->cache, &x->s, getpid()), 0);
	assert_true(x->cache.loads == loads);
	assert_true(x->cache.hits >= tables);
	assert_int_equal(x->cache.n, tables);
	/* A library gone from the snapshot drops out of the cache. */
	struct mt_snapshot s2;
	snapshot_init(&s2);
	assert_int_equal(snapshot_copy(&s2, &x->s), 0);
	size_t k = 0;
	for (size_t i = 0; i < s2.n_regions; i++)
		if (!strstr(s2.regions[i].path, "libstdc++"))
			s2.regions[k++] = s2.regions[i];
	assert_true(k < s2.n_regions);
	s2.n_regions = k;
	assert_int_equal(symbols_map_build(&m2, &x->cache, &s2, getpid()), 0);
	assert_int_equal(x->cache.n, tables - 1);
	for (size_t i = 0; i < m2.n; i++)
		assert_null(strstr(m2.v[i].path, "libstdc++"));
	symbols_map_free(&m2);
	snapshot_free(&s2);
	/* Rebuild the original map for the other tests. */
	assert_int_equal(symbols_map_build(&x->map, &x->cache, &x->s, getpid()), 0);
	assert_int_equal(x->cache.n, tables);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_lookup),
		cmocka_unit_test(test_table_many),
		cmocka_unit_test(test_demangle),
	};
	const struct CMUnitTest self_tests[] = {
		cmocka_unit_test(test_self_lookup),
		cmocka_unit_test(test_self_classes),
		cmocka_unit_test(test_cache),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	return rc | cmocka_run_group_tests(self_tests, setup_self, teardown_self);
}
