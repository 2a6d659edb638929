// Every verifier message of the qfuse dialect, reported at the op's location.
// RUN: qfuse-opt %s -split-input-file -verify-diagnostics

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf16>) {
  // expected-error @+1 {{'qfuse.conv' op expects weight element type 'f16' to match input element type 'f32'}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf16>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3xf32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{expects input of rank 3, 4 or 5 (N, C and 1 to 3 spatial dims), got rank 2}}
  %0 = qfuse.conv %x, %w {strides = array<i64>, padding = array<i64>, dilations = array<i64>} : (tensor<1x3xf32>, tensor<4x3xf32>) -> tensor<1x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+1 {{expects weight rank 3 to equal input rank 4}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects result rank 3 to equal input rank 4}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects strides to have 2 entries for 2 spatial dims, got 1}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects strides entries >= 1, got 0}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 0>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects dilations entries >= 1, got -1}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: -1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects padding to have 4 entries for 2 spatial dims, got 2}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects padding entries >= 0, got -1}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: -1, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects groups >= 1, got 0}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 0 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects groups (3) to divide the output channels (4)}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 3 : i64} : (tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects input channels (6) to equal weight dim 1 (3) times groups (1)}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{expects bias to have 4 elements (one per output channel), got 5}}
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects result batch size to be 1, got 2}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects result channels to be 4, got 3}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects result spatial dim 1 to be 6, got 8}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{spatial dim 0: the dilated kernel (3, dilation 1) does not fit the padded input (2)}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{clamp_min/clamp_max are only allowed with activation clamp}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>, clamp_min = 0.0 : f64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{activation clamp requires both clamp_min and clamp_max}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<clamp>, clamp_min = 0.0 : f64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{expects clamp_min (6) <= clamp_max (0)}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<clamp>, clamp_min = 6.0 : f64, clamp_max = 0.0 : f64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x8x4x4xf32>, %w: tensor<6x2x2x2xf32>) {
  // expected-error @+1 {{expects input channels (8) to equal weight dim 0 (6); a transposed-convolution weight is [Cin, Cout/groups, k...]}}
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x8x4x4xf32>, tensor<6x2x2x2xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x2x2xf32>) {
  // expected-error @+1 {{expects groups (3) to divide the input channels (8)}}
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, groups = 3 : i64} : (tensor<1x8x4x4xf32>, tensor<8x2x2x2xf32>) -> tensor<1x6x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x2x2xf32>) {
  // expected-error @+1 {{expects output_padding to have 2 entries for 2 spatial dims, got 1}}
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0>} : (tensor<1x8x4x4xf32>, tensor<8x2x2x2xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x2x2xf32>) {
  // expected-error @+1 {{expects output_padding[1] (2) to be smaller than its stride (2) or its dilation (1)}}
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 2>} : (tensor<1x8x4x4xf32>, tensor<8x2x2x2xf32>) -> tensor<1x2x9x10xf32>
  return
}

// -----

func.func @f(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x2x2xf32>) {
  // expected-error @+1 {{expects result spatial dim 0 to be 9, got 8}}
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 0>} : (tensor<1x8x4x4xf32>, tensor<8x2x2x2xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x8x4x4xf32>, %w: tensor<8x2x2x2xf32>) {
  // expected-error @+1 {{expects result channels to be 4, got 2}}
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, groups = 2 : i64} : (tensor<1x8x4x4xf32>, tensor<8x2x2x2xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x15xf32>) {
  // expected-error @+1 {{expects input features (16) to equal weight dim 1 (15)}}
  %0 = qfuse.linear %x, %w : (tensor<4x16xf32>, tensor<8x15xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{expects bias to have 8 elements (one per output feature), got 4}}
  %0 = qfuse.linear %x, %w, %b : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{expects result batch size to be 4, got 5}}
  %0 = qfuse.linear %x, %w : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<5x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{expects result features to be 8, got 9}}
  %0 = qfuse.linear %x, %w : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x9xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{expects bias element type 'bf16' to match input element type 'f32'}}
  %0 = qfuse.linear %x, %w, %b : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xbf16>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16x3xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{operand #0 must be 2D tensor}}
  %0 = qfuse.linear %x, %w : (tensor<4x16x3xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%x: tensor<4xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{expects input of rank >= 2 (N, C, ...), got rank 1}}
  %0 = qfuse.batch_norm %x, %m, %m {epsilon = 1.0e-5 : f64} : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<3xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{expects mean to have 4 elements (one per channel of input axis 1), got 3}}
  %0 = qfuse.batch_norm %x, %m, %v {epsilon = 1.0e-5 : f64} : tensor<2x4x3x3xf32>, tensor<3xf32>, tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<4xf32>, %v: tensor<5xf32>) {
  // expected-error @+1 {{expects variance to have 4 elements (one per channel of input axis 1), got 5}}
  %0 = qfuse.batch_norm %x, %m, %v {epsilon = 1.0e-5 : f64} : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<5xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<4xf32>, %g: tensor<2xf32>) {
  // expected-error @+1 {{expects scale to have 4 elements (one per channel of input axis 1), got 2}}
  %0 = qfuse.batch_norm %x, %m, %m scale(%g) {epsilon = 1.0e-5 : f64} : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<4xf32>, %g: tensor<4xf32>, %b: tensor<6xf32>) {
  // expected-error @+1 {{expects offset to have 4 elements (one per channel of input axis 1), got 6}}
  %0 = qfuse.batch_norm %x, %m, %m scale(%g) offset(%b) {epsilon = 1.0e-5 : f64} : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<6xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<4xf16>) {
  // expected-error @+1 {{expects mean element type 'f16' to match input element type 'f32'}}
  %0 = qfuse.batch_norm %x, %m, %m {epsilon = 1.0e-5 : f64} : tensor<2x4x3x3xf32>, tensor<4xf16>, tensor<4xf16>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{expects epsilon to be finite and non-negative, got -1e-05}}
  %0 = qfuse.batch_norm %x, %m, %m {epsilon = -1.0e-5 : f64} : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4x3x3xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{requires attribute 'epsilon'}}
  %0 = qfuse.batch_norm %x, %m, %m : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects min (6) <= max (0)}}
  %0 = qfuse.clamp %x {min = 6.0 : f64, max = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<4xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %0 = qfuse.relu %x : tensor<4xi32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<f32>, %z: tensor<i32>) {
  // expected-error @+1 {{expects quant_min (127) to be less than quant_max (127)}}
  %0 = qfuse.fake_quant %x, %s, %z {quant_min = 127 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<f32>, tensor<i32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<4xf32>, %z: tensor<2xi32>) {
  // expected-error @+1 {{expects scale and zero_point to have the same shape}}
  %0 = qfuse.fake_quant %x, %s, %z {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2xi32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<4xf32>, %z: tensor<4xi32>) {
  // expected-error @+1 {{expects axis 2 to lie in [0, 2)}}
  %0 = qfuse.fake_quant %x, %s, %z {axis = 2 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<1x4xf32>, %z: tensor<1x4xi32>) {
  // expected-error @+1 {{per-channel scale must be 1-D, got rank 2}}
  %0 = qfuse.fake_quant %x, %s, %z {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<1x4xf32>, tensor<1x4xi32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<3xf32>, %z: tensor<3xi32>) {
  // expected-error @+1 {{expects per-channel scale of 4 elements (size of axis 1), got 3}}
  %0 = qfuse.fake_quant %x, %s, %z {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<3xf32>, tensor<3xi32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<4xf32>, %z: tensor<4xi32>) {
  // expected-error @+1 {{per-tensor scale must hold exactly one element (rank 0 or shape [1]); set axis for per-channel quantization}}
  %0 = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  %s = arith.constant dense<[0.5, 0.0, 1.0, 2.0]> : tensor<4xf32>
  %z = arith.constant dense<0> : tensor<4xi32>
  // expected-error @+1 {{expects scale > 0 and finite, got 0}}
  %0 = qfuse.fake_quant %x, %s, %z {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<300> : tensor<i32>
  // expected-error @+1 {{expects zero_point 300 to lie in [0, 255]}}
  %0 = qfuse.fake_quant %x, %s, %z {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<2x4xf32>, tensor<f32>, tensor<i32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %s: tensor<f32>, %z: tensor<f32>) {
  // expected-error @+1 {{operand #2 must be ranked tensor of signless integer values}}
  %0 = qfuse.fake_quant %x, %s, %z {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<2x4xf32>, tensor<f32>, tensor<f32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%x: tensor<4x16x2xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{with a rank-2 (linear) weight expects input and result of rank 2}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16x2xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{with a rank-2 (linear) weight expects empty strides/padding/dilations/output_padding, groups = 1 and no 'transposed'}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64: 1>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<6xf32>) {
  // expected-error @+1 {{expects running_mean to have 8 elements (one per output channel), got 6}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<4x8xf32>, tensor<6xf32>, tensor<6xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{expects the updated running statistics to have the types of running_mean and running_var}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<?xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{expects momentum in [0, 1], got 1.5}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.5 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{expects epsilon to be finite and non-negative, got -1}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = -1.0 : f64, momentum = 0.1 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>, %s: tensor<f32>, %z: tensor<i32>) {
  // expected-error @+1 {{expects the weight fake-quant as a whole (weight_scale, weight_zero_point, weight_quant_min, weight_quant_max) or not at all}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) weight_quant(%s, %z) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>, tensor<i32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>, %s: tensor<f32>, %z: tensor<i32>) {
  // expected-error @+1 {{expects weight_quant_min (5) to be less than weight_quant_max (-5)}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) weight_quant(%s, %z) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>, weight_quant_min = 5 : i64, weight_quant_max = -5 : i64} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>, tensor<f32>, tensor<i32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>, %s: tensor<4xf32>, %z: tensor<4xi32>) {
  // expected-error @+1 {{expects per-channel weight_scale of 8 elements (size of axis 0), got 4}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) weight_quant(%s, %z) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>, weight_axis = 0 : i64, weight_quant_min = -127 : i64, weight_quant_max = 127 : i64} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4xf32>, tensor<4xi32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{output_padding is only allowed on a transposed convolution}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{expects result spatial dim 0 to be 6, got 8}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @f(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{activation clamp requires both clamp_min and clamp_max}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>, activation = #qfuse.activation<clamp>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<1x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{in train mode needs more than one value per channel for the batch statistics (N x spatial = 1)}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<1x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<1x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<4xf32>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  // expected-error @+1 {{'qfuse.quantize' op expects quant_min/quant_max [0, 255] to lie in the int8 range [-128, 127] (set uint8 for unsigned storage)}}
  %0 = qfuse.quantize %x, %s, %z {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<4xi8>
  return
}

// -----

func.func @f(%x: tensor<4xf32>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<300> : tensor<i32>
  // expected-error @+1 {{'qfuse.quantize' op expects zero_point 300 to lie in [0, 255]}}
  %0 = qfuse.quantize %x, %s, %z {quant_min = 0 : i64, quant_max = 255 : i64, uint8} : (tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<4xi8>
  return
}

// -----

func.func @f(%q: tensor<4xi32>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  // expected-error @+1 {{'qfuse.dequantize' op uint8 applies to i8 input only, got 'i32'}}
  %0 = qfuse.dequantize %q, %s, %z {uint8} : (tensor<4xi32>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%q: tensor<4xi8>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  // expected-error @+1 {{'qfuse.dequantize' op expects the result element type 'f16' to be the scale's element type 'f32'}}
  %0 = qfuse.dequantize %q, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i32>) -> tensor<4xf16>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<8x4x3x3xi8>, %z: tensor<i32>) {
  // expected-error @+1 {{'qfuse.qconv' op a fused activation needs requantize (the i32 accumulator has no output scale)}}
  %0 = qfuse.qconv %x, %w zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>) -> tensor<1x8x6x6xi32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<8x4x3x3xi8>, %z: tensor<i32>) {
  // expected-error @+1 {{'qfuse.qconv' op without requantize produces the i32 accumulator, got result element type 'i8'}}
  %0 = qfuse.qconv %x, %w zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>) -> tensor<1x8x6x6xi8>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<8x4x3x3xi8>, %z: tensor<i32>, %s: tensor<f32>, %sw: tensor<4xf32>) {
  // expected-error @+1 {{'qfuse.qconv' op expects weight_scale to hold one element or 8 (one per output channel), got 4}}
  %0 = qfuse.qconv %x, %w zero_points(%z, %z) requantize(%s, %sw, %s, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x8x6x6xi8>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<8x4x3x3xi8>, %z: tensor<i32>, %s: tensor<f32>) {
  %zx = arith.constant dense<-3> : tensor<i32>
  // expected-error @+1 {{'qfuse.qconv' op expects input_zero_point -3 to lie in [0, 255]}}
  %0 = qfuse.qconv %x, %w zero_points(%zx, %z) requantize(%s, %s, %s, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, input_uint8, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<1x8x6x6xi8>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<8x4x3x3xi8>, %z: tensor<i32>, %s: tensor<f32>) {
  // expected-error @+1 {{'qfuse.qconv' op with requantize needs quant_min and quant_max}}
  %0 = qfuse.qconv %x, %w zero_points(%z, %z) requantize(%s, %s, %s, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<1x8x6x6xi8>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xi8>, %w: tensor<8x4x3x3xi8>, %z: tensor<i32>) {
  // expected-error @+1 {{'qfuse.qconv' op expects result spatial dim 0 to be 6, got 7}}
  %0 = qfuse.qconv %x, %w zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>) -> tensor<1x8x7x6xi32>
  return
}

// -----

func.func @f(%x: tensor<2x5xi8>, %w: tensor<3x4xi8>, %z: tensor<i32>) {
  // expected-error @+1 {{'qfuse.qlinear' op expects input features (5) to equal weight dim 1 (4)}}
  %0 = qfuse.qlinear %x, %w zero_points(%z, %z) : (tensor<2x5xi8>, tensor<3x4xi8>, tensor<i32>, tensor<i32>) -> tensor<2x3xi32>
  return
}

// -----

func.func @f(%a: vector<16xi16>) {
  // expected-error @+1 {{'qfuse.dot_pairs' op expects both operands to have twice the result's 4 lanes}}
  %0 = qfuse.dot_pairs %a, %a : vector<16xi16> -> vector<4xi32>
  return
}

// -----

func.func @f(%a: vector<4xf32>) {
  // expected-error @+1 {{'qfuse.pair_sums' op operand #0 must be vector of 32-bit float values of length 8}}
  %0 = qfuse.pair_sums %a, %a : vector<4xf32>
  return
}

// -----

func.func @f(%t: tensor<4x8xf32>, %i: index) {
  // expected-error @+1 {{'qfuse.prefetch' op expects 2 indices, one per dimension of the source, got 1}}
  qfuse.prefetch %t[%i] {locality = 3 : i32} : tensor<4x8xf32>
  return
}

// -----

func.func @f(%t: tensor<4x8xf32>, %i: index) {
  // expected-error @+1 {{'qfuse.prefetch' op attribute 'locality' failed to satisfy constraint}}
  qfuse.prefetch %t[%i, %i] {locality = 4 : i32} : tensor<4x8xf32>
  return
}

// -----

func.func @f(%t: tensor<4x8xf32>, %v: vector<8xf32>, %i: index) {
  // expected-error @+1 {{'qfuse.nontemporal_write' op expects 2 indices, one per dimension of the destination, got 3}}
  %0 = qfuse.nontemporal_write %v, %t[%i, %i, %i] : vector<8xf32> into tensor<4x8xf32>
  return
}

// -----

func.func @f(%t: tensor<4x4xf32>, %v: vector<8xf32>, %i: index) {
  // expected-error @+1 {{'qfuse.nontemporal_write' op writes 8 elements along an innermost dimension of 4}}
  %0 = qfuse.nontemporal_write %v, %t[%i, %i] : vector<8xf32> into tensor<4x4xf32>
  return
}

// -----

func.func @f(%t: tensor<4x8xf32>, %v: vector<8xi32>, %i: index) {
  // expected-error @+1 {{'qfuse.nontemporal_write' op failed to verify that all of {value, dest} have same element type}}
  %0 = qfuse.nontemporal_write %v, %t[%i, %i] : vector<8xi32> into tensor<4x8xf32>
  return
}
