//===- DeviceBuffers.cpp - device memory for the host side of kernels ----===//
//
// After qfuse-map-to-gpu a function is host code around gpu.launch ops, on
// host buffers. This pass moves every buffer the kernels touch to device
// memory: arguments are copied in (and out where written), allocations and
// constant globals become gpu.alloc, host copies become gpu.memcpy. What is
// left on the host must only compute descriptors (views); anything that
// would dereference a buffer on the host is an error.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_GPUDEVICEBUFFERS
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;

namespace {

/// The buffer a view of `v` is taken from.
static Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

static bool isHostMemRef(Type t) {
  auto m = dyn_cast<MemRefType>(t);
  return m && !m.getMemorySpace();
}

/// Buffers written by the function: stored to (in kernels or not), or the
/// target of a copy, through views.
static llvm::DenseSet<Value> writtenBuffers(func::FuncOp f) {
  llvm::DenseSet<Value> written;
  f.walk([&](Operation *op) {
    if (auto store = dyn_cast<memref::StoreOp>(op))
      written.insert(rootBuffer(store.getMemRef()));
    else if (auto copy = dyn_cast<memref::CopyOp>(op))
      written.insert(rootBuffer(copy.getTarget()));
    else if (auto copy = dyn_cast<gpu::MemcpyOp>(op))
      written.insert(rootBuffer(copy.getDst()));
  });
  return written;
}

/// Whether `op`, outside every kernel, only computes descriptors, constants
/// or control that the host may run on device buffers.
static bool hostSafe(Operation *op) {
  if (isa<ViewLikeOpInterface, memref::ExtractStridedMetadataOp, memref::DimOp,
          memref::CastOp, func::ReturnOp, gpu::LaunchOp, gpu::AllocOp,
          gpu::DeallocOp, gpu::MemcpyOp>(op))
    return true;
  return isMemoryEffectFree(op) && op->getNumRegions() == 0;
}

static LogicalResult moveToDevice(func::FuncOp f) {
  if (llvm::any_of(f.getResultTypes(), llvm::IsaPred<BaseMemRefType>))
    return f.emitError() << "qfuse-gpu-device-buffers: memref results would "
                            "be device memory; lower with results returned "
                            "through out-parameters";
  Block &entry = f.getBody().front();
  OpBuilder b(&entry, entry.begin());
  llvm::DenseSet<Value> written = writtenBuffers(f);
  SmallVector<std::pair<Value, Value>> copyBack; // (host argument, device)
  SmallVector<Value> toFree;

  auto deviceAlloc = [&](Location loc, MemRefType type,
                         ValueRange dynSizes) -> FailureOr<Value> {
    if (!type.getLayout().isIdentity())
      return failure();
    return gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(),
                                ValueRange(), dynSizes, ValueRange(),
                                /*hostShared=*/false)
        .getMemref();
  };

  // Arguments: a device copy at entry.
  for (BlockArgument arg : entry.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!type || !isHostMemRef(type) || arg.use_empty())
      continue;
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return f.emitError() << "qfuse-gpu-device-buffers: argument "
                           << arg.getArgNumber()
                           << " needs a static shape and identity layout";
    Value dev = *deviceAlloc(f.getLoc(), type, ValueRange());
    auto in =
        gpu::MemcpyOp::create(b, f.getLoc(), Type(), ValueRange(), dev, arg);
    arg.replaceAllUsesExcept(dev, in);
    if (written.contains(arg))
      copyBack.push_back({arg, dev});
    toFree.push_back(dev);
  }

  SmallVector<Operation *> ops;
  for (Operation &op : entry.without_terminator())
    ops.push_back(&op);
  for (Operation *op : ops) {
    b.setInsertionPoint(op);
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      if (!isHostMemRef(alloc.getType()))
        continue;
      FailureOr<Value> dev =
          deviceAlloc(alloc.getLoc(), alloc.getType(), alloc.getDynamicSizes());
      if (failed(dev))
        return alloc.emitError() << "qfuse-gpu-device-buffers: an allocation "
                                    "with a non-identity layout";
      alloc.replaceAllUsesWith(*dev);
      alloc.erase();
      if (llvm::none_of((*dev).getUsers(), llvm::IsaPred<memref::DeallocOp>))
        toFree.push_back(*dev);
      continue;
    }
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      gpu::DeallocOp::create(b, dealloc.getLoc(), Type(), ValueRange(),
                             dealloc.getMemref());
      dealloc.erase();
      continue;
    }
    if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
      FailureOr<Value> dev =
          deviceAlloc(global.getLoc(), global.getType(), ValueRange());
      if (failed(dev))
        return global.emitError() << "qfuse-gpu-device-buffers: a global "
                                     "with a non-identity layout";
      b.setInsertionPointAfter(global);
      auto in = gpu::MemcpyOp::create(b, global.getLoc(), Type(), ValueRange(),
                                      *dev, global.getResult());
      global.getResult().replaceAllUsesExcept(*dev, in);
      // The copy must follow the global; the allocation was put before it.
      toFree.push_back(*dev);
      continue;
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      auto src = cast<MemRefType>(copy.getSource().getType());
      auto dst = cast<MemRefType>(copy.getTarget().getType());
      if (!src.getLayout().isIdentity() || !dst.getLayout().isIdentity())
        return copy.emitError() << "qfuse-gpu-device-buffers: a strided copy "
                                   "left on the host";
      gpu::MemcpyOp::create(b, copy.getLoc(), Type(), ValueRange(),
                            copy.getTarget(), copy.getSource());
      copy.erase();
      continue;
    }
    if (!hostSafe(op))
      return op->emitError() << "qfuse-gpu-device-buffers: '" << op->getName()
                             << "' would run on the host on device memory "
                                "(only kernels may touch buffers)";
  }

  // Results back, then everything device-side freed, before each return.
  for (Block &block : f.getBody())
    if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator())) {
      b.setInsertionPoint(ret);
      for (auto [host, dev] : copyBack)
        gpu::MemcpyOp::create(b, ret.getLoc(), Type(), ValueRange(), host, dev);
      for (Value dev : toFree)
        gpu::DeallocOp::create(b, ret.getLoc(), Type(), ValueRange(), dev);
    }
  return success();
}

struct GpuDeviceBuffersPass
    : public qfuse::impl::GpuDeviceBuffersBase<GpuDeviceBuffersPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp f = getOperation();
    if (f.isExternal() ||
        f.getBody()
                .walk([](gpu::LaunchOp) { return WalkResult::interrupt(); })
                .wasInterrupted() == false)
      return;
    if (!f.getBody().hasOneBlock()) {
      f.emitError() << "qfuse-gpu-device-buffers: host control flow around "
                       "kernels is not supported";
      return signalPassFailure();
    }
    if (failed(moveToDevice(f)))
      signalPassFailure();
  }
};

} // namespace
