// A stand-in for NVIDIA's libnvidia-ml.so.1 of driver FAKE_NVML_DRIVER with no device (see libcuda.c).
#include <string.h>
#ifndef FAKE_NVML_DRIVER
#define FAKE_NVML_DRIVER "535.104.05"
#endif
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlSystemGetDriverVersion(char* s, unsigned n) { strncpy(s, FAKE_NVML_DRIVER, n); return 0; }
int nvmlDeviceGetCount_v2(unsigned* n) { *n = 0; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** d) { (void)i; (void)d; return 2; }
int nvmlDeviceGetName(void* d, char* s, unsigned n) { (void)d; (void)s; (void)n; return 2; }
int nvmlDeviceGetUUID(void* d, char* s, unsigned n) { (void)d; (void)s; (void)n; return 2; }
int nvmlDeviceGetPciInfo_v3(void* d, void* p) { (void)d; (void)p; return 2; }
int nvmlDeviceGetMemoryInfo(void* d, void* m) { (void)d; (void)m; return 2; }
