/*
 * bench_scan - scan throughput against a plain copy of the same memory.
 *
 *   bench_scan [MIB] [--no-gdb] [--chunk KIB]
 *
 * Forks a child that fills MIB MiB (default 1024) of private anonymous
 * memory with pointer-free words and plants a few pointers into a small
 * target mapping, then measures in the same run, over that memory:
 *   raw   process_vm_readv in 1 MiB chunks into one buffer, nothing else;
 *   scan  scan_run (read + match + attribution) over the same region;
 *   gdb   gdb -batch -p CHILD -ex "find /g START, END-8, VALUE", for
 *         reference (the WinDbg `s -q` equivalent).
 * Each of raw and scan runs 5 times, interleaved; the best of each is
 * reported.  The planted references must all be found.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/scan.h"

#define CHUNK (1u << 20)
#define PLANTED 16
#define RUNS 5

struct shared {
	uint64_t big, big_len, target;
	int ready;
};

static void child(struct shared *sh, size_t len, int ready_fd)
{
	uint64_t *big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	void *target = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
	if (big == MAP_FAILED || target == MAP_FAILED)
		_exit(1);
	/* Pointer-free words: small counters and odd constants. */
	for (size_t i = 0; i < len / 8; i++)
		big[i] = (i & 7) ? i * 0x10001 : 0x5a5a5a5a5a5a5a5aULL;
	for (int k = 0; k < PLANTED; k++)
		big[(len / 8 / PLANTED) * (size_t)k + 3] = (uint64_t)(uintptr_t)target + 8 * (uint64_t)k;
	sh->big = (uint64_t)(uintptr_t)big;
	sh->big_len = len;
	sh->target = (uint64_t)(uintptr_t)target;
	char c = 'r';
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static double raw_copy(pid_t pid, uint64_t start, uint64_t len, void *buf)
{
	double t0 = clock_mono();
	for (uint64_t at = start; at < start + len; at += CHUNK) {
		struct iovec l = { buf, CHUNK }, r = { (void *)(uintptr_t)at, CHUNK };
		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != CHUNK) {
			perror("process_vm_readv");
			exit(1);
		}
	}
	return clock_mono() - t0;
}

static double gdb_find(pid_t pid, uint64_t start, uint64_t len, uint64_t value)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "timeout 600 gdb -nx -batch -p %d -ex 'find /g 0x%llx, 0x%llx, 0x%llx' "
		 ">/tmp/bench_scan_gdb.txt 2>&1", (int)pid, (unsigned long long)start,
		 (unsigned long long)(start + len - 8), (unsigned long long)value);
	double t0 = clock_mono();
	int rc = system(cmd);
	double t = clock_mono() - t0;
	if (rc != 0)
		fprintf(stderr, "gdb failed (rc %d), see /tmp/bench_scan_gdb.txt\n", rc);
	return t;
}

int main(int argc, char **argv)
{
	size_t mib = 1024;
	bool gdb = true;
	size_t scan_chunk = 0; /* scan_run's default */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-gdb") == 0)
			gdb = false;
		else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
			scan_chunk = strtoul(argv[++i], NULL, 10) << 10;
		else
			mib = strtoul(argv[i], NULL, 10);
	}
	size_t len = mib << 20;
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int p[2];
	if (sh == MAP_FAILED || pipe(p) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0)
		child(sh, len, p[1]);
	char c;
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "child failed\n");
		return 1;
	}

	/* A snapshot of just the big region. */
	struct mt_snapshot s;
	snapshot_init(&s);
	s.pid = pid;
	struct mt_region *r = snapshot_add_region(&s);
	r->start = sh->big;
	r->end = sh->big + sh->big_len;
	r->perms = MT_PERM_R | MT_PERM_W;
	r->category = MT_CAT_ANON;
	r->path = "";

	void *buf = aligned_alloc(64, CHUNK);
	double best_raw = 1e9, best_scan = 1e9;
	uint64_t found = 0;
	for (int run = 0; run < RUNS; run++) {
		double t = raw_copy(pid, sh->big, sh->big_len, buf);
		if (t < best_raw)
			best_raw = t;
		struct scan_result res;
		struct mt_error err;
		scan_result_init(&res);
		struct scan_options o = { .chunk_size = scan_chunk };
		if (scan_run(&s, sh->target, sh->target + 4096, &o, &res, &err) < 0) {
			fprintf(stderr, "scan_run: %s\n", err.msg);
			return 1;
		}
		if (res.seconds < best_scan)
			best_scan = res.seconds;
		found = res.refs_total;
		scan_result_free(&res);
	}
	double gb = (double)len / 1e9;
	printf("memory        %zu MiB, %d planted pointers, %llu found\n", mib, PLANTED,
	       (unsigned long long)found);
	printf("raw copy      %.3f s  %.2f GB/s  (process_vm_readv, 1 MiB chunks)\n", best_raw,
	       gb / best_raw);
	printf("scan_run      %.3f s  %.2f GB/s  = %.0f%% of raw  (%zu KiB chunks)\n", best_scan,
	       gb / best_scan, 100.0 * best_raw / best_scan,
	       (scan_chunk ? scan_chunk : SCAN_CHUNK_DEFAULT) >> 10);
	if (gdb) {
		double t = gdb_find(pid, sh->big, sh->big_len, sh->target);
		printf("gdb find /g   %.3f s  %.3f GB/s  (one value only)\n", t, gb / t);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(buf);
	return found == PLANTED ? 0 : 1;
}
