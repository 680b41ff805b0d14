/*
 * terminal.h - whether the terminal can hold a screen.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_TERMINAL_H
#define MEMTOP_TUI_TERMINAL_H

#include <stdbool.h>

/* Whether the terminal can move its cursor (terminfo's cup), asked
 * before curses starts: curses draws a blank screen on one that cannot. */
bool terminal_usable(void);

#endif
