/*
 * unwind.c - a stopped thread's frames through libunwind-ptrace.
 *
 * The registers come through ptrace (PTRACE_GETREGS), legal only while
 * the thread is in a ptrace stop of the calling thread, which freeze.c
 * provides.  Memory does not: libunwind-ptrace would PTRACE_PEEKDATA the
 * unwind tables (.eh_frame_hdr, .eh_frame) out of the target, faulting
 * libc's pages into it (~140 KiB of RSS per unwind).  Its access_mem is
 * replaced by pages_read(), which takes a file mapping's never-touched
 * pages from the file on disk and reads only present pages from the
 * target; the other accessors stay libunwind-ptrace's.
 */
#include <errno.h>
#include <gelf.h>
#include <libunwind-ptrace.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtop/unwind.h"

/* libunwind's own search of a remote .eh_frame_hdr table: exported by
 * libunwind-x86_64 but declared only in its private headers. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

#define TABLES 32

/* What every accessor gets: libunwind-ptrace's state (registers),
 * memtop's reader, and the unwind tables found so far. */
struct unwind_ctx {
	void *upt;
	struct pages *pg;
	unw_dyn_info_t tables[TABLES];
	size_t n_tables;
};

#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_datarel_sdata4 0x3b

static int enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_udata4: case DW_EH_PE_sdata4: return 4;
	case DW_EH_PE_udata8: case DW_EH_PE_sdata8: return 8;
	default: return 0;
	}
}

/*
 * The .eh_frame_hdr search table of the image mapped at region r, from
 * its ELF file on disk: libunwind binary-searches it and reads the FDEs
 * through access_mem, which takes them from the file too.  0, or -1 when
 * the image has no usable table.
 */
static int load_table(struct pages *pg, const struct mt_region *r, uint64_t ip,
		      unw_dyn_info_t *di)
{
	int fd = pages_file_open(pg, r);
	if (fd < 0)
		return -1;
	int rc = -1;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t n = 0;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n) < 0)
		goto out;
	GElf_Phdr eh = { 0 }, load = { 0 };
	bool have_eh = false, have_load = false;
	for (size_t i = 0; i < n && i < 256; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_GNU_EH_FRAME) {
			eh = ph;
			have_eh = true;
		}
		/* The segment the region maps: its offset is in the file part. */
		uint64_t off0 = ph.p_offset & ~4095ull;
		if (ph.p_type == PT_LOAD && !have_load && off0 <= r->offset &&
		    r->offset < ph.p_offset + ph.p_filesz) {
			load = ph;
			have_load = true;
		}
	}
	if (!have_eh || !have_load)
		goto out;
	/* The region maps file offset r->offset of that segment. */
	uint64_t seg_off = r->offset - (load.p_offset & ~4095ull);
	uint64_t bias = r->start - ((load.p_vaddr & ~4095ull) + seg_off);
	uint8_t hdr[4 + 8 + 8];
	if (pread(fd, hdr, sizeof(hdr), (off_t)eh.p_offset) != (ssize_t)sizeof(hdr) || hdr[0] != 1)
		goto out;
	int ptr_size = enc_size(hdr[1]), count_size = enc_size(hdr[2]);
	if (!ptr_size || count_size != 4 || hdr[3] != DW_EH_PE_datarel_sdata4)
		goto out;
	uint32_t count;
	memcpy(&count, hdr + 4 + ptr_size, 4);
	if (count == 0 || count > eh.p_filesz / 8)
		goto out;
	memset(di, 0, sizeof(*di));
	di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di->start_ip = bias + load.p_vaddr;
	di->end_ip = bias + load.p_vaddr + load.p_memsz;
	di->u.rti.segbase = bias + eh.p_vaddr;
	di->u.rti.table_data = bias + eh.p_vaddr + 4 + (uint64_t)ptr_size + 4;
	di->u.rti.table_len = (uint64_t)count * 8 / sizeof(unw_word_t);
	rc = ip >= di->start_ip && ip < di->end_ip ? 0 : -1;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

static const unw_dyn_info_t *table_of(struct unwind_ctx *c, uint64_t ip)
{
	for (size_t i = 0; i < c->n_tables; i++)
		if (ip >= c->tables[i].start_ip && ip < c->tables[i].end_ip)
			return &c->tables[i];
	long ri = c->pg->s ? snapshot_find(c->pg->s, ip) : -1;
	if (ri < 0)
		return NULL;
	const struct mt_region *r = &c->pg->s->regions[ri];
	if (!(r->perms & MT_PERM_X) || r->inode == 0 || r->path[0] != '/')
		return NULL;
	unw_dyn_info_t *slot = &c->tables[c->n_tables < TABLES ? c->n_tables : TABLES - 1];
	if (load_table(c->pg, r, ip, slot) < 0)
		return NULL;
	if (c->n_tables < TABLES)
		c->n_tables++;
	return slot;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need,
			  void *arg)
{
	const unw_dyn_info_t *t = table_of(arg, ip);
	if (!t)
		return -UNW_ENOINFO;
	unw_dyn_info_t di = *t;
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
}

/* What dwarf_search_unwind_table allocated for need_unwind_info. */
static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	free(pi->unwind_info);
	pi->unwind_info = NULL;
}

/* No dynamically registered unwind info (JITs): it would be read from
 * the target's heap, and nothing here could check it. */
static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	return -UNW_ENOINFO;
}

/* Read-only, and never faulting a page in: see the top of this file. */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
		      void *arg)
{
	if (write)
		return -UNW_EINVAL;
	unw_word_t v;
	if (pages_read(((struct unwind_ctx *)arg)->pg, addr, &v, sizeof(v)) != sizeof(v))
		return -UNW_EINVAL;
	*val = v;
	return 0;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
		      void *arg)
{
	if (write)
		return -UNW_EINVAL;
	return _UPT_access_reg(as, reg, val, 0, ((struct unwind_ctx *)arg)->upt);
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			void *arg)
{
	if (write)
		return -UNW_EINVAL;
	return _UPT_access_fpreg(as, reg, val, 0, ((struct unwind_ctx *)arg)->upt);
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL; /* memtop never changes the target's course */
}

static int get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t n,
			 unw_word_t *off, void *arg)
{
	return _UPT_get_proc_name(as, ip, buf, n, off, ((struct unwind_ctx *)arg)->upt);
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

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

int unwind_thread(pid_t tid, const struct symbols_map *syms, struct pages *pg,
		  struct unwind_stack *out)
{
	memset(out, 0, sizeof(*out));
	out->tid = tid;
	unw_addr_space_t as = unw_create_addr_space(&accessors, 0);
	if (!as)
		return -ENOMEM;
	void *upt = _UPT_create(tid);
	if (!upt) {
		unw_destroy_addr_space(as);
		return -ENOMEM;
	}
	int rc = 0;
	unw_cursor_t cur;
	struct unwind_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		rc = -ENOMEM;
		goto done;
	}
	ctx->upt = upt;
	ctx->pg = pg;
	int e = unw_init_remote(&cur, as, ctx);
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
	free(ctx);
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
