/*
 * footer.c - the function bar, generated from the key-binding table, and
 * the prompt (search, filter, jump) that takes its place.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "footer.h"
#include "keys.h"
#include "screen.h"
#include "theme.h"

/* Calls fn for each item of the bar in scope with its x and width;
 * stops when fn returns true. */
static int bar_walk(struct tui_app *a, int width,
		    bool (*fn)(void *ctx, const struct tui_binding *b, int x, int kw, int lw),
		    void *ctx)
{
	unsigned scope = screen_scope(a);
	int x = 0;
	for (size_t i = 0; i < keys_n_bindings; i++) {
		const struct tui_binding *b = &keys_bindings[i];
		if (!b->fbar || !keys_in_force(i, scope))
			continue;
		int kw = (int)strlen(b->name), lw = (int)strlen(b->fbar);
		if (lw < 6)
			lw = 6;
		if (x + kw + lw > width)
			break;
		if (fn(ctx, b, x, kw, lw))
			return (int)b->action;
		x += kw + lw;
	}
	return -1;
}

static bool bar_draw_item(void *ctx, const struct tui_binding *b, int x, int kw, int lw)
{
	WINDOW *w = ctx;
	wattrset(w, theme(TC_FKEY));
	mvwaddstr(w, 0, x, b->name);
	wattrset(w, theme(TC_FLABEL));
	wprintw(w, "%-*s", lw, b->fbar);
	(void)kw;
	return false;
}

struct hit {
	int x;
};

static bool bar_hit(void *ctx, const struct tui_binding *b, int x, int kw, int lw)
{
	const struct hit *h = ctx;
	(void)b;
	return h->x >= x && h->x < x + kw + lw;
}

int footer_action_at(struct tui_app *a, int x)
{
	struct hit h = { x };
	return bar_walk(a, a->cols, bar_hit, &h);
}

void footer_draw(struct tui_app *a, WINDOW *w, int width)
{
	werase(w);
	if (a->prompt != PROMPT_NONE) {
		char fit[256];
		const char *name = a->prompt == PROMPT_SEARCH ? "Search: " :
			a->prompt == PROMPT_JUMP ? "Jump to (HH:MM[:SS], date, #N): " : "Filter: ";
		wattrset(w, theme(TC_PROMPT));
		mvwaddstr(w, 0, 0, name);
		wattrset(w, theme(TC_NORMAL));
		text_fit(fit, sizeof(fit), a->prompt_buf, strlen(a->prompt_buf),
			 width - 30, TEXT_CUT_LEFT, a->gl->utf8);
		waddstr(w, fit);
		int cx = getcurx(w);
		wattrset(w, theme(TC_DIM));
		theme_right(w, 0, width, cx + 2, "Enter: done  Esc: cancel", theme(TC_DIM));
		wmove(w, 0, cx);
		return;
	}
	/* A message takes the function bar's place while it lasts, so that
	 * the header (time to a limit included) stays whole. */
	if (a->status[0]) {
		wattrset(w, theme(a->status_warn ? TC_CRIT : TC_WARN));
		mvwaddnstr(w, 0, 0, a->status, width);
		int sx = getcurx(w);
		if (sx > 0 && sx < width)
			wprintw(w, "%*s", width - sx, "");
		wattrset(w, theme(TC_NORMAL));
		return;
	}
	bar_walk(a, width, bar_draw_item, w);
	int x = getcurx(w);
	wattrset(w, theme(TC_FLABEL));
	if (x > 0 && x < width)
		wprintw(w, "%*s", width - x, "");
	wattrset(w, theme(TC_NORMAL));
}
