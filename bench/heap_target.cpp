/*
 * heap_target - the heap of the census benchmark (bench/heap.c): the
 * shape the issue measured chap on.
 *
 *   heap_target [SCALE] [objects|nodes]
 *                         (SCALE 1.0: 5 million chunks, about 300 MiB)
 *
 * 2 M Order objects (80-byte chunks), 1 M Trade objects (96), 2 M small
 * buffers (32), each Order holding one buffer; the Orders and Trades
 * held by two arrays (mmapped chunks) that a global points to, except
 * one in a hundred of each, leaked.  With "nodes": instead a std::map<long,
 * long> of 2 M nodes (48-byte chunks) and a std::list<long> of 1 M (32),
 * globals, for the node patterns' cost.  Prints "ready" and waits for EOF.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <unistd.h>

struct Order {
	virtual ~Order() {}
	char *note = nullptr;
	long qty = 0, price = 0, id = 0, side = 0, flags = 0, ts = 0;
};

struct Trade {
	virtual ~Trade() {}
	Order *buy = nullptr, *sell = nullptr;
	long qty = 0, price = 0, id = 0, ts = 0, venue = 0, flags = 0;
};

Order **volatile g_orders;
Trade **volatile g_trades;
volatile size_t g_n_orders, g_n_trades;

std::map<long, long> g_map;
std::list<long> g_list;

static void make_nodes(double scale)
{
	size_t n = (size_t)(2e6 * scale);
	for (size_t i = 0; i < n; i++) {
		g_map[(long)(i * 7919 % (3 * n))] = (long)i;
		if (i % 2 == 0)
			g_list.push_back((long)i);
	}
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	if (argc > 2 && strcmp(argv[2], "nodes") == 0) {
		make_nodes(scale);
		printf("ready\n");
		fflush(stdout);
		char buf[64];
		while (read(0, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	size_t n_orders = (size_t)(2e6 * scale), n_trades = (size_t)(1e6 * scale);
	g_orders = (Order **)calloc(n_orders, sizeof(*g_orders));
	g_trades = (Trade **)calloc(n_trades, sizeof(*g_trades));
	for (size_t i = 0; i < n_orders; i++) {
		Order *o = new Order();
		o->note = (char *)malloc(24);
		memcpy(o->note, "note", 5);
		o->id = (long)i;
		g_orders[i] = i % 100 == 99 ? nullptr : o;
		if (i % 2 == 0 && i / 2 < n_trades) {
			Trade *t = new Trade();
			t->buy = o;
			t->id = (long)i;
			g_trades[i / 2] = (i / 2) % 100 == 99 ? nullptr : t;
		}
	}
	g_n_orders = n_orders;
	g_n_trades = n_trades;
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
