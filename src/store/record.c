/*
 * record.c - the recorder.  Consecutive snapshots are diffed against
 * what was last written: a region identical in every field the source
 * reads keeps its row, anything else ends one lifetime and starts
 * another, so the replayed snapshot is the recorded one bit for bit and
 * the model derives the same numbers from it.
 *
 * Two threads.  The caller's (the screen's, or batch mode's) does the
 * diff and queues what changed as a batch: plain values, no pointer into
 * the snapshot.  A writer thread of the recorder's own turns each batch
 * into one SQLite transaction.  So a slow disk, a WAL checkpoint's sync,
 * or the tens of thousands of rows of a big process's first sample never
 * hold up the refresh.  Lifetimes are named by handles the caller hands
 * out (0, 1, 2 ... per kind); only the writer knows their row ids.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "memtop/heapstore.h"
#include "memtop/record.h"
#include "memtop/recfile.h"
#include "memtop/scanstore.h"
#include "memtop/tracestore.h"
#include "memtop/vec.h"

/* Batches waiting for the writer before record_sample waits too: memory
 * stays bounded when the disk cannot keep up. */
#define QUEUE_MAX 8

/* ---- what the caller keeps: the last written state ---------------------- */

/* A region as last written: its handle and the figures stored for it. */
struct rec_region {
	uint64_t handle;
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	uint64_t path;   /* path handle + 1, 0 for none */
	uint8_t perms;
	uint8_t deleted; /* 1: suffix, 3: suffix and gone */
	struct mt_smaps rss;   /* as last written */
};

struct rec_thread {
	uint64_t handle;
	int tid;
	char name[16];
	char state;
	uint64_t sp;
};

/* Paths already handed a handle: an open-addressing hash set. */
struct path_slot {
	uint64_t hash;
	uint64_t handle;
	char *name;
	size_t len;
};

struct path_ids {
	struct path_slot *v;
	size_t cap;  /* a power of two */
	size_t n;
	const char *last; /* snapshot_intern hands runs the same pointer */
	uint64_t last_handle;
};

/* ---- a batch: one sample's changes, by value ---------------------------- */

struct rec_born {
	struct rec_region key;
	enum mt_category category;
	uint64_t bss_end; /* mt_region.bss_end: 0 unknown */
};

struct rec_rss {
	uint64_t handle;
	struct mt_smaps v;
};

struct rec_path {
	uint64_t handle;
	char *name;
};

struct rec_row {
	double time, mono;
	uint64_t regions, virt, rss, largest_free;
	uint64_t cat[MT_CAT_COUNT][3];
	struct mt_procinfo info;
	bool comm_changed, cmdline_changed, user_changed;
	uint64_t max_map_count, rlimit_as, mmap_min_addr;
	bool have_rss;
	double rss_time;
	/* For the session row, with the first sample. */
	int pid;
	uint64_t page_size;
};

struct rec_batch {
	struct rec_batch *next;
	uint64_t seq;
	struct rec_row row;
	struct rec_path *paths;
	size_t n_paths, cap_paths;
	struct rec_born *born;
	size_t n_born, cap_born;
	uint64_t *died;
	size_t n_died, cap_died;
	struct rec_rss *rss;
	size_t n_rss, cap_rss;
	struct rec_thread *tborn;
	size_t n_tborn, cap_tborn;
	uint64_t *tdied;
	size_t n_tdied, cap_tdied;
	struct tracestore_batch *trace; /* --trace: this sample's share, or NULL */
};

/* ---- the writer's side -------------------------------------------------- */

enum stmt {
	ST_SESSION, ST_SAMPLE, ST_PATH_INS, ST_PATH_GET, ST_REGION, ST_BSS, ST_DIED, ST_RSS,
	ST_THREAD, ST_THREAD_DIED, ST_ENDED, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SESSION] = "INSERT INTO session (pid, comm, host, kernel, memtop, delay, page_size,"
		" started) VALUES (?,?,?,?,?,?,?,?)",
	[ST_SAMPLE] = "INSERT INTO sample VALUES (NULL,?,?,?,?,?,?,?,?,"
		"?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		"?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_PATH_INS] = "INSERT OR IGNORE INTO path (name) VALUES (?)",
	[ST_PATH_GET] = "SELECT id FROM path WHERE name = ?",
	[ST_REGION] = "INSERT INTO region (session, born, start, end, perms, offset, dev_major,"
		" dev_minor, inode, path, deleted, category) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_BSS] = "INSERT INTO region_bss VALUES (?,?)",
	[ST_DIED] = "UPDATE region SET died = ? WHERE id = ?",
	[ST_RSS] = "INSERT INTO region_rss VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_THREAD] = "INSERT INTO thread (session, born, tid, name, state, sp)"
		" VALUES (?,?,?,?,?,?)",
	[ST_THREAD_DIED] = "UPDATE thread SET died = ? WHERE id = ?",
	[ST_ENDED] = "UPDATE session SET ended = ? WHERE id = ?",
};

/* Row ids of the path handles, grown as handles come (a path keeps its
 * row for the whole session). */
struct rowids {
	int64_t *v;
	size_t n, cap;
};

/*
 * Row ids of the region and thread lifetimes alive: a hash map from
 * handle to row id, an entry removed when its lifetime ends, so that
 * memory follows what the target has mapped now, not all it ever had
 * (a churning target makes hundreds of thousands of lifetimes a day).
 * Open addressing, linear probing, deletion by backward shift.
 */
struct live_slot {
	uint64_t handle; /* + 1: 0 is an empty slot */
	int64_t id;
};

struct live_ids {
	struct live_slot *v;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

struct mt_recorder {
	char *path;
	double delay;

	/* The caller's thread only. */
	struct rec_region *prev, *cur;
	size_t n_prev, n_cur, cap_prev, cap_cur;
	struct rec_thread *tprev, *tcur;
	size_t n_tprev, n_tcur, cap_tprev, cap_tcur;
	struct path_ids paths;
	uint64_t next_region, next_thread, next_path; /* handles */
	char comm[64], cmdline[256], user[64];        /* as last queued */
	unsigned long samples;                         /* queued */
	struct tracestore_batch *trace_staged;         /* for the next sample */
	size_t trace_stacks;                           /* stacks staged so far */

	/* The writer's thread only (and the caller's once it has stopped,
	 * or while it waits for the lock with the queue empty). */
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int64_t session;   /* 0 until the first sample */
	int64_t sample;    /* id of the last sample written */
	struct live_ids region_ids, thread_ids;
	struct rowids path_ids;
	struct tracestore_writer *trace_writer;

	/* Shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* the writer: a batch, or stop */
	pthread_cond_t idle;  /* the caller: room in the queue, or all written */
	struct rec_batch *head, *tail;
	size_t pending;       /* queued or being written */
	bool stop;
	bool failed;          /* a write failed: nothing more is taken */
	struct mt_error error;
	bool thread_started;
	pthread_t writer;
};

/* ---- binding ------------------------------------------------------------ */

static void bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v);
}

/* MT_UNKNOWN (and "unlimited") as NULL. */
static void bind_opt(sqlite3_stmt *s, int i, uint64_t v)
{
	if (v == RECFILE_NULL_U64)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, recfile_u64(v));
}

static void bind_text(sqlite3_stmt *s, int i, const char *t, size_t len)
{
	sqlite3_bind_text(s, i, t, (int)len, SQLITE_TRANSIENT);
}

/* Step a statement that returns no row, and reset it for reuse.  Every
 * statement binds all its parameters each time, so none is cleared. */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int rowid_set(struct rowids *m, uint64_t handle, int64_t id)
{
	while (m->n <= handle) {
		if (VEC_RESERVE(m->v, m->cap, m->n, 1024))
			return -1;
		m->v[m->n++] = 0;
	}
	m->v[handle] = id;
	return 0;
}

static int64_t rowid_get(const struct rowids *m, uint64_t handle)
{
	return handle < m->n ? m->v[handle] : 0;
}

static size_t live_hash(uint64_t handle, size_t cap)
{
	return (size_t)((handle * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static struct live_slot *live_find(const struct live_ids *m, uint64_t handle)
{
	if (!m->cap)
		return NULL;
	for (size_t i = live_hash(handle, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct live_slot *s = &m->v[i];
		if (s->handle == handle + 1)
			return s;
		if (s->handle == 0)
			return NULL;
	}
}

static void live_insert(struct live_ids *m, uint64_t handle, int64_t id)
{
	size_t i = live_hash(handle, m->cap);
	while (m->v[i].handle != 0 && m->v[i].handle != handle + 1)
		i = (i + 1) & (m->cap - 1);
	m->n += m->v[i].handle == 0;
	m->v[i] = (struct live_slot){ handle + 1, id };
}

/* Grow at 1/2 full, shrink at 1/8: the table follows the live count. */
static int live_resize(struct live_ids *m, size_t cap)
{
	struct live_ids t = { calloc(cap, sizeof(*t.v)), cap, 0 };
	if (!t.v)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].handle)
			live_insert(&t, m->v[i].handle - 1, m->v[i].id);
	free(m->v);
	*m = t;
	return 0;
}

static int live_set(struct live_ids *m, uint64_t handle, int64_t id)
{
	if ((m->n + 1) * 2 > m->cap && live_resize(m, m->cap ? m->cap * 2 : 1024))
		return -1;
	live_insert(m, handle, id);
	return 0;
}

static int64_t live_get(const struct live_ids *m, uint64_t handle)
{
	const struct live_slot *s = live_find(m, handle);
	return s ? s->id : 0;
}

/* The row id of a lifetime that has ended, forgotten. */
static int64_t live_take(struct live_ids *m, uint64_t handle)
{
	struct live_slot *s = live_find(m, handle);
	if (!s)
		return 0;
	int64_t id = s->id;
	size_t i = (size_t)(s - m->v), mask = m->cap - 1;
	/* Backward shift: move up each later entry of the run that may sit
	 * in the hole, so no probe stops early. */
	for (size_t j = (i + 1) & mask; m->v[j].handle; j = (j + 1) & mask) {
		size_t home = live_hash(m->v[j].handle - 1, m->cap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i] = (struct live_slot){ 0, 0 };
	m->n--;
	if (m->cap > 1024 && m->n * 8 < m->cap)
		live_resize(m, m->cap / 2); /* on failure the table just stays big */
	return id;
}

/* ---- writing a batch (the writer thread) -------------------------------- */

static int write_session(struct mt_recorder *r, const struct rec_row *row)
{
	struct utsname u;
	sqlite3_stmt *st = r->st[ST_SESSION];
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	bind_i64(st, 1, row->pid);
	bind_text(st, 2, row->info.comm, strlen(row->info.comm));
	bind_text(st, 3, u.nodename, strlen(u.nodename));
	bind_text(st, 4, u.release, strlen(u.release));
	bind_text(st, 5, MEMTOP_VERSION, strlen(MEMTOP_VERSION));
	sqlite3_bind_double(st, 6, r->delay);
	bind_i64(st, 7, (int64_t)row->page_size);
	sqlite3_bind_double(st, 8, row->time);
	if (run(st))
		return -1;
	r->session = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static void bind_if(sqlite3_stmt *st, int i, bool changed, const char *text)
{
	if (changed)
		bind_text(st, i, text, strlen(text));
	else
		sqlite3_bind_null(st, i);
}

static int write_sample(struct mt_recorder *r, const struct rec_batch *b)
{
	const struct rec_row *w = &b->row;
	sqlite3_stmt *st = r->st[ST_SAMPLE];
	int i = 1;
	bind_i64(st, i++, r->session);
	bind_i64(st, i++, (int64_t)b->seq);
	sqlite3_bind_double(st, i++, w->time);
	sqlite3_bind_double(st, i++, w->mono);
	bind_i64(st, i++, recfile_u64(w->regions));
	bind_i64(st, i++, recfile_u64(w->virt));
	bind_opt(st, i++, w->rss);
	bind_i64(st, i++, recfile_u64(w->largest_free));
	for (int c = 0; c < MT_CAT_COUNT; c++) {
		bind_i64(st, i++, recfile_u64(w->cat[c][0]));
		bind_i64(st, i++, recfile_u64(w->cat[c][1]));
		bind_opt(st, i++, w->cat[c][2]);
	}
	bind_if(st, i++, w->comm_changed, w->info.comm);
	bind_if(st, i++, w->cmdline_changed, w->info.cmdline);
	bind_if(st, i++, w->user_changed, w->info.user);
	bind_text(st, i++, &w->info.state, w->info.state ? 1 : 0);
	bind_i64(st, i++, w->info.threads);
	bind_i64(st, i++, recfile_u64(w->info.rss));
	bind_i64(st, i++, recfile_u64(w->info.vsz));
	sqlite3_bind_double(st, i++, w->info.start_time);
	sqlite3_bind_double(st, i++, w->info.uptime);
	bind_i64(st, i++, recfile_u64(w->max_map_count));
	bind_opt(st, i++, w->rlimit_as);
	bind_i64(st, i++, recfile_u64(w->mmap_min_addr));
	if (w->have_rss)
		sqlite3_bind_double(st, i++, w->rss_time);
	else
		sqlite3_bind_null(st, i++);
	if (run(st))
		return -1;
	r->sample = sqlite3_last_insert_rowid(r->db);
	return 0;
}

/* A path row: inserted when new (the file may hold it from a session
 * before), then its id looked up. */
static int write_path(struct mt_recorder *r, const struct rec_path *p)
{
	sqlite3_stmt *ins = r->st[ST_PATH_INS], *get = r->st[ST_PATH_GET];
	size_t len = strlen(p->name);
	int64_t id = 0;
	bind_text(ins, 1, p->name, len);
	bind_text(get, 1, p->name, len);
	if (run(ins) == 0 && sqlite3_step(get) == SQLITE_ROW)
		id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	return id > 0 ? rowid_set(&r->path_ids, p->handle, id) : -1;
}

static int write_born(struct mt_recorder *r, const struct rec_born *b)
{
	const struct rec_region *k = &b->key;
	sqlite3_stmt *st = r->st[ST_REGION];
	char perms[5];
	const char *cat = region_category_name(b->category);
	region_perms_str(k->perms, perms);
	bind_i64(st, 1, r->session);
	bind_i64(st, 2, r->sample);
	bind_i64(st, 3, recfile_u64(k->start));
	bind_i64(st, 4, recfile_u64(k->end));
	bind_text(st, 5, perms, 4);
	bind_i64(st, 6, recfile_u64(k->offset));
	bind_i64(st, 7, k->dev_major);
	bind_i64(st, 8, k->dev_minor);
	bind_i64(st, 9, recfile_u64(k->inode));
	if (k->path)
		bind_i64(st, 10, rowid_get(&r->path_ids, k->path - 1));
	else
		sqlite3_bind_null(st, 10);
	bind_i64(st, 11, k->deleted);
	bind_text(st, 12, cat, strlen(cat));
	if (run(st))
		return -1;
	int64_t id = sqlite3_last_insert_rowid(r->db);
	if (b->bss_end) {
		bind_i64(r->st[ST_BSS], 1, id);
		bind_i64(r->st[ST_BSS], 2, recfile_u64(b->bss_end));
		if (run(r->st[ST_BSS]))
			return -1;
	}
	return live_set(&r->region_ids, k->handle, id);
}

static int write_died(struct mt_recorder *r, enum stmt which, int64_t id)
{
	sqlite3_stmt *st = r->st[which];
	bind_i64(st, 1, r->sample);
	bind_i64(st, 2, id);
	return run(st);
}

static int write_rss(struct mt_recorder *r, const struct rec_rss *x)
{
	sqlite3_stmt *st = r->st[ST_RSS];
	bind_i64(st, 1, r->sample);
	bind_i64(st, 2, live_get(&r->region_ids, x->handle));
	for (int f = 0; f < MT_SMAPS_FIELDS; f++)
		bind_opt(st, 3 + f, x->v.v[f]);
	return run(st);
}

static int write_thread(struct mt_recorder *r, const struct rec_thread *t)
{
	sqlite3_stmt *st = r->st[ST_THREAD];
	bind_i64(st, 1, r->session);
	bind_i64(st, 2, r->sample);
	bind_i64(st, 3, t->tid);
	bind_text(st, 4, t->name, strnlen(t->name, sizeof(t->name)));
	bind_text(st, 5, &t->state, t->state ? 1 : 0);
	bind_i64(st, 6, recfile_u64(t->sp));
	if (run(st))
		return -1;
	return live_set(&r->thread_ids, t->handle, sqlite3_last_insert_rowid(r->db));
}

static int write_rows(struct mt_recorder *r, const struct rec_batch *b)
{
	if ((b->seq == 0 && write_session(r, &b->row)) || write_sample(r, b))
		return -1;
	for (size_t i = 0; i < b->n_paths; i++)
		if (write_path(r, &b->paths[i]))
			return -1;
	for (size_t i = 0; i < b->n_died; i++)
		if (write_died(r, ST_DIED, live_take(&r->region_ids, b->died[i])))
			return -1;
	for (size_t i = 0; i < b->n_born; i++)
		if (write_born(r, &b->born[i]))
			return -1;
	for (size_t i = 0; i < b->n_rss; i++)
		if (write_rss(r, &b->rss[i]))
			return -1;
	for (size_t i = 0; i < b->n_tdied; i++)
		if (write_died(r, ST_THREAD_DIED, live_take(&r->thread_ids, b->tdied[i])))
			return -1;
	for (size_t i = 0; i < b->n_tborn; i++)
		if (write_thread(r, &b->tborn[i]))
			return -1;
	return tracestore_write(r->db, &r->trace_writer, r->session, r->sample, b->trace);
}

/* One sample, one transaction: all of it is in the file or none. */
static int write_batch(struct mt_recorder *r, const struct rec_batch *b, struct mt_error *err)
{
	const char *what = "writing a sample";
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		what = "starting a sample";
	else if (write_rows(r, b) == 0 &&
		 sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	recfile_error(r->db, what, err);
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	size_t n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": recording to %s stopped", r->path);
	return -1;
}

static void batch_free(struct rec_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_paths; i++)
		free(b->paths[i].name);
	free(b->paths);
	free(b->born);
	free(b->died);
	free(b->rss);
	free(b->tborn);
	free(b->tdied);
	tracestore_batch_free(b->trace);
	free(b);
}

static void *writer_main(void *arg)
{
	struct mt_recorder *r = arg;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->head && !r->stop)
			pthread_cond_wait(&r->wake, &r->lock);
		struct rec_batch *b = r->head;
		if (!b)
			break;
		r->head = b->next;
		if (!r->head)
			r->tail = NULL;
		bool skip = r->failed;
		pthread_mutex_unlock(&r->lock);

		struct mt_error err;
		mt_error_clear(&err);
		int rc = skip ? 0 : write_batch(r, b, &err);
		batch_free(b);

		pthread_mutex_lock(&r->lock);
		if (rc) {
			r->failed = true;
			r->error = err;
		}
		r->pending--;
		pthread_cond_broadcast(&r->idle);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- opening and closing ------------------------------------------------ */

static int start_writer(struct mt_recorder *r, struct mt_error *err)
{
	sigset_t all, old;
	/* Signals are the caller's business (the screen restores the
	 * terminal on SIGINT): the writer takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&r->writer, NULL, writer_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return mt_error_set(err, MT_ERR_OTHER, rc, "cannot start the recorder: %s",
				    strerror(rc));
	r->thread_started = true;
	return 0;
}

int record_open(struct mt_recorder **out, const char *path, double delay, struct mt_error *err)
{
	struct mt_recorder *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	}
	r->delay = delay;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	pthread_cond_init(&r->idle, NULL);
	if (recfile_open(&r->db, path, RECFILE_WRITE, err)) {
		record_close(r);
		return -1;
	}
	/* Added after schema 1 shipped: a table of its own, so that files
	 * of either age replay in either memtop.  New files have it from
	 * their schema; an older file gets it when a session is added. */
	if (!recfile_has_later(r->db) &&
	    sqlite3_exec(r->db, recfile_later_sql, NULL, NULL, NULL) != SQLITE_OK) {
		recfile_error(r->db, path, err);
		record_close(r);
		return -1;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(r->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i],
				       NULL) != SQLITE_OK) {
			recfile_error(r->db, path, err);
			record_close(r);
			return -1;
		}
	}
	if (start_writer(r, err)) {
		record_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* Wait until every queued batch is written; then the caller may use the
 * database itself, holding the lock.  Returns with the lock held. */
static void drain_locked(struct mt_recorder *r)
{
	pthread_mutex_lock(&r->lock);
	while (r->pending > 0)
		pthread_cond_wait(&r->idle, &r->lock);
}

int record_flush(struct mt_recorder *r, struct mt_error *err)
{
	drain_locked(r);
	int rc = 0;
	if (r->failed) {
		if (err)
			*err = r->error;
		rc = -1;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static void paths_free(struct path_ids *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->v[i].name);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void record_close(struct mt_recorder *r)
{
	if (!r)
		return;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->writer, NULL); /* the queue is written first */
	}
	if (r->session && !r->failed) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		sqlite3_bind_double(r->st[ST_ENDED], 1, now.tv_sec + now.tv_nsec / 1e9);
		bind_i64(r->st[ST_ENDED], 2, r->session);
		run(r->st[ST_ENDED]);
	}
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(r->st[i]);
	tracestore_writer_free(r->trace_writer);
	tracestore_batch_free(r->trace_staged);
	/* Also after a failed write: the file must be left out of WAL mode,
	 * replayable from a read-only place. */
	recfile_close(r->db, true);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->idle);
	paths_free(&r->paths);
	free(r->region_ids.v);
	free(r->thread_ids.v);
	free(r->path_ids.v);
	free(r->prev);
	free(r->cur);
	free(r->tprev);
	free(r->tcur);
	free(r->path);
	free(r);
}

unsigned long record_samples(const struct mt_recorder *r)
{
	return r->samples;
}

const char *record_path(const struct mt_recorder *r)
{
	return r->path;
}

/* ---- the diff (the caller's thread) ------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static int paths_grow(struct path_ids *p)
{
	size_t cap = p->cap ? p->cap * 2 : 256;
	struct path_slot *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		if (!p->v[i].name)
			continue;
		size_t j = p->v[i].hash & (cap - 1);
		while (v[j].name)
			j = (j + 1) & (cap - 1);
		v[j] = p->v[i];
	}
	free(p->v);
	p->v = v;
	p->cap = cap;
	return 0;
}

/* The handle + 1 of a path, queuing it in b when first seen; 0 for none;
 * -1 when out of memory. */
static int64_t path_handle(struct mt_recorder *r, struct rec_batch *b, const char *name,
			   size_t len)
{
	struct path_ids *p = &r->paths;
	if (len == 0)
		return 0;
	if (name == p->last)
		return (int64_t)p->last_handle + 1;
	if (p->n * 2 >= p->cap && paths_grow(p))
		return -1;
	uint64_t h = fnv1a(name, len);
	size_t j = h & (p->cap - 1);
	for (; p->v[j].name; j = (j + 1) & (p->cap - 1)) {
		struct path_slot *e = &p->v[j];
		if (e->hash == h && e->len == len && !memcmp(e->name, name, len)) {
			p->last = name;
			p->last_handle = e->handle;
			return (int64_t)e->handle + 1;
		}
	}
	char *mine = strndup(name, len), *queued = strndup(name, len);
	if (!mine || !queued || VEC_RESERVE(b->paths, b->cap_paths, b->n_paths, 16)) {
		free(mine);
		free(queued);
		return -1;
	}
	uint64_t handle = r->next_path++;
	b->paths[b->n_paths++] = (struct rec_path){ .handle = handle, .name = queued };
	p->v[j] = (struct path_slot){ .hash = h, .handle = handle, .name = mine, .len = len };
	p->n++;
	p->last = name;
	p->last_handle = handle;
	return (int64_t)handle + 1;
}

static void region_key(struct rec_region *k, const struct mt_region *g, uint64_t path)
{
	memset(k, 0, sizeof(*k));
	k->start = g->start;
	k->end = g->end;
	k->offset = g->offset;
	k->inode = g->inode;
	k->dev_major = g->dev_major;
	k->dev_minor = g->dev_minor;
	k->path = path;
	k->perms = g->perms;
	k->deleted = (uint8_t)((g->deleted_suffix ? 1 : 0) | (g->deleted ? 2 : 0));
	for (int f = 0; f < MT_SMAPS_FIELDS; f++)
		k->rss.v[f] = MT_UNKNOWN;
}

static bool same_region(const struct rec_region *a, const struct rec_region *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->path == b->path && a->perms == b->perms &&
	       a->deleted == b->deleted;
}

static int queue_died(uint64_t **v, size_t *n, size_t *cap, uint64_t handle)
{
	if (VEC_RESERVE(*v, *cap, *n, 64))
		return -1;
	(*v)[(*n)++] = handle;
	return 0;
}

static int queue_born(struct mt_recorder *r, struct rec_batch *b, struct rec_region *k,
		      const struct mt_region *g)
{
	if (VEC_RESERVE(b->born, b->cap_born, b->n_born, 64))
		return -1;
	k->handle = r->next_region++;
	b->born[b->n_born++] = (struct rec_born){ .key = *k, .category = g->category,
						  .bss_end = g->bss_end };
	return 0;
}

/* A row of figures when any of the seven changed since the last row. */
static int queue_rss(struct rec_batch *b, struct rec_region *k, const struct mt_region *g)
{
	if (!memcmp(&g->smaps, &k->rss, sizeof(k->rss)))
		return 0;
	k->rss = g->smaps;
	if (VEC_RESERVE(b->rss, b->cap_rss, b->n_rss, 64))
		return -1;
	b->rss[b->n_rss++] = (struct rec_rss){ .handle = k->handle, .v = g->smaps };
	return 0;
}

/*
 * Walk the previous regions and the snapshot's together, both sorted by
 * start: a previous region not matched by an identical one has died.
 */
static int diff_regions(struct mt_recorder *r, struct rec_batch *b, const struct mt_snapshot *s)
{
	size_t j = 0;
	r->n_cur = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *g = &s->regions[i];
		int64_t path = path_handle(r, b, g->path, g->path_len);
		if (path < 0 || VEC_RESERVE(r->cur, r->cap_cur, r->n_cur, 256))
			return -1;
		struct rec_region *k = &r->cur[r->n_cur++];
		region_key(k, g, (uint64_t)path);
		for (; j < r->n_prev && r->prev[j].start < g->start; j++)
			if (queue_died(&b->died, &b->n_died, &b->cap_died, r->prev[j].handle))
				return -1;
		if (j < r->n_prev && same_region(&r->prev[j], k)) {
			k->handle = r->prev[j].handle;
			k->rss = r->prev[j].rss;
			j++;
		} else if (queue_born(r, b, k, g)) {
			return -1;
		}
		if (queue_rss(b, k, g))
			return -1;
	}
	for (; j < r->n_prev; j++)
		if (queue_died(&b->died, &b->n_died, &b->cap_died, r->prev[j].handle))
			return -1;
	return 0;
}

static bool same_thread(const struct rec_thread *a, const struct mt_thread *t)
{
	return a->tid == t->tid && a->state == t->state && a->sp == t->sp &&
	       !strncmp(a->name, t->name, sizeof(a->name));
}

static int queue_thread(struct mt_recorder *r, struct rec_batch *b, struct rec_thread *k,
			const struct mt_thread *t)
{
	if (VEC_RESERVE(b->tborn, b->cap_tborn, b->n_tborn, 16))
		return -1;
	k->handle = r->next_thread++;
	k->tid = t->tid;
	memcpy(k->name, t->name, sizeof(k->name));
	k->state = t->state;
	k->sp = t->sp;
	b->tborn[b->n_tborn++] = *k;
	return 0;
}

/* Threads as regions, keyed by tid (the source sorts them by it). */
static int diff_threads(struct mt_recorder *r, struct rec_batch *b, const struct mt_snapshot *s)
{
	size_t j = 0;
	r->n_tcur = 0;
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct mt_thread *t = &s->threads[i];
		if (VEC_RESERVE(r->tcur, r->cap_tcur, r->n_tcur, 16))
			return -1;
		struct rec_thread *k = &r->tcur[r->n_tcur++];
		for (; j < r->n_tprev && r->tprev[j].tid < t->tid; j++)
			if (queue_died(&b->tdied, &b->n_tdied, &b->cap_tdied, r->tprev[j].handle))
				return -1;
		if (j < r->n_tprev && same_thread(&r->tprev[j], t)) {
			*k = r->tprev[j++];
			continue;
		}
		if (j < r->n_tprev && r->tprev[j].tid == t->tid &&
		    queue_died(&b->tdied, &b->n_tdied, &b->cap_tdied, r->tprev[j++].handle))
			return -1;
		if (queue_thread(r, b, k, t))
			return -1;
	}
	for (; j < r->n_tprev; j++)
		if (queue_died(&b->tdied, &b->n_tdied, &b->cap_tdied, r->tprev[j].handle))
			return -1;
	return 0;
}

/* Text stored only when it changed since the last sample. */
static bool changed(char *last, size_t cap, const char *now)
{
	if (!strcmp(last, now) && last[0])
		return false;
	snprintf(last, cap, "%s", now);
	return true;
}

static void fill_row(struct mt_recorder *r, struct rec_row *w, const struct mt_model *m,
		     const struct mt_snapshot *s)
{
	w->time = s->time;
	w->mono = s->mono;
	w->regions = m->total.regions;
	w->virt = m->total.virt;
	w->rss = m->total.rss;
	w->largest_free = m->headroom.largest_free;
	for (int c = 0; c < MT_CAT_COUNT; c++) {
		w->cat[c][0] = m->cats[c].regions;
		w->cat[c][1] = m->cats[c].virt;
		w->cat[c][2] = m->cats[c].rss;
	}
	w->info = s->info;
	w->comm_changed = changed(r->comm, sizeof(r->comm), s->info.comm);
	w->cmdline_changed = changed(r->cmdline, sizeof(r->cmdline), s->info.cmdline);
	w->user_changed = changed(r->user, sizeof(r->user), s->info.user);
	w->max_map_count = s->max_map_count;
	w->rlimit_as = s->rlimit_as;
	w->mmap_min_addr = s->mmap_min_addr;
	w->have_rss = s->have_rss;
	w->rss_time = s->rss_time;
	w->pid = s->pid;
	w->page_size = s->page_size;
}

static void swap_buffers(struct mt_recorder *r)
{
	struct rec_region *v = r->prev;
	size_t cap = r->cap_prev;
	r->prev = r->cur, r->cap_prev = r->cap_cur, r->n_prev = r->n_cur;
	r->cur = v, r->cap_cur = cap, r->n_cur = 0;
	struct rec_thread *t = r->tprev;
	cap = r->cap_tprev;
	r->tprev = r->tcur, r->cap_tprev = r->cap_tcur, r->n_tprev = r->n_tcur;
	r->tcur = t, r->cap_tcur = cap, r->n_tcur = 0;
}

/* Hand b to the writer, waiting while the queue is full. */
static int enqueue(struct mt_recorder *r, struct rec_batch *b, struct mt_error *err)
{
	pthread_mutex_lock(&r->lock);
	while (r->pending >= QUEUE_MAX && !r->failed)
		pthread_cond_wait(&r->idle, &r->lock);
	if (r->failed) {
		*err = r->error;
		pthread_mutex_unlock(&r->lock);
		batch_free(b);
		return -1;
	}
	if (r->tail)
		r->tail->next = b;
	else
		r->head = b;
	r->tail = b;
	r->pending++;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int record_sample(struct mt_recorder *r, const struct mt_model *m,
		  const struct mt_snapshot *s, struct mt_error *err)
{
	struct rec_batch *b = calloc(1, sizeof(*b));
	if (!b || diff_regions(r, b, s) || diff_threads(r, b, s)) {
		batch_free(b);
		/* The diff state is half-updated: no sample after this one
		 * could be written consistently. */
		pthread_mutex_lock(&r->lock);
		r->failed = true;
		mt_error_set(&r->error, MT_ERR_OTHER, ENOMEM,
			     "out of memory: recording to %s stopped", r->path);
		*err = r->error;
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	b->seq = r->samples;
	b->trace = r->trace_staged;
	r->trace_staged = NULL;
	fill_row(r, &b->row, m, s);
	if (enqueue(r, b, err))
		return -1;
	swap_buffers(r);
	r->samples++;
	return 0;
}

int record_traced(struct mt_recorder *r, const struct mt_traced *t, struct mt_error *err)
{
	tracestore_batch_free(r->trace_staged);
	r->trace_staged = NULL;
	if (tracestore_stage(&r->trace_staged, t, &r->trace_stacks) == 0)
		return 0;
	pthread_mutex_lock(&r->lock);
	r->failed = true;
	mt_error_set(&r->error, MT_ERR_OTHER, ENOMEM, "out of memory: recording to %s stopped",
		     r->path);
	*err = r->error;
	pthread_mutex_unlock(&r->lock);
	return -1;
}

/* A scan or a census, in its own transaction. */
typedef int (*store_fn)(sqlite3 *db, int64_t session, int64_t sample, const void *what,
			int64_t *id);

static int save_scan_fn(sqlite3 *db, int64_t session, int64_t sample, const void *what,
			int64_t *id)
{
	return scanstore_save(db, session, sample, what, id);
}

static int save_heap_fn(sqlite3 *db, int64_t session, int64_t sample, const void *what,
			int64_t *id)
{
	return heapstore_save(db, session, sample, what, id);
}

/*
 * Written by the caller's thread, once the writer has written every
 * sample before it (the stored thing names the last one) and while it
 * waits; a failure stops the recording, as the writer's own do.
 */
static int store(struct mt_recorder *r, const char *label, store_fn save, const void *what,
		 int64_t *id, struct mt_error *err)
{
	drain_locked(r);
	int rc = -1;
	if (r->failed)
		*err = r->error;
	else if (!r->session)
		mt_error_set(err, MT_ERR_OTHER, 0, "recording to %s has no sample yet", r->path);
	else if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		 save(r->db, r->session, r->sample, what, id) ||
		 sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		recfile_error(r->db, label, err);
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, ": recording to %s stopped", r->path);
		r->failed = true;
		r->error = *err;
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int record_scan(struct mt_recorder *r, const struct record_scan *sc, int64_t *id,
		struct mt_error *err)
{
	return store(r, "storing a scan", save_scan_fn, sc, id, err);
}

int record_heap(struct mt_recorder *r, const struct record_heap *h, struct mt_error *err)
{
	int64_t id;
	return store(r, "storing a heap census", save_heap_fn, h, &id, err);
}
