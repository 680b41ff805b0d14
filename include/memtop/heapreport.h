/*
 * heapreport.h - `memtop -p PID --heap [--leaks] [--json]`: one census of
 * the target's heap (and its leaks), the target frozen once, printed as
 * text or one JSON object (docs/heap.md, docs/json.md).
 */
#ifndef MEMTOP_HEAPREPORT_H
#define MEMTOP_HEAPREPORT_H

#include <stdio.h>

#include "memtop/census.h"
#include "memtop/error.h"
#include "memtop/leaks.h"
#include "memtop/options.h"

#include "memtop/proc.h"
#include "memtop/symbols.h"

/* One census: what was found and what it cost the target. */
struct heapreport {
	struct census c;
	struct leaks l;
	bool leaks;         /* the leak search ran */
	double time;        /* CLOCK_REALTIME at the freeze */
	double stopped_ms;
	size_t not_stopped;
	int pid;
	char comm[64];
};

/*
 * Take one census of pid (maps read through p), with the leak search when
 * leaks is set (read_swapped: swapped-out pages too, swapping them back
 * in, as --scan-swapped asks): the target frozen once (frozen_run), the classes and the
 * leaks worked out after it runs again.  A process using another
 * allocator is refused before it is stopped.  r must be zeroed or freed.
 * Returns 0, or -1 with err set.
 */
int heapreport_take(struct heapreport *r, pid_t pid, struct mt_proc *p, bool leaks,
		    bool read_swapped, struct symbols_cache *cache, struct mt_error *err);
void heapreport_free(struct heapreport *r);
/* Drop what a baseline does not need (chunks, leaks); keep the classes. */
void heapreport_keep_classes(struct heapreport *r);

void heapreport_print_text(FILE *out, const struct heapreport *r, double seconds);
void heapreport_print_json(FILE *out, const struct heapreport *r, double seconds);

/* A census loaded from a recording (heapstore.h) into a report, taking
 * what hc owns (hc is left empty): pid and comm are the session's. */
struct heapstore_census;
void heapreport_from_stored(struct heapreport *r, struct heapstore_census *hc, int pid,
			    const char *comm);

/* `memtop -r FILE --heap [--json]`: every census recorded in the session,
 * printed as when it was taken, growth against the first one recorded.
 * Returns 0, or -1 with err set. */
int heap_replay(FILE *out, const struct mt_options *opt, struct mt_error *err);

/* Freeze, census (and leaks), release, print; --heap-every repeats it;
 * with -w each census goes into the recording, after a sample.
 * Returns 0, or -1 with err saying why (its kind: what main turns into
 * the exit status). */
int heap_report(FILE *out, const struct mt_options *opt, struct mt_error *err);

#endif
