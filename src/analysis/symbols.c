/*
 * symbols.c - sorted symbol tables of the target's ELF modules, cached
 * by build id, and C++ class names from vtables and RTTI.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtop/pages.h"
#include "memtop/symbols.h"
#include "memtop/threads.h"
#include "memtop/vec.h"

/* libstdc++'s demangler, linked in through memtop_analysis. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define PAGE_MASK 0xfffULL

/* ---- the sorted table -------------------------------------------------- */

int symbols_table_add(struct symbols_table *t, uint64_t addr, uint64_t size, uint8_t type,
		      const char *name)
{
	size_t len = strlen(name) + 1;
	if (VEC_RESERVE(t->syms, t->cap, t->n, 1024))
		return -ENOMEM;
	if (t->strings_len + len > t->strings_cap) {
		size_t cap = t->strings_cap ? t->strings_cap * 2 : 16384;
		while (cap < t->strings_len + len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		char *v = realloc(t->strings, cap);
		if (!v)
			return -ENOMEM;
		t->strings = v;
		t->strings_cap = cap;
	}
	memcpy(t->strings + t->strings_len, name, len);
	struct symbols_sym *s = &t->syms[t->n++];
	s->addr = addr;
	s->size = size;
	s->type = type;
	s->name = (uint32_t)t->strings_len;
	t->strings_len += len;
	if (type != STT_OBJECT && !strcmp(name, "malloc"))
		t->defines_malloc = true;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct symbols_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* At one address, the larger symbol first: the smaller is inner. */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return 0;
}

void symbols_table_finish(struct symbols_table *t)
{
	if (t->n)
		qsort(t->syms, t->n, sizeof(*t->syms), cmp_sym);
}

void symbols_table_free(struct symbols_table *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->strings);
	memset(t, 0, sizeof(*t));
}

/* How far back to look for a symbol covering a, past smaller ones that
 * end before it (a big object followed by small ones inside it is rare). */
#define LOOKBACK 32

const struct symbols_sym *symbols_table_lookup(const struct symbols_table *t, uint64_t a)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->syms[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* syms[lo - 1] is the last starting at or before a.  A symbol whose
	 * size covers a beats a sizeless one that only starts there (the
	 * linker's __TMC_END__ ends .data where a copy-relocated stdout
	 * starts .bss). */
	const struct symbols_sym *sizeless = NULL;
	for (size_t i = lo, k = 0; i > 0 && k < LOOKBACK; i--, k++) {
		const struct symbols_sym *s = &t->syms[i - 1];
		if (a - s->addr < s->size)
			return s;
		if (a == s->addr && !s->size && !sizeless)
			sizeless = s;
	}
	return sizeless;
}

/* ---- loading an ELF file ------------------------------------------------ */

static bool wanted_sym(const GElf_Sym *sym)
{
	int type = GELF_ST_TYPE(sym->st_info);
	if (sym->st_shndx == SHN_UNDEF || sym->st_value == 0)
		return false;
	return type == STT_OBJECT || type == STT_FUNC || type == STT_GNU_IFUNC;
}

static int add_section(struct symbols_table *t, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return 0;
	size_t n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || !wanted_sym(&sym))
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		/* "stdout@GLIBC_2.2.5" (a copy relocation): the version is
		 * noise to a reader and stops the demangler. */
		char plain[1024];
		const char *at = strchr(name, '@');
		if (at && at > name && (size_t)(at - name) < sizeof(plain)) {
			memcpy(plain, name, (size_t)(at - name));
			plain[at - name] = '\0';
			name = plain;
		}
		if (symbols_table_add(t, sym.st_value, sym.st_size,
				      (uint8_t)GELF_ST_TYPE(sym.st_info), name) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Symbols of one section type; true if the file has such a section. */
static bool load_syms(struct symbols_table *t, Elf *elf, Elf64_Word type)
{
	bool found = false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
			continue;
		found = true;
		add_section(t, elf, scn, &sh);
	}
	return found;
}

static void read_build_id(struct symbols_table *t, Elf *elf)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp((char *)data->d_buf + name_off, "GNU", 4) == 0 &&
			    nh.n_descsz > 0 && nh.n_descsz <= sizeof(t->build_id)) {
				memcpy(t->build_id, (char *)data->d_buf + desc_off, nh.n_descsz);
				t->build_id_len = nh.n_descsz;
				return;
			}
		}
	}
}

static void read_loads(struct symbols_table *t, Elf *elf)
{
	size_t n;
	if (elf_getphdrnum(elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && t->n_loads < 16; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		t->loads[t->n_loads].vaddr = ph.p_vaddr;
		t->loads[t->n_loads].memsz = ph.p_memsz;
		t->loads[t->n_loads].offset = ph.p_offset;
		t->n_loads++;
	}
}

static void make_key(struct symbols_table *t, const struct stat *st)
{
	if (t->build_id_len) {
		for (size_t i = 0; i < t->build_id_len; i++)
			sprintf(t->key + 2 * i, "%02x", t->build_id[i]);
	} else {
		snprintf(t->key, sizeof(t->key), "%llx:%llx:%llx:%llx",
			 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
			 (unsigned long long)st->st_size,
			 (unsigned long long)st->st_mtim.tv_sec);
	}
}

/* .symtab of the separate debug file, found by build id. */
static bool load_debug_file(struct symbols_table *t)
{
	if (t->build_id_len < 2)
		return false;
	char path[128];
	int n = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", t->build_id[0]);
	for (size_t i = 1; i < t->build_id_len; i++)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "%02x", t->build_id[i]);
	snprintf(path + n, sizeof(path) - (size_t)n, ".debug");
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	bool ok = false;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF)
		ok = load_syms(t, elf, SHT_SYMTAB);
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

/* Open path's ELF, read its identity (build id, PT_LOADs) into t. */
static Elf *open_elf(const char *path, int *fd, struct symbols_table *t)
{
	elf_version(EV_CURRENT);
	/* The path comes from the target's view of its files, which may
	 * have been replaced since it was mapped: never open a FIFO (it
	 * would block) or a device (opening one can act). */
	struct stat pre;
	if (stat(path, &pre) < 0 || !S_ISREG(pre.st_mode))
		return NULL;
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0)
		return NULL;
	struct stat st;
	Elf *elf = NULL;
	/* ELF_C_READ, not _MMAP: a library truncated in place while memtop
	 * reads it must cost an error, not a SIGBUS. */
	if (fstat(*fd, &st) == 0 && S_ISREG(st.st_mode))
		elf = elf_begin(*fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64) {
		if (elf)
			elf_end(elf);
		close(*fd);
		*fd = -1;
		return NULL;
	}
	read_build_id(t, elf);
	read_loads(t, elf);
	make_key(t, &st);
	return elf;
}

static void load_table_syms(struct symbols_table *t, Elf *elf)
{
	if (!load_syms(t, elf, SHT_SYMTAB) && !load_debug_file(t))
		load_syms(t, elf, SHT_DYNSYM);
	else if (t->n == 0)
		load_syms(t, elf, SHT_DYNSYM);
	symbols_table_finish(t);
}

struct symbols_table *symbols_table_load(const char *path)
{
	struct symbols_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	int fd;
	Elf *elf = open_elf(path, &fd, t);
	if (!elf) {
		free(t);
		return NULL;
	}
	load_table_syms(t, elf);
	elf_end(elf);
	close(fd);
	return t;
}

/* ---- the cache and the modules of a snapshot ---------------------------- */

void symbols_cache_init(struct symbols_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void symbols_cache_free(struct symbols_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		symbols_table_free(c->tables[i]);
		free(c->tables[i]);
	}
	free(c->tables);
	memset(c, 0, sizeof(*c));
}

/* The table of the file at path: from the cache when its key is known. */
static struct symbols_table *cache_get(struct symbols_cache *c, const char *path)
{
	struct symbols_table probe;
	memset(&probe, 0, sizeof(probe));
	int fd;
	Elf *elf = open_elf(path, &fd, &probe);
	if (!elf)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->tables[i]->key, probe.key) == 0) {
			elf_end(elf);
			close(fd);
			c->hits++;
			c->tables[i]->used = true;
			return c->tables[i];
		}
	}
	struct symbols_table *t = NULL;
	if (VEC_RESERVE(c->tables, c->cap, c->n, 32) == 0)
		t = malloc(sizeof(*t));
	if (t) {
		*t = probe;
		load_table_syms(t, elf);
		t->used = true;
		c->tables[c->n++] = t;
		c->loads++;
	}
	elf_end(elf);
	close(fd);
	return t;
}

static int push_module(struct symbols_map *m, const struct symbols_module *mod)
{
	if (VEC_RESERVE(m->v, m->cap, m->n, 64))
		return -ENOMEM;
	m->v[m->n++] = *mod;
	return 0;
}

static bool same_file(const struct mt_region *a, const struct mt_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && strcmp(a->path, b->path) == 0;
}

/* Bias and extent of the module made of regions [i, j). */
static void place_module(struct symbols_module *mod, const struct mt_snapshot *s, size_t i,
			 size_t j)
{
	const struct symbols_table *t = mod->table;
	mod->start = s->regions[i].start;
	mod->end = s->regions[j - 1].end;
	mod->bias = s->regions[i].start - s->regions[i].offset;
	if (!t)
		return;
	bool placed = false;
	for (size_t k = i; k < j && !placed; k++) {
		for (size_t l = 0; l < t->n_loads; l++) {
			if ((t->loads[l].offset & ~PAGE_MASK) == s->regions[k].offset) {
				mod->bias = s->regions[k].start - (t->loads[l].vaddr & ~PAGE_MASK);
				placed = true;
				break;
			}
		}
	}
	for (size_t l = 0; l < t->n_loads; l++) {
		uint64_t e = mod->bias + t->loads[l].vaddr + t->loads[l].memsz;
		e = (e + PAGE_MASK) & ~PAGE_MASK;
		/* The .bss beyond the file's pages, if it is mapped. */
		if (e > mod->end && e - mod->end < (1ULL << 32))
			mod->end = e;
	}
}

/* Drop tables no module uses any more (a library unloaded). */
static void sweep(struct symbols_cache *c)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->tables[i]->used) {
			c->tables[k++] = c->tables[i];
		} else {
			symbols_table_free(c->tables[i]);
			free(c->tables[i]);
		}
	}
	c->n = k;
}

int symbols_map_build(struct symbols_map *m, struct symbols_cache *c,
		      const struct mt_snapshot *s, pid_t pid)
{
	m->n = 0;
	/* A leader that called pthread_exit has no map_files: a live
	 * thread's /proc entry has the same. */
	pid_t live = threads_live(pid);
	if (live)
		pid = live;
	for (size_t i = 0; i < c->n; i++)
		c->tables[i]->used = false;
	size_t i = 0;
	while (i < s->n_regions) {
		const struct mt_region *r = &s->regions[i];
		if (r->category != MT_CAT_IMAGE || r->path[0] != '/') {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < s->n_regions && same_file(&s->regions[j], r) &&
		       s->regions[j].offset != 0)
			j++;
		char path[4200];
		snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
			 (unsigned long long)r->start, (unsigned long long)r->end);
		struct symbols_module mod = { .path = r->path };
		mod.table = cache_get(c, path);
		if (!mod.table) {
			snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, r->path);
			mod.table = cache_get(c, path);
		}
		place_module(&mod, s, i, j);
		/* The .bss is nameless; a file mapped above is another module. */
		if (j < s->n_regions && mod.end > s->regions[j].start &&
		    s->regions[j].path[0] != '\0')
			mod.end = s->regions[j].start;
		if (push_module(m, &mod) < 0)
			return -ENOMEM;
		i = j;
	}
	sweep(c);
	return 0;
}

void symbols_map_free(struct symbols_map *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

const struct symbols_module *symbols_module_of(const struct symbols_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct symbols_module *mod = &m->v[lo - 1];
	return addr < mod->end ? mod : NULL;
}

bool symbols_lookup(const struct symbols_map *m, uint64_t addr, struct symbols_hit *out)
{
	const struct symbols_module *mod = symbols_module_of(m, addr);
	if (!mod || !mod->table)
		return false;
	const struct symbols_sym *s = symbols_table_lookup(mod->table, addr - mod->bias);
	if (!s)
		return false;
	out->module = mod;
	out->name = symbols_name(mod->table, s);
	out->start = s->addr + mod->bias;
	out->size = s->size;
	out->offset = addr - out->start;
	out->type = s->type;
	return true;
}

/* ---- demangling and classes ------------------------------------------- */

static bool demangle(const char *mangled, char *out, size_t n)
{
	int status = -1;
	char *d = __cxa_demangle(mangled, NULL, NULL, &status);
	if (status != 0 || !d) {
		free(d);
		return false;
	}
	snprintf(out, n, "%s", d);
	free(d);
	return true;
}

bool symbols_demangle(const char *mangled, char *out, size_t n)
{
	if (strncmp(mangled, "_Z", 2) == 0 && demangle(mangled, out, n))
		return true;
	snprintf(out, n, "%s", mangled);
	return false;
}

static bool read_word(heapwalk_read_fn read, void *arg, uint64_t at, uint64_t *v)
{
	return read(arg, at, v, sizeof(*v)) == (long)sizeof(*v);
}

/* A mangled type name as RTTI stores it: "12MMFSerializer", "N2ns3FooE",
 * "St6vector...", local types prefixed with '*'. */
static bool plausible_type_name(const char *s)
{
	if (!*s)
		return false;
	if (!(s[0] >= '1' && s[0] <= '9') && s[0] != 'N' && s[0] != 'S' && s[0] != 'Z')
		return false;
	for (const char *p = s; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

static bool class_from_rtti(const struct symbols_map *m, uint64_t vptr, heapwalk_read_fn read,
			    void *arg, char *out, size_t n)
{
	uint64_t ti, ti_vtable, name_ptr;
	if (!read_word(read, arg, vptr - 8, &ti) || !symbols_module_of(m, ti))
		return false;
	if (!read_word(read, arg, ti, &ti_vtable) || !symbols_module_of(m, ti_vtable))
		return false;
	/* The typeinfo's own vtable is libstdc++'s, for a class type. */
	struct symbols_hit hit;
	if (symbols_lookup(m, ti_vtable, &hit) &&
	    strncmp(hit.name, "_ZTVN10__cxxabiv1", 17) != 0)
		return false;
	if (!read_word(read, arg, ti + 8, &name_ptr) || !symbols_module_of(m, name_ptr))
		return false;
	char name[512];
	long got = read(arg, name_ptr, name, sizeof(name) - 1);
	if (got <= 0)
		return false;
	name[got] = '\0';
	if (strnlen(name, sizeof(name)) == sizeof(name) - 1)
		return false;
	const char *mangled = name[0] == '*' ? name + 1 : name;
	if (!plausible_type_name(mangled))
		return false;
	return demangle(mangled, out, n);
}

bool symbols_class_of(const struct symbols_map *m, const struct mt_snapshot *s, uint64_t vptr,
		      heapwalk_read_fn read, void *arg, char *out, size_t n)
{
	if (vptr % 8 != 0 || !symbols_module_of(m, vptr))
		return false;
	/* Vtables live in (relro) data, never in code. */
	long ri = snapshot_find(s, vptr);
	if (ri >= 0 && (s->regions[ri].perms & MT_PERM_X))
		return false;
	struct symbols_hit hit;
	if (symbols_lookup(m, vptr, &hit) && strncmp(hit.name, "_ZTV", 4) == 0) {
		char full[512];
		static const char prefix[] = "vtable for ";
		if (demangle(hit.name, full, sizeof(full)) &&
		    strncmp(full, prefix, sizeof(prefix) - 1) == 0) {
			snprintf(out, n, "%s", full + sizeof(prefix) - 1);
			return true;
		}
	}
	return class_from_rtti(m, vptr, read, arg, out, n);
}
