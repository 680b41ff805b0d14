/*
 * test_freelists.c - tcache and fastbin lists over synthetic glibc heaps
 * (heapwalk_freeset_*): chunks found, and corrupt, cyclic, mis-sized or
 * stray lists stopped without looping or reading out of bounds.
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
#define MAIN_LEN 0x40000ULL                 /* [heap] */
#define LIBC (BASE + MAIN_LEN)              /* main_arena lives here */
#define THREAD (BASE + MAIN_LEN + 0x10000)  /* a thread arena's first heap */
#define THREAD_LEN 0x10000ULL
#define TOTAL (MAIN_LEN + 0x10000 + THREAD_LEN)
#define KEY 0x1badcafe5eedULL               /* glibc's tcache_key */
#define T_FIRST (THREAD + HEAPWALK_HEAP_INFO_SIZE + HEAPWALK_MALLOC_STATE_SIZE + 8)

struct mem {
	unsigned char *buf;
	size_t reads;
};

static long mem_read(void *arg, uint64_t addr, void *out, size_t len)
{
	struct mem *m = arg;
	m->reads++;
	if (addr < BASE || addr >= BASE + TOTAL)
		return -EFAULT;
	if (len > BASE + TOTAL - addr)
		len = BASE + TOTAL - addr;
	memcpy(out, m->buf + (addr - BASE), len);
	return (long)len;
}

static void put64(struct mem *m, uint64_t addr, uint64_t v)
{
	memcpy(m->buf + (addr - BASE), &v, 8);
}

static void put16(struct mem *m, uint64_t addr, uint16_t v)
{
	memcpy(m->buf + (addr - BASE), &v, 2);
}

/* Chunks of the given sizes from first, all "in use" (PREV_INUSE set
 * everywhere, as for tcache and fastbin chunks), the rest up to limit
 * the top chunk.  starts[i]: chunk i; returns the top chunk. */
static uint64_t lay_out(struct mem *m, uint64_t first, uint64_t limit, const uint64_t *sizes,
			size_t n, uint64_t *starts)
{
	uint64_t cur = first;
	for (size_t i = 0; i < n; i++) {
		put64(m, cur + 8, sizes[i] | 1);
		starts[i] = cur;
		cur += sizes[i];
	}
	put64(m, cur + 8, (limit - cur) | 1);
	return cur;
}

/* The tcache struct whose chunk is at tc: bin's count and first entry. */
static void tc_bin(struct mem *m, uint64_t tc, unsigned bin, uint16_t count, uint64_t first_user)
{
	put16(m, tc + 16 + 2 * bin, count);
	put64(m, tc + 16 + 128 + 8 * bin, first_user);
}

/* A tcache chunk: safe-linked next (the field is at user), the key. */
static void tc_link(struct mem *m, uint64_t chunk, uint64_t next_user, uint64_t key)
{
	uint64_t user = chunk + 16;
	put64(m, user, (user >> 12) ^ next_user);
	put64(m, user + 8, key);
}

/* A fastbin chunk: safe-linked fd at chunk + 16, next is a chunk. */
static void fb_link(struct mem *m, uint64_t chunk, uint64_t next_chunk)
{
	put64(m, chunk + 16, ((chunk + 16) >> 12) ^ next_chunk);
}

struct world {
	struct mem m;
	struct heapwalk_heap main, thread;
	struct heapwalk_freeset fs;
	uint64_t c[16];      /* main heap chunks: 0 is the tcache struct */
	uint64_t t[16];      /* thread heap chunks: 0 is the thread's tcache */
	uint64_t main_top, thread_top;
};

static const uint64_t main_sizes[] = { 0x290, 0x30, 0x30, 0x30, 0x30, 0x40, 0x40, 0x20, 0x290 };
static const uint64_t thread_sizes[] = { 0x290, 0x30, 0x30, 0x30, 0x40 };

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	w->m.buf = calloc(1, TOTAL);
	w->main_top = lay_out(&w->m, BASE, BASE + MAIN_LEN, main_sizes, 9, w->c);
	/* heap_info: ar_ptr right after it (first heap), size. */
	put64(&w->m, THREAD, THREAD + HEAPWALK_HEAP_INFO_SIZE);
	put64(&w->m, THREAD + 16, THREAD_LEN);
	w->thread_top = lay_out(&w->m, T_FIRST, THREAD + THREAD_LEN, thread_sizes, 5, w->t);
	/* The thread arena's malloc_state: top, and next is main_arena;
	 * main_arena's top is [heap]'s top chunk. */
	uint64_t ar = THREAD + HEAPWALK_HEAP_INFO_SIZE;
	put64(&w->m, ar + HEAPWALK_MSTATE_TOP, w->thread_top);
	put64(&w->m, ar + HEAPWALK_MSTATE_NEXT, LIBC);
	put64(&w->m, LIBC + HEAPWALK_MSTATE_TOP, w->main_top);
	put64(&w->m, LIBC + HEAPWALK_MSTATE_NEXT, ar);
	return w;
}

static void world_build(struct world *w)
{
	assert_int_equal(heapwalk_build(&w->main, BASE, BASE + MAIN_LEN, true, mem_read, &w->m),
			 0);
	assert_int_equal(heapwalk_build(&w->thread, THREAD, THREAD + THREAD_LEN, false, mem_read,
					&w->m), 0);
	assert_true(w->main.stopped_at == 0);
	assert_true(w->thread.stopped_at == 0);
	assert_true(w->main.last == w->main_top);
	assert_true(w->thread.first == T_FIRST);
	const struct heapwalk_heap *hs[] = { &w->main, &w->thread };
	assert_int_equal(heapwalk_freeset_build(&w->fs, hs, 2, mem_read, &w->m), 0);
}

static void world_free(struct world *w)
{
	heapwalk_freeset_free(&w->fs);
	heapwalk_free(&w->main);
	heapwalk_free(&w->thread);
	free(w->m.buf);
	free(w);
}

static enum heapwalk_freelist kind(const struct world *w, uint64_t chunk)
{
	return heapwalk_freeset_find(&w->fs, chunk);
}

/* The main thread's tcache: bin 1 (48) holds c1 -> c2 -> c3, bin 2 (64)
 * holds c5; c4, c6 are live, and so is c8, a 0x290 object that is no
 * tcache.  The thread's tcache (in its arena) holds a main-heap chunk. */
static struct world *tcache_world(void)
{
	struct world *w = world_new();
	tc_bin(&w->m, w->c[0], 1, 3, w->c[1] + 16);
	tc_link(&w->m, w->c[1], w->c[2] + 16, KEY);
	tc_link(&w->m, w->c[2], w->c[3] + 16, KEY);
	tc_link(&w->m, w->c[3], 0, KEY);
	tc_bin(&w->m, w->c[0], 2, 1, w->c[5] + 16);
	tc_link(&w->m, w->c[5], 0, KEY);
	/* A live object of tcache size holding pointers: not a tcache (its
	 * entry is a chunk of the wrong size for its bin). */
	tc_bin(&w->m, w->c[8], 3, 1, w->c[4] + 16);
	/* The thread's tcache: bin 0 (32) holds c7 of the main heap. */
	tc_bin(&w->m, w->t[0], 0, 1, w->c[7] + 16);
	tc_link(&w->m, w->c[7], 0, KEY);
	return w;
}

static void test_tcache(void **state)
{
	(void)state;
	struct world *w = tcache_world();
	world_build(w);
	assert_int_equal(w->main.n_tcache_cands, 2); /* c0 and c8 */
	assert_int_equal(w->fs.n_tcaches, 2);
	assert_string_equal(w->fs.error, "");
	assert_int_equal(w->fs.n, 5);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(kind(w, w->c[i]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[5]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[7]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[4]), HEAPWALK_FREE_NONE);
	assert_int_equal(kind(w, w->c[6]), HEAPWALK_FREE_NONE);
	assert_int_equal(kind(w, w->c[0]), HEAPWALK_FREE_NONE);
	assert_int_equal(kind(w, w->c[1] + 16), HEAPWALK_FREE_NONE); /* not a chunk address */
	/* The main arena is reached through the thread arena's next. */
	assert_true(w->fs.main_arena);
	assert_int_equal(w->fs.n_arenas, 2);
	world_free(w);
}

/* c1 -> c2 -> c1 with a count of 60: stops at the cycle. */
static void test_tcache_cycle(void **state)
{
	(void)state;
	struct world *w = tcache_world();
	tc_bin(&w->m, w->c[0], 1, 60, w->c[1] + 16);
	tc_link(&w->m, w->c[2], w->c[1] + 16, KEY);
	world_build(w);
	assert_non_null(strstr(w->fs.error, "bin 1: cycle at"));
	assert_int_equal(kind(w, w->c[1]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[2]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[3]), HEAPWALK_FREE_NONE);
	assert_true(w->m.reads < 1000);
	world_free(w);
}

/* The count bounds a list whose end is lost: a long cycle (c1 -> c2 ->
 * c3 -> c1...) with count 2 ends after 2, no error. */
static void test_tcache_count_bounds(void **state)
{
	(void)state;
	struct world *w = tcache_world();
	tc_bin(&w->m, w->c[0], 1, 2, w->c[1] + 16);
	tc_link(&w->m, w->c[3], w->c[1] + 16, KEY);
	world_build(w);
	assert_string_equal(w->fs.error, "");
	assert_int_equal(kind(w, w->c[2]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[3]), HEAPWALK_FREE_NONE);
	world_free(w);
}

/* The second chunk of bin 1 has the size of bin 2: the list stops there. */
static void test_tcache_wrong_size(void **state)
{
	(void)state;
	struct world *w = tcache_world();
	tc_link(&w->m, w->c[1], w->c[5] + 16, KEY);
	world_build(w);
	assert_non_null(strstr(w->fs.error, "bin 1: bad chunk"));
	assert_int_equal(kind(w, w->c[1]), HEAPWALK_FREE_TCACHE);
	assert_int_equal(kind(w, w->c[2]), HEAPWALK_FREE_NONE);
	assert_int_equal(kind(w, w->c[5]), HEAPWALK_FREE_TCACHE); /* its own bin's */
	world_free(w);
}

/* Nexts that decode outside every heap, misaligned, or with another
 * key: stopped, nothing read out there. */
static void test_tcache_stray(void **state)
{
	(void)state;
	static const uint64_t bad[] = { 0x7fff00001230ULL, BASE + TOTAL + 0x100, BASE + 0x3ff8,
					LIBC + 0x100, 0xffffffffffffff00ULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct world *w = tcache_world();
		tc_link(&w->m, w->c[2], bad[i], KEY);
		world_build(w);
		assert_non_null(strstr(w->fs.error, "bin 1: bad chunk"));
		assert_int_equal(kind(w, w->c[2]), HEAPWALK_FREE_TCACHE);
		assert_int_equal(kind(w, w->c[3]), HEAPWALK_FREE_NONE);
		world_free(w);
	}
	struct world *w = tcache_world();
	tc_link(&w->m, w->c[2], w->c[3] + 16, KEY);
	tc_link(&w->m, w->c[3], 0, KEY ^ 1);
	world_build(w);
	assert_non_null(strstr(w->fs.error, "bin 1: bad chunk"));
	assert_int_equal(kind(w, w->c[3]), HEAPWALK_FREE_NONE);
	world_free(w);
}

/* A tcache-sized chunk whose entries do not check out is no tcache:
 * ignored without an error, and its "lists" are not followed. */
static void test_not_a_tcache(void **state)
{
	(void)state;
	struct world *w = world_new();
	/* Count without entry. */
	tc_bin(&w->m, w->c[0], 1, 3, 0);
	/* Entry outside the heaps. */
	tc_bin(&w->m, w->c[8], 1, 1, 0x7fff00001000ULL);
	/* The thread's: entry inside a chunk, not at its start. */
	tc_bin(&w->m, w->t[0], 1, 1, w->t[1] + 32);
	tc_link(&w->m, w->t[1], 0, KEY);
	world_build(w);
	assert_int_equal(w->fs.n_tcaches, 0);
	assert_int_equal(w->fs.n, 0);
	assert_string_equal(w->fs.error, "");
	world_free(w);
}

/* Fastbins: thread arena bin 1 t1 -> t2 -> t3; main arena (reached
 * through the ring) bin 2 c5 -> c6. */
static struct world *fastbin_world(void)
{
	struct world *w = world_new();
	uint64_t ar = THREAD + HEAPWALK_HEAP_INFO_SIZE;
	put64(&w->m, ar + HEAPWALK_MSTATE_FASTBINS + 8, w->t[1]);
	fb_link(&w->m, w->t[1], w->t[2]);
	fb_link(&w->m, w->t[2], w->t[3]);
	fb_link(&w->m, w->t[3], 0);
	put64(&w->m, LIBC + HEAPWALK_MSTATE_FASTBINS + 16, w->c[5]);
	fb_link(&w->m, w->c[5], w->c[6]);
	fb_link(&w->m, w->c[6], 0);
	return w;
}

static void test_fastbins(void **state)
{
	(void)state;
	struct world *w = fastbin_world();
	world_build(w);
	assert_string_equal(w->fs.error, "");
	assert_int_equal(w->fs.n_arenas, 2);
	assert_true(w->fs.main_arena);
	assert_int_equal(w->fs.n, 5);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(kind(w, w->t[i]), HEAPWALK_FREE_FASTBIN);
	assert_int_equal(kind(w, w->t[4]), HEAPWALK_FREE_NONE);
	assert_int_equal(kind(w, w->c[5]), HEAPWALK_FREE_FASTBIN);
	assert_int_equal(kind(w, w->c[6]), HEAPWALK_FREE_FASTBIN);
	world_free(w);
}

/* main_arena is taken only when its top is [heap]'s top chunk. */
static void test_fastbins_main_checked(void **state)
{
	(void)state;
	struct world *w = fastbin_world();
	put64(&w->m, LIBC + HEAPWALK_MSTATE_TOP, w->c[3]);
	world_build(w);
	assert_false(w->fs.main_arena);
	assert_int_equal(w->fs.n_arenas, 1);
	assert_int_equal(kind(w, w->c[5]), HEAPWALK_FREE_NONE);
	assert_int_equal(kind(w, w->t[1]), HEAPWALK_FREE_FASTBIN);
	world_free(w);
	/* Without the thread arena, main_arena cannot be found at all. */
	w = fastbin_world();
	assert_int_equal(heapwalk_build(&w->main, BASE, BASE + MAIN_LEN, true, mem_read, &w->m),
			 0);
	const struct heapwalk_heap *hs[] = { &w->main };
	assert_int_equal(heapwalk_freeset_build(&w->fs, hs, 1, mem_read, &w->m), 0);
	assert_false(w->fs.main_arena);
	assert_int_equal(w->fs.n, 0);
	world_free(w);
}

/* A fastbin cycle t1 -> t2 -> t3 -> t1, a chunk of the wrong size, an
 * fd outside the heaps: each list stops. */
static void test_fastbins_corrupt(void **state)
{
	(void)state;
	struct world *w = fastbin_world();
	fb_link(&w->m, w->t[3], w->t[1]);
	world_build(w);
	assert_non_null(strstr(w->fs.error, "fastbin 1: cycle at"));
	for (int i = 1; i <= 3; i++)
		assert_int_equal(kind(w, w->t[i]), HEAPWALK_FREE_FASTBIN);
	assert_int_equal(kind(w, w->c[5]), HEAPWALK_FREE_FASTBIN); /* other lists go on */
	assert_true(w->m.reads < 1000);
	world_free(w);

	w = fastbin_world();
	fb_link(&w->m, w->t[2], w->t[4]); /* 0x40 in the 0x30 bin */
	world_build(w);
	assert_non_null(strstr(w->fs.error, "fastbin 1: bad chunk"));
	assert_int_equal(kind(w, w->t[2]), HEAPWALK_FREE_FASTBIN);
	assert_int_equal(kind(w, w->t[4]), HEAPWALK_FREE_NONE);
	world_free(w);

	w = fastbin_world();
	fb_link(&w->m, w->c[5], 0x7fff00001000ULL);
	world_build(w);
	assert_non_null(strstr(w->fs.error, "fastbin 2: bad chunk"));
	assert_int_equal(kind(w, w->c[5]), HEAPWALK_FREE_FASTBIN);
	assert_int_equal(kind(w, w->c[6]), HEAPWALK_FREE_NONE);
	world_free(w);
}

/* A list longer than HEAPWALK_FASTBIN_CHAIN_MAX is cut there. */
static void test_fastbin_limit(void **state)
{
	(void)state;
	enum { N = HEAPWALK_FASTBIN_CHAIN_MAX + 10 };
	struct world *w = calloc(1, sizeof(*w));
	w->m.buf = calloc(1, TOTAL);
	static uint64_t sizes[N], starts[N];
	for (size_t i = 0; i < N; i++)
		sizes[i] = 0x20;
	w->main_top = lay_out(&w->m, BASE, BASE + MAIN_LEN, sizes, N, starts);
	for (size_t i = 0; i < N; i++)
		fb_link(&w->m, starts[i], i + 1 < N ? starts[i + 1] : 0);
	put64(&w->m, THREAD, THREAD + HEAPWALK_HEAP_INFO_SIZE);
	put64(&w->m, THREAD + 16, THREAD_LEN);
	w->thread_top = lay_out(&w->m, T_FIRST, THREAD + THREAD_LEN, thread_sizes, 5, w->t);
	uint64_t ar = THREAD + HEAPWALK_HEAP_INFO_SIZE;
	put64(&w->m, ar + HEAPWALK_MSTATE_TOP, w->thread_top);
	put64(&w->m, ar + HEAPWALK_MSTATE_NEXT, LIBC);
	put64(&w->m, LIBC + HEAPWALK_MSTATE_TOP, w->main_top);
	put64(&w->m, LIBC + HEAPWALK_MSTATE_FASTBINS, starts[0]);
	world_build(w);
	assert_non_null(strstr(w->fs.error, "fastbin 0: longer than the limit"));
	assert_int_equal(w->fs.n, HEAPWALK_FASTBIN_CHAIN_MAX);
	assert_int_equal(kind(w, starts[HEAPWALK_FASTBIN_CHAIN_MAX - 1]), HEAPWALK_FREE_FASTBIN);
	assert_int_equal(kind(w, starts[HEAPWALK_FASTBIN_CHAIN_MAX]), HEAPWALK_FREE_NONE);
	world_free(w);
}

/* Random bytes everywhere but the headers: whatever the lists say, the
 * build ends, within its read budget. */
static void test_garbage(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 50; round++) {
		struct world *w = tcache_world();
		uint64_t ar = THREAD + HEAPWALK_HEAP_INFO_SIZE;
		/* Garble the lists' words, not the chunk headers. */
		for (int i = 1; i < 8; i++) {
			if (rand() % 2)
				put64(&w->m, w->c[i] + 16,
				      ((uint64_t)rand() << 32) ^ (uint64_t)rand());
			if (rand() % 4 == 0)
				put64(&w->m, w->c[i] + 24, (uint64_t)rand());
		}
		for (int b = 0; b < 10; b++)
			put64(&w->m, ar + HEAPWALK_MSTATE_FASTBINS + 8 * b,
			      rand() % 2 ? w->t[1 + rand() % 4] : (uint64_t)rand() << 4);
		put16(&w->m, w->c[0] + 16 + 2, (uint16_t)rand());
		world_build(w);
		assert_true(w->m.reads < 20000);
		world_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcache),
		cmocka_unit_test(test_tcache_cycle),
		cmocka_unit_test(test_tcache_count_bounds),
		cmocka_unit_test(test_tcache_wrong_size),
		cmocka_unit_test(test_tcache_stray),
		cmocka_unit_test(test_not_a_tcache),
		cmocka_unit_test(test_fastbins),
		cmocka_unit_test(test_fastbins_main_checked),
		cmocka_unit_test(test_fastbins_corrupt),
		cmocka_unit_test(test_fastbin_limit),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
