/*
 * record.h - the recorder: a sink that appends each refresh to a
 * recording (recfile.h, docs/recording.md), as a new session of it.
 *
 * A region or a thread is written once, when it appears, and marked when
 * it goes; per-region resident sizes only when they change.  Each sample
 * is one transaction: a recording killed at any moment replays every
 * sample committed before.
 */
#ifndef MEMTOP_RECORD_H
#define MEMTOP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "memtop/error.h"
#include "memtop/model.h"
#include "memtop/scan.h"
#include "memtop/snapshot.h"

struct mt_recorder;

/*
 * Open path for recording (created when missing; a recording already
 * there gets a new session; any other file is refused, MT_EXIT_BADFILE).
 * delay is the refresh interval, kept with the session.
 */
int record_open(struct mt_recorder **out, const char *path, double delay,
		struct mt_error *err);

/* Mark the session ended and close the file (NULL is fine). */
void record_close(struct mt_recorder *r);

/*
 * Append the snapshot s, already folded into m, as the next sample.
 * On failure (disk full, I/O error) nothing of this sample is kept and
 * err says why; the caller should stop recording (record_close).
 */
int record_sample(struct mt_recorder *r, const struct mt_model *m,
		  const struct mt_snapshot *s, struct mt_error *err);

/* Samples written so far in this session. */
unsigned long record_samples(const struct mt_recorder *r);
const char *record_path(const struct mt_recorder *r);

/* A reference scan (one drill-down step) to keep with the recording. */
struct record_scan {
	uint64_t lo, hi;
	const char *label;          /* its name in the breadcrumb */
	bool frozen;
	double stopped_ms;
	size_t not_stopped;
	double taken;               /* epoch seconds */
	const struct scan_result *res;
	const struct mt_snapshot *snap; /* the maps scanned, classified */
	int64_t parent;             /* id of the step it was followed from, 0 */
};

/*
 * Store a scan and its result, tied to the latest sample; *id is its
 * id, to pass as the parent of the next step.  Needs one sample first.
 */
int record_scan(struct mt_recorder *r, const struct record_scan *sc, int64_t *id,
		struct mt_error *err);

#endif
