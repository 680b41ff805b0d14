/*
 * test_frozen.c - frozen work on a child of this test: the work runs with
 * every thread stopped and sees the frozen maps; the target runs again
 * after, also when the work fails; no_freeze does no ptrace at all; and
 * frozen_scan finds the pointer a global of the child holds.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "memtop/frozen.h"
#include "memtop/proc.h"

/* The child's: a block on the heap and the global that holds it. */
static char *held;

struct child {
	pid_t pid;
	struct mt_proc *proc;
	struct symbols_cache cache;
	struct mt_snapshot snap;
};

static int setup(void **state)
{
	struct child *c = calloc(1, sizeof(*c));
	struct mt_error e;
	held = malloc(256);
	memset(held, 0x5a, 256);
	c->pid = fork();
	if (c->pid == 0) {
		for (;;)
			pause();
	}
	assert_true(c->pid > 0);
	/* Let it reach pause(). */
	for (int i = 0; i < 200 && freeze_proc_state(c->pid) != 'S'; i++)
		usleep(5000);
	assert_int_equal(proc_open(&c->proc, c->pid, &e), 0);
	symbols_cache_init(&c->cache);
	snapshot_init(&c->snap);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct child *c = *state;
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	proc_close(c->proc);
	symbols_cache_free(&c->cache);
	snapshot_free(&c->snap);
	free(c);
	free(held);
	return 0;
}

struct seen {
	bool frozen;       /* a freeze was given */
	char state;        /* the child's state letter during the work */
	size_t regions;
	int fail;          /* the work fails with this */
};

static int work(void *arg, const struct frozen *f, struct mt_error *err)
{
	struct seen *w = arg;
	w->frozen = f->freeze != NULL;
	w->state = freeze_proc_state(f->pid);
	w->regions = f->snap->n_regions;
	if (w->fail)
		return mt_error_set(err, MT_ERR_OTHER, 0, "the work failed");
	return 0;
}

static void run(struct child *c, bool no_freeze, struct seen *w, int want)
{
	struct frozen_job job = {
		.pid = c->pid, .no_freeze = no_freeze, .symbols = &c->cache,
		.proc = c->proc, .snap = &c->snap, .work = work, .arg = w,
	};
	struct frozen_stats st;
	struct mt_error e;
	mt_error_clear(&e);
	int rc = frozen_run(&job, &st, &e);
	if (rc < 0 && w->fail == 0 && (e.kind == MT_ERR_PERM))
		skip(); /* no ptrace here (a container without CAP_SYS_PTRACE) */
	assert_int_equal(rc, want);
	assert_int_equal(st.frozen, !no_freeze);
	/* Running again (or in its pause), never left in a ptrace stop. */
	assert_int_not_equal(freeze_proc_state(c->pid), 't');
	assert_int_not_equal(freeze_proc_state(c->pid), 'T');
}

static void test_work_runs_frozen(void **state)
{
	struct child *c = *state;
	struct seen w = { 0 };
	run(c, false, &w, 0);
	assert_true(w.frozen);
	assert_int_equal(w.state, 't');
	assert_true(w.regions > 0);
	assert_int_equal(w.regions, c->snap.n_regions);
}

static void test_failed_work_releases(void **state)
{
	struct child *c = *state;
	struct seen w = { .fail = 1 };
	run(c, false, &w, -1);
	assert_int_equal(w.state, 't');
}

static void test_no_freeze(void **state)
{
	struct child *c = *state;
	struct seen w = { 0 };
	run(c, true, &w, 0);
	assert_false(w.frozen);
	assert_int_not_equal(w.state, 't');
}

static void test_scan_finds_the_global(void **state)
{
	struct child *c = *state;
	struct frozen_scan_options o = {
		.pid = c->pid, .proc = c->proc, .symbols = &c->cache,
		.spec = { .kind = SCAN_SPEC_RANGE, .start = (uint64_t)(uintptr_t)held,
			  .end = (uint64_t)(uintptr_t)held + 256 },
	};
	struct scan_result res;
	struct frozen_scan_info info;
	struct mt_error e;
	scan_result_init(&res);
	mt_error_clear(&e);
	int rc = frozen_scan(&o, &c->snap, &res, &info, &e);
	if (rc < 0 && e.kind == MT_ERR_PERM)
		skip();
	assert_int_equal(rc, 0);
	assert_true(info.stats.frozen);
	assert_int_equal(info.lo, (uint64_t)(uintptr_t)held);
	assert_true(info.region >= 0); /* the heap */
	bool found = false;
	for (size_t i = 0; i < res.n_refs; i++)
		if (res.refs[i].addr == (uint64_t)(uintptr_t)&held)
			found = true;
	assert_true(found);
	assert_int_not_equal(freeze_proc_state(c->pid), 't');
	scan_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_work_runs_frozen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_work_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_freeze, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_finds_the_global, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
