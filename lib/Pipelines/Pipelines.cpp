//===- Pipelines.cpp - qfuse's named pass pipelines -----------------------===//

#include "qfuse/Pipelines/Pipelines.h"
#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qfuse::buildPtqPipeline(OpPassManager &pm,
                             const PtqPipelineOptions &options) {
  qfuse::FoldBatchNormOptions fold;
  fold.foldBeforeConv = options.foldBeforeConv;
  fold.foldThroughQuant = options.foldThroughQuant;
  fold.fuseActivations = false;
  pm.addPass(qfuse::createFoldBatchNorm(fold));
  pm.addPass(qfuse::createFuseActivations());
  if (options.int8)
    pm.addPass(qfuse::createQuantize());
  pm.addPass(qfuse::createFoldConstantFakeQuant());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void qfuse::buildQatPipeline(OpPassManager &pm,
                             const QatPipelineOptions &options) {
  qfuse::FuseQatOptions fuse;
  fuse.mode = options.mode;
  fuse.momentum = options.momentum;
  pm.addPass(qfuse::createFuseQat(fuse));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {
/// Marks every function with a body for _mlir_ciface_ wrapper emission.
struct EmitCInterfacePass
    : public PassWrapper<EmitCInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(EmitCInterfacePass)
  StringRef getArgument() const final { return "qfuse-emit-c-interface"; }
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp f) {
      if (!f.isExternal())
        f->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                   UnitAttr::get(f.getContext()));
    });
  }
};
} // namespace

/// The front half shared by the CPU and GPU pipelines: qfuse to linalg on
/// tensors (checked), elementwise fusion, one-shot bufferization with
/// identity-layout function boundaries. Upstream passes are added by
/// constructor, so that embedders need not register them by name.
static void addLowerToBuffersPasses(OpPassManager &pm) {
  pm.addPass(qfuse::createConvertQFuseToLinalg());
  pm.addPass(qfuse::createCheckLowered());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(qfuse::createFuseElementwise());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Folds the self-copies that parallel_insert_slice of an in-place slice
  // leaves (once CSE has merged the two subviews), then makes the strided
  // copies left (padding) linalg.copy loops.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(qfuse::createCopyToLinalg());
}

/// Results through caller-allocated out-parameters (the calling convention
/// of qfuse-run), statically sized result buffers hoisted to the caller.
static void addResultsToOutParams(OpPassManager &pm) {
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
}

void qfuse::buildLowerToLLVMPipeline(OpPassManager &pm,
                                     const LowerToLLVMOptions &options) {
  if (options.emitCInterface)
    pm.addPass(std::make_unique<EmitCInterfacePass>());
  // QAT ops first, so that their convolutions take the kernels below.
  pm.addPass(qfuse::createExpandQat());
  if (options.gpuSchedule) {
    qfuse::ConvertQFuseToGPUTilesOptions tiles;
    tiles.memorySpace = "default";
    pm.addPass(qfuse::createConvertQFuseToGPUTiles(tiles));
  }
  if (options.vectorize) {
    qfuse::ConvertQFuseToVectorOptions vec;
    vec.tileVectors = options.tileVectors;
    vec.tilePixels = options.tilePixels;
    vec.loopOrder = options.loopOrder;
    vec.skipPadding = options.skipPadding;
    vec.depthwisePairSums = options.depthwisePairSums;
    vec.blockDepthwise = options.blockDepthwise;
    vec.prefetchDistance = options.prefetchDistance;
    vec.prefetchMinBytes = options.prefetchMinBytes;
    vec.nontemporalMinBytes = options.nontemporalMinBytes;
    vec.batchPrepareBytes = options.batchPrepareBytes;
    vec.integerIsa = options.integerIsa;
    pm.addPass(qfuse::createConvertQFuseToVector(vec));
  }
  addLowerToBuffersPasses(pm);
  if (options.resultsToOutParams)
    addResultsToOutParams(pm);
  bufferization::buildBufferDeallocationPipeline(pm);
  if (options.numThreads > 0) {
    // Outer parallel dimensions of each linalg op, and the scf.forall of
    // each vector kernel, on OpenMP threads; the loops inside stay
    // sequential.
    pm.addPass(createForallToParallelLoopPass());
    pm.addPass(createConvertLinalgToParallelLoopsPass());
    pm.addPass(qfuse::createSequentializeNestedParallel());
    ConvertSCFToOpenMPPassOptions omp;
    omp.numThreads = options.numThreads;
    pm.addPass(createConvertSCFToOpenMPPass(omp));
    // Inlines the memref.alloca_scope ops scf-to-openmp wraps loop bodies in
    // (there are no allocas inside), which the CFG lowering cannot split.
    pm.addPass(createCanonicalizerPass());
  } else {
    pm.addPass(createForallToForLoopPass());
    pm.addPass(createConvertLinalgToLoopsPass());
  }
  // The kernels' qfuse.dot_pairs / dot_quads / pair_sums: x86 instructions
  // on an AVX2 host. (After the loops are threaded: the intrinsic calls
  // have no memory-effect model, and the memref.alloca_scope that
  // scf-to-openmp wraps a body in is inlined only when every op in it is
  // known not to allocate.)
  qfuse::LowerDotPairsOptions dot;
  dot.isa = options.integerPortable ? std::string("generic")
                                    : std::string(options.integerIsa);
  pm.addPass(qfuse::createLowerDotPairs(dot));
  // Subviews (the vector kernels' output slices) become affine index
  // arithmetic, lowered next.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  if (options.numThreads > 0)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void qfuse::buildLowerToNVVMPipeline(OpPassManager &pm,
                                     const LowerToNVVMOptions &options) {
  if (options.hostRuntime)
    pm.addPass(std::make_unique<EmitCInterfacePass>());
  pm.addPass(qfuse::createExpandQat());
  if (options.tiledConv) {
    qfuse::ConvertQFuseToGPUTilesOptions tiles;
    tiles.memorySpace = "workgroup";
    tiles.tileChannels = options.tileChannels;
    tiles.tilePixels = options.tilePixels;
    tiles.targetBlocks = options.targetBlocks;
    tiles.tileReduction = options.tileReduction;
    tiles.threadChannels = options.threadChannels;
    tiles.threadPixels = options.threadPixels;
    pm.addPass(qfuse::createConvertQFuseToGPUTiles(tiles));
  }
  addLowerToBuffersPasses(pm);
  if (options.hostRuntime)
    addResultsToOutParams(pm);
  // The parallel dimensions of every other linalg op, moved outermost,
  // become one scf.parallel; the conv schedules (block/thread foralls) and
  // those loops each become one gpu.launch.
  pm.addPass(qfuse::createParallelDimsOutermost());
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  qfuse::MapToGPUOptions map;
  map.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(qfuse::createMapToGPU(map));
  pm.addPass(createCanonicalizerPass());
  if (options.hostRuntime)
    pm.addNestedPass<func::FuncOp>(qfuse::createGpuDeviceBuffers());
  // Constants (tile sizes, shapes) go into the kernels, so that divisions
  // by them are strength-reduced rather than passed as kernel arguments.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  // Host-side gpu ops on streams (mgpuStreamCreate / Synchronize / Destroy
  // around each chain), which the runtime calls need.
  if (options.hostRuntime)
    pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());

  // Everything to LLVM: the kernels to NVVM, serialized for the target; the
  // host to LLVM calls of the mgpu* runtime ABI (qfuse's CUDA runtime).
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createStripDebugInfoPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  pm.addNestedPass<gpu::GPUModuleOp>(LLVM::createNVVMOptimizeForTargetPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void qfuse::registerPipelines() {
  PassPipelineRegistration<PtqPipelineOptions>(
      "qfuse-ptq",
      "PTQ deploy form: fold every foldable batch-norm exactly (--fold-bn), "
      "fuse relu/clamp into conv/conv_transpose/linear (--fuse-activations), "
      "with int8=true make fake-quantized conv/linear integer (--quantize), "
      "compute fake_quant of constants at compile time "
      "(--fold-constant-fake-quant), then canonicalize and CSE",
      buildPtqPipeline);
  PassPipelineRegistration<QatPipelineOptions>(
      "qfuse-qat",
      "QAT form: keep conv + batch-norm (+ activation) apart as qfuse.qat_conv_bn "
      "(--fuse-qat) so training can go on, then canonicalize and CSE; "
      "--qat-to-deploy turns frozen QAT ops into the PTQ deploy form",
      buildQatPipeline);
  PassPipelineRegistration<LowerToLLVMOptions>(
      "qfuse-lower-to-llvm",
      "Lower qfuse on tensors to the LLVM dialect: qfuse-expand-qat (QAT "
      "convolutions become qfuse.conv), convert-qfuse-to-vector "
      "(register-tiled f32 conv/linear kernels), convert-qfuse-to-linalg for "
      "the rest, qfuse-check-lowered, elementwise fusion, one-shot "
      "bufferization, deallocation, loops (OpenMP with num-threads), "
      "qfuse-lower-dot-pairs (the kernels' x86 ops), LLVM",
      buildLowerToLLVMPipeline);
  PassPipelineRegistration<LowerToNVVMOptions>(
      "qfuse-lower-to-nvvm",
      "Lower qfuse on tensors to NVVM / PTX: qfuse-expand-qat, then f32 "
      "convs (+bias+activation) "
      "as tiled kernels with shared-memory staging "
      "(convert-qfuse-to-gpu-tiles), the rest through "
      "convert-qfuse-to-linalg, bufferization, loops mapped to blocks and "
      "threads (qfuse-map-to-gpu), kernels outlined and serialized for the "
      "chip; with host-runtime=true the host code moves every buffer to the "
      "device (qfuse-gpu-device-buffers) and calls qfuse's CUDA runtime",
      buildLowerToNVVMPipeline);
}
