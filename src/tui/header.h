/*
 * header.h - the header and the view tabs.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_HEADER_H
#define MEMTOP_TUI_HEADER_H

#include <curses.h>

struct tui_app;

void header_draw(struct tui_app *a, WINDOW *w, int width);
/* The view of a click at x on the tab row, or -1. */
int header_tab_at(struct tui_app *a, int x);

#endif
