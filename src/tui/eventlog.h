/*
 * eventlog.h - the map/unmap log the Events view shows, kept across refreshes in a
 * ring of TUI_EVLOG_CAP owned events.  Private to src/tui/.
 */
#ifndef MEMTOP_TUI_EVENTLOG_H
#define MEMTOP_TUI_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/growth.h"
#include "memtop/snapshot.h"
#include "memtop/traced.h"

#define TUI_EVLOG_CAP 4096

/* The map/unmap log, kept across refreshes: a ring of owned events. */
struct tui_evlog {
	struct mt_event *v;
	uint64_t *seq;  /* arrival order, for a stable newest-first sort */
	size_t cap;
	size_t head;    /* next slot */
	size_t n;
	uint64_t next_seq;
};

/* The latest refresh's events; the oldest fall out when full. */
void eventlog_add(struct tui_evlog *l, const struct mt_events *ev);
/* --trace: the traced events, then the diff events none explains. */
void eventlog_add_traced(struct tui_evlog *l, const struct mt_traced *t,
			 const struct mt_events *diff, const struct mt_snapshot *s);
void eventlog_free(struct tui_evlog *l);
/* Deep copy into dst (not initialised): 0, or -1 with dst empty. */
int eventlog_copy(struct tui_evlog *dst, const struct tui_evlog *src);
/* Item 0 is the oldest event held. */
const struct mt_event *eventlog_get(const struct tui_evlog *l, size_t item);
/* Its arrival order, for a stable newest-first sort. */
uint64_t eventlog_seq(const struct tui_evlog *l, size_t item);

#endif
