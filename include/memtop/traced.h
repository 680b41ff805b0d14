/*
 * traced.h - what --trace adds to a refresh: the events traced since the
 * previous one, every stack seen, which stack mapped each live range and
 * the groups per file (origins.h), and the tracer's counters.  Pure: the
 * front end fills it from the tracer (tracer.h) and folds it with each
 * snapshot; the printers, the screen and the recorder read it.
 */
#ifndef MEMTOP_TRACED_H
#define MEMTOP_TRACED_H

#include <stdbool.h>
#include <stdint.h>

#include "memtop/growth.h"
#include "memtop/origins.h"
#include "memtop/snapshot.h"

/* The tracer's counters: a checkpoint and a recorded batch take them whole. */
struct mt_trace_counts {
	uint64_t total;         /* events since tracing began */
	uint64_t lost;          /* perf records the kernel dropped, and events
				 * memtop dropped (over a million waiting for a
				 * refresh) */
	uint64_t records;
	uint64_t failed;        /* calls that failed (no event) */
	uint64_t threads;       /* threads traced when tracing began */
	uint64_t stacks_seen;   /* distinct stacks so far (a replay loads all
				 * of stacks at once) */
	uint64_t untraced;      /* this refresh's snapshot-diff events that no
				 * traced event explains */
	double cpu;             /* seconds of CPU the tracer used */
};

struct mt_traced {
	bool asked;             /* --trace was given */
	bool on;                /* tracing now */
	char reason[512];       /* why not, when asked and refused or stopped */
	struct mt_stacks stacks;
	struct mt_tevents events; /* since the previous refresh */
	struct mt_tevents prev;   /* the refresh before: a snapshot diff may
				   * straddle the hand-off */
	struct mt_origins origins;
	struct mt_origin_groups groups;
	struct mt_trace_counts count;
};

void traced_init(struct mt_traced *t);
void traced_free(struct mt_traced *t);
/* Forget what was folded (events, origins, counters), keeping the stacks
 * and the state: a replay starting again from its first sample. */
void traced_reset(struct mt_traced *t);
/* Deep copy of what was folded (not the stacks, which only grow and stay
 * with dst) from src into dst: a replay's checkpoints.  0 or -ENOMEM. */
int traced_copy_state(struct mt_traced *dst, const struct mt_traced *src);
/* Start a refresh: this refresh's events become the previous ones. */
void traced_next(struct mt_traced *t);
/* Fold this refresh's events into the origins and group s's regions by
 * origin; count the diff events of `diff` no traced event explains.  An
 * unmap says only where: its file and protection are taken from the map
 * event before it in this refresh, else from prev's region there (prev
 * may be NULL).  0 or -ENOMEM. */
int traced_fold(struct mt_traced *t, const struct mt_snapshot *prev,
		const struct mt_snapshot *s, const struct mt_events *diff);
/* Whether a snapshot-diff event is explained by a traced event of this
 * refresh or the one before. */
bool traced_explains(const struct mt_traced *t, const struct mt_event *ev);

#endif
