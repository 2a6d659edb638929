// --fuse-activations: relu/clamp into conv, conv_transpose and linear.
// RUN: qfuse-opt %s --fuse-activations -split-input-file | FileCheck %s

// CHECK-LABEL: func @conv_relu
// CHECK: %[[C:.*]] = qfuse.conv %arg0, %arg1 {activation = #qfuse.activation<relu>, dilations
// CHECK-NEXT: return %[[C]]
func.func @conv_relu(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  %1 = qfuse.relu %0 : tensor<1x3x4x4xf32>
  return %1 : tensor<1x3x4x4xf32>
}

// -----

// CHECK-LABEL: func @conv_transpose_relu6
// CHECK: %[[C:.*]] = qfuse.conv_transpose %arg0, %arg1 {activation = #qfuse.activation<clamp>, clamp_max = 6.000000e+00 : f64, clamp_min = 0.000000e+00 : f64
// CHECK-NEXT: return %[[C]]
func.func @conv_transpose_relu6(%x: tensor<1x2x4x4xf32>, %w: tensor<2x3x2x2xf32>) -> tensor<1x3x8x8xf32> {
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x2x4x4xf32>, tensor<2x3x2x2xf32>) -> tensor<1x3x8x8xf32>
  %1 = qfuse.clamp %0 {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x3x8x8xf32>
  return %1 : tensor<1x3x8x8xf32>
}

// -----

// relu then clamp(-1, 6): the ranges intersect to relu6.
// CHECK-LABEL: func @linear_relu_then_clamp
// CHECK: %[[L:.*]] = qfuse.linear %arg0, %arg1 {activation = #qfuse.activation<clamp>, clamp_max = 6.000000e+00 : f64, clamp_min = 0.000000e+00 : f64}
// CHECK-NEXT: return %[[L]]
func.func @linear_relu_then_clamp(%x: tensor<2x3xf32>, %w: tensor<4x3xf32>) -> tensor<2x4xf32> {
  %0 = qfuse.linear %x, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %1 = qfuse.relu %0 : tensor<2x4xf32>
  %2 = qfuse.clamp %1 {min = -1.0 : f64, max = 6.0 : f64} : tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}

// -----

// Must NOT fuse: the conv result is also returned.
// CHECK-LABEL: func @conv_multi_use
// CHECK: %[[C:.*]] = qfuse.conv %arg0, %arg1 {dilations
// CHECK: %[[R:.*]] = qfuse.relu %[[C]]
// CHECK: return %[[C]], %[[R]]
func.func @conv_multi_use(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x1x1xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  %1 = qfuse.relu %0 : tensor<1x3x4x4xf32>
  return %0, %1 : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// -----

// Must NOT fuse: a relu after something that is not conv-like.
// CHECK-LABEL: func @relu_after_add
// CHECK: arith.addf
// CHECK: qfuse.relu
func.func @relu_after_add(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addf %x, %x : tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Must NOT fuse: clamp ranges that do not overlap (the result is constant).
// CHECK-LABEL: func @disjoint
// CHECK: qfuse.conv {{.*}}clamp_max = 1.000000e+00
// CHECK: qfuse.clamp
func.func @disjoint(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<clamp>, clamp_min = 0.0 : f64, clamp_max = 1.0 : f64} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  %1 = qfuse.clamp %0 {min = 2.0 : f64, max = 3.0 : f64} : tensor<1x3x4x4xf32>
  return %1 : tensor<1x3x4x4xf32>
}
