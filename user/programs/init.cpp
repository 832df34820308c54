// init: the first process. Starts the shell on the console and starts it again if it ends;
// reaps whatever else it is parent of.
#include "user/lib/print.hpp"

int main() {
    const char* shell[] = {"bin/sh", nullptr};
    for (;;) {
        long pid = user::spawn("bin/sh", shell);
        if (pid < 0) {
            user::say("init: cannot start bin/sh (error ", -pid, ")\n");
            return 1;
        }
        int status = 0;
        long reaped;
        while ((reaped = user::wait4(-1, &status, 0)) > 0 && reaped != pid) {
        }
        user::print("init: the shell ended; starting a new one\n");
    }
}
