/*
 * scan.c - find the words of a target that point into a range, and say
 * who holds each (scan.h).
 *
 * The scan streams: each chunk is matched right after it is read, while
 * it is still in cache.  The match loop tests whole blocks of words with
 * a branch-free OR of one unsigned subtract-and-compare per word, and
 * only a block that holds a match is looked at word by word.
 */
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "memtop/arch.h"
#include "memtop/census.h"
#include "memtop/clock.h"
#include "memtop/pages.h"
#include "memtop/present.h"
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
	return mt_error_set(err, MT_ERR_USAGE, 0,
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
		return mt_error_set(err, MT_ERR_USAGE, 0,
				    "--refs: 0x%llx is not mapped in process %d "
				    "(give START-END to look for pointers into unmapped memory)",
				    (unsigned long long)spec->start, s->pid);
	*lo = s->regions[i].start;
	*hi = s->regions[i].end;
	return 0;
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
#ifdef __SANITIZE_THREAD__
/* ThreadSanitizer instruments the ifunc resolver, which the dynamic
 * linker runs before TSan's runtime exists: one plain version there. */
#define BLOCK_CLONES
#else
#define BLOCK_CLONES __attribute__((target_clones("avx2", "default")))
#endif
BLOCK_CLONES
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
	free(r->points_to);
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

/* ---- the scan proper ------------------------------------------------------------ */

/*
 * A scan runs in two phases while the target stands still.  The planner
 * (the calling thread) asks the page tables which pages of each region
 * are there and cuts what must be read into jobs of at most a chunk; then
 * every core takes jobs off the list, reads and matches.  Jobs are taken
 * in address order, so each worker's references come in address order
 * and the first max_refs of all of them are among the first max_refs of
 * each.
 */
struct scan_job {
	long region;
	uint64_t from, to;
	bool from_file;  /* never written private file pages: read the file */
};

/* What a worker takes: one job, or up to BATCH small memory jobs read by
 * one process_vm_readv (a process of 60,000 small mappings is 45,000
 * jobs of a page or two: one system call each would double the read). */
#define BATCH 64

struct scan_batch {
	size_t first, n;
	uint64_t bytes;
};

struct scan_worker {
	struct scan_state *st;
	struct pages pg;
	uint64_t *buf;
	uint32_t *idx;
	struct scan_ref *refs;
	size_t n_refs, cap_refs;
	uint64_t refs_total, internal, scanned, file_bytes;
	int rc;          /* 0, or -errno that ends the scan (ESRCH, EPERM, ENOMEM) */
	pthread_t thread;
	bool started;
};

struct plan_file {
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	bool may_point;
};

struct scan_state {
	const struct mt_snapshot *s;
	const struct scan_options *o;
	struct scan_result *out;
	struct pages pg;            /* the planner's and attribution's reader */
	size_t chunk;
	size_t max_refs;
	struct scan_job *jobs;
	size_t n_jobs, cap_jobs;
	struct scan_batch *batches;
	size_t n_batches, cap_batches;
	_Atomic size_t next_job;    /* the next batch to take */
	_Atomic uint64_t done;      /* bytes of jobs finished */
	uint64_t total;
	_Atomic bool stop;          /* cancelled, or a worker failed */
	_Atomic bool *skipped;      /* per region: a read fell short */
	struct plan_file *files;    /* file_may_point's answers, by file */
	size_t n_files, cap_files;
};

static int add_job(struct scan_state *st, long ri, uint64_t from, uint64_t to, bool file)
{
	while (from < to) {
		uint64_t end = to - from > st->chunk ? from + st->chunk : to;
		if (VEC_RESERVE(st->jobs, st->cap_jobs, st->n_jobs, 256))
			return -ENOMEM;
		st->jobs[st->n_jobs++] = (struct scan_job){ ri, from, end, file };
		st->total += end - from;
		from = end;
	}
	return 0;
}

/*
 * Can the never-written pages of private file mapping r hold a pointer?
 * Their bytes are the file's.  Code is not data: no (reading a large
 * program's untouched text from disk would only stretch the stop).  An
 * image loaded at an address of the loader's choosing (a PIE or a shared
 * library, ELF type ET_DYN): no, every word that points into the process
 * had to be relocated, and the page holding it was written then.  A
 * fixed-address executable (ET_EXEC, non-PIE): yes, the linker wrote
 * absolute addresses into the file (static tables of pointers, globals
 * initialised with an address).  Any other file (data mapped
 * MAP_PRIVATE): whatever the program wrote into it, so yes.
 */
static bool file_may_point(struct scan_state *st, const struct mt_region *r)
{
	if (!pages_file_backed(r) || (r->perms & MT_PERM_X))
		return false;
	for (size_t i = 0; i < st->n_files; i++)
		if (st->files[i].inode == r->inode && st->files[i].dev_major == r->dev_major &&
		    st->files[i].dev_minor == r->dev_minor)
			return st->files[i].may_point;
	if (VEC_RESERVE(st->files, st->cap_files, st->n_files, 32))
		return true;
	struct plan_file *f = &st->files[st->n_files++];
	*f = (struct plan_file){ r->inode, r->dev_major, r->dev_minor, true };
	unsigned char eh[18];
	int fd = pages_file_open(&st->pg, r);
	if (fd >= 0 && pread(fd, eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    !memcmp(eh, ELFMAG, SELFMAG) && eh[EI_DATA] == ELFDATA2LSB)
		f->may_point = (eh[16] | eh[17] << 8) != ET_DYN;
	if (fd >= 0)
		close(fd);
	return f->may_point;
}

/* The part [from, to) of region ri that is not in the page tables. */
static int plan_absent(struct scan_state *st, long ri, uint64_t from, uint64_t to)
{
	if (from >= to)
		return 0;
	if (file_may_point(st, &st->s->regions[ri]))
		return add_job(st, ri, from, to, true);
	st->out->absent_bytes += to - from;
	return 0;
}

#define RUNS 256

/* [from, to) of region ri is in state (0: absent, or a run's state). */
static int plan_part(struct scan_state *st, size_t ri, uint64_t from, uint64_t to, int state)
{
	if (state == 0)
		return plan_absent(st, (long)ri, from, to);
	if (state == PAGES_SWAPPED && !st->o->scan_swapped) {
		st->out->swapped_bytes += to - from;
		return 0;
	}
	return add_job(st, (long)ri, from, to, false);
}

/*
 * Give [from, to), all in one state, to the regions it overlaps, from
 * *ri on (the pieces come in address order, so a region left behind is
 * done).  Regions not scanned take nothing.
 */
static int cover(struct scan_state *st, size_t *ri, uint64_t from, uint64_t to, int state)
{
	const struct mt_snapshot *s = st->s;
	while (*ri < s->n_regions && from < to) {
		const struct mt_region *r = &s->regions[*ri];
		if (r->end <= from) {
			(*ri)++;
			continue;
		}
		if (r->start >= to)
			break;
		if (scan_region_wanted(r)) {
			uint64_t a = from > r->start ? from : r->start;
			uint64_t b = to < r->end ? to : r->end;
			int rc = plan_part(st, *ri, a, b, state);
			if (rc < 0)
				return rc;
		}
		if (r->end > to)
			break;
		(*ri)++;
	}
	return 0;
}

/*
 * Walk the page tables over [start, end) and give every piece to the
 * regions from *ri on: the runs of present or swapped pages, and the
 * absent stretches between them.
 */
static int plan_span(struct scan_state *st, size_t *ri, uint64_t start, uint64_t end)
{
	struct pages_run runs[RUNS];
	uint64_t at = start;
	while (at < end) {
		uint64_t walk_end;
		long k = pages_runs(&st->pg, at, end, runs, RUNS, &walk_end);
		if (k < 0)
			return (int)k;
		int rc = 0;
		for (long i = 0; i < k && rc == 0; i++) {
			uint64_t from = runs[i].start < at ? at : runs[i].start;
			uint64_t to = runs[i].end > end ? end : runs[i].end;
			rc = cover(st, ri, at, from, 0);
			if (rc == 0 && from < to)
				rc = cover(st, ri, from, to, (int)runs[i].state);
			if (to > at)
				at = to;
		}
		uint64_t stop = walk_end < end ? walk_end : end;
		if (rc == 0 && at < stop)
			rc = cover(st, ri, at, stop, 0);
		if (rc < 0)
			return rc;
		if (stop > at)
			at = stop;
	}
	return 0;
}

static int push_ref(struct scan_worker *w, uint64_t addr, uint64_t value, long region,
		    uint64_t region_start)
{
	if (VEC_RESERVE(w->refs, w->cap_refs, w->n_refs, 64))
		return -ENOMEM;
	struct scan_ref *ref = &w->refs[w->n_refs++];
	memset(ref, 0, sizeof(*ref));
	ref->addr = addr;
	ref->value = value;
	ref->region = region;
	ref->region_offset = addr - region_start;
	ref->frame_index = -1;
	return 0;
}

/* Match one chunk of words read at base. */
static int match_chunk(struct scan_worker *w, long ri, uint64_t base, const uint64_t *v,
		       size_t words)
{
	const struct scan_result *out = w->st->out;
	size_t from = 0;
	while (from < words) {
		size_t k = scan_match(v + from, words - from, out->lo, out->hi, w->idx, 4096);
		for (size_t m = 0; m < k; m++) {
			size_t i = from + w->idx[m];
			uint64_t addr = base + 8 * i;
			if (addr - out->lo < out->hi - out->lo && !w->st->o->include_internal) {
				w->internal++;
				continue;
			}
			w->refs_total++;
			if (w->n_refs < w->st->max_refs &&
			    push_ref(w, addr, v[i], ri, w->st->s->regions[ri].start) < 0)
				return -ENOMEM;
		}
		if (k < 4096)
			break;
		from += w->idx[k - 1] + 1;
	}
	return 0;
}

/* Read and match one job; a short read marks the region skipped. */
static int run_job(struct scan_worker *w, const struct scan_job *j)
{
	const struct mt_region *r = &w->st->s->regions[j->region];
	size_t want = (size_t)(j->to - j->from);
	long n = j->from_file ? pages_read_file(&w->pg, r, j->from, w->buf, want)
			      : pages_read_present(&w->pg, j->from, w->buf, want);
	/* The process is gone, or its memory may not be read: the scan ends.
	 * A file that cannot be opened only leaves its pages unread. */
	if (n == -ESRCH || (!j->from_file && (n == -EPERM || n == -EACCES)))
		return (int)n;
	if (n <= 0 || (size_t)n < want)
		w->st->skipped[j->region] = true; /* unmapped or shrunk since the plan */
	if (n <= 0)
		return 0;
	if (match_chunk(w, j->region, j->from, w->buf, (size_t)n / 8) < 0)
		return -ENOMEM;
	w->scanned += (uint64_t)n;
	if (j->from_file)
		w->file_bytes += (uint64_t)n;
	return 0;
}

/* The jobs of batch b: one read for all of them; from the first that
 * fell short (process_vm_readv stops there), one at a time. */
static int run_batch(struct scan_worker *w, const struct scan_batch *b)
{
	const struct scan_job *j = &w->st->jobs[b->first];
	if (b->n == 1)
		return run_job(w, j);
	struct iovec local[BATCH], remote[BATCH];
	size_t off = 0;
	for (size_t k = 0; k < b->n; k++) {
		size_t len = (size_t)(j[k].to - j[k].from);
		local[k] = (struct iovec){ (char *)w->buf + off, len };
		remote[k] = (struct iovec){ (void *)(uintptr_t)j[k].from, len };
		off += len;
	}
	long got = pages_readv(&w->pg, local, remote, b->n);
	if (got == -ESRCH || got == -EPERM || got == -EACCES)
		return (int)got;
	off = 0;
	for (size_t k = 0; k < b->n; k++) {
		size_t len = (size_t)(j[k].to - j[k].from);
		if (got < 0 || (size_t)got < off + len) {
			for (; k < b->n; k++) {
				int rc = run_job(w, &j[k]);
				if (rc < 0)
					return rc;
			}
			return 0;
		}
		if (match_chunk(w, j[k].region, j[k].from, (const uint64_t *)local[k].iov_base,
				len / 8) < 0)
			return -ENOMEM;
		w->scanned += len;
		off += len;
	}
	return 0;
}

/* Group the jobs into batches: small memory jobs together. */
static int make_batches(struct scan_state *st)
{
	for (size_t i = 0; i < st->n_jobs; i++) {
		const struct scan_job *j = &st->jobs[i];
		uint64_t len = j->to - j->from;
		struct scan_batch *last = st->n_batches ? &st->batches[st->n_batches - 1] : NULL;
		if (last && !j->from_file && !st->jobs[last->first].from_file && last->n < BATCH &&
		    last->bytes + len <= st->chunk) {
			last->n++;
			last->bytes += len;
			continue;
		}
		if (VEC_RESERVE(st->batches, st->cap_batches, st->n_batches, 256))
			return -ENOMEM;
		st->batches[st->n_batches++] = (struct scan_batch){ i, 1, len };
	}
	return 0;
}

/* Take jobs until none is left or the scan stops.  The calling thread
 * (main) reports progress, as the caller's callback is not thread-safe. */
static void work(struct scan_worker *w, bool main)
{
	struct scan_state *st = w->st;
	while (!st->stop) {
		size_t i = atomic_fetch_add(&st->next_job, 1);
		if (i >= st->n_batches)
			break;
		const struct scan_batch *b = &st->batches[i];
		w->rc = run_batch(w, b);
		uint64_t done = atomic_fetch_add(&st->done, b->bytes) + b->bytes;
		if (w->rc < 0) {
			st->stop = true;
			break;
		}
		if (main && st->o->progress &&
		    st->o->progress(st->o->progress_arg, done, st->total)) {
			st->out->cancelled = true;
			st->stop = true;
		}
	}
}

static void *worker_main(void *arg)
{
	work(arg, false);
	return NULL;
}

static int worker_init(struct scan_worker *w, struct scan_state *st)
{
	memset(w, 0, sizeof(*w));
	w->st = st;
	w->pg.pagemap_fd = w->pg.mem_fd = w->pg.file_fd = -1;
	int rc = pages_open(&w->pg, st->s->pid, st->s);
	if (rc < 0)
		return rc;
	w->buf = aligned_alloc(64, (st->chunk + 63) & ~(size_t)63);
	w->idx = malloc(4096 * sizeof(*w->idx));
	return w->buf && w->idx ? 0 : -ENOMEM;
}

static void worker_free(struct scan_worker *w)
{
	pages_close(&w->pg);
	free(w->buf);
	free(w->idx);
	free(w->refs);
}

static int by_addr(const void *pa, const void *pb)
{
	const struct scan_ref *x = pa, *y = pb;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* The workers' references, in address order, the first max_refs. */
static int merge_refs(struct scan_state *st, struct scan_worker *w, size_t n)
{
	struct scan_result *out = st->out;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		total += w[i].n_refs;
		out->refs_total += w[i].refs_total;
		out->internal += w[i].internal;
		out->scanned_bytes += w[i].scanned;
		out->file_bytes += w[i].file_bytes;
	}
	out->refs = malloc((total ? total : 1) * sizeof(*out->refs));
	if (!out->refs)
		return -ENOMEM;
	out->cap_refs = total ? total : 1;
	for (size_t i = 0; i < n; i++) {
		if (w[i].n_refs)
			memcpy(out->refs + out->n_refs, w[i].refs,
			       w[i].n_refs * sizeof(*w[i].refs));
		out->n_refs += w[i].n_refs;
	}
	if (n > 1)
		qsort(out->refs, out->n_refs, sizeof(*out->refs), by_addr);
	if (out->n_refs > st->max_refs)
		out->n_refs = st->max_refs;
	return 0;
}

static size_t worker_count(const struct scan_state *st)
{
	long cpus = st->o->threads ? (long)st->o->threads : sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? (size_t)cpus : 1;
	if (n > SCAN_MAX_THREADS)
		n = SCAN_MAX_THREADS;
	size_t units = st->n_batches ? st->n_batches : st->n_jobs;
	if (n > units)
		n = units ? units : 1;
	return n;
}

static int read_error(const struct scan_state *st, int e, struct mt_error *err)
{
	if (e == -ESRCH)
		return mt_error_set(err, MT_ERR_EXITED, ESRCH,
				    "process %d exited during the scan", st->s->pid);
	if (e == -EPERM || e == -EACCES)
		return mt_error_set(err, MT_ERR_PERM, -e,
				    "cannot read the memory of process %d: %s", st->s->pid,
				    strerror(-e));
	return mt_error_set(err, MT_ERR_OTHER, -e, "scan of process %d: %s", st->s->pid,
			    strerror(-e));
}

/* Phase two: every worker, the caller's thread among them. */
static int run_workers(struct scan_state *st, struct mt_error *err)
{
	size_t n = worker_count(st);
	struct scan_worker *w = calloc(n, sizeof(*w));
	if (!w)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	int rc = 0;
	size_t ready = 0;
	for (; ready < n && rc == 0; ready++)
		rc = worker_init(&w[ready], st);
	for (size_t i = 1; i < n && rc == 0; i++)
		w[i].started = pthread_create(&w[i].thread, NULL, worker_main, &w[i]) == 0;
	if (rc == 0)
		work(&w[0], true);
	for (size_t i = 1; i < n; i++)
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = w[i].rc;
	st->out->threads = n;
	if (rc == 0 && merge_refs(st, w, n) < 0)
		rc = -ENOMEM;
	for (size_t i = 0; i < ready; i++)
		worker_free(&w[i]);
	free(w);
	return rc < 0 ? read_error(st, rc, err) : 0;
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
	struct anon_cache *anons;
	size_t n_anons;
};

/* The mmapped chunks of an anonymous region, found once, past memory
 * that is not malloc's too (census_next_mmapped) when the region holds at
 * most ANON_SEARCH_MAX present bytes: the search reads a word pair per
 * present page while the target is stopped, and a process's own big
 * buffers hold no chunk (python's object arenas merged with its large
 * objects are a few MiB). */
#define ANON_SEARCH_MAX (64u << 20)
struct anon_cache {
	long region;
	uint64_t *starts; /* chunk headers, in address order */
	size_t n, cap;
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

/* The walk of the heap holding region ri (from its first mapping to its
 * last), done once.  report: its walk error goes to the result (the
 * heaps holding references; the others are only walked for their free
 * lists). */
static struct heap_cache *get_heap(struct attrib *a, long ri, bool report)
{
	const struct mt_snapshot *s = a->st->s;
	while (ri > 0 && snapshot_heap_continues(s, (size_t)ri - 1))
		ri--;
	size_t last = (size_t)ri;
	while (snapshot_heap_continues(s, last))
		last++;
	struct heap_cache *h = NULL;
	for (size_t i = 0; i < a->n_heaps && !h; i++)
		if (a->heaps[i].region == ri)
			h = &a->heaps[i];
	const struct mt_region *r = &s->regions[ri];
	const uint64_t end = s->regions[last].end;
	if (!h) {
		struct heap_cache *v = realloc(a->heaps, (a->n_heaps + 1) * sizeof(*v));
		if (!v)
			return NULL;
		a->heaps = v;
		h = &a->heaps[a->n_heaps++];
		memset(h, 0, sizeof(*h));
		h->region = ri;
		bool main_arena = strcmp(r->path, "[heap]") == 0;
		h->rc = heapwalk_build(&h->heap, r->start, end, main_arena, pages_read_cb,
				       &a->st->pg);
	}
	if (report && !h->reported && h->rc == 0 && h->heap.stopped_at) {
		char msg[256];
		snprintf(msg, sizeof(msg), "heap 0x%llx-0x%llx: %s",
			 (unsigned long long)r->start, (unsigned long long)end, h->heap.error);
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
	if (heapwalk_freeset_build(&a->freeset, v, n, pages_read_cb, &a->st->pg) == 0 &&
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
	c->rc = unwind_thread(tid, get_map(a), &a->st->pg, &c->st);
	return c;
}

static void attach_class(struct attrib *a, struct scan_ref *ref)
{
	uint64_t vptr;
	if (pages_read(&a->st->pg, ref->object.user, &vptr, sizeof(vptr)) != sizeof(vptr))
		return;
	struct symbols_map *m = get_map(a);
	char name[512];
	if (m && symbols_class_of(m, a->st->s, vptr, pages_read_cb, &a->st->pg, name,
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
	if (heapwalk_find(&h->heap, ref->addr, &ref->object, pages_read_cb, &a->st->pg) == 1) {
		ref->has_object = true;
		ref->object.free_list = heapwalk_freeset_find(&a->freeset, ref->object.chunk);
		if (ref->object.free_list != HEAPWALK_FREE_NONE)
			ref->object.in_use = false;
		ref->stale_free = !ref->object.in_use;
		attach_class(a, ref);
	}
}

static void find_anon_chunks(struct attrib *a, const struct mt_region *r, struct anon_cache *ac)
{
	struct present pr;
	present_init(&pr, &a->st->pg);
	uint64_t at = r->start;
	if (present_add(&pr, r->start, r->end) < 0)
		at = r->end;
	bool search = present_bytes(&pr, r->start, r->end) <= ANON_SEARCH_MAX;
	while (at < r->end) {
		struct heapwalk_chunk hc;
		uint64_t cur = at;
		if (heapwalk_mmapped_next(r->end, &cur, &hc, present_read_cb, &pr) == 1) {
			if (VEC_RESERVE(ac->starts, ac->cap, ac->n, 16))
				break;
			ac->starts[ac->n++] = at;
			at = cur;
		} else if (!search || census_next_mmapped(&pr, at + 4096, r->end, &at) < 0) {
			break;
		}
	}
	present_free(&pr);
}

static struct anon_cache *get_anon(struct attrib *a, long ri)
{
	for (size_t i = 0; i < a->n_anons; i++)
		if (a->anons[i].region == ri)
			return &a->anons[i];
	struct anon_cache *v = realloc(a->anons, (a->n_anons + 1) * sizeof(*v));
	if (!v)
		return NULL;
	a->anons = v;
	struct anon_cache *ac = &a->anons[a->n_anons++];
	*ac = (struct anon_cache){ .region = ri };
	find_anon_chunks(a, &a->st->s->regions[ri], ac);
	return ac;
}

/* A word in an mmapped chunk: found from the region's start (the common
 * case, no search), else among the chunks past other memory. */
static void attribute_anon(struct attrib *a, struct scan_ref *ref)
{
	const struct mt_region *r = &a->st->s->regions[ref->region];
	int found = heapwalk_mmapped_find(r->start, r->end, ref->addr, &ref->object,
					  pages_read_cb, &a->st->pg);
	if (found == 0) {
		struct anon_cache *ac = get_anon(a, ref->region);
		size_t lo = 0, hi = ac ? ac->n : 0;
		while (lo < hi) { /* the last chunk starting at or below addr */
			size_t mid = lo + (hi - lo) / 2;
			if (ac->starts[mid] <= ref->addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo)
			found = heapwalk_mmapped_find(ac->starts[lo - 1], r->end, ref->addr,
						      &ref->object, pages_read_cb, &a->st->pg);
	}
	if (found == 1) {
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
	/* A leaf function may keep data in the red zone below its sp. */
	if (fi < 0 && c->st.n && ref->addr + RED_ZONE >= c->st.frames[0].sp)
		fi = 0;
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
	for (size_t i = 0; i < st->out->n_points_to; i++)
		attribute(&a, &st->out->points_to[i]);
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
	for (size_t i = 0; i < a.n_anons; i++)
		free(a.anons[i].starts);
	free(a.anons);
	symbols_map_free(&a.map);
	if (!st->o->symbols)
		symbols_cache_free(&a.own_cache);
}

/* What a small target points to: its words read as the target sees them
 * (pages_read: nothing faulted in; a page that cannot be read that way
 * is passed over), those whose value lies in a mapped region outside the
 * target kept with addr = value, to be attributed like a holder. */
static int read_points_to(struct scan_state *st)
{
	struct scan_result *out = st->out;
	uint64_t lo = (out->lo + 7) & ~(uint64_t)7;
	if (out->hi - out->lo > SCAN_POINTS_TO_MAX)
		return 0;
	out->points_to_read = true;
	for (uint64_t page = lo; page < out->hi; page = (page | 4095) + 1) {
		uint64_t w[512];
		uint64_t end = (page | 4095) + 1 < out->hi ? (page | 4095) + 1 : out->hi;
		long n = end - page >= 8 ? pages_read(&st->pg, page, w, (size_t)(end - page) & ~7ul)
					 : 0;
		for (long i = 0; i < n / 8; i++) {
			long ri = snapshot_find(st->s, w[i]);
			if (ri < 0 || w[i] - out->lo < out->hi - out->lo)
				continue;
			if (VEC_RESERVE(out->points_to, out->cap_points_to, out->n_points_to, 16))
				return -ENOMEM;
			struct scan_ref *ref = &out->points_to[out->n_points_to++];
			memset(ref, 0, sizeof(*ref));
			ref->addr = ref->value = w[i];
			ref->from = page + 8 * (uint64_t)i;
			ref->region = ri;
			ref->region_offset = w[i] - st->s->regions[ri].start;
			ref->frame_index = -1;
		}
	}
	return 0;
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

/* Phase one: which pages to read, in address order. */
/*
 * With PAGEMAP_SCAN, one walk over the whole span of the regions: a
 * process with 65,000 mappings costs a few hundred ioctls, not 65,000.
 * Reading pagemap entries instead, region by region: the entries of the
 * holes between them would be terabytes.
 */
static int plan(struct scan_state *st, struct mt_error *err)
{
	const struct mt_snapshot *s = st->s;
	size_t first = s->n_regions, last = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		if (!scan_region_wanted(&s->regions[i])) {
			st->out->excluded_regions++;
			continue;
		}
		st->out->scanned_regions++;
		if (first == s->n_regions)
			first = i;
		last = i;
	}
	int rc = 0;
	size_t ri = first;
	if (first == s->n_regions)
		return 0;
	if (pages_can_scan(&st->pg)) {
		rc = plan_span(st, &ri, s->regions[first].start, s->regions[last].end);
	} else {
		for (size_t i = first; i <= last && rc == 0; i++) {
			ri = i;
			if (scan_region_wanted(&s->regions[i]))
				rc = plan_span(st, &ri, s->regions[i].start, s->regions[i].end);
		}
	}
	return rc < 0 ? read_error(st, rc, err) : 0;
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
		return mt_error_set(err, MT_ERR_USAGE, 0, "empty range to scan for");
	double t0 = clock_mono();
	struct scan_state st = { .s = s, .o = o, .out = out };
	st.chunk = o->chunk_size ? (o->chunk_size + 7) & ~(size_t)7 : SCAN_CHUNK_DEFAULT;
	st.max_refs = o->max_refs ? o->max_refs : SCAN_MAX_REFS_DEFAULT;
	int rc = pages_open(&st.pg, s->pid, s);
	if (rc < 0) {
		rc = read_error(&st, rc, err);
		goto done;
	}
	st.pg.read_swapped = o->scan_swapped;
	st.skipped = calloc(s->n_regions ? s->n_regions : 1, sizeof(*st.skipped));
	if (!st.skipped) {
		rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = plan(&st, err)) < 0)
		goto done;
	if (make_batches(&st) < 0) {
		rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = run_workers(&st, err)) < 0)
		goto done;
	for (size_t i = 0; i < s->n_regions; i++)
		out->skipped_regions += st.skipped[i];
	if (!out->cancelled && read_points_to(&st) < 0) {
		rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		goto done;
	}
	if (!out->cancelled && !o->no_attribution)
		attribute_all(&st);
	if (make_groups(out) < 0)
		rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
done:
	out->seconds = clock_mono() - t0;
	free(st.jobs);
	free(st.batches);
	free(st.files);
	free(st.skipped);
	pages_close(&st.pg);
	return rc;
}

/* Copy up to SAMPLE bytes of the planned jobs: how fast one reader goes
 * on this target, this machine, now.  The fastest chunk tells it: on a
 * busy machine a preempted one would predict a stop that is not memtop's. */
#define SAMPLE (16u << 20)

static double sample_rate(struct scan_state *st)
{
	size_t len = st->chunk;
	void *buf = malloc(len);
	if (!buf)
		return 0;
	uint64_t got = 0;
	double best = 0, best_small = 0;
	for (size_t i = 0; i < st->n_jobs && got < SAMPLE; i++) {
		const struct scan_job *j = &st->jobs[i];
		size_t want = (size_t)(j->to - j->from);
		double t0 = clock_mono();
		long n = j->from_file
			? pages_read_file(&st->pg, &st->s->regions[j->region], j->from, buf, want)
			: pages_read_present(&st->pg, j->from, buf, want);
		double t = clock_mono() - t0;
		if (n <= 0)
			continue;
		got += (uint64_t)n;
		/* Below 64 KiB the call's own cost dominates: such chunks
		 * count only when there is nothing bigger. */
		double *b = n >= (64 << 10) ? &best : &best_small;
		if (t > 0 && (double)n / t > *b)
			*b = (double)n / t;
	}
	free(buf);
	return best ? best : best_small;
}

int scan_estimate(const struct mt_snapshot *s, const struct scan_options *o,
		  struct scan_estimate *e, struct mt_error *err)
{
	static const struct scan_options defaults;
	struct scan_result scratch;
	scan_result_init(&scratch);
	memset(e, 0, sizeof(*e));
	if (!o)
		o = &defaults;
	struct scan_state st = { .s = s, .o = o, .out = &scratch };
	st.chunk = SCAN_CHUNK_DEFAULT;
	int rc = pages_open(&st.pg, s->pid, s);
	if (rc < 0)
		return read_error(&st, rc, err);
	rc = plan(&st, err);
	if (rc == 0) {
		e->bytes = st.total;
		e->absent_bytes = scratch.absent_bytes;
		e->swapped_bytes = scratch.swapped_bytes;
		e->threads = (unsigned)worker_count(&st);
		e->rate = sample_rate(&st);
		if (e->rate > 0)
			e->stop_ms = 1000.0 * (double)e->bytes / (e->rate * e->threads);
	}
	free(st.jobs);
	free(st.files);
	pages_close(&st.pg);
	return rc;
}
