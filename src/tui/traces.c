/*
 * traces.c - backtraces of every thread, on demand (`b`): frozen work
 * (frozen_run) that stops the target just long enough to unwind each
 * thread, then releases it before anything is drawn.  Function names come
 * from the symbol tables, which are read while the target still runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/frozen.h"
#include "actions.h"
#include "keys.h"
#include "lines.h"
#include "screen.h"
#include "traces.h"
#include "views.h"

static const struct tui_column trace_cols[] = {
	{ "THREAD", 14, false, false, 0, false },
	{ "FRAME", 0, false, false, 0, false },
};

static void stacks_free(struct unwind_stack *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		unwind_stack_free(&v[i]);
	free(v);
}

static int by_tid(const void *pa, const void *pb)
{
	const struct unwind_stack *x = pa, *y = pb;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* The frozen work of `b`: unwind each thread that stopped.  A thread
 * that did not stop (uninterruptible sleep) is listed with why. */
static int unwind_work(void *arg, const struct frozen *f, struct mt_error *err)
{
	struct tui_traces *out = arg;
	const struct freeze *fz = f->freeze;
	struct pages pg;
	if (pages_open(&pg, f->pid, f->snap) < 0)
		return mt_error_set(err, MT_ERR_EXITED, ESRCH, "process %d exited", (int)f->pid),
		       -1;
	struct unwind_stack *v = calloc(fz->n_threads ? fz->n_threads : 1, sizeof(*v));
	size_t n = 0;
	if (!v) {
		pages_close(&pg);
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory"), -1;
	}
	for (size_t i = 0; i < fz->n_threads; i++) {
		const struct freeze_thread *t = &fz->threads[i];
		if (!t->attached && !t->stopped && !t->seize_errno)
			continue; /* gone before it could be seized, or a zombie */
		struct unwind_stack *st = &v[n++];
		if (!t->stopped) {
			char why[96];
			memset(st, 0, sizeof(*st));
			st->tid = t->tid;
			snprintf(st->error, sizeof(st->error), "%s: not unwound",
				 freeze_why(t, why, sizeof(why)));
			continue;
		}
		int rc = unwind_thread(t->tid, f->map, &pg, st);
		if (rc < 0 && !st->error[0])
			snprintf(st->error, sizeof(st->error), "unwind failed: %s", strerror(-rc));
	}
	pages_close(&pg);
	stacks_free(out->v, out->n);
	out->v = v;
	out->n = n;
	return 0;
}

/* Stop the target, unwind every thread, release it; then sort. */
static int unwind_all(struct tui_app *a, struct tui_traces *out, struct mt_error *err)
{
	struct frozen_stats stats;
	/* The session's latest maps: the tables are read before the freeze,
	 * the unwind finds them. */
	struct frozen_job job = {
		.pid = a->ses.pid,
		.symbols = &a->symbols,
		.snap = &a->ses.snap[a->ses.cur],
		.work = unwind_work,
		.arg = out,
	};
	if (frozen_run(&job, &stats, err) < 0)
		return -1;
	qsort(out->v, out->n, sizeof(*out->v), by_tid);
	out->stopped_ms = stats.stopped_ms;
	out->taken = time(NULL);
	return 0;
}

static const struct mt_thread *thread_of(const struct mt_snapshot *s, int tid)
{
	for (size_t i = 0; s && i < s->n_threads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}

/* Two threads stopped in the same code: the same frames (by ip) and the
 * same end of the walk. */
static bool same_stack(const struct unwind_stack *x, const struct unwind_stack *y)
{
	if (x->n != y->n || strcmp(x->error, y->error) != 0)
		return false;
	for (size_t k = 0; k < x->n; k++)
		if (x->frames[k].ip != y->frames[k].ip)
			return false;
	return true;
}

/* The module holding ip, as eu-stack names it: the file's base name. */
static const char *module_of(const struct mt_snapshot *s, uint64_t ip)
{
	long k = s ? snapshot_find(s, ip) : -1;
	if (k < 0 || ip >= s->regions[k].end || !s->regions[k].path[0])
		return "";
	const char *p = s->regions[k].path, *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

/* "101 102 103 ...": the threads of a group, as many as fit. */
static void tids_of(const struct tui_traces *t, size_t first, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t j = first; j < t->n && o + 16 < cap; j++)
		if (j == first || same_stack(&t->v[first], &t->v[j]))
			o += (size_t)snprintf(out + o, cap - o, "%s%d", o ? " " : "", t->v[j].tid);
}

/*
 * One block per distinct stack, as pstack and eu-stack users group them:
 * identical stacks (24 workers waiting on one queue) once, with their
 * count and threads; each frame with its module.
 */
static void build_lines(struct tui_app *a)
{
	struct tui_traces *t = &a->traces;
	struct tui_lines *L = &t->lines;
	const struct mt_snapshot *s = app_snap(a);
	char when[16], name[32], tids[200];
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t->taken));
	L->n = 0;
	size_t groups = 0;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = 0;
		while (j < i && !same_stack(&t->v[j], &t->v[i]))
			j++;
		groups += j == i;
	}
	lines_add(L, LINE_DIM, "", "%zu thread%s, %zu distinct stack%s, as of %s, target "
		  "stopped %.0f ms (b takes them again)", t->n, t->n == 1 ? "" : "s", groups,
		  groups == 1 ? "" : "s", when, t->stopped_ms);
	for (size_t i = 0; i < t->n; i++) {
		const struct unwind_stack *st = &t->v[i];
		size_t same = 0, j = 0;
		while (j < i && !same_stack(&t->v[j], st))
			j++;
		if (j < i)
			continue; /* shown with the first thread of its group */
		for (size_t k = i; k < t->n; k++)
			same += same_stack(&t->v[k], st);
		const struct mt_thread *th = thread_of(s, st->tid);
		char comm[64] = "";
		if (th)
			text_fit(comm, sizeof(comm), th->name, strnlen(th->name, sizeof(th->name)),
				 16, TEXT_CUT_RIGHT, a->gl->utf8);
		snprintf(name, sizeof(name), "thread %d", st->tid);
		if (same > 1) {
			tids_of(t, i, tids, sizeof(tids));
			lines_add(L, LINE_TITLE, name, "%s%s%zu threads with this stack: %s",
				  comm, comm[0] ? "  " : "", same, tids);
		} else {
			lines_add(L, LINE_TITLE, name, "%s%s%zu frame%s", comm, comm[0] ? "  " : "",
				  st->n, st->n == 1 ? "" : "s");
		}
		for (size_t k = 0; k < st->n; k++) {
			const struct unwind_frame *f = &st->frames[k];
			const char *mod = module_of(s, f->ip);
			snprintf(name, sizeof(name), "  #%zu", k);
			lines_add(L, LINE_PLAIN, name, "%s+0x%" PRIx64 "%s%s%s   ip 0x%" PRIx64
				  " sp 0x%" PRIx64, f->func[0] ? f->func : "??", f->func_offset,
				  mod[0] ? " (" : "", mod, mod[0] ? ")" : "", f->ip, f->sp);
		}
		if (st->error[0])
			lines_add(L, LINE_WARN, "", "%s", st->error);
	}
}

/* Scroll to the thread selected in the Threads view, if that is where
 * `b` was pressed. */
static void scroll_to_selected(struct tui_app *a)
{
	const struct mt_snapshot *s = app_snap(a);
	size_t item;
	if (a->view != VIEW_THREADS || !s || !list_selected(&a->lists[VIEW_THREADS], &item) ||
	    item >= s->n_threads)
		return;
	char name[32];
	snprintf(name, sizeof(name), "thread %d", s->threads[item].tid);
	for (size_t i = 0; i < a->traces.lines.n; i++)
		if (!strcmp(a->traces.lines.v[i].name, name)) {
			a->traces.list.top = i;
			return;
		}
}

void traces_take(struct tui_app *a)
{
	struct tui_traces *t = &a->traces;
	struct mt_error err;
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
	if (a->exited) {
		tui_status(a, "process %d has exited: no threads to unwind", (int)a->ses.pid);
		return;
	}
	if (a->opt->no_freeze) {
		tui_status(a, "backtraces need the target stopped for a moment: "
			   "not with --no-freeze");
		return;
	}
	if (!app_snap(a))
		return;
	mt_error_clear(&err);
	if (unwind_all(a, t, &err) < 0) {
		tui_status(a, "backtraces failed: %s", err.msg);
		return;
	}
	build_lines(a);
	if (!screen_open(a, &screen_traces)) {
		list_init(&t->list, trace_cols, 2, &lines_ops, &t->lines, -1);
		t->list.no_cursor = true;
		list_rebuild(&t->list);
		scroll_to_selected(a);
		screen_push(a, &screen_traces);
	} else {
		list_rebuild(&t->list);
	}
}

void traces_close(struct tui_app *a)
{
	screen_close(a, &screen_traces);
}

void traces_free(struct tui_app *a)
{
	struct tui_traces *t = &a->traces;
	stacks_free(t->v, t->n);
	list_free(&t->list);
	lines_free(&t->lines);
	memset(t, 0, sizeof(*t));
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void traces_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	wattrset(w, theme(TC_VALUE));
	mvwaddstr(w, 0, 0, "Backtraces");
	wattrset(w, theme(TC_NORMAL));
	list_draw(&a->traces.list, w, 1, 0, h - 2, width);
	actions_draw(w, h - 1, width, SC_TRACES);
}
