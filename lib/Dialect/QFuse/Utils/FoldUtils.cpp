//===- FoldUtils.cpp - f64 folding helpers shared by qfuse passes ---------===//

#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace mlir;
using namespace mlir::qfuse;

/// The values of a constant float tensor, widened exactly to f64.
std::optional<SmallVector<int64_t>> fold::getConstantInts(Value value,
                                                         bool isUnsigned) {
  ElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  auto elt = dyn_cast<IntegerType>(attr.getElementType());
  if (!elt || elt.getWidth() > 64)
    return std::nullopt;
  unsigned width = elt.getWidth();
  auto extend = [&](const APInt &v) {
    return isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue();
  };
  SmallVector<int64_t> out;
  out.reserve(attr.getNumElements());
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    for (APInt v : dense.getValues<APInt>())
      out.push_back(extend(v));
    return out;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || width % 8 != 0)
    return std::nullopt;
  ArrayRef<char> raw = blob->getData();
  unsigned bytes = width / 8;
  int64_t count = attr.getNumElements();
  if ((int64_t)raw.size() != count * (int64_t)bytes)
    return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, raw.data() + i * bytes, bytes); // little-endian host
    out.push_back(extend(APInt(width, bits)));
  }
  return out;
}

std::optional<SmallVector<double>> fold::getConstantValues(Value value) {
  ElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  Type elt = attr.getElementType();
  if (!isa<FloatType>(elt))
    return std::nullopt;
  SmallVector<double> out;
  out.reserve(attr.getNumElements());
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    if (elt.isF32()) {
      for (float v : dense.getValues<float>())
        out.push_back(v);
    } else if (elt.isF64()) {
      for (double v : dense.getValues<double>())
        out.push_back(v);
    } else {
      for (APFloat v : dense.getValues<APFloat>()) {
        bool losesInfo;
        v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                  &losesInfo);
        out.push_back(v.convertToDouble());
      }
    }
    return out;
  }
  // Dense resources (large weights from the ONNX importer): the raw blob.
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> raw = blob->getData();
  unsigned width = cast<FloatType>(elt).getWidth() / 8;
  int64_t count = attr.getNumElements();
  if ((int64_t)raw.size() != count * (int64_t)width)
    return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    const char *p = raw.data() + i * width;
    if (elt.isF32()) {
      float v;
      std::memcpy(&v, p, 4);
      out.push_back(v);
    } else if (elt.isF64()) {
      double v;
      std::memcpy(&v, p, 8);
      out.push_back(v);
    } else {
      uint16_t bits;
      std::memcpy(&bits, p, 2);
      APFloat v(cast<FloatType>(elt).getFloatSemantics(), APInt(16, bits));
      bool losesInfo;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
      out.push_back(v.convertToDouble());
    }
  }
  return out;
}

FailureOr<DenseElementsAttr> fold::roundToType(ShapedType type,
                                              ArrayRef<double> values) {
  Type elt = type.getElementType();
  if (elt.isF64()) {
    for (double v : values)
      if (!std::isfinite(v))
        return failure();
    return DenseElementsAttr::get(type, values);
  }
  if (elt.isF32()) {
    SmallVector<float> rounded;
    rounded.reserve(values.size());
    for (double v : values) {
      float r = static_cast<float>(v);
      if (!std::isfinite(r))
        return failure();
      rounded.push_back(r);
    }
    return DenseElementsAttr::get(type, ArrayRef<float>(rounded));
  }
  const llvm::fltSemantics &sem = cast<FloatType>(elt).getFloatSemantics();
  SmallVector<APFloat> rounded;
  rounded.reserve(values.size());
  for (double v : values) {
    APFloat r(v);
    bool losesInfo;
    r.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
    if (!r.isFinite())
      return failure();
    rounded.push_back(r);
  }
  return DenseElementsAttr::get(type, rounded);
}

/// The value `v` takes once rounded to `elt`, back in f64.
double fold::roundedAs(Type elt, double v) {
  if (elt.isF64())
    return v;
  if (elt.isF32())
    return static_cast<float>(v);
  APFloat r(v);
  bool losesInfo;
  r.convert(cast<FloatType>(elt).getFloatSemantics(),
            APFloat::rmNearestTiesToEven, &losesInfo);
  r.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return r.convertToDouble();
}

/// Shortest readable form of a double for remarks ("-0.99999", "1e-05").
std::string fold::formatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}


fold::OutputChannelMap::OutputChannelMap(ShapedType weight, bool isTransposed,
                                         int64_t groups)
    : transposed(isTransposed) {
  for (int64_t d = 2; d < weight.getRank(); ++d)
    innerSize *= weight.getDimSize(d);
  dim1 = weight.getDimSize(1);
  if (transposed) {
    rowsPerGroup = weight.getDimSize(0) / groups;
    coutPerGroup = dim1;
  }
}

int64_t fold::OutputChannelMap::operator()(int64_t flat) const {
  int64_t row = flat / (dim1 * innerSize);
  if (!transposed)
    return row;
  int64_t col = (flat / innerSize) % dim1;
  return (row / rowsPerGroup) * coutPerGroup + col;
}

Value fold::scaleAlongOutputChannels(OpBuilder &b, Location loc, Value weight,
                                     Value k, bool transposed, int64_t groups) {
  MLIRContext *ctx = b.getContext();
  auto weightType = cast<RankedTensorType>(weight.getType());
  Type elt = weightType.getElementType();
  Type f64 = b.getF64Type();
  int64_t rank = weightType.getRank();
  AffineExpr channel = getAffineDimExpr(0, ctx);
  if (transposed) {
    int64_t rowsPerGroup = weightType.getDimSize(0) / groups;
    int64_t coutPerGroup = weightType.getDimSize(1);
    channel = getAffineDimExpr(0, ctx).floorDiv(rowsPerGroup) * coutPerGroup +
              getAffineDimExpr(1, ctx);
  }
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap kMap = AffineMap::get(rank, 0, channel, ctx);
  SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
  Value init = tensor::EmptyOp::create(b, loc, weightType.getShape(), elt);
  auto scaled = linalg::GenericOp::create(
      b, loc, TypeRange{weightType}, ValueRange{weight, k}, ValueRange{init},
      SmallVector<AffineMap>{id, kMap, id}, par,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value w = args[0].getType() == f64
                      ? args[0]
                      : arith::ExtFOp::create(nb, nloc, f64, args[0]);
        Value prod = arith::MulFOp::create(nb, nloc, w, args[1]);
        Value out =
            elt == f64 ? prod : arith::TruncFOp::create(nb, nloc, elt, prod);
        linalg::YieldOp::create(nb, nloc, out);
      });
  return scaled.getResult(0);
}

std::pair<Value, Value>
fold::emitBNCoefficients(OpBuilder &b, Location loc, Value mean, Value var,
                         Value gamma, Value beta, Value bias, double eps,
                         Type biasElt, int64_t channels) {
  Type f64 = b.getF64Type();
  SmallVector<Value> ins = {mean, var};
  for (Value v : {gamma, beta, bias})
    if (v)
      ins.push_back(v);
  Value kInit = tensor::EmptyOp::create(b, loc, {channels}, f64);
  Value bInit = tensor::EmptyOp::create(b, loc, {channels}, biasElt);
  SmallVector<AffineMap> maps(ins.size() + 2, b.getMultiDimIdentityMap(1));
  auto coeffs = linalg::GenericOp::create(
      b, loc, TypeRange{kInit.getType(), bInit.getType()}, ins,
      ValueRange{kInit, bInit}, maps, {utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        auto ext = [&](Value v) -> Value {
          return v.getType() == f64 ? v
                                    : arith::ExtFOp::create(nb, nloc, f64, v);
        };
        unsigned i = 0;
        Value m = ext(args[i++]), v = ext(args[i++]);
        Value g = gamma ? ext(args[i++]) : Value();
        Value be = beta ? ext(args[i++]) : Value();
        Value bb = bias ? ext(args[i++]) : Value();
        Value epsV =
            arith::ConstantOp::create(nb, nloc, nb.getF64FloatAttr(eps));
        Value k = math::RsqrtOp::create(
            nb, nloc, arith::AddFOp::create(nb, nloc, v, epsV));
        if (g)
          k = arith::MulFOp::create(nb, nloc, g, k);
        Value zero =
            arith::ConstantOp::create(nb, nloc, nb.getF64FloatAttr(0.0));
        Value folded = arith::MulFOp::create(
            nb, nloc, arith::SubFOp::create(nb, nloc, bb ? bb : zero, m), k);
        if (be)
          folded = arith::AddFOp::create(nb, nloc, folded, be);
        Value out = biasElt == f64
                        ? folded
                        : arith::TruncFOp::create(nb, nloc, biasElt, folded);
        linalg::YieldOp::create(nb, nloc, ValueRange{k, out});
      });
  return {coeffs.getResult(0), coeffs.getResult(1)};
}
