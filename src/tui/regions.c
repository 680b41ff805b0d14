/*
 * regions.c - the Regions view: every region, new ones marked, those
 * unmapped since the last refresh struck once.
 */
#include <stdlib.h>
#include <string.h>

#include "memtop/vec.h"
#include "views.h"

enum { RC_MARK, RC_ADDR, RC_SIZE, RC_RSS, RC_GROWTH, RC_PERM, RC_CAT, RC_AGE, RC_PATH,
       RC_NCOLS };

static const struct tui_column region_cols[RC_NCOLS] = {
	[RC_MARK] = { "", 1, false, false, 0, false },
	[RC_ADDR] = { "ADDRESS", 14, false, false, 0, true },
	[RC_SIZE] = { "SIZE", 9, true, true, 0, true },
	[RC_RSS] = { "RSS", 9, true, true, 0, true },
	[RC_GROWTH] = { "GROWTH", 9, true, true, 100, true },
	[RC_PERM] = { "PERM", 4, false, false, 0, true },
	[RC_CAT] = { "CATEGORY", 8, false, false, 0, true },
	[RC_AGE] = { "AGE", 6, true, false, 0, true },
	[RC_PATH] = { "PATH", 0, false, false, 0, true },
};

static size_t regions_count(void *ctx)
{
	return ((struct tui_app *)ctx)->n_rrows;
}

static double region_age(const struct tui_app *a, const struct mt_region *r)
{
	const struct mt_snapshot *s = app_snap(a);
	return s && r->first_seen > 0 ? s->mono - r->first_seen : 0;
}

static int64_t region_growth(const struct tui_rrow *rr)
{
	return rr->gone ? 0 : (int64_t)(mt_region_size(rr->r) - rr->growth_base);
}

static int regions_compare(void *ctx, size_t ia, size_t ib, int col)
{
	struct tui_app *a = ctx;
	const struct tui_rrow *x = &a->rrows[ia], *y = &a->rrows[ib];
	switch (col) {
	case RC_ADDR: return cmp_u64(x->r->start, y->r->start);
	case RC_SIZE: return cmp_u64(mt_region_size(x->r), mt_region_size(y->r));
	case RC_RSS: return cmp_u64(x->r->rss + 1, y->r->rss + 1);
	case RC_GROWTH: return cmp_i64(region_growth(x), region_growth(y));
	case RC_PERM: return cmp_u64(x->r->perms, y->r->perms);
	case RC_CAT: return cmp_u64(x->r->category, y->r->category);
	/* Youngest first when ascending: age is "how recent". */
	case RC_AGE: return cmp_dbl(region_age(a, x->r), region_age(a, y->r));
	case RC_PATH: return strcmp(x->r->path, y->r->path);
	}
	return 0;
}

static void regions_row(void *ctx, const struct tui_row *row, size_t item)
{
	struct tui_app *a = ctx;
	const struct tui_rrow *rr = &a->rrows[item];
	const struct mt_region *r = rr->r;
	char b[64], perms[5], name[600];
	attr_t base = rr->gone ? theme(TC_GONE) : theme(TC_NORMAL);
	/* A region unmapped since the last refresh: struck, shown once. */
	void (*cell)(const struct tui_row *, int, const char *, attr_t, enum text_cut) =
		rr->gone ? list_cell_struck : list_cell;

	list_cell(row, RC_MARK, rr->gone ? "-" : rr->fresh ? "+" : " ",
		  rr->gone ? theme(TC_GONE) : theme(TC_NEW), TEXT_CLIP);
	cell(row, RC_ADDR, addr_str(b, sizeof(b), r->start), rr->fresh ? theme(TC_NEW) : base,
	     TEXT_CLIP);
	cell(row, RC_SIZE, format_size(b, sizeof(b), mt_region_size(r)), base, TEXT_CUT_RIGHT);
	list_cell(row, RC_RSS, rr->gone ? "" : size_or_dash(b, sizeof(b), r->rss), base,
		  TEXT_CUT_RIGHT);
	int64_t g = region_growth(rr);
	list_cell(row, RC_GROWTH, g ? format_delta_size(b, sizeof(b), g) : "", delta_attr(g),
		  TEXT_CUT_RIGHT);
	region_perms_str(r->perms, perms);
	cell(row, RC_PERM, perms, base, TEXT_CLIP);
	cell(row, RC_CAT, region_category_name(r->category),
	     rr->gone ? base : theme_cat(r->category), TEXT_CLIP);
	list_cell(row, RC_AGE, rr->gone ? "gone" : format_duration(b, sizeof(b), region_age(a, r)),
		  base, TEXT_CUT_RIGHT);
	snprintf(name, sizeof(name), "%s%s", region_name(r, b, sizeof(b)),
		 r->deleted ? " (deleted)" : "");
	attr_t pa = rr->gone ? base : r->path_len ? base : theme(TC_DIM);
	if (r->deleted && !rr->gone)
		pa = theme(TC_WARN);
	cell(row, RC_PATH, name, pa, TEXT_CUT_LEFT);
}

static void regions_text(void *ctx, size_t item, char *buf, size_t cap)
{
	struct tui_app *a = ctx;
	const struct mt_region *r = a->rrows[item].r;
	char perms[5], b[64];
	region_perms_str(r->perms, perms);
	snprintf(buf, cap, "%012" PRIx64 " %s %s %s%s", r->start, perms,
		 region_category_name(r->category), region_name(r, b, sizeof(b)),
		 r->deleted ? " (deleted)" : "");
}

static uint64_t regions_key(void *ctx, size_t item)
{
	const struct tui_rrow *rr = &((struct tui_app *)ctx)->rrows[item];
	return rr->r->start | rr->gone; /* starts are page-aligned */
}

static const struct tui_list_ops regions_ops = {
	.count = regions_count,
	.draw_row = regions_row,
	.compare = regions_compare,
	.text = regions_text,
	.key = regions_key,
};

static int rrow_push(struct tui_app *a, const struct mt_region *r, uint64_t base,
		     bool gone, bool fresh)
{
	if (VEC_RESERVE(a->rrows, a->cap_rrows, a->n_rrows, 512))
		return -1;
	a->rrows[a->n_rrows++] = (struct tui_rrow){ r, base, gone, fresh };
	return 0;
}

static int cmp_gap(const void *x, const void *y)
{
	const struct mt_gap *a = x, *b = y;
	return cmp_u64(a->start, b->start);
}

/* Covered by one unmap range (sorted, disjoint): gone, not resized. */
static bool unmapped(const struct mt_gap *u, size_t n, const struct mt_region *r)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* the first range starting after r */
		size_t mid = lo + (hi - lo) / 2;
		if (u[mid].start <= r->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && u[lo - 1].end >= r->end;
}

/* Regions of the previous snapshot that this refresh's unmap events
 * cover: shown once more, struck. */
static void add_gone(struct tui_app *a, const struct mt_snapshot *s)
{
	const struct mt_snapshot *p = &a->ses.snap[!a->ses.cur];
	const struct mt_events *ev = &a->ses.model.growth.events;
	struct mt_gap *u = malloc((ev->n + 1) * sizeof(*u));
	size_t n = 0;
	if (!u)
		return;
	for (size_t i = 0; i < ev->n; i++)
		if (ev->v[i].kind == MT_EV_UNMAP)
			u[n++] = (struct mt_gap){ ev->v[i].start, ev->v[i].end };
	qsort(u, n, sizeof(*u), cmp_gap);
	for (size_t i = 0; n && i < p->n_regions; i++) {
		const struct mt_region *r = &p->regions[i];
		long k = snapshot_find(s, r->start);
		if (k >= 0 && s->regions[k].start == r->start && s->regions[k].end == r->end)
			continue;
		if (unmapped(u, n, r) && rrow_push(a, r, mt_region_size(r), true, false))
			break;
	}
	free(u);
}

void regions_update(struct tui_app *a)
{
	const struct mt_snapshot *s = app_snap(a);
	a->n_rrows = 0;
	const struct mt_growth *g = &a->ses.model.growth;
	bool first = a->ses.model.refreshes <= 1;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		uint64_t base = i < g->n_bases ? g->bases[i].size0 : mt_region_size(r);
		if (rrow_push(a, r, base, false, !first && r->first_seen >= s->mono))
			return;
	}
	if (a->ses.have_prev)
		add_gone(a, s);
}

void regions_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_REGIONS], region_cols, RC_NCOLS, &regions_ops, a, RC_ADDR);
	a->lists[VIEW_REGIONS].empty = "no regions";
}
