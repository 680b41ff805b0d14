/*
 * snapshot.h - everything a source knows about a target at one instant.
 *
 * A source (the live process in source/, later a recording) produces
 * snapshots; the model derives everything else from consecutive ones.  A
 * snapshot owns its memory: regions, threads and a string arena for paths.
 */
#ifndef MEMTOP_SNAPSHOT_H
#define MEMTOP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/region.h"

struct mt_thread {
	int tid;
	char name[16];   /* comm, as in /proc/PID/task/TID/comm */
	char state;      /* R, S, D, T, t, Z ... */
	uint64_t sp;     /* stack pointer, 0 if unknown (running thread) */
	/* Index of the stack region in snapshot.regions, or -1. */
	long stack_region;
};

struct mt_procinfo {
	char comm[64];
	char cmdline[256]; /* argv joined with spaces, NULs made printable */
	char user[64];
	char state;
	int threads;
	uint64_t rss;        /* bytes */
	uint64_t vsz;        /* bytes */
	double start_time;   /* seconds since the epoch */
	double uptime;       /* seconds the process has run */
};

/*
 * An arena of NUL-terminated strings made of blocks that never move, so a
 * region can point at its path while more paths are added.
 */
struct mt_strblock;
struct mt_strings {
	struct mt_strblock *head; /* newest block first */
	const char *last;         /* last string interned, for reuse */
	size_t last_len;
};

struct mt_snapshot {
	int pid;
	double time;  /* CLOCK_REALTIME, seconds */
	double mono;  /* CLOCK_MONOTONIC, seconds: used for rates */

	struct mt_region *regions; /* sorted by start, non-overlapping */
	size_t n_regions;
	size_t cap_regions;

	struct mt_thread *threads;
	size_t n_threads;

	struct mt_procinfo info;

	/* System and per-process limits that bound growth. */
	uint64_t max_map_count; /* vm.max_map_count */
	uint64_t rlimit_as;     /* target's RLIMIT_AS soft limit, UINT64_MAX = unlimited */
	uint64_t mmap_min_addr; /* vm.mmap_min_addr */
	uint64_t page_size;

	/*
	 * Per-region resident figures come from smaps, which is read less
	 * often on huge maps.  have_rss says whether regions[].rss is set;
	 * rss_time is when it was measured (CLOCK_MONOTONIC).
	 */
	bool have_rss;
	double rss_time;

	struct mt_strings strings;
};

void snapshot_init(struct mt_snapshot *s);
void snapshot_free(struct mt_snapshot *s);
/* Forget regions and threads but keep the buffers for reuse. */
void snapshot_reset(struct mt_snapshot *s);
/* Append a zeroed region (sizes MT_UNKNOWN); NULL on out of memory. */
struct mt_region *snapshot_add_region(struct mt_snapshot *s);
/*
 * Copy `len` bytes into the arena, NUL-terminate them and return the copy,
 * stable for the snapshot's life; NULL on out of memory.  When the previous
 * string interned holds the same bytes it is returned again, so the run of
 * regions of one library costs one copy.
 */
const char *snapshot_intern(struct mt_snapshot *s, const char *str, size_t len);
/* Deep copy; 0 or -ENOMEM. */
int snapshot_copy(struct mt_snapshot *dst, const struct mt_snapshot *src);
/* Index of the region holding addr, or -1 (binary search). */
long snapshot_find(const struct mt_snapshot *s, uint64_t addr);

/* Do regions i and i + 1 hold one heap?  A heap grown after a fork (the
 * tmux server's) is two mappings with the same flags back to back: the
 * pages from before the fork and the new ones have different anon_vmas,
 * so the kernel cannot merge them.  Walks of a heap go over both. */
bool snapshot_heap_continues(const struct mt_snapshot *s, size_t i);

#endif
