/*
 * scanstore.h - reference scans (drill-down steps) kept in a recording:
 * the tables scan, scan_region, scan_ref and scan_frame of recfile.c
 * (docs/recording.md).  A stored scan is self-contained: the regions its
 * references name are stored with it, classified, so it replays without
 * the process, its maps or its symbol files.
 */
#ifndef MEMTOP_SCANSTORE_H
#define MEMTOP_SCANSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/error.h"
#include "memtop/scan.h"
#include "memtop/snapshot.h"

struct sqlite3;

/*
 * A reference scan (one drill-down step) to keep with a recording: what
 * scanstore_save writes, and what the recorder's record_scan takes.
 */
struct record_scan {
	uint64_t lo, hi;
	const char *label;          /* its name in the breadcrumb */
	bool frozen;
	double stopped_ms;
	size_t not_stopped;
	double taken;               /* epoch seconds */
	const struct scan_result *res;
	const struct mt_snapshot *snap; /* the maps scanned, classified */
	int64_t parent;             /* id of the step it was followed from, 0 */
};

/*
 * Insert sc into the open transaction of db, for session and sample (ids);
 * *id gets the new scan's id.  Only the regions that the result names
 * (the groups' regions and the one holding sc->lo) are stored, renumbered.
 * 0, or -1 with the SQLite error left in db.
 */
int scanstore_save(struct sqlite3 *db, int64_t session, int64_t sample,
		   const struct record_scan *sc, int64_t *id);

/* What a recording says of a scan, without its references. */
struct scanstore_info {
	int64_t id;
	int64_t parent;   /* 0: the first step of a chain */
	int64_t sample;   /* sample.id when taken */
	double taken;     /* epoch seconds */
	uint64_t lo, hi;
	char label[96];
};

/* The scans of session, in the order taken.  0, or -1 with err set. */
int scanstore_list(struct sqlite3 *db, int64_t session, struct scanstore_info **out,
		   size_t *n, struct mt_error *err);

/* A scan loaded back: everything a drill-down step shows. */
struct scanstore_scan {
	struct scanstore_info info;
	bool frozen;
	double stopped_ms;
	size_t not_stopped;
	struct scan_result res;   /* ref.region indexes snap.regions */
	struct mt_snapshot snap;  /* the stored regions, classified as recorded */
	long region;              /* index in snap of the region holding lo, -1 */
};

/*
 * Load scan id.  Everything read is checked (indexes in range, regions
 * sorted and apart, counts bounded): a damaged row is MT_ERR_BADFILE.
 * Free with scanstore_scan_free, also after a failure.
 */
int scanstore_load(struct sqlite3 *db, int64_t id, struct scanstore_scan *out,
		   struct mt_error *err);
void scanstore_scan_free(struct scanstore_scan *s);

#endif
