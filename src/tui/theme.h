/*
 * theme.h - the TUI's colours, with a monochrome equivalent for each so
 * that --no-color and NO_COLOR lose no information.
 */
#ifndef MEMTOP_TUI_THEME_H
#define MEMTOP_TUI_THEME_H

#include <curses.h>
#include <stdbool.h>

#include "memtop/region.h"

enum tui_color {
	TC_NORMAL,
	TC_LABEL,        /* header labels */
	TC_VALUE,        /* header figures */
	TC_BAR,          /* meter bar, low */
	TC_BAR_HIGH,     /* meter bar past 3/4 */
	TC_WARN,         /* headroom running out */
	TC_CRIT,         /* exhaustion near, target exited */
	TC_TAB,
	TC_TAB_ACTIVE,
	TC_COLHEAD,      /* list header row */
	TC_COLHEAD_SORT, /* the column the list is sorted by */
	TC_CURSOR,       /* selected row */
	TC_NEW,          /* region new since the last refresh, map event */
	TC_GONE,         /* region gone since the last refresh, unmap event */
	TC_FKEY,         /* function bar: the key */
	TC_FLABEL,       /* function bar: what it does */
	TC_DIM,
	TC_GROW,         /* positive change */
	TC_SHRINK,       /* negative change */
	TC_PROMPT,
	TC_GAP,          /* free address space in the strip */
	TC_LARGEST,      /* the largest free block */
	TC_CAT,          /* first of MT_CAT_COUNT category colours */
	TC_COUNT = TC_CAT + MT_CAT_COUNT
};

/* Set the attributes up; call after initscr.  color: use colours when the
 * terminal has them. */
void theme_init(bool color);
attr_t theme(enum tui_color c);
static inline attr_t theme_cat(enum mt_category c)
{
	return theme((enum tui_color)(TC_CAT + ((unsigned)c < MT_CAT_COUNT ? c : 0)));
}
bool theme_has_color(void);

/* One letter per category, for the strip in monochrome and legends. */
char theme_cat_letter(enum mt_category c);

/* Write s in attribute at at the right edge of line y, if it fits after
 * x_min (the header's and the footer's right-hand notes). */
void theme_right(WINDOW *w, int y, int width, int x_min, const char *s, attr_t at);

#endif
