// Streams, events, stream capture and graphs, modules and functions, launches.
// With the host backend all work completes before the call returns, so streams and events only keep
// the state CUDA's rules need (capture status, recorded or not); execution goes to the backend.
#include <cstring>

#include "driver.h"
#include "log.h"

using namespace vgpu;
using namespace vgpu::drv;

namespace vgpu::drv {

CUresult resolve_stream(CUstream stream, Stream** out) {
  // The default streams: 0 / CU_STREAM_LEGACY (0x1) / CU_STREAM_PER_THREAD (0x2).
  uintptr_t raw = reinterpret_cast<uintptr_t>(stream);
  if (raw <= 2) {
    *out = nullptr;
    return CUDA_SUCCESS;
  }
  std::lock_guard<std::mutex> lock(driver().mutex);
  auto* s = reinterpret_cast<Stream*>(stream);
  if (!driver().streams.count(s)) return CUDA_ERROR_INVALID_HANDLE;
  *out = s;
  return CUDA_SUCCESS;
}

StreamId stream_id(Stream* s) { return s ? s->id : 0; }

}  // namespace vgpu::drv

namespace {

template <class T>
bool live(const std::unordered_set<T*>& set, const void* p) {
  return p && set.count(static_cast<T*>(const_cast<void*>(p)));
}

CUresult create_stream(CUstream* phStream, unsigned flags, int priority) {
  if (CUresult r = check_init()) return r;
  if (!phStream || (flags & ~1u)) return CUDA_ERROR_INVALID_VALUE;  // CU_STREAM_NON_BLOCKING
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  auto* s = new Stream;
  s->ctx = ctx;
  s->flags = flags;
  s->priority = priority > 0 ? 0 : (priority < -5 ? -5 : priority);  // clamped to the range, as CUDA does
  std::lock_guard<std::mutex> lock(driver().mutex);
  s->id = driver().next_stream_id++;
  driver().streams.insert(s);
  *phStream = reinterpret_cast<CUstream>(s);
  return CUDA_SUCCESS;
}

// A stream whose capture must record rather than run the work. Kernel launches are recorded as graph
// nodes; everything else that cannot be captured invalidates the capture as CUDA does.
CUresult capture_launch(Stream* s) {
  if (!s || s->capture != CU_STREAM_CAPTURE_STATUS_ACTIVE) return CUDA_ERROR_NOT_FOUND;
  std::lock_guard<std::mutex> lock(driver().mutex);
  s->capture_graph->node_count++;
  return CUDA_SUCCESS;
}

CUresult launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                unsigned smem, CUstream hs, void** params, void** extra, bool cooperative) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hs, &s)) return r;
  BackendFunction handle;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!live(driver().functions, f)) return CUDA_ERROR_INVALID_HANDLE;
    handle = reinterpret_cast<Function*>(f)->handle;
  }
  if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return CUDA_ERROR_INVALID_VALUE;
  if (static_cast<unsigned long long>(bx) * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
  if (capture_launch(s) == CUDA_SUCCESS) return CUDA_SUCCESS;
  LaunchParams p{handle, {gx, gy, gz}, {bx, by, bz}, smem, stream_id(s), params, extra, cooperative};
  return backend().launch(p);
}

}  // namespace

extern "C" {

// ---- streams ----

VGPU_EXPORT CUresult cuStreamCreate(CUstream* phStream, unsigned int flags) { return create_stream(phStream, flags, 0); }
VGPU_EXPORT CUresult cuStreamCreateWithPriority(CUstream* phStream, unsigned int flags, int priority) {
  return create_stream(phStream, flags, priority);
}

VGPU_EXPORT CUresult cuStreamDestroy_v2(CUstream hStream) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  auto* s = reinterpret_cast<Stream*>(hStream);
  if (!live(driver().streams, s)) return CUDA_ERROR_INVALID_HANDLE;
  driver().streams.erase(s);
  delete s;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamDestroy(CUstream hStream) { return cuStreamDestroy_v2(hStream); }

VGPU_EXPORT CUresult cuStreamSynchronize(CUstream hStream) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  if (s && s->capture == CU_STREAM_CAPTURE_STATUS_ACTIVE) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  return backend().synchronize(stream_id(s));
}
VGPU_EXPORT CUresult cuStreamSynchronize_ptsz(CUstream hStream) { return cuStreamSynchronize(hStream); }

VGPU_EXPORT CUresult cuStreamQuery(CUstream hStream) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  return resolve_stream(hStream, &s);  // every stream is idle: work completes before its call returns
}
VGPU_EXPORT CUresult cuStreamQuery_ptsz(CUstream hStream) { return cuStreamQuery(hStream); }

VGPU_EXPORT CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int flags) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().events, hEvent) || flags > 1) return hEvent ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_HANDLE;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamWaitEvent_ptsz(CUstream hStream, CUevent hEvent, unsigned int flags) {
  return cuStreamWaitEvent(hStream, hEvent, flags);
}

VGPU_EXPORT CUresult cuStreamGetFlags(CUstream hStream, unsigned int* flags) {
  if (CUresult r = check_init()) return r;
  if (!flags) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  *flags = s ? s->flags : 0;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamGetFlags_ptsz(CUstream hStream, unsigned int* flags) { return cuStreamGetFlags(hStream, flags); }

VGPU_EXPORT CUresult cuStreamGetPriority(CUstream hStream, int* priority) {
  if (CUresult r = check_init()) return r;
  if (!priority) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  *priority = s ? s->priority : 0;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamGetPriority_ptsz(CUstream hStream, int* priority) { return cuStreamGetPriority(hStream, priority); }

VGPU_EXPORT CUresult cuStreamGetCtx(CUstream hStream, CUcontext* pctx) {
  if (CUresult r = check_init()) return r;
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  *pctx = reinterpret_cast<CUcontext>(s ? s->ctx : current_context());
  return *pctx ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}
VGPU_EXPORT CUresult cuStreamGetCtx_ptsz(CUstream hStream, CUcontext* pctx) { return cuStreamGetCtx(hStream, pctx); }

VGPU_EXPORT CUresult cuStreamGetId(CUstream hStream, unsigned long long* id) {
  if (CUresult r = check_init()) return r;
  if (!id) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  *id = reinterpret_cast<uintptr_t>(hStream) == 2 ? 2 : stream_id(s);
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamGetId_ptsz(CUstream hStream, unsigned long long* id) { return cuStreamGetId(hStream, id); }

// Host functions run in stream order; with all earlier work complete, that is now, on this thread.
VGPU_EXPORT CUresult cuLaunchHostFunc(CUstream hStream, void (*fn)(void*), void* userData) {
  if (CUresult r = check_init()) return r;
  if (!fn) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  if (capture_launch(s) == CUDA_SUCCESS) return CUDA_SUCCESS;
  fn(userData);
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuLaunchHostFunc_ptsz(CUstream hStream, void (*fn)(void*), void* userData) {
  return cuLaunchHostFunc(hStream, fn, userData);
}

// ---- stream capture ----

VGPU_EXPORT CUresult cuStreamBeginCapture_v2(CUstream hStream, CUstreamCaptureMode mode) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  if (!s) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;  // the legacy stream cannot be captured
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (s->capture != CU_STREAM_CAPTURE_STATUS_NONE) return CUDA_ERROR_ILLEGAL_STATE;
  s->capture = CU_STREAM_CAPTURE_STATUS_ACTIVE;
  s->capture_mode = mode;
  s->capture_graph = new Graph;
  driver().graphs.insert(s->capture_graph);
  s->capture_id = driver().next_capture_id++;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamBeginCapture_v2_ptsz(CUstream hStream, CUstreamCaptureMode mode) {
  return cuStreamBeginCapture_v2(hStream, mode);
}
VGPU_EXPORT CUresult cuStreamBeginCapture(CUstream hStream) { return cuStreamBeginCapture_v2(hStream, CU_STREAM_CAPTURE_MODE_GLOBAL); }
VGPU_EXPORT CUresult cuStreamBeginCapture_ptsz(CUstream hStream) { return cuStreamBeginCapture(hStream); }

VGPU_EXPORT CUresult cuStreamEndCapture(CUstream hStream, CUgraph* phGraph) {
  if (CUresult r = check_init()) return r;
  if (!phGraph) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!s || s->capture == CU_STREAM_CAPTURE_STATUS_NONE) return CUDA_ERROR_ILLEGAL_STATE;
  bool invalidated = s->capture == CU_STREAM_CAPTURE_STATUS_INVALIDATED;
  Graph* g = s->capture_graph;
  s->capture = CU_STREAM_CAPTURE_STATUS_NONE;
  s->capture_graph = nullptr;
  if (invalidated) {
    driver().graphs.erase(g);
    delete g;
    *phGraph = nullptr;
    return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
  }
  *phGraph = reinterpret_cast<CUgraph>(g);
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamEndCapture_ptsz(CUstream hStream, CUgraph* phGraph) { return cuStreamEndCapture(hStream, phGraph); }

VGPU_EXPORT CUresult cuStreamIsCapturing(CUstream hStream, CUstreamCaptureStatus* status) {
  if (CUresult r = check_init()) return r;
  if (!status) return CUDA_ERROR_INVALID_VALUE;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  *status = s ? s->capture : CU_STREAM_CAPTURE_STATUS_NONE;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamIsCapturing_ptsz(CUstream hStream, CUstreamCaptureStatus* status) {
  return cuStreamIsCapturing(hStream, status);
}

VGPU_EXPORT CUresult cuStreamGetCaptureInfo_v2(CUstream hStream, CUstreamCaptureStatus* status, unsigned long long* id,
                                               CUgraph* graph, const void** deps, size_t* numDeps) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  bool active = s && s->capture != CU_STREAM_CAPTURE_STATUS_NONE;
  if (status) *status = s ? s->capture : CU_STREAM_CAPTURE_STATUS_NONE;
  if (id && active) *id = s->capture_id;
  if (graph) *graph = active ? reinterpret_cast<CUgraph>(s->capture_graph) : nullptr;
  if (deps) *deps = nullptr;  // nodes are counted, not kept: there is nothing to depend on by handle
  if (numDeps) *numDeps = 0;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuStreamGetCaptureInfo_v2_ptsz(CUstream h, CUstreamCaptureStatus* st, unsigned long long* id,
                                                    CUgraph* g, const void** d, size_t* n) {
  return cuStreamGetCaptureInfo_v2(h, st, id, g, d, n);
}
VGPU_EXPORT CUresult cuStreamGetCaptureInfo(CUstream hStream, CUstreamCaptureStatus* status, unsigned long long* id) {
  return cuStreamGetCaptureInfo_v2(hStream, status, id, nullptr, nullptr, nullptr);
}
VGPU_EXPORT CUresult cuStreamGetCaptureInfo_ptsz(CUstream hStream, CUstreamCaptureStatus* status, unsigned long long* id) {
  return cuStreamGetCaptureInfo(hStream, status, id);
}

VGPU_EXPORT CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode* mode) {
  if (CUresult r = check_init()) return r;
  if (!mode) return CUDA_ERROR_INVALID_VALUE;
  static thread_local CUstreamCaptureMode t_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
  CUstreamCaptureMode old = t_mode;
  t_mode = *mode;
  *mode = old;
  return CUDA_SUCCESS;
}

// ---- graphs ----

VGPU_EXPORT CUresult cuGraphCreate(CUgraph* phGraph, unsigned int flags) {
  if (CUresult r = check_init()) return r;
  if (!phGraph || flags) return CUDA_ERROR_INVALID_VALUE;
  auto* g = new Graph;
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().graphs.insert(g);
  *phGraph = reinterpret_cast<CUgraph>(g);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuGraphDestroy(CUgraph hGraph) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().graphs, hGraph)) return CUDA_ERROR_INVALID_VALUE;
  auto* g = reinterpret_cast<Graph*>(hGraph);
  driver().graphs.erase(g);
  delete g;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuGraphGetNodes(CUgraph hGraph, void** nodes, size_t* numNodes) {
  if (CUresult r = check_init()) return r;
  if (!numNodes) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().graphs, hGraph)) return CUDA_ERROR_INVALID_VALUE;
  if (nodes) return CUDA_ERROR_NOT_SUPPORTED;  // nodes are counted, not kept as objects
  *numNodes = static_cast<size_t>(reinterpret_cast<Graph*>(hGraph)->node_count);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec* phGraphExec, CUgraph hGraph, unsigned long long flags) {
  (void)flags;
  if (CUresult r = check_init()) return r;
  if (!phGraphExec) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().graphs, hGraph)) return CUDA_ERROR_INVALID_VALUE;
  auto* e = new GraphExec{reinterpret_cast<Graph*>(hGraph)};
  driver().graph_execs.insert(e);
  *phGraphExec = reinterpret_cast<CUgraphExec>(e);
  return CUDA_SUCCESS;
}
// The CUDA 11 form with error-node and log-buffer outputs.
VGPU_EXPORT CUresult cuGraphInstantiate(CUgraphExec* phGraphExec, CUgraph hGraph, void** errorNode, char* log, size_t logSize) {
  if (errorNode) *errorNode = nullptr;
  if (log && logSize) log[0] = '\0';
  return cuGraphInstantiateWithFlags(phGraphExec, hGraph, 0);
}
VGPU_EXPORT CUresult cuGraphInstantiate_v2(CUgraphExec* e, CUgraph g, void** errorNode, char* log, size_t logSize) {
  return cuGraphInstantiate(e, g, errorNode, log, logSize);
}

VGPU_EXPORT CUresult cuGraphExecDestroy(CUgraphExec hGraphExec) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().graph_execs, hGraphExec)) return CUDA_ERROR_INVALID_VALUE;
  auto* e = reinterpret_cast<GraphExec*>(hGraphExec);
  driver().graph_execs.erase(e);
  delete e;
  return CUDA_SUCCESS;
}

// CUDA 12 signature: (exec, graph, CUgraphExecUpdateResultInfo*). Nothing is kept per node, so an update
// can never be proven safe: report the failure ggml handles by re-instantiating.
VGPU_EXPORT CUresult cuGraphExecUpdate_v2(CUgraphExec hGraphExec, CUgraph hGraph, void* resultInfo) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().graph_execs, hGraphExec) || !live(driver().graphs, hGraph)) return CUDA_ERROR_INVALID_VALUE;
  if (resultInfo) std::memset(resultInfo, 0, 24);  // result = CU_GRAPH_EXEC_UPDATE_ERROR (set below), nodes NULL
  if (resultInfo) *static_cast<int*>(resultInfo) = 1;
  return CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE;
}

VGPU_EXPORT CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!live(driver().graph_execs, hGraphExec)) return CUDA_ERROR_INVALID_VALUE;
    if (reinterpret_cast<GraphExec*>(hGraphExec)->graph && !live(driver().graphs, reinterpret_cast<GraphExec*>(hGraphExec)->graph))
      reinterpret_cast<GraphExec*>(hGraphExec)->graph = nullptr;  // the graph may be destroyed after instantiation
  }
  return backend().graph_launch(stream_id(s));
}
VGPU_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec hGraphExec, CUstream hStream) { return cuGraphLaunch(hGraphExec, hStream); }

// ---- events ----

VGPU_EXPORT CUresult cuEventCreate(CUevent* phEvent, unsigned int flags) {
  if (CUresult r = check_init()) return r;
  if (!phEvent || (flags & ~0xfu)) return CUDA_ERROR_INVALID_VALUE;  // DEFAULT|BLOCKING_SYNC|DISABLE_TIMING|INTERPROCESS
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  auto* e = new Event{ctx, flags, false, 0};
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().events.insert(e);
  *phEvent = reinterpret_cast<CUevent>(e);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuEventDestroy_v2(CUevent hEvent) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().events, hEvent)) return CUDA_ERROR_INVALID_HANDLE;
  auto* e = reinterpret_cast<Event*>(hEvent);
  driver().events.erase(e);
  delete e;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuEventDestroy(CUevent hEvent) { return cuEventDestroy_v2(hEvent); }

VGPU_EXPORT CUresult cuEventRecord(CUevent hEvent, CUstream hStream) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hStream, &s)) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().events, hEvent)) return CUDA_ERROR_INVALID_HANDLE;
  auto* e = reinterpret_cast<Event*>(hEvent);
  e->recorded = true;
  e->ns = monotonic_ns();
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuEventRecord_ptsz(CUevent hEvent, CUstream hStream) { return cuEventRecord(hEvent, hStream); }
VGPU_EXPORT CUresult cuEventRecordWithFlags(CUevent hEvent, CUstream hStream, unsigned int flags) {
  if (flags & ~1u) return CUDA_ERROR_INVALID_VALUE;  // CU_EVENT_RECORD_EXTERNAL
  return cuEventRecord(hEvent, hStream);
}
VGPU_EXPORT CUresult cuEventRecordWithFlags_ptsz(CUevent hEvent, CUstream hStream, unsigned int flags) {
  return cuEventRecordWithFlags(hEvent, hStream, flags);
}

VGPU_EXPORT CUresult cuEventQuery(CUevent hEvent) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  return live(driver().events, hEvent) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

VGPU_EXPORT CUresult cuEventSynchronize(CUevent hEvent) { return cuEventQuery(hEvent); }

VGPU_EXPORT CUresult cuEventElapsedTime_v2(float* ms, CUevent hStart, CUevent hEnd) {
  if (CUresult r = check_init()) return r;
  if (!ms) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().events, hStart) || !live(driver().events, hEnd)) return CUDA_ERROR_INVALID_HANDLE;
  auto *a = reinterpret_cast<Event*>(hStart), *b = reinterpret_cast<Event*>(hEnd);
  if ((a->flags | b->flags) & 0x2u) return CUDA_ERROR_INVALID_HANDLE;  // CU_EVENT_DISABLE_TIMING
  if (!a->recorded || !b->recorded) return CUDA_ERROR_NOT_READY;
  *ms = static_cast<float>(static_cast<double>(static_cast<int64_t>(b->ns - a->ns)) / 1e6);
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuEventElapsedTime(float* ms, CUevent hStart, CUevent hEnd) { return cuEventElapsedTime_v2(ms, hStart, hEnd); }

// ---- modules and functions ----

VGPU_EXPORT CUresult cuModuleLoadData(CUmodule* module, const void* image) {
  if (CUresult r = check_init()) return r;
  if (!module || !image) return CUDA_ERROR_INVALID_VALUE;
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  auto* m = new Module;
  m->ctx = ctx;
  if (CUresult r = backend().module_load(ctx->device, image, &m->handle)) {
    delete m;
    return r;
  }
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().modules.insert(m);
  *module = reinterpret_cast<CUmodule>(m);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int, void*, void**) {
  return cuModuleLoadData(module, image);
}
VGPU_EXPORT CUresult cuModuleLoadFatBinary(CUmodule* module, const void* fatCubin) { return cuModuleLoadData(module, fatCubin); }

VGPU_EXPORT CUresult cuModuleUnload(CUmodule hmod) {
  if (CUresult r = check_init()) return r;
  Module* m = reinterpret_cast<Module*>(hmod);
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!live(driver().modules, m)) return CUDA_ERROR_INVALID_HANDLE;
    driver().modules.erase(m);
    for (auto& [name, f] : m->functions) {
      driver().functions.erase(f);
      delete f;
    }
  }
  backend().module_unload(m->handle);
  delete m;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule hmod, const char* name) {
  if (CUresult r = check_init()) return r;
  if (!hfunc || !name) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  auto* m = reinterpret_cast<Module*>(hmod);
  if (!live(driver().modules, m)) return CUDA_ERROR_INVALID_HANDLE;
  auto it = m->functions.find(name);
  if (it == m->functions.end()) {
    BackendFunction h;
    if (CUresult r = backend().module_get_function(m->handle, name, &h)) return r;
    auto* f = new Function{m, name, h, {}};
    driver().functions.insert(f);
    it = m->functions.emplace(name, f).first;
  }
  *hfunc = reinterpret_cast<CUfunction>(it->second);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().functions, hfunc)) return CUDA_ERROR_INVALID_HANDLE;
  reinterpret_cast<Function*>(hfunc)->attributes[static_cast<int>(attrib)] = value;
  return CUDA_SUCCESS;
}

// Per-kernel facts (registers, local memory, PTX version) live in the compiled image, which only an
// execution backend can inspect; answer the attributes that were set, and not-supported for the rest.
VGPU_EXPORT CUresult cuFuncGetAttribute(int* pi, CUfunction_attribute attrib, CUfunction hfunc) {
  if (CUresult r = check_init()) return r;
  if (!pi) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().functions, hfunc)) return CUDA_ERROR_INVALID_HANDLE;
  auto* f = reinterpret_cast<Function*>(hfunc);
  auto it = f->attributes.find(static_cast<int>(attrib));
  if (it == f->attributes.end()) return CUDA_ERROR_NOT_SUPPORTED;
  *pi = it->second;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuFuncSetCacheConfig(CUfunction hfunc, int config) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!live(driver().functions, hfunc)) return CUDA_ERROR_INVALID_HANDLE;
  return config >= 0 && config <= 3 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// ---- launches ----

VGPU_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                                    unsigned int by, unsigned int bz, unsigned int smem, CUstream s, void** params,
                                    void** extra) {
  return launch(f, gx, gy, gz, bx, by, bz, smem, s, params, extra, false);
}
VGPU_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                         unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem,
                                         CUstream s, void** params, void** extra) {
  return launch(f, gx, gy, gz, bx, by, bz, smem, s, params, extra, false);
}
VGPU_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                               unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem,
                                               CUstream s, void** params) {
  return launch(f, gx, gy, gz, bx, by, bz, smem, s, params, nullptr, true);
}
VGPU_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                                    unsigned int bx, unsigned int by, unsigned int bz,
                                                    unsigned int smem, CUstream s, void** params) {
  return launch(f, gx, gy, gz, bx, by, bz, smem, s, params, nullptr, true);
}
VGPU_EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig* config, CUfunction f, void** params, void** extra) {
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  return launch(f, config->gridDimX, config->gridDimY, config->gridDimZ, config->blockDimX, config->blockDimY,
                config->blockDimZ, config->sharedMemBytes, config->hStream, params, extra, false);
}
VGPU_EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig* config, CUfunction f, void** params, void** extra) {
  return cuLaunchKernelEx(config, f, params, extra);
}

}  // extern "C"
