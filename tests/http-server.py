#!/usr/bin/env python3
"""A small HTTP server for qvm's download tests, on 127.0.0.1 only.

    http-server.py ROOT PORTFILE LOGFILE

Serves the files under ROOT on a free port, which it writes to PORTFILE
once it listens. The first path component may choose a behaviour; the rest
of the path is the file, so the URL's last component stays its name:

    /NAME            the file (Range requests answered with 206)
    /norange/NAME    the whole file, whatever Range asks for
    /cut/NAME        the headers promise the whole file; the connection is
                     closed after half of it
    /slow/NAME       the file trickled: 16 KiB every 0.1 s
    /stall/NAME      half of the file, then nothing, the connection held
                     open (a download that hangs)
    /redirect/NAME   302 to /NAME
    /404/NAME        404, whether the file exists or not

A file that does not exist is a 404 too. Each request is one line in
LOGFILE, when it ends: "METHOD PATH range=RANGE|- status=N sent=BYTES".
"""

import http.server
import os
import re
import sys
import threading
import time

ROOT, PORTFILE, LOGFILE = sys.argv[1:4]
LOG_LOCK = threading.Lock()
CHUNK = 16384


def log(line):
    with LOG_LOCK, open(LOGFILE, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1: curl then relies on Content-Length, and sees a body that
    # ends early.
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def serve(self, head):
        self.sent = 0
        self.status = 0
        rng = self.headers.get("Range")
        try:
            self.respond(head, rng)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            log("%s %s range=%s status=%d sent=%d" % (
                self.command, self.path, rng or "-", self.status, self.sent))

    def header_only(self, status, headers):
        self.status = status
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def respond(self, head, rng):
        path = self.path.split("?", 1)[0]
        parts = path.lstrip("/").split("/", 1)
        mode = parts[0] if len(parts) == 2 and parts[0] in (
            "norange", "cut", "slow", "stall", "redirect", "404") else ""
        name = parts[1] if mode else path.lstrip("/")
        if mode == "redirect":
            self.header_only(302, [("Location", "/" + name),
                                   ("Content-Length", "0")])
            return
        file = os.path.realpath(os.path.join(ROOT, name))
        if (mode == "404" or not file.startswith(os.path.realpath(ROOT) + "/")
                or not os.path.isfile(file)):
            body = b"not found\n"
            self.header_only(404, [("Content-Type", "text/plain"),
                                   ("Content-Length", str(len(body)))])
            if not head:
                self.wfile.write(body)
            return
        size = os.path.getsize(file)
        start, end, status = 0, size, 200
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng or "")
        if m and mode not in ("norange", "cut") and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(size, int(m.group(2)) + 1) if m.group(2) else size
            else:
                start = max(0, size - int(m.group(2)))
            if start >= size or start >= end:
                self.header_only(416, [("Content-Range", "bytes */%d" % size),
                                       ("Content-Length", "0")])
                return
            status = 206
        headers = [("Content-Type", "application/octet-stream"),
                   ("Content-Length", str(end - start)),
                   ("Accept-Ranges", "none" if mode == "norange" else "bytes")]
        if status == 206:
            headers.append(("Content-Range",
                            "bytes %d-%d/%d" % (start, end - 1, size)))
        self.header_only(status, headers)
        if head:
            return
        stop = end
        if mode in ("cut", "stall"):
            stop = start + (end - start) // 2
            self.close_connection = True
        with open(file, "rb") as f:
            f.seek(start)
            pos = start
            while pos < stop:
                data = f.read(min(CHUNK if mode == "slow" else 1 << 20,
                                  stop - pos))
                if not data:
                    break
                self.wfile.write(data)
                self.wfile.flush()
                pos += len(data)
                self.sent += len(data)
                if mode == "slow":
                    time.sleep(0.1)
            if mode == "stall":
                time.sleep(3600)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up (curl killed by an interrupt) is expected.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
