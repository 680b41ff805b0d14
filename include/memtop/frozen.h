/*
 * frozen.h - frozen work: the one entry point that stops a target
 * (docs/freeze.md).  Everything memtop does to a stopped process (the
 * drill-down's scan, backtraces, a heap census) runs as a callback of
 * frozen_run, so the order that keeps the stop short and the promise that
 * the target is always let go live in one place:
 *
 *   1. while the target runs: read its maps (when a proc is given) and
 *      read the modules' symbol tables into the cache (the slow part);
 *   2. freeze every thread (freeze_begin), unless no_freeze;
 *   3. read the maps again, so they hold still during the work;
 *   4. work(arg, &frozen, err): runs on this thread (ptrace is per
 *      thread), the target stopped; it should poll frozen_stop_requested
 *      (or its own progress) and return soon when asked to;
 *   5. release the target (freeze_end) at once, whatever work returned.
 *
 * Drawing, printing and storing happen after frozen_run returns.
 */
#ifndef MEMTOP_FROZEN_H
#define MEMTOP_FROZEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"
#include "memtop/freeze.h"
#include "memtop/scan.h"
#include "memtop/snapshot.h"
#include "memtop/symbols.h"

struct mt_proc;

/* What the work sees while the target stands still. */
struct frozen {
	pid_t pid;
	const struct freeze *freeze;     /* NULL with no_freeze: the target runs */
	const struct mt_snapshot *snap;  /* its maps, classified */
	const struct symbols_map *map;   /* symbol tables of its modules */
	struct symbols_cache *symbols;
};

typedef int (*frozen_work_fn)(void *arg, const struct frozen *f, struct mt_error *err);

struct frozen_job {
	pid_t pid;
	bool no_freeze;                  /* --no-freeze: no ptrace at all */
	struct symbols_cache *symbols;   /* the caller's, kept across jobs */
	/* The maps: read through proc into snap (before the freeze to warm
	 * the symbols, again once frozen), or, proc NULL, snap as given
	 * (classified) and not read again. */
	struct mt_proc *proc;
	struct mt_snapshot *snap;
	frozen_work_fn work;
	void *arg;
	/* Optional, called with the warm maps before the freeze: 0 goes
	 * ahead, 1 declines (frozen_run returns 1, nothing stopped), -1
	 * refuses with err set.  Not called with no_freeze. */
	int (*admit)(void *arg, const struct mt_snapshot *snap, struct mt_error *err);
	/* The freeze, once begun, for the work's progress (budget checks). */
	const struct freeze **freeze_out;
};

/* How long the target stood still. */
struct frozen_stats {
	bool frozen;          /* a freeze was taken */
	double stopped_ms;
	size_t not_stopped;   /* threads that ran on: not stopped in time, or
			       * not seized (traced by another program) */
	/* The first of them and why (freeze_why()). */
	struct freeze_thread unstopped[FREEZE_UNSTOPPED_MAX];
	size_t n_unstopped;
};

/*
 * Run job: 0, 1 when job->admit declined, or -1 with err set (by the
 * admission, the freeze, the maps or the work).  The target is running
 * again when it returns, on every path.
 */
int frozen_run(const struct frozen_job *job, struct frozen_stats *stats,
	       struct mt_error *err);

/* A progress callback for frozen work: non-zero when SIGINT, SIGTERM,
 * SIGHUP or SIGQUIT waits behind the freeze (the user wants out). */
int frozen_stop_requested(void *arg, uint64_t done, uint64_t total);

/* ---- the drill-down step ------------------------------------------------ */

struct frozen_scan_options {
	pid_t pid;
	struct mt_proc *proc;            /* reads the maps */
	struct scan_spec spec;           /* resolved on the frozen maps */
	bool no_freeze;
	struct symbols_cache *symbols;
	scan_progress_fn progress;       /* NULL: frozen_stop_requested */
	void *progress_arg;
	bool scan_swapped;               /* --scan-swapped */
	unsigned threads;                /* readers; 0: one per CPU */
	/* The budget (docs/freeze.md): a scan predicted (scan_estimate) to
	 * stop the target longer than max_stop_ms is refused with a message,
	 * and one that runs past it is cut short (info.max_stop_hit).  Above
	 * ask_above_ms, confirm (when given) is asked first: non-zero goes
	 * ahead, 0 declines (frozen_scan returns 1). */
	long max_stop_ms;                /* 0: no limit */
	double ask_above_ms;
	int (*confirm)(void *arg, const struct scan_estimate *e);
	void *confirm_arg;
};

/* What a step found besides its result. */
struct frozen_scan_info {
	uint64_t lo, hi;      /* the range scanned for */
	long region;          /* index in snap of the region holding lo, -1 */
	struct frozen_stats stats;
	bool max_stop_hit;    /* cut short: the target stood still max_stop_ms */
};

/*
 * One drill-down step, the recipe of docs/drilldown.md: who holds
 * pointers into o->spec.  snap gets the maps as scanned (classified) and
 * res the references, which point into snap (both initialised by the
 * caller, reset here).  0 (also when cancelled: res->cancelled), 1 when
 * confirm declined, or -1 with err set (also a refusal by max_stop_ms).
 */
int frozen_scan(const struct frozen_scan_options *o, struct mt_snapshot *snap,
		struct scan_result *res, struct frozen_scan_info *info, struct mt_error *err);

#endif
