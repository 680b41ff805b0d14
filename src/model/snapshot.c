/*
 * snapshot.c - ownership of a snapshot's regions, threads and strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/snapshot.h"
#include "memtop/vec.h"

/* Most maps files intern well under this; huge ones get more blocks. */
#define STRBLOCK_MIN (64 * 1024)

struct mt_strblock {
	struct mt_strblock *next;
	size_t len;
	size_t cap;
	char data[];
};

void snapshot_init(struct mt_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->rlimit_as = UINT64_MAX;
	s->page_size = 4096;
}

static void strings_free(struct mt_strings *st)
{
	struct mt_strblock *b = st->head;
	while (b) {
		struct mt_strblock *next = b->next;
		free(b);
		b = next;
	}
	st->head = NULL;
	st->last = NULL;
	st->last_len = 0;
}

/* Keep the newest (largest) block for reuse; free the rest. */
static void strings_reset(struct mt_strings *st)
{
	if (st->head) {
		struct mt_strblock *keep = st->head;
		st->head = keep->next;
		strings_free(st);
		keep->next = NULL;
		keep->len = 0;
		st->head = keep;
	}
	st->last = NULL;
	st->last_len = 0;
}

void snapshot_free(struct mt_snapshot *s)
{
	free(s->regions);
	free(s->threads);
	strings_free(&s->strings);
	snapshot_init(s);
}

void snapshot_reset(struct mt_snapshot *s)
{
	s->n_regions = 0;
	s->n_threads = 0;
	s->have_rss = false;
	s->rss_time = 0;
	memset(&s->info, 0, sizeof(s->info));
	strings_reset(&s->strings);
}

struct mt_region *snapshot_add_region(struct mt_snapshot *s)
{
	if (VEC_RESERVE(s->regions, s->cap_regions, s->n_regions, 256))
		return NULL;
	struct mt_region *r = &s->regions[s->n_regions++];
	memset(r, 0, sizeof(*r));
	r->path = "";
	for (int f = 0; f < MT_SMAPS_FIELDS; f++)
		r->smaps.v[f] = MT_UNKNOWN;
	return r;
}

const char *snapshot_intern(struct mt_snapshot *s, const char *str, size_t len)
{
	struct mt_strings *st = &s->strings;
	if (len == 0)
		return "";
	if (st->last && st->last_len == len && memcmp(st->last, str, len) == 0)
		return st->last;
	struct mt_strblock *b = st->head;
	if (!b || b->cap - b->len < len + 1) {
		size_t cap = STRBLOCK_MIN;
		if (b && b->cap * 2 > cap)
			cap = b->cap * 2;
		if (cap < len + 1)
			cap = len + 1;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = st->head;
		b->len = 0;
		b->cap = cap;
		st->head = b;
	}
	char *p = b->data + b->len;
	memcpy(p, str, len);
	p[len] = '\0';
	b->len += len + 1;
	st->last = p;
	st->last_len = len;
	return p;
}

int snapshot_copy(struct mt_snapshot *dst, const struct mt_snapshot *src)
{
	snapshot_reset(dst);
	struct mt_region *regions = dst->regions;
	size_t cap_regions = dst->cap_regions;
	struct mt_thread *threads = dst->threads;
	struct mt_strings strings = dst->strings;

	*dst = *src;
	dst->strings = strings;
	dst->regions = regions;
	dst->cap_regions = cap_regions;
	dst->n_regions = 0;
	dst->threads = NULL;
	dst->n_threads = 0;
	free(threads);

	for (size_t i = 0; i < src->n_regions; i++) {
		struct mt_region *r = snapshot_add_region(dst);
		if (!r)
			return -ENOMEM;
		*r = src->regions[i];
		r->path = snapshot_intern(dst, src->regions[i].path,
					  src->regions[i].path_len);
		if (!r->path)
			return -ENOMEM;
	}
	if (src->n_threads) {
		dst->threads = malloc(src->n_threads * sizeof(*dst->threads));
		if (!dst->threads)
			return -ENOMEM;
		memcpy(dst->threads, src->threads,
		       src->n_threads * sizeof(*dst->threads));
		dst->n_threads = src->n_threads;
	}
	return 0;
}

long snapshot_find(const struct mt_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n_regions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mt_region *r = &s->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

bool snapshot_heap_continues(const struct mt_snapshot *s, size_t i)
{
	if (i + 1 >= s->n_regions)
		return false;
	const struct mt_region *r = &s->regions[i], *n = &s->regions[i + 1];
	return r->end == n->start && n->category == MT_CAT_HEAP && r->category == MT_CAT_HEAP &&
	       n->perms == r->perms && (r->perms & MT_PERM_W) && strcmp(r->path, n->path) == 0;
}
