/*
 * text.c - glyphs and untrusted text made safe and fitted to columns.
 */
#include <string.h>
#include <wchar.h>

#include "text.h"

static const struct tui_glyphs utf8_glyphs = {
	.utf8 = true,
	.spark = { "\u2581", "\u2582", "\u2583", "\u2584",
		   "\u2585", "\u2586", "\u2587", "\u2588" },
	.block = "\u2588",
	.gap = "\u00b7",
	.largest = "\u2550",
	.ellipsis = "\u2026",
	.times = "\u00d7",
	.marker = "\u25b2",
	.arrow_up = "\u25b2",
	.arrow_down = "\u25bc",
	.vline = "\u2502",
	.crumb = "\u203a",
};

static const struct tui_glyphs ascii_glyphs = {
	.utf8 = false,
	.spark = { "_", ".", ",", "-", "~", "=", "*", "#" },
	.block = "#",
	.gap = ".",
	.largest = "=",
	.ellipsis = "~",
	.times = "x",
	.marker = "^",
	.arrow_up = "^",
	.arrow_down = "v",
	.vline = "|",
	.crumb = ">",
};

const struct tui_glyphs *text_glyphs(bool utf8)
{
	return utf8 ? &utf8_glyphs : &ascii_glyphs;
}

/*
 * One displayable unit of s at *pos: its bytes (or "?" for what cannot be
 * shown), their count in *n, its columns as return.  Advances *pos.
 */
static int next_unit(const char *s, size_t len, size_t *pos, bool utf8,
		     const char **bytes, size_t *n)
{
	unsigned char c = (unsigned char)s[*pos];
	if (c >= 0x20 && c < 0x7f) {
		*bytes = s + *pos;
		*n = 1;
		(*pos)++;
		return 1;
	}
	if (utf8 && c >= 0x80) {
		mbstate_t st;
		wchar_t wc;
		memset(&st, 0, sizeof(st));
		size_t k = mbrtowc(&wc, s + *pos, len - *pos, &st);
		if (k != (size_t)-1 && k != (size_t)-2 && k > 0) {
			int w = wcwidth(wc);
			if (w > 0) {
				*bytes = s + *pos;
				*n = k;
				*pos += k;
				return w;
			}
			*pos += k; /* combining or unprintable: one '?' */
			*bytes = "?";
			*n = 1;
			return 1;
		}
	}
	(*pos)++;
	*bytes = "?";
	*n = 1;
	return 1;
}

int text_width(const char *s, size_t len, bool utf8)
{
	int w = 0;
	const char *b;
	size_t n;
	for (size_t pos = 0; pos < len;)
		w += next_unit(s, len, &pos, utf8, &b, &n);
	return w;
}

/* Append up to cols columns of s from byte start; returns columns used. */
static int append(char *out, size_t cap, size_t *o, const char *s, size_t len,
		  size_t start, int cols, bool utf8)
{
	int used = 0;
	const char *b;
	size_t n;
	for (size_t pos = start; pos < len;) {
		size_t save = pos;
		int w = next_unit(s, len, &pos, utf8, &b, &n);
		if (used + w > cols || *o + n >= cap) {
			pos = save;
			break;
		}
		memcpy(out + *o, b, n);
		*o += n;
		used += w;
	}
	out[*o] = '\0';
	return used;
}

int text_fit(char *out, size_t cap, const char *s, size_t len, int cols,
	     enum text_cut cut, bool utf8)
{
	const char *ell = text_glyphs(utf8)->ellipsis;
	size_t o = 0;
	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (cols <= 0)
		return 0;
	int total = text_width(s, len, utf8);
	if (total <= cols)
		return append(out, cap, &o, s, len, 0, cols, utf8);
	if (cut == TEXT_CLIP)
		return append(out, cap, &o, s, len, 0, cols, utf8);
	if (cut == TEXT_CUT_RIGHT) {
		int used = append(out, cap, &o, s, len, 0, cols - 1, utf8);
		if (o + strlen(ell) < cap) {
			strcpy(out + o, ell);
			used++;
		}
		return used;
	}
	/* Skip units from the head until the tail fits beside the ellipsis. */
	size_t pos = 0;
	int rest = total;
	const char *b;
	size_t n;
	while (pos < len && rest > cols - 1)
		rest -= next_unit(s, len, &pos, utf8, &b, &n);
	int used = 0;
	if (strlen(ell) < cap) {
		strcpy(out, ell);
		o = strlen(ell);
		used = 1;
	}
	return used + append(out, cap, &o, s, len, pos, cols - used, utf8);
}
