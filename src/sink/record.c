/*
 * record.c - the recorder.  Consecutive snapshots are diffed against
 * what was last written: a region identical in every field the source
 * reads keeps its row, anything else ends one lifetime and starts
 * another, so the replayed snapshot is the recorded one bit for bit and
 * the model derives the same numbers from it.
 */
#include <errno.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "memtop/record.h"
#include "memtop/recfile.h"
#include "memtop/scanstore.h"
#include "memtop/vec.h"

#define RSS_FIELDS 7

/* A region as last written: its row id and the figures stored for it. */
struct rec_region {
	int64_t id;
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	int64_t path;   /* path.id, 0 for none */
	uint8_t perms;
	uint8_t deleted; /* 1: suffix, 3: suffix and gone */
	uint64_t rss[RSS_FIELDS];
};

struct rec_thread {
	int64_t id;
	int tid;
	char name[16];
	char state;
	uint64_t sp;
};

/* Paths already in the path table: an open-addressing hash set. */
struct path_slot {
	uint64_t hash;
	int64_t id;
	char *name;
	size_t len;
};

struct path_ids {
	struct path_slot *v;
	size_t cap;  /* a power of two */
	size_t n;
	const char *last; /* snapshot_intern hands runs the same pointer */
	int64_t last_id;
};

enum stmt {
	ST_SESSION, ST_SAMPLE, ST_PATH_INS, ST_PATH_GET, ST_REGION, ST_DIED, ST_RSS,
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
	[ST_DIED] = "UPDATE region SET died = ? WHERE id = ?",
	[ST_RSS] = "INSERT INTO region_rss VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_THREAD] = "INSERT INTO thread (session, born, tid, name, state, sp)"
		" VALUES (?,?,?,?,?,?)",
	[ST_THREAD_DIED] = "UPDATE thread SET died = ? WHERE id = ?",
	[ST_ENDED] = "UPDATE session SET ended = ? WHERE id = ?",
};

struct mt_recorder {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	char *path;
	double delay;
	int64_t session;     /* 0 until the first sample */
	int64_t sample;      /* id of the last sample written */
	unsigned long samples;
	bool failed;         /* a write failed: the recorder takes no more */

	struct rec_region *prev, *cur;
	size_t n_prev, n_cur, cap_prev, cap_cur;
	struct rec_thread *tprev, *tcur;
	size_t n_tprev, n_tcur, cap_tprev, cap_tcur;
	struct path_ids paths;
	char comm[64], cmdline[256], user[64]; /* as last written */
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

/* Step a statement that returns no row, and reset it for reuse. */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* ---- paths -------------------------------------------------------------- */

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

static void paths_free(struct path_ids *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->v[i].name);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* The path row of name, inserted when new: its id, or -1. */
static int64_t path_id(struct mt_recorder *r, const char *name, size_t len)
{
	struct path_ids *p = &r->paths;
	if (len == 0)
		return 0;
	if (name == p->last)
		return p->last_id;
	if (p->n * 2 >= p->cap && paths_grow(p))
		return -1;
	uint64_t h = fnv1a(name, len);
	size_t j = h & (p->cap - 1);
	for (; p->v[j].name; j = (j + 1) & (p->cap - 1)) {
		struct path_slot *e = &p->v[j];
		if (e->hash == h && e->len == len && !memcmp(e->name, name, len)) {
			p->last = name;
			return p->last_id = e->id;
		}
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, name, len);
	copy[len] = '\0';
	sqlite3_stmt *ins = r->st[ST_PATH_INS], *get = r->st[ST_PATH_GET];
	bind_text(ins, 1, name, len);
	bind_text(get, 1, name, len);
	int64_t id = -1;
	if (run(ins) == 0 && sqlite3_step(get) == SQLITE_ROW)
		id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	if (id <= 0) {
		free(copy);
		return -1;
	}
	p->v[j] = (struct path_slot){ .hash = h, .id = id, .name = copy, .len = len };
	p->n++;
	p->last = name;
	return p->last_id = id;
}

/* ---- opening and closing ----------------------------------------------- */

int record_open(struct mt_recorder **out, const char *path, double delay, struct mt_error *err)
{
	struct mt_recorder *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return mt_error_set(err, MT_EXIT_FAILURE, ENOMEM, "out of memory");
	}
	r->delay = delay;
	if (recfile_open(&r->db, path, RECFILE_WRITE, err)) {
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
	*out = r;
	return 0;
}

void record_close(struct mt_recorder *r)
{
	if (!r)
		return;
	if (r->session && !r->failed) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		sqlite3_bind_double(r->st[ST_ENDED], 1, now.tv_sec + now.tv_nsec / 1e9);
		bind_i64(r->st[ST_ENDED], 2, r->session);
		run(r->st[ST_ENDED]);
	}
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(r->st[i]);
	recfile_close(r->db, !r->failed);
	paths_free(&r->paths);
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

/* ---- a sample ---------------------------------------------------------- */

static int write_session(struct mt_recorder *r, const struct mt_snapshot *s)
{
	struct utsname u;
	sqlite3_stmt *st = r->st[ST_SESSION];
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	bind_i64(st, 1, s->pid);
	bind_text(st, 2, s->info.comm, strlen(s->info.comm));
	bind_text(st, 3, u.nodename, strlen(u.nodename));
	bind_text(st, 4, u.release, strlen(u.release));
	bind_text(st, 5, MEMTOP_VERSION, strlen(MEMTOP_VERSION));
	sqlite3_bind_double(st, 6, r->delay);
	bind_i64(st, 7, (int64_t)s->page_size);
	sqlite3_bind_double(st, 8, s->time);
	if (run(st))
		return -1;
	r->session = sqlite3_last_insert_rowid(r->db);
	return 0;
}

/* Bind text that is stored only when it changed since the last sample. */
static void bind_changed(sqlite3_stmt *st, int i, char *last, size_t cap, const char *now)
{
	if (strcmp(last, now) != 0 || !last[0]) {
		bind_text(st, i, now, strlen(now));
		snprintf(last, cap, "%s", now);
	}
}

static int write_sample(struct mt_recorder *r, const struct mt_model *m,
			const struct mt_snapshot *s)
{
	sqlite3_stmt *st = r->st[ST_SAMPLE];
	int i = 1;
	bind_i64(st, i++, r->session);
	bind_i64(st, i++, (int64_t)r->samples);
	sqlite3_bind_double(st, i++, s->time);
	sqlite3_bind_double(st, i++, s->mono);
	bind_i64(st, i++, (int64_t)m->total.regions);
	bind_i64(st, i++, recfile_u64(m->total.virt));
	bind_opt(st, i++, m->total.rss);
	bind_i64(st, i++, recfile_u64(m->headroom.largest_free));
	for (int c = 0; c < MT_CAT_COUNT; c++) {
		bind_i64(st, i++, (int64_t)m->cats[c].regions);
		bind_i64(st, i++, recfile_u64(m->cats[c].virt));
		bind_opt(st, i++, m->cats[c].rss);
	}
	bind_changed(st, i++, r->comm, sizeof(r->comm), s->info.comm);
	bind_changed(st, i++, r->cmdline, sizeof(r->cmdline), s->info.cmdline);
	bind_changed(st, i++, r->user, sizeof(r->user), s->info.user);
	bind_text(st, i++, &s->info.state, s->info.state ? 1 : 0);
	bind_i64(st, i++, s->info.threads);
	bind_i64(st, i++, recfile_u64(s->info.rss));
	bind_i64(st, i++, recfile_u64(s->info.vsz));
	sqlite3_bind_double(st, i++, s->info.start_time);
	sqlite3_bind_double(st, i++, s->info.uptime);
	bind_i64(st, i++, recfile_u64(s->max_map_count));
	bind_opt(st, i++, s->rlimit_as);
	bind_i64(st, i++, recfile_u64(s->mmap_min_addr));
	if (s->have_rss)
		sqlite3_bind_double(st, i++, s->rss_time);
	else
		sqlite3_bind_null(st, i++);
	if (run(st))
		return -1;
	r->sample = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static void region_key(struct rec_region *k, const struct mt_region *g, int64_t path)
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
	for (int f = 0; f < RSS_FIELDS; f++)
		k->rss[f] = MT_UNKNOWN;
}

static bool same_region(const struct rec_region *a, const struct rec_region *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->path == b->path && a->perms == b->perms &&
	       a->deleted == b->deleted;
}

static int write_born(struct mt_recorder *r, struct rec_region *k, const struct mt_region *g)
{
	sqlite3_stmt *st = r->st[ST_REGION];
	char perms[5];
	const char *cat = region_category_name(g->category);
	region_perms_str(g->perms, perms);
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
		bind_i64(st, 10, k->path);
	else
		sqlite3_bind_null(st, 10);
	bind_i64(st, 11, k->deleted);
	bind_text(st, 12, cat, strlen(cat));
	if (run(st))
		return -1;
	k->id = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static int write_died(struct mt_recorder *r, enum stmt which, int64_t id)
{
	sqlite3_stmt *st = r->st[which];
	bind_i64(st, 1, r->sample);
	bind_i64(st, 2, id);
	return run(st);
}

/* A row of figures when any of the seven changed since the last row. */
static int write_rss(struct mt_recorder *r, struct rec_region *k, const struct mt_region *g)
{
	const uint64_t now[RSS_FIELDS] = { g->rss, g->pss, g->swap, g->private_dirty,
					   g->shared_dirty, g->anon_huge, g->locked };
	if (!memcmp(now, k->rss, sizeof(now)))
		return 0;
	memcpy(k->rss, now, sizeof(now));
	sqlite3_stmt *st = r->st[ST_RSS];
	bind_i64(st, 1, r->sample);
	bind_i64(st, 2, k->id);
	for (int f = 0; f < RSS_FIELDS; f++)
		bind_opt(st, 3 + f, now[f]);
	return run(st);
}

/*
 * Walk the previous regions and the snapshot's together, both sorted by
 * start: a previous region not matched by an identical one has died.
 */
static int write_regions(struct mt_recorder *r, const struct mt_snapshot *s)
{
	size_t j = 0;
	r->n_cur = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *g = &s->regions[i];
		int64_t path = path_id(r, g->path, g->path_len);
		if (path < 0 || VEC_RESERVE(r->cur, r->cap_cur, r->n_cur, 256))
			return -1;
		struct rec_region *k = &r->cur[r->n_cur++];
		region_key(k, g, path);
		for (; j < r->n_prev && r->prev[j].start < g->start; j++)
			if (write_died(r, ST_DIED, r->prev[j].id))
				return -1;
		if (j < r->n_prev && same_region(&r->prev[j], k)) {
			k->id = r->prev[j].id;
			memcpy(k->rss, r->prev[j].rss, sizeof(k->rss));
			j++;
		} else if (write_born(r, k, g)) {
			return -1;
		}
		if (write_rss(r, k, g))
			return -1;
	}
	for (; j < r->n_prev; j++)
		if (write_died(r, ST_DIED, r->prev[j].id))
			return -1;
	return 0;
}

static bool same_thread(const struct rec_thread *a, const struct mt_thread *t)
{
	return a->tid == t->tid && a->state == t->state && a->sp == t->sp &&
	       !strncmp(a->name, t->name, sizeof(a->name));
}

static int write_thread(struct mt_recorder *r, struct rec_thread *k, const struct mt_thread *t)
{
	sqlite3_stmt *st = r->st[ST_THREAD];
	k->tid = t->tid;
	memcpy(k->name, t->name, sizeof(k->name));
	k->state = t->state;
	k->sp = t->sp;
	bind_i64(st, 1, r->session);
	bind_i64(st, 2, r->sample);
	bind_i64(st, 3, t->tid);
	bind_text(st, 4, t->name, strnlen(t->name, sizeof(t->name)));
	bind_text(st, 5, &t->state, t->state ? 1 : 0);
	bind_i64(st, 6, recfile_u64(t->sp));
	if (run(st))
		return -1;
	k->id = sqlite3_last_insert_rowid(r->db);
	return 0;
}

/* Threads as regions, keyed by tid (the source sorts them by it). */
static int write_threads(struct mt_recorder *r, const struct mt_snapshot *s)
{
	size_t j = 0;
	r->n_tcur = 0;
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct mt_thread *t = &s->threads[i];
		if (VEC_RESERVE(r->tcur, r->cap_tcur, r->n_tcur, 16))
			return -1;
		struct rec_thread *k = &r->tcur[r->n_tcur++];
		for (; j < r->n_tprev && r->tprev[j].tid < t->tid; j++)
			if (write_died(r, ST_THREAD_DIED, r->tprev[j].id))
				return -1;
		if (j < r->n_tprev && same_thread(&r->tprev[j], t)) {
			*k = r->tprev[j++];
		} else {
			if (j < r->n_tprev && r->tprev[j].tid == t->tid &&
			    write_died(r, ST_THREAD_DIED, r->tprev[j++].id))
				return -1;
			if (write_thread(r, k, t))
				return -1;
		}
	}
	for (; j < r->n_tprev; j++)
		if (write_died(r, ST_THREAD_DIED, r->tprev[j].id))
			return -1;
	return 0;
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

static int fail(struct mt_recorder *r, const char *what, struct mt_error *err)
{
	recfile_error(r->db, what, err);
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	r->failed = true;
	size_t n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": recording to %s stopped", r->path);
	return -1;
}

int record_sample(struct mt_recorder *r, const struct mt_model *m,
		  const struct mt_snapshot *s, struct mt_error *err)
{
	if (r->failed)
		return mt_error_set(err, MT_EXIT_FAILURE, 0, "recording to %s has stopped",
				    r->path);
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(r, "starting a sample", err);
	if ((!r->session && write_session(r, s)) || write_sample(r, m, s) ||
	    write_regions(r, s) || write_threads(r, s))
		return fail(r, "writing a sample", err);
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(r, "committing a sample", err);
	swap_buffers(r);
	r->samples++;
	return 0;
}

int record_scan(struct mt_recorder *r, const struct record_scan *sc, int64_t *id,
		struct mt_error *err)
{
	if (r->failed || !r->session)
		return mt_error_set(err, MT_EXIT_FAILURE, 0, "recording to %s has %s", r->path,
				    r->failed ? "stopped" : "no sample yet");
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(r, "starting to store a scan", err);
	if (scanstore_save(r->db, r->session, r->sample, sc, id) ||
	    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(r, "storing a scan", err);
	return 0;
}
