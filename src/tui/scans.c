/*
 * scans.c - a replay's recorded scans, listed (L): when each was taken,
 * what it scanned, which step of a chain it is.  Enter goes to its sample
 * and opens the region it scanned, where s shows it as it was.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "memtop/replay.h"
#include "app.h"
#include "detail.h"
#include "keys.h"
#include "list.h"
#include "scans.h"
#include "screen.h"
#include "theme.h"
#include "timetravel.h"
#include "views.h"

enum { SC_TAKEN, SC_SAMPLE, SC_STEP, SC_RANGE, SC_LABEL, SC_NCOLS };

static const struct tui_column scan_cols[SC_NCOLS] = {
	[SC_TAKEN] = { "TAKEN", 19, false, false, 0, true },
	[SC_SAMPLE] = { "SAMPLE", 7, true, false, 0, true },
	[SC_STEP] = { "STEP", 5, false, false, 0, true },
	[SC_RANGE] = { "SCANNED FOR", 31, false, false, 0, true },
	[SC_LABEL] = { "WHAT", 0, false, false, 0, true },
};

static size_t scans_count(void *ctx)
{
	return ((struct tui_app *)ctx)->n_scans;
}

static long scan_sample(const struct tui_app *a, size_t item)
{
	return replay_find_id(a->ses.replay, a->scans[item].sample);
}

static int scans_compare(void *ctx, size_t ia, size_t ib, int col)
{
	const struct tui_app *a = ctx;
	const struct scanstore_info *x = &a->scans[ia], *y = &a->scans[ib];
	switch (col) {
	case SC_TAKEN: return cmp_dbl(x->taken, y->taken);
	case SC_SAMPLE: return cmp_i64(scan_sample(a, ia), scan_sample(a, ib));
	case SC_STEP: return cmp_i64(x->parent != 0, y->parent != 0);
	case SC_RANGE: return cmp_u64(x->lo, y->lo);
	case SC_LABEL: return strcmp(x->label, y->label);
	}
	return 0;
}

static void scans_row(void *ctx, const struct tui_row *row, size_t item)
{
	const struct tui_app *a = ctx;
	const struct scanstore_info *sc = &a->scans[item];
	char b[64];
	time_t t = (time_t)sc->taken;
	struct tm tm;
	strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	list_cell(row, SC_TAKEN, b, theme(TC_NORMAL), TEXT_CLIP);
	long k = scan_sample(a, item);
	snprintf(b, sizeof(b), k >= 0 ? "#%ld" : "?", k + 1);
	list_cell(row, SC_SAMPLE, b, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	list_cell(row, SC_STEP, sc->parent ? "next" : "first", sc->parent ? theme(TC_DIM) :
		  theme(TC_NORMAL), TEXT_CLIP);
	snprintf(b, sizeof(b), "0x%012" PRIx64 "-0x%012" PRIx64, sc->lo, sc->hi);
	list_cell(row, SC_RANGE, b, theme(TC_NORMAL), TEXT_CLIP);
	list_cell(row, SC_LABEL, sc->label, theme(TC_VALUE), TEXT_CUT_RIGHT);
}

static void scans_text(void *ctx, size_t item, char *buf, size_t cap)
{
	const struct scanstore_info *sc = &((struct tui_app *)ctx)->scans[item];
	snprintf(buf, cap, "0x%012" PRIx64 " %s", sc->lo, sc->label);
}

static uint64_t scans_key(void *ctx, size_t item)
{
	return (uint64_t)((struct tui_app *)ctx)->scans[item].id;
}

static const struct tui_list_ops scans_ops = {
	.count = scans_count,
	.draw_row = scans_row,
	.compare = scans_compare,
	.text = scans_text,
	.key = scans_key,
};

void scans_open(struct tui_app *a)
{
	if (!a->ses.replay)
		return;
	if (!a->n_scans) {
		tui_status(a, "the recording holds no scan (s on a region's detail makes one, "
			   "when recording)");
		return;
	}
	list_free(&a->scans_list);
	list_init(&a->scans_list, scan_cols, SC_NCOLS, &scans_ops, a, SC_TAKEN);
	a->scans_list.empty = "no scans";
	list_rebuild(&a->scans_list);
	screen_push(a, &screen_scans);
}

static void scans_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	wattrset(w, theme(TC_VALUE));
	mvwprintw(w, 0, 0, "Recorded scans: %zu", a->n_scans);
	wattrset(w, theme(TC_DIM));
	waddstr(w, "  (Enter: its sample and region; s there shows the scan)");
	wattrset(w, theme(TC_NORMAL));
	list_draw(&a->scans_list, w, 1, 0, h - 1, width);
}

/* Enter: the scan's sample, and the region it scanned (its detail, where s
 * shows the recorded scan). */
static void scans_enter(struct tui_app *a)
{
	size_t item;
	if (!list_selected(&a->scans_list, &item))
		return;
	const struct scanstore_info sc = a->scans[item];
	long k = scan_sample(a, item);
	screen_pop(a);
	if (k < 0)
		return;
	timetravel_goto(a, (size_t)k);
	const struct mt_snapshot *s = app_snap(a);
	long r = s ? snapshot_find(s, sc.lo) : -1;
	if (r >= 0 && s->regions[r].start == sc.lo)
		detail_open(a, &s->regions[r]);
	else
		tui_status(a, "the scanned region 0x%012" PRIx64 " is not in sample %ld", sc.lo,
			   k + 1);
}

static struct tui_list *scans_list_of(struct tui_app *a)
{
	return &a->scans_list;
}

static unsigned scans_scope(const struct tui_app *a)
{
	(void)a;
	return SC_SCANS;
}

static void scans_close(struct tui_app *a)
{
	list_free(&a->scans_list);
}

const struct tui_screen screen_scans = {
	.name = "scans",
	.draw = scans_draw,
	.list = scans_list_of,
	.scope = scans_scope,
	.enter = scans_enter,
	.close = scans_close,
};
