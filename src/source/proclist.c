/*
 * proclist.c - the processes memtop could watch, through libproc2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include "memtop/proclist.h"
#include "memtop/vec.h"

enum {
	I_PID,
	I_USER,
	I_CMD,
	I_CMDLINE,
	I_RSS,
	I_NLWP,
	I_VSIZE,
};

static enum pids_item items[] = {
	[I_PID] = PIDS_ID_PID,     [I_USER] = PIDS_ID_EUSER,
	[I_CMD] = PIDS_CMD,        [I_CMDLINE] = PIDS_CMDLINE,
	[I_RSS] = PIDS_VM_RSS,     [I_NLWP] = PIDS_NLWP,
	[I_VSIZE] = PIDS_VSIZE_BYTES,
};

long proclist_count_maps(pid_t pid)
{
	char path[64], buf[16384];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long lines = 0;
	ssize_t got;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + got - p))); p++)
			lines++;
	int e = got < 0 ? errno : 0;
	close(fd);
	return e ? -e : lines;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int push(struct mt_proclist *l, struct pids_stack *st)
{
	if (VEC_RESERVE(l->v, l->cap, l->n, 256))
		return -ENOMEM;
	struct mt_procentry *e = &l->v[l->n++];
	e->pid = PIDS_VAL(I_PID, s_int, st, NULL);
	e->threads = PIDS_VAL(I_NLWP, s_int, st, NULL);
	e->rss = (uint64_t)PIDS_VAL(I_RSS, ul_int, st, NULL) * 1024;
	copy_str(e->user, sizeof(e->user), PIDS_VAL(I_USER, str, st, NULL));
	copy_str(e->comm, sizeof(e->comm), PIDS_VAL(I_CMD, str, st, NULL));
	const char *cmdline = PIDS_VAL(I_CMDLINE, str, st, NULL);
	if (cmdline && *cmdline)
		copy_str(e->cmdline, sizeof(e->cmdline), cmdline);
	else
		snprintf(e->cmdline, sizeof(e->cmdline), "[%s]", e->comm);
	long maps = proclist_count_maps(e->pid);
	e->maps = maps < 0 ? -1 : maps;
	return 0;
}

int proclist_read(struct mt_proclist *l, struct mt_error *err)
{
	struct pids_info *info = NULL;
	int rc = procps_pids_new(&info, items, (int)(sizeof(items) / sizeof(items[0])));
	if (rc < 0)
		return mt_error_set(err, MT_ERR_OTHER, -rc,
				    "cannot list processes: %s", strerror(-rc));
	struct pids_fetch *f = procps_pids_reap(info, PIDS_FETCH_TASKS_ONLY);
	if (!f) {
		int e = errno;
		procps_pids_unref(&info);
		return mt_error_set(err, MT_ERR_OTHER, e,
				    "cannot list processes: %s", strerror(e));
	}
	pid_t self = getpid();
	l->n = 0;
	for (int i = 0; i < f->counts->total; i++) {
		struct pids_stack *st = f->stacks[i];
		/* Kernel threads have no user address space. */
		if (PIDS_VAL(I_VSIZE, ul_int, st, NULL) == 0 ||
		    PIDS_VAL(I_PID, s_int, st, NULL) == self)
			continue;
		if (push(l, st) < 0) {
			procps_pids_unref(&info);
			return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
		}
	}
	procps_pids_unref(&info);
	return 0;
}

void proclist_free(struct mt_proclist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
