/*
 * source: where "qvm image" reads an image from, and what it is wrapped in.
 *
 * SOURCE is a path, or an http://, https:// or file:// URL, which curl
 * fetches (redirects followed, to http and https only; an HTTP error is a
 * failure with its status). source_parse() is pure: whether it is a URL,
 * and the file name a checksum list names it by (the last component of
 * the path, or of the URL's path without its query).
 *
 * What it holds is found by magic bytes, never by the name:
 * source_probe() reads its first SOURCE_PROBE_BYTES bytes (from a URL:
 * curl, stopped once it has them) and peels them layer by layer, each by
 * what undoes it in the stream, run on those bytes alone (xz and zstd:
 * decode.h's decoder; gzip, bzip2 and tar: their programs):
 *   [xz | gzip | zstd | bzip2]?  then  [tar]?  then  raw | qcow2
 * Anything else (another disk format, a zip, compression inside a tar) is
 * refused with what it is. A tar must hold exactly one file: the disk.
 *
 * source_stream_start() then starts the whole chain (curl, the
 * decompressor, tar -xO), whose end is the disk's bytes: src, a pipe or,
 * for xz and zstd without tar, the decoder's ring (decode.h: no
 * decompressed byte crosses a pipe). For a URL with an expected checksum
 * a thread of qvm's tees the bytes as published (before decompression)
 * into the hash program. source_stream_finish() waits for all of them
 * and checks each: exit statuses, tar's member count, the checksum. Every
 * program runs through runner_spawn() (runner.h); the decoder is qvm's
 * own child, which -n still shows as "xz -dc" or "zstd -dc", what a
 * shell would run.
 */
#ifndef QVM_SOURCE_H
#define QVM_SOURCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "decode.h"
#include "imgfmt.h"
#include "runner.h"
#include "strvec.h"

/* How much of the source is read to find its layers. */
#define SOURCE_PROBE_BYTES (1024u * 1024)
/* How much of each peeled layer is looked at. */
#define SOURCE_LAYER_BYTES (64u * 1024)

struct source {
	const char *arg;	/* as given: what is fetched */
	char *shown;		/* arg as messages show it: a URL's
				 * password masked (text_url_shown) */
	bool url;
	char *name;		/* file name, for the checksum list */
	enum img_wrapper codec;	/* IMG_BARE or a compression */
	bool tar;
	struct img_info disk;	/* the innermost layer (imgfmt_identify) */
	char what[160];		/* "an xz-compressed tar archive of a raw
				 * image", for messages */
};

/* 0, or -1 with a reason (an unsupported URL scheme, no file name). */
int source_parse(const char *arg, struct source *s, char *errbuf,
		 size_t errsize);

void source_clear(struct source *s);

/* The curl command that fetches url to stdout. */
void source_curl_argv(struct strvec *argv, const char *url);

/* The command that undoes a wrapper (xz -dc, gzip -dc, zstd -dc,
 * bzip2 -dc, tar -xvO): what qvm runs, or for xz and zstd what its
 * decoder does. */
const char *const *source_unwrap_argv(enum img_wrapper w);

/* Finds the layers: fd is the opened file (or -1 for a URL). 0, or -1
 * with a reason in errbuf (curl's error for a download that fails, a
 * format qvm does not take, saying what it is). */
int source_probe(struct source *s, int fd, char *errbuf, size_t errsize);

/* The running chain. */
struct source_stream {
	struct run_pipeline fetch;	/* curl (URL and tee only) */
	struct run_pipeline hash;	/* the hash program (tee only) */
	struct run_pipeline chain;	/* [curl] [decompressor] [tar] */
	struct decoder dec;		/* xz, zstd: decode.h */
	struct copy_source src;		/* the disk's bytes: read this */
	int out;			/* and its descriptor, or -1 */
	bool tee;
	bool fetch_on, hash_on, chain_on, dec_on;
	int plain[2];			/* tee without chain: a pipe */
	int dec_in;			/* tee into the decoder: a pipe */
	pthread_t thread;
	bool thread_on;
	int tee_err;			/* errno of the tee's read */
	char *hash_program;
};

/* Starts the chain on fd (a file) or the URL; st must stay where it is
 * until source_stream_finish() (st->src points into it). hash_program (sha256sum,
 * sha512sum; NULL: none) is fed the bytes as published. 0, or -1 with a
 * reason ("xz: command not found"). */
int source_stream_start(const struct source *s, int fd,
			const char *hash_program, struct source_stream *st,
			char *errbuf, size_t errsize);

/* Stops every program (an interrupt, a failed copy). */
void source_stream_stop(struct source_stream *st);

/* Waits for everything and checks it: 0, or -1 with what went wrong
 * first in errbuf ("downloading URL: curl: (22) ...", "xz: (stdin):
 * Unexpected end of input", "NAME holds 2 files (a.raw, b.raw); ...").
 * The hash program's digest (lowercase hex) in digest (129 bytes) when
 * one ran. */
int source_stream_finish(const struct source *s, struct source_stream *st,
			 char *digest, char *errbuf, size_t errsize);

/* The digest in sha256sum's or sha512sum's output ("HEX  NAME"): 0, or
 * -1 if it holds none. */
int source_parse_digest(const char *out, char *digest, size_t size);

/*
 * For the progress line of a download. source_url_length(): the length
 * the server gives for the URL (curl --head, redirects followed), or 0
 * when it gives none or cannot be asked (file://): one request more, so
 * asked only when the line is shown. source_stream_fetched(): the bytes
 * curl has handed on so far (what it wrote, from /proc/PID/io; 0 when
 * that cannot be read). source_parse_length(): the last response's
 * Content-Length in curl --head's output, 0 if none.
 */
uint64_t source_url_length(const struct source *s);
uint64_t source_stream_fetched(const struct source_stream *st);
uint64_t source_parse_length(const char *headers);

#endif
