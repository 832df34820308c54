// tcpserver: the paper's TCP server (issue 11, docs/experiments.md "The server").
//
//   tcpserver [--model thread|coroutine] [--parts 1|3] [--threads K] [--priorities L] [--port P]
//   tcpserver --selftest
//
// Each connection sends matrices, one request a line, and gets back their squares (protocol.hpp);
// or speaks HTTP/1.1. The model decides who serves a connection: a thread (or three) blocking in
// the synchronous calls, or a coroutine (or three) on K poll threads with the asynchronous ones.
// Prints "tcpserver: listening on port P model M parts X threads K priorities L" once it accepts.
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/lib/net.hpp"
#include "user/lib/runtime.hpp"
#include "user/programs/tcpserver/server.hpp"

// Every connection of the coroutine model waits in an asynchronous read: as many call slots as the
// kernel lets one process have in flight (its share of the work executor, 1,536), and a ring that
// holds all their completions. bin/tcpserver-fewslots, the same
// program with 4 call slots, lets the self-test exercise refused submissions (coroutines.cpp).
namespace user {
extern const uint32_t completion_ring_capacity = 2048;
extern const uint32_t async_calls_in_flight_limit = TCPSERVER_CALL_SLOTS;
// One coroutine per connection, three with --parts 3, besides the accept loop and main.
extern const uint32_t control_block_count = 4096;
} // namespace user

namespace tcpserver {

namespace abi = cokernel::abi;

Config config;
std::atomic<uint64_t> connections_accepted{0};
std::atomic<uint64_t> requests_served{0};
std::atomic<uint64_t> submissions_refused{0};
std::atomic<uint64_t> permit_waits{0};

const char* model_name(Model model) { return model == Model::Thread ? "thread" : "coroutine"; }

namespace {

// The status page's measurements (docs/experiments.md, "1 and 2 vCPUs"): instructions retired on
// this hart (with one hart, the whole system's; exact under -icount), the runtime's counters and the
// kernel's (kernel_counters). Counters since start: a reader takes two pages and subtracts.
uint32_t measurements(StatusLine* lines, uint32_t capacity) {
    uint32_t count = 0;
    auto add = [&](const char* name, uint64_t value) {
        if (count < capacity) lines[count++] = StatusLine{name, value};
    };
    uint64_t instret;
    asm volatile("rdinstret %0" : "=r"(instret));
    add("instret", instret);
    add("permit waits", permit_waits.load(std::memory_order_relaxed));
    const user::Runtime& runtime = *user::runtime();
    const vdso::UserInterruptContext& interrupts = runtime.interrupts;
    add("user interrupt handler runs", interrupts.interrupts.load(std::memory_order_relaxed));
    add("completions delivered", interrupts.delivered.load(std::memory_order_relaxed));
    add("completions drained after submission", interrupts.drained_after_submission.load(std::memory_order_relaxed));
    add("completions inline", interrupts.completed_inline.load(std::memory_order_relaxed));
    add("completions polled", runtime.completions_polled.load(std::memory_order_relaxed));
    add("completions stale", interrupts.stale.load(std::memory_order_relaxed));
    add("coroutines resumed", user::hart_yield_checks(runtime));
    add("poll thread idle sleeps", runtime.idle_sleeps.load(std::memory_order_relaxed));
    add("priority publications", runtime.priority_publications.load(std::memory_order_relaxed));
    add("hart yields", runtime.hart_yields.load(std::memory_order_relaxed));
    user::KernelCountersRecord k{};
    if (user::kernel_counters(&k) == 0) {
        add("kernel timer interrupts", k.timer_interrupts);
        add("kernel external interrupts", k.external_interrupts);
        add("kernel kicks", k.kicks);
        add("kernel idle waits", k.idle_waits);
        add("kernel idle instret", k.idle_instret);
        add("kernel thread switches", k.thread_switches);
        add("kernel syscalls", k.syscalls);
        add("kernel user interrupts raised", k.user_interrupts_raised);
        add("kernel user interrupts already pending", k.user_interrupts_pending);
        add("kernel user interrupt waits ended", k.user_interrupt_waits_ended);
        add("kernel user interrupts delivered", k.user_interrupts_delivered);
        add("kernel completions posted", k.completions_posted);
        add("kernel completions silent", k.completions_silent);
        add("kernel calls refused", k.calls_refused);
        add("kernel calls run on return", k.kernel_calls_on_return);
        add("kernel calls run by scheduler", k.kernel_calls_by_scheduler);
        add("kernel network runs", k.network_runs);
        add("kernel frames received", k.frames_received);
        add("kernel frames sent", k.frames_sent);
        add("kernel frames dropped", k.frames_dropped);
        add("kernel futex waits", k.futex_waits);
        add("kernel futex wakes", k.futex_wakes);
    }
    user::KernelUsageRecord usage{};
    if (user::kernel_usage(&usage) == 0) { // in use now, not counters
        add("kernel tcp pcbs in use", usage.tcp_pcbs);
        add("kernel pool pbufs in use", usage.pool_pbufs);
    }
    return count;
}

} // namespace

StatusCounters status_counters() {
    return StatusCounters{model_name(config.model), config.parts, config.model == Model::Thread ? 0 : config.threads,
                          config.priorities, connections_accepted.load(std::memory_order_relaxed),
                          requests_served.load(std::memory_order_relaxed),
                          submissions_refused.load(std::memory_order_relaxed), &measurements};
}

bool serve_input(Connection& connection) {
    for (;;) {
        Parsed parsed = parse_next(connection.session, connection.input, connection.job);
        if (parsed == Parsed::NeedMore) return !connection.session.finished;
        compute(connection.job);
        if (!format_reply(connection.job, connection.level, status_counters(), connection.output)) return false;
        requests_served.fetch_add(1, std::memory_order_relaxed);
        if (connection.job.close_after) return false;
    }
}

namespace {

// A decimal number in [low, high], the whole argument; false otherwise.
bool parse_number(const char* text, uint64_t low, uint64_t high, uint32_t& out) {
    uint64_t value = 0;
    if (*text == 0) return false;
    for (; *text; ++text) {
        if (*text < '0' || *text > '9') return false;
        value = value * 10 + static_cast<uint64_t>(*text - '0');
        if (value > high) return false;
    }
    if (value < low) return false;
    out = static_cast<uint32_t>(value);
    return true;
}

bool equal(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

int usage() {
    user::eprintln("usage: tcpserver [--model thread|coroutine] [--parts 1|3] [--threads 1..{}] [--priorities 1..32] "
                   "[--port P] | --selftest",
                   user::MaxPollThreads + 1);
    return 2;
}

int listen_on(uint16_t port) {
    int fd = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketStream | abi::SocketCloseOnExec));
    if (fd < 0) {
        user::eprintln("tcpserver: socket: {}", fd);
        return fd;
    }
    int one = 1;
    user::setsockopt(fd, abi::SocketLevel, abi::OptionReuseAddress, &one, sizeof(one));
    user::SocketAddressIn address = user::inet_address(0, port);
    if (long r = user::bind(fd, &address, sizeof(address)); r < 0) {
        user::eprintln("tcpserver: bind to port {}: {}", port, r);
        return static_cast<int>(r);
    }
    if (long r = user::listen(fd, 1024); r < 0) {
        user::eprintln("tcpserver: listen: {}", r);
        return static_cast<int>(r);
    }
    return fd;
}

} // namespace

} // namespace tcpserver

using namespace tcpserver;

user::Task<int> async_main(user::Runtime& runtime, int argc, char** argv) {
    bool threads_given = false;
    for (int i = 1; i < argc; ++i) {
        const char* option = argv[i];
        if (equal(option, "--selftest")) co_return run_selftest();
        if (equal(option, "--count")) co_return run_instruction_counts();
        if (i + 1 >= argc) co_return usage();
        const char* value = argv[++i];
        uint32_t number = 0;
        if (equal(option, "--model")) {
            if (equal(value, "thread")) config.model = Model::Thread;
            else if (equal(value, "coroutine")) config.model = Model::Coroutine;
            else co_return usage();
        } else if (equal(option, "--parts")) {
            if (!parse_number(value, 1, 3, number) || number == 2) co_return usage();
            config.parts = number;
        } else if (equal(option, "--threads")) {
            if (!parse_number(value, 1, user::MaxPollThreads + 1, number)) co_return usage();
            config.threads = number;
            threads_given = true;
        } else if (equal(option, "--priorities")) {
            if (!parse_number(value, 1, 32, number)) co_return usage();
            config.priorities = number;
        } else if (equal(option, "--port")) {
            if (!parse_number(value, 1, 65535, number)) co_return usage();
            config.port = static_cast<uint16_t>(number);
        } else {
            co_return usage();
        }
    }
    if (config.model == Model::Thread && threads_given) {
        user::eprintln("tcpserver: --threads is for the coroutine model");
        co_return 2;
    }
    int listener = listen_on(config.port);
    if (listener < 0) co_return 1;
    user::println("tcpserver: listening on port {} model {} parts {} threads {} priorities {}", config.port,
                  model_name(config.model), config.parts, config.model == Model::Thread ? 0 : config.threads,
                  config.priorities);
    if (config.model == Model::Thread) co_return run_thread_model(listener);
    user::Result<int> status = co_await run_coroutine_model(runtime, listener);
    co_return status ? *status : 1;
}
