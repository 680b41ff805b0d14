/*
 * bench.h - what the benchmarks share: statistics over timings and a line
 * count.  Static functions in a header, so each bench stays one file
 * (CMake makes an executable of each .c file of bench/).
 */
#ifndef MEMTOP_BENCH_H
#define MEMTOP_BENCH_H

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

#endif
