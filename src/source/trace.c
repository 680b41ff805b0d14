/*
 * trace.c - perf events on the target's map and unmap system calls
 * (include/memtop/trace.h, docs/trace.md).
 *
 * Why inherit with one event per thread and per CPU, rather than one
 * event per thread: the kernel refuses to mmap a per-task (cpu -1)
 * inherited event, and without inherit a thread created between two
 * refreshes of our thread list would map unseen.  With inherit, a thread
 * created by any traced thread is traced from its first instruction, and
 * the samples of such inherited events land in the parent event's buffer.
 * Threads that exist when tracing starts are found by listing
 * /proc/PID/task until a pass finds none new: a thread created during
 * the listing by a thread already traced inherits, one created by a
 * thread not yet traced shows up in the next pass.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memtop/proc.h"
#include "memtop/trace.h"
#include "memtop/vec.h"

static const char *const call_names[TRACE_NCALLS] = {
	"mmap", "munmap", "mremap", "brk", "shmat", "shmdt",
};
static const int call_nargs[TRACE_NCALLS] = { 6, 2, 5, 1, 3, 1 };

const char *trace_call_name(enum trace_call c)
{
	return (unsigned)c < TRACE_NCALLS ? call_names[c] : "?";
}

/* ---- tracepoint ids ------------------------------------------------ */

static const char *const tracefs_dirs[] = {
	"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
};

/* Read a small decimal file: its value, or -1. */
static int read_id(const char *path)
{
	char buf[32];
	if (proc_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	char *end;
	long v = strtol(buf, &end, 10);
	return end != buf && v > 0 && v < 65536 ? (int)v : -1;
}

static int read_ids_under(const char *dir, struct trace_ids *ids)
{
	char path[256];
	int found = 0;
	for (int c = 0; c < TRACE_NCALLS; c++) {
		snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_%s/id", dir,
			 call_names[c]);
		ids->enter[c] = read_id(path);
		snprintf(path, sizeof(path), "%s/events/syscalls/sys_exit_%s/id", dir,
			 call_names[c]);
		ids->exit[c] = read_id(path);
		found += ids->enter[c] > 0 && ids->exit[c] > 0;
	}
	return found;
}

/*
 * tracefs is not mounted: a child unshares its mount namespace, mounts
 * tracefs there (invisible to everyone else, gone when the child exits)
 * and sends the ids back through a pipe.  The child calls only
 * async-signal-safe functions beyond read_ids_under's snprintf, which
 * takes no lock.
 */
static int read_ids_private(struct trace_ids *ids, int *why)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		struct trace_ids got;
		int err = 0;
		close(pfd[0]);
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tracefs", tracefs_dirs[0], "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL))
			err = errno;
		else
			read_ids_under(tracefs_dirs[0], &got);
		if (write(pfd[1], &err, sizeof(err)) != sizeof(err) ||
		    (!err && write(pfd[1], &got, sizeof(got)) != sizeof(got)))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	int err = EIO;
	ssize_t n = read(pfd[0], &err, sizeof(err));
	if (n == sizeof(err) && !err && read(pfd[0], ids, sizeof(*ids)) != sizeof(*ids))
		err = EIO;
	close(pfd[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	*why = n == sizeof(err) ? err : EIO;
	return *why ? -1 : 0;
}

int trace_find_ids(struct trace_ids *ids, struct mt_error *err)
{
	for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++)
		if (read_ids_under(tracefs_dirs[i], ids) == TRACE_NCALLS)
			return 0;
	int why = 0;
	if (read_ids_private(ids, &why) == 0) {
		int found = 0;
		for (int c = 0; c < TRACE_NCALLS; c++)
			found += ids->enter[c] > 0 && ids->exit[c] > 0;
		if (found == TRACE_NCALLS)
			return 0;
		return mt_error_set(err, MT_ERR_OTHER, ENOENT,
				    "--trace: this kernel has no syscalls tracepoints "
				    "(CONFIG_FTRACE_SYSCALLS)");
	}
	if (why == EPERM || why == EACCES)
		return mt_error_set(err, MT_ERR_PERM, why,
				    "--trace: the tracepoint ids are not readable (tracefs is "
				    "root's, or not mounted, and mounting it privately needs "
				    "CAP_SYS_ADMIN)");
	return mt_error_set(err, MT_ERR_OTHER, why,
			    "--trace: cannot find the tracepoint ids (tracefs: %s)",
			    strerror(why));
}

/* ---- events and buffers ------------------------------------------- */

struct ring {
	int fd;                 /* the event whose buffer this is */
	struct perf_event_mmap_page *page;
	uint8_t *data;
	uint64_t size;          /* data area, a power of two */
	uint64_t pos;           /* next record to decode */
	uint64_t head;          /* data_head when the read began */
};

struct trace {
	pid_t pid;
	struct trace_ids ids;
	struct perf_event_attr enter_attr;
	struct perf_event_attr exit_attr;
	int ncpu;
	struct ring *rings;     /* one per CPU, fd -1 for CPUs offline */
	int *fds;
	size_t n_fds, cap_fds;
	pid_t *tids;            /* threads opened */
	size_t n_tids, cap_tids;
	struct pollfd *pfds;
	uint64_t lost;
	uint8_t *scratch;       /* a record that wraps the buffer's end */
	size_t scratch_size;
	size_t page_size;
};

/* The registers DWARF needs, in perf's x86 numbering. */
enum { PR_AX, PR_BX, PR_CX, PR_DX, PR_SI, PR_DI, PR_BP, PR_SP, PR_IP, PR_R8 = 16 };
#define REGS_MASK (0x1ffULL | (0xffULL << PR_R8))

static void attrs_init(struct trace *t, const struct trace_options *o)
{
	struct perf_event_attr *a = &t->exit_attr;
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_TRACEPOINT;
	a->sample_period = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	a->inherit = 1;
	a->inherit_thread = 1; /* threads, not forked children */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->sample_id_all = 1;
	/* Wake the reader by bytes used (wakeup_watermark, set by
	 * trace_open), not at every record; it also reads on its own
	 * clock, so latency stays bounded. */
	a->watermark = 1;
	t->enter_attr = *a;
	t->enter_attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	t->enter_attr.sample_regs_user = REGS_MASK;
	t->enter_attr.sample_stack_user = (uint32_t)(o && o->stack_bytes ? o->stack_bytes
							   : 8192);
}

/* The release binary's testing hook refuses nothing; the test build's
 * memtop links tests/support/trace_deny.c, whose definition wins. */
__attribute__((weak)) int trace_test_errno(void)
{
	return 0;
}

static long perf_open(struct perf_event_attr *a, pid_t tid, int cpu)
{
	int e = trace_test_errno();
	if (e) {
		errno = e;
		return -1;
	}
	return syscall(SYS_perf_event_open, a, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int paranoid(void)
{
	char buf[16];
	return proc_read_file("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)) > 0
		       ? atoi(buf) : 99;
}

static int open_error(struct trace *t, int e, struct mt_error *err)
{
	if (e == EACCES || e == EPERM)
		return mt_error_set(err, MT_ERR_PERM, e,
				    "--trace: perf events refused (kernel.perf_event_paranoid=%d, "
				    "needs CAP_PERFMON or root)", paranoid());
	if (e == EMFILE || e == ENFILE)
		return mt_error_set(err, MT_ERR_OTHER, e,
				    "--trace: out of file descriptors (%zu events open, %d CPUs); "
				    "raise ulimit -n", t->n_fds, t->ncpu);
	if (e == ESRCH)
		return mt_error_set(err, MT_ERR_EXITED, e, "--trace: the target exited");
	if (e == ENOENT || e == ENODEV || e == EOPNOTSUPP)
		return mt_error_set(err, MT_ERR_OTHER, e,
				    "--trace: this kernel cannot trace system calls (%s)",
				    strerror(e));
	return mt_error_set(err, MT_ERR_OTHER, e, "--trace: perf_event_open: %s", strerror(e));
}

/* The buffer is locked memory: an unprivileged user's share of it is
 * bounded by kernel.perf_event_mlock_kb. */
static int map_error(const struct trace *t, size_t pages, int e, struct mt_error *err)
{
	return mt_error_set(err, e == EPERM || e == ENOMEM ? MT_ERR_PERM : MT_ERR_OTHER, e,
			    "--trace: cannot map a %zu KiB buffer per CPU (%s; "
			    "kernel.perf_event_mlock_kb bounds it without CAP_IPC_LOCK): "
			    "try --trace-buffer 1", pages * t->page_size / 1024, strerror(e));
}

static int ring_map(struct trace *t, struct ring *r, int fd, size_t pages)
{
	size_t len = (pages + 1) * t->page_size;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->fd = fd;
	r->page = p;
	r->data = (uint8_t *)p + t->page_size;
	r->size = pages * t->page_size;
	return 0;
}

/* Open the 10 events of tid on every CPU; the first events of a CPU own
 * its buffer.  A thread that exited meanwhile is skipped. */
static int open_thread(struct trace *t, pid_t tid, size_t pages, struct mt_error *err)
{
	for (int cpu = 0; cpu < t->ncpu; cpu++) {
		for (int c = 0; c < TRACE_NCALLS * 2; c++) {
			struct perf_event_attr *a = c < TRACE_NCALLS ? &t->enter_attr
								     : &t->exit_attr;
			a->config = (uint64_t)(c < TRACE_NCALLS ? t->ids.enter[c]
								: t->ids.exit[c - TRACE_NCALLS]);
			struct ring *r = &t->rings[cpu];
			if (r->fd == -2) /* CPU offline */
				break;
			long fd = perf_open(a, tid, cpu);
			if (fd < 0 && errno == EINVAL && a->inherit_thread) {
				/* Before Linux 5.13: forked children inherit too;
				 * trace_read drops their records (another pid). */
				t->enter_attr.inherit_thread = t->exit_attr.inherit_thread = 0;
				fd = perf_open(a, tid, cpu);
			}
			if (fd < 0 && errno == ENODEV && r->fd < 0) {
				r->fd = -2;
				break;
			}
			if (fd < 0 && errno == ESRCH)
				return 0;
			if (fd < 0)
				return open_error(t, errno, err);
			if (VEC_RESERVE(t->fds, t->cap_fds, t->n_fds, 256)) {
				close((int)fd);
				return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
			}
			t->fds[t->n_fds++] = (int)fd;
			if (r->fd < 0) {
				int e = ring_map(t, r, (int)fd, pages);
				if (e)
					return map_error(t, pages, -e, err);
			} else if (ioctl((int)fd, PERF_EVENT_IOC_SET_OUTPUT, r->fd)) {
				return open_error(t, errno, err);
			}
		}
	}
	return 0;
}

static bool tid_known(const struct trace *t, pid_t tid)
{
	for (size_t i = 0; i < t->n_tids; i++)
		if (t->tids[i] == tid)
			return true;
	return false;
}

/* One pass over /proc/PID/task: the number of threads newly opened. */
static long open_new_threads(struct trace *t, size_t pages, struct mt_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	DIR *d = opendir(path);
	if (!d)
		return mt_error_set(err, errno == ENOENT ? MT_ERR_EXITED : MT_ERR_OTHER, errno,
				    "--trace: %s: %s", path, strerror(errno));
	long added = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || tid_known(t, (pid_t)tid))
			continue;
		if (open_thread(t, (pid_t)tid, pages, err) ||
		    VEC_RESERVE(t->tids, t->cap_tids, t->n_tids, 16)) {
			closedir(d);
			if (err && err->kind == MT_ERR_NONE)
				mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
			return -1;
		}
		t->tids[t->n_tids++] = (pid_t)tid;
		added++;
	}
	closedir(d);
	return added;
}

/* Each traced thread costs 12 descriptors per CPU: take what the hard
 * limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Each call's record holds a copy of the stack (8 KiB by default), so a
 * burst of calls fills a buffer fast: 4 MiB per CPU holds ~500 calls.
 * Many CPUs share a 64 MiB budget, down to 1 MiB each.
 */
static size_t default_pages(int ncpu, size_t page_size)
{
	size_t bytes = (64u << 20) / (size_t)(ncpu > 0 ? ncpu : 1);
	if (bytes > (4u << 20))
		bytes = 4u << 20;
	if (bytes < (1u << 20))
		bytes = 1u << 20;
	size_t pages = 1;
	while (pages * 2 * page_size <= bytes)
		pages *= 2;
	return pages;
}

int trace_open(struct trace **out, pid_t pid, const struct trace_ids *ids,
	       const struct trace_options *o, struct mt_error *err)
{
	*out = NULL;
	struct trace *t = calloc(1, sizeof(*t));
	if (!t)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	t->pid = pid;
	t->ids = *ids;
	t->page_size = (size_t)sysconf(_SC_PAGESIZE);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	t->ncpu = ncpu > 0 ? (int)ncpu : 1;
	size_t pages = o && o->ring_pages ? o->ring_pages : default_pages(t->ncpu, t->page_size);
	if (pages & (pages - 1))
		pages = default_pages(t->ncpu, t->page_size);
	t->rings = calloc((size_t)t->ncpu, sizeof(*t->rings));
	t->pfds = calloc((size_t)t->ncpu + 1, sizeof(*t->pfds));
	t->scratch_size = 65536 + 4096;
	t->scratch = malloc(t->scratch_size);
	if (!t->rings || !t->pfds || !t->scratch) {
		trace_close(t);
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	}
	for (int i = 0; i < t->ncpu; i++)
		t->rings[i].fd = -1;
	attrs_init(t, o);
	/* Woken when an eighth is used: a burst then has the other seven
	 * eighths to land in while the reader catches up. */
	t->enter_attr.wakeup_watermark = (uint32_t)(pages * t->page_size / 8);
	t->exit_attr.wakeup_watermark = t->enter_attr.wakeup_watermark;
	raise_nofile();
	long added;
	int passes = 0;
	do {
		added = open_new_threads(t, pages, err);
		if (added < 0) {
			trace_close(t);
			return -1;
		}
	} while (added > 0 && ++passes < 100);
	if (t->n_tids == 0) {
		trace_close(t);
		return mt_error_set(err, MT_ERR_EXITED, ESRCH, "--trace: the target exited");
	}
	*out = t;
	return 0;
}

int trace_wait(struct trace *t, int timeout_ms, int wake_fd)
{
	nfds_t n = 0;
	for (int i = 0; i < t->ncpu; i++)
		if (t->rings[i].fd >= 0)
			t->pfds[n++] = (struct pollfd){ .fd = t->rings[i].fd, .events = POLLIN };
	if (wake_fd >= 0)
		t->pfds[n++] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
	int rc = poll(t->pfds, n, timeout_ms);
	return rc < 0 ? -errno : rc;
}

/* Copy len bytes at ring offset pos, across the buffer's end. */
static void ring_copy(const struct ring *r, uint64_t pos, void *dst, size_t len)
{
	uint64_t off = pos & (r->size - 1);
	size_t first = len < r->size - off ? len : (size_t)(r->size - off);
	memcpy(dst, r->data + off, first);
	memcpy((uint8_t *)dst + first, r->data, len - first);
}

/* The record at r->pos, contiguous (in the buffer or in scratch). */
static const uint8_t *ring_record(struct trace *t, struct ring *r, struct perf_event_header *h)
{
	ring_copy(r, r->pos, h, sizeof(*h));
	uint64_t off = r->pos & (r->size - 1);
	if (off + h->size <= r->size)
		return r->data + off;
	if (h->size > t->scratch_size)
		return NULL;
	ring_copy(r, r->pos, t->scratch, h->size);
	return t->scratch;
}

/* The time of the record at r->pos; 0 for those without one (lost). */
static uint64_t ring_peek_time(const struct ring *r)
{
	struct perf_event_header h;
	uint64_t tm = 0;
	ring_copy(r, r->pos, &h, sizeof(h));
	if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 16)
		ring_copy(r, r->pos + sizeof(h) + 8, &tm, sizeof(tm));
	return tm;
}

static int call_of(const int *ids, int type)
{
	for (int c = 0; c < TRACE_NCALLS; c++)
		if (ids[c] == type)
			return c;
	return -1;
}

bool trace_decode(const struct trace_ids *ids, const void *record, size_t size,
		  struct trace_record *rec)
{
	const uint8_t *p = record;
	if (size < sizeof(struct perf_event_header))
		return false;
	const uint8_t *end = p + size;
	p += sizeof(struct perf_event_header);
	if (end - p < 20)
		return false;
	uint32_t pid_tid[2], raw_size;
	memcpy(pid_tid, p, 8);
	memcpy(&rec->time, p + 8, 8);
	memcpy(&raw_size, p + 16, 4);
	p += 20;
	if (raw_size > (size_t)(end - p) || raw_size < 24)
		return false;
	const uint8_t *raw = p;
	p += raw_size;
	rec->pid = (int)pid_tid[0];
	rec->tid = (int)pid_tid[1];
	uint16_t type;
	memcpy(&type, raw, 2);
	int c = call_of(ids->enter, type);
	rec->enter = c >= 0;
	if (c < 0 && (c = call_of(ids->exit, type)) < 0)
		return false;
	rec->call = (enum trace_call)c;
	rec->have_regs = false;
	rec->stack = NULL;
	rec->stack_size = 0;
	memset(rec->args, 0, sizeof(rec->args));
	if (!rec->enter) {
		memcpy(&rec->ret, raw + 16, 8);
		return true;
	}
	size_t nargs = (raw_size - 16) / 8;
	if (nargs > (size_t)call_nargs[c])
		nargs = (size_t)call_nargs[c];
	memcpy(rec->args, raw + 16, nargs * 8);
	/* REGS_USER: abi, then the registers of the mask; STACK_USER:
	 * size, bytes, the size actually copied. */
	uint64_t abi, perf_regs[24], n;
	if (end - p < 8)
		return true;
	memcpy(&abi, p, 8);
	p += 8;
	if (abi == PERF_SAMPLE_REGS_ABI_NONE)
		return true;
	if ((size_t)(end - p) < 17 * 8)
		return false;
	memcpy(perf_regs, p, 17 * 8);
	p += 17 * 8;
	/* perf's order (bits ascending) to DWARF's. */
	static const int dwarf_of[17] = { 0, 3, 2, 1, 4, 5, 6, 7, 16,
					  8, 9, 10, 11, 12, 13, 14, 15 };
	for (int i = 0; i < 17; i++)
		rec->regs[dwarf_of[i]] = perf_regs[i];
	rec->have_regs = true;
	if (end - p < 8)
		return true;
	memcpy(&n, p, 8);
	p += 8;
	if (n == 0 || n > (size_t)(end - p) || (size_t)(end - p) - n < 8)
		return true;
	uint64_t dyn;
	memcpy(&dyn, p + n, 8);
	rec->stack = p;
	rec->stack_size = dyn < n ? dyn : n;
	return true;
}

static void ring_consume(struct trace *t, struct ring *r, trace_fn fn, void *arg, size_t *count)
{
	struct perf_event_header h;
	const uint8_t *p = ring_record(t, r, &h);
	if (h.size < sizeof(h)) { /* cannot happen; never loop on it */
		r->pos = r->head;
		return;
	}
	if (p && h.type == PERF_RECORD_SAMPLE) {
		struct trace_record rec;
		if (trace_decode(&t->ids, p, h.size, &rec) && rec.pid == t->pid) {
			fn(&rec, arg);
			(*count)++;
		}
	} else if (p && h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
		uint64_t lost;
		memcpy(&lost, p + sizeof(h) + 8, 8);
		t->lost += lost;
	}
	r->pos += h.size;
}

/*
 * A call's enter and exit records may sit in two CPUs' buffers, and the
 * buffers' heads are read one after the other: an enter still being
 * written when its buffer's head is read could miss this pass while its
 * exit, written later on another CPU, makes it.  So a pass decodes only
 * records stamped before it began (`cut`): a record still in flight then
 * was stamped before the cut but is committed after it, and whatever its
 * thread does next is stamped later still, so it waits for the next pass
 * with it.
 */
size_t trace_read(struct trace *t, trace_fn fn, void *arg)
{
	size_t count = 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t cut = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	for (int i = 0; i < t->ncpu; i++) {
		struct ring *r = &t->rings[i];
		if (r->fd < 0)
			continue;
		r->head = __atomic_load_n(&r->page->data_head, __ATOMIC_ACQUIRE);
		r->pos = r->page->data_tail;
	}
	/* Merge the CPUs' buffers by time: a thread's exit may sit in
	 * another CPU's buffer than its enter. */
	for (;;) {
		struct ring *best = NULL;
		uint64_t best_time = UINT64_MAX;
		for (int i = 0; i < t->ncpu; i++) {
			struct ring *r = &t->rings[i];
			if (r->fd < 0 || r->pos >= r->head)
				continue;
			uint64_t tm = ring_peek_time(r);
			if (!best || tm < best_time) {
				best = r;
				best_time = tm;
			}
		}
		if (!best || best_time > cut)
			break;
		ring_consume(t, best, fn, arg, &count);
	}
	for (int i = 0; i < t->ncpu; i++) {
		struct ring *r = &t->rings[i];
		if (r->fd >= 0)
			__atomic_store_n(&r->page->data_tail, r->pos, __ATOMIC_RELEASE);
	}
	return count;
}

uint64_t trace_lost(const struct trace *t)
{
	return t->lost;
}

size_t trace_threads(const struct trace *t)
{
	return t->n_tids;
}

size_t trace_events(const struct trace *t)
{
	return t->n_fds;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	for (int i = 0; t->rings && i < t->ncpu; i++)
		if (t->rings[i].fd >= 0)
			munmap(t->rings[i].page, t->rings[i].size + t->page_size);
	for (size_t i = 0; i < t->n_fds; i++)
		close(t->fds[i]);
	free(t->fds);
	free(t->tids);
	free(t->rings);
	free(t->pfds);
	free(t->scratch);
	free(t);
}
