//===- Passes.td - qfuse transformation passes -------------*- tablegen -*-===//

#ifndef QFUSE_DIALECT_QFUSE_TRANSFORMS_PASSES_TD
#define QFUSE_DIALECT_QFUSE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldBatchNorm : Pass<"fold-bn"> {
  let summary = "Fold inference batch-norm into neighbouring conv/linear, exactly";
  let description = [{
    Folds every `qfuse.batch_norm` that can be folded exactly, and explains
    every one it does not fold. In order of preference for each batch-norm:

    1. **after** `qfuse.conv` (1/2/3-D, any groups), `qfuse.conv_transpose`
       (any groups) or `qfuse.linear`: `W' = W·k` along the op's own
       output-channel axis, `b' = (b − μ)·k + β`, `k = γ/sqrt(σ² + ε)`;
    2. the same **through a weight** `qfuse.fake_quant`: the weight and its
       per-channel scale are rescaled, `fq(W; s)·k = fq(W·k; s·|k|)`, when
       that is exact: `k > 0`, or `k < 0` with a symmetric range and zero
       point 0, and (with constant weights) every rescaled weight is proven to
       land on the same quantization step;
    3. **before** `qfuse.conv` / `qfuse.linear`: scale into the weights and
       shift into the bias; with zero padding the input is padded explicitly
       with the per-channel value `−c/a` first (exact; needs `a ≠ 0`).

    With constant weights and statistics the fold is computed in f64 and
    rounded once to the weight's element type. With run-time weights or
    statistics (function arguments), fold 1 emits that arithmetic as
    `linalg.generic` ops in f64 on the values instead.

    A folded batch-norm's producer must have no other users and no fused
    activation; nothing is mutated in place (new constants, new ops), so
    weights and statistics shared with other ops keep their values.
    Non-finite statistics or `σ² + ε ≤ 0` leave the batch-norm in place with
    a warning. The activation that follows a folded op is fused when
    `fuse-activations` is set (the default).

    Every fold done and refused is reported as an MLIR optimization remark in
    category `fold-bn` (`--remarks-filter=fold-bn --remark-format=emitRemark`
    prints them), and counted in the pass statistics (`--mlir-pass-statistics`).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::math::MathDialect"];
  let options = [
    Option<"fuseActivations", "fuse-activations", "bool", /*default=*/"true",
           "Fuse a relu/clamp that follows a conv, conv_transpose or linear "
           "into it (as --fuse-activations does)">,
    Option<"foldBeforeConv", "fold-before-conv", "bool", /*default=*/"true",
           "Fold a batch-norm that feeds a conv or linear into its weights">,
    Option<"foldThroughQuant", "fold-through-quant", "bool",
           /*default=*/"true",
           "Fold through a weight fake_quant by rescaling its scale, where "
           "that is exact">,
  ];
  let statistics = [
    Statistic<"numFoldedAfter", "folded-after", "batch-norms folded into the preceding conv/conv_transpose/linear">,
    Statistic<"numFoldedThroughQuant", "folded-through-quant", "of those, folded through a weight fake_quant">,
    Statistic<"numFoldedRuntime", "folded-runtime", "of those, folded with run-time arithmetic (non-constant weights or statistics)">,
    Statistic<"numFoldedBefore", "folded-before", "batch-norms folded into the following conv/linear">,
    Statistic<"numRefusedNumerics", "refused-numerics", "refused: non-finite statistics, variance + eps <= 0, or overflow">,
    Statistic<"numRefusedUses", "refused-uses", "refused: producer result or batch-norm result has other users">,
    Statistic<"numRefusedActivation", "refused-activation", "refused: producer applies a fused activation first">,
    Statistic<"numRefusedQuant", "refused-quant", "refused: fold through the weight fake_quant would not be exact">,
    Statistic<"numRefusedPadding", "refused-padding", "refused: padded conv with a zero batch-norm scale">,
    Statistic<"numRefusedOther", "refused-other", "refused: no foldable neighbour, or non-constant operands where constants are needed">,
    Statistic<"numFusedActivations", "fused-activations", "activations fused into conv/conv_transpose/linear">,
  ];
}

def FuseActivations : Pass<"fuse-activations"> {
  let summary = "Fuse relu/clamp into the preceding conv, conv_transpose or linear";
  let description = [{
    `qfuse.relu` and `qfuse.clamp` (ReLU6, Hardtanh) that consume the only
    use of a `qfuse.conv`, `qfuse.conv_transpose` or `qfuse.linear` without
    an activation become that op's fused `activation` (the PTQ form, like
    PyTorch's ConvReLU2d). A producer with other users, or one that already
    has an activation, is left alone; a clamp that follows a fused relu or
    clamp is merged into it when the ranges overlap.
  }];
  let statistics = [
    Statistic<"numFused", "fused", "activations fused">,
  ];
}

def FuseQat : Pass<"fuse-qat"> {
  let summary = "Keep conv + batch-norm (+ activation) apart as the QAT op";
  let description = [{
    For quantization-aware training the batch-norm must not be folded away.
    `qfuse.conv` / `qfuse.conv_transpose` / `qfuse.linear` → `qfuse.batch_norm`
    (→ `qfuse.relu` / `qfuse.clamp`), with or without a `qfuse.fake_quant` on
    the weight, becomes one `qfuse.qat_conv_bn` carrying the conv geometry,
    γ, β, running statistics, ε, the `momentum` option, the weight
    fake-quant and the activation, in the `mode` given (train or frozen).

    The QAT op fake-quantizes the batch-norm-scaled weight `W·k`, as PyTorch
    does. A fake-quant found on the unscaled weight `W` is carried over with
    its scale multiplied by `|k|` from the current running statistics (`k > 0`,
    or `k < 0` with a symmetric range and zero point 0; per-channel along the
    output channels, or per-tensor with one `|k|`), so that in frozen mode
    the QAT op computes what the original graph computed; otherwise, or when
    scale or statistics are not constants, nothing is fused and a remark
    says why.

    Not fused (remark): a producer whose result has other users, or that
    already applies an activation. An activation is only taken in when the
    batch-norm's result has no other user. Remarks: category `fuse-qat`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"train\"",
           "Mode of the QAT ops created: train (batch statistics, running "
           "statistics updated) or frozen (running statistics)">,
    Option<"momentum", "momentum", "double", /*default=*/"0.1",
           "Running-statistics momentum of the QAT ops created (PyTorch's "
           "default is 0.1)">,
  ];
}

def QatToDeploy : Pass<"qat-to-deploy"> {
  let summary = "Turn frozen QAT ops into the deploy form";
  let description = [{
    A frozen `qfuse.qat_conv_bn` becomes the PTQ deploy form, which computes
    the same outputs: `conv(x, fq(W·k), b')` with `k = γ/sqrt(σ² + ε)`,
    `b' = (b − μ)·k + β` and the fused activation; its running-statistics
    results are its inputs. With constant weights and statistics `W·k` and
    `b'` are folded in f64 and rounded once; otherwise the arithmetic is
    emitted as `linalg.generic` ops in f64. The weight fake-quant stays a
    `qfuse.fake_quant` on the folded weight. A QAT op in train mode is an
    error (its statistics still change): freeze it first.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def Quantize : Pass<"quantize"> {
  let summary = "Turn fake-quantized conv/linear into integer qconv/qlinear";
  let description = [{
    The PTQ deploy step after `--fold-bn`: a `qfuse.conv` or `qfuse.linear`
    whose input, weight and output are quantized becomes one integer op,
    `qfuse.qconv` / `qfuse.qlinear`, with the requantize and the fused
    activation as its epilogue:

    * input: `qfuse.fake_quant` (per tensor) or `qfuse.dequantize` of 8-bit
      integers; a fake_quant becomes `qfuse.quantize`;
    * weight: `qfuse.fake_quant` (per tensor or along axis 0) of a constant
      f32 tensor, quantized here exactly as the fake_quant computes it, or
      `qfuse.dequantize` of a constant int8/uint8 tensor;
    * bias: a constant, quantized to int32 at scale `s_x * s_w[c]` (f64,
      rounded once half to even), or none;
    * output: the op's only user is a per-tensor `qfuse.fake_quant` (then a
      `qfuse.dequantize` of the integer result replaces it) or
      `qfuse.quantize` (replaced by the integer result);
    * or a `qfuse.batch_norm` fold-bn left (a rounding tie would have moved
      a rescaled weight), optionally followed by relu/clamp, and then the
      quantize: the batch-norm goes into the integer op, exactly as real
      arithmetic: weight scales times |k| (f64, rounded once to f32),
      the integers of a channel with k < 0 negated, the bias
      (b − μ)·k + β, the activation fused.

    8-bit storage is int8 when the quant range lies in [-128, 127] and
    uint8 when it lies in [0, 255]; scales and zero points stay operands.
    `qfuse.quantize(qfuse.dequantize(q))` pairs between layers cancel
    (the quantize canonicalization), so a chain of layers stays integer.

    Not converted, with a missed remark (category `quantize`) saying why:
    an unquantized input, weight or output, non-constant weights, bias or
    input scale (the bias scale needs it), a range wider than 8 bits,
    a weight fake_quant on another axis, f16/bf16/f64 weights, a bias that
    overflows int32, weights for which the int32 accumulator could
    overflow (bounded with the actual weights), non-constant batch-norm
    statistics, or a negative batch-norm scale on a channel whose weights
    are not symmetric int8 or hold -128. The result equals the
    fake-quant graph to within one quantization step per element (the
    float graph rounds its f32 sums and its unquantized bias).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numConverted", "converted", "conv/linear ops made integer">,
    Statistic<"numRefused", "refused", "conv/linear ops left in float">,
  ];
}

def FoldConstantFakeQuant : Pass<"fold-constant-fake-quant"> {
  let summary = "Replace a fake_quant of constants by the constant it computes";
  let description = [{
    A `qfuse.fake_quant` whose input, scale and zero point are constants
    (fake-quantized weights the folds and --quantize left) is computed at
    compile time with the same float operations, in the same order and
    type, as its lowering: the result is bit for bit what the op would
    compute on every run, which it then no longer does. f32 and f64 inputs
    (f16/bf16 are left). Part of `qfuse-ptq`, after the folds and
    `--quantize` (which read the fake_quant itself).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numFolded", "folded", "fake_quant ops of constants folded">,
  ];
}

#endif // QFUSE_DIALECT_QFUSE_TRANSFORMS_PASSES_TD
