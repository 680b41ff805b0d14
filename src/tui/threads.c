/*
 * threads.c - the Threads view: each thread and its stack.
 */
#include <string.h>

#include "views.h"

enum { TH_TID, TH_NAME, TH_STATE, TH_SP, TH_SSIZE, TH_SRSS, TH_STACK, TH_NCOLS };

static const struct tui_column thread_cols[TH_NCOLS] = {
	[TH_TID] = { "TID", 7, true, false, 0, true },
	[TH_NAME] = { "NAME", 16, false, false, 0, true },
	[TH_STATE] = { "S", 1, false, false, 0, true },
	[TH_SP] = { "SP", 14, false, false, 0, true },
	[TH_SSIZE] = { "STACK", 9, true, true, 0, true },
	[TH_SRSS] = { "RSS", 9, true, true, 0, true },
	[TH_STACK] = { "STACK REGION", 0, false, false, 0, true },
};

static size_t threads_count(void *ctx)
{
	const struct mt_snapshot *s = app_snap(ctx);
	return s ? s->n_threads : 0;
}

const struct mt_region *threads_stack(const struct mt_snapshot *s, const struct mt_thread *t)
{
	if (t->stack_region >= 0 && (size_t)t->stack_region < s->n_regions)
		return &s->regions[t->stack_region];
	return NULL;
}

static int threads_compare(void *ctx, size_t ia, size_t ib, int col)
{
	const struct mt_snapshot *s = app_snap(ctx);
	const struct mt_thread *x = &s->threads[ia], *y = &s->threads[ib];
	const struct mt_region *rx = threads_stack(s, x), *ry = threads_stack(s, y);
	switch (col) {
	case TH_TID: return cmp_i64(x->tid, y->tid);
	case TH_NAME: return strcmp(x->name, y->name);
	case TH_STATE: return cmp_i64(x->state, y->state);
	case TH_SP: return cmp_u64(x->sp, y->sp);
	case TH_STACK: return cmp_u64(rx ? rx->start : 0, ry ? ry->start : 0);
	case TH_SSIZE: return cmp_u64(rx ? mt_region_size(rx) : 0, ry ? mt_region_size(ry) : 0);
	case TH_SRSS: return cmp_u64(rx ? rx->rss + 1 : 0, ry ? ry->rss + 1 : 0);
	}
	return 0;
}

static void threads_row(void *ctx, const struct tui_row *row, size_t item)
{
	const struct mt_snapshot *s = app_snap(ctx);
	const struct mt_thread *t = &s->threads[item];
	const struct mt_region *r = threads_stack(s, t);
	char b[64];
	snprintf(b, sizeof(b), "%d", t->tid);
	list_cell(row, TH_TID, b, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	list_cell(row, TH_NAME, t->name, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	snprintf(b, sizeof(b), "%c", t->state ? t->state : '?');
	list_cell(row, TH_STATE, b, t->state == 'R' ? theme(TC_NEW) : theme(TC_NORMAL),
		  TEXT_CLIP);
	list_cell(row, TH_SP, t->sp ? addr_str(b, sizeof(b), t->sp) : "running", t->sp ?
		  theme(TC_NORMAL) : theme(TC_DIM), TEXT_CLIP);
	if (r) {
		/* The range when it fits (25 columns); at 80 columns the start
		 * alone (STACK says how big), never an address cut short. */
		if (row->list->col_w[TH_STACK] >= 25)
			snprintf(b, sizeof(b), "%012" PRIx64 "-%012" PRIx64, r->start, r->end);
		else
			addr_str(b, sizeof(b), r->start);
		list_cell(row, TH_STACK, b, theme_cat(MT_CAT_STACK), TEXT_CUT_RIGHT);
		list_cell(row, TH_SSIZE, format_size_col(b, sizeof(b), mt_region_size(r)),
			  theme(TC_NORMAL), TEXT_CUT_RIGHT);
		list_cell(row, TH_SRSS, size_or_dash(b, sizeof(b), r->rss), theme(TC_NORMAL),
			  TEXT_CUT_RIGHT);
	} else {
		list_cell(row, TH_STACK, t->sp ? "(not in a region)" : "(unknown)",
			  theme(TC_DIM), TEXT_CLIP);
	}
}

static void threads_text(void *ctx, size_t item, char *buf, size_t cap)
{
	const struct mt_thread *t = &app_snap(ctx)->threads[item];
	snprintf(buf, cap, "%d %s %c", t->tid, t->name, t->state);
}

static uint64_t threads_key(void *ctx, size_t item)
{
	return (uint64_t)app_snap(ctx)->threads[item].tid;
}

static const struct tui_list_ops threads_ops = {
	.count = threads_count,
	.draw_row = threads_row,
	.compare = threads_compare,
	.text = threads_text,
	.key = threads_key,
};

void threads_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_THREADS], thread_cols, TH_NCOLS, &threads_ops, a, TH_TID);
	a->lists[VIEW_THREADS].empty = "no threads read";
}
