/*
 * procinfo.h - process facts (through libproc2) and the limits that bound
 * a process's address space.  Part of the live source; used by proc.c.
 */
#ifndef MEMTOP_PROCINFO_H
#define MEMTOP_PROCINFO_H

#include <sys/types.h>

#include "memtop/snapshot.h"

struct procinfo;

/* 0 or -errno (libproc2 could not be set up). */
int procinfo_open(struct procinfo **out);
void procinfo_close(struct procinfo *pi);

/*
 * Command, state, user, threads, RSS, VSZ and start time of pid.  *began
 * gets the start time in clock ticks since boot, which tells a pid reused
 * by another process.  0, or -ESRCH when the process is gone.
 */
int procinfo_read(struct procinfo *pi, pid_t pid, struct mt_procinfo *info,
		  unsigned long long *began);

/* vm.max_map_count, vm.mmap_min_addr, the target's RLIMIT_AS soft limit
 * (from /proc/PID/limits) and the page size.  Facts that cannot be read
 * keep their snapshot_init() defaults. */
void procinfo_limits(pid_t pid, struct mt_snapshot *s);

#endif
