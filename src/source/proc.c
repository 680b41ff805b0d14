/*
 * proc.c - the live source: snapshots of a running process from /proc.
 *
 * Everything is read, nothing is written, and the target is never stopped:
 * /proc gives a consistent enough picture without ptrace.  maps and smaps
 * are read in chunks into one reusable buffer and parsed as they arrive,
 * so memtop's memory does not grow with the target's smaps text (about
 * 1 KiB per mapping: 64 MiB at the 65,530 mapping limit).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memtop/bss.h"
#include "memtop/clock.h"
#include "memtop/mapnames.h"
#include "memtop/maps.h"
#include "memtop/pagemap.h"
#include "memtop/proc.h"
#include "memtop/procinfo.h"
#include "memtop/threads.h"

#define PF_KTHREAD 0x00200000u
#define CAP_SYS_PTRACE_BIT 19

/* Reads of maps/smaps are this big; a buffer grows only for a record
 * (a smaps entry, a line) larger than what it holds. */
#define CHUNK (256 * 1024)
#define RECORD_MAX (64u * 1024 * 1024)
/* proc_slurp refuses files larger than this. */
#define SLURP_MAX (1024ul * 1024 * 1024)
/* Resident figures of one region, kept from the last smaps read. */
struct rss_keep {
	uint64_t start, end;
	struct mt_smaps smaps;
};

struct mt_proc {
	pid_t pid;
	/* The task whose maps are read: pid, or a live thread once the main
	 * thread has called pthread_exit (a zombie leader has no maps). */
	pid_t maps_tid;
	char comm[64];
	unsigned long long began; /* start time in ticks: tells pid reuse */
	struct procinfo *info;
	char *buf;
	size_t cap;
	/* Adaptive smaps. */
	bool smaps_read;   /* or skipped at the first refresh as too dear */
	double smaps_at;   /* mono of the last read */
	double smaps_cost; /* seconds it took (or would take) */
	/* Adaptive PAGEMAP_SCAN; off once the kernel refuses it. */
	struct mt_pagemap pagemap;
	bool no_pagemap;
	bool pagemap_read;
	double pagemap_at;
	double pagemap_cost;
	/* The latest figures of each region, and when its rss was measured. */
	struct rss_keep *keep;
	size_t n_keep;
	size_t cap_keep;
	double rss_at;
	struct bss_cache *bss;   /* images' program headers, by file */
};

/* read(2) again when a signal interrupts it: n, 0 at the end, or -errno. */
static ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t k;
	while ((k = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return k < 0 ? -errno : k;
}

long proc_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t have = 0;
	while (have + 1 < size) {
		ssize_t n = read_retry(fd, buf + have, size - 1 - have);
		if (n < 0) {
			close(fd);
			return (long)n;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return (long)have;
}

static int grow(char **buf, size_t *cap, size_t min, size_t max)
{
	size_t c = *cap ? *cap : CHUNK;
	while (c < min)
		c *= 2;
	if (c > max)
		return -EFBIG;
	char *b = realloc(*buf, c);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = c;
	return 0;
}

long proc_slurp(const char *path, char **buf, size_t *cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t have = 0;
	long rc = 0;
	for (;;) {
		if (have + 1 >= *cap && (rc = grow(buf, cap, have + 2, SLURP_MAX)) < 0)
			break;
		ssize_t n = read_retry(fd, *buf + have, *cap - 1 - have);
		if (n < 0) {
			rc = (long)n;
			break;
		}
		if (n == 0) {
			(*buf)[have] = '\0';
			rc = (long)have;
			break;
		}
		have += (size_t)n;
	}
	close(fd);
	return rc;
}

/* Fields of /proc/PID/stat that proc_open needs. */
struct stat_facts {
	char comm[64];
	char state;
	unsigned long flags;
	long threads;
	unsigned long long began;
};

/* "PID (comm) S ppid pgrp session tty tpgid FLAGS ... STARTTIME(22nd)" */
static int read_stat(pid_t pid, struct stat_facts *f)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	long n = proc_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	const char *open = strchr(buf, '(');
	char *close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -EINVAL;
	snprintf(f->comm, sizeof(f->comm), "%.*s", (int)(close - open - 1), open + 1);
	unsigned long long field[20] = { 0 };
	char *p = close + 2;
	if (p >= buf + n)
		return -EINVAL;
	f->state = *p++;
	/* field[0] is the 4th field of the line (ppid). */
	for (int i = 0; i < 20 && *p; i++)
		field[i] = strtoull(p, &p, 10);
	f->flags = (unsigned long)field[5];
	f->threads = (long)field[16];
	f->began = field[18];
	return 0;
}

/* The uids on the "Uid:" line of /proc/PID/status: real, effective, saved. */
static bool read_uids(pid_t pid, unsigned uid[3])
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (proc_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	const char *u = strstr(buf, "\nUid:");
	return u && sscanf(u + 5, "%u %u %u", &uid[0], &uid[1], &uid[2]) == 3;
}

static bool have_cap_sys_ptrace(void)
{
	char buf[4096];
	if (proc_read_file("/proc/self/status", buf, sizeof(buf)) <= 0)
		return false;
	const char *c = strstr(buf, "\nCapEff:");
	unsigned long long caps;
	return c && sscanf(c + 8, "%llx", &caps) == 1 && (caps >> CAP_SYS_PTRACE_BIT & 1);
}

/*
 * The kernel refuses maps to a caller that may not ptrace-read the target.
 * Name the likeliest cause, in the order the kernel checks them, and the
 * remedy.
 */
static int explain_denied(pid_t pid, const char *comm, int e, struct mt_error *err)
{
	unsigned me = geteuid(), uid[3];
	bool cap = have_cap_sys_ptrace();
	struct stat st;
	char path[64];

	bool uids = read_uids(pid, uid);
	if (!cap && uids && (uid[0] != me || uid[1] != me || uid[2] != me))
		return mt_error_set(err, MT_ERR_PERM, e,
			"cannot read the memory map of pid %d (%s): it belongs to another"
			" user (uid %u, effective %u) and memtop runs as uid %u.\n"
			"Run memtop as that user, or with sudo.",
			(int)pid, comm, uid[0], uid[1], me);
	/* A non-dumpable process's /proc files (maps at least; the directory
	 * too on some kernels) belong to root whatever its uid. */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (!cap && uids && uid[0] != 0 && stat(path, &st) == 0 && st.st_uid == 0)
		return mt_error_set(err, MT_ERR_PERM, e,
			"cannot read the memory map of pid %d (%s): it is not dumpable"
			" (it changed credentials or called prctl(PR_SET_DUMPABLE, 0)),"
			" so its /proc files belong to root.\nRun memtop with sudo.",
			(int)pid, comm);
	if (!cap && me == 0)
		return mt_error_set(err, MT_ERR_PERM, e,
			"cannot read the memory map of pid %d (%s): memtop runs as root"
			" but without CAP_SYS_PTRACE (a container?).\n"
			"Grant it, e.g. docker run --cap-add=SYS_PTRACE.", (int)pid, comm);
	char scope[16];
	if (!cap && proc_read_file("/proc/sys/kernel/yama/ptrace_scope", scope,
				   sizeof(scope)) > 0 && scope[0] != '0')
		return mt_error_set(err, MT_ERR_PERM, e,
			"cannot read the memory map of pid %d (%s): ptrace is restricted"
			" (kernel.yama.ptrace_scope = %c).\n"
			"Run memtop with sudo, or allow it:"
			" sudo sysctl kernel.yama.ptrace_scope=0", (int)pid, comm, scope[0]);
	return mt_error_set(err, MT_ERR_PERM, e,
		"cannot read the memory map of pid %d (%s): %s.\n"
		"A security module (SELinux, AppArmor) may forbid it; check its log.",
		(int)pid, comm, strerror(e));
}

static void task_file(const struct mt_proc *p, const char *file, char *path, size_t n)
{
	if (p->maps_tid == p->pid)
		snprintf(path, n, "/proc/%d/%s", (int)p->pid, file);
	else
		snprintf(path, n, "/proc/%d/task/%d/%s", (int)p->pid, (int)p->maps_tid, file);
}

static int exited(const struct mt_proc *p, int e, const char *how, struct mt_error *err)
{
	return mt_error_set(err, MT_ERR_EXITED, e, "process %d (%s) %s",
			    (int)p->pid, p->comm, how);
}

static bool has_exe(pid_t pid)
{
	char path[64], target[16];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return readlink(path, target, sizeof(target)) >= 0 || errno != ENOENT;
}

int proc_open(struct mt_proc **out, pid_t pid, struct mt_error *err)
{
	struct stat_facts f;
	*out = NULL;

	int rc = pid > 0 ? read_stat(pid, &f) : -ESRCH;
	if (rc == -ENOENT || rc == -ESRCH)
		return mt_error_set(err, MT_ERR_NOPROC, ESRCH, "no process with pid %d", (int)pid);
	if (rc < 0)
		return mt_error_set(err, MT_ERR_OTHER, -rc, "cannot read /proc/%d/stat: %s",
				    (int)pid, strerror(-rc));
	if (f.flags & PF_KTHREAD)
		return mt_error_set(err, MT_ERR_KTHREAD, 0,
			"pid %d (%s) is a kernel thread: it has no user address space",
			(int)pid, f.comm);
	pid_t maps_tid = pid;
	if ((f.state == 'Z' || f.state == 'X') && !(f.threads > 1 && (maps_tid = threads_live(pid))))
		return mt_error_set(err, MT_ERR_NOPROC, ESRCH,
			"pid %d (%s) has exited: it is a zombie waiting for its parent",
			(int)pid, f.comm);

	struct mt_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	p->pid = pid;
	p->maps_tid = maps_tid;
	p->began = f.began;
	snprintf(p->comm, sizeof(p->comm), "%s", f.comm);

	/* The first lines of maps are enough to learn whether we may read
	 * them and whether there is an address space at all. */
	char path[64], probe[512];
	task_file(p, "maps", path, sizeof(path));
	long n = proc_read_file(path, probe, sizeof(probe));
	if (n == -EACCES || n == -EPERM) {
		explain_denied(pid, f.comm, (int)-n, err);
	} else if (n == -ENOENT || n == -ESRCH) {
		mt_error_set(err, MT_ERR_NOPROC, ESRCH, "pid %d (%s) exited", (int)pid, f.comm);
	} else if (n < 0) {
		mt_error_set(err, MT_ERR_OTHER, (int)-n, "cannot read %s: %s", path,
			     strerror((int)-n));
	} else if (n == 0 && !has_exe(pid)) {
		mt_error_set(err, MT_ERR_KTHREAD, 0,
			"pid %d (%s) has no address space and no executable: a kernel thread",
			(int)pid, f.comm);
	} else if ((rc = procinfo_open(&p->info)) < 0) {
		mt_error_set(err, MT_ERR_OTHER, -rc, "libproc2: %s", strerror(-rc));
	} else {
		*out = p;
		return 0;
	}
	proc_close(p);
	return -1;
}

void proc_close(struct mt_proc *p)
{
	if (!p)
		return;
	procinfo_close(p->info);
	bss_cache_free(p->bss);
	free(p->buf);
	free(p->keep);
	pagemap_free(&p->pagemap);
	free(p);
}

pid_t proc_pid(const struct mt_proc *p)
{
	return p->pid;
}

#define DELETED_SUFFIX " (deleted)"

/* Does root + name (+ " (deleted)") name the file with r's inode? */
static int same_file(const char *root, size_t root_len, const struct mt_region *r,
		     bool suffix, char **buf, size_t *cap)
{
	size_t slen = suffix ? sizeof(DELETED_SUFFIX) - 1 : 0;
	size_t need = root_len + r->path_len + slen + 1;
	if (need > *cap) {
		char *b = realloc(*buf, need);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = need;
	}
	char *p = *buf;
	memcpy(p, root, root_len);
	memcpy(p + root_len, r->path, r->path_len);
	memcpy(p + root_len + r->path_len, DELETED_SUFFIX, slen);
	p[need - 1] = '\0';

	struct stat st;
	if (stat(p, &st) < 0)
		return -errno;
	return st.st_ino == r->inode;
}

/*
 * Is the file mapped by r, whose name the kernel suffixed, really gone?
 * Asked through /proc/PID/root so a target in a chroot or container is
 * asked about its own files.  The suffix may be part of the real name:
 * then the name with it is the mapped file, which is not deleted, and r's
 * path gets its suffix back (1).  Returns 0 (deleted), 1 or -ENOMEM.
 *
 * Only inodes are compared.  overlayfs (containers) may show in maps the
 * device of the layer that holds the file while stat through the overlay
 * gives the overlay's device; a false "present" for a file replaced by one
 * with the very inode number on another filesystem is far less likely
 * than a false "deleted" for every library of every container.
 */
static int check_one(struct mt_snapshot *s, const char *root, size_t root_len,
		     struct mt_region *r, char **buf, size_t *cap)
{
	/* Not a path (a pseudo file): nothing to stat, take the kernel's word. */
	if (r->path[0] != '/')
		return 0;
	int rc = same_file(root, root_len, r, false, buf, cap);
	if (rc == 1)
		return 1;
	rc = same_file(root, root_len, r, true, buf, cap);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 1)
		/* Gone, another file, or unreachable (EACCES, over PATH_MAX):
		 * the kernel said deleted and nothing says otherwise. */
		return 0;
	const char *full = snapshot_intern(s, *buf + root_len, r->path_len + sizeof(DELETED_SUFFIX) - 1);
	if (!full)
		return -ENOMEM;
	r->path = full;
	r->path_len += sizeof(DELETED_SUFFIX) - 1;
	return 1;
}

/* The deleted-file check's state, kept across the chunks of one read. */
struct deleted_check {
	char root[32];
	size_t root_len;
	char *buf; /* root + path */
	size_t cap;
	long last; /* index of the last region checked, -1 */
	const char *last_name; /* its name as parsed */
};

static void deleted_check_init(struct deleted_check *c, pid_t pid)
{
	c->root_len = (size_t)snprintf(c->root, sizeof(c->root), "/proc/%d/root", (int)pid);
	c->buf = NULL;
	c->cap = 0;
	c->last = -1;
	c->last_name = NULL;
}

/*
 * Shared memory the kernel names after a file that never was in any
 * directory (memfd, SysV, MAP_SHARED of /dev/zero): " (deleted)" is how
 * it always looks, so calling it a deleted file would be a false alarm.
 */
static bool is_shmem_pseudo_file(const struct mt_region *r)
{
	return !strncmp(r->path, "/memfd:", 7) || !strncmp(r->path, "/SYSV", 5) ||
	       ((r->perms & MT_PERM_SHARED) && !strcmp(r->path, "/dev/zero"));
}

/* Regions [from, to) of s, just parsed (still in cache). */
static void check_deleted(struct deleted_check *c, struct mt_snapshot *s, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		struct mt_region *r = &s->regions[i];
		r->deleted = false;
		if (!r->deleted_suffix || is_shmem_pseudo_file(r))
			continue;
		/* Runs of one file share the interned name: one check per run. */
		const struct mt_region *last = c->last >= 0 ? &s->regions[c->last] : NULL;
		if (last && c->last_name == r->path && last->inode == r->inode &&
		    last->dev_major == r->dev_major && last->dev_minor == r->dev_minor) {
			r->deleted = last->deleted;
			r->path = last->path;
			r->path_len = last->path_len;
			continue;
		}
		c->last_name = r->path;
		c->last = (long)i;
		r->deleted = check_one(s, c->root, c->root_len, r, &c->buf, &c->cap) != 1;
	}
}

/*
 * How much of buf[0, have) is whole records.  A maps record is a line; a
 * smaps record is a header line and the attribute lines under it, so the
 * cut goes before the last header line (attribute lines start with a
 * capital letter, header lines with a hex digit).
 */
static size_t whole_records(const char *buf, size_t have, bool smaps)
{
	size_t pos = have;
	while (pos > 0) {
		const char *nl = memrchr(buf, '\n', pos);
		if (!nl)
			return 0;
		size_t start = (size_t)(nl - buf) + 1;
		if (!smaps)
			return start;
		if (start < have && (unsigned)(buf[start] - 'A') >= 26u)
			return start;
		pos = (size_t)(nl - buf);
	}
	return 0;
}

/* Parse whole records, then check the files of the regions they added
 * while those are in cache (a pass over 65,000 regions later is not). */
static int parse_chunk(struct mt_snapshot *s, const char *text, size_t len, bool smaps,
		       struct deleted_check *dc)
{
	size_t from = s->n_regions;
	int rc = smaps ? maps_parse_all(s, text, len, NULL) : maps_parse(s, text, len, NULL);
	check_deleted(dc, s, from, s->n_regions);
	return rc;
}

/* Read maps or smaps of p, parsing whole records as they arrive. */
static int read_regions(struct mt_proc *p, struct mt_snapshot *s, bool smaps)
{
	char path[64];
	task_file(p, smaps ? "smaps" : "maps", path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct deleted_check dc;
	deleted_check_init(&dc, p->pid);
	size_t have = 0;
	int rc = 0;
	for (;;) {
		if (have == p->cap && (rc = grow(&p->buf, &p->cap, have + 1, RECORD_MAX)) < 0)
			break;
		ssize_t n = read_retry(fd, p->buf + have, p->cap - have);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0) {
			rc = parse_chunk(s, p->buf, have, smaps, &dc);
			break;
		}
		have += (size_t)n;
		size_t cut = whole_records(p->buf, have, smaps);
		if (cut) {
			if ((rc = parse_chunk(s, p->buf, cut, smaps, &dc)) < 0)
				break;
			memmove(p->buf, p->buf + cut, have - cut);
			have -= cut;
		}
	}
	close(fd);
	free(dc.buf);
	return rc;
}

static int keep_rss(struct mt_proc *p, const struct mt_snapshot *s, double mono)
{
	if (s->n_regions > p->cap_keep) {
		struct rss_keep *k = realloc(p->keep, s->n_regions * sizeof(*k));
		if (!k)
			return -ENOMEM;
		p->keep = k;
		p->cap_keep = s->n_regions;
	}
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct mt_region *r = &s->regions[i];
		p->keep[i] = (struct rss_keep){ r->start, r->end, r->smaps };
	}
	p->n_keep = s->n_regions;
	p->rss_at = mono;
	return 0;
}

/* The latest figures onto regions with the same start and end. */
static void carry_rss(const struct mt_proc *p, struct mt_snapshot *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n_regions && k < p->n_keep; i++) {
		struct mt_region *r = &s->regions[i];
		while (k < p->n_keep && p->keep[k].start < r->start)
			k++;
		if (k == p->n_keep || p->keep[k].start != r->start || p->keep[k].end != r->end)
			continue;
		r->smaps = p->keep[k].smaps;
	}
	s->have_rss = true;
	s->rss_time = p->rss_at;
}

static bool smaps_due(const struct mt_proc *p, unsigned flags, double mono)
{
	if (flags & PROC_READ_RSS_NEVER)
		return false;
	if ((flags & PROC_READ_RSS_ALWAYS) || !p->smaps_read)
		return true;
	/* With rss and swap from pagemap, smaps only refreshes Pss and the
	 * dirty figures: a tenth of the budget without it. */
	double ratio = p->no_pagemap ? PROC_SMAPS_COST_RATIO : PROC_SMAPS_COST_RATIO_PAGEMAP;
	return mono - p->smaps_at >= ratio * p->smaps_cost;
}

/* Rss never gets older than PROC_RSS_AGE_MAX while pagemap works. */
static bool pagemap_due(const struct mt_proc *p, double mono)
{
	if (p->no_pagemap)
		return false;
	if (!p->pagemap_read)
		return true;
	double every = PROC_PAGEMAP_COST_RATIO * p->pagemap_cost;
	return mono - p->rss_at >= (every < PROC_RSS_AGE_MAX ? every : PROC_RSS_AGE_MAX);
}

/* rss and swap of every region of s from PAGEMAP_SCAN, now; false if the
 * kernel cannot (then it is not asked again) or the read failed. */
static bool pagemap_rss(struct mt_proc *p, struct mt_snapshot *s)
{
	double t0 = clock_mono();
	int rc = pagemap_resident(&p->pagemap, p->maps_tid, s);
	if (rc == 0) {
		p->pagemap_read = true;
		p->pagemap_at = s->mono;
		p->pagemap_cost = clock_mono() - t0;
		s->have_rss = true;
		s->rss_time = s->mono;
		return true;
	}
	for (size_t i = 0; i < s->n_regions; i++)
		s->regions[i].rss = s->regions[i].swap = MT_UNKNOWN;
	if (rc == -ENOTTY || rc == -EINVAL || rc == -EOPNOTSUPP || rc == -EACCES ||
	    rc == -EPERM)
		p->no_pagemap = true;
	return false;
}

/* smaps of the whole map, or -errno (s reset then). */
static int read_smaps(struct mt_proc *p, struct mt_snapshot *s)
{
	double t0 = clock_mono();
	int rc = read_regions(p, s, true);
	if (rc < 0) {
		snapshot_reset(s);
		return rc;
	}
	p->smaps_read = true;
	p->smaps_cost = clock_mono() - t0;
	p->smaps_at = s->mono;
	s->rss_time = s->mono;
	return keep_rss(p, s, s->mono);
}

/*
 * Regions, with resident figures: from smaps when it is due; else maps,
 * rss and swap from pagemap when due, the rest carried over from the last
 * read.  At the first refresh of a large map (smaps estimated dearer than
 * PROC_SMAPS_FIRST_MAX) smaps is left for later and pagemap gives rss.
 */
static int read_address_space(struct mt_proc *p, struct mt_snapshot *s, unsigned flags)
{
	bool first = !p->smaps_read;
	if (smaps_due(p, flags, s->mono) &&
	    (p->no_pagemap || !first || (flags & PROC_READ_RSS_ALWAYS))) {
		int rc = read_smaps(p, s);
		if (rc != -EACCES && rc != -EPERM)
			return rc;
		/* smaps refused (an LSM may treat it apart): plain maps. */
	}
	int rc = read_regions(p, s, false);
	if (rc != 0 || (flags & PROC_READ_RSS_NEVER))
		return rc;
	if (first && !p->smaps_read) {
		double cost = (double)s->n_regions * PROC_SMAPS_REGION_COST;
		if (cost <= PROC_SMAPS_FIRST_MAX) {
			snapshot_reset(s);
			rc = read_smaps(p, s);
			if (rc != -EACCES && rc != -EPERM)
				return rc;
			if ((rc = read_regions(p, s, false)) != 0)
				return rc;
		}
		p->smaps_read = true;
		p->smaps_at = s->mono;
		p->smaps_cost = cost;
	}
	if (p->n_keep)
		carry_rss(p, s);
	if (pagemap_due(p, s->mono)) {
		if (pagemap_rss(p, s))
			return keep_rss(p, s, s->mono);
		if (p->n_keep)
			carry_rss(p, s);
	}
	return 0;
}

/*
 * Why an empty map: the process stopped existing, became a zombie, or its
 * pid was reused; NULL if it lives on, in which case the main thread may
 * have exited and maps_tid now names a live thread to read instead.
 */
static const char *gone(struct mt_proc *p)
{
	struct stat_facts f;
	if (read_stat(p->pid, &f) < 0)
		return "has exited";
	if (f.began != p->began)
		return "has exited (its pid now belongs to another process)";
	if (f.state == 'Z' || f.state == 'X') {
		pid_t tid = f.threads > 1 ? threads_live(p->pid) : 0;
		if (!tid)
			return "has exited";
		p->maps_tid = tid;
	}
	return NULL;
}

int proc_read(struct mt_proc *p, struct mt_snapshot *s, unsigned flags, struct mt_error *err)
{
	snapshot_reset(s);
	s->pid = p->pid;
	s->time = clock_seconds(CLOCK_REALTIME);
	s->mono = clock_mono();

	int rc = read_address_space(p, s, flags);
	const char *how = NULL;
	if (rc == -ENOENT || rc == -ESRCH || (rc == 0 && s->n_regions == 0)) {
		/* The thread read from may have exited alone: read another. */
		pid_t before = p->maps_tid;
		how = gone(p);
		if (!how && p->maps_tid != before) {
			snapshot_reset(s);
			rc = read_address_space(p, s, flags);
		}
		if (how || rc == -ENOENT || rc == -ESRCH)
			return exited(p, rc ? -rc : ESRCH, how ? how : "has exited", err);
	}
	if (rc == -EACCES || rc == -EPERM)
		return explain_denied(p->pid, p->comm, -rc, err);
	if (rc < 0)
		return mt_error_set(err, MT_ERR_OTHER, -rc, "reading the maps of pid %d: %s",
				    (int)p->pid, strerror(-rc));

	if (!p->bss)
		p->bss = bss_cache_new();
	bss_mark(p->bss, s, p->maps_tid);
	mapnames_resolve(s, p->maps_tid);

	unsigned long long began;
	if (procinfo_read(p->info, p->pid, &s->info, &began) < 0)
		return exited(p, ESRCH, "has exited", err);
	if (began != p->began)
		return exited(p, ESRCH, "has exited (its pid now belongs to another process)", err);
	/* After an exec the process goes by its new name, also in the
	 * message that says it has exited. */
	if (s->info.comm[0])
		snprintf(p->comm, sizeof(p->comm), "%s", s->info.comm);
	rc = threads_read(p->pid, s);
	if (rc == -ENOENT || rc == -ESRCH)
		return exited(p, -rc, "has exited", err);
	if (rc < 0)
		return mt_error_set(err, MT_ERR_OTHER, -rc, "reading the threads of pid %d: %s",
				    (int)p->pid, strerror(-rc));
	procinfo_limits(p->pid, s);
	return 0;
}
