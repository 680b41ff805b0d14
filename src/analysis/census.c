/*
 * census.c - every chunk of glibc's heap, counted and named (census.h).
 *
 * One pass per heap, streamed: heapwalk_walk() reads the heap in windows
 * and hands each chunk to visit(), which keeps the chunks in use (16
 * bytes each) and adds free ones to their arena's figures.  The tcache
 * and fastbin lists are followed afterwards (they need every heap walked:
 * a thread's tcache holds chunks of any arena) and their chunks move from
 * in use to free.  A chunk's class is looked up once per distinct first
 * word: a hash from the word to the class (or to "not a vtable").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memtop/census.h"
#include "memtop/clock.h"
#include "memtop/hash.h"
#include "memtop/heapwalk.h"
#include "memtop/vec.h"

#define PAGE 4096u
#define MINSIZE 32u
#define MALLOC_CHUNK 48u /* sizeof(struct malloc_chunk): mtrim's offset */
#define REMOVED 0x7ffffffeu
#define PREPARE_MAX (8u << 20) /* chunks made ready before the freeze */

void census_init(struct census *c)
{
	memset(c, 0, sizeof(*c));
}

void census_free(struct census *c)
{
	free(c->chunks);
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	free(c->arenas);
	free(c->classes);
	free(c->ranges);
	for (size_t i = 0; i < c->n_walk_errors; i++)
		free(c->walk_errors[i]);
	free(c->walk_errors);
	census_init(c);
}

__attribute__((format(printf, 2, 3)))
static int walk_error(struct census *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char **v = realloc(c->walk_errors, (c->n_walk_errors + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->walk_errors = v;
	if (!(v[c->n_walk_errors] = strdup(msg)))
		return -ENOMEM;
	c->n_walk_errors++;
	return 0;
}

/* ---- naming: first word -> class --------------------------------------- */

struct vt_slot {
	uint64_t key; /* 0: empty */
	uint32_t cls;
};

struct ctx {
	struct census *c;
	const struct mt_snapshot *s;
	struct present *pr;
	const struct symbols_map *m;
	struct vt_slot *vt;
	size_t vt_cap, vt_n;
	/* Where vtables may be: the modules' regions that are neither
	 * executable nor writable (.rodata, .data.rel.ro after relro), or
	 * writable ones of a module (no relro), sorted. */
	struct present_span *vtr;
	size_t n_vtr;
	uint64_t last_w;   /* the last word looked up, and its class */
	uint32_t last_cls;
	struct census_arena *arena;
	bool main_heap;
	/* Where a region's walk met memory that is not malloc's (a stuck
	 * point: a region and an address), and where malloc's memory was
	 * found again after one (resume points, sorted): walk_counted. */
	struct stuck { const struct mt_region *r; uint64_t at, present; } *stuck;
	size_t n_stuck, cap_stuck;
	uint64_t *resume;
	size_t n_resume, cap_resume;
	int rc;
};

static int vt_grow(struct ctx *x)
{
	size_t cap = x->vt_cap ? x->vt_cap * 2 : 4096;
	struct vt_slot *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < x->vt_cap; i++) {
		if (!x->vt[i].key)
			continue;
		size_t h = hash_mix(x->vt[i].key) & (cap - 1);
		while (v[h].key)
			h = (h + 1) & (cap - 1);
		v[h] = x->vt[i];
	}
	free(x->vt);
	x->vt = v;
	x->vt_cap = cap;
	return 0;
}

uint32_t census_name(struct census *c, const char *name)
{
	for (size_t i = 0; i < c->n_names; i++)
		if (strcmp(c->names[i], name) == 0)
			return (uint32_t)i;
	if (c->n_names >= REMOVED || VEC_RESERVE(c->names, c->cap_names, c->n_names, 64))
		return CENSUS_UNNAMED;
	char *d = strdup(name);
	if (!d)
		return CENSUS_UNNAMED;
	c->names[c->n_names] = d;
	return (uint32_t)c->n_names++;
}

static bool in_vt_ranges(const struct ctx *x, uint64_t w)
{
	size_t lo = 0, hi = x->n_vtr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->vtr[mid].end <= w)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n_vtr && x->vtr[lo].start <= w;
}

/* The class of an object whose first word is w, or CENSUS_UNNAMED.
 * Called for every chunk in use: neighbours are often of one class (the
 * last answer is kept), and most first words are no vtable pointer (a
 * binary search among a few dozen ranges says so). */
static uint32_t class_of(struct ctx *x, uint64_t w)
{
	if (w == x->last_w)
		return x->last_cls;
	if (w % 8 || !in_vt_ranges(x, w))
		return CENSUS_UNNAMED;
	if (x->vt_n * 2 >= x->vt_cap && vt_grow(x) < 0)
		return CENSUS_UNNAMED;
	size_t h = hash_mix(w) & (x->vt_cap - 1);
	while (x->vt[h].key) {
		if (x->vt[h].key == w) {
			x->last_w = w;
			return x->last_cls = x->vt[h].cls;
		}
		h = (h + 1) & (x->vt_cap - 1);
	}
	char name[512];
	uint32_t cls = CENSUS_UNNAMED;
	/* RTTI lives in the modules' pages: pages_read takes those the target
	 * never read from the file, and faults none in. */
	if (symbols_class_of(x->m, x->s, w, pages_read_cb, x->pr->pg, name, sizeof(name)))
		cls = census_name(x->c, name);
	x->vt[h] = (struct vt_slot){ w, cls };
	x->vt_n++;
	x->last_w = w;
	return x->last_cls = cls;
}

/* ---- the walk ------------------------------------------------------------ */

static int push_chunk(struct census *c, uint64_t user, uint64_t size, uint32_t cls)
{
	if (VEC_RESERVE(c->chunks, c->cap_chunks, c->n_chunks, 4096))
		return -ENOMEM;
	c->chunks[c->n_chunks++] = (struct census_chunk){ user, (uint32_t)(size / 16), cls };
	return 0;
}

static int push_range(struct census *c, uint64_t start, uint64_t end, int32_t arena)
{
	if (VEC_RESERVE(c->ranges, c->cap_ranges, c->n_ranges, 64))
		return -ENOMEM;
	c->ranges[c->n_ranges++] = (struct census_range){ start, end, arena };
	return 0;
}

/* Pages of a free chunk that mtrim() would madvise away, existing ones. */
static uint64_t trim_of(const struct present *pr, uint64_t chunk, uint64_t size)
{
	uint64_t from = (chunk + MALLOC_CHUNK + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (size <= PAGE - 1 + MALLOC_CHUNK || chunk + size <= from)
		return 0;
	uint64_t len = (chunk + size - from) & ~(uint64_t)(PAGE - 1);
	return len ? present_bytes(pr, from, from + len) : 0;
}

static void add_free(struct census_arena *a, uint64_t size)
{
	a->free += size;
	a->free_chunks++;
	if (size > a->largest_free)
		a->largest_free = size;
}

static int visit(void *arg, const struct heapwalk_visit *v)
{
	struct ctx *x = arg;
	struct census_arena *a = x->arena;
	x->c->chunks_total++;
	if (v->top) {
		a->top += v->chunk_size;
		a->free += v->chunk_size;
		/* systrim gives back the top's whole pages above MINSIZE,
		 * in the main arena only. */
		if (x->main_heap && v->chunk_size > MINSIZE + 1) {
			uint64_t extra = (v->chunk_size - MINSIZE - 1) & ~(uint64_t)(PAGE - 1);
			uint64_t end = v->chunk + v->chunk_size;
			a->trimmable += present_bytes(x->pr, end - extra, end);
		}
		return 0;
	}
	if (!v->in_use) {
		add_free(a, v->chunk_size);
		a->trimmable += trim_of(x->pr, v->chunk, v->chunk_size);
		return 0;
	}
	a->in_use += v->chunk_size;
	a->chunks_in_use++;
	return push_chunk(x->c, v->chunk + 16, v->chunk_size, class_of(x, v->word0));
}

static struct census_arena *arena_for(struct census *c, bool main, uint64_t key, uint32_t *idx)
{
	for (size_t i = 0; i < c->n_arenas; i++)
		if (c->arenas[i].main == main && c->arenas[i].start == key) {
			*idx = (uint32_t)i;
			return &c->arenas[i];
		}
	struct census_arena *v = realloc(c->arenas, (c->n_arenas + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->arenas = v;
	*idx = (uint32_t)c->n_arenas;
	struct census_arena *a = &c->arenas[c->n_arenas++];
	memset(a, 0, sizeof(*a));
	a->main = main;
	a->start = key;
	return a;
}

/* Walk one heap (a region, or a 64 MiB slice of one); the heap is kept
 * in h for the free lists. */
static int walk_heap(struct ctx *x, const struct mt_region *r, bool main,
		     struct heapwalk_heap *h)
{
	struct census *c = x->c;
	uint64_t key = r->start;
	if (!main) {
		uint64_t hi[3];
		if (present_read(x->pr, r->start, hi, sizeof(hi)) < 0)
			return -ESRCH;
		key = hi[0]; /* ar_ptr */
	}
	uint32_t ai;
	struct census_arena *a = arena_for(c, main, key, &ai);
	if (!a)
		return -ENOMEM;
	x->arena = a;
	x->main_heap = main;
	int rc = heapwalk_walk(h, r->start, r->end, main, visit, x, present_read_cb, x->pr);
	if (rc < 0)
		return rc;
	a = &c->arenas[ai];
	a->n_heaps++;
	/* A walk that stops on a swapped-out page stops there because memtop
	 * will not swap it in: say so rather than "corrupt". */
	if (h->stopped_at && (present_swapped(x->pr, h->stopped_at) ||
			      present_swapped(x->pr, h->stopped_at + 8)))
		snprintf(h->error, sizeof(h->error), "walk stopped at 0x%llx (page swapped out: "
			 "not read, memtop does not fault pages in)",
			 (unsigned long long)h->stopped_at);
	if (h->error[0] && walk_error(c, "heap 0x%llx-0x%llx: %s", (unsigned long long)r->start,
				      (unsigned long long)r->end, h->error) < 0)
		return -ENOMEM;
	uint64_t limit = main ? r->end : h->limit;
	a->system += limit - r->start;
	/* Not chunks: the heap's header (heap_info, the arena's
	 * malloc_state, alignment) and the fenceposts after its last one. */
	if (h->n_chunks || !h->stopped_at)
		a->overhead += (h->first - r->start) + (h->stopped_at ? 0 : limit - h->walked_end);
	return push_range(c, h->first, h->walked_end, (int32_t)ai);
}

/* The chain of mmapped chunks of region r from *at on; *at is left where
 * it ends. */
static int walk_mmapped(struct ctx *x, const struct mt_region *r, uint64_t *at_io)
{
	struct census *c = x->c;
	uint64_t cur = *at_io;
	for (;; *at_io = cur) {
		struct heapwalk_chunk hc;
		uint64_t at = cur;
		int rc = heapwalk_mmapped_next(r->end, &cur, &hc, present_read_cb, x->pr);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return 0;
		if (hc.chunk_size / 16 > UINT32_MAX)
			return walk_error(c, "mmapped chunk 0x%llx: %llu bytes, too large "
					  "to count",
					  (unsigned long long)hc.chunk,
					  (unsigned long long)hc.chunk_size);
		uint64_t w0 = 0;
		present_read(x->pr, hc.user, &w0, sizeof(w0));
		c->mmapped_chunks++;
		c->mmapped_bytes += hc.chunk_size + (hc.chunk - at);
		c->chunks_total++;
		if (push_chunk(c, hc.user, hc.chunk_size, class_of(x, w0) | CENSUS_MMAPPED) < 0 ||
		    push_range(c, hc.chunk, hc.chunk + hc.chunk_size, -1) < 0)
			return -ENOMEM;
	}
}

static bool is_heap_region(const struct mt_region *r)
{
	return r->category == MT_CAT_HEAP && (r->perms & (MT_PERM_R | MT_PERM_W)) ==
	       (MT_PERM_R | MT_PERM_W) && !(r->perms & MT_PERM_SHARED);
}

/* Anonymous private read-write memory: a thread's stack too, since the
 * kernel merges an mmapped chunk's mapping placed right above a stack
 * with it. */
static bool may_hold_mmapped(const struct mt_region *r)
{
	return (r->category == MT_CAT_ANON || r->category == MT_CAT_STACK) && r->path_len == 0 &&
	       (r->perms & (MT_PERM_R | MT_PERM_W | MT_PERM_SHARED)) == (MT_PERM_R | MT_PERM_W);
}

long census_find(const struct census *c, uint64_t addr)
{
	size_t lo = 0, hi = c->n_chunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->chunks[mid].user <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const struct census_chunk *k = &c->chunks[lo - 1];
	return addr < k->user + census_usable(k) ? (long)(lo - 1) : -1;
}

/* Whether the ranges are in address order and disjoint, as the walk
 * pushes them (region by region, each from its start): then arena_of
 * may search them by halves. */
static bool ranges_sorted(const struct census *c)
{
	for (size_t i = 1; i < c->n_ranges; i++)
		if (c->ranges[i].start < c->ranges[i - 1].end)
			return false;
	return true;
}

/* The arena of the chunk at chunk (a heap range), or -1.  A free list
 * has thousands of entries and a census as many mmapped chunks, each a
 * range: a linear search of the ranges per entry was quadratic. */
static int32_t arena_of(const struct census *c, bool sorted, uint64_t chunk)
{
	if (!sorted) {
		for (size_t i = 0; i < c->n_ranges; i++)
			if (chunk >= c->ranges[i].start && chunk < c->ranges[i].end)
				return c->ranges[i].arena;
		return -1;
	}
	/* The last range starting at or before chunk (an empty one before
	 * it, start == end, holds nothing either way). */
	size_t lo = 0, hi = c->n_ranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->ranges[mid].start <= chunk)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || chunk >= c->ranges[lo - 1].end)
		return -1;
	return c->ranges[lo - 1].arena;
}

/* Chunks in tcache bins and fastbins look in use: move them to free. */
static int apply_freeset(struct ctx *x, struct heapwalk_heap *heaps, size_t n)
{
	struct census *c = x->c;
	const struct heapwalk_heap **v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = &heaps[i];
	struct heapwalk_freeset fs;
	int rc = heapwalk_freeset_build(&fs, v, n, present_read_cb, x->pr);
	free(v);
	if (rc < 0)
		return rc;
	c->n_tcaches = fs.n_tcaches;
	if (fs.error[0])
		rc = walk_error(c, "free list cut short: %s", fs.error);
	size_t removed = 0;
	bool sorted = ranges_sorted(c);
	for (size_t i = 0; i < fs.n && rc == 0; i++) {
		uint64_t chunk = fs.v[i] & ~(uint64_t)15;
		enum heapwalk_freelist kind = (enum heapwalk_freelist)(fs.v[i] & 15);
		long k = census_find(c, chunk + 16);
		int32_t ai = arena_of(c, sorted, chunk);
		if (k < 0 || c->chunks[k].user != chunk + 16 || ai < 0 ||
		    census_class(&c->chunks[k]) == REMOVED)
			continue;
		struct census_arena *a = &c->arenas[ai];
		uint64_t size = census_chunk_size(&c->chunks[k]);
		a->in_use -= size;
		a->chunks_in_use--;
		add_free(a, size);
		if (kind == HEAPWALK_FREE_TCACHE) {
			a->tcache += size;
		} else {
			a->fastbins += size;
			a->trimmable += trim_of(x->pr, chunk, size);
		}
		c->chunks[k].cls = REMOVED;
		removed++;
	}
	heapwalk_freeset_free(&fs);
	if (removed) {
		size_t o = 0;
		while (o < c->n_chunks && c->chunks[o].cls != REMOVED)
			o++;
		for (size_t i = o; i < c->n_chunks; i++)
			if (c->chunks[i].cls != REMOVED)
				c->chunks[o++] = c->chunks[i];
		c->n_chunks = o;
	}
	return rc;
}

/* The regions of modules where a vtable may be (class_of). */
static int vt_ranges(struct ctx *x)
{
	const struct mt_snapshot *s = x->s;
	x->vtr = calloc(s->n_regions ? s->n_regions : 1, sizeof(*x->vtr));
	if (!x->vtr)
		return -ENOMEM;
	x->last_w = 1; /* no word is odd and a vtable */
	x->last_cls = CENSUS_UNNAMED;
	for (size_t i = 0; x->m && i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (!(r->perms & MT_PERM_R) || (r->perms & MT_PERM_X) ||
		    !symbols_module_of(x->m, r->start))
			continue;
		if (x->n_vtr && x->vtr[x->n_vtr - 1].end == r->start)
			x->vtr[x->n_vtr - 1].end = r->end;
		else
			x->vtr[x->n_vtr++] = (struct present_span){ r->start, r->end };
	}
	return 0;
}

static uint64_t heap_bytes(const struct mt_snapshot *s)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < s->n_regions; i++)
		if (is_heap_region(&s->regions[i]))
			bytes += mt_region_size(&s->regions[i]);
	return bytes;
}

/* An array of want chunks; on transparent huge pages (a few faults
 * instead of one per 4 KiB; a no-op where THP is off). */
static int reserve_chunks(struct census *c, size_t want)
{
	if (want <= c->cap_chunks)
		return 0;
	struct census_chunk *v = realloc(c->chunks, want * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->chunks = v;
	c->cap_chunks = want;
	uintptr_t from = ((uintptr_t)v + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
	uintptr_t to = ((uintptr_t)v + want * sizeof(*v)) & ~(uintptr_t)((2u << 20) - 1);
	if (to > from)
		madvise((void *)from, to - from, MADV_HUGEPAGE);
	return 0;
}

int census_prepare(struct census *c, const struct mt_snapshot *s)
{
	/* Most heaps average 48 bytes a chunk or more; past that, or past
	 * 8 M chunks (128 MiB made ready: a huge sparse heap must not cost
	 * memtop its size), the array grows inside the freeze (by mremap:
	 * no copy). */
	size_t want = (size_t)(heap_bytes(s) / 48) + 4096;
	if (want > PREPARE_MAX)
		want = PREPARE_MAX;
	if (reserve_chunks(c, want) < 0)
		return -ENOMEM;
	/* Touched now, while the target runs: the kernel's zeroing of fresh
	 * pages is then not part of the stop. */
	memset(c->chunks, 0, want * sizeof(*c->chunks));
	return 0;
}

static void totals(struct census *c)
{
	for (size_t i = 0; i < c->n_arenas; i++) {
		struct census_arena *a = &c->arenas[i];
		c->in_use_bytes += a->in_use;
		c->free_bytes += a->free;
		a->fragmentation = a->system ? (double)(a->free - a->top) / (double)a->system : 0;
	}
}

/*
 * Does a thread heap start at a (64 MiB aligned)?  heap_info: ar_ptr, an
 * address; prev, the arena's previous heap (aligned) or NULL; size, the
 * pages in use, within the region.  The kernel merges a full heap with
 * the next one when they touch, so one region may hold several heaps (and
 * classify then sees anonymous memory).
 */
static bool heap_at(struct ctx *x, uint64_t a, uint64_t region_end)
{
	uint64_t hi[3];
	if (a % HEAPWALK_ARENA_SIZE || present_read(x->pr, a, hi, sizeof(hi)) < 0)
		return false;
	return hi[0] >= PAGE && hi[0] % 8 == 0 && hi[1] % HEAPWALK_ARENA_SIZE == 0 &&
	       hi[2] > HEAPWALK_HEAP_INFO_SIZE && hi[2] <= HEAPWALK_ARENA_SIZE &&
	       hi[2] % PAGE == 0 && hi[2] <= region_end - a;
}

static int add_heap(struct ctx *x, struct heapwalk_heap **heaps, size_t *n, size_t *cap,
		    const struct mt_region *r, uint64_t start, uint64_t end, bool main)
{
	if (VEC_RESERVE(*heaps, *cap, *n, 8))
		return -ENOMEM;
	struct mt_region slice = *r;
	slice.start = start;
	slice.end = end;
	int rc = walk_heap(x, &slice, main, &(*heaps)[*n]);
	if (rc < 0)
		return rc;
	(*n)++;
	return 0;
}

/*
 * Where malloc's memory may begin again in r after memory that is not
 * malloc's, from `from` on: the first present page that starts an mmapped
 * chunk or (64 MiB aligned) a thread heap, else r->end.  Only the first 16
 * bytes of present pages are read, in batches: a chunk's first page holds
 * its header, so it is present.  A stack or a pool with an mmapped
 * chunk's mapping merged above it (the kernel joins touching anonymous
 * mappings) hid that chunk from a walk that stopped at the region's
 * start.
 */
int census_next_mmapped(struct present *pr, uint64_t from, uint64_t end, uint64_t *out)
{
	uint64_t at[512], w[512][2], next = from;
	*out = end;
	while (next < end) {
		long n = present_page_heads(pr, next, end, at, w, 512, &next);
		if (n <= 0)
			return n == -ESRCH ? -ESRCH : 0;
		for (long i = 0; i < n; i++) {
			uint64_t cur = at[i];
			struct heapwalk_chunk hc;
			if (w[i][0] < PAGE && w[i][0] % 16 == 0 &&
			    heapwalk_mmapped_next(end, &cur, &hc, present_read_cb, pr) == 1) {
				*out = at[i];
				return 0;
			}
		}
	}
	return 0;
}

/* The next mmapped chunk, or thread heap (64 MiB aligned: few places to
 * look), from `from` in r. */
static int next_piece(struct ctx *x, const struct mt_region *r, uint64_t from, uint64_t *out)
{
	int rc = census_next_mmapped(x->pr, from, r->end, out);
	if (rc < 0)
		return rc;
	uint64_t a = (from + HEAPWALK_ARENA_SIZE - 1) & ~(uint64_t)(HEAPWALK_ARENA_SIZE - 1);
	for (; a < *out; a += HEAPWALK_ARENA_SIZE)
		if (heap_at(x, a, r->end)) {
			*out = a;
			break;
		}
	return 0;
}

/*
 * A region that is not [heap]: thread heaps (64 MiB aligned slices that
 * start with a heap_info) and chains of mmapped chunks, in any order,
 * since the kernel merges touching anonymous mappings of one protection
 * (a full heap and an mmapped chunk above it are one region), with other
 * memory between them (next_piece).
 */
/* The first resume point in (at, end), or end. */
static uint64_t resume_after(const struct ctx *x, uint64_t at, uint64_t end)
{
	for (size_t i = 0; i < x->n_resume; i++)
		if (x->resume[i] > at && x->resume[i] < end)
			return x->resume[i];
	return end;
}

static int walk_pieces(struct ctx *x, const struct mt_region *r, struct heapwalk_heap **heaps,
		       size_t *n_heaps, size_t *cap)
{
	uint64_t at = r->start;
	while (at < r->end) {
		int rc;
		if (heap_at(x, at, r->end)) {
			uint64_t e = r->end - at > HEAPWALK_ARENA_SIZE ? at + HEAPWALK_ARENA_SIZE
								    : r->end;
			rc = add_heap(x, heaps, n_heaps, cap, r, at, e, false);
			at = e;
		} else {
			uint64_t from = at;
			rc = walk_mmapped(x, r, &at);
			if (rc == 0 && at == from) { /* neither */
				if (VEC_RESERVE(x->stuck, x->cap_stuck, x->n_stuck, 16))
					return -ENOMEM;
				x->stuck[x->n_stuck++] = (struct stuck){
					r, at, present_bytes(x->pr, at, r->end) };
				at = resume_after(x, at, r->end);
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int walk_all(struct ctx *x, struct heapwalk_heap **heaps, size_t *n_heaps)
{
	const struct mt_snapshot *s = x->s;
	struct census *c = x->c;
	size_t cap = 0;
	bool main_seen = false;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		bool heap = is_heap_region(r), anon = may_hold_mmapped(r);
		if (!heap && !anon)
			continue;
		bool main = heap && strcmp(r->path, "[heap]") == 0;
		/* A [heap] grown after a fork is several mappings: one walk. */
		size_t last = i;
		while (main && snapshot_heap_continues(s, last))
			last++;
		uint64_t end = s->regions[last].end;
		if (present_add(x->pr, r->start, end) < 0)
			return -ENOMEM;
		int rc = 0;
		if (main && main_seen) {
			rc = walk_error(c, "[heap] 0x%llx-0x%llx: a second [heap] region, "
					"not walked",
					(unsigned long long)r->start, (unsigned long long)end);
		} else if (main) {
			main_seen = true;
			rc = add_heap(x, heaps, n_heaps, &cap, r, r->start, end, true);
		} else {
			rc = walk_pieces(x, r, heaps, n_heaps, &cap);
		}
		if (rc < 0)
			return rc;
		i = last;
	}
	return 0;
}

/* Forget a walk; the array census_prepare made ready survives. */
static void reset_walk(struct census *c, const struct mt_snapshot *s)
{
	struct census_chunk *keep = c->chunks;
	size_t keep_cap = c->cap_chunks;
	c->chunks = NULL;
	census_free(c);
	c->chunks = keep;
	c->cap_chunks = keep_cap;
	c->pid = s->pid;
	c->allocator = census_allocator(s);
}

/*
 * glibc's count of its mmapped chunks (heapwalk_find_mp), read from
 * libc's writable mapping; false when there is no [heap] to anchor the
 * search or no single place fits.
 */
static bool read_mp(struct ctx *x, struct heapwalk_mp *mp)
{
	const struct mt_snapshot *s = x->s;
	uint64_t sbrk_base = 0;
	for (size_t i = 0; i < s->n_regions && !sbrk_base; i++)
		if (strcmp(s->regions[i].path, "[heap]") == 0)
			sbrk_base = s->regions[i].start;
	bool found = false;
	for (size_t i = 0; i < s->n_regions && sbrk_base && !found; i++) {
		const struct mt_region *r = &s->regions[i];
		const char *base = strrchr(r->path, '/');
		base = base ? base + 1 : r->path;
		if ((r->perms & (MT_PERM_R | MT_PERM_W | MT_PERM_SHARED)) !=
			    (MT_PERM_R | MT_PERM_W) ||
		    (strncmp(base, "libc.so", 7) && strncmp(base, "libc-2.", 7)))
			continue;
		size_t len = (size_t)(r->end - r->start);
		if (len > (1u << 20))
			continue;
		uint64_t *buf = malloc(len);
		if (buf && pages_read(x->pr->pg, r->start, buf, len) == (long)len)
			found = heapwalk_find_mp(buf, len, sbrk_base, mp);
		free(buf);
	}
	return found;
}

/* The mmapped chunks chained from at in r (their headers only). */
static uint64_t chain_length(struct ctx *x, const struct mt_region *r, uint64_t at, uint64_t *end)
{
	uint64_t n = 0;
	struct heapwalk_chunk hc;
	while (heapwalk_mmapped_next(r->end, &at, &hc, present_read_cb, x->pr) == 1)
		n++;
	*end = at;
	return n;
}

static int cmp_stuck(const void *a, const void *b)
{
	const struct stuck *p = a, *q = b;
	return p->present < q->present ? -1 : p->present > q->present;
}

static int cmp_addr(const void *a, const void *b)
{
	uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;
	return p < q ? -1 : p > q;
}

/*
 * Find where malloc's memory begins again after the stuck points, until
 * `missing` mmapped chunks are found (UINT64_MAX: all of them), the
 * stuck points with the least present memory after them first: the
 * search reads a word pair per present page, and a process's own
 * gigabyte of anonymous memory is searched last, if at all.
 */
static int search_stuck(struct ctx *x, uint64_t missing)
{
	qsort(x->stuck, x->n_stuck, sizeof(*x->stuck), cmp_stuck);
	for (size_t i = 0; i < x->n_stuck && missing; i++) {
		const struct mt_region *r = x->stuck[i].r;
		uint64_t from = x->stuck[i].at + PAGE, p;
		while (missing && from < r->end) {
			int rc = next_piece(x, r, from, &p);
			if (rc < 0)
				return rc;
			if (p >= r->end)
				break;
			if (VEC_RESERVE(x->resume, x->cap_resume, x->n_resume, 16))
				return -ENOMEM;
			x->resume[x->n_resume++] = p;
			uint64_t end, k = chain_length(x, r, p, &end);
			missing -= missing == UINT64_MAX ? 0 : k < missing ? k : missing;
			from = end > p ? end : p + PAGE;
		}
	}
	qsort(x->resume, x->n_resume, sizeof(*x->resume), cmp_addr);
	return 0;
}

/* Before walking again: the heaps, the census, and the class cache,
 * whose class numbers index the names just freed (its last-word entry as
 * vt_ranges sets it: a zeroed one named every chunk starting with a zero
 * word as the first class found, an arena's tcache counts seen as a 51st
 * Sprocket). */
static void forget_walk(struct ctx *x, struct heapwalk_heap *heaps, size_t *n_heaps)
{
	for (size_t i = 0; i < *n_heaps; i++)
		heapwalk_free(&heaps[i]);
	*n_heaps = 0;
	reset_walk(x->c, x->s);
	free(x->vt);
	x->vt = NULL;
	x->vt_cap = x->vt_n = 0;
	x->last_w = 1;
	x->last_cls = CENSUS_UNNAMED;
	x->rc = 0;
	x->n_stuck = 0;
}

/*
 * The walk, and once more past memory that is not malloc's when glibc
 * counts more mmapped chunks than it found: the kernel merges an
 * mmapped chunk's mapping with anonymous memory right below it (a pool,
 * python's object arenas, a stack given to pthread_attr_setstack), and
 * the region then starts with something else.  Without glibc's count
 * (no [heap], an unknown layout), every stuck point is searched.
 */
static int walk_counted(struct ctx *x, struct heapwalk_heap **heaps, size_t *n_heaps)
{
	struct census *c = x->c;
	struct heapwalk_mp mp;
	bool known = read_mp(x, &mp);
	int rc = walk_all(x, heaps, n_heaps);
	if (rc == 0 && (!known || c->mmapped_chunks < mp.n_mmaps) && x->n_stuck)
		rc = search_stuck(x, known ? mp.n_mmaps - c->mmapped_chunks : UINT64_MAX);
	if (rc == 0 && x->n_resume) {
		forget_walk(x, *heaps, n_heaps);
		rc = walk_all(x, heaps, n_heaps);
	}
	const char *owner = x->m ? census_malloc_owner(x->m) : NULL;
	if (rc == 0 && owner)
		rc = walk_error(c, "malloc is defined in %s: what it hands out is counted "
				"here only if it takes it from glibc's malloc", owner);
	if (rc == 0 && known && c->mmapped_chunks != mp.n_mmaps)
		rc = walk_error(c, "glibc counts %llu mmapped chunks (%llu bytes); %llu found",
				(unsigned long long)mp.n_mmaps,
				(unsigned long long)mp.mmapped_mem,
				(unsigned long long)c->mmapped_chunks);
	return rc;
}

int census_run(struct census *c, const struct mt_snapshot *s, struct present *pr,
	       const struct symbols_map *m, struct mt_error *err)
{
	reset_walk(c, s);
	double t0 = clock_mono();
	struct ctx x = { .c = c, .s = s, .pr = pr, .m = m };
	struct heapwalk_heap *heaps = NULL;
	size_t n_heaps = 0;
	uint64_t bytes0 = pr->pages_bytes;
	/* Unprepared: room for the most a heap can hold, one chunk per 32
	 * bytes (untouched room costs address space only). */
	if (!c->cap_chunks)
		reserve_chunks(c, (size_t)(heap_bytes(s) / MINSIZE) + 4096);
	int rc = vt_ranges(&x);
	if (rc == 0)
		rc = walk_counted(&x, &heaps, &n_heaps);
	if (rc == 0)
		rc = apply_freeset(&x, heaps, n_heaps);
	for (size_t i = 0; i < n_heaps; i++)
		heapwalk_free(&heaps[i]);
	free(heaps);
	free(x.stuck);
	free(x.resume);
	free(x.vt);
	free(x.vtr);
	c->bytes_read = pr->pages_bytes - bytes0;
	c->swapped_bytes = pr->swapped_bytes;
	c->seconds = clock_mono() - t0;
	if (rc == -ESRCH)
		return mt_error_set(err, MT_ERR_EXITED, ESRCH,
				    "process %d exited during the census", s->pid);
	if (rc < 0)
		return mt_error_set(err, MT_ERR_OTHER, -rc, "heap census: %s", strerror(-rc));
	totals(c);
	c->chunks_in_use = c->n_chunks;
	return 0;
}

/* ---- classes ------------------------------------------------------------- */

struct size_slot {
	uint64_t size; /* 0: empty */
	uint32_t idx;
};

/* Usable size -> index of its class, for census_classes: open addressing. */
struct size_table {
	struct size_slot *v;
	size_t cap, n;
};

static int size_table_grow(struct size_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct size_slot *g = calloc(cap, sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (size_t j = 0; j < t->cap; j++) {
		if (!t->v[j].size)
			continue;
		size_t h = hash_mix(t->v[j].size) & (cap - 1);
		while (g[h].size)
			h = (h + 1) & (cap - 1);
		g[h] = t->v[j];
	}
	free(t->v);
	t->v = g;
	t->cap = cap;
	return 0;
}

/* The slot of usable size u: its class's, or the empty one to fill; NULL
 * when out of memory. */
static struct size_slot *size_slot(struct size_table *t, uint64_t u)
{
	if (t->n * 2 >= t->cap && size_table_grow(t) < 0)
		return NULL;
	size_t h = hash_mix(u) & (t->cap - 1);
	while (t->v[h].size && t->v[h].size != u)
		h = (h + 1) & (t->cap - 1);
	return &t->v[h];
}

static int cmp_class(const void *a, const void *b)
{
	const struct census_class *x = a, *y = b;
	if (x->delta_bytes != y->delta_bytes)
		return x->delta_bytes > y->delta_bytes ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return census_cmp_kind(x->name, x->size, y->name, y->size);
}

int census_cmp_kind(const char *xname, uint64_t xsize, const char *yname, uint64_t ysize)
{
	if (!xname != !yname)
		return xname ? -1 : 1;
	if (xname)
		return strcmp(xname, yname);
	return xsize < ysize ? -1 : xsize > ysize;
}

int census_classes(struct census *c)
{
	free(c->classes);
	c->classes = NULL;
	c->n_classes = 0;
	size_t cap = c->n_names + 64;
	struct census_class *v = calloc(cap, sizeof(*v));
	struct size_table sizes = { 0 };
	size_t n = c->n_names;
	if (!v)
		goto nomem;
	for (size_t i = 0; i < c->n_names; i++)
		v[i].name = c->names[i];
	for (size_t i = 0; i < c->n_chunks; i++) {
		const struct census_chunk *k = &c->chunks[i];
		size_t idx = census_class(k);
		uint64_t u = census_usable(k);
		if (idx == CENSUS_UNNAMED) {
			struct size_slot *slot = size_slot(&sizes, u);
			if (!slot)
				goto nomem;
			if (!slot->size) {
				if (VEC_RESERVE(v, cap, n, 64))
					goto nomem;
				memset(&v[n], 0, sizeof(v[n]));
				v[n].size = u;
				*slot = (struct size_slot){ u, (uint32_t)n++ };
				sizes.n++;
			}
			idx = slot->idx;
		}
		v[idx].count++;
		v[idx].bytes += u;
	}
	free(sizes.v);
	/* Classes named by a vptr whose every chunk went to a free list. */
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].count)
			v[o++] = v[i];
	qsort(v, o, sizeof(*v), cmp_class);
	c->classes = v;
	c->n_classes = o;
	return 0;
nomem:
	free(v);
	free(sizes.v);
	return -ENOMEM;
}

long census_class_index(const struct census *c, const char *name, uint64_t size)
{
	for (size_t i = 0; i < c->n_classes; i++) {
		const struct census_class *b = &c->classes[i];
		if (name ? b->name && strcmp(b->name, name) == 0 : !b->name && b->size == size)
			return (long)i;
	}
	return -1;
}

void census_delta(struct census *c, const struct census *base)
{
	for (size_t i = 0; i < c->n_classes; i++) {
		struct census_class *k = &c->classes[i];
		k->delta_count = 0;
		k->delta_bytes = 0;
		if (!base)
			continue;
		long b = census_class_index(base, k->name, k->size);
		const struct census_class *was = b >= 0 ? &base->classes[b] : NULL;
		k->delta_count = (int64_t)k->count - (was ? (int64_t)was->count : 0);
		k->delta_bytes = (int64_t)k->bytes - (was ? (int64_t)was->bytes : 0);
	}
	if (c->n_classes)
		qsort(c->classes, c->n_classes, sizeof(*c->classes), cmp_class);
}

int census_copy_classes(struct census *to, const struct census *from)
{
	census_free(to);
	to->classes = calloc(from->n_classes ? from->n_classes : 1, sizeof(*to->classes));
	to->names = calloc(from->n_classes ? from->n_classes : 1, sizeof(*to->names));
	if (!to->classes || !to->names) {
		census_free(to);
		return -ENOMEM;
	}
	to->cap_names = from->n_classes;
	for (size_t i = 0; i < from->n_classes; i++) {
		struct census_class k = from->classes[i];
		if (k.name) {
			char *d = strdup(k.name);
			if (!d) {
				census_free(to);
				return -ENOMEM;
			}
			to->names[to->n_names++] = d;
			k.name = d;
		}
		to->classes[to->n_classes++] = k;
	}
	return 0;
}

/* ---- other allocators ------------------------------------------------ */

/* glibc's own modules: libc, the loader, and the debugging mallocs that
 * wrap libc's (libc_malloc_debug, libmemusage). */
static bool glibc_module(const char *path)
{
	static const char *const own[] = { "libc.so", "libc-2.", "ld-linux", "ld-2.",
					   "libc_malloc_debug", "libmemusage" };
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
		if (!strncmp(base, own[k], strlen(own[k])))
			return true;
	return false;
}

const char *census_malloc_owner(const struct symbols_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct symbols_table *t = m->v[i].table;
		if (t && t->defines_malloc && !glibc_module(m->v[i].path))
			return m->v[i].path;
	}
	return NULL;
}

const char *census_allocator(const struct mt_snapshot *s)
{
	static const struct { const char *needle, *name; } known[] = {
		{ "libjemalloc", "jemalloc" }, { "libtcmalloc", "tcmalloc" },
		{ "libmimalloc", "mimalloc" }, { "ld-musl", "musl" },
		{ "libc.musl", "musl" }, { "libasan", "ASan" },
		{ "libclang_rt.asan", "ASan" }, { "libhwasan", "HWASan" },
	};
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (r->category != MT_CAT_IMAGE || !r->path_len)
			continue;
		const char *base = strrchr(r->path, '/');
		base = base ? base + 1 : r->path;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strstr(base, known[k].needle))
				return known[k].name;
	}
	return NULL;
}
