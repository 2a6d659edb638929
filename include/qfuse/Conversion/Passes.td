//===- Passes.td - qfuse conversion passes -----------------*- tablegen -*-===//

#ifndef QFUSE_CONVERSION_PASSES_TD
#define QFUSE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQFuseToLinalg : Pass<"convert-qfuse-to-linalg"> {
  let summary = "Lower qfuse ops to linalg, tensor and arith on tensors";
  let description = [{
    Every qfuse op becomes linalg / tensor / arith / math on tensors:

    * `qfuse.conv` (1/2/3-D, any groups, depthwise) is one `linalg.generic`
      correlation over `[N, G, Cout/G, O...]` x `[Cin/G, K...]` that
      accumulates onto the broadcast bias, followed by an elementwise epilogue
      that applies the fused activation in place on the result (and rounds
      f16/bf16 back from the f32 accumulator);
    * `qfuse.conv_transpose` is the same correlation on the input dilated by
      the stride and padded by `dilation·(K−1) − pad` (cropped where that is
      negative), reading the kernel flipped from `[Cin, Cout/G, K...]`;
    * `qfuse.linear`, `qfuse.batch_norm`, `qfuse.relu`, `qfuse.clamp`,
      `qfuse.fake_quant` (per tensor and per channel, round half to even,
      dividing by the scale) are `linalg.generic` ops;
    * `qfuse.qat_conv_bn` is PyTorch's approximate ConvBn forward:
      `conv(x, fq(W·k)) / k + b`, batch-norm with batch statistics (train,
      which also yields the running statistics updated with the momentum and
      the unbiased batch variance) or running statistics (frozen), then the
      activation. Where γ = 0 the channel uses k = 1, so its output is β
      rather than PyTorch's NaN.

    f16 and bf16 convolutions and linears accumulate in f32; fake_quant and
    batch_norm compute in f32 (f64 for f64 tensors). An op that cannot be
    lowered (dynamic shapes on a conv, conv_transpose, linear or QAT op) is left in place
    and named by `qfuse-check-lowered`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CheckLowered : Pass<"qfuse-check-lowered"> {
  let summary = "Fail, naming each one, if any qfuse op is left";
  let description = [{
    Run after `convert-qfuse-to-linalg`: every qfuse op that is still present
    is reported as an error at its location (with the reason when known), and
    the pass fails, so that a pipeline never hands qfuse ops to bufferization
    or LLVM lowering.
  }];
}

def SequentializeNestedParallel : Pass<"qfuse-sequentialize-nested-parallel"> {
  let summary = "Keep only outermost scf.parallel loops parallel";
  let description = [{
    Rewrites every `scf.parallel` (without reductions) that is nested in
    another loop into a nest of `scf.for`, so that `convert-scf-to-openmp`
    forks threads once per linalg op, over its outer parallel dimensions,
    and never inside a reduction loop.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

#endif // QFUSE_CONVERSION_PASSES_TD
