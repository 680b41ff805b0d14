/*
 * gaps.c - the free blocks of the user address space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/gaps.h"
#include "memtop/vec.h"

uint64_t gaps_user_limit(const struct mt_snapshot *s)
{
	/* Regions are sorted: the mappings above 47 bits are at the end. */
	for (size_t i = s->n_regions; i-- > 0;) {
		const struct mt_region *r = &s->regions[i];
		if (r->end <= MT_X86_64_USER_LIMIT)
			break;
		if (!arch_is_gate(r))
			return MT_X86_64_USER_LIMIT_5LVL;
	}
	return MT_X86_64_USER_LIMIT;
}

static int push_gap(struct mt_gaps *g, uint64_t start, uint64_t end)
{
	if (VEC_RESERVE(g->v, g->cap, g->n, 64))
		return -ENOMEM;
	g->v[g->n++] = (struct mt_gap){ start, end };
	g->total += end - start;
	if (g->largest < 0 || end - start > g->v[g->largest].end - g->v[g->largest].start)
		g->largest = (long)g->n - 1;
	return 0;
}

int gaps_compute(struct mt_gaps *g, const struct mt_snapshot *s)
{
	uint64_t page = s->page_size ? s->page_size : 4096;
	g->n = 0;
	g->total = 0;
	g->largest = -1;
	g->low = s->mmap_min_addr > page ? s->mmap_min_addr : page;
	g->high = gaps_user_limit(s);

	uint64_t cursor = g->low;
	for (size_t i = 0; i < s->n_regions && cursor < g->high; i++) {
		const struct mt_region *r = &s->regions[i];
		uint64_t start = r->start < g->high ? r->start : g->high;
		if (start > cursor && push_gap(g, cursor, start) < 0)
			return -ENOMEM;
		if (r->end > cursor)
			cursor = r->end;
	}
	if (cursor < g->high && push_gap(g, cursor, g->high) < 0)
		return -ENOMEM;
	return 0;
}

void gaps_free(struct mt_gaps *g)
{
	free(g->v);
	memset(g, 0, sizeof(*g));
	g->largest = -1;
}

uint64_t gaps_largest_size(const struct mt_gaps *g)
{
	if (g->largest < 0 || (size_t)g->largest >= g->n)
		return 0;
	return g->v[g->largest].end - g->v[g->largest].start;
}
