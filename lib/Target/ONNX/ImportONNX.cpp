//===- ImportONNX.cpp - ONNX model importer -------------------------------===//
//
// Reads a ModelProto with libonnx's protobuf classes and builds one function:
// conv-net operators become qfuse ops (Conv, ConvTranspose,
// BatchNormalization, Relu, Clip, Gemm, MatMul, QuantizeLinear ->
// DequantizeLinear pairs), the rest of a CNN becomes linalg / tensor / arith
// (Add, Sub, Mul, Div, MaxPool, AveragePool, GlobalAveragePool, Flatten,
// Reshape, Transpose, Concat, ReduceMean, Softmax, Cast, Identity, Dropout,
// Constant, Sigmoid). Shapes are computed here,
// per node; they must be static.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Target/ONNX/ImportONNX.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::qfuse;

namespace {

using utils::IteratorType;

/// An error already reported at a location; unwinds the import.
struct ImportError {};

class Importer {
public:
  Importer(MLIRContext *ctx, StringRef source,
           const std::map<std::string, int64_t> &dims)
      : ctx(ctx), b(ctx), source(source.str()), dimValues(dims) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

private:
  MLIRContext *ctx;
  OpBuilder b;
  std::string source;
  const std::map<std::string, int64_t> &dimValues;
  int64_t opset = 1;
  llvm::StringMap<Value> values;
  llvm::StringMap<DenseElementsAttr> constants;
  /// Initializers with more than kResourceThreshold elements, as dense
  /// resources (raw blobs, printed once in the file's resource section).
  llvm::StringMap<ElementsAttr> largeConstants;
  static constexpr int64_t kResourceThreshold = 1024;
  /// The ONNX element type of each constant (uint8 and int8 share i8).
  llvm::StringMap<int32_t> constantTypes;
  /// QuantizeLinear outputs, consumed by the DequantizeLinear that follows.
  struct PendingQuant {
    Value input;
    Value scale, zeroPoint;
    std::optional<int64_t> axis;
    int64_t qmin, qmax;
    std::string node;
  };
  llvm::StringMap<PendingQuant> pending;
  /// Values holding uint8 data in i8 (graph inputs, initializers and
  /// integer results); see the qfuse integer ops' `uint8` flags.
  llvm::DenseSet<Value> uint8Values;

  // --- diagnostics ---------------------------------------------------------
  /// The node's name, or its first output's when it has none.
  static std::string displayName(const onnx::NodeProto &n) {
    if (!n.name().empty())
      return n.name();
    return n.output_size() ? n.output(0) : n.op_type();
  }
  Location nodeLoc(const onnx::NodeProto &n) {
    return NameLoc::get(StringAttr::get(ctx, displayName(n)),
                        FileLineColLoc::get(ctx, source, 0, 0));
  }
  [[noreturn]] void fail(Location loc, const Twine &msg) {
    emitError(loc) << msg;
    throw ImportError();
  }
  [[noreturn]] void failNode(const onnx::NodeProto &n, const Twine &msg) {
    fail(nodeLoc(n), "ONNX node '" + Twine(displayName(n)) + "' (" +
                         n.op_type() + "): " + msg);
  }

  // --- tensors -------------------------------------------------------------
  Type elementType(int32_t onnxType, const onnx::NodeProto *n, Location loc) {
    switch (onnxType) {
    case onnx::TensorProto::FLOAT:
      return b.getF32Type();
    case onnx::TensorProto::DOUBLE:
      return b.getF64Type();
    case onnx::TensorProto::FLOAT16:
      return b.getF16Type();
    case onnx::TensorProto::BFLOAT16:
      return b.getBF16Type();
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
      return b.getIntegerType(8);
    case onnx::TensorProto::INT32:
      return b.getIntegerType(32);
    case onnx::TensorProto::INT64:
      return b.getIntegerType(64);
    default:
      fail(loc, "unsupported ONNX tensor element type " + Twine(onnxType));
    }
  }

  /// Values of a TensorProto as a dense attribute. UINT8 data is stored in
  /// i8 bit patterns (constantTypes keeps the signedness). With
  /// `resourceAbove` set, a tensor of more elements becomes a dense resource
  /// blob made from the raw bytes directly (never uniqued as dense elements).
  ElementsAttr tensorAttr(const onnx::TensorProto &t, Location loc,
                          std::optional<int64_t> resourceAbove) {
    SmallVector<int64_t> shape(t.dims().begin(), t.dims().end());
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    Type elt = elementType(t.data_type(), nullptr, loc);
    size_t width = elt.getIntOrFloatBitWidth() / 8;
    std::string raw;
    if (t.has_raw_data()) {
      raw = t.raw_data();
    } else {
      raw.resize(count * width);
      switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        for (int64_t i = 0; i < count; ++i) {
          float v = t.float_data(i);
          std::memcpy(&raw[i * 4], &v, 4);
        }
        break;
      case onnx::TensorProto::DOUBLE:
        for (int64_t i = 0; i < count; ++i) {
          double v = t.double_data(i);
          std::memcpy(&raw[i * 8], &v, 8);
        }
        break;
      case onnx::TensorProto::INT64:
        for (int64_t i = 0; i < count; ++i) {
          int64_t v = t.int64_data(i);
          std::memcpy(&raw[i * 8], &v, 8);
        }
        break;
      default: // int8/uint8/int32/f16/bf16 are stored in int32_data
        for (int64_t i = 0; i < count; ++i) {
          int32_t v = t.int32_data(i);
          std::memcpy(&raw[i * width], &v, width);
        }
      }
    }
    if ((int64_t)raw.size() != count * (int64_t)width)
      fail(loc, "initializer '" + Twine(t.name()) + "' holds " +
                    Twine(raw.size()) + " bytes for " + Twine(count) +
                    " elements");
    auto type = RankedTensorType::get(shape, elt);
    ArrayRef<char> bytes(raw.data(), raw.size());
    if (resourceAbove && count > *resourceAbove) {
      std::string blobName = t.name();
      for (char &c : blobName)
        if (!isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return DenseResourceElementsAttr::get(
          type, blobName,
          HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(double)));
    }
    bool detectedSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, bytes, detectedSplat))
      fail(loc, "initializer '" + Twine(t.name()) + "' has malformed data");
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  }
  DenseElementsAttr denseAttr(const onnx::TensorProto &t, Location loc) {
    return cast<DenseElementsAttr>(tensorAttr(t, loc, std::nullopt));
  }

  Value constant(DenseElementsAttr attr) {
    return arith::ConstantOp::create(b, b.getUnknownLoc(), attr);
  }

  /// The value named `name`, materializing constants on first use.
  Value get(const onnx::NodeProto &n, int i) {
    if (i >= n.input_size() || n.input(i).empty())
      return Value();
    const std::string &name = n.input(i);
    if (auto it = values.find(name); it != values.end())
      return it->second;
    if (auto it = constants.find(name); it != constants.end()) {
      Value v = constant(it->second);
      values[name] = v;
      return v;
    }
    if (auto it = largeConstants.find(name); it != largeConstants.end()) {
      Value v = arith::ConstantOp::create(b, b.getUnknownLoc(),
                                          cast<TypedAttr>(it->second));
      values[name] = v;
      return v;
    }
    if (pending.count(name))
      return materializeQuantize(name);
    failNode(n, "input '" + Twine(name) + "' is not defined");
  }
  /// The integer tensor of a QuantizeLinear that was held back for a
  /// DequantizeLinear but is read as integers: a qfuse.quantize.
  Value materializeQuantize(StringRef name) {
    PendingQuant &q = pending[name];
    bool isUint8 = q.qmin >= 0 && q.qmax > 127;
    Value v = QuantizeOp::create(
        b, NameLoc::get(StringAttr::get(ctx, q.node)),
        typeOf(q.input).clone(b.getI8Type()), q.input, q.scale, q.zeroPoint,
        q.axis ? b.getI64IntegerAttr(*q.axis) : IntegerAttr(),
        b.getI64IntegerAttr(q.qmin), b.getI64IntegerAttr(q.qmax),
        isUint8 ? b.getUnitAttr() : UnitAttr());
    if (isUint8)
      uint8Values.insert(v);
    values[name] = v;
    return v;
  }
  /// Whether input `i` of `n` holds uint8 data.
  bool isUint8(const onnx::NodeProto &n, int i) {
    if (i >= n.input_size() || n.input(i).empty())
      return false;
    if (auto ct = constantTypes.find(n.input(i)); ct != constantTypes.end())
      return ct->second == onnx::TensorProto::UINT8;
    if (auto p = pending.find(n.input(i)); p != pending.end())
      return p->second.qmin >= 0 && p->second.qmax > 127;
    auto it = values.find(n.input(i));
    return it != values.end() && uint8Values.contains(it->second);
  }
  /// Zero-point input `i` as an i32 tensor holding the values (uint8
  /// zero-extended); an absent one is 0 with shape `absentShape`.
  Value zeroPointOf(const onnx::NodeProto &n, int i,
                    ArrayRef<int64_t> absentShape) {
    auto i32 = b.getI32Type();
    if (i >= n.input_size() || n.input(i).empty())
      return constant(DenseElementsAttr::get(
          RankedTensorType::get(absentShape, i32), int32_t(0)));
    bool isUnsigned = isUint8(n, i);
    if (auto zp = constantOf(n, i)) {
      SmallVector<int32_t> widened;
      for (APInt v : zp->getValues<APInt>())
        widened.push_back(isUnsigned ? (int32_t)v.getZExtValue()
                                     : (int32_t)v.getSExtValue());
      return constant(DenseElementsAttr::get(
          RankedTensorType::get(zp->getType().getShape(), i32),
          ArrayRef<int32_t>(widened)));
    }
    Value v = require(n, i, "zero point");
    auto t = typeOf(v);
    if (!isa<IntegerType>(t.getElementType()) ||
        t.getElementType().getIntOrFloatBitWidth() > 32)
      failNode(n, "zero point input " + Twine(i) + " must be 8- or 32-bit");
    if (t.getElementType().isInteger(32))
      return v;
    Location loc = nodeLoc(n);
    if (isUnsigned)
      return arith::ExtUIOp::create(b, loc, t.clone(i32), v);
    return arith::ExtSIOp::create(b, loc, t.clone(i32), v);
  }
  Value require(const onnx::NodeProto &n, int i, StringRef what) {
    Value v = get(n, i);
    if (!v)
      failNode(n, "missing input " + Twine(i) + " (" + what + ")");
    return v;
  }
  std::optional<DenseElementsAttr> constantOf(const onnx::NodeProto &n,
                                              int i) {
    if (i >= n.input_size() || n.input(i).empty())
      return std::nullopt;
    auto it = constants.find(n.input(i));
    if (it == constants.end())
      return std::nullopt;
    return it->second;
  }
  RankedTensorType typeOf(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  void define(const onnx::NodeProto &n, int i, Value v) {
    if (i < n.output_size() && !n.output(i).empty())
      values[n.output(i)] = v;
  }

  // --- attributes ----------------------------------------------------------
  const onnx::AttributeProto *attr(const onnx::NodeProto &n, StringRef name) {
    for (const auto &a : n.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t getInt(const onnx::NodeProto &n, StringRef name, int64_t dflt) {
    const auto *a = attr(n, name);
    return a ? a->i() : dflt;
  }
  float getFloat(const onnx::NodeProto &n, StringRef name, float dflt) {
    const auto *a = attr(n, name);
    return a ? a->f() : dflt;
  }
  std::string getString(const onnx::NodeProto &n, StringRef name,
                        StringRef dflt) {
    const auto *a = attr(n, name);
    return a ? a->s() : dflt.str();
  }
  SmallVector<int64_t> getInts(const onnx::NodeProto &n, StringRef name,
                               ArrayRef<int64_t> dflt) {
    const auto *a = attr(n, name);
    if (!a)
      return SmallVector<int64_t>(dflt);
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }
  /// Fails on any attribute not in `known`: never a silent wrong import.
  void checkAttrs(const onnx::NodeProto &n, ArrayRef<StringRef> known) {
    for (const auto &a : n.attribute())
      if (!llvm::is_contained(known, a.name()))
        failNode(n, "unsupported attribute '" + Twine(a.name()) + "'");
  }

  // --- builders ------------------------------------------------------------
  Value floatConst(Location loc, Type t, double v) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
  }
  Value elementwise(Location loc, RankedTensorType resultType,
                    ArrayRef<Value> ins, ArrayRef<AffineMap> maps,
                    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
    int64_t rank = resultType.getRank();
    Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                         resultType.getElementType());
    SmallVector<AffineMap> allMaps(maps);
    allMaps.push_back(b.getMultiDimIdentityMap(rank));
    SmallVector<IteratorType> par(rank, IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, TypeRange{resultType}, ins, ValueRange{init}, allMaps,
               par,
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l, fn(nb, l, args.drop_back()));
               })
        .getResult(0);
  }
  /// numpy-style broadcasting of `operands` to one shape.
  Value broadcastBinary(const onnx::NodeProto &n, Value lhs, Value rhs,
                        function_ref<Value(OpBuilder &, Location, Value, Value)>
                            fn) {
    auto lt = typeOf(lhs), rt = typeOf(rhs);
    if (lt.getElementType() != rt.getElementType() ||
        !isa<FloatType>(lt.getElementType()))
      failNode(n, "needs two float operands of one element type");
    int64_t rank = std::max(lt.getRank(), rt.getRank());
    SmallVector<int64_t> shape(rank, 1);
    auto dimOf = [&](RankedTensorType t, int64_t d) -> int64_t {
      int64_t off = rank - t.getRank();
      return d < off ? 1 : t.getDimSize(d - off);
    };
    for (int64_t d = 0; d < rank; ++d) {
      int64_t a = dimOf(lt, d), c = dimOf(rt, d);
      if (a != c && a != 1 && c != 1)
        failNode(n, "operand shapes do not broadcast");
      shape[d] = std::max(a, c);
    }
    auto mapFor = [&](RankedTensorType t) {
      SmallVector<AffineExpr> exprs;
      int64_t off = rank - t.getRank();
      for (int64_t d = off; d < rank; ++d)
        exprs.push_back(t.getDimSize(d - off) == 1 && shape[d] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d, ctx));
      return AffineMap::get(rank, 0, exprs, ctx);
    };
    auto type = RankedTensorType::get(shape, lt.getElementType());
    return elementwise(nodeLoc(n), type, {lhs, rhs}, {mapFor(lt), mapFor(rt)},
                       [&](OpBuilder &nb, Location l, ValueRange a) {
                         return fn(nb, l, a[0], a[1]);
                       });
  }
  /// A transposed copy of a constant, computed here (weights reach MatMul
  /// through Transpose in PyTorch exports; folding keeps them constants).
  std::optional<Value> transposeConstant(Location loc, Value v,
                                         ArrayRef<int64_t> perm) {
    ElementsAttr attr;
    if (!matchPattern(v, m_Constant(&attr)))
      return std::nullopt;
    auto t = cast<RankedTensorType>(attr.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(t.getDimSize(p));
    auto newType = RankedTensorType::get(shape, t.getElementType());
    ArrayRef<char> raw;
    if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
      if (dense.isSplat())
        return constant(dense.reshape(RankedTensorType::get(
            SmallVector<int64_t>(t.getShape()), t.getElementType()))
                            .resizeSplat(newType));
      raw = dense.getRawData();
    } else if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
      if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
        raw = blob->getData();
    }
    size_t width = t.getElementType().getIntOrFloatBitWidth() / 8;
    int64_t count = t.getNumElements(), rank = t.getRank();
    if (width == 0 || (int64_t)raw.size() != count * (int64_t)width)
      return std::nullopt;
    SmallVector<int64_t> inStrides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      inStrides[d] = inStrides[d + 1] * t.getDimSize(d + 1);
    std::vector<char> out(raw.size());
    SmallVector<int64_t> idx(rank, 0); // index into the output
    for (int64_t i = 0; i < count; ++i) {
      int64_t src = 0;
      for (int64_t d = 0; d < rank; ++d)
        src += idx[d] * inStrides[perm[d]];
      std::memcpy(&out[i * width], &raw[src * width], width);
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < shape[d])
          break;
        idx[d] = 0;
      }
    }
    (void)loc;
    return constant(DenseElementsAttr::getFromRawBuffer(
        newType, ArrayRef<char>(out.data(), out.size())));
  }

  Value transpose2D(Location loc, Value v) {
    if (auto folded = transposeConstant(loc, v, {1, 0}))
      return *folded;
    auto t = typeOf(v);
    Value init = tensor::EmptyOp::create(
        b, loc, {t.getDimSize(1), t.getDimSize(0)}, t.getElementType());
    return linalg::TransposeOp::create(b, loc, v, init,
                                       ArrayRef<int64_t>{1, 0})
        .getResult()[0];
  }

  ActivationKindAttr noAct() {
    return ActivationKindAttr::get(ctx, ActivationKind::none);
  }

  /// Cast of a constant, folded at import (zero points and scales reach
  /// QuantizeLinear through such casts in PyTorch exports).
  void foldCast(const onnx::NodeProto &n) {
    checkAttrs(n, {"to", "saturate"});
    DenseElementsAttr in = *constantOf(n, 0);
    int32_t from = constantTypes.lookup(n.input(0));
    int32_t to = getInt(n, "to", 0);
    Type elt = elementType(to, &n, nodeLoc(n));
    bool fromUnsigned = from == onnx::TensorProto::UINT8;
    SmallVector<double> values;
    if (isa<FloatType>(in.getElementType()))
      for (APFloat v : in.getValues<APFloat>())
        values.push_back(v.convertToDouble());
    else
      for (APInt v : in.getValues<APInt>())
        values.push_back(fromUnsigned ? (double)v.getZExtValue()
                                      : (double)v.getSExtValue());
    auto type = RankedTensorType::get(in.getType().getShape(), elt);
    DenseElementsAttr out;
    if (auto ft = dyn_cast<FloatType>(elt)) {
      SmallVector<APFloat> fs;
      for (double v : values) {
        APFloat f(v);
        bool lost;
        f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
        fs.push_back(f);
      }
      out = DenseElementsAttr::get(type, fs);
    } else {
      unsigned width = elt.getIntOrFloatBitWidth();
      SmallVector<APInt> is;
      for (double v : values) {
        if (!std::isfinite(v))
          failNode(n, "casts a non-finite value to an integer");
        is.push_back(APInt(width, (uint64_t)(int64_t)std::trunc(v),
                           /*isSigned=*/true, /*implicitTrunc=*/true));
      }
      out = DenseElementsAttr::get(type, is);
    }
    constants[n.output(0)] = out;
    constantTypes[n.output(0)] = to;
  }

  // --- node handlers -------------------------------------------------------
  void importNode(const onnx::NodeProto &n);
  struct ConvAttrs {
    SmallVector<int64_t> kernel, strides, dilations, pads, inSpatial, outShape;
    int64_t group = 1;
    std::string autoPad;
  };
  ConvAttrs convAttrs(const onnx::NodeProto &n, RankedTensorType xt,
                      RankedTensorType wt, bool transposed);
  void importConv(const onnx::NodeProto &n, bool transposed);
  void importGemm(const onnx::NodeProto &n);
  void importMatMul(const onnx::NodeProto &n);
  void importPool(const onnx::NodeProto &n, bool isMax);
  void importQuantize(const onnx::NodeProto &n);
  void importDequantize(const onnx::NodeProto &n);
  void importIntegerConv(const onnx::NodeProto &n, bool requantize);
  void importIntegerMatMul(const onnx::NodeProto &n, bool requantize);
  /// The scale and zero point of a per-tensor operand (inputs `si`, `zi`).
  std::pair<Value, Value> perTensorQuant(const onnx::NodeProto &n, int si,
                                         int zi, StringRef what);
  /// The quantization of QLinearConv / QLinearMatMul: per-tensor input
  /// (inputs 1, 2), per-tensor or per-channel weight (4, 5), per-tensor
  /// output (6, 7; an absent output zero point is uint8 0). `x` and `w` name
  /// the operands in messages.
  struct RequantInputs {
    Value xScale, xZp, wScale, wZp, yScale, yZp;
    bool yUint8 = false;
  };
  RequantInputs requantInputs(const onnx::NodeProto &n, StringRef x,
                              StringRef w);
};

/// Explicit begin/end pads for auto_pad SAME_UPPER / SAME_LOWER / VALID.
static void autoPads(StringRef autoPad, ArrayRef<int64_t> in,
                     ArrayRef<int64_t> k, ArrayRef<int64_t> s,
                     ArrayRef<int64_t> d, SmallVectorImpl<int64_t> &pads) {
  size_t n = in.size();
  pads.assign(2 * n, 0);
  if (autoPad == "VALID")
    return;
  for (size_t i = 0; i < n; ++i) {
    int64_t out = (in[i] + s[i] - 1) / s[i];
    int64_t total =
        std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
    int64_t small = total / 2, big = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : big;
    pads[i + n] = autoPad == "SAME_UPPER" ? big : small;
  }
}

/// The geometry attributes of Conv, ConvTranspose, QLinearConv and
/// ConvInteger, checked against the input and weight; for a convolution
/// (not transposed) auto_pad is resolved and the output shape computed.
Importer::ConvAttrs Importer::convAttrs(const onnx::NodeProto &n,
                                        RankedTensorType xt,
                                        RankedTensorType wt,
                                        bool transposed) {
  ConvAttrs c;
  int64_t s = xt.getRank() - 2;
  if (s < 1 || s > 3 || wt.getRank() != xt.getRank())
    failNode(n, "needs 3-D to 5-D input and weight of the same rank");
  c.kernel.assign(wt.getShape().begin() + 2, wt.getShape().end());
  auto kernelAttr = getInts(n, "kernel_shape", c.kernel);
  if (ArrayRef<int64_t>(kernelAttr) != ArrayRef<int64_t>(c.kernel))
    failNode(n, "kernel_shape disagrees with the weight's shape");
  SmallVector<int64_t> ones(s, 1), zeros(2 * s, 0);
  c.strides = getInts(n, "strides", ones);
  c.dilations = getInts(n, "dilations", ones);
  c.group = getInt(n, "group", 1);
  c.autoPad = getString(n, "auto_pad", "NOTSET");
  c.pads = getInts(n, "pads", zeros);
  c.inSpatial.assign(xt.getShape().begin() + 2, xt.getShape().end());
  if (c.strides.size() != (size_t)s || c.dilations.size() != (size_t)s ||
      c.pads.size() != (size_t)(2 * s))
    failNode(n, "strides/dilations/pads do not match the spatial rank");
  if (transposed)
    return c;
  if (c.autoPad != "NOTSET")
    autoPads(c.autoPad, c.inSpatial, c.kernel, c.strides, c.dilations, c.pads);
  ConvGeometry g{c.strides, c.pads, c.dilations, {}, c.group, false};
  c.outShape = {xt.getDimSize(0), wt.getDimSize(0)};
  for (int64_t i = 0; i < s; ++i)
    c.outShape.push_back(
        inferConvOutputSize(c.inSpatial[i], c.kernel[i], g, i));
  return c;
}

void Importer::importConv(const onnx::NodeProto &n, bool transposed) {
  checkAttrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads",
                 "strides", "output_padding", "output_shape"});
  Location loc = nodeLoc(n);
  Value x = require(n, 0, "X"), w = require(n, 1, "W"), bias = get(n, 2);
  auto xt = typeOf(x), wt = typeOf(w);
  ConvAttrs c = convAttrs(n, xt, wt, transposed);
  int64_t s = c.kernel.size(), group = c.group;
  SmallVector<int64_t> &kernel = c.kernel, &strides = c.strides,
                       &dil = c.dilations, &pads = c.pads,
                       &inSpatial = c.inSpatial;
  std::string &autoPad = c.autoPad;
  Type elt = xt.getElementType();

  if (!transposed) {
    auto conv = ConvOp::create(
        b, loc, RankedTensorType::get(c.outShape, elt), x, w, bias,
        b.getDenseI64ArrayAttr(strides), b.getDenseI64ArrayAttr(pads),
        b.getDenseI64ArrayAttr(dil), b.getI64IntegerAttr(group), noAct(),
        FloatAttr(), FloatAttr());
    define(n, 0, conv);
    return;
  }
  auto outPad = getInts(n, "output_padding", SmallVector<int64_t>(s, 0));
  auto outShapeAttr = getInts(n, "output_shape", {});
  int64_t cout = wt.getDimSize(1) * group;
  if (!outShapeAttr.empty() || autoPad == "SAME_UPPER" ||
      autoPad == "SAME_LOWER") {
    // ONNX: total_padding = stride·(in−1) + output_padding + ((k−1)·d + 1)
    // − output_shape, split by auto_pad (SAME_UPPER: extra at the end).
    SmallVector<int64_t> target(outShapeAttr.end() - std::min<size_t>(s, outShapeAttr.size()),
                                outShapeAttr.end());
    if (target.empty())
      for (int64_t i = 0; i < s; ++i)
        target.push_back(inSpatial[i] * strides[i]);
    for (int64_t i = 0; i < s; ++i) {
      int64_t total = strides[i] * (inSpatial[i] - 1) + outPad[i] +
                      (kernel[i] - 1) * dil[i] + 1 - target[i];
      if (total < 0) {
        // The requested output is larger than the full transposed conv:
        // the extra rows come as output padding at the end.
        outPad[i] += -total;
        total = 0;
      }
      int64_t small = total / 2, big = total - small;
      bool lower = autoPad == "SAME_LOWER";
      pads[i] = lower ? big : small;
      pads[i + s] = lower ? small : big;
    }
  } else if (autoPad == "VALID") {
    pads.assign(2 * s, 0);
  }
  ConvGeometry g{strides, pads, dil, outPad, group, true};
  SmallVector<int64_t> outShape = {xt.getDimSize(0), cout};
  for (int64_t i = 0; i < s; ++i)
    outShape.push_back(inferConvOutputSize(inSpatial[i], kernel[i], g, i));
  auto conv = ConvTransposeOp::create(
      b, loc, RankedTensorType::get(outShape, elt), x, w, bias,
      b.getDenseI64ArrayAttr(strides), b.getDenseI64ArrayAttr(pads),
      b.getDenseI64ArrayAttr(dil), b.getI64IntegerAttr(group),
      b.getDenseI64ArrayAttr(outPad), noAct(), FloatAttr(), FloatAttr());
  define(n, 0, conv);
}

void Importer::importGemm(const onnx::NodeProto &n) {
  checkAttrs(n, {"alpha", "beta", "transA", "transB"});
  Location loc = nodeLoc(n);
  Value a = require(n, 0, "A"), bm = require(n, 1, "B"), c = get(n, 2);
  double alpha = getFloat(n, "alpha", 1.0f), beta = getFloat(n, "beta", 1.0f);
  if (typeOf(a).getRank() != 2 || typeOf(bm).getRank() != 2)
    failNode(n, "needs 2-D A and B");
  if (getInt(n, "transA", 0))
    a = transpose2D(loc, a);
  // qfuse.linear takes the weight as [N, K] (x·Wᵀ): B itself when transB.
  if (!getInt(n, "transB", 0))
    bm = transpose2D(loc, bm);
  auto at = typeOf(a), wt = typeOf(bm);
  Type elt = at.getElementType();
  int64_t m = at.getDimSize(0), nOut = wt.getDimSize(0);
  if (at.getDimSize(1) != wt.getDimSize(1))
    failNode(n, "A and B have different inner dimensions");
  auto outType = RankedTensorType::get({m, nOut}, elt);
  // A 1-D bias of N with beta = 1 goes into the linear op itself.
  Value bias;
  if (c && beta == 1.0 && typeOf(c).getRank() == 1 &&
      typeOf(c).getDimSize(0) == nOut && alpha == 1.0) {
    bias = c;
    c = Value();
  }
  Value y = LinearOp::create(b, loc, outType, a, bm, bias, noAct(),
                             FloatAttr(), FloatAttr());
  if (alpha != 1.0)
    y = elementwise(loc, outType, {y}, {b.getMultiDimIdentityMap(2)},
                    [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                      return arith::MulFOp::create(
                          nb, l, v[0], floatConst(l, elt, alpha));
                    });
  if (c) {
    Value scaledC = c;
    if (beta != 1.0) {
      auto ct = typeOf(c);
      scaledC = elementwise(
          loc, ct, {c}, {b.getMultiDimIdentityMap(ct.getRank())},
          [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
            return arith::MulFOp::create(nb, l, v[0], floatConst(l, elt, beta));
          });
    }
    y = broadcastBinary(n, y, scaledC,
                        [](OpBuilder &nb, Location l, Value p, Value q) -> Value {
                          return arith::AddFOp::create(nb, l, p, q);
                        });
  }
  define(n, 0, y);
}

void Importer::importMatMul(const onnx::NodeProto &n) {
  checkAttrs(n, {});
  Location loc = nodeLoc(n);
  Value a = require(n, 0, "A"), bm = require(n, 1, "B");
  if (typeOf(a).getRank() != 2 || typeOf(bm).getRank() != 2)
    failNode(n, "only 2-D MatMul is supported");
  Value w = transpose2D(loc, bm);
  auto outType = RankedTensorType::get(
      {typeOf(a).getDimSize(0), typeOf(w).getDimSize(0)},
      typeOf(a).getElementType());
  if (typeOf(a).getDimSize(1) != typeOf(w).getDimSize(1))
    failNode(n, "A and B have different inner dimensions");
  define(n, 0, LinearOp::create(b, loc, outType, a, w, Value(), noAct(),
                                FloatAttr(), FloatAttr()));
}

void Importer::importPool(const onnx::NodeProto &n, bool isMax) {
  checkAttrs(n, {"auto_pad", "kernel_shape", "pads", "strides", "dilations",
                 "ceil_mode", "count_include_pad", "storage_order"});
  Location loc = nodeLoc(n);
  Value x = require(n, 0, "X");
  auto xt = typeOf(x);
  if (xt.getRank() != 4)
    failNode(n, "only 2-D pooling (NCHW) is supported");
  if (getInt(n, "ceil_mode", 0))
    failNode(n, "ceil_mode = 1 is not supported");
  if (n.output_size() > 1 && !n.output(1).empty())
    failNode(n, "the Indices output is not supported");
  auto kernel = getInts(n, "kernel_shape", {});
  if (kernel.size() != 2)
    failNode(n, "needs a 2-D kernel_shape");
  auto strides = getInts(n, "strides", {1, 1});
  auto dil = getInts(n, "dilations", {1, 1});
  if (!isMax && (dil[0] != 1 || dil[1] != 1))
    failNode(n, "dilated AveragePool is not supported");
  SmallVector<int64_t> pads = getInts(n, "pads", {0, 0, 0, 0});
  std::string autoPad = getString(n, "auto_pad", "NOTSET");
  if (autoPad != "NOTSET")
    autoPads(autoPad, xt.getShape().drop_front(2), kernel, strides, dil, pads);
  Type elt = xt.getElementType();
  double padValue = isMax ? -INFINITY : 0.0;
  auto padded = [&](Value v, double value) -> Value {
    if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
      return v;
    auto t = typeOf(v);
    SmallVector<OpFoldResult> lo = {b.getIndexAttr(0), b.getIndexAttr(0),
                                    b.getIndexAttr(pads[0]),
                                    b.getIndexAttr(pads[1])};
    SmallVector<OpFoldResult> hi = {b.getIndexAttr(0), b.getIndexAttr(0),
                                    b.getIndexAttr(pads[2]),
                                    b.getIndexAttr(pads[3])};
    SmallVector<int64_t> shape(t.getShape());
    shape[2] += pads[0] + pads[2];
    shape[3] += pads[1] + pads[3];
    return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, elt), v,
                                 lo, hi, floatConst(loc, elt, value));
  };
  Value in = padded(x, padValue);
  auto inT = typeOf(in);
  SmallVector<int64_t> outShape = {xt.getDimSize(0), xt.getDimSize(1)};
  for (int i = 0; i < 2; ++i)
    outShape.push_back((inT.getDimSize(2 + i) - dil[i] * (kernel[i] - 1) - 1) /
                           strides[i] +
                       1);
  auto outType = RankedTensorType::get(outShape, elt);
  Value window = tensor::EmptyOp::create(b, loc, kernel, elt);
  Value init = tensor::EmptyOp::create(b, loc, outShape, elt);
  // The named pooling ops take i64 dense element attributes.
  auto vec = [&](ArrayRef<int64_t> v) {
    return DenseIntElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, b.getI64Type()), v);
  };
  auto stridesAttr = vec(strides);
  auto dilAttr = vec(dil);
  auto pool = [&](Value input, double initValue, bool max) -> Value {
    Value filled = linalg::FillOp::create(
                       b, loc, ValueRange{floatConst(loc, elt, initValue)},
                       ValueRange{init})
                       .getResult(0);
    Operation *op;
    if (max)
      op = linalg::PoolingNchwMaxOp::create(b, loc, TypeRange{outType},
                                            ValueRange{input, window},
                                            ValueRange{filled});
    else
      op = linalg::PoolingNchwSumOp::create(b, loc, TypeRange{outType},
                                            ValueRange{input, window},
                                            ValueRange{filled});
    op->setAttr("strides", stridesAttr);
    op->setAttr("dilations", dilAttr);
    return op->getResult(0);
  };
  if (isMax) {
    define(n, 0, pool(in, -INFINITY, true));
    return;
  }
  Value sum = pool(in, 0.0, false);
  // Divisor: the window size, or (count_include_pad = 0) the number of
  // non-padding elements, counted by pooling ones padded with zeros.
  Value divisor;
  bool includePad = getInt(n, "count_include_pad", 0);
  bool anyPad = llvm::any_of(pads, [](int64_t p) { return p != 0; });
  if (includePad || !anyPad) {
    divisor = tensor::SplatOp::create(
        b, loc, outType, floatConst(loc, elt, kernel[0] * kernel[1]));
  } else {
    Value ones = tensor::SplatOp::create(b, loc, xt, floatConst(loc, elt, 1.0));
    divisor = pool(padded(ones, 0.0), 0.0, false);
  }
  AffineMap id = b.getMultiDimIdentityMap(4);
  define(n, 0,
         elementwise(loc, outType, {sum, divisor}, {id, id},
                     [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                       return arith::DivFOp::create(nb, l, a[0], a[1]);
                     }));
}

void Importer::importQuantize(const onnx::NodeProto &n) {
  checkAttrs(n, {"axis", "saturate"});
  Value x = require(n, 0, "x");
  auto scale = constantOf(n, 1);
  auto zp = constantOf(n, 2);
  if (!scale || (n.input_size() > 2 && !n.input(2).empty() && !zp)) {
    // Run-time parameters: the integer tensor itself (a DequantizeLinear
    // that follows becomes a qfuse.dequantize).
    Value s = require(n, 1, "y_scale");
    Value z = zeroPointOf(n, 2, typeOf(s).getShape());
    bool isUnsigned = n.input_size() <= 2 || n.input(2).empty() ||
                      isUint8(n, 2);
    std::optional<int64_t> axis;
    if (typeOf(s).getRank() == 1 && typeOf(s).getDimSize(0) != 1) {
      axis = getInt(n, "axis", 1);
      if (*axis < 0)
        *axis += typeOf(x).getRank();
    }
    Value q = QuantizeOp::create(
        b, nodeLoc(n), typeOf(x).clone(b.getI8Type()), x, s, z,
        axis ? b.getI64IntegerAttr(*axis) : IntegerAttr(),
        b.getI64IntegerAttr(isUnsigned ? 0 : -128),
        b.getI64IntegerAttr(isUnsigned ? 255 : 127),
        isUnsigned ? b.getUnitAttr() : UnitAttr());
    if (isUnsigned)
      uint8Values.insert(q);
    return define(n, 0, q);
  }
  PendingQuant q;
  q.input = x;
  q.node = displayName(n);
  q.scale = constant(*scale);
  // The zero point's ONNX type decides the range (uint8 when absent).
  int32_t zpType = onnx::TensorProto::UINT8;
  if (n.input_size() > 2 && !n.input(2).empty()) {
    if (!zp)
      failNode(n, "y_zero_point must be a constant");
    zpType = constantTypes.lookup(n.input(2));
  }
  if (zp) {
    // As i32 values, zero-extended for uint8.
    SmallVector<int32_t> widened;
    for (APInt v : zp->getValues<APInt>())
      widened.push_back(zpType == onnx::TensorProto::UINT8
                            ? (int32_t)v.getZExtValue()
                            : (int32_t)v.getSExtValue());
    q.zeroPoint = constant(DenseElementsAttr::get(
        RankedTensorType::get(zp->getType().getShape(), b.getI32Type()),
        ArrayRef<int32_t>(widened)));
  } else {
    auto zType = RankedTensorType::get(typeOf(q.scale).getShape(),
                                       b.getI32Type());
    q.zeroPoint = constant(DenseElementsAttr::get(zType, int32_t(0)));
  }
  if (zpType == onnx::TensorProto::INT8) {
    q.qmin = -128;
    q.qmax = 127;
  } else if (zpType == onnx::TensorProto::UINT8) {
    q.qmin = 0;
    q.qmax = 255;
  } else {
    failNode(n, "only int8 and uint8 quantization is supported");
  }
  if (typeOf(q.scale).getRank() == 1 && typeOf(q.scale).getDimSize(0) > 1) {
    int64_t axis = getInt(n, "axis", 1);
    if (axis < 0)
      axis += typeOf(x).getRank();
    q.axis = axis;
  }
  pending[n.output(0)] = q;
}

void Importer::importDequantize(const onnx::NodeProto &n) {
  checkAttrs(n, {"axis"});
  auto it = pending.find(n.input(0));
  if (it == pending.end()) {
    // An integer tensor (graph input, initializer, integer op result).
    Value q = require(n, 0, "x");
    Value s = require(n, 1, "x_scale");
    auto elt = typeOf(q).getElementType();
    if (!elt.isInteger(8) && !elt.isInteger(32))
      failNode(n, "x must be int8, uint8 or int32");
    Value z = zeroPointOf(n, 2, typeOf(s).getShape());
    std::optional<int64_t> axis;
    if (typeOf(s).getRank() == 1 && typeOf(s).getDimSize(0) != 1) {
      axis = getInt(n, "axis", 1);
      if (*axis < 0)
        *axis += typeOf(q).getRank();
    }
    return define(
        n, 0,
        DequantizeOp::create(
            b, nodeLoc(n), typeOf(q).clone(typeOf(s).getElementType()), q, s,
            z, axis ? b.getI64IntegerAttr(*axis) : IntegerAttr(),
            isUint8(n, 0) ? b.getUnitAttr() : UnitAttr()));
  }
  PendingQuant &q = it->second;
  auto scale = constantOf(n, 1);
  auto q0 = constantOf(n, 2);
  if (!scale || *scale != cast<arith::ConstantOp>(q.scale.getDefiningOp())
                              .getValue())
    failNode(n, "the DequantizeLinear scale differs from its QuantizeLinear's");
  (void)q0;
  Location loc = nodeLoc(n);
  auto fq = FakeQuantOp::create(
      b, loc, typeOf(q.input), q.input, q.scale, q.zeroPoint,
      q.axis ? b.getI64IntegerAttr(*q.axis) : IntegerAttr(),
      b.getI64IntegerAttr(q.qmin), b.getI64IntegerAttr(q.qmax));
  define(n, 0, fq);
}

std::pair<Value, Value> Importer::perTensorQuant(const onnx::NodeProto &n,
                                                 int si, int zi,
                                                 StringRef what) {
  Value scale = require(n, si, (what + " scale").str());
  auto st = typeOf(scale);
  if (st.getNumElements() != 1)
    failNode(n, what + " scale must hold one element (per tensor)");
  Value zp = zeroPointOf(n, zi, st.getShape());
  if (typeOf(zp).getShape() != st.getShape())
    failNode(n, what + " scale and zero point must have the same shape");
  return {scale, zp};
}

Importer::RequantInputs Importer::requantInputs(const onnx::NodeProto &n,
                                                StringRef x, StringRef w) {
  RequantInputs r;
  std::tie(r.xScale, r.xZp) = perTensorQuant(n, 1, 2, x);
  std::tie(r.yScale, r.yZp) = perTensorQuant(n, 6, 7, "y");
  r.wScale = require(n, 4, (w + "_scale").str());
  r.wZp = zeroPointOf(n, 5, typeOf(r.wScale).getShape());
  if (typeOf(r.wZp).getShape() != typeOf(r.wScale).getShape() &&
      typeOf(r.wZp).getNumElements() != 1)
    failNode(n, w + "_scale and " + w + "_zero_point must have the same shape");
  r.yUint8 = n.input_size() <= 7 || n.input(7).empty() || isUint8(n, 7);
  return r;
}

/// QLinearConv (requantize) and ConvInteger (the int32 accumulator).
void Importer::importIntegerConv(const onnx::NodeProto &n, bool requantize) {
  checkAttrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads",
                 "strides"});
  Location loc = nodeLoc(n);
  // QLinearConv: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B.
  // ConvInteger: x, w, x_zp, w_zp.
  int xi = 0, wi = requantize ? 3 : 1;
  int wzi = requantize ? 5 : 3;
  Value x = require(n, xi, "x"), w = require(n, wi, "w");
  auto xt = typeOf(x), wt = typeOf(w);
  if (!xt.getElementType().isInteger(8) || !wt.getElementType().isInteger(8))
    failNode(n, "x and w must be int8 or uint8");
  ConvAttrs c = convAttrs(n, xt, wt, /*transposed=*/false);
  Value xScale, xZp, wScale, wZp, yScale, yZp, bias;
  bool yUint8 = false;
  if (requantize) {
    RequantInputs r = requantInputs(n, "x", "w");
    xScale = r.xScale, xZp = r.xZp, wScale = r.wScale, wZp = r.wZp;
    yScale = r.yScale, yZp = r.yZp, yUint8 = r.yUint8;
    bias = get(n, 8);
    if (bias && !typeOf(bias).getElementType().isInteger(32))
      failNode(n, "B must be int32");
  } else {
    xZp = zeroPointOf(n, 2, {});
    wZp = zeroPointOf(n, wzi, {});
    if (typeOf(xZp).getNumElements() != 1)
      failNode(n, "x_zero_point must hold one element (per tensor)");
  }
  auto unit = [&](bool f) { return f ? b.getUnitAttr() : UnitAttr(); };
  Type outElt = requantize ? b.getI8Type() : b.getI32Type();
  auto conv = QConvOp::create(
      b, loc, RankedTensorType::get(c.outShape, outElt), x, w, bias, xZp, wZp,
      xScale, wScale, yScale, yZp, unit(isUint8(n, xi)), unit(isUint8(n, wi)),
      unit(yUint8),
      requantize ? b.getI64IntegerAttr(yUint8 ? 0 : -128) : IntegerAttr(),
      requantize ? b.getI64IntegerAttr(yUint8 ? 255 : 127) : IntegerAttr(),
      b.getDenseI64ArrayAttr(c.strides), b.getDenseI64ArrayAttr(c.pads),
      b.getDenseI64ArrayAttr(c.dilations), b.getI64IntegerAttr(c.group),
      noAct(), FloatAttr(), FloatAttr());
  if (yUint8 && requantize)
    uint8Values.insert(conv);
  define(n, 0, conv);
}

/// QLinearMatMul (requantize) and MatMulInteger: Y = A·B is qfuse.qlinear
/// with the weight Bᵀ (per-column B parameters become per-output-channel
/// ones). Batched operands (numpy matmul broadcasting over the leading
/// dimensions, static shapes): with a 2-D B the rows of every batch are one
/// qlinear; otherwise one qlinear per batch, inserted into the result.
void Importer::importIntegerMatMul(const onnx::NodeProto &n,
                                   bool requantize) {
  checkAttrs(n, {});
  Location loc = nodeLoc(n);
  // QLinearMatMul: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp.
  // MatMulInteger: A, B, a_zp, b_zp.
  int ai = 0, bi = requantize ? 3 : 1;
  Value a = require(n, ai, "A"), bm = require(n, bi, "B");
  RankedTensorType aType = typeOf(a), bType = typeOf(bm);
  int64_t ar = aType.getRank(), br = bType.getRank();
  if (ar < 2 || br < 2)
    failNode(n, "A and B need at least 2 dimensions");
  if ((ar > 2 || br > 2) &&
      (!aType.hasStaticShape() || !bType.hasStaticShape()))
    failNode(n, "batched operands need static shapes");
  if (!aType.getElementType().isInteger(8) ||
      !bType.getElementType().isInteger(8))
    failNode(n, "A and B must be int8 or uint8");
  int64_t m = aType.getDimSize(ar - 2), k = aType.getDimSize(ar - 1),
          nOut = bType.getDimSize(br - 1);
  if (k != bType.getDimSize(br - 2))
    failNode(n, "A and B have different inner dimensions");
  // The broadcast batch shape, right-aligned.
  int64_t batchRank = std::max(ar, br) - 2;
  SmallVector<int64_t> batch(batchRank);
  auto batchDim = [&](RankedTensorType t, int64_t d) -> int64_t {
    int64_t i = d - (batchRank - (t.getRank() - 2));
    return i < 0 ? 1 : t.getDimSize(i);
  };
  for (int64_t d = 0; d < batchRank; ++d) {
    int64_t x = batchDim(aType, d), y = batchDim(bType, d);
    if (x != y && x != 1 && y != 1)
      failNode(n, "the batch dimensions of A and B do not broadcast");
    batch[d] = std::max(x, y);
  }
  Value aScale, aZp, bScale, bZp, yScale, yZp;
  bool yUint8 = false;
  if (requantize) {
    RequantInputs r = requantInputs(n, "a", "b");
    aScale = r.xScale, aZp = r.xZp, bScale = r.wScale, bZp = r.wZp;
    yScale = r.yScale, yZp = r.yZp, yUint8 = r.yUint8;
  } else {
    aZp = zeroPointOf(n, 2, {});
    bZp = zeroPointOf(n, 3, {});
    if (typeOf(aZp).getNumElements() != 1)
      failNode(n, "a_zero_point must hold one element (per-row zero points "
                  "are not supported)");
  }
  auto unit = [&](bool f) { return f ? b.getUnitAttr() : UnitAttr(); };
  Type outElt = requantize ? b.getI8Type() : b.getI32Type();
  // a2 [rows, K] · b2 [K, N] -> [rows, N].
  auto matmul2D = [&](Value a2, Value b2) -> Value {
    Value w = transpose2D(loc, b2);
    return QLinearOp::create(
        b, loc,
        RankedTensorType::get({typeOf(a2).getDimSize(0), nOut}, outElt), a2,
        w, Value(), aZp, bZp, aScale, bScale, yScale, yZp,
        unit(isUint8(n, ai)), unit(isUint8(n, bi)), unit(yUint8),
        requantize ? b.getI64IntegerAttr(yUint8 ? 0 : -128) : IntegerAttr(),
        requantize ? b.getI64IntegerAttr(yUint8 ? 255 : 127) : IntegerAttr(),
        noAct(), FloatAttr(), FloatAttr());
  };
  SmallVector<int64_t> outShape(batch);
  outShape.append({m, nOut});
  auto outType = RankedTensorType::get(outShape, outElt);
  Value result;
  if (batchRank == 0) {
    result = matmul2D(a, bm);
  } else if (br == 2) {
    // Every row of every batch against the one B.
    SmallVector<ReassociationIndices> groups(2);
    for (int64_t d = 0; d < ar - 1; ++d)
      groups[0].push_back(d);
    groups[1].push_back(ar - 1);
    Value rows = tensor::CollapseShapeOp::create(b, loc, a, groups);
    Value flat = matmul2D(rows, bm);
    SmallVector<ReassociationIndices> out(2);
    for (int64_t d = 0; d < batchRank + 1; ++d)
      out[0].push_back(d);
    out[1].push_back(batchRank + 1);
    result = tensor::ExpandShapeOp::create(b, loc, outType, flat, out);
  } else {
    int64_t count = 1;
    for (int64_t d : batch)
      count *= d;
    if (count > 4096)
      failNode(n, "more than 4096 batched products");
    result = tensor::EmptyOp::create(b, loc, outShape, outElt);
    // The 2-D slice of `v` (rank r) at batch index `idx` (broadcast dims
    // read index 0).
    auto slice2D = [&](Value v, ArrayRef<int64_t> idx) -> Value {
      RankedTensorType t = typeOf(v);
      int64_t r = t.getRank();
      SmallVector<OpFoldResult> offs, sizes, strides(r, b.getIndexAttr(1));
      for (int64_t i = 0; i < r - 2; ++i) {
        int64_t d = i + batchRank - (r - 2);
        offs.push_back(b.getIndexAttr(t.getDimSize(i) == 1 ? 0 : idx[d]));
        sizes.push_back(b.getIndexAttr(1));
      }
      for (int64_t i = r - 2; i < r; ++i) {
        offs.push_back(b.getIndexAttr(0));
        sizes.push_back(b.getIndexAttr(t.getDimSize(i)));
      }
      auto type = RankedTensorType::get(
          {t.getDimSize(r - 2), t.getDimSize(r - 1)}, t.getElementType());
      return tensor::ExtractSliceOp::create(b, loc, type, v, offs, sizes,
                                            strides);
    };
    SmallVector<int64_t> idx(batchRank, 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t rest = i;
      for (int64_t d = batchRank - 1; d >= 0; --d) {
        idx[d] = rest % batch[d];
        rest /= batch[d];
      }
      Value prod = matmul2D(slice2D(a, idx), slice2D(bm, idx));
      SmallVector<OpFoldResult> offs, sizes,
          strides(batchRank + 2, b.getIndexAttr(1));
      for (int64_t d = 0; d < batchRank; ++d) {
        offs.push_back(b.getIndexAttr(idx[d]));
        sizes.push_back(b.getIndexAttr(1));
      }
      offs.append({b.getIndexAttr(0), b.getIndexAttr(0)});
      sizes.append({b.getIndexAttr(m), b.getIndexAttr(nOut)});
      result = tensor::InsertSliceOp::create(b, loc, prod, result, offs,
                                             sizes, strides);
    }
  }
  if (yUint8 && requantize)
    uint8Values.insert(result);
  define(n, 0, result);
}

void Importer::importNode(const onnx::NodeProto &n) {
  const std::string &op = n.op_type();
  Location loc = nodeLoc(n);
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    failNode(n, "operator domain '" + Twine(n.domain()) + "' is not supported");
  if (op == "Conv" || op == "ConvTranspose")
    return importConv(n, op == "ConvTranspose");
  if (op == "BatchNormalization") {
    checkAttrs(n, {"epsilon", "momentum", "training_mode", "spatial"});
    if (getInt(n, "training_mode", 0))
      failNode(n, "training_mode = 1 is not supported (export the model in "
                  "eval mode; QAT lives in qfuse.qat_conv_bn)");
    if (n.output_size() > 1)
      failNode(n, "the training outputs (running mean/var) are not supported");
    if (!getInt(n, "spatial", 1))
      failNode(n, "spatial = 0 is not supported");
    Value x = require(n, 0, "X");
    auto bn = BatchNormOp::create(
        b, loc, typeOf(x), x, require(n, 3, "mean"), require(n, 4, "var"),
        require(n, 1, "scale"), require(n, 2, "B"),
        b.getF64FloatAttr(getFloat(n, "epsilon", 1e-5f)));
    return define(n, 0, bn);
  }
  if (op == "Relu") {
    checkAttrs(n, {});
    Value x = require(n, 0, "X");
    if (!isa<FloatType>(typeOf(x).getElementType()))
      failNode(n, "only float Relu is supported");
    return define(n, 0, ReluOp::create(b, loc, x));
  }
  if (op == "Clip") {
    Value x = require(n, 0, "input");
    if (!isa<FloatType>(typeOf(x).getElementType()))
      failNode(n, "only float Clip is supported");
    double lo = -INFINITY, hi = INFINITY;
    if (opset < 11) {
      checkAttrs(n, {"min", "max"});
      lo = getFloat(n, "min", -INFINITY);
      hi = getFloat(n, "max", INFINITY);
    } else {
      checkAttrs(n, {});
      Value runtimeLo, runtimeHi;
      for (int i : {1, 2}) {
        if (i >= n.input_size() || n.input(i).empty())
          continue;
        auto c = constantOf(n, i);
        if (!c) {
          Value v = get(n, i);
          if (typeOf(v).getNumElements() != 1 ||
              typeOf(v).getElementType() != typeOf(x).getElementType())
            failNode(n, "min/max must be scalars of the input's type");
          (i == 1 ? runtimeLo : runtimeHi) = v;
          continue;
        }
        if (c->getNumElements() != 1)
          failNode(n, "min/max must be scalars");
        double v = (*c).getSplatValue<APFloat>().convertToDouble();
        (i == 1 ? lo : hi) = v;
      }
      if (runtimeLo || runtimeHi) {
        // Run-time bounds: max(x, min) then min(., max), as the ONNX
        // reference applies them (min > max gives max).
        auto t = typeOf(x);
        int64_t rank = t.getRank();
        SmallVector<Value> ins = {x};
        SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
        for (Value v : {runtimeLo, runtimeHi})
          if (v) {
            ins.push_back(v);
            SmallVector<AffineExpr> zeros(typeOf(v).getRank(),
                                          getAffineConstantExpr(0, ctx));
            maps.push_back(AffineMap::get(rank, 0, zeros, ctx));
          }
        bool hasLo = bool(runtimeLo), hasHi = bool(runtimeHi);
        return define(
            n, 0,
            elementwise(loc, t, ins, maps,
                        [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                          Value v = a[0];
                          unsigned i = 1;
                          Value loV = hasLo ? a[i++] : floatConst(l, t.getElementType(), lo);
                          Value hiV = hasHi ? a[i++] : floatConst(l, t.getElementType(), hi);
                          v = arith::MaximumFOp::create(nb, l, v, loV);
                          return arith::MinimumFOp::create(nb, l, v, hiV);
                        }));
      }
    }
    if (lo > hi) // ONNX: min > max clips everything to max
      lo = hi;
    return define(n, 0,
                  ClampOp::create(b, loc, x, b.getF64FloatAttr(lo),
                                  b.getF64FloatAttr(hi)));
  }
  if (op == "Gemm")
    return importGemm(n);
  if (op == "MatMul")
    return importMatMul(n);
  if (op == "QuantizeLinear")
    return importQuantize(n);
  if (op == "DequantizeLinear")
    return importDequantize(n);
  if (op == "QLinearConv" || op == "ConvInteger")
    return importIntegerConv(n, op == "QLinearConv");
  if (op == "QLinearMatMul" || op == "MatMulInteger")
    return importIntegerMatMul(n, op == "QLinearMatMul");
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    checkAttrs(n, {});
    Value r = broadcastBinary(
        n, require(n, 0, "A"), require(n, 1, "B"),
        [&](OpBuilder &nb, Location l, Value p, Value q) -> Value {
          if (op == "Add")
            return arith::AddFOp::create(nb, l, p, q);
          if (op == "Sub")
            return arith::SubFOp::create(nb, l, p, q);
          if (op == "Mul")
            return arith::MulFOp::create(nb, l, p, q);
          return arith::DivFOp::create(nb, l, p, q);
        });
    return define(n, 0, r);
  }
  if (op == "Sigmoid") {
    checkAttrs(n, {});
    Value x = require(n, 0, "X");
    auto t = typeOf(x);
    return define(
        n, 0,
        elementwise(loc, t, {x}, {b.getMultiDimIdentityMap(t.getRank())},
                    [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                      Type e = t.getElementType();
                      Value one = floatConst(l, e, 1.0);
                      Value ex = math::ExpOp::create(
                          nb, l, arith::NegFOp::create(nb, l, a[0]));
                      return arith::DivFOp::create(
                          nb, l, one, arith::AddFOp::create(nb, l, one, ex));
                    }));
  }
  if (op == "MaxPool" || op == "AveragePool")
    return importPool(n, op == "MaxPool");
  if (op == "GlobalAveragePool") {
    checkAttrs(n, {});
    Value x = require(n, 0, "X");
    auto t = typeOf(x);
    int64_t rank = t.getRank();
    SmallVector<int64_t> shape(t.getShape());
    int64_t count = 1;
    for (int64_t d = 2; d < rank; ++d) {
      count *= shape[d];
      shape[d] = 1;
    }
    Type elt = t.getElementType();
    auto outType = RankedTensorType::get(shape, elt);
    Value init = linalg::FillOp::create(
                     b, loc, ValueRange{floatConst(loc, elt, 0.0)},
                     ValueRange{tensor::EmptyOp::create(b, loc, shape, elt)})
                     .getResult(0);
    SmallVector<AffineExpr> outExprs = {getAffineDimExpr(0, ctx),
                                        getAffineDimExpr(1, ctx)};
    for (int64_t d = 2; d < rank; ++d)
      outExprs.push_back(getAffineConstantExpr(0, ctx));
    SmallVector<IteratorType> iters(rank, IteratorType::reduction);
    iters[0] = iters[1] = IteratorType::parallel;
    Value sum =
        linalg::GenericOp::create(
            b, loc, TypeRange{outType}, ValueRange{x}, ValueRange{init},
            SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank),
                                   AffineMap::get(rank, 0, outExprs, ctx)},
            iters,
            [](OpBuilder &nb, Location l, ValueRange a) {
              linalg::YieldOp::create(
                  nb, l, arith::AddFOp::create(nb, l, a[0], a[1]).getResult());
            })
            .getResult(0);
    return define(
        n, 0,
        elementwise(loc, outType, {sum}, {b.getMultiDimIdentityMap(rank)},
                    [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                      return arith::DivFOp::create(
                          nb, l, a[0], floatConst(l, elt, count));
                    }));
  }
  if (op == "Flatten" || op == "Reshape") {
    Value x = require(n, 0, "data");
    auto t = typeOf(x);
    SmallVector<int64_t> shape;
    if (op == "Flatten") {
      checkAttrs(n, {"axis"});
      int64_t axis = getInt(n, "axis", 1);
      if (axis < 0)
        axis += t.getRank();
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < t.getRank(); ++d)
        (d < axis ? outer : inner) *= t.getDimSize(d);
      shape = {outer, inner};
    } else {
      checkAttrs(n, {"allowzero"});
      auto c = constantOf(n, 1);
      if (!c)
        failNode(n, "the target shape must be a constant");
      int64_t known = 1, minusOne = -1;
      for (auto [i, v] : llvm::enumerate(c->getValues<int64_t>())) {
        int64_t d = v == 0 && !getInt(n, "allowzero", 0) ? t.getDimSize(i) : v;
        if (d == -1)
          minusOne = i;
        else
          known *= d;
        shape.push_back(d);
      }
      if (minusOne >= 0)
        shape[minusOne] = t.getNumElements() / known;
    }
    auto outType = RankedTensorType::get(shape, t.getElementType());
    if (outType.getNumElements() != t.getNumElements())
      failNode(n, "the new shape has a different number of elements");
    auto shapeAttr = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type()),
        ArrayRef<int64_t>(shape));
    return define(n, 0,
                  tensor::ReshapeOp::create(b, loc, outType, x,
                                            constant(shapeAttr)));
  }
  if (op == "Concat") {
    checkAttrs(n, {"axis"});
    SmallVector<Value> parts;
    for (int i = 0; i < n.input_size(); ++i)
      parts.push_back(require(n, i, "inputs"));
    auto t0 = typeOf(parts[0]);
    int64_t rank = t0.getRank(), axis = getInt(n, "axis", 0);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      failNode(n, "axis out of range");
    SmallVector<int64_t> shape(t0.getShape());
    shape[axis] = 0;
    for (Value p : parts) {
      auto t = typeOf(p);
      if (t.getRank() != rank || t.getElementType() != t0.getElementType())
        failNode(n, "inputs differ in rank or element type");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t.getDimSize(d) != t0.getDimSize(d))
          failNode(n, "inputs differ outside the concatenation axis");
      shape[axis] += t.getDimSize(axis);
    }
    // Each input inserted at its offset along the axis.
    Value result =
        tensor::EmptyOp::create(b, loc, shape, t0.getElementType());
    int64_t offset = 0;
    for (Value p : parts) {
      auto t = typeOf(p);
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
          strides(rank, b.getIndexAttr(1));
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(b.getIndexAttr(t.getDimSize(d)));
      offsets[axis] = b.getIndexAttr(offset);
      result = tensor::InsertSliceOp::create(b, loc, p, result, offsets, sizes,
                                             strides);
      offset += t.getDimSize(axis);
    }
    return define(n, 0, result);
  }
  if (op == "ReduceMean" || op == "Softmax") {
    Value x = require(n, 0, "data");
    auto t = typeOf(x);
    int64_t rank = t.getRank();
    Type elt = t.getElementType();
    if (!isa<FloatType>(elt))
      failNode(n, "only float inputs are supported");
    SmallVector<int64_t> axes;
    bool keepDims = true;
    if (op == "ReduceMean") {
      checkAttrs(n, {"axes", "keepdims"});
      if (n.input_size() > 1)
        failNode(n, "axes as an input (opset 18) is not supported");
      SmallVector<int64_t> all;
      for (int64_t d = 0; d < rank; ++d)
        all.push_back(d);
      axes = getInts(n, "axes", all);
      keepDims = getInt(n, "keepdims", 1);
    } else {
      checkAttrs(n, {"axis"});
      if (opset < 13)
        failNode(n, "Softmax before opset 13 (2-D coercion) is not supported");
      axes = {getInt(n, "axis", -1)};
    }
    for (int64_t &a : axes) {
      if (a < 0)
        a += rank;
      if (a < 0 || a >= rank)
        failNode(n, "axis out of range");
    }
    // Reduced shape with the axes kept as size 1.
    SmallVector<int64_t> reduced(t.getShape());
    SmallVector<AffineExpr> redExprs;
    SmallVector<IteratorType> iters;
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d) {
      bool r = llvm::is_contained(axes, d);
      if (r) {
        count *= reduced[d];
        reduced[d] = 1;
      }
      redExprs.push_back(r ? getAffineConstantExpr(0, ctx)
                           : getAffineDimExpr(d, ctx));
      iters.push_back(r ? IteratorType::reduction : IteratorType::parallel);
    }
    auto redType = RankedTensorType::get(reduced, elt);
    AffineMap id = b.getMultiDimIdentityMap(rank);
    AffineMap redMap = AffineMap::get(rank, 0, redExprs, ctx);
    auto reduce = [&](Value in, double init,
                      function_ref<Value(OpBuilder &, Location, ValueRange,
                                         Value)>
                          combine,
                      ArrayRef<Value> extra = {}) -> Value {
      Value acc = linalg::FillOp::create(
                      b, loc, ValueRange{floatConst(loc, elt, init)},
                      ValueRange{tensor::EmptyOp::create(b, loc, reduced, elt)})
                      .getResult(0);
      SmallVector<Value> ins = {in};
      SmallVector<AffineMap> maps = {id};
      for (Value e : extra) {
        ins.push_back(e);
        maps.push_back(redMap);
      }
      maps.push_back(redMap);
      return linalg::GenericOp::create(
                 b, loc, TypeRange{redType}, ins, ValueRange{acc}, maps, iters,
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   linalg::YieldOp::create(
                       nb, l,
                       combine(nb, l, a.drop_back(), a.back()));
                 })
          .getResult(0);
    };
    if (op == "ReduceMean") {
      Value sum = reduce(x, 0.0, [](OpBuilder &nb, Location l, ValueRange v,
                                    Value acc) -> Value {
        return arith::AddFOp::create(nb, l, acc, v[0]);
      });
      Value mean = elementwise(
          loc, redType, {sum}, {b.getMultiDimIdentityMap(rank)},
          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
            return arith::DivFOp::create(nb, l, a[0],
                                         floatConst(l, elt, count));
          });
      if (keepDims)
        return define(n, 0, mean);
      SmallVector<int64_t> squeezed;
      for (int64_t d = 0; d < rank; ++d)
        if (!llvm::is_contained(axes, d))
          squeezed.push_back(t.getDimSize(d));
      auto outType = RankedTensorType::get(squeezed, elt);
      auto shapeAttr = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)squeezed.size()}, b.getI64Type()),
          ArrayRef<int64_t>(squeezed));
      return define(n, 0,
                    tensor::ReshapeOp::create(b, loc, outType, mean,
                                              constant(shapeAttr)));
    }
    // Softmax: exp(x - max) / sum(exp(x - max)) along the axis.
    Value mx = reduce(x, -INFINITY, [](OpBuilder &nb, Location l, ValueRange v,
                                       Value acc) -> Value {
      return arith::MaximumFOp::create(nb, l, acc, v[0]);
    });
    Value sum = reduce(x, 0.0,
                       [](OpBuilder &nb, Location l, ValueRange v,
                          Value acc) -> Value {
                         Value e = math::ExpOp::create(
                             nb, l, arith::SubFOp::create(nb, l, v[0], v[1]));
                         return arith::AddFOp::create(nb, l, acc, e);
                       },
                       {mx});
    return define(
        n, 0,
        elementwise(loc, t, {x, mx, sum}, {id, redMap, redMap},
                    [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                      Value e = math::ExpOp::create(
                          nb, l, arith::SubFOp::create(nb, l, a[0], a[1]));
                      return arith::DivFOp::create(nb, l, e, a[2]);
                    }));
  }
  if (op == "Cast") {
    checkAttrs(n, {"to", "saturate"});
    Value x = require(n, 0, "input");
    auto t = typeOf(x);
    Type to = elementType(getInt(n, "to", 0), &n, loc);
    if (!isa<FloatType>(to) || !isa<FloatType>(t.getElementType()))
      failNode(n, "only float-to-float Cast of run-time values is supported");
    auto outType = RankedTensorType::get(t.getShape(), to);
    return define(
        n, 0,
        elementwise(loc, outType, {x}, {b.getMultiDimIdentityMap(t.getRank())},
                    [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                      unsigned from = a[0].getType().getIntOrFloatBitWidth();
                      if (from == to.getIntOrFloatBitWidth())
                        return a[0];
                      if (from < to.getIntOrFloatBitWidth())
                        return arith::ExtFOp::create(nb, l, to, a[0]);
                      return arith::TruncFOp::create(nb, l, to, a[0]);
                    }));
  }
  if (op == "Transpose") {
    checkAttrs(n, {"perm"});
    Value x = require(n, 0, "data");
    auto t = typeOf(x);
    SmallVector<int64_t> reversed;
    for (int64_t d = t.getRank() - 1; d >= 0; --d)
      reversed.push_back(d);
    auto perm = getInts(n, "perm", reversed);
    if ((int64_t)perm.size() != t.getRank())
      failNode(n, "perm does not match the input rank");
    SmallVector<int64_t> shape;
    for (int64_t p : perm) {
      if (p < 0 || p >= t.getRank())
        failNode(n, "perm entry out of range");
      shape.push_back(t.getDimSize(p));
    }
    if (auto folded = transposeConstant(loc, x, perm))
      return define(n, 0, *folded);
    Value init = tensor::EmptyOp::create(b, loc, shape, t.getElementType());
    return define(n, 0,
                  linalg::TransposeOp::create(b, loc, x, init, perm)
                      .getResult()[0]);
  }
  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout" && n.output_size() > 1 && !n.output(1).empty())
      failNode(n, "the mask output is not supported");
    return define(n, 0, require(n, 0, "input"));
  }
  failNode(n, "unsupported operator");
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  Location fileLoc = FileLineColLoc::get(ctx, source, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  // Opsets 11 to 17 are the target. Older models (down to 6) import too:
  // every attribute a node carries must be known to the handler, so an op
  // whose older version differs is rejected, never misread.
  if (opset < 6 || opset > 17) {
    emitError(fileLoc) << "ONNX opset " << opset
                       << " is not supported (opsets 6 to 17 are)";
    return nullptr;
  }
  const onnx::GraphProto &graph = model.graph();
  try {
    b.setInsertionPointToEnd(module->getBody());
    for (const auto &init : graph.initializer()) {
      constantTypes[init.name()] = init.data_type();
      ElementsAttr attr = tensorAttr(init, fileLoc, kResourceThreshold);
      if (auto dense = dyn_cast<DenseElementsAttr>(attr))
        constants[init.name()] = dense;
      else
        largeConstants[init.name()] = attr;
    }
    SmallVector<Type> argTypes;
    SmallVector<std::string> argNames;
    SmallVector<bool> argUint8;
    for (const auto &in : graph.input()) {
      if (constants.count(in.name()))
        continue; // an initializer listed as an input (IR version < 4)
      const auto &tt = in.type().tensor_type();
      SmallVector<int64_t> shape;
      for (const auto &d : tt.shape().dim()) {
        if (d.has_dim_value()) {
          shape.push_back(d.dim_value());
          continue;
        }
        auto bound = dimValues.find(d.dim_param());
        if (d.dim_param().empty() || bound == dimValues.end())
          fail(fileLoc, "graph input '" + Twine(in.name()) +
                            "' has a symbolic dimension '" +
                            Twine(d.dim_param()) +
                            "'; give it a size (qfuse-translate --onnx-dim=" +
                            Twine(d.dim_param().empty() ? "NAME" : d.dim_param()) +
                            "=SIZE; qfuse-run takes it from --input)");
        shape.push_back(bound->second);
      }
      argTypes.push_back(
          RankedTensorType::get(shape, elementType(tt.elem_type(), nullptr, fileLoc)));
      argNames.push_back(in.name());
      argUint8.push_back(tt.elem_type() == onnx::TensorProto::UINT8);
    }
    std::string name = graph.name().empty() ? "main_graph" : graph.name();
    for (char &c : name)
      if (!isalnum(static_cast<unsigned char>(c)) && c != '_')
        c = '_';
    auto fn = func::FuncOp::create(b, fileLoc, name,
                                   b.getFunctionType(argTypes, {}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    for (auto [i, n] : llvm::enumerate(argNames)) {
      values[n] = entry->getArgument(i);
      if (argUint8[i]) {
        uint8Values.insert(entry->getArgument(i));
        fn.setArgAttr(i, "qfuse.uint8", b.getUnitAttr());
      }
    }
    for (const auto &node : graph.node()) {
      if (node.op_type() == "Constant") {
        const auto *a = attr(node, "value");
        if (!a || !a->has_t())
          failNode(node, "only the 'value' form of Constant is supported");
        constantTypes[node.output(0)] = a->t().data_type();
        constants[node.output(0)] = denseAttr(a->t(), nodeLoc(node));
        continue;
      }
      if (node.op_type() == "Cast" && constantOf(node, 0)) {
        foldCast(node);
        continue;
      }
      // The PyTorch exporter shares equal initializers through Identity;
      // the alias stays a constant (a Cast or a fold may need it).
      if (node.op_type() == "Identity" && node.input_size() == 1 &&
          node.output_size() == 1) {
        const std::string &in = node.input(0), &out = node.output(0);
        if (auto it = constants.find(in); it != constants.end()) {
          constants[out] = it->second;
          constantTypes[out] = constantTypes.lookup(in);
          continue;
        }
        if (auto it = largeConstants.find(in); it != largeConstants.end()) {
          largeConstants[out] = it->second;
          constantTypes[out] = constantTypes.lookup(in);
          continue;
        }
      }
      importNode(node);
    }
    SmallVector<Value> results;
    for (const auto &out : graph.output()) {
      if (!values.count(out.name()) && pending.count(out.name()))
        materializeQuantize(out.name());
      auto it = values.find(out.name());
      if (it == values.end() && largeConstants.count(out.name())) {
        results.push_back(arith::ConstantOp::create(
            b, fileLoc, cast<TypedAttr>(largeConstants[out.name()])));
      } else if (it == values.end()) {
        if (constants.count(out.name()))
          results.push_back(constant(constants[out.name()]));
        else
          fail(fileLoc, "graph output '" + Twine(out.name()) +
                            "' is not produced by a supported node");
      } else {
        results.push_back(it->second);
      }
      const auto &tt = out.type().tensor_type();
      auto got = typeOf(results.back());
      if (tt.has_shape()) {
        for (auto [d, dim] : llvm::enumerate(tt.shape().dim()))
          if (dim.has_dim_value() && (d >= (size_t)got.getRank() ||
                                      got.getDimSize(d) != dim.dim_value()))
            fail(fileLoc, "graph output '" + Twine(out.name()) +
                              "' is declared with another shape than the one "
                              "computed");
      }
    }
    func::ReturnOp::create(b, fileLoc, results);
    fn.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
    for (auto [i, r] : llvm::enumerate(results))
      if (uint8Values.contains(r) ||
          constantTypes.lookup(graph.output(i).name()) ==
              onnx::TensorProto::UINT8)
        fn.setResultAttr(i, "qfuse.uint8", b.getUnitAttr());
  } catch (ImportError &) {
    return nullptr;
  }
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp>
mlir::qfuse::importONNX(StringRef bytes, StringRef sourceName,
                        MLIRContext *context,
                        const std::map<std::string, int64_t> &dims) {
  context->loadDialect<QFuseDialect, arith::ArithDialect, func::FuncDialect,
                       linalg::LinalgDialect, math::MathDialect,
                       tensor::TensorDialect>();
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), bytes.size())) {
    emitError(FileLineColLoc::get(context, sourceName, 0, 0))
        << "not a valid ONNX model (protobuf parse failed)";
    return nullptr;
  }
  Importer importer(context, sourceName, dims);
  return importer.run(model);
}

std::optional<SmallVector<ONNXInputInfo>>
mlir::qfuse::readONNXInputs(StringRef bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), bytes.size()))
    return std::nullopt;
  llvm::StringSet<> initializers;
  for (const auto &init : model.graph().initializer())
    initializers.insert(init.name());
  SmallVector<ONNXInputInfo> inputs;
  for (const auto &in : model.graph().input()) {
    if (initializers.contains(in.name()))
      continue;
    ONNXInputInfo info;
    info.name = in.name();
    for (const auto &d : in.type().tensor_type().shape().dim()) {
      if (d.has_dim_value())
        info.dims.push_back(d.dim_value());
      else
        info.dims.push_back(d.dim_param());
    }
    inputs.push_back(std::move(info));
  }
  return inputs;
}

void mlir::qfuse::registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<QFuseDialect, arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect>();
}

static llvm::cl::list<std::string> onnxDims(
    "onnx-dim",
    llvm::cl::desc("With --import-onnx: the size of a symbolic input "
                   "dimension, NAME=SIZE (e.g. --onnx-dim=batch=1)"),
    llvm::cl::value_desc("name=size"));

void mlir::qfuse::registerImportONNXTranslation() {
  TranslateToMLIRRegistration reg(
      "import-onnx", "Import an ONNX model (.onnx) as qfuse + upstream ops",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *context) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buf =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        std::map<std::string, int64_t> dims;
        for (const std::string &binding : onnxDims) {
          auto [name, value] = llvm::StringRef(binding).rsplit('=');
          int64_t size;
          if (name.empty() || value.getAsInteger(10, size) || size < 1) {
            emitError(UnknownLoc::get(context))
                << "--onnx-dim expects NAME=SIZE with SIZE >= 1, got '"
                << binding << "'";
            return nullptr;
          }
          dims[name.str()] = size;
        }
        OwningOpRef<ModuleOp> module = importONNX(
            buf->getBuffer(), buf->getBufferIdentifier(), context, dims);
        if (!module)
          return nullptr;
        return OwningOpRef<Operation *>(module.release().getOperation());
      },
      registerONNXImportDialects);
}
