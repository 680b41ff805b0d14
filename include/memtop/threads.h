/*
 * threads.h - the threads of a live process and their stack pointers,
 * from /proc/PID/task.  Part of the live source; used by proc.c.
 */
#ifndef MEMTOP_THREADS_H
#define MEMTOP_THREADS_H

#include <sys/types.h>

#include "memtop/snapshot.h"

/* At most this many threads are read per refresh (each costs two opens). */
#define THREADS_MAX 16384

/*
 * Fill s->threads, sorted by tid: name, state, and the stack pointer when
 * the thread is blocked (from task/TID/syscall; 0 while it runs or when
 * ptrace restrictions hide it).  Threads that exit meanwhile are skipped.
 * 0 or -errno (-ENOENT: the process is gone).
 */
int threads_read(pid_t pid, struct mt_snapshot *s);

/*
 * The state letter ('R', 'S', 'T', 'Z', ...) in a stat file
 * (/proc/PID/stat, /proc/PID/task/TID/stat), or 0 when it cannot be read.
 */
char threads_state(const char *stat_path);

/*
 * A thread of pid that has not exited (pid itself unless its leader is a
 * zombie), or 0.  A leader that called pthread_exit is a zombie while the
 * process lives on in its other threads, and only their /proc/PID/task/TID
 * files still show the address space.
 */
pid_t threads_live(pid_t pid);

#endif
