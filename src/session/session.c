/*
 * session.c - one watch: source -> model -> recorder (session.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memtop/proc.h"
#include "memtop/record.h"
#include "memtop/replay.h"
#include "memtop/session.h"
#include "memtop/tracer.h"
#include "memtop/tracestore.h"

void session_init(struct mt_session *s)
{
	memset(s, 0, sizeof(*s));
	snapshot_init(&s->snap[0]);
	snapshot_init(&s->snap[1]);
	model_init(&s->model);
	mt_error_clear(&s->rec_error);
	traced_init(&s->traced);
}

/* The flags --rss asks for. */
static unsigned read_flags(const struct mt_options *o)
{
	if (o->rss == MT_RSS_ALWAYS)
		return PROC_READ_RSS_ALWAYS;
	if (o->rss == MT_RSS_NEVER)
		return PROC_READ_RSS_NEVER;
	return 0;
}

static int open_source(struct mt_session *s, const struct mt_options *o, pid_t pid,
		       struct mt_error *err)
{
	if (o->read) {
		if (replay_open(&s->replay, o->read, o->session, err))
			return -1;
		s->pid = replay_session(s->replay)->pid;
		/* Recorded with --trace: its stacks, and its state. */
		return tracestore_load(replay_db(s->replay), replay_session(s->replay)->id,
				       &s->traced, err);
	}
	if (proc_open(&s->proc, pid, err))
		return -1;
	s->pid = pid;
	/* Opened once the process is known to be watchable. */
	return o->write ? record_open(&s->rec, o->write, o->delay, err) : 0;
}

/* --trace: refused (permissions, no tracepoints), the watch goes on with
 * snapshot diffs; traced.reason says why. */
static void start_tracer(struct mt_session *s, const struct mt_options *o)
{
	long page = sysconf(_SC_PAGESIZE);
	struct trace_options to = {
		.stack_bytes = o->trace_stack,
		.ring_pages = o->trace_buffer * (1u << 20) / (size_t)(page > 0 ? page : 4096),
	};
	struct mt_error e;
	if (o->read)
		return;
	s->traced.asked = o->trace;
	if (!o->trace)
		return;
	mt_error_clear(&e);
	if (tracer_start(&s->tracer, s->pid, &to, &e)) {
		snprintf(s->traced.reason, sizeof(s->traced.reason), "%s", e.msg);
		return;
	}
	s->traced.on = true;
}

/* What the tracer saw since the last sample (or what the recording
 * says it saw), folded with it: 0, or -1 with err. */
static int fold_traced(struct mt_session *s, struct mt_error *err)
{
	struct tracer_stats st;
	struct mt_traced *t = &s->traced;
	traced_next(t);
	if (s->replay && t->asked &&
	    tracestore_sample(replay_db(s->replay),
			      replay_sample_id(s->replay, replay_pos(s->replay) - 1), t, err))
		return -1;
	if (!s->tracer && !(s->replay && t->asked))
		return 0;
	if (s->replay) {
		if (traced_fold(t, s->have_prev ? &s->snap[!s->cur] : NULL, &s->snap[s->cur],
				&s->model.growth.events))
			return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		return 0;
	}
	if (tracer_take(s->tracer, &t->events, &t->stacks, &st))
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	t->count.total = st.events;
	t->count.lost = st.lost + st.dropped;
	t->count.records = st.records;
	t->count.failed = st.failed;
	t->count.threads = st.threads;
	t->count.stacks_seen = t->stacks.n;
	t->count.cpu = st.cpu;
	if (traced_fold(t, s->have_prev ? &s->snap[!s->cur] : NULL, &s->snap[s->cur],
			&s->model.growth.events))
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	return 0;
}

int session_open(struct mt_session *s, const struct mt_options *o, pid_t pid,
		 struct mt_error *err)
{
	s->read_flags = read_flags(o);
	if (open_source(s, o, pid, err) == 0) {
		start_tracer(s, o);
		return 0;
	}
	session_close(s, NULL);
	return -1;
}

static int read_next(struct mt_session *s, struct mt_snapshot *next, struct mt_error *err)
{
	if (s->replay)
		return replay_next(s->replay, next, err);
	return proc_read(s->proc, next, s->read_flags, err) ? -1 : 0;
}

/* A sample that cannot be written (disk full) ends the recording, not
 * the watch. */
static void record(struct mt_session *s)
{
	if (s->rec && ((s->traced.asked && record_traced(s->rec, &s->traced, &s->rec_error)) ||
		       record_sample(s->rec, &s->model, &s->snap[s->cur], &s->rec_error))) {
		record_close(s->rec);
		s->rec = NULL;
		s->rec_lost = true;
	}
}

void session_record_scan(struct mt_session *s, const struct record_scan *sc, int64_t *id)
{
	*id = 0;
	if (s->rec && record_scan(s->rec, sc, id, &s->rec_error)) {
		record_close(s->rec);
		s->rec = NULL;
		s->rec_lost = true;
	}
}

void session_record_heap(struct mt_session *s, const struct record_heap *h)
{
	if (s->rec && record_heap(s->rec, h, &s->rec_error)) {
		record_close(s->rec);
		s->rec = NULL;
		s->rec_lost = true;
	}
}

int session_next(struct mt_session *s, struct mt_error *err)
{
	struct mt_snapshot *next = &s->snap[!s->cur];
	int rc = read_next(s, next, err);
	if (rc == 0 && model_update(&s->model, s->have_snap ? &s->snap[s->cur] : NULL, next))
		rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	if (rc) {
		s->have_prev = false;
		return rc;
	}
	s->cur = !s->cur;
	s->have_prev = s->have_snap;
	s->have_snap = true;
	s->refreshes++;
	if (fold_traced(s, err))
		return -1;
	record(s);
	return 0;
}

bool session_record_lost(struct mt_session *s, struct mt_error *err)
{
	if (!s->rec_lost)
		return false;
	s->rec_lost = false;
	*err = s->rec_error;
	return true;
}

void session_restart(struct mt_session *s)
{
	model_free(&s->model);
	model_init(&s->model);
	snapshot_reset(&s->snap[0]);
	snapshot_reset(&s->snap[1]);
	s->have_snap = s->have_prev = false;
	s->refreshes = 0;
	traced_reset(&s->traced);
	if (s->replay)
		replay_rewind(s->replay);
}

int session_close(struct mt_session *s, struct mt_error *err)
{
	struct mt_error e;
	int rc = 0;
	if (s->rec && record_flush(s->rec, err ? err : &e))
		rc = -1;
	record_close(s->rec);
	tracer_stop(s->tracer);
	traced_free(&s->traced);
	replay_close(s->replay);
	if (s->proc)
		proc_close(s->proc);
	model_free(&s->model);
	snapshot_free(&s->snap[0]);
	snapshot_free(&s->snap[1]);
	session_init(s);
	return rc;
}
