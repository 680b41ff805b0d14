/*
 * escape.c - untrusted bytes in text output (include/memtop/escape.h).
 */
#include "memtop/escape.h"

void escape_bytes(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}
