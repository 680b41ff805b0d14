/*
 * events.c - the Events view: the map/unmap log (eventlog.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eventlog.h"
#include "views.h"

enum { EC_TIME, EC_KIND, EC_START, EC_SIZE, EC_PERM, EC_CAT, EC_TID, EC_BY, EC_PATH,
       EC_NCOLS };

#define EVENT_COLS(tid_min, by_min) {                                   \
	[EC_TIME] = { "TIME", 8, false, true, 0, true },                \
	[EC_KIND] = { "EVENT", 5, false, false, 0, true },              \
	[EC_START] = { "START", 14, false, false, 0, true },            \
	[EC_SIZE] = { "SIZE", 9, true, true, 0, true },                 \
	[EC_PERM] = { "PERM", 4, false, false, 0, false },              \
	[EC_CAT] = { "CATEGORY", 8, false, false, 0, true },            \
	[EC_TID] = { "TID", 7, true, false, tid_min, true },            \
	[EC_BY] = { "CALLED FROM", 34, false, false, by_min, false },   \
	[EC_PATH] = { "PATH", 0, false, false, 0, true },               \
}

/* Without --trace the calling thread and the caller are unknown: their
 * columns never show. */
static const struct tui_column event_cols[EC_NCOLS] = EVENT_COLS(SHRT_MAX, SHRT_MAX);
static const struct tui_column event_cols_traced[EC_NCOLS] = EVENT_COLS(100, 90);

static size_t events_count(void *ctx)
{
	return ((struct tui_app *)ctx)->log.n;
}

static int events_compare(void *ctx, size_t ia, size_t ib, int col)
{
	const struct tui_evlog *l = &((struct tui_app *)ctx)->log;
	const struct mt_event *x = eventlog_get(l, ia), *y = eventlog_get(l, ib);
	switch (col) {
	case EC_TIME: return cmp_u64(eventlog_seq(l, ia), eventlog_seq(l, ib));
	case EC_KIND: return cmp_u64(x->kind, y->kind);
	case EC_START: return cmp_u64(x->start, y->start);
	case EC_SIZE: return cmp_u64(x->end - x->start, y->end - y->start);
	case EC_CAT: return cmp_u64(x->category, y->category);
	case EC_TID: return cmp_u64((uint64_t)x->tid, (uint64_t)y->tid);
	case EC_PATH: return strcmp(x->path, y->path);
	}
	return 0;
}

static void events_row(void *ctx, const struct tui_row *row, size_t item)
{
	struct tui_app *a = ctx;
	const struct mt_event *e = eventlog_get(&a->log, item);
	char b[64], perms[5];
	time_t t = (time_t)e->time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%H:%M:%S", &tm);
	bool map = e->kind == MT_EV_MAP;
	attr_t ka = theme(map ? TC_NEW : TC_GONE);
	list_cell(row, EC_TIME, b, theme(TC_DIM), TEXT_CLIP);
	list_cell(row, EC_KIND, map ? "map" : "unmap", ka, TEXT_CLIP);
	list_cell(row, EC_START, addr_str(b, sizeof(b), e->start), theme(TC_NORMAL), TEXT_CLIP);
	list_cell(row, EC_SIZE, format_size_col(b, sizeof(b), e->end - e->start), theme(TC_NORMAL),
		  TEXT_CUT_RIGHT);
	region_perms_str(e->perms, perms);
	list_cell(row, EC_PERM, perms, theme(TC_NORMAL), TEXT_CLIP);
	list_cell(row, EC_CAT, region_category_name(e->category), theme_cat(e->category),
		  TEXT_CLIP);
	if (e->traced) {
		char by[256];
		const struct mt_stacks *st = &a->ses.traced.stacks;
		snprintf(b, sizeof(b), "%d", e->tid);
		list_cell(row, EC_TID, b, theme(TC_NORMAL), TEXT_CLIP);
		origins_stack_line(by, sizeof(by), e->origin && e->origin <= st->n ?
				   &st->v[e->origin - 1] : NULL);
		list_cell(row, EC_BY, by, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	} else if (a->ses.traced.asked) {
		list_cell(row, EC_BY, "(snapshot diff)", theme(TC_DIM), TEXT_CLIP);
	}
	if (*e->path) {
		list_cell(row, EC_PATH, e->path, theme(TC_NORMAL), TEXT_CUT_LEFT);
	} else {
		snprintf(b, sizeof(b), "[%s]", region_category_name(e->category));
		list_cell(row, EC_PATH, b, theme(TC_DIM), TEXT_CLIP);
	}
}

static void events_text(void *ctx, size_t item, char *buf, size_t cap)
{
	struct tui_app *a = ctx;
	const struct mt_event *e = eventlog_get(&a->log, item);
	snprintf(buf, cap, "%s %012" PRIx64 " %s %s", e->kind == MT_EV_MAP ? "map" : "unmap",
		 e->start, region_category_name(e->category), e->path);
}

static uint64_t events_key(void *ctx, size_t item)
{
	const struct tui_evlog *l = &((struct tui_app *)ctx)->log;
	return eventlog_seq(l, item);
}

static const struct tui_list_ops events_ops = {
	.count = events_count,
	.draw_row = events_row,
	.compare = events_compare,
	.text = events_text,
	.key = events_key,
};

void events_view_traced(struct tui_app *a)
{
	a->lists[VIEW_EVENTS].cols = a->ses.traced.asked ? event_cols_traced : event_cols;
}

void events_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_EVENTS], event_cols, EC_NCOLS, &events_ops, a, EC_TIME);
	a->lists[VIEW_EVENTS].empty = "no map or unmap seen since memtop started";
}
