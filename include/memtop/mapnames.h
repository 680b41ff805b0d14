/*
 * mapnames.h - a mapping's file name as it really is, where the maps text
 * cannot say.
 *
 * The kernel escapes only a newline in a maps name, as "\012", and leaves
 * a backslash alone: a file named "back\012slash.bin" (backslash, 0, 1,
 * 2) prints as one named "back", newline, "slash.bin".  maps.c reads the
 * escape as the newline.  mapnames_resolve() asks the kernel for the name
 * itself, the link /proc/TID/map_files/START-END (readable with
 * CAP_SYS_ADMIN, i.e. as root), for each region whose name holds a
 * newline, and keeps what the link says.  When the link cannot be read,
 * the newline reading stands (docs/categories.md).
 */
#ifndef MEMTOP_MAPNAMES_H
#define MEMTOP_MAPNAMES_H

#include <sys/types.h>

#include "memtop/snapshot.h"

void mapnames_resolve(struct mt_snapshot *s, pid_t tid);

#endif
