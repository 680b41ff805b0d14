/*
 * timetravel.c - a replay on the screen: which sample is shown, and atop's
 * keys to move among them (t, T, b, Home, End, and Space to play).
 *
 * The model folds its baselines, trends and event log from the first
 * sample on, as it did live, so a sample is shown by folding the samples
 * before it: forwards from the one on screen, or again from the first to
 * go back.  The intermediate samples are folded quietly (no list is
 * rebuilt); docs/performance.md says what a step back costs.
 */
#include <stdlib.h>
#include <time.h>

#include "memtop/format.h"
#include "app.h"

/* What is being replayed, for the first seconds. */
static void say_session(struct tui_app *a)
{
	const struct replay_session *s = replay_session(a->replay);
	char from[32], to[32];
	time_t t0 = (time_t)replay_time(a->replay, 0);
	time_t t1 = (time_t)replay_time(a->replay, replay_count(a->replay) - 1);
	struct tm tm;
	strftime(from, sizeof(from), "%Y-%m-%d %H:%M:%S", localtime_r(&t0, &tm));
	strftime(to, sizeof(to), "%H:%M:%S", localtime_r(&t1, &tm));
	tui_status(a, "session %zu of %zu: %s (pid %d) on %s, %zu samples from %s to %s%s",
		   s->index, s->count, s->comm, s->pid, s->host, replay_count(a->replay), from,
		   to, s->ended > 0 ? "" : " (not closed: memtop was killed?)");
}

/* Open the recording and show its first sample: 0, or -1 with err set. */
int timetravel_open(struct tui_app *a, struct mt_error *err)
{
	if (replay_open(&a->replay, a->opt->read, a->opt->session, err) ||
	    scanstore_list(replay_db(a->replay), replay_session(a->replay)->id, &a->scans,
			   &a->n_scans, err))
		return -1;
	a->pid = replay_session(a->replay)->pid;
	timetravel_goto(a, 0);
	if (!a->have_snap)
		return mt_error_set(err, MT_EXIT_BADFILE, 0, "%s", a->status);
	a->status_warn = false;
	say_session(a);
	return 0;
}

/* Index of the sample on screen. */
size_t tui_replay_index(const struct tui_app *a)
{
	size_t pos = replay_pos(a->replay);
	return pos ? pos - 1 : 0;
}

/* Forget everything folded so far: the model and the TUI's own logs
 * start again from the first sample, as they did when recording. */
static void restart(struct tui_app *a)
{
	views_free(a);
	model_free(&a->model);
	model_init(&a->model);
	snapshot_reset(&a->snap[0]);
	snapshot_reset(&a->snap[1]);
	a->have_snap = a->have_prev = false;
	a->refreshes = 0;
	views_init(a);
	replay_rewind(a->replay);
}

/* Show sample k: forwards from the one shown, or again from the first. */
void timetravel_goto(struct tui_app *a, size_t k)
{
	struct mt_error err;
	size_t n = replay_count(a->replay);
	mt_error_clear(&err);
	if (k >= n)
		k = n - 1;
	if (a->have_snap && k == tui_replay_index(a))
		return;
	if (!a->have_snap || k < tui_replay_index(a))
		restart(a);
	while (replay_pos(a->replay) < k + 1) {
		bool last = replay_pos(a->replay) == k;
		if (tui_fold(a, !last, &err)) {
			tui_status(a, "%s", err.msg);
			a->status_warn = true;
			a->playing = false;
			break;
		}
	}
	if (refs_open(a))
		refs_close(a);
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void timetravel_step(struct tui_app *a, int dir)
{
	size_t i = tui_replay_index(a);
	if (dir > 0 && i + 1 >= replay_count(a->replay)) {
		tui_status(a, "this is the last sample (%zu)", i + 1);
		a->playing = false;
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
		if (end == text + 1 || *end || n == 0 || n > replay_count(a->replay)) {
			tui_status(a, "no sample %s: the recording has %zu", text,
				   replay_count(a->replay));
			return;
		}
		timetravel_goto(a, n - 1);
		return;
	}
	if (format_parse_when(text, replay_time(a->replay, tui_replay_index(a)), &t)) {
		tui_status(a, "'%s' is not a time: HH:MM[:SS], YYYY-MM-DD HH:MM[:SS] or #N", text);
		return;
	}
	if (t < replay_time(a->replay, 0))
		tui_status(a, "the recording starts later: showing its first sample");
	timetravel_goto(a, replay_find_time(a->replay, t));
}
