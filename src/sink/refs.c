/*
 * refs.c - the `--refs` batch report (refs.h): who holds pointers into a
 * range of the target, as text grouped by holding region or as one JSON
 * object (docs/drilldown.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memtop/format.h"
#include "memtop/frozen.h"
#include "memtop/json.h"
#include "memtop/proc.h"
#include "memtop/refs.h"
#include "memtop/scan.h"
#include "memtop/escape.h"

static void json_region(struct json *j, const char *key, const struct mt_region *r)
{
	json_object_begin(j, key);
	json_addr(j, "start", r->start);
	json_addr(j, "end", r->end);
	json_str(j, "category", region_category_name(r->category));
	json_bytes(j, "path", r->path, r->path_len);
	json_object_end(j);
}

static void json_place(struct json *j, const struct scan_ref *ref)
{
	if (ref->has_object) {
		json_object_begin(j, "object");
		json_addr(j, "start", ref->object.user);
		json_u64(j, "size", ref->object.size);
		json_u64(j, "offset", ref->addr - ref->object.user);
		if (ref->class_name)
			json_str(j, "class", ref->class_name);
		else
			json_null(j, "class");
		json_bool(j, "in_use", ref->object.in_use);
		json_bool(j, "mmapped", ref->object.mmapped);
		if (ref->object.free_list == HEAPWALK_FREE_TCACHE)
			json_str(j, "free_list", "tcache");
		else if (ref->object.free_list == HEAPWALK_FREE_FASTBIN)
			json_str(j, "free_list", "fastbin");
		else
			json_null(j, "free_list");
		json_object_end(j);
	} else {
		json_null(j, "object");
	}
	if (ref->symbol) {
		json_str(j, "symbol", ref->symbol);
		json_u64(j, "symbol_offset", ref->symbol_offset);
	} else {
		json_null(j, "symbol");
	}
}

static void json_ref(struct json *j, const struct mt_snapshot *s, const struct scan_ref *ref)
{
	json_object_begin(j, NULL);
	json_addr(j, "addr", ref->addr);
	json_addr(j, "value", ref->value);
	json_region(j, "region", &s->regions[ref->region]);
	json_u64(j, "offset", ref->region_offset);
	json_place(j, ref);
	if (ref->module)
		json_str(j, "module", ref->module);
	if (ref->holder == SCAN_HOLDER_HEAP)
		json_bool(j, "stale_free", ref->stale_free);
	if (ref->holder == SCAN_HOLDER_STACK && ref->tid)
		json_i64(j, "tid", ref->tid);
	else
		json_null(j, "tid");
	if (ref->holder == SCAN_HOLDER_STACK)
		json_bool(j, "dead_stack", ref->dead_stack);
	if (ref->frame)
		json_str(j, "frame", ref->frame);
	else
		json_null(j, "frame");
	/* A frame without a name (a stripped binary) still has its index. */
	if (ref->frame_index >= 0)
		json_i64(j, "frame_index", ref->frame_index);
	else
		json_null(j, "frame_index");
	json_object_end(j);
}

static void print_json(FILE *out, const struct mt_snapshot *s, long ti,
		       const struct scan_result *r, const struct frozen_stats *fz,
		       bool max_stop_hit)
{
	struct json j;
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_i64(&j, "pid", s->pid);
	json_object_begin(&j, "target");
	json_addr(&j, "start", r->lo);
	json_addr(&j, "end", r->hi);
	if (ti >= 0) {
		json_str(&j, "category", region_category_name(s->regions[ti].category));
		json_bytes(&j, "path", s->regions[ti].path, s->regions[ti].path_len);
	} else {
		json_null(&j, "category");
		json_null(&j, "path");
	}
	json_object_end(&j);
	json_u64(&j, "scanned_bytes", r->scanned_bytes);
	json_u64(&j, "file_bytes", r->file_bytes);
	json_u64(&j, "absent_bytes", r->absent_bytes);
	json_u64(&j, "swapped_bytes", r->swapped_bytes);
	json_u64(&j, "threads", r->threads);
	json_u64(&j, "scanned_regions", r->scanned_regions);
	json_u64(&j, "skipped_regions", r->skipped_regions);
	json_u64(&j, "excluded_regions", r->excluded_regions);
	json_double(&j, "seconds", r->seconds, 3);
	if (fz->frozen)
		json_double(&j, "stopped_ms", fz->stopped_ms, 1);
	else
		json_null(&j, "stopped_ms");
	json_bool(&j, "frozen", fz->frozen);
	if (fz->frozen)
		json_u64(&j, "threads_not_stopped", fz->not_stopped);
	else
		json_null(&j, "threads_not_stopped");
	json_array_begin(&j, "unstopped_threads");
	for (size_t i = 0; fz->frozen && i < fz->n_unstopped; i++) {
		char why[160];
		json_object_begin(&j, NULL);
		json_i64(&j, "tid", fz->unstopped[i].tid);
		json_str(&j, "reason", freeze_why(&fz->unstopped[i], why, sizeof(why)));
		json_object_end(&j);
	}
	json_array_end(&j);
	json_u64(&j, "refs_total", r->refs_total);
	json_u64(&j, "internal", r->internal);
	json_bool(&j, "cancelled", r->cancelled);
	json_bool(&j, "max_stop_hit", max_stop_hit);
	json_array_begin(&j, "walk_errors");
	for (size_t i = 0; i < r->n_walk_errors; i++)
		json_str(&j, NULL, r->walk_errors[i]);
	json_array_end(&j);
	json_array_begin(&j, "refs");
	for (size_t i = 0; i < r->n_refs; i++)
		json_ref(&j, s, &r->refs[i]);
	json_array_end(&j);
	if (r->points_to_read) {
		json_array_begin(&j, "points_to");
		for (size_t i = 0; i < r->n_points_to; i++) {
			const struct scan_ref *p = &r->points_to[i];
			json_object_begin(&j, NULL);
			json_u64(&j, "offset", p->from - r->lo);
			json_addr(&j, "value", p->value);
			json_region(&j, "region", &s->regions[p->region]);
			json_place(&j, p);
			json_object_end(&j);
		}
		json_array_end(&j);
	} else {
		json_null(&j, "points_to");
	}
	json_array_begin(&j, "stacks");
	for (size_t i = 0; i < r->n_stacks; i++) {
		const struct unwind_stack *st = &r->stacks[i];
		json_object_begin(&j, NULL);
		json_i64(&j, "tid", st->tid);
		json_array_begin(&j, "frames");
		for (size_t k = 0; k < st->n; k++) {
			json_object_begin(&j, NULL);
			json_addr(&j, "ip", st->frames[k].ip);
			json_addr(&j, "sp", st->frames[k].sp);
			if (st->frames[k].func[0]) {
				json_str(&j, "func", st->frames[k].func);
				json_u64(&j, "offset", st->frames[k].func_offset);
			} else {
				json_null(&j, "func");
			}
			json_object_end(&j);
		}
		json_array_end(&j);
		if (st->error[0])
			json_str(&j, "error", st->error);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	fputc('\n', out);
}

static void text_region(FILE *out, const struct mt_region *r)
{
	char size[32];
	fprintf(out, "0x%" PRIx64 "-0x%" PRIx64 " %s %s", r->start, r->end,
		region_category_name(r->category), format_size(size, sizeof(size),
							       mt_region_size(r)));
	if (r->path_len) {
		fputc(' ', out);
		escape_bytes(out, r->path, r->path_len);
	}
}

static void text_holder(FILE *out, const struct scan_ref *ref)
{
	switch (ref->holder) {
	case SCAN_HOLDER_HEAP:
		if (!ref->has_object) {
			fprintf(out, "heap, outside any chunk");
			break;
		}
		fprintf(out, "%s0x%" PRIx64 "+0x%" PRIx64 " (%" PRIu64 " bytes%s)",
			ref->object.mmapped ? "mmapped chunk " : "object ", ref->object.user,
			ref->addr - ref->object.user, ref->object.size,
			ref->object.in_use ? "" : ref->object.top ? ", top chunk" :
			ref->object.free_list == HEAPWALK_FREE_TCACHE ? ", freed: tcache" :
			ref->object.free_list == HEAPWALK_FREE_FASTBIN ? ", freed: fastbin" :
			", free");
		if (ref->class_name)
			fprintf(out, " %s", ref->class_name);
		break;
	case SCAN_HOLDER_GLOBAL:
		if (ref->symbol)
			fprintf(out, "%s+0x%" PRIx64, ref->symbol, ref->symbol_offset);
		else
			fprintf(out, "global data, no symbol");
		break;
	case SCAN_HOLDER_STACK:
		fprintf(out, "thread %d", ref->tid);
		if (ref->frame)
			fprintf(out, " frame #%ld %s+0x%" PRIx64, ref->frame_index, ref->frame,
				ref->frame_offset);
		else if (ref->frame_index >= 0)
			fprintf(out, " frame #%ld", ref->frame_index);
		if (ref->dead_stack)
			fprintf(out, " (below sp: dead stack, stale)");
		break;
	case SCAN_HOLDER_REGION:
		fprintf(out, "region+0x%" PRIx64, ref->region_offset);
		break;
	}
}

/* The thread's frames, innermost first, like gdb's bt. */
static void text_backtrace(FILE *out, const struct unwind_stack *st)
{
	if (!st)
		return;
	fprintf(out, "  backtrace of thread %d:\n", st->tid);
	for (size_t k = 0; k < st->n; k++) {
		const struct unwind_frame *fr = &st->frames[k];
		fprintf(out, "    #%-2zu 0x%016" PRIx64 " sp 0x%" PRIx64 " ", k, fr->ip, fr->sp);
		if (fr->func[0])
			fprintf(out, "%s+0x%" PRIx64 "\n", fr->func, fr->func_offset);
		else
			fprintf(out, "??\n");
	}
	if (st->error[0])
		fprintf(out, "    (%s)\n", st->error);
}

/* What the scan did not read, so as not to fault it into the target. */
static void print_pages(FILE *out, const struct scan_result *r)
{
	char a[32], b[32], c[32];
	if (r->file_bytes)
		fprintf(out, "%s of never-written file pages read from the files; ",
			format_size(a, sizeof(a), r->file_bytes));
	fprintf(out, "not read: %s not resident (nothing there to fault in)",
		format_size(b, sizeof(b), r->absent_bytes));
	if (r->swapped_bytes)
		fprintf(out, ", %s swapped out, not scanned (--scan-swapped reads them)",
			format_size(c, sizeof(c), r->swapped_bytes));
	fputc('\n', out);
}

/* What the target points to, attributed as holders are. */
static void text_points_to(FILE *out, const struct mt_snapshot *s, const struct scan_result *r)
{
	if (!r->points_to_read) {
		fprintf(out, "\nPoints to: not read (the target is larger than %u KiB)\n",
			SCAN_POINTS_TO_MAX >> 10);
		return;
	}
	fprintf(out, "\nPoints to (%zu)\n", r->n_points_to);
	for (size_t i = 0; i < r->n_points_to; i++) {
		const struct scan_ref *p = &r->points_to[i];
		const struct mt_region *reg = &s->regions[p->region];
		fprintf(out, "  +0x%" PRIx64 " -> 0x%" PRIx64 "  %s ", p->from - r->lo, p->value,
			region_category_name(reg->category));
		text_holder(out, p);
		fputc('\n', out);
	}
}

static void print_text(FILE *out, const struct mt_snapshot *s, long ti,
		       const struct scan_result *r, const struct frozen_stats *fz,
		       bool max_stop_hit)
{
	char size[32];
	fprintf(out, "References into 0x%" PRIx64 "-0x%" PRIx64 " (%s", r->lo, r->hi,
		format_size(size, sizeof(size), r->hi - r->lo));
	if (ti >= 0) {
		fprintf(out, ", %s", region_category_name(s->regions[ti].category));
		if (s->regions[ti].path_len) {
			fputc(' ', out);
			escape_bytes(out, s->regions[ti].path, s->regions[ti].path_len);
		}
	}
	fprintf(out, ") in process %d (%s)\n", s->pid, s->info.comm);
	fprintf(out, "scanned %s in %zu regions in %.3f s", format_size(size, sizeof(size),
		r->scanned_bytes), r->scanned_regions, r->seconds);
	if (r->threads > 1)
		fprintf(out, " by %u threads", r->threads);
	if (fz->frozen)
		fprintf(out, ", target stopped %.0f ms", fz->stopped_ms);
	else
		fprintf(out, ", target running (--no-freeze)");
	fprintf(out, "; %zu regions skipped (unreadable), %zu excluded\n", r->skipped_regions,
		r->excluded_regions);
	print_pages(out, r);
	if (fz->frozen && fz->not_stopped)
		fprintf(out, "warning: %zu thread%s ran during the scan (its stack and what it "
			"wrote may be inconsistent):\n", fz->not_stopped,
			fz->not_stopped == 1 ? "" : "s");
	for (size_t i = 0; fz->frozen && i < fz->n_unstopped; i++) {
		char why[160];
		fprintf(out, "  thread %d: %s\n", (int)fz->unstopped[i].tid,
			freeze_why(&fz->unstopped[i], why, sizeof(why)));
	}
	for (size_t i = 0; i < r->n_walk_errors; i++)
		fprintf(out, "warning: %s\n", r->walk_errors[i]);
	if (r->cancelled)
		fprintf(out, "scan cancelled: the list is incomplete\n");
	if (max_stop_hit)
		fprintf(out, "(cut short at --max-stop: the target had stood still that long)\n");
	fprintf(out, "%" PRIu64 " reference%s", r->refs_total, r->refs_total == 1 ? "" : "s");
	if (r->refs_total > r->n_refs)
		fprintf(out, " (first %zu listed)", r->n_refs);
	if (r->internal)
		fprintf(out, "; %" PRIu64 " more inside the target itself", r->internal);
	fprintf(out, "\n");
	for (size_t g = 0; g < r->n_groups; g++) {
		const struct scan_group *grp = &r->groups[g];
		const struct mt_region *reg = &s->regions[grp->region];
		fprintf(out, "\n");
		text_region(out, reg);
		fprintf(out, ": %zu\n", grp->n);
		size_t dead = 0, freed = 0;
		for (size_t k = grp->first; k < grp->first + grp->n; k++) {
			const struct scan_ref *ref = &r->refs[k];
			/* Stale copies below a stack pointer or in freed
			 * chunks are noise to a reader: counted here, listed
			 * in the JSON. */
			if (ref->holder == SCAN_HOLDER_STACK && ref->dead_stack) {
				dead++;
				continue;
			}
			if (ref->holder == SCAN_HOLDER_HEAP && ref->stale_free) {
				freed++;
				continue;
			}
			fprintf(out, "  0x%" PRIx64 " -> 0x%" PRIx64 "  ", ref->addr, ref->value);
			text_holder(out, ref);
			fputc('\n', out);
		}
		if (dead)
			fprintf(out, "  + %zu stale cop%s below the stack pointer (dead stack, "
				"not live references)\n", dead, dead == 1 ? "y" : "ies");
		if (freed)
			fprintf(out, "  + %zu stale cop%s in freed chunks (tcache, fastbin or "
				"free: not live references)\n", freed, freed == 1 ? "y" : "ies");
		if (reg->category == MT_CAT_STACK && reg->tid)
			text_backtrace(out, scan_result_stack(r, reg->tid));
	}
	text_points_to(out, s, r);
}

int refs_report(FILE *out, const struct mt_options *opt, struct mt_error *err)
{
	struct frozen_scan_options o = {
		.pid = opt->pid,
		.no_freeze = opt->no_freeze,
		.max_stop_ms = opt->max_stop_ms,
		.scan_swapped = opt->scan_swapped,
	};
	if (scan_parse_spec(opt->refs, &o.spec, err) < 0)
		return -1;
	if (opt->pid <= 0)
		return mt_error_set(err, MT_ERR_USAGE, 0, "--refs needs -p PID");
	if (proc_open(&o.proc, opt->pid, err) < 0)
		return -1;

	struct symbols_cache cache;
	struct mt_snapshot s;
	struct scan_result res;
	struct frozen_scan_info info;
	int rc = 0;
	symbols_cache_init(&cache);
	snapshot_init(&s);
	scan_result_init(&res);
	o.symbols = &cache;
	if (frozen_scan(&o, &s, &res, &info, err) < 0)
		rc = -1;
	else if (opt->json)
		print_json(out, &s, info.region, &res, &info.stats, info.max_stop_hit);
	else
		print_text(out, &s, info.region, &res, &info.stats, info.max_stop_hit);
	symbols_cache_free(&cache);
	scan_result_free(&res);
	snapshot_free(&s);
	proc_close(o.proc);
	return rc;
}
