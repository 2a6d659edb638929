//===- ParallelDimsOutermost.cpp - parallel loops of linalg ops first ----===//
//
// Interchanges the loops of linalg ops whose parallel dimensions are not
// outermost, so that convert-linalg-to-parallel-loops gives one scf.parallel
// over all of them, which qfuse-map-to-gpu spreads over the GPU's threads.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_PARALLELDIMSOUTERMOST
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;

namespace {

/// The loop order with parallel dimensions first (each group in its original
/// order), as interchangeGenericOp's vector: entry i is the old dimension
/// that becomes loop i. Empty when the order is already so.
static SmallVector<unsigned> parallelFirst(linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> order;
  for (auto [i, it] : llvm::enumerate(iterators))
    if (it == utils::IteratorType::parallel)
      order.push_back(i);
  for (auto [i, it] : llvm::enumerate(iterators))
    if (it != utils::IteratorType::parallel)
      order.push_back(i);
  for (auto [pos, dim] : llvm::enumerate(order))
    if (pos != dim)
      return order;
  return {};
}

struct ParallelDimsOutermost
    : qfuse::impl::ParallelDimsOutermostBase<ParallelDimsOutermost> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      // The tiled schedules place their own loops.
      if (!op->getParentOfType<scf::ForallOp>() && !parallelFirst(op).empty())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      SmallVector<unsigned> order = parallelFirst(op);
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> g =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(g)) {
          op->emitRemark("qfuse-parallel-dims-outermost: cannot generalize "
                         "this op; its parallel dimensions after a reduction "
                         "stay sequential in each GPU thread");
          continue;
        }
        generic = *g;
      }
      if (failed(linalg::interchangeGenericOp(rewriter, generic, order)))
        generic->emitRemark("qfuse-parallel-dims-outermost: the loop "
                            "interchange failed; its parallel dimensions "
                            "after a reduction stay sequential in each GPU "
                            "thread");
    }
  }
};

} // namespace
