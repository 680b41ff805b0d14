/*
 * pagemap.c - resident pages per region from one PAGEMAP_SCAN ioctl.
 *
 * The ioctl walks the page tables of [start, end) and fills an array of
 * runs {start, end, categories} of pages that match a mask; runs of equal
 * categories are merged, also across mappings, so a run is split over the
 * regions it overlaps.  When the array fills, walk_end says where the
 * kernel stopped and the walk goes on from there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "memtop/pagemap.h"

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

long pagemap_scan(int fd, uint64_t start, uint64_t end, uint64_t anyof, uint64_t exclude,
		  uint64_t ret, struct pagemap_run *vec, size_t n, uint64_t *walk_end)
{
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = start,
		.end = end,
		.vec = (uint64_t)(uintptr_t)vec,
		.vec_len = n,
		.category_inverted = exclude,
		.category_mask = exclude,
		.category_anyof_mask = anyof,
		.return_mask = ret,
	};
	long got = ioctl(fd, PAGEMAP_SCAN, &a);
	if (got < 0)
		return -errno;
	*walk_end = a.walk_end;
	return got;
}

/* Runs per ioctl: 96 KiB of buffer; a walk needing more goes on. */
#define RUNS 4096
/* Walks beyond this many calls are given up (bounds a changing target). */
#define CALLS_MAX 1000000

/* Where user space ends for the walk: the vsyscall page lies above it,
 * outside the mappings, and the ioctl refuses ranges past TASK_SIZE. */
static size_t walk_regions(const struct mt_snapshot *s)
{
	size_t n = s->n_regions;
	while (n > 0 && s->regions[n - 1].start >= 0xffff800000000000ull)
		n--;
	return n;
}

/* Add the pages of run to the regions it overlaps, from *at on. */
static void add_run(struct mt_snapshot *s, size_t n, size_t *at, const struct pagemap_run *run)
{
	bool swapped = run->categories & PAGEMAP_IS_SWAPPED;
	if (!swapped && (run->categories & PAGEMAP_IS_PFNZERO))
		return;
	size_t i = *at;
	while (i < n && s->regions[i].end <= run->start)
		i++;
	*at = i;
	for (; i < n && s->regions[i].start < run->end; i++) {
		struct mt_region *r = &s->regions[i];
		uint64_t lo = r->start > run->start ? r->start : run->start;
		uint64_t hi = r->end < run->end ? r->end : run->end;
		if (hi > lo)
			*(swapped ? &r->swap : &r->rss) += hi - lo;
	}
}

static int scan(struct mt_pagemap *pm, int fd, struct mt_snapshot *s, size_t n)
{
	uint64_t start = s->regions[0].start, end = s->regions[n - 1].end, walk_end;
	size_t at = 0;
	for (int calls = 0; start < end; calls++) {
		if (calls == CALLS_MAX)
			return -EAGAIN;
		long got = pagemap_scan(fd, start, end, PAGEMAP_IS_PRESENT | PAGEMAP_IS_SWAPPED, 0,
					PAGEMAP_IS_PRESENT | PAGEMAP_IS_SWAPPED |
					PAGEMAP_IS_PFNZERO, pm->vec, RUNS, &walk_end);
		if (got == -EINTR)
			continue;
		if (got < 0)
			return (int)got;
		const struct pagemap_run *runs = pm->vec;
		for (long k = 0; k < got && k < RUNS; k++)
			add_run(s, n, &at, &runs[k]);
		if (walk_end <= start)
			return -EIO; /* no progress: do not loop */
		start = walk_end;
	}
	return 0;
}

int pagemap_resident(struct mt_pagemap *pm, pid_t tid, struct mt_snapshot *s)
{
	if (!pm->vec) {
		pm->vec = calloc(RUNS, sizeof(struct pagemap_run));
		if (!pm->vec)
			return -ENOMEM;
		pm->cap = RUNS;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = walk_regions(s);
	for (size_t i = 0; i < s->n_regions; i++)
		s->regions[i].rss = s->regions[i].swap = 0;
	int rc = n ? scan(pm, fd, s, n) : 0;
	close(fd);
	return rc;
}

void pagemap_free(struct mt_pagemap *pm)
{
	free(pm->vec);
	pm->vec = NULL;
	pm->cap = 0;
}
