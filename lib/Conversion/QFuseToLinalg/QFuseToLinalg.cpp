//===- QFuseToLinalg.cpp - lower qfuse ops to linalg on tensors -----------===//
//
// Convolutions are written as one linalg.generic correlation per op over the
// grouped view of the tensors:
//
//   out[n, g, co, o...] += in[n, g, ci, o·s + k·d] · w[g, co, ci, k]
//
// accumulating onto the broadcast bias, then an elementwise epilogue in place
// on the result for the fused activation (and the f32 -> f16/bf16 rounding).
// A transposed convolution is the same correlation on the input dilated by
// the stride and padded by d·(K−1) − pad, with the kernel read flipped.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"
#include "qfuse/Dialect/QFuse/Utils/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_CONVERTQFUSETOLINALG
#define GEN_PASS_DEF_CHECKLOWERED
#define GEN_PASS_DEF_EXPANDQAT
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

using utils::IteratorType;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Accumulator / compute type: f32 for f16 and bf16, the type itself else.
static Type computeType(Type elt) {
  if (elt.isF16() || elt.isBF16())
    return Float32Type::get(elt.getContext());
  return elt;
}

static Value castFloat(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  if (cast<FloatType>(from).getWidth() < cast<FloatType>(to).getWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  return arith::TruncFOp::create(b, loc, to, v);
}

/// acc + x·w for the contractions (conv, linear), marked `contract` so that
/// LLVM may fuse it into one FMA (one rounding instead of two; CPUs with FMA
/// and the NVPTX backend both do).
static Value multiplyAdd(OpBuilder &b, Location loc, Value x, Value w,
                         Value acc) {
  if (isa<IntegerType>(acc.getType()))
    return arith::AddIOp::create(b, loc, acc,
                                 arith::MulIOp::create(b, loc, x, w));
  auto contract = arith::FastMathFlagsAttr::get(
      b.getContext(), arith::FastMathFlags::contract);
  Value prod = arith::MulFOp::create(b, loc, x, w, contract);
  return arith::AddFOp::create(b, loc, acc, prod, contract);
}

static Value floatConst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

/// tensor.empty with the shape of `like` (dynamic sizes read from it).
static Value emptyLike(OpBuilder &b, Location loc, Value like, Type elt) {
  auto type = cast<RankedTensorType>(like.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  (void)type;
  return tensor::EmptyOp::create(b, loc, sizes, elt);
}

/// Applies `act` to `v` (already in the compute type).
static Value applyActivation(OpBuilder &b, Location loc, Value v,
                             const FusedActivation &act) {
  if (act.kind == ActivationKind::none)
    return v;
  Type t = v.getType();
  v = arith::MaximumFOp::create(b, loc, v, floatConst(b, loc, t, act.min));
  if (act.kind == ActivationKind::clamp)
    v = arith::MinimumFOp::create(b, loc, v, floatConst(b, loc, t, act.max));
  return v;
}

/// Elementwise epilogue on `acc` (compute type): activation, then rounding to
/// `elt`. In place when the types agree.
static Value epilogue(OpBuilder &b, Location loc, Value acc, Type elt,
                      const FusedActivation &act) {
  auto accType = cast<RankedTensorType>(acc.getType());
  if (act.kind == ActivationKind::none && accType.getElementType() == elt)
    return acc;
  int64_t rank = accType.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  SmallVector<IteratorType> par(rank, IteratorType::parallel);
  bool inPlace = accType.getElementType() == elt;
  Value init = inPlace ? acc : emptyLike(b, loc, acc, elt);
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  if (!inPlace) {
    ins.push_back(acc);
    maps.push_back(id);
  }
  maps.push_back(id);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps, par,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = applyActivation(nb, nloc, args[0], act);
        linalg::YieldOp::create(nb, nloc, castFloat(nb, nloc, v, elt));
      });
  return generic.getResult(0);
}

/// The accumulator initialised with the bias broadcast along `channelDims`
/// (the result dims that index the bias through `biasMap`), or zero.
static Value biasInit(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      Type accType, Value bias, AffineMap biasMap) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, accType);
  if (!bias) {
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(accType));
    return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty})
        .getResult(0);
  }
  int64_t rank = shape.size();
  SmallVector<IteratorType> par(rank, IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{empty.getType()}, ValueRange{bias},
             ValueRange{empty},
             SmallVector<AffineMap>{biasMap, b.getMultiDimIdentityMap(rank)},
             par,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nloc, castFloat(nb, nloc, args[0], accType));
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Convolution core
//===----------------------------------------------------------------------===//

/// out = activation(bias + correlate(input, weight)); input already padded
/// (and dilated for a transposed convolution).
struct Correlation {
  Value input;  // [N, Cin, D...], static shape
  Value weight; // conv: [Cout, Cin/G, K...]; transposed: [Cin, Cout/G, K...]
  Value bias;   // [Cout] or null
  bool transposed = false;
  SmallVector<int64_t> strides, dilations;
  int64_t groups = 1;
  FusedActivation act;
  RankedTensorType resultType; // [N, Cout, O...]
};

static Value buildCorrelation(OpBuilder &b, Location loc,
                              const Correlation &c) {
  MLIRContext *ctx = b.getContext();
  auto inType = cast<RankedTensorType>(c.input.getType());
  auto wType = cast<RankedTensorType>(c.weight.getType());
  Type elt = c.resultType.getElementType();
  Type acc = computeType(elt);
  int64_t s = inType.getRank() - 2, g = c.groups;
  int64_t n = inType.getDimSize(0), cin = inType.getDimSize(1);
  int64_t cout = c.resultType.getDimSize(1);
  int64_t cinPg = cin / g, coutPg = cout / g;

  // Grouped views: input [N, G, Cin/G, D...]; weight [G, Cout/G, Cin/G, K...]
  // (conv) or [G, Cin/G, Cout/G, K...] (transposed); out [N, G, Cout/G, O...].
  auto dimsFrom = [](ArrayRef<int64_t> shape, int64_t from) {
    return SmallVector<int64_t>(shape.begin() + from, shape.end());
  };
  SmallVector<int64_t> inShape = {n, g, cinPg};
  llvm::append_range(inShape, dimsFrom(inType.getShape(), 2));
  SmallVector<ReassociationIndices> inAssoc = {{0}, {1, 2}};
  for (int64_t d = 0; d < s; ++d)
    inAssoc.push_back({d + 3});
  Value input = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(inShape, inType.getElementType()), c.input,
      inAssoc);

  SmallVector<int64_t> wShape =
      c.transposed ? SmallVector<int64_t>{g, cinPg, coutPg}
                   : SmallVector<int64_t>{g, coutPg, cinPg};
  llvm::append_range(wShape, dimsFrom(wType.getShape(), 2));
  SmallVector<ReassociationIndices> wAssoc = {{0, 1}, {2}};
  for (int64_t d = 0; d < s; ++d)
    wAssoc.push_back({d + 3});
  Value weight = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(wShape, wType.getElementType()), c.weight,
      wAssoc);

  SmallVector<int64_t> outShape = {n, g, coutPg};
  llvm::append_range(outShape, dimsFrom(c.resultType.getShape(), 2));

  // Loop dims: n, g, co | ci, k_1..k_s | o_1..o_s. The output's spatial dims
  // are innermost, so that the innermost loop walks output (and, for stride
  // 1, input) rows contiguously with the weight invariant: a loop LLVM's
  // vectorizer takes on.
  int64_t numLoops = 4 + 2 * s;
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  AffineExpr dN = dim(0), dG = dim(1), dCo = dim(2), dCi = dim(3);
  auto dK = [&](int64_t i) { return dim(4 + i); };
  auto dO = [&](int64_t i) { return dim(4 + s + i); };

  SmallVector<AffineExpr> inExprs = {dN, dG, dCi};
  SmallVector<AffineExpr> wExprs =
      c.transposed ? SmallVector<AffineExpr>{dG, dCi, dCo}
                   : SmallVector<AffineExpr>{dG, dCo, dCi};
  SmallVector<AffineExpr> outExprs = {dN, dG, dCo};
  for (int64_t i = 0; i < s; ++i) {
    int64_t kSize = wType.getDimSize(2 + i);
    AffineExpr tap = c.transposed ? (kSize - 1 - dK(i)) * c.dilations[i]
                                  : dK(i) * c.dilations[i];
    inExprs.push_back(dO(i) * c.strides[i] + tap);
    wExprs.push_back(dK(i));
    outExprs.push_back(dO(i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, inExprs, ctx),
                                 AffineMap::get(numLoops, 0, wExprs, ctx),
                                 AffineMap::get(numLoops, 0, outExprs, ctx)};
  SmallVector<IteratorType> iters(3, IteratorType::parallel);
  iters.append(1 + s, IteratorType::reduction);
  iters.append(s, IteratorType::parallel);

  // Bias [Cout] seen as [G, Cout/G] from the output dims.
  AffineMap biasMap;
  Value bias = c.bias;
  if (bias) {
    bias = tensor::ExpandShapeOp::create(
        b, loc,
        RankedTensorType::get({g, coutPg},
                              cast<ShapedType>(bias.getType()).getElementType()),
        bias, SmallVector<ReassociationIndices>{{0, 1}});
    biasMap = AffineMap::get(3 + s, 0, {dim(1), dim(2)}, ctx);
  }
  Value init = biasInit(b, loc, outShape, acc, bias, biasMap);

  auto conv = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input, weight},
      ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value x = castFloat(nb, nloc, args[0], acc);
        Value w = castFloat(nb, nloc, args[1], acc);
        linalg::YieldOp::create(nb, nloc, multiplyAdd(nb, nloc, x, w, args[2]));
      });
  Value result = epilogue(b, loc, conv.getResult(0), elt, c.act);

  SmallVector<ReassociationIndices> outAssoc = {{0}, {1, 2}};
  for (int64_t d = 0; d < s; ++d)
    outAssoc.push_back({d + 3});
  return tensor::CollapseShapeOp::create(b, loc, c.resultType, result,
                                         outAssoc);
}

/// Zero-pads the spatial dims of `input` by [low, high] (negative: crop).
static Value padOrCrop(OpBuilder &b, Location loc, Value input,
                       ArrayRef<int64_t> low, ArrayRef<int64_t> high) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank(), s = rank - 2;
  // Crop first where an amount is negative.
  bool crop = llvm::any_of(low, [](int64_t v) { return v < 0; }) ||
              llvm::any_of(high, [](int64_t v) { return v < 0; });
  if (crop) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
        strides(rank, b.getIndexAttr(1));
    for (int64_t d = 0; d < rank; ++d)
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    for (int64_t i = 0; i < s; ++i) {
      int64_t lo = std::max<int64_t>(0, -low[i]);
      int64_t hi = std::max<int64_t>(0, -high[i]);
      offsets[2 + i] = b.getIndexAttr(lo);
      sizes[2 + i] = b.getIndexAttr(type.getDimSize(2 + i) - lo - hi);
    }
    input = tensor::ExtractSliceOp::create(b, loc, input, offsets, sizes,
                                           strides);
    type = cast<RankedTensorType>(input.getType());
  }
  bool pad = llvm::any_of(low, [](int64_t v) { return v > 0; }) ||
             llvm::any_of(high, [](int64_t v) { return v > 0; });
  if (!pad)
    return input;
  SmallVector<int64_t> lo(rank, 0), hi(rank, 0), shape(type.getShape());
  for (int64_t i = 0; i < s; ++i) {
    lo[2 + i] = std::max<int64_t>(0, low[i]);
    hi[2 + i] = std::max<int64_t>(0, high[i]);
    shape[2 + i] += lo[2 + i] + hi[2 + i];
  }
  Value zero =
      arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
  SmallVector<OpFoldResult> loF, hiF;
  for (int64_t d = 0; d < rank; ++d) {
    loF.push_back(b.getIndexAttr(lo[d]));
    hiF.push_back(b.getIndexAttr(hi[d]));
  }
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input, loF,
      hiF, zero);
}

static bool hasStaticOperands(Operation *op) {
  return llvm::all_of(op->getOperandTypes(), [](Type t) {
    return cast<ShapedType>(t).hasStaticShape();
  });
}

static LogicalResult requireStatic(PatternRewriter &rewriter, Operation *op) {
  if (!hasStaticOperands(op))
    return rewriter.notifyMatchFailure(
        op, "lowering needs static shapes on every operand");
  return success();
}

/// The fields shared by both convolution ops; `input` is already padded.
template <typename OpTy>
static Correlation makeCorrelation(OpTy op, Value input) {
  Correlation c;
  c.input = input;
  c.weight = op.getWeight();
  c.bias = op.getBias();
  c.strides.assign(op.getStrides().begin(), op.getStrides().end());
  c.dilations.assign(op.getDilations().begin(), op.getDilations().end());
  c.groups = op.getGroups();
  c.act = getFusedActivation(op);
  c.resultType = op.getType();
  return c;
}

struct ConvLowering : public OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStatic(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    int64_t s = op.getNumSpatialDims();
    ArrayRef<int64_t> pad = op.getPadding();
    Correlation c = makeCorrelation(
        op, padOrCrop(rewriter, loc, op.getInput(), pad.take_front(s),
                      pad.drop_front(s)));
    rewriter.replaceOp(op, buildCorrelation(rewriter, loc, c));
    return success();
  }
};

struct ConvTransposeLowering : public OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStatic(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto inType = op.getInput().getType();
    auto wType = op.getWeight().getType();
    int64_t s = op.getNumSpatialDims(), rank = inType.getRank();
    ArrayRef<int64_t> strides = op.getStrides(), pad = op.getPadding(),
                      dil = op.getDilations(), outPad = op.getOutputPadding();

    // Dilate the input by the stride: x at positions i·stride of a zero
    // tensor of size (D−1)·stride + 1.
    Value input = op.getInput();
    if (llvm::any_of(strides, [](int64_t v) { return v != 1; })) {
      SmallVector<int64_t> shape(inType.getShape());
      for (int64_t i = 0; i < s; ++i)
        shape[2 + i] = (shape[2 + i] - 1) * strides[i] + 1;
      Value empty =
          tensor::EmptyOp::create(rewriter, loc, shape, inType.getElementType());
      Value zero = floatConst(rewriter, loc, inType.getElementType(), 0.0);
      Value zeros = linalg::FillOp::create(rewriter, loc, ValueRange{zero},
                                           ValueRange{empty})
                        .getResult(0);
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes,
          steps(rank, rewriter.getIndexAttr(1));
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(rewriter.getIndexAttr(inType.getDimSize(d)));
      for (int64_t i = 0; i < s; ++i)
        steps[2 + i] = rewriter.getIndexAttr(strides[i]);
      input = tensor::InsertSliceOp::create(rewriter, loc, input, zeros,
                                            offsets, sizes, steps);
    }
    SmallVector<int64_t> low, high;
    for (int64_t i = 0; i < s; ++i) {
      int64_t span = dil[i] * (wType.getDimSize(2 + i) - 1);
      low.push_back(span - pad[i]);
      high.push_back(span - pad[s + i] + outPad[i]);
    }
    // Stride 1 over the dilated input, kernel read flipped.
    Correlation c =
        makeCorrelation(op, padOrCrop(rewriter, loc, input, low, high));
    c.transposed = true;
    c.strides.assign(s, 1);
    rewriter.replaceOp(op, buildCorrelation(rewriter, loc, c));
    return success();
  }
};

/// y[n, o] = bias[o] + sum_i x[n, i] · w[o, i] in `accType` (no epilogue).
static Value buildLinear(OpBuilder &b, Location loc, Value x, Value w,
                         Value bias, ArrayRef<int64_t> shape, Type accType) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  Value init =
      biasInit(b, loc, shape, accType, bias, AffineMap::get(2, 0, {d(1)}, ctx));
  // Loops (n, o, i): y[n, o] += x[n, i] · w[o, i].
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {d(0), d(2)}, ctx),
                                 AffineMap::get(3, 0, {d(1), d(2)}, ctx),
                                 AffineMap::get(3, 0, {d(0), d(1)}, ctx)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{x, w},
             ValueRange{init}, maps,
             {IteratorType::parallel, IteratorType::parallel,
              IteratorType::reduction},
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nloc,
                   multiplyAdd(nb, nloc, castFloat(nb, nloc, args[0], accType),
                               castFloat(nb, nloc, args[1], accType),
                               args[2]));
             })
      .getResult(0);
}

struct LinearLowering : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStatic(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    Type elt = op.getType().getElementType(), acc = computeType(elt);
    Value mm = buildLinear(rewriter, loc, op.getInput(), op.getWeight(),
                           op.getBias(), op.getType().getShape(), acc);
    rewriter.replaceOp(
        op, epilogue(rewriter, loc, mm, elt, getFusedActivation(op)));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

/// Builds an elementwise linalg.generic producing a tensor shaped like
/// `input` with element type `resultElt` (default: the input's); `operands`
/// are read through `operandMaps`, `body` gets (input, operands).
static Value buildElementwise(
    OpBuilder &b, Location loc, Value input, ArrayRef<Value> operands,
    ArrayRef<AffineMap> operandMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    Type resultElt = {}) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto type = resultElt ? inType.clone(resultElt) : inType;
  int64_t rank = type.getRank();
  SmallVector<Value> ins = {input};
  llvm::append_range(ins, operands);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  llvm::append_range(maps, operandMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyLike(b, loc, input, type.getElementType());
  SmallVector<IteratorType> par(rank, IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ins, ValueRange{init}, maps, par,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

struct BatchNormLowering : public OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = op.getInput().getType().getRank();
    Type elt = op.getType().getElementType(), ct = computeType(elt);
    double eps = op.getEpsilon().convertToDouble();
    // As PyTorch's CPU inference kernel: alpha = γ / sqrt(σ² + ε) and
    // shift = β − μ·alpha once per channel (in the compute type), then
    // y = x·alpha + shift per element. Computing alpha per element instead
    // (a division and a square root each) ran 144×56×56 at 1.25 ms, not
    // vectorized.
    bool hasScale = op.getScale() != nullptr,
         hasOffset = op.getOffset() != nullptr;
    auto perChannel =
        [&](SmallVector<Value> operands,
            function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
          AffineMap id = rewriter.getMultiDimIdentityMap(1);
          return buildElementwise(
              rewriter, loc, operands.front(), ArrayRef(operands).drop_front(),
              SmallVector<AffineMap>(operands.size() - 1, id), body, ct);
        };
    SmallVector<Value> alphaIns = {op.getVariance()};
    if (hasScale)
      alphaIns.push_back(op.getScale());
    Value alpha =
        perChannel(alphaIns, [&](OpBuilder &b, Location l, ValueRange a) {
          Value var = castFloat(b, l, a[0], ct);
          Value v = arith::DivFOp::create(
              b, l, floatConst(b, l, ct, 1.0),
              math::SqrtOp::create(
                  b, l,
                  arith::AddFOp::create(b, l, var, floatConst(b, l, ct, eps))));
          if (hasScale)
            v = arith::MulFOp::create(b, l, v, castFloat(b, l, a[1], ct));
          return v;
        });
    SmallVector<Value> shiftIns = {op.getMean(), alpha};
    if (hasOffset)
      shiftIns.push_back(op.getOffset());
    Value shift = perChannel(shiftIns, [&](OpBuilder &b, Location l,
                                           ValueRange a) {
      Value v = arith::NegFOp::create(
          b, l, arith::MulFOp::create(b, l, castFloat(b, l, a[0], ct), a[1]));
      if (hasOffset)
        v = arith::AddFOp::create(b, l, castFloat(b, l, a[2], ct), v);
      return v;
    });
    AffineMap channel = AffineMap::get(
        rank, 0, {getAffineDimExpr(1, op.getContext())}, op.getContext());
    Value result = buildElementwise(
        rewriter, loc, op.getInput(), {alpha, shift}, {channel, channel},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value x = castFloat(b, l, a[0], ct);
          Value y = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, x, a[1]), a[2]);
          return castFloat(b, l, y, elt);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy>
struct ActivationLowering : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    FusedActivation act;
    if constexpr (std::is_same_v<OpTy, ReluOp>) {
      act.kind = ActivationKind::relu;
      act.min = 0.0;
    } else {
      act.kind = ActivationKind::clamp;
      act.min = op.getMin().convertToDouble();
      act.max = op.getMax().convertToDouble();
    }
    Value result = buildElementwise(
        rewriter, op.getLoc(), op.getInput(), {}, {},
        [&](OpBuilder &b, Location l, ValueRange a) {
          return applyActivation(b, l, a[0], act);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// How a tensor of rank `rank` reads its quantization parameter `param`
/// (scale or zero point): along `axis`, else its single element.
static AffineMap quantParamMap(MLIRContext *ctx, int64_t rank, Value param,
                               std::optional<int64_t> axis) {
  if (axis)
    return AffineMap::get(rank, 0, {getAffineDimExpr(*axis, ctx)}, ctx);
  if (cast<ShapedType>(param.getType()).getRank() == 0)
    return AffineMap::get(rank, 0, {}, ctx);
  return AffineMap::get(rank, 0, {getAffineConstantExpr(0, ctx)}, ctx);
}

/// q = clamp(roundeven(x / s) + zp, qmin, qmax), all in the float type of
/// `x` (fake_quant and quantize share it, so they agree bit for bit). NaN
/// maps to qmin in quantize (maxnumf), and stays NaN in fake_quant.
static Value quantizeValue(OpBuilder &b, Location l, Value x, Value s,
                           Value zp, double qmin, double qmax,
                           bool nanToMin) {
  Type ct = x.getType();
  Value q = math::RoundEvenOp::create(b, l, arith::DivFOp::create(b, l, x, s));
  q = arith::AddFOp::create(b, l, q, zp);
  Value lo = floatConst(b, l, ct, qmin), hi = floatConst(b, l, ct, qmax);
  if (nanToMin)
    return arith::MinNumFOp::create(b, l, arith::MaxNumFOp::create(b, l, q, lo),
                                    hi);
  return arith::MinimumFOp::create(b, l, arith::MaximumFOp::create(b, l, q, lo),
                                   hi);
}

struct FakeQuantLowering : public OpRewritePattern<FakeQuantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FakeQuantOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rank = op.getInput().getType().getRank();
    AffineMap paramMap = quantParamMap(op.getContext(), rank, op.getScale(),
                                       op.getAxis());
    Type elt = op.getType().getElementType(), ct = computeType(elt);
    // I64Attr accessors return uint64_t; read the signed value.
    double qmin = op.getQuantMinAttr().getInt();
    double qmax = op.getQuantMaxAttr().getInt();
    Value result = buildElementwise(
        rewriter, op.getLoc(), op.getInput(),
        {op.getScale(), op.getZeroPoint()}, {paramMap, paramMap},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          // q = clamp(roundeven(x / s) + zp); y = (q − zp)·s.
          Value s = castFloat(b, l, a[1], ct);
          Value zp = arith::SIToFPOp::create(b, l, ct, a[2]);
          Value q = quantizeValue(b, l, castFloat(b, l, a[0], ct), s, zp,
                                  qmin, qmax, /*nanToMin=*/false);
          Value y = arith::MulFOp::create(
              b, l, arith::SubFOp::create(b, l, q, zp), s);
          return castFloat(b, l, y, elt);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Integer deploy path
//===----------------------------------------------------------------------===//

using quant::castInt;

struct QuantizeLowering : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rank = op.getInput().getType().getRank();
    AffineMap paramMap = quantParamMap(op.getContext(), rank, op.getScale(),
                                       op.getAxis());
    Type ct = computeType(op.getInput().getType().getElementType());
    double qmin = op.getQuantMinAttr().getInt();
    double qmax = op.getQuantMaxAttr().getInt();
    Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type();
    Value result = buildElementwise(
        rewriter, op.getLoc(), op.getInput(),
        {op.getScale(), op.getZeroPoint()}, {paramMap, paramMap},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value zp = arith::SIToFPOp::create(b, l, ct, a[2]);
          Value q = quantizeValue(b, l, castFloat(b, l, a[0], ct),
                                  castFloat(b, l, a[1], ct), zp, qmin, qmax,
                                  /*nanToMin=*/true);
          // In range, so exact; uint8 values keep their bits in i8.
          return castInt(b, l, arith::FPToSIOp::create(b, l, i32, q), i8);
        },
        i8);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct DequantizeLowering : public OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rank = op.getInput().getType().getRank();
    AffineMap paramMap = quantParamMap(op.getContext(), rank, op.getScale(),
                                       op.getAxis());
    Type elt = op.getType().getElementType(), ct = computeType(elt);
    Type i64 = rewriter.getI64Type();
    bool isUnsigned = op.getUint8();
    Value result = buildElementwise(
        rewriter, op.getLoc(), op.getInput(),
        {op.getScale(), op.getZeroPoint()}, {paramMap, paramMap},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          // (q − zp) exactly in i64, then one conversion and one product.
          Value diff = arith::SubIOp::create(
              b, l, castInt(b, l, a[0], i64, isUnsigned),
              castInt(b, l, a[2], i64));
          Value y = arith::MulFOp::create(
              b, l, arith::SIToFPOp::create(b, l, ct, diff),
              castFloat(b, l, a[1], ct));
          return castFloat(b, l, y, elt);
        },
        elt);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// `v - zp` as i32 (`v` int8, or uint8 when `isUnsigned`); `zp` is read
/// along `axis` when it holds more than one element.
static Value centre(OpBuilder &b, Location loc, Value v, Value zp,
                    bool isUnsigned, int64_t axis) {
  int64_t rank = cast<ShapedType>(v.getType()).getRank();
  auto zpType = cast<ShapedType>(zp.getType());
  std::optional<int64_t> zpAxis;
  if (zpType.getRank() == 1 && zpType.getDimSize(0) != 1)
    zpAxis = axis;
  Type i32 = b.getI32Type();
  return buildElementwise(
      b, loc, v, {zp}, {quantParamMap(b.getContext(), rank, zp, zpAxis)},
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return arith::SubIOp::create(nb, l, castInt(nb, l, a[0], i32, isUnsigned),
                                     castInt(nb, l, a[1], i32));
      },
      i32);
}

/// The requantize epilogue of qfuse.qconv / qfuse.qlinear on the i32
/// accumulator `acc` (output channels along dim 1), elementwise:
///   y = clamp(roundeven(f64(acc) · M[c]) + zy, lo, hi)
/// with the parameters of quant::buildRequantParams.
static Value requantize(OpBuilder &b, Location loc, Operation *op,
                        Value acc) {
  MLIRContext *ctx = b.getContext();
  auto accType = cast<RankedTensorType>(acc.getType());
  int64_t rank = accType.getRank();
  quant::RequantParams p =
      quant::buildRequantParams(b, loc, op, accType.getDimSize(1));
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap channel =
      AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
  Value init = tensor::EmptyOp::create(b, loc, accType.getShape(),
                                       b.getI8Type());
  SmallVector<IteratorType> par(rank, IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{acc, p.multiplier},
             ValueRange{init}, SmallVector<AffineMap>{id, channel, id}, par,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(
                   nb, l, quant::requantizeValue(nb, l, a[0], a[1], p));
             })
      .getResult(0);
}

struct QConvLowering : public OpRewritePattern<QConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QConvOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStatic(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    int64_t s = op.getNumSpatialDims();
    ArrayRef<int64_t> pad = op.getPadding();
    // Centring first makes the padding value 0 (the input zero point's real
    // value), so the float correlation's padding and loops apply unchanged.
    Value x = centre(rewriter, loc, op.getInput(), op.getInputZeroPoint(),
                     op.getInputUint8(), 1);
    Correlation c = makeCorrelation(
        op, padOrCrop(rewriter, loc, x, pad.take_front(s), pad.drop_front(s)));
    c.weight = centre(rewriter, loc, op.getWeight(), op.getWeightZeroPoint(),
                      op.getWeightUint8(), 0);
    // The i32 accumulator; the activation belongs to the requantize.
    c.act = FusedActivation();
    c.resultType = op.getType().clone(rewriter.getI32Type());
    Value acc = buildCorrelation(rewriter, loc, c);
    rewriter.replaceOp(op, op.hasRequantize()
                               ? requantize(rewriter, loc, op, acc)
                               : acc);
    return success();
  }
};

struct QLinearLowering : public OpRewritePattern<QLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QLinearOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStatic(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    Value x = centre(rewriter, loc, op.getInput(), op.getInputZeroPoint(),
                     op.getInputUint8(), 1);
    Value w = centre(rewriter, loc, op.getWeight(), op.getWeightZeroPoint(),
                     op.getWeightUint8(), 0);
    Value acc = buildLinear(rewriter, loc, x, w, op.getBias(),
                            op.getType().getShape(), rewriter.getI32Type());
    rewriter.replaceOp(op, op.hasRequantize()
                               ? requantize(rewriter, loc, op, acc)
                               : acc);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// QatConvBnOp
//===----------------------------------------------------------------------===//

/// A linalg.generic over the 1-D channel tensors `ins` producing one tensor
/// per type in `outTypes` (all [C]).
static SmallVector<Value>
channelGeneric(OpBuilder &b, Location loc, int64_t channels, ValueRange ins,
               ArrayRef<Type> outTypes,
               function_ref<SmallVector<Value>(OpBuilder &, Location,
                                               ValueRange)>
                   body) {
  SmallVector<Value> outs;
  SmallVector<Type> types;
  for (Type t : outTypes) {
    outs.push_back(tensor::EmptyOp::create(b, loc, {channels}, t));
    types.push_back(RankedTensorType::get({channels}, t));
  }
  SmallVector<AffineMap> maps(ins.size() + outs.size(),
                              b.getMultiDimIdentityMap(1));
  auto generic = linalg::GenericOp::create(
      b, loc, types, ins, outs, maps, {IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc,
                                body(nb, nloc, args.take_front(ins.size())));
      });
  return SmallVector<Value>(generic.getResults());
}

/// Sum over every dim but 1 of `f(y, channel values...)`, in f64: [C] f64.
static Value channelReduce(
    OpBuilder &b, Location loc, Value y, ValueRange perChannel,
    function_ref<Value(OpBuilder &, Location, Value, ValueRange)> term) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(y.getType());
  int64_t rank = type.getRank(), channels = type.getDimSize(1);
  Type f64 = b.getF64Type();
  Value init = tensor::EmptyOp::create(b, loc, {channels}, f64);
  Value zero = floatConst(b, loc, f64, 0.0);
  init = linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{init})
             .getResult(0);
  AffineMap channel = AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<Value> ins = {y};
  for (Value v : perChannel) {
    ins.push_back(v);
    maps.push_back(channel);
  }
  maps.push_back(channel);
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters[1] = IteratorType::parallel;
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value v = castFloat(nb, nloc, args[0], f64);
               Value t = term(nb, nloc, v,
                              args.drop_front().drop_back());
               linalg::YieldOp::create(
                   nb, nloc,
                   arith::AddFOp::create(nb, nloc, args.back(), t).getResult());
             })
      .getResult(0);
}

/// PyTorch's approximate ConvBn forward (docs/Numerics.md):
///   k   = γ / sqrt(σ²_run + ε)      (k = 0 replaced by 1: see below)
///   y   = conv(x, fq(W·k)) / k + b
///   z   = batch_norm(y)  with batch (train) or running (frozen) statistics
///   out = activation(z)
/// and, in train mode, the running statistics updated with momentum m and
/// the unbiased batch variance. Where γ = 0, PyTorch computes 0/0 = NaN; here
/// that channel uses k = 1 (the weight unscaled, no division): its output is
/// γ·(...) + β = β exactly, whatever finite y is.
struct QatConvBnLowering : public OpRewritePattern<QatConvBnOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QatConvBnOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStatic(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto outType = cast<RankedTensorType>(op.getOutput().getType());
    auto statType = cast<RankedTensorType>(op.getRunningMean().getType());
    Type elt = outType.getElementType(), ct = computeType(elt);
    Type f64 = rewriter.getF64Type();
    int64_t rank = outType.getRank(), channels = statType.getDimSize(0);
    double eps = op.getEpsilon().convertToDouble();
    double momentum = op.getMomentum().convertToDouble();
    bool train = op.getMode() == QatMode::train;
    Value gamma = op.getScale(), beta = op.getOffset(), bias = op.getBias();

    // k (guarded) in f64.
    SmallVector<Value> kIns = {op.getRunningVar()};
    if (gamma)
      kIns.push_back(gamma);
    Value k = channelGeneric(
        rewriter, loc, channels, kIns, {f64},
        [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
          Value var = castFloat(b, l, a[0], f64);
          Value std = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, var, floatConst(b, l, f64, eps)));
          Value g = gamma ? castFloat(b, l, a[1], f64) : floatConst(b, l, f64, 1.0);
          Value kk = arith::DivFOp::create(b, l, g, std);
          Value isZero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                               kk, floatConst(b, l, f64, 0.0));
          return {arith::SelectOp::create(b, l, isZero,
                                          floatConst(b, l, f64, 1.0), kk)};
        })[0];

    // fq(W·k), then the convolution without bias or activation.
    int64_t groups = op.getGroups();
    Value w = fold::scaleAlongOutputChannels(rewriter, loc, op.getWeight(), k,
                                             op.getTransposed(), groups);
    if (op.hasWeightQuant()) {
      auto fq = FakeQuantOp::create(
          rewriter, loc, w.getType(), w, op.getWeightScale(),
          op.getWeightZeroPoint(), op.getWeightAxisAttr(),
          op.getWeightQuantMinAttr(), op.getWeightQuantMaxAttr());
      w = fq.getResult();
    }
    Value y;
    if (op.isLinear()) {
      y = LinearOp::create(rewriter, loc, outType, op.getInput(), w, Value(),
                           ActivationKindAttr::get(ctx, ActivationKind::none),
                           FloatAttr(), FloatAttr());
    } else if (op.getTransposed()) {
      y = ConvTransposeOp::create(
          rewriter, loc, outType, op.getInput(), w, Value(),
          op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr(),
          op.getGroupsAttr(), op.getOutputPaddingAttr(),
          ActivationKindAttr::get(ctx, ActivationKind::none), FloatAttr(),
          FloatAttr());
    } else {
      y = ConvOp::create(rewriter, loc, outType, op.getInput(), w, Value(),
                         op.getStridesAttr(), op.getPaddingAttr(),
                         op.getDilationsAttr(), op.getGroupsAttr(),
                         ActivationKindAttr::get(ctx, ActivationKind::none),
                         FloatAttr(), FloatAttr());
    }

    // y / k + b.
    AffineMap channel = AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
    SmallVector<Value> perChannel = {k};
    if (bias)
      perChannel.push_back(bias);
    y = buildElementwise(
        rewriter, loc, y, perChannel,
        SmallVector<AffineMap>(perChannel.size(), channel),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value v = arith::DivFOp::create(b, l, castFloat(b, l, a[0], ct),
                                          castFloat(b, l, a[1], ct));
          if (bias)
            v = arith::AddFOp::create(b, l, v, castFloat(b, l, a[2], ct));
          return castFloat(b, l, v, elt);
        });

    // Normalisation statistics.
    Value mean = op.getRunningMean(), var = op.getRunningVar();
    Value newMean = mean, newVar = var;
    int64_t n = outType.getNumElements() / channels;
    if (train) {
      Value sum = channelReduce(rewriter, loc, y, {},
                                [](OpBuilder &, Location, Value v, ValueRange) {
                                  return v;
                                });
      mean = channelGeneric(
          rewriter, loc, channels, {sum}, {f64},
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, a[0],
                                          floatConst(b, l, f64, n))};
          })[0];
      Value sq = channelReduce(
          rewriter, loc, y, {mean},
          [](OpBuilder &b, Location l, Value v, ValueRange m) -> Value {
            Value d = arith::SubFOp::create(b, l, v, m[0]);
            return arith::MulFOp::create(b, l, d, d);
          });
      var = channelGeneric(
          rewriter, loc, channels, {sq}, {f64},
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, a[0],
                                          floatConst(b, l, f64, n))};
          })[0];
      Type statElt = statType.getElementType();
      auto updated = channelGeneric(
          rewriter, loc, channels,
          {op.getRunningMean(), op.getRunningVar(), mean, var},
          {statElt, statElt},
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value m = floatConst(b, l, f64, momentum);
            Value keep = floatConst(b, l, f64, 1.0 - momentum);
            Value unbiased = arith::MulFOp::create(
                b, l, a[3], floatConst(b, l, f64, double(n) / double(n - 1)));
            auto blend = [&](Value old, Value batch) {
              return castFloat(
                  b, l,
                  arith::AddFOp::create(
                      b, l,
                      arith::MulFOp::create(b, l, keep,
                                            castFloat(b, l, old, f64)),
                      arith::MulFOp::create(b, l, m, batch)),
                  statElt);
            };
            return {blend(a[0], a[2]), blend(a[1], unbiased)};
          });
      newMean = updated[0];
      newVar = updated[1];
    }

    // z = (y − mean) / sqrt(var + ε) · γ + β, then the activation.
    FusedActivation act = getFusedActivation(op);
    SmallVector<Value> bnIns = {mean, var};
    if (gamma)
      bnIns.push_back(gamma);
    if (beta)
      bnIns.push_back(beta);
    Value z = buildElementwise(
        rewriter, loc, y, bnIns, SmallVector<AffineMap>(bnIns.size(), channel),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          unsigned i = 1;
          Value v = castFloat(b, l, a[0], ct);
          Value m = castFloat(b, l, a[i++], ct);
          Value s = castFloat(b, l, a[i++], ct);
          Value inv = arith::DivFOp::create(
              b, l, floatConst(b, l, ct, 1.0),
              math::SqrtOp::create(
                  b, l, arith::AddFOp::create(b, l, s, floatConst(b, l, ct, eps))));
          if (gamma)
            inv = arith::MulFOp::create(b, l, inv, castFloat(b, l, a[i++], ct));
          v = arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, v, m), inv);
          if (beta)
            v = arith::AddFOp::create(b, l, v, castFloat(b, l, a[i++], ct));
          return castFloat(b, l, applyActivation(b, l, v, act), elt);
        });
    rewriter.replaceOp(op, {z, newMean, newVar});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Passes
//===----------------------------------------------------------------------===//

struct ConvertQFuseToLinalgPass
    : public qfuse::impl::ConvertQFuseToLinalgBase<ConvertQFuseToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    target.addIllegalDialect<QFuseDialect>();
    // The vector kernels' ops: bufferization turns prefetches and
    // non-temporal writes into memref and vector ops, the others
    // (qfuse-lower-dot-pairs) are lowered after threading.
    target.addLegalOp<DotPairsOp, DotQuadsOp, PairSumsOp, PrefetchOp,
                      NontemporalWriteOp, StoreFenceOp>();
    // No lowering for dynamic shapes: left in place for qfuse-check-lowered
    // to name.
    target.addDynamicallyLegalOp<ConvOp, ConvTransposeOp, LinearOp,
                                 QatConvBnOp, QConvOp, QLinearOp>(
        [](Operation *op) { return !hasStaticOperands(op); });
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateQFuseToLinalgPatterns(patterns);
    ConversionConfig config;
    config.allowPatternRollback = false;
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns), config)))
      return signalPassFailure();
    // Relayouts that no kernel took in (channel-blocked activations around
    // an op left to the generic loops) as pad/expand/transpose and back,
    // which bufferize.
    SmallVector<Operation *> relayouts;
    getOperation()->walk([&](Operation *op) {
      if (isa<linalg::PackOp, linalg::UnPackOp>(op))
        relayouts.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : relayouts) {
      rewriter.setInsertionPoint(op);
      bool lowered =
          isa<linalg::PackOp>(op)
              ? succeeded(linalg::lowerPack(rewriter, cast<linalg::PackOp>(op)))
              : succeeded(
                    linalg::lowerUnPack(rewriter, cast<linalg::UnPackOp>(op)));
      if (!lowered) {
        op->emitError() << "'" << op->getName()
                        << "' could not be lowered to pad, expand_shape and "
                           "transpose (or back)";
        return signalPassFailure();
      }
    }
  }
};

struct ExpandQatPass : public qfuse::impl::ExpandQatBase<ExpandQatPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandQatPatterns(patterns);
    // Only the QAT ops are rewritten; the qfuse ops they expand into stay.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};

struct CheckLoweredPass
    : public qfuse::impl::CheckLoweredBase<CheckLoweredPass> {
  void runOnOperation() override {
    bool found = false;
    getOperation()->walk([&](Operation *op) {
      if (!isa<QFuseDialect>(op->getDialect()) ||
          isa<DotPairsOp, DotQuadsOp, PairSumsOp, PrefetchOp,
              NontemporalWriteOp, StoreFenceOp>(op))
        return;
      found = true;
      InFlightDiagnostic diag = op->emitError()
                                << "'" << op->getName()
                                << "' is left after lowering";
      if (isa<ConvOp, ConvTransposeOp, LinearOp, QatConvBnOp, QConvOp,
              QLinearOp>(op))
        diag << ": its lowering needs static shapes on every operand";
    });
    if (found)
      signalPassFailure();
  }
};

} // namespace

void mlir::qfuse::populateQFuseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvTransposeLowering, LinearLowering,
               BatchNormLowering, ActivationLowering<ReluOp>,
               ActivationLowering<ClampOp>, FakeQuantLowering,
               QatConvBnLowering, QuantizeLowering, DequantizeLowering,
               QConvLowering, QLinearLowering>(
      patterns.getContext());
}

void mlir::qfuse::populateExpandQatPatterns(RewritePatternSet &patterns) {
  patterns.add<QatConvBnLowering>(patterns.getContext());
}
