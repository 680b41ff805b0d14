/*
 * test_model.c - one refresh end to end: summaries per category, type and
 * protection, their deltas and rates, and the wiring of gaps, headroom and
 * growth, on tests/data/model/process.maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "memtop/model.h"
#include "model_fixture.h"

#define PROT_R (MT_PERM_R)
#define PROT_RW (MT_PERM_R | MT_PERM_W)
#define PROT_NONE_P 0

static void assert_stat(const struct mt_stat *st, uint64_t regions, uint64_t virt)
{
	assert_int_equal(st->regions, regions);
	assert_int_equal(st->virt, virt);
}

static void load(struct mt_snapshot *s, double mono)
{
	const int tids[] = { FIXTURE_PID, 1001, 1002 };
	const uint64_t sps[] = { 0x7fffffffe000, 0x7ff7d08ff000, 0 };
	fixture_file(s, "process.maps", mono);
	fixture_threads(s, 3, tids, sps);
}

/* One minute later: [heap] grew by 128 KiB, one 256 KiB view of big.db
 * went away, and smaps was read (8 KiB resident per region). */
static void later(struct mt_snapshot *b, const struct mt_snapshot *a)
{
	snapshot_init(b);
	assert_int_equal(snapshot_copy(b, a), 0);
	b->mono = a->mono + 60;
	b->time = a->time + 60;
	b->regions[fixture_at(b, 0x555555560000)].end += 0x20000;
	size_t v = fixture_at(b, 0x7ff7d2100000);
	memmove(&b->regions[v], &b->regions[v + 1],
		(b->n_regions - v - 1) * sizeof(b->regions[0]));
	b->n_regions--;
	b->have_rss = true;
	for (size_t i = 0; i < b->n_regions; i++)
		b->regions[i].rss = 8 * 1024;
}

static void test_first(void **state)
{
	struct mt_model m;
	struct mt_snapshot s;
	model_init(&m);
	load(&s, 100);
	assert_int_equal(model_update(&m, NULL, &s), 0);

	assert_int_equal(m.refreshes, 1);
	assert_float_equal(m.t0, 100, 0);
	assert_stat(&m.cats[MT_CAT_IMAGE], 23, 0x27f000);
	assert_stat(&m.cats[MT_CAT_HEAP], 6, 0xc021000);
	assert_stat(&m.cats[MT_CAT_STACK], 5, 0x1023000);
	assert_stat(&m.cats[MT_CAT_FILE], 7, 0x410000);
	assert_stat(&m.cats[MT_CAT_SHARED], 6, 0x340000);
	assert_stat(&m.cats[MT_CAT_ANON], 3, 0x210000);
	assert_stat(&m.cats[MT_CAT_RESERVED], 1, 0x10000000);
	/* [vdso], [vvar]: [vsyscall] is no mapping of the process. */
	assert_stat(&m.cats[MT_CAT_KERNEL], 2, 0x6000);
	assert_stat(&m.types[MT_TYPE_FILE], 30, 0x68f000);
	assert_stat(&m.types[MT_TYPE_SHARED], 6, 0x340000);
	assert_stat(&m.types[MT_TYPE_PRIVATE], 17, 0x1d25a000);
	assert_stat(&m.prots[PROT_R], 19, 0x4ac000);
	assert_stat(&m.prots[PROT_RW], 14, 0x12a7000);
	assert_stat(&m.prots[PROT_NONE_P], 8, 0x1bfc0000);
	assert_stat(&m.prots[PROT_RW | MT_PERM_SHARED], 7, 0x350000);
	assert_stat(&m.prots[MT_PERM_X], 0, 0);
	/* The total is what the kernel counts: map_count and VmSize. */
	assert_stat(&m.total, 53, 0x1dc2a000 - 0x1000);
	assert_int_equal(m.total.regions, m.headroom.map_count);
	assert_int_equal(m.total.virt, m.headroom.vsz);
	assert_int_equal(m.total.rss, MT_UNKNOWN);
	assert_int_equal(m.cats[MT_CAT_HEAP].rss, MT_UNKNOWN);
	assert_int_equal(m.total.delta_regions, 0);
	assert_float_equal(m.total.rate, 0, 0);

	assert_int_equal(m.gaps.n, 26);
	assert_int_equal(m.history.n, 1);
	assert_int_equal(m.headroom.map_count, 53);
	assert_int_equal(m.headroom.vsz, 0x1dc2a000 - 0x1000);
	assert_int_equal(m.headroom.largest_free, 0x555555544000);
	assert_int_equal(m.growth.n_files, 12); /* every backing with an inode */
	assert_int_equal(s.threads[1].stack_region, 13);

	model_free(&m);
	snapshot_free(&s);
}

static void test_deltas(void **state)
{
	struct mt_model m;
	struct mt_snapshot a, b;
	model_init(&m);
	load(&a, 100);
	assert_int_equal(model_update(&m, NULL, &a), 0);
	later(&b, &a);
	assert_int_equal(model_update(&m, &a, &b), 0);

	assert_int_equal(m.refreshes, 2);
	const struct mt_stat *heap = &m.cats[MT_CAT_HEAP];
	assert_stat(heap, 6, 0xc041000);
	assert_int_equal(heap->rss, 6 * 8 * 1024);
	assert_int_equal(heap->delta_regions, 0);
	assert_int_equal(heap->delta_virtual, 0x20000);
	assert_float_equal(heap->rate, 0x20000, 1e-6); /* per minute */

	const struct mt_stat *file = &m.cats[MT_CAT_FILE];
	assert_stat(file, 6, 0x3d0000);
	assert_int_equal(file->delta_regions, -1);
	assert_int_equal(file->delta_virtual, -0x40000);
	assert_int_equal(m.types[MT_TYPE_FILE].delta_virtual, -0x40000);
	assert_int_equal(m.types[MT_TYPE_PRIVATE].delta_virtual, 0x20000);
	assert_int_equal(m.prots[PROT_R].delta_regions, -1);
	assert_int_equal(m.prots[PROT_RW].delta_virtual, 0x20000);
	assert_int_equal(m.total.delta_regions, -1);
	assert_int_equal(m.total.delta_virtual, -0x20000);
	assert_float_equal(m.total.rate, -0x20000, 1e-6);
	assert_int_equal(m.total.rss, 52 * 8 * 1024);
	assert_int_equal(m.cats0[MT_CAT_FILE].regions, 7);

	assert_int_equal(m.history.n, 2);
	assert_int_equal(m.headroom.map_count, 52);
	assert_int_equal(m.growth.events.n, 2);
	assert_int_equal(m.growth.events.v[0].kind, MT_EV_MAP);
	assert_int_equal(m.growth.events.v[0].category, MT_CAT_HEAP);
	assert_int_equal(m.growth.events.v[1].kind, MT_EV_UNMAP);
	assert_int_equal(m.growth.events.v[1].start, 0x7ff7d2100000);
	assert_string_equal(m.growth.files[m.growth.n_files - 1].path, "/data/big.db");

	model_free(&m);
	snapshot_free(&a);
	snapshot_free(&b);
}

static void test_names(void **state)
{
	assert_string_equal(model_type_name(MT_TYPE_PRIVATE), "private");
	assert_string_equal(model_type_name(MT_TYPE_SHARED), "shared");
	assert_string_equal(model_type_name(MT_TYPE_FILE), "file");
	assert_string_equal(model_type_name(MT_TYPE_COUNT), "?");
	assert_int_equal(model_type_of(MT_CAT_IMAGE), MT_TYPE_FILE);
	assert_int_equal(model_type_of(MT_CAT_KERNEL), MT_TYPE_PRIVATE);
	assert_int_equal(model_type_of(MT_CAT_SHARED), MT_TYPE_SHARED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first),
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
