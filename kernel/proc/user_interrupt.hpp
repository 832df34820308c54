// TEMPORARY stand-in until the uintr branch is merged (not to be committed).
#pragma once
#include "kernel/proc/thread.hpp"
namespace kernel::proc {
inline bool raise_user_interrupt(Process&) { return false; }
}
