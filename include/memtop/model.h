/*
 * model.h - everything memtop derives from consecutive snapshots.
 *
 * Pure computation over plain structs: no I/O, no curses.  Every sink
 * (batch printer, TUI, recorder) reads a model and its latest snapshot.
 */
#ifndef MEMTOP_MODEL_H
#define MEMTOP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/gaps.h"
#include "memtop/growth.h"
#include "memtop/headroom.h"
#include "memtop/snapshot.h"

struct mt_stat {
	uint64_t regions;
	uint64_t virt;
	/* virt less PROT_NONE reservations (---p, ---s): what the process can
	 * touch, WinDbg's committed beside reserved (glibc's arenas reserve
	 * 64 MiB each and commit a few). */
	uint64_t committed;
	uint64_t rss;    /* MT_UNKNOWN when no figure is known */
	int64_t delta_regions; /* since monitoring began */
	int64_t delta_virtual;
	double rate;     /* bytes of virtual size per minute since it began */
};

enum mt_type { MT_TYPE_PRIVATE, MT_TYPE_SHARED, MT_TYPE_FILE, MT_TYPE_COUNT };

/* One of the 16 protection combinations: index = perms & 0x0f. */
#define MT_PROT_COUNT 16

struct mt_model {
	unsigned long refreshes;
	double t0;                       /* mono of the first snapshot */
	struct mt_stat cats[MT_CAT_COUNT];
	struct mt_stat types[MT_TYPE_COUNT];
	struct mt_stat prots[MT_PROT_COUNT];
	struct mt_stat total;
	struct mt_gaps gaps;
	struct mt_history history;
	struct mt_headroom headroom;
	struct mt_growth growth;
	/* Baselines for deltas, from the first snapshot. */
	struct mt_stat cats0[MT_CAT_COUNT];
	struct mt_stat types0[MT_TYPE_COUNT];
	struct mt_stat prots0[MT_PROT_COUNT];
	struct mt_stat total0;
};

/* The type of a region's category (docs/categories.md): file for image
 * and file, shared for shared, private for all the rest. */
enum mt_type model_type_of(enum mt_category c);

void model_init(struct mt_model *m);
void model_free(struct mt_model *m);
/* Deep copy into dst (initialised or freed), so that a replay can go
 * back to it: 0 or -ENOMEM (dst empty). */
int model_copy(struct mt_model *dst, const struct mt_model *src);
/*
 * Classify cur and fold it into the model: categories and summaries,
 * gaps, headroom and its trend, growth and events against prev (NULL for
 * the first snapshot).  0 or -ENOMEM.
 */
int model_update(struct mt_model *m, const struct mt_snapshot *prev,
		 struct mt_snapshot *cur);

/* The resident size to show beside the tables: their total (the sum of
 * the regions' rss) when per-region sizes are known, so that the header
 * and the Summary agree; else the kernel's counter (VmRSS). */
static inline uint64_t model_rss(const struct mt_model *m, const struct mt_snapshot *s)
{
	return m->total.rss != MT_UNKNOWN ? m->total.rss : s->info.rss;
}

const char *model_type_name(enum mt_type t);

#endif
