/*
 * leaks.c - reachability over the census's chunks (leaks.h).
 *
 * Finding the chunk of a word must be fast: a heap of 300 MiB holds some
 * 37 million words and most of them are looked up.  Each walked heap gets
 * a directory (for each 512 bytes, the index of the first chunk starting
 * at or after them), so a look-up is a range test, a search among the few
 * ranges, and a binary search among the handful of chunks of one slot.
 *
 * The heap is read once, in address order, in windows of a few MiB (as
 * fast as a plain copy), and turned into a graph: for each chunk, the
 * chunks its words point to (4 bytes an edge).  Marking is then a
 * depth-first walk of that graph with an explicit stack, without reads;
 * so is the search for the unreferenced heads.  The heap is never copied
 * whole.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/heapwalk.h"
#include "memtop/leaks.h"
#include "memtop/nodes.h"
#include "memtop/scan.h"
#include "memtop/vec.h"

#define PAGE_SHIFT 12
#define DIR_SHIFT 9 /* directory granularity: 512 bytes, ~1% of the heap... */
#define RED_ZONE 128
#define BATCH_BYTES (4u << 20)
#define ROOT_BUF (1u << 20)

void leaks_init(struct leaks *l)
{
	memset(l, 0, sizeof(*l));
}

/* Words pointing into unloaded code: counted, a few places kept.  Called
 * from every graph worker: the counters are atomic. */
static void departed_hit(struct leaks *l, uint64_t v, uint64_t at)
{
	for (size_t i = 0; i < l->n_departed; i++) {
		struct leaks_departed *d = &l->departed[i];
		if (v - d->lo >= d->hi - d->lo)
			continue;
		__atomic_fetch_add(&d->hits, 1, __ATOMIC_RELAXED);
		unsigned k = __atomic_fetch_add(&d->n_where, 1, __ATOMIC_RELAXED);
		if (k < LEAKS_DEPARTED_EXAMPLES)
			d->where[k] = at;
		else
			__atomic_store_n(&d->n_where, LEAKS_DEPARTED_EXAMPLES, __ATOMIC_RELAXED);
	}
}

/* The span of the departed ranges (lo, hi - lo), for a one-compare test. */
static void departed_span(const struct leaks *l, uint64_t *lo, uint64_t *span)
{
	uint64_t a = UINT64_MAX, b = 0;
	for (size_t i = 0; i < l->n_departed; i++) {
		if (l->departed[i].lo < a)
			a = l->departed[i].lo;
		if (l->departed[i].hi > b)
			b = l->departed[i].hi;
	}
	*lo = a;
	*span = b > a ? b - a : 0;
}

struct leaks_index;
static void index_free(struct leaks_index *ix);

/* The index, kept from the run for the node candidates only. */
static void drop_index(struct leaks *l)
{
	if (l->ix)
		index_free(l->ix);
	free(l->ix);
	l->ix = NULL;
}

static void drop_nodes(struct leaks *l)
{
	free(l->nodes);
	free(l->links);
	free(l->expect);
	l->nodes = NULL;
	l->links = NULL;
	l->expect = NULL;
	l->n_nodes = l->n_links = l->n_expect = 0;
	drop_index(l);
}

void leaks_free(struct leaks *l)
{
	free(l->groups);
	free(l->shared);
	free(l->state);
	free(l->pattern);
	free(l->edges);
	free(l->offs);
	free(l->eoff);
	free(l->stack);
	drop_nodes(l);
	struct leaks_departed d[LEAKS_DEPARTED_MAX];
	size_t nd = l->n_departed;
	memcpy(d, l->departed, sizeof(d));
	leaks_init(l);
	/* The ranges are the caller's input: they stay. */
	for (size_t i = 0; i < nd; i++)
		l->departed[i] = (struct leaks_departed){ .lo = d[i].lo, .hi = d[i].hi };
	l->n_departed = nd;
}

/* ---- the index ------------------------------------------------------------ */

struct lrange {
	uint64_t start, end;
	size_t first, last;   /* chunks [first, last) start in the range */
	uint32_t *dir;        /* per slot: first chunk index at or after it; NULL: one chunk */
	unsigned shift;       /* slot size: 1 << shift bytes */
};

struct leaks_index {
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

static void index_free(struct leaks_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->r[i].dir);
	free(ix->r);
}

static int index_build(struct leaks_index *ix, const struct census *c)
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
			/* ...unless the heap is mostly free: then no more slots
			 * than chunks, so a huge sparse heap costs little. */
			r->shift = DIR_SHIFT;
			while (((cr->end - cr->start) >> r->shift) > r->last - r->first + 1024 &&
			       r->shift < 30)
				r->shift++;
			size_t pages = ((cr->end - cr->start) >> r->shift) + 2;
			r->dir = malloc(pages * sizeof(*r->dir));
			if (!r->dir)
				return -ENOMEM;
			size_t k = r->first;
			for (size_t p = 0; p < pages; p++) {
				uint64_t at = cr->start + ((uint64_t)p << r->shift);
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

/* The range holding v, or NULL. */
static const struct lrange *index_range(const struct leaks_index *ix, uint64_t v)
{
	size_t lo = 0, hi = ix->n;
	if (!ix->n)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->r[mid].start <= v)
			lo = mid;
		else
			hi = mid;
	}
	const struct lrange *r = &ix->r[lo];
	return v < r->start || v >= r->end ? NULL : r;
}

/* The chunk whose user area holds v, or -1. */
static long index_find(const struct leaks_index *ix, uint64_t v)
{
	const struct lrange *r = index_range(ix, v);
	if (!r || r->first == r->last)
		return -1;
	const struct census_chunk *ch = ix->c->chunks;
	size_t a, b; /* the answer is the last chunk in [a, b) starting at or before v */
	if (r->dir) {
		size_t p = (v - r->start) >> r->shift;
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
	struct leaks_index *ix;
	int rc;
};

/* One graph-building thread's share: chunks [from, to). */
struct worker {
	struct mark *m;
	struct present pr;          /* its own reader, the spans shared */
	struct pages pg;
	size_t from, to;
	uint32_t *edges;            /* targets */
	uint32_t *offs;             /* where in the holder each pointer is, | EXACT */
	size_t n_edges, cap_edges;
	struct leaks_node *nodes;   /* chunks shaped like nodes, in chunk order */
	size_t n_nodes, cap_nodes;
	struct leaks_link *links;   /* their links the graph does not give */
	size_t n_links, cap_links;
	struct leaks_expect *expect; /* their neighbours' words outside the heap */
	size_t n_expect, cap_expect;
	uint64_t heap_bytes;
	unsigned char *buf;
	bool opened;                /* pg is open */
	pthread_t thread;
	int rc;
};

/* Chunk k is reachable: mark it, and queue it for its edges the first
 * time.  0 or -ENOMEM. */
static int anchor(struct leaks *l, size_t k)
{
	if (l->state[k] != LEAKS_UNREFERENCED)
		return 0;
	l->state[k] = LEAKS_ANCHORED;
	if (VEC_RESERVE(l->stack, l->cap_stack, l->n_stack, 4096))
		return -ENOMEM;
	l->stack[l->n_stack++] = (uint32_t)k;
	return 0;
}

static int add_shared(struct leaks *l, const struct census *c, const struct holder_slot *first,
		      size_t k, size_t h, uint32_t off)
{
	struct leaks_shared *sh = NULL;
	for (size_t i = 0; i < l->n_shared; i++)
		if (l->shared[i].chunk == c->chunks[k].user)
			sh = &l->shared[i];
	if (!sh) {
		l->shared_total++;
		if (l->n_shared >= LEAKS_SHARED_MAX)
			return 0;
		struct leaks_shared *v = realloc(l->shared, (l->n_shared + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->shared = v;
		sh = &l->shared[l->n_shared++];
		memset(sh, 0, sizeof(*sh));
		sh->chunk = c->chunks[k].user;
		sh->cls = census_class(&c->chunks[k]);
		/* The first holder, remembered when it was seen. */
		size_t h0 = first[k].holder - 1;
		sh->holders[sh->n_holders++] = (struct leaks_holder){
			c->chunks[h0].user, census_class(&c->chunks[h0]), first[k].offset };
		sh->holders_total = 1;
	}
	sh->holders_total++;
	if (sh->n_holders < LEAKS_HOLDERS_MAX)
		sh->holders[sh->n_holders++] = (struct leaks_holder){
			c->chunks[h].user, census_class(&c->chunks[h]), off };
	return 0;
}

/* Holder h (a named object) points from offset off to chunk k. */
static int note_holder(struct leaks *l, const struct census *c, struct holder_slot *first,
		       size_t k, size_t h, uint32_t off)
{
	struct holder_slot *f = &first[k];
	if (!f->holder) {
		f->holder = (uint32_t)h + 1;
		f->offset = off;
		return 0;
	}
	size_t h0 = f->holder - 1;
	if (h0 != h && f->offset == off &&
	    census_class(&c->chunks[h0]) == census_class(&c->chunks[h]))
		return add_shared(l, c, first, k, h, off);
	return 0;
}

/* The words v[i..] point to chunk k: does their shape say what k is? */
static void note_pattern(struct leaks *l, const struct census *c, size_t k, const uint64_t *v,
			 size_t i, size_t n)
{
	const struct census_chunk *ch = &c->chunks[k];
	if (i + 2 >= n || v[i] != ch->user || census_class(ch) != CENSUS_UNNAMED)
		return;
	uint64_t u = census_usable(ch), b = v[i], e = v[i + 1], ce = v[i + 2];
	uint8_t p = LEAKS_PATTERN_NONE;
	/* malloc rounds a request up by less than 24 bytes of usable size */
	if (b <= e && e <= ce && ce > b && ce - b <= u && u - (ce - b) < 24)
		p = LEAKS_PATTERN_VECTOR;
	else if (e <= ce && ce >= 16 && ce < u && u - (ce + 1) < 24)
		p = LEAKS_PATTERN_STRING;
	if (p)
		__atomic_store_n(&l->pattern[k], p, __ATOMIC_RELAXED);
}

/* offs: the word holds the target's first byte exactly (offsets are
 * multiples of 8, so the low bit is free). */
#define EXACT 1u

/* The worker-local edges [e, end) of one chunk: is there one at offset
 * off pointing at a chunk's first byte?  (A node's links are its first
 * few edges.) */
static bool exact_at(const uint32_t *offs, size_t e, size_t end, uint64_t off)
{
	for (; e < end && (offs[e] & ~EXACT) <= off; e++)
		if (offs[e] == ((uint32_t)off | EXACT))
			return true;
	return false;
}

/* Could chunk k, whose first n words are v, be a node?  Most chunks are
 * named or start with neither a link nor a color: inline, for every chunk. */
static inline bool node_maybe(const struct census_chunk *ch, const uint64_t *v, size_t n)
{
	return census_class(ch) == CENSUS_UNNAMED && n >= 3 &&
	       (!(v[0] & 7) || (uint32_t)v[0] <= 1);
}

/*
 * Chunk k's first n words are v, its edges the worker's from e0 on: if the
 * words have the shape of a list or map node, keep it.  Its links to
 * chunks' first bytes are in the graph already; the others are kept, with
 * the addresses outside the heap (a std::list or std::map object in a
 * global, on a stack) where a neighbour's word must point back: those are
 * checked as the roots are read, the rest from the graph once the target
 * runs again (leaks_patterns).
 */
static void note_node(struct worker *w, size_t k, const uint64_t *v, size_t n, size_t e0)
{
	const struct census_chunk *ch = &w->m->c->chunks[k];
	struct nodes_cand nc;
	if (!nodes_shape(&nc, v, n, ch->user))
		return;
	struct leaks_node ln = { .chunk = (uint32_t)k, .kind = nc.kind };
	uint32_t node = (uint32_t)w->n_nodes;
	for (unsigned s = 0; s < nodes_links(nc.kind); s++) {
		if (!nc.link[s] ||
		    exact_at(w->offs, e0, w->n_edges, nodes_link_offset(nc.kind, s)))
			continue;
		if (VEC_RESERVE(w->links, w->cap_links, w->n_links, 256))
			goto oom;
		w->links[w->n_links++] = (struct leaks_link){ nc.link[s], node, s };
		ln.own |= (uint8_t)(1u << s);
	}
	uint64_t at[NODES_WHERE_MAX];
	size_t na = nodes_where(&nc, at);
	for (unsigned i = 0; i < na; i++) {
		if (!at[i] || !(ln.own & (1u << nodes_where_link(nc.kind, i))) ||
		    index_range(w->m->ix, at[i]))
			continue;
		if (VEC_RESERVE(w->expect, w->cap_expect, w->n_expect, 256))
			goto oom;
		w->expect[w->n_expect++] = (struct leaks_expect){ at[i], node, 1u << i };
	}
	if (VEC_RESERVE(w->nodes, w->cap_nodes, w->n_nodes, 1024))
		goto oom;
	w->nodes[w->n_nodes++] = ln;
	return;
oom:
	w->rc = -ENOMEM;
}

/* Root words [at, at + len) in buf: the node candidates' neighbours among
 * them (leaks.expect, sorted by address). */
static void see_roots(struct leaks *l, const uint64_t *buf, uint64_t at, size_t len)
{
	size_t lo = 0, hi = l->n_expect;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->expect[mid].at < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < l->n_expect && l->expect[i].at + 8 <= at + len; i++) {
		const struct leaks_expect *e = &l->expect[i];
		struct leaks_node *nd = &l->nodes[e->node];
		if (buf[(e->at - at) / 8] == l->ix->c->chunks[nd->chunk].user)
			nd->seen |= (uint8_t)e->bit;
	}
}

/* Root words, read at base (0: registers): mark the chunks they reach. */
static void mark_words(struct mark *m, const uint64_t *w, size_t n, uint64_t base)
{
	const uint64_t lo = m->ix->lo, span = m->ix->hi - m->ix->lo;
	uint64_t dlo, dspan;
	departed_span(m->l, &dlo, &dspan);
	for (size_t i = 0; i < n; i++) {
		if (w[i] - dlo < dspan)
			departed_hit(m->l, w[i], base ? base + 8 * i : 0);
		if (w[i] - lo >= span)
			continue;
		long k = index_find(m->ix, w[i]);
		if (k < 0)
			continue;
		note_pattern(m->l, m->c, (size_t)k, w, i, n);
		if (anchor(m->l, (size_t)k))
			m->rc = -ENOMEM;
	}
}

/* The words w[0..n) of chunk h, from byte off of it on: its edges. */
static void edge_words(struct worker *w, const uint64_t *v, size_t n, size_t h, uint64_t off)
{
	const struct leaks_index *ix = w->m->ix;
	const uint64_t lo = ix->lo, span = ix->hi - ix->lo;
	uint64_t dlo, dspan;
	departed_span(w->m->l, &dlo, &dspan);
	uint64_t at = w->m->c->chunks[h].user + off;
	for (size_t i = 0; i < n && !w->rc; i++) {
		if (v[i] - dlo < dspan)
			departed_hit(w->m->l, v[i], at + 8 * i);
		if (v[i] - lo >= span)
			continue;
		long k = index_find(ix, v[i]);
		if (k < 0 || (size_t)k == h)
			continue;
		note_pattern(w->m->l, w->m->c, (size_t)k, v, i, n);
		uint32_t exact = v[i] == w->m->c->chunks[k].user ? EXACT : 0;
		if (w->n_edges == w->cap_edges) {
			size_t cap = w->cap_edges ? w->cap_edges * 2 : 1u << 16;
			uint32_t *e = realloc(w->edges, cap * sizeof(*e));
			uint32_t *o = e ? realloc(w->offs, cap * sizeof(*o)) : NULL;
			if (e)
				w->edges = e;
			if (o)
				w->offs = o;
			if (!e || !o) {
				w->rc = -ENOMEM;
				return;
			}
			w->cap_edges = cap;
		}
		uint64_t o = off + 8 * i;
		w->edges[w->n_edges] = (uint32_t)k;
		w->offs[w->n_edges++] = o < UINT32_MAX ? (uint32_t)o | exact : UINT32_MAX;
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
			mark_words(m, buf, len / 8, at);
			if (m->l->n_expect)
				see_roots(m->l, buf, at, len);
			m->l->root_bytes += len;
		}
		at += len;
	}
	return m->rc;
}

/* A chunk larger than the buffer, piece by piece. */
static int edges_big(struct worker *w, size_t k)
{
	const struct census_chunk *ch = &w->m->c->chunks[k];
	uint64_t end = ch->user + census_usable(ch);
	for (uint64_t at = ch->user; at + 8 <= end && !w->rc;) {
		size_t len = end - at < BATCH_BYTES ? (size_t)(end - at) : BATCH_BYTES;
		len &= ~(size_t)7;
		if (present_bytes(&w->pr, at, at + len)) {
			long n = present_read(&w->pr, at, w->buf, len);
			if (n < 0)
				return (int)n;
			size_t e0 = w->n_edges;
			edge_words(w, (const uint64_t *)w->buf, len / 8, k, at - ch->user);
			if (at == ch->user && node_maybe(ch, (const uint64_t *)w->buf, len / 8))
				note_node(w, k, (const uint64_t *)w->buf, len / 8, e0);
			w->heap_bytes += len;
		}
		at += len;
	}
	return w->rc;
}

/*
 * A worker's share of the heap's graph, in address order: the chunks in
 * use are read in windows of up to BATCH_BYTES (one read each, the free
 * chunks between them included) and each chunk's words that point into a
 * chunk become its edges; eoff[k] is, until the shares are joined, the
 * index of chunk k's first edge in the worker's own array.
 */
static void *build_share(void *arg)
{
	struct worker *w = arg;
	const struct census_chunk *ch = w->m->c->chunks;
	size_t *eoff = w->m->l->eoff;
	/* The node arrays made before the edges grow: a first small block
	 * allocated between two reallocs of the edges would stop them
	 * growing in place (12 MiB more at the peak on bench_heap). */
	if (VEC_RESERVE(w->nodes, w->cap_nodes, w->n_nodes, 1024) ||
	    VEC_RESERVE(w->links, w->cap_links, w->n_links, 256) ||
	    VEC_RESERVE(w->expect, w->cap_expect, w->n_expect, 256))
		w->rc = -ENOMEM;
	for (size_t i = w->from; i < w->to && !w->rc;) {
		uint64_t start = ch[i].user;
		if (census_usable(&ch[i]) > BATCH_BYTES) {
			eoff[i] = w->n_edges;
			w->rc = edges_big(w, i);
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < w->to && ch[j].user + census_usable(&ch[j]) - start <= BATCH_BYTES)
			j++;
		uint64_t end = ch[j - 1].user + census_usable(&ch[j - 1]);
		long got = present_read(&w->pr, start, w->buf, end - start);
		if (got < 0) {
			w->rc = (int)got;
			break;
		}
		w->heap_bytes += end - start;
		for (size_t k = i; k < j; k++) {
			const uint64_t *v = (const uint64_t *)(w->buf + (ch[k].user - start));
			eoff[k] = w->n_edges;
			edge_words(w, v, census_usable(&ch[k]) / 8, k, 0);
			if (node_maybe(&ch[k], v, census_usable(&ch[k]) / 8))
				note_node(w, k, v, census_usable(&ch[k]) / 8, eoff[k]);
		}
		i = j;
	}
	return NULL;
}

#define WORKERS_MAX 8

static size_t n_workers(size_t n_chunks)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? (size_t)cpus : 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	/* Below some 100,000 chunks a thread costs more than it saves. */
	while (n > 1 && n_chunks / n < 100000)
		n--;
	return n;
}

static int cmp_expect(const void *a, const void *b)
{
	const struct leaks_expect *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The workers' node candidates, in chunk order as their shares are, and
 * the words to look for among the roots, by address. */
static int join_nodes(struct leaks *l, struct worker *w, size_t n)
{
	size_t nn = 0, ne = 0, nl = 0;
	for (size_t i = 0; i < n; i++) {
		nn += w[i].n_nodes;
		ne += w[i].n_expect;
		nl += w[i].n_links;
	}
	if (!nn)
		return 0;
	/* The first share's array grows into the whole (without a copy
	 * when it is mapped): a heap of nodes has millions. */
	l->nodes = realloc(w[0].nodes, nn * sizeof(*l->nodes));
	if (l->nodes)
		w[0].nodes = NULL;
	l->expect = malloc((ne ? ne : 1) * sizeof(*l->expect));
	l->links = malloc((nl ? nl : 1) * sizeof(*l->links));
	if (!l->nodes || !l->expect || !l->links)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < w[i].n_expect; k++) {
			l->expect[l->n_expect] = w[i].expect[k];
			l->expect[l->n_expect++].node += (uint32_t)l->n_nodes;
		}
		for (size_t k = 0; k < w[i].n_links; k++) {
			l->links[l->n_links] = w[i].links[k];
			l->links[l->n_links++].node += (uint32_t)l->n_nodes;
		}
		if (w[i].n_nodes && i > 0)
			memcpy(l->nodes + l->n_nodes, w[i].nodes, w[i].n_nodes * sizeof(*l->nodes));
		l->n_nodes += w[i].n_nodes;
		if (i > 0) {
			free(w[i].nodes);
			w[i].nodes = NULL;
		}
	}
	qsort(l->expect, l->n_expect, sizeof(*l->expect), cmp_expect);
	return 0;
}

/* Join the workers' edges into l->edges, eoff made global. */
static int join_shares(struct leaks *l, struct worker *w, size_t n, size_t n_chunks)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i].n_edges;
	l->edges = malloc((total ? total : 1) * sizeof(*l->edges));
	l->offs = malloc((total ? total : 1) * sizeof(*l->offs));
	if (!l->edges || !l->offs)
		return -ENOMEM;
	size_t base = 0;
	for (size_t i = 0; i < n; i++) {
		if (w[i].n_edges) {
			memcpy(l->edges + base, w[i].edges, w[i].n_edges * sizeof(*l->edges));
			memcpy(l->offs + base, w[i].offs, w[i].n_edges * sizeof(*l->offs));
		}
		for (size_t k = w[i].from; k < w[i].to; k++)
			l->eoff[k] += base;
		base += w[i].n_edges;
	}
	l->eoff[n_chunks] = total;
	l->n_edges = total;
	return 0;
}

/*
 * The heap's graph, built by one thread per CPU, each reading and
 * scanning its share of the chunks (process_vm_readv needs no ptrace
 * stop of its own: any thread of memtop may read while the freezing
 * thread holds the target).
 */
static int build_graph(struct mark *m)
{
	struct leaks *l = m->l;
	size_t n = m->c->n_chunks, nw = n_workers(n);
	struct worker w[WORKERS_MAX];
	memset(w, 0, sizeof(w));
	l->eoff = malloc((n + 1) * sizeof(*l->eoff));
	if (!l->eoff)
		return -ENOMEM;
	int rc = 0;
	size_t started = 0;
	for (size_t i = 0; i < nw; i++) {
		w[i].m = m;
		w[i].from = n * i / nw;
		w[i].to = n * (i + 1) / nw;
		/* A reader of its own: a struct pages is one thread's. */
		int orc = pages_open(&w[i].pg, m->s->pid, m->s);
		if (orc < 0) {
			rc = orc;
			break;
		}
		w[i].opened = true;
		present_share(&w[i].pr, m->pr, &w[i].pg);
		w[i].buf = aligned_alloc(64, BATCH_BYTES);
		if (!w[i].buf) {
			rc = -ENOMEM;
			break;
		}
		if (i > 0 && pthread_create(&w[i].thread, NULL, build_share, &w[i]) != 0) {
			rc = -EAGAIN;
			break;
		}
		started = i + 1;
	}
	if (rc == 0)
		build_share(&w[0]);
	for (size_t i = 1; i < started; i++)
		pthread_join(w[i].thread, NULL);
	for (size_t i = 0; i < nw && rc == 0; i++)
		rc = w[i].rc;
	if (rc == 0)
		rc = join_shares(l, w, nw, n);
	for (size_t i = 0; i < nw; i++) {
		free(w[i].edges);
		free(w[i].offs);
		w[i].edges = NULL;
		w[i].offs = NULL;
	}
	/* The shares' edges freed first: the two copies of them are the
	 * search's peak of memory. */
	if (rc == 0)
		rc = join_nodes(l, w, nw);
	for (size_t i = 0; i < nw; i++) {
		l->heap_bytes += w[i].heap_bytes;
		free(w[i].nodes);
		free(w[i].links);
		free(w[i].expect);
		free(w[i].buf);
		if (w[i].opened)
			pages_close(&w[i].pg);
	}
	return rc;
}

/* Everything the roots reach, through the graph. */
static int mark_graph(struct leaks *l)
{
	while (l->n_stack) {
		uint32_t k = l->stack[--l->n_stack];
		for (size_t e = l->eoff[k]; e < l->eoff[k + 1]; e++)
			if (anchor(l, l->edges[e]))
				return -ENOMEM;
	}
	return 0;
}

/* Which leaked chunks other leaked chunks point to. */
static void leaked_pass(struct leaks *l, size_t n)
{
	uint8_t *state = l->state;
	for (size_t k = 0; k < n; k++) {
		if (state[k] == LEAKS_ANCHORED)
			continue;
		for (size_t e = l->eoff[k]; e < l->eoff[k + 1]; e++)
			if (state[l->edges[e]] == LEAKS_UNREFERENCED)
				state[l->edges[e]] = LEAKS_REFERENCED;
	}
}

/* Chunks that objects of one class point to from one offset: each edge
 * of a named holder, the first holder of each chunk remembered. */
static int find_shared(struct leaks *l, const struct census *c)
{
	if (!c->n_names)
		return 0;
	struct holder_slot *first = calloc(c->n_chunks ? c->n_chunks : 1, sizeof(*first));
	if (!first)
		return -ENOMEM;
	int rc = 0;
	for (size_t h = 0; h < c->n_chunks && rc == 0; h++) {
		/* Objects of a class: not buffers named by their shape. */
		if (census_class(&c->chunks[h]) == CENSUS_UNNAMED ||
		    (l->pattern && l->pattern[h]))
			continue;
		for (size_t e = l->eoff[h]; e < l->eoff[h + 1] && rc == 0; e++)
			if (l->offs[e] != UINT32_MAX)
				rc = note_holder(l, c, first, l->edges[e], h, l->offs[e] & ~EXACT);
	}
	free(first);
	return rc;
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
		mark_words(m, (const uint64_t *)&regs, sizeof(regs) / 8, 0);
		sps[(*n_sps)++] = regs.rsp;
		m->l->threads++;
	}
}

/* An anonymous region less the mmapped chunks and heaps in it. */
static int scan_anon(struct mark *m, const struct mt_region *r, uint64_t *buf)
{
	uint64_t at = r->start;
	while (at < r->end && !m->rc) {
		uint64_t stop = r->end, skip_to = 0;
		for (size_t i = 0; i < m->c->n_ranges; i++) {
			const struct census_range *cr = &m->c->ranges[i];
			/* The mapping of an mmapped chunk starts at its page, a
			 * thread heap (merged into an anonymous region by the
			 * kernel) at its 64 MiB boundary. */
			uint64_t ms = cr->arena < 0 ? cr->start & ~(uint64_t)4095
						    : cr->start & ~(HEAPWALK_ARENA_SIZE - 1);
			if (ms >= at && ms < stop && ms >= r->start) {
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

/* The live part of a stack begins below the lowest sp on it (its red
 * zone included); UINT64_MAX: no thread's sp is in r. */
static uint64_t live_from(const struct mt_region *r, const uint64_t *sps, size_t n_sps)
{
	uint64_t from = UINT64_MAX;
	for (size_t k = 0; k < n_sps; k++) {
		if (sps[k] < r->start || sps[k] >= r->end)
			continue;
		uint64_t f = sps[k] - RED_ZONE;
		if (sps[k] < RED_ZONE || f < r->start)
			f = r->start;
		if (f < from)
			from = f;
	}
	return from;
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
			uint64_t from = live_from(r, sps, n_sps);
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
		long ci = index_find(m->ix, sps[k]);
		if (ci >= 0 && anchor(m->l, (size_t)ci))
			rc = -ENOMEM;
	}
	free(sps);
	return rc ? rc : m->rc;
}

int leaks_run(struct leaks *l, const struct census *c, const struct mt_snapshot *s,
	      struct present *pr, const struct freeze *fz, struct mt_error *err)
{
	leaks_free(l);
	double t0 = clock_mono();
	struct mark m = { .l = l, .c = c, .s = s, .pr = pr };
	uint64_t *buf = aligned_alloc(64, ROOT_BUF);
	l->state = calloc(c->n_chunks ? c->n_chunks : 1, 1);
	l->pattern = calloc(c->n_chunks ? c->n_chunks : 1, 1);
	int rc = -ENOMEM;
	if (!buf || !l->state || !l->pattern)
		goto out;
	/* Kept after if there are node candidates: their neighbours in the
	 * heap are found through it once the target runs (leaks_patterns),
	 * which drops it before the report's own arrays are made. */
	l->ix = m.ix = malloc(sizeof(*m.ix));
	rc = m.ix ? index_build(m.ix, c) : -ENOMEM;
	if (rc == 0)
		rc = build_graph(&m);
	if (rc == 0)
		rc = scan_roots(&m, fz, buf);
out:
	free(buf);
	if (l->ix && (rc || !l->n_nodes))
		drop_index(l);
	l->seconds = clock_mono() - t0;
	if (rc == -ESRCH)
		return mt_error_set(err, MT_ERR_EXITED, ESRCH,
				    "process %d exited during the leak search", s->pid);
	if (rc < 0)
		return mt_error_set(err, MT_ERR_OTHER, -rc, "leak search: %s", strerror(-rc));
	return 0;
}

/* The chunk holding address x, its last usable word included (which
 * index_find leaves out: in an arena it is the next chunk's prev_size). */
static long holder_of(const struct leaks_index *ix, uint64_t x)
{
	long h = index_find(ix, x);
	if (h < 0 && x >= 8 && (h = index_find(ix, x - 8)) >= 0) {
		const struct census_chunk *ch = &ix->c->chunks[h];
		if (x - ch->user >= census_usable(ch))
			h = -1;
	}
	return h;
}

/* Chunk h's word at offset off points exactly at chunk k's first byte:
 * h's edges are in offset order. */
static bool holds_exact(const struct leaks *l, size_t h, uint64_t off, uint32_t k)
{
	size_t lo = l->eoff[h], hi = l->eoff[h + 1], end = hi;
	if (off >= (UINT32_MAX & ~EXACT))
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((l->offs[mid] & ~EXACT) < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < end && l->offs[lo] == ((uint32_t)off | EXACT) && l->edges[lo] == k;
}

/* Chunk h's edge at offset off pointing at a chunk's first byte, or -1. */
static long exact_edge(const struct leaks *l, size_t h, uint64_t off)
{
	for (size_t e = l->eoff[h]; e < l->eoff[h + 1] && (l->offs[e] & ~EXACT) <= off; e++)
		if (l->offs[e] == ((uint32_t)off | EXACT))
			return (long)e;
	return -1;
}

/* Node i's link in slot s, kept aside (leaks.links is in node order). */
static uint64_t own_link(const struct leaks *l, size_t i, unsigned s)
{
	size_t lo = 0, hi = l->n_links;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->links[mid].node < i || (l->links[mid].node == i && l->links[mid].slot < s))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n_links && l->links[lo].node == i && l->links[lo].slot == s
		       ? l->links[lo].value : 0;
}

/*
 * Node i's links, and the chunks they point to the first byte of (-1: a
 * link kept aside, or none), into nc.
 */
static void node_links(const struct leaks *l, const struct census *c, size_t i,
		       struct nodes_cand *nc, long to[3])
{
	const struct leaks_node *nd = &l->nodes[i];
	memset(nc, 0, sizeof(*nc));
	nc->kind = nd->kind;
	nc->chunk = nd->chunk;
	nc->seen = nd->seen;
	for (unsigned s = 0; s < 3; s++) {
		to[s] = -1;
		if (s >= nodes_links(nd->kind))
			continue;
		if (nd->own & (1u << s)) {
			nc->link[s] = own_link(l, i, s);
			continue;
		}
		long e = exact_edge(l, nd->chunk, nodes_link_offset(nd->kind, s));
		if (e >= 0) {
			to[s] = l->edges[e];
			nc->link[s] = c->chunks[to[s]].user;
		}
	}
}

/* The node candidates' neighbours inside the heap, from the graph (those
 * outside were looked for among the roots), and the verdicts. */
static void name_nodes(struct leaks *l, struct census *c)
{
	l->ix->c = c;
	for (size_t i = 0; i < l->n_nodes; i++) {
		struct nodes_cand nc;
		long to[3];
		node_links(l, c, i, &nc, to);
		uint64_t at[NODES_WHERE_MAX];
		size_t na = nodes_where(&nc, at);
		for (unsigned j = 0; j < na; j++) {
			/* A map node's parent needs one of its three words. */
			bool parent = nc.kind == NODES_MAP && j < 3;
			if (!at[j] || (nc.seen & (parent ? 7u : 1u << j)))
				continue;
			/* A link to a chunk's first byte: that chunk holds
			 * the word; others, the chunk (if any) around it. */
			long h = to[nodes_where_link(nc.kind, j)];
			if (h < 0)
				h = holder_of(l->ix, at[j]);
			if (h >= 0 && at[j] >= c->chunks[h].user &&
			    holds_exact(l, (size_t)h, at[j] - c->chunks[h].user, nc.chunk))
				nodes_saw(&nc, at[j]);
			/* A back-pointer missing: not a node, no need to
			 * look further. */
			if (!(nc.seen & (parent ? 7u : 1u << j)) && (!parent || j == 2))
				break;
		}
		/* Two exact back-pointers say more than the shape of what
		 * points to a buffer: a node's verdict wins. */
		switch (nodes_verdict(&nc)) {
		case NODES_LIST:
			l->pattern[nc.chunk] = LEAKS_PATTERN_LIST_NODE;
			break;
		case NODES_MAP:
			l->pattern[nc.chunk] = LEAKS_PATTERN_MAP_NODE;
			break;
		default:
			break;
		}
	}
}

int leaks_patterns(struct leaks *l, struct census *c)
{
	static const char *const names[LEAKS_PATTERNS] = {
		NULL, "std::vector buffer", "std::string body", "list node",
		"std::map/set node"
	};
	uint32_t idx[LEAKS_PATTERNS];
	for (size_t i = 0; i < LEAKS_PATTERNS; i++)
		idx[i] = CENSUS_UNNAMED;
	if (!l->pattern)
		return 0;
	if (l->n_nodes && l->ix && l->eoff)
		name_nodes(l, c);
	/* Named: the candidates are done with, before the report's arrays. */
	drop_nodes(l);
	for (size_t k = 0; k < c->n_chunks; k++) {
		uint8_t p = l->pattern[k];
		if (!p || p >= LEAKS_PATTERNS ||
		    census_class(&c->chunks[k]) != CENSUS_UNNAMED)
			continue;
		if (idx[p] == CENSUS_UNNAMED && (idx[p] = census_name(c, names[p])) ==
		    CENSUS_UNNAMED)
			return -ENOMEM;
		c->chunks[k].cls = (c->chunks[k].cls & CENSUS_MMAPPED) | idx[p];
	}
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
	return census_cmp_kind(x->name, x->size, y->name, y->size);
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
	if (!l->state || !l->eoff)
		return 0;
	/* No reading from here on: the target runs again. */
	double t0 = clock_mono();
	if (mark_graph(l) || find_shared(l, c))
		return -ENOMEM;
	leaked_pass(l, c->n_chunks);
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
	if (l->n_groups)
		qsort(l->groups, l->n_groups, sizeof(*l->groups), cmp_group);
	l->seconds += clock_mono() - t0;
	for (size_t i = 0; i < l->n_groups; i++) {
		const struct leaks_group *g = &l->groups[i];
		long k = census_class_index(c, g->name, g->size);
		if (k >= 0) {
			c->classes[k].leaked = g->count;
			c->classes[k].leaked_bytes = g->bytes;
		}
	}
	return 0;
}
