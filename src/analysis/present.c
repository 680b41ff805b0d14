/*
 * present.c - the present pages of the census's ranges, kept (present.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "memtop/present.h"
#include "memtop/vec.h"

void present_init(struct present *p, struct pages *pg)
{
	memset(p, 0, sizeof(*p));
	p->pg = pg;
}

void present_free(struct present *p)
{
	free(p->spans);
	free(p->ranges);
	free(p->swapped);
	present_init(p, p->pg);
}

void present_share(struct present *to, const struct present *from, struct pages *pg)
{
	*to = *from;
	to->pg = pg;
}

static int cmp_span(const void *a, const void *b)
{
	const struct present_span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int push(struct present_span **v, size_t *n, size_t *cap, uint64_t start, uint64_t end)
{
	if (*n && (*v)[*n - 1].end == start) {
		(*v)[*n - 1].end = end;
		return 0;
	}
	if (VEC_RESERVE(*v, *cap, *n, 64))
		return -ENOMEM;
	(*v)[(*n)++] = (struct present_span){ start, end };
	return 0;
}

/*
 * Sort the spans and join those that touch or overlap; their bytes.  The
 * binary searches and present_read need them sorted and disjoint, and a
 * range may be registered again with other bounds (two adjacent ranges
 * are kept as one, so the second of them is not recognised: a census
 * that walks twice, the leak search's roots after the census's regions).
 * Ranges usually come in order, and then this is one pass.
 */
static uint64_t normalize(struct present_span *v, size_t *n)
{
	for (size_t i = 1; i < *n; i++)
		if (v[i].start < v[i - 1].start) {
			qsort(v, *n, sizeof(*v), cmp_span);
			break;
		}
	size_t k = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < *n; i++) {
		if (k && v[i].start <= v[k - 1].end) {
			if (v[i].end > v[k - 1].end)
				v[k - 1].end = v[i].end;
		} else {
			v[k++] = v[i];
		}
	}
	*n = k;
	for (size_t i = 0; i < k; i++)
		bytes += v[i].end - v[i].start;
	return bytes;
}

int present_add(struct present *p, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < p->n_ranges; i++)
		if (p->ranges[i].start == start && p->ranges[i].end == end)
			return 0;
	if (push(&p->ranges, &p->n_ranges, &p->cap_ranges, start, end))
		return -ENOMEM;
	struct pages_run v[256];
	uint64_t at = start;
	while (at < end) {
		uint64_t walk_end;
		long k = pages_runs(p->pg, at, end, v, 256, &walk_end);
		if (k < 0)
			return (int)k;
		for (long i = 0; i < k; i++) {
			/* A run may reach past the range (a huge page is one
			 * entry): clipped, or a neighbouring range registered
			 * later would overlap it, and present_read assumes
			 * disjoint spans. */
			if (v[i].start < start)
				v[i].start = start;
			if (v[i].end > end)
				v[i].end = end;
			if (v[i].start >= v[i].end)
				continue;
			int rc;
			/* Swapped pages are read only when the user said so
			 * (--scan-swapped): reading swaps them back in. */
			if (v[i].state == PAGES_SWAPPED && !p->pg->read_swapped) {
				rc = push(&p->swapped, &p->n_swapped, &p->cap_swapped, v[i].start,
					  v[i].end);
			} else {
				rc = push(&p->spans, &p->n, &p->cap, v[i].start, v[i].end);
			}
			if (rc)
				return rc;
		}
		if (walk_end <= at)
			break;
		at = walk_end;
	}
	p->pages_bytes = normalize(p->spans, &p->n);
	p->swapped_bytes = normalize(p->swapped, &p->n_swapped);
	return 0;
}

/* First span ending after addr. */
static size_t first_span(const struct present *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->spans[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long present_read(struct present *p, uint64_t addr, void *buf, size_t len)
{
	uint64_t end = addr + len;
	unsigned char *b = buf;
	uint64_t at = addr;
	for (size_t i = first_span(p, addr); i < p->n && p->spans[i].start < end; i++) {
		uint64_t from = p->spans[i].start > addr ? p->spans[i].start : addr;
		uint64_t to = p->spans[i].end < end ? p->spans[i].end : end;
		if (from > at)
			memset(b + (at - addr), 0, from - at);
		long n = pages_read_present(p->pg, from, b + (from - addr), to - from);
		if (n == -ESRCH)
			return n;
		if (n < 0)
			n = 0;
		/* A page gone since the page-table walk: zeros. */
		if ((uint64_t)n < to - from)
			memset(b + (from - addr) + n, 0, (to - from) - (uint64_t)n);
		at = to;
	}
	if (at < end)
		memset(b + (at - addr), 0, end - at);
	return (long)len;
}

long present_read_cb(void *arg, uint64_t addr, void *buf, size_t len)
{
	return present_read(arg, addr, buf, len);
}

#define HEADS_BATCH 512

long present_page_heads(struct present *p, uint64_t from, uint64_t end, uint64_t *at,
			uint64_t (*w)[2], size_t max, uint64_t *next)
{
	const uint64_t page = 4096;
	struct iovec local[HEADS_BATCH], remote[HEADS_BATCH];
	size_t n = 0;
	if (max > HEADS_BATCH)
		max = HEADS_BATCH;
	*next = end;
	for (size_t i = first_span(p, from); i < p->n && p->spans[i].start < end; i++) {
		uint64_t a = p->spans[i].start > from ? p->spans[i].start : from;
		a = (a + page - 1) & ~(page - 1);
		for (; a < p->spans[i].end && a < end; a += page) {
			if (n == max) {
				*next = a;
				goto read;
			}
			at[n] = a;
			local[n] = (struct iovec){ w[n], sizeof(w[n]) };
			remote[n] = (struct iovec){ (void *)(uintptr_t)a, sizeof(w[n]) };
			n++;
		}
	}
read:
	if (!n)
		return 0;
	long got = pages_readv(p->pg, local, remote, n);
	if (got == -ESRCH)
		return got;
	/* Short at a page gone since the page-table walk: the rest one by
	 * one (a gone page reads as zeros). */
	for (size_t k = got > 0 ? (size_t)got / sizeof(w[0]) : 0; k < n; k++)
		if (present_read(p, at[k], w[k], sizeof(w[k])) == -ESRCH)
			return -ESRCH;
	return (long)n;
}

bool present_swapped(const struct present *p, uint64_t addr)
{
	for (size_t i = 0; i < p->n_swapped; i++)
		if (addr >= p->swapped[i].start && addr < p->swapped[i].end)
			return true;
	return false;
}

uint64_t present_bytes(const struct present *p, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;
	for (size_t i = first_span(p, lo); i < p->n && p->spans[i].start < hi; i++) {
		uint64_t from = p->spans[i].start > lo ? p->spans[i].start : lo;
		uint64_t to = p->spans[i].end < hi ? p->spans[i].end : hi;
		if (from < to)
			sum += to - from;
	}
	return sum;
}
