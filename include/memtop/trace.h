/*
 * trace.h - the target's map and unmap system calls as the kernel saw
 * them: perf events on the syscalls tracepoints (docs/trace.md).
 *
 * For every thread of the target and every CPU, one event per tracepoint
 * (sys_enter and sys_exit of mmap, munmap, mremap, brk, shmat, shmdt), opened
 * with inherit (threads only), so that threads created later are traced
 * by the kernel itself from their first instruction.  All events of one
 * CPU write into that CPU's ring buffer.  Enter events carry a copy of
 * the user stack and the user registers; exit events only the result.
 *
 * Nothing is written to the target and it is never stopped: the kernel
 * copies the stack at the system call.  The tracepoint ids come from
 * tracefs; when it is not mounted, a short-lived child mounts it in a
 * private mount namespace of its own and reads them, so the system's
 * mounts are never changed.
 */
#ifndef MEMTOP_TRACE_H
#define MEMTOP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"
#include "memtop/origins.h"

enum trace_call { TRACE_MMAP = MT_CALL_MMAP, TRACE_MUNMAP = MT_CALL_MUNMAP,
		  TRACE_MREMAP = MT_CALL_MREMAP, TRACE_BRK = MT_CALL_BRK,
		  TRACE_SHMAT = MT_CALL_SHMAT, TRACE_SHMDT = MT_CALL_SHMDT,
		  TRACE_NCALLS = MT_CALL_COUNT };

const char *trace_call_name(enum trace_call c);

/* Tracepoint ids: enter[c] and exit[c], -1 where unknown. */
struct trace_ids {
	int enter[TRACE_NCALLS];
	int exit[TRACE_NCALLS];
};

/*
 * The testing hook: an errno that every perf_event_open is to fail with,
 * 0 for none.  The release binary's always says 0; the test build's
 * memtop (tests/support/trace_deny.c) reads MEMTOP_TEST_TRACE_ERRNO, so
 * that the tests see a refusal as an unprivileged user would, as root.
 */
int trace_test_errno(void);

/* Find the ids (tracefs, else a private mount of it): 0 or -1 with err. */
int trace_find_ids(struct trace_ids *ids, struct mt_error *err);

/* The user registers copied per enter event, in DWARF x86-64 order:
 * rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
#define TRACE_NREGS 17
#define TRACE_REG_SP 7
#define TRACE_REG_IP 16

/* One decoded record.  Pointers refer to trace.c's buffers: valid only
 * during the callback. */
struct trace_record {
	bool enter;
	enum trace_call call;
	uint64_t time;      /* ns, CLOCK_MONOTONIC */
	int pid;
	int tid;
	uint64_t args[6];   /* enter: the system call's arguments */
	int64_t ret;        /* exit: its result */
	bool have_regs;     /* enter: regs and stack below are set */
	uint64_t regs[TRACE_NREGS];
	const uint8_t *stack; /* a copy of the user stack from regs[SP] up */
	size_t stack_size;
};

/*
 * Decode one PERF_RECORD_SAMPLE of the layout trace_open asks for (a
 * record of the kernel's, header included, size bytes): false when it is
 * malformed or of no tracepoint of ids.  For tests and fuzzing; trace_read
 * calls it.
 */
bool trace_decode(const struct trace_ids *ids, const void *record, size_t size,
		  struct trace_record *rec);

struct trace_options {
	size_t stack_bytes;   /* user stack copied per call (default 8 KiB) */
	size_t ring_pages;    /* per CPU, a power of two (default: 4 MiB, less
	                       * on machines with over 16 CPUs) */
};

struct trace;

/*
 * Start tracing pid: 0, or -1 with err (kind MT_ERR_PERM and a one-line
 * reason when perf events are refused).  The caller falls back on
 * snapshot diffs then.
 */
int trace_open(struct trace **out, pid_t pid, const struct trace_ids *ids,
	       const struct trace_options *o, struct mt_error *err);
/* Wait up to timeout_ms for data in any buffer, or for wake_fd (-1:
 * none) to be readable: >0 ready, 0, -errno. */
int trace_wait(struct trace *t, int timeout_ms, int wake_fd);
typedef void (*trace_fn)(const struct trace_record *r, void *arg);
/* Decode every record now in the buffers, in time order, into fn.
 * Returns the number of records. */
size_t trace_read(struct trace *t, trace_fn fn, void *arg);
/* Records the kernel dropped because a buffer was full. */
uint64_t trace_lost(const struct trace *t);
/* Threads and events opened (for the report and the docs). */
size_t trace_threads(const struct trace *t);
size_t trace_events(const struct trace *t);
void trace_close(struct trace *t);

#endif
