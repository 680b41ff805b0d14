/*
 * detail.c - one region up close: what maps says, every smaps field, its
 * flags, its first bytes, and the drill-down actions on it.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/clock.h"
#include "memtop/format.h"
#include "memtop/proc.h"
#include "actions.h"
#include "app.h"
#include "detail.h"
#include "drilldown.h"
#include "keys.h"
#include "lines.h"
#include "screen.h"
#include "theme.h"

static const struct tui_column detail_cols[] = {
	{ "FIELD", 16, false, false, 0, false },
	{ "VALUE", 0, false, false, 0, false },
};

/* What the two-letter VmFlags of smaps mean (proc(5)). */
static const char *vmflag_meaning(const char *f)
{
	static const char *const table[][2] = {
		{ "rd", "readable" }, { "wr", "writable" }, { "ex", "executable" },
		{ "sh", "shared" }, { "mr", "may read" }, { "mw", "may write" },
		{ "me", "may execute" }, { "ms", "may share" }, { "gd", "grows down" },
		{ "pf", "pure PFN range" }, { "dw", "writes to the file disabled" },
		{ "lo", "locked" }, { "io", "I/O memory" }, { "sr", "sequential read advised" },
		{ "rr", "random read advised" }, { "dc", "not copied on fork" },
		{ "de", "not expanded on remap" }, { "ac", "accounted" },
		{ "nr", "no swap reserved" }, { "ht", "huge TLB pages" }, { "sf", "sync fault" },
		{ "ar", "architecture specific" }, { "wf", "wiped on fork" },
		{ "dd", "not in core dumps" }, { "sd", "soft-dirty" }, { "mm", "mixed map" },
		{ "hg", "huge pages advised" }, { "nh", "no huge pages advised" },
		{ "mg", "mergeable (KSM)" }, { "um", "userfaultfd missing" },
		{ "uw", "userfaultfd write-protect" }, { "ss", "shadow stack" },
		{ "sl", "sealed" }, { "bt", "BTI guarded" }, { "mt", "MTE tags" },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i][0], f))
			return table[i][1];
	return NULL;
}

/* In a replay: the scans of this region the recording holds (what s
 * shows), by the sample they were taken at. */
static void add_recorded_scans(struct tui_app *a, struct tui_lines *L,
			       const struct mt_region *r)
{
	char at[160];
	size_t n = 0, o = 0;
	at[0] = '\0';
	for (size_t i = 0; i < a->n_scans; i++) {
		if (a->scans[i].lo != r->start || a->scans[i].parent)
			continue;
		long k = replay_find_id(a->ses.replay, a->scans[i].sample);
		if (n++ < 8 && o < sizeof(at))
			o += (size_t)snprintf(at + o, sizeof(at) - o, "%s#%ld", o ? " " : "",
					      k + 1);
	}
	if (n == 0)
		lines_add(L, LINE_DIM, "Recorded scans", "%s",
			  "none (a new scan needs a live process)");
	else
		lines_add(L, LINE_PLAIN, "Recorded scans", "%zu, at sample%s %s%s (s shows one)",
			  n, n == 1 ? "" : "s", at, n > 8 ? " ..." : "");
}

static void add_region(struct tui_app *a, struct tui_lines *L)
{
	const struct mt_region *r = &a->detail_region;
	char b[32], perms[5];
	region_perms_str(r->perms, perms);
	lines_add(L, LINE_TITLE, "Region", "0x%012" PRIx64 "-0x%012" PRIx64 "  %s", r->start,
		  r->end, format_size(b, sizeof(b), mt_region_size(r)));
	if (a->detail_gone)
		lines_add(L, LINE_WARN, "", "%s", "this region has been unmapped; "
			  "the figures are its last ones");
	lines_add(L, LINE_PLAIN, "Permissions", "%s", perms);
	lines_add(L, LINE_PLAIN, "Category", "%s", region_category_name(r->category));
	if (r->path_len) {
		lines_add(L, LINE_PATH, "File", "%s", a->detail_path);
		lines_add(L, LINE_PLAIN, "Offset", "0x%" PRIx64 " (%s)", r->offset,
			  format_size(b, sizeof(b), r->offset));
		lines_add(L, LINE_PLAIN, "Device, inode", "%02x:%02x %" PRIu64, r->dev_major,
			  r->dev_minor, r->inode);
		if (r->deleted || r->deleted_suffix)
			lines_add(L, r->deleted ? LINE_WARN : LINE_PLAIN, "Deleted", "%s",
				  r->deleted ? "yes: the file is gone" :
				  "no (the name ends in \" (deleted)\")");
	} else {
		lines_add(L, LINE_PLAIN, "File", "%s", "none (anonymous)");
	}
	if (r->category == MT_CAT_STACK && r->tid)
		lines_add(L, LINE_PLAIN, "Thread", "%d", r->tid);
	const struct mt_snapshot *s = app_snap(a);
	if (s && r->first_seen > 0)
		lines_add(L, LINE_PLAIN, "Age", "%s",
			  format_duration(b, sizeof(b), s->mono - r->first_seen));
	if (a->ses.replay)
		add_recorded_scans(a, L, r);
}

/* --trace: the stack that mapped the region, a frame a line. */
static void add_origin(struct tui_app *a, struct tui_lines *L)
{
	const struct mt_traced *t = &a->ses.traced;
	if (!t->asked)
		return;
	if (!t->on) {
		lines_add(L, LINE_TITLE, "Mapped by", "%s", "");
		lines_add(L, LINE_DIM, "", "not traced: %s", t->reason);
		return;
	}
	long id = origins_stack_of(&t->origins, a->detail_region.start);
	if (id < 0 || (size_t)id >= t->stacks.n) {
		lines_add(L, LINE_TITLE, "Mapped by", "%s", "");
		lines_add(L, LINE_DIM, "", "%s", "before tracing began (or a record was lost)");
		return;
	}
	const struct mt_stack *st = &t->stacks.v[id];
	lines_add(L, LINE_TITLE, "Mapped by", "%u frames", st->n);
	for (uint32_t i = 0; i < st->n; i++) {
		const struct mt_frame *f = &st->frames[i];
		const char *slash = strrchr(f->module, '/');
		char at[24];
		snprintf(at, sizeof(at), "#%u", i);
		if (f->symbol[0])
			lines_add(L, f->inlined ? LINE_DIM : LINE_PLAIN, at,
				  "%s%s+0x%" PRIx64 "  %s", f->inlined ? "(inlined) " : "",
				  f->symbol, f->offset, slash ? slash + 1 : f->module);
		else
			lines_add(L, LINE_PLAIN, at, "0x%" PRIx64 "  %s", f->ip,
				  slash ? slash + 1 : f->module);
	}
}

static void add_smaps(struct tui_app *a, struct tui_lines *L)
{
	const struct mt_region_detail *d = &a->rd;
	char b[32];
	lines_add(L, LINE_TITLE, "smaps", "%s", "");
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct mt_smaps_field *f = &d->fields[i];
		if (f->kb)
			lines_add(L, f->value ? LINE_PLAIN : LINE_DIM, f->name, "%s",
				  format_size(b, sizeof(b), f->value));
		else
			lines_add(L, LINE_PLAIN, f->name, "%" PRIu64, f->value);
	}
	if (!d->vmflags[0])
		return;
	lines_add(L, LINE_PLAIN, "VmFlags", "%s", d->vmflags);
	/* The meanings, a few to a line. */
	char line[200] = "", flags[sizeof(d->vmflags)], *save = NULL;
	snprintf(flags, sizeof(flags), "%s", d->vmflags);
	for (char *f = strtok_r(flags, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		const char *m = vmflag_meaning(f);
		if (!m)
			continue;
		if (strlen(line) + strlen(m) + 2 > 56) {
			lines_add(L, LINE_DIM, "", "%s", line);
			line[0] = '\0';
		}
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s",
			 line[0] ? ", " : "", m);
	}
	if (line[0])
		lines_add(L, LINE_DIM, "", "%s", line);
}

/* A stack's live part starts at its thread's stack pointer (16-byte
 * aligned, for the dump's rows): the address to dump from, or 0. */
static uint64_t stack_pointer(const struct tui_app *a)
{
	const struct mt_region *r = &a->detail_region;
	const struct mt_snapshot *s = app_snap(a);
	if (r->category != MT_CAT_STACK || !s)
		return 0;
	for (size_t i = 0; i < s->n_threads; i++) {
		uint64_t sp = s->threads[i].sp;
		if (sp >= r->start && sp < r->end)
			return sp & ~(uint64_t)15;
	}
	return 0;
}

/* xxd's layout: the address, 16 bytes in pairs, their printable form. */
static void add_bytes(struct tui_app *a, struct tui_lines *L)
{
	const struct mt_region_detail *d = &a->rd;
	if (d->bytes_at != d->start)
		lines_add(L, LINE_TITLE, "Memory", "%zu bytes from the stack pointer", d->n_bytes);
	else
		lines_add(L, LINE_TITLE, "Memory", "first %zu bytes", d->n_bytes);
	if (d->n_bytes == 0) {
		lines_add(L, LINE_DIM, "", "not readable: %s",
			  d->bytes_errno == 0 ? "empty" :
			  d->bytes_errno == 14 /* EFAULT */ ? "no read permission or not backed" :
			  d->bytes_errno == ENODATA ? "not resident (not read: that would "
						      "fault it into the process)" :
			  strerror(d->bytes_errno));
		return;
	}
	for (size_t off = 0; off < d->n_bytes; off += 16) {
		char hex[64] = "", asc[17] = "";
		size_t h = 0;
		for (size_t i = 0; i < 16; i++) {
			if (off + i < d->n_bytes) {
				unsigned char c = d->bytes[off + i];
				h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%02x", c);
				asc[i] = isprint(c) ? (char)c : '.';
				asc[i + 1] = '\0';
			} else {
				h += (size_t)snprintf(hex + h, sizeof(hex) - h, "  ");
			}
			if (i % 2 == 1)
				h += (size_t)snprintf(hex + h, sizeof(hex) - h, " ");
		}
		char name[24];
		snprintf(name, sizeof(name), "%012" PRIx64, d->bytes_at + off);
		lines_add(L, LINE_PLAIN, name, "%s %s", hex, asc);
	}
}

static void build(struct tui_app *a)
{
	struct tui_lines *L = &a->detail_lines;
	L->n = 0;
	add_region(a, L);
	add_origin(a, L);
	if (a->rd.start == a->detail_region.start && a->rd.n_fields) {
		add_smaps(a, L);
		add_bytes(a, L);
	}
	list_rebuild(&a->detail_list);
}

void detail_refresh(struct tui_app *a)
{
	const struct mt_snapshot *s = app_snap(a);
	long k = s ? snapshot_find(s, a->detail_start) : -1;
	if (k >= 0 && s->regions[k].start == a->detail_start) {
		a->detail_region = s->regions[k];
		snprintf(a->detail_path, sizeof(a->detail_path), "%s", s->regions[k].path);
		a->detail_region.path = a->detail_path;
		a->detail_gone = false;
	} else {
		a->detail_gone = true;
	}
	/* smaps is read up to the region, which on a process with tens of
	 * thousands of mappings costs as much as a refresh's own smaps read:
	 * the same budget rule applies. */
	bool due = a->rd.start != a->detail_start ||
		   proc_smaps_due(a->rd.read_at, a->rd.read_cost, clock_mono());
	if (!a->detail_gone && !a->exited && !a->ses.replay && due) {
		struct mt_error err;
		mt_error_clear(&err);
		struct mt_region_detail *rd = malloc(sizeof(*rd));
		if (rd) {
			int rc = regiondetail_read(a->ses.pid, a->detail_start,
						   stack_pointer(a), rd, &err);
			if (rc == 0)
				a->rd = *rd;
			else if (rc == 1)
				a->detail_gone = true;
			else
				tui_status(a, "%s", err.msg);
			free(rd);
		}
	}
	build(a);
}

void detail_open(struct tui_app *a, const struct mt_region *r)
{
	a->detail_start = r->start;
	a->detail_region = *r;
	snprintf(a->detail_path, sizeof(a->detail_path), "%s", r->path);
	a->detail_region.path = a->detail_path;
	memset(&a->rd, 0, sizeof(a->rd));
	list_init(&a->detail_list, detail_cols, 2, &lines_ops, &a->detail_lines, -1);
	a->detail_list.no_cursor = true;
	detail_refresh(a);
	screen_push(a, &screen_detail);
}

void detail_close(struct tui_app *a)
{
	screen_close(a, &screen_detail);
}

void detail_free(struct tui_app *a)
{
	drilldown_close(a); /* the process handle of a first step that failed */
	list_free(&a->detail_list);
	lines_free(&a->detail_lines);
}

void detail_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	list_draw(&a->detail_list, w, 0, 0, h - 1, width);
	actions_draw(w, h - 1, width, SC_DETAIL);
}
