/*
 * footer.h - the function bar and the prompt.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_FOOTER_H
#define MEMTOP_TUI_FOOTER_H

#include <curses.h>

struct tui_app;

void footer_draw(struct tui_app *a, WINDOW *w, int width);
/* The action of a click at x on the function bar, or -1. */
int footer_action_at(struct tui_app *a, int x);

#endif
