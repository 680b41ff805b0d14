/*
 * threads.c - the threads of a live process, from /proc/PID/task.
 *
 * The list changes while it is read: threads start (ignored until the
 * next refresh, and never more than THREADS_MAX) and exit (their files
 * vanish; they are skipped).  Two small files per thread: stat for name
 * and state, syscall for the stack pointer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/proc.h"
#include "memtop/threads.h"
#include "memtop/vec.h"

/* "TID (comm) S ...": comm may hold ')' and spaces, so take the last ')'. */
static bool parse_task_stat(const char *buf, struct mt_thread *t)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return false;
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(t->name))
		n = sizeof(t->name) - 1;
	memcpy(t->name, open + 1, n);
	t->name[n] = '\0';
	t->state = close[2];
	return true;
}

/* The letter after the last ')': comm may hold ')'. */
char threads_state(const char *stat_path)
{
	char buf[1024];
	if (proc_read_file(stat_path, buf, sizeof(buf)) <= 0)
		return 0;
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static bool task_alive(pid_t pid, pid_t tid)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	char st = threads_state(path);
	return st && st != 'Z' && st != 'X';
}

pid_t threads_live(pid_t pid)
{
	if (task_alive(pid, pid))
		return pid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	pid_t live = 0;
	struct dirent *de;
	while (!live && (de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || tid == pid)
			continue;
		if (task_alive(pid, (pid_t)tid))
			live = (pid_t)tid;
	}
	closedir(d);
	return live;
}

/*
 * task/TID/syscall is "NR ARG1..ARG6 SP PC" in a system call, "-1 SP PC"
 * when blocked outside one, "running" otherwise: SP is the second to last
 * field.  Reading it needs ptrace-attach rights (Yama may refuse): sp 0.
 */
static uint64_t read_sp(const char *path)
{
	char buf[256];
	long n = proc_read_file(path, buf, sizeof(buf));
	if (n <= 0 || buf[0] == 'r')
		return 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	char *last = strrchr(buf, ' ');
	if (!last)
		return 0;
	*last = '\0';
	char *sp = strrchr(buf, ' ');
	if (!sp || strncmp(sp + 1, "0x", 2))
		return 0;
	char *end;
	unsigned long long v = strtoull(sp + 3, &end, 16);
	return *end ? 0 : v;
}

static int cmp_tid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The tids listed in dir, sorted; at most THREADS_MAX.  -errno. */
static long list_tids(const char *dir, int **tids)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	size_t n = 0, cap = 0;
	int *v = NULL;
	struct dirent *e;
	while ((e = readdir(d)) && n < THREADS_MAX) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (*end || tid <= 0)
			continue;
		if (VEC_RESERVE(v, cap, n, 64)) {
			closedir(d);
			free(v);
			return -ENOMEM;
		}
		v[n++] = (int)tid;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_tid);
	*tids = v;
	return (long)n;
}

int threads_read(pid_t pid, struct mt_snapshot *s)
{
	char path[96];
	int *tids = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	long n = list_tids(path, &tids);
	if (n < 0)
		return (int)n;
	s->n_threads = 0;
	if (n == 0) {
		free(tids);
		return 0;
	}
	/* snapshot.h keeps no capacity for threads: size to fit each time. */
	struct mt_thread *v = realloc(s->threads, (size_t)n * sizeof(*v));
	if (!v) {
		free(tids);
		return -ENOMEM;
	}
	s->threads = v;
	for (long i = 0; i < n; i++) {
		struct mt_thread *t = &v[s->n_threads];
		char buf[512];

		memset(t, 0, sizeof(*t));
		t->tid = tids[i];
		t->stack_region = -1;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tids[i]);
		if (proc_read_file(path, buf, sizeof(buf)) <= 0 || !parse_task_stat(buf, t))
			continue; /* exited meanwhile */
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, tids[i]);
		t->sp = read_sp(path);
		s->n_threads++;
	}
	free(tids);
	return 0;
}
