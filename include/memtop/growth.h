/*
 * growth.h - mapping growth per backing file and per size, and the
 * map/unmap events between consecutive snapshots.
 */
#ifndef MEMTOP_GROWTH_H
#define MEMTOP_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/snapshot.h"

#define GROWTH_SPARK 60 /* region counts kept per file for a sparkline */
/*
 * Files no longer mapped stay listed (a fixed leak shows as negative
 * growth), but those that appeared after monitoring began and are gone
 * again carry no growth: beyond this many, the oldest are forgotten, so a
 * target cycling through temporary files does not grow memtop forever.
 */
#define GROWTH_MAX_GONE 1024

/* "256 KiB x 1800": regions of one size, for a file or for anon memory. */
struct mt_bucket {
	uint64_t size;
	uint32_t count;
	int32_t delta; /* change since monitoring began */
	uint32_t count0; /* count when monitoring began (0 if it appeared later) */
};

struct mt_buckets {
	struct mt_bucket *v; /* largest count first */
	size_t n;
	size_t cap;
};

struct mt_file {
	uint32_t dev_major;
	uint32_t dev_minor;
	uint64_t inode;
	char *path;       /* owned copy, bytes, NUL-terminated */
	uint32_t path_len;
	bool deleted;
	bool present;     /* mapped in the latest snapshot */
	uint32_t regions;
	uint64_t virt;
	uint64_t rss;     /* MT_UNKNOWN if not measured */
	uint32_t regions0; /* when monitoring began (0 if it appeared later) */
	uint64_t virt0;
	int64_t delta_regions;
	int64_t delta_virtual;
	double rate_per_min; /* regions per minute since first seen */
	double first_seen;   /* mono */
	struct mt_buckets buckets;
	uint32_t spark[GROWTH_SPARK]; /* region count per refresh, ring */
	size_t spark_head;
	size_t spark_n;
};

enum mt_event_kind { MT_EV_MAP, MT_EV_UNMAP };

struct mt_event {
	enum mt_event_kind kind;
	double time; /* CLOCK_REALTIME of the snapshot that saw it */
	uint64_t start;
	uint64_t end;
	uint8_t perms;
	enum mt_category category;
	char *path; /* owned copy, "" for anonymous */
	/* --trace (traced.h): an event from the tracer rather than the
	 * snapshot diff, its thread, and 1 + its stack's id in the session's
	 * stacks (0: none).  Zero for snapshot-diff events. */
	bool traced;
	int tid;
	uint32_t origin;
};

struct mt_events {
	struct mt_event *v;
	size_t n;
	size_t cap;
};

struct mt_growth_tables;

/* A region's size when first seen at its start address: a heap or an
 * arena grows in place, so its growth is its size less this. */
struct mt_growth_base {
	uint64_t start;
	uint64_t size0;
};

struct mt_growth {
	double t0;             /* mono of the first snapshot */
	/* Every backing with an inode: images, data files, and memfd, SysV,
	 * /dev/shm and anonymous shared memory.  Sorted: largest growth
	 * first (delta_virtual, then delta_regions, then virt, descending). */
	struct mt_file *files;
	size_t n_files;
	size_t cap_files;
	struct mt_buckets anon; /* private anonymous regions by size */
	struct mt_events events; /* between the last two snapshots */
	/* Private anonymous regions (all of anon's counts) per refresh, a
	 * ring for a sparkline. */
	uint32_t anon_spark[GROWTH_SPARK];
	size_t anon_spark_head;
	size_t anon_spark_n;
	/* bases[i]: of the latest snapshot's regions[i]; a region new at a
	 * refresh starts afresh even at an address an older one had. */
	struct mt_growth_base *bases;
	size_t n_bases;
	bool have_prev;
	bool started;            /* a first snapshot has been folded in */
	struct mt_growth_tables *tables; /* lookup tables, private to growth.c */
};

void growth_init(struct mt_growth *g);
void growth_free(struct mt_growth *g);
/* Deep copy into dst (initialised or freed): 0 or -ENOMEM (dst empty). */
int growth_copy(struct mt_growth *dst, const struct mt_growth *src);
/*
 * Fold snapshot cur (already classified) into g.  prev is the snapshot
 * before it (NULL for the first).  Computes files, buckets, the anonymous
 * sparkline, the regions' growth bases, and the
 * events between prev and cur: address ranges newly covered (map) or no
 * longer covered (unmap) by a mapping of the same backing, so an mprotect
 * split is not an event while a library load or a heap growth is.  Also
 * sets cur's regions' first_seen: that of the region of prev covering its
 * start with the same backing, else cur->mono.  0 or -ENOMEM.
 */
int growth_update(struct mt_growth *g, const struct mt_snapshot *prev,
		  struct mt_snapshot *cur);
void growth_events_clear(struct mt_events *e);
void growth_events_free(struct mt_events *e);
/* Deep copy of src's events into dst (initialised or freed): 0 or -ENOMEM. */
int growth_events_copy(struct mt_events *dst, const struct mt_events *src);

#endif
