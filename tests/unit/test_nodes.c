/*
 * test_nodes.c - std::list and std::map/set nodes recognised by their
 * links: built here the way libstdc++ lays them out, each word of every
 * block reported to the candidates the way the leak search does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "memtop/nodes.h"

#define WORDS 6 /* every block: 48 bytes */

static uint64_t blocks[16][WORDS] __attribute__((aligned(16)));

static uint64_t A(int i)
{
	return (uint64_t)(uintptr_t)blocks[i];
}

/* The shape of block i, then every word of every block holding exactly
 * its address reported, as the caller would; the verdict. */
static enum nodes_kind judge(int i, size_t n_words)
{
	struct nodes_cand nc;
	if (!nodes_shape(&nc, blocks[i], n_words, A(i)))
		return NODES_NONE;
	for (int b = 0; b < 16; b++)
		for (int w = 0; w < WORDS; w++)
			if (blocks[b][w] == A(i))
				nodes_saw(&nc, A(b) + 8 * (uint64_t)w);
	return nodes_verdict(&nc);
}

static int setup(void **state)
{
	(void)state;
	memset(blocks, 0, sizeof(blocks));
	return 0;
}

/* A std::list of n nodes (blocks 1..n) whose sentinel is words 2-3 of
 * block 0 (the list object inside another object). */
static void make_list(int n)
{
	uint64_t s = A(0) + 16;
	for (int i = 1; i <= n; i++) {
		blocks[i][0] = i < n ? A(i + 1) : s;
		blocks[i][1] = i > 1 ? A(i - 1) : s;
		blocks[i][2] = 1000 + (uint64_t)i; /* the value */
	}
	blocks[0][2] = A(1);
	blocks[0][3] = A(n);
	blocks[0][4] = (uint64_t)n; /* _M_size */
}

static void test_list(void **state)
{
	(void)state;
	make_list(4);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(judge(i, 3), NODES_LIST);
	/* The object holding the sentinel is no node: its first words are
	 * not links. */
	assert_int_equal(judge(0, WORDS), NODES_NONE);
	/* Too small for a value after the links. */
	assert_int_equal(judge(2, 2), NODES_NONE);
}

static void test_list_of_one(void **state)
{
	(void)state;
	make_list(1);
	assert_int_equal(blocks[1][0], blocks[1][1]);
	assert_int_equal(judge(1, 3), NODES_LIST);
}

static void test_list_one_way(void **state)
{
	(void)state;
	make_list(4);
	blocks[3][1] = A(9); /* 3's prev no longer 2: 2's next does not come back */
	assert_int_equal(judge(2, 3), NODES_NONE);
	assert_int_equal(judge(3, 3), NODES_NONE);
	assert_int_equal(judge(4, 3), NODES_LIST);
}

/* Two pointers at the start of unrelated blocks: the shape, not a node. */
static void test_two_pointers(void **state)
{
	(void)state;
	for (int i = 1; i <= 4; i++) {
		blocks[i][0] = A(i % 4 + 1);
		blocks[i][1] = A(10 + i);
		blocks[10 + i][0] = 7;
		blocks[10 + i][1] = 8;
	}
	struct nodes_cand nc;
	assert_int_equal(nodes_shape(&nc, blocks[1], WORDS, A(1)), NODES_LIST);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(judge(i, WORDS), NODES_NONE);
	/* Nor one whose next points back only one way. */
	blocks[5][0] = A(6);
	blocks[5][1] = A(6);
	blocks[6][0] = A(5);
	blocks[6][1] = A(7);
	assert_int_equal(judge(5, WORDS), NODES_NONE);
	/* Two blocks linked both ways are a ring of two nodes. */
	blocks[6][1] = A(5);
	assert_int_equal(judge(5, WORDS), NODES_LIST);
}

static void test_link_words(void **state)
{
	(void)state;
	struct nodes_cand nc;
	uint64_t w[WORDS] = { A(1) + 4, A(2) };
	assert_int_equal(nodes_shape(&nc, w, WORDS, A(3)), NODES_NONE); /* unaligned */
	w[0] = A(3);
	assert_int_equal(nodes_shape(&nc, w, WORDS, A(3)), NODES_NONE); /* itself */
	w[0] = A(3) + 16;
	assert_int_equal(nodes_shape(&nc, w, WORDS, A(3)), NODES_NONE); /* inside itself */
	w[0] = 0x800000000008ull;
	assert_int_equal(nodes_shape(&nc, w, WORDS, A(3)), NODES_NONE); /* kernel half */
	w[0] = 64;
	assert_int_equal(nodes_shape(&nc, w, WORDS, A(3)), NODES_NONE); /* page zero */
	w[0] = A(1);
	assert_int_equal(nodes_shape(&nc, w, WORDS, A(3)), NODES_LIST);
	uint64_t at[NODES_WHERE_MAX];
	assert_int_equal(nodes_where(&nc, at), 2);
	assert_true(at[0] == A(1) + 8 && at[1] == A(2));
}

/*
 * A std::map: the header is words 1-4 of block 0 (after the comparator),
 * the tree 2 -> (1, 3), 3 -> (-, 4); blocks 1..4 nodes.  The header's
 * parent is the root, its left the leftmost, its right the rightmost.
 */
static void make_map(void)
{
	uint64_t h = A(0) + 8;
	struct { int self, parent, left, right; } t[] = {
		{ 2, -1, 1, 3 }, { 1, 2, 0, 0 }, { 3, 2, 0, 4 }, { 4, 3, 0, 0 },
	};
	for (size_t i = 0; i < 4; i++) {
		uint64_t *b = blocks[t[i].self];
		b[0] = (i & 1) | 0xdead000000000000ull; /* color, dirty padding */
		b[1] = t[i].parent < 0 ? h : A(t[i].parent);
		b[2] = t[i].left ? A(t[i].left) : 0;
		b[3] = t[i].right ? A(t[i].right) : 0;
		b[4] = 77; /* the value */
	}
	blocks[0][1] = 0;     /* header color: red */
	blocks[0][2] = A(2);  /* root */
	blocks[0][3] = A(1);  /* leftmost */
	blocks[0][4] = A(4);  /* rightmost */
	blocks[0][5] = 4;     /* node count */
}

static void test_map(void **state)
{
	(void)state;
	make_map();
	for (int i = 1; i <= 4; i++)
		assert_int_equal(judge(i, 5), NODES_MAP);
	/* No room for a value. */
	assert_int_equal(judge(1, 4), NODES_NONE);
	struct nodes_cand nc;
	uint64_t at[NODES_WHERE_MAX];
	assert_int_equal(nodes_shape(&nc, blocks[1], 5, A(1)), NODES_MAP);
	assert_int_equal(nodes_where(&nc, at), 5);
	assert_true(at[0] == A(2) + 8 && at[1] == A(2) + 16 && at[2] == A(2) + 24);
	assert_true(at[3] == 0 && at[4] == 0);
}

static void test_map_broken(void **state)
{
	(void)state;
	make_map();
	blocks[4][1] = A(9); /* 3's right child names another parent */
	assert_int_equal(judge(3, 5), NODES_NONE);
	assert_int_equal(judge(4, 5), NODES_NONE); /* 9 does not point back */
	assert_int_equal(judge(2, 5), NODES_MAP);
	make_map();
	blocks[2][0] = 2; /* not a color */
	assert_int_equal(judge(2, 5), NODES_NONE);
	make_map();
	blocks[3][2] = blocks[3][3]; /* both children the same block */
	assert_int_equal(judge(3, 5), NODES_NONE);
}

/* The link slots as the leak search reads them back from its graph. */
static void test_link_slots(void **state)
{
	(void)state;
	assert_int_equal(nodes_links(NODES_LIST), 2);
	assert_int_equal(nodes_links(NODES_MAP), 3);
	assert_int_equal(nodes_links(NODES_NONE), 0);
	assert_int_equal(nodes_link_offset(NODES_LIST, 1), 8);  /* prev */
	assert_int_equal(nodes_link_offset(NODES_MAP, 0), 8);   /* parent */
	assert_int_equal(nodes_link_offset(NODES_MAP, 2), 24);  /* right */
	/* Each address to look at follows from one link. */
	make_map();
	struct nodes_cand nc;
	uint64_t at[NODES_WHERE_MAX];
	assert_int_equal(nodes_shape(&nc, blocks[3], 5, A(3)), NODES_MAP);
	size_t na = nodes_where(&nc, at);
	for (unsigned i = 0; i < na; i++) {
		if (!at[i])
			continue;
		uint64_t link = nc.link[nodes_where_link(NODES_MAP, i)];
		assert_true(at[i] - link <= 24);
	}
	make_list(2);
	assert_int_equal(nodes_shape(&nc, blocks[1], 3, A(1)), NODES_LIST);
	na = nodes_where(&nc, at);
	for (unsigned i = 0; i < na; i++)
		assert_true(at[i] - nc.link[nodes_where_link(NODES_LIST, i)] <= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_list, setup),
		cmocka_unit_test_setup(test_list_of_one, setup),
		cmocka_unit_test_setup(test_list_one_way, setup),
		cmocka_unit_test_setup(test_two_pointers, setup),
		cmocka_unit_test_setup(test_link_words, setup),
		cmocka_unit_test_setup(test_map, setup),
		cmocka_unit_test_setup(test_map_broken, setup),
		cmocka_unit_test_setup(test_link_slots, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
