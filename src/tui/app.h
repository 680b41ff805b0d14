/*
 * app.h - the TUI's state, shared by its screens (private to src/tui/),
 * and what tui.c offers all of them: the status line, the next sample,
 * the picker's hand-over.  Each module's functions are in its own header.
 *
 * The TUI drives a session (session.h) as the batch printer does: each
 * refresh is a session_next; the screens only read the session's model
 * and snapshots.  Beyond them the TUI keeps screen state only: the stack
 * of screens (screen.c), their lists, and the event log's longer memory.
 */
#ifndef MEMTOP_TUI_APP_H
#define MEMTOP_TUI_APP_H

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>

#include "memtop/heapreport.h"
#include "memtop/heapstore.h"
#include "memtop/model.h"
#include "memtop/options.h"
#include "memtop/proc.h"
#include "memtop/proclist.h"
#include "memtop/record.h"
#include "memtop/replay.h"
#include "memtop/scanstore.h"
#include "memtop/regiondetail.h"
#include "memtop/scan.h"
#include "memtop/session.h"
#include "memtop/snapshot.h"
#include "memtop/symbols.h"
#include "memtop/unwind.h"
#include "drill.h"
#include "eventlog.h"
#include "keys.h"
#include "lines.h"
#include "list.h"
#include "text.h"

#define TUI_MIN_COLS 80
#define TUI_MIN_LINES 24
#define TUI_HEADER_LINES 4 /* three of figures, one of tabs */

enum tui_view {
	VIEW_SUMMARY,
	VIEW_REGIONS,
	VIEW_FILES,
	VIEW_FREE,
	VIEW_EVENTS,
	VIEW_THREADS,
	VIEW_COUNT
};

/* A row of the Regions screen: a region of the latest snapshot, or one
 * of the refresh before that is gone now (shown once, marked "-"). */
struct tui_rrow {
	const struct mt_region *r;
	uint64_t growth_base; /* its size when first seen at this start (growth.h) */
	bool gone;
	bool fresh;           /* new at the latest refresh */
};

/* A table of struct mt_stat rows: categories, types or protections. */
struct tui_stat_table {
	const char *name[MT_PROT_COUNT + 1];
	char prot_name[MT_PROT_COUNT][5];
	const struct mt_stat *stat[MT_PROT_COUNT + 1];
	int cat[MT_PROT_COUNT + 1]; /* category for the colour, -1 for none */
	size_t n;
};

enum tui_prompt { PROMPT_NONE, PROMPT_SEARCH, PROMPT_FILTER, PROMPT_JUMP };

/* One step of the drill-down: who holds pointers into [lo, hi). */
struct tui_step {
	uint64_t lo, hi;
	char label[96];           /* its name in the breadcrumb */
	long region;              /* the region of snap holding lo, -1 */
	struct mt_snapshot snap;  /* the maps as scanned: res points into it */
	struct scan_result res;
	struct drill_rows rows;
	bool frozen;
	double stopped_ms;
	size_t not_stopped;       /* threads that ran on: not seized or not stopped */
	char ran_why[160];        /* the first of them and why ("thread 5: traced by...") */
	time_t taken;             /* the list is a snapshot of this moment */
	size_t cursor, top;       /* where the list was, for the way back */
	int64_t rec_id;           /* its id in the recording (-w, -r), 0 */
};

/* The drill-down, over a region's detail: a stack of steps, the last
 * on screen; Enter pushes one, Esc pops one. */
struct tui_drill {
	struct tui_step **steps;
	size_t n, cap;
	struct mt_proc *proc;     /* its own: proc_read keeps state per handle */
	struct tui_list list;
};

/* Backtraces of every thread, taken on demand from the Threads view. */
struct tui_traces {
	struct unwind_stack *v;
	size_t n;
	time_t taken;
	double stopped_ms;
	struct tui_lines lines;
	struct tui_list list;
};

/* The heap census screen (heapview.c). */
struct tui_heap {
	struct heapreport cur;   /* the latest census */
	struct census base;      /* the first one's classes: growth is against it */
	double base_time;
	size_t taken;            /* censuses taken this session */
	double next;             /* --heap-every: when the next is due (CLOCK_MONOTONIC) */
	/* A replay: the censuses recorded, listed once; which one is shown. */
	struct heapstore_info *recorded;
	size_t n_recorded;
	bool listed;
	size_t shown;
	struct tui_lines lines;
	struct tui_list list;
};

struct tui_checkpoint;
struct tui_screen; /* screen.h */

#define TUI_STACK_MAX 8

struct tui_app {
	const struct mt_options *opt;
	const struct tui_glyphs *gl;

	/* The watch: source, model, recorder (session.h). */
	struct mt_session ses;
	bool exited;
	bool paused;
	double next_refresh; /* CLOCK_MONOTONIC */
	char status[256];    /* a message for the user, "" if none */
	bool status_warn;
	double status_until; /* a refresh keeps the message until then */

	/* -r: the scans the recording holds. */
	struct scanstore_info *scans;
	size_t n_scans;
	struct tui_list scans_list; /* L: the list of them */
	bool playing;        /* replay: a sample every delay (Space) */
	struct tui_checkpoint **checkpoints; /* replay: by sample, timetravel.c */
	size_t n_checkpoints, cap_checkpoints, checkpoint_bytes, checkpoint_every;

	/* What the TUI keeps across refreshes. */
	struct tui_evlog log;

	/* Screens: stack[depth - 1] is on show. */
	const struct tui_screen *stack[TUI_STACK_MAX];
	size_t depth;
	enum tui_view view;
	/* Regions filtered by Enter on a file: Esc goes back to Files. */
	bool from_files;
	struct tui_list lists[VIEW_COUNT];
	bool stale[VIEW_COUNT]; /* items changed since the list was rebuilt */
	struct tui_rrow *rrows;
	size_t n_rrows, cap_rrows;
	struct tui_stat_table cats_t, types_t, prots_t;
	struct tui_list types_list, prots_list;

	struct tui_list detail_list;
	struct tui_lines detail_lines;
	uint64_t detail_start;  /* the region shown */
	struct mt_region detail_region; /* copy: the region may go away */
	char detail_path[512];
	struct mt_region_detail rd;
	bool detail_gone;

	/* The drill-down and the backtraces: they stop the target briefly,
	 * on this (the only) thread; symbol tables are kept across scans. */
	struct symbols_cache symbols;
	struct tui_drill drill;
	struct tui_traces traces;
	struct tui_heap heap;

	struct tui_list help_list;
	struct tui_lines help_lines;

	struct tui_list picker_list;
	struct mt_proclist procs;
	double next_picker;

	enum tui_prompt prompt;
	char prompt_buf[64];

	/* The screen. */
	int lines, cols;
	bool too_small;
	bool mouse;
	WINDOW *hdr, *body, *foot;
	bool dirty_hdr, dirty_body, dirty_foot;
};

/* No process is watched: the picker is up (tui.c). */
static inline bool tui_picking(const struct tui_app *a)
{
	return !a->ses.proc && !a->ses.replay;
}
/* Enter in the picker: watch the selected process, its views over the
 * picker; Esc in those views: back to the picker (tui.c). */
void tui_pick(struct tui_app *a);
void tui_leave(struct tui_app *a);

bool tui_quit_pending(void);
/* The status line, written only through these: a message kept a few
 * seconds; a warning (in red) kept until cleared; nothing. */
void tui_status(struct tui_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_warn(struct tui_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_status_clear(struct tui_app *a);

/*
 * The session's next sample (session_next), then what the screens keep
 * across refreshes; quiet leaves the lists alone (a replay's jump).  0, or
 * -1 with err set.
 */
int tui_fold(struct tui_app *a, bool quiet, struct mt_error *err);

/* The latest snapshot, NULL before the first refresh. */
static inline const struct mt_snapshot *app_snap(const struct tui_app *a)
{
	return session_snap(&a->ses);
}

#endif
