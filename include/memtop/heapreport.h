/*
 * heapreport.h - `memtop -p PID --heap [--leaks] [--json]`: one census of
 * the target's heap (and its leaks), the target frozen once, printed as
 * text or one JSON object (docs/heap.md, docs/json.md).
 */
#ifndef MEMTOP_HEAPREPORT_H
#define MEMTOP_HEAPREPORT_H

#include <stdio.h>

#include "memtop/census.h"
#include "memtop/error.h"
#include "memtop/leaks.h"
#include "memtop/options.h"

/* Freeze, census (and leaks), release, print.  Returns an exit code;
 * on failure err says why. */
int heap_report(FILE *out, const struct mt_options *opt, struct mt_error *err);

#endif
