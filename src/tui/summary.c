/*
 * summary.c - the Summary view: the category, type and protection tables
 * under the address-space strip.
 */
#include <string.h>

#include "strip.h"
#include "views.h"

enum { SC_NAME, SC_REGIONS, SC_VIRT, SC_RSS, SC_DREG, SC_DVIRT, SC_RATE, SC_NCOLS };

#define STAT_COLUMNS(first)                                                 \
	{ first, 10, false, false, 0, false },                               \
	{ "REGIONS", 7, true, true, 0, true },                               \
	{ "VIRTUAL", 10, true, true, 0, true },                              \
	{ "RESIDENT", 10, true, true, 0, true },                             \
	{ "+-REGIONS", 9, true, true, 60, true },                            \
	{ "+-VIRTUAL", 10, true, true, 60, true },                           \
	{ "RATE/MIN", 11, true, true, 72, true }

static const struct tui_column cat_cols[SC_NCOLS] = { STAT_COLUMNS("CATEGORY") };
static const struct tui_column type_cols[SC_NCOLS] = { STAT_COLUMNS("TYPE") };
static const struct tui_column prot_cols[SC_NCOLS] = { STAT_COLUMNS("PROTECTION") };

static size_t stat_count(void *ctx)
{
	return ((struct tui_stat_table *)ctx)->n;
}

static int stat_compare(void *ctx, size_t a, size_t b, int col)
{
	const struct tui_stat_table *t = ctx;
	const struct mt_stat *x = t->stat[a], *y = t->stat[b];
	switch (col) {
	case SC_REGIONS: return cmp_u64(x->regions, y->regions);
	case SC_VIRT: return cmp_u64(x->virt, y->virt);
	case SC_RSS: return cmp_u64(x->rss + 1, y->rss + 1); /* unknown first */
	case SC_DREG: return cmp_i64(x->delta_regions, y->delta_regions);
	case SC_DVIRT: return cmp_i64(x->delta_virtual, y->delta_virtual);
	case SC_RATE: return cmp_dbl(x->rate, y->rate);
	}
	return 0;
}

static void stat_row(void *ctx, const struct tui_row *row, size_t item)
{
	const struct tui_stat_table *t = ctx;
	const struct mt_stat *st = t->stat[item];
	char b[32];
	bool total = t->cat[item] < 0 && !strcmp(t->name[item], "total");
	attr_t name_attr = t->cat[item] >= 0 ? theme_cat((enum mt_category)t->cat[item]) :
			   total ? theme(TC_VALUE) : theme(TC_NORMAL);
	attr_t fig = total ? theme(TC_VALUE) : theme(TC_NORMAL);
	list_cell(row, SC_NAME, t->name[item], name_attr, TEXT_CUT_RIGHT);
	snprintf(b, sizeof(b), "%" PRIu64, st->regions);
	list_cell(row, SC_REGIONS, b, fig, TEXT_CUT_RIGHT);
	list_cell(row, SC_VIRT, format_size(b, sizeof(b), st->virt), fig, TEXT_CUT_RIGHT);
	list_cell(row, SC_RSS, size_or_dash(b, sizeof(b), st->rss), fig, TEXT_CUT_RIGHT);
	list_cell(row, SC_DREG, count_delta(b, sizeof(b), st->delta_regions),
		  delta_attr(st->delta_regions), TEXT_CUT_RIGHT);
	list_cell(row, SC_DVIRT, format_delta_size(b, sizeof(b), st->delta_virtual),
		  delta_attr(st->delta_virtual), TEXT_CUT_RIGHT);
	char r[32];
	format_delta_size(r, sizeof(r), (int64_t)st->rate);
	list_cell(row, SC_RATE, r, delta_attr((int64_t)st->rate), TEXT_CUT_RIGHT);
}

static const struct tui_list_ops stat_ops = {
	.count = stat_count,
	.draw_row = stat_row,
	.compare = stat_compare,
};

void summary_update(struct tui_app *a)
{
	const struct mt_model *m = &a->ses.model;
	struct tui_stat_table *t = &a->cats_t;
	t->n = 0;
	for (int c = 0; c < MT_CAT_COUNT; c++) {
		t->name[t->n] = region_category_name((enum mt_category)c);
		t->stat[t->n] = &m->cats[c];
		t->cat[t->n++] = c;
	}
	t->name[t->n] = "total";
	t->stat[t->n] = &m->total;
	t->cat[t->n++] = -1;

	t = &a->types_t;
	t->n = 0;
	for (int c = 0; c < MT_TYPE_COUNT; c++) {
		t->name[t->n] = model_type_name((enum mt_type)c);
		t->stat[t->n] = &m->types[c];
		t->cat[t->n++] = -1;
	}

	t = &a->prots_t;
	t->n = 0;
	for (int p = 0; p < MT_PROT_COUNT; p++) {
		if (!m->prots[p].regions)
			continue;
		region_perms_str((uint8_t)p, t->prot_name[t->n]);
		t->name[t->n] = t->prot_name[t->n];
		t->stat[t->n] = &m->prots[p];
		t->cat[t->n++] = -1;
	}
}

/* The strip, its scale and the largest free block marked under it. */
static void draw_strip(struct tui_app *a, WINDOW *w, int y, int width)
{
	const struct mt_snapshot *s = app_snap(a);
	const struct mt_gaps *g = &a->ses.model.gaps;
	struct tui_strip st;
	char lo[24], hi[24], b[32], line[256];

	if (strip_layout(&st, s->regions, s->n_regions, g, width) < 0)
		return;
	addr_str(lo, sizeof(lo), st.low);
	addr_str(hi, sizeof(hi), st.high);
	wattrset(w, theme(TC_VALUE));
	mvwaddstr(w, y, 0, "Address space");
	wattrset(w, theme(TC_DIM));
	snprintf(line, sizeof(line), " %s%s (%s scale)", lo, a->gl->ellipsis,
		 st.log ? "log" : "linear");
	waddnstr(w, line, width - 14);
	wattrset(w, theme(TC_DIM));
	mvwaddstr(w, y, width - (int)strlen(hi), hi);

	bool color = theme_has_color();
	for (int x = 0; x < st.width; x++) {
		int c = st.cell[x];
		if (c == STRIP_GAP) {
			wattrset(w, theme(TC_GAP));
			mvwaddstr(w, y + 1, x, a->gl->gap);
		} else if (c == STRIP_LARGEST) {
			wattrset(w, theme(TC_LARGEST));
			mvwaddstr(w, y + 1, x, a->gl->largest);
		} else if (color && a->gl->utf8) {
			wattrset(w, theme_cat((enum mt_category)c));
			mvwaddstr(w, y + 1, x, a->gl->block);
		} else {
			wattrset(w, theme_cat((enum mt_category)c));
			mvwaddch(w, y + 1, x, (chtype)theme_cat_letter((enum mt_category)c));
		}
	}

	/* The marker under the largest free block, its size beside it. */
	wattrset(w, theme(TC_NORMAL));
	if (st.largest_at >= 0 && g->largest >= 0) {
		const struct mt_gap *lg = &g->v[g->largest];
		snprintf(line, sizeof(line), "largest free block %s at %s",
			 format_size(b, sizeof(b), lg->end - lg->start),
			 addr_str(lo, sizeof(lo), lg->start));
		int at = st.largest_at + st.largest_len / 2;
		int len = (int)strlen(line) + 2;
		int tx = at + 2 + len <= width ? at : at - len;
		if (tx < 0)
			tx = 0;
		wattrset(w, theme(TC_LARGEST));
		mvwaddstr(w, y + 2, at, a->gl->marker);
		mvwaddnstr(w, y + 2, tx == at ? at + 2 : tx, line, width - tx);
	}

	/* Legend. */
	int x = 0;
	wmove(w, y + 3, 0);
	for (int c = 0; c < MT_CAT_COUNT && x < width - 12; c++) {
		wattrset(w, theme_cat((enum mt_category)c));
		if (color && a->gl->utf8)
			waddstr(w, a->gl->block);
		else
			waddch(w, (chtype)theme_cat_letter((enum mt_category)c));
		wattrset(w, theme(TC_NORMAL));
		wprintw(w, " %s  ", region_category_name((enum mt_category)c));
		x = getcurx(w);
	}
	wattrset(w, theme(TC_GAP));
	if (x < width - 6) {
		waddstr(w, a->gl->gap);
		wattrset(w, theme(TC_NORMAL));
		waddstr(w, " free");
	}
	wattrset(w, theme(TC_NORMAL));
}

void summary_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	const int strip_h = 5; /* title, strip, marker, legend, blank */
	int y = 0;
	if (h >= strip_h + 4) {
		draw_strip(a, w, 0, width);
		y = strip_h;
	}
	int cats_h = (int)a->cats_t.n + 1;
	if (cats_h > h - y)
		cats_h = h - y;
	list_draw(views_list(a), w, y, 0, cats_h, width);
	y += cats_h + 1;
	if (h - y < 2)
		return;
	int half = (width - 1) / 2;
	list_draw(&a->types_list, w, y, 0, h - y, half);
	list_draw(&a->prots_list, w, y, half + 1, h - y, width - half - 1);
}

void summary_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_SUMMARY], cat_cols, SC_NCOLS, &stat_ops, &a->cats_t, -1);
	a->lists[VIEW_SUMMARY].no_cursor = true;
	list_init(&a->types_list, type_cols, SC_NCOLS, &stat_ops, &a->types_t, -1);
	a->types_list.no_cursor = true;
	list_init(&a->prots_list, prot_cols, SC_NCOLS, &stat_ops, &a->prots_t, SC_VIRT);
	a->prots_list.no_cursor = true;
}
