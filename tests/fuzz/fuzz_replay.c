/*
 * fuzz_replay.c - the recording reader on any bytes: replay_open, every
 * sample through replay_next and the model, and every stored scan through
 * scanstore_load, checking that what reaches the model is what a live
 * source would give (regions sorted, apart, non-empty; names NUL-free)
 * and that a damaged file is an error with MT_ERR_BADFILE, not a crash.
 *
 * Two kinds of input.  One that starts with SQLite's magic is a file, and
 * byte mutations of the seed recordings mostly exercise SQLite's own
 * corruption checks.  Any other input is a program of edits to a valid
 * recording (tests/recording_fixture.h): each 6 bytes pick a table, a
 * row, a column and a value of any type (or delete the row), so the
 * mutations reach memtop's own checks of what it reads.
 *
 * SQLite reads files, not buffers, so each input is written to a file in
 * a private directory first (with its WAL and journal files removed, so
 * one input cannot leak into the next).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "memtop/model.h"
#include "memtop/replay.h"
#include "memtop/scanstore.h"
#include "../recording_fixture.h"

static char dir[64];
static char path[96];

static void remove_files(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char p[128];
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		unlink(p);
	}
}

static void remove_dir(void)
{
	remove_files();
	rmdir(dir);
}

static int write_input(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/memtop-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/rec.db", dir);
		atexit(remove_dir);
	}
	remove_files();
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	return fclose(f);
}

/* ---- edit programs ------------------------------------------------------ */

static const struct {
	const char *name;
	const char *key; /* what names a row */
} tables[] = {
	{ "session", "rowid" }, { "path", "rowid" }, { "sample", "rowid" },
	{ "region", "rowid" }, { "region_rss", "sample, region" }, { "thread", "rowid" },
	{ "scan", "rowid" }, { "scan_region", "scan, idx" }, { "scan_ref", "scan, idx" },
	{ "scan_frame", "scan, tid, idx" },
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))
#define MAX_COLS 48

static char cols[N_TABLES][MAX_COLS][32];
static int n_cols[N_TABLES];
static uint8_t *base;
static size_t base_len;

static void load_columns(sqlite3 *db)
{
	for (size_t t = 0; t < N_TABLES; t++) {
		char sql[96];
		sqlite3_stmt *st;
		snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", tables[t].name);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			abort();
		while (sqlite3_step(st) == SQLITE_ROW && n_cols[t] < MAX_COLS)
			snprintf(cols[t][n_cols[t]++], 32, "%s", sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
		if (!n_cols[t])
			abort();
	}
}

/* The fixture recording, made once, kept as bytes. */
static void make_base(void)
{
	sqlite3 *db;
	recfix_record(path, NULL);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		abort();
	load_columns(db);
	sqlite3_close(db);
	FILE *f = fopen(path, "rb");
	if (!f)
		abort();
	base = malloc(1 << 20);
	if (!base)
		abort();
	base_len = fread(base, 1, 1 << 20, f);
	fclose(f);
}

static void bind_value(sqlite3_stmt *st, const uint8_t *op)
{
	static const int64_t big[] = { INT64_MIN, INT64_MAX, -1, 0, 1ll << 47,
				       0x7ffffffff000ll, 0xffffffffff600000ll };
	static const char *const text[] = { "", "rw-p", "heap", "x\n", "\xff\xfe", "r",
					    "stack", "global", "-1" };
	static const double real[] = { -1.5, 1e300, -0.0, 1e-300, 3.0, 1.7e9 };
	int16_t small = (int16_t)(op[4] | op[5] << 8);
	switch (op[3] % 6) {
	case 0: sqlite3_bind_null(st, 1); break;
	case 1: sqlite3_bind_int64(st, 1, small); break;
	case 2: sqlite3_bind_int64(st, 1, big[op[4] % 7]); break;
	case 3: sqlite3_bind_text(st, 1, text[op[4] % 9], -1, SQLITE_STATIC); break;
	case 4: sqlite3_bind_double(st, 1, real[op[4] % 6]); break;
	default: sqlite3_bind_blob(st, 1, "\0\xff", 2, SQLITE_STATIC); break;
	}
}

/* One edit; an edit SQLite refuses (a constraint) is just skipped. */
static void apply_edit(sqlite3 *db, const uint8_t *op)
{
	size_t t = op[0] % N_TABLES;
	const char *name = tables[t].name, *key = tables[t].key;
	char sql[512];
	sqlite3_stmt *st;
	if (op[3] % 8 == 7)
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE (%s) = (SELECT %s FROM %s"
			 " LIMIT 1 OFFSET %d)", name, key, key, name, op[1] % 16);
	else
		snprintf(sql, sizeof(sql), "UPDATE %s SET \"%s\" = ?1 WHERE (%s) = (SELECT %s"
			 " FROM %s LIMIT 1 OFFSET %d)", name, cols[t][op[2] % n_cols[t]], key,
			 key, name, op[1] % 16);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		abort(); /* the program is ours: it must be valid SQL */
	if (op[3] % 8 != 7)
		bind_value(st, op);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static int write_edited(const uint8_t *data, size_t size)
{
	sqlite3 *db;
	if (write_input(base, base_len) || sqlite3_open(path, &db) != SQLITE_OK)
		abort();
	/* No journal, no sync: the file is scratch, and speed is coverage. */
	sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", NULL, NULL,
		     NULL);
	for (size_t i = 0; i + 6 <= size && i < 16 * 6; i += 6)
		apply_edit(db, data + i);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return sqlite3_close(db) == SQLITE_OK ? 0 : -1;
}

/* ---- checks ------------------------------------------------------------- */

static void check(const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (r->start >= r->end || strlen(r->path) != r->path_len)
			abort();
		if (i && s->regions[i - 1].end > r->start)
			abort();
	}
	for (size_t i = 1; i < s->n_threads; i++)
		if (s->threads[i - 1].tid >= s->threads[i].tid)
			abort();
}

static void check_scan(const struct scanstore_scan *sc)
{
	check(&sc->snap);
	for (size_t i = 0; i < sc->res.n_refs; i++)
		if (sc->res.refs[i].region < 0 ||
		    (size_t)sc->res.refs[i].region >= sc->snap.n_regions)
			abort();
	for (size_t g = 0; g < sc->res.n_groups; g++)
		if (sc->res.groups[g].first + sc->res.groups[g].n > sc->res.n_refs)
			abort();
}

static void replay_scans(struct mt_replay *r)
{
	struct scanstore_info *v = NULL;
	size_t n = 0;
	struct mt_error err;
	if (scanstore_list(replay_db(r), replay_session(r)->id, &v, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct scanstore_scan sc;
			if (scanstore_load(replay_db(r), v[i].id, &sc, &err) == 0)
				check_scan(&sc);
			else if (err.kind == MT_ERR_NONE || !err.msg[0])
				abort();
			scanstore_scan_free(&sc);
		}
	}
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_replay *r;
	struct mt_error err;
	static const char magic[16] = "SQLite format 3";
	bool raw = size >= sizeof(magic) && !memcmp(data, magic, sizeof(magic));
	if (!raw && !base) {
		write_input(NULL, 0);
		remove_files();
		make_base();
	}
	if (raw ? write_input(data, size) : write_edited(data, size))
		return 0;
	mt_error_clear(&err);
	if (replay_open(&r, path, 0, &err)) {
		if (err.kind == MT_ERR_NONE || !err.msg[0])
			abort(); /* a failure must say why */
		return 0;
	}
	struct mt_snapshot snap[2];
	struct mt_model m;
	snapshot_init(&snap[0]);
	snapshot_init(&snap[1]);
	model_init(&m);
	int cur = 0, rc;
	size_t n = 0;
	while ((rc = replay_next(r, &snap[cur], &err)) == 0) {
		check(&snap[cur]);
		if (model_update(&m, n ? &snap[!cur] : NULL, &snap[cur]))
			break;
		cur = !cur;
		n++;
	}
	if (rc < 0 && (err.kind == MT_ERR_NONE || !err.msg[0]))
		abort();
	if (rc > 0 && n != replay_count(r))
		abort();
	replay_scans(r);
	model_free(&m);
	snapshot_free(&snap[0]);
	snapshot_free(&snap[1]);
	replay_close(r);
	return 0;
}
