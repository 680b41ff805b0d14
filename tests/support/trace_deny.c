/*
 * trace_deny.c - the testing hook of trace.h, linked only into the test
 * build's memtop (memtop-test): MEMTOP_TEST_TRACE_ERRNO=N makes every
 * perf_event_open of --trace fail with errno N (13, EACCES: refused as an
 * unprivileged user is), so that the tests see the fallback as root.
 */
#include <stdlib.h>

#include "memtop/trace.h"

int trace_test_errno(void)
{
	const char *v = getenv("MEMTOP_TEST_TRACE_ERRNO");
	long e = v && *v ? strtol(v, NULL, 10) : 0;
	return e > 0 && e < 4096 ? (int)e : 0;
}
