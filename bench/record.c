/*
 * record.c - what recording costs (bench_record): bytes per hour of a
 * steady process, and the time to write a sample at the mapping limit.
 *
 *   bench_record [DIR] [SAMPLES] [ROUNDS]
 *
 * Recordings go to DIR (default: a new directory under $TMPDIR or /tmp,
 * removed at the end); the file system matters, as SQLite syncs on
 * checkpoints.  Two fixture children, one after the other:
 *
 * Steady, ~1,000 regions (pages of alternating protection, 20 mappings of
 * a file, a 64 MiB read-write region, two threads besides the main one).
 * Before each sample the child does one second's worth of churn at -d 1:
 * it touches 10 more pages of the 64 MiB region and one more one-page
 * region, so two regions' resident figures change every sample.  A
 * recording of one sample, then one of SAMPLES (default 600) taken as fast
 * as possible, each a real proc_read(PROC_READ_RSS_ALWAYS) + model_update
 * + record_sample; file sizes after record_close (which checkpoints the
 * WAL), the -wal size before it, and rows and bytes per table (dbstat).
 *
 * 65,000 regions (as bench_refresh).  For the first sample (every region
 * born), interleaved 5 times with fresh files: record_sample, and the raw
 * SQLite floor: the same rows (from the same snapshot) inserted with one
 * prepared statement per table in one transaction, into a file made by
 * recfile_open (same schema, WAL, synchronous=NORMAL).  Then ROUNDS
 * (default 30) rounds of refresh + record_sample, without resident sizes,
 * with them (PROC_READ_RSS_ALWAYS), and with them while the child changes
 * 1% of its regions (650 one-page regions touched) before each round.
 *
 * Budgets (docs/performance.md): a steady 1,000-region process at -d 1
 * costs at most 2 MiB an hour (the first sample plus 3,600 steady ones,
 * from the closed files); a sample of 65,000 regions is written within
 * 30 ms, judged on the p90 of the rounds and on the first sample's median.
 * The bench prints figures and verdicts; it never fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/model.h"
#include "memtop/proc.h"
#include "memtop/recfile.h"
#include "memtop/record.h"
#include "memtop/replay.h"

#include "bench.h"

#define BIG_REGIONS 65000
#define BIG_FILE_MAPS 500
#define BIG_CHURN 650            /* 1% of the regions a round */
#define STEADY_REGIONS 1000
#define STEADY_FILE_MAPS 20
#define STEADY_THREADS 2
#define STEADY_HEAP_PAGES 16384  /* 64 MiB */
#define STEADY_HEAP_CHURN 10     /* pages a sample */
#define STEADY_SMALL_CHURN 1     /* one-page regions a sample */
#define FIRST_REPS 5
#define BUDGET_MIB_HOUR 2.0
#define BUDGET_MS 30.0

/* ---- the fixture child -------------------------------------------------- */

struct fixture {
	int regions;     /* lines of /proc/self/maps to reach */
	int file_maps;
	int threads;
	size_t heap_pages;    /* a read-write region that grows, 0: none */
	int heap_churn;       /* its pages touched per command */
	int small_churn;      /* one-page regions touched per command */
};

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* Touch page i of n (a cycle: the second pass drops what the first
 * touched), so its resident size changes either way. */
static void churn_page(char *base, size_t stride, size_t n, size_t count)
{
	size_t i = count % n;
	char *p = base + i * stride;
	if ((count / n) % 2 == 0)
		*(volatile char *)p = 1;
	else
		madvise(p, 4096, MADV_DONTNEED);
}

/* Make the mappings, say so on `ready`, then churn once per byte read
 * from `cmd`, answering each; exit when cmd closes. */
static void child(const struct fixture *f, int cmd, int ready)
{
	long pg = sysconf(_SC_PAGESIZE);
	for (int i = 0; i < f->threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, idle_thread, NULL))
			_exit(1);
	}
	bench_map_file_windows(f->file_maps);
	char *heap = NULL;
	if (f->heap_pages) {
		heap = mmap(NULL, f->heap_pages * (size_t)pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (heap == MAP_FAILED)
			_exit(1);
		for (size_t i = 0; i < f->heap_pages / 4; i++) /* a quarter in use */
			heap[i * (size_t)pg] = 1;
	}
	size_t pages;
	char *a = bench_fill_regions((size_t)f->regions, &pages);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	size_t heap_n = 0, small_n = 0, writable = pages / 2;
	char c;
	while (read(cmd, &c, 1) == 1) {
		for (int i = 0; heap && i < f->heap_churn; i++)
			churn_page(heap + f->heap_pages / 4 * (size_t)pg, (size_t)pg,
				   f->heap_pages - f->heap_pages / 4, heap_n++);
		for (int i = 0; i < f->small_churn; i++)
			churn_page(a + (size_t)pg, 2 * (size_t)pg, writable, small_n++);
		if (write(ready, "k", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

struct target {
	pid_t pid;
	int cmd, ack;
};

static int start(struct target *t, const struct fixture *f)
{
	int cmd[2], ack[2];
	char c;
	if (pipe(cmd) < 0 || pipe(ack) < 0)
		return -1;
	t->pid = fork();
	if (t->pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		child(f, cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	t->cmd = cmd[1];
	t->ack = ack[0];
	if (t->pid < 0 || read(t->ack, &c, 1) != 1) {
		fprintf(stderr, "bench_record: the child could not make its mappings\n");
		return -1;
	}
	return 0;
}

static void churn(struct target *t)
{
	char c = 'c';
	if (write(t->cmd, &c, 1) != 1 || read(t->ack, &c, 1) != 1) {
		fprintf(stderr, "bench_record: the child is gone\n");
		exit(1);
	}
}

static void stop(struct target *t)
{
	close(t->cmd);
	close(t->ack);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
}

/* ---- refreshing, as bench_refresh and run_batch do ---------------------- */

static void refresher_open(struct bench_refresher *r, pid_t pid)
{
	struct mt_error err;
	if (bench_refresher_open(r, pid, &err) < 0) {
		fprintf(stderr, "bench_record: %s\n", err.msg);
		exit(1);
	}
}

/* ---- recording ---------------------------------------------------------- */

static struct mt_recorder *rec_open(const char *path)
{
	struct mt_recorder *rec;
	struct mt_error err;
	if (record_open(&rec, path, 1.0, &err) < 0) {
		fprintf(stderr, "record_open: %s\n", err.msg);
		exit(1);
	}
	return rec;
}

/*
 * One sample: the seconds record_sample held the caller (the diff and the
 * queueing: what a refresh waits for), and in *written the seconds until
 * the writer thread had it in the file (record_flush), which the bench
 * waits for so that samples do not overlap.
 */
static double rec_sample(struct mt_recorder *rec, const struct bench_refresher *r, double *written)
{
	struct mt_error err;
	double t0 = clock_mono();
	if (record_sample(rec, &r->model, bench_latest(r), &err) < 0) {
		fprintf(stderr, "record_sample: %s\n", err.msg);
		exit(1);
	}
	double t1 = clock_mono();
	if (record_flush(rec, &err) < 0) {
		fprintf(stderr, "record_flush: %s\n", err.msg);
		exit(1);
	}
	if (written)
		*written = clock_mono() - t0;
	return t1 - t0;
}

/* Bytes this process has handed to write() and the like so far. */
static long long wchar(void)
{
	char buf[512];
	long long v = -1;
	FILE *f = fopen("/proc/self/io", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "wchar: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void remove_recording(const char *path)
{
	char side[PATH_MAX + 48];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* What a closed recording holds: rows and bytes (dbstat) per table. */
struct contents {
	long long samples, regions, rss_rows, threads;
	long long b_sample, b_region, b_rss, b_thread, b_other;
};

static long long query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void contents(const char *path, struct contents *c)
{
	sqlite3 *db;
	memset(c, 0, sizeof(*c));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return;
	}
	c->samples = query(db, "SELECT count(*) FROM sample");
	c->regions = query(db, "SELECT count(*) FROM region");
	c->rss_rows = query(db, "SELECT count(*) FROM region_rss");
	c->threads = query(db, "SELECT count(*) FROM thread");
	/* The sample table with its (session, seq) index. */
	c->b_sample = query(db, "SELECT sum(pgsize) FROM dbstat WHERE name IN "
			    "('sample', 'sample_seq')");
	c->b_region = query(db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'region'");
	c->b_rss = query(db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'region_rss'");
	c->b_thread = query(db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'thread'");
	c->b_other = query(db, "SELECT sum(pgsize) FROM dbstat") - c->b_sample - c->b_region -
		c->b_rss - c->b_thread;
	sqlite3_close(db);
}

/* ---- the raw SQLite floor ----------------------------------------------- */

/*
 * The rows a first sample of s writes into region (and region_rss when
 * rss), with the same values bound the same way, one prepared statement
 * per table, one transaction, into a new recording file.  Seconds.
 */
static double raw_floor(const char *path, const struct mt_snapshot *s, bool rss)
{
	sqlite3 *db;
	sqlite3_stmt *reg, *fig;
	struct mt_error err;
	if (recfile_open(&db, path, RECFILE_WRITE, &err) < 0) {
		fprintf(stderr, "recfile_open: %s\n", err.msg);
		exit(1);
	}
	if (sqlite3_prepare_v3(db, "INSERT INTO region (session, born, start, end, perms,"
			       " offset, dev_major, dev_minor, inode, path, deleted, category)"
			       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &reg, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "INSERT INTO region_rss VALUES (?,?,?,?,?,?,?,?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &fig, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	double t0 = clock_mono();
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *g = &s->regions[i];
		char perms[5];
		const char *cat = region_category_name(g->category);
		region_perms_str(g->perms, perms);
		sqlite3_bind_int64(reg, 1, 1);
		sqlite3_bind_int64(reg, 2, 1);
		sqlite3_bind_int64(reg, 3, recfile_u64(g->start));
		sqlite3_bind_int64(reg, 4, recfile_u64(g->end));
		sqlite3_bind_text(reg, 5, perms, 4, SQLITE_TRANSIENT);
		sqlite3_bind_int64(reg, 6, recfile_u64(g->offset));
		sqlite3_bind_int64(reg, 7, g->dev_major);
		sqlite3_bind_int64(reg, 8, g->dev_minor);
		sqlite3_bind_int64(reg, 9, recfile_u64(g->inode));
		if (g->path_len)
			sqlite3_bind_int64(reg, 10, 1);
		else
			sqlite3_bind_null(reg, 10);
		sqlite3_bind_int64(reg, 11, (g->deleted_suffix ? 1 : 0) | (g->deleted ? 2 : 0));
		sqlite3_bind_text(reg, 12, cat, (int)strlen(cat), SQLITE_TRANSIENT);
		if (sqlite3_step(reg) != SQLITE_DONE)
			break;
		sqlite3_reset(reg);
		if (!rss)
			continue;
		const uint64_t v[7] = { g->rss, g->pss, g->swap, g->private_dirty,
					g->shared_dirty, g->anon_huge, g->locked };
		sqlite3_bind_int64(fig, 1, 1);
		sqlite3_bind_int64(fig, 2, sqlite3_last_insert_rowid(db));
		for (int f = 0; f < 7; f++) {
			if (v[f] == RECFILE_NULL_U64)
				sqlite3_bind_null(fig, 3 + f);
			else
				sqlite3_bind_int64(fig, 3 + f, recfile_u64(v[f]));
		}
		if (sqlite3_step(fig) != SQLITE_DONE)
			break;
		sqlite3_reset(fig);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	double t = clock_mono() - t0;
	sqlite3_finalize(reg);
	sqlite3_finalize(fig);
	recfile_close(db, true);
	remove_recording(path);
	return t;
}

/* ---- statistics and printing -------------------------------------------- */

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

static double kib(long long bytes)
{
	return bytes / 1024.0;
}

/* ---- the steady process ------------------------------------------------- */

/*
 * Replaying: every sample of path rebuilt (replay_next) and folded into a
 * model, as a replay's step back does from the first sample.  Seconds a
 * sample, median of 3 passes.
 */
static double replay_cost(const char *path, size_t *samples)
{
	double t[3];
	for (int pass = 0; pass < 3; pass++) {
		struct mt_replay *rp;
		struct mt_error err;
		struct mt_snapshot s[2];
		struct mt_model m;
		if (replay_open(&rp, path, 0, &err) < 0) {
			fprintf(stderr, "replay_open: %s\n", err.msg);
			exit(1);
		}
		snapshot_init(&s[0]);
		snapshot_init(&s[1]);
		model_init(&m);
		double t0 = clock_mono();
		size_t n = 0;
		while (replay_next(rp, &s[n & 1], &err) == 0) {
			model_update(&m, n ? &s[!(n & 1)] : NULL, &s[n & 1]);
			n++;
		}
		t[pass] = (clock_mono() - t0) / (double)(n ? n : 1);
		*samples = n;
		model_free(&m);
		snapshot_free(&s[0]);
		snapshot_free(&s[1]);
		replay_close(rp);
	}
	return bench_median(t, 3);
}

static void bench_steady(const char *dir, int samples)
{
	struct fixture f = { .regions = STEADY_REGIONS, .file_maps = STEADY_FILE_MAPS,
			     .threads = STEADY_THREADS, .heap_pages = STEADY_HEAP_PAGES,
			     .heap_churn = STEADY_HEAP_CHURN,
			     .small_churn = STEADY_SMALL_CHURN };
	struct target t;
	struct bench_refresher r;
	char one[PATH_MAX + 32], many[PATH_MAX + 32], wal[PATH_MAX + 40];
	if (start(&t, &f) < 0)
		exit(1);
	snprintf(one, sizeof(one), "%s/steady-1.memtop", dir);
	snprintf(many, sizeof(many), "%s/steady-%d.memtop", dir, samples);
	snprintf(wal, sizeof(wal), "%s-wal", many);
	refresher_open(&r, t.pid);

	/* A recording of the first sample alone: what any recording costs. */
	struct mt_recorder *rec = rec_open(one);
	bench_refresh(&r, PROC_READ_RSS_ALWAYS);
	rec_sample(rec, &r, NULL);
	record_close(rec);
	long long size1 = file_size(one);

	double *ref = calloc((size_t)samples * 3, sizeof(double)), *wr = ref + samples;
	double *wt = wr + samples;
	rec = rec_open(many);
	long long w0 = wchar();
	double t0 = clock_mono();
	for (int i = 0; i < samples; i++) {
		churn(&t);
		ref[i] = bench_refresh(&r, PROC_READ_RSS_ALWAYS);
		wr[i] = rec_sample(rec, &r, &wt[i]);
	}
	double secs = clock_mono() - t0;
	long long written = wchar() - w0;
	long long wal_size = file_size(wal), open_size = file_size(many);
	double tc = clock_mono();
	record_close(rec);
	double close_secs = clock_mono() - tc;
	long long sizen = file_size(many);
	struct contents c1, cn;
	contents(one, &c1);
	contents(many, &cn);
	size_t regions = bench_latest(&r)->n_regions, threads = bench_latest(&r)->n_threads;
	bench_refresher_close(&r);
	stop(&t);

	int steady = samples - 1;
	double per = (double)(sizen - size1) / steady;
	double hour = (size1 + per * 3600) / 1048576.0;
	printf("steady process: %zu regions, %zu threads, %d samples in %.1f s, rss every sample,\n"
	       "  churn per sample: %d pages of one region + %d one-page region%s\n", regions,
	       threads, samples, secs, STEADY_HEAP_CHURN, STEADY_SMALL_CHURN,
	       STEADY_SMALL_CHURN == 1 ? "" : "s");
	printf("  recording of 1 sample     %8.1f KiB\n", kib(size1));
	printf("  recording of %d samples %8.1f KiB  (-wal before close %.1f KiB, .db %.1f KiB;"
	       " close %.1f ms)\n", samples, kib(sizen), kib(wal_size), kib(open_size),
	       close_secs * 1e3);
	printf("  a steady sample           %8.0f B    (sample %.0f, region_rss %.0f, thread %.0f,"
	       " region %.0f, other %.0f)\n", per,
	       (double)(cn.b_sample - c1.b_sample) / steady,
	       (double)(cn.b_rss - c1.b_rss) / steady,
	       (double)(cn.b_thread - c1.b_thread) / steady,
	       (double)(cn.b_region - c1.b_region) / steady,
	       (double)(cn.b_other - c1.b_other) / steady);
	printf("  written to disk           %8.1f KiB a sample (WAL frames and checkpoints, wchar)\n",
	       kib(written) / samples);
	printf("  rows per steady sample    %8.2f region_rss, %.3f thread, %.3f region\n",
	       (double)(cn.rss_rows - c1.rss_rows) / steady,
	       (double)(cn.threads - c1.threads) / steady,
	       (double)(cn.regions - c1.regions) / steady);
	printf("  per hour at -d 1          %8.2f MiB  (first sample + 3600 steady)"
	       "   budget <= %.0f MiB/h  %s\n", hour, BUDGET_MIB_HOUR,
	       verdict(hour <= BUDGET_MIB_HOUR));
	double mref = bench_median(ref, samples), mwr = bench_median(wr, samples);
	double p90 = bench_quantile(wr, samples, 0.9), mx = wr[samples - 1];
	double mwt = bench_median(wt, samples), p90t = bench_quantile(wt, samples, 0.9);
	printf("  refresh (proc_read+model) %8.3f ms  median\n", mref * 1e3);
	printf("  record_sample (caller)    %8.3f ms  median, p90 %.3f ms, max %.1f ms;"
	       " record/refresh = %.2f\n", mwr * 1e3, p90 * 1e3, mx * 1e3, mwr / mref);
	printf("  in the file (writer)      %8.3f ms  median, p90 %.3f ms, max %.1f ms\n",
	       mwt * 1e3, p90t * 1e3, wt[samples - 1] * 1e3);
	size_t replayed;
	double per_sample = replay_cost(many, &replayed);
	printf("  replay (rebuild + model)  %8.3f ms a sample (%zu samples); an hour at -d 1 in"
	       " %.2f s\n\n", per_sample * 1e3, replayed, per_sample * 3600);
	free(ref);
	remove_recording(one);
	remove_recording(many);
}

/* ---- 65,000 regions ----------------------------------------------------- */

struct run {
	double ref_med, wr_med, wr_p90, wr_max;
	double wt_med, wt_p90; /* until in the file */
	long long size, wal;
};

/* A first sample, then rounds of (churn,) refresh, record. */
static void rounds_of(struct target *t, struct bench_refresher *r, const char *path, unsigned flags,
		      bool changes, int rounds, struct run *out)
{
	double *ref = calloc((size_t)rounds * 3, sizeof(double)), *wr = ref + rounds;
	double *wt = wr + rounds;
	struct mt_recorder *rec = rec_open(path);
	bench_refresh(r, flags);
	rec_sample(rec, r, NULL);
	for (int i = 0; i < rounds; i++) {
		if (changes)
			churn(t);
		ref[i] = bench_refresh(r, flags);
		wr[i] = rec_sample(rec, r, &wt[i]);
	}
	char wal[PATH_MAX + 40];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	out->wal = file_size(wal);
	record_close(rec);
	out->size = file_size(path);
	out->ref_med = bench_median(ref, rounds);
	out->wr_med = bench_median(wr, rounds);
	out->wr_p90 = bench_quantile(wr, rounds, 0.9);
	out->wr_max = wr[rounds - 1];
	out->wt_med = bench_median(wt, rounds);
	out->wt_p90 = bench_quantile(wt, rounds, 0.9);
	free(ref);
	remove_recording(path);
}

/* The first sample of the latest snapshot, FIRST_REPS times into fresh
 * files, interleaved with the raw floor: medians into rec and raw. */
static void first_of(struct bench_refresher *r, const char *dir, bool rss, double *rec_med,
		     double *written_med, double *raw_med)
{
	double rec[FIRST_REPS], written[FIRST_REPS], raw[FIRST_REPS];
	char path[PATH_MAX + 32];
	for (int i = 0; i < FIRST_REPS; i++) {
		snprintf(path, sizeof(path), "%s/first.memtop", dir);
		struct mt_recorder *w = rec_open(path);
		rec[i] = rec_sample(w, r, &written[i]);
		record_close(w);
		remove_recording(path);
		snprintf(path, sizeof(path), "%s/raw.memtop", dir);
		raw[i] = raw_floor(path, bench_latest(r), rss);
	}
	*rec_med = bench_median(rec, FIRST_REPS);
	*written_med = bench_median(written, FIRST_REPS);
	*raw_med = bench_median(raw, FIRST_REPS);
}

static void bench_big(const char *dir, int rounds)
{
	struct fixture f = { .regions = BIG_REGIONS, .file_maps = BIG_FILE_MAPS,
			     .small_churn = BIG_CHURN };
	struct target t;
	struct bench_refresher r;
	char path[PATH_MAX + 32];
	double first_n, raw_n, first_r, raw_r, wrote_n, wrote_r;
	struct run none, rss, changed;
	if (start(&t, &f) < 0)
		exit(1);
	refresher_open(&r, t.pid);
	snprintf(path, sizeof(path), "%s/big.memtop", dir);

	bench_refresh(&r, PROC_READ_RSS_NEVER);
	first_of(&r, dir, false, &first_n, &wrote_n, &raw_n);
	rounds_of(&t, &r, path, PROC_READ_RSS_NEVER, false, rounds, &none);
	bench_refresh(&r, PROC_READ_RSS_ALWAYS);
	first_of(&r, dir, true, &first_r, &wrote_r, &raw_r);
	rounds_of(&t, &r, path, PROC_READ_RSS_ALWAYS, false, rounds, &rss);
	rounds_of(&t, &r, path, PROC_READ_RSS_ALWAYS, true, rounds, &changed);
	size_t regions = bench_latest(&r)->n_regions;
	bench_refresher_close(&r);
	stop(&t);

	printf("%zu regions, %d rounds, medians (p90, max)\n", regions, rounds);
	printf("  first sample, no rss      caller %6.1f ms  budget <= %.0f ms  %s;  in the file"
	       " %6.1f ms, raw SQLite for %zu region rows %.1f ms, ratio %.2f\n", first_n * 1e3,
	       BUDGET_MS, verdict(first_n * 1e3 <= BUDGET_MS), wrote_n * 1e3, regions,
	       raw_n * 1e3, wrote_n / raw_n);
	printf("  first sample, rss         caller %6.1f ms  budget <= %.0f ms  %s;  in the file"
	       " %6.1f ms, raw SQLite for %zu region + rss rows %.1f ms, ratio %.2f\n",
	       first_r * 1e3, BUDGET_MS, verdict(first_r * 1e3 <= BUDGET_MS), wrote_r * 1e3,
	       regions, raw_r * 1e3, wrote_r / raw_r);
	const struct { const char *name; struct run *v; } runs[] = {
		{ "no rss, steady ", &none },
		{ "rss, steady    ", &rss },
		{ "rss, 1% changed", &changed },
	};
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct run *v = runs[i].v;
		printf("  %s  refresh %6.1f ms  caller %5.2f ms (%.2f, %.2f)"
		       "  record/refresh %.3f  budget <= %.0f ms  %s;  in the file %.2f ms (%.2f)\n",
		       runs[i].name, v->ref_med * 1e3, v->wr_med * 1e3, v->wr_p90 * 1e3,
		       v->wr_max * 1e3, v->wr_med / v->ref_med, BUDGET_MS,
		       verdict(v->wr_p90 * 1e3 <= BUDGET_MS && v->wt_p90 * 1e3 <= BUDGET_MS),
		       v->wt_med * 1e3, v->wt_p90 * 1e3);
	}
	printf("  files (1 + %d samples)    no rss %.1f MiB, rss %.1f MiB, rss 1%% changed %.1f MiB"
	       " (%.0f B per changed region)\n", rounds, none.size / 1048576.0,
	       rss.size / 1048576.0, changed.size / 1048576.0,
	       (double)(changed.size - rss.size) / ((double)rounds * BIG_CHURN));
	printf("  -wal before close         no rss %.1f MiB, rss %.1f MiB, rss 1%% changed %.1f MiB\n",
	       none.wal / 1048576.0, rss.wal / 1048576.0, changed.wal / 1048576.0);
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX];
	bool own = !(argc > 1 && argv[1][0]);
	int samples = argc > 2 ? atoi(argv[2]) : 600;
	int rounds = argc > 3 ? atoi(argv[3]) : 30;
	if (samples < 2)
		samples = 2;
	if (rounds < 1)
		rounds = 1;
	if (own) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/bench_record.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("bench_record: mkdtemp");
			return 1;
		}
	} else {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	}
	struct statfs fs;
	const char *kind = statfs(dir, &fs) < 0 ? "?" : fs.f_type == 0x01021994 ? "tmpfs" :
		fs.f_type == 0xEF53 ? "ext4" : fs.f_type == 0x58465342 ? "xfs" :
		fs.f_type == 0x9123683E ? "btrfs" : "other";
	printf("memtop record benchmark: recordings in %s (%s), SQLite %s\n\n", dir, kind,
	       sqlite3_libversion());
	fflush(stdout);

	bench_steady(dir, samples);
	fflush(stdout);
	bench_big(dir, rounds);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS of this process    %8.1f MiB\n", ru.ru_maxrss / 1024.0);
	if (own)
		rmdir(dir);
	return 0;
}
