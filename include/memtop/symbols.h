/*
 * symbols.h - addresses to names: ELF symbol tables of the target's
 * executable and libraries, and C++ class names of objects.
 *
 * A module's symbols (.symtab, else the separate debug file found by build
 * id under /usr/lib/debug/.build-id, else .dynsym) are copied once into a
 * sorted array; a look-up is then a binary search (libdw's own is linear).
 * Tables live in a symbols_cache keyed by NT_GNU_BUILD_ID (device, inode,
 * size and mtime when there is none) that the caller keeps across scans;
 * symbols_map_build() drops the tables of modules no longer mapped.
 *
 * Files are opened as the target sees them: /proc/PID/map_files/START-END
 * (the very file mapped, even deleted or replaced), else /proc/PID/root +
 * path.  The load bias of a module is region start - page-aligned p_vaddr
 * of the PT_LOAD whose page-aligned p_offset is the region's offset.  A
 * module's extent runs to the end of its last PT_LOAD's p_memsz, so the
 * anonymous .bss after the file's data pages belongs to it.
 */
#ifndef MEMTOP_SYMBOLS_H
#define MEMTOP_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/heapwalk.h"
#include "memtop/snapshot.h"

struct symbols_sym {
	uint64_t addr;   /* link-time address (bias not applied) */
	uint64_t size;   /* 0: covers its address only */
	uint32_t name;   /* offset into the table's string pool */
	uint8_t type;    /* STT_OBJECT, STT_FUNC, ... */
};

/* One ELF file's symbols, sorted by address. */
struct symbols_table {
	struct symbols_sym *syms;
	size_t n;
	size_t cap;
	char *strings;
	size_t strings_len;
	size_t strings_cap;
	unsigned char build_id[20];
	size_t build_id_len;
	char key[64];      /* cache key: build id in hex, or dev/inode/size/mtime */
	struct { uint64_t vaddr, memsz, offset; } loads[16]; /* PT_LOADs */
	size_t n_loads;
	bool used;         /* bound by the latest symbols_map_build */
	bool defines_malloc; /* a function named malloc (census_malloc_owner) */
};

/* Build a table by hand (unit tests, other formats): add, then finish. */
int symbols_table_add(struct symbols_table *t, uint64_t addr, uint64_t size, uint8_t type,
		      const char *name);
void symbols_table_finish(struct symbols_table *t);
void symbols_table_free(struct symbols_table *t);
/* The symbol covering link-time address a (the innermost if several do:
 * the one starting last), or NULL. */
const struct symbols_sym *symbols_table_lookup(const struct symbols_table *t, uint64_t a);
static inline const char *symbols_name(const struct symbols_table *t,
				       const struct symbols_sym *s)
{
	return t->strings + s->name;
}

/* Load an ELF file's table (path as memtop can open it); NULL on failure. */
struct symbols_table *symbols_table_load(const char *path);

struct symbols_cache {
	struct symbols_table **tables;
	size_t n;
	size_t cap;
	unsigned long loads;  /* tables built (for tests and the docs) */
	unsigned long hits;   /* found in the cache */
};

void symbols_cache_init(struct symbols_cache *c);
void symbols_cache_free(struct symbols_cache *c);

/* One mapped ELF module of the target. */
struct symbols_module {
	uint64_t start;      /* lowest mapped address */
	uint64_t end;        /* extent: end of the last PT_LOAD in memory */
	uint64_t bias;       /* runtime = link-time + bias */
	const char *path;    /* the snapshot's string */
	struct symbols_table *table; /* in the cache; NULL: unreadable file */
};

/* The modules of one snapshot, sorted by start. */
struct symbols_map {
	struct symbols_module *v;
	size_t n;
	size_t cap;
};

/*
 * Find the ELF modules of s (image regions), load or reuse their tables
 * in c, and forget the tables of c no longer mapped.  0 or -ENOMEM; a
 * module whose file cannot be read has table NULL.  m refers to c and s:
 * keep both while using m.
 */
int symbols_map_build(struct symbols_map *m, struct symbols_cache *c,
		      const struct mt_snapshot *s, pid_t pid);
void symbols_map_free(struct symbols_map *m);

struct symbols_hit {
	const struct symbols_module *module;
	const char *name;    /* mangled, as in the table */
	uint64_t start;      /* runtime address of the symbol */
	uint64_t size;
	uint64_t offset;     /* addr - start */
	uint8_t type;
};

/* The module holding runtime address addr, or NULL. */
const struct symbols_module *symbols_module_of(const struct symbols_map *m, uint64_t addr);
/* The symbol covering addr; false if none. */
bool symbols_lookup(const struct symbols_map *m, uint64_t addr, struct symbols_hit *out);

/*
 * Demangle a C++ symbol ("_ZN3foo3barEv") or type name ("N3foo3BarE",
 * "12MMFSerializer") into out; returns false (out holds the input) when
 * it is not a mangled name.
 */
bool symbols_demangle(const char *mangled, char *out, size_t n);

/*
 * The C++ class of an object whose first word is vptr: the _ZTV symbol
 * covering vptr ("vtable for X" gives X), else the RTTI (vptr[-1] is the
 * typeinfo, whose own vtable must be one of libstdc++'s
 * __cxxabiv1::*class_type_info vtables when those symbols are known, and
 * typeinfo+8 points to the mangled name).  Returns true and the demangled
 * name in out.
 */
bool symbols_class_of(const struct symbols_map *m, const struct mt_snapshot *s, uint64_t vptr,
		      heapwalk_read_fn read, void *arg, char *out, size_t n);

#endif
