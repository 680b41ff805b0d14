/*
 * tui.c - what the interactive screen costs: memtop's CPU time watching a
 * process of about 1,000 regions at -d 1, as a share of one core.
 *
 *   bench_tui [-s SECONDS] [-r REGIONS] [-d DELAY] [-v VIEW] [-b] [MEMTOP]
 *
 * Starts a target that maps REGIONS (default 1000) regions and sleeps, runs
 * MEMTOP (default: the memtop beside this program) on a pseudo-terminal of
 * 100x30 against it, optionally switches to a view (a key: 1-6), lets it
 * run SECONDS (default 30), then reads memtop's utime+stime from
 * /proc/PID/stat and prints them relative to the wall time, and quits it
 * with q.  Whatever the terminal would show is read and thrown away, as a
 * terminal would.  With -b it runs `memtop -b --json` instead, for the
 * cost of the refresh alone (the source and the model) beside the screen's.
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
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A target of n regions: one mapping whose pages alternate protections,
 * so the kernel cannot merge neighbours.  Never returns. */
static void target(int n, int ready_fd)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (size_t)n * (size_t)page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	for (int i = 0; i < n; i += 2)
		mprotect(p + (size_t)i * (size_t)page, (size_t)page, PROT_READ);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* utime + stime of pid in seconds, or -1. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces: from the
	 * last ')'.  utime and stime are fields 14 and 15. */
	char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Read and discard the terminal's output until t. */
static void drain_until(int fd, double t)
{
	char buf[65536];
	for (double left; (left = t - now()) > 0;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) > 0 &&
		    read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

static int count_maps(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	int n = 0, c;
	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	double secs = 30, delay = 1;
	int regions = 1000, opt;
	const char *view = NULL;
	char memtop[PATH_MAX];
	int batch = 0;

	while ((opt = getopt(argc, argv, "s:r:d:v:b")) != -1) {
		switch (opt) {
		case 's': secs = atof(optarg); break;
		case 'r': regions = atoi(optarg); break;
		case 'd': delay = atof(optarg); break;
		case 'v': view = optarg; break;
		case 'b': batch = 1; break;
		default:
			fprintf(stderr, "usage: %s [-s SECONDS] [-r REGIONS] [-d DELAY] "
				"[-v VIEW] [-b] [MEMTOP]\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		snprintf(memtop, sizeof(memtop), "%s", argv[optind]);
	} else {
		ssize_t n = readlink("/proc/self/exe", memtop, sizeof(memtop) - 8);
		if (n < 0)
			return perror("readlink"), 1;
		memtop[n] = '\0';
		char *slash = strrchr(memtop, '/');
		strcpy(slash ? slash + 1 : memtop, "memtop");
	}

	int ready[2];
	if (pipe(ready))
		return perror("pipe"), 1;
	pid_t tgt = fork();
	if (tgt == 0) {
		close(ready[0]);
		target(regions, ready[1]);
	}
	char c;
	close(ready[1]);
	if (tgt < 0 || read(ready[0], &c, 1) != 1)
		return fprintf(stderr, "the target did not start\n"), 1;

	struct winsize ws = { .ws_row = 30, .ws_col = 100 };
	int master;
	char pidarg[16], delayarg[32];
	snprintf(pidarg, sizeof(pidarg), "%d", (int)tgt);
	snprintf(delayarg, sizeof(delayarg), "%g", delay);
	pid_t mt = forkpty(&master, NULL, NULL, &ws);
	if (mt == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		if (batch)
			execl(memtop, "memtop", "-p", pidarg, "-d", delayarg, "-b", "--json",
			      (char *)NULL);
		else
			execl(memtop, "memtop", "-p", pidarg, "-d", delayarg, (char *)NULL);
		_exit(127);
	}
	if (mt < 0)
		return perror("forkpty"), 1;

	/* Let it start and settle, then measure a steady stretch. */
	drain_until(master, now() + 2);
	if (view && !batch && write(master, view, 1) != 1)
		perror("write");
	drain_until(master, now() + 1);
	double c0 = cpu_seconds(mt), t0 = now();
	drain_until(master, t0 + secs);
	double c1 = cpu_seconds(mt), t1 = now();
	int maps = count_maps(tgt);

	if (write(master, "q", 1) != 1)
		kill(mt, SIGTERM);
	drain_until(master, now() + 1);
	kill(mt, SIGTERM);
	waitpid(mt, NULL, 0);
	kill(tgt, SIGKILL);
	waitpid(tgt, NULL, 0);

	if (c0 < 0 || c1 < 0) {
		fprintf(stderr, "memtop did not run (%s)\n", memtop);
		return 1;
	}
	printf("memtop %s%s, %d regions, -d %g, %.0f s: %.3f s CPU = %.2f%% of one core\n",
	       batch ? "-b --json" : "TUI, view ", batch ? "" : view ? view : "1", maps, delay,
	       t1 - t0, c1 - c0, 100.0 * (c1 - c0) / (t1 - t0));
	return 0;
}
