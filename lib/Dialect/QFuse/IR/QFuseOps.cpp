//===- QFuseOps.cpp - qfuse operations: verifiers and folders -------------===//
//
// Every verifier reports at the op's location through emitOpError, naming the
// operand or attribute at fault and the numbers that disagree.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace mlir::qfuse;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

static bool isStatic(int64_t d) { return !ShapedType::isDynamic(d); }

/// Shortest readable form of a double for diagnostics ("6", "1e-05").
static std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

int64_t mlir::qfuse::inferConvOutputSize(int64_t inputSize, int64_t kernelSize,
                                         const ConvGeometry &g, unsigned dim) {
  if (!isStatic(inputSize) || !isStatic(kernelSize))
    return ShapedType::kDynamic;
  unsigned numSpatial = g.strides.size();
  int64_t padBegin = g.padding[dim], padEnd = g.padding[dim + numSpatial];
  int64_t extent = g.dilations[dim] * (kernelSize - 1);
  if (g.transposed) {
    int64_t outPad = g.outputPadding.empty() ? 0 : g.outputPadding[dim];
    return (inputSize - 1) * g.strides[dim] - padBegin - padEnd + extent +
           outPad + 1;
  }
  int64_t numer = inputSize + padBegin + padEnd - extent - 1;
  if (numer < 0)
    return 0;
  return numer / g.strides[dim] + 1;
}

FusedActivation mlir::qfuse::getFusedActivation(Operation *op) {
  FusedActivation act;
  if (auto attr = op->getAttrOfType<ActivationKindAttr>("activation"))
    act.kind = attr.getValue();
  if (act.kind == ActivationKind::relu) {
    act.min = 0.0;
  } else if (act.kind == ActivationKind::clamp) {
    if (auto lo = op->getAttrOfType<FloatAttr>("clamp_min"))
      act.min = lo.getValueAsDouble();
    if (auto hi = op->getAttrOfType<FloatAttr>("clamp_max"))
      act.max = hi.getValueAsDouble();
  }
  return act;
}

/// All operands in `values` (null entries skipped) must share the element
/// type of the first one.
static LogicalResult
verifySameElementType(Operation *op,
                      ArrayRef<std::pair<StringRef, Value>> values) {
  Type expected;
  StringRef firstName;
  for (auto [name, value] : values) {
    if (!value)
      continue;
    Type elt = cast<ShapedType>(value.getType()).getElementType();
    if (!expected) {
      expected = elt;
      firstName = name;
      continue;
    }
    if (elt != expected)
      return op->emitOpError() << "expects " << name << " element type " << elt
                               << " to match " << firstName
                               << " element type " << expected;
  }
  return success();
}

/// A 1-D per-channel operand must hold `channels` entries.
static LogicalResult verifyPerChannel(Operation *op, StringRef name,
                                      Value value, int64_t channels,
                                      StringRef what) {
  if (!value)
    return success();
  int64_t size = cast<ShapedType>(value.getType()).getDimSize(0);
  if (isStatic(size) && isStatic(channels) && size != channels)
    return op->emitOpError() << "expects " << name << " to have " << channels
                             << " elements (" << what << "), got " << size;
  return success();
}

static LogicalResult verifyActivation(Operation *op, ActivationKind kind,
                                      std::optional<APFloat> lo,
                                      std::optional<APFloat> hi) {
  if (kind != ActivationKind::clamp) {
    if (lo || hi)
      return op->emitOpError()
             << "clamp_min/clamp_max are only allowed with activation clamp";
    return success();
  }
  if (!lo || !hi)
    return op->emitOpError()
           << "activation clamp requires both clamp_min and clamp_max";
  double l = lo->convertToDouble(), h = hi->convertToDouble();
  if (std::isnan(l) || std::isnan(h) || l > h)
    return op->emitOpError() << "expects clamp_min (" << fmt(l)
                             << ") <= clamp_max (" << fmt(h) << ")";
  return success();
}

template <typename OpTy>
static LogicalResult verifyOpActivation(OpTy op) {
  auto lo = op.getClampMinAttr();
  auto hi = op.getClampMaxAttr();
  return verifyActivation(
      op, op.getActivation(),
      lo ? std::optional<APFloat>(lo.getValue()) : std::nullopt,
      hi ? std::optional<APFloat>(hi.getValue()) : std::nullopt);
}

static LogicalResult verifyEpsilon(Operation *op, double eps) {
  if (!std::isfinite(eps) || eps < 0.0)
    return op->emitOpError()
           << "expects epsilon to be finite and non-negative, got " << fmt(eps);
  return success();
}

/// Checks the shapes and attributes common to convolution and transposed
/// convolution. Returns the number of output channels through `cout`.
static LogicalResult verifyConvLike(Operation *op, RankedTensorType in,
                                    RankedTensorType weight, Value bias,
                                    const ConvGeometry &g,
                                    RankedTensorType out, int64_t &cout) {
  int64_t rank = in.getRank();
  if (rank < 3 || rank > 5)
    return op->emitOpError()
           << "expects input of rank 3, 4 or 5 (N, C and 1 to 3 spatial "
              "dims), got rank "
           << rank;
  if (weight.getRank() != rank)
    return op->emitOpError() << "expects weight rank " << weight.getRank()
                             << " to equal input rank " << rank;
  if (out.getRank() != rank)
    return op->emitOpError() << "expects result rank " << out.getRank()
                             << " to equal input rank " << rank;
  size_t numSpatial = rank - 2;
  auto checkArray = [&](StringRef name, ArrayRef<int64_t> values,
                        size_t size, int64_t minValue) -> LogicalResult {
    if (values.size() != size)
      return op->emitOpError() << "expects " << name << " to have " << size
                               << " entries for " << numSpatial
                               << " spatial dims, got " << values.size();
    for (int64_t v : values)
      if (v < minValue)
        return op->emitOpError() << "expects " << name << " entries >= "
                                 << minValue << ", got " << v;
    return success();
  };
  if (failed(checkArray("strides", g.strides, numSpatial, 1)) ||
      failed(checkArray("dilations", g.dilations, numSpatial, 1)) ||
      failed(checkArray("padding", g.padding, 2 * numSpatial, 0)))
    return failure();
  if (g.transposed) {
    if (failed(checkArray("output_padding", g.outputPadding, numSpatial, 0)))
      return failure();
    for (size_t i = 0; i < numSpatial; ++i)
      if (g.outputPadding[i] >= g.strides[i] &&
          g.outputPadding[i] >= g.dilations[i])
        return op->emitOpError()
               << "expects output_padding[" << i << "] (" << g.outputPadding[i]
               << ") to be smaller than its stride (" << g.strides[i]
               << ") or its dilation (" << g.dilations[i] << ")";
  } else if (!g.outputPadding.empty()) {
    return op->emitOpError()
           << "output_padding is only allowed on a transposed convolution";
  }
  if (g.groups < 1)
    return op->emitOpError() << "expects groups >= 1, got " << g.groups;

  int64_t cin = in.getDimSize(1);
  if (g.transposed) {
    int64_t wCin = weight.getDimSize(0), wCoutPerGroup = weight.getDimSize(1);
    if (isStatic(cin) && isStatic(wCin) && cin != wCin)
      return op->emitOpError()
             << "expects input channels (" << cin
             << ") to equal weight dim 0 (" << wCin
             << "); a transposed-convolution weight is [Cin, Cout/groups, k...]";
    if (isStatic(wCin) && wCin % g.groups != 0)
      return op->emitOpError() << "expects groups (" << g.groups
                               << ") to divide the input channels (" << wCin
                               << ")";
    cout = isStatic(wCoutPerGroup) ? wCoutPerGroup * g.groups
                                   : ShapedType::kDynamic;
  } else {
    int64_t wCout = weight.getDimSize(0), wCinPerGroup = weight.getDimSize(1);
    if (isStatic(wCout) && wCout % g.groups != 0)
      return op->emitOpError() << "expects groups (" << g.groups
                               << ") to divide the output channels (" << wCout
                               << ")";
    if (isStatic(cin) && isStatic(wCinPerGroup) &&
        cin != wCinPerGroup * g.groups)
      return op->emitOpError()
             << "expects input channels (" << cin << ") to equal weight dim 1 ("
             << wCinPerGroup << ") times groups (" << g.groups << ")";
    cout = wCout;
  }
  if (failed(verifyPerChannel(op, "bias", bias, cout, "one per output channel")))
    return failure();

  auto mismatch = [&](StringRef what, int64_t expected, int64_t actual) {
    return op->emitOpError() << "expects result " << what << " to be "
                             << expected << ", got " << actual;
  };
  if (isStatic(in.getDimSize(0)) && isStatic(out.getDimSize(0)) &&
      in.getDimSize(0) != out.getDimSize(0))
    return mismatch("batch size", in.getDimSize(0), out.getDimSize(0));
  if (isStatic(cout) && isStatic(out.getDimSize(1)) &&
      cout != out.getDimSize(1))
    return mismatch("channels", cout, out.getDimSize(1));
  for (size_t i = 0; i < numSpatial; ++i) {
    int64_t expected = inferConvOutputSize(
        in.getDimSize(i + 2), weight.getDimSize(i + 2), g, i);
    if (!isStatic(expected))
      continue;
    if (expected < 1)
      return op->emitOpError()
             << "spatial dim " << i << ": the dilated kernel ("
             << weight.getDimSize(i + 2) << ", dilation " << g.dilations[i]
             << ") does not fit the padded input (" << in.getDimSize(i + 2)
             << ")";
    int64_t actual = out.getDimSize(i + 2);
    if (isStatic(actual) && actual != expected)
      return op->emitOpError()
             << "expects result spatial dim " << i << " to be " << expected
             << ", got " << actual;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConvOp / ConvTransposeOp / LinearOp
//===----------------------------------------------------------------------===//

/// Element types, geometry and activation of qfuse.conv / conv_transpose.
template <typename OpTy>
static LogicalResult verifyConvOp(OpTy op, ConvGeometry g) {
  if (failed(verifySameElementType(op, {{"input", op.getInput()},
                                        {"weight", op.getWeight()},
                                        {"bias", op.getBias()},
                                        {"result", op.getOutput()}})))
    return failure();
  int64_t cout;
  if (failed(verifyConvLike(op, op.getInput().getType(),
                            op.getWeight().getType(), op.getBias(), g,
                            op.getOutput().getType(), cout)))
    return failure();
  return verifyOpActivation(op);
}

LogicalResult ConvOp::verify() {
  return verifyConvOp(*this, ConvGeometry{getStrides(), getPadding(),
                                          getDilations(), {},
                                          static_cast<int64_t>(getGroups()),
                                          /*transposed=*/false});
}

LogicalResult ConvTransposeOp::verify() {
  return verifyConvOp(*this, ConvGeometry{getStrides(), getPadding(),
                                          getDilations(), getOutputPadding(),
                                          static_cast<int64_t>(getGroups()),
                                          /*transposed=*/true});
}

/// Shapes of x·Wᵀ + b: input [N, Cin], weight [Cout, Cin], result [N, Cout].
static LogicalResult verifyLinearShapes(Operation *op, ShapedType in,
                                        ShapedType weight, Value bias,
                                        ShapedType out) {
  int64_t cin = in.getDimSize(1), wCin = weight.getDimSize(1);
  int64_t cout = weight.getDimSize(0);
  if (isStatic(cin) && isStatic(wCin) && cin != wCin)
    return op->emitOpError() << "expects input features (" << cin
                             << ") to equal weight dim 1 (" << wCin << ")";
  if (failed(verifyPerChannel(op, "bias", bias, cout, "one per output feature")))
    return failure();
  if (isStatic(in.getDimSize(0)) && isStatic(out.getDimSize(0)) &&
      in.getDimSize(0) != out.getDimSize(0))
    return op->emitOpError() << "expects result batch size to be "
                             << in.getDimSize(0) << ", got "
                             << out.getDimSize(0);
  if (isStatic(cout) && isStatic(out.getDimSize(1)) &&
      cout != out.getDimSize(1))
    return op->emitOpError() << "expects result features to be " << cout
                             << ", got " << out.getDimSize(1);
  return success();
}

LogicalResult LinearOp::verify() {
  if (failed(verifySameElementType(*this, {{"input", getInput()},
                                           {"weight", getWeight()},
                                           {"bias", getBias()},
                                           {"result", getOutput()}})))
    return failure();
  if (failed(verifyLinearShapes(*this, getInput().getType(),
                                getWeight().getType(), getBias(),
                                getOutput().getType())))
    return failure();
  return verifyOpActivation(*this);
}

//===----------------------------------------------------------------------===//
// BatchNormOp
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::verify() {
  if (failed(verifySameElementType(*this, {{"input", getInput()},
                                           {"mean", getMean()},
                                           {"variance", getVariance()},
                                           {"scale", getScale()},
                                           {"offset", getOffset()}})))
    return failure();
  RankedTensorType in = getInput().getType();
  if (in.getRank() < 2)
    return emitOpError() << "expects input of rank >= 2 (N, C, ...), got rank "
                         << in.getRank();
  int64_t channels = in.getDimSize(1);
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"mean", getMean()},
        {"variance", getVariance()},
        {"scale", getScale()},
        {"offset", getOffset()}})
    if (failed(verifyPerChannel(*this, name, value, channels,
                                "one per channel of input axis 1")))
      return failure();
  return verifyEpsilon(*this, getEpsilon().convertToDouble());
}

//===----------------------------------------------------------------------===//
// ReluOp / ClampOp
//===----------------------------------------------------------------------===//

OpFoldResult ReluOp::fold(FoldAdaptor) {
  // relu(relu(x)) == relu(x); relu(clamp(x, lo >= 0, hi)) == clamp(...).
  Operation *def = getInput().getDefiningOp();
  if (isa_and_nonnull<ReluOp>(def))
    return getInput();
  if (auto clamp = dyn_cast_or_null<ClampOp>(def))
    if (clamp.getMin().convertToDouble() >= 0.0)
      return getInput();
  return {};
}

LogicalResult ClampOp::verify() {
  double lo = getMin().convertToDouble(), hi = getMax().convertToDouble();
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    return emitOpError() << "expects min (" << fmt(lo) << ") <= max (" << fmt(hi)
                         << ")";
  return success();
}

namespace {
/// clamp(clamp(x, a, b), c, d) -> clamp(x, max(a, c), min(b, d)) when the two
/// ranges overlap (otherwise the result is a constant; left alone).
/// clamp(relu(x), c, d) -> clamp(x, max(0, c), d) likewise.
struct MergeClampProducer : public OpRewritePattern<ClampOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClampOp op,
                                PatternRewriter &rewriter) const override {
    double lo, hi;
    Value source;
    Operation *def = op.getInput().getDefiningOp();
    if (auto inner = dyn_cast_or_null<ClampOp>(def)) {
      lo = inner.getMin().convertToDouble();
      hi = inner.getMax().convertToDouble();
      source = inner.getInput();
    } else if (auto relu = dyn_cast_or_null<ReluOp>(def)) {
      lo = 0.0;
      hi = std::numeric_limits<double>::infinity();
      source = relu.getInput();
    } else {
      return failure();
    }
    double newLo = std::max(lo, op.getMin().convertToDouble());
    double newHi = std::min(hi, op.getMax().convertToDouble());
    if (newLo > newHi)
      return rewriter.notifyMatchFailure(op, "disjoint clamp ranges");
    rewriter.replaceOpWithNewOp<ClampOp>(op, op.getType(), source,
                                         rewriter.getF64FloatAttr(newLo),
                                         rewriter.getF64FloatAttr(newHi));
    return success();
  }
};
} // namespace

void ClampOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<MergeClampProducer>(context);
}

//===----------------------------------------------------------------------===//
// FakeQuantOp
//===----------------------------------------------------------------------===//

static LogicalResult verifyQuantRange(Operation *op, int64_t qmin,
                                      int64_t qmax, StringRef prefix) {
  if (qmin >= qmax)
    return op->emitOpError() << "expects " << prefix << "quant_min (" << qmin
                             << ") to be less than " << prefix << "quant_max ("
                             << qmax << ")";
  return success();
}

/// Checks scale/zero-point shapes against the quantized tensor and, when they
/// are constants, their values.
static LogicalResult verifyQuantParams(Operation *op, ShapedType quantized,
                                       Value scale, Value zeroPoint,
                                       std::optional<int64_t> axis,
                                       int64_t qmin, int64_t qmax,
                                       StringRef prefix) {
  auto scaleType = cast<ShapedType>(scale.getType());
  auto zpType = cast<ShapedType>(zeroPoint.getType());
  if (scaleType.getShape() != zpType.getShape())
    return op->emitOpError() << "expects " << prefix << "scale and " << prefix
                             << "zero_point to have the same shape";
  if (axis) {
    int64_t rank = quantized.getRank();
    if (*axis < 0 || *axis >= rank)
      return op->emitOpError() << "expects " << prefix << "axis " << *axis
                               << " to lie in [0, " << rank << ")";
    if (scaleType.getRank() != 1)
      return op->emitOpError()
             << "per-channel " << prefix << "scale must be 1-D, got rank "
             << scaleType.getRank();
    int64_t size = scaleType.getDimSize(0), dim = quantized.getDimSize(*axis);
    if (isStatic(size) && isStatic(dim) && size != dim)
      return op->emitOpError()
             << "expects per-channel " << prefix << "scale of " << dim
             << " elements (size of axis " << *axis << "), got " << size;
  } else {
    if (!scaleType.hasStaticShape() || scaleType.getNumElements() != 1 ||
        scaleType.getRank() > 1)
      return op->emitOpError()
             << "per-tensor " << prefix
             << "scale must hold exactly one element (rank 0 or shape [1]); "
                "set "
             << prefix << "axis for per-channel quantization";
  }
  DenseFPElementsAttr scaleValues;
  if (matchPattern(scale, m_Constant(&scaleValues)))
    for (APFloat s : scaleValues.getValues<APFloat>()) {
      double v = s.convertToDouble();
      if (!(v > 0.0) || !std::isfinite(v))
        return op->emitOpError() << "expects " << prefix
                                 << "scale > 0 and finite, got " << fmt(v);
    }
  DenseIntElementsAttr zpValues;
  if (matchPattern(zeroPoint, m_Constant(&zpValues)))
    for (APInt z : zpValues.getValues<APInt>()) {
      int64_t v = z.getSExtValue();
      if (v < qmin || v > qmax)
        return op->emitOpError()
               << "expects " << prefix << "zero_point " << v << " to lie in ["
               << qmin << ", " << qmax << "]";
    }
  return success();
}

LogicalResult FakeQuantOp::verify() {
  int64_t qmin = getQuantMinAttr().getInt(), qmax = getQuantMaxAttr().getInt();
  if (failed(verifyQuantRange(*this, qmin, qmax, "")))
    return failure();
  return verifyQuantParams(*this, getInput().getType(), getScale(),
                           getZeroPoint(), getAxis(), qmin,
                           qmax, "");
}

//===----------------------------------------------------------------------===//
// QatConvBnOp
//===----------------------------------------------------------------------===//

LogicalResult QatConvBnOp::verify() {
  if (failed(verifySameElementType(
          *this, {{"input", getInput()},
                  {"weight", getWeight()},
                  {"bias", getBias()},
                  {"running_mean", getRunningMean()},
                  {"running_var", getRunningVar()},
                  {"scale", getScale()},
                  {"offset", getOffset()},
                  {"result", getOutput()}})))
    return failure();
  RankedTensorType in = getInput().getType(), w = getWeight().getType(),
                   out = getOutput().getType();
  int64_t cout;
  if (isLinear()) {
    if (in.getRank() != 2 || out.getRank() != 2)
      return emitOpError()
             << "with a rank-2 (linear) weight expects input and result of "
                "rank 2";
    if (!getStrides().empty() || !getPadding().empty() ||
        !getDilations().empty() || !getOutputPadding().empty() ||
        getGroups() != 1 || getTransposed())
      return emitOpError() << "with a rank-2 (linear) weight expects empty "
                              "strides/padding/dilations/output_padding, "
                              "groups = 1 and no 'transposed'";
    if (failed(verifyLinearShapes(*this, in, w, getBias(), out)))
      return failure();
    cout = w.getDimSize(0);
  } else {
    ConvGeometry g{getStrides(),       getPadding(), getDilations(),
                   getOutputPadding(), static_cast<int64_t>(getGroups()), getTransposed()};
    if (failed(verifyConvLike(*this, in, w, getBias(), g, out, cout)))
      return failure();
  }
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"running_mean", getRunningMean()},
        {"running_var", getRunningVar()},
        {"scale", getScale()},
        {"offset", getOffset()}})
    if (failed(verifyPerChannel(*this, name, value, cout,
                                "one per output channel")))
      return failure();
  if (getNewRunningMean().getType() != getRunningMean().getType() ||
      getNewRunningVar().getType() != getRunningVar().getType())
    return emitOpError() << "expects the updated running statistics to have "
                            "the types of running_mean and running_var";
  if (failed(verifyEpsilon(*this, getEpsilon().convertToDouble())))
    return failure();
  double momentum = getMomentum().convertToDouble();
  if (!(momentum >= 0.0 && momentum <= 1.0))
    return emitOpError() << "expects momentum in [0, 1], got " << fmt(momentum);
  if (getMode() == QatMode::train && out.hasStaticShape() && isStatic(cout) &&
      cout > 0 && out.getNumElements() / cout <= 1)
    return emitOpError() << "in train mode needs more than one value per "
                            "channel for the batch statistics (N x spatial = "
                         << out.getNumElements() / cout << ")";

  bool hasScale = getWeightScale() != nullptr;
  bool hasZp = getWeightZeroPoint() != nullptr;
  bool hasRange = getWeightQuantMin().has_value() &&
                  getWeightQuantMax().has_value();
  bool anyRange = getWeightQuantMin().has_value() ||
                  getWeightQuantMax().has_value() ||
                  getWeightAxis().has_value();
  if (hasScale != hasZp || (hasScale && !hasRange) || (!hasScale && anyRange))
    return emitOpError()
           << "expects the weight fake-quant as a whole (weight_scale, "
              "weight_zero_point, weight_quant_min, weight_quant_max) or not "
              "at all";
  if (hasScale) {
    if (failed(verifyQuantRange(*this, *getWeightQuantMin(),
                                *getWeightQuantMax(), "weight_")))
      return failure();
    if (failed(verifyQuantParams(*this, w, getWeightScale(),
                                 getWeightZeroPoint(), getWeightAxis(),
                                 *getWeightQuantMin(), *getWeightQuantMax(),
                                 "weight_")))
      return failure();
  }
  return verifyOpActivation(*this);
}

#define GET_OP_CLASSES
#include "qfuse/Dialect/QFuse/IR/QFuseOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Integer deploy path
//===----------------------------------------------------------------------===//

/// The integer range an `i8` (`isUnsigned`: uint8) or `i32` tensor holds.
static std::pair<int64_t, int64_t> storageRange(Type elt, bool isUnsigned) {
  if (elt.isInteger(32))
    return {std::numeric_limits<int32_t>::min(),
            std::numeric_limits<int32_t>::max()};
  if (isUnsigned)
    return {0, 255};
  return {-128, 127};
}

/// `[qmin, qmax]` must be a non-empty range inside what the 8-bit storage
/// (int8, or uint8 when `isUnsigned`) can hold.
static LogicalResult verifyStorageRange(Operation *op, int64_t qmin,
                                        int64_t qmax, bool isUnsigned,
                                        StringRef prefix) {
  if (failed(verifyQuantRange(op, qmin, qmax, prefix)))
    return failure();
  auto [lo, hi] = storageRange(IntegerType::get(op->getContext(), 8),
                               isUnsigned);
  if (qmin < lo || qmax > hi)
    return op->emitOpError()
           << "expects " << prefix << "quant_min/" << prefix << "quant_max ["
           << qmin << ", " << qmax << "] to lie in the "
           << (isUnsigned ? "uint8" : "int8") << " range [" << lo << ", "
           << hi << "]"
           << (isUnsigned ? "" : " (set uint8 for unsigned storage)");
  return success();
}

static LogicalResult verifySameShape(Operation *op, ShapedType a,
                                     ShapedType b, StringRef what) {
  if (failed(verifyCompatibleShape(a, b)))
    return op->emitOpError() << "expects " << what << " to have the same shape";
  return success();
}

LogicalResult QuantizeOp::verify() {
  int64_t qmin = getQuantMinAttr().getInt(), qmax = getQuantMaxAttr().getInt();
  if (failed(verifySameShape(*this, getInput().getType(), getType(),
                             "input and result")) ||
      failed(verifyStorageRange(*this, qmin, qmax, getUint8(), "")))
    return failure();
  return verifyQuantParams(*this, getInput().getType(), getScale(),
                           getZeroPoint(), getAxis(), qmin, qmax, "");
}

LogicalResult DequantizeOp::verify() {
  auto in = getInput().getType();
  if (failed(verifySameShape(*this, in, getType(), "input and result")))
    return failure();
  Type scaleElt = cast<ShapedType>(getScale().getType()).getElementType();
  if (getType().getElementType() != scaleElt)
    return emitOpError() << "expects the result element type "
                         << getType().getElementType()
                         << " to be the scale's element type " << scaleElt;
  if (getUint8() && !in.getElementType().isInteger(8))
    return emitOpError() << "uint8 applies to i8 input only, got "
                         << in.getElementType();
  auto [lo, hi] = storageRange(in.getElementType(), getUint8());
  return verifyQuantParams(*this, in, getScale(), getZeroPoint(), getAxis(),
                           lo, hi, "");
}

namespace {
/// quantize(dequantize(q, s, zp), s, zp) -> q, when both use the same
/// constant scales and zero points, the same axis and storage, and every
/// value q can hold lies in the quantize's range. Exact: |q - zp| <= 255, so
/// f32 rounding of (q - zp)*s and of its quotient by s stays far below half
/// a step, provided the scale keeps (q - zp)*s normal and finite.
struct QuantizeOfDequantize : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto deq = op.getInput().getDefiningOp<DequantizeOp>();
    if (!deq || deq.getInput().getType() != op.getType() ||
        deq.getUint8() != op.getUint8() ||
        deq.getAxis() != op.getAxis())
      return failure();
    auto sameConstant = [](Value a, Value b) {
      if (a == b)
        return true;
      DenseElementsAttr x, y;
      return matchPattern(a, m_Constant(&x)) &&
             matchPattern(b, m_Constant(&y)) && x == y;
    };
    if (!sameConstant(deq.getScale(), op.getScale()) ||
        !sameConstant(deq.getZeroPoint(), op.getZeroPoint()))
      return failure();
    DenseFPElementsAttr scales;
    if (!matchPattern(op.getScale(), m_Constant(&scales)))
      return failure();
    for (APFloat s : scales.getValues<APFloat>()) {
      double v = s.convertToDouble();
      if (!(v >= 0x1p-100 && v <= 0x1p100))
        return failure();
    }
    // The range of the integers `q` may hold.
    Value q = deq.getInput();
    auto [lo, hi] = storageRange(getElementTypeOrSelf(q.getType()),
                                 deq.getUint8());
    // A producer's quant range narrows that, when it wrote the storage the
    // dequantize reads.
    Operation *producer = q.getDefiningOp();
    if (producer && isa<QuantizeOp, QConvOp, QLinearOp>(producer) &&
        producer->getAttrOfType<IntegerAttr>("quant_min") &&
        (producer->hasAttr("uint8") || producer->hasAttr("output_uint8")) ==
            deq.getUint8()) {
      lo = producer->getAttrOfType<IntegerAttr>("quant_min").getInt();
      hi = producer->getAttrOfType<IntegerAttr>("quant_max").getInt();
    }
    if (lo < op.getQuantMinAttr().getInt() ||
        hi > op.getQuantMaxAttr().getInt())
      return failure();
    rewriter.replaceOp(op, q);
    return success();
  }
};
} // namespace

void QuantizeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<QuantizeOfDequantize>(context);
}

/// Checks shared by qfuse.qconv and qfuse.qlinear, after their shapes:
/// `cout` output channels.
template <typename OpTy>
static LogicalResult verifyIntegerContraction(OpTy op, int64_t cout) {
  Operation *o = op.getOperation();
  Type resultElt = op.getType().getElementType();
  bool requant = op.getOutputScale() != nullptr;
  if (requant != (op.getInputScale() != nullptr) ||
      requant != (op.getWeightScale() != nullptr) ||
      requant != (op.getOutputZeroPoint() != nullptr))
    return op.emitOpError() << "expects input_scale, weight_scale, "
                               "output_scale and output_zero_point together "
                               "(requantize) or none of them";
  auto [xLo, xHi] = storageRange(op.getInput().getType().getElementType(),
                                 op.getInputUint8());
  auto [wLo, wHi] = storageRange(op.getWeight().getType().getElementType(),
                                 op.getWeightUint8());
  auto checkZeroPoint = [&](Value zp, StringRef name, bool perChannel,
                            int64_t lo, int64_t hi) -> LogicalResult {
    auto type = cast<ShapedType>(zp.getType());
    bool one = type.hasStaticShape() && type.getNumElements() == 1 &&
               type.getRank() <= 1;
    bool channels = perChannel && type.getRank() == 1 &&
                    (!isStatic(type.getDimSize(0)) || !isStatic(cout) ||
                     type.getDimSize(0) == cout);
    if (!one && !channels)
      return op.emitOpError()
             << "expects " << name << " to hold one element"
             << (perChannel ? " or one per output channel" : "");
    DenseIntElementsAttr values;
    if (matchPattern(zp, m_Constant(&values)))
      for (APInt z : values.getValues<APInt>())
        if (z.getSExtValue() < lo || z.getSExtValue() > hi)
          return op.emitOpError() << "expects " << name << " "
                                  << z.getSExtValue() << " to lie in [" << lo
                                  << ", " << hi << "]";
    return success();
  };
  if (failed(checkZeroPoint(op.getInputZeroPoint(), "input_zero_point",
                            false, xLo, xHi)) ||
      failed(checkZeroPoint(op.getWeightZeroPoint(), "weight_zero_point",
                            true, wLo, wHi)))
    return failure();

  if (!requant) {
    if (!resultElt.isInteger(32))
      return op.emitOpError() << "without requantize produces the i32 "
                                 "accumulator, got result element type "
                              << resultElt;
    if (op.getQuantMinAttr() || op.getQuantMaxAttr() ||
        op.getOutputUint8())
      return op.emitOpError() << "quant_min, quant_max and output_unsigned "
                                 "need requantize";
    if (op.getActivation() != ActivationKind::none)
      return op.emitOpError()
             << "a fused activation needs requantize (the i32 accumulator "
                "has no output scale)";
    return verifyOpActivation(op);
  }
  if (!resultElt.isInteger(8))
    return op.emitOpError()
           << "with requantize produces i8, got result element type "
           << resultElt;
  if (!op.getQuantMinAttr() || !op.getQuantMaxAttr())
    return op.emitOpError() << "with requantize needs quant_min and quant_max";
  int64_t qmin = op.getQuantMinAttr().getInt();
  int64_t qmax = op.getQuantMaxAttr().getInt();
  if (failed(verifyStorageRange(o, qmin, qmax, op.getOutputUint8(), "")))
    return failure();
  auto scaleMatches = [&](Value scale, Value zp,
                          StringRef name) -> LogicalResult {
    auto scaleType = cast<ShapedType>(scale.getType());
    auto zpType = cast<ShapedType>(zp.getType());
    // A per-channel weight scale may come with one shared zero point.
    bool sharedZp = name == "weight" && zpType.hasStaticShape() &&
                    zpType.getNumElements() == 1;
    if (!sharedZp && scaleType.getShape() != zpType.getShape())
      return op.emitOpError() << "expects " << name
                              << "_scale and " << name
                              << "_zero_point to have the same shape"
                              << (name == "weight"
                                      ? " (or one shared zero point)"
                                      : "");
    if (scaleType.getRank() > 1 ||
        (name != "weight" && scaleType.hasStaticShape() &&
         scaleType.getNumElements() != 1))
      return op.emitOpError() << "expects " << name
                              << "_scale to hold one element"
                              << (name == "weight" ? " or one per output channel"
                                                   : "");
    if (name == "weight" && scaleType.getRank() == 1 &&
        scaleType.getDimSize(0) != 1 && isStatic(cout) &&
        scaleType.getDimSize(0) != cout)
      return op.emitOpError() << "expects weight_scale to hold one element or "
                              << cout << " (one per output channel), got "
                              << scaleType.getDimSize(0);
    DenseFPElementsAttr values;
    if (matchPattern(scale, m_Constant(&values)))
      for (APFloat s : values.getValues<APFloat>()) {
        double v = s.convertToDouble();
        if (!(v > 0.0) || !std::isfinite(v))
          return op.emitOpError() << "expects " << name
                                  << "_scale > 0 and finite, got " << fmt(v);
      }
    return success();
  };
  if (failed(scaleMatches(op.getInputScale(), op.getInputZeroPoint(),
                          "input")) ||
      failed(scaleMatches(op.getWeightScale(), op.getWeightZeroPoint(),
                          "weight")) ||
      failed(checkZeroPoint(op.getOutputZeroPoint(), "output_zero_point",
                            false, qmin, qmax)) ||
      failed(scaleMatches(op.getOutputScale(), op.getOutputZeroPoint(),
                          "output")))
    return failure();
  return verifyOpActivation(op);
}

LogicalResult QConvOp::verify() {
  int64_t cout;
  if (failed(verifyConvLike(*this, getInput().getType(),
                            getWeight().getType(), getBias(),
                            ConvGeometry{getStrides(), getPadding(),
                                         getDilations(),
                                         {},
                                         static_cast<int64_t>(getGroups()),
                                         /*transposed=*/false},
                            getType(), cout)))
    return failure();
  return verifyIntegerContraction(*this, cout);
}

LogicalResult QLinearOp::verify() {
  if (getInput().getType().getRank() != 2 ||
      getWeight().getType().getRank() != 2 || getType().getRank() != 2)
    return emitOpError() << "expects input, weight and result of rank 2";
  if (failed(verifyLinearShapes(*this, getInput().getType(),
                                getWeight().getType(), getBias(), getType())))
    return failure();
  return verifyIntegerContraction(*this, getWeight().getType().getDimSize(0));
}

//===----------------------------------------------------------------------===//
// PrefetchOp
//===----------------------------------------------------------------------===//

LogicalResult PrefetchOp::verify() {
  int64_t rank = getSource().getType().getRank();
  if (static_cast<int64_t>(getIndices().size()) != rank)
    return emitOpError() << "expects " << rank << " indices, one per "
                         << "dimension of the source, got "
                         << getIndices().size();
  return success();
}

bool PrefetchOp::bufferizesToMemoryRead(OpOperand &,
                                        const bufferization::AnalysisState &) {
  // Not a read of any value, but the buffer must hold the tensor's data
  // where the prefetch runs, as for a read.
  return true;
}

bool PrefetchOp::bufferizesToMemoryWrite(OpOperand &,
                                         const bufferization::AnalysisState &) {
  return false;
}

bufferization::AliasingValueList
PrefetchOp::getAliasingValues(OpOperand &,
                              const bufferization::AnalysisState &) {
  return {};
}

LogicalResult
PrefetchOp::bufferize(RewriterBase &rewriter,
                      const bufferization::BufferizationOptions &options,
                      bufferization::BufferizationState &state) {
  FailureOr<Value> buffer =
      bufferization::getBuffer(rewriter, getSource(), options, state);
  if (failed(buffer))
    return failure();
  rewriter.setInsertionPoint(*this);
  memref::PrefetchOp::create(rewriter, getLoc(), *buffer, getIndices(),
                             /*isWrite=*/false, getLocality(),
                             /*isDataCache=*/true);
  rewriter.eraseOp(*this);
  return success();
}

//===----------------------------------------------------------------------===//
// NontemporalWriteOp
//===----------------------------------------------------------------------===//

LogicalResult NontemporalWriteOp::verify() {
  RankedTensorType type = getDest().getType();
  if (static_cast<int64_t>(getIndices().size()) != type.getRank())
    return emitOpError() << "expects " << type.getRank()
                         << " indices, one per dimension of the destination, "
                            "got "
                         << getIndices().size();
  int64_t lanes = getValue().getType().getDimSize(0);
  int64_t inner = type.getRank() ? type.getShape().back() : 0;
  if (type.getRank() == 0 || (!ShapedType::isDynamic(inner) && inner < lanes))
    return emitOpError() << "writes " << lanes
                         << " elements along an innermost dimension of "
                         << inner;
  return success();
}

bool NontemporalWriteOp::bufferizesToMemoryRead(
    OpOperand &operand, const bufferization::AnalysisState &) {
  // The elements it does not write keep their values: the destination's
  // buffer must hold them (as for any partial write).
  return &operand == &getDestMutable();
}

bool NontemporalWriteOp::bufferizesToMemoryWrite(
    OpOperand &operand, const bufferization::AnalysisState &) {
  return &operand == &getDestMutable();
}

bufferization::AliasingValueList
NontemporalWriteOp::getAliasingValues(OpOperand &operand,
                                      const bufferization::AnalysisState &) {
  if (&operand != &getDestMutable())
    return {};
  return {{getResult(), bufferization::BufferRelation::Equivalent}};
}

LogicalResult NontemporalWriteOp::bufferize(
    RewriterBase &rewriter, const bufferization::BufferizationOptions &options,
    bufferization::BufferizationState &state) {
  FailureOr<Value> buffer =
      bufferization::getBuffer(rewriter, getDest(), options, state);
  if (failed(buffer))
    return failure();
  Location loc = getLoc();
  rewriter.setInsertionPoint(*this);
  VectorType vecType = getValue().getType();
  // A vector store needs unit stride along the innermost dimension; where
  // the layout does not say so, an ordinary in-bounds transfer.
  auto memrefType = cast<MemRefType>(buffer->getType());
  int64_t offset;
  SmallVector<int64_t> strides;
  if (failed(memrefType.getStridesAndOffset(strides, offset)) ||
      strides.back() != 1) {
    vector::TransferWriteOp::create(rewriter, loc, getValue(), *buffer,
                                    getIndices(),
                                    /*inBounds=*/ArrayRef<bool>{true});
    bufferization::replaceOpWithBufferizedValues(rewriter, *this, *buffer);
    return success();
  }
  int64_t bytes =
      vecType.getNumElements() * vecType.getElementTypeBitWidth() / 8;
  // The element's address: the aligned base pointer plus (offset + sum of
  // index·stride) elements.
  auto meta = memref::ExtractStridedMetadataOp::create(rewriter, loc, *buffer);
  Value elems = meta.getOffset();
  for (auto [index, stride] : llvm::zip(getIndices(), meta.getStrides()))
    elems = arith::AddIOp::create(
        rewriter, loc, elems,
        arith::MulIOp::create(rewriter, loc, index, stride));
  auto cst = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rewriter, loc, v);
  };
  Value address = arith::AddIOp::create(
      rewriter, loc,
      memref::ExtractAlignedPointerAsIndexOp::create(rewriter, loc, *buffer),
      arith::MulIOp::create(rewriter, loc, elems,
                            cst(vecType.getElementTypeBitWidth() / 8)));
  Value aligned = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(rewriter, loc, address, cst(bytes)), cst(0));
  scf::IfOp::create(
      rewriter, loc, aligned,
      [&](OpBuilder &b, Location l) {
        vector::StoreOp::create(b, l, getValue(), *buffer, getIndices(),
                                /*nontemporal=*/true, llvm::MaybeAlign(bytes));
        scf::YieldOp::create(b, l);
      },
      [&](OpBuilder &b, Location l) {
        vector::StoreOp::create(b, l, getValue(), *buffer, getIndices());
        scf::YieldOp::create(b, l);
      });
  bufferization::replaceOpWithBufferizedValues(rewriter, *this, *buffer);
  return success();
}

//===----------------------------------------------------------------------===//
// DotPairsOp
//===----------------------------------------------------------------------===//

LogicalResult DotPairsOp::verify() {
  int64_t lanes = getResult().getType().getDimSize(0);
  if (getLhs().getType() != getRhs().getType() ||
      getLhs().getType().getDimSize(0) != 2 * lanes)
    return emitOpError() << "expects both operands to have twice the "
                            "result's "
                         << lanes << " lanes";
  return success();
}

LogicalResult DotQuadsOp::verify() {
  int64_t lanes = getAcc().getType().getDimSize(0);
  if (getLhs().getType().getDimSize(0) != 4 * lanes)
    return emitOpError() << "expects the byte operands to have four times the "
                            "accumulator's "
                         << lanes << " lanes";
  return success();
}
