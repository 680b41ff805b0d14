/*
 * views.h - the views of a watched process as one screen (views.c), the
 * six views (one module each), and what they share.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_VIEWS_H
#define MEMTOP_TUI_VIEWS_H

#include <inttypes.h>
#include <stdio.h>

#include "memtop/format.h"
#include "app.h"
#include "theme.h"

/* The views as one screen (views.c). */
void views_init(struct tui_app *a);
void views_free(struct tui_app *a);
/* Fold a successful refresh into what the TUI keeps across refreshes
 * (the event log, sparklines); once per model_update. */
void views_sample(struct tui_app *a);
/* Rebuild the screens' items and lists from the latest state. */
void views_refresh(struct tui_app *a);
/* The list keys act on in the current screen. */
struct tui_list *views_list(struct tui_app *a);
void views_draw(struct tui_app *a, WINDOW *w, int h, int width);
/* Enter on the selection of the current view. */
void views_enter(struct tui_app *a);
const char *views_title(enum tui_view v);

/* Set up each view's list over the items it reads from a. */
void summary_view_init(struct tui_app *a);
void regions_view_init(struct tui_app *a);
void files_view_init(struct tui_app *a);
/* --trace known (live, or read from a recording): its columns show. */
void files_view_traced(struct tui_app *a);
void free_view_init(struct tui_app *a);
void events_view_init(struct tui_app *a);
void events_view_traced(struct tui_app *a);
void threads_view_init(struct tui_app *a);

/* Summary: its tables from the model; drawn under the address-space strip. */
void summary_update(struct tui_app *a);
void summary_draw(struct tui_app *a, WINDOW *w, int h, int width);

/* Regions: rows from the latest snapshot and the gone ones of the one
 * before; each region's first size (the model's growth bases), for GROWTH. */
void regions_update(struct tui_app *a);

/* Files: Enter shows a file's regions. */
void files_enter(struct tui_app *a, size_t item);

/* Threads: the stack region of thread t of s, or NULL. */
const struct mt_region *threads_stack(const struct mt_snapshot *s, const struct mt_thread *t);

/* Formatting shared by the views. */

static inline const char *size_or_dash(char *b, size_t n, uint64_t v)
{
	if (v == MT_UNKNOWN)
		return "-";
	return format_size_col(b, n, v);
}

static inline const char *addr_str(char *b, size_t n, uint64_t a)
{
	snprintf(b, n, "0x%012" PRIx64, a);
	return b;
}

static inline const char *count_delta(char *b, size_t n, int64_t d)
{
	snprintf(b, n, d ? "%+" PRId64 : "0", d);
	return b;
}

static inline attr_t delta_attr(int64_t d)
{
	return theme(d > 0 ? TC_GROW : d < 0 ? TC_SHRINK : TC_DIM);
}

static inline int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static inline int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static inline int cmp_dbl(double a, double b)
{
	return a < b ? -1 : a > b;
}

/* The name a region is shown by: its path, or what it is. */
static inline const char *region_name(const struct mt_region *r, char *b, size_t n)
{
	if (r->path_len)
		return r->path;
	if (r->category == MT_CAT_STACK && r->tid) {
		snprintf(b, n, "[stack:%d]", r->tid);
		return b;
	}
	snprintf(b, n, "[%s]", region_category_name(r->category));
	return b;
}

#endif
