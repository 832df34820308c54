// readline: reads one line from the console (fd 0) and prints it back.
#include "user/lib/print.hpp"

int main() {
    char line[128];
    unsigned long length = 0;
    user::print("readline: type a line\n");
    while (length < sizeof(line)) {
        char c;
        long got = user::read(0, &c, 1);
        if (got != 1) return 1;
        if (c == '\r' || c == '\n') break;
        line[length++] = c;
    }
    user::print("readline: got '");
    user::write(1, line, length);
    user::print("'\n");
    return 0;
}
