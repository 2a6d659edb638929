// After lowering, any qfuse op left is an error at its location.
// RUN: qfuse-opt %s --convert-qfuse-to-linalg --qfuse-check-lowered -split-input-file -verify-diagnostics

func.func @dynamic(%x: tensor<?x2x4x4xf32>, %w: tensor<3x2x1x1xf32>) -> tensor<?x3x4x4xf32> {
  // expected-error @+1 {{'qfuse.conv' is left after lowering: its lowering needs static shapes on every operand}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<?x3x4x4xf32>
  return %0 : tensor<?x3x4x4xf32>
}

// -----

func.func @qat_dynamic(%x: tensor<?x16xf32>, %w: tensor<8x16xf32>, %m: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qfuse.qat_conv_bn' is left after lowering: its lowering needs static shapes on every operand}}
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %m) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<frozen>} : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %y : tensor<?x8xf32>
}
