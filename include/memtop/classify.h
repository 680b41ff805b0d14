/*
 * classify.h - assign each region its category (docs/categories.md).
 */
#ifndef MEMTOP_CLASSIFY_H
#define MEMTOP_CLASSIFY_H

#include "memtop/snapshot.h"

/*
 * Set category (and tid for stacks) of every region of s.  Uses the
 * threads' stack pointers in s->threads and sets their stack_region.
 * Pure: looks at nothing but s.
 */
void classify_run(struct mt_snapshot *s);

#endif
