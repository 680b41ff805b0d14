/*
 * actions.h - a screen's "Actions:" line.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_ACTIONS_H
#define MEMTOP_TUI_ACTIONS_H

#include <curses.h>

/* The "Actions:" line: Esc, and the bindings of exactly scope. */
void actions_draw(WINDOW *w, int y, int width, unsigned scope);

#endif
