/*
 * keys.c - the key-binding table, in htop's spirit.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"

#define CTRL(c) ((c) & 0x1f)

/*
 * Order matters: the help screen lists actions in this order, and the
 * function bar shows the labelled bindings in this order.
 */
const struct tui_binding keys_bindings[] = {
	/* Time travel in a replay, in atop's keys; first, so that they win
	 * over Home, End and b of the live screen. */
	{ 't', ACT_STEP_NEXT, SC_REPLAY, "t", "replay: the next sample", "Next" },
	{ 'T', ACT_STEP_PREV, SC_REPLAY, "T", "replay: the previous sample", "Prev" },
	{ 'b', ACT_JUMP, SC_REPLAY, "b",
	  "replay: jump to a time (HH:MM[:SS], YYYY-MM-DD HH:MM[:SS], or #N)", "Jump" },
	{ 'L', ACT_SCANS, SC_REPLAY, "L",
	  "replay: list the recorded scans (Enter: go to one)", NULL },
	{ KEY_HOME, ACT_FIRST, SC_REPLAY, "Home", "replay: the first sample", NULL },
	{ KEY_END, ACT_LAST, SC_REPLAY, "End", "replay: the last sample", NULL },
	{ ' ', ACT_PAUSE, SC_REPLAY, "Space", "replay: play (a sample every -d seconds) or stop",
	  "Play" },
	{ KEY_F(1), ACT_HELP, SC_ALL, "F1", "show this help", "Help" },
	{ 'h', ACT_HELP, SC_ALL, "h", NULL, NULL },
	{ '?', ACT_HELP, SC_ALL, "?", NULL, NULL },
	{ KEY_UP, ACT_UP, SC_ALL, "Up", "move the selection up (or scroll)", NULL },
	{ 'k', ACT_UP, SC_ALL, "k", NULL, NULL },
	{ KEY_DOWN, ACT_DOWN, SC_ALL, "Down", "move the selection down", NULL },
	{ 'j', ACT_DOWN, SC_ALL, "j", NULL, NULL },
	{ KEY_PPAGE, ACT_PGUP, SC_ALL, "PgUp", "one page up", NULL },
	{ KEY_NPAGE, ACT_PGDN, SC_ALL, "PgDn", "one page down", NULL },
	{ KEY_HOME, ACT_HOME, SC_ALL, "Home", "first row", NULL },
	{ 'g', ACT_HOME, SC_ALL, "g", NULL, NULL },
	{ KEY_END, ACT_END, SC_ALL, "End", "last row", NULL },
	{ 'G', ACT_END, SC_ALL, "G", NULL, NULL },
	{ KEY_F(3), ACT_SEARCH, SC_ALL, "F3", "search: select the next row holding a text",
	  "Search" },
	{ '/', ACT_SEARCH, SC_ALL, "/", NULL, NULL },
	{ 'n', ACT_SEARCH_NEXT, SC_ALL, "n", "next match of the last search", NULL },
	{ KEY_F(4), ACT_FILTER, SC_MONITOR | SC_PICKER, "F4",
	  "filter: show only rows holding a text (Esc clears)", "Filter" },
	{ '\\', ACT_FILTER, SC_MONITOR | SC_PICKER, "\\", NULL, NULL },
	{ KEY_F(6), ACT_SORT_NEXT, SC_MONITOR | SC_PICKER, "F6",
	  "sort by the next column (or click a column's title)", "SortBy" },
	{ '>', ACT_SORT_NEXT, SC_MONITOR | SC_PICKER, ">", NULL, NULL },
	{ '.', ACT_SORT_NEXT, SC_MONITOR | SC_PICKER, ".", NULL, NULL },
	{ '<', ACT_SORT_PREV, SC_MONITOR | SC_PICKER, "<", "sort by the previous column", NULL },
	{ ',', ACT_SORT_PREV, SC_MONITOR | SC_PICKER, ",", NULL, NULL },
	{ 'I', ACT_SORT_INVERT, SC_MONITOR | SC_PICKER, "I", "invert the sort order", NULL },
	{ '\t', ACT_VIEW_NEXT, SC_MONITOR | SC_DETAIL, "Tab", "next view", "View" },
	{ KEY_BTAB, ACT_VIEW_PREV, SC_MONITOR | SC_DETAIL, "S-Tab", "previous view", NULL },
	{ '1', ACT_VIEW_1, SC_MONITOR | SC_DETAIL, "1", "Summary: categories, address-space strip",
	  NULL },
	{ '2', ACT_VIEW_2, SC_MONITOR | SC_DETAIL, "2", "Regions: every mapping", NULL },
	{ '3', ACT_VIEW_3, SC_MONITOR | SC_DETAIL, "3", "Files: mapping growth per file", NULL },
	{ '4', ACT_VIEW_4, SC_MONITOR | SC_DETAIL, "4", "Free: the gaps, largest first", NULL },
	{ '5', ACT_VIEW_5, SC_MONITOR | SC_DETAIL, "5", "Events: the map/unmap log", NULL },
	{ '6', ACT_VIEW_6, SC_MONITOR | SC_DETAIL, "6", "Threads: their stacks", NULL },
	{ '\n', ACT_ENTER, SC_MONITOR, "Enter",
	  "open the selected region (a file: its regions; unmapped code: who still points "
	  "into it)", "Detail" },
	{ KEY_ENTER, ACT_ENTER, SC_MONITOR, NULL, NULL, NULL },
	{ '\r', ACT_ENTER, SC_MONITOR, NULL, NULL, NULL },
	{ '\n', ACT_ENTER, SC_PICKER, "Enter", "watch the selected process", "Attach" },
	{ KEY_ENTER, ACT_ENTER, SC_PICKER, NULL, NULL, NULL },
	{ '\r', ACT_ENTER, SC_PICKER, NULL, NULL, NULL },
	/* The drill-down: scan for references into a region, then follow
	 * the holders one by one (Esc steps back). */
	{ 's', ACT_REFS, SC_DETAIL, "s", "scan for references into this region", "Refs" },
	{ '\n', ACT_ENTER, SC_SCANS, "Enter", "the scan's sample and region (s shows it)",
	  "Go" },
	{ KEY_ENTER, ACT_ENTER, SC_SCANS, NULL, NULL, NULL },
	{ '\r', ACT_ENTER, SC_SCANS, NULL, NULL, NULL },
	{ '\n', ACT_ENTER, SC_REFS, "Enter", "follow: scan for the selected holder", "Follow" },
	{ KEY_ENTER, ACT_ENTER, SC_REFS, NULL, NULL, NULL },
	{ '\r', ACT_ENTER, SC_REFS, NULL, NULL, NULL },
	{ 's', ACT_REFS, SC_REFS, "s", "scan this step again", "Rescan" },
	{ 'b', ACT_TRACES, SC_MONITOR, "b",
	  "backtraces of every thread (stops the target briefly)", "Btrace" },
	{ 'b', ACT_TRACES, SC_TRACES, "b", "take the backtraces again", "Again" },
	{ 'H', ACT_HEAP, SC_MONITOR, "H",
	  "heap census by arena and class (glibc malloc; stops the target for the walk)", NULL },
	{ 'H', ACT_HEAP, SC_HEAP, "H", "take the census again (growth since the first)", "Again" },
	{ 'L', ACT_LEAKS, SC_HEAP, "L", "census with the leak search", "Leaks" },
	{ '\n', ACT_ENTER, SC_HEAP, "Enter",
	  "on a leak group: who points to its first example (the drill-down); on unloaded "
	  "code: who still points into it", "Refs" },
	{ KEY_ENTER, ACT_ENTER, SC_HEAP, NULL, NULL, NULL },
	{ '\r', ACT_ENTER, SC_HEAP, NULL, NULL, NULL },
	{ TUI_KEY_ESC, ACT_BACK, SC_ALL, "Esc", "back; in a list, clear the filter", NULL },
	{ KEY_BACKSPACE, ACT_BACK, SC_ALL, "Bksp", NULL, NULL },
	{ TUI_KEY_DEL, ACT_BACK, SC_ALL, NULL, NULL, NULL },
	{ CTRL('h'), ACT_BACK, SC_ALL, NULL, NULL, NULL },
	{ ' ', ACT_PAUSE, SC_MONITOR | SC_DETAIL, "Space", "pause or resume refreshing",
	  "Pause" },
	{ KEY_F(5), ACT_PAUSE, SC_MONITOR | SC_DETAIL, "F5", NULL, NULL },
	{ CTRL('l'), ACT_REDRAW, SC_ALL, "^L", "redraw the screen", NULL },
	{ KEY_F(10), ACT_QUIT, SC_ALL, "F10", "quit", "Quit" },
	{ 'q', ACT_QUIT, SC_ALL, "q", NULL, NULL },
};

const size_t keys_n_bindings = sizeof(keys_bindings) / sizeof(keys_bindings[0]);

enum tui_action keys_lookup(int key, unsigned scope)
{
	for (size_t i = 0; i < keys_n_bindings; i++)
		if (keys_bindings[i].key == key && (keys_bindings[i].scope & scope))
			return keys_bindings[i].action;
	return ACT_NONE;
}

int keys_in_force(size_t i, unsigned scope)
{
	if (!(keys_bindings[i].scope & scope))
		return 0;
	for (size_t j = 0; j < i; j++)
		if (keys_bindings[j].key == keys_bindings[i].key && (keys_bindings[j].scope & scope))
			return 0;
	return 1;
}

/* Index of the i-th binding with help text in scope, or -1. */
/* Binding b and its aliases: the run of same-action entries after it
 * that have no help of their own.  One past its end. */
static size_t alias_end(size_t b)
{
	size_t k = b + 1;
	while (k < keys_n_bindings && keys_bindings[k].action == keys_bindings[b].action &&
	       !keys_bindings[k].help)
		k++;
	return k;
}

/* Whether some key of b's run works in scope (a replay's keys may shadow
 * them all: then the line is not shown). */
static int run_in_force(size_t b, unsigned scope)
{
	for (size_t k = b; k < alias_end(b); k++)
		if (keys_bindings[k].name && keys_in_force(k, scope))
			return 1;
	return 0;
}

static long help_binding(unsigned scope, int i)
{
	for (size_t b = 0; b < keys_n_bindings; b++)
		if (keys_bindings[b].help && run_in_force(b, scope) && i-- == 0)
			return (long)b;
	return -1;
}

int keys_help_lines(unsigned scope)
{
	int n = 0;
	while (help_binding(scope, n) >= 0)
		n++;
	return n;
}

int keys_help_line(unsigned scope, int i, char *keys, size_t cap, const char **help)
{
	long b = help_binding(scope, i);
	if (b < 0)
		return 0;
	size_t o = 0;
	keys[0] = '\0';
	for (size_t k = (size_t)b; k < alias_end((size_t)b); k++) {
		const struct tui_binding *t = &keys_bindings[k];
		/* A key shadowed by an earlier binding does something else. */
		if (!t->name || !keys_in_force(k, scope))
			continue;
		int w = snprintf(keys + o, cap - o, "%s%s", o ? " " : "", t->name);
		if (w < 0 || (size_t)w >= cap - o)
			break;
		o += (size_t)w;
	}
	*help = keys_bindings[b].help;
	return 1;
}

void keys_print(FILE *out)
{
	static const struct {
		unsigned scope;
		const char *title;
	} sections[] = {
		{ SC_MONITOR, "Keys on the screen" },
		{ SC_DETAIL, "In a region's detail" },
		{ SC_REFS, "In the references (the drill-down)" },
		{ SC_TRACES, "In the backtraces" },
		{ SC_HEAP, "In the heap census" },
		{ SC_PICKER, "In the process picker" },
		{ SC_REPLAY, "In a replay (-r FILE), besides the keys on the screen" },
		{ SC_SCANS, "In a replay's list of recorded scans (L)" },
	};
	char keys[128];
	const char *help;

	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		unsigned scope = sections[k].scope;
		fprintf(out, "\n%s:\n", sections[k].title);
		for (int i = 0; keys_help_line(scope, i, keys, sizeof(keys), &help); i++) {
			/* Keys that work everywhere are listed once, first. */
			long b = help_binding(scope, i);
			if (scope != SC_MONITOR && (keys_bindings[b].scope & SC_MONITOR) &&
			    keys_in_force((size_t)b, scope))
				continue;
			fprintf(out, "  %-20s %s\n", keys, help);
		}
	}
}
