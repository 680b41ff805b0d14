/*
 * heapstore.h - heap censuses kept in a recording: the tables heap_census,
 * heap_arena and heap_class (docs/recording.md), created the first time a
 * census is stored (recordings made before them replay without any).  A
 * stored census is what the screen's heap census shows: its figures, its
 * arenas, its classes and sizes with their leaked counts; and, in the
 * tables heap_census_more and heap_leak_group (added later, also created
 * when first needed), the rest of its report's figures and its leak
 * groups with their example addresses; heap_shared and heap_shared_holder
 * the shared chunks listed, with their holders.
 */
#ifndef MEMTOP_HEAPSTORE_H
#define MEMTOP_HEAPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/census.h"
#include "memtop/error.h"
#include "memtop/leaks.h"

struct sqlite3;

/* A census to keep (census_classes() done; leaks NULL without --leaks). */
struct record_heap {
	const struct census *c;
	const struct leaks *leaks;
	double time;        /* epoch seconds, at the freeze */
	double stopped_ms;
	size_t not_stopped; /* threads that did not stop */
	double seconds;     /* the census in all, as its report says */
};

/* Insert h into the open transaction of db, for session and sample; *id
 * gets its id.  0, or -1 with the SQLite error left in db. */
int heapstore_save(struct sqlite3 *db, int64_t session, int64_t sample,
		   const struct record_heap *h, int64_t *id);

struct heapstore_info {
	int64_t id;
	int64_t sample;     /* sample.id when taken */
	double time;
};

/* The censuses of session, in the order taken (none in a recording made
 * before the tables existed).  0, or -1 with err set. */
int heapstore_list(struct sqlite3 *db, int64_t session, struct heapstore_info **out, size_t *n,
		   struct mt_error *err);

/* A census loaded back. */
struct heapstore_census {
	struct census c;    /* arenas, classes (names owned), totals */
	bool leaks;         /* the leak search ran: classes' leaked counts hold */
	uint64_t leaked, leaked_bytes, unreferenced;
	double time, stopped_ms;
	/* From heap_census_more and heap_leak_group (recordings made before
	 * them have neither: more false, no groups). */
	bool more;
	size_t not_stopped;
	double seconds, leak_seconds;
	uint64_t unreferenced_bytes, root_bytes, threads, shared_total;
	struct leaks_group *groups; /* names owned by c.names */
	size_t n_groups;
	/* From heap_shared and heap_shared_holder: classes index c.names. */
	struct leaks_shared *shared;
	size_t n_shared;
};

/* Load census id; c is freed with census_free.  0, or -1 with err set
 * (a damaged row says so). */
int heapstore_load(struct sqlite3 *db, int64_t id, struct heapstore_census *out,
		   struct mt_error *err);
/* Free what a loaded census holds (c, groups, shared). */
void heapstore_census_free(struct heapstore_census *hc);

#endif
