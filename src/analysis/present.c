/*
 * present.c - reading only the pages of the target that exist
 * (present.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "memtop/present.h"
#include "memtop/vec.h"

void present_init(struct present *p, struct scan_reader *rd)
{
	memset(p, 0, sizeof(*p));
	p->rd = rd;
}

void present_free(struct present *p)
{
	free(p->spans);
	free(p->ranges);
	free(p->swapped);
	p->swapped = NULL;
	p->n_swapped = p->cap_swapped = 0;
	p->spans = NULL;
	p->ranges = NULL;
	p->n = p->cap = p->n_ranges = p->cap_ranges = 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct scan_span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int push(struct present *p, uint64_t start, uint64_t end)
{
	if (p->n && p->spans[p->n - 1].end == start) {
		p->spans[p->n - 1].end = end;
	} else {
		if (VEC_RESERVE(p->spans, p->cap, p->n, 64))
			return -ENOMEM;
		p->spans[p->n++] = (struct scan_span){ start, end, false };
	}
	p->pages_bytes += end - start;
	return 0;
}

int present_add(struct present *p, uint64_t start, uint64_t end)
{
	struct scan_span v[256];
	uint64_t at = start;
	for (size_t i = 0; i < p->n_ranges; i++)
		if (p->ranges[i].start == start && p->ranges[i].end == end)
			return 0;
	if (VEC_RESERVE(p->ranges, p->cap_ranges, p->n_ranges, 64))
		return -ENOMEM;
	p->ranges[p->n_ranges++] = (struct scan_span){ start, end, false };
	while (at < end && !p->all) {
		uint64_t walk_end;
		long k = scan_present(p->rd, at, end, v, 256, &walk_end);
		if (k < 0) {
			p->all = true;
			break;
		}
		for (long i = 0; i < k; i++) {
			if (v[i].start >= v[i].end)
				continue;
			if (v[i].swapped) {
				if (VEC_RESERVE(p->swapped, p->cap_swapped, p->n_swapped, 16))
					return -ENOMEM;
				p->swapped[p->n_swapped++] = v[i];
				p->swapped_bytes += v[i].end - v[i].start;
			} else if (push(p, v[i].start, v[i].end)) {
				return -ENOMEM;
			}
		}
		at = walk_end;
	}
	if (p->all && push(p, at, end))
		return -ENOMEM;
	/* Kept sorted for the binary searches: ranges usually come in
	 * order, and then this is one pass. */
	for (size_t i = 1; i < p->n; i++)
		if (p->spans[i].start < p->spans[i - 1].end) {
			qsort(p->spans, p->n, sizeof(*p->spans), cmp_span);
			break;
		}
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
	size_t i = first_span(p, addr);
	uint64_t at = addr;
	for (; i < p->n && p->spans[i].start < end; i++) {
		uint64_t from = p->spans[i].start > addr ? p->spans[i].start : addr;
		uint64_t to = p->spans[i].end < end ? p->spans[i].end : end;
		if (from > at)
			memset(b + (at - addr), 0, from - at);
		long n = scan_read(p->rd, from, b + (from - addr), to - from);
		if (n < 0 && n != -EFAULT)
			return n;
		if (n < 0)
			n = 0;
		/* A page gone since the walk (the target runs, or its map
		 * changed): zeros. */
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

#define IOV_BATCH 1024

/* One process_vm_readv of up to IOV_BATCH pieces; short reads (a page
 * gone) are retried piece by piece through present_read. */
static int flush(struct present *p, struct iovec *loc, struct iovec *rem, size_t k)
{
	if (!k)
		return 0;
	size_t want = 0;
	for (size_t i = 0; i < k; i++)
		want += loc[i].iov_len;
	if (!p->rd->use_mem) {
		ssize_t n = process_vm_readv(p->rd->pid, loc, k, rem, k, 0);
		if (n >= 0 && (size_t)n == want)
			return 0;
		if (n < 0 && errno == ESRCH)
			return -ESRCH;
	}
	for (size_t i = 0; i < k; i++) {
		long n = scan_read(p->rd, (uint64_t)(uintptr_t)rem[i].iov_base, loc[i].iov_base,
				   loc[i].iov_len);
		if (n == -ESRCH)
			return -ESRCH;
		if (n < 0)
			n = 0;
		if ((size_t)n < loc[i].iov_len)
			memset((char *)loc[i].iov_base + n, 0, loc[i].iov_len - (size_t)n);
	}
	return 0;
}

int present_readv(struct present *p, const uint64_t *addr, const uint32_t *len, size_t n,
		  void *buf)
{
	struct iovec loc[IOV_BATCH], rem[IOV_BATCH];
	size_t k = 0;
	unsigned char *b = buf;
	for (size_t r = 0; r < n; r++) {
		uint64_t a = addr[r], end = a + len[r];
		memset(b, 0, len[r]);
		for (size_t i = first_span(p, a); i < p->n && p->spans[i].start < end; i++) {
			uint64_t from = p->spans[i].start > a ? p->spans[i].start : a;
			uint64_t to = p->spans[i].end < end ? p->spans[i].end : end;
			if (from >= to)
				continue;
			loc[k] = (struct iovec){ b + (from - a), to - from };
			rem[k] = (struct iovec){ (void *)(uintptr_t)from, to - from };
			if (++k == IOV_BATCH) {
				int rc = flush(p, loc, rem, k);
				if (rc)
					return rc;
				k = 0;
			}
		}
		b += len[r];
	}
	return flush(p, loc, rem, k);
}

/* Read [addr, addr + len) within region r from its file. */
static long read_from_file(pid_t pid, const struct mt_region *r, uint64_t addr, void *buf,
			   size_t len)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)r->start, (unsigned long long)r->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, len, (off_t)(r->offset + (addr - r->start)));
	close(fd);
	if (n < 0)
		return -errno;
	/* Past the file's end the mapping reads zeros. */
	memset((char *)buf + n, 0, len - (size_t)n);
	return (long)len;
}

long present_read_image(struct present *p, const struct mt_snapshot *s, uint64_t addr, void *buf,
			size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		long ri = snapshot_find(s, a);
		if (ri < 0)
			break;
		const struct mt_region *r = &s->regions[ri];
		uint64_t page_end = (a | 4095) + 1;
		size_t n = len - done;
		if (n > page_end - a)
			n = page_end - a;
		if (n > r->end - a)
			n = r->end - a;
		struct scan_span v[1];
		uint64_t walk_end;
		long k = scan_present(p->rd, a & ~(uint64_t)4095, page_end, v, 1, &walk_end);
		long got;
		if (k > 0 && v[0].swapped)
			break; /* written and swapped out: neither file nor faulting */
		if (k != 0 || !r->inode || (r->perms & MT_PERM_SHARED))
			/* present, or unknown (no PAGEMAP_SCAN) */
			got = scan_read(p->rd, a, (char *)buf + done, n);
		else
			got = read_from_file(p->rd->pid, r, a, (char *)buf + done, n);
		if (got <= 0)
			break;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	}
	return done ? (long)done : -EFAULT;
}

long present_read_image_cb(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct present_image *pi = arg;
	return present_read_image(pi->p, pi->s, addr, buf, len);
}
