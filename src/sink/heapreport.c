/*
 * heapreport.c - the `--heap` report: census by arena and by class, and
 * with --leaks the chunks nothing reaches (docs/heap.md).  The target is
 * frozen once per census: the snapshot, the walk and the leak search all
 * happen in that one stop, and the printing after it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtop/classify.h"
#include "memtop/clock.h"
#include "memtop/format.h"
#include "memtop/frozen.h"
#include "memtop/heapreport.h"
#include "memtop/heapstore.h"
#include "memtop/json.h"
#include "memtop/proc.h"
#include "memtop/replay.h"
#include "memtop/scan.h"
#include "memtop/session.h"

static const char *class_name(const struct census *c, uint32_t cls)
{
	cls &= ~CENSUS_MMAPPED;
	return cls < c->n_names ? c->names[cls] : NULL;
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_arena(struct json *j, const struct census_arena *a)
{
	json_object_begin(j, NULL);
	json_str(j, "kind", a->main ? "main" : "thread");
	json_addr(j, "start", a->start);
	json_u64(j, "heaps", a->n_heaps);
	json_u64(j, "system", a->system);
	json_u64(j, "overhead", a->overhead);
	json_u64(j, "in_use", a->in_use);
	json_u64(j, "chunks_in_use", a->chunks_in_use);
	json_u64(j, "free", a->free);
	json_u64(j, "bins", a->free - a->tcache - a->fastbins - a->top);
	json_u64(j, "tcache", a->tcache);
	json_u64(j, "fastbins", a->fastbins);
	json_u64(j, "top", a->top);
	json_u64(j, "largest_free", a->largest_free);
	json_u64(j, "free_chunks", a->free_chunks);
	json_double(j, "fragmentation", a->fragmentation, 4);
	json_u64(j, "trimmable", a->trimmable);
	json_object_end(j);
}

/* A class is named, or, unnamed, known by its usable size: one of the two
 * keys is null. */
static void json_name_size(struct json *j, const char *name, uint64_t size)
{
	json_str_or_null(j, "name", name);
	if (name)
		json_null(j, "size");
	else
		json_u64(j, "size", size);
}

static void json_class(struct json *j, const struct census_class *k, bool leaks)
{
	json_object_begin(j, NULL);
	json_name_size(j, k->name, k->size);
	json_u64(j, "count", k->count);
	json_u64(j, "bytes", k->bytes);
	json_i64(j, "delta_count", k->delta_count);
	json_i64(j, "delta_bytes", k->delta_bytes);
	if (leaks) {
		json_u64(j, "leaked", k->leaked);
		json_u64(j, "leaked_bytes", k->leaked_bytes);
	}
	json_object_end(j);
}

static void json_leaks(struct json *j, const struct census *c, const struct leaks *l)
{
	json_object_begin(j, "leaks");
	json_u64(j, "count", l->count);
	json_u64(j, "bytes", l->bytes);
	json_u64(j, "unreferenced_count", l->unreferenced_count);
	json_u64(j, "unreferenced_bytes", l->unreferenced_bytes);
	json_double(j, "seconds", l->seconds, 3);
	json_u64(j, "root_bytes", l->root_bytes);
	json_u64(j, "threads", l->threads);
	json_array_begin(j, "groups");
	for (size_t i = 0; i < l->n_groups; i++) {
		const struct leaks_group *g = &l->groups[i];
		json_object_begin(j, NULL);
		json_name_size(j, g->name, g->size);
		json_u64(j, "count", g->count);
		json_u64(j, "bytes", g->bytes);
		json_u64(j, "unreferenced", g->unreferenced);
		json_array_begin(j, "examples");
		for (size_t k = 0; k < g->n_examples; k++)
			json_addr(j, NULL, g->examples[k]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_u64(j, "shared_total", l->shared_total);
	json_array_begin(j, "shared");
	for (size_t i = 0; i < l->n_shared; i++) {
		const struct leaks_shared *sh = &l->shared[i];
		json_object_begin(j, NULL);
		json_addr(j, "chunk", sh->chunk);
		json_str_or_null(j, "class", class_name(c, sh->cls));
		json_u64(j, "holders_total", sh->holders_total);
		json_array_begin(j, "holders");
		for (size_t k = 0; k < sh->n_holders; k++) {
			json_object_begin(j, NULL);
			json_addr(j, "addr", sh->holders[k].addr);
			json_str_or_null(j, "class", class_name(c, sh->holders[k].cls));
			json_u64(j, "offset", sh->holders[k].offset);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

void heapreport_print_json(FILE *out, const struct heapreport *r, double seconds)
{
	const struct census *c = &r->c;
	struct json j;
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_i64(&j, "pid", r->pid);
	json_double(&j, "time", r->time, 3);
	json_double(&j, "stopped_ms", r->stopped_ms, 1);
	json_u64(&j, "threads_not_stopped", r->not_stopped);
	json_double(&j, "seconds", seconds, 3);
	json_double(&j, "walk_seconds", c->seconds, 3);
	json_str(&j, "allocator", c->allocator ? c->allocator : "glibc");
	json_u64(&j, "in_use_bytes", c->in_use_bytes);
	json_u64(&j, "free_bytes", c->free_bytes);
	json_u64(&j, "mmapped_bytes", c->mmapped_bytes);
	json_u64(&j, "mmapped_chunks", c->mmapped_chunks);
	json_u64(&j, "chunks_in_use", c->chunks_in_use);
	json_u64(&j, "chunks_total", c->chunks_total);
	json_u64(&j, "bytes_read", c->bytes_read);
	json_u64(&j, "swapped_bytes", c->swapped_bytes);
	json_u64(&j, "tcaches", c->n_tcaches);
	json_array_begin(&j, "arenas");
	for (size_t i = 0; i < c->n_arenas; i++)
		json_arena(&j, &c->arenas[i]);
	json_array_end(&j);
	json_array_begin(&j, "classes");
	for (size_t i = 0; i < c->n_classes; i++)
		json_class(&j, &c->classes[i], r->leaks);
	json_array_end(&j);
	if (r->leaks)
		json_leaks(&j, c, &r->l);
	json_array_begin(&j, "walk_errors");
	for (size_t i = 0; i < c->n_walk_errors; i++)
		json_str(&j, NULL, c->walk_errors[i]);
	json_array_end(&j);
	json_object_end(&j);
	fputc('\n', out);
}

/* ---- text ------------------------------------------------------------------ */

static const char *sz(char *b, uint64_t v)
{
	return format_size(b, 32, v);
}

static void text_arenas(FILE *out, const struct census *c)
{
	char b[6][32];
	fprintf(out, "\n%-6s %-14s %6s %9s %9s %9s %9s %9s %8s %6s %9s\n", "ARENA", "START",
		"HEAPS", "SYSTEM", "IN USE", "FREE", "TOP", "LARGEST", "FREE#", "FRAG",
		"TRIMMABLE");
	for (size_t i = 0; i < c->n_arenas; i++) {
		const struct census_arena *a = &c->arenas[i];
		fprintf(out, "%-6s 0x%-12" PRIx64 " %6zu %9s %9s %9s %9s %9s %8" PRIu64
			" %5.1f%% %9s\n", a->main ? "main" : "thread", a->start, a->n_heaps,
			sz(b[0], a->system), sz(b[1], a->in_use), sz(b[2], a->free),
			sz(b[3], a->top), sz(b[4], a->largest_free), a->free_chunks,
			100.0 * a->fragmentation, sz(b[5], a->trimmable));
	}
	/* Say it plainly when free space dominates and cannot be compacted:
	 * free chunks between objects, not the top a trim gives back. */
	for (size_t i = 0; i < c->n_arenas; i++) {
		const struct census_arena *a = &c->arenas[i];
		if (!a->system || a->free * 2 < a->system)
			continue;
		fprintf(out, "%s arena 0x%" PRIx64 " is mostly free: %s of %s", a->main ? "main" :
			"thread", a->start, sz(b[0], a->free), sz(b[1], a->system));
		if (a->fragmentation >= 0.25)
			fprintf(out, ", %s of it in %" PRIu64 " holes between chunks in use that "
				"cannot be compacted (fragmentation %.0f%%)",
				sz(b[2], a->free - a->top), a->free_chunks,
				100 * a->fragmentation);
		else
			fprintf(out, ", mostly the top chunk");
		if (a->trimmable)
			fprintf(out, "; malloc_trim() could return %s of resident memory\n",
				sz(b[3], a->trimmable));
		else
			fprintf(out, "; malloc_trim() would return no resident memory (the free "
				"pages are not resident already)\n");
	}
}

/* A class by name, or unnamed chunks by their usable size. */
static void text_name_size(FILE *out, const char *name, uint64_t size)
{
	if (name)
		fputs(name, out);
	else
		fprintf(out, "[%" PRIu64 " bytes]", size);
}

static void text_classes(FILE *out, const struct heapreport *r, size_t max)
{
	const struct census *c = &r->c;
	char b[4][32];
	fprintf(out, "\n%10s %10s %10s %10s %s%s\n", "COUNT", "BYTES", "+COUNT", "+BYTES",
		r->leaks ? "  LEAKED " : "", "CLASS OR SIZE");
	for (size_t i = 0; i < c->n_classes && i < max; i++) {
		const struct census_class *k = &c->classes[i];
		fprintf(out, "%10" PRIu64 " %10s %+10" PRId64 " %10s ", k->count,
			sz(b[0], k->bytes), k->delta_count,
			format_delta_size(b[1], 32, k->delta_bytes));
		if (r->leaks)
			fprintf(out, " %7" PRIu64 " ", k->leaked);
		text_name_size(out, k->name, k->size);
		fputc('\n', out);
	}
	if (c->n_classes > max)
		fprintf(out, "... %zu more (--json lists all)\n", c->n_classes - max);
}

static void text_leaks(FILE *out, const struct heapreport *r)
{
	const struct leaks *l = &r->l;
	const struct census *c = &r->c;
	char b[2][32];
	if (c->n_walk_errors)
		fprintf(out, "\nwarning: the walk is incomplete (above): chunks reached only "
			"through the part not walked are counted leaked\n");
	fprintf(out, "\nLeaks: %" PRIu64 " chunks, %s unreachable (%" PRIu64 " unreferenced: the "
		"heads of leaked structures); searched in %.3f s\n", l->count, sz(b[0], l->bytes),
		l->unreferenced_count, l->seconds);
	for (size_t i = 0; i < l->n_groups; i++) {
		const struct leaks_group *g = &l->groups[i];
		fprintf(out, "%10" PRIu64 " %10s  ", g->count, sz(b[0], g->bytes));
		text_name_size(out, g->name, g->size);
		fprintf(out, " (%" PRIu64 " unreferenced) e.g.", g->unreferenced);
		for (size_t k = 0; k < g->n_examples; k++)
			fprintf(out, " 0x%" PRIx64, g->examples[k]);
		fputc('\n', out);
	}
	/* The object itself, not the heap mapping that --refs ADDR means. */
	const struct leaks_group *g0 = l->n_groups ? &l->groups[0] : NULL;
	if (g0 && g0->n_examples && g0->count)
		fprintf(out, "(who points to one: memtop -p %d --refs 0x%" PRIx64 "+%" PRIu64
			", any address above with its size)\n", r->pid, g0->examples[0],
			g0->size ? g0->size : g0->bytes / g0->count);
	if (!l->shared_total)
		return;
	fprintf(out, "\nShared: %" PRIu64 " chunks held from the same offset of several objects "
		"of one class (the double-free shape)\n", l->shared_total);
	for (size_t i = 0; i < l->n_shared; i++) {
		const struct leaks_shared *sh = &l->shared[i];
		const char *n = class_name(c, sh->cls);
		fprintf(out, "  0x%" PRIx64 " %s held by %" PRIu64 ":", sh->chunk, n ? n : "",
			sh->holders_total);
		for (size_t k = 0; k < sh->n_holders; k++) {
			const char *hn = class_name(c, sh->holders[k].cls);
			fprintf(out, " %s 0x%" PRIx64 "+%u", hn ? hn : "?", sh->holders[k].addr,
				sh->holders[k].offset);
		}
		fputc('\n', out);
	}
}

void heapreport_print_text(FILE *out, const struct heapreport *r, double seconds)
{
	const struct census *c = &r->c;
	char b[4][32];
	fprintf(out, "Heap census of process %d (%s): target stopped %.0f ms, %.3f s in all\n",
		r->pid, r->comm, r->stopped_ms, seconds);
	if (r->not_stopped)
		fprintf(out, "warning: %zu thread%s did not stop and ran during the census\n",
			r->not_stopped, r->not_stopped == 1 ? "" : "s");
	for (size_t i = 0; i < c->n_walk_errors; i++)
		fprintf(out, "warning: %s\n", c->walk_errors[i]);
	if (c->swapped_bytes)
		fprintf(out, "warning: %s of the heaps is swapped out and was not read (memtop "
			"does not swap pages in): what lies there is not counted\n",
			sz(b[0], c->swapped_bytes));
	fprintf(out, "in use %s in %zu chunks, free %s, mmapped %s in %" PRIu64 " chunks; "
		"%" PRIu64 " chunks walked\n", sz(b[0], c->in_use_bytes), (size_t)c->chunks_in_use,
		sz(b[1], c->free_bytes), sz(b[2], c->mmapped_bytes), c->mmapped_chunks,
		c->chunks_total);
	text_arenas(out, c);
	text_classes(out, r, 40);
	if (r->leaks)
		text_leaks(out, r);
}

/* ---- the run ------------------------------------------------------------------ */

void heapreport_free(struct heapreport *r)
{
	census_free(&r->c);
	leaks_free(&r->l);
}

static void allocator_error(const char *alloc, int pid, struct mt_error *err)
{
	mt_error_set(err, MT_ERR_OTHER, 0,
		     "process %d allocates with %s: the heap census supports glibc malloc "
		     "only (the region views, --refs and the screen still work)", pid, alloc);
}

/*
 * malloc defined by the program or a library other than glibc's (a
 * statically linked jemalloc or tcmalloc): with no [heap], glibc's malloc
 * was never used and its census would show an empty heap beside an RSS
 * of gigabytes, so say so instead.  With a [heap] it may be a wrapper
 * that forwards to glibc (heaptrack's): the census runs and says so in
 * its walk errors.  -1 with err when refused.
 */
static int foreign_malloc(const struct mt_snapshot *s, pid_t pid, struct symbols_cache *cache,
			  struct mt_error *err)
{
	for (size_t i = 0; i < s->n_regions; i++)
		if (!strcmp(s->regions[i].path, "[heap]"))
			return 0;
	struct symbols_cache own;
	struct symbols_map m = { 0 };
	if (!cache) {
		symbols_cache_init(&own);
		cache = &own;
	}
	const char *owner = NULL;
	int rc = 0;
	if (symbols_map_build(&m, cache, s, pid) == 0 && (owner = census_malloc_owner(&m))) {
		mt_error_set(err, MT_ERR_OTHER, 0,
			     "process %d has a malloc of its own, in %s (a statically linked "
			     "allocator?), and never used glibc's: the heap census supports glibc "
			     "malloc only (the region views, --refs and the screen still work)",
			     pid, owner);
		rc = -1;
	}
	symbols_map_free(&m);
	if (cache == &own)
		symbols_cache_free(&own);
	return rc;
}

struct census_job {
	struct heapreport *r;
	bool leaks;
	bool read_swapped;
};

/* The frozen work: walk the arenas (and read the leak search's graph and
 * roots); what needs no reading waits until the target runs. */
static int census_work(void *arg, const struct frozen *f, struct mt_error *err)
{
	struct census_job *j = arg;
	struct pages pg;
	struct present pr;
	int rc = pages_open(&pg, f->pid, f->snap);
	if (rc < 0)
		return mt_error_set(err, rc == -ESRCH ? MT_ERR_EXITED : MT_ERR_PERM, -rc,
				    "cannot read the memory of process %d: %s", f->pid,
				    strerror(-rc));
	pg.read_swapped = j->read_swapped;
	present_init(&pr, &pg);
	j->r->time = clock_seconds(CLOCK_REALTIME);
	rc = census_run(&j->r->c, f->snap, &pr, f->map, err);
	if (rc == 0 && j->leaks)
		rc = leaks_run(&j->r->l, &j->r->c, f->snap, &pr, f->freeze, err);
	snprintf(j->r->comm, sizeof(j->r->comm), "%s", f->snap->info.comm);
	present_free(&pr);
	pages_close(&pg);
	return rc;
}

int heapreport_take(struct heapreport *r, pid_t pid, struct mt_proc *p, bool leaks,
		    bool read_swapped, struct symbols_cache *cache, struct mt_error *err)
{
	struct mt_snapshot s;
	snapshot_init(&s);
	int rc = 0;
	/* Another allocator: say so before stopping anything. */
	if (proc_read(p, &s, PROC_READ_RSS_NEVER, err) < 0)
		goto fail;
	classify_run(&s);
	const char *alloc = census_allocator(&s);
	if (alloc) {
		allocator_error(alloc, pid, err);
		goto fail;
	}
	if (foreign_malloc(&s, pid, cache, err))
		goto fail;
	census_prepare(&r->c, &s);
	struct census_job job = { r, leaks, read_swapped };
	struct frozen_job fj = { .pid = pid, .symbols = cache, .proc = p, .snap = &s,
				 .work = census_work, .arg = &job };
	struct frozen_stats st;
	if (frozen_run(&fj, &st, err) < 0)
		goto fail;
	r->stopped_ms = st.stopped_ms;
	r->not_stopped = st.not_stopped;
	r->leaks = leaks;
	r->pid = pid;
	/* The rest is arithmetic on what was read: the target runs. */
	if ((leaks && leaks_patterns(&r->l, &r->c) < 0) || census_classes(&r->c) < 0 ||
	    (leaks && leaks_report(&r->l, &r->c) < 0)) {
		mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		goto fail;
	}
	goto out;
fail:
	if (err->kind == MT_ERR_NONE)
		mt_error_set(err, MT_ERR_OTHER, 0, "heap census failed");
	rc = -1;
out:
	snapshot_free(&s);
	return rc;
}

void heapreport_keep_classes(struct heapreport *r)
{
	free(r->c.chunks);
	r->c.chunks = NULL;
	r->c.n_chunks = r->c.cap_chunks = 0;
	leaks_free(&r->l);
}

void heapreport_from_stored(struct heapreport *r, struct heapstore_census *hc, int pid,
			    const char *comm)
{
	memset(r, 0, sizeof(*r));
	leaks_init(&r->l);
	r->c = hc->c;
	r->leaks = hc->leaks;
	r->l.count = hc->leaked;
	r->l.bytes = hc->leaked_bytes;
	r->l.unreferenced_count = hc->unreferenced;
	r->l.unreferenced_bytes = hc->unreferenced_bytes;
	r->l.seconds = hc->leak_seconds;
	r->l.root_bytes = hc->root_bytes;
	r->l.threads = (size_t)hc->threads;
	r->l.shared_total = hc->shared_total;
	r->l.groups = hc->groups;
	r->l.n_groups = hc->n_groups;
	r->l.shared = hc->shared;
	r->l.n_shared = hc->n_shared;
	r->not_stopped = hc->not_stopped;
	r->time = hc->time;
	r->stopped_ms = hc->stopped_ms;
	r->pid = pid;
	snprintf(r->comm, sizeof(r->comm), "%s", comm ? comm : "");
	memset(hc, 0, sizeof(*hc));
	census_init(&hc->c);
}

int heap_replay(FILE *out, const struct mt_options *opt, struct mt_error *err)
{
	struct mt_replay *rp = NULL;
	if (replay_open(&rp, opt->read, opt->session, err) < 0)
		return -1;
	const struct replay_session *rs = replay_session(rp);
	struct heapstore_info *v = NULL;
	size_t n = 0;
	int rc = replay_list_heaps(rp, &v, &n, err);
	if (rc == 0 && n == 0)
		rc = mt_error_set(err, MT_ERR_OTHER, 0, "%s: session %zu holds no heap census "
				  "(record one with -p PID --heap -w FILE, or H on the screen)",
				  opt->read, rs->index);
	struct census base;
	census_init(&base);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct heapstore_census hc;
		struct heapreport r;
		if (replay_load_heap(rp, v[i].id, &hc, err)) {
			rc = -1;
			break;
		}
		double secs = hc.seconds;
		heapreport_from_stored(&r, &hc, rs->pid, rs->comm);
		census_delta(&r.c, i ? &base : NULL);
		if (i == 0 && census_copy_classes(&base, &r.c) < 0)
			rc = mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		if (opt->json)
			heapreport_print_json(out, &r, secs);
		else
			heapreport_print_text(out, &r, secs);
		heapreport_free(&r);
		if (fflush(out) == EOF)
			break;
	}
	census_free(&base);
	free(v);
	replay_close(rp);
	return rc;
}

/* -w: the census goes into the recording, after the sample the session
 * took and recorded for it.  A recording that stops (disk full) is said
 * once; the censuses go on, as the batch report's monitoring does. */
static void record_one(struct mt_session *ses, const struct heapreport *r, double secs)
{
	struct mt_error lost;
	struct record_heap rh = { &r->c, r->leaks ? &r->l : NULL, r->time, r->stopped_ms,
				  r->not_stopped, secs };
	session_record_heap(ses, &rh);
	if (session_record_lost(ses, &lost))
		fprintf(stderr, "memtop: %s; the census goes on\n", lost.msg);
}

int heap_report(FILE *out, const struct mt_options *opt, struct mt_error *err)
{
	struct mt_proc *p = NULL;
	struct mt_session ses;
	struct mt_error lost;
	session_init(&ses);
	if (opt->write) {
		if (session_open(&ses, opt, opt->pid, err) < 0)
			return -1;
		p = ses.proc;
	} else if (proc_open(&p, opt->pid, err) < 0) {
		return -1;
	}
	struct symbols_cache cache;
	symbols_cache_init(&cache);
	struct heapreport base, cur;
	memset(&base, 0, sizeof(base));
	memset(&cur, 0, sizeof(cur));
	bool have_base = false;
	long count = opt->heap_every > 0 ? opt->count : 1;
	int rc = 0;
	for (long i = 0; count == 0 || i < count; i++) {
		if (i > 0)
			clock_sleep(opt->heap_every);
		double t0 = clock_mono();
		if (opt->write && session_next(&ses, err) != 0) {
			rc = -1;
			break;
		}
		if (opt->write && session_record_lost(&ses, &lost))
			fprintf(stderr, "memtop: %s; the census goes on\n", lost.msg);
		rc = heapreport_take(&cur, opt->pid, p, opt->leaks, opt->scan_swapped, &cache,
				     err);
		if (rc < 0)
			break;
		census_delta(&cur.c, have_base ? &base.c : NULL);
		double secs = clock_mono() - t0;
		if (opt->write)
			record_one(&ses, &cur, secs);
		if (opt->json)
			heapreport_print_json(out, &cur, secs);
		else
			heapreport_print_text(out, &cur, secs);
		if (fflush(out) == EOF)
			break;
		if (!have_base) {
			/* The first census is the baseline of the run: its
			 * classes are kept, its chunks are not needed. */
			base = cur;
			memset(&cur, 0, sizeof(cur));
			heapreport_keep_classes(&base);
			have_base = true;
		} else {
			heapreport_free(&cur);
		}
	}
	heapreport_free(&cur);
	heapreport_free(&base);
	symbols_cache_free(&cache);
	if (opt->write) {
		if (session_close(&ses, &lost) < 0)
			fprintf(stderr, "memtop: %s\n", lost.msg);
	} else {
		proc_close(p);
	}
	return rc;
}
