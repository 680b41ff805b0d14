/*
 * scanbar.h - the progress bar of a long scan (the drill-down's), without
 * curses: when to draw it, when to cancel, and its text.
 */
#ifndef MEMTOP_TUI_SCANBAR_H
#define MEMTOP_TUI_SCANBAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

#define SCANBAR_DELAY 0.2     /* seconds before a bar shows */
#define SCANBAR_INTERVAL 0.05 /* between redraws of the bar */

struct scanbar {
	double t0;      /* when the scan began */
	double drawn;   /* last draw, 0: not yet */
	bool cancelled;
};

void scanbar_start(struct scanbar *b, double now);
/*
 * One call of the scan's progress callback at time now, key being the key
 * read without waiting (or -1) and stop whether a quit signal waits:
 * returns true to cancel (Esc, q, or the signal).  *draw says whether to
 * redraw the bar: only past SCANBAR_DELAY, at most every SCANBAR_INTERVAL.
 */
bool scanbar_step(struct scanbar *b, double now, int key, bool stop, bool *draw);
/* "[#######·········]  45%  120 MiB of 260 MiB" in exactly cols columns
 * (or fewer when too narrow for the figures). */
void scanbar_format(char *out, size_t cap, int cols, uint64_t done, uint64_t total,
		    const struct tui_glyphs *gl);

#endif
