/*
 * help.c - the help screen: the key table for the screen it was opened
 * from, generated from the key-binding table, and a legend.
 */
#include <stdio.h>

#include "app.h"
#include "help.h"
#include "keys.h"
#include "lines.h"
#include "screen.h"
#include "theme.h"

static const struct tui_column help_cols[] = {
	{ "KEYS", 18, false, false, 0, false },
	{ "ACTION", 0, false, false, 0, false },
};

void help_init(struct tui_app *a)
{
	struct tui_lines *hl = &a->help_lines;
	unsigned scope = screen_scope(a);
	char keys[128];
	const char *help;
	hl->n = 0;
	for (int i = 0; keys_help_line(scope, i, keys, sizeof(keys), &help); i++)
		lines_add(hl, LINE_PLAIN, keys, "%s", help);
	lines_add(hl, LINE_PLAIN, "mouse", "%s", a->mouse ?
		  "wheel scrolls; click a tab, a column title (sort), a row (again: open)" :
		  "off (--no-mouse)");
	if (scope == SC_REFS) {
		lines_add(hl, LINE_TITLE, "", "%s", "");
		lines_add(hl, LINE_TITLE, "References", "%s", "who holds a pointer into the "
			  "target, grouped by the region holding it");
		lines_add(hl, LINE_TITLE, "HELD BY", "%s", "C++ class or [heap SIZE], "
			  "symbol+offset, thread, or region+offset");
		lines_add(hl, LINE_TITLE, "Chain", "%s", "the steps followed; Esc goes back one");
	} else if (scope != SC_PICKER) {
		lines_add(hl, LINE_TITLE, "", "%s", "");
		lines_add(hl, LINE_TITLE, "Regions", "%s", "+ new since the last refresh, "
			  "- unmapped (shown once)");
		lines_add(hl, LINE_TITLE, "Files", "%s", "SIZES: regions of one size, "
			  "\"256 KiB x 1800\"; HISTORY: region count over time");
		lines_add(hl, LINE_TITLE, "Header", "%s", "time left is shown when the "
			  "trend points at the map count limit or RLIMIT_AS");
	}
	lines_add(hl, LINE_DIM, "", "%s", "Any other key closes this help.");
	list_free(&a->help_list);
	list_init(&a->help_list, help_cols, 2, &lines_ops, hl, -1);
	a->help_list.no_cursor = true;
	list_rebuild(&a->help_list);
}

void help_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	wattrset(w, theme(TC_VALUE));
	mvwprintw(w, 0, 0, "memtop %s - keys", MEMTOP_VERSION);
	wattrset(w, theme(TC_NORMAL));
	list_draw(&a->help_list, w, 1, 0, h - 1, width);
}
