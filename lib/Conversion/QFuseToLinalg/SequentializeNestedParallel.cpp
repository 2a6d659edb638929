//===- SequentializeNestedParallel.cpp - outermost scf.parallel only ------===//

#include "qfuse/Conversion/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_SEQUENTIALIZENESTEDPARALLEL
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;

namespace {
struct SequentializeNestedParallelPass
    : public qfuse::impl::SequentializeNestedParallelBase<
          SequentializeNestedParallelPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> nested;
    getOperation()->walk([&](scf::ParallelOp op) {
      if (op.getNumReductions() == 0 &&
          op->getParentOfType<LoopLikeOpInterface>())
        nested.push_back(op);
    });
    // Innermost first (post-order walk), so bodies moved are final.
    for (scf::ParallelOp op : nested) {
      OpBuilder b(op);
      IRMapping map;
      scf::buildLoopNest(
          b, op.getLoc(), op.getLowerBound(), op.getUpperBound(),
          op.getStep(), [&](OpBuilder &nb, Location, ValueRange ivs) {
            for (auto [from, to] : llvm::zip(op.getInductionVars(), ivs))
              map.map(from, to);
            for (Operation &inner : op.getBody()->without_terminator())
              nb.clone(inner, map);
          });
      op.erase();
    }
  }
};
} // namespace
