/*
 * test_pagemap.c - resident pages from PAGEMAP_SCAN against what this
 * process knows it touched, and against its own smaps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "memtop/maps.h"
#include "memtop/pagemap.h"
#include "memtop/proc.h"

static struct mt_region *find(struct mt_snapshot *s, const void *addr)
{
	uint64_t a = (uintptr_t)addr;
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].start <= a && a < s->regions[i].end)
			return &s->regions[i];
	return NULL;
}

/* Maps of this process, rss and swap from pagemap. */
static int scan_self(struct mt_snapshot *s, struct mt_pagemap *pm)
{
	char *buf = NULL;
	size_t cap = 0;
	long n = proc_slurp("/proc/self/maps", &buf, &cap);
	assert_true(n > 0);
	snapshot_reset(s);
	assert_int_equal(maps_parse(s, buf, (size_t)n, NULL), 0);
	free(buf);
	return pagemap_resident(pm, getpid(), s);
}

/* Touched pages count, untouched ones do not, nor the shared zero page
 * that reading an untouched anonymous page maps (smaps' Rss skips it). */
static void test_touched_pages(void **state)
{
	(void)state;
	long pg = sysconf(_SC_PAGESIZE);
	/* Three regions: the middle one PROT_READ, so none merges, between
	 * PROT_NONE pages, so no neighbour merges either. */
	char *g = mmap(NULL, 32 * (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g != MAP_FAILED);
	char *a = g + pg;
	assert_int_equal(mprotect(a, 30 * (size_t)pg, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(mprotect(a + 10 * pg, 10 * (size_t)pg, PROT_READ), 0);
	for (int i = 0; i < 3; i++)
		a[i * 2 * pg] = 1;    /* 3 pages of the first region */
	volatile char sink = 0;
	for (int i = 10; i < 20; i++)
		sink += a[i * pg];   /* zero page: not resident */
	(void)sink;
	memset(a + 20 * pg, 7, 10 * (size_t)pg); /* all of the third */

	struct mt_snapshot s;
	struct mt_pagemap pm = { 0 };
	snapshot_init(&s);
	int rc = scan_self(&s, &pm);
	if (rc == -ENOTTY || rc == -EINVAL) {
		skip(); /* a kernel before 6.7 */
	}
	assert_int_equal(rc, 0);
	struct mt_region *r1 = find(&s, a), *r2 = find(&s, a + 10 * pg);
	struct mt_region *r3 = find(&s, a + 20 * pg);
	assert_non_null(r1);
	assert_true(r1 != r2 && r2 != r3);
	assert_int_equal(r1->rss, 3 * (uint64_t)pg);
	assert_int_equal(r2->rss, 0);
	assert_int_equal(r3->rss, 10 * (uint64_t)pg);
	assert_int_equal(r1->swap, 0);
	/* Figures pagemap does not give are left alone. */
	assert_int_equal(r1->pss, MT_UNKNOWN);
	/* The vsyscall page is outside the walk: 0, as smaps says. */
	struct mt_region *vs = &s.regions[s.n_regions - 1];
	if (vs->start >= 0xffff800000000000ull)
		assert_int_equal(vs->rss, 0);
	pagemap_free(&pm);
	snapshot_free(&s);
	munmap(g, 32 * (size_t)pg);
}

/* Every region's rss agrees with smaps' Rss, read right after. */
/* Regions whose residency may change between the two reads: the stack,
 * malloc's heap; under ThreadSanitizer also its shadow of each. */
#ifdef __SANITIZE_THREAD__
#define DIFFER_MAX 16
#else
#define DIFFER_MAX 4
#endif

static void test_agrees_with_smaps(void **state)
{
	(void)state;
	struct mt_snapshot s, sm;
	struct mt_pagemap pm = { 0 };
	snapshot_init(&s);
	snapshot_init(&sm);
	int rc = scan_self(&s, &pm);
	if (rc == -ENOTTY || rc == -EINVAL) {
		skip();
	}
	assert_int_equal(rc, 0);
	char *buf = NULL;
	size_t cap = 0;
	long n = proc_slurp("/proc/self/smaps", &buf, &cap);
	assert_true(n > 0);
	assert_int_equal(maps_parse_all(&sm, buf, (size_t)n, NULL), 0);
	free(buf);
	/* Matched by bounds: an allocator (ASan's) may map in between. */
	size_t differ = 0, same = 0;
	for (size_t i = 0, k = 0; i < s.n_regions; i++) {
		while (k < sm.n_regions && sm.regions[k].start < s.regions[i].start)
			k++;
		if (k == sm.n_regions || sm.regions[k].start != s.regions[i].start ||
		    sm.regions[k].end != s.regions[i].end)
			continue;
		same++;
		/* Only the stack and malloc's heap move in between. */
		if (s.regions[i].rss != sm.regions[k].rss)
			differ++;
	}
	assert_true(same * 2 >= s.n_regions);
	assert_true(differ <= DIFFER_MAX);
	pagemap_free(&pm);
	snapshot_free(&s);
	snapshot_free(&sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_touched_pages),
		cmocka_unit_test(test_agrees_with_smaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
