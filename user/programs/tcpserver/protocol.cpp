// The TcpServer's protocol: framing, parsing, the product, replies (protocol.hpp).
#include "user/programs/tcpserver/protocol.hpp"

#include "user/lib/malloc.hpp"

namespace tcpserver {

// ---- Buffer ----

Buffer::~Buffer() { user::free(data); }

bool Buffer::reserve(size_t bytes) {
    if (capacity - end >= bytes) return true;
    const size_t unread = size();
    if (begin > 0 && capacity - unread >= bytes) { // room enough once the unread part moves down
        __builtin_memmove(data, data + begin, unread);
        begin = 0;
        end = unread;
        return true;
    }
    size_t wanted = capacity ? capacity : 2048;
    while (wanted - unread < bytes) wanted *= 2;
    char* grown = static_cast<char*>(user::malloc(wanted));
    if (grown == nullptr) return false;
    if (unread) __builtin_memcpy(grown, data + begin, unread);
    user::free(data);
    data = grown;
    capacity = wanted;
    begin = 0;
    end = unread;
    return true;
}

// ---- Job ----

Job::~Job() {
    user::free(a);
    user::free(c);
}

bool Job::reserve(uint32_t wanted_n) {
    const uint32_t elements = wanted_n * wanted_n;
    if (elements <= capacity) return true;
    auto* new_a = static_cast<uint8_t*>(user::malloc(elements));
    auto* new_c = static_cast<int64_t*>(user::malloc(elements * sizeof(int64_t)));
    if (new_a == nullptr || new_c == nullptr) {
        user::free(new_a);
        user::free(new_c);
        return false;
    }
    user::free(a);
    user::free(c);
    a = new_a;
    c = new_c;
    capacity = elements;
    return true;
}

void compute(Job& job) {
    if (job.kind != JobKind::Matrix && job.kind != JobKind::HttpMatrix) return;
    const uint32_t n = job.n;
    const uint8_t* a = job.a;
    int64_t* c = job.c;
    // Row i of C is the sum over k of a[i][k] times row k of A: the inner loop walks rows.
    // Every partial sum is at most 64 * 99 * 99 < 2^32, so 32-bit arithmetic is exact here.
    uint32_t row[MaxN];
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t j = 0; j < n; ++j) row[j] = 0;
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t aik = a[i * n + k];
            const uint8_t* ak = a + k * n;
            uint32_t j = 0;
            for (; j + 4 <= n; j += 4) { // unrolled: the loop's own increment and branch once per four
                row[j] += aik * ak[j];
                row[j + 1] += aik * ak[j + 1];
                row[j + 2] += aik * ak[j + 2];
                row[j + 3] += aik * ak[j + 3];
            }
            for (; j < n; ++j) row[j] += aik * ak[j];
        }
        for (uint32_t j = 0; j < n; ++j) c[i * n + j] = row[j];
    }
}

// ---- Parsing ----

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal uint64 of 1..20 digits at [p, end); advances p past it. False on no digit or overflow.
bool parse_u64(const char*& p, const char* end, uint64_t& out) {
    const char* start = p;
    uint64_t value = 0;
    while (p < end && is_digit(*p)) {
        const uint64_t digit = static_cast<uint64_t>(*p - '0');
        if (value > (~uint64_t{0} - digit) / 10) return false;
        value = value * 10 + digit;
        ++p;
    }
    if (p == start) return false;
    out = value;
    return true;
}

Parsed fail(Session& session, Job& job, JobKind kind, const char* reason) {
    job.kind = kind;
    job.reason = reason;
    job.close_after = true;
    session.finished = true;
    return Parsed::Produced;
}

// One request line [p, end) ('\n' and an optional '\r' removed).
Parsed parse_matrix_line(Session& session, const char* p, const char* end, Job& job) {
    uint64_t id = 0, n = 0;
    if (!parse_u64(p, end, id)) return fail(session, job, JobKind::Error, "bad id");
    if (p == end || *p++ != ' ') return fail(session, job, JobKind::Error, "no n");
    if (!parse_u64(p, end, n) || n < 1 || n > MaxN) return fail(session, job, JobKind::Error, "bad n");
    const uint32_t count = static_cast<uint32_t>(n * n);
    if (!job.reserve(static_cast<uint32_t>(n))) return fail(session, job, JobKind::Error, "out of memory");
    uint8_t* a = job.a;
    for (uint32_t i = 0; i < count; ++i) {
        if (p == end) return fail(session, job, JobKind::Error, "too few values");
        if (*p++ != ' ' || p == end || !is_digit(*p)) return fail(session, job, JobKind::Error, "bad value");
        uint32_t value = static_cast<uint32_t>(*p++ - '0');
        if (p < end && is_digit(*p)) value = value * 10 + static_cast<uint32_t>(*p++ - '0');
        if (p < end && is_digit(*p)) return fail(session, job, JobKind::Error, "bad value");
        a[i] = static_cast<uint8_t>(value);
    }
    if (p != end) return fail(session, job, JobKind::Error, "too many values");
    job.kind = JobKind::Matrix;
    job.close_after = false;
    job.reason = nullptr;
    job.id = id;
    job.n = static_cast<uint32_t>(n);
    return Parsed::Produced;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether [p, end) begins with `word` (compared without case).
bool starts_with_nocase(const char* p, const char* end, const char* word) {
    for (; *word; ++word, ++p)
        if (p == end || lower(*p) != *word) return false;
    return true;
}

// Whether the comma-separated header value [p, end) holds the token `word` (without case).
bool has_token(const char* p, const char* end, const char* word) {
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) ++p;
        const char* start = p;
        while (p < end && *p != ',') ++p;
        const char* stop = p;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t')) --stop;
        const size_t length = static_cast<size_t>(stop - start);
        if (length == __builtin_strlen(word) && starts_with_nocase(start, stop, word)) return true;
    }
    return false;
}

// The query of /matrix: n (required, 1..64) and seed (default 1); other parameters are ignored.
bool parse_matrix_query(const char* p, const char* end, uint64_t& n, uint64_t& seed) {
    bool have_n = false;
    seed = 1;
    while (p < end) {
        const char* stop = p;
        while (stop < end && *stop != '&') ++stop;
        if (stop - p > 2 && p[0] == 'n' && p[1] == '=') {
            const char* q = p + 2;
            if (!parse_u64(q, stop, n) || q != stop) return false;
            have_n = true;
        } else if (stop - p > 5 && __builtin_memcmp(p, "seed=", 5) == 0) {
            const char* q = p + 5;
            if (!parse_u64(q, stop, seed) || q != stop) return false;
        }
        p = stop < end ? stop + 1 : stop;
    }
    return have_n && n >= 1 && n <= MaxN;
}

// One HTTP request head [head, end) (up to and including the blank line).
Parsed parse_http_head(Session& session, const char* head, const char* end, Job& job) {
    // Request line: METHOD SP target SP HTTP/1.x
    const char* line_end = head;
    while (line_end < end && *line_end != '\n') ++line_end;
    const char* p = head;
    const char* method_end = p;
    while (method_end < line_end && *method_end != ' ') ++method_end;
    const char* target = method_end + 1;
    const char* target_end = target;
    while (target_end < line_end && *target_end != ' ') ++target_end;
    const char* version = target_end + 1;
    const char* version_end = line_end;
    if (version_end > version && version_end[-1] == '\r') --version_end;
    if (method_end >= line_end || target_end >= line_end || version_end - version != 8 ||
        __builtin_memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1'))
        return fail(session, job, JobKind::HttpBadRequest, "bad request line");
    const bool http10 = version[7] == '0';

    // Headers: Connection, and any sign of a body (not read by this server: answer 400 and close).
    bool close = false, keep_alive = false;
    for (const char* h = line_end + 1; h < end;) {
        const char* h_end = h;
        while (h_end < end && *h_end != '\n') ++h_end;
        const char* value_end = h_end > h && h_end[-1] == '\r' ? h_end - 1 : h_end;
        const char* colon = h;
        while (colon < value_end && *colon != ':') ++colon;
        if (colon < value_end) {
            const char* value = colon + 1;
            if (starts_with_nocase(h, colon, "connection") && colon - h == 10) {
                if (has_token(value, value_end, "close")) close = true;
                if (has_token(value, value_end, "keep-alive")) keep_alive = true;
            } else if ((starts_with_nocase(h, colon, "content-length") && colon - h == 14)) {
                const char* q = value;
                while (q < value_end && *q == ' ') ++q;
                if (!(value_end - q == 1 && *q == '0')) return fail(session, job, JobKind::HttpBadRequest, "request body");
            } else if (starts_with_nocase(h, colon, "transfer-encoding") && colon - h == 17) {
                return fail(session, job, JobKind::HttpBadRequest, "request body");
            }
        }
        h = h_end + 1;
    }
    if (http10 && !keep_alive) close = true; // HTTP/1.0 closes unless it asks to keep alive
    job.close_after = close;
    job.reason = nullptr;
    if (close) session.finished = true;

    if (method_end - p != 3 || __builtin_memcmp(p, "GET", 3) != 0) {
        job.close_after = true;
        session.finished = true;
        job.kind = JobKind::HttpNotAllowed;
        return Parsed::Produced;
    }
    const size_t target_length = static_cast<size_t>(target_end - target);
    if (target_length == 1 && *target == '/') {
        job.kind = JobKind::HttpStatus;
    } else if (target_length >= 7 && __builtin_memcmp(target, "/matrix", 7) == 0 &&
               (target_length == 7 || target[7] == '?')) {
        uint64_t n = 0, seed = 1;
        const char* query = target_length > 7 ? target + 8 : target_end;
        if (!parse_matrix_query(query, target_end, n, seed)) {
            job.kind = JobKind::HttpBadRequest;
            job.reason = "n must be 1..64";
            return Parsed::Produced;
        }
        if (!job.reserve(static_cast<uint32_t>(n))) return fail(session, job, JobKind::HttpBadRequest, "out of memory");
        job.n = static_cast<uint32_t>(n);
        for (uint32_t i = 0; i < job.n; ++i)
            for (uint32_t j = 0; j < job.n; ++j) job.a[i * job.n + j] = http_matrix_entry(seed, i, j);
        job.kind = JobKind::HttpMatrix;
    } else {
        job.kind = JobKind::HttpNotFound;
    }
    return Parsed::Produced;
}

// The end of an HTTP head in [p, end): just past "\n\r\n" or "\n\n", or null.
const char* find_head_end(const char* p, const char* end) {
    for (const char* q = p; q < end; ++q) {
        if (*q != '\n') continue;
        if (q + 1 < end && q[1] == '\n') return q + 2;
        if (q + 2 < end && q[1] == '\r' && q[2] == '\n') return q + 3;
    }
    return nullptr;
}

} // namespace

Parsed parse_next(Session& session, Buffer& input, Job& job) {
    if (session.finished) return Parsed::NeedMore;
    const char* p = input.front();
    const size_t available = input.size();
    if (session.dialect == Dialect::Unknown) {
        if (available == 0) return Parsed::NeedMore;
        if (*p == 'G' && available < 4 && __builtin_memcmp(p, "GET ", available) == 0) return Parsed::NeedMore;
        session.dialect = available >= 4 && __builtin_memcmp(p, "GET ", 4) == 0 ? Dialect::Http : Dialect::Matrix;
    }
    if (session.dialect == Dialect::Http) {
        const size_t window = available < MaxHttpHead ? available : MaxHttpHead;
        const char* head_end = find_head_end(p, p + window);
        if (head_end == nullptr) {
            if (available >= MaxHttpHead) return fail(session, job, JobKind::HttpBadRequest, "request head too long");
            return Parsed::NeedMore;
        }
        Parsed parsed = parse_http_head(session, p, head_end, job);
        input.consume(static_cast<size_t>(head_end - p));
        return parsed;
    }
    const size_t window = available < MaxRequestLine + 2 ? available : MaxRequestLine + 2;
    const char* newline = static_cast<const char*>(__builtin_memchr(p, '\n', window));
    if (newline == nullptr) {
        if (available > MaxRequestLine + 1) return fail(session, job, JobKind::Error, "line too long");
        return Parsed::NeedMore;
    }
    const char* line_end = newline > p && newline[-1] == '\r' ? newline - 1 : newline;
    if (static_cast<size_t>(line_end - p) > MaxRequestLine) return fail(session, job, JobKind::Error, "line too long");
    Parsed parsed = parse_matrix_line(session, p, line_end, job);
    input.consume(static_cast<size_t>(newline + 1 - p));
    return parsed;
}

// ---- Replies ----

size_t format_decimal(uint64_t value, char* out) {
    char digits[20];
    size_t n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10);
    while ((value /= 10) != 0);
    for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
    return n;
}

namespace {

bool append(Buffer& output, const char* text, size_t length) {
    if (!output.reserve(length)) return false;
    __builtin_memcpy(output.tail(), text, length);
    output.produced(length);
    return true;
}
bool append(Buffer& output, const char* text) { return append(output, text, __builtin_strlen(text)); }
bool append_number(Buffer& output, uint64_t value) {
    if (!output.reserve(20)) return false;
    output.produced(format_decimal(value, output.tail()));
    return true;
}

// The product as text: `separator` between the values of a row, `row_end` after each row.
bool append_product(Buffer& output, const Job& job, char separator, char row_end, bool leading_separator) {
    const uint32_t n = job.n;
    // At most 7 bytes a value (64 * 99 * 99 has 6 digits, and a separator).
    if (!output.reserve(size_t{n} * n * 7 + 1)) return false;
    char* out = output.tail();
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t j = 0; j < n; ++j) {
            if (j > 0 || leading_separator) *out++ = separator;
            out += format_decimal(static_cast<uint64_t>(job.c[i * n + j]), out);
        }
        if (row_end) *out++ = row_end;
    }
    output.produced(static_cast<size_t>(out - output.tail()));
    return true;
}

bool append_http(Buffer& output, const char* status, bool close, const Job& job, const StatusCounters& counters) {
    // The body goes first into the buffer after room for the head, whose Content-Length needs it.
    constexpr size_t HeadRoom = 160;
    if (!output.reserve(HeadRoom)) return false;
    const size_t head_at = output.end;
    output.produced(HeadRoom);
    bool ok = true;
    if (job.kind == JobKind::HttpMatrix) {
        ok = append_product(output, job, ' ', '\n', false);
    } else if (job.kind == JobKind::HttpStatus) {
        ok = append(output, "tcpserver\nmodel ") && append(output, counters.model) && append(output, " parts ") &&
             append_number(output, counters.parts) && append(output, " threads ") && append_number(output, counters.threads) &&
             append(output, " priorities ") && append_number(output, counters.priorities) &&
             append(output, "\nconnections served ") && append_number(output, counters.connections) &&
             append(output, "\nrequests served ") && append_number(output, counters.requests) &&
             append(output, "\nrefused submissions ") && append_number(output, counters.refused) && append(output, "\n");
        if (ok && counters.measurements != nullptr) {
            StatusLine lines[MaxStatusLines];
            const uint32_t count = counters.measurements(lines, MaxStatusLines);
            for (uint32_t i = 0; i < count && i < MaxStatusLines && ok; ++i)
                ok = append(output, lines[i].name) && append(output, " ") && append_number(output, lines[i].value) &&
                     append(output, "\n");
        }
    } else {
        ok = append(output, status) && append(output, "\n");
    }
    if (!ok) return false;
    const size_t body_length = output.end - head_at - HeadRoom;
    char head[HeadRoom];
    size_t length = 0;
    auto put = [&](const char* text) {
        const size_t n = __builtin_strlen(text);
        __builtin_memcpy(head + length, text, n);
        length += n;
    };
    put("HTTP/1.1 ");
    put(status);
    put("\r\nContent-Type: text/plain\r\nContent-Length: ");
    length += format_decimal(body_length, head + length);
    put(close ? "\r\nConnection: close\r\n\r\n" : "\r\nConnection: keep-alive\r\n\r\n");
    // The head is shorter than the room left for it: move the body down against it.
    char* base = output.data;
    const size_t gap = HeadRoom - length;
    __builtin_memmove(base + head_at + length, base + head_at + HeadRoom, body_length);
    __builtin_memcpy(base + head_at, head, length);
    output.end -= gap;
    return true;
}

} // namespace

bool format_reply(const Job& job, uint32_t level, const StatusCounters& status, Buffer& output) {
    switch (job.kind) {
    case JobKind::Matrix:
        return append_number(output, job.id) && append(output, " ", 1) && append_number(output, level) &&
               append_product(output, job, ' ', 0, true) && append(output, "\n", 1);
    case JobKind::Error:
        return append(output, "E ") && append(output, job.reason ? job.reason : "error") && append(output, "\n", 1);
    case JobKind::HttpMatrix:
    case JobKind::HttpStatus: return append_http(output, "200 OK", job.close_after, job, status);
    case JobKind::HttpNotFound: return append_http(output, "404 Not Found", job.close_after, job, status);
    case JobKind::HttpBadRequest: return append_http(output, "400 Bad Request", job.close_after, job, status);
    case JobKind::HttpNotAllowed: return append_http(output, "405 Method Not Allowed", true, job, status);
    case JobKind::End: return true;
    }
    return true;
}

} // namespace tcpserver
