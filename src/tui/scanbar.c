/*
 * scanbar.c - the progress bar of a long scan.  No curses: unit-tested on
 * its own.
 */
#include <stdio.h>
#include <string.h>

#include "memtop/format.h"
#include "keys.h"
#include "scanbar.h"

void scanbar_start(struct scanbar *b, double now)
{
	memset(b, 0, sizeof(*b));
	b->t0 = now;
}

bool scanbar_step(struct scanbar *b, double now, int key, bool stop, bool *draw)
{
	*draw = false;
	if (key == TUI_KEY_ESC || key == 'q' || stop) {
		b->cancelled = true;
		return true;
	}
	bool late = now - b->t0 >= SCANBAR_DELAY;
	if (late && (b->drawn == 0 || now - b->drawn >= SCANBAR_INTERVAL)) {
		b->drawn = now;
		*draw = true;
	}
	return false;
}

void scanbar_format(char *out, size_t cap, int cols, uint64_t done, uint64_t total,
		    const struct tui_glyphs *gl)
{
	char a[32], b[32], figures[96];
	if (done > total)
		done = total;
	int pct = total ? (int)(done * 100 / total) : 100;
	snprintf(figures, sizeof(figures), "  %3d%%  %s of %s", pct,
		 format_size(a, sizeof(a), done), format_size(b, sizeof(b), total));
	int inner = cols - 2 - (int)strlen(figures);
	size_t o = 0;
	out[0] = '\0';
	if (inner < 4) { /* no room for a bar: the figures alone */
		text_fit(out, cap, figures + 2, strlen(figures + 2), cols, TEXT_CLIP, gl->utf8);
		return;
	}
	int fill = total ? (int)((double)done / (double)total * inner) : inner;
	o += (size_t)snprintf(out + o, cap - o, "[");
	for (int i = 0; i < inner && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s", i < fill ? gl->block : gl->gap);
	if (o < cap)
		snprintf(out + o, cap - o, "]%s", figures);
}
