/*
 * hash.h - the one mixer of the open-addressing tables (growth's files
 * and buckets, the census's vtables and sizes, the tracer's calls and
 * stacks).  MurmurHash3's finaliser: every bit of the key reaches the
 * low bits a table masks, so aligned addresses, page-sized sizes and
 * consecutive tids spread alike.
 */
#ifndef MEMTOP_HASH_H
#define MEMTOP_HASH_H

#include <stdint.h>

static inline uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

#endif
