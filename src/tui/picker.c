/*
 * picker.c - `memtop` without -p: choose the process to watch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memtop/format.h"
#include "app.h"
#include "picker.h"
#include "theme.h"

enum { PC_PID, PC_USER, PC_THR, PC_MAPS, PC_RSS, PC_CMD, PC_NCOLS };

static const struct tui_column picker_cols[PC_NCOLS] = {
	[PC_PID] = { "PID", 7, true, false, 0, true },
	[PC_USER] = { "USER", 9, false, false, 0, true },
	[PC_THR] = { "THR", 4, true, true, 0, true },
	[PC_MAPS] = { "MAPS", 6, true, true, 0, true },
	[PC_RSS] = { "RSS", 10, true, true, 0, true },
	[PC_CMD] = { "COMMAND", 0, false, false, 0, true },
};

static size_t picker_count(void *ctx)
{
	return ((struct tui_app *)ctx)->procs.n;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int picker_compare(void *ctx, size_t ia, size_t ib, int col)
{
	const struct mt_procentry *x = &((struct tui_app *)ctx)->procs.v[ia];
	const struct mt_procentry *y = &((struct tui_app *)ctx)->procs.v[ib];
	switch (col) {
	case PC_PID: return cmp_i64(x->pid, y->pid);
	case PC_USER: return strcmp(x->user, y->user);
	case PC_THR: return cmp_i64(x->threads, y->threads);
	case PC_MAPS: return cmp_i64(x->maps, y->maps);
	case PC_RSS: return x->rss < y->rss ? -1 : x->rss > y->rss;
	case PC_CMD: return strcmp(x->cmdline, y->cmdline);
	}
	return 0;
}

static void picker_row(void *ctx, const struct tui_row *row, size_t item)
{
	const struct mt_procentry *p = &((struct tui_app *)ctx)->procs.v[item];
	char b[32];
	snprintf(b, sizeof(b), "%d", (int)p->pid);
	list_cell(row, PC_PID, b, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	list_cell(row, PC_USER, p->user, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	snprintf(b, sizeof(b), "%d", p->threads);
	list_cell(row, PC_THR, b, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	if (p->maps >= 0)
		snprintf(b, sizeof(b), "%ld", p->maps);
	else
		snprintf(b, sizeof(b), "-");
	list_cell(row, PC_MAPS, b, p->maps >= 0 ? theme(TC_NORMAL) : theme(TC_DIM),
		  TEXT_CUT_RIGHT);
	list_cell(row, PC_RSS, format_size(b, sizeof(b), p->rss), theme(TC_NORMAL),
		  TEXT_CUT_RIGHT);
	list_cell(row, PC_CMD, p->cmdline, theme(TC_VALUE), TEXT_CUT_RIGHT);
}

static void picker_text(void *ctx, size_t item, char *buf, size_t cap)
{
	const struct mt_procentry *p = &((struct tui_app *)ctx)->procs.v[item];
	snprintf(buf, cap, "%d %s %s", (int)p->pid, p->user, p->cmdline);
}

static uint64_t picker_key(void *ctx, size_t item)
{
	return (uint64_t)((struct tui_app *)ctx)->procs.v[item].pid;
}

static const struct tui_list_ops picker_ops = {
	.count = picker_count,
	.draw_row = picker_row,
	.compare = picker_compare,
	.text = picker_text,
	.key = picker_key,
};

void picker_init(struct tui_app *a)
{
	list_init(&a->picker_list, picker_cols, PC_NCOLS, &picker_ops, a, PC_RSS);
	a->picker_list.empty = "no process to watch";
}

void picker_refresh(struct tui_app *a)
{
	struct mt_error err;
	mt_error_clear(&err);
	if (proclist_read(&a->procs, &err) < 0)
		tui_status(a, "%s", err.msg);
	list_rebuild(&a->picker_list);
}

void picker_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	list_draw(&a->picker_list, w, 0, 0, h, width);
}

pid_t picker_selected(struct tui_app *a)
{
	size_t item;
	return list_selected(&a->picker_list, &item) ? a->procs.v[item].pid : 0;
}
