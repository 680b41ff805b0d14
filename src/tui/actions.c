/*
 * actions.c - the "Actions:" line at the foot of a screen's body: Esc,
 * and the bindings of that screen alone, from the key-binding table.
 */
#include <string.h>

#include "actions.h"
#include "app.h"
#include "keys.h"
#include "theme.h"

static void action(WINDOW *w, const char *key, const char *what)
{
	wattrset(w, theme(TC_VALUE));
	waddstr(w, key);
	wattrset(w, theme(TC_NORMAL));
	wprintw(w, " %s   ", what);
}

/* The actions of a screen: Esc, then the bindings of its scope alone
 * (those of wider scopes are in the function bar and the help). */
void actions_draw(WINDOW *w, int y, int width, unsigned scope)
{
	wmove(w, y, 0);
	wattrset(w, theme(TC_LABEL));
	waddstr(w, "Actions: ");
	action(w, "Esc", "back");
	for (size_t i = 0; i < keys_n_bindings; i++) {
		const struct tui_binding *b = &keys_bindings[i];
		if (!b->help || !b->name || b->scope != scope)
			continue;
		if (getcurx(w) + (int)strlen(b->name) + (int)strlen(b->help) + 4 > width)
			break;
		action(w, b->name, b->help);
	}
	wattrset(w, theme(TC_NORMAL));
}
