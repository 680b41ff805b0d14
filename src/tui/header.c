/*
 * header.c - the header that frames every screen: the process, sizes, the
 * map count meter, headroom, and the view tabs.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "memtop/format.h"
#include "app.h"
#include "header.h"
#include "keys.h"
#include "screen.h"
#include "theme.h"
#include "timetravel.h"
#include "views.h"

static void label(WINDOW *w, const char *l, const char *v)
{
	wattrset(w, theme(TC_LABEL));
	waddstr(w, l);
	wattrset(w, theme(TC_VALUE));
	waddstr(w, v);
	wattrset(w, theme(TC_NORMAL));
}

/* htop's meter: Maps[||||||        1234/65530] over width columns. */
static void meter(WINDOW *w, int y, int x, int width, const char *name, uint64_t val,
		  uint64_t max)
{
	char text[48];
	snprintf(text, sizeof(text), "%" PRIu64 "/%" PRIu64, val, max);
	int inner = width - (int)strlen(name) - 2;
	if (inner < (int)strlen(text))
		return;
	wattrset(w, theme(TC_LABEL));
	mvwaddstr(w, y, x, name);
	wattrset(w, theme(TC_VALUE));
	waddch(w, '[');
	double frac = max ? (double)val / (double)max : 0;
	int bars = (int)(frac * inner + 0.5);
	if (bars > inner)
		bars = inner;
	if (val && bars == 0)
		bars = 1;
	int text_at = inner - (int)strlen(text);
	wattrset(w, theme(frac > 0.75 ? TC_BAR_HIGH : TC_BAR));
	for (int i = 0; i < inner; i++) {
		if (i >= text_at) {
			wattrset(w, theme(TC_DIM));
			waddch(w, (chtype)(unsigned char)text[i - text_at]);
		} else {
			waddch(w, i < bars ? '|' : ' ');
		}
	}
	wattrset(w, theme(TC_VALUE));
	waddch(w, ']');
	wattrset(w, theme(TC_NORMAL));
}

/* The right end of the first line: where the numbers come from. */
static void process_rhs(struct tui_app *a, const struct mt_procinfo *pi, char *rhs, size_t cap,
			const char **badge, attr_t *badge_at)
{
	char up[32];
	format_duration(up, sizeof(up), pi->uptime);
	*badge = NULL;
	if (a->ses.replay) {
		/* Replay: which sample, and when it was taken. */
		size_t i = timetravel_index(a);
		char when[32];
		time_t t = (time_t)replay_time(a->ses.replay, i);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(rhs, cap, "%d thr  up %s  %s  %zu/%zu", pi->threads, up, when, i + 1,
			 replay_count(a->ses.replay));
		*badge = a->playing ? " PLAY " : " REPLAY ";
		*badge_at = theme(TC_WARN) | A_REVERSE;
		return;
	}
	snprintf(rhs, cap, "%d thr  up %s  every %.3gs", pi->threads, up, a->opt->delay);
	/* --trace: how many calls, and any the kernel dropped. */
	const struct mt_traced *t = &a->ses.traced;
	size_t o = strlen(rhs);
	if (t->on && t->count.lost)
		snprintf(rhs + o, cap - o, "  traced %" PRIu64 ", %" PRIu64 " LOST", t->count.total,
			 t->count.lost);
	else if (t->on)
		snprintf(rhs + o, cap - o, "  traced %" PRIu64, t->count.total);
	else if (t->asked)
		snprintf(rhs + o, cap - o, "  untraced");
	if (a->exited) {
		*badge = " EXITED ";
		*badge_at = theme(TC_CRIT);
	} else if (a->paused) {
		*badge = " PAUSED ";
		*badge_at = theme(TC_WARN) | A_REVERSE;
	} else if (a->ses.rec) {
		*badge = " REC ";
		*badge_at = theme(TC_CRIT) | A_REVERSE;
	}
}

static void line_process(struct tui_app *a, WINDOW *w, int width)
{
	const struct mt_snapshot *s = app_snap(a);
	const struct mt_procinfo *pi = &s->info;
	char b[64], rhs[128];
	const char *badge;
	attr_t badge_at = 0;

	process_rhs(a, pi, rhs, sizeof(rhs), &badge, &badge_at);
	int w_right = (int)strlen(rhs) + (badge ? (int)strlen(badge) : 0);
	wmove(w, 0, 0);
	snprintf(b, sizeof(b), "%d", a->ses.pid);
	label(w, "PID ", b);
	label(w, "  ", pi->user);
	waddstr(w, "  ");
	int x = getcurx(w), room = width - w_right - 1 - x;
	char cmd[512];
	const char *src = pi->cmdline[0] ? pi->cmdline : pi->comm;
	text_fit(cmd, sizeof(cmd), src, strlen(src), room, TEXT_CUT_RIGHT, a->gl->utf8);
	wattrset(w, theme(TC_VALUE));
	waddstr(w, cmd);
	wattrset(w, theme(TC_NORMAL));
	wmove(w, 0, width - w_right > 0 ? width - w_right : 0);
	waddnstr(w, rhs, width);
	if (badge) {
		wattrset(w, badge_at);
		waddnstr(w, badge, width - getcurx(w));
	}
	wattrset(w, theme(TC_NORMAL));
}

static void line_sizes(struct tui_app *a, WINDOW *w, int width)
{
	const struct mt_snapshot *s = app_snap(a);
	const struct mt_headroom *hr = &a->ses.model.headroom;
	char b[32];
	wmove(w, 1, 0);
	label(w, "VSZ ", format_size(b, sizeof(b), hr->vsz));
	label(w, "  RSS ", format_size(b, sizeof(b), model_rss(&a->ses.model, s)));
	waddstr(w, "  ");
	int x = getcurx(w);
	meter(w, 1, x, width - x, "Maps", hr->map_count, hr->max_map_count);
}

/* Headroom, and the time left when the trend points at a limit. */
static void line_headroom(struct tui_app *a, WINDOW *w, int width)
{
	const struct mt_headroom *hr = &a->ses.model.headroom;
	char b[32], c[32], t[160];
	wmove(w, 2, 0);
	label(w, "Largest free ", format_size(b, sizeof(b), hr->largest_free));
	/* RLIMIT_AS or the map count limit can make the largest mapping
	 * that would still succeed smaller than the largest free block. */
	if (hr->largest_mmap != hr->largest_free)
		label(w, "  mmap up to ", format_size(c, sizeof(c), hr->largest_mmap));
	if (hr->largest_mmap == 0) {
		theme_right(w, 2, width, getcurx(w) + 1, " mmap WILL FAIL ", theme(TC_CRIT));
		return;
	}
	double eta = -1;
	const char *what = NULL;
	if (hr->maps_eta >= 0) {
		eta = hr->maps_eta;
		what = "map count limit";
	}
	if (hr->vsz_eta >= 0 && (eta < 0 || hr->vsz_eta < eta)) {
		eta = hr->vsz_eta;
		what = "RLIMIT_AS";
	}
	if (eta >= 0) {
		char rate[48];
		double per_min = hr->maps_rate * 60.0;
		if (eta == hr->maps_eta)
			snprintf(rate, sizeof(rate), per_min < 10 ? "%+.1f maps/min" :
				 "%+.0f maps/min", per_min);
		else
			snprintf(rate, sizeof(rate), "%s/min",
				 format_delta_size(c, sizeof(c), (int64_t)(hr->vsz_rate * 60.0)));
		format_duration(b, sizeof(b), eta);
		snprintf(t, sizeof(t), " %s in %s (%s) ", what, b, rate);
		/* A limit days away is worth knowing, not worth alarm. */
		theme_right(w, 2, width, getcurx(w) + 1, t,
		      theme(eta < 600 ? TC_CRIT : eta < 86400 ? TC_WARN : TC_NORMAL));
	} else if (isnan(hr->maps_rate)) {
		theme_right(w, 2, width, getcurx(w) + 1, "trend: not known yet", theme(TC_DIM));
	} else {
		snprintf(t, sizeof(t), "maps %+.1f/min  vsz %s/min", hr->maps_rate * 60.0,
			 format_delta_size(c, sizeof(c), (int64_t)(hr->vsz_rate * 60.0)));
		theme_right(w, 2, width, getcurx(w) + 1, t, theme(TC_DIM));
	}
}

/* The tab row; returns nothing, header_tab_at finds a tab by x. */
static int tab_x(int v)
{
	int x = 0;
	for (int i = 0; i < v; i++)
		x += (int)strlen(views_title((enum tui_view)i)) + 4;
	return x;
}

int header_tab_at(struct tui_app *a, int x)
{
	if (tui_picking(a))
		return -1;
	for (int v = 0; v < VIEW_COUNT; v++)
		if (x >= tab_x(v) && x < tab_x(v + 1))
			return v;
	return -1;
}

static void line_tabs(struct tui_app *a, WINDOW *w, int width)
{
	wmove(w, 3, 0);
	for (int v = 0; v < VIEW_COUNT; v++) {
		bool on = v == (int)a->view;
		wattrset(w, theme(on ? TC_TAB_ACTIVE : TC_TAB));
		wprintw(w, " %d %s ", v + 1, views_title((enum tui_view)v));
		wattrset(w, theme(TC_NORMAL));
		waddch(w, ' ');
	}
	const struct tui_list *l = screen_open(a, &screen_detail) ||
		screen_open(a, &screen_traces) ? NULL : views_list(a);
	if (l && l->filter[0] && a->view != VIEW_SUMMARY) {
		char f[256], fit[200];
		int x = getcurx(w) + 1;
		/* The tail of a long filter (a path) is the part that tells. */
		text_fit(fit, sizeof(fit), l->filter, strlen(l->filter), width - x - 8,
			 TEXT_CUT_LEFT, a->gl->utf8);
		snprintf(f, sizeof(f), "filter: %s", fit);
		theme_right(w, 3, width, x, f, theme(TC_WARN));
	}
}

void header_draw(struct tui_app *a, WINDOW *w, int width)
{
	werase(w);
	if (tui_picking(a)) {
		wattrset(w, theme(TC_VALUE));
		mvwaddstr(w, 0, 0, "memtop");
		wattrset(w, theme(TC_NORMAL));
		waddstr(w, ": choose a process to watch (Enter), sorted by resident size");
		wattrset(w, theme(TC_LABEL));
		/* A filter shows some: say how many of how many. */
		if (a->picker_list.filter[0])
			mvwprintw(w, 1, 0, "%zu of %zu processes (filter: %s)",
				  a->picker_list.n_rows, a->procs.n, a->picker_list.filter);
		else
			mvwprintw(w, 1, 0, "%zu processes", a->procs.n);
		if (a->status[0]) {
			wattrset(w, theme(TC_CRIT));
			mvwaddnstr(w, 2, 0, a->status, width);
		}
		wattrset(w, theme(TC_NORMAL));
		return;
	}
	if (!a->ses.have_snap) {
		mvwprintw(w, 0, 0, "PID %d", a->ses.pid);
		return;
	}
	line_process(a, w, width);
	line_sizes(a, w, width);
	line_headroom(a, w, width);
	line_tabs(a, w, width);
}
