/*
 * heapwalk.h - malloc chunks of glibc heaps (2.36, x86-64 layouts).
 *
 * A heap region is walked once, chunk by chunk from its first chunk, and
 * every HEAPWALK_STRIDE-th chunk address is kept, so finding the chunk of
 * an address is a binary search plus at most HEAPWALK_STRIDE header reads.
 * The target's memory is untrusted: every header is checked (size & ~7 at
 * least 32 and a multiple of 16, chunk inside the walked range, no
 * IS_MMAPPED bit in an arena) and the walk stops at the first bad one,
 * recording "walk stopped at 0x... (corrupt chunk)"; chunks before it are
 * still found.
 *
 * Layouts:
 *  - main arena ([heap]): chunks start at the region start;
 *  - a thread arena heap (64 MiB aligned): a heap_info header (48 bytes),
 *    then, for the arena's first heap (heap_info.ar_ptr points right after
 *    the header), the malloc_state (2200 bytes) and padding so that user
 *    pointers are 16-aligned; the walk ends at heap_info.size;
 *  - a chunk served by mmap: one anonymous region whose first chunk has
 *    the IS_MMAPPED bit (heapwalk_mmapped_chunk).
 */
#ifndef MEMTOP_HEAPWALK_H
#define MEMTOP_HEAPWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAPWALK_STRIDE 16
#define HEAPWALK_MINSIZE 32
#define HEAPWALK_ARENA_SIZE (64ULL << 20) /* glibc HEAP_MAX_SIZE */
#define HEAPWALK_HEAP_INFO_SIZE 48
#define HEAPWALK_MALLOC_STATE_SIZE 2200

/* Read len bytes of the target at addr into buf; bytes read or -errno. */
typedef long (*heapwalk_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

struct heapwalk_heap {
	uint64_t start;    /* region */
	uint64_t end;
	uint64_t first;    /* first chunk */
	uint64_t limit;    /* chunks end here (top chunk's end) */
	bool main_arena;
	bool first_heap;   /* thread arena heap holding the malloc_state */
	uint64_t *marks;   /* address of chunk 0, STRIDE, 2*STRIDE, ... */
	size_t n_marks;
	size_t n_chunks;   /* chunks walked */
	uint64_t walked_end; /* end of the last good chunk */
	uint64_t stopped_at; /* 0: walk complete; else the bad chunk */
	char error[128];   /* "walk stopped at 0x... (corrupt chunk)" or "" */
};

struct heapwalk_chunk {
	uint64_t chunk;  /* header address */
	uint64_t user;   /* chunk + 16: what malloc returned */
	uint64_t size;   /* usable bytes (malloc_usable_size) */
	uint64_t chunk_size;
	bool in_use;     /* next chunk's PREV_INUSE (tcache/fastbin chunks look in use) */
	bool top;        /* the arena's top chunk (free space) */
	bool mmapped;
};

/*
 * Walk the heap region [start, end).  main_arena: it is [heap].  For a
 * thread arena the heap_info header is read to find the first chunk and
 * the limit.  Returns 0 (also when the walk stopped at a corrupt chunk:
 * see stopped_at and error), -ENOMEM, or -errno of a failed first read.
 */
int heapwalk_build(struct heapwalk_heap *h, uint64_t start, uint64_t end, bool main_arena,
		   heapwalk_read_fn read, void *arg);

/* The same walk from an explicit first chunk and limit (tests, and the
 * layouts above). */
int heapwalk_build_at(struct heapwalk_heap *h, uint64_t start, uint64_t end,
		      uint64_t first, uint64_t limit, heapwalk_read_fn read, void *arg);

void heapwalk_free(struct heapwalk_heap *h);

/*
 * The chunk whose user area [user, user + usable size) holds addr.
 * Returns 1 and fills out; 0 when addr is in a chunk header, before the
 * first chunk or past the walked part; -errno when the target can no
 * longer be read.
 */
int heapwalk_find(const struct heapwalk_heap *h, uint64_t addr, struct heapwalk_chunk *out,
		  heapwalk_read_fn read, void *arg);

/*
 * In an anonymous region [start, end) made of chunks served by mmap (the
 * kernel merges neighbouring ones into one region): the chunk holding
 * addr.  Each header must have IS_MMAPPED, prev_size (the alignment
 * correction) below a page, and chunk + size page-aligned within the
 * region.  Returns 1 and fills out, 0 if addr is not in such a chunk,
 * -errno.
 */
int heapwalk_mmapped_find(uint64_t start, uint64_t end, uint64_t addr,
			  struct heapwalk_chunk *out, heapwalk_read_fn read, void *arg);

#endif
