/*
 * frozen.c - frozen work (frozen.h): warm, freeze, read, work, release.
 *
 * The symbol tables are read before the freeze because reading them is
 * the slow part (files, DWARF, demangling): in the freeze they are found
 * in the cache by build id.  freeze_end is on the one path out of
 * frozen_run, so no error of the work or of the maps keeps the target.
 */
#include <string.h>

#include "memtop/classify.h"
#include "memtop/frozen.h"
#include "memtop/proc.h"

int frozen_stop_requested(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)done;
	(void)total;
	return freeze_signal_pending();
}

/* The maps, classified: memtop needs no resident sizes to scan. */
static int read_maps(const struct frozen_job *job, struct mt_error *err)
{
	if (!job->proc)
		return 0;
	if (proc_read(job->proc, job->snap, PROC_READ_RSS_NEVER, err) < 0)
		return -1;
	classify_run(job->snap);
	return 0;
}

int frozen_run(const struct frozen_job *job, struct frozen_stats *stats,
	       struct mt_error *err)
{
	struct freeze fz;
	struct symbols_map map;
	int rc;

	memset(&fz, 0, sizeof(fz));
	memset(&map, 0, sizeof(map));
	memset(stats, 0, sizeof(*stats));
	if (read_maps(job, err) < 0)
		return -1;
	symbols_map_build(&map, job->symbols, job->snap, job->pid);
	rc = job->no_freeze ? 0 : freeze_begin(&fz, job->pid, 0, err);
	if (rc == 0)
		rc = read_maps(job, err);
	if (rc == 0) {
		struct frozen f = {
			.pid = job->pid,
			.freeze = job->no_freeze ? NULL : &fz,
			.snap = job->snap,
			.map = &map,
			.symbols = job->symbols,
		};
		rc = job->work(job->arg, &f, err);
	}
	freeze_end(&fz); /* at once, whatever happened */
	symbols_map_free(&map);
	stats->frozen = !job->no_freeze;
	stats->stopped_ms = fz.stopped_ms;
	stats->not_stopped = fz.not_stopped;
	return rc < 0 ? -1 : 0;
}

struct scan_work {
	const struct frozen_scan_options *o;
	struct scan_result *res;
	struct frozen_scan_info *info;
};

static int scan_work(void *arg, const struct frozen *f, struct mt_error *err)
{
	struct scan_work *w = arg;
	struct scan_options so = {
		.freeze = f->freeze,
		.symbols = f->symbols,
		.progress = w->o->progress ? w->o->progress : frozen_stop_requested,
		.progress_arg = w->o->progress_arg,
	};
	if (scan_resolve_spec(f->snap, &w->o->spec, &w->info->lo, &w->info->hi,
			      &w->info->region, err) < 0)
		return -1;
	return scan_run(f->snap, w->info->lo, w->info->hi, &so, w->res, err);
}

int frozen_scan(const struct frozen_scan_options *o, struct mt_snapshot *snap,
		struct scan_result *res, struct frozen_scan_info *info, struct mt_error *err)
{
	struct scan_work w = { .o = o, .res = res, .info = info };
	struct frozen_job job = {
		.pid = o->pid,
		.no_freeze = o->no_freeze,
		.symbols = o->symbols,
		.proc = o->proc,
		.snap = snap,
		.work = scan_work,
		.arg = &w,
	};
	memset(info, 0, sizeof(*info));
	info->region = -1;
	return frozen_run(&job, &info->stats, err);
}
