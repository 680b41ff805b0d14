/*
 * proc.h - the live source: reads a running process through /proc and
 * libproc2.  Only this module and freeze.c touch the target.
 */
#ifndef MEMTOP_PROC_H
#define MEMTOP_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "memtop/error.h"
#include "memtop/snapshot.h"

struct mt_proc;

/*
 * Open pid for watching.  Fails with MT_ERR_NOPROC, MT_ERR_KTHREAD or
 * MT_ERR_PERM; a permission message names the cause (another user,
 * ptrace restrictions such as Yama, a non-dumpable target) and the remedy.
 */
int proc_open(struct mt_proc **out, pid_t pid, struct mt_error *err);
void proc_close(struct mt_proc *p);
pid_t proc_pid(const struct mt_proc *p);

/* The session turns --rss into these (session.c). */
enum proc_read_flags {
	PROC_READ_RSS_ALWAYS = 1u << 0, /* read smaps whatever it costs */
	PROC_READ_RSS_NEVER = 1u << 1,  /* never read smaps */
};

/*
 * Take a snapshot: maps, resident sizes, process facts, threads with their
 * stack pointers, limits.  Resident sizes are read adaptively, so that a
 * huge map costs a bounded share of the time: rss and swap from one
 * PAGEMAP_SCAN ioctl (every call while it is cheap, at most 0.5% of the
 * time, never older than PROC_RSS_AGE_MAX), Pss and the dirty figures from
 * smaps (every call while cheap, at most ~0.1% of the time; without
 * PAGEMAP_SCAN smaps gives all, at most ~10% of the time).  Figures of the
 * previous read are carried to regions that still exist; s->rss_time says
 * when rss was measured.  The snapshot is reset
 * first.  MT_ERR_EXITED when the target has gone.
 */
int proc_read(struct mt_proc *p, struct mt_snapshot *s, unsigned flags,
	      struct mt_error *err);

/*
 * smaps costs the kernel about 3 us a region (~200 ms at 65,000), so
 * whoever reads it re-reads only once the time since the last read is
 * PROC_SMAPS_COST_RATIO times what that read cost: at most ~10% of the
 * time goes to it, and small processes are read every refresh.
 */
#define PROC_SMAPS_COST_RATIO 10.0
/* When PAGEMAP_SCAN gives rss and swap, smaps is read for Pss and the
 * dirty figures only, within ~0.1% of the time; at the first refresh only
 * if it would cost less than PROC_SMAPS_FIRST_MAX seconds, estimated at
 * PROC_SMAPS_REGION_COST seconds a region. */
#define PROC_SMAPS_COST_RATIO_PAGEMAP 1000.0
#define PROC_SMAPS_FIRST_MAX 0.01
#define PROC_SMAPS_REGION_COST 3e-6
/* PAGEMAP_SCAN (~0.25 us a region) is re-read when the time since the last
 * read is this many times its cost, and at least every PROC_RSS_AGE_MAX
 * seconds. */
#define PROC_PAGEMAP_COST_RATIO 200.0
#define PROC_RSS_AGE_MAX 10.0

static inline bool proc_smaps_due(double last_at, double cost, double now)
{
	return now - last_at >= PROC_SMAPS_COST_RATIO * cost;
}

/* Read the whole of a /proc file into a malloc'ed, NUL-terminated buffer
 * (*buf reused and grown as needed).  Returns its length or -errno. */
long proc_slurp(const char *path, char **buf, size_t *cap);

/* Read a small /proc file (stat, status, a sysctl) into buf, truncated to
 * size - 1 bytes and NUL-terminated.  Returns its length or -errno. */
long proc_read_file(const char *path, char *buf, size_t size);

#endif
