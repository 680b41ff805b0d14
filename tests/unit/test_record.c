/*
 * test_record.c - the recorder and the reader together: a replayed sample
 * is the recorded snapshot field for field, the model gives the same
 * JSON from it, sessions stack up in one file, other files are refused
 * untouched, and damaged rows are reported, not trusted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "memtop/batch.h"
#include "memtop/format.h"
#include "memtop/replay.h"
#include "memtop/scanstore.h"
#include "../recording_fixture.h"

static char dir[64], path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/memtop-test-record-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[128];
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static void exec_sql(const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void assert_same_region(const struct mt_region *a, const struct mt_region *b)
{
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->end, b->end);
	assert_int_equal(a->offset, b->offset);
	assert_int_equal(a->inode, b->inode);
	assert_int_equal(a->dev_major, b->dev_major);
	assert_int_equal(a->dev_minor, b->dev_minor);
	assert_int_equal(a->perms, b->perms);
	assert_int_equal(a->deleted_suffix, b->deleted_suffix);
	assert_int_equal(a->deleted, b->deleted);
	assert_int_equal(a->path_len, b->path_len);
	assert_memory_equal(a->path, b->path, a->path_len + 1);
	assert_int_equal(a->rss, b->rss);
	assert_int_equal(a->pss, b->pss);
	assert_int_equal(a->swap, b->swap);
	assert_int_equal(a->private_dirty, b->private_dirty);
	assert_int_equal(a->shared_dirty, b->shared_dirty);
	assert_int_equal(a->anon_huge, b->anon_huge);
	assert_int_equal(a->locked, b->locked);
}

static void assert_same_snapshot(const struct mt_snapshot *a, const struct mt_snapshot *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_true(a->time == b->time && a->mono == b->mono);
	assert_int_equal(a->n_regions, b->n_regions);
	for (size_t i = 0; i < a->n_regions; i++)
		assert_same_region(&a->regions[i], &b->regions[i]);
	assert_int_equal(a->n_threads, b->n_threads);
	for (size_t i = 0; i < a->n_threads; i++) {
		assert_int_equal(a->threads[i].tid, b->threads[i].tid);
		assert_string_equal(a->threads[i].name, b->threads[i].name);
		assert_int_equal(a->threads[i].state, b->threads[i].state);
		assert_int_equal(a->threads[i].sp, b->threads[i].sp);
	}
	assert_string_equal(a->info.comm, b->info.comm);
	assert_string_equal(a->info.cmdline, b->info.cmdline);
	assert_string_equal(a->info.user, b->info.user);
	assert_int_equal(a->info.state, b->info.state);
	assert_int_equal(a->info.threads, b->info.threads);
	assert_int_equal(a->info.rss, b->info.rss);
	assert_int_equal(a->info.vsz, b->info.vsz);
	assert_true(a->info.start_time == b->info.start_time);
	assert_true(a->info.uptime == b->info.uptime);
	assert_int_equal(a->max_map_count, b->max_map_count);
	assert_int_equal(a->rlimit_as, b->rlimit_as);
	assert_int_equal(a->mmap_min_addr, b->mmap_min_addr);
	assert_int_equal(a->page_size, b->page_size);
	assert_int_equal(a->have_rss, b->have_rss);
	if (a->have_rss)
		assert_true(a->rss_time == b->rss_time);
}

static void test_replay_gives_the_recorded_snapshots(void **state)
{
	(void)state;
	struct mt_snapshot want[RECFIX_SAMPLES], got;
	struct mt_replay *r;
	struct mt_error e;
	for (int i = 0; i < RECFIX_SAMPLES; i++)
		snapshot_init(&want[i]);
	recfix_record(path, want);

	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	assert_int_equal(replay_count(r), RECFIX_SAMPLES);
	assert_int_equal(replay_session(r)->pid, RECFIX_PID);
	assert_int_equal(replay_session(r)->count, 1);
	assert_true(replay_session(r)->ended > 0); /* closed cleanly */
	snapshot_init(&got);
	for (int pass = 0; pass < 2; pass++) { /* again after a rewind */
		for (int i = 0; i < RECFIX_SAMPLES; i++) {
			assert_int_equal(replay_next(r, &got, &e), 0);
			assert_same_snapshot(&want[i], &got);
		}
		assert_int_equal(replay_next(r, &got, &e), 1);
		replay_rewind(r);
	}
	snapshot_free(&got);
	replay_close(r);
	for (int i = 0; i < RECFIX_SAMPLES; i++)
		snapshot_free(&want[i]);
}

/* The JSON of every sample, folded through a fresh model. */
static char *json_of(struct mt_replay *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct mt_snapshot s[2];
	struct mt_model m;
	struct mt_error e;
	struct batch_options bo = { .json = true, .regions = true };
	assert_non_null(f);
	snapshot_init(&s[0]);
	snapshot_init(&s[1]);
	model_init(&m);
	for (int i = 0; i < RECFIX_SAMPLES; i++) {
		struct mt_snapshot *cur = &s[i & 1];
		if (r)
			assert_int_equal(replay_next(r, cur, &e), 0);
		else
			recfix_snapshot(cur, i);
		assert_int_equal(model_update(&m, i ? &s[!(i & 1)] : NULL, cur), 0);
		batch_print_json(f, &m, cur, &bo);
	}
	fclose(f);
	model_free(&m);
	snapshot_free(&s[0]);
	snapshot_free(&s[1]);
	return buf;
}

static void test_replayed_json_is_the_live_json(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_error e;
	recfix_record(path, NULL);
	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	char *live = json_of(NULL), *replayed = json_of(r);
	assert_string_equal(live, replayed);
	free(live);
	free(replayed);
	replay_close(r);
}

/* JSON of the model after folding the next sample of r into it. */
static char *fold_json(struct mt_replay *r, struct mt_model *m, struct mt_snapshot *s,
		       int *cur, bool first)
{
	char *buf = NULL;
	size_t len = 0;
	struct mt_error e;
	struct batch_options bo = { .json = true, .regions = true };
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(replay_next(r, &s[!*cur], &e), 0);
	assert_int_equal(model_update(m, first ? NULL : &s[*cur], &s[!*cur]), 0);
	*cur = !*cur;
	batch_print_json(f, m, &s[*cur], &bo);
	fclose(f);
	return buf;
}

/* A replay that goes back to a mark (the reader's state, a copy of the
 * model and of the snapshots) goes on exactly as it did the first time. */
static void test_mark_and_restore_replay_the_same(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_error e;
	struct mt_snapshot s[2], ks[2];
	struct mt_model m, km;
	char *first[RECFIX_SAMPLES] = { 0 };
	int cur = 1, kcur;
	size_t bytes = 0;
	struct replay_mark *mark = NULL;

	recfix_record(path, NULL);
	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	for (int i = 0; i < 2; i++) {
		snapshot_init(&s[i]);
		snapshot_init(&ks[i]);
	}
	model_init(&m);
	for (int i = 0; i < RECFIX_SAMPLES; i++) {
		first[i] = fold_json(r, &m, s, &cur, i == 0);
		if (i == 1) {
			mark = replay_mark(r, &bytes);
			assert_non_null(mark);
			assert_true(bytes > 0);
			assert_int_equal(model_copy(&km, &m), 0);
			assert_int_equal(snapshot_copy(&ks[0], &s[0]), 0);
			assert_int_equal(snapshot_copy(&ks[1], &s[1]), 0);
			kcur = cur;
		}
	}
	assert_int_equal(replay_restore(r, mark), 0);
	assert_int_equal(replay_pos(r), 2);
	model_free(&m);
	for (int i = 2; i < RECFIX_SAMPLES; i++) {
		char *again = fold_json(r, &km, ks, &kcur, false);
		assert_string_equal(again, first[i]);
		free(again);
	}
	for (int i = 0; i < RECFIX_SAMPLES; i++)
		free(first[i]);
	replay_mark_free(mark);
	model_free(&km);
	for (int i = 0; i < 2; i++) {
		snapshot_free(&s[i]);
		snapshot_free(&ks[i]);
	}
	replay_close(r);
}

static void test_sessions_stack_up(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_error e;
	recfix_record(path, NULL);
	recfix_record(path, NULL);
	assert_int_equal(replay_open(&r, path, 1, &e), 0);
	assert_int_equal(replay_session(r)->index, 1);
	assert_int_equal(replay_session(r)->count, 2);
	replay_close(r);
	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	assert_int_equal(replay_session(r)->index, 2);
	assert_int_equal(replay_count(r), RECFIX_SAMPLES);
	replay_close(r);
	assert_int_equal(replay_open(&r, path, 3, &e), -1);
	assert_int_equal(e.kind, MT_ERR_USAGE);
}

static void test_time_and_id_lookups(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_error e;
	recfix_record(path, NULL);
	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	double t0 = replay_time(r, 0);
	assert_int_equal(replay_find_time(r, t0 - 100), 0);
	assert_int_equal(replay_find_time(r, t0), 0);
	/* The first sample at or after the time asked (b 15:23:25 with a
	 * sample at 15:23:25.750 goes there, not to the one before). */
	assert_int_equal(replay_find_time(r, t0 + 0.1), 1);
	assert_int_equal(replay_find_time(r, t0 + 1.5), 1);
	assert_int_equal(replay_find_time(r, t0 + 1.6), 2);
	/* Past the end: the last sample. */
	assert_int_equal(replay_find_time(r, t0 + 1e6), RECFIX_SAMPLES - 1);
	for (size_t i = 0; i < RECFIX_SAMPLES; i++)
		assert_int_equal(replay_find_id(r, replay_sample_id(r, i)), (long)i);
	assert_int_equal(replay_find_id(r, -5), -1);
	replay_close(r);
}

static void test_scan_is_listed_with_its_sample(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_error e;
	struct scanstore_info *v = NULL;
	size_t n = 0;
	recfix_record(path, NULL);
	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	assert_int_equal(scanstore_list(replay_db(r), replay_session(r)->id, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].sample, replay_sample_id(r, 1));
	assert_int_equal(v[0].lo, 0x7f0000000000);
	assert_string_equal(v[0].label, "msg\ns.dat");
	free(v);
	replay_close(r);
}

static void write_file(const char *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
}

/* Another kind of file is refused by both, and left as it was. */
static void test_other_files_are_refused_untouched(void **state)
{
	(void)state;
	static const char text[] = "not a recording\n";
	struct mt_recorder *rec;
	struct mt_replay *r;
	struct mt_error e;
	char back[64];

	write_file(text, sizeof(text) - 1);
	assert_int_equal(record_open(&rec, path, 1, &e), -1);
	assert_int_equal(e.kind, MT_ERR_BADFILE);
	assert_non_null(strstr(e.msg, "not a memtop recording"));
	assert_int_equal(replay_open(&r, path, 0, &e), -1);
	assert_int_equal(e.kind, MT_ERR_BADFILE);
	FILE *f = fopen(path, "rb");
	assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(text) - 1);
	fclose(f);
	assert_memory_equal(back, text, sizeof(text) - 1);

	unlink(path);
	exec_sql("CREATE TABLE t (x); PRAGMA application_id = 7;");
	assert_int_equal(record_open(&rec, path, 1, &e), -1);
	assert_non_null(strstr(e.msg, "another program"));
	assert_int_equal(replay_open(&r, path, 0, &e), -1);
	assert_int_equal(e.kind, MT_ERR_BADFILE);
}

static void test_empty_file_becomes_a_recording(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_error e;
	write_file("", 0);
	assert_int_equal(replay_open(&r, path, 0, &e), -1);
	assert_non_null(strstr(e.msg, "empty"));
	recfix_record(path, NULL);
	assert_int_equal(replay_open(&r, path, 0, &e), 0);
	replay_close(r);
}

static void test_newer_schema_is_refused(void **state)
{
	(void)state;
	struct mt_replay *r;
	struct mt_recorder *rec;
	struct mt_error e;
	recfix_record(path, NULL);
	exec_sql("PRAGMA user_version = 99");
	assert_int_equal(replay_open(&r, path, 0, &e), -1);
	assert_int_equal(e.kind, MT_ERR_BADFILE);
	assert_non_null(strstr(e.msg, "newer memtop"));
	assert_int_equal(record_open(&rec, path, 1, &e), -1);
	assert_int_equal(e.kind, MT_ERR_BADFILE);
}

/* Open and replay every sample: 0 when all went, else the error kind. */
static int replay_all(struct mt_error *e)
{
	struct mt_replay *r;
	struct mt_snapshot s;
	int rc;
	if (replay_open(&r, path, 0, e))
		return e->kind;
	snapshot_init(&s);
	while ((rc = replay_next(r, &s, e)) == 0)
		;
	snapshot_free(&s);
	replay_close(r);
	return rc < 0 ? (int)e->kind : 0;
}

static void damaged(const char *sql)
{
	struct mt_error e;
	unlink(path);
	recfix_record(path, NULL);
	exec_sql(sql);
	mt_error_clear(&e);
	if (replay_all(&e) != MT_ERR_BADFILE)
		fail_msg("not reported as damage: %s (%s)", sql, e.msg);
}

static void test_damaged_rows_are_reported(void **state)
{
	(void)state;
	damaged("UPDATE region SET end = start WHERE id = 1");
	damaged("UPDATE region SET start = (SELECT start FROM region WHERE id = 1) + 4096"
		" WHERE id = 2");
	damaged("UPDATE region SET perms = 'rwz!' WHERE id = 1");
	damaged("UPDATE region SET born = 999 WHERE id = 1");
	damaged("UPDATE region SET died = born WHERE id = 1");
	damaged("INSERT INTO region_rss (sample, region) VALUES ((SELECT max(id) FROM sample),"
		" (SELECT id FROM region WHERE died IS NOT NULL ORDER BY id LIMIT 1))");
	damaged("UPDATE sample SET time = 'noon' WHERE seq = 2");
	damaged("UPDATE sample SET mono = 0 WHERE seq = 2");
	damaged("UPDATE sample SET seq = 7 WHERE seq = 1");
	damaged("UPDATE thread SET name = x'00ff' WHERE id = 1");
	damaged("UPDATE thread SET tid = (SELECT tid FROM thread WHERE id = 1)");
	damaged("UPDATE session SET page_size = 3");
	damaged("DROP TABLE region");
	damaged("DELETE FROM sample");
}

/* Sample i of a churning target: 64 regions, all of them new lifetimes
 * every sample (the addresses move). */
static void churn_snapshot(struct mt_snapshot *s, int i)
{
	char text[64 * 64], *p = text;
	snapshot_reset(s);
	s->pid = RECFIX_PID;
	s->time = 1.8e9 + i;
	s->mono = 1000 + i;
	s->page_size = 4096;
	s->max_map_count = 65530;
	s->rlimit_as = UINT64_MAX;
	uint64_t base = 0x10000000ull + (uint64_t)(i % 1000) * 64 * 0x2000;
	for (int k = 0; k < 64; k++)
		p += sprintf(p, "%llx-%llx rw-p 00000000 00:00 0\n",
			     (unsigned long long)(base + (uint64_t)k * 0x2000),
			     (unsigned long long)(base + (uint64_t)k * 0x2000 + 0x1000));
	assert_int_equal(maps_parse(s, text, (size_t)(p - text), NULL), 0);
}

/* Heap in use outside SQLite's own (its page cache fills up to a bound). */
static long heap_outside_sqlite(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long)(mi.uordblks + mi.hblkhd) - (long)sqlite3_memory_used();
}

static void record_churn(struct mt_recorder *rec, struct mt_model *m, struct mt_snapshot s[2],
			 int from, int to)
{
	struct mt_error e;
	for (int i = from; i < to; i++) {
		struct mt_snapshot *cur = &s[i & 1];
		churn_snapshot(cur, i);
		assert_int_equal(model_update(m, i ? &s[!(i & 1)] : NULL, cur), 0);
		assert_int_equal(record_sample(rec, m, cur, &e), 0);
	}
	assert_int_equal(record_flush(rec, &e), 0);
}

/* The recorder's memory follows the lifetimes alive, not all that ever
 * were: 64,000 more lifetimes cost it nothing (they cost 512 KiB of row
 * ids when every handle kept one). */
static void test_recorder_memory_follows_what_is_alive(void **state)
{
	(void)state;
	struct mt_recorder *rec;
	struct mt_snapshot s[2];
	struct mt_model m;
	struct mt_error e;
	assert_int_equal(record_open(&rec, path, 1, &e), 0);
	snapshot_init(&s[0]);
	snapshot_init(&s[1]);
	model_init(&m);
	record_churn(rec, &m, s, 0, 1000);
	long before = heap_outside_sqlite();
	record_churn(rec, &m, s, 1000, 2000);
	long after = heap_outside_sqlite();
	assert_true(after - before < 128 * 1024);
	record_close(rec);
	model_free(&m);
	snapshot_free(&s[0]);
	snapshot_free(&s[1]);
}

static void test_parse_when(void **state)
{
	(void)state;
	double ref = 1.7e9, t;
	time_t r = (time_t)ref;
	struct tm tm;
	localtime_r(&r, &tm);
	assert_int_equal(format_parse_when("12:34", ref, &t), 0);
	time_t tt = (time_t)t;
	struct tm got;
	localtime_r(&tt, &got);
	assert_int_equal(got.tm_hour, 12);
	assert_int_equal(got.tm_min, 34);
	assert_int_equal(got.tm_sec, 0);
	assert_int_equal(got.tm_mday, tm.tm_mday);
	assert_int_equal(format_parse_when("2026-11-23 04:30:12", ref, &t), 0);
	tt = (time_t)t;
	localtime_r(&tt, &got);
	assert_int_equal(got.tm_year, 126);
	assert_int_equal(got.tm_mon, 10);
	assert_int_equal(got.tm_mday, 23);
	assert_int_equal(got.tm_sec, 12);
	static const char *const bad[] = { "", "12", "25:00", "12:60", "12:30:7", "12:30x",
					   "2026-13-01 10:00", "2026-11-23", "noon", "#3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (format_parse_when(bad[i], ref, &t) == 0)
			fail_msg("'%s' parsed", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay_gives_the_recorded_snapshots, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replayed_json_is_the_live_json, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mark_and_restore_replay_the_same, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sessions_stack_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_and_id_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_is_listed_with_its_sample, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_files_are_refused_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_becomes_a_recording, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_rows_are_reported, setup, teardown),
		cmocka_unit_test(test_parse_when),
		cmocka_unit_test_setup_teardown(test_recorder_memory_follows_what_is_alive, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
