/*
 * test_tui_list.c - the list widget's model (filter, sort, search, cursor,
 * selection kept across refreshes) and the key-binding table, without a
 * terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tui_parts.h"

struct item {
	const char *name;
	int size;
	uint64_t id;
};

struct items {
	struct item *v;
	size_t n;
};

static size_t count(void *ctx)
{
	return ((struct items *)ctx)->n;
}

static void draw_row(void *ctx, const struct tui_row *row, size_t item)
{
	(void)ctx;
	(void)row;
	(void)item;
}

enum { COL_NAME, COL_SIZE };

static int compare(void *ctx, size_t a, size_t b, int col)
{
	const struct item *x = &((struct items *)ctx)->v[a], *y = &((struct items *)ctx)->v[b];
	if (col == COL_SIZE)
		return x->size < y->size ? -1 : x->size > y->size;
	return strcmp(x->name, y->name);
}

static void text(void *ctx, size_t item, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", ((struct items *)ctx)->v[item].name);
}

static uint64_t key(void *ctx, size_t item)
{
	return ((struct items *)ctx)->v[item].id;
}

static const struct tui_list_ops ops = { count, draw_row, compare, text, key };

static const struct tui_column cols[] = {
	{ "NAME", 10, false, false, 0, true },
	{ "SIZE", 8, true, true, 0, true },
};

static struct item base[] = {
	{ "libc.so.6", 30, 1 },     { "[heap]", 50, 2 },    { "messages.dat", 10, 3 },
	{ "journal.dat", 20, 4 },   { "[stack]", 40, 5 },   { "libm.so.6", 60, 6 },
};

static const char *row_name(const struct tui_list *l, const struct items *it, size_t r)
{
	return it->v[l->rows[r]].name;
}

static void natural_order_without_sort(void **state)
{
	struct items it = { base, 6 };
	struct tui_list l;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, -1);
	assert_int_equal(list_rebuild(&l), 0);
	assert_int_equal(l.n_rows, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(l.rows[i], i);
	list_free(&l);
}

static void sorts_and_inverts(void **state)
{
	struct items it = { base, 6 };
	struct tui_list l;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, COL_SIZE);
	assert_true(l.sort_desc); /* sizes sort largest first */
	list_rebuild(&l);
	assert_string_equal(row_name(&l, &it, 0), "libm.so.6");
	assert_string_equal(row_name(&l, &it, 5), "messages.dat");
	list_sort_invert(&l);
	assert_string_equal(row_name(&l, &it, 0), "messages.dat");
	list_sort_by(&l, COL_NAME);
	assert_false(l.sort_desc);
	assert_string_equal(row_name(&l, &it, 0), "[heap]");
	list_sort_by(&l, COL_NAME); /* the same column again: the other way */
	assert_true(l.sort_desc);
	assert_string_equal(row_name(&l, &it, 0), "messages.dat");
	list_sort_step(&l, 1); /* F6: the next sortable column */
	assert_int_equal(l.sort_col, COL_SIZE);
	list_sort_step(&l, 1);
	assert_int_equal(l.sort_col, COL_NAME);
	list_free(&l);
}

static void filters_case_insensitively(void **state)
{
	struct items it = { base, 6 };
	struct tui_list l;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, -1);
	list_rebuild(&l);
	assert_int_equal(list_set_filter(&l, "DAT"), 0);
	assert_int_equal(l.n_rows, 2);
	assert_string_equal(row_name(&l, &it, 0), "messages.dat");
	assert_string_equal(row_name(&l, &it, 1), "journal.dat");
	list_set_filter(&l, "no such thing");
	assert_int_equal(l.n_rows, 0);
	size_t item;
	assert_false(list_selected(&l, &item));
	list_move(&l, 1); /* harmless on an empty list */
	list_set_filter(&l, "");
	assert_int_equal(l.n_rows, 6);
	list_free(&l);
}

static void cursor_moves_and_clamps(void **state)
{
	struct items it = { base, 6 };
	struct tui_list l;
	size_t item;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, -1);
	list_rebuild(&l);
	l.height = 4; /* header and three rows */
	assert_int_equal(list_page_rows(&l), 3);
	list_move(&l, -5);
	assert_int_equal(l.cursor, 0);
	list_move(&l, 4);
	assert_int_equal(l.cursor, 4);
	assert_int_equal(l.top, 2); /* scrolled to keep the cursor in view */
	list_end(&l);
	assert_int_equal(l.cursor, 5);
	assert_true(list_selected(&l, &item));
	assert_int_equal(item, 5);
	list_home(&l);
	assert_int_equal(l.cursor, 0);
	assert_int_equal(l.top, 0);
	list_free(&l);
}

/* A table to read has no cursor: moving scrolls, within bounds. */
static void no_cursor_scrolls(void **state)
{
	struct items it = { base, 6 };
	struct tui_list l;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, -1);
	l.no_cursor = true;
	list_rebuild(&l);
	l.height = 4;
	list_move(&l, 10);
	assert_int_equal(l.top, 3); /* the last page, no blank rows */
	list_move(&l, -1);
	assert_int_equal(l.top, 2);
	list_free(&l);
}

static void search_wraps_and_skips_current(void **state)
{
	struct items it = { base, 6 };
	struct tui_list l;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, -1);
	list_rebuild(&l);
	l.height = 10;
	assert_true(list_search(&l, "lib", false));
	assert_int_equal(l.cursor, 0); /* libc: the current row matches */
	assert_true(list_search(&l, "lib", true));
	assert_int_equal(l.cursor, 5); /* libm */
	assert_true(list_search(&l, "lib", true));
	assert_int_equal(l.cursor, 0); /* wrapped */
	assert_false(list_search(&l, "nothing", true));
	assert_int_equal(l.cursor, 0);
	assert_string_equal(l.search, "nothing");
	list_free(&l);
}

/* After a refresh the items are new and in another order; the row the
 * user was on stays selected, by its key. */
static void selection_survives_a_refresh(void **state)
{
	struct item v[6];
	memcpy(v, base, sizeof(v));
	struct items it = { v, 6 };
	struct tui_list l;
	size_t item;
	(void)state;
	list_init(&l, cols, 2, &ops, &it, COL_SIZE);
	list_rebuild(&l);
	l.height = 10;
	list_move(&l, 3); /* libc.so.6, 30: the fourth largest */
	assert_true(list_selected(&l, &item));
	assert_string_equal(v[item].name, "libc.so.6");

	/* The next refresh: an item is gone, libc grew, order changed. */
	struct item w[] = { { "libm.so.6", 60, 6 }, { "libc.so.6", 90, 1 },
			    { "[stack]", 40, 5 } };
	it.v = w;
	it.n = 3;
	list_rebuild(&l);
	assert_true(list_selected(&l, &item));
	assert_string_equal(w[item].name, "libc.so.6");
	assert_int_equal(l.cursor, 0);

	/* On the first row the selection stays there: newer items show. */
	list_home(&l);
	struct item y[] = { { "new", 99, 20 }, { "libc.so.6", 90, 1 } };
	it.v = y;
	it.n = 2;
	list_rebuild(&l);
	assert_int_equal(l.cursor, 0);
	assert_true(list_selected(&l, &item));
	assert_string_equal(y[item].name, "new");

	/* The selected item gone: the cursor stays at its row number. */
	struct item x[] = { { "a", 1, 10 }, { "b", 2, 11 } };
	list_move(&l, 1);
	it.v = x;
	it.n = 2;
	list_rebuild(&l);
	assert_int_equal(l.cursor, 1);
	list_free(&l);
}

/* ------------------------------------------------------------------ */

static void keys_htop_basics(void **state)
{
	(void)state;
	assert_int_equal(keys_lookup('q', SC_MONITOR), ACT_QUIT);
	assert_int_equal(keys_lookup(KEY_F(10), SC_PICKER), ACT_QUIT);
	assert_int_equal(keys_lookup(KEY_F(1), SC_DETAIL), ACT_HELP);
	assert_int_equal(keys_lookup('?', SC_MONITOR), ACT_HELP);
	assert_int_equal(keys_lookup('/', SC_MONITOR), ACT_SEARCH);
	assert_int_equal(keys_lookup('\\', SC_MONITOR), ACT_FILTER);
	assert_int_equal(keys_lookup(KEY_F(6), SC_PICKER), ACT_SORT_NEXT);
	assert_int_equal(keys_lookup('<', SC_MONITOR), ACT_SORT_PREV);
	assert_int_equal(keys_lookup(' ', SC_MONITOR), ACT_PAUSE);
	assert_int_equal(keys_lookup('j', SC_MONITOR), ACT_DOWN);
	assert_int_equal(keys_lookup('\t', SC_MONITOR), ACT_VIEW_NEXT);
	assert_int_equal(keys_lookup('3', SC_MONITOR), ACT_VIEW_3);
	assert_int_equal(keys_lookup(27, SC_DETAIL), ACT_BACK);
	assert_int_equal(keys_lookup(KEY_BACKSPACE, SC_DETAIL), ACT_BACK);
	/* Scoped: the reference scan works on a region's detail only. */
	assert_int_equal(keys_lookup('s', SC_DETAIL), ACT_REFS);
	assert_int_equal(keys_lookup('s', SC_MONITOR), ACT_NONE);
	/* The drill-down: Enter follows, s scans again, Esc steps back;
	 * view switching and pausing do not reach through it. */
	assert_int_equal(keys_lookup('\n', SC_REFS), ACT_ENTER);
	assert_int_equal(keys_lookup('\r', SC_REFS), ACT_ENTER);
	assert_int_equal(keys_lookup('s', SC_REFS), ACT_REFS);
	assert_int_equal(keys_lookup(27, SC_REFS), ACT_BACK);
	assert_int_equal(keys_lookup('2', SC_REFS), ACT_NONE);
	assert_int_equal(keys_lookup(' ', SC_REFS), ACT_NONE);
	/* Backtraces: from the views, and again from their screen. */
	assert_int_equal(keys_lookup('b', SC_MONITOR), ACT_TRACES);
	assert_int_equal(keys_lookup('b', SC_TRACES), ACT_TRACES);
	assert_int_equal(keys_lookup('b', SC_DETAIL), ACT_NONE);
	assert_int_equal(keys_lookup(27, SC_TRACES), ACT_BACK);
	assert_int_equal(keys_lookup(' ', SC_PICKER), ACT_NONE);
	assert_int_equal(keys_lookup('x', SC_ALL), ACT_NONE);
	/* A replay: atop's time travel over Home, End and b of the views. */
	assert_int_equal(keys_lookup(KEY_HOME, SC_MONITOR | SC_REPLAY), ACT_FIRST);
	assert_int_equal(keys_lookup(KEY_END, SC_DETAIL | SC_REPLAY), ACT_LAST);
	assert_int_equal(keys_lookup('b', SC_MONITOR | SC_REPLAY), ACT_JUMP);
	assert_int_equal(keys_lookup('t', SC_MONITOR | SC_REPLAY), ACT_STEP_NEXT);
	assert_int_equal(keys_lookup('T', SC_MONITOR | SC_REPLAY), ACT_STEP_PREV);
	assert_int_equal(keys_lookup('g', SC_MONITOR | SC_REPLAY), ACT_HOME);
	assert_int_equal(keys_lookup(KEY_HOME, SC_MONITOR), ACT_HOME);
	assert_int_equal(keys_lookup('t', SC_MONITOR), ACT_NONE);
}

/* One key, one meaning per scope: no binding is shadowed by another
 * (a replay's keys are a scope of their own, looked up first). */
static void keys_no_shadowed_binding(void **state)
{
	(void)state;
	for (size_t i = 0; i < keys_n_bindings; i++)
		for (size_t j = 0; j < i; j++) {
			const struct tui_binding *a = &keys_bindings[i], *b = &keys_bindings[j];
			if (a->key == b->key && (a->scope & b->scope))
				fail_msg("key %d bound twice (%s)", a->key,
					 a->name ? a->name : "?");
		}
}

/* Every binding is documented: it has help text, or follows the binding
 * of the same action it is an alias of. */
static void keys_every_binding_documented(void **state)
{
	(void)state;
	for (size_t i = 0; i < keys_n_bindings; i++) {
		if (keys_bindings[i].help)
			continue;
		assert_true(i > 0);
		size_t k = i;
		while (k > 0 && !keys_bindings[k].help)
			k--;
		assert_int_equal(keys_bindings[k].action, keys_bindings[i].action);
	}
}

static void keys_help_lines_join_aliases(void **state)
{
	char keys[128];
	const char *help = NULL;
	bool found = false;
	(void)state;
	int n = keys_help_lines(SC_MONITOR);
	assert_true(n > 10);
	for (int i = 0; i < n; i++) {
		assert_true(keys_help_line(SC_MONITOR, i, keys, sizeof(keys), &help));
		if (!strcmp(keys, "F1 h ?"))
			found = true;
		assert_null(strstr(keys, "Attach")); /* the picker's Enter is not here */
	}
	assert_true(found);
	assert_false(keys_help_line(SC_MONITOR, n, keys, sizeof(keys), &help));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(natural_order_without_sort),
		cmocka_unit_test(sorts_and_inverts),
		cmocka_unit_test(filters_case_insensitively),
		cmocka_unit_test(cursor_moves_and_clamps),
		cmocka_unit_test(no_cursor_scrolls),
		cmocka_unit_test(search_wraps_and_skips_current),
		cmocka_unit_test(selection_survives_a_refresh),
		cmocka_unit_test(keys_htop_basics),
		cmocka_unit_test(keys_no_shadowed_binding),
		cmocka_unit_test(keys_every_binding_documented),
		cmocka_unit_test(keys_help_lines_join_aliases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
