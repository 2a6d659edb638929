//===- Qat.cpp - --fuse-qat and --qat-to-deploy ---------------------------===//
//
// --fuse-qat keeps conv + batch-norm (+ activation) apart as qfuse.qat_conv_bn
// so that quantization-aware training can go on; --qat-to-deploy turns a
// frozen QAT op into the deploy form conv(x, fq(W·k), (b − μ)·k + β).
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"
#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Remarks.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_FUSEQAT
#define GEN_PASS_DEF_QATTODEPLOY
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

//===----------------------------------------------------------------------===//
// --fuse-qat
//===----------------------------------------------------------------------===//

struct FuseQatPass : public qfuse::impl::FuseQatBase<FuseQatPass> {
  using FuseQatBase::FuseQatBase;

  void runOnOperation() override {
    QatMode qatMode;
    if (mode == "train") {
      qatMode = QatMode::train;
    } else if (mode == "frozen") {
      qatMode = QatMode::frozen;
    } else {
      getOperation()->emitError()
          << "fuse-qat: mode must be 'train' or 'frozen', got '" << mode
          << "'";
      return signalPassFailure();
    }
    if (!(momentum >= 0.0 && momentum <= 1.0)) {
      getOperation()->emitError()
          << "fuse-qat: momentum must lie in [0, 1], got " << momentum;
      return signalPassFailure();
    }
    SmallVector<BatchNormOp> worklist;
    getOperation()->walk([&](BatchNormOp bn) { worklist.push_back(bn); });
    auto opts = remark::RemarkOpts::name("FuseQat").category("fuse-qat");
    for (BatchNormOp bn : worklist) {
      Location loc = bn.getLoc();
      std::string why;
      if (succeeded(fuse(bn, qatMode, why)))
        remark::passed(loc, opts) << "conv and batch-norm kept as the QAT op";
      else
        remark::missed(loc, opts) << "not fused into a QAT op: " + why;
    }
  }

  /// The weight fake-quant of the QAT op, from one found on the raw weight.
  struct WeightQuant {
    Value scale, zeroPoint;
    IntegerAttr axis, qmin, qmax;
  };

  /// Rescales the fake-quant on the unscaled weight to one on W·k:
  /// s' = s·|k|, from constant statistics and scale.
  FailureOr<WeightQuant> rescaleWeightQuant(OpBuilder &b, FakeQuantOp fq,
                                            BatchNormOp bn, bool transposed,
                                            int64_t groups, std::string &why) {
    auto var = fold::getConstantValues(bn.getVariance());
    std::optional<SmallVector<double>> gamma;
    if (bn.getScale())
      gamma = fold::getConstantValues(bn.getScale());
    auto scale = fold::getConstantValues(fq.getScale());
    DenseIntElementsAttr zpAttr;
    if (!var || (bn.getScale() && !gamma) || !scale ||
        !matchPattern(fq.getZeroPoint(), m_Constant(&zpAttr))) {
      why = "the weight fake_quant's scale is fitted to the unscaled weight; "
            "rescaling it to the batch-norm-scaled weight needs constant "
            "scale, zero point, variance and batch-norm scale";
      return failure();
    }
    double eps = bn.getEpsilon().convertToDouble();
    SmallVector<double> k;
    for (size_t i = 0; i < var->size(); ++i)
      k.push_back((gamma ? (*gamma)[i] : 1.0) / std::sqrt((*var)[i] + eps));
    int64_t qmin = fq.getQuantMinAttr().getInt();
    int64_t qmax = fq.getQuantMaxAttr().getInt();
    bool perChannel = fq.isPerChannel();
    if (perChannel) {
      int64_t axis = *fq.getAxis();
      if (!(transposed ? (axis == 1 && groups == 1) : axis == 0)) {
        why = llvm::formatv("the weight fake_quant is per-channel along axis "
                            "{0}, not along the output channels",
                            axis)
                  .str();
        return failure();
      }
    } else if (llvm::any_of(k, [&](double v) {
                 return std::fabs(v) != std::fabs(k[0]);
               })) {
      why = "per-tensor weight fake_quant with a batch-norm scale that "
            "differs between channels";
      return failure();
    }
    SmallVector<int64_t> zp;
    for (APInt z : zpAttr.getValues<APInt>())
      zp.push_back(z.getSExtValue());
    SmallVector<double> newScale(scale->size());
    for (size_t i = 0; i < scale->size(); ++i) {
      double ki = k[perChannel ? i : 0];
      if (!std::isfinite(ki) || ki == 0.0) {
        why = llvm::formatv("batch-norm scale is {0} on channel {1}",
                            fold::formatDouble(ki), i)
                  .str();
        return failure();
      }
      if (ki < 0.0 && (qmin != -qmax || zp[i] != 0)) {
        why = llvm::formatv("negative batch-norm scale on channel {0} with an "
                            "asymmetric quant range or a zero point",
                            i)
                  .str();
        return failure();
      }
      newScale[i] = (*scale)[i] * std::fabs(ki);
    }
    auto attr = fold::roundToType(cast<ShapedType>(fq.getScale().getType()),
                                  newScale);
    if (failed(attr)) {
      why = "the rescaled weight quant scale overflows its element type";
      return failure();
    }
    WeightQuant wq;
    wq.scale = arith::ConstantOp::create(b, fq.getLoc(), *attr);
    wq.zeroPoint = fq.getZeroPoint();
    wq.axis = fq.getAxisAttr();
    wq.qmin = fq.getQuantMinAttr();
    wq.qmax = fq.getQuantMaxAttr();
    return wq;
  }

  LogicalResult fuse(BatchNormOp bn, QatMode qatMode, std::string &why) {
    Operation *producer = bn.getInput().getDefiningOp();
    if (!isa_and_nonnull<ConvOp, ConvTransposeOp, LinearOp>(producer)) {
      why = "no conv, conv_transpose or linear producer";
      return failure();
    }
    StringRef name = producer->getName().getStringRef();
    if (!producer->hasOneUse()) {
      why = llvm::formatv("the {0} result has other users", name).str();
      return failure();
    }
    if (getFusedActivation(producer).kind != ActivationKind::none) {
      why = llvm::formatv("the {0} applies a fused activation before the "
                          "batch-norm",
                          name)
                .str();
      return failure();
    }
    bool transposed = isa<ConvTransposeOp>(producer);
    bool linear = isa<LinearOp>(producer);
    int64_t groups = 1;
    if (auto g = producer->getAttrOfType<IntegerAttr>("groups"))
      groups = g.getInt();

    OpBuilder b(bn);
    Value weight = producer->getOperand(1);
    Value bias = producer->getNumOperands() > 2 ? producer->getOperand(2)
                                                : Value();
    std::optional<WeightQuant> wq;
    FakeQuantOp fq = weight.getDefiningOp<FakeQuantOp>();
    if (fq) {
      auto rescaled =
          rescaleWeightQuant(b, fq, bn, transposed, groups, why);
      if (failed(rescaled))
        return failure();
      wq = *rescaled;
      weight = fq.getInput();
    }

    // Take in the activation only when the batch-norm has no other user.
    Operation *act = nullptr;
    if (bn->hasOneUse() &&
        isa<ReluOp, ClampOp>(*bn->getUsers().begin()))
      act = *bn->getUsers().begin();

    MLIRContext *ctx = b.getContext();
    auto emptyArray = b.getDenseI64ArrayAttr({});
    OperationState state(
        b.getFusedLoc({producer->getLoc(), bn.getLoc()}),
        QatConvBnOp::getOperationName());
    Value none;
    SmallVector<Value> operands = {producer->getOperand(0), weight};
    SmallVector<int32_t> segments = {1, 1, bias ? 1 : 0, 1, 1,
                                     bn.getScale() ? 1 : 0,
                                     bn.getOffset() ? 1 : 0, wq ? 1 : 0,
                                     wq ? 1 : 0};
    for (Value v : SmallVector<Value>{bias, bn.getMean(), bn.getVariance(),
                                      bn.getScale(), bn.getOffset(),
                                      wq ? wq->scale : none,
                                      wq ? wq->zeroPoint : none})
      if (v)
        operands.push_back(v);
    state.addOperands(operands);
    state.addAttribute("operandSegmentSizes",
                       b.getDenseI32ArrayAttr(segments));
    auto copy = [&](StringRef attr, Attribute fallback) {
      Attribute a = producer->getAttr(attr);
      state.addAttribute(attr, a ? a : fallback);
    };
    copy("strides", emptyArray);
    copy("padding", emptyArray);
    copy("dilations", emptyArray);
    copy("groups", b.getI64IntegerAttr(1));
    copy("output_padding", emptyArray);
    if (transposed)
      state.addAttribute("transposed", b.getUnitAttr());
    state.addAttribute("epsilon", bn.getEpsilonAttr());
    state.addAttribute("momentum", b.getF64FloatAttr(momentum));
    state.addAttribute("mode", QatModeAttr::get(ctx, qatMode));
    if (wq) {
      if (wq->axis)
        state.addAttribute("weight_axis", wq->axis);
      state.addAttribute("weight_quant_min", wq->qmin);
      state.addAttribute("weight_quant_max", wq->qmax);
    }
    if (auto relu = dyn_cast_or_null<ReluOp>(act)) {
      state.addAttribute("activation",
                         ActivationKindAttr::get(ctx, ActivationKind::relu));
    } else if (auto clamp = dyn_cast_or_null<ClampOp>(act)) {
      state.addAttribute("activation",
                         ActivationKindAttr::get(ctx, ActivationKind::clamp));
      state.addAttribute("clamp_min", clamp.getMinAttr());
      state.addAttribute("clamp_max", clamp.getMaxAttr());
    }
    (void)linear;
    Type statType = bn.getMean().getType();
    state.addTypes({bn.getType(), statType, statType});
    Operation *qat = b.create(state);
    if (failed(mlir::verify(qat))) {
      qat->erase();
      why = "the QAT op built from these ops does not verify";
      return failure();
    }
    (act ? act : bn.getOperation())->replaceAllUsesWith(
        ValueRange{qat->getResult(0)});
    if (act)
      act->erase();
    bn.erase();
    producer->erase();
    if (fq && fq->use_empty())
      fq->erase();
    return success();
  }
};

//===----------------------------------------------------------------------===//
// --qat-to-deploy
//===----------------------------------------------------------------------===//

struct QatToDeployPass : public qfuse::impl::QatToDeployBase<QatToDeployPass> {
  void runOnOperation() override {
    SmallVector<QatConvBnOp> worklist;
    getOperation()->walk([&](QatConvBnOp op) { worklist.push_back(op); });
    bool failedAny = false;
    for (QatConvBnOp op : worklist)
      if (failed(convert(op)))
        failedAny = true;
    if (failedAny)
      signalPassFailure();
  }

  LogicalResult convert(QatConvBnOp op) {
    if (op.getMode() == QatMode::train)
      return op.emitError()
             << "cannot convert a QAT op in train mode to the deploy form: "
                "its normalisation uses batch statistics and its running "
                "statistics still change; set mode = frozen first";
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    auto outType = cast<RankedTensorType>(op.getOutput().getType());
    if (!weightType.hasStaticShape())
      return op.emitError() << "qat-to-deploy needs a statically shaped weight";
    Type elt = weightType.getElementType();
    int64_t channels =
        cast<ShapedType>(op.getRunningMean().getType()).getDimSize(0);
    int64_t groups = op.getGroups();
    bool transposed = op.getTransposed();
    double eps = op.getEpsilon().convertToDouble();
    OpBuilder b(op);
    Location loc = op.getLoc();

    // W·k and b' = (b − μ)·k + β: folded when everything is constant.
    Value scaledWeight, bias;
    auto w = fold::getConstantValues(op.getWeight());
    auto mean = fold::getConstantValues(op.getRunningMean());
    auto var = fold::getConstantValues(op.getRunningVar());
    std::optional<SmallVector<double>> gamma, beta, oldBias;
    bool constant = w && mean && var;
    if (op.getScale())
      constant &= bool(gamma = fold::getConstantValues(op.getScale()));
    if (op.getOffset())
      constant &= bool(beta = fold::getConstantValues(op.getOffset()));
    if (op.getBias())
      constant &= bool(oldBias = fold::getConstantValues(op.getBias()));
    if (constant) {
      SmallVector<double> k(channels), newBias(channels);
      for (int64_t c = 0; c < channels; ++c) {
        k[c] = (gamma ? (*gamma)[c] : 1.0) / std::sqrt((*var)[c] + eps);
        newBias[c] = ((oldBias ? (*oldBias)[c] : 0.0) - (*mean)[c]) * k[c] +
                     (beta ? (*beta)[c] : 0.0);
      }
      fold::OutputChannelMap channelOf(weightType, transposed, groups);
      SmallVector<double> newWeight(w->size());
      for (size_t i = 0; i < w->size(); ++i)
        newWeight[i] = (*w)[i] * k[channelOf(i)];
      auto wAttr = fold::roundToType(weightType, newWeight);
      auto bAttr = fold::roundToType(RankedTensorType::get({channels}, elt),
                                     newBias);
      if (failed(wAttr) || failed(bAttr))
        return op.emitError() << "qat-to-deploy: a folded weight or bias "
                                 "overflows the element type";
      scaledWeight = arith::ConstantOp::create(b, loc, *wAttr);
      bias = arith::ConstantOp::create(b, loc, *bAttr);
    } else {
      auto [k, newBias] = fold::emitBNCoefficients(
          b, loc, op.getRunningMean(), op.getRunningVar(), op.getScale(),
          op.getOffset(), op.getBias(), eps, elt, channels);
      scaledWeight = fold::scaleAlongOutputChannels(b, loc, op.getWeight(), k,
                                                    transposed, groups);
      bias = newBias;
    }
    if (op.hasWeightQuant())
      scaledWeight = FakeQuantOp::create(
          b, loc, weightType, scaledWeight, op.getWeightScale(),
          op.getWeightZeroPoint(), op.getWeightAxisAttr(),
          op.getWeightQuantMinAttr(), op.getWeightQuantMaxAttr());

    MLIRContext *ctx = b.getContext();
    auto act = op.getActivationAttr()
                   ? op.getActivationAttr()
                   : ActivationKindAttr::get(ctx, ActivationKind::none);
    Value out;
    if (op.isLinear())
      out = LinearOp::create(b, loc, outType, op.getInput(), scaledWeight,
                             bias, act, op.getClampMinAttr(),
                             op.getClampMaxAttr());
    else if (transposed)
      out = ConvTransposeOp::create(
          b, loc, outType, op.getInput(), scaledWeight, bias,
          op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr(),
          op.getGroupsAttr(), op.getOutputPaddingAttr(), act,
          op.getClampMinAttr(), op.getClampMaxAttr());
    else
      out = ConvOp::create(b, loc, outType, op.getInput(), scaledWeight, bias,
                           op.getStridesAttr(), op.getPaddingAttr(),
                           op.getDilationsAttr(), op.getGroupsAttr(), act,
                           op.getClampMinAttr(), op.getClampMaxAttr());
    op.getOutput().replaceAllUsesWith(out);
    op.getNewRunningMean().replaceAllUsesWith(op.getRunningMean());
    op.getNewRunningVar().replaceAllUsesWith(op.getRunningVar());
    op.erase();
    return success();
  }
};

} // namespace
