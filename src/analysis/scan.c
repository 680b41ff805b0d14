/*
 * scan.c - find the words of a target that point into a range, and say
 * who holds each (scan.h).
 *
 * The scan streams: each chunk is matched right after it is read, while
 * it is still in cache.  The match loop tests whole blocks of words with
 * a branch-free OR of one unsigned subtract-and-compare per word, and
 * only a block that holds a match is looked at word by word.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "memtop/arch.h"
#include "memtop/clock.h"
#include "memtop/scan.h"
#include "memtop/vec.h"

/* ---- TARGET specs -------------------------------------------------------- */

/* A whole number: hex with 0x, or decimal.  Returns the end or NULL. */
static const char *parse_num(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		const char *digits = p;
		for (;; p++) {
			int d;
			if (*p >= '0' && *p <= '9')
				d = *p - '0';
			else if (*p >= 'a' && *p <= 'f')
				d = *p - 'a' + 10;
			else if (*p >= 'A' && *p <= 'F')
				d = *p - 'A' + 10;
			else
				break;
			if (v >> 60)
				return NULL;
			v = v << 4 | (uint64_t)d;
		}
		if (p == digits)
			return NULL;
	} else {
		const char *digits = p;
		for (; *p >= '0' && *p <= '9'; p++) {
			uint64_t d = (uint64_t)(*p - '0');
			if (v > (UINT64_MAX - d) / 10)
				return NULL;
			v = v * 10 + d;
		}
		if (p == digits)
			return NULL;
	}
	*out = v;
	return p;
}

static int bad_spec(const char *text, const char *why, struct mt_error *err)
{
	return mt_error_set(err, MT_EXIT_USAGE, 0,
			    "--refs: bad TARGET '%.200s': %s\n"
			    "TARGET is ADDR (the mapping holding it), START-END or START+LEN;\n"
			    "numbers are hex with 0x, or decimal", text, why);
}

int scan_parse_spec(const char *text, struct scan_spec *out, struct mt_error *err)
{
	uint64_t a, b;
	if (!text || !*text)
		return bad_spec(text ? text : "", "empty", err);
	const char *p = parse_num(text, &a);
	if (!p)
		return bad_spec(text, "not a number (or too large)", err);
	memset(out, 0, sizeof(*out));
	if (*p == '\0') {
		out->kind = SCAN_SPEC_ADDR;
		out->start = a;
		return 0;
	}
	char sep = *p;
	if (sep != '-' && sep != '+')
		return bad_spec(text, "unexpected character after the first number", err);
	const char *q = parse_num(p + 1, &b);
	if (!q)
		return bad_spec(text, "second number missing or invalid", err);
	if (*q)
		return bad_spec(text, "trailing characters", err);
	out->kind = SCAN_SPEC_RANGE;
	out->start = a;
	if (sep == '-') {
		if (b <= a)
			return bad_spec(text, "END must be above START", err);
		out->end = b;
	} else {
		if (b == 0)
			return bad_spec(text, "LEN must not be 0", err);
		if (b > UINT64_MAX - a)
			return bad_spec(text, "START+LEN overflows", err);
		out->end = a + b;
	}
	return 0;
}

int scan_resolve_spec(const struct mt_snapshot *s, const struct scan_spec *spec, uint64_t *lo,
		      uint64_t *hi, long *region, struct mt_error *err)
{
	long i = snapshot_find(s, spec->start);
	*region = i;
	if (spec->kind == SCAN_SPEC_RANGE) {
		*lo = spec->start;
		*hi = spec->end;
		return 0;
	}
	if (i < 0)
		return mt_error_set(err, MT_EXIT_USAGE, 0,
				    "--refs: 0x%llx is not mapped in process %d "
				    "(give START-END to look for pointers into unmapped memory)",
				    (unsigned long long)spec->start, s->pid);
	*lo = s->regions[i].start;
	*hi = s->regions[i].end;
	return 0;
}

/* ---- reading --------------------------------------------------------------- */

void scan_reader_init(struct scan_reader *r, pid_t pid)
{
	r->pid = pid;
	r->mem_fd = -1;
	r->use_mem = false;
	r->pagemap_fd = -1;
	r->no_pagemap_scan = false;
}

void scan_reader_close(struct scan_reader *r)
{
	if (r->mem_fd >= 0)
		close(r->mem_fd);
	if (r->pagemap_fd >= 0)
		close(r->pagemap_fd);
	r->mem_fd = -1;
	r->pagemap_fd = -1;
}

/*
 * PAGEMAP_SCAN (Linux 6.7, linux/fs.h; spelled out here for older
 * headers): the ranges of [start, end) whose pages are present or
 * swapped, leaving out the shared zero page, found by walking page
 * tables, so unpopulated terabytes cost nothing.
 */
struct mt_page_region {
	uint64_t start, end, categories;
};

struct mt_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define MT_PAGEMAP_SCAN _IOWR('f', 16, struct mt_pm_scan_arg)
#define MT_PAGE_IS_PRESENT (1u << 3)
#define MT_PAGE_IS_SWAPPED (1u << 4)
#define MT_PAGE_IS_PFNZERO (1u << 5)

/* Fill vec with the populated runs from start; *walk_end: where the
 * kernel stopped.  Returns the count, or -1 when PAGEMAP_SCAN cannot be
 * used (then no_pagemap_scan is set and the caller reads everything). */
static long populated(struct scan_reader *r, uint64_t start, uint64_t end,
		      struct mt_page_region *vec, size_t n, uint64_t *walk_end)
{
	if (r->no_pagemap_scan)
		return -1;
	if (r->pagemap_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)r->pid);
		r->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->pagemap_fd < 0) {
			r->no_pagemap_scan = true;
			return -1;
		}
	}
	struct mt_pm_scan_arg a = {
		.size = sizeof(a),
		.start = start,
		.end = end,
		.vec = (uint64_t)(uintptr_t)vec,
		.vec_len = n,
		.category_inverted = MT_PAGE_IS_PFNZERO,
		.category_mask = MT_PAGE_IS_PFNZERO,
		.category_anyof_mask = MT_PAGE_IS_PRESENT | MT_PAGE_IS_SWAPPED,
		.return_mask = MT_PAGE_IS_PRESENT | MT_PAGE_IS_SWAPPED,
	};
	int k = ioctl(r->pagemap_fd, MT_PAGEMAP_SCAN, &a);
	if (k < 0 || a.walk_end <= start || a.walk_end > end) {
		r->no_pagemap_scan = true;
		return -1;
	}
	*walk_end = a.walk_end;
	return k;
}

static long read_mem_fd(struct scan_reader *r, uint64_t addr, void *buf, size_t len)
{
	if (r->mem_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)r->pid);
		r->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->mem_fd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(r->mem_fd, (char *)buf + got, len - got, (off_t)(addr + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (got)
				break;
			return errno == EIO ? -EFAULT : -errno;
		}
		if (n == 0) /* the address space is gone */
			return got ? (long)got : -ESRCH;
		got += (size_t)n;
	}
	return (long)got;
}

long scan_read(struct scan_reader *r, uint64_t addr, void *buf, size_t len)
{
	if (!r->use_mem) {
		struct iovec local = { buf, len };
		struct iovec remote = { (void *)(uintptr_t)addr, len };
		ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
		if (n >= 0)
			return n;
		if (errno != EPERM && errno != ENOSYS)
			return -errno;
		r->use_mem = true;
	}
	return read_mem_fd(r, addr, buf, len);
}

long scan_read_cb(void *arg, uint64_t addr, void *buf, size_t len)
{
	return scan_read(arg, addr, buf, len);
}

/* ---- the match loop ------------------------------------------------------- */

#define BLOCK 64

/*
 * Does any of the BLOCK words w[] have w - lo < span (unsigned)?  The
 * comparison is spelled as the borrow of d - span, (~d & span) |
 * (~(d ^ span) & (d - span)), whose top bit is set exactly when d < span:
 * only subtractions and bit operations, which vectorise even on SSE2
 * (no 64-bit compare there) and twice as wide with AVX2, picked at run
 * time.  Three times faster than the plain compare (docs/performance.md).
 */
__attribute__((target_clones("avx2", "default")))
static uint64_t block_any(const uint64_t *w, uint64_t lo, uint64_t span)
{
	uint64_t any = 0;
	for (size_t j = 0; j < BLOCK; j++) {
		uint64_t d = w[j] - lo;
		any |= (~d & span) | (~(d ^ span) & (d - span));
	}
	return any >> 63;
}

size_t scan_match(const uint64_t *w, size_t n, uint64_t lo, uint64_t hi, uint32_t *idx,
		  size_t max)
{
	const uint64_t span = hi - lo;
	size_t k = 0, i = 0;
	if (!max || hi <= lo)
		return 0;
	for (; i + BLOCK <= n; i += BLOCK) {
		if (!block_any(w + i, lo, span))
			continue;
		for (size_t j = 0; j < BLOCK; j++) {
			if (w[i + j] - lo < span) {
				idx[k++] = (uint32_t)(i + j);
				if (k == max)
					return k;
			}
		}
	}
	for (; i < n; i++) {
		if (w[i] - lo < span) {
			idx[k++] = (uint32_t)i;
			if (k == max)
				return k;
		}
	}
	return k;
}

/* ---- which regions ---------------------------------------------------------- */

/* Memory of a driver: a device node, or an anonymous inode a driver
 * handed out (GPU buffers, perf rings).  Reading it may act or stall. */
static bool is_device(const struct mt_region *r)
{
	if (strncmp(r->path, "anon_inode:", 11) == 0)
		return true;
	if (strncmp(r->path, "/dev/", 5) != 0)
		return false;
	return strncmp(r->path, "/dev/shm/", 9) != 0 && strcmp(r->path, "/dev/zero") != 0;
}

bool scan_region_wanted(const struct mt_region *r)
{
	if (!(r->perms & MT_PERM_R) || r->category == MT_CAT_KERNEL)
		return false;
	if (r->path[0] == '[' && (strcmp(r->path, "[vvar]") == 0 ||
				  strcmp(r->path, "[vsyscall]") == 0 ||
				  strcmp(r->path, "[vdso]") == 0 ||
				  strcmp(r->path, "[uprobes]") == 0))
		return false;
	if (is_device(r))
		return false;
	if (r->category == MT_CAT_FILE && !(r->perms & MT_PERM_W))
		return false;
	return true;
}

/* ---- results ------------------------------------------------------------------ */

void scan_result_init(struct scan_result *r)
{
	memset(r, 0, sizeof(*r));
}

void scan_result_free(struct scan_result *r)
{
	for (size_t i = 0; i < r->n_strings; i++)
		free(r->strings[i]);
	for (size_t i = 0; i < r->n_walk_errors; i++)
		free(r->walk_errors[i]);
	free(r->strings);
	free(r->walk_errors);
	free(r->refs);
	free(r->groups);
	for (size_t i = 0; i < r->n_stacks; i++)
		unwind_stack_free(&r->stacks[i]);
	free(r->stacks);
	scan_result_init(r);
}

const struct unwind_stack *scan_result_stack(const struct scan_result *r, int tid)
{
	for (size_t i = 0; i < r->n_stacks; i++)
		if (r->stacks[i].tid == tid)
			return &r->stacks[i];
	return NULL;
}

/* A copy of s owned by the result, or NULL when out of memory. */
static const char *keep(struct scan_result *r, const char *s)
{
	if (VEC_RESERVE(r->strings, r->cap_strings, r->n_strings, 64))
		return NULL;
	char *c = strdup(s);
	if (c)
		r->strings[r->n_strings++] = c;
	return c;
}

static int add_walk_error(struct scan_result *r, const char *msg)
{
	char **v = realloc(r->walk_errors, (r->n_walk_errors + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->walk_errors = v;
	char *c = strdup(msg);
	if (!c)
		return -ENOMEM;
	r->walk_errors[r->n_walk_errors++] = c;
	return 0;
}

static int push_ref(struct scan_result *r, uint64_t addr, uint64_t value, long region,
		    uint64_t region_start)
{
	if (VEC_RESERVE(r->refs, r->cap_refs, r->n_refs, 64))
		return -ENOMEM;
	struct scan_ref *ref = &r->refs[r->n_refs++];
	memset(ref, 0, sizeof(*ref));
	ref->addr = addr;
	ref->value = value;
	ref->region = region;
	ref->region_offset = addr - region_start;
	ref->frame_index = -1;
	return 0;
}

/* ---- the scan proper ------------------------------------------------------------ */

struct scan_state {
	const struct mt_snapshot *s;
	const struct scan_options *o;
	struct scan_result *out;
	struct scan_reader rd;
	uint64_t *buf;
	size_t chunk;
	uint32_t *idx;
	size_t max_refs;
	uint64_t done, total;
};

static int process_gone(const struct scan_state *st, struct mt_error *err)
{
	return mt_error_set(err, MT_EXIT_EXITED, ESRCH,
			    "process %d exited during the scan", st->s->pid);
}

/* Match one chunk of words read at base. */
static int match_chunk(struct scan_state *st, long ri, uint64_t base, size_t words)
{
	struct scan_result *out = st->out;
	const uint64_t *w = st->buf;
	size_t from = 0;
	while (from < words) {
		size_t k = scan_match(w + from, words - from, out->lo, out->hi, st->idx, 4096);
		for (size_t m = 0; m < k; m++) {
			size_t i = from + st->idx[m];
			uint64_t addr = base + 8 * i;
			if (addr - out->lo < out->hi - out->lo && !st->o->include_internal) {
				out->internal++;
				continue;
			}
			out->refs_total++;
			if (out->n_refs < st->max_refs &&
			    push_ref(out, addr, w[i], ri, st->s->regions[ri].start) < 0)
				return -ENOMEM;
		}
		if (k < 4096)
			break;
		from += st->idx[k - 1] + 1;
	}
	return 0;
}

/* Scan [at, end) of region ri.  1: cancelled, 0: done, 2: the region
 * ended early (counted as skipped), -1: error. */
static int scan_range(struct scan_state *st, long ri, uint64_t at, uint64_t end,
		      struct mt_error *err)
{
	while (at < end) {
		size_t want = end - at < st->chunk ? (size_t)(end - at) : st->chunk;
		long n = scan_read(&st->rd, at, st->buf, want);
		if (n == -ESRCH)
			return process_gone(st, err);
		if (n == -EPERM || n == -EACCES)
			return mt_error_set(err, MT_EXIT_PERM, (int)-n,
					    "cannot read the memory of process %d: %s",
					    st->s->pid, strerror((int)-n));
		if (n <= 0)
			return 2; /* unmapped or shrunk since the snapshot */
		if (match_chunk(st, ri, at, (size_t)n / 8) < 0)
			return mt_error_set(err, MT_EXIT_FAILURE, ENOMEM, "out of memory");
		st->out->scanned_bytes += (uint64_t)n;
		st->done += (uint64_t)n;
		at += (uint64_t)n;
		if ((size_t)n < want)
			return 2;
		if (st->o->progress && st->o->progress(st->o->progress_arg, st->done, st->total))
			return 1;
	}
	return 0;
}

#define RUNS 256

/* Scan region ri.  1: cancelled, 0: done (or skipped), -1: error. */
static int scan_region(struct scan_state *st, long ri, struct mt_error *err)
{
	const struct mt_region *r = &st->s->regions[ri];
	const uint64_t done0 = st->done, read0 = st->out->scanned_bytes;
	uint64_t at = r->start;
	bool sparse = false;
	int rc = 0;
	/* Private memory: read only the pages that exist.  (A shared
	 * mapping's pages may exist in the object without being mapped
	 * here, so those are read whole.) */
	if (!(r->perms & MT_PERM_SHARED)) {
		struct mt_page_region runs[RUNS];
		while (at < r->end && rc == 0) {
			uint64_t walk_end;
			long k = populated(&st->rd, at, r->end, runs, RUNS, &walk_end);
			if (k < 0)
				break; /* not available: read [at, end) whole */
			for (long i = 0; i < k && rc == 0; i++) {
				uint64_t from = runs[i].start < at ? at : runs[i].start;
				uint64_t to = runs[i].end > r->end ? r->end : runs[i].end;
				if (from < to)
					rc = scan_range(st, ri, from, to, err);
			}
			at = walk_end;
		}
		sparse = at >= r->end;
		/* No page at all: is the region still there? (PAGEMAP_SCAN
		 * says nothing of a range unmapped since the snapshot.) */
		uint64_t probe;
		if (sparse && rc == 0 && st->out->scanned_bytes == read0) {
			long n = scan_read(&st->rd, r->start, &probe, sizeof(probe));
			if (n == -ESRCH)
				return process_gone(st, err);
			if (n < 0)
				rc = 2;
		}
	}
	if (!sparse && rc == 0)
		rc = scan_range(st, ri, at, r->end, err);
	if (rc == 2) {
		st->out->skipped_regions++;
		rc = 0;
	} else if (rc == 0 && sparse) {
		st->out->absent_bytes += mt_region_size(r) - (st->out->scanned_bytes - read0);
	}
	/* Progress counts the whole region, read or not. */
	if (rc == 0)
		st->done = done0 + mt_region_size(r);
	return rc;
}

/* ---- attribution ----------------------------------------------------------------- */

struct heap_cache {
	long region;
	struct heapwalk_heap heap;
	int rc;
	bool reported; /* its walk error is in the result */
};

struct stack_cache {
	int tid;
	struct unwind_stack st;
	int rc;
};

struct attrib {
	struct scan_state *st;
	struct symbols_cache own_cache;
	struct symbols_cache *cache;
	struct symbols_map map;
	bool have_map;
	struct heap_cache *heaps;
	size_t n_heaps;
	/* The tcache and fastbin chunks of every heap: built at the first
	 * reference held by a heap chunk. */
	struct heapwalk_freeset freeset;
	bool have_freeset;
	struct stack_cache *stacks;
	size_t n_stacks;
};

static struct symbols_map *get_map(struct attrib *a)
{
	if (!a->have_map) {
		if (symbols_map_build(&a->map, a->cache, a->st->s, a->st->s->pid) < 0)
			return NULL;
		a->have_map = true;
	}
	return &a->map;
}

/* The walk of heap region ri, done once.  report: its walk error goes to
 * the result (the heaps holding references; the others are only walked
 * for their free lists). */
static struct heap_cache *get_heap(struct attrib *a, long ri, bool report)
{
	struct heap_cache *h = NULL;
	for (size_t i = 0; i < a->n_heaps && !h; i++)
		if (a->heaps[i].region == ri)
			h = &a->heaps[i];
	const struct mt_region *r = &a->st->s->regions[ri];
	if (!h) {
		struct heap_cache *v = realloc(a->heaps, (a->n_heaps + 1) * sizeof(*v));
		if (!v)
			return NULL;
		a->heaps = v;
		h = &a->heaps[a->n_heaps++];
		memset(h, 0, sizeof(*h));
		h->region = ri;
		bool main_arena = strcmp(r->path, "[heap]") == 0;
		h->rc = heapwalk_build(&h->heap, r->start, r->end, main_arena, scan_read_cb,
				       &a->st->rd);
	}
	if (report && !h->reported && h->rc == 0 && h->heap.stopped_at) {
		char msg[256];
		snprintf(msg, sizeof(msg), "heap 0x%llx-0x%llx: %s",
			 (unsigned long long)r->start, (unsigned long long)r->end, h->heap.error);
		add_walk_error(a->st->out, msg);
		h->reported = true;
	}
	return h;
}

/* Walk every heap of the process and follow its tcache and fastbin
 * lists (a thread's tcache holds chunks of any arena).  Once per scan;
 * on failure the set stays empty and chunks keep what the walk says. */
static void build_freeset(struct attrib *a)
{
	const struct mt_snapshot *s = a->st->s;
	a->have_freeset = true;
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].category == MT_CAT_HEAP && scan_region_wanted(&s->regions[i]))
			get_heap(a, (long)i, false);
	const struct heapwalk_heap **v = calloc(a->n_heaps ? a->n_heaps : 1, sizeof(*v));
	if (!v)
		return;
	size_t n = 0;
	for (size_t i = 0; i < a->n_heaps; i++)
		if (a->heaps[i].rc == 0)
			v[n++] = &a->heaps[i].heap;
	if (heapwalk_freeset_build(&a->freeset, v, n, scan_read_cb, &a->st->rd) == 0 &&
	    a->freeset.error[0]) {
		char msg[256];
		snprintf(msg, sizeof(msg), "free list cut short: %s", a->freeset.error);
		add_walk_error(a->st->out, msg);
	}
	free(v);
}

static struct stack_cache *get_stack(struct attrib *a, int tid)
{
	for (size_t i = 0; i < a->n_stacks; i++)
		if (a->stacks[i].tid == tid)
			return &a->stacks[i];
	struct stack_cache *v = realloc(a->stacks, (a->n_stacks + 1) * sizeof(*v));
	if (!v)
		return NULL;
	a->stacks = v;
	struct stack_cache *c = &a->stacks[a->n_stacks++];
	c->tid = tid;
	c->rc = unwind_thread(tid, get_map(a), &c->st);
	return c;
}

static void attach_class(struct attrib *a, struct scan_ref *ref)
{
	uint64_t vptr;
	if (scan_read(&a->st->rd, ref->object.user, &vptr, sizeof(vptr)) != sizeof(vptr))
		return;
	struct symbols_map *m = get_map(a);
	char name[512];
	if (m && symbols_class_of(m, a->st->s, vptr, scan_read_cb, &a->st->rd, name,
				  sizeof(name)))
		ref->class_name = keep(a->st->out, name);
}

static void attribute_heap(struct attrib *a, struct scan_ref *ref)
{
	if (!a->have_freeset)
		build_freeset(a); /* walks every heap: no heap_cache moves after */
	struct heap_cache *h = get_heap(a, ref->region, true);
	if (!h || h->rc < 0)
		return;
	ref->holder = SCAN_HOLDER_HEAP;
	if (heapwalk_find(&h->heap, ref->addr, &ref->object, scan_read_cb, &a->st->rd) == 1) {
		ref->has_object = true;
		ref->object.free_list = heapwalk_freeset_find(&a->freeset, ref->object.chunk);
		if (ref->object.free_list != HEAPWALK_FREE_NONE)
			ref->object.in_use = false;
		ref->stale_free = !ref->object.in_use;
		attach_class(a, ref);
	}
}

static void attribute_anon(struct attrib *a, struct scan_ref *ref)
{
	const struct mt_region *r = &a->st->s->regions[ref->region];
	if (heapwalk_mmapped_find(r->start, r->end, ref->addr, &ref->object, scan_read_cb,
				  &a->st->rd) == 1) {
		ref->holder = SCAN_HOLDER_HEAP;
		ref->has_object = true;
		attach_class(a, ref);
	}
}

static void attribute_global(struct attrib *a, struct scan_ref *ref,
			     const struct symbols_module *mod)
{
	ref->holder = SCAN_HOLDER_GLOBAL;
	ref->module = mod->path;
	struct symbols_hit hit;
	if (symbols_lookup(&a->map, ref->addr, &hit)) {
		char name[512];
		symbols_demangle(hit.name, name, sizeof(name));
		ref->symbol = keep(a->st->out, name);
		ref->symbol_offset = hit.offset;
	}
}

#define RED_ZONE MT_RED_ZONE

/* The stack pointer the snapshot read for a blocked thread, or 0. */
static uint64_t snapshot_sp(const struct mt_snapshot *s, int tid)
{
	for (size_t i = 0; i < s->n_threads; i++)
		if (s->threads[i].tid == tid)
			return s->threads[i].sp;
	return 0;
}

static void attribute_stack(struct attrib *a, struct scan_ref *ref)
{
	const struct mt_region *r = &a->st->s->regions[ref->region];
	ref->holder = SCAN_HOLDER_STACK;
	ref->tid = r->tid;
	if (!r->tid)
		return;
	uint64_t sp = snapshot_sp(a->st->s, r->tid);
	struct stack_cache *c = NULL;
	if (freeze_find(a->st->o->freeze, r->tid)) {
		c = get_stack(a, r->tid);
		if (c && c->rc == 0 && c->st.n)
			sp = c->st.frames[0].sp;
	}
	if (sp > RED_ZONE && ref->addr < sp - RED_ZONE && sp >= r->start && sp < r->end)
		ref->dead_stack = true;
	if (!c || c->rc < 0)
		return;
	long fi = unwind_frame_of(&c->st, ref->addr);
	if (fi < 0)
		return;
	ref->frame_index = fi;
	const struct unwind_frame *fr = &c->st.frames[fi];
	if (fr->func[0]) {
		ref->frame = keep(a->st->out, fr->func);
		ref->frame_offset = fr->func_offset;
	}
}

static void attribute(struct attrib *a, struct scan_ref *ref)
{
	const struct mt_region *r = &a->st->s->regions[ref->region];
	if (r->category == MT_CAT_STACK) {
		attribute_stack(a, ref);
		return;
	}
	if (r->category == MT_CAT_HEAP) {
		attribute_heap(a, ref);
		return;
	}
	struct symbols_map *m = get_map(a);
	const struct symbols_module *mod = m ? symbols_module_of(m, ref->addr) : NULL;
	if (mod && (r->category == MT_CAT_IMAGE || r->category == MT_CAT_ANON)) {
		attribute_global(a, ref, mod);
		return;
	}
	if (r->category == MT_CAT_ANON)
		attribute_anon(a, ref);
}

static void attribute_all(struct scan_state *st)
{
	struct attrib a;
	memset(&a, 0, sizeof(a));
	a.st = st;
	if (st->o->symbols) {
		a.cache = st->o->symbols;
	} else {
		symbols_cache_init(&a.own_cache);
		a.cache = &a.own_cache;
	}
	for (size_t i = 0; i < st->out->n_refs; i++)
		attribute(&a, &st->out->refs[i]);
	for (size_t i = 0; i < a.n_heaps; i++)
		heapwalk_free(&a.heaps[i].heap);
	heapwalk_freeset_free(&a.freeset);
	/* Unwound stacks move to the result: the report shows them. */
	st->out->stacks = calloc(a.n_stacks ? a.n_stacks : 1, sizeof(*st->out->stacks));
	for (size_t i = 0; i < a.n_stacks; i++) {
		if (st->out->stacks && a.stacks[i].rc == 0)
			st->out->stacks[st->out->n_stacks++] = a.stacks[i].st;
		else
			unwind_stack_free(&a.stacks[i].st);
	}
	free(a.heaps);
	free(a.stacks);
	symbols_map_free(&a.map);
	if (!st->o->symbols)
		symbols_cache_free(&a.own_cache);
}

static int make_groups(struct scan_result *out)
{
	for (size_t i = 0; i < out->n_refs; i++) {
		if (out->n_groups && out->groups[out->n_groups - 1].region == out->refs[i].region) {
			out->groups[out->n_groups - 1].n++;
			continue;
		}
		struct scan_group *v = realloc(out->groups, (out->n_groups + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->groups = v;
		out->groups[out->n_groups++] = (struct scan_group){ out->refs[i].region, i, 1 };
	}
	return 0;
}

int scan_run(const struct mt_snapshot *s, uint64_t lo, uint64_t hi, const struct scan_options *o,
	     struct scan_result *out, struct mt_error *err)
{
	static const struct scan_options defaults;
	if (!o)
		o = &defaults;
	scan_result_free(out);
	out->lo = lo;
	out->hi = hi;
	if (hi <= lo)
		return mt_error_set(err, MT_EXIT_USAGE, 0, "empty range to scan for");
	double t0 = clock_mono();
	struct scan_state st = { .s = s, .o = o, .out = out };
	st.chunk = o->chunk_size ? (o->chunk_size + 7) & ~(size_t)7 : SCAN_CHUNK_DEFAULT;
	st.max_refs = o->max_refs ? o->max_refs : SCAN_MAX_REFS_DEFAULT;
	scan_reader_init(&st.rd, s->pid);
	st.buf = aligned_alloc(64, (st.chunk + 63) & ~(size_t)63);
	st.idx = malloc(4096 * sizeof(*st.idx));
	int rc = 0;
	if (!st.buf || !st.idx) {
		rc = mt_error_set(err, MT_EXIT_FAILURE, ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < s->n_regions; i++)
		if (scan_region_wanted(&s->regions[i]))
			st.total += mt_region_size(&s->regions[i]);
	for (size_t i = 0; i < s->n_regions; i++) {
		if (!scan_region_wanted(&s->regions[i])) {
			out->excluded_regions++;
			continue;
		}
		out->scanned_regions++;
		int r = scan_region(&st, (long)i, err);
		if (r < 0) {
			rc = -1;
			goto done;
		}
		if (r > 0) {
			out->cancelled = true;
			break;
		}
	}
	if (!out->cancelled && !o->no_attribution)
		attribute_all(&st);
	if (make_groups(out) < 0)
		rc = mt_error_set(err, MT_EXIT_FAILURE, ENOMEM, "out of memory");
done:
	out->seconds = clock_mono() - t0;
	free(st.buf);
	free(st.idx);
	scan_reader_close(&st.rd);
	return rc;
}

long scan_present(struct scan_reader *r, uint64_t start, uint64_t end, struct scan_span *vec,
		  size_t n, uint64_t *walk_end)
{
	struct mt_page_region runs[RUNS];
	long k = populated(r, start, end, runs, n < RUNS ? n : RUNS, walk_end);
	for (long i = 0; i < k; i++) {
		vec[i].start = runs[i].start < start ? start : runs[i].start;
		vec[i].end = runs[i].end > end ? end : runs[i].end;
		vec[i].swapped = !(runs[i].categories & MT_PAGE_IS_PRESENT);
	}
	return k;
}
