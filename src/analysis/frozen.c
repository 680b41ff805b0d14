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
#include "memtop/clock.h"
#include "memtop/format.h"
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
	rc = job->admit && !job->no_freeze ? job->admit(job->arg, job->snap, err) : 0;
	if (rc != 0) {
		symbols_map_free(&map);
		return rc < 0 ? -1 : 1;
	}
	rc = job->no_freeze ? 0 : freeze_begin(&fz, job->pid, 0, err);
	if (job->freeze_out)
		*job->freeze_out = &fz;
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
	stats->not_stopped = fz.not_stopped + fz.not_seized;
	stats->n_unstopped = fz.n_unstopped;
	memcpy(stats->unstopped, fz.unstopped, sizeof(stats->unstopped));
	if (job->freeze_out)
		*job->freeze_out = NULL;
	return rc < 0 ? -1 : 0;
}

struct scan_work {
	const struct frozen_scan_options *o;
	struct scan_result *res;
	struct frozen_scan_info *info;
	const struct freeze *fz;
};

/* Before the freeze: refuse a scan predicted to stop the target longer
 * than max_stop_ms, ask before one longer than ask_above_ms. */
static int scan_admit(void *arg, const struct mt_snapshot *snap, struct mt_error *err)
{
	struct scan_work *w = arg;
	const struct frozen_scan_options *o = w->o;
	bool ask = o->confirm && o->ask_above_ms > 0;
	if (!o->max_stop_ms && !ask)
		return 0;
	struct scan_options so = { .scan_swapped = o->scan_swapped };
	struct scan_estimate e;
	if (scan_estimate(snap, &so, &e, err) < 0)
		return -1;
	char size[32];
	if (o->max_stop_ms && e.stop_ms > (double)o->max_stop_ms)
		return mt_error_set(err, MT_ERR_OTHER, 0,
				    "not scanning: reading %s of process %d would stop it for "
				    "about %.0f ms (%.1f GB/s per reader, %u readers), more than "
				    "--max-stop %ld ms.\nRaise --max-stop, or scan without "
				    "stopping it (--no-freeze: references may then be missed or "
				    "stale)", format_size(size, sizeof(size), e.bytes),
				    (int)snap->pid, e.stop_ms, e.rate / 1e9, e.threads,
				    o->max_stop_ms);
	if (ask && e.stop_ms > o->ask_above_ms && !o->confirm(o->confirm_arg, &e))
		return 1;
	return 0;
}

/* The caller's progress, and the budget: past max_stop_ms stopped, the
 * scan is cut short so that the target goes at once. */
static int scan_progress(void *arg, uint64_t done, uint64_t total)
{
	struct scan_work *w = arg;
	const struct frozen_scan_options *o = w->o;
	if (o->max_stop_ms && w->fz && w->fz->t_stop > 0 &&
	    (clock_mono() - w->fz->t_stop) * 1000.0 >= (double)o->max_stop_ms) {
		w->info->max_stop_hit = true;
		return 1;
	}
	return o->progress ? o->progress(o->progress_arg, done, total)
			   : frozen_stop_requested(NULL, done, total);
}

static int scan_work(void *arg, const struct frozen *f, struct mt_error *err)
{
	struct scan_work *w = arg;
	struct scan_options so = {
		.freeze = f->freeze,
		.symbols = f->symbols,
		.progress = scan_progress,
		.progress_arg = w,
		.scan_swapped = w->o->scan_swapped,
		.threads = w->o->threads,
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
		.admit = scan_admit,
		.freeze_out = &w.fz,
	};
	memset(info, 0, sizeof(*info));
	info->region = -1;
	return frozen_run(&job, &info->stats, err);
}
