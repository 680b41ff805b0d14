/*
 * watch.c - what memtop costs left running at -d 1 on a process near the
 * mapping limit (bench_watch).
 *
 *   bench_watch [MEMTOP_BINARY] [SECONDS] [REGIONS]
 *
 * A child makes REGIONS mappings (default 60,000: pages of alternating
 * protection, which cannot merge; the writable ones resident) and waits.
 * Then, one after the other, each for SECONDS (default 20), with the CPU
 * time (user + system, from wait4) of each:
 *
 *   raw     a process that read()s /proc/CHILD/maps once a second and
 *           does nothing else: the least any watcher at -d 1 costs
 *   batch   memtop -p CHILD -b -d 1 -n SECONDS, stdout to /dev/null
 *   screen  memtop -p CHILD -d 1 on a pseudo-terminal (xterm, 120x40),
 *           quit with q after SECONDS
 *
 * memtop runs with its defaults (--rss auto), so per-region resident
 * sizes are part of the cost.  The target of docs/performance.md is
 * memtop <= 2x raw.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define TARGET_RATIO 2.0

static void child(int ready, size_t regions)
{
	size_t pages;
	char *a = bench_fill_regions(regions, &pages);
	long pg = sysconf(_SC_PAGESIZE);
	for (size_t i = 1; i < pages; i += 2)
		a[i * (size_t)pg] = 1; /* the read-write pages resident */
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static double cpu_of(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 + ru->ru_stime.tv_sec +
	       ru->ru_stime.tv_usec / 1e6;
}

/* Sleep until mono time t. */
static void sleep_until(double t)
{
	double now = clock_mono();
	if (t <= now)
		return;
	struct timespec ts = { (time_t)(t - now), (long)((t - now - (time_t)(t - now)) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* raw: a child reading maps once a second for secs seconds. */
static double run_raw(pid_t target, int secs)
{
	pid_t pid = fork();
	if (pid == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)target);
		size_t cap = 64u << 20;
		char *buf = malloc(cap);
		double t0 = clock_mono();
		for (int i = 0; i < secs && buf; i++) {
			int fd = open(path, O_RDONLY);
			size_t have = 0;
			ssize_t n;
			while (fd >= 0 && (n = read(fd, buf + (have % (cap / 2)), 256 * 1024)) > 0)
				have += (size_t)n;
			if (fd >= 0)
				close(fd);
			sleep_until(t0 + i + 1);
		}
		_exit(0);
	}
	struct rusage ru;
	int st;
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
		return -1;
	return cpu_of(&ru);
}

static double run_batch(const char *memtop, pid_t target, int secs)
{
	char p[16], n[16];
	snprintf(p, sizeof(p), "%d", (int)target);
	snprintf(n, sizeof(n), "%d", secs);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(memtop, memtop, "-p", p, "-b", "-d", "1", "-n", n, (char *)NULL);
		_exit(127);
	}
	struct rusage ru;
	int st;
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return cpu_of(&ru);
}

static double run_screen(const char *memtop, pid_t target, int secs)
{
	char p[16];
	snprintf(p, sizeof(p), "%d", (int)target);
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, &ws);
	if (pid == 0) {
		setenv("TERM", "xterm", 1);
		execl(memtop, memtop, "-p", p, "-d", "1", (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	/* Drain the screen's output, as a terminal would. */
	char buf[65536];
	double end = clock_mono() + secs;
	for (;;) {
		double left = end - clock_mono();
		if (left <= 0)
			break;
		struct pollfd pfd = { master, POLLIN, 0 };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) > 0 && read(master, buf, sizeof(buf)) <= 0)
			break;
	}
	if (write(master, "q", 1) != 1)
		kill(pid, SIGTERM);
	struct rusage ru;
	int st;
	for (;;) {
		pid_t w = wait4(pid, &st, WNOHANG, &ru);
		if (w == pid)
			break;
		if (w < 0)
			return -1;
		struct pollfd pfd = { master, POLLIN, 0 };
		if (poll(&pfd, 1, 100) > 0 && read(master, buf, sizeof(buf)) < 0)
			usleep(10000);
	}
	close(master);
	return cpu_of(&ru);
}

static void line(const char *what, double cpu, double raw, int secs)
{
	if (cpu < 0) {
		printf("  %-8s failed\n", what);
		return;
	}
	printf("  %-8s %7.3f s CPU  %5.2f%% of a core", what, cpu, 100 * cpu / secs);
	if (raw > 0 && cpu != raw)
		printf("  %5.2fx raw  target <= %.1fx  %s", cpu / raw, TARGET_RATIO,
		       cpu / raw <= TARGET_RATIO ? "PASS" : "MISS");
	printf("\n");
}

/* memtop beside this binary (build/bench_watch, build/memtop). */
int main(int argc, char **argv)
{
	char memtop[PATH_MAX];
	bench_memtop_path(memtop, sizeof(memtop), argc, argv);
	int secs = argc > 2 ? atoi(argv[2]) : 20;
	size_t regions = argc > 3 ? strtoul(argv[3], NULL, 10) : 60000;
	if (secs < 2)
		secs = 2;

	pid_t pid = bench_start_child(child, regions);
	if (pid < 0) {
		fprintf(stderr, "bench_watch: the child could not make its mappings\n");
		return 1;
	}
	char maps[64];
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	printf("memtop left running at -d 1: %zu regions, %d s each, CPU time (user + system)\n",
	       bench_count_lines(maps), secs);
	double raw = run_raw(pid, secs);
	line("raw", raw, raw, secs);
	line("batch", run_batch(memtop, pid, secs), raw, secs);
	line("screen", run_screen(memtop, pid, secs), raw, secs);
	double raw2 = run_raw(pid, secs);
	line("raw", raw2, raw2, secs);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
