/*
 * pagemap.h - resident and swapped pages of every region from one
 * PAGEMAP_SCAN ioctl (Linux 6.7+) on /proc/PID/pagemap: the kernel walks
 * the page tables and returns runs of pages by category, with no text to
 * format or parse.  smaps costs ~3 us a region; this costs a fraction.
 */
#ifndef MEMTOP_PAGEMAP_H
#define MEMTOP_PAGEMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "memtop/snapshot.h"

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
