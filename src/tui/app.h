/*
 * app.h - the TUI's state, shared by its screens (private to src/tui/).
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
#include "keys.h"
#include "list.h"
#include "text.h"

#define TUI_MIN_COLS 80
#define TUI_MIN_LINES 24
#define TUI_HEADER_LINES 4 /* three of figures, one of tabs */
#define TUI_EVLOG_CAP 4096

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
 * of the refresh before that is gone now (shown struck once). */
struct tui_rrow {
	const struct mt_region *r;
	uint64_t growth_base; /* its size when first seen at this start (growth.h) */
	bool gone;
	bool fresh;           /* new at the latest refresh */
};

/* The map/unmap log, kept across refreshes: a ring of owned events. */
struct tui_evlog {
	struct mt_event *v;
	uint64_t *seq;  /* arrival order, for a stable newest-first sort */
	size_t cap;
	size_t head;    /* next slot */
	size_t n;
	uint64_t next_seq;
};

/* A line of a text screen (region detail, help): name and value. */
struct tui_line {
	char name[24];
	char value[200];
	enum { LINE_PLAIN, LINE_TITLE, LINE_DIM, LINE_WARN, LINE_PATH } kind;
};

struct tui_lines {
	struct tui_line *v;
	size_t n;
	size_t cap;
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
struct tui_app;

/*
 * A screen (screen.c): what the body shows and how the keys act there,
 * as htop's Panel.  The screens are a stack; the top one is on show.
 */
struct tui_screen {
	const char *name;
	void (*draw)(struct tui_app *a, WINDOW *w, int h, int width);
	struct tui_list *(*list)(struct tui_app *a); /* what movement keys act on */
	unsigned (*scope)(const struct tui_app *a);  /* bindings in force (keys.h) */
	void (*enter)(struct tui_app *a);            /* Enter; NULL: nothing */
	void (*back)(struct tui_app *a);             /* Esc; NULL: pop the screen */
	/* A first look at every action; true when it took it. */
	bool (*key)(struct tui_app *a, enum tui_action act);
	void (*close)(struct tui_app *a);            /* free its state, popped */
};

#define TUI_STACK_MAX 8

extern const struct tui_screen screen_picker, screen_views, screen_detail, screen_drilldown,
	screen_traces, screen_help, screen_heap;

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
	bool playing;        /* replay: a sample every delay (Space) */
	struct tui_checkpoint **checkpoints; /* replay: by sample, timetravel.c */
	size_t n_checkpoints, cap_checkpoints, checkpoint_bytes, checkpoint_every;

	/* What the TUI keeps across refreshes. */
	struct tui_evlog log;

	/* Screens: stack[depth - 1] is on show. */
	const struct tui_screen *stack[TUI_STACK_MAX];
	size_t depth;
	enum tui_view view;
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

/* The stack of screens (screen.c).  Push one; pop the top one (its
 * close frees its state); close s and every screen above it, top first
 * (nothing when s is not open); pop down to s. */
const struct tui_screen *screen_top(const struct tui_app *a);
/* The scope the keys work in now (enum tui_scope): the top screen's. */
unsigned screen_scope(const struct tui_app *a);
bool screen_open(const struct tui_app *a, const struct tui_screen *s);
void screen_push(struct tui_app *a, const struct tui_screen *s);
void screen_pop(struct tui_app *a);
void screen_close(struct tui_app *a, const struct tui_screen *s);
void screen_pop_to(struct tui_app *a, const struct tui_screen *s);

/* No process is watched: the picker is up (tui.c). */
static inline bool tui_picking(const struct tui_app *a)
{
	return !a->ses.proc && !a->ses.replay;
}
/* Enter in the picker: watch the selected process, its views over the
 * picker; Esc in those views: back to the picker (tui.c). */
void tui_pick(struct tui_app *a);
void tui_leave(struct tui_app *a);

/* Screens (views.c, detail.c, picker.c). */
void views_init(struct tui_app *a);
void views_free(struct tui_app *a);
/* Fold a successful refresh into what the TUI keeps across refreshes
 * (the event log, sparklines); once per model_update. */
void views_sample(struct tui_app *a);
/* Rebuild the screens' items and lists from the latest state. */
void views_refresh(struct tui_app *a);
/* The list keys act on in the current screen. */
struct tui_list *views_list(struct tui_app *a);
void views_draw(struct tui_app *a, WINDOW *w, int h, int width);
/* Enter on the selection of the current view. */
void views_enter(struct tui_app *a);
const char *views_title(enum tui_view v);

void detail_open(struct tui_app *a, const struct mt_region *r);
void detail_close(struct tui_app *a);
void detail_free(struct tui_app *a);
void detail_refresh(struct tui_app *a);
void detail_draw(struct tui_app *a, WINDOW *w, int h, int width);
/* The "Actions:" line: Esc, and the bindings of exactly scope. */
void actions_draw(WINDOW *w, int y, int width, unsigned scope);

/* The drill-down (drilldown.c).  drilldown_start scans for pointers into the
 * detail's region; Enter follows the selected holder, Esc steps back. */
void drilldown_start(struct tui_app *a);
void drilldown_rescan(struct tui_app *a);
/* A drill-down from any range (a heap object the census points at). */
void drilldown_range(struct tui_app *a, uint64_t lo, uint64_t hi, const char *label);
void drilldown_follow(struct tui_app *a);
void drilldown_back(struct tui_app *a);
void drilldown_close(struct tui_app *a);
void drilldown_free(struct tui_app *a);
void drilldown_draw(struct tui_app *a, WINDOW *w, int h, int width);
static inline bool drilldown_open(const struct tui_app *a)
{
	return a->drill.n > 0;
}

/* Backtraces of every thread (traces.c). */
void heapview_take(struct tui_app *a, bool leaks);
void heapview_tick(struct tui_app *a, double now);
void heapview_close(struct tui_app *a);
void heapview_closed(struct tui_app *a);
void heapview_enter(struct tui_app *a);
/* The drill-down into code that was unmapped (e an unmap event of an
 * executable mapping): words still pointing into it. */
void heapview_departed_scan(struct tui_app *a, const struct mt_event *e);
void heapview_free(struct tui_app *a);
void heapview_draw(struct tui_app *a, WINDOW *w, int h, int width);
void traces_take(struct tui_app *a);
void traces_close(struct tui_app *a);
void traces_free(struct tui_app *a);
void traces_draw(struct tui_app *a, WINDOW *w, int h, int width);

bool tui_quit_pending(void);
/* The status line, written only through these: a message kept a few
 * seconds; a warning (in red) kept until cleared; nothing. */
void tui_status(struct tui_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_warn(struct tui_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_status_clear(struct tui_app *a);

void picker_init(struct tui_app *a);
void picker_refresh(struct tui_app *a);
void picker_draw(struct tui_app *a, WINDOW *w, int h, int width);
/* The selected process, 0 if none. */
pid_t picker_selected(struct tui_app *a);

void help_init(struct tui_app *a);
void help_draw(struct tui_app *a, WINDOW *w, int h, int width);

void header_draw(struct tui_app *a, WINDOW *w, int width);
void footer_draw(struct tui_app *a, WINDOW *w, int width);
/* The action of a click at x on the function bar / the view of a click
 * on the tab row, or -1. */
int footer_action_at(struct tui_app *a, int x);
int header_tab_at(struct tui_app *a, int x);

/*
 * The session's next sample (session_next), then what the screens keep
 * across refreshes; quiet leaves the lists alone (a replay's jump).  0, or
 * -1 with err set.
 */
int tui_fold(struct tui_app *a, bool quiet, struct mt_error *err);

/* timetravel.c: a replay.  Open it and show its first sample (0, or -1
 * with err set); show sample k; one step either way; jump to the time or
 * "#N" typed at the prompt.  Failures go to the status line. */
int timetravel_open(struct tui_app *a, struct mt_error *err);
void timetravel_goto(struct tui_app *a, size_t k);
void timetravel_step(struct tui_app *a, int dir);
void timetravel_jump(struct tui_app *a, const char *text);
void timetravel_free(struct tui_app *a);
/* Index of the sample on screen. */
size_t timetravel_index(const struct tui_app *a);


/* Lines of a text screen. */
struct tui_line *lines_add(struct tui_lines *l, int kind, const char *name,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void lines_free(struct tui_lines *l);
extern const struct tui_list_ops lines_ops;

/* The latest snapshot, NULL before the first refresh. */
static inline const struct mt_snapshot *app_snap(const struct tui_app *a)
{
	return session_snap(&a->ses);
}

#endif
