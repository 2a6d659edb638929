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
  Option<bool> int8{
      *this, "int8",
      llvm::cl::desc("Then make fake-quantized conv/linear integer ops "
                     "(--quantize)"),
      llvm::cl::init(false)};
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
  Option<unsigned> numThreads{
      *this, "num-threads",
      llvm::cl::desc("0: sequential loops. N > 0: the outer parallel loops "
                     "of every linalg op run on N OpenMP threads (libomp)"),
      llvm::cl::init(0)};
  Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Emit _mlir_ciface_ wrappers taking memref descriptors "
                     "by pointer"),
      llvm::cl::init(true)};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Lower f32 conv and linear to register-tiled vector "
                     "kernels (convert-qfuse-to-vector) before the generic "
                     "lowering; false: every op takes the generic loops"),
      llvm::cl::init(true)};
  Option<int64_t> tileVectors{
      *this, "tile-vectors",
      llvm::cl::desc("convert-qfuse-to-vector tile-vectors (0: by shape)"),
      llvm::cl::init(0)};
  Option<int64_t> tilePixels{
      *this, "tile-pixels",
      llvm::cl::desc("convert-qfuse-to-vector tile-pixels (0: by shape)"),
      llvm::cl::init(0)};
  Option<std::string> loopOrder{
      *this, "loop-order",
      llvm::cl::desc("convert-qfuse-to-vector loop-order: auto, weights or "
                     "input"),
      llvm::cl::init("auto")};
  Option<bool> skipPadding{
      *this, "skip-padding",
      llvm::cl::desc("convert-qfuse-to-vector skip-padding: row tiles that "
                     "leave out the multiply-adds on the spatial padding"),
      llvm::cl::init(true)};
  Option<bool> blockDepthwise{
      *this, "block-depthwise",
      llvm::cl::desc("convert-qfuse-to-vector block-depthwise: channel-"
                     "blocked activations (nChw8c) around depthwise "
                     "convolutions between two convolutions"),
      llvm::cl::init(true)};
  Option<bool> depthwisePairSums{
      *this, "depthwise-pair-sums",
      llvm::cl::desc("convert-qfuse-to-vector depthwise-pair-sums: stride-2 "
                     "3-tap depthwise rows as pair sums of the input as read"),
      llvm::cl::init(true)};
  Option<int64_t> prefetchDistance{
      *this, "prefetch-distance",
      llvm::cl::desc("convert-qfuse-to-vector prefetch-distance: bytes "
                     "ahead of its reads that a channel-blocked depthwise "
                     "kernel prefetches its input (0: none)"),
      llvm::cl::init(32768)};
  Option<int64_t> prefetchMinBytes{
      *this, "prefetch-min-bytes",
      llvm::cl::desc("convert-qfuse-to-vector prefetch-min-bytes: prefetch "
                     "only inputs larger than this"),
      llvm::cl::init(8388608)};
  Option<int64_t> nontemporalMinBytes{
      *this, "nontemporal-min-bytes",
      llvm::cl::desc("convert-qfuse-to-vector nontemporal-min-bytes: a "
                     "channel-blocked depthwise kernel whose input and "
                     "output together are larger than this writes with "
                     "non-temporal stores (0: never)"),
      llvm::cl::init(33554432)};
  Option<int64_t> batchPrepareBytes{
      *this, "batch-prepare-bytes",
      llvm::cl::desc("convert-qfuse-to-vector batch-prepare-bytes: a batch's "
                     "prepared input up to which it is prepared in one pass, "
                     "beyond it one image at a time"),
      llvm::cl::init(524288)};
  Option<std::string> integerIsa{
      *this, "integer-isa",
      llvm::cl::desc("What the integer kernels target: auto (the host), "
                     "generic, avx2, avxvnni or avx512vnni"),
      llvm::cl::init("auto")};
  Option<bool> integerPortable{
      *this, "integer-portable",
      llvm::cl::desc("Lower the integer kernels' dot ops with portable vector "
                     "ops whatever integer-isa says (runs a kernel built for "
                     "another ISA on this machine, for testing)"),
      llvm::cl::init(false)};
  Option<bool> gpuSchedule{
      *this, "gpu-schedule",
      llvm::cl::desc("Lower f32 convs with the GPU's tiled block/thread "
                     "schedule (convert-qfuse-to-gpu-tiles, ordinary "
                     "buffers) run as loops on the CPU: tests the tiling "
                     "without a GPU"),
      llvm::cl::init(false)};
};

/// Options of --qfuse-lower-to-nvvm.
struct LowerToNVVMOptions : public PassPipelineOptions<LowerToNVVMOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture, e.g. sm_80, sm_90"),
                           llvm::cl::init("sm_80")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (sm_90 needs +ptx80 or later)"),
      llvm::cl::init("+ptx80")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("isa (PTX text, no CUDA needed), bin or fatbin (need "
                     "ptxas / the CUDA toolkit)"),
      llvm::cl::init("isa")};
  Option<bool> tiledConv{
      *this, "tiled-conv",
      llvm::cl::desc("f32 convs take the tiled schedule with shared-memory "
                     "staging (convert-qfuse-to-gpu-tiles); false: one "
                     "thread per output like every other op"),
      llvm::cl::init(true)};
  Option<int64_t> tileChannels{
      *this, "tile-channels",
      llvm::cl::desc("Output channels per block of the tiled conv (0: by "
                     "shape)"),
      llvm::cl::init(0)};
  Option<int64_t> tilePixels{
      *this, "tile-pixels",
      llvm::cl::desc("Output pixels per block of the tiled conv (0: by "
                     "shape)"),
      llvm::cl::init(0)};
  Option<int64_t> tileReduction{
      *this, "tile-reduction",
      llvm::cl::desc("Taps staged per step of the tiled conv (BK)"),
      llvm::cl::init(16)};
  Option<int64_t> threadChannels{
      *this, "thread-channels",
      llvm::cl::desc("Output channels per thread of the tiled conv (TM; 0: "
                     "by shape)"),
      llvm::cl::init(0)};
  Option<int64_t> threadPixels{
      *this, "thread-pixels",
      llvm::cl::desc("Output pixels per thread of the tiled conv (TN; 0: "
                     "by shape)"),
      llvm::cl::init(0)};
  Option<int64_t> targetBlocks{
      *this, "target-blocks",
      llvm::cl::desc("Split a tiled conv's reduction when its tiles give "
                     "fewer than half this many blocks (0: never; default "
                     "264, two per multiprocessor of an H100)"),
      llvm::cl::init(264)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block for every other parallel loop"),
      llvm::cl::init(256)};
  Option<bool> hostRuntime{
      *this, "host-runtime",
      llvm::cl::desc("Make the host code runnable on qfuse's CUDA runtime "
                     "(qfuse-run --device=cuda): results through "
                     "out-parameters, every buffer copied to device memory "
                     "(qfuse-gpu-device-buffers), streams, C interfaces"),
      llvm::cl::init(false)};
  Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("Optimization level of the NVPTX code generation"),
      llvm::cl::init(3)};
};

/// fold-bn, fuse-activations, canonicalize, cse.
void buildPtqPipeline(OpPassManager &pm, const PtqPipelineOptions &options);

/// fuse-qat, canonicalize, cse.
void buildQatPipeline(OpPassManager &pm, const QatPipelineOptions &options);

/// qfuse on tensors -> linalg -> bufferized loops -> LLVM dialect.
void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const LowerToLLVMOptions &options);

/// qfuse on tensors -> tiled conv schedules and linalg -> bufferized loops
/// mapped to GPU blocks and threads (qfuse-map-to-gpu) -> NVVM, with the GPU modules serialized (PTX for format=isa). The
/// context needs the LLVM IR translations registered
/// (mlir::registerAllToLLVMIRTranslations) for the serialization.
void buildLowerToNVVMPipeline(OpPassManager &pm,
                              const LowerToNVVMOptions &options);

/// Registers --qfuse-ptq, --qfuse-qat, --qfuse-lower-to-llvm and
/// --qfuse-lower-to-nvvm.
void registerPipelines();

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_PIPELINES_PIPELINES_H
