/*
 * list.c - the list widget.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "theme.h"

/* UTF-8 or ASCII, as the terminal can show: the UI's own state. */
static const struct tui_glyphs *glyphs_set;

static const struct tui_glyphs *glyphs(void)
{
	return glyphs_set ? glyphs_set : text_glyphs(false);
}

void list_init(struct tui_list *l, const struct tui_column *cols, int ncols,
	       const struct tui_list_ops *ops, void *ctx, int sort_col)
{
	memset(l, 0, sizeof(*l));
	l->cols = cols;
	l->ncols = ncols < LIST_MAX_COLS ? ncols : LIST_MAX_COLS;
	l->ops = ops;
	l->ctx = ctx;
	l->sort_col = sort_col;
	l->sort_desc = sort_col >= 0 && cols[sort_col].desc;
	l->height = 2;
}

void list_free(struct tui_list *l)
{
	free(l->rows);
	l->rows = NULL;
	l->n_rows = l->cap_rows = 0;
}

static bool matches(const struct tui_list *l, size_t item, const char *s)
{
	char buf[1024];
	if (!*s || !l->ops->text)
		return true;
	l->ops->text(l->ctx, item, buf, sizeof(buf));
	return strcasestr(buf, s) != NULL;
}

static int compare_rows(const void *pa, const void *pb, void *arg)
{
	const struct tui_list *l = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = l->ops->compare(l->ctx, a, b, l->sort_col);
	if (l->sort_desc)
		c = -c;
	if (c == 0) /* a stable order: rows do not jump between refreshes */
		c = a < b ? -1 : a > b;
	return c;
}

static uint64_t item_key(const struct tui_list *l, size_t item)
{
	return l->ops->key ? l->ops->key(l->ctx, item) : item;
}

/* Note which item is selected while the screen's items still describe
 * the rows: after a refresh the same row number may be another item. */
static void remember(struct tui_list *l)
{
	l->have_sel = l->n_rows > 0 && l->cursor < l->n_rows;
	if (l->have_sel)
		l->sel_key = item_key(l, l->rows[l->cursor]);
}

int list_rebuild(struct tui_list *l)
{
	size_t count = l->ops->count(l->ctx);
	bool had = l->have_sel;
	uint64_t key = l->sel_key;
	size_t old_cursor = l->cursor, old_top = l->top;

	if (count > l->cap_rows) {
		size_t cap = count + count / 2 + 16;
		size_t *v = realloc(l->rows, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->rows = v;
		l->cap_rows = cap;
	}
	l->n_rows = 0;
	for (size_t i = 0; i < count; i++)
		if (matches(l, i, l->filter))
			l->rows[l->n_rows++] = i;
	if (l->sort_col >= 0 && l->ops->compare && l->n_rows > 1)
		qsort_r(l->rows, l->n_rows, sizeof(*l->rows), compare_rows, l);

	l->cursor = old_cursor < l->n_rows ? old_cursor : (l->n_rows ? l->n_rows - 1 : 0);
	/* The selection follows its item, except from the first row: there it
	 * stays, so rows arriving at the top (newest first) come into view. */
	if (had && l->ops->key && old_cursor > 0) {
		for (size_t i = 0; i < l->n_rows; i++)
			if (item_key(l, l->rows[i]) == key) {
				/* Keep the selected row where it was on screen. */
				if (i >= old_cursor - old_top)
					l->top = i - (old_cursor - old_top);
				else
					l->top = 0;
				l->cursor = i;
				break;
			}
	}
	remember(l);
	return 0;
}

int list_page_rows(const struct tui_list *l)
{
	return l->height > 2 ? l->height - 1 : 1;
}

static void clamp(struct tui_list *l)
{
	size_t page = (size_t)list_page_rows(l);
	if (l->n_rows == 0) {
		l->cursor = l->top = 0;
		return;
	}
	if (l->no_cursor) {
		size_t max_top = l->n_rows > page ? l->n_rows - page : 0;
		if (l->top > max_top)
			l->top = max_top;
		l->cursor = l->top;
		return;
	}
	if (l->cursor >= l->n_rows)
		l->cursor = l->n_rows - 1;
	if (l->cursor < l->top)
		l->top = l->cursor;
	if (l->cursor >= l->top + page)
		l->top = l->cursor - page + 1;
	/* No blank lines below the end while rows above are hidden. */
	if (l->top > 0 && l->top + page > l->n_rows)
		l->top = l->n_rows > page ? l->n_rows - page : 0;
}

static void layout(struct tui_list *l, int width)
{
	int x = 0;
	for (int c = 0; c < l->ncols; c++) {
		const struct tui_column *col = &l->cols[c];
		if (col->min_width > width || x >= width) {
			l->col_w[c] = 0;
			l->col_x[c] = x;
			continue;
		}
		int w = col->width ? col->width : width - x;
		if (x + w > width)
			w = width - x;
		l->col_x[c] = x;
		l->col_w[c] = w;
		x += w + 1;
	}
}

/* Write text (already fitted to w columns) at x, padded or aligned. */
static void put(WINDOW *win, int y, int x, int w, const char *text, int used,
		bool right, attr_t attr)
{
	wattrset(win, attr);
	int pad = w - used;
	if (right && pad > 0) {
		mvwprintw(win, y, x, "%*s", pad, "");
		waddstr(win, text);
	} else {
		mvwaddstr(win, y, x, text);
		if (pad > 0)
			wprintw(win, "%*s", pad, "");
	}
}

static void draw_header(struct tui_list *l, WINDOW *w, int y, int x, int width,
			const struct tui_glyphs *gl)
{
	wattrset(w, theme(TC_COLHEAD));
	mvwprintw(w, y, x, "%*s", width, "");
	for (int c = 0; c < l->ncols; c++) {
		if (!l->col_w[c])
			continue;
		const struct tui_column *col = &l->cols[c];
		bool sorted = c == l->sort_col;
		char title[64], buf[96];
		snprintf(title, sizeof(title), "%s%s", col->title,
			 sorted ? (l->sort_desc ? gl->arrow_down : gl->arrow_up) : "");
		int used = text_fit(buf, sizeof(buf), title, strlen(title), l->col_w[c],
				    TEXT_CUT_RIGHT, gl->utf8);
		put(w, y, x + l->col_x[c], l->col_w[c], buf, used, col->right,
		    theme(sorted ? TC_COLHEAD_SORT : TC_COLHEAD));
	}
	wattrset(w, theme(TC_NORMAL));
}


void list_draw(struct tui_list *l, WINDOW *w, int y, int x, int height, int width)
{
	l->win_y = y;
	l->win_x = x;
	l->height = height;
	l->width = width;
	if (height < 1 || width < 1)
		return;
	layout(l, width);
	clamp(l);
	remember(l);
	draw_header(l, w, y, x, width, glyphs());
	int page = height - 1;
	for (int i = 0; i < page; i++) {
		size_t r = l->top + (size_t)i;
		int row_y = y + 1 + i;
		wattrset(w, theme(TC_NORMAL));
		mvwprintw(w, row_y, x, "%*s", width, "");
		if (r >= l->n_rows)
			continue;
		struct tui_row row = {
			.win = w, .y = row_y, .list = l,
			.selected = !l->no_cursor && r == l->cursor,
		};
		if (row.selected) {
			wattrset(w, theme(TC_CURSOR));
			mvwprintw(w, row_y, x, "%*s", width, "");
		}
		l->ops->draw_row(l->ctx, &row, l->rows[r]);
	}
	if (l->n_rows == 0 && page > 0) {
		const char *msg = l->filter[0] ? "nothing matches the filter" : l->empty;
		if (msg) {
			wattrset(w, theme(TC_DIM));
			mvwaddnstr(w, y + 1, x + 1, msg, width - 1);
		}
	}
	wattrset(w, theme(TC_NORMAL));
}

void list_set_glyphs(const struct tui_glyphs *gl)
{
	glyphs_set = gl;
}

void list_cell(const struct tui_row *row, int col, const char *text, attr_t attr,
	       enum text_cut cut)
{
	const struct tui_list *l = row->list;
	if (col < 0 || col >= l->ncols || !l->col_w[col])
		return;
	char buf[1024];
	int w = l->col_w[col];
	int used = text_fit(buf, sizeof(buf), text, strlen(text), w, cut, glyphs()->utf8);
	put(row->win, row->y, l->win_x + l->col_x[col], w, buf, used, l->cols[col].right,
	    row->selected ? theme(TC_CURSOR) : attr);
}

void list_span(const struct tui_row *row, const char *text, attr_t attr, enum text_cut cut)
{
	const struct tui_list *l = row->list;
	char buf[1024];
	int used = text_fit(buf, sizeof(buf), text, strlen(text), l->width, cut, glyphs()->utf8);
	put(row->win, row->y, l->win_x, l->width, buf, used, false,
	    row->selected ? theme(TC_CURSOR) : attr);
}

bool list_selected(const struct tui_list *l, size_t *item)
{
	if (l->n_rows == 0 || l->cursor >= l->n_rows)
		return false;
	*item = l->rows[l->cursor];
	return true;
}

void list_move(struct tui_list *l, long delta)
{
	if (l->n_rows == 0)
		return;
	if (l->no_cursor) {
		long top = (long)l->top + delta;
		l->top = top < 0 ? 0 : (size_t)top;
	} else {
		long c = (long)l->cursor + delta;
		if (c < 0)
			c = 0;
		if (c >= (long)l->n_rows)
			c = (long)l->n_rows - 1;
		l->cursor = (size_t)c;
	}
	clamp(l);
	remember(l);
}

void list_home(struct tui_list *l)
{
	l->cursor = l->top = 0;
	remember(l);
}

void list_end(struct tui_list *l)
{
	list_move(l, (long)l->n_rows);
}

void list_sort_by(struct tui_list *l, int col)
{
	if (col < 0 || col >= l->ncols || !l->cols[col].sortable || !l->ops->compare)
		return;
	if (col == l->sort_col) {
		l->sort_desc = !l->sort_desc;
	} else {
		l->sort_col = col;
		l->sort_desc = l->cols[col].desc;
	}
	list_rebuild(l);
}

void list_sort_step(struct tui_list *l, int dir)
{
	if (!l->ops->compare)
		return;
	int c = l->sort_col;
	for (int i = 0; i < l->ncols; i++) {
		c = (c + dir + l->ncols) % l->ncols;
		/* Columns hidden by a narrow screen are skipped, unless the
		 * list has not been drawn yet and none is known hidden. */
		if (l->cols[c].sortable && (l->col_w[c] || l->width == 0)) {
			l->sort_col = c;
			l->sort_desc = l->cols[c].desc;
			list_rebuild(l);
			return;
		}
	}
}

void list_sort_invert(struct tui_list *l)
{
	if (l->sort_col >= 0 && l->ops->compare) {
		l->sort_desc = !l->sort_desc;
		list_rebuild(l);
	}
}

int list_set_filter(struct tui_list *l, const char *s)
{
	snprintf(l->filter, sizeof(l->filter), "%s", s);
	l->top = 0;
	return list_rebuild(l);
}

bool list_search(struct tui_list *l, const char *s, bool next)
{
	snprintf(l->search, sizeof(l->search), "%s", s);
	if (!*s || l->n_rows == 0)
		return false;
	size_t from = l->no_cursor ? l->top : l->cursor;
	for (size_t i = next ? 1 : 0; i <= l->n_rows; i++) {
		size_t r = (from + i) % l->n_rows;
		if (matches(l, l->rows[r], s)) {
			if (l->no_cursor)
				l->top = r;
			else
				l->cursor = r;
			clamp(l);
			remember(l);
			return true;
		}
	}
	return false;
}

enum list_hit list_click(struct tui_list *l, int y, int x)
{
	if (y < l->win_y || y >= l->win_y + l->height || x < l->win_x ||
	    x >= l->win_x + l->width)
		return LIST_HIT_NONE;
	if (y == l->win_y) {
		for (int c = 0; c < l->ncols; c++)
			if (l->col_w[c] && x - l->win_x >= l->col_x[c] &&
			    x - l->win_x < l->col_x[c] + l->col_w[c] + 1) {
				list_sort_by(l, c);
				return LIST_HIT_HEADER;
			}
		return LIST_HIT_NONE;
	}
	size_t r = l->top + (size_t)(y - l->win_y - 1);
	if (r >= l->n_rows || l->no_cursor)
		return LIST_HIT_NONE;
	if (r == l->cursor)
		return LIST_HIT_SELECTED;
	l->cursor = r;
	remember(l);
	return LIST_HIT_ROW;
}
