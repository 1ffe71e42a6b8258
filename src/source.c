#include "source.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io.h"
#include "signals.h"
#include "strvec.h"
#include "text.h"

/* What the tee thread moves at a time. */
#define TEE_BUF (128u * 1024)

static const char *const xz_argv[] = { "xz", "-dc", NULL };
static const char *const gzip_argv[] = { "gzip", "-dc", NULL };
static const char *const zstd_argv[] = { "zstd", "-dc", NULL };
static const char *const bzip2_argv[] = { "bzip2", "-dc", NULL };
/* -v with -O: the members' names on stderr, so their number is known. */
static const char *const tar_argv[] = { "tar", "-x", "-v", "-O", "-f", "-",
					NULL };

const char *const *source_unwrap_argv(enum img_wrapper w)
{
	switch (w) {
	case IMG_XZ:
		return xz_argv;
	case IMG_GZIP:
		return gzip_argv;
	case IMG_ZSTD:
		return zstd_argv;
	case IMG_BZIP2:
		return bzip2_argv;
	case IMG_TAR:
		return tar_argv;
	case IMG_BARE:
		break;
	}
	return NULL;
}

/*
 * -q first: no ~/.curlrc (an "output" or "insecure" line there would
 * change what is fetched); credentials from ~/.netrc, the place for them
 * (a URL's own are seen by every user in ps, and qvm masks them in all
 * it prints). --globoff: [] and {} in a URL are its own
 * characters, never a pattern that fetches several files as one. A
 * transfer that stalls (under a byte a second for two minutes) or a host
 * that does not answer in 30 s is an error, not a wait without end. An
 * https URL is never redirected to plain http.
 */
static void curl_policy(struct strvec *argv, const char *url)
{
	strvec_pushv(argv, (const char *const[]){
		"curl", "-q", "--netrc-optional", "--location", "--silent",
		"--globoff", "--proto", "=http,https,file", "--proto-redir",
		strncmp(url, "https:", 6) == 0 ? "=https" : "=http,https",
		"--connect-timeout", "30", NULL });
}

void source_curl_argv(struct strvec *argv, const char *url)
{
	curl_policy(argv, url);
	strvec_pushv(argv, (const char *const[]){
		"--fail", "--show-error", "--speed-limit", "1", "--speed-time",
		"120", url, NULL });
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The last component of [start, end), %XX decoded when url. */
static char *last_component(const char *start, const char *end, bool url)
{
	const char *p = end;
	char *name, *o;

	while (p > start && p[-1] != '/')
		p--;
	name = xmalloc((size_t)(end - p) + 1);
	o = name;
	for (; p < end; p++) {
		if (url && *p == '%' && end - p >= 3 && hexval(p[1]) >= 0 &&
		    hexval(p[2]) >= 0) {
			*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return name;
}

int source_parse(const char *arg, struct source *s, char *errbuf,
		 size_t errsize)
{
	const char *sep = strstr(arg, "://");
	const char *path, *end;

	memset(s, 0, sizeof(*s));
	s->arg = arg;
	static const char scheme_chars[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-";

	if (sep && sep > arg &&
	    strspn(arg, scheme_chars) == (size_t)(sep - arg)) {
		size_t n = (size_t)(sep - arg);

		if (!(n == 4 && strncasecmp(arg, "http", 4) == 0) &&
		    !(n == 5 && strncasecmp(arg, "https", 5) == 0) &&
		    !(n == 4 && strncasecmp(arg, "file", 4) == 0))
			return text_fail(errbuf, errsize, "'%.*s' URLs are not "
					 "supported: qvm fetches http://, "
					 "https:// and file:// URLs", (int)n,
					 arg);
		s->url = true;
		path = strchr(sep + 3, '/');
		if (!path)
			path = sep + strlen(sep);
		end = path + strcspn(path, "?#");
		s->name = last_component(path, end, true);
		if (!*s->name) {
			source_clear(s);
			return text_fail(errbuf, errsize, "the URL names no "
					 "file (its path ends in '/')");
		}
		s->shown = text_url_shown(arg);
		return 0;
	}
	s->name = last_component(arg, arg + strlen(arg), false);
	s->shown = xstrdup(arg);
	return 0;
}

void source_clear(struct source *s)
{
	free(s->name);
	free(s->shown);
	s->name = NULL;
	s->shown = NULL;
}

/* Reads up to len bytes from fd (a pipe); stops early on an interrupt. */
static size_t read_some(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len && !signals_pending()) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void clear_results(struct run_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_result_clear(&res[i]);
}

/* The first SOURCE_PROBE_BYTES of a URL: curl, stopped once they came. */
static int probe_url(const struct source *s, unsigned char *buf,
		     size_t *len, char *errbuf, size_t errsize)
{
	struct strvec argv = STRVEC_INIT;
	struct run_pipeline p;
	struct run_result res;
	const char *const *argvs[1];
	char last[512];
	int rc;

	source_curl_argv(&argv, s->arg);
	argvs[0] = strvec_argv(&argv);
	rc = runner_spawn(argvs, 1, -1, 0, &p, &res);
	strvec_clear(&argv);
	if (rc < 0) {
		text_fail(errbuf, errsize, "downloading %s: %s", s->shown,
			  run_result_last_err(&res, last, sizeof(last)));
		run_result_clear(&res);
		return -1;
	}
	*len = read_some(p.out, buf, SOURCE_PROBE_BYTES);
	if (*len == SOURCE_PROBE_BYTES || signals_pending())
		runner_pipeline_stop(&p);
	runner_pipeline_wait(&p, &res);
	rc = 0;
	if (signals_pending())
		rc = text_fail(errbuf, errsize, "interrupted");
	else if (*len < SOURCE_PROBE_BYTES && res.status != 0)
		rc = text_fail(errbuf, errsize, "downloading %s: %s", s->shown,
			       run_result_last_err(&res, last, sizeof(last)));
	run_result_clear(&res);
	return rc;
}

static int probe_file(const struct source *s, int fd, unsigned char *buf,
		      size_t *len, char *errbuf, size_t errsize)
{
	size_t got = 0;

	while (got < SOURCE_PROBE_BYTES) {
		ssize_t r = pread(fd, buf + got, SOURCE_PROBE_BYTES - got,
				  (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return text_fail(errbuf, errsize, "reading %s: %s",
					 s->shown, strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*len = got;
	return 0;
}

/* A stopped or cut-off program's status: no word on the data. */
static bool stopped_status(int status)
{
	return status == 128 + SIGTERM || status == 128 + SIGPIPE;
}

/* Runs the unwrapping chain (codec, then tar) on the probe's bytes (in
 * memfd), as the stream will, and reads the first SOURCE_LAYER_BYTES of
 * what comes out. */
static int peel(enum img_wrapper codec, bool tar, int memfd,
		unsigned char *buf, size_t *len, char *errbuf, size_t errsize)
{
	struct run_result res[RUN_PIPE_MAX];
	struct run_pipeline p = { .n = 0 };
	const char *const *argvs[2];
	struct decoder dec = { .pid = 0 };
	bool lib = decode_supported(codec);
	int dpipe[2] = { -1, -1 }, in = memfd, out;
	char last[512], why[300];
	size_t n = 0;
	int rc = 0;

	if (codec != IMG_BARE && !lib)
		argvs[n++] = source_unwrap_argv(codec);
	if (tar)
		argvs[n++] = tar_argv;
	if (lseek(memfd, 0, SEEK_SET) < 0)
		return text_fail(errbuf, errsize, "probing: %s",
				 strerror(errno));
	if (lib) {
		if (runner_data_pipe(dpipe) < 0)
			return text_fail(errbuf, errsize, "probing: %s",
					 strerror(errno));
		rc = decoder_start(&dec, codec, memfd, dpipe[1], errbuf,
				   errsize);
		close(dpipe[1]);
		if (rc < 0) {
			close(dpipe[0]);
			return -1;
		}
		in = dpipe[0];
	}
	out = in;
	if (n) {
		rc = runner_spawn(argvs, n, in, 0, &p, &res[0]);
		if (rc < 0) {
			text_fail(errbuf, errsize, "%s",
				  run_result_last_err(&res[0], last,
						      sizeof(last)));
			run_result_clear(&res[0]);
			n = 0;
		}
		out = p.out;
	}
	*len = rc < 0 ? 0 : read_some(out, buf, SOURCE_LAYER_BYTES);
	if (n)
		runner_pipeline_stop(&p);
	if (lib)
		decoder_stop(&dec);
	if (n)
		runner_pipeline_wait(&p, res);
	if (lib) {
		close(dpipe[0]);
		decoder_finish(&dec, why, sizeof(why));
	}
	if (rc < 0)
		return -1;
	/* The probe is cut short: only a program that gave nothing at all
	 * says something about the data. */
	if (signals_pending()) {
		rc = text_fail(errbuf, errsize, "interrupted");
	} else if (*len == 0 && lib && dec.status != 0 &&
		   !stopped_status(dec.status)) {
		rc = text_fail(errbuf, errsize, "%s", why);
	} else if (*len == 0) {
		for (size_t i = 0; i < n; i++)
			if (res[i].status != 0 &&
			    !stopped_status(res[i].status)) {
				run_result_last_err(&res[i], last,
						    sizeof(last));
				rc = text_fail(errbuf, errsize, "%s", last);
				break;
			}
		if (rc == 0)
			rc = text_fail(errbuf, errsize, "it holds no data");
	}
	clear_results(res, n);
	return rc;
}

static bool starts_with_vowel(const char *s)
{
	/* "an xz-compressed ...": x as it is spoken. */
	return strchr("aeiouxAEIOUX", s[0]) != NULL;
}

static void describe(struct source *s, const struct img_info *codec)
{
	char inner[96];
	const struct img_info *d = &s->disk;

	if (d->format == IMG_NOT_A_DISK && (strncmp(d->name, "a ", 2) == 0 ||
					    strncmp(d->name, "an ", 3) == 0))
		snprintf(inner, sizeof(inner), "%s", d->name);
	else if (d->format == IMG_NOT_A_DISK)
		snprintf(inner, sizeof(inner), "%s data", d->name);
	else
		snprintf(inner, sizeof(inner), "a%s %s image",
			 starts_with_vowel(d->name) ? "n" : "", d->name);
	if (codec && s->tar)
		snprintf(s->what, sizeof(s->what), "a%s %s tar archive of %s",
			 starts_with_vowel(codec->name) ? "n" : "",
			 codec->name, inner);
	else if (codec)
		snprintf(s->what, sizeof(s->what), "%s%s %s",
			 starts_with_vowel(codec->name) ? "an " : "a ",
			 codec->name, inner + (inner[0] == 'a' ?
					       (inner[1] == 'n' ? 3 : 2) : 0));
	else if (s->tar)
		snprintf(s->what, sizeof(s->what), "a tar archive of %s",
			 inner);
	else
		snprintf(s->what, sizeof(s->what), "%s", inner);
}

int source_probe(struct source *s, int fd, char *errbuf, size_t errsize)
{
	unsigned char *buf = xmalloc(SOURCE_PROBE_BYTES);
	struct img_info codec;
	char sub[512];
	size_t len = 0;
	int memfd = -1, rc = -1;

	if ((s->url ? probe_url(s, buf, &len, errbuf, errsize)
		    : probe_file(s, fd, buf, &len, errbuf, errsize)) < 0)
		goto done;
	imgfmt_identify(buf, len, &s->disk);
	codec = s->disk;
	if (s->disk.format == IMG_NOT_A_DISK && s->disk.wrapper != IMG_BARE) {
		memfd = memfd_create("qvm-probe", MFD_CLOEXEC);
		if (memfd < 0 || write(memfd, buf, len) != (ssize_t)len) {
			text_fail(errbuf, errsize, "probing %s: %s", s->shown,
				  strerror(errno));
			goto done;
		}
	}
	if (s->disk.format == IMG_NOT_A_DISK && s->disk.wrapper != IMG_TAR &&
	    s->disk.wrapper != IMG_BARE) {
		s->codec = s->disk.wrapper;
		if (peel(s->codec, false, memfd, buf, &len, sub,
			 sizeof(sub)) < 0) {
			text_fail(errbuf, errsize, "%s: %s", s->shown, sub);
			goto done;
		}
		imgfmt_identify(buf, len, &s->disk);
	}
	if (s->disk.format == IMG_NOT_A_DISK && s->disk.wrapper == IMG_TAR) {
		s->tar = true;
		if (peel(s->codec, true, memfd, buf, &len, sub,
			 sizeof(sub)) < 0) {
			text_fail(errbuf, errsize, "%s: %s", s->shown, sub);
			goto done;
		}
		imgfmt_identify(buf, len, &s->disk);
	}
	/* Nothing to import: said before anything is made for it. */
	if (len == 0) {
		text_fail(errbuf, errsize, "%s is empty", s->shown);
		goto done;
	}
	describe(s, s->codec != IMG_BARE ? &codec : NULL);
	rc = 0;
done:
	if (memfd >= 0)
		close(memfd);
	free(buf);
	return rc;
}

/* ---- the stream ---- */

/* Copies what curl fetches to the hash program and to the chain (or the
 * plain pipe). Signals go to the main thread, which stops the programs;
 * that ends this thread (its reads see EOF, its writes EPIPE). */
static void *tee_main(void *arg)
{
	struct source_stream *st = arg;
	unsigned char *buf = xmalloc(TEE_BUF);
	int *to_hash = &st->hash.in;
	int *to_chain = st->dec_on ? &st->dec_in :
			st->chain_on ? &st->chain.in : &st->plain[1];
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		ssize_t r = read(st->fetch.out, buf, TEE_BUF);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			st->tee_err = errno;
		if (r <= 0)
			break;
		if (*to_hash >= 0 &&
		    io_write_all(*to_hash, buf, (size_t)r) < 0) {
			close(*to_hash);
			*to_hash = -1;
		}
		/* A chain that stopped reading (tar at its end): the hash
		 * still gets every byte. */
		if (*to_chain >= 0 &&
		    io_write_all(*to_chain, buf, (size_t)r) < 0) {
			close(*to_chain);
			*to_chain = -1;
		}
		if (*to_hash < 0 && *to_chain < 0)
			break;
	}
	if (*to_hash >= 0)
		close(*to_hash);
	if (*to_chain >= 0)
		close(*to_chain);
	*to_hash = *to_chain = -1;
	free(buf);
	return NULL;
}

static int spawn_failed(struct run_result *res, char *errbuf,
			size_t errsize)
{
	char last[512];

	text_fail(errbuf, errsize, "%s",
		  run_result_last_err(res, last, sizeof(last)));
	run_result_clear(res);
	return -1;
}

/* Starts the decoder on in (the file, curl's pipe or the tee's): into
 * the ring, or with tar into a pipe whose read end goes in *tar_in. */
static int start_decoder(const struct source *s, struct source_stream *st,
			 int in, int *tar_in, char *errbuf, size_t errsize)
{
	int p[2] = { -1, -1 };

	if (s->tar && runner_data_pipe(p) < 0)
		return text_fail(errbuf, errsize, "pipe: %s",
				 strerror(errno));
	if (decoder_start(&st->dec, s->codec, in, p[1], errbuf,
			  errsize) < 0) {
		if (s->tar) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	st->dec_on = true;
	if (s->tar)
		close(p[1]);
	else
		decoder_source(&st->dec, &st->src);
	*tar_in = p[0];
	return 0;
}

int source_stream_start(const struct source *s, int fd,
			const char *hash_program, struct source_stream *st,
			char *errbuf, size_t errsize)
{
	struct strvec curl = STRVEC_INIT;
	const char *const *argvs[3];
	struct run_result res;
	bool lib = decode_supported(s->codec);
	int tar_in = -1, dpipe[2] = { -1, -1 };
	size_t n = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	st->out = st->plain[0] = st->plain[1] = st->dec_in = -1;
	st->tee = s->url && hash_program;
	if (s->url)
		source_curl_argv(&curl, s->arg);
	if (s->url && !st->tee && !lib)
		argvs[n++] = strvec_argv(&curl);
	if (s->codec != IMG_BARE && !lib)
		argvs[n++] = source_unwrap_argv(s->codec);
	if (s->tar)
		argvs[n++] = tar_argv;

	/* curl on its own when the tee or the decoder reads it. */
	if (s->url && (st->tee || lib)) {
		const char *const *one[1] = { strvec_argv(&curl) };

		rc = runner_spawn(one, 1, -1, 0, &st->fetch, &res);
		strvec_clear(&curl);
		if (rc < 0)
			return spawn_failed(&res, errbuf, errsize);
		st->fetch_on = true;
	}
	if (st->tee) {
		const char *const *hash[1] = {
			(const char *const[]){ hash_program, NULL } };

		if (runner_spawn(hash, 1, RUN_STDIN_PIPE, 1, &st->hash,
				 &res) < 0)
			goto fail;
		st->hash_on = true;
	}
	/* Before the tee's thread starts: the decoder is a fork. */
	if (lib) {
		int in = fd;

		if (st->tee) {
			if (runner_data_pipe(dpipe) < 0) {
				text_fail(errbuf, errsize, "pipe: %s",
					  strerror(errno));
				goto stop;
			}
			in = dpipe[0];
			st->dec_in = dpipe[1];
		} else if (s->url) {
			in = st->fetch.out;
		}
		rc = start_decoder(s, st, in, &tar_in, errbuf, errsize);
		if (dpipe[0] >= 0)
			close(dpipe[0]);
		if (s->url && !st->tee) {
			close(st->fetch.out);
			st->fetch.out = -1;
		}
		if (rc < 0)
			goto stop;
	}
	if (n) {
		int in = lib ? tar_in : st->tee ? RUN_STDIN_PIPE :
			 s->url ? -1 : fd;

		rc = runner_spawn(argvs, n, in, 0, &st->chain, &res);
		strvec_clear(&curl);
		if (tar_in >= 0)
			close(tar_in);
		if (rc < 0)
			goto fail;
		st->chain_on = true;
		st->out = st->chain.out;
	} else if (st->tee && !lib) {
		if (runner_data_pipe(st->plain) < 0) {
			text_fail(errbuf, errsize, "pipe: %s",
				  strerror(errno));
			goto stop;
		}
		st->out = st->plain[0];
	} else if (!lib) {
		/* A plain file: read as it is. */
		st->out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (st->out < 0)
			return text_fail(errbuf, errsize, "%s: %s", s->shown,
					 strerror(errno));
		st->plain[0] = st->out;
	}
	if (st->out >= 0)
		st->src = COPY_SOURCE_FD(st->out);
	if (st->tee) {
		if (pthread_create(&st->thread, NULL, tee_main, st) != 0) {
			text_fail(errbuf, errsize, "cannot start a thread");
			goto stop;
		}
		st->thread_on = true;
	}
	return 0;

fail:
	spawn_failed(&res, errbuf, errsize);
stop:
	strvec_clear(&curl);
	source_stream_stop(st);
	{
		char ignored[129], why[16];

		source_stream_finish(s, st, ignored, why, sizeof(why));
	}
	return -1;
}

void source_stream_stop(struct source_stream *st)
{
	if (st->fetch_on)
		runner_pipeline_stop(&st->fetch);
	if (st->hash_on)
		runner_pipeline_stop(&st->hash);
	if (st->dec_on)
		decoder_stop(&st->dec);
	if (st->chain_on)
		runner_pipeline_stop(&st->chain);
	/* The tee may wait on a pipe qvm no longer reads. */
	if (st->plain[0] >= 0) {
		close(st->plain[0]);
		st->plain[0] = -1;
		st->out = -1;
	}
}

int source_parse_digest(const char *out, char *digest, size_t size)
{
	size_t n;

	if (*out == '\\')	/* an escaped name follows */
		out++;
	n = strspn(out, "0123456789abcdefABCDEF");
	if ((n != 64 && n != 128) || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++)
		digest[i] = (char)tolower((unsigned char)out[i]);
	digest[n] = '\0';
	return 0;
}

/* The members tar listed (-v): lines that are no message of tar's own
 * and no directory. Up to 3 names in names, the count returned. */
static size_t tar_members(const char *err, char *names, size_t size)
{
	size_t count = 0, shown = 0;
	const char *line = err;

	names[0] = '\0';
	while (*line) {
		size_t len = strcspn(line, "\n");

		if (len && strncmp(line, "tar: ", 5) != 0 &&
		    line[len - 1] != '/') {
			count++;
			if (shown < 3) {
				char safe[128];
				size_t used = strlen(names);

				text_show(safe, sizeof(safe), line, len, 60);
				snprintf(names + used, size - used, "%s%s",
					 shown ? ", " : "", safe);
				shown++;
			} else if (shown == 3) {
				size_t used = strlen(names);

				snprintf(names + used, size - used, ", ...");
				shown++;
			}
		}
		line += len;
		if (*line)
			line++;
	}
	return count;
}

int source_stream_finish(const struct source *s, struct source_stream *st,
			 char *digest, char *errbuf, size_t errsize)
{
	struct run_result fetch = RUN_RESULT_INIT, hash = RUN_RESULT_INIT;
	struct run_result chain[RUN_PIPE_MAX];
	size_t n = st->chain_on ? st->chain.n : 0, first = 0;
	char last[512], names[512], why[300];
	bool hashed = st->hash_on, fetched = st->fetch_on;
	bool decoded = st->dec_on, lib = decode_supported(s->codec);
	int dec_rc = 0;
	size_t members;
	int rc = 0;

	memset(chain, 0, sizeof(chain));
	if (errbuf && errsize)
		errbuf[0] = '\0';
	digest[0] = '\0';
	if (st->thread_on) {
		pthread_join(st->thread, NULL);
		st->thread_on = false;
	}
	if (st->fetch_on)
		runner_pipeline_wait(&st->fetch, &fetch);
	if (st->hash_on)
		runner_pipeline_wait(&st->hash, &hash);
	if (st->dec_on)
		dec_rc = decoder_finish(&st->dec, why, sizeof(why));
	if (st->chain_on)
		runner_pipeline_wait(&st->chain, chain);
	for (int i = 0; i < 2; i++)
		if (st->plain[i] >= 0)
			close(st->plain[i]);
	if (st->dec_in >= 0)
		close(st->dec_in);
	st->plain[0] = st->plain[1] = st->out = st->dec_in = -1;
	st->fetch_on = st->hash_on = st->chain_on = st->dec_on = false;

	/* In the order the bytes flow; a program that could not write on
	 * (curl 23, SIGPIPE) only shows that a later one stopped reading. */
	/* curl 23 (it could not write) when the decoder read no more: the
	 * decoder says why. */
	if (fetched && fetch.status != 0 &&
	    !(fetch.status == 23 && !st->tee && decoded)) {
		rc = text_fail(errbuf, errsize, "downloading %s: %s", s->shown,
			       run_result_last_err(&fetch, last, sizeof(last)));
		goto done;
	}
	if (st->tee && st->tee_err) {
		rc = text_fail(errbuf, errsize, "downloading %s: %s", s->shown,
			       strerror(st->tee_err));
		goto done;
	}
	/* SIGPIPE: tar stopped reading; tar says why. */
	if (decoded && dec_rc < 0 &&
	    !(s->tar && st->dec.status == 128 + SIGPIPE)) {
		rc = text_fail(errbuf, errsize, "decompressing %s: %s",
			       s->shown, why);
		goto done;
	}
	if (s->url && !st->tee && !lib && n) {
		first = 1;
		if (chain[0].status != 0 &&
		    !(chain[0].status == 23 && n > 1)) {
			rc = text_fail(errbuf, errsize, "downloading %s: %s",
				       s->shown, run_result_last_err(&chain[0],
							last, sizeof(last)));
			goto done;
		}
	}
	for (size_t i = first; i < n; i++) {
		if (chain[i].status == 0 ||
		    (chain[i].status == 128 + SIGPIPE && i + 1 < n))
			continue;
		run_result_last_err(&chain[i], last, sizeof(last));
		if (s->tar && i + 1 == n)
			rc = text_fail(errbuf, errsize, "reading the tar "
				       "archive %s: %s", s->shown, last);
		else
			rc = text_fail(errbuf, errsize, "decompressing %s: %s",
				       s->shown, last);
		goto done;
	}
	if (s->tar && n) {
		members = tar_members(chain[n - 1].err, names, sizeof(names));
		if (members != 1) {
			rc = text_fail(errbuf, errsize, "%s holds %zu files "
				       "(%s); qvm imports an archive of "
				       "exactly one disk image", s->name,
				       members, members ? names : "none");
			goto done;
		}
	}
	if (hashed) {
		if (hash.status != 0) {
			rc = text_fail(errbuf, errsize, "%s",
				       run_result_last_err(&hash, last,
							   sizeof(last)));
			goto done;
		}
		if (source_parse_digest(hash.out, digest, 129) < 0) {
			rc = text_fail(errbuf, errsize, "the hash program "
				       "printed no digest");
			goto done;
		}
	}
done:
	run_result_clear(&fetch);
	run_result_clear(&hash);
	clear_results(chain, n);
	return rc;
}

/* ---- how far a download is, for the progress line ---- */

/* The length of a response's body in curl --head's output: the last
 * response's Content-Length (redirects come first), 0 if it has none. */
uint64_t source_parse_length(const char *headers)
{
	uint64_t len = 0;

	for (const char *l = headers; l && *l;) {
		const char *end = strchr(l, '\n');

		if (strncmp(l, "HTTP/", 5) == 0)
			len = 0;	/* a new response */
		else if (strncasecmp(l, "content-length:", 15) == 0) {
			char *stop;
			unsigned long long v;

			errno = 0;
			v = strtoull(l + 15, &stop, 10);
			len = errno == 0 && stop != l + 15 ? (uint64_t)v : 0;
		}
		l = end ? end + 1 : NULL;
	}
	return len;
}

uint64_t source_url_length(const struct source *s)
{
	const char *const *argvs[1];
	struct strvec argv = STRVEC_INIT;
	struct run_pipeline p;
	struct run_result res;
	unsigned char buf[16384];
	size_t len;
	uint64_t length = 0;

	if (!s->url || strncmp(s->arg, "file:", 5) == 0)
		return 0;
	curl_policy(&argv, s->arg);
	strvec_pushv(&argv, (const char *const[]){ "--head", "--max-time",
						   "10", s->arg, NULL });
	argvs[0] = strvec_argv(&argv);
	if (runner_spawn(argvs, 1, -1, 0, &p, &res) == 0) {
		len = read_some(p.out, buf, sizeof(buf) - 1);
		buf[len] = '\0';
		runner_pipeline_stop(&p);
		runner_pipeline_wait(&p, &res);
		length = source_parse_length((const char *)buf);
	}
	run_result_clear(&res);
	strvec_clear(&argv);
	return length;
}

uint64_t source_stream_fetched(const struct source_stream *st)
{
	pid_t pid = st->fetch_on ? st->fetch.pid[0] :
		    st->chain_on ? st->chain.pid[0] : 0;
	char path[64], text[512];
	uint64_t got = 0;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n > 0) {
		const char *w;

		text[n] = '\0';
		w = strstr(text, "wchar:");
		if (w)
			got = strtoull(w + 6, NULL, 10);
	}
	return got;
}
