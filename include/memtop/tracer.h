/*
 * tracer.h - --trace: a thread of memtop's that drains the perf buffers
 * of trace.h, unwinds each call's copied stack (ustack.h), deduplicates
 * the stacks and turns enter/exit pairs into events (origins.h) that the
 * front end takes at each refresh.  docs/trace.md tells the whole story.
 */
#ifndef MEMTOP_TRACER_H
#define MEMTOP_TRACER_H

#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"
#include "memtop/origins.h"
#include "memtop/trace.h"

struct tracer_stats {
	uint64_t records;    /* perf records decoded */
	uint64_t events;     /* map/unmap events made */
	uint64_t failed;     /* calls that returned an error (no event) */
	uint64_t lost;       /* records the kernel dropped (buffer full) */
	uint64_t dropped;    /* events memtop dropped: over a million waiting */
	uint64_t stacks;     /* distinct stacks */
	uint64_t threads;    /* threads traced when tracing began */
	double cpu;          /* seconds of CPU the tracer thread used */
};

struct tracer;

/* Start tracing pid: 0, or -1 with err (MT_ERR_PERM when refused). */
int tracer_start(struct tracer **out, pid_t pid, const struct trace_options *o,
		 struct mt_error *err);
/* Append the events made since the last call to ev, and the stacks they
 * introduced to st (ids are indexes in st: pass the same st every time).
 * First the tracer reads what the buffers hold now (waiting up to
 * TRACER_SYNC_MS for it), so that a mapping in a snapshot read before the
 * call comes with its traced event, not as one only the diff saw.
 * 0 or -ENOMEM. */
#define TRACER_SYNC_MS 250
int tracer_take(struct tracer *t, struct mt_tevents *ev, struct mt_stacks *st,
		struct tracer_stats *stats);
void tracer_stop(struct tracer *t);

#endif
