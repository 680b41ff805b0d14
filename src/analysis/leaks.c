/*
 * leaks.c - reachability over the census's chunks (leaks.h).
 *
 * Finding the chunk of a word must be fast: a heap of 300 MiB holds some
 * 37 million words and most of them are looked up.  Each walked heap gets
 * a page directory (for each 4 KiB page, the index of the first chunk
 * starting at or after it), so a look-up is a range test, a search among
 * the few ranges, and a binary search among the chunks of one page.
 *
 * The marking is a depth-first walk with an explicit stack of chunk
 * indexes; the chunks on the stack are read many at a time (present_readv:
 * one process_vm_readv for up to 1024 chunks) into a buffer of a few
 * MiB, so the heap is read once, never copied whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "memtop/clock.h"
#include "memtop/leaks.h"
#include "memtop/vec.h"

#define PAGE_SHIFT 12
#define RED_ZONE 128
#define BATCH_BYTES (4u << 20)
#define ROOT_BUF (1u << 20)

void leaks_init(struct leaks *l)
{
	memset(l, 0, sizeof(*l));
}

void leaks_free(struct leaks *l)
{
	free(l->groups);
	free(l->shared);
	free(l->state);
	leaks_init(l);
}

/* ---- the index ------------------------------------------------------------ */

struct lrange {
	uint64_t start, end;
	size_t first, last;   /* chunks [first, last) start in the range */
	uint32_t *dir;        /* per page: first chunk index at or after it; NULL: one chunk */
};

struct index {
	const struct census *c;
	struct lrange *r;
	size_t n;
	uint64_t lo, hi;      /* all ranges */
};

static size_t lower_bound(const struct census *c, uint64_t addr)
{
	size_t lo = 0, hi = c->n_chunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->chunks[mid].user < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void index_free(struct index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->r[i].dir);
	free(ix->r);
}

static int index_build(struct index *ix, const struct census *c)
{
	memset(ix, 0, sizeof(*ix));
	ix->c = c;
	ix->r = calloc(c->n_ranges ? c->n_ranges : 1, sizeof(*ix->r));
	if (!ix->r)
		return -ENOMEM;
	ix->lo = UINT64_MAX;
	for (size_t i = 0; i < c->n_ranges; i++) {
		const struct census_range *cr = &c->ranges[i];
		if (cr->end <= cr->start)
			continue;
		struct lrange *r = &ix->r[ix->n++];
		r->start = cr->start;
		r->end = cr->end;
		r->first = lower_bound(c, cr->start);
		r->last = lower_bound(c, cr->end);
		if (cr->arena >= 0) {
			size_t pages = ((cr->end - cr->start) >> PAGE_SHIFT) + 2;
			r->dir = malloc(pages * sizeof(*r->dir));
			if (!r->dir)
				return -ENOMEM;
			size_t k = r->first;
			for (size_t p = 0; p < pages; p++) {
				uint64_t at = cr->start + ((uint64_t)p << PAGE_SHIFT);
				while (k < r->last && c->chunks[k].user < at)
					k++;
				r->dir[p] = (uint32_t)k;
			}
		}
		if (r->start < ix->lo)
			ix->lo = r->start;
		if (r->end > ix->hi)
			ix->hi = r->end;
	}
	/* Ranges come in address order from the census; be sure. */
	for (size_t i = 1; i < ix->n; i++)
		if (ix->r[i].start < ix->r[i - 1].end)
			return -EINVAL;
	return 0;
}

/* The chunk whose user area holds v, or -1. */
static long index_find(const struct index *ix, uint64_t v)
{
	size_t lo = 0, hi = ix->n;
	if (!ix->n)
		return -1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->r[mid].start <= v)
			lo = mid;
		else
			hi = mid;
	}
	const struct lrange *r = &ix->r[lo];
	if (v < r->start || v >= r->end || r->first == r->last)
		return -1;
	const struct census_chunk *ch = ix->c->chunks;
	size_t a, b; /* the answer is the last chunk in [a, b) starting at or before v */
	if (r->dir) {
		size_t p = (v - r->start) >> PAGE_SHIFT;
		a = r->dir[p] > r->first ? r->dir[p] - 1 : r->first;
		b = r->dir[p + 1] < r->last ? r->dir[p + 1] + 1 : r->last;
	} else {
		a = r->first;
		b = r->last;
	}
	while (b - a > 1) {
		size_t mid = a + (b - a) / 2;
		if (ch[mid].user <= v)
			a = mid;
		else
			b = mid;
	}
	/* An arena chunk's last 8 usable bytes are the next chunk's
	 * prev_size field: the bins of malloc_state point there when the
	 * next chunk is free, so a word pointing there anchors nothing. */
	if (ch[a].user > v || v >= ch[a].user - 16 + census_chunk_size(&ch[a]))
		return -1;
	return (long)a;
}

/* ---- marking ------------------------------------------------------------ */

/* The first holder seen of each chunk, for the shared chunks: holder
 * index + 1 and offset. */
struct holder_slot {
	uint32_t holder;
	uint32_t offset;
};

struct mark {
	struct leaks *l;
	const struct census *c;
	const struct mt_snapshot *s;
	struct present *pr;
	struct index ix;
	uint32_t *stack;
	size_t n_stack, cap_stack;
	struct holder_slot *first; /* per chunk; NULL when no class is named */
	int rc;
};

static void push(struct mark *m, size_t k)
{
	if (m->rc)
		return;
	if (VEC_RESERVE(m->stack, m->cap_stack, m->n_stack, 4096)) {
		m->rc = -ENOMEM;
		return;
	}
	m->stack[m->n_stack++] = (uint32_t)k;
}

static void add_shared(struct mark *m, size_t k, size_t h, uint32_t off)
{
	struct leaks *l = m->l;
	const struct census *c = m->c;
	struct leaks_shared *sh = NULL;
	for (size_t i = 0; i < l->n_shared; i++)
		if (l->shared[i].chunk == c->chunks[k].user)
			sh = &l->shared[i];
	if (!sh) {
		l->shared_total++;
		if (l->n_shared >= LEAKS_SHARED_MAX)
			return;
		struct leaks_shared *v = realloc(l->shared, (l->n_shared + 1) * sizeof(*v));
		if (!v) {
			m->rc = -ENOMEM;
			return;
		}
		l->shared = v;
		sh = &l->shared[l->n_shared++];
		memset(sh, 0, sizeof(*sh));
		sh->chunk = c->chunks[k].user;
		sh->cls = census_class(&c->chunks[k]);
		/* The first holder, remembered when it was seen. */
		size_t h0 = m->first[k].holder - 1;
		sh->holders[sh->n_holders++] = (struct leaks_holder){
			c->chunks[h0].user, census_class(&c->chunks[h0]), m->first[k].offset };
		sh->holders_total = 1;
	}
	sh->holders_total++;
	if (sh->n_holders < LEAKS_HOLDERS_MAX)
		sh->holders[sh->n_holders++] = (struct leaks_holder){
			c->chunks[h].user, census_class(&c->chunks[h]), off };
}

/* Holder h (a named object) points from offset off to chunk k. */
static void note_holder(struct mark *m, size_t k, size_t h, uint32_t off)
{
	struct holder_slot *f = &m->first[k];
	if (k == h)
		return;
	if (!f->holder) {
		f->holder = (uint32_t)h + 1;
		f->offset = off;
		return;
	}
	size_t h0 = f->holder - 1;
	if (h0 != h && f->offset == off &&
	    census_class(&m->c->chunks[h0]) == census_class(&m->c->chunks[h]))
		add_shared(m, k, h, off);
}

/*
 * The words w[0..n) read at base: mark what they reach.  holder: the
 * chunk they belong to, or -1 for a root.  leaked_pass: only note leaked
 * chunks pointed to by other leaked ones.
 */
static void scan_words(struct mark *m, const uint64_t *w, size_t n, long holder,
		       bool leaked_pass)
{
	const uint64_t lo = m->ix.lo, span = m->ix.hi - m->ix.lo;
	uint8_t *state = m->l->state;
	bool named = holder >= 0 && m->first &&
		     census_class(&m->c->chunks[holder]) != CENSUS_UNNAMED;
	for (size_t i = 0; i < n; i++) {
		if (w[i] - lo >= span)
			continue;
		long k = index_find(&m->ix, w[i]);
		if (k < 0)
			continue;
		if (named)
			note_holder(m, (size_t)k, (size_t)holder, (uint32_t)(8 * i));
		if (leaked_pass) {
			if (k != holder && state[k] == LEAKS_UNREFERENCED)
				state[k] = LEAKS_REFERENCED;
		} else if (state[k] == LEAKS_UNREFERENCED) {
			state[k] = LEAKS_ANCHORED;
			push(m, (size_t)k);
		}
	}
}

/* Read [start, end) (registered in pr) and scan it as a root. */
static int scan_root(struct mark *m, uint64_t start, uint64_t end, uint64_t *buf)
{
	for (uint64_t at = start & ~(uint64_t)7; at < end && !m->rc;) {
		size_t len = end - at < ROOT_BUF ? (size_t)(end - at) : ROOT_BUF;
		/* Only existing pages cost a read; the rest are zeros. */
		if (present_bytes(m->pr, at, at + len)) {
			long n = present_read(m->pr, at, buf, len);
			if (n < 0)
				return (int)n;
			scan_words(m, buf, len / 8, -1, false);
			m->l->root_bytes += len;
		}
		at += len;
	}
	return m->rc;
}

/* Scan the chunks idx[0..n) as holders. */
static int scan_chunks(struct mark *m, const uint32_t *idx, size_t n, uint64_t *addr,
		       uint32_t *len, unsigned char *buf, bool leaked_pass)
{
	const struct census_chunk *ch = m->c->chunks;
	for (size_t i = 0; i < n; i++) {
		addr[i] = ch[idx[i]].user;
		uint64_t u = census_usable(&ch[idx[i]]);
		len[i] = (uint32_t)(u < BATCH_BYTES ? u : BATCH_BYTES) & ~7u;
	}
	int rc = present_readv(m->pr, addr, len, n, buf);
	if (rc)
		return rc;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		scan_words(m, (const uint64_t *)(buf + off), len[i] / 8, idx[i], leaked_pass);
		off += len[i];
	}
	m->l->heap_bytes += off;
	return m->rc;
}

/* A chunk larger than the batch buffer: its rest, piece by piece. */
static int scan_big(struct mark *m, uint32_t k, uint64_t *buf, bool leaked_pass)
{
	const struct census_chunk *ch = &m->c->chunks[k];
	uint64_t end = ch->user + census_usable(ch);
	for (uint64_t at = ch->user + BATCH_BYTES; at + 8 <= end && !m->rc;) {
		size_t len = (end - at < BATCH_BYTES ? (size_t)(end - at) : BATCH_BYTES) & ~(size_t)7;
		if (present_bytes(m->pr, at, at + len)) {
			long n = present_read(m->pr, at, buf, len);
			if (n < 0)
				return (int)n;
			/* Holders are noted in the first BATCH_BYTES only:
			 * past them the words anchor and name no holder. */
			scan_words(m, buf, len / 8, -1, leaked_pass);
			m->l->heap_bytes += len;
		}
		at += len;
	}
	return m->rc;
}

struct batch {
	uint64_t *addr;
	uint32_t *len;
	uint32_t *idx;
	unsigned char *buf;
	size_t max;
};

/* Pop chunks off the stack until the batch is full, and scan them. */
static int drain(struct mark *m, struct batch *b)
{
	while (m->n_stack && !m->rc) {
		size_t n = 0, bytes = 0;
		while (m->n_stack && n < b->max) {
			uint32_t k = m->stack[m->n_stack - 1];
			uint64_t u = census_usable(&m->c->chunks[k]);
			uint64_t want = u < BATCH_BYTES ? u : BATCH_BYTES;
			if (n && bytes + want > BATCH_BYTES)
				break;
			m->n_stack--;
			b->idx[n++] = k;
			bytes += want;
		}
		int rc = scan_chunks(m, b->idx, n, b->addr, b->len, b->buf, false);
		for (size_t i = 0; i < n && !rc; i++)
			if (census_usable(&m->c->chunks[b->idx[i]]) > BATCH_BYTES)
				rc = scan_big(m, b->idx[i], (uint64_t *)b->buf, false);
		if (rc)
			return rc;
	}
	return m->rc;
}

/* ---- roots -------------------------------------------------------------- */

/* Registers of every frozen thread; their stack pointers into sps. */
static void scan_registers(struct mark *m, const struct freeze *fz, uint64_t *sps, size_t *n_sps)
{
	for (size_t i = 0; fz && i < fz->n_threads; i++) {
		if (!fz->threads[i].stopped)
			continue;
		struct user_regs_struct regs;
		if (ptrace(PTRACE_GETREGS, fz->threads[i].tid, NULL, &regs) != 0)
			continue;
		scan_words(m, (const uint64_t *)&regs, sizeof(regs) / 8, -1, false);
		sps[(*n_sps)++] = regs.rsp;
		m->l->threads++;
	}
}

/* An anonymous region less the mmapped chunks in it. */
static int scan_anon(struct mark *m, const struct mt_region *r, uint64_t *buf)
{
	uint64_t at = r->start;
	while (at < r->end && !m->rc) {
		uint64_t stop = r->end, skip_to = 0;
		for (size_t i = 0; i < m->c->n_ranges; i++) {
			const struct census_range *cr = &m->c->ranges[i];
			/* The mapping of an mmapped chunk starts at its page. */
			uint64_t ms = cr->start & ~(uint64_t)4095;
			if (cr->arena < 0 && ms >= at && ms < stop) {
				stop = ms;
				skip_to = cr->end;
			}
		}
		int rc = scan_root(m, at, stop, buf);
		if (rc)
			return rc;
		if (!skip_to)
			break;
		at = skip_to;
	}
	return m->rc;
}

static int scan_roots(struct mark *m, const struct freeze *fz, uint64_t *buf)
{
	const struct mt_snapshot *s = m->s;
	size_t cap = (fz ? fz->n_threads : 0) + s->n_threads + 1;
	uint64_t *sps = calloc(cap, sizeof(*sps));
	if (!sps)
		return -ENOMEM;
	size_t n_sps = 0;
	scan_registers(m, fz, sps, &n_sps);
	/* Threads that did not stop: the sp the snapshot read, if any. */
	if (!fz || fz->not_stopped)
		for (size_t i = 0; i < s->n_threads; i++)
			if (s->threads[i].sp && !(fz && freeze_find(fz, s->threads[i].tid)))
				sps[n_sps++] = s->threads[i].sp;
	int rc = 0;
	for (size_t i = 0; i < s->n_regions && !rc; i++) {
		const struct mt_region *r = &s->regions[i];
		if (!(r->perms & MT_PERM_R) || !scan_region_wanted(r))
			continue;
		if (r->category == MT_CAT_STACK || (r->category == MT_CAT_ANON && n_sps)) {
			/* The live part of a stack: above its thread's sp. */
			uint64_t from = UINT64_MAX;
			for (size_t k = 0; k < n_sps; k++)
				if (sps[k] >= r->start && sps[k] < r->end) {
					uint64_t f = sps[k] - RED_ZONE < r->start ? r->start
										 : sps[k] - RED_ZONE;
					if (f < from)
						from = f;
				}
			if (from != UINT64_MAX) {
				if ((rc = present_add(m->pr, r->start, r->end)) == 0)
					rc = scan_root(m, from, r->end, buf);
				continue;
			}
			if (r->category == MT_CAT_STACK)
				continue; /* no live thread on it: a cached, dead stack */
		}
		bool image_data = r->category == MT_CAT_IMAGE && (r->perms & MT_PERM_W);
		bool anon = r->category == MT_CAT_ANON;
		if (!image_data && !anon)
			continue;
		if ((rc = present_add(m->pr, r->start, r->end)) != 0)
			break;
		rc = anon ? scan_anon(m, r, buf) : scan_root(m, r->start, r->end, buf);
	}
	/* A thread running on a stack inside a chunk (a coroutine): the chunk
	 * is live. */
	for (size_t k = 0; k < n_sps && !rc; k++) {
		long ci = index_find(&m->ix, sps[k]);
		if (ci >= 0 && m->l->state[ci] == LEAKS_UNREFERENCED) {
			m->l->state[ci] = LEAKS_ANCHORED;
			push(m, (size_t)ci);
		}
	}
	free(sps);
	return rc ? rc : m->rc;
}

/* Which leaked chunks other leaked chunks point to. */
static int leaked_pass(struct mark *m, struct batch *b)
{
	const struct census *c = m->c;
	size_t n = 0, bytes = 0;
	for (size_t k = 0; k <= c->n_chunks && !m->rc; k++) {
		bool take = k < c->n_chunks && m->l->state[k] != LEAKS_ANCHORED;
		uint64_t want = 0;
		if (take) {
			uint64_t u = census_usable(&c->chunks[k]);
			want = u < BATCH_BYTES ? u : BATCH_BYTES;
		}
		if (n && (k == c->n_chunks || n == b->max || bytes + want > BATCH_BYTES)) {
			int rc = scan_chunks(m, b->idx, n, b->addr, b->len, b->buf, true);
			for (size_t i = 0; i < n && !rc; i++)
				if (census_usable(&c->chunks[b->idx[i]]) > BATCH_BYTES)
					rc = scan_big(m, b->idx[i], (uint64_t *)b->buf, true);
			if (rc)
				return rc;
			n = bytes = 0;
		}
		if (take) {
			b->idx[n++] = (uint32_t)k;
			bytes += want;
		}
	}
	return m->rc;
}

int leaks_run(struct leaks *l, const struct census *c, const struct mt_snapshot *s,
	      struct present *pr, const struct freeze *fz, struct mt_error *err)
{
	leaks_free(l);
	double t0 = clock_mono();
	struct mark m = { .l = l, .c = c, .s = s, .pr = pr };
	struct batch b = { .max = 4096 };
	b.addr = malloc(b.max * sizeof(*b.addr));
	b.len = malloc(b.max * sizeof(*b.len));
	b.idx = malloc(b.max * sizeof(*b.idx));
	b.buf = aligned_alloc(64, BATCH_BYTES);
	l->state = calloc(c->n_chunks ? c->n_chunks : 1, 1);
	if (c->n_names)
		m.first = calloc(c->n_chunks ? c->n_chunks : 1, sizeof(*m.first));
	int rc = -ENOMEM;
	if (!b.addr || !b.len || !b.idx || !b.buf || !l->state || (c->n_names && !m.first))
		goto out;
	rc = index_build(&m.ix, c);
	if (rc == 0)
		rc = scan_roots(&m, fz, (uint64_t *)b.buf);
	if (rc == 0)
		rc = drain(&m, &b);
	if (rc == 0)
		rc = leaked_pass(&m, &b);
out:
	index_free(&m.ix);
	free(m.stack);
	free(m.first);
	free(b.addr);
	free(b.len);
	free(b.idx);
	free(b.buf);
	l->seconds = clock_mono() - t0;
	if (rc == -ESRCH)
		return mt_error_set(err, MT_EXIT_EXITED, ESRCH,
				    "process %d exited during the leak search", s->pid);
	if (rc < 0)
		return mt_error_set(err, MT_EXIT_FAILURE, -rc, "leak search: %s", strerror(-rc));
	return 0;
}

/* ---- the report ------------------------------------------------------------ */

static int cmp_group(const void *a, const void *b)
{
	const struct leaks_group *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (!x->name != !y->name)
		return x->name ? -1 : 1;
	return x->name ? strcmp(x->name, y->name) : (x->size > y->size) - (x->size < y->size);
}

static struct leaks_group *group_of(struct leaks *l, size_t *cap, const char *name,
				    uint64_t size)
{
	for (size_t i = 0; i < l->n_groups; i++) {
		struct leaks_group *g = &l->groups[i];
		if (name ? g->name == name : !g->name && g->size == size)
			return g;
	}
	if (VEC_RESERVE(l->groups, *cap, l->n_groups, 16))
		return NULL;
	struct leaks_group *g = &l->groups[l->n_groups++];
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->size = name ? 0 : size;
	return g;
}

static void add_example(struct leaks_group *g, uint64_t user)
{
	if (g->n_examples < LEAKS_EXAMPLES)
		g->examples[g->n_examples++] = user;
}

int leaks_report(struct leaks *l, struct census *c)
{
	size_t cap = 0;
	if (!l->state)
		return 0;
	/* Two passes so that the examples are unreferenced heads first. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < c->n_chunks; k++) {
			uint8_t st = l->state[k];
			if (st == LEAKS_ANCHORED || (pass == 0) != (st == LEAKS_UNREFERENCED))
				continue;
			const struct census_chunk *ch = &c->chunks[k];
			uint32_t cls = census_class(ch);
			const char *name = cls < c->n_names ? c->names[cls] : NULL;
			uint64_t u = census_usable(ch);
			struct leaks_group *g = group_of(l, &cap, name, u);
			if (!g)
				return -ENOMEM;
			g->count++;
			g->bytes += u;
			add_example(g, ch->user);
			l->count++;
			l->bytes += u;
			if (st == LEAKS_UNREFERENCED) {
				g->unreferenced++;
				l->unreferenced_count++;
				l->unreferenced_bytes += u;
			}
		}
	}
	qsort(l->groups, l->n_groups, sizeof(*l->groups), cmp_group);
	for (size_t i = 0; i < c->n_classes; i++) {
		struct census_class *k = &c->classes[i];
		for (size_t g = 0; g < l->n_groups; g++) {
			const struct leaks_group *lg = &l->groups[g];
			if (k->name ? lg->name && strcmp(lg->name, k->name) == 0
				    : !lg->name && lg->size == k->size) {
				k->leaked = lg->count;
				k->leaked_bytes = lg->bytes;
			}
		}
	}
	return 0;
}
