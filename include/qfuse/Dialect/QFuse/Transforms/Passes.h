//===- Passes.h - qfuse transformation passes -------------------*- C++ -*-===//

#ifndef QFUSE_DIALECT_QFUSE_TRANSFORMS_PASSES_H
#define QFUSE_DIALECT_QFUSE_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace qfuse {

#define GEN_PASS_DECL
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"

/// Patterns that fuse relu/clamp into a preceding conv, conv_transpose or
/// linear (the rewrites of --fuse-activations). Each fusion increments
/// `*numFused` when it is given.
void populateFuseActivationPatterns(RewritePatternSet &patterns,
                                    unsigned *numFused = nullptr);

/// Applies those patterns to `root` greedily; returns how many activations
/// were fused.
FailureOr<unsigned> fuseActivations(Operation *root);

#define GEN_PASS_REGISTRATION
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_DIALECT_QFUSE_TRANSFORMS_PASSES_H
