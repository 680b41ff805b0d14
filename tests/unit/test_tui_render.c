/*
 * test_tui_render.c - the TUI's drawing logic that needs no terminal:
 * text fitting of untrusted names, sparklines, the address-space strip.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tui_parts.h"

static int utf8_locale(void **state)
{
	(void)state;
	return setlocale(LC_CTYPE, "C.UTF-8") ? 0 : -1;
}

static void fit_short_text_unchanged(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(text_fit(out, sizeof(out), "libc.so.6", 9, 20, TEXT_CUT_RIGHT, true), 9);
	assert_string_equal(out, "libc.so.6");
}

static void fit_cuts_right_with_ellipsis(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(text_fit(out, sizeof(out), "memtop-demo", 11, 7, TEXT_CUT_RIGHT, true), 7);
	assert_string_equal(out, "memtop\u2026");
	assert_int_equal(text_fit(out, sizeof(out), "memtop-demo", 11, 7, TEXT_CUT_RIGHT, false), 7);
	assert_string_equal(out, "memtop~");
}

static void fit_cuts_paths_on_the_left(void **state)
{
	char out[64];
	const char *p = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	(void)state;
	assert_int_equal(text_fit(out, sizeof(out), p, strlen(p), 12, TEXT_CUT_LEFT, true), 12);
	assert_string_equal(out, "\u2026u/libc.so.6");
}

static void fit_clip_has_no_ellipsis(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(text_fit(out, sizeof(out), "abcdef", 6, 3, TEXT_CLIP, true), 3);
	assert_string_equal(out, "abc");
}

/* A file name can hold escape sequences and invalid UTF-8: none of it
 * may reach the terminal as is. */
static void fit_neutralises_control_and_bad_bytes(void **state)
{
	char out[64];
	const char evil[] = "a\033[2Jb\nc\xff\xfe" "d";
	(void)state;
	int w = text_fit(out, sizeof(out), evil, sizeof(evil) - 1, 40, TEXT_CUT_RIGHT, true);
	assert_string_equal(out, "a?[2Jb?c??d");
	assert_int_equal(w, 11);
	assert_null(strchr(out, '\033'));
}

static void fit_ascii_mode_replaces_utf8(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(text_fit(out, sizeof(out), "caf\u00e9", 5, 10, TEXT_CUT_RIGHT, false), 5);
	assert_string_equal(out, "caf??");
	assert_int_equal(text_fit(out, sizeof(out), "caf\u00e9", 5, 10, TEXT_CUT_RIGHT, true), 4);
	assert_string_equal(out, "caf\u00e9");
}

static void fit_counts_wide_characters_as_two(void **state)
{
	char out[64];
	const char *s = "\u65e5\u672c\u8a9e"; /* three CJK, six columns */
	(void)state;
	assert_int_equal(text_width(s, strlen(s), true), 6);
	assert_int_equal(text_fit(out, sizeof(out), s, strlen(s), 5, TEXT_CUT_RIGHT, true), 5);
	assert_string_equal(out, "\u65e5\u672c\u2026");
}

static void fit_respects_the_buffer(void **state)
{
	char out[6];
	(void)state;
	text_fit(out, sizeof(out), "abcdefghij", 10, 40, TEXT_CUT_RIGHT, true);
	assert_true(strlen(out) < sizeof(out));
	assert_int_equal(text_fit(out, sizeof(out), "x", 1, 0, TEXT_CUT_RIGHT, true), 0);
	assert_string_equal(out, "");
}

static void spark_scales_between_min_and_max(void **state)
{
	const uint32_t v[8] = { 10, 11, 12, 13, 14, 15, 16, 17 };
	const struct tui_glyphs *g = text_glyphs(false);
	char out[64];
	(void)state;
	spark_render(out, sizeof(out), v, 8, 0, 8, 8, g);
	assert_string_equal(out, "_.,-~=*#");
	assert_int_equal(spark_level(10, 10, 17), 0);
	assert_int_equal(spark_level(17, 10, 17), 7);
}

static void spark_flat_series_on_the_floor(void **state)
{
	const uint32_t v[4] = { 5, 5, 5, 5 };
	char out[64];
	(void)state;
	spark_render(out, sizeof(out), v, 4, 0, 4, 4, text_glyphs(false));
	assert_string_equal(out, "____");
}

/* The ring's head is the next slot to write: the oldest shown value is
 * `width` slots behind it, and a short series is padded on the left. */
static void spark_reads_the_ring_in_order(void **state)
{
	uint32_t v[4] = { 3, 0, 1, 2 }; /* written 0,1,2,3: head is 1 */
	char out[64];
	(void)state;
	spark_render(out, sizeof(out), v, 4, 1, 4, 4, text_glyphs(false));
	assert_string_equal(out, "_,=#");
	spark_render(out, sizeof(out), v, 4, 1, 4, 2, text_glyphs(false));
	assert_string_equal(out, "_#"); /* the last two: 2, 3 */
	spark_render(out, sizeof(out), v, 4, 2, 1, 4, text_glyphs(false));
	assert_string_equal(out, "   _");
}

static void spark_utf8_blocks(void **state)
{
	const uint32_t v[2] = { 0, 9 };
	char out[64];
	(void)state;
	spark_render(out, sizeof(out), v, 2, 0, 2, 2, text_glyphs(true));
	assert_string_equal(out, "\u2581\u2588");
}

/* ------------------------------------------------------------------ */

#define LOW 0x10000ULL
#define HIGH 0x7ffffffff000ULL

static struct mt_region reg(uint64_t start, uint64_t end, enum mt_category c)
{
	struct mt_region r;
	memset(&r, 0, sizeof(r));
	r.start = start;
	r.end = end;
	r.category = c;
	r.path = "";
	return r;
}

/* Gaps between sorted regions within LOW..HIGH, as gaps_compute does. */
static void make_gaps(struct mt_gaps *g, struct mt_gap *v, const struct mt_region *r, size_t n)
{
	uint64_t cur = LOW, best = 0;
	memset(g, 0, sizeof(*g));
	g->v = v;
	g->low = LOW;
	g->high = HIGH;
	g->largest = -1;
	for (size_t i = 0; i <= n; i++) {
		uint64_t next = i < n ? r[i].start : HIGH;
		if (next > cur) {
			v[g->n] = (struct mt_gap){ cur, next };
			if (next - cur > best) {
				best = next - cur;
				g->largest = (long)g->n;
			}
			g->total += next - cur;
			g->n++;
		}
		if (i < n)
			cur = r[i].end;
	}
}

static int count_cells(const struct tui_strip *st, int what)
{
	int n = 0;
	for (int i = 0; i < st->width; i++)
		n += st->cell[i] == what;
	return n;
}

/* A typical PIE process: the executable and heap low, libraries and the
 * stack at the top, 128 TiB between. */
static void strip_typical_process_log_scale(void **state)
{
	struct mt_region r[] = {
		reg(0x555555554000, 0x555555580000, MT_CAT_IMAGE),
		reg(0x555555580000, 0x5555555a1000, MT_CAT_HEAP),
		reg(0x7ffff7c00000, 0x7ffff7e00000, MT_CAT_IMAGE),
		reg(0x7ffff7e00000, 0x7ffff7f00000, MT_CAT_FILE),
		reg(0x7ffffffde000, 0x7ffffffff000, MT_CAT_STACK),
	};
	struct mt_gap v[8];
	struct mt_gaps g;
	struct tui_strip st;
	(void)state;
	make_gaps(&g, v, r, 5);
	assert_int_equal(strip_layout(&st, r, 5, &g, 80), 0);
	assert_true(st.log);
	assert_int_equal(st.width, 80);
	/* Every category present gets at least one cell, in address order. */
	for (int c = 0; c < MT_CAT_COUNT; c++) {
		bool present = c == MT_CAT_IMAGE || c == MT_CAT_HEAP || c == MT_CAT_FILE ||
			       c == MT_CAT_STACK;
		assert_int_equal(count_cells(&st, c) > 0, present);
	}
	/* The largest gap (below the executable) starts the strip. */
	assert_int_equal(st.largest_at, 0);
	assert_true(st.largest_len > 0);
	assert_int_equal(count_cells(&st, STRIP_LARGEST), st.largest_len);
	assert_int_equal(st.cell[0], STRIP_LARGEST);
	assert_int_equal(st.cell[79], MT_CAT_STACK); /* up to the limit */
	int first_heap = -1, first_stack = -1;
	for (int i = 0; i < 80; i++) {
		if (st.cell[i] == MT_CAT_HEAP && first_heap < 0)
			first_heap = i;
		if (st.cell[i] == MT_CAT_STACK && first_stack < 0)
			first_stack = i;
	}
	assert_true(first_heap < first_stack);
}

/* When each piece gets a cell at a linear scale, the scale is linear. */
static void strip_linear_when_it_fits(void **state)
{
	const uint64_t q = (HIGH - LOW) / 4;
	struct mt_region r[] = {
		reg(LOW + q, LOW + 2 * q, MT_CAT_ANON),
	};
	struct mt_gap v[4];
	struct mt_gaps g;
	struct tui_strip st;
	(void)state;
	make_gaps(&g, v, r, 1);
	assert_int_equal(strip_layout(&st, r, 1, &g, 40), 0);
	assert_false(st.log);
	assert_int_equal(count_cells(&st, MT_CAT_ANON), 10);
	assert_int_equal(count_cells(&st, STRIP_LARGEST), 20); /* the upper half */
	assert_int_equal(st.largest_at, 20);
}

/* Thousands of regions with guard gaps between them: more gaps than
 * cells.  The small gaps fold into the used cluster; the layout still
 * fills exactly the width and the largest gap keeps its cells. */
static void strip_more_pieces_than_cells(void **state)
{
	enum { N = 3000 };
	static struct mt_region r[N];
	static struct mt_gap v[N + 2];
	struct mt_gaps g;
	struct tui_strip st;
	(void)state;
	for (int i = 0; i < N; i++) {
		uint64_t s = 0x7f0000000000ULL + (uint64_t)i * 0x42000;
		r[i] = reg(s, s + 0x40000, MT_CAT_FILE);
	}
	make_gaps(&g, v, r, N);
	assert_int_equal(g.n, N + 1);
	assert_int_equal(strip_layout(&st, r, N, &g, 60), 0);
	assert_int_equal(st.width, 60);
	assert_true(count_cells(&st, MT_CAT_FILE) > 0);
	assert_true(st.largest_len > 0);
	int sum = 0;
	for (int c = 0; c <= STRIP_LARGEST; c++)
		sum += count_cells(&st, c);
	assert_int_equal(sum, 60);
}

/* Equal gaps (ties at the threshold) must not crowd out the largest. */
static void strip_largest_survives_ties(void **state)
{
	struct mt_region r[6];
	struct mt_gap v[8];
	struct mt_gaps g;
	struct tui_strip st;
	(void)state;
	for (int i = 0; i < 5; i++)
		r[i] = reg(LOW + 0x1000 + (uint64_t)i * 0x2000, LOW + 0x2000 + (uint64_t)i * 0x2000,
			   MT_CAT_ANON);
	r[5] = reg(HIGH - 0x1000, HIGH, MT_CAT_STACK);
	make_gaps(&g, v, r, 6);
	assert_int_equal(strip_layout(&st, r, 6, &g, 5), 0); /* room for 2 separators */
	assert_true(st.largest_at >= 0);
	assert_int_equal(count_cells(&st, MT_CAT_STACK), 1);
}

static void strip_empty_and_degenerate(void **state)
{
	struct mt_gaps g;
	struct mt_gap v[1];
	struct tui_strip st;
	(void)state;
	make_gaps(&g, v, NULL, 0);
	assert_int_equal(strip_layout(&st, NULL, 0, &g, 10000), 0);
	assert_int_equal(st.width, STRIP_MAX);
	assert_int_equal(count_cells(&st, STRIP_LARGEST), STRIP_MAX);
	assert_int_equal(strip_layout(&st, NULL, 0, &g, 0), 0);
	assert_int_equal(st.width, 1);
	memset(&g, 0, sizeof(g));
	g.largest = -1;
	assert_int_equal(strip_layout(&st, NULL, 0, &g, 10), 0);
	assert_int_equal(count_cells(&st, STRIP_GAP), 10);
	assert_int_equal(st.largest_at, -1);
}

/* [vsyscall] lies above the user limit: it is not drawn. */
static void strip_ignores_regions_above_the_limit(void **state)
{
	struct mt_region r[] = {
		reg(0x555555554000, 0x555555580000, MT_CAT_IMAGE),
		reg(0xffffffffff600000ULL, 0xffffffffff601000ULL, MT_CAT_KERNEL),
	};
	struct mt_gap v[4];
	struct mt_gaps g;
	struct tui_strip st;
	(void)state;
	make_gaps(&g, v, r, 1);
	assert_int_equal(strip_layout(&st, r, 2, &g, 30), 0);
	assert_int_equal(count_cells(&st, MT_CAT_KERNEL), 0);
	assert_true(count_cells(&st, MT_CAT_IMAGE) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fit_short_text_unchanged),
		cmocka_unit_test(fit_cuts_right_with_ellipsis),
		cmocka_unit_test(fit_cuts_paths_on_the_left),
		cmocka_unit_test(fit_clip_has_no_ellipsis),
		cmocka_unit_test(fit_neutralises_control_and_bad_bytes),
		cmocka_unit_test(fit_ascii_mode_replaces_utf8),
		cmocka_unit_test(fit_counts_wide_characters_as_two),
		cmocka_unit_test(fit_respects_the_buffer),
		cmocka_unit_test(spark_scales_between_min_and_max),
		cmocka_unit_test(spark_flat_series_on_the_floor),
		cmocka_unit_test(spark_reads_the_ring_in_order),
		cmocka_unit_test(spark_utf8_blocks),
		cmocka_unit_test(strip_typical_process_log_scale),
		cmocka_unit_test(strip_linear_when_it_fits),
		cmocka_unit_test(strip_more_pieces_than_cells),
		cmocka_unit_test(strip_largest_survives_ties),
		cmocka_unit_test(strip_empty_and_degenerate),
		cmocka_unit_test(strip_ignores_regions_above_the_limit),
	};
	return cmocka_run_group_tests(tests, utf8_locale, NULL);
}
