/*
 * headroom.c - distance to mmap failure and its trend.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "memtop/arch.h"
#include "memtop/headroom.h"

void headroom_measure(const struct mt_snapshot *s, uint64_t *map_count,
		      uint64_t *vsz)
{
	uint64_t n = 0, size = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (arch_is_gate(r))
			continue;
		n++;
		size += mt_region_size(r);
	}
	*map_count = n;
	*vsz = size;
}

void headroom_history_push(struct mt_history *h, double mono,
			   uint64_t map_count, uint64_t vsz)
{
	h->v[h->head] = (struct mt_sample){ mono, map_count, vsz };
	h->head = (h->head + 1) % HEADROOM_HISTORY;
	if (h->n < HEADROOM_HISTORY)
		h->n++;
}

/* A least-squares line through one series, and how sure it is. */
struct line {
	double slope;  /* per second */
	double se;     /* standard error of the slope; 0 with too few points */
	double resid;  /* standard deviation of the points about the line */
};

struct trend {
	size_t n;
	double span; /* seconds between the oldest and newest sample used */
	struct line maps, vsz;
};

static const struct mt_sample *nth_newest(const struct mt_history *h, size_t k)
{
	return &h->v[(h->head + HEADROOM_HISTORY - 1 - k) % HEADROOM_HISTORY];
}

struct sums {
	double n, x, xx;
};

struct series {
	double y, yy, xy;
};

static struct line solve(const struct sums *s, const struct series *v)
{
	struct line l = { 0 };
	double sxx = s->xx - s->x * s->x / s->n;
	if (s->n < 2 || !(sxx > 0))
		return l;
	double sxy = v->xy - s->x * v->y / s->n;
	double syy = v->yy - v->y * v->y / s->n;
	l.slope = sxy / sxx;
	if (s->n > 2) {
		double ssr = syy - l.slope * sxy;
		double var = ssr > 0 ? ssr / (s->n - 2) : 0;
		l.resid = sqrt(var);
		l.se = sqrt(var / sxx);
	}
	return l;
}

/*
 * Least-squares lines over the samples of the last `window` seconds.
 * Times and values are taken relative to the newest sample so that
 * doubles keep their precision with uptimes of months and sizes of
 * terabytes.
 */
static struct trend fit(const struct mt_history *h, double window)
{
	struct trend t = { 0 };
	if (h->n == 0)
		return t;
	const struct mt_sample *last = nth_newest(h, 0);
	struct sums s = { 0 };
	struct series m = { 0 }, v = { 0 };
	for (size_t k = 0; k < h->n; k++) {
		const struct mt_sample *p = nth_newest(h, k);
		double x = p->mono - last->mono;
		if (x < -window || x > 0)
			break; /* out of the window, or the clock went back */
		double dm = (double)p->map_count - (double)last->map_count;
		double dv = (double)p->vsz - (double)last->vsz;
		s.n++;
		s.x += x;
		s.xx += x * x;
		m.y += dm;
		m.yy += dm * dm;
		m.xy += x * dm;
		v.y += dv;
		v.yy += dv * dv;
		v.xy += x * dv;
		t.n++;
		t.span = -x;
	}
	t.maps = solve(&s, &m);
	t.vsz = solve(&s, &v);
	return t;
}

/* Student's t at 97.5% (a two-sided 95% interval) for df degrees of
 * freedom; past the table, an approximation good to 1%. */
static double t975(size_t df)
{
	static const double tab[] = { 0, 12.71, 4.30, 3.18, 2.78, 2.57,
				      2.45, 2.36, 2.31, 2.26, 2.23 };
	if (df < sizeof(tab) / sizeof(tab[0]))
		return df ? tab[df] : INFINITY;
	return 1.96 + 2.5 / (double)df;
}

/* The line rises beyond doubt: its 95% interval excludes zero. */
static bool rising(const struct line *l, size_t n)
{
	return n >= HEADROOM_MIN_SAMPLES && l->slope - t975(n - 2) * l->se > 0;
}

/*
 * A growth worth an ETA: over the window, the slope is surely positive
 * and the growth it makes is more than the noise about the line (a
 * process mapping and unmapping a few regions on and off, whose fit may
 * lean one way by chance), and it still holds over the latest third of
 * the window (a leak that has stopped is no trend, whatever came before).
 *
 * The noise is never taken below one quantum (one mapping, one page):
 * a count flipping between 120 and 121 gives a few samples that sit
 * almost on a line (120 120 121 121 121 has a small residual), and
 * without the floor that chance alignment is a "trend" of 27 maps a
 * minute.  A real leak passes K quanta within seconds.
 */
static bool significant(const struct trend *t, const struct line *all, double quantum,
			const struct line *recent, size_t n_recent, double span_recent)
{
	if (t->n < HEADROOM_MIN_SAMPLES || t->span < HEADROOM_MIN_SPAN || !rising(all, t->n))
		return false;
	double noise = all->resid > quantum ? all->resid : quantum;
	if (all->slope * t->span <= HEADROOM_NOISE_K * noise)
		return false;
	if (n_recent >= HEADROOM_MIN_SAMPLES && span_recent >= HEADROOM_MIN_SPAN)
		return rising(recent, n_recent);
	return true;
}

/* Seconds until value reaches limit at rate; -1 when it is not heading
 * there or the trend is not significant. */
static double eta(bool sig, double rate, uint64_t value, uint64_t limit)
{
	if (limit == 0 || limit == UINT64_MAX || !sig || !(rate > 0))
		return -1;
	if (value >= limit)
		return 0;
	return (double)(limit - value) / rate;
}

void headroom_compute(struct mt_headroom *hr, const struct mt_snapshot *s,
		      const struct mt_gaps *g, const struct mt_history *h)
{
	memset(hr, 0, sizeof(*hr));
	headroom_measure(s, &hr->map_count, &hr->vsz);
	hr->max_map_count = s->max_map_count;
	hr->rlimit_as = s->rlimit_as;
	hr->largest_free = gaps_largest_size(g);

	/* may_expand_vm() counts whole pages against the limit. */
	uint64_t page = s->page_size ? s->page_size : 4096;
	uint64_t vsz_limit = s->rlimit_as;
	uint64_t room = UINT64_MAX;
	if (vsz_limit != UINT64_MAX) {
		vsz_limit = vsz_limit / page * page;
		room = vsz_limit > hr->vsz ? vsz_limit - hr->vsz : 0;
	}
	hr->largest_mmap = hr->largest_free < room ? hr->largest_free : room;
	if (s->max_map_count && hr->map_count >= s->max_map_count)
		hr->largest_mmap = 0;

	struct trend t = fit(h, HEADROOM_WINDOW_SECS);
	struct trend r = fit(h, t.span / 3);
	bool known = t.n >= 2 && t.span > 0;
	hr->maps_rate = known ? t.maps.slope : NAN;
	hr->vsz_rate = known ? t.vsz.slope : NAN;
	hr->maps_eta = eta(significant(&t, &t.maps, 1, &r.maps, r.n, r.span),
			   t.maps.slope, hr->map_count, s->max_map_count);
	hr->vsz_eta = eta(significant(&t, &t.vsz, (double)page, &r.vsz, r.n, r.span),
			  t.vsz.slope, hr->vsz, vsz_limit);
}
