#!/usr/bin/env python3
"""Host-side client of the guest's echo servers (tests/qemu/host-echo-test): traffic only to
127.0.0.1, to ports QEMU forwards into the guest.

    echo_client.py PORT BYTES CONNECTIONS

Opens CONNECTIONS connections at once (ramped: QEMU's user network accepts a few per second on a
forwarded port), sends BYTES seeded pseudo-random bytes on each while reading the echo, and checks
every byte (SHA-256 of what came back against what was sent). Then closes. Prints one line per check
and exits non-zero on any failure or timeout."""
import hashlib
import random
import socket
import sys
import threading
import time

port, size, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
failures = []


def connect(deadline):
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.settimeout(60)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def echo(index, s):
    data = random.Random(index).randbytes(size)
    received = bytearray()

    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    except OSError as error:
        failures.append(f"connection {index}: {error} after {len(received)} bytes")
    sender.join()
    s.close()
    if hashlib.sha256(received).digest() != hashlib.sha256(data).digest():
        failures.append(f"connection {index}: {len(received)} bytes back of {size}, contents differ")


start = time.time()
sockets = [connect(time.time() + 30) for _ in range(count)]
threads = [threading.Thread(target=echo, args=(i, s)) for i, s in enumerate(sockets)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - start
for failure in failures:
    print(f"echo-client: port {port}: FAILED {failure}")
if failures:
    sys.exit(1)
print(f"echo-client: port {port}: {count} connection(s) x {size} bytes echoed intact ({elapsed:.1f} s wall)")
