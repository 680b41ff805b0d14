/*
 * maps.c - parser for /proc/PID/maps and /proc/PID/smaps.
 *
 * A line of maps is printed by the kernel's show_map_vma():
 *
 *   START-END PERM OFFSET MAJ:MIN INODE<padding>NAME
 *
 * with the numbers in hex (inode in decimal), the padding made of spaces
 * and NAME possibly empty.  Everything up to INODE is the kernel's own
 * text and is parsed strictly; NAME belongs to whoever named the file and
 * is taken as bytes, whatever they are.
 *
 * The parser is on the refresh path of a process with up to 65,530
 * mappings, so it is hand-written: one pass over the fixed columns, then
 * one memchr() over the name for the end of the line; no stdio, no
 * per-field library calls.  It costs about a seventh of what the kernel
 * spends producing the text (docs/performance.md).
 *
 * smaps is maps with attribute lines ("Rss:   12 kB") under each header
 * line; the parser tells them apart by the first byte (a capital letter
 * against a hex digit), so it can take regions and figures in one pass.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memtop/maps.h"

#define DELETED_SUFFIX " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)

/* The columns of a header line, before the region is added. */
struct header {
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	uint8_t perms;
	const char *name; /* raw bytes as printed, not NUL-terminated */
	size_t name_len;
};

/* A growable buffer for names that need unescaping; most never do. */
struct scratch {
	char *buf;
	size_t cap;
};

/* Digit value + 1 of each hex digit, 0 for any other byte: a table, as
 * the mix of digits and letters in addresses defeats branch prediction. */
static const uint8_t hex1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

#define BYTES(b) (0x0101010101010101ull * (b))

/*
 * Eight lowercase hex digits at p at once (SWAR): the kernel prints
 * addresses and offsets with at least eight, and a byte at a time this
 * was the parser's largest cost.  False if any byte is not such a digit.
 */
static inline bool hex8(const char *p, uint64_t *out)
{
	const uint64_t hi = BYTES(0x80);
	uint64_t x;

	memcpy(&x, p, 8);
	if (x & hi)
		return false;
	/* Per byte, with no carry between bytes (all are below 0x80 now). */
	uint64_t digit = ((x | hi) - BYTES('0')) & ~(x + BYTES(0x7f - '9')) & hi;
	uint64_t letter = ((x | hi) - BYTES('a')) & ~(x + BYTES(0x7f - 'f')) & hi;
	if ((digit | letter) != hi)
		return false;
	/* Nibble values ('a' is 0x61: its bit 6 says letter, add 9), then
	 * pack: the first byte loaded is the most significant digit. */
	uint64_t v = (x & BYTES(0x0f)) + (letter >> 7) * 9;
	v = ((v & 0x00ff00ff00ff00ffull) << 4) | ((v >> 8) & 0x00ff00ff00ff00ffull);
	v = ((v & 0x0000ffff0000ffffull) << 8) | ((v >> 16) & 0x0000ffff0000ffffull);
	*out = ((v & 0xffffffffull) << 16) | (v >> 32);
	return true;
}

/* Hex number at *pp: 1 to 16 digits (the kernel prints no more). */
static bool parse_hex(const char **pp, const char *eol, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	unsigned d;

	if (eol - p >= 8 && hex8(p, &v))
		p += 8;
	const char *stop = eol - *pp > 16 ? *pp + 16 : eol;
	while (p < stop && (d = hex1[(unsigned char)*p]) != 0) {
		v = v << 4 | (d - 1);
		p++;
	}
	if (p == *pp || (p < eol && hex1[(unsigned char)*p]))
		return false;
	*pp = p;
	*out = v;
	return true;
}

/* Decimal number at *pp, at least one digit, no overflow. */
static bool parse_dec(const char **pp, const char *eol, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p == eol || (unsigned)(*p - '0') > 9u)
		return false;
	do {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		p++;
	} while (p < eol && (unsigned)(*p - '0') <= 9u);
	*pp = p;
	*out = v;
	return true;
}

static inline bool expect(const char **pp, const char *eol, char c)
{
	if (*pp == eol || **pp != c)
		return false;
	(*pp)++;
	return true;
}

static bool parse_perms(const char **pp, const char *eol, uint8_t *perms)
{
	const char *p = *pp;

	if (eol - p < 4)
		return false;
	uint8_t v = 0;
	if (p[0] == 'r')
		v |= MT_PERM_R;
	else if (p[0] != '-')
		return false;
	if (p[1] == 'w')
		v |= MT_PERM_W;
	else if (p[1] != '-')
		return false;
	if (p[2] == 'x')
		v |= MT_PERM_X;
	else if (p[2] != '-')
		return false;
	if (p[3] == 's')
		v |= MT_PERM_SHARED;
	else if (p[3] != 'p')
		return false;
	*perms = v;
	*pp = p + 4;
	return true;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

/*
 * The fixed columns of the line at p (the text ends at `end`), then the
 * name: whatever follows the padding after the inode, up to the newline.
 * A name cannot be told from padding when it starts with a space; the
 * kernel's names never do (paths start with '/', pseudo names with '['
 * or a letter).  The columns stop at the first byte out of place, so only
 * the name is searched for the end of the line.
 */
static bool parse_header(const char *p, const char *end, struct header *h)
{
	uint64_t major, minor;

	if (!parse_hex(&p, end, &h->start) || !expect(&p, end, '-') ||
	    !parse_hex(&p, end, &h->end) || !expect(&p, end, ' ') ||
	    !parse_perms(&p, end, &h->perms) || !expect(&p, end, ' ') ||
	    !parse_hex(&p, end, &h->offset) || !expect(&p, end, ' ') ||
	    !parse_hex(&p, end, &major) || !expect(&p, end, ':') ||
	    !parse_hex(&p, end, &minor) || !expect(&p, end, ' ') ||
	    !parse_dec(&p, end, &h->inode))
		return false;
	if (major > UINT32_MAX || minor > UINT32_MAX || h->start >= h->end)
		return false;
	if (p < end && *p != ' ' && *p != '\n')
		return false;
	while (p < end && *p == ' ')
		p++;
	const char *eol = line_end(p, end);
	h->dev_major = (uint32_t)major;
	h->dev_minor = (uint32_t)minor;
	h->name = p;
	h->name_len = (size_t)(eol - p);
	/* A path never holds NUL; one here is corruption, not a name. */
	return h->name_len == 0 || !memchr(p, '\0', h->name_len);
}

/*
 * Undo the kernel's escaping of a name.  seq_file_path() escapes only a
 * newline, as "\012", and leaves backslashes alone, so a file really
 * named "a\012b" (backslash, 0, 1, 2) prints the same as one named "a",
 * newline, "b".  The ambiguity cannot be resolved from the text; the
 * newline reading is taken because it is what the kernel meant whenever
 * it wrote the escape.  Returns the name, in place or in sc.
 */
static const char *unescape(const char *name, size_t *len, struct scratch *sc)
{
	if (!memchr(name, '\\', *len))
		return name;
	if (sc->cap < *len) {
		char *b = realloc(sc->buf, *len);
		if (!b)
			return NULL;
		sc->buf = b;
		sc->cap = *len;
	}
	size_t o = 0;
	for (size_t i = 0; i < *len; i++) {
		if (name[i] == '\\' && *len - i >= 4 && name[i + 1] == '0' &&
		    name[i + 2] == '1' && name[i + 3] == '2') {
			sc->buf[o++] = '\n';
			i += 3;
		} else {
			sc->buf[o++] = name[i];
		}
	}
	*len = o;
	return sc->buf;
}

/* 1 added, 0 rejected (overlap, going backwards), -ENOMEM. */
static int add_region(struct mt_snapshot *s, const struct header *h, struct scratch *sc)
{
	if (s->n_regions && h->start < s->regions[s->n_regions - 1].end)
		return 0;

	const char *name = h->name;
	size_t len = h->name_len;
	bool suffix = false;
	if (len > DELETED_SUFFIX_LEN &&
	    !memcmp(name + len - DELETED_SUFFIX_LEN, DELETED_SUFFIX, DELETED_SUFFIX_LEN)) {
		len -= DELETED_SUFFIX_LEN;
		suffix = true;
	}
	name = unescape(name, &len, sc);
	if (!name)
		return -ENOMEM;
	if (len > UINT32_MAX)
		return 0;
	const char *path = snapshot_intern(s, name, len);
	if (!path)
		return -ENOMEM;

	struct mt_region *r = snapshot_add_region(s);
	if (!r)
		return -ENOMEM;
	r->start = h->start;
	r->end = h->end;
	r->offset = h->offset;
	r->inode = h->inode;
	r->dev_major = h->dev_major;
	r->dev_minor = h->dev_minor;
	r->perms = h->perms;
	r->deleted_suffix = suffix;
	r->path = path;
	r->path_len = (uint32_t)len;
	return 1;
}

static bool key_is(const char *p, const char *eol, const char *key, size_t klen)
{
	return (size_t)(eol - p) > klen && !memcmp(p, key, klen);
}
#define KEY(p, eol, lit) key_is(p, eol, lit, sizeof(lit) - 1)

/*
 * One "Key:   N kB" line of smaps into r.  Only the figures memtop shows
 * are read; the others (and VmFlags) cost one switch each.
 */
static void apply_smaps_line(struct mt_region *r, const char *p, const char *eol)
{
	uint64_t *field;
	size_t klen;

	switch (*p) {
	case 'R':
		if (!KEY(p, eol, "Rss:"))
			return;
		field = &r->rss, klen = 4;
		break;
	case 'P':
		if (KEY(p, eol, "Pss:"))
			field = &r->pss, klen = 4;
		else if (KEY(p, eol, "Private_Dirty:"))
			field = &r->private_dirty, klen = 14;
		else
			return;
		break;
	case 'S':
		if (KEY(p, eol, "Swap:"))
			field = &r->swap, klen = 5;
		else if (KEY(p, eol, "Shared_Dirty:"))
			field = &r->shared_dirty, klen = 13;
		else
			return;
		break;
	case 'A':
		if (!KEY(p, eol, "AnonHugePages:"))
			return;
		field = &r->anon_huge, klen = 14;
		break;
	case 'L':
		if (!KEY(p, eol, "Locked:"))
			return;
		field = &r->locked, klen = 7;
		break;
	default:
		return;
	}
	p += klen;
	while (p < eol && *p == ' ')
		p++;
	uint64_t kb;
	if (!parse_dec(&p, eol, &kb) || eol - p != 3 || memcmp(p, " kB", 3))
		return;
	*field = kb > UINT64_MAX / 1024 ? UINT64_MAX - 1 : kb * 1024;
}

/* Attribute lines of smaps start with a capital; header lines with hex. */
static inline bool is_smaps_attr(char c)
{
	return (unsigned)(c - 'A') < 26u;
}

/*
 * The one loop behind maps_parse and maps_parse_all: header lines become
 * regions; with `smaps`, attribute lines fill the region above them.
 */
static int parse(struct mt_snapshot *s, const char *text, size_t len, size_t *bad,
		 bool smaps)
{
	const char *p = text, *end = text + len;
	struct scratch sc = { 0 };
	struct mt_region *cur = NULL;
	size_t nbad = 0;
	int rc = 0;

	while (p < end) {
		const char *eol;
		struct header h;

		if (*p == '\n') {
			/* Blank line: nothing there, nothing lost. */
			eol = p;
		} else if (smaps && is_smaps_attr(*p)) {
			eol = line_end(p, end);
			if (cur)
				apply_smaps_line(cur, p, eol);
		} else if (parse_header(p, end, &h)) {
			eol = h.name + h.name_len;
			rc = add_region(s, &h, &sc);
			if (rc < 0)
				break;
			nbad += rc == 0;
			cur = rc ? &s->regions[s->n_regions - 1] : NULL;
			rc = 0;
		} else {
			eol = line_end(p, end);
			nbad++;
			cur = NULL;
		}
		p = eol + 1;
	}
	free(sc.buf);
	if (smaps && rc == 0)
		s->have_rss = true;
	if (bad)
		*bad += nbad;
	return rc;
}

int maps_parse(struct mt_snapshot *s, const char *text, size_t len, size_t *bad)
{
	return parse(s, text, len, bad, false);
}

int maps_parse_all(struct mt_snapshot *s, const char *text, size_t len, size_t *bad)
{
	return parse(s, text, len, bad, true);
}

size_t maps_parse_smaps(struct mt_snapshot *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct mt_region *cur = NULL;
	size_t next = 0, matched = 0;

	while (p < end) {
		const char *eol = line_end(p, end);
		uint64_t start;
		const char *q = p;

		if (is_smaps_attr(*p)) {
			if (cur)
				apply_smaps_line(cur, p, eol);
		} else if (parse_hex(&q, eol, &start) && q < eol && *q == '-') {
			/* Merge walk: both lists ascend, so never look back. */
			while (next < s->n_regions && s->regions[next].start < start)
				next++;
			cur = NULL;
			if (next < s->n_regions && s->regions[next].start == start) {
				cur = &s->regions[next++];
				matched++;
			}
		} else {
			cur = NULL;
		}
		p = eol + 1;
	}
	s->have_rss = true;
	return matched;
}
