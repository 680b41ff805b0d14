/*
 * spark.h - sparklines: a series of counts as one row of block glyphs.
 */
#ifndef MEMTOP_TUI_SPARK_H
#define MEMTOP_TUI_SPARK_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

/*
 * Draw the last `width` values of the ring v (cap slots, n held, head the
 * next slot to write, as struct mt_file's spark) oldest first, scaled
 * between their minimum and maximum so growth shows however large the
 * count; a flat series lies on the floor.  Fewer values than width are padded
 * on the left with spaces.  Writes a NUL-terminated string of width
 * columns into out (at least width * 3 + 1 bytes for UTF-8).  Returns out.
 */
char *spark_render(char *out, size_t outcap, const uint32_t *v, size_t cap,
		   size_t head, size_t n, int width, const struct tui_glyphs *gl);

/* The level (0-7) of value x in a series spanning lo..hi. */
int spark_level(uint32_t x, uint32_t lo, uint32_t hi);

#endif
