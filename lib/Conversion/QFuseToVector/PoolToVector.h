//===- PoolToVector.h - Max-pooling vector kernel ---------------*- C++ -*-===//
//
// Internal to convert-qfuse-to-vector: the max-pooling kernel it emits next
// to its convolution kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_LIB_CONVERSION_QFUSETOVECTOR_POOLTOVECTOR_H
#define QFUSE_LIB_CONVERSION_QFUSETOVECTOR_POOLTOVECTOR_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Support/LLVM.h"

namespace mlir {
namespace qfuse {

/// Replaces `op` (f32, static shapes, 2x2 or 3x3 windows at stride 2, the
/// padding of a 3x3 one a tensor.pad of one row and column at the top and
/// left, any at the bottom and right) by a vector kernel that
/// reads the unpadded input in place, 8 output columns per vector. Leaves
/// it (with a remark that says why) otherwise.
LogicalResult lowerMaxPool(linalg::PoolingNchwMaxOp op);

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_LIB_CONVERSION_QFUSETOVECTOR_POOLTOVECTOR_H
