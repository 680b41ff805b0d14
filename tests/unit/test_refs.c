/*
 * test_refs.c - refs_report() against this very process (--no-freeze:
 * memtop cannot stop itself): options, errors, text and JSON output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "memtop/refs.h"

void *volatile g_unit_holder;

/* Under AddressSanitizer or ThreadSanitizer malloc is theirs, not
 * glibc's: no chunks. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GLIBC_MALLOC 0
#else
#define GLIBC_MALLOC 1
#endif

struct fixture {
	char *target;
	void **object;
	char spec[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->target = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->target == MAP_FAILED)
		return -1;
	memset(f->target, 0x5a, 65536);
	g_unit_holder = f->target + 0x10;
	f->object = calloc(4, sizeof(void *));
	f->object[2] = f->target + 0x20;
	snprintf(f->spec, sizeof(f->spec), "0x%lx", (unsigned long)(uintptr_t)f->target);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	munmap(f->target, 65536);
	free(f->object);
	free(f);
	return 0;
}

/* Run refs_report into a string; returns MT_ERR_NONE or the error's kind. */
static int report(struct mt_options *o, char **text, struct mt_error *err)
{
	size_t len;
	FILE *out = open_memstream(text, &len);
	mt_error_clear(err);
	int rc = refs_report(out, o, err);
	fclose(out);
	assert_true(rc == 0 || rc == -1);
	return rc < 0 ? (int)err->kind : MT_ERR_NONE;
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	struct mt_options o = { .pid = getpid(), .refs = f->spec, .json = true, .no_freeze = true };
	struct mt_error err;
	char *text = NULL, want[256];
	assert_int_equal(report(&o, &text, &err), MT_ERR_NONE);
	assert_non_null(strstr(text, "\"frozen\":false"));
	assert_non_null(strstr(text, "\"stopped_ms\":null"));
	assert_non_null(strstr(text, "\"category\":\"shared\""));
	/* The global, named; the heap object, with its user pointer. */
	snprintf(want, sizeof(want), "\"addr\":\"0x%lx\"", (unsigned long)(uintptr_t)&g_unit_holder);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "\"symbol\":\"g_unit_holder\",\"symbol_offset\":0"));
	snprintf(want, sizeof(want), "\"object\":{\"start\":\"0x%lx\"",
		 (unsigned long)(uintptr_t)f->object);
	if (GLIBC_MALLOC) {
		assert_non_null(strstr(text, want));
		assert_non_null(strstr(text, "\"offset\":16,\"class\":null,\"in_use\":true"));
	}
	snprintf(want, sizeof(want), "\"addr\":\"0x%lx\"", (unsigned long)(uintptr_t)&f->object[2]);
	assert_non_null(strstr(text, want));
	/* One line of JSON. */
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	free(text);
}

static void test_text(void **state)
{
	struct fixture *f = *state;
	struct mt_options o = { .pid = getpid(), .refs = f->spec, .no_freeze = true };
	struct mt_error err;
	char *text = NULL, want[256];
	assert_int_equal(report(&o, &text, &err), MT_ERR_NONE);
	assert_non_null(strstr(text, "target running (--no-freeze)"));
	assert_non_null(strstr(text, "g_unit_holder+0x0"));
	snprintf(want, sizeof(want), "object 0x%lx+0x10 (", (unsigned long)(uintptr_t)f->object);
	if (GLIBC_MALLOC)
		assert_non_null(strstr(text, want));
	free(text);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct mt_error err;
	char *text = NULL;
	struct mt_options o = { .pid = getpid(), .refs = "zz", .no_freeze = true };
	assert_int_equal(report(&o, &text, &err), MT_ERR_USAGE);
	assert_non_null(strstr(err.msg, "bad TARGET 'zz'"));
	free(text);
	/* Unmapped address. */
	o.refs = "0x10";
	assert_int_equal(report(&o, &text, &err), MT_ERR_USAGE);
	assert_non_null(strstr(err.msg, "not mapped"));
	free(text);
	/* No pid. */
	o.refs = f->spec;
	o.pid = 0;
	assert_int_equal(report(&o, &text, &err), MT_ERR_USAGE);
	free(text);
	/* memtop cannot freeze itself. */
	o.pid = getpid();
	o.no_freeze = false;
	assert_int_equal(report(&o, &text, &err), MT_ERR_USAGE);
	assert_non_null(strstr(err.msg, "--no-freeze"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
