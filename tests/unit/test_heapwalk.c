/*
 * test_heapwalk.c - chunk walking over synthetic glibc heaps, corrupt ones
 * included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "memtop/heapwalk.h"

#define BASE 0x555500000000ULL

struct mem {
	uint64_t base;
	unsigned char *buf;
	size_t len;
	uint64_t readable_end; /* reads at or past this fail */
};

static long mem_read(void *arg, uint64_t addr, void *out, size_t len)
{
	struct mem *m = arg;
	uint64_t end = m->readable_end ? m->readable_end : m->base + m->len;
	if (addr < m->base || addr >= end)
		return -EFAULT;
	if (len > end - addr)
		len = end - addr;
	memcpy(out, m->buf + (addr - m->base), len);
	return (long)len;
}

static void put64(struct mem *m, uint64_t addr, uint64_t v)
{
	memcpy(m->buf + (addr - m->base), &v, 8);
}

static struct mem *mem_new(size_t len)
{
	struct mem *m = calloc(1, sizeof(*m));
	m->base = BASE;
	m->len = len;
	m->buf = calloc(1, len);
	return m;
}

static void mem_free(struct mem *m)
{
	free(m->buf);
	free(m);
}

/* Lay out chunks of the given sizes from first; the rest up to limit is
 * the top chunk.  free_mask bit i: chunk i is free (the next chunk's
 * PREV_INUSE is clear).  Returns the number of chunks, top included. */
static size_t lay_out(struct mem *m, uint64_t first, uint64_t limit, const uint64_t *sizes,
		      size_t n, uint64_t free_mask, uint64_t *starts)
{
	uint64_t cur = first;
	for (size_t i = 0; i <= n; i++) {
		uint64_t size = i < n ? sizes[i] : limit - cur;
		bool prev_free = i > 0 && i - 1 < 64 && (free_mask >> (i - 1) & 1);
		put64(m, cur + 8, size | (prev_free ? 0 : 1));
		starts[i] = cur;
		cur += size;
	}
	return n + 1;
}

static void test_main_arena(void **state)
{
	(void)state;
	struct mem *m = mem_new(64 * 1024);
	uint64_t sizes[] = { 0x290, 0x30, 0x40, 0x1010, 0x20, 0x50 };
	uint64_t starts[8];
	size_t n = lay_out(m, BASE, BASE + m->len, sizes, 6, 1u << 2, starts);
	struct heapwalk_heap h;
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, true, mem_read, m), 0);
	assert_int_equal(h.n_chunks, n);
	assert_true(h.stopped_at == 0);
	assert_string_equal(h.error, "");
	assert_true(h.walked_end == BASE + m->len);

	struct heapwalk_chunk c;
	/* The first word of each user area, and the last (next's prev_size). */
	for (size_t i = 0; i < n; i++) {
		uint64_t size = i < 6 ? sizes[i] : BASE + m->len - starts[i];
		assert_int_equal(heapwalk_find(&h, starts[i] + 16, &c, mem_read, m), 1);
		assert_true(c.chunk == starts[i]);
		assert_true(c.user == starts[i] + 16);
		assert_true(c.size == size - 8);
		assert_true(c.chunk_size == size);
		assert_int_equal(c.top, i == 6);
		assert_int_equal(c.in_use, i != 2 && i != 6);
		if (i < 6) {
			assert_int_equal(heapwalk_find(&h, starts[i] + size, &c, mem_read, m), 1);
			assert_true(c.chunk == starts[i]);
			/* The size field of the next chunk is nobody's data. */
			assert_int_equal(heapwalk_find(&h, starts[i] + size + 8, &c, mem_read, m),
					 0);
		}
	}
	assert_int_equal(heapwalk_find(&h, BASE, &c, mem_read, m), 0);
	assert_int_equal(heapwalk_find(&h, BASE + m->len, &c, mem_read, m), 0);
	heapwalk_free(&h);
	mem_free(m);
}

/* Many chunks: the marks' binary search against a linear answer. */
static void test_many_chunks(void **state)
{
	(void)state;
	struct mem *m = mem_new(4 << 20);
	enum { N = 5000 };
	static uint64_t sizes[N], starts[N + 1];
	srand(7);
	for (size_t i = 0; i < N; i++)
		sizes[i] = 0x20 + 0x10 * (uint64_t)(rand() % 40);
	size_t n = lay_out(m, BASE, BASE + m->len, sizes, N, 0, starts);
	struct heapwalk_heap h;
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, true, mem_read, m), 0);
	assert_int_equal(h.n_chunks, n);
	assert_true(h.n_marks == (n + HEAPWALK_STRIDE - 1) / HEAPWALK_STRIDE);
	for (int k = 0; k < 20000; k++) {
		uint64_t a = BASE + 8 * (uint64_t)(rand() % (int)(starts[N] / 8 - BASE / 8 + 8));
		long want = -1;
		for (size_t i = 0; i < N; i++)
			if (a >= starts[i] + 16 && a < starts[i] + sizes[i] + 8)
				want = (long)i;
		if (want < 0 && a >= starts[N] + 16)
			want = N;
		struct heapwalk_chunk c;
		int rc = heapwalk_find(&h, a, &c, mem_read, m);
		if (want < 0) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, 1);
			assert_true(c.chunk == starts[want]);
		}
	}
	heapwalk_free(&h);
	mem_free(m);
}

static void check_corrupt(uint64_t bad_size_field)
{
	struct mem *m = mem_new(64 * 1024);
	uint64_t sizes[] = { 0x30, 0x40, 0x50, 0x60 };
	uint64_t starts[8];
	lay_out(m, BASE, BASE + m->len, sizes, 4, 0, starts);
	put64(m, starts[2] + 8, bad_size_field);
	struct heapwalk_heap h;
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, true, mem_read, m), 0);
	assert_int_equal(h.n_chunks, 2);
	assert_true(h.stopped_at == starts[2]);
	char want[128];
	snprintf(want, sizeof(want), "walk stopped at 0x%llx (corrupt chunk)",
		 (unsigned long long)starts[2]);
	assert_string_equal(h.error, want);
	struct heapwalk_chunk c;
	/* Chunks before the bad one are still found. */
	assert_int_equal(heapwalk_find(&h, starts[1] + 16, &c, mem_read, m), 1);
	assert_true(c.chunk == starts[1]);
	assert_int_equal(heapwalk_find(&h, starts[0] + 24, &c, mem_read, m), 1);
	assert_true(c.chunk == starts[0]);
	/* Nothing from the bad one on. */
	assert_int_equal(heapwalk_find(&h, starts[2] + 16, &c, mem_read, m), 0);
	assert_int_equal(heapwalk_find(&h, starts[3] + 16, &c, mem_read, m), 0);
	heapwalk_free(&h);
	mem_free(m);
}

static void test_corrupt_chunks(void **state)
{
	(void)state;
	check_corrupt(0x13);                  /* below MINSIZE */
	check_corrupt(0);                     /* zero: would loop forever */
	check_corrupt(0x39);                  /* not a multiple of 16 */
	check_corrupt(0x100000 | 1);          /* runs past the heap */
	check_corrupt(0x50 | 2 | 1);          /* IS_MMAPPED inside an arena */
	check_corrupt(0xfffffffffffffff1ULL); /* wraps around */
}

static void test_unreadable(void **state)
{
	(void)state;
	struct mem *m = mem_new(64 * 1024);
	uint64_t sizes[] = { 0x30, 0x8000, 0x40 };
	uint64_t starts[8];
	lay_out(m, BASE, BASE + m->len, sizes, 3, 0, starts);
	m->readable_end = BASE + 0x4000; /* the rest vanished */
	struct heapwalk_heap h;
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, true, mem_read, m), 0);
	assert_int_equal(h.n_chunks, 2);
	assert_true(h.stopped_at == starts[2]);
	assert_non_null(strstr(h.error, "(unreadable)"));
	heapwalk_free(&h);
	/* Nothing readable at all: the read's error. */
	m->readable_end = BASE;
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, true, mem_read, m), -EFAULT);
	heapwalk_free(&h);
	mem_free(m);
}

/* A thread arena heap: heap_info, malloc_state for the first heap. */
static void check_arena(bool first_heap)
{
	struct mem *m = mem_new(256 * 1024);
	uint64_t used = 128 * 1024; /* heap_info.size: the rest is not walked */
	put64(m, BASE, first_heap ? BASE + HEAPWALK_HEAP_INFO_SIZE : 0x7f0000000b20);
	put64(m, BASE + 16, used);
	put64(m, BASE + 24, used);
	uint64_t first = first_heap ? BASE + 0x8d0 : BASE + 0x30;
	uint64_t sizes[] = { 0x30 | 0, 0x50 };
	uint64_t starts[4];
	lay_out(m, first, BASE + used, sizes, 2, 0, starts);
	/* Garbage past heap_info.size: must not be walked. */
	put64(m, BASE + used + 8, 0x13);
	struct heapwalk_heap h;
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, false, mem_read, m), 0);
	assert_int_equal(h.first_heap, first_heap);
	assert_true(h.first == first);
	assert_true(h.limit == BASE + used);
	assert_int_equal(h.n_chunks, 3);
	assert_true(h.stopped_at == 0);
	struct heapwalk_chunk c;
	assert_int_equal(heapwalk_find(&h, first + 16, &c, mem_read, m), 1);
	assert_true(c.chunk == first);
	assert_int_equal(heapwalk_find(&h, starts[2] + 0x100, &c, mem_read, m), 1);
	assert_true(c.top);
	/* Inside heap_info or the malloc_state: no chunk. */
	assert_int_equal(heapwalk_find(&h, BASE + 0x20, &c, mem_read, m), 0);
	if (first_heap)
		assert_int_equal(heapwalk_find(&h, BASE + 0x100, &c, mem_read, m), 0);
	heapwalk_free(&h);

	/* A heap_info claiming more than the region: corrupt. */
	put64(m, BASE + 16, 1ULL << 40);
	assert_int_equal(heapwalk_build(&h, BASE, BASE + m->len, false, mem_read, m), 0);
	assert_int_equal(h.n_chunks, 0);
	assert_non_null(strstr(h.error, "corrupt heap_info"));
	heapwalk_free(&h);
	mem_free(m);
}

static void test_thread_arena(void **state)
{
	(void)state;
	check_arena(true);
	check_arena(false);
}

/* The two fenceposts glibc leaves at the end of a heap it grew out of:
 * old_size = (size - 32) & ~15, so they start 32 to 47 bytes before the
 * end (here the heap's size is not a multiple of 16). */
static void check_fencepost(uint64_t slack)
{
	struct mem *m = mem_new(8192);
	uint64_t sizes[] = { 0x30, 0x40 };
	uint64_t starts[4];
	uint64_t limit = BASE + 4096 + (slack - 32);
	uint64_t fp = limit - slack;
	lay_out(m, BASE, fp, sizes, 2, 0, starts); /* the old top ends at the fencepost */
	put64(m, fp + 8, 0x10 | 1);
	put64(m, fp + 16 + 8, 0x00 | 1);
	struct heapwalk_heap h;
	assert_int_equal(heapwalk_build_at(&h, BASE, BASE + 8192, BASE, limit, mem_read, m), 0);
	assert_true(h.stopped_at == 0);
	assert_string_equal(h.error, "");
	assert_int_equal(h.n_chunks, 3);
	heapwalk_free(&h);
	/* A 16-byte chunk anywhere else is corrupt. */
	put64(m, starts[1] + 8, 0x10 | 1);
	assert_int_equal(heapwalk_build_at(&h, BASE, BASE + 8192, BASE, limit, mem_read, m), 0);
	assert_true(h.stopped_at == starts[1]);
	heapwalk_free(&h);
	mem_free(m);
}

static void test_fencepost(void **state)
{
	(void)state;
	check_fencepost(32);
	check_fencepost(40);
	check_fencepost(47 & ~7ULL);
}

static void test_mmapped(void **state)
{
	(void)state;
	/* Two chunks served by mmap, merged by the kernel into one region. */
	struct mem *m = mem_new(3 * 4096 + 5 * 4096);
	put64(m, BASE + 8, (3 * 4096) | 2);
	put64(m, BASE + 3 * 4096 + 8, (5 * 4096) | 2);
	uint64_t end = BASE + m->len;
	struct heapwalk_chunk c;
	assert_int_equal(heapwalk_mmapped_find(BASE, end, BASE + 100, &c, mem_read, m), 1);
	assert_true(c.user == BASE + 16 && c.size == 3 * 4096 - 16 && c.mmapped);
	assert_int_equal(heapwalk_mmapped_find(BASE, end, BASE + 4 * 4096, &c, mem_read, m), 1);
	assert_true(c.user == BASE + 3 * 4096 + 16);
	assert_int_equal(heapwalk_mmapped_find(BASE, end, BASE + 8, &c, mem_read, m), 0);
	/* Not a chunk: no IS_MMAPPED bit. */
	put64(m, BASE + 8, 3 * 4096);
	assert_int_equal(heapwalk_mmapped_find(BASE, end, BASE + 100, &c, mem_read, m), 0);
	/* A size running past the region. */
	put64(m, BASE + 8, (64 * 4096) | 2);
	assert_int_equal(heapwalk_mmapped_find(BASE, end, BASE + 100, &c, mem_read, m), 0);
	mem_free(m);
}

struct visits {
	struct heapwalk_visit v[16];
	size_t n;
};

static int record_visit(void *arg, const struct heapwalk_visit *v)
{
	struct visits *vs = arg;
	if (vs->n < 16)
		vs->v[vs->n] = *v;
	vs->n++;
	return 0;
}

/* The visitor sees every chunk once, in order, in use by its successor's
 * bit, the first user word, and the top chunk last. */
static void test_visit(void **state)
{
	(void)state;
	struct mem *m = mem_new(16 * 1024);
	uint64_t sizes[] = { 0x30, 0x40, 0x20, 0x50 };
	uint64_t starts[6];
	lay_out(m, BASE, BASE + m->len, sizes, 4, 1u << 1, starts);
	for (int i = 0; i < 4; i++)
		put64(m, starts[i] + 16, 0x1000 + (uint64_t)i);
	struct heapwalk_heap h;
	struct visits vs = { .n = 0 };
	assert_int_equal(heapwalk_walk(&h, BASE, BASE + m->len, true, record_visit, &vs, mem_read,
				       m), 0);
	assert_int_equal(vs.n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_true(vs.v[i].chunk == starts[i]);
		assert_int_equal(vs.v[i].top, i == 4);
		assert_int_equal(vs.v[i].in_use, i != 1 && i != 4);
		if (i < 4) {
			assert_true(vs.v[i].chunk_size == sizes[i]);
			assert_true(vs.v[i].word0 == 0x1000 + i);
		}
	}
	heapwalk_free(&h);

	/* A walk cut short: its last chunk cannot be judged, it is taken as
	 * in use (a chunk followed by a lone 16-byte one far from the end). */
	vs.n = 0;
	uint64_t fp = starts[4] + 0x100;
	put64(m, starts[4] + 8, 0x100 | 1);
	put64(m, fp + 8, 0x10); /* PREV_INUSE clear: the chunk before is free */
	put64(m, fp + 16 + 8, 0x00 | 1);
	assert_int_equal(heapwalk_walk(&h, BASE, BASE + m->len, true, record_visit, &vs, mem_read,
				       m), 0);
	assert_true(h.stopped_at == fp);
	assert_int_equal(vs.n, 5);
	assert_false(vs.v[4].top);
	assert_true(vs.v[4].in_use);
	heapwalk_free(&h);
	mem_free(m);
}

/* The chain of mmapped chunks, one at a time. */
static void test_mmapped_next(void **state)
{
	(void)state;
	struct mem *m = mem_new(8 * 4096);
	put64(m, BASE + 8, (3 * 4096) | 2);
	put64(m, BASE + 3 * 4096 + 8, (2 * 4096) | 2);
	/* Then something that is no chunk. */
	put64(m, BASE + 5 * 4096, 0x12345);
	uint64_t cur = BASE;
	struct heapwalk_chunk c;
	assert_int_equal(heapwalk_mmapped_next(BASE + m->len, &cur, &c, mem_read, m), 1);
	assert_true(c.chunk == BASE && c.chunk_size == 3 * 4096 && cur == BASE + 3 * 4096);
	assert_int_equal(heapwalk_mmapped_next(BASE + m->len, &cur, &c, mem_read, m), 1);
	assert_true(c.user == BASE + 3 * 4096 + 16 && cur == BASE + 5 * 4096);
	assert_int_equal(heapwalk_mmapped_next(BASE + m->len, &cur, &c, mem_read, m), 0);
	mem_free(m);
}

/* glibc 2.36's malloc_par, as a process with 3 mmapped chunks has it
 * (read off python3 here with gdb: p mp_). */
struct mp236 {
	uint64_t trim_threshold, top_pad, mmap_threshold, arena_test, arena_max;
	uint64_t thp_pagesize, hp_pagesize;
	int32_t hp_flags, n_mmaps, n_mmaps_max, max_n_mmaps, no_dyn_threshold, pad;
	uint64_t mmapped_mem, max_mmapped_mem, sbrk_base;
	uint64_t tcache_bins, tcache_max_bytes, tcache_count, tcache_unsorted_limit;
};

static void put_mp(uint64_t *data, size_t at, uint64_t sbrk)
{
	struct mp236 mp = { 327680, 131072, 163840, 8, 0, 0, 0, 0, 3, 65536, 4, 0, 0,
			    0x95000, 0xbd000, sbrk, 64, 1032, 7, 0 };
	memcpy(data + at, &mp, sizeof(mp));
}

static void test_find_mp(void **state)
{
	(void)state;
	uint64_t data[1024] = { 0 };
	const uint64_t sbrk = 0x55c0f8086000ULL;
	struct heapwalk_mp mp;
	/* Decoys: the break elsewhere, followed by what no malloc_par has. */
	data[3] = sbrk;
	data[4] = 1000;
	data[700] = sbrk;
	data[701] = 64;
	data[702] = 1032;
	data[703] = 7;
	data[698] = 0x1000; /* mmapped_mem > max_mmapped_mem */
	data[699] = 0;
	assert_false(heapwalk_find_mp(data, sizeof(data), sbrk, &mp));
	put_mp(data, 104, sbrk);
	assert_true(heapwalk_find_mp(data, sizeof(data), sbrk, &mp));
	assert_int_equal(mp.n_mmaps, 3);
	assert_int_equal(mp.mmapped_mem, 0x95000);
	/* Another [heap] start: not this process's malloc_par. */
	assert_false(heapwalk_find_mp(data, sizeof(data), sbrk + 4096, &mp));
	assert_false(heapwalk_find_mp(data, sizeof(data), 0, &mp));
	/* Cut before its tcache fields: no match. */
	assert_false(heapwalk_find_mp(data, (104 + 13) * 8, sbrk, &mp));
	/* Two places fit: which is glibc's is not known. */
	put_mp(data, 300, sbrk);
	assert_false(heapwalk_find_mp(data, sizeof(data), sbrk, &mp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_arena),
		cmocka_unit_test(test_many_chunks),
		cmocka_unit_test(test_corrupt_chunks),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_thread_arena),
		cmocka_unit_test(test_fencepost),
		cmocka_unit_test(test_mmapped),
		cmocka_unit_test(test_visit),
		cmocka_unit_test(test_mmapped_next),
		cmocka_unit_test(test_find_mp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
