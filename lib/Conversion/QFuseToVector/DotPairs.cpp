//===- DotPairs.cpp - integer dot ops to x86 instructions or portable ops -===//
//
// qfuse.dot_pairs (int16 pairs) and qfuse.dot_quads (uint8 x int8 quads) are
// the integer kernels' inner products, qfuse.pair_sums the f32 depthwise
// stride-2 kernel's pair sums. Each becomes one x86 instruction
// where the target has it and it is exact, else portable vector ops that
// compute the same lanes.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "qfuse/Conversion/IntegerIsa.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

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
  DotPairsLowering(MLIRContext *ctx, IntegerIsa isa)
      : OpRewritePattern(ctx), avx2(isa >= IntegerIsa::Avx2) {}

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

/// Sums groups of `group` adjacent lanes of `v` (vector<group·n x i32>).
static Value sumGroups(PatternRewriter &rewriter, Location loc, Value v,
                       int64_t group) {
  int64_t lanes = cast<VectorType>(v.getType()).getDimSize(0) / group;
  Value sum;
  for (int64_t j = 0; j < group; ++j) {
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < lanes; ++i)
      mask.push_back(group * i + j);
    Value part = vector::ShuffleOp::create(rewriter, loc, v, v, mask);
    sum = sum ? arith::AddIOp::create(rewriter, loc, sum, part).getResult()
              : part;
  }
  return sum;
}

struct DotQuadsLowering : public OpRewritePattern<DotQuadsOp> {
  DotQuadsLowering(MLIRContext *ctx, IntegerIsa isa)
      : OpRewritePattern(ctx), isa(isa) {}

  LogicalResult matchAndRewrite(DotQuadsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    VectorType accType = op.getAcc().getType();
    int64_t lanes = accType.getDimSize(0);
    if (lanes == 8 && isa >= IntegerIsa::AvxVnni) {
      // vpdpbusd: u8 x s8 quads into the i32 accumulator, exactly (the VEX
      // form on AVX-VNNI, the EVEX one with AVX512-VNNI + VL).
      // (LLVM 22 types the byte operands as <32 x i8>.)
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, accType, rewriter.getStringAttr("llvm.x86.avx512.vpdpbusd.256"),
          ValueRange{op.getAcc(), op.getLhs(), op.getRhs()});
      return success();
    }
    if (lanes == 8 && isa >= IntegerIsa::Avx2 && op.getPairsFitI16()) {
      // vpmaddubsw (u8 x s8 pairs into i16, exact by the promise), then
      // vpmaddwd by ones (pairs of i16 into i32).
      auto i16Type = VectorType::get({16}, rewriter.getI16Type());
      Value pairs = LLVM::CallIntrinsicOp::create(
                        rewriter, loc, i16Type,
                        rewriter.getStringAttr("llvm.x86.avx2.pmadd.ub.sw"),
                        ValueRange{op.getLhs(), op.getRhs()})
                        .getResult(0);
      Value ones = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(i16Type, rewriter.getI16IntegerAttr(1)
                                              .getValue()));
      Value quads = LLVM::CallIntrinsicOp::create(
                        rewriter, loc, accType,
                        rewriter.getStringAttr("llvm.x86.avx2.pmadd.wd"),
                        ValueRange{pairs, ones})
                        .getResult(0);
      rewriter.replaceOpWithNewOp<arith::AddIOp>(op, op.getAcc(), quads);
      return success();
    }
    // Portable: widen (unsigned x signed), multiply, sum each quad.
    auto wide = VectorType::get({4 * lanes}, rewriter.getI32Type());
    Value x = arith::ExtUIOp::create(rewriter, loc, wide, op.getLhs());
    Value w = arith::ExtSIOp::create(rewriter, loc, wide, op.getRhs());
    Value prod = arith::MulIOp::create(rewriter, loc, x, w);
    rewriter.replaceOpWithNewOp<arith::AddIOp>(
        op, op.getAcc(), sumGroups(rewriter, loc, prod, 4));
    return success();
  }

  IntegerIsa isa;
};

/// Pair sums in vhaddps lane order: the AVX instruction, or two shuffles
/// of the 16 lanes (lhs, rhs) and an add.
struct PairSumsLowering : public OpRewritePattern<PairSumsOp> {
  PairSumsLowering(MLIRContext *ctx, IntegerIsa isa)
      : OpRewritePattern(ctx), avx(isa >= IntegerIsa::Avx2) {}

  LogicalResult matchAndRewrite(PairSumsOp op,
                                PatternRewriter &rewriter) const override {
    if (avx) {
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, op.getType(), rewriter.getStringAttr("llvm.x86.avx.hadd.ps.256"),
          ValueRange{op.getLhs(), op.getRhs()});
      return success();
    }
    SmallVector<int64_t> even, odd;
    for (int64_t q : PairSumsOp::laneOrder) {
      even.push_back(2 * q);
      odd.push_back(2 * q + 1);
    }
    Location loc = op.getLoc();
    rewriter.replaceOpWithNewOp<arith::AddFOp>(
        op,
        vector::ShuffleOp::create(rewriter, loc, op.getLhs(), op.getRhs(),
                                  even),
        vector::ShuffleOp::create(rewriter, loc, op.getLhs(), op.getRhs(),
                                  odd));
    return success();
  }

  bool avx;
};

/// The fence after non-temporal stores: `sfence` for an x86 target (an x86
/// `isa`, or an x86 host), the instruction its manuals name for them (LLVM
/// emits a seq_cst fence there as a locked stack operation on some CPUs),
/// else a seq_cst fence.
struct StoreFenceLowering : public OpRewritePattern<StoreFenceOp> {
  StoreFenceLowering(MLIRContext *ctx, bool x86)
      : OpRewritePattern(ctx), x86(x86) {}

  LogicalResult matchAndRewrite(StoreFenceOp op,
                                PatternRewriter &rewriter) const override {
    if (x86) {
      LLVM::CallIntrinsicOp::create(
          rewriter, op.getLoc(), rewriter.getStringAttr("llvm.x86.sse.sfence"),
          ValueRange{});
      rewriter.eraseOp(op);
      return success();
    }
    rewriter.replaceOpWithNewOp<LLVM::FenceOp>(op,
                                               LLVM::AtomicOrdering::seq_cst);
    return success();
  }

  bool x86;
};

struct LowerDotPairsPass
    : public qfuse::impl::LowerDotPairsBase<LowerDotPairsPass> {
  using Base::Base;
  void runOnOperation() override {
    std::optional<IntegerIsa> target = parseIntegerIsa(isa);
    if (!target) {
      getOperation()->emitError()
          << "qfuse-lower-dot-pairs: isa must be one of "
          << kIntegerIsaNames << ", not '" << isa << "'";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<DotPairsLowering, DotQuadsLowering, PairSumsLowering>(
        &getContext(), *target);
    patterns.add<StoreFenceLowering>(
        &getContext(), *target != IntegerIsa::Generic ||
                           llvm::Triple(llvm::sys::getProcessTriple()).isX86());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::optional<IntegerIsa> mlir::qfuse::parseIntegerIsa(StringRef name) {
  if (name == "auto") {
    llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
    if (f.lookup("avx512vnni") && f.lookup("avx512vl"))
      return IntegerIsa::Avx512Vnni;
    if (f.lookup("avxvnni"))
      return IntegerIsa::AvxVnni;
    if (f.lookup("avx2"))
      return IntegerIsa::Avx2;
    return IntegerIsa::Generic;
  }
  return llvm::StringSwitch<std::optional<IntegerIsa>>(name)
      .Case("generic", IntegerIsa::Generic)
      .Case("avx2", IntegerIsa::Avx2)
      .Case("avxvnni", IntegerIsa::AvxVnni)
      .Case("avx512vnni", IntegerIsa::Avx512Vnni)
      .Default(std::nullopt);
}
