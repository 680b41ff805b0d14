/*
 * views.c - the views of a watched process as one screen: their tabs,
 * what a refresh does to them, which one is drawn and what Enter does.
 * Each view is its own module (summary.c, regions.c, files.c, free.c,
 * events.c, threads.c).
 */
#include <stdlib.h>

#include "detail.h"
#include "eventlog.h"
#include "heapview.h"
#include "views.h"

static const char *const titles[VIEW_COUNT] = {
	[VIEW_SUMMARY] = "Summary", [VIEW_REGIONS] = "Regions", [VIEW_FILES] = "Files",
	[VIEW_FREE] = "Free",       [VIEW_EVENTS] = "Events",   [VIEW_THREADS] = "Threads",
};

const char *views_title(enum tui_view v)
{
	return (unsigned)v < VIEW_COUNT ? titles[v] : "?";
}

void views_init(struct tui_app *a)
{
	summary_view_init(a);
	regions_view_init(a);
	files_view_init(a);
	free_view_init(a);
	events_view_init(a);
	threads_view_init(a);
}

void views_free(struct tui_app *a)
{
	for (int v = 0; v < VIEW_COUNT; v++)
		list_free(&a->lists[v]);
	list_free(&a->types_list);
	list_free(&a->prots_list);
	free(a->rrows);
	a->rrows = NULL;
	a->n_rrows = a->cap_rrows = 0;
	eventlog_free(&a->log);
}

void views_refresh(struct tui_app *a)
{
	if (!a->ses.have_snap)
		return;
	summary_update(a);
	regions_update(a);
	/* Only the list on screen is sorted now; the others when shown. */
	for (int v = 0; v < VIEW_COUNT; v++)
		a->stale[v] = true;
	views_list(a);
	list_rebuild(&a->types_list);
	list_rebuild(&a->prots_list);
}

void views_sample(struct tui_app *a)
{
	files_view_traced(a);
	events_view_traced(a);
	if (a->ses.traced.on)
		eventlog_add_traced(&a->log, &a->ses.traced, &a->ses.model.growth.events,
				    app_snap(a));
	else if (a->ses.model.growth.have_prev)
		eventlog_add(&a->log, &a->ses.model.growth.events);
}

struct tui_list *views_list(struct tui_app *a)
{
	struct tui_list *l = &a->lists[a->view];
	if (a->stale[a->view]) {
		list_rebuild(l);
		a->stale[a->view] = false;
	}
	return l;
}

void views_draw(struct tui_app *a, WINDOW *w, int h, int width)
{
	if (!a->ses.have_snap) {
		wattrset(w, theme(TC_DIM));
		mvwaddstr(w, 1, 1, "reading the process...");
		return;
	}
	if (a->view == VIEW_SUMMARY)
		summary_draw(a, w, h, width);
	else
		list_draw(views_list(a), w, 0, 0, h, width);
}

void views_enter(struct tui_app *a)
{
	struct tui_list *l = views_list(a);
	size_t item;
	if (!list_selected(l, &item))
		return;
	switch (a->view) {
	case VIEW_REGIONS:
		detail_open(a, a->rrows[item].r);
		break;
	case VIEW_FILES:
		files_enter(a, item);
		break;
	case VIEW_THREADS: {
		const struct mt_snapshot *s = app_snap(a);
		const struct mt_region *r = threads_stack(s, &s->threads[item]);
		if (r)
			detail_open(a, r);
		break;
	}
	case VIEW_EVENTS: {
		const struct mt_event *e = eventlog_get(&a->log, item);
		const struct mt_snapshot *s = app_snap(a);
		/* Code unmapped (a library after dlclose): who still points
		 * into it (a hook left behind is a crash waiting). */
		if (e->kind == MT_EV_UNMAP && (e->perms & MT_PERM_X)) {
			heapview_departed_scan(a, e);
			break;
		}
		long k = snapshot_find(s, e->start);
		if (k >= 0)
			detail_open(a, &s->regions[k]);
		break;
	}
	default:
		break;
	}
}

