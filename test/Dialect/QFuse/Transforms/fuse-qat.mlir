// --fuse-qat: what becomes the QAT op, what must not, and the remarks.
// RUN: qfuse-opt %s --fuse-qat -split-input-file --remarks-filter=fuse-qat --remark-format=emitRemark -verify-diagnostics | FileCheck %s
// RUN: qfuse-opt %s --fuse-qat="mode=frozen momentum=0.25" -split-input-file | FileCheck %s --check-prefix=FROZEN

// fq(W) -> conv -> bn -> relu: one QAT op; the weight quant scale is
// rescaled by |k| = |γ|/sqrt(σ²+ε) = [1, 2] to apply to the scaled weight.
// CHECK-LABEL: func @fq_conv_bn_relu
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.000000e-01, 4.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<3.000000e-01> : tensor<2x2x1x1xf32>
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = qfuse.qat_conv_bn %arg0, %[[W]] stats(%{{.*}}, %{{.*}}) scale(%{{.*}}) weight_quant(%[[S]], %{{.*}}) {activation = #qfuse.activation<relu>, dilations = array<i64: 1, 1>, epsilon = 0.000000e+00 : f64, mode = #qfuse.qat_mode<train>, momentum = 1.000000e-01 : f64, output_padding = array<i64>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, weight_axis = 0 : i64, weight_quant_max = 127 : i64, weight_quant_min = -127 : i64}
// CHECK-NOT: qfuse.relu
// CHECK: return %[[Y]]
// FROZEN-LABEL: func @fq_conv_bn_relu
// FROZEN: mode = #qfuse.qat_mode<frozen>, momentum = 2.500000e-01 : f64
func.func @fq_conv_bn_relu(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<0.3> : tensor<2x2x1x1xf32>
  %s = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %zp = arith.constant dense<0> : tensor<2xi32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<[1.0, 0.25]> : tensor<2xf32>
  %g = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x2x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{conv and batch-norm kept as the QAT op}}
  %1 = qfuse.batch_norm %0, %m, %v scale(%g) {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  %2 = qfuse.relu %1 : tensor<1x2x4x4xf32>
  return %2 : tensor<1x2x4x4xf32>
}

// -----

// linear -> BN1d with run-time weights: no fake-quant, no rescaling needed.
// CHECK-LABEL: func @linear_bn
// CHECK: qfuse.qat_conv_bn %arg0, %arg1 bias(%arg2) stats(%arg3, %arg4) {dilations = array<i64>, epsilon = 1.000000e-03 : f64
func.func @linear_bn(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> tensor<4x2xf32> {
  %0 = qfuse.linear %x, %w, %b : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  // expected-remark @+1 {{conv and batch-norm kept as the QAT op}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 1.0e-3 : f64} : tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// conv_transpose -> BN: the QAT op is marked transposed.
// CHECK-LABEL: func @conv_transpose_bn
// CHECK: qfuse.qat_conv_bn {{.*}}groups = 2 : i64{{.*}}output_padding = array<i64: 1, 1>{{.*}}transposed
func.func @conv_transpose_bn(%x: tensor<1x4x3x3xf32>, %w: tensor<4x3x2x2xf32>, %m: tensor<6xf32>, %v: tensor<6xf32>) -> tensor<1x6x7x7xf32> {
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x2x2xf32>) -> tensor<1x6x7x7xf32>
  // expected-remark @+1 {{conv and batch-norm kept as the QAT op}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 1.0e-5 : f64} : tensor<1x6x7x7xf32>, tensor<6xf32>, tensor<6xf32>
  return %1 : tensor<1x6x7x7xf32>
}

// -----

// The BN output is used elsewhere too: fused, but the relu stays outside
// (taking it in would change what the other user sees).
// CHECK-LABEL: func @bn_multi_use
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = qfuse.qat_conv_bn
// CHECK-NOT: activation
// CHECK: %[[R:.*]] = qfuse.relu %[[Y]]
// CHECK: return %[[Y]], %[[R]]
func.func @bn_multi_use(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>, %m: tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{conv and batch-norm kept as the QAT op}}
  %1 = qfuse.batch_norm %0, %m, %m {epsilon = 1.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  %2 = qfuse.relu %1 : tensor<1x2x4x4xf32>
  return %1, %2 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Must NOT fuse: the conv result has another user.
// CHECK-LABEL: func @conv_multi_use
// CHECK-NOT: qat_conv_bn
func.func @conv_multi_use(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>, %m: tensor<2xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused into a QAT op: the qfuse.conv result has other users}}
  %1 = qfuse.batch_norm %0, %m, %m {epsilon = 1.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Must NOT fuse: the weight quant scale is a run-time value, so it cannot be
// rescaled to the batch-norm-scaled weight.
// CHECK-LABEL: func @fq_runtime_scale
// CHECK-NOT: qat_conv_bn
func.func @fq_runtime_scale(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>, %s: tensor<2xf32>, %m: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %zp = arith.constant dense<0> : tensor<2xi32>
  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x2x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused into a QAT op: the weight fake_quant's scale is fitted to the unscaled weight; rescaling it to the batch-norm-scaled weight needs constant scale, zero point, variance and batch-norm scale}}
  %1 = qfuse.batch_norm %0, %m, %m {epsilon = 1.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// Must NOT fuse: per-tensor weight quant, but k differs between channels.
// CHECK-LABEL: func @fq_per_tensor_nonuniform
// CHECK-NOT: qat_conv_bn
func.func @fq_per_tensor_nonuniform(%x: tensor<1x2x4x4xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %zp = arith.constant dense<0> : tensor<i32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<[1.0, 4.0]> : tensor<2xf32>
  %wq = qfuse.fake_quant %w, %s, %zp {quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<2x2x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{not fused into a QAT op: per-tensor weight fake_quant with a batch-norm scale that differs between channels}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}
