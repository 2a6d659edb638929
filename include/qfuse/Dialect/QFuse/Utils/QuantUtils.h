//===- QuantUtils.h - integer-path helpers shared by the lowerings -*- C++ -*-===//
//
// The requantize of qfuse.qconv / qfuse.qlinear (docs/Numerics.md) is built
// in one place, so that the generic linalg lowering and the vector kernels
// compute bit-identical results.
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_DIALECT_QFUSE_UTILS_QUANTUTILS_H
#define QFUSE_DIALECT_QFUSE_UTILS_QUANTUTILS_H

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/IR/Builders.h"

namespace mlir {
namespace qfuse {
namespace quant {

/// Widens an integer `v` (scalar or vector) to `to`, zero-extending when
/// `isUnsigned`, or truncates it.
Value castInt(OpBuilder &b, Location loc, Value v, Type to,
              bool isUnsigned = false);

/// The single element of a rank-0 or one-element tensor.
Value extractScalar(OpBuilder &b, Location loc, Value tensor);

/// The requantize parameters of a qconv / qlinear with requantize:
/// `multiplier` is a tensor<Cout x f64> holding M[c] = f64(sx)·f64(sw[c]) /
/// f64(sy); `zeroPoint`, `lo`, `hi` are f64 scalars (the output zero point
/// and the clamp bounds: [quant_min, quant_max] narrowed by the activation).
struct RequantParams {
  Value multiplier, zeroPoint, lo, hi;
};
RequantParams buildRequantParams(OpBuilder &b, Location loc, Operation *op,
                                 int64_t cout);

/// y = clamp(roundeven(f64(acc)·m) + zeroPoint, lo, hi) as i8: `acc` an i32
/// scalar or vector, `m` f64 of the same shape.
Value requantizeValue(OpBuilder &b, Location loc, Value acc, Value m,
                      const RequantParams &p);

} // namespace quant
} // namespace qfuse
} // namespace mlir

#endif // QFUSE_DIALECT_QFUSE_UTILS_QUANTUTILS_H
