/*
 * test_trace.c - decoding the perf records of --trace (the fuzz seeds of
 * tests/fuzz/corpus/fuzz_trace, made as the kernel lays them out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtop/trace.h"

static const struct trace_ids ids = { { 1, 2, 3, 4, 5 }, { 11, 12, 13, 14, 15 } };

static size_t seed(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/../fuzz/corpus/fuzz_trace/%s", MT_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void test_enter_with_registers_and_stack(void **state)
{
	uint8_t buf[4096];
	size_t n = seed("enter_mmap", buf, sizeof(buf));
	struct trace_record r;
	assert_true(trace_decode(&ids, buf, n, &r));
	assert_true(r.enter);
	assert_int_equal(r.call, TRACE_MMAP);
	assert_int_equal(r.pid, 100);
	assert_int_equal(r.tid, 101);
	assert_int_equal(r.time, 5);
	assert_int_equal(r.args[1], 65536);
	assert_int_equal(r.args[4], 3);
	assert_true(r.have_regs);
	/* perf's order is ax bx cx dx si di bp sp ip r8..r15 (the seed's
	 * values 0..16); DWARF's is ax dx cx bx si di bp sp r8..r15 ip. */
	assert_int_equal(r.regs[0], 0);
	assert_int_equal(r.regs[1], 3);
	assert_int_equal(r.regs[3], 1);
	assert_int_equal(r.regs[TRACE_REG_SP], 7);
	assert_int_equal(r.regs[8], 9);
	assert_int_equal(r.regs[TRACE_REG_IP], 8);
	assert_int_equal(r.stack_size, 512);
	assert_int_equal(r.stack[0], 0);
	assert_int_equal(r.stack[511], 255);
	/* Every byte short of the whole is refused or decoded within it. */
	for (size_t cut = 0; cut < n; cut++) {
		if (trace_decode(&ids, buf, cut, &r))
			assert_true(!r.stack || r.stack + r.stack_size <= buf + cut);
	}
}

static void test_exit_and_unknown(void **state)
{
	uint8_t buf[4096];
	size_t n = seed("exit_mmap", buf, sizeof(buf));
	struct trace_record r;
	assert_true(trace_decode(&ids, buf, n, &r));
	assert_false(r.enter);
	assert_int_equal(r.call, TRACE_MMAP);
	assert_int_equal((uint64_t)r.ret, 0x7f0000000000ULL);
	assert_false(r.have_regs);
	/* A tracepoint that is none of ours. */
	struct trace_ids other = ids;
	other.exit[TRACE_MMAP] = 99;
	assert_false(trace_decode(&other, buf, n, &r));
}

static void test_enter_without_stack(void **state)
{
	uint8_t buf[4096];
	size_t n = seed("enter_brk_nostack", buf, sizeof(buf));
	struct trace_record r;
	assert_true(trace_decode(&ids, buf, n, &r));
	assert_int_equal(r.call, TRACE_BRK);
	assert_true(r.have_regs);
	assert_null(r.stack);
	assert_int_equal(r.stack_size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enter_with_registers_and_stack),
		cmocka_unit_test(test_exit_and_unknown),
		cmocka_unit_test(test_enter_without_stack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
