/*
 * test_session.c - the session both front ends drive: a recording
 * replayed sample by sample and started over, this very process watched
 * and recorded, and a process that cannot be watched leaving no file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "memtop/replay.h"
#include "memtop/scanstore.h"
#include "memtop/session.h"
#include "../recording_fixture.h"

static char dir[64], path[96], path2[96];

static void remove_db(const char *p)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char f[128];
	for (size_t i = 0; i < 4; i++) {
		snprintf(f, sizeof(f), "%s%s", p, ext[i]);
		unlink(f);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/memtop-test-session-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.db", dir);
	snprintf(path2, sizeof(path2), "%s/live.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_db(path);
	remove_db(path2);
	rmdir(dir);
	return 0;
}

static void test_replay(void **state)
{
	struct mt_snapshot snaps[RECFIX_SAMPLES];
	struct mt_options o = { .read = path, .delay = 1 };
	struct mt_session s;
	struct mt_error e;
	(void)state;
	for (int i = 0; i < RECFIX_SAMPLES; i++)
		snapshot_init(&snaps[i]);
	recfix_record(path, snaps);

	session_init(&s);
	assert_int_equal(session_open(&s, &o, 0, &e), 0);
	assert_int_equal(s.pid, RECFIX_PID);
	assert_null(session_snap(&s));
	for (int i = 0; i < RECFIX_SAMPLES; i++) {
		assert_int_equal(session_next(&s, &e), 0);
		assert_int_equal(s.refreshes, i + 1);
		assert_int_equal(s.model.refreshes, (unsigned long)i + 1);
		assert_int_equal(session_snap(&s)->n_regions, snaps[i].n_regions);
		assert_true((session_prev(&s) != NULL) == (i > 0));
		if (i > 0)
			assert_int_equal(session_prev(&s)->n_regions, snaps[i - 1].n_regions);
	}
	/* The end of a recording is no error; what was folded stays. */
	assert_int_equal(session_next(&s, &e), 1);
	assert_non_null(session_snap(&s));
	assert_null(session_prev(&s));

	/* The scan recorded after the second sample, without the database. */
	struct scanstore_info *v = NULL;
	size_t n = 0;
	assert_int_equal(replay_list_scans(s.replay, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	struct scanstore_scan sc;
	assert_int_equal(replay_load_scan(s.replay, v[0].id, &sc, &e), 0);
	scanstore_scan_free(&sc);
	free(v);

	/* Started over: the first sample again, the model from scratch. */
	session_restart(&s);
	assert_null(session_snap(&s));
	assert_int_equal(s.model.refreshes, 0);
	assert_int_equal(session_next(&s, &e), 0);
	assert_int_equal(session_snap(&s)->n_regions, snaps[0].n_regions);
	assert_int_equal(s.refreshes, 1);

	assert_int_equal(session_close(&s, &e), 0);
	assert_null(s.replay);
	assert_null(session_snap(&s));
	for (int i = 0; i < RECFIX_SAMPLES; i++)
		snapshot_free(&snaps[i]);
}

/* This process, recorded with -w, replays as many samples as it took. */
static void test_live_recorded(void **state)
{
	struct mt_options o = { .write = path2, .delay = 0.1, .rss = MT_RSS_NEVER };
	struct mt_session s;
	struct mt_error e;
	(void)state;
	session_init(&s);
	assert_int_equal(session_open(&s, &o, getpid(), &e), 0);
	assert_non_null(s.proc);
	assert_non_null(s.rec);
	for (int i = 0; i < 3; i++)
		assert_int_equal(session_next(&s, &e), 0);
	assert_false(session_record_lost(&s, &e));
	assert_true(session_snap(&s)->n_regions > 0);
	size_t regions = session_snap(&s)->n_regions;
	assert_int_equal(session_close(&s, &e), 0);

	struct mt_options r = { .read = path2, .delay = 1 };
	assert_int_equal(session_open(&s, &r, 0, &e), 0);
	assert_int_equal(s.pid, getpid());
	int got = 0;
	while (session_next(&s, &e) == 0)
		got++;
	assert_int_equal(got, 3);
	assert_int_equal(session_snap(&s)->n_regions, regions);
	session_close(&s, NULL);
}

/* A process that cannot be watched: the error, no recording file, and an
 * empty session that closes cleanly. */
static void test_no_process(void **state)
{
	struct mt_options o = { .write = path2, .delay = 1 };
	struct mt_session s;
	struct mt_error e;
	(void)state;
	remove_db(path2);
	session_init(&s);
	mt_error_clear(&e);
	assert_int_equal(session_open(&s, &o, 0x3ffffff0, &e), -1);
	assert_int_equal(e.kind, MT_ERR_NOPROC);
	assert_int_equal(access(path2, F_OK), -1);
	assert_null(s.proc);
	assert_null(s.rec);
	assert_int_equal(session_close(&s, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_process, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
