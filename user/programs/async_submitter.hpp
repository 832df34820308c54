// Asynchronous calls issued by hand (the raw ecall: number | AsyncCallBit in a7, the token in a6),
// for bin/hostile and bin/asyncgreedy (issue 14: one process's share of the work executor).
#pragma once

#include "user/lib/print.hpp"

namespace hostile {

// An asynchronous call by hand: number | AsyncCallBit in a7, the token in a6.
inline long submit_async(long number, long a0, long a1, long a2, long token) {
    register long r_a0 asm("a0") = a0;
    register long r_a1 asm("a1") = a1;
    register long r_a2 asm("a2") = a2;
    register long r_a6 asm("a6") = token;
    register long r_a7 asm("a7") = number | 0x10000;
    asm volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    return r_a0;
}

// Submits pipe reads that cannot finish until refused (at most `most`); writes the count on `ready`.
// The runtime has made the process's ring and slots before main (bin/asyncgreedy asks for 1,024
// slots, others get 64). Shared with user/programs/asyncgreedy.cpp.
inline int async_submitter(int ready, long most) {
    int ends[2];
    if (user::pipe2(ends) != 0) return 1;
    static char byte;
    long count = 0;
    while (count < most && submit_async(63, ends[0], reinterpret_cast<long>(&byte), 1, count + 1) == 0) ++count;
    long refused = count < most ? submit_async(63, ends[0], reinterpret_cast<long>(&byte), 1, 9999) : 0;
    if (count < most && refused != -user::EAGAIN) count = -refused - 1000;  // a wrong refusal shows
    if (user::write(ready, &count, sizeof(count)) != sizeof(count)) return 1;
    user::Timespec time{60, 0};
    (void)user::nanosleep(&time, nullptr);
    return 3;
}

} // namespace hostile
