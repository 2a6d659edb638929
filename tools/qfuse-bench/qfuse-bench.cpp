//===- qfuse-bench.cpp - qfuse conv kernels vs oneDNN, side by side -------===//
//
// For each layer: builds the qfuse function (fused: conv + folded-BN bias +
// relu in one qfuse.conv; unfused: conv -> batch_norm -> relu), JIT-compiles
// it through --qfuse-lower-to-llvm, and times it against oneDNN computing the
// same thing (fused: convolution with bias and a relu post-op; unfused:
// convolution, batch normalization, eltwise relu), with weights reordered
// once beforehand as a deployment would and src/dst in oneDNN's preferred
// layout. Both run on the same random data; outputs are cross-checked.
// One JSON object per line:
//   {"layer":..., "form":"fused", "dtype":"f32", "batch":1, "threads":1,
//    "qfuse_ms":..., "onednn_ms":..., "ratio":..., "gflops":...,
//    "max_rel_err":...}
// ratio = qfuse_ms / onednn_ms; gflops is qfuse's.
//
// --dtypes=int8 adds integer rows (form "fused"): uint8 activations, int8
// per-channel weights, int32 bias, requantize to uint8 with the relu, as
// qfuse.qconv against oneDNN's u8 x s8 convolution with per-channel output
// scales and a relu post-op; "gflops" counts 2 ops per multiply-add there
// too, and "max_abs_diff" is in output quantization steps.
//
// --device=cuda times qfuse's GPU kernels instead (--qfuse-lower-to-nvvm,
// CUDA events around the launches, best of N, default batches 1 and 32) and
// checks their output against oneDNN on the CPU. The rows carry the layer's
// shape and "cudnn_ms": null: cuDNN is not among the packages qfuse links,
// and Debian's PyTorch is CPU-only. bench/gpu_bench.py fills it in on a
// machine whose PyTorch has CUDA (cuDNN through torch, same shapes).
//
//===----------------------------------------------------------------------===//

#include "qfuse/InitAllDialects.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Runtime/CudaRuntime.h"
#include "qfuse/Runtime/JitRunner.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include "oneapi/dnnl/dnnl.hpp"

#include <omp.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

using namespace mlir;
using namespace mlir::qfuse;
namespace cl = llvm::cl;

namespace {

struct Layer {
  const char *name;
  int64_t c, h, w, k, kh, stride, pad, groups;
};

// The layers: ResNet-18 conv1 and the four 3x3 stages, ResNet-50
// 1x1 64->256, MobileNetV2 pointwise 24->144 and two depthwise 3x3.
const Layer kLayers[] = {
    {"r18_conv1_7x7s2", 3, 224, 224, 64, 7, 2, 3, 1},
    {"r18_l1_3x3_56x56x64", 64, 56, 56, 64, 3, 1, 1, 1},
    {"r18_l2_3x3_28x28x128", 128, 28, 28, 128, 3, 1, 1, 1},
    {"r18_l3_3x3_14x14x256", 256, 14, 14, 256, 3, 1, 1, 1},
    {"r18_l4_3x3_7x7x512", 512, 7, 7, 512, 3, 1, 1, 1},
    {"r50_1x1_56x56_64to256", 64, 56, 56, 256, 1, 1, 0, 1},
    {"mv2_pw_56x56_24to144", 24, 56, 56, 144, 1, 1, 0, 1},
    {"mv2_dw_3x3_56x56x144", 144, 56, 56, 144, 3, 1, 1, 144},
    {"mv2_dw_3x3s2_112x112x96", 96, 112, 112, 96, 3, 2, 1, 96},
};

cl::OptionCategory category("qfuse-bench options");

cl::list<std::string>
    layerFilter("layers",
                cl::desc("Only these layers (substring match; several "
                         "separated by commas or given as repeated options)"),
                cl::CommaSeparated, cl::cat(category));
cl::list<int64_t> batches("batches", cl::desc("Batch sizes (default 1 and 8)"),
                          cl::CommaSeparated, cl::cat(category));
cl::list<int> threadCounts("num-threads",
                           cl::desc("Thread counts (default 1 and 2)"),
                           cl::CommaSeparated, cl::cat(category));
cl::opt<std::string> forms("forms", cl::desc("fused, unfused or both"),
                           cl::init("both"), cl::cat(category));
cl::opt<std::string> layouts(
    "layouts",
    cl::desc("nchw, blocked or both (the default): blocked adds a fused row "
             "per layer with qfuse's activations in 8-channel blocks "
             "(nChw8c, [N, C/8, H, W, 8]), the layout oneDNN chooses for "
             "them (its rows name the layouts it took); the qfuse function "
             "then unpacks its input and packs its result (linalg.unpack / "
             "linalg.pack), which its kernel reads and writes in place. An "
             "input of fewer than 8 channels stays NCHW, as oneDNN's does"),
    cl::init("both"), cl::cat(category));
cl::opt<unsigned> repeat("repeat",
                         cl::desc("Timed runs per measurement (best of N)"),
                         cl::init(5), cl::cat(category));
cl::opt<bool> listLayers("list", cl::desc("List the layers and exit"),
                         cl::cat(category));
cl::opt<unsigned> minTimeMs(
    "min-time-ms",
    cl::desc("Keep timing each measurement past --repeat runs until this "
             "many milliseconds have gone by (short kernels on a shared "
             "machine need many runs for a stable best; 0: exactly "
             "--repeat)"),
    cl::init(200), cl::cat(category));
cl::opt<unsigned> rounds(
    "rounds",
    cl::desc("Time qfuse and oneDNN in this many alternating rounds, each "
             "with 1/rounds of --repeat and of --min-time-ms, keeping each "
             "side's best over all rounds: on a shared machine both then "
             "meet the same stretches of load (1: qfuse's runs, then "
             "oneDNN's)"),
    cl::init(5), cl::cat(category));
cl::opt<int> int8ActivationMax(
    "int8-activation-max",
    cl::desc("Largest uint8 input value of the int8 rows: 255, or 127 for "
             "7-bit activations (what oneDNN needs to stay exact without "
             "VNNI)"),
    cl::init(255), cl::cat(category));
cl::list<std::string> dtypes("dtypes",
                             cl::desc("f32 and/or int8 (default f32)"),
                             cl::CommaSeparated, cl::cat(category));
cl::opt<std::string> lowering(
    "lowering",
    cl::desc("Further --qfuse-lower-to-llvm options for qfuse's kernels, "
             "e.g. 'vectorize=false' or 'tile-pixels=4 loop-order=weights'"),
    cl::init(""), cl::cat(category));
cl::opt<std::string> deviceName(
    "device",
    cl::desc("cpu (qfuse vs oneDNN, the default) or cuda (qfuse's GPU "
             "kernels, checked against oneDNN; f32 rows)"),
    cl::init("cpu"), cl::cat(category));

/// The ISA oneDNN actually uses here (the cap, or less on a CPU without it).
const char *effectiveIsa() {
  switch (dnnl::get_effective_cpu_isa()) {
  case dnnl::cpu_isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl::cpu_isa::avx512_core:
    return "avx512_core";
  case dnnl::cpu_isa::avx2_vnni:
    return "avx2_vnni";
  case dnnl::cpu_isa::avx2:
    return "avx2";
  case dnnl::cpu_isa::avx:
    return "avx";
  case dnnl::cpu_isa::sse41:
    return "sse41";
  default:
    return "other";
  }
}

/// The best time of `fn` over at least `n` runs, and over as many more as
/// fit in `minMs` milliseconds (at most 100·n), after a warm-up run.
double bestOf(unsigned n, llvm::function_ref<void()> fn, double minMs = 0) {
  fn(); // warm-up
  double best = INFINITY, total = 0;
  for (unsigned i = 0; i < n || (total < minMs && i < 100 * n); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    best = std::min(best, ms);
    total += ms;
  }
  return best;
}

/// What one measurement of a row times: qfuse's run and oneDNN's.
struct Sides {
  llvm::function_ref<void()> qfuse, onednn;
};

/// The best times of both sides (qfuse, oneDNN) over --rounds alternating
/// rounds of bestOf, each with 1/rounds of --repeat and --min-time-ms. A
/// null qfuse side (the GPU rows, which time qfuse elsewhere) is not timed
/// and reads 0.
std::pair<double, double> bestOfBoth(Sides sides) {
  unsigned r = std::max(1u, unsigned(rounds));
  unsigned n = std::max(1u, (unsigned(repeat) + r - 1) / r);
  double minMs = double(minTimeMs) / r;
  double q = sides.qfuse ? INFINITY : 0, d = INFINITY;
  for (unsigned i = 0; i < r; ++i) {
    if (sides.qfuse)
      q = std::min(q, bestOf(n, sides.qfuse, minMs));
    d = std::min(d, bestOf(n, sides.onednn, minMs));
  }
  return {q, d};
}

struct Data {
  int64_t n, oh, ow;
  std::vector<float> x, w, bias, mean, var, gamma, beta;
  double eps = 1e-5;
};

Data makeData(const Layer &l, int64_t n) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Data d;
  d.n = n;
  d.oh = (l.h + 2 * l.pad - l.kh) / l.stride + 1;
  d.ow = (l.w + 2 * l.pad - l.kh) / l.stride + 1;
  auto fill = [&](std::vector<float> &v, size_t size, float lo, float scale) {
    v.resize(size);
    for (float &f : v)
      f = lo + scale * u(rng);
  };
  fill(d.x, n * l.c * l.h * l.w, 0.f, 1.f);
  fill(d.w, l.k * (l.c / l.groups) * l.kh * l.kh, 0.f, 0.1f);
  fill(d.bias, l.k, 0.f, 0.1f);
  fill(d.mean, l.k, 0.f, 0.1f);
  fill(d.var, l.k, 1.f, 0.5f);
  fill(d.gamma, l.k, 1.f, 0.5f);
  fill(d.beta, l.k, 0.f, 0.1f);
  return d;
}

/// [N, C, H, W] as 8-channel blocks, [N, C/8, H, W, 8] (nChw8c).
SmallVector<int64_t> blockedShape(ArrayRef<int64_t> nchw) {
  return {nchw[0], nchw[1] / 8, nchw[2], nchw[3], 8};
}

/// Element i of an NCHW tensor of `shape` at its nChw8c position.
size_t blockedIndex(ArrayRef<int64_t> shape, size_t i) {
  int64_t hw = shape[2] * shape[3], chw = shape[1] * hw;
  int64_t n = i / chw, c = i / hw % shape[1], p = i % hw;
  return ((n * (shape[1] / 8) + c / 8) * hw + p) * 8 + c % 8;
}

/// Whether the blocked row of `l` takes its input in blocks: whole blocks
/// of input channels (conv1's 3 stay NCHW).
bool blocksInput(const Layer &l) { return l.c % 8 == 0; }

OwningOpRef<ModuleOp> buildModule(MLIRContext &ctx, const Layer &l,
                                  const Data &d, bool fused,
                                  bool blocked = false) {
  bool blockIn = blocked && blocksInput(l);
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  Type f32 = b.getF32Type();
  auto xType = RankedTensorType::get({d.n, l.c, l.h, l.w}, f32);
  auto yType = RankedTensorType::get({d.n, l.k, d.oh, d.ow}, f32);
  auto argType =
      blockIn ? RankedTensorType::get(blockedShape(xType.getShape()), f32)
              : xType;
  auto resultType =
      blocked ? RankedTensorType::get(blockedShape(yType.getShape()), f32)
              : yType;
  auto fn = func::FuncOp::create(b, loc, "f",
                                 b.getFunctionType({argType}, {resultType}));
  b.setInsertionPointToStart(fn.addEntryBlock());
  SmallVector<int64_t> channels = {1};
  SmallVector<OpFoldResult> eight = {b.getIndexAttr(8)};
  Value x = fn.getArgument(0);
  if (blockIn)
    x = linalg::UnPackOp::create(
        b, loc, x, tensor::EmptyOp::create(b, loc, xType.getShape(), f32),
        channels, eight);
  auto cst = [&](ArrayRef<int64_t> shape, const std::vector<float> &v) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(RankedTensorType::get(shape, f32),
                                       ArrayRef<float>(v)));
  };
  Value w = cst({l.k, l.c / l.groups, l.kh, l.kh}, d.w);
  auto geo = [&](int64_t v, int n) {
    return b.getDenseI64ArrayAttr(SmallVector<int64_t>(n, v));
  };
  auto act = ActivationKindAttr::get(&ctx, fused ? ActivationKind::relu
                                                 : ActivationKind::none);
  Value y = ConvOp::create(
      b, loc, yType, x, w, fused ? cst({l.k}, d.bias) : Value(),
      geo(l.stride, 2), geo(l.pad, 4), geo(1, 2), b.getI64IntegerAttr(l.groups),
      act, FloatAttr(), FloatAttr());
  if (!fused) {
    y = BatchNormOp::create(b, loc, yType, y, cst({l.k}, d.mean),
                            cst({l.k}, d.var), cst({l.k}, d.gamma),
                            cst({l.k}, d.beta), b.getF64FloatAttr(d.eps));
    y = ReluOp::create(b, loc, y);
  }
  if (blocked)
    y = linalg::PackOp::create(
        b, loc, y, tensor::EmptyOp::create(b, loc, resultType.getShape(), f32),
        channels, eight);
  func::ReturnOp::create(b, loc, y);
  return module;
}

/// The activation layout `md` (of an f32 [N, C, H, W]) names: nchw,
/// nChw8c, nChw16c, nhwc or "other".
const char *layoutName(const dnnl::memory::desc &md) {
  using tag = dnnl::memory::format_tag;
  for (auto [t, name] :
       {std::pair{tag::nchw, "nchw"}, std::pair{tag::nChw8c, "nChw8c"},
        std::pair{tag::nChw16c, "nChw16c"}, std::pair{tag::nhwc, "nhwc"}})
    if (md == dnnl::memory::desc(md.dims(), md.data_type(), t))
      return name;
  return "other";
}

/// oneDNN's convolution of the row, timed against `qfuse` (bestOfBoth):
/// returns the best times (qfuse, oneDNN) and fills `out` (NCHW) with
/// oneDNN's result, `impl` with the implementation it chose and `layout`
/// with its source and destination layouts ("src>dst", or one name when
/// they agree).
std::pair<double, double> runOneDNN(const Layer &l, const Data &d, bool fused,
                                    llvm::function_ref<void()> qfuse,
                                    std::vector<float> &out, std::string &impl,
                                    std::string &layout) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::dims src = {d.n, l.c, l.h, l.w}, dst = {d.n, l.k, d.oh, d.ow};
  memory::dims wdims = l.groups == 1
                           ? memory::dims{l.k, l.c, l.kh, l.kh}
                           : memory::dims{l.groups, l.k / l.groups, l.c / l.groups,
                                          l.kh, l.kh};
  auto anyMd = [&](const memory::dims &dims) {
    return memory::desc(dims, dt::f32, tag::any);
  };
  memory::dims strides = {l.stride, l.stride}, pads = {l.pad, l.pad};
  post_ops ops;
  if (fused)
    ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
  primitive_attr attr;
  attr.set_post_ops(ops);
  auto convDesc = convolution_forward::desc(
      prop_kind::forward_inference, algorithm::convolution_direct, anyMd(src),
      anyMd(wdims), memory::desc({l.k}, dt::f32, tag::x), anyMd(dst), strides,
      pads, pads);
  auto pd = convolution_forward::primitive_desc(convDesc, attr, eng);
  impl = pd.impl_info_str();
  layout = layoutName(pd.src_desc());
  if (layout != layoutName(pd.dst_desc()))
    layout += std::string(">") + layoutName(pd.dst_desc());
  // User memories (plain layouts) and one-time reorders.
  memory userSrc({src, dt::f32, tag::nchw}, eng, const_cast<float *>(d.x.data()));
  memory userW({wdims, dt::f32, l.groups == 1 ? tag::oihw : tag::goihw}, eng,
               const_cast<float *>(d.w.data()));
  memory bias({{l.k}, dt::f32, tag::x}, eng, const_cast<float *>(d.bias.data()));
  memory srcM(pd.src_desc(), eng), wM(pd.weights_desc(), eng), dstM(pd.dst_desc(), eng);
  reorder(userSrc, srcM).execute(s, userSrc, srcM);
  reorder(userW, wM).execute(s, userW, wM);
  convolution_forward conv(pd);
  std::function<void()> step;
  memory dstFinal = dstM;
  if (fused) {
    step = [&] {
      conv.execute(s, {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_WEIGHTS, wM},
                       {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dstM}});
      s.wait();
    };
  }
  // Unfused: conv (zero bias) -> batch norm -> relu, each its own primitive.
  std::vector<float> zeros(l.k, 0.f);
  memory zeroBias({{l.k}, dt::f32, tag::x}, eng, zeros.data());
  memory mean({{l.k}, dt::f32, tag::x}, eng, const_cast<float *>(d.mean.data()));
  memory var({{l.k}, dt::f32, tag::x}, eng, const_cast<float *>(d.var.data()));
  memory gamma({{l.k}, dt::f32, tag::x}, eng, const_cast<float *>(d.gamma.data()));
  memory beta({{l.k}, dt::f32, tag::x}, eng, const_cast<float *>(d.beta.data()));
  auto bnDesc = batch_normalization_forward::desc(
      prop_kind::forward_inference, pd.dst_desc(), (float)d.eps,
      normalization_flags::use_global_stats | normalization_flags::use_scale |
          normalization_flags::use_shift);
  auto bnPd = batch_normalization_forward::primitive_desc(bnDesc, eng);
  batch_normalization_forward bn(bnPd);
  auto reluDesc = eltwise_forward::desc(prop_kind::forward_inference,
                                        algorithm::eltwise_relu, pd.dst_desc(), 0.f);
  eltwise_forward relu(eltwise_forward::primitive_desc(reluDesc, eng));
  memory bnOut(pd.dst_desc(), eng);
  if (!fused) {
    step = [&] {
      conv.execute(s, {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_WEIGHTS, wM},
                       {DNNL_ARG_BIAS, zeroBias}, {DNNL_ARG_DST, dstM}});
      bn.execute(s, {{DNNL_ARG_SRC, dstM}, {DNNL_ARG_MEAN, mean},
                     {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_SCALE, gamma},
                     {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_DST, bnOut}});
      relu.execute(s, {{DNNL_ARG_SRC, bnOut}, {DNNL_ARG_DST, bnOut}});
      s.wait();
    };
    dstFinal = bnOut;
  }
  auto ms = bestOfBoth({qfuse, step});
  out.resize(d.n * l.k * d.oh * d.ow);
  memory userDst({dst, dt::f32, tag::nchw}, eng, out.data());
  reorder(dstFinal, userDst).execute(s, dstFinal, userDst);
  s.wait();
  return ms;
}

/// The integer form of a layer: uint8 input (zero point 0), int8 weights
/// with per-channel scales, int32 bias, uint8 output with the relu.
struct Int8Data {
  int64_t n, oh, ow;
  std::vector<uint8_t> x;
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  float sx = 0.02f, sy = 0.05f;
  std::vector<float> sw;
};

Int8Data makeInt8Data(const Layer &l, int64_t n) {
  std::mt19937 rng(7);
  Int8Data d;
  d.n = n;
  d.oh = (l.h + 2 * l.pad - l.kh) / l.stride + 1;
  d.ow = (l.w + 2 * l.pad - l.kh) / l.stride + 1;
  std::uniform_int_distribution<int> u8(0, int8ActivationMax), s8(-127, 127),
      b(-20000, 20000);
  std::uniform_real_distribution<float> scale(0.0005f, 0.002f);
  d.x.resize(n * l.c * l.h * l.w);
  for (uint8_t &v : d.x)
    v = u8(rng);
  d.w.resize(l.k * (l.c / l.groups) * l.kh * l.kh);
  for (int8_t &v : d.w)
    v = s8(rng);
  for (int64_t c = 0; c < l.k; ++c) {
    d.bias.push_back(b(rng));
    d.sw.push_back(scale(rng));
  }
  // Spread the outputs over the uint8 range: sy from the accumulator's
  // typical size, sqrt(K) * 128 * 73 (the mean |w|).
  double k = (double)(l.c / l.groups) * l.kh * l.kh;
  d.sy = (float)(d.sx * 0.00125 * std::sqrt(k) * 128 * 73 / 40);
  return d;
}

OwningOpRef<ModuleOp> buildInt8Module(MLIRContext &ctx, const Layer &l,
                                      const Int8Data &d) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  auto xType = RankedTensorType::get({d.n, l.c, l.h, l.w}, i8);
  auto yType = RankedTensorType::get({d.n, l.k, d.oh, d.ow}, i8);
  auto fn = func::FuncOp::create(b, loc, "f", b.getFunctionType({xType}, {yType}));
  fn.setArgAttr(0, "qfuse.uint8", b.getUnitAttr());
  // The input range, as a producer with a narrower quant range (7-bit
  // activations) would guarantee it; the integer kernels may use it.
  if (int8ActivationMax < 255)
    fn.setArgAttr(0, "qfuse.value_range",
                  b.getDenseI64ArrayAttr({0, int8ActivationMax}));
  fn.setResultAttr(0, "qfuse.uint8", b.getUnitAttr());
  b.setInsertionPointToStart(fn.addEntryBlock());
  auto cst = [&](Attribute a) -> Value {
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(a));
  };
  auto scalarF = [&](float v) {
    return cst(DenseElementsAttr::get(RankedTensorType::get({}, f32), v));
  };
  Value zero = cst(DenseElementsAttr::get(RankedTensorType::get({}, i32), 0));
  Value w = cst(DenseElementsAttr::get(
      RankedTensorType::get({l.k, l.c / l.groups, l.kh, l.kh}, i8),
      ArrayRef<int8_t>(d.w)));
  Value bias = cst(DenseElementsAttr::get(RankedTensorType::get({l.k}, i32),
                                          ArrayRef<int32_t>(d.bias)));
  Value sw = cst(DenseElementsAttr::get(RankedTensorType::get({l.k}, f32),
                                        ArrayRef<float>(d.sw)));
  auto geo = [&](int64_t v, int n) {
    return b.getDenseI64ArrayAttr(SmallVector<int64_t>(n, v));
  };
  Value y = QConvOp::create(
      b, loc, yType, fn.getArgument(0), w, bias, zero, zero, scalarF(d.sx), sw,
      scalarF(d.sy), zero, b.getUnitAttr(), UnitAttr(), b.getUnitAttr(),
      b.getI64IntegerAttr(0), b.getI64IntegerAttr(255), geo(l.stride, 2),
      geo(l.pad, 4), geo(1, 2), b.getI64IntegerAttr(l.groups),
      ActivationKindAttr::get(&ctx, ActivationKind::relu), FloatAttr(),
      FloatAttr());
  func::ReturnOp::create(b, loc, y);
  return module;
}

/// oneDNN's u8 x s8 -> u8 convolution with per-channel output scales
/// sx*sw[c]/sy, the int32 bias and a relu post-op, timed against `qfuse`
/// as runOneDNN does.
std::pair<double, double> runOneDNNInt8(const Layer &l, const Int8Data &d,
                                        llvm::function_ref<void()> qfuse,
                                        std::vector<uint8_t> &out,
                                        std::string &impl) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::dims src = {d.n, l.c, l.h, l.w}, dst = {d.n, l.k, d.oh, d.ow};
  memory::dims wdims = l.groups == 1
                           ? memory::dims{l.k, l.c, l.kh, l.kh}
                           : memory::dims{l.groups, l.k / l.groups, l.c / l.groups,
                                          l.kh, l.kh};
  memory::dims strides = {l.stride, l.stride}, pads = {l.pad, l.pad};
  std::vector<float> scales;
  for (float sw : d.sw)
    scales.push_back((float)((double)d.sx * sw / d.sy));
  primitive_attr attr;
  attr.set_output_scales(1 << 1, scales); // per dst channel (dim 1)
  post_ops ops;
  ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
  attr.set_post_ops(ops);
  auto convDesc = convolution_forward::desc(
      prop_kind::forward_inference, algorithm::convolution_direct,
      memory::desc(src, dt::u8, tag::any), memory::desc(wdims, dt::s8, tag::any),
      memory::desc({l.k}, dt::s32, tag::x), memory::desc(dst, dt::u8, tag::any),
      strides, pads, pads);
  auto pd = convolution_forward::primitive_desc(convDesc, attr, eng);
  impl = pd.impl_info_str();
  memory userSrc({src, dt::u8, tag::nchw}, eng, const_cast<uint8_t *>(d.x.data()));
  memory userW({wdims, dt::s8, l.groups == 1 ? tag::oihw : tag::goihw}, eng,
               const_cast<int8_t *>(d.w.data()));
  memory bias({{l.k}, dt::s32, tag::x}, eng, const_cast<int32_t *>(d.bias.data()));
  memory srcM(pd.src_desc(), eng), wM(pd.weights_desc(), eng), dstM(pd.dst_desc(), eng);
  reorder(userSrc, srcM).execute(s, userSrc, srcM);
  reorder(userW, wM).execute(s, userW, wM);
  convolution_forward conv(pd);
  auto ms = bestOfBoth({qfuse, [&] {
                          conv.execute(s, {{DNNL_ARG_SRC, srcM},
                                           {DNNL_ARG_WEIGHTS, wM},
                                           {DNNL_ARG_BIAS, bias},
                                           {DNNL_ARG_DST, dstM}});
                          s.wait();
                        }});
  out.resize(d.n * l.k * d.oh * d.ow);
  memory userDst({dst, dt::u8, tag::nchw}, eng, out.data());
  reorder(dstM, userDst).execute(s, dstM, userDst);
  s.wait();
  return ms;
}

/// The measured f32 FMA peak of one core in GFLOP/s: 12 independent 8-lane
/// FMA chains (enough to cover the FMA latency on two pipes). 0 where the
/// CPU has no AVX2/FMA.
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) double fmaLoop(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0];
}
#endif

double fmaPeakGflops() {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return 0;
  const long iters = 20'000'000;
  volatile double sink = 0;
  double ms = bestOf(3, [&] { sink = sink + fmaLoop(iters); });
  return 2.0 * 8 * 12 * iters / ms * 1e-6;
#else
  return 0;
#endif
}

/// Compiles `module` for `threads` (sequential loops for 1, OpenMP outer
/// loops else) and sets the OpenMP thread count both sides run with.
llvm::Expected<std::unique_ptr<JitFunction>> compileQfuse(ModuleOp module,
                                                          int threads) {
  omp_set_num_threads(threads);
  return JitFunction::compile(module, "f", 3, threads > 1 ? threads : 0,
                              lowering);
}

/// One run of `jit` on `x`, its outputs left in `results`.
void runQfuse(JitFunction &jit, const HostTensor &x,
              SmallVector<HostTensor> &results) {
  if (llvm::Error e = jit.run({x}, results))
    llvm::report_fatal_error(std::move(e));
}

/// max |got − ref| / max |ref| of an f32 result against oneDNN's.
double maxRelErr(const HostTensor &got, const std::vector<float> &ref) {
  double maxErr = 0, maxRef = 0;
  const float *g = static_cast<const float *>(got.data());
  for (size_t i = 0; i < ref.size(); ++i) {
    maxErr = std::max(maxErr, (double)std::fabs(g[i] - ref[i]));
    maxRef = std::max(maxRef, (double)std::fabs(ref[i]));
  }
  return maxErr / std::max(maxRef, 1e-30);
}

/// qfuse's kernels on CUDA device 0: the best over `repeat` runs of the
/// kernels' own time (CUDA events), after a warm-up run.
llvm::Expected<double> timeQfuseCuda(ModuleOp module, const HostTensor &x,
                                     SmallVector<HostTensor> &results) {
  auto jit = JitFunction::compile(module, "f", 3, 0, lowering, Device::CUDA);
  if (!jit)
    return jit.takeError();
  if (llvm::Error e = (*jit)->run({x}, results))
    return std::move(e);
  double best = INFINITY;
  for (unsigned i = 0; i < std::max(1u, (unsigned)repeat); ++i) {
    cuda::resetKernelTime();
    if (llvm::Error e = (*jit)->run({x}, results))
      return std::move(e);
    best = std::min(best, cuda::kernelTimeMs());
  }
  return best;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qfuse-bench: qfuse-compiled conv kernels vs oneDNN on the same shapes, "
      "threads and ISA cap (AVX512_CORE_VNNI; the JSON names the ISA oneDNN "
      "actually used), one JSON object per line\n");
  if (listLayers) {
    for (const Layer &l : kLayers)
      llvm::outs() << l.name << "\n";
    return 0;
  }
  if (forms != "fused" && forms != "unfused" && forms != "both") {
    llvm::errs() << "qfuse-bench: --forms must be fused, unfused or both, not '"
                 << forms << "'\n";
    return 2;
  }
  if (layouts != "nchw" && layouts != "blocked" && layouts != "both") {
    llvm::errs() << "qfuse-bench: --layouts must be nchw, blocked or both, "
                    "not '"
                 << layouts << "'\n";
    return 2;
  }
  bool onCuda = deviceName == "cuda";
  if (!onCuda && deviceName != "cpu") {
    llvm::errs() << "qfuse-bench: --device must be cpu or cuda\n";
    return 2;
  }
  std::string gpuName;
  if (onCuda && llvm::is_contained(dtypes, "int8")) {
    llvm::errs() << "qfuse-bench: --device=cuda times f32 rows only (the "
                    "integer kernels are CPU kernels)\n";
    return 2;
  }
  if (onCuda) {
    if (llvm::Error err = cuda::initialize()) {
      llvm::errs() << "qfuse-bench: --device=cuda: "
                   << llvm::toString(std::move(err)) << "\n";
      return 3;
    }
    gpuName = cuda::currentDevice()->name;
  }
  SmallVector<int64_t> bs(batches.begin(), batches.end());
  if (bs.empty())
    bs = onCuda ? SmallVector<int64_t>{1, 32} : SmallVector<int64_t>{1, 8};
  SmallVector<int> ts(threadCounts.begin(), threadCounts.end());
  if (ts.empty())
    ts = {1, 2};
  // AVX512_CORE_VNNI is the cap the int8 rows ask for; f32 gains nothing
  // from VNNI, so one cap serves both. The JSON names what oneDNN used.
  dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_vnni);
  bool wantF32 = dtypes.empty() || llvm::is_contained(dtypes, "f32");
  bool wantInt8 = llvm::is_contained(dtypes, "int8");
  for (const std::string &dt : dtypes)
    if (dt != "f32" && dt != "int8") {
      llvm::errs() << "qfuse-bench: unknown --dtypes entry '" << dt
                   << "' (f32, int8)\n";
      return 2;
    }
  // Repeated runs reuse the freed buffers (no page faults per run).
  qfuse::retainFreedHostMemory();

  double peak = fmaPeakGflops();
  llvm::outs() << llvm::formatv(
      "{{\"fma_peak_gflops_per_core\":{0:F1}, \"onednn_isa\":\"{1}\"}\n",
      peak, effectiveIsa());
  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  qfuse::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  for (const Layer &l : kLayers) {
    if (!layerFilter.empty() &&
        llvm::none_of(layerFilter, [&](const std::string &f) {
          return llvm::StringRef(l.name).contains(f);
        }))
      continue;
    for (int64_t n : bs) {
      if (wantInt8) {
        Int8Data d = makeInt8Data(l, n);
        double ops = 2.0 * n * l.k * d.oh * d.ow * (l.c / l.groups) * l.kh * l.kh;
        OwningOpRef<ModuleOp> module = buildInt8Module(ctx, l, d);
        HostTensor x(DType::U8, {n, l.c, l.h, l.w});
        std::memcpy(x.data(), d.x.data(), d.x.size());
        SmallVector<HostTensor> results;
        for (int t : ts) {
          auto jit = compileQfuse(*module, t);
          if (!jit) {
            llvm::errs() << "qfuse-bench: " << llvm::toString(jit.takeError())
                         << "\n";
            return 3;
          }
          std::vector<uint8_t> ref;
          std::string impl;
          auto [qMs, dnnlMs] = runOneDNNInt8(
              l, d, [&] { runQfuse(**jit, x, results); }, ref, impl);
          const uint8_t *got = static_cast<const uint8_t *>(results[0].data());
          int maxDiff = 0;
          size_t differ = 0;
          for (size_t i = 0; i < ref.size(); ++i) {
            int diff = std::abs((int)got[i] - (int)ref[i]);
            maxDiff = std::max(maxDiff, diff);
            differ += diff != 0;
          }
          llvm::outs() << llvm::formatv(
              "{{\"layer\":\"{0}\", \"form\":\"fused\", \"dtype\":\"int8\", "
              "\"batch\":{1}, \"threads\":{2}, \"qfuse_ms\":{3:F3}, "
              "\"onednn_ms\":{4:F3}, \"ratio\":{5:F2}, \"gflops\":{6:F2}, "
              "\"onednn_gflops\":{7:F2}, \"max_abs_diff\":{8}, "
              "\"differ_fraction\":{9:F4}, \"onednn_impl\":\"{10}\", "
              "\"onednn_isa\":\"{11}\"}\n",
              l.name, n, t, qMs, dnnlMs, qMs / dnnlMs, ops / qMs * 1e-6,
              ops / dnnlMs * 1e-6, maxDiff, (double)differ / ref.size(), impl,
              effectiveIsa());
          llvm::outs().flush();
        }
      }
      if (!wantF32)
        continue;
      Data d = makeData(l, n);
      double flops = 2.0 * n * l.k * d.oh * d.ow * (l.c / l.groups) * l.kh * l.kh;
      // (fused, blocked): the NCHW forms, then the fused form on 8-channel
      // blocks.
      SmallVector<std::pair<bool, bool>> variants;
      if (layouts != "blocked") {
        if (forms != "unfused")
          variants.push_back({true, false});
        if (forms != "fused")
          variants.push_back({false, false});
      }
      if (layouts != "nchw" && forms != "unfused" && !onCuda && l.k % 8 == 0)
        variants.push_back({true, true});
      // The NCHW forms' compiled functions by (fused, threads), kept for
      // the fused-vs-unfused rows below.
      std::map<std::pair<bool, int>, std::unique_ptr<JitFunction>> nchwJits;
      // The layer's input, NCHW or in 8-channel blocks.
      SmallVector<int64_t> xShape = {n, l.c, l.h, l.w};
      auto makeInput = [&](bool blockIn) {
        HostTensor x(DType::F32, blockIn ? blockedShape(xShape) : xShape);
        if (blockIn) {
          auto *xb = static_cast<float *>(x.data());
          for (size_t i = 0; i < d.x.size(); ++i)
            xb[blockedIndex(xShape, i)] = d.x[i];
        } else {
          std::memcpy(x.data(), d.x.data(), d.x.size() * sizeof(float));
        }
        return x;
      };
      for (auto [fused, blocked] : variants) {
        OwningOpRef<ModuleOp> module = buildModule(ctx, l, d, fused, blocked);
        bool blockIn = blocked && blocksInput(l);
        HostTensor x = makeInput(blockIn);
        SmallVector<HostTensor> results;
        if (onCuda) {
          llvm::Expected<double> qTime = timeQfuseCuda(*module, x, results);
          if (!qTime) {
            llvm::errs() << "qfuse-bench: " << llvm::toString(qTime.takeError())
                         << "\n";
            return 3;
          }
          std::vector<float> ref;
          std::string impl, dnnlLayout;
          runOneDNN(l, d, fused, nullptr, ref, impl, dnnlLayout);
          double relErr = maxRelErr(results[0], ref);
          llvm::outs() << llvm::formatv(
              "{{\"layer\":\"{0}\", \"form\":\"{1}\", \"dtype\":\"f32\", "
              "\"device\":\"cuda\", \"gpu\":\"{2}\", \"batch\":{3}, "
              "\"qfuse_ms\":{4:F4}, \"gflops\":{5:F1}, \"cudnn_ms\":null, "
              "\"max_rel_err_vs_onednn\":{6:E2}, \"c\":{7}, \"h\":{8}, "
              "\"w\":{9}, \"k\":{10}, \"kh\":{11}, \"stride\":{12}, "
              "\"pad\":{13}, \"groups\":{14}}\n",
              l.name, fused ? "fused" : "unfused", gpuName, n, *qTime,
              flops / *qTime * 1e-6, relErr, l.c, l.h, l.w, l.k, l.kh, l.stride,
              l.pad, l.groups);
          llvm::outs().flush();
          continue;
        }
        for (int t : ts) {
          auto jit = compileQfuse(*module, t);
          if (!jit) {
            llvm::errs() << "qfuse-bench: " << llvm::toString(jit.takeError())
                         << "\n";
            return 3;
          }
          std::vector<float> ref;
          std::string impl, dnnlLayout;
          auto [qMs, dnnlMs] = runOneDNN(
              l, d, fused, [&] { runQfuse(**jit, x, results); }, ref, impl,
              dnnlLayout);
          if (blocked) {
            // oneDNN's NCHW result in qfuse's blocks, to compare.
            std::vector<float> plain = std::move(ref);
            ref.resize(plain.size());
            for (size_t i = 0; i < plain.size(); ++i)
              ref[blockedIndex({n, l.k, d.oh, d.ow}, i)] = plain[i];
          }
          double relErr = maxRelErr(results[0], ref);
          llvm::outs() << llvm::formatv(
              "{{\"layer\":\"{0}\", \"form\":\"{1}\", \"layout\":\"{13}\", "
              "\"dtype\":\"f32\", "
              "\"batch\":{2}, \"threads\":{3}, \"qfuse_ms\":{4:F3}, "
              "\"onednn_ms\":{5:F3}, \"ratio\":{6:F2}, \"gflops\":{7:F2}, "
              "\"onednn_gflops\":{8:F2}, \"max_rel_err\":{9:E2}, "
              "\"onednn_impl\":\"{10}\", \"onednn_isa\":\"{11}\", "
              "\"onednn_layout\":\"{14}\", \"peak_fraction\":{12:F2}}\n",
              l.name, fused ? "fused" : "unfused", n, t, qMs, dnnlMs,
              qMs / dnnlMs, flops / qMs * 1e-6, flops / dnnlMs * 1e-6, relErr,
              impl, effectiveIsa(),
              peak > 0 ? flops / qMs * 1e-6 / (peak * t) : 0.0,
              !blocked  ? "nchw"
              : blockIn ? "nChw8c"
                        : "nchw>nChw8c",
              dnnlLayout);
          llvm::outs().flush();
          if (!blocked)
            nchwJits[{fused, t}] = std::move(*jit);
        }
      }
      // Fused against unfused qfuse, timed in the same alternating rounds
      // (bestOfBoth), so that both meet the same stretches of load: the
      // difference can be a few microseconds in milliseconds (an extra pass
      // over the output), below what rows timed apart can resolve.
      for (int t : ts) {
        auto fusedJit = nchwJits.find({true, t}),
             unfusedJit = nchwJits.find({false, t});
        if (fusedJit == nchwJits.end() || unfusedJit == nchwJits.end())
          continue;
        omp_set_num_threads(t);
        HostTensor x = makeInput(/*blockIn=*/false);
        SmallVector<HostTensor> fusedOut, unfusedOut;
        auto [fusedMs, unfusedMs] =
            bestOfBoth({[&] { runQfuse(*fusedJit->second, x, fusedOut); },
                        [&] { runQfuse(*unfusedJit->second, x, unfusedOut); }});
        llvm::outs() << llvm::formatv(
            "{{\"layer\":\"{0}\", \"comparison\":\"fused_vs_unfused\", "
            "\"layout\":\"nchw\", \"dtype\":\"f32\", \"batch\":{1}, "
            "\"threads\":{2}, \"fused_ms\":{3:F3}, \"unfused_ms\":{4:F3}, "
            "\"ratio\":{5:F3}}\n",
            l.name, n, t, fusedMs, unfusedMs, fusedMs / unfusedMs);
        llvm::outs().flush();
      }
    }
  }
  return 0;
}
