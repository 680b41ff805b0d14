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

#include "memtop/arch.h"

#define HEAPWALK_STRIDE 16
/* glibc's layout, from arch.h */
#define HEAPWALK_MINSIZE MT_GLIBC_MINSIZE
#define HEAPWALK_ARENA_SIZE MT_GLIBC_HEAP_MAX_SIZE
#define HEAPWALK_HEAP_INFO_SIZE MT_GLIBC_HEAP_INFO_SIZE
#define HEAPWALK_MALLOC_STATE_SIZE MT_GLIBC_MALLOC_STATE_SIZE

/* Read len bytes of the target at addr into buf; bytes read or -errno. */
typedef long (*heapwalk_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

struct heapwalk_heap {
	uint64_t start;    /* region */
	uint64_t end;
	uint64_t first;    /* first chunk */
	uint64_t limit;    /* chunks end here (top chunk's end) */
	bool main_arena;
	bool first_heap;   /* thread arena heap holding the malloc_state */
	uint64_t ar_ptr;   /* thread arena heap: heap_info.ar_ptr, its malloc_state */
	uint64_t *marks;   /* address of chunk 0, STRIDE, 2*STRIDE, ... */
	size_t n_marks;
	size_t n_chunks;   /* chunks walked */
	uint64_t walked_end; /* end of the last good chunk */
	uint64_t last;     /* last good chunk (the top chunk of a complete walk) */
	/* Chunks of size 0x290 whose user area looks like a
	 * tcache_perthread_struct (heapwalk_freeset_build checks them). */
	uint64_t *tcache_cands;
	size_t n_tcache_cands;
	uint64_t stopped_at; /* 0: walk complete; else the bad chunk */
	char error[128];   /* "walk stopped at 0x... (corrupt chunk)" or "" */
};

/* The free list a chunk that looks in use sits in (heapwalk_freeset_*). */
enum heapwalk_freelist { HEAPWALK_FREE_NONE, HEAPWALK_FREE_TCACHE, HEAPWALK_FREE_FASTBIN };

struct heapwalk_chunk {
	uint64_t chunk;  /* header address */
	uint64_t user;   /* chunk + 16: what malloc returned */
	uint64_t size;   /* usable bytes (malloc_usable_size) */
	uint64_t chunk_size;
	bool in_use;     /* next chunk's PREV_INUSE (tcache/fastbin chunks look in use:
			  * heapwalk_freeset_find tells them) */
	bool top;        /* the arena's top chunk (free space) */
	bool mmapped;
	/* In a tcache bin or a fastbin: free although it looks in use (set
	 * by whoever checks a heapwalk_freeset; in_use is then false). */
	enum heapwalk_freelist free_list;
};

/*
 * Walk the heap region [start, end).  main_arena: it is [heap].  For a
 * thread arena the heap_info header is read to find the first chunk and
 * the limit.  Returns 0 (also when the walk stopped at a corrupt chunk:
 * see stopped_at and error), -ENOMEM, or -errno of a failed first read.
 */
int heapwalk_build(struct heapwalk_heap *h, uint64_t start, uint64_t end, bool main_arena,
		   heapwalk_read_fn read, void *arg);

/*
 * Every chunk the walk passes, in address order, handed to a visitor as
 * soon as its successor's header (its PREV_INUSE bit) has been read.
 * in_use is that bit: tcache and fastbin chunks look in use (see the free
 * lists below).  The last chunk of a walk that reached the limit is the
 * top chunk; before a fencepost it is judged by the fencepost's bit; a
 * walk cut short takes it as in use.
 */
struct heapwalk_visit {
	uint64_t chunk;
	uint64_t chunk_size;
	bool in_use;
	bool top;
	uint64_t word0;  /* first user word (chunk + 16): a C++ object's vptr */
};

/* Return non-zero to end the walk (heapwalk_walk then returns it). */
typedef int (*heapwalk_visit_fn)(void *varg, const struct heapwalk_visit *v);

/* heapwalk_build() that also shows each chunk to visit (NULL: none). */
int heapwalk_walk(struct heapwalk_heap *h, uint64_t start, uint64_t end, bool main_arena,
		  heapwalk_visit_fn visit, void *varg, heapwalk_read_fn read, void *arg);

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

/*
 * glibc's own count of mmapped chunks, from its malloc_par (mp_) found in
 * libc's writable data (len bytes at data) by the tail its layout has had
 * since 2.26: int n_mmaps, n_mmaps_max, max_n_mmaps, no_dyn_threshold;
 * size_t mmapped_mem, max_mmapped_mem; char *sbrk_base (the start of
 * [heap], which anchors the search); size_t tcache_bins,
 * tcache_max_bytes, tcache_count.  True when exactly one place fits.
 */
struct heapwalk_mp {
	uint64_t n_mmaps;
	uint64_t mmapped_mem;
};
bool heapwalk_find_mp(const void *data, size_t len, uint64_t sbrk_base, struct heapwalk_mp *out);

/*
 * The chain of mmapped chunks of such a region, one at a time: the chunk
 * whose mapping starts at *cur (the region start at first).  Returns 1,
 * fills out and moves *cur past it; 0 when no such chunk is there (the
 * chain ends); -errno when the target cannot be read.
 */
int heapwalk_mmapped_next(uint64_t end, uint64_t *cur, struct heapwalk_chunk *out,
			  heapwalk_read_fn read, void *arg);

/* ---- free lists: chunks that look in use but are free ------------------
 *
 * A chunk in a tcache bin or a fastbin keeps the next chunk's PREV_INUSE
 * bit set, so the walk takes it for in use.  heapwalk_freeset_build
 * follows those lists (glibc 2.36 layouts, safe-linked next pointers:
 * stored = (address of the field >> 12) ^ next) and keeps the chunk
 * addresses in a sorted array.
 *
 * tcache_perthread_struct (640 bytes: uint16_t counts[64], then
 * entries[64], each the user pointer of bin i's first chunk, not
 * safe-linked): a candidate from the walk is taken when for every bin
 * counts[i] == 0 exactly when entries[i] is NULL, at least one bin is
 * used, and every first entry is a chunk boundary of a walked heap with
 * size 32 + 16 * i whose key word (user + 8) is the same for all of them
 * (glibc's per-process tcache_key).  Each list is then followed for at
 * most min(counts[i], HEAPWALK_TCACHE_CHAIN_MAX) chunks, each checked
 * (16-aligned, inside a walked heap, size of its bin, the same key, not
 * seen before in that list).
 *
 * Fastbins: a thread arena's malloc_state sits in its first heap; its
 * fastbinsY[10] (offset 16) hold chunk addresses, fd (chunk + 16) is
 * safe-linked.  The main arena's malloc_state is in libc's data: it is
 * reached through the arenas' `next` ring, and taken only when its `top`
 * is the last chunk of the walked [heap].  Each list stops at the first
 * chunk that fails the checks above (no key), at a cycle, or after
 * HEAPWALK_FASTBIN_CHAIN_MAX chunks.  A list cut short is reported in
 * error; the chunks before the cut are kept.
 */

#define HEAPWALK_TCACHE_BINS MT_GLIBC_TCACHE_BINS
#define HEAPWALK_TCACHE_CHUNK MT_GLIBC_TCACHE_CHUNK
#define HEAPWALK_TCACHE_CHAIN_MAX 1024
#define HEAPWALK_FASTBINS MT_GLIBC_FASTBINS
#define HEAPWALK_FASTBIN_CHAIN_MAX 4096
#define HEAPWALK_TCACHE_CANDS_MAX 1024 /* per heap */
#define HEAPWALK_MSTATE_FASTBINS MT_GLIBC_MSTATE_FASTBINS
#define HEAPWALK_MSTATE_TOP MT_GLIBC_MSTATE_TOP
#define HEAPWALK_MSTATE_NEXT MT_GLIBC_MSTATE_NEXT

struct heapwalk_freeset {
	uint64_t *v;        /* chunk address | enum heapwalk_freelist, sorted */
	size_t n;
	size_t cap;
	size_t n_tcaches;   /* tcache structs taken */
	size_t n_arenas;    /* malloc_states whose fastbins were followed */
	bool main_arena;    /* the main arena's malloc_state was reached */
	char error[160];    /* the first list cut short, or "" */
};

/*
 * Follow the tcache and fastbin lists of the walked heaps heaps[0..n)
 * (every heap of the process, for the arenas' ring and since a thread's
 * tcache holds chunks of any arena).  Returns 0 (lists cut short are
 * noted in error), or -ENOMEM.
 */
int heapwalk_freeset_build(struct heapwalk_freeset *fs, const struct heapwalk_heap *const *heaps,
			   size_t n, heapwalk_read_fn read, void *arg);
/* Which list holds the chunk whose header is at chunk, if any. */
enum heapwalk_freelist heapwalk_freeset_find(const struct heapwalk_freeset *fs, uint64_t chunk);
void heapwalk_freeset_free(struct heapwalk_freeset *fs);

#endif
