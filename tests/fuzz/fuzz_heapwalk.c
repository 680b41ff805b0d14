/*
 * fuzz_heapwalk.c - the heap walk, the free lists and the mmapped chunk
 * chains on any bytes, as memtop meets a corrupt or hostile heap: the
 * input is the memory of a main arena ([heap]) and, from the same bytes,
 * a thread heap (heap_info first) and a region of mmapped chunks.  What
 * the census relies on is checked: chunks visited in address order inside
 * the walked range, sizes of at least 32 and multiples of 16, at most one
 * top, the walk's own counts consistent, nothing read outside the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/heapwalk.h"

#define BASE 0x7f0000000000ULL /* 64 MiB aligned, as a thread heap is */

struct mem {
	const uint8_t *buf;
	size_t len;
};

static long mem_read(void *arg, uint64_t addr, void *out, size_t len)
{
	const struct mem *m = arg;
	if (addr < BASE || addr - BASE >= m->len)
		return -EFAULT;
	if (len > m->len - (addr - BASE))
		len = m->len - (addr - BASE);
	memcpy(out, m->buf + (addr - BASE), len);
	return (long)len;
}

struct seen {
	uint64_t next;   /* the next chunk may not start before this */
	size_t n, tops;
};

static int visit(void *arg, const struct heapwalk_visit *v)
{
	struct seen *s = arg;
	if (v->chunk < s->next || v->chunk_size < HEAPWALK_MINSIZE || v->chunk_size % 16)
		abort();
	s->next = v->chunk + v->chunk_size;
	s->n++;
	s->tops += v->top;
	return 0;
}

static void walk(struct mem *m, bool main_arena, struct heapwalk_heap *h)
{
	struct seen s = { 0, 0, 0 };
	if (heapwalk_walk(h, BASE, BASE + m->len, main_arena, visit, &s, mem_read, m) < 0)
		return;
	if (s.n != h->n_chunks || s.tops > 1 || s.next > BASE + m->len)
		abort();
	if (h->n_chunks && (h->walked_end > BASE + m->len || h->last >= h->walked_end))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly `size` bytes, so reading past the input is caught. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct mem m = { copy, size };
	struct heapwalk_heap main_heap, thread_heap;
	walk(&m, true, &main_heap);
	walk(&m, false, &thread_heap);
	const struct heapwalk_heap *heaps[2] = { &main_heap, &thread_heap };
	struct heapwalk_freeset fs;
	if (heapwalk_freeset_build(&fs, heaps, 2, mem_read, &m) == 0) {
		for (size_t i = 1; i < fs.n; i++)
			if ((fs.v[i] & ~15ULL) <= (fs.v[i - 1] & ~15ULL))
				abort();
		heapwalk_freeset_free(&fs);
	}
	heapwalk_free(&main_heap);
	heapwalk_free(&thread_heap);
	uint64_t cur = BASE;
	struct heapwalk_chunk c;
	for (int i = 0; i < 64 && heapwalk_mmapped_next(BASE + size, &cur, &c, mem_read, &m) == 1;
	     i++)
		if (c.chunk + c.chunk_size > BASE + size || (c.chunk + c.chunk_size) % 4096 ||
		    c.user != c.chunk + 16 || !c.mmapped)
			abort();
	free(copy);
	return 0;
}
