/*
 * traces.h - backtraces of every thread, on demand.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_TRACES_H
#define MEMTOP_TUI_TRACES_H

#include <curses.h>

struct tui_app;

/* Backtraces of every thread (traces.c). */
void traces_take(struct tui_app *a);
void traces_close(struct tui_app *a);
void traces_free(struct tui_app *a);
void traces_draw(struct tui_app *a, WINDOW *w, int h, int width);

#endif
