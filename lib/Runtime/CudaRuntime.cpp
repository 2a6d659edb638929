//===- CudaRuntime.cpp - qfuse's runtime over the CUDA driver API ---------===//
//
// The mgpu* functions below have the signatures MLIR's gpu-to-llvm lowering
// declares (see `declare` lines of a lowered module):
//
//   ptr  mgpuModuleLoadJIT(ptr ptx, i32 optLevel)    format=isa (PTX)
//   ptr  mgpuModuleLoad(ptr blob, i64 size)          format=bin / fatbin
//   void mgpuModuleUnload(ptr)
//   ptr  mgpuModuleGetFunction(ptr module, ptr name)
//   void mgpuLaunchKernel(ptr fn, i64 gx, gy, gz, bx, by, bz, i32 smem,
//                         ptr stream, ptr params, ptr extra, i64 nparams)
//   ptr  mgpuStreamCreate(), void mgpuStreamSynchronize(ptr),
//   void mgpuStreamDestroy(ptr), void mgpuStreamWaitEvent(ptr, ptr)
//   ptr  mgpuEventCreate(), void mgpuEventDestroy(ptr),
//   void mgpuEventSynchronize(ptr), void mgpuEventRecord(ptr, ptr)
//   ptr  mgpuMemAlloc(i64 bytes, ptr stream, i8 hostShared)
//   void mgpuMemFree(ptr, ptr stream)
//   void mgpuMemcpy(ptr dst, ptr src, i64 bytes, ptr stream)
//   void mgpuMemset32(ptr dst, i32 value, i64 count, ptr stream)
//
// They are not exported under those names: the JIT is given their addresses
// (forEachRuntimeSymbol), so they cannot clash with another runtime.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Runtime/CudaRuntime.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstdint>
#include <mutex>

using namespace mlir::qfuse;

namespace {

// The driver API's handles and the few enumerators used, as its header
// defines them (CUDA 12/13 ABI).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using Handle = void *; // CUcontext, CUmodule, CUfunction, CUstream, CUevent
constexpr int kAttrMultiprocessors = 16;
constexpr int kAttrMajor = 75;
constexpr int kAttrMinor = 76;
constexpr int kJitErrorLogBuffer = 5;
constexpr int kJitErrorLogBufferSize = 6;
constexpr int kJitOptimizationLevel = 7;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(Handle *, CUdevice);
  CUresult (*cuCtxSetCurrent)(Handle);
  CUresult (*cuModuleLoadData)(Handle *, const void *);
  CUresult (*cuModuleLoadDataEx)(Handle *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleUnload)(Handle);
  CUresult (*cuModuleGetFunction)(Handle *, Handle, const char *);
  CUresult (*cuLaunchKernel)(Handle, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, Handle, void **,
                             void **);
  CUresult (*cuStreamCreate)(Handle *, unsigned);
  CUresult (*cuStreamSynchronize)(Handle);
  CUresult (*cuStreamDestroy)(Handle);
  CUresult (*cuStreamWaitEvent)(Handle, Handle, unsigned);
  CUresult (*cuEventCreate)(Handle *, unsigned);
  CUresult (*cuEventRecord)(Handle, Handle);
  CUresult (*cuEventSynchronize)(Handle);
  CUresult (*cuEventElapsedTime)(float *, Handle, Handle);
  CUresult (*cuEventDestroy)(Handle);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, Handle);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, Handle);
};

struct State {
  std::mutex mutex;
  bool loaded = false;
  std::string loadError;
  Driver api{};
  Handle context = nullptr;
  CUdevice device = 0;
  int ordinal = -1;
  std::string firstError;
  // Kernel timing: event pairs recorded around launches, resolved when their
  // stream is synchronized, and each launch's kernel and shape.
  using Dims = std::array<intptr_t, 6>; // grid x, y, z, block x, y, z
  struct Launch {
    Handle start, stop, fn;
    Dims dims;
  };
  std::vector<Launch> pending;
  std::vector<std::pair<Handle, Handle>> spare;
  double kernelMs = 0;
  // The kernel name of each function handle, and the time per kernel and
  // launch shape since startKernelProfile(), only then (profileKeys[i] is the
  // kernel name and shape of profile[i]; a driver may hand out a new function
  // handle for each lookup, so kernels are told apart by name).
  llvm::DenseMap<Handle, std::string> kernelNames;
  llvm::DenseMap<Handle, unsigned> moduleOrdinals;
  bool profiling = false;
  std::vector<std::pair<std::string, Dims>> profileKeys;
  std::vector<cuda::KernelStat> profile;
};

State &state() {
  static State s;
  return s;
}

std::string errorText(CUresult r) {
  const char *msg = nullptr;
  if (state().api.cuGetErrorString)
    state().api.cuGetErrorString(r, &msg);
  // The codes a machine without a usable GPU gives, for when the driver
  // cannot name them itself (the toolkit's stub library).
  if (!msg)
    msg = r == 34    ? "CUDA_ERROR_STUB_LIBRARY: the toolkit's stub "
                       "libcuda, not a driver"
          : r == 35  ? "CUDA_ERROR_INSUFFICIENT_DRIVER"
          : r == 100 ? "CUDA_ERROR_NO_DEVICE: no CUDA-capable device"
                     : nullptr;
  return llvm::formatv("CUDA error {0}{1}{2}", r, msg ? ": " : "",
                       msg ? msg : "")
      .str();
}

/// Records the first failure of an mgpu* call (and prints every one).
bool check(CUresult r, const char *what) {
  if (r == 0)
    return true;
  std::string text = std::string(what) + ": " + errorText(r);
  llvm::errs() << "qfuse cuda runtime: " << text << "\n";
  if (state().firstError.empty())
    state().firstError = text;
  return false;
}

template <typename Fn>
bool resolve(llvm::sys::DynamicLibrary &lib, Fn &fn,
             std::initializer_list<const char *> names, std::string &missing) {
  for (const char *name : names)
    if (void *p = lib.getAddressOfSymbol(name)) {
      fn = reinterpret_cast<Fn>(p);
      return true;
    }
  missing += std::string(missing.empty() ? "" : ", ") + *names.begin();
  return false;
}

llvm::Error loadDriver() {
  State &s = state();
  if (s.loaded)
    return llvm::Error::success();
  if (!s.loadError.empty())
    return llvm::createStringError(s.loadError);
  std::string err;
  auto lib =
      llvm::sys::DynamicLibrary::getPermanentLibrary("libcuda.so.1", &err);
  if (!lib.isValid()) {
    s.loadError = "no CUDA driver (libcuda.so.1): " + err;
    return llvm::createStringError(s.loadError);
  }
  Driver &d = s.api;
  std::string missing;
  resolve(lib, d.cuInit, {"cuInit"}, missing);
  resolve(lib, d.cuGetErrorString, {"cuGetErrorString"}, missing);
  resolve(lib, d.cuDeviceGetCount, {"cuDeviceGetCount"}, missing);
  resolve(lib, d.cuDeviceGet, {"cuDeviceGet"}, missing);
  resolve(lib, d.cuDeviceGetName, {"cuDeviceGetName"}, missing);
  resolve(lib, d.cuDeviceGetAttribute, {"cuDeviceGetAttribute"}, missing);
  resolve(lib, d.cuDeviceTotalMem, {"cuDeviceTotalMem_v2"}, missing);
  resolve(lib, d.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"},
          missing);
  resolve(lib, d.cuCtxSetCurrent, {"cuCtxSetCurrent"}, missing);
  resolve(lib, d.cuModuleLoadData, {"cuModuleLoadData"}, missing);
  resolve(lib, d.cuModuleLoadDataEx, {"cuModuleLoadDataEx"}, missing);
  resolve(lib, d.cuModuleUnload, {"cuModuleUnload"}, missing);
  resolve(lib, d.cuModuleGetFunction, {"cuModuleGetFunction"}, missing);
  resolve(lib, d.cuLaunchKernel, {"cuLaunchKernel"}, missing);
  resolve(lib, d.cuStreamCreate, {"cuStreamCreate"}, missing);
  resolve(lib, d.cuStreamSynchronize, {"cuStreamSynchronize"}, missing);
  resolve(lib, d.cuStreamDestroy, {"cuStreamDestroy_v2"}, missing);
  resolve(lib, d.cuStreamWaitEvent, {"cuStreamWaitEvent"}, missing);
  resolve(lib, d.cuEventCreate, {"cuEventCreate"}, missing);
  resolve(lib, d.cuEventRecord, {"cuEventRecord"}, missing);
  resolve(lib, d.cuEventSynchronize, {"cuEventSynchronize"}, missing);
  resolve(lib, d.cuEventElapsedTime,
          {"cuEventElapsedTime_v2", "cuEventElapsedTime"}, missing);
  resolve(lib, d.cuEventDestroy, {"cuEventDestroy_v2"}, missing);
  resolve(lib, d.cuMemAlloc, {"cuMemAlloc_v2"}, missing);
  resolve(lib, d.cuMemAllocManaged, {"cuMemAllocManaged"}, missing);
  resolve(lib, d.cuMemFree, {"cuMemFree_v2"}, missing);
  resolve(lib, d.cuMemcpyAsync, {"cuMemcpyAsync"}, missing);
  resolve(lib, d.cuMemsetD32Async, {"cuMemsetD32Async"}, missing);
  if (!missing.empty()) {
    s.loadError = "the CUDA driver lacks " + missing;
    return llvm::createStringError(s.loadError);
  }
  s.loaded = true;
  return llvm::Error::success();
}

llvm::Error driverError(CUresult r, const char *what) {
  return llvm::createStringError(std::string(what) + ": " + errorText(r));
}

/// Makes the selected context current on the calling thread.
bool ensureContext() {
  State &s = state();
  if (!s.context) {
    if (llvm::Error err = cuda::initialize()) {
      std::string text = llvm::toString(std::move(err));
      llvm::errs() << "qfuse cuda runtime: " << text << "\n";
      if (s.firstError.empty())
        s.firstError = text;
      return false;
    }
  }
  return check(s.api.cuCtxSetCurrent(s.context), "cuCtxSetCurrent");
}

/// Sums the kernel times of the launches recorded so far (their streams are
/// synchronized).
void collectTimes() {
  State &s = state();
  for (const State::Launch &l : s.pending) {
    float ms = 0;
    bool timed = check(s.api.cuEventElapsedTime(&ms, l.start, l.stop),
                       "cuEventElapsedTime");
    if (timed)
      s.kernelMs += ms;
    if (timed && s.profiling) {
      std::pair<std::string, State::Dims> key = {s.kernelNames.lookup(l.fn),
                                                 l.dims};
      size_t i = llvm::find(s.profileKeys, key) - s.profileKeys.begin();
      if (i == s.profileKeys.size()) {
        s.profileKeys.push_back(key);
        s.profile.push_back({key.first,
                             llvm::formatv("{0}x{1}x{2} blocks of {3}x{4}x{5}",
                                           l.dims[0], l.dims[1], l.dims[2],
                                           l.dims[3], l.dims[4], l.dims[5])
                                 .str(),
                             0, 0.0});
      }
      s.profile[i].launches += 1;
      s.profile[i].ms += ms;
    }
    s.spare.push_back({l.start, l.stop});
  }
  s.pending.clear();
}

Handle newEvent() {
  Handle e = nullptr;
  check(state().api.cuEventCreate(&e, /*CU_EVENT_DEFAULT*/ 0), "cuEventCreate");
  return e;
}

// The mgpu* ABI.

void *qfuseModuleLoadJIT(void *ptx, int optLevel) {
  if (!ensureContext())
    return nullptr;
  State &s = state();
  char log[8192] = {0};
  int options[] = {kJitOptimizationLevel, kJitErrorLogBuffer,
                   kJitErrorLogBufferSize};
  void *values[] = {reinterpret_cast<void *>(static_cast<intptr_t>(
                        std::min(std::max(optLevel, 0), 4))),
                    log, reinterpret_cast<void *>(sizeof(log))};
  Handle module = nullptr;
  if (!check(s.api.cuModuleLoadDataEx(&module, ptx, 3, options, values),
             "cuModuleLoadDataEx (JIT of the PTX)") &&
      log[0])
    llvm::errs() << "qfuse cuda runtime: PTX JIT log:\n" << log << "\n";
  return module;
}

void *qfuseModuleLoad(void *data, size_t) {
  if (!ensureContext())
    return nullptr;
  Handle module = nullptr;
  check(state().api.cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

void qfuseModuleUnload(void *module) {
  if (module && ensureContext())
    check(state().api.cuModuleUnload(module), "cuModuleUnload");
}

void *qfuseModuleGetFunction(void *module, const char *name) {
  Handle fn = nullptr;
  if (!module) {
    check(/*CUDA_ERROR_INVALID_HANDLE*/ 400,
          "mgpuModuleGetFunction (no module)");
    return nullptr;
  }
  // Outlined kernels share their function's name across modules: the
  // profile tells them apart by the order their modules were loaded in.
  State &s = state();
  if (check(s.api.cuModuleGetFunction(&fn, module, name),
            "cuModuleGetFunction")) {
    auto [it, inserted] = s.moduleOrdinals.try_emplace(
        module, static_cast<unsigned>(s.moduleOrdinals.size()));
    s.kernelNames[fn] = llvm::formatv("{0} #{1}", name, it->second).str();
  }
  return fn;
}

void qfuseLaunchKernel(void *fn, intptr_t gx, intptr_t gy, intptr_t gz,
                       intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                       void *stream, void **params, void **extra, size_t) {
  State &s = state();
  if (!fn || !ensureContext())
    return;
  Handle start, stop;
  if (!s.spare.empty()) {
    std::tie(start, stop) = s.spare.back();
    s.spare.pop_back();
  } else {
    start = newEvent();
    stop = newEvent();
  }
  check(s.api.cuEventRecord(start, stream), "cuEventRecord");
  check(s.api.cuLaunchKernel(fn, gx, gy, gz, bx, by, bz, smem, stream, params,
                             extra),
        "cuLaunchKernel");
  check(s.api.cuEventRecord(stop, stream), "cuEventRecord");
  s.pending.push_back({start, stop, fn, {gx, gy, gz, bx, by, bz}});
}

void *qfuseStreamCreate() {
  Handle stream = nullptr;
  if (ensureContext())
    check(state().api.cuStreamCreate(&stream, /*CU_STREAM_NON_BLOCKING*/ 1),
          "cuStreamCreate");
  return stream;
}

void qfuseStreamSynchronize(void *stream) {
  if (check(state().api.cuStreamSynchronize(stream), "cuStreamSynchronize"))
    collectTimes();
}

void qfuseStreamDestroy(void *stream) {
  check(state().api.cuStreamDestroy(stream), "cuStreamDestroy");
}

void qfuseStreamWaitEvent(void *stream, void *event) {
  check(state().api.cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
}

void *qfuseEventCreate() { return ensureContext() ? newEvent() : nullptr; }

void qfuseEventDestroy(void *event) {
  check(state().api.cuEventDestroy(event), "cuEventDestroy");
}

void qfuseEventSynchronize(void *event) {
  check(state().api.cuEventSynchronize(event), "cuEventSynchronize");
}

void qfuseEventRecord(void *event, void *stream) {
  check(state().api.cuEventRecord(event, stream), "cuEventRecord");
}

void *qfuseMemAlloc(uint64_t bytes, void *, bool hostShared) {
  if (!ensureContext())
    return nullptr;
  CUdeviceptr ptr = 0;
  // One byte at least: a zero-sized tensor still needs a distinct address.
  size_t size = bytes ? bytes : 1;
  if (hostShared)
    check(state().api.cuMemAllocManaged(&ptr, size, /*CU_MEM_ATTACH_GLOBAL*/ 1),
          "cuMemAllocManaged");
  else
    check(state().api.cuMemAlloc(&ptr, size), "cuMemAlloc");
  return reinterpret_cast<void *>(ptr);
}

void qfuseMemFree(void *ptr, void *) {
  if (ptr)
    check(state().api.cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)),
          "cuMemFree");
}

void qfuseMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  // Unified addressing: the driver infers the direction from the pointers.
  check(state().api.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                  reinterpret_cast<CUdeviceptr>(src), bytes,
                                  stream),
        "cuMemcpyAsync");
}

void qfuseMemset32(void *dst, int32_t value, size_t count, void *stream) {
  check(state().api.cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst),
                                     static_cast<unsigned>(value), count,
                                     stream),
        "cuMemsetD32Async");
}

} // namespace

std::string cuda::DeviceInfo::chip() const {
  return llvm::formatv("sm_{0}{1}", major, minor).str();
}

std::string cuda::DeviceInfo::ptxFeatures() const {
  // The PTX ISA that introduced each target: 8.0 for sm_90, 8.6 for sm_100,
  // 8.7 for sm_120; older targets are covered by 8.0 too.
  if (major >= 12)
    return "+ptx87";
  if (major >= 10)
    return "+ptx86";
  return "+ptx80";
}

static llvm::Expected<cuda::DeviceInfo> describe(int ordinal) {
  Driver &d = state().api;
  CUdevice dev;
  if (CUresult r = d.cuDeviceGet(&dev, ordinal))
    return driverError(r, "cuDeviceGet");
  cuda::DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {0};
  d.cuDeviceGetName(name, sizeof(name) - 1, dev);
  info.name = name;
  d.cuDeviceGetAttribute(&info.major, kAttrMajor, dev);
  d.cuDeviceGetAttribute(&info.minor, kAttrMinor, dev);
  d.cuDeviceGetAttribute(&info.multiprocessors, kAttrMultiprocessors, dev);
  d.cuDeviceTotalMem(&info.memoryBytes, dev);
  return info;
}

static llvm::Error initDriver() {
  if (llvm::Error err = loadDriver())
    return err;
  if (CUresult r = state().api.cuInit(0))
    return driverError(r, "cuInit");
  return llvm::Error::success();
}

llvm::Error cuda::initialize(int ordinal) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.context) {
    if (ordinal == s.ordinal)
      return llvm::Error::success();
    return llvm::createStringError(
        llvm::formatv("CUDA device {0} is in use; cannot switch to {1}",
                      s.ordinal, ordinal)
            .str());
  }
  if (llvm::Error err = initDriver())
    return err;
  int count = 0;
  if (CUresult r = s.api.cuDeviceGetCount(&count))
    return driverError(r, "cuDeviceGetCount");
  if (ordinal < 0 || ordinal >= count)
    return llvm::createStringError(
        llvm::formatv("no CUDA device {0} ({1} found)", ordinal, count).str());
  if (CUresult r = s.api.cuDeviceGet(&s.device, ordinal))
    return driverError(r, "cuDeviceGet");
  if (CUresult r = s.api.cuDevicePrimaryCtxRetain(&s.context, s.device))
    return driverError(r, "cuDevicePrimaryCtxRetain");
  if (CUresult r = s.api.cuCtxSetCurrent(s.context))
    return driverError(r, "cuCtxSetCurrent");
  s.ordinal = ordinal;
  return llvm::Error::success();
}

llvm::Expected<std::vector<cuda::DeviceInfo>> cuda::listDevices() {
  if (llvm::Error err = initDriver())
    return std::move(err);
  int count = 0;
  if (CUresult r = state().api.cuDeviceGetCount(&count))
    return driverError(r, "cuDeviceGetCount");
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < count; ++i) {
    auto info = describe(i);
    if (!info)
      return info.takeError();
    devices.push_back(*info);
  }
  return devices;
}

llvm::Expected<cuda::DeviceInfo> cuda::currentDevice() {
  if (state().ordinal < 0)
    return llvm::createStringError("the CUDA runtime is not initialized");
  return describe(state().ordinal);
}

void cuda::forEachRuntimeSymbol(
    const std::function<void(llvm::StringRef, void *)> &define) {
  define("mgpuModuleLoadJIT", reinterpret_cast<void *>(&qfuseModuleLoadJIT));
  define("mgpuModuleLoad", reinterpret_cast<void *>(&qfuseModuleLoad));
  define("mgpuModuleUnload", reinterpret_cast<void *>(&qfuseModuleUnload));
  define("mgpuModuleGetFunction",
         reinterpret_cast<void *>(&qfuseModuleGetFunction));
  define("mgpuLaunchKernel", reinterpret_cast<void *>(&qfuseLaunchKernel));
  define("mgpuStreamCreate", reinterpret_cast<void *>(&qfuseStreamCreate));
  define("mgpuStreamSynchronize",
         reinterpret_cast<void *>(&qfuseStreamSynchronize));
  define("mgpuStreamDestroy", reinterpret_cast<void *>(&qfuseStreamDestroy));
  define("mgpuStreamWaitEvent",
         reinterpret_cast<void *>(&qfuseStreamWaitEvent));
  define("mgpuEventCreate", reinterpret_cast<void *>(&qfuseEventCreate));
  define("mgpuEventDestroy", reinterpret_cast<void *>(&qfuseEventDestroy));
  define("mgpuEventSynchronize",
         reinterpret_cast<void *>(&qfuseEventSynchronize));
  define("mgpuEventRecord", reinterpret_cast<void *>(&qfuseEventRecord));
  define("mgpuMemAlloc", reinterpret_cast<void *>(&qfuseMemAlloc));
  define("mgpuMemFree", reinterpret_cast<void *>(&qfuseMemFree));
  define("mgpuMemcpy", reinterpret_cast<void *>(&qfuseMemcpy));
  define("mgpuMemset32", reinterpret_cast<void *>(&qfuseMemset32));
}

llvm::Error cuda::takeError() {
  State &s = state();
  if (s.firstError.empty())
    return llvm::Error::success();
  std::string text = std::move(s.firstError);
  s.firstError.clear();
  return llvm::createStringError(text);
}

void cuda::resetKernelTime() { state().kernelMs = 0; }

void cuda::startKernelProfile() {
  state().profiling = true;
  state().profile.clear();
  state().profileKeys.clear();
}

std::vector<cuda::KernelStat> cuda::kernelProfile() { return state().profile; }

double cuda::kernelTimeMs() { return state().kernelMs; }
