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
#include "memtop/vec.h"

#define HDR MT_GLIBC_CHUNK_HDR
#define PREV_INUSE MT_GLIBC_PREV_INUSE
#define IS_MMAPPED MT_GLIBC_IS_MMAPPED
#define SIZE_BITS MT_GLIBC_SIZE_BITS
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
	free(h->tcache_cands);
	h->tcache_cands = NULL;
	h->n_tcache_cands = 0;
}

/* A user pointer as malloc hands them out: 16-aligned, canonical user
 * space, above the first page. */
static bool plausible_ptr(uint64_t p)
{
	return p % 16 == 0 && p >= PAGE && p < (1ULL << 47);
}

/* Could the 640 bytes at p be a tcache_perthread_struct?  Every bin is
 * empty exactly when its count is 0, and one bin at least is used. */
static bool tcache_plausible(const unsigned char *p)
{
	bool used = false;
	for (unsigned i = 0; i < HEAPWALK_TCACHE_BINS; i++) {
		uint16_t count;
		memcpy(&count, p + 2 * i, sizeof(count));
		uint64_t e = get64(p + 2 * HEAPWALK_TCACHE_BINS + 8 * i);
		if ((count == 0) != (e == 0) || (e && !plausible_ptr(e)))
			return false;
		used |= e != 0;
	}
	return used;
}

#define TCACHE_USER (2u * HEAPWALK_TCACHE_BINS + 8u * HEAPWALK_TCACHE_BINS)

/* Note the chunk at cur (size 0x290) as a tcache candidate; buf holds
 * [buf_at, buf_at + buf_len) of the heap. */
static int note_tcache(struct heapwalk_heap *h, uint64_t cur, const unsigned char *buf,
		       uint64_t buf_at, uint64_t buf_len, size_t *cap)
{
	/* Checked now when its user area is in the buffer, else later. */
	if (cur + HDR + TCACHE_USER <= buf_at + buf_len &&
	    !tcache_plausible(buf + (cur + HDR - buf_at)))
		return 0;
	if (h->n_tcache_cands == HEAPWALK_TCACHE_CANDS_MAX)
		return 0;
	if (VEC_RESERVE(h->tcache_cands, *cap, h->n_tcache_cands, 8))
		return -ENOMEM;
	h->tcache_cands[h->n_tcache_cands++] = cur;
	return 0;
}

static int push_mark(struct heapwalk_heap *h, uint64_t chunk, size_t *cap)
{
	if (VEC_RESERVE(h->marks, *cap, h->n_marks, 256))
		return -ENOMEM;
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

/* Hand the pending chunk p (chunk_size 0: none) to the visitor. */
static int emit(heapwalk_visit_fn visit, void *varg, struct heapwalk_visit *p)
{
	if (!visit || !p->chunk_size)
		return 0;
	int rc = visit(varg, p);
	p->chunk_size = 0;
	return rc;
}

/* Where a window must reach for the chunk at cur: its header and its
 * first user word (the census names objects by it). */
static uint64_t window_need(uint64_t cur, uint64_t limit)
{
	return limit - cur >= HDR + 8 ? cur + HDR + 8 : cur + HDR;
}

static int walk(struct heapwalk_heap *h, uint64_t start, uint64_t end, uint64_t first,
		uint64_t limit, heapwalk_read_fn read, void *arg, heapwalk_visit_fn visit,
		void *varg)
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
	size_t cap = 0, tcap = 0;
	uint64_t buf_at = 0, buf_len = 0;
	uint64_t cur = first;
	int rc = 0;
	struct heapwalk_visit pend = { 0 };
	bool fenced = false;
	while (limit - cur >= HDR) {
		if (cur < buf_at || window_need(cur, limit) > buf_at + buf_len) {
			uint64_t want = limit - cur < WALK_BUF ? limit - cur : WALK_BUF;
			long n = read(arg, cur, buf, want);
			if (n < (long)HDR) {
				if (cur == first && n < 0)
					rc = (int)n;
				/* The reader never faults a page in (pages.h). */
				stop_walk(h, cur, n == -ENODATA ? "swapped out, not read"
								: "unreadable");
				break;
			}
			buf_at = cur;
			buf_len = (uint64_t)n;
		}
		uint64_t size_field = get64(buf + (cur - buf_at) + 8);
		uint64_t size = size_field & ~(uint64_t)SIZE_BITS;
		/* The previous chunk is in use when this one says so. */
		pend.in_use = size_field & PREV_INUSE;
		/* A fencepost ends the walk: when an arena grows into a new
		 * heap, sysmalloc ends the old one with a 16-byte chunk and a
		 * zero-size one, within the last 32 to 47 bytes. */
		if (size == HDR && limit - cur < 3 * HDR) {
			fenced = true;
			break;
		}
		const char *why = bad_chunk(cur, size_field, limit);
		if (why) {
			stop_walk(h, cur, why);
			break;
		}
		if ((rc = emit(visit, varg, &pend)) != 0)
			break;
		pend.chunk = cur;
		pend.chunk_size = size;
		pend.top = false;
		pend.word0 = 0;
		if (cur + HDR + 8 <= buf_at + buf_len)
			pend.word0 = get64(buf + (cur - buf_at) + HDR);
		if (h->n_chunks % HEAPWALK_STRIDE == 0 && push_mark(h, cur, &cap) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (size == HEAPWALK_TCACHE_CHUNK &&
		    note_tcache(h, cur, buf, buf_at, buf_len, &tcap) < 0) {
			rc = -ENOMEM;
			break;
		}
		h->n_chunks++;
		h->last = cur;
		cur += size;
		h->walked_end = cur;
	}
	if (rc == 0 && pend.chunk_size) {
		/* The last chunk: the top chunk when the walk reached the
		 * limit; before a fencepost its successor's bit was read; a
		 * walk cut short cannot tell, so it is taken as in use. */
		if (!fenced) {
			pend.top = !h->stopped_at && h->walked_end == limit;
			pend.in_use = !pend.top;
		}
		rc = emit(visit, varg, &pend);
	}
	free(buf);
	if (rc < 0)
		heapwalk_free(h);
	return rc;
}

int heapwalk_build_at(struct heapwalk_heap *h, uint64_t start, uint64_t end, uint64_t first,
		      uint64_t limit, heapwalk_read_fn read, void *arg)
{
	return walk(h, start, end, first, limit, read, arg, NULL, NULL);
}

int heapwalk_walk(struct heapwalk_heap *h, uint64_t start, uint64_t end, bool main_arena,
		  heapwalk_visit_fn visit, void *varg, heapwalk_read_fn read, void *arg)
{
	if (main_arena) {
		/* sysmalloc aligns the first user pointer to 16. */
		uint64_t first = start + ((16 - (start + HDR) % 16) % 16);
		int rc = walk(h, start, end, first, end, read, arg, visit, varg);
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
	int rc = walk(h, start, end, first, start + size, read, arg, visit, varg);
	h->first_heap = first_heap;
	h->ar_ptr = ar_ptr;
	return rc;
}

int heapwalk_build(struct heapwalk_heap *h, uint64_t start, uint64_t end, bool main_arena,
		   heapwalk_read_fn read, void *arg)
{
	return heapwalk_walk(h, start, end, main_arena, NULL, NULL, read, arg);
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

int heapwalk_mmapped_next(uint64_t end, uint64_t *cur, struct heapwalk_chunk *out,
			  heapwalk_read_fn read, void *arg)
{
	uint64_t at = *cur, prev, sf;
	if (at >= end || end - at < PAGE)
		return 0;
	/* The header sits prev_size bytes into the mapping. */
	if (!header(read, arg, at, &prev, &sf))
		return -EFAULT;
	if (prev >= PAGE || prev % 16 != 0)
		return 0;
	uint64_t chunk = at + prev;
	if (prev && !header(read, arg, chunk, &prev, &sf))
		return -EFAULT;
	uint64_t size = sf & ~(uint64_t)SIZE_BITS;
	/* sysmalloc and memalign set IS_MMAPPED alone. */
	if ((sf & SIZE_BITS) != IS_MMAPPED || size < PAGE - prev || size > end - chunk ||
	    (chunk + size) % PAGE != 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->chunk = chunk;
	out->user = chunk + HDR;
	out->chunk_size = size;
	out->size = size - HDR;
	out->in_use = true;
	out->mmapped = true;
	*cur = chunk + size;
	return 1;
}

int heapwalk_mmapped_find(uint64_t start, uint64_t end, uint64_t addr,
			  struct heapwalk_chunk *out, heapwalk_read_fn read, void *arg)
{
	uint64_t cur = start;
	for (int i = 0; i < 4096; i++) {
		int rc = heapwalk_mmapped_next(end, &cur, out, read, arg);
		if (rc <= 0)
			return rc;
		if (addr >= out->user && addr < out->chunk + out->chunk_size)
			return 1;
		if (addr < out->user)
			return 0;
	}
	return 0;
}

/* Does the malloc_par tail fit with sbrk_base at word k of w? */
static bool mp_at(const uint64_t *w, size_t n, size_t k, struct heapwalk_mp *out)
{
	if (k < 5 || k + 3 >= n)
		return false;
	/* tcache_bins, tcache_max_bytes, tcache_count: within glibc's caps. */
	if (w[k + 1] > 64 || w[k + 2] > 1032 || w[k + 3] > 65535)
		return false;
	uint64_t mem = w[k - 2], max_mem = w[k - 1];
	uint32_t n_mmaps = (uint32_t)(w[k - 5] >> 32), n_max = (uint32_t)w[k - 4];
	uint32_t max_n = (uint32_t)(w[k - 4] >> 32), no_dyn = (uint32_t)w[k - 3];
	if (mem > max_mem || mem % PAGE || max_mem % PAGE || n_mmaps > max_n ||
	    n_max > INT32_MAX || no_dyn > 1 || (n_mmaps == 0) != (mem == 0))
		return false;
	out->n_mmaps = n_mmaps;
	out->mmapped_mem = mem;
	return true;
}

bool heapwalk_find_mp(const void *data, size_t len, uint64_t sbrk_base, struct heapwalk_mp *out)
{
	const uint64_t *w = data;
	size_t n = len / 8, found = 0;
	if (!sbrk_base || (uintptr_t)data % 8)
		return false;
	for (size_t k = 0; k < n; k++) {
		struct heapwalk_mp mp;
		if (w[k] == sbrk_base && mp_at(w, n, k, &mp)) {
			*out = mp;
			found++;
		}
	}
	return found == 1;
}

/* ---- free lists ---------------------------------------------------------- */

/* Bound on the list chunks followed per build, whatever the lists say. */
#define FREESET_BUDGET (1u << 16)

struct fs_ctx {
	struct heapwalk_freeset *fs;
	const struct heapwalk_heap *const *heaps;
	size_t n;
	heapwalk_read_fn read;
	void *arg;
	size_t budget;
	int rc;
};

/* Note the first list cut short: "tcache 0x... bin 3: bad chunk 0x...". */
static void fs_error(struct fs_ctx *c, bool tcache, uint64_t a, unsigned bin, const char *why,
		     uint64_t at)
{
	if (!c->fs->error[0])
		snprintf(c->fs->error, sizeof(c->fs->error), "%s 0x%llx %s %u: %s 0x%llx",
			 tcache ? "tcache" : "arena", (unsigned long long)a,
			 tcache ? "bin" : "fastbin", bin, why, (unsigned long long)at);
}

static void fs_add(struct fs_ctx *c, uint64_t chunk, enum heapwalk_freelist kind)
{
	struct heapwalk_freeset *fs = c->fs;
	if (c->rc < 0)
		return;
	int rc = VEC_RESERVE(fs->v, fs->cap, fs->n, 64);
	if (rc) {
		c->rc = rc;
		return;
	}
	fs->v[fs->n++] = chunk | (uint64_t)kind;
}

/* Is [chunk, chunk + size) inside the walked part of one heap? */
static const struct heapwalk_heap *fs_heap_of(const struct fs_ctx *c, uint64_t chunk,
					      uint64_t size)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct heapwalk_heap *h = c->heaps[i];
		if (chunk >= h->first && chunk < h->walked_end && size <= h->walked_end - chunk)
			return h;
	}
	return NULL;
}

/*
 * Read a free chunk at chunk that should have the given size: its
 * header, first word (next or fd) and second (tcache key).  exact: the
 * chunk must also be a boundary the walk found (first entries of a
 * tcache candidate, which decide whether it is one at all).
 */
static bool fs_chunk(struct fs_ctx *c, uint64_t chunk, uint64_t size, bool exact,
		     uint64_t *w0, uint64_t *w1)
{
	if (chunk % 16 != 0)
		return false;
	const struct heapwalk_heap *h = fs_heap_of(c, chunk, size);
	if (!h)
		return false;
	unsigned char b[32];
	if (c->read(c->arg, chunk, b, sizeof(b)) != (long)sizeof(b))
		return false;
	uint64_t sf = get64(b + 8);
	if ((sf & ~(uint64_t)SIZE_BITS) != size || (sf & IS_MMAPPED))
		return false;
	*w0 = get64(b + 16);
	*w1 = get64(b + 24);
	if (exact) {
		struct heapwalk_chunk hc;
		if (heapwalk_find(h, chunk + HDR, &hc, c->read, c->arg) != 1 || hc.chunk != chunk)
			return false;
	}
	return true;
}

static void follow_tcache_bin(struct fs_ctx *c, uint64_t tc, unsigned bin, uint64_t e,
			      unsigned count, uint64_t key)
{
	uint64_t seen[64];
	unsigned n_seen = 0;
	uint64_t size = HEAPWALK_MINSIZE + 16u * bin;
	unsigned max = count < HEAPWALK_TCACHE_CHAIN_MAX ? count : HEAPWALK_TCACHE_CHAIN_MAX;
	for (unsigned k = 0; k < max && e && c->rc == 0; k++) {
		uint64_t next, ekey;
		if (c->budget == 0)
			return fs_error(c, true, tc, bin, "too many chunks, cut at", e);
		c->budget--;
		if (!fs_chunk(c, e - HDR, size, false, &next, &ekey) || ekey != key)
			return fs_error(c, true, tc, bin, "bad chunk", e);
		/* A cycle: the first 64 chunks are remembered, and a longer
		 * cycle ends at the count anyway. */
		for (unsigned i = 0; i < n_seen; i++)
			if (seen[i] == e)
				return fs_error(c, true, tc, bin, "cycle at", e);
		if (n_seen < 64)
			seen[n_seen++] = e;
		fs_add(c, e - HDR, HEAPWALK_FREE_TCACHE);
		e = (e >> 12) ^ next; /* safe-linking: the field is at e */
	}
}

/* Take the tcache candidate at chunk tc if it checks out, and follow its
 * bins.  *key: glibc's tcache_key, learnt from the first one taken. */
static void take_tcache(struct fs_ctx *c, uint64_t tc, uint64_t *key)
{
	unsigned char p[TCACHE_USER];
	if (c->read(c->arg, tc + HDR, p, sizeof(p)) != (long)sizeof(p) || !tcache_plausible(p))
		return;
	uint16_t counts[HEAPWALK_TCACHE_BINS];
	uint64_t first[HEAPWALK_TCACHE_BINS];
	memcpy(counts, p, sizeof(counts));
	uint64_t k = *key;
	for (unsigned i = 0; i < HEAPWALK_TCACHE_BINS; i++) {
		first[i] = get64(p + sizeof(counts) + 8 * i);
		uint64_t next, ekey;
		if (!first[i])
			continue;
		if (!fs_chunk(c, first[i] - HDR, HEAPWALK_MINSIZE + 16u * i, true, &next, &ekey))
			return; /* not a tcache: some user data that looked like one */
		if (!k)
			k = ekey;
		if (ekey != k || !k)
			return;
	}
	*key = k;
	c->fs->n_tcaches++;
	for (unsigned i = 0; i < HEAPWALK_TCACHE_BINS && c->rc == 0; i++)
		follow_tcache_bin(c, tc, i, first[i], counts[i], k);
}

static void follow_fastbin(struct fs_ctx *c, uint64_t ar, unsigned bin, uint64_t p)
{
	uint64_t size = HEAPWALK_MINSIZE + 16u * bin;
	/* Brent's cycle detection: no memory, at most a few laps. */
	uint64_t mark = p;
	size_t power = 1, lam = 0;
	for (size_t k = 0; p && k < HEAPWALK_FASTBIN_CHAIN_MAX && c->rc == 0; k++) {
		uint64_t fd, unused;
		if (c->budget == 0)
			return fs_error(c, false, ar, bin, "too many chunks, cut at", p);
		c->budget--;
		if (!fs_chunk(c, p, size, false, &fd, &unused))
			return fs_error(c, false, ar, bin, "bad chunk", p);
		fs_add(c, p, HEAPWALK_FREE_FASTBIN);
		p = ((p + HDR) >> 12) ^ fd; /* safe-linking: the field is at p + 16 */
		if (p == mark)
			return fs_error(c, false, ar, bin, "cycle at", p);
		if (++lam == power) {
			mark = p;
			power *= 2;
			lam = 0;
		}
	}
	if (p && c->rc == 0)
		fs_error(c, false, ar, bin, "longer than the limit, cut at", p);
}

/* Read the malloc_state at ar; its fastbins and its next.  false when
 * unreadable or its top is not a chunk of a walked heap (of the main
 * heap when main is set: then it is main_arena for sure). */
static bool read_mstate(struct fs_ctx *c, uint64_t ar, const struct heapwalk_heap *main,
			uint64_t *fast, uint64_t *next)
{
	unsigned char m[HEAPWALK_MSTATE_NEXT + 8];
	if (c->read(c->arg, ar, m, sizeof(m)) != (long)sizeof(m))
		return false;
	uint64_t top = get64(m + HEAPWALK_MSTATE_TOP);
	if (main) {
		if (main->stopped_at || top != main->last)
			return false;
	} else if (!fs_heap_of(c, top, HDR)) {
		return false;
	}
	for (unsigned i = 0; i < HEAPWALK_FASTBINS; i++)
		fast[i] = get64(m + HEAPWALK_MSTATE_FASTBINS + 8 * i);
	*next = get64(m + HEAPWALK_MSTATE_NEXT);
	return true;
}

static void follow_arena(struct fs_ctx *c, uint64_t ar, const uint64_t *fast)
{
	c->fs->n_arenas++;
	for (unsigned i = 0; i < HEAPWALK_FASTBINS && c->rc == 0; i++)
		follow_fastbin(c, ar, i, fast[i]);
}

static bool is_thread_arena(const struct fs_ctx *c, uint64_t ar)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->heaps[i]->first_heap && c->heaps[i]->start + HEAPWALK_HEAP_INFO_SIZE == ar)
			return true;
	return false;
}

static void follow_fastbins(struct fs_ctx *c)
{
	const struct heapwalk_heap *main = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->heaps[i]->main_arena)
			main = c->heaps[i];
	uint64_t fast[HEAPWALK_FASTBINS], next, main_fast[HEAPWALK_FASTBINS], unused;
	uint64_t main_ar = 0;
	for (size_t i = 0; i < c->n && c->rc == 0; i++) {
		const struct heapwalk_heap *h = c->heaps[i];
		if (!h->first_heap)
			continue;
		uint64_t ar = h->start + HEAPWALK_HEAP_INFO_SIZE;
		if (!read_mstate(c, ar, NULL, fast, &next))
			continue;
		follow_arena(c, ar, fast);
		/* The ring's one member outside the heaps is main_arena (a
		 * heap that could not be walked may make others look so:
		 * each is checked against [heap]'s top). */
		if (main && !main_ar && next && !is_thread_arena(c, next) &&
		    read_mstate(c, next, main, main_fast, &unused))
			main_ar = next;
	}
	if (main_ar && c->rc == 0) {
		c->fs->main_arena = true;
		follow_arena(c, main_ar, main_fast);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int heapwalk_freeset_build(struct heapwalk_freeset *fs, const struct heapwalk_heap *const *heaps,
			   size_t n, heapwalk_read_fn read, void *arg)
{
	memset(fs, 0, sizeof(*fs));
	struct fs_ctx c = { fs, heaps, n, read, arg, FREESET_BUDGET, 0 };
	uint64_t key = 0;
	for (size_t i = 0; i < n && c.rc == 0; i++)
		for (size_t k = 0; k < heaps[i]->n_tcache_cands && c.rc == 0; k++)
			take_tcache(&c, heaps[i]->tcache_cands[k], &key);
	if (c.rc == 0)
		follow_fastbins(&c);
	if (c.rc < 0) {
		heapwalk_freeset_free(fs);
		return c.rc;
	}
	if (fs->n)
		qsort(fs->v, fs->n, sizeof(*fs->v), cmp_u64);
	/* A chunk in two lists (corruption, or a tcache seen twice): once. */
	size_t o = 0;
	for (size_t i = 0; i < fs->n; i++)
		if (o == 0 || (fs->v[o - 1] & ~(uint64_t)15) != (fs->v[i] & ~(uint64_t)15))
			fs->v[o++] = fs->v[i];
	fs->n = o;
	return 0;
}

enum heapwalk_freelist heapwalk_freeset_find(const struct heapwalk_freeset *fs, uint64_t chunk)
{
	size_t lo = 0, hi = fs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t a = fs->v[mid] & ~(uint64_t)15;
		if (a == chunk)
			return (enum heapwalk_freelist)(fs->v[mid] & 15);
		if (a < chunk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return HEAPWALK_FREE_NONE;
}

void heapwalk_freeset_free(struct heapwalk_freeset *fs)
{
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}
