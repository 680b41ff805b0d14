/*
 * format.h - human-readable figures shared by the text printer and the TUI.
 */
#ifndef MEMTOP_FORMAT_H
#define MEMTOP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes in IEC units: "0 B", "4 KiB", "256 KiB", "1.5 GiB", "127.9 TiB".
 * Exact multiples print without decimals so "256 KiB" buckets read well.
 * Returns out. */
char *format_size(char *out, size_t n, uint64_t bytes);
/* Signed change: "+8", "-1.2 MiB", "0". */
char *format_delta_size(char *out, size_t n, int64_t bytes);
/* The same for a column of figures, with one precision rule so that
 * figures beside each other compare at a glance: below 100 of a unit
 * one decimal, exact or not ("3.0 MiB" beside "4.2 MiB", never "3 MiB"). */
char *format_size_col(char *out, size_t n, uint64_t bytes);
char *format_delta_size_col(char *out, size_t n, int64_t bytes);
/* Duration: "45s", "12m05s", "3h12m", "4d07h". Negative → "-". */
char *format_duration(char *out, size_t n, double seconds);
/*
 * A time the user typed, in local time, as epoch seconds: "HH:MM" or
 * "HH:MM:SS" on the local day of ref (epoch seconds), or
 * "YYYY-MM-DD HH:MM[:SS]".  0, or -1 when text is none of these.
 */
int format_parse_when(const char *text, double ref, double *out);

#endif
