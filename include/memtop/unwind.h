/*
 * unwind.h - the call stack of a thread stopped by freeze.h, through
 * libunwind-ptrace, to say which frame holds a word of its stack.
 */
#ifndef MEMTOP_UNWIND_H
#define MEMTOP_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/pages.h"
#include "memtop/symbols.h"

struct unwind_frame {
	uint64_t ip;
	uint64_t sp;        /* the frame's lowest address */
	char func[256];     /* demangled function name, "" if unknown */
	uint64_t func_offset; /* ip - function start */
};

struct unwind_stack {
	pid_t tid;
	struct unwind_frame *frames; /* innermost first */
	size_t n;
	char error[128];    /* why the unwind stopped early, "" if it did not */
};

#define UNWIND_MAX_FRAMES 256

/*
 * Unwind thread tid, which must be in a ptrace stop of the calling
 * thread's freeze.  Memory is read through pg (never faulting a page in:
 * unwind tables come from the files on disk).  Function names come from
 * syms (may be NULL), else from libunwind.  Returns 0 (frames may be
 * few: see error), or -errno.
 */
int unwind_thread(pid_t tid, const struct symbols_map *syms, struct pages *pg,
		  struct unwind_stack *out);
void unwind_stack_free(struct unwind_stack *st);

/*
 * Index of the frame whose part of the stack holds addr: frame i spans
 * [frames[i].sp, frames[i + 1].sp); the outermost frame runs to the end
 * of the stack.  -1 when addr lies below the innermost sp (the red zone or
 * unused stack).
 */
long unwind_frame_of(const struct unwind_stack *st, uint64_t addr);

#endif
