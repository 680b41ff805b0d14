/*
 * headroom.h - how far the target is from mmap failing, and when it will
 * get there at the present rate.
 */
#ifndef MEMTOP_HEADROOM_H
#define MEMTOP_HEADROOM_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/gaps.h"
#include "memtop/snapshot.h"

/* Samples kept for the trend; the window is the last HEADROOM_WINDOW_SECS. */
#define HEADROOM_HISTORY 512
#define HEADROOM_WINDOW_SECS 300.0

struct mt_sample {
	double mono;
	uint64_t map_count;
	uint64_t vsz;
};

/* A ring of recent samples; plain data, owned by the model. */
struct mt_history {
	struct mt_sample v[HEADROOM_HISTORY];
	size_t head; /* next slot to write */
	size_t n;    /* samples held */
};

struct mt_headroom {
	uint64_t map_count;
	uint64_t max_map_count;
	uint64_t vsz;           /* sum of region sizes */
	uint64_t rlimit_as;     /* UINT64_MAX when unlimited */
	uint64_t largest_free;  /* largest free block of address space */
	/* Largest mapping that could still succeed: the largest free block,
	 * bounded by RLIMIT_AS - vsz; 0 when map_count has reached the max. */
	uint64_t largest_mmap;
	/* Regions per second over the window (least squares); NaN while
	 * unknown (fewer than two samples). */
	double maps_rate;
	double vsz_rate;   /* bytes per second over the window; NaN: unknown */
	/* Seconds until map_count reaches max_map_count / vsz reaches
	 * RLIMIT_AS at the present rate; negative when the trend does not
	 * point there (flat, shrinking, no limit, too few samples) or is
	 * not significant (headroom.c: significant()). */
	double maps_eta;
	double vsz_eta;
};

/* Fewer samples, or a shorter span, are no trend: no ETA is given. */
#define HEADROOM_MIN_SAMPLES 3
#define HEADROOM_MIN_SPAN 2.0
/* Growth over the window must exceed this many standard deviations of
 * the samples about the fitted line, and this many quanta (a mapping, a
 * page), to count as more than noise. */
#define HEADROOM_NOISE_K 3.0

/* The kernel's view of s: mappings counted against vm.max_map_count and
 * the size counted against RLIMIT_AS, both without the [vsyscall] gate
 * (no VMA of the process).  Feed these to headroom_history_push. */
void headroom_measure(const struct mt_snapshot *s, uint64_t *map_count,
		      uint64_t *vsz);

void headroom_history_push(struct mt_history *h, double mono,
			   uint64_t map_count, uint64_t vsz);
/* Derive headroom from the latest snapshot, its gaps and the history
 * (which should already hold the latest sample). */
void headroom_compute(struct mt_headroom *hr, const struct mt_snapshot *s,
		      const struct mt_gaps *g, const struct mt_history *h);

#endif
