//===- CopyToLinalg.cpp - strided memref.copy as linalg.copy --------------===//
//
// memref.copy between memrefs that are not both contiguous lowers to a call
// of the runtime's memrefCopy, which walks the elements one at a time through
// their strides. Bufferization makes such copies for tensor.pad and
// insert_slice (a padded input, for instance). As linalg.copy they lower to
// loops like every other linalg op: LLVM vectorizes the contiguous inner
// loop, and with num-threads the outer loops run in parallel.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_COPYTOLINALG
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;

namespace {
struct CopyToLinalgPass
    : public qfuse::impl::CopyToLinalgBase<CopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (source && target &&
          !(source.getLayout().isIdentity() && target.getLayout().isIdentity()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
