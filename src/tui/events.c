/*
 * events.c - the Events view: the map/unmap log, kept by the TUI across
 * refreshes in a ring of TUI_EVLOG_CAP.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static size_t evlog_slot(const struct tui_evlog *l, size_t item)
{
	return (l->head + l->cap - l->n + item) % l->cap;
}

static size_t events_count(void *ctx)
{
	return ((struct tui_app *)ctx)->log.n;
}

static int events_compare(void *ctx, size_t ia, size_t ib, int col)
{
	const struct tui_evlog *l = &((struct tui_app *)ctx)->log;
	size_t sa = evlog_slot(l, ia), sb = evlog_slot(l, ib);
	const struct mt_event *x = &l->v[sa], *y = &l->v[sb];
	switch (col) {
	case EC_TIME: return cmp_u64(l->seq[sa], l->seq[sb]);
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
	const struct mt_event *e = &a->log.v[evlog_slot(&a->log, item)];
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
	const struct mt_event *e = &a->log.v[evlog_slot(&a->log, item)];
	snprintf(buf, cap, "%s %012" PRIx64 " %s %s", e->kind == MT_EV_MAP ? "map" : "unmap",
		 e->start, region_category_name(e->category), e->path);
}

static uint64_t events_key(void *ctx, size_t item)
{
	const struct tui_evlog *l = &((struct tui_app *)ctx)->log;
	return l->seq[evlog_slot(l, item)];
}

static const struct tui_list_ops events_ops = {
	.count = events_count,
	.draw_row = events_row,
	.compare = events_compare,
	.text = events_text,
	.key = events_key,
};

void eventlog_free(struct tui_evlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[evlog_slot(l, i)].path);
	free(l->v);
	free(l->seq);
	memset(l, 0, sizeof(*l));
}

int eventlog_copy(struct tui_evlog *dst, const struct tui_evlog *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->v)
		return 0;
	dst->v = calloc(src->cap, sizeof(*dst->v));
	dst->seq = calloc(src->cap, sizeof(*dst->seq));
	if (!dst->v || !dst->seq) {
		eventlog_free(dst);
		return -1;
	}
	dst->cap = src->cap;
	dst->head = src->head;
	dst->next_seq = src->next_seq;
	memcpy(dst->seq, src->seq, src->cap * sizeof(*dst->seq));
	for (size_t i = 0; i < src->n; i++) {
		size_t k = evlog_slot(src, i);
		dst->v[k] = src->v[k];
		dst->v[k].path = strdup(src->v[k].path ? src->v[k].path : "");
		if (!dst->v[k].path) {
			/* Slots not reached are zeroed: free every one. */
			for (size_t j = 0; j < dst->cap; j++)
				free(dst->v[j].path);
			free(dst->v);
			free(dst->seq);
			memset(dst, 0, sizeof(*dst));
			return -1;
		}
	}
	dst->n = src->n;
	return 0;
}

/* Copy the latest refresh's events in; the oldest fall out when full. */
void eventlog_add(struct tui_evlog *l, const struct mt_events *ev)
{
	if (!l->v) {
		l->v = calloc(TUI_EVLOG_CAP, sizeof(*l->v));
		l->seq = calloc(TUI_EVLOG_CAP, sizeof(*l->seq));
		if (!l->v || !l->seq) {
			free(l->v);
			free(l->seq);
			l->v = NULL;
			l->seq = NULL;
			return;
		}
		l->cap = TUI_EVLOG_CAP;
	}
	for (size_t i = 0; i < ev->n; i++) {
		char *path = strdup(ev->v[i].path ? ev->v[i].path : "");
		if (!path)
			return;
		struct mt_event *slot = &l->v[l->head];
		if (l->n == l->cap)
			free(slot->path);
		else
			l->n++;
		*slot = ev->v[i];
		slot->path = path;
		l->seq[l->head] = l->next_seq++;
		l->head = (l->head + 1) % l->cap;
	}
}

/* mt_perm bits from a traced call's protection and flags. */
static uint8_t perms_bits(const struct mt_tevent *e)
{
	char p[5];
	origins_event_perms(e, p);
	return (uint8_t)((p[0] == 'r' ? MT_PERM_R : 0) | (p[1] == 'w' ? MT_PERM_W : 0) |
			 (p[2] == 'x' ? MT_PERM_X : 0) | (p[3] == 's' ? MT_PERM_SHARED : 0));
}

void eventlog_add_traced(struct tui_evlog *l, const struct mt_traced *t,
			 const struct mt_events *diff, const struct mt_snapshot *s)
{
	struct mt_events ev = { 0 };
	ev.v = calloc(t->events.n + diff->n + 1, sizeof(*ev.v));
	if (!ev.v)
		return;
	for (size_t i = 0; i < t->events.n; i++) {
		const struct mt_tevent *e = &t->events.v[i];
		ev.v[ev.n++] = (struct mt_event){
			.kind = e->kind == MT_TEV_MAP ? MT_EV_MAP : MT_EV_UNMAP,
			.time = e->time, .start = e->start,
			.end = e->start + origins_event_len(e, s), .perms = perms_bits(e),
			.category = origins_event_category(e, s), .path = e->path ? e->path : "",
			.traced = true, .tid = e->tid,
			.origin = e->stack >= 0 ? (uint32_t)e->stack + 1 : 0,
		};
	}
	for (size_t i = 0; i < diff->n; i++)
		if (!traced_explains(t, &diff->v[i]))
			ev.v[ev.n++] = diff->v[i];
	eventlog_add(l, &ev);
	free(ev.v);
}

const struct mt_event *eventlog_get(const struct tui_evlog *l, size_t item)
{
	return &l->v[evlog_slot(l, item)];
}

void events_view_traced(struct tui_app *a)
{
	a->lists[VIEW_EVENTS].cols = a->ses.traced.asked ? event_cols_traced : event_cols;
}

void events_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_EVENTS], event_cols, EC_NCOLS, &events_ops, a, EC_TIME);
	a->lists[VIEW_EVENTS].empty = "no map or unmap seen since memtop started";
}
