/*
 * mapnames.c - names with a "\012" in them, resolved through
 * /proc/TID/map_files/ (mapnames.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memtop/mapnames.h"

#define DELETED " (deleted)"

void mapnames_resolve(struct mt_snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->n_regions; i++) {
		struct mt_region *r = &s->regions[i];
		if (!r->path_len || !memchr(r->path, '\n', r->path_len) || r->inode == 0)
			continue;
		char link[96], name[PATH_MAX + sizeof(DELETED)];
		snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", (int)tid,
			 (unsigned long long)r->start, (unsigned long long)r->end);
		ssize_t n = readlink(link, name, sizeof(name));
		if (n <= 0 || (size_t)n >= sizeof(name))
			continue; /* not root, or gone: the newline reading stands */
		size_t len = (size_t)n;
		if (r->deleted_suffix && len > strlen(DELETED) &&
		    !memcmp(name + len - strlen(DELETED), DELETED, strlen(DELETED)))
			len -= strlen(DELETED);
		if (len == r->path_len && !memcmp(name, r->path, len))
			continue;
		const char *path = snapshot_intern(s, name, len);
		if (path) {
			r->path = path;
			r->path_len = (uint32_t)len;
		}
	}
}
