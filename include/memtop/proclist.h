/*
 * proclist.h - the processes memtop could watch, for the TUI's picker.
 *
 * Source layer: reads /proc through libproc2; no curses.
 */
#ifndef MEMTOP_PROCLIST_H
#define MEMTOP_PROCLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"

struct mt_procentry {
	pid_t pid;
	int threads;
	uint64_t rss;     /* bytes */
	long maps;        /* regions, -1 when /proc/PID/maps is not readable */
	char user[32];
	char comm[64];
	char cmdline[256]; /* argv joined with spaces; comm in [] if empty */
};

struct mt_proclist {
	struct mt_procentry *v; /* in /proc order (by pid) */
	size_t n;
	size_t cap;
};

/*
 * Fill l with every user-space process but the caller (kernel threads have
 * no address space to watch).  The entries are replaced, the buffer kept.
 * 0, or -1 with err set.
 */
int proclist_read(struct mt_proclist *l, struct mt_error *err);
void proclist_free(struct mt_proclist *l);

/* Regions of pid: lines of /proc/PID/maps, or -errno. */
long proclist_count_maps(pid_t pid);

#endif
