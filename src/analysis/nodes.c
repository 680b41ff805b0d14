/*
 * nodes.c - std::list and std::map/set nodes by their links (nodes.h).
 */
#include <string.h>

#include "memtop/nodes.h"

#define USER_END (1ull << 47)

/* A link word: an aligned user-space address, not inside the chunk itself
 * (a node never links to itself nor into itself). */
static int is_link(uint64_t v, uint64_t self, size_t n)
{
	return (v & 7) == 0 && v >= 4096 && v < USER_END && v - self >= 8 * (uint64_t)n;
}

enum nodes_kind nodes_shape(struct nodes_cand *nc, const uint64_t *w, size_t n, uint64_t self)
{
	memset(nc, 0, sizeof(*nc));
	/* A color, not a pointer: a malloc'ed address never has a zero low
	 * half (the user area is 16 bytes into its chunk or page). */
	if (n >= 5 && (uint32_t)w[0] <= 1) {
		uint64_t left = w[2], right = w[3];
		if (!is_link(w[1], self, n) || (left && !is_link(left, self, n)) ||
		    (right && !is_link(right, self, n)) || (left && left == right) ||
		    left == w[1] || right == w[1])
			return NODES_NONE;
		nc->link[0] = w[1];
		nc->link[1] = left;
		nc->link[2] = right;
		nc->kind = NODES_MAP;
		return NODES_MAP;
	}
	if (n >= 3 && is_link(w[0], self, n) && is_link(w[1], self, n)) {
		nc->link[0] = w[0];
		nc->link[1] = w[1];
		nc->kind = NODES_LIST;
		return NODES_LIST;
	}
	return NODES_NONE;
}

size_t nodes_where(const struct nodes_cand *nc, uint64_t at[NODES_WHERE_MAX])
{
	switch (nc->kind) {
	case NODES_LIST:
		at[0] = nc->link[0] + 8; /* next->prev */
		at[1] = nc->link[1];     /* prev->next */
		return 2;
	case NODES_MAP:
		at[0] = nc->link[0] + 8;  /* parent->parent: the header, for the root */
		at[1] = nc->link[0] + 16; /* parent->left */
		at[2] = nc->link[0] + 24; /* parent->right */
		at[3] = nc->link[1] ? nc->link[1] + 8 : 0; /* left->parent */
		at[4] = nc->link[2] ? nc->link[2] + 8 : 0; /* right->parent */
		return 5;
	default:
		return 0;
	}
}

unsigned nodes_links(enum nodes_kind kind)
{
	return kind == NODES_LIST ? 2 : kind == NODES_MAP ? 3 : 0;
}

unsigned nodes_link_offset(enum nodes_kind kind, unsigned s)
{
	return kind == NODES_MAP ? 8 * (s + 1) : 8 * s; /* after the color */
}

unsigned nodes_where_link(enum nodes_kind kind, unsigned i)
{
	return kind == NODES_MAP ? (i < 3 ? 0 : i - 2) : i;
}

void nodes_saw(struct nodes_cand *nc, uint64_t at)
{
	uint64_t where[NODES_WHERE_MAX];
	size_t n = nodes_where(nc, where);
	for (size_t i = 0; i < n; i++)
		if (where[i] && where[i] == at)
			nc->seen |= (uint8_t)(1u << i);
}

enum nodes_kind nodes_verdict(const struct nodes_cand *nc)
{
	switch (nc->kind) {
	case NODES_LIST:
		return (nc->seen & 3) == 3 ? NODES_LIST : NODES_NONE;
	case NODES_MAP:
		/* One of the parent's three words, and every child. */
		if (!(nc->seen & 7) || (nc->link[1] && !(nc->seen & 8)) ||
		    (nc->link[2] && !(nc->seen & 16)))
			return NODES_NONE;
		return NODES_MAP;
	default:
		return NODES_NONE;
	}
}
