/*
 * spark.c - sparklines.
 */
#include <string.h>

#include "spark.h"

int spark_level(uint32_t x, uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		return 0; /* flat: a line on the floor */
	if (x <= lo)
		return 0;
	if (x >= hi)
		return 7;
	return (int)(((uint64_t)(x - lo) * 7 + (hi - lo) / 2) / (hi - lo));
}

char *spark_render(char *out, size_t outcap, const uint32_t *v, size_t cap,
		   size_t head, size_t n, int width, const struct tui_glyphs *gl)
{
	size_t o = 0;
	if (outcap == 0)
		return out;
	out[0] = '\0';
	if (width <= 0 || cap == 0)
		return out;
	if (n > cap)
		n = cap;
	size_t shown = n < (size_t)width ? n : (size_t)width;
	/* Oldest shown value sits `shown` slots behind head. */
	size_t first = (head + cap - shown) % cap;
	uint32_t lo = UINT32_MAX, hi = 0;
	for (size_t i = 0; i < shown; i++) {
		uint32_t x = v[(first + i) % cap];
		if (x < lo)
			lo = x;
		if (x > hi)
			hi = x;
	}
	for (int pad = width - (int)shown; pad > 0 && o + 1 < outcap; pad--)
		out[o++] = ' ';
	for (size_t i = 0; i < shown; i++) {
		const char *g = gl->spark[spark_level(v[(first + i) % cap], lo, hi)];
		size_t k = strlen(g);
		if (o + k >= outcap)
			break;
		memcpy(out + o, g, k);
		o += k;
	}
	out[o] = '\0';
	return out;
}
