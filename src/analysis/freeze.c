/*
 * freeze.c - stop every thread of a target with PTRACE_SEIZE and let it
 * go again (docs/freeze.md).
 *
 * PTRACE_SEIZE rather than PTRACE_ATTACH: it sends no SIGSTOP that could
 * be mistaken for (or merged with) a real one, it reports group stops as
 * such, and when memtop dies the kernel detaches seized threads and they
 * run on.  Every path out of freeze_begin() that leaves threads attached
 * goes through freeze_end().
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/freeze.h"
#include "memtop/proc.h"
#include "memtop/threads.h"
#include "memtop/vec.h"

#define FREEZE_DEFAULT_TIMEOUT_MS 2000
#define FREEZE_MAX_PASSES 64
/* How long freeze_end waits for a stopped target to show T again. */
#define GROUP_STOP_WAIT_MS 200

static void user_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

bool freeze_signal_pending(void)
{
	sigset_t pending, mine;
	if (sigpending(&pending) < 0)
		return false;
	user_signals(&mine);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&mine, sig) == 1 && sigismember(&pending, sig) == 1)
			return true;
	return false;
}

char freeze_proc_state(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return threads_state(path);
}

static struct freeze_thread *find_thread(struct freeze *f, pid_t tid)
{
	for (size_t i = 0; i < f->n_threads; i++)
		if (f->threads[i].tid == tid)
			return &f->threads[i];
	return NULL;
}

const struct freeze_thread *freeze_find(const struct freeze *f, pid_t tid)
{
	if (!f || !f->active)
		return NULL;
	for (size_t i = 0; i < f->n_threads; i++)
		if (f->threads[i].tid == tid && f->threads[i].stopped)
			return &f->threads[i];
	return NULL;
}

static struct freeze_thread *add_thread(struct freeze *f, pid_t tid)
{
	if (VEC_RESERVE(f->threads, f->cap_threads, f->n_threads, 16))
		return NULL;
	struct freeze_thread *t = &f->threads[f->n_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

/*
 * Take one wait status of a seized thread.  A PTRACE_EVENT_STOP is the
 * interrupt (or group) stop asked for.  A plain stop is a
 * signal-delivery-stop: the signal was already dequeued, so it is kept
 * for PTRACE_DETACH to deliver.
 */
static void take_status(struct freeze *f, struct freeze_thread *t, int st)
{
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		t->attached = false;
		t->stopped = false;
		return;
	}
	if (!WIFSTOPPED(st))
		return;
	if ((st >> 16) == 0 && !t->pending_sig)
		t->pending_sig = WSTOPSIG(st);
	if (!t->stopped && f->t_stop == 0)
		f->t_stop = clock_mono();
	t->stopped = true;
}

/* Wait until every attached thread has stopped or the deadline passed. */
static void wait_stops(struct freeze *f, double deadline)
{
	long nap = 50;
	for (;;) {
		size_t waiting = 0;
		for (size_t i = 0; i < f->n_threads; i++) {
			struct freeze_thread *t = &f->threads[i];
			if (!t->attached || t->stopped)
				continue;
			int st;
			pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);
			if (r == t->tid)
				take_status(f, t, st);
			else if (r < 0 && errno == ECHILD)
				t->attached = false; /* gone and reaped */
			if (t->attached && !t->stopped)
				waiting++;
		}
		if (!waiting || clock_mono() >= deadline)
			return;
		clock_sleep(nap / 1e6);
		if (nap < 2000)
			nap *= 2;
	}
}

/* TracerPid of a thread: who traces it, or 0. */
static pid_t tracer_of(pid_t pid, pid_t tid)
{
	char path[96], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (proc_read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	const char *p = strstr(buf, "\nTracerPid:");
	return p ? (pid_t)strtol(p + 11, NULL, 10) : 0;
}

/* A zombie (a leader that called pthread_exit) runs no code: nothing to
 * stop.  Any other thread that cannot be seized runs on: say which and
 * why (another debugger, usually). */
static void seize_failed(struct freeze *f, struct freeze_thread *t, int e, int *first_errno)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)f->pid, (int)t->tid);
	char st = threads_state(path);
	if (st == 'Z' || st == 'X') {
		t->exited = true;
		return;
	}
	if (!*first_errno)
		*first_errno = e;
	t->seize_errno = e;
	t->tracer = tracer_of(f->pid, t->tid);
	f->not_seized++;
	if (f->n_unstopped < FREEZE_UNSTOPPED_MAX)
		f->unstopped[f->n_unstopped++] = *t;
}

const char *freeze_why(const struct freeze_thread *t, char *buf, size_t n)
{
	if (t->stopped || t->exited)
		return NULL;
	if (t->seize_errno && t->tracer) {
		char path[64], comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)t->tracer);
		if (proc_read_file(path, comm, sizeof(comm)) > 0)
			comm[strcspn(comm, "\n")] = '\0';
		snprintf(buf, n, "traced by process %d%s%s%s", (int)t->tracer,
			 comm[0] ? " (" : "", comm, comm[0] ? ")" : "");
	} else if (t->seize_errno) {
		snprintf(buf, n, "could not be seized: %s", strerror(t->seize_errno));
	} else {
		snprintf(buf, n, "did not stop in time (uninterruptible sleep?)");
	}
	return buf;
}

/* Seize and interrupt the threads of /proc/PID/task not seen yet.
 * Returns how many were new, or -errno. */
static int seize_new(struct freeze *f, int *first_errno)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)f->pid);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int added = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || find_thread(f, (pid_t)tid))
			continue;
		struct freeze_thread *t = add_thread(f, (pid_t)tid);
		if (!t) {
			closedir(d);
			return -ENOMEM;
		}
		added++;
		if (ptrace(PTRACE_SEIZE, t->tid, 0L, 0L) < 0) {
			/* ESRCH: exited meanwhile; EPERM: zombie or traced. */
			if (errno != ESRCH)
				seize_failed(f, t, errno, first_errno);
			continue;
		}
		t->attached = true;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0L, 0L) < 0 && errno != ESRCH)
			if (!*first_errno)
				*first_errno = errno;
	}
	closedir(d);
	return added;
}

/* The release binary's testing hook does nothing; the test build's
 * memtop links tests/support/freeze_hold.c, whose definition wins. */
__attribute__((weak)) void freeze_test_hold(void)
{
}

static size_t count_stopped(const struct freeze *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_threads; i++)
		n += f->threads[i].stopped;
	return n;
}

static size_t count_tasks(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

int freeze_begin(struct freeze *f, pid_t pid, int timeout_ms, struct mt_error *err)
{
	memset(f, 0, sizeof(*f));
	f->pid = pid;
	if (timeout_ms <= 0)
		timeout_ms = FREEZE_DEFAULT_TIMEOUT_MS;

	if (pid == getpid())
		return mt_error_set(err, MT_ERR_USAGE, 0,
				    "memtop cannot stop itself; use --no-freeze");
	char state = freeze_proc_state(pid);
	if (!state)
		return mt_error_set(err, MT_ERR_NOPROC, ESRCH, "no process %d", (int)pid);
	/* A leader that called pthread_exit() is a zombie while its other
	 * threads run on: only a lone zombie has exited. */
	if ((state == 'Z' || state == 'X') && count_tasks(pid) <= 1)
		return mt_error_set(err, MT_ERR_EXITED, ESRCH, "process %d has exited",
				    (int)pid);
	f->was_stopped = state == 'T';

	sigset_t block;
	user_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &f->old_mask);
	f->active = true;

	double deadline = clock_mono() + timeout_ms / 1000.0;
	int first_errno = 0;
	for (int pass = 0; pass < FREEZE_MAX_PASSES; pass++) {
		int added = seize_new(f, &first_errno);
		if (added < 0) {
			int e = -added;
			freeze_end(f);
			if (e == ENOENT || e == ESRCH)
				return mt_error_set(err, MT_ERR_EXITED, e,
						    "process %d exited", (int)pid);
			return mt_error_set(err, MT_ERR_OTHER, e,
					    "cannot list the threads of %d: %s", (int)pid,
					    strerror(e));
		}
		wait_stops(f, deadline);
		if (added == 0)
			break;
	}
	if (count_stopped(f) == 0) {
		int e = first_errno ? first_errno : ESRCH;
		freeze_end(f);
		if (e == EPERM)
			return mt_error_set(err, MT_ERR_PERM, e,
					    "cannot stop process %d: permission denied (is "
					    "another debugger attached? see TracerPid in "
					    "/proc/%d/status)", (int)pid, (int)pid);
		if (freeze_proc_state(pid) == 0)
			return mt_error_set(err, MT_ERR_EXITED, e, "process %d exited",
					    (int)pid);
		return mt_error_set(err, MT_ERR_OTHER, e, "cannot stop process %d: %s",
				    (int)pid, strerror(e));
	}
	for (size_t i = 0; i < f->n_threads; i++) {
		if (!f->threads[i].attached || f->threads[i].stopped)
			continue;
		f->not_stopped++;
		if (f->n_unstopped < FREEZE_UNSTOPPED_MAX)
			f->unstopped[f->n_unstopped++] = f->threads[i];
	}
	freeze_test_hold();
	return 0;
}

/* A thread that has not reached its stop cannot be detached: give it a
 * little more time (it may have been in uninterruptible sleep). */
static void late_stop(struct freeze *f, struct freeze_thread *t)
{
	double deadline = clock_mono() + 2.0;
	while (t->attached && !t->stopped && clock_mono() < deadline) {
		int st;
		pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);
		if (r == t->tid)
			take_status(f, t, st);
		else if (r < 0 && errno == ECHILD)
			t->attached = false;
		else
			clock_sleep(0.001);
	}
}

/*
 * A target stopped before the freeze (state T) goes back into its group
 * stop once detached, but each thread passes through R on its way there.
 * Wait, briefly, until every thread shows T again, so that whoever looks
 * at the target once memtop is done finds it as it was.
 */
static void wait_group_stop(const struct freeze *f)
{
	double deadline = clock_mono() + GROUP_STOP_WAIT_MS / 1000.0;
	for (size_t i = 0; i < f->n_threads; i++) {
		pid_t tid = f->threads[i].tid;
		char st;
		while ((st = freeze_proc_state(tid)) != 0 && st != 'T' && st != 'Z' &&
		       st != 'X' && clock_mono() < deadline)
			clock_sleep(0.001);
	}
}

int freeze_end(struct freeze *f)
{
	if (!f || !f->active)
		return 0;
	for (size_t i = 0; i < f->n_threads; i++) {
		struct freeze_thread *t = &f->threads[i];
		if (t->attached && !t->stopped)
			late_stop(f, t);
		if (!t->attached)
			continue;
		long rc = ptrace(PTRACE_DETACH, t->tid, 0L, (long)t->pending_sig);
		if (rc == 0) {
			t->attached = false;
		} else if (errno == ESRCH) {
			/* It died (SIGKILL) meanwhile: collect the status. */
			int st;
			waitpid(t->tid, &st, __WALL | WNOHANG);
			t->attached = false;
		} else {
			f->detach_failed++;
		}
		t->stopped = false;
	}
	if (f->was_stopped)
		wait_group_stop(f);
	if (f->t_stop > 0)
		f->stopped_ms = (clock_mono() - f->t_stop) * 1000.0;
	f->active = false;
	pthread_sigmask(SIG_SETMASK, &f->old_mask, NULL);
	free(f->threads);
	f->threads = NULL;
	f->n_threads = f->cap_threads = 0;
	return f->detach_failed ? -1 : 0;
}
