/*
 * replay.c - the recording reader.  At open it loads the session's
 * samples (one small row each).  Regions and threads are lifetimes; the
 * reader keeps only those alive at the current sample: each replay_next
 * drops the ones that died at it, reads the ones born at it (an indexed
 * query, so a day of a process that maps and unmaps all the time costs
 * memory for what is mapped, not for all that ever was), applies the
 * resident-size changes, and copies the set into a snapshot.
 *
 * The file is untrusted input: every value is type-checked and range-
 * checked on the way in, and a sample whose regions would overlap or
 * whose rows name a region that is not alive is reported as damage, so
 * what reaches the model is as well-formed as a live snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtop/heapstore.h"
#include "memtop/recfile.h"
#include "memtop/replay.h"
#include "memtop/scanstore.h"
#include "memtop/vec.h"

#define PATH_MAX_STORED 65536
#define THREADS_MAX_SAMPLE 1000000
#define NONE SIZE_MAX
/* Times beyond this (the year 5138) are damage: time_t and strftime
 * would make nonsense of them. */
#define TIME_MAX 1e11

struct rp_sample {
	int64_t id;
	double time, mono;
	char *comm, *cmdline, *user; /* NULL: as in the sample before */
	char state;
	int threads;
	uint64_t proc_rss, vsz;
	double start_time, uptime;
	uint64_t max_map_count, rlimit_as, mmap_min_addr;
	bool have_rss;
	double rss_time;
};

struct rp_region {
	int64_t id;
	size_t born, died; /* sample indexes; died NONE: alive at the end */
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	uint8_t perms;
	bool deleted_suffix, deleted;
	uint64_t bss_end; /* 0: unknown (no region_bss row) */
	char *path;
	uint32_t path_len;
	struct mt_smaps rss;
};

struct rp_thread {
	int64_t id;
	size_t born, died;
	int tid;
	char name[16];
	char state;
	uint64_t sp;
};

/* The regions alive at the current sample, by start (for the snapshot)
 * and by id (for the resident-size rows); each owned once. */
struct rp_regions {
	struct rp_region **by_start, **by_id;
	size_t n, cap;
};

/* The threads alive, by tid. */
struct rp_threads {
	struct rp_thread **v;
	size_t n, cap;
};

/* A lifetime that ended in samples read after it was (replay_follow). */
struct rp_late {
	int64_t id;
	size_t died;
};

struct mt_replay {
	sqlite3 *db;
	char *path;
	/* Deaths learnt by replay_follow, by id: marks taken before still
	 * hold those lifetimes alive. */
	struct rp_late *late_regions, *late_threads;
	size_t n_late_regions, n_late_threads, cap_late_regions, cap_late_threads;
	struct replay_session session;
	struct rp_sample *samples;
	size_t n_samples, cap_samples;
	struct rp_regions regions;
	struct rp_threads threads;
	size_t pos;
	uint64_t page_size;
	sqlite3_stmt *born_regions, *born_threads, *rss_stmt;
	char comm[64], cmdline[256], user[64];
};

/* ---- reading columns (recfile.h checks their types) --------------------- */

__attribute__((format(printf, 2, 3)))
static int damaged(struct mt_error *err, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mt_error_set(err, MT_ERR_BADFILE, 0, "the recording is damaged: %s", what);
}

static bool in_time(double t)
{
	return t >= 0 && t < TIME_MAX;
}

/* NULL is MT_UNKNOWN (or unlimited). */
static bool col_opt(sqlite3_stmt *st, int i, uint64_t *v)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL) {
		*v = RECFILE_NULL_U64;
		return true;
	}
	return recfile_col_u64(st, i, v);
}

/* Text into a fixed buffer (cut to fit), "" for NULL. */
static bool col_buf(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
	const char *t;
	size_t len;
	if (!recfile_col_text(st, i, true, PATH_MAX_STORED, &t, &len))
		return false;
	snprintf(buf, cap, "%.*s", (int)len, t ? t : "");
	return true;
}

static bool col_dup(sqlite3_stmt *st, int i, size_t max, char **out, bool *oom)
{
	const char *t;
	size_t len;
	*out = NULL;
	if (!recfile_col_text(st, i, true, max, &t, &len))
		return false;
	if (t && !(*out = strndup(t, len)))
		*oom = true;
	return true;
}

static int prepare(struct mt_replay *r, const char *sql, sqlite3_stmt **st, struct mt_error *err)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
		return recfile_error(r->db, "reading the recording", err);
	return 0;
}

/* ---- sessions ----------------------------------------------------------- */

static int load_session(struct mt_replay *r, size_t want, struct mt_error *err)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;
	if (prepare(r, "SELECT id, pid, comm, host, started, ended, delay, page_size FROM session"
		    " ORDER BY id", &st, err))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (want && n != want)
			continue;
		struct replay_session *s = &r->session;
		int64_t pid;
		memset(s, 0, sizeof(*s));
		if (!recfile_col_i64(st, 0, &s->id) || !recfile_col_int(st, 1, 0, INT32_MAX, &pid) ||
		    !col_buf(st, 2, s->comm, sizeof(s->comm)) ||
		    !col_buf(st, 3, s->host, sizeof(s->host)) || !recfile_col_real(st, 4, &s->started) ||
		    (sqlite3_column_type(st, 5) != SQLITE_NULL && !recfile_col_real(st, 5, &s->ended)) ||
		    !recfile_col_real(st, 6, &s->delay) || !(s->delay > 0 && s->delay <= 86400) ||
		    !in_time(s->started) || !in_time(s->ended) ||
		    !recfile_col_u64(st, 7, &r->page_size) ||
		    r->page_size < 1024 || (r->page_size & (r->page_size - 1))) {
			sqlite3_finalize(st);
			return damaged(err, "session %zu has bad values", n);
		}
		s->pid = (int)pid;
		s->index = n;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return recfile_error(r->db, "reading the sessions", err);
	if (n == 0)
		return mt_error_set(err, MT_ERR_BADFILE, 0, "the recording holds no session yet");
	if (want > n)
		return mt_error_set(err, MT_ERR_USAGE, 0, "--session %zu: the recording holds %zu "
				    "session%s", want, n, n == 1 ? "" : "s");
	r->session.count = n;
	return 0;
}

/* ---- samples ------------------------------------------------------------ */

static int read_sample(sqlite3_stmt *st, struct rp_sample *p, bool *oom)
{
	int64_t threads;
	const char *state;
	size_t slen;
	memset(p, 0, sizeof(*p));
	if (!recfile_col_i64(st, 0, &p->id) || !recfile_col_real(st, 2, &p->time) ||
	    !recfile_col_real(st, 3, &p->mono) || !col_dup(st, 4, 63, &p->comm, oom) ||
	    !col_dup(st, 5, 255, &p->cmdline, oom) || !col_dup(st, 6, 63, &p->user, oom) ||
	    !recfile_col_text(st, 7, true, 1, &state, &slen) ||
	    !recfile_col_int(st, 8, 0, INT32_MAX, &threads) ||
	    !recfile_col_u64(st, 9, &p->proc_rss) || !recfile_col_u64(st, 10, &p->vsz) ||
	    !recfile_col_real(st, 11, &p->start_time) || !recfile_col_real(st, 12, &p->uptime) ||
	    !recfile_col_u64(st, 13, &p->max_map_count) ||
	    !col_opt(st, 14, &p->rlimit_as) || !recfile_col_u64(st, 15, &p->mmap_min_addr))
		return -1;
	p->state = state && slen ? state[0] : '\0';
	p->threads = (int)threads;
	if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
		if (!recfile_col_real(st, 16, &p->rss_time))
			return -1;
		p->have_rss = true;
	}
	if (!in_time(p->time) || !in_time(p->mono) || !in_time(p->start_time) ||
	    !in_time(p->uptime) || (p->have_rss && !in_time(p->rss_time)))
		return -1;
	return 0;
}

static void sample_free(struct rp_sample *p)
{
	free(p->comm);
	free(p->cmdline);
	free(p->user);
}

/* The samples of the session from seq n_samples on, appended. */
static int load_samples(struct mt_replay *r, struct mt_error *err)
{
	sqlite3_stmt *st;
	size_t cap = r->cap_samples;
	int rc;
	bool oom = false;
	if (prepare(r, "SELECT id, seq, time, mono, comm, cmdline, user, state, threads,"
		    " proc_rss, vsz, start_time, uptime, max_map_count, rlimit_as, mmap_min_addr,"
		    " rss_time FROM sample WHERE session = ? AND seq >= ? ORDER BY seq", &st, err))
		return -1;
	sqlite3_bind_int64(st, 1, r->session.id);
	sqlite3_bind_int64(st, 2, (int64_t)r->n_samples);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq;
		if (VEC_RESERVE(r->samples, cap, r->n_samples, 256)) {
			oom = true;
			break;
		}
		struct rp_sample *p = &r->samples[r->n_samples];
		int bad = read_sample(st, p, &oom);
		r->n_samples++;
		const struct rp_sample *q = r->n_samples > 1 ? p - 1 : NULL;
		if (bad || !recfile_col_i64(st, 1, &seq) || seq != (int64_t)r->n_samples - 1 ||
		    (q && (p->id <= q->id || p->mono <= q->mono))) {
			sqlite3_finalize(st);
			return damaged(err, "sample %zu of session %zu is out of order or has bad "
				       "values", r->n_samples - 1, r->session.index);
		}
		if (oom)
			break;
	}
	sqlite3_finalize(st);
	r->cap_samples = cap;
	if (oom)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	if (rc != SQLITE_DONE)
		return recfile_error(r->db, "reading the samples", err);
	if (r->n_samples == 0)
		return damaged(err, "session %zu holds no sample", r->session.index);
	return 0;
}

long replay_find_id(const struct mt_replay *r, int64_t id)
{
	size_t lo = 0, hi = r->n_samples;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->samples[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n_samples && r->samples[lo].id == id ? (long)lo : -1;
}

/* born and died (sample ids) as indexes: born a sample of the session,
 * died NULL or a later one. */
static bool col_life(const struct mt_replay *r, sqlite3_stmt *st, int i, size_t *born,
		     size_t *died)
{
	int64_t b, d;
	long bi, di;
	if (!recfile_col_i64(st, i, &b) || (bi = replay_find_id(r, b)) < 0)
		return false;
	*born = (size_t)bi;
	*died = NONE;
	if (sqlite3_column_type(st, i + 1) == SQLITE_NULL)
		return true;
	if (!recfile_col_i64(st, i + 1, &d) || (di = replay_find_id(r, d)) <= bi)
		return false;
	*died = (size_t)di;
	return true;
}

/*
 * Lifetimes whose birth or death is not a sample of the session, or dies
 * before it is born: checked once at open (the births are read sample by
 * sample, so a row born at no sample would otherwise never be seen).
 */
static int check_lifetimes(struct mt_replay *r, const char *table, struct mt_error *err)
{
	char sql[400];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE session = ?1 AND ("
		 " born NOT IN (SELECT id FROM sample WHERE session = ?1) OR (died IS NOT NULL AND"
		 " (died <= born OR died NOT IN (SELECT id FROM sample WHERE session = ?1))))",
		 table);
	if (prepare(r, sql, &st, err))
		return -1;
	sqlite3_bind_int64(st, 1, r->session.id);
	int rc = sqlite3_step(st);
	int64_t bad = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return recfile_error(r->db, "checking the lifetimes", err);
	if (bad)
		return damaged(err, "%lld %s row%s name%s samples not in session %zu",
			       (long long)bad, table, bad == 1 ? "" : "s", bad == 1 ? "s" : "",
			       r->session.index);
	return 0;
}

/* ---- lifetimes ---------------------------------------------------------- */

/* The category a region had when it appeared: only informative (replay
 * classifies again), but a name memtop never wrote is damage. */
static bool col_category(sqlite3_stmt *st, int i)
{
	const char *t;
	size_t len;
	if (!recfile_col_text(st, i, false, 16, &t, &len))
		return false;
	for (int c = 0; c < MT_CAT_COUNT; c++) {
		const char *name = region_category_name((enum mt_category)c);
		if (strlen(name) == len && !memcmp(name, t, len))
			return true;
	}
	return false;
}

static int read_region(const struct mt_replay *r, sqlite3_stmt *st, struct rp_region *g,
		       bool *oom)
{
	int64_t dmaj, dmin, deleted;
	const char *perms, *path;
	size_t plen, len;
	memset(g, 0, sizeof(*g));
	if (!recfile_col_i64(st, 0, &g->id) || !col_life(r, st, 1, &g->born, &g->died) ||
	    !recfile_col_u64(st, 3, &g->start) || !recfile_col_u64(st, 4, &g->end) ||
	    g->start >= g->end || !recfile_col_text(st, 5, false, 4, &perms, &plen) ||
	    !recfile_parse_perms(perms, plen, &g->perms) || !recfile_col_u64(st, 6, &g->offset) ||
	    !recfile_col_int(st, 7, 0, UINT32_MAX, &dmaj) ||
	    !recfile_col_int(st, 8, 0, UINT32_MAX, &dmin) || !recfile_col_u64(st, 9, &g->inode) ||
	    !recfile_col_text(st, 10, true, PATH_MAX_STORED, &path, &len) ||
	    !recfile_col_int(st, 11, 0, 3, &deleted) || !col_category(st, 12) ||
	    (sqlite3_column_type(st, 13) != SQLITE_NULL && !recfile_col_u64(st, 13, &g->bss_end)))
		return -1;
	g->dev_major = (uint32_t)dmaj;
	g->dev_minor = (uint32_t)dmin;
	g->deleted_suffix = deleted & 1;
	g->deleted = deleted & 2;
	for (int f = 0; f < MT_SMAPS_FIELDS; f++)
		g->rss.v[f] = MT_UNKNOWN;
	if (path && len) {
		if (!(g->path = strndup(path, len)))
			*oom = true;
		g->path_len = (uint32_t)len;
	}
	return 0;
}

static int read_thread(const struct mt_replay *r, sqlite3_stmt *st, struct rp_thread *t)
{
	int64_t tid;
	const char *state;
	size_t slen;
	memset(t, 0, sizeof(*t));
	if (!col_life(r, st, 0, &t->born, &t->died) ||
	    !recfile_col_int(st, 2, 1, INT32_MAX, &tid) ||
	    !col_buf(st, 3, t->name, sizeof(t->name)) ||
	    !recfile_col_text(st, 4, true, 1, &state, &slen) || !recfile_col_u64(st, 5, &t->sp))
		return -1;
	t->tid = (int)tid;
	t->state = state && slen ? state[0] : '\0';
	t->id = sqlite3_column_int64(st, 6);
	return 0;
}

static void region_free(struct rp_region *g)
{
	if (g) {
		free(g->path);
		free(g);
	}
}

static int cmp_start(const void *a, const void *b)
{
	const struct rp_region *x = *(struct rp_region *const *)a;
	const struct rp_region *y = *(struct rp_region *const *)b;
	return (x->start > y->start) - (x->start < y->start);
}

static int cmp_id(const void *a, const void *b)
{
	const struct rp_region *x = *(struct rp_region *const *)a;
	const struct rp_region *y = *(struct rp_region *const *)b;
	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_tid(const void *a, const void *b)
{
	const struct rp_thread *x = *(struct rp_thread *const *)a;
	const struct rp_thread *y = *(struct rp_thread *const *)b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int regions_add(struct rp_regions *rs, struct rp_region *g)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct rp_region **a = realloc(rs->by_start, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		rs->by_start = a;
		struct rp_region **b = realloc(rs->by_id, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		rs->by_id = b;
		rs->cap = cap;
	}
	rs->by_start[rs->n] = g;
	rs->by_id[rs->n++] = g;
	return 0;
}

static void regions_clear(struct rp_regions *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		region_free(rs->by_id[i]);
	rs->n = 0;
}

static void regions_free(struct rp_regions *rs)
{
	regions_clear(rs);
	free(rs->by_start);
	free(rs->by_id);
	memset(rs, 0, sizeof(*rs));
}

static int threads_add(struct rp_threads *ts, struct rp_thread *t)
{
	if (VEC_RESERVE(ts->v, ts->cap, ts->n, 16))
		return -ENOMEM;
	ts->v[ts->n++] = t;
	return 0;
}

static void threads_clear(struct rp_threads *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->v[i]);
	ts->n = 0;
}

/* Drop the lifetimes that died at sample k. */
static void drop_dead(struct mt_replay *r, size_t k)
{
	struct rp_regions *rs = &r->regions;
	size_t n = 0;
	for (size_t i = 0; i < rs->n; i++)
		if (rs->by_start[i]->died > k)
			rs->by_start[n++] = rs->by_start[i];
	n = 0;
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->by_id[i]->died > k)
			rs->by_id[n++] = rs->by_id[i];
		else
			region_free(rs->by_id[i]);
	}
	rs->n = n;
	struct rp_threads *ts = &r->threads;
	n = 0;
	for (size_t i = 0; i < ts->n; i++) {
		if (ts->v[i]->died > k)
			ts->v[n++] = ts->v[i];
		else
			free(ts->v[i]);
	}
	ts->n = n;
}

/* Read the regions born at sample k into the alive set. */
static int born_regions(struct mt_replay *r, size_t k, struct mt_error *err)
{
	sqlite3_stmt *st = r->born_regions;
	struct rp_regions *rs = &r->regions;
	size_t n0 = rs->n;
	int rc;
	bool oom = false;
	sqlite3_bind_int64(st, 1, r->session.id);
	sqlite3_bind_int64(st, 2, r->samples[k].id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rp_region *g = malloc(sizeof(*g));
		int64_t id = sqlite3_column_int64(st, 0);
		bool bad = g && read_region(r, st, g, &oom);
		if (!g || bad || oom || regions_add(rs, g)) {
			sqlite3_reset(st);
			region_free(g);
			if (bad)
				return damaged(err, "region row %lld has bad values", (long long)id);
			return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return recfile_error(r->db, "reading the regions", err);
	if (rs->n > n0) {
		qsort(rs->by_start, rs->n, sizeof(*rs->by_start), cmp_start);
		/* Ids grow with the samples: the new ones sort last, unless
		 * the file says otherwise. */
		if (n0 && rs->by_id[n0]->id <= rs->by_id[n0 - 1]->id)
			qsort(rs->by_id, rs->n, sizeof(*rs->by_id), cmp_id);
		else
			qsort(rs->by_id + n0, rs->n - n0, sizeof(*rs->by_id), cmp_id);
	}
	return 0;
}

static int born_threads(struct mt_replay *r, size_t k, struct mt_error *err)
{
	sqlite3_stmt *st = r->born_threads;
	struct rp_threads *ts = &r->threads;
	size_t n0 = ts->n;
	int rc;
	sqlite3_bind_int64(st, 1, r->session.id);
	sqlite3_bind_int64(st, 2, r->samples[k].id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rp_thread *t = malloc(sizeof(*t));
		if (!t || read_thread(r, st, t) || threads_add(ts, t)) {
			sqlite3_reset(st);
			bool bad = t != NULL;
			free(t);
			return bad ? damaged(err, "a thread of sample %zu has bad values", k) :
				mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return recfile_error(r->db, "reading the threads", err);
	if (ts->n > n0)
		qsort(ts->v, ts->n, sizeof(*ts->v), cmp_tid);
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

int replay_open(struct mt_replay **out, const char *path, size_t session, struct mt_error *err)
{
	struct mt_replay *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	/* One read transaction for all that is read, so that a recording
	 * still being written is seen as it was at one commit (WAL keeps
	 * that snapshot for the reader); replay_follow moves it on. */
	if (!(r->path = strdup(path)))
		return replay_close(r), mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	if (recfile_open(&r->db, path, RECFILE_READ, err) ||
	    sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    load_session(r, session, err) ||
	    load_samples(r, err) || check_lifetimes(r, "region", err) ||
	    check_lifetimes(r, "thread", err) ||
	    prepare(r, recfile_has_table(r->db, "region_bss") ?
		    "SELECT r.id, born, died, start, end, perms, offset, dev_major, dev_minor,"
		    " inode, p.name, deleted, category, b.bss_end FROM region r LEFT JOIN path p"
		    " ON p.id = r.path LEFT JOIN region_bss b ON b.region = r.id"
		    " WHERE session = ? AND born = ? ORDER BY r.id" :
		    "SELECT r.id, born, died, start, end, perms, offset, dev_major, dev_minor,"
		    " inode, p.name, deleted, category, NULL FROM region r LEFT JOIN path p"
		    " ON p.id = r.path WHERE session = ? AND born = ? ORDER BY r.id",
		    &r->born_regions, err) ||
	    prepare(r, "SELECT born, died, tid, name, state, sp, id FROM thread"
		    " WHERE session = ? AND born = ? ORDER BY id", &r->born_threads, err) ||
	    prepare(r, "SELECT region, rss, pss, swap, private_dirty, shared_dirty, anon_huge,"
		    " locked FROM region_rss WHERE sample = ?", &r->rss_stmt, err)) {
		replay_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

void replay_close(struct mt_replay *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->born_regions);
	sqlite3_finalize(r->born_threads);
	sqlite3_finalize(r->rss_stmt);
	recfile_close(r->db, false);
	free(r->path);
	free(r->late_regions);
	free(r->late_threads);
	for (size_t i = 0; i < r->n_samples; i++)
		sample_free(&r->samples[i]);
	free(r->samples);
	regions_free(&r->regions);
	threads_clear(&r->threads);
	free(r->threads.v);
	free(r);
}

const struct replay_session *replay_session(const struct mt_replay *r)
{
	return &r->session;
}

size_t replay_count(const struct mt_replay *r)
{
	return r->n_samples;
}

size_t replay_pos(const struct mt_replay *r)
{
	return r->pos;
}

double replay_time(const struct mt_replay *r, size_t i)
{
	return r->samples[i].time;
}

int64_t replay_sample_id(const struct mt_replay *r, size_t i)
{
	return r->samples[i].id;
}

size_t replay_find_time(const struct mt_replay *r, double t)
{
	size_t lo = 0, hi = r->n_samples;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->samples[mid].time < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n_samples ? lo : r->n_samples - 1;
}

struct sqlite3 *replay_db(struct mt_replay *r)
{
	return r->db;
}

void replay_rewind(struct mt_replay *r)
{
	r->pos = 0;
	regions_clear(&r->regions);
	threads_clear(&r->threads);
	r->comm[0] = r->cmdline[0] = r->user[0] = '\0';
}

/* ---- one sample --------------------------------------------------------- */

static struct rp_region *region_by_id(struct mt_replay *r, int64_t id)
{
	const struct rp_regions *rs = &r->regions;
	size_t lo = 0, hi = rs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rs->n && rs->by_id[lo]->id == id ? rs->by_id[lo] : NULL;
}

/* The resident figures that changed at sample k. */
static int apply_rss(struct mt_replay *r, size_t k, struct mt_error *err)
{
	sqlite3_stmt *st = r->rss_stmt;
	int rc;
	sqlite3_bind_int64(st, 1, r->samples[k].id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id;
		struct mt_smaps v;
		struct rp_region *g = recfile_col_i64(st, 0, &id) ? region_by_id(r, id) : NULL;
		bool ok = true;
		for (int f = 0; ok && f < MT_SMAPS_FIELDS; f++)
			ok = col_opt(st, 1 + f, &v.v[f]);
		if (!ok || !g) {
			sqlite3_reset(st);
			return damaged(err, ok ? "sample %zu has resident sizes for a region not "
				       "mapped then" : "sample %zu has resident sizes that are not "
				       "numbers", k);
		}
		g->rss = v;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return recfile_error(r->db, "reading resident sizes", err);
	return 0;
}

static int fill_regions(struct mt_replay *r, struct mt_snapshot *s, size_t k,
			struct mt_error *err)
{
	uint64_t last_end = 0;
	for (size_t i = 0; i < r->regions.n; i++) {
		const struct rp_region *g = r->regions.by_start[i];
		if (i > 0 && g->start < last_end)
			return damaged(err, "regions overlap at 0x%llx in sample %zu",
				       (unsigned long long)g->start, k);
		last_end = g->end;
		struct mt_region *d = snapshot_add_region(s);
		if (!d || (g->path && !(d->path = snapshot_intern(s, g->path, g->path_len))))
			return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		d->start = g->start;
		d->end = g->end;
		d->offset = g->offset;
		d->inode = g->inode;
		d->dev_major = g->dev_major;
		d->dev_minor = g->dev_minor;
		d->perms = g->perms;
		d->deleted_suffix = g->deleted_suffix;
		d->bss_end = g->bss_end;
		d->deleted = g->deleted;
		d->path_len = g->path_len;
		d->smaps = g->rss;
	}
	return 0;
}

static int fill_threads(struct mt_replay *r, struct mt_snapshot *s, size_t k,
			struct mt_error *err)
{
	size_t n = r->threads.n;
	if (n > THREADS_MAX_SAMPLE)
		return damaged(err, "sample %zu has %zu threads", k, n);
	struct mt_thread *v = realloc(s->threads, (n ? n : 1) * sizeof(*v));
	if (!v)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	s->threads = v;
	for (size_t i = 0; i < n; i++) {
		const struct rp_thread *t = r->threads.v[i];
		if (i > 0 && t->tid == v[i - 1].tid)
			return damaged(err, "thread %d is listed twice in sample %zu", t->tid, k);
		memset(&v[i], 0, sizeof(v[i]));
		v[i].tid = t->tid;
		memcpy(v[i].name, t->name, sizeof(v[i].name));
		v[i].state = t->state;
		v[i].sp = t->sp;
		v[i].stack_region = -1;
	}
	s->n_threads = n;
	return 0;
}

static void fill_facts(struct mt_replay *r, struct mt_snapshot *s, const struct rp_sample *p)
{
	if (p->comm)
		snprintf(r->comm, sizeof(r->comm), "%s", p->comm);
	if (p->cmdline)
		snprintf(r->cmdline, sizeof(r->cmdline), "%s", p->cmdline);
	if (p->user)
		snprintf(r->user, sizeof(r->user), "%s", p->user);
	s->pid = r->session.pid;
	s->time = p->time;
	s->mono = p->mono;
	snprintf(s->info.comm, sizeof(s->info.comm), "%s", r->comm);
	snprintf(s->info.cmdline, sizeof(s->info.cmdline), "%s", r->cmdline);
	snprintf(s->info.user, sizeof(s->info.user), "%s", r->user);
	s->info.state = p->state;
	s->info.threads = p->threads;
	s->info.rss = p->proc_rss;
	s->info.vsz = p->vsz;
	s->info.start_time = p->start_time;
	s->info.uptime = p->uptime;
	s->max_map_count = p->max_map_count;
	s->rlimit_as = p->rlimit_as;
	s->mmap_min_addr = p->mmap_min_addr;
	s->page_size = r->page_size;
	s->have_rss = p->have_rss;
	s->rss_time = p->rss_time;
}

int replay_next(struct mt_replay *r, struct mt_snapshot *s, struct mt_error *err)
{
	size_t k = r->pos;
	if (k >= r->n_samples)
		return 1;
	snapshot_reset(s);
	drop_dead(r, k);
	if (born_regions(r, k, err) || born_threads(r, k, err) || apply_rss(r, k, err) ||
	    fill_regions(r, s, k, err) || fill_threads(r, s, k, err))
		return -1;
	fill_facts(r, s, &r->samples[k]);
	r->pos = k + 1;
	return 0;
}

static void apply_late(struct mt_replay *r);

/* ---- marks -------------------------------------------------------------- */

struct replay_mark {
	size_t pos;
	struct rp_region *regions; /* copies, paths owned, by id */
	size_t n_regions;
	struct rp_thread *threads; /* by tid */
	size_t n_threads;
	char comm[64], cmdline[256], user[64];
};

void replay_mark_free(struct replay_mark *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_regions; i++)
		free(m->regions[i].path);
	free(m->regions);
	free(m->threads);
	free(m);
}

struct replay_mark *replay_mark(const struct mt_replay *r, size_t *bytes)
{
	const struct rp_regions *rs = &r->regions;
	struct replay_mark *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->pos = r->pos;
	m->regions = malloc((rs->n ? rs->n : 1) * sizeof(*m->regions));
	m->threads = malloc((r->threads.n ? r->threads.n : 1) * sizeof(*m->threads));
	if (!m->regions || !m->threads) {
		replay_mark_free(m);
		return NULL;
	}
	*bytes = sizeof(*m);
	for (size_t i = 0; i < rs->n; i++) {
		m->regions[i] = *rs->by_id[i];
		m->regions[i].path = NULL;
		m->n_regions = i + 1;
		if (rs->by_id[i]->path &&
		    !(m->regions[i].path = strndup(rs->by_id[i]->path, rs->by_id[i]->path_len))) {
			replay_mark_free(m);
			return NULL;
		}
		*bytes += sizeof(*m->regions) + rs->by_id[i]->path_len;
	}
	for (size_t i = 0; i < r->threads.n; i++)
		m->threads[i] = *r->threads.v[i];
	m->n_threads = r->threads.n;
	*bytes += m->n_threads * sizeof(*m->threads);
	memcpy(m->comm, r->comm, sizeof(m->comm));
	memcpy(m->cmdline, r->cmdline, sizeof(m->cmdline));
	memcpy(m->user, r->user, sizeof(m->user));
	return m;
}

int replay_restore(struct mt_replay *r, const struct replay_mark *m)
{
	regions_clear(&r->regions);
	threads_clear(&r->threads);
	for (size_t i = 0; i < m->n_regions; i++) {
		struct rp_region *g = malloc(sizeof(*g));
		if (g) {
			*g = m->regions[i];
			g->path = NULL;
		}
		if (!g || (m->regions[i].path && !(g->path = strdup(m->regions[i].path))) ||
		    regions_add(&r->regions, g)) {
			region_free(g);
			replay_rewind(r);
			return -ENOMEM;
		}
	}
	qsort(r->regions.by_start, r->regions.n, sizeof(*r->regions.by_start), cmp_start);
	for (size_t i = 0; i < m->n_threads; i++) {
		struct rp_thread *t = malloc(sizeof(*t));
		if (!t || threads_add(&r->threads, t)) {
			free(t);
			replay_rewind(r);
			return -ENOMEM;
		}
		*t = m->threads[i];
	}
	memcpy(r->comm, m->comm, sizeof(r->comm));
	memcpy(r->cmdline, m->cmdline, sizeof(r->cmdline));
	memcpy(r->user, m->user, sizeof(r->user));
	r->pos = m->pos;
	apply_late(r);
	return 0;
}

int replay_list_scans(struct mt_replay *r, struct scanstore_info **out, size_t *n,
		      struct mt_error *err)
{
	return scanstore_list(r->db, r->session.id, out, n, err);
}

int replay_load_scan(struct mt_replay *r, int64_t id, struct scanstore_scan *out,
		     struct mt_error *err)
{
	return scanstore_load(r->db, id, out, err);
}

int replay_list_heaps(struct mt_replay *r, struct heapstore_info **out, size_t *n,
		      struct mt_error *err)
{
	return heapstore_list(r->db, r->session.id, out, n, err);
}

int replay_load_heap(struct mt_replay *r, int64_t id, struct heapstore_census *out,
		     struct mt_error *err)
{
	return heapstore_load(r->db, id, out, err);
}

/* ---- following a recording still being written -------------------------- */

static int late_add(struct rp_late **v, size_t *n, size_t *cap, int64_t id, size_t died)
{
	if (VEC_RESERVE(*v, *cap, *n, 64))
		return -1;
	(*v)[(*n)++] = (struct rp_late){ id, died };
	return 0;
}

static const struct rp_late *late_find(const struct rp_late *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].id == id)
			return &v[mid];
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_late(const void *a, const void *b)
{
	const struct rp_late *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Lifetimes of table that ended at samples from index `from` on: into
 * the alive set and the late list. */
static int late_deaths(struct mt_replay *r, bool regions, size_t from, struct mt_error *err)
{
	sqlite3_stmt *st;
	if (prepare(r, regions ? "SELECT id, died FROM region WHERE session = ? AND died >= ?" :
		    "SELECT id, died FROM thread WHERE session = ? AND died >= ?", &st, err))
		return -1;
	sqlite3_bind_int64(st, 1, r->session.id);
	sqlite3_bind_int64(st, 2, r->samples[from].id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		long died = replay_find_id(r, sqlite3_column_int64(st, 1));
		if (died < 0) {
			sqlite3_finalize(st);
			return damaged(err, "a lifetime ends at a sample not in session %zu",
				       r->session.index);
		}
		int bad = regions ? late_add(&r->late_regions, &r->n_late_regions,
					     &r->cap_late_regions, id, (size_t)died) :
			late_add(&r->late_threads, &r->n_late_threads, &r->cap_late_threads, id,
				 (size_t)died);
		if (bad) {
			sqlite3_finalize(st);
			return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return recfile_error(r->db, "following the recording", err);
	if (regions && r->n_late_regions > 1)
		qsort(r->late_regions, r->n_late_regions, sizeof(*r->late_regions), cmp_late);
	else if (!regions && r->n_late_threads > 1)
		qsort(r->late_threads, r->n_late_threads, sizeof(*r->late_threads), cmp_late);
	return 0;
}

/* Deaths learnt late, onto the alive set (after a follow or a restore). */
static void apply_late(struct mt_replay *r)
{
	for (size_t i = 0; i < r->regions.n; i++) {
		struct rp_region *g = r->regions.by_id[i];
		const struct rp_late *l = g->died == NONE ? late_find(r->late_regions,
								      r->n_late_regions, g->id) : NULL;
		if (l)
			g->died = l->died;
	}
	for (size_t i = 0; i < r->threads.n; i++) {
		struct rp_thread *t = r->threads.v[i];
		const struct rp_late *l = t->died == NONE ? late_find(r->late_threads,
								      r->n_late_threads, t->id) : NULL;
		if (l)
			t->died = l->died;
	}
}

int replay_follow(struct mt_replay *r, struct mt_error *err)
{
	size_t before = r->n_samples;
	if (sqlite3_exec(r->db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return recfile_error(r->db, "following the recording", err);
	sqlite3_stmt *st;
	if (prepare(r, "SELECT ended FROM session WHERE id = ?", &st, err))
		return -1;
	sqlite3_bind_int64(st, 1, r->session.id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		recfile_col_real(st, 0, &r->session.ended);
	sqlite3_finalize(st);
	if (load_samples(r, err))
		return -1;
	if (r->n_samples == before)
		return 0;
	if (late_deaths(r, true, before, err) || late_deaths(r, false, before, err))
		return -1;
	apply_late(r);
	return (int)(r->n_samples - before);
}

/*
 * Whether a memtop is writing the session now: it has not ended, and
 * another process holds the recording open (every SQLite connection to a
 * WAL database holds a shared lock on the -shm file's DMS byte, 128).
 */
bool replay_live(const struct mt_replay *r)
{
	if (r->session.ended > 0)
		return false;
	char shm[4096];
	snprintf(shm, sizeof(shm), "%s-shm", r->path);
	int fd = open(shm, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1 };
	bool held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}
