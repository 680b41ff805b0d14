/*
 * keys.h - the one key-binding table: the dispatcher, the function bar
 * and the help screen all read it, so a key cannot work without being
 * documented, nor be documented without working.
 */
#ifndef MEMTOP_TUI_KEYS_H
#define MEMTOP_TUI_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Keys as getch returns them that curses has no name for. */
#define TUI_KEY_ESC 27
#define TUI_KEY_DEL 127   /* what most terminals send for Backspace */
#define TUI_KEY_CTRL_H 8  /* ... and what the others send */

/* Backspace, however the terminal spells it (curses's KEY_BACKSPACE is
 * passed in, so this header needs no curses). */
static inline bool tui_key_is_backspace(int ch, int key_backspace)
{
	return ch == key_backspace || ch == TUI_KEY_DEL || ch == TUI_KEY_CTRL_H;
}

enum tui_action {
	ACT_NONE,
	ACT_QUIT,
	ACT_HELP,
	ACT_PAUSE,
	ACT_REDRAW,
	ACT_VIEW_NEXT,
	ACT_VIEW_PREV,
	ACT_VIEW_1, /* ACT_VIEW_1 + n: the n-th view */
	ACT_VIEW_2,
	ACT_VIEW_3,
	ACT_VIEW_4,
	ACT_VIEW_5,
	ACT_VIEW_6,
	ACT_UP,
	ACT_DOWN,
	ACT_PGUP,
	ACT_PGDN,
	ACT_HOME,
	ACT_END,
	ACT_SEARCH,
	ACT_SEARCH_NEXT,
	ACT_FILTER,
	ACT_SORT_NEXT,
	ACT_SORT_PREV,
	ACT_SORT_INVERT,
	ACT_ENTER,
	ACT_BACK,
	ACT_REFS,   /* region detail: who points into it; drill-down: again */
	ACT_TRACES, /* backtraces of every thread */
	ACT_HEAP,   /* a heap census (again) */
	ACT_LEAKS,  /* a heap census with the leak search */
	ACT_STEP_NEXT, /* replay: the next sample */
	ACT_STEP_PREV, /* replay: the previous sample */
	ACT_JUMP,      /* replay: the sample at a time */
	ACT_FIRST,     /* replay: the first sample */
	ACT_LAST,      /* replay: the last sample */
	ACT_SCANS,     /* replay: the list of recorded scans */
};

/* Where a binding applies. */
enum tui_scope {
	SC_MONITOR = 1u << 0, /* the views of a watched process */
	SC_DETAIL = 1u << 1,  /* a region's detail */
	SC_PICKER = 1u << 2,  /* the process picker */
	SC_REFS = 1u << 3,    /* the drill-down's references */
	SC_TRACES = 1u << 4,  /* the backtraces of every thread */
	/* Added to the views' and the detail's scope in a replay; its keys
	 * come first in the table, so they win over the live ones. */
	SC_REPLAY = 1u << 5,
	SC_HEAP = 1u << 6,    /* the heap census */
	SC_SCANS = 1u << 7,   /* a replay's list of recorded scans */
	SC_ALL = SC_MONITOR | SC_DETAIL | SC_PICKER | SC_REFS | SC_TRACES | SC_HEAP |
		 SC_SCANS,
};

struct tui_binding {
	int key;            /* as getch returns it */
	enum tui_action action;
	unsigned scope;     /* enum tui_scope bits */
	const char *name;   /* the key as shown: "F10", "q", "Space" */
	const char *help;   /* for the help screen; NULL: an alias of the
			     * binding above with the same action */
	const char *fbar;   /* label in the function bar, NULL if not there */
};

extern const struct tui_binding keys_bindings[];
extern const size_t keys_n_bindings;

/* The action of key in scope, ACT_NONE if it has none.  The first
 * binding in the table wins: a replay's keys shadow the live ones. */
enum tui_action keys_lookup(int key, unsigned scope);

/* Whether binding i is the one keys_lookup finds for its key in scope
 * (a replay's keys shadow some live ones). */
int keys_in_force(size_t i, unsigned scope);

/* Help line i (0-based) for scope: keys joined by spaces into keys (cap
 * bytes) and the help text; false past the last line. */
int keys_help_lines(unsigned scope);
int keys_help_line(unsigned scope, int i, char *keys, size_t cap, const char **help);

/* The bindings, grouped by screen, for --help (tui_print_keys). */
void keys_print(FILE *out);

#endif
