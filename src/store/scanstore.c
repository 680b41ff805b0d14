/*
 * scanstore.c - reference scans kept in a recording (scanstore.h).
 *
 * Saving writes what the drill-down showed, with the regions it names,
 * so a replay shows the step without the process.  Loading trusts
 * nothing: a recording may be damaged, or made by hand to hurt its
 * reader, so every value is type-checked and every index, count and
 * string bounded before use, and one bad row refuses the whole scan
 * rather than showing a part that looks whole.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/recfile.h"
#include "memtop/scanstore.h"
#include "memtop/vec.h"

/* Bounds on a loaded scan: far above what a live scan makes (max_refs is
 * 10,000 by default), low enough that a hostile file is refused before
 * it costs gigabytes. */
#define MAX_REFS 1000000
#define MAX_REGIONS 100000
#define MAX_STACKS 100000
#define MAX_WALK_ERRORS 100000
#define MAX_PATH (PATH_MAX * 2)
#define MAX_NAME (PATH_MAX * 2) /* class, symbol, function, walk error */

/* chunk_flags: what struct heapwalk_chunk says besides its addresses. */
#define CF_IN_USE 1
#define CF_TOP 2
#define CF_MMAPPED 4
#define CF_LIST_SHIFT 4

static const char *const holder_names[] = {
	[SCAN_HOLDER_REGION] = "region", [SCAN_HOLDER_HEAP] = "heap",
	[SCAN_HOLDER_GLOBAL] = "global", [SCAN_HOLDER_STACK] = "stack",
};
#define N_HOLDERS (sizeof(holder_names) / sizeof(holder_names[0]))

/* ---- saving ------------------------------------------------------------- */

enum save_stmt { SV_SCAN, SV_MORE, SV_REGION, SV_REF, SV_FRAME, SV_COUNT };

static const char *const save_sql[SV_COUNT] = {
	[SV_SCAN] = "INSERT INTO scan (session, sample, parent, taken, lo, hi, label, frozen,"
		" stopped_ms, not_stopped, refs_total, internal, scanned_bytes, absent_bytes,"
		" scanned_regions, excluded_regions, skipped_regions, seconds, cancelled,"
		" walk_errors) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[SV_MORE] = "INSERT INTO scan_more (scan, swapped_bytes, file_bytes, readers)"
		" VALUES (?,?,?,?)",
	[SV_REGION] = "INSERT INTO scan_region (scan, idx, start, end, perms, offset, inode,"
		" path, category, tid) VALUES (?,?,?,?,?,?,?,?,?,?)",
	[SV_REF] = "INSERT INTO scan_ref (scan, idx, addr, value, region, holder, chunk, user,"
		" size, chunk_size, chunk_flags, class, stale_free, symbol, symbol_offset, module,"
		" tid, dead_stack, frame_index, frame, frame_offset)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[SV_FRAME] = "INSERT INTO scan_frame (scan, tid, idx, ip, sp, func, func_offset, error)"
		" VALUES (?,?,?,?,?,?,?,?)",
};

struct saver {
	sqlite3 *db;
	sqlite3_stmt *st[SV_COUNT];
	const struct record_scan *sc;
	int64_t id;
	long *renum; /* snapshot index -> stored index, -1: not stored */
};

static void bind_i64(sqlite3_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v);
}

static void bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	sqlite3_bind_int64(s, i, recfile_u64(v));
}

/* NULL stays NULL: the reader tells "no symbol" from "". */
static void bind_str(sqlite3_stmt *s, int i, const char *t, size_t len)
{
	if (t)
		sqlite3_bind_text(s, i, t, (int)len, SQLITE_STATIC);
}

static void bind_cstr(sqlite3_stmt *s, int i, const char *t)
{
	bind_str(s, i, t, t ? strlen(t) : 0);
}

/* Step a statement that returns no row, and reset it for reuse. */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int save_scan(struct saver *sv, int64_t session, int64_t sample)
{
	const struct record_scan *sc = sv->sc;
	const struct scan_result *res = sc->res;
	sqlite3_stmt *s = sv->st[SV_SCAN];
	size_t len;
	char *errs = recfile_join_lines(res->walk_errors, res->n_walk_errors, &len);
	if (!errs)
		return -1;
	bind_i64(s, 1, session);
	bind_i64(s, 2, sample);
	if (sc->parent)
		bind_i64(s, 3, sc->parent);
	sqlite3_bind_double(s, 4, sc->taken);
	bind_u64(s, 5, sc->lo);
	bind_u64(s, 6, sc->hi);
	bind_cstr(s, 7, sc->label ? sc->label : "");
	bind_i64(s, 8, sc->frozen);
	sqlite3_bind_double(s, 9, sc->stopped_ms);
	bind_u64(s, 10, sc->not_stopped);
	bind_u64(s, 11, res->refs_total);
	bind_u64(s, 12, res->internal);
	bind_u64(s, 13, res->scanned_bytes);
	bind_u64(s, 14, res->absent_bytes);
	bind_u64(s, 15, res->scanned_regions);
	bind_u64(s, 16, res->excluded_regions);
	bind_u64(s, 17, res->skipped_regions);
	sqlite3_bind_double(s, 18, res->seconds);
	bind_i64(s, 19, res->cancelled);
	/* SQLite frees errs, also when the bind fails. */
	sqlite3_bind_text(s, 20, errs, (int)len, free);
	if (run(s))
		return -1;
	sv->id = sqlite3_last_insert_rowid(sv->db);
	s = sv->st[SV_MORE];
	bind_i64(s, 1, sv->id);
	bind_u64(s, 2, res->swapped_bytes);
	bind_u64(s, 3, res->file_bytes);
	bind_u64(s, 4, res->threads);
	return run(s);
}

/*
 * Number the regions the result names, in address order (the snapshot's
 * order).  -1 when a ref names no region of the snapshot: a caller's bug,
 * and a row that could not be loaded back.
 */
static int pick_regions(struct saver *sv)
{
	const struct mt_snapshot *snap = sv->sc->snap;
	const struct scan_result *res = sv->sc->res;
	sv->renum = calloc(snap->n_regions ? snap->n_regions : 1, sizeof(*sv->renum));
	if (!sv->renum)
		return -1;
	for (size_t i = 0; i < res->n_refs; i++) {
		long r = res->refs[i].region;
		if (r < 0 || (size_t)r >= snap->n_regions)
			return -1;
		sv->renum[r] = 1;
	}
	for (size_t g = 0; g < res->n_groups; g++) {
		long r = res->groups[g].region;
		if (r >= 0 && (size_t)r < snap->n_regions)
			sv->renum[r] = 1;
	}
	long at = snapshot_find(snap, sv->sc->lo);
	if (at >= 0)
		sv->renum[at] = 1;
	long k = 0;
	for (size_t i = 0; i < snap->n_regions; i++)
		sv->renum[i] = sv->renum[i] ? k++ : -1;
	return 0;
}

static int save_region(struct saver *sv, long idx, const struct mt_region *r)
{
	sqlite3_stmt *s = sv->st[SV_REGION];
	char perms[5];
	region_perms_str(r->perms, perms);
	bind_i64(s, 1, sv->id);
	bind_i64(s, 2, idx);
	bind_u64(s, 3, r->start);
	bind_u64(s, 4, r->end);
	bind_cstr(s, 5, perms);
	bind_u64(s, 6, r->offset);
	bind_u64(s, 7, r->inode);
	bind_str(s, 8, r->path ? r->path : "", r->path ? r->path_len : 0);
	bind_cstr(s, 9, region_category_name(r->category));
	bind_i64(s, 10, r->tid);
	/* SQLITE_STATIC perms: the step below is done before it goes. */
	return run(s);
}

static int save_regions(struct saver *sv)
{
	const struct mt_snapshot *snap = sv->sc->snap;
	for (size_t i = 0; i < snap->n_regions; i++)
		if (sv->renum[i] >= 0 && save_region(sv, sv->renum[i], &snap->regions[i]))
			return -1;
	return 0;
}

static int64_t chunk_flags(const struct heapwalk_chunk *c)
{
	return (c->in_use ? CF_IN_USE : 0) | (c->top ? CF_TOP : 0) |
		(c->mmapped ? CF_MMAPPED : 0) | (int64_t)c->free_list << CF_LIST_SHIFT;
}

static int save_ref(struct saver *sv, size_t idx, const struct scan_ref *r)
{
	sqlite3_stmt *s = sv->st[SV_REF];
	if ((unsigned)r->holder >= N_HOLDERS)
		return -1;
	bind_i64(s, 1, sv->id);
	bind_i64(s, 2, (int64_t)idx);
	bind_u64(s, 3, r->addr);
	bind_u64(s, 4, r->value);
	bind_i64(s, 5, sv->renum[r->region]);
	bind_cstr(s, 6, holder_names[r->holder]);
	if (r->has_object) {
		bind_u64(s, 7, r->object.chunk);
		bind_u64(s, 8, r->object.user);
		bind_u64(s, 9, r->object.size);
		bind_u64(s, 10, r->object.chunk_size);
		bind_i64(s, 11, chunk_flags(&r->object));
	}
	bind_cstr(s, 12, r->class_name);
	bind_i64(s, 13, r->stale_free);
	bind_cstr(s, 14, r->symbol);
	if (r->symbol)
		bind_u64(s, 15, r->symbol_offset);
	bind_cstr(s, 16, r->module);
	bind_i64(s, 17, r->tid);
	bind_i64(s, 18, r->dead_stack);
	bind_i64(s, 19, r->frame_index);
	bind_cstr(s, 20, r->frame);
	if (r->frame)
		bind_u64(s, 21, r->frame_offset);
	return run(s);
}

/* The stack's error goes with its first row: -1 for a stack without
 * frames, which is stored so that "unwound, nothing found" replays. */
static int save_frame(struct saver *sv, const struct unwind_stack *st, long idx,
		      const struct unwind_frame *f)
{
	sqlite3_stmt *s = sv->st[SV_FRAME];
	bind_i64(s, 1, sv->id);
	bind_i64(s, 2, st->tid);
	bind_i64(s, 3, idx);
	bind_u64(s, 4, f->ip);
	bind_u64(s, 5, f->sp);
	bind_str(s, 6, f->func, strnlen(f->func, sizeof(f->func)));
	bind_u64(s, 7, f->func_offset);
	if (idx <= 0 && st->error[0])
		bind_str(s, 8, st->error, strnlen(st->error, sizeof(st->error)));
	return run(s);
}

static int save_stack(struct saver *sv, const struct unwind_stack *st)
{
	static const struct unwind_frame none;
	if (st->n == 0)
		return save_frame(sv, st, -1, &none);
	for (size_t i = 0; i < st->n; i++)
		if (save_frame(sv, st, (long)i, &st->frames[i]))
			return -1;
	return 0;
}

static int save_all(struct saver *sv, int64_t session, int64_t sample)
{
	const struct scan_result *res = sv->sc->res;
	for (int i = 0; i < SV_COUNT; i++)
		if (sqlite3_prepare_v2(sv->db, save_sql[i], -1, &sv->st[i], NULL) != SQLITE_OK)
			return -1;
	if (pick_regions(sv) || save_scan(sv, session, sample) || save_regions(sv))
		return -1;
	for (size_t i = 0; i < res->n_refs; i++)
		if (save_ref(sv, i, &res->refs[i]))
			return -1;
	for (size_t i = 0; i < res->n_stacks; i++)
		if (save_stack(sv, &res->stacks[i]))
			return -1;
	return 0;
}

int scanstore_save(sqlite3 *db, int64_t session, int64_t sample,
		   const struct record_scan *sc, int64_t *id)
{
	struct saver sv = { .db = db, .sc = sc };
	int rc = save_all(&sv, session, sample);
	for (int i = 0; i < SV_COUNT; i++)
		sqlite3_finalize(sv.st[i]);
	free(sv.renum);
	if (rc == 0 && id)
		*id = sv.id;
	return rc;
}

/* ---- reading columns, suspiciously -------------------------------------- */

struct loader {
	sqlite3 *db;
	int64_t id;              /* the scan, for messages */
	struct mt_error *err;
	struct scanstore_scan *out;
	size_t cap_stacks, cap_frames;
	bool closed;             /* the last stack had its -1 row: no more */
	const char *last[4];     /* last string kept per field: runs share one */
};

enum { KEEP_CLASS, KEEP_SYMBOL, KEEP_MODULE, KEEP_FRAME };

__attribute__((format(printf, 2, 3)))
static int damaged(const struct loader *l, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mt_error_set(l->err, MT_ERR_BADFILE, 0,
			    "the recording is damaged: scan %lld: %s", (long long)l->id, what);
}

static int sql_failed(const struct loader *l)
{
	char what[64] = "reading the scans";
	if (l->id)
		snprintf(what, sizeof(what), "reading scan %lld", (long long)l->id);
	return recfile_error(l->db, what, l->err);
}

static int no_memory(const struct loader *l)
{
	return mt_error_set(l->err, MT_ERR_OTHER, ENOMEM, "out of memory reading scan %lld",
			    (long long)l->id);
}

static bool col_bool(sqlite3_stmt *st, int i, bool *v)
{
	int64_t x;
	if (!recfile_col_int(st, i, 0, 1, &x))
		return false;
	*v = x != 0;
	return true;
}

/* A count kept in a size_t: never negative. */
static bool col_size(sqlite3_stmt *st, int i, size_t *v)
{
	int64_t x;
	if (!recfile_col_int(st, i, 0, INT64_MAX, &x))
		return false;
	*v = (size_t)x;
	return true;
}

/* NULL is 0 and *present false. */
static bool col_opt_u64(sqlite3_stmt *st, int i, uint64_t *v, bool *present)
{
	*v = 0;
	*present = sqlite3_column_type(st, i) != SQLITE_NULL;
	return !*present || recfile_col_u64(st, i, v);
}

/* Text into a fixed buffer, which it must fit (NUL included). */
static bool col_fixed(sqlite3_stmt *st, int i, bool null_ok, char *buf, size_t cap)
{
	const char *t;
	size_t len;
	if (!recfile_col_text(st, i, null_ok, cap - 1, &t, &len))
		return false;
	memcpy(buf, t ? t : "", len);
	buf[len] = '\0';
	return true;
}

static bool parse_category(const char *p, size_t len, enum mt_category *out)
{
	for (int c = 0; p && c < MT_CAT_COUNT; c++) {
		const char *name = region_category_name((enum mt_category)c);
		if (strlen(name) == len && memcmp(name, p, len) == 0) {
			*out = (enum mt_category)c;
			return true;
		}
	}
	return false;
}

static bool parse_holder(const char *p, size_t len, enum scan_holder *out)
{
	for (size_t h = 0; p && h < N_HOLDERS; h++) {
		if (strlen(holder_names[h]) == len && memcmp(holder_names[h], p, len) == 0) {
			*out = (enum scan_holder)h;
			return true;
		}
	}
	return false;
}

/* Cut a label to fit, never inside a UTF-8 sequence. */
static void copy_label(char *dst, size_t cap, const char *t, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	if (n < len)
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
	memcpy(dst, t, n);
	dst[n] = '\0';
}

/* A copy of t owned by the result (the previous one of its field when the
 * same); NULL for NULL.  -1 when out of memory. */
static int keep(struct loader *l, int field, const char *t, size_t len, const char **out)
{
	struct scan_result *res = &l->out->res;
	const char *last = l->last[field];
	*out = NULL;
	if (!t)
		return 0;
	if (last && strlen(last) == len && memcmp(last, t, len) == 0) {
		*out = last;
		return 0;
	}
	if (VEC_RESERVE(res->strings, res->cap_strings, res->n_strings, 64))
		return -1;
	char *c = strndup(t, len);
	if (!c)
		return -1;
	res->strings[res->n_strings++] = c;
	*out = l->last[field] = c;
	return 0;
}

/* Prepare sql with key (a scan or session id) bound to its one parameter. */
static sqlite3_stmt *prepare(struct loader *l, const char *sql, int64_t key)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_failed(l);
		sqlite3_finalize(st);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, key);
	return st;
}

/*
 * Step st through its rows, each handed to row(l, st, index); stops at
 * the first that fails (err set).  0, or -1.
 */
static int each_row(struct loader *l, sqlite3_stmt *st,
		    int (*row)(struct loader *, sqlite3_stmt *, size_t))
{
	int rc;
	size_t n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(l, st, n++))
			return -1;
	return rc == SQLITE_DONE ? 0 : sql_failed(l);
}

static int load_rows(struct loader *l, const char *sql,
		     int (*row)(struct loader *, sqlite3_stmt *, size_t))
{
	sqlite3_stmt *st = prepare(l, sql, l->id);
	if (!st)
		return -1;
	int rc = each_row(l, st, row);
	sqlite3_finalize(st);
	return rc;
}

/* ---- scan rows -------------------------------------------------------- */

#define INFO_COLUMNS "id, parent, sample, taken, lo, hi, label"

/* Columns 0..6 (INFO_COLUMNS).  A parent is an earlier scan, so chains
 * followed through parents end. */
static int read_info(struct loader *l, sqlite3_stmt *st, struct scanstore_info *in)
{
	const char *label;
	size_t len;
	memset(in, 0, sizeof(*in));
	if (!recfile_col_int(st, 0, 1, INT64_MAX, &in->id))
		return damaged(l, "bad id");
	l->id = in->id;
	if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
	    !recfile_col_int(st, 1, 1, in->id - 1, &in->parent))
		return damaged(l, "bad parent");
	if (!recfile_col_int(st, 2, 0, INT64_MAX, &in->sample) || !recfile_col_real(st, 3, &in->taken))
		return damaged(l, "bad sample or time");
	if (!recfile_col_u64(st, 4, &in->lo) || !recfile_col_u64(st, 5, &in->hi) || in->lo >= in->hi)
		return damaged(l, "bad range");
	if (!recfile_col_text(st, 6, false, INT_MAX, &label, &len))
		return damaged(l, "the label is not text");
	copy_label(in->label, sizeof(in->label), label, len);
	return 0;
}

static int list_row(struct loader *l, sqlite3_stmt *st, struct scanstore_info **v,
		    size_t *n, size_t *cap)
{
	if (VEC_RESERVE(*v, *cap, *n, 16))
		return no_memory(l);
	if (read_info(l, st, &(*v)[*n]))
		return -1;
	(*n)++;
	return 0;
}

int scanstore_list(sqlite3 *db, int64_t session, struct scanstore_info **out, size_t *n,
		   struct mt_error *err)
{
	struct loader l = { .db = db, .err = err };
	struct scanstore_info *v = NULL;
	size_t cap = 0, k = 0;
	int rc = -1;
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = prepare(&l, "SELECT " INFO_COLUMNS " FROM scan WHERE session = ?"
				   " ORDER BY id", session);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (list_row(&l, st, &v, &k, &cap))
			break;
	if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		if (rc != SQLITE_ROW) {
			l.id = 0;
			sql_failed(&l);
		}
		rc = -1;
	}
	sqlite3_finalize(st);
	if (rc) {
		free(v);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

/* The rest of the scan row: the figures the step's header shows. */
static int read_scan(struct loader *l, sqlite3_stmt *st)
{
	struct scanstore_scan *s = l->out;
	struct scan_result *res = &s->res;
	if (read_info(l, st, &s->info))
		return -1;
	res->lo = s->info.lo;
	res->hi = s->info.hi;
	if (!col_bool(st, 7, &s->frozen) || !recfile_col_real(st, 8, &s->stopped_ms) ||
	    s->stopped_ms < 0 || !col_size(st, 9, &s->not_stopped))
		return damaged(l, "bad freeze figures");
	if (!recfile_col_u64(st, 10, &res->refs_total) ||
	    !recfile_col_u64(st, 11, &res->internal) ||
	    !recfile_col_u64(st, 12, &res->scanned_bytes) ||
	    !recfile_col_u64(st, 13, &res->absent_bytes) ||
	    !col_size(st, 14, &res->scanned_regions) || !col_size(st, 15, &res->excluded_regions) ||
	    !col_size(st, 16, &res->skipped_regions) || !recfile_col_real(st, 17, &res->seconds) ||
	    res->seconds < 0 || !col_bool(st, 18, &res->cancelled))
		return damaged(l, "bad counters");
	return 0;
}

/* walk_errors: one per line, none when empty. */
static int split_errors(struct loader *l, const char *t, size_t len)
{
	struct scan_result *res = &l->out->res;
	size_t lines = 1;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		lines += t[i] == '\n';
	if (lines > MAX_WALK_ERRORS)
		return damaged(l, "too many walk errors");
	res->walk_errors = calloc(lines, sizeof(*res->walk_errors));
	if (!res->walk_errors)
		return no_memory(l);
	for (const char *p = t, *end = t + len; res->n_walk_errors < lines;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (k > MAX_NAME)
			return damaged(l, "a walk error is too long");
		char *c = strndup(p, k);
		if (!c)
			return no_memory(l);
		res->walk_errors[res->n_walk_errors++] = c;
		p += k + 1;
	}
	return 0;
}

static int load_scan(struct loader *l)
{
	sqlite3_stmt *st = prepare(l, "SELECT " INFO_COLUMNS ", frozen, stopped_ms,"
				   " not_stopped, refs_total, internal, scanned_bytes,"
				   " absent_bytes, scanned_regions, excluded_regions,"
				   " skipped_regions, seconds, cancelled, walk_errors"
				   " FROM scan WHERE id = ?", l->id);
	if (!st)
		return -1;
	int64_t id = l->id;
	int rc = sqlite3_step(st);
	const char *t;
	size_t len;
	if (rc == SQLITE_DONE)
		rc = mt_error_set(l->err, MT_ERR_BADFILE, 0, "no scan %lld in the recording",
				  (long long)id);
	else if (rc != SQLITE_ROW)
		rc = sql_failed(l);
	else if (read_scan(l, st))
		rc = -1;
	else if (l->out->info.id != id)
		rc = damaged(l, "stored as scan %lld", (long long)l->out->info.id);
	else if (!recfile_col_text(st, 19, false, (size_t)MAX_WALK_ERRORS * (MAX_NAME + 1), &t, &len))
		rc = damaged(l, "walk_errors is not text");
	else
		rc = split_errors(l, t, len);
	l->id = id;
	sqlite3_finalize(st);
	return rc;
}

/* scan_more's row, when the file has the table and the row (files before
 * it read as zeros: nothing swapped, nothing from files, readers unknown). */
static int load_more(struct loader *l)
{
	struct scan_result *res = &l->out->res;
	if (!recfile_has_table(l->db, "scan_more"))
		return 0;
	sqlite3_stmt *st = prepare(l, "SELECT swapped_bytes, file_bytes, readers"
				   " FROM scan_more WHERE scan = ?", l->id);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int64_t readers;
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc != SQLITE_ROW)
		rc = sql_failed(l);
	else if (!recfile_col_u64(st, 0, &res->swapped_bytes) ||
		 !recfile_col_u64(st, 1, &res->file_bytes) ||
		 res->file_bytes > res->scanned_bytes ||
		 !recfile_col_int(st, 2, 0, 4096, &readers))
		rc = damaged(l, "bad swapped, file or reader figures");
	else {
		res->threads = (unsigned)readers;
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- regions ------------------------------------------------------------ */

static int region_row(struct loader *l, sqlite3_stmt *st, size_t i)
{
	struct mt_snapshot *snap = &l->out->snap;
	int64_t idx, tid;
	uint64_t start, end, offset, inode;
	const char *perms, *path, *cat;
	size_t plen, len, clen;
	uint8_t p;
	enum mt_category c;
	if (i >= MAX_REGIONS)
		return damaged(l, "more than %d regions", MAX_REGIONS);
	if (!recfile_col_i64(st, 0, &idx) || idx != (int64_t)i)
		return damaged(l, "region %zu is missing", i);
	if (!recfile_col_u64(st, 1, &start) || !recfile_col_u64(st, 2, &end) || start >= end ||
	    (i > 0 && start < snap->regions[i - 1].end))
		return damaged(l, "region %zu is empty, out of order or overlaps", i);
	if (!recfile_col_text(st, 3, false, 4, &perms, &plen) || !recfile_parse_perms(perms, plen, &p) ||
	    !recfile_col_u64(st, 4, &offset) || !recfile_col_u64(st, 5, &inode) ||
	    !recfile_col_text(st, 6, false, MAX_PATH, &path, &len) ||
	    !recfile_col_text(st, 7, false, 16, &cat, &clen) || !parse_category(cat, clen, &c) ||
	    !recfile_col_int(st, 8, 0, INT_MAX, &tid))
		return damaged(l, "region %zu has bad values", i);
	struct mt_region *r = snapshot_add_region(snap);
	if (!r)
		return no_memory(l);
	r->start = start;
	r->end = end;
	r->perms = p;
	r->offset = offset;
	r->inode = inode;
	r->category = c;
	r->tid = (int)tid;
	r->path = snapshot_intern(snap, path, len);
	r->path_len = (uint32_t)len;
	if (!r->path) {
		r->path = "";
		r->path_len = 0;
		return no_memory(l);
	}
	return 0;
}

/* ---- backtraces --------------------------------------------------------- */

/* A new stack for tid, after the last (rows come ordered by tid). */
static int new_stack(struct loader *l, int64_t tid)
{
	struct scan_result *res = &l->out->res;
	if (res->n_stacks && tid <= res->stacks[res->n_stacks - 1].tid)
		return damaged(l, "backtraces out of order");
	if (res->n_stacks >= MAX_STACKS)
		return damaged(l, "more than %d backtraces", MAX_STACKS);
	if (VEC_RESERVE(res->stacks, l->cap_stacks, res->n_stacks, 8))
		return no_memory(l);
	struct unwind_stack *s = &res->stacks[res->n_stacks++];
	memset(s, 0, sizeof(*s));
	s->tid = (pid_t)tid;
	l->cap_frames = 0;
	return 0;
}

/* A stack's rows are idx 0, 1, ... or a single -1 (no frames); its
 * error is on the first. */
static int frame_row(struct loader *l, sqlite3_stmt *st, size_t i)
{
	struct scan_result *res = &l->out->res;
	int64_t tid, idx;
	struct unwind_frame f;
	char error[sizeof(res->stacks->error)];
	if (!recfile_col_int(st, 0, 1, INT_MAX, &tid) ||
	    !recfile_col_int(st, 1, -1, UNWIND_MAX_FRAMES, &idx))
		return damaged(l, "backtrace row %zu has a bad thread or index", i);
	if (!res->n_stacks || res->stacks[res->n_stacks - 1].tid != tid) {
		if (new_stack(l, tid))
			return -1;
		l->closed = false;
	}
	struct unwind_stack *s = &res->stacks[res->n_stacks - 1];
	if (l->closed || idx != (idx < 0 ? -1 : (int64_t)s->n) || (idx < 0 && s->n))
		return damaged(l, "thread %lld: frame %lld is out of order", (long long)tid,
			       (long long)idx);
	if (idx >= UNWIND_MAX_FRAMES)
		return damaged(l, "thread %lld: too many frames", (long long)tid);
	memset(&f, 0, sizeof(f));
	if (!recfile_col_u64(st, 2, &f.ip) || !recfile_col_u64(st, 3, &f.sp) ||
	    !col_fixed(st, 4, false, f.func, sizeof(f.func)) || !recfile_col_u64(st, 5, &f.func_offset) ||
	    !col_fixed(st, 6, true, error, sizeof(error)) || (idx > 0 && error[0]))
		return damaged(l, "thread %lld: frame %lld has bad values", (long long)tid,
			       (long long)idx);
	if (idx <= 0)
		memcpy(s->error, error, sizeof(error));
	if (idx < 0) {
		l->closed = true;
		return 0;
	}
	if (VEC_RESERVE(s->frames, l->cap_frames, s->n, 16))
		return no_memory(l);
	s->frames[s->n++] = f;
	return 0;
}

/* ---- references --------------------------------------------------------- */

static const struct unwind_stack *find_stack(const struct scan_result *res, int64_t tid)
{
	size_t lo = 0, hi = res->n_stacks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (res->stacks[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < res->n_stacks && res->stacks[lo].tid == tid ? &res->stacks[lo] : NULL;
}

/* Columns 5..9: the enclosing chunk, all there or all NULL. */
static bool read_chunk(sqlite3_stmt *st, struct scan_ref *r)
{
	struct heapwalk_chunk *c = &r->object;
	bool p[4];
	uint64_t flags;
	bool has_flags;
	if (!col_opt_u64(st, 5, &c->chunk, &r->has_object) || !col_opt_u64(st, 6, &c->user, &p[0]) ||
	    !col_opt_u64(st, 7, &c->size, &p[1]) || !col_opt_u64(st, 8, &c->chunk_size, &p[2]) ||
	    !col_opt_u64(st, 9, &flags, &has_flags))
		return false;
	p[3] = has_flags;
	for (int i = 0; i < 4; i++)
		if (p[i] != r->has_object)
			return false;
	if (flags & ~(uint64_t)(CF_IN_USE | CF_TOP | CF_MMAPPED | 3u << CF_LIST_SHIFT) ||
	    flags >> CF_LIST_SHIFT > HEAPWALK_FREE_FASTBIN)
		return false;
	c->in_use = flags & CF_IN_USE;
	c->top = flags & CF_TOP;
	c->mmapped = flags & CF_MMAPPED;
	c->free_list = (enum heapwalk_freelist)(flags >> CF_LIST_SHIFT);
	return true;
}

/* Columns 10..19: names and the stack frame, each string kept by res. */
static int read_names(struct loader *l, sqlite3_stmt *st, struct scan_ref *r)
{
	const char *cls, *sym, *mod, *frame;
	size_t clen, slen, mlen, flen;
	int64_t tid, fi;
	bool has_off;
	if (!recfile_col_text(st, 10, true, MAX_NAME, &cls, &clen) || !col_bool(st, 11, &r->stale_free) ||
	    !recfile_col_text(st, 12, true, MAX_NAME, &sym, &slen) ||
	    !col_opt_u64(st, 13, &r->symbol_offset, &has_off) ||
	    !recfile_col_text(st, 14, true, MAX_PATH, &mod, &mlen) ||
	    !recfile_col_int(st, 15, 0, INT_MAX, &tid) || !col_bool(st, 16, &r->dead_stack) ||
	    !recfile_col_int(st, 17, -1, UNWIND_MAX_FRAMES, &fi) ||
	    !recfile_col_text(st, 18, true, MAX_NAME, &frame, &flen) ||
	    !col_opt_u64(st, 19, &r->frame_offset, &has_off))
		return 1;
	r->tid = (int)tid;
	r->frame_index = (long)fi;
	const struct unwind_stack *s = find_stack(&l->out->res, tid);
	if (fi >= 0 && (!s || (size_t)fi >= s->n))
		return 1;
	if (keep(l, KEEP_CLASS, cls, clen, &r->class_name) ||
	    keep(l, KEEP_SYMBOL, sym, slen, &r->symbol) ||
	    keep(l, KEEP_MODULE, mod, mlen, &r->module) ||
	    keep(l, KEEP_FRAME, frame, flen, &r->frame))
		return -1;
	return 0;
}

static int ref_row(struct loader *l, sqlite3_stmt *st, size_t i)
{
	struct scan_result *res = &l->out->res;
	const struct mt_snapshot *snap = &l->out->snap;
	int64_t idx, region;
	const char *holder;
	size_t hlen;
	if (i >= MAX_REFS)
		return damaged(l, "more than %d references", MAX_REFS);
	if (!recfile_col_i64(st, 0, &idx) || idx != (int64_t)i)
		return damaged(l, "reference %zu is missing", i);
	if (VEC_RESERVE(res->refs, res->cap_refs, res->n_refs, 64))
		return no_memory(l);
	struct scan_ref *r = &res->refs[i];
	memset(r, 0, sizeof(*r));
	if (!recfile_col_u64(st, 1, &r->addr) || !recfile_col_u64(st, 2, &r->value) ||
	    !recfile_col_int(st, 3, 0, (int64_t)snap->n_regions - 1, &region) ||
	    r->addr < snap->regions[region].start || r->addr >= snap->regions[region].end)
		return damaged(l, "reference %zu: bad address or region", i);
	r->region = (long)region;
	r->region_offset = r->addr - snap->regions[region].start;
	if (!recfile_col_text(st, 4, false, 8, &holder, &hlen) || !parse_holder(holder, hlen, &r->holder))
		return damaged(l, "reference %zu: bad holder", i);
	if (!read_chunk(st, r))
		return damaged(l, "reference %zu: bad chunk", i);
	int rc = read_names(l, st, r);
	if (rc > 0)
		return damaged(l, "reference %zu: bad names or frame", i);
	if (rc < 0)
		return no_memory(l);
	res->n_refs++;
	return 0;
}

/* Groups are runs of refs of one region, as scan_run makes them. */
static int make_groups(struct loader *l)
{
	struct scan_result *res = &l->out->res;
	size_t n = 0;
	for (size_t i = 0; i < res->n_refs; i++)
		n += i == 0 || res->refs[i].region != res->refs[i - 1].region;
	if (!n)
		return 0;
	res->groups = calloc(n, sizeof(*res->groups));
	if (!res->groups)
		return no_memory(l);
	for (size_t i = 0; i < res->n_refs; i++) {
		long region = res->refs[i].region;
		if (i > 0 && region == res->refs[i - 1].region)
			res->groups[res->n_groups - 1].n++;
		else
			res->groups[res->n_groups++] = (struct scan_group){ region, i, 1 };
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

static int load_all(struct loader *l)
{
	struct scanstore_scan *s = l->out;
	if (load_scan(l) || load_more(l) ||
	    load_rows(l, "SELECT idx, start, end, perms, offset, inode, path, category, tid"
		      " FROM scan_region WHERE scan = ? ORDER BY idx", region_row) ||
	    load_rows(l, "SELECT tid, idx, ip, sp, func, func_offset, error FROM scan_frame"
		      " WHERE scan = ? ORDER BY tid, idx", frame_row) ||
	    load_rows(l, "SELECT idx, addr, value, region, holder, chunk, user, size,"
		      " chunk_size, chunk_flags, class, stale_free, symbol, symbol_offset,"
		      " module, tid, dead_stack, frame_index, frame, frame_offset"
		      " FROM scan_ref WHERE scan = ? ORDER BY idx", ref_row) ||
	    make_groups(l))
		return -1;
	s->snap.time = s->info.taken;
	s->region = snapshot_find(&s->snap, s->info.lo);
	return 0;
}

int scanstore_load(sqlite3 *db, int64_t id, struct scanstore_scan *out, struct mt_error *err)
{
	struct loader l = { .db = db, .id = id, .err = err, .out = out };
	memset(out, 0, sizeof(*out));
	scan_result_init(&out->res);
	snapshot_init(&out->snap);
	out->region = -1;
	return load_all(&l);
}

void scanstore_scan_free(struct scanstore_scan *s)
{
	scan_result_free(&s->res);
	snapshot_free(&s->snap);
	memset(&s->info, 0, sizeof(s->info));
	s->region = -1;
}
