/*
 * gaps.h - the free space of the user address space.
 */
#ifndef MEMTOP_GAPS_H
#define MEMTOP_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/arch.h"
#include "memtop/snapshot.h"

struct mt_gap {
	uint64_t start;
	uint64_t end;
};

struct mt_gaps {
	struct mt_gap *v; /* in address order */
	size_t n;
	size_t cap;
	uint64_t total;   /* free bytes in all */
	long largest;     /* index of the largest gap, -1 if none */
	uint64_t low;     /* bounds used: mmap_min_addr ... */
	uint64_t high;    /* ... user limit */
};

/* The top of the user address space for s: x86-64's 47-bit limit unless
 * a user mapping lies above it (5-level paging); [vsyscall] is ignored. */
uint64_t gaps_user_limit(const struct mt_snapshot *s);

/* Compute the gaps between s->mmap_min_addr (at least one page) and
 * gaps_user_limit(s).  0 or -ENOMEM. */
int gaps_compute(struct mt_gaps *g, const struct mt_snapshot *s);
void gaps_free(struct mt_gaps *g);

/* Largest gap size, 0 if none. */
uint64_t gaps_largest_size(const struct mt_gaps *g);

#endif
