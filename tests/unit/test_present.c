/*
 * test_present.c - present.c on this process's own memory: ranges
 * registered in any order and overlapping (two adjacent ranges, then one
 * of them again, as a census that walks twice does) keep the spans sorted
 * and disjoint, so reads across them return the bytes that are there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "memtop/present.h"

#define PAGE 4096u

static uint64_t a(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void check_disjoint(const struct present *p)
{
	for (size_t i = 1; i < p->n; i++)
		assert_true(p->spans[i - 1].end < p->spans[i].start);
}

static void overlapping_ranges(void **state)
{
	(void)state;
	char *m = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(m != MAP_FAILED);
	for (unsigned i = 0; i < 16; i += 2)
		memset(m + i * PAGE, 'a' + (int)i, PAGE); /* every other page */
	memset(m + 7 * PAGE, 'h', PAGE);
	struct pages pg;
	struct present pr;
	assert_int_equal(pages_open(&pg, getpid(), NULL), 0);
	present_init(&pr, &pg);
	/* Adjacent ranges, then the first again, then one across both, then
	 * one inside, out of order. */
	assert_int_equal(present_add(&pr, a(m) + 8 * PAGE, a(m) + 16 * PAGE), 0);
	assert_int_equal(present_add(&pr, a(m), a(m) + 8 * PAGE), 0);
	assert_int_equal(present_add(&pr, a(m) + 8 * PAGE, a(m) + 16 * PAGE), 0);
	assert_int_equal(present_add(&pr, a(m) + 4 * PAGE, a(m) + 12 * PAGE), 0);
	assert_int_equal(present_add(&pr, a(m) + 5 * PAGE, a(m) + 6 * PAGE), 0);
	check_disjoint(&pr);
	assert_true(pr.pages_bytes == 9 * PAGE);
	assert_true(present_bytes(&pr, a(m), a(m) + 16 * PAGE) == 9 * PAGE);
	/* A read from inside a span across an absent page: the bytes. */
	char buf[3 * PAGE];
	assert_int_equal(present_read(&pr, a(m) + 6 * PAGE + 100, buf, sizeof(buf)),
			 (long)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		size_t page = (6 * PAGE + 100 + i) / PAGE;
		char want = page == 7 ? 'h' : page % 2 ? 0 : (char)('a' + page);
		assert_int_equal(buf[i], want);
	}
	present_free(&pr);
	pages_close(&pg);
	munmap(m, 16 * PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(overlapping_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
