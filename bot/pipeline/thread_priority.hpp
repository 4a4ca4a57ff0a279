#pragma once
// Background threads (handler lanes, senders) run at a lower scheduling priority than the I/O
// threads, so that under a burst the webhooks keep being acknowledged within the platforms' deadlines
// (Zalo: 2 s) while handling and sending catch up on what is already committed. Linux gives each
// thread its own nice value.
#include <sys/resource.h>
#include <unistd.h>

namespace pgibot::pipeline {

// Best effort: a failure (a sandbox forbidding it) leaves the thread at normal priority.
inline void lower_current_thread_priority(int nice) {
    if (nice <= 0) return;
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
}

// A nice value below 0 puts the thread ahead of the others when it wakes. That needs CAP_SYS_NICE or
// an RLIMIT_NICE that allows it (systemd: LimitNICE=); returns false if the system refused.
inline bool raise_current_thread_priority(int nice) {
    if (nice >= 0) return true;
    return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) == 0;
}

}  // namespace pgibot::pipeline
