/* linux-pthreads: glibc's threads on the kernel's clone: create/join, a mutex-protected counter, a
 * condition variable hand-off, thread-local storage, a guard page below each thread's stack (glibc
 * makes it with mprotect PROT_NONE). With the argument "guard" a thread writes into its guard page
 * and the process must end with SIGSEGV (exit status 139). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define INCREMENTS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;
static __thread long mine = 100;

static void* work(void* argument) {
    long index = (long)argument;
    mine += index;  /* thread-local: each thread starts from the initial value */
    for (int i = 0; i < INCREMENTS; ++i) {
        pthread_mutex_lock(&lock);
        ++counter;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);  /* take turns in index order through the condition variable */
    while (turn != index) pthread_cond_wait(&changed, &lock);
    ++turn;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return (void*)mine;
}

static void* touch_guard(void* argument) {
    (void)argument;
    pthread_attr_t attributes;
    void* stack;
    size_t size, guard;
    pthread_getattr_np(pthread_self(), &attributes);
    pthread_attr_getstack(&attributes, &stack, &size);
    pthread_attr_getguardsize(&attributes, &guard);
    printf("linux-pthreads: guard of %zu bytes below the stack at %p; writing into it\n", guard, stack);
    fflush(stdout);
    ((volatile char*)stack)[-1] = 1;
    printf("linux-pthreads: FAILED: the guard page is writable\n");
    return NULL;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "guard") == 0) {
        pthread_t thread;
        pthread_create(&thread, NULL, touch_guard, NULL);
        pthread_join(thread, NULL);
        return 1;
    }
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; ++i)
        if (pthread_create(&threads[i], NULL, work, (void*)i) != 0) { printf("linux-pthreads: FAILED: create\n"); return 1; }
    int failures = 0;
    for (long i = 0; i < THREADS; ++i) {
        void* result;
        if (pthread_join(threads[i], &result) != 0) ++failures;
        if ((long)result != 100 + i) { printf("linux-pthreads: FAILED: TLS of thread %ld: %ld\n", i, (long)result); ++failures; }
    }
    /* pthread_cond_timedwait on CLOCK_REALTIME (FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME): times out. */
    struct timespec deadline, after;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 50 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_nsec -= 1000000000; ++deadline.tv_sec; }
    pthread_mutex_lock(&lock);
    int timed = pthread_cond_timedwait(&changed, &lock, &deadline);
    pthread_mutex_unlock(&lock);
    clock_gettime(CLOCK_REALTIME, &after);
    if (timed != ETIMEDOUT || after.tv_sec * 1000000000ll + after.tv_nsec < deadline.tv_sec * 1000000000ll + deadline.tv_nsec) {
        printf("linux-pthreads: FAILED: timed wait returned %d\n", timed);
        ++failures;
    }
    if (counter != (long)THREADS * INCREMENTS) { printf("linux-pthreads: FAILED: counter %ld\n", counter); ++failures; }
    if (mine != 100) ++failures;
    if (failures) return 1;
    printf("linux-pthreads: %d threads, counter %ld, ok\n", THREADS, counter);
    return 0;
}
