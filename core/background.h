// Work a tool does on the side while the program it watches runs: it must not delay that program.
#pragma once

#include <sys/resource.h>

namespace vgpu {

// Makes the calling thread yield to anything else that wants a CPU (nice 19, for this thread only).
// For a thread of the tracer that reads rules or ELF files while the traced program runs: on a machine
// of two CPUs, a thread at normal priority delays the tracee's wake-ups behind it, and every ptrace stop
// with them. Not SCHED_IDLE: the tool waits for this work in the end, and a program that keeps every
// CPU busy (attached to with -p, still running after the detach) would starve it for good; nor could an
// unprivileged tool take a thread out of SCHED_IDLE again.
inline void run_in_background() { (void)setpriority(PRIO_PROCESS, 0, 19); }

}  // namespace vgpu
