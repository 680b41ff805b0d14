/*
 * fuzz_maps.c - maps_parse, maps_parse_all and maps_parse_smaps on any
 * bytes, checking what the rest of memtop relies on: regions sorted,
 * non-overlapping and non-empty, names NUL-free with path_len their
 * length, resident figures only where smaps said so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/maps.h"

static void check(const struct mt_snapshot *s)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		if (r->start >= r->end || strlen(r->path) != r->path_len)
			abort();
		if (i && s->regions[i - 1].end > r->start)
			abort();
		if (r->deleted)
			abort(); /* only proc_read may say so */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly `size` bytes, so reading past the input is caught. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);

	struct mt_snapshot s;
	size_t bad = 0;
	snapshot_init(&s);
	if (maps_parse(&s, text, size, &bad) == 0) {
		check(&s);
		size_t n = s.n_regions;
		if (maps_parse_smaps(&s, text, size) > n || s.n_regions != n)
			abort();
		check(&s);
	}
	snapshot_reset(&s);
	if (maps_parse_all(&s, text, size, &bad) == 0) {
		check(&s);
		if (!s.have_rss)
			abort();
	}
	snapshot_free(&s);
	free(text);
	return 0;
}
