//===- QuantUtils.cpp - integer-path helpers shared by the lowerings ------===//

#include "qfuse/Dialect/QFuse/Utils/QuantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qfuse;

Value quant::castInt(OpBuilder &b, Location loc, Value v, Type to,
                     bool isUnsigned) {
  Type from = v.getType();
  unsigned fromWidth = getElementTypeOrSelf(from).getIntOrFloatBitWidth();
  unsigned width = to.getIntOrFloatBitWidth();
  if (auto vec = dyn_cast<VectorType>(from))
    to = vec.clone(to);
  if (fromWidth == width)
    return v;
  if (fromWidth > width)
    return arith::TruncIOp::create(b, loc, to, v);
  if (isUnsigned)
    return arith::ExtUIOp::create(b, loc, to, v);
  return arith::ExtSIOp::create(b, loc, to, v);
}

Value quant::extractScalar(OpBuilder &b, Location loc, Value tensor) {
  int64_t rank = cast<ShapedType>(tensor.getType()).getRank();
  SmallVector<Value> zeros(rank, arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, zeros);
}

static Value toF64(OpBuilder &b, Location loc, Value v) {
  Type f64 = b.getF64Type();
  if (v.getType() == f64)
    return v;
  return arith::ExtFOp::create(b, loc, f64, v);
}

static Value f64Const(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
}

quant::RequantParams quant::buildRequantParams(OpBuilder &b, Location loc,
                                               Operation *op, int64_t cout) {
  // Operand order of qconv and qlinear: input, weight, bias?, input zp,
  // weight zp, input scale, weight scale, output scale, output zp (the
  // named accessors, through either op).
  Value sxT, swT, syT, zyT;
  if (auto conv = dyn_cast<QConvOp>(op)) {
    sxT = conv.getInputScale();
    swT = conv.getWeightScale();
    syT = conv.getOutputScale();
    zyT = conv.getOutputZeroPoint();
  } else {
    auto lin = cast<QLinearOp>(op);
    sxT = lin.getInputScale();
    swT = lin.getWeightScale();
    syT = lin.getOutputScale();
    zyT = lin.getOutputZeroPoint();
  }
  MLIRContext *ctx = b.getContext();
  Type f64 = b.getF64Type();
  RequantParams p;

  // M[c] = f64(sx) · f64(sw[c]) / f64(sy): the product is exact in f64, the
  // division rounds once.
  Value syRaw = extractScalar(b, loc, syT);
  Value sx = toF64(b, loc, extractScalar(b, loc, sxT));
  Value sy = toF64(b, loc, syRaw);
  auto swType = cast<ShapedType>(swT.getType());
  AffineMap swMap;
  if (swType.getRank() == 1 && swType.getDimSize(0) != 1)
    swMap = b.getMultiDimIdentityMap(1);
  else if (swType.getRank() == 0)
    swMap = AffineMap::get(1, 0, {}, ctx);
  else
    swMap = AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx)}, ctx);
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{cout}, f64);
  p.multiplier =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, ValueRange{swT}, ValueRange{init},
          SmallVector<AffineMap>{swMap, b.getMultiDimIdentityMap(1)},
          {utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value prod = arith::MulFOp::create(nb, l, sx, toF64(nb, l, a[0]));
            linalg::YieldOp::create(
                nb, l, arith::DivFOp::create(nb, l, prod, sy).getResult());
          })
          .getResult(0);

  // [lo, hi]: the quant range narrowed by the activation, quantized as
  // qfuse.quantize would quantize it (division in the scale's type, round
  // half to even); relu is exactly the zero point.
  p.zeroPoint = arith::SIToFPOp::create(
      b, loc, f64, castInt(b, loc, extractScalar(b, loc, zyT), b.getI32Type()));
  p.lo = f64Const(b, loc, (double)op->getAttrOfType<IntegerAttr>("quant_min").getInt());
  p.hi = f64Const(b, loc, (double)op->getAttrOfType<IntegerAttr>("quant_max").getInt());
  FusedActivation act = getFusedActivation(op);
  auto quantBound = [&](double v) -> Value {
    Type st = syRaw.getType();
    Value q = math::RoundEvenOp::create(
        b, loc,
        arith::DivFOp::create(
            b, loc, arith::ConstantOp::create(b, loc, b.getFloatAttr(st, v)),
            syRaw));
    return arith::AddFOp::create(b, loc, toF64(b, loc, q), p.zeroPoint);
  };
  if (act.kind == ActivationKind::relu)
    p.lo = arith::MaxNumFOp::create(b, loc, p.lo, p.zeroPoint);
  if (act.kind == ActivationKind::clamp) {
    p.lo = arith::MaxNumFOp::create(b, loc, p.lo, quantBound(act.min));
    p.hi = arith::MinNumFOp::create(b, loc, p.hi, quantBound(act.max));
  }
  return p;
}

Value quant::requantizeValue(OpBuilder &b, Location loc, Value acc, Value m,
                             const RequantParams &p) {
  Type f64 = b.getF64Type(), i32 = b.getI32Type(), i8 = b.getI8Type();
  auto like = [&](Type elt) -> Type {
    if (auto vec = dyn_cast<VectorType>(acc.getType()))
      return vec.clone(elt);
    return elt;
  };
  auto bcast = [&](Value scalar) -> Value {
    if (auto vec = dyn_cast<VectorType>(acc.getType()))
      return vector::BroadcastOp::create(b, loc, vec.clone(f64), scalar);
    return scalar;
  };
  Value v = arith::MulFOp::create(
      b, loc, arith::SIToFPOp::create(b, loc, like(f64), acc), m);
  v = arith::AddFOp::create(b, loc, math::RoundEvenOp::create(b, loc, v),
                            bcast(p.zeroPoint));
  // Clamp as maxnum / minnum would, a NaN (a zero or infinite run-time
  // scale) landing on lo rather than on an undefined conversion: v > lo ?
  // v : lo, then v < hi ? v : hi. lo and hi are never NaN, so this is one
  // vmaxpd / vminpd each on x86 where maxnum takes three instructions
  // (the choice between ±0 differs, and converts to the same 0).
  Value lo = bcast(p.lo), hi = bcast(p.hi);
  v = arith::SelectOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, lo), v, lo);
  v = arith::SelectOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, v, hi), v, hi);
  return castInt(b, loc, arith::FPToSIOp::create(b, loc, like(i32), v), i8);
}
