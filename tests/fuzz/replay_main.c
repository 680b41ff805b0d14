/*
 * replay_main.c - a main() for every fuzz target, so the ctest run (under
 * ASan+UBSan with scripts/test.sh --sanitize) fuzzes too, without clang.
 *
 *   fuzz_NAME_replay DIR [MUTATIONS]
 *
 * Runs each file of DIR through LLVMFuzzerTestOneInput, then MUTATIONS
 * (default 20,000) inputs made from them by a seeded PRNG: byte flips,
 * insertions of bytes that matter to text parsers, deletions, and
 * splices of two seeds.  Deterministic, so a failure reproduces; when a
 * sanitizer or a signal kills the run, the input is written to
 * ./crash-replay, to feed to the libFuzzer binary or a debugger.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (1u << 20)

struct input {
	uint8_t *data;
	size_t len;
};

/* Present when built with a sanitizer: runs before it ends the process. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

/* The input being run, for dump_current() (async-signal-safe). */
static const uint8_t *current;
static size_t current_len;

static void dump_current(void)
{
	int fd = open("crash-replay", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ssize_t w = write(fd, current, current_len);
		(void)w;
		close(fd);
	}
	static const char msg[] = "\nreplay: failing input written to ./crash-replay\n";
	ssize_t w = write(2, msg, sizeof(msg) - 1);
	(void)w;
}

static void on_signal(int sig)
{
	dump_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_crashes(void)
{
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(dump_current);
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(next() % n) : 0;
}

static const uint8_t interesting[] = {
	'\n', ' ', '-', ':', '\\', '0', '1', '2', 'f', 'p', 's', '[', ']', '/', '(', ')',
	'A', 'R', 'k', 'B', '\0', '\r', 0xff, 0x80,
};

/* One random edit of buf (len bytes, room for INPUT_MAX). */
static size_t mutate(uint8_t *buf, size_t len, const struct input *seeds, size_t n_seeds)
{
	size_t at = below(len + 1);
	switch (below(6)) {
	case 0: /* flip a bit */
		if (len)
			buf[below(len)] ^= (uint8_t)(1u << below(8));
		break;
	case 1: /* insert an interesting byte */
		if (len < INPUT_MAX) {
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = interesting[below(sizeof(interesting))];
			len++;
		}
		break;
	case 2: /* overwrite with an interesting byte */
		if (len)
			buf[below(len)] = interesting[below(sizeof(interesting))];
		break;
	case 3: { /* delete a run */
		size_t n = below(len - at < 16 ? len - at + 1 : 17);
		memmove(buf + at, buf + at + n, len - at - n);
		len -= n;
		break;
	}
	case 4: { /* duplicate a run */
		size_t n = below(len - at < 64 ? len - at + 1 : 65);
		if (len + n <= INPUT_MAX) {
			/* [at, at + n) keeps its bytes: now they are twice. */
			memmove(buf + at + n, buf + at, len - at);
			len += n;
		}
		break;
	}
	default: { /* splice: our head, another seed's tail */
		const struct input *o = &seeds[below(n_seeds)];
		size_t from = below(o->len + 1);
		size_t n = o->len - from;
		if (at + n > INPUT_MAX)
			n = INPUT_MAX - at;
		memcpy(buf + at, o->data + from, n);
		len = at + n;
		break;
	}
	}
	return len;
}

static int load(const char *dir, struct input **out, size_t *n_out)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return -1;
	}
	struct input *v = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		uint8_t *buf = malloc(INPUT_MAX);
		struct input *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!buf || !nv) {
			fclose(f);
			closedir(d);
			return -1;
		}
		v = nv;
		v[n].data = buf;
		v[n].len = fread(buf, 1, INPUT_MAX, f);
		fclose(f);
		current = buf;
		current_len = v[n].len;
		LLVMFuzzerTestOneInput(v[n].data, v[n].len);
		n++;
	}
	closedir(d);
	*out = v;
	*n_out = n;
	return n ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct input *seeds;
	size_t n_seeds;
	catch_crashes();
	if (argc < 2 || load(argv[1], &seeds, &n_seeds) < 0) {
		fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS] (a non-empty directory)\n",
			argv[0]);
		return 2;
	}
	long rounds = argc > 2 ? atol(argv[2]) : 20000;
	uint8_t *buf = malloc(INPUT_MAX);
	if (!buf)
		return 1;
	for (long i = 0; i < rounds; i++) {
		const struct input *s = &seeds[below(n_seeds)];
		size_t len = s->len;
		memcpy(buf, s->data, len);
		for (size_t k = 1 + below(8); k > 0; k--)
			len = mutate(buf, len, seeds, n_seeds);
		current = buf;
		current_len = len;
		LLVMFuzzerTestOneInput(buf, len);
	}
	fprintf(stderr, "\r%zu seeds, %ld mutations: ok\n", n_seeds, rounds);
	for (size_t i = 0; i < n_seeds; i++)
		free(seeds[i].data);
	free(seeds);
	free(buf);
	return 0;
}
