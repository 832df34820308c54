// The TcpServer's protocol (docs/experiments.md, "The server"): line framing, requests parsed
// without trusting a byte of them, the product A×A, replies; and HTTP/1.1 on the same connection
// type. Pure logic over memory: no system call here but the allocations of the buffers
// (user::malloc), so the host tests (tests/user/tcpserver/) compile it natively under ASan and UBSan.
//
//     request  <id> <n> <a_1> ... <a_{n*n}>\n      id a decimal uint64, n 1..64, a_i 0..99
//     reply    <id> <level> <c_1> ... <c_{n*n}>\n  C = A×A, 64-bit, row by row
//     error    E <reason>\n, then the server closes the connection
//
// A connection whose first bytes are "GET " speaks HTTP/1.1 instead (keep-alive, `Connection:
// close` honoured): GET /matrix?n=N[&seed=S], GET /, anything else 404.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tcpserver {

constexpr uint32_t MaxN = 64;
// The longest well-formed request line, '\n' excluded: a 20-digit id, n = 64, 4,096 values of two
// digits, single spaces. One byte more is allowed for a '\r' before the '\n'.
constexpr size_t MaxRequestLine = 20 + 1 + 2 + MaxN * MaxN * 3;
// The longest HTTP request head (request line and headers) read before answering 400.
constexpr size_t MaxHttpHead = 8192;

// A growable byte buffer whose unread part is [begin, end): input accumulates at the end and is
// consumed at the front; output is appended and written from the front. Grows with malloc; never
// shrinks (a connection keeps its buffers until it closes).
struct Buffer {
    char* data = nullptr;
    size_t begin = 0;
    size_t end = 0;
    size_t capacity = 0;

    ~Buffer();
    size_t size() const { return end - begin; }
    const char* front() const { return data + begin; }
    // Room for at least `bytes` more at the end (moves the unread part to the front first); false
    // when memory runs out.
    bool reserve(size_t bytes);
    char* tail() { return data + end; }
    void produced(size_t bytes) { end += bytes; }
    void consume(size_t bytes) {
        begin += bytes;
        if (begin == end) begin = end = 0;
    }
    void clear() { begin = end = 0; }
};

enum class JobKind : uint8_t {
    Matrix,         // a request line: reply <id> <level> C
    HttpMatrix,     // GET /matrix: 200 with C
    HttpStatus,     // GET /: 200 with the status page
    HttpNotFound,   // 404
    HttpBadRequest, // 400 (a bad query or request head)
    HttpNotAllowed, // 405 (a method other than GET), then close
    Error,          // E <reason>, then close
    End,            // no more jobs on this connection (parts 3: what the receiver passes on last)
};

// One request on its way through receive -> compute -> send. Its matrices live in memory the job
// keeps between requests (grown for a larger n).
struct Job {
    JobKind kind = JobKind::End;
    bool close_after = false; // HTTP: Connection: close (or HTTP/1.0); always with Error
    uint32_t n = 0;
    uint64_t id = 0;
    const char* reason = nullptr; // Error, HttpBadRequest: a static string
    uint8_t* a = nullptr;         // n*n, row by row
    int64_t* c = nullptr;         // n*n, the product (after compute)
    uint32_t capacity = 0;        // elements a and c have room for

    ~Job();
    bool reserve(uint32_t n); // false when memory runs out
};

// C = A×A into job.c (for Matrix and HttpMatrix; other kinds are left alone).
void compute(Job& job);

// What a connection speaks; decided by its first bytes.
enum class Dialect : uint8_t { Unknown, Matrix, Http };

struct Session {
    Dialect dialect = Dialect::Unknown;
    bool finished = false; // an Error or a closing HTTP request was produced: read no further
};

enum class Parsed : uint8_t { NeedMore, Produced };

// Takes the next complete request out of `input` into `job` (kind and fields), consuming its bytes,
// or NeedMore when `input` holds no complete request yet. A malformed request, a line longer than
// MaxRequestLine or an HTTP head longer than MaxHttpHead produce an Error (matrix) or a
// HttpBadRequest with close_after (HTTP) job and set session.finished. Out of memory for the job's
// matrices produces an Error "out of memory".
Parsed parse_next(Session& session, Buffer& input, Job& job);

// Appends the reply for `job` to `output` (Matrix: the reply line with `level`; Error: the E line;
// Http*: a whole HTTP response, status page from `status`). False when memory runs out.
// One "name value" line of the status page's measurements (counters of the process and the kernel).
struct StatusLine {
    const char* name;
    uint64_t value;
};
constexpr uint32_t MaxStatusLines = 48;

struct StatusCounters {
    const char* model;
    uint32_t parts;
    uint32_t threads;
    uint32_t priorities;
    uint64_t connections;
    uint64_t requests;
    uint64_t refused; // asynchronous submissions the kernel refused (-EAGAIN), retried
    // Fills up to `capacity` lines, returns how many; called only for GET / (null: no lines).
    uint32_t (*measurements)(StatusLine* lines, uint32_t capacity) = nullptr;
};
bool format_reply(const Job& job, uint32_t level, const StatusCounters& status, Buffer& output);

// The matrix of GET /matrix?seed=S: A[i][j] = (S*31 + i*7 + j*13) % 100, computed exactly (S is
// reduced modulo 100 first, which changes nothing mathematically and cannot overflow).
inline uint8_t http_matrix_entry(uint64_t seed, uint32_t i, uint32_t j) {
    return static_cast<uint8_t>(((seed % 100) * 31 + i * 7 + j * 13) % 100);
}

// Decimal digits of `value` at `out` (at least 20 bytes of room); returns the count.
size_t format_decimal(uint64_t value, char* out);

} // namespace tcpserver
