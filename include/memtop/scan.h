/*
 * scan.h - "who holds pointers into this range": the drill-down engine.
 *
 * scan_run() reads every scannable region of the target in chunks
 * (process_vm_readv, or pread of /proc/PID/mem where that is refused),
 * finds each 8-byte aligned word whose value lies in [lo, hi), and says
 * who holds it:
 *   - a glibc heap chunk (its user pointer and usable size, in use or
 *     free, tcache and fastbin chunks included: a word in a free chunk
 *     is a stale copy, stale_free) and, when its first word is a vtable
 *     pointer, its C++ class;
 *   - a global variable (symbol + offset) in an executable or library,
 *     .bss included;
 *   - a thread's stack: the thread, and when the target is frozen by the
 *     calling thread (options.freeze), the frame's function;
 *   - otherwise the region and the offset in it.
 * References are grouped by holding region, in address order.
 *
 * Not scanned (counted in excluded_regions): regions without read
 * permission, kernel regions ([vvar], [vsyscall], [vdso]...), driver
 * memory (/dev/... other than /dev/shm and /dev/zero, and anon_inode:...
 * mappings: reading a device may have side effects), and read-only file
 * mappings that are not executable images (they hold file bytes, not
 * live pointers).  Words
 * stored inside [lo, hi) itself are the target's own internal pointers:
 * they are counted in `internal` and only listed with include_internal.
 * The scan never faults a page into the target (pages.h): it reads only
 * the pages in the target's page tables, and never-written pages of
 * private file mappings from their files; the rest is counted
 * (absent_bytes, swapped_bytes), so a sparse 16 TiB reservation or an
 * untouched 1 GiB of shared memory costs microseconds and no RSS.
 *
 * Threading: scan_run() plans on the caller's thread, then reads and
 * matches on one thread per CPU (process_vm_readv needs no tracer), the
 * caller's among them, which calls progress after each of its chunks;
 * progress returning non-zero cancels the scan (the result holds what
 * was found so far, cancelled is set).  Attribution (heap walks,
 * unwinding) runs on the caller's thread: with a freeze, call scan_run()
 * from the thread that froze the target.
 *
 * One drill-down step is frozen_scan() (frozen.h): it warms the symbols,
 * freezes, reads the maps, runs scan_run() and releases the target.
 * res.groups[g] -> res.refs[first .. first + n), each a struct scan_ref;
 * next step: lo = ref.object.user, hi = lo + ref.object.size.
 */
#ifndef MEMTOP_SCAN_H
#define MEMTOP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"
#include "memtop/freeze.h"
#include "memtop/heapwalk.h"
#include "memtop/snapshot.h"
#include "memtop/symbols.h"
#include "memtop/unwind.h"

/* ---- TARGET specs: ADDR, START-END, START+LEN ------------------------ */

enum scan_spec_kind { SCAN_SPEC_ADDR, SCAN_SPEC_RANGE };

struct scan_spec {
	enum scan_spec_kind kind;
	uint64_t start;  /* ADDR, or the range's first byte */
	uint64_t end;    /* one past the range (RANGE only) */
};

/*
 * Parse TARGET: numbers are hex with 0x (or 0X) or decimal; START-END
 * needs END > START, START+LEN needs LEN > 0 and no overflow.  Errors are
 * MT_ERR_USAGE with a message naming the spec.
 */
int scan_parse_spec(const char *text, struct scan_spec *out, struct mt_error *err);

/*
 * The range to scan for: an ADDR becomes the region of s holding it
 * (MT_ERR_USAGE "not mapped" otherwise); a range is kept as it is (it
 * may be unmapped: stale pointers are worth finding).  *region is the
 * index of the region holding the start, or -1.
 */
int scan_resolve_spec(const struct mt_snapshot *s, const struct scan_spec *spec, uint64_t *lo,
		      uint64_t *hi, long *region, struct mt_error *err);

/* ---- the match loop --------------------------------------------------- */

/*
 * Indexes of the words of w[0..n) whose value v has lo <= v < hi, in
 * order, at most max of them.  Returns how many were written; when it
 * returns max, call again from the word after the last one.
 */
size_t scan_match(const uint64_t *w, size_t n, uint64_t lo, uint64_t hi, uint32_t *idx,
		  size_t max);

/* ---- the scan ---------------------------------------------------------- */

/* Progress: bytes scanned so far of total; return non-zero to cancel. */
typedef int (*scan_progress_fn)(void *arg, uint64_t done, uint64_t total);

#define SCAN_CHUNK_DEFAULT (1u << 20)
#define SCAN_MAX_REFS_DEFAULT 10000
#define SCAN_MAX_THREADS 16
#define SCAN_POINTS_TO_MAX (64u << 10)

struct scan_options {
	size_t chunk_size;        /* bytes per read; 0: SCAN_CHUNK_DEFAULT */
	size_t max_refs;          /* refs kept; 0: SCAN_MAX_REFS_DEFAULT */
	bool include_internal;    /* also list refs stored inside [lo, hi) */
	bool no_attribution;      /* addresses and regions only (fastest) */
	bool scan_swapped;        /* also read swapped-out pages (faults them in) */
	unsigned threads;         /* readers; 0: one per online CPU */
	const struct freeze *freeze; /* target frozen by this thread: unwind */
	struct symbols_cache *symbols; /* kept across scans; NULL: private */
	scan_progress_fn progress;
	void *progress_arg;
};

enum scan_holder {
	SCAN_HOLDER_REGION,  /* nothing better than region + offset */
	SCAN_HOLDER_HEAP,    /* a malloc chunk */
	SCAN_HOLDER_GLOBAL,  /* a symbol of an image */
	SCAN_HOLDER_STACK,   /* a thread's stack */
};

struct scan_ref {
	uint64_t addr;          /* where the pointer is stored */
	uint64_t value;         /* the pointer, in [lo, hi) */
	long region;            /* index of the holding region in the snapshot */
	uint64_t region_offset; /* addr - region start */
	enum scan_holder holder;
	/* Heap (holder HEAP): the enclosing chunk. */
	bool has_object;
	struct heapwalk_chunk object;
	const char *class_name; /* demangled C++ class, or NULL */
	/* Stored in a free chunk (one in a tcache bin or a fastbin, a chunk
	 * of a free bin, the top chunk): a stale copy left in freed memory,
	 * not a live reference.  object.free_list says which list. */
	bool stale_free;
	/* Image (holder GLOBAL): symbol (demangled) + offset, module path. */
	const char *symbol;     /* NULL if no symbol covers addr */
	uint64_t symbol_offset;
	const char *module;
	/* Stack (holder STACK). */
	int tid;                /* owning thread, 0 unknown */
	/* Below the thread's stack pointer (less the 128-byte red zone):
	 * dead stack, a stale copy rather than a live reference.  Known
	 * when the thread was unwound or its sp was read while blocked. */
	bool dead_stack;
	long frame_index;       /* -1: not unwound, or no frame holds it */
	const char *frame;      /* function of that frame, or NULL */
	uint64_t frame_offset;  /* ip - function start */
	/* A points_to entry (scan_result): where in the target the pointer
	 * is stored; addr is then the place it points at (= value), and the
	 * fields above say what is there, as they say who holds a ref. */
	uint64_t from;
};

/* Refs of one holding region: refs[first .. first + n). */
struct scan_group {
	long region;
	size_t first;
	size_t n;
};

struct scan_result {
	uint64_t lo, hi;
	struct scan_ref *refs;  /* in address order */
	size_t n_refs;
	size_t cap_refs;
	struct scan_group *groups;
	size_t n_groups;
	uint64_t refs_total;     /* found, also those past max_refs */
	uint64_t internal;       /* words inside [lo, hi) pointing into it */
	uint64_t scanned_bytes;
	/* Bytes not read because the target's page tables hold no page
	 * there: private memory never touched (zeros, or the shared zero
	 * page) and shared memory not mapped in (reading it would fault it
	 * in).  Never-written private file pages are not absent: they are
	 * read from the file (file_bytes, part of scanned_bytes). */
	uint64_t absent_bytes;
	uint64_t swapped_bytes;  /* swapped out, not read (unless scan_swapped) */
	uint64_t file_bytes;     /* of scanned_bytes, read from mapped files */
	unsigned threads;        /* readers that scanned */
	size_t scanned_regions;
	size_t excluded_regions; /* by the rules above */
	size_t skipped_regions;  /* unreadable (unmapped?) during the scan, wholly or partly */
	double seconds;
	bool cancelled;
	/* The backtraces of the frozen threads whose stacks hold a
	 * reference (frame_index of a ref indexes its thread's frames). */
	struct unwind_stack *stacks;
	size_t n_stacks;
	char **walk_errors;      /* "heap 0x...: walk stopped at 0x... (corrupt chunk)" */
	size_t n_walk_errors;
	/* What the target points to: its aligned words whose values lie in
	 * a mapped region (not in the target itself), in address order, each
	 * attributed at the place it points to.  Read (points_to_read) only
	 * when the target is at most SCAN_POINTS_TO_MAX bytes; pages not
	 * resident are not read. */
	struct scan_ref *points_to;
	size_t n_points_to, cap_points_to;
	bool points_to_read;
	char **strings;          /* names owned by the result */
	size_t n_strings;
	size_t cap_strings;
};

/* Would scan_run() read region r? */
bool scan_region_wanted(const struct mt_region *r);

/*
 * Scan s->pid (s classified by classify_run; its regions are what is
 * scanned) for words in [lo, hi) and attribute them.  out is reset
 * first; on success and on cancellation returns 0.  Errors: the target
 * exited (MT_ERR_EXITED), cannot be read (MT_ERR_PERM), out of memory.
 * Refs keep pointers into s (paths): keep s while using out.
 */
int scan_run(const struct mt_snapshot *s, uint64_t lo, uint64_t hi, const struct scan_options *o,
	     struct scan_result *out, struct mt_error *err);

/*
 * What a scan of s would cost, found without stopping it: the bytes it
 * would read (present pages, never-written file pages), the speed of one
 * reader measured by copying up to 16 MiB of them (its fastest chunk),
 * and so the time the target would stand still for the reading (freeze
 * and attribution come on top: a few milliseconds).  For a budget
 * (--max-stop, the screen's question before a big scan).
 */
struct scan_estimate {
	uint64_t bytes;
	uint64_t absent_bytes;
	uint64_t swapped_bytes;
	double rate;       /* bytes per second of one reader; 0: nothing to sample */
	unsigned threads;
	double stop_ms;
};

int scan_estimate(const struct mt_snapshot *s, const struct scan_options *o,
		  struct scan_estimate *e, struct mt_error *err);

void scan_result_init(struct scan_result *r);
void scan_result_free(struct scan_result *r);
/* The backtrace of thread tid in r, or NULL when it was not unwound. */
const struct unwind_stack *scan_result_stack(const struct scan_result *r, int tid);

#endif
