/*
 * tracer.c - the --trace thread (include/memtop/tracer.h).
 *
 * The kernel copies the stack at each system call's entry; the copy
 * lives in the perf buffer only until the record is consumed, so the
 * stack is unwound at once, on the enter record, and the call waits for
 * its exit record (same thread) to learn whether it succeeded and where
 * it mapped.  Stacks are deduplicated by their return addresses: a
 * program maps from a few places, so naming (symbols, inlined frames)
 * happens once per distinct stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/hash.h"
#include "memtop/proc.h"
#include "memtop/tracer.h"
#include "memtop/ustack.h"
#include "memtop/vec.h"

#define MAX_STACKS (1u << 20) /* distinct stacks kept; later ones go unnamed */
/* Events waiting for the front end: a long refresh interval on a busy
 * target must not grow memtop without bound; beyond, events are dropped
 * and counted (tracer_stats.dropped). */
#define MAX_QUEUE (1u << 20)

/* A call entered, waiting for its exit. */
struct pending {
	int tid;             /* 0: free slot */
	uint8_t call;
	uint64_t args[6];
	uint64_t time;
	long stack;
};

struct known_stack {
	uint64_t hash;
	long id;
	uint32_t n;
	uint64_t *ips;
};

struct tracer {
	pid_t pid;
	struct trace *trace;
	struct ustack *ustack;
	pthread_t thread;
	bool running;
	int stop;              /* set by tracer_stop; __atomic accesses */
	double mono_to_real;   /* add to a CLOCK_MONOTONIC time */
	uint64_t brk;          /* the program break as last traced, 0 unknown */
	/* Calls in flight, open addressing by tid. */
	struct pending *pend;
	size_t pend_cap;
	/* Stacks seen: open addressing by hash. */
	struct known_stack *known;
	size_t known_cap, known_n;
	long next_id;
	/* Hand-off to the front end, under lock. */
	pthread_mutex_t lock;
	struct mt_tevents out;
	struct mt_stacks new_stacks;
	struct tracer_stats stats;
	bool oom;
	/* The tracer thread's own counts, published into stats under lock
	 * once per pass. */
	uint64_t records, failed;
	bool own_oom;
	/* tracer_take's request for a pass that begins after it (numbered
	 * asked), the eventfd that wakes the thread for it, and the number of
	 * the last request a finished pass began after (under lock). */
	uint64_t asked, served;
	int wake_fd;
	pthread_cond_t passed;
};

/* The slot of tid's call in flight; with make, a free one for it (a
 * tombstone, tid -1, is reused). */
static struct pending *pending_slot(struct tracer *t, int tid, bool make)
{
	struct pending *reuse = NULL;
	uint64_t h = hash_mix((uint64_t)tid);
	for (size_t probe = 0; probe < t->pend_cap; probe++) {
		struct pending *p = &t->pend[(h + probe) & (t->pend_cap - 1)];
		if (p->tid == tid)
			return p;
		if (p->tid == -1 && !reuse)
			reuse = p;
		if (p->tid == 0)
			return make ? (reuse ? reuse : p) : NULL;
	}
	return make ? reuse : NULL;
}

/* The table is full: rebuild it without tombstones and without the calls
 * of threads silent for 10 s (their exit was lost, or they died in the
 * call), twice as big only if what is left is over half of it. */
static bool pending_live(const struct pending *p, uint64_t now)
{
	return p->tid > 0 && now - p->time < 10000000000ULL;
}

static void pending_compact(struct tracer *t, uint64_t now)
{
	struct pending *old = t->pend;
	size_t cap = t->pend_cap, live = 0;
	for (size_t i = 0; i < cap; i++)
		live += pending_live(&old[i], now);
	size_t ncap = live * 2 > cap ? cap * 2 : cap;
	struct pending *n = calloc(ncap, sizeof(*n));
	if (!n)
		return;
	t->pend = n;
	t->pend_cap = ncap;
	for (size_t i = 0; i < cap; i++)
		if (pending_live(&old[i], now)) {
			struct pending *p = pending_slot(t, old[i].tid, true);
			if (p)
				*p = old[i];
		}
	free(old);
}

static int known_grow(struct tracer *t)
{
	size_t cap = t->known_cap ? t->known_cap * 2 : 1024;
	struct known_stack *k = calloc(cap, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < t->known_cap; i++) {
		if (!t->known[i].ips)
			continue;
		size_t j = t->known[i].hash & (cap - 1);
		while (k[j].ips)
			j = (j + 1) & (cap - 1);
		k[j] = t->known[i];
	}
	free(t->known);
	t->known = k;
	t->known_cap = cap;
	return 0;
}

/* The id of the stack ips[0..n): known, or symbolized and handed to the
 * front end now; -1 when there is no room or memory for a new one. */
static long stack_id(struct tracer *t, const uint64_t *ips, size_t n)
{
	uint64_t h = hash_mix(n);
	for (size_t i = 0; i < n; i++)
		h = hash_mix(h ^ ips[i]);
	if (t->known_n * 2 >= t->known_cap && known_grow(t) < 0)
		return -1;
	size_t j = h & (t->known_cap - 1);
	for (; t->known[j].ips; j = (j + 1) & (t->known_cap - 1)) {
		struct known_stack *k = &t->known[j];
		if (k->hash == h && k->n == n && !memcmp(k->ips, ips, n * sizeof(*ips)))
			return k->id;
	}
	if (t->next_id >= (long)MAX_STACKS)
		return -1;
	struct mt_stack st;
	uint64_t *copy = malloc(n * sizeof(*ips) + 1);
	if (!copy || ustack_symbolize(t->ustack, ips, n, &st)) {
		free(copy);
		t->own_oom = true;
		return -1;
	}
	memcpy(copy, ips, n * sizeof(*ips));
	t->known[j] = (struct known_stack){ h, t->next_id, (uint32_t)n, copy };
	t->known_n++;
	pthread_mutex_lock(&t->lock);
	if (origins_stacks_add(&t->new_stacks, &st))
		t->oom = true;
	t->stats.stacks++;
	pthread_mutex_unlock(&t->lock);
	return t->next_id++;
}

static void on_enter(struct tracer *t, const struct trace_record *r)
{
	struct pending *p = pending_slot(t, r->tid, true);
	if (!p) {
		pending_compact(t, r->time);
		if (!(p = pending_slot(t, r->tid, true)))
			return;
	}
	uint64_t ips[ORIGINS_MAX_FRAMES];
	long id = -1;
	if (r->have_regs) {
		size_t n = ustack_unwind(t->ustack, r->tid, r->regs, r->stack, r->stack_size, ips,
					 ORIGINS_MAX_FRAMES);
		id = stack_id(t, ips, n);
	}
	*p = (struct pending){ .tid = r->tid, .call = (uint8_t)r->call, .time = r->time,
			       .stack = id };
	memcpy(p->args, r->args, sizeof(p->args));
}

static uint64_t page_up(uint64_t x)
{
	return (x + 4095) & ~4095ULL;
}

/* The file behind an mmap's descriptor, read while the call is fresh. */
static char *fd_path(pid_t pid, int fd)
{
	char link[64], buf[4096];
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static void emit(struct tracer *t, struct mt_tevent *ev)
{
	pthread_mutex_lock(&t->lock);
	if (t->out.n >= MAX_QUEUE)
		t->stats.dropped++;
	else if (origins_events_push(&t->out, ev))
		t->oom = true;
	else
		t->stats.events++;
	pthread_mutex_unlock(&t->lock);
}

static void on_return(struct tracer *t, const struct trace_record *r)
{
	struct pending *p = pending_slot(t, r->tid, false);
	if (!p || p->call != r->call)
		return; /* entered before tracing began, or its enter was lost */
	struct pending c = *p;
	p->tid = -1; /* a tombstone keeps later probe chains intact */
	struct mt_tevent ev = { .time = (double)c.time / 1e9 + t->mono_to_real, .tid = r->tid,
				.call = c.call, .kind = MT_TEV_MAP, .prot = -1, .fd = -1,
				.shared = -1, .stack = c.stack };
	bool ok = r->ret >= 0 || r->ret < -4095;
	if (!ok && c.call != TRACE_BRK) {
		t->failed++;
		return;
	}
	switch (c.call) {
	case TRACE_MMAP:
		ev.start = (uint64_t)r->ret;
		ev.len = page_up(c.args[1]);
		ev.prot = (int)c.args[2];
		ev.flags = (int)c.args[3];
		ev.shared = (ev.flags & MAP_TYPE) != MAP_PRIVATE;
		ev.fd = (int)c.args[4];
		if (ev.fd >= 0 && !(ev.flags & MAP_ANONYMOUS))
			ev.path = fd_path(t->pid, ev.fd);
		else
			ev.fd = -1;
		emit(t, &ev);
		break;
	case TRACE_MUNMAP:
		ev.kind = MT_TEV_UNMAP;
		ev.start = c.args[0];
		ev.len = page_up(c.args[1]);
		emit(t, &ev);
		break;
	case TRACE_MREMAP:
		ev.kind = MT_TEV_UNMAP;
		ev.start = c.args[0];
		ev.len = page_up(c.args[1]);
		ev.flags = (int)c.args[3];
		emit(t, &ev);
		ev.kind = MT_TEV_MAP;
		ev.start = (uint64_t)r->ret;
		ev.len = page_up(c.args[2]);
		emit(t, &ev);
		break;
	case TRACE_BRK: {
		/* brk returns the break; it moved if the break changed. */
		uint64_t now = (uint64_t)r->ret, was = t->brk;
		t->brk = now;
		if (!was || page_up(now) == page_up(was))
			break;
		ev.kind = now > was ? MT_TEV_MAP : MT_TEV_UNMAP;
		ev.start = page_up(now > was ? was : now);
		ev.len = page_up(now > was ? now : was) - ev.start;
		ev.prot = PROT_READ | PROT_WRITE;
		ev.shared = 0;
		emit(t, &ev);
		break;
	}
	case TRACE_SHMDT:
		/* Its size and protection: from the map before it (traced_fold). */
		ev.kind = MT_TEV_UNMAP;
		ev.start = c.args[0];
		ev.len = 0;
		ev.shared = 1;
		emit(t, &ev);
		break;
	case TRACE_SHMAT:
		ev.start = (uint64_t)r->ret;
		ev.len = 0; /* the segment's size: from the next snapshot */
		ev.prot = c.args[2] & 010000 /* SHM_RDONLY */ ? PROT_READ : PROT_READ | PROT_WRITE;
		ev.shared = 1;
		emit(t, &ev);
		break;
	}
	free(ev.path);
}

static void on_record(const struct trace_record *r, void *arg)
{
	struct tracer *t = arg;
	t->records++;
	if (r->enter)
		on_enter(t, r);
	else
		on_return(t, r);
}

static void *tracer_main(void *arg)
{
	struct tracer *t = arg;
	double cpu0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		trace_wait(t->trace, 50, t->wake_fd);
		uint64_t drained;
		if (read(t->wake_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
			break;
		pthread_mutex_lock(&t->lock);
		uint64_t serving = t->asked;
		pthread_mutex_unlock(&t->lock);
		trace_read(t->trace, on_record, t);
		pthread_mutex_lock(&t->lock);
		t->served = serving;
		pthread_cond_broadcast(&t->passed);
		t->stats.records = t->records;
		t->stats.failed = t->failed;
		t->oom |= t->own_oom;
		t->stats.lost = trace_lost(t->trace);
		t->stats.cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
		pthread_mutex_unlock(&t->lock);
	}
	return NULL;
}

/* The break where tracing starts: the end of [heap], else start_brk
 * (/proc/PID/stat field 47), where the heap will begin. */
static uint64_t initial_brk(pid_t pid)
{
	char path[64], *text = NULL;
	size_t cap = 0;
	uint64_t brk = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	long n = proc_slurp(path, &text, &cap);
	for (char *line = n > 0 ? text : NULL; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		unsigned long long s, e;
		if (strstr(line, "[heap]") && sscanf(line, "%llx-%llx", &s, &e) == 2)
			brk = e;
		line = nl ? nl + 1 : NULL;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!brk && (n = proc_slurp(path, &text, &cap)) > 0) {
		char *p = strrchr(text, ')');
		/* Field 3 follows ") "; start_brk is field 47. */
		for (int f = 2; p && f < 47; f++)
			p = strchr(p + 1, ' ');
		if (p)
			brk = strtoull(p + 1, NULL, 10);
	}
	free(text);
	return brk;
}

int tracer_start(struct tracer **out, pid_t pid, const struct trace_options *o,
		 struct mt_error *err)
{
	struct trace_ids ids;
	*out = NULL;
	if (trace_find_ids(&ids, err))
		return -1;
	struct tracer *t = calloc(1, sizeof(*t));
	if (!t)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	t->pid = pid;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->passed, &ca);
	pthread_condattr_destroy(&ca);
	t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	origins_stacks_init(&t->new_stacks);
	t->pend_cap = 256;
	t->pend = calloc(t->pend_cap, sizeof(*t->pend));
	t->mono_to_real = clock_seconds(CLOCK_REALTIME) - clock_mono();
	if (!t->pend || t->wake_fd < 0) {
		tracer_stop(t);
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	}
	if (ustack_open(&t->ustack, pid)) {
		tracer_stop(t);
		return mt_error_set(err, MT_ERR_OTHER, EIO,
				    "--trace: cannot read the modules of process %d", pid);
	}
	t->brk = initial_brk(pid);
	if (trace_open(&t->trace, pid, &ids, o, err)) {
		tracer_stop(t);
		return -1;
	}
	t->stats.threads = trace_threads(t->trace);
	if (pthread_create(&t->thread, NULL, tracer_main, t)) {
		tracer_stop(t);
		return mt_error_set(err, MT_ERR_OTHER, EAGAIN,
				    "--trace: cannot start a thread");
	}
	t->running = true;
	*out = t;
	return 0;
}

/* Under lock: ask for a pass beginning now and wait for it, bounded (a
 * tracer thread slowed by a flood of calls must not hold the screen). */
static void sync_locked(struct tracer *t)
{
	uint64_t want = ++t->asked, one = 1;
	if (write(t->wake_fd, &one, sizeof(one)) < 0)
		return;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += TRACER_SYNC_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (t->served < want)
		if (pthread_cond_timedwait(&t->passed, &t->lock, &until))
			break;
}

int tracer_take(struct tracer *t, struct mt_tevents *ev, struct mt_stacks *st,
		struct tracer_stats *stats)
{
	pthread_mutex_lock(&t->lock);
	if (t->running)
		sync_locked(t);
	int rc = origins_stacks_move(st, &t->new_stacks);
	for (size_t i = 0; i < t->out.n && !rc; i++)
		rc = origins_events_push(ev, &t->out.v[i]);
	origins_events_clear(&t->out);
	if (stats)
		*stats = t->stats;
	if (t->oom)
		rc = -ENOMEM;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void tracer_stop(struct tracer *t)
{
	if (!t)
		return;
	if (t->running) {
		__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
		pthread_join(t->thread, NULL);
	}
	trace_close(t->trace);
	ustack_close(t->ustack);
	for (size_t i = 0; i < t->known_cap; i++)
		free(t->known[i].ips);
	free(t->known);
	free(t->pend);
	origins_events_free(&t->out);
	origins_stacks_free(&t->new_stacks);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->passed);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	free(t);
}
