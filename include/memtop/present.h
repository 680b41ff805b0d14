/*
 * present.h - the target's memory read only where its pages exist.
 *
 * The first promise: memtop never grows the target's RSS.  Reading a page
 * that was never touched (or was given back with MADV_DONTNEED) would map
 * the zero page and allocate page tables in the target; reading a swapped
 * page brings it back.  The census and the leak search read heaps and
 * roots only through a struct present: ranges are registered first (their
 * existing pages found by PAGEMAP_SCAN, scan_present()), then reads of
 * them return zeros for the pages that do not exist, which is what the
 * target would read there, without touching them.  Swapped-out pages are
 * not read either (reading would swap them back in): they read as zeros
 * too, and are counted (swapped_bytes) so that a walk that stops there can
 * say why.  Without PAGEMAP_SCAN (Linux before 6.7) every page counts as
 * present.
 */
#ifndef MEMTOP_PRESENT_H
#define MEMTOP_PRESENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/scan.h"
#include "memtop/snapshot.h"

struct present {
	struct scan_reader *rd;
	struct scan_span *spans; /* sorted, disjoint: the pages that exist */
	size_t n, cap;
	uint64_t pages_bytes;    /* total bytes of the spans */
	struct scan_span *swapped; /* sorted: swapped-out runs, not read */
	size_t n_swapped, cap_swapped;
	uint64_t swapped_bytes;
	struct scan_span *ranges; /* registered, in the order given */
	size_t n_ranges, cap_ranges;
	bool all;                /* no PAGEMAP_SCAN: read everything */
};

void present_init(struct present *p, struct scan_reader *rd);
void present_free(struct present *p);

/* Register [start, end), disjoint from the ranges registered before or
 * one of them again (then nothing happens).  0 or -ENOMEM. */
int present_add(struct present *p, uint64_t start, uint64_t end);

/* Read [addr, addr + len): existing pages of registered ranges from the
 * target, everything else as zeros.  Returns len, or -errno when the
 * target cannot be read (-ESRCH: gone). */
long present_read(struct present *p, uint64_t addr, void *buf, size_t len);
/* present_read() as a heapwalk_read_fn; arg is a struct present. */
long present_read_cb(void *arg, uint64_t addr, void *buf, size_t len);

/* Is addr on a swapped-out page of a registered range? */
bool present_swapped(const struct present *p, uint64_t addr);

/* Bytes of [lo, hi) on existing pages. */
uint64_t present_bytes(const struct present *p, uint64_t lo, uint64_t hi);

/* Many reads at once (process_vm_readv takes up to 1024 pieces): the
 * ranges addr[i], len[i] into buf one after the other.  Returns 0 or
 * -errno. */
int present_readv(struct present *p, const uint64_t *addr, const uint32_t *len, size_t n,
		  void *buf);

/*
 * Read the pages of a module (a file mapping of s, e.g. RTTI and vtables):
 * each existing page from the target, the others from the mapped file
 * (/proc/PID/map_files), whose bytes a page never written holds, so no
 * page of the target is faulted in.  Bytes read (short at the first
 * failure), or -EFAULT.
 */
long present_read_image(struct present *p, const struct mt_snapshot *s, uint64_t addr, void *buf,
			size_t len);
/* present_read_image() as a heapwalk_read_fn, arg a struct present_image. */
struct present_image {
	struct present *p;
	const struct mt_snapshot *s;
};
long present_read_image_cb(void *arg, uint64_t addr, void *buf, size_t len);

#endif
