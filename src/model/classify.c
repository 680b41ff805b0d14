/*
 * classify.c - the category of every region (rules and their reasons in
 * docs/categories.md).
 *
 * Precedence, highest first: kernel pseudo names; [heap], [stack] and
 * glibc's names; image (files with an executable mapping, their .bss and
 * holes); shared; file; glibc thread arenas; thread stacks; anon;
 * reserved.  The passes below run in that order and a later pass only
 * claims what earlier ones left as anon or reserved.  Everything is
 * linear in the number of regions (and threads).
 */
#include <stdlib.h>
#include <string.h>

#include "memtop/classify.h"

/* glibc's HEAP_MAX_SIZE on 64-bit: 2 * DEFAULT_MMAP_THRESHOLD_MAX. */
#define ARENA_SIZE (64ULL << 20)
/* Largest guard below a thread stack we believe without a stack pointer. */
#define GUARD_MAX_PAGES 16
/* PTHREAD_STACK_MIN: glibc never creates a smaller thread stack. */
#define THREAD_STACK_MIN (16ULL << 10)

static bool has_prefix(const struct mt_region *r, const char *p)
{
	size_t n = strlen(p);
	return r->path_len >= n && memcmp(r->path, p, n) == 0;
}

static bool has_name(const struct mt_region *r, const char *name)
{
	return strcmp(r->path, name) == 0;
}

/* The kernel's pseudo names; a file's path starts with '/' or a
 * pseudo-filesystem's prefix (anon_inode:), never with '['. */
static bool is_bracketed(const struct mt_region *r)
{
	return r->path[0] == '[';
}

static bool is_shared(const struct mt_region *r)
{
	return r->perms & MT_PERM_SHARED;
}

static bool is_none(const struct mt_region *r)
{
	return (r->perms & (MT_PERM_R | MT_PERM_W | MT_PERM_X)) == 0;
}

static bool is_private_rw(const struct mt_region *r)
{
	return (r->perms & 0x0f) == (MT_PERM_R | MT_PERM_W);
}

static bool is_kernel_name(const struct mt_region *r)
{
	static const char *const names[] = {
		"[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]",
		"[sigpage]", "[vectors]", "[sigreturn]", "[vdso_data]",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (has_name(r, names[i]))
			return true;
	return false;
}

/* A file-backed region whose file lives in shmem/tmpfs or is anonymous
 * shared memory: other processes can map it, whatever this mapping's
 * own flags say. */
static bool is_shared_file(const struct mt_region *r)
{
	if (has_prefix(r, "/SYSV") || has_prefix(r, "/memfd:") || has_prefix(r, "/dev/shm/"))
		return true;
	return is_shared(r) && (has_name(r, "/dev/zero") || has_name(r, "/anon_hugepage") ||
				has_prefix(r, "anon_inode:"));
}

/* Private anonymous memory, or an unknown bracketed name: protection
 * tells committed from reserved. */
static enum mt_category by_protection(const struct mt_region *r)
{
	if (is_shared(r))
		return MT_CAT_SHARED;
	return is_none(r) ? MT_CAT_RESERVED : MT_CAT_ANON;
}

/*
 * glibc 2.40 and later name their mappings when the tunable
 * glibc.mem.decorate_maps is set: the read-write part of each arena heap,
 * and thread stacks with their tid (not the guard below them).
 */
#define GLIBC_ARENA "[anon: glibc: malloc arena]"
#define GLIBC_STACK "[anon: glibc: pthread stack: "
#define GLIBC_USER_STACK "[anon: glibc: pthread user stack: "

static bool is_glibc_stack(const struct mt_region *r)
{
	return has_prefix(r, GLIBC_STACK) || has_prefix(r, GLIBC_USER_STACK);
}

static enum mt_category bracketed_category(const struct mt_region *r)
{
	if (is_kernel_name(r))
		return MT_CAT_KERNEL;
	if (has_name(r, "[heap]"))
		return MT_CAT_HEAP;
	if (has_name(r, "[stack]") || has_prefix(r, "[stack:") || is_glibc_stack(r))
		return MT_CAT_STACK;
	if (has_name(r, GLIBC_ARENA))
		return MT_CAT_HEAP;
	if (has_prefix(r, "[anon_shmem:"))
		return MT_CAT_SHARED;
	return by_protection(r); /* [anon:NAME] and names unknown to us */
}

/* The category from the region alone; image is decided later. */
static enum mt_category base_category(const struct mt_region *r)
{
	if (r->path_len == 0)
		return r->inode ? MT_CAT_FILE : by_protection(r);
	if (is_bracketed(r))
		return bracketed_category(r);
	return is_shared_file(r) ? MT_CAT_SHARED : MT_CAT_FILE;
}

static bool same_file(const struct mt_region *a, const struct mt_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

/*
 * The set of files (dev, inode) with an executable mapping: open
 * addressing over a power-of-two table.  Libraries are few, so the table
 * usually fits on the stack; a larger one is allocated.
 */
struct file_key {
	uint64_t inode;
	uint64_t dev; /* major << 32 | minor; inode 0 marks an empty slot */
};

struct file_set {
	struct file_key *v;
	size_t mask;
};

static uint64_t key_hash(uint64_t dev, uint64_t inode)
{
	uint64_t h = (inode ^ (dev * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

static uint64_t dev_of(const struct mt_region *r)
{
	return (uint64_t)r->dev_major << 32 | r->dev_minor;
}

/* Insert or look up; returns whether the key was (already) present. */
static bool set_probe(struct file_set *fs, const struct mt_region *r, bool insert)
{
	uint64_t dev = dev_of(r);
	for (size_t i = key_hash(dev, r->inode) & fs->mask;; i = (i + 1) & fs->mask) {
		struct file_key *k = &fs->v[i];
		if (k->inode == 0) {
			if (insert) {
				k->inode = r->inode;
				k->dev = dev;
			}
			return false;
		}
		if (k->inode == r->inode && k->dev == dev)
			return true;
	}
}

/* The tid in a stack's name: [stack:TID] (kernels before 4.5) or
 * glibc's decoration; 0 if none. */
static int stack_tid(const struct mt_region *r, int pid)
{
	if (has_name(r, "[stack]"))
		return pid;
	const char *colon = strrchr(r->path, ':');
	if (!colon)
		return 0;
	char *end;
	long tid = strtol(colon + 1, &end, 10);
	return *end == ']' && tid > 0 && tid < (1L << 30) ? (int)tid : 0;
}

static void mark_images(struct mt_snapshot *s)
{
	size_t n_exec = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		n_exec += r->inode != 0 && (r->perms & MT_PERM_X);
	}
	if (n_exec == 0)
		return;

	struct file_key local[512];
	size_t cap = 16;
	while (cap < 2 * n_exec)
		cap *= 2;
	struct file_set fs = { local, cap - 1 };
	if (cap > sizeof(local) / sizeof(local[0])) {
		fs.v = calloc(cap, sizeof(*fs.v));
		if (!fs.v) {
			/* Degrade to what needs no table: executable regions. */
			for (size_t i = 0; i < s->n_regions; i++)
				if (s->regions[i].inode && (s->regions[i].perms & MT_PERM_X))
					s->regions[i].category = MT_CAT_IMAGE;
			return;
		}
	} else {
		memset(local, 0, cap * sizeof(local[0]));
	}

	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (r->inode != 0 && (r->perms & MT_PERM_X))
			set_probe(&fs, r, true);
	}
	for (size_t i = 0; i < s->n_regions; i++) {
		struct mt_region *r = &s->regions[i];
		if (r->inode != 0 && set_probe(&fs, r, false))
			r->category = MT_CAT_IMAGE;
	}
	if (fs.v != local)
		free(fs.v);
}

static bool is_nameless_anon(const struct mt_region *r)
{
	return r->inode == 0 && r->path_len == 0 && !is_shared(r);
}

/*
 * Is the nameless rw-p region r, right after an image, that image's .bss?
 * Only up to where its last PT_LOAD ends (bss_end, from the ELF file):
 * a library whose .bss fits in its last file page is followed by plain
 * anonymous memory, and one that the kernel merged with the .bss runs
 * past it.  Unknown (a recording made before bss_end): as the loader
 * lays images out, it is.
 */
static bool is_bss(const struct mt_snapshot *s, const struct mt_region *r)
{
	uint64_t page = s->page_size ? s->page_size : 4096;
	if (r->bss_end == 0)
		return true;
	return r->bss_end > r->start && r->end <= (r->bss_end + page - 1) / page * page;
}

/*
 * The loader maps an ELF's segments back to back: between two mappings
 * of one image a nameless PROT_NONE region is an alignment hole, and a
 * nameless rw-p region right after the last one is the .bss beyond the
 * file's last page (is_bss).
 */
static void mark_image_neighbours(struct mt_snapshot *s)
{
	for (size_t i = 1; i < s->n_regions; i++) {
		struct mt_region *prev = &s->regions[i - 1];
		struct mt_region *r = &s->regions[i];
		if (prev->category != MT_CAT_IMAGE || prev->end != r->start ||
		    !is_nameless_anon(r))
			continue;
		const struct mt_region *next = i + 1 < s->n_regions ? &s->regions[i + 1] : NULL;
		bool next_same = next && next->start == r->end &&
				 next->category == MT_CAT_IMAGE && same_file(next, prev);
		if (is_none(r) && next_same)
			r->category = MT_CAT_IMAGE;
		else if (is_private_rw(r) && !next_same && is_bss(s, r))
			r->category = MT_CAT_IMAGE;
	}
}

static bool is_arena_reserve(const struct mt_region *r, uint64_t heap_start)
{
	return is_nameless_anon(r) && is_none(r) && r->end <= heap_start + ARENA_SIZE;
}

/*
 * glibc's new_heap() maps HEAP_MAX_SIZE PROT_NONE at an address aligned
 * to it and makes the front read-write as the arena grows, so a thread
 * arena is an aligned rw-p region followed by its PROT_NONE reserve, all
 * within 64 MiB.  A fully grown heap has no reserve; a heap just reserved
 * has no rw-p part yet.
 */
static void mark_arenas(struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		struct mt_region *r = &s->regions[i];
		if (r->start % ARENA_SIZE != 0)
			continue;
		bool named = r->category == MT_CAT_HEAP && has_name(r, GLIBC_ARENA);
		if (!named && !is_nameless_anon(r))
			continue;
		if ((named || r->category == MT_CAT_ANON) && is_private_rw(r)) {
			struct mt_region *next = i + 1 < s->n_regions ? &s->regions[i + 1] : NULL;
			bool reserve = next && next->start == r->end &&
				       next->category == MT_CAT_RESERVED &&
				       is_arena_reserve(next, r->start);
			if (!named && !reserve && mt_region_size(r) != ARENA_SIZE)
				continue;
			r->category = MT_CAT_HEAP;
			if (reserve) {
				next->category = MT_CAT_HEAP;
				i++;
			}
		} else if (r->category == MT_CAT_RESERVED &&
			   mt_region_size(r) == ARENA_SIZE) {
			r->category = MT_CAT_HEAP;
		}
	}
}

static void claim_stack(struct mt_snapshot *s, long idx, int tid)
{
	struct mt_region *r = &s->regions[idx];
	r->category = MT_CAT_STACK;
	r->tid = tid;
	if (idx == 0)
		return;
	struct mt_region *guard = &s->regions[idx - 1];
	if (guard->end == r->start && guard->category == MT_CAT_RESERVED &&
	    is_nameless_anon(guard)) {
		guard->category = MT_CAT_STACK;
		guard->tid = tid;
	}
}

/* The glibc thread stack shape: nameless rw-p directly above a small
 * nameless PROT_NONE guard, neither claimed yet. */
static bool looks_like_thread_stack(const struct mt_snapshot *s, size_t i)
{
	const struct mt_region *r = &s->regions[i];
	if (i == 0 || r->category != MT_CAT_ANON || !is_nameless_anon(r) ||
	    !is_private_rw(r) || mt_region_size(r) < THREAD_STACK_MIN)
		return false;
	const struct mt_region *g = &s->regions[i - 1];
	uint64_t page = s->page_size ? s->page_size : 4096;
	return g->end == r->start && g->category == MT_CAT_RESERVED &&
	       is_nameless_anon(g) && mt_region_size(g) <= GUARD_MAX_PAGES * page;
}

/*
 * Threads whose stack pointer we know own the region holding it.  Only
 * memory nothing else claimed becomes stack: a coroutine stack inside a
 * malloc arena stays heap, though the thread still points at its region.
 * For threads caught running (no sp) the glibc shape is believed only
 * when it is unambiguous: no more candidates than such threads, since
 * glibc also caches the stacks of exited threads in the same shape.
 */
static void mark_stacks(struct mt_snapshot *s)
{
	long main_stack = -1;
	for (size_t i = 0; i < s->n_regions; i++) {
		struct mt_region *r = &s->regions[i];
		if (r->category != MT_CAT_STACK)
			continue;
		if (is_glibc_stack(r))
			claim_stack(s, (long)i, stack_tid(r, s->pid));
		else
			r->tid = stack_tid(r, s->pid);
		if (r->tid == s->pid)
			main_stack = (long)i;
	}

	size_t unknown = 0;
	for (size_t t = 0; t < s->n_threads; t++) {
		struct mt_thread *th = &s->threads[t];
		th->stack_region = th->sp ? snapshot_find(s, th->sp) : -1;
		if (th->stack_region < 0 && th->tid == s->pid)
			th->stack_region = main_stack;
		if (th->stack_region < 0) {
			unknown++;
			continue;
		}
		struct mt_region *r = &s->regions[th->stack_region];
		if (r->category == MT_CAT_ANON)
			claim_stack(s, th->stack_region, th->tid);
		else if (r->category == MT_CAT_STACK && r->tid == 0)
			r->tid = th->tid;
	}
	if (unknown == 0)
		return;

	size_t candidates = 0;
	for (size_t i = 0; i < s->n_regions && candidates <= unknown; i++)
		candidates += looks_like_thread_stack(s, i);
	if (candidates == 0 || candidates > unknown)
		return;
	for (size_t i = 0; i < s->n_regions; i++)
		if (looks_like_thread_stack(s, i))
			claim_stack(s, (long)i, 0);
}

void classify_run(struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		s->regions[i].category = base_category(&s->regions[i]);
		s->regions[i].tid = 0;
	}
	mark_images(s);
	mark_image_neighbours(s);
	mark_arenas(s);
	mark_stacks(s);
}
