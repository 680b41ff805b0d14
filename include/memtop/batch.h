/*
 * batch.h - the batch printer: one report per refresh, as text in the
 * spirit of `top -b` or as one JSON object per line (docs/json.md).
 */
#ifndef MEMTOP_BATCH_H
#define MEMTOP_BATCH_H

#include <stdbool.h>
#include <stdio.h>

#include "memtop/model.h"
#include "memtop/snapshot.h"
#include "memtop/traced.h"

struct batch_options {
	bool json;
	bool regions;     /* list every region */
	size_t max_files; /* text mode: files listed (JSON lists all) */
	const struct mt_traced *traced; /* --trace given: events, stacks, origins */
};

void batch_print_text(FILE *out, const struct mt_model *m,
		      const struct mt_snapshot *s, const struct batch_options *o);
void batch_print_json(FILE *out, const struct mt_model *m,
		      const struct mt_snapshot *s, const struct batch_options *o);

#endif
