// A stand-in for NVIDIA's libcudart.so.N: reports runtime FAKE_RUNTIME and, like the real one on a
// driver older than it needs, fails cudaGetDeviceCount with cudaErrorInsufficientDriver (35).
#ifndef FAKE_RUNTIME
#define FAKE_RUNTIME 13000
#endif
extern int cuDriverGetVersion(int* v);
int cudaRuntimeGetVersion(int* v) { *v = FAKE_RUNTIME; return 0; }
int cudaDriverGetVersion(int* v) { return cuDriverGetVersion(v); }
int cudaGetDeviceCount(int* n) {
  int d = 0;
  cuDriverGetVersion(&d);
  *n = 0;
  return d < FAKE_RUNTIME / 1000 * 1000 ? 35 : 100;
}
int cudaSetDevice(int d) { (void)d; return 101; }
int cudaGetDeviceProperties(void* p, int d) { (void)p; (void)d; return 101; }
int cudaDeviceGetAttribute(int* v, int a, int d) { (void)a; (void)d; *v = 0; return 101; }
int cudaDeviceGetPCIBusId(char* s, int n, int d) { (void)d; if (n > 0) s[0] = 0; return 101; }
int cudaMemGetInfo(unsigned long* f, unsigned long* t) { *f = *t = 0; return 101; }
const char* cudaGetErrorString(int e) {
  return e == 35 ? "CUDA driver version is insufficient for CUDA runtime version" : "no CUDA-capable device is detected";
}
