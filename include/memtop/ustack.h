/*
 * ustack.h - unwinding a copy of a user stack, taken by the kernel at a
 * traced system call (trace.h), without touching the target.
 *
 * libdw unwinds from the copied registers and stack bytes with the DWARF
 * CFI (.eh_frame, else .debug_frame) of the target's modules, read from
 * the ELF files on disk, so stripped binaries unwind too; where CFI is
 * missing it falls back on frame pointers.  Frames are named with the
 * symbol tables of symbols.h, and with inlined functions where the
 * module has debug information.
 */
#ifndef MEMTOP_USTACK_H
#define MEMTOP_USTACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/origins.h"
#include "memtop/trace.h"

struct ustack;

int ustack_open(struct ustack **out, pid_t pid);
void ustack_close(struct ustack *u);

/* Return addresses, innermost first (the first is the system call's own
 * pc); the number written to ips (at most max). */
size_t ustack_unwind(struct ustack *u, int tid, const uint64_t regs[TRACE_NREGS],
		     const uint8_t *stack, size_t size, uint64_t *ips, size_t max);

/* Name ips[0..n) into a stack (inlined frames expanded): 0 or -ENOMEM. */
int ustack_symbolize(struct ustack *u, const uint64_t *ips, size_t n, struct mt_stack *out);

/* The target's modules changed (a library loaded): re-read them before
 * the next unwind. */
void ustack_invalidate(struct ustack *u);

#endif
