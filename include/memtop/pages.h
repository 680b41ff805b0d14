/*
 * pages.h - read a target's memory without faulting a page into it.
 *
 * Reading a page that is not in the target's page tables makes the
 * kernel fault it in for the reader: a shared anonymous or memfd page is
 * allocated, a file page joins the target's RSS.  memtop promises to
 * cost the target nothing, so every read of the target's memory goes
 * through here and takes each page from where it already is:
 *
 *   present in the page tables        read it (process_vm_readv)
 *   swapped out                       skipped, unless read_swapped
 *   absent, private anonymous         zeros: it was never written
 *   absent, private file mapping      the file's bytes, read from the
 *                                     file (/proc/TID/map_files/, or the
 *                                     path when dev and inode match):
 *                                     a page never written holds them
 *   absent, shared (shm, memfd, file) not read: its bytes live in an
 *                                     object we would have to fault in
 *                                     (with shared_files, a regular
 *                                     file's bytes are read from it)
 *
 * Which pages are present comes from the PAGEMAP_SCAN ioctl (Linux 6.7+,
 * one call walks the page tables of a whole range) or, on older kernels,
 * from the 8-byte entries of /proc/TID/pagemap.  Every access goes
 * through a live thread's id: a leader that called pthread_exit() is a
 * zombie without an address space while its threads run on.
 *
 * A struct pages is used by one thread at a time; scan workers each open
 * their own.
 */
#ifndef MEMTOP_PAGES_H
#define MEMTOP_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "memtop/snapshot.h"

/* Testing hook: when set (to anything), PAGEMAP_SCAN is not used and
 * /proc/TID/pagemap entries are read instead, as on kernels before 6.7. */
#define PAGES_NO_SCAN_ENV "MEMTOP_TEST_NO_PAGEMAP_SCAN"

enum pages_state {
	PAGES_PRESENT = 1,
	PAGES_SWAPPED = 2,
};

/* A run of pages in one state; what lies between runs is absent. */
struct pages_run {
	uint64_t start, end;
	enum pages_state state;
};

struct pages {
	pid_t pid;
	pid_t tid;              /* a live thread: reads and pagemap go through it */
	const struct mt_snapshot *s; /* the regions; NULL: own copy in own */
	struct mt_snapshot *own;
	bool read_swapped;      /* fault swapped pages back in (the user asked) */
	/* Absent pages of a shared mapping of a regular file (not tmpfs):
	 * read the file, which holds the same bytes.  For a few bytes (a
	 * hexdump), not for a scan: the file may be gigabytes on disk. */
	bool shared_files;
	bool no_scan_ioctl;     /* PAGEMAP_SCAN missing: read pagemap entries */
	int pagemap_fd;
	int mem_fd;             /* /proc/TID/mem, when process_vm_readv is refused */
	bool use_mem;
	long file_region;       /* region whose file is open in file_fd */
	int file_fd;
};

/*
 * Open a reader of pid's memory.  s gives the regions (kept by pointer:
 * keep it while reading); NULL: /proc/TID/maps is read now.  Returns 0,
 * -ESRCH when no thread of pid is alive, or another -errno.
 */
int pages_open(struct pages *p, pid_t pid, const struct mt_snapshot *s);
void pages_close(struct pages *p);

/*
 * The runs of present or swapped pages in [start, end), at most n, from
 * start on; *walk_end is where the look stopped (end, or earlier when v
 * filled up: call again from there).  Returns the count or -errno.
 */
long pages_runs(struct pages *p, uint64_t start, uint64_t end, struct pages_run *v, size_t n,
		uint64_t *walk_end);

/* Does the kernel answer PAGEMAP_SCAN (Linux 6.7+)?  Without it, each
 * pages_runs() reads 8 bytes of /proc/TID/pagemap per page of its range:
 * walk regions, not the holes between them. */
bool pages_can_scan(struct pages *p);

/* Read [addr, addr + len) from the target's page tables: only for pages
 * pages_runs() said are present.  Bytes read, -EFAULT, -ESRCH. */
long pages_read_present(struct pages *p, uint64_t addr, void *buf, size_t len);

/* pages_read_present() of n ranges at once (remote[i] into local[i], the
 * same lengths): one system call.  The bytes read, counting from the
 * first range on (short at the first that could not be read whole). */
long pages_readv(struct pages *p, const struct iovec *local, const struct iovec *remote,
		 size_t n);

/* Read [addr, addr + len) of the private file mapping r from its file
 * (zeros past the file's end).  Bytes read or -errno. */
long pages_read_file(struct pages *p, const struct mt_region *r, uint64_t addr, void *buf,
		     size_t len);

/* A new descriptor of r's file: /proc/TID/map_files/START-END, else its
 * path when that is the same file (dev and inode); -ESTALE when the path
 * names another file, or -errno. */
int pages_file_open(const struct pages *p, const struct mt_region *r);

/* Is r's content, where absent, the bytes of a file that can be read? */
bool pages_file_backed(const struct mt_region *r);

/*
 * Read [addr, addr + len) as the target sees it, page by page from where
 * each page is (the table above), never faulting one in.  Returns the
 * bytes read from addr on (short at the first page that cannot be read
 * that way); when none: -ENODATA (the first page is shared and not
 * mapped in, or swapped out), -EFAULT (not mapped or not readable),
 * -ESRCH (the process is gone).
 */
long pages_read(struct pages *p, uint64_t addr, void *buf, size_t len);

/* pages_read() as a heapwalk_read_fn; arg is a struct pages. */
long pages_read_cb(void *arg, uint64_t addr, void *buf, size_t len);

#endif
