/*
 * refresh.c - what a refresh costs at the mapping limit (bench_refresh).
 *
 *   bench_refresh [MEMTOP_BINARY] [ROUNDS]
 *
 * A child makes ~65,000 mappings (pages of alternating protection, which
 * cannot merge, and separate mappings of one file) and waits.  Then, in
 * rounds, interleaved so that drift in the machine hits all alike:
 *
 *   a  read() of /proc/CHILD/maps, nothing else: the kernel's own cost
 *   b  proc_read(PROC_READ_RSS_NEVER) + model_update: a memtop refresh
 *   c  read() of /proc/CHILD/smaps
 *   d  proc_read(PROC_READ_RSS_ALWAYS) + model_update: a refresh with
 *      per-region resident sizes
 *
 * and once: the peak RSS of the real memtop binary watching the child
 * (`memtop -p CHILD -b -n 3 --json --regions`), and pmap's times for
 * reference.  Medians are printed with the targets of docs/performance.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/maps.h"
#include "memtop/model.h"
#include "memtop/proc.h"

#include "bench.h"

#define TARGET_REGIONS 65000
#define FILE_MAPS 500
#define TARGET_B_A 1.5
#define TARGET_D_C 1.3
#define TARGET_RSS_MIB 64.0

/* The child: make the mappings, say so on `ready`, wait to be killed. */
static void child(int ready, size_t unused)
{
	size_t pages;
	bench_map_file_windows(FILE_MAPS);
	bench_fill_regions(TARGET_REGIONS, &pages);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static double raw_read(const char *path, char *buf, size_t cap, size_t *len)
{
	double t0 = clock_mono();
	int fd = open(path, O_RDONLY);
	size_t have = 0;
	ssize_t n;
	while (fd >= 0 && have < cap && (n = read(fd, buf + have, cap - have)) > 0)
		have += (size_t)n;
	if (fd >= 0)
		close(fd);
	*len = have;
	return clock_mono() - t0;
}

/* Run argv with stdout to /dev/null; wall time, peak RSS (KiB), status. */
static int run(char *const argv[], double *secs, long *maxrss_kib)
{
	double t0 = clock_mono();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) != pid)
		return -1;
	*secs = clock_mono() - t0;
	*maxrss_kib = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* memtop beside this binary (build/bench_refresh, build/memtop). */
/* The memtop line of the table into line (measured first, printed later). */
static void report_memtop(const char *memtop, pid_t target, char *line, size_t size)
{
	char pid[16];
	double secs;
	long kib;
	snprintf(pid, sizeof(pid), "%d", (int)target);
	if (access(memtop, X_OK) < 0) {
		snprintf(line, size,
			 "  e  memtop peak RSS          not measured: no %s\n", memtop);
		return;
	}
	char *argv[] = { (char *)memtop, "-p", pid, "-b", "-n", "3", "--json", "--regions", NULL };
	int st = run(argv, &secs, &kib);
	if (st != 0) {
		snprintf(line, size,
			 "  e  memtop peak RSS          not measured: %s exited with %d\n",
			 memtop, st);
		return;
	}
	double mib = kib / 1024.0;
	snprintf(line, size,
		 "  e  memtop peak RSS        %8.1f MiB  (3 refreshes, %.2f s)"
		 "      target < %.0f MiB  %s\n", mib, secs, TARGET_RSS_MIB,
		 verdict(mib < TARGET_RSS_MIB));
}

static void report_pmap(pid_t target)
{
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)target);
	char *plain[] = { "pmap", pid, NULL };
	char *extended[] = { "pmap", "-X", pid, NULL };
	double secs;
	long kib;
	if (run(plain, &secs, &kib) == 0)
		printf("     pmap CHILD             %8.1f ms\n", secs * 1e3);
	if (run(extended, &secs, &kib) == 0)
		printf("     pmap -X CHILD          %8.1f ms\n", secs * 1e3);
}

int main(int argc, char **argv)
{
	char memtop[PATH_MAX];
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	bench_memtop_path(memtop, sizeof(memtop), argc, argv);
	if (rounds < 1)
		rounds = 1;

	pid_t pid = bench_start_child(child, 0);
	if (pid < 0) {
		fprintf(stderr, "bench_refresh: the child could not make its mappings\n");
		return 1;
	}

	/* Before this process grows: a forked child's peak RSS counts what it
	 * inherited until exec, and ours will hold a 256 MiB buffer. */
	char memtop_line[PATH_MAX + 256];
	report_memtop(memtop, pid, memtop_line, sizeof(memtop_line));

	char maps[64], smaps[64];
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	snprintf(smaps, sizeof(smaps), "/proc/%d/smaps", (int)pid);
	size_t cap = 256u << 20, len_maps = 0, len_smaps = 0;
	char *buf = malloc(cap);

	struct bench_refresher r;
	struct mt_error err;
	if (!buf || bench_refresher_open(&r, pid, &err) < 0) {
		fprintf(stderr, "bench_refresh: %s\n", buf ? err.msg : "out of memory");
		kill(pid, SIGKILL);
		return 1;
	}

	double *a = calloc((size_t)rounds * 6, sizeof(double));
	double *b = a + rounds, *cc = b + rounds, *d = cc + rounds, *parse = d + rounds;
	double *model = parse + rounds;
	bench_refresh(&r, PROC_READ_RSS_NEVER); /* warm up: buffers, caches */
	for (int i = 0; i < rounds; i++) {
		a[i] = raw_read(maps, buf, cap, &len_maps);
		b[i] = bench_refresh(&r, PROC_READ_RSS_NEVER);
		model[i] = r.model_secs;
		cc[i] = raw_read(smaps, buf, cap, &len_smaps);
		d[i] = bench_refresh(&r, PROC_READ_RSS_ALWAYS);
		/* The parser alone, on text already read (smaps is in buf). */
		struct mt_snapshot s;
		snapshot_init(&s);
		double t0 = clock_mono();
		maps_parse_all(&s, buf, len_smaps, NULL);
		parse[i] = clock_mono() - t0;
		snapshot_free(&s);
	}
	size_t regions = bench_latest(&r)->n_regions;
	double ma = bench_median(a, rounds), mb = bench_median(b, rounds);
	double mc = bench_median(cc, rounds), md = bench_median(d, rounds);
	double mp = bench_median(parse, rounds), mm = bench_median(model, rounds);

	printf("memtop refresh benchmark: %zu regions, %d rounds, medians\n", regions, rounds);
	printf("  a  read maps              %8.1f ms  (%.1f MiB)\n", ma * 1e3,
	       len_maps / 1048576.0);
	printf("  b  refresh, no rss        %8.1f ms  b/a = %.2f"
	       "                target <= %.1f   %s\n", mb * 1e3, mb / ma, TARGET_B_A,
	       verdict(mb / ma <= TARGET_B_A));
	printf("     of which model_update  %8.1f ms\n", mm * 1e3);
	printf("  c  read smaps             %8.1f ms  (%.1f MiB)\n", mc * 1e3,
	       len_smaps / 1048576.0);
	printf("  d  refresh, with rss      %8.1f ms  d/c = %.2f, d/(a+c) = %.2f"
	       "  target <= %.1f   %s\n", md * 1e3, md / mc, md / (ma + mc), TARGET_D_C,
	       verdict(md / mc <= TARGET_D_C));
	printf("     parse smaps text only  %8.1f ms  (%.0f MB/s)\n", mp * 1e3,
	       len_smaps / mp / 1e6);
	printf("%s", memtop_line);
	report_pmap(pid);

	proc_close(r.proc);
	model_free(&r.model);
	snapshot_free(&r.snap[0]);
	snapshot_free(&r.snap[1]);
	free(a);
	free(buf);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
