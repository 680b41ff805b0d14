/*
 * screen.h - the stack of screens, htop's ScreenManager.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_SCREEN_H
#define MEMTOP_TUI_SCREEN_H

#include <curses.h>
#include <stdbool.h>

#include "keys.h"
#include "list.h"

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


extern const struct tui_screen screen_picker, screen_views, screen_detail, screen_drilldown,
	screen_traces, screen_help, screen_heap, screen_scans;

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

#endif
