// fptest: floating-point state belongs to one thread (docs/architecture.md, "Floating point").
//
//   fptest [threads]   the main thread sets round-towards-zero, then starts `threads` (default 4)
//                      threads; each first checks it inherited that fcsr, then for many rounds loads
//                      all 32 f registers with values unique to it and the round, sets its own
//                      rounding mode, spins and yields (so that other threads and processes take the
//                      hart and the FP unit), and checks that every register, the rounding mode and a
//                      division rounded in that mode are what it left there.
//   fptest clean       a fresh program: every f register is 0 and fcsr is 0 (round to nearest, no flags)
//   fptest exec        dirties the FP state with another rounding mode, then execs `fptest clean`
// Prints "fptest: ok" and exits 0, or names the first difference and exits 1. The program is built
// rv64imac like the rest; the F/D instructions are in the inline assembly (".option arch, +d").
#include "user/lib/print.hpp"

namespace {

constexpr int MaxThreads = 8;
constexpr int Rounds = 300;
constexpr size_t StackSize = 16 * 1024;

// Rounding modes (frm): round to nearest even, towards zero, down, up, to nearest max magnitude.
constexpr uint64_t Rne = 0, Rtz = 1, Rdn = 2, Rup = 3, Rmm = 4;
// 1/3 and -1/3 in each mode: only "up" and "down" differ from the others.
constexpr uint64_t Third = 0x3fd5555555555555, ThirdUp = 0x3fd5555555555556;
constexpr uint64_t MinusThird = 0xbfd5555555555555, MinusThirdDown = 0xbfd5555555555556;
constexpr uint64_t One = 0x3ff0000000000000, Three = 0x4008000000000000, MinusOne = 0xbff0000000000000;

struct Round {
    uint64_t in[32];
    uint64_t out[32];
    uint64_t frm;          // set before the spin
    uint64_t frm_after;    // read after it
    uint64_t quotients[2]; // f1 / f2 and f3 / f2 after it, in that mode
    uint64_t spins;
    uint64_t yield;        // nonzero: sched_yield in the middle of the spin
};

// Loads f0..f31 from in, sets frm, spins (yielding once if asked), stores f0..f31 to out, reads frm
// and divides f1/f2 and f3/f2 with the dynamic rounding mode.
void run_round(Round& r) {
    asm volatile(
        ".option push\n"
        ".option arch, +d\n"
        "ld t0, %[frm_offset](%[r])\n"
        "fsrm t0\n"
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fld f\\n, \\n*8(%[r])\n"
        ".endr\n"
        "ld t1, %[spins_offset](%[r])\n"
        "srli t2, t1, 1\n"
        "1: addi t1, t1, -1\n"
        "bne t1, t2, 2f\n"
        "ld t0, %[yield_offset](%[r])\n"
        "beqz t0, 2f\n"
        "li a7, 124\n"  // sched_yield
        "ecall\n"
        "2: bnez t1, 1b\n"
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fsd f\\n, (32+\\n)*8(%[r])\n"
        ".endr\n"
        "frrm t0\n"
        "sd t0, %[frm_after_offset](%[r])\n"
        "fdiv.d f0, f1, f2\n"
        "fsd f0, %[q_offset](%[r])\n"
        "fdiv.d f0, f3, f2\n"
        "fsd f0, %[q_offset]+8(%[r])\n"
        ".option pop\n"
        :
        : [r] "r"(&r), [frm_offset] "i"(offsetof(Round, frm)), [spins_offset] "i"(offsetof(Round, spins)),
          [yield_offset] "i"(offsetof(Round, yield)), [frm_after_offset] "i"(offsetof(Round, frm_after)),
          [q_offset] "i"(offsetof(Round, quotients))
        : "t0", "t1", "t2", "a0", "a7", "memory");
}

uint64_t read_fcsr() {
    uint64_t value;
    asm volatile(".option push\n.option arch, +d\nfrcsr %0\n.option pop" : "=r"(value));
    return value;
}

void store_all(uint64_t* out) {
    asm volatile(
        ".option push\n.option arch, +d\n"
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fsd f\\n, \\n*8(%0)\n"
        ".endr\n.option pop"
        :
        : "r"(out)
        : "memory");
}

int failures = 0;
void expect(const char* what, long who, uint64_t got, uint64_t wanted) {
    if (got == wanted) return;
    if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 4)
        user::say("fptest: FAILED ", what, " (thread ", who, "): got ", static_cast<long>(got), ", wanted ",
                  static_cast<long>(wanted), "\n");
}

uint64_t inherited_fcsr = Rtz << 5;

int hammer(void* argument) {
    long index = reinterpret_cast<long>(argument);
    expect("fcsr inherited from the creating thread", index, read_fcsr(), inherited_fcsr);
    uint64_t tag = (static_cast<uint64_t>(user::getpid()) << 40) | (static_cast<uint64_t>(index) << 32);
    static const uint64_t modes[] = {Rne, Rtz, Rdn, Rup, Rmm};
    Round r{};
    for (int round = 0; round < Rounds; ++round) {
        for (int i = 0; i < 32; ++i) r.in[i] = tag | (static_cast<uint64_t>(round) << 8) | static_cast<uint64_t>(i);
        r.in[1] = One;
        r.in[2] = Three;
        r.in[3] = MinusOne;
        r.frm = modes[(index + round) % 5];
        r.spins = 2000 + (index * 997 + round * 131) % 3000;
        r.yield = (round + index) % 3 == 0;
        run_round(r);
        for (int i = 0; i < 32; ++i) expect("an f register changed underneath", index, r.out[i], r.in[i]);
        expect("the rounding mode changed underneath", index, r.frm_after, r.frm);
        expect("1/3 rounded in the thread's mode", index, r.quotients[0], r.frm == Rup ? ThirdUp : Third);
        expect("-1/3 rounded in the thread's mode", index, r.quotients[1], r.frm == Rdn ? MinusThirdDown : MinusThird);
        if (failures) break;
    }
    return 0;
}

int check_clean() {
    uint64_t fcsr = read_fcsr();  // the program's first F/D instruction
    uint64_t registers[32];
    store_all(registers);
    expect("fcsr of a fresh program", 0, fcsr, 0);
    for (int i = 0; i < 32; ++i) expect("an f register of a fresh program", 0, registers[i], 0);
    if (failures) return 1;
    user::say("fptest: clean ok\n");
    return 0;
}

int dirty_then_exec() {
    Round r{};
    for (int i = 0; i < 32; ++i) r.in[i] = 0x5555000000000000ull | static_cast<uint64_t>(i);
    r.frm = Rup;
    r.spins = 10;
    run_round(r);
    const char* arguments[] = {"bin/fptest", "clean", nullptr};
    user::execve("bin/fptest", arguments);
    user::say("fptest: FAILED execve\n");
    return 1;
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && same(argv[1], "clean")) return check_clean();
    if (argc > 1 && same(argv[1], "exec")) return dirty_then_exec();
    int threads = argc > 1 ? argv[1][0] - '0' : 4;
    if (threads < 1 || threads > MaxThreads) threads = 4;
    asm volatile(".option push\n.option arch, +d\nfsrmi %0\n.option pop" : : "i"(Rtz));
    static int thread_ids[MaxThreads];
    for (int i = 1; i < threads; ++i) {
        long stack = user::mmap(0, StackSize, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) return 1;
        long tid = user::spawn_thread(hammer, reinterpret_cast<void*>(static_cast<long>(i)),
                                      reinterpret_cast<void*>(stack + StackSize), &thread_ids[i]);
        expect("spawn_thread", i, tid > 0, 1);
    }
    hammer(nullptr);
    for (int i = 1; i < threads; ++i) user::join_thread(&thread_ids[i]);
    if (failures) return 1;
    user::say("fptest: ok\n");
    return 0;
}
