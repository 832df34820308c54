// The event loop: one thread, epoll over every connection and a timerfd for the schedule.
//
// A run has three phases. Ramp: connection i is opened at i * ramp_ms (QEMU's user network accepts
// forwarded connections with a backlog of 1: a burst of SYNs would be dropped and retried seconds
// later), and sends one warm-up request; it counts as ready once that is answered correctly (so the
// guest really accepted it, and its reply told its priority level). A connection that fails before
// is retried a few times. Measure: when every connection is ready (or the connect timeout passed), the
// ready ones send for duration_s, their first sends spread over one interval. Closed loop: send,
// wait for the whole reply, sleep the interval, latency from the send. Open loop: a request every
// interval from the schedule whatever the replies, latency from the scheduled time. Grace: replies
// still awaited may come for grace_ms; then what has no reply is lost.
#pragma once

#include "tools/tcpclient/options.hpp"
#include "tools/tcpclient/report.hpp"

namespace tcpclient {

Report run(const Options& options);

}  // namespace tcpclient
