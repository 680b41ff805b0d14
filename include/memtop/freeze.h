/*
 * freeze.h - stop every thread of a target for a consistent scan, and
 * always let it go again (docs/freeze.md).
 *
 * Protocol: PTRACE_SEIZE (never PTRACE_ATTACH) and PTRACE_INTERRUPT each
 * thread of /proc/PID/task, wait for its stop, list the tasks again until
 * no new thread appears.  freeze_end() detaches them all.  Because the
 * threads are seized, the kernel detaches them by itself when memtop dies,
 * even of SIGKILL, and they run on.  A signal the kernel hands to a thread
 * while it stops (a signal-delivery-stop) is remembered and re-injected on
 * detach; signals sent while the target is stopped stay pending in the
 * kernel and are delivered when it runs again.  A target that was stopped
 * (state T) before the freeze is left stopped: the kernel puts a thread
 * back into its group stop when it is detached.
 *
 * All ptrace calls of one freeze must come from the thread that called
 * freeze_begin() (ptrace is per thread); scan_run() and unwind_*() calls
 * that use the frozen threads must come from it too.  freeze_begin()
 * blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT in that thread so that
 * freeze_end() always runs; freeze_end() restores the mask, so a signal
 * that arrived meanwhile is delivered then (its handler runs, or the
 * default action ends memtop with the target already released).  Poll
 * freeze_signal_pending() from a progress callback to cut a long scan
 * short.  A program with other threads should block those signals there.
 * The target's stops are reported to memtop by SIGCHLD and waitpid():
 * nothing in memtop may reap with waitpid(-1, ...) during a freeze.
 */
#ifndef MEMTOP_FREEZE_H
#define MEMTOP_FREEZE_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memtop/error.h"

struct freeze_thread {
	pid_t tid;
	bool attached;   /* seized: must be detached */
	bool stopped;    /* in a ptrace stop: may be read, unwound, detached */
	int pending_sig; /* taken from a signal-delivery-stop; re-injected */
	int seize_errno; /* PTRACE_SEIZE failed with it (EPERM: traced) */
	pid_t tracer;    /* TracerPid when seize failed: another debugger */
	bool exited;     /* a zombie (a leader that called pthread_exit) */
};

#define FREEZE_UNSTOPPED_MAX 16

struct freeze {
	pid_t pid;
	struct freeze_thread *threads;
	size_t n_threads;
	size_t cap_threads;
	bool active;          /* between freeze_begin and freeze_end */
	bool was_stopped;     /* state T before the freeze: stays stopped */
	size_t not_stopped;   /* threads that did not stop within the timeout */
	size_t not_seized;    /* live threads PTRACE_SEIZE refused (traced) */
	size_t detach_failed; /* threads freeze_end could not detach */
	/* The first threads that ran on (not seized, or not stopped in
	 * time), kept after freeze_end() for the report; all are counted in
	 * not_seized and not_stopped. */
	struct freeze_thread unstopped[FREEZE_UNSTOPPED_MAX];
	size_t n_unstopped;
	double t_stop;        /* CLOCK_MONOTONIC when the first thread stopped */
	double stopped_ms;    /* set by freeze_end: how long the target stood */
	sigset_t old_mask;    /* the caller's signal mask, restored at the end */
};

/*
 * A testing hook, called by freeze_begin() once every thread has stopped.
 * Empty in memtop; the test build's memtop-test (tests/support/
 * freeze_hold.c) holds the target stopped MEMTOP_TEST_FREEZE_HOLD_MS
 * milliseconds, so that the freeze-safety tests can kill memtop meanwhile
 * (docs/freeze.md).  A release binary has no way to hold a target.
 */
void freeze_test_hold(void);

/*
 * Stop every thread of pid.  On failure nothing stays attached: err says
 * why (MT_ERR_NOPROC, MT_ERR_PERM, MT_ERR_EXITED).  Threads that do not
 * stop within timeout_ms (uninterruptible sleep) are counted in
 * not_stopped; the freeze goes ahead without them.  timeout_ms <= 0 means
 * the default of 2000.
 */
int freeze_begin(struct freeze *f, pid_t pid, int timeout_ms, struct mt_error *err);

/*
 * Let every thread go (PTRACE_DETACH, re-injecting remembered signals),
 * restore the signal mask and set stopped_ms.  Safe to call on a freeze
 * that never began or already ended.  Returns 0, or -1 if some thread
 * could not be detached (detach_failed > 0; the kernel detaches it when
 * memtop exits).
 */
int freeze_end(struct freeze *f);

/* Why thread t runs on while the others stand still ("traced by process
 * 812 (strace)", "did not stop within 2 s..."), or NULL when it stopped
 * or exited.  buf holds the text. */
const char *freeze_why(const struct freeze_thread *t, char *buf, size_t n);

/* The thread record of tid when it is stopped by this freeze, else NULL. */
const struct freeze_thread *freeze_find(const struct freeze *f, pid_t tid);

/* True when SIGINT, SIGTERM, SIGHUP or SIGQUIT waits behind the freeze's
 * blocked mask: the user wants out, cut the scan short. */
bool freeze_signal_pending(void);

/* The target's state letter from /proc/PID/stat ('R', 'S', 'T', ...), or
 * 0 when it cannot be read. */
char freeze_proc_state(pid_t pid);

#endif
