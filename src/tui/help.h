/*
 * help.h - the help screen.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_HELP_H
#define MEMTOP_TUI_HELP_H

#include <curses.h>

struct tui_app;

void help_init(struct tui_app *a);
void help_draw(struct tui_app *a, WINDOW *w, int h, int width);

#endif
