/*
 * test_scan.c - the pure parts of scan.c: the word-matching loop, TARGET
 * spec parsing and resolution, and which regions are scanned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "memtop/scan.h"

/* The obvious loop, to check the blocked one against. */
static size_t naive(const uint64_t *w, size_t n, uint64_t lo, uint64_t hi, uint32_t *idx,
		    size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < max; i++)
		if (w[i] >= lo && w[i] < hi)
			idx[k++] = (uint32_t)i;
	return k;
}

static void test_match_edges(void **state)
{
	(void)state;
	uint64_t w[200];
	for (size_t i = 0; i < 200; i++)
		w[i] = 0x1000 + i; /* outside [lo, hi) */
	const uint64_t lo = 0x7f0000000000, hi = 0x7f0000100000;
	w[0] = lo;          /* first byte: in */
	w[63] = hi - 1;     /* last byte: in, end of the first block */
	w[64] = hi;         /* one past: out */
	w[65] = lo - 1;     /* one below: out */
	w[130] = lo + 8;    /* in */
	w[199] = lo + 0x10; /* in, in the tail after the blocks */
	w[150] = 0;         /* 0 - lo wraps: out */
	w[151] = UINT64_MAX;
	uint32_t idx[16];
	size_t k = scan_match(w, 200, lo, hi, idx, 16);
	assert_int_equal(k, 4);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 63);
	assert_int_equal(idx[2], 130);
	assert_int_equal(idx[3], 199);
}

static void test_match_max_and_resume(void **state)
{
	(void)state;
	uint64_t w[300];
	for (size_t i = 0; i < 300; i++)
		w[i] = (i % 3 == 0) ? 0x5000 + i : 7;
	uint32_t idx[8];
	size_t k = scan_match(w, 300, 0x5000, 0x6000, idx, 8);
	assert_int_equal(k, 8);
	assert_int_equal(idx[7], 21);
	/* Resuming after the last one finds the rest, 100 in all. */
	size_t total = 8, from = 22;
	for (;;) {
		k = scan_match(w + from, 300 - from, 0x5000, 0x6000, idx, 8);
		total += k;
		if (k < 8)
			break;
		from += idx[k - 1] + 1;
	}
	assert_int_equal(total, 100);
}

static void test_match_empty_range(void **state)
{
	(void)state;
	uint64_t w[4] = { 1, 2, 3, 4 };
	uint32_t idx[4];
	assert_int_equal(scan_match(w, 4, 3, 3, idx, 4), 0);
	assert_int_equal(scan_match(w, 4, 4, 2, idx, 4), 0);
	assert_int_equal(scan_match(w, 4, 0, 100, idx, 0), 0);
	assert_int_equal(scan_match(w, 0, 0, 100, idx, 4), 0);
}

/* Random words against random ranges, some of the words near the range. */
static void test_match_random(void **state)
{
	(void)state;
	enum { N = 4099 };
	uint64_t *w = malloc(N * sizeof(*w));
	uint32_t *a = malloc(N * sizeof(*a)), *b = malloc(N * sizeof(*b));
	assert_non_null(w);
	srand(42);
	for (int round = 0; round < 200; round++) {
		uint64_t lo = ((uint64_t)rand() << 20) | (uint64_t)rand();
		uint64_t hi = lo + 1 + (uint64_t)(rand() % 100000);
		size_t n = (size_t)(rand() % N);
		for (size_t i = 0; i < n; i++) {
			int r = rand() % 4;
			w[i] = r == 0 ? lo + (uint64_t)(rand() % 200000) - 50000
			     : r == 1 ? ((uint64_t)rand() << 33) ^ (uint64_t)rand()
			     : r == 2 ? hi - 1 + (uint64_t)(rand() % 3) : lo - 1;
		}
		size_t max = 1 + (size_t)(rand() % N);
		size_t ka = scan_match(w, n, lo, hi, a, max);
		size_t kb = naive(w, n, lo, hi, b, max);
		assert_int_equal(ka, kb);
		assert_memory_equal(a, b, ka * sizeof(*a));
	}
	free(w);
	free(a);
	free(b);
}

static void test_spec_forms(void **state)
{
	(void)state;
	struct scan_spec s;
	struct mt_error err;
	assert_int_equal(scan_parse_spec("0x7f0000001000", &s, &err), 0);
	assert_int_equal(s.kind, SCAN_SPEC_ADDR);
	assert_true(s.start == 0x7f0000001000ULL);
	assert_int_equal(scan_parse_spec("4096", &s, &err), 0);
	assert_true(s.kind == SCAN_SPEC_ADDR && s.start == 4096);
	assert_int_equal(scan_parse_spec("0x1000-0x2000", &s, &err), 0);
	assert_true(s.kind == SCAN_SPEC_RANGE && s.start == 0x1000 && s.end == 0x2000);
	assert_int_equal(scan_parse_spec("0X1000+4096", &s, &err), 0);
	assert_true(s.kind == SCAN_SPEC_RANGE && s.start == 0x1000 && s.end == 0x2000);
	assert_int_equal(scan_parse_spec("4096-0x2000", &s, &err), 0);
	assert_true(s.start == 4096 && s.end == 0x2000);
	assert_int_equal(scan_parse_spec("0xffffffffffffffff", &s, &err), 0);
	assert_true(s.start == UINT64_MAX);
	assert_int_equal(scan_parse_spec("0x0+0xffffffffffffffff", &s, &err), 0);
	assert_true(s.end == UINT64_MAX);
}

static void test_spec_errors(void **state)
{
	(void)state;
	static const char *bad[] = {
		"", "zz", "0x", "0xg", "-1", "+1", "0x10-", "0x10+", "0x10-0x10", "0x10-0x5",
		"5+0", "12abc", "0x10 ", " 0x10", "0x10-0x20-0x30", "0x1+0xffffffffffffffff",
		"18446744073709551616", "0x10000000000000000", "0x10*5", "1.5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct scan_spec s;
		struct mt_error err;
		mt_error_clear(&err);
		assert_int_equal(scan_parse_spec(bad[i], &s, &err), -1);
		assert_int_equal(err.kind, MT_ERR_USAGE);
		assert_non_null(strstr(err.msg, "bad TARGET"));
	}
	struct mt_error err;
	assert_int_equal(scan_parse_spec(NULL, NULL, &err), -1);
	assert_int_equal(err.kind, MT_ERR_USAGE);
}

static struct mt_region *add(struct mt_snapshot *s, uint64_t start, uint64_t end, uint8_t perms,
			     enum mt_category cat, const char *path)
{
	struct mt_region *r = snapshot_add_region(s);
	assert_non_null(r);
	r->start = start;
	r->end = end;
	r->perms = perms;
	r->category = cat;
	r->path = snapshot_intern(s, path, strlen(path));
	r->path_len = (uint32_t)strlen(path);
	return r;
}

static void test_resolve(void **state)
{
	(void)state;
	struct mt_snapshot s;
	snapshot_init(&s);
	s.pid = 1234;
	add(&s, 0x1000, 0x3000, MT_PERM_R | MT_PERM_W, MT_CAT_ANON, "");
	add(&s, 0x5000, 0x6000, MT_PERM_R, MT_CAT_FILE, "/data");
	struct scan_spec spec;
	struct mt_error err;
	uint64_t lo, hi;
	long ri;
	assert_int_equal(scan_parse_spec("0x2abc", &spec, &err), 0);
	assert_int_equal(scan_resolve_spec(&s, &spec, &lo, &hi, &ri, &err), 0);
	assert_true(lo == 0x1000 && hi == 0x3000 && ri == 0);
	assert_int_equal(scan_parse_spec("0x3000", &spec, &err), 0);
	assert_int_equal(scan_resolve_spec(&s, &spec, &lo, &hi, &ri, &err), -1);
	assert_int_equal(err.kind, MT_ERR_USAGE);
	assert_non_null(strstr(err.msg, "0x3000 is not mapped in process 1234"));
	/* A range is kept as given, mapped or not. */
	assert_int_equal(scan_parse_spec("0x3000-0x5800", &spec, &err), 0);
	assert_int_equal(scan_resolve_spec(&s, &spec, &lo, &hi, &ri, &err), 0);
	assert_true(lo == 0x3000 && hi == 0x5800 && ri == -1);
	assert_int_equal(scan_parse_spec("0x5000+16", &spec, &err), 0);
	assert_int_equal(scan_resolve_spec(&s, &spec, &lo, &hi, &ri, &err), 0);
	assert_true(lo == 0x5000 && hi == 0x5010 && ri == 1);
	snapshot_free(&s);
}

static void test_region_wanted(void **state)
{
	(void)state;
	struct mt_snapshot s;
	snapshot_init(&s);
	const uint8_t rw = MT_PERM_R | MT_PERM_W;
	struct {
		uint8_t perms;
		enum mt_category cat;
		const char *path;
		bool wanted;
	} cases[] = {
		{ rw, MT_CAT_ANON, "", true },
		{ rw, MT_CAT_HEAP, "[heap]", true },
		{ rw, MT_CAT_STACK, "[stack]", true },
		{ MT_PERM_R, MT_CAT_IMAGE, "/usr/lib/libc.so.6", true },
		{ rw, MT_CAT_IMAGE, "", true }, /* .bss */
		{ 0, MT_CAT_RESERVED, "", false },
		{ MT_PERM_W, MT_CAT_ANON, "", false },
		{ MT_PERM_R, MT_CAT_KERNEL, "[vvar]", false },
		{ MT_PERM_R | MT_PERM_X, MT_CAT_KERNEL, "[vdso]", false },
		{ MT_PERM_R | MT_PERM_X, MT_CAT_ANON, "[vsyscall]", false },
		{ rw | MT_PERM_SHARED, MT_CAT_FILE, "/dev/dri/card0", false },
		{ rw | MT_PERM_SHARED, MT_CAT_SHARED, "/dev/shm/x", true },
		{ rw, MT_CAT_ANON, "/dev/zero", true },
		{ rw | MT_PERM_SHARED, MT_CAT_SHARED, "anon_inode:i915.gem", false },
		{ MT_PERM_R, MT_CAT_FILE, "/var/data.db", false },
		{ rw | MT_PERM_SHARED, MT_CAT_FILE, "/var/data.db", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct mt_region *r = add(&s, 0x1000 * (i + 1), 0x1000 * (i + 2), cases[i].perms,
					  cases[i].cat, cases[i].path);
		assert_int_equal(scan_region_wanted(r), cases[i].wanted);
	}
	snapshot_free(&s);
}

/* ---- scan_run over this process's own memory (no freeze) ------------------- */

#define PAGE 4096

struct self_scan {
	struct mt_snapshot s;
	char *target;  /* 4 pages */
	char *holder;  /* 16 pages: pointers into target */
	char *gone;    /* 4 pages, unmapped after the snapshot */
};

static struct mt_region *add_mem(struct mt_snapshot *s, void *p, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	return add(s, a, a + len, MT_PERM_R | MT_PERM_W, MT_CAT_ANON, "");
}

static int self_setup(void **state)
{
	struct self_scan *x = calloc(1, sizeof(*x));
	/* One reservation carved up, so the three are in address order. */
	char *base = mmap(NULL, 32 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	x->holder = base;
	x->gone = base + 20 * PAGE;
	x->target = base + 28 * PAGE;
	mprotect(x->holder, 16 * PAGE, PROT_READ | PROT_WRITE);
	mprotect(x->gone, 4 * PAGE, PROT_READ | PROT_WRITE);
	mprotect(x->target, 4 * PAGE, PROT_READ | PROT_WRITE);
	memset(x->holder, 0x11, 16 * PAGE);
	/* 100 pointers into the target, one per 64 bytes, the last pages
	 * of the holder left untouched by them. */
	for (int i = 0; i < 100; i++)
		((char **)x->holder)[8 * i] = x->target + 8 * i;
	((char **)x->gone)[0] = x->target;
	/* The target points into itself: internal. */
	((char **)x->target)[1] = x->target + 64;
	snapshot_init(&x->s);
	x->s.pid = getpid();
	add_mem(&x->s, x->holder, 16 * PAGE);
	add_mem(&x->s, x->gone, 4 * PAGE);
	add_mem(&x->s, x->target, 4 * PAGE);
	munmap(x->gone, 4 * PAGE); /* the snapshot still lists it */
	*state = x;
	return 0;
}

static int self_teardown(void **state)
{
	struct self_scan *x = *state;
	munmap(x->holder, 16 * PAGE);
	munmap(x->target, 4 * PAGE);
	snapshot_free(&x->s);
	free(x);
	return 0;
}

static void run(struct self_scan *x, const struct scan_options *o, struct scan_result *r)
{
	struct mt_error err;
	uint64_t lo = (uint64_t)(uintptr_t)x->target;
	scan_result_init(r);
	assert_int_equal(scan_run(&x->s, lo, lo + 4 * PAGE, o, r, &err), 0);
}

static void test_scan_run_finds_and_skips(void **state)
{
	struct self_scan *x = *state;
	struct scan_result r;
	struct scan_options o = { .chunk_size = 3000 }; /* odd: rounded to 8 */
	run(x, &o, &r);
	assert_int_equal(r.refs_total, 100);
	assert_int_equal(r.n_refs, 100);
	for (size_t i = 0; i < 100; i++) {
		assert_true(r.refs[i].addr == (uint64_t)(uintptr_t)(x->holder + 64 * i));
		assert_true(r.refs[i].value == (uint64_t)(uintptr_t)(x->target + 8 * i));
		assert_int_equal(r.refs[i].region, 0);
		assert_int_equal(r.refs[i].holder, SCAN_HOLDER_REGION);
		assert_true(r.refs[i].region_offset == 64 * i);
	}
	assert_int_equal(r.n_groups, 1);
	assert_true(r.groups[0].region == 0 && r.groups[0].first == 0 && r.groups[0].n == 100);
	assert_int_equal(r.internal, 1);
	/* Unmapped since the snapshot: the page tables hold nothing there,
	 * which is all a scan that faults nothing in can tell. */
	assert_int_equal(r.skipped_regions, 0);
	assert_true(r.absent_bytes >= 4 * PAGE);
	assert_int_equal(r.scanned_regions, 3);
	assert_false(r.cancelled);
	scan_result_free(&r);
}

static void test_scan_run_internal_and_cap(void **state)
{
	struct self_scan *x = *state;
	struct scan_result r;
	struct scan_options o = { .include_internal = true, .max_refs = 10 };
	run(x, &o, &r);
	assert_int_equal(r.refs_total, 101);
	assert_int_equal(r.n_refs, 10);
	assert_int_equal(r.internal, 0);
	scan_result_free(&r);
	/* The internal one is listed when asked, in the target's group. */
	o.max_refs = 0;
	run(x, &o, &r);
	assert_int_equal(r.n_refs, 101);
	assert_true(r.refs[100].addr == (uint64_t)(uintptr_t)(x->target + 8));
	assert_int_equal(r.n_groups, 2);
	assert_int_equal(r.groups[1].region, 2);
	scan_result_free(&r);
}

static int cancel_at_once(void *arg, uint64_t done, uint64_t total)
{
	int *calls = arg;
	(*calls)++;
	assert_true(done <= total);
	return 1;
}

static void test_scan_run_cancel(void **state)
{
	struct self_scan *x = *state;
	struct scan_result r;
	int calls = 0;
	struct scan_options o = { .chunk_size = PAGE, .progress = cancel_at_once,
				  .progress_arg = &calls, .threads = 1 };
	run(x, &o, &r);
	assert_true(r.cancelled);
	assert_int_equal(calls, 1);
	/* One chunk of the holder was read: its 64 pointers, no more. */
	assert_int_equal(r.refs_total, 64);
	scan_result_free(&r);
}

static void test_scan_run_gone_process(void **state)
{
	struct self_scan *x = *state;
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	assert_true(child > 0);
	/* Reap it: the pid no longer exists. */
	int st;
	waitpid(child, &st, 0);
	int pid = x->s.pid;
	x->s.pid = child;
	struct scan_result r;
	struct mt_error err;
	scan_result_init(&r);
	uint64_t lo = (uint64_t)(uintptr_t)x->target;
	assert_int_equal(scan_run(&x->s, lo, lo + PAGE, NULL, &r, &err), -1);
	assert_int_equal(err.kind, MT_ERR_EXITED);
	assert_non_null(strstr(err.msg, "exited"));
	x->s.pid = pid;
	scan_result_free(&r);
}

/* Small jobs are read together (one process_vm_readv); one that fails
 * does not lose the others: they are read again one by one. */
static void test_scan_run_batch_with_a_hole(void **state)
{
	(void)state;
	char *base = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(base != MAP_FAILED);
	char *target = base + 7 * PAGE;
	mprotect(base, 5 * PAGE, PROT_READ | PROT_WRITE);
	mprotect(target, PAGE, PROT_READ | PROT_WRITE);
	for (int i = 0; i < 5; i++)
		((char **)(base + i * PAGE))[1] = target + 8 * i;
	/* Present in the page tables, unreadable: the snapshot says rw. */
	mprotect(base + 2 * PAGE, PAGE, PROT_NONE);
	struct mt_snapshot s;
	snapshot_init(&s);
	s.pid = getpid();
	for (int i = 0; i < 5; i++)
		add_mem(&s, base + i * PAGE, PAGE);
	add_mem(&s, target, PAGE);
	struct scan_result r;
	struct mt_error err;
	scan_result_init(&r);
	struct scan_options o = { .threads = 1, .no_attribution = true };
	uint64_t lo = (uint64_t)(uintptr_t)target;
	assert_int_equal(scan_run(&s, lo, lo + PAGE, &o, &r, &err), 0);
	assert_int_equal(r.refs_total, 4);
	for (size_t i = 0; i < r.n_refs; i++)
		assert_true(r.refs[i].region != 2);
	assert_int_equal(r.skipped_regions, 1);
	scan_result_free(&r);
	snapshot_free(&s);
	munmap(base, 8 * PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_edges),
		cmocka_unit_test(test_match_max_and_resume),
		cmocka_unit_test(test_match_empty_range),
		cmocka_unit_test(test_match_random),
		cmocka_unit_test(test_spec_forms),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_region_wanted),
	};
	const struct CMUnitTest self_tests[] = {
		cmocka_unit_test(test_scan_run_finds_and_skips),
		cmocka_unit_test(test_scan_run_internal_and_cap),
		cmocka_unit_test(test_scan_run_cancel),
		cmocka_unit_test(test_scan_run_batch_with_a_hole),
		cmocka_unit_test(test_scan_run_gone_process),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	return rc | cmocka_run_group_tests(self_tests, self_setup, self_teardown);
}
