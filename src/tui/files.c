/*
 * files.c - the Files view: mapping growth per backing file, and
 * anonymous memory grouped by size the same way.
 */
#include <limits.h>
#include <string.h>

#include "spark.h"
#include "views.h"

enum { FC_REGIONS, FC_DREG, FC_VIRT, FC_RATE, FC_SPARK, FC_SIZES, FC_ORIGIN, FC_PATH,
       FC_NCOLS };

#define FILE_COLS(origin_min) {                                         \
	[FC_REGIONS] = { "REGIONS", 7, true, true, 0, true },           \
	[FC_DREG] = { "+-REG", 6, true, true, 0, true },                \
	[FC_VIRT] = { "VIRTUAL", 9, true, true, 0, true },              \
	[FC_RATE] = { "/MIN", 6, true, true, 0, true },                 \
	[FC_SPARK] = { "HISTORY", 12, false, false, 0, false },         \
	[FC_SIZES] = { "SIZES", 16, false, false, 0, false },           \
	[FC_ORIGIN] = { "MAPPED BY", 44, false, false, origin_min, false }, \
	[FC_PATH] = { "FILE", 0, false, false, 0, true },               \
}

/* --trace: the call path of most of the live bytes; without it, never. */
static const struct tui_column file_cols[FC_NCOLS] = FILE_COLS(SHRT_MAX);
static const struct tui_column file_cols_traced[FC_NCOLS] = FILE_COLS(120);

/* Item n_files is anonymous memory. */
static size_t files_count(void *ctx)
{
	return ((struct tui_app *)ctx)->ses.model.growth.n_files + 1;
}

struct file_fig {
	const char *path;
	uint64_t regions;
	int64_t dreg;
	uint64_t virt;
	double rate;
	bool present;
	const struct mt_buckets *b;
};

static void file_fig(const struct tui_app *a, size_t item, struct file_fig *f)
{
	const struct mt_growth *g = &a->ses.model.growth;
	if (item < g->n_files) {
		const struct mt_file *mf = &g->files[item];
		*f = (struct file_fig){ mf->path, mf->regions, mf->delta_regions, mf->virt,
					mf->rate_per_min, mf->present, &mf->buckets };
		return;
	}
	*f = (struct file_fig){ .path = "(anonymous)", .present = true, .b = &g->anon };
	for (size_t i = 0; i < g->anon.n; i++) {
		f->regions += g->anon.v[i].count;
		f->dreg += g->anon.v[i].delta;
		f->virt += g->anon.v[i].size * g->anon.v[i].count;
	}
	double minutes = a->ses.have_snap ? (app_snap(a)->mono - a->ses.model.t0) / 60.0 : 0;
	f->rate = minutes > 0 ? (double)f->dreg / minutes : 0;
}

static int files_compare(void *ctx, size_t ia, size_t ib, int col)
{
	struct file_fig x, y;
	file_fig(ctx, ia, &x);
	file_fig(ctx, ib, &y);
	switch (col) {
	case FC_REGIONS: return cmp_u64(x.regions, y.regions);
	case FC_DREG: return cmp_i64(x.dreg, y.dreg);
	case FC_VIRT: return cmp_u64(x.virt, y.virt);
	case FC_RATE: return cmp_dbl(x.rate, y.rate);
	case FC_PATH: return strcmp(x.path, y.path);
	}
	return 0;
}

/* "256 KiB × 1800  4 KiB × 2": the buckets that fit in cols columns
 * whole; "+N" says how many sizes more there are. */
static void sizes_str(const struct tui_app *a, const struct mt_buckets *b, int cols,
		      char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < b->n; i++) {
		char sz[24], item[64], more[16];
		snprintf(item, sizeof(item), "%s%s %s %" PRIu32, i ? "  " : "",
			 format_size(sz, sizeof(sz), b->v[i].size), a->gl->times, b->v[i].count);
		snprintf(more, sizeof(more), " +%zu", b->n - i - 1);
		int used = text_width(out, o, a->gl->utf8);
		int need = text_width(item, strlen(item), a->gl->utf8) +
			   (i + 1 < b->n ? (int)strlen(more) : 0);
		if (i > 0 && used + need > cols) {
			snprintf(out + o, cap - o, " +%zu", b->n - i);
			return;
		}
		int w = snprintf(out + o, cap - o, "%s", item);
		if (w < 0 || (size_t)w >= cap - o)
			return;
		o += (size_t)w;
	}
}

/* "12x fx::Windows::leak <- main": the origin of the most live bytes of
 * the file (of anonymous memory for the last item), and how many others
 * there are; "" when not tracing. */
static void origin_str(const struct tui_app *a, size_t item, char *out, size_t cap)
{
	const struct mt_traced *t = &a->ses.traced;
	const struct mt_growth *g = &a->ses.model.growth;
	out[0] = '\0';
	if (!t->on)
		return;
	uint32_t major = 0, minor = 0;
	uint64_t inode = 0;
	if (item < g->n_files) {
		major = g->files[item].dev_major;
		minor = g->files[item].dev_minor;
		inode = g->files[item].inode;
	}
	size_t first, n = origins_groups_find(&t->groups, major, minor, inode, &first);
	for (size_t i = first; i < first + n; i++) {
		const struct mt_origin_group *o = &t->groups.v[i];
		if (o->stack < 0 || (size_t)o->stack >= t->stacks.n)
			continue;
		char line[192];
		origins_stack_line(line, sizeof(line), &t->stacks.v[o->stack]);
		snprintf(out, cap, "%" PRIu64 "%s %s%s", o->count, a->gl->times, line,
			 n > 1 ? " +" : "");
		return;
	}
}

static void files_row(void *ctx, const struct tui_row *row, size_t item)
{
	struct tui_app *a = ctx;
	struct file_fig f;
	char b[256];
	file_fig(a, item, &f);
	attr_t base = f.present ? theme(TC_NORMAL) : theme(TC_DIM);

	snprintf(b, sizeof(b), "%" PRIu64, f.regions);
	list_cell(row, FC_REGIONS, b, base, TEXT_CUT_RIGHT);
	list_cell(row, FC_DREG, count_delta(b, sizeof(b), f.dreg), delta_attr(f.dreg),
		  TEXT_CUT_RIGHT);
	list_cell(row, FC_VIRT, format_size(b, sizeof(b), f.virt), base, TEXT_CUT_RIGHT);
	snprintf(b, sizeof(b), f.rate == 0 ? "0" : "%+.1f", f.rate);
	list_cell(row, FC_RATE, b, delta_attr((int64_t)(f.rate * 10)), TEXT_CUT_RIGHT);

	const struct mt_growth *g = &a->ses.model.growth;
	int sw = row->list->col_w[FC_SPARK];
	if (item < g->n_files) {
		const struct mt_file *mf = &g->files[item];
		spark_render(b, sizeof(b), mf->spark, GROWTH_SPARK, mf->spark_head, mf->spark_n,
			     sw, a->gl);
	} else {
		spark_render(b, sizeof(b), g->anon_spark, GROWTH_SPARK, g->anon_spark_head,
			     g->anon_spark_n, sw, a->gl);
	}
	list_cell(row, FC_SPARK, b, f.dreg > 0 ? theme(TC_GROW) : theme(TC_LABEL), TEXT_CLIP);
	sizes_str(a, f.b, row->list->col_w[FC_SIZES], b, sizeof(b));
	list_cell(row, FC_SIZES, b, base, TEXT_CUT_RIGHT);
	origin_str(a, item, b, sizeof(b));
	list_cell(row, FC_ORIGIN, b, theme(TC_NORMAL), TEXT_CUT_RIGHT);
	bool deleted = item < g->n_files && g->files[item].deleted;
	snprintf(b, sizeof(b), "%s%s", f.path, deleted ? " (deleted)" : "");
	list_cell(row, FC_PATH, b, deleted ? theme(TC_WARN) : item < g->n_files ? base :
		  theme(TC_DIM), TEXT_CUT_LEFT);
}

static void files_text(void *ctx, size_t item, char *buf, size_t cap)
{
	struct file_fig f;
	file_fig(ctx, item, &f);
	snprintf(buf, cap, "%s", f.path);
}

/* Files by device and inode; anonymous memory by a value no file has. */
static uint64_t files_key(void *ctx, size_t item)
{
	const struct mt_growth *g = &((struct tui_app *)ctx)->ses.model.growth;
	if (item >= g->n_files)
		return UINT64_MAX;
	const struct mt_file *f = &g->files[item];
	return f->inode * 1000003u ^ ((uint64_t)f->dev_major << 40) ^ f->dev_minor;
}

static const struct tui_list_ops files_ops = {
	.count = files_count,
	.draw_row = files_row,
	.compare = files_compare,
	.text = files_text,
	.key = files_key,
};

void files_enter(struct tui_app *a, size_t item)
{
	/* A file's regions: the Regions view filtered by its path. */
	struct file_fig f;
	file_fig(a, item, &f);
	a->view = VIEW_REGIONS;
	list_set_filter(views_list(a), item < a->ses.model.growth.n_files ? f.path : "[anon]");
}

void files_view_traced(struct tui_app *a)
{
	a->lists[VIEW_FILES].cols = a->ses.traced.asked ? file_cols_traced : file_cols;
}

void files_view_init(struct tui_app *a)
{
	list_init(&a->lists[VIEW_FILES], file_cols, FC_NCOLS, &files_ops, a, FC_DREG);
	a->lists[VIEW_FILES].empty = "no mapped files";
}
