// The CUDA driver's object model as libvgpu-cuda keeps it: initialisation, contexts (primary and
// created), streams, events, modules and functions, graphs, and the table of every allocation, which
// tells device memory from host memory for copies and cuPointerGetAttribute.
// Every handle given to the application is a pointer to one of these objects and is checked against the
// live set before use: a stale or foreign handle gets CUDA_ERROR_INVALID_HANDLE, not a crash.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backend.h"
#include "platform.h"
#include "stub_support.h"
#include "vgpu/abi/cuda_driver_types.h"

namespace vgpu::drv {

enum class MemKind { device, host_pinned, host_registered, managed, vmm_reserved };

struct Allocation {
  uintptr_t base = 0;
  size_t size = 0;
  MemKind kind = MemKind::device;
  int device = 0;         // Platform index
  unsigned flags = 0;
  CUcontext context = nullptr;
};

struct Context {
  int device = 0;         // Platform index
  int ordinal = 0;        // CUDA ordinal
  unsigned flags = 0;
  bool primary = false;
  int primary_refs = 0;   // cuDevicePrimaryCtxRetain count
  bool active = false;    // primary: retained or used since the last reset
};

struct Graph {
  int node_count = 0;     // nodes captured or added (kernel launches recorded while capturing)
};

struct Stream {
  Context* ctx = nullptr;
  unsigned flags = 0;
  int priority = 0;
  uint64_t id = 0;
  CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_NONE;
  CUstreamCaptureMode capture_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
  Graph* capture_graph = nullptr;
  uint64_t capture_id = 0;
};

struct Event {
  Context* ctx = nullptr;
  unsigned flags = 0;
  bool recorded = false;
  uint64_t ns = 0;        // CLOCK_MONOTONIC at the record; all work is complete when recorded
};

struct Module {
  Context* ctx = nullptr;
  BackendModule handle = 0;
  std::map<std::string, struct Function*> functions;
};

struct Function {
  Module* module = nullptr;
  std::string name;
  BackendFunction handle = 0;
  std::map<int, int> attributes;  // cuFuncSetAttribute values
};

struct GraphExec {
  Graph* graph = nullptr;
};

struct VmmHandle {
  int device = 0;
  size_t size = 0;
  uint64_t backend_handle = 0;
  int refs = 1;  // cuMemRetainAllocationHandle adds one
};

// Process-wide driver state. One mutex guards all of it: the calls it protects are short and never block
// on anything but the backend's own synchronous work.
struct Driver {
  std::mutex mutex;
  std::atomic<bool> initialized{false};
  CUresult init_result = CUDA_ERROR_NOT_INITIALIZED;

  std::vector<Context*> primary;  // per CUDA ordinal
  std::unordered_set<Context*> contexts;
  std::unordered_set<Stream*> streams;
  std::unordered_set<Event*> events;
  std::unordered_set<Module*> modules;
  std::unordered_set<Function*> functions;
  std::unordered_set<Graph*> graphs;
  std::unordered_set<GraphExec*> graph_execs;
  std::unordered_map<uint64_t, VmmHandle> vmm_handles;
  std::map<uintptr_t, Allocation> allocations;  // by base address
  uint64_t next_stream_id = 1;
  uint64_t next_capture_id = 1;

  // The allocation containing `ptr`, or nullptr. Caller holds `mutex`.
  const Allocation* find_allocation(uintptr_t ptr) const;
};

Driver& driver();

// Guards every entry point that needs an initialised driver (CUDA_ERROR_NOT_INITIALIZED before cuInit).
CUresult check_init();
// The calling thread's current context (top of its context stack), or nullptr.
Context* current_context();
void set_current_context(Context* ctx);
std::vector<Context*>& context_stack();
// Resolves the context to use for a call: the current one, which must be live.
CUresult require_context(Context** out);
// Platform device of a CUDA ordinal, or nullptr.
VirtualDevice* device_of(CUdevice ordinal);
// Validates a stream handle (nullptr, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD are the default streams).
CUresult resolve_stream(CUstream stream, Stream** out);
StreamId stream_id(Stream* s);

uint64_t monotonic_ns();

}  // namespace vgpu::drv
