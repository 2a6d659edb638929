// Every batch-norm --fold-bn must NOT fold, and the remark (and, for unusable
// statistics, the warning) that explains why. Nothing may change.
// RUN: qfuse-opt %s --fold-bn -split-input-file --remarks-filter-missed=fold-bn --remark-format=emitRemark -verify-diagnostics | FileCheck %s

// The conv result has another user: folding would change what it sees.
// CHECK-LABEL: func @conv_multi_use
// CHECK: %[[C:.*]] = qfuse.conv
// CHECK: qfuse.batch_norm %[[C]]
// CHECK: return %[[C]]
func.func @conv_multi_use(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{batch-norm not folded: the qfuse.conv result has other users; folding would change what they see}}
  %1 = qfuse.batch_norm %0, %m, %m {epsilon = 1.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// The conv applies relu before the batch-norm: bn(relu(conv)) is not linear.
// CHECK-LABEL: func @conv_with_activation
// CHECK: qfuse.batch_norm
func.func @conv_with_activation(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{batch-norm not folded: the qfuse.conv applies a fused activation before the batch-norm}}
  %1 = qfuse.batch_norm %0, %m, %m {epsilon = 1.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// variance + eps <= 0: the statistics are unusable; warn, keep the op.
// CHECK-LABEL: func @negative_variance
// CHECK: qfuse.batch_norm
func.func @negative_variance(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-warning @+2 {{batch-norm not folded: variance + epsilon = -0.99999 <= 0 on channel 1}}
  // expected-remark @+1 {{batch-norm not folded: variance + epsilon = -0.99999 <= 0 on channel 1}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 1.0e-5 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// Non-finite statistics (a NaN mean): warn, keep the op.
// CHECK-LABEL: func @nan_mean
// CHECK: qfuse.batch_norm
func.func @nan_mean(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<[0.0, 0x7FC00000]> : tensor<2xf32>
  %v = arith.constant dense<1.0> : tensor<2xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-warning @+2 {{batch-norm not folded: non-finite batch-norm statistic on channel 1}}
  // expected-remark @+1 {{non-finite batch-norm statistic on channel 1}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 1.0e-5 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// The folded f16 weight would overflow (65504 is f16's largest finite value).
// CHECK-LABEL: func @f16_overflow
// CHECK: qfuse.batch_norm
func.func @f16_overflow(%x: tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16> {
  %w = arith.constant dense<60000.0> : tensor<2x2x1x1xf16>
  %m = arith.constant dense<0.0> : tensor<2xf16>
  %v = arith.constant dense<0.25> : tensor<2xf16>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf16>, tensor<2x2x1x1xf16>) -> tensor<1x2x4x4xf16>
  // expected-warning @+2 {{batch-norm not folded: a folded weight or bias overflows the element type}}
  // expected-remark @+1 {{overflows the element type}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 0.0 : f64} : tensor<1x2x4x4xf16>, tensor<2xf16>, tensor<2xf16>
  return %1 : tensor<1x2x4x4xf16>
}

// -----

// No conv-like neighbour at all.
// CHECK-LABEL: func @lonely
// CHECK: qfuse.batch_norm
func.func @lonely(%x: tensor<1x2x4x4xf32>, %m: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  // expected-remark @+1 {{batch-norm not folded: no conv, conv_transpose or linear producer, and no single conv or linear consumer}}
  %1 = qfuse.batch_norm %x, %m, %m {epsilon = 1.0e-5 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// BN before a padded conv with γ = 0 on a channel: no pad value reproduces
// the zero border (a·p + c = c ≠ 0 for every p).
// CHECK-LABEL: func @bn_before_padded_conv_zero_gamma
// CHECK: qfuse.batch_norm
// CHECK-NOT: tensor.pad
func.func @bn_before_padded_conv_zero_gamma(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<3x2x3x3xf32>
  %m = arith.constant dense<0.1> : tensor<2xf32>
  %v = arith.constant dense<4.0> : tensor<2xf32>
  %g = arith.constant dense<[1.0, 0.0]> : tensor<2xf32>
  // expected-remark @+1 {{batch-norm not folded: batch-norm scale is 0 on channel 1: the zero-padded border of the qfuse.conv cannot be reproduced by an explicit pad value}}
  %0 = qfuse.batch_norm %x, %m, %v scale(%g) {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  %1 = qfuse.conv %0, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  return %1 : tensor<1x3x4x4xf32>
}

// -----

// BN before a conv, but its output is also returned: the BN would stay.
// CHECK-LABEL: func @bn_before_conv_multi_use
// CHECK: qfuse.batch_norm
func.func @bn_before_conv_multi_use(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x3x2x2xf32>) {
  %w = arith.constant dense<0.5> : tensor<3x2x3x3xf32>
  %m = arith.constant dense<0.1> : tensor<2xf32>
  // expected-remark @+1 {{batch-norm not folded: no conv, conv_transpose or linear producer, and no single conv or linear consumer}}
  %0 = qfuse.batch_norm %x, %m, %m {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  %1 = qfuse.conv %0, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x2x2xf32>
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x3x2x2xf32>
}

// -----

// BN before a conv whose weights are run-time values.
// CHECK-LABEL: func @bn_before_runtime_conv
// CHECK: qfuse.batch_norm
func.func @bn_before_runtime_conv(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x3x2x2xf32> {
  %m = arith.constant dense<0.1> : tensor<2xf32>
  // expected-remark @+1 {{batch-norm not folded: folding a batch-norm into the following qfuse.conv needs constant statistics, weights and bias}}
  %0 = qfuse.batch_norm %x, %m, %m {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  %1 = qfuse.conv %0, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x2x2xf32>
  return %1 : tensor<1x3x2x2xf32>
}

// -----

// Through a weight fake_quant: negative k with an asymmetric range flips the
// clamp ends; not exact.
// CHECK-LABEL: func @fq_negative_k_asymmetric
// CHECK: qfuse.batch_norm
func.func @fq_negative_k_asymmetric(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.3> : tensor<2x2x1x1xf32>
  %s = arith.constant dense<0.1> : tensor<2xf32>
  %zp = arith.constant dense<0> : tensor<2xi32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<1.0> : tensor<2xf32>
  %g = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x2x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{negative batch-norm scale on channel 1 with an asymmetric quant range [-128, 127] or zero point 0}}
  %1 = qfuse.batch_norm %0, %m, %v scale(%g) {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// Through a weight fake_quant: a rounding tie. W = -1.9, s = 0.2 gives
// W/s = -9.5 in f32, which rounds to even, -10; after k = 3 the rescaled
// W·k / (s·k) evaluates to -9.499999 in f32 and rounds to -9. Mathematically
// the fold is exact; in f32 it is not. The data-dependent proof catches it.
// (Example found by search, see the commit that added it.)
// CHECK-LABEL: func @fq_rounding_tie
// CHECK: qfuse.batch_norm
func.func @fq_rounding_tie(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = arith.constant dense<-1.9> : tensor<1x1x1x1xf32>
  %s = arith.constant dense<0.2> : tensor<1xf32>
  %zp = arith.constant dense<0> : tensor<1xi32>
  %m = arith.constant dense<0.0> : tensor<1xf32>
  %v = arith.constant dense<1.0> : tensor<1xf32>
  %g = arith.constant dense<3.0> : tensor<1xf32>
  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xi32>) -> tensor<1x1x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  // expected-remark @+1 {{rescaled weight 0 of channel 0 lands on quantization step -9 instead of -10 (a rounding tie moved): not exact}}
  %1 = qfuse.batch_norm %0, %m, %v scale(%g) {epsilon = 0.0 : f64} : tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>
  return %1 : tensor<1x1x4x4xf32>
}

// -----

// Through a weight fake_quant whose scale is a run-time value.
// CHECK-LABEL: func @fq_runtime_scale
// CHECK: qfuse.batch_norm
func.func @fq_runtime_scale(%x: tensor<1x2x4x4xf32>, %s: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.3> : tensor<2x2x1x1xf32>
  %zp = arith.constant dense<0> : tensor<2xi32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<1.0> : tensor<2xf32>
  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x2x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{the weight fake_quant's input, scale or zero point is not a constant}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}
