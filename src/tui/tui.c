/*
 * tui.c - the interactive front end: terminal set-up and restoration, the
 * refresh schedule, and turning keys and clicks into actions.
 *
 * The loop sleeps in getch with a timeout that ends at the next refresh,
 * so an idle memtop wakes once per refresh.  A refresh is the session's
 * next sample, exactly as the batch printer takes it; drawing goes
 * through wnoutrefresh/doupdate and only the windows that changed are
 * redrawn, so curses sends the terminal only the cells that differ.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/tui.h"
#include "app.h"
#include "detail.h"
#include "drilldown.h"
#include "footer.h"
#include "header.h"
#include "heapview.h"
#include "help.h"
#include "keys.h"
#include "lines.h"
#include "picker.h"
#include "scans.h"
#include "screen.h"
#include "terminal.h"
#include "theme.h"
#include "timetravel.h"
#include "traces.h"
#include "views.h"

/* Set by SIGINT, SIGTERM and SIGHUP: the loop ends curses and returns. */
static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
	quit_signal = sig;
}

bool tui_quit_pending(void)
{
	return quit_signal != 0;
}

/* How long a message stays on the status line through refreshes. */
#define STATUS_SECONDS 5.0
/* The picker's list of processes is read again this often (at least). */
#define PICKER_SECONDS 1.0
/* getch wakes at least this often, to see a signal it missed. */
#define WAKE_SECONDS 1.0

/* Every write to the status line comes here.  A warning stays until
 * cleared; a message until a refresh after STATUS_SECONDS (a message
 * over a warning keeps its colour and stays too). */
static void status_vset(struct tui_app *a, bool warn, const char *fmt, va_list ap)
{
	vsnprintf(a->status, sizeof(a->status), fmt, ap);
	a->status_until = clock_mono() + STATUS_SECONDS;
	if (warn)
		a->status_warn = true;
	a->dirty_foot = true; /* the message takes the function bar's place */
}

void tui_status(struct tui_app *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_vset(a, false, fmt, ap);
	va_end(ap);
}

void tui_warn(struct tui_app *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_vset(a, true, fmt, ap);
	va_end(ap);
}

void tui_status_clear(struct tui_app *a)
{
	a->status[0] = '\0';
	a->status_warn = false;
	a->dirty_foot = true;
}

/* A refresh drops a message whose time is up. */
static void status_expire(struct tui_app *a, double now)
{
	if (!a->status_warn && now >= a->status_until && a->status[0])
		tui_status_clear(a);
}

static void dirty_all(struct tui_app *a)
{
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

/* ------------------------------------------------------------------ */
/* The target. */

/* A sample that cannot be written (disk full) ends the recording, not
 * the monitoring: say so. */
static void say_record_lost(struct tui_app *a)
{
	struct mt_error err;
	if (session_record_lost(&a->ses, &err))
		tui_warn(a, "%s; monitoring goes on", err.msg);
}

int tui_fold(struct tui_app *a, bool quiet, struct mt_error *err)
{
	int rc = session_next(&a->ses, err);
	if (rc > 0)
		mt_error_set(err, MT_ERR_NONE, 0, "the last sample of the recording");
	if (rc) {
		views_refresh(a);
		return -1;
	}
	say_record_lost(a);
	views_sample(a);
	if (quiet)
		return 0;
	views_refresh(a);
	if (screen_open(a, &screen_detail))
		detail_refresh(a);
	return 0;
}

static void tick(struct tui_app *a, double now)
{
	struct mt_error err;
	mt_error_clear(&err);
	a->next_refresh += a->opt->delay;
	if (a->next_refresh < now) /* fell behind (suspended): no burst */
		a->next_refresh = now + a->opt->delay;
	if (a->ses.replay) {
		timetravel_step(a, 1);
		return;
	}
	if (tui_fold(a, false, &err)) {
		if (err.kind == MT_ERR_EXITED || err.kind == MT_ERR_NOPROC) {
			a->exited = true;
			tui_warn(a, "process %d has exited: this is its last state (q quits)",
				 (int)a->ses.pid);
		} else {
			tui_status(a, "%s", err.msg);
		}
	} else {
		status_expire(a, now);
	}
	a->dirty_hdr = a->dirty_body = true;
}

/* Open pid and take the first snapshot: 0, or -1 with err set. */
static int attach(struct tui_app *a, pid_t pid, struct mt_error *err)
{
	if (session_open(&a->ses, a->opt, pid, err))
		return -1;
	/* The first refresh is the recording's first sample. */
	if (tui_fold(a, false, err)) {
		session_close(&a->ses, NULL);
		return -1;
	}
	a->next_refresh = clock_mono() + a->opt->delay;
	return 0;
}

static void detach(struct tui_app *a)
{
	views_free(a);
	heapview_free(a); /* the census's baseline belongs to the session */
	/* The next process picked is a new session of the recording. */
	session_close(&a->ses, NULL);
	a->exited = a->paused = false;
	tui_status_clear(a);
	views_init(a);
}

/* ------------------------------------------------------------------ */
/* The screen. */

static void free_windows(struct tui_app *a)
{
	if (a->hdr)
		delwin(a->hdr);
	if (a->body)
		delwin(a->body);
	if (a->foot)
		delwin(a->foot);
	a->hdr = a->body = a->foot = NULL;
}

static void make_windows(struct tui_app *a)
{
	free_windows(a);
	getmaxyx(stdscr, a->lines, a->cols);
	a->too_small = a->lines < TUI_MIN_LINES || a->cols < TUI_MIN_COLS;
	werase(stdscr);
	wnoutrefresh(stdscr);
	if (a->too_small)
		return;
	a->hdr = newwin(TUI_HEADER_LINES, a->cols, 0, 0);
	a->body = newwin(a->lines - TUI_HEADER_LINES - 1, a->cols, TUI_HEADER_LINES, 0);
	a->foot = newwin(1, a->cols, a->lines - 1, 0);
	if (!a->hdr || !a->body || !a->foot)
		a->too_small = true;
	dirty_all(a);
}

/* The message, word-wrapped to the width and centred: at 40x12 it must
 * be read whole, not cut. */
static void draw_too_small(struct tui_app *a)
{
	char msg[128];
	const char *lines[16];
	int lens[16], n = 0;
	werase(stdscr);
	snprintf(msg, sizeof(msg), "terminal too small: %dx%d, memtop needs %dx%d (q to quit)",
		 a->cols, a->lines, TUI_MIN_COLS, TUI_MIN_LINES);
	int width = a->cols > 0 ? a->cols : 1;
	for (const char *p = msg; *p && n < 16;) {
		int len = (int)strlen(p), cut = len;
		if (len > width) {
			cut = width;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = width; /* one word wider than the screen */
		}
		lines[n] = p;
		lens[n++] = cut;
		p += cut;
		while (*p == ' ')
			p++;
	}
	int y = (a->lines - n) / 2;
	wattrset(stdscr, theme(TC_WARN));
	for (int i = 0; i < n; i++)
		mvwaddnstr(stdscr, (y > 0 ? y : 0) + i, (width - lens[i]) / 2, lines[i], lens[i]);
	wattrset(stdscr, theme(TC_NORMAL));
	wnoutrefresh(stdscr);
}

static struct tui_list *current_list(struct tui_app *a)
{
	return screen_top(a)->list(a);
}

static void draw(struct tui_app *a)
{
	if (a->too_small) {
		draw_too_small(a);
		curs_set(0);
		doupdate();
		return;
	}
	int bh = a->lines - TUI_HEADER_LINES - 1;
	if (a->dirty_hdr) {
		header_draw(a, a->hdr, a->cols);
		wnoutrefresh(a->hdr);
	}
	if (a->dirty_body) {
		werase(a->body);
		screen_top(a)->draw(a, a->body, bh, a->cols);
		wnoutrefresh(a->body);
	}
	if (a->dirty_foot || a->prompt != PROMPT_NONE) {
		footer_draw(a, a->foot, a->cols);
		wnoutrefresh(a->foot);
	}
	a->dirty_hdr = a->dirty_body = a->dirty_foot = false;
	curs_set(a->prompt != PROMPT_NONE ? 1 : 0);
	doupdate();
}

/* ------------------------------------------------------------------ */
/* Actions. */

static void set_view(struct tui_app *a, int v)
{
	if (v < 0 || v >= VIEW_COUNT)
		return;
	screen_pop_to(a, &screen_views);
	a->view = (enum tui_view)v;
	a->dirty_hdr = a->dirty_body = a->dirty_foot = true;
}

void tui_pick(struct tui_app *a)
{
	pid_t pid = picker_selected(a);
	struct mt_error err;
	if (!pid)
		return;
	mt_error_clear(&err);
	if (attach(a, pid, &err)) {
		tui_status(a, "%d: %s", (int)pid, err.msg);
		views_free(a);
		views_init(a);
		return;
	}
	tui_status_clear(a);
	a->view = VIEW_SUMMARY;
	screen_push(a, &screen_views);
}

void tui_leave(struct tui_app *a)
{
	screen_pop_to(a, &screen_views);
	screen_pop(a);
	detach(a);
	picker_refresh(a);
	a->next_picker = clock_mono() + PICKER_SECONDS;
}

/* Esc: the screen's own way back, else pop it. */
static void back(struct tui_app *a)
{
	const struct tui_screen *s = screen_top(a);
	if (s->back)
		s->back(a);
	else
		screen_pop(a);
	dirty_all(a);
}

/* Returns false when memtop should quit. */
static bool perform(struct tui_app *a, enum tui_action act)
{
	struct tui_list *l = current_list(a);
	switch (act) {
	case ACT_NONE:
		return true;
	case ACT_QUIT:
		return false;
	case ACT_HELP:
		help_init(a);
		screen_push(a, &screen_help);
		break;
	case ACT_PAUSE:
		if (a->ses.replay) {
			a->playing = !a->playing;
			a->next_refresh = clock_mono() + a->opt->delay;
			break;
		}
		if (a->exited)
			return true;
		a->paused = !a->paused;
		if (!a->paused) /* resume at once: what is shown is stale */
			a->next_refresh = clock_mono();
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		break;
	case ACT_VIEW_NEXT:
	case ACT_VIEW_PREV:
		set_view(a, ((int)a->view + (act == ACT_VIEW_NEXT ? 1 : VIEW_COUNT - 1)) %
			 VIEW_COUNT);
		break;
	case ACT_VIEW_1: case ACT_VIEW_2: case ACT_VIEW_3:
	case ACT_VIEW_4: case ACT_VIEW_5: case ACT_VIEW_6:
		set_view(a, (int)(act - ACT_VIEW_1));
		break;
	case ACT_UP: list_move(l, -1); break;
	case ACT_DOWN: list_move(l, 1); break;
	case ACT_PGUP: list_move(l, -list_page_rows(l)); break;
	case ACT_PGDN: list_move(l, list_page_rows(l)); break;
	case ACT_HOME: list_home(l); break;
	case ACT_END: list_end(l); break;
	case ACT_SEARCH:
		a->prompt = PROMPT_SEARCH;
		a->prompt_buf[0] = '\0';
		break;
	case ACT_SEARCH_NEXT:
		list_search(l, l->search, true);
		break;
	case ACT_FILTER:
		a->prompt = PROMPT_FILTER;
		snprintf(a->prompt_buf, sizeof(a->prompt_buf), "%s", l->filter);
		break;
	case ACT_SORT_NEXT: list_sort_step(l, 1); break;
	case ACT_SORT_PREV: list_sort_step(l, -1); break;
	case ACT_SORT_INVERT: list_sort_invert(l); break;
	case ACT_ENTER:
		if (screen_top(a)->enter)
			screen_top(a)->enter(a);
		break;
	case ACT_BACK:
		back(a);
		break;
	case ACT_REFS:
		if (drilldown_open(a))
			drilldown_rescan(a);
		else
			drilldown_start(a);
		break;
	case ACT_TRACES:
		traces_take(a);
		break;
	case ACT_HEAP:
		heapview_take(a, screen_open(a, &screen_heap) && a->heap.cur.leaks);
		break;
	case ACT_LEAKS:
		heapview_take(a, true);
		break;
	case ACT_STEP_NEXT: timetravel_step(a, 1); break;
	case ACT_STEP_PREV: timetravel_step(a, -1); break;
	case ACT_FIRST: timetravel_goto(a, 0); break;
	case ACT_LAST: timetravel_goto(a, replay_count(a->ses.replay) - 1); break;
	case ACT_JUMP:
		a->prompt = PROMPT_JUMP;
		a->prompt_buf[0] = '\0';
		break;
	case ACT_SCANS:
		scans_open(a);
		break;
	}
	dirty_all(a);
	return true;
}

/* Drop the last UTF-8 character of s. */
static void drop_char(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && ((unsigned char)s[n - 1] & 0xc0) == 0x80)
		n--;
	if (n > 0)
		n--;
	s[n] = '\0';
}

/* Typing a time to jump to: it acts on Enter. */
static void jump_key(struct tui_app *a, int ch)
{
	size_t n = strlen(a->prompt_buf);
	if (ch == TUI_KEY_ESC) {
		a->prompt = PROMPT_NONE;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		a->prompt = PROMPT_NONE;
		if (a->prompt_buf[0])
			timetravel_jump(a, a->prompt_buf);
	} else if (tui_key_is_backspace(ch, KEY_BACKSPACE)) {
		drop_char(a->prompt_buf);
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(a->prompt_buf)) {
		a->prompt_buf[n] = (char)ch;
		a->prompt_buf[n + 1] = '\0';
	}
	dirty_all(a);
}

/* Typing into the search or filter prompt: both act as you type. */
static void prompt_key(struct tui_app *a, int ch)
{
	struct tui_list *l = current_list(a);
	size_t n = strlen(a->prompt_buf);
	bool filter = a->prompt == PROMPT_FILTER;
	if (a->prompt == PROMPT_JUMP) {
		jump_key(a, ch);
		return;
	}
	if (ch == TUI_KEY_ESC) { /* cancel: a filter is dropped, a search stays put */
		a->prompt = PROMPT_NONE;
		if (filter)
			list_set_filter(l, "");
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		a->prompt = PROMPT_NONE;
	} else if (ch == KEY_F(3) && !filter) {
		list_search(l, a->prompt_buf, true);
	} else {
		if (tui_key_is_backspace(ch, KEY_BACKSPACE))
			drop_char(a->prompt_buf);
		else if (ch >= 32 && ch < 256 && n + 1 < sizeof(a->prompt_buf))
			a->prompt_buf[n] = (char)ch, a->prompt_buf[n + 1] = '\0';
		else
			return;
		if (filter)
			list_set_filter(l, a->prompt_buf);
		else
			list_search(l, a->prompt_buf, false);
	}
	dirty_all(a);
}

static bool on_mouse(struct tui_app *a)
{
	MEVENT ev;
	if (getmouse(&ev) != OK || a->too_small)
		return true;
	struct tui_list *l = current_list(a);
	if (ev.bstate & BUTTON4_PRESSED) {
		list_move(l, -3);
	} else if (ev.bstate & BUTTON5_PRESSED) {
		list_move(l, 3);
	} else if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) {
		if (ev.y == a->lines - 1) {
			int act = footer_action_at(a, ev.x);
			return act < 0 || perform(a, (enum tui_action)act);
		}
		if (ev.y == TUI_HEADER_LINES - 1 && !tui_picking(a)) {
			set_view(a, header_tab_at(a, ev.x));
			return true;
		}
		if (ev.y >= TUI_HEADER_LINES && screen_top(a) != &screen_help &&
		    list_click(l, ev.y - TUI_HEADER_LINES, ev.x) == LIST_HIT_SELECTED &&
		    keys_lookup('\n', screen_scope(a)) == ACT_ENTER)
			return perform(a, ACT_ENTER);
	} else {
		return true;
	}
	a->dirty_body = true;
	return true;
}

/* Returns false when memtop should quit. */
static bool on_key(struct tui_app *a, int ch)
{
	if (ch == KEY_RESIZE) {
		make_windows(a);
		return true;
	}
	if (ch == KEY_MOUSE)
		return on_mouse(a);
	if (a->too_small)
		return keys_lookup(ch, SC_ALL) != ACT_QUIT;
	if (a->prompt != PROMPT_NONE) {
		prompt_key(a, ch);
		return true;
	}
	enum tui_action act = keys_lookup(ch, screen_scope(a));
	const struct tui_screen *s = screen_top(a);
	if (s->key && s->key(a, act)) {
		dirty_all(a);
		return true;
	}
	return perform(a, act);
}

/* ------------------------------------------------------------------ */

/* Milliseconds getch may sleep: until the next refresh, at most a second
 * so a signal that did not interrupt the wait is seen soon. */
static int wait_ms(const struct tui_app *a, double now)
{
	double until;
	if (tui_picking(a))
		until = a->next_picker;
	else if (a->paused || a->exited || (a->ses.replay && !a->playing))
		until = now + WAKE_SECONDS;
	else
		until = a->next_refresh;
	double ms = (until - now) * 1000.0;
	if (ms < 0)
		return 0;
	return ms > WAKE_SECONDS * 1000 ? (int)(WAKE_SECONDS * 1000) : (int)ms + 1;
}

static void loop(struct tui_app *a)
{
	for (;;) {
		draw(a);
		if (!a->ses.replay && a->opt->count > 0 && a->ses.refreshes >= a->opt->count)
			return;
		double now = clock_mono();
		timeout(wait_ms(a, now));
		int ch = getch();
		if (quit_signal)
			return;
		now = clock_mono();
		if (ch != ERR && !on_key(a, ch))
			return;
		heapview_tick(a, now);
		if (tui_picking(a) && now >= a->next_picker) {
			picker_refresh(a);
			a->next_picker = now + (a->opt->delay > PICKER_SECONDS ? a->opt->delay :
						PICKER_SECONDS);
			a->dirty_body = a->dirty_hdr = true;
		} else if (!tui_picking(a) && !a->paused && !a->exited && now >= a->next_refresh &&
			   (!a->ses.replay || a->playing)) {
			tick(a, now);
		}
	}
}

static void install_signals(struct sigaction old[3])
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: interrupt getch's wait */
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction old[3])
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
}

static void setup_curses(struct tui_app *a)
{
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	theme_init(!a->opt->no_color && !getenv("NO_COLOR"));
	if (a->mouse) {
		mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED,
			  NULL);
		mouseinterval(0);
	}
}

static void app_free(struct tui_app *a)
{
	while (a->depth)
		screen_pop(a);
	drilldown_close(a); /* what a first step that failed left */
	heapview_free(a);
	symbols_cache_free(&a->symbols);
	views_free(a);
	list_free(&a->help_list);
	lines_free(&a->help_lines);
	list_free(&a->picker_list);
	proclist_free(&a->procs);
	timetravel_free(a);
	session_close(&a->ses, NULL);
	free(a->scans);
}

/* Take the terminal over: 0, or -1 with err set (nothing to undo). */
static int screen_begin(struct tui_app *a, SCREEN **scr, struct sigaction old[3],
			struct mt_error *err)
{
	/* Without a terminal the screen would wait for keys forever. */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return mt_error_set(err, MT_ERR_OTHER, 0, "the screen needs a terminal on "
				    "stdin and stdout; use -b for reports");
	const char *term = getenv("TERM");
	if (!terminal_usable())
		return mt_error_set(err, MT_ERR_OTHER, 0, "no usable terminal: TERM=%s cannot "
				    "move the cursor; set TERM (e.g. xterm) or use -b for reports",
				    term ? term : "unset");
	quit_signal = 0;
	install_signals(old);
	*scr = newterm(NULL, stdout, stdin);
	if (!*scr) {
		restore_signals(old);
		return mt_error_set(err, MT_ERR_OTHER, 0, "cannot use the terminal (TERM=%s); "
				    "try -b", term ? term : "unset");
	}
	setup_curses(a);
	make_windows(a);
	return 0;
}

static void screen_end(struct tui_app *a, SCREEN *scr, const struct sigaction old[3])
{
	free_windows(a);
	endwin();
	delscreen(scr);
	restore_signals(old);
}

void tui_print_keys(FILE *out)
{
	keys_print(out);
}

int tui_run(const struct mt_options *opt, struct mt_error *err)
{
	struct tui_app *a = calloc(1, sizeof(*a));
	struct sigaction old[3];
	SCREEN *scr;
	bool failed = true;

	if (!a) {
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	}
	setlocale(LC_ALL, "");
	a->opt = opt;
	a->gl = text_glyphs(strcmp(nl_langinfo(CODESET), "UTF-8") == 0);
	a->mouse = !opt->no_mouse;
	list_set_glyphs(a->gl);
	session_init(&a->ses);
	symbols_cache_init(&a->symbols);
	views_init(a);
	picker_init(a);

	/* A process that cannot be watched is reported before the screen
	 * is taken over. */
	if ((opt->read && timetravel_open(a, err)) || (opt->pid && attach(a, opt->pid, err)) ||
	    screen_begin(a, &scr, old, err))
		goto out;
	if (tui_picking(a)) {
		screen_push(a, &screen_picker);
		picker_refresh(a);
		a->next_picker = clock_mono() + PICKER_SECONDS;
	} else {
		screen_push(a, &screen_views);
	}
	loop(a);
	screen_end(a, scr, old);
	if (a->exited)
		mt_error_set(err, MT_ERR_EXITED, 0, "process %d exited", (int)a->ses.pid);
	failed = a->exited;
out:
	app_free(a);
	free(a);
	return failed ? -1 : 0;
}
