//===- SequentializeNestedParallel.cpp - outermost scf.parallel only ------===//

#include "qfuse/Conversion/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_SEQUENTIALIZENESTEDPARALLEL
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;

namespace {

/// Outer parallel iterations an outermost loop keeps: enough to share among
/// threads, few enough that each one is a vectorizable inner loop nest
/// rather than a single element.
constexpr int64_t kParallelIterations = 64;

/// Rewrites the body of `op` as a sequential nest over its dimensions from
/// `from` on (the induction variables before `from` are `outer`).
static void buildInnerNest(OpBuilder &b, scf::ParallelOp op, unsigned from,
                           ValueRange outer) {
  IRMapping map;
  ArrayRef<BlockArgument> ivs = op.getBody()->getArguments();
  for (auto [iv, v] : llvm::zip(ivs.take_front(from), outer))
    map.map(iv, v);
  scf::buildLoopNest(
      b, op.getLoc(), op.getLowerBound().drop_front(from),
      op.getUpperBound().drop_front(from), op.getStep().drop_front(from),
      [&](OpBuilder &nb, Location, ValueRange inner) {
        for (auto [iv, v] : llvm::zip(ivs.drop_front(from), inner))
          map.map(iv, v);
        for (Operation &inner : op.getBody()->without_terminator())
          nb.clone(inner, map);
      });
}

/// The number of leading dimensions of an outermost parallel loop to keep
/// parallel: the shortest prefix with kParallelIterations iterations (all
/// of them when the counts are not static or never reach it).
static unsigned parallelPrefix(scf::ParallelOp op) {
  int64_t iterations = 1;
  unsigned n = op.getNumLoops();
  for (unsigned d = 0; d < n; ++d) {
    std::optional<int64_t> lb = getConstantIntValue(op.getLowerBound()[d]);
    std::optional<int64_t> ub = getConstantIntValue(op.getUpperBound()[d]);
    std::optional<int64_t> step = getConstantIntValue(op.getStep()[d]);
    if (!lb || !ub || !step || *step <= 0)
      return n;
    iterations *= llvm::divideCeil(std::max<int64_t>(*ub - *lb, 0), *step);
    if (iterations >= kParallelIterations)
      return d + 1;
  }
  return n;
}

/// Whether `op` is nested in a loop, other than a sequential loop marked
/// `qfuse.fork_per_iteration` (the kernels' one-image-at-a-time loop, each
/// of whose iterations forks once).
static bool nestedInLoop(Operation *op) {
  for (Operation *p = op->getParentOp(); p; p = p->getParentOp())
    if (isa<LoopLikeOpInterface>(p) &&
        !(isa<scf::ForOp>(p) && p->hasAttr(qfuse::kForkPerIterationAttr)))
      return true;
  return false;
}

struct SequentializeNestedParallelPass
    : public qfuse::impl::SequentializeNestedParallelBase<
          SequentializeNestedParallelPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> nested;
    getOperation()->walk([&](scf::ParallelOp op) {
      if (op.getNumReductions() == 0 && nestedInLoop(op))
        nested.push_back(op);
    });
    // Innermost first (post-order walk), so bodies moved are final.
    for (scf::ParallelOp op : nested) {
      OpBuilder b(op);
      buildInnerNest(b, op, 0, ValueRange());
      op.erase();
    }
    // Outermost loops keep the leading dimensions they need in parallel;
    // the rest become an inner sequential nest (a row copy, not one element
    // per OpenMP iteration).
    SmallVector<scf::ParallelOp> outermost;
    getOperation()->walk([&](scf::ParallelOp op) {
      if (op.getNumReductions() == 0 &&
          !nestedInLoop(op) && parallelPrefix(op) < op.getNumLoops())
        outermost.push_back(op);
    });
    for (scf::ParallelOp op : outermost) {
      unsigned prefix = parallelPrefix(op);
      OpBuilder b(op);
      scf::ParallelOp::create(b, op.getLoc(),
                              op.getLowerBound().take_front(prefix),
                              op.getUpperBound().take_front(prefix),
                              op.getStep().take_front(prefix),
                              [&](OpBuilder &nb, Location, ValueRange ivs) {
                                buildInnerNest(nb, op, prefix, ivs);
                              });
      op.erase();
    }
  }
};
} // namespace
