/*
 * bss.h - where each mapped image's .bss really ends, from its ELF file.
 *
 * The loader maps an image's segments back to back and the part of the
 * last writable PT_LOAD beyond the file (its .bss, p_memsz > p_filesz)
 * as a nameless rw-p mapping right after them.  A nameless rw-p region
 * after an image is not always that: a library whose .bss fits in its
 * last file page (libz) is followed by whatever mmap put there next
 * (python's object arenas).  bss_mark() reads each image's program
 * headers (once per file, cached by dev and inode) and sets bss_end on
 * the nameless region that follows it; classify.c claims the region for
 * the image only when it ends there.
 */
#ifndef MEMTOP_BSS_H
#define MEMTOP_BSS_H

#include <sys/types.h>

#include "memtop/snapshot.h"

struct bss_cache;

struct bss_cache *bss_cache_new(void);
void bss_cache_free(struct bss_cache *c);

/* Set bss_end on each nameless private rw region of s that directly
 * follows a file mapping of an ELF image; files are opened through
 * /proc/TID/map_files/ (or their path when it names the same file). */
void bss_mark(struct bss_cache *c, struct mt_snapshot *s, pid_t tid);

#endif
