//===- Pipelines.cpp - qfuse's named pass pipelines -----------------------===//

#include "qfuse/Pipelines/Pipelines.h"
#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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

void qfuse::buildLowerToLLVMPipeline(OpPassManager &pm,
                                     const LowerToLLVMOptions &options) {
  pm.addPass(qfuse::createConvertQFuseToLinalg());
  pm.addPass(qfuse::createCheckLowered());
  pm.addPass(createCanonicalizerPass());
  if (options.emitCInterface)
    pm.addPass(std::make_unique<EmitCInterfacePass>());
  std::string rest =
      "func.func(convert-elementwise-to-linalg),"
      "linalg-fuse-elementwise-ops,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},";
  if (options.resultsToOutParams)
    rest += "buffer-results-to-out-params{hoist-static-allocs modify-public-functions},";
  rest += "buffer-deallocation-pipeline,"
          "convert-linalg-to-loops,"
          "lower-affine,"
          "convert-scf-to-cf,"
          "expand-strided-metadata,"
          "finalize-memref-to-llvm,"
          "convert-math-to-llvm,"
          "arith-expand{include-bf16=true},"
          "convert-arith-to-llvm,"
          "convert-index-to-llvm,"
          "convert-func-to-llvm,"
          "convert-cf-to-llvm,"
          "reconcile-unrealized-casts";
  if (failed(parsePassPipeline(rest, pm)))
    llvm::report_fatal_error("qfuse-lower-to-llvm: bad upstream pipeline");
}

void qfuse::registerPipelines() {
  PassPipelineRegistration<PtqPipelineOptions>(
      "qfuse-ptq",
      "PTQ deploy form: fold every foldable batch-norm exactly (--fold-bn), "
      "fuse relu/clamp into conv/conv_transpose/linear (--fuse-activations), "
      "then canonicalize and CSE",
      buildPtqPipeline);
  PassPipelineRegistration<QatPipelineOptions>(
      "qfuse-qat",
      "QAT form: keep conv + batch-norm (+ activation) apart as qfuse.qat_conv_bn "
      "(--fuse-qat) so training can go on, then canonicalize and CSE; "
      "--qat-to-deploy turns frozen QAT ops into the PTQ deploy form",
      buildQatPipeline);
  PassPipelineRegistration<LowerToLLVMOptions>(
      "qfuse-lower-to-llvm",
      "Lower qfuse on tensors to the LLVM dialect: convert-qfuse-to-linalg, "
      "qfuse-check-lowered, elementwise fusion, one-shot bufferization, "
      "deallocation, loops, LLVM",
      buildLowerToLLVMPipeline);
}
