/*
 * tui.h - the interactive ncurses front end.
 */
#ifndef MEMTOP_TUI_H
#define MEMTOP_TUI_H

#include <stdio.h>

#include "memtop/error.h"
#include "memtop/options.h"

/*
 * Run the full-screen monitor until the user quits.  With opt->pid == 0,
 * start with the process picker.  The terminal is restored on every path
 * (quit, error, SIGINT/SIGTERM/SIGHUP).  Returns 0, or -1 with err saying
 * why (to be printed after curses ended).  A target that exited is an
 * error of kind MT_ERR_EXITED after a normal quit.
 */
int tui_run(const struct mt_options *opt, struct mt_error *err);

/* The key bindings, grouped by screen, for --help (from the same table
 * the screen dispatches and documents with). */
void tui_print_keys(FILE *out);

#endif
