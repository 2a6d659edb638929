// Structure of convert-qfuse-to-linalg (numerics: test/Integration).
// RUN: qfuse-opt %s --convert-qfuse-to-linalg -split-input-file | FileCheck %s

// A grouped conv with bias and relu: the bias initialises the accumulator,
// one generic correlates (loops n, g, co | ci, kh, kw | oh, ow: the output's
// spatial dims innermost), and the relu is an epilogue in place on the result.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d3, d6 * 2 + d4, d7 * 2 + d5)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d3, d4, d5)>
// CHECK-LABEL: func @conv_groups_bias_relu
// CHECK: %[[P:.*]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[XG:.*]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 10, 10]
// CHECK: %[[WG:.*]] = tensor.expand_shape %arg1 {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xf32>) outs(%{{.*}} : tensor<1x2x3x4x4xf32>)
// CHECK: %[[C:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[W]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]} ins(%[[XG]], %[[WG]] : {{.*}}) outs(%[[INIT]] : tensor<1x2x3x4x4xf32>)
// CHECK:   arith.mulf
// CHECK:   arith.addf
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[C]] : tensor<1x2x3x4x4xf32>)
// CHECK:   arith.maximumf
// CHECK: tensor.collapse_shape %[[R]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x4x4xf32> into tensor<1x6x4x4xf32>
func.func @conv_groups_bias_relu(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x4x4xf32> {
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 2 : i64, activation = #qfuse.activation<relu>} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// Transposed: the input is dilated by the stride (strided insert_slice into
// zeros), padded by dilation*(K-1) - pad, and the kernel is read flipped.
// CHECK-DAG: #[[INT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d3, d6 + -d4 + 2, d7 + -d5 + 2)>
// CHECK-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d3, d2, d4, d5)>
// CHECK-LABEL: func @conv_transpose
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[D:.*]] = tensor.insert_slice %arg0 into %[[Z]][0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 2, 2] : tensor<1x2x4x4xf32> into tensor<1x2x7x7xf32>
// CHECK: tensor.pad %[[D]] low[0, 0, 1, 1] high[0, 0, 2, 2]
// CHECK: linalg.generic {indexing_maps = [#[[INT]], #[[WT]],
func.func @conv_transpose(%x: tensor<1x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x3x8x8xf32> {
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// f16 convolution accumulates in f32 and rounds once in the epilogue.
// CHECK-LABEL: func @conv_f16
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x2x3x3xf32>)
// CHECK: linalg.generic
// CHECK:   arith.extf {{.*}} : f16 to f32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x2x3x3xf16>)
// CHECK:   arith.truncf {{.*}} : f32 to f16
func.func @conv_f16(%x: tensor<1x2x5x5xf16>, %w: tensor<2x2x3x3xf16>) -> tensor<1x2x3x3xf16> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x5x5xf16>, tensor<2x2x3x3xf16>) -> tensor<1x2x3x3xf16>
  return %0 : tensor<1x2x3x3xf16>
}

// -----

// Per-channel fake_quant: parameters indexed along the axis; round half to
// even after dividing by the scale.
// CHECK-DAG: #[[AX:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func @fake_quant_per_channel
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AX]], #[[AX]], #{{.*}}]
// CHECK:   %[[Q:.*]] = arith.divf
// CHECK:   math.roundeven %[[Q]]
// CHECK:   arith.constant -1.280000e+02 : f32
// CHECK:   arith.constant 1.270000e+02 : f32
func.func @fake_quant_per_channel(%x: tensor<2x4x3xf32>, %s: tensor<4xf32>, %z: tensor<4xi32>) -> tensor<2x4x3xf32> {
  %0 = qfuse.fake_quant %x, %s, %z {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4x3xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// -----

// linear: y[n, o] = sum_i x[n, i] * w[o, i] on the broadcast bias.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[WL:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func @linear
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[WL]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
func.func @linear(%x: tensor<2x3xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = qfuse.linear %x, %w, %b : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// An integer conv: input and weight centred on their zero points (uint8
// input zero-extended, int8 weight sign-extended) into i32, the centred input
// padded with 0 (the real value 0), the same correlation in i32 (muli/addi)
// onto the bias, then the requantize: M[c] = sx·sw[c]/sy in f64, the product
// rounded half to even, shifted by the output zero point and clamped to
// [max(quant_min, zy) (relu), quant_max], stored as i8.
// CHECK-LABEL: func @qconv
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "parallel"]
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: %[[M:.*]] = linalg.generic
// CHECK: arith.mulf %{{.*}} : f64
// CHECK: arith.divf %{{.*}} : f64
// CHECK: %[[ZY:.*]] = arith.sitofp %{{.*}} : i32 to f64
// CHECK: %[[LO:.*]] = arith.maxnumf %{{.*}}, %[[ZY]] : f64
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[M]] : tensor<1x3x4x4xi32>, tensor<3xf64>) outs(%{{.*}} : tensor<1x3x4x4xi8>)
// CHECK: arith.sitofp %{{.*}} : i32 to f64
// CHECK: math.roundeven
// CHECK: %[[V:.*]] = arith.addf %{{.*}}, %[[ZY]]
// CHECK: %[[ABOVE:.*]] = arith.cmpf ogt, %[[V]], %[[LO]] : f64
// CHECK: %[[MAX:.*]] = arith.select %[[ABOVE]], %[[V]], %[[LO]] : f64
// CHECK: %[[BELOW:.*]] = arith.cmpf olt, %[[MAX]], %{{.*}} : f64
// CHECK: arith.select %[[BELOW]], %[[MAX]], %{{.*}} : f64
// CHECK: arith.fptosi %{{.*}} : f64 to i32
// CHECK: arith.trunci %{{.*}} : i32 to i8
func.func @qconv(%x: tensor<1x2x4x4xi8>, %w: tensor<3x2x3x3xi8>, %b: tensor<3xi32>, %sw: tensor<3xf32>) -> tensor<1x3x4x4xi8> {
  %sx = arith.constant dense<0.05> : tensor<f32>
  %zx = arith.constant dense<128> : tensor<i32>
  %zw = arith.constant dense<0> : tensor<i32>
  %sy = arith.constant dense<0.1> : tensor<f32>
  %zy = arith.constant dense<-3> : tensor<i32>
  %y = qfuse.qconv %x, %w bias(%b) zero_points(%zx, %zw) requantize(%sx, %sw, %sy, %zy) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, input_uint8, quant_min = -128 : i64, quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<1x2x4x4xi8>, tensor<3x2x3x3xi8>, tensor<3xi32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<3xf32>, tensor<f32>, tensor<i32>) -> tensor<1x3x4x4xi8>
  return %y : tensor<1x3x4x4xi8>
}
