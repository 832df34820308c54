/* linux-clocks: the clocks C programs ask for, and clock_nanosleep (relative and absolute). The real
 * time (from QEMU virt's RTC, or the boot argument realtime=) must be past 2020-01-01. */
#include <stdio.h>
#include <time.h>

static long long ns(const struct timespec* t) { return t->tv_sec * 1000000000ll + t->tv_nsec; }

int main(void) {
    static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
                                       CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                                       CLOCK_BOOTTIME};
    int failures = 0;
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; ++i) {
        struct timespec t;
        if (clock_gettime(clocks[i], &t) != 0) { printf("linux-clocks: FAILED: clock %d\n", (int)clocks[i]); ++failures; }
    }
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    if (real.tv_sec < 1577836800 || time(NULL) < 1577836800) {
        printf("linux-clocks: FAILED: real time %lld is before 2020\n", (long long)real.tv_sec);
        ++failures;
    }
    struct timespec before, after, request = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    if (clock_nanosleep(CLOCK_MONOTONIC, 0, &request, NULL) != 0) ++failures;
    clock_gettime(CLOCK_MONOTONIC, &after);
    long long slept = ns(&after) - ns(&before);
    if (slept < 20000000ll) { printf("linux-clocks: FAILED: relative sleep of %lld ns\n", slept); ++failures; }
    struct timespec until = after;
    until.tv_nsec += 30 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) { until.tv_nsec -= 1000000000; ++until.tv_sec; }
    if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) != 0) ++failures;
    clock_gettime(CLOCK_MONOTONIC, &after);
    if (ns(&after) < ns(&until)) { printf("linux-clocks: FAILED: woke before the absolute time\n"); ++failures; }
    struct timespec nap = {0, 5 * 1000 * 1000};
    if (nanosleep(&nap, NULL) != 0) ++failures;
    if (failures) return 1;
    printf("linux-clocks: ok\n");
    return 0;
}
