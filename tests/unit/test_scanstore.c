/*
 * test_scanstore.c - a synthetic scan saved into a recording, listed and
 * loaded back field by field; then the rows damaged one way at a time
 * (as a hostile file would), each load refused as MT_ERR_BADFILE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "memtop/recfile.h"
#include "memtop/scanstore.h"

/* ---- the synthetic scan ----------------------------------------------- */

struct fixture {
	char dir[64];
	char path[96];
	sqlite3 *db;
	struct mt_snapshot snap;
	struct scan_result res;
	struct record_scan sc;
	int64_t id, id2;
};

static const struct {
	uint64_t start, end, offset, inode;
	uint8_t perms;
	enum mt_category cat;
	int tid;
	const char *path;
} regions[] = {
	/* 0: not named by the result: not stored */
	{ 0x400000, 0x401000, 0, 42, MT_PERM_R | MT_PERM_X, MT_CAT_IMAGE, 0, "/usr/bin/prog" },
	{ 0x600000, 0x601000, 0x1000, 42, MT_PERM_R | MT_PERM_W, MT_CAT_IMAGE, 0, "/usr/bin/prog" },
	{ 0x1000000, 0x1021000, 0, 0, MT_PERM_R | MT_PERM_W, MT_CAT_HEAP, 0, "[heap]" },
	/* 3: holds lo, no reference in it */
	{ 0x7f0000000000, 0x7f0000100000, 0, 0, MT_PERM_R | MT_PERM_W, MT_CAT_ANON, 0, "" },
	{ 0x7f0000200000, 0x7f0000201000, 0x3000, 7, MT_PERM_R | MT_PERM_SHARED, MT_CAT_FILE, 0,
	  "/tmp/we\nird name" },
	/* 5: not named */
	{ 0x7f0000300000, 0x7f0000400000, 0, 9, MT_PERM_R, MT_CAT_IMAGE, 0, "/lib/libc.so.6" },
	{ 0x7ffd00000000, 0x7ffd00021000, 0, 0, MT_PERM_R | MT_PERM_W, MT_CAT_STACK, 100, "[stack]" },
	{ 0x7ffe00000000, 0x7ffe00021000, 0, 0, MT_PERM_R | MT_PERM_W, MT_CAT_STACK, 101, "" },
	/* 8: above INT64_MAX as a signed number */
	{ 0xffffffffff600000, 0xffffffffff601000, 0, 0, MT_PERM_X, MT_CAT_KERNEL, 0, "[vsyscall]" },
};
#define N_REGIONS (sizeof(regions) / sizeof(regions[0]))
#define N_STORED 7 /* regions 1, 2, 3, 4, 6, 7, 8 */
#define LO 0x7f0000000100ull
#define HI (LO + 0x40)

static struct scan_ref refs[] = {
	{ .addr = 0x600010, .value = LO, .region = 1, .holder = SCAN_HOLDER_GLOBAL,
	  .symbol = "g_table", .symbol_offset = 8, .module = "/usr/bin/prog", .frame_index = -1 },
	{ .addr = 0x600020, .value = LO + 8, .region = 1, .holder = SCAN_HOLDER_GLOBAL,
	  .module = "/usr/bin/prog", .frame_index = -1 },
	{ .addr = 0x1000040, .value = LO, .region = 2, .holder = SCAN_HOLDER_HEAP,
	  .has_object = true, .object = { 0x1000030, 0x1000040, 0x28, 0x30, true, false, false,
					  HEAPWALK_FREE_NONE },
	  .class_name = "std::vector<int, std::allocator<int> >", .frame_index = -1 },
	{ .addr = 0x1000108, .value = LO + 0x10, .region = 2, .holder = SCAN_HOLDER_HEAP,
	  .has_object = true, .object = { 0x1000100, 0x1000110, 0x18, 0x20, false, false, true,
					  HEAPWALK_FREE_TCACHE },
	  .stale_free = true, .frame_index = -1 },
	{ .addr = 0x1020000, .value = LO, .region = 2, .holder = SCAN_HOLDER_REGION,
	  .frame_index = -1 },
	{ .addr = 0x7f0000200ff8, .value = LO, .region = 4, .holder = SCAN_HOLDER_REGION,
	  .frame_index = -1 },
	{ .addr = 0x7ffd00020000, .value = LO, .region = 6, .holder = SCAN_HOLDER_STACK,
	  .tid = 100, .frame_index = 1, .frame = "main", .frame_offset = 0x20 },
	{ .addr = 0x7ffd00000100, .value = LO, .region = 6, .holder = SCAN_HOLDER_STACK,
	  .tid = 100, .dead_stack = true, .frame_index = -1 },
	{ .addr = 0x7ffe00010000, .value = HI - 8, .region = 7, .holder = SCAN_HOLDER_STACK,
	  .tid = 101, .frame_index = 0, .frame = "worker(void*)", .frame_offset = 0x1c4 },
	{ .addr = 0xffffffffff600800, .value = LO, .region = 8, .holder = SCAN_HOLDER_REGION,
	  .frame_index = -1 },
};
#define N_REFS (sizeof(refs) / sizeof(refs[0]))

static struct scan_group groups[] = {
	{ 1, 0, 2 }, { 2, 2, 3 }, { 4, 5, 1 }, { 6, 6, 2 }, { 7, 8, 1 }, { 8, 9, 1 },
};

static struct unwind_frame frames100[] = {
	{ 0x401100, 0x7ffd0001ff00, "poll_loop", 0x11 },
	{ 0x401200, 0x7ffd0001ff80, "main", 0x20 },
	{ 0x7f0000301000, 0x7ffd00020100, "__libc_start_call_main", 0x80 },
};
static struct unwind_frame frames101[] = {
	{ 0x401300, 0x7ffe0000ff00, "worker(void*)", 0x1c4 },
};
static struct unwind_stack stacks[] = {
	{ 100, frames100, 3, "unwind stopped: no unwind info" },
	{ 101, frames101, 1, "" },
	{ 102, NULL, 0, "cannot unwind: no such thread" },
};

static char *walk_errors[] = {
	"heap 0x1000000: walk stopped at 0x1020000 (corrupt chunk)",
	"tcache list 3 cut at 0x1000200",
};

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static void build_scan(struct fixture *f)
{
	snapshot_init(&f->snap);
	for (size_t i = 0; i < N_REGIONS; i++) {
		struct mt_region *r = snapshot_add_region(&f->snap);
		assert_non_null(r);
		r->start = regions[i].start;
		r->end = regions[i].end;
		r->offset = regions[i].offset;
		r->inode = regions[i].inode;
		r->perms = regions[i].perms;
		r->category = regions[i].cat;
		r->tid = regions[i].tid;
		r->path_len = (uint32_t)strlen(regions[i].path);
		r->path = snapshot_intern(&f->snap, regions[i].path, r->path_len);
	}
	for (size_t i = 0; i < N_REFS; i++)
		refs[i].region_offset = refs[i].addr - regions[refs[i].region].start;
	scan_result_init(&f->res);
	f->res.lo = LO;
	f->res.hi = HI;
	f->res.refs = refs;
	f->res.n_refs = N_REFS;
	f->res.groups = groups;
	f->res.n_groups = sizeof(groups) / sizeof(groups[0]);
	f->res.refs_total = 12;
	f->res.internal = 3;
	f->res.scanned_bytes = 0x123456789;
	f->res.absent_bytes = 0xfffffffffffff000; /* a negative int64 */
	f->res.swapped_bytes = 0x5000;
	f->res.file_bytes = 0x3000;
	f->res.threads = 2;
	f->res.scanned_regions = 40;
	f->res.excluded_regions = 5;
	f->res.skipped_regions = 1;
	f->res.seconds = 0.25;
	f->res.cancelled = false;
	f->res.stacks = stacks;
	f->res.n_stacks = 3;
	f->res.walk_errors = walk_errors;
	f->res.n_walk_errors = 2;
	f->sc = (struct record_scan){
		.lo = LO, .hi = HI, .label = "anon 0x7f0000000100", .frozen = true,
		.stopped_ms = 12.5, .not_stopped = 2, .taken = 1700000001.5, .res = &f->res,
		.snap = &f->snap, .parent = 0,
	};
}

static int save(struct fixture *f, const struct record_scan *sc, int64_t *id)
{
	exec_ok(f->db, "BEGIN");
	int rc = scanstore_save(f->db, 1, 1, sc, id);
	exec_ok(f->db, rc ? "ROLLBACK" : "COMMIT");
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mt_error err;
	snprintf(f->dir, sizeof(f->dir), "/tmp/mt_scanstore.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/rec.memtop", f->dir);
	if (recfile_open(&f->db, f->path, RECFILE_WRITE, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	exec_ok(f->db, "INSERT INTO session (id, pid, comm, host, kernel, memtop, delay,"
		" page_size, started) VALUES (1, 1234, 'prog', 'host', '6.8', '0.1.0', 1.0,"
		" 4096, 1700000000.0), (2, 99, 'other', 'host', '6.8', '0.1.0', 1.0, 4096,"
		" 1700000100.0)");
	exec_ok(f->db, "INSERT INTO sample (id, session, seq, time, mono, map_count, virt,"
		" largest_free, state, threads, proc_rss, vsz, start_time, uptime,"
		" max_map_count, mmap_min_addr) VALUES (1, 1, 0, 1700000000.5, 100.0, 9,"
		" 1000000, 4096, 'S', 3, 4096, 1000000, 1699999990.0, 10.0, 65530, 65536)");
	build_scan(f);
	assert_int_equal(save(f, &f->sc, &f->id), 0);
	/* A second step, followed from the first, with a label too long for
	 * the buffer whose cut would fall inside a UTF-8 sequence. */
	struct record_scan sc2 = f->sc;
	char label[200];
	memset(label, 'x', 94);
	strcpy(label + 94, "\xc3\xa9tail"); /* é at bytes 94..95 */
	sc2.label = label;
	sc2.parent = f->id;
	sc2.taken += 1;
	assert_int_equal(save(f, &sc2, &f->id2), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];
	recfile_close(f->db, true);
	snapshot_free(&f->snap);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- round trip --------------------------------------------------------- */

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct scanstore_info *v;
	size_t n;
	struct mt_error err;
	assert_int_equal(scanstore_list(f->db, 1, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(f->id2 > f->id);
	assert_int_equal(v[0].id, f->id);
	assert_int_equal(v[0].parent, 0);
	assert_int_equal(v[0].sample, 1);
	assert_true(v[0].taken == 1700000001.5);
	assert_true(v[0].lo == LO && v[0].hi == HI);
	assert_string_equal(v[0].label, "anon 0x7f0000000100");
	assert_int_equal(v[1].id, f->id2);
	assert_int_equal(v[1].parent, f->id);
	assert_true(v[1].taken == 1700000002.5);
	/* Cut before the é, not inside it. */
	assert_int_equal(strlen(v[1].label), 94);
	assert_int_equal(strspn(v[1].label, "x"), 94);
	free(v);
	assert_int_equal(scanstore_list(f->db, 2, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
}

static void check_region(const struct mt_region *got, size_t orig)
{
	assert_true(got->start == regions[orig].start);
	assert_true(got->end == regions[orig].end);
	assert_true(got->offset == regions[orig].offset);
	assert_true(got->inode == regions[orig].inode);
	assert_int_equal(got->perms, regions[orig].perms);
	assert_int_equal(got->category, regions[orig].cat);
	assert_int_equal(got->tid, regions[orig].tid);
	assert_int_equal(got->path_len, strlen(regions[orig].path));
	assert_memory_equal(got->path, regions[orig].path, got->path_len + 1);
	assert_true(got->rss == MT_UNKNOWN && got->pss == MT_UNKNOWN);
}

static void check_str(const char *got, const char *want)
{
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void check_ref(const struct scanstore_scan *s, const struct scan_ref *got,
		      const struct scan_ref *want)
{
	assert_true(got->addr == want->addr);
	assert_true(got->value == want->value);
	assert_true(got->region >= 0 && (size_t)got->region < s->snap.n_regions);
	/* Renumbered: the same region, found by its start. */
	assert_true(s->snap.regions[got->region].start == regions[want->region].start);
	assert_true(got->region_offset == want->region_offset);
	assert_int_equal(got->holder, want->holder);
	assert_int_equal(got->has_object, want->has_object);
	if (want->has_object)
		assert_memory_equal(&got->object, &want->object, sizeof(got->object));
	check_str(got->class_name, want->class_name);
	assert_int_equal(got->stale_free, want->stale_free);
	check_str(got->symbol, want->symbol);
	assert_true(got->symbol_offset == want->symbol_offset);
	check_str(got->module, want->module);
	assert_int_equal(got->tid, want->tid);
	assert_int_equal(got->dead_stack, want->dead_stack);
	assert_int_equal(got->frame_index, want->frame_index);
	check_str(got->frame, want->frame);
	assert_true(got->frame_offset == want->frame_offset);
}

static void check_stack(const struct unwind_stack *got, const struct unwind_stack *want)
{
	assert_int_equal(got->tid, want->tid);
	assert_int_equal(got->n, want->n);
	assert_string_equal(got->error, want->error);
	for (size_t i = 0; i < want->n; i++) {
		assert_true(got->frames[i].ip == want->frames[i].ip);
		assert_true(got->frames[i].sp == want->frames[i].sp);
		assert_string_equal(got->frames[i].func, want->frames[i].func);
		assert_true(got->frames[i].func_offset == want->frames[i].func_offset);
	}
}

static void test_load(void **state)
{
	static const size_t stored[N_STORED] = { 1, 2, 3, 4, 6, 7, 8 };
	struct fixture *f = *state;
	struct scanstore_scan s;
	struct mt_error err;
	assert_int_equal(scanstore_load(f->db, f->id, &s, &err), 0);
	assert_int_equal(s.info.id, f->id);
	assert_int_equal(s.info.parent, 0);
	assert_int_equal(s.info.sample, 1);
	assert_string_equal(s.info.label, "anon 0x7f0000000100");
	assert_true(s.frozen);
	assert_true(s.stopped_ms == 12.5);
	assert_int_equal(s.not_stopped, 2);

	/* The regions named, in address order; the one holding lo. */
	assert_int_equal(s.snap.n_regions, N_STORED);
	for (size_t i = 0; i < N_STORED; i++)
		check_region(&s.snap.regions[i], stored[i]);
	assert_int_equal(s.region, 2);

	const struct scan_result *r = &s.res;
	assert_true(r->lo == LO && r->hi == HI);
	assert_true(r->refs_total == 12 && r->internal == 3);
	assert_true(r->scanned_bytes == 0x123456789);
	assert_true(r->absent_bytes == 0xfffffffffffff000);
	assert_true(r->swapped_bytes == 0x5000 && r->file_bytes == 0x3000);
	assert_int_equal(r->threads, 2);
	assert_int_equal(r->scanned_regions, 40);
	assert_int_equal(r->excluded_regions, 5);
	assert_int_equal(r->skipped_regions, 1);
	assert_true(r->seconds == 0.25);
	assert_false(r->cancelled);
	assert_int_equal(r->n_refs, N_REFS);
	for (size_t i = 0; i < N_REFS; i++)
		check_ref(&s, &r->refs[i], &refs[i]);
	assert_int_equal(r->n_groups, sizeof(groups) / sizeof(groups[0]));
	for (size_t g = 0; g < r->n_groups; g++) {
		assert_int_equal(r->groups[g].first, groups[g].first);
		assert_int_equal(r->groups[g].n, groups[g].n);
		assert_true(s.snap.regions[r->groups[g].region].start ==
			    regions[groups[g].region].start);
	}
	assert_int_equal(r->n_stacks, 3);
	for (size_t i = 0; i < 3; i++)
		check_stack(&r->stacks[i], &stacks[i]);
	assert_ptr_equal(scan_result_stack(r, 101), &r->stacks[1]);
	assert_int_equal(r->n_walk_errors, 2);
	assert_string_equal(r->walk_errors[0], walk_errors[0]);
	assert_string_equal(r->walk_errors[1], walk_errors[1]);
	/* The strings are the result's: two refs of one module share one. */
	assert_ptr_equal(r->refs[0].module, r->refs[1].module);
	assert_true(r->n_strings >= 4);
	scanstore_scan_free(&s);
	scanstore_scan_free(&s); /* twice is harmless */

	assert_int_equal(scanstore_load(f->db, f->id2, &s, &err), 0);
	assert_int_equal(s.info.parent, f->id);
	scanstore_scan_free(&s);
}

static void test_missing(void **state)
{
	struct fixture *f = *state;
	struct scanstore_scan s;
	struct mt_error err;
	assert_int_equal(scanstore_load(f->db, 999, &s, &err), -1);
	assert_int_equal(err.kind, MT_ERR_BADFILE);
	assert_non_null(strstr(err.msg, "no scan 999"));
	scanstore_scan_free(&s);
}

/* A scan without references, in no region, with no walk error. */
static void test_empty(void **state)
{
	struct fixture *f = *state;
	struct scan_result res;
	struct mt_snapshot snap;
	struct scanstore_scan s;
	struct mt_error err;
	int64_t id;
	scan_result_init(&res);
	snapshot_init(&snap);
	res.lo = 0x10;
	res.hi = 0x20;
	struct record_scan sc = { .lo = 0x10, .hi = 0x20, .label = NULL, .res = &res,
				  .snap = &snap };
	assert_int_equal(save(f, &sc, &id), 0);
	assert_int_equal(scanstore_load(f->db, id, &s, &err), 0);
	assert_int_equal(s.res.n_refs, 0);
	assert_int_equal(s.res.n_groups, 0);
	assert_int_equal(s.res.n_stacks, 0);
	assert_int_equal(s.res.n_walk_errors, 0);
	assert_int_equal(s.snap.n_regions, 0);
	assert_int_equal(s.region, -1);
	assert_string_equal(s.info.label, "");
	scanstore_scan_free(&s);
	exec_ok(f->db, "DELETE FROM scan WHERE id = (SELECT max(id) FROM scan)");
}

/* ---- damage ----------------------------------------------------------------- */

/* Columns NOT NULL no more: the table again, without its constraints. */
#define LOOSE(t) "ALTER TABLE " t " RENAME TO loose; CREATE TABLE " t " AS SELECT * FROM" \
	" loose; DROP TABLE loose; "

static const char *const damage[] = {
	/* scan_more */
	"UPDATE scan_more SET readers = -1",
	"UPDATE scan_more SET readers = 5000",
	"UPDATE scan_more SET file_bytes = 0x123456789 + 1",
	"UPDATE scan_more SET swapped_bytes = 'x'",
	/* indexes */
	"UPDATE scan_ref SET region = 7 WHERE idx = 0",
	"UPDATE scan_ref SET region = -1 WHERE idx = 0",
	"UPDATE scan_ref SET addr = 0x400000 WHERE idx = 0",
	"DELETE FROM scan_ref WHERE idx = 3",
	"UPDATE scan_ref SET idx = -1 WHERE idx = 0",
	/* regions */
	"UPDATE scan_region SET start = (SELECT start FROM scan_region WHERE scan = 1"
	" AND idx = 0) + 0x100 WHERE idx = 1",
	"UPDATE scan_region SET end = start WHERE idx = 0",
	"DELETE FROM scan_region WHERE idx = 2",
	"UPDATE scan_region SET idx = idx + 1 WHERE idx = 6",
	"UPDATE scan_region SET perms = 'rwz' WHERE idx = 0",
	"UPDATE scan_region SET category = 'heapish' WHERE idx = 0",
	"UPDATE scan_region SET path = replace(hex(zeroblob(8193)), '00', 'a') WHERE idx = 0",
	"UPDATE scan_region SET path = x'2f6100' WHERE idx = 0",
	"UPDATE scan_region SET tid = -5 WHERE idx = 4",
	LOOSE("scan_region") "UPDATE scan_region SET path = NULL WHERE idx = 1",
	/* refs */
	"UPDATE scan_ref SET holder = 'heapx' WHERE idx = 2",
	"UPDATE scan_ref SET holder = x'68656170' WHERE idx = 2",
	"UPDATE scan_ref SET frame_index = 3 WHERE frame_index = 1",
	"UPDATE scan_ref SET frame_index = -2 WHERE idx = 0",
	"UPDATE scan_ref SET tid = 555 WHERE frame_index = 1",
	"UPDATE scan_ref SET addr = 'abc' WHERE idx = 0",
	"UPDATE scan_ref SET chunk_flags = 0x38 WHERE idx = 2",
	"UPDATE scan_ref SET chunk_flags = 0x30 WHERE idx = 2",
	"UPDATE scan_ref SET user = NULL WHERE idx = 2",
	"UPDATE scan_ref SET size = 5 WHERE idx = 0",
	"UPDATE scan_ref SET stale_free = 2 WHERE idx = 0",
	"UPDATE scan_ref SET class = x'41' WHERE idx = 2",
	LOOSE("scan_ref") "UPDATE scan_ref SET holder = NULL WHERE idx = 1",
	/* backtraces */
	"UPDATE scan_frame SET idx = 5 WHERE tid = 100 AND idx = 2",
	"UPDATE scan_frame SET error = 'x' WHERE tid = 100 AND idx = 1",
	"UPDATE scan_frame SET func = replace(hex(zeroblob(256)), '00', 'f') WHERE idx = 0",
	"UPDATE scan_frame SET tid = 0 WHERE tid = 102",
	"INSERT INTO scan_frame VALUES (1, 102, 0, 0, 0, 'f', 0, NULL)",
	"WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < 256)"
	" INSERT INTO scan_frame SELECT 1, 100, i, 0, 0, 'f', 0, NULL FROM n",
	LOOSE("scan_frame") "UPDATE scan_frame SET func = NULL WHERE tid = 101",
	/* the scan row */
	"UPDATE scan SET label = x'41420043' WHERE id = 1",
	"UPDATE scan SET hi = lo WHERE id = 1",
	"UPDATE scan SET parent = id WHERE id = 1",
	"UPDATE scan SET frozen = 2 WHERE id = 1",
	"UPDATE scan SET seconds = 'abc' WHERE id = 1",
	"UPDATE scan SET taken = 1e999 WHERE id = 1",
	"UPDATE scan SET not_stopped = -1 WHERE id = 1",
	"UPDATE scan SET walk_errors = x'00' WHERE id = 1",
	"UPDATE scan SET walk_errors = replace(hex(zeroblob(8193)), '00', 'e') WHERE id = 1",
	LOOSE("scan") "UPDATE scan SET label = NULL WHERE id = 1",
};

static void test_damage(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->id, 1);
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		struct scanstore_scan s;
		struct mt_error err;
		exec_ok(f->db, "BEGIN");
		exec_ok(f->db, damage[i]);
		int rc = scanstore_load(f->db, f->id, &s, &err);
		if (rc != -1 || err.kind != MT_ERR_BADFILE)
			fail_msg("loaded despite: %s (rc %d, kind %d: %s)", damage[i], rc,
				 (int)err.kind, rc ? err.msg : "");
		if (!strstr(err.msg, "damaged"))
			fail_msg("%s: %s", damage[i], err.msg);
		scanstore_scan_free(&s);
		exec_ok(f->db, "ROLLBACK");
	}
	/* And after all that, the scan still loads. */
	struct scanstore_scan s;
	struct mt_error err;
	assert_int_equal(scanstore_load(f->db, f->id, &s, &err), 0);
	scanstore_scan_free(&s);
}

/* A label that is not text breaks the list too. */
static void test_damaged_list(void **state)
{
	struct fixture *f = *state;
	struct scanstore_info *v;
	size_t n;
	struct mt_error err;
	exec_ok(f->db, "BEGIN");
	exec_ok(f->db, "UPDATE scan SET label = x'41420043' WHERE id = 2");
	assert_int_equal(scanstore_list(f->db, 1, &v, &n, &err), -1);
	assert_int_equal(err.kind, MT_ERR_BADFILE);
	assert_non_null(strstr(err.msg, "scan 2"));
	assert_null(v);
	assert_int_equal(n, 0);
	exec_ok(f->db, "ROLLBACK");
}

/* A recording without the scan tables: damaged, not a crash. */
static void test_no_tables(void **state)
{
	struct fixture *f = *state;
	struct scanstore_scan s;
	struct mt_error err;
	exec_ok(f->db, "BEGIN");
	exec_ok(f->db, "DROP TABLE scan_frame");
	assert_int_equal(scanstore_load(f->db, f->id, &s, &err), -1);
	assert_int_equal(err.kind, MT_ERR_BADFILE);
	scanstore_scan_free(&s);
	exec_ok(f->db, "ROLLBACK");
}

/* A recording from before scan_more: the scan loads, its swapped and
 * file bytes and readers as zeros. */
static void test_before_scan_more(void **state)
{
	struct fixture *f = *state;
	struct scanstore_scan s;
	struct mt_error err;
	exec_ok(f->db, "BEGIN");
	exec_ok(f->db, "DROP TABLE scan_more");
	assert_int_equal(scanstore_load(f->db, f->id, &s, &err), 0);
	assert_true(s.res.swapped_bytes == 0 && s.res.file_bytes == 0 && s.res.threads == 0);
	assert_true(s.res.scanned_bytes == 0x123456789);
	scanstore_scan_free(&s);
	exec_ok(f->db, "ROLLBACK");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_before_scan_more, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
