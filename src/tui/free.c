/*
 * free.c - the Free view: the gaps of the user address space.
 */
#include <string.h>

#include "views.h"

enum { GC_SIZE, GC_START, GC_END, GC_BETWEEN, GC_NCOLS };

static const struct tui_column gap_cols[GC_NCOLS] = {
	[GC_SIZE] = { "SIZE", 10, true, true, 0, true },
	[GC_START] = { "START", 14, false, false, 0, true },
	[GC_END] = { "END", 14, false, false, 0, true },
	[GC_BETWEEN] = { "BETWEEN", 0, false, false, 0, false },
};

static size_t gaps_count(void *ctx)
{
	return ((struct tui_app *)ctx)->ses.model.gaps.n;
}

static int gaps_compare(void *ctx, size_t ia, size_t ib, int col)
{
	const struct mt_gaps *g = &((struct tui_app *)ctx)->ses.model.gaps;
	const struct mt_gap *x = &g->v[ia], *y = &g->v[ib];
	switch (col) {
	case GC_SIZE: return cmp_u64(x->end - x->start, y->end - y->start);
	case GC_START: return cmp_u64(x->start, y->start);
	case GC_END: return cmp_u64(x->end, y->end);
	}
	return 0;
}

/* "libc.so.6 .. [heap]": the regions below and above a gap. */
static void gap_between(const struct tui_app *a, const struct mt_gap *gp, char *out,
			size_t cap)
{
	const struct mt_snapshot *s = app_snap(a);
	char b1[64], b2[64];
	long below = gp->start ? snapshot_find(s, gp->start - 1) : -1;
	long above = snapshot_find(s, gp->end);
	const char *n1 = below >= 0 ? region_name(&s->regions[below], b1, sizeof(b1)) : "(bottom)";
	const char *n2 = above >= 0 ? region_name(&s->regions[above], b2, sizeof(b2)) : "(top)";
	const char *s1 = strrchr(n1, '/'), *s2 = strrchr(n2, '/');
	snprintf(out, cap, "%s %s %s", s1 ? s1 + 1 : n1, a->gl->ellipsis, s2 ? s2 + 1 : n2);
}

static void gaps_row(void *ctx, const struct tui_row *row, size_t item)
{
	struct tui_app *a = ctx;
	const struct mt_gap *gp = &a->ses.model.gaps.v[item];
	bool largest = (long)item == a->ses.model.gaps.largest;
	attr_t at = largest ? theme(TC_LARGEST) : theme(TC_NORMAL);
	char b[256];
	list_cell(row, GC_SIZE, format_size(b, sizeof(b), gp->end - gp->start), at,
		  TEXT_CUT_RIGHT);
	list_cell(row, GC_START, addr_str(b, sizeof(b), gp->start), at, TEXT_CLIP);
	list_cell(row, GC_END, addr_str(b, sizeof(b), gp->end), at, TEXT_CLIP);
	gap_between(a, gp, b, sizeof(b));
	if (largest) {
		char t[300];
		snprintf(t, sizeof(t), "%s  (largest)", b);
		list_cell(row, GC_BETWEEN, t, at, TEXT_CUT_RIGHT);
	} else {
		list_cell(row, GC_BETWEEN, b, theme(TC_DIM), TEXT_CUT_RIGHT);
	}
}

static void gaps_text(void *ctx, size_t item, char *buf, size_t cap)
{
	struct tui_app *a = ctx;
	const struct mt_gap *gp = &a->ses.model.gaps.v[item];
	char b[256];
	gap_between(a, gp, b, sizeof(b));
	snprintf(buf, cap, "%012" PRIx64 " %012" PRIx64 " %s", gp->start, gp->end, b);
}

static uint64_t gaps_key(void *ctx, size_t item)
{
	return ((struct tui_app *)ctx)->ses.model.gaps.v[item].start;
}

static const struct tui_list_ops gaps_ops = {
	.count = gaps_count,
	.draw_row = gaps_row,
	.compare = gaps_compare,
	.text = gaps_text,
	.key = gaps_key,
};

void free_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_FREE], gap_cols, GC_NCOLS, &gaps_ops, a, GC_SIZE);
	a->lists[VIEW_FREE].empty = "no free space";
}
