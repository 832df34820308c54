// The thread model's runner of system calls: kernel threads that run system-call coroutines with
// blocking waits (docs/network.md, "Two kernel-side models").
//
// A CallThreads belongs to one owner (a socket of the thread model) and runs the calls handed to it,
// each on one of its kernel threads (kernel_thread.hpp): the thread resumes the call's coroutine with
// promise_type::thread set to itself, so every WaitOn in it blocks that kernel thread (sleep_on,
// registered with the process whose call it is), exactly as a synchronous call blocks its caller.
// The body is the same coroutine the other forms run; only who drives it differs:
//   * an asynchronous call (submit_async_call) is handed over whole, its frame in its call slot; the
//     kernel thread posts its completion (complete_async_call) when it ends;
//   * a synchronous call (run_call) is handed over with its frame in the caller's Thread::call_frame;
//     the caller sleeps until the kernel thread has finished it, then reads the result.
//
// Threads are made lazily: a call handed over finds an idle thread of its owner or makes one, so a
// connection used by one call at a time (an echo server's) has exactly one, and calls that overlap
// on one socket (a read and a write from two user threads) each have one and never wait for each
// other. Threads stay, idle, until the owner closes (close_call_threads): then they end. A thread is
// charged to the memory limit of the process whose call made it (Process::kernel_threads). Each
// call runs at its waiter's priority (promise_type::priority): the kernel thread takes it before it
// resumes the call, an idle thread is given it before it is woken.
//
// Lock: CallThreads::work.lock guards the queue and the counts; finished.lock the synchronous
// callers' flags (promise_type::handed_done). Neither is held while a call runs.
#pragma once

#include "abi/result.hpp"
#include "kernel/syscall/call.hpp"

namespace kernel::proc {

// A runner with no thread yet; nullptr when the heap has no room.
CallThreads* create_call_threads();
// The owner is gone (no call of it is in flight: each holds the owner): idle threads end, and the
// last one to go frees the runner.
void close_call_threads(CallThreads& threads);

// Synchronous: hands `frame` (its promise's priority set) over and blocks `caller` until it has
// finished; 0 then (the result is in the promise), or -EAGAIN (MaxKernelThreads reached) / -ENOMEM (no
// stack, record or room in the memory limit) with the frame never run.
long run_handed_call(CallThreads& threads, Thread& caller, Call::Handle frame);
// Asynchronous: hands `frame` (its promise's slot and priority set) over; 0, or -EAGAIN / -ENOMEM
// with the frame never run (the submission is refused).
long hand_async_call(CallThreads& threads, Call::Handle frame);

} // namespace kernel::proc
