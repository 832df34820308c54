#!/usr/bin/env python3
"""The guest's network driven from the host (docs/network.md, "Tests"): boots QEMU virt on QEMU's
user network with free host ports of 127.0.0.1 forwarded to guest ports, starts servers from the
guest's shell, and checks from the host. Traffic only to 127.0.0.1 (and, from the guest, to
10.0.2.2, which QEMU maps to the host's 127.0.0.1). Every wait has a deadline; QEMU is powered off
(`halt`) or killed at the end; the whole console output is kept in the log.

    host_net_test.py --name NAME --smp N --kernel FILE --log-dir DIR --part many|cases [--timeout S]

--part many   256 connections open at once to the threaded echo-server, then 256 to echo-server
              --async, each echoing its own 4 KiB (opened 50 ms apart: QEMU 7.2's user network
              drops SYNs that come faster than it accepts, and the host retries only after 1 s)
--part cases  host closes; guest closes (echo-server --close-after); reset by the host (SO_LINGER 0,
              the guest server sees ECONNRESET and goes on); a forwarded port where nothing
              listens; UDP echo (both forms); the guest as client of a host listener (nc and
              nettest client to 10.0.2.2, a line and 1 MiB each way) and ECONNREFUSED for a
              closed host port; servers killed mid-transfer, after
              which the kernel's figures (bin/kstat: free frames, kernel heap, sockets, pool pbufs)
              are back to what they were before.

Prints one line per check ("host-net: PASS ..." / "host-net: FAIL ...") and "N passed, N failed";
exits non-zero on any failure."""
import argparse
import os
import random
import re
import selectors
import signal
import socket
import struct
import sys
import threading
import time

from qemu_guest import Guest, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

parser = argparse.ArgumentParser()
parser.add_argument("--name", required=True)
parser.add_argument("--smp", default="1")
parser.add_argument("--kernel", required=True)
parser.add_argument("--log-dir", default=".")
parser.add_argument("--part", choices=["many", "cases"], required=True)
parser.add_argument("--timeout", type=float, default=240)
parser.add_argument("--connections", type=int, default=256)
options = parser.parse_args()

passed, failed = [], []


def check(condition, what):
    (passed if condition else failed).append(what)
    print(f"host-net: {'PASS' if condition else 'FAIL'} {what}", flush=True)
    return condition


def connect(port, deadline):
    """A connection to 127.0.0.1:PORT; refused or timed-out attempts are retried until DEADLINE."""
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.settimeout(20)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def echo_once(port, payload, deadline_seconds=20):
    """Sends PAYLOAD on a new connection and reads it back; the bytes that came back."""
    with connect(port, time.time() + deadline_seconds) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


# ---- --part many ----

def many_at_once(port, count, results, label):
    start = time.time()
    sockets = []
    try:
        for _ in range(count):
            # Ramped: QEMU's slirp listens with a backlog of 1 and accepts from its main loop; a SYN
            # that finds the host's accept queue full waits for the 1 s retransmission. 50 ms apart
            # keeps up (about 20 per second).
            time.sleep(0.05)
            sockets.append(connect(port, time.time() + 30))
    except OSError as error:
        results[label] = f"connection {len(sockets)}: {error}"
        return
    ramp = time.time() - start
    payloads = [random.Random(i).randbytes(4096) for i in range(count)]
    for s, payload in zip(sockets, payloads):
        s.sendall(payload)
    received = [bytearray() for _ in sockets]
    selector = selectors.DefaultSelector()
    for i, s in enumerate(sockets):
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ, i)
    pending = count
    end = time.time() + 60
    while pending and time.time() < end:
        for key, _ in selector.select(timeout=1):
            i = key.data
            try:
                chunk = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError as error:
                chunk = b""
                received[i] += f"<{error}>".encode()
            received[i] += chunk
            if not chunk or len(received[i]) >= 4096:
                selector.unregister(key.fileobj)
                pending -= 1
    intact = sum(1 for r, p in zip(received, payloads) if bytes(r) == p)
    for s in sockets:
        s.close()
    results[label] = (intact, ramp, time.time() - start)


def part_many(guest):
    count = options.connections
    if not (guest.start_server("", 80) and guest.start_server("--async", 81)):
        check(False, "the echo servers started")
        return
    # One server after the other: 2 x 256 live connections would take all of lwIP's 512 TCP control
    # blocks (kernel/net/lwip/lwipopts.h), and lwIP then resets the oldest idle one for a new one.
    results = {}
    for p, label in ((80, "threads"), (81, "coroutines")):
        many_at_once(guest.port(p), count, results, label)
        r = results.get(label)
        if isinstance(r, tuple):
            check(r[0] == count, f"{count} connections open at once to the {label} echo-server, {r[0]} echoed their "
                                 f"4 KiB intact (opened in {r[1]:.1f} s, all done in {r[2]:.1f} s)")
        else:
            check(False, f"{count} connections to the {label} echo-server: {r}")
    # Both servers still serve afterwards.
    for p in (80, 81):
        check(echo_once(guest.port(p), b"after") == b"after", f"port {p} still echoes after the {count} connections")
    errors = re.findall(r"echo-server: (?:read|write|accept).*", guest.text())
    check(not errors, f"no connection ended with an error in the guest ({errors[:3]})")
    check("threads busy" not in guest.text(), "the threaded server never ran out of threads")


# ---- --part cases ----

def reset_count(guest):
    return len(re.findall(r"echo-server: (read|write): -104\b", guest.text()))


def case_host_closes(guest):
    for p, label in ((80, "threads"), (81, "coroutines")):
        s = connect(guest.port(p), time.time() + 20)
        s.sendall(b"x" * 1000)
        got = b""
        while len(got) < 1000:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()  # FIN: the server reads end of file and closes
        check(got == b"x" * 1000, f"host closes ({label}): 1000 bytes echoed before the host's close")
        check(echo_once(guest.port(p), b"again") == b"again", f"host closes ({label}): the server serves the next one")


def case_guest_closes(guest):
    for p, label in ((82, "threads"), (83, "coroutines")):
        payload = random.Random(p).randbytes(3000)
        with connect(guest.port(p), time.time() + 20) as s:
            s.sendall(payload)
            got = b""
            end_of_file = False
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        end_of_file = True
                        break
                    got += chunk
            except OSError as error:
                got += f"<{error}>".encode()
        check(got == payload and end_of_file,
              f"guest closes ({label}, --close-after 3000): 3000 bytes back, then end of file (got {len(got)})")


def case_reset_by_host(guest):
    for p, label in ((80, "threads"), (81, "coroutines")):
        before = reset_count(guest)
        s = connect(guest.port(p), time.time() + 20)
        s.sendall(b"abc")
        check(s.recv(16) == b"abc", f"reset by the host ({label}): echo before the reset")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
        end = time.time() + 15
        while reset_count(guest) <= before and time.time() < end:
            time.sleep(0.1)
        check(reset_count(guest) == before + 1, f"reset by the host ({label}): the guest server's read gave ECONNRESET (-104)")
        check(echo_once(guest.port(p), b"still here") == b"still here", f"reset by the host ({label}): the server goes on")
    # The same while the guest writes (echo-server --source): its next write fails.
    for p, label in ((89, "threads"), (90, "coroutines")):
        before = len(re.findall(r"echo-server: write: -\d+", guest.text()))
        s = connect(guest.port(p), time.time() + 20)
        got = 0
        while got < 100000:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST while the guest is sending
        end = time.time() + 15
        while len(re.findall(r"echo-server: write: -\d+", guest.text())) <= before and time.time() < end:
            time.sleep(0.1)
        errors = re.findall(r"echo-server: write: (-\d+)", guest.text())[before:]
        # ECONNRESET, also when the reset came while a write had queued part of its bytes: that write
        # returns its count and the error is kept for the next call, as Linux does
        # (kernel/file/socket.cpp, send_to). docs/network.md, "From the host".
        check(errors[:1] == ["-104"], f"reset by the host ({label}, --source): the guest server's write failed "
                                      f"with ECONNRESET after {got} bytes (got {errors[:1]})")
        with connect(guest.port(p), time.time() + 20) as again:
            check(len(again.recv(65536)) > 0, f"reset by the host ({label}, --source): the server goes on")


def case_nothing_listens(guest):
    # QEMU's slirp accepts the host's connection itself, then tries the guest, whose stack answers the
    # SYN with a reset: slirp then closes the host's socket. The host sees a successful connect, then
    # end of file (a close, not a reset), and a later send fails with EPIPE.
    s = connect(guest.port(86), time.time() + 20)
    s.settimeout(15)
    try:
        got = s.recv(16)
        outcome = "eof" if got == b"" else f"data {got!r}"
    except ConnectionResetError:
        outcome = "reset"
    except OSError as error:
        outcome = f"error {error}"
    check(outcome == "eof", f"a forwarded port where nothing listens: the host's connect succeeds, then end of file (got {outcome})")
    broken = False
    for _ in range(20):
        try:
            s.sendall(b"x")
        except (BrokenPipeError, ConnectionResetError):
            broken = True
            break
        time.sleep(0.1)
    check(broken, "a forwarded port where nothing listens: a send after the end of file fails (EPIPE or ECONNRESET)")
    s.close()


def case_udp(guest):
    for p, label in ((84, "sync"), (85, "async")):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(1)
        sizes = [1, 2, 64, 512, 1000, 1472, 1473, 4000, 8192] + [random.Random(i).randint(1, 1472) for i in range(40)]
        answered, retries = 0, 0
        for i, size in enumerate(sizes):
            datagram = bytes([i & 0xFF]) + random.Random(1000 + i).randbytes(size - 1)
            for attempt in range(3):
                u.sendto(datagram, ("127.0.0.1", guest.port(p, "udp")))
                matched = False
                end = time.time() + 1
                while not matched and time.time() < end:  # a late reply to an earlier one is skipped
                    try:
                        matched = u.recv(70000) == datagram
                    except socket.timeout:
                        break
                if matched:
                    answered += 1
                    break
                retries += 1
        u.close()
        check(answered == len(sizes), f"UDP echo ({label}): {answered} of {len(sizes)} datagrams of 1..8192 bytes came "
                                      f"back intact ({retries} resent after 1 s)")


def nettest_pattern(size):
    """user/programs/nettest.cpp's pattern(offset) for offsets 0..size-1."""
    return bytes((i * 131 + (i >> 9) * 7 + (i >> 17)) & 0xFF for i in range(size))


def case_guest_client(guest):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(30)
    port = listener.getsockname()[1]
    guest.type(f"nc 10.0.2.2 {port}")
    try:
        connection, _ = listener.accept()
    except socket.timeout:
        check(False, "guest as client: nc's connection to 10.0.2.2 reached the host's listener")
        listener.close()
        return
    connection.settimeout(20)
    token = random.Random().randint(10**8, 10**9)
    mark = len(guest.text())
    guest.type(f"guest says {token}")
    line = b""
    try:
        while not line.endswith(b"\n"):
            chunk = connection.recv(256)
            if not chunk:
                break
            line += chunk
    except socket.timeout:
        pass
    check(line == f"guest says {token}\n".encode(), f"guest as client: the host received the guest's line ({line!r})")
    connection.sendall(f"host answers {token * 3}\n".encode())
    connection.close()
    listener.close()
    check(guest.wait_for(rf"host answers {token * 3}\r?\n", 20, since=mark) is not None,
          "guest as client: the guest printed the host's reply")
    check(guest.wait_for(r"nc: closed by the peer", 20, since=mark) is not None,
          "guest as client: nc saw the host's close and ended")
    # Bulk, both directions: nettest client sends 1 MiB of its pattern, the host checks it and sends
    # 1 MiB back (the pattern ^ 0x5a), nettest checks that.
    size = 1 << 20
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(30)
    port = listener.getsockname()[1]
    guest.type(f"nettest client 10.0.2.2 {port} {size}")
    try:
        connection, _ = listener.accept()
        connection.settimeout(60)
        received = bytearray()
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        expected = nettest_pattern(size)
        check(received == expected, f"guest as client: the host received nettest's 1 MiB intact ({len(received)} bytes)")
        connection.sendall(bytes(b ^ 0x5A for b in expected))
        connection.close()
    except OSError as error:
        check(False, f"guest as client: 1 MiB from nettest: {error}")
    listener.close()
    check(guest.wait_for(rf"nettest: client ok: sent {size} bytes, received {size} \(0 wrong\)", 60) is not None,
          "guest as client: nettest received the host's 1 MiB intact")
    # A closed port on the host: QEMU's connect to 127.0.0.1 is refused, and the guest gets a reset.
    closed = free_port()
    guest.type(f"nc 10.0.2.2 {closed}")
    check(guest.wait_for(rf"nc: connect to 10.0.2.2 port {closed}: -111", 30) is not None,
          "guest as client: connect to a closed host port gives ECONNREFUSED (-111)")


def stream_until_cut(port, count):
    """COUNT connections writing and reading; returns once every one has ended (how many ended)."""
    sockets = [connect(port, time.time() + 20) for _ in range(count)]
    ended = [False] * count

    def pump(i, s):
        s.settimeout(30)
        block = b"k" * 16384
        try:
            while True:  # in step: a block out, the block back
                s.sendall(block)
                got = 0
                while got < len(block):
                    chunk = s.recv(65536)
                    if not chunk:
                        raise EOFError
                    got += len(chunk)
        except (OSError, EOFError):
            pass
        ended[i] = True

    threads = [threading.Thread(target=pump, args=(i, s), daemon=True) for i, s in enumerate(sockets)]
    for t in threads:
        t.start()
    return sockets, threads, ended


def kill_round(guest, label):
    """Starts a sync and an async server, streams through both, kills them mid-transfer."""
    ok = True
    for p, arguments in ((87, ""), (88, "--async")):
        pid = guest.start_server(arguments, p)
        if not pid:
            return check(False, f"{label}: echo-server {arguments} {p} started")
        sockets, threads, ended = stream_until_cut(guest.port(p), 8)
        time.sleep(1.0)  # mid-transfer
        flowing = not any(ended)
        guest.type(f"kill {pid}")
        for t in threads:
            t.join(timeout=20)
        for s in sockets:
            s.close()
        ok &= check(flowing and all(ended),
                    f"{label}: 8 streams to echo-server {arguments} {p}, killed mid-transfer: every host connection ended".replace("  ", " "))
    return ok


def part_cases(guest):
    servers = [("", 80), ("--async", 81), ("--close-after 3000", 82), ("--async --close-after 3000", 83),
               ("--udp", 84), ("--async --udp", 85), ("--source", 89), ("--async --source", 90)]
    for arguments, port in servers:
        if not guest.start_server(arguments, port):
            check(False, f"echo-server {arguments} {port} started")
            return
    case_host_closes(guest)
    case_guest_closes(guest)
    case_reset_by_host(guest)
    case_nothing_listens(guest)
    case_udp(guest)
    case_guest_client(guest)

    # A server killed mid-transfer frees its sockets: after a first round (which fills the kernel's
    # caches: heap slabs, process records), the figures; after a second round, the same figures.
    kill_round(guest, "kill (warm-up)")
    time.sleep(1)
    before = guest.kstat()
    kill_round(guest, "kill")
    watched = ("free-frames", "heap-bytes", "sockets", "processes", "pool-pbufs")
    after = None
    end = time.time() + 30
    while time.time() < end:  # the shell reaps the killed servers; their sockets close
        after = guest.kstat()
        if before and after and all(after[k] == before[k] for k in watched):
            break
        time.sleep(0.5)
    describe = lambda k: f"{k} {before.get(k) if before else '?'} -> {after.get(k) if after else '?'}"
    check(bool(before and after and all(after[k] == before[k] for k in watched)),
          "servers killed mid-transfer: kernel figures back to before (" + ", ".join(describe(k) for k in watched) +
          "; not compared: " + ", ".join(describe(k) for k in ("tcp-pcbs", "udp-pcbs", "lwip-heap-bytes")) +
          ", TIME_WAIT control blocks stay 2 MSL)")


def main():
    forwards = [("tcp", 80), ("tcp", 81)]
    if options.part == "cases":
        forwards += [("tcp", 82), ("tcp", 83), ("udp", 84), ("udp", 85), ("tcp", 86), ("tcp", 87), ("tcp", 88),
                     ("tcp", 89), ("tcp", 90)]
    guest = Guest(options.name, options.smp, options.kernel, options.log_dir, options.timeout, forwards, check)
    watchdog = threading.Timer(options.timeout + 20, lambda: os.killpg(guest.qemu.pid, signal.SIGKILL))
    watchdog.daemon = True
    watchdog.start()
    try:
        if guest.wait_for("cokernel shell", 60, since=0) and guest.wait_for(r"net: en: 10\.0\.2\.15", 30, since=0):
            (part_many if options.part == "many" else part_cases)(guest)
        else:
            check(False, "the guest booted and got its address by DHCP")
    except Exception as error:  # a socket timeout, a refused connection: a failure, QEMU still powered off
        check(False, f"unexpected {type(error).__name__}: {error}")
    finally:
        guest.halt()
        watchdog.cancel()
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 0 if not failed else 1


sys.exit(main())
