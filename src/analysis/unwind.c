/*
 * unwind.c - a stopped thread's frames through libunwind-ptrace.
 *
 * libunwind reads the thread's registers and memory with ptrace
 * (PTRACE_PEEKDATA, PTRACE_GETREGS): read-only, and only legal while the
 * thread is in a ptrace stop of the calling thread, which freeze.c
 * provides.
 */
#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/unwind.h"

void unwind_stack_free(struct unwind_stack *st)
{
	free(st->frames);
	st->frames = NULL;
	st->n = 0;
}

static void name_frame(struct unwind_frame *fr, const struct symbols_map *syms,
		       unw_cursor_t *cur)
{
	struct symbols_hit hit;
	/* A return address may be one past its call: look up ip - 1. */
	uint64_t ip = fr->ip ? fr->ip - 1 : 0;
	if (syms && symbols_lookup(syms, ip, &hit) &&
	    (hit.type == 2 /* STT_FUNC */ || hit.type == 10 /* STT_GNU_IFUNC */)) {
		symbols_demangle(hit.name, fr->func, sizeof(fr->func));
		fr->func_offset = fr->ip - hit.start;
		return;
	}
	char raw[256];
	unw_word_t off = 0;
	if (unw_get_proc_name(cur, raw, sizeof(raw), &off) == 0) {
		symbols_demangle(raw, fr->func, sizeof(fr->func));
		fr->func_offset = off;
	}
}

int unwind_thread(pid_t tid, const struct symbols_map *syms, struct unwind_stack *out)
{
	memset(out, 0, sizeof(*out));
	out->tid = tid;
	unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
	if (!as)
		return -ENOMEM;
	void *upt = _UPT_create(tid);
	if (!upt) {
		unw_destroy_addr_space(as);
		return -ENOMEM;
	}
	int rc = 0;
	unw_cursor_t cur;
	int e = unw_init_remote(&cur, as, upt);
	if (e < 0) {
		snprintf(out->error, sizeof(out->error), "unw_init_remote: %s",
			 unw_strerror(e));
		rc = -EIO;
		goto done;
	}
	out->frames = calloc(UNWIND_MAX_FRAMES, sizeof(*out->frames));
	if (!out->frames) {
		rc = -ENOMEM;
		goto done;
	}
	for (;;) {
		unw_word_t ip = 0, sp = 0;
		unw_get_reg(&cur, UNW_REG_IP, &ip);
		unw_get_reg(&cur, UNW_REG_SP, &sp);
		if (out->n && sp <= out->frames[out->n - 1].sp) {
			snprintf(out->error, sizeof(out->error),
				 "stack pointer went backwards at frame %zu", out->n);
			break;
		}
		struct unwind_frame *fr = &out->frames[out->n++];
		fr->ip = ip;
		fr->sp = sp;
		name_frame(fr, syms, &cur);
		if (out->n == UNWIND_MAX_FRAMES) {
			snprintf(out->error, sizeof(out->error), "more than %d frames",
				 UNWIND_MAX_FRAMES);
			break;
		}
		e = unw_step(&cur);
		if (e == 0)
			break;
		if (e < 0) {
			snprintf(out->error, sizeof(out->error), "unw_step: %s",
				 unw_strerror(e));
			break;
		}
	}
done:
	_UPT_destroy(upt);
	unw_destroy_addr_space(as);
	return rc;
}

long unwind_frame_of(const struct unwind_stack *st, uint64_t addr)
{
	if (!st->n || addr < st->frames[0].sp)
		return -1;
	for (size_t i = 0; i + 1 < st->n; i++)
		if (addr < st->frames[i + 1].sp)
			return (long)i;
	return (long)st->n - 1;
}
