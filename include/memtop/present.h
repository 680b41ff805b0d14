/*
 * present.h - a heap and its roots read page by page where they are,
 * for the census and the leak search: pages.h finds which pages are in
 * the target's page tables; this keeps that answer for the ranges the
 * census reads (registered once, found by one page-table walk each) so
 * that a walk's many small reads are binary searches, not system calls.
 *
 * The first promise: memtop never grows the target's RSS.  Pages that
 * are not present (never touched, given back with MADV_DONTNEED, or
 * swapped out) are not read: they read as zeros, which is what the target
 * would read in the first two cases.  Swapped-out pages are counted
 * (swapped_bytes) so that a walk that stops on one can say why; they are
 * read (swapped back in) only when the reader's read_swapped is set
 * (--scan-swapped).
 */
#ifndef MEMTOP_PRESENT_H
#define MEMTOP_PRESENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/pages.h"

struct present_span {
	uint64_t start, end;
};

struct present {
	struct pages *pg;          /* the reader (one thread at a time) */
	struct present_span *spans; /* sorted, disjoint: present pages */
	size_t n, cap;
	uint64_t pages_bytes;      /* total bytes of the spans */
	struct present_span *ranges; /* registered, in the order given */
	size_t n_ranges, cap_ranges;
	struct present_span *swapped; /* swapped-out runs: not read */
	size_t n_swapped, cap_swapped;
	uint64_t swapped_bytes;
};

void present_init(struct present *p, struct pages *pg);
void present_free(struct present *p);

/* Register [start, end), disjoint from the ranges registered before or
 * one of them again (then nothing happens).  0, -ENOMEM, or -errno of the
 * page-table walk (-ESRCH: the process is gone). */
int present_add(struct present *p, uint64_t start, uint64_t end);

/* Read [addr, addr + len): present pages of registered ranges from the
 * target, everything else as zeros.  Returns len, or -errno when the
 * target cannot be read (-ESRCH: gone). */
long present_read(struct present *p, uint64_t addr, void *buf, size_t len);
/* present_read() as a heapwalk_read_fn; arg is a struct present. */
long present_read_cb(void *arg, uint64_t addr, void *buf, size_t len);

/*
 * The first 16 bytes of the present pages of [from, end) (from page
 * aligned), up to max of them: their addresses into at[], their two words
 * into w[], one system call for all.  *next is where the following call
 * goes on.  Returns the number of pages (0: none left), or -ESRCH.  For
 * a search of chunk headers that reads nothing else.
 */
long present_page_heads(struct present *p, uint64_t from, uint64_t end, uint64_t *at,
			uint64_t (*w)[2], size_t max, uint64_t *next);

/* Is addr on a swapped-out page of a registered range? */
bool present_swapped(const struct present *p, uint64_t addr);

/* Bytes of [lo, hi) on present pages. */
uint64_t present_bytes(const struct present *p, uint64_t lo, uint64_t hi);

/* The same spans read through another reader (a worker thread's own). */
void present_share(struct present *to, const struct present *from, struct pages *pg);

#endif
