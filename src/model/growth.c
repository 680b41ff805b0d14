/*
 * growth.c - mapping growth per backing file and per region size, and the
 * map/unmap events between consecutive snapshots.
 *
 * This runs every refresh over maps of up to ~65,000 regions, so every
 * step is linear: files and (owner, size) buckets are found through hash
 * tables rebuilt in place each refresh, and events come from one merge
 * walk over the two sorted region arrays.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/growth.h"
#include "memtop/hash.h"
#include "memtop/vec.h"

/* Owner of the anonymous buckets in the bucket table. */
#define ANON_OWNER UINT32_MAX

struct bucket_slot {
	uint64_t size;
	uint32_t owner; /* file index, or ANON_OWNER */
	uint32_t idx;   /* bucket index + 1; 0 marks an empty slot */
};

struct mt_growth_tables {
	uint32_t *files; /* file index + 1; 0 marks an empty slot */
	size_t files_cap;
	struct bucket_slot *buckets;
	size_t buckets_cap;
};

void growth_init(struct mt_growth *g)
{
	memset(g, 0, sizeof(*g));
}

void growth_events_clear(struct mt_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].path);
	e->n = 0;
}

void growth_events_free(struct mt_events *e)
{
	growth_events_clear(e);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void growth_free(struct mt_growth *g)
{
	for (size_t i = 0; i < g->n_files; i++) {
		free(g->files[i].path);
		free(g->files[i].buckets.v);
	}
	free(g->files);
	free(g->anon.v);
	free(g->bases);
	growth_events_free(&g->events);
	if (g->tables) {
		free(g->tables->files);
		free(g->tables->buckets);
		free(g->tables);
	}
	memset(g, 0, sizeof(*g));
}

/* A copy of n elements of v (NULL for none); *fail set when out of memory. */
static void *dup_array(const void *v, size_t n, size_t size, bool *fail)
{
	if (!v || n == 0)
		return NULL;
	void *c = malloc(n * size);
	if (!c)
		*fail = true;
	else
		memcpy(c, v, n * size);
	return c;
}

static char *dup_path(const char *p, bool *fail)
{
	char *c = p ? strdup(p) : NULL;
	if (p && !c)
		*fail = true;
	return c;
}

static void buckets_copy(struct mt_buckets *dst, const struct mt_buckets *src, bool *fail)
{
	dst->v = dup_array(src->v, src->n, sizeof(*src->v), fail);
	dst->n = dst->v ? src->n : 0;
	dst->cap = dst->n;
}

int growth_events_copy(struct mt_events *dst, const struct mt_events *src)
{
	bool fail = false;
	memset(dst, 0, sizeof(*dst));
	dst->v = dup_array(src->v, src->n, sizeof(*src->v), &fail);
	for (size_t i = 0; dst->v && i < src->n; i++) {
		dst->v[i].path = dup_path(src->v[i].path, &fail);
		dst->n = i + 1;
	}
	dst->cap = dst->n;
	if (fail) {
		growth_events_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The lookup tables are copied as they are: they hold indexes into
 * files and the bucket arrays, which the copy keeps in the same order.
 */
static struct mt_growth_tables *tables_copy(const struct mt_growth_tables *t, bool *fail)
{
	if (!t)
		return NULL;
	struct mt_growth_tables *c = calloc(1, sizeof(*c));
	if (!c) {
		*fail = true;
		return NULL;
	}
	c->files = dup_array(t->files, t->files_cap, sizeof(*t->files), fail);
	c->files_cap = c->files ? t->files_cap : 0;
	c->buckets = dup_array(t->buckets, t->buckets_cap, sizeof(*t->buckets), fail);
	c->buckets_cap = c->buckets ? t->buckets_cap : 0;
	return c;
}

int growth_copy(struct mt_growth *dst, const struct mt_growth *src)
{
	bool fail = false;
	*dst = *src;
	dst->files = dup_array(src->files, src->n_files, sizeof(*src->files), &fail);
	dst->n_files = dst->cap_files = dst->files ? src->n_files : 0;
	for (size_t i = 0; i < dst->n_files; i++) {
		struct mt_file *f = &dst->files[i];
		f->path = NULL;
		f->buckets.v = NULL;
	}
	for (size_t i = 0; i < dst->n_files; i++) {
		dst->files[i].path = dup_path(src->files[i].path, &fail);
		buckets_copy(&dst->files[i].buckets, &src->files[i].buckets, &fail);
	}
	buckets_copy(&dst->anon, &src->anon, &fail);
	dst->bases = dup_array(src->bases, src->n_bases, sizeof(*src->bases), &fail);
	dst->n_bases = dst->bases ? src->n_bases : 0;
	if (growth_events_copy(&dst->events, &src->events))
		fail = true;
	dst->tables = tables_copy(src->tables, &fail);
	if (fail) {
		growth_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* ---- Events ---------------------------------------------------------- */

enum backing { BACK_ANON, BACK_ANON_SHARED, BACK_FILE };

static enum backing backing_of(const struct mt_region *r)
{
	if (r->inode != 0)
		return BACK_FILE;
	return (r->perms & MT_PERM_SHARED) ? BACK_ANON_SHARED : BACK_ANON;
}

/* Whether address x is backed by the same thing in both regions: an
 * mprotect split or merge keeps this, a new mapping over it does not. */
static bool same_backing(const struct mt_region *p, const struct mt_region *c, uint64_t x)
{
	enum backing b = backing_of(p);
	if (b != backing_of(c))
		return false;
	if (b != BACK_FILE)
		return true;
	return p->inode == c->inode && p->dev_major == c->dev_major &&
	       p->dev_minor == c->dev_minor &&
	       p->offset + (x - p->start) == c->offset + (x - c->start);
}

struct walk {
	struct mt_events *ev;
	const struct mt_region *last_src; /* region the last event came from */
	double time;
};

static int emit(struct walk *w, enum mt_event_kind kind, const struct mt_region *r,
		uint64_t start, uint64_t end)
{
	struct mt_events *e = w->ev;
	if (e->n && w->last_src == r) {
		struct mt_event *last = &e->v[e->n - 1];
		if (last->kind == kind && last->end == start) {
			last->end = end;
			return 0;
		}
	}
	if (VEC_RESERVE(e->v, e->cap, e->n, 16))
		return -ENOMEM;
	char *path = malloc(r->path_len + 1);
	if (!path)
		return -ENOMEM;
	memcpy(path, r->path, r->path_len);
	path[r->path_len] = '\0';
	e->v[e->n++] = (struct mt_event){
		.kind = kind, .time = w->time, .start = start, .end = end,
		.perms = r->perms, .category = r->category, .path = path,
	};
	w->last_src = r;
	return 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * Sweep the address space across both sorted arrays, piece by piece
 * between consecutive boundaries of either.  A piece covered only before
 * is an unmap, only now a map, and by different backings both.  A
 * region's first piece starts at its start, where it inherits the age of
 * the old region covering that address with the same backing.
 */
static int diff(struct mt_events *ev, const struct mt_snapshot *prev,
		struct mt_snapshot *cur)
{
	struct walk w = { ev, NULL, cur->time };
	size_t i = 0, j = 0;
	uint64_t x = 0;
	while (i < prev->n_regions || j < cur->n_regions) {
		const struct mt_region *p = i < prev->n_regions ? &prev->regions[i] : NULL;
		struct mt_region *c = j < cur->n_regions ? &cur->regions[j] : NULL;
		/* Only overlapping input (a corrupt recording) gets here. */
		if (p && p->end <= x) {
			i++;
			continue;
		}
		if (c && c->end <= x) {
			c->first_seen = cur->mono;
			j++;
			continue;
		}
		bool pin = p && p->start <= x;
		bool cin = c && c->start <= x;
		if (!pin && !cin) {
			x = min64(p ? p->start : UINT64_MAX, c ? c->start : UINT64_MAX);
			continue;
		}
		uint64_t end = UINT64_MAX;
		if (p)
			end = min64(end, pin ? p->end : p->start);
		if (c)
			end = min64(end, cin ? c->end : c->start);

		bool same = pin && cin && same_backing(p, c, x);
		if (cin && x == c->start)
			c->first_seen = same ? p->first_seen : cur->mono;
		if (pin && !same && emit(&w, MT_EV_UNMAP, p, x, end) < 0)
			return -ENOMEM;
		if (cin && !same && emit(&w, MT_EV_MAP, c, x, end) < 0)
			return -ENOMEM;

		x = end;
		if (p && x >= p->end)
			i++;
		if (c && x >= c->end)
			j++;
	}
	return 0;
}

/* ---- Files and buckets ------------------------------------------------- */

static uint64_t file_hash(uint32_t major, uint32_t minor, uint64_t inode)
{
	return hash_mix(inode ^ hash_mix((uint64_t)major << 32 | minor));
}

static size_t pow2_at_least(size_t n)
{
	size_t cap = 64;
	while (cap < n)
		cap *= 2;
	return cap;
}

/* Make the tables big enough for `files` files and `buckets` buckets at
 * most half full, and empty them. */
static int tables_prepare(struct mt_growth *g, size_t files, size_t buckets)
{
	if (!g->tables) {
		g->tables = calloc(1, sizeof(*g->tables));
		if (!g->tables)
			return -ENOMEM;
	}
	struct mt_growth_tables *t = g->tables;
	size_t fcap = pow2_at_least(2 * files);
	if (fcap > t->files_cap) {
		uint32_t *v = realloc(t->files, fcap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->files = v;
		t->files_cap = fcap;
	}
	size_t bcap = pow2_at_least(2 * buckets);
	if (bcap > t->buckets_cap) {
		struct bucket_slot *v = realloc(t->buckets, bcap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->buckets = v;
		t->buckets_cap = bcap;
	}
	memset(t->files, 0, t->files_cap * sizeof(*t->files));
	memset(t->buckets, 0, t->buckets_cap * sizeof(*t->buckets));
	return 0;
}

static bool file_matches(const struct mt_file *f, const struct mt_region *r)
{
	return f->inode == r->inode && f->dev_major == r->dev_major &&
	       f->dev_minor == r->dev_minor && f->path_len == r->path_len &&
	       memcmp(f->path, r->path, r->path_len) == 0;
}

/* The slot for r's file: holding its index + 1, or empty (0). */
static uint32_t *file_slot(struct mt_growth *g, const struct mt_region *r)
{
	struct mt_growth_tables *t = g->tables;
	size_t mask = t->files_cap - 1;
	size_t i = file_hash(r->dev_major, r->dev_minor, r->inode) & mask;
	while (t->files[i] && !file_matches(&g->files[t->files[i] - 1], r))
		i = (i + 1) & mask;
	return &t->files[i];
}

static void index_file(struct mt_growth *g, size_t idx)
{
	const struct mt_file *f = &g->files[idx];
	struct mt_growth_tables *t = g->tables;
	size_t mask = t->files_cap - 1;
	size_t i = file_hash(f->dev_major, f->dev_minor, f->inode) & mask;
	while (t->files[i])
		i = (i + 1) & mask;
	t->files[i] = (uint32_t)idx + 1;
}

static struct mt_file *add_file(struct mt_growth *g, const struct mt_region *r,
				double now)
{
	if (VEC_RESERVE(g->files, g->cap_files, g->n_files, 64))
		return NULL;
	char *path = malloc(r->path_len + 1);
	if (!path)
		return NULL;
	memcpy(path, r->path, r->path_len);
	path[r->path_len] = '\0';
	struct mt_file *f = &g->files[g->n_files++];
	memset(f, 0, sizeof(*f));
	f->dev_major = r->dev_major;
	f->dev_minor = r->dev_minor;
	f->inode = r->inode;
	f->path = path;
	f->path_len = r->path_len;
	f->first_seen = now;
	return f;
}

static struct mt_buckets *owner_buckets(struct mt_growth *g, uint32_t owner)
{
	return owner == ANON_OWNER ? &g->anon : &g->files[owner].buckets;
}

static struct bucket_slot *bucket_slot(struct mt_growth *g, uint32_t owner, uint64_t size)
{
	struct mt_growth_tables *t = g->tables;
	size_t mask = t->buckets_cap - 1;
	size_t i = hash_mix(size ^ ((uint64_t)owner << 40)) & mask;
	while (t->buckets[i].idx &&
	       (t->buckets[i].owner != owner || t->buckets[i].size != size))
		i = (i + 1) & mask;
	return &t->buckets[i];
}

/* Start a refresh: counts to zero, the known buckets in the table. */
static void reset_buckets(struct mt_growth *g, uint32_t owner)
{
	struct mt_buckets *b = owner_buckets(g, owner);
	for (size_t k = 0; k < b->n; k++) {
		b->v[k].count = 0;
		struct bucket_slot *s = bucket_slot(g, owner, b->v[k].size);
		*s = (struct bucket_slot){ b->v[k].size, owner, (uint32_t)k + 1 };
	}
}

static int count_bucket(struct mt_growth *g, uint32_t owner, uint64_t size)
{
	struct bucket_slot *s = bucket_slot(g, owner, size);
	struct mt_buckets *b = owner_buckets(g, owner);
	if (!s->idx) {
		if (VEC_RESERVE(b->v, b->cap, b->n, 4))
			return -ENOMEM;
		b->v[b->n] = (struct mt_bucket){ .size = size };
		*s = (struct bucket_slot){ size, owner, (uint32_t)++b->n };
	}
	b->v[s->idx - 1].count++;
	return 0;
}

static int bucket_cmp(const void *a, const void *b)
{
	const struct mt_bucket *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->delta != y->delta)
		return x->delta > y->delta ? -1 : 1;
	return x->size > y->size ? -1 : x->size < y->size;
}

/* Deltas against the baseline, sizes gone for good dropped, and the
 * display order: most regions first. */
static void finish_buckets(struct mt_buckets *b, bool first)
{
	size_t n = 0;
	for (size_t k = 0; k < b->n; k++) {
		struct mt_bucket *x = &b->v[k];
		if (first)
			x->count0 = x->count;
		if (x->count == 0 && x->count0 == 0)
			continue;
		x->delta = (int32_t)((int64_t)x->count - x->count0);
		b->v[n++] = *x;
	}
	b->n = n;
	if (n > 1)
		qsort(b->v, n, sizeof(*b->v), bucket_cmp);
}

static void finish_file(struct mt_file *f, bool first, bool have_rss, double now)
{
	f->present = f->regions > 0;
	if (first) {
		f->regions0 = f->regions;
		f->virt0 = f->virt;
	}
	f->delta_regions = (int64_t)f->regions - f->regions0;
	f->delta_virtual = (int64_t)f->virt - (int64_t)f->virt0;
	double minutes = (now - f->first_seen) / 60.0;
	f->rate_per_min = minutes > 0 ? (double)f->delta_regions / minutes : 0;
	if (!have_rss)
		f->rss = MT_UNKNOWN;
	f->spark[f->spark_head] = f->regions;
	f->spark_head = (f->spark_head + 1) % GROWTH_SPARK;
	if (f->spark_n < GROWTH_SPARK)
		f->spark_n++;
	finish_buckets(&f->buckets, first);
}

static int file_cmp(const void *a, const void *b)
{
	const struct mt_file *x = a, *y = b;
	if (x->delta_virtual != y->delta_virtual)
		return x->delta_virtual > y->delta_virtual ? -1 : 1;
	if (x->delta_regions != y->delta_regions)
		return x->delta_regions > y->delta_regions ? -1 : 1;
	if (x->virt != y->virt)
		return x->virt > y->virt ? -1 : 1;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static bool forgettable(const struct mt_file *f)
{
	return !f->present && f->regions0 == 0;
}

/* Mapped now or at the start first; of the rest, the newest first. */
static int gone_cmp(const void *a, const void *b)
{
	const struct mt_file *x = a, *y = b;
	if (forgettable(x) != forgettable(y))
		return forgettable(x) ? 1 : -1;
	return x->first_seen > y->first_seen ? -1 : x->first_seen < y->first_seen;
}

/* Forget the oldest files that came and went, down to half the bound so
 * that the sort this takes is rare. */
static void forget_gone(struct mt_growth *g)
{
	size_t gone = 0;
	for (size_t i = 0; i < g->n_files; i++)
		gone += forgettable(&g->files[i]);
	if (gone <= GROWTH_MAX_GONE)
		return;
	qsort(g->files, g->n_files, sizeof(*g->files), gone_cmp);
	size_t keep = g->n_files - gone + GROWTH_MAX_GONE / 2;
	for (size_t i = keep; i < g->n_files; i++) {
		free(g->files[i].path);
		free(g->files[i].buckets.v);
	}
	g->n_files = keep;
}

static int count_region(struct mt_growth *g, const struct mt_region *r,
			const struct mt_snapshot *cur, uint32_t *last)
{
	if (r->inode == 0) {
		if (r->category != MT_CAT_ANON)
			return 0;
		return count_bucket(g, ANON_OWNER, mt_region_size(r));
	}
	/* The regions of one file mostly come in a run: try the last one. */
	uint32_t idx = *last;
	if (idx == ANON_OWNER || !file_matches(&g->files[idx], r)) {
		uint32_t *slot = file_slot(g, r);
		if (!*slot) {
			if (!add_file(g, r, cur->mono))
				return -ENOMEM;
			*slot = (uint32_t)g->n_files;
		}
		idx = *slot - 1;
	}
	*last = idx;
	struct mt_file *f = &g->files[idx];
	f->regions++;
	f->virt += mt_region_size(r);
	if (r->rss != MT_UNKNOWN)
		f->rss += r->rss;
	f->deleted = f->deleted || r->deleted;
	return count_bucket(g, idx, mt_region_size(r));
}

static int tally(struct mt_growth *g, const struct mt_snapshot *cur, bool first)
{
	size_t n_buckets = g->anon.n;
	for (size_t i = 0; i < g->n_files; i++)
		n_buckets += g->files[i].buckets.n;
	if (tables_prepare(g, g->n_files + cur->n_regions, n_buckets + cur->n_regions) < 0)
		return -ENOMEM;

	for (size_t i = 0; i < g->n_files; i++) {
		struct mt_file *f = &g->files[i];
		f->regions = 0;
		f->virt = 0;
		f->rss = 0;
		f->deleted = false;
		index_file(g, i);
		reset_buckets(g, (uint32_t)i);
	}
	reset_buckets(g, ANON_OWNER);

	uint32_t last = ANON_OWNER;
	for (size_t i = 0; i < cur->n_regions; i++)
		if (count_region(g, &cur->regions[i], cur, &last) < 0)
			return -ENOMEM;

	for (size_t i = 0; i < g->n_files; i++)
		finish_file(&g->files[i], first, cur->have_rss, cur->mono);
	finish_buckets(&g->anon, first);
	forget_gone(g);
	if (g->n_files > 1)
		qsort(g->files, g->n_files, sizeof(*g->files), file_cmp);
	return 0;
}

/* The count of private anonymous regions, into its ring. */
static void spark_anon(struct mt_growth *g)
{
	uint32_t n = 0;
	for (size_t i = 0; i < g->anon.n; i++)
		n += g->anon.v[i].count;
	g->anon_spark[g->anon_spark_head] = n;
	g->anon_spark_head = (g->anon_spark_head + 1) % GROWTH_SPARK;
	if (g->anon_spark_n < GROWTH_SPARK)
		g->anon_spark_n++;
}

/*
 * Each region's size when first seen at its start, carried from the
 * previous refresh (both lists are sorted by start; first_seen is set).
 */
static int carry_bases(struct mt_growth *g, const struct mt_snapshot *s)
{
	struct mt_growth_base *nb = malloc((s->n_regions + 1) * sizeof(*nb));
	if (!nb) { /* no growth figures rather than wrong ones */
		g->n_bases = 0;
		return -ENOMEM;
	}
	size_t j = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		while (j < g->n_bases && g->bases[j].start < r->start)
			j++;
		bool known = j < g->n_bases && g->bases[j].start == r->start &&
			     r->first_seen < s->mono;
		nb[i] = (struct mt_growth_base){ r->start,
						 known ? g->bases[j].size0 : mt_region_size(r) };
	}
	free(g->bases);
	g->bases = nb;
	g->n_bases = s->n_regions;
	return 0;
}

int growth_update(struct mt_growth *g, const struct mt_snapshot *prev,
		  struct mt_snapshot *cur)
{
	bool first = !g->started;
	if (first)
		g->t0 = cur->mono;
	g->started = true;

	growth_events_clear(&g->events);
	g->have_prev = prev != NULL;
	if (prev) {
		if (diff(&g->events, prev, cur) < 0)
			return -ENOMEM;
	} else {
		for (size_t i = 0; i < cur->n_regions; i++)
			cur->regions[i].first_seen = cur->mono;
	}
	if (tally(g, cur, first) < 0 || carry_bases(g, cur) < 0)
		return -ENOMEM;
	spark_anon(g);
	return 0;
}
