/*
 * strip.h - the user address space drawn to scale in one row of cells.
 *
 * A 47-bit address space is 128 TiB while a process uses a few GiB of it
 * in a handful of clusters, so a linear scale would show nothing but the
 * free space.  The strip is cut into segments, alternately used clusters
 * and free gaps, in address order; when they do not all get a cell at a
 * linear scale, each gets cells in proportion to the logarithm of its
 * size instead.  Within a used segment the scale is linear and each cell
 * shows the category holding most of its bytes.  Gaps too small to get a
 * cell of their own are folded into the used segment around them.
 * No curses here: unit-testable.
 */
#ifndef MEMTOP_TUI_STRIP_H
#define MEMTOP_TUI_STRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/gaps.h"
#include "memtop/region.h"

#define STRIP_MAX 512

/* A cell's content: a category (enum mt_category), or one of these. */
enum {
	STRIP_GAP = MT_CAT_COUNT, /* free address space */
	STRIP_LARGEST,            /* the largest free block */
};

struct tui_strip {
	uint8_t cell[STRIP_MAX];
	int width;
	bool log;        /* log scale (else linear) */
	int largest_at;  /* first cell of the largest free block, -1 if none */
	int largest_len; /* its cells */
	uint64_t low;    /* the range drawn */
	uint64_t high;
};

/*
 * Lay out regions r[0..n) (sorted, non-overlapping) and their gaps g over
 * width cells (at most STRIP_MAX).  Regions outside g->low..g->high (such
 * as [vsyscall]) are left out.  Returns 0, or -ENOMEM.
 */
int strip_layout(struct tui_strip *st, const struct mt_region *r, size_t n,
		 const struct mt_gaps *g, int width);

#endif
