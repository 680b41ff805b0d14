/*
 * bench_trace - what --trace costs the target and memtop (docs/performance.md).
 *
 *   bench_trace [-s STACK_BYTES] [SECONDS] [RATE ...]
 *
 * A child maps and unmaps 256 KiB windows of a file in a loop, with a
 * fixed amount of computation between calls, calibrated (untraced) so
 * that it makes RATE maps a second; 0 means no computation at all (as
 * fast as it can).  For each rate, in the same run: SECONDS untraced,
 * SECONDS traced (the tracer of memtop's --trace, in this process), again
 * both; the target's throughput is its loop count over its own CPU time
 * (user and kernel: the machine may be shared, and wall time would
 * measure the neighbours).
 * Printed per rate: throughput untraced and traced, the loss, events
 * made per loop (2.000: a map and an unmap each, none missed), records
 * lost, and the tracer's CPU per event (a map or an unmap,
 * unwinding and naming included) after a warm-up.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "memtop/tracer.h"

#define WINDOW (256 * 1024)

struct shared {
	volatile uint64_t iterations;
	volatile uint64_t work;   /* spin iterations between maps */
	volatile int stop;
	volatile int pause;       /* no calls while set */
};

static void sleep_for(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

__attribute__((noinline)) static void *map_window(int fd)
{
	return mmap(NULL, WINDOW, PROT_READ, MAP_SHARED, fd, 0);
}

static void target(struct shared *sh)
{
	char path[] = "/tmp/memtop_bench_trace.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, WINDOW) < 0)
		_exit(1);
	unlink(path);
	volatile uint64_t sink = 0;
	while (!sh->stop) {
		if (sh->pause)
			continue;
		for (uint64_t i = 0, n = sh->work; i < n; i++)
			sink += i;
		void *p = map_window(fd);
		if (p == MAP_FAILED || munmap(p, WINDOW))
			_exit(1);
		sh->iterations++;
	}
	_exit(0);
}

static clockid_t target_clock;

/* CPU seconds the target has used (its kernel time included: that is
 * where tracing costs it). */
static double target_cpu(void)
{
	struct timespec ts;
	clock_gettime(target_clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loops per second of the target's CPU over `secs` of wall time: the
 * machine is shared, so wall time measures the neighbours as much as the
 * target; its own CPU time per loop is what tracing changes. */
static double rate_over(struct shared *sh, double secs)
{
	uint64_t c0 = sh->iterations;
	double t0 = target_cpu();
	sleep_for(secs);
	return (double)(sh->iterations - c0) / (target_cpu() - t0);
}

/* Work per loop that makes `rate` loops a second untraced. */
static void calibrate(struct shared *sh, double rate)
{
	if (rate <= 0) {
		sh->work = 0;
		return;
	}
	if (sh->work == 0)
		sh->work = 1000;
	for (int i = 0; i < 6; i++) {
		double got = rate_over(sh, 0.25);
		double w = (double)sh->work * got / rate;
		sh->work = w < 1 ? 1 : (uint64_t)w;
	}
}

static size_t stack_bytes; /* -s: user stack copied per call (0: --trace's default) */

struct phase {
	double rate;
	uint64_t loops;  /* between the two takes */
	uint64_t events, lost;
	double cpu;
};

static int traced_phase(struct shared *sh, pid_t pid, double secs, struct phase *out)
{
	struct tracer *t;
	struct mt_error err;
	struct tracer_stats s0, s1;
	struct mt_tevents ev = { 0 };
	struct mt_stacks st;
	origins_stacks_init(&st);
	mt_error_clear(&err);
	struct trace_options to = { .stack_bytes = stack_bytes };
	if (tracer_start(&t, pid, &to, &err)) {
		fprintf(stderr, "bench_trace: %s\n", err.msg);
		return -1;
	}
	sleep_for(0.3); /* warm-up: the stacks are named once */
	/* The target pauses while the tracer drains, at both ends of the
	 * window: the events taken are exactly those of the loops counted. */
	sh->pause = 1;
	sleep_for(0.2);
	tracer_take(t, &ev, &st, &s0);
	origins_events_clear(&ev);
	uint64_t c0 = sh->iterations;
	sh->pause = 0;
	out->rate = rate_over(sh, secs);
	sh->pause = 1;
	uint64_t c1 = sh->iterations;
	sleep_for(0.2); /* the tracer drains what the window made */
	tracer_take(t, &ev, &st, &s1);
	sh->pause = 0;
	out->loops = c1 - c0;
	out->events = s1.events - s0.events;
	out->lost = s1.lost - s0.lost;
	out->cpu = s1.cpu - s0.cpu;
	tracer_stop(t);
	origins_events_free(&ev);
	origins_stacks_free(&st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		stack_bytes = (size_t)atol(argv[2]) & ~(size_t)7;
		argc -= 2;
		argv += 2;
	}
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	static const double default_rates[] = { 1000, 5000, 20000, 50000, 0 };
	double rates[32];
	int n_rates = 0;
	for (int i = 2; i < argc && n_rates < 32; i++)
		rates[n_rates++] = atof(argv[i]);
	if (!n_rates)
		for (size_t i = 0; i < sizeof(default_rates) / sizeof(*default_rates); i++)
			rates[n_rates++] = default_rates[i];
	if (secs <= 0)
		secs = 1.0;

	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		target(sh);
	if (clock_getcpuclockid(pid, &target_clock))
		return 1;

	printf("memtop trace benchmark: 256 KiB file windows, mmap+munmap per loop, "
	       "%.1f s per phase, 2 phases each; rates per second of the target's CPU\n", secs);
	printf("%10s %12s %12s %7s %11s %8s %12s\n", "target/s", "untraced/s", "traced/s",
	       "loss", "events/loop", "lost", "cpu/event");
	int rc = 0;
	for (int r = 0; r < n_rates && !rc; r++) {
		calibrate(sh, rates[r]);
		double un = 0, tr = 0, cpu = 0;
		uint64_t events = 0, lost = 0, loops = 0;
		for (int k = 0; k < 2 && !rc; k++) {
			struct phase p;
			un += rate_over(sh, secs);
			if (traced_phase(sh, pid, secs, &p)) {
				rc = 1;
				break;
			}
			tr += p.rate;
			events += p.events;
			loops += p.loops;
			lost += p.lost;
			cpu += p.cpu;
		}
		if (rc)
			break;
		char target_s[32];
		if (rates[r] > 0)
			snprintf(target_s, sizeof(target_s), "%.0f", rates[r]);
		else
			snprintf(target_s, sizeof(target_s), "max");
		printf("%10s %12.0f %12.0f %6.1f%% %11.3f %8llu %9.1f us\n", target_s, un / 2,
		       tr / 2, 100.0 * (1 - tr / un), loops ? (double)events / (double)loops : 0.0,
		       (unsigned long long)lost, events ? cpu / (double)events * 1e6 : 0.0);
		fflush(stdout);
	}
	sh->stop = 1;
	waitpid(pid, NULL, 0);
	return rc;
}
