//===- CudaRuntime.h - qfuse's runtime over the CUDA driver API -*- C++ -*-===//
//
// Code lowered with --qfuse-lower-to-nvvm{host-runtime=true} calls the
// `mgpu*` C ABI of MLIR's GPU-to-LLVM lowering (module load, stream, memory,
// launch). No implementation of it ships with Debian, so qfuse has its own,
// over the CUDA driver API. The driver (libcuda.so.1) is opened at run time:
// qfuse builds and runs everywhere, and says clearly when there is no GPU.
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_RUNTIME_CUDARUNTIME_H
#define QFUSE_RUNTIME_CUDARUNTIME_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir {
namespace qfuse {
namespace cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int major = 0, minor = 0;
  int multiprocessors = 0;
  size_t memoryBytes = 0;
  /// "sm_XY" for this device.
  std::string chip() const;
  /// The PTX ISA version feature (e.g. "+ptx80") qfuse targets for it.
  std::string ptxFeatures() const;
};

/// Opens the driver, initializes it and makes device `ordinal`'s primary
/// context current. Idempotent; fails with the driver's own message.
llvm::Error initialize(int ordinal = 0);

/// The devices the driver reports (initializes the driver).
llvm::Expected<std::vector<DeviceInfo>> listDevices();

/// The device initialize() selected.
llvm::Expected<DeviceInfo> currentDevice();

/// Calls `define(name, address)` for each function of the mgpu* ABI, to be
/// registered with the JIT.
void forEachRuntimeSymbol(
    const std::function<void(llvm::StringRef, void *)> &define);

/// The first error any mgpu* call met since the last call (the ABI returns
/// nothing, so errors are recorded), as an llvm::Error; success if none.
llvm::Error takeError();

/// Kernel time measured with CUDA events around every launch, summed since
/// the last reset (milliseconds).
void resetKernelTime();
double kernelTimeMs();

/// The same time per kernel and launch shape, summed since the last
/// startKernelProfile() (before it, launches are not profiled: no per-launch
/// bookkeeping unless asked for), in the order of first launch.
struct KernelStat {
  std::string name;
  /// "GXxGYxGZ blocks of BXxBYxBZ".
  std::string shape;
  unsigned launches = 0;
  double ms = 0;
};
std::vector<KernelStat> kernelProfile();
void startKernelProfile();

} // namespace cuda
} // namespace qfuse
} // namespace mlir

#endif // QFUSE_RUNTIME_CUDARUNTIME_H
