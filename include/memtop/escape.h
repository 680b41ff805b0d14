/*
 * escape.h - writing untrusted bytes (file names, command lines) to text
 * output meant for terminals and line-oriented logs.
 */
#ifndef MEMTOP_ESCAPE_H
#define MEMTOP_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Control characters (a newline in a file name, an escape sequence) and
 * the backslash are written as \xNN, so one name stays on one line and
 * the escape is unambiguous; other bytes as they are. */
void escape_bytes(FILE *out, const char *s, size_t len);

#endif
