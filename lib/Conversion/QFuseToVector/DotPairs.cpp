//===- DotPairs.cpp - qfuse.dot_pairs to vpmaddwd or portable vector ops --===//

#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/TargetParser/Host.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_LOWERDOTPAIRS
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

struct DotPairsLowering : public OpRewritePattern<DotPairsOp> {
  DotPairsLowering(MLIRContext *ctx, bool avx2)
      : OpRewritePattern(ctx), avx2(avx2) {}

  LogicalResult matchAndRewrite(DotPairsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    VectorType resultType = op.getResult().getType();
    int64_t lanes = resultType.getDimSize(0);
    if (avx2 && lanes == 8) {
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, resultType, rewriter.getStringAttr("llvm.x86.avx2.pmadd.wd"),
          ValueRange{op.getLhs(), op.getRhs()});
      return success();
    }
    // Portable: even and odd lanes, widened, multiplied and added.
    SmallVector<int64_t> even, odd;
    for (int64_t i = 0; i < lanes; ++i) {
      even.push_back(2 * i);
      odd.push_back(2 * i + 1);
    }
    auto half = [&](Value v, ArrayRef<int64_t> mask) -> Value {
      Value picked = vector::ShuffleOp::create(rewriter, loc, v, v, mask);
      return arith::ExtSIOp::create(rewriter, loc, resultType, picked);
    };
    Value e = arith::MulIOp::create(rewriter, loc, half(op.getLhs(), even),
                                    half(op.getRhs(), even));
    Value o = arith::MulIOp::create(rewriter, loc, half(op.getLhs(), odd),
                                    half(op.getRhs(), odd));
    rewriter.replaceOpWithNewOp<arith::AddIOp>(op, e, o);
    return success();
  }

  bool avx2;
};

struct LowerDotPairsPass
    : public qfuse::impl::LowerDotPairsBase<LowerDotPairsPass> {
  using Base::Base;
  void runOnOperation() override {
    bool avx2;
    if (isa == "auto") {
      avx2 = llvm::sys::getHostCPUFeatures().lookup("avx2");
    } else if (isa == "avx2" || isa == "generic") {
      avx2 = isa == "avx2";
    } else {
      getOperation()->emitError()
          << "qfuse-lower-dot-pairs: isa must be auto, avx2 or generic, not '"
          << isa << "'";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<DotPairsLowering>(&getContext(), avx2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
