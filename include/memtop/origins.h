/*
 * origins.h - who mapped what: the call stacks of traced map and unmap
 * calls (trace.h), deduplicated, and which stack created each live
 * address range, grouped per file for the reports (docs/trace.md).
 *
 * Pure: the tracer (analysis/tracer.c) feeds events and stacks in; the
 * printers and the screen read groups out.
 */
#ifndef MEMTOP_ORIGINS_H
#define MEMTOP_ORIGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtop/snapshot.h"

#define ORIGINS_MAX_FRAMES 64

/* One frame; inlined frames come before the function they were inlined
 * into, at the same ip. */
struct mt_frame {
	uint64_t ip;
	const char *symbol;  /* demangled, "" if unknown (owned by the stack) */
	uint64_t offset;     /* ip - symbol start */
	const char *module;  /* path of the ELF file, "" if unknown */
	bool inlined;
};

struct mt_stack {
	struct mt_frame *frames; /* innermost first */
	uint32_t n;
	char *strings;           /* the frames' names, one block */
};

/* Every stack seen, id = index; never shrinks during a session. */
struct mt_stacks {
	struct mt_stack *v;
	size_t n;
	size_t cap;
};

void origins_stacks_init(struct mt_stacks *t);
void origins_stacks_free(struct mt_stacks *t);
/* Append st (ownership moves): 0 or -ENOMEM (st freed). */
int origins_stacks_add(struct mt_stacks *t, struct mt_stack *st);
/* Append every stack of src to dst, leaving src empty (its array kept):
 * 0 or -ENOMEM, when the stacks not appended are freed. */
int origins_stacks_move(struct mt_stacks *dst, struct mt_stacks *src);
void origins_stack_free(struct mt_stack *st);
/* Build a stack from parallel arrays; strings are copied. 0 or -ENOMEM. */
int origins_stack_build(struct mt_stack *st, const struct mt_frame *frames, uint32_t n);

/* The calls traced (trace.h's enum trace_call has the same values). */
enum mt_call { MT_CALL_MMAP, MT_CALL_MUNMAP, MT_CALL_MREMAP, MT_CALL_BRK, MT_CALL_SHMAT,
	       MT_CALL_SHMDT, MT_CALL_COUNT };

enum mt_tkind { MT_TEV_MAP, MT_TEV_UNMAP };

/* One traced change of the address space. */
struct mt_tevent {
	double time;       /* CLOCK_REALTIME, seconds */
	int tid;
	uint8_t call;      /* enum mt_call */
	uint8_t kind;      /* enum mt_tkind */
	uint64_t start;
	uint64_t len;      /* 0: unknown (shmat: the segment's size; shmdt's
			    * comes from the map before it, traced_fold) */
	int prot;          /* mmap, mremap: -1 if not known */
	int flags;         /* mmap, mremap: the call's MAP_* / MREMAP_* flags */
	int8_t shared;     /* the mapping: 1 shared, 0 private, -1 unknown */
	int fd;            /* mmap: -1 anonymous */
	char *path;        /* owned: the file at the time of the call, or NULL */
	long stack;        /* id in mt_stacks, -1 if none */
};

struct mt_tevents {
	struct mt_tevent *v;
	size_t n;
	size_t cap;
};

void origins_events_clear(struct mt_tevents *e);
void origins_events_free(struct mt_tevents *e);
/* Append a copy (path copied): 0 or -ENOMEM. */
int origins_events_push(struct mt_tevents *e, const struct mt_tevent *ev);

/* Live ranges and the stack that mapped each, sorted by start. */
struct mt_origin_range {
	uint64_t start;
	uint64_t end;
	long stack;
};

struct mt_origins {
	struct mt_origin_range *v;
	size_t n;
	size_t cap;
};

void origins_init(struct mt_origins *o);
void origins_free(struct mt_origins *o);
/* Fold one event in: a map claims its range, an unmap frees it.  An
 * event of unknown length covers the snapshot region at its start, if s
 * (may be NULL) has one.  0 or -ENOMEM. */
int origins_apply(struct mt_origins *o, const struct mt_tevent *ev, const struct mt_snapshot *s);
/* The stack that mapped addr, -1 if untraced. */
long origins_stack_of(const struct mt_origins *o, uint64_t addr);

/* Live regions of one backing grouped by origin. */
struct mt_origin_group {
	uint32_t dev_major;
	uint32_t dev_minor;
	uint64_t inode;      /* 0: private anonymous memory */
	long stack;          /* -1: mapped before tracing began, or untraced */
	uint64_t count;
	uint64_t bytes;
};

struct mt_origin_groups {
	struct mt_origin_group *v; /* by backing, then largest bytes first */
	size_t n;
	size_t cap;
};

/* Group s's regions with an inode, and its anonymous ones (no name:
 * large mallocs, thread stacks, arenas), by origin.  0 or -ENOMEM. */
int origins_group(const struct mt_origins *o, const struct mt_snapshot *s,
		  struct mt_origin_groups *out);
void origins_groups_free(struct mt_origin_groups *g);
/* The groups of one backing: index of the first and their number. */
size_t origins_groups_find(const struct mt_origin_groups *g, uint32_t major, uint32_t minor,
			  uint64_t inode, size_t *first);

/* "rw-s" from a traced event's protection and type ("????" when the
 * call does not say, as munmap does not). */
void origins_event_perms(const struct mt_tevent *e, char out[5]);
/* Its length: the segment's, from s, when the call did not say (shmat). */
uint64_t origins_event_len(const struct mt_tevent *e, const struct mt_snapshot *s);
/* Its category: its region's in s if that mapping is still there (same
 * start, same file), else what the call implies. */
enum mt_category origins_event_category(const struct mt_tevent *e, const struct mt_snapshot *s);
/* "fx::Windows::leak <- main <- ...", from the first frame outside the C
 * library (the system call's wrapper, malloc's insides: how, not who);
 * "(no stack)" for NULL. */
void origins_stack_line(char *buf, size_t n, const struct mt_stack *st);

/* Whether a snapshot-diff event [start, end) of kind `unmap` is explained
 * by one of the traced events ev (overlapping range, same kind). */
bool origins_explains(const struct mt_tevents *ev, bool unmap, uint64_t start, uint64_t end);

#endif
