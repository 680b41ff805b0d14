/*
 * drill.c - the drill-down's model: rows, holder names, the next target,
 * the breadcrumb.  No curses: unit-tested on its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/format.h"
#include "memtop/vec.h"
#include "drill.h"

/* ---- rows ------------------------------------------------------------ */

static int push(struct drill_rows *rows, enum drill_row_kind kind, size_t group, size_t index)
{
	if (VEC_RESERVE(rows->v, rows->cap, rows->n, 64))
		return -ENOMEM;
	rows->v[rows->n++] = (struct drill_row){ kind, group, index };
	return 0;
}

static bool stale(const struct scan_ref *ref)
{
	return ref->holder == SCAN_HOLDER_STACK && ref->dead_stack;
}

static int build_group(struct drill_rows *rows, const struct scan_result *res,
		       const struct mt_snapshot *s, size_t g)
{
	const struct scan_group *grp = &res->groups[g];
	size_t dead = 0, freed = 0;
	int rc = push(rows, DROW_GROUP, g, 0);
	for (size_t k = grp->first; rc == 0 && k < grp->first + grp->n; k++) {
		/* Stale copies below a stack pointer or in freed chunks are
		 * noise to a reader: counted, as in the text report, so that
		 * none is ever the row Enter follows. */
		const struct scan_ref *ref = &res->refs[k];
		if (stale(ref))
			dead++;
		else if (ref->holder == SCAN_HOLDER_HEAP && ref->stale_free)
			freed++;
		else
			rc = push(rows, DROW_REF, g, k);
	}
	if (rc == 0 && dead)
		rc = push(rows, DROW_STALE, g, dead);
	if (rc == 0 && freed)
		rc = push(rows, DROW_FREED, g, freed);
	const struct mt_region *reg = &s->regions[grp->region];
	const struct unwind_stack *st = reg->category == MT_CAT_STACK && reg->tid ?
		scan_result_stack(res, reg->tid) : NULL;
	for (size_t f = 0; rc == 0 && st && f < st->n; f++)
		rc = push(rows, DROW_FRAME, g, f);
	return rc;
}

int drill_rows_build(struct drill_rows *rows, const struct scan_result *res,
		     const struct mt_snapshot *s)
{
	rows->n = 0;
	for (size_t g = 0; g < res->n_groups; g++) {
		const struct scan_group *grp = &res->groups[g];
		if (grp->region < 0 || (size_t)grp->region >= s->n_regions ||
		    grp->first + grp->n > res->n_refs)
			continue; /* not from this snapshot: nothing sane to show */
		if (build_group(rows, res, s, g))
			return -ENOMEM;
	}
	if (!res->points_to_read)
		return 0;
	if (push(rows, DROW_OUT_HEAD, 0, res->n_points_to))
		return -ENOMEM;
	for (size_t i = 0; i < res->n_points_to; i++)
		if (res->points_to[i].region >= 0 && (size_t)res->points_to[i].region < s->n_regions &&
		    push(rows, DROW_OUT, 0, i))
			return -ENOMEM;
	return 0;
}

void drill_rows_free(struct drill_rows *rows)
{
	free(rows->v);
	memset(rows, 0, sizeof(*rows));
}

size_t drill_rows_first_ref(const struct drill_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		if (rows->v[i].kind == DROW_REF)
			return i;
	return 0;
}

/* ---- holders --------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

void drill_region_label(char *buf, size_t cap, const struct mt_region *r)
{
	char size[32];
	/* Shared anonymous memory is named /dev/zero: no file to speak of. */
	bool file = r->path_len && strcmp(r->path, "/dev/zero") != 0;
	if (file && r->path[0] == '[')
		snprintf(buf, cap, "%s", r->path);
	else if (file)
		snprintf(buf, cap, "%s", base_name(r->path));
	else
		snprintf(buf, cap, "[%s %s]", region_category_name(r->category),
			 format_size(size, sizeof(size), mt_region_size(r)));
}

static const struct mt_region *ref_region(const struct scan_ref *ref, const struct mt_snapshot *s)
{
	if (ref->region >= 0 && (size_t)ref->region < s->n_regions)
		return &s->regions[ref->region];
	return NULL;
}

void drill_holder_name(char *buf, size_t cap, const struct scan_ref *ref,
		       const struct mt_snapshot *s)
{
	char size[32], reg[128] = "?";
	const struct mt_region *r = ref_region(ref, s);
	if (r)
		drill_region_label(reg, sizeof(reg), r);
	switch (ref->holder) {
	case SCAN_HOLDER_HEAP:
		if (ref->has_object && ref->class_name)
			snprintf(buf, cap, "%s", ref->class_name);
		else if (ref->has_object)
			snprintf(buf, cap, "[heap %s]",
				 format_size(size, sizeof(size), ref->object.size));
		else
			snprintf(buf, cap, "%s+0x%" PRIx64, reg, ref->region_offset);
		return;
	case SCAN_HOLDER_GLOBAL:
		if (ref->symbol)
			snprintf(buf, cap, "%s+0x%" PRIx64, ref->symbol, ref->symbol_offset);
		else
			snprintf(buf, cap, "%s+0x%" PRIx64, reg, ref->region_offset);
		return;
	case SCAN_HOLDER_STACK:
		snprintf(buf, cap, "thread %d", ref->tid);
		return;
	case SCAN_HOLDER_REGION:
		break;
	}
	snprintf(buf, cap, "%s+0x%" PRIx64, reg, ref->region_offset);
}

void drill_holder_where(char *buf, size_t cap, const struct scan_ref *ref,
			const struct mt_snapshot *s)
{
	char size[32];
	const struct mt_region *r = ref_region(ref, s);
	switch (ref->holder) {
	case SCAN_HOLDER_HEAP:
		if (!ref->has_object) {
			snprintf(buf, cap, "heap, outside any chunk");
			return;
		}
		snprintf(buf, cap, "%s 0x%" PRIx64 "+0x%" PRIx64 " (%s%s)",
			 ref->object.mmapped ? "mmapped chunk" : "object", ref->object.user,
			 ref->addr - ref->object.user,
			 format_size(size, sizeof(size), ref->object.size),
			 ref->object.in_use ? "" : ref->object.top ? ", top chunk" :
			 ref->object.free_list == HEAPWALK_FREE_TCACHE ? ", freed: tcache" :
			 ref->object.free_list == HEAPWALK_FREE_FASTBIN ? ", freed: fastbin" :
			 ", free");
		return;
	case SCAN_HOLDER_GLOBAL:
		snprintf(buf, cap, "%s%s", ref->symbol ? "" : "no symbol, ",
			 ref->module ? base_name(ref->module) : r ? base_name(r->path) : "?");
		return;
	case SCAN_HOLDER_STACK:
		if (ref->frame)
			snprintf(buf, cap, "frame #%ld %s+0x%" PRIx64, ref->frame_index,
				 ref->frame, ref->frame_offset);
		else if (ref->frame_index >= 0)
			snprintf(buf, cap, "frame #%ld", ref->frame_index);
		else
			snprintf(buf, cap, "stack+0x%" PRIx64 " (not unwound)",
				 ref->region_offset);
		return;
	case SCAN_HOLDER_REGION:
		break;
	}
	snprintf(buf, cap, "%s", r ? region_category_name(r->category) : "?");
}

void drill_follow_range(const struct scan_ref *ref, const struct mt_snapshot *s,
			uint64_t sym_start, uint64_t sym_size, uint64_t *lo, uint64_t *hi,
			char *label, size_t cap)
{
	const struct mt_region *r = ref_region(ref, s);
	*lo = r ? r->start : ref->addr;
	*hi = r ? r->end : ref->addr + 8;
	if (ref->holder == SCAN_HOLDER_HEAP && ref->has_object && ref->object.size) {
		*lo = ref->object.user;
		*hi = ref->object.user + ref->object.size;
		drill_holder_name(label, cap, ref, s);
	} else if (ref->holder == SCAN_HOLDER_GLOBAL && ref->symbol && sym_size &&
		   sym_start <= ref->addr && ref->addr - sym_start < sym_size) {
		*lo = sym_start;
		*hi = sym_start + sym_size;
		snprintf(label, cap, "%s", ref->symbol);
	} else if (ref->holder == SCAN_HOLDER_STACK) {
		snprintf(label, cap, "[stack %d]", ref->tid);
	} else if (r) {
		drill_region_label(label, cap, r);
	} else {
		snprintf(label, cap, "0x%" PRIx64, ref->addr);
	}
}

/* ---- the breadcrumb ---------------------------------------------------- */

int drill_breadcrumb(char *out, size_t cap, const char *const *labels, size_t n, int cols,
		     const struct tui_glyphs *gl)
{
	char sep[16], joined[2048];
	snprintf(sep, sizeof(sep), " %s ", gl->crumb);
	int sep_w = text_width(sep, strlen(sep), gl->utf8);
	/* The newest steps that fit, with room for a leading ellipsis. */
	size_t first = n;
	int w = 0;
	while (first > 0) {
		const char *l = labels[first - 1];
		int lw = text_width(l, strlen(l), gl->utf8) + (first < n ? sep_w : 0);
		int room = cols - (first > 1 ? 1 + sep_w : 0);
		if (w + lw > room && first < n)
			break;
		w += lw;
		first--;
	}
	size_t o = 0;
	joined[0] = '\0';
	/* An ellipsis beside a newest step that does not fit anyway would
	 * only take its room. */
	if (first > 0 && w + 1 + sep_w <= cols)
		o += (size_t)snprintf(joined, sizeof(joined), "%s%s", gl->ellipsis, sep);
	for (size_t i = first; i < n && o < sizeof(joined); i++)
		o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s", i > first ? sep : "",
				      labels[i]);
	if (o >= sizeof(joined))
		o = sizeof(joined) - 1;
	/* The newest label alone may still be too long: keep its head. */
	return text_fit(out, cap, joined, o, cols, TEXT_CUT_RIGHT, gl->utf8);
}
