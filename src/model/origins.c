/*
 * origins.c - traced events, their stacks, and which stack mapped each
 * live range (include/memtop/origins.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "memtop/origins.h"
#include "memtop/vec.h"

/* ---- stacks -------------------------------------------------------- */

void origins_stacks_init(struct mt_stacks *t)
{
	memset(t, 0, sizeof(*t));
}

void origins_stack_free(struct mt_stack *st)
{
	free(st->frames);
	free(st->strings);
	memset(st, 0, sizeof(*st));
}

void origins_stacks_free(struct mt_stacks *t)
{
	for (size_t i = 0; i < t->n; i++)
		origins_stack_free(&t->v[i]);
	free(t->v);
	origins_stacks_init(t);
}

int origins_stacks_add(struct mt_stacks *t, struct mt_stack *st)
{
	if (VEC_RESERVE(t->v, t->cap, t->n, 64)) {
		origins_stack_free(st);
		return -ENOMEM;
	}
	t->v[t->n++] = *st;
	memset(st, 0, sizeof(*st));
	return 0;
}

int origins_stacks_move(struct mt_stacks *dst, struct mt_stacks *src)
{
	int rc = 0;
	for (size_t i = 0; i < src->n; i++) {
		if (!rc)
			rc = origins_stacks_add(dst, &src->v[i]);
		else
			origins_stack_free(&src->v[i]);
	}
	src->n = 0;
	return rc;
}

/* Names are copied into one block, so a stack is two allocations. */
int origins_stack_build(struct mt_stack *st, const struct mt_frame *frames, uint32_t n)
{
	size_t len = 0;
	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < n; i++)
		len += strlen(frames[i].symbol ? frames[i].symbol : "") +
		       strlen(frames[i].module ? frames[i].module : "") + 2;
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	st->strings = malloc(len + 1);
	if (!st->frames || !st->strings) {
		origins_stack_free(st);
		return -ENOMEM;
	}
	char *p = st->strings;
	for (uint32_t i = 0; i < n; i++) {
		st->frames[i] = frames[i];
		const char *names[2] = { frames[i].symbol ? frames[i].symbol : "",
					 frames[i].module ? frames[i].module : "" };
		const char **dst[2] = { &st->frames[i].symbol, &st->frames[i].module };
		for (int k = 0; k < 2; k++) {
			/* A frame's module is often the previous frame's. */
			if (k == 1 && i > 0 && !strcmp(names[1], st->frames[i - 1].module)) {
				*dst[1] = st->frames[i - 1].module;
				continue;
			}
			size_t l = strlen(names[k]);
			memcpy(p, names[k], l + 1);
			*dst[k] = p;
			p += l + 1;
		}
	}
	st->n = n;
	return 0;
}

/* ---- traced events ------------------------------------------------- */

void origins_events_clear(struct mt_tevents *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].path);
	e->n = 0;
}

void origins_events_free(struct mt_tevents *e)
{
	origins_events_clear(e);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

int origins_events_push(struct mt_tevents *e, const struct mt_tevent *ev)
{
	if (VEC_RESERVE(e->v, e->cap, e->n, 64))
		return -ENOMEM;
	struct mt_tevent *d = &e->v[e->n];
	*d = *ev;
	if (ev->path && !(d->path = strdup(ev->path)))
		return -ENOMEM;
	e->n++;
	return 0;
}

/* ---- live ranges --------------------------------------------------- */

void origins_init(struct mt_origins *o)
{
	memset(o, 0, sizeof(*o));
}

void origins_free(struct mt_origins *o)
{
	free(o->v);
	origins_init(o);
}

/* Index of the first range ending after addr. */
static size_t first_after(const struct mt_origins *o, uint64_t addr)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Remove [start, end) from every range, splitting one that spans it. */
static int origins_clear(struct mt_origins *o, uint64_t start, uint64_t end)
{
	if (o->n == 0)
		return 0;
	size_t i = first_after(o, start);
	if (i < o->n && o->v[i].start < start && o->v[i].end > end) {
		if (VEC_RESERVE(o->v, o->cap, o->n, 64))
			return -ENOMEM;
		memmove(&o->v[i + 1], &o->v[i], (o->n - i) * sizeof(*o->v));
		o->n++;
		o->v[i].end = start;
		o->v[i + 1].start = end;
		return 0;
	}
	if (i < o->n && o->v[i].start < start) {
		o->v[i].end = start;
		i++;
	}
	size_t j = i;
	while (j < o->n && o->v[j].end <= end)
		j++;
	if (j < o->n && o->v[j].start < end)
		o->v[j].start = end;
	memmove(&o->v[i], &o->v[j], (o->n - j) * sizeof(*o->v));
	o->n -= j - i;
	return 0;
}

int origins_apply(struct mt_origins *o, const struct mt_tevent *ev, const struct mt_snapshot *s)
{
	uint64_t start = ev->start, end = ev->start + ev->len;
	if (ev->len == 0) {
		long r = s ? snapshot_find(s, ev->start) : -1;
		if (r < 0)
			return 0;
		end = s->regions[r].end;
	}
	if (end <= start)
		return 0;
	if (origins_clear(o, start, end))
		return -ENOMEM;
	if (ev->kind == MT_TEV_UNMAP)
		return 0;
	if (VEC_RESERVE(o->v, o->cap, o->n, 64))
		return -ENOMEM;
	size_t i = first_after(o, start);
	memmove(&o->v[i + 1], &o->v[i], (o->n - i) * sizeof(*o->v));
	o->v[i] = (struct mt_origin_range){ start, end, ev->stack };
	o->n++;
	return 0;
}

long origins_stack_of(const struct mt_origins *o, uint64_t addr)
{
	size_t i = first_after(o, addr);
	return i < o->n && o->v[i].start <= addr ? o->v[i].stack : -1;
}

/* ---- groups -------------------------------------------------------- */

void origins_groups_free(struct mt_origin_groups *g)
{
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static int group_cmp(const void *pa, const void *pb)
{
	const struct mt_origin_group *a = pa, *b = pb;
	if (a->dev_major != b->dev_major)
		return a->dev_major < b->dev_major ? -1 : 1;
	if (a->dev_minor != b->dev_minor)
		return a->dev_minor < b->dev_minor ? -1 : 1;
	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	if (a->stack != b->stack)
		return a->stack < b->stack ? -1 : 1;
	return 0;
}

static int group_bytes_cmp(const void *pa, const void *pb)
{
	const struct mt_origin_group *a = pa, *b = pb;
	int c = group_cmp(pa, pb);
	if (a->dev_major != b->dev_major || a->dev_minor != b->dev_minor || a->inode != b->inode)
		return c;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return c;
}

int origins_group(const struct mt_origins *o, const struct mt_snapshot *s,
		  struct mt_origin_groups *out)
{
	out->n = 0;
	/* One row per region first, then sorted and summed: a pass and a
	 * sort, whatever the number of files and stacks. */
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		/* Files, and anonymous memory of any kind (large mallocs,
		 * thread stacks, arenas): not [heap], [stack] or [vdso]. */
		if (r->inode == 0 && r->path_len != 0)
			continue;
		struct mt_origin_group row = {
			.dev_major = r->inode ? r->dev_major : 0,
			.dev_minor = r->inode ? r->dev_minor : 0,
			.inode = r->inode,
			.stack = origins_stack_of(o, r->start),
			.count = 1,
			.bytes = mt_region_size(r),
		};
		/* Neighbours mostly share a backing and an origin (a file's
		 * segments, runs of anonymous regions mapped before tracing):
		 * summed at once, the sort below has little left to do. */
		struct mt_origin_group *last = out->n ? &out->v[out->n - 1] : NULL;
		if (last && group_cmp(last, &row) == 0) {
			last->count++;
			last->bytes += row.bytes;
			continue;
		}
		if (VEC_RESERVE(out->v, out->cap, out->n, 64))
			return -ENOMEM;
		out->v[out->n++] = row;
	}
	qsort(out->v, out->n, sizeof(*out->v), group_cmp);
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (w && group_cmp(&out->v[w - 1], &out->v[i]) == 0) {
			out->v[w - 1].count += out->v[i].count;
			out->v[w - 1].bytes += out->v[i].bytes;
		} else {
			out->v[w++] = out->v[i];
		}
	}
	out->n = w;
	qsort(out->v, out->n, sizeof(*out->v), group_bytes_cmp);
	return 0;
}

size_t origins_groups_find(const struct mt_origin_groups *g, uint32_t major, uint32_t minor,
			  uint64_t inode, size_t *first)
{
	size_t lo = 0, hi = g->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mt_origin_group *m = &g->v[mid];
		int c = m->dev_major != major ? (m->dev_major < major ? -1 : 1)
			: m->dev_minor != minor ? (m->dev_minor < minor ? -1 : 1)
			: m->inode != inode ? (m->inode < inode ? -1 : 1) : 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	size_t n = 0;
	while (lo + n < g->n && g->v[lo + n].dev_major == major &&
	       g->v[lo + n].dev_minor == minor && g->v[lo + n].inode == inode)
		n++;
	return n;
}

/* ---- reading events ------------------------------------------------ */

/* The Linux ABI's values (sys/mman.h is not for the model). */
enum { PROT_R = 1, PROT_W = 2, PROT_X = 4 };

void origins_event_perms(const struct mt_tevent *e, char out[5])
{
	if (e->prot < 0) {
		strcpy(out, "????");
		return;
	}
	out[0] = e->prot & PROT_R ? 'r' : '-';
	out[1] = e->prot & PROT_W ? 'w' : '-';
	out[2] = e->prot & PROT_X ? 'x' : '-';
	out[3] = e->shared > 0 ? 's' : e->shared == 0 ? 'p' : '?';
	out[4] = '\0';
}

enum mt_category origins_event_category(const struct mt_tevent *e, const struct mt_snapshot *s)
{
	long r = e->kind == MT_TEV_MAP ? snapshot_find(s, e->start) : -1;
	if (r >= 0 && s->regions[r].start == e->start &&
	    (e->path ? !strcmp(e->path, s->regions[r].path) : s->regions[r].inode == 0))
		return s->regions[r].category;
	if (e->call == MT_CALL_BRK)
		return MT_CAT_HEAP;
	if (e->call == MT_CALL_SHMAT || e->call == MT_CALL_SHMDT)
		return MT_CAT_SHARED;
	if (e->path)
		return MT_CAT_FILE;
	if (e->prot == 0)
		return MT_CAT_RESERVED;
	return e->shared > 0 ? MT_CAT_SHARED : MT_CAT_ANON;
}

uint64_t origins_event_len(const struct mt_tevent *e, const struct mt_snapshot *s)
{
	if (e->len)
		return e->len;
	long r = snapshot_find(s, e->start);
	return r >= 0 ? s->regions[r].end - e->start : 0;
}

/* Leading frames in the C library (the system call's wrapper, malloc's
 * insides) say how, not who: the line starts at the caller. */
static bool in_libc(const struct mt_frame *f)
{
	const char *slash = strrchr(f->module, '/');
	const char *base = slash ? slash + 1 : f->module;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
}

void origins_stack_line(char *buf, size_t n, const struct mt_stack *st)
{
	size_t used = 0, i = 0;
	buf[0] = '\0';
	if (!st || st->n == 0) {
		snprintf(buf, n, "(no stack)");
		return;
	}
	while (i + 1 < st->n && in_libc(&st->frames[i]))
		i++;
	for (; i < st->n && used + 1 < n; i++) {
		const struct mt_frame *f = &st->frames[i];
		char addr[32];
		const char *name = f->symbol;
		if (!*name) {
			snprintf(addr, sizeof(addr), "0x%" PRIx64, f->ip);
			name = addr;
		}
		used += (size_t)snprintf(buf + used, n - used, "%s%s%s", used ? " <- " : "", name,
					 f->inlined ? " (inlined)" : "");
	}
}

bool origins_explains(const struct mt_tevents *ev, bool unmap, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < ev->n; i++) {
		const struct mt_tevent *e = &ev->v[i];
		uint64_t e_end = e->len ? e->start + e->len : e->start + 1;
		if ((e->kind == MT_TEV_UNMAP) == unmap && e->start < end && start < e_end)
			return true;
	}
	return false;
}
