/*
 * recording_fixture.h - a small recording made without a process: four
 * snapshots parsed from maps text (regions born, dying, growing, resident
 * sizes changing, a thread changing state, the process renamed) and one
 * stored scan, written through the real recorder.  The unit tests
 * compare its replay with the snapshots; the reader's fuzz target
 * damages it.  Failures abort: it serves both.
 */
#ifndef MEMTOP_TEST_RECORDING_FIXTURE_H
#define MEMTOP_TEST_RECORDING_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/maps.h"
#include "memtop/model.h"
#include "memtop/record.h"
#include "memtop/snapshot.h"

#define RECFIX_SAMPLES 4
#define RECFIX_PID 4242

static const char *const recfix_maps[RECFIX_SAMPLES] = {
	"555555554000-555555556000 r--p 00000000 08:01 131 /usr/bin/svc\n"
	"555555556000-55555555a000 r-xp 00002000 08:01 131 /usr/bin/svc\n"
	"55555555b000-55555557c000 rw-p 00000000 00:00 0 [heap]\n"
	"7f0000000000-7f0000040000 r--s 00000000 08:01 77 /data/msg\\012s.dat\n"
	"7f0000100000-7f0000101000 ---p 00000000 00:00 0\n"
	"7f0000101000-7f0000901000 rw-p 00000000 00:00 0\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n",

	"555555554000-555555556000 r--p 00000000 08:01 131 /usr/bin/svc\n"
	"555555556000-55555555a000 r-xp 00002000 08:01 131 /usr/bin/svc\n"
	"55555555b000-55555559c000 rw-p 00000000 00:00 0 [heap]\n"
	"7f0000000000-7f0000040000 r--s 00000000 08:01 77 /data/msg\\012s.dat\n"
	"7f0000040000-7f0000080000 r--s 00040000 08:01 77 /data/msg\\012s.dat\n"
	"7f0000100000-7f0000101000 ---p 00000000 00:00 0\n"
	"7f0000101000-7f0000901000 rw-p 00000000 00:00 0\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n",

	"555555554000-555555556000 r--p 00000000 08:01 131 /usr/bin/svc\n"
	"555555556000-55555555a000 r-xp 00002000 08:01 131 /usr/bin/svc\n"
	"55555555b000-55555559c000 rw-p 00000000 00:00 0 [heap]\n"
	"7f0000000000-7f0000040000 r--s 00000000 08:01 77 /data/msg\\012s.dat\n"
	"7f0000040000-7f0000080000 r--s 00040000 08:01 77 /data/msg\\012s.dat\n"
	"7f0000080000-7f00000c0000 r--s 00080000 08:01 77 /data/msg\\012s.dat (deleted)\n"
	"7f0000101000-7f0000901000 rw-p 00000000 00:00 0\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n",

	"555555554000-555555556000 r--p 00000000 08:01 131 /usr/bin/svc\n"
	"555555556000-55555555a000 r-xp 00002000 08:01 131 /usr/bin/svc\n"
	"55555555b000-55555559c000 rw-p 00000000 00:00 0 [heap]\n"
	"7f0000040000-7f0000080000 r--s 00040000 08:01 77 /data/msg\\012s.dat\n"
	"7f0000080000-7f00000c0000 r--s 00080000 08:01 77 /data/msg\\012s.dat (deleted)\n"
	"7f0000101000-7f0000901000 rw-p 00000000 00:00 0\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n",
};

static inline void recfix_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "recording fixture: %s\n", what);
		abort();
	}
}

/* Snapshot i: the maps above, resident sizes that change with i (the
 * first sample has none measured), two threads, the process facts. */
static inline void recfix_snapshot(struct mt_snapshot *s, int i)
{
	size_t bad = 0;
	const char *text = recfix_maps[i];
	snapshot_reset(s);
	recfix_check(maps_parse(s, text, strlen(text), &bad) == 0 && bad == 0, "maps");
	s->pid = RECFIX_PID;
	s->mono = 1000.0 + i * 1.5;
	s->time = 1.7e9 + i * 1.5;
	s->max_map_count = 65530;
	s->rlimit_as = i == 3 ? (uint64_t)1 << 40 : UINT64_MAX;
	s->mmap_min_addr = 65536;
	s->page_size = 4096;
	s->have_rss = i > 0;
	s->rss_time = i > 0 ? s->mono - 0.25 : 0;
	for (size_t k = 0; k < s->n_regions && i > 0; k++) {
		struct mt_region *r = &s->regions[k];
		r->rss = r->pss = (k == 2 ? (uint64_t)i * 8192 : 4096);
		r->swap = r->private_dirty = r->shared_dirty = r->anon_huge = r->locked = 0;
		if (k == 5 && i == 2)
			r->swap = MT_UNKNOWN; /* a figure smaps did not give */
	}
	snprintf(s->info.comm, sizeof(s->info.comm), "%s", i < 2 ? "svc" : "svc-worker");
	snprintf(s->info.cmdline, sizeof(s->info.cmdline), "/usr/bin/svc --port 80");
	snprintf(s->info.user, sizeof(s->info.user), "daemon");
	s->info.state = i == 2 ? 'R' : 'S';
	s->info.threads = 2;
	s->info.rss = 1u << 20;
	s->info.vsz = 12u << 20;
	s->info.start_time = 1.7e9 - 60;
	s->info.uptime = 60 + i * 1.5;
	free(s->threads);
	s->threads = calloc(2, sizeof(*s->threads));
	recfix_check(s->threads != NULL, "out of memory");
	s->n_threads = 2;
	s->threads[0] = (struct mt_thread){ .tid = RECFIX_PID, .name = "svc", .state = 'S',
					     .sp = 0x7ffffffef000, .stack_region = -1 };
	s->threads[1] = (struct mt_thread){ .tid = RECFIX_PID + 1, .name = "worker",
					     .state = i == 1 ? 'R' : 'S',
					     .sp = i == 1 ? 0 : 0x7f0000900000, .stack_region = -1 };
}

/*
 * A scan into the mapped file's first window, held by a heap object of a
 * C++ class and by a frame of the main thread, on the snapshot s.
 */
static inline void recfix_scan(struct mt_recorder *rec, const struct mt_snapshot *s)
{
	static char cls[] = "Session", sym[] = "g_cache", mod[] = "/usr/bin/svc",
		    fn[] = "serve(Conn&)", err[] = "heap 0x55555555b000: walk stopped at "
						 "0x55555555c000 (corrupt chunk)";
	struct scan_ref refs[3];
	struct scan_group groups[3];
	struct unwind_frame frames[2] = {
		{ .ip = 0x555555557000, .sp = 0x7ffffffef000, .func = "serve(Conn&)",
		  .func_offset = 0x20 },
		{ .ip = 0x555555557800, .sp = 0x7fffffff0000, .func = "main", .func_offset = 8 },
	};
	struct unwind_stack stack = { .tid = RECFIX_PID, .frames = frames, .n = 2 };
	char *errs[1] = { err };
	memset(refs, 0, sizeof(refs));
	refs[0] = (struct scan_ref){ .addr = 0x555555556100, .value = 0x7f0000000010,
				     .region = 1, .region_offset = 0x100,
				     .holder = SCAN_HOLDER_GLOBAL, .symbol = sym,
				     .symbol_offset = 8, .module = mod, .frame_index = -1 };
	refs[1] = (struct scan_ref){ .addr = 0x55555555b020, .value = 0x7f0000000000,
				     .region = 2, .region_offset = 0x20,
				     .holder = SCAN_HOLDER_HEAP, .has_object = true,
				     .object = { .chunk = 0x55555555b010, .user = 0x55555555b020,
						 .size = 40, .chunk_size = 48, .in_use = true },
				     .class_name = cls, .frame_index = -1 };
	refs[2] = (struct scan_ref){ .addr = 0x7ffffffef010, .value = 0x7f0000000008,
				     .region = (long)s->n_regions - 1, .region_offset = 0x11010,
				     .holder = SCAN_HOLDER_STACK, .tid = RECFIX_PID,
				     .frame_index = 0, .frame = fn, .frame_offset = 0x20 };
	for (size_t g = 0; g < 3; g++)
		groups[g] = (struct scan_group){ .region = refs[g].region, .first = g, .n = 1 };
	struct scan_result res = {
		.lo = 0x7f0000000000, .hi = 0x7f0000040000, .refs = refs, .n_refs = 3,
		.groups = groups, .n_groups = 3, .refs_total = 3, .internal = 2,
		.scanned_bytes = 9 << 20, .absent_bytes = 4 << 20, .scanned_regions = 5,
		.excluded_regions = 2, .skipped_regions = 0, .seconds = 0.012,
		.stacks = &stack, .n_stacks = 1, .walk_errors = errs, .n_walk_errors = 1,
	};
	struct record_scan sc = {
		.lo = res.lo, .hi = res.hi, .label = "msg\ns.dat", .frozen = true,
		.stopped_ms = 3.5, .not_stopped = 0, .taken = s->time + 0.5, .res = &res,
		.snap = s, .parent = 0,
	};
	struct mt_error e;
	int64_t id = 0;
	recfix_check(record_scan(rec, &sc, &id, &e) == 0 && id > 0, "record_scan");
}

/*
 * Record the four samples (and, after the second, the scan) into path as
 * a new session.  snaps, when not NULL, receives copies of the snapshots
 * as the model left them (classified), for comparison.
 */
static inline void recfix_record(const char *path, struct mt_snapshot *snaps)
{
	struct mt_recorder *rec;
	struct mt_snapshot s[2];
	struct mt_model m;
	struct mt_error e;
	recfix_check(record_open(&rec, path, 1.5, &e) == 0, "record_open");
	snapshot_init(&s[0]);
	snapshot_init(&s[1]);
	model_init(&m);
	for (int i = 0; i < RECFIX_SAMPLES; i++) {
		struct mt_snapshot *cur = &s[i & 1];
		recfix_snapshot(cur, i);
		recfix_check(model_update(&m, i ? &s[!(i & 1)] : NULL, cur) == 0, "model_update");
		recfix_check(record_sample(rec, &m, cur, &e) == 0, "record_sample");
		if (snaps)
			recfix_check(snapshot_copy(&snaps[i], cur) == 0, "snapshot_copy");
		if (i == 1)
			recfix_scan(rec, cur);
	}
	record_close(rec);
	model_free(&m);
	snapshot_free(&s[0]);
	snapshot_free(&s[1]);
}

#endif
