/*
 * lines.c - text screens (a region's detail, the help) as lists of
 * name/value lines, so they scroll and search like every other screen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/vec.h"
#include "app.h"
#include "lines.h"
#include "theme.h"

struct tui_line *lines_add(struct tui_lines *l, int kind, const char *name,
			   const char *fmt, ...)
{
	if (VEC_RESERVE(l->v, l->cap, l->n, 64))
		return NULL;
	struct tui_line *ln = &l->v[l->n++];
	ln->kind = kind;
	snprintf(ln->name, sizeof(ln->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ln->value, sizeof(ln->value), fmt, ap);
	va_end(ap);
	return ln;
}

void lines_free(struct tui_lines *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static size_t lines_count(void *ctx)
{
	return ((struct tui_lines *)ctx)->n;
}

static void lines_row(void *ctx, const struct tui_row *row, size_t item)
{
	const struct tui_line *ln = &((struct tui_lines *)ctx)->v[item];
	static const enum tui_color name_color[] = {
		[LINE_PLAIN] = TC_LABEL, [LINE_TITLE] = TC_VALUE,
		[LINE_DIM] = TC_DIM, [LINE_WARN] = TC_WARN, [LINE_PATH] = TC_LABEL,
	};
	static const enum tui_color value_color[] = {
		[LINE_PLAIN] = TC_NORMAL, [LINE_TITLE] = TC_VALUE,
		[LINE_DIM] = TC_DIM, [LINE_WARN] = TC_WARN, [LINE_PATH] = TC_NORMAL,
	};
	list_cell(row, 0, ln->name, theme(name_color[ln->kind]), TEXT_CUT_RIGHT);
	list_cell(row, 1, ln->value, theme(value_color[ln->kind]),
		  ln->kind == LINE_PATH ? TEXT_CUT_LEFT : TEXT_CUT_RIGHT);
}

static void lines_text(void *ctx, size_t item, char *buf, size_t cap)
{
	const struct tui_line *ln = &((struct tui_lines *)ctx)->v[item];
	snprintf(buf, cap, "%s %s", ln->name, ln->value);
}

const struct tui_list_ops lines_ops = {
	.count = lines_count,
	.draw_row = lines_row,
	.text = lines_text,
};
