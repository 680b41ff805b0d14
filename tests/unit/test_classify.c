/*
 * test_classify.c - categories on a realistic process (tests/data/model/
 * process.maps) and on the corner cases of each rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "memtop/classify.h"
#include "model_fixture.h"

#define T1_SP 0x7ff7d08ff000ULL /* inside thread 1001's stack */

/* The expected category of each line of process.maps, in order. */
static const enum mt_category expected[] = {
	/* /usr/bin/app: five mappings and its .bss */
	MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE,
	MT_CAT_IMAGE,
	MT_CAT_HEAP, /* [heap] */
	MT_CAT_HEAP, MT_CAT_HEAP, /* arena 1 and its reserve */
	MT_CAT_HEAP, MT_CAT_HEAP, /* arena 2 and its reserve */
	MT_CAT_HEAP, /* a heap just reserved: aligned PROT_NONE of 64 MiB */
	MT_CAT_STACK, MT_CAT_STACK, /* thread 1001: guard, stack (sp known) */
	MT_CAT_STACK, MT_CAT_STACK, /* thread 1002: guard, stack (running) */
	MT_CAT_FILE, MT_CAT_FILE, MT_CAT_FILE, MT_CAT_FILE, MT_CAT_FILE, /* big.db */
	MT_CAT_FILE, /* /tmp/scratch (deleted), shared */
	MT_CAT_FILE, /* locale-archive */
	MT_CAT_SHARED, /* memfd */
	MT_CAT_SHARED, /* SysV */
	MT_CAT_SHARED, /* /dev/shm */
	MT_CAT_SHARED, /* anonymous shared: /dev/zero (deleted) */
	MT_CAT_ANON,   /* [anon:jit cache] */
	MT_CAT_SHARED, /* [anon_shmem:ring] */
	MT_CAT_ANON,   /* [weird] r--p */
	MT_CAT_SHARED, /* [odd] rw-s */
	MT_CAT_ANON,   /* a large malloc chunk */
	MT_CAT_RESERVED, /* 256 MiB PROT_NONE, aligned but not an arena's size */
	/* libfoo.so with an anonymous alignment hole between its mappings */
	MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE,
	/* libc: six mappings (one a file-backed ---p hole) and its .bss */
	MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE,
	MT_CAT_IMAGE, MT_CAT_IMAGE,
	MT_CAT_KERNEL, MT_CAT_KERNEL, /* [vvar], [vdso] */
	MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, MT_CAT_IMAGE, /* ld.so */
	MT_CAT_STACK,  /* [stack] */
	MT_CAT_KERNEL, /* [vsyscall] */
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static void load_process(struct mt_snapshot *s, size_t n_threads, const int *tids,
			 const uint64_t *sps)
{
	fixture_file(s, "process.maps", 100);
	assert_int_equal(s->n_regions, N_EXPECTED);
	fixture_threads(s, n_threads, tids, sps);
	classify_run(s);
}

static void assert_category(const struct mt_snapshot *s, size_t i, enum mt_category c)
{
	if (s->regions[i].category != c)
		fail_msg("region %zu (%llx %s): %s, expected %s", i,
			 (unsigned long long)s->regions[i].start, s->regions[i].path,
			 region_category_name(s->regions[i].category),
			 region_category_name(c));
}

static void test_process(void **state)
{
	struct mt_snapshot s;
	const int tids[] = { FIXTURE_PID, 1001, 1002 };
	const uint64_t sps[] = { 0x7fffffffe000, T1_SP, 0 };
	load_process(&s, 3, tids, sps);

	for (size_t i = 0; i < N_EXPECTED; i++)
		assert_category(&s, i, expected[i]);

	/* Stacks carry their thread; threads point at their stack. */
	size_t main_stack = fixture_at(&s, 0x7ffffffde000);
	size_t t1 = fixture_at(&s, 0x7ff7d0101000);
	size_t t2 = fixture_at(&s, 0x7ff7d0902000);
	assert_int_equal(s.regions[main_stack].tid, FIXTURE_PID);
	assert_int_equal(s.regions[t1].tid, 1001);
	assert_int_equal(s.regions[t1 - 1].tid, 1001); /* its guard */
	assert_int_equal(s.regions[t2].tid, 0);        /* by shape: tid unknown */
	assert_int_equal(s.regions[t2 - 1].tid, 0);
	assert_int_equal(s.threads[0].stack_region, (long)main_stack);
	assert_int_equal(s.threads[1].stack_region, (long)t1);
	assert_int_equal(s.threads[2].stack_region, -1);
	/* Nothing else is a stack's. */
	for (size_t i = 0; i < s.n_regions; i++)
		if (s.regions[i].category != MT_CAT_STACK)
			assert_int_equal(s.regions[i].tid, 0);
	snapshot_free(&s);
}

/* The main thread's stack is [stack] even when its sp is unknown. */
static void test_main_thread_without_sp(void **state)
{
	struct mt_snapshot s;
	const int tids[] = { FIXTURE_PID, 1001 };
	const uint64_t sps[] = { 0, T1_SP };
	load_process(&s, 2, tids, sps);
	assert_int_equal(s.threads[0].stack_region, (long)fixture_at(&s, 0x7ffffffde000));
	/* Every thread's stack is known: the other stack-shaped pair is a
	 * cached stack of an exited thread, and nobody's. */
	assert_int_equal(s.regions[fixture_at(&s, 0x7ff7d0902000)].category, MT_CAT_ANON);
	snapshot_free(&s);
}

/* With no stack pointer at all, every glibc-shaped pair is a stack as
 * long as there are as many threads to own them. */
static void test_all_running(void **state)
{
	struct mt_snapshot s;
	const int tids[] = { FIXTURE_PID, 1001, 1002 };
	const uint64_t sps[] = { 0, 0, 0 };
	load_process(&s, 3, tids, sps);
	for (size_t i = 0; i < N_EXPECTED; i++)
		assert_category(&s, i, expected[i]);
	assert_int_equal(s.regions[fixture_at(&s, 0x7ff7d0101000)].tid, 0);
	snapshot_free(&s);
}

/* One running thread but two candidate shapes (glibc caches the stacks
 * of exited threads): which one is its stack cannot be told, so neither
 * is claimed. */
static void test_ambiguous_shapes(void **state)
{
	struct mt_snapshot s;
	const int tids[] = { FIXTURE_PID, 1002 };
	const uint64_t sps[] = { 0x7fffffffe000, 0 };
	load_process(&s, 2, tids, sps);
	size_t t1 = fixture_at(&s, 0x7ff7d0101000);
	size_t t2 = fixture_at(&s, 0x7ff7d0902000);
	assert_int_equal(s.regions[t1].category, MT_CAT_ANON);
	assert_int_equal(s.regions[t1 - 1].category, MT_CAT_RESERVED);
	assert_int_equal(s.regions[t2].category, MT_CAT_ANON);
	assert_int_equal(s.regions[t2 - 1].category, MT_CAT_RESERVED);
	snapshot_free(&s);
}

/* A coroutine stack in a malloc arena stays heap; the thread still
 * points at the region holding its sp. */
static void test_sp_in_arena(void **state)
{
	struct mt_snapshot s;
	const int tids[] = { FIXTURE_PID, 1001, 1002, 1003 };
	const uint64_t sps[] = { 0x7fffffffe000, T1_SP, 0x7ff7d1000000, 0x7ff7c0010000 };
	load_process(&s, 4, tids, sps);
	size_t arena = fixture_at(&s, 0x7ff7c0000000);
	assert_int_equal(s.regions[arena].category, MT_CAT_HEAP);
	assert_int_equal(s.regions[arena].tid, 0);
	assert_int_equal(s.threads[3].stack_region, (long)arena);
	assert_int_equal(s.regions[fixture_at(&s, 0x7ff7d0902000)].tid, 1002);
	snapshot_free(&s);
}

/* A data file is image as soon as any mapping of it is executable, and
 * the rule is per (dev, inode), not per path or adjacency. */
static void test_image_by_inode(void **state)
{
	struct mt_snapshot s;
	fixture_text(&s,
		"10000000-10001000 r--p 00000000 08:01 77 /opt/plugin.so\n"
		"20000000-20001000 r-xp 00001000 08:01 77 /opt/plugin.so\n"
		"30000000-30001000 r--p 00000000 08:02 77 /other/fs/same-inode\n"
		"30001000-30002000 rw-p 00000000 00:00 0\n"
		"40000000-40001000 rw-p 00000000 00:00 0\n", 1);
	classify_run(&s);
	assert_int_equal(s.regions[0].category, MT_CAT_IMAGE);
	assert_int_equal(s.regions[1].category, MT_CAT_IMAGE);
	assert_int_equal(s.regions[2].category, MT_CAT_FILE);
	/* rw-p after a data file is no .bss */
	assert_int_equal(s.regions[3].category, MT_CAT_ANON);
	assert_int_equal(s.regions[4].category, MT_CAT_ANON);
	snapshot_free(&s);
}

/* The nameless rw-p region after an image is its .bss only up to where
 * the ELF says the image ends (bss_end, set by the source). */
static void test_bss_end(void **state)
{
	static const char *const maps =
		"10000000-10001000 r--p 00000000 08:01 77 /lib/libz.so\n"
		"10001000-10002000 r-xp 00001000 08:01 77 /lib/libz.so\n"
		"10002000-10003000 rw-p 00002000 08:01 77 /lib/libz.so\n"
		"10003000-10103000 rw-p 00000000 00:00 0\n";
	struct { uint64_t bss_end; enum mt_category want; } cases[] = {
		{ 0, MT_CAT_IMAGE },            /* unknown: the loader's layout */
		{ 1, MT_CAT_ANON },             /* the image ends before it */
		{ 0x10103000, MT_CAT_IMAGE },   /* all of it is .bss */
		{ 0x10102801, MT_CAT_IMAGE },   /* ... up to the last page */
		{ 0x10004000, MT_CAT_ANON },    /* .bss merged with more memory */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mt_snapshot s;
		fixture_text(&s, maps, 1);
		s.regions[3].bss_end = cases[i].bss_end;
		classify_run(&s);
		assert_int_equal(s.regions[3].category, cases[i].want);
		snapshot_free(&s);
	}
}

/* More executable files than the on-stack table holds. */
static void test_many_libraries(void **state)
{
	enum { LIBS = 700 };
	static char text[LIBS * 2 * 80];
	size_t len = 0;
	for (int i = 0; i < LIBS; i++) {
		unsigned long base = 0x100000000UL + (unsigned long)i * 0x10000;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%lx-%lx r--p 00000000 08:01 %d /lib/l%d.so\n"
			"%lx-%lx r-xp 00001000 08:01 %d /lib/l%d.so\n",
			base, base + 0x1000, 1000 + i, i,
			base + 0x1000, base + 0x2000, 1000 + i, i);
	}
	struct mt_snapshot s;
	fixture_text(&s, text, 1);
	assert_int_equal(s.n_regions, 2 * LIBS);
	classify_run(&s);
	for (size_t i = 0; i < s.n_regions; i++)
		assert_int_equal(s.regions[i].category, MT_CAT_IMAGE);
	snapshot_free(&s);
}

/* Arena look-alikes that are not arenas. */
static void test_arena_shapes(void **state)
{
	struct mt_snapshot s;
	fixture_text(&s,
		/* aligned rw-p followed by a reserve reaching past 64 MiB */
		"7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n"
		"7f0000100000-7f0008000000 ---p 00000000 00:00 0\n"
		/* aligned rw-p of exactly 64 MiB: a full heap, no reserve left */
		"7f0010000000-7f0014000000 rw-p 00000000 00:00 0\n"
		/* aligned rw-p of 1 MiB with nothing after it */
		"7f0020000000-7f0020100000 rw-p 00000000 00:00 0\n"
		/* unaligned rw-p + reserve */
		"7f0030001000-7f0030100000 rw-p 00000000 00:00 0\n"
		"7f0030100000-7f0034000000 ---p 00000000 00:00 0\n", 1);
	classify_run(&s);
	assert_int_equal(s.regions[0].category, MT_CAT_ANON);
	assert_int_equal(s.regions[1].category, MT_CAT_RESERVED);
	assert_int_equal(s.regions[2].category, MT_CAT_HEAP);
	assert_int_equal(s.regions[3].category, MT_CAT_ANON);
	assert_int_equal(s.regions[4].category, MT_CAT_ANON);
	assert_int_equal(s.regions[5].category, MT_CAT_RESERVED);
	snapshot_free(&s);
}

static void test_names(void **state)
{
	struct mt_snapshot s;
	fixture_text(&s,
		"10000000-10001000 ---p 00000000 00:00 0 [anon:guard]\n"
		"10002000-10003000 ---p 00000000 00:00 0 [strange]\n"
		"10004000-10005000 rw-p 00000000 00:00 0 [stack:777]\n"
		"10006000-10007000 r-xp 00000000 00:00 0 [uprobes]\n"
		"10008000-10009000 rw-p 00000000 00:05 12 /dev/dri/card0\n"
		"1000a000-1000b000 rw-s 00000000 00:0e 99 anon_inode:dmabuf\n"
		"1000c000-1000d000 r--p 00000000 00:01 5 /memfd:ro (deleted)\n"
		"1000e000-1000f000 r-xs 00000000 00:01 6 /memfd:jit (deleted)\n", 1);
	classify_run(&s);
	/* A name says who made a region, its protection what it is. */
	assert_int_equal(s.regions[0].category, MT_CAT_RESERVED);
	assert_int_equal(s.regions[1].category, MT_CAT_RESERVED);
	assert_int_equal(s.regions[2].category, MT_CAT_STACK);
	assert_int_equal(s.regions[2].tid, 777);
	assert_int_equal(s.regions[3].category, MT_CAT_KERNEL);
	assert_int_equal(s.regions[4].category, MT_CAT_FILE);
	assert_int_equal(s.regions[5].category, MT_CAT_SHARED);
	assert_int_equal(s.regions[6].category, MT_CAT_SHARED);
	assert_int_equal(s.regions[7].category, MT_CAT_IMAGE); /* executable memfd */
	snapshot_free(&s);
}

/* glibc's own names (tunable glibc.mem.decorate_maps, glibc 2.40+) are
 * believed: an arena needs no 64 MiB shape check, a stack no sp. */
static void test_glibc_names(void **state)
{
	struct mt_snapshot s;
	fixture_text(&s,
		"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 [anon: glibc: malloc arena]\n"
		"7f0000021000-7f0004000000 ---p 00000000 00:00 0\n"
		"7f0010000000-7f0010001000 ---p 00000000 00:00 0\n"
		"7f0010001000-7f0010801000 rw-p 00000000 00:00 0 [anon: glibc: pthread stack: 4711]\n"
		"7f0010900000-7f0010910000 rw-p 00000000 00:00 0 "
		"[anon: glibc: pthread user stack: 4712]\n"
		"7f0010a00000-7f0010a40000 rw-p 00000000 00:00 0 [anon: glibc: malloc]\n"
		"7f0010b00000-7f0010b01000 rw-p 00000000 00:00 0 [anon: glibc: loader malloc]\n", 1);
	const int tids[] = { FIXTURE_PID, 4711, 4712 };
	const uint64_t sps[] = { 0, 0, 0 };
	fixture_threads(&s, 3, tids, sps);
	classify_run(&s);
	assert_int_equal(s.regions[0].category, MT_CAT_HEAP);
	assert_int_equal(s.regions[1].category, MT_CAT_HEAP);
	assert_int_equal(s.regions[2].category, MT_CAT_STACK); /* the unnamed guard */
	assert_int_equal(s.regions[2].tid, 4711);
	assert_int_equal(s.regions[3].category, MT_CAT_STACK);
	assert_int_equal(s.regions[3].tid, 4711);
	assert_int_equal(s.regions[4].category, MT_CAT_STACK);
	assert_int_equal(s.regions[4].tid, 4712);
	assert_int_equal(s.regions[5].category, MT_CAT_ANON);
	assert_int_equal(s.regions[6].category, MT_CAT_ANON);
	snapshot_free(&s);
}

/* Classifying twice gives the same answer (categories are recomputed,
 * not accumulated). */
static void test_idempotent(void **state)
{
	struct mt_snapshot s;
	const int tids[] = { FIXTURE_PID, 1001, 1002 };
	const uint64_t sps[] = { 0x7fffffffe000, T1_SP, 0 };
	load_process(&s, 3, tids, sps);
	classify_run(&s);
	for (size_t i = 0; i < N_EXPECTED; i++)
		assert_category(&s, i, expected[i]);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_main_thread_without_sp),
		cmocka_unit_test(test_all_running),
		cmocka_unit_test(test_ambiguous_shapes),
		cmocka_unit_test(test_sp_in_arena),
		cmocka_unit_test(test_image_by_inode),
		cmocka_unit_test(test_many_libraries),
		cmocka_unit_test(test_bss_end),
		cmocka_unit_test(test_arena_shapes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_glibc_names),
		cmocka_unit_test(test_idempotent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
