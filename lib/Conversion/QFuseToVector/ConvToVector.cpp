//===- ConvToVector.cpp - register-tiled vector kernels for qfuse convs ---===//
//
// Lowers f32 qfuse.conv and qfuse.linear ops to explicit register-tiled
// kernels written with scf and vector ops on tensors. The kernels keep NCHW
// at their boundary, so they drop into any graph the generic lowering takes.
//
// Dense (and grouped) convolutions, with `V` vectors of 8 output channels and
// `P` output pixels per register tile:
//
//   wp[cb, ci, k..., j] = w[cb·8V + j, ci, k...]        (packed once)
//   for cb, pixel tile q0 (outer loop order chosen per shape, one is an
//   scf.forall over the threads):
//     acc[p][v] = bias[cb·8V + 8v : +8]                 (V·P vector registers)
//     for ci, k...:                                     (last k unrolled)
//       acc[p][v] = fma(broadcast(x[n, ci, o_p·s + k·d]), wp[cb, ci, k, 8v:+8],
//                       acc[p][v])
//     out[n, cb·8V + 8v + j, q0 : q0+P] = act(acc[.][v][j])  (transposed store)
//
// Constant weights are packed at compile time; others by a linalg.transpose.
// Depthwise 2-D convolutions vectorize along the output width instead: up to
// four 8-wide vectors of one output row accumulate the KH·KW taps, read from
// the unpadded plane (reads at the padding are narrowed; a stride s reads
// w·s contiguous inputs and picks every s-th). Linear layers are
// the dense kernel with the batch as pixels, stored without a transpose.
//
// Integer convolutions (qfuse.qconv) take the dense kernel on channel pairs
// (two centred int16 per i32 broadcast, qfuse.dot_pairs = vpmaddwd) or on
// channel quads (four uint8 per i32, qfuse.dot_quads = vpdpbusd, or its
// AVX2 form where int16 pair sums are proven), and depthwise ones the f32
// depthwise kernel on centred values (exact below 2^24).
//
// What is not taken (a remark says why) goes on to convert-qfuse-to-linalg.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
#include "PoolToVector.h"
#include "qfuse/Conversion/IntegerIsa.h"
#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"
#include "qfuse/Dialect/QFuse/Utils/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_CONVERTQFUSETOVECTOR
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;
using namespace mlir::qfuse::kernels;

namespace {

/// Vector registers the register tile may hold as accumulators.
constexpr int64_t kAccumulators = 12;
/// Pixel tiles per group in the pixel-tile-outermost loop order (at most).
constexpr int64_t kMaxTileGroup = 4;

//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

// (cIdx and splat: KernelBuilders.h.)

static Value addIdx(OpBuilder &b, Location loc, Value a, int64_t c) {
  if (c == 0)
    return a;
  return arith::AddIOp::create(b, loc, a, cIdx(b, loc, c));
}

static Value mulIdx(OpBuilder &b, Location loc, Value a, int64_t c) {
  if (c == 1)
    return a;
  return arith::MulIOp::create(b, loc, a, cIdx(b, loc, c));
}

/// The body of forCarrying: the next value from the induction variable and
/// the current one.
using CarriedBody = function_ref<Value(OpBuilder &, Location, Value, Value)>;

/// An scf.for over [from, to) by `step` that carries one value from `init`
/// through `body`; its result. (Most of the kernels' loops thread one
/// tensor, the destination, through their iterations.)
static Value forCarrying(OpBuilder &b, Location loc, int64_t from, int64_t to,
                         int64_t step, Value init, CarriedBody body) {
  return scf::ForOp::create(
             b, loc, cIdx(b, loc, from), cIdx(b, loc, to), cIdx(b, loc, step),
             ValueRange{init},
             [&](OpBuilder &nb, Location nl, Value iv, ValueRange it) {
               scf::YieldOp::create(nb, nl, body(nb, nl, iv, it[0]));
             })
      .getResult(0);
}

/// A 1-D in-bounds read of `width` elements at `indices` (last index
/// innermost).
static Value readVector(OpBuilder &b, Location loc, Value source,
                        ValueRange indices, int64_t width) {
  Type elt = cast<ShapedType>(source.getType()).getElementType();
  auto type = VectorType::get({width}, elt);
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
  SmallVector<bool> inBounds = {true};
  return vector::TransferReadOp::create(b, loc, type, source, indices, pad,
                                        ArrayRef<bool>(inBounds));
}

static Value writeVector(OpBuilder &b, Location loc, Value v, Value dest,
                         ValueRange indices) {
  SmallVector<bool> inBounds = {true};
  return vector::TransferWriteOp::create(b, loc, v, dest, indices,
                                         ArrayRef<bool>(inBounds))
      .getResult();
}

/// [N, C, D...] as [N, C, Q]: each channel's pixels contiguous.
static Value collapseSpatial(OpBuilder &b, Location loc, Value x) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<ReassociationIndices> assoc = {{0}, {1}, {}};
  for (int64_t i = 2; i < rank; ++i)
    assoc[2].push_back(i);
  return tensor::CollapseShapeOp::create(b, loc, x, assoc);
}

/// The fused activation on a vector accumulator; the same NaN-propagating
/// arith.maximumf / minimumf as the generic lowering.
static Value activate(OpBuilder &b, Location loc, Value v,
                      const FusedActivation &act) {
  if (act.kind == ActivationKind::none)
    return v;
  int64_t width = cast<VectorType>(v.getType()).getDimSize(0);
  v = arith::MaximumFOp::create(b, loc, v, splat(b, loc, width, act.min));
  if (act.kind == ActivationKind::clamp)
    v = arith::MinimumFOp::create(b, loc, v, splat(b, loc, width, act.max));
  return v;
}

static Value padPlanes(OpBuilder &b, Location loc, Value input,
                       ArrayRef<int64_t> pad, Value padValue);

/// Pads the spatial dims of an NCHW-style tensor by [low, high] with
/// `padValue` (null: zero).
static Value padSpatial(OpBuilder &b, Location loc, Value input,
                        ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                        Value padValue = Value()) {
  if (llvm::all_of(low, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(high, [](int64_t v) { return v == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  // 2-D planes of f32 or i32 (packed channels): vector stores per plane.
  if (rank == 4 && type.getElementTypeBitWidth() == 32)
    return padPlanes(b, loc, input, {low[0], low[1], high[0], high[1]},
                     padValue);
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<OpFoldResult> lo(rank, b.getIndexAttr(0)),
      hi(rank, b.getIndexAttr(0));
  for (auto [i, l] : llvm::enumerate(low)) {
    lo[2 + i] = b.getIndexAttr(l);
    hi[2 + i] = b.getIndexAttr(high[i]);
    shape[2 + i] += l + high[i];
  }
  Value zero = padValue ? padValue
                        : arith::ConstantOp::create(
                              b, loc, b.getZeroAttr(type.getElementType()))
                              .getResult();
  return tensor::PadOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input, lo,
      hi, zero);
}

//===----------------------------------------------------------------------===//
// Dense kernel
//===----------------------------------------------------------------------===//

struct Options {
  int64_t vectors = 0, pixels = 0;
  std::string order = "auto";
  int64_t batchPrepareBytes = 512 * 1024;
  bool skipPadding = true;              // row tiles that skip the padding
  bool depthwisePairSums = true;        // emitDepthwisePairChunk
  int64_t prefetchBytes = 0;            // DepthwiseProblem::prefetchBytes
  int64_t prefetchMinBytes = 0;         // ... for inputs larger than this
  int64_t nontemporalMinBytes = 0;      // DepthwiseProblem::nontemporal
  bool blockDepthwise = true;           // blockDepthwiseChains
  bool integerKernels = true;           // take qfuse.qconv
  IntegerIsa isa = IntegerIsa::Generic; // what the integer kernels target
};

/// How one dense contraction is tiled.
struct DenseTiling {
  int64_t vectors = 0;  // V: 8-lane vectors per tile (channels, or pixels
                        // for a pointwise kernel)
  int64_t channels = 0; // output channels per tile
  int64_t pixels = 0;   // output pixels per tile
  bool weightsOuter = false;
  /// 2-D (see chooseRowTiles for when): each output row is split into the
  /// column tiles `rowTiles` (static first column and width), so that every
  /// pixel's column, and every tile's row, is known to the tile, which then
  /// skips the taps that read the spatial padding (DenseProblem::
  /// skipPadding).
  SmallVector<std::pair<int64_t, int64_t>> rowTiles;
  /// Rows wider than 4 tiles: full tiles with first columns in [rowLoopBegin,
  /// rowLoopEnd) (step `pixels`), whose taps all read input columns, run as
  /// a loop placed before rowTiles[rowLoopIndex]; the edge tiles stay static.
  int64_t rowLoopBegin = 0, rowLoopEnd = 0;
  size_t rowLoopIndex = 0;
};

/// A dense (grouped) convolution or a linear layer, shapes static.
struct DenseProblem {
  int64_t batch = 1, groups = 1, cinPg = 0, coutPg = 0, cout = 0;
  SmallVector<int64_t> kernel, strides, dilations, out; // spatial
  int64_t pixels = 0;     // product of `out` (linear: the batch)
  bool linear = false;    // x[q, ci], out[q, co]
  bool pointwise = false; // 1x1, stride 1, no padding: x[n, ci, q]
  Value input;            // conv: padded [N, Cin, D...]; pointwise [N, Cin,
                          // Q]; linear: [N, Cin]
  Value packed;           // [Cout/8V, Cin/G, K..., 8V]
  Value bias;             // [Cout] or null
  FusedActivation act;
  DenseTiling tiling;
  /// Integer mode (qfuse.qconv): `input` holds channel pairs as i32 [N,
  /// Cin/2, D...], `packed` is i16 [Cout/T, Cin/G/2, K..., 2T], the bias and
  /// the accumulators i32; `requant` set when the result is requantized.
  bool integer = false;
  std::optional<quant::RequantParams> requant;
  Type outElt; // element type of the result
  /// Quads form of integer mode: `input` holds four shifted uint8 channels
  /// per i32, `packed` is i8 [Cout/T, Cin/G/4, K..., 4T], the accumulators
  /// start at bias − zx'·compensation[c] (the input zero point, shifted,
  /// times the sum of the channel's centred weights).
  bool quads = false;
  bool pairsFitI16 = false;
  Value compensation;     // i32 [Cout]
  Value shiftedZeroPoint; // i32 scalar zx'
  /// Whether a multiply-add on the spatial padding adds exactly nothing, so
  /// that the row tiles may leave it out: f32 with finite constant weights
  /// (0·w = 0), integer pairs (centred, padded with 0), quads with zx' = 0.
  bool skipPadding = false;
  SmallVector<int64_t> padBefore, inSize; // spatial, of the unpadded input
  /// f32 row tiles: `input` is the unpadded [N, Cin, H, W] (its taps never
  /// reach the padding, so it is read in place, not padded in a pass).
  bool unpaddedInput = false;
  /// Channel-blocked ends (f32 2-D convolutions, see blockedSource and
  /// blockedUse): `input` is [N, Cin/8, H, W, 8] (padded in H and W like
  /// an NCHW one, or read in place by row tiles), the output [N, Cout/8, Q,
  /// 8], each pixel's 8 channels of a block one vector store.
  bool blockedInput = false, blockedOutput = false;
};

/// The loop order: `order` when forced, else the channel blocks outermost
/// exactly when the packed weights outweigh one (padded) input image.
static bool weightsOuter(StringRef order, int64_t weightBytes,
                         int64_t inputBytes) {
  if (order == "weights" || order == "input")
    return order == "weights";
  return weightBytes > inputBytes;
}

/// Register tile: the most output pixels that fit next to V accumulator
/// columns, V the largest of 2, 3, 1 that divides the channels per group.
/// The loop order keeps the larger of packed weights and input resident
/// (one walk over it), so deep layers stream their input and early layers
/// their weights.
static DenseTiling chooseDenseTiling(int64_t coutPg, int64_t weightBytes,
                                     int64_t inputBytes, int64_t pixels,
                                     int64_t forceVectors, int64_t forcePixels,
                                     StringRef order) {
  DenseTiling t;
  if (forceVectors > 0 && coutPg % (forceVectors * kLanes) == 0)
    t.vectors = forceVectors;
  else if (coutPg % (2 * kLanes) == 0)
    t.vectors = 2;
  else if (coutPg % (3 * kLanes) == 0)
    t.vectors = 3;
  else
    t.vectors = 1;
  t.channels = t.vectors * kLanes;
  t.pixels = forcePixels > 0 ? forcePixels : kAccumulators / t.vectors;
  t.pixels = std::max<int64_t>(1, std::min(t.pixels, pixels));
  t.weightsOuter = weightsOuter(order, weightBytes, inputBytes);
  return t;
}

/// Row tiles for a 2-D dense conv whose padding adds nothing (see
/// DenseTiling::rowTiles), either loop outermost: with the channel blocks
/// outermost (deep layers: small rows, where the padding taps are a large
/// share of the work, 18% at 7x7 with 3x3 taps) and with the pixels
/// outermost (then one output row per forall iteration; 56x56x64 int8 R
/// 1.12 -> 1.08; f32 at column stride 1, 2.3% faster than its flat 6-pixel
/// tiles on 1 thread and 2-3% on 2 in the kernel alone, once the tiles are
/// near-equal and the input is read in place, see
/// DenseProblem::unpaddedInput). A row of at most 4 register tiles is
/// split into as few tiles as the register tile allows, of near-equal
/// widths (a 7-wide row as 4 + 3 where 12 accumulators allow 6 pixels),
/// each emitted on its own; a wider row into as few tiles of two adjacent
/// widths, the wider ones whose taps all read the input in a loop, the
/// others static.
static void chooseRowTiles(DenseProblem &pr, ArrayRef<int64_t> pad,
                           ArrayRef<int64_t> inShape, const Options &opts) {
  if (!opts.skipPadding || !pr.skipPadding || pr.kernel.size() != 2 ||
      pr.pointwise || pr.linear ||
      llvm::all_of(pad, [](int64_t v) { return v == 0; }))
    return;
  // f32 at a column stride above 1 keeps its flat tiles, whose pixels share
  // fewer input columns per tap than a stride-1 row's: ResNet-18's conv1
  // (7x7/2, pixels outermost) ran 2.75-2.83 ms row-tiled against 2.57-2.62
  // flat, and its 3x3/2 downsampling convs (channel blocks outermost)
  // 1.81 against 1.23 ms (28x28x128 -> 14x14x256) and 2.27 against 1.32
  // (14x14x256 -> 7x7x512, row-tiled as 7 pixels x 8 channels).
  if (!pr.integer && pr.strides[1] != 1)
    return;
  int64_t width = pr.out[1];
  DenseTiling &t = pr.tiling;
  // f32: with the columns known, LLVM loads each input once for all the
  // taps that read it and keeps the P + KW − 1 broadcasts live across the
  // taps, next to the V·P accumulators; past V·P + P = 15 that spills
  // (28-wide rows at 16 channels x 6 pixels: 4.0 ms instead of 2.3). So at
  // most 5 pixels with 2 vectors, 7 with one. (The integer kernels, whose
  // dot ops take the broadcast word as it is, keep 12 / V.)
  auto maxPixels = [&](int64_t vectors) {
    return pr.integer ? kAccumulators / vectors : 15 / (vectors + 1);
  };
  bool forced = opts.vectors != 0 || opts.pixels != 0;
  // A row that one 8-channel vector's tile holds whole stays whole rather
  // than split in two for wider channel tiles (measured on ResNet-18's
  // 7x7x512 f32 layer: 2.45 ms as 7 pixels x 8 channels, 2.60 ms as
  // 4 + 3 pixels x 16 channels).
  if (!forced && width > maxPixels(t.vectors) && width <= maxPixels(1)) {
    t.vectors = 1;
    t.channels = kLanes;
    t.pixels = maxPixels(1);
  }
  if (!forced)
    t.pixels = std::min(t.pixels, maxPixels(t.vectors));
  pr.padBefore = {pad[0], pad[1]};
  pr.inSize = {inShape[2], inShape[3]};
  int64_t count = llvm::divideCeil(width, t.pixels);
  if (count <= 4) {
    int64_t tile = llvm::divideCeil(width, count);
    for (int64_t c = 0; c < width; c += tile)
      t.rowTiles.push_back({c, std::min(tile, width - c)});
    t.pixels = tile;
    return;
  }
  // As many tiles as the register tile needs, of near-equal widths: `wide`
  // tiles of `tile` columns, then tiles one column narrower (56 columns at
  // most 5 wide: 8 × 5 + 4 × 4, not 11 × 5 and a 1-wide tile, whose 2
  // accumulators cannot hide the FMA latency).
  int64_t base = width / count, extra = width % count;
  int64_t tile = extra ? base + 1 : base, wide = extra ? extra : count;
  int64_t sw = pr.strides[1];
  t.pixels = tile;
  // Output column o reads input columns o·sw − padLeft + j·dw: all inside
  // for o in [oLo, oHi]. The wide tiles inside run as a loop.
  int64_t reach = (pr.kernel[1] - 1) * pr.dilations[1];
  int64_t oLo = llvm::divideCeilSigned(pad[1], sw);
  int64_t oHi = llvm::divideFloorSigned(inShape[3] - 1 + pad[1] - reach, sw);
  int64_t kLo = std::min(wide, llvm::divideCeilSigned(oLo, tile));
  int64_t kHi =
      std::clamp<int64_t>(llvm::divideFloorSigned(oHi + 1, tile), kLo, wide);
  for (int64_t k = 0; k < kLo; ++k)
    t.rowTiles.push_back({k * tile, tile});
  t.rowLoopIndex = t.rowTiles.size();
  t.rowLoopBegin = kLo * tile;
  t.rowLoopEnd = kHi * tile;
  for (int64_t k = kHi; k < wide; ++k)
    t.rowTiles.push_back({k * tile, tile});
  for (int64_t c = wide * tile; c < width; c += base)
    t.rowTiles.push_back({c, base});
}

/// The remark's words for the row tiles, if any.
static std::string rowTilesRemark(const DenseProblem &pr) {
  const DenseTiling &t = pr.tiling;
  if (t.rowTiles.empty() && t.rowLoopEnd == t.rowLoopBegin)
    return "";
  int64_t loop = (t.rowLoopEnd - t.rowLoopBegin) / t.pixels;
  return llvm::formatv(", row tiles ({0} per row{1}) that skip the padding "
                       "taps",
                       t.rowTiles.size() + loop,
                       loop ? llvm::formatv(", {0} in a loop", loop).str()
                            : std::string())
      .str();
}

/// Pointwise register tile: C output channels by V 8-pixel vectors, C the
/// largest of 6, 4, 3, 2, 1 that divides the channels per group and
/// C·V = 12 (V at most 3 unless C < 3).
static DenseTiling choosePointwiseTiling(int64_t coutPg, int64_t weightBytes,
                                         int64_t inputBytes, int64_t pixels,
                                         int64_t forceVectors,
                                         int64_t forcePixels, StringRef order) {
  DenseTiling t;
  for (int64_t c : {6, 4, 3, 2, 1})
    if (coutPg % c == 0) {
      t.channels = c;
      break;
    }
  t.vectors = forceVectors > 0 ? forceVectors : kAccumulators / t.channels;
  if (forcePixels > 0)
    t.channels = std::max<int64_t>(1, kAccumulators / t.vectors);
  while (coutPg % t.channels != 0)
    --t.channels;
  t.pixels = std::max<int64_t>(1, std::min(t.vectors * kLanes, pixels));
  t.weightsOuter = weightsOuter(order, weightBytes, inputBytes);
  return t;
}

/// The pointwise kernels' input vectors `widths` wide along the pixels of
/// input channel (or packed word) `channel` of image `n` ([N, C, Q]), from
/// pixel q0 on.
static SmallVector<Value> readPixelVectors(OpBuilder &b, Location loc,
                                          Value input, Value n, Value channel,
                                          Value q0, ArrayRef<int64_t> widths) {
  SmallVector<Value> x;
  int64_t offset = 0;
  for (int64_t w : widths) {
    x.push_back(
        readVector(b, loc, input, {n, channel, addIdx(b, loc, q0, offset)}, w));
    offset += w;
  }
  return x;
}

/// Writes `vectors` one after the other along the pixels of output channel
/// `co` from pixel q ([prefix..., co, q] of `dest`).
static Value writePixelVectors(OpBuilder &b, Location loc, Value dest,
                               ValueRange prefix, Value co, Value q,
                               ArrayRef<Value> vectors) {
  int64_t offset = 0;
  for (Value v : vectors) {
    SmallVector<Value> idx(prefix.begin(), prefix.end());
    idx.push_back(co);
    idx.push_back(addIdx(b, loc, q, offset));
    dest = writeVector(b, loc, v, dest, idx);
    offset += cast<VectorType>(v.getType()).getDimSize(0);
  }
  return dest;
}

/// Index of the packed pointwise weights ([Cout/C, Cin/G, 1..., lanes]) of
/// channel block `cb`, reduction step `step`, lane `lane`.
static SmallVector<Value> pointwiseWeightIndex(OpBuilder &b, Location loc,
                                               const DenseProblem &pr,
                                               Value cb, Value step,
                                               int64_t lane) {
  SmallVector<Value> idx = {cb, step};
  idx.append(pr.kernel.size(), cIdx(b, loc, 0));
  idx.push_back(cIdx(b, loc, lane));
  return idx;
}

/// One pointwise tile: output channels [cb·C, cb·C+C) of pixels [q0,
/// q0+numPixels), vectors along the pixels (contiguous in NCHW), weights
/// broadcast. Written to `dest` at [prefix..., destCo + c, destQ + p].
static Value emitPointwiseTile(OpBuilder &b, Location loc,
                               const DenseProblem &pr, Value n, Value cb,
                               Value q0, int64_t numPixels, Value dest,
                               ValueRange prefix, Value destCo, Value destQ) {
  int64_t numCh = pr.tiling.channels;
  SmallVector<int64_t> widths;
  for (int64_t t = numPixels; t > 0; t -= std::min(t, kLanes))
    widths.push_back(std::min(t, kLanes));
  Value co0 = mulIdx(b, loc, cb, numCh);
  Value cinBase;
  if (pr.groups > 1) {
    Value g = arith::DivUIOp::create(b, loc, co0, cIdx(b, loc, pr.coutPg));
    cinBase = mulIdx(b, loc, g, pr.cinPg);
  }
  SmallVector<Value> init;
  for (int64_t c = 0; c < numCh; ++c) {
    Value bias;
    if (pr.bias)
      bias = tensor::ExtractOp::create(b, loc, pr.bias,
                                       ValueRange{addIdx(b, loc, co0, c)});
    for (int64_t w : widths)
      init.push_back(
          bias ? vector::BroadcastOp::create(
                     b, loc, VectorType::get({w}, b.getF32Type()), bias)
                     .getResult()
               : splat(b, loc, w, 0.0));
  }
  int64_t numW = widths.size();
  auto reduction = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, pr.cinPg), cIdx(b, loc, 1), init,
      [&](OpBuilder &nb, Location nl, Value ci, ValueRange accs) {
        Value channel =
            cinBase ? arith::AddIOp::create(nb, nl, cinBase, ci) : ci;
        SmallVector<Value> x =
            readPixelVectors(nb, nl, pr.input, n, channel, q0, widths);
        SmallVector<Value> next(accs.begin(), accs.end());
        for (int64_t c = 0; c < numCh; ++c) {
          Value w = tensor::ExtractOp::create(
              nb, nl, pr.packed, pointwiseWeightIndex(nb, nl, pr, cb, ci, c));
          for (auto [u, width] : llvm::enumerate(widths)) {
            Value wb = vector::BroadcastOp::create(
                nb, nl, VectorType::get({width}, nb.getF32Type()), w);
            Value &acc = next[c * numW + u];
            acc = vector::FMAOp::create(nb, nl, x[u], wb, acc);
          }
        }
        scf::YieldOp::create(nb, nl, next);
      });
  for (int64_t c = 0; c < numCh; ++c) {
    SmallVector<Value> row;
    for (int64_t u = 0; u < numW; ++u)
      row.push_back(
          activate(b, loc, reduction.getResult(c * numW + u), pr.act));
    dest = writePixelVectors(b, loc, dest, prefix, addIdx(b, loc, destCo, c),
                             destQ, row);
  }
  return dest;
}

/// Emits one P-pixel register tile of output-channel block `cb` starting at
/// pixel `q0` and writes it into `dest` at [prefix..., co0 + c, qd + p]
/// (conv, channel-major) or [prefix..., qd + p, co0 + c] (linear).
/// A register tile inside one output row: the row, and the first column.
struct RowTile {
  Value row;
  Value col0;
  /// col0 as a constant; unset in the loop over the interior tiles, whose
  /// taps all read input columns.
  std::optional<int64_t> col0Static;
};

static Value emitDenseTile(OpBuilder &b, Location loc, const DenseProblem &pr,
                           Value n, Value cb, Value q0, int64_t numPixels,
                           Value dest, ValueRange prefix, Value destCo,
                           Value destQ, const RowTile *rowTile) {
  int64_t numVec = pr.tiling.vectors, cot = numVec * kLanes;
  int64_t s = pr.kernel.size();
  // Reduction steps over input channels: one per channel, or per pair.
  int64_t perStep = pr.quads ? 4 : pr.integer ? 2 : 1;
  int64_t cinSteps = (pr.cinPg + perStep - 1) / perStep;
  Type accElt = pr.integer ? Type(b.getI32Type()) : Type(b.getF32Type());
  auto vecType = VectorType::get({kLanes}, accElt);
  auto pairType = VectorType::get({2 * kLanes}, b.getI16Type());
  auto quadType = VectorType::get({4 * kLanes}, b.getI8Type());

  // The tile's first output channel, its group's first input channel.
  Value co0 = mulIdx(b, loc, cb, cot);
  Value cinBase;
  if (pr.groups > 1) {
    Value g = arith::DivUIOp::create(b, loc, co0, cIdx(b, loc, pr.coutPg));
    cinBase = mulIdx(b, loc, g, cinSteps);
  }

  // Per pixel: the input position of tap 0 in each spatial dim.
  SmallVector<SmallVector<Value>> base(numPixels);
  for (int64_t p = 0; p < numPixels; ++p) {
    Value q = addIdx(b, loc, q0, p);
    if (rowTile) {
      base[p] = {mulIdx(b, loc, rowTile->row, pr.strides[0]),
                 mulIdx(b, loc, addIdx(b, loc, rowTile->col0, p),
                        pr.strides[1])};
      continue;
    }
    if (pr.linear) {
      base[p].push_back(q);
      continue;
    }
    int64_t inner = pr.pixels;
    for (int64_t i = 0; i < s; ++i) {
      inner /= pr.out[i];
      Value o = q;
      if (inner > 1)
        o = arith::DivUIOp::create(b, loc, o, cIdx(b, loc, inner));
      if (i > 0)
        o = arith::RemUIOp::create(b, loc, o, cIdx(b, loc, pr.out[i]));
      base[p].push_back(mulIdx(b, loc, o, pr.strides[i]));
    }
  }

  SmallVector<Value> biasVec;
  for (int64_t v = 0; v < numVec; ++v)
    biasVec.push_back(
        pr.bias ? readVector(b, loc, pr.bias, {addIdx(b, loc, co0, v * kLanes)},
                             kLanes)
                : arith::ConstantOp::create(b, loc, b.getZeroAttr(vecType))
                      .getResult());
  if (pr.quads) {
    // The shifted input zero point times the centred weights' sum.
    Value zx =
        vector::BroadcastOp::create(b, loc, vecType, pr.shiftedZeroPoint);
    for (int64_t v = 0; v < numVec; ++v) {
      Value comp = readVector(b, loc, pr.compensation,
                              {addIdx(b, loc, co0, v * kLanes)}, kLanes);
      biasVec[v] = arith::SubIOp::create(
          b, loc, biasVec[v], arith::MulIOp::create(b, loc, zx, comp));
    }
  }
  SmallVector<Value> init;
  for (int64_t p = 0; p < numPixels; ++p)
    init.append(biasVec);

  // Row tiles: whether pixel p's tap `kw` (a constant) reads a padding
  // column, which adds nothing (pr.skipPadding) and is left out.
  auto readsPaddingColumn = [&](int64_t p, Value kw) {
    if (!rowTile->col0Static)
      return false;
    int64_t k = getConstantIntValue(kw).value();
    int64_t col = (*rowTile->col0Static + p) * pr.strides[1] +
                  k * pr.dilations[1] - pr.padBefore[1];
    return col < 0 || col >= pr.inSize[1];
  };

  // The reduction goes `unroll` input channels per iteration: a blocked
  // input a block of 8 (each read at a constant lane of its block). They
  // are unrolled inside the loops over the taps' rows (see overTaps), so
  // that a row loop's body holds all their multiply-adds (ResNet-18's
  // 56x56x64 on blocks had a 3-trip row loop of 30 FMAs per channel: R
  // 0.98-0.99 -> 0.97-0.98). Not for NCHW input: unrolling its channels by
  // 2, 4 or 8 made ResNet-18's 3x3 stages at 56, 28 and 14 pixels 1.5-2.6x
  // slower (7x7x512: 4% faster; not pursued).
  int64_t unroll = pr.blockedInput ? kLanes : 1;
  // Blocked input: the block and lane of the step's input channel.
  Value inputBlock;
  int64_t inputLane = 0;

  // One reduction step at input channel `ci` and taps `taps`.
  auto step = [&](OpBuilder &nb, Location nl, Value ci, ArrayRef<Value> taps,
                  ValueRange accs) {
    SmallVector<Value> widx = {cb, ci};
    widx.append(taps.begin(), taps.end());
    if (pr.blockedInput) // [Cout/T, Cin/8, KH, 8, KW, T], see packWeights
      widx = {cb, inputBlock, taps[0], cIdx(nb, nl, inputLane), taps[1]};
    widx.push_back(Value());
    SmallVector<Value> w;
    int64_t wWidth = perStep * kLanes;
    for (int64_t v = 0; v < numVec; ++v) {
      widx.back() = cIdx(nb, nl, v * wWidth);
      w.push_back(readVector(nb, nl, pr.packed, widx, wWidth));
    }
    Value channel = cinBase ? arith::AddIOp::create(nb, nl, cinBase, ci) : ci;
    SmallVector<Value> next(accs.begin(), accs.end());
    for (int64_t p = 0; p < numPixels; ++p) {
      if (rowTile && readsPaddingColumn(p, taps.back()))
        continue;
      SmallVector<Value> xidx;
      if (pr.linear) {
        xidx = {base[p][0], channel};
      } else {
        xidx = {n, channel};
        for (int64_t i = 0; i < s; ++i) {
          Value at = arith::AddIOp::create(
              nb, nl, base[p][i], mulIdx(nb, nl, taps[i], pr.dilations[i]));
          xidx.push_back(pr.unpaddedInput ? addIdx(nb, nl, at, -pr.padBefore[i])
                                          : at);
        }
      }
      if (pr.blockedInput) {
        // [n, c, h, w] -> [n, c / 8, h, w, c % 8], the lane a constant.
        xidx[1] = inputBlock;
        xidx.push_back(cIdx(nb, nl, inputLane));
      }
      Value x = tensor::ExtractOp::create(nb, nl, pr.input, xidx);
      Value xb = vector::BroadcastOp::create(nb, nl, vecType, x);
      if (pr.quads) {
        // Each i32 lane holds four uint8 channels; vpdpbusd (or its AVX2
        // form) adds their products with the weights into the lane.
        Value quads = vector::BitCastOp::create(nb, nl, quadType, xb);
        for (int64_t v = 0; v < numVec; ++v) {
          Value &acc = next[p * numVec + v];
          acc = DotQuadsOp::create(nb, nl, vecType, acc, quads, w[v],
                                   pr.pairsFitI16 ? nb.getUnitAttr()
                                                  : UnitAttr());
        }
        continue;
      }
      if (pr.integer) {
        // Each i32 lane holds the pair (x[2j], x[2j+1]); vpmaddwd forms
        // x[2j]·w[2j] + x[2j+1]·w[2j+1] per output channel, exactly.
        Value pairs = vector::BitCastOp::create(nb, nl, pairType, xb);
        for (int64_t v = 0; v < numVec; ++v) {
          Value &acc = next[p * numVec + v];
          Value dot = DotPairsOp::create(nb, nl, vecType, pairs, w[v]);
          acc = arith::AddIOp::create(nb, nl, acc, dot);
        }
        continue;
      }
      for (int64_t v = 0; v < numVec; ++v) {
        Value &acc = next[p * numVec + v];
        acc = vector::FMAOp::create(nb, nl, xb, w[v], acc);
      }
    }
    return next;
  };

  // Taps: loops over all spatial dims but the last; inside them the
  // iteration's `unroll` input channels `it`·unroll + l, each over the last
  // dim's taps, all unrolled.
  std::function<SmallVector<Value>(OpBuilder &, Location, Value, int64_t,
                                   SmallVector<Value>, ValueRange)>
      overTaps = [&](OpBuilder &nb, Location nl, Value it, int64_t dim,
                     SmallVector<Value> taps,
                     ValueRange accs) -> SmallVector<Value> {
    if (dim + 1 >= s) { // the last dim, or none (linear)
      SmallVector<Value> cur(accs.begin(), accs.end());
      for (int64_t l = 0; l < unroll; ++l) {
        Value ci = it;
        if (pr.blockedInput) {
          ci = addIdx(nb, nl, mulIdx(nb, nl, it, kLanes), l);
          inputBlock = it;
          inputLane = l;
        }
        if (s == 0) {
          cur = step(nb, nl, ci, taps, cur);
          continue;
        }
        for (int64_t k = 0; k < pr.kernel[dim]; ++k) {
          SmallVector<Value> t = taps;
          t.push_back(cIdx(nb, nl, k));
          cur = step(nb, nl, ci, t, cur);
        }
      }
      return cur;
    }
    Value lo = cIdx(nb, nl, 0), hi = cIdx(nb, nl, pr.kernel[dim]);
    if (rowTile) {
      // The tile's row reads padded rows r·sh + k·dh; those of the input
      // are k in [ceil((pad − r·sh) / dh), ceil((pad + H − r·sh) / dh)).
      Value top = mulIdx(nb, nl, rowTile->row, pr.strides[0]);
      auto bound = [&](int64_t rowsAbove) -> Value {
        Value d = arith::SubIOp::create(nb, nl, cIdx(nb, nl, rowsAbove), top);
        return arith::CeilDivSIOp::create(nb, nl, d,
                                          cIdx(nb, nl, pr.dilations[0]));
      };
      lo = arith::MaxSIOp::create(nb, nl, lo, bound(pr.padBefore[0]));
      hi = arith::MinSIOp::create(nb, nl, hi,
                                  bound(pr.padBefore[0] + pr.inSize[0]));
      // (An empty range, hi < lo, runs no step.)
    }
    auto loop = scf::ForOp::create(
        nb, nl, lo, hi, cIdx(nb, nl, 1),
        accs, [&](OpBuilder &lb, Location ll, Value k, ValueRange iter) {
          SmallVector<Value> t = taps;
          t.push_back(k);
          scf::YieldOp::create(lb, ll, overTaps(lb, ll, it, dim + 1, t, iter));
        });
    return SmallVector<Value>(loop.getResults());
  };

  auto reduction = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, cinSteps / unroll), cIdx(b, loc, 1),
      init, [&](OpBuilder &lb, Location ll, Value it, ValueRange iter) {
        scf::YieldOp::create(lb, ll, overTaps(lb, ll, it, 0, {}, iter));
      });

  SmallVector<Value> accs;
  if (pr.requant) {
    // The shared requantize (activation included) on each accumulator.
    SmallVector<Value> m;
    for (int64_t v = 0; v < numVec; ++v)
      m.push_back(readVector(b, loc, pr.requant->multiplier,
                             {addIdx(b, loc, co0, v * kLanes)}, kLanes));
    for (auto [i, a] : llvm::enumerate(reduction.getResults()))
      accs.push_back(
          quant::requantizeValue(b, loc, a, m[i % numVec], *pr.requant));
  } else {
    for (Value a : reduction.getResults())
      accs.push_back(activate(b, loc, a, pr.act));
  }

  if (pr.linear) {
    // out[q, co...] rows are contiguous in the channels.
    for (int64_t p = 0; p < numPixels; ++p)
      for (int64_t v = 0; v < numVec; ++v) {
        SmallVector<Value> idx(prefix.begin(), prefix.end());
        idx.push_back(addIdx(b, loc, destQ, p));
        idx.push_back(addIdx(b, loc, destCo, v * kLanes));
        dest = writeVector(b, loc, accs[p * numVec + v], dest, idx);
      }
    return dest;
  }
  if (pr.blockedOutput) {
    // [block, q, lane]: each pixel's 8 channels are one vector.
    Value block0 = arith::DivUIOp::create(b, loc, destCo, cIdx(b, loc, kLanes));
    for (int64_t p = 0; p < numPixels; ++p)
      for (int64_t v = 0; v < numVec; ++v) {
        SmallVector<Value> idx(prefix.begin(), prefix.end());
        idx.push_back(addIdx(b, loc, block0, v));
        idx.push_back(addIdx(b, loc, destQ, p));
        idx.push_back(cIdx(b, loc, 0));
        dest = writeVector(b, loc, accs[p * numVec + v], dest, idx);
      }
    return dest;
  }
  // Channel-major output: each channel's P pixels are contiguous.
  auto rowType = VectorType::get({numPixels}, pr.outElt);
  for (int64_t v = 0; v < numVec; ++v)
    for (int64_t j = 0; j < kLanes; ++j) {
      SmallVector<Value> lanes;
      for (int64_t p = 0; p < numPixels; ++p)
        lanes.push_back(
            vector::ExtractOp::create(b, loc, accs[p * numVec + v], j));
      Value row = vector::FromElementsOp::create(b, loc, rowType, lanes);
      SmallVector<Value> idx(prefix.begin(), prefix.end());
      idx.push_back(addIdx(b, loc, destCo, v * kLanes + j));
      idx.push_back(destQ);
      dest = writeVector(b, loc, row, dest, idx);
    }
  return dest;
}

/// One pointwise tile of a qconv in the quads or the pairs form: C output
/// channels by V 8-pixel vectors, the vectors along the pixels of the packed
/// input ([N, Cin/k, Q] i32, each pixel's k channels in one word: k = 4
/// uint8 quads or k = 2 centred int16 pairs), each channel's packed weights
/// (one word) broadcast; one qfuse.dot_quads (or dot_pairs and an add) per
/// channel, pixel vector and word, the accumulators starting at the bias
/// (quads: bias − zx'·Σw); the requantize on the pixel vectors, which are
/// stored as they are (each channel's pixels are contiguous: no transposed
/// stores).
static Value emitPointwiseIntegerTile(OpBuilder &b, Location loc,
                                     const DenseProblem &pr, Value n,
                                     Value cb, Value q0, int64_t numPixels,
                                     Value dest, ValueRange prefix,
                                     Value destCo, Value destQ) {
  int64_t perWord = pr.quads ? 4 : 2;
  int64_t numCh = pr.tiling.channels;
  int64_t wordsPg = (pr.cinPg + perWord - 1) / perWord;
  SmallVector<int64_t> widths;
  for (int64_t t = numPixels; t > 0; t -= std::min(t, kLanes))
    widths.push_back(std::min(t, kLanes));
  int64_t numW = widths.size();
  Type i32 = b.getI32Type();
  Type part = pr.quads ? Type(b.getI8Type()) : Type(b.getI16Type());
  auto parts = [&](int64_t w) { return VectorType::get({perWord * w}, part); };
  Value co0 = mulIdx(b, loc, cb, numCh);
  Value wordBase;
  if (pr.groups > 1) {
    Value g = arith::DivUIOp::create(b, loc, co0, cIdx(b, loc, pr.coutPg));
    wordBase = mulIdx(b, loc, g, wordsPg);
  }
  SmallVector<Value> init;
  for (int64_t c = 0; c < numCh; ++c) {
    Value co = addIdx(b, loc, co0, c);
    Value start =
        pr.bias ? tensor::ExtractOp::create(b, loc, pr.bias, ValueRange{co})
                      .getResult()
                : arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0))
                      .getResult();
    if (pr.quads) {
      Value comp = tensor::ExtractOp::create(b, loc, pr.compensation,
                                             ValueRange{co});
      start = arith::SubIOp::create(
          b, loc, start,
          arith::MulIOp::create(b, loc, pr.shiftedZeroPoint, comp));
    }
    for (int64_t w : widths)
      init.push_back(
          vector::BroadcastOp::create(b, loc, VectorType::get({w}, i32), start));
  }
  auto reduction = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, wordsPg), cIdx(b, loc, 1), init,
      [&](OpBuilder &nb, Location nl, Value q, ValueRange accs) {
        Value channel =
            wordBase ? arith::AddIOp::create(nb, nl, wordBase, q) : q;
        SmallVector<Value> x =
            readPixelVectors(nb, nl, pr.input, n, channel, q0, widths);
        for (Value &v : x)
          v = vector::BitCastOp::create(
              nb, nl, parts(cast<VectorType>(v.getType()).getDimSize(0)), v);
        SmallVector<Value> next(accs.begin(), accs.end());
        for (int64_t c = 0; c < numCh; ++c) {
          // The channel's packed weights as one word, broadcast.
          Value packed = vector::BitCastOp::create(
              nb, nl, VectorType::get({1}, i32),
              readVector(nb, nl, pr.packed,
                         pointwiseWeightIndex(nb, nl, pr, cb, q, perWord * c),
                         perWord));
          Value word = vector::ExtractOp::create(nb, nl, packed, 0);
          for (auto [u, w] : llvm::enumerate(widths)) {
            auto accType = VectorType::get({w}, i32);
            Value wb = vector::BitCastOp::create(
                nb, nl, parts(w),
                vector::BroadcastOp::create(nb, nl, accType, word));
            Value &acc = next[c * numW + u];
            if (pr.quads)
              acc = DotQuadsOp::create(nb, nl, accType, acc, x[u], wb,
                                       pr.pairsFitI16 ? nb.getUnitAttr()
                                                      : UnitAttr());
            else
              acc = arith::AddIOp::create(
                  nb, nl, acc,
                  DotPairsOp::create(nb, nl, accType, x[u], wb));
          }
        }
        scf::YieldOp::create(nb, nl, next);
      });
  for (int64_t c = 0; c < numCh; ++c) {
    Value m;
    if (pr.requant)
      m = tensor::ExtractOp::create(b, loc, pr.requant->multiplier,
                                    ValueRange{addIdx(b, loc, co0, c)});
    SmallVector<Value> row;
    for (auto [u, w] : llvm::enumerate(widths)) {
      Value v = reduction.getResult(c * numW + u);
      if (pr.requant)
        v = quant::requantizeValue(
            b, loc, v,
            vector::BroadcastOp::create(
                b, loc, VectorType::get({w}, b.getF64Type()), m),
            *pr.requant);
      row.push_back(v);
    }
    dest = writePixelVectors(b, loc, dest, prefix, addIdx(b, loc, destCo, c),
                             destQ, row);
  }
  return dest;
}

static Value emitTile(OpBuilder &b, Location loc, const DenseProblem &pr,
                      Value n, Value cb, Value q0, int64_t numPixels,
                      Value dest, ValueRange prefix, Value destCo,
                      Value destQ, const RowTile *rowTile = nullptr) {
  if (pr.pointwise && pr.integer)
    return emitPointwiseIntegerTile(b, loc, pr, n, cb, q0, numPixels, dest,
                                    prefix, destCo, destQ);
  if (pr.pointwise)
    return emitPointwiseTile(b, loc, pr, n, cb, q0, numPixels, dest, prefix,
                             destCo, destQ);
  return emitDenseTile(b, loc, pr, n, cb, q0, numPixels, dest, prefix, destCo,
                       destQ, rowTile);
}

/// The whole dense contraction into `out` ([N, Cout, Q] for a conv, [N,
/// Cout] for linear); returns the new `out`. The outermost loop is one
/// scf.forall over (image, outer tile), so that threads fork once per op.
static Value emitDense(OpBuilder &b, Location loc, const DenseProblem &pr,
                       Value out) {
  int64_t cot = pr.tiling.channels;
  int64_t numCb = pr.cout / cot, P = pr.tiling.pixels;
  int64_t numTiles = pr.pixels / P, rem = pr.pixels % P;
  Type f32 = pr.outElt;
  // Linear layers have one "image": the batch rows are the pixels.
  int64_t images = pr.linear ? 1 : pr.batch;
  // With the channel blocks outermost and several images, the images go
  // inside the blocks where one block's weights outweigh one image's input:
  // each block's weights are then read once for all the images rather than
  // once per image, from L3 or memory (ResNet-18's 7x7x512 on blocks at
  // batch 8: its 9.4 MB of weights per image; 25.8-28.4 -> 21.5-21.9 ms on
  // one thread). The input goes through the caches once per block instead.
  auto bytesOf = [](Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    return type.getNumElements() * type.getElementTypeBitWidth() / 8;
  };
  bool imagesInner = pr.tiling.weightsOuter && images > 1 &&
                     bytesOf(pr.packed) / numCb > bytesOf(pr.input) / images;

  // The output slice of image `n`, channels [co, co+coSize), pixels [q,
  // q+qSize), rank-reduced to 2-D.
  struct Slice {
    SmallVector<OpFoldResult> offsets, sizes, strides;
    RankedTensorType type;
  };
  auto sliceOf = [&](OpBuilder &sb, Value n, Value co, int64_t coSize, Value q,
                     int64_t qSize) {
    Slice sl;
    if (pr.linear) {
      sl.offsets = {q, co};
      sl.sizes = {sb.getIndexAttr(qSize), sb.getIndexAttr(coSize)};
      sl.type = RankedTensorType::get({qSize, coSize}, f32);
    } else if (pr.blockedOutput) {
      sl.offsets = {n,
                    arith::DivUIOp::create(sb, loc, co, cIdx(sb, loc, kLanes))
                        .getResult(),
                    q, sb.getIndexAttr(0)};
      sl.sizes = {sb.getIndexAttr(1), sb.getIndexAttr(coSize / kLanes),
                  sb.getIndexAttr(qSize), sb.getIndexAttr(kLanes)};
      sl.type = RankedTensorType::get({coSize / kLanes, qSize, kLanes}, f32);
    } else {
      sl.offsets = {n, co, q};
      sl.sizes = {sb.getIndexAttr(1), sb.getIndexAttr(coSize),
                  sb.getIndexAttr(qSize)};
      sl.type = RankedTensorType::get({coSize, qSize}, f32);
    }
    sl.strides.assign(sl.offsets.size(), sb.getIndexAttr(1));
    return sl;
  };
  // forall (n, i) in (images, count) { body(slice) -> slice }, or with
  // `imagesInner` forall (i, n) in (count, images).
  auto forallTiles =
      [&](Value dest, int64_t count,
          function_ref<Slice(OpBuilder &, Value, Value)> sliceFor,
          function_ref<Value(OpBuilder &, Value, Value, Value)> body,
          bool imagesInner = false) {
        SmallVector<OpFoldResult> bounds = {b.getIndexAttr(images),
                                            b.getIndexAttr(count)};
        if (imagesInner)
          std::swap(bounds[0], bounds[1]);
        auto forall = scf::ForallOp::create(b, loc, bounds, ValueRange{dest},
                                            std::nullopt);
        OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
        Value n = forall.getInductionVar(imagesInner ? 1 : 0),
              i = forall.getInductionVar(imagesInner ? 0 : 1);
        Value shared = forall.getRegionIterArgs()[0];
        Slice sl = sliceFor(fb, n, i);
        Value slice = tensor::ExtractSliceOp::create(
            fb, loc, sl.type, shared, sl.offsets, sl.sizes, sl.strides);
        slice = body(fb, n, i, slice);
        OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
        tensor::ParallelInsertSliceOp::create(tb, loc, slice, shared,
                                              sl.offsets, sl.sizes, sl.strides);
        return forall.getResult(0);
      };

  // The column tiles of output row `row` for channel block `cb` (see
  // DenseTiling::rowTiles) into `cur`, whose pixels start at the image's
  // first (`wholeImage`) or at the row's first, and whose channels at
  // `destCo`.
  const DenseTiling &t = pr.tiling;
  bool rowTiled = !t.rowTiles.empty() || t.rowLoopEnd > t.rowLoopBegin;
  auto emitRowTiles = [&](OpBuilder &tb, Location tl, Value n, Value cb,
                          Value row, Value destCo, bool wholeImage,
                          Value cur) {
    Value rowStart = mulIdx(tb, tl, row, pr.out[1]);
    auto tileAt = [&](OpBuilder &cb2, Location cl, Value col0,
                      std::optional<int64_t> col0Static, int64_t w,
                      Value dest) {
      RowTile rt{row, col0, col0Static};
      Value q0 = arith::AddIOp::create(cb2, cl, rowStart, col0);
      return emitTile(cb2, cl, pr, n, cb, q0, w, dest, {}, destCo,
                      wholeImage ? q0 : col0, &rt);
    };
    for (size_t i = 0; i <= t.rowTiles.size(); ++i) {
      if (i == t.rowLoopIndex && t.rowLoopEnd > t.rowLoopBegin)
        cur = forCarrying(tb, tl, t.rowLoopBegin, t.rowLoopEnd, t.pixels, cur,
                          [&](OpBuilder &lb, Location ll, Value col0, Value c) {
                            return tileAt(lb, ll, col0, std::nullopt, t.pixels,
                                          c);
                          });
      if (i == t.rowTiles.size())
        break;
      auto [col0, w] = t.rowTiles[i];
      cur = tileAt(tb, tl, cIdx(tb, tl, col0), col0, w, cur);
    }
    return cur;
  };

  if (pr.tiling.weightsOuter) {
    // forall (image, channel block) { for pixel tiles; remainder tile }, or
    // forall (channel block, image) with `imagesInner`.
    return forallTiles(
        out, numCb,
        [&](OpBuilder &fb, Value n, Value cb) {
          return sliceOf(fb, n, mulIdx(fb, loc, cb, cot), cot, cIdx(fb, loc, 0),
                         pr.pixels);
        },
        [&](OpBuilder &fb, Value n, Value cb, Value slice) {
          Value zero = cIdx(fb, loc, 0);
          if (rowTiled)
            return forCarrying(
                fb, loc, 0, pr.out[0], 1, slice,
                [&](OpBuilder &tb, Location tl, Value row, Value cur) {
                  return emitRowTiles(tb, tl, n, cb, row, zero, true, cur);
                });
          if (numTiles > 0)
            slice = forCarrying(
                fb, loc, 0, numTiles * P, P, slice,
                [&](OpBuilder &tb, Location tl, Value q0, Value cur) {
                  return emitTile(tb, tl, pr, n, cb, q0, P, cur, {}, zero, q0);
                });
          if (rem) {
            Value q0 = cIdx(fb, loc, numTiles * P);
            slice = emitTile(fb, loc, pr, n, cb, q0, rem, slice, {}, zero, q0);
          }
          return slice;
        },
        imagesInner);
  }

  if (rowTiled) {
    // forall (image, output row) { for channel blocks { the row's tiles } }.
    return forallTiles(
        out, pr.out[0],
        [&](OpBuilder &fb, Value n, Value row) {
          return sliceOf(fb, n, cIdx(fb, loc, 0), pr.cout,
                         mulIdx(fb, loc, row, pr.out[1]), pr.out[1]);
        },
        [&](OpBuilder &fb, Value n, Value row, Value slice) {
          return forCarrying(
              fb, loc, 0, numCb, 1, slice,
              [&](OpBuilder &bb, Location bl, Value cb, Value cur) {
                return emitRowTiles(bb, bl, n, cb, row, mulIdx(bb, bl, cb, cot),
                                    false, cur);
              });
        });
  }

  // forall (image, group of G pixel tiles) { for channel blocks { for the
  // G tiles } }, then the remainder pixels of every image. The group keeps
  // G·P input pixels in L1 across the channel blocks and writes each output
  // channel G·P pixels at a time.
  int64_t group = 1;
  for (int64_t g = std::min<int64_t>(kMaxTileGroup, numTiles); g > 1; --g)
    if (numTiles % g == 0) {
      group = g;
      break;
    }
  if (numTiles > 0)
    out = forallTiles(
        out, numTiles / group,
        [&](OpBuilder &fb, Value n, Value t) {
          return sliceOf(fb, n, cIdx(fb, loc, 0), pr.cout,
                         mulIdx(fb, loc, t, group * P), group * P);
        },
        [&](OpBuilder &fb, Value n, Value t, Value slice) {
          Value qBase = mulIdx(fb, loc, t, group * P);
          return forCarrying(
              fb, loc, 0, numCb, 1, slice,
              [&](OpBuilder &bb, Location bl, Value cb, Value blk) {
                return forCarrying(
                    bb, bl, 0, group * P, P, blk,
                    [&](OpBuilder &tb, Location tl, Value qo, Value cur) {
                      Value q0 = arith::AddIOp::create(tb, tl, qBase, qo);
                      return emitTile(tb, tl, pr, n, cb, q0, P, cur, {},
                                      mulIdx(tb, tl, cb, cot), qo);
                    });
              });
        });
  if (rem) {
    Value q0 = cIdx(b, loc, numTiles * P);
    SmallVector<Value> lbs = {cIdx(b, loc, 0), cIdx(b, loc, 0)};
    SmallVector<Value> ubs = {cIdx(b, loc, images), cIdx(b, loc, numCb)};
    SmallVector<Value> steps = {cIdx(b, loc, 1), cIdx(b, loc, 1)};
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, lbs, ubs, steps, ValueRange{out},
        [&](OpBuilder &tb, Location tl, ValueRange ivs, ValueRange it) {
          SmallVector<Value> prefix;
          if (!pr.linear)
            prefix.push_back(ivs[0]);
          return scf::ValueVector{emitTile(tb, tl, pr, ivs[0], ivs[1], q0, rem,
                                           it[0], prefix,
                                           mulIdx(tb, tl, ivs[1], cot), q0)};
        });
    out = nest.results[0];
  }
  return out;
}

/// The dense contraction of a convolution into `out` ([N, Cout, O...]; the
/// kernel works on it as [N, Cout, Q]).
static Value emitDenseConv(OpBuilder &b, Location loc, const DenseProblem &pr,
                           Value out) {
  auto outType = cast<RankedTensorType>(out.getType());
  // Blocked: [N, Cout/8, O..., 8] as [N, Cout/8, Q, 8].
  int64_t spatialEnd = outType.getRank() - (pr.blockedOutput ? 1 : 0);
  SmallVector<ReassociationIndices> assoc = {{0}, {1}, {}};
  for (int64_t i = 2; i < spatialEnd; ++i)
    assoc[2].push_back(i);
  if (pr.blockedOutput)
    assoc.push_back({spatialEnd});
  Value flat = tensor::CollapseShapeOp::create(b, loc, out, assoc);
  Value result = emitDense(b, loc, pr, flat);
  return tensor::ExpandShapeOp::create(b, loc, outType, result, assoc);
}

/// Whether a batch of `batch` images whose prepared input takes
/// `preparedImageBytes` each goes through the dense kernel one image at a
/// time.
static bool oneImageAtATime(int64_t batch, int64_t preparedImageBytes,
                            int64_t batchPrepareBytes) {
  return batch > 1 && preparedImageBytes > 0 &&
         batch * preparedImageBytes > batchPrepareBytes;
}

/// The dense kernel on `x` ([N, C, D...]) into a new tensor of `outType`.
/// `prepare` makes the kernel's input from images of x (channel pairs or
/// quads, spatial padding). When the prepared batch is larger than
/// `batchPrepareBytes`, the images go one at a time (prepare, then the
/// kernel's forall), so that each prepared image is read back from L2
/// rather than from memory; `pr.batch` and `pr.input` are set here.
static Value emitDenseBatched(
    OpBuilder &b, Location loc, DenseProblem pr, Value x,
    RankedTensorType outType, int64_t preparedImageBytes,
    int64_t batchPrepareBytes,
    function_ref<Value(OpBuilder &, Location, Value)> prepare) {
  Value out = tensor::EmptyOp::create(b, loc, outType.getShape(), pr.outElt);
  pr.batch = outType.getDimSize(0);
  if (!oneImageAtATime(pr.batch, preparedImageBytes, batchPrepareBytes)) {
    pr.input = prepare(b, loc, x);
    return emitDenseConv(b, loc, pr, out);
  }
  auto xType = cast<RankedTensorType>(x.getType());
  auto slice = [&](OpBuilder &sb, Value n, ArrayRef<int64_t> shape) {
    SmallVector<OpFoldResult> offsets(shape.size(), sb.getIndexAttr(0)),
        sizes, strides(shape.size(), sb.getIndexAttr(1));
    offsets[0] = n;
    sizes.push_back(sb.getIndexAttr(1));
    for (int64_t d : shape.drop_front())
      sizes.push_back(sb.getIndexAttr(d));
    return std::make_tuple(offsets, sizes, strides);
  };
  auto loop = scf::ForOp::create(
      b, loc, cIdx(b, loc, 0), cIdx(b, loc, pr.batch), cIdx(b, loc, 1),
      ValueRange{out},
      [&](OpBuilder &lb, Location ll, Value n, ValueRange it) {
        auto [xo, xs, xst] = slice(lb, n, xType.getShape());
        SmallVector<int64_t> imageShape(xType.getShape());
        imageShape[0] = 1;
        Value image = tensor::ExtractSliceOp::create(
            lb, ll, RankedTensorType::get(imageShape, xType.getElementType()),
            x, xo, xs, xst);
        auto [oo, os, ost] = slice(lb, n, outType.getShape());
        SmallVector<int64_t> outShape(outType.getShape());
        outShape[0] = 1;
        Value outImage = tensor::ExtractSliceOp::create(
            lb, ll, RankedTensorType::get(outShape, pr.outElt), it[0], oo, os,
            ost);
        DenseProblem one = pr;
        one.batch = 1;
        one.input = prepare(lb, ll, image);
        Value result = emitDenseConv(lb, ll, one, outImage);
        scf::YieldOp::create(
            lb, ll,
            tensor::InsertSliceOp::create(lb, ll, result, it[0], oo, os, ost)
                .getResult());
      });
  loop->setAttr(qfuse::kForkPerIterationAttr, b.getUnitAttr());
  return loop.getResult(0);
}

/// Elements of one image's spatial planes once padded by `pad` (all
/// begins, then all ends).
static int64_t paddedPlaneSize(RankedTensorType type, ArrayRef<int64_t> pad) {
  int64_t s = type.getRank() - 2, size = 1;
  for (int64_t i = 0; i < s; ++i)
    size *= type.getDimSize(2 + i) + pad[i] + pad[s + i];
  return size;
}

/// Packs w [Cout, Cin/G, K...] to [Cout/T, Cin/G, K..., T]: at compile time
/// when constant, else with a linalg.transpose. For a 2-D conv reading a
/// channel-blocked input (`blockedInput`), to [Cout/T, Cin/8, KH, 8, KW,
/// T] instead: the order the kernel takes them in, a block's 8 channels
/// inside each row of taps (see emitDenseTile), so that the weights stream
/// in order (in the first order, ResNet-18's 7x7x512 on blocks, whose
/// 9.4 MB of weights are read once per output row, ran 5-8% slower).
static Value packWeights(OpBuilder &b, Location loc, Value weight, int64_t tile,
                         bool blockedInput = false) {
  auto type = cast<RankedTensorType>(weight.getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t cout = shape[0], inner = type.getNumElements() / cout;
  SmallVector<int64_t> packedShape = {cout / tile};
  if (blockedInput)
    packedShape.append(
        {shape[1] / kLanes, shape[2], kLanes, shape[3]}); // Cin/8, KH, 8, KW
  else
    packedShape.append(shape.begin() + 1, shape.end());
  packedShape.push_back(tile);
  auto packedType = RankedTensorType::get(packedShape, b.getF32Type());
  if (std::optional<SmallVector<double>> values =
          fold::getConstantValues(weight)) {
    SmallVector<float> packed(values->size());
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t r = 0; r < inner; ++r) {
        int64_t at = r; // r = ((ci·KH + kh)·KW + kw) in w's order
        if (blockedInput) {
          int64_t kw = r % shape[3], kh = r / shape[3] % shape[2],
                  ci = r / (shape[2] * shape[3]);
          at = (((ci / kLanes * shape[2] + kh) * kLanes + ci % kLanes) *
                    shape[3] +
                kw);
        }
        packed[((co / tile) * inner + at) * tile + co % tile] =
            static_cast<float>((*values)[co * inner + r]);
      }
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(packedType, ArrayRef<float>(packed)));
  }
  // [Cout/T, T, rest...] then move T last; for a blocked input rest is
  // [Cin/8, 8, KH, KW], and the 8 also moves inside KH.
  SmallVector<int64_t> split = {cout / tile, tile};
  SmallVector<ReassociationIndices> assoc = {{0, 1}};
  SmallVector<int64_t> perm = {0};
  if (blockedInput) {
    split.append({shape[1] / kLanes, kLanes, shape[2], shape[3]});
    assoc.append({{2, 3}, {4}, {5}});
    perm.append({2, 4, 3, 5});
  } else {
    split.append(shape.begin() + 1, shape.end());
    for (int64_t d = 1; d < type.getRank(); ++d) {
      assoc.push_back({d + 1});
      perm.push_back(d + 1);
    }
  }
  perm.push_back(1);
  Value expanded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(split, b.getF32Type()), weight, assoc);
  Value init = tensor::EmptyOp::create(b, loc, packedShape, b.getF32Type());
  return linalg::TransposeOp::create(b, loc, expanded, init, perm)
      .getResult()[0];
}

//===----------------------------------------------------------------------===//
// Depthwise kernel
//===----------------------------------------------------------------------===//

/// Vectors of 8 along the output width per register tile.
constexpr int64_t kDepthwiseVectors = 4;
/// Output rows computed together (sharing the input rows between them).
constexpr int64_t kDepthwiseRows = 2;

struct DepthwiseProblem {
  int64_t batch, channels, kh, kw, sh, sw, dh, dw, oh, ow;
  SmallVector<int64_t> pad; // top, left, bottom, right
  Value input;              // [N, C, H, W], padded per plane by the kernel
  Value weight;             // [C, 1, KH, KW]
  Value bias;               // [C] or null
  FusedActivation act;
  /// Integer mode (depthwise qfuse.qconv): `input` is 8-bit, centred on
  /// `zeroPoint` (an i32 scalar) into f32 as each plane is padded; the f32
  /// accumulators hold exact integers, which get `intBias` and the
  /// requantize before the store of `outElt`.
  bool integer = false;
  bool inputUint8 = false;
  Value zeroPoint, intBias;
  std::optional<quant::RequantParams> requant;
  Type outElt;
  /// 3-tap rows at stride 2 (dilation 1) as pair sums
  /// (emitDepthwisePairChunk) rather than deinterleaved taps. f32 only:
  /// on the integer kernel's centred planes they measured slower in their
  /// first form (MobileNetV2's 112x112x96 int8 stride 2: 0.37 ms
  /// deinterleaved, 0.40 as pair sums) and no faster in the vshufps one
  /// (0.404-0.416 against 0.411-0.414 ms, same runs): the requantize
  /// dominates there.
  bool pairSums = true;
  /// Channel-blocked kernel (emitBlockedDepthwise) on layers that stream
  /// from memory: how far ahead of its reads, in bytes of the input plane,
  /// each tile prefetches (0: no prefetches), and whether it writes its
  /// output with non-temporal stores (lowerConv decides both by size).
  int64_t prefetchBytes = 0;
  bool nontemporal = false;
  bool usesPairSums() const {
    return pairSums && !integer && kw == 3 && sw == 2 && dw == 1;
  }
};

/// The lane order of full stride-2 vectors: lane l holds output column
/// kStride2Lanes[l]. Reading 16 inputs as two registers a, b, the even ones
/// in this order are [a0 a2 b0 b2 | a4 a6 b4 b6], one in-lane vshufps,
/// where the natural order needs a cross-lane permute after it. Every read
/// of a row segment uses the same order, the FMAs are lane-wise, and the
/// accumulator is put back in order once, before the store (the order is
/// its own inverse: one vpermpd).
/// (qfuse.pair_sums, vhaddps, sums its pairs in the same order.)
constexpr const int64_t (&kStride2Lanes)[kLanes] = PairSumsOp::laneOrder;

/// Whether `width`-wide vectors at `stride` are read in that order.
static bool permutedLanes(int64_t width, int64_t stride) {
  return stride == 2 && width == kLanes;
}

/// Output column of lane `l` of a `width`-wide vector at `stride`.
static int64_t laneColumn(int64_t l, int64_t width, int64_t stride) {
  return permutedLanes(width, stride) ? kStride2Lanes[l] : l;
}

/// `width` outputs of row `row` from column `col` on (lane l the output
/// laneColumn(l)): stride 1 reads them, stride s reads width·s (the caller
/// guarantees they are inside) and keeps every s-th.
static Value readStrided(OpBuilder &b, Location loc, Value input,
                         ValueRange prefix, Value col, int64_t width,
                         int64_t stride) {
  SmallVector<Value> idx(prefix.begin(), prefix.end());
  idx.push_back(col);
  if (stride == 1)
    return readVector(b, loc, input, idx, width);
  Value wide = readVector(b, loc, input, idx, width * stride);
  SmallVector<int64_t> mask;
  for (int64_t i = 0; i < width; ++i)
    mask.push_back(laneColumn(i, width, stride) * stride);
  return vector::ShuffleOp::create(b, loc, wide, wide, mask);
}

/// Where the depthwise kernel reads one channel: the [h, w] plane `plane`
/// with `padTop` / `padLeft` implicit zero rows and columns before it (and
/// zeros after it). Reads are never out of bounds: rows and columns that
/// can touch the padding are emitted with static indices, and a read that
/// would cross the plane's edge is narrowed to the part inside and its
/// other lanes are zeros. (So the f32 kernel reads the input in place and
/// never copies a padded plane.)
struct PlaneView {
  Value plane;
  int64_t h, w, padTop, padLeft;
};

/// Lane l: row `row` of the view at column `start + l·stride` (`start` in
/// padded coordinates, static), zero where that column is padding.
static Value readLanesStatic(OpBuilder &b, Location loc, const PlaneView &v,
                             Value row, int64_t start, int64_t width,
                             int64_t stride) {
  // Output columns [lo, hi) of the segment are inside the plane.
  int64_t lo = width, hi = 0;
  for (int64_t l = 0; l < width; ++l) {
    int64_t col = start + l * stride - v.padLeft;
    if (col >= 0 && col < v.w) {
      lo = std::min(lo, l);
      hi = l + 1;
    }
  }
  if (lo >= hi)
    return splat(b, loc, width, 0.0);
  int64_t first = start + lo * stride - v.padLeft;
  // Whole lanes in and the strided read's slack too: the plain read.
  if (lo == 0 && hi == width && first + width * stride <= v.w)
    return readStrided(b, loc, v.plane, {row}, cIdx(b, loc, first), width,
                       stride);
  // Read a window inside the plane that holds lanes [lo, hi): the plain
  // read's width·stride columns moved inside when the plane is that wide
  // (one full vector load), else just the columns needed; then place the
  // lanes and fill the others with zeros.
  int64_t count = width * stride, from = first;
  if (count <= v.w)
    from = std::clamp<int64_t>(first, 0, v.w - count);
  else
    count = (hi - 1 - lo) * stride + 1;
  if (permutedLanes(width, stride) && count == width * stride) {
    // One 16 → 8 shuffle that also takes zeros is a chain of inserts on
    // AVX2; as two it is the usual vshufps, then one 8-lane permute and
    // blend: the vshufps gives lane l the window's element
    // 2·laneColumn(l) + parity, which is output column laneColumn(l) − d.
    int64_t parity = (first - from) % 2;
    int64_t d = (first - from - parity) / 2 - lo;
    SmallVector<int64_t> pick, place;
    for (int64_t l = 0; l < width; ++l)
      pick.push_back(laneColumn(l, width, stride) * 2 + parity);
    // (Two reads, as for the windows of emitDepthwiseChunk.)
    Value lanes = vector::ShuffleOp::create(
        b, loc, readVector(b, loc, v.plane, {row, cIdx(b, loc, from)}, width),
        readVector(b, loc, v.plane, {row, cIdx(b, loc, from + width)}, width),
        pick);
    for (int64_t l = 0; l < width; ++l) {
      int64_t o = laneColumn(l, width, stride);
      place.push_back(o >= lo && o < hi
                          ? laneColumn(o + d, width, stride)
                          : width);
    }
    return vector::ShuffleOp::create(b, loc, lanes,
                                     splat(b, loc, width, 0.0), place);
  }
  Value inside = readVector(b, loc, v.plane, {row, cIdx(b, loc, from)}, count);
  Value zeros = splat(b, loc, count, 0.0);
  SmallVector<int64_t> mask;
  for (int64_t l = 0; l < width; ++l) {
    int64_t o = laneColumn(l, width, stride);
    mask.push_back(o >= lo && o < hi ? first - from + (o - lo) * stride
                                     : count);
  }
  return vector::ShuffleOp::create(b, loc, inside, zeros, mask);
}

/// The depthwise epilogue of an accumulator vector (lanes in order): f32,
/// the activation; integer (exact integers in f32), to i32, the bias and the
/// requantize.
static Value depthwiseEpilogue(OpBuilder &b, Location loc,
                               const DepthwiseProblem &pr, Value v,
                               Value biasScalar, Value multiplier) {
  if (!pr.integer)
    return activate(b, loc, v, pr.act);
  auto i32Type = cast<VectorType>(v.getType()).clone(b.getI32Type());
  v = arith::FPToSIOp::create(b, loc, i32Type, v);
  if (pr.intBias)
    v = arith::AddIOp::create(
        b, loc, v, vector::BroadcastOp::create(b, loc, i32Type, biasScalar));
  if (pr.requant)
    v = quant::requantizeValue(
        b, loc, v,
        vector::BroadcastOp::create(b, loc, i32Type.clone(b.getF64Type()),
                                    multiplier),
        *pr.requant);
  return v;
}

/// A depthwise accumulator of `width` lanes before its taps: the bias for
/// f32 (integer kernels add theirs in the epilogue), else zeros.
static Value depthwiseAccInit(OpBuilder &b, Location loc,
                              const DepthwiseProblem &pr, Value biasScalar,
                              int64_t width) {
  if (biasScalar && !pr.integer)
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({width}, b.getF32Type()), biasScalar);
  return splat(b, loc, width, 0.0);
}

/// The plane row `d` rows below `ihBase` (the plane row of the first output
/// row's first tap), or null where it is padding: known for a static output
/// row `ohStatic`; the rows of the loop are all inside the plane.
static Value depthwiseInputRow(OpBuilder &b, Location loc,
                               const DepthwiseProblem &pr,
                               const PlaneView &view, Value ihBase,
                               std::optional<int64_t> ohStatic, int64_t d) {
  if (ohStatic) {
    int64_t ih = *ohStatic * pr.sh - view.padTop + d;
    if (ih < 0 || ih >= view.h)
      return Value();
  }
  return addIdx(b, loc, ihBase, d);
}

/// A stride-2 vector in kStride2Lanes order put back in order (the order
/// is its own inverse).
static Value stride2InOrder(OpBuilder &b, Location loc, Value v) {
  SmallVector<int64_t> order(kStride2Lanes, kStride2Lanes + kLanes);
  return vector::ShuffleOp::create(b, loc, v, v, order);
}

/// One output row segment of `widths` vectors starting at column `ow0`,
/// for `numRows` consecutive output rows from `oh` (each input row read
/// once for all the output rows it feeds).
/// `ohStatic` / `ow0Static` are set when the row / segment can touch the
/// padding: its indices are then constants and its reads checked here;
/// otherwise every read is inside the plane (the caller's promise).
static Value emitDepthwiseChunk(OpBuilder &b, Location loc,
                                const DepthwiseProblem &pr,
                                const PlaneView &view, Value oh,
                                std::optional<int64_t> ohStatic,
                                int64_t numRows, Value ow0,
                                std::optional<int64_t> ow0Static,
                                ArrayRef<int64_t> widths, ArrayRef<Value> taps,
                                Value biasScalar, Value multiplier,
                                Value dest) {
  int64_t numW = widths.size();
  SmallVector<Value> accs; // [row][vector]
  for (int64_t r = 0; r < numRows; ++r)
    for (int64_t w : widths)
      accs.push_back(depthwiseAccInit(b, loc, pr, biasScalar, w));
  Value ihBase = addIdx(b, loc, mulIdx(b, loc, oh, pr.sh), -view.padTop);
  Value iwBase = addIdx(b, loc, mulIdx(b, loc, ow0, pr.sw), -view.padLeft);
  // Input rows d = 0 .. (R−1)·sh + (kh−1)·dh below the first output row's
  // top; output row r takes row d as its tap row (d − r·sh) / dh. Each
  // accumulator still sees its taps in (i, j) order.
  int64_t inputRows = (numRows - 1) * pr.sh + (pr.kh - 1) * pr.dh + 1;
  for (int64_t d = 0; d < inputRows; ++d) {
    SmallVector<std::pair<int64_t, int64_t>> uses; // (output row, tap row)
    for (int64_t r = 0; r < numRows; ++r) {
      int64_t t = d - r * pr.sh;
      if (t >= 0 && t % pr.dh == 0 && t / pr.dh < pr.kh)
        uses.push_back({r, t / pr.dh});
    }
    if (uses.empty())
      continue;
    // A row of padding contributes zeros (multiplied in, as a padded
    // plane would: the same result bit for bit, NaN weights included).
    Value ih = depthwiseInputRow(b, loc, pr, view, ihBase, ohStatic, d);
    bool padRow = !ih;
    // Stride 2 inside the plane: the 2·w inputs from an even column give
    // the taps at that column (even lanes) and at the next (odd lanes),
    // so a 3-wide row loads two windows per vector, not three. (Inside:
    // the window lies between the first tap's read and the last's.)
    DenseMap<int64_t, std::pair<Value, Value>> windows;
    for (int64_t j = 0; j < pr.kw; ++j) {
      int64_t col = j * pr.dw, offset = 0;
      for (auto [u, w] : llvm::enumerate(widths)) {
        Value x;
        int64_t at = offset * 2 + col - col % 2;
        bool windowInside =
            pr.sw == 2 &&
            (!ow0Static || (*ow0Static * 2 + at - view.padLeft >= 0 &&
                            *ow0Static * 2 + at - view.padLeft + 2 * w <=
                                view.w));
        if (padRow) {
          x = splat(b, loc, w, 0.0);
        } else if (windowInside) {
          // Two w-wide reads and a two-operand shuffle (one vshufps):
          // as one 2·w-wide read, LLVM narrows a window whose odd lanes no
          // tap uses (the third tap's) into element-by-element inserts.
          auto &window = windows[at];
          if (!window.first) {
            Value col0 = addIdx(b, loc, iwBase, at);
            window = {readVector(b, loc, view.plane, {ih, col0}, w),
                      readVector(b, loc, view.plane,
                                 {ih, addIdx(b, loc, col0, w)}, w)};
          }
          SmallVector<int64_t> mask;
          for (int64_t l = 0; l < w; ++l)
            mask.push_back(laneColumn(l, w, 2) * 2 + col % 2);
          x = vector::ShuffleOp::create(b, loc, window.first, window.second,
                                        mask);
        } else if (ow0Static) {
          x = readLanesStatic(b, loc, view, ih,
                              (*ow0Static + offset) * pr.sw + col, w, pr.sw);
        } else {
          x = readStrided(b, loc, view.plane, {ih},
                          addIdx(b, loc, iwBase, col + offset * pr.sw), w,
                          pr.sw);
        }
        auto type = VectorType::get({w}, b.getF32Type());
        for (auto [r, i] : uses) {
          Value wv =
              vector::BroadcastOp::create(b, loc, type, taps[i * pr.kw + j]);
          Value &acc = accs[r * numW + u];
          acc = vector::FMAOp::create(b, loc, x, wv, acc);
        }
        offset += w;
      }
    }
  }
  for (int64_t r = 0; r < numRows; ++r) {
    Value row = addIdx(b, loc, oh, r);
    int64_t offset = 0;
    for (auto [u, w] : llvm::enumerate(widths)) {
    Value v = accs[r * numW + u];
    if (permutedLanes(w, pr.sw))
      v = stride2InOrder(b, loc, v);
    v = depthwiseEpilogue(b, loc, pr, v, biasScalar, multiplier);
    dest = writeVector(b, loc, v, dest, {row, addIdx(b, loc, ow0, offset)});
    offset += w;
    }
  }
  return dest;
}

/// Writes `width` values of row `row` of the 2-D `dest` from column `col0`
/// on, in 8-wide vectors (a loop, then the tail): value(col, w) gives w.
static Value writeRowChunks(
    OpBuilder &b, Location loc, Value dest, Value row, int64_t col0,
    int64_t width,
    function_ref<Value(OpBuilder &, Location, Value, int64_t)> value) {
  int64_t full = width / kLanes, tail = width % kLanes;
  if (full > 0)
    dest = forCarrying(b, loc, col0, col0 + full * kLanes, kLanes, dest,
                       [&](OpBuilder &nb, Location nl, Value col, Value cur) {
                         return writeVector(nb, nl, value(nb, nl, col, kLanes),
                                            cur, {row, col});
                       });
  if (tail) {
    Value col = cIdx(b, loc, col0 + full * kLanes);
    dest = writeVector(b, loc, value(b, loc, col, tail), dest, {row, col});
  }
  return dest;
}

/// Vectors `width` wide of an [H, W] plane's row `row` from column `col`.
using PlaneSource =
    function_ref<Value(OpBuilder &, Location, Value row, Value col,
                       int64_t width)>;

/// An [H, W] plane of `elt`, each row's values given by `source`, padded by
/// pad = {top, left, bottom, right} with `padValue` (null: zero), written
/// with vector stores (the generic tensor.pad lowering is scalar) into
/// `into` ([H + top + bottom, W + left + right]; null: a new tensor).
static Value padPlane(OpBuilder &b, Location loc, int64_t h, int64_t w,
                      Type elt, ArrayRef<int64_t> pad, PlaneSource source,
                      Value padValue = Value(), Value into = Value()) {
  int64_t hp = h + pad[0] + pad[2], wp = w + pad[1] + pad[3];
  Value dest =
      into ? into
           : tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{hp, wp}, elt)
                 .getResult();
  auto zeros = [&](OpBuilder &nb, Location nl, Value, int64_t width) -> Value {
    auto vt = VectorType::get({width}, elt);
    if (padValue)
      return vector::BroadcastOp::create(nb, nl, vt, padValue);
    return arith::ConstantOp::create(nb, nl, nb.getZeroAttr(vt));
  };
  auto rows = [&](Value dest, int64_t from, int64_t to,
                  CarriedBody body) -> Value {
    if (from >= to)
      return dest;
    return forCarrying(b, loc, from, to, 1, dest, body);
  };
  auto zeroRow = [&](OpBuilder &nb, Location nl, Value r, Value d) {
    return writeRowChunks(nb, nl, d, r, 0, wp, zeros);
  };
  dest = rows(dest, 0, pad[0], zeroRow);
  dest = rows(
      dest, pad[0], pad[0] + h,
      [&](OpBuilder &nb, Location nl, Value r, Value d) {
        if (pad[1])
          d = writeRowChunks(nb, nl, d, r, 0, pad[1], zeros);
        Value srcRow = addIdx(nb, nl, r, -pad[0]);
        d = writeRowChunks(
            nb, nl, d, r, pad[1], w,
            [&](OpBuilder &vb, Location vl, Value col, int64_t width) {
              return source(vb, vl, srcRow, addIdx(vb, vl, col, -pad[1]),
                            width);
            });
        if (wp > pad[1] + w)
          d = writeRowChunks(nb, nl, d, r, pad[1] + w, wp - pad[1] - w, zeros);
        return d;
      });
  return rows(dest, pad[0] + h, hp, zeroRow);
}

/// [N, C, H, W] → [N, C/k, H + top + bottom, W + left + right] of `elt`:
/// plane (n, p) holds `combine` of the input planes (n, k·p .. k·p+k−1)
/// (one vector of each per `combine` call), padded with `padValue` (null:
/// zero). One vector pass per output plane, the planes shared among
/// threads, each written straight into its slice of the result (a
/// tensor.pad and a linalg.generic would be scalar loops, and a plane of
/// its own would be copied in).
static Value
packPlanes(OpBuilder &b, Location loc, Value input, int64_t k, Type elt,
           ArrayRef<int64_t> pad, Value padValue,
           function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)>
               combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t n = type.getDimSize(0), c = type.getDimSize(1) / k;
  int64_t h = type.getDimSize(2), w = type.getDimSize(3);
  int64_t hp = h + pad[0] + pad[2], wp = w + pad[1] + pad[3];
  Value empty =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{n, c, hp, wp}, elt);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(n), b.getIndexAttr(c)},
      ValueRange{empty}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  Value img = forall.getInductionVar(0), ch = forall.getInductionVar(1);
  SmallVector<OpFoldResult> ones(4, fb.getIndexAttr(1));
  SmallVector<Value> planes;
  for (int64_t e = 0; e < k; ++e)
    planes.push_back(tensor::ExtractSliceOp::create(
        fb, loc, RankedTensorType::get({h, w}, type.getElementType()), input,
        ArrayRef<OpFoldResult>{img, addIdx(fb, loc, mulIdx(fb, loc, ch, k), e),
                               fb.getIndexAttr(0), fb.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{fb.getIndexAttr(1), fb.getIndexAttr(1),
                               fb.getIndexAttr(h), fb.getIndexAttr(w)},
        ones));
  SmallVector<OpFoldResult> at = {img, ch, fb.getIndexAttr(0),
                                  fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), fb.getIndexAttr(1),
                                     fb.getIndexAttr(hp), fb.getIndexAttr(wp)};
  Value slot = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get({hp, wp}, elt),
      forall.getRegionIterArgs()[0], at, sizes, ones);
  Value padded = padPlane(
      fb, loc, h, w, elt, pad,
      [&](OpBuilder &vb, Location vl, Value row, Value col, int64_t width) {
        SmallVector<Value> v;
        for (Value plane : planes)
          v.push_back(readVector(vb, vl, plane, {row, col}, width));
        return combine ? combine(vb, vl, v) : v.front();
      },
      padValue, slot);
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      tb, loc, padded, forall.getRegionIterArgs()[0], at, sizes, ones);
  return forall.getResult(0);
}

/// A 4-D NCHW tensor of 32-bit elements padded by pad = {top, left, bottom,
/// right} with `padValue` (null: zero), plane by plane.
static Value padPlanes(OpBuilder &b, Location loc, Value input,
                       ArrayRef<int64_t> pad, Value padValue) {
  return packPlanes(b, loc, input, 1,
                    cast<RankedTensorType>(input.getType()).getElementType(),
                    pad, padValue, nullptr);
}

/// The output rows [lo, hi) of a depthwise plane whose taps read no padding
/// row (`h` input rows, `padTop` padding rows above them).
static std::pair<int64_t, int64_t>
interiorOutputRows(const DepthwiseProblem &pr, int64_t h, int64_t padTop) {
  int64_t lo = std::min(pr.oh, llvm::divideCeilSigned(padTop, pr.sh));
  int64_t hi = std::clamp<int64_t>(
      llvm::divideFloorSigned(h - 1 + padTop - (pr.kh - 1) * pr.dh, pr.sh) + 1,
      lo, pr.oh);
  return {lo, hi};
}

/// The chunk callback of forEachRowChunk: the chunk's first output column
/// (a constant where `first` is set) and whether it is the ragged tail.
using RowChunkFn =
    function_ref<Value(OpBuilder &, Location, Value ow0,
                       std::optional<int64_t> first, bool tail, Value dest)>;

/// One output row as chunks of `step` outputs: chunks [0, lo) and [hi,
/// full) emitted with static columns (they touch the padding), [lo, hi) as
/// an scf.for, then the tail if `tail`.
static Value forEachRowChunk(OpBuilder &b, Location loc, Value dest,
                             int64_t step, int64_t lo, int64_t hi, int64_t full,
                             bool tail, RowChunkFn chunk) {
  auto staticChunk = [&](int64_t k, bool isTail) {
    dest = chunk(b, loc, cIdx(b, loc, k * step), k * step, isTail, dest);
  };
  for (int64_t k = 0; k < lo; ++k)
    staticChunk(k, false);
  if (hi > lo)
    dest = forCarrying(b, loc, lo * step, hi * step, step, dest,
                       [&](OpBuilder &nb, Location nl, Value ow0, Value cur) {
                         return chunk(nb, nl, ow0, std::nullopt, false, cur);
                       });
  for (int64_t k = hi; k < full; ++k)
    staticChunk(k, false);
  if (tail)
    staticChunk(full, true);
  return dest;
}

/// The callback of forEachOutputRow: `numRows` output rows from `oh` (a
/// constant where `ohStatic` is set).
using OutputRowsFn = function_ref<Value(OpBuilder &, Location, Value oh,
                                        std::optional<int64_t> ohStatic,
                                        int64_t numRows, Value dest)>;

/// Output rows [0, numOut) of a plane: rows [lo, hi), which read no
/// padding row, as an scf.for taking `group` rows per iteration and the
/// remainder one at a time; the others emitted with static indices.
static Value forEachOutputRow(OpBuilder &b, Location loc, Value dest,
                              int64_t numOut, int64_t lo, int64_t hi,
                              int64_t group, OutputRowsFn rows) {
  for (int64_t oh = 0; oh < lo; ++oh)
    dest = rows(b, loc, cIdx(b, loc, oh), oh, 1, dest);
  int64_t groupEnd = lo + (hi - lo) / group * group;
  if (groupEnd > lo)
    dest = forCarrying(b, loc, lo, groupEnd, group, dest,
                       [&](OpBuilder &nb, Location nl, Value oh, Value cur) {
                         return rows(nb, nl, oh, std::nullopt, group, cur);
                       });
  for (int64_t oh = groupEnd; oh < hi; ++oh)
    dest = rows(b, loc, cIdx(b, loc, oh), std::nullopt, 1, dest);
  for (int64_t oh = hi; oh < numOut; ++oh)
    dest = rows(b, loc, cIdx(b, loc, oh), oh, 1, dest);
  return dest;
}

/// Stride-2, 3-tap rows as pair sums (DepthwiseProblem::pairSums): output
/// o of an 8-wide chunk takes the plane columns a + 2·o − 1, a + 2·o and
/// a + 2·o + 1, a being the chunk's first middle tap. The sixteen
/// columns from a hold, pair by pair, the middle and last taps of the eight
/// outputs, so multiplying them by [w1 w2 w1 w2 …] (a constant vector per
/// tap row) and summing the pairs gives those two taps. The sixteen from
/// a − 2 hold the first taps in their odd lanes: one in-lane shuffle
/// (vshufps) picks them in the pair sums' lane order, one FMA by w0 adds
/// them to y (from the bias); their even lanes are never multiplied, so an
/// infinite input there poisons nothing. One qfuse.pair_sums (vhaddps) of
/// x plus y gives the eight outputs in that order (kStride2Lanes), put back
/// in order once: 9 FMAs, three shuffles, one pair sum, one add and one
/// permute per chunk. On Zen 3 only the FMAs and the permute use the two
/// FMA pipes; the blends of the first taps' odd lanes that this form
/// replaced (12 FMAs and 2 blends) did too, and bound the kernel there
/// (0.14 → 0.12 ms for MobileNetV2's 112×112×96). Deinterleaving every tap
/// row's input instead costs about nine shuffles for nine FMAs.
static Value emitDepthwisePairChunk(
    OpBuilder &b, Location loc, const DepthwiseProblem &pr,
    const PlaneView &view, Value oh, std::optional<int64_t> ohStatic, Value ow0,
    std::optional<int64_t> ow0Static, int64_t width, ArrayRef<Value> pairTaps,
    ArrayRef<Value> firstTaps, Value biasScalar, Value multiplier, Value dest) {
  Value ihBase = addIdx(b, loc, mulIdx(b, loc, oh, pr.sh), -view.padTop);
  // Plane column of the chunk's first middle tap.
  Value a = addIdx(b, loc, mulIdx(b, loc, ow0, 2), 1 - view.padLeft);
  // Sixteen columns from `from` (relative to a) as two vectors: plain reads
  // inside the plane; static chunks near its edges read through
  // readLanesStatic, which leaves zeros where the columns are padding.
  auto window = [&](Value ih, int64_t from) -> std::pair<Value, Value> {
    if (!ih)
      return {splat(b, loc, kLanes, 0.0), splat(b, loc, kLanes, 0.0)};
    if (ow0Static) {
      int64_t start = *ow0Static * 2 + 1 + from; // padded coordinates
      return {readLanesStatic(b, loc, view, ih, start, kLanes, 1),
              readLanesStatic(b, loc, view, ih, start + kLanes, kLanes, 1)};
    }
    Value col = addIdx(b, loc, a, from);
    return {readVector(b, loc, view.plane, {ih, col}, kLanes),
            readVector(b, loc, view.plane, {ih, addIdx(b, loc, col, kLanes)},
                       kLanes)};
  };
  // Tap row i's plane row (null: padding, read as zeros).
  SmallVector<Value> rows;
  for (int64_t i = 0; i < pr.kh; ++i)
    rows.push_back(
        depthwiseInputRow(b, loc, pr, view, ihBase, ohStatic, i * pr.dh));
  // x: the middle and last taps pair by pair; y: the first taps, from the
  // bias, one output per lane in the pair sums' order. Each tap row's
  // window from a − 2 gives y its odd lanes with one in-lane shuffle (the
  // even ones, the first-tap columns of no output, are never multiplied,
  // so an infinite input there poisons nothing). Output o's first tap,
  // column a − 1 + 2·o, is the window's lane 2·o + 1.
  SmallVector<int64_t> oddLanes;
  for (int64_t l = 0; l < kLanes; ++l)
    oddLanes.push_back(2 * kStride2Lanes[l] + 1);
  Value y = depthwiseAccInit(b, loc, pr, biasScalar, kLanes);
  Value x[2];
  x[0] = x[1] = splat(b, loc, kLanes, 0.0);
  for (int64_t i = 0; i < pr.kh; ++i) {
    auto [x0, x1] = window(rows[i], 0);
    x[0] = vector::FMAOp::create(b, loc, x0, pairTaps[i], x[0]);
    x[1] = vector::FMAOp::create(b, loc, x1, pairTaps[i], x[1]);
    auto [y0, y1] = window(rows[i], -2);
    Value first = vector::ShuffleOp::create(b, loc, y0, y1, oddLanes);
    y = vector::FMAOp::create(b, loc, first, firstTaps[i], y);
  }
  Value v =
      arith::AddFOp::create(b, loc, PairSumsOp::create(b, loc, x[0], x[1]), y);
  v = stride2InOrder(b, loc, v);
  if (width < kLanes) {
    SmallVector<int64_t> first;
    for (int64_t l = 0; l < width; ++l)
      first.push_back(l);
    v = vector::ShuffleOp::create(b, loc, v, v, first);
  }
  v = depthwiseEpilogue(b, loc, pr, v, biasScalar, multiplier);
  return writeVector(b, loc, v, dest, {oh, ow0});
}

static Value emitDepthwise(OpBuilder &b, Location loc,
                           const DepthwiseProblem &pr, Value out) {
  auto f32 = b.getF32Type();
  int64_t chunk = kDepthwiseVectors * kLanes;
  int64_t fullChunks = pr.ow / chunk, tail = pr.ow % chunk;
  SmallVector<int64_t> full(kDepthwiseVectors, kLanes), tailWidths;
  for (int64_t t = tail; t > 0; t -= std::min(t, kLanes))
    tailWidths.push_back(std::min(t, kLanes));

  auto forall =
      scf::ForallOp::create(b, loc,
                            ArrayRef<OpFoldResult>{b.getIndexAttr(pr.batch),
                                                   b.getIndexAttr(pr.channels)},
                            ValueRange{out}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  Value n = forall.getInductionVar(0), c = forall.getInductionVar(1);
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offs = {n, c, fb.getIndexAttr(0),
                                    fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), fb.getIndexAttr(1),
                                     fb.getIndexAttr(pr.oh),
                                     fb.getIndexAttr(pr.ow)};
  SmallVector<OpFoldResult> ones(4, fb.getIndexAttr(1));
  Value plane = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get({pr.oh, pr.ow}, pr.outElt), shared, offs,
      sizes, ones);
  auto inType = cast<RankedTensorType>(pr.input.getType());
  int64_t h = inType.getDimSize(2), w = inType.getDimSize(3);
  Value input = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get({h, w}, inType.getElementType()), pr.input,
      ArrayRef<OpFoldResult>{n, c, fb.getIndexAttr(0), fb.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{fb.getIndexAttr(1), fb.getIndexAttr(1),
                             fb.getIndexAttr(h), fb.getIndexAttr(w)},
      ones);
  // f32 planes are read in place; integer ones are centred into an f32
  // plane first (one conversion per input, not one per tap), read as the
  // f32 ones are: its padding is the zero point, 0 once centred.
  PlaneView view{input, h, w, pr.pad[0], pr.pad[1]};
  if (pr.integer) {
    Value plane = input;
    input = padPlane(
        fb, loc, h, w, f32, {0, 0, 0, 0},
        [&](OpBuilder &vb, Location vl, Value row, Value col,
            int64_t width) -> Value {
          Value v = readVector(vb, vl, plane, {row, col}, width);
          auto vt = cast<VectorType>(v.getType());
          Type i32 = vb.getI32Type();
          Value x = quant::castInt(vb, vl, v, i32, pr.inputUint8);
          Value z =
              vector::BroadcastOp::create(vb, vl, vt.clone(i32), pr.zeroPoint);
          return arith::SIToFPOp::create(vb, vl, vt.clone(f32),
                                         arith::SubIOp::create(vb, vl, x, z));
        });
    view.plane = input;
  }
  Value zero = cIdx(fb, loc, 0);
  SmallVector<Value> taps;
  for (int64_t i = 0; i < pr.kh; ++i)
    for (int64_t j = 0; j < pr.kw; ++j)
      taps.push_back(tensor::ExtractOp::create(
          fb, loc, pr.weight,
          ValueRange{c, zero, cIdx(fb, loc, i), cIdx(fb, loc, j)}));
  Value biasTensor = pr.integer ? pr.intBias : pr.bias;
  Value biasScalar =
      biasTensor ? tensor::ExtractOp::create(fb, loc, biasTensor, ValueRange{c})
                       .getResult()
                 : Value();
  Value multiplier =
      pr.requant ? tensor::ExtractOp::create(fb, loc, pr.requant->multiplier,
                                             ValueRange{c})
                       .getResult()
                 : Value();

  // Output rows [ohLo, ohHi) read only rows of the plane (loops); the
  // others touch the top or bottom padding and are emitted one by one.
  auto [ohLo, ohHi] = interiorOutputRows(pr, view.h, view.padTop);
  auto insertRows = [&](Value rows) {
    OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(tb, loc, rows, shared, offs, sizes,
                                          ones);
    return forall.getResult(0);
  };
  if (pr.usesPairSums()) {
    // Per tap row i: [w_i1 w_i2 w_i1 w_i2 …] and w_i0 broadcast.
    auto vt = VectorType::get({kLanes}, f32);
    SmallVector<Value> pairTaps, firstTaps;
    for (int64_t i = 0; i < pr.kh; ++i) {
      SmallVector<Value> lanes;
      for (int64_t l = 0; l < kLanes; ++l)
        lanes.push_back(taps[i * 3 + 1 + l % 2]);
      pairTaps.push_back(vector::FromElementsOp::create(fb, loc, vt, lanes));
      firstTaps.push_back(
          vector::BroadcastOp::create(fb, loc, vt, taps[i * 3]));
    }
    // Chunk j (outputs 8·j …) reads the plane's columns 16·j − 1 − padLeft
    // to 16·j + 16 − padLeft: chunks [jLo, jHi) stay inside it (a loop).
    int64_t vectors = pr.ow / kLanes, rest = pr.ow % kLanes;
    int64_t jLo =
        std::min(vectors, llvm::divideCeilSigned(view.padLeft + 1, 2 * kLanes));
    int64_t jHi = std::clamp<int64_t>(
        llvm::divideFloorSigned(view.w + view.padLeft - 17, 2 * kLanes) + 1,
        jLo, vectors);
    auto pairRow = [&](OpBuilder &rb, Location rl, Value oh,
                       std::optional<int64_t> ohStatic, int64_t, Value cur) {
      return forEachRowChunk(
          rb, rl, cur, kLanes, jLo, jHi, vectors, rest > 0,
          [&](OpBuilder &cb, Location cl, Value ow0,
              std::optional<int64_t> first, bool isTail, Value dest) {
            return emitDepthwisePairChunk(cb, cl, pr, view, oh, ohStatic, ow0,
                                          first, isTail ? rest : kLanes,
                                          pairTaps, firstTaps, biasScalar,
                                          multiplier, dest);
          });
    };
    Value rows =
        forEachOutputRow(fb, loc, plane, pr.oh, ohLo, ohHi, 1, pairRow);
    return insertRows(rows);
  }

  // Chunk k of a row reads columns from k·chunk·sw − padLeft (its first
  // tap) to (k+1)·chunk·sw − padLeft + (kw−1)·dw (its last tap's strided
  // read): chunks [kLo, kHi) stay inside the plane and run in a loop; the
  // others, and the ragged tail, are emitted with static columns.
  int64_t span = chunk * pr.sw, reach = (pr.kw - 1) * pr.dw;
  int64_t kLo = std::min(fullChunks, llvm::divideCeilSigned(view.padLeft, span));
  int64_t kHi = std::clamp<int64_t>(
      llvm::divideFloorSigned(view.w + view.padLeft - reach, span), kLo,
      fullChunks);
  auto emitRow = [&](OpBuilder &rb, Location rl, Value oh,
                     std::optional<int64_t> ohStatic, int64_t numRows,
                     Value cur) {
    return forEachRowChunk(
        rb, rl, cur, chunk, kLo, kHi, fullChunks, tail > 0,
        [&](OpBuilder &cb, Location cl, Value ow0, std::optional<int64_t> first,
            bool isTail, Value dest) {
          return emitDepthwiseChunk(
              cb, cl, pr, view, oh, ohStatic, numRows, ow0, first,
              isTail ? ArrayRef<int64_t>(tailWidths) : ArrayRef<int64_t>(full),
              taps, biasScalar, multiplier, dest);
        });
  };
  // The interior rows go kDepthwiseRows at a time (the input rows they
  // share read once), a remainder row after them.
  Value rows = forEachOutputRow(fb, loc, plane, pr.oh, ohLo, ohHi,
                                kDepthwiseRows, emitRow);
  return insertRows(rows);
}

//===----------------------------------------------------------------------===//
// Depthwise kernel on channel-blocked activations
//===----------------------------------------------------------------------===//

/// Output pixels per register tile of the channel-blocked depthwise kernel:
/// 4 accumulators beside a 3×3 kernel's 9 tap vectors and the input.
constexpr int64_t kBlockedPixels = 4;
constexpr int64_t kFloatBytes = 4;
/// memref.prefetch locality of the blocked depthwise kernel's prefetches.
constexpr int32_t kPrefetchLocality = 3;

/// Whether `op` (a linalg.pack or linalg.unpack) moves between NCHW and
/// channel blocks of kLanes, [N, C/8, H, W, 8] (nChw8c, the layout of
/// oneDNN's depthwise kernels): inner dimension 1 in tiles of kLanes, the
/// outer dimensions in order, every block full.
template <typename RelayoutOp>
static bool isChannelBlocking(RelayoutOp op, RankedTensorType plain) {
  ArrayRef<int64_t> perm = op.getOuterDimsPerm();
  for (auto [i, p] : llvm::enumerate(perm))
    if (p != static_cast<int64_t>(i))
      return false;
  return plain.getRank() == 4 && plain.hasStaticShape() &&
         plain.getDimSize(1) % kLanes == 0 &&
         op.getInnerDimsPos() == ArrayRef<int64_t>{1} &&
         op.getStaticInnerTiles() == ArrayRef<int64_t>{kLanes};
}

/// The channel-blocked source of `v` when it is one (a linalg.unpack from
/// nChw8c), else null.
static linalg::UnPackOp blockedSource(Value v) {
  auto unpack = v.getDefiningOp<linalg::UnPackOp>();
  if (!unpack || !isChannelBlocking(unpack, unpack.getDestType()))
    return {};
  return unpack;
}

/// The one use of `v` when it puts `v` into channel blocks (a linalg.pack
/// to nChw8c), else null.
static linalg::PackOp blockedUse(Value v) {
  if (!v.hasOneUse())
    return {};
  auto pack = dyn_cast<linalg::PackOp>(*v.getUsers().begin());
  if (!pack || pack.getSource() != v ||
      !isChannelBlocking(pack, pack.getSourceType()))
    return {};
  return pack;
}

/// Depthwise convolution from and to channel-blocked activations: `x5` and
/// the result are [N, C/8, H, W, 8]. Each vector holds one pixel's 8
/// channels, so a tap is one FMA of an input vector by that tap's 8 weights
/// (gathered once per block), with no shuffle at any stride; a register
/// tile is kBlockedPixels adjacent output pixels, whose taps read each
/// input column once (at stride 2, 9 reads per row for 4 pixels' 12 taps).
/// Rows and column tiles that touch the padding are emitted with static
/// indices and multiply zeros there, as the padded convolution does (so a
/// NaN weight still gives NaN at the edges); the others run in loops.
/// Per accumulator the taps go in the generic order (bias, then row by row,
/// left to right).
static Value emitBlockedDepthwise(OpBuilder &b, Location loc,
                                  const DepthwiseProblem &pr, Value x5,
                                  Value out5) {
  auto f32 = b.getF32Type();
  auto vt = VectorType::get({kLanes}, f32);
  auto inType = cast<RankedTensorType>(x5.getType());
  int64_t h = inType.getDimSize(2), w = inType.getDimSize(3);
  int64_t blocks = pr.channels / kLanes;
  int64_t padTop = pr.pad[0], padLeft = pr.pad[1];
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{b.getIndexAttr(pr.batch), b.getIndexAttr(blocks)},
      ValueRange{out5}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  Value n = forall.getInductionVar(0), cb = forall.getInductionVar(1);
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> ones(5, fb.getIndexAttr(1));
  auto blockOf =
      [&](Value src, int64_t rows,
          int64_t cols) -> std::pair<Value, SmallVector<OpFoldResult>> {
    SmallVector<OpFoldResult> sizes = {
        fb.getIndexAttr(1), fb.getIndexAttr(1), fb.getIndexAttr(rows),
        fb.getIndexAttr(cols), fb.getIndexAttr(kLanes)};
    return {tensor::ExtractSliceOp::create(
                fb, loc, RankedTensorType::get({rows, cols, kLanes}, f32), src,
                ArrayRef<OpFoldResult>{n, cb, fb.getIndexAttr(0),
                                       fb.getIndexAttr(0), fb.getIndexAttr(0)},
                sizes, ones),
            sizes};
  };
  Value input = blockOf(x5, h, w).first;
  auto [plane, outSizes] = blockOf(shared, pr.oh, pr.ow);
  // The taps' weight vectors (lane l: channel 8·cb + l) and the bias.
  Value c0 = mulIdx(fb, loc, cb, kLanes), zero = cIdx(fb, loc, 0);
  SmallVector<Value> taps;
  for (int64_t i = 0; i < pr.kh; ++i)
    for (int64_t j = 0; j < pr.kw; ++j) {
      SmallVector<Value> lanes;
      for (int64_t l = 0; l < kLanes; ++l)
        lanes.push_back(tensor::ExtractOp::create(
            fb, loc, pr.weight,
            ValueRange{addIdx(fb, loc, c0, l), zero, cIdx(fb, loc, i),
                       cIdx(fb, loc, j)}));
      taps.push_back(vector::FromElementsOp::create(fb, loc, vt, lanes));
    }
  Value bias = pr.bias ? readVector(fb, loc, pr.bias, {c0}, kLanes)
                       : splat(fb, loc, kLanes, 0.0);

  // Rows [ohLo, ohHi) and column tiles [tLo, tHi) read no padding.
  auto [ohLo, ohHi] = interiorOutputRows(pr, h, padTop);
  int64_t tilePx = kBlockedPixels, fullTiles = pr.ow / tilePx,
          tail = pr.ow % tilePx;
  int64_t reach = (tilePx - 1) * pr.sw + (pr.kw - 1) * pr.dw;
  int64_t tLo =
      std::min(fullTiles, llvm::divideCeilSigned(padLeft, tilePx * pr.sw));
  int64_t tHi = std::clamp<int64_t>(
      llvm::divideFloorSigned(w - 1 + padLeft - reach, tilePx * pr.sw) + 1, tLo,
      fullTiles);
  // Prefetches `pfRows` input rows (at least the row stride) below the rows
  // a tile reads: per tile the sh rows and tilePx·sw columns that the same
  // tile pfRows / sh output rows later is the first to read, one per
  // 64-byte line (two pixels of a block), the rows clamped to the plane.
  int64_t pfRows =
      pr.prefetchBytes > 0
          ? std::max<int64_t>(pr.sh, llvm::divideCeil(pr.prefetchBytes,
                                                      w * kLanes * kFloatBytes))
          : 0;
  auto prefetchAhead = [&](OpBuilder &kb, Location cl, Value ihBase,
                           Value iwBase, std::optional<int64_t> owStatic,
                           int64_t pixels) {
    int64_t newest = (pr.kh - 1) * pr.dh + pfRows;
    for (int64_t r = 0; r < pr.sh; ++r) {
      Value row = arith::MinSIOp::create(
          kb, cl, addIdx(kb, cl, ihBase, newest - r), cIdx(kb, cl, h - 1));
      // (Below the plane only with padding beyond the taps' reach.)
      if (newest - r - padTop < 0)
        row = arith::MaxSIOp::create(kb, cl, row, zero);
      for (int64_t c = 0; c < pixels * pr.sw; c += 2) {
        Value col = addIdx(kb, cl, iwBase, c);
        if (owStatic)
          col = cIdx(
              kb, cl,
              std::clamp<int64_t>(*owStatic * pr.sw - padLeft + c, 0, w - 1));
        PrefetchOp::create(kb, cl, input, ValueRange{row, col, zero},
                           /*locality=*/kPrefetchLocality);
      }
    }
  };
  auto tile = [&](OpBuilder &kb, Location cl, Value oh,
                  std::optional<int64_t> ohStatic, Value ow0,
                  std::optional<int64_t> owStatic, int64_t pixels, Value dest) {
    SmallVector<Value> acc(pixels, bias);
    Value zeros = splat(kb, cl, kLanes, 0.0);
    Value ihBase = addIdx(kb, cl, mulIdx(kb, cl, oh, pr.sh), -padTop);
    Value iwBase = addIdx(kb, cl, mulIdx(kb, cl, ow0, pr.sw), -padLeft);
    if (pfRows > 0)
      prefetchAhead(kb, cl, ihBase, iwBase, owStatic, pixels);
    int64_t cols = (pixels - 1) * pr.sw + (pr.kw - 1) * pr.dw + 1;
    for (int64_t i = 0; i < pr.kh; ++i) {
      bool rowPad = false;
      if (ohStatic) {
        int64_t ih = *ohStatic * pr.sh - padTop + i * pr.dh;
        rowPad = ih < 0 || ih >= h;
      }
      for (int64_t c = 0; c < cols; ++c) {
        SmallVector<std::pair<int64_t, int64_t>> uses; // (pixel, tap column)
        for (int64_t p = 0; p < pixels; ++p)
          if (c >= p * pr.sw && (c - p * pr.sw) % pr.dw == 0 &&
              (c - p * pr.sw) / pr.dw < pr.kw)
            uses.push_back({p, (c - p * pr.sw) / pr.dw});
        if (uses.empty())
          continue;
        bool colPad = false;
        if (owStatic) {
          int64_t iw = *owStatic * pr.sw - padLeft + c;
          colPad = iw < 0 || iw >= w;
        }
        Value v = rowPad || colPad
                      ? zeros
                      : readVector(kb, cl, input,
                                   {addIdx(kb, cl, ihBase, i * pr.dh),
                                    addIdx(kb, cl, iwBase, c), zero},
                                   kLanes);
        for (auto [p, j] : uses)
          acc[p] =
              vector::FMAOp::create(kb, cl, v, taps[i * pr.kw + j], acc[p]);
      }
    }
    for (int64_t p = 0; p < pixels; ++p) {
      Value v = activate(kb, cl, acc[p], pr.act);
      SmallVector<Value> at = {oh, addIdx(kb, cl, ow0, p), zero};
      dest = pr.nontemporal
                 ? NontemporalWriteOp::create(kb, cl, v, dest, at).getResult()
                 : writeVector(kb, cl, v, dest, at);
    }
    return dest;
  };
  Value rows = forEachOutputRow(
      fb, loc, plane, pr.oh, ohLo, ohHi, 1,
      [&](OpBuilder &rb, Location rl, Value oh, std::optional<int64_t> ohStatic,
          int64_t, Value cur) {
        return forEachRowChunk(
            rb, rl, cur, tilePx, tLo, tHi, fullTiles, tail > 0,
            [&](OpBuilder &kb, Location cl, Value ow0,
                std::optional<int64_t> first, bool isTail, Value dest) {
              return tile(kb, cl, oh, ohStatic, ow0, first,
                          isTail ? tail : tilePx, dest);
            });
      });
  // Non-temporal stores are weakly ordered: each work item's are made
  // visible before the loop's barrier lets another thread read them.
  if (pr.nontemporal)
    StoreFenceOp::create(fb, loc);
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      tb, loc, rows, shared,
      ArrayRef<OpFoldResult>{n, cb, tb.getIndexAttr(0), tb.getIndexAttr(0),
                             tb.getIndexAttr(0)},
      outSizes, ones);
  return forall.getResult(0);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//


/// The pixel vectors of an integer pointwise tile (forced, else 2): each
/// integer product needs a temporary register beside the accumulators,
/// the weight broadcast and the inputs, and 3 vectors (12 accumulators with
/// 4 channels) spill: ResNet-50's 64→256 in the pairs form ran 1.25 ms
/// with 3, 1.01 with 2.
static int64_t integerPointwiseVectors(bool pointwise, const Options &opts) {
  if (!pointwise || opts.vectors > 0)
    return opts.vectors;
  return 2;
}

/// Why `op` cannot take a vector kernel, or empty.
static std::string unsupportedReason(Operation *op) {
  for (Type t : op->getOperandTypes()) {
    auto shaped = cast<ShapedType>(t);
    if (!shaped.getElementType().isF32())
      return "the vector kernels are f32; this op has " +
             llvm::formatv("{0}", shaped.getElementType()).str() + " operands";
    if (!shaped.hasStaticShape())
      return "dynamic shapes";
  }
  return "";
}

static void remarkTaken(Operation *op, StringRef what) {
  kernels::remarkTaken(op, "ConvToVector", what);
}

static LogicalResult remarkLeft(Operation *op, StringRef why) {
  return kernels::remarkLeft(op, "ConvToVector", why);
}

/// Whether `op` takes the dense kernel with a channel-blocked end (see
/// lowerConv): f32 with static shapes, 2-D, one group, whole blocks of
/// output channels, no negative padding.
static bool denseTakesBlocks(ConvOp op) {
  return unsupportedReason(op).empty() && op.getNumSpatialDims() == 2 &&
         op.getGroups() == 1 && op.getType().getDimSize(1) % kLanes == 0 &&
         llvm::all_of(op.getPadding(), [](int64_t v) { return v >= 0; });
}

/// Whether `op` is a depthwise convolution the blocked kernel can take.
static bool blockableDepthwise(ConvOp op) {
  int64_t c = op.getType().getDimSize(1);
  return unsupportedReason(op).empty() && op.getNumSpatialDims() == 2 &&
         static_cast<int64_t>(op.getGroups()) == c &&
         op.getInput().getType().getDimSize(1) == c && c % kLanes == 0 &&
         llvm::all_of(op.getPadding(), [](int64_t v) { return v >= 0; });
}

/// Puts the activations on both sides of a depthwise convolution into
/// 8-channel blocks (nChw8c) where its neighbours take them too: conv A ->
/// depthwise B -> conv C (MobileNet's expand, depthwise and project), each
/// result used once, become A -> pack -> unpack -> B -> pack -> unpack -> C.
/// Lowering then lets no relayout run: A writes blocks, B reads and writes
/// them (emitBlockedDepthwise), C reads them. The blocked depthwise kernel
/// needs no shuffles at any stride; the dense kernels store whole channel
/// vectors instead of transposing them.
static void blockDepthwiseChains(Operation *root) {
  SmallVector<ConvOp> chains;
  root->walk([&](ConvOp dw) {
    if (!blockableDepthwise(dw) || !dw->hasOneUse())
      return;
    auto producer = dw.getInput().getDefiningOp<ConvOp>();
    auto consumer = dyn_cast<ConvOp>(*dw->getUsers().begin());
    if (producer && producer->hasOneUse() && denseTakesBlocks(producer) &&
        consumer && consumer.getInput() == dw.getResult() &&
        denseTakesBlocks(consumer))
      chains.push_back(dw);
  });
  auto block = [](Value v, Operation *user) {
    OpBuilder b(user->getContext());
    b.setInsertionPointAfterValue(v);
    Location loc = v.getLoc();
    auto type = cast<RankedTensorType>(v.getType());
    ArrayRef<int64_t> shape = type.getShape();
    SmallVector<int64_t> blocks = {shape[0], shape[1] / kLanes, shape[2],
                                   shape[3], kLanes};
    SmallVector<OpFoldResult> tile = {b.getIndexAttr(kLanes)};
    Type elt = type.getElementType();
    Value packed = linalg::PackOp::create(
        b, loc, v, tensor::EmptyOp::create(b, loc, blocks, elt), {1}, tile);
    Value unpacked = linalg::UnPackOp::create(
        b, loc, packed, tensor::EmptyOp::create(b, loc, shape, elt), {1}, tile);
    user->setOperand(0, unpacked);
  };
  for (ConvOp dw : chains) {
    Operation *consumer = *dw->getUsers().begin();
    block(dw.getInput(), dw);
    block(dw.getResult(), consumer);
  }
}

/// The constant weight `w` of a transposed convolution, [Cin, Cout/G, K...],
/// as the weight of an ordinary convolution, [Cout, Cin/G, subK...], over
/// the taps r + (subK − 1 − j)·s of each dimension (flipped):
///   W'[g·CoutPg + co, ci, j] = W[g·CinPg + ci, co, r + (subK − 1 − j)·s].
/// r = 0, s = 1 and subK = K give the whole kernel flipped. Exact (a
/// selection of the values).
static Value transposedWeight(OpBuilder &b, Location loc, ArrayRef<double> w,
                              int64_t groups, int64_t cinPg, int64_t coutPg,
                              ArrayRef<int64_t> kernel, ArrayRef<int64_t> subK,
                              ArrayRef<int64_t> r, ArrayRef<int64_t> strides) {
  int64_t sd = kernel.size(), taps = 1, subTaps = 1;
  for (int64_t d = 0; d < sd; ++d) {
    taps *= kernel[d];
    subTaps *= subK[d];
  }
  SmallVector<float> out(groups * coutPg * cinPg * subTaps);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t co = 0; co < coutPg; ++co)
      for (int64_t ci = 0; ci < cinPg; ++ci)
        for (int64_t t = 0; t < subTaps; ++t) {
          int64_t rest = t, tap = 0, stride = 1;
          for (int64_t d = sd - 1; d >= 0; --d) {
            int64_t j = rest % subK[d];
            rest /= subK[d];
            tap += (r[d] + (subK[d] - 1 - j) * strides[d]) * stride;
            stride *= kernel[d];
          }
          out[((g * coutPg + co) * cinPg + ci) * subTaps + t] =
              static_cast<float>(
                  w[((g * cinPg + ci) * coutPg + co) * taps + tap]);
        }
  SmallVector<int64_t> shape = {groups * coutPg, cinPg};
  llvm::append_range(shape, subK);
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(shape, b.getF32Type()),
                             ArrayRef<float>(out)));
}

/// A transposed convolution (dilation 1, every kernel dimension at least its
/// stride) as stride^S ordinary stride-1 convolutions, one per output phase
/// r (output o with (o + pad_begin) mod s = r in every dimension): phase r
/// reads only the taps k = r + j·s, so it is a convolution of the undilated
/// input with that sub-kernel, flipped; its outputs are inserted with stride
/// s. No multiply-add hits a zero, unlike asDilatedConv. Returns the convs
/// made (for the kernels), or failure, without a remark, where it does not
/// apply.
static FailureOr<SmallVector<ConvOp>> asPhaseConvs(ConvTransposeOp op) {
  if (!unsupportedReason(op).empty())
    return failure();
  std::optional<SmallVector<double>> w =
      fold::getConstantValues(op.getWeight());
  if (!w)
    return failure();
  auto inType = op.getInput().getType();
  auto wType = op.getWeight().getType();
  auto outType = op.getType();
  int64_t sd = op.getNumSpatialDims(), groups = op.getGroups();
  int64_t cinPg = inType.getDimSize(1) / groups, coutPg = wType.getDimSize(1);
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  ArrayRef<int64_t> strides = op.getStrides();
  bool strided = false;
  for (int64_t d = 0; d < sd; ++d) {
    if (op.getDilations()[d] != 1 || kernel[d] < strides[d])
      return failure();
    strided |= strides[d] > 1;
  }
  if (!strided)
    return failure();

  // Per dimension and residue r: the taps, the first and last q, the crop
  // and padding of the input.
  struct Phase1D {
    int64_t taps, q0, len, cropBegin, cropEnd, padBegin, padEnd, out0;
  };
  SmallVector<SmallVector<Phase1D>> phases(sd);
  for (int64_t d = 0; d < sd; ++d) {
    int64_t st = strides[d], pb = op.getPadding()[d];
    int64_t in = inType.getDimSize(2 + d), out = outType.getDimSize(2 + d);
    for (int64_t r = 0; r < st; ++r) {
      Phase1D p;
      p.taps = llvm::divideCeil(kernel[d] - r, st);
      p.q0 = llvm::divideCeilSigned(pb - r, st);
      int64_t q1 = llvm::divideFloorSigned(out - 1 + pb - r, st);
      p.len = q1 - p.q0 + 1;
      p.out0 = p.q0 * st + r - pb;
      // Output t reads inputs t + q0 − (taps − 1) + j', j' < taps.
      int64_t begin = p.q0 - (p.taps - 1);
      p.cropBegin = std::max<int64_t>(0, begin);
      p.padBegin = std::max<int64_t>(0, -begin);
      int64_t last = p.q0 + p.len - 1; // the last input read
      p.cropEnd = std::max<int64_t>(0, in - 1 - last);
      p.padEnd = std::max<int64_t>(0, last - (in - 1));
      if (p.len > 0 && in - p.cropBegin - p.cropEnd <= 0)
        return failure();
      phases[d].push_back(p);
    }
  }

  OpBuilder b(op);
  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  Value result = tensor::EmptyOp::create(b, loc, outType.getShape(), f32);
  SmallVector<ConvOp> convs;
  SmallVector<NamedAttribute> baseAttrs;
  for (NamedAttribute a : op->getAttrs())
    if (a.getName() != "output_padding" && a.getName() != "strides" &&
        a.getName() != "padding")
      baseAttrs.push_back(a);
  int64_t count = 1;
  for (int64_t st : strides)
    count *= st;
  for (int64_t idx = 0; idx < count; ++idx) {
    SmallVector<int64_t> r(sd);
    for (int64_t d = sd - 1, rest = idx; d >= 0; --d) {
      r[d] = rest % strides[d];
      rest /= strides[d];
    }
    SmallVector<Phase1D> ph;
    bool empty = false;
    for (int64_t d = 0; d < sd; ++d) {
      ph.push_back(phases[d][r[d]]);
      empty |= ph.back().len <= 0;
    }
    if (empty)
      continue;
    // The input, cropped where the phase reads less of it.
    Value x = op.getInput();
    SmallVector<int64_t> xShape(inType.getShape());
    bool crop = false;
    SmallVector<OpFoldResult> offs(2, b.getIndexAttr(0)), sizes,
        ones(2 + sd, b.getIndexAttr(1));
    sizes.push_back(b.getIndexAttr(xShape[0]));
    sizes.push_back(b.getIndexAttr(xShape[1]));
    for (int64_t d = 0; d < sd; ++d) {
      xShape[2 + d] -= ph[d].cropBegin + ph[d].cropEnd;
      crop |= ph[d].cropBegin || ph[d].cropEnd;
      offs.push_back(b.getIndexAttr(ph[d].cropBegin));
      sizes.push_back(b.getIndexAttr(xShape[2 + d]));
    }
    if (crop)
      x = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get(xShape, f32), x, offs, sizes, ones);
    // The phase's sub-kernel: taps r + j·s, flipped.
    SmallVector<int64_t> subK;
    for (int64_t d = 0; d < sd; ++d)
      subK.push_back(ph[d].taps);
    Value subW = transposedWeight(b, loc, *w, groups, cinPg, coutPg, kernel,
                                  subK, r, strides);
    SmallVector<int64_t> pads,
        yShape = {outType.getDimSize(0), outType.getDimSize(1)};
    for (int64_t d = 0; d < sd; ++d)
      pads.push_back(ph[d].padBegin);
    for (int64_t d = 0; d < sd; ++d) {
      pads.push_back(ph[d].padEnd);
      yShape.push_back(ph[d].len);
    }
    SmallVector<NamedAttribute> attrs(baseAttrs);
    attrs.push_back(b.getNamedAttr(
        "strides", b.getDenseI64ArrayAttr(SmallVector<int64_t>(sd, 1))));
    attrs.push_back(b.getNamedAttr("padding", b.getDenseI64ArrayAttr(pads)));
    SmallVector<Value> operands = {x, subW};
    if (op.getBias())
      operands.push_back(op.getBias());
    auto conv = ConvOp::create(
        b, loc, TypeRange{RankedTensorType::get(yShape, f32)}, operands, attrs);
    convs.push_back(conv);
    // Into the output with stride s from the phase's first output.
    SmallVector<OpFoldResult> oOffs(2, b.getIndexAttr(0)), oSizes,
        oStrides(2, b.getIndexAttr(1));
    oSizes.push_back(b.getIndexAttr(yShape[0]));
    oSizes.push_back(b.getIndexAttr(yShape[1]));
    for (int64_t d = 0; d < sd; ++d) {
      oOffs.push_back(b.getIndexAttr(ph[d].out0));
      oSizes.push_back(b.getIndexAttr(ph[d].len));
      oStrides.push_back(b.getIndexAttr(strides[d]));
    }
    result = tensor::InsertSliceOp::create(b, loc, conv.getResult(), result,
                                           oOffs, oSizes, oStrides);
  }
  remarkTaken(op, llvm::formatv("transposed convolution as {0} stride-1 "
                                "convolutions, one per output phase (the "
                                "constant weight split, flipped and "
                                "transposed at compile time)",
                                convs.size())
                      .str());
  op.replaceAllUsesWith(result);
  op.erase();
  return convs;
}

/// A transposed convolution as the ordinary convolution the vector kernels
/// take: the input dilated by the stride (zeros between the elements) and
/// padded by dilation·(K−1) − pad (+ output_padding at the end), the
/// constant weight transposed per group to [Cout, Cin/G, K...] and flipped,
/// stride 1. The zeros cost stride^S times the multiply-adds, which the
/// vector kernel still runs far faster than the generic loops. Fails with a
/// remark when it does not apply (then the generic lowering runs it).
static FailureOr<ConvOp> asDilatedConv(ConvTransposeOp op) {
  std::string why = unsupportedReason(op);
  if (!why.empty())
    return remarkLeft(op, why);
  std::optional<SmallVector<double>> w =
      fold::getConstantValues(op.getWeight());
  if (!w)
    return remarkLeft(op, "a transposed convolution needs a constant weight "
                          "(flipped and transposed at compile time)");
  auto inType = op.getInput().getType();
  auto wType = op.getWeight().getType();
  int64_t s = op.getNumSpatialDims(), groups = op.getGroups();
  int64_t cin = inType.getDimSize(1), cinPg = cin / groups;
  int64_t coutPg = wType.getDimSize(1);
  SmallVector<int64_t> lo(s), hi(s), dilatedShape = {inType.getDimSize(0), cin};
  for (int64_t d = 0; d < s; ++d) {
    int64_t reach = op.getDilations()[d] * (wType.getDimSize(2 + d) - 1);
    lo[d] = reach - op.getPadding()[d];
    hi[d] = reach - op.getPadding()[s + d] + op.getOutputPadding()[d];
    if (lo[d] < 0 || hi[d] < 0)
      return remarkLeft(op, "a transposed convolution with more padding than "
                            "its kernel reach (the input would be cropped)");
    dilatedShape.push_back((inType.getDimSize(2 + d) - 1) * op.getStrides()[d] +
                           1 + lo[d] + hi[d]);
  }
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  // The dilated, padded input: zeros, then x inserted with the stride.
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value dilated =
      linalg::FillOp::create(
          b, loc, ValueRange{zero},
          ValueRange{tensor::EmptyOp::create(b, loc, dilatedShape, f32)})
          .getResult(0);
  SmallVector<OpFoldResult> offs(2, b.getIndexAttr(0)), sizes,
      strides(2, b.getIndexAttr(1));
  for (int64_t d = 0; d < 2 + s; ++d)
    sizes.push_back(b.getIndexAttr(inType.getDimSize(d)));
  for (int64_t d = 0; d < s; ++d) {
    offs.push_back(b.getIndexAttr(lo[d]));
    strides.push_back(b.getIndexAttr(op.getStrides()[d]));
  }
  dilated = tensor::InsertSliceOp::create(b, loc, op.getInput(), dilated, offs,
                                          sizes, strides);
  // The whole kernel, flipped.
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  Value convW =
      transposedWeight(b, loc, *w, groups, cinPg, coutPg, kernel, kernel,
                       SmallVector<int64_t>(s, 0), SmallVector<int64_t>(s, 1));
  SmallVector<NamedAttribute> attrs;
  for (NamedAttribute a : op->getAttrs())
    if (a.getName() != "output_padding" && a.getName() != "strides" &&
        a.getName() != "padding")
      attrs.push_back(a);
  attrs.push_back(b.getNamedAttr(
      "strides", b.getDenseI64ArrayAttr(SmallVector<int64_t>(s, 1))));
  attrs.push_back(b.getNamedAttr(
      "padding", b.getDenseI64ArrayAttr(SmallVector<int64_t>(2 * s, 0))));
  SmallVector<Value> operands = {dilated, convW};
  if (op.getBias())
    operands.push_back(op.getBias());
  auto conv = ConvOp::create(b, loc, TypeRange{op.getType()}, operands, attrs);
  remarkTaken(op, "transposed convolution as a stride-1 convolution on the "
                  "input dilated by the stride (the constant weight flipped "
                  "and transposed at compile time)");
  op.replaceAllUsesWith(conv.getResult());
  op.erase();
  return conv;
}

static LogicalResult lowerConv(ConvOp op, const Options &opts) {
  std::string why = unsupportedReason(op);
  if (!why.empty())
    return remarkLeft(op, why);
  auto inType = op.getInput().getType();
  auto wType = op.getWeight().getType();
  auto outType = op.getType();
  int64_t s = op.getNumSpatialDims(), groups = op.getGroups();
  int64_t cin = inType.getDimSize(1), cout = outType.getDimSize(1);
  int64_t cinPg = cin / groups, coutPg = cout / groups;
  ArrayRef<int64_t> pad = op.getPadding();
  if (llvm::any_of(pad, [](int64_t v) { return v < 0; }))
    return remarkLeft(op, "negative padding");
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2)),
      outSpatial(outType.getShape().drop_front(2));

  if (s == 2 && cinPg == 1 && coutPg == 1) {
    DepthwiseProblem pr{inType.getDimSize(0),
                        cout,
                        kernel[0],
                        kernel[1],
                        op.getStrides()[0],
                        op.getStrides()[1],
                        op.getDilations()[0],
                        op.getDilations()[1],
                        outSpatial[0],
                        outSpatial[1],
                        {pad[0], pad[1], pad[2], pad[3]},
                        op.getInput(),
                        op.getWeight(),
                        op.getBias(),
                        getFusedActivation(op)};
    pr.outElt = b.getF32Type();
    pr.pairSums = opts.depthwisePairSums;
    // Layers that stream through more bytes than the caches hold.
    int64_t inBytes = inType.getNumElements() * kFloatBytes,
            outBytes = outType.getNumElements() * kFloatBytes;
    if (inBytes > opts.prefetchMinBytes)
      pr.prefetchBytes = opts.prefetchBytes;
    pr.nontemporal = opts.nontemporalMinBytes > 0 &&
                     inBytes + outBytes > opts.nontemporalMinBytes;
    // Channel-blocked in and out (a linalg.unpack from nChw8c before, a
    // linalg.pack to it after): the blocked kernel reads and writes the
    // blocks, and neither relayout is left to run.
    linalg::UnPackOp unpack = blockedSource(op.getInput());
    linalg::PackOp pack = blockedUse(op.getResult());
    if (unpack && pack) {
      Value empty = tensor::EmptyOp::create(
          b, loc, pack.getDestType().getShape(), b.getF32Type());
      pack.getResult().replaceAllUsesWith(
          emitBlockedDepthwise(b, loc, pr, unpack.getSource(), empty));
      pack.erase();
      std::string streaming;
      if (pr.prefetchBytes > 0)
        streaming += llvm::formatv("; input prefetched {0} bytes ahead",
                                   pr.prefetchBytes);
      if (pr.nontemporal)
        streaming += "; non-temporal stores";
      remarkTaken(op, "depthwise vector kernel on channel-blocked activations "
                      "(nChw8c in and out): 4 pixels of 8 channels per "
                      "register tile" +
                          streaming);
      op.erase();
      if (unpack.getResult().use_empty())
        unpack.erase();
      return success();
    }
    Value empty =
        tensor::EmptyOp::create(b, loc, outType.getShape(), b.getF32Type());
    op.replaceAllUsesWith(emitDepthwise(b, loc, pr, empty));
    remarkTaken(op, pr.usesPairSums()
                        ? "depthwise vector kernel: 8-wide output-row vectors, "
                          "stride-2 3-tap rows as pair sums"
                        : "depthwise vector kernel: 8-wide output-row vectors");
    op.erase();
    return success();
  }
  bool noPadding = llvm::all_of(pad, [](int64_t v) { return v == 0; });
  bool pointwise =
      llvm::all_of(kernel, [](int64_t k) { return k == 1; }) &&
      llvm::all_of(op.getStrides(), [](int64_t v) { return v == 1; }) &&
      noPadding;
  // Channel-blocked ends (nChw8c, see blockedSource and blockedUse): an
  // input unpacked from 8-channel blocks is read in place where there is no
  // padding to add, and a result whose one use packs it into blocks is
  // written as blocks. The tiles are then channel vectors, also for 1x1
  // (the pointwise kernel's vectors run along the pixels).
  // (denseTakesBlocks is also what blockDepthwiseChains asks before it
  // puts a conv's input or result into blocks.)
  linalg::UnPackOp unpackIn;
  linalg::PackOp packOut;
  if (denseTakesBlocks(op)) {
    unpackIn = blockedSource(op.getInput());
    packOut = blockedUse(op.getResult());
  }
  if (unpackIn || packOut)
    pointwise = false;
  if (!pointwise && coutPg % kLanes != 0)
    return remarkLeft(op, llvm::formatv("{0} output channels per group is not "
                                        "a multiple of {1}",
                                        coutPg, kLanes)
                              .str());

  DenseProblem pr;
  pr.batch = inType.getDimSize(0);
  pr.groups = groups;
  pr.cinPg = cinPg;
  pr.coutPg = coutPg;
  pr.cout = cout;
  pr.kernel = kernel;
  pr.strides.assign(op.getStrides().begin(), op.getStrides().end());
  pr.dilations.assign(op.getDilations().begin(), op.getDilations().end());
  pr.out = outSpatial;
  pr.pixels = 1;
  for (int64_t o : outSpatial)
    pr.pixels *= o;
  pr.act = getFusedActivation(op);
  int64_t inputBytes = 4 * cin * paddedPlaneSize(inType, pad);
  pr.pointwise = pointwise;
  pr.tiling = (pointwise ? choosePointwiseTiling : chooseDenseTiling)(
      coutPg, 4 * wType.getNumElements(), inputBytes, pr.pixels, opts.vectors,
      opts.pixels, opts.order);
  // A 1x1 on channel vectors (a blocked end): 24 channels by 4 pixels where
  // they divide, 7 loads per 12 FMAs rather than 16 by 6's 8 (MobileNetV2's
  // 24->144 expand at 56x56 writing blocks: 0.227 against 0.247 ms).
  if ((unpackIn || packOut) && opts.vectors == 0 && opts.pixels == 0 &&
      llvm::all_of(kernel, [](int64_t k) { return k == 1; }) &&
      coutPg % (3 * kLanes) == 0) {
    pr.tiling.vectors = 3;
    pr.tiling.channels = 3 * kLanes;
    pr.tiling.pixels = std::min<int64_t>(kAccumulators / 3, pr.pixels);
  }
  // 0·w = 0 for every finite w: the padding taps add nothing when the
  // weights are constants and all finite (0·inf is NaN, which the padded
  // convolution keeps).
  DenseElementsAttr constWeight;
  pr.skipPadding =
      matchPattern(op.getWeight(), m_Constant(&constWeight)) &&
      llvm::all_of(constWeight.getValues<APFloat>(),
                   [](const APFloat &v) { return v.isFinite(); });
  chooseRowTiles(pr, pad, inType.getShape(), opts);
  pr.unpaddedInput = !pr.tiling.rowTiles.empty() ||
                     pr.tiling.rowLoopEnd > pr.tiling.rowLoopBegin;
  pr.packed = packWeights(b, loc, op.getWeight(), pr.tiling.channels,
                          static_cast<bool>(unpackIn));
  pr.bias = op.getBias();
  pr.outElt = b.getF32Type();
  pr.blockedInput = static_cast<bool>(unpackIn);
  pr.blockedOutput = static_cast<bool>(packOut);
  auto prepare = [&](OpBuilder &pb, Location pl, Value x) -> Value {
    if (pointwise)
      return collapseSpatial(pb, pl, x);
    if (pr.unpaddedInput)
      return x;
    // (A blocked input, [N, C/8, H, W, 8], is padded in H and W alike.)
    return padSpatial(pb, pl, x, pad.take_front(s), pad.drop_front(s));
  };
  // A pointwise input, a row-tiled one and an unpadded blocked one are read
  // in place: nothing to prepare per image.
  int64_t preparedBytes =
      pointwise || pr.unpaddedInput || (pr.blockedInput && noPadding)
          ? 0
          : inputBytes;
  Value result = emitDenseBatched(
      b, loc, pr, unpackIn ? unpackIn.getSource() : op.getInput(),
      packOut ? packOut.getDestType() : outType, preparedBytes,
      opts.batchPrepareBytes, prepare);
  if (packOut) {
    packOut.getResult().replaceAllUsesWith(result);
    packOut.erase();
  } else {
    op.replaceAllUsesWith(result);
  }
  StringRef blocked = unpackIn && packOut ? ", channel-blocked input and "
                                            "output (nChw8c)"
                      : unpackIn          ? ", channel-blocked input (nChw8c)"
                      : packOut           ? ", channel-blocked output (nChw8c)"
                                          : "";
  remarkTaken(
      op, llvm::formatv(
              "{0} vector kernel: {1} output channels x "
              "{2} pixels per register tile, {3} loop "
              "outermost{4}{5}{6}",
              pointwise ? "pointwise" : "dense", pr.tiling.channels,
              pr.tiling.pixels,
              pr.tiling.weightsOuter ? "channel-block" : "pixel-tile",
              rowTilesRemark(pr),
              oneImageAtATime(pr.batch, preparedBytes, opts.batchPrepareBytes)
                  ? ", one image at a time"
                  : "",
              blocked)
              .str());
  op.erase();
  if (unpackIn && unpackIn.getResult().use_empty())
    unpackIn.erase();
  return success();
}

static LogicalResult lowerLinear(LinearOp op, const Options &opts) {
  std::string why = unsupportedReason(op);
  if (!why.empty())
    return remarkLeft(op, why);
  auto wType = op.getWeight().getType();
  auto outType = op.getType();
  int64_t batch = outType.getDimSize(0), cout = outType.getDimSize(1);
  if (cout % kLanes != 0)
    return remarkLeft(op, llvm::formatv("{0} output features is not a "
                                        "multiple of {1}",
                                        cout, kLanes)
                              .str());
  OpBuilder b(op);
  Location loc = op.getLoc();
  DenseProblem pr;
  pr.linear = true;
  pr.batch = batch;
  pr.cinPg = wType.getDimSize(1);
  pr.coutPg = pr.cout = cout;
  pr.pixels = batch;
  pr.act = getFusedActivation(op);
  pr.tiling =
      chooseDenseTiling(cout, 4 * wType.getNumElements(), 4 * batch * pr.cinPg,
                        batch, opts.vectors, opts.pixels, opts.order);
  pr.input = op.getInput();
  pr.packed = packWeights(b, loc, op.getWeight(), pr.tiling.channels);
  pr.bias = op.getBias();
  pr.outElt = b.getF32Type();
  Value empty =
      tensor::EmptyOp::create(b, loc, outType.getShape(), b.getF32Type());
  op.replaceAllUsesWith(emitDense(b, loc, pr, empty));
  remarkTaken(op, llvm::formatv("dense vector kernel: {0} output features x "
                                "{1} rows per register tile",
                                pr.tiling.channels, pr.tiling.pixels)
                      .str());
  op.erase();
  return success();
}

//===----------------------------------------------------------------------===//
// Integer dense kernel (qfuse.qconv)
//===----------------------------------------------------------------------===//

/// [N, C, D...] int8/uint8 to [N, C/2, D...] i32 holding the centred pair
/// (x[2j] − zx) in the low and (x[2j+1] − zx) in the high 16 bits.
/// Two channels' vectors of 8-bit values → the i32 pairs pairChannels
/// makes: (x0 − zx) in the low 16 bits, (x1 − zx) in the high.
static Value packPairVector(OpBuilder &b, Location loc, ArrayRef<Value> bytes,
                            Value zx32, bool isUnsigned) {
  auto vt = cast<VectorType>(bytes[0].getType()).clone(b.getI32Type());
  Value z = vector::BroadcastOp::create(b, loc, vt, zx32);
  auto centred = [&](Value v) {
    return arith::SubIOp::create(
        b, loc, quant::castInt(b, loc, v, b.getI32Type(), isUnsigned), z);
  };
  auto splatI32 = [&](int32_t v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vt, b.getI32IntegerAttr(v).getValue()));
  };
  return arith::OrIOp::create(
      b, loc, arith::AndIOp::create(b, loc, centred(bytes[0]), splatI32(0xFFFF)),
      arith::ShLIOp::create(b, loc, centred(bytes[1]), splatI32(16)));
}

/// Four channels' vectors of 8-bit values → the i32 quads quadChannels
/// makes: byte e is channel e as uint8 (int8 flipped in bit 7: x + 128).
static Value packQuadVector(OpBuilder &b, Location loc, ArrayRef<Value> bytes,
                            bool isUnsigned) {
  auto vt = cast<VectorType>(bytes[0].getType()).clone(b.getI32Type());
  auto splatI32 = [&](int32_t v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vt, b.getI32IntegerAttr(v).getValue()));
  };
  Value word;
  for (auto [e, v] : llvm::enumerate(bytes)) {
    Value x = arith::ExtUIOp::create(b, loc, vt, v);
    if (!isUnsigned)
      x = arith::XOrIOp::create(b, loc, x, splatI32(0x80));
    if (e)
      x = arith::ShLIOp::create(b, loc, x, splatI32(8 * e));
    word = word ? arith::OrIOp::create(b, loc, word, x).getResult() : x;
  }
  return word;
}

static Value pairChannels(OpBuilder &b, Location loc, Value x, Value zx,
                          bool isUnsigned) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape[1] /= 2;
  Type i32 = b.getI32Type();
  SmallVector<AffineExpr> even, odd;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = getAffineDimExpr(d, ctx);
    even.push_back(d == 1 ? e * 2 : e);
    odd.push_back(d == 1 ? e * 2 + 1 : e);
  }
  AffineMap zxMap =
      cast<ShapedType>(zx.getType()).getRank() == 0
          ? AffineMap::get(rank, 0, {}, ctx)
          : AffineMap::get(rank, 0, {getAffineConstantExpr(0, ctx)}, ctx);
  Value init = tensor::EmptyOp::create(b, loc, shape, i32);
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, even, ctx),
                                 AffineMap::get(rank, 0, odd, ctx), zxMap,
                                 b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{x, x, zx},
             ValueRange{init}, maps, par,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value z = quant::castInt(nb, l, a[2], i32);
               Value lo = arith::SubIOp::create(
                   nb, l, quant::castInt(nb, l, a[0], i32, isUnsigned), z);
               Value hi = arith::SubIOp::create(
                   nb, l, quant::castInt(nb, l, a[1], i32, isUnsigned), z);
               Value mask = arith::ConstantOp::create(
                   nb, l, nb.getI32IntegerAttr(0xFFFF));
               Value sixteen =
                   arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(16));
               Value pair = arith::OrIOp::create(
                   nb, l, arith::AndIOp::create(nb, l, lo, mask),
                   arith::ShLIOp::create(nb, l, hi, sixteen));
               linalg::YieldOp::create(nb, l, pair);
             })
      .getResult(0);
}

/// The centred constant weights w[co, ci, k...] − zw[co] as i16, packed to
/// [Cout/T, Cin/G/2, K..., 2T] with element 2·(co mod T) + (ci mod 2).
/// An odd channel count is padded with a zero weight channel.
static Value packIntegerWeights(OpBuilder &b, Location loc,
                                ArrayRef<int64_t> shape, ArrayRef<int64_t> w,
                                ArrayRef<int64_t> zw, int64_t tile) {
  int64_t cout = shape[0], cinPg = shape[1], pairs = (cinPg + 1) / 2;
  int64_t taps = 1;
  for (int64_t k : shape.drop_front(2))
    taps *= k;
  SmallVector<int64_t> packedShape = {cout / tile, pairs};
  packedShape.append(shape.begin() + 2, shape.end());
  packedShape.push_back(2 * tile);
  SmallVector<int16_t> packed(cout * pairs * 2 * taps, 0);
  for (int64_t co = 0; co < cout; ++co) {
    int64_t z = zw[zw.size() == 1 ? 0 : co];
    for (int64_t ci = 0; ci < cinPg; ++ci)
      for (int64_t k = 0; k < taps; ++k)
        packed[(((co / tile) * pairs + ci / 2) * taps + k) * 2 * tile +
               2 * (co % tile) + ci % 2] =
            static_cast<int16_t>(w[(co * cinPg + ci) * taps + k] - z);
  }
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(packedShape, b.getI16Type()),
                             ArrayRef<int16_t>(packed)));
}

/// A depthwise 2-D qconv on the f32 depthwise kernel: each plane is centred
/// into f32 as it is padded, the taps are the centred weights. Exact: every
/// partial sum is an integer of magnitude at most taps·255·max|w − zw|
/// (checked below 2^24), which f32 holds; the bias is added in i32 and the
/// shared requantize runs on the vectors before the store.
static LogicalResult lowerDepthwiseQConv(QConvOp op, ArrayRef<int64_t> w,
                                         ArrayRef<int64_t> zw) {
  auto inType = op.getInput().getType();
  auto wType = op.getWeight().getType();
  auto outType = op.getType();
  int64_t channels = outType.getDimSize(1);
  int64_t taps = wType.getNumElements() / channels;
  SmallVector<float> wf;
  for (int64_t c = 0; c < channels; ++c) {
    int64_t z = zw[zw.size() == 1 ? 0 : c], bound = 0;
    for (int64_t k = 0; k < taps; ++k) {
      int64_t v = w[c * taps + k] - z;
      bound += 255 * std::abs(v);
      wf.push_back(static_cast<float>(v));
    }
    if (bound >= (int64_t(1) << 24))
      return remarkLeft(op, llvm::formatv("depthwise channel {0}: the f32 "
                                          "accumulation could exceed 2^24",
                                          c)
                                .str());
  }
  OpBuilder b(op);
  Location loc = op.getLoc();
  ArrayRef<int64_t> pad = op.getPadding();
  DepthwiseProblem pr{inType.getDimSize(0),
                      channels,
                      wType.getDimSize(2),
                      wType.getDimSize(3),
                      op.getStrides()[0],
                      op.getStrides()[1],
                      op.getDilations()[0],
                      op.getDilations()[1],
                      outType.getDimSize(2),
                      outType.getDimSize(3),
                      {pad[0], pad[1], pad[2], pad[3]},
                      op.getInput(),
                      arith::ConstantOp::create(
                          b, loc,
                          DenseElementsAttr::get(wType.clone(b.getF32Type()),
                                                 ArrayRef<float>(wf))),
                      Value(),
                      FusedActivation()};
  pr.integer = true;
  pr.inputUint8 = op.getInputUint8();
  pr.zeroPoint = quant::castInt(
      b, loc, quant::extractScalar(b, loc, op.getInputZeroPoint()),
      b.getI32Type());
  pr.intBias = op.getBias();
  if (op.hasRequantize())
    pr.requant = quant::buildRequantParams(b, loc, op, channels);
  pr.outElt = outType.getElementType();
  Value result = emitDepthwise(
      b, loc, pr,
      tensor::EmptyOp::create(b, loc, outType.getShape(), pr.outElt));
  op.replaceAllUsesWith(result);
  remarkTaken(op, "integer depthwise vector kernel: planes centred into f32 "
                  "as they are padded, exact below 2^24, requantize on the "
                  "vectors");
  op.erase();
  return success();
}

/// `x` [N, C, D...] with C padded up to a multiple of `multiple` by channels
/// at the zero point `zx8` (an i8 scalar): centred, they are 0.
static Value padChannelsAtZeroPoint(OpBuilder &b, Location loc, Value x,
                                    int64_t multiple, Value zx8) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t c = type.getDimSize(1);
  if (c % multiple == 0)
    return x;
  SmallVector<int64_t> shape(type.getShape());
  shape[1] = (c + multiple - 1) / multiple * multiple;
  SmallVector<OpFoldResult> lo(shape.size(), b.getIndexAttr(0)),
      hi(shape.size(), b.getIndexAttr(0));
  hi[1] = b.getIndexAttr(shape[1] - c);
  return tensor::PadOp::create(b, loc, type.clone(shape), x, lo, hi, zx8);
}

/// [N, C, D...] int8/uint8 to [N, ceil(C/4), D...] i32 of four uint8
/// channels, each shifted by `shift` (128 for int8: x + 128 as uint8); C is
/// first padded to a multiple of 4 with the zero point.
static Value quadChannels(OpBuilder &b, Location loc, Value x, Value zx8,
                          bool isUnsigned) {
  MLIRContext *ctx = b.getContext();
  x = padChannelsAtZeroPoint(b, loc, x, 4, zx8);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape[1] /= 4;
  Type i32 = b.getI32Type();
  SmallVector<AffineMap> maps;
  for (int64_t e = 0; e < 4; ++e) {
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank; ++d) {
      AffineExpr de = getAffineDimExpr(d, ctx);
      exprs.push_back(d == 1 ? de * 4 + e : de);
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(b, loc, shape, i32);
  SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{x, x, x, x},
             ValueRange{init}, maps, par,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               auto cst = [&](int64_t v) {
                 return arith::ConstantOp::create(nb, l,
                                                  nb.getI32IntegerAttr(v));
               };
               Value word;
               for (int64_t e = 0; e < 4; ++e) {
                 // The byte's bits: uint8 as is; int8 flipped in bit 7,
                 // which is x + 128.
                 Value v = arith::ExtUIOp::create(nb, l, i32, a[e]);
                 if (!isUnsigned)
                   v = arith::XOrIOp::create(nb, l, v, cst(0x80));
                 if (e)
                   v = arith::ShLIOp::create(nb, l, v, cst(8 * e));
                 word = word ? arith::OrIOp::create(nb, l, word, v).getResult()
                             : v;
               }
               linalg::YieldOp::create(nb, l, word);
             })
      .getResult(0);
}

/// The centred constant weights w[co, ci, k...] − zw[co] as int8, packed to
/// [Cout/T, ceil(Cin/G/4), K..., 4T] with element 4·(co mod T) + (ci mod 4)
/// (padded channels 0), and each output channel's sum of them.
static std::pair<Value, Value>
packQuadWeights(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                ArrayRef<int64_t> w, ArrayRef<int64_t> zw, int64_t tile) {
  int64_t cout = shape[0], cinPg = shape[1], quads = (cinPg + 3) / 4;
  int64_t taps = 1;
  for (int64_t k : shape.drop_front(2))
    taps *= k;
  SmallVector<int64_t> packedShape = {cout / tile, quads};
  packedShape.append(shape.begin() + 2, shape.end());
  packedShape.push_back(4 * tile);
  SmallVector<int8_t> packed(cout * quads * 4 * taps, 0);
  SmallVector<int32_t> sums(cout, 0);
  for (int64_t co = 0; co < cout; ++co) {
    int64_t z = zw[zw.size() == 1 ? 0 : co];
    for (int64_t ci = 0; ci < cinPg; ++ci)
      for (int64_t k = 0; k < taps; ++k) {
        int64_t v = w[(co * cinPg + ci) * taps + k] - z;
        packed[(((co / tile) * quads + ci / 4) * taps + k) * 4 * tile +
               4 * (co % tile) + ci % 4] = static_cast<int8_t>(v);
        sums[co] += static_cast<int32_t>(v);
      }
  }
  Value weights = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(packedShape, b.getI8Type()),
                             ArrayRef<int8_t>(packed)));
  Value comp = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({cout}, b.getI32Type()),
                             ArrayRef<int32_t>(sums)));
  return {weights, comp};
}

/// The largest value the 8-bit input `x` of a qconv can hold: from the
/// quant range of the op that produced it, or a function argument's
/// `qfuse.value_range`, else its storage's.
static int64_t inputMax(QConvOp op) {
  Value x = op.getInput();
  int64_t storageMax = op.getInputUint8() ? 255 : 127;
  if (Operation *def = x.getDefiningOp()) {
    // The producer's range holds only if it wrote the same storage the
    // qconv reads (uint8 or int8).
    bool producerUint8 = def->hasAttr("uint8") || def->hasAttr("output_uint8");
    auto hi = def->getAttrOfType<IntegerAttr>("quant_max");
    if (hi && isa<QuantizeOp, QConvOp, QLinearOp>(def) &&
        producerUint8 == op.getInputUint8())
      return std::min(storageMax, hi.getInt());
    return storageMax;
  }
  auto arg = cast<BlockArgument>(x);
  if (auto fn = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp()))
    if (auto range = fn.getArgAttrOfType<DenseI64ArrayAttr>(
            arg.getArgNumber(), "qfuse.value_range"))
      if (range.size() == 2)
        return std::min(storageMax, range[1]);
  return storageMax;
}

/// shared setup of a dense integer problem (shapes, tiling inputs).
static void fillDenseShape(DenseProblem &pr, QConvOp op) {
  auto inType = op.getInput().getType();
  auto wType = op.getWeight().getType();
  auto outType = op.getType();
  pr.integer = true;
  pr.outElt = outType.getElementType();
  pr.batch = inType.getDimSize(0);
  pr.groups = op.getGroups();
  pr.cout = outType.getDimSize(1);
  pr.cinPg = inType.getDimSize(1) / pr.groups;
  pr.coutPg = pr.cout / pr.groups;
  pr.kernel.assign(wType.getShape().begin() + 2, wType.getShape().end());
  pr.strides.assign(op.getStrides().begin(), op.getStrides().end());
  pr.dilations.assign(op.getDilations().begin(), op.getDilations().end());
  pr.out.assign(outType.getShape().begin() + 2, outType.getShape().end());
  pr.pixels = 1;
  for (int64_t o : pr.out)
    pr.pixels *= o;
}

/// Emits the dense kernel for `pr` and replaces `op` with its result.
/// The dense kernel for `op` on `x` (its input, channels padded), which
/// `prepare` turns into the kernel's input (see emitDenseBatched).
static void
finishDense(OpBuilder &b, QConvOp op, DenseProblem &pr, Value x,
            int64_t preparedImageBytes, int64_t batchPrepareBytes,
            function_ref<Value(OpBuilder &, Location, Value)> prepare,
            StringRef what) {
  Location loc = op.getLoc();
  auto outType = op.getType();
  pr.bias = op.getBias();
  if (op.hasRequantize())
    pr.requant = quant::buildRequantParams(b, loc, op, pr.cout);
  op.replaceAllUsesWith(emitDenseBatched(b, loc, pr, x, outType,
                                         preparedImageBytes, batchPrepareBytes,
                                         prepare));
  remarkTaken(
      op, llvm::formatv("integer {5} vector kernel: {0} output "
                        "channels x {1} pixels per register tile, {2}, "
                        "{3} loop outermost{6}{4}",
                        pr.tiling.channels, pr.tiling.pixels, what,
                        pr.tiling.weightsOuter ? "channel-block" : "pixel-tile",
                        oneImageAtATime(pr.batch, preparedImageBytes,
                                        batchPrepareBytes)
                            ? ", one image at a time"
                            : "",
                        pr.pointwise ? "pointwise" : "dense",
                        rowTilesRemark(pr))
              .str());
  op.erase();
}

/// The quads form of the dense integer kernel (see lowerQConv).
static LogicalResult lowerQConvQuads(QConvOp op, const Options &opts,
                                     ArrayRef<int64_t> weights,
                                     ArrayRef<int64_t> weightZps, int64_t shift,
                                     bool pairsFit) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  int64_t s = op.getNumSpatialDims();
  ArrayRef<int64_t> pad = op.getPadding();
  Type i32 = b.getI32Type();
  Value zx = quant::castInt(
      b, loc, quant::extractScalar(b, loc, op.getInputZeroPoint()), i32);
  // zx' = zx + shift as a uint8 byte, and that byte in all four lanes of an
  // i32 for the spatial padding.
  Value zxs = arith::AndIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, zx,
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(shift))),
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0xFF)));
  Value fill = arith::MulIOp::create(
      b, loc, zxs,
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0x01010101)));
  DenseProblem pr;
  fillDenseShape(pr, op);
  pr.quads = true;
  pr.pairsFitI16 = pairsFit;
  pr.shiftedZeroPoint = zxs;
  auto inType = op.getInput().getType();
  int64_t inputBytes =
      4 * llvm::divideCeil(inType.getDimSize(1), 4) * paddedPlaneSize(inType, pad);
  // 1x1, stride 1, no padding: the pointwise form (vectors along the
  // pixels, no transposed stores).
  pr.pointwise =
      llvm::all_of(pr.kernel, [](int64_t k) { return k == 1; }) &&
      llvm::all_of(pr.strides, [](int64_t v) { return v == 1; }) &&
      llvm::all_of(pad, [](int64_t v) { return v == 0; });
  pr.tiling = (pr.pointwise ? choosePointwiseTiling : chooseDenseTiling)(
      pr.coutPg, op.getWeight().getType().getNumElements(), inputBytes,
      pr.pixels, integerPointwiseVectors(pr.pointwise, opts), opts.pixels,
      opts.order);
  // Padded with zx': it adds nothing exactly when zx' = 0 (uint8 input
  // with zero point 0, int8 with −128); the compensation covers every tap.
  if (auto zxc = fold::getConstantInts(op.getInputZeroPoint()))
    pr.skipPadding = (((*zxc)[0] + shift) & 0xFF) == 0;
  chooseRowTiles(pr, pad, inType.getShape(), opts);
  std::tie(pr.packed, pr.compensation) =
      packQuadWeights(b, loc, op.getWeight().getType().getShape(), weights,
                      weightZps, pr.tiling.channels);
  Value zx8 = quant::castInt(b, loc, zx, b.getI8Type());
  bool isUnsigned = op.getInputUint8();
  auto prepare = [&](OpBuilder &pb, Location pl, Value image) -> Value {
    Value quads;
    if (s != 2) {
      Value quadsIn = quadChannels(pb, pl, image, zx8, isUnsigned);
      quads = padSpatial(pb, pl, quadsIn, pad.take_front(s),
                         pad.drop_front(s), fill);
    } else {
      // 2-D: the quads built and padded in one vector pass per plane.
      quads = packPlanes(
          pb, pl, padChannelsAtZeroPoint(pb, pl, image, 4, zx8), 4, i32,
          {pad[0], pad[1], pad[2], pad[3]}, fill,
          [&](OpBuilder &vb, Location vl, ArrayRef<Value> bytes) {
            return packQuadVector(vb, vl, bytes, isUnsigned);
          });
    }
    if (!pr.pointwise)
      return quads;
    return collapseSpatial(pb, pl, quads);
  };
  finishDense(b, op, pr, op.getInput(), inputBytes, opts.batchPrepareBytes,
              prepare, pairsFit ? "uint8 x int8 channel quads through qfuse.dot_quads "
                         "(int16 pair sums proven)"
                       : "uint8 x int8 channel quads through qfuse.dot_quads");
  return success();
}

static LogicalResult lowerQConv(QConvOp op, const Options &opts) {
  if (!opts.integerKernels)
    return remarkLeft(op, "integer-kernels=false");
  if (llvm::any_of(op->getOperandTypes(), [](Type t) {
        return !cast<ShapedType>(t).hasStaticShape();
      }))
    return remarkLeft(op, "dynamic shapes");
  auto inType = op.getInput().getType();
  auto wType = op.getWeight().getType();
  auto outType = op.getType();
  int64_t s = op.getNumSpatialDims(), groups = op.getGroups();
  int64_t cin = inType.getDimSize(1), cout = outType.getDimSize(1);
  int64_t cinPg = cin / groups, coutPg = cout / groups;
  auto weights = fold::getConstantInts(op.getWeight(), op.getWeightUint8());
  auto weightZps = fold::getConstantInts(op.getWeightZeroPoint());
  if (!weights || !weightZps)
    return remarkLeft(op, "the weights or their zero points are not constants "
                          "(they are packed at compile time)");
  if (s == 2 && cinPg == 1 && coutPg == 1)
    return lowerDepthwiseQConv(op, *weights, *weightZps);
  if (cinPg % 2 != 0 && groups != 1)
    return remarkLeft(op, llvm::formatv("{0} input channels per group is odd "
                                        "(the kernel reads channel pairs; an "
                                        "odd count is padded only without "
                                        "groups)",
                                        cinPg)
                              .str());
  if (coutPg % kLanes != 0)
    return remarkLeft(op, llvm::formatv("{0} output channels per group is not "
                                        "a multiple of {1}",
                                        coutPg, kLanes)
                              .str());
  // Quads (u8 x s8, four channels per step, the VNNI layout) where they are
  // exact: the centred weights fit int8, and the target has vpdpbusd, or on
  // AVX2 every vpmaddubsw pair sum provably fits int16 (x' ≤ xMax).
  int64_t taps = wType.getNumElements() / (cout * cinPg);
  int64_t shift = op.getInputUint8() ? 0 : 128;
  int64_t xMax = inputMax(op) + shift;
  if (auto zx = fold::getConstantInts(op.getInputZeroPoint()))
    xMax = std::max(xMax, (*zx)[0] + shift);
  else
    xMax = 255;
  bool weightsFitS8 = true;
  int64_t maxPair = 0;
  auto centred = [&](int64_t co, int64_t ci, int64_t k) -> int64_t {
    if (ci >= cinPg)
      return 0;
    return (*weights)[(co * cinPg + ci) * taps + k] -
           (*weightZps)[weightZps->size() == 1 ? 0 : co];
  };
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cinPg; ci += 2)
      for (int64_t k = 0; k < taps; ++k) {
        int64_t a = centred(co, ci, k), c = centred(co, ci + 1, k);
        weightsFitS8 &= a >= -128 && a <= 127 && c >= -128 && c <= 127;
        maxPair = std::max(maxPair, std::abs(a) + std::abs(c));
      }
  bool pairsFit = xMax * maxPair <= 32767;
  bool quads = weightsFitS8 && (groups == 1 || cinPg % 4 == 0) &&
               (opts.isa >= IntegerIsa::AvxVnni ||
                (opts.isa == IntegerIsa::Avx2 && pairsFit));

  OpBuilder b(op);
  Location loc = op.getLoc();
  ArrayRef<int64_t> pad = op.getPadding();
  Value x = op.getInput();
  if (quads)
    return lowerQConvQuads(op, opts, *weights, *weightZps, shift, pairsFit);
  if (cin % 2 != 0) {
    // One more input channel at the zero point (its packed weights are 0).
    x = padChannelsAtZeroPoint(
        b, loc, x, 2,
        quant::castInt(b, loc,
                       quant::extractScalar(b, loc, op.getInputZeroPoint()),
                       b.getI8Type()));
    cin += 1;
    cinPg += 1;
  }
  DenseProblem pr;
  fillDenseShape(pr, op);
  pr.cinPg = cinPg; // padded to a pair
  int64_t inputBytes = 4 * (cin / 2) * paddedPlaneSize(inType, pad);
  // 1x1, stride 1, no padding: the pointwise form.
  pr.pointwise =
      llvm::all_of(pr.kernel, [](int64_t k) { return k == 1; }) &&
      llvm::all_of(pr.strides, [](int64_t v) { return v == 1; }) &&
      llvm::all_of(pad, [](int64_t v) { return v == 0; });
  pr.tiling = (pr.pointwise ? choosePointwiseTiling : chooseDenseTiling)(
      coutPg, 2 * wType.getNumElements(), inputBytes, pr.pixels,
      integerPointwiseVectors(pr.pointwise, opts), opts.pixels, opts.order);
  // Centred pairs, padded with 0: the padding adds nothing.
  pr.skipPadding = true;
  chooseRowTiles(pr, pad, inType.getShape(), opts);
  pr.packed = packIntegerWeights(b, loc, wType.getShape(), *weights, *weightZps,
                                 pr.tiling.channels);
  Value zx = op.getInputZeroPoint();
  bool isUnsigned = op.getInputUint8();
  Value zx32 = s == 2 ? quant::castInt(b, loc, quant::extractScalar(b, loc, zx),
                                       b.getI32Type())
                      : Value();
  auto prepare = [&](OpBuilder &pb, Location pl, Value image) -> Value {
    Value pairs;
    if (s != 2) {
      pairs = padSpatial(pb, pl, pairChannels(pb, pl, image, zx, isUnsigned),
                         pad.take_front(s), pad.drop_front(s));
    } else {
      // 2-D: the pairs built and padded (centred, so with 0) in one vector
      // pass per plane.
      pairs = packPlanes(
          pb, pl, image, 2, pb.getI32Type(), {pad[0], pad[1], pad[2], pad[3]},
          Value(), [&](OpBuilder &vb, Location vl, ArrayRef<Value> bytes) {
            return packPairVector(vb, vl, bytes, zx32, isUnsigned);
          });
    }
    if (!pr.pointwise)
      return pairs;
    return collapseSpatial(pb, pl, pairs);
  };
  finishDense(b, op, pr, x, inputBytes, opts.batchPrepareBytes, prepare,
              "int16 channel pairs through qfuse.dot_pairs");
  return success();
}

struct ConvertQFuseToVectorPass
    : public qfuse::impl::ConvertQFuseToVectorBase<ConvertQFuseToVectorPass> {
  using Base::Base;
  void runOnOperation() override {
    Options opts;
    opts.vectors = tileVectors;
    opts.pixels = tilePixels;
    opts.order = loopOrder;
    opts.batchPrepareBytes = batchPrepareBytes;
    opts.skipPadding = skipPadding;
    opts.depthwisePairSums = depthwisePairSums;
    opts.prefetchBytes = prefetchDistance;
    opts.prefetchMinBytes = prefetchMinBytes;
    opts.nontemporalMinBytes = nontemporalMinBytes;
    opts.blockDepthwise = blockDepthwise;
    if (opts.order != "auto" && opts.order != "weights" &&
        opts.order != "input") {
      getOperation()->emitError()
          << "convert-qfuse-to-vector: loop-order must be auto, weights or "
             "input, not '"
          << opts.order << "'";
      return signalPassFailure();
    }
    opts.integerKernels = integerKernels;
    std::optional<IntegerIsa> target = parseIntegerIsa(integerIsa);
    if (!target) {
      getOperation()->emitError()
          << "convert-qfuse-to-vector: integer-isa must be one of "
          << kIntegerIsaNames << ", not '" << integerIsa << "'";
      return signalPassFailure();
    }
    opts.isa = *target;
    if (opts.blockDepthwise)
      blockDepthwiseChains(getOperation());
    SmallVector<Operation *> work;
    getOperation()->walk([&](Operation *op) {
      if (isa<ConvOp, LinearOp, QConvOp, ConvTransposeOp,
              linalg::PoolingNchwMaxOp>(op))
        work.push_back(op);
    });
    for (Operation *op : work) {
      if (auto pool = dyn_cast<linalg::PoolingNchwMaxOp>(op)) {
        (void)lowerMaxPool(pool);
        continue;
      }
      if (auto transposed = dyn_cast<ConvTransposeOp>(op)) {
        // Phase convolutions where they apply, else the dilated input.
        if (FailureOr<SmallVector<ConvOp>> convs = asPhaseConvs(transposed);
            succeeded(convs)) {
          for (ConvOp conv : *convs)
            (void)lowerConv(conv, opts);
          continue;
        }
        FailureOr<ConvOp> conv = asDilatedConv(transposed);
        if (succeeded(conv))
          (void)lowerConv(*conv, opts);
        continue;
      }
      if (auto conv = dyn_cast<ConvOp>(op))
        (void)lowerConv(conv, opts);
      else if (auto qconv = dyn_cast<QConvOp>(op))
        (void)lowerQConv(qconv, opts);
      else
        (void)lowerLinear(cast<LinearOp>(op), opts);
    }
  }
};

} // namespace
