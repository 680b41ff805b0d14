/*
 * list.h - the one list widget every screen is made of (htop's Panel):
 * a header row over a scrollable, sortable, filterable, searchable list
 * of items.  The widget owns the order and the cursor; a screen supplies
 * the items through callbacks and draws each row itself with list_cell.
 *
 * Items are numbered 0..count-1 by the screen; the widget keeps the
 * indices of those shown, filtered and sorted, and keeps the selection on
 * the same item (by key) across refreshes, unless it is on the first row:
 * there it stays, so that items arriving at the top show.
 */
#ifndef MEMTOP_TUI_LIST_H
#define MEMTOP_TUI_LIST_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

#define LIST_MAX_COLS 12

struct tui_column {
	const char *title;
	short width;     /* columns; 0 for the last one: the rest of the line */
	bool right;      /* right-aligned (figures) */
	bool desc;       /* sorts largest first when chosen */
	short min_width; /* hidden when the list is narrower than this */
	bool sortable;
};

struct tui_list;

/* Where draw_row draws: handed to list_cell. */
struct tui_row {
	WINDOW *win;
	int y;
	bool selected;
	const struct tui_list *list;
};

struct tui_list_ops {
	size_t (*count)(void *ctx);
	/* Draw item into row, one list_cell per column. */
	void (*draw_row)(void *ctx, const struct tui_row *row, size_t item);
	/* Order of items a and b by column col, ascending; NULL: unsortable. */
	int (*compare)(void *ctx, size_t a, size_t b, int col);
	/* The text the filter and search look in; NULL: no filtering. */
	void (*text)(void *ctx, size_t item, char *buf, size_t cap);
	/* An identity that survives a refresh; NULL: keep the row number. */
	uint64_t (*key)(void *ctx, size_t item);
};

struct tui_list {
	const struct tui_column *cols;
	int ncols;
	const struct tui_list_ops *ops;
	void *ctx;
	size_t *rows;    /* items shown, in display order */
	size_t n_rows;
	size_t cap_rows;
	size_t cursor;   /* index into rows */
	size_t top;      /* first row on screen */
	int sort_col;    /* -1: the screen's own order */
	bool sort_desc;
	bool no_cursor;  /* a table to read: scrolling moves the view */
	char filter[64];
	char search[64];
	uint64_t sel_key; /* the selected item's key, while items were valid */
	bool have_sel;
	const char *empty; /* shown when there is nothing to list */
	/* Geometry of the last draw, for the mouse and for paging. */
	int win_y, win_x, height, width;
	int col_x[LIST_MAX_COLS];
	int col_w[LIST_MAX_COLS];
};

void list_init(struct tui_list *l, const struct tui_column *cols, int ncols,
	       const struct tui_list_ops *ops, void *ctx, int sort_col);
void list_free(struct tui_list *l);

/* Filter and sort the items again, keeping the selected item selected.
 * 0 or -ENOMEM. */
int list_rebuild(struct tui_list *l);

/* Draw header and rows into w at y, x, over height lines (header
 * included) and width columns. */
void list_draw(struct tui_list *l, WINDOW *w, int y, int x, int height, int width);

/* Draw one cell of a row: text (untrusted bytes are fine) fitted into
 * column col, in attr unless the row is selected. */
void list_cell(const struct tui_row *row, int col, const char *text, attr_t attr,
	       enum text_cut cut);

/* Draw a row across every column: a group's title between the rows it
 * holds. */
void list_span(const struct tui_row *row, const char *text, attr_t attr, enum text_cut cut);

/* The glyphs of the terminal (UTF-8 or ASCII), for every list. */
void list_set_glyphs(const struct tui_glyphs *gl);

/* The selected item; false when the list is empty. */
bool list_selected(const struct tui_list *l, size_t *item);
/* Rows of items visible at the last draw (at least 1). */
int list_page_rows(const struct tui_list *l);

void list_move(struct tui_list *l, long delta);
void list_home(struct tui_list *l);
void list_end(struct tui_list *l);

/* Sort by col; the column already sorted by turns the order round. */
void list_sort_by(struct tui_list *l, int col);
/* Sort by the next (dir 1) or previous (dir -1) sortable column shown. */
void list_sort_step(struct tui_list *l, int dir);
void list_sort_invert(struct tui_list *l);

/* Keep only items whose text holds s (case-insensitive); "" for all. */
int list_set_filter(struct tui_list *l, const char *s);
/* Select the first row from the cursor (after it when next) whose text
 * holds s, wrapping round; false when none does. */
bool list_search(struct tui_list *l, const char *s, bool next);

enum list_hit { LIST_HIT_NONE, LIST_HIT_HEADER, LIST_HIT_ROW, LIST_HIT_SELECTED };
/* A click at screen position y, x: sorts on a header, selects a row.
 * LIST_HIT_SELECTED when the row clicked was already selected. */
enum list_hit list_click(struct tui_list *l, int y, int x);

#endif
