/*
 * drilldown.c - the drill-down on screen: from a region's detail, `s` scans
 * the whole process for pointers into the region and lists who holds them;
 * Enter makes the selected holder the next target and scans again; Esc
 * steps back to the list before, as it was.
 *
 * Each step is one frozen_scan (frozen.h, docs/drilldown.md's recipe):
 * the symbol tables are read while the target runs, then freeze, maps,
 * scan, release, and only then draw.  Everything runs on this thread (the
 * one that froze the target does its ptrace work); the progress callback
 * is the only screen code that runs while the target stands still, and it
 * only draws a bar and reads the keyboard without waiting, so Esc
 * releases the target at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/classify.h"
#include "memtop/clock.h"
#include "memtop/format.h"
#include "memtop/freeze.h"
#include "memtop/frozen.h"
#include "memtop/vec.h"
#include "actions.h"
#include "drilldown.h"
#include "keys.h"
#include "scanbar.h"
#include "screen.h"
#include "timetravel.h"
#include "views.h"

enum { RC_ADDR, RC_INTO, RC_HOLDER, RC_WHERE, RC_NCOLS };

static const struct tui_column drilldown_cols[RC_NCOLS] = {
	[RC_ADDR] = { "STORED AT", 14, false, false, 0, false },
	[RC_INTO] = { "INTO", 12, true, false, 0, false },
	[RC_HOLDER] = { "HELD BY", 30, false, false, 0, false },
	[RC_WHERE] = { "WHERE", 0, false, false, 0, false },
};

static struct tui_step *top_step(const struct tui_app *a)
{
	return a->drill.n ? a->drill.steps[a->drill.n - 1] : NULL;
}

/* ---- the list ------------------------------------------------------------ */

static size_t drilldown_count(void *ctx)
{
	const struct tui_step *st = top_step(ctx);
	return st ? st->rows.n : 0;
}

static void draw_group(const struct tui_row *row, const struct tui_step *st,
		       const struct drill_row *dr)
{
	const struct scan_group *g = &st->res.groups[dr->group];
	const struct mt_region *r = &st->snap.regions[g->region];
	char size[32], text[700], name[64];
	snprintf(text, sizeof(text), "0x%012" PRIx64 "-0x%012" PRIx64 "  %s %s  %s: %zu",
		 r->start, r->end, region_category_name(r->category),
		 format_size(size, sizeof(size), mt_region_size(r)),
		 region_name(r, name, sizeof(name)), g->n);
	list_span(row, text, theme(TC_LABEL) | A_BOLD, TEXT_CUT_LEFT);
}

static void draw_ref(const struct tui_row *row, const struct tui_step *st,
		     const struct scan_ref *ref)
{
	char b[512];
	list_cell(row, RC_ADDR, addr_str(b, sizeof(b), ref->addr), theme(TC_NORMAL), TEXT_CLIP);
	snprintf(b, sizeof(b), "+0x%" PRIx64, ref->value - st->lo);
	list_cell(row, RC_INTO, b, theme(TC_DIM), TEXT_CUT_LEFT);
	bool live = ref->holder != SCAN_HOLDER_HEAP || !ref->has_object ||
		    (ref->object.in_use && !ref->stale_free);
	drill_holder_name(b, sizeof(b), ref, &st->snap);
	list_cell(row, RC_HOLDER, b, theme(live ? TC_VALUE : TC_DIM), TEXT_CUT_RIGHT);
	drill_holder_where(b, sizeof(b), ref, &st->snap);
	list_cell(row, RC_WHERE, b, theme(live ? TC_NORMAL : TC_DIM), TEXT_CUT_RIGHT);
}

/* A pointer of the target: where it points, from which offset, to what. */
static void draw_out(const struct tui_row *row, const struct tui_step *st,
		     const struct scan_ref *p)
{
	char b[512];
	list_cell(row, RC_ADDR, addr_str(b, sizeof(b), p->value), theme(TC_NORMAL), TEXT_CLIP);
	snprintf(b, sizeof(b), "from +0x%" PRIx64, p->from - st->lo);
	list_cell(row, RC_INTO, b, theme(TC_DIM), TEXT_CUT_LEFT);
	bool live = p->holder != SCAN_HOLDER_HEAP || !p->has_object || p->object.in_use;
	drill_holder_name(b, sizeof(b), p, &st->snap);
	list_cell(row, RC_HOLDER, b, theme(live ? TC_VALUE : TC_DIM), TEXT_CUT_RIGHT);
	drill_holder_where(b, sizeof(b), p, &st->snap);
	list_cell(row, RC_WHERE, b, theme(live ? TC_NORMAL : TC_DIM), TEXT_CUT_RIGHT);
}

static const struct unwind_stack *group_stack(const struct tui_step *st, size_t group)
{
	const struct mt_region *r = &st->snap.regions[st->res.groups[group].region];
	return scan_result_stack(&st->res, r->tid);
}

static void frame_text(char *b, size_t cap, const struct tui_step *st, const struct drill_row *dr)
{
	const struct unwind_frame *f = &group_stack(st, dr->group)->frames[dr->index];
	snprintf(b, cap, "    #%-2zu %s%s+0x%" PRIx64 "   ip 0x%" PRIx64 " sp 0x%" PRIx64,
		 dr->index, f->func[0] ? "" : "??", f->func, f->func_offset, f->ip, f->sp);
}

static void drilldown_row(void *ctx, const struct tui_row *row, size_t item)
{
	const struct tui_step *st = top_step(ctx);
	const struct drill_row *dr = &st->rows.v[item];
	char b[512];
	switch (dr->kind) {
	case DROW_GROUP:
		draw_group(row, st, dr);
		break;
	case DROW_REF:
		draw_ref(row, st, &st->res.refs[dr->index]);
		break;
	case DROW_STALE:
		snprintf(b, sizeof(b), "  + %zu stale cop%s below the stack pointer (dead stack, "
			 "not live references)", dr->index, dr->index == 1 ? "y" : "ies");
		list_span(row, b, theme(TC_DIM), TEXT_CUT_RIGHT);
		break;
	case DROW_FREED:
		snprintf(b, sizeof(b), "  + %zu stale cop%s in freed chunks (tcache, fastbin or "
			 "free: not live references)", dr->index, dr->index == 1 ? "y" : "ies");
		list_span(row, b, theme(TC_DIM), TEXT_CUT_RIGHT);
		break;
	case DROW_FRAME:
		frame_text(b, sizeof(b), st, dr);
		list_span(row, b, theme(TC_DIM), TEXT_CUT_RIGHT);
		break;
	case DROW_OUT_HEAD:
		snprintf(b, sizeof(b), "Points to (%zu)", dr->index);
		list_span(row, b, theme(TC_LABEL) | A_BOLD, TEXT_CUT_RIGHT);
		break;
	case DROW_OUT:
		draw_out(row, st, &st->res.points_to[dr->index]);
		break;
	}
}

static void drilldown_text(void *ctx, size_t item, char *buf, size_t cap)
{
	const struct tui_step *st = top_step(ctx);
	const struct drill_row *dr = &st->rows.v[item];
	char name[256], where[256];
	if (dr->kind == DROW_REF) {
		const struct scan_ref *ref = &st->res.refs[dr->index];
		drill_holder_name(name, sizeof(name), ref, &st->snap);
		drill_holder_where(where, sizeof(where), ref, &st->snap);
		snprintf(buf, cap, "0x%" PRIx64 " %s %s", ref->addr, name, where);
	} else if (dr->kind == DROW_OUT) {
		const struct scan_ref *p = &st->res.points_to[dr->index];
		drill_holder_name(name, sizeof(name), p, &st->snap);
		drill_holder_where(where, sizeof(where), p, &st->snap);
		snprintf(buf, cap, "0x%" PRIx64 " %s %s", p->value, name, where);
	} else if (dr->kind == DROW_OUT_HEAD) {
		snprintf(buf, cap, "points to");
	} else if (dr->kind == DROW_FRAME) {
		frame_text(buf, cap, st, dr);
	} else if (dr->kind == DROW_GROUP) {
		const struct mt_region *r = &st->snap.regions[st->res.groups[dr->group].region];
		snprintf(buf, cap, "%s %s", region_category_name(r->category), r->path);
	} else if (dr->kind == DROW_FREED) {
		snprintf(buf, cap, "stale freed");
	} else {
		snprintf(buf, cap, "stale");
	}
}

static const struct tui_list_ops drilldown_ops = {
	.count = drilldown_count,
	.draw_row = drilldown_row,
	.text = drilldown_text,
};

/* Show step st where it was left (or, new, on its first reference). */
static void show_step(struct tui_app *a, const struct tui_step *st)
{
	struct tui_list *l = &a->drill.list;
	l->cursor = st->cursor;
	l->top = st->top;
	l->have_sel = false;
	list_rebuild(l);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

/* ---- the scan -------------------------------------------------------------- */

/* Keys typed during a scan other than those that cancel it: handed back
 * to the loop afterwards, so typing ahead (Enter, Enter) works. */
#define TYPEAHEAD_MAX 16

struct scan_ui {
	struct tui_app *a;
	const struct tui_step *st;
	struct scanbar bar;
	int typed[TYPEAHEAD_MAX];
	int n_typed;
};

/* The function bar's line while a scan runs: what, how far, how to stop. */
static void draw_scanning(struct tui_app *a, const struct tui_step *st, uint64_t done,
			  uint64_t total, bool bar)
{
	WINDOW *w = a->foot;
	char what[128], fit[160], b[512];
	if (!w || a->too_small)
		return;
	werase(w);
	wattrset(w, theme(TC_PROMPT));
	mvwaddstr(w, 0, 0, "Scanning");
	wattrset(w, theme(TC_NORMAL));
	snprintf(what, sizeof(what), " for pointers into %s ", st->label);
	text_fit(fit, sizeof(fit), what, strlen(what), a->cols / 3, TEXT_CUT_RIGHT, a->gl->utf8);
	waddstr(w, fit);
	int x = getcurx(w), room = a->cols - x - 13;
	if (bar && room > 10) {
		scanbar_format(b, sizeof(b), room, done, total, a->gl);
		wattrset(w, theme(TC_BAR));
		waddstr(w, b);
	}
	wattrset(w, theme(TC_DIM));
	mvwaddstr(w, 0, a->cols - 12, "Esc cancels");
	wattrset(w, theme(TC_NORMAL));
	wnoutrefresh(w);
	doupdate();
}

/* Called after every chunk of the scan, the target possibly stopped:
 * read a key without waiting, redraw the bar now and then. */
static int on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct scan_ui *u = arg;
	bool draw;
	int key = getch();
	bool stop = freeze_signal_pending() || tui_quit_pending();
	if (scanbar_step(&u->bar, clock_mono(), key == ERR ? -1 : key, stop, &draw))
		return 1;
	if (key != ERR && u->n_typed < TYPEAHEAD_MAX)
		u->typed[u->n_typed++] = key;
	if (draw)
		draw_scanning(u->a, u->st, done, total, true);
	return 0;
}

/* A scan predicted to stop the target longer than this asks first
 * (--max-stop sets it). */
#define ASK_ABOVE_MS 1000

/* Ask on the function bar line whether to stop the target that long:
 * y goes ahead, any other key does not (frozen_scan's confirm). */
static int ask_big_scan(void *arg, const struct scan_estimate *e)
{
	struct scan_ui *u = arg;
	struct tui_app *a = u->a;
	WINDOW *w = a->foot;
	char b[160], size[32];
	if (!w || a->too_small)
		return 0;
	snprintf(b, sizeof(b), "Scan %s, ~%.1f s with the process stopped? y/n",
		 format_size(size, sizeof(size), e->bytes), e->stop_ms / 1000.0);
	werase(w);
	wattrset(w, theme(TC_PROMPT));
	mvwaddnstr(w, 0, 0, b, a->cols);
	wattrset(w, theme(TC_NORMAL));
	wnoutrefresh(w);
	doupdate();
	int key;
	timeout(-1);
	while ((key = getch()) == KEY_RESIZE || key == KEY_MOUSE)
		;
	timeout(0);
	a->dirty_foot = true;
	if (key != 'y' && key != 'Y')
		tui_status(a, "not scanned: reading %s would stop process %d ~%.1f s", size,
			   (int)a->ses.pid, e->stop_ms / 1000.0);
	return key == 'y' || key == 'Y';
}

/* One step's scan (frozen_scan: warm, freeze, maps, scan, release);
 * keys typed meanwhile are kept for the loop.  1: the user declined a
 * big scan. */
static int scan_step(struct tui_app *a, struct tui_step *st, struct mt_error *err)
{
	struct tui_drill *d = &a->drill;
	struct scan_ui u = { .a = a, .st = st };
	struct frozen_scan_info info;
	scanbar_start(&u.bar, clock_mono());
	draw_scanning(a, st, 0, 0, false);
	if (!d->proc && proc_open(&d->proc, a->ses.pid, err) < 0)
		return -1;
	struct frozen_scan_options o = {
		.pid = a->ses.pid,
		.proc = d->proc,
		.spec = { .kind = SCAN_SPEC_RANGE, .start = st->lo, .end = st->hi },
		.no_freeze = a->opt->no_freeze,
		.symbols = &a->symbols,
		.progress = on_progress,
		.progress_arg = &u,
		.ask_above_ms = a->opt->max_stop_ms ? (double)a->opt->max_stop_ms : ASK_ABOVE_MS,
		.scan_swapped = a->opt->scan_swapped,
		.confirm = ask_big_scan,
		.confirm_arg = &u,
	};
	timeout(0); /* on_progress reads keys without waiting; the loop sets its own again */
	int rc = frozen_scan(&o, &st->snap, &st->res, &info, err);
	while (u.n_typed > 0) /* ungetch pushes in front: last first */
		ungetch(u.typed[--u.n_typed]);
	if (rc != 0)
		return rc;
	st->frozen = info.stats.frozen;
	st->stopped_ms = info.stats.stopped_ms;
	st->not_stopped = info.stats.not_stopped;
	if (info.stats.n_unstopped) {
		char why[128];
		const struct freeze_thread *t = &info.stats.unstopped[0];
		snprintf(st->ran_why, sizeof(st->ran_why), "thread %d: %s", (int)t->tid,
			 freeze_why(t, why, sizeof(why)));
	}
	st->taken = time(NULL);
	st->region = info.region;
	if (drill_rows_build(&st->rows, &st->res, &st->snap) < 0)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory"), -1;
	st->cursor = drill_rows_first_ref(&st->rows);
	st->top = 0;
	return 0;
}

static void step_free(struct tui_step *st)
{
	if (!st)
		return;
	scan_result_free(&st->res);
	snapshot_free(&st->snap);
	drill_rows_free(&st->rows);
	free(st);
}

static struct tui_step *step_new(uint64_t lo, uint64_t hi, const char *label)
{
	struct tui_step *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->lo = lo;
	st->hi = hi;
	st->region = -1;
	snprintf(st->label, sizeof(st->label), "%s", label);
	snapshot_init(&st->snap);
	scan_result_init(&st->res);
	return st;
}

/* Put st on screen: as a new step, or (replace) in place of the top one. */
static void push_step(struct tui_app *a, struct tui_step *st, bool replace)
{
	struct tui_drill *d = &a->drill;
	if (d->n == 0) {
		list_init(&d->list, drilldown_cols, RC_NCOLS, &drilldown_ops, a, -1);
		screen_push(a, &screen_drilldown);
	}
	if (replace) {
		step_free(d->steps[d->n - 1]);
		d->steps[d->n - 1] = st;
	} else {
		struct tui_step *cur = top_step(a);
		if (cur) {
			cur->cursor = d->list.cursor;
			cur->top = d->list.top;
		}
		d->steps[d->n++] = st;
	}
	d->list.empty = st->res.cancelled ? "cancelled before anything was found" :
		"no references: nothing outside the target points into it";
	show_step(a, st);
}

/* With -w, the step goes into the recording, tied to the one it was
 * followed from, so a replay can walk the same chain. */
static void record_step(struct tui_app *a, struct tui_step *st, bool replace)
{
	struct tui_drill *d = &a->drill;
	struct mt_error err;
	size_t below = replace ? d->n - 1 : d->n; /* steps under the new one */
	struct record_scan rs = {
		.lo = st->lo, .hi = st->hi, .label = st->label, .frozen = st->frozen,
		.stopped_ms = st->stopped_ms, .not_stopped = st->not_stopped,
		.taken = (double)st->taken, .res = &st->res, .snap = &st->snap,
		.parent = below ? d->steps[below - 1]->rec_id : 0,
	};
	session_record_scan(&a->ses, &rs, &st->rec_id);
	if (session_record_lost(&a->ses, &err))
		tui_warn(a, "%s; monitoring goes on", err.msg);
}

/* Scan for [lo, hi) as a new step; when replace, in place of the step on
 * screen.  A scan that fails leaves the screen as it was and says why. */
static void run_step(struct tui_app *a, uint64_t lo, uint64_t hi, const char *label,
		     bool replace)
{
	struct tui_drill *d = &a->drill;
	struct mt_error err;
	mt_error_clear(&err);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
	if (a->exited) {
		tui_status(a, "process %d has exited: nothing to scan", (int)a->ses.pid);
		return;
	}
	if (!replace && VEC_RESERVE(d->steps, d->cap, d->n, 8))
		return;
	struct tui_step *st = step_new(lo, hi, label);
	if (!st)
		return;
	int rc = scan_step(a, st, &err);
	if (rc != 0) {
		if (rc < 0)
			tui_status(a, "scan failed: %s", err.msg);
		step_free(st);
		return;
	}
	record_step(a, st, replace);
	push_step(a, st, replace);
}

/* ---- replay: the scans the recording holds -------------------------------- */

/* Which recorded scan answers a step: one of the region starting at
 * start (it may have grown or shrunk since), or (point) one whose range
 * holds start. */
struct scan_want {
	uint64_t start, end;
	bool point;
	int64_t parent; /* the step it is followed from, preferred */
};

static bool scan_matches(const struct scanstore_info *s, const struct scan_want *w)
{
	if (w->point)
		return s->lo <= w->start && w->start < s->hi;
	return s->lo == w->start;
}

/* x before y: followed from the step on screen, then the latest taken at
 * or before the sample on screen, then the first taken after it. */
static bool scan_better(const struct scanstore_info *x, const struct scanstore_info *y,
			int64_t parent, int64_t now)
{
	bool px = parent && x->parent == parent, py = parent && y->parent == parent;
	if (px != py)
		return px;
	bool bx = x->sample <= now, by = y->sample <= now;
	if (bx != by)
		return bx;
	return bx ? x->id > y->id : x->id < y->id;
}

static const struct scanstore_info *find_recorded(const struct tui_app *a,
						  const struct scan_want *w)
{
	int64_t now = replay_sample_id(a->ses.replay, timetravel_index(a));
	const struct scanstore_info *best = NULL;
	for (size_t i = 0; i < a->n_scans; i++)
		if (scan_matches(&a->scans[i], w) &&
		    (!best || scan_better(&a->scans[i], best, w->parent, now)))
			best = &a->scans[i];
	return best;
}

/* A recorded scan as a step: the result and the regions it names move
 * from the store into the step. */
static struct tui_step *load_step(struct tui_app *a, const struct scanstore_info *info,
				  struct mt_error *err)
{
	struct scanstore_scan sc;
	struct tui_step *st = NULL;
	if (replay_load_scan(a->ses.replay, info->id, &sc, err) == 0 &&
	    (st = step_new(info->lo, info->hi, info->label))) {
		st->res = sc.res;
		st->snap = sc.snap;
		scan_result_init(&sc.res);
		snapshot_init(&sc.snap);
		st->region = sc.region;
		st->frozen = sc.frozen;
		st->stopped_ms = sc.stopped_ms;
		st->not_stopped = sc.not_stopped;
		st->taken = (time_t)info->taken;
		st->rec_id = info->id;
		if (drill_rows_build(&st->rows, &st->res, &st->snap) < 0) {
			mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
			step_free(st);
			st = NULL;
		} else {
			st->cursor = drill_rows_first_ref(&st->rows);
		}
	}
	scanstore_scan_free(&sc);
	return st;
}

static void show_recorded(struct tui_app *a, const struct scan_want *w, const char *what)
{
	struct tui_drill *d = &a->drill;
	struct mt_error err;
	mt_error_clear(&err);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
	const struct scanstore_info *info = find_recorded(a, w);
	if (!info) {
		tui_status(a, "no scan of %s was recorded: a new scan needs a live process", what);
		return;
	}
	if (VEC_RESERVE(d->steps, d->cap, d->n, 8))
		return;
	struct tui_step *st = load_step(a, info, &err);
	if (!st) {
		tui_status(a, "%s", err.msg);
		return;
	}
	push_step(a, st, false);
	long k = replay_find_id(a->ses.replay, info->sample);
	if (k >= 0 && (size_t)k != timetravel_index(a))
		tui_status(a, "this scan was recorded at sample %ld", k + 1);
}

void drilldown_start(struct tui_app *a)
{
	char label[96];
	if (a->detail_gone) {
		tui_status(a, "the region has been unmapped: nothing to scan for");
		return;
	}
	if (a->ses.replay) {
		struct scan_want w = { a->detail_region.start, a->detail_region.end, false, 0 };
		show_recorded(a, &w, "this region");
		return;
	}
	drill_region_label(label, sizeof(label), &a->detail_region);
	run_step(a, a->detail_region.start, a->detail_region.end, label, false);
}

void drilldown_range(struct tui_app *a, uint64_t lo, uint64_t hi, const char *label)
{
	if (a->ses.replay) {
		struct scan_want w = { lo, hi, false, 0 };
		show_recorded(a, &w, label);
		return;
	}
	run_step(a, lo, hi, label, false);
}

void drilldown_rescan(struct tui_app *a)
{
	const struct tui_step *st = top_step(a);
	if (a->ses.replay) {
		tui_status(a, "a new scan needs a live process: this is a recording");
		return;
	}
	if (st)
		run_step(a, st->lo, st->hi, st->label, true);
}

/* The range of the symbol covering addr in st's modules; *size stays 0
 * when none does (the follow then takes the whole region). */
static void symbol_range(struct tui_app *a, const struct tui_step *st, uint64_t addr,
			 uint64_t *start, uint64_t *size)
{
	struct symbols_map m;
	struct symbols_hit hit;
	memset(&m, 0, sizeof(m));
	if (symbols_map_build(&m, &a->symbols, &st->snap, a->ses.pid) == 0 &&
	    symbols_lookup(&m, addr, &hit)) {
		*start = hit.start;
		*size = hit.size;
	}
	symbols_map_free(&m);
}

void drilldown_follow(struct tui_app *a)
{
	const struct tui_step *st = top_step(a);
	size_t item;
	char label[96];
	uint64_t lo, hi, sym_start = 0, sym_size = 0;
	if (!st || !list_selected(&a->drill.list, &item))
		return;
	const struct drill_row *dr = &st->rows.v[item];
	if (dr->kind == DROW_GROUP) {
		const struct mt_region *r = &st->snap.regions[st->res.groups[dr->group].region];
		struct scan_want w = { r->start, r->end, false, st->rec_id };
		if (a->ses.replay) {
			show_recorded(a, &w, "that region");
			return;
		}
		drill_region_label(label, sizeof(label), r);
		run_step(a, r->start, r->end, label, false);
		return;
	}
	if (dr->kind != DROW_REF && dr->kind != DROW_OUT) {
		tui_status(a, "select a reference, a pointer of Points to, or a region's title "
			   "to follow");
		return;
	}
	/* A pointer of the target is followed as a holder is: its ref
	 * describes the place it points to. */
	const struct scan_ref *ref = dr->kind == DROW_OUT ? &st->res.points_to[dr->index]
							  : &st->res.refs[dr->index];
	if (a->ses.replay) {
		/* Whatever was scanned live for this holder held its address. */
		struct scan_want w = { ref->addr, ref->addr + 1, true, st->rec_id };
		show_recorded(a, &w, "that holder");
		return;
	}
	if (ref->holder == SCAN_HOLDER_GLOBAL && ref->symbol)
		symbol_range(a, st, ref->addr, &sym_start, &sym_size);
	drill_follow_range(ref, &st->snap, sym_start, sym_size, &lo, &hi, label, sizeof(label));
	run_step(a, lo, hi, label, false);
}

void drilldown_back(struct tui_app *a)
{
	struct tui_drill *d = &a->drill;
	if (d->n == 0)
		return;
	step_free(d->steps[--d->n]);
	if (d->n == 0)
		drilldown_close(a);
	else
		show_step(a, top_step(a));
}

/* The screen and its state; also the state of a first step that failed
 * before there was a screen (its process handle, its vector). */
void drilldown_close(struct tui_app *a)
{
	if (screen_open(a, &screen_drilldown))
		screen_close(a, &screen_drilldown);
	else
		drilldown_free(a);
}

void drilldown_free(struct tui_app *a)
{
	struct tui_drill *d = &a->drill;
	while (d->n)
		step_free(d->steps[--d->n]);
	free(d->steps);
	list_free(&d->list);
	if (d->proc)
		proc_close(d->proc);
	memset(d, 0, sizeof(*d));
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

/* ---- drawing ------------------------------------------------------------- */

static void label_at(WINDOW *w, int y, const char *name)
{
	wattrset(w, theme(TC_LABEL));
	mvwprintw(w, y, 0, "%-7s", name);
	wattrset(w, theme(TC_NORMAL));
}

/* Untrusted text (paths, class names) at the cursor, in at most cols. */
static void put_fit(struct tui_app *a, WINDOW *w, const char *s, int cols, enum text_cut cut,
		    attr_t at)
{
	char fit[1024];
	if (cols <= 0)
		return;
	text_fit(fit, sizeof(fit), s, strlen(s), cols, cut, a->gl->utf8);
	wattrset(w, at);
	waddstr(w, fit);
	wattrset(w, theme(TC_NORMAL));
}

static int draw_chain(struct tui_app *a, WINDOW *w, int y, int width)
{
	const char *labels[64];
	size_t first = a->drill.n > 64 ? a->drill.n - 64 : 0, n = 0;
	char crumb[1024];
	for (size_t i = first; i < a->drill.n; i++)
		labels[n++] = a->drill.steps[i]->label;
	label_at(w, y, "Chain");
	drill_breadcrumb(crumb, sizeof(crumb), labels, n, width - 8, a->gl);
	wattrset(w, theme(TC_VALUE));
	waddstr(w, crumb);
	wattrset(w, theme(TC_NORMAL));
	return y + 1;
}

static int draw_target(struct tui_app *a, WINDOW *w, int y, int width, const struct tui_step *st)
{
	const struct scan_result *r = &st->res;
	char b[128], tail[96], size[32];
	label_at(w, y, "Into");
	snprintf(b, sizeof(b), "0x%" PRIx64 "-0x%" PRIx64 " (%s", st->lo, st->hi,
		 format_size(size, sizeof(size), st->hi - st->lo));
	int n = snprintf(tail, sizeof(tail), "): %" PRIu64 " reference%s", r->refs_total,
			 r->refs_total == 1 ? "" : "s");
	if (r->internal)
		snprintf(tail + n, sizeof(tail) - (size_t)n, ", %" PRIu64 " more inside it",
			 r->internal);
	waddstr(w, b);
	if (st->region >= 0) {
		const struct mt_region *reg = &st->snap.regions[st->region];
		wprintw(w, ", %s", region_category_name(reg->category));
		if (reg->path_len) {
			waddch(w, ' ');
			put_fit(a, w, reg->path, width - getcurx(w) - (int)strlen(tail),
				TEXT_CUT_LEFT, theme(TC_NORMAL));
		}
	}
	waddnstr(w, tail, width - getcurx(w));
	return y + 1;
}

static int draw_scan(struct tui_app *a, WINDOW *w, int y, int width, const struct tui_step *st)
{
	const struct scan_result *r = &st->res;
	char b[256], size[32], when[16], stop[64];
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&st->taken));
	if (st->frozen)
		snprintf(stop, sizeof(stop), "stopped %.0f ms", st->stopped_ms);
	else
		snprintf(stop, sizeof(stop), "target running (--no-freeze)");
	label_at(w, y, "Scan");
	char absent[32], swapped[64] = "";
	if (r->swapped_bytes)
		snprintf(swapped, sizeof(swapped), ", %s swapped out",
			 format_size(size, sizeof(size), r->swapped_bytes));
	snprintf(b, sizeof(b), "%s in %zu regions in %.3f s, %s, at %s; "
		 "%zu skipped, %zu excluded; not read: %s not resident%s",
		 format_size(size, sizeof(size), r->scanned_bytes),
		 r->scanned_regions, r->seconds, stop, when, r->skipped_regions,
		 r->excluded_regions, format_size(absent, sizeof(absent), r->absent_bytes),
		 swapped);
	put_fit(a, w, b, width - getcurx(w), TEXT_CUT_RIGHT, theme(TC_NORMAL));
	return y + 1;
}

/* What the user must know about this list: each on a line, at most max. */
static int draw_warnings(struct tui_app *a, WINDOW *w, int y, int width, int max,
			 const struct tui_step *st)
{
	const struct scan_result *r = &st->res;
	char b[256];
	int y0 = y;
	if (r->cancelled && y - y0 < max) {
		wattrset(w, theme(TC_WARN));
		mvwaddnstr(w, y++, 0, "cancelled: the list is incomplete and its holders "
			   "unnamed (s scans again)", width);
	}
	if (st->frozen && st->not_stopped && y - y0 < max) {
		snprintf(b, sizeof(b), "%zu thread%s did not stop and ran during the scan%s%s",
			 st->not_stopped, st->not_stopped == 1 ? "" : "s",
			 st->ran_why[0] ? ": " : "", st->ran_why);
		wattrset(w, theme(TC_WARN));
		mvwaddnstr(w, y++, 0, b, width);
	}
	if (r->refs_total > r->n_refs && y - y0 < max) {
		snprintf(b, sizeof(b), "only the first %zu of %" PRIu64 " references are listed",
			 r->n_refs, r->refs_total);
		wattrset(w, theme(TC_WARN));
		mvwaddnstr(w, y++, 0, b, width);
	}
	for (size_t i = 0; i < r->n_walk_errors && y - y0 < max; i++) {
		wmove(w, y++, 0);
		put_fit(a, w, r->walk_errors[i], width, TEXT_CUT_RIGHT, theme(TC_WARN));
	}
	wattrset(w, theme(TC_NORMAL));
	return y;
}

void drilldown_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	const struct tui_step *st = top_step(a);
	if (!st)
		return;
	int y = 0;
	wattrset(w, theme(TC_VALUE));
	mvwaddstr(w, y++, 0, "References");
	wattrset(w, theme(TC_NORMAL));
	y = draw_chain(a, w, y, width);
	y = draw_target(a, w, y, width, st);
	y = draw_scan(a, w, y, width, st);
	y = draw_warnings(a, w, y, width, 3, st);
	list_draw(&a->drill.list, w, y, 0, h - 1 - y, width);
	actions_draw(w, h - 1, width, SC_REFS);
}
