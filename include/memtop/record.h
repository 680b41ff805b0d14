/*
 * record.h - the recorder: a sink that appends each refresh to a
 * recording (recfile.h, docs/recording.md), as a new session of it.
 *
 * A region or a thread is written once, when it appears, and marked when
 * it goes; per-region resident sizes only when they change.  Each sample
 * is one transaction: a recording killed at any moment replays every
 * sample committed before.
 *
 * The recorder writes on a thread of its own: record_sample diffs the
 * snapshot and queues the changes, so the disk never holds up a refresh.
 * A write that fails (disk full) is reported by the next record_sample,
 * or by record_flush.  All the functions are for one thread, the one that
 * opened the recorder.
 */
#ifndef MEMTOP_RECORD_H
#define MEMTOP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "memtop/error.h"
#include "memtop/model.h"
#include "memtop/scanstore.h"
#include "memtop/snapshot.h"
#include "memtop/traced.h"

struct mt_recorder;

/*
 * Open path for recording (created when missing; a recording already
 * there gets a new session; any other file is refused, MT_ERR_BADFILE).
 * delay is the refresh interval, kept with the session.
 */
int record_open(struct mt_recorder **out, const char *path, double delay,
		struct mt_error *err);

/* Mark the session ended and close the file (NULL is fine). */
void record_close(struct mt_recorder *r);

/*
 * Append the snapshot s, already folded into m, as the next sample.
 * Fails (err says why; the caller should stop recording with
 * record_close) when an earlier sample could not be written: nothing of
 * that sample and none after it is kept.
 */
int record_sample(struct mt_recorder *r, const struct mt_model *m,
		  const struct mt_snapshot *s, struct mt_error *err);

/*
 * --trace: what the tracer added for the next sample (its events, the
 * stacks new since the last call) goes with it, into the tables of
 * tracestore.h.  Call before record_sample, once a sample.
 */
int record_traced(struct mt_recorder *r, const struct mt_traced *t, struct mt_error *err);

/* Wait until every queued sample is in the file: 0, or -1 with err set
 * when one could not be written. */
int record_flush(struct mt_recorder *r, struct mt_error *err);

/* Samples queued so far in this session. */
unsigned long record_samples(const struct mt_recorder *r);
const char *record_path(const struct mt_recorder *r);

/*
 * Store a scan (struct record_scan, scanstore.h) and its result, tied to
 * the latest sample; *id is its id, to pass as the parent of the next
 * step.  Needs one sample first.  Written before it returns (sc points
 * into the caller's step).
 */
int record_scan(struct mt_recorder *r, const struct record_scan *sc, int64_t *id,
		struct mt_error *err);

/* Store a heap census (heapstore.h), tied to the latest sample.  Needs one
 * sample first; written before it returns. */
struct record_heap;
int record_heap(struct mt_recorder *r, const struct record_heap *h, struct mt_error *err);

#endif
