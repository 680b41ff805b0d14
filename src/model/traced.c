/*
 * traced.c - a refresh's share of --trace (include/memtop/traced.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/growth.h"
#include "memtop/traced.h"
#include "memtop/vec.h"

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

void traced_reset(struct mt_traced *t)
{
	origins_events_clear(&t->events);
	origins_events_clear(&t->prev);
	t->origins.n = 0;
	t->groups.n = 0;
	memset(&t->count, 0, sizeof(t->count));
}

static int copy_events(struct mt_tevents *dst, const struct mt_tevents *src)
{
	origins_events_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		if (origins_events_push(dst, &src->v[i]))
			return -ENOMEM;
	return 0;
}

int traced_copy_state(struct mt_traced *dst, const struct mt_traced *src)
{
	if (copy_events(&dst->events, &src->events) || copy_events(&dst->prev, &src->prev))
		return -ENOMEM;
	dst->origins.n = 0;
	for (size_t i = 0; i < src->origins.n; i++) {
		if (VEC_RESERVE(dst->origins.v, dst->origins.cap, dst->origins.n, 64))
			return -ENOMEM;
		dst->origins.v[dst->origins.n++] = src->origins.v[i];
	}
	dst->groups.n = 0;
	for (size_t i = 0; i < src->groups.n; i++) {
		if (VEC_RESERVE(dst->groups.v, dst->groups.cap, dst->groups.n, 64))
			return -ENOMEM;
		dst->groups.v[dst->groups.n++] = src->groups.v[i];
	}
	dst->asked = src->asked;
	dst->on = src->on;
	memcpy(dst->reason, src->reason, sizeof(dst->reason));
	dst->count = src->count;
	return 0;
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

/* The Linux ABI's values (sys/mman.h is not for the model). */
enum { PROT_R = 1, PROT_W = 2, PROT_X = 4 };

static int describe_like(struct mt_tevent *e, const struct mt_tevent *m)
{
	e->prot = m->prot;
	e->shared = m->shared;
	if (!e->len && m->len && m->start + m->len > e->start) /* shmdt */
		e->len = m->start + m->len - e->start;
	return m->path && !(e->path = strdup(m->path)) ? -1 : 0;
}

/* What an unmap unmapped: the latest map of this refresh over its start,
 * else the region prev had there.  The map half of an mremap is what its
 * unmap half was. */
static int describe(struct mt_tevents *ev, size_t i, const struct mt_snapshot *prev)
{
	struct mt_tevent *e = &ev->v[i];
	if (e->kind == MT_TEV_MAP) {
		const struct mt_tevent *u = i ? &ev->v[i - 1] : NULL;
		if (e->call == MT_CALL_MREMAP && u && u->call == MT_CALL_MREMAP &&
		    u->kind == MT_TEV_UNMAP && u->tid == e->tid)
			return describe_like(e, u);
		return 0;
	}
	for (size_t j = i; j-- > 0;) {
		const struct mt_tevent *m = &ev->v[j];
		if (m->kind == MT_TEV_MAP && m->start <= e->start &&
		    (!m->len || m->start + m->len > e->start))
			return describe_like(e, m);
	}
	long r = prev ? snapshot_find(prev, e->start) : -1;
	if (r < 0)
		return 0;
	const struct mt_region *reg = &prev->regions[r];
	if (!e->len) /* shmdt: the segment as it was */
		e->len = reg->end - e->start;
	e->prot = (reg->perms & MT_PERM_R ? PROT_R : 0) | (reg->perms & MT_PERM_W ? PROT_W : 0) |
		  (reg->perms & MT_PERM_X ? PROT_X : 0);
	e->shared = reg->perms & MT_PERM_SHARED ? 1 : 0;
	if (reg->path_len && !(e->path = strdup(reg->path)))
		return -1;
	return 0;
}

int traced_fold(struct mt_traced *t, const struct mt_snapshot *prev,
		const struct mt_snapshot *s, const struct mt_events *diff)
{
	for (size_t i = 0; i < t->events.n; i++)
		if (!t->events.v[i].path && t->events.v[i].prot < 0 &&
		    describe(&t->events, i, prev))
			return -1;
	for (size_t i = 0; i < t->events.n; i++)
		if (origins_apply(&t->origins, &t->events.v[i], s))
			return -1;
	t->count.untraced = 0;
	for (size_t i = 0; diff && i < diff->n; i++)
		t->count.untraced += !traced_explains(t, &diff->v[i]);
	return origins_group(&t->origins, s, &t->groups) ? -1 : 0;
}
