/*
 * main.c - options and wiring: a session (source -> model -> recorder)
 * feeds one front end (batch printer, refs report or the TUI).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memtop/batch.h"
#include "memtop/replay.h"
#include "memtop/error.h"
#include "memtop/heapreport.h"
#include "memtop/model.h"
#include "memtop/options.h"
#include "memtop/refs.h"
#include "memtop/session.h"
#include "memtop/tui.h"

static const char usage_text[] =
	"Usage: memtop [-p PID] [options]\n"
	"Live view of a process's address space: what it is made of, how it grows,\n"
	"how much room is left before mmap fails, and who holds a region.\n"
	"\n"
	"  -p, --pid PID        watch process PID (without it: pick one from a list)\n"
	"  -d, --delay SECS     seconds between refreshes (default 1, may be fractional)\n"
	"  -b, --batch          print reports instead of the interactive screen\n"
	"  -n, --iterations N   stop after N refreshes (default: batch runs until ^C)\n"
	"      --json           batch reports as one JSON object per line (implies -b)\n"
	"      --regions        batch reports list every region (implies -b)\n"
	"      --rss MODE       per-region resident sizes: auto (default: resident and\n"
	"                       swapped pages from pagemap, Pss and dirty from smaps\n"
	"                       while cheap, both less often on huge maps), always\n"
	"                       (smaps every refresh), never\n"
	"      --refs TARGET    print who holds pointers into TARGET and exit; TARGET\n"
	"                       is ADDR (its mapping), START-END or START+LEN\n"
	"      --no-freeze      scan for references without stopping the target\n"
	"      --heap           print a census of the heap (glibc malloc) by arena and\n"
	"                       by class and exit; the target is stopped once; with\n"
	"                       -w each census is recorded, with -r FILE the\n"
	"                       recorded ones are printed again\n"
	"      --leaks          with --heap: also the chunks nothing reaches (leaks)\n"
	"      --heap-every SECS  with --heap: a census every SECS, -n times (default:\n"
	"                       until ^C), each with its growth since the first; on\n"
	"                       the screen: the census (H) again every SECS while shown\n"
	"      --trace          trace every mmap, munmap, mremap, brk and shmat of the\n"
	"                       target with its call stack (perf events; falls back\n"
	"                       on snapshot diffs when refused)\n"
	"      --trace-stack N  bytes of user stack copied per traced call (default\n"
	"                       8192; deeper stacks need more)\n"
	"      --trace-buffer M MiB of buffer per CPU for traced calls (a power of\n"
	"                       two, 1 to 256; default 4, less beyond 16 CPUs)\n"
	"      --max-stop MS    --refs: refuse a scan that would stop the target for\n"
	"                       longer than MS milliseconds (and cut it short there);\n"
	"                       the screen asks first above MS (default 1000)\n"
	"      --scan-swapped   scans (--refs, s) read swapped-out pages too (swaps them\n"
	"                       back in)\n"
	"  -w, --write FILE     record the session into FILE (an SQLite database;\n"
	"                       a recording already there gets a new session)\n"
	"  -r, --read FILE      replay a recording: the same screens (t/T step, b jumps\n"
	"                       to a time) or, with -b, the same reports (with\n"
	"                       --heap, the heap censuses recorded)\n"
	"      --session N      which session of the recording to replay (default: the\n"
	"                       last)\n"
	"      --demo           start the bundled demo workload (a mapped-file leak)\n"
	"                       and watch it\n"
	"      --no-color       no colours (also when NO_COLOR is set)\n"
	"      --no-mouse       ignore the mouse\n"
	"  -h, --help           this text\n"
	"  -V, --version        version\n";

static const char exit_text[] =
	"\n"
	"Exit status: 0 ok, 1 error, 2 bad usage, 3 no such process, 4 permission\n"
	"denied, 5 kernel thread, 6 the target exited, 7 bad recording.\n";

/* Exit statuses: documented in README.md and memtop.1, and scripts rely
 * on them, so never renumber. */
enum mt_exit {
	MT_EXIT_OK = 0,
	MT_EXIT_FAILURE = 1,   /* I/O error, out of memory, internal error */
	MT_EXIT_USAGE = 2,     /* bad option or option value */
	MT_EXIT_NOPROC = 3,    /* no such process */
	MT_EXIT_PERM = 4,      /* permission denied */
	MT_EXIT_KTHREAD = 5,   /* kernel thread: no user address space */
	MT_EXIT_EXITED = 6,    /* the target exited while being watched */
	MT_EXIT_BADFILE = 7,   /* corrupt or unreadable recording */
};

/* The one place a kind of error becomes an exit status: library code,
 * the printers and the screen return kinds, never statuses. */
static int exit_status(enum mt_errkind kind)
{
	switch (kind) {
	case MT_ERR_NONE: return MT_EXIT_OK;
	case MT_ERR_USAGE: return MT_EXIT_USAGE;
	case MT_ERR_NOPROC: return MT_EXIT_NOPROC;
	case MT_ERR_PERM: return MT_EXIT_PERM;
	case MT_ERR_KTHREAD: return MT_EXIT_KTHREAD;
	case MT_ERR_EXITED: return MT_EXIT_EXITED;
	case MT_ERR_BADFILE: return MT_EXIT_BADFILE;
	case MT_ERR_OTHER: break;
	}
	return MT_EXIT_FAILURE;
}

enum { OPT_JSON = 256, OPT_REGIONS, OPT_RSS, OPT_REFS, OPT_NO_FREEZE, OPT_DEMO,
       OPT_NO_COLOR, OPT_NO_MOUSE, OPT_SESSION, OPT_HEAP, OPT_LEAKS, OPT_HEAP_EVERY,
       OPT_MAX_STOP, OPT_SCAN_SWAPPED, OPT_TRACE, OPT_TRACE_STACK, OPT_TRACE_BUFFER };

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "delay", required_argument, NULL, 'd' },
	{ "batch", no_argument, NULL, 'b' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "regions", no_argument, NULL, OPT_REGIONS },
	{ "rss", required_argument, NULL, OPT_RSS },
	{ "refs", required_argument, NULL, OPT_REFS },
	{ "no-freeze", no_argument, NULL, OPT_NO_FREEZE },
	{ "heap", no_argument, NULL, OPT_HEAP },
	{ "leaks", no_argument, NULL, OPT_LEAKS },
	{ "heap-every", required_argument, NULL, OPT_HEAP_EVERY },
	{ "max-stop", required_argument, NULL, OPT_MAX_STOP },
	{ "scan-swapped", no_argument, NULL, OPT_SCAN_SWAPPED },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "trace-stack", required_argument, NULL, OPT_TRACE_STACK },
	{ "trace-buffer", required_argument, NULL, OPT_TRACE_BUFFER },
	{ "write", required_argument, NULL, 'w' },
	{ "read", required_argument, NULL, 'r' },
	{ "session", required_argument, NULL, OPT_SESSION },
	{ "demo", no_argument, NULL, OPT_DEMO },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "no-mouse", no_argument, NULL, OPT_NO_MOUSE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0, 0, 0, 0 },
};

/* A whole-string integer in [min, max], or -1. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int usage_error(struct mt_error *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mt_error_set(err, MT_ERR_USAGE, 0, "%s\nTry 'memtop --help'.", what);
}

static int parse_option(int c, const char *arg, struct mt_options *o, struct mt_error *err)
{
	long v;
	char *end;

	switch (c) {
	case 'p':
		if (parse_long(arg, 1, INT_MAX, &v))
			return usage_error(err, "-p: '%s' is not a process id", arg);
		o->pid = (pid_t)v;
		return 0;
	case 'd':
		errno = 0;
		o->delay = strtod(arg, &end);
		/* Below 10 ms memtop would measure itself, not the target. */
		if (errno || end == arg || *end || !isfinite(o->delay) || o->delay < 0.01 ||
		    o->delay > 86400)
			return usage_error(err, "-d: '%s' is not a delay between 0.01 and 86400 seconds",
					   arg);
		return 0;
	case 'n':
		if (parse_long(arg, 0, LONG_MAX, &v))
			return usage_error(err, "-n: '%s' is not a count (0 or more)", arg);
		o->count = v;
		return 0;
	case 'b': o->batch = true; return 0;
	case 'w': o->write = arg; return 0;
	case 'r': o->read = arg; return 0;
	case OPT_SESSION:
		if (parse_long(arg, 1, INT_MAX, &v))
			return usage_error(err, "--session: '%s' is not a session number (1 or more)",
					   arg);
		o->session = (size_t)v;
		return 0;
	case OPT_JSON: o->json = true; return 0;
	case OPT_REGIONS: o->regions = true; return 0;
	case OPT_REFS: o->refs = arg; return 0;
	case OPT_NO_FREEZE: o->no_freeze = true; return 0;
	case OPT_HEAP: o->heap = true; return 0;
	case OPT_LEAKS: o->heap = o->leaks = true; return 0;
	case OPT_HEAP_EVERY:
		errno = 0;
		o->heap_every = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(o->heap_every) ||
		    o->heap_every < 0.1 || o->heap_every > 86400)
			return usage_error(err, "--heap-every: '%s' is not a number of seconds "
					   "between 0.1 and 86400", arg);
		return 0;
	case OPT_TRACE: o->trace = true; return 0;
	case OPT_TRACE_STACK:
		/* The kernel copies at most 64 KiB less the record's header,
		 * in multiples of 8. */
		if (parse_long(arg, 512, 65000, &v))
			return usage_error(err, "--trace-stack: '%s' is not a size from 512 to 65000 "
					   "bytes", arg);
		o->trace_stack = (size_t)v & ~(size_t)7;
		return 0;
	case OPT_TRACE_BUFFER:
		/* The kernel maps a power of two of pages. */
		if (parse_long(arg, 1, 256, &v) || (v & (v - 1)))
			return usage_error(err, "--trace-buffer: '%s' is not a power of two of MiB "
					   "from 1 to 256", arg);
		o->trace_buffer = (size_t)v;
		return 0;
	case OPT_SCAN_SWAPPED: o->scan_swapped = true; return 0;
	case OPT_MAX_STOP:
		if (parse_long(arg, 1, 86400000, &v))
			return usage_error(err, "--max-stop: '%s' is not a number of milliseconds "
					   "(1 to 86400000)", arg);
		o->max_stop_ms = v;
		return 0;
	case OPT_DEMO: o->demo = true; return 0;
	case OPT_NO_COLOR: o->no_color = true; return 0;
	case OPT_NO_MOUSE: o->no_mouse = true; return 0;
	case OPT_RSS:
		if (!strcmp(arg, "auto"))
			o->rss = MT_RSS_AUTO;
		else if (!strcmp(arg, "always"))
			o->rss = MT_RSS_ALWAYS;
		else if (!strcmp(arg, "never"))
			o->rss = MT_RSS_NEVER;
		else
			return usage_error(err, "--rss: '%s' is not auto, always or never", arg);
		return 0;
	default:
		return mt_error_set(err, MT_ERR_USAGE, 0, "Try 'memtop --help'.");
	}
}

/* 0: run; 1: done, exit 0 (--help, --version); -1: usage error in err. */
static int parse_options(int argc, char **argv, struct mt_options *o, struct mt_error *err)
{
	int c;
	const char *no_color = getenv("NO_COLOR");

	memset(o, 0, sizeof(*o));
	o->delay = 1.0;
	o->no_color = no_color && *no_color;
	opterr = 1; /* getopt names the bad option itself, after argv[0] */
	argv[0] = "memtop";
	while ((c = getopt_long(argc, argv, "p:d:bn:w:r:hV", long_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			tui_print_keys(stdout);
			fputs(exit_text, stdout);
			return 1;
		}
		if (c == 'V') {
			printf("memtop %s\n", MEMTOP_VERSION);
			return 1;
		}
		if (parse_option(c, optarg, o, err))
			return -1;
	}
	if (optind < argc)
		return usage_error(err, "unexpected argument '%s'", argv[optind]);
	/* Options that only shape reports ask for reports (as top -b). */
	if (o->json || o->regions)
		o->batch = true;
	if (o->pid && o->demo)
		return usage_error(err, "-p and --demo both name the process to watch");
	if (o->read && (o->pid || o->demo || o->write || o->refs))
		return usage_error(err, "-r replays a recording: it takes no -p, --demo, -w or --refs");
	if (o->session && !o->read)
		return usage_error(err, "--session chooses a session to replay: it needs -r FILE");
	if (o->heap && (o->refs || o->no_freeze || o->trace))
		return usage_error(err, "--heap runs on a live process, frozen once per census: "
				   "it takes no --refs, --no-freeze or --trace");
	if (o->heap && o->read && (o->leaks || o->heap_every > 0))
		return usage_error(err, "-r FILE --heap prints the censuses recorded, as taken: "
				   "no --leaks or --heap-every (a census records its leaks)");
	if (o->heap_every > 0 && (o->batch || o->read || o->refs) && !o->heap)
		return usage_error(err, "--heap-every repeats --heap's report, or the screen's "
				   "heap census (H)");
	if (o->read && o->trace)
		return usage_error(err, "--trace traces a live process: a replay has what was "
				   "recorded");
	if (o->trace && o->refs)
		return usage_error(err, "--trace goes with the screen or batch mode, not --refs");
	if (o->write && o->refs)
		return usage_error(err, "-w records the screen or batch mode, not --refs");
	if (o->read)
		return 0;
	if ((o->batch || o->refs || o->heap) && !o->pid && !o->demo)
		return usage_error(err, "batch mode, --refs and --heap need -p PID (or --demo)");
	return 0;
}

/* The demo lives beside memtop in the build tree, else where it was installed. */
static pid_t demo_start(struct mt_error *err)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - sizeof("/memtop-demo"));
	if (n > 0) {
		path[n] = '\0';
		char *slash = strrchr(path, '/');
		strcpy(slash ? slash : path, "/memtop-demo");
	}
	if (n <= 0 || access(path, X_OK) != 0)
		snprintf(path, sizeof(path), "%s", MEMTOP_DEMO_INSTALLED);

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return mt_error_set(err, MT_ERR_OTHER, errno, "cannot start the demo: %s",
				    strerror(errno));
	if (pid == 0) {
		/* Out of memtop's session, so a terminal hang-up does not kill
		 * it before it cleans its files up; told to stop (SIGTERM) when
		 * memtop goes, however memtop goes. */
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent) /* memtop went before prctl took */
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execl(path, "memtop-demo", "--threads", "--quiet", (char *)NULL);
		_exit(127);
	}
	/* Let it map its first windows so the first screen is not empty. */
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid)
		return mt_error_set(err, MT_ERR_OTHER, 0, "the demo (%s) did not start", path);
	return pid;
}

static void demo_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* Set by SIGINT, SIGTERM and SIGHUP in batch mode: finish the report,
 * close the recording cleanly, exit. */
static volatile sig_atomic_t batch_stop;

static void on_stop_signal(int sig)
{
	batch_stop = sig;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: end the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR && !batch_stop)
		;
}

static void timespec_add(struct timespec *t, double secs)
{
	double whole = floor(secs);
	t->tv_sec += (time_t)whole;
	t->tv_nsec += (long)((secs - whole) * 1e9);
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Refresh, derive, print: count times, until the target exits, or until
 * a recording's last sample. */
static int run_batch(const struct mt_options *o, struct mt_error *err)
{
	struct batch_options bo = { .json = o->json, .regions = o->regions };
	struct mt_session ses;
	struct mt_error lost;
	struct timespec next;
	int rc = 0;

	session_init(&ses);
	if (session_open(&ses, o, o->pid, err))
		return -1;
	if (ses.traced.asked) {
		bo.traced = &ses.traced;
		if (!ses.traced.on && !ses.replay)
			fprintf(stderr, "memtop: %s; falling back to snapshot diffs\n",
				ses.traced.reason);
	}
	catch_stop_signals();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; (o->count == 0 || i < o->count) && !batch_stop; i++) {
		if (i > 0 && !ses.replay)
			sleep_until(&next);
		if (batch_stop)
			break;
		timespec_add(&next, o->delay);
		int got = session_next(&ses, err);
		/* At the end of a recording still being written: wait for
		 * its next samples, as tail -f does. */
		while (got == 1 && ses.replay && !batch_stop && replay_live(ses.replay)) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			timespec_add(&t, replay_session(ses.replay)->delay);
			sleep_until(&t);
			got = replay_follow(ses.replay, err) < 0 ? -1 : session_next(&ses, err);
		}
		if (got) {
			rc = got > 0 ? 0 : -1;
			break;
		}
		if (session_record_lost(&ses, &lost))
			fprintf(stderr, "memtop: %s; monitoring goes on\n", lost.msg);
		if (o->json)
			batch_print_json(stdout, &ses.model, session_snap(&ses), &bo);
		else
			batch_print_text(stdout, &ses.model, session_snap(&ses), &bo);
		if (fflush(stdout) == EOF) /* reader went away: nothing left to do */
			break;
	}
	if (session_close(&ses, &lost))
		fprintf(stderr, "memtop: %s\n", lost.msg);
	return rc;
}

int main(int argc, char **argv)
{
	struct mt_options opt;
	struct mt_error err;
	pid_t demo = 0;
	int rc;

	mt_error_clear(&err);
	switch (parse_options(argc, argv, &opt, &err)) {
	case 0:
		break;
	case 1:
		return MT_EXIT_OK;
	default:
		fprintf(stderr, "memtop: %s\n", err.msg);
		return MT_EXIT_USAGE;
	}
	if (opt.demo) {
		demo = demo_start(&err);
		if (demo < 0) {
			fprintf(stderr, "memtop: %s\n", err.msg);
			return exit_status(err.kind);
		}
		opt.pid = demo;
	}
	/* A write past RLIMIT_FSIZE then fails with EFBIG, which stops the
	 * recording, instead of SIGXFSZ killing memtop mid-watch. */
	if (opt.write)
		signal(SIGXFSZ, SIG_IGN);
	if (opt.refs)
		rc = refs_report(stdout, &opt, &err);
	else if (opt.heap && opt.read)
		rc = heap_replay(stdout, &opt, &err);
	else if (opt.heap)
		rc = heap_report(stdout, &opt, &err);
	else if (opt.batch)
		rc = run_batch(&opt, &err);
	else
		rc = tui_run(&opt, &err);
	demo_stop(demo);
	fflush(stdout);
	if (err.kind != MT_ERR_NONE) {
		fprintf(stderr, "memtop: %s\n", err.msg);
		return exit_status(err.kind);
	}
	return rc < 0 ? MT_EXIT_FAILURE : MT_EXIT_OK;
}
