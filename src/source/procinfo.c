/*
 * procinfo.c - process facts through libproc2, and address-space limits.
 *
 * libproc2 is procps' own reader (ps, top): it knows the quirks of stat,
 * status and cmdline across kernels, so memtop's figures agree with what
 * the user sees in ps.  One pids_info is kept for the whole session.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include "memtop/proc.h"
#include "memtop/procinfo.h"

/* The order of items is the order of results in a stack. */
enum { I_CMD, I_CMDLINE, I_USER, I_STATE, I_NLWP, I_RSS, I_VSZ, I_START, I_BEGAN };

static enum pids_item items[] = {
	[I_CMD] = PIDS_CMD,
	[I_CMDLINE] = PIDS_CMDLINE,
	[I_USER] = PIDS_ID_EUSER,
	[I_STATE] = PIDS_STATE,
	[I_NLWP] = PIDS_NLWP,
	[I_RSS] = PIDS_VM_RSS,
	[I_VSZ] = PIDS_VM_SIZE,
	[I_START] = PIDS_TIME_START,
	[I_BEGAN] = PIDS_TICS_BEGAN,
};

struct procinfo {
	struct pids_info *pids;
};

int procinfo_open(struct procinfo **out)
{
	struct procinfo *pi = calloc(1, sizeof(*pi));
	if (!pi)
		return -ENOMEM;
	int rc = procps_pids_new(&pi->pids, items, (int)(sizeof(items) / sizeof(items[0])));
	if (rc < 0) {
		free(pi);
		return rc;
	}
	*out = pi;
	return 0;
}

void procinfo_close(struct procinfo *pi)
{
	if (pi) {
		procps_pids_unref(&pi->pids);
		free(pi);
	}
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int procinfo_read(struct procinfo *pi, pid_t pid, struct mt_procinfo *info,
		  unsigned long long *began)
{
	unsigned want = (unsigned)pid;
	struct pids_fetch *f = procps_pids_select(pi->pids, &want, 1, PIDS_SELECT_PID);
	if (!f || !f->counts || f->counts->total < 1 || !f->stacks[0])
		return -ESRCH;
	struct pids_stack *st = f->stacks[0];

	copy_str(info->comm, sizeof(info->comm), PIDS_VAL(I_CMD, str, st, pi->pids));
	copy_str(info->cmdline, sizeof(info->cmdline), PIDS_VAL(I_CMDLINE, str, st, pi->pids));
	copy_str(info->user, sizeof(info->user), PIDS_VAL(I_USER, str, st, pi->pids));
	info->state = (char)PIDS_VAL(I_STATE, s_ch, st, pi->pids);
	info->threads = PIDS_VAL(I_NLWP, s_int, st, pi->pids);
	info->rss = (uint64_t)PIDS_VAL(I_RSS, ul_int, st, pi->pids) * 1024;
	info->vsz = (uint64_t)PIDS_VAL(I_VSZ, ul_int, st, pi->pids) * 1024;
	*began = PIDS_VAL(I_BEGAN, ull_int, st, pi->pids);

	/* Seconds since boot, in CLOCK_BOOTTIME's terms, to the tick. */
	double since_boot = PIDS_VAL(I_START, real, st, pi->pids);
	struct timespec rt, bt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	double boot = (double)bt.tv_sec + bt.tv_nsec / 1e9;
	info->uptime = boot > since_boot ? boot - since_boot : 0;
	info->start_time = (double)rt.tv_sec + rt.tv_nsec / 1e9 - info->uptime;
	return 0;
}

static bool read_u64(const char *path, uint64_t *out)
{
	char buf[64];
	if (proc_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;
	*out = v;
	return true;
}

/*
 * The soft limit from the "Max address space" line of /proc/PID/limits:
 *   Max address space         unlimited            unlimited            bytes
 * prlimit(2) would need the same privileges as ptrace; the file does not.
 */
static void read_rlimit_as(pid_t pid, uint64_t *out)
{
	static const char key[] = "Max address space";
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if (proc_read_file(path, buf, sizeof(buf)) <= 0)
		return;
	const char *line = strstr(buf, key);
	if (!line)
		return;
	line += sizeof(key) - 1;
	while (*line == ' ')
		line++;
	if (!strncmp(line, "unlimited", 9)) {
		*out = UINT64_MAX;
		return;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(line, &end, 10);
	if (!errno && end != line)
		*out = v;
}

void procinfo_limits(pid_t pid, struct mt_snapshot *s)
{
	read_u64("/proc/sys/vm/max_map_count", &s->max_map_count);
	read_u64("/proc/sys/vm/mmap_min_addr", &s->mmap_min_addr);
	read_rlimit_as(pid, &s->rlimit_as);
	long ps = sysconf(_SC_PAGESIZE);
	if (ps > 0)
		s->page_size = (uint64_t)ps;
}
