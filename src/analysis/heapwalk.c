/*
 * heapwalk.c - walking glibc malloc chunks in a target's heaps.
 *
 * Chunk layout (glibc 2.36, x86-64): prev_size at +0, size at +8 with
 * PREV_INUSE (1), IS_MMAPPED (2) and NON_MAIN_ARENA (4) in its low bits,
 * user data from +16 to the next chunk's +8 (the next prev_size field is
 * the user's while this chunk is in use).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/heapwalk.h"

#define HDR 16u
#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define SIZE_BITS 7u
#define WALK_BUF (256u << 10)
#define PAGE 4096u

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

void heapwalk_free(struct heapwalk_heap *h)
{
	free(h->marks);
	h->marks = NULL;
	h->n_marks = 0;
}

static int push_mark(struct heapwalk_heap *h, uint64_t chunk, size_t *cap)
{
	if (h->n_marks == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		uint64_t *v = realloc(h->marks, c * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->marks = v;
		*cap = c;
	}
	h->marks[h->n_marks++] = chunk;
	return 0;
}

static void stop_walk(struct heapwalk_heap *h, uint64_t at, const char *why)
{
	h->stopped_at = at;
	snprintf(h->error, sizeof(h->error), "walk stopped at 0x%llx (%s)",
		 (unsigned long long)at, why);
}

/* Is the header at cur a valid in-arena chunk ending by limit? */
static const char *bad_chunk(uint64_t cur, uint64_t size_field, uint64_t limit)
{
	uint64_t size = size_field & ~(uint64_t)SIZE_BITS;
	if (size_field & IS_MMAPPED)
		return "corrupt chunk";
	if (size < HEAPWALK_MINSIZE || size % 16 != 0)
		return "corrupt chunk";
	if (size > limit - cur)
		return "corrupt chunk";
	return NULL;
}

int heapwalk_build_at(struct heapwalk_heap *h, uint64_t start, uint64_t end, uint64_t first,
		      uint64_t limit, heapwalk_read_fn read, void *arg)
{
	memset(h, 0, sizeof(*h));
	h->start = start;
	h->end = end;
	h->first = first;
	h->limit = limit;
	h->walked_end = first;
	if (first < start || limit > end || first > limit || (first + HDR) % 16 != 0) {
		stop_walk(h, first, "bad heap layout");
		return 0;
	}
	unsigned char *buf = malloc(WALK_BUF);
	if (!buf)
		return -ENOMEM;
	size_t cap = 0;
	uint64_t buf_at = 0, buf_len = 0;
	uint64_t cur = first;
	int rc = 0;
	while (limit - cur >= HDR) {
		if (cur < buf_at || cur + HDR > buf_at + buf_len) {
			uint64_t want = limit - cur < WALK_BUF ? limit - cur : WALK_BUF;
			long n = read(arg, cur, buf, want);
			if (n < (long)HDR) {
				if (cur == first && n < 0)
					rc = (int)n;
				stop_walk(h, cur, "unreadable");
				break;
			}
			buf_at = cur;
			buf_len = (uint64_t)n;
		}
		uint64_t size_field = get64(buf + (cur - buf_at) + 8);
		uint64_t size = size_field & ~(uint64_t)SIZE_BITS;
		/* A fencepost ends the walk: when an arena grows into a new
		 * heap, sysmalloc ends the old one with a 16-byte chunk and a
		 * zero-size one, within the last 32 to 47 bytes. */
		if (size == HDR && limit - cur < 3 * HDR)
			break;
		const char *why = bad_chunk(cur, size_field, limit);
		if (why) {
			stop_walk(h, cur, why);
			break;
		}
		if (h->n_chunks % HEAPWALK_STRIDE == 0 && push_mark(h, cur, &cap) < 0) {
			rc = -ENOMEM;
			break;
		}
		h->n_chunks++;
		cur += size;
		h->walked_end = cur;
	}
	free(buf);
	if (rc < 0)
		heapwalk_free(h);
	return rc;
}

int heapwalk_build(struct heapwalk_heap *h, uint64_t start, uint64_t end, bool main_arena,
		   heapwalk_read_fn read, void *arg)
{
	if (main_arena) {
		/* sysmalloc aligns the first user pointer to 16. */
		uint64_t first = start + ((16 - (start + HDR) % 16) % 16);
		int rc = heapwalk_build_at(h, start, end, first, end, read, arg);
		h->main_arena = true;
		return rc;
	}
	/* heap_info: ar_ptr, prev, size, mprotect_size, pagesize, pad. */
	unsigned char hi[HEAPWALK_HEAP_INFO_SIZE];
	long n = read(arg, start, hi, sizeof(hi));
	if (n < (long)sizeof(hi)) {
		memset(h, 0, sizeof(*h));
		h->start = start;
		h->end = end;
		if (n < 0)
			return (int)n;
		stop_walk(h, start, "unreadable heap_info");
		return 0;
	}
	uint64_t ar_ptr = get64(hi), size = get64(hi + 16);
	bool first_heap = ar_ptr == start + HEAPWALK_HEAP_INFO_SIZE;
	uint64_t first = start + HEAPWALK_HEAP_INFO_SIZE;
	if (first_heap) {
		first += HEAPWALK_MALLOC_STATE_SIZE;
		first += (16 - (first + HDR) % 16) % 16;
	}
	if (size < first - start || size > HEAPWALK_ARENA_SIZE || size > end - start) {
		memset(h, 0, sizeof(*h));
		h->start = start;
		h->end = end;
		stop_walk(h, start, "corrupt heap_info");
		return 0;
	}
	int rc = heapwalk_build_at(h, start, end, first, start + size, read, arg);
	h->first_heap = first_heap;
	return rc;
}

/* Read a chunk header; false if unreadable. */
static bool header(heapwalk_read_fn read, void *arg, uint64_t at, uint64_t *prev,
		   uint64_t *size_field)
{
	unsigned char b[HDR];
	if (read(arg, at, b, sizeof(b)) != (long)sizeof(b))
		return false;
	*prev = get64(b);
	*size_field = get64(b + 8);
	return true;
}

int heapwalk_find(const struct heapwalk_heap *h, uint64_t addr, struct heapwalk_chunk *out,
		  heapwalk_read_fn read, void *arg)
{
	if (!h->n_marks || addr < h->first + HDR || addr >= h->walked_end)
		return 0;
	/* Last mark whose user area starts at or before addr. */
	size_t lo = 0, hi = h->n_marks;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->marks[mid] + HDR <= addr)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t cur = h->marks[lo];
	for (int step = 0; step <= HEAPWALK_STRIDE; step++) {
		uint64_t prev, sf;
		if (!header(read, arg, cur, &prev, &sf))
			return -EFAULT;
		uint64_t size = sf & ~(uint64_t)SIZE_BITS;
		if (bad_chunk(cur, sf, h->walked_end))
			return 0; /* changed since the walk (target not frozen) */
		if (addr < cur + HDR)
			return 0;
		uint64_t next = cur + size;
		if (addr < next + 8 && addr < h->walked_end) {
			memset(out, 0, sizeof(*out));
			out->chunk = cur;
			out->user = cur + HDR;
			out->chunk_size = size;
			out->size = size - 8;
			if (next >= h->walked_end) {
				out->top = h->stopped_at == 0 && next == h->limit;
				out->in_use = !out->top;
			} else {
				uint64_t np, nsf;
				if (!header(read, arg, next, &np, &nsf))
					return -EFAULT;
				out->in_use = nsf & PREV_INUSE;
			}
			return 1;
		}
		cur = next;
		if (cur >= h->walked_end)
			return 0;
	}
	return 0;
}

int heapwalk_mmapped_find(uint64_t start, uint64_t end, uint64_t addr,
			  struct heapwalk_chunk *out, heapwalk_read_fn read, void *arg)
{
	uint64_t cur = start;
	for (int i = 0; i < 4096 && cur < end && end - cur >= PAGE; i++) {
		uint64_t prev, sf;
		/* The header sits prev_size bytes into the mapping. */
		if (!header(read, arg, cur, &prev, &sf))
			return -EFAULT;
		if (prev >= PAGE || prev % 16 != 0)
			return 0;
		uint64_t chunk = cur + prev;
		if (prev && !header(read, arg, chunk, &prev, &sf))
			return -EFAULT;
		uint64_t size = sf & ~(uint64_t)SIZE_BITS;
		if (!(sf & IS_MMAPPED) || size < PAGE - prev || size > end - chunk ||
		    (chunk + size) % PAGE != 0)
			return 0;
		if (addr >= chunk + HDR && addr < chunk + size) {
			memset(out, 0, sizeof(*out));
			out->chunk = chunk;
			out->user = chunk + HDR;
			out->chunk_size = size;
			out->size = size - HDR;
			out->in_use = true;
			out->mmapped = true;
			return 1;
		}
		if (addr < chunk + HDR)
			return 0;
		cur = chunk + size;
	}
	return 0;
}
