/*
 * clock.h - clocks as seconds in a double: rates, ages and timings all
 * want subtraction and division, not struct timespec arithmetic.
 */
#ifndef MEMTOP_CLOCK_H
#define MEMTOP_CLOCK_H

#include <errno.h>
#include <time.h>

static inline double clock_seconds(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CLOCK_MONOTONIC: for intervals, rates and timeouts. */
static inline double clock_mono(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

/* Sleep secs (>= 0) in all, signals or not. */
static inline void clock_sleep(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#endif
