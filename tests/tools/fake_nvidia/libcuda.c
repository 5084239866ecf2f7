// A stand-in for NVIDIA's libcuda.so.1 with an old driver and no device: what a machine with the real
// driver installed where vgpu's shim was expected looks like to a runner. Built at test time
// (tests/tools/vgpu_doctor_test.sh); FAKE_DRIVER_API is the cuDriverGetVersion answer.
#include <string.h>
#ifndef FAKE_DRIVER_API
#define FAKE_DRIVER_API 11080
#endif
int cuInit(unsigned flags) { (void)flags; return 100; /* CUDA_ERROR_NO_DEVICE */ }
int cuDriverGetVersion(int* v) { *v = FAKE_DRIVER_API; return 0; }
int cuDeviceGetCount(int* n) { *n = 0; return 0; }
int cuDeviceGet(int* d, int i) { (void)d; (void)i; return 101; }
int cuDeviceGetName(char* s, int n, int d) { (void)d; if (n > 0) s[0] = 0; return 101; }
int cuDeviceGetUuid(void* u, int d) { (void)u; (void)d; return 101; }
int cuDeviceTotalMem_v2(unsigned long* b, int d) { (void)d; *b = 0; return 101; }
int cuDeviceGetPCIBusId(char* s, int n, int d) { (void)d; if (n > 0) s[0] = 0; return 101; }
int cuDeviceGetAttribute(int* v, int a, int d) { (void)a; (void)d; *v = 0; return 101; }
