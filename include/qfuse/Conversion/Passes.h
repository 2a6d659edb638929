//===- Passes.h - qfuse conversion passes -----------------------*- C++ -*-===//

#ifndef QFUSE_CONVERSION_PASSES_H
#define QFUSE_CONVERSION_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace qfuse {

#define GEN_PASS_DECL
#include "qfuse/Conversion/Passes.h.inc"

/// Marks a sequential scf.for whose body's parallel loops stay parallel
/// (qfuse-sequentialize-nested-parallel): each iteration forks once. The
/// vector kernels' one-image-at-a-time loop carries it.
constexpr llvm::StringLiteral kForkPerIterationAttr =
    "qfuse.fork_per_iteration";

/// Patterns lowering qfuse ops (all but qfuse.qat_conv_bn) to linalg,
/// tensor, arith and math on tensors.
void populateQFuseToLinalgPatterns(RewritePatternSet &patterns);

/// The pattern expanding qfuse.qat_conv_bn into a qfuse.conv /
/// conv_transpose / linear on the fake-quantized scaled weight, a
/// qfuse.fake_quant and linalg ops for the rest (its part of
/// populateQFuseToLinalgPatterns).
void populateExpandQatPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "qfuse/Conversion/Passes.h.inc"

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_CONVERSION_PASSES_H
