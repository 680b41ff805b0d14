/*
 * terminal.c - whether the terminal can hold a screen, asked of terminfo
 * before curses starts (term.h's macros would clash with names elsewhere
 * in the TUI, so it is included here alone).
 */
#include <stdbool.h>
#include <unistd.h>

#include "terminal.h"

#include <curses.h>
#include <term.h> /* alone here: its macros (lines, columns) would clash */

/* curses draws a blank screen and waits on a terminal that cannot move
 * its cursor (TERM=dumb, an unknown TERM). */
bool terminal_usable(void)
{
	int e = 0;
	if (setupterm(NULL, STDOUT_FILENO, &e) != OK)
		return false;
	const char *cup = tigetstr("cup");
	bool ok = cup && cup != (char *)-1;
	del_curterm(cur_term);
	return ok;
}
