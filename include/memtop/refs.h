/*
 * refs.h - "who holds pointers into this region": the batch form of the
 * drill-down (`memtop -p PID --refs TARGET [--json]`).
 */
#ifndef MEMTOP_REFS_H
#define MEMTOP_REFS_H

#include <stdio.h>

#include "memtop/error.h"
#include "memtop/options.h"

/*
 * Scan opt->pid for references into opt->refs and print them to out,
 * as text or (opt->json) as one JSON object (docs/json.md).  Returns 0,
 * or -1 with err saying why (its kind: what main turns into the exit status).
 */
int refs_report(FILE *out, const struct mt_options *opt, struct mt_error *err);

#endif
