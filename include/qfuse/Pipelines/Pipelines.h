//===- Pipelines.h - qfuse's named pass pipelines ---------------*- C++ -*-===//

#ifndef QFUSE_PIPELINES_PIPELINES_H
#define QFUSE_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace qfuse {

/// Options of --qfuse-ptq.
struct PtqPipelineOptions : public PassPipelineOptions<PtqPipelineOptions> {
  Option<bool> foldBeforeConv{
      *this, "fold-before-conv",
      llvm::cl::desc("Fold batch-norms that feed a conv or linear"),
      llvm::cl::init(true)};
  Option<bool> foldThroughQuant{
      *this, "fold-through-quant",
      llvm::cl::desc("Fold through weight fake_quant where exact"),
      llvm::cl::init(true)};
};

/// Options of --qfuse-qat.
struct QatPipelineOptions : public PassPipelineOptions<QatPipelineOptions> {
  Option<std::string> mode{
      *this, "mode",
      llvm::cl::desc("Mode of the QAT ops: train or frozen"),
      llvm::cl::init("train")};
  Option<double> momentum{
      *this, "momentum",
      llvm::cl::desc("Running-statistics momentum of the QAT ops"),
      llvm::cl::init(0.1)};
};

/// Options of --qfuse-lower-to-llvm.
struct LowerToLLVMOptions : public PassPipelineOptions<LowerToLLVMOptions> {
  Option<bool> resultsToOutParams{
      *this, "results-to-out-params",
      llvm::cl::desc("Return results through caller-allocated out-parameter "
                     "memrefs (the calling convention of qfuse-run)"),
      llvm::cl::init(false)};
  Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Emit _mlir_ciface_ wrappers taking memref descriptors "
                     "by pointer"),
      llvm::cl::init(true)};
};

/// fold-bn, fuse-activations, canonicalize, cse.
void buildPtqPipeline(OpPassManager &pm, const PtqPipelineOptions &options);

/// fuse-qat, canonicalize, cse.
void buildQatPipeline(OpPassManager &pm, const QatPipelineOptions &options);

/// qfuse on tensors -> linalg -> bufferized loops -> LLVM dialect.
void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const LowerToLLVMOptions &options);

/// Registers --qfuse-ptq, --qfuse-qat and --qfuse-lower-to-llvm.
void registerPipelines();

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_PIPELINES_PIPELINES_H
