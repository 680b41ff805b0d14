/*
 * detail.h - one region up close.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_DETAIL_H
#define MEMTOP_TUI_DETAIL_H

#include <curses.h>

#include "memtop/region.h"

struct tui_app;

void detail_open(struct tui_app *a, const struct mt_region *r);
void detail_close(struct tui_app *a);
void detail_free(struct tui_app *a);
void detail_refresh(struct tui_app *a);
void detail_draw(struct tui_app *a, WINDOW *w, int h, int width);

#endif
