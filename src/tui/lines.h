/*
 * lines.h - text screens (region detail, help) as lists of name/value lines.
 * Private to src/tui/.
 */
#ifndef MEMTOP_TUI_LINES_H
#define MEMTOP_TUI_LINES_H

#include <stddef.h>

#include "list.h"

/* A line of a text screen (region detail, help): name and value. */
struct tui_line {
	char name[24];
	char value[200];
	enum { LINE_PLAIN, LINE_TITLE, LINE_DIM, LINE_WARN, LINE_PATH } kind;
};

struct tui_lines {
	struct tui_line *v;
	size_t n;
	size_t cap;
};

/* Lines of a text screen. */
struct tui_line *lines_add(struct tui_lines *l, int kind, const char *name,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void lines_free(struct tui_lines *l);
extern const struct tui_list_ops lines_ops;

#endif
