/*
 * recfile.h - the recording file: an SQLite database that says it is
 * memtop's (application_id) and which schema it holds (user_version).
 * docs/recording.md describes the tables.  The store (src/store/) is the
 * only code that speaks SQLite: the recorder (record.c), the reader
 * (replay.c) and the scan store (scanstore.c) all open the file through
 * here, so a file is identified one way.
 */
#ifndef MEMTOP_RECFILE_H
#define MEMTOP_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/error.h"

struct sqlite3;
struct sqlite3_stmt;

/* "memt", at byte 68 of the database header. */
#define RECFILE_APPLICATION_ID 0x6d656d74
/* Bumped whenever a table changes; a reader refuses a newer schema. */
#define RECFILE_SCHEMA_VERSION 1

enum recfile_mode {
	RECFILE_READ,   /* replay: the file must hold a recording */
	RECFILE_WRITE,  /* record: created when missing or empty */
};

/*
 * Open path as a recording.  Before SQLite sees the file its header is
 * checked, so a file of another kind is never written to: not SQLite,
 * another program's database, a newer schema, all MT_ERR_BADFILE with
 * a message naming the file.  RECFILE_WRITE creates the schema in a new
 * or empty file and puts the database in WAL mode (each commit is an
 * append, and a kill -9 loses nothing committed).  Returns 0 or -1.
 */
int recfile_open(struct sqlite3 **db, const char *path, enum recfile_mode mode,
		 struct mt_error *err);

/*
 * Close, folding the WAL back into the file first when it was opened for
 * writing, so the recording is one self-contained file again.
 */
void recfile_close(struct sqlite3 *db, bool writer);

/* err from the last SQLite failure on db: MT_ERR_BADFILE for a damaged
 * file, MT_ERR_OTHER otherwise; `what` says what was being done. */
int recfile_error(struct sqlite3 *db, const char *what, struct mt_error *err);

/* Does the recording have this table?  Tables added after schema 1
 * (region_bss, the heap and trace tables) are created on first use, so
 * a file from an older memtop lacks them. */
bool recfile_has_table(struct sqlite3 *db, const char *name);

/* Tables added after schema 1 shipped, created by every writer, absent
 * from files of memtop versions before them: region_bss, the .bss bounds
 * of regions that follow an ELF image (mt_region.bss_end; a row only where
 * known, regions without one replay as "unknown"), and scan_more, a scan's
 * swapped and file bytes and its readers (zero when absent). */
extern const char recfile_later_sql[];
/* Whether db has every table of recfile_later_sql. */
bool recfile_has_later(struct sqlite3 *db);

/* SQLite keeps 64-bit signed integers: addresses and sizes are stored
 * as their two's-complement bit pattern (docs/recording.md). */
static inline int64_t recfile_u64(uint64_t v)
{
	return (int64_t)v;
}

/* MT_UNKNOWN and "unlimited" (UINT64_MAX) are stored as NULL. */
#define RECFILE_NULL_U64 UINT64_MAX

/*
 * Reading a column of a recording, suspiciously: the file may be damaged
 * or hostile, and SQLite converts between types without a word.  Each
 * returns false when the value is not of the type memtop wrote there, or
 * out of range; the caller reports the row as damaged.
 */
bool recfile_col_i64(struct sqlite3_stmt *st, int i, int64_t *v);
bool recfile_col_u64(struct sqlite3_stmt *st, int i, uint64_t *v);
bool recfile_col_int(struct sqlite3_stmt *st, int i, int64_t lo, int64_t hi, int64_t *v);
/* A finite number (an integer is fine). */
bool recfile_col_real(struct sqlite3_stmt *st, int i, double *v);
/* TEXT without NUL bytes, at most max bytes; *t NULL for a NULL column,
 * which only null_ok accepts. */
bool recfile_col_text(struct sqlite3_stmt *st, int i, bool null_ok, size_t max,
		      const char **t, size_t *len);
/* "rwxp" back into enum mt_perm bits. */
bool recfile_parse_perms(const char *p, size_t len, uint8_t *out);
/* The n lines of v joined with '\n' (walk_errors' column: one per line),
 * malloc'd, its length in *len; NULL when out of memory. */
char *recfile_join_lines(char *const *v, size_t n, size_t *len);

#endif
