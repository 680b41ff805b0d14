/*
 * census.h - inside glibc's heap: every chunk of every arena counted,
 * objects named by class, free space per arena (docs/heap.md).
 *
 * census_run() walks, while the caller keeps the target frozen, the main
 * arena ([heap]), every heap of every thread arena (grouped into arenas
 * by heap_info.ar_ptr) and the chains of mmapped chunks at the start of
 * anonymous regions; follows the tcache and fastbin lists so that the
 * chunks sitting there count as free (heapwalk.h); and names each chunk in
 * use by its first word when that points to a C++ vtable (symbols.h:
 * _ZTV symbols, else RTTI, so stripped programs too), else by its size.
 * Only pages that exist are read (present.h).
 *
 * Chunks in use are kept (16 bytes each, sorted by address) for the leak
 * search (leaks.h).
 */
#ifndef MEMTOP_CENSUS_H
#define MEMTOP_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/error.h"
#include "memtop/present.h"
#include "memtop/snapshot.h"
#include "memtop/symbols.h"

#define CENSUS_UNNAMED 0x7fffffffu
#define CENSUS_MMAPPED 0x80000000u /* bit of census_chunk.cls */

struct census_chunk {
	uint64_t user;   /* what malloc returned: chunk + 16 */
	uint32_t units;  /* chunk size / 16 */
	uint32_t cls;    /* class index or CENSUS_UNNAMED, | CENSUS_MMAPPED */
};

static inline uint64_t census_chunk_size(const struct census_chunk *c)
{
	return (uint64_t)c->units * 16;
}

/* What malloc_usable_size() says: the user bytes. */
static inline uint64_t census_usable(const struct census_chunk *c)
{
	return census_chunk_size(c) - ((c->cls & CENSUS_MMAPPED) ? 16 : 8);
}

static inline uint32_t census_class(const struct census_chunk *c)
{
	return c->cls & ~CENSUS_MMAPPED;
}

struct census_arena {
	bool main;
	uint64_t start;        /* main: [heap]'s start; thread: its malloc_state */
	size_t n_heaps;
	uint64_t system;       /* bytes glibc got from the kernel (system_mem) */
	uint64_t overhead;     /* heap_info, malloc_state, alignment, fenceposts */
	uint64_t in_use;       /* chunk bytes (headers included) of chunks in use */
	uint64_t chunks_in_use;
	uint64_t free;         /* all free chunks: bins, tcache, fastbins, top */
	uint64_t tcache;       /* of free: in tcache bins */
	uint64_t fastbins;     /* of free: in fastbins */
	uint64_t top;          /* of free: the top chunk(s) */
	uint64_t largest_free; /* largest free chunk other than top */
	uint64_t free_chunks;  /* free chunks other than top */
	uint64_t trimmable;    /* existing pages malloc_trim() could give back */
	double fragmentation;  /* (free - top) / system */
};

/* A class, or (name NULL) the unnamed chunks of one usable size. */
struct census_class {
	const char *name;      /* demangled; NULL: unnamed */
	uint64_t size;         /* unnamed: the usable size; named: 0 */
	uint64_t count;
	uint64_t bytes;        /* usable bytes */
	int64_t delta_count;   /* since the baseline (census_delta) */
	int64_t delta_bytes;
	uint64_t leaked;       /* chunks found leaked (leaks.h) */
	uint64_t leaked_bytes;
};

struct census {
	pid_t pid;
	struct census_chunk *chunks; /* in use, sorted by user address */
	size_t n_chunks, cap_chunks;
	char **names;                /* class names by index */
	size_t n_names, cap_names;
	struct census_arena *arenas;
	size_t n_arenas;
	struct census_class *classes; /* by class and size, census_classes() */
	size_t n_classes;
	/* Where chunks are: each walked heap [start, end), each mmapped
	 * chunk, sorted (leaks.h finds the chunk of an address through it). */
	struct census_range {
		uint64_t start, end;
		int32_t arena; /* index in arenas; -1: an mmapped chunk */
	} *ranges;
	size_t n_ranges, cap_ranges;
	uint64_t in_use_bytes;   /* chunk bytes in use in arenas */
	uint64_t free_bytes;
	uint64_t mmapped_bytes;  /* mmapped chunks, mapping bytes (hblkhd) */
	uint64_t mmapped_chunks;
	uint64_t chunks_in_use;  /* n_chunks, also once chunks is dropped or not loaded */
	uint64_t chunks_total;   /* chunks walked, free ones and tops included */
	uint64_t bytes_read;     /* heap bytes read (existing pages) */
	uint64_t swapped_bytes;  /* swapped out in the regions looked at: not read */
	size_t n_tcaches;        /* tcache_perthread_structs found */
	char **walk_errors;
	size_t n_walk_errors;
	double seconds;          /* the walk, while frozen */
	const char *allocator;   /* not glibc: "jemalloc", "tcmalloc", ... */
};

void census_init(struct census *c);
void census_free(struct census *c);

/*
 * Before the freeze, with the maps read while the target runs: make the
 * array of chunks ready (allocated and touched), so that the kernel's
 * page faults of it are not paid while the target stands.  Optional.
 * 0 or -ENOMEM.
 */
int census_prepare(struct census *c, const struct mt_snapshot *s);

/*
 * Census of s->pid (classified; frozen by the caller), reading through
 * pr (present_add() is called for the heaps) and naming classes with m.
 * Returns 0 (walk errors are in c->walk_errors) or -1 with err set.
 */
int census_run(struct census *c, const struct mt_snapshot *s, struct present *pr,
	       const struct symbols_map *m, struct mt_error *err);

/* The index of class name (added when new), or CENSUS_UNNAMED when out
 * of memory. */
uint32_t census_name(struct census *c, const char *name);

/* Group the chunks by class and size into c->classes (largest bytes
 * first).  0 or -ENOMEM. */
int census_classes(struct census *c);

/* delta_* of c's classes against base's (a class absent from base grew
 * from zero); then order by delta_bytes, then bytes, largest first. */
void census_delta(struct census *c, const struct census *base);

/* The index in c->classes of the class named name, or (name NULL) of the
 * unnamed chunks of usable size size; -1 if there is none. */
long census_class_index(const struct census *c, const char *name, uint64_t size);

/* The last key of every order of classes (census_classes, leaks.h's
 * groups): named before unnamed, by name, unnamed by size. */
int census_cmp_kind(const char *xname, uint64_t xsize, const char *yname, uint64_t ysize);

/* A copy of from's classes (names included) into to, as a baseline for
 * census_delta.  0 or -ENOMEM. */
int census_copy_classes(struct census *to, const struct census *from);

/* The index of the in-use chunk whose user area [user, user + usable)
 * holds addr, or -1.  (Binary search; leaks.c has a faster index.) */
long census_find(const struct census *c, uint64_t addr);

/*
 * The first present page in [from, end) (page aligned) that starts an
 * mmapped chunk, into *out (end when none), reading only the first 16
 * bytes of present pages, in batches, and the headers of candidates.
 * For memory after something that is not malloc's: the kernel merges an
 * mmapped chunk's mapping with anonymous memory mapped right below it.
 * pr must hold [from, end).  0 or -ESRCH.
 */
int census_next_mmapped(struct present *pr, uint64_t from, uint64_t end, uint64_t *out);

/*
 * The allocator the process uses when it is not glibc's malloc:
 * "jemalloc", "tcmalloc", "mimalloc", "musl", "ASan" (by the modules
 * mapped), else NULL.
 */
const char *census_allocator(const struct mt_snapshot *s);

/*
 * The module, other than glibc's own, that defines malloc (a statically
 * linked jemalloc or tcmalloc, as Redis links one; a preloaded wrapper),
 * as its path, or NULL.  m's tables are the modules' symbols.
 */
const char *census_malloc_owner(const struct symbols_map *m);

#endif
