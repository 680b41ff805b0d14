/*
 * fuzz_heapstore.c - heap censuses read back from a damaged or hostile
 * recording: a valid census is stored (heapstore_save) in an in-memory
 * database, the input is a program of edits to its rows (each 6 bytes
 * pick a table, a row, a column and a value of any type, or delete the
 * row), and heapstore_list / heapstore_load must then give either an
 * error (MT_ERR_BADFILE for a damaged row) or a census that holds
 * together: each arena's in_use + free + overhead = system, no class with
 * more leaked than counted, names NUL-free; leak groups (heap_leak_group)
 * with no more unreferenced than counted, at most LEAKS_EXAMPLES examples.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "memtop/heapstore.h"

static const struct {
	const char *name;
	const char *key;
	const char *cols[16];
} tables[] = {
	{ "heap_census", "rowid", { "id", "session", "sample", "time", "stopped_ms", "in_use",
				    "free", "mmapped", "chunks_in_use", "leaks", "leaked",
				    "walk_errors", NULL } },
	{ "heap_arena", "census, idx", { "census", "idx", "main", "start", "heaps",
					 "system", "overhead", "in_use", "free", "top",
					 "trimmable", NULL } },
	{ "heap_class", "census, idx", { "census", "idx", "name", "size", "count", "bytes",
					 "leaked", "leaked_bytes", NULL } },
	{ "heap_census_more", "census", { "census", "not_stopped", "seconds", "walk_seconds",
					  "tcaches", "leak_seconds", "threads", NULL } },
	{ "heap_leak_group", "census, idx", { "census", "idx", "name", "size", "count",
					      "unreferenced", "e0", "e1", "e4", NULL } },
	{ "heap_shared", "census, idx", { "census", "idx", "chunk", "class", "holders_total",
					  NULL } },
	{ "heap_shared_holder", "census, shared, idx", { "census", "shared", "idx", "addr",
							 "class", "offset", NULL } },
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static void make_census(struct census *c)
{
	static struct census_arena arenas[2] = {
		{ .main = true, .start = 0x555500000000, .n_heaps = 1, .system = 4096 * 33,
		  .overhead = 0, .in_use = 4096 * 30, .free = 4096 * 3, .top = 4096 },
		{ .main = false, .start = 0x7f0000000030, .n_heaps = 2, .system = 4096 * 10,
		  .overhead = 2256, .in_use = 4096 * 9, .free = 4096 - 2256 },
	};
	static struct census_class classes[3] = {
		{ .name = "Widget", .count = 30, .bytes = 720, .leaked = 3 },
		{ .name = NULL, .size = 24, .count = 100, .bytes = 2400 },
		{ .name = "ns::Node<int>", .count = 5, .bytes = 200, .leaked = 5 },
	};
	census_init(c);
	c->arenas = arenas;
	c->n_arenas = 2;
	c->classes = classes;
	c->n_classes = 3;
	c->in_use_bytes = 4096 * 39;
	c->chunks_in_use = 135;
}

static void bind_value(sqlite3_stmt *st, const uint8_t *op)
{
	static const int64_t big[] = { INT64_MIN, INT64_MAX, -1, 0, 1ll << 47, 4096 * 33 };
	static const char *const text[] = { "", "x", "\xff\xfe", "Widget", "-1" };
	static const double real[] = { -1.5, 1e300, -0.0, 3.0 };
	switch (op[3] % 6) {
	case 0: sqlite3_bind_null(st, 1); break;
	case 1: sqlite3_bind_int64(st, 1, (int16_t)(op[4] | op[5] << 8)); break;
	case 2: sqlite3_bind_int64(st, 1, big[op[4] % 6]); break;
	case 3: sqlite3_bind_text(st, 1, text[op[4] % 5], -1, SQLITE_STATIC); break;
	case 4: sqlite3_bind_double(st, 1, real[op[4] % 4]); break;
	default: sqlite3_bind_blob(st, 1, "\0\xff", 2, SQLITE_STATIC); break;
	}
}

static void apply_edit(sqlite3 *db, const uint8_t *op)
{
	size_t t = op[0] % N_TABLES, n = 0;
	while (tables[t].cols[n])
		n++;
	char sql[384];
	sqlite3_stmt *st;
	if (op[3] % 8 == 7)
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE (%s) = (SELECT %s FROM %s"
			 " LIMIT 1 OFFSET %d)", tables[t].name, tables[t].key, tables[t].key,
			 tables[t].name, op[1] % 4);
	else
		snprintf(sql, sizeof(sql), "UPDATE %s SET \"%s\" = ?1 WHERE (%s) = (SELECT %s"
			 " FROM %s LIMIT 1 OFFSET %d)", tables[t].name, tables[t].cols[op[2] % n],
			 tables[t].key, tables[t].key, tables[t].name, op[1] % 4);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	if (op[3] % 8 != 7)
		bind_value(st, op);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void check(const struct heapstore_census *hc)
{
	const struct census *c = &hc->c;
	for (size_t i = 0; i < c->n_arenas; i++) {
		const struct census_arena *a = &c->arenas[i];
		if (a->in_use + a->free + a->overhead != a->system)
			abort();
	}
	for (size_t i = 0; i < c->n_classes; i++) {
		const struct census_class *k = &c->classes[i];
		if (k->leaked > k->count || (k->name && memchr(k->name, 0, strlen(k->name))))
			abort();
	}
	for (size_t i = 0; i < hc->n_groups; i++) {
		const struct leaks_group *g = &hc->groups[i];
		if (g->unreferenced > g->count || g->count > hc->leaked ||
		    g->n_examples > LEAKS_EXAMPLES ||
		    (g->name && memchr(g->name, 0, strlen(g->name))))
			abort();
	}
	if (hc->seconds < 0 || hc->leak_seconds < 0 || hc->n_shared > LEAKS_SHARED_MAX)
		abort();
	for (size_t i = 0; i < hc->n_shared; i++) {
		const struct leaks_shared *sh = &hc->shared[i];
		if (sh->n_holders > LEAKS_HOLDERS_MAX || sh->n_holders > sh->holders_total ||
		    (sh->cls != CENSUS_UNNAMED && sh->cls >= c->n_names))
			abort();
		for (size_t k = 0; k < sh->n_holders; k++) {
			uint32_t cls = sh->holders[k].cls;
			if (cls != CENSUS_UNNAMED && cls >= c->n_names)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sqlite3 *db;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		abort();
	struct census c;
	make_census(&c);
	struct leaks l;
	leaks_init(&l);
	l.count = 8;
	struct leaks_group groups[2] = {
		{ .name = "Widget", .count = 3, .bytes = 72, .unreferenced = 1,
		  .examples = { 0x555500001000, 0x555500002000, 0x555500003000 }, .n_examples = 3 },
		{ .name = NULL, .size = 40, .count = 5, .bytes = 200, .unreferenced = 5,
		  .examples = { 1, 2, 3, 4, 5 }, .n_examples = 5 },
	};
	l.groups = groups;
	l.n_groups = 2;
	struct leaks_shared shared[2] = {
		{ .chunk = 0x555500004000, .cls = 0, .n_holders = 2, .holders_total = 3,
		  .holders = { { 0x555500005000, 0, 8 }, { 0x555500006000, 0, 8 } } },
		{ .chunk = 0x555500007000, .cls = CENSUS_UNNAMED, .n_holders = 1,
		  .holders_total = 1, .holders = { { 0x555500008000, 2, 16 } } },
	};
	l.shared = shared;
	l.n_shared = 2;
	l.shared_total = 2;
	struct record_heap rh = { &c, &l, 1.7e9, 12.5, 1, 0.25 };
	int64_t id;
	if (heapstore_save(db, 1, 1, &rh, &id) || heapstore_save(db, 1, 2, &rh, &id))
		abort();
	for (size_t i = 0; i + 6 <= size && i < 16 * 6; i += 6)
		apply_edit(db, data + i);
	struct heapstore_info *v;
	size_t n;
	struct mt_error err;
	mt_error_clear(&err);
	if (heapstore_list(db, 1, &v, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct heapstore_census hc;
			if (heapstore_load(db, v[i].id, &hc, &err) == 0) {
				check(&hc);
				heapstore_census_free(&hc);
			} else if (err.kind != MT_ERR_BADFILE && err.kind != MT_ERR_OTHER) {
				abort();
			}
		}
		free(v);
	}
	sqlite3_close(db);
	return 0;
}
