/*
 * theme.c - colours in htop's palette, and their monochrome equivalents.
 */
#include <string.h>

#include "text.h"
#include "theme.h"

static attr_t attrs[TC_COUNT];
static bool has_color;

struct spec {
	short fg, bg;
	attr_t extra; /* added to the colour */
	attr_t mono;  /* used alone without colour */
};

static const struct spec specs[TC_COUNT] = {
	[TC_NORMAL] = { -1, -1, 0, 0 },
	[TC_LABEL] = { COLOR_CYAN, -1, 0, 0 },
	[TC_VALUE] = { -1, -1, A_BOLD, A_BOLD },
	[TC_BAR] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[TC_BAR_HIGH] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[TC_WARN] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[TC_CRIT] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
	[TC_TAB] = { -1, -1, 0, 0 },
	[TC_TAB_ACTIVE] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
	[TC_COLHEAD] = { COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE },
	[TC_COLHEAD_SORT] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE | A_BOLD | A_UNDERLINE },
	[TC_CURSOR] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE | A_BOLD },
	[TC_NEW] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[TC_GONE] = { COLOR_RED, -1, 0, A_DIM },
	[TC_FKEY] = { -1, -1, 0, 0 },
	[TC_FLABEL] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
	/* htop's shadow: bright black, grey on most terminals */
	[TC_DIM] = { COLOR_BLACK, -1, A_BOLD, A_DIM },
	[TC_GROW] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[TC_SHRINK] = { COLOR_GREEN, -1, 0, 0 },
	[TC_PROMPT] = { COLOR_BLACK, COLOR_YELLOW, 0, A_REVERSE },
	[TC_GAP] = { -1, -1, A_DIM, A_DIM },
	[TC_LARGEST] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
	[TC_CAT + MT_CAT_IMAGE] = { COLOR_BLUE, -1, A_BOLD, 0 },
	[TC_CAT + MT_CAT_HEAP] = { COLOR_GREEN, -1, 0, 0 },
	[TC_CAT + MT_CAT_STACK] = { COLOR_MAGENTA, -1, 0, 0 },
	[TC_CAT + MT_CAT_FILE] = { COLOR_YELLOW, -1, A_BOLD, 0 },
	[TC_CAT + MT_CAT_SHARED] = { COLOR_CYAN, -1, 0, 0 },
	[TC_CAT + MT_CAT_ANON] = { COLOR_RED, -1, 0, 0 },
	[TC_CAT + MT_CAT_RESERVED] = { COLOR_WHITE, -1, A_DIM, 0 },
	[TC_CAT + MT_CAT_KERNEL] = { COLOR_WHITE, -1, 0, 0 },
};

void theme_init(bool color)
{
	has_color = color && has_colors() && start_color() == OK;
	if (has_color && use_default_colors() == ERR)
		has_color = false;
	for (int i = 0; i < TC_COUNT; i++) {
		if (!has_color || COLOR_PAIRS <= TC_COUNT) {
			attrs[i] = specs[i].mono;
			continue;
		}
		init_pair((short)(i + 1), specs[i].fg, specs[i].bg);
		attrs[i] = COLOR_PAIR(i + 1) | specs[i].extra;
	}
	if (COLOR_PAIRS <= TC_COUNT)
		has_color = false;
}

attr_t theme(enum tui_color c)
{
	return (unsigned)c < TC_COUNT ? attrs[c] : 0;
}

bool theme_has_color(void)
{
	return has_color;
}

char theme_cat_letter(enum mt_category c)
{
	static const char letters[MT_CAT_COUNT] = {
		[MT_CAT_IMAGE] = 'I', [MT_CAT_HEAP] = 'H', [MT_CAT_STACK] = 'S',
		[MT_CAT_FILE] = 'F', [MT_CAT_SHARED] = 'M', [MT_CAT_ANON] = 'A',
		[MT_CAT_RESERVED] = 'R', [MT_CAT_KERNEL] = 'K',
	};
	return (unsigned)c < MT_CAT_COUNT ? letters[c] : '?';
}

void theme_right(WINDOW *w, int y, int width, int x_min, const char *s, attr_t at)
{
	int x = width - text_width(s, strlen(s), true);
	if (x < x_min)
		return;
	wattrset(w, at);
	mvwaddstr(w, y, x, s);
	wattrset(w, theme(TC_NORMAL));
}
