#include "tools/tcpclient/protocol.hpp"

#include <charconv>

namespace tcpclient {

namespace {

// splitmix64: a small, good mixer; the matrices only need to differ from seed to seed.
uint64_t mix(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A decimal number running up to the next space or the end; strict: at least one digit, no sign,
// no leading zero unless the number is 0, no overflow.
bool parse_number(std::string_view text, size_t& position, uint64_t& value) {
    size_t start = position;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9') ++position;
    if (position == start || position - start > 20) return false;
    if (text[start] == '0' && position - start > 1) return false;
    auto [end, error] = std::from_chars(text.data() + start, text.data() + position, value);
    return error == std::errc() && end == text.data() + position;
}

}  // namespace

std::vector<uint64_t> square(uint32_t n, const std::vector<uint8_t>& a) {
    std::vector<uint64_t> c(size_t(n) * n, 0);
    for (uint32_t i = 0; i < n; ++i)
        for (uint32_t k = 0; k < n; ++k) {
            uint64_t left = a[size_t(i) * n + k];
            for (uint32_t j = 0; j < n; ++j) c[size_t(i) * n + j] += left * a[size_t(k) * n + j];
        }
    return c;
}

Matrix make_matrix(uint32_t n, uint64_t seed) {
    Matrix matrix;
    matrix.n = n;
    matrix.a.resize(size_t(n) * n);
    uint64_t state = seed * 0x2545f4914f6cdd1dull + n;
    for (auto& entry : matrix.a) entry = uint8_t(mix(state) % 100);
    matrix.c = square(n, matrix.a);
    matrix.body = " " + std::to_string(n);
    for (uint8_t entry : matrix.a) {
        matrix.body += ' ';
        matrix.body += std::to_string(entry);
    }
    matrix.body += '\n';
    return matrix;
}

std::string format_request(uint64_t id, const Matrix& matrix) {
    return std::to_string(id) + matrix.body;
}

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::Ok: return "ok";
        case Verdict::ErrorReply: return "error reply";
        case Verdict::Malformed: return "malformed";
        case Verdict::WrongId: return "wrong id";
        case Verdict::WrongCount: return "wrong count";
        case Verdict::WrongValues: return "wrong values";
    }
    return "?";
}

Reply check_reply(std::string_view line, uint64_t expected_id, const std::vector<uint64_t>& expected) {
    Reply reply;
    if (line.size() >= 1 && line[0] == 'E' && (line.size() == 1 || line[1] == ' ')) {
        reply.verdict = Verdict::ErrorReply;
        return reply;
    }
    size_t position = 0;
    uint64_t level = 0;
    if (!parse_number(line, position, reply.id) || position >= line.size() || line[position] != ' ') return reply;
    ++position;
    if (!parse_number(line, position, level) || level > UINT32_MAX) return reply;
    reply.level = uint32_t(level);
    // The numbers: each preceded by exactly one space. Count them all before judging.
    size_t count = 0;
    bool values_match = true;
    while (position < line.size()) {
        if (line[position] != ' ') return reply;
        ++position;
        uint64_t value = 0;
        if (!parse_number(line, position, value)) return reply;
        if (count < expected.size() && value != expected[count]) values_match = false;
        ++count;
    }
    if (reply.id != expected_id) reply.verdict = Verdict::WrongId;
    else if (count != expected.size()) reply.verdict = Verdict::WrongCount;
    else if (!values_match) reply.verdict = Verdict::WrongValues;
    else reply.verdict = Verdict::Ok;
    return reply;
}

std::optional<std::string_view> LineBuffer::next_line() {
    // Drop what was handed out once it is most of the buffer (amortised O(1) per byte).
    if (start_ > 0 && start_ * 2 >= buffer_.size()) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    size_t newline = buffer_.find('\n', start_);
    if (newline == std::string::npos) return std::nullopt;
    std::string_view line(buffer_.data() + start_, newline - start_);
    start_ = newline + 1;
    return line;
}

}  // namespace tcpclient
