/*
 * origin_print.h - what --trace adds to the batch reports (docs/json.md,
 * docs/trace.md): exact events with their stacks, the origins of each
 * file's live mappings, the tracer's state.
 */
#ifndef MEMTOP_ORIGIN_PRINT_H
#define MEMTOP_ORIGIN_PRINT_H

#include <stdio.h>

#include "memtop/growth.h"
#include "memtop/json.h"
#include "memtop/snapshot.h"
#include "memtop/traced.h"

/* "stack": [frames] or null. */
void origin_print_json_stack(struct json *j, const char *key, const struct mt_traced *t,
			     long id);
/* "events": the traced events (t may be NULL), then the diff events none
 * of them explains. */
void origin_print_json_events(struct json *j, const struct mt_traced *t,
			      const struct mt_events *diff, const struct mt_snapshot *s);
/* "origins" of the backing (major, minor, inode; 0 for anonymous). */
void origin_print_json_origins(struct json *j, const char *key, const struct mt_traced *t,
			       uint32_t major, uint32_t minor, uint64_t inode);
/* "trace": the tracer's state and counters, or null. */
void origin_print_json_state(struct json *j, const struct mt_traced *t);

void origin_print_text_state(FILE *out, const struct mt_traced *t);
void origin_print_text_events(FILE *out, const struct mt_traced *t,
			      const struct mt_events *diff, const struct mt_snapshot *s);
/* Up to max origins of a backing, one line each, indented. */
void origin_print_text_origins(FILE *out, const struct mt_traced *t, uint32_t major,
			       uint32_t minor, uint64_t inode, size_t max);

#endif
