/* linux-uname: uname(2) and the identity calls glibc wraps. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
    struct utsname name;
    if (uname(&name) != 0) { printf("linux-uname: FAILED: uname\n"); return 1; }
    printf("linux-uname: %s %s %s\n", name.sysname, name.release, name.machine);
    printf("linux-uname: uid %d euid %d gid %d egid %d ppid %d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
           (int)getegid(), (int)getppid());
    if (strcmp(name.machine, "riscv64") != 0 || getuid() != 0) return 1;
    printf("linux-uname: ok\n");
    return 0;
}
