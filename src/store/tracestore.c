/*
 * tracestore.c - --trace in a recording (include/memtop/tracestore.h).
 *
 * A stack is written once, when it first appears, with its frames; an
 * event names it by row id, so a million events from one code path cost
 * a million small rows and one stack.  File names (an event's file, a
 * frame's module) go to the recording's `path` table, like the regions'.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/recfile.h"
#include "memtop/tracestore.h"
#include "memtop/vec.h"

static const char tables_sql[] =
	"CREATE TABLE IF NOT EXISTS trace_session ("
	" session INTEGER PRIMARY KEY,"   /* session.id */
	" traced INTEGER NOT NULL,"       /* 1: tracing ran; 0: refused */
	" reason TEXT);"                  /* why not */
	"CREATE TABLE IF NOT EXISTS trace_stack ("
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL,"
	" idx INTEGER NOT NULL,"          /* 0, 1, ... in order of appearance */
	" frames INTEGER NOT NULL,"
	" UNIQUE (session, idx));"
	"CREATE TABLE IF NOT EXISTS trace_frame ("
	" stack INTEGER NOT NULL, idx INTEGER NOT NULL," /* innermost is 0 */
	" ip INTEGER NOT NULL, symbol TEXT NOT NULL, offset INTEGER NOT NULL,"
	" module INTEGER REFERENCES path(id), inlined INTEGER NOT NULL,"
	" PRIMARY KEY (stack, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS trace_event ("
	" sample INTEGER NOT NULL,"       /* the sample whose refresh took it */
	" idx INTEGER NOT NULL,"          /* order of the calls */
	" time REAL NOT NULL, tid INTEGER NOT NULL,"
	" call TEXT NOT NULL,"            /* mmap munmap mremap brk shmat */
	" kind TEXT NOT NULL,"            /* map unmap */
	" start INTEGER NOT NULL, len INTEGER NOT NULL,"
	" prot INTEGER, flags INTEGER,"
	" shared INTEGER,"                /* 1 shared, 0 private, NULL unknown */
	" path INTEGER REFERENCES path(id),"
	" stack INTEGER REFERENCES trace_stack(id),"
	" PRIMARY KEY (sample, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS trace_sample ("
	" sample INTEGER PRIMARY KEY,"
	" events INTEGER NOT NULL, lost INTEGER NOT NULL, failed INTEGER NOT NULL,"
	" threads INTEGER NOT NULL, untraced INTEGER NOT NULL, cpu REAL NOT NULL,"
	" stacks INTEGER NOT NULL);";

static const char *const call_names[MT_CALL_COUNT] = {
	"mmap", "munmap", "mremap", "brk", "shmat", "shmdt",
};

/* ---- staging (the recording thread) ------------------------------------ */

struct tracestore_batch {
	bool on;
	char reason[512];
	struct mt_trace_counts count;
	size_t first_stack;       /* the session's number of stacks[0] */
	struct mt_stacks stacks;  /* new since the last batch */
	struct mt_tevents events;
};

void tracestore_batch_free(struct tracestore_batch *b)
{
	if (!b)
		return;
	origins_stacks_free(&b->stacks);
	origins_events_free(&b->events);
	free(b);
}

int tracestore_stage(struct tracestore_batch **out, const struct mt_traced *t,
		     size_t *stacks_done)
{
	struct tracestore_batch *b = calloc(1, sizeof(*b));
	*out = NULL;
	if (!b)
		return -ENOMEM;
	b->on = t->on;
	memcpy(b->reason, t->reason, sizeof(b->reason));
	b->count = t->count;
	b->first_stack = *stacks_done;
	origins_stacks_init(&b->stacks);
	for (size_t i = *stacks_done; i < t->stacks.n; i++) {
		struct mt_stack st;
		if (origins_stack_build(&st, t->stacks.v[i].frames, t->stacks.v[i].n) ||
		    origins_stacks_add(&b->stacks, &st))
			goto oom;
	}
	for (size_t i = 0; i < t->events.n; i++)
		if (origins_events_push(&b->events, &t->events.v[i]))
			goto oom;
	*stacks_done = t->stacks.n;
	*out = b;
	return 0;
oom:
	tracestore_batch_free(b);
	return -ENOMEM;
}

/* ---- writing (the writer thread) --------------------------------------- */

enum { W_SESSION, W_STACK, W_FRAME, W_EVENT, W_SAMPLE, W_PATH_INS, W_PATH_GET, W_COUNT };

static const char *const writer_sql[W_COUNT] = {
	[W_SESSION] = "INSERT OR REPLACE INTO trace_session VALUES (?,?,?)",
	[W_STACK] = "INSERT INTO trace_stack (session, idx, frames) VALUES (?,?,?)",
	[W_FRAME] = "INSERT INTO trace_frame VALUES (?,?,?,?,?,?,?)",
	[W_EVENT] = "INSERT INTO trace_event VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[W_SAMPLE] = "INSERT INTO trace_sample VALUES (?,?,?,?,?,?,?,?)",
	[W_PATH_INS] = "INSERT OR IGNORE INTO path (name) VALUES (?)",
	[W_PATH_GET] = "SELECT id FROM path WHERE name = ?",
};

struct tracestore_writer {
	sqlite3_stmt *st[W_COUNT];
	int64_t session;        /* whose stacks stack_ids holds */
	int64_t *stack_ids;     /* row id of the session's stack i */
	size_t n_stacks, cap_stacks;
	bool session_written;
};

void tracestore_writer_free(struct tracestore_writer *w)
{
	if (!w)
		return;
	for (int i = 0; i < W_COUNT; i++)
		sqlite3_finalize(w->st[i]);
	free(w->stack_ids);
	free(w);
}

static int writer_make(sqlite3 *db, struct tracestore_writer **out)
{
	struct tracestore_writer *w = calloc(1, sizeof(*w));
	if (!w || sqlite3_exec(db, tables_sql, NULL, NULL, NULL) != SQLITE_OK) {
		free(w);
		return -1;
	}
	for (int i = 0; i < W_COUNT; i++)
		if (sqlite3_prepare_v3(db, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
				       NULL) != SQLITE_OK) {
			tracestore_writer_free(w);
			return -1;
		}
	*out = w;
	return 0;
}

static int step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* A path's row id (inserted when new); 0 with nothing to store. */
static int64_t path_id(struct tracestore_writer *w, const char *name)
{
	if (!name || !*name)
		return 0;
	sqlite3_stmt *ins = w->st[W_PATH_INS], *get = w->st[W_PATH_GET];
	int64_t id = -1;
	sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(get, 1, name, -1, SQLITE_TRANSIENT);
	if (step(ins) == 0 && sqlite3_step(get) == SQLITE_ROW)
		id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	return id;
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

static int write_stack(struct tracestore_writer *w, int64_t session, size_t idx,
		       const struct mt_stack *s)
{
	sqlite3_stmt *st = w->st[W_STACK], *fr = w->st[W_FRAME];
	sqlite3_bind_int64(st, 1, session);
	sqlite3_bind_int64(st, 2, (int64_t)idx);
	sqlite3_bind_int64(st, 3, s->n);
	if (step(st))
		return -1;
	int64_t id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	for (uint32_t i = 0; i < s->n; i++) {
		const struct mt_frame *f = &s->frames[i];
		int64_t mod = path_id(w, f->module);
		if (mod < 0)
			return -1;
		sqlite3_bind_int64(fr, 1, id);
		sqlite3_bind_int64(fr, 2, i);
		sqlite3_bind_int64(fr, 3, recfile_u64(f->ip));
		sqlite3_bind_text(fr, 4, f->symbol, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(fr, 5, recfile_u64(f->offset));
		bind_id(fr, 6, mod);
		sqlite3_bind_int(fr, 7, f->inlined);
		if (step(fr))
			return -1;
	}
	while (w->n_stacks <= idx) {
		if (VEC_RESERVE(w->stack_ids, w->cap_stacks, w->n_stacks, 256))
			return -1;
		w->stack_ids[w->n_stacks++] = 0;
	}
	w->stack_ids[idx] = id;
	return 0;
}

static int write_event(struct tracestore_writer *w, int64_t sample, size_t idx,
		       const struct mt_tevent *e)
{
	sqlite3_stmt *st = w->st[W_EVENT];
	int64_t path = path_id(w, e->path);
	if (path < 0)
		return -1;
	bool mapping = e->call == MT_CALL_MMAP || e->call == MT_CALL_MREMAP;
	sqlite3_bind_int64(st, 1, sample);
	sqlite3_bind_int64(st, 2, (int64_t)idx);
	sqlite3_bind_double(st, 3, e->time);
	sqlite3_bind_int64(st, 4, e->tid);
	sqlite3_bind_text(st, 5, e->call < MT_CALL_COUNT ? call_names[e->call] : "?", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->kind == MT_TEV_MAP ? "map" : "unmap", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, recfile_u64(e->start));
	sqlite3_bind_int64(st, 8, recfile_u64(e->len));
	if (e->prot >= 0)
		sqlite3_bind_int64(st, 9, e->prot);
	else
		sqlite3_bind_null(st, 9);
	if (mapping)
		sqlite3_bind_int64(st, 10, e->flags);
	else
		sqlite3_bind_null(st, 10);
	if (e->shared >= 0)
		sqlite3_bind_int(st, 11, e->shared);
	else
		sqlite3_bind_null(st, 11);
	bind_id(st, 12, path);
	bind_id(st, 13, e->stack >= 0 && (size_t)e->stack < w->n_stacks ?
		w->stack_ids[e->stack] : 0);
	return step(st);
}

int tracestore_write(sqlite3 *db, struct tracestore_writer **wp, int64_t session,
		     int64_t sample, const struct tracestore_batch *b)
{
	if (!b)
		return 0;
	if (!*wp && writer_make(db, wp))
		return -1;
	struct tracestore_writer *w = *wp;
	if (w->session != session) { /* a recorder records one session */
		w->session = session;
		w->n_stacks = 0;
		w->session_written = false;
	}
	if (!w->session_written) {
		sqlite3_stmt *st = w->st[W_SESSION];
		sqlite3_bind_int64(st, 1, session);
		sqlite3_bind_int(st, 2, b->on);
		if (b->reason[0])
			sqlite3_bind_text(st, 3, b->reason, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 3);
		if (step(st))
			return -1;
		w->session_written = true;
	}
	for (size_t i = 0; i < b->stacks.n; i++)
		if (write_stack(w, session, b->first_stack + i, &b->stacks.v[i]))
			return -1;
	for (size_t i = 0; i < b->events.n; i++)
		if (write_event(w, sample, i, &b->events.v[i]))
			return -1;
	sqlite3_stmt *st = w->st[W_SAMPLE];
	sqlite3_bind_int64(st, 1, sample);
	sqlite3_bind_int64(st, 2, recfile_u64(b->count.total));
	sqlite3_bind_int64(st, 3, recfile_u64(b->count.lost));
	sqlite3_bind_int64(st, 4, recfile_u64(b->count.failed));
	sqlite3_bind_int64(st, 5, recfile_u64(b->count.threads));
	sqlite3_bind_int64(st, 6, recfile_u64(b->count.untraced));
	sqlite3_bind_double(st, 7, b->count.cpu);
	sqlite3_bind_int64(st, 8, recfile_u64(b->count.stacks_seen));
	return step(st);
}

/* ---- reading ------------------------------------------------------------ */

static int damaged(struct mt_error *err, const char *what)
{
	return mt_error_set(err, MT_ERR_BADFILE, 0,
			    "the recording is damaged: a bad %s row (--trace tables)", what);
}

/* Append the frames read so far as stack number t->stacks.n. */
static int flush_stack(struct mt_traced *t, struct mt_frame *fr, uint32_t n)
{
	struct mt_stack st;
	return origins_stack_build(&st, fr, n) || origins_stacks_add(&t->stacks, &st) ? -1 : 0;
}

static int load_stacks(sqlite3 *db, int64_t session, struct mt_traced *t, struct mt_error *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT s.idx, s.frames, f.idx, f.ip, f.symbol, f.offset,"
			       " p.name, f.inlined FROM trace_stack s"
			       " JOIN trace_frame f ON f.stack = s.id"
			       " LEFT JOIN path p ON p.id = f.module"
			       " WHERE s.session = ? ORDER BY s.idx, f.idx", -1, &st,
			       NULL) != SQLITE_OK)
		return recfile_error(db, "reading the traced stacks", err);
	sqlite3_bind_int64(st, 1, session);
	static __thread struct mt_frame fr[ORIGINS_MAX_FRAMES];
	static __thread char names[ORIGINS_MAX_FRAMES][2][512];
	int64_t cur = -1, frames = 0;
	uint32_t n = 0;
	int rc = 0, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t idx, fidx, inl, nf;
		uint64_t ip, off;
		const char *sym, *mod;
		size_t sl, ml;
		if (!recfile_col_int(st, 0, 0, 1 << 20, &idx) ||
		    !recfile_col_int(st, 1, 0, ORIGINS_MAX_FRAMES, &nf) ||
		    !recfile_col_int(st, 2, 0, ORIGINS_MAX_FRAMES - 1, &fidx) ||
		    !recfile_col_u64(st, 3, &ip) ||
		    !recfile_col_text(st, 4, false, 511, &sym, &sl) ||
		    !recfile_col_u64(st, 5, &off) ||
		    !recfile_col_text(st, 6, true, 511, &mod, &ml) ||
		    !recfile_col_int(st, 7, 0, 1, &inl)) {
			rc = damaged(err, "trace_frame");
			break;
		}
		if (idx != cur) {
			/* The previous stack is whole, and stacks are numbered
			 * from 0 without a gap: that is how they are written. */
			if ((cur >= 0 && (int64_t)n != frames) || idx != (int64_t)t->stacks.n +
			    (cur >= 0) || (cur >= 0 && flush_stack(t, fr, n))) {
				rc = damaged(err, "trace_stack");
				break;
			}
			cur = idx;
			frames = nf;
			n = 0;
		}
		if (fidx != (int64_t)n || n >= ORIGINS_MAX_FRAMES) {
			rc = damaged(err, "trace_frame");
			break;
		}
		memcpy(names[n][0], sym, sl);
		names[n][0][sl] = '\0';
		memcpy(names[n][1], mod ? mod : "", mod ? ml : 0);
		names[n][1][mod ? ml : 0] = '\0';
		fr[n].ip = ip;
		fr[n].offset = off;
		fr[n].symbol = names[n][0];
		fr[n].module = names[n][1];
		fr[n].inlined = inl;
		n++;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = recfile_error(db, "reading the traced stacks", err);
	if (rc == 0 && cur >= 0 && ((int64_t)n != frames || flush_stack(t, fr, n)))
		rc = damaged(err, "trace_stack");
	sqlite3_finalize(st);
	return rc;
}

int tracestore_load(sqlite3 *db, int64_t session, struct mt_traced *t, struct mt_error *err)
{
	if (!recfile_has_table(db, "trace_session"))
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT traced, reason FROM trace_session WHERE session = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "reading the tracing state", err);
	sqlite3_bind_int64(st, 1, session);
	int s = sqlite3_step(st), rc = 0;
	if (s == SQLITE_ROW) {
		int64_t on;
		const char *reason;
		size_t len;
		if (!recfile_col_int(st, 0, 0, 1, &on) ||
		    !recfile_col_text(st, 1, true, sizeof(t->reason) - 1, &reason, &len)) {
			rc = damaged(err, "trace_session");
		} else {
			t->asked = true;
			t->on = on;
			memcpy(t->reason, reason ? reason : "", reason ? len : 0);
			t->reason[reason ? len : 0] = '\0';
		}
	} else if (s != SQLITE_DONE) {
		rc = recfile_error(db, "reading the tracing state", err);
	}
	sqlite3_finalize(st);
	if (rc == 0 && t->asked)
		rc = load_stacks(db, session, t, err);
	return rc;
}

static int call_of(const char *s, size_t n)
{
	for (int c = 0; c < MT_CALL_COUNT; c++)
		if (strlen(call_names[c]) == n && !memcmp(call_names[c], s, n))
			return c;
	return -1;
}

static int read_event(sqlite3_stmt *st, const struct mt_traced *t, struct mt_tevent *e,
		      char *path, size_t cap)
{
	int64_t tid, prot = -1, flags = 0, shared = -1, stack = -1;
	const char *call, *kind, *p;
	size_t cl, kl, pl;
	if (!recfile_col_real(st, 0, &e->time) || !recfile_col_int(st, 1, 0, INT32_MAX, &tid) ||
	    !recfile_col_text(st, 2, false, 16, &call, &cl) ||
	    !recfile_col_text(st, 3, false, 8, &kind, &kl) ||
	    !recfile_col_u64(st, 4, &e->start) || !recfile_col_u64(st, 5, &e->len) ||
	    (sqlite3_column_type(st, 6) != SQLITE_NULL &&
	     !recfile_col_int(st, 6, 0, 0xff, &prot)) ||
	    (sqlite3_column_type(st, 7) != SQLITE_NULL &&
	     !recfile_col_int(st, 7, INT32_MIN, INT32_MAX, &flags)) ||
	    (sqlite3_column_type(st, 8) != SQLITE_NULL &&
	     !recfile_col_int(st, 8, 0, 1, &shared)) ||
	    !recfile_col_text(st, 9, true, cap - 1, &p, &pl) ||
	    (sqlite3_column_type(st, 10) != SQLITE_NULL &&
	     !recfile_col_int(st, 10, 0, (int64_t)t->stacks.n - 1, &stack)))
		return -1;
	int c = call_of(call, cl);
	bool map = kl == 3 && !memcmp(kind, "map", 3);
	bool unmap = kl == 5 && !memcmp(kind, "unmap", 5);
	if (c < 0 || (!map && !unmap))
		return -1;
	e->tid = (int)tid;
	e->call = (uint8_t)c;
	e->kind = map ? MT_TEV_MAP : MT_TEV_UNMAP;
	e->prot = (int)prot;
	e->flags = (int)flags;
	e->shared = (int8_t)shared;
	e->fd = -1;
	e->stack = stack;
	e->path = NULL;
	if (p) {
		memcpy(path, p, pl);
		path[pl] = '\0';
		e->path = path;
	}
	return 0;
}

int tracestore_sample(sqlite3 *db, int64_t sample, struct mt_traced *t, struct mt_error *err)
{
	origins_events_clear(&t->events);
	if (!t->asked)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT e.time, e.tid, e.call, e.kind, e.start, e.len,"
			       " e.prot, e.flags, e.shared, p.name, s.idx FROM trace_event e"
			       " LEFT JOIN path p ON p.id = e.path"
			       " LEFT JOIN trace_stack s ON s.id = e.stack"
			       " WHERE e.sample = ? ORDER BY e.idx", -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "reading the traced events", err);
	sqlite3_bind_int64(st, 1, sample);
	static __thread char path[4096];
	int rc = 0, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct mt_tevent e;
		if (read_event(st, t, &e, path, sizeof(path))) {
			rc = damaged(err, "trace_event");
			break;
		}
		if (origins_events_push(&t->events, &e)) {
			rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
			break;
		}
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = recfile_error(db, "reading the traced events", err);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT events, lost, failed, threads, untraced, cpu, stacks"
			       " FROM trace_sample WHERE sample = ?", -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "reading the tracer's counters", err);
	sqlite3_bind_int64(st, 1, sample);
	if ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct mt_trace_counts *c = &t->count;
		if (!recfile_col_u64(st, 0, &c->total) || !recfile_col_u64(st, 1, &c->lost) ||
		    !recfile_col_u64(st, 2, &c->failed) || !recfile_col_u64(st, 3, &c->threads) ||
		    !recfile_col_u64(st, 4, &c->untraced) || !recfile_col_real(st, 5, &c->cpu) ||
		    !recfile_col_u64(st, 6, &c->stacks_seen) || c->stacks_seen > t->stacks.n)
			rc = damaged(err, "trace_sample");
	} else if (s != SQLITE_DONE) {
		rc = recfile_error(db, "reading the tracer's counters", err);
	}
	sqlite3_finalize(st);
	return rc;
}
