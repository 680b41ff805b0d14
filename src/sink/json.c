/*
 * json.c - the streaming JSON writer (include/memtop/json.h).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "memtop/json.h"
#include "memtop/region.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
}

/* Comma and key before a value. */
static void json_member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key) {
		json_write_bytes(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

static void json_open(struct json *j, const char *key, char c)
{
	json_member(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_object_begin(struct json *j, const char *key) { json_open(j, key, '{'); }
void json_object_end(struct json *j) { json_close(j, '}'); }
void json_array_begin(struct json *j, const char *key) { json_open(j, key, '['); }
void json_array_end(struct json *j) { json_close(j, ']'); }

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	json_member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void json_double(struct json *j, const char *key, double v, int decimals)
{
	json_member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->f);
}

void json_addr(struct json *j, const char *key, uint64_t addr)
{
	json_member(j, key);
	fprintf(j->f, "\"0x%" PRIx64 "\"", addr);
}

void json_size(struct json *j, const char *key, uint64_t v)
{
	if (v == MT_UNKNOWN)
		json_null(j, key);
	else
		json_u64(j, key, v);
}

void json_bytes(struct json *j, const char *key, const char *s, size_t len)
{
	json_member(j, key);
	json_write_bytes(j->f, s, len);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_bytes(j, key, s, strlen(s));
}

void json_str_or_null(struct json *j, const char *key, const char *s)
{
	if (s)
		json_str(j, key, s);
	else
		json_null(j, key);
}

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), or 0 if
 * the bytes there are not one.  Overlong forms, surrogates and code
 * points past U+10FFFF are invalid (RFC 3629), so they get escaped as
 * bytes and survive the round trip.
 */
static size_t utf8_valid_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Write a code point >= 0x80 as \uXXXX, or a surrogate pair. */
static void json_write_codepoint(FILE *f, uint32_t cp)
{
	if (cp >= 0x10000) {
		cp -= 0x10000;
		fprintf(f, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
	} else {
		fprintf(f, "\\u%04x", cp);
	}
}

static uint32_t utf8_decode(const unsigned char *s, size_t n)
{
	static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t cp = s[0] & lead_mask[n];
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

void json_write_bytes(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = utf8_valid_len(s + i, len - i);

		if (n == 0) {
			fprintf(f, "\\udc%02x", c);
			i++;
			continue;
		}
		if (n > 1) {
			json_write_codepoint(f, utf8_decode(s + i, n));
		} else if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
		i += n;
	}
	fputc('"', f);
}
