/*
 * pages.c - a target's memory, each page taken from where it already is
 * (pages.h), so that reading never faults a page into the target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "memtop/maps.h"
#include "memtop/pagemap.h"
#include "memtop/pages.h"
#include "memtop/proc.h"
#include "memtop/threads.h"

#define PAGE 4096ull

static int read_own_maps(struct pages *p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->tid);
	char *buf = NULL;
	size_t cap = 0;
	long n = proc_slurp(path, &buf, &cap);
	if (n < 0) {
		free(buf);
		return n == -ENOENT ? -ESRCH : (int)n;
	}
	p->own = malloc(sizeof(*p->own));
	if (!p->own) {
		free(buf);
		return -ENOMEM;
	}
	snapshot_init(p->own);
	p->own->pid = p->pid;
	size_t bad = 0;
	int rc = maps_parse(p->own, buf, (size_t)n, &bad);
	free(buf);
	p->s = p->own;
	return rc < 0 ? rc : 0;
}

int pages_open(struct pages *p, pid_t pid, const struct mt_snapshot *s)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->pagemap_fd = p->mem_fd = p->file_fd = -1;
	p->file_region = -1;
	p->no_scan_ioctl = getenv(PAGES_NO_SCAN_ENV) != NULL;
	p->tid = threads_live(pid);
	if (!p->tid)
		return -ESRCH;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)p->tid);
	p->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->pagemap_fd < 0) {
		int e = errno == ENOENT ? ESRCH : errno;
		pages_close(p);
		return -e;
	}
	p->s = s;
	if (!s) {
		int rc = read_own_maps(p);
		if (rc < 0) {
			pages_close(p);
			return rc;
		}
	}
	return 0;
}

void pages_close(struct pages *p)
{
	if (p->pagemap_fd >= 0)
		close(p->pagemap_fd);
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	if (p->file_fd >= 0)
		close(p->file_fd);
	if (p->own) {
		snapshot_free(p->own);
		free(p->own);
	}
	p->own = NULL;
	p->s = NULL;
	p->pagemap_fd = p->mem_fd = p->file_fd = -1;
	p->file_region = -1;
}

/* ---- which pages are there ---------------------------------------------- */

/* The shared zero page is left out: it reads as zeros, like a page that
 * is not there, and there is no need to read it. */
static long scan_ioctl(struct pages *p, uint64_t start, uint64_t end, struct pages_run *v,
		       size_t n, uint64_t *walk_end)
{
	struct pagemap_run vec[64];
	size_t want = n < 64 ? n : 64;
	uint64_t we = 0;
	long k = pagemap_scan(p->pagemap_fd, start, end, PAGEMAP_IS_PRESENT | PAGEMAP_IS_SWAPPED,
			      PAGEMAP_IS_PFNZERO, PAGEMAP_IS_PRESENT | PAGEMAP_IS_SWAPPED, vec, want,
			      &we);
	if (k == -ENOTTY || k == -EINVAL || k == -EOPNOTSUPP) {
		p->no_scan_ioctl = true;
		return -ENOTTY;
	}
	if (k < 0)
		return k == -ENOENT ? -ESRCH : k;
	if (we <= start || we > end || (size_t)k > want) {
		p->no_scan_ioctl = true; /* a kernel we do not understand: the entries */
		return -ENOTTY;
	}
	for (long i = 0; i < k; i++) {
		v[i].start = vec[i].start;
		v[i].end = vec[i].end;
		v[i].state = vec[i].categories & PAGEMAP_IS_PRESENT ? PAGES_PRESENT
								     : PAGES_SWAPPED;
	}
	*walk_end = we;
	return k;
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)

/* The same from /proc/TID/pagemap's 8-byte entries, 512 pages a read. */
static long scan_entries(struct pages *p, uint64_t start, uint64_t end, struct pages_run *v,
			 size_t n, uint64_t *walk_end)
{
	uint64_t e[512];
	size_t k = 0;
	uint64_t at = start;
	while (at < end) {
		uint64_t pages = (end - at) / PAGE;
		if (pages > 512)
			pages = 512;
		ssize_t got = pread(p->pagemap_fd, e, pages * 8, (off_t)(at / PAGE * 8));
		if (got < 0)
			return errno == ENOENT ? -ESRCH : -errno;
		if (got < 8)
			break;
		for (size_t i = 0; i < (size_t)got / 8; i++, at += PAGE) {
			enum pages_state st = e[i] & PM_PRESENT ? PAGES_PRESENT
				: e[i] & PM_SWAPPED ? PAGES_SWAPPED : 0;
			if (!st)
				continue;
			if (k && v[k - 1].end == at && v[k - 1].state == st) {
				v[k - 1].end = at + PAGE;
				continue;
			}
			if (k == n) {
				*walk_end = at;
				return (long)k;
			}
			v[k++] = (struct pages_run){ at, at + PAGE, st };
		}
	}
	*walk_end = end;
	return (long)k;
}

bool pages_can_scan(struct pages *p)
{
	struct pages_run v[1];
	uint64_t walk_end;
	if (!p->no_scan_ioctl)
		scan_ioctl(p, 0, PAGE, v, 1, &walk_end); /* learns whether it exists */
	return !p->no_scan_ioctl;
}

long pages_runs(struct pages *p, uint64_t start, uint64_t end, struct pages_run *v, size_t n,
		uint64_t *walk_end)
{
	start &= ~(PAGE - 1);
	end = (end + PAGE - 1) & ~(PAGE - 1);
	if (!n || start >= end) {
		*walk_end = end;
		return 0;
	}
	if (!p->no_scan_ioctl) {
		long k = scan_ioctl(p, start, end, v, n, walk_end);
		if (k != -ENOTTY)
			return k;
	}
	return scan_entries(p, start, end, v, n, walk_end);
}

/* ---- reading ------------------------------------------------------------ */

static long read_mem_fd(struct pages *p, uint64_t addr, void *buf, size_t len)
{
	if (p->mem_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->tid);
		p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->mem_fd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(p->mem_fd, (char *)buf + got, len - got, (off_t)(addr + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (got)
				break;
			return errno == EIO ? -EFAULT : -errno;
		}
		if (n == 0) /* the address space is gone */
			return got ? (long)got : -ESRCH;
		got += (size_t)n;
	}
	return (long)got;
}

long pages_readv(struct pages *p, const struct iovec *local, const struct iovec *remote,
		 size_t n)
{
	if (!p->use_mem) {
		ssize_t got = process_vm_readv(p->tid, local, n, remote, n, 0);
		if (got > 0)
			return got;
		if (got == 0)
			return -EFAULT;
		if (errno != EPERM && errno != ENOSYS)
			return -errno;
		p->use_mem = true;
	}
	long total = 0;
	for (size_t i = 0; i < n; i++) {
		long got = read_mem_fd(p, (uint64_t)(uintptr_t)remote[i].iov_base,
				       local[i].iov_base, remote[i].iov_len);
		if (got <= 0)
			return total ? total : got;
		total += got;
		if ((size_t)got < remote[i].iov_len)
			break;
	}
	return total;
}

long pages_read_present(struct pages *p, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	return pages_readv(p, &local, &remote, 1);
}

/* A file of a file system, not a device (nor /dev/zero). */
static bool names_file(const struct mt_region *r)
{
	return r->inode != 0 && r->path[0] == '/' && strncmp(r->path, "/dev/", 5) != 0;
}

bool pages_file_backed(const struct mt_region *r)
{
	return !(r->perms & MT_PERM_SHARED) && names_file(r);
}

int pages_file_open(const struct pages *p, const struct mt_region *r)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)p->tid,
		 (unsigned long long)r->start, (unsigned long long)r->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && !r->deleted)
		fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != r->inode ||
	    major(st.st_dev) != r->dev_major || minor(st.st_dev) != r->dev_minor) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* The file of region ri, kept open for the next read of it. */
static int open_file(struct pages *p, long ri)
{
	if (p->file_region == ri && p->file_fd >= 0)
		return p->file_fd;
	if (p->file_fd >= 0)
		close(p->file_fd);
	p->file_region = ri;
	p->file_fd = pages_file_open(p, &p->s->regions[ri]);
	return p->file_fd;
}

long pages_read_file(struct pages *p, const struct mt_region *r, uint64_t addr, void *buf,
		     size_t len)
{
	if (!p->s || addr < r->start || addr >= r->end || len > r->end - addr)
		return -EFAULT;
	int fd = open_file(p, (long)(r - p->s->regions));
	if (fd < 0)
		return fd;
	uint64_t off = r->offset + (addr - r->start);
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return got ? (long)got : -errno;
		if (n == 0) { /* past the end of the file: the mapping reads zeros */
			memset((char *)buf + got, 0, len - got);
			break;
		}
		got += (size_t)n;
	}
	return (long)len;
}

/* Shared memory (memfd, /dev/shm, SysV, shared anonymous) lives in
 * tmpfs: a read of its file would swap its pages back in. */
static bool on_tmpfs(struct pages *p, const struct mt_region *r)
{
	struct statfs sf;
	int fd = open_file(p, (long)(r - p->s->regions));
	return fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type == TMPFS_MAGIC ||
	       sf.f_type == HUGETLBFS_MAGIC;
}

/* Read [addr, end) of region r, absent throughout. */
static long read_absent(struct pages *p, const struct mt_region *r, uint64_t addr, char *buf,
			size_t len)
{
	if (r->perms & MT_PERM_SHARED)
		return p->shared_files && names_file(r) && !on_tmpfs(p, r)
			? pages_read_file(p, r, addr, buf, len) : -ENODATA;
	if (pages_file_backed(r))
		return pages_read_file(p, r, addr, buf, len);
	if (r->inode == 0 || strcmp(r->path, "/dev/zero") == 0) {
		memset(buf, 0, len);
		return (long)len;
	}
	return -EFAULT;
}

/* Read [from, to) (state: 0 absent, or a run's) into buf at from - addr;
 * true when all of it was read. */
static bool read_part(struct pages *p, const struct mt_region *r, uint64_t addr, char *buf,
		      uint64_t from, uint64_t to, int state, uint64_t *at, long *err)
{
	if (from >= to)
		return true;
	long n;
	if (state == 0)
		n = read_absent(p, r, from, buf + (from - addr), to - from);
	else if (state == PAGES_SWAPPED && !p->read_swapped)
		n = -ENODATA;
	else
		n = pages_read_present(p, from, buf + (from - addr), to - from);
	if (n > 0)
		*at = from + (uint64_t)n;
	else
		*err = n;
	return n > 0 && (uint64_t)n == to - from;
}

/* One region's part of a read: [addr, addr + len) lies inside r. */
static long read_in_region(struct pages *p, const struct mt_region *r, uint64_t addr, char *buf,
			   size_t len)
{
	const uint64_t end = addr + len;
	uint64_t at = addr;
	long err = 0;
	while (at < end) {
		struct pages_run v[16];
		uint64_t walk_end;
		long k = pages_runs(p, at, end, v, 16, &walk_end);
		if (k < 0) {
			err = k;
			break;
		}
		bool ok = true;
		for (long i = 0; i < k && ok; i++) {
			uint64_t from = v[i].start > at ? v[i].start : at;
			uint64_t to = v[i].end < end ? v[i].end : end;
			ok = read_part(p, r, addr, buf, at, from, 0, &at, &err) &&
			     read_part(p, r, addr, buf, from, to, v[i].state, &at, &err);
		}
		uint64_t stop = walk_end < end ? walk_end : end;
		if (!ok || !read_part(p, r, addr, buf, at, stop, 0, &at, &err))
			break;
	}
	return at > addr ? (long)(at - addr) : (err ? err : -EFAULT);
}

long pages_read(struct pages *p, uint64_t addr, void *buf, size_t len)
{
	if (!p->s)
		return -EFAULT;
	size_t done = 0;
	long last = -EFAULT;
	while (done < len) {
		uint64_t at = addr + done;
		long ri = snapshot_find(p->s, at);
		if (ri < 0)
			break;
		const struct mt_region *r = &p->s->regions[ri];
		if (!(r->perms & MT_PERM_R))
			break;
		size_t want = len - done;
		if (want > r->end - at)
			want = (size_t)(r->end - at);
		long n = read_in_region(p, r, at, (char *)buf + done, want);
		if (n == -ESRCH)
			return n;
		if (n <= 0) {
			last = n;
			break;
		}
		done += (size_t)n;
		if ((size_t)n < want)
			break;
	}
	return done ? (long)done : last;
}

long pages_read_cb(void *arg, uint64_t addr, void *buf, size_t len)
{
	return pages_read(arg, addr, buf, len);
}
