// tcpserver --selftest: a client of every model inside the guest, over 127.0.0.1. For each model it
// starts bin/tcpserver as a child process, then
//   - 8 connections (threads), 40 requests each, n = 1 and 20 alternately, two requests in flight and
//     written in uneven pieces, every reply checked against a product computed here; the level is
//     checked too (i mod L for the run with --priorities);
//   - malformed requests, each on its own connection: an E reply, then end of file;
//   - HTTP/1.1 on one connection: two pipelined GETs of /matrix (body checked), GET /, then a 404
//     with Connection: close (end of file after it);
// and kills the server. Prints "tcpserver: selftest <model> parts <p> ok" per model and
// "tcpserver: selftest ok" at the end; exit status 0 only if everything passed.
#include "user/lib/format.hpp"
#include "user/lib/malloc.hpp"
#include "user/lib/net.hpp"
#include "user/programs/tcpserver/server.hpp"

namespace tcpserver {

namespace abi = cokernel::abi;

namespace {

constexpr uint32_t ClientConnections = 8;
constexpr uint32_t RequestsPerConnection = 40;
constexpr size_t ClientStackBytes = 64 * 1024;
constexpr size_t ClientBufferBytes = 64 * 1024;

struct Run {
    const char* program;
    const char* model;
    const char* parts;
    const char* threads; // null for the thread model
    const char* priorities; // null: none
    uint32_t levels;
};

const Run runs[] = {
    {"bin/tcpserver", "thread", "1", nullptr, nullptr, 0},
    {"bin/tcpserver", "thread", "3", nullptr, nullptr, 0},
    {"bin/tcpserver", "coroutine", "1", "2", nullptr, 0},
    {"bin/tcpserver", "coroutine", "3", "2", nullptr, 0},
    {"bin/tcpserver", "coroutine", "1", "1", "4", 4},
    // 4 call slots for 8 connections and the accept loop: submissions are refused and retried.
    {"bin/tcpserver-fewslots", "coroutine", "1", "2", nullptr, 0},
    {"bin/tcpserver-fewslots", "coroutine", "3", "2", nullptr, 0},
};

void sleep_ms(long ms) {
    abi::Timespec time{ms / 1000, (ms % 1000) * 1000000};
    user::nanosleep(&time);
}

// A connection to 127.0.0.1:port; retries while nobody listens yet (up to ~10 s). -errno on failure.
int connect_to(uint16_t port) {
    for (int attempt = 0;; ++attempt) {
        int fd = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketStream | abi::SocketCloseOnExec));
        if (fd < 0) return fd;
        user::SocketAddressIn address = user::loopback(port);
        long r = user::connect(fd, &address, sizeof(address));
        if (r == 0) return fd;
        user::close(fd);
        if (r != -ECONNREFUSED || attempt >= 500) return static_cast<int>(r);
        sleep_ms(20);
    }
}

// A small deterministic generator (xorshift).
struct Random {
    uint64_t state;
    uint32_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return static_cast<uint32_t>(state >> 11);
    }
};

// Reads from fd into buffer until it holds at least `lines` newlines (returns the bytes held), or
// end of file/error (returns what it holds, or -1 if the buffer fills).
long read_lines(int fd, char* buffer, size_t& held, uint32_t lines) {
    for (;;) {
        uint32_t seen = 0;
        for (size_t i = 0; i < held; ++i)
            if (buffer[i] == '\n' && ++seen == lines) return static_cast<long>(held);
        if (held == ClientBufferBytes) return -1;
        long n = user::read(fd, buffer + held, ClientBufferBytes - held);
        if (n <= 0) return static_cast<long>(held);
        held += static_cast<size_t>(n);
    }
}

// One decimal number at p (advancing it); false if none.
bool read_number(const char*& p, const char* end, uint64_t& out) {
    if (p >= end || *p < '0' || *p > '9') return false;
    uint64_t value = 0;
    while (p < end && *p >= '0' && *p <= '9') value = value * 10 + static_cast<uint64_t>(*p++ - '0');
    out = value;
    return true;
}

struct Client {
    int fd = -1;
    uint32_t index = 0;
    uint32_t expected_level = 0;
    int tid_word = 0;
    uintptr_t stack = 0;
    bool ok = false;
    const char* failure = "did not run";
    uint32_t replies = 0;
};

struct Request {
    uint64_t id;
    uint32_t n;
    uint8_t a[20 * 20];
};

// The request's text at out; returns its length.
size_t format_request(const Request& request, char* out) {
    size_t length = format_decimal(request.id, out);
    out[length++] = ' ';
    length += format_decimal(request.n, out + length);
    for (uint32_t i = 0; i < request.n * request.n; ++i) {
        out[length++] = ' ';
        length += format_decimal(request.a[i], out + length);
    }
    out[length++] = '\n';
    return length;
}

// Checks one reply line [p, end) against the request: id, level, the product (computed here, the
// plain triple loop, independently of the server's code).
bool check_reply(const Request& request, uint32_t level, const char* p, const char* end) {
    uint64_t id = 0, got_level = 0, value = 0;
    if (!read_number(p, end, id) || id != request.id || p >= end || *p++ != ' ') return false;
    if (!read_number(p, end, got_level) || got_level != level) return false;
    const uint32_t n = request.n;
    for (uint32_t i = 0; i < n; ++i)
        for (uint32_t j = 0; j < n; ++j) {
            uint64_t expected = 0;
            for (uint32_t k = 0; k < n; ++k) expected += uint64_t{request.a[i * n + k]} * request.a[k * n + j];
            if (p >= end || *p++ != ' ' || !read_number(p, end, value) || value != expected) return false;
        }
    return p == end;
}

int client_thread(void* argument) {
    auto* client = static_cast<Client*>(argument);
    char* buffer = static_cast<char*>(user::malloc(ClientBufferBytes));
    char* text = static_cast<char*>(user::malloc(8192));
    Random random{0x9e3779b97f4a7c15ull ^ (uint64_t{client->index} << 32) ^ client->index};
    client->failure = nullptr;
    if (buffer == nullptr || text == nullptr) client->failure = "no memory";
    Request requests[2];
    for (uint32_t sent = 0; client->failure == nullptr && sent < RequestsPerConnection; sent += 2) {
        // Two requests in flight: n = 1 and n = 20, written as one stream in three uneven pieces.
        size_t length = 0;
        for (uint32_t r = 0; r < 2; ++r) {
            Request& request = requests[r];
            request.id = (uint64_t{client->index} << 40) + sent + r + 1;
            request.n = r == 0 ? 1 : 20;
            for (uint32_t i = 0; i < request.n * request.n; ++i) request.a[i] = static_cast<uint8_t>(random.next() % 100);
            length += format_request(request, text + length);
        }
        const size_t cut1 = 1 + random.next() % (length / 3);
        const size_t cut2 = cut1 + 1 + random.next() % (length / 3);
        if (user::write_all(client->fd, text, static_cast<long>(cut1)) != static_cast<long>(cut1) ||
            user::write_all(client->fd, text + cut1, static_cast<long>(cut2 - cut1)) != static_cast<long>(cut2 - cut1) ||
            user::write_all(client->fd, text + cut2, static_cast<long>(length - cut2)) != static_cast<long>(length - cut2)) {
            client->failure = "write failed";
            break;
        }
        size_t held = 0;
        if (read_lines(client->fd, buffer, held, 2) < 0) {
            client->failure = "reply too long";
            break;
        }
        const char* p = buffer;
        const char* end = buffer + held;
        for (uint32_t r = 0; r < 2 && client->failure == nullptr; ++r) {
            const char* line_end = static_cast<const char*>(__builtin_memchr(p, '\n', static_cast<size_t>(end - p)));
            if (line_end == nullptr) client->failure = "connection ended before the reply";
            else if (!check_reply(requests[r], client->expected_level, p, line_end)) client->failure = "wrong reply";
            else ++client->replies;
            if (line_end) p = line_end + 1;
        }
        if (client->failure == nullptr && p != end) client->failure = "bytes after the replies";
    }
    user::close(client->fd);
    user::free(buffer);
    user::free(text);
    client->ok = client->failure == nullptr;
    return 0;
}

bool check_matrix_clients(uint16_t port, uint32_t levels) {
    Client clients[ClientConnections];
    // Connected one after the other, so the server accepts them in this order (levels i mod L).
    for (uint32_t i = 0; i < ClientConnections; ++i) {
        clients[i].index = i;
        clients[i].expected_level = levels ? i % levels : 0;
        clients[i].fd = connect_to(port);
        if (clients[i].fd < 0) {
            user::println("tcpserver: selftest: connect to port {}: {}", port, clients[i].fd);
            return false;
        }
    }
    bool ok = true;
    for (Client& client : clients) {
        long stack = user::mmap(0, ClientStackBytes, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0 || user::spawn_thread(client_thread, &client, reinterpret_cast<void*>(stack + ClientStackBytes),
                                            &client.tid_word) <= 0) {
            user::println("tcpserver: selftest: cannot start client thread");
            return false; // the threads already started keep their stacks: the process ends soon
        }
        client.stack = static_cast<uintptr_t>(stack);
    }
    uint32_t replies = 0;
    for (Client& client : clients) {
        user::join_thread(&client.tid_word);
        user::munmap(client.stack, ClientStackBytes);
        replies += client.replies;
        if (!client.ok) {
            user::println("tcpserver: selftest: connection {}: {} after {} replies", client.index, client.failure,
                          client.replies);
            ok = false;
        }
    }
    user::println("tcpserver: selftest: {} replies checked on {} connections", replies, ClientConnections);
    return ok && replies == ClientConnections * RequestsPerConnection;
}

// Sends `text` on a new connection; expects "E <something>\n" and then end of file.
bool expect_error(uint16_t port, const char* text, size_t length, const char* what) {
    int fd = connect_to(port);
    if (fd < 0) return false;
    bool ok = user::write_all(fd, text, static_cast<long>(length)) == static_cast<long>(length);
    char reply[256];
    size_t held = 0;
    for (;;) {
        long n = user::read(fd, reply + held, sizeof(reply) - 1 - held);
        if (n <= 0) break;
        held += static_cast<size_t>(n);
        if (held == sizeof(reply) - 1) break;
    }
    reply[held] = 0;
    user::close(fd);
    ok = ok && held >= 3 && reply[0] == 'E' && reply[1] == ' ' && reply[held - 1] == '\n';
    if (!ok) user::println("tcpserver: selftest: {}: no E reply and end of file (got {} bytes: {})", what, held, reply);
    return ok;
}

bool check_errors(uint16_t port) {
    bool ok = true;
    auto send = [&](const char* text, const char* what) { ok = expect_error(port, text, __builtin_strlen(text), what) && ok; };
    send("x 1 1\n", "bad id");
    send("1 65 1\n", "n out of range");
    send("1 0\n", "n = 0");
    send("1 1 100\n", "value out of range");
    send("1 2 1 2 3\n", "too few values");
    send("1 1 5 6\n", "too many values");
    send("99999999999999999999999 1 1\n", "id overflow");
    send("1  1 1\n", "double space");
    // A line one byte longer than the longest allowed, without its newline: refused as too long
    // once it is all there (so the server has read everything and closes cleanly).
    const size_t long_length = MaxRequestLine + 2;
    char* text = static_cast<char*>(user::malloc(long_length));
    if (text == nullptr) return false;
    for (size_t i = 0; i < long_length; ++i) text[i] = '1';
    ok = expect_error(port, text, long_length, "line too long") && ok;
    user::free(text);
    return ok;
}

// Reads one HTTP response (head and Content-Length body) from fd, buffering in `buffer`/`held`.
// Returns the status code (0 on a malformed response), the body in [body, body + body_length).
int read_http_response(int fd, char* buffer, size_t& held, const char*& body, size_t& body_length, bool& closes) {
    for (;;) {
        const char* head_end = nullptr;
        for (size_t i = 0; i + 3 < held; ++i)
            if (__builtin_memcmp(buffer + i, "\r\n\r\n", 4) == 0) {
                head_end = buffer + i + 4;
                break;
            }
        if (head_end) {
            const char* p = buffer + 9; // "HTTP/1.1 "
            uint64_t status = 0, length = 0;
            if (held < 12 || __builtin_memcmp(buffer, "HTTP/1.1 ", 9) != 0 || !read_number(p, head_end, status)) return 0;
            const char* field = nullptr;
            for (const char* q = buffer; q + 16 < head_end; ++q)
                if (__builtin_memcmp(q, "Content-Length: ", 16) == 0) field = q + 16;
            if (field == nullptr || !read_number(field, head_end, length)) return 0;
            closes = false;
            for (const char* q = buffer; q + 17 < head_end; ++q)
                if (__builtin_memcmp(q, "Connection: close", 17) == 0) closes = true;
            const size_t whole = static_cast<size_t>(head_end - buffer) + length;
            while (held < whole) {
                long n = user::read(fd, buffer + held, ClientBufferBytes - held);
                if (n <= 0) return 0;
                held += static_cast<size_t>(n);
            }
            body = head_end;
            body_length = length;
            return static_cast<int>(status);
        }
        if (held == ClientBufferBytes) return 0;
        long n = user::read(fd, buffer + held, ClientBufferBytes - held);
        if (n <= 0) return 0;
        held += static_cast<size_t>(n);
    }
}

// Drops the first response (`used` bytes) from the buffer.
void drop(char* buffer, size_t& held, size_t used) {
    __builtin_memmove(buffer, buffer + used, held - used);
    held -= used;
}

// The expected body of GET /matrix?n=N&seed=S.
size_t expected_matrix_body(uint32_t n, uint64_t seed, char* out) {
    size_t length = 0;
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t j = 0; j < n; ++j) {
            uint64_t sum = 0;
            for (uint32_t k = 0; k < n; ++k)
                sum += uint64_t{http_matrix_entry(seed, i, k)} * http_matrix_entry(seed, k, j);
            if (j) out[length++] = ' ';
            length += format_decimal(sum, out + length);
        }
        out[length++] = '\n';
    }
    return length;
}

bool check_http(uint16_t port, uint64_t& refused) {
    int fd = connect_to(port);
    if (fd < 0) return false;
    char* buffer = static_cast<char*>(user::malloc(ClientBufferBytes));
    char* expected = static_cast<char*>(user::malloc(ClientBufferBytes));
    bool ok = buffer && expected;
    const char* failure = "no memory";
    // Two requests in one write (pipelined), then the status page, then a 404 that closes.
    const char* first = "GET /matrix?n=3&seed=5 HTTP/1.1\r\nHost: guest\r\n\r\nGET /matrix?seed=7&n=20 HTTP/1.1\r\n\r\n";
    if (ok && user::write_all(fd, first, static_cast<long>(__builtin_strlen(first))) < 0) ok = false, failure = "write";
    size_t held = 0;
    const uint32_t sizes[] = {3, 20};
    const uint64_t seeds[] = {5, 7};
    for (uint32_t r = 0; ok && r < 2; ++r) {
        const char* body = nullptr;
        size_t length = 0;
        bool closes = true;
        const int status = read_http_response(fd, buffer, held, body, length, closes);
        const size_t wanted = expected_matrix_body(sizes[r], seeds[r], expected);
        if (status != 200 || closes || length != wanted || __builtin_memcmp(body, expected, wanted) != 0)
            ok = false, failure = "GET /matrix";
        else drop(buffer, held, static_cast<size_t>(body + length - buffer));
    }
    const char* status_request = "GET / HTTP/1.1\r\n\r\n";
    if (ok && user::write_all(fd, status_request, static_cast<long>(__builtin_strlen(status_request))) < 0)
        ok = false, failure = "write";
    if (ok) {
        const char* body = nullptr;
        size_t length = 0;
        bool closes = true;
        const int status = read_http_response(fd, buffer, held, body, length, closes);
        if (status != 200 || closes || length < 9 || __builtin_memcmp(body, "tcpserver", 9) != 0) ok = false, failure = "GET /";
        const char* field = nullptr;
        for (const char* q = body; ok && q + 20 <= body + length; ++q)
            if (__builtin_memcmp(q, "refused submissions ", 20) == 0) field = q + 20;
        if (ok && (field == nullptr || !read_number(field, body + length, refused))) ok = false, failure = "GET / counters";
        if (ok) drop(buffer, held, static_cast<size_t>(body + length - buffer));
    }
    const char* missing = "GET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n";
    if (ok && user::write_all(fd, missing, static_cast<long>(__builtin_strlen(missing))) < 0) ok = false, failure = "write";
    if (ok) {
        const char* body = nullptr;
        size_t length = 0;
        bool closes = false;
        const int status = read_http_response(fd, buffer, held, body, length, closes);
        char extra;
        if (status != 404 || !closes || user::read(fd, &extra, 1) != 0) ok = false, failure = "404 and close";
    }
    if (!ok) user::println("tcpserver: selftest: HTTP: {}", failure);
    user::close(fd);
    user::free(buffer);
    user::free(expected);
    return ok;
}

uint64_t instructions_retired() {
    uint64_t value;
    asm volatile("rdinstret %0" : "=r"(value));
    return value;
}

// Sequential round trips of one request of size n on fd: the instructions retired per round trip
// (on one hart under -icount: everything the hart ran, client, kernel and server alike), or 0 if a
// reply was wrong.
uint64_t count_round_trips(int fd, uint32_t n, uint32_t count, char* text, char* buffer) {
    Request request;
    request.n = n;
    Random random{12345};
    for (uint32_t i = 0; i < n * n; ++i) request.a[i] = static_cast<uint8_t>(random.next() % 100);
    uint64_t total = 0;
    for (uint32_t round = 0; round < count; ++round) {
        request.id = round + 1;
        const size_t length = format_request(request, text);
        size_t held = 0;
        const uint64_t start = instructions_retired();
        if (user::write_all(fd, text, static_cast<long>(length)) != static_cast<long>(length)) return 0;
        if (read_lines(fd, buffer, held, 1) <= 0) return 0;
        total += instructions_retired() - start;
        if (!check_reply(request, 0, buffer, buffer + held - 1)) return 0;
    }
    return total / count;
}

} // namespace

// tcpserver --count: instructions of one request's round trip per model, n = 1 and 20 (run on one
// hart with -icount, docs/experiments.md "Where a request's time goes").
int run_instruction_counts() {
    char* text = static_cast<char*>(user::malloc(8192));
    char* buffer = static_cast<char*>(user::malloc(ClientBufferBytes));
    if (text == nullptr || buffer == nullptr) return 1;
    // The server's own work on one request, here in the client's process with the same code:
    // parsing, the product, formatting the reply.
    for (uint32_t n : {1u, 20u}) {
        Request request;
        request.n = n;
        request.id = 1;
        Random random{12345};
        for (uint32_t i = 0; i < n * n; ++i) request.a[i] = static_cast<uint8_t>(random.next() % 100);
        const size_t length = format_request(request, text);
        Session session;
        Buffer input, output;
        Job job;
        uint64_t parse = 0, product = 0, format = 0;
        constexpr uint32_t Rounds = 100;
        for (uint32_t round = 0; round <= Rounds; ++round) {
            if (!input.reserve(length)) return 1;
            __builtin_memcpy(input.tail(), text, length);
            input.produced(length);
            output.clear();
            const uint64_t t0 = instructions_retired();
            parse_next(session, input, job);
            const uint64_t t1 = instructions_retired();
            compute(job);
            const uint64_t t2 = instructions_retired();
            format_reply(job, 0, StatusCounters{}, output);
            const uint64_t t3 = instructions_retired();
            if (round == 0) continue; // the first grows the buffers
            parse += t1 - t0;
            product += t2 - t1;
            format += t3 - t2;
        }
        user::println("tcpserver: instructions n {} parse {} product {} format {}", n, parse / Rounds, product / Rounds,
                      format / Rounds);
    }
    uint16_t port = 7200;
    bool all = true;
    for (const Run& run : runs) {
        if (run.priorities || run.program[13] == '-' || (run.threads && run.threads[0] != '2')) continue;
        char port_text[8];
        port_text[format_decimal(++port, port_text)] = 0;
        // One poll thread: the measurement runs on one hart.
        const char* argv[] = {"tcpserver", "--model", run.model, "--parts", run.parts, "--port", port_text,
                              run.threads ? "--threads" : nullptr, "1", nullptr};
        long pid = user::spawn(run.program, argv);
        if (pid <= 0) return 1;
        int fd = connect_to(port);
        if (fd < 0) return 1;
        int one = 1;
        user::setsockopt(fd, abi::ProtocolTcp, abi::TcpNoDelay, &one, sizeof(one));
        count_round_trips(fd, 20, 20, text, buffer); // warm: buffers grown, pages touched
        for (uint32_t n : {1u, 20u}) {
            const uint64_t per_request = count_round_trips(fd, n, 200, text, buffer);
            user::println("tcpserver: instructions model {} parts {} n {} per request {}", run.model, run.parts, n,
                          per_request);
            all = all && per_request != 0;
        }
        user::close(fd);
        user::kill(pid, 9);
        int status = 0;
        user::wait4(pid, &status, 0);
    }
    user::free(text);
    user::free(buffer);
    return all ? 0 : 1;
}

int run_selftest() {
    bool all = true;
    uint16_t port = 7100;
    for (const Run& run : runs) {
        char port_text[8];
        port_text[format_decimal(++port, port_text)] = 0;
        const char* argv[12];
        int argc = 0;
        argv[argc++] = "tcpserver";
        argv[argc++] = "--model";
        argv[argc++] = run.model;
        argv[argc++] = "--parts";
        argv[argc++] = run.parts;
        if (run.threads) argv[argc++] = "--threads", argv[argc++] = run.threads;
        if (run.priorities) argv[argc++] = "--priorities", argv[argc++] = run.priorities;
        argv[argc++] = "--port";
        argv[argc++] = port_text;
        argv[argc] = nullptr;
        long pid = user::spawn(run.program, argv);
        if (pid <= 0) {
            user::println("tcpserver: selftest: cannot start bin/tcpserver: {}", pid);
            return 1;
        }
        bool ok = check_matrix_clients(port, run.levels);
        ok = check_errors(port) && ok;
        uint64_t refused = 0;
        ok = check_http(port, refused) && ok;
        if (run.program[13] == '-') {
            user::println("tcpserver: selftest: {} submissions refused and retried", refused);
            ok = ok && refused > 0;
        }
        user::kill(pid, 9);
        int status = 0;
        user::wait4(pid, &status, 0);
        user::println("tcpserver: selftest {} parts {}{}{}{} {}", run.model, run.parts, run.priorities ? " priorities " : "",
                      run.priorities ? run.priorities : "", run.program[13] == '-' ? " fewslots" : "", ok ? "ok" : "FAILED");
        all = all && ok;
    }
    user::println("tcpserver: selftest {}", all ? "ok" : "FAILED");
    return all ? 0 : 1;
}

} // namespace tcpserver
