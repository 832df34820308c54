#!/usr/bin/env python3
"""A plain HTTP client (Python's http.client) against the guest's tcpserver
(tests/qemu/host-tcpserver-http-test): traffic only to 127.0.0.1, to a port QEMU forwards.

    http_client.py PORT

On one keep-alive connection: GET /matrix?n=N&seed=S for a few N and S (the body checked against the
product computed here), GET /matrix with a bad n (400), GET / (the status page), GET /nothing (404);
then GET /matrix?n=20 with Connection: close, after which the server must close. Prints one line
per check and exits non-zero on any failure."""
import http.client
import sys

port = int(sys.argv[1])
failures = []


def expected_body(n, seed):
    a = [[(seed * 31 + i * 7 + j * 13) % 100 for j in range(n)] for i in range(n)]
    rows = []
    for i in range(n):
        rows.append(" ".join(str(sum(a[i][k] * a[k][j] for k in range(n))) for j in range(n)))
    return ("\n".join(rows) + "\n").encode()


def check(what, condition):
    print(f"http-client: {what}: {'ok' if condition else 'FAILED'}")
    if not condition:
        failures.append(what)


connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for n, seed in ((1, 1), (3, 5), (20, 7), (64, 12345678901234567)):
    connection.request("GET", f"/matrix?n={n}&seed={seed}")
    response = connection.getresponse()
    body = response.read()
    check(f"GET /matrix?n={n}&seed={seed}", response.status == 200 and body == expected_body(n, seed)
          and response.getheader("Content-Type") == "text/plain" and not response.will_close)
connection.request("GET", "/matrix?n=20")
response = connection.getresponse()
check("GET /matrix?n=20 (seed 1 by default)", response.status == 200 and response.read() == expected_body(20, 1))
connection.request("GET", "/matrix?n=65")
response = connection.getresponse()
response.read()
check("GET /matrix?n=65 is 400", response.status == 400)
connection.request("GET", "/")
response = connection.getresponse()
body = response.read()
check("GET / status page", response.status == 200 and body.startswith(b"tcpserver\nmodel ") and b"requests served" in body)
connection.request("GET", "/nothing")
response = connection.getresponse()
response.read()
check("GET /nothing is 404", response.status == 404)
connection.request("GET", "/matrix?n=20&seed=3", headers={"Connection": "close"})
response = connection.getresponse()
body = response.read()
check("Connection: close honoured", response.status == 200 and body == expected_body(20, 3) and response.will_close)
sock = connection.sock
closed = sock is None or sock.recv(1) == b""
check("server closed the connection", closed)
connection.close()
if failures:
    print(f"http-client: {len(failures)} failed")
    sys.exit(1)
print("http-client: all answered")
