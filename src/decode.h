/*
 * decode: xz and zstd undone by their libraries (liblzma, libzstd), in a
 * child process of qvm's, so no decompressed byte crosses a pipe.
 *
 * decoder_start() forks (without exec) a child that reads the compressed
 * bytes from in_fd (the file, or curl's or the tee's pipe) and decodes
 * them, every stream or frame of a concatenated file in turn, either
 *  - into a ring of DECODE_SLOTS buffers of DECODE_SLOT_SIZE bytes in
 *    memory shared with qvm (out_fd -1), which copy.h reads through
 *    decoder_source() without copying: decoding (the child) overlaps the
 *    zero scan and the writes (qvm), and only the ring is qvm's memory
 *    (the decoder's dictionary, up to 64 MiB for xz -9, is the child's,
 *    as it was xz's); or
 *  - into out_fd, a pipe (tar's standard input, the probe's reader).
 * The child is what the decompressor program was: in a process group of
 * its own (a Ctrl-C at the terminal reaches qvm only, which stops it with
 * decoder_stop()), default signal dispositions, no descriptor but its
 * input and output, killed if qvm dies; it only decodes and _exit()s (no
 * stdio, no atexit handlers, no undo). Fork it before qvm starts a thread
 * (source.c starts its tee after it).
 *
 * Why it failed comes back through the shared memory, in the words of the
 * program it replaces ("xz: Unexpected end of input", "xz: Compressed
 * data is corrupt", "zstd: Data corruption detected"), and its exit
 * status; decoder_finish() reaps it and says which.
 */
#ifndef QVM_DECODE_H
#define QVM_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "copy.h"
#include "imgfmt.h"

#define DECODE_SLOTS 4u
/* A multiple of COPY_ZERO_BLOCK: every slot but the last is full, so no
 * zero block is split between two. */
#define DECODE_SLOT_SIZE (512u * 1024)

struct decode_ring;

struct decoder {
	enum img_wrapper codec;
	int pid;			/* 0: reaped (or never started) */
	int status;			/* as runner.h's: exit status, 128+N */
	struct decode_ring *ring;	/* the shared memory */
	size_t map_size;
	bool to_ring;			/* out_fd was -1 */
	unsigned next;			/* the slot qvm reads next */
	bool holding;			/* qvm reads slot next - 1 */
	bool ended;			/* the end mark came */
	bool stopped;			/* decoder_stop() was called */
};

/* xz and zstd: what the libraries decode. */
bool decode_supported(enum img_wrapper w);

/* Starts the child on in_fd, writing into the ring (out_fd -1) or into
 * out_fd. Both stay open in qvm: the caller closes its copies. 0, or -1
 * with the reason in errbuf (and nothing running). */
int decoder_start(struct decoder *d, enum img_wrapper w, int in_fd,
		  int out_fd, char *errbuf, size_t errsize);

/* The ring as a source for copy_data() (a stream). Its take fails with
 * EINTR when signals_pending(). A child that failed or died ends the
 * data, as a decompressor's pipe would end: decoder_finish() says why. */
void decoder_source(struct decoder *d, struct copy_source *src);

/* Asks the child to stop (SIGTERM): an interrupt, a failed copy. */
void decoder_stop(struct decoder *d);

/* Waits for the child (stopping it if qvm is interrupted meanwhile, or
 * if it has not ended and qvm stops reading the ring), unmaps the ring.
 * 0 if it decoded everything and exited 0; else -1 with why in errbuf
 * ("xz: Unexpected end of input", "zstd: killed by signal 9"). */
int decoder_finish(struct decoder *d, char *errbuf, size_t errsize);

#endif
