/*
 * strip.c - the address-space strip's layout.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strip.h"

struct seg {
	uint64_t start;
	uint64_t end;
	int kind; /* 0: used, else STRIP_GAP or STRIP_LARGEST */
	int cells;
	double frac; /* fractional share, for largest-remainder rounding */
};

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The k largest gaps separate segments; smaller ones are folded into the
 * used segment around them.  *thr is the k-th largest size and *ties how
 * many gaps of exactly that size still get a place (in address order).
 */
static int separators(const struct mt_gaps *g, size_t k, uint64_t *thr, size_t *ties)
{
	*ties = 0;
	if (k == 0 || g->n == 0) {
		*thr = UINT64_MAX;
		return 0;
	}
	if (g->n <= k) {
		*thr = 1;
		*ties = k;
		return 0;
	}
	uint64_t *sz = malloc(g->n * sizeof(*sz));
	if (!sz)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++)
		sz[i] = g->v[i].end - g->v[i].start;
	qsort(sz, g->n, sizeof(*sz), cmp_desc);
	*thr = sz[k - 1] ? sz[k - 1] : 1;
	size_t above = 0;
	while (above < k && sz[above] > *thr)
		above++;
	*ties = k - above;
	free(sz);
	return 0;
}

/* Give every segment at least one cell, the rest by weight; sums to width. */
static void apportion(struct seg *s, size_t ns, int width, const double *w)
{
	double total = 0;
	int spare = width - (int)ns, given = 0;
	for (size_t i = 0; i < ns; i++)
		total += w[i];
	for (size_t i = 0; i < ns; i++) {
		double share = total > 0 ? spare * w[i] / total : 0;
		s[i].cells = 1 + (int)share;
		s[i].frac = share - (int)share;
		given += s[i].cells;
	}
	while (given < width) {
		size_t best = 0;
		for (size_t i = 1; i < ns; i++)
			if (s[i].frac > s[best].frac)
				best = i;
		s[best].cells++;
		s[best].frac = -1;
		given++;
	}
}

/* True when a linear scale gives every segment a cell of its own. */
static bool linear_fits(const struct seg *s, size_t ns, int width, uint64_t span)
{
	for (size_t i = 0; i < ns; i++)
		if ((double)(s[i].end - s[i].start) * width / (double)span < 1.0)
			return false;
	return true;
}

/* Cells of a used segment: the category with most bytes, gap if none. */
static void fill_used(struct tui_strip *st, int at, const struct seg *sg,
		      const struct mt_region *r, size_t n, size_t *ri)
{
	uint64_t span = sg->end - sg->start;
	for (int j = 0; j < sg->cells; j++) {
		uint64_t cs = sg->start + (uint64_t)((double)span * j / sg->cells);
		uint64_t ce = j + 1 == sg->cells ? sg->end :
			      sg->start + (uint64_t)((double)span * (j + 1) / sg->cells);
		uint64_t bytes[MT_CAT_COUNT] = { 0 };
		while (*ri < n && r[*ri].end <= cs)
			(*ri)++;
		for (size_t k = *ri; k < n && r[k].start < ce; k++) {
			uint64_t a = r[k].start > cs ? r[k].start : cs;
			uint64_t b = r[k].end < ce ? r[k].end : ce;
			if (b > a && (unsigned)r[k].category < MT_CAT_COUNT)
				bytes[r[k].category] += b - a;
		}
		int best = STRIP_GAP;
		uint64_t most = 0;
		for (int c = 0; c < MT_CAT_COUNT; c++)
			if (bytes[c] > most) {
				most = bytes[c];
				best = c;
			}
		st->cell[at + j] = (uint8_t)best;
	}
}

int strip_layout(struct tui_strip *st, const struct mt_region *r, size_t n,
		 const struct mt_gaps *g, int width)
{
	if (width > STRIP_MAX)
		width = STRIP_MAX;
	if (width < 1)
		width = 1;
	memset(st, 0, sizeof(*st));
	st->width = width;
	st->largest_at = -1;
	st->low = g->low;
	st->high = g->high;
	memset(st->cell, STRIP_GAP, (size_t)width);
	if (g->high <= g->low)
		return 0;

	size_t k = (size_t)(width - 1) / 2, ties;
	uint64_t thr;
	if (separators(g, k, &thr, &ties))
		return -ENOMEM;
	struct seg *s = malloc((2 * k + 1) * sizeof(*s));
	double *w = malloc((2 * k + 1) * sizeof(*w));
	if (!s || !w) {
		free(s);
		free(w);
		return -ENOMEM;
	}
	size_t ns = 0;
	uint64_t cur = g->low;
	for (size_t i = 0; i < g->n; i++) {
		const struct mt_gap *gp = &g->v[i];
		uint64_t size = gp->end - gp->start;
		if (size < thr || (size == thr && ties == 0))
			continue;
		if (size == thr)
			ties--;
		if (gp->start > cur)
			s[ns++] = (struct seg){ .start = cur, .end = gp->start };
		s[ns++] = (struct seg){ .start = gp->start, .end = gp->end,
			.kind = (long)i == g->largest ? STRIP_LARGEST : STRIP_GAP };
		cur = gp->end;
	}
	if (cur < g->high)
		s[ns++] = (struct seg){ .start = cur, .end = g->high };

	uint64_t span = g->high - g->low;
	st->log = !linear_fits(s, ns, width, span);
	for (size_t i = 0; i < ns; i++) {
		double sz = (double)(s[i].end - s[i].start);
		w[i] = st->log ? log2(sz / 4096.0 + 1.0) + 1.0 : sz;
	}
	apportion(s, ns, width, w);

	int at = 0;
	size_t ri = 0;
	for (size_t i = 0; i < ns; i++) {
		if (s[i].kind == 0) {
			fill_used(st, at, &s[i], r, n, &ri);
		} else {
			memset(st->cell + at, s[i].kind, (size_t)s[i].cells);
			if (s[i].kind == STRIP_LARGEST) {
				st->largest_at = at;
				st->largest_len = s[i].cells;
			}
		}
		at += s[i].cells;
	}
	free(s);
	free(w);
	return 0;
}
