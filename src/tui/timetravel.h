/*
 * timetravel.h - a replay on screen: samples, checkpoints, jumps.  Private to
 * src/tui/.
 */
#ifndef MEMTOP_TUI_TIMETRAVEL_H
#define MEMTOP_TUI_TIMETRAVEL_H

#include <stddef.h>

#include "memtop/error.h"

struct tui_app;

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

#endif
