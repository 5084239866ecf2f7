// Streams, events, stream capture and graphs: thin translations to the driver.
#include "runtime.h"

using namespace vgpu;
using namespace vgpu::rt;

namespace {

CUstream cu(cudaStream_t s) { return reinterpret_cast<CUstream>(s); }

template <class F>
cudaError_t call(F&& f) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return set_error(e);
  CUresult r = f(api);
  return set_error(to_runtime_error(r));
}

}  // namespace

extern "C" {

VGPU_EXPORT cudaError_t cudaStreamCreateWithPriority(cudaStream_t* s, unsigned int flags, int priority) {
  if (!s) return set_error(cudaErrorInvalidValue);
  return call([&](const DriverApi* a) { return a->cuStreamCreateWithPriority(reinterpret_cast<CUstream*>(s), flags, priority); });
}
VGPU_EXPORT cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  return cudaStreamCreateWithPriority(s, flags, 0);
}
VGPU_EXPORT cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithPriority(s, 0, 0); }
VGPU_EXPORT cudaError_t cudaStreamDestroy(cudaStream_t s) {
  return call([&](const DriverApi* a) { return a->cuStreamDestroy(cu(s)); });
}
VGPU_EXPORT cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  return call([&](const DriverApi* a) { return a->cuStreamSynchronize(cu(s)); });
}
VGPU_EXPORT cudaError_t cudaStreamSynchronize_ptsz(cudaStream_t s) {
  return cudaStreamSynchronize(s ? s : cudaStreamPerThread);
}
VGPU_EXPORT cudaError_t cudaStreamQuery(cudaStream_t s) {
  return call([&](const DriverApi* a) { return a->cuStreamQuery(cu(s)); });
}
VGPU_EXPORT cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int flags) {
  return call([&](const DriverApi* a) { return a->cuStreamWaitEvent(cu(s), reinterpret_cast<CUevent>(e), flags); });
}
VGPU_EXPORT cudaError_t cudaStreamGetFlags(cudaStream_t s, unsigned int* flags) {
  return call([&](const DriverApi* a) { return a->cuStreamGetFlags(cu(s), flags); });
}
VGPU_EXPORT cudaError_t cudaStreamGetPriority(cudaStream_t s, int* priority) {
  return call([&](const DriverApi* a) { return a->cuStreamGetPriority(cu(s), priority); });
}
VGPU_EXPORT cudaError_t cudaLaunchHostFunc(cudaStream_t s, void (*fn)(void*), void* userData) {
  return call([&](const DriverApi* a) { return a->cuLaunchHostFunc(cu(s), fn, userData); });
}

VGPU_EXPORT cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
  return call([&](const DriverApi* a) { return a->cuStreamBeginCapture(cu(s), static_cast<CUstreamCaptureMode>(mode)); });
}
VGPU_EXPORT cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  return call([&](const DriverApi* a) { return a->cuStreamEndCapture(cu(s), reinterpret_cast<CUgraph*>(graph)); });
}
VGPU_EXPORT cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* status) {
  return call([&](const DriverApi* a) {
    return a->cuStreamIsCapturing(cu(s), reinterpret_cast<CUstreamCaptureStatus*>(status));
  });
}
VGPU_EXPORT cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  return call([&](const DriverApi* a) {
    return a->cuThreadExchangeStreamCaptureMode(reinterpret_cast<CUstreamCaptureMode*>(mode));
  });
}
#if VGPU_CUDART_ABI == 12
// CUDA 12: cudaStreamGetCaptureInfo (id and status only) and _v2 (with graph and dependencies).
VGPU_EXPORT cudaError_t cudaStreamGetCaptureInfo(cudaStream_t s, cudaStreamCaptureStatus* status, unsigned long long* id) {
  return call([&](const DriverApi* a) {
    return a->cuStreamGetCaptureInfo(cu(s), reinterpret_cast<CUstreamCaptureStatus*>(status), id, nullptr, nullptr, nullptr);
  });
}
VGPU_EXPORT cudaError_t cudaStreamGetCaptureInfo_v2(cudaStream_t s, cudaStreamCaptureStatus* status, unsigned long long* id,
                                                    cudaGraph_t* graph, const void** deps, size_t* numDeps) {
  return call([&](const DriverApi* a) {
    return a->cuStreamGetCaptureInfo(cu(s), reinterpret_cast<CUstreamCaptureStatus*>(status), id,
                                     reinterpret_cast<CUgraph*>(graph), deps, numDeps);
  });
}
#else
// CUDA 13: one entry point with the graph, its dependencies and their edge data.
VGPU_EXPORT cudaError_t cudaStreamGetCaptureInfo(cudaStream_t s, cudaStreamCaptureStatus* status, unsigned long long* id,
                                                 cudaGraph_t* graph, const void** deps, const void** edgeData,
                                                 size_t* numDeps) {
  if (edgeData) *edgeData = nullptr;  // no edges are recorded: captures count nodes only
  return call([&](const DriverApi* a) {
    return a->cuStreamGetCaptureInfo(cu(s), reinterpret_cast<CUstreamCaptureStatus*>(status), id,
                                     reinterpret_cast<CUgraph*>(graph), deps, numDeps);
  });
}
#endif

VGPU_EXPORT cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  if (!e) return set_error(cudaErrorInvalidValue);
  return call([&](const DriverApi* a) { return a->cuEventCreate(reinterpret_cast<CUevent*>(e), flags); });
}
VGPU_EXPORT cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, 0); }
VGPU_EXPORT cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  return call([&](const DriverApi* a) { return a->cuEventRecord(reinterpret_cast<CUevent>(e), cu(s)); });
}
VGPU_EXPORT cudaError_t cudaEventRecord_ptsz(cudaEvent_t e, cudaStream_t s) {
  return cudaEventRecord(e, s ? s : cudaStreamPerThread);
}
VGPU_EXPORT cudaError_t cudaEventRecordWithFlags(cudaEvent_t e, cudaStream_t s, unsigned int flags) {
  if (flags & ~1u) return set_error(cudaErrorInvalidValue);
  return cudaEventRecord(e, s);
}
VGPU_EXPORT cudaError_t cudaEventQuery(cudaEvent_t e) {
  return call([&](const DriverApi* a) { return a->cuEventQuery(reinterpret_cast<CUevent>(e)); });
}
VGPU_EXPORT cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  return call([&](const DriverApi* a) { return a->cuEventSynchronize(reinterpret_cast<CUevent>(e)); });
}
VGPU_EXPORT cudaError_t cudaEventDestroy(cudaEvent_t e) {
  return call([&](const DriverApi* a) { return a->cuEventDestroy(reinterpret_cast<CUevent>(e)); });
}
VGPU_EXPORT cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  return call([&](const DriverApi* a) {
    return a->cuEventElapsedTime(ms, reinterpret_cast<CUevent>(start), reinterpret_cast<CUevent>(end));
  });
}

VGPU_EXPORT cudaError_t cudaGraphCreate(cudaGraph_t* g, unsigned int flags) {
  return call([&](const DriverApi* a) { return a->cuGraphCreate(reinterpret_cast<CUgraph*>(g), flags); });
}
VGPU_EXPORT cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  return call([&](const DriverApi* a) { return a->cuGraphDestroy(reinterpret_cast<CUgraph>(g)); });
}
VGPU_EXPORT cudaError_t cudaGraphGetNodes(cudaGraph_t g, void** nodes, size_t* n) {
  return call([&](const DriverApi* a) { return a->cuGraphGetNodes(reinterpret_cast<CUgraph>(g), nodes, n); });
}
// CUDA 12 and 13 export the flags form; the 5-argument form ggml writes is a header overload.
VGPU_EXPORT cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t g, unsigned long long flags) {
  return call([&](const DriverApi* a) {
    return a->cuGraphInstantiateWithFlags(reinterpret_cast<CUgraphExec*>(exec), reinterpret_cast<CUgraph>(g), flags);
  });
}
VGPU_EXPORT cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t* exec, cudaGraph_t g, unsigned long long flags) {
  return cudaGraphInstantiate(exec, g, flags);
}
VGPU_EXPORT cudaError_t cudaGraphExecUpdate(cudaGraphExec_t exec, cudaGraph_t g, void* resultInfo) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return set_error(e);
  CUresult r = api->cuGraphExecUpdate(reinterpret_cast<CUgraphExec>(exec), reinterpret_cast<CUgraph>(g), resultInfo);
  return set_error(r == CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE ? cudaErrorGraphExecUpdateFailure : to_runtime_error(r));
}
VGPU_EXPORT cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  return call([&](const DriverApi* a) { return a->cuGraphLaunch(reinterpret_cast<CUgraphExec>(exec), cu(s)); });
}
VGPU_EXPORT cudaError_t cudaGraphLaunch_ptsz(cudaGraphExec_t exec, cudaStream_t s) {
  return cudaGraphLaunch(exec, s ? s : cudaStreamPerThread);
}
VGPU_EXPORT cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  return call([&](const DriverApi* a) { return a->cuGraphExecDestroy(reinterpret_cast<CUgraphExec>(exec)); });
}

}  // extern "C"
