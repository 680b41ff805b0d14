/*
 * origin_print.c - --trace in the batch reports (include/memtop/origin_print.h).
 */
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "memtop/format.h"
#include "memtop/origin_print.h"
#include "memtop/escape.h"
#include "memtop/trace.h"

static const struct mt_stack *stack_of(const struct mt_traced *t, long id)
{
	return t && id >= 0 && (size_t)id < t->stacks.n ? &t->stacks.v[id] : NULL;
}

void origin_print_json_stack(struct json *j, const char *key, const struct mt_traced *t,
			     long id)
{
	const struct mt_stack *st = stack_of(t, id);
	if (!st) {
		json_null(j, key);
		return;
	}
	json_array_begin(j, key);
	for (uint32_t i = 0; i < st->n; i++) {
		const struct mt_frame *f = &st->frames[i];
		json_object_begin(j, NULL);
		json_addr(j, "ip", f->ip);
		json_str(j, "symbol", f->symbol);
		json_u64(j, "offset", f->offset);
		json_str(j, "module", f->module);
		json_bool(j, "inlined", f->inlined);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_tevent(struct json *j, const struct mt_traced *t, const struct mt_tevent *e,
			const struct mt_snapshot *s)
{
	char perms[5];
	uint64_t len = origins_event_len(e, s);
	origins_event_perms(e, perms);
	json_object_begin(j, NULL);
	json_str(j, "kind", e->kind == MT_TEV_MAP ? "map" : "unmap");
	json_addr(j, "start", e->start);
	json_addr(j, "end", e->start + len);
	json_u64(j, "size", len);
	json_str(j, "perms", perms);
	json_str(j, "category", region_category_name(origins_event_category(e, s)));
	json_str(j, "path", e->path ? e->path : "");
	json_double(j, "time", e->time, 6);
	json_i64(j, "tid", e->tid);
	json_bool(j, "traced", true);
	json_str(j, "call", trace_call_name(e->call));
	if (e->call == TRACE_MMAP || e->call == TRACE_MREMAP)
		json_i64(j, "flags", e->flags);
	else
		json_null(j, "flags");
	origin_print_json_stack(j, "stack", t, e->stack);
	json_object_end(j);
}

static void json_diff_event(struct json *j, const struct mt_event *ev)
{
	char perms[5];
	region_perms_str(ev->perms, perms);
	json_object_begin(j, NULL);
	json_str(j, "kind", ev->kind == MT_EV_MAP ? "map" : "unmap");
	json_addr(j, "start", ev->start);
	json_addr(j, "end", ev->end);
	json_u64(j, "size", ev->end - ev->start);
	json_str(j, "perms", perms);
	json_str(j, "category", region_category_name(ev->category));
	json_str(j, "path", ev->path ? ev->path : "");
	json_double(j, "time", ev->time, 6);
	json_null(j, "tid");
	json_bool(j, "traced", false);
	json_null(j, "call");
	json_null(j, "flags");
	json_null(j, "stack");
	json_object_end(j);
}

void origin_print_json_events(struct json *j, const struct mt_traced *t,
			      const struct mt_events *diff, const struct mt_snapshot *s)
{
	json_array_begin(j, "events");
	for (size_t i = 0; t && i < t->events.n; i++)
		json_tevent(j, t, &t->events.v[i], s);
	for (size_t i = 0; i < diff->n; i++)
		if (!t || !t->on || !traced_explains(t, &diff->v[i]))
			json_diff_event(j, &diff->v[i]);
	json_array_end(j);
}

void origin_print_json_origins(struct json *j, const char *key, const struct mt_traced *t,
			       uint32_t major, uint32_t minor, uint64_t inode)
{
	if (!t || !t->on) {
		json_null(j, key);
		return;
	}
	size_t first, n = origins_groups_find(&t->groups, major, minor, inode, &first);
	json_array_begin(j, key);
	for (size_t i = first; i < first + n; i++) {
		const struct mt_origin_group *g = &t->groups.v[i];
		json_object_begin(j, NULL);
		json_u64(j, "count", g->count);
		json_u64(j, "bytes", g->bytes);
		origin_print_json_stack(j, "stack", t, g->stack);
		json_object_end(j);
	}
	json_array_end(j);
}

void origin_print_json_state(struct json *j, const struct mt_traced *t)
{
	if (!t || !t->asked) {
		json_null(j, "trace");
		return;
	}
	json_object_begin(j, "trace");
	json_bool(j, "on", t->on);
	json_str_or_null(j, "reason", t->reason[0] ? t->reason : NULL);
	json_u64(j, "events", t->count.total);
	json_u64(j, "lost", t->count.lost);
	json_u64(j, "failed", t->count.failed);
	json_u64(j, "threads", t->count.threads);
	json_u64(j, "stacks", t->count.stacks_seen);
	json_u64(j, "untraced", t->count.untraced);
	json_double(j, "cpu", t->count.cpu, 3);
	json_object_end(j);
}

void origin_print_text_state(FILE *out, const struct mt_traced *t)
{
	if (!t || !t->asked)
		return;
	if (!t->on) {
		fprintf(out, "Trace: off (%s)\n", t->reason[0] ? t->reason : "stopped");
		return;
	}
	const struct mt_trace_counts *c = &t->count;
	fprintf(out, "Trace: %" PRIu64 " events from %" PRIu64 " threads, %zu stacks, %" PRIu64
		" lost, %" PRIu64 " untraced this refresh, %.2fs CPU\n",
		c->total, c->threads, c->stacks_seen, c->lost, c->untraced, c->cpu);
}

static void text_tevent(FILE *out, const struct mt_traced *t, const struct mt_tevent *e,
			const struct mt_snapshot *s)
{
	char size[32], perms[5], line[512];
	origins_event_perms(e, perms);
	format_size(size, sizeof(size), origins_event_len(e, s));
	origins_stack_line(line, sizeof(line), stack_of(t, e->stack));
	fprintf(out, "%-5s 0x%012" PRIx64 " %10s %s %-6s tid %-7d %s ",
		e->kind == MT_TEV_MAP ? "map" : "unmap", e->start, size, perms,
		trace_call_name(e->call), e->tid, line);
	if (e->path)
		escape_bytes(out, e->path, strlen(e->path));
	fputc('\n', out);
}

void origin_print_text_events(FILE *out, const struct mt_traced *t,
			      const struct mt_events *diff, const struct mt_snapshot *s)
{
	if (!t->events.n && !diff->n)
		return;
	fprintf(out, "\nEVENTS (traced)\n");
	for (size_t i = 0; i < t->events.n; i++)
		text_tevent(out, t, &t->events.v[i], s);
	for (size_t i = 0; i < diff->n; i++) {
		const struct mt_event *ev = &diff->v[i];
		char size[32], perms[5];
		if (t->on && traced_explains(t, ev))
			continue;
		region_perms_str(ev->perms, perms);
		format_size(size, sizeof(size), ev->end - ev->start);
		fprintf(out, "%-5s 0x%012" PRIx64 " %10s %s (untraced: seen by the snapshots) ",
			ev->kind == MT_EV_MAP ? "map" : "unmap", ev->start, size, perms);
		if (ev->path)
			escape_bytes(out, ev->path, strlen(ev->path));
		fputc('\n', out);
	}
}

void origin_print_text_origins(FILE *out, const struct mt_traced *t, uint32_t major,
			       uint32_t minor, uint64_t inode, size_t max)
{
	if (!t || !t->on)
		return;
	size_t first, n = origins_groups_find(&t->groups, major, minor, inode, &first);
	for (size_t i = first; i < first + n && i < first + max; i++) {
		const struct mt_origin_group *g = &t->groups.v[i];
		char bytes[32], line[512];
		format_size(bytes, sizeof(bytes), g->bytes);
		if (g->stack < 0)
			snprintf(line, sizeof(line), "(mapped before tracing began)");
		else
			origins_stack_line(line, sizeof(line), stack_of(t, g->stack));
		fprintf(out, "%8s %" PRIu64 " x, %s from %s\n", "", g->count, bytes, line);
	}
}
