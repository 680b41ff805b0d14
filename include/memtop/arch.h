/*
 * arch.h - the facts of the one platform memtop reads: x86-64 Linux with
 * glibc's malloc (2.36 layouts).  Everything that would differ on another
 * architecture or C library is here, so a port starts by reading this
 * file; CMake refuses other architectures before anything is built.
 */
#ifndef MEMTOP_ARCH_H
#define MEMTOP_ARCH_H

#include <stdbool.h>
#include <string.h>

#include "memtop/region.h"

#if !defined(__x86_64__) || !defined(__linux__)
#error "memtop reads x86-64 Linux address spaces only (see include/memtop/arch.h)"
#endif

/* ---- the address space -------------------------------------------------- */

/* Top of the user address space: 47 bits, or 56 with 5-level paging
 * (a mapping above the 47-bit limit tells which). */
#define MT_X86_64_USER_LIMIT 0x7ffffffff000ULL
#define MT_X86_64_USER_LIMIT_5LVL 0xfffffffffff000ULL

/*
 * The [vsyscall] gate page: above every user limit, the same in every
 * process, and no mapping of the process's own (not even counted in
 * map_count), so no figure of memtop counts it.
 */
static inline bool arch_is_gate(const struct mt_region *r)
{
	return r->start >= MT_X86_64_USER_LIMIT_5LVL ||
	       (r->inode == 0 && strcmp(r->path, "[vsyscall]") == 0);
}

/* The ABI lets a function use this many bytes below its stack pointer:
 * only below sp minus the red zone is a stack dead. */
#define MT_RED_ZONE 128

/* ---- glibc malloc (2.36, x86-64) ---------------------------------------- */

#define MT_GLIBC_CHUNK_HDR 16u          /* prev_size, size */
#define MT_GLIBC_PREV_INUSE 1u          /* size's flag bits */
#define MT_GLIBC_IS_MMAPPED 2u
#define MT_GLIBC_SIZE_BITS 7u
#define MT_GLIBC_MINSIZE 32             /* smallest chunk; sizes are multiples of 16 */
#define MT_GLIBC_HEAP_MAX_SIZE (64ULL << 20) /* a thread arena's heap, aligned to it */
#define MT_GLIBC_HEAP_INFO_SIZE 48      /* the heap_info at a thread heap's start */
#define MT_GLIBC_MALLOC_STATE_SIZE 2200 /* struct malloc_state */
#define MT_GLIBC_MSTATE_FASTBINS 16     /* offsets in it: fastbinsY[] */
#define MT_GLIBC_MSTATE_TOP 96          /*   top */
#define MT_GLIBC_MSTATE_NEXT 2160       /*   next (the ring of arenas) */
#define MT_GLIBC_FASTBINS 10
#define MT_GLIBC_TCACHE_BINS 64
#define MT_GLIBC_TCACHE_CHUNK 0x290     /* chunk size of a tcache_perthread_struct */

#endif
