/*
 * bench_symbols - symbol look-ups per second after the one-time table
 * build, against libdw's own look-up.
 *
 *   bench_symbols [PID]
 *
 * Takes a snapshot of PID (default: this process), builds the symbol map
 * (timed: the one-time cost, then again from the cache), and looks up
 * random addresses inside the modules' mapped images: first through
 * symbols_lookup (module binary search + table binary search), then
 * through libdw (dwfl_addrmodule + dwfl_module_addrname) for reference.
 */
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/classify.h"
#include "memtop/proc.h"
#include "memtop/symbols.h"

#define LOOKUPS 2000000
#define DW_LOOKUPS 20000

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int main(int argc, char **argv)
{
	pid_t pid = argc > 1 ? (pid_t)atoi(argv[1]) : getpid();
	struct mt_error err;
	struct mt_proc *p;
	struct mt_snapshot s;
	snapshot_init(&s);
	if (proc_open(&p, pid, &err) < 0 || proc_read(p, &s, PROC_READ_RSS_NEVER, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	classify_run(&s);

	struct symbols_cache cache;
	struct symbols_map map;
	memset(&map, 0, sizeof(map));
	symbols_cache_init(&cache);
	double t0 = clock_mono();
	if (symbols_map_build(&map, &cache, &s, pid) < 0)
		return 1;
	double build = clock_mono() - t0;
	size_t syms = 0;
	for (size_t i = 0; i < cache.n; i++)
		syms += cache.tables[i]->n;
	t0 = clock_mono();
	symbols_map_build(&map, &cache, &s, pid);
	double rebuild = clock_mono() - t0;

	/* Addresses: uniformly inside the modules. */
	uint64_t *addrs = malloc(LOOKUPS * sizeof(*addrs));
	uint64_t x = 88172645463325252ULL;
	for (size_t i = 0; i < LOOKUPS; i++) {
		const struct symbols_module *m = &map.v[rnd(&x) % map.n];
		addrs[i] = m->start + rnd(&x) % (m->end - m->start);
	}
	size_t hits = 0;
	t0 = clock_mono();
	for (size_t i = 0; i < LOOKUPS; i++) {
		struct symbols_hit h;
		hits += symbols_lookup(&map, addrs[i], &h);
	}
	double t = clock_mono() - t0;
	printf("modules       %zu, %zu symbols in their tables\n", map.n, syms);
	printf("table build   %.1f ms (once per build id), %.2f ms from the cache\n",
	       build * 1e3, rebuild * 1e3);
	printf("memtop        %.0f look-ups/s (%d look-ups, %.0f%% named)\n", LOOKUPS / t,
	       LOOKUPS, 100.0 * (double)hits / LOOKUPS);

	Dwfl_Callbacks cb = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	Dwfl *dw = dwfl_begin(&cb);
	if (dw && dwfl_linux_proc_report(dw, pid) == 0 && dwfl_report_end(dw, NULL, NULL) == 0) {
		/* Warm up: libdw loads each module's symbols on first use. */
		for (size_t i = 0; i < map.n; i++) {
			Dwfl_Module *m = dwfl_addrmodule(dw, map.v[i].start);
			if (m)
				dwfl_module_addrname(m, map.v[i].start);
		}
		size_t dhits = 0;
		t0 = clock_mono();
		for (size_t i = 0; i < DW_LOOKUPS; i++) {
			Dwfl_Module *m = dwfl_addrmodule(dw, addrs[i]);
			dhits += m && dwfl_module_addrname(m, addrs[i]);
		}
		t = clock_mono() - t0;
		printf("libdw         %.0f look-ups/s (%d look-ups, %.0f%% named)\n",
		       DW_LOOKUPS / t, DW_LOOKUPS, 100.0 * (double)dhits / DW_LOOKUPS);
	}
	if (dw)
		dwfl_end(dw);
	free(addrs);
	symbols_map_free(&map);
	symbols_cache_free(&cache);
	snapshot_free(&s);
	proc_close(p);
	return 0;
}
