/*
 * drill.h - the drill-down's model, without curses: the rows of a
 * reference scan's result, what each holder is called, what Enter on it
 * scans for next, and the breadcrumb of the chain.  drilldown.c puts it
 * on screen and does the scanning.
 */
#ifndef MEMTOP_TUI_DRILL_H
#define MEMTOP_TUI_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "memtop/scan.h"
#include "memtop/snapshot.h"
#include "text.h"

/* ---- the rows of a result ---------------------------------------------- */

enum drill_row_kind {
	DROW_GROUP, /* the region holding the refs below: range, category, path */
	DROW_REF,   /* one reference: who holds it */
	DROW_STALE, /* stale copies below a stack pointer, counted, not listed */
	DROW_FREED, /* stale copies in freed heap chunks, counted, not listed */
	DROW_FRAME, /* a frame of the backtrace of a stack group's thread */
	DROW_OUT_HEAD, /* "Points to (N)": what the target points to, below */
	DROW_OUT,   /* one pointer of the target: what it points to */
};

struct drill_row {
	enum drill_row_kind kind;
	size_t group; /* index into res->groups */
	size_t index; /* REF: into res->refs; STALE, FREED: how many; FRAME: frame number;
		       * OUT_HEAD: how many; OUT: into res->points_to */
};

struct drill_rows {
	struct drill_row *v;
	size_t n;
	size_t cap;
};

/*
 * The rows of res as the text report has them: per holding region a
 * group row, its live references, one row counting its dead-stack copies,
 * one counting its copies in freed chunks (scan_ref.stale_free),
 * and for a thread's stack the backtrace of that thread when it was
 * unwound; then, when the target was small enough to be read
 * (points_to_read), a head row and one row per pointer of res->points_to
 * whose region is in s.  0 or -ENOMEM.
 */
int drill_rows_build(struct drill_rows *rows, const struct scan_result *res,
		     const struct mt_snapshot *s);
void drill_rows_free(struct drill_rows *rows);
/* The first REF row, or 0. */
size_t drill_rows_first_ref(const struct drill_rows *rows);

/* ---- holders --------------------------------------------------------- */

/* What holds ref, in a word or two: the C++ class, "[heap 264 B]", the
 * symbol, "thread 1234", or the region ("[anon]+0x1000"). */
void drill_holder_name(char *buf, size_t cap, const struct scan_ref *ref,
		       const struct mt_snapshot *s);
/* Where exactly: "object 0x...+0x8 (24 B)", the module, the frame. */
void drill_holder_where(char *buf, size_t cap, const struct scan_ref *ref,
			const struct mt_snapshot *s);

/*
 * What Enter on ref scans for next: the heap chunk's user range; for a
 * global, the symbol's range when its size is known (sym_size > 0), else
 * the region holding it; for a stack or anything else, the region.
 * label is the breadcrumb's name for it.
 */
void drill_follow_range(const struct scan_ref *ref, const struct mt_snapshot *s,
			uint64_t sym_start, uint64_t sym_size, uint64_t *lo, uint64_t *hi,
			char *label, size_t cap);
/* The breadcrumb's name for a whole region: its file's base name, or
 * "[anon 1 MiB]". */
void drill_region_label(char *buf, size_t cap, const struct mt_region *r);

/*
 * The chain of n labels joined by the separator into out, fitted to cols
 * columns: when too long, the oldest steps give way to an ellipsis, the
 * newest stays whole as long as it can.  Returns the columns used.
 */
int drill_breadcrumb(char *out, size_t cap, const char *const *labels, size_t n, int cols,
		     const struct tui_glyphs *gl);

#endif
