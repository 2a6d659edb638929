//===- Quantize.cpp - --quantize: fake-quant conv/linear to integer ops ---===//
//
// The PTQ deploy step: conv / linear between quantized tensors becomes
// qfuse.qconv / qfuse.qlinear (int8 x int8 -> int32, requantize epilogue
// with the fused activation). Weights and bias are quantized here, at
// compile time, exactly as the fake-quant graph quantizes them (weights) or
// in f64 rounded once (bias). Every op converted or left is reported as a
// remark in category "quantize".
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"
#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Remarks.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_QUANTIZE
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

constexpr StringLiteral kRemarkCategory = "quantize";

/// The 8-bit storage a quant range fits: false int8, true uint8.
static std::optional<bool> storageFor(int64_t qmin, int64_t qmax) {
  if (qmin >= -128 && qmax <= 127)
    return false;
  if (qmin >= 0 && qmax <= 255)
    return true;
  return std::nullopt;
}

/// One quantized side of a contraction: its parameters as operands, its
/// range and storage.
struct Side {
  Value scale, zeroPoint;
  int64_t qmin = 0, qmax = 0;
  bool uint8 = false;
  std::optional<int64_t> axis;
};

/// The conversion of one conv / linear; `reason` is set when it is refused.
struct Converter {
  Operation *op;
  std::string reason;

  explicit Converter(Operation *op) : op(op) {}

  LogicalResult refuse(const Twine &why) {
    reason = why.str();
    return failure();
  }

  /// A fake_quant side: per tensor unless `allowAxis0`, 8-bit range.
  LogicalResult fromFakeQuant(FakeQuantOp fq, StringRef what, bool allowAxis0,
                              Side &side) {
    side.axis = fq.getAxis();
    if (side.axis && !(allowAxis0 && *side.axis == 0))
      return refuse(what + " fake_quant is per channel along axis " +
                    Twine(*side.axis) +
                    (allowAxis0 ? " (only the output-channel axis 0 is "
                                  "supported)"
                                : " (an activation must be per tensor)"));
    side.qmin = fq.getQuantMinAttr().getInt();
    side.qmax = fq.getQuantMaxAttr().getInt();
    std::optional<bool> storage = storageFor(side.qmin, side.qmax);
    if (!storage)
      return refuse(what + " quant range [" + Twine(side.qmin) + ", " +
                    Twine(side.qmax) + "] does not fit 8 bits");
    side.uint8 = *storage;
    side.scale = fq.getScale();
    side.zeroPoint = fq.getZeroPoint();
    return success();
  }

  LogicalResult fromDequantize(DequantizeOp dq, StringRef what,
                               bool allowAxis0, Side &side) {
    side.axis = dq.getAxis();
    if (side.axis && !(allowAxis0 && *side.axis == 0))
      return refuse(what + " dequantize is per channel along axis " +
                    Twine(*side.axis));
    if (!dq.getInput().getType().getElementType().isInteger(8))
      return refuse(what + " dequantize reads " +
                    Twine(dq.getInput().getType().getElementType().isInteger(
                              32)
                              ? "int32"
                              : "non-8-bit") +
                    " values");
    side.uint8 = dq.getUint8();
    side.qmin = side.uint8 ? 0 : -128;
    side.qmax = side.uint8 ? 255 : 127;
    side.scale = dq.getScale();
    side.zeroPoint = dq.getZeroPoint();
    return success();
  }

  LogicalResult run();
};

/// The values of a constant float bias, or of a dequantize of a constant
/// int32 bias (computed as qfuse.dequantize computes them, in f32).
static std::optional<SmallVector<double>> constantBias(Value bias) {
  if (auto values = fold::getConstantValues(bias))
    return values;
  auto dq = bias.getDefiningOp<DequantizeOp>();
  if (!dq || !getElementTypeOrSelf(dq.getType()).isF32())
    return std::nullopt;
  auto q = fold::getConstantInts(dq.getInput(), dq.getUint8());
  auto s = fold::getConstantValues(dq.getScale());
  auto z = fold::getConstantInts(dq.getZeroPoint());
  if (!q || !s || !z)
    return std::nullopt;
  SmallVector<double> out;
  for (auto [i, v] : llvm::enumerate(*q)) {
    size_t c = s->size() == 1 ? 0 : i;
    out.push_back(float(float(v - (*z)[z->size() == 1 ? 0 : c]) *
                        float((*s)[c])));
  }
  return out;
}

LogicalResult Converter::run() {
  auto conv = dyn_cast<ConvOp>(op);
  auto linear = dyn_cast<LinearOp>(op);
  Value input = op->getOperand(0), weight = op->getOperand(1);
  Value bias = conv ? conv.getBias() : linear.getBias();
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  if (!wType.getElementType().isF32())
    return refuse("the weight element type is " +
                  Twine(llvm::formatv("{0}", wType.getElementType()).str()) +
                  " (f32 is supported)");
  if (!wType.hasStaticShape())
    return refuse("the weight shape is dynamic");

  // Output: the only user quantizes per tensor; or a batch-norm fold-bn
  // left (then, with an optional relu/clamp, it is the batch-norm's only
  // user, and the batch-norm goes into the integer scales and bias).
  auto onlyUser = [](Value v) -> Operation * {
    return v.hasOneUse() ? *v.user_begin() : nullptr;
  };
  if (!op->getResult(0).hasOneUse())
    return refuse("the result has " +
                  Twine(std::distance(op->getResult(0).use_begin(),
                                      op->getResult(0).use_end())) +
                  " users; its only user must quantize it");
  Operation *user = *op->getResult(0).user_begin();
  SmallVector<Operation *> chain; // ops between the conv and the quantize
  SmallVector<double> bnK, bnShift; // y = conv·k + shift per channel
  FusedActivation act = getFusedActivation(op);
  if (auto bn = dyn_cast<BatchNormOp>(user)) {
    if (act.kind != ActivationKind::none)
      return refuse("the batch-norm follows a fused activation");
    auto mean = fold::getConstantValues(bn.getMean());
    auto var = fold::getConstantValues(bn.getVariance());
    auto gamma = bn.getScale() ? fold::getConstantValues(bn.getScale())
                               : std::optional<SmallVector<double>>();
    auto beta = bn.getOffset() ? fold::getConstantValues(bn.getOffset())
                               : std::optional<SmallVector<double>>();
    if (!mean || !var || (bn.getScale() && !gamma) ||
        (bn.getOffset() && !beta))
      return refuse("the batch-norm statistics are not constants");
    double eps = bn.getEpsilon().convertToDouble();
    for (size_t c = 0; c < mean->size(); ++c) {
      double denom = (*var)[c] + eps;
      double k = (gamma ? (*gamma)[c] : 1.0) / std::sqrt(denom);
      if (!(denom > 0) || !std::isfinite(k) || k == 0.0)
        return refuse("batch-norm channel " + Twine(c) +
                      " has a zero, negative or non-finite scale");
      bnK.push_back(k);
      bnShift.push_back((beta ? (*beta)[c] : 0.0) - (*mean)[c] * k);
    }
    chain.push_back(bn);
    user = onlyUser(bn.getResult());
    if (auto relu = dyn_cast_or_null<ReluOp>(user)) {
      act.kind = ActivationKind::relu;
      act.min = 0.0;
      chain.push_back(relu);
      user = onlyUser(relu.getResult());
    } else if (auto clamp = dyn_cast_or_null<ClampOp>(user)) {
      act.kind = ActivationKind::clamp;
      act.min = clamp.getMin().convertToDouble();
      act.max = clamp.getMax().convertToDouble();
      chain.push_back(clamp);
      user = onlyUser(clamp.getResult());
    }
    if (!user)
      return refuse("the batch-norm (or its activation) has more than one "
                    "user");
  }
  Side out;
  if (auto fq = dyn_cast<FakeQuantOp>(user)) {
    if (failed(fromFakeQuant(fq, "the output", false, out)))
      return failure();
  } else if (auto q = dyn_cast<QuantizeOp>(user)) {
    if (q.getAxis())
      return refuse("the output quantize is per channel");
    out.qmin = q.getQuantMinAttr().getInt();
    out.qmax = q.getQuantMaxAttr().getInt();
    out.uint8 = q.getUint8();
    out.scale = q.getScale();
    out.zeroPoint = q.getZeroPoint();
  } else {
    return refuse("the result is not quantized (its only user is '" +
                  user->getName().getStringRef() +
                  "', not a per-tensor fake_quant or quantize)");
  }

  // Input.
  Side in;
  auto inFq = input.getDefiningOp<FakeQuantOp>();
  auto inDq = input.getDefiningOp<DequantizeOp>();
  if (inFq) {
    if (failed(fromFakeQuant(inFq, "the input", false, in)))
      return failure();
  } else if (inDq) {
    if (failed(fromDequantize(inDq, "the input", false, in)))
      return failure();
  } else {
    return refuse("the input is not quantized (no fake_quant or dequantize "
                  "produces it)");
  }

  // Weight: constant integers, computed as the fake_quant computes them.
  Side w;
  SmallVector<int64_t> wInts;
  int64_t cout = wType.getDimSize(0);
  int64_t perChannel = wType.getNumElements() / std::max<int64_t>(cout, 1);
  if (auto fq = weight.getDefiningOp<FakeQuantOp>()) {
    if (failed(fromFakeQuant(fq, "the weight", true, w)))
      return failure();
    auto values = fold::getConstantValues(fq.getInput());
    auto scales = fold::getConstantValues(w.scale);
    auto zps = fold::getConstantInts(w.zeroPoint);
    if (!values || !scales || !zps)
      return refuse("the weight, its scale or its zero point is not a "
                    "constant");
    for (auto [i, v] : llvm::enumerate(*values)) {
      size_t c = w.axis ? i / perChannel : 0;
      // roundeven(x / s) + zp in f32, then clamp: qfuse.fake_quant's q.
      float q = std::nearbyint(float(v) / float((*scales)[c])) +
                float((*zps)[c]);
      q = std::min<float>(std::max<float>(q, w.qmin), w.qmax);
      wInts.push_back(static_cast<int64_t>(q));
    }
  } else if (auto dq = weight.getDefiningOp<DequantizeOp>()) {
    if (failed(fromDequantize(dq, "the weight", true, w)))
      return failure();
    auto ints = fold::getConstantInts(dq.getInput(), w.uint8);
    if (!ints)
      return refuse("the weight's integers are not a constant");
    wInts = std::move(*ints);
  } else {
    return refuse("the weight is not quantized (no fake_quant or dequantize "
                  "produces it)");
  }
  auto wZps = fold::getConstantInts(w.zeroPoint);
  if (!wZps)
    return refuse("the weight zero point is not a constant");
  auto zpOf = [&](int64_t c) { return (*wZps)[wZps->size() == 1 ? 0 : c]; };

  // A batch-norm scales each channel's weight scale by |k| (f64, rounded
  // once to f32); a negative k negates that channel's integers.
  std::optional<SmallVector<double>> weightScales;
  if (!bnK.empty()) {
    auto sw = fold::getConstantValues(w.scale);
    if (!sw)
      return refuse("the weight scale is not a constant (the batch-norm "
                    "goes into it)");
    weightScales.emplace();
    for (int64_t c = 0; c < cout; ++c) {
      double k = bnK[c];
      weightScales->push_back(
          (double)(float)((*sw)[sw->size() == 1 ? 0 : c] * std::fabs(k)));
      if (k > 0)
        continue;
      if (zpOf(c) != 0 || w.uint8)
        return refuse("batch-norm channel " + Twine(c) +
                      " has a negative scale and the weight is not "
                      "symmetric int8 (zero point 0)");
      for (int64_t i = 0; i < perChannel; ++i) {
        int64_t &q = wInts[c * perChannel + i];
        if (q == -128)
          return refuse("batch-norm channel " + Twine(c) +
                        " has a negative scale and a weight at -128, whose "
                        "negation does not fit int8");
        q = -q;
      }
    }
  }

  // Bias at scale s_x * s_w[c], f64, rounded once; with a batch-norm the
  // bias is (b − μ)·k + β, at the scale that includes |k|.
  SmallVector<int32_t> biasInts;
  bool hasBias = bias || !bnK.empty();
  if (hasBias) {
    std::optional<SmallVector<double>> values;
    if (bias)
      values = constantBias(bias);
    else
      values = SmallVector<double>(cout, 0.0);
    auto sx = fold::getConstantValues(in.scale);
    auto sw = weightScales ? weightScales : fold::getConstantValues(w.scale);
    if (!values || !sx || !sw)
      return refuse("the bias, the input scale or the weight scale is not a "
                    "constant (quantizing the bias needs all three)");
    if (!bnK.empty())
      for (int64_t c = 0; c < cout; ++c)
        (*values)[c] = (*values)[c] * bnK[c] + bnShift[c];
    for (auto [c, v] : llvm::enumerate(*values)) {
      double scale = (*sx)[0] * (*sw)[sw->size() == 1 ? 0 : c];
      double q = std::nearbyint(v / scale);
      if (!(std::fabs(q) <= std::numeric_limits<int32_t>::max()))
        return refuse("bias " + Twine(c) + " (" + fold::formatDouble(v) +
                      ") overflows int32 at scale s_x*s_w = " +
                      fold::formatDouble(scale));
      biasInts.push_back(static_cast<int32_t>(q));
    }
  }

  // The int32 accumulator cannot overflow: |x - zx| <= 255 in 8 bits.
  for (int64_t c = 0; c < cout; ++c) {
    double bound = hasBias ? std::fabs((double)biasInts[c]) : 0.0;
    for (int64_t k = 0; k < perChannel; ++k)
      bound += 255.0 * std::fabs((double)(wInts[c * perChannel + k] - zpOf(c)));
    if (bound > std::numeric_limits<int32_t>::max())
      return refuse("the int32 accumulator of output channel " + Twine(c) +
                    " could overflow (bound " + fold::formatDouble(bound) +
                    ")");
  }

  // Build.
  OpBuilder b(op);
  Location loc = op->getLoc();
  Type i8 = b.getI8Type();
  auto i8Like = [&](Value v) {
    return cast<RankedTensorType>(v.getType()).clone(i8);
  };
  Value xInt;
  if (inDq) {
    xInt = inDq.getInput();
  } else {
    xInt = QuantizeOp::create(
        b, inFq.getLoc(), i8Like(input), inFq.getInput(), in.scale,
        in.zeroPoint, IntegerAttr(), b.getI64IntegerAttr(in.qmin),
        b.getI64IntegerAttr(in.qmax), in.uint8 ? b.getUnitAttr() : UnitAttr());
  }
  SmallVector<int8_t> wBytes;
  for (int64_t v : wInts)
    wBytes.push_back(static_cast<int8_t>(v)); // uint8 keeps its bits
  Value wInt = arith::ConstantOp::create(
      b, weight.getLoc(),
      DenseElementsAttr::get(wType.clone(i8), ArrayRef<int8_t>(wBytes)));
  Value biasInt;
  if (hasBias)
    biasInt = arith::ConstantOp::create(
        b, bias ? bias.getLoc() : loc,
        DenseElementsAttr::get(
            RankedTensorType::get({cout}, b.getI32Type()),
            ArrayRef<int32_t>(biasInts)));
  auto unit = [&](bool flag) { return flag ? b.getUnitAttr() : UnitAttr(); };
  Value weightScale = w.scale;
  if (weightScales) {
    SmallVector<float> f32Scales(weightScales->begin(), weightScales->end());
    weightScale = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({cout}, b.getF32Type()),
                               ArrayRef<float>(f32Scales)));
  }
  FloatAttr lo, hi;
  if (act.kind == ActivationKind::clamp) {
    lo = b.getF64FloatAttr(act.min);
    hi = b.getF64FloatAttr(act.max);
  }
  auto actAttr = ActivationKindAttr::get(b.getContext(), act.kind);
  RankedTensorType qType = resultType.clone(i8);
  Value result;
  if (conv) {
    result = QConvOp::create(
        b, loc, qType, xInt, wInt, biasInt, in.zeroPoint, w.zeroPoint,
        in.scale, weightScale, out.scale, out.zeroPoint, unit(in.uint8),
        unit(w.uint8), unit(out.uint8), b.getI64IntegerAttr(out.qmin),
        b.getI64IntegerAttr(out.qmax), conv.getStridesAttr(),
        conv.getPaddingAttr(), conv.getDilationsAttr(), conv.getGroupsAttr(),
        actAttr, lo, hi);
  } else {
    result = QLinearOp::create(
        b, loc, qType, xInt, wInt, biasInt, in.zeroPoint, w.zeroPoint,
        in.scale, weightScale, out.scale, out.zeroPoint, unit(in.uint8),
        unit(w.uint8), unit(out.uint8), b.getI64IntegerAttr(out.qmin),
        b.getI64IntegerAttr(out.qmax), actAttr, lo, hi);
  }
  if (isa<FakeQuantOp>(user)) {
    b.setInsertionPoint(user);
    result = DequantizeOp::create(b, user->getLoc(),
                                  user->getResult(0).getType(), result,
                                  out.scale, out.zeroPoint, IntegerAttr(),
                                  unit(out.uint8));
  }
  user->getResult(0).replaceAllUsesWith(result);
  user->erase();
  for (Operation *between : llvm::reverse(chain))
    between->erase();
  op->erase();
  return success();
}

struct QuantizePass : public qfuse::impl::QuantizeBase<QuantizePass> {
  void runOnOperation() override {
    SmallVector<Operation *> worklist;
    getOperation()->walk([&](Operation *op) {
      if (isa<ConvOp, LinearOp>(op))
        worklist.push_back(op);
    });
    auto opts = remark::RemarkOpts::name("Quantize").category(kRemarkCategory);
    for (Operation *op : worklist) {
      Location loc = op->getLoc();
      std::string name = op->getName().getStringRef().str();
      Converter converter(op);
      if (succeeded(converter.run())) {
        ++numConverted;
        remark::passed(loc, opts)
            << llvm::formatv("{0} made integer (int8 x int8 -> int32, "
                             "requantize epilogue)",
                             name)
                   .str();
      } else {
        ++numRefused;
        remark::missed(loc, opts)
            << llvm::formatv("{0} left in float: {1}", name,
                             converter.reason)
                   .str();
      }
    }
    // quantize(dequantize(q)) between layers cancels; dead fake_quants go.
    RewritePatternSet patterns(&getContext());
    QuantizeOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
