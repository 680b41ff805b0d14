/*
 * test_tui_drill.c - the drill-down's model (src/tui/drill.c): the rows
 * of a result, holder names, what Enter scans for next, the breadcrumb,
 * and the progress bar's decisions (drawing, cancelling).
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

/* ---- a hand-made scan of a hand-made process ----------------------------- */

enum { R_IMAGE, R_HEAP, R_STACK, R_ANON };

struct world {
	struct mt_snapshot s;
	struct scan_result res;
	struct scan_ref refs[6];
	struct scan_group groups[4];
	struct unwind_stack stack;
	struct unwind_frame frames[3];
};

static void region(struct mt_snapshot *s, uint64_t start, uint64_t end, enum mt_category c,
		   const char *path, int tid)
{
	struct mt_region *r = snapshot_add_region(s);
	assert_non_null(r);
	r->start = start;
	r->end = end;
	r->category = c;
	r->path = path;
	r->path_len = (uint32_t)strlen(path);
	r->tid = tid;
}

static struct scan_ref ref_in(long reg, uint64_t addr, enum scan_holder h)
{
	struct scan_ref r;
	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.value = 0x7000000000 + 0x40;
	r.region = reg;
	r.holder = h;
	r.frame_index = -1;
	return r;
}

static struct world *world_new(void)
{
	struct world *w = test_calloc(1, sizeof(*w));
	snapshot_init(&w->s);
	region(&w->s, 0x555500000000, 0x555500001000, MT_CAT_IMAGE, "/usr/bin/app", 0);
	region(&w->s, 0x555600000000, 0x555600021000, MT_CAT_HEAP, "[heap]", 0);
	region(&w->s, 0x7ff000000000, 0x7ff000800000, MT_CAT_STACK, "", 12);
	region(&w->s, 0x7f0000000000, 0x7f0000100000, MT_CAT_ANON, "", 0);

	w->refs[0] = ref_in(R_IMAGE, 0x555500000210, SCAN_HOLDER_GLOBAL);
	w->refs[0].symbol = "g_registry";
	w->refs[0].symbol_offset = 0x8;
	w->refs[0].module = "/usr/bin/app";
	w->refs[1] = ref_in(R_HEAP, 0x555600000c68, SCAN_HOLDER_HEAP);
	w->refs[1].has_object = true;
	w->refs[1].object = (struct heapwalk_chunk){ .chunk = 0x555600000c50,
		.user = 0x555600000c60, .size = 24, .in_use = true };
	w->refs[1].class_name = "mmf::MMFSerializer";
	w->refs[2] = ref_in(R_HEAP, 0x555600000b48, SCAN_HOLDER_HEAP);
	w->refs[2].has_object = true;
	w->refs[2].object = (struct heapwalk_chunk){ .chunk = 0x555600000aa0,
		.user = 0x555600000ab0, .size = 264, .in_use = false };
	w->refs[3] = ref_in(R_STACK, 0x7ff0007ffeb8, SCAN_HOLDER_STACK);
	w->refs[3].tid = 12;
	w->refs[3].frame_index = 1;
	w->refs[3].frame = "stack_holder";
	w->refs[3].frame_offset = 0x5f;
	w->refs[4] = ref_in(R_STACK, 0x7ff0007fe000, SCAN_HOLDER_STACK);
	w->refs[4].tid = 12;
	w->refs[4].dead_stack = true;
	w->refs[5] = ref_in(R_ANON, 0x7f0000000010, SCAN_HOLDER_REGION);
	w->refs[5].region_offset = 0x10;

	w->groups[0] = (struct scan_group){ R_IMAGE, 0, 1 };
	w->groups[1] = (struct scan_group){ R_HEAP, 1, 2 };
	w->groups[2] = (struct scan_group){ R_STACK, 3, 2 };
	w->groups[3] = (struct scan_group){ R_ANON, 5, 1 };

	w->stack.tid = 12;
	w->stack.frames = w->frames;
	w->stack.n = 3;
	strcpy(w->frames[0].func, "block_here");
	strcpy(w->frames[1].func, "stack_holder");
	strcpy(w->frames[2].func, "worker");

	scan_result_init(&w->res);
	w->res.lo = 0x7000000000;
	w->res.hi = 0x7000001000;
	w->res.refs = w->refs;
	w->res.n_refs = 6;
	w->res.groups = w->groups;
	w->res.n_groups = 4;
	w->res.stacks = &w->stack;
	w->res.n_stacks = 1;
	return w;
}

static void world_free(struct world *w)
{
	snapshot_free(&w->s); /* the result's arrays are the world's own */
	test_free(w);
}

/* ---- rows ---------------------------------------------------------------- */

static void rows_grouped_stale_collapsed_backtrace_shown(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct drill_rows rows;
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(drill_rows_build(&rows, &w->res, &w->s), 0);
	static const struct { enum drill_row_kind kind; size_t group, index; } want[] = {
		{ DROW_GROUP, 0, 0 }, { DROW_REF, 0, 0 },
		{ DROW_GROUP, 1, 0 }, { DROW_REF, 1, 1 }, { DROW_REF, 1, 2 },
		{ DROW_GROUP, 2, 0 }, { DROW_REF, 2, 3 }, { DROW_STALE, 2, 1 },
		{ DROW_FRAME, 2, 0 }, { DROW_FRAME, 2, 1 }, { DROW_FRAME, 2, 2 },
		{ DROW_GROUP, 3, 0 }, { DROW_REF, 3, 5 },
	};
	assert_int_equal(rows.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < rows.n; i++) {
		assert_int_equal(rows.v[i].kind, want[i].kind);
		assert_int_equal(rows.v[i].group, want[i].group);
		assert_int_equal(rows.v[i].index, want[i].index);
	}
	assert_int_equal(drill_rows_first_ref(&rows), 1);

	/* Rebuilt from scratch, not appended. */
	assert_int_equal(drill_rows_build(&rows, &w->res, &w->s), 0);
	assert_int_equal(rows.n, sizeof(want) / sizeof(want[0]));
	drill_rows_free(&rows);
	world_free(w);
}

/* Copies in freed chunks (tcache, fastbin, free) are counted on one row,
 * never a REF row: Enter and the first selection never land on them. */
static void rows_freed_collapsed(void **state)
{
	(void)state;
	struct world *w = world_new();
	w->refs[1].object.in_use = false;
	w->refs[1].object.free_list = HEAPWALK_FREE_TCACHE;
	w->refs[1].stale_free = true;
	w->refs[2].stale_free = true;
	char b[256];
	drill_holder_where(b, sizeof(b), &w->refs[1], &w->s);
	assert_string_equal(b, "object 0x555600000c60+0x8 (24 B, freed: tcache)");
	struct drill_rows rows;
	memset(&rows, 0, sizeof(rows));
	/* From the heap group on: the first row to select is the stack's. */
	w->res.groups = w->groups + 1;
	w->res.n_groups = 3;
	assert_int_equal(drill_rows_build(&rows, &w->res, &w->s), 0);
	static const struct { enum drill_row_kind kind; size_t group, index; } want[] = {
		{ DROW_GROUP, 0, 0 }, { DROW_FREED, 0, 2 },
		{ DROW_GROUP, 1, 0 }, { DROW_REF, 1, 3 }, { DROW_STALE, 1, 1 },
		{ DROW_FRAME, 1, 0 }, { DROW_FRAME, 1, 1 }, { DROW_FRAME, 1, 2 },
		{ DROW_GROUP, 2, 0 }, { DROW_REF, 2, 5 },
	};
	assert_int_equal(rows.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < rows.n; i++) {
		assert_int_equal(rows.v[i].kind, want[i].kind);
		assert_int_equal(rows.v[i].group, want[i].group);
		assert_int_equal(rows.v[i].index, want[i].index);
	}
	assert_int_equal(drill_rows_first_ref(&rows), 3);
	drill_rows_free(&rows);
	world_free(w);
}

static void rows_skip_groups_not_of_the_snapshot(void **state)
{
	(void)state;
	struct world *w = world_new();
	struct drill_rows rows;
	memset(&rows, 0, sizeof(rows));
	w->groups[0].region = 99;  /* no such region */
	w->groups[3].n = 7;        /* past the refs */
	assert_int_equal(drill_rows_build(&rows, &w->res, &w->s), 0);
	for (size_t i = 0; i < rows.n; i++)
		assert_true(rows.v[i].group == 1 || rows.v[i].group == 2);
	/* Nothing to follow: the first row. */
	w->res.n_groups = 0;
	assert_int_equal(drill_rows_build(&rows, &w->res, &w->s), 0);
	assert_int_equal(rows.n, 0);
	assert_int_equal(drill_rows_first_ref(&rows), 0);
	drill_rows_free(&rows);
	world_free(w);
}

/* ---- holders ------------------------------------------------------------- */

static void holder_names(void **state)
{
	(void)state;
	struct world *w = world_new();
	char b[256];
	drill_holder_name(b, sizeof(b), &w->refs[0], &w->s);
	assert_string_equal(b, "g_registry+0x8");
	drill_holder_where(b, sizeof(b), &w->refs[0], &w->s);
	assert_string_equal(b, "app");
	drill_holder_name(b, sizeof(b), &w->refs[1], &w->s);
	assert_string_equal(b, "mmf::MMFSerializer");
	drill_holder_where(b, sizeof(b), &w->refs[1], &w->s);
	assert_string_equal(b, "object 0x555600000c60+0x8 (24 B)");
	drill_holder_name(b, sizeof(b), &w->refs[2], &w->s);
	assert_string_equal(b, "[heap 264 B]");
	drill_holder_where(b, sizeof(b), &w->refs[2], &w->s);
	assert_string_equal(b, "object 0x555600000ab0+0x98 (264 B, free)");
	drill_holder_name(b, sizeof(b), &w->refs[3], &w->s);
	assert_string_equal(b, "thread 12");
	drill_holder_where(b, sizeof(b), &w->refs[3], &w->s);
	assert_string_equal(b, "frame #1 stack_holder+0x5f");
	drill_holder_name(b, sizeof(b), &w->refs[5], &w->s);
	assert_string_equal(b, "[anon 1 MiB]+0x10");
	/* A global without a symbol: the region and the offset. */
	w->refs[0].symbol = NULL;
	w->refs[0].region_offset = 0x210;
	drill_holder_name(b, sizeof(b), &w->refs[0], &w->s);
	assert_string_equal(b, "app+0x210");
	drill_holder_where(b, sizeof(b), &w->refs[0], &w->s);
	assert_string_equal(b, "no symbol, app");
	/* A ref whose region index is out of range names nothing wrongly. */
	w->refs[5].region = 42;
	drill_holder_name(b, sizeof(b), &w->refs[5], &w->s);
	assert_string_equal(b, "?+0x10");
	world_free(w);
}

static void follow_ranges(void **state)
{
	(void)state;
	struct world *w = world_new();
	char label[96];
	uint64_t lo, hi;
	/* A heap object: its user range, named by its class. */
	drill_follow_range(&w->refs[1], &w->s, 0, 0, &lo, &hi, label, sizeof(label));
	assert_int_equal(lo, 0x555600000c60);
	assert_int_equal(hi, 0x555600000c60 + 24);
	assert_string_equal(label, "mmf::MMFSerializer");
	drill_follow_range(&w->refs[2], &w->s, 0, 0, &lo, &hi, label, sizeof(label));
	assert_string_equal(label, "[heap 264 B]");
	/* A global: the symbol's range when its size is known... */
	drill_follow_range(&w->refs[0], &w->s, 0x555500000208, 24, &lo, &hi, label, sizeof(label));
	assert_int_equal(lo, 0x555500000208);
	assert_int_equal(hi, 0x555500000208 + 24);
	assert_string_equal(label, "g_registry");
	/* ...else (no size, or a range not covering the ref) the region. */
	drill_follow_range(&w->refs[0], &w->s, 0x555500000208, 0, &lo, &hi, label, sizeof(label));
	assert_int_equal(lo, 0x555500000000);
	assert_int_equal(hi, 0x555500001000);
	assert_string_equal(label, "app");
	drill_follow_range(&w->refs[0], &w->s, 0x555500000300, 8, &lo, &hi, label, sizeof(label));
	assert_int_equal(lo, 0x555500000000);
	/* A stack: the stack region. */
	drill_follow_range(&w->refs[3], &w->s, 0, 0, &lo, &hi, label, sizeof(label));
	assert_int_equal(lo, 0x7ff000000000);
	assert_int_equal(hi, 0x7ff000800000);
	assert_string_equal(label, "[stack 12]");
	/* Anything else: its region. */
	drill_follow_range(&w->refs[5], &w->s, 0, 0, &lo, &hi, label, sizeof(label));
	assert_int_equal(lo, 0x7f0000000000);
	assert_string_equal(label, "[anon 1 MiB]");
	world_free(w);
}

static void region_labels(void **state)
{
	(void)state;
	struct mt_snapshot s;
	char b[96];
	snapshot_init(&s);
	region(&s, 0x1000, 0x41000, MT_CAT_FILE, "/tmp/demo/messages.dat", 0);
	region(&s, 0x100000, 0x200000, MT_CAT_SHARED, "/dev/zero", 0);
	region(&s, 0x300000, 0x400000, MT_CAT_HEAP, "[heap]", 0);
	drill_region_label(b, sizeof(b), &s.regions[0]);
	assert_string_equal(b, "messages.dat");
	drill_region_label(b, sizeof(b), &s.regions[1]);
	assert_string_equal(b, "[shared 1 MiB]");
	drill_region_label(b, sizeof(b), &s.regions[2]);
	assert_string_equal(b, "[heap]");
	snapshot_free(&s);
}

/* ---- the breadcrumb ---------------------------------------------------------- */

static void breadcrumb_fits_or_drops_the_oldest(void **state)
{
	(void)state;
	const char *chain[] = { "messages.dat", "mmf::MMFSerializer", "Communicator",
				"[heap 264 B]", "g_registry" };
	const struct tui_glyphs *gl = text_glyphs(true);
	char out[512];
	int w = drill_breadcrumb(out, sizeof(out), chain, 5, 100, gl);
	assert_string_equal(out, "messages.dat \u203a mmf::MMFSerializer \u203a Communicator "
			    "\u203a [heap 264 B] \u203a g_registry");
	assert_int_equal(w, text_width(out, strlen(out), true));
	/* Narrow: the oldest steps give way to an ellipsis. */
	w = drill_breadcrumb(out, sizeof(out), chain, 5, 44, gl);
	assert_int_equal(w, 44);
	assert_string_equal(out, "\u2026 \u203a Communicator \u203a [heap 264 B] \u203a g_registry");
	w = drill_breadcrumb(out, sizeof(out), chain, 5, 43, gl);
	assert_true(w <= 43);
	assert_string_equal(out, "\u2026 \u203a [heap 264 B] \u203a g_registry");
	/* Only the newest, too long even alone: its head. */
	w = drill_breadcrumb(out, sizeof(out), chain, 2, 10, gl);
	assert_int_equal(w, 10);
	assert_string_equal(out, "mmf::MMFS\u2026");
	/* One step; ASCII terminals. */
	w = drill_breadcrumb(out, sizeof(out), chain, 1, 80, gl);
	assert_string_equal(out, "messages.dat");
	drill_breadcrumb(out, sizeof(out), chain + 3, 2, 80, text_glyphs(false));
	assert_string_equal(out, "[heap 264 B] > g_registry");
	/* A hostile label cannot reach the terminal raw. */
	const char *bad[] = { "ok", "\x1b[2Jevil" };
	drill_breadcrumb(out, sizeof(out), bad, 2, 80, gl);
	assert_null(strchr(out, '\x1b'));
}

/* ---- the progress bar ------------------------------------------------------------ */

static void scanbar_draws_late_and_seldom(void **state)
{
	(void)state;
	struct scanbar b;
	bool draw;
	scanbar_start(&b, 100.0);
	assert_false(scanbar_step(&b, 100.05, -1, false, &draw));
	assert_false(draw); /* a short scan never shows a bar */
	assert_false(scanbar_step(&b, 100.19, -1, false, &draw));
	assert_false(draw);
	assert_false(scanbar_step(&b, 100.21, -1, false, &draw));
	assert_true(draw);
	assert_false(scanbar_step(&b, 100.23, -1, false, &draw));
	assert_false(draw); /* not every chunk */
	assert_false(scanbar_step(&b, 100.27, 'x', false, &draw));
	assert_true(draw);  /* other keys neither cancel nor stop the bar */
	assert_false(b.cancelled);
}

static void scanbar_cancels_on_esc_q_or_signal(void **state)
{
	(void)state;
	struct scanbar b;
	bool draw;
	scanbar_start(&b, 0);
	assert_true(scanbar_step(&b, 0.001, 27, false, &draw));
	assert_true(b.cancelled);
	assert_false(draw);
	scanbar_start(&b, 0);
	assert_false(b.cancelled);
	assert_true(scanbar_step(&b, 5.0, 'q', false, &draw));
	scanbar_start(&b, 0);
	assert_true(scanbar_step(&b, 0.0, -1, true, &draw));
	assert_true(b.cancelled);
}

static void scanbar_format_fills_its_width(void **state)
{
	(void)state;
	const struct tui_glyphs *gl = text_glyphs(true);
	char out[1024];
	scanbar_format(out, sizeof(out), 60, 50 << 20, 100 << 20, gl);
	assert_int_equal(text_width(out, strlen(out), true), 60);
	assert_non_null(strstr(out, " 50%  50 MiB of 100 MiB"));
	/* Half of the bar's cells are filled. */
	size_t full = 0;
	for (const char *p = out; (p = strstr(p, gl->block)); p += strlen(gl->block))
		full++;
	int inner = 60 - 2 - (int)strlen("   50%  50 MiB of 100 MiB");
	assert_int_equal(full, (size_t)inner / 2);
	/* Done past total (the maps grew) and total 0 are full bars. */
	scanbar_format(out, sizeof(out), 60, 200, 100, gl);
	assert_non_null(strstr(out, "100%"));
	scanbar_format(out, sizeof(out), 60, 0, 0, gl);
	assert_non_null(strstr(out, "100%"));
	/* Too narrow for a bar: the figures, clipped. */
	scanbar_format(out, sizeof(out), 12, 1, 2, gl);
	assert_true(text_width(out, strlen(out), true) <= 12);
	assert_null(strchr(out, '['));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_grouped_stale_collapsed_backtrace_shown),
		cmocka_unit_test(rows_freed_collapsed),
		cmocka_unit_test(rows_skip_groups_not_of_the_snapshot),
		cmocka_unit_test(holder_names),
		cmocka_unit_test(follow_ranges),
		cmocka_unit_test(region_labels),
		cmocka_unit_test(breadcrumb_fits_or_drops_the_oldest),
		cmocka_unit_test(scanbar_draws_late_and_seldom),
		cmocka_unit_test(scanbar_cancels_on_esc_q_or_signal),
		cmocka_unit_test(scanbar_format_fills_its_width),
	};
	return cmocka_run_group_tests(tests, utf8_locale, NULL);
}
