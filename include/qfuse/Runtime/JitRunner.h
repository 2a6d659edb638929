//===- JitRunner.h - lower, JIT-compile and call a function -----*- C++ -*-===//

#ifndef QFUSE_RUNTIME_JITRUNNER_H
#define QFUSE_RUNTIME_JITRUNNER_H

#include "qfuse/Runtime/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace mlir {
class ExecutionEngine;
namespace func {
class FuncOp;
} // namespace func
namespace qfuse {

/// Shape and element type of one argument or result.
struct TensorSpec {
  DType dtype;
  llvm::SmallVector<int64_t> shape;
  std::string str() const;
};

/// Finds the entry function: `name` when given, else the only public
/// function with a body.
llvm::Expected<func::FuncOp> findEntry(ModuleOp module, llvm::StringRef name);

/// Keeps the memory the compiled code frees for its next allocations
/// instead of handing it back to the system: with glibc, buffers up to
/// 32 MiB come from the heap (M_MMAP_THRESHOLD), which is never trimmed
/// (M_TRIM_THRESHOLD). Each call of a compiled model allocates and frees its
/// intermediate activations; by default glibc maps large ones afresh, or
/// trims them off the heap, so every call page-faults on them again
/// (MobileNetV2's 1.8 MB activations: a block of three convolutions took
/// 2.7 ms instead of 0.6). qfuse-run and qfuse-bench call this at start; a
/// host process that calls compiled code repeatedly should too (or set
/// GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:glibc.malloc.trim_threshold=...).
/// Returns false where the C library does not support it.
bool retainFreedHostMemory();

/// Where a JitFunction's kernels run.
enum class Device { CPU, CUDA };

/// A function lowered through --qfuse-lower-to-llvm (CPU) or
/// --qfuse-lower-to-nvvm{host-runtime} (CUDA) and JIT-compiled.
class JitFunction {
public:
  /// Lowers a clone of `module` and compiles `entry`. The signature must be
  /// static ranked tensors of supported element types. `numThreads` > 0 runs
  /// the outer parallel loops on that many OpenMP threads (needs libomp).
  /// `loweringOptions` are further options of the pipeline, e.g.
  /// "vectorize=false" or "tile-pixels=4 loop-order=weights" on the CPU,
  /// "tiled-conv=false" or "chip=sm_80" for CUDA (chip and PTX features
  /// default to the device's). With Device::CUDA the kernels run on CUDA
  /// device 0 through qfuse's runtime (CudaRuntime.h); arguments and
  /// results stay host buffers, copied in and out by the compiled code.
  static llvm::Expected<std::unique_ptr<JitFunction>>
  compile(ModuleOp module, llvm::StringRef entry, unsigned optLevel = 3,
          unsigned numThreads = 0, llvm::StringRef loweringOptions = "",
          Device device = Device::CPU);
  ~JitFunction();

  llvm::ArrayRef<TensorSpec> inputs() const { return inputSpecs; }
  llvm::ArrayRef<TensorSpec> outputs() const { return outputSpecs; }

  /// Checks `args` against the signature (a clear error per mismatch) and
  /// calls the function. `results` are written in place when they already
  /// have the result types (so repeated calls allocate nothing), and are
  /// allocated otherwise.
  llvm::Error run(llvm::ArrayRef<HostTensor> args,
                  llvm::SmallVectorImpl<HostTensor> &results);

  Device device() const { return target; }

private:
  JitFunction() = default;
  Device target = Device::CPU;
  std::unique_ptr<ExecutionEngine> engine;
  std::string symbol;
  llvm::SmallVector<TensorSpec> inputSpecs, outputSpecs;
};

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_RUNTIME_JITRUNNER_H
