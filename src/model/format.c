/*
 * format.c - human-readable sizes and durations.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "memtop/format.h"

static char *size_str(char *out, size_t n, uint64_t bytes, bool column);

char *format_size(char *out, size_t n, uint64_t bytes)
{
	return size_str(out, n, bytes, false);
}

char *format_size_col(char *out, size_t n, uint64_t bytes)
{
	return size_str(out, n, bytes, true);
}

static char *size_str(char *out, size_t n, uint64_t bytes, bool column)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;
	uint64_t whole = bytes;

	while (whole >= 1024 && u < 6) {
		whole /= 1024;
		u++;
	}
	if (u == 0 || (bytes % ((uint64_t)1 << (10 * u)) == 0 && (!column || whole >= 100))) {
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

static char *delta_str(char *out, size_t n, int64_t bytes, bool column)
{
	if (bytes == 0) {
		snprintf(out, n, "0");
		return out;
	}
	uint64_t mag = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
	char buf[32];
	size_str(buf, sizeof(buf), mag, column);
	snprintf(out, n, "%c%s", bytes < 0 ? '-' : '+', buf);
	return out;
}

char *format_delta_size(char *out, size_t n, int64_t bytes)
{
	return delta_str(out, n, bytes, false);
}

char *format_delta_size_col(char *out, size_t n, int64_t bytes)
{
	return delta_str(out, n, bytes, true);
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

/* "HH:MM[:SS]" at *text, all of it: 0 or -1. */
static int parse_clock(const char *text, struct tm *tm)
{
	int h, m, sec = 0, n = 0;
	if (sscanf(text, "%2d:%2d%n", &h, &m, &n) != 2 || n == 0)
		return -1;
	if (text[n] == ':') {
		int k = 0;
		if (sscanf(text + n + 1, "%2d%n", &sec, &k) != 1 || k != 2)
			return -1;
		n += 1 + k;
	}
	if (text[n] || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
		return -1;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = sec;
	return 0;
}

int format_parse_when(const char *text, double ref, double *out)
{
	struct tm tm;
	time_t r = (time_t)ref;
	int y, mo, d, n = 0;
	if (!localtime_r(&r, &tm))
		return -1;
	while (*text == ' ')
		text++;
	if (sscanf(text, "%4d-%2d-%2d %n", &y, &mo, &d, &n) == 3 && n > 0) {
		if (mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		text += n;
	}
	if (parse_clock(text, &tm))
		return -1;
	tm.tm_isdst = -1; /* let mktime decide, as the clock on the wall did */
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (double)t;
	return 0;
}
