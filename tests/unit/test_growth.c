/*
 * test_growth.c - growth per file and per size, map/unmap events and the
 * age of regions, over the snapshots tests/data/model/growth[012].maps:
 *
 *   0 (t=100)  the baseline
 *   1 (t=160)  3 more 256 KiB views of big.db, [heap] grown by 128 KiB,
 *              an mprotect split, a new 1 MiB anon chunk, old.idx
 *              unmapped, libfoo.so loaded
 *   2 (t=220)  the leak fixed: big.db back to one view, [heap] shrunk,
 *              the split merged back, libfoo.so unloaded
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "memtop/classify.h"
#include "memtop/growth.h"
#include "model_fixture.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)

struct env {
	struct mt_snapshot s[3];
	struct mt_growth g;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	const char *names[] = { "growth0.maps", "growth1.maps", "growth2.maps" };
	for (int i = 0; i < 3; i++) {
		fixture_file(&e->s[i], names[i], 100 + 60 * i);
		classify_run(&e->s[i]);
	}
	growth_init(&e->g);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	growth_free(&e->g);
	for (int i = 0; i < 3; i++)
		snapshot_free(&e->s[i]);
	free(e);
	return 0;
}

static const struct mt_file *file(const struct mt_growth *g, const char *path)
{
	for (size_t i = 0; i < g->n_files; i++)
		if (strcmp(g->files[i].path, path) == 0)
			return &g->files[i];
	fail_msg("%s not listed", path);
	return NULL;
}

static void assert_bucket(const struct mt_buckets *b, size_t i, uint64_t size,
			  uint32_t count, int32_t delta)
{
	assert_true(i < b->n);
	assert_int_equal(b->v[i].size, size);
	assert_int_equal(b->v[i].count, count);
	assert_int_equal(b->v[i].delta, delta);
}

static void assert_event(const struct mt_event *ev, enum mt_event_kind kind,
			 uint64_t start, uint64_t end, enum mt_category cat,
			 const char *path, double time)
{
	assert_int_equal(ev->kind, kind);
	assert_int_equal(ev->start, start);
	assert_int_equal(ev->end, end);
	assert_int_equal(ev->category, cat);
	assert_string_equal(ev->path, path);
	assert_float_equal(ev->time, time, 0);
}

static void test_baseline(void **state)
{
	struct env *e = *state;
	assert_int_equal(growth_update(&e->g, NULL, &e->s[0]), 0);
	assert_float_equal(e->g.t0, 100, 0);
	assert_false(e->g.have_prev);
	assert_int_equal(e->g.events.n, 0);
	assert_int_equal(e->g.n_files, 4);

	const struct mt_file *db = file(&e->g, "/data/big.db");
	assert_true(db->present);
	assert_int_equal(db->regions, 3);
	assert_int_equal(db->virt, 2 * 256 * KiB + MiB);
	assert_int_equal(db->regions0, 3);
	assert_int_equal(db->delta_regions, 0);
	assert_int_equal(db->rss, MT_UNKNOWN);
	assert_int_equal(db->buckets.n, 2);
	assert_bucket(&db->buckets, 0, 256 * KiB, 2, 0);
	assert_bucket(&db->buckets, 1, MiB, 1, 0);
	assert_int_equal(db->spark_n, 1);

	/* Nothing grew: by size, libc first. */
	assert_string_equal(e->g.files[0].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");

	assert_int_equal(e->g.anon.n, 1);
	assert_bucket(&e->g.anon, 0, MiB, 2, 0);
	for (size_t i = 0; i < e->s[0].n_regions; i++)
		assert_float_equal(e->s[0].regions[i].first_seen, 100, 0);
}

static void test_leak(void **state)
{
	struct env *e = *state;
	assert_int_equal(growth_update(&e->g, NULL, &e->s[0]), 0);
	assert_int_equal(growth_update(&e->g, &e->s[0], &e->s[1]), 0);
	assert_true(e->g.have_prev);
	assert_int_equal(e->g.n_files, 5);

	/* Largest growth first; the unmapped file last, with negative growth. */
	assert_string_equal(e->g.files[0].path, "/data/big.db");
	assert_string_equal(e->g.files[1].path, "/usr/lib/libfoo.so");
	assert_string_equal(e->g.files[2].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(e->g.files[3].path, "/usr/bin/app");
	assert_string_equal(e->g.files[4].path, "/data/old.idx");

	const struct mt_file *db = &e->g.files[0];
	assert_int_equal(db->regions, 6);
	assert_int_equal(db->virt, 5 * 256 * KiB + MiB);
	assert_int_equal(db->delta_regions, 3);
	assert_int_equal(db->delta_virtual, 3 * 256 * KiB);
	assert_float_equal(db->rate_per_min, 3.0, 1e-9); /* 3 in a minute */
	assert_int_equal(db->buckets.n, 2);
	assert_bucket(&db->buckets, 0, 256 * KiB, 5, 3);
	assert_bucket(&db->buckets, 1, MiB, 1, 0);
	assert_int_equal(db->spark_n, 2);
	assert_int_equal(db->spark[0], 3);
	assert_int_equal(db->spark[1], 6);

	const struct mt_file *foo = &e->g.files[1];
	assert_int_equal(foo->regions0, 0); /* appeared later: starts from 0 */
	assert_int_equal(foo->delta_regions, 2);
	assert_int_equal(foo->delta_virtual, 8 * KiB);
	assert_float_equal(foo->first_seen, 160, 0);

	const struct mt_file *old = &e->g.files[4];
	assert_false(old->present);
	assert_int_equal(old->regions, 0);
	assert_int_equal(old->virt, 0);
	assert_int_equal(old->delta_regions, -1);
	assert_int_equal(old->delta_virtual, -(int64_t)(64 * KiB));
	assert_bucket(&old->buckets, 0, 64 * KiB, 0, -1);

	/* The split left two 512 KiB pieces; a 1 MiB chunk came and one split. */
	assert_int_equal(e->g.anon.n, 2);
	assert_bucket(&e->g.anon, 0, 512 * KiB, 2, 2);
	assert_bucket(&e->g.anon, 1, MiB, 2, 0);
}

static void test_events(void **state)
{
	struct env *e = *state;
	assert_int_equal(growth_update(&e->g, NULL, &e->s[0]), 0);
	assert_int_equal(growth_update(&e->g, &e->s[0], &e->s[1]), 0);

	const struct mt_events *ev = &e->g.events;
	double t = e->s[1].time;
	assert_int_equal(ev->n, 8); /* the mprotect split is none of them */
	assert_event(&ev->v[0], MT_EV_MAP, 0x555555581000, 0x5555555a1000, MT_CAT_HEAP,
		     "[heap]", t);
	assert_int_equal(ev->v[0].perms, MT_PERM_R | MT_PERM_W);
	assert_event(&ev->v[1], MT_EV_MAP, 0x7ff7d2200000, 0x7ff7d2240000, MT_CAT_FILE,
		     "/data/big.db", t);
	assert_event(&ev->v[2], MT_EV_MAP, 0x7ff7d2300000, 0x7ff7d2340000, MT_CAT_FILE,
		     "/data/big.db", t);
	assert_event(&ev->v[3], MT_EV_MAP, 0x7ff7d2600000, 0x7ff7d2640000, MT_CAT_FILE,
		     "/data/big.db", t);
	assert_event(&ev->v[4], MT_EV_MAP, 0x7ff7e0400000, 0x7ff7e0500000, MT_CAT_ANON, "", t);
	assert_event(&ev->v[5], MT_EV_UNMAP, 0x7ff7e1000000, 0x7ff7e1010000, MT_CAT_FILE,
		     "/data/old.idx", t);
	assert_event(&ev->v[6], MT_EV_MAP, 0x7ffff7c00000, 0x7ffff7c01000, MT_CAT_IMAGE,
		     "/usr/lib/libfoo.so", t);
	assert_event(&ev->v[7], MT_EV_MAP, 0x7ffff7c01000, 0x7ffff7c02000, MT_CAT_IMAGE,
		     "/usr/lib/libfoo.so", t);
	assert_int_equal(ev->v[7].perms, MT_PERM_R | MT_PERM_X);

	/* Ages: kept across growth and the split, new for what is new. */
	const struct mt_snapshot *s = &e->s[1];
	assert_float_equal(s->regions[fixture_at(s, 0x555555560000)].first_seen, 100, 0);
	assert_float_equal(s->regions[fixture_at(s, 0x7ff7e0000000)].first_seen, 100, 0);
	assert_float_equal(s->regions[fixture_at(s, 0x7ff7e0080000)].first_seen, 100, 0);
	assert_float_equal(s->regions[fixture_at(s, 0x7ff7d2100000)].first_seen, 100, 0);
	assert_float_equal(s->regions[fixture_at(s, 0x7ff7d2200000)].first_seen, 160, 0);
	assert_float_equal(s->regions[fixture_at(s, 0x7ff7e0400000)].first_seen, 160, 0);
	assert_float_equal(s->regions[fixture_at(s, 0x7ffff7c00000)].first_seen, 160, 0);
}

static void test_fixed(void **state)
{
	struct env *e = *state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(growth_update(&e->g, i ? &e->s[i - 1] : NULL, &e->s[i]), 0);

	const struct mt_events *ev = &e->g.events;
	double t = e->s[2].time;
	assert_int_equal(ev->n, 8); /* the merge back is none of them */
	assert_event(&ev->v[0], MT_EV_UNMAP, 0x555555571000, 0x5555555a1000, MT_CAT_HEAP,
		     "[heap]", t);
	for (int i = 1; i <= 5; i++)
		assert_event(&ev->v[i], MT_EV_UNMAP, ev->v[i].start, ev->v[i].end, MT_CAT_FILE,
			     "/data/big.db", t);
	assert_int_equal(ev->v[5].start, 0x7ff7d2600000);
	assert_event(&ev->v[6], MT_EV_UNMAP, 0x7ffff7c00000, 0x7ffff7c01000, MT_CAT_IMAGE,
		     "/usr/lib/libfoo.so", t);

	assert_int_equal(e->g.n_files, 5);
	assert_string_equal(e->g.files[0].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(e->g.files[1].path, "/usr/bin/app");
	assert_string_equal(e->g.files[2].path, "/usr/lib/libfoo.so");
	assert_string_equal(e->g.files[3].path, "/data/old.idx");
	assert_string_equal(e->g.files[4].path, "/data/big.db");

	const struct mt_file *foo = &e->g.files[2];
	assert_false(foo->present);
	assert_int_equal(foo->delta_regions, 0);
	assert_int_equal(foo->buckets.n, 0); /* came and went: nothing to show */

	const struct mt_file *db = &e->g.files[4];
	assert_int_equal(db->regions, 1);
	assert_int_equal(db->delta_regions, -2);
	assert_int_equal(db->delta_virtual, -(int64_t)(256 * KiB + MiB));
	assert_int_equal(db->buckets.n, 2);
	assert_bucket(&db->buckets, 0, 256 * KiB, 1, -1);
	assert_bucket(&db->buckets, 1, MiB, 0, -1);
	assert_int_equal(db->spark_n, 3);
	assert_int_equal(db->spark[2], 1);

	assert_float_equal(e->s[2].regions[fixture_at(&e->s[2], 0x7ff7e0000000)].first_seen,
			   100, 0);
	assert_float_equal(e->s[2].regions[fixture_at(&e->s[2], 0x7ff7e0400000)].first_seen,
			   160, 0);
}

/* A new mapping at an address whose old one was replaced in place:
 * different file offset or backing there means unmap + map. */
static void test_replaced(void **state)
{
	struct mt_snapshot a, b;
	struct mt_growth g;
	growth_init(&g);
	fixture_text(&a,
		"7f0000000000-7f0000004000 rw-p 00000000 08:01 9 /f\n"
		"7f0000010000-7f0000014000 rw-p 00000000 00:00 0\n", 10);
	fixture_text(&b,
		"7f0000000000-7f0000001000 rw-p 00000000 08:01 9 /f\n"
		"7f0000001000-7f0000002000 rw-p 00008000 08:01 9 /f\n"
		"7f0000002000-7f0000004000 r--p 00002000 08:01 9 /f\n"
		"7f0000010000-7f0000012000 rw-p 00000000 00:00 0\n"
		"7f0000012000-7f0000014000 rw-s 00000000 00:01 55 /dev/zero (deleted)\n", 20);
	classify_run(&a);
	classify_run(&b);
	assert_int_equal(growth_update(&g, NULL, &a), 0);
	assert_int_equal(growth_update(&g, &a, &b), 0);
	assert_int_equal(g.events.n, 4);
	assert_event(&g.events.v[0], MT_EV_UNMAP, 0x7f0000001000, 0x7f0000002000,
		     MT_CAT_FILE, "/f", b.time);
	assert_event(&g.events.v[1], MT_EV_MAP, 0x7f0000001000, 0x7f0000002000,
		     MT_CAT_FILE, "/f", b.time);
	assert_event(&g.events.v[2], MT_EV_UNMAP, 0x7f0000012000, 0x7f0000014000,
		     MT_CAT_ANON, "", b.time);
	assert_event(&g.events.v[3], MT_EV_MAP, 0x7f0000012000, 0x7f0000014000,
		     MT_CAT_SHARED, "/dev/zero", b.time);
	assert_float_equal(b.regions[0].first_seen, 10, 0);
	assert_float_equal(b.regions[1].first_seen, 20, 0);
	assert_float_equal(b.regions[2].first_seen, 10, 0); /* split, same offset */
	assert_float_equal(b.regions[4].first_seen, 20, 0);

	/* One file, split three ways now, one of them at another offset. */
	assert_int_equal(g.n_files, 2);
	growth_free(&g);
	snapshot_free(&a);
	snapshot_free(&b);
}

/* Resident sizes are summed when smaps was read, unknown otherwise. */
static void test_rss(void **state)
{
	struct env *e = *state;
	struct mt_snapshot *s = &e->s[0];
	s->have_rss = true;
	for (size_t i = 0; i < s->n_regions; i++)
		s->regions[i].rss = 8 * KiB;
	s->regions[fixture_at(s, 0x7ff7d2100000)].rss = MT_UNKNOWN; /* raced */
	assert_int_equal(growth_update(&e->g, NULL, s), 0);
	assert_int_equal(file(&e->g, "/data/big.db")->rss, 16 * KiB);
	assert_int_equal(file(&e->g, "/usr/bin/app")->rss, 24 * KiB);
}

/* Thousands of views of one file and of many files stay exact. */
static void test_many(void **state)
{
	enum { VIEWS = 1800, FILES = 300 };
	static char text[(VIEWS + FILES) * 100];
	size_t len = 0;
	for (int i = 0; i < VIEWS; i++) {
		unsigned long base = 0x7e0000000000UL + (unsigned long)i * 0x80000;
		unsigned long size = i % 3 ? 0x40000 : 0x10000;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%lx-%lx r--p %08x 08:01 5000 /data/big.db\n",
			base, base + size, i * 0x100000);
	}
	for (int i = 0; i < FILES; i++) {
		unsigned long base = 0x7f0000000000UL + (unsigned long)i * 0x10000;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%lx-%lx r--p 00000000 08:01 %d /data/f%d\n",
			base, base + 0x1000, 9000 + i, i);
	}
	struct mt_snapshot s;
	struct mt_growth g;
	growth_init(&g);
	fixture_text(&s, text, 1);
	classify_run(&s);
	assert_int_equal(growth_update(&g, NULL, &s), 0);
	assert_int_equal(growth_update(&g, &s, &s), 0); /* no change, no event */
	assert_int_equal(g.events.n, 0);
	assert_int_equal(g.n_files, 1 + FILES);
	const struct mt_file *db = file(&g, "/data/big.db");
	assert_int_equal(db->regions, VIEWS);
	assert_int_equal(db->buckets.n, 2);
	assert_bucket(&db->buckets, 0, 256 * KiB, 1200, 0);
	assert_bucket(&db->buckets, 1, 64 * KiB, 600, 0);
	assert_int_equal(file(&g, "/data/f299")->regions, 1);
	growth_free(&g);
	snapshot_free(&s);
}

/* Files that come and go are forgotten beyond GROWTH_MAX_GONE, oldest
 * first; a file mapped at the start is never forgotten. */
static void test_forget(void **state)
{
	enum { TMP = GROWTH_MAX_GONE + 2 };
	static char text[TMP * 80];
	struct mt_snapshot base, s;
	struct mt_growth g;
	growth_init(&g);
	fixture_text(&base, "10000000-10001000 r--p 00000000 08:01 7 /keep\n", 0);
	assert_int_equal(growth_update(&g, NULL, &base), 0);
	for (int i = 0; i < TMP; i++) {
		snprintf(text, sizeof(text), "20000000-20001000 r--p 00000000 08:01 %d /tmp/t%d\n",
			 100 + i, i);
		fixture_text(&s, text, 1 + i);
		classify_run(&s);
		assert_int_equal(growth_update(&g, NULL, &s), 0);
		snapshot_free(&s);
	}
	/* All but the last are gone, one more than the bound: down to half. */
	assert_int_equal(g.n_files, 2 + GROWTH_MAX_GONE / 2);
	assert_false(file(&g, "/keep")->present);
	assert_int_equal(file(&g, "/keep")->delta_regions, -1);
	assert_true(file(&g, "/tmp/t1025")->present);
	assert_int_equal(file(&g, "/tmp/t1024")->regions, 0);
	assert_int_equal(file(&g, "/tmp/t513")->regions, 0);
	for (size_t i = 0; i < g.n_files; i++)
		assert_true(strcmp(g.files[i].path, "/tmp/t512") != 0);
	growth_free(&g);
	snapshot_free(&base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed, setup, teardown),
		cmocka_unit_test(test_replaced),
		cmocka_unit_test_setup_teardown(test_rss, setup, teardown),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_forget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
