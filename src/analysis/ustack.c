/*
 * ustack.c - unwinding copied user stacks with libdw (include/memtop/ustack.h).
 *
 * One Dwfl per target, its modules reported from /proc/PID/maps and kept
 * across samples (libdw caches each module's CFI), re-reported only when
 * a pc falls outside every module.  The Dwfl is "attached" to callbacks
 * that serve the sample being unwound: its registers, and reads from its
 * stack copy; a read outside the copy fails, which ends the unwind there
 * rather than guessing.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/classify.h"
#include "memtop/maps.h"
#include "memtop/proc.h"
#include "memtop/symbols.h"
#include "memtop/ustack.h"

struct ustack {
	pid_t pid;
	Dwfl *dwfl;
	bool attached;
	bool stale;          /* modules to re-report before the next unwind */
	/* The sample being unwound. */
	int tid;
	const uint64_t *regs;
	const uint8_t *stack;
	uint64_t stack_lo, stack_hi;
	bool served;
	uint64_t *ips;
	size_t n, max;
	/* Names: a private view of the maps for symbols.h. */
	struct mt_snapshot snap;
	struct symbols_cache cache;
	struct symbols_map map;
	bool map_ok;
	char *maps_text;
	size_t maps_cap;
};

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	struct ustack *u = arg;
	if (u->served)
		return 0;
	u->served = true;
	*thread_arg = u;
	return u->tid;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	struct ustack *u = arg;
	*thread_arg = u;
	return tid == u->tid;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct ustack *u = arg;
	if (addr < u->stack_lo || addr + 8 > u->stack_hi || addr + 8 < addr)
		return false;
	memcpy(result, u->stack + (addr - u->stack_lo), 8);
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct ustack *u = arg;
	Dwarf_Word regs[TRACE_NREGS];
	for (int i = 0; i < TRACE_NREGS; i++)
		regs[i] = u->regs[i];
	return dwfl_thread_state_registers(thread, 0, TRACE_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

/*
 * The modules, as the target sees its files: /proc/PID/maps with every
 * path put under /proc/PID/root, so that a target in a container or a
 * chroot has its own libraries read, not memtop's files of the same name
 * (symbols.h opens them the same way).
 */
static int report_modules(struct ustack *u)
{
	char path[64], prefix[48];
	snprintf(path, sizeof(path), "/proc/%d/maps", u->pid);
	long len = proc_slurp(path, &u->maps_text, &u->maps_cap);
	if (len < 0)
		return -EIO;
	int plen = snprintf(prefix, sizeof(prefix), "/proc/%d/root", u->pid);
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	if (!out)
		return -ENOMEM;
	for (char *line = u->maps_text; line < u->maps_text + len;) {
		char *nl = memchr(line, '\n', (size_t)(u->maps_text + len - line));
		char *end = nl ? nl : u->maps_text + len;
		char *slash = memchr(line, '/', (size_t)(end - line));
		if (slash && slash[-1] == ' ') {
			fwrite(line, 1, (size_t)(slash - line), out);
			fwrite(prefix, 1, (size_t)plen, out);
			fwrite(slash, 1, (size_t)(end - slash), out);
		} else {
			fwrite(line, 1, (size_t)(end - line), out);
		}
		fputc('\n', out);
		line = end + 1;
	}
	fclose(out);
	FILE *in = fmemopen(text, size ? size : 1, "r");
	int rc = in ? dwfl_linux_proc_maps_report(u->dwfl, in) : -1;
	if (in)
		fclose(in);
	free(text);
	return rc ? -EIO : 0;
}

static int report(struct ustack *u)
{
	dwfl_report_begin(u->dwfl);
	int rc = report_modules(u);
	dwfl_report_end(u->dwfl, NULL, NULL);
	if (rc)
		return -EIO;
	if (!u->attached) {
		if (!dwfl_attach_state(u->dwfl, NULL, u->pid, &thread_callbacks, u))
			return -EIO;
		u->attached = true;
	}
	u->stale = false;
	return 0;
}

int ustack_open(struct ustack **out, pid_t pid)
{
	struct ustack *u = calloc(1, sizeof(*u));
	*out = NULL;
	if (!u)
		return -ENOMEM;
	u->pid = pid;
	snapshot_init(&u->snap);
	symbols_cache_init(&u->cache);
	u->dwfl = dwfl_begin(&proc_callbacks);
	if (!u->dwfl || report(u)) {
		ustack_close(u);
		return -EIO;
	}
	u->stale = true; /* names: read on first use */
	*out = u;
	return 0;
}

void ustack_close(struct ustack *u)
{
	if (!u)
		return;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	symbols_map_free(&u->map);
	symbols_cache_free(&u->cache);
	snapshot_free(&u->snap);
	free(u->maps_text);
	free(u);
}

void ustack_invalidate(struct ustack *u)
{
	u->stale = true;
	u->map_ok = false;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct ustack *u = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	/* A return address points after its call: name the call. */
	u->ips[u->n++] = activation || pc == 0 ? pc : pc - 1;
	return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

size_t ustack_unwind(struct ustack *u, int tid, const uint64_t regs[TRACE_NREGS],
		     const uint8_t *stack, size_t size, uint64_t *ips, size_t max)
{
	if (max == 0)
		return 0;
	if (u->stale || !dwfl_addrmodule(u->dwfl, regs[TRACE_REG_IP]))
		report(u);
	u->tid = tid;
	u->regs = regs;
	u->stack = stack;
	u->stack_lo = regs[TRACE_REG_SP];
	u->stack_hi = u->stack_lo + size;
	u->served = false;
	u->ips = ips;
	u->n = 0;
	u->max = max;
	dwfl_getthread_frames(u->dwfl, tid, frame_cb, u);
	if (u->n == 0) /* not even the pc: name it at least */
		ips[u->n++] = regs[TRACE_REG_IP];
	return u->n;
}

/* A private snapshot of the maps, for symbols.h's module table. */
static void names_refresh(struct ustack *u)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", u->pid);
	long len = proc_slurp(path, &u->maps_text, &u->maps_cap);
	snapshot_reset(&u->snap);
	if (len < 0 || maps_parse(&u->snap, u->maps_text, (size_t)len, NULL))
		return;
	u->snap.pid = u->pid;
	classify_run(&u->snap);
	symbols_map_free(&u->map);
	u->map_ok = symbols_map_build(&u->map, &u->cache, &u->snap, u->pid) == 0;
}

/* The name of an inlined scope: its linkage name demangled, else its name. */
static const char *scope_name(Dwarf_Die *die, char *buf, size_t n)
{
	Dwarf_Attribute attr;
	const char *s = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		s = dwarf_formstring(&attr);
	if (s) {
		symbols_demangle(s, buf, n);
		return buf;
	}
	if (dwarf_attr_integrate(die, DW_AT_name, &attr) && (s = dwarf_formstring(&attr)))
		return s;
	return "";
}

/* Inlined frames at ip (innermost first) into fr; returns how many. */
static size_t inlined_at(struct ustack *u, uint64_t ip, const char *module,
			 struct mt_frame *fr, size_t max, char (*names)[256])
{
	Dwfl_Module *mod = dwfl_addrmodule(u->dwfl, ip);
	Dwarf_Addr bias;
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, ip, &bias) : NULL;
	Dwarf_Die *scopes = NULL, *chain = NULL;
	int n = cu ? dwarf_getscopes(cu, ip - bias, &scopes) : 0;
	size_t k = 0;
	/* dwarf_getscopes's list can skip the inlined instances enclosing the
	 * innermost one; the DIE tree itself (dwarf_getscopes_die, as
	 * eu-addr2line -i does) has them all. */
	int first = 0;
	while (first < n && dwarf_tag(&scopes[first]) != DW_TAG_inlined_subroutine)
		first++;
	int m = first < n ? dwarf_getscopes_die(&scopes[first], &chain) : 0;
	for (int i = 0; i < m && k < max; i++) {
		if (dwarf_tag(&chain[i]) != DW_TAG_inlined_subroutine)
			continue;
		fr[k] = (struct mt_frame){ .ip = ip, .module = module, .inlined = true,
					   .symbol = scope_name(&chain[i], names[k], 256) };
		k++;
	}
	free(chain);
	free(scopes);
	return k;
}

int ustack_symbolize(struct ustack *u, const uint64_t *ips, size_t n, struct mt_stack *out)
{
	static __thread struct mt_frame fr[ORIGINS_MAX_FRAMES];
	static __thread char names[ORIGINS_MAX_FRAMES][256];
	static __thread char inl_names[ORIGINS_MAX_FRAMES][256];
	size_t k = 0;

	if (!u->map_ok || u->stale)
		names_refresh(u);
	/* A library loaded since: look again, once, before any name points
	 * into the snapshot. */
	for (size_t i = 0; u->map_ok && i < n; i++)
		if (!symbols_module_of(&u->map, ips[i])) {
			names_refresh(u);
			break;
		}
	for (size_t i = 0; i < n && k < ORIGINS_MAX_FRAMES; i++) {
		struct symbols_hit hit;
		const struct symbols_module *m =
			u->map_ok ? symbols_module_of(&u->map, ips[i]) : NULL;
		const char *module = m ? m->path : "";
		k += inlined_at(u, ips[i], module, &fr[k], ORIGINS_MAX_FRAMES - k, &inl_names[k]);
		if (k >= ORIGINS_MAX_FRAMES)
			break;
		struct mt_frame *f = &fr[k++];
		*f = (struct mt_frame){ .ip = ips[i], .module = module, .symbol = "" };
		if (u->map_ok && symbols_lookup(&u->map, ips[i], &hit)) {
			symbols_demangle(hit.name, names[k - 1], sizeof(names[0]));
			f->symbol = names[k - 1];
			f->offset = ips[i] - hit.start;
		} else {
			/* No symbol table entry: libdw's (it reads .gnu_debugdata too). */
			Dwfl_Module *mod = dwfl_addrmodule(u->dwfl, ips[i]);
			GElf_Sym sym;
			GElf_Off off;
			const char *s = mod ? dwfl_module_addrinfo(mod, ips[i], &off, &sym, NULL,
								   NULL, NULL) : NULL;
			if (s) {
				symbols_demangle(s, names[k - 1], sizeof(names[0]));
				f->symbol = names[k - 1];
				f->offset = off;
			}
		}
	}
	return origins_stack_build(out, fr, (uint32_t)k) ? -ENOMEM : 0;
}
