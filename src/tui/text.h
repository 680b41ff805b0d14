/*
 * text.h - glyphs and text fitting for the TUI.
 *
 * Everything the target names (paths, thread names) is untrusted bytes:
 * it goes through text_fit, which keeps what the terminal can show and
 * replaces the rest, so a file name can never move the cursor or break
 * the layout.  No curses here: unit-testable.
 */
#ifndef MEMTOP_TUI_TEXT_H
#define MEMTOP_TUI_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Characters that differ between UTF-8 and plain ASCII terminals. */
struct tui_glyphs {
	bool utf8;
	const char *spark[8]; /* sparkline levels, lowest first */
	const char *block;    /* used address space in the strip */
	const char *gap;      /* free address space */
	const char *largest;  /* the largest free block */
	const char *ellipsis; /* text cut here */
	const char *times;    /* "256 KiB x 1800" */
	const char *marker;   /* points at the largest free block */
	const char *arrow_up; /* sort order */
	const char *arrow_down;
	const char *vline;
	const char *crumb;    /* between the steps of a breadcrumb */
};

const struct tui_glyphs *text_glyphs(bool utf8);

enum text_cut {
	TEXT_CUT_RIGHT, /* keep the head: "memtop-de…" */
	TEXT_CUT_LEFT,  /* keep the tail: "…/lib/libc.so.6", for paths */
	TEXT_CLIP,      /* keep the head, no ellipsis: for drawings */
};

/*
 * Copy len bytes of s into out (cap bytes) as text that takes at most cols
 * terminal columns: control characters and bytes that are not valid
 * UTF-8 (or, with utf8 false, not printable ASCII) become '?'; text too
 * long is cut with an ellipsis.  Needs an UTF-8 LC_CTYPE when utf8 is set.
 * Returns the columns the result takes.
 */
int text_fit(char *out, size_t cap, const char *s, size_t len, int cols,
	     enum text_cut cut, bool utf8);

/* Columns the printable form of s takes (as text_fit would show it). */
int text_width(const char *s, size_t len, bool utf8);

#endif
