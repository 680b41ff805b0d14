/*
 * options.h - the command line, parsed by main.c and read by every front
 * end (batch printer, TUI, refs report).
 */
#ifndef MEMTOP_OPTIONS_H
#define MEMTOP_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

struct mt_options {
	pid_t pid;          /* 0: none given (the TUI opens the process picker) */
	double delay;       /* -d: seconds between refreshes, > 0 */
	long count;         /* -n: refreshes before exiting, 0 = forever */
	bool batch;         /* -b */
	bool json;          /* --json */
	bool regions;       /* --regions: list every region in batch output */
	bool no_color;      /* --no-color, or NO_COLOR set in the environment */
	bool no_mouse;      /* --no-mouse */
	bool demo;          /* --demo: start the bundled demo and watch it */
	bool no_freeze;     /* --no-freeze: scan without stopping the target */
	bool trace;         /* --trace: every map and unmap with its stack */
	size_t trace_stack; /* --trace-stack BYTES: user stack copied per call */
	size_t trace_buffer; /* --trace-buffer MIB: ring per CPU (0: default) */
	const char *refs;   /* --refs TARGET: ADDR, START-END or START+LEN */
	bool heap;          /* --heap: census of the heap (heapreport.h) */
	bool leaks;         /* --leaks: and its leaks (implies heap) */
	double heap_every;  /* --heap-every SECS: a census every SECS (0: once) */
	long max_stop_ms;   /* --max-stop MS: longest the target may stand (0: no limit) */
	bool scan_swapped;  /* --scan-swapped: read swapped-out pages too (faults them in) */
	const char *write;  /* -w FILE: record the session into FILE */
	const char *read;   /* -r FILE: replay a recording instead of a process */
	size_t session;     /* --session N: which session of FILE (0: the last) */
	/* Resident sizes: always, never, or adaptively (default). */
	enum { MT_RSS_AUTO, MT_RSS_ALWAYS, MT_RSS_NEVER } rss;
};

#endif
