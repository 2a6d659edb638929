// Structure of every --fold-bn rewrite. Values are checked against PyTorch in
// fold-bn-numerics.py; here: which ops come out, with which operands.
// RUN: qfuse-opt %s --fold-bn -split-input-file --remarks-filter-passed=fold-bn --remark-format=emitRemark -verify-diagnostics | FileCheck %s

// Pattern: conv -> batch_norm -> relu becomes one conv with folded weight and
// bias and a fused relu (the ConvReLU2d PTQ form). Numbers: k = γ/sqrt(σ²+ε)
// = [2/2, -1/0.5] = [1, -2]; W' = W·k; b' = (0 - μ)·k + β.
// CHECK-LABEL: func @conv_bn_relu
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00]], {{\[}}[2.000000e+00]]], {{\[}}{{\[}}[-6.000000e+00]], {{\[}}[8.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[-4.000000e-01, -1.800000e+00]> : tensor<2xf32>
// CHECK: %[[C:.*]] = qfuse.conv %arg0, %[[W]], %[[B]] {activation = #qfuse.activation<relu>
// CHECK-NOT: qfuse.batch_norm
// CHECK-NOT: qfuse.relu
// CHECK: return %[[C]]
func.func @conv_bn_relu(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]],[[2.0]]],[[[3.0]],[[-4.0]]]]> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %v = arith.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %g = arith.constant dense<[2.0, -1.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{batch-norm folded with constant weights (computed in f64, rounded once)}}
  %1 = qfuse.batch_norm %0, %m, %v scale(%g) offset(%b) {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  %2 = qfuse.relu %1 : tensor<1x2x4x4xf32>
  return %2 : tensor<1x2x4x4xf32>
}

// -----

// Pattern: a weight shared by two convs is never mutated in place: each conv
// gets its own folded constant and the third user still sees the original.
// CHECK-LABEL: func @shared_weight
// CHECK-DAG: %[[ORIG:.*]] = arith.constant dense<1.000000e+00> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[W2:.*]] = arith.constant dense<2.000000e+00> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[W4:.*]] = arith.constant dense<4.000000e+00> : tensor<2x2x1x1xf32>
// CHECK-DAG: qfuse.conv %arg0, %[[W2]]
// CHECK-DAG: qfuse.conv %arg0, %[[W4]]
// CHECK: return {{.*}}, {{.*}}, %[[ORIG]]
func.func @shared_weight(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v1 = arith.constant dense<0.25> : tensor<2xf32>
  %v2 = arith.constant dense<0.0625> : tensor<2xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{batch-norm folded}}
  %1 = qfuse.batch_norm %0, %m, %v1 {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  %2 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{batch-norm folded}}
  %3 = qfuse.batch_norm %2, %m, %v2 {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  return %1, %3, %w : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>
}

// -----

// Pattern: linear -> BatchNorm1d without affine parameters, and the clamp
// (relu6) that follows fuses.
// CHECK-LABEL: func @linear_bn1d_relu6
// CHECK: %[[L:.*]] = qfuse.linear %arg0, %{{.*}}, %{{.*}} {activation = #qfuse.activation<clamp>, clamp_max = 6.000000e+00 : f64, clamp_min = 0.000000e+00 : f64}
// CHECK-NEXT: return %[[L]]
func.func @linear_bn1d_relu6(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x3xf32>
  %m = arith.constant dense<0.1> : tensor<2xf32>
  %v = arith.constant dense<1.0> : tensor<2xf32>
  %0 = qfuse.linear %x, %w : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
  // expected-remark @+1 {{batch-norm folded}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 1.0e-3 : f64} : tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>
  %2 = qfuse.clamp %1 {min = 0.0 : f64, max = 6.0 : f64} : tensor<4x2xf32>
  return %2 : tensor<4x2xf32>
}

// -----

// Pattern: batch_norm -> conv without padding: scale into the weights, shift
// into the bias, no pad.
// CHECK-LABEL: func @bn_before_conv
// CHECK-NOT: tensor.pad
// CHECK: qfuse.conv %arg0, %{{.*}}, %{{.*}} {dilations
// CHECK-NOT: qfuse.batch_norm
func.func @bn_before_conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<3x2x3x3xf32>
  %m = arith.constant dense<0.1> : tensor<2xf32>
  %v = arith.constant dense<4.0> : tensor<2xf32>
  // expected-remark @+1 {{batch-norm folded into the following op (scale into weights, shift into bias)}}
  %0 = qfuse.batch_norm %x, %m, %v {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  %1 = qfuse.conv %0, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x2x2xf32>
  return %1 : tensor<1x3x2x2xf32>
}

// -----

// Pattern: batch_norm -> padded conv: the input is padded explicitly with the
// per-channel value -c/a (= μ - β/a = μ here), the conv runs unpadded.
// CHECK-LABEL: func @bn_before_padded_conv
// CHECK: %[[PV:.*]] = arith.constant dense<[1.000000e-01, 3.000000e-01]> : tensor<2xf32>
// CHECK: %[[P:.*]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: ^bb0(%{{.*}}: index, %[[CH:.*]]: index, %{{.*}}: index, %{{.*}}: index):
// CHECK:   %[[E:.*]] = tensor.extract %[[PV]][%[[CH]]]
// CHECK:   tensor.yield %[[E]]
// CHECK: qfuse.conv %[[P]], %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>
func.func @bn_before_padded_conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<3x2x3x3xf32>
  %m = arith.constant dense<[0.1, 0.3]> : tensor<2xf32>
  %v = arith.constant dense<4.0> : tensor<2xf32>
  // expected-remark @+1 {{with an explicit per-channel pad value -c/a (exact under padding)}}
  %0 = qfuse.batch_norm %x, %m, %v {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>
  %1 = qfuse.conv %0, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  return %1 : tensor<1x3x4x4xf32>
}

// -----

// Pattern: through a per-channel weight fake_quant; the quant scale is
// rescaled by |k| and the weight by k (k = -2 on channel 1, symmetric range).
// CHECK-LABEL: func @through_weight_fake_quant
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.000000e-01, 4.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e-01]], {{\[}}[2.000000e-01]]], {{\[}}{{\[}}[-4.000000e-01]], {{\[}}[8.000000e-01]]]]> : tensor<2x2x1x1xf32>
// CHECK: %[[FQ:.*]] = qfuse.fake_quant %[[W]], %[[S]], %{{.*}} {axis = 0 : i64, quant_max = 127 : i64, quant_min = -127 : i64}
// CHECK: qfuse.conv %arg0, %[[FQ]], %{{.*}}
func.func @through_weight_fake_quant(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[0.1]],[[0.2]]],[[[0.2]],[[-0.4]]]]> : tensor<2x2x1x1xf32>
  %s = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %zp = arith.constant dense<0> : tensor<2xi32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<[1.0, 0.25]> : tensor<2xf32>
  %g = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x2x1x1xf32>
  %0 = qfuse.conv %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark @+1 {{batch-norm folded through the weight fake_quant}}
  %1 = qfuse.batch_norm %0, %m, %v scale(%g) {epsilon = 0.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// Pattern: run-time weights and statistics (function arguments): the fold is
// emitted as f64 arithmetic on the values, rounded once with truncf.
// CHECK-LABEL: func @runtime_conv_bn
// CHECK: %[[K:.*]]:2 = linalg.generic {{.*}} ins(%arg2, %arg3, %arg4, %arg5 : {{.*}}) outs(%{{.*}}, %{{.*}} : tensor<4xf64>, tensor<4xf32>)
// CHECK:   arith.extf
// CHECK:   math.rsqrt
// CHECK:   arith.truncf {{.*}} : f64 to f32
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%arg1, %[[K]]#0 : tensor<4x2x3x3xf32>, tensor<4xf64>)
// CHECK:   arith.mulf {{.*}} : f64
// CHECK: qfuse.conv %arg0, %[[W]], %[[K]]#1
func.func @runtime_conv_bn(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<1x4x3x3xf32> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x3x3xf32>
  // expected-remark @+1 {{batch-norm folded with run-time arithmetic in f64}}
  %1 = qfuse.batch_norm %0, %m, %v scale(%g) offset(%b) {epsilon = 1.0e-5 : f64} : tensor<1x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  return %1 : tensor<1x4x3x3xf32>
}

// -----

// Pattern: run-time conv_transpose with groups = 2: the scale factor of weight
// row r, column j is k[(r floordiv (Cin/g)) * (Cout/g) + j].
// CHECK: #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3) -> ((d0 floordiv 2) * 3 + d1)>
// CHECK-LABEL: func @runtime_conv_transpose_groups
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KMAP]], #{{.*}}]
func.func @runtime_conv_transpose_groups(%x: tensor<1x4x3x3xf32>, %w: tensor<4x3x2x2xf32>, %m: tensor<6xf32>, %v: tensor<6xf32>) -> tensor<1x6x4x4xf32> {
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, groups = 2 : i64} : (tensor<1x4x3x3xf32>, tensor<4x3x2x2xf32>) -> tensor<1x6x4x4xf32>
  // expected-remark @+1 {{batch-norm folded with run-time arithmetic}}
  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 1.0e-5 : f64} : tensor<1x6x4x4xf32>, tensor<6xf32>, tensor<6xf32>
  return %1 : tensor<1x6x4x4xf32>
}
