#include "kernel/syscall/call_threads.hpp"

#include <atomic>
#include <new>

#include "kernel/console/log.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/kernel_thread.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

using Promise = Call::promise_type;

class CallThreads {
public:
    WaitQueue work;          // idle threads sleep here; its lock guards everything up to `closing`
    WaitQueue finished;      // synchronous callers wait here (handed_done, under its lock)
    Promise* head = nullptr; // calls handed over and not yet taken, by priority (FIFO among equals)
    uint32_t unclaimed = 0;  // calls in that queue
    uint32_t coming = 0;     // threads woken or being made to take one; kept >= unclaimed
    uint32_t threads = 0;    // alive (made and not yet ended)
    bool closing = false;
    std::atomic<uint32_t> references{1};  // the owner's, one per thread, one per synchronous caller
};

namespace {

// One kernel thread of a runner; lives from its making to its end (the heap: made outside its stack).
struct Worker {
    CallThreads* owner;
    ProcessRef charged;     // whose memory limit pays for the thread
    bool summoned = true;   // counted in owner->coming (made, or woken by a hand-over)
};

void drop(CallThreads& threads) {
    if (threads.references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete &threads;
}

// With work.lock held: `call` into the queue behind every call of equal or higher priority.
void enqueue_locked(CallThreads& threads, Promise& call) {
    Promise** link = &threads.head;
    while (*link && (*link)->priority <= call.priority) link = &(*link)->next_handed;
    call.next_handed = *link;
    *link = &call;
    ++threads.unclaimed;
}

bool remove_locked(CallThreads& threads, Promise& call) {
    for (Promise** link = &threads.head; *link; link = &(*link)->next_handed) {
        if (*link != &call) continue;
        *link = call.next_handed;
        --threads.unclaimed;
        return true;
    }
    return false;
}

bool first_thread(Thread&, void*) { return true; }

// Runs one handed call to its end on this kernel thread, then gives its result to whoever waits.
void run(CallThreads& threads, Thread& self, Promise& call) {
    Call::Handle frame = Call::Handle::from_promise(call);
    self.priority = call.priority;  // from its next wake on, the scheduler queues it there
    self.serving = call.served;
    call.thread = &self;
    frame.resume();  // every wait blocks this thread: it returns finished
    self.serving = nullptr;
    if (!frame.done()) panic("call threads: a handed call suspended");
    if (CallSlot* slot = call.slot) {
        slot->result = call.result;
        frame.destroy();
        complete_async_call(*slot);  // the ring, the user interrupt, the hold on the process
        return;
    }
    // Synchronous: the caller reads the result and destroys the frame once it sees the flag.
    ScopedLock guard(threads.finished.lock);
    call.handed_done = true;
    wake_all(threads.finished);
}

void worker_main(void* argument) {
    Worker& me = *static_cast<Worker*>(argument);
    CallThreads& threads = *me.owner;
    Thread& self = *current_thread();
    threads.work.lock.lock();
    for (;;) {
        if (Promise* call = threads.head) {
            threads.head = call->next_handed;
            --threads.unclaimed;
            if (me.summoned) {
                --threads.coming;
                me.summoned = false;
            }
            threads.work.lock.unlock();
            run(threads, self, *call);
            threads.work.lock.lock();
            continue;
        }
        if (me.summoned) {  // another thread took the call it was woken for
            --threads.coming;
            me.summoned = false;
        }
        if (threads.closing) break;
        sleep_on(threads.work, nullptr);  // a kill of anyone does not end an idle thread's wait
        threads.work.lock.lock();
    }
    --threads.threads;
    threads.work.lock.unlock();
    if (me.charged) me.charged->kernel_threads.fetch_sub(1, std::memory_order_relaxed);
    delete &me;  // drops the reference on the charged process's record
    drop(threads);
}

long hand(CallThreads& threads, Promise& call, Process& served) {
    call.served = &served;
    call.next_handed = nullptr;
    call.handed_done = false;
    bool make = false;
    {
        ScopedLock guard(threads.work.lock);
        enqueue_locked(threads, call);
        if (threads.coming < threads.unclaimed) {
            ++threads.coming;
            if (Thread* idle = threads.work.head) {
                // The first idle thread takes the first call: it runs at that call's priority from
                // this wake on.
                idle->priority = threads.head->priority;
                static_cast<Worker*>(idle->kernel_argument)->summoned = true;
                (void)wake_matching(threads.work, first_thread, nullptr, 1);
            } else {
                make = true;
                ++threads.threads;
                threads.references.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    if (!make) return 0;
    long error = 0;
    Worker* worker = nullptr;
    if (!within_memory_limit(served, thread_memory_bytes())) {
        error = -Errno::NoMemory;
    } else if (!(worker = new (std::nothrow) Worker{&threads, find_process(served.pid)})) {
        error = -Errno::NoMemory;
    } else {
        if (worker->charged) worker->charged->kernel_threads.fetch_add(1, std::memory_order_relaxed);
        auto made = create_kernel_thread(worker_main, worker, call.priority);
        if (made) return 0;
        error = made.error() == Error::NoMemory ? -Errno::NoMemory : -Errno::TryAgain;
        if (worker->charged) worker->charged->kernel_threads.fetch_sub(1, std::memory_order_relaxed);
        delete worker;
    }
    bool refused = false;
    {
        ScopedLock guard(threads.work.lock);
        --threads.coming;
        --threads.threads;
        // Still queued with no thread to come for it: it is refused. (Taken meanwhile by a thread
        // that finished its call, or with another coming, it runs.)
        if (threads.coming < threads.unclaimed) refused = remove_locked(threads, call);
    }
    threads.references.fetch_sub(1, std::memory_order_relaxed);  // the owner still holds one
    return refused ? error : 0;
}

} // namespace

CallThreads* create_call_threads() { return new (std::nothrow) CallThreads; }

void close_call_threads(CallThreads& threads) {
    {
        ScopedLock guard(threads.work.lock);
        threads.closing = true;
        wake_all(threads.work);
    }
    drop(threads);
}

long run_handed_call(CallThreads& threads, Thread& caller, Call::Handle frame) {
    Promise& call = frame.promise();
    threads.references.fetch_add(1, std::memory_order_relaxed);  // the call's end may close the owner
    long handed = hand(threads, call, *caller.process);
    if (handed == 0) {
        threads.finished.lock.lock();
        while (!call.handed_done) {
            // Not registered with the process: a kill ends the call's own wait on the kernel
            // thread (registered there), and the call then ends; the frame is in use until then.
            sleep_on(threads.finished, nullptr);
            threads.finished.lock.lock();
        }
        threads.finished.lock.unlock();
    }
    drop(threads);
    return handed;
}

long hand_async_call(CallThreads& threads, Call::Handle frame) {
    Promise& call = frame.promise();
    call.priority = call_priority(*call.slot->process, call.slot->named_priority);
    return hand(threads, call, *call.slot->process);
}

} // namespace kernel::proc
