/*
 * leaks.h - chunks nothing reaches: leaks found by reachability, as
 * VMware's chap defines them, on a live process (docs/heap.md).
 *
 * Roots: every thread's registers (read while frozen), each live stack
 * from its thread's stack pointer less the 128-byte red zone up to the
 * end of its region (static TLS sits there, above the stack), the
 * writable pages of every module (.data, .bss), and anonymous memory that
 * is not malloc's (the main thread's TLS, other allocators' pools).  A
 * word is a possible pointer when it is 8-aligned and points anywhere
 * inside a chunk in use (interior pointers count).  A chunk reached from
 * a root, directly or through other reached chunks, is anchored; the
 * others are leaked; a leaked chunk no other leaked chunk points to is
 * unreferenced (the head of a leaked structure).
 *
 * Shared chunks (the double-free shape): a chunk that two or more objects
 * of one class point to from the same offset.
 */
#ifndef MEMTOP_LEAKS_H
#define MEMTOP_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "memtop/census.h"
#include "memtop/error.h"
#include "memtop/freeze.h"
#include "memtop/nodes.h"
#include "memtop/present.h"
#include "memtop/snapshot.h"

#define LEAKS_EXAMPLES 5
#define LEAKS_SHARED_MAX 100   /* shared chunks listed */
#define LEAKS_HOLDERS_MAX 16   /* holders listed per shared chunk */

/* Per chunk: leaked and unreferenced, anchored, or leaked but pointed to
 * by another leaked chunk. */
enum leaks_state { LEAKS_UNREFERENCED = 0, LEAKS_ANCHORED = 1, LEAKS_REFERENCED = 2 };

/*
 * chap's "patterns", seen from the words that point to a chunk: a pointer
 * to an unnamed chunk's first byte followed by two pointers into the same
 * chunk, begin <= end <= capacity end, the capacity filling the chunk (as
 * malloc rounds it), is a std::vector's buffer; followed by a length and a
 * capacity of at least 16 (libstdc++ keeps shorter strings inside the
 * object) with length <= capacity and capacity + 1 filling the chunk, a
 * std::string's body (or another {pointer, length, capacity} buffer of
 * that shape: the name says what the shape is).
 *
 * And from a chunk's own words, checked against its neighbours' (nodes.h):
 * a std::list node ({next, prev} with next->prev and prev->next the node),
 * a std::map or std::set node ({color, parent, left, right}, each child's
 * parent the node, its parent pointing back to it).
 */
enum leaks_pattern {
	LEAKS_PATTERN_NONE,
	LEAKS_PATTERN_VECTOR,
	LEAKS_PATTERN_STRING,
	LEAKS_PATTERN_LIST_NODE,
	LEAKS_PATTERN_MAP_NODE,
	LEAKS_PATTERNS
};

/* A chunk shaped like a list or map node (nodes.h), kept small: a link
 * that points at a chunk's first byte is read back from the graph; the
 * others (to a sentinel or header inside an object, a global, a stack)
 * are kept in leaks.links. */
struct leaks_node {
	uint32_t chunk;
	uint8_t kind;          /* enum nodes_kind */
	uint8_t seen;          /* nodes_cand.seen: back-pointers found */
	uint8_t own;           /* bit s: link slot s is in leaks.links */
};

struct leaks_link {
	uint64_t value;
	uint32_t node;         /* index in leaks.nodes */
	uint32_t slot;
};

/* A word outside the heap that a node candidate needs to see. */
struct leaks_expect {
	uint64_t at;
	uint32_t node;         /* index in leaks.nodes */
	uint32_t bit;          /* its nodes_cand.seen bit */
};

struct leaks_group {
	const char *name;      /* class, or NULL: by size */
	uint64_t size;         /* usable size when unnamed */
	uint64_t count, bytes;
	uint64_t unreferenced;
	uint64_t examples[LEAKS_EXAMPLES]; /* user addresses, unreferenced first */
	size_t n_examples;
};

struct leaks_holder {
	uint64_t addr;         /* the holding object (user address) */
	uint32_t cls;          /* its class (census names) */
	uint32_t offset;       /* where in it the pointer is */
};

struct leaks_shared {
	uint64_t chunk;        /* the shared chunk (user address) */
	uint32_t cls;          /* its class, or CENSUS_UNNAMED */
	struct leaks_holder holders[LEAKS_HOLDERS_MAX];
	size_t n_holders;
	uint64_t holders_total;
};

/* Code that was unmapped (a library after dlclose), given by the caller:
 * the words still pointing into it are counted while the heap and the
 * roots are read, with a few of the places holding them. */
#define LEAKS_DEPARTED_MAX 16
#define LEAKS_DEPARTED_EXAMPLES 4
struct leaks_departed {
	uint64_t lo, hi;                  /* in */
	uint64_t hits;                    /* out: words pointing into it */
	uint64_t where[LEAKS_DEPARTED_EXAMPLES]; /* out: addresses holding them */
	unsigned n_where;
};

struct leaks {
	uint64_t count, bytes;             /* leaked chunks, usable bytes */
	uint64_t unreferenced_count, unreferenced_bytes;
	struct leaks_group *groups;        /* largest bytes first */
	size_t n_groups;
	struct leaks_shared *shared;
	size_t n_shared;
	uint64_t shared_total;             /* shared chunks found */
	uint64_t root_bytes;               /* root bytes read */
	uint64_t heap_bytes;               /* chunk bytes read */
	size_t threads;                    /* threads whose registers were read */
	double seconds;                    /* reading and marking */
	struct leaks_departed departed[LEAKS_DEPARTED_MAX]; /* in: lo, hi; out: hits */
	size_t n_departed;
	uint8_t *state;                    /* per census chunk: enum leaks_state */
	uint8_t *pattern;                  /* per census chunk: enum leaks_pattern */
	/* The heap's graph, read while frozen, walked after (leaks.c). */
	uint32_t *edges, *offs;
	size_t n_edges;
	size_t *eoff;
	uint32_t *stack;
	size_t n_stack, cap_stack;
	/* Chunks shaped like list or map nodes, by chunk, and their links
	 * that the graph does not give; the addresses outside the heap where
	 * their neighbours' words must be (read with the roots); the chunk
	 * index, kept to find the rest after. */
	struct leaks_node *nodes;
	size_t n_nodes;
	struct leaks_link *links;
	size_t n_links;
	struct leaks_expect *expect;
	size_t n_expect;
	struct leaks_index *ix;
};

void leaks_init(struct leaks *l);
void leaks_free(struct leaks *l);

/*
 * Read what the leak search needs while s->pid is frozen (by fz, the
 * calling thread's freeze; NULL: registers are not read): the graph of
 * c's chunks (one thread per CPU) and the roots, through pr.  Returns 0
 * or -1 with err set.
 */
int leaks_run(struct leaks *l, const struct census *c, const struct mt_snapshot *s,
	      struct present *pr, const struct freeze *fz, struct mt_error *err);

/* After the target is released, before census_classes(): name the unnamed
 * chunks the patterns recognised ("std::vector buffer", "std::string
 * body", "list node", "std::map/set node").  0 or -ENOMEM. */
int leaks_patterns(struct leaks *l, struct census *c);

/* After the target is released: mark through the graph, find the
 * unreferenced heads and the shared chunks, group the leaked ones and set
 * the leaked counts of c's classes (census_classes() first).  0 or
 * -ENOMEM. */
int leaks_report(struct leaks *l, struct census *c);

#endif
