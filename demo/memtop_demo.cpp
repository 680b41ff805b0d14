// memtop-demo: a small service with a mapped-file leak, for trying memtop.
//
// Each message goes through a Communicator, which owns an mmf::MMFSerializer
// that maps a 256 KiB window of messages.dat.  A bug keeps one
// communicator in two alive forever (in g_registry, "for later reuse"), so
// its window is never unmapped: the process gains one 256 KiB mapping of
// messages.dat after another until mmap fails with ENOMEM at
// vm.max_map_count.  Beside the leak, a healthy stream maps 512 KiB windows
// of journal.dat and releases them, so one file grows and the other does
// not.  See demo/README.md.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// The classes have external linkage (no anonymous namespace) so that their
// vtables and RTTI carry the plain names memtop --refs shows.
namespace mmf {

// The mapped-file serializer: a window of a message file, mapped for the
// life of the object.
class MMFSerializer {
public:
	MMFSerializer(int fd, size_t len) : len_(len)
	{
		// Every serializer maps the head of the shared message ring
		// (offset 0), so two windows never merge into one mapping.
		void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		base_ = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
	}
	virtual ~MMFSerializer()
	{
		if (base_)
			munmap(base_, len_);
	}
	MMFSerializer(const MMFSerializer &) = delete;
	MMFSerializer &operator=(const MMFSerializer &) = delete;

	bool ok() const { return base_ != nullptr; }
	void write(long seq)
	{
		snprintf(base_, 64, "message %ld", seq);
	}

private:
	char *base_;
	size_t len_;
};

} // namespace mmf

constexpr size_t kMessageWindow = 256 * 1024;
constexpr size_t kJournalWindow = 512 * 1024;
constexpr size_t kJournalSize = 8 * kJournalWindow;

// One conversation with a peer; owns its serializer.
class Communicator {
public:
	Communicator(int fd, long id)
		: id_(id), serializer_(new mmf::MMFSerializer(fd, kMessageWindow))
	{
	}
	virtual ~Communicator() { delete serializer_; }
	Communicator(const Communicator &) = delete;
	Communicator &operator=(const Communicator &) = delete;

	bool ok() const { return serializer_->ok(); }
	void send() { serializer_->write(id_); }

private:
	long id_;
	mmf::MMFSerializer *serializer_;
};

// THE BUG: communicators parked here are never deleted.  The registry is
// global, so the leaked windows stay reachable: g_registry -> Communicator
// -> MMFSerializer -> the mapping.
std::vector<Communicator *> g_registry;

namespace {

std::atomic<bool> g_stop{false};
std::atomic<long> g_leaked{0};
std::atomic<long> g_journal_maps{0};

struct Options {
	double rate = 5.0;     // windows per second, each stream
	bool threads = false;  // run the journal stream in worker threads
	long max = -1;         // stop leaking after this many windows
	bool quiet = false;
	std::string dir;
};

void on_signal(int) { g_stop.store(true); }

// Sleep for `secs` unless a signal asks us to stop.
void pause_for(double secs)
{
	struct timespec ts;
	ts.tv_sec = static_cast<time_t>(secs);
	ts.tv_nsec = static_cast<long>((secs - static_cast<double>(ts.tv_sec)) * 1e9);
	while (!g_stop.load() && nanosleep(&ts, &ts) == -1 && errno == EINTR) {
	}
}

int create_file(const std::string &path, size_t size)
{
	int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
		perror(path.c_str());
		exit(1);
	}
	return fd;
}

long read_long(const char *path, long fallback)
{
	FILE *f = fopen(path, "r");
	long v = fallback;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = fallback;
		fclose(f);
	}
	return v;
}

long count_maps()
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;
	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

// The healthy stream: map a journal window, write, unmap.
void journal_once(int fd, long seq)
{
	off_t off = static_cast<off_t>((seq % (kJournalSize / kJournalWindow)) * kJournalWindow);
	void *p = mmap(nullptr, kJournalWindow, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (p != MAP_FAILED) {
		snprintf(static_cast<char *>(p), 64, "journal %ld", seq);
		munmap(p, kJournalWindow);
		g_journal_maps.fetch_add(1);
	}
}

void journal_loop(int fd, double rate)
{
	for (long seq = 0; !g_stop.load(); seq++) {
		journal_once(fd, seq);
		pause_for(1.0 / rate);
	}
}

// Only there so that thread stacks show up in memtop.
void heartbeat_loop()
{
	while (!g_stop.load())
		pause_for(0.5);
}

void usage(FILE *out)
{
	fprintf(out,
		"usage: memtop-demo [--rate N] [--threads] [--max N] [--dir DIR] [--quiet]\n"
		"  --rate N   windows per second (default 5); one communicator in two leaks\n"
		"  --threads  run the journal stream in worker threads\n"
		"  --max N    stop leaking after N windows (default: a safe share of\n"
		"             vm.max_map_count)\n"
		"  --dir DIR  where to create the data files (default $TMPDIR/memtop-demo-PID)\n"
		"  --quiet    no progress lines\n");
}

Options parse(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		bool has_value = i + 1 < argc;
		char *end = nullptr;
		if (a == "--rate" && has_value) {
			o.rate = strtod(argv[++i], &end);
			if (*end || !(o.rate > 0 && o.rate <= 10000)) {
				fprintf(stderr, "memtop-demo: bad --rate\n");
				exit(2);
			}
		} else if (a == "--max" && has_value) {
			o.max = strtol(argv[++i], &end, 10);
			if (*end || o.max < 0) {
				fprintf(stderr, "memtop-demo: bad --max\n");
				exit(2);
			}
		} else if (a == "--dir" && has_value) {
			o.dir = argv[++i];
		} else if (a == "--threads") {
			o.threads = true;
		} else if (a == "--quiet") {
			o.quiet = true;
		} else if (a == "--help" || a == "-h") {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(2);
		}
	}
	return o;
}

} // namespace

int main(int argc, char **argv)
{
	Options opt = parse(argc, argv);
	// Before any file exists: a stop request always cleans up.
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);

	if (opt.dir.empty()) {
		const char *tmp = getenv("TMPDIR");
		opt.dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/memtop-demo-" +
			  std::to_string(getpid());
	}
	// Remove the directory at the end only if we made it.
	bool own_dir = mkdir(opt.dir.c_str(), 0700) == 0;
	if (!own_dir && errno != EEXIST) {
		perror(opt.dir.c_str());
		return 1;
	}
	std::string messages = opt.dir + "/messages.dat";
	std::string journal = opt.dir + "/journal.dat";
	int mfd = create_file(messages, kMessageWindow);
	int jfd = create_file(journal, kJournalSize);

	// Never reach vm.max_map_count: the point is to watch the leak
	// coming, not to crash.  Keep a tenth of the limit (at least 1000
	// maps) free.
	long max_maps = read_long("/proc/sys/vm/max_map_count", 65530);
	long safe = max_maps - std::max(max_maps / 10, 1000L) - count_maps();
	if (safe < 0)
		safe = 0;
	if (opt.max < 0 || opt.max > safe)
		opt.max = safe;

	printf("memtop-demo: pid %d\n", static_cast<int>(getpid()));
	printf("memtop-demo: leaking 256 KiB windows of %s (one communicator in two)\n",
	       messages.c_str());
	printf("memtop-demo: releasing 512 KiB windows of %s\n", journal.c_str());
	printf("memtop-demo: %.3g windows/s, leak stops after %ld windows\n", opt.rate,
	       opt.max);
	printf("memtop-demo: watch it with: memtop -p %d\n", static_cast<int>(getpid()));
	fflush(stdout);

	std::vector<std::thread> workers;
	if (opt.threads) {
		// Signals go to the main thread, which wakes up to stop.
		sigset_t set, old;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, &old);
		workers.emplace_back(journal_loop, jfd, opt.rate);
		workers.emplace_back(heartbeat_loop);
		pthread_setname_np(workers[0].native_handle(), "journal");
		pthread_setname_np(workers[1].native_handle(), "heartbeat");
		pthread_sigmask(SIG_SETMASK, &old, nullptr);
	}

	long seq = 0;
	time_t last_report = time(nullptr);
	while (!g_stop.load()) {
		auto *c = new Communicator(mfd, seq);
		if (c->ok())
			c->send();
		if (c->ok() && seq % 2 == 0 && g_leaked.load() < opt.max) {
			g_registry.push_back(c); // "kept for reuse", never deleted
			g_leaked.fetch_add(1);
		} else {
			delete c;
		}
		if (!opt.threads)
			journal_once(jfd, seq);
		seq++;

		if (!opt.quiet && time(nullptr) != last_report) {
			last_report = time(nullptr);
			printf("memtop-demo: %ld windows of messages.dat leaked, "
			       "%ld journal windows mapped and released\n",
			       g_leaked.load(), g_journal_maps.load());
			fflush(stdout);
		}
		pause_for(1.0 / opt.rate);
	}

	for (auto &t : workers)
		t.join();
	for (Communicator *c : g_registry)
		delete c;
	g_registry.clear();
	close(mfd);
	close(jfd);
	unlink(messages.c_str());
	unlink(journal.c_str());
	if (own_dir)
		rmdir(opt.dir.c_str());
	if (!opt.quiet)
		printf("memtop-demo: stopped, files removed\n");
	return 0;
}
