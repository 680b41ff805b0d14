/*
 * region.c - names and formatting shared by every sink.
 */
#include "memtop/region.h"

void region_perms_str(uint8_t perms, char out[5])
{
	out[0] = (perms & MT_PERM_R) ? 'r' : '-';
	out[1] = (perms & MT_PERM_W) ? 'w' : '-';
	out[2] = (perms & MT_PERM_X) ? 'x' : '-';
	out[3] = (perms & MT_PERM_SHARED) ? 's' : 'p';
	out[4] = '\0';
}

const char *region_category_name(enum mt_category c)
{
	static const char *const names[MT_CAT_COUNT] = {
		[MT_CAT_IMAGE] = "image",   [MT_CAT_HEAP] = "heap",
		[MT_CAT_STACK] = "stack",   [MT_CAT_FILE] = "file",
		[MT_CAT_SHARED] = "shared", [MT_CAT_ANON] = "anon",
		[MT_CAT_RESERVED] = "reserved", [MT_CAT_KERNEL] = "kernel",
	};
	return (unsigned)c < MT_CAT_COUNT ? names[c] : "?";
}
