// memfault: unmaps the middle page of a mapping, checks the pages beside it still work, then
// stores to the unmapped page. The kernel must end it with a store page fault (exit status 139);
// it never prints "memfault: still running".
#include "user/lib/print.hpp"

int main() {
    constexpr uintptr_t Page = 4096;
    long base = user::mmap(0, 3 * Page, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    if (base < 0) {
        user::say("memfault: mmap failed: ", base, "\n");
        return 1;
    }
    auto* words = reinterpret_cast<volatile long*>(base);
    constexpr size_t WordsPerPage = Page / sizeof(long);
    for (size_t page = 0; page < 3; ++page) words[page * WordsPerPage] = static_cast<long>(page) + 1;
    if (user::munmap(base + Page, Page) != 0) {
        user::print("memfault: munmap failed\n");
        return 1;
    }
    words[0] = 10;
    words[2 * WordsPerPage] = 30;
    if (words[0] != 10 || words[2 * WordsPerPage] != 30) {
        user::print("memfault: pages beside the hole lost: FAILED\n");
        return 1;
    }
    user::print("memfault: storing to the unmapped page\n");
    words[WordsPerPage] = 20;
    user::print("memfault: still running: FAILED\n");
    return 1;
}
