//===- QFuseOps.h - qfuse operations ----------------------------*- C++ -*-===//

#ifndef QFUSE_DIALECT_QFUSE_IR_QFUSEOPS_H
#define QFUSE_DIALECT_QFUSE_IR_QFUSEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include <limits>

#include "qfuse/Dialect/QFuse/IR/QFuseDialect.h"
#include "qfuse/Dialect/QFuse/IR/QFuseEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qfuse/Dialect/QFuse/IR/QFuseAttributes.h.inc"

#define GET_OP_CLASSES
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h.inc"

namespace mlir {
namespace qfuse {

/// The convolution geometry shared by qfuse.conv, qfuse.conv_transpose and
/// qfuse.qat_conv_bn.
struct ConvGeometry {
  ArrayRef<int64_t> strides, padding, dilations, outputPadding;
  int64_t groups = 1;
  bool transposed = false;
};

/// Expected size of one output spatial dimension, or ShapedType::kDynamic
/// when `inputSize` or `kernelSize` is dynamic.
int64_t inferConvOutputSize(int64_t inputSize, int64_t kernelSize,
                            const ConvGeometry &geometry, unsigned dim);

/// Returns the activation a fused op applies, as (kind, min, max); for relu
/// min = 0 and max = +inf, for none both are infinite.
struct FusedActivation {
  ActivationKind kind = ActivationKind::none;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};
FusedActivation getFusedActivation(Operation *op);

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_DIALECT_QFUSE_IR_QFUSEOPS_H
