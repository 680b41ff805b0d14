/*
 * error.h - errors returned (never printed) by library code.  A kind says
 * what went wrong, not what to do about it: only main.c turns a kind into
 * an exit status (exit_status()), as documented in README.md and memtop.1.
 */
#ifndef MEMTOP_ERROR_H
#define MEMTOP_ERROR_H

enum mt_errkind {
	MT_ERR_NONE = 0,
	MT_ERR_OTHER,     /* I/O error, out of memory, internal error */
	MT_ERR_USAGE,     /* bad option, option value or request */
	MT_ERR_NOPROC,    /* no such process */
	MT_ERR_PERM,      /* permission denied (message says why) */
	MT_ERR_KTHREAD,   /* kernel thread: no user address space */
	MT_ERR_EXITED,    /* the target exited while being watched */
	MT_ERR_BADFILE,   /* corrupt or unreadable recording */
};

struct mt_error {
	enum mt_errkind kind;   /* MT_ERR_NONE when there is no error */
	int sys_errno;          /* errno behind it, 0 if none */
	char msg[512];          /* one or more lines for the user, no trailing \n */
};

/* Set kind and a printf-style message; returns -1 so callers can
 * `return mt_error_set(err, ...)`.  err may be NULL. */
int mt_error_set(struct mt_error *err, enum mt_errkind kind, int sys_errno,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline void mt_error_clear(struct mt_error *err)
{
	if (err) {
		err->kind = MT_ERR_NONE;
		err->sys_errno = 0;
		err->msg[0] = '\0';
	}
}

#endif
