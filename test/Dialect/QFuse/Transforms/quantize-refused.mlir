// Every conv/linear --quantize must NOT make integer, and the remark that
// says why. Nothing may change.
// RUN: qfuse-opt %s --quantize -split-input-file --remarks-filter-missed=quantize --remark-format=emitRemark -verify-diagnostics | FileCheck %s

// The float result has a second user that needs it in float.
// CHECK-LABEL: func @two_users
// CHECK: qfuse.conv
// CHECK-NOT: qfuse.qconv
func.func @two_users(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x1x1xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %wc = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %xq = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  %wq = qfuse.fake_quant %wc, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x1x1xf32>
  // expected-remark @+1 {{qfuse.conv left in float: the result has 2 users; its only user must quantize it}}
  %y = qfuse.conv %xq, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  return %yq, %y : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// CHECK-LABEL: func @float_input
// CHECK-NOT: qfuse.qconv
func.func @float_input(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %wc = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %wq = qfuse.fake_quant %wc, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x1x1xf32>
  // expected-remark @+1 {{qfuse.conv left in float: the input is not quantized (no fake_quant or dequantize produces it)}}
  %y = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  return %yq : tensor<1x1x4x4xf32>
}

// -----

// A 16-bit output range does not fit the 8-bit storage.
// CHECK-LABEL: func @wide_range
// CHECK-NOT: qfuse.qconv
func.func @wide_range(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %wc = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %xq = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  %wq = qfuse.fake_quant %wc, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x1x1xf32>
  // expected-remark @+1 {{qfuse.conv left in float: the output quant range [-32768, 32767] does not fit 8 bits}}
  %y = qfuse.conv %xq, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -32768 : i64, quant_max = 32767 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  return %yq : tensor<1x1x4x4xf32>
}

// -----

// Weights that are a run-time argument cannot be quantized at compile time.
// CHECK-LABEL: func @runtime_weight
// CHECK-NOT: qfuse.qconv
func.func @runtime_weight(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %xq = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  %wq = qfuse.fake_quant %w, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x1x1xf32>
  // expected-remark @+1 {{qfuse.conv left in float: the weight, its scale or its zero point is not a constant}}
  %y = qfuse.conv %xq, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  return %yq : tensor<1x1x4x4xf32>
}

// -----

// A weight fake_quant per channel along the input-channel axis.
// CHECK-LABEL: func @weight_axis1
// CHECK-NOT: qfuse.qconv
func.func @weight_axis1(%x: tensor<1x2x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %s2 = arith.constant dense<0.1> : tensor<2xf32>
  %z2 = arith.constant dense<0> : tensor<2xi32>
  %wc = arith.constant dense<1.0> : tensor<1x2x1x1xf32>
  %xq = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x2x4x4xf32>
  %wq = qfuse.fake_quant %wc, %s2, %z2 {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x2x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<1x2x1x1xf32>
  // expected-remark @+1 {{qfuse.conv left in float: the weight fake_quant is per channel along axis 1 (only the output-channel axis 0 is supported)}}
  %y = qfuse.conv %xq, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x4x4xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  return %yq : tensor<1x1x4x4xf32>
}

// -----

// 127 · 255 · 72000 weights per output channel exceeds int32.
// CHECK-LABEL: func @accumulator_overflow
// CHECK-NOT: qfuse.qconv
func.func @accumulator_overflow(%x: tensor<1x8000x3x3xf32>) -> tensor<1x1x1x1xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %ws = arith.constant dense<0.01> : tensor<f32>
  %wc = arith.constant dense<1.27> : tensor<1x8000x3x3xf32>
  %xq = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x8000x3x3xf32>, tensor<f32>, tensor<i32>) -> tensor<1x8000x3x3xf32>
  %wq = qfuse.fake_quant %wc, %ws, %z {quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<1x8000x3x3xf32>, tensor<f32>, tensor<i32>) -> tensor<1x8000x3x3xf32>
  // expected-remark @+1 {{qfuse.conv left in float: the int32 accumulator of output channel 0 could overflow (bound 2.33172e+09)}}
  %y = qfuse.conv %xq, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8000x3x3xf32>, tensor<1x8000x3x3xf32>) -> tensor<1x1x1x1xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x1x1xf32>
  return %yq : tensor<1x1x1x1xf32>
}

// -----

// A bias of 1e9 at scale s_x·s_w = 1e-3 overflows int32.
// CHECK-LABEL: func @bias_overflow
// CHECK-NOT: qfuse.qlinear
func.func @bias_overflow(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %ws = arith.constant dense<0.01> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %wc = arith.constant dense<1.0> : tensor<1x2xf32>
  %b = arith.constant dense<1.0e9> : tensor<1xf32>
  %xq = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x2xf32>, tensor<f32>, tensor<i32>) -> tensor<1x2xf32>
  %wq = qfuse.fake_quant %wc, %ws, %z {quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<1x2xf32>, tensor<f32>, tensor<i32>) -> tensor<1x2xf32>
  // expected-remark @+1 {{qfuse.linear left in float: bias 0 (1e+09) overflows int32 at scale s_x*s_w = 0.001}}
  %y = qfuse.linear %xq, %wq, %b : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x1xf32>
  %yq = qfuse.fake_quant %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1xf32>
  return %yq : tensor<1x1xf32>
}

// -----

// quantize(dequantize(q)) stays when the quantize's range is narrower than
// what q can hold (it would clamp), or the scales differ.
// CHECK-LABEL: func @no_cancel
// CHECK: qfuse.dequantize
// CHECK: qfuse.quantize
// CHECK: qfuse.dequantize
// CHECK: qfuse.quantize
func.func @no_cancel(%q: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>) {
  %s = arith.constant dense<0.1> : tensor<f32>
  %s2 = arith.constant dense<0.2> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %f = qfuse.dequantize %q, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
  %a = qfuse.quantize %f, %s, %z {quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<4xi8>
  %g = qfuse.dequantize %q, %s2, %z : (tensor<4xi8>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
  %b = qfuse.quantize %g, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<4xi8>
  return %a, %b : tensor<4xi8>, tensor<4xi8>
}
