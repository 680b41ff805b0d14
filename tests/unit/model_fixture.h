/*
 * model_fixture.h - snapshots for the model's unit tests, parsed from maps
 * text with the real parser: files in tests/data/model/ or inline text.
 */
#ifndef MEMTOP_TEST_MODEL_FIXTURE_H
#define MEMTOP_TEST_MODEL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/maps.h"
#include "memtop/snapshot.h"

#define FIXTURE_PID 4242

/* A snapshot of FIXTURE_PID at monotonic time mono from maps text. */
static inline void fixture_text(struct mt_snapshot *s, const char *text, double mono)
{
	size_t bad = 0;
	snapshot_init(s);
	s->pid = FIXTURE_PID;
	s->mono = mono;
	s->time = 1.7e9 + mono;
	s->max_map_count = 65530;
	s->mmap_min_addr = 65536;
	assert_int_equal(maps_parse(s, text, strlen(text), &bad), 0);
	assert_int_equal(bad, 0);
}

static inline void fixture_file(struct mt_snapshot *s, const char *name, double mono)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/model/%s", MT_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_true(n < sizeof(buf) - 1);
	fclose(f);
	buf[n] = '\0';
	fixture_text(s, buf, mono);
}

/* Threads of the snapshot: tids and stack pointers (0 = unknown). */
static inline void fixture_threads(struct mt_snapshot *s, size_t n, const int *tids,
				   const uint64_t *sps)
{
	free(s->threads);
	s->threads = calloc(n, sizeof(*s->threads));
	assert_non_null(s->threads);
	s->n_threads = n;
	for (size_t i = 0; i < n; i++) {
		s->threads[i].tid = tids[i];
		s->threads[i].sp = sps[i];
		s->threads[i].stack_region = -2; /* must be overwritten */
	}
}

/* Index of the region starting at addr; fails the test if none. */
static inline size_t fixture_at(const struct mt_snapshot *s, uint64_t addr)
{
	long i = snapshot_find(s, addr);
	assert_true(i >= 0);
	assert_int_equal(s->regions[i].start, addr);
	return (size_t)i;
}

#endif
