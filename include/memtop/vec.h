/*
 * vec.h - growable arrays: the one place that doubles a buffer.
 */
#ifndef MEMTOP_VEC_H
#define MEMTOP_VEC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Make room in the array v (cap elements allocated) for element n:
 * when n has reached cap, double cap (or start at `first`) and realloc.
 * Evaluates to 0, or -ENOMEM with v and cap untouched.  A macro so that
 * v keeps its type (no void ** aliasing) and sizeof comes from it.
 */
#define VEC_RESERVE(v, cap, n, first) __extension__({                        \
	int vec_rc_ = 0;                                                     \
	if ((n) >= (cap)) {                                                  \
		size_t vec_cap_ = (cap) ? (size_t)(cap) * 2 : (size_t)(first); \
		__typeof__(v) vec_p_ = vec_cap_ > SIZE_MAX / sizeof(*(v)) ? NULL : \
			realloc((v), vec_cap_ * sizeof(*(v)));               \
		if (vec_p_) {                                                \
			(v) = vec_p_;                                        \
			(cap) = vec_cap_;                                    \
		} else {                                                     \
			vec_rc_ = -ENOMEM;                                   \
		}                                                            \
	}                                                                    \
	vec_rc_;                                                             \
})

#endif
