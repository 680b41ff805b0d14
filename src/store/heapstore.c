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
	" PRIMARY KEY (census, idx)) WITHOUT ROWID;"
	/* Added later: the rest of the report's figures, one row a census. */
	"CREATE TABLE IF NOT EXISTS heap_census_more ("
	" census INTEGER PRIMARY KEY,"
	" not_stopped INTEGER NOT NULL, seconds REAL NOT NULL, walk_seconds REAL NOT NULL,"
	" bytes_read INTEGER NOT NULL, swapped_bytes INTEGER NOT NULL,"
	" tcaches INTEGER NOT NULL, unreferenced_bytes INTEGER NOT NULL,"
	" leak_seconds REAL NOT NULL, root_bytes INTEGER NOT NULL,"
	" threads INTEGER NOT NULL, shared_total INTEGER NOT NULL);"
	/* Added later: the leak groups, with up to five example addresses
	 * (e0.., NULL past the last). */
	"CREATE TABLE IF NOT EXISTS heap_leak_group ("
	" census INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" name TEXT, size INTEGER NOT NULL,"
	" count INTEGER NOT NULL, bytes INTEGER NOT NULL, unreferenced INTEGER NOT NULL,"
	" e0 INTEGER, e1 INTEGER, e2 INTEGER, e3 INTEGER, e4 INTEGER,"
	" PRIMARY KEY (census, idx)) WITHOUT ROWID;"
	/* Added later: the shared chunks listed, and their holders listed;
	 * class NULL: unnamed. */
	"CREATE TABLE IF NOT EXISTS heap_shared ("
	" census INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" chunk INTEGER NOT NULL, class TEXT, holders_total INTEGER NOT NULL,"
	" PRIMARY KEY (census, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS heap_shared_holder ("
	" census INTEGER NOT NULL, shared INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" addr INTEGER NOT NULL, class TEXT, offset INTEGER NOT NULL,"
	" PRIMARY KEY (census, shared, idx)) WITHOUT ROWID;";

_Static_assert(LEAKS_EXAMPLES == 5, "heap_leak_group keeps five examples");

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

static int save_census(sqlite3 *db, int64_t session, int64_t sample,
		       const struct record_heap *h, int64_t *id)
{
	const struct census *c = h->c;
	const struct leaks *l = h->leaks;
	sqlite3_stmt *st = NULL;
	size_t errors_len;
	char *errors = recfile_join_lines(c->walk_errors, c->n_walk_errors, &errors_len);
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
	sqlite3_bind_text(st, 15, errors, (int)errors_len, SQLITE_STATIC);
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

/* A class name, NULL for chunks counted by size. */
static void bind_name(sqlite3_stmt *st, int i, const char *name)
{
	if (name)
		sqlite3_bind_text(st, i, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
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
		bind_name(st, 3, k->name);
		int64_t v[] = { recfile_u64(k->size), recfile_u64(k->count), recfile_u64(k->bytes),
				recfile_u64(k->leaked), recfile_u64(k->leaked_bytes) };
		for (int j = 0; j < 5; j++)
			sqlite3_bind_int64(st, 4 + j, v[j]);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int save_more(sqlite3 *db, int64_t id, const struct record_heap *h)
{
	const struct census *c = h->c;
	const struct leaks *l = h->leaks;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO heap_census_more VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)h->not_stopped);
	sqlite3_bind_double(st, 3, h->seconds);
	sqlite3_bind_double(st, 4, c->seconds);
	sqlite3_bind_int64(st, 5, recfile_u64(c->bytes_read));
	sqlite3_bind_int64(st, 6, recfile_u64(c->swapped_bytes));
	sqlite3_bind_int64(st, 7, (int64_t)c->n_tcaches);
	sqlite3_bind_int64(st, 8, l ? recfile_u64(l->unreferenced_bytes) : 0);
	sqlite3_bind_double(st, 9, l ? l->seconds : 0);
	sqlite3_bind_int64(st, 10, l ? recfile_u64(l->root_bytes) : 0);
	sqlite3_bind_int64(st, 11, l ? (int64_t)l->threads : 0);
	sqlite3_bind_int64(st, 12, l ? recfile_u64(l->shared_total) : 0);
	int rc = step_done(st);
	sqlite3_finalize(st);
	return rc;
}

static int save_groups(sqlite3 *db, int64_t id, const struct leaks *l)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (!l)
		return 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO heap_leak_group VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < l->n_groups && rc == 0; i++) {
		const struct leaks_group *g = &l->groups[i];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		bind_name(st, 3, g->name);
		int64_t v[] = { recfile_u64(g->size), recfile_u64(g->count), recfile_u64(g->bytes),
				recfile_u64(g->unreferenced) };
		for (int j = 0; j < 4; j++)
			sqlite3_bind_int64(st, 4 + j, v[j]);
		for (size_t k = 0; k < LEAKS_EXAMPLES; k++)
			if (k < g->n_examples)
				sqlite3_bind_int64(st, 8 + (int)k, recfile_u64(g->examples[k]));
			else
				sqlite3_bind_null(st, 8 + (int)k);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static void bind_class(sqlite3_stmt *st, int i, const struct census *c, uint32_t cls)
{
	cls &= ~CENSUS_MMAPPED;
	bind_name(st, i, cls < c->n_names ? c->names[cls] : NULL);
}

static int save_shared(sqlite3 *db, int64_t id, const struct census *c, const struct leaks *l)
{
	sqlite3_stmt *st = NULL, *hs = NULL;
	int rc = 0;
	if (!l || !l->n_shared)
		return 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO heap_shared VALUES (?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO heap_shared_holder VALUES (?,?,?,?,?,?)", -1, &hs,
			       NULL) != SQLITE_OK)
		rc = -1;
	for (size_t i = 0; i < l->n_shared && rc == 0; i++) {
		const struct leaks_shared *sh = &l->shared[i];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_int64(st, 3, recfile_u64(sh->chunk));
		bind_class(st, 4, c, sh->cls);
		sqlite3_bind_int64(st, 5, recfile_u64(sh->holders_total));
		rc = step_done(st);
		for (size_t k = 0; k < sh->n_holders && rc == 0; k++) {
			sqlite3_bind_int64(hs, 1, id);
			sqlite3_bind_int64(hs, 2, (int64_t)i);
			sqlite3_bind_int64(hs, 3, (int64_t)k);
			sqlite3_bind_int64(hs, 4, recfile_u64(sh->holders[k].addr));
			bind_class(hs, 5, c, sh->holders[k].cls);
			sqlite3_bind_int64(hs, 6, sh->holders[k].offset);
			rc = step_done(hs);
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(hs);
	return rc;
}

int heapstore_save(sqlite3 *db, int64_t session, int64_t sample, const struct record_heap *h,
		   int64_t *id)
{
	if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (save_census(db, session, sample, h, id) || save_arenas(db, *id, h->c) ||
	    save_classes(db, *id, h->c) || save_more(db, *id, h) ||
	    save_groups(db, *id, h->leaks) ||
	    save_shared(db, *id, h->c, h->leaks))
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

/* The row of heap_census_more, when there is one (not in recordings made
 * before the table existed). */
static int load_more(sqlite3 *db, int64_t id, struct heapstore_census *o, struct mt_error *err)
{
	if (!recfile_has_table(db, "heap_census_more"))
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT not_stopped, seconds, walk_seconds, bytes_read,"
			       " swapped_bytes, tcaches, unreferenced_bytes, leak_seconds,"
			       " root_bytes, threads, shared_total FROM heap_census_more"
			       " WHERE census = ?", -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "loading a heap census", err);
	sqlite3_bind_int64(st, 1, id);
	int s = sqlite3_step(st), rc = 0;
	uint64_t ns, tc;
	if (s == SQLITE_DONE) {
		rc = 0;
	} else if (s != SQLITE_ROW) {
		rc = recfile_error(db, "loading a heap census", err);
	} else if (!recfile_col_u64(st, 0, &ns) || !recfile_col_real(st, 1, &o->seconds) ||
		   !recfile_col_real(st, 2, &o->c.seconds) ||
		   !recfile_col_u64(st, 3, &o->c.bytes_read) ||
		   !recfile_col_u64(st, 4, &o->c.swapped_bytes) || !recfile_col_u64(st, 5, &tc) ||
		   !recfile_col_u64(st, 6, &o->unreferenced_bytes) ||
		   !recfile_col_real(st, 7, &o->leak_seconds) ||
		   !recfile_col_u64(st, 8, &o->root_bytes) ||
		   !recfile_col_u64(st, 9, &o->threads) ||
		   !recfile_col_u64(st, 10, &o->shared_total) || ns > (1u << 22) ||
		   tc > (1u << 22) || o->seconds < 0 || o->c.seconds < 0 || o->leak_seconds < 0) {
		rc = damaged(err, id, "bad figures (heap_census_more)");
	} else {
		o->more = true;
		o->not_stopped = (size_t)ns;
		o->c.n_tcaches = (size_t)tc;
	}
	sqlite3_finalize(st);
	return rc;
}

/* A name read back, appended to the census's names (which own it): its
 * index, or CENSUS_UNNAMED when out of memory. */
static uint32_t add_name(struct census *c, const char *name, size_t len)
{
	if (c->n_names >= CENSUS_UNNAMED - 1)
		return CENSUS_UNNAMED;
	if (c->n_names == c->cap_names) {
		size_t nc = c->cap_names ? c->cap_names * 2 : 64;
		char **nv = realloc(c->names, nc * sizeof(*nv));
		if (!nv)
			return CENSUS_UNNAMED;
		c->names = nv;
		c->cap_names = nc;
	}
	char *d = strndup(name, len);
	if (!d)
		return CENSUS_UNNAMED;
	c->names[c->n_names] = d;
	return (uint32_t)c->n_names++;
}

static int load_groups(sqlite3 *db, int64_t id, struct heapstore_census *o, struct mt_error *err)
{
	if (!recfile_has_table(db, "heap_leak_group"))
		return 0;
	struct census *c = &o->c;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT name, size, count, bytes, unreferenced, e0, e1, e2, e3,"
			       " e4 FROM heap_leak_group WHERE census = ? ORDER BY idx", -1, &st,
			       NULL) != SQLITE_OK)
		return recfile_error(db, "loading a heap census's leak groups", err);
	sqlite3_bind_int64(st, 1, id);
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name;
		size_t len;
		struct leaks_group g;
		memset(&g, 0, sizeof(g));
		bool ok = o->n_groups < MAX_CLASSES &&
			recfile_col_text(st, 0, true, MAX_NAME, &name, &len) &&
			recfile_col_u64(st, 1, &g.size) && recfile_col_u64(st, 2, &g.count) &&
			recfile_col_u64(st, 3, &g.bytes) &&
			recfile_col_u64(st, 4, &g.unreferenced) &&
			g.unreferenced <= g.count && g.count <= o->leaked;
		for (int k = 0; ok && k < LEAKS_EXAMPLES; k++) {
			if (sqlite3_column_type(st, 5 + k) == SQLITE_NULL)
				continue;
			/* The examples come first: none after a NULL. */
			ok = (size_t)k == g.n_examples &&
				recfile_col_u64(st, 5 + k, &g.examples[g.n_examples]);
			g.n_examples++;
		}
		if (!ok) {
			rc = damaged(err, id, "bad leak group");
			break;
		}
		if (o->n_groups == cap) {
			cap = cap ? cap * 2 : 16;
			struct leaks_group *v = realloc(o->groups, cap * sizeof(*v));
			if (!v) {
				rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
				break;
			}
			o->groups = v;
		}
		if (name) {
			/* Owned by the census's names, as the classes' are. */
			uint32_t k = add_name(c, name, len);
			if (k == CENSUS_UNNAMED) {
				rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
				break;
			}
			g.name = c->names[k];
		}
		o->groups[o->n_groups++] = g;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == -1 ? -1 : recfile_error(db, "loading a heap census's leak groups", err);
}

/* A class column of heap_shared or heap_shared_holder: *cls its index
 * among the census's names, or CENSUS_UNNAMED for NULL.  false when
 * damaged (err set) or out of memory (err set). */
static bool read_class(sqlite3_stmt *st, int i, struct census *c, uint32_t *cls, int64_t id,
		       struct mt_error *err)
{
	const char *name;
	size_t len;
	if (!recfile_col_text(st, i, true, MAX_NAME, &name, &len)) {
		damaged(err, id, "bad shared chunk");
		return false;
	}
	*cls = CENSUS_UNNAMED;
	if (!name)
		return true;
	*cls = add_name(c, name, len);
	if (*cls == CENSUS_UNNAMED) {
		mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		return false;
	}
	return true;
}

static int load_shared(sqlite3 *db, int64_t id, struct heapstore_census *o, struct mt_error *err)
{
	if (!recfile_has_table(db, "heap_shared") || !recfile_has_table(db, "heap_shared_holder"))
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT idx, chunk, class, holders_total FROM heap_shared"
			       " WHERE census = ? ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
		return recfile_error(db, "loading a heap census's shared chunks", err);
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t idx;
		struct leaks_shared sh;
		memset(&sh, 0, sizeof(sh));
		if (o->n_shared >= LEAKS_SHARED_MAX || !recfile_col_u64(st, 0, &idx) ||
		    idx != o->n_shared || !recfile_col_u64(st, 1, &sh.chunk) ||
		    !recfile_col_u64(st, 3, &sh.holders_total) ||
		    o->n_shared >= o->shared_total) {
			rc = damaged(err, id, "bad shared chunk");
			break;
		}
		if (!read_class(st, 2, &o->c, &sh.cls, id, err)) {
			rc = -1;
			break;
		}
		if (!o->shared) {
			o->shared = calloc(LEAKS_SHARED_MAX, sizeof(*o->shared));
			if (!o->shared) {
				rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
				break;
			}
		}
		o->shared[o->n_shared++] = sh;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return rc == -1 ? -1 : recfile_error(db, "loading a heap census's shared chunks",
						     err);
	if (sqlite3_prepare_v2(db, "SELECT shared, idx, addr, class, offset FROM"
			       " heap_shared_holder WHERE census = ? ORDER BY shared, idx", -1,
			       &st, NULL) != SQLITE_OK)
		return recfile_error(db, "loading a heap census's shared chunks", err);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t sidx, idx, off;
		struct leaks_holder h;
		if (!recfile_col_u64(st, 0, &sidx) || sidx >= o->n_shared ||
		    !recfile_col_u64(st, 1, &idx) || !recfile_col_u64(st, 2, &h.addr) ||
		    !recfile_col_u64(st, 4, &off) || off > UINT32_MAX) {
			rc = damaged(err, id, "bad holder of a shared chunk");
			break;
		}
		struct leaks_shared *sh = &o->shared[sidx];
		if (idx != sh->n_holders || sh->n_holders >= LEAKS_HOLDERS_MAX ||
		    sh->n_holders >= sh->holders_total) {
			rc = damaged(err, id, "bad holder of a shared chunk");
			break;
		}
		if (!read_class(st, 3, &o->c, &h.cls, id, err)) {
			rc = -1;
			break;
		}
		h.offset = (uint32_t)off;
		sh->holders[sh->n_holders++] = h;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == -1 ? -1 : recfile_error(db, "loading a heap census's shared chunks", err);
}

void heapstore_census_free(struct heapstore_census *hc)
{
	census_free(&hc->c);
	free(hc->groups);
	free(hc->shared);
	hc->groups = NULL;
	hc->shared = NULL;
	hc->n_groups = hc->n_shared = 0;
}

int heapstore_load(sqlite3 *db, int64_t id, struct heapstore_census *out, struct mt_error *err)
{
	memset(out, 0, sizeof(*out));
	census_init(&out->c);
	if (load_census_row(db, id, out, err) || load_arenas(db, id, &out->c, err) ||
	    load_classes(db, id, &out->c, err) || load_more(db, id, out, err) ||
	    load_groups(db, id, out, err) || load_shared(db, id, out, err)) {
		heapstore_census_free(out);
		return -1;
	}
	return 0;
}
