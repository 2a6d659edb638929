//===- FuseActivations.cpp - relu/clamp into conv, conv_transpose, linear -===//
//
// The PTQ form of conv → relu is one qfuse.conv with activation = relu (like
// PyTorch's ConvReLU2d). These patterns match a relu or clamp whose operand is
// the only use of a conv-like op and move the activation into that op.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_FUSEACTIVATIONS
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

/// Range [lo, hi] of the activation `op` (qfuse.relu or qfuse.clamp) applies.
static bool getActivationRange(Operation *op, double &lo, double &hi) {
  if (isa<ReluOp>(op)) {
    lo = 0.0;
    hi = std::numeric_limits<double>::infinity();
    return true;
  }
  if (auto clamp = dyn_cast<ClampOp>(op)) {
    lo = clamp.getMin().convertToDouble();
    hi = clamp.getMax().convertToDouble();
    return true;
  }
  return false;
}

/// Pattern: act(producer(x, w, b)) -> producer(x, w, b){activation = act},
/// where act is qfuse.relu or qfuse.clamp and producer is a ConvOp,
/// ConvTransposeOp or LinearOp whose result has no other user. When the
/// producer already carries an activation, the two ranges are intersected
/// (relu then relu6 is relu6); disjoint ranges are left alone.
template <typename ActOp, typename ProducerOp>
struct FuseActivationIntoProducer : public OpRewritePattern<ActOp> {
  FuseActivationIntoProducer(MLIRContext *ctx, unsigned *numFused)
      : OpRewritePattern<ActOp>(ctx), numFused(numFused) {}
  unsigned *numFused;

  LogicalResult matchAndRewrite(ActOp act,
                                PatternRewriter &rewriter) const override {
    auto producer = act.getInput().template getDefiningOp<ProducerOp>();
    if (!producer)
      return failure();
    if (!producer->hasOneUse())
      return rewriter.notifyMatchFailure(act, "producer has other users");
    double lo, hi;
    getActivationRange(act, lo, hi);
    FusedActivation existing = getFusedActivation(producer);
    lo = std::max(lo, existing.min);
    hi = std::min(hi, existing.max);
    if (lo > hi)
      return rewriter.notifyMatchFailure(act, "disjoint activation ranges");

    bool isRelu = lo == 0.0 && std::isinf(hi) && hi > 0;
    rewriter.modifyOpInPlace(producer, [&] {
      producer.setActivation(isRelu ? ActivationKind::relu
                                    : ActivationKind::clamp);
      if (isRelu) {
        producer.removeClampMinAttr();
        producer.removeClampMaxAttr();
      } else {
        producer.setClampMinAttr(rewriter.getF64FloatAttr(lo));
        producer.setClampMaxAttr(rewriter.getF64FloatAttr(hi));
      }
      producer->setLoc(rewriter.getFusedLoc({producer.getLoc(), act.getLoc()}));
    });
    rewriter.replaceOp(act, producer->getResults());
    if (numFused)
      ++*numFused;
    return success();
  }
};

struct FuseActivationsPass
    : public qfuse::impl::FuseActivationsBase<FuseActivationsPass> {
  using FuseActivationsBase::FuseActivationsBase;

  void runOnOperation() override {
    FailureOr<unsigned> fused = fuseActivations(getOperation());
    if (failed(fused))
      return signalPassFailure();
    numFused += *fused;
  }
};

} // namespace

void mlir::qfuse::populateFuseActivationPatterns(RewritePatternSet &patterns,
                                                 unsigned *numFused) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<FuseActivationIntoProducer<ReluOp, ConvOp>,
               FuseActivationIntoProducer<ReluOp, ConvTransposeOp>,
               FuseActivationIntoProducer<ReluOp, LinearOp>,
               FuseActivationIntoProducer<ClampOp, ConvOp>,
               FuseActivationIntoProducer<ClampOp, ConvTransposeOp>,
               FuseActivationIntoProducer<ClampOp, LinearOp>>(ctx, numFused);
}

FailureOr<unsigned> mlir::qfuse::fuseActivations(Operation *root) {
  unsigned numFused = 0;
  RewritePatternSet patterns(root->getContext());
  populateFuseActivationPatterns(patterns, &numFused);
  if (failed(applyPatternsGreedily(root, std::move(patterns))))
    return failure();
  return numFused;
}
