/*
 * session.h - one watch of one process: where snapshots come from (the
 * live process, or a recording), the model they are folded into, and the
 * recording they go to (-w).  The batch printer and the screen both drive
 * a session the same way, as atop's one photo/deviate/rawlog loop serves
 * its live and replay modes:
 *
 *	session_open  ->  session_next, session_next, ...  ->  session_close
 *
 * Each session_next takes the next snapshot, folds it into the model
 * (model_update) and records it.  Recorded with -w, a session is one
 * session of the recording file (docs/recording.md); replayed, it is that
 * session again.  The fields below are for reading by the
 * front ends; only session.c (and a replay's checkpoints, which save and
 * restore them whole) write them.
 */
#ifndef MEMTOP_SESSION_H
#define MEMTOP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "memtop/error.h"
#include "memtop/model.h"
#include "memtop/options.h"
#include "memtop/snapshot.h"
#include "memtop/traced.h"

struct mt_proc;
struct mt_replay;
struct mt_recorder;
struct record_scan;
struct tracer;

struct mt_session {
	/* The source: the process, or a recording (exactly one when open). */
	struct mt_proc *proc;
	struct mt_replay *replay;
	unsigned read_flags;   /* proc_read's flags, from --rss */
	pid_t pid;             /* the process, also the recorded one */
	/* -w: every sample is recorded; NULL once a write failed. */
	struct mt_recorder *rec;
	struct mt_error rec_error; /* why it stopped, until session_record_lost */
	bool rec_lost;

	struct mt_snapshot snap[2];
	int cur;               /* snap[cur]: the latest good snapshot */
	bool have_snap;
	bool have_prev;        /* snap[!cur]: the one before it, still intact */
	struct mt_model model;
	long refreshes;        /* samples folded */
	/* --trace (live only): the tracer, NULL when refused (traced.reason
	 * says why) or not asked for; what it saw, folded at each sample. */
	struct tracer *tracer;
	struct mt_traced traced;
};

/* An empty session: nothing open, safe to close. */
void session_init(struct mt_session *s);

/*
 * Open a live process (pid) or, with o->read, the recording o->read
 * (session o->session); with o->write, start recording.  The recording is
 * opened only once the process is known to be watchable, so a typo in -p
 * leaves no empty file behind.  No snapshot is taken yet.  0, or -1 with
 * err set (the session is then empty again).  With o->trace, tracing
 * starts too; when it is refused the session opens all the same, with
 * traced.on false and traced.reason saying why.
 */
int session_open(struct mt_session *s, const struct mt_options *o, pid_t pid,
		 struct mt_error *err);

/*
 * Take the next snapshot into the spare buffer, fold it into the model
 * and record it.  0; 1 when a recording has no sample left; -1 with err
 * set.  On failure the spare buffer has been reset (have_prev is false)
 * and the latest snapshot stays for reading.  A sample that cannot be
 * recorded (disk full) ends the recording, not the session: see
 * session_record_lost.
 */
int session_next(struct mt_session *s, struct mt_error *err);

/*
 * Keep a drill-down step with the recording, if there is one (*id: its
 * id there, for the next step's parent; 0 without).  A failure ends the
 * recording as one of session_next's does.
 */
void session_record_scan(struct mt_session *s, const struct record_scan *sc, int64_t *id);
/* With -w: keep a heap census (heapstore.h) with the recording. */
struct record_heap;
void session_record_heap(struct mt_session *s, const struct record_heap *h);

/* True once after the recording stopped on a write failure; err says why. */
bool session_record_lost(struct mt_session *s, struct mt_error *err);

/* The latest snapshot, NULL before the first. */
static inline const struct mt_snapshot *session_snap(const struct mt_session *s)
{
	return s->have_snap ? &s->snap[s->cur] : NULL;
}

/* The snapshot before it, NULL when there is none intact. */
static inline const struct mt_snapshot *session_prev(const struct mt_session *s)
{
	return s->have_prev ? &s->snap[!s->cur] : NULL;
}

/* Forget everything folded (model, snapshots), keeping the source open:
 * a replay then starts again from its first sample. */
void session_restart(struct mt_session *s);

/*
 * Close everything: the recording is flushed and closed first.  0, or -1
 * with err set when queued samples could not be written (err may be NULL).
 * The session is empty again afterwards.
 */
int session_close(struct mt_session *s, struct mt_error *err);

#endif
