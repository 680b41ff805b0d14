/*
 * heapview.h - the heap census screen (H), its growth, leaks and the code
 * that was unloaded.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_HEAPVIEW_H
#define MEMTOP_TUI_HEAPVIEW_H

#include <curses.h>
#include <stdbool.h>

struct tui_app;
struct mt_event;

/* Take a census (a replay: show the recorded one) and show the screen. */
void heapview_take(struct tui_app *a, bool leaks);
/* --heap-every: a census when one is due and the screen is on top. */
void heapview_tick(struct tui_app *a, double now);
void heapview_close(struct tui_app *a);
/* The screen popped: its list goes, the censuses stay. */
void heapview_closed(struct tui_app *a);
void heapview_enter(struct tui_app *a);
/* The drill-down into code that was unmapped (e an unmap event of an
 * executable mapping): words still pointing into it. */
void heapview_departed_scan(struct tui_app *a, const struct mt_event *e);
/* The session ends: the censuses too. */
void heapview_free(struct tui_app *a);
void heapview_draw(struct tui_app *a, WINDOW *w, int h, int width);

#endif
