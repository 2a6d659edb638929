/*===- fake-cuda-driver.c - a CUDA driver stand-in for host-side tests ----===*
 *
 * Built as libcuda.so.1 in the test tree. It implements, on the CPU, the
 * driver entry points qfuse's CUDA runtime resolves, and logs each call that
 * matters (module loads with the kernel entries found in the PTX, function
 * lookups, launches with their grid and block, allocations, copies with
 * their direction, frees, leaks at exit) to $QFUSE_FAKE_CUDA_LOG or stderr.
 * Kernels do not run: the tests check what the host code asks the driver to
 * do, which no GPU is needed for. $QFUSE_FAKE_CUDA_FAIL=launch makes every
 * launch fail (CUDA_ERROR_LAUNCH_FAILED) to test error reporting.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

#define MAX_BUFFERS 4096
static struct {
  void *ptr;
  size_t bytes;
} buffers[MAX_BUFFERS];
static int live = 0;
static FILE *logFile = NULL;

static FILE *out(void) {
  if (!logFile) {
    const char *path = getenv("QFUSE_FAKE_CUDA_LOG");
    logFile = path ? fopen(path, "w") : NULL;
    if (!logFile)
      logFile = stderr;
  }
  return logFile;
}

static int findBuffer(const void *p) {
  for (int i = 0; i < MAX_BUFFERS; ++i)
    if (buffers[i].ptr && (const char *)p >= (const char *)buffers[i].ptr &&
        (const char *)p < (const char *)buffers[i].ptr + buffers[i].bytes)
      return i;
  return -1;
}

__attribute__((destructor)) static void report(void) {
  if (logFile || getenv("QFUSE_FAKE_CUDA_LOG"))
    fprintf(out(), "fake: exit, %d device buffers not freed\n", live);
  if (logFile && logFile != stderr)
    fclose(logFile);
}

CUresult cuInit(unsigned flags) {
  fprintf(out(), "fake: cuInit\n");
  return 0;
}
CUresult cuGetErrorString(CUresult r, const char **s) {
  *s = r == 719 ? "CUDA_ERROR_LAUNCH_FAILED (fake)" : "fake error";
  return 0;
}
CUresult cuDeviceGetCount(int *n) {
  *n = 1;
  return 0;
}
CUresult cuDeviceGet(int *d, int i) {
  *d = i;
  return i == 0 ? 0 : 101;
}
CUresult cuDeviceGetName(char *name, int len, int d) {
  snprintf(name, len, "qfuse fake CUDA device");
  return 0;
}
CUresult cuDeviceGetAttribute(int *v, int attr, int d) {
  *v = attr == 75 ? 8 : attr == 76 ? 0 : attr == 16 ? 1 : 0;
  return 0;
}
CUresult cuDeviceTotalMem_v2(size_t *b, int d) {
  *b = (size_t)1 << 30;
  return 0;
}
static int contextToken;
CUresult cuDevicePrimaryCtxRetain(void **ctx, int d) {
  *ctx = &contextToken;
  return 0;
}
CUresult cuCtxSetCurrent(void *ctx) { return ctx == &contextToken ? 0 : 201; }

/* A module keeps its PTX text; functions are entry names inside it. */
CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n,
                            int *options, void **values) {
  const char *ptx = (const char *)image;
  if (strncmp(ptx, "//", 2) != 0 && !strstr(ptx, ".version"))
    return 200; /* CUDA_ERROR_INVALID_IMAGE */
  fprintf(out(), "fake: load PTX (%zu bytes), entries:", strlen(ptx));
  for (const char *p = strstr(ptx, ".entry "); p; p = strstr(p + 1, ".entry ")) {
    const char *name = p + 7, *end = strchr(name, '(');
    fprintf(out(), " %.*s", (int)(end - name), name);
  }
  fprintf(out(), "\n");
  *module = strdup(ptx);
  return 0;
}
CUresult cuModuleLoadData(void **module, const void *image) {
  return cuModuleLoadDataEx(module, image, 0, NULL, NULL);
}
CUresult cuModuleUnload(void *module) {
  free(module);
  return 0;
}
CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
  char pattern[512];
  snprintf(pattern, sizeof pattern, ".entry %s(", name);
  if (!strstr((const char *)module, pattern))
    return 500; /* CUDA_ERROR_NOT_FOUND */
  *fn = strdup(name);
  return 0;
}
CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **extra) {
  fprintf(out(), "fake: launch %s grid %ux%ux%u block %ux%ux%u\n",
          (const char *)fn, gx, gy, gz, bx, by, bz);
  const char *fail = getenv("QFUSE_FAKE_CUDA_FAIL");
  return fail && !strcmp(fail, "launch") ? 719 : 0;
}
static int streamToken, eventToken;
CUresult cuStreamCreate(void **s, unsigned flags) {
  *s = &streamToken;
  return 0;
}
CUresult cuStreamSynchronize(void *s) { return 0; }
CUresult cuStreamDestroy_v2(void *s) { return 0; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned f) { return 0; }
CUresult cuEventCreate(void **e, unsigned flags) {
  *e = &eventToken;
  return 0;
}
CUresult cuEventRecord(void *e, void *s) { return 0; }
CUresult cuEventSynchronize(void *e) { return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) {
  *ms = 0.25f;
  return 0;
}
CUresult cuEventDestroy_v2(void *e) { return 0; }

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  for (int i = 0; i < MAX_BUFFERS; ++i)
    if (!buffers[i].ptr) {
      buffers[i].ptr = calloc(1, bytes);
      buffers[i].bytes = bytes;
      *p = (CUdeviceptr)(uintptr_t)buffers[i].ptr;
      ++live;
      fprintf(out(), "fake: alloc %zu\n", bytes);
      return 0;
    }
  return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
}
CUresult cuMemAllocManaged(CUdeviceptr *p, size_t bytes, unsigned flags) {
  return cuMemAlloc_v2(p, bytes);
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  int i = findBuffer((void *)(uintptr_t)p);
  if (i < 0 || buffers[i].ptr != (void *)(uintptr_t)p)
    return 1; /* CUDA_ERROR_INVALID_VALUE */
  fprintf(out(), "fake: free %zu\n", buffers[i].bytes);
  free(buffers[i].ptr);
  buffers[i].ptr = NULL;
  --live;
  return 0;
}
CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                       void *stream) {
  void *d = (void *)(uintptr_t)dst, *s = (void *)(uintptr_t)src;
  int di = findBuffer(d), si = findBuffer(s);
  if ((di >= 0 && (char *)d + bytes > (char *)buffers[di].ptr + buffers[di].bytes) ||
      (si >= 0 && (char *)s + bytes > (char *)buffers[si].ptr + buffers[si].bytes))
    return 1;
  fprintf(out(), "fake: copy %s %zu\n",
          si >= 0 ? (di >= 0 ? "device-to-device" : "device-to-host")
                  : (di >= 0 ? "host-to-device" : "host-to-host"),
          bytes);
  memcpy(d, s, bytes);
  return 0;
}
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t n, void *s) {
  uint32_t *p = (uint32_t *)(uintptr_t)dst;
  for (size_t i = 0; i < n; ++i)
    p[i] = v;
  return 0;
}
