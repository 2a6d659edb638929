//===- FoldUtils.h - f64 folding helpers shared by qfuse passes -*- C++ -*-===//
//
// The arithmetic of batch-norm folding (docs/Numerics.md): constants read
// exactly into f64, rounded once back, and the scaling of a weight along the
// output-channel axis of conv, conv_transpose and linear.
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_DIALECT_QFUSE_UTILS_FOLDUTILS_H
#define QFUSE_DIALECT_QFUSE_UTILS_FOLDUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <string>

namespace mlir {
namespace qfuse {
namespace fold {

/// The values of a constant float tensor (dense elements or a dense
/// resource blob), widened exactly to f64; nullopt when `value` is not such
/// a constant.
std::optional<SmallVector<double>> getConstantValues(Value value);

/// The values of a constant integer tensor (dense elements or a dense
/// resource blob), sign-extended (zero-extended when `isUnsigned`) to i64;
/// nullopt when `value` is not such a constant.
std::optional<SmallVector<int64_t>> getConstantInts(Value value,
                                                   bool isUnsigned = false);

/// Rounds `values` once (nearest, ties to even) to the element type of
/// `type`. Fails when a rounded value is not finite (overflow).
FailureOr<DenseElementsAttr> roundToType(ShapedType type,
                                         ArrayRef<double> values);

/// The value `v` takes once rounded to the float type `elt`, back in f64.
double roundedAs(Type elt, double v);

/// Shortest readable form of a double for messages ("-0.99999", "1e-05").
std::string formatDouble(double v);

/// Maps a flat weight index to the output channel it contributes to, for
/// conv / linear ([Cout, Cin/g, k...], axis 0) and conv_transpose
/// ([Cin, Cout/g, k...]: o = group·(Cout/g) + j for row group·(Cin/g)+i).
struct OutputChannelMap {
  OutputChannelMap(ShapedType weight, bool transposed, int64_t groups);
  int64_t operator()(int64_t flat) const;

private:
  int64_t innerSize = 1;    // product of dims after the channel dims
  int64_t dim1 = 1;         // weight dim 1
  int64_t rowsPerGroup = 1; // Cin/g (transposed only)
  int64_t coutPerGroup = 1; // Cout/g (transposed only)
  bool transposed = false;
};

/// Emits W'[...] = W[...] · k[out_channel(...)] as a linalg.generic computing
/// in f64 and rounding once to W's element type. `k` is a 1-D f64 tensor with
/// one entry per output channel; the channel of a weight element is the
/// op's own (OutputChannelMap as an affine map). W must be statically shaped.
Value scaleAlongOutputChannels(OpBuilder &b, Location loc, Value weight,
                               Value k, bool transposed, int64_t groups);

/// Emits one linalg.generic over the channels computing, in f64,
///   k  = γ / sqrt(σ² + ε)                 (a [C] f64 tensor)
///   b' = (b − μ)·k + β, rounded once to `biasElt`   (a [C] tensor)
/// `gamma`, `beta`, `bias` may be null (1, 0, 0).
std::pair<Value, Value> emitBNCoefficients(OpBuilder &b, Location loc,
                                           Value mean, Value var, Value gamma,
                                           Value beta, Value bias, double eps,
                                           Type biasElt, int64_t channels);

} // namespace fold
} // namespace qfuse
} // namespace mlir

#endif // QFUSE_DIALECT_QFUSE_UTILS_FOLDUTILS_H
