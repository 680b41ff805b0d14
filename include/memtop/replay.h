/*
 * replay.h - the recording as a source: it gives back, sample by sample,
 * the snapshots a live session took, so the model, the batch printer and
 * the TUI work on them as they did live (docs/recording.md).
 *
 * Samples are rebuilt forwards from region and thread lifetimes; going
 * back means starting again from the first (replay_rewind), as the model
 * must anyway: its baselines and trends are folded from the first sample.
 */
#ifndef MEMTOP_REPLAY_H
#define MEMTOP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/error.h"
#include "memtop/snapshot.h"

struct mt_replay;
struct sqlite3;

struct replay_session {
	int64_t id;
	int pid;
	char comm[64];
	char host[64];
	double started;  /* epoch seconds */
	double ended;    /* 0: not closed cleanly (killed, or still recording) */
	double delay;
	size_t index;    /* 1-based among the file's sessions */
	size_t count;    /* sessions in the file */
};

/*
 * Open a recording and load session number `session` (1-based; 0 for the
 * last one).  Everything read is validated: a file that is not a memtop
 * recording, a damaged one, or a session number out of range fails with
 * MT_ERR_BADFILE (MT_ERR_USAGE for the number) and a message.
 */
int replay_open(struct mt_replay **out, const char *path, size_t session,
		struct mt_error *err);
void replay_close(struct mt_replay *r);

const struct replay_session *replay_session(const struct mt_replay *r);
/* Samples in the session, and the index replay_next gives next. */
size_t replay_count(const struct mt_replay *r);
size_t replay_pos(const struct mt_replay *r);
/* Wall-clock time (epoch seconds) and id of sample i < replay_count. */
double replay_time(const struct mt_replay *r, size_t i);
int64_t replay_sample_id(const struct mt_replay *r, size_t i);
/* Index of the first sample taken at or after t (the last when t is
 * later than all). */
size_t replay_find_time(const struct mt_replay *r, double t);
/* Index of the sample with id `id`, or -1. */
long replay_find_id(const struct mt_replay *r, int64_t id);

/* Back to the first sample. */
void replay_rewind(struct mt_replay *r);

/*
 * A recording still being written: see the samples committed since
 * (the reader's snapshot moves on).  The number of new samples, 0, or -1
 * with err set.  replay_live says whether a memtop is still writing the
 * session (it has not ended and another process holds the file open), so
 * that a reader at the end may wait for more, as tail -f does.
 */
int replay_follow(struct mt_replay *r, struct mt_error *err);
bool replay_live(const struct mt_replay *r);
/*
 * Rebuild sample replay_pos() into s (reset first) and move on: 0; 1 when
 * there is none left; -1 with err set (MT_ERR_BADFILE) when the file is
 * damaged there.
 */
int replay_next(struct mt_replay *r, struct mt_snapshot *s, struct mt_error *err);

/*
 * A mark: what replay_next needs to go on from replay_pos() (the regions
 * and threads alive, their resident figures, the process names), so that
 * a replay can come back to it without starting from the first sample.
 * replay_mark returns NULL when out of memory; *bytes is its size.
 */
struct replay_mark;
struct replay_mark *replay_mark(const struct mt_replay *r, size_t *bytes);
/* Back to the mark's position (taken on this replay): 0 or -ENOMEM. */
int replay_restore(struct mt_replay *r, const struct replay_mark *m);
void replay_mark_free(struct replay_mark *m);

/* The database, for the scan store (scanstore.h) and tests. */
struct sqlite3 *replay_db(struct mt_replay *r);

/* The drill-down scans recorded with this session (scanstore_list), and
 * one of them loaded back (scanstore_load): for front ends, which never
 * hold the database. */
struct scanstore_info;
struct scanstore_scan;
int replay_list_scans(struct mt_replay *r, struct scanstore_info **out, size_t *n,
		      struct mt_error *err);
int replay_load_scan(struct mt_replay *r, int64_t id, struct scanstore_scan *out,
		     struct mt_error *err);

/* The heap censuses recorded with this session, and one loaded back
 * (heapstore.h). */
struct heapstore_info;
struct heapstore_census;
int replay_list_heaps(struct mt_replay *r, struct heapstore_info **out, size_t *n,
		      struct mt_error *err);
int replay_load_heap(struct mt_replay *r, int64_t id, struct heapstore_census *out,
		     struct mt_error *err);

#endif
