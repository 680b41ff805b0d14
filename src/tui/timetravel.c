/*
 * timetravel.c - a replay on the screen: which sample is shown, and atop's
 * keys to move among them (t, T, b, Home, End, and Space to play).
 *
 * The model folds its baselines, trends and event log from the first
 * sample on, as it did live, so a sample is shown by folding the samples
 * before it: forwards from the one on screen, or, to go back, forwards
 * from the latest checkpoint before it (a deep copy of everything folded,
 * taken on the way through every `every` samples, at most CHECKPOINTS_MAX
 * of them and CHECKPOINT_BUDGET bytes), else from the first sample.  The
 * samples in between are folded quietly (no list is rebuilt).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtop/format.h"
#include "memtop/vec.h"
#include "app.h"
#include "detail.h"
#include "drilldown.h"
#include "eventlog.h"
#include "screen.h"
#include "timetravel.h"
#include "views.h"

#define CHECKPOINTS_MAX 64
#define CHECKPOINT_EVERY_MIN 64
#define CHECKPOINT_BUDGET ((size_t)128 << 20)

/* Everything folded up to a sample: what going back to it restores. */
struct tui_checkpoint {
	size_t index;   /* the sample shown */
	size_t bytes;   /* about what it holds */
	struct replay_mark *mark;
	struct mt_model model;
	struct mt_snapshot snap[2];
	int cur;
	bool have_prev;
	long refreshes;
	struct tui_evlog log;
	struct mt_traced traced; /* --trace: what was folded (the stacks stay) */
};

/* What is being replayed, for the first seconds. */
static void say_session(struct tui_app *a)
{
	const struct replay_session *s = replay_session(a->ses.replay);
	char from[32], to[32];
	time_t t0 = (time_t)replay_time(a->ses.replay, 0);
	time_t t1 = (time_t)replay_time(a->ses.replay, replay_count(a->ses.replay) - 1);
	struct tm tm;
	strftime(from, sizeof(from), "%Y-%m-%d %H:%M:%S", localtime_r(&t0, &tm));
	strftime(to, sizeof(to), "%H:%M:%S", localtime_r(&t1, &tm));
	tui_status(a, "session %zu of %zu: %s (pid %d) on %s, %zu samples from %s to %s, "
		   "%zu scan%s%s", s->index, s->count, s->comm, s->pid, s->host,
		   replay_count(a->ses.replay), from, to, a->n_scans, a->n_scans == 1 ? "" : "s",
		   s->ended > 0 ? "" : " (not closed: memtop was killed?)");
}

/* Open the recording and show its first sample: 0, or -1 with err set. */
int timetravel_open(struct tui_app *a, struct mt_error *err)
{
	if (session_open(&a->ses, a->opt, 0, err) ||
	    replay_list_scans(a->ses.replay, &a->scans, &a->n_scans, err))
		return -1;
	size_t every = (replay_count(a->ses.replay) + CHECKPOINTS_MAX - 1) / CHECKPOINTS_MAX;
	a->checkpoint_every = every > CHECKPOINT_EVERY_MIN ? every : CHECKPOINT_EVERY_MIN;
	timetravel_goto(a, 0);
	if (!a->ses.have_snap)
		return mt_error_set(err, MT_ERR_BADFILE, 0, "%s", a->status);
	tui_status_clear(a);
	say_session(a);
	return 0;
}

/* Index of the sample on screen. */
size_t timetravel_index(const struct tui_app *a)
{
	size_t pos = replay_pos(a->ses.replay);
	return pos ? pos - 1 : 0;
}

/* ---- checkpoints --------------------------------------------------------- */

static void checkpoint_free(struct tui_checkpoint *c)
{
	if (!c)
		return;
	replay_mark_free(c->mark);
	model_free(&c->model);
	snapshot_free(&c->snap[0]);
	snapshot_free(&c->snap[1]);
	eventlog_free(&c->log);
	traced_free(&c->traced);
	free(c);
}

void timetravel_free(struct tui_app *a)
{
	for (size_t i = 0; i < a->n_checkpoints; i++)
		checkpoint_free(a->checkpoints[i]);
	free(a->checkpoints);
	a->checkpoints = NULL;
	a->n_checkpoints = a->cap_checkpoints = a->checkpoint_bytes = 0;
}

static size_t snapshot_bytes(const struct mt_snapshot *s)
{
	return s->n_regions * (sizeof(*s->regions) + 48) + s->n_threads * sizeof(*s->threads);
}

/* A deep copy of the state after folding the sample on screen. */
static struct tui_checkpoint *checkpoint_take(const struct tui_app *a)
{
	struct tui_checkpoint *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	size_t mark_bytes = 0;
	c->index = timetravel_index(a);
	snapshot_init(&c->snap[0]);
	snapshot_init(&c->snap[1]);
	model_init(&c->model);
	traced_init(&c->traced);
	c->mark = replay_mark(a->ses.replay, &mark_bytes);
	if (!c->mark || model_copy(&c->model, &a->ses.model) ||
	    snapshot_copy(&c->snap[0], &a->ses.snap[0]) ||
	    snapshot_copy(&c->snap[1], &a->ses.snap[1]) ||
	    eventlog_copy(&c->log, &a->log) || traced_copy_state(&c->traced, &a->ses.traced)) {
		checkpoint_free(c);
		return NULL;
	}
	c->cur = a->ses.cur;
	c->have_prev = a->ses.have_prev;
	c->refreshes = a->ses.refreshes;
	c->bytes = sizeof(*c) + mark_bytes + snapshot_bytes(&c->snap[0]) +
		   snapshot_bytes(&c->snap[1]) +
		   c->model.growth.n_bases * sizeof(*c->model.growth.bases) +
		   c->log.n * (sizeof(*c->log.v) + 64) + c->model.growth.n_files * 256 +
		   c->traced.origins.n * sizeof(*c->traced.origins.v) +
		   c->traced.groups.n * sizeof(*c->traced.groups.v);
	return c;
}

/* After folding sample i on the way through: keep a checkpoint every
 * `every` samples while the budget lasts.  They are taken in order. */
static void checkpoint_maybe(struct tui_app *a)
{
	size_t i = timetravel_index(a);
	size_t n = a->n_checkpoints;
	if (i == 0 || i % a->checkpoint_every || n >= CHECKPOINTS_MAX ||
	    a->checkpoint_bytes >= CHECKPOINT_BUDGET ||
	    (n && a->checkpoints[n - 1]->index >= i))
		return;
	if (VEC_RESERVE(a->checkpoints, a->cap_checkpoints, a->n_checkpoints, 8))
		return;
	struct tui_checkpoint *c = checkpoint_take(a);
	if (!c)
		return;
	a->checkpoints[a->n_checkpoints++] = c;
	a->checkpoint_bytes += c->bytes;
	/* A big process affords fewer: spread them over the whole replay. */
	size_t afford = CHECKPOINT_BUDGET / (c->bytes ? c->bytes : 1);
	if (n == 0 && afford < CHECKPOINTS_MAX) {
		size_t every = (replay_count(a->ses.replay) + afford) / (afford ? afford : 1);
		if (every > a->checkpoint_every)
			a->checkpoint_every = every;
	}
}

/* The views' own logs, emptied (their lists keep cursor and sort). */
static void forget_logs(struct tui_app *a)
{
	eventlog_free(&a->log);
	a->n_rrows = 0;
}

/* Forget everything folded so far: the model and the TUI's own logs
 * start again from the first sample, as they did when recording. */
static void restart(struct tui_app *a)
{
	forget_logs(a);
	session_restart(&a->ses);
}

/* Back to checkpoint c: 0, or -1 (out of memory; restart instead). */
static int checkpoint_restore(struct tui_app *a, const struct tui_checkpoint *c)
{
	forget_logs(a);
	model_free(&a->ses.model);
	if (replay_restore(a->ses.replay, c->mark) || model_copy(&a->ses.model, &c->model) ||
	    snapshot_copy(&a->ses.snap[0], &c->snap[0]) ||
	    snapshot_copy(&a->ses.snap[1], &c->snap[1]) ||
	    eventlog_copy(&a->log, &c->log) || traced_copy_state(&a->ses.traced, &c->traced))
		return -1;
	a->ses.cur = c->cur;
	a->ses.have_snap = true;
	a->ses.have_prev = c->have_prev;
	a->ses.refreshes = c->refreshes;
	return 0;
}

/* Start from the latest checkpoint at or before k, else the first sample. */
static void go_back(struct tui_app *a, size_t k)
{
	const struct tui_checkpoint *best = NULL;
	for (size_t i = 0; i < a->n_checkpoints && a->checkpoints[i]->index <= k; i++)
		best = a->checkpoints[i];
	if (best && checkpoint_restore(a, best) == 0)
		return;
	restart(a);
}

/* ---- moving ------------------------------------------------------------- */

/* Show sample k: forwards from the one shown, or from the latest
 * checkpoint before it. */
void timetravel_goto(struct tui_app *a, size_t k)
{
	struct mt_error err;
	size_t n = replay_count(a->ses.replay);
	mt_error_clear(&err);
	if (k >= n)
		k = n - 1;
	if (a->ses.have_snap && k == timetravel_index(a))
		return;
	if (!a->ses.have_snap || k < timetravel_index(a))
		go_back(a, k);
	bool shown = false;
	while (!shown && replay_pos(a->ses.replay) < k + 1) {
		shown = replay_pos(a->ses.replay) == k;
		if (tui_fold(a, !shown, &err)) {
			tui_warn(a, "%s", err.msg);
			a->playing = false;
			break;
		}
		checkpoint_maybe(a);
	}
	/* Back at a checkpoint of k itself, or stopped short: the lists
	 * still point into what was there before. */
	if (!shown && a->ses.have_snap) {
		views_refresh(a);
		if (screen_open(a, &screen_detail))
			detail_refresh(a);
	}
	if (drilldown_open(a))
		drilldown_close(a);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void timetravel_step(struct tui_app *a, int dir)
{
	size_t i = timetravel_index(a);
	struct mt_error err;
	/* At the end of a recording still being written, look for the
	 * samples committed since (Play then follows it as tail -f). */
	if (dir > 0 && i + 1 >= replay_count(a->ses.replay) &&
	    replay_live(a->ses.replay) && replay_follow(a->ses.replay, &err) < 0)
		tui_warn(a, "%s", err.msg);
	if (dir > 0 && i + 1 >= replay_count(a->ses.replay)) {
		if (!(a->playing && replay_live(a->ses.replay))) {
			tui_status(a, "this is the last sample (%zu)", i + 1);
			a->playing = false;
		}
		return;
	}
	if (dir < 0 && i == 0) {
		tui_status(a, "this is the first sample");
		return;
	}
	timetravel_goto(a, dir > 0 ? i + 1 : i - 1);
}

/* The jump prompt's text: "#N", or a time (format_parse_when). */
void timetravel_jump(struct tui_app *a, const char *text)
{
	double t;
	char *end;
	if (text[0] == '#') {
		unsigned long n = strtoul(text + 1, &end, 10);
		if (end == text + 1 || *end || n == 0 || n > replay_count(a->ses.replay)) {
			tui_status(a, "no sample %s: the recording has %zu", text,
				   replay_count(a->ses.replay));
			return;
		}
		timetravel_goto(a, n - 1);
		return;
	}
	if (format_parse_when(text, replay_time(a->ses.replay, timetravel_index(a)), &t)) {
		tui_status(a, "'%s' is not a time: HH:MM[:SS], YYYY-MM-DD HH:MM[:SS] or #N", text);
		return;
	}
	if (t < replay_time(a->ses.replay, 0))
		tui_status(a, "the recording starts later: showing its first sample");
	else if (t > replay_time(a->ses.replay, replay_count(a->ses.replay) - 1))
		tui_status(a, "the recording ends earlier: showing its last sample");
	timetravel_goto(a, replay_find_time(a->ses.replay, t));
}
