//===- ConvToGPU.cpp - tiled block/thread schedule for qfuse.conv --------===//
//
// Rewrites f32 qfuse.conv into an implicit-GEMM schedule written as nested
// scf.forall ops on buffers: an outer forall over (group, channel tile, pixel
// tile) mapped to GPU blocks, and inside it thread foralls, each one phase
// between barriers (initialise the accumulator tile with the bias, stage a
// slab of weights and input taps, accumulate, write back with the fused
// activation). Sibling thread foralls are sequential phases, so the same IR
// is correct as plain loops on the CPU and, after qfuse-map-to-gpu, as one
// CUDA kernel with shared-memory staging and barriers.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Remarks.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_CONVERTQFUSETOGPUTILES
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

constexpr llvm::StringLiteral kRemarkCategory = "gpu";
/// Shared memory a block may use without opting in (bytes).
constexpr int64_t kSharedLimit = 48 * 1024;
constexpr int64_t kMaxThreads = 1024;

struct Tiles {
  int64_t bm, bn, bk, tm, tn;
  int64_t ty() const { return bm / tm; }
  int64_t tx() const { return bn / tn; }
  int64_t threads() const { return ty() * tx(); }
  /// The staging buffers, and on the CPU (`accInBuffer`) the accumulator
  /// tile between phases; on the GPU the accumulators are registers.
  int64_t sharedBytes(bool accInBuffer) const {
    return 4 * (bk * bm + bk * bn + (accInBuffer ? bm * bn : 0));
  }
};

/// The conv's static geometry, as an implicit GEMM per group.
struct ConvShape {
  int64_t batch, groups, cinPg, m;
  SmallVector<int64_t> in, kernel, out, strides, dilations, padBegin;
  int64_t pixels() const {
    int64_t p = batch;
    for (int64_t o : out)
      p *= o;
    return p;
  }
  int64_t taps() const {
    int64_t k = cinPg;
    for (int64_t s : kernel)
      k *= s;
    return k;
  }
};

class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value div(Value x, int64_t d) {
    return d == 1 ? x : arith::DivUIOp::create(b, loc, x, idx(d)).getResult();
  }
  Value rem(Value x, int64_t d) {
    return arith::RemUIOp::create(b, loc, x, idx(d));
  }
  /// `a·x + c` with constant `a`, `c`, skipping the trivial parts.
  Value affine(Value x, int64_t a, int64_t c) {
    Value r = a == 1 ? x : mul(x, idx(a));
    return c == 0 ? r : add(r, idx(c));
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value lt(Value x, int64_t bound) {
    return cmp(arith::CmpIPredicate::slt, x, idx(bound));
  }
  Value andAll(ArrayRef<Value> conds) {
    Value r;
    for (Value c : conds)
      r = r ? arith::AndIOp::create(b, loc, r, c).getResult() : c;
    return r;
  }
  Value zero() {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  }

  /// Loads `mem[indices]` where `cond` holds (null: always), else 0.
  Value guardedLoad(Value cond, Value mem, ValueRange indices) {
    if (!cond)
      return memref::LoadOp::create(b, loc, mem, indices);
    auto ifOp = scf::IfOp::create(
        b, loc, cond,
        [&](OpBuilder &nb, Location nl) {
          Value v = memref::LoadOp::create(nb, nl, mem, indices);
          scf::YieldOp::create(nb, nl, v);
        },
        [&](OpBuilder &nb, Location nl) {
          Value z = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0f));
          scf::YieldOp::create(nb, nl, z);
        });
    return ifOp.getResult(0);
  }

  /// Runs `body` under `cond` (null: unconditionally).
  void guarded(Value cond, function_ref<void()> body) {
    if (!cond)
      return body();
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body();
  }

  /// Calls `body(i)` for each `i = tid + r·threads < count`, unrolled,
  /// guarding only the last round where `threads` does not divide `count`.
  void forEachShare(Value tid, int64_t threads, int64_t count,
                    function_ref<void(Value)> body) {
    for (int64_t base = 0; base < count; base += threads) {
      Value i = affine(tid, 1, base);
      guarded(base + threads > count ? lt(i, count) : Value(),
              [&] { body(i); });
    }
  }

  OpBuilder &b;
  Location loc;
};

/// One thread phase: a (TY, TX) forall mapped to threads y, x.
static void threadPhase(OpBuilder &b, Location loc, const Tiles &t,
                        function_ref<void(Value ty, Value tx)> body) {
  MLIRContext *ctx = b.getContext();
  ArrayAttr mapping = b.getArrayAttr(
      {gpu::GPUThreadMappingAttr::get(ctx, gpu::MappingId::DimY),
       gpu::GPUThreadMappingAttr::get(ctx, gpu::MappingId::DimX)});
  SmallVector<OpFoldResult> ubs = {b.getIndexAttr(t.ty()),
                                   b.getIndexAttr(t.tx())};
  scf::ForallOp::create(b, loc, ubs, ValueRange(), mapping,
                        [&](OpBuilder &nb, Location nl, ValueRange ivs) {
                          body(ivs[0], ivs[1]);
                          scf::InParallelOp::create(nb, nl);
                        });
}

/// A read-only buffer of `tensor`.
static Value asBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto tt = cast<RankedTensorType>(tensor.getType());
  auto mt = MemRefType::get(tt.getShape(), tt.getElementType());
  return bufferization::ToBufferOp::create(b, loc, mt, tensor,
                                           /*read_only=*/true);
}

/// `v` as the row-major multi-index over `dims`.
static SmallVector<Value> delinearize(Emitter &e, Value v,
                                      ArrayRef<int64_t> dims) {
  SmallVector<Value> r(dims.size());
  for (int64_t d = dims.size() - 1; d > 0; --d) {
    r[d] = e.rem(v, dims[d]);
    v = e.div(v, dims[d]);
  }
  r[0] = v;
  return r;
}

/// For output pixel `pix` (n, o...) and tap `tap` (ci, k...), appends the
/// input position in each spatial dimension, o·stride + k·dilation −
/// pad_begin, to `xidx`, and to `conds` the checks that it is inside the
/// image where it can be outside (the load reads 0 otherwise).
static void appendInputPositions(Emitter &e, const ConvShape &s,
                                 ArrayRef<Value> pix, ArrayRef<Value> tap,
                                 SmallVectorImpl<Value> &xidx,
                                 SmallVectorImpl<Value> &conds) {
  for (size_t d = 0; d < s.out.size(); ++d) {
    Value pos = e.add(e.mul(pix[1 + d], e.idx(s.strides[d])),
                      e.mul(tap[1 + d], e.idx(s.dilations[d])));
    if (s.padBegin[d]) {
      pos = e.sub(pos, e.idx(s.padBegin[d]));
      conds.push_back(e.cmp(arith::CmpIPredicate::sge, pos, e.idx(0)));
    }
    int64_t maxPos = (s.out[d] - 1) * s.strides[d] +
                     (s.kernel[d] - 1) * s.dilations[d] - s.padBegin[d];
    if (maxPos >= s.in[d])
      conds.push_back(e.lt(pos, s.in[d]));
    xidx.push_back(pos);
  }
}

static Value applyActivation(OpBuilder &b, Location loc, Value v,
                             const FusedActivation &act) {
  if (act.kind == ActivationKind::none)
    return v;
  auto cst = [&](double x) {
    return arith::ConstantOp::create(b, loc,
                                     b.getF32FloatAttr(static_cast<float>(x)));
  };
  v = arith::MaximumFOp::create(b, loc, v, cst(act.min));
  if (act.kind == ActivationKind::clamp)
    v = arith::MinimumFOp::create(b, loc, v, cst(act.max));
  return v;
}

static LogicalResult remarkLeft(Operation *op, const Twine &why) {
  remark::missed(op->getLoc(), remark::RemarkOpts::name("ConvToGPU")
                                   .category(kRemarkCategory)
                                   .subCategory("schedule"))
      << ("left to the generic lowering: " + why).str();
  return failure();
}

struct Options {
  int64_t bm, bn, bk, tm, tn;
  bool workgroup;
  int64_t targetBlocks;
};

/// Each slice of a split reduction takes at least this many BK steps.
constexpr int64_t kMinStepsPerSlice = 8;

/// How many slices the reduction over taps is split into: enough for about
/// `targetBlocks` blocks when the tiles alone give fewer than half of that,
/// each slice at least kMinStepsPerSlice steps; then as few as give the same
/// steps per slice, so that no slice is empty.
static int64_t chooseSlices(int64_t blocks, int64_t steps,
                            int64_t targetBlocks) {
  if (targetBlocks <= 0 || 2 * blocks >= targetBlocks)
    return 1;
  int64_t slices = std::min<int64_t>(llvm::divideCeil(targetBlocks, blocks),
                                     steps / kMinStepsPerSlice);
  if (slices <= 1)
    return 1;
  return llvm::divideCeil(steps, llvm::divideCeil(steps, slices));
}

static Tiles chooseTiles(const ConvShape &s, const Options &o) {
  Tiles t;
  t.bk = o.bk;
  t.bm = o.bm > 0 ? o.bm : std::clamp<int64_t>(llvm::PowerOf2Ceil(s.m), 16, 64);
  // 64-channel tiles of 128 pixels, 8x8 per thread, where that still gives
  // half of `targetBlocks` blocks (measured on an H100: 1.2-1.4x faster than
  // 64x64 tiles of 4x4 at batch 32); else 4x4 per thread on 64 pixels, and
  // the reduction split if the blocks are still few.
  int64_t enough = std::max<int64_t>(o.targetBlocks / 2, 1);
  int64_t bigBlocks =
      s.groups * static_cast<int64_t>(llvm::divideCeil(s.m, 64) *
                                      llvm::divideCeil(s.pixels(), 128));
  bool big =
      o.bn <= 0 && o.tm <= 0 && o.tn <= 0 && t.bm == 64 && bigBlocks >= enough;
  t.bn = o.bn > 0 ? o.bn : (big || t.bm < 64 ? 128 : 64);
  t.tm = o.tm > 0 ? o.tm : (big ? 8 : 4);
  t.tn = o.tn > 0 ? o.tn : (big ? 8 : 4);
  return t;
}

/// Replaces `op` by the tensor of `out`, the buffer its schedule wrote,
/// with a passed remark saying what schedule it took.
static LogicalResult replaceWithBuffer(ConvOp op, OpBuilder &b, Value out,
                                       const std::string &what) {
  Value result = bufferization::ToTensorOp::create(b, op.getLoc(), op.getType(),
                                                   out, /*restrict=*/true,
                                                   /*writable=*/true);
  op.replaceAllUsesWith(result);
  remark::passed(op.getLoc(), remark::RemarkOpts::name("ConvToGPU")
                                  .category(kRemarkCategory)
                                  .subCategory("schedule"))
      << what;
  op.erase();
  return success();
}

/// Threads per block of the depthwise schedule, one output pixel each.
constexpr int64_t kDepthwiseThreads = 256;
/// Reductions of at most this many taps are unrolled.
constexpr int64_t kMaxUnrolledTaps = 64;

/// One output channel per group (depthwise): no reuse across channels to
/// stage, so each thread computes one output element directly: the bias,
/// then a fused multiply-add per tap in (input channel, window) order, the
/// input read where the window is inside the image (zero padding without a
/// padded copy), then the activation. One kernel per conv:
///
///   scf.forall (g, pb) in (G, ⌈P/256⌉)         #gpu.block<y, x>
///     forall (tx) in (256)                     #gpu.thread<x>
///       p = pb·256 + tx, if p < P: out[n, g, o...] = act(bias[g] + Σ w·x)
///
/// Consecutive threads take consecutive pixels, so loads and stores
/// coalesce along the output rows.
static LogicalResult lowerDepthwise(ConvOp op, const ConvShape &s) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Emitter e(b, loc);
  auto outType = cast<RankedTensorType>(op.getType());
  Value x = asBuffer(b, loc, op.getInput());
  Value w = asBuffer(b, loc, op.getWeight());
  Value bias = op.getBias() ? asBuffer(b, loc, op.getBias()) : Value();
  Value out = memref::AllocOp::create(
      b, loc, MemRefType::get(outType.getShape(), b.getF32Type()));
  FusedActivation act = getFusedActivation(op);
  int64_t pixels = s.pixels(), taps = s.taps();
  int64_t pBlocks = llvm::divideCeil(pixels, kDepthwiseThreads);
  SmallVector<int64_t> pixelDims = {s.batch}, tapDims = {s.cinPg};
  llvm::append_range(pixelDims, s.out);
  llvm::append_range(tapDims, s.kernel);

  ArrayAttr blockMapping = b.getArrayAttr(
      {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimY),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)});
  ArrayAttr threadMapping = b.getArrayAttr(
      {gpu::GPUThreadMappingAttr::get(ctx, gpu::MappingId::DimX)});
  SmallVector<OpFoldResult> grid = {b.getIndexAttr(s.groups),
                                    b.getIndexAttr(pBlocks)};
  scf::ForallOp::create(
      b, loc, grid, ValueRange(), blockMapping,
      [&](OpBuilder &, Location, ValueRange blockIvs) {
        Value g = blockIvs[0];
        scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(kDepthwiseThreads)},
            ValueRange(), threadMapping,
            [&](OpBuilder &, Location, ValueRange threadIvs) {
              Value p = e.affine(blockIvs[1], kDepthwiseThreads, 0);
              p = e.add(p, threadIvs[0]);
              Value inside =
                  pixels % kDepthwiseThreads ? e.lt(p, pixels) : Value();
              e.guarded(inside, [&] {
                SmallVector<Value> pix = delinearize(e, p, pixelDims);
                // The weight at tap (ci, k...) times the input there, or 0
                // outside the image.
                auto term = [&](Value acc, ArrayRef<Value> tap) {
                  SmallVector<Value> xidx = {
                      pix[0], e.add(e.mul(g, e.idx(s.cinPg)), tap[0])};
                  SmallVector<Value> conds;
                  appendInputPositions(e, s, pix, tap, xidx, conds);
                  SmallVector<Value> widx = {g};
                  widx.append(tap.begin(), tap.end());
                  Value wv = memref::LoadOp::create(b, loc, w, widx);
                  Value xv = e.guardedLoad(e.andAll(conds), x, xidx);
                  return math::FmaOp::create(b, loc, wv, xv, acc).getResult();
                };
                Value acc =
                    bias ? memref::LoadOp::create(b, loc, bias, ValueRange{g})
                               .getResult()
                         : e.zero();
                if (taps <= kMaxUnrolledTaps) {
                  for (int64_t k = 0; k < taps; ++k) {
                    SmallVector<Value> tap;
                    for (int64_t i = tapDims.size() - 1, r = k; i >= 0; --i) {
                      tap.insert(tap.begin(), e.idx(r % tapDims[i]));
                      r /= tapDims[i];
                    }
                    acc = term(acc, tap);
                  }
                } else {
                  auto loop = scf::ForOp::create(
                      b, loc, e.idx(0), e.idx(taps), e.idx(1), ValueRange{acc},
                      [&](OpBuilder &nb, Location nl, Value k, ValueRange cur) {
                        OpBuilder::InsertionGuard guard(b);
                        b.setInsertionPoint(nb.getInsertionBlock(),
                                            nb.getInsertionPoint());
                        Value next = term(cur[0], delinearize(e, k, tapDims));
                        scf::YieldOp::create(b, loc, next);
                      });
                  acc = loop.getResult(0);
                }
                SmallVector<Value> oidx = {pix[0], g};
                oidx.append(pix.begin() + 1, pix.end());
                memref::StoreOp::create(
                    b, loc, applyActivation(b, loc, acc, act), out, oidx);
              });
              scf::InParallelOp::create(b, loc);
            });
        scf::InParallelOp::create(b, loc);
      });

  return replaceWithBuffer(
      op, b, out,
      llvm::formatv("depthwise schedule: grid {0}x{1} blocks of {2} "
                    "threads, one output pixel per thread, {3} taps {4}",
                    s.groups, pBlocks, kDepthwiseThreads, taps,
                    taps <= kMaxUnrolledTaps ? "unrolled" : "in a loop")
          .str());
}

static LogicalResult lowerConv(ConvOp op, const Options &opts) {
  auto inType = dyn_cast<RankedTensorType>(op.getInput().getType());
  auto wType = dyn_cast<RankedTensorType>(op.getWeight().getType());
  auto outType = dyn_cast<RankedTensorType>(op.getType());
  if (!inType || !wType || !outType || !inType.hasStaticShape() ||
      !wType.hasStaticShape() || !outType.hasStaticShape())
    return remarkLeft(op, "dynamic shapes");
  if (!inType.getElementType().isF32())
    return remarkLeft(op, "not f32");
  int64_t rank = inType.getRank(), sd = rank - 2;
  ConvShape s;
  s.batch = inType.getDimSize(0);
  s.groups = op.getGroups();
  s.cinPg = wType.getDimSize(1);
  s.m = wType.getDimSize(0) / s.groups;
  for (int64_t d = 0; d < sd; ++d) {
    s.in.push_back(inType.getDimSize(2 + d));
    s.kernel.push_back(wType.getDimSize(2 + d));
    s.out.push_back(outType.getDimSize(2 + d));
    s.strides.push_back(op.getStrides()[d]);
    s.dilations.push_back(op.getDilations()[d]);
    s.padBegin.push_back(op.getPadding()[d]);
  }
  if (s.m == 1)
    return lowerDepthwise(op, s);
  Tiles t = chooseTiles(s, opts);
  if (t.tm <= 0 || t.tn <= 0 || t.bk <= 0 || t.bm % t.tm || t.bn % t.tn)
    return remarkLeft(op, llvm::formatv("tiles {0}x{1} not a multiple of the "
                                        "thread tile {2}x{3}",
                                        t.bm, t.bn, t.tm, t.tn)
                              .str());
  if (t.threads() > kMaxThreads)
    return remarkLeft(op, llvm::formatv("{0} threads per block (at most {1})",
                                        t.threads(), kMaxThreads)
                              .str());
  if (opts.workgroup && t.sharedBytes(false) > kSharedLimit)
    return remarkLeft(op, llvm::formatv("{0} bytes of shared memory (at most "
                                        "{1})",
                                        t.sharedBytes(false), kSharedLimit)
                              .str());

  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Emitter e(b, loc);
  Type f32 = b.getF32Type();
  Value x = asBuffer(b, loc, op.getInput());
  Value w = asBuffer(b, loc, op.getWeight());
  Value bias = op.getBias() ? asBuffer(b, loc, op.getBias()) : Value();
  Value out =
      memref::AllocOp::create(b, loc, MemRefType::get(outType.getShape(), f32));
  FusedActivation act = getFusedActivation(op);

  int64_t pixels = s.pixels(), taps = s.taps();
  int64_t mBlocks = llvm::divideCeil(s.m, t.bm);
  int64_t nBlocks = llvm::divideCeil(pixels, t.bn);
  int64_t steps = llvm::divideCeil(taps, t.bk);
  int64_t slices =
      chooseSlices(s.groups * mBlocks * nBlocks, steps, opts.targetBlocks);
  int64_t sliceTaps = llvm::divideCeil(steps, slices) * t.bk;
  // A split reduction: slice `sl` of the blocks accumulates taps
  // [sl·sliceTaps, (sl+1)·sliceTaps) into partial[sl], and a flat loop after
  // the schedule adds the bias and the partials in slice order and applies
  // the activation.
  Value partial;
  if (slices > 1)
    partial = memref::AllocOp::create(
        b, loc, MemRefType::get({slices, s.groups * s.m, pixels}, f32));
  Attribute space;
  if (opts.workgroup)
    space = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto scratch = [&](int64_t d0, int64_t d1) -> Value {
    auto type =
        MemRefType::get({d0, d1}, f32, MemRefLayoutAttrInterface(), space);
    return memref::AllocOp::create(b, loc, type);
  };

  // Output pixel `p` -> (n, o...) and tap `k` -> (ci, k...).
  auto delinearize = [&](Value v, ArrayRef<int64_t> dims) {
    return ::delinearize(e, v, dims);
  };
  SmallVector<int64_t> pixelDims = {s.batch}, tapDims = {s.cinPg};
  llvm::append_range(pixelDims, s.out);
  llvm::append_range(tapDims, s.kernel);

  ArrayAttr blockMapping = b.getArrayAttr(
      {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimZ),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimY),
       gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)});
  SmallVector<OpFoldResult> grid = {b.getIndexAttr(s.groups * slices),
                                    b.getIndexAttr(mBlocks),
                                    b.getIndexAttr(nBlocks)};
  scf::ForallOp::create(
      b, loc, grid, ValueRange(), blockMapping,
      [&](OpBuilder &, Location, ValueRange blockIvs) {
        // z = g·slices + sl.
        Value g = e.div(blockIvs[0], slices);
        Value sl = slices > 1 ? e.rem(blockIvs[0], slices) : Value();
        Value m0 = e.mul(blockIvs[1], e.idx(t.bm));
        Value n0 = e.mul(blockIvs[2], e.idx(t.bn));
        Value gm = e.mul(g, e.idx(s.m));
        Value gc = e.mul(g, e.idx(s.cinPg));
        Value ws = scratch(t.bk, t.bm);
        Value xs = scratch(t.bk, t.bn);
        bool mTail = s.m % t.bm != 0, nTail = pixels % t.bn != 0,
             kTail = taps % t.bk != 0;
        // A thread's channel i and pixel j within the block tile.
        auto row = [&](Value ty, int64_t i) {
          return e.affine(ty, 1, i * t.ty());
        };
        auto col = [&](Value tx, int64_t j) {
          return e.affine(tx, 1, j * t.tx());
        };
        // The accumulators' start: the bias (unless the slices add it).
        auto initValue = [&](Value ty, int64_t i) {
          Value co = e.add(m0, row(ty, i));
          return bias && slices == 1
                     ? e.guardedLoad(mTail ? e.lt(co, s.m) : Value(), bias,
                                     {e.add(gm, co)})
                     : e.zero();
        };
        // Stage weights [BK, BM] and input taps [BK, BN] for the taps from
        // k0, each thread taking every T-th element (taps fastest for the
        // weights, which are contiguous along them; pixels fastest for the
        // input).
        auto stage = [&](Value ty, Value tx, Value k0) {
          Value tid = e.add(e.mul(ty, e.idx(t.tx())), tx);
          e.forEachShare(tid, t.threads(), t.bk * t.bm, [&](Value i) {
            Value mm = e.div(i, t.bk), kk = e.rem(i, t.bk);
            Value co = e.add(m0, mm), k = e.add(k0, kk);
            SmallVector<Value> conds;
            if (mTail)
              conds.push_back(e.lt(co, s.m));
            if (kTail)
              conds.push_back(e.lt(k, taps));
            SmallVector<Value> tap = delinearize(k, tapDims);
            SmallVector<Value> widx = {e.add(gm, co)};
            llvm::append_range(widx, tap);
            Value v = e.guardedLoad(e.andAll(conds), w, widx);
            memref::StoreOp::create(b, loc, v, ws, ValueRange{kk, mm});
          });
          e.forEachShare(tid, t.threads(), t.bk * t.bn, [&](Value i) {
            Value kk = e.div(i, t.bn), nn = e.rem(i, t.bn);
            Value p = e.add(n0, nn), k = e.add(k0, kk);
            SmallVector<Value> conds;
            if (nTail)
              conds.push_back(e.lt(p, pixels));
            if (kTail)
              conds.push_back(e.lt(k, taps));
            SmallVector<Value> pix = delinearize(p, pixelDims);
            SmallVector<Value> tap = delinearize(k, tapDims);
            SmallVector<Value> xidx = {pix[0], e.add(gc, tap[0])};
            appendInputPositions(e, s, pix, tap, xidx, conds);
            Value v = e.guardedLoad(e.andAll(conds), x, xidx);
            memref::StoreOp::create(b, loc, v, xs, ValueRange{kk, nn});
          });
        };
        // BK fused multiply-adds into each of the thread's TM x TN
        // accumulators (taps beyond K were staged as zeros).
        auto accumulate = [&](Value ty, Value tx, ValueRange accs) {
          SmallVector<Value> rows, cols;
          for (int64_t i = 0; i < t.tm; ++i)
            rows.push_back(row(ty, i));
          for (int64_t j = 0; j < t.tn; ++j)
            cols.push_back(col(tx, j));
          auto inner = scf::ForOp::create(
              b, loc, e.idx(0), e.idx(t.bk), e.idx(1), accs,
              [&](OpBuilder &nb, Location nl, Value kk, ValueRange cur) {
                SmallVector<Value> wv, xv, next;
                for (int64_t i = 0; i < t.tm; ++i)
                  wv.push_back(memref::LoadOp::create(nb, nl, ws,
                                                      ValueRange{kk, rows[i]}));
                for (int64_t j = 0; j < t.tn; ++j)
                  xv.push_back(memref::LoadOp::create(nb, nl, xs,
                                                      ValueRange{kk, cols[j]}));
                for (int64_t i = 0; i < t.tm; ++i)
                  for (int64_t j = 0; j < t.tn; ++j)
                    next.push_back(math::FmaOp::create(nb, nl, wv[i], xv[j],
                                                       cur[i * t.tn + j]));
                scf::YieldOp::create(nb, nl, next);
              });
          return SmallVector<Value>(inner.getResults());
        };
        // The thread's result for channel row i, pixel column j: to the
        // partial sums of its slice, or activated to the output (NCHW).
        auto finish = [&](Value ty, Value tx, int64_t i, int64_t j, Value v) {
          Value co = e.add(m0, row(ty, i));
          Value p = e.add(n0, col(tx, j));
          SmallVector<Value> conds;
          if (mTail)
            conds.push_back(e.lt(co, s.m));
          if (nTail)
            conds.push_back(e.lt(p, pixels));
          e.guarded(e.andAll(conds), [&] {
            if (slices > 1) {
              memref::StoreOp::create(b, loc, v, partial,
                                      ValueRange{sl, e.add(gm, co), p});
              return;
            }
            v = applyActivation(b, loc, v, act);
            SmallVector<Value> pix = delinearize(p, pixelDims);
            SmallVector<Value> oidx = {pix[0], e.add(gm, co)};
            oidx.append(pix.begin() + 1, pix.end());
            memref::StoreOp::create(b, loc, v, out, oidx);
          });
        };

        // The reduction over taps, BK at a time.
        Value kBegin = e.idx(0), kEnd = e.idx(taps);
        if (slices > 1) {
          kBegin = e.mul(sl, e.idx(sliceTaps));
          kEnd = arith::MinUIOp::create(b, loc, e.affine(kBegin, 1, sliceTaps),
                                        e.idx(taps));
        }

        if (opts.workgroup) {
          // On the GPU: one thread phase, the accumulators in registers
          // across the whole reduction, a barrier after each staging and
          // after each slab's multiply-adds.
          threadPhase(b, loc, t, [&](Value ty, Value tx) {
            SmallVector<Value> init;
            for (int64_t i = 0; i < t.tm; ++i) {
              Value v = initValue(ty, i);
              init.append(t.tn, v);
            }
            auto kLoop = scf::ForOp::create(
                b, loc, kBegin, kEnd, e.idx(t.bk), init,
                [&](OpBuilder &nb, Location nl, Value k0, ValueRange accs) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPoint(nb.getInsertionBlock(),
                                      nb.getInsertionPoint());
                  stage(ty, tx, k0);
                  gpu::BarrierOp::create(b, loc);
                  SmallVector<Value> next = accumulate(ty, tx, accs);
                  gpu::BarrierOp::create(b, loc);
                  scf::YieldOp::create(b, loc, next);
                });
            for (int64_t i = 0; i < t.tm; ++i)
              for (int64_t j = 0; j < t.tn; ++j)
                finish(ty, tx, i, j, kLoop.getResult(i * t.tn + j));
          });
        } else {
          // As sequential loops (the CPU run of the schedule): phases
          // between which the accumulators live in a [BM, BN] buffer.
          Value acc = scratch(t.bm, t.bn);
          threadPhase(b, loc, t, [&](Value ty, Value tx) {
            for (int64_t i = 0; i < t.tm; ++i) {
              Value v = initValue(ty, i);
              for (int64_t j = 0; j < t.tn; ++j)
                memref::StoreOp::create(b, loc, v, acc,
                                        ValueRange{row(ty, i), col(tx, j)});
            }
          });
          auto kLoop = scf::ForOp::create(b, loc, kBegin, kEnd, e.idx(t.bk));
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(kLoop.getBody()->getTerminator());
          Value k0 = kLoop.getInductionVar();
          threadPhase(b, loc, t,
                      [&](Value ty, Value tx) { stage(ty, tx, k0); });
          threadPhase(b, loc, t, [&](Value ty, Value tx) {
            SmallVector<Value> accs;
            for (int64_t i = 0; i < t.tm; ++i)
              for (int64_t j = 0; j < t.tn; ++j)
                accs.push_back(memref::LoadOp::create(
                    b, loc, acc, ValueRange{row(ty, i), col(tx, j)}));
            SmallVector<Value> next = accumulate(ty, tx, accs);
            for (int64_t i = 0; i < t.tm; ++i)
              for (int64_t j = 0; j < t.tn; ++j)
                memref::StoreOp::create(b, loc, next[i * t.tn + j], acc,
                                        ValueRange{row(ty, i), col(tx, j)});
          });
          b.setInsertionPointAfter(kLoop);
          threadPhase(b, loc, t, [&](Value ty, Value tx) {
            for (int64_t i = 0; i < t.tm; ++i)
              for (int64_t j = 0; j < t.tn; ++j)
                finish(ty, tx, i, j,
                       memref::LoadOp::create(
                           b, loc, acc, ValueRange{row(ty, i), col(tx, j)}));
          });
        }
        scf::InParallelOp::create(b, loc);
      });

  if (slices > 1) {
    // out[n, c, o...] = act(bias[c] + partial[0][c][p] + partial[1][c][p]
    // + ...), p the pixel (n, o...) linearized.
    SmallVector<Value> lbs, ubs, stepsOne;
    for (int64_t d : outType.getShape()) {
      lbs.push_back(e.idx(0));
      ubs.push_back(e.idx(d));
      stepsOne.push_back(e.idx(1));
    }
    scf::ParallelOp::create(
        b, loc, lbs, ubs, stepsOne,
        [&](OpBuilder &nb, Location nl, ValueRange ivs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value c = ivs[1];
          Value p = ivs[0];
          for (int64_t d = 0; d < sd; ++d)
            p = e.add(e.mul(p, e.idx(s.out[d])), ivs[2 + d]);
          Value v = bias ? memref::LoadOp::create(b, loc, bias, ValueRange{c})
                               .getResult()
                         : e.zero();
          for (int64_t k = 0; k < slices; ++k)
            v = arith::AddFOp::create(
                b, loc, v,
                memref::LoadOp::create(b, loc, partial,
                                       ValueRange{e.idx(k), c, p}));
          memref::StoreOp::create(b, loc, applyActivation(b, loc, v, act), out,
                                  ivs);
        });
  }

  return replaceWithBuffer(
      op, b, out,
      (llvm::formatv("tiled schedule: grid {0}x{1}x{2} blocks of {3}x{4} "
                     "threads, tile {5} channels x {6} pixels x {7} taps, "
                     "{8}x{9} per thread, {10} bytes staged",
                     s.groups * slices, mBlocks, nBlocks, t.ty(), t.tx(), t.bm,
                     t.bn, t.bk, t.tm, t.tn, t.sharedBytes(!opts.workgroup))
           .str() +
       (slices > 1
            ? llvm::formatv("; reduction split in {0} slices of "
                            "{1} taps, summed{2} by a flat loop",
                            slices, sliceTaps, bias ? " with the bias" : "")
                  .str()
            : std::string())));
}

/// An f32 `qfuse.linear` with static shapes as a 1x1 `qfuse.conv`: input
/// [N, K] -> [N, K, 1, 1], weight [M, K] -> [M, K, 1, 1], the result back to
/// [N, M]. As a flat kernel a classifier is one thread per output, each a
/// K-long loop reading a weight row that no neighbour shares a cache line
/// with; as a conv its weights are staged and its reduction split.
static void linearAsConv(LinearOp op) {
  auto inType = dyn_cast<RankedTensorType>(op.getInput().getType());
  auto wType = dyn_cast<RankedTensorType>(op.getWeight().getType());
  auto outType = dyn_cast<RankedTensorType>(op.getType());
  if (!inType || !wType || !outType || !inType.hasStaticShape() ||
      !wType.hasStaticShape() || !inType.getElementType().isF32()) {
    (void)remarkLeft(op, "a linear layer with dynamic shapes or not f32");
    return;
  }
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<ReassociationIndices> toMatrix = {{0}, {1, 2, 3}};
  auto as4d = [&](Value v, RankedTensorType t) -> Value {
    auto type = RankedTensorType::get({t.getDimSize(0), t.getDimSize(1), 1, 1},
                                      t.getElementType());
    return tensor::ExpandShapeOp::create(b, loc, type, v, toMatrix);
  };
  auto convType = RankedTensorType::get(
      {outType.getDimSize(0), outType.getDimSize(1), 1, 1},
      outType.getElementType());
  Value conv = ConvOp::create(
      b, loc, convType, as4d(op.getInput(), inType),
      as4d(op.getWeight(), wType), op.getBias(), b.getDenseI64ArrayAttr({1, 1}),
      b.getDenseI64ArrayAttr({0, 0, 0, 0}), b.getDenseI64ArrayAttr({1, 1}),
      b.getI64IntegerAttr(1), op.getActivationAttr(), op.getClampMinAttr(),
      op.getClampMaxAttr());
  op.replaceAllUsesWith(
      tensor::CollapseShapeOp::create(b, loc, conv, toMatrix).getResult());
  op.erase();
}

struct ConvertQFuseToGPUTilesPass
    : public qfuse::impl::ConvertQFuseToGPUTilesBase<
          ConvertQFuseToGPUTilesPass> {
  using Base::Base;
  void runOnOperation() override {
    Options opts{tileChannels,   tilePixels,   tileReduction,
                 threadChannels, threadPixels, memorySpace == "workgroup",
                 targetBlocks};
    if (memorySpace != "workgroup" && memorySpace != "default") {
      getOperation()->emitError()
          << "convert-qfuse-to-gpu-tiles: memory-space must be workgroup or "
             "default, not '"
          << memorySpace << "'";
      return signalPassFailure();
    }
    SmallVector<LinearOp> linears;
    getOperation()->walk([&](LinearOp op) { linears.push_back(op); });
    for (LinearOp op : linears)
      linearAsConv(op);
    SmallVector<ConvOp> work;
    getOperation()->walk([&](ConvOp op) { work.push_back(op); });
    for (ConvOp op : work)
      (void)lowerConv(op, opts);
  }
};

} // namespace
