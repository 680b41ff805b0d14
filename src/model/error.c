/*
 * error.c - filling struct mt_error.
 */
#include <stdarg.h>
#include <stdio.h>

#include "memtop/error.h"

int mt_error_set(struct mt_error *err, enum mt_errkind kind, int sys_errno,
		 const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->kind = kind;
		err->sys_errno = sys_errno;
	}
	return -1;
}
