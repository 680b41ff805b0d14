/*
 * scans.h - a replay's recorded scans, listed (L).  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_SCANS_H
#define MEMTOP_TUI_SCANS_H

struct tui_app;

/* L in a replay: the recorded scans, listed; Enter goes to one. */
void scans_open(struct tui_app *a);

#endif
