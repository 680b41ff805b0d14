/*
 * maps.h - parser for the text of /proc/PID/maps and /proc/PID/smaps.
 *
 * Pure functions over a buffer: the source reads the file, these turn it
 * into regions.  The text comes from the kernel but names come from
 * whoever created the files, so every byte after the inode column is data.
 */
#ifndef MEMTOP_MAPS_H
#define MEMTOP_MAPS_H

#include <stddef.h>

#include "memtop/snapshot.h"

/*
 * Append one region per line of `text` (len bytes, need not be
 * NUL-terminated) to s.  Names: the kernel's "\012" escape becomes a newline,
 * a trailing " (deleted)" is stripped and recorded in deleted_suffix (the
 * `deleted` verdict needs stat() and is proc_read's job: it stats the path as seen from the target's root).
 * Malformed lines are skipped and their number added to *bad (may be NULL),
 * so that a text parsed in pieces is counted whole.
 * Returns 0, or -ENOMEM.
 */
int maps_parse(struct mt_snapshot *s, const char *text, size_t len, size_t *bad);

/*
 * Fill rss, pss, swap, ... of s's regions from the text of
 * /proc/PID/smaps taken at about the same time.  Entries are matched by
 * start address (both lists are in address order); entries with no
 * matching region (the maps changed in between) are ignored.  Sets
 * s->have_rss.  Returns the number of regions matched.
 */
size_t maps_parse_smaps(struct mt_snapshot *s, const char *text, size_t len);

/*
 * Regions and their resident figures from one read of /proc/PID/smaps: its
 * header lines are maps lines, parsed as maps_parse does, and the figures
 * below each fill that region.  Cheaper than reading maps and smaps (the
 * kernel walks the mappings once) and consistent: no region can change
 * between the two reads.  Sets s->have_rss.  Returns 0, or -ENOMEM.
 */
int maps_parse_all(struct mt_snapshot *s, const char *text, size_t len, size_t *bad);

#endif
