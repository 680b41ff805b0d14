/*
 * headroom.c - distance to mmap failure and its trend.
 */
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

struct trend {
	size_t n;
	double span; /* seconds between the oldest and newest sample used */
	double maps; /* slopes, per second */
	double vsz;
};

static const struct mt_sample *nth_newest(const struct mt_history *h, size_t k)
{
	return &h->v[(h->head + HEADROOM_HISTORY - 1 - k) % HEADROOM_HISTORY];
}

/*
 * Least-squares slopes over the samples of the window.  Times and values
 * are taken relative to the newest sample so that doubles keep their
 * precision with uptimes of months and sizes of terabytes.
 */
static struct trend fit(const struct mt_history *h)
{
	struct trend t = { 0 };
	if (h->n == 0)
		return t;
	const struct mt_sample *last = nth_newest(h, 0);
	double st = 0, sm = 0, sv = 0, stt = 0, stm = 0, stv = 0;
	for (size_t k = 0; k < h->n; k++) {
		const struct mt_sample *p = nth_newest(h, k);
		double x = p->mono - last->mono;
		if (x < -HEADROOM_WINDOW_SECS || x > 0)
			break; /* out of the window, or the clock went back */
		double m = (double)p->map_count - (double)last->map_count;
		double v = (double)p->vsz - (double)last->vsz;
		st += x;
		sm += m;
		sv += v;
		stt += x * x;
		stm += x * m;
		stv += x * v;
		t.n++;
		t.span = -x;
	}
	double den = (double)t.n * stt - st * st;
	if (t.n < 2 || den <= 0)
		return t;
	t.maps = ((double)t.n * stm - st * sm) / den;
	t.vsz = ((double)t.n * stv - st * sv) / den;
	return t;
}

/* Seconds until value reaches limit at rate; -1 when it is not heading
 * there or the trend is too thin to say. */
static double eta(const struct trend *t, double rate, uint64_t value, uint64_t limit)
{
	if (limit == 0 || limit == UINT64_MAX || t->n < HEADROOM_MIN_SAMPLES ||
	    t->span < HEADROOM_MIN_SPAN || !(rate > 0))
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

	struct trend t = fit(h);
	hr->maps_rate = t.maps;
	hr->vsz_rate = t.vsz;
	hr->maps_eta = eta(&t, t.maps, hr->map_count, s->max_map_count);
	hr->vsz_eta = eta(&t, t.vsz, hr->vsz, vsz_limit);
}
