//===- FoldBatchNorm.cpp - exact batch-norm folding -----------------------===//
//
// Implements --fold-bn. Formulas (docs/Numerics.md):
//
//   k  = γ / sqrt(σ² + ε)            per channel, ε the op's own epsilon
//   after a conv-like op:  W' = W·k (output-channel axis),  b' = (b − μ)·k + β
//   before a conv:         a = k, c = β − μ·a per input channel,
//                          W' = W·a,  b' = b + Σ W·c,  explicit pad −c/a
//
// Constant operands are folded here, in f64, and rounded once. The rules that
// decide whether a fold is exact live next to each fold; every decision is
// reported as an optimization remark in category "fold-bn".
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"
#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Remarks.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;
using qfuse::fold::getConstantValues;
using qfuse::fold::OutputChannelMap;
using qfuse::fold::roundedAs;
using qfuse::fold::roundToType;
using qfuse::fold::emitBNCoefficients;
using qfuse::fold::scaleAlongOutputChannels;

namespace {

//===----------------------------------------------------------------------===//
// Batch-norm coefficients
//===----------------------------------------------------------------------===//

/// Per-channel constants of an inference batch-norm, bn(x) = k·(x − μ) + β.
struct BNConstants {
  SmallVector<double> k, mean, beta;
  /// c = β − μ·k, so that bn(x) = k·x + c.
  double shift(size_t i) const { return beta[i] - mean[i] * k[i]; }
  /// The bias folded into the producer, b' = (b − μ)·k + β (b = 0 when the
  /// producer has none).
  SmallVector<double>
  foldedBias(const std::optional<SmallVector<double>> &b) const {
    SmallVector<double> out(k.size());
    for (size_t o = 0; o < k.size(); ++o)
      out[o] = ((b ? (*b)[o] : 0.0) - mean[o]) * k[o] + beta[o];
    return out;
  }
};

/// Why a fold was not done; `warn` marks reasons that also deserve a warning
/// (the statistics themselves are unusable), `stat` the statistic to bump.
struct Refusal {
  std::string reason;
  bool warn = false;
  enum Kind { Numerics, Uses, Activation, Quant, Padding, Other } kind = Other;
};

/// Reads the batch-norm's statistics when they are all constants. Returns
/// std::nullopt when some are not constants; a Refusal when they are
/// constants but cannot be folded.
static std::optional<FailureOr<BNConstants>>
getBNConstants(BatchNormOp bn, Refusal &refusal) {
  auto mean = getConstantValues(bn.getMean());
  auto var = getConstantValues(bn.getVariance());
  std::optional<SmallVector<double>> gamma, beta;
  if (bn.getScale() && !(gamma = getConstantValues(bn.getScale())))
    return std::nullopt;
  if (bn.getOffset() && !(beta = getConstantValues(bn.getOffset())))
    return std::nullopt;
  if (!mean || !var)
    return std::nullopt;
  size_t channels = mean->size();
  double eps = bn.getEpsilon().convertToDouble();
  BNConstants out;
  out.mean = *mean;
  out.beta = beta ? *beta : SmallVector<double>(channels, 0.0);
  out.k.resize(channels);
  for (size_t i = 0; i < channels; ++i) {
    double g = gamma ? (*gamma)[i] : 1.0;
    double m = (*mean)[i], v = (*var)[i], b = out.beta[i];
    if (!std::isfinite(g) || !std::isfinite(m) || !std::isfinite(v) ||
        !std::isfinite(b)) {
      refusal = {llvm::formatv("non-finite batch-norm statistic on channel {0}",
                               i)
                     .str(),
                 /*warn=*/true, Refusal::Numerics};
      return FailureOr<BNConstants>(failure());
    }
    double denom = v + eps;
    if (!(denom > 0.0)) {
      refusal = {llvm::formatv("variance + epsilon = {0} <= 0 on channel {1}",
                               qfuse::fold::formatDouble(denom), i)
                     .str(),
                 /*warn=*/true, Refusal::Numerics};
      return FailureOr<BNConstants>(failure());
    }
    out.k[i] = g / std::sqrt(denom);
  }
  return FailureOr<BNConstants>(out);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

enum class ProducerKind { Conv, ConvTranspose, Linear };

struct FoldBatchNormPass
    : public qfuse::impl::FoldBatchNormBase<FoldBatchNormPass> {
  using FoldBatchNormBase::FoldBatchNormBase;

  void runOnOperation() override;

private:
  /// Tries every fold of `bn` in order of preference; reports the outcome.
  void processBatchNorm(BatchNormOp bn);

  FailureOr<StringRef> foldIntoProducer(BatchNormOp bn, Refusal &refusal);
  FailureOr<StringRef> foldIntoConsumer(BatchNormOp bn, Refusal &refusal);

  Value foldProducerRuntime(OpBuilder &b, BatchNormOp bn, Operation *producer,
                            ProducerKind kind, Value &newBias);

  /// Counts kept beside the statistics: Debian's release MLIR compiles pass
  /// statistics out, so the same numbers are also reported in a summary
  /// remark (category fold-bn, name FoldBatchNormSummary).
  llvm::MapVector<StringRef, unsigned> counts;
  void bump(Statistic &stat, StringRef key) {
    ++stat;
    ++counts[key];
  }

  void countRefusal(const Refusal &r) {
    switch (r.kind) {
    case Refusal::Numerics:
      bump(numRefusedNumerics, "refused-numerics");
      break;
    case Refusal::Uses:
      bump(numRefusedUses, "refused-uses");
      break;
    case Refusal::Activation:
      bump(numRefusedActivation, "refused-activation");
      break;
    case Refusal::Quant:
      bump(numRefusedQuant, "refused-quant");
      break;
    case Refusal::Padding:
      bump(numRefusedPadding, "refused-padding");
      break;
    case Refusal::Other:
      bump(numRefusedOther, "refused-other");
      break;
    }
  }
};

static constexpr StringLiteral kRemarkCategory = "fold-bn";

static Operation *cloneWithOperands(OpBuilder &b, Operation *op,
                                    ValueRange operands, Type resultType,
                                    Location loc) {
  OperationState state(loc, op->getName());
  state.addOperands(operands);
  state.addAttributes(op->getAttrs());
  state.addTypes(resultType);
  return b.create(state);
}

FailureOr<StringRef> FoldBatchNormPass::foldIntoProducer(BatchNormOp bn,
                                                         Refusal &refusal) {
  Operation *producer = bn.getInput().getDefiningOp();
  ProducerKind kind;
  if (isa_and_nonnull<ConvOp>(producer))
    kind = ProducerKind::Conv;
  else if (isa_and_nonnull<ConvTransposeOp>(producer))
    kind = ProducerKind::ConvTranspose;
  else if (isa_and_nonnull<LinearOp>(producer))
    kind = ProducerKind::Linear;
  else
    return failure();

  StringRef producerName = producer->getName().getStringRef();
  if (!producer->hasOneUse()) {
    refusal = {llvm::formatv("the {0} result has other users; folding would "
                             "change what they see",
                             producerName)
                   .str(),
               false, Refusal::Uses};
    return failure();
  }
  if (getFusedActivation(producer).kind != ActivationKind::none) {
    refusal = {llvm::formatv("the {0} applies a fused activation before the "
                             "batch-norm",
                             producerName)
                   .str(),
               false, Refusal::Activation};
    return failure();
  }

  Value input = producer->getOperand(0), weight = producer->getOperand(1);
  Value bias = producer->getNumOperands() > 2 ? producer->getOperand(2)
                                              : Value();
  auto weightType = cast<RankedTensorType>(weight.getType());
  Type elt = weightType.getElementType();
  int64_t groups = 1;
  if (auto g = producer->getAttrOfType<IntegerAttr>("groups"))
    groups = g.getInt();
  int64_t cout = cast<ShapedType>(bn.getType()).getDimSize(1);

  OpBuilder b(bn);
  Location loc = b.getFusedLoc({producer->getLoc(), bn.getLoc()});

  Refusal bnRefusal;
  auto bnConstants = getBNConstants(bn, bnRefusal);
  if (bnConstants && failed(*bnConstants)) {
    refusal = bnRefusal;
    return failure();
  }
  auto fq = weight.getDefiningOp<FakeQuantOp>();
  std::optional<SmallVector<double>> weightValues = getConstantValues(weight);
  std::optional<SmallVector<double>> biasValues;
  if (bias)
    biasValues = getConstantValues(bias);
  bool allConstant = bnConstants && (!bias || biasValues);

  // Fold through a weight fake_quant: fq(W; s)·k == fq(W·k; s·|k|).
  if (fq && foldThroughQuant) {
    if (!allConstant) {
      refusal = {"folding through a weight fake_quant needs constant "
                 "statistics and bias",
                 false, Refusal::Quant};
      return failure();
    }
    const BNConstants &bnc = **bnConstants;
    auto w = getConstantValues(fq.getInput());
    auto s = getConstantValues(fq.getScale());
    DenseIntElementsAttr zpAttr;
    if (!w || !s || !matchPattern(fq.getZeroPoint(), m_Constant(&zpAttr))) {
      refusal = {"the weight fake_quant's input, scale or zero point is not "
                 "a constant",
                 false, Refusal::Quant};
      return failure();
    }
    SmallVector<int64_t> zp;
    for (APInt z : zpAttr.getValues<APInt>())
      zp.push_back(z.getSExtValue());
    int64_t qmin = fq.getQuantMinAttr().getInt();
    int64_t qmax = fq.getQuantMaxAttr().getInt();
    OutputChannelMap outChannel(weightType, kind == ProducerKind::ConvTranspose,
                                groups);
    // The quant parameter index of each output channel.
    bool perChannel = fq.isPerChannel();
    if (perChannel) {
      int64_t axis = *fq.getAxis();
      bool axisIsOutput =
          (kind != ProducerKind::ConvTranspose && axis == 0) ||
          (kind == ProducerKind::ConvTranspose && axis == 1 && groups == 1);
      if (!axisIsOutput) {
        refusal = {llvm::formatv("the weight fake_quant is per-channel along "
                                 "axis {0}, not along the output channels",
                                 axis)
                       .str(),
                   false, Refusal::Quant};
        return failure();
      }
    } else {
      for (double k : bnc.k)
        if (k != bnc.k[0]) {
          refusal = {"per-tensor weight fake_quant with a batch-norm scale "
                     "that differs between channels: no single rescaled "
                     "scale is exact",
                     false, Refusal::Quant};
          return failure();
        }
    }
    for (size_t o = 0; o < bnc.k.size(); ++o) {
      double k = bnc.k[o];
      int64_t z = zp[perChannel ? o : 0];
      if (k == 0.0) {
        refusal = {llvm::formatv("batch-norm scale is 0 on channel {0}: the "
                                 "weight quant scale would become 0",
                                 o)
                       .str(),
                   false, Refusal::Quant};
        return failure();
      }
      if (k < 0.0 && (qmin != -qmax || z != 0)) {
        refusal = {llvm::formatv("negative batch-norm scale on channel {0} "
                                 "with an asymmetric quant range [{1}, {2}] "
                                 "or zero point {3}",
                                 o, qmin, qmax, z)
                       .str(),
                   false, Refusal::Quant};
        return failure();
      }
    }
    // New scale s·|k| and weight W·k, rounded once; then prove, element by
    // element, that every weight lands on the same quantization step.
    auto scaleType = cast<ShapedType>(fq.getScale().getType());
    Type scaleElt = scaleType.getElementType();
    SmallVector<double> newScale(s->size());
    for (size_t i = 0; i < s->size(); ++i)
      newScale[i] = (*s)[i] * std::fabs(bnc.k[perChannel ? i : 0]);
    SmallVector<double> newWeight(w->size());
    for (size_t i = 0; i < w->size(); ++i)
      newWeight[i] = (*w)[i] * bnc.k[outChannel(i)];
    auto quantStep = [&](double x, double scale, int64_t z) {
      // The division the lowering performs: in f32 for f16/bf16/f32, f64 for
      // f64, then round half to even and clamp.
      double q = elt.isF64() ? std::nearbyint(x / scale)
                             : std::nearbyint(static_cast<float>(x) /
                                              static_cast<float>(scale));
      return std::clamp<double>(q + z, qmin, qmax);
    };
    for (size_t i = 0; i < w->size(); ++i) {
      int64_t o = outChannel(i);
      size_t qi = perChannel ? o : 0;
      int64_t z = zp[qi];
      double before = quantStep((*w)[i], (*s)[qi], z) - z;
      double after = quantStep(roundedAs(elt, newWeight[i]),
                               roundedAs(scaleElt, newScale[qi]), z) -
                     z;
      double expected = bnc.k[o] < 0 ? -before : before;
      if (after != expected) {
        refusal = {llvm::formatv("rescaled weight {0} of channel {1} lands on "
                                 "quantization step {2} instead of {3} (a "
                                 "rounding tie moved): not exact",
                                 i, o, qfuse::fold::formatDouble(after), qfuse::fold::formatDouble(expected))
                       .str(),
                   false, Refusal::Quant};
        return failure();
      }
    }
    auto newWeightAttr = roundToType(weightType, newWeight);
    auto newScaleAttr = roundToType(scaleType, newScale);
    SmallVector<double> newBias = bnc.foldedBias(biasValues);
    auto biasType = RankedTensorType::get({cout}, elt);
    auto newBiasAttr = roundToType(biasType, newBias);
    if (failed(newWeightAttr) || failed(newScaleAttr) || failed(newBiasAttr)) {
      refusal = {"a folded value overflows the element type", true,
                 Refusal::Numerics};
      return failure();
    }
    Value newW = arith::ConstantOp::create(b, loc, *newWeightAttr);
    Value newS = arith::ConstantOp::create(b, loc, *newScaleAttr);
    Value newFq = cloneWithOperands(b, fq, {newW, newS, fq.getZeroPoint()},
                                    weightType, fq.getLoc())
                      ->getResult(0);
    Value newB = arith::ConstantOp::create(b, loc, *newBiasAttr);
    Operation *folded =
        cloneWithOperands(b, producer, {input, newFq, newB}, bn.getType(), loc);
    bn.replaceAllUsesWith(folded->getResult(0));
    bn.erase();
    producer->erase();
    if (fq->use_empty())
      fq->erase();
    bump(numFoldedAfter, "folded-after");
    bump(numFoldedThroughQuant, "folded-through-quant");
    return StringRef("through the weight fake_quant (scale rescaled, every "
                     "weight proven on the same quantization step)");
  }

  if (allConstant && weightValues) {
    const BNConstants &bnc = **bnConstants;
    OutputChannelMap outChannel(weightType, kind == ProducerKind::ConvTranspose,
                                groups);
    SmallVector<double> newWeight(weightValues->size());
    for (size_t i = 0; i < newWeight.size(); ++i)
      newWeight[i] = (*weightValues)[i] * bnc.k[outChannel(i)];
    SmallVector<double> newBias = bnc.foldedBias(biasValues);
    auto newWeightAttr = roundToType(weightType, newWeight);
    auto newBiasAttr =
        roundToType(RankedTensorType::get({cout}, elt), newBias);
    if (failed(newWeightAttr) || failed(newBiasAttr)) {
      refusal = {"a folded weight or bias overflows the element type", true,
                 Refusal::Numerics};
      return failure();
    }
    Value newW = arith::ConstantOp::create(b, loc, *newWeightAttr);
    Value newB = arith::ConstantOp::create(b, loc, *newBiasAttr);
    Operation *folded =
        cloneWithOperands(b, producer, {input, newW, newB}, bn.getType(), loc);
    bn.replaceAllUsesWith(folded->getResult(0));
    bn.erase();
    producer->erase();
    bump(numFoldedAfter, "folded-after");
    return StringRef("with constant weights (computed in f64, rounded once)");
  }

  // Run-time weights or statistics: emit the same arithmetic on the values.
  if (!weightType.hasStaticShape() ||
      ShapedType::isDynamic(cout)) {
    refusal = {"run-time fold needs static weight and channel shapes", false,
               Refusal::Other};
    return failure();
  }
  Value newBias;
  Value newWeight = foldProducerRuntime(b, bn, producer, kind, newBias);
  Operation *folded = cloneWithOperands(b, producer, {input, newWeight, newBias},
                                        bn.getType(), loc);
  bn.replaceAllUsesWith(folded->getResult(0));
  bn.erase();
  producer->erase();
  bump(numFoldedAfter, "folded-after");
  bump(numFoldedRuntime, "folded-runtime");
  return StringRef("with run-time arithmetic in f64 (weights or statistics "
                   "are not constants)");
}

/// Emits, as linalg.generic ops in f64:
///   k  = γ / sqrt(σ² + ε),  b' = (b − μ)·k + β    over the channels,
///   W' = W · k[out_channel(index)]                over the weight.
Value FoldBatchNormPass::foldProducerRuntime(OpBuilder &b, BatchNormOp bn,
                                             Operation *producer,
                                             ProducerKind kind,
                                             Value &newBias) {
  Location loc = bn.getLoc();
  Value weight = producer->getOperand(1);
  Value bias = producer->getNumOperands() > 2 ? producer->getOperand(2)
                                              : Value();
  auto weightType = cast<RankedTensorType>(weight.getType());
  Type elt = weightType.getElementType();
  int64_t cout = cast<ShapedType>(bn.getType()).getDimSize(1);

  // Channel-wise coefficients k and b'.
  auto [k, foldedBias] = emitBNCoefficients(
      b, loc, bn.getMean(), bn.getVariance(), bn.getScale(), bn.getOffset(),
      bias, bn.getEpsilon().convertToDouble(), elt, cout);
  newBias = foldedBias;

  // Weight scaling along the op's own output-channel axis.
  int64_t groups = 1;
  if (auto g = producer->getAttrOfType<IntegerAttr>("groups"))
    groups = g.getInt();
  return scaleAlongOutputChannels(b, loc, weight, k,
                                  kind == ProducerKind::ConvTranspose, groups);
}

/// BN before conv/linear: conv(bn(x)) with bn(x) = a·x + c per input channel.
FailureOr<StringRef> FoldBatchNormPass::foldIntoConsumer(BatchNormOp bn,
                                                         Refusal &refusal) {
  if (!bn->hasOneUse())
    return failure();
  Operation *consumer = *bn->getUsers().begin();
  if (!isa<ConvOp, LinearOp>(consumer) ||
      consumer->getOperand(0) != bn.getResult())
    return failure();
  StringRef consumerName = consumer->getName().getStringRef();

  Refusal bnRefusal;
  auto bnConstants = getBNConstants(bn, bnRefusal);
  if (bnConstants && failed(*bnConstants)) {
    refusal = bnRefusal;
    return failure();
  }
  Value weight = consumer->getOperand(1);
  Value bias = consumer->getNumOperands() > 2 ? consumer->getOperand(2)
                                              : Value();
  auto weightValues = getConstantValues(weight);
  std::optional<SmallVector<double>> biasValues;
  if (bias)
    biasValues = getConstantValues(bias);
  if (!bnConstants || !weightValues || (bias && !biasValues)) {
    refusal = {llvm::formatv("folding a batch-norm into the following {0} "
                             "needs constant statistics, weights and bias",
                             consumerName)
                   .str(),
               false, Refusal::Other};
    return failure();
  }
  const BNConstants &bnc = **bnConstants;
  auto weightType = cast<RankedTensorType>(weight.getType());
  Type elt = weightType.getElementType();
  int64_t cout = weightType.getDimSize(0);
  int64_t cinPerGroup = weightType.getDimSize(1);
  int64_t groups = 1;
  if (auto g = consumer->getAttrOfType<IntegerAttr>("groups"))
    groups = g.getInt();
  int64_t coutPerGroup = cout / groups;
  int64_t inner = 1;
  for (int64_t d = 2; d < weightType.getRank(); ++d)
    inner *= weightType.getDimSize(d);
  auto inputChannel = [&](int64_t flat) {
    int64_t o = flat / (cinPerGroup * inner);
    int64_t i = (flat / inner) % cinPerGroup;
    return (o / coutPerGroup) * cinPerGroup + i;
  };

  ArrayRef<int64_t> padding;
  if (auto conv = dyn_cast<ConvOp>(consumer))
    padding = conv.getPadding();
  bool padded = llvm::any_of(padding, [](int64_t p) { return p != 0; });
  SmallVector<double> padValues;
  if (padded) {
    for (size_t i = 0; i < bnc.k.size(); ++i) {
      if (bnc.k[i] == 0.0) {
        refusal = {llvm::formatv("batch-norm scale is 0 on channel {0}: the "
                                 "zero-padded border of the {1} cannot be "
                                 "reproduced by an explicit pad value",
                                 i, consumerName)
                       .str(),
                   false, Refusal::Padding};
        return failure();
      }
      padValues.push_back(-bnc.shift(i) / bnc.k[i]);
    }
  }

  SmallVector<double> newWeight(weightValues->size());
  SmallVector<double> newBias(cout, 0.0);
  for (int64_t o = 0; o < cout; ++o)
    newBias[o] = biasValues ? (*biasValues)[o] : 0.0;
  for (size_t idx = 0; idx < newWeight.size(); ++idx) {
    int64_t ch = inputChannel(idx);
    double w = (*weightValues)[idx];
    newWeight[idx] = w * bnc.k[ch];
    newBias[idx / (cinPerGroup * inner)] += w * bnc.shift(ch);
  }
  auto newWeightAttr = roundToType(weightType, newWeight);
  auto newBiasAttr = roundToType(RankedTensorType::get({cout}, elt), newBias);
  FailureOr<DenseElementsAttr> padAttr = DenseElementsAttr();
  if (padded)
    padAttr = roundToType(
        RankedTensorType::get({(int64_t)padValues.size()}, elt), padValues);
  if (failed(newWeightAttr) || failed(newBiasAttr) || failed(padAttr)) {
    refusal = {"a folded weight, bias or pad value overflows the element type",
               true, Refusal::Numerics};
    return failure();
  }

  OpBuilder b(consumer);
  Location loc = b.getFusedLoc({bn.getLoc(), consumer->getLoc()});
  Value input = bn.getInput();
  if (padded) {
    // Pad explicitly with −c/a per channel, so that bn(pad) == 0 as the
    // original zero padding of the normalised input was.
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t numSpatial = inType.getRank() - 2;
    SmallVector<OpFoldResult> low(inType.getRank(), b.getIndexAttr(0)),
        high(inType.getRank(), b.getIndexAttr(0));
    SmallVector<int64_t> paddedShape(inType.getShape());
    for (int64_t d = 0; d < numSpatial; ++d) {
      low[d + 2] = b.getIndexAttr(padding[d]);
      high[d + 2] = b.getIndexAttr(padding[d + numSpatial]);
      if (!ShapedType::isDynamic(paddedShape[d + 2]))
        paddedShape[d + 2] += padding[d] + padding[d + numSpatial];
    }
    Value padConst = arith::ConstantOp::create(b, loc, *padAttr);
    auto paddedType = RankedTensorType::get(paddedShape, elt);
    auto pad = tensor::PadOp::create(b, loc, paddedType, input, low, high,
                                     /*nofold=*/false);
    SmallVector<Type> idxTypes(inType.getRank(), b.getIndexType());
    SmallVector<Location> idxLocs(inType.getRank(), loc);
    Block *block = b.createBlock(&pad.getRegion(), {}, idxTypes, idxLocs);
    b.setInsertionPointToEnd(block);
    Value v = tensor::ExtractOp::create(b, loc, padConst,
                                        ValueRange{block->getArgument(1)});
    tensor::YieldOp::create(b, loc, v);
    b.setInsertionPoint(consumer);
    input = pad.getResult();
  }
  Value newW = arith::ConstantOp::create(b, loc, *newWeightAttr);
  Value newB = arith::ConstantOp::create(b, loc, *newBiasAttr);
  Operation *folded = cloneWithOperands(b, consumer, {input, newW, newB},
                                        consumer->getResult(0).getType(), loc);
  if (padded)
    folded->setAttr("padding",
                    b.getDenseI64ArrayAttr(
                        SmallVector<int64_t>(padding.size(), 0)));
  consumer->replaceAllUsesWith(folded);
  consumer->erase();
  bn.erase();
  bump(numFoldedBefore, "folded-before");
  return padded ? StringRef("into the following op, with an explicit "
                            "per-channel pad value -c/a (exact under padding)")
                : StringRef("into the following op (scale into weights, shift "
                            "into bias)");
}

void FoldBatchNormPass::processBatchNorm(BatchNormOp bn) {
  Location bnLoc = bn.getLoc();
  auto opts = remark::RemarkOpts::name("FoldBatchNorm")
                  .category(kRemarkCategory)
                  .subCategory("fold");
  Refusal producerRefusal, consumerRefusal;
  FailureOr<StringRef> done = foldIntoProducer(bn, producerRefusal);
  if (succeeded(done)) {
    remark::passed(bnLoc, opts)
        << llvm::formatv("batch-norm folded {0}", *done).str();
    return;
  }
  if (foldBeforeConv && producerRefusal.reason.empty()) {
    done = foldIntoConsumer(bn, consumerRefusal);
    if (succeeded(done)) {
      remark::passed(bnLoc, opts)
          << llvm::formatv("batch-norm folded {0}", *done).str();
      return;
    }
  }
  Refusal refusal = !producerRefusal.reason.empty() ? producerRefusal
                                                    : consumerRefusal;
  if (refusal.reason.empty())
    refusal = {"no conv, conv_transpose or linear producer, and no single "
               "conv or linear consumer",
               false, Refusal::Other};
  countRefusal(refusal);
  if (refusal.warn)
    bn.emitWarning() << "batch-norm not folded: " << refusal.reason;
  remark::missed(bnLoc, opts)
      << llvm::formatv("batch-norm not folded: {0}", refusal.reason).str();
}

void FoldBatchNormPass::runOnOperation() {
  counts.clear();
  SmallVector<BatchNormOp> worklist;
  getOperation()->walk([&](BatchNormOp bn) { worklist.push_back(bn); });
  for (BatchNormOp bn : worklist)
    processBatchNorm(bn);

  if (fuseActivations) {
    FailureOr<unsigned> fused = qfuse::fuseActivations(getOperation());
    if (failed(fused))
      return signalPassFailure();
    numFusedActivations += *fused;
    if (*fused)
      counts["fused-activations"] += *fused;
  }
  if (worklist.empty() && counts.empty())
    return;
  std::string summary;
  llvm::raw_string_ostream os(summary);
  os << "fold-bn summary: " << worklist.size() << " batch-norms";
  for (auto &[key, value] : counts)
    os << ", " << key << " " << value;
  remark::analysis(getOperation()->getLoc(),
                   remark::RemarkOpts::name("FoldBatchNormSummary")
                       .category(kRemarkCategory)
                       .subCategory("summary"))
      << summary;
}

} // namespace
