#!/usr/bin/env python3
"""The network's figures from the host (make bench-net, scripts/bench-net; docs/network.md,
"Measured"): for the threaded echo-server (synchronous calls) and echo-server --async (coroutines,
asynchronous calls), side by side in one boot, on 1 and 4 harts:

  host->guest   one TCP stream of 32 MiB into echo-server --discard; MB/s from the first byte to the
                guest's count (which must be 32 MiB)
  guest->host   one TCP stream from echo-server --source, 32 MiB read by the host; MB/s
  rtt           a 1-byte echo on one connection (TCP_NODELAY on both sides' hosts), 2000 round trips
                after 100 of warm-up; the median and the 99th percentile, in microseconds
  connect       connections per second: connect, a 1-byte echo, close, one after the other, 100 of them

Wall-clock figures through QEMU's user network (slirp) on a shared machine: they move with the load.
Each throughput is the median of 3 runs. Traffic only to 127.0.0.1.

    bench_net.py --kernel FILE --out-dir DIR [--smp 1,4] [--quick]

Writes DIR/bench-net.csv (harts,model,metric,value,unit) and DIR/bench-net.log, prints a table."""
import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

from qemu_guest import Guest

parser = argparse.ArgumentParser()
parser.add_argument("--kernel", required=True)
parser.add_argument("--out-dir", required=True)
parser.add_argument("--smp", default="1,4")
parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of the benchmark)")
options = parser.parse_args()

STREAM_BYTES = (4 if options.quick else 32) << 20
ROUND_TRIPS = 200 if options.quick else 2000
CONNECTIONS = 20 if options.quick else 100
RUNS = 1 if options.quick else 3
MODELS = (("threads", ""), ("coroutines", "--async"))
# Guest ports: echo, discard, source for each model.
PORTS = {"threads": (80, 82, 84), "coroutines": (81, 83, 85)}

problems = []


def check(condition, what):
    if not condition:
        problems.append(what)
        print(f"bench-net: FAILED {what}", flush=True)
    return condition


def connect(port):
    deadline = time.time() + 20
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.settimeout(60)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def host_to_guest(port):
    block = b"\x5a" * 65536
    s = connect(port)
    start = time.perf_counter()
    for _ in range(STREAM_BYTES // len(block)):
        s.sendall(block)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(64)
        if not chunk:
            break
        reply += chunk
    elapsed = time.perf_counter() - start
    s.close()
    check(reply.strip() == str(STREAM_BYTES).encode(), f"the guest counted {reply.strip()!r} of {STREAM_BYTES} bytes")
    return STREAM_BYTES / elapsed / 1e6


def guest_to_host(port):
    s = connect(port)
    start = time.perf_counter()
    got = 0
    while got < STREAM_BYTES:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    elapsed = time.perf_counter() - start
    s.close()
    check(got >= STREAM_BYTES, f"the guest sent {got} of {STREAM_BYTES} bytes")
    return STREAM_BYTES / elapsed / 1e6


def round_trips(port):
    s = connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples = []
    for i in range(100 + ROUND_TRIPS):
        start = time.perf_counter()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            check(False, "1-byte echo")
            break
        if i >= 100:
            samples.append((time.perf_counter() - start) * 1e6)
    s.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def connections_per_second(port):
    start = time.perf_counter()
    for _ in range(CONNECTIONS):
        with connect(port) as s:
            s.sendall(b"c")
            check(s.recv(1) == b"c", "echo on a new connection")
    return CONNECTIONS / (time.perf_counter() - start)


def measure(smp, log_dir):
    forwards = [("tcp", p) for ports in PORTS.values() for p in ports]
    guest = Guest(f"bench-net-smp{smp}", smp, options.kernel, log_dir, 900, forwards, check)
    rows = []
    try:
        if not (guest.wait_for("cokernel shell", 60, since=0) and guest.wait_for(r"net: en: 10\.0\.2\.15", 30, since=0)):
            check(False, "the guest booted and got its address")
            return rows
        for model, flag in MODELS:
            echo, discard, source = PORTS[model]
            for arguments, port in ((flag, echo), (f"{flag} --discard", discard), (f"{flag} --source", source)):
                if not guest.start_server(arguments.strip(), port):
                    check(False, f"echo-server {arguments} {port} started")
                    return rows
        # Interleaved, model after model, so that both see the same machine load.
        results = {model: {"in": [], "out": []} for model, _ in MODELS}
        for _ in range(RUNS):
            for model, _ in MODELS:
                echo, discard, source = PORTS[model]
                results[model]["in"].append(host_to_guest(guest.port(discard)))
                results[model]["out"].append(guest_to_host(guest.port(source)))
        for model, _ in MODELS:
            echo, discard, source = PORTS[model]
            median, p99 = round_trips(guest.port(echo))
            rate = connections_per_second(guest.port(echo))
            rows += [(smp, model, "host_to_guest", statistics.median(results[model]["in"]), "MB/s"),
                     (smp, model, "guest_to_host", statistics.median(results[model]["out"]), "MB/s"),
                     (smp, model, "rtt_median", median, "us"),
                     (smp, model, "rtt_p99", p99, "us"),
                     (smp, model, "connections", rate, "per s")]
    finally:
        guest.halt()
    return rows


def host_cpu():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    os.makedirs(options.out_dir, exist_ok=True)
    qemu = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    rows = []
    for smp in options.smp.split(","):
        rows += measure(int(smp), options.out_dir)
    with open(os.path.join(options.out_dir, "bench-net.csv"), "w") as csv:
        csv.write("harts,model,metric,value,unit\n")
        for r in rows:
            csv.write(f"{r[0]},{r[1]},{r[2]},{r[3]:.1f},{r[4]}\n")
    print(f"bench-net: host CPU {host_cpu()} ({os.cpu_count()} cores), {qemu}, QEMU user network (slirp)")
    print("bench-net: wall-clock figures on a shared machine; ratio = coroutines / threads")
    print(f"{'harts':>5}  {'metric':<14} {'unit':<6} {'threads':>10} {'coroutines':>11} {'ratio':>6}")
    table = {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}
    for smp in options.smp.split(","):
        for metric in ("host_to_guest", "guest_to_host", "rtt_median", "rtt_p99", "connections"):
            t, c = table.get((int(smp), "threads", metric)), table.get((int(smp), "coroutines", metric))
            if t and c:
                print(f"{smp:>5}  {metric:<14} {t[1]:<6} {t[0]:>10.1f} {c[0]:>11.1f} {c[0] / t[0]:>6.2f}")
    print(f"bench-net: {os.path.join(options.out_dir, 'bench-net.csv')}")
    if problems:
        print(f"bench-net: {len(problems)} problem(s): " + "; ".join(problems))
    return 1 if problems else 0


sys.exit(main())
