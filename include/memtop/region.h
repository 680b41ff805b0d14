/*
 * region.h - one mapping of a target's address space, as memtop keeps it.
 *
 * A region is a plain struct: the source fills it from /proc/PID/maps and
 * smaps, the model (classify.c) assigns its category.  Nothing here does I/O.
 */
#ifndef MEMTOP_REGION_H
#define MEMTOP_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of a size field that has not been measured (smaps not read yet). */
#define MT_UNKNOWN UINT64_MAX

enum mt_perm {
	MT_PERM_R = 1u << 0,
	MT_PERM_W = 1u << 1,
	MT_PERM_X = 1u << 2,
	MT_PERM_SHARED = 1u << 3, /* 's' in the fourth column, else 'p' */
};

/*
 * The Linux analogue of WinDbg's `!address -summary` usage column.  The
 * detection rule for each is written down in docs/categories.md; the
 * implementation is classify.c.  The order is the display order.
 */
enum mt_category {
	MT_CAT_IMAGE,    /* executable and shared libraries */
	MT_CAT_HEAP,     /* [heap] and glibc thread arenas with their reserve */
	MT_CAT_STACK,    /* [stack] and thread stacks, guard page included */
	MT_CAT_FILE,     /* mapped data files (Windows' MEM_MAPPED) */
	MT_CAT_SHARED,   /* SysV, memfd, /dev/shm, anonymous shared */
	MT_CAT_ANON,     /* other private anonymous */
	MT_CAT_RESERVED, /* PROT_NONE not owned by one of the above */
	MT_CAT_KERNEL,   /* [vdso], [vvar], [vsyscall], [uprobes] ... */
	MT_CAT_COUNT
};

/*
 * The seven figures smaps gives a region, in bytes, MT_UNKNOWN until
 * measured.  They travel together: proc.c carries them to the next
 * snapshot, the recorder writes a row of them when any changes, the
 * reader puts them back.  So they are one struct, copied and compared
 * whole, and also an array v[] in the recording's column order.
 */
#define MT_SMAPS_FIELDS 7
#define MT_SMAPS_MEMBERS \
	uint64_t rss, pss, swap, private_dirty, shared_dirty, anon_huge, locked

struct mt_smaps {
	union {
		struct { MT_SMAPS_MEMBERS; };
		uint64_t v[MT_SMAPS_FIELDS];
	};
};

struct mt_region {
	uint64_t start;  /* first byte */
	uint64_t end;    /* one past the last byte */
	uint64_t offset; /* file offset (pgoff * page size) */
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint8_t perms; /* enum mt_perm bits */
	/*
	 * The kernel appended " (deleted)" to the name.  It is stripped from
	 * `path`; the region is `deleted` only if the file is really gone
	 * (stat of the path gives another dev/inode or fails).  A file whose
	 * real name ends in " (deleted)" has suffix set and deleted clear
	 * (proc_check_deleted then puts the suffix back into its path).
	 */
	bool deleted_suffix;
	bool deleted;
	enum mt_category category;
	int tid; /* owning thread for MT_CAT_STACK (0 if unknown) */
	/*
	 * For a nameless rw-p region right after an image's mappings: where
	 * that image's last PT_LOAD ends (its .bss), read from its ELF file
	 * by the source (bss.h); 1 when the image ends before the region, 0
	 * when unknown (a recording, an unreadable file).
	 */
	uint64_t bss_end;
	/*
	 * Bytes of the name as the kernel meant them: "\012" unescaped to a
	 * newline, " (deleted)" stripped.  NUL-terminated (a path never holds
	 * NUL); "" for an anonymous mapping.  Points into the snapshot's
	 * string arena, valid as long as the snapshot.
	 */
	const char *path;
	uint32_t path_len;
	/* From smaps: by name (r->rss), or whole (r->smaps). */
	union {
		struct mt_smaps smaps;
		struct { MT_SMAPS_MEMBERS; };
	};
	/* Time (monotonic seconds) this region was first seen; set by growth. */
	double first_seen;
};

static inline uint64_t mt_region_size(const struct mt_region *r)
{
	return r->end - r->start;
}

static inline bool mt_region_is_anonymous(const struct mt_region *r)
{
	return r->inode == 0 && r->path_len == 0;
}

/* "rwxp" style, into a buffer of at least 5 bytes. */
void region_perms_str(uint8_t perms, char out[5]);

/* Name of a category, as used in JSON and the docs ("image", "heap", ...). */
const char *region_category_name(enum mt_category c);

#endif
