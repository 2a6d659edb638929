//===- QFuseOps.td - qfuse operations ----------------------*- tablegen -*-===//

#ifndef QFUSE_DIALECT_QFUSE_IR_QFUSEOPS_TD
#define QFUSE_DIALECT_QFUSE_IR_QFUSEOPS_TD

include "qfuse/Dialect/QFuse/IR/QFuseBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"

// Attributes shared by every op that can carry a fused activation.
defvar QFuse_ActivationArgs = (ins
  DefaultValuedAttr<QFuse_ActivationAttr,
                    "::mlir::qfuse::ActivationKind::none">:$activation,
  OptionalAttr<F64Attr>:$clamp_min,
  OptionalAttr<F64Attr>:$clamp_max);

// Attributes shared by convolution and transposed convolution.
defvar QFuse_ConvArgs = (ins
  DenseI64ArrayAttr:$strides,
  DenseI64ArrayAttr:$padding,
  DenseI64ArrayAttr:$dilations,
  DefaultValuedAttr<I64Attr, "1">:$groups);

defvar QFuse_ConvDescription = [{
  Attributes, for `S` spatial dimensions (`S` = 1, 2 or 3):

  * `strides`, `dilations`: `S` positive integers;
  * `padding`: `2*S` non-negative integers, all begins then all ends
    (`[h_begin, w_begin, h_end, w_end]` in 2-D), as ONNX `pads`;
  * `groups`: positive, divides both channel counts; `groups == Cin` with
    one input channel per group is a depthwise convolution.
}];

defvar QFuse_ActivationDescription = [{
  The fused activation (`activation`) is applied to the result: `none`,
  `relu` (max(x, 0)), or `clamp` (min(max(x, clamp_min), clamp_max), e.g.
  ReLU6 / Hardtanh); `clamp_min` and `clamp_max` are present exactly when the
  activation is `clamp`.
}];

//===----------------------------------------------------------------------===//
// ConvOp
//===----------------------------------------------------------------------===//

def QFuse_ConvOp : QFuse_Op<"conv", [Pure]> {
  let summary = "N-D convolution with optional bias and fused activation";
  let description = !strconcat([{
    Cross-correlation over 1, 2 or 3 spatial dimensions, as
    `torch.nn.functional.conv{1,2,3}d` / ONNX `Conv`:
    input `[N, Cin, D...]`, weight `[Cout, Cin/groups, K...]`, optional bias
    `[Cout]`, result `[N, Cout, O...]` with
    `O = floor((D + pad_begin + pad_end - dilation*(K-1) - 1) / stride) + 1`.

  }], QFuse_ConvDescription, QFuse_ActivationDescription, [{

    With a folded bias and `activation = relu` this op is qfuse's PTQ result
    for conv → batch_norm → relu (PyTorch's `ConvReLU2d`).

    Example:

    ```mlir
    %y = qfuse.conv %x, %w, %b {strides = array<i64: 2, 2>,
           padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
           activation = #qfuse.activation<relu>}
         : (tensor<1x3x224x224xf32>, tensor<64x3x3x3xf32>, tensor<64xf32>)
           -> tensor<1x64x112x112xf32>
    ```
  }]);
  let arguments = !con((ins QFuse_FloatTensor:$input,
                            QFuse_FloatTensor:$weight,
                            Optional<QFuse_Float1DTensor>:$bias),
                       QFuse_ConvArgs, QFuse_ActivationArgs);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of spatial dimensions (1, 2 or 3).
    int64_t getNumSpatialDims() { return getInput().getType().getRank() - 2; }
  }];
}

//===----------------------------------------------------------------------===//
// ConvTransposeOp
//===----------------------------------------------------------------------===//

def QFuse_ConvTransposeOp : QFuse_Op<"conv_transpose", [Pure]> {
  let summary = "N-D transposed convolution with optional bias and fused activation";
  let description = !strconcat([{
    The gradient of convolution with respect to its input, as
    `torch.nn.functional.conv_transpose{1,2,3}d` / ONNX `ConvTranspose`:
    input `[N, Cin, D...]`, weight `[Cin, Cout/groups, K...]` (note: input
    channels first), optional bias `[Cout]`, result `[N, Cout, O...]` with
    `O = (D-1)*stride - pad_begin - pad_end + dilation*(K-1) + output_padding + 1`.
    Output channel `o = g*(Cout/groups) + j` reads weight rows
    `g*(Cin/groups) .. (g+1)*(Cin/groups)-1`, column `j`.

  }], QFuse_ConvDescription, [{
  * `output_padding`: `S` integers, each smaller than its stride or its
    dilation (as in PyTorch).

  }], QFuse_ActivationDescription, [{

    Example:

    ```mlir
    %y = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>,
           padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
           output_padding = array<i64: 1, 1>, groups = 2 : i64}
         : (tensor<1x8x16x16xf32>, tensor<8x2x3x3xf32>) -> tensor<1x4x32x32xf32>
    ```
  }]);
  let arguments = !con((ins QFuse_FloatTensor:$input,
                            QFuse_FloatTensor:$weight,
                            Optional<QFuse_Float1DTensor>:$bias),
                       QFuse_ConvArgs,
                       (ins DenseI64ArrayAttr:$output_padding),
                       QFuse_ActivationArgs);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumSpatialDims() { return getInput().getType().getRank() - 2; }
  }];
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

def QFuse_LinearOp : QFuse_Op<"linear", [Pure]> {
  let summary = "fully connected layer x·Wᵀ + b with fused activation";
  let description = !strconcat([{
    `torch.nn.functional.linear`: input `[N, Cin]`, weight `[Cout, Cin]`,
    optional bias `[Cout]`, result `[N, Cout]`. The feature axis of the result
    is axis 1, which is where a following `qfuse.batch_norm` (BatchNorm1d)
    normalises.

  }], QFuse_ActivationDescription, [{

    Example:

    ```mlir
    %y = qfuse.linear %x, %w, %b {activation = #qfuse.activation<relu>}
         : (tensor<8x512xf32>, tensor<10x512xf32>, tensor<10xf32>) -> tensor<8x10xf32>
    ```
  }]);
  let arguments = !con((ins 2DTensorOf<[F16, BF16, F32, F64]>:$input,
                            2DTensorOf<[F16, BF16, F32, F64]>:$weight,
                            Optional<QFuse_Float1DTensor>:$bias),
                       QFuse_ActivationArgs);
  let results = (outs 2DTensorOf<[F16, BF16, F32, F64]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// BatchNormOp
//===----------------------------------------------------------------------===//

def QFuse_BatchNormOp : QFuse_Op<"batch_norm",
    [Pure, AttrSizedOperandSegments, AllTypesMatch<["input", "output"]>]> {
  let summary = "inference-mode batch normalisation over channel axis 1";
  let description = [{
    `y = (x - mean) / sqrt(variance + epsilon) * scale + offset`, per channel
    of axis 1, with the running statistics `mean` and `variance` (PyTorch
    `BatchNorm{1,2,3}d` in eval mode, ONNX `BatchNormalization` inference).
    `scale` (γ) and `offset` (β) are absent for `affine=False` and then mean 1
    and 0. `epsilon` is required: qfuse never assumes 1e-5.

    All of `mean`, `variance`, `scale`, `offset` are 1-D with one entry per
    channel and the element type of the input.

    Example:

    ```mlir
    %y = qfuse.batch_norm %x, %mean, %var scale(%g) offset(%b)
           {epsilon = 1.0e-05 : f64}
         : tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>,
           tensor<64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins QFuse_FloatTensor:$input,
                       QFuse_Float1DTensor:$mean,
                       QFuse_Float1DTensor:$variance,
                       Optional<QFuse_Float1DTensor>:$scale,
                       Optional<QFuse_Float1DTensor>:$offset,
                       F64Attr:$epsilon);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $mean `,` $variance (`scale` `(` $scale^ `)`)?
    (`offset` `(` $offset^ `)`)? attr-dict `:` type($input) `,` type($mean)
    `,` type($variance) (`,` type($scale)^)? (`,` type($offset)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def QFuse_ReluOp : QFuse_Op<"relu", [Pure, SameOperandsAndResultType]> {
  let summary = "rectified linear unit max(x, 0)";
  let description = [{
    Elementwise `max(x, 0)`; NaN propagates (as `torch.relu`).

    Example:

    ```mlir
    %y = qfuse.relu %x : tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins QFuse_FloatTensor:$input);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def QFuse_ClampOp : QFuse_Op<"clamp", [Pure, SameOperandsAndResultType]> {
  let summary = "clamp to [min, max] (ReLU6, Hardtanh)";
  let description = [{
    Elementwise `min(max(x, min), max)`; `min <= max`, neither NaN.
    ReLU6 is `min = 0, max = 6`.

    Example:

    ```mlir
    %y = qfuse.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x32x112x112xf32>
    ```
  }];
  let arguments = (ins QFuse_FloatTensor:$input, F64Attr:$min, F64Attr:$max);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// FakeQuantOp
//===----------------------------------------------------------------------===//

def QFuse_FakeQuantOp : QFuse_Op<"fake_quant",
    [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "quantize then dequantize, per tensor or per channel";
  let description = [{
    `q = round_half_even(x / scale) + zero_point`,
    `y = (clamp(q, quant_min, quant_max) - zero_point) * scale`.

    qfuse divides by the scale, as ONNX `QuantizeLinear` does (PyTorch's CPU
    kernel multiplies by `1/scale`; the two can differ by one step on inputs
    next to a rounding tie; see docs/Numerics.md).

    Without `axis` the op is per tensor: `scale` and `zero_point` hold one
    element (rank 0 or shape `[1]`). With `axis`, `scale` and `zero_point` are
    1-D with one entry per slice of that axis. `scale` and `zero_point` may be
    constants or values computed at run time; when they are constants the
    verifier checks `scale > 0` and `quant_min <= zero_point <= quant_max`.

    Example (per-channel int8 weight quantization):

    ```mlir
    %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64,
            quant_min = -127 : i64, quant_max = 127 : i64}
          : (tensor<64x3x3x3xf32>, tensor<64xf32>, tensor<64xi32>) -> tensor<64x3x3x3xf32>
    ```
  }];
  let arguments = (ins QFuse_FloatTensor:$input,
                       QFuse_ScaleTensor:$scale,
                       QFuse_ZeroPointTensor:$zero_point,
                       OptionalAttr<I64Attr>:$axis,
                       I64Attr:$quant_min,
                       I64Attr:$quant_max);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isPerChannel() { return getAxis().has_value(); }
  }];
}

//===----------------------------------------------------------------------===//
// QatConvBnOp
//===----------------------------------------------------------------------===//

def QFuse_QatConvBnOp : QFuse_Op<"qat_conv_bn",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "QAT form: conv (or linear) + batch-norm (+ activation) kept apart";
  let description = !strconcat([{
    The quantization-aware-training form of conv → batch_norm (→ activation),
    as PyTorch's `ConvBn2d` / `ConvBnReLU2d` / `LinearBn1d` (the default
    "approximate" path). It keeps the batch-norm parameters and running
    statistics so training can go on, and fake-quantizes the weight as it will
    be deployed:

    ```
    k   = scale / sqrt(running_var + epsilon)
    w_q = fake_quant(weight * k)                 (along the output-channel axis)
    y   = conv(input, w_q) / k + bias
    z   = batch_norm(y)   train: batch statistics, frozen: running statistics
    out = activation(z)
    ```

    Results: the output, then the running mean and variance after this step
    (`mode = train`: `(1-momentum)*old + momentum*batch`, with the unbiased
    batch variance; `mode = frozen`: the inputs unchanged).

    The convolution is `qfuse.conv` when the weight has rank >= 3 and
    `transposed` is absent, `qfuse.conv_transpose` when `transposed` is set,
    and `qfuse.linear` when the weight has rank 2 (then `strides`,
    `padding`, `dilations` are empty and `groups` is 1). The weight
    fake-quant (`weight_scale`, `weight_zero_point`, `weight_quant_min`,
    `weight_quant_max`, `weight_axis`) is present as a whole or not at all.

  }], QFuse_ActivationDescription, [{

    Example:

    ```mlir
    %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) scale(%g) offset(%b)
        weight_quant(%s, %zp) {strides = array<i64: 1, 1>,
        padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
        output_padding = array<i64>, epsilon = 1.0e-05 : f64,
        momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>,
        weight_axis = 0 : i64, weight_quant_min = -128 : i64,
        weight_quant_max = 127 : i64, activation = #qfuse.activation<relu>}
      : (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>,
         tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>,
         tensor<32xi32>) -> (tensor<8x32x32x32xf32>, tensor<32xf32>, tensor<32xf32>)
    ```
  }]);
  let arguments = !con(
      (ins QFuse_FloatTensor:$input,
           QFuse_FloatTensor:$weight,
           Optional<QFuse_Float1DTensor>:$bias,
           QFuse_Float1DTensor:$running_mean,
           QFuse_Float1DTensor:$running_var,
           Optional<QFuse_Float1DTensor>:$scale,
           Optional<QFuse_Float1DTensor>:$offset,
           Optional<QFuse_ScaleTensor>:$weight_scale,
           Optional<QFuse_ZeroPointTensor>:$weight_zero_point,
           DenseI64ArrayAttr:$strides,
           DenseI64ArrayAttr:$padding,
           DenseI64ArrayAttr:$dilations,
           DefaultValuedAttr<I64Attr, "1">:$groups,
           DenseI64ArrayAttr:$output_padding,
           UnitAttr:$transposed,
           F64Attr:$epsilon,
           F64Attr:$momentum,
           QFuse_QatModeAttr:$mode,
           OptionalAttr<I64Attr>:$weight_axis,
           OptionalAttr<I64Attr>:$weight_quant_min,
           OptionalAttr<I64Attr>:$weight_quant_max),
      QFuse_ActivationArgs);
  let results = (outs QFuse_FloatTensor:$output,
                      QFuse_Float1DTensor:$new_running_mean,
                      QFuse_Float1DTensor:$new_running_var);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)?
    `stats` `(` $running_mean `,` $running_var `)`
    (`scale` `(` $scale^ `)`)? (`offset` `(` $offset^ `)`)?
    (`weight_quant` `(` $weight_scale^ `,` $weight_zero_point `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isLinear() { return getWeight().getType().getRank() == 2; }
    bool hasWeightQuant() { return getWeightScale() != nullptr; }
  }];
}

//===----------------------------------------------------------------------===//
// Integer deploy path: QuantizeOp, DequantizeOp, QConvOp, QLinearOp
//===----------------------------------------------------------------------===//

defvar QFuse_IntegerStorageDescription = [{
  Quantized tensors are stored as signless `i8`. Whether the bits hold int8
  or uint8 is said by the op that writes or reads them (`uint8`,
  `input_uint8`, `weight_uint8`, `output_uint8`), as in TOSA;
  zero points are integer tensors holding the zero point's value (ONNX uint8
  zero points are widened to i32 on import).
}];

def QFuse_QuantizeOp : QFuse_Op<"quantize", [Pure]> {
  let summary = "float to 8-bit integer, per tensor or per channel";
  let description = !strconcat([{
    `q = clamp(round_half_even(x / scale) + zero_point, quant_min, quant_max)`,
    computed exactly as `qfuse.fake_quant` computes its `q` (so
    `dequantize(quantize(x))` is `fake_quant(x)` bit for bit), then stored as
    `i8`: int8, or uint8 with `uint8`. `quant_min`/`quant_max` must lie in
    the storage's range ([-128, 127], or [0, 255] with `uint8`); narrower
    ranges (7-bit, symmetric [-127, 127]) are allowed. `scale` and
    `zero_point` follow `qfuse.fake_quant` (per tensor, or along `axis`).

  }], QFuse_IntegerStorageDescription, [{

    Example (ONNX QuantizeLinear to uint8):

    ```mlir
    %q = qfuse.quantize %x, %s, %zp {quant_min = 0 : i64, quant_max = 255 : i64,
           uint8} : (tensor<1x3x8x8xf32>, tensor<f32>, tensor<i32>) -> tensor<1x3x8x8xi8>
    ```
  }]);
  let arguments = (ins QFuse_FloatTensor:$input,
                       QFuse_ScaleTensor:$scale,
                       QFuse_ZeroPointTensor:$zero_point,
                       OptionalAttr<I64Attr>:$axis,
                       I64Attr:$quant_min,
                       I64Attr:$quant_max,
                       UnitAttr:$uint8);
  let results = (outs QFuse_Int8Tensor:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def QFuse_DequantizeOp : QFuse_Op<"dequantize", [Pure]> {
  let summary = "8- or 32-bit integer to float, per tensor or per channel";
  let description = !strconcat([{
    `y = (q - zero_point) * scale`: the subtraction is exact (in i64), the
    difference is converted to the scale's float type and multiplied once,
    which for i8 input is exactly `qfuse.fake_quant`'s second half. The
    input is int8 (`i8`), uint8 (`i8` with `uint8`) or int32 (`i32`,
    e.g. an ONNX bias); the result has the scale's element type.

  }], QFuse_IntegerStorageDescription, [{

    Example:

    ```mlir
    %y = qfuse.dequantize %q, %s, %zp : (tensor<64x3x3x3xi8>, tensor<64xf32>,
           tensor<64xi32>) -> tensor<64x3x3x3xf32>
    ```
  }]);
  let arguments = (ins QFuse_Int8Or32Tensor:$input,
                       QFuse_ScaleTensor:$scale,
                       QFuse_ZeroPointTensor:$zero_point,
                       OptionalAttr<I64Attr>:$axis,
                       UnitAttr:$uint8);
  let results = (outs QFuse_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

// Operands and attributes shared by qfuse.qconv and qfuse.qlinear.
defvar QFuse_IntegerContractionArgs = (ins
  QFuse_Int8Tensor:$input,
  QFuse_Int8Tensor:$weight,
  Optional<QFuse_Int32_1DTensor>:$bias,
  QFuse_ZeroPointTensor:$input_zero_point,
  QFuse_ZeroPointTensor:$weight_zero_point,
  Optional<QFuse_ScaleTensor>:$input_scale,
  Optional<QFuse_ScaleTensor>:$weight_scale,
  Optional<QFuse_ScaleTensor>:$output_scale,
  Optional<QFuse_ZeroPointTensor>:$output_zero_point,
  UnitAttr:$input_uint8,
  UnitAttr:$weight_uint8,
  UnitAttr:$output_uint8,
  OptionalAttr<I64Attr>:$quant_min,
  OptionalAttr<I64Attr>:$quant_max);

defvar QFuse_IntegerContractionDescription = [{
  Integer semantics (`c` the output channel):

  ```
  acc[c] = sum (x - x_zp) * (w[c] - w_zp[c]) + bias[c]          exact, int32
  M[c]   = f64(input_scale) * f64(weight_scale[c]) / f64(output_scale)
  y      = clamp(round_half_even(f64(acc) * M[c]) + output_zp, lo, hi)
  ```

  Without `requantize(...)` the result is `acc` as `i32` (ONNX ConvInteger /
  MatMulInteger) and no activation is allowed. With it the result is `i8`
  (uint8 with `output_uint8`) and `[lo, hi]` is `[quant_min, quant_max]`
  narrowed by the fused activation, applied in the integer domain exactly
  as quantizing the activated float value would: `relu` raises `lo` to
  `output_zp`; `clamp(a, b)` narrows to `output_zp + round_half_even(a /
  output_scale)` .. `output_zp + round_half_even(b / output_scale)` (f32
  division, as `qfuse.quantize`). The multiplier is formed in f64 from the
  f32 scales (the product `sx*sw` is exact there) and rounded once by the
  division; `acc * M` rounds once more. Implementations that requantize in
  f32 (ONNX Runtime, oneDNN, PyTorch's quantized engines) can differ by one
  step where `acc * M` lies within f32 rounding of a half-way point; see
  docs/Numerics.md.

  Zero points: `input_zero_point` and `output_zero_point` hold one element;
  `weight_zero_point` one element or one per output channel, as
  `weight_scale`. `bias` is int32 at scale `input_scale * weight_scale[c]`
  with zero point 0 (ONNX QLinearConv's `B`).
}];

def QFuse_QConvOp : QFuse_Op<"qconv", [Pure, AttrSizedOperandSegments]> {
  let summary = "integer N-D convolution with requantize and fused activation";
  let description = !strconcat([{
    The integer form of `qfuse.conv` (ONNX QLinearConv, ConvInteger;
    PyTorch's quantized `ConvReLU2d`): input `[N, Cin, D...]` and weight
    `[Cout, Cin/groups, K...]` as 8-bit integers, geometry as `qfuse.conv`.
    Padding reads the input zero point (the real value 0).

  }], QFuse_ConvDescription, QFuse_IntegerContractionDescription,
  QFuse_IntegerStorageDescription, [{

    Example:

    ```mlir
    %y = qfuse.qconv %x, %w bias(%b) zero_points(%zx, %zw)
           requantize(%sx, %sw, %sy, %zy) {strides = array<i64: 1, 1>,
           padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
           input_uint8, output_uint8, quant_min = 0 : i64,
           quant_max = 255 : i64, activation = #qfuse.activation<relu>}
         : (tensor<1x16x8x8xi8>, tensor<32x16x3x3xi8>, tensor<32xi32>,
            tensor<i32>, tensor<32xi32>, tensor<f32>, tensor<32xf32>,
            tensor<f32>, tensor<i32>) -> tensor<1x32x8x8xi8>
    ```
  }]);
  let arguments = !con(QFuse_IntegerContractionArgs, QFuse_ConvArgs,
                       QFuse_ActivationArgs);
  let results = (outs QFuse_Int8Or32Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)?
    `zero_points` `(` $input_zero_point `,` $weight_zero_point `)`
    (`requantize` `(` $input_scale^ `,` $weight_scale `,` $output_scale `,`
      $output_zero_point `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumSpatialDims() { return getInput().getType().getRank() - 2; }
    bool hasRequantize() { return getOutputScale() != nullptr; }
  }];
}

def QFuse_QLinearOp : QFuse_Op<"qlinear", [Pure, AttrSizedOperandSegments]> {
  let summary = "integer fully connected layer with requantize and fused activation";
  let description = !strconcat([{
    The integer form of `qfuse.linear` (ONNX QLinearMatMul / MatMulInteger
    with a transposed right operand; PyTorch's quantized `Linear`): input
    `[N, Cin]`, weight `[Cout, Cin]`, result `[N, Cout]`.

  }], QFuse_IntegerContractionDescription, QFuse_IntegerStorageDescription, [{

    Example:

    ```mlir
    %y = qfuse.qlinear %x, %w zero_points(%zx, %zw)
           requantize(%sx, %sw, %sy, %zy) {quant_min = -128 : i64,
           quant_max = 127 : i64}
         : (tensor<4x64xi8>, tensor<10x64xi8>, tensor<i32>, tensor<i32>,
            tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<4x10xi8>
    ```
  }]);
  let arguments = !con(QFuse_IntegerContractionArgs, QFuse_ActivationArgs);
  let results = (outs RankedTensorOf<[I8, I32]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)?
    `zero_points` `(` $input_zero_point `,` $weight_zero_point `)`
    (`requantize` `(` $input_scale^ `,` $weight_scale `,` $output_scale `,`
      $output_zero_point `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool hasRequantize() { return getOutputScale() != nullptr; }
  }];
}

//===----------------------------------------------------------------------===//
// PrefetchOp (kernel-level)
//===----------------------------------------------------------------------===//

def QFuse_PrefetchOp : QFuse_Op<"prefetch",
    [DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "cache hint: fetch the line of one tensor element early";
  let description = [{
    Asks the cache hierarchy to fetch the line that holds `source[indices]`
    of the tensor's buffer (read intent, data cache, `locality` 0 to 3 as
    `memref.prefetch`); it changes no value. The vector kernels of
    `convert-qfuse-to-vector` emit it on tensors, ahead of the reads of
    kernels that stream their input from memory; bufferization turns it into
    `memref.prefetch` on the tensor's buffer. Every index must lie inside
    the tensor (the kernels clamp them). It declares no memory effects: an
    op without results whose only effect is a read would be erased as dead.

    Example:

    ```mlir
    qfuse.prefetch %x[%r, %c, %l] {locality = 3 : i32} : tensor<112x112x8xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$source, Variadic<Index>:$indices,
                       ConfinedAttr<I32Attr, [IntMinValue<0>,
                                              IntMaxValue<3>]>:$locality);
  let assemblyFormat = [{
    $source `[` $indices `]` attr-dict `:` type($source)
  }];
  let hasVerifier = 1;
}

def QFuse_NontemporalWriteOp : QFuse_Op<"nontemporal_write",
    [AllElementTypesMatch<["value", "dest"]>,
     AllTypesMatch<["dest", "result"]>,
     DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "vector write that bypasses the caches where it can";
  let description = [{
    `dest` with the 1-D `value` written at `indices` along its innermost
    dimension (in bounds), as an in-bounds `vector.transfer_write`. It hints
    that the written lines will not be read again soon: bufferization emits
    a non-temporal `vector.store` (x86 `vmovntps`) when the address is
    aligned to the vector's size at run time, an ordinary store otherwise,
    so an unaligned buffer is written correctly too. Non-temporal stores are
    weakly ordered: the kernels that emit them end their parallel work
    items with a `qfuse.store_fence`. The channel-blocked depthwise kernel of
    `convert-qfuse-to-vector` writes its result this way when the layer
    streams more data than the caches hold, which saves each output line's
    read for ownership.

    Example:

    ```mlir
    %r = qfuse.nontemporal_write %v, %t[%i, %j, %c0]
           : vector<8xf32> into tensor<56x56x8xf32>
    ```
  }];
  let arguments = (ins VectorOfRank<[1]>:$value, AnyRankedTensor:$dest,
                       Variadic<Index>:$indices);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $value `,` $dest `[` $indices `]` attr-dict `:` type($value) `into`
    type($dest)
  }];
  let hasVerifier = 1;
}

def QFuse_StoreFenceOp : QFuse_Op<"store_fence",
    [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "orders this thread's earlier non-temporal stores";
  let description = [{
    Every store of this thread before the fence, non-temporal ones included,
    is visible to other threads before any store after it (a store fence;
    the release of a later barrier is such a store). Kernels that write
    with `qfuse.nontemporal_write` end each parallel work item with one,
    since such stores are weakly ordered. `qfuse-lower-dot-pairs` lowers it
    to x86 `sfence` for an x86 target (an x86 `isa`, or an x86 host), else
    to `llvm.fence seq_cst`.

    Example:

    ```mlir
    qfuse.store_fence
    ```
  }];
  let assemblyFormat = "attr-dict";
}

//===----------------------------------------------------------------------===//
// DotPairsOp (kernel-level)
//===----------------------------------------------------------------------===//

def QFuse_DotPairsOp : QFuse_Op<"dot_pairs",
    [Pure, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "pairwise int16 products summed into int32 lanes (vpmaddwd)";
  let description = [{
    `result[i] = lhs[2i]·rhs[2i] + lhs[2i+1]·rhs[2i+1]`, each product and
    the sum exact in i32 (as x86 `vpmaddwd`, which wraps only for the one
    input -32768·-32768·2). The integer vector kernels of
    `convert-qfuse-to-vector` emit it; `qfuse-lower-dot-pairs` lowers it to
    the AVX2 instruction or to portable vector ops. It is a vector-level op
    and has no tensor semantics.

    Example:

    ```mlir
    %d = qfuse.dot_pairs %a, %b : vector<16xi16> -> vector<8xi32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I16]>:$lhs,
                       VectorOfRankAndType<[1], [I16]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def QFuse_DotQuadsOp : QFuse_Op<"dot_quads",
    [Pure, AllTypesMatch<["lhs", "rhs"]>, AllTypesMatch<["acc", "result"]>]> {
  let summary = "uint8 x int8 quads summed into int32 lanes (vpdpbusd)";
  let description = [{
    `result[i] = acc[i] + sum_{j<4} u8(lhs[4i+j]) · s8(rhs[4i+j])`, exact
    in i32 (wrapping only if `acc` does): the VNNI `vpdpbusd` semantics. The
    integer vector kernels emit it with the weights packed 4 input channels
    per output lane. `pairs_fit_i16` promises that every adjacent pair sum
    `u8·s8 + u8'·s8'` lies in int16, which makes the AVX2 form
    (`vpmaddubsw`, `vpmaddwd` by ones, add) exact; `qfuse-lower-dot-pairs`
    uses it only then, `vpdpbusd` on VNNI targets, portable ops otherwise.

    Example:

    ```mlir
    %r = qfuse.dot_quads %acc, %x, %w {pairs_fit_i16}
           : vector<8xi32>, vector<32xi8>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc,
                       VectorOfRankAndType<[1], [I8]>:$lhs,
                       VectorOfRankAndType<[1], [I8]>:$rhs,
                       UnitAttr:$pairs_fit_i16);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $lhs `,` $rhs attr-dict `:` type($acc) `,` type($lhs)
  }];
  let hasVerifier = 1;
}

def QFuse_PairSumsOp : QFuse_Op<"pair_sums",
    [Pure, AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "adjacent-lane f32 sums of two vectors, in vhaddps order";
  let description = [{
    With `c` the 16 lanes of `lhs` then `rhs`, lane `l` of the result is
    `c[2q] + c[2q+1]` for `q = (0 1 4 5 2 3 6 7)[l]`: within each 128-bit
    half, the pair sums of `lhs` then those of `rhs` (x86 `vhaddps`). The
    depthwise stride-2 kernel of `convert-qfuse-to-vector` emits it;
    `qfuse-lower-dot-pairs` lowers it to `vhaddps` from AVX2 up and to two
    shuffles and an add otherwise. (As shuffles and an add, LLVM moves the
    kernel's final lane permute into both shuffles, each then a cross-lane
    permute.) It is a vector-level op and has no tensor semantics.

    Example:

    ```mlir
    %s = qfuse.pair_sums %a, %b : vector<8xf32>
    ```
  }];
  let arguments = (ins VectorOfLengthAndType<[8], [F32]>:$lhs,
                       VectorOfLengthAndType<[8], [F32]>:$rhs);
  let results = (outs VectorOfLengthAndType<[8], [F32]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($result)
  }];
  let extraClassDeclaration = [{
    /// Lane l of the result is the pair laneOrder[l] of (lhs, rhs).
    static constexpr int64_t laneOrder[8] = {0, 1, 4, 5, 2, 3, 6, 7};
  }];
}

#endif // QFUSE_DIALECT_QFUSE_IR_QFUSEOPS_TD
