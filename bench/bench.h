/*
 * bench.h - what the benchmarks share: statistics over timings and a line
 * count.  Static functions in a header, so each bench stays one file
 * (CMake makes an executable of each .c file of bench/).
 */
#ifndef MEMTOP_BENCH_H
#define MEMTOP_BENCH_H

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/model.h"
#include "memtop/proc.h"

/* The memtop to measure: argv[1] when given and not empty, else the one
 * built beside this bench. */
static inline void bench_memtop_path(char *out, size_t size, int argc, char **argv)
{
	if (argc > 1 && argv[1][0]) {
		snprintf(out, size, "%s", argv[1]);
		return;
	}
	char self[PATH_MAX - 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		slash[1] = '\0';
	snprintf(out, size, "%smemtop", slash ? self : "./");
}

/* Fork a target: child(ready, arg) makes its mappings, writes a byte on
 * ready and waits to be killed.  Its pid once it is ready; -1 when it
 * could not be started or died first. */
static inline pid_t bench_start_child(void (*child)(int ready, size_t arg), size_t arg)
{
	int fd[2];
	char c;
	if (pipe(fd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		child(fd[1], arg);
		_exit(1);
	}
	close(fd[1]);
	bool ready = pid > 0 && read(fd[0], &c, 1) == 1;
	close(fd[0]);
	return ready ? pid : -1;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts v.  q in [0, 1]: nearest rank. */
static inline double bench_quantile(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	int i = (int)(q * n + 0.5) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Sorts v. */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Lines of a file (a /proc/PID/maps: its regions). */
static inline size_t bench_count_lines(const char *path)
{
	static char buf[1 << 16];
	size_t n = 0;
	int fd = open(path, O_RDONLY);
	ssize_t r;
	while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
	if (fd >= 0)
		close(fd);
	return n;
}

/*
 * For a fixture child: n one-page read-only mappings of one unlinked
 * temporary file (n regions of one path).  _exit(1) on failure.
 */
static inline void bench_map_file_windows(int n)
{
	long pg = sysconf(_SC_PAGESIZE);
	char path[] = "/tmp/memtop_bench.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, pg) < 0)
		_exit(1);
	unlink(path);
	for (int i = 0; i < n; i++)
		if (mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
			_exit(1);
}

/*
 * For a fixture child: as many more pages as it takes to have `regions`
 * regions in all, alternately read-only and read-write so that none
 * merges, read-only at both ends so that no neighbour merges either.
 * Returns the first page; *pages their count.  _exit(1) on failure.
 */
static inline char *bench_fill_regions(size_t regions, size_t *pages)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t have = bench_count_lines("/proc/self/maps");
	size_t n = regions > have ? regions - have : 1;
	n |= 1;
	char *a = mmap(NULL, n * (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		_exit(1);
	for (size_t i = 1; i < n; i += 2)
		if (mprotect(a + i * (size_t)pg, (size_t)pg, PROT_READ | PROT_WRITE) < 0)
			_exit(1);
	*pages = n;
	return a;
}

/* A live refresh as memtop does it: proc_read, then model_update. */
struct bench_refresher {
	struct mt_proc *proc;
	struct mt_model model;
	struct mt_snapshot snap[2];
	int cur;
	bool first;
	double model_secs; /* of the last refresh */
};

static inline int bench_refresher_open(struct bench_refresher *r, pid_t pid,
				       struct mt_error *err)
{
	memset(r, 0, sizeof(*r));
	r->first = true;
	model_init(&r->model);
	snapshot_init(&r->snap[0]);
	snapshot_init(&r->snap[1]);
	return proc_open(&r->proc, pid, err);
}

static inline void bench_refresher_close(struct bench_refresher *r)
{
	proc_close(r->proc);
	model_free(&r->model);
	snapshot_free(&r->snap[0]);
	snapshot_free(&r->snap[1]);
}

/* One refresh: its seconds (model_secs: of those, the model's).  Exits
 * on failure: a bench has nothing to measure then. */
static inline double bench_refresh(struct bench_refresher *r, unsigned flags)
{
	struct mt_error err;
	struct mt_snapshot *cur = &r->snap[r->cur], *prev = &r->snap[!r->cur];
	double t0 = clock_mono();
	if (proc_read(r->proc, cur, flags, &err) < 0) {
		fprintf(stderr, "proc_read: %s\n", err.msg);
		exit(1);
	}
	double t1 = clock_mono();
	if (model_update(&r->model, r->first ? NULL : prev, cur) < 0) {
		fprintf(stderr, "model_update: out of memory\n");
		exit(1);
	}
	double t = clock_mono() - t0;
	r->model_secs = clock_mono() - t1;
	r->first = false;
	r->cur = !r->cur;
	return t;
}

/* The snapshot the last refresh took. */
static inline const struct mt_snapshot *bench_latest(const struct bench_refresher *r)
{
	return &r->snap[!r->cur];
}

#endif
