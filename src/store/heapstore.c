/*
 * heapstore.c - heap censuses in a recording (heapstore.h).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/heapstore.h"
#include "memtop/recfile.h"

/* Created when the first census is stored: recordings made before these
 * tables existed stay valid.  docs/recording.md explains each column. */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS heap_census ("
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL REFERENCES session(id),"
	" sample INTEGER NOT NULL,"   /* the latest sample when it was taken */
	" time REAL NOT NULL, stopped_ms REAL NOT NULL,"
	" in_use INTEGER NOT NULL, free INTEGER NOT NULL, mmapped INTEGER NOT NULL,"
	" mmapped_chunks INTEGER NOT NULL, chunks_in_use INTEGER NOT NULL,"
	" chunks_total INTEGER NOT NULL,"
	" leaks INTEGER NOT NULL,"    /* 1: the leak search ran */
	" leaked INTEGER NOT NULL, leaked_bytes INTEGER NOT NULL,"
	" unreferenced INTEGER NOT NULL,"
	" walk_errors TEXT NOT NULL);" /* one per line */
	"CREATE INDEX IF NOT EXISTS heap_census_session ON heap_census(session);"
	"CREATE TABLE IF NOT EXISTS heap_arena ("
	" census INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" main INTEGER NOT NULL, start INTEGER NOT NULL, heaps INTEGER NOT NULL,"
	" system INTEGER NOT NULL, overhead INTEGER NOT NULL, in_use INTEGER NOT NULL,"
	" chunks_in_use INTEGER NOT NULL, free INTEGER NOT NULL, tcache INTEGER NOT NULL,"
	" fastbins INTEGER NOT NULL, top INTEGER NOT NULL, largest_free INTEGER NOT NULL,"
	" free_chunks INTEGER NOT NULL, trimmable INTEGER NOT NULL,"
	" PRIMARY KEY (census, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS heap_class ("
	" census INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" name TEXT,"                 /* NULL: unnamed chunks of one size */
	" size INTEGER NOT NULL,"     /* their usable size; 0 for a class */
	" count INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" leaked INTEGER NOT NULL, leaked_bytes INTEGER NOT NULL,"
	" PRIMARY KEY (census, idx)) WITHOUT ROWID;";

#define MAX_CLASSES (1u << 22)
#define MAX_ARENAS 4096
#define MAX_NAME 4096

static int bind_all(sqlite3_stmt *st, const int64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		if (sqlite3_bind_int64(st, i + 1, v[i]) != SQLITE_OK)
			return -1;
	return 0;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static char *join_errors(const struct census *c)
{
	size_t len = 1;
	for (size_t i = 0; i < c->n_walk_errors; i++)
		len += strlen(c->walk_errors[i]) + 1;
	char *t = calloc(1, len);
	for (size_t i = 0; t && i < c->n_walk_errors; i++) {
		if (i)
			strcat(t, "\n");
		strcat(t, c->walk_errors[i]);
	}
	return t;
}

static int save_census(sqlite3 *db, int64_t session, int64_t sample,
		       const struct record_heap *h, int64_t *id)
{
	const struct census *c = h->c;
	const struct leaks *l = h->leaks;
	sqlite3_stmt *st = NULL;
	char *errors = join_errors(c);
	int rc = -1;
	if (!errors ||
	    sqlite3_prepare_v2(db, "INSERT INTO heap_census (session, sample, time,"
			       " stopped_ms, in_use, free, mmapped, mmapped_chunks,"
			       " chunks_in_use, chunks_total, leaks, leaked, leaked_bytes,"
			       " unreferenced, walk_errors)"
			       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, session);
	sqlite3_bind_int64(st, 2, sample);
	sqlite3_bind_double(st, 3, h->time);
	sqlite3_bind_double(st, 4, h->stopped_ms);
	int64_t v[] = { recfile_u64(c->in_use_bytes), recfile_u64(c->free_bytes),
			recfile_u64(c->mmapped_bytes), recfile_u64(c->mmapped_chunks),
			recfile_u64(c->chunks_in_use), recfile_u64(c->chunks_total), l != NULL,
			l ? recfile_u64(l->count) : 0, l ? recfile_u64(l->bytes) : 0,
			l ? recfile_u64(l->unreferenced_count) : 0 };
	for (int i = 0; i < 10; i++)
		sqlite3_bind_int64(st, 5 + i, v[i]);
	sqlite3_bind_text(st, 15, errors, -1, SQLITE_STATIC);
	if (step_done(st) == 0) {
		*id = sqlite3_last_insert_rowid(db);
		rc = 0;
	}
out:
	sqlite3_finalize(st);
	free(errors);
	return rc;
}

static int save_arenas(sqlite3 *db, int64_t id, const struct census *c)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO heap_arena"
			       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < c->n_arenas && rc == 0; i++) {
		const struct census_arena *a = &c->arenas[i];
		int64_t v[] = { id, (int64_t)i, a->main, recfile_u64(a->start),
				(int64_t)a->n_heaps, recfile_u64(a->system),
				recfile_u64(a->overhead), recfile_u64(a->in_use),
				recfile_u64(a->chunks_in_use), recfile_u64(a->free),
				recfile_u64(a->tcache), recfile_u64(a->fastbins),
				recfile_u64(a->top), recfile_u64(a->largest_free),
				recfile_u64(a->free_chunks), recfile_u64(a->trimmable) };
		rc = bind_all(st, v, 16) || step_done(st) ? -1 : 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int save_classes(sqlite3 *db, int64_t id, const struct census *c)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO heap_class VALUES (?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < c->n_classes && rc == 0; i++) {
		const struct census_class *k = &c->classes[i];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		if (k->name)
			sqlite3_bind_text(st, 3, k->name, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
		int64_t v[] = { recfile_u64(k->size), recfile_u64(k->count), recfile_u64(k->bytes),
				recfile_u64(k->leaked), recfile_u64(k->leaked_bytes) };
		for (int j = 0; j < 5; j++)
			sqlite3_bind_int64(st, 4 + j, v[j]);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int heapstore_save(sqlite3 *db, int64_t session, int64_t sample, const struct record_heap *h,
		   int64_t *id)
{
	if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (save_census(db, session, sample, h, id) || save_arenas(db, *id, h->c) ||
	    save_classes(db, *id, h->c))
		return -1;
	return 0;
}

/* ---- reading back --------------------------------------------------------- */

static int damaged(struct mt_error *err, int64_t id, const char *what)
{
	return mt_error_set(err, MT_ERR_BADFILE, 0,
			    "the recording is damaged: heap census %lld: %s", (long long)id, what);
}

int heapstore_list(sqlite3 *db, int64_t session, struct heapstore_info **out, size_t *n,
		   struct mt_error *err)
{
	*out = NULL;
	*n = 0;
	if (!recfile_has_table(db, "heap_census"))
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id, sample, time FROM heap_census WHERE session = ?"
			       " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "listing the heap censuses", err);
	sqlite3_bind_int64(st, 1, session);
	struct heapstore_info *v = NULL;
	size_t k = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct heapstore_info i;
		if (!recfile_col_i64(st, 0, &i.id) || !recfile_col_i64(st, 1, &i.sample) ||
		    !recfile_col_real(st, 2, &i.time)) {
			rc = damaged(err, i.id, "bad id, sample or time");
			break;
		}
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			struct heapstore_info *g = realloc(v, cap * sizeof(*v));
			if (!g) {
				rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
				break;
			}
			v = g;
		}
		v[k++] = i;
	}
	if (rc != SQLITE_DONE && rc != -1)
		rc = recfile_error(db, "listing the heap censuses", err);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

static int load_census_row(sqlite3 *db, int64_t id, struct heapstore_census *o,
			   struct mt_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT time, stopped_ms, in_use, free, mmapped,"
			       " mmapped_chunks, chunks_in_use, chunks_total, leaks, leaked,"
			       " leaked_bytes, unreferenced FROM heap_census WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return recfile_error(db, "loading a heap census", err);
	sqlite3_bind_int64(st, 1, id);
	int s = sqlite3_step(st);
	uint64_t leaks;
	if (s != SQLITE_ROW) {
		rc = s == SQLITE_DONE ? damaged(err, id, "no such census")
				      : recfile_error(db, "loading a heap census", err);
	} else if (!recfile_col_real(st, 0, &o->time) ||
		   !recfile_col_real(st, 1, &o->stopped_ms) ||
		   !recfile_col_u64(st, 2, &o->c.in_use_bytes) ||
		   !recfile_col_u64(st, 3, &o->c.free_bytes) ||
		   !recfile_col_u64(st, 4, &o->c.mmapped_bytes) ||
		   !recfile_col_u64(st, 5, &o->c.mmapped_chunks) ||
		   !recfile_col_u64(st, 6, &o->c.chunks_in_use) ||
		   !recfile_col_u64(st, 7, &o->c.chunks_total) ||
		   !recfile_col_u64(st, 8, &leaks) ||
		   leaks > 1 || !recfile_col_u64(st, 9, &o->leaked) ||
		   !recfile_col_u64(st, 10, &o->leaked_bytes) ||
		   !recfile_col_u64(st, 11, &o->unreferenced) || o->stopped_ms < 0) {
		rc = damaged(err, id, "bad figures");
	} else {
		o->leaks = leaks;
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int load_arenas(sqlite3 *db, int64_t id, struct census *c, struct mt_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT main, start, heaps, system, overhead, in_use,"
			       " chunks_in_use, free, tcache, fastbins, top, largest_free,"
			       " free_chunks, trimmable FROM heap_arena WHERE census = ?"
			       " ORDER BY idx",
			       -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "loading a heap census's arenas", err);
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n_arenas >= MAX_ARENAS) {
			rc = damaged(err, id, "too many arenas");
			break;
		}
		struct census_arena *v = realloc(c->arenas, (c->n_arenas + 1) * sizeof(*v));
		if (!v) {
			rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
			break;
		}
		c->arenas = v;
		struct census_arena *a = &v[c->n_arenas];
		memset(a, 0, sizeof(*a));
		uint64_t f[14];
		bool ok = true;
		for (int i = 0; i < 14 && ok; i++)
			ok = recfile_col_u64(st, i, &f[i]);
		if (!ok || f[0] > 1 || f[5] + f[7] + f[4] != f[3]) {
			rc = damaged(err, id, "bad arena");
			break;
		}
		a->main = f[0];
		a->start = f[1];
		a->n_heaps = (size_t)f[2];
		a->system = f[3];
		a->overhead = f[4];
		a->in_use = f[5];
		a->chunks_in_use = f[6];
		a->free = f[7];
		a->tcache = f[8];
		a->fastbins = f[9];
		a->top = f[10];
		a->largest_free = f[11];
		a->free_chunks = f[12];
		a->trimmable = f[13];
		a->fragmentation = a->system && a->free >= a->top ?
			(double)(a->free - a->top) / (double)a->system : 0;
		c->n_arenas++;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == -1 ? -1 : recfile_error(db, "loading a heap census's arenas", err);
}

static int load_classes(sqlite3 *db, int64_t id, struct census *c, struct mt_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT name, size, count, bytes, leaked, leaked_bytes"
			       " FROM heap_class WHERE census = ? ORDER BY idx", -1, &st, NULL) !=
	    SQLITE_OK)
		return recfile_error(db, "loading a heap census's classes", err);
	sqlite3_bind_int64(st, 1, id);
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name;
		size_t len;
		struct census_class k;
		memset(&k, 0, sizeof(k));
		if (c->n_classes >= MAX_CLASSES ||
		    !recfile_col_text(st, 0, true, MAX_NAME, &name, &len) ||
		    !recfile_col_u64(st, 1, &k.size) || !recfile_col_u64(st, 2, &k.count) ||
		    !recfile_col_u64(st, 3, &k.bytes) || !recfile_col_u64(st, 4, &k.leaked) ||
		    !recfile_col_u64(st, 5, &k.leaked_bytes) || k.leaked > k.count) {
			rc = damaged(err, id, "bad class");
			break;
		}
		if (c->n_classes == cap) {
			cap = cap ? cap * 2 : 64;
			struct census_class *v = realloc(c->classes, cap * sizeof(*v));
			char **nv = realloc(c->names, cap * sizeof(*nv));
			if (v)
				c->classes = v;
			if (nv)
				c->names = nv;
			if (!v || !nv) {
				rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
				break;
			}
			c->cap_names = cap;
		}
		if (name) {
			char *d = strndup(name, len);
			if (!d) {
				rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
				break;
			}
			c->names[c->n_names++] = d;
			k.name = d;
		}
		c->classes[c->n_classes++] = k;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == -1 ? -1 : recfile_error(db, "loading a heap census's classes", err);
}

int heapstore_load(sqlite3 *db, int64_t id, struct heapstore_census *out, struct mt_error *err)
{
	memset(out, 0, sizeof(*out));
	census_init(&out->c);
	if (load_census_row(db, id, out, err) || load_arenas(db, id, &out->c, err) ||
	    load_classes(db, id, &out->c, err)) {
		census_free(&out->c);
		return -1;
	}
	return 0;
}
