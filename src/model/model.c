/*
 * model.c - one refresh: classify, summarise, gaps, headroom, growth.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/arch.h"
#include "memtop/classify.h"
#include "memtop/model.h"

void model_init(struct mt_model *m)
{
	memset(m, 0, sizeof(*m));
	m->gaps.largest = -1;
	growth_init(&m->growth);
}

void model_free(struct mt_model *m)
{
	gaps_free(&m->gaps);
	growth_free(&m->growth);
	model_init(m);
}

int model_copy(struct mt_model *dst, const struct mt_model *src)
{
	*dst = *src;
	dst->gaps.v = NULL;
	dst->gaps.cap = 0;
	growth_init(&dst->growth);
	if (src->gaps.n) {
		dst->gaps.v = malloc(src->gaps.n * sizeof(*src->gaps.v));
		if (!dst->gaps.v) {
			model_init(dst);
			return -ENOMEM;
		}
		memcpy(dst->gaps.v, src->gaps.v, src->gaps.n * sizeof(*src->gaps.v));
		dst->gaps.cap = src->gaps.n;
	}
	if (growth_copy(&dst->growth, &src->growth)) {
		gaps_free(&dst->gaps);
		model_init(dst);
		return -ENOMEM;
	}
	return 0;
}

enum mt_type model_type_of(enum mt_category c)
{
	switch (c) {
	case MT_CAT_IMAGE:
	case MT_CAT_FILE:
		return MT_TYPE_FILE;
	case MT_CAT_SHARED:
		return MT_TYPE_SHARED;
	default:
		return MT_TYPE_PRIVATE;
	}
}

const char *model_type_name(enum mt_type t)
{
	static const char *const names[MT_TYPE_COUNT] = {
		[MT_TYPE_PRIVATE] = "private",
		[MT_TYPE_SHARED] = "shared",
		[MT_TYPE_FILE] = "file",
	};
	return (unsigned)t < MT_TYPE_COUNT ? names[t] : "?";
}

static void stat_add(struct mt_stat *st, const struct mt_region *r)
{
	st->regions++;
	st->virt += mt_region_size(r);
	if (r->perms & (MT_PERM_R | MT_PERM_W | MT_PERM_X))
		st->committed += mt_region_size(r);
	if (r->rss != MT_UNKNOWN)
		st->rss += r->rss;
}

/* Deltas against the baseline and the rate over `minutes`. */
static void stat_finish(struct mt_stat *st, struct mt_stat *base, bool first,
			bool have_rss, double minutes)
{
	if (!have_rss)
		st->rss = MT_UNKNOWN;
	if (first)
		*base = *st;
	st->delta_regions = (int64_t)st->regions - (int64_t)base->regions;
	st->delta_virtual = (int64_t)st->virt - (int64_t)base->virt;
	st->rate = minutes > 0 ? (double)st->delta_virtual / minutes : 0;
}

static void summarise(struct mt_model *m, const struct mt_snapshot *s, bool first)
{
	memset(m->cats, 0, sizeof(m->cats));
	memset(m->types, 0, sizeof(m->types));
	memset(m->prots, 0, sizeof(m->prots));
	memset(&m->total, 0, sizeof(m->total));
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (arch_is_gate(r))
			continue; /* counted nowhere (arch.h) */
		stat_add(&m->cats[r->category], r);
		stat_add(&m->types[model_type_of(r->category)], r);
		stat_add(&m->prots[r->perms & 0x0f], r);
		stat_add(&m->total, r);
	}

	double minutes = (s->mono - m->t0) / 60.0;
	for (int c = 0; c < MT_CAT_COUNT; c++)
		stat_finish(&m->cats[c], &m->cats0[c], first, s->have_rss, minutes);
	for (int t = 0; t < MT_TYPE_COUNT; t++)
		stat_finish(&m->types[t], &m->types0[t], first, s->have_rss, minutes);
	for (int p = 0; p < MT_PROT_COUNT; p++)
		stat_finish(&m->prots[p], &m->prots0[p], first, s->have_rss, minutes);
	stat_finish(&m->total, &m->total0, first, s->have_rss, minutes);
}

int model_update(struct mt_model *m, const struct mt_snapshot *prev,
		 struct mt_snapshot *cur)
{
	bool first = m->refreshes == 0;
	if (first)
		m->t0 = cur->mono;

	classify_run(cur);
	summarise(m, cur, first);
	int err = gaps_compute(&m->gaps, cur);
	if (err < 0)
		return err;

	uint64_t map_count, vsz;
	headroom_measure(cur, &map_count, &vsz);
	headroom_history_push(&m->history, cur->mono, map_count, vsz);
	headroom_compute(&m->headroom, cur, &m->gaps, &m->history);

	err = growth_update(&m->growth, prev, cur);
	if (err < 0)
		return err;
	m->refreshes++;
	return 0;
}
