/*
 * copy: write a raw image into a new volume, writing only its data.
 *
 * The target is a freshly created zvol, which already reads as zeros, so
 * copy_data() skips the source's holes (SEEK_DATA/SEEK_HOLE) and every
 * all-zero block and hands the rest, at the same offsets, to a sink:
 * copy_sparse()'s writes them to a file descriptor with pwrite(). A
 * source that is a stream (a pipe from a decompressor, a download) is
 * read in order to its end: its size is known only then.
 * A reader thread fills COPY_BUFS buffers of COPY_BUF_SIZE bytes in turn
 * while the calling thread writes the previous one, and keeps
 * COPY_READ_AHEAD bytes of the source's data requested ahead
 * (POSIX_FADV_WILLNEED), so a source that is not in the page cache has
 * several reads in flight. Memory is those buffers whatever the image
 * size. Reads and writes retry on EINTR; a short write is an error
 * (ENOSPC when the system gives no reason); each chunk's writeback starts
 * at once (sync_file_range) and the target is fsync()ed at the end.
 * Between chunks the calling thread checks signals_pending() and stops
 * with EINTR; the reader blocks all signals, so they reach that thread.
 * A source that fills its own buffers (struct copy_source's take: a
 * decoder's ring) needs no reader thread and no buffers of copy's.
 *
 * Returns 0, or -1 with errno set and a message in errbuf saying what
 * failed ("reading the image at byte N: ...", "writing the volume at byte
 * N: short write (X of Y bytes)", "interrupted").
 */
#ifndef QVM_COPY_H
#define QVM_COPY_H

#include <stddef.h>
#include <stdint.h>

#define COPY_BUF_SIZE (2u * 1024 * 1024)
#define COPY_BUFS 2u
/* How much of the source's data is requested ahead of the reads. */
#define COPY_READ_AHEAD (32u * 1024 * 1024)
/* Granularity of zero detection: the volumes' block size (volblocksize),
 * so a skipped block is exactly one the volume need not allocate. */
#define COPY_ZERO_BLOCK (16u * 1024)

struct copy_stats {
	uint64_t size;		/* bytes covered: the size argument */
	uint64_t data;		/* bytes read from the source's data extents */
	uint64_t written;	/* bytes written to the target */
};

/* The size of a source that is a stream: read it to its end. */
#define COPY_SIZE_STREAM UINT64_MAX

/*
 * Where the data goes. write: all len bytes at off, or -1 with errno set
 * and the reason in errbuf. chunk_done (may be NULL): the chunk [off, end)
 * has been handed over (a file starts its writeback). finish: make it all
 * durable, at the end; -1 with errno and the reason.
 */
struct copy_sink {
	int (*write)(void *ctx, const void *buf, size_t len, uint64_t off,
		     char *errbuf, size_t errsize);
	void (*chunk_done)(void *ctx, uint64_t off, uint64_t end);
	int (*finish)(void *ctx, char *errbuf, size_t errsize);
	void *ctx;
};

/*
 * Where the data comes from: the file or pipe fd, which copy_data()'s
 * reader thread reads into its own buffers; or, with take set, buffers
 * someone else fills (decode.h's ring), read in place. take: 1 and the
 * stream's next len bytes at *buf (len a multiple of COPY_ZERO_BLOCK but
 * at the end), valid until give_back; 0 at the end; -1 with errno and the
 * reason in errbuf. Such a source is a stream (COPY_SIZE_STREAM).
 */
struct copy_source {
	int fd;
	int (*take)(void *ctx, const unsigned char **buf, size_t *len,
		    char *errbuf, size_t errsize);
	void (*give_back)(void *ctx);
	void *ctx;
};

#define COPY_SOURCE_FD(f) ((struct copy_source){ .fd = (f) })

/* Called after each buffer with the bytes covered so far (done <= total). */
typedef void (*copy_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Copies the size bytes of src_fd (or, with size COPY_SIZE_STREAM, all of
 * it) into sink: runs of non-zero blocks, in increasing order, each on a
 * COPY_ZERO_BLOCK boundary. stats->size is the bytes covered (for a
 * stream: read). The progress total is size (COPY_SIZE_STREAM until the
 * stream's end).
 */
int copy_data(int src_fd, uint64_t size, const struct copy_sink *sink,
	      struct copy_stats *stats, copy_progress_fn progress,
	      void *progress_ctx, char *errbuf, size_t errsize);

/* The same from any source. */
int copy_data_from(const struct copy_source *src, uint64_t size,
		   const struct copy_sink *sink, struct copy_stats *stats,
		   copy_progress_fn progress, void *progress_ctx,
		   char *errbuf, size_t errsize);

/* copy_data() into dst_fd: pwrite(), writeback started after each chunk
 * (sync_file_range), fsync() at the end. */
int copy_sparse(int src_fd, int dst_fd, uint64_t size,
		struct copy_stats *stats, copy_progress_fn progress,
		void *progress_ctx, char *errbuf, size_t errsize);
int copy_sparse_from(const struct copy_source *src, int dst_fd,
		     uint64_t size, struct copy_stats *stats,
		     copy_progress_fn progress, void *progress_ctx,
		     char *errbuf, size_t errsize);

/* The same, but a source that goes on past byte max_end (data or zeros)
 * is an error (EFBIG) as soon as it does: a stream into a file on a file
 * system that is not qvm's alone can neither fill it nor run on without
 * end. */
int copy_sparse_within(const struct copy_source *src, int dst_fd,
		       uint64_t size, uint64_t max_end,
		       struct copy_stats *stats, copy_progress_fn progress,
		       void *progress_ctx, char *errbuf, size_t errsize);

/* Puts the reason in errbuf and returns -1 with errno = err (for sinks). */
int copy_fail(char *errbuf, size_t errsize, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
