/*
 * test_pages.c - pages.c on this process's own memory: each page is read
 * from where it is, and reading faults none in (the page tables, asked
 * again after the read, hold no new page).  With PAGEMAP_SCAN and with
 * the /proc/PID/pagemap fallback.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "memtop/pages.h"

#define PAGE 4096

static uint64_t a(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Present (or swapped) bytes of [p, p + len) by the page tables. */
static uint64_t present(struct pages *pg, const void *p, size_t len)
{
	struct pages_run v[64];
	uint64_t at = a(p), end = a(p) + len, n = 0;
	while (at < end) {
		uint64_t walk_end;
		long k = pages_runs(pg, at, end, v, 64, &walk_end);
		assert_true(k >= 0);
		for (long i = 0; i < k; i++)
			n += v[i].end - v[i].start;
		at = walk_end;
	}
	return n;
}

static void open_self(struct pages *pg)
{
	assert_int_equal(pages_open(pg, getpid(), NULL), 0);
}

static void private_anon(void **state)
{
	(void)state;
	char *m = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(m != MAP_FAILED);
	memset(m + 3 * PAGE, 0x5a, PAGE);
	struct pages pg;
	open_self(&pg);
	assert_true(present(&pg, m, 64 * PAGE) == PAGE);
	char *buf = malloc(64 * PAGE);
	memset(buf, 1, 64 * PAGE);
	/* Untouched pages read as the zeros they are; the touched one is read. */
	assert_int_equal(pages_read(&pg, a(m), buf, 64 * PAGE), 64 * PAGE);
	for (size_t i = 0; i < 64 * PAGE; i++)
		assert_int_equal((unsigned char)buf[i], i / PAGE == 3 ? 0x5a : 0);
	assert_true(present(&pg, m, 64 * PAGE) == PAGE);
	/* From the middle of a page, across the present one. */
	assert_int_equal(pages_read(&pg, a(m) + 3 * PAGE - 8, buf, 16), 16);
	assert_int_equal(buf[7], 0);
	assert_int_equal((unsigned char)buf[8], 0x5a);
	pages_close(&pg);
	free(buf);
	munmap(m, 64 * PAGE);
}

/* Where process_vm_readv is refused, present pages are read through
 * /proc/PID/mem: the same bytes, one range or several. */
static void mem_fallback(void **state)
{
	(void)state;
	char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(m != MAP_FAILED);
	memset(m, 0x11, PAGE);
	memset(m + 2 * PAGE, 0x22, PAGE);
	struct pages pg;
	open_self(&pg);
	pg.use_mem = true;
	char one[PAGE], two[2][64];
	assert_int_equal(pages_read_present(&pg, a(m), one, PAGE), PAGE);
	for (size_t i = 0; i < PAGE; i++)
		assert_int_equal(one[i], 0x11);
	struct iovec local[2] = { { two[0], 64 }, { two[1], 64 } };
	struct iovec remote[2] = { { m + 100, 64 }, { m + 2 * PAGE + 100, 64 } };
	assert_int_equal(pages_readv(&pg, local, remote, 2), 128);
	for (size_t i = 0; i < 64; i++) {
		assert_int_equal(two[0][i], 0x11);
		assert_int_equal(two[1][i], 0x22);
	}
	assert_true(pg.use_mem);
	assert_true(present(&pg, m, 4 * PAGE) == 2 * PAGE);
	pages_close(&pg);
	munmap(m, 4 * PAGE);
}

static void shared_anon(void **state)
{
	(void)state;
	char *m = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(m != MAP_FAILED);
	struct pages pg;
	open_self(&pg);
	char buf[3 * PAGE];
	/* Not mapped in: reading it would allocate it. */
	assert_int_equal(pages_read(&pg, a(m), buf, sizeof(buf)), -ENODATA);
	assert_true(present(&pg, m, 16 * PAGE) == 0);
	pages_close(&pg);
	/* Once touched, the page is read; the read stops at the next one. */
	m[0] = 7;
	open_self(&pg);
	assert_int_equal(pages_read(&pg, a(m), buf, sizeof(buf)), PAGE);
	assert_int_equal(buf[0], 7);
	assert_true(present(&pg, m, 16 * PAGE) == PAGE);
	pages_close(&pg);
	munmap(m, 16 * PAGE);
}

static void private_file(void **state)
{
	(void)state;
	char path[] = "/tmp/memtop-test-pages-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char page[PAGE];
	for (int i = 0; i < 4; i++) {
		memset(page, 'a' + i, PAGE);
		assert_int_equal(write(fd, page, PAGE), PAGE);
	}
	/* Six pages mapped over four of file: the last two read as zeros. */
	char *m = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(m != MAP_FAILED);
	struct pages pg;
	open_self(&pg);
	assert_true(present(&pg, m, 4 * PAGE) == 0);
	char *buf = malloc(4 * PAGE);
	assert_int_equal(pages_read(&pg, a(m) + PAGE, buf, 3 * PAGE), 3 * PAGE);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(buf[2 * PAGE - 1], 'c');
	assert_int_equal(buf[2 * PAGE], 'd');
	assert_true(present(&pg, m, 4 * PAGE) == 0);
	/* A page written here is this process's own: read from memory. */
	pages_close(&pg);
	m[PAGE] = 'X';
	open_self(&pg);
	assert_int_equal(pages_read(&pg, a(m) + PAGE, buf, 2), 2);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(buf[1], 'b');
	pages_close(&pg);
	free(buf);
	munmap(m, 6 * PAGE);
	close(fd);
	unlink(path);
}

static void unmapped(void **state)
{
	(void)state;
	char *m = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pages pg;
	open_self(&pg);
	char buf[8];
	assert_int_equal(pages_read(&pg, a(m), buf, 8), -EFAULT); /* no read permission */
	pages_close(&pg);
	munmap(m, PAGE);
	open_self(&pg);
	assert_int_equal(pages_read(&pg, a(m), buf, 8), -EFAULT); /* not mapped */
	pages_close(&pg);
}

static int with_scan_ioctl(void **state)
{
	(void)state;
	return unsetenv(PAGES_NO_SCAN_ENV);
}

static int with_pagemap_entries(void **state)
{
	(void)state;
	return setenv(PAGES_NO_SCAN_ENV, "1", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_anon),
		cmocka_unit_test(shared_anon),
		cmocka_unit_test(mem_fallback),
		cmocka_unit_test(private_file),
		cmocka_unit_test(unmapped),
	};
	int rc = cmocka_run_group_tests_name("PAGEMAP_SCAN", tests, with_scan_ioctl, NULL);
	return rc | cmocka_run_group_tests_name("pagemap entries", tests, with_pagemap_entries,
						NULL);
}
