// The TcpServer's protocol (user/programs/tcpserver/protocol.*), natively under AddressSanitizer and
// UBSan: requests whole, byte by byte and several at once; every malformed form; the longest line;
// HTTP heads; replies checked against a product computed here; random input in random pieces.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "user/programs/tcpserver/protocol.hpp"

// The guest's user::malloc is the C library's here.
namespace user {
void* malloc(size_t size) { return std::malloc(size); }
void free(void* memory) { std::free(memory); }
} // namespace user

using namespace tcpserver;

namespace {

void feed(Buffer& input, const std::string& text) {
    REQUIRE(input.reserve(text.size()));
    std::memcpy(input.tail(), text.data(), text.size());
    input.produced(text.size());
}

std::string request_text(uint64_t id, uint32_t n, const std::vector<uint32_t>& a) {
    std::string text = std::to_string(id) + " " + std::to_string(n);
    for (uint32_t value : a) text += " " + std::to_string(value);
    return text + "\n";
}

std::string expected_reply(uint64_t id, uint32_t level, uint32_t n, const std::vector<uint32_t>& a) {
    std::string text = std::to_string(id) + " " + std::to_string(level);
    for (uint32_t i = 0; i < n; ++i)
        for (uint32_t j = 0; j < n; ++j) {
            uint64_t sum = 0;
            for (uint32_t k = 0; k < n; ++k) sum += uint64_t{a[i * n + k]} * a[k * n + j];
            text += " " + std::to_string(sum);
        }
    return text + "\n";
}

std::string reply_of(const Job& job, uint32_t level) {
    Buffer output;
    StatusCounters counters{"coroutine", 1, 2, 0, 3, 4, 5};
    REQUIRE(format_reply(job, level, counters, output));
    return std::string(output.front(), output.size());
}

std::vector<uint32_t> random_matrix(std::mt19937& random, uint32_t n) {
    std::vector<uint32_t> a(n * n);
    for (uint32_t& value : a) value = random() % 100;
    return a;
}

} // namespace

TEST_CASE("a request in one piece gets its square, with the level") {
    std::mt19937 random(1);
    for (uint32_t n : {1u, 2u, 20u, 64u}) {
        const auto a = random_matrix(random, n);
        Session session;
        Buffer input;
        Job job;
        feed(input, request_text(18446744073709551615ull, n, a));
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::Matrix);
        REQUIRE(job.id == 18446744073709551615ull);
        REQUIRE(job.n == n);
        REQUIRE(input.size() == 0);
        compute(job);
        REQUIRE(reply_of(job, 7) == expected_reply(18446744073709551615ull, 7, n, a));
        REQUIRE(parse_next(session, input, job) == Parsed::NeedMore);
    }
}

TEST_CASE("the largest product is exact") {
    std::vector<uint32_t> a(64 * 64, 99);
    Session session;
    Buffer input;
    Job job;
    feed(input, request_text(1, 64, a));
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    compute(job);
    for (uint32_t i = 0; i < 64 * 64; ++i) REQUIRE(job.c[i] == 64 * 99 * 99);
}

TEST_CASE("a request byte by byte, and several in one read, come out whole and in order") {
    std::mt19937 random(2);
    std::vector<std::vector<uint32_t>> matrices;
    std::string stream;
    for (uint32_t r = 0; r < 6; ++r) {
        const uint32_t n = r % 2 ? 20 : 1 + r;
        matrices.push_back(random_matrix(random, n));
        stream += request_text(r, n, matrices.back());
    }
    Session session;
    Buffer input;
    Job job;
    uint32_t produced = 0;
    // Bytes in pieces of 1..97, each followed by taking out every complete request.
    for (size_t at = 0; at < stream.size();) {
        const size_t piece = std::min(stream.size() - at, size_t{1} + random() % 97);
        feed(input, stream.substr(at, piece));
        at += piece;
        while (parse_next(session, input, job) == Parsed::Produced) {
            REQUIRE(job.kind == JobKind::Matrix);
            REQUIRE(job.id == produced);
            compute(job);
            REQUIRE(reply_of(job, 0) == expected_reply(produced, 0, job.n, matrices[produced]));
            ++produced;
        }
    }
    REQUIRE(produced == 6);
    REQUIRE(!session.finished);
}

TEST_CASE("malformed requests are an error, and nothing is parsed after one") {
    const char* cases[][2] = {
        {"x 1 1\n", "bad id"},
        {" 1 1 1\n", "bad id"},
        {"18446744073709551616 1 1\n", "bad id"},
        {"1\n", "no n"},
        {"1 0\n", "bad n"},
        {"1 65 1\n", "bad n"},
        {"1 99999999999999999999999 1\n", "bad n"},
        {"1  1 1\n", "bad n"},
        {"1 1 100\n", "bad value"},
        {"1 1 -1\n", "bad value"},
        {"1 1 5x\n", "too many values"},
        {"1 1  5\n", "bad value"},
        {"1 2 1 2 3\n", "too few values"},
        {"1 1 5 6\n", "too many values"},
        {"1 1 5 \n", "too many values"},
        {"\n", "bad id"},
        {"GEX 1 1\n", "bad id"},
    };
    for (const auto& [text, reason] : cases) {
        INFO(text);
        Session session;
        Buffer input;
        Job job;
        feed(input, std::string(text) + "2 1 1\n");
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::Error);
        REQUIRE(std::string(job.reason) == reason);
        REQUIRE(job.close_after);
        REQUIRE(session.finished);
        REQUIRE(reply_of(job, 0) == std::string("E ") + reason + "\n");
        REQUIRE(parse_next(session, input, job) == Parsed::NeedMore); // the valid request after it is not served
    }
}

TEST_CASE("the longest valid line is served, one byte more is too long, newline or not") {
    std::string longest = "18446744073709551615 64";
    for (uint32_t i = 0; i < 64 * 64; ++i) longest += " 99";
    REQUIRE(longest.size() == MaxRequestLine);
    {
        Session session;
        Buffer input;
        Job job;
        feed(input, longest + "\r\n");
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::Matrix);
    }
    {
        // One byte more (a leading zero in the id keeps it well formed otherwise), with its newline.
        Session session;
        Buffer input;
        Job job;
        feed(input, "0" + longest + "\n");
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::Error);
        REQUIRE(std::string(job.reason) == "line too long");
    }
    {
        // Without a newline: waits while it could still be valid, refuses once it cannot.
        Session session;
        Buffer input;
        Job job;
        feed(input, std::string(MaxRequestLine + 1, '1'));
        REQUIRE(parse_next(session, input, job) == Parsed::NeedMore);
        feed(input, "1");
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::Error);
        REQUIRE(std::string(job.reason) == "line too long");
    }
}

TEST_CASE("HTTP: GET /matrix with keep-alive, the status page, 404, 400, close") {
    Session session;
    Buffer input;
    Job job;
    // Split inside "GET " and inside the head.
    feed(input, "GE");
    REQUIRE(parse_next(session, input, job) == Parsed::NeedMore);
    feed(input, "T /matrix?seed=3&n=2 HTTP/1.1\r\nHost: x\r\n");
    REQUIRE(parse_next(session, input, job) == Parsed::NeedMore);
    feed(input, "\r\nGET / HTTP/1.1\r\n\r\nGET /other HTTP/1.1\r\n\r\nGET /matrix?n=65 HTTP/1.1\r\n\r\n");
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    REQUIRE(job.kind == JobKind::HttpMatrix);
    REQUIRE(!job.close_after);
    REQUIRE(job.n == 2);
    compute(job);
    // A = [[93 6] [0 13]] for seed 3: (93, 6; 0, 13)^2 = (8649, 636; 0, 169).
    const std::string body = "8649 636\n0 169\n";
    REQUIRE(reply_of(job, 0) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n\r\n" + body);
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    REQUIRE(job.kind == JobKind::HttpStatus);
    const std::string status = reply_of(job, 0);
    REQUIRE(status.find("model coroutine parts 1 threads 2 priorities 0\nconnections served 3\nrequests served 4\n") !=
            std::string::npos);
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    REQUIRE(job.kind == JobKind::HttpNotFound);
    REQUIRE(reply_of(job, 0).rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    REQUIRE(job.kind == JobKind::HttpBadRequest);
    REQUIRE(!job.close_after);
    REQUIRE(parse_next(session, input, job) == Parsed::NeedMore);

    feed(input, "GET /matrix?n=1 HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    REQUIRE(job.kind == JobKind::HttpMatrix);
    REQUIRE(job.close_after);
    REQUIRE(reply_of(job, 0).find("Connection: close\r\n") != std::string::npos);
    REQUIRE(session.finished);
    REQUIRE(parse_next(session, input, job) == Parsed::NeedMore);
}

TEST_CASE("HTTP: 1.0 closes, bodies and other methods are refused, a long head is 400") {
    struct Case {
        const char* text;
        JobKind kind;
        bool close;
    };
    const Case cases[] = {
        {"GET / HTTP/1.0\r\n\r\n", JobKind::HttpStatus, true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", JobKind::HttpStatus, false},
        {"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", JobKind::HttpStatus, false},
        {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", JobKind::HttpBadRequest, true},
        {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", JobKind::HttpBadRequest, true},
        {"GET / HTTP/2.0\r\n\r\n", JobKind::HttpBadRequest, true},
        {"GET /\r\n\r\n", JobKind::HttpBadRequest, true},
        {"GET  HTTP/1.1\r\n\r\n", JobKind::HttpNotFound, false},
        {"GET /matrix HTTP/1.1\r\n\r\n", JobKind::HttpBadRequest, false},
        {"GET /matrix?n=0 HTTP/1.1\r\n\r\n", JobKind::HttpBadRequest, false},
        {"GET /matrix?n=2x HTTP/1.1\r\n\r\n", JobKind::HttpBadRequest, false},
        {"GET /matrixes HTTP/1.1\r\n\r\n", JobKind::HttpNotFound, false},
        {"GET /matrix?n=64&seed=18446744073709551615 HTTP/1.1\n\n", JobKind::HttpMatrix, false},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        Session session;
        Buffer input;
        Job job;
        feed(input, c.text);
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == c.kind);
        REQUIRE(job.close_after == c.close);
        compute(job);
        const std::string reply = reply_of(job, 0);
        const size_t head_end = reply.find("\r\n\r\n");
        REQUIRE(head_end != std::string::npos);
        const size_t length_at = reply.find("Content-Length: ") + 16;
        REQUIRE(std::stoul(reply.substr(length_at)) == reply.size() - head_end - 4);
    }
    {
        // Only a connection's first bytes choose HTTP: a later POST is 405 and closes.
        Session session;
        Buffer input;
        Job job;
        feed(input, "GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\n\r\n");
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::HttpNotAllowed);
        REQUIRE(job.close_after);
        REQUIRE(reply_of(job, 0).rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
    }
    {
        Session session;
        Buffer input;
        Job job;
        feed(input, "POST / HTTP/1.1\r\n\r\n");
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::Error); // not HTTP: a bad request line
    }
    {
        Session session;
        Buffer input;
        Job job;
        feed(input, "GET / HTTP/1.1\r\nX: " + std::string(MaxHttpHead, 'a'));
        REQUIRE(parse_next(session, input, job) == Parsed::Produced);
        REQUIRE(job.kind == JobKind::HttpBadRequest);
        REQUIRE(job.close_after);
    }
}

TEST_CASE("random input in random pieces never reads or writes out of bounds") {
    std::mt19937 random(3);
    const std::string alphabet = "0123456789 \n\r\nGET /matrix?n=&seed HTTP/1.1:";
    for (int round = 0; round < 2000; ++round) {
        Session session;
        Buffer input;
        Job job;
        std::string text;
        const size_t length = random() % (round % 10 == 0 ? 20000 : 300);
        if (round % 3 == 0) text = "GET ";
        for (size_t i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
        for (size_t at = 0; at < text.size() && !session.finished;) {
            const size_t piece = std::min(text.size() - at, size_t{1} + random() % 5000);
            feed(input, text.substr(at, piece));
            at += piece;
            while (parse_next(session, input, job) == Parsed::Produced) {
                if (job.kind == JobKind::Matrix || job.kind == JobKind::HttpMatrix) REQUIRE((job.n >= 1 && job.n <= MaxN));
                compute(job);
                reply_of(job, 0);
            }
        }
    }
}

TEST_CASE("the status page lists the measurements given, one name and value a line") {
    Session session;
    Buffer input;
    const char* request = "GET / HTTP/1.1\r\n\r\n";
    REQUIRE(input.reserve(64));
    __builtin_memcpy(input.tail(), request, __builtin_strlen(request));
    input.produced(__builtin_strlen(request));
    Job job;
    REQUIRE(parse_next(session, input, job) == Parsed::Produced);
    REQUIRE(job.kind == JobKind::HttpStatus);
    StatusCounters counters{"thread", 3, 0, 0, 1, 2, 0};
    counters.measurements = [](StatusLine* lines, uint32_t capacity) -> uint32_t {
        REQUIRE(capacity >= 2);
        lines[0] = StatusLine{"instret", 123456789};
        lines[1] = StatusLine{"kernel idle waits", 0};
        return 2;
    };
    Buffer output;
    REQUIRE(format_reply(job, 0, counters, output));
    const std::string reply(output.front(), output.size());
    REQUIRE(reply.find("refused submissions 0\ninstret 123456789\nkernel idle waits 0\n") != std::string::npos);
    const size_t body = reply.find("\r\n\r\n") + 4;
    REQUIRE(reply.find("Content-Length: " + std::to_string(reply.size() - body) + "\r\n") != std::string::npos);
}
