/*
 * test_proc.c - the live source against real processes: this test itself
 * (it makes the mappings it then looks for), children, and pid 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "memtop/maps.h"
#include "memtop/proc.h"

struct fixture {
	struct mt_proc *proc;
	struct mt_snapshot snap;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mt_error err;
	if (!f || proc_open(&f->proc, getpid(), &err) < 0)
		return -1;
	snapshot_init(&f->snap);
	snprintf(f->dir, sizeof(f->dir), "/tmp/memtop-test-proc-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	proc_close(f->proc);
	snapshot_free(&f->snap);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const struct mt_region *refresh_find(struct fixture *f, unsigned flags, const void *addr)
{
	struct mt_error err;
	assert_int_equal(proc_read(f->proc, &f->snap, flags, &err), 0);
	long i = snapshot_find(&f->snap, (uint64_t)(uintptr_t)addr);
	assert_true(i >= 0);
	return &f->snap.regions[i];
}

static void test_anon_perms(void **state)
{
	struct fixture *f = *state;
	long pg = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED);
	assert_int_equal(mprotect(a + pg, pg, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sh != MAP_FAILED);

	const struct mt_region *r = refresh_find(f, PROC_READ_RSS_NEVER, a + pg);
	assert_int_equal(r->start, (uintptr_t)(a + pg));
	assert_int_equal(r->end, (uintptr_t)(a + 2 * pg));
	assert_int_equal(r->perms, MT_PERM_R | MT_PERM_W | MT_PERM_X);
	r = &f->snap.regions[snapshot_find(&f->snap, (uintptr_t)a)];
	assert_int_equal(r->perms, MT_PERM_R);
	assert_true(mt_region_is_anonymous(r));
	r = &f->snap.regions[snapshot_find(&f->snap, (uintptr_t)sh)];
	assert_int_equal(r->perms, MT_PERM_R | MT_PERM_W | MT_PERM_SHARED);
	assert_false(f->snap.have_rss);

	/* The facts around the regions. */
	const struct mt_snapshot *s = &f->snap;
	assert_int_equal(s->pid, getpid());
	assert_true(s->time > 1e9 && s->mono > 0);
	assert_true(s->max_map_count > 0);
	assert_int_equal(s->page_size, (uint64_t)pg);
	assert_true(s->info.threads >= 1);
	assert_true(s->info.rss > 0 && s->info.vsz >= s->info.rss);
	assert_string_equal(s->info.comm, "test_proc");
	assert_true(s->info.state == 'R' || s->info.state == 'S');
	assert_true(s->info.uptime >= 0 && s->info.start_time <= s->time);
	assert_true(s->n_threads >= 1);
	munmap(a, 3 * pg);
	munmap(sh, pg);
}

/* Create `name` in f->dir with one page and map it. */
static void *map_file(struct fixture *f, const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", f->dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	close(fd);
	return m;
}

static void test_deleted(void **state)
{
	struct fixture *f = *state;
	char gone[256], fake[256], odd[256];
	void *g = map_file(f, "gone", gone, sizeof(gone));
	void *k = map_file(f, "x (deleted)", fake, sizeof(fake));
	void *o = map_file(f, "a b\nc  ", odd, sizeof(odd));
	assert_int_equal(unlink(gone), 0);

	const struct mt_region *r = refresh_find(f, PROC_READ_RSS_NEVER, g);
	assert_true(r->deleted_suffix);
	assert_true(r->deleted);
	assert_string_equal(r->path, gone);

	r = &f->snap.regions[snapshot_find(&f->snap, (uintptr_t)k)];
	assert_true(r->deleted_suffix);
	assert_false(r->deleted);
	assert_string_equal(r->path, fake);

	r = &f->snap.regions[snapshot_find(&f->snap, (uintptr_t)o)];
	assert_false(r->deleted_suffix);
	assert_false(r->deleted);
	assert_string_equal(r->path, odd);

	/* Deleted and replaced by another file of the same name. */
	assert_int_equal(unlink(odd), 0);
	int fd = open(odd, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	r = refresh_find(f, PROC_READ_RSS_NEVER, o);
	assert_true(r->deleted);
	assert_string_equal(r->path, odd);

	munmap(g, 4096);
	munmap(k, 4096);
	munmap(o, 4096);
	unlink(fake);
	unlink(odd);
}

/* Shared memory the kernel names " (deleted)" never was a file in a
 * directory: the suffix is kept, but it is no deleted file. */
static void test_pseudo_deleted(void **state)
{
	struct fixture *f = *state;
	int mfd = memfd_create("x", 0);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4096), 0);
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
	assert_true(m != MAP_FAILED);
	int zfd = open("/dev/zero", O_RDWR);
	assert_true(zfd >= 0);
	void *z = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, zfd, 0);
	assert_true(z != MAP_FAILED);
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	assert_true(id >= 0);
	void *sh = shmat(id, NULL, SHM_RDONLY);
	assert_true(sh != (void *)-1);
	shmctl(id, IPC_RMID, NULL);

	const struct mt_region *r = refresh_find(f, PROC_READ_RSS_NEVER, m);
	assert_string_equal(r->path, "/memfd:x");
	assert_true(r->deleted_suffix && !r->deleted);
	r = &f->snap.regions[snapshot_find(&f->snap, (uintptr_t)z)];
	assert_string_equal(r->path, "/dev/zero");
	assert_true(r->deleted_suffix && !r->deleted); /* not the device: shmem */
	assert_int_equal(r->perms, MT_PERM_R | MT_PERM_W | MT_PERM_SHARED);
	r = &f->snap.regions[snapshot_find(&f->snap, (uintptr_t)sh)];
	assert_int_equal(strncmp(r->path, "/SYSV", 5), 0);
	assert_true(r->deleted_suffix && !r->deleted);

	munmap(m, 4096);
	munmap(z, 4096);
	shmdt(sh);
	close(mfd);
	close(zfd);
}

/* A path of over 4,000 bytes: no fixed buffer may cut it. */
static void test_long_path(void **state)
{
	struct fixture *f = *state;
	char path[4200], comp[201];
	memset(comp, 'd', 200);
	comp[200] = '\0';
	int n = snprintf(path, sizeof(path), "%s", f->dir);
	int depth = 0;
	while (n < 3900) {
		n += snprintf(path + n, sizeof(path) - (size_t)n, "/%s", comp);
		assert_int_equal(mkdir(path, 0700), 0);
		depth++;
	}
	n += snprintf(path + n, sizeof(path) - (size_t)n, "/file (deleted)");
	assert_true(n > 4000);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	close(fd);

	const struct mt_region *r = refresh_find(f, PROC_READ_RSS_NEVER, m);
	assert_int_equal(r->path_len, (uint32_t)n);
	assert_string_equal(r->path, path);
	assert_false(r->deleted);

	munmap(m, 4096);
	unlink(path);
	for (; depth > 0; depth--) {
		*strrchr(path, '/') = '\0';
		rmdir(path);
	}
}

static void test_rss(void **state)
{
	struct fixture *f = *state;
	size_t len = 64 * 4096;
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED);
	memset(a, 1, len);

	const struct mt_region *r = refresh_find(f, PROC_READ_RSS_ALWAYS, a);
	assert_true(f->snap.have_rss);
	assert_true(r->rss != MT_UNKNOWN && r->rss >= len);
	assert_true(r->private_dirty >= len);
	double t = f->snap.rss_time;
	assert_true(t > 0 && t <= f->snap.mono);

	/* Adaptive: read again, or carried over from the read just made. */
	r = refresh_find(f, 0, a);
	assert_true(f->snap.have_rss);
	assert_true(r->rss >= len);
	assert_true(f->snap.rss_time >= t);
	munmap(a, len);
}

/* The regions of a and b inside [lo, hi) are the same; returns how many.
 * (Only there: the allocator, ASan's above all, maps memory elsewhere
 * between any two reads.) */
static size_t assert_same_regions(const struct mt_snapshot *a, const struct mt_snapshot *b,
				  uint64_t lo, uint64_t hi)
{
	long i = snapshot_find(a, lo), j = snapshot_find(b, lo);
	size_t n = 0;
	assert_true(i >= 0 && j >= 0);
	for (; (size_t)i < a->n_regions && a->regions[i].start < hi; i++, j++, n++) {
		assert_true((size_t)j < b->n_regions);
		assert_int_equal(a->regions[i].start, b->regions[j].start);
		assert_int_equal(a->regions[i].end, b->regions[j].end);
		assert_int_equal(a->regions[i].perms, b->regions[j].perms);
		assert_string_equal(a->regions[i].path, b->regions[j].path);
	}
	assert_true((size_t)j == b->n_regions || b->regions[j].start >= hi);
	return n;
}

/* Enough regions that maps and smaps arrive in many chunks: records cut
 * at chunk boundaries must come out whole. */
static void test_many_regions(void **state)
{
	struct fixture *f = *state;
	long pg = sysconf(_SC_PAGESIZE);
	size_t pages = 20000;
	char *a = mmap(NULL, pages * (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED);
	for (size_t i = 1; i < pages; i += 2)
		assert_int_equal(mprotect(a + i * (size_t)pg, (size_t)pg, PROT_READ | PROT_WRITE), 0);

	struct mt_snapshot whole, rss;
	struct mt_error err;
	char *buf = NULL;
	size_t cap = 0;
	snapshot_init(&whole);
	snapshot_init(&rss);
	assert_int_equal(proc_read(f->proc, &rss, PROC_READ_RSS_ALWAYS, &err), 0);
	assert_int_equal(proc_read(f->proc, &f->snap, PROC_READ_RSS_NEVER, &err), 0);
	long n = proc_slurp("/proc/self/maps", &buf, &cap);
	assert_true(n > 256 * 1024);
	assert_int_equal(maps_parse(&whole, buf, (size_t)n, NULL), 0);

	uint64_t lo = (uintptr_t)a, hi = lo + pages * (uint64_t)pg;
	assert_int_equal(assert_same_regions(&f->snap, &whole, lo, hi), pages);
	assert_int_equal(assert_same_regions(&rss, &whole, lo, hi), pages);
	for (size_t i = 0; i < rss.n_regions; i++)
		assert_true(rss.regions[i].rss != MT_UNKNOWN);

	free(buf);
	snapshot_free(&whole);
	snapshot_free(&rss);
	munmap(a, pages * (size_t)pg);
}

static void *blocked(void *arg)
{
	int *fds = arg;
	char c;
	if (read(fds[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	int fds[2];
	pthread_t th;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pthread_create(&th, NULL, blocked, fds), 0);

	/* Wait until it sleeps in read(): its state becomes 'S' with an sp. */
	const struct mt_thread *t = NULL;
	for (int tries = 0; tries < 200 && !t; tries++) {
		struct mt_error err;
		usleep(5000);
		assert_int_equal(proc_read(f->proc, &f->snap, PROC_READ_RSS_NEVER, &err), 0);
		for (size_t i = 0; i < f->snap.n_threads; i++) {
			const struct mt_thread *x = &f->snap.threads[i];
			if (x->tid != getpid() && x->state == 'S' && x->sp)
				t = x;
		}
	}
	assert_non_null(t);
	assert_true(snapshot_find(&f->snap, t->sp) >= 0);
	assert_int_equal(t->stack_region, -1);
	assert_true(f->snap.n_threads >= 2);
	for (size_t i = 1; i < f->snap.n_threads; i++)
		assert_true(f->snap.threads[i - 1].tid < f->snap.threads[i].tid);

	assert_int_equal(write(fds[1], "x", 1), 1);
	pthread_join(th, NULL);
	close(fds[0]);
	close(fds[1]);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void test_noproc_kthread(void **state)
{
	struct mt_proc *p;
	struct mt_error err;

	pid_t pid = spawn_sleeper();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(proc_open(&p, pid, &err), -1);
	assert_int_equal(err.kind, MT_ERR_NOPROC);
	assert_null(p);
	assert_int_equal(proc_open(&p, -5, &err), -1);
	assert_int_equal(err.kind, MT_ERR_NOPROC);

	assert_int_equal(proc_open(&p, 2, &err), -1);
	assert_int_equal(err.kind, MT_ERR_KTHREAD);
	assert_non_null(strstr(err.msg, "kernel thread"));
}

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static char task_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] ? paren[2] : '?';
}

/* A main thread that calls pthread_exit leaves a zombie leader whose own
 * maps are empty while the process runs on in its other threads: memtop
 * must keep watching it, whether it attached before or after. */
static void test_leader_exited(void **state)
{
	(void)state;
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;
		char c;
		pthread_create(&th, NULL, sleep_forever, NULL);
		if (read(go[0], &c, 1) == 1)
			pthread_exit(NULL);
		_exit(1);
	}
	struct mt_proc *before, *after;
	struct mt_snapshot s;
	struct mt_error err;
	snapshot_init(&s);
	assert_int_equal(proc_open(&before, pid, &err), 0);
	assert_int_equal(write(go[1], "x", 1), 1);
	for (int tries = 0; tries < 400 && task_state(pid) != 'Z'; tries++)
		usleep(5000);
	assert_int_equal(task_state(pid), 'Z');

	assert_int_equal(proc_read(before, &s, PROC_READ_RSS_ALWAYS, &err), 0);
	assert_true(s.n_regions > 5);
	assert_true(s.have_rss);
	assert_int_equal(proc_open(&after, pid, &err), 0);
	assert_int_equal(proc_read(after, &s, 0, &err), 0);
	assert_true(s.n_regions > 5);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(proc_read(after, &s, 0, &err), -1);
	assert_int_equal(err.kind, MT_ERR_EXITED);
	proc_close(before);
	proc_close(after);
	snapshot_free(&s);
	close(go[0]);
	close(go[1]);
}

static void test_exited(void **state)
{
	struct mt_proc *p;
	struct mt_error err;
	struct mt_snapshot s;
	snapshot_init(&s);

	for (int reap = 0; reap < 2; reap++) {
		pid_t pid = spawn_sleeper();
		assert_int_equal(proc_open(&p, pid, &err), 0);
		assert_int_equal(proc_read(p, &s, 0, &err), 0);
		assert_true(s.n_regions > 0);
		kill(pid, SIGKILL);
		if (reap) {
			waitpid(pid, NULL, 0);
		} else {
			/* A zombie: wait for it without reaping it. */
			siginfo_t si;
			waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
		}
		assert_int_equal(proc_read(p, &s, 0, &err), -1);
		assert_int_equal(err.kind, MT_ERR_EXITED);
		assert_non_null(strstr(err.msg, "exited"));
		proc_close(p);
		if (!reap)
			waitpid(pid, NULL, 0);
	}
	snapshot_free(&s);
}

/* In a child running as nobody: proc_open(target) must fail with
 * MT_ERR_PERM and a message holding `why`.  Exit status 0 if so. */
static void expect_denied_as_nobody(pid_t target, const char *why)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mt_proc *p;
		struct mt_error err;
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (proc_open(&p, target, &err) == 0)
			_exit(11);
		if (err.kind != MT_ERR_PERM)
			_exit(12);
		if (!strstr(err.msg, why) || !strstr(err.msg, "sudo"))
			_exit(13);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Permission denied: the message must name the cause. */
static void test_perm(void **state)
{
	if (geteuid() != 0)
		skip();
	/* Another user: nobody may not read root's (our) maps. */
	expect_denied_as_nobody(getpid(), "another user (uid 0");

	/* Same user, but the target made itself non-dumpable. */
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t target = fork();
	assert_true(target >= 0);
	if (target == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
		    prctl(PR_SET_DUMPABLE, 0) != 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(fds[0], &c, 1), 1);
	expect_denied_as_nobody(target, "not dumpable");
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	close(fds[0]);
	close(fds[1]);
}

static void test_slurp(void **state)
{
	char *buf = NULL;
	size_t cap = 0;
	long n = proc_slurp("/proc/self/maps", &buf, &cap);
	assert_true(n > 0);
	assert_int_equal(strlen(buf), (size_t)n);
	assert_true(cap > (size_t)n);
	assert_int_equal(proc_slurp("/proc/self/no-such-file", &buf, &cap), -ENOENT);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anon_perms),
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_pseudo_deleted),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_rss),
		cmocka_unit_test(test_many_regions),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_noproc_kthread),
		cmocka_unit_test(test_leader_exited),
		cmocka_unit_test(test_exited),
		cmocka_unit_test(test_perm),
		cmocka_unit_test(test_slurp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
