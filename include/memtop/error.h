/*
 * error.h - errors returned (never printed) by library code, and the exit
 * codes main() maps them to.  The codes are documented in README.md and
 * memtop.1; scripts rely on them, so never renumber.
 */
#ifndef MEMTOP_ERROR_H
#define MEMTOP_ERROR_H

enum mt_exit {
	MT_EXIT_OK = 0,
	MT_EXIT_FAILURE = 1,   /* I/O error, out of memory, internal error */
	MT_EXIT_USAGE = 2,     /* bad option or option value */
	MT_EXIT_NOPROC = 3,    /* no such process */
	MT_EXIT_PERM = 4,      /* permission denied (message says why) */
	MT_EXIT_KTHREAD = 5,   /* kernel thread: no user address space */
	MT_EXIT_EXITED = 6,    /* the target exited while being watched */
	MT_EXIT_BADFILE = 7,   /* corrupt or unreadable recording */
};

struct mt_error {
	enum mt_exit code;   /* MT_EXIT_OK when there is no error */
	int sys_errno;       /* errno behind it, 0 if none */
	char msg[512];       /* one or more lines for the user, no trailing \n */
};

/* Set code and a printf-style message; returns -1 so callers can
 * `return mt_error_set(err, ...)`.  err may be NULL. */
int mt_error_set(struct mt_error *err, enum mt_exit code, int sys_errno,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline void mt_error_clear(struct mt_error *err)
{
	if (err) {
		err->code = MT_EXIT_OK;
		err->sys_errno = 0;
		err->msg[0] = '\0';
	}
}

#endif
