/*
 * fuzz_replay.c - the recording reader on any bytes: replay_open, every
 * sample through replay_next and the model, and every stored scan through
 * scanstore_load, checking that what reaches the model is what a live
 * source would give (regions sorted, apart, non-empty; names NUL-free)
 * and that a damaged file is an error with MT_EXIT_BADFILE, not a crash.
 *
 * SQLite reads files, not buffers, so each input is written to a file in
 * a private directory first (with its WAL and journal files removed, so
 * one input cannot leak into the next).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memtop/model.h"
#include "memtop/replay.h"
#include "memtop/scanstore.h"

static char dir[64];
static char path[96];

static void remove_files(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char p[128];
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		unlink(p);
	}
}

static void remove_dir(void)
{
	remove_files();
	rmdir(dir);
}

static int write_input(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/memtop-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/rec.db", dir);
		atexit(remove_dir);
	}
	remove_files();
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	return fclose(f);
}

static void check(const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (r->start >= r->end || strlen(r->path) != r->path_len)
			abort();
		if (i && s->regions[i - 1].end > r->start)
			abort();
	}
	for (size_t i = 1; i < s->n_threads; i++)
		if (s->threads[i - 1].tid >= s->threads[i].tid)
			abort();
}

static void check_scan(const struct scanstore_scan *sc)
{
	check(&sc->snap);
	for (size_t i = 0; i < sc->res.n_refs; i++)
		if (sc->res.refs[i].region < 0 ||
		    (size_t)sc->res.refs[i].region >= sc->snap.n_regions)
			abort();
	for (size_t g = 0; g < sc->res.n_groups; g++)
		if (sc->res.groups[g].first + sc->res.groups[g].n > sc->res.n_refs)
			abort();
}

static void replay_scans(struct mt_replay *r)
{
	struct scanstore_info *v = NULL;
	size_t n = 0;
	struct mt_error err;
	if (scanstore_list(replay_db(r), replay_session(r)->id, &v, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct scanstore_scan sc;
			if (scanstore_load(replay_db(r), v[i].id, &sc, &err) == 0)
				check_scan(&sc);
			else if (err.code == MT_EXIT_OK || !err.msg[0])
				abort();
			scanstore_scan_free(&sc);
		}
	}
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_replay *r;
	struct mt_error err;
	if (write_input(data, size))
		return 0;
	mt_error_clear(&err);
	if (replay_open(&r, path, 0, &err)) {
		if (err.code == MT_EXIT_OK || !err.msg[0])
			abort(); /* a failure must say why */
		return 0;
	}
	struct mt_snapshot snap[2];
	struct mt_model m;
	snapshot_init(&snap[0]);
	snapshot_init(&snap[1]);
	model_init(&m);
	int cur = 0, rc;
	size_t n = 0;
	while ((rc = replay_next(r, &snap[cur], &err)) == 0) {
		check(&snap[cur]);
		if (model_update(&m, n ? &snap[!cur] : NULL, &snap[cur]))
			break;
		cur = !cur;
		n++;
	}
	if (rc < 0 && (err.code == MT_EXIT_OK || !err.msg[0]))
		abort();
	if (rc > 0 && n != replay_count(r))
		abort();
	replay_scans(r);
	model_free(&m);
	snapshot_free(&snap[0]);
	snapshot_free(&snap[1]);
	replay_close(r);
	return 0;
}
