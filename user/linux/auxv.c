/* linux-auxv: the auxiliary vector, field by field, as glibc's getauxval sees it, and the initial
 * stack's layout (argv, envp, auxv in a row). */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern char** environ;
extern const ElfW(Ehdr) __ehdr_start;  /* the linker's: this program's ELF header, in memory */
void _start(void);

static int failures;
static void check(const char* name, int ok, unsigned long value) {
    printf("linux-auxv: %-16s %#lx %s\n", name, value, ok ? "ok" : "FAILED");
    failures += !ok;
}

int main(int argc, char** argv) {
    const ElfW(Ehdr)* header = &__ehdr_start;
    unsigned long phdr = getauxval(AT_PHDR);
    check("AT_PHDR", phdr == (unsigned long)header + header->e_phoff, phdr);
    check("AT_PHENT", getauxval(AT_PHENT) == sizeof(ElfW(Phdr)), getauxval(AT_PHENT));
    check("AT_PHNUM", getauxval(AT_PHNUM) == header->e_phnum, getauxval(AT_PHNUM));
    check("AT_PAGESZ", getauxval(AT_PAGESZ) == 4096, getauxval(AT_PAGESZ));
    check("AT_BASE", getauxval(AT_BASE) == 0, getauxval(AT_BASE));
    check("AT_ENTRY", getauxval(AT_ENTRY) == (unsigned long)&_start, getauxval(AT_ENTRY));
    check("AT_UID", getauxval(AT_UID) == 0, getauxval(AT_UID));
    check("AT_EUID", getauxval(AT_EUID) == 0, getauxval(AT_EUID));
    check("AT_GID", getauxval(AT_GID) == 0, getauxval(AT_GID));
    check("AT_EGID", getauxval(AT_EGID) == 0, getauxval(AT_EGID));
    check("AT_SECURE", getauxval(AT_SECURE) == 0, getauxval(AT_SECURE));
    const unsigned char* random = (const unsigned char*)getauxval(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; random && i < 16; ++i) nonzero |= random[i];
    check("AT_RANDOM", random != NULL && nonzero, (unsigned long)random);
    unsigned long hwcap = getauxval(AT_HWCAP);
    unsigned long imac = (1ul << ('i' - 'a')) | (1ul << ('m' - 'a')) | (1ul << ('a' - 'a')) | (1ul << ('c' - 'a'));
    unsigned long fd = (1ul << ('f' - 'a')) | (1ul << ('d' - 'a'));
    check("AT_HWCAP", (hwcap & imac) == imac && (hwcap & fd) == fd, hwcap);  /* built lp64d: needs F and D */
    check("AT_CLKTCK", getauxval(AT_CLKTCK) == 100, getauxval(AT_CLKTCK));
    const char* name = (const char*)getauxval(AT_EXECFN);
    check("AT_EXECFN", name != NULL && strcmp(name, argv[0]) == 0, (unsigned long)name);
    const unsigned char* vdso = (const unsigned char*)getauxval(AT_SYSINFO_EHDR);
    check("AT_SYSINFO_EHDR", vdso != NULL && memcmp(vdso, ELFMAG, SELFMAG) == 0, (unsigned long)vdso);
    /* Linux's layout: argv's NULL, then envp, its NULL, then the auxiliary vector. */
    check("envp after argv", environ == argv + argc + 1, (unsigned long)environ);
    char** end = environ;
    while (*end) ++end;
    const unsigned long* auxv = (const unsigned long*)(end + 1);
    int found_phdr = 0;
    for (; auxv[0] != AT_NULL; auxv += 2) found_phdr |= auxv[0] == AT_PHDR && auxv[1] == phdr;
    check("auxv after envp", found_phdr, 0);
    if (failures) return 1;
    printf("linux-auxv: ok\n");
    return 0;
}
