#!/usr/bin/env python3
"""The TcpServer's HTTP mode from a plain HTTP client (python's http.client), on 127.0.0.1:PORT:
GET /matrix?n=N&seed=S twice on one keep-alive connection, bodies checked against A x A with
A[i][j] = (S*31 + i*7 + j*13) % 100; the default seed (1); GET / (a status page naming the model);
a 404; and `Connection: close` honoured (the server closes after its reply). Prints one line per
check, `http-check: ok` at the end; exits non-zero on any failure.

    http_check.py PORT"""
import http.client
import socket
import sys

port = int(sys.argv[1])
failures = []


def expected_body(n, seed):
    a = [[(seed * 31 + i * 7 + j * 13) % 100 for j in range(n)] for i in range(n)]
    c = [[sum(a[i][k] * a[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    return "".join(" ".join(str(v) for v in row) + "\n" for row in c)


def check(what, condition, detail=""):
    print(f"http-check: {what}: {'ok' if condition else 'FAILED ' + detail}")
    if not condition:
        failures.append(what)


connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for n, seed in ((3, 2), (20, 7)):
    connection.request("GET", f"/matrix?n={n}&seed={seed}")
    response = connection.getresponse()
    body = response.read().decode()
    check(f"GET /matrix?n={n}&seed={seed} (keep-alive)", response.status == 200 and body.strip() == expected_body(n, seed).strip()
          and response.getheader("Content-Type", "").startswith("text/plain")
          and int(response.getheader("Content-Length", "-1")) == len(body.encode()),
          f"status {response.status}, headers {response.getheaders()}, body {body[:120]!r}")
connection.request("GET", "/matrix?n=5")
response = connection.getresponse()
body = response.read().decode()
check("GET /matrix?n=5 (seed 1 by default)", response.status == 200 and body.strip() == expected_body(5, 1).strip(),
      f"status {response.status}, body {body[:120]!r}")
connection.request("GET", "/")
response = connection.getresponse()
body = response.read().decode()
check("GET / (status page)", response.status == 200 and "model" in body, f"status {response.status}, body {body[:200]!r}")
connection.request("GET", "/no/such/page")
response = connection.getresponse()
response.read()
check("GET /no/such/page is 404", response.status == 404, f"status {response.status}")
connection.request("GET", "/matrix?n=65")
response = connection.getresponse()
response.read()
check("GET /matrix?n=65 is refused", response.status != 200, f"status {response.status}")
connection.close()

# Connection: close: the reply, then the server closes its side.
raw = socket.create_connection(("127.0.0.1", port), timeout=30)
raw.sendall(b"GET /matrix?n=2&seed=3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
received = b""
try:
    while True:
        chunk = raw.recv(65536)
        if not chunk:
            break
        received += chunk
    closed = True
except socket.timeout:
    closed = False
raw.close()
check("Connection: close is honoured", closed and received.startswith(b"HTTP/1.1 200")
      and received.endswith(expected_body(2, 3).encode()), f"closed {closed}, got {received[:200]!r}")

if failures:
    sys.exit(1)
print("http-check: ok")
