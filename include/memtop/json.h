/*
 * json.h - a small streaming JSON writer for memtop's machine output.
 *
 * Objects and arrays nest; every value call takes a key, which must be
 * NULL inside an array and non-NULL inside an object.  Commas are the
 * writer's business, so printers read as a list of fields.
 */
#ifndef MEMTOP_JSON_H
#define MEMTOP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
/* Non-finite numbers are written as null (JSON has no NaN). */
void json_double(struct json *j, const char *key, double v, int decimals);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* "0x7f..." */
void json_addr(struct json *j, const char *key, uint64_t addr);
/* A size, or null when it is MT_UNKNOWN (or UINT64_MAX for limits). */
void json_size(struct json *j, const char *key, uint64_t v);
/* Bytes as a string; see json_write_bytes. */
void json_bytes(struct json *j, const char *key, const char *s, size_t len);
void json_str(struct json *j, const char *key, const char *s);
/* s, or null when s is NULL. */
void json_str_or_null(struct json *j, const char *key, const char *s);

/*
 * Write bytes as a JSON string, quotes included: valid UTF-8 passes
 * through, `"` `\` and control characters get JSON escapes, and each byte
 * that is not part of valid UTF-8 is written as the lone surrogate
 * \udcXX (Python's surrogateescape), so the output is ASCII, valid JSON,
 * and the exact bytes can be recovered (docs/json.md).
 */
void json_write_bytes(FILE *f, const char *s, size_t len);

#endif
