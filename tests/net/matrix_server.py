#!/usr/bin/env python3
"""A host-side reference server of the TcpServer protocol (docs/experiments.md), for testing
tools/tcpclient without the guest: a thread per connection, line framing, C = A x A, level = accept
order mod L, "E <reason>" and close on a malformed request. Listens on 127.0.0.1 only.

    matrix_server.py [--port P] [--priorities L] [--wrong-every K] [--drop-every K] [--level-delay-ms D]

--port 0 (the default) picks a free port. Prints exactly one line
    tcpserver: listening on port P model reference parts 1 threads 0 priorities L
when listening. Faults, for the client's own tests: --wrong-every K corrupts every K-th reply's first
number, --drop-every K never answers every K-th request (the connection goes on), --level-delay-ms D
holds a level-l reply l*D ms (so that levels differ in latency)."""
import argparse
import socket
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--priorities", type=int, default=0)
parser.add_argument("--wrong-every", type=int, default=0)
parser.add_argument("--drop-every", type=int, default=0)
parser.add_argument("--level-delay-ms", type=float, default=0)
options = parser.parse_args()

MAX_LINE = 64 * 1024


def answer(line, level, count):
    """The reply to one request line (bytes, no newline), or None to close after an error reply."""
    fields = line.split(b" ")
    try:
        if any(not f.isdigit() for f in fields):
            raise ValueError("not a number")
        request_id, n = int(fields[0]), int(fields[1])
        if not 1 <= n <= 64:
            raise ValueError("n out of range")
        if len(fields) != 2 + n * n:
            raise ValueError("wrong count")
        a = [int(f) for f in fields[2:]]
        if any(x > 99 for x in a):
            raise ValueError("entry out of range")
    except (ValueError, IndexError) as error:
        return b"E " + str(error).encode() + b"\n", True
    rows = [a[i * n:(i + 1) * n] for i in range(n)]
    columns = list(zip(*rows))
    c = [sum(x * y for x, y in zip(row, column)) for row in rows for column in columns]
    if options.wrong_every and count % options.wrong_every == 0:
        c[0] += 1
    return (f"{request_id} {level} " + " ".join(map(str, c)) + "\n").encode(), False


def serve(connection, level):
    buffer = b""
    count = 0
    with connection:
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                count += 1
                reply, close = answer(line, level, count)
                if options.drop_every and count % options.drop_every == 0 and not close:
                    continue
                if options.level_delay_ms:
                    time.sleep(level * options.level_delay_ms / 1000)
                try:
                    connection.sendall(reply)
                except OSError:
                    return
                if close:
                    return
            if len(buffer) > MAX_LINE:
                connection.sendall(b"E line too long\n")
                return


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", options.port))
listener.listen(128)
port = listener.getsockname()[1]
print(f"tcpserver: listening on port {port} model reference parts 1 threads 0 priorities {options.priorities}",
      flush=True)
accepted = 0
while True:
    connection, _ = listener.accept()
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    level = accepted % options.priorities if options.priorities else 0
    accepted += 1
    threading.Thread(target=serve, args=(connection, level), daemon=True).start()
