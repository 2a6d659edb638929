//===- MapToGPU.cpp - bufferized loops to gpu.launch ---------------------===//
//
// Two mappings, both to one gpu.launch per loop nest:
//  * scf.forall over #gpu.block with nested scf.forall over #gpu.thread (the
//    tiled schedules of convert-qfuse-to-gpu-tiles): block ids for the outer
//    induction variables, thread ids for the inner ones, a barrier after each
//    thread phase, and workgroup-space allocations as shared memory;
//  * every other outermost scf.parallel: its iterations linearized over
//    blocks of `block-size` threads, innermost dimension fastest.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir {
namespace qfuse {
#define GEN_PASS_DEF_MAPTOGPU
#include "qfuse/Conversion/Passes.h.inc"
} // namespace qfuse
} // namespace mlir

using namespace mlir;

namespace {

using Dims = std::array<int64_t, 3>;

static Value pick(const gpu::KernelDim3 &d, int64_t id) {
  return id == 0 ? d.x : id == 1 ? d.y : d.z;
}

template <typename MappingAttr> static bool hasMapping(scf::ForallOp op) {
  std::optional<ArrayAttr> mapping = op.getMapping();
  return mapping && !mapping->empty() &&
         llvm::all_of(*mapping,
                      [](Attribute a) { return isa<MappingAttr>(a); });
}

/// The static trip counts of a normalized forall (lower bounds 0, steps 1),
/// placed at their mapping ids (x, y, z); failure with an error otherwise.
template <typename MappingAttr>
static FailureOr<Dims> mappedCounts(scf::ForallOp op, StringRef what) {
  Dims dims = {1, 1, 1};
  ArrayRef<Attribute> mapping = op.getMapping()->getValue();
  for (auto [i, ub] : llvm::enumerate(op.getMixedUpperBound())) {
    std::optional<int64_t> lb = getConstantIntValue(op.getMixedLowerBound()[i]);
    std::optional<int64_t> step = getConstantIntValue(op.getMixedStep()[i]);
    std::optional<int64_t> count = getConstantIntValue(ub);
    int64_t id = cast<MappingAttr>(mapping[i]).getMappingId();
    if (!lb || *lb != 0 || !step || *step != 1 || !count || id > 2)
      return op.emitError() << "qfuse-map-to-gpu: a " << what
                            << " forall needs static trip counts from 0 by 1 "
                               "mapped to x, y or z";
    dims[id] = *count;
  }
  return dims;
}

static Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

static gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, const Dims &grid,
                                  const Dims &block, TypeRange workgroup) {
  auto launch = gpu::LaunchOp::create(
      b, loc, indexConst(b, loc, grid[0]), indexConst(b, loc, grid[1]),
      indexConst(b, loc, grid[2]), indexConst(b, loc, block[0]),
      indexConst(b, loc, block[1]), indexConst(b, loc, block[2]),
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, workgroup);
  return launch;
}

static bool isWorkgroup(MemRefType type) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

/// Moves the ops of `from` (but its terminator) before `before`.
static void spliceBody(Block *from, Operation *before) {
  from->getTerminator()->erase();
  before->getBlock()->getOperations().splice(Block::iterator(before),
                                             from->getOperations());
}

static LogicalResult mapSchedule(scf::ForallOp forall) {
  Location loc = forall.getLoc();
  if (!forall.getOutputs().empty())
    return forall.emitError() << "qfuse-map-to-gpu: a block forall on "
                                 "tensors (bufferize first)";
  FailureOr<Dims> grid =
      mappedCounts<gpu::GPUBlockMappingAttr>(forall, "block");
  if (failed(grid))
    return failure();
  SmallVector<scf::ForallOp> threadLoops;
  WalkResult walk = forall.getBody()->walk([&](scf::ForallOp inner) {
    if (!hasMapping<gpu::GPUThreadMappingAttr>(inner) ||
        !inner.getOutputs().empty()) {
      inner.emitError() << "qfuse-map-to-gpu: a forall inside a block forall "
                           "must be mapped to threads, on buffers";
      return WalkResult::interrupt();
    }
    // Each thread phase is all the block's threads at once: nested phases
    // would reuse the thread ids.
    if (inner->getParentOfType<scf::ForallOp>() != forall) {
      inner.emitError() << "qfuse-map-to-gpu: thread foralls cannot nest";
      return WalkResult::interrupt();
    }
    threadLoops.push_back(inner);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  Dims block = {1, 1, 1};
  SmallVector<Dims> counts;
  for (scf::ForallOp t : threadLoops) {
    FailureOr<Dims> c = mappedCounts<gpu::GPUThreadMappingAttr>(t, "thread");
    if (failed(c))
      return failure();
    counts.push_back(*c);
    for (int d = 0; d < 3; ++d)
      block[d] = std::max(block[d], (*c)[d]);
  }
  if (block[0] * block[1] * block[2] > 1024)
    return forall.emitError()
           << "qfuse-map-to-gpu: " << block[0] * block[1] * block[2]
           << " threads per block (at most 1024)";

  // Workgroup allocations directly in the block body become shared memory.
  SmallVector<memref::AllocOp> shared;
  SmallVector<Type> sharedTypes;
  WalkResult nestedShared = forall.getBody()->walk([&](memref::AllocOp alloc) {
    if (isWorkgroup(alloc.getType()) && alloc->getParentOp() != forall) {
      alloc.emitError() << "qfuse-map-to-gpu: shared memory must be "
                           "allocated directly in the block forall";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (nestedShared.wasInterrupted())
    return failure();
  for (auto alloc : forall.getBody()->getOps<memref::AllocOp>())
    if (isWorkgroup(alloc.getType())) {
      if (!alloc.getType().hasStaticShape())
        return alloc.emitError() << "qfuse-map-to-gpu: shared memory must "
                                    "have a static shape";
      shared.push_back(alloc);
      sharedTypes.push_back(alloc.getType());
    }

  OpBuilder b(forall);
  gpu::LaunchOp launch = createLaunch(b, loc, *grid, block, sharedTypes);
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  auto terminator = gpu::TerminatorOp::create(b, loc);
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  ArrayRef<Attribute> mapping = forall.getMapping()->getValue();
  for (auto [iv, m] : llvm::zip(forall.getInductionVars(), mapping))
    iv.replaceAllUsesWith(
        pick(blockIds, cast<gpu::GPUBlockMappingAttr>(m).getMappingId()));
  spliceBody(forall.getBody(), terminator);
  for (auto [alloc, arg] :
       llvm::zip(shared, launch.getWorkgroupAttributions())) {
    alloc.replaceAllUsesWith(arg);
    alloc.erase();
  }
  forall.erase();

  // Thread phases: thread ids, a guard where the phase is narrower than the
  // block, and a barrier before whatever follows.
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  for (auto [t, c] : llvm::zip(threadLoops, counts)) {
    OpBuilder tb(t);
    Location tl = t.getLoc();
    ArrayRef<Attribute> tm = t.getMapping()->getValue();
    for (auto [iv, m] : llvm::zip(t.getInductionVars(), tm))
      iv.replaceAllUsesWith(
          pick(threadIds, cast<gpu::GPUThreadMappingAttr>(m).getMappingId()));
    Value cond;
    for (int d = 0; d < 3; ++d) {
      if (c[d] >= block[d])
        continue;
      Value lt =
          arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::ult,
                                pick(threadIds, d), indexConst(tb, tl, c[d]));
      cond = cond ? arith::AndIOp::create(tb, tl, cond, lt).getResult() : lt;
    }
    if (cond) {
      auto ifOp = scf::IfOp::create(tb, tl, cond, /*withElseRegion=*/false);
      spliceBody(t.getBody(), ifOp.thenBlock()->getTerminator());
    } else {
      spliceBody(t.getBody(), t);
    }
    // No barrier is needed where the kernel ends.
    if (!isa<gpu::TerminatorOp>(t->getNextNode()))
      gpu::BarrierOp::create(tb, tl);
    t.erase();
  }
  return success();
}

static LogicalResult mapParallel(scf::ParallelOp loop, int64_t blockSize) {
  Location loc = loop.getLoc();
  if (loop.getNumReductions() != 0)
    return loop.emitError() << "qfuse-map-to-gpu: a parallel loop with "
                               "reductions";
  SmallVector<int64_t> lbs, steps, counts;
  int64_t total = 1;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb),
                           u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0)
      return loop.emitError() << "qfuse-map-to-gpu: a parallel loop needs "
                                 "static bounds and steps";
    lbs.push_back(*l);
    steps.push_back(*s);
    counts.push_back(std::max<int64_t>(0, llvm::divideCeil(*u - *l, *s)));
    total *= counts.back();
  }
  if (total == 0) {
    loop.erase();
    return success();
  }
  int64_t threads = std::min(blockSize, total);
  int64_t blocks = llvm::divideCeil(total, threads);
  OpBuilder b(loop);
  gpu::LaunchOp launch =
      createLaunch(b, loc, {blocks, 1, 1}, {threads, 1, 1}, {});
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  auto terminator = gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(terminator);
  Value linear = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x,
                            indexConst(b, loc, threads)),
      launch.getThreadIds().x);
  Operation *anchor = terminator;
  if (blocks * threads != total) {
    Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          linear, indexConst(b, loc, total));
    auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
    anchor = ifOp.thenBlock()->getTerminator();
    b.setInsertionPoint(anchor);
  }
  // Innermost dimension fastest.
  Value rest = linear;
  for (int64_t d = counts.size() - 1; d >= 0; --d) {
    Value i = rest;
    if (d > 0) {
      i = arith::RemUIOp::create(b, loc, rest, indexConst(b, loc, counts[d]));
      rest =
          arith::DivUIOp::create(b, loc, rest, indexConst(b, loc, counts[d]));
    }
    if (steps[d] != 1)
      i = arith::MulIOp::create(b, loc, i, indexConst(b, loc, steps[d]));
    if (lbs[d] != 0)
      i = arith::AddIOp::create(b, loc, i, indexConst(b, loc, lbs[d]));
    loop.getInductionVars()[d].replaceAllUsesWith(i);
  }
  spliceBody(loop.getBody(), anchor);
  loop.erase();
  return success();
}

struct MapToGPUPass : public qfuse::impl::MapToGPUBase<MapToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    if (blockSize <= 0 || blockSize > 1024) {
      getOperation()->emitError()
          << "qfuse-map-to-gpu: block-size must be in [1, 1024]";
      return signalPassFailure();
    }
    SmallVector<scf::ForallOp> schedules;
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp, gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      if (auto f = dyn_cast<scf::ForallOp>(op);
          f && hasMapping<gpu::GPUBlockMappingAttr>(f)) {
        schedules.push_back(f);
        return WalkResult::skip();
      }
      if (auto p = dyn_cast<scf::ParallelOp>(op)) {
        loops.push_back(p);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    for (scf::ForallOp f : schedules)
      if (failed(mapSchedule(f)))
        return signalPassFailure();
    for (scf::ParallelOp p : loops)
      if (failed(mapParallel(p, blockSize)))
        return signalPassFailure();
  }
};

} // namespace
