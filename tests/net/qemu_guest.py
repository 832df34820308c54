"""The guest in QEMU for the host-side network tests and benchmarks (tests/net/host_net_test.py,
tests/net/bench_net.py): boots QEMU virt through scripts/qemu-run on QEMU's user network with free
host ports of 127.0.0.1 forwarded to guest ports, types lines at the guest's shell and waits for its
output in the log. Every wait has a deadline; `halt` powers the guest off (or QEMU is killed)."""
import os
import re
import signal
import socket
import subprocess
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Guest:
    """QEMU with the shell on its console: type lines, wait for output in the log."""

    def __init__(self, name, smp, kernel, log_dir, timeout, forwards, check):
        """FORWARDS: (proto, guest port) pairs, each given a free host port; CHECK(condition, what)
        records the clean power-off at halt()."""
        os.makedirs(log_dir, exist_ok=True)
        self.log_path = os.path.join(log_dir, name + ".log")
        self.check = check
        self.ports = {}  # (proto, guest port) -> host port
        arguments = [os.path.join(ROOT, "scripts", "qemu-run"), "--machine", "virt", "--smp", str(smp)]
        for proto, guest_port in forwards:
            host_port = free_port()
            self.ports[(proto, guest_port)] = host_port
            arguments += ["--hostfwd", f"{proto}:127.0.0.1:{host_port}-:{guest_port}"]
        arguments += ["--kernel", kernel, "--", ""]
        with open(self.log_path, "w") as log:
            log.write("host_net_test: " + " ".join(f"{p} host {h} -> guest {g}" for (p, g), h in self.ports.items()) + "\n")
        self.log = open(self.log_path, "ab")
        self.qemu = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.deadline = time.time() + timeout
        self.mark = 0

    def port(self, guest_port, proto="tcp"):
        return self.ports[(proto, guest_port)]

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def type(self, line):
        self.mark = len(self.text())
        self.qemu.stdin.write((line + "\n").encode())
        self.qemu.stdin.flush()

    def wait_for(self, pattern, seconds=30, since=None):
        """The first match of PATTERN in the log after `since` (default: the last typed line), or None."""
        start = self.mark if since is None else since
        end = min(time.time() + seconds, self.deadline)
        while True:
            match = re.compile(pattern).search(self.text(), start)
            if match:
                return match
            if time.time() > end or self.qemu.poll() is not None:
                print(f"qemu-guest: never saw '{pattern}' in {seconds} s (log: {self.log_path})", flush=True)
                return None
            time.sleep(0.1)

    def start_server(self, arguments, port):
        """Starts `echo-server ARGUMENTS PORT &` and returns its pid once it listens (or None). The
        pid comes from the server's own line: the shell's "[pid] ..." may be cut by the server's."""
        self.type(f"echo-server {arguments} {port} &".replace("  ", " "))
        listening = self.wait_for(rf"listening on {port}\b[^\n]*\(pid (\d+)\)")
        return int(listening.group(1)) if listening else None

    def kstat(self):
        self.type("kstat")
        m = self.wait_for(r"kstat: (.*)\n", 20)
        if not m:
            return None
        words = m.group(1).split()
        return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}

    def halt(self):
        try:
            self.type("halt")
            self.qemu.wait(timeout=30)
        except (subprocess.TimeoutExpired, OSError):
            os.killpg(self.qemu.pid, signal.SIGKILL)
            self.qemu.wait()
        log = self.text()
        self.check("power off requested" in log, "QEMU powered off cleanly")
        self.check(not re.search(r"PANIC|unexpected trap|lwip: assertion", log), "no panic, trap or lwIP assertion")
