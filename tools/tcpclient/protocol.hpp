// The TcpServer protocol, the client's side (docs/experiments.md): requests
// `<id> <n> <a_1> ... <a_{n*n}>\n`, replies `<id> <level> <c_1> ... <c_{n*n}>\n` with C = A x A, or
// `E <reason>\n`. Pure logic (no sockets), tested on the host (tests/tools/test_tcpclient.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcpclient {

constexpr uint32_t MaxOrder = 64;            // n is 1..64
// The longest reply: 64 * 64 numbers of at most 6 digits (99 * 99 * 64 = 627,264) and a space each,
// plus the id and the level. Anything longer without a newline is malformed.
constexpr size_t MaxLineLength = 64 * 1024;

// One request's matrix A (entries 0..99), its product C = A x A, and the request's text after the id.
struct Matrix {
    uint32_t n = 0;
    std::vector<uint8_t> a;     // n * n, row by row
    std::vector<uint64_t> c;    // n * n, row by row
    std::string body;           // " <n> <a_1> ... <a_{n*n}>\n"
};

// A x A, 64-bit.
std::vector<uint64_t> square(uint32_t n, const std::vector<uint8_t>& a);
// A seeded pseudo-random matrix (the same for the same n and seed) with its product and request body.
Matrix make_matrix(uint32_t n, uint64_t seed);
// The whole request line for this id.
std::string format_request(uint64_t id, const Matrix& matrix);

enum class Verdict {
    Ok,
    ErrorReply,     // "E <reason>": the server refused the request
    Malformed,      // not "<id> <level> numbers" with single spaces, or a number out of range
    WrongId,        // a well-formed reply to another request (replies come in order)
    WrongCount,     // not n * n numbers
    WrongValues,    // the numbers are not A x A
};
std::string_view verdict_name(Verdict verdict);

struct Reply {
    Verdict verdict = Verdict::Malformed;
    uint64_t id = 0;
    uint32_t level = 0;
};

// Checks one reply line (without its '\n') against the request it must answer.
Reply check_reply(std::string_view line, uint64_t expected_id, const std::vector<uint64_t>& expected);

// Collects bytes as they arrive and hands out whole lines, however TCP split them.
class LineBuffer {
public:
    void append(const char* data, size_t size) { buffer_.append(data, size); }
    // The next whole line without its '\n', valid until the next call; nullopt when none is complete.
    std::optional<std::string_view> next_line();
    // More than MaxLineLength bytes are waiting without a newline: the peer is not speaking the protocol.
    bool overlong() const { return buffer_.size() - start_ > MaxLineLength; }
    size_t pending() const { return buffer_.size() - start_; }

private:
    std::string buffer_;
    size_t start_ = 0;   // bytes before start_ were handed out already
};

}  // namespace tcpclient
