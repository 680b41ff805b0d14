/*
 * traced.c - a refresh's share of --trace (include/memtop/traced.h).
 */
#include <string.h>

#include "memtop/growth.h"
#include "memtop/traced.h"

void traced_init(struct mt_traced *t)
{
	memset(t, 0, sizeof(*t));
	origins_stacks_init(&t->stacks);
	origins_init(&t->origins);
}

void traced_free(struct mt_traced *t)
{
	origins_stacks_free(&t->stacks);
	origins_events_free(&t->events);
	origins_events_free(&t->prev);
	origins_free(&t->origins);
	origins_groups_free(&t->groups);
	traced_init(t);
}

void traced_next(struct mt_traced *t)
{
	struct mt_tevents tmp = t->prev;
	origins_events_clear(&tmp);
	t->prev = t->events;
	t->events = tmp;
}

bool traced_explains(const struct mt_traced *t, const struct mt_event *ev)
{
	bool unmap = ev->kind == MT_EV_UNMAP;
	return origins_explains(&t->events, unmap, ev->start, ev->end) ||
	       origins_explains(&t->prev, unmap, ev->start, ev->end);
}

int traced_fold(struct mt_traced *t, const struct mt_snapshot *s,
		const struct mt_events *diff)
{
	for (size_t i = 0; i < t->events.n; i++)
		if (origins_apply(&t->origins, &t->events.v[i], s))
			return -1;
	t->untraced = 0;
	for (size_t i = 0; diff && i < diff->n; i++)
		t->untraced += !traced_explains(t, &diff->v[i]);
	return origins_group(&t->origins, s, &t->groups) ? -1 : 0;
}
