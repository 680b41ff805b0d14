/*
 * freeze_hold.c - the testing hook of freeze.h, linked only into the test
 * build's memtop (memtop-test): MEMTOP_TEST_FREEZE_HOLD_MS=N holds the
 * target stopped N milliseconds (at most 600000) after every thread has
 * stopped, so that the tests can act during a freeze (docs/freeze.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "memtop/freeze.h"

void freeze_test_hold(void)
{
	const char *v = getenv("MEMTOP_TEST_FREEZE_HOLD_MS");
	if (!v || !*v)
		return;
	long ms = strtol(v, NULL, 10);
	if (ms <= 0 || ms > 600000)
		return;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
