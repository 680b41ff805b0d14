/*
 * batch.c - the batch printer (include/memtop/batch.h).
 *
 * Both forms print the same figures from the model; JSON keys are the
 * contract documented in docs/json.md, the text is for people.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtop/batch.h"
#include "memtop/format.h"
#include "memtop/json.h"
#include "memtop/escape.h"
#include "memtop/origin_print.h"

/* ---- JSON ---------------------------------------------------------- */

static void json_stat(struct json *j, const char *name, const struct mt_stat *st)
{
	json_object_begin(j, NULL);
	json_str(j, "name", name);
	json_u64(j, "regions", st->regions);
	json_u64(j, "virtual", st->virt);
	json_size(j, "resident", st->rss);
	json_i64(j, "delta_regions", st->delta_regions);
	json_i64(j, "delta_virtual", st->delta_virtual);
	json_object_end(j);
}

static void json_stats(struct json *j, const struct mt_model *m)
{
	json_array_begin(j, "categories");
	for (int c = 0; c < MT_CAT_COUNT; c++)
		json_stat(j, region_category_name(c), &m->cats[c]);
	json_array_end(j);

	json_array_begin(j, "types");
	for (int t = 0; t < MT_TYPE_COUNT; t++)
		json_stat(j, model_type_name(t), &m->types[t]);
	json_array_end(j);

	json_array_begin(j, "protections");
	for (int p = 0; p < MT_PROT_COUNT; p++) {
		char perms[5];
		if (m->prots[p].regions == 0)
			continue;
		region_perms_str((uint8_t)p, perms);
		json_stat(j, perms, &m->prots[p]);
	}
	json_array_end(j);
}

static void json_buckets(struct json *j, const char *key, const struct mt_buckets *b)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < b->n; i++) {
		json_object_begin(j, NULL);
		json_u64(j, "size", b->v[i].size);
		json_u64(j, "count", b->v[i].count);
		json_i64(j, "delta", b->v[i].delta);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_dev(struct json *j, uint32_t major, uint32_t minor)
{
	char dev[32];
	snprintf(dev, sizeof(dev), "%02" PRIx32 ":%02" PRIx32, major, minor);
	json_str(j, "dev", dev);
}

static void json_files(struct json *j, const struct mt_growth *g, const struct mt_traced *t)
{
	json_array_begin(j, "files");
	for (size_t i = 0; i < g->n_files; i++) {
		const struct mt_file *f = &g->files[i];
		json_object_begin(j, NULL);
		json_bytes(j, "path", f->path, f->path_len);
		json_bool(j, "deleted", f->deleted);
		json_dev(j, f->dev_major, f->dev_minor);
		json_u64(j, "inode", f->inode);
		json_u64(j, "regions", f->regions);
		json_u64(j, "virtual", f->virt);
		json_size(j, "resident", f->rss);
		json_i64(j, "delta_regions", f->delta_regions);
		json_i64(j, "delta_virtual", f->delta_virtual);
		json_double(j, "rate_per_min", f->rate_per_min, 3);
		json_bool(j, "present", f->present);
		json_buckets(j, "sizes", &f->buckets);
		origin_print_json_origins(j, "origins", t, f->dev_major, f->dev_minor, f->inode);
		json_object_end(j);
	}
	json_array_end(j);
}

/* With --trace, regions name their origin by index into a table of the
 * stacks they use ("stacks"), printed first: a stack shared by a
 * thousand windows is printed once. */
static void json_region_stacks(struct json *j, const struct mt_snapshot *s,
			       const struct mt_traced *t, long *index)
{
	long next = 0;
	for (size_t i = 0; i < t->stacks.n; i++)
		index[i] = -1;
	json_array_begin(j, "stacks");
	for (size_t i = 0; i < s->n_regions; i++) {
		long id = origins_stack_of(&t->origins, s->regions[i].start);
		if (id < 0 || (size_t)id >= t->stacks.n || index[id] >= 0)
			continue;
		index[id] = next++;
		json_object_begin(j, NULL);
		origin_print_json_stack(j, "stack", t, id);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_regions(struct json *j, const struct mt_snapshot *s, const struct mt_traced *t)
{
	long *index = t && t->on ? calloc(t->stacks.n + 1, sizeof(*index)) : NULL;
	if (index)
		json_region_stacks(j, s, t, index);
	json_array_begin(j, "regions");
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		char perms[5];
		region_perms_str(r->perms, perms);
		json_object_begin(j, NULL);
		json_addr(j, "start", r->start);
		json_addr(j, "end", r->end);
		json_u64(j, "size", mt_region_size(r));
		json_str(j, "perms", perms);
		json_u64(j, "offset", r->offset);
		json_dev(j, r->dev_major, r->dev_minor);
		json_u64(j, "inode", r->inode);
		json_bytes(j, "path", r->path, r->path_len);
		json_bool(j, "deleted", r->deleted);
		json_str(j, "category", region_category_name(r->category));
		if (r->category == MT_CAT_STACK && r->tid > 0)
			json_i64(j, "tid", r->tid);
		else
			json_null(j, "tid");
		json_size(j, "rss", r->rss);
		json_size(j, "pss", r->pss);
		json_size(j, "swap", r->swap);
		long id = index ? origins_stack_of(&t->origins, r->start) : -1;
		if (id >= 0 && (size_t)id < t->stacks.n)
			json_i64(j, "origin", index[id]);
		else
			json_null(j, "origin");
		json_object_end(j);
	}
	json_array_end(j);
	free(index);
}

/* Seconds until exhaustion, or null when the trend does not point there. */
static void json_eta(struct json *j, const char *key, double eta)
{
	if (eta >= 0)
		json_double(j, key, eta, 0);
	else
		json_null(j, key);
}

void batch_print_json(FILE *out, const struct mt_model *m,
		      const struct mt_snapshot *s, const struct batch_options *o)
{
	const struct mt_headroom *hr = &m->headroom;
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_double(&j, "time", s->time, 3);
	json_i64(&j, "pid", s->pid);
	json_str(&j, "comm", s->info.comm);
	json_str(&j, "cmdline", s->info.cmdline);
	json_str(&j, "user", s->info.user);
	json_bytes(&j, "state", &s->info.state, s->info.state ? 1 : 0);
	json_i64(&j, "threads", s->info.threads);
	json_double(&j, "uptime", s->info.uptime, 1);
	json_u64(&j, "map_count", hr->map_count);
	json_u64(&j, "max_map_count", hr->max_map_count);
	json_u64(&j, "vsz", hr->vsz);
	json_u64(&j, "rss", s->info.rss);
	json_size(&j, "rlimit_as", hr->rlimit_as);
	json_u64(&j, "largest_free", gaps_largest_size(&m->gaps));
	if (m->gaps.largest >= 0)
		json_addr(&j, "largest_free_start", m->gaps.v[m->gaps.largest].start);
	else
		json_null(&j, "largest_free_start");
	json_u64(&j, "free_total", m->gaps.total);
	json_u64(&j, "gaps", m->gaps.n);
	json_u64(&j, "largest_mmap", hr->largest_mmap);
	json_double(&j, "maps_rate", hr->maps_rate * 60, 3);
	json_double(&j, "vsz_rate", hr->vsz_rate * 60, 0);
	json_eta(&j, "maps_eta", hr->maps_eta);
	json_eta(&j, "vsz_eta", hr->vsz_eta);
	if (s->have_rss)
		json_double(&j, "rss_age", s->mono - s->rss_time, 3);
	else
		json_null(&j, "rss_age");
	json_stats(&j, m);
	json_files(&j, &m->growth, o->traced);
	json_buckets(&j, "anon_sizes", &m->growth.anon);
	origin_print_json_origins(&j, "anon_origins", o->traced, 0, 0, 0);
	origin_print_json_events(&j, o->traced, &m->growth.events, s);
	origin_print_json_state(&j, o->traced);
	if (o->regions)
		json_regions(&j, s, o->traced);
	json_object_end(&j);
	fputc('\n', out);
}

/* ---- text ---------------------------------------------------------- */

static void text_stat_row(FILE *out, const char *name, const struct mt_stat *st)
{
	char virt[32], rss[32], dv[32];

	format_size(virt, sizeof(virt), st->virt);
	if (st->rss == MT_UNKNOWN)
		snprintf(rss, sizeof(rss), "?");
	else
		format_size(rss, sizeof(rss), st->rss);
	format_delta_size(dv, sizeof(dv), st->delta_virtual);
	fprintf(out, "%-10s %8" PRIu64 " %11s %11s %+9" PRId64 " %11s\n", name,
		st->regions, virt, rss, st->delta_regions, dv);
}

static void text_header(FILE *out, const struct mt_model *m, const struct mt_snapshot *s)
{
	const struct mt_headroom *hr = &m->headroom;
	char when[32], up[32], vsz[32], rss[32], free[32], mmap[32], lim[32];
	time_t t = (time_t)s->time;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	format_duration(up, sizeof(up), s->info.uptime);
	format_size(vsz, sizeof(vsz), hr->vsz);
	format_size(rss, sizeof(rss), s->info.rss);
	format_size(free, sizeof(free), gaps_largest_size(&m->gaps));
	format_size(mmap, sizeof(mmap), hr->largest_mmap);
	if (hr->rlimit_as == UINT64_MAX)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		format_size(lim, sizeof(lim), hr->rlimit_as);

	fprintf(out, "memtop - %s  pid %d (%s)  user %s  state %c  threads %d  up %s\n",
		when, s->pid, s->info.comm, s->info.user, s->info.state ? s->info.state : '?',
		s->info.threads, up);
	fprintf(out, "Maps: %" PRIu64 " of %" PRIu64 " (%.1f%%)  VSZ %s of %s  RSS %s\n",
		hr->map_count, hr->max_map_count,
		hr->max_map_count ? 100.0 * (double)hr->map_count / (double)hr->max_map_count : 0.0,
		vsz, lim, rss);
	fprintf(out, "Free: largest %s at 0x%" PRIx64 " in %zu gaps  largest mmap %s\n", free,
		m->gaps.largest >= 0 ? m->gaps.v[m->gaps.largest].start : 0, m->gaps.n, mmap);
	fprintf(out, "Trend: maps %+.1f/min  VSZ %+.1f MiB/min", hr->maps_rate * 60,
		hr->vsz_rate * 60 / (1024.0 * 1024.0));
	if (hr->maps_eta >= 0) {
		char eta[32];
		fprintf(out, "  map count limit in %s", format_duration(eta, sizeof(eta), hr->maps_eta));
	}
	if (hr->vsz_eta >= 0) {
		char eta[32];
		fprintf(out, "  RLIMIT_AS in %s", format_duration(eta, sizeof(eta), hr->vsz_eta));
	}
	if (s->have_rss) {
		char age[32];
		fprintf(out, "  (resident figures %s old)",
			format_duration(age, sizeof(age), s->mono - s->rss_time));
	}
	fputc('\n', out);
}

static void text_files(FILE *out, const struct mt_growth *g, size_t max,
		       const struct mt_traced *t)
{
	fprintf(out, "\n%8s %11s %8s %11s  %-28s %s\n", "REGIONS", "VIRTUAL", "+REGIONS",
		"+VIRTUAL", "SIZES", "FILE");
	for (size_t i = 0; i < g->n_files && i < max; i++) {
		const struct mt_file *f = &g->files[i];
		char virt[32], dv[32], sizes[64] = "", one[32];
		size_t used = 0;

		format_size(virt, sizeof(virt), f->virt);
		format_delta_size(dv, sizeof(dv), f->delta_virtual);
		for (size_t b = 0; b < f->buckets.n && b < 2; b++) {
			format_size(one, sizeof(one), f->buckets.v[b].size);
			used += (size_t)snprintf(sizes + used, sizeof(sizes) - used, "%s%s x %" PRIu32,
						 b ? ", " : "", one, f->buckets.v[b].count);
			if (used >= sizeof(sizes))
				break;
		}
		fprintf(out, "%8" PRIu32 " %11s %+8" PRId64 " %11s  %-28s ", f->regions, virt,
			f->delta_regions, dv, sizes);
		escape_bytes(out, f->path, f->path_len);
		fputs(f->deleted ? " (deleted)\n" : "\n", out);
		origin_print_text_origins(out, t, f->dev_major, f->dev_minor, f->inode, 3);
	}
}

static void text_events(FILE *out, const struct mt_events *e)
{
	if (e->n == 0)
		return;
	fprintf(out, "\nEVENTS\n");
	for (size_t i = 0; i < e->n; i++) {
		const struct mt_event *ev = &e->v[i];
		char size[32], perms[5];
		region_perms_str(ev->perms, perms);
		format_size(size, sizeof(size), ev->end - ev->start);
		fprintf(out, "%-5s 0x%012" PRIx64 "-0x%012" PRIx64 " %10s %s %-8s ",
			ev->kind == MT_EV_MAP ? "map" : "unmap", ev->start, ev->end, size, perms,
			region_category_name(ev->category));
		if (ev->path)
			escape_bytes(out, ev->path, strlen(ev->path));
		fputc('\n', out);
	}
}

static void text_regions(FILE *out, const struct mt_snapshot *s)
{
	fprintf(out, "\n%-12s %-12s %4s %10s %10s %-8s %s\n", "START", "END", "PERM", "SIZE",
		"RSS", "CATEGORY", "PATH");
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		char perms[5], size[32], rss[32] = "?";
		region_perms_str(r->perms, perms);
		format_size(size, sizeof(size), mt_region_size(r));
		if (r->rss != MT_UNKNOWN)
			format_size(rss, sizeof(rss), r->rss);
		fprintf(out, "%012" PRIx64 " %012" PRIx64 " %4s %10s %10s %-8s ", r->start,
			r->end, perms, size, rss, region_category_name(r->category));
		escape_bytes(out, r->path, r->path_len);
		fputs(r->deleted ? " (deleted)\n" : "\n", out);
	}
}

void batch_print_text(FILE *out, const struct mt_model *m,
		      const struct mt_snapshot *s, const struct batch_options *o)
{
	text_header(out, m, s);
	origin_print_text_state(out, o->traced);
	fprintf(out, "\n%-10s %8s %11s %11s %9s %11s\n", "CATEGORY", "REGIONS", "VIRTUAL",
		"RESIDENT", "+REGIONS", "+VIRTUAL");
	for (int c = 0; c < MT_CAT_COUNT; c++)
		text_stat_row(out, region_category_name(c), &m->cats[c]);
	text_stat_row(out, "total", &m->total);
	text_files(out, &m->growth, o->max_files ? o->max_files : 10, o->traced);
	if (o->traced && o->traced->on) {
		fprintf(out, "\nANONYMOUS (no file) BY ORIGIN\n");
		origin_print_text_origins(out, o->traced, 0, 0, 0, 5);
	}
	if (o->traced)
		origin_print_text_events(out, o->traced, &m->growth.events, s);
	else
		text_events(out, &m->growth.events);
	if (o->regions)
		text_regions(out, s);
	fputc('\n', out);
}
