/*
 * nodes.h - chap's node patterns: a heap chunk that is a std::list node or
 * a std::map/std::set node, recognised from its own first words and from
 * the words of its immediate neighbours that point back to it, never from
 * its size (docs/heap.md).
 *
 * libstdc++'s _List_node<T> is {next, prev, value}, linked both ways:
 * next->prev and prev->next are the node itself.  A neighbour is another
 * node (a chunk's first byte) or the list's sentinel, the {next, prev}
 * pair at the start of the std::list object, wherever that lives (inside
 * another chunk, a global, a stack).
 *
 * _Rb_tree_node<T> is {color, parent, left, right, value}; color is an int
 * (0 red, 1 black) and the word's upper half is padding that malloc may
 * leave dirty (the tcache link of a reused chunk), so only the low half is
 * tested.  Each child points back to the node as its parent; the parent
 * points to it as its left or right child or, for the root, the header
 * (inside the std::map or std::set object) points to it as its parent.
 *
 * The shape is taken when the chunk is read (nodes_shape); the words that
 * must point back are elsewhere, read earlier or later: the caller looks
 * at the addresses nodes_where() gives and reports each one holding
 * exactly the node's address with nodes_saw().  No walk along a list or a
 * tree: one step to each neighbour.  Everything here is pure.
 */
#ifndef MEMTOP_NODES_H
#define MEMTOP_NODES_H

#include <stddef.h>
#include <stdint.h>

enum nodes_kind { NODES_NONE, NODES_LIST, NODES_MAP };

#define NODES_WHERE_MAX 5

/* A chunk of that shape, waiting for its neighbours' word. */
struct nodes_cand {
	uint64_t link[3];  /* list: next, prev; map: parent, left, right (0: none) */
	uint32_t chunk;    /* the caller's index of the chunk */
	uint8_t kind;      /* enum nodes_kind: the shape its own words have */
	uint8_t seen;      /* back-pointers found, one bit per nodes_where() slot */
};

/*
 * The shape of the chunk whose user area starts at self, given its first
 * n words w (n: its usable size / 8).  NODES_NONE, or the kind, nc filled
 * (but for chunk).  The links must be 8-aligned user-space addresses
 * outside the chunk itself; a list node has room for a value after its two
 * links (n >= 3), a map node after its four words (n >= 5).
 */
enum nodes_kind nodes_shape(struct nodes_cand *nc, const uint64_t *w, size_t n, uint64_t self);

/* The addresses whose words must hold the node's address: slot i of at
 * for bit i of seen.  Returns how many (slots of absent children are 0). */
size_t nodes_where(const struct nodes_cand *nc, uint64_t at[NODES_WHERE_MAX]);

/* The number of links of a kind, where link slot s is in the chunk (a
 * byte offset), and which link slot nodes_where()'s address i follows. */
unsigned nodes_links(enum nodes_kind kind);
unsigned nodes_link_offset(enum nodes_kind kind, unsigned s);
unsigned nodes_where_link(enum nodes_kind kind, unsigned i);

/* The word at address at holds exactly the node's address. */
void nodes_saw(struct nodes_cand *nc, uint64_t at);

/* The kind proven by the back-pointers seen, or NODES_NONE. */
enum nodes_kind nodes_verdict(const struct nodes_cand *nc);

#endif
