/*
 * test_tui_screen.c - the stack of screens (src/tui/screen.c): what is on
 * top, closing a screen closes those above it first, popping down to a
 * screen, and each screen's state freed exactly once when it goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tui_parts.h"

static char closed[16];
static size_t n_closed;

static void close_a(struct tui_app *a) { (void)a; closed[n_closed++] = 'a'; }
static void close_b(struct tui_app *a) { (void)a; closed[n_closed++] = 'b'; }
static void close_c(struct tui_app *a) { (void)a; closed[n_closed++] = 'c'; }

static const struct tui_screen base = { .name = "base" };
static const struct tui_screen sa = { .name = "a", .close = close_a };
static const struct tui_screen sb = { .name = "b", .close = close_b };
static const struct tui_screen sc = { .name = "c", .close = close_c };

static struct tui_app *app(void)
{
	n_closed = 0;
	memset(closed, 0, sizeof(closed));
	struct tui_app *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	screen_push(a, &base);
	screen_push(a, &sa);
	screen_push(a, &sb);
	screen_push(a, &sc);
	return a;
}

static void test_top_and_open(void **state)
{
	(void)state;
	struct tui_app *a = app();
	assert_ptr_equal(screen_top(a), &sc);
	assert_true(screen_open(a, &sa));
	assert_false(screen_open(a, &screen_help));
	screen_pop(a);
	assert_ptr_equal(screen_top(a), &sb);
	assert_string_equal(closed, "c");
	free(a);
}

static void test_close_closes_those_above_first(void **state)
{
	(void)state;
	struct tui_app *a = app();
	screen_close(a, &sa);
	assert_string_equal(closed, "cba");
	assert_ptr_equal(screen_top(a), &base);
	/* Not open: nothing happens. */
	screen_close(a, &sb);
	assert_string_equal(closed, "cba");
	assert_int_equal(a->depth, 1);
	free(a);
}

static void test_pop_to(void **state)
{
	(void)state;
	struct tui_app *a = app();
	screen_pop_to(a, &sa);
	assert_string_equal(closed, "cb");
	assert_ptr_equal(screen_top(a), &sa);
	/* A screen not on the stack pops nothing. */
	screen_pop_to(a, &screen_help);
	assert_ptr_equal(screen_top(a), &sa);
	free(a);
}

static void test_full_stack(void **state)
{
	(void)state;
	struct tui_app *a = calloc(1, sizeof(*a));
	for (int i = 0; i < TUI_STACK_MAX + 3; i++)
		screen_push(a, &base);
	assert_int_equal(a->depth, TUI_STACK_MAX);
	while (a->depth)
		screen_pop(a);
	screen_pop(a); /* empty: harmless */
	assert_null(screen_top(a));
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_and_open),
		cmocka_unit_test(test_close_closes_those_above_first),
		cmocka_unit_test(test_pop_to),
		cmocka_unit_test(test_full_stack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
