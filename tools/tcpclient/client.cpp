#include "tools/tcpclient/client.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/tcpclient/protocol.hpp"

namespace tcpclient {

namespace {

constexpr uint32_t MatrixVariants = 16;      // distinct matrices per run: a reply to another request shows
constexpr uint32_t MaxConnectAttempts = 8;
constexpr int64_t RetryDelayNs = 500'000'000;
constexpr uint64_t TimerToken = UINT64_MAX;  // the timerfd's epoll key; connections use their index
constexpr size_t ReadChunk = 64 * 1024;
constexpr int MaxReportedWrong = 5;          // wrong replies described on stderr

int64_t now_ns() {
    timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return int64_t(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

uint32_t variant_of(uint32_t connection, uint64_t id) {
    uint64_t z = (uint64_t(connection) << 32) ^ id;
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ull;
    return uint32_t((z ^ (z >> 33)) % MatrixVariants);
}

enum class State { Waiting, Connecting, WarmingUp, Ready, Closed };
enum class Phase { Ramp, Measure, Grace, Done };
enum class TimerKind : uint8_t { Open, Send, PhaseEnd };

struct InFlight {
    uint64_t id;
    uint32_t variant;
    int64_t origin_ns;   // latency is measured from here: the send (closed) or its scheduled time (open)
    bool measured;       // false for the warm-up request
};

struct Connection {
    int fd = -1;
    State state = State::Waiting;
    uint32_t attempts = 0;
    uint64_t next_id = 1;
    std::string out;
    size_t out_offset = 0;
    bool watching_output = false;
    LineBuffer in;
    std::deque<InFlight> in_flight;
    ConnectionResult result;
};

struct Timer {
    int64_t when;
    uint32_t connection;
    TimerKind kind;
    bool operator>(const Timer& other) const { return when > other.when; }
};

class Engine {
public:
    explicit Engine(const Options& options) : options_(options), connections_(options.connections) {
        interval_ns_ = int64_t(options.interval_ms) * 1'000'000;
        for (uint32_t v = 0; v < MatrixVariants; ++v)
            matrices_.push_back(make_matrix(options.n, options.seed * MatrixVariants + v));
        for (uint32_t i = 0; i < options.connections; ++i) connections_[i].result.index = i;
        resolve();
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (epoll_ < 0 || timer_fd_ < 0) throw std::runtime_error(std::string("epoll/timerfd: ") + strerror(errno));
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = TimerToken;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_fd_, &event);
    }
    ~Engine() {
        for (auto& connection : connections_)
            if (connection.fd >= 0) close(connection.fd);
        if (timer_fd_ >= 0) close(timer_fd_);
        if (epoll_ >= 0) close(epoll_);
    }

    Report run();

private:
    void resolve();
    void schedule(int64_t when, uint32_t connection, TimerKind kind) { timers_.push({when, connection, kind}); }
    void fire(const Timer& timer);
    void open_connection(uint32_t index);
    void connected(uint32_t index);
    void fail(uint32_t index, const char* why, int error);
    void send_request(uint32_t index, int64_t origin_ns, bool measured);
    void flush(uint32_t index);
    void watch(uint32_t index, bool output);
    void readable(uint32_t index);
    void reply(uint32_t index, std::string_view line, int64_t now);
    void start_measure();
    void start_grace();
    void finish();
    void check_ramp_done();
    void describe_wrong(uint32_t index, const char* what, std::string_view line);

    Options options_;
    std::vector<Connection> connections_;
    std::vector<Matrix> matrices_;
    int64_t interval_ns_ = 0;
    sockaddr_in address_{};
    int epoll_ = -1;
    int timer_fd_ = -1;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    Phase phase_ = Phase::Ramp;
    int64_t ramp_deadline_ = 0;
    int64_t measure_start_ = 0;
    int64_t measure_end_ = 0;
    int64_t grace_end_ = 0;
    uint32_t settled_ = 0;          // connections ready or given up during the ramp
    uint64_t measured_in_flight_ = 0;
    uint32_t dropped_ = 0;
    uint64_t warmup_wrong_ = 0;
    int wrong_reported_ = 0;
};

void Engine::resolve() {
    address_.sin_family = AF_INET;
    address_.sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.host.c_str(), &address_.sin_addr) == 1) return;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(options_.host.c_str(), nullptr, &hints, &found) != 0 || !found)
        throw std::runtime_error("cannot resolve " + options_.host);
    address_.sin_addr = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr;
    freeaddrinfo(found);
}

void Engine::watch(uint32_t index, bool output) {
    Connection& connection = connections_[index];
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (output ? EPOLLOUT : 0u);
    event.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.watching_output = output;
}

void Engine::open_connection(uint32_t index) {
    Connection& connection = connections_[index];
    ++connection.attempts;
    connection.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0) return fail(index, "socket", errno);
    int one = 1;
    setsockopt(connection.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event event{};
    event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    event.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, connection.fd, &event);
    connection.watching_output = true;
    connection.state = State::Connecting;
    if (connect(connection.fd, reinterpret_cast<sockaddr*>(&address_), sizeof address_) == 0) return connected(index);
    if (errno != EINPROGRESS) return fail(index, "connect", errno);
}

void Engine::connected(uint32_t index) {
    Connection& connection = connections_[index];
    connection.state = State::WarmingUp;
    watch(index, false);
    send_request(index, now_ns(), false);
}

void Engine::fail(uint32_t index, const char* why, int error) {
    Connection& connection = connections_[index];
    if (options_.verbose)
        std::fprintf(stderr, "tcpclient: connection %u: %s: %s\n", index, why, error ? strerror(error) : "closed");
    if (connection.fd >= 0) {
        epoll_ctl(epoll_, EPOLL_CTL_DEL, connection.fd, nullptr);
        close(connection.fd);
        connection.fd = -1;
    }
    bool ramping = connection.state == State::Connecting || connection.state == State::WarmingUp ||
                   connection.state == State::Waiting;
    for (const auto& request : connection.in_flight)
        if (request.measured) {
            ++connection.result.counts.lost;
            --measured_in_flight_;
        }
    connection.in_flight.clear();
    connection.out.clear();
    connection.out_offset = 0;
    connection.in = LineBuffer();
    if (ramping && phase_ == Phase::Ramp && connection.attempts < MaxConnectAttempts) {
        connection.state = State::Waiting;
        schedule(now_ns() + RetryDelayNs, index, TimerKind::Open);
        return;
    }
    if (ramping && phase_ == Phase::Ramp) {
        ++settled_;
        check_ramp_done();
    } else if (connection.state == State::Ready) {
        ++dropped_;
    }
    connection.state = State::Closed;
}

void Engine::send_request(uint32_t index, int64_t origin_ns, bool measured) {
    Connection& connection = connections_[index];
    uint64_t id = connection.next_id++;
    uint32_t variant = variant_of(index, id);
    connection.out += format_request(id, matrices_[variant]);
    connection.in_flight.push_back({id, variant, origin_ns, measured});
    if (measured) {
        ++connection.result.counts.sent;
        ++measured_in_flight_;
    }
    flush(index);
}

void Engine::flush(uint32_t index) {
    Connection& connection = connections_[index];
    while (connection.out_offset < connection.out.size()) {
        ssize_t wrote = send(connection.fd, connection.out.data() + connection.out_offset,
                             connection.out.size() - connection.out_offset, MSG_NOSIGNAL);
        if (wrote < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!connection.watching_output) watch(index, true);
                return;
            }
            if (errno == EINTR) continue;
            return fail(index, "send", errno);
        }
        connection.out_offset += size_t(wrote);
    }
    connection.out.clear();
    connection.out_offset = 0;
    if (connection.watching_output) watch(index, false);
}

void Engine::describe_wrong(uint32_t index, const char* what, std::string_view line) {
    if (wrong_reported_++ >= MaxReportedWrong) return;
    std::fprintf(stderr, "tcpclient: connection %u: wrong reply (%s): '%.*s%s'\n", index, what,
                 int(std::min<size_t>(line.size(), 80)), line.data(), line.size() > 80 ? "..." : "");
}

void Engine::reply(uint32_t index, std::string_view line, int64_t now) {
    Connection& connection = connections_[index];
    Counts& counts = connection.result.counts;
    if (connection.in_flight.empty()) {
        ++counts.wrong;   // a reply nobody asked for
        describe_wrong(index, "unsolicited", line);
        return;
    }
    Reply checked = check_reply(line, connection.in_flight.front().id,
                                matrices_[connection.in_flight.front().variant].c);
    if (checked.verdict == Verdict::WrongId) {
        // Replies come in order, so a reply to a later request means the server skipped the ones
        // before it: those are lost, and this reply is checked against its own request. An id that
        // was never sent (or already answered) is a wrong reply to the oldest request.
        for (size_t k = 1; k < connection.in_flight.size(); ++k) {
            if (connection.in_flight[k].id != checked.id) continue;
            for (size_t skipped = 0; skipped < k; ++skipped) {
                if (connection.in_flight.front().measured) {
                    ++counts.lost;
                    --measured_in_flight_;
                }
                connection.in_flight.pop_front();
            }
            checked = check_reply(line, checked.id, matrices_[connection.in_flight.front().variant].c);
            break;
        }
    }
    InFlight request = connection.in_flight.front();
    connection.in_flight.pop_front();
    const char* problem = nullptr;
    if (checked.verdict != Verdict::Ok) {
        problem = verdict_name(checked.verdict).data();
    } else if (options_.priorities == 0 ? checked.level != 0 : checked.level >= options_.priorities) {
        problem = "level out of range";
    } else if (connection.result.level >= 0 && checked.level != uint32_t(connection.result.level)) {
        problem = "level changed";
    }
    if (request.measured) --measured_in_flight_;
    if (problem) {
        describe_wrong(index, problem, line);
        if (request.measured) {
            ++counts.wrong;
            if (checked.verdict == Verdict::ErrorReply) ++counts.errors;
        }
        if (connection.state == State::WarmingUp) {
            // A server that answers wrong is broken: counted, and the connection is not retried.
            ++warmup_wrong_;
            connection.attempts = MaxConnectAttempts;
            fail(index, "warm-up reply wrong", 0);
        }
        return;
    }
    if (connection.state == State::WarmingUp) {
        connection.result.level = checked.level;
        connection.result.ready = true;
        connection.state = State::Ready;
        ++settled_;
        check_ramp_done();
        return;
    }
    if (!request.measured) return;
    int64_t latency_ns = now - request.origin_ns;
    if (latency_ns < 0) latency_ns = 0;
    ++counts.replies;
    if (interval_ns_ > 0 && latency_ns > interval_ns_) ++counts.late;
    counts.latency.record(uint64_t(latency_ns / 1000));
    // Closed loop: the next request an interval after this reply, if that is still in the window.
    if (options_.loop == Loop::Closed && phase_ == Phase::Measure && now + interval_ns_ < measure_end_)
        schedule(now + interval_ns_, index, TimerKind::Send);
    if (phase_ == Phase::Grace && measured_in_flight_ == 0) finish();
}

void Engine::readable(uint32_t index) {
    char buffer[ReadChunk];
    while (connections_[index].fd >= 0) {
        Connection& connection = connections_[index];
        ssize_t got = read(connection.fd, buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            return fail(index, "read", errno);
        }
        if (got == 0) return fail(index, "end of stream", 0);
        int64_t now = now_ns();
        connection.in.append(buffer, size_t(got));
        while (connections_[index].fd >= 0 && phase_ != Phase::Done) {
            auto line = connections_[index].in.next_line();
            if (!line) break;
            reply(index, *line, now);
        }
        if (connections_[index].fd >= 0 && connections_[index].in.overlong()) {
            describe_wrong(index, "line too long", "");
            auto& again = connections_[index];
            if (!again.in_flight.empty() && again.in_flight.front().measured) {
                ++again.result.counts.wrong;
                --measured_in_flight_;
                again.in_flight.pop_front();
            }
            return fail(index, "line too long", 0);
        }
        if (phase_ == Phase::Done) return;
    }
}

void Engine::check_ramp_done() {
    if (phase_ == Phase::Ramp && settled_ == options_.connections) start_measure();
}

void Engine::start_measure() {
    phase_ = Phase::Measure;
    measure_start_ = now_ns();
    measure_end_ = measure_start_ + int64_t(options_.duration_s * 1e9);
    uint32_t ready = 0;
    for (uint32_t i = 0; i < options_.connections; ++i) {
        Connection& connection = connections_[i];
        if (connection.state == State::Ready) {
            ++ready;
            // First sends spread over one interval, in connection order.
            int64_t offset = options_.connections > 1 ? interval_ns_ * int64_t(i) / int64_t(options_.connections) : 0;
            schedule(measure_start_ + offset, i, TimerKind::Send);
        } else if (connection.state != State::Closed) {
            // Not ready by the connect timeout: given up, not measured.
            if (connection.fd >= 0) {
                epoll_ctl(epoll_, EPOLL_CTL_DEL, connection.fd, nullptr);
                close(connection.fd);
                connection.fd = -1;
            }
            connection.in_flight.clear();
            connection.state = State::Closed;
        }
    }
    if (options_.verbose)
        std::fprintf(stderr, "tcpclient: %u of %u connections ready; measuring for %.1f s\n", ready,
                     options_.connections, options_.duration_s);
    schedule(measure_end_, UINT32_MAX, TimerKind::PhaseEnd);
}

void Engine::start_grace() {
    phase_ = Phase::Grace;
    grace_end_ = now_ns() + int64_t(options_.grace_ms) * 1'000'000;
    schedule(grace_end_, UINT32_MAX, TimerKind::PhaseEnd);
    if (measured_in_flight_ == 0) finish();
}

void Engine::finish() {
    phase_ = Phase::Done;
    for (auto& connection : connections_)
        for (const auto& request : connection.in_flight)
            if (request.measured) ++connection.result.counts.lost;
}

void Engine::fire(const Timer& timer) {
    switch (timer.kind) {
        case TimerKind::PhaseEnd:
            // Each phase's end is its own timer; an earlier phase's (the ramp's deadline) is stale.
            if (phase_ == Phase::Ramp && timer.when == ramp_deadline_) start_measure();
            else if (phase_ == Phase::Measure && timer.when == measure_end_) start_grace();
            else if (phase_ == Phase::Grace && timer.when == grace_end_) finish();
            return;
        case TimerKind::Open:
            if (phase_ == Phase::Ramp && connections_[timer.connection].state == State::Waiting)
                open_connection(timer.connection);
            return;
        case TimerKind::Send: {
            Connection& connection = connections_[timer.connection];
            if (phase_ != Phase::Measure || connection.state != State::Ready || timer.when >= measure_end_) return;
            if (options_.loop == Loop::Closed) {
                send_request(timer.connection, now_ns(), true);
            } else {
                send_request(timer.connection, timer.when, true);
                if (timer.when + interval_ns_ < measure_end_)
                    schedule(timer.when + interval_ns_, timer.connection, TimerKind::Send);
            }
            return;
        }
    }
}

Report Engine::run() {
    int64_t start = now_ns();
    int64_t ramp_ns = int64_t(options_.ramp_ms) * 1'000'000;
    for (uint32_t i = 0; i < options_.connections; ++i) schedule(start + ramp_ns * i, i, TimerKind::Open);
    ramp_deadline_ = start + ramp_ns * options_.connections + int64_t(options_.connect_timeout_s) * 1'000'000'000;
    schedule(ramp_deadline_, UINT32_MAX, TimerKind::PhaseEnd);
    std::vector<epoll_event> events(1024);
    while (phase_ != Phase::Done) {
        while (!timers_.empty() && timers_.top().when <= now_ns() && phase_ != Phase::Done) {
            Timer timer = timers_.top();
            timers_.pop();
            fire(timer);
        }
        if (phase_ == Phase::Done) break;
        itimerspec due{};
        if (!timers_.empty()) {
            due.it_value.tv_sec = timers_.top().when / 1'000'000'000;
            due.it_value.tv_nsec = timers_.top().when % 1'000'000'000;
        }
        timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &due, nullptr);
        int ready = epoll_wait(epoll_, events.data(), int(events.size()), timers_.empty() ? 1000 : -1);
        if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + strerror(errno));
        for (int e = 0; e < ready && phase_ != Phase::Done; ++e) {
            uint64_t key = events[e].data.u64;
            if (key == TimerToken) {
                uint64_t expirations;
                [[maybe_unused]] ssize_t ignored = read(timer_fd_, &expirations, sizeof expirations);
                continue;
            }
            uint32_t index = uint32_t(key);
            Connection& connection = connections_[index];
            if (connection.fd < 0) continue;
            uint32_t flags = events[e].events;
            if (connection.state == State::Connecting) {
                if (flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                    int error = 0;
                    socklen_t length = sizeof error;
                    getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
                    if (error != 0 || (flags & (EPOLLERR | EPOLLHUP))) fail(index, "connect", error);
                    else connected(index);
                }
                continue;
            }
            if (flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable(index);
            if (connections_[index].fd >= 0 && (flags & EPOLLOUT)) flush(index);
        }
    }
    Report report;
    report.options = options_;
    report.window_s = double(measure_end_ - measure_start_) / 1e9;
    report.dropped = dropped_;
    report.warmup_wrong = warmup_wrong_;
    for (auto& connection : connections_) report.connections.push_back(connection.result);
    return report;
}

}  // namespace

Report run(const Options& options) {
    Engine engine(options);
    return engine.run();
}

}  // namespace tcpclient
