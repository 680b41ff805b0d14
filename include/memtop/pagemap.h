/*
 * pagemap.h - resident and swapped pages of every region from one
 * PAGEMAP_SCAN ioctl (Linux 6.7+) on /proc/PID/pagemap: the kernel walks
 * the page tables and returns runs of pages by category, with no text to
 * format or parse.  smaps costs ~3 us a region; this costs a fraction.
 */
#ifndef MEMTOP_PAGEMAP_H
#define MEMTOP_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/snapshot.h"

/* PAGEMAP_SCAN's ABI, from linux/fs.h (6.7): Debian 12's headers predate
 * it.  pages.c (which pages to read) and this module share it. */
struct pagemap_run {
	uint64_t start, end, categories;
};
#define PAGEMAP_IS_PRESENT (1u << 3)
#define PAGEMAP_IS_SWAPPED (1u << 4)
#define PAGEMAP_IS_PFNZERO (1u << 5)

/*
 * One PAGEMAP_SCAN call on an open /proc/TID/pagemap over [start, end):
 * up to n runs of pages having any category of anyof and none of
 * exclude, with their categories of ret, into vec; *walk_end is where the
 * kernel stopped.  The number of runs, or -errno (-ENOTTY or -EINVAL:
 * the kernel has no PAGEMAP_SCAN).
 */
long pagemap_scan(int fd, uint64_t start, uint64_t end, uint64_t anyof, uint64_t exclude,
		  uint64_t ret, struct pagemap_run *vec, size_t n, uint64_t *walk_end);

/* A buffer for the ioctl's runs, reused across calls. */
struct mt_pagemap {
	void *vec;
	size_t cap;
};

/*
 * Set rss and swap of every region of s (sorted, non-overlapping) from
 * /proc/TID/pagemap; the other smaps figures are left alone.  rss counts
 * present pages except the shared zero page, as smaps' Rss does.  Regions
 * the kernel does not walk (VM_PFNMAP, the vsyscall page) get 0.
 * -ENOTTY (or -EINVAL) when the kernel has no PAGEMAP_SCAN; -errno else.
 */
int pagemap_resident(struct mt_pagemap *pm, pid_t tid, struct mt_snapshot *s);

void pagemap_free(struct mt_pagemap *pm);

#endif
