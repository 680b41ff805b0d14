/*
 * bss.c - the end of each image's last PT_LOAD, from its ELF program
 * headers (bss.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "memtop/bss.h"
#include "memtop/vec.h"

#define PAGE 4096ull

/* One file's facts, in link-time addresses. */
struct bss_file {
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	bool elf;           /* an ELF image with PT_LOADs */
	uint64_t first;     /* the first PT_LOAD's p_vaddr, page aligned down */
	uint64_t end;       /* the highest p_vaddr + p_memsz of a PT_LOAD */
};

struct bss_cache {
	struct bss_file *v;
	size_t n, cap;
};

struct bss_cache *bss_cache_new(void)
{
	return calloc(1, sizeof(struct bss_cache));
}

void bss_cache_free(struct bss_cache *c)
{
	if (c)
		free(c->v);
	free(c);
}

/* The PT_LOADs of a 64-bit ELF file, from its program header table (the
 * file is untrusted: sizes and counts are checked, the walk bounded). */
static void read_phdrs(int fd, struct bss_file *f)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		return;
	size_t len = eh.e_phnum * sizeof(Elf64_Phdr);
	if (pread(fd, ph, len, (off_t)eh.e_phoff) != (ssize_t)len)
		return;
	bool any = false;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz > UINT64_MAX - ph[i].p_vaddr)
			continue;
		if (!any)
			f->first = ph[i].p_vaddr & ~(PAGE - 1);
		if (ph[i].p_vaddr + ph[i].p_memsz > f->end)
			f->end = ph[i].p_vaddr + ph[i].p_memsz;
		any = true;
	}
	f->elf = any;
}

static int open_image(const struct mt_region *r, pid_t tid)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)tid,
		 (unsigned long long)r->start, (unsigned long long)r->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && r->path[0] == '/')
		fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != r->inode ||
			major(st.st_dev) != r->dev_major || minor(st.st_dev) != r->dev_minor)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static const struct bss_file *file_of(struct bss_cache *c, const struct mt_region *r, pid_t tid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].inode == r->inode && c->v[i].dev_major == r->dev_major &&
		    c->v[i].dev_minor == r->dev_minor)
			return &c->v[i];
	if (VEC_RESERVE(c->v, c->cap, c->n, 16))
		return NULL;
	struct bss_file *f = &c->v[c->n];
	memset(f, 0, sizeof(*f));
	f->inode = r->inode;
	f->dev_major = r->dev_major;
	f->dev_minor = r->dev_minor;
	/* A file that cannot be opened is remembered as no image (elf
	 * false) all the same: it is not tried again at every refresh. */
	int fd = open_image(r, tid);
	if (fd >= 0) {
		read_phdrs(fd, f);
		close(fd);
	}
	c->n++;
	return f;
}

static bool same_file(const struct mt_region *a, const struct mt_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

/* The load bias of the image whose mapping is s->regions[i]: its mapping
 * of file offset 0 is where the first PT_LOAD went. */
static bool load_bias(const struct mt_snapshot *s, size_t i, const struct bss_file *f,
		      uint64_t *bias)
{
	for (size_t k = i + 1; k-- > 0;) {
		const struct mt_region *r = &s->regions[k];
		if (!same_file(r, &s->regions[i]))
			break;
		if (r->offset == 0) {
			*bias = r->start - f->first;
			return true;
		}
	}
	return false;
}

void bss_mark(struct bss_cache *c, struct mt_snapshot *s, pid_t tid)
{
	for (size_t i = 1; c && i < s->n_regions; i++) {
		struct mt_region *r = &s->regions[i];
		const struct mt_region *prev = &s->regions[i - 1];
		r->bss_end = 0;
		if (prev->end != r->start || r->inode != 0 || r->path_len != 0 ||
		    (r->perms & 0x0f) != (MT_PERM_R | MT_PERM_W) || prev->inode == 0)
			continue;
		const struct bss_file *f = file_of(c, prev, tid);
		uint64_t bias;
		if (!f || !f->elf || !load_bias(s, i - 1, f, &bias))
			continue;
		/* 1 rather than 0 when the image ends before this region:
		 * known, and nothing of it is .bss. */
		uint64_t end = bias + f->end;
		r->bss_end = end > r->start ? end : 1;
	}
}
