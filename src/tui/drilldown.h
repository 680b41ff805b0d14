/*
 * drilldown.h - the drill-down and its References screen.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_DRILLDOWN_H
#define MEMTOP_TUI_DRILLDOWN_H

#include <curses.h>
#include <stdbool.h>

#include "app.h"

/* The drill-down (drilldown.c).  drilldown_start scans for pointers into the
 * detail's region; Enter follows the selected holder, Esc steps back. */
void drilldown_start(struct tui_app *a);
void drilldown_rescan(struct tui_app *a);
/* A drill-down from any range (a heap object the census points at). */
void drilldown_range(struct tui_app *a, uint64_t lo, uint64_t hi, const char *label);
void drilldown_follow(struct tui_app *a);
void drilldown_back(struct tui_app *a);
void drilldown_close(struct tui_app *a);
void drilldown_free(struct tui_app *a);
void drilldown_draw(struct tui_app *a, WINDOW *w, int h, int width);
static inline bool drilldown_open(const struct tui_app *a)
{
	return a->drill.n > 0;
}

#endif
