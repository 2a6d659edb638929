//===- KernelBuilders.h - Builders shared by the vector kernels -*- C++ -*-===//
//
// Internal to convert-qfuse-to-vector: the small builders and the remarks
// that its convolution kernels (ConvToVector.cpp) and its max-pooling kernel
// (PoolToVector.cpp) share.
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_LIB_CONVERSION_QFUSETOVECTOR_KERNELBUILDERS_H
#define QFUSE_LIB_CONVERSION_QFUSETOVECTOR_KERNELBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Remarks.h"

namespace mlir {
namespace qfuse {
namespace kernels {

/// f32 lanes per vector (AVX2's 256 bits).
constexpr int64_t kLanes = 8;

/// The remarks' category: `--remarks-filter=vectorize`.
constexpr llvm::StringLiteral kRemarkCategory = "vectorize";

inline Value cIdx(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// A constant f32 vector of `width` lanes, all `v`.
inline Value splat(OpBuilder &b, Location loc, int64_t width, double v) {
  auto type = VectorType::get({width}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(v).getValue()));
}

/// The passed remark of a kernel taken by `op` (`pattern`: ConvToVector,
/// PoolToVector).
inline void remarkTaken(Operation *op, StringRef pattern, StringRef what) {
  remark::passed(op->getLoc(), remark::RemarkOpts::name(pattern)
                                   .category(kRemarkCategory)
                                   .subCategory("kernel"))
      << what.str();
}

/// The missed remark of an op left to the generic lowering, and failure.
inline LogicalResult remarkLeft(Operation *op, StringRef pattern,
                                const Twine &why) {
  remark::missed(op->getLoc(), remark::RemarkOpts::name(pattern)
                                   .category(kRemarkCategory)
                                   .subCategory("kernel"))
      << ("left to the generic lowering: " + why).str();
  return failure();
}

} // namespace kernels
} // namespace qfuse
} // namespace mlir

#endif // QFUSE_LIB_CONVERSION_QFUSETOVECTOR_KERNELBUILDERS_H
