/*
 * regiondetail.c - one region's smaps entry and first bytes.
 *
 * smaps is read as a stream and parsed line by line: on a process with
 * tens of thousands of regions the file is megabytes, and we want one
 * entry of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "memtop/clock.h"
#include "memtop/pages.h"
#include "memtop/regiondetail.h"

struct linereader {
	int fd;
	char buf[65536];
	size_t pos;
	size_t len;
	bool eof;
};

/* The next line (without '\n', NUL-terminated in place), or NULL at the
 * end.  A line longer than the buffer is cut: smaps lines are short, and
 * a long path only matters to the header's first fields. */
static char *next_line(struct linereader *lr)
{
	for (;;) {
		char *start = lr->buf + lr->pos;
		char *nl = memchr(start, '\n', lr->len - lr->pos);
		if (nl) {
			*nl = '\0';
			lr->pos = (size_t)(nl - lr->buf) + 1;
			return start;
		}
		if (lr->eof) {
			if (lr->pos == lr->len)
				return NULL;
			lr->buf[lr->len < sizeof(lr->buf) ? lr->len : sizeof(lr->buf) - 1] = '\0';
			lr->pos = lr->len;
			return start;
		}
		size_t rest = lr->len - lr->pos;
		if (rest == sizeof(lr->buf) - 1) {
			/* Overlong line: keep its head, drop the tail. */
			lr->buf[rest] = '\0';
			lr->pos = lr->len = 0;
			char c;
			while (read(lr->fd, &c, 1) == 1 && c != '\n')
				;
			return lr->buf;
		}
		memmove(lr->buf, start, rest);
		lr->pos = 0;
		lr->len = rest;
		ssize_t got = read(lr->fd, lr->buf + rest, sizeof(lr->buf) - 1 - rest);
		if (got < 0)
			return NULL;
		if (got == 0)
			lr->eof = true;
		lr->len += (size_t)got;
	}
}

/* "7f00-7f10 r-xp ..." : an entry header; returns true and its range. */
static bool parse_header(const char *line, uint64_t *start, uint64_t *end)
{
	char *e;
	errno = 0;
	unsigned long long s = strtoull(line, &e, 16);
	if (e == line || *e != '-')
		return false;
	const char *p = e + 1;
	unsigned long long en = strtoull(p, &e, 16);
	if (e == p || *e != ' ' || errno)
		return false;
	*start = s;
	*end = en;
	return true;
}

static void parse_field(struct mt_region_detail *d, const char *line)
{
	const char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (nlen == 7 && memcmp(line, "VmFlags", 7) == 0) {
		snprintf(d->vmflags, sizeof(d->vmflags), "%s", v);
		return;
	}
	if (d->n_fields == MT_DETAIL_FIELDS)
		return;
	struct mt_smaps_field *f = &d->fields[d->n_fields];
	if (nlen >= sizeof(f->name))
		nlen = sizeof(f->name) - 1;
	memcpy(f->name, line, nlen);
	f->name[nlen] = '\0';
	char *e;
	f->value = strtoull(v, &e, 10);
	if (e == v)
		return; /* not a number: nothing we show */
	f->kb = strncmp(e, " kB", 3) == 0;
	if (f->kb)
		f->value *= 1024;
	d->n_fields++;
}

static int open_error(pid_t pid, int e, struct mt_error *err)
{
	if (e == ENOENT || e == ESRCH)
		return mt_error_set(err, MT_ERR_NOPROC, e, "process %d has exited", (int)pid);
	if (e == EACCES || e == EPERM)
		return mt_error_set(err, MT_ERR_PERM, e,
				    "cannot read /proc/%d/smaps: %s", (int)pid, strerror(e));
	return mt_error_set(err, MT_ERR_OTHER, e,
			    "cannot read /proc/%d/smaps: %s", (int)pid, strerror(e));
}

/* Find the entry starting at start; 0 found, 1 absent, -1 error. */
static int read_smaps(pid_t pid, uint64_t start, struct mt_region_detail *d,
		      struct mt_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	struct linereader *lr = malloc(sizeof(*lr));
	if (!lr)
		return mt_error_set(err, MT_ERR_OTHER, ENOMEM, "out of memory");
	lr->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (lr->fd < 0) {
		int e = errno;
		free(lr);
		return open_error(pid, e, err);
	}
	lr->pos = lr->len = 0;
	lr->eof = false;
	int found = 1;
	char *line;
	while ((line = next_line(lr))) {
		uint64_t s, e;
		if (parse_header(line, &s, &e)) {
			if (found == 0 || s > start)
				break; /* entries are in address order */
			if (s == start) {
				found = 0;
				d->start = s;
				d->end = e;
			}
		} else if (found == 0) {
			parse_field(d, line);
		}
	}
	close(lr->fd);
	free(lr);
	return found;
}

/* Through pages.h: a hexdump must not fault the page into the target. */
static void read_bytes(pid_t pid, struct mt_region_detail *d, uint64_t from)
{
	d->bytes_at = from > d->start && from < d->end ? from : d->start;
	uint64_t want = d->end - d->bytes_at;
	if (want > MT_DETAIL_BYTES)
		want = MT_DETAIL_BYTES;
	struct pages pg;
	int rc = pages_open(&pg, pid, NULL);
	pg.shared_files = true;
	long got = rc < 0 ? rc : pages_read(&pg, d->bytes_at, d->bytes, want);
	if (rc == 0)
		pages_close(&pg);
	if (got < 0) {
		d->bytes_errno = (int)-got;
		return;
	}
	d->n_bytes = (size_t)got;
	if ((uint64_t)got < want)
		d->bytes_errno = EFAULT;
}

int regiondetail_read(pid_t pid, uint64_t start, uint64_t from, struct mt_region_detail *d,
		      struct mt_error *err)
{
	memset(d, 0, sizeof(*d));
	d->read_at = clock_mono();
	int rc = read_smaps(pid, start, d, err);
	if (rc != 0)
		return rc;
	read_bytes(pid, d, from);
	d->read_cost = clock_mono() - d->read_at;
	return 0;
}

const struct mt_smaps_field *regiondetail_field(const struct mt_region_detail *d,
						const char *name)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return &d->fields[i];
	return NULL;
}
