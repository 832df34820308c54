// hello: the first user program. Prints its pid and arguments and exits 0.
#include "user/lib/print.hpp"

int main(int argc, char** argv) {
    long pid = user::getpid();
    user::say("hello from user space: pid ", pid, ", ", argc, " argument(s):");
    for (int i = 0; i < argc; ++i) user::say(" ", argv[i]);
    user::print("\n");
    return pid == user::gettid() ? 0 : 1;
}
