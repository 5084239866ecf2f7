// Work a tool does on the side while the program it watches runs: it must not delay that program.
#pragma once

#include <sched.h>
#include <sys/resource.h>

namespace vgpu {

// Makes the calling thread run only on a CPU nothing else wants (SCHED_IDLE; where refused, nice 19).
// For a thread of the tracer that reads rules or ELF files while the traced program runs: on a machine
// of two CPUs, a thread at normal priority delays the tracee's wake-ups behind it, and every ptrace stop
// with them. Work that the tool later waits for still gets the CPUs then, as nothing else wants them.
inline void run_in_background() {
  sched_param none{};
  if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) (void)setpriority(PRIO_PROCESS, 0, 19);
}

}  // namespace vgpu
