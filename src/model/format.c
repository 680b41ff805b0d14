/*
 * format.c - human-readable sizes and durations.
 */
#include <inttypes.h>
#include <stdio.h>

#include "memtop/format.h"

char *format_size(char *out, size_t n, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;
	uint64_t whole = bytes;

	while (whole >= 1024 && u < 6) {
		whole /= 1024;
		u++;
	}
	if (u == 0 || bytes % ((uint64_t)1 << (10 * u)) == 0) {
		snprintf(out, n, "%" PRIu64 " %s", whole, unit[u]);
	} else {
		double v = (double)bytes / (double)((uint64_t)1 << (10 * u));
		/* "1024 KiB" would read as a bug: round up into the next unit. */
		if (v >= 1023.5 && u < 6) {
			v /= 1024;
			u++;
		}
		snprintf(out, n, v >= 99.95 ? "%.0f %s" : "%.1f %s", v, unit[u]);
	}
	return out;
}

char *format_delta_size(char *out, size_t n, int64_t bytes)
{
	if (bytes == 0) {
		snprintf(out, n, "0");
		return out;
	}
	uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
	char buf[32];
	format_size(buf, sizeof(buf), mag);
	snprintf(out, n, "%c%s", bytes < 0 ? '-' : '+', buf);
	return out;
}

char *format_duration(char *out, size_t n, double seconds)
{
	if (!(seconds >= 0)) {
		snprintf(out, n, "-");
		return out;
	}
	uint64_t s = (uint64_t)(seconds + 0.5);
	if (s < 60)
		snprintf(out, n, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(out, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
	return out;
}
