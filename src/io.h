/*
 * io: a whole buffer written to a descriptor (a pipe, a socket, a file).
 * May touch only the descriptor it is given.
 */
#ifndef QVM_IO_H
#define QVM_IO_H

#include <stddef.h>

/* Writes all len bytes of buf to fd, retrying on EINTR and after short
 * writes: 0, or -1 with errno (EIO when write() wrote nothing and gave no
 * reason). */
int io_write_all(int fd, const void *buf, size_t len);

#endif
