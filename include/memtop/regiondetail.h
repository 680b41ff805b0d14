/*
 * regiondetail.h - everything the kernel says about one region, for the
 * TUI's drill-down: its smaps entry and its first bytes.
 *
 * Source layer: reads /proc/PID/smaps and the target's memory (read only,
 * through process_vm_readv); no curses.
 */
#ifndef MEMTOP_REGIONDETAIL_H
#define MEMTOP_REGIONDETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"

#define MT_DETAIL_FIELDS 48
#define MT_DETAIL_BYTES 256

/* One "Name:   value" line of an smaps entry. */
struct mt_smaps_field {
	char name[32];
	uint64_t value; /* bytes when kb, else the number as written */
	bool kb;        /* the kernel wrote it in kB */
};

struct mt_region_detail {
	uint64_t start;
	uint64_t end;
	struct mt_smaps_field fields[MT_DETAIL_FIELDS]; /* in smaps order */
	size_t n_fields;
	char vmflags[128]; /* "rd wr mr mw me ac", "" if the kernel has none */
	uint8_t bytes[MT_DETAIL_BYTES]; /* the bytes from bytes_at on */
	uint64_t bytes_at; /* the region's start, or the stack pointer asked for */
	size_t n_bytes;
	int bytes_errno;   /* why fewer bytes were read (EFAULT: not readable) */
	double read_at;    /* CLOCK_MONOTONIC when it was read */
	double read_cost;  /* seconds the read took: see proc_smaps_due */
};

/*
 * Read the smaps entry of the region of pid starting at start, and up to
 * MT_DETAIL_BYTES of its memory from `from` (0: the region's start; a
 * stack's live part starts at its stack pointer, its lowest bytes are
 * unused zeros), bounded by the region.  Returns 0, 1 when no region starts
 * there any more, or -1 with err set (MT_ERR_NOPROC when pid is gone,
 * MT_ERR_PERM, MT_ERR_OTHER).
 */
int regiondetail_read(pid_t pid, uint64_t start, uint64_t from, struct mt_region_detail *d,
		      struct mt_error *err);

/* Value of the named field (e.g. "Rss"), or -1 when absent. */
const struct mt_smaps_field *regiondetail_field(const struct mt_region_detail *d,
						const char *name);

#endif
