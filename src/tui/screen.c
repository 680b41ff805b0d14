/*
 * screen.c - the stack of screens, as htop's ScreenManager keeps its
 * panels: the top screen draws the body, names the list the movement keys
 * act on and the key bindings in force, and says what Enter and Esc do.
 * Enter pushes a screen (a region's detail over a view, the drill-down
 * over a detail), Esc pops one; a screen's state is freed when it is
 * popped.  So which screen is showing, and what each key does there, is
 * written once: in the tables below.
 *
 * The bottom of the stack is the process picker (memtop started without
 * -p) or the views of the watched process; the picker stays under the
 * views it opened, so Esc goes back to it.
 */
#include <stdbool.h>

#include "app.h"
#include "detail.h"
#include "drilldown.h"
#include "help.h"
#include "keys.h"
#include "picker.h"
#include "screen.h"
#include "heapview.h"
#include "traces.h"
#include "views.h"

const struct tui_screen *screen_top(const struct tui_app *a)
{
	return a->depth ? a->stack[a->depth - 1] : NULL;
}

unsigned screen_scope(const struct tui_app *a)
{
	const struct tui_screen *s = screen_top(a);
	return s ? s->scope(a) : SC_MONITOR;
}

bool screen_open(const struct tui_app *a, const struct tui_screen *s)
{
	for (size_t i = 0; i < a->depth; i++)
		if (a->stack[i] == s)
			return true;
	return false;
}

void screen_push(struct tui_app *a, const struct tui_screen *s)
{
	/* The deepest stack is picker, views, detail, drill-down, help. */
	if (a->depth < TUI_STACK_MAX)
		a->stack[a->depth++] = s;
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void screen_pop(struct tui_app *a)
{
	if (!a->depth)
		return;
	const struct tui_screen *s = a->stack[--a->depth];
	if (s->close)
		s->close(a);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void screen_close(struct tui_app *a, const struct tui_screen *s)
{
	if (!screen_open(a, s))
		return;
	while (a->depth && screen_top(a) != s)
		screen_pop(a);
	screen_pop(a);
}

void screen_pop_to(struct tui_app *a, const struct tui_screen *s)
{
	while (a->depth && screen_top(a) != s && screen_open(a, s))
		screen_pop(a);
}

/* ---- the picker ---------------------------------------------------------- */

static struct tui_list *picker_list_of(struct tui_app *a)
{
	return &a->picker_list;
}

static unsigned picker_scope(const struct tui_app *a)
{
	return SC_PICKER;
}

/* Esc in a list: drop its filter. */
static void clear_filter(struct tui_app *a)
{
	struct tui_list *l = screen_top(a)->list(a);
	if (l->filter[0])
		list_set_filter(l, "");
}

const struct tui_screen screen_picker = {
	.name = "picker",
	.draw = picker_draw,
	.list = picker_list_of,
	.scope = picker_scope,
	.enter = tui_pick,
	.back = clear_filter,
};

/* ---- the views of the process ------------------------------------------- */

static unsigned replay_bit(const struct tui_app *a)
{
	return a->ses.replay ? SC_REPLAY : 0u;
}

static unsigned views_scope(const struct tui_app *a)
{
	return SC_MONITOR | replay_bit(a);
}

/* Esc: drop the filter (and, when Enter on a file made it, go back to
 * Files, where the user came from); else back to the picker that opened
 * the views. */
static void views_back(struct tui_app *a)
{
	struct tui_list *l = views_list(a);
	bool from_files = a->from_files && a->view == VIEW_REGIONS;
	a->from_files = false;
	if (l->filter[0]) {
		list_set_filter(l, "");
		if (from_files) {
			a->view = VIEW_FILES;
			a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
		}
	} else if (a->depth >= 2 && a->stack[a->depth - 2] == &screen_picker) {
		tui_leave(a);
	}
}

const struct tui_screen screen_views = {
	.name = "views",
	.draw = views_draw,
	.list = views_list,
	.scope = views_scope,
	.enter = views_enter,
	.back = views_back,
};

/* ---- a region's detail ---------------------------------------------------- */

static struct tui_list *detail_list_of(struct tui_app *a)
{
	return &a->detail_list;
}

static unsigned detail_scope(const struct tui_app *a)
{
	return SC_DETAIL | replay_bit(a);
}

const struct tui_screen screen_detail = {
	.name = "detail",
	.draw = detail_draw,
	.list = detail_list_of,
	.scope = detail_scope,
	.close = detail_free,
};

/* ---- the drill-down -------------------------------------------------------- */

static struct tui_list *drilldown_list_of(struct tui_app *a)
{
	return &a->drill.list;
}

static unsigned drilldown_scope(const struct tui_app *a)
{
	return SC_REFS;
}

const struct tui_screen screen_drilldown = {
	.name = "drill-down",
	.draw = drilldown_draw,
	.list = drilldown_list_of,
	.scope = drilldown_scope,
	.enter = drilldown_follow,
	.back = drilldown_back, /* a step back; the last one pops the screen */
	.close = drilldown_free,
};

/* ---- backtraces ------------------------------------------------------------ */

static struct tui_list *traces_list_of(struct tui_app *a)
{
	return &a->traces.list;
}

static unsigned traces_scope(const struct tui_app *a)
{
	return SC_TRACES;
}

const struct tui_screen screen_traces = {
	.name = "backtraces",
	.draw = traces_draw,
	.list = traces_list_of,
	.scope = traces_scope,
	.close = traces_free,
};

/* ---- the heap census ------------------------------------------------------- */

static struct tui_list *heap_list_of(struct tui_app *a)
{
	return &a->heap.list;
}

static unsigned heap_scope(const struct tui_app *a)
{
	(void)a;
	return SC_HEAP;
}

/* Closing it keeps the censuses: growth is against the session's first. */
const struct tui_screen screen_heap = {
	.name = "heap census",
	.draw = heapview_draw,
	.list = heap_list_of,
	.scope = heap_scope,
	.enter = heapview_enter,
	.close = heapview_closed,
};

/* ---- help -------------------------------------------------------------------- */

static struct tui_list *help_list_of(struct tui_app *a)
{
	return &a->help_list;
}

/* The keys of the screen it was opened over: those are what it lists,
 * and what the function bar keeps showing. */
static unsigned help_scope(const struct tui_app *a)
{
	return a->depth >= 2 ? a->stack[a->depth - 2]->scope(a) : SC_MONITOR;
}

/* Help scrolls; any other key closes it. */
static bool help_key(struct tui_app *a, enum tui_action act)
{
	if (act >= ACT_UP && act <= ACT_END)
		return false;
	screen_pop(a);
	return true;
}

const struct tui_screen screen_help = {
	.name = "help",
	.draw = help_draw,
	.list = help_list_of,
	.scope = help_scope,
	.key = help_key,
};
