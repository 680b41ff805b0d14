/*
 * test_headroom.c - distance to mmap failure and the ETA of its trend.
 */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "memtop/headroom.h"
#include "model_fixture.h"

/* small.maps: 3 mappings of the process (plus the [vsyscall] gate). */
#define SMALL_MAPS 3
#define SMALL_VSZ 0x23000ULL

struct env {
	struct mt_snapshot s;
	struct mt_gaps g;
	struct mt_history h;
	struct mt_headroom hr;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	fixture_file(&e->s, "small.maps", 1000);
	e->s.max_map_count = SMALL_MAPS + 1000;
	e->s.rlimit_as = SMALL_VSZ + 4096 * 1000 + 123; /* not page aligned */
	e->g.largest = -1;
	assert_int_equal(gaps_compute(&e->g, &e->s), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	gaps_free(&e->g);
	snapshot_free(&e->s);
	free(e);
	return 0;
}

/* Samples at 1000 - n + 1 ... 1000 seconds, per second. */
static void history(struct mt_history *h, int n, double maps_per_s, double vsz_per_s)
{
	for (int k = 0; k < n; k++) {
		double t = k - (n - 1);
		headroom_history_push(h, 1000 + t, (uint64_t)(500 + maps_per_s * t),
				      (uint64_t)(1e9 + vsz_per_s * t));
	}
}

static void test_static_figures(void **state)
{
	struct env *e = *state;
	history(&e->h, 1, 0, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_int_equal(e->hr.map_count, SMALL_MAPS);
	assert_int_equal(e->hr.max_map_count, SMALL_MAPS + 1000);
	assert_int_equal(e->hr.vsz, SMALL_VSZ);
	assert_int_equal(e->hr.rlimit_as, SMALL_VSZ + 4096 * 1000 + 123);
	assert_int_equal(e->hr.largest_free, 0x7fffff9dd000);
	/* RLIMIT_AS counts whole pages: 1000 pages are left. */
	assert_int_equal(e->hr.largest_mmap, 4096 * 1000);
	assert_true(e->hr.maps_eta < 0);
	assert_true(e->hr.vsz_eta < 0);

	e->s.rlimit_as = UINT64_MAX;
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_int_equal(e->hr.largest_mmap, 0x7fffff9dd000);

	e->s.rlimit_as = SMALL_VSZ - 1;
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_int_equal(e->hr.largest_mmap, 0);

	e->s.rlimit_as = UINT64_MAX;
	e->s.max_map_count = SMALL_MAPS;
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_int_equal(e->hr.largest_mmap, 0);
}

static void test_growing(void **state)
{
	struct env *e = *state;
	history(&e->h, 10, 2, 40960);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_rate, 2.0, 1e-9);
	assert_float_equal(e->hr.vsz_rate, 40960.0, 1e-6);
	/* 1000 mappings to go at 2 a second; 1000 pages at 10 a second */
	assert_float_equal(e->hr.maps_eta, 500.0, 1e-6);
	assert_float_equal(e->hr.vsz_eta, 100.0, 1e-6);

	/* No limit, no ETA, whatever the trend. */
	e->s.rlimit_as = UINT64_MAX;
	e->s.max_map_count = 0;
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_true(e->hr.maps_eta < 0);
	assert_true(e->hr.vsz_eta < 0);
}

static void test_flat_and_shrinking(void **state)
{
	struct env *e = *state;
	history(&e->h, 30, 0, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_rate, 0, 1e-12);
	assert_true(e->hr.maps_eta < 0);
	assert_true(e->hr.vsz_eta < 0);

	memset(&e->h, 0, sizeof(e->h));
	history(&e->h, 30, -3, -4096);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_rate, -3.0, 1e-9);
	assert_true(e->hr.maps_eta < 0);
	assert_true(e->hr.vsz_eta < 0);
}

/* Two samples, or three within a second, are no trend yet. */
static void test_thin_history(void **state)
{
	struct env *e = *state;
	history(&e->h, 2, 5, 4096);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_rate, 5.0, 1e-9);
	assert_true(e->hr.maps_eta < 0);

	memset(&e->h, 0, sizeof(e->h));
	headroom_history_push(&e->h, 999.0, 1, 0);
	headroom_history_push(&e->h, 999.5, 2, 0);
	headroom_history_push(&e->h, 1000.0, 3, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_rate, 2.0, 1e-9);
	assert_true(e->hr.maps_eta < 0);
}

/* Only the last HEADROOM_WINDOW_SECS count, and the ring wraps. */
static void test_window(void **state)
{
	struct env *e = *state;
	for (int k = 0; k < 1000; k++) /* an old surge */
		headroom_history_push(&e->h, -5000.0 + k, 1000000 + 1000 * (uint64_t)k, 0);
	assert_int_equal(e->h.n, HEADROOM_HISTORY);
	history(&e->h, 50, 4, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_rate, 4.0, 1e-9);
	assert_float_equal(e->hr.maps_eta, 250.0, 1e-6);
	assert_true(e->hr.vsz_eta < 0);
}

/* Already at the limit while still growing: no time left. */
static void test_at_limit(void **state)
{
	struct env *e = *state;
	e->s.max_map_count = SMALL_MAPS;
	history(&e->h, 10, 1, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_float_equal(e->hr.maps_eta, 0.0, 0);
}

/* One sample: the rate is unknown (NaN), not zero. */
static void test_rate_unknown(void **state)
{
	struct env *e = *state;
	history(&e->h, 1, 0, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_true(isnan(e->hr.maps_rate));
	assert_true(isnan(e->hr.vsz_rate));
}

/* A loop keeping 3 live maps (map and unmap every 0.7 s, sampled every
 * second) leans one way by chance; it is no leak, at any point. */
static void test_churner(void **state)
{
	struct env *e = *state;
	for (int k = 0; k < 600; k++) {
		double t = 1000 - 599 + k;
		int phase = (int)(t / 0.7) % 4; /* 0..3 of the 3 maps live */
		headroom_history_push(&e->h, t, 500 + (uint64_t)(phase > 3 ? 3 : phase),
				      (uint64_t)1e9 + 4096 * (uint64_t)phase);
		if (k < 2)
			continue;
		headroom_compute(&e->hr, &e->s, &e->g, &e->h);
		assert_true(e->hr.maps_eta < 0);
		assert_true(e->hr.vsz_eta < 0);
	}
}

/* A count flipping between two values, sampled every 0.5 s: whatever
 * the order of flips (every sequence of up to 12 samples), no ETA.  The
 * pattern 120 120 121 121 121 once passed for 27 maps a minute. */
static void test_flipping_count(void **state)
{
	struct env *e = *state;
	for (int n = HEADROOM_MIN_SAMPLES; n <= 12; n++) {
		for (unsigned bits = 0; bits < 1u << n; bits++) {
			memset(&e->h, 0, sizeof(e->h));
			for (int k = 0; k < n; k++) {
				uint64_t up = bits >> k & 1;
				headroom_history_push(&e->h, 1000 + 0.5 * k, 120 + up,
						      (uint64_t)1e9 + 4096 * up);
			}
			headroom_compute(&e->hr, &e->s, &e->g, &e->h);
			assert_true(e->hr.maps_eta < 0);
			assert_true(e->hr.vsz_eta < 0);
		}
	}
}

/* A steady leaker with churn on top: an ETA, once the growth is beyond
 * the churn. */
static void test_noisy_leaker(void **state)
{
	struct env *e = *state;
	e->s.max_map_count = 100000;
	bool seen = false;
	for (int k = 0; k < 120; k++) {
		double t = 1000 - 119 + k;
		headroom_history_push(&e->h, t, 500 + (uint64_t)k + (uint64_t)(k % 3), 0);
		headroom_compute(&e->hr, &e->s, &e->g, &e->h);
		seen |= e->hr.maps_eta > 0;
	}
	assert_true(seen);
	assert_true(e->hr.maps_eta > 0);
	assert_float_equal(e->hr.maps_rate, 1.0, 0.05);
}

/* A leaker that stops: the ETA goes once the latest third of the window
 * is flat, although the whole window still rises. */
static void test_leaker_stops(void **state)
{
	struct env *e = *state;
	e->s.max_map_count = 100000;
	for (int k = 0; k < 60; k++)
		headroom_history_push(&e->h, 900.0 + k, 500 + 2 * (uint64_t)k, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_true(e->hr.maps_eta > 0);
	for (int k = 60; k < 100; k++)
		headroom_history_push(&e->h, 900.0 + k, 500 + 2 * 59, 0);
	headroom_compute(&e->hr, &e->s, &e->g, &e->h);
	assert_true(e->hr.maps_rate > 0);
	assert_true(e->hr.maps_eta < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_static_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flat_and_shrinking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thin_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_churner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipping_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noisy_leaker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaker_stops, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
