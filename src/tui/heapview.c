/*
 * heapview.c - the heap census on the screen (`H`): by arena and by class,
 * with each class's growth since the first census of the session and,
 * on `L`, the leaks.  Each census is frozen work (heapreport_take: the
 * target stands still for the walk only); --heap-every takes one every
 * SECS seconds by itself.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "memtop/clock.h"
#include "memtop/format.h"
#include "memtop/replay.h"
#include "actions.h"
#include "drilldown.h"
#include "eventlog.h"
#include "heapview.h"
#include "keys.h"
#include "lines.h"
#include "screen.h"
#include "timetravel.h"
#include "views.h"

static const struct tui_column heap_cols[] = {
	{ "", 14, false, false, 0, false },
	{ "", 0, false, false, 0, false },
};

static const char *sz(char *b, uint64_t v)
{
	return format_size(b, 32, v);
}

static void arena_lines(struct tui_lines *L, const struct census *c)
{
	char b[6][32];
	lines_add(L, LINE_TITLE, "arenas", "%-14s %6s %9s %9s %9s %9s %9s %6s %9s", "START",
		  "HEAPS", "SYSTEM", "IN USE", "FREE", "TOP", "LARGEST", "FRAG", "TRIMMABLE");
	for (size_t i = 0; i < c->n_arenas; i++) {
		const struct census_arena *a = &c->arenas[i];
		lines_add(L, LINE_PLAIN, a->main ? "  main" : "  thread",
			  "0x%-12" PRIx64 " %6zu %9s %9s %9s %9s %9s %5.1f%% %9s", a->start,
			  a->n_heaps, sz(b[0], a->system), sz(b[1], a->in_use), sz(b[2], a->free),
			  sz(b[3], a->top), sz(b[4], a->largest_free), 100.0 * a->fragmentation,
			  sz(b[5], a->trimmable));
		if (a->system && a->free * 2 >= a->system)
			lines_add(L, LINE_WARN, "", "mostly free: %s of %s, %s", sz(b[0], a->free),
				  sz(b[1], a->system), a->fragmentation >= 0.25 ?
				  "in holes between chunks in use (cannot be compacted)" :
				  "mostly the top chunk");
	}
}

static void class_lines(struct tui_lines *L, const struct heapreport *r)
{
	const struct census *c = &r->c;
	char b[2][32], name[24];
	lines_add(L, LINE_TITLE, "classes", "%10s %10s %10s %10s%s  %s", "COUNT", "BYTES",
		  "+COUNT", "+BYTES", r->leaks ? "   LEAKED" : "", "CLASS OR SIZE");
	for (size_t i = 0; i < c->n_classes; i++) {
		const struct census_class *k = &c->classes[i];
		char what[160], leaked[16] = "";
		if (k->name)
			snprintf(what, sizeof(what), "%s", k->name);
		else
			snprintf(what, sizeof(what), "[%" PRIu64 " bytes]", k->size);
		if (r->leaks)
			snprintf(leaked, sizeof(leaked), " %8" PRIu64, k->leaked);
		snprintf(name, sizeof(name), "  #%zu", i + 1);
		lines_add(L, k->delta_count > 0 ? LINE_WARN : LINE_PLAIN, name,
			  "%10" PRIu64 " %10s %+10" PRId64 " %10s%s  %s", k->count,
			  sz(b[0], k->bytes), k->delta_count,
			  format_delta_size(b[1], 32, k->delta_bytes), leaked, what);
	}
}

static void leak_lines(struct tui_lines *L, const struct heapreport *r)
{
	const struct leaks *l = &r->l;
	char b[32];
	if (!l->n_groups && l->count && !r->c.chunks) {
		lines_add(L, LINE_TITLE, "leaks", "%" PRIu64 " chunks, %s unreachable, %" PRIu64
			  " unreferenced (recorded without its groups: by class above)", l->count,
			  sz(b, l->bytes), l->unreferenced_count);
		return;
	}
	lines_add(L, LINE_TITLE, "leaks", "%" PRIu64 " chunks, %s unreachable, %" PRIu64
		  " unreferenced (heads of leaked structures)%s", l->count, sz(b, l->bytes),
		  l->unreferenced_count, r->c.chunks ? "; Enter: who points to one" :
		  " (recorded)");
	for (size_t i = 0; i < l->n_groups; i++) {
		const struct leaks_group *g = &l->groups[i];
		char what[96], ex[80] = "";
		if (g->name)
			snprintf(what, sizeof(what), "%s", g->name);
		else
			snprintf(what, sizeof(what), "[%" PRIu64 " bytes]", g->size);
		for (size_t k = 0, n = 0; k < g->n_examples && k < 3; k++)
			n += (size_t)snprintf(ex + n, sizeof(ex) - n, " 0x%" PRIx64,
					      g->examples[k]);
		char name[32];
		snprintf(name, sizeof(name), "  leak %u", (unsigned)(i + 1));
		lines_add(L, LINE_PLAIN, name, "%10" PRIu64 " %10s  %s (%" PRIu64 " unreferenced)"
			  " e.g.%s", g->count, sz(b, g->bytes), what, g->unreferenced, ex);
	}
	if (l->shared_total)
		lines_add(L, LINE_WARN, "shared", "%" PRIu64 " chunks held from one offset of "
			  "several objects of one class (--heap --leaks lists them)",
			  l->shared_total);
}

/* Executable mappings unmapped since memtop started (libraries after
 * dlclose): a hook left pointing there crashes the process when called.
 * Each is listed; Enter scans for the words still pointing into it. */
static const struct leaks_departed *departed_of(const struct heapreport *r,
						const struct mt_event *e)
{
	for (size_t i = 0; r->leaks && i < r->l.n_departed; i++)
		if (r->l.departed[i].lo == e->start && r->l.departed[i].hi == e->end)
			return &r->l.departed[i];
	return NULL;
}

static void departed_lines(struct tui_app *a, struct tui_lines *L)
{
	size_t n = 0;
	for (size_t i = 0; i < a->log.n; i++) {
		const struct mt_event *e = eventlog_get(&a->log, i);
		if (e->kind != MT_EV_UNMAP || !(e->perms & MT_PERM_X))
			continue;
		if (!n++)
			lines_add(L, LINE_TITLE, "unloaded code", "executable mappings gone since "
				  "memtop started; Enter: who still points into one");
		char name[32], when[16];
		time_t t = (time_t)e->time;
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		snprintf(name, sizeof(name), "  code %u", (unsigned)i);
		const struct leaks_departed *d = departed_of(&a->heap.cur, e);
		char found[96] = "";
		if (d && d->hits) {
			unsigned k = d->n_where < LEAKS_DEPARTED_EXAMPLES ? d->n_where :
				LEAKS_DEPARTED_EXAMPLES;
			snprintf(found, sizeof(found), ": %" PRIu64 " word%s point%s into it%s",
				 d->hits, d->hits == 1 ? "" : "s", d->hits == 1 ? "s" : "",
				 k ? ", at" : "");
			for (unsigned j = 0; j < k && j < 2; j++) {
				size_t len = strlen(found);
				snprintf(found + len, sizeof(found) - len, " 0x%" PRIx64,
					 d->where[j]);
			}
		} else if (d) {
			snprintf(found, sizeof(found), ": nothing points into it any more");
		}
		lines_add(L, d && d->hits ? LINE_WARN : LINE_PLAIN, name,
			  "0x%" PRIx64 "-0x%" PRIx64 " %s, unmapped at %s%s", e->start, e->end,
			  e->path[0] ? e->path : "(anonymous)", when, found);
	}
}

/* The unloaded code the leak search should look for pointers into. */
static void set_departed(struct tui_app *a, struct leaks *l)
{
	l->n_departed = 0;
	for (size_t i = 0; i < a->log.n && l->n_departed < LEAKS_DEPARTED_MAX; i++) {
		const struct mt_event *e = eventlog_get(&a->log, i);
		if (e->kind == MT_EV_UNMAP && (e->perms & MT_PERM_X))
			l->departed[l->n_departed++] = (struct leaks_departed){ .lo = e->start,
										.hi = e->end };
	}
}

static void build_lines(struct tui_app *a)
{
	struct tui_heap *h = &a->heap;
	const struct heapreport *r = &h->cur;
	const struct census *c = &r->c;
	struct tui_lines *L = &h->lines;
	char when[16], since[16], b[3][32];
	time_t t = (time_t)r->time, t0 = (time_t)h->base_time;
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	strftime(since, sizeof(since), "%H:%M:%S", localtime(&t0));
	L->n = 0;
	if (a->ses.replay)
		lines_add(L, LINE_DIM, "", "recorded census %zu of %zu, as of %s, target stopped "
			  "%.0f ms; growth since %s (H: the one of the sample shown)", h->shown,
			  h->n_recorded, when, r->stopped_ms, since);
	else
		lines_add(L, LINE_DIM, "", "census %zu as of %s, target stopped %.0f ms; growth "
			  "since %s (H again, L with leaks)", h->taken, when, r->stopped_ms,
			  since);
	for (size_t i = 0; i < c->n_walk_errors; i++)
		lines_add(L, LINE_WARN, "", "%s", c->walk_errors[i]);
	lines_add(L, LINE_PLAIN, "heap", "in use %s in %zu chunks, free %s, mmapped %s in %"
		  PRIu64 " chunks", sz(b[0], c->in_use_bytes), (size_t)c->chunks_in_use,
		  sz(b[1], c->free_bytes),
		  sz(b[2], c->mmapped_bytes), c->mmapped_chunks);
	arena_lines(L, c);
	class_lines(L, r);
	if (r->leaks)
		leak_lines(L, r);
	if (!a->ses.replay)
		departed_lines(a, L);
}

static void show(struct tui_app *a)
{
	struct tui_heap *h = &a->heap;
	build_lines(a);
	if (!screen_open(a, &screen_heap)) {
		list_init(&h->list, heap_cols, 2, &lines_ops, &h->lines, -1);
		screen_push(a, &screen_heap);
	}
	list_rebuild(&h->list);
}

/* A recorded census into a report the screen shows (no chunks: the
 * drill-down is for live censuses; the leak groups and their examples
 * are kept when the recording has them). */
static int load_recorded(struct tui_app *a, size_t i, struct heapreport *r, struct mt_error *err)
{
	struct heapstore_census hc;
	if (replay_load_heap(a->ses.replay, a->heap.recorded[i].id, &hc, err))
		return -1;
	heapreport_from_stored(r, &hc, a->ses.pid, "");
	return 0;
}

/* In a replay, H: the latest census recorded at or before the sample on
 * show, its growth against the first one recorded. */
static void take_recorded(struct tui_app *a)
{
	struct tui_heap *h = &a->heap;
	struct mt_error err;
	mt_error_clear(&err);
	if (!h->listed) {
		if (replay_list_heaps(a->ses.replay, &h->recorded, &h->n_recorded, &err)) {
			tui_status(a, "heap censuses: %s", err.msg);
			return;
		}
		h->listed = true;
	}
	int64_t now = replay_sample_id(a->ses.replay, timetravel_index(a));
	size_t pick = 0;
	for (size_t i = 0; i < h->n_recorded; i++)
		if (h->recorded[i].sample <= now)
			pick = i + 1;
	if (!h->n_recorded) {
		tui_status(a, "no heap census in this recording (H with -w records them)");
		return;
	}
	if (!pick) {
		tui_status(a, "no heap census recorded yet at this sample: the first is at "
			   "a later one");
		return;
	}
	struct heapreport r, first;
	if (load_recorded(a, pick - 1, &r, &err)) {
		tui_status(a, "heap census: %s", err.msg);
		return;
	}
	if (!h->base_time) {
		if (load_recorded(a, 0, &first, &err) == 0) {
			census_copy_classes(&h->base, &first.c);
			h->base_time = first.time;
			heapreport_free(&first);
		}
	}
	census_delta(&r.c, &h->base);
	heapreport_free(&h->cur);
	h->cur = r;
	h->shown = pick;
	show(a);
}

void heapview_take(struct tui_app *a, bool leaks)
{
	struct tui_heap *h = &a->heap;
	struct mt_error err;
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
	if (a->ses.replay) {
		take_recorded(a);
		return;
	}
	if (!a->ses.proc) {
		tui_status(a, "the heap census needs a live process");
		return;
	}
	if (a->exited) {
		tui_status(a, "process %d has exited", (int)a->ses.pid);
		return;
	}
	if (a->opt->no_freeze) {
		tui_status(a, "the heap census stops the target for its walk: "
			   "not with --no-freeze");
		return;
	}
	struct heapreport r;
	memset(&r, 0, sizeof(r));
	set_departed(a, &r.l);
	mt_error_clear(&err);
	double t0 = clock_mono();
	if (heapreport_take(&r, a->ses.pid, a->ses.proc, leaks, a->opt->scan_swapped, &a->symbols,
			    &err) != 0) {
		heapreport_free(&r);
		tui_status(a, "heap census: %s", err.msg);
		return;
	}
	census_delta(&r.c, h->taken ? &h->base : NULL);
	if (!h->taken) {
		census_copy_classes(&h->base, &r.c);
		h->base_time = r.time;
	}
	heapreport_free(&h->cur);
	h->cur = r;
	h->taken++;
	h->next = clock_mono() + a->opt->heap_every;
	/* With -w the census goes into the recording, tied to the latest
	 * sample, for a replay's H. */
	struct record_heap rh = { &h->cur.c, h->cur.leaks ? &h->cur.l : NULL, h->cur.time,
				  h->cur.stopped_ms, h->cur.not_stopped, clock_mono() - t0 };
	session_record_heap(&a->ses, &rh);
	if (session_record_lost(&a->ses, &err))
		tui_warn(a, "%s; monitoring goes on", err.msg);
	show(a);
}

void heapview_departed_scan(struct tui_app *a, const struct mt_event *e)
{
	char label[96];
	const char *base = strrchr(e->path, '/');
	snprintf(label, sizeof(label), "unloaded %s", base ? base + 1 : e->path[0] ? e->path :
		 "code");
	drilldown_range(a, e->start, e->end, label);
}

/* Enter on a leak group: the drill-down from its first example (the
 * head of a leaked structure when there is one): who points to it, and
 * on from there.  On unloaded code: who still points into it. */
void heapview_enter(struct tui_app *a)
{
	struct tui_heap *h = &a->heap;
	size_t item, k;
	unsigned ev;
	if (list_selected(&h->list, &item) && item < h->lines.n &&
	    sscanf(h->lines.v[item].name, "  code %u", &ev) == 1 && ev < a->log.n) {
		heapview_departed_scan(a, eventlog_get(&a->log, ev));
		return;
	}
	if (!list_selected(&h->list, &item) || item >= h->lines.n ||
	    sscanf(h->lines.v[item].name, "  leak %zu", &k) != 1 || k == 0 ||
	    k > h->cur.l.n_groups) {
		tui_status(a, "select a leak group (L takes the census with leaks) to see who "
			   "points to it");
		return;
	}
	const struct leaks_group *g = &h->cur.l.groups[k - 1];
	if (!h->cur.c.chunks) {
		tui_status(a, "a recorded census: who points to a chunk needs the live "
			   "process (memtop -p PID --refs ADDR)");
		return;
	}
	long ci = g->n_examples ? census_find(&h->cur.c, g->examples[0]) : -1;
	if (ci < 0)
		return;
	const struct census_chunk *ch = &h->cur.c.chunks[ci];
	char label[96];
	if (g->name)
		snprintf(label, sizeof(label), "leaked %s 0x%" PRIx64, g->name, ch->user);
	else
		snprintf(label, sizeof(label), "leaked chunk 0x%" PRIx64, ch->user);
	drilldown_range(a, ch->user, ch->user + census_usable(ch), label);
}

void heapview_tick(struct tui_app *a, double now)
{
	struct tui_heap *h = &a->heap;
	if (a->opt->heap_every > 0 && screen_top(a) == &screen_heap && now >= h->next)
		heapview_take(a, h->cur.leaks);
}

void heapview_close(struct tui_app *a)
{
	screen_close(a, &screen_heap);
}

/* Popped off the stack: its list goes, the censuses stay. */
void heapview_closed(struct tui_app *a)
{
	list_free(&a->heap.list);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void heapview_free(struct tui_app *a)
{
	struct tui_heap *h = &a->heap;
	heapview_close(a);
	heapreport_free(&h->cur);
	census_free(&h->base);
	lines_free(&h->lines);
	free(h->recorded);
	memset(h, 0, sizeof(*h));
}

void heapview_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	wattrset(w, theme(TC_VALUE));
	mvwaddstr(w, 0, 0, "Heap census (glibc malloc)");
	wattrset(w, theme(TC_NORMAL));
	list_draw(&a->heap.list, w, 1, 0, h - 2, width);
	actions_draw(w, h - 1, width, SC_HEAP);
}
