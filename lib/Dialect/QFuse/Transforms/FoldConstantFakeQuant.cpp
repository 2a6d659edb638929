//===- FoldConstantFakeQuant.cpp - fake_quant of constants at compile time -===//
//
// The lowering computes q = clamp(roundeven(x / s) + zp, qmin, qmax) and
// y = (q - zp) · s in the element type (f32 or f64), one IEEE operation at a
// time; the same operations here give the same bits.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"
#include "qfuse/Dialect/QFuse/Utils/FoldUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_FOLDCONSTANTFAKEQUANT
#include "qfuse/Dialect/QFuse/Transforms/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;
using namespace mlir::qfuse;

namespace {

/// fake_quant of one value in type T, as the lowering computes it
/// (maximumf/minimumf propagate NaN).
template <typename T>
static T fakeQuant(T x, T s, T zp, T qmin, T qmax) {
  T q = std::nearbyint(x / s) + zp;
  if (std::isnan(q))
    return q;
  q = std::min(std::max(q, qmin), qmax);
  return (q - zp) * s;
}

template <typename T>
static DenseElementsAttr fold(FakeQuantOp op, ArrayRef<double> x,
                              ArrayRef<double> s, ArrayRef<int64_t> zp) {
  auto type = op.getInput().getType();
  int64_t axis = op.getAxis().value_or(-1);
  int64_t inner = 1, channels = 1;
  if (axis >= 0) {
    channels = type.getDimSize(axis);
    for (int64_t d = axis + 1; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
  }
  T qmin = static_cast<T>(op.getQuantMinAttr().getInt());
  T qmax = static_cast<T>(op.getQuantMaxAttr().getInt());
  SmallVector<T> out;
  out.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    size_t c = axis >= 0 ? (i / inner) % channels : 0;
    out.push_back(fakeQuant<T>(static_cast<T>(x[i]), static_cast<T>(s[c]),
                               static_cast<T>(zp[c]), qmin, qmax));
  }
  return DenseElementsAttr::get(type, ArrayRef<T>(out));
}

struct FoldConstantFakeQuantPass
    : public qfuse::impl::FoldConstantFakeQuantBase<
          FoldConstantFakeQuantPass> {
  void runOnOperation() override {
    SmallVector<FakeQuantOp> work;
    getOperation()->walk([&](FakeQuantOp op) { work.push_back(op); });
    for (FakeQuantOp op : work) {
      Type elt = op.getType().getElementType();
      if (!op.getType().hasStaticShape() || !(elt.isF32() || elt.isF64()) ||
          getElementTypeOrSelf(op.getScale().getType()) != elt)
        continue;
      auto x = fold::getConstantValues(op.getInput());
      auto s = fold::getConstantValues(op.getScale());
      auto zp = fold::getConstantInts(op.getZeroPoint());
      if (!x || !s || !zp)
        continue;
      DenseElementsAttr value = elt.isF32() ? fold<float>(op, *x, *s, *zp)
                                            : fold<double>(op, *x, *s, *zp);
      OpBuilder b(op);
      op.replaceAllUsesWith(
          arith::ConstantOp::create(b, op.getLoc(), value).getResult());
      op.erase();
      ++numFolded;
    }
  }
};

} // namespace
