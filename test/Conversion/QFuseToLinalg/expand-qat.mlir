// qfuse-expand-qat: the QAT op becomes its pieces, the convolution on the
// fake-quantized scaled weight staying a qfuse.conv (for the vector kernels
// and the GPU schedule) and the weight fake-quant a qfuse.fake_quant; k, the
// statistics and the normalisation are linalg.
// RUN: qfuse-opt %s --qfuse-expand-qat | FileCheck %s

// CHECK-LABEL: func.func @qat
// CHECK-NOT: qfuse.qat_conv_bn
// CHECK: math.sqrt
// CHECK: %[[FQ:.*]] = qfuse.fake_quant %{{.*}}, %arg4, %arg5 {axis = 0 : i64, quant_max = 127 : i64, quant_min = -127 : i64}
// CHECK: %[[Y:.*]] = qfuse.conv %arg0, %[[FQ]] {dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<4x8x6x6xf32>, tensor<16x8x3x3xf32>) -> tensor<4x16x6x6xf32>
// Train mode: the batch mean and variance are reductions over y / k.
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>
func.func @qat(%x: tensor<4x8x6x6xf32>, %w: tensor<16x8x3x3xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %s: tensor<16xf32>, %zp: tensor<16xi32>) -> (tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>) {
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) weight_quant(%s, %zp) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>, weight_axis = 0 : i64, weight_quant_min = -127 : i64, weight_quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<4x8x6x6xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xi32>) -> (tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>)
  return %y, %m1, %v1 : tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>
}
