/*
 * benchtool: the measuring half of "make bench" (bench.sh drives it).
 *
 *   gen PATH SIZE SEED DATA_PCT ZERO_PCT
 *       Writes a raw image shaped like a cloud image: SIZE bytes apparent;
 *       1 MiB of data at the start (partition table, boot loader) and
 *       32 KiB at the end (backup GPT); then data extents of random bytes,
 *       lengths log-uniform in 64 KiB..8 MiB, at random 4 KiB-aligned
 *       offsets, until DATA_PCT % of the blocks hold data; then extents of
 *       explicitly written zeros (allocated, not holes), 64 KiB..2 MiB,
 *       in what is still a hole, until ZERO_PCT %; the rest stays holes.
 *       Everything follows from SEED (same seed, same bytes). Written to
 *       PATH.tmp, fsync()ed, renamed to PATH.
 *   count PATH
 *       Reads the data extents (SEEK_DATA/SEEK_HOLE) and prints
 *       "nonzero4k nonzero16k nonzero64k extent_bytes extents": the bytes
 *       in 4 KiB / 16 KiB / 64 KiB blocks that hold a non-zero byte, the
 *       bytes in the file's data extents, and how many extents.
 *   floor PATH
 *       The read floor: reads PATH's data extents (SEEK_DATA/SEEK_HOLE)
 *       once, in buffers of COPY_BUF_SIZE, keeping COPY_READ_AHEAD bytes
 *       of data requested ahead with POSIX_FADV_WILLNEED: the reads qvm
 *       makes, with the same parallelism (src/copy.h), and nothing else.
 *       Prints the bytes read.
 *   time LOG CMD ARG...
 *       Runs CMD (stdin /dev/null, stdout and stderr appended to LOG) and
 *       prints "WALL_S MAXRSS_KIB STATUS CPU_S IN_BYTES OUT_BYTES". MAXRSS,
 *       CPU (user + system) and the block I/O counts are getrusage's, from
 *       wait4(): MAXRSS the largest of CMD and the descendants it waited
 *       for, the others their sum. IN_BYTES is what was read from the
 *       device (not from the page cache), OUT_BYTES what was written to
 *       the page cache for the device (ru_inblock, ru_oublock x 512).
 *   loop N CLEANDIR LOG OUT CMD ARG...
 *       Runs CMD N times, one after the other, as "time" does; before each
 *       run (untimed) removes CLEANDIR/seed.iso and CLEANDIR. Writes the
 *       N wall times (s) to OUT, one a line. Fails on a non-zero status.
 *   vm N SEEDDIR LOG CMDLOG OUT CMD ARG...
 *       N times, alternating which goes first: runs CMD (qvm vm FILE) as
 *       "loop" does, SEEDDIR removed before; and replays the command lines
 *       of CMDLOG (one a line, arguments separated by tabs: what the stubs
 *       recorded of one qvm vm) in order with posix_spawnp(), stdout and
 *       stderr on /dev/null: the cost of exec'ing those programs, nothing
 *       else. Writes "QVM_S STUBS_S" per iteration to OUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"

extern char **environ;

#define BLK 4096u
#define CHUNK (4u * 1024 * 1024)

static void die(const char *what)
{
	fprintf(stderr, "benchtool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- gen ---- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) / 9007199254740992.0;
}

/* A length in blocks, log-uniform in [lo, hi] bytes, whole blocks. */
static uint64_t log_uniform_blocks(uint64_t *s, double lo, double hi)
{
	double b = exp(log(lo) + uniform01(s) * (log(hi) - log(lo)));
	uint64_t n = (uint64_t)(b / BLK + 0.5);

	return n ? n : 1;
}

/* The content of data block b: depends on the seed and b only. */
static void fill_block(unsigned char *p, uint64_t seed, uint64_t b)
{
	uint64_t s = seed * 0xD1B54A32D192ED03ULL ^ (b + 1);

	for (unsigned i = 0; i < BLK; i += 8) {
		uint64_t v = splitmix64(&s);

		memcpy(p + i, &v, 8);
	}
}

static void pwrite_all(int fd, const unsigned char *p, size_t len, off_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("writing the image");
		p += w;
		len -= (size_t)w;
		off += w;
	}
}

static int cmd_gen(int argc, char **argv)
{
	const char *path;
	uint64_t size, seed, nblocks, want_data, want_zero;
	uint64_t ndata = 0, nzero = 0, data_ext = 2, zero_ext = 0;
	unsigned char *state, *buf, *zero;
	uint64_t rng;
	char *tmp;
	int fd;

	if (argc != 7) {
		fputs("usage: benchtool gen PATH SIZE SEED DATA_PCT ZERO_PCT\n",
		      stderr);
		return 2;
	}
	path = argv[2];
	size = strtoull(argv[3], NULL, 10) / BLK * BLK;
	seed = strtoull(argv[4], NULL, 10);
	nblocks = size / BLK;
	want_data = (uint64_t)((double)nblocks * atof(argv[5]) / 100.0);
	want_zero = (uint64_t)((double)nblocks * atof(argv[6]) / 100.0);
	if (nblocks < 1024 || want_data + want_zero > nblocks * 9 / 10) {
		fputs("benchtool gen: bad size or percentages\n", stderr);
		return 2;
	}
	state = calloc(nblocks, 1);	/* 0 hole, 1 data, 2 zeros */
	buf = aligned_alloc(BLK, CHUNK);
	zero = aligned_alloc(BLK, CHUNK);
	if (!state || !buf || !zero)
		die("allocating");
	memset(zero, 0, CHUNK);

	/* The fixed extents, then random ones. */
	for (uint64_t b = 0; b < 256; b++)
		state[b] = 1;
	for (uint64_t b = nblocks - 8; b < nblocks; b++)
		state[b] = 1;
	ndata = 256 + 8;
	rng = seed;
	while (ndata < want_data) {
		uint64_t len = log_uniform_blocks(&rng, 64.0 * 1024,
						  8.0 * 1024 * 1024);
		uint64_t at = splitmix64(&rng) % (nblocks - len + 1);

		for (uint64_t b = at; b < at + len; b++)
			if (state[b] != 1) {
				state[b] = 1;
				ndata++;
			}
		data_ext++;
	}
	while (nzero < want_zero) {
		uint64_t len = log_uniform_blocks(&rng, 64.0 * 1024,
						  2.0 * 1024 * 1024);
		uint64_t at = splitmix64(&rng) % (nblocks - len + 1);

		for (uint64_t b = at; b < at + len; b++)
			if (state[b] == 0) {
				state[b] = 2;
				nzero++;
			}
		zero_ext++;
	}

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		die("allocating");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(tmp);
	for (uint64_t b = 0; b < nblocks;) {
		uint64_t e = b;
		unsigned char st = state[b];

		while (e < nblocks && state[e] == st &&
		       (e - b) * BLK < CHUNK)
			e++;
		if (st == 1) {
			for (uint64_t i = b; i < e; i++)
				fill_block(buf + (i - b) * BLK, seed, i);
			pwrite_all(fd, buf, (size_t)((e - b) * BLK),
				   (off_t)(b * BLK));
		} else if (st == 2) {
			pwrite_all(fd, zero, (size_t)((e - b) * BLK),
				   (off_t)(b * BLK));
		}
		b = e;
	}
	if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0 || close(fd) < 0)
		die(tmp);
	if (rename(tmp, path) < 0)
		die(path);
	printf("generated %s: %llu bytes, %llu data blocks in %llu extents "
	       "(%.1f%%), %llu zero blocks in %llu extents (%.1f%%)\n", path,
	       (unsigned long long)size, (unsigned long long)ndata,
	       (unsigned long long)data_ext, 100.0 * (double)ndata /
	       (double)nblocks, (unsigned long long)nzero,
	       (unsigned long long)zero_ext, 100.0 * (double)nzero /
	       (double)nblocks);
	free(tmp);
	free(state);
	free(buf);
	free(zero);
	return 0;
}

/* ---- count ---- */

static int block_nonzero(const unsigned char *p, size_t n)
{
	return p[0] || memcmp(p, p + 1, n - 1);
}

/* count and floor: PATH opened for reading, its size in *st. */
static int open_image(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, st) < 0)
		die(path);
	return fd;
}

/* The next data extent at or after off as [*d, *h); 0 when only a hole is
 * left. */
static int next_extent(int fd, off_t off, off_t *d, off_t *h)
{
	*d = lseek(fd, off, SEEK_DATA);
	if (*d < 0 && errno == ENXIO)
		return 0;
	if (*d < 0)
		die("SEEK_DATA");
	*h = lseek(fd, *d, SEEK_HOLE);
	if (*h < 0)
		die("SEEK_HOLE");
	return 1;
}

static int cmd_count(int argc, char **argv)
{
	uint64_t nz4 = 0, nz16 = 0, nz64 = 0, ext_bytes = 0, extents = 0;
	uint64_t last16 = UINT64_MAX, last64 = UINT64_MAX;
	unsigned char *buf;
	struct stat st;
	off_t off = 0;
	int fd;

	if (argc != 3) {
		fputs("usage: benchtool count PATH\n", stderr);
		return 2;
	}
	fd = open_image(argv[2], &st);
	buf = aligned_alloc(BLK, CHUNK);
	if (!buf)
		die("allocating");
	for (off_t d, h; next_extent(fd, off, &d, &h); off = h) {
		extents++;
		ext_bytes += (uint64_t)(h - d);
		/* Whole 4 KiB blocks from the one holding d. */
		for (off_t o = d - d % BLK; o < h;) {
			size_t len = (size_t)(h - o) < CHUNK ? (size_t)(h - o)
							     : CHUNK;
			ssize_t r = pread(fd, buf, len, o);

			if (r <= 0)
				die("reading");
			for (size_t i = 0; i < (size_t)r; i += BLK) {
				size_t n = (size_t)r - i < BLK ? (size_t)r - i
							       : BLK;
				uint64_t at = (uint64_t)o + i;

				if (!block_nonzero(buf + i, n))
					continue;
				nz4 += BLK;
				if (at / 16384 != last16) {
					last16 = at / 16384;
					nz16 += 16384;
				}
				if (at / 65536 != last64) {
					last64 = at / 65536;
					nz64 += 65536;
				}
			}
			o += r;
		}
	}
	printf("%llu %llu %llu %llu %llu\n", (unsigned long long)nz4,
	       (unsigned long long)nz16, (unsigned long long)nz64,
	       (unsigned long long)ext_bytes, (unsigned long long)extents);
	free(buf);
	close(fd);
	return 0;
}

/* ---- floor ---- */

static int cmd_floor(int argc, char **argv)
{
	uint64_t ahead = 0, hinted = 0, done = 0;
	unsigned char *buf;
	struct stat st;
	off_t off = 0;
	int fd;

	if (argc != 3) {
		fputs("usage: benchtool floor PATH\n", stderr);
		return 2;
	}
	fd = open_image(argv[2], &st);
	buf = aligned_alloc(BLK, COPY_BUF_SIZE);
	if (!buf)
		die("allocating");
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (off_t d, h; next_extent(fd, off, &d, &h); off = h) {
		for (off_t o = d; o < h;) {
			size_t len = (uint64_t)(h - o) < COPY_BUF_SIZE ?
				     (size_t)(h - o) : COPY_BUF_SIZE;
			ssize_t r;

			/* The same window as qvm's read_ahead(). */
			while ((off_t)ahead < st.st_size &&
			       hinted - done < COPY_READ_AHEAD) {
				off_t ad = lseek(fd, (off_t)ahead, SEEK_DATA);
				off_t ah;

				if (ad < 0)
					break;
				ah = lseek(fd, ad, SEEK_HOLE);
				if (ah <= ad)
					break;
				if ((uint64_t)(ah - ad) >
				    COPY_READ_AHEAD - (hinted - done))
					ah = ad + (off_t)(COPY_READ_AHEAD -
							  (hinted - done));
				(void)posix_fadvise(fd, ad, ah - ad,
						    POSIX_FADV_WILLNEED);
				hinted += (uint64_t)(ah - ad);
				ahead = (uint64_t)ah;
			}
			r = pread(fd, buf, len, o);
			if (r <= 0)
				die("reading");
			o += r;
			done += (uint64_t)r;
		}
	}
	printf("%llu\n", (unsigned long long)done);
	free(buf);
	close(fd);
	return 0;
}

/* ---- time, loop ---- */

/* Runs argv with stdout and stderr appended to log; wall time and rusage. */
static int run_timed(char **argv, const char *log, double *wall,
		     long *maxrss_kib, double *cpu, struct rusage *io)
{
	struct rusage ru;
	double t0 = now_s();
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(out, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	*wall = now_s() - t0;
	*maxrss_kib = ru.ru_maxrss;
	if (io)
		*io = ru;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int cmd_time(int argc, char **argv)
{
	struct rusage ru;
	double wall, cpu;
	long rss;
	int st;

	if (argc < 4) {
		fputs("usage: benchtool time LOG CMD ARG...\n", stderr);
		return 2;
	}
	st = run_timed(argv + 3, argv[2], &wall, &rss, &cpu, &ru);
	printf("%.6f %ld %d %.6f %lld %lld\n", wall, rss, st, cpu,
	       (long long)ru.ru_inblock * 512, (long long)ru.ru_oublock * 512);
	return 0;
}

static void remove_seed(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/seed.iso", dir);
	if (unlink(path) < 0 && errno != ENOENT)
		die(path);
	if (rmdir(dir) < 0 && errno != ENOENT)
		die(dir);
}

static int cmd_loop(int argc, char **argv)
{
	FILE *out;
	int n;

	if (argc < 7) {
		fputs("usage: benchtool loop N CLEANDIR LOG OUT CMD ARG...\n",
		      stderr);
		return 2;
	}
	n = atoi(argv[2]);
	out = fopen(argv[5], "w");
	if (!out)
		die(argv[5]);
	for (int i = 0; i < n; i++) {
		double wall, cpu;
		long rss;
		int st;

		remove_seed(argv[3]);
		st = run_timed(argv + 6, argv[4], &wall, &rss, &cpu, NULL);
		if (st != 0) {
			fprintf(stderr, "benchtool loop: run %d exited %d "
				"(see %s)\n", i + 1, st, argv[4]);
			return 1;
		}
		fprintf(out, "%.7f\n", wall);
	}
	return fclose(out) == 0 ? 0 : 1;
}

/* ---- vm: qvm vm against the same stub calls alone, interleaved ---- */

static char ***read_cmdlog(const char *path, size_t *ncmds)
{
	char ***cmds = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *in = fopen(path, "r");

	if (!in)
		die(path);
	*ncmds = 0;
	while ((len = getline(&line, &cap, in)) > 0) {
		size_t nargs = 1;
		char **av;
		char *s, *save = NULL;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		for (char *c = line; *c; c++)
			nargs += *c == '\t';
		av = calloc(nargs + 1, sizeof(*av));
		cmds = realloc(cmds, (*ncmds + 1) * sizeof(*cmds));
		if (!av || !cmds)
			die("allocating");
		nargs = 0;
		for (s = strtok_r(line, "\t", &save); s;
		     s = strtok_r(NULL, "\t", &save))
			av[nargs++] = strdup(s);
		cmds[(*ncmds)++] = av;
	}
	fclose(in);
	free(line);
	return cmds;
}

/* Spawns each recorded command in turn and waits for it; wall time. */
static double replay_once(char ***cmds, size_t ncmds,
			  const posix_spawn_file_actions_t *fa)
{
	double t0 = now_s();

	for (size_t c = 0; c < ncmds; c++) {
		pid_t pid;
		int st, rc;

		rc = posix_spawnp(&pid, cmds[c][0], fa, NULL, cmds[c],
				  environ);
		if (rc) {
			errno = rc;
			die(cmds[c][0]);
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		/* Statuses are not checked: "zfs get" of the clone-to-be
		 * fails on purpose, as it does under qvm. */
	}
	return now_s() - t0;
}

static int cmd_vm(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	char ***cmds;
	size_t ncmds;
	FILE *out;
	int n;

	if (argc < 8) {
		fputs("usage: benchtool vm N SEEDDIR LOG CMDLOG OUT CMD ARG...\n",
		      stderr);
		return 2;
	}
	n = atoi(argv[2]);
	cmds = read_cmdlog(argv[5], &ncmds);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	out = fopen(argv[6], "w");
	if (!out)
		die(argv[6]);
	for (int i = 0; i < n; i++) {
		double t_qvm = 0, t_stubs = 0, cpu;
		long rss;

		for (int k = 0; k < 2; k++) {
			/* Alternate which goes first. */
			if ((k == 0) == (i % 2 == 0)) {
				int st;

				remove_seed(argv[3]);
				st = run_timed(argv + 7, argv[4], &t_qvm, &rss,
					       &cpu, NULL);
				if (st != 0) {
					fprintf(stderr, "benchtool vm: run %d "
						"exited %d (see %s)\n", i + 1,
						st, argv[4]);
					return 1;
				}
			} else {
				/* genisoimage writes its ISO in here. */
				if (mkdir(argv[3], 0711) < 0 && errno != EEXIST)
					die(argv[3]);
				t_stubs = replay_once(cmds, ncmds, &fa);
			}
		}
		fprintf(out, "%.7f %.7f\n", t_qvm, t_stubs);
	}
	posix_spawn_file_actions_destroy(&fa);
	return fclose(out) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gen"))
		return cmd_gen(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "count"))
		return cmd_count(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "floor"))
		return cmd_floor(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "time"))
		return cmd_time(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "loop"))
		return cmd_loop(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "vm"))
		return cmd_vm(argc, argv);
	fputs("usage: benchtool gen|count|floor|time|loop|vm ...\n", stderr);
	return 2;
}
