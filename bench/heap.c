/*
 * bench_heap - the heap census and leak search against a plain copy of
 * the same heap, on the shape the issue measured chap on.
 *
 *   bench_heap [SCALE] [RUNS] [nodes]
 *                                 (SCALE 1: 5 M chunks, ~300 MiB; RUNS 5;
 *                                 nodes: the target's heap is 2 M std::map
 *                                 and 1 M std::list nodes instead, which
 *                                 the leak search names by their links)
 *
 * Starts bench_heap_target (beside this program) and measures, in the
 * same run, interleaved RUNS times:
 *   raw     process_vm_readv of the whole [heap] in 1 MiB pieces on one
 *           thread into one buffer (the least a census must read);
 *   census  memtop -p PID --heap --json: the target's stop (stopped_ms),
 *           memtop's wall time and peak RSS (wait4);
 *   leaks   memtop -p PID --heap --leaks --json: the same, and the leak
 *           search's own time.
 * memtop is the binary beside this program (or $MEMTOP).  The target's
 * Rss and Anonymous (smaps_rollup) are compared before and after.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "memtop/clock.h"

#define PIECE (1u << 20)
#define MAX_RUNS 50

static char dir[PATH_MAX];

static void here(void)
{
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		exit(1);
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
}

static pid_t start_target(const char *scale, const char *shape, int *to_child)
{
	int in[2], out[2];
	if (pipe(in) || pipe(out))
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/bench_heap_target", dir);
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, "bench_heap_target", scale, shape, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char buf[16] = { 0 };
	if (read(out[0], buf, sizeof(buf) - 1) < 5 || strncmp(buf, "ready", 5) != 0) {
		fprintf(stderr, "bench_heap_target did not start\n");
		exit(1);
	}
	*to_child = in[1];
	return pid;
}

static void heap_of(pid_t pid, uint64_t *lo, uint64_t *hi)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[heap]")) {
			unsigned long long a, b;
			sscanf(line, "%llx-%llx", &a, &b);
			*lo = a;
			*hi = b;
		}
	if (f)
		fclose(f);
}

static long rollup(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

static double raw_copy(pid_t pid, uint64_t lo, uint64_t hi, void *buf)
{
	double t0 = clock_mono();
	for (uint64_t at = lo; at < hi; at += PIECE) {
		size_t len = hi - at < PIECE ? hi - at : PIECE;
		struct iovec l = { buf, len }, r = { (void *)(uintptr_t)at, len };
		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)len) {
			perror("process_vm_readv");
			exit(1);
		}
	}
	return clock_mono() - t0;
}

struct run {
	double wall, stopped_ms, leak_s, maxrss_mib;
	long leaked, nodes;
};

static double json_num(const char *text, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(text, k);
	return p ? atof(p + strlen(k)) : -1;
}

static struct run run_memtop(const char *memtop, pid_t pid, bool leaks)
{
	char pidarg[16], out[] = "/tmp/bench_heap_XXXXXX";
	int fd = mkstemp(out);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	double t0 = clock_mono();
	pid_t m = fork();
	if (m == 0) {
		dup2(fd, 1);
		execl(memtop, "memtop", "-p", pidarg, "--heap", "--json",
		      leaks ? "--leaks" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	wait4(m, &status, 0, &ru);
	struct run r = { .wall = clock_mono() - t0, .maxrss_mib = ru.ru_maxrss / 1024.0 };
	static char text[1 << 20];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n <= 0) {
		fprintf(stderr, "memtop failed (status %d)\n", status);
		exit(1);
	}
	r.stopped_ms = json_num(text, "stopped_ms");
	if (leaks) {
		const char *l = strstr(text, "\"leaks\":");
		r.leak_s = l ? json_num(l, "seconds") : -1;
		r.leaked = l ? (long)json_num(l, "count") : -1;
		/* Chunks named by the node patterns (classes come first). */
		const char *mn = strstr(text, "\"std::map/set node\"");
		const char *ln = strstr(text, "\"std::list node\"");
		r.nodes = (mn && (!l || mn < l) ? (long)json_num(mn, "count") : 0) +
			  (ln && (!l || ln < l) ? (long)json_num(ln, "count") : 0);
	}
	return r;
}

int main(int argc, char **argv)
{
	const char *scale = argc > 1 ? argv[1] : "1";
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	const char *shape = argc > 3 && strcmp(argv[3], "nodes") == 0 ? "nodes" : "objects";
	if (runs < 1 || runs > MAX_RUNS)
		runs = 5;
	here();
	char memtop[PATH_MAX + 16];
	if (getenv("MEMTOP"))
		snprintf(memtop, sizeof(memtop), "%s", getenv("MEMTOP"));
	else
		snprintf(memtop, sizeof(memtop), "%s/memtop", dir);
	int to_child;
	pid_t pid = start_target(scale, shape, &to_child);
	uint64_t lo = 0, hi = 0;
	heap_of(pid, &lo, &hi);
	void *buf = malloc(PIECE);
	long rss0 = rollup(pid, "Rss"), anon0 = rollup(pid, "Anonymous");
	double raw[MAX_RUNS], stop_c[MAX_RUNS], wall_c[MAX_RUNS], stop_l[MAX_RUNS],
	       wall_l[MAX_RUNS], leak_s[MAX_RUNS], rss_c = 0, rss_l = 0;
	long leaked = 0, nodes = 0;
	for (int i = 0; i < runs; i++) {
		raw[i] = raw_copy(pid, lo, hi, buf);
		struct run c = run_memtop(memtop, pid, false);
		struct run l = run_memtop(memtop, pid, true);
		stop_c[i] = c.stopped_ms / 1e3;
		wall_c[i] = c.wall;
		stop_l[i] = l.stopped_ms / 1e3;
		wall_l[i] = l.wall;
		leak_s[i] = l.leak_s;
		leaked = l.leaked;
		nodes = l.nodes;
		if (c.maxrss_mib > rss_c)
			rss_c = c.maxrss_mib;
		if (l.maxrss_mib > rss_l)
			rss_l = l.maxrss_mib;
	}
	long rss1 = rollup(pid, "Rss"), anon1 = rollup(pid, "Anonymous");
	double r = bench_median(raw, runs);
	printf("memtop heap benchmark: scale %s%s, [heap] %.0f MiB, %d runs, medians\n", scale,
	       strcmp(shape, "nodes") == 0 ? ", nodes" : "", (double)(hi - lo) / (1 << 20), runs);
	printf("  raw copy (process_vm_readv, 1 thread)  %8.3f s\n", r);
	printf("  census: target stopped                 %8.3f s  (%.2fx raw)\n",
	       bench_median(stop_c, runs), bench_median(stop_c, runs) / r);
	printf("  census: memtop wall time               %8.3f s, peak RSS %.0f MiB\n",
	       bench_median(wall_c, runs), rss_c);
	printf("  leaks: target stopped                  %8.3f s  (%.2fx raw)\n",
	       bench_median(stop_l, runs), bench_median(stop_l, runs) / r);
	printf("  leaks: search                          %8.3f s\n", bench_median(leak_s, runs));
	printf("  leaks: memtop wall time                %8.3f s, peak RSS %.0f MiB\n",
	       bench_median(wall_l, runs), rss_l);
	printf("  leaked chunks found                    %8ld\n", leaked);
	printf("  list and map/set nodes named           %8ld\n", nodes);
	printf("  target Rss %ld -> %ld kB, Anonymous %ld -> %ld kB\n", rss0, rss1, anon0, anon1);
	close(to_child);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(buf);
	return rss0 == rss1 && anon0 == anon1 ? 0 : 1;
}
