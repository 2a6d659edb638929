//===- Pipelines.cpp - qfuse's named pass pipelines -----------------------===//

#include "qfuse/Dialect/QFuse/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct PtqPipelineOptions
    : public PassPipelineOptions<PtqPipelineOptions> {
  Option<bool> foldBeforeConv{
      *this, "fold-before-conv",
      llvm::cl::desc("Fold batch-norms that feed a conv or linear"),
      llvm::cl::init(true)};
  Option<bool> foldThroughQuant{
      *this, "fold-through-quant",
      llvm::cl::desc("Fold through weight fake_quant where exact"),
      llvm::cl::init(true)};
};
} // namespace

void qfuse::registerPipelines() {
  PassPipelineRegistration<PtqPipelineOptions>(
      "qfuse-ptq",
      "PTQ deploy form: fold every foldable batch-norm exactly (--fold-bn), "
      "fuse relu/clamp into conv/conv_transpose/linear (--fuse-activations), "
      "then canonicalize and CSE",
      [](OpPassManager &pm, const PtqPipelineOptions &options) {
        qfuse::FoldBatchNormOptions fold;
        fold.foldBeforeConv = options.foldBeforeConv;
        fold.foldThroughQuant = options.foldThroughQuant;
        fold.fuseActivations = false;
        pm.addPass(qfuse::createFoldBatchNorm(fold));
        pm.addPass(qfuse::createFuseActivations());
        pm.addPass(createCanonicalizerPass());
        pm.addPass(createCSEPass());
      });
}
