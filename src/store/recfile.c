/*
 * recfile.c - opening a recording: identify the file by its header before
 * SQLite touches it, create the schema, and turn SQLite's errors into
 * messages a user can act on.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtop/recfile.h"

/*
 * The schema, version RECFILE_SCHEMA_VERSION.  Regions and threads are
 * stored as lifetimes (born .. died, sample ids) rather than once per
 * sample, and per-region resident sizes only when they change: a steady
 * process then costs one sample row a refresh.  Every size is in bytes.
 * docs/recording.md explains each column; change both together.
 */
static const char schema_sql[] =
	"CREATE TABLE session ("
	" id INTEGER PRIMARY KEY,"
	" pid INTEGER NOT NULL,"
	" comm TEXT NOT NULL,"
	" host TEXT NOT NULL,"
	" kernel TEXT NOT NULL,"
	" memtop TEXT NOT NULL,"      /* version that recorded it */
	" delay REAL NOT NULL,"       /* -d */
	" page_size INTEGER NOT NULL,"
	" started REAL NOT NULL,"     /* epoch seconds */
	" ended REAL);"               /* NULL: still recording, or killed */
	"CREATE TABLE path (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE sample ("
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL REFERENCES session(id),"
	" seq INTEGER NOT NULL,"      /* 0, 1, ... within the session */
	" time REAL NOT NULL,"        /* wall clock, epoch seconds */
	" mono REAL NOT NULL,"        /* CLOCK_MONOTONIC seconds: rates */
	" map_count INTEGER NOT NULL, virt INTEGER NOT NULL, rss INTEGER,"
	" largest_free INTEGER NOT NULL,"
	" image_regions INTEGER, image_virt INTEGER, image_rss INTEGER,"
	" heap_regions INTEGER, heap_virt INTEGER, heap_rss INTEGER,"
	" stack_regions INTEGER, stack_virt INTEGER, stack_rss INTEGER,"
	" file_regions INTEGER, file_virt INTEGER, file_rss INTEGER,"
	" shared_regions INTEGER, shared_virt INTEGER, shared_rss INTEGER,"
	" anon_regions INTEGER, anon_virt INTEGER, anon_rss INTEGER,"
	" reserved_regions INTEGER, reserved_virt INTEGER, reserved_rss INTEGER,"
	" kernel_regions INTEGER, kernel_virt INTEGER, kernel_rss INTEGER,"
	/* Process facts; comm, cmdline and user only when they changed. */
	" comm TEXT, cmdline TEXT, user TEXT,"
	" state TEXT NOT NULL, threads INTEGER NOT NULL,"
	" proc_rss INTEGER NOT NULL, vsz INTEGER NOT NULL,"
	" start_time REAL NOT NULL, uptime REAL NOT NULL,"
	" max_map_count INTEGER NOT NULL, rlimit_as INTEGER," /* NULL: unlimited */
	" mmap_min_addr INTEGER NOT NULL,"
	" rss_time REAL);"            /* when smaps was read; NULL: never */
	"CREATE UNIQUE INDEX sample_seq ON sample(session, seq);"
	"CREATE TABLE region ("
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL REFERENCES session(id),"
	" born INTEGER NOT NULL,"     /* sample.id of the first sample holding it */
	" died INTEGER,"              /* sample.id of the first without it; NULL */
	" start INTEGER NOT NULL, end INTEGER NOT NULL,"
	" perms TEXT NOT NULL,"       /* rwxp */
	" offset INTEGER NOT NULL, dev_major INTEGER NOT NULL,"
	" dev_minor INTEGER NOT NULL, inode INTEGER NOT NULL,"
	" path INTEGER REFERENCES path(id)," /* NULL: anonymous */
	" deleted INTEGER NOT NULL,"  /* 0; 1 name ends in (deleted); 3 file gone */
	" category TEXT NOT NULL);"   /* when it appeared */
	/* The reader reads a sample's births, not every lifetime at once. */
	"CREATE INDEX region_born ON region(session, born);"
	"CREATE TABLE region_rss ("   /* a row when a region's figures change */
	" sample INTEGER NOT NULL, region INTEGER NOT NULL,"
	" rss INTEGER, pss INTEGER, swap INTEGER, private_dirty INTEGER,"
	" shared_dirty INTEGER, anon_huge INTEGER, locked INTEGER,"
	" PRIMARY KEY (sample, region)) WITHOUT ROWID;"
	"CREATE TABLE thread ("       /* a row per (name, state, sp) lifetime */
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL REFERENCES session(id),"
	" born INTEGER NOT NULL, died INTEGER,"
	" tid INTEGER NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,"
	" sp INTEGER NOT NULL);"
	"CREATE INDEX thread_born ON thread(session, born);"
	/* Reference scans (the drill-down), with what they found. */
	"CREATE TABLE scan ("
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL REFERENCES session(id),"
	" sample INTEGER NOT NULL,"   /* the latest sample when it was taken */
	" parent INTEGER REFERENCES scan(id)," /* followed from; NULL: first step */
	" taken REAL NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,"
	" label TEXT NOT NULL, frozen INTEGER NOT NULL, stopped_ms REAL NOT NULL,"
	" not_stopped INTEGER NOT NULL, refs_total INTEGER NOT NULL,"
	" internal INTEGER NOT NULL, scanned_bytes INTEGER NOT NULL,"
	" absent_bytes INTEGER NOT NULL, scanned_regions INTEGER NOT NULL,"
	" excluded_regions INTEGER NOT NULL, skipped_regions INTEGER NOT NULL,"
	" seconds REAL NOT NULL, cancelled INTEGER NOT NULL,"
	" walk_errors TEXT NOT NULL);" /* one per line */
	"CREATE TABLE scan_region ("  /* the regions a scan's references name */
	" scan INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" start INTEGER NOT NULL, end INTEGER NOT NULL, perms TEXT NOT NULL,"
	" offset INTEGER NOT NULL, inode INTEGER NOT NULL, path TEXT NOT NULL,"
	" category TEXT NOT NULL, tid INTEGER NOT NULL,"
	" PRIMARY KEY (scan, idx)) WITHOUT ROWID;"
	"CREATE TABLE scan_ref ("
	" scan INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" addr INTEGER NOT NULL, value INTEGER NOT NULL,"
	" region INTEGER NOT NULL,"   /* scan_region.idx */
	" holder TEXT NOT NULL,"      /* region, heap, global, stack */
	" chunk INTEGER, user INTEGER, size INTEGER, chunk_size INTEGER,"
	" chunk_flags INTEGER,"       /* 1 in use, 2 top, 4 mmapped; free list << 4 */
	" class TEXT, stale_free INTEGER NOT NULL,"
	" symbol TEXT, symbol_offset INTEGER, module TEXT,"
	" tid INTEGER NOT NULL, dead_stack INTEGER NOT NULL,"
	" frame_index INTEGER NOT NULL, frame TEXT, frame_offset INTEGER,"
	" PRIMARY KEY (scan, idx)) WITHOUT ROWID;"
	"CREATE TABLE scan_frame ("   /* backtraces of the threads holding refs */
	" scan INTEGER NOT NULL, tid INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" ip INTEGER NOT NULL, sp INTEGER NOT NULL, func TEXT NOT NULL,"
	" func_offset INTEGER NOT NULL, error TEXT,"
	" PRIMARY KEY (scan, tid, idx)) WITHOUT ROWID;";

const char recfile_later_sql[] =
	"CREATE TABLE IF NOT EXISTS region_bss ("
	" region INTEGER PRIMARY KEY," /* region.id */
	" bss_end INTEGER NOT NULL);"  /* end of the image's last PT_LOAD */
	"CREATE TABLE IF NOT EXISTS scan_more ("
	" scan INTEGER PRIMARY KEY,"   /* scan.id */
	" swapped_bytes INTEGER NOT NULL, file_bytes INTEGER NOT NULL,"
	" readers INTEGER NOT NULL);";

bool recfile_has_later(sqlite3 *db)
{
	return recfile_has_table(db, "region_bss") && recfile_has_table(db, "scan_more");
}


static const char magic[16] = "SQLite format 3";

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * What the first 100 bytes say.  1: an empty or missing file (a new
 * recording may go there); 0: a memtop recording we can read; -1 with
 * err set otherwise.
 */
static int check_header(const char *path, enum recfile_mode mode, struct mt_error *err)
{
	unsigned char h[100];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && mode == RECFILE_WRITE)
			return 1;
		/* Missing or unreadable is the system's business (exit 1 with its
		 * reason); exit 7 is for a file that is there and no recording. */
		return mt_error_set(err, MT_ERR_OTHER, errno, "cannot %s %s: %s",
				    mode == RECFILE_WRITE ? "write to" : "read", path,
				    strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "%s is not a regular file: a recording must be one", path);
	}
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	if (n == 0 && mode == RECFILE_WRITE)
		return 1;
	if (n == 0)
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "%s is empty: no session recorded in it", path);
	const char *verb = mode == RECFILE_WRITE ? "memtop will not write to it" :
		"memtop cannot replay it";
	if (n < (ssize_t)sizeof(h) || memcmp(h, magic, sizeof(magic)) != 0)
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "%s is not a memtop recording (not an SQLite database); %s",
				    path, verb);
	uint32_t app = be32(h + 68), version = be32(h + 60);
	if (app != RECFILE_APPLICATION_ID)
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "%s is an SQLite database of another program, not a memtop "
				    "recording; %s", path, verb);
	if (version > RECFILE_SCHEMA_VERSION)
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "%s was recorded by a newer memtop (schema %u; this one "
				    "knows up to %d): use a newer memtop", path, version,
				    RECFILE_SCHEMA_VERSION);
	if (version == 0)
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "%s is a damaged memtop recording (no schema version)", path);
	return 0;
}

int recfile_error(sqlite3 *db, const char *what, struct mt_error *err)
{
	int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
	const char *msg = db ? sqlite3_errmsg(db) : "out of memory";
	switch (code & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
	case SQLITE_SCHEMA:
	case SQLITE_ERROR: /* a table or column missing: not our schema */
		return mt_error_set(err, MT_ERR_BADFILE, 0,
				    "the recording is damaged or not memtop's (%s: %s)", what, msg);
	case SQLITE_FULL:
		return mt_error_set(err, MT_ERR_OTHER, ENOSPC,
				    "the disk is full (%s)", what);
	case SQLITE_READONLY:
		return mt_error_set(err, MT_ERR_OTHER, EROFS,
				    "the recording cannot be written (%s: %s)", what, msg);
	default:
		return mt_error_set(err, MT_ERR_OTHER, 0, "%s: %s", what, msg);
	}
}

/* New files: the schema and the identity go in before WAL is turned on,
 * so the main file's header says "memtop" even if memtop dies at once. */
static int count_tables(void *out, int n, char **v, char **names)
{
	(void)names;
	*(long *)out = n > 0 && v[0] ? atol(v[0]) : 0;
	return 0;
}

/*
 * Two memtops may create the same new file at once: the schema goes in
 * under BEGIN IMMEDIATE (the second waits for the first's write lock),
 * and only if no one put it there in the meantime; then both record
 * their own session.
 */
static int create_schema(sqlite3 *db, const char *path, struct mt_error *err)
{
	char pragma[96];
	long tables = -1;
	snprintf(pragma, sizeof(pragma), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
		 RECFILE_APPLICATION_ID, RECFILE_SCHEMA_VERSION);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", count_tables, &tables,
			 NULL) != SQLITE_OK ||
	    (tables == 0 && (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
			     sqlite3_exec(db, recfile_later_sql, NULL, NULL, NULL) != SQLITE_OK ||
			     sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK)) ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		recfile_error(db, "creating the recording", err);
		err->kind = MT_ERR_OTHER;
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, " in %s", path);
		return -1;
	}
	return 0;
}

static int setup_writer(sqlite3 *db, const char *path, struct mt_error *err)
{
	/* WAL with synchronous=NORMAL: a commit is one append, durable
	 * against memtop's death (not the machine's, which loses at most
	 * the last samples, never the file). */
	/* A checkpoint every 256 pages and a WAL cut back to 1 MiB after
	 * it keep the file beside the recording small (the default lets it
	 * sit at 4 MiB, more than an hour of a steady process). */
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 " PRAGMA wal_autocheckpoint=256; PRAGMA journal_size_limit=1048576;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return recfile_error(db, path, err);
	return 0;
}

static int reopen_immutable(sqlite3 **db, const char *path, struct mt_error *err)
{
	char wal[4096];
	struct stat st;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0 && st.st_size > 0)
		return mt_error_set(err, MT_ERR_OTHER, EROFS, "%s: its last samples are in %s, "
				    "which cannot be read from a read-only place: copy both files "
				    "somewhere writable", path, wal);
	/* In a URI, '%', '?' and '#' of the path are escaped. */
	char uri[3 * 4096 + 32];
	size_t n = 0;
	n += (size_t)snprintf(uri, sizeof(uri), "file:");
	for (const char *c = path; *c && n + 4 < sizeof(uri) - 16; c++)
		n += (size_t)(strchr("%?#", *c) ? snprintf(uri + n, 4, "%%%02X", (unsigned char)*c) :
			      snprintf(uri + n, 2, "%c", *c));
	snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
	sqlite3_close(*db);
	*db = NULL;
	int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return recfile_error(*db, path, err);
	sqlite3_extended_result_codes(*db, 0);
	return 0;
}

int recfile_open(sqlite3 **out, const char *path, enum recfile_mode mode, struct mt_error *err)
{
	sqlite3 *db = NULL;
	*out = NULL;
	int fresh = check_header(path, mode, err);
	if (fresh < 0)
		return -1;
	/* SQLite falls back to read-only when it cannot open for writing and
	 * then reports that fallback's errno (ENOENT on a read-only file
	 * system): ask the system first, for the real reason. */
	if (mode == RECFILE_WRITE) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return mt_error_set(err, MT_ERR_OTHER, errno, "cannot write to %s: %s",
					    path, strerror(errno));
		close(fd);
	}
	/* One connection, used by one thread: SQLite's own locking is waste
	 * (~7% of a big first sample). */
	int flags = (mode == RECFILE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE :
		     SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK && mode == RECFILE_READ) {
		/* A read-only place: still replayable when no WAL waits. */
		sqlite3_close(db);
		db = NULL;
		rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	}
	if (rc != SQLITE_OK) {
		/* SQLite's "unable to open database file" hides the reason;
		 * the system's errno says it (read-only file system, no such
		 * directory, permission denied). */
		int e = db ? sqlite3_system_errno(db) : ENOMEM;
		mt_error_set(err, MT_ERR_OTHER, e,
			     "cannot %s %s: %s", mode == RECFILE_WRITE ? "write to" : "open", path,
			     e ? strerror(e) : sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_extended_result_codes(db, 0);
	/* A locked file (another memtop writing) is waited for: its longest
	 * transaction is a first sample of every region, 0.2 s here and
	 * seconds under ASan on a loaded machine, where 2 s of patience made
	 * two writers of one new file fail with "database is locked". */
	sqlite3_busy_timeout(db, 15000);
	if (mode == RECFILE_WRITE) {
		if ((fresh && create_schema(db, path, err)) || setup_writer(db, path, err)) {
			sqlite3_close(db);
			return -1;
		}
	}
	/* A recording left in WAL mode (cut short before memtop could fold
	 * the WAL in) in a place where the -shm file cannot be made: read it
	 * as immutable, unless a WAL with samples waits beside it. */
	if (mode == RECFILE_READ &&
	    sqlite3_exec(db, "SELECT count(*) FROM session", NULL, NULL, NULL) == SQLITE_CANTOPEN &&
	    reopen_immutable(&db, path, err))
		return -1;
	/* The header said memtop; the tables must agree. */
	if (sqlite3_exec(db, "SELECT count(*) FROM session", NULL, NULL, NULL) != SQLITE_OK) {
		recfile_error(db, path, err);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

void recfile_close(sqlite3 *db, bool writer)
{
	if (!db)
		return;
	/* Fold the WAL in and drop it: the recording is one file again, to
	 * be copied anywhere.  Fails harmlessly while a reader holds it. */
	if (writer)
		sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;",
			     NULL, NULL, NULL);
	sqlite3_close(db);
}

/* ---- reading columns ---------------------------------------------------- */

bool recfile_col_i64(sqlite3_stmt *st, int i, int64_t *v)
{
	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		return false;
	*v = sqlite3_column_int64(st, i);
	return true;
}

bool recfile_col_u64(sqlite3_stmt *st, int i, uint64_t *v)
{
	int64_t x;
	if (!recfile_col_i64(st, i, &x))
		return false;
	*v = (uint64_t)x;
	return true;
}

bool recfile_col_int(sqlite3_stmt *st, int i, int64_t lo, int64_t hi, int64_t *v)
{
	return recfile_col_i64(st, i, v) && *v >= lo && *v <= hi;
}

bool recfile_col_real(sqlite3_stmt *st, int i, double *v)
{
	int t = sqlite3_column_type(st, i);
	if (t != SQLITE_FLOAT && t != SQLITE_INTEGER)
		return false;
	*v = sqlite3_column_double(st, i);
	return isfinite(*v);
}

bool recfile_col_text(sqlite3_stmt *st, int i, bool null_ok, size_t max, const char **t,
		      size_t *len)
{
	int type = sqlite3_column_type(st, i);
	*t = NULL;
	*len = 0;
	if (type == SQLITE_NULL)
		return null_ok;
	if (type != SQLITE_TEXT)
		return false;
	/* NULL here is SQLite out of memory: refused like damage, safely. */
	const char *s = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (!s || n < 0 || (size_t)n > max || memchr(s, '\0', (size_t)n))
		return false;
	*t = s;
	*len = (size_t)n;
	return true;
}

bool recfile_parse_perms(const char *p, size_t len, uint8_t *out)
{
	static const char yes[4] = { 'r', 'w', 'x', 's' }, no[4] = { '-', '-', '-', 'p' };
	*out = 0;
	if (!p || len != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		if (p[i] == yes[i])
			*out |= (uint8_t)(1u << i);
		else if (p[i] != no[i])
			return false;
	}
	return true;
}

bool recfile_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND"
			       " name = ?", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK)
		yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

char *recfile_join_lines(char *const *v, size_t n, size_t *len)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(v[i]) + 1;
	char *out = malloc(total + 1), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(v[i]);
		memcpy(p, v[i], k);
		p += k;
		if (i + 1 < n)
			*p++ = '\n';
	}
	*p = '\0';
	*len = (size_t)(p - out);
	return out;
}
