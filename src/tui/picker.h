/*
 * picker.h - the process picker.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_PICKER_H
#define MEMTOP_TUI_PICKER_H

#include <curses.h>
#include <sys/types.h>

struct tui_app;

void picker_init(struct tui_app *a);
void picker_refresh(struct tui_app *a);
void picker_draw(struct tui_app *a, WINDOW *w, int h, int width);
/* The selected process, 0 if none. */
pid_t picker_selected(struct tui_app *a);

#endif
