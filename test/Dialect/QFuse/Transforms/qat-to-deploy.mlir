// --qat-to-deploy: a frozen QAT op becomes conv(x, fq(W·k), (b − μ)·k + β)
// with its activation; a train-mode one is an error.
// RUN: qfuse-opt %s --qat-to-deploy -split-input-file -verify-diagnostics | FileCheck %s

// k = γ/sqrt(σ²+ε) = [1, -2]; W·k; no conv bias, so b' = (0 - μ)·k + β
// = [-0.5 + 0.1, -2 + 0.2].
// CHECK-LABEL: func @frozen
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]], {{\[}}[2.000000e+00]]], {{\[}}{{\[}}[-6.000000e+00]], {{\[}}[8.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[-4.000000e-01, -1.800000e+00]> : tensor<2xf32>
// CHECK: %[[FQ:.*]] = qfuse.fake_quant %[[W]], %{{.*}}, %{{.*}} {axis = 0 : i64, quant_max = 127 : i64, quant_min = -127 : i64}
// CHECK: %[[C:.*]] = qfuse.conv %arg0, %[[FQ]], %[[B]] {activation = #qfuse.activation<relu>
// CHECK: return %[[C]], %{{.*}}, %{{.*}}
func.func @frozen(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>) {
  %w = arith.constant dense<[[[[1.0]],[[2.0]]],[[[3.0]],[[-4.0]]]]> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %v = arith.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %g = arith.constant dense<[2.0, -1.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %s = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %zp = arith.constant dense<0> : tensor<2xi32>
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) scale(%g) offset(%b) weight_quant(%s, %zp) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64>, epsilon = 0.0 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<frozen>, weight_axis = 0 : i64, weight_quant_min = -127 : i64, weight_quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xi32>) -> (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>)
  return %y, %m1, %v1 : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// Run-time weights: the same arithmetic, in f64, as linalg.generic ops.
// CHECK-LABEL: func @frozen_runtime_linear
// CHECK: %[[K:.*]]:2 = linalg.generic
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%arg1, %[[K]]#0
// CHECK: qfuse.linear %arg0, %[[W]], %[[K]]#1
// CHECK: return %{{.*}}, %arg2, %arg3
func.func @frozen_runtime_linear(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<frozen>} : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  return %y, %m1, %v1 : tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

func.func @train(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{cannot convert a QAT op in train mode to the deploy form: its normalisation uses batch statistics and its running statistics still change; set mode = frozen first}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>} : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  return %y : tensor<4x2xf32>
}
