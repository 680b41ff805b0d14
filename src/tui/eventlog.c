/*
 * eventlog.c - the map/unmap log, kept by the TUI across refreshes in a
 * ring of TUI_EVLOG_CAP owned events.
 */
#include <stdlib.h>
#include <string.h>

#include "eventlog.h"
#include "views.h"

static size_t evlog_slot(const struct tui_evlog *l, size_t item)
{
	return (l->head + l->cap - l->n + item) % l->cap;
}

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

uint64_t eventlog_seq(const struct tui_evlog *l, size_t item)
{
	return l->seq[evlog_slot(l, item)];
}
