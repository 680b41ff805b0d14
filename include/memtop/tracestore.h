/*
 * tracestore.h - --trace in a recording (docs/recording.md): each
 * distinct stack once, each traced event by reference to its stack, the
 * tracer's state per session and its counters per sample.  The tables
 * are made the first time a session with --trace is recorded into a file;
 * a recording without them replays without tracing.
 */
#ifndef MEMTOP_TRACESTORE_H
#define MEMTOP_TRACESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/error.h"
#include "memtop/traced.h"

struct sqlite3;

/* One sample's share, by value (no pointer into the session). */
struct tracestore_batch;

/*
 * On the recording thread: copy what t adds to the recording, the stacks
 * from number *stacks_done on (advanced) and this refresh's events.
 * 0 or -ENOMEM.
 */
int tracestore_stage(struct tracestore_batch **out, const struct mt_traced *t,
		     size_t *stacks_done);
void tracestore_batch_free(struct tracestore_batch *b);

/* The writer's prepared statements and row ids, made on first use. */
struct tracestore_writer;
void tracestore_writer_free(struct tracestore_writer *w);
/* On the writer thread, inside the sample's transaction: 0 or -1 (the
 * database's error). */
int tracestore_write(struct sqlite3 *db, struct tracestore_writer **w, int64_t session,
		     int64_t sample, const struct tracestore_batch *b);

/*
 * Reading: the session's state (asked, on, reason) and every stack into
 * t, which must be empty.  A recording made without --trace leaves t as
 * it is (asked false).  0, or -1 with err (a damaged row).
 */
int tracestore_load(struct sqlite3 *db, int64_t session, struct mt_traced *t,
		    struct mt_error *err);
/* The events and counters of sample (its row id) into t (its events
 * replaced).  0, or -1 with err. */
int tracestore_sample(struct sqlite3 *db, int64_t sample, struct mt_traced *t,
		      struct mt_error *err);

#endif
