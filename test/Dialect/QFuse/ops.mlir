// Round-trip of every qfuse op, custom and generic form.
// RUN: qfuse-opt %s | qfuse-opt | FileCheck %s
// RUN: qfuse-opt %s --mlir-print-op-generic | qfuse-opt | FileCheck %s

// CHECK-LABEL: func @conv1d
func.func @conv1d(%x: tensor<2x4x16xf32>, %w: tensor<8x4x3xf32>) -> tensor<2x8x8xf32> {
  // CHECK: qfuse.conv %{{.*}}, %{{.*}} {dilations = array<i64: 1>, padding = array<i64: 1, 1>, strides = array<i64: 2>} : (tensor<2x4x16xf32>, tensor<8x4x3xf32>) -> tensor<2x8x8xf32>
  %0 = qfuse.conv %x, %w {strides = array<i64: 2>, padding = array<i64: 1, 1>, dilations = array<i64: 1>} : (tensor<2x4x16xf32>, tensor<8x4x3xf32>) -> tensor<2x8x8xf32>
  return %0 : tensor<2x8x8xf32>
}

// CHECK-LABEL: func @conv2d_fused
func.func @conv2d_fused(%x: tensor<1x3x224x224xf32>, %w: tensor<64x3x7x7xf32>, %b: tensor<64xf32>) -> tensor<1x64x112x112xf32> {
  // CHECK: qfuse.conv %{{.*}}, %{{.*}}, %{{.*}} {activation = #qfuse.activation<relu>, dilations = array<i64: 1, 1>, padding = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>}
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
  return %0 : tensor<1x64x112x112xf32>
}

// CHECK-LABEL: func @conv2d_depthwise_relu6
func.func @conv2d_depthwise_relu6(%x: tensor<1x32x112x112xf16>, %w: tensor<32x1x3x3xf16>) -> tensor<1x32x56x56xf16> {
  // CHECK: qfuse.conv {{.*}}activation = #qfuse.activation<clamp>, clamp_max = 6.000000e+00 : f64, clamp_min = 0.000000e+00 : f64{{.*}}groups = 32 : i64
  %0 = qfuse.conv %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, groups = 32 : i64, activation = #qfuse.activation<clamp>, clamp_min = 0.0 : f64, clamp_max = 6.0 : f64} : (tensor<1x32x112x112xf16>, tensor<32x1x3x3xf16>) -> tensor<1x32x56x56xf16>
  return %0 : tensor<1x32x56x56xf16>
}

// CHECK-LABEL: func @conv3d_dilated_dynamic_batch
func.func @conv3d_dilated_dynamic_batch(%x: tensor<?x4x8x8x8xbf16>, %w: tensor<6x2x3x3x3xbf16>) -> tensor<?x6x4x4x4xbf16> {
  // CHECK: qfuse.conv {{.*}}dilations = array<i64: 2, 2, 2>{{.*}}groups = 2 : i64
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1, 1>, padding = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 2, 2, 2>, groups = 2 : i64} : (tensor<?x4x8x8x8xbf16>, tensor<6x2x3x3x3xbf16>) -> tensor<?x6x4x4x4xbf16>
  return %0 : tensor<?x6x4x4x4xbf16>
}

// CHECK-LABEL: func @conv_transpose2d
func.func @conv_transpose2d(%x: tensor<1x8x16x16xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x32x32xf32> {
  // CHECK: qfuse.conv_transpose %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, groups = 2 : i64, output_padding = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %0 = qfuse.conv_transpose %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x8x16x16xf32>, tensor<8x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x32x32xf32>
  return %0 : tensor<1x4x32x32xf32>
}

// CHECK-LABEL: func @conv_transpose1d_f64
func.func @conv_transpose1d_f64(%x: tensor<1x3x5xf64>, %w: tensor<3x2x4xf64>) -> tensor<1x2x8xf64> {
  // CHECK: qfuse.conv_transpose {{.*}} : (tensor<1x3x5xf64>, tensor<3x2x4xf64>) -> tensor<1x2x8xf64>
  %0 = qfuse.conv_transpose %x, %w {strides = array<i64: 1>, padding = array<i64: 0, 0>, dilations = array<i64: 1>, output_padding = array<i64: 0>} : (tensor<1x3x5xf64>, tensor<3x2x4xf64>) -> tensor<1x2x8xf64>
  return %0 : tensor<1x2x8xf64>
}

// CHECK-LABEL: func @linear
func.func @linear(%x: tensor<8x512xf32>, %w: tensor<10x512xf32>, %b: tensor<10xf32>) -> (tensor<8x10xf32>, tensor<8x10xf32>) {
  // CHECK: qfuse.linear %{{.*}}, %{{.*}}, %{{.*}} {activation = #qfuse.activation<relu>} : (tensor<8x512xf32>, tensor<10x512xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  %0 = qfuse.linear %x, %w, %b {activation = #qfuse.activation<relu>} : (tensor<8x512xf32>, tensor<10x512xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  // CHECK: qfuse.linear %{{.*}}, %{{.*}} : (tensor<8x512xf32>, tensor<10x512xf32>) -> tensor<8x10xf32>
  %1 = qfuse.linear %x, %w : (tensor<8x512xf32>, tensor<10x512xf32>) -> tensor<8x10xf32>
  return %0, %1 : tensor<8x10xf32>, tensor<8x10xf32>
}

// CHECK-LABEL: func @batch_norm
func.func @batch_norm(%x: tensor<2x16x7x7xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %y: tensor<4x16xf32>) -> (tensor<2x16x7x7xf32>, tensor<4x16xf32>) {
  // CHECK: qfuse.batch_norm %{{.*}}, %{{.*}}, %{{.*}} scale(%{{.*}}) offset(%{{.*}}) {epsilon = 1.000000e-03 : f64} : tensor<2x16x7x7xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
  %0 = qfuse.batch_norm %x, %m, %v scale(%g) offset(%b) {epsilon = 1.0e-3 : f64} : tensor<2x16x7x7xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
  // affine=False: no scale, no offset.
  // CHECK: qfuse.batch_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64} : tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>
  %1 = qfuse.batch_norm %y, %m, %v {epsilon = 1.0e-5 : f64} : tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>
  return %0, %1 : tensor<2x16x7x7xf32>, tensor<4x16xf32>
}

// CHECK-LABEL: func @activations
func.func @activations(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK: qfuse.relu %{{.*}} : tensor<2x3xf32>
  %0 = qfuse.relu %x : tensor<2x3xf32>
  // CHECK: qfuse.clamp %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<2x3xf32>
  %1 = qfuse.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func @fake_quant
func.func @fake_quant(%x: tensor<1x4x2x2xf32>, %s: tensor<f32>, %zp: tensor<i32>, %sc: tensor<4xf32>, %zpc: tensor<4xi32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) {
  // CHECK: qfuse.fake_quant %{{.*}}, %{{.*}}, %{{.*}} {quant_max = 255 : i64, quant_min = 0 : i64} : (tensor<1x4x2x2xf32>, tensor<f32>, tensor<i32>) -> tensor<1x4x2x2xf32>
  %0 = qfuse.fake_quant %x, %s, %zp {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<1x4x2x2xf32>, tensor<f32>, tensor<i32>) -> tensor<1x4x2x2xf32>
  // CHECK: qfuse.fake_quant %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, quant_max = 127 : i64, quant_min = -128 : i64}
  %1 = qfuse.fake_quant %x, %sc, %zpc {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<1x4x2x2xf32>
  // Constant parameters, shape [1] per-tensor.
  %cs = arith.constant dense<0.5> : tensor<1xf32>
  %cz = arith.constant dense<3> : tensor<1xi8>
  // CHECK: qfuse.fake_quant %{{.*}}, %{{.*}}, %{{.*}} {quant_max = 127 : i64, quant_min = -128 : i64} : (tensor<1x4x2x2xf32>, tensor<1xf32>, tensor<1xi8>)
  %2 = qfuse.fake_quant %x, %cs, %cz {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x4x2x2xf32>, tensor<1xf32>, tensor<1xi8>) -> tensor<1x4x2x2xf32>
  return %0, %1, %2 : tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>
}

// CHECK-LABEL: func @qat_conv_bn
func.func @qat_conv_bn(%x: tensor<8x16x32x32xf32>, %w: tensor<32x16x3x3xf32>, %m: tensor<32xf32>, %v: tensor<32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %s: tensor<32xf32>, %zp: tensor<32xi32>) -> (tensor<8x32x32x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  // CHECK: qfuse.qat_conv_bn %{{.*}}, %{{.*}} stats(%{{.*}}, %{{.*}}) scale(%{{.*}}) offset(%{{.*}}) weight_quant(%{{.*}}, %{{.*}}) {{{.*}}mode = #qfuse.qat_mode<train>{{.*}}weight_axis = 0 : i64
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) scale(%g) offset(%b) weight_quant(%s, %zp) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>, weight_axis = 0 : i64, weight_quant_min = -128 : i64, weight_quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xi32>) -> (tensor<8x32x32x32xf32>, tensor<32xf32>, tensor<32xf32>)
  return %y, %m1, %v1 : tensor<8x32x32x32xf32>, tensor<32xf32>, tensor<32xf32>
}

// CHECK-LABEL: func @qat_linear_bn_frozen
func.func @qat_linear_bn_frozen(%x: tensor<4x16xf32>, %w: tensor<8x16xf32>, %bias: tensor<8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // CHECK: qfuse.qat_conv_bn %{{.*}}, %{{.*}} bias(%{{.*}}) stats(%{{.*}}, %{{.*}}) {{{.*}}mode = #qfuse.qat_mode<frozen>
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w bias(%bias) stats(%m, %v) {strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>, epsilon = 1.0e-03 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<frozen>} : (tensor<4x16xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %y, %m1, %v1 : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// CHECK-LABEL: func @qat_conv_transpose_bn
func.func @qat_conv_transpose_bn(%x: tensor<1x8x4x4xf32>, %w: tensor<8x3x2x2xf32>, %m: tensor<6xf32>, %v: tensor<6xf32>) -> (tensor<1x6x8x8xf32>, tensor<6xf32>, tensor<6xf32>) {
  // CHECK: qfuse.qat_conv_bn {{.*}}groups = 2 : i64{{.*}}transposed
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, groups = 2 : i64, transposed, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<frozen>} : (tensor<1x8x4x4xf32>, tensor<8x3x2x2xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<1x6x8x8xf32>, tensor<6xf32>, tensor<6xf32>)
  return %y, %m1, %v1 : tensor<1x6x8x8xf32>, tensor<6xf32>, tensor<6xf32>
}

// CHECK-LABEL: func @integer_ops
func.func @integer_ops(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xi8>, %b: tensor<8xi32>, %sw: tensor<8xf32>) -> (tensor<1x8x8x8xf32>, tensor<1x8x6x6xi32>, tensor<2x8xi8>) {
  %sx = arith.constant dense<0.05> : tensor<f32>
  %zx = arith.constant dense<128> : tensor<i32>
  %zw = arith.constant dense<0> : tensor<i32>
  %sy = arith.constant dense<0.1> : tensor<f32>
  %zy = arith.constant dense<-3> : tensor<i32>
  // CHECK: %[[Q:.*]] = qfuse.quantize %{{.*}} {quant_max = 255 : i64, quant_min = 0 : i64, uint8} : (tensor<1x4x8x8xf32>, tensor<f32>, tensor<i32>) -> tensor<1x4x8x8xi8>
  %q = qfuse.quantize %x, %sx, %zx {quant_min = 0 : i64, quant_max = 255 : i64, uint8} : (tensor<1x4x8x8xf32>, tensor<f32>, tensor<i32>) -> tensor<1x4x8x8xi8>
  // CHECK: %[[Y:.*]] = qfuse.qconv %[[Q]], %{{.*}} bias(%{{.*}}) zero_points(%{{.*}}, %{{.*}}) requantize(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {activation = #qfuse.activation<relu>, dilations = array<i64: 1, 1>, input_uint8, padding = array<i64: 1, 1, 1, 1>, quant_max = 127 : i64, quant_min = -128 : i64, strides = array<i64: 1, 1>}
  %y = qfuse.qconv %q, %w bias(%b) zero_points(%zx, %zw) requantize(%sx, %sw, %sy, %zy) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, input_uint8, quant_min = -128 : i64, quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<8xi32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<8xf32>, tensor<f32>, tensor<i32>) -> tensor<1x8x8x8xi8>
  // CHECK: qfuse.dequantize %[[Y]], %{{.*}}, %{{.*}} : (tensor<1x8x8x8xi8>, tensor<f32>, tensor<i32>) -> tensor<1x8x8x8xf32>
  %d = qfuse.dequantize %y, %sy, %zy : (tensor<1x8x8x8xi8>, tensor<f32>, tensor<i32>) -> tensor<1x8x8x8xf32>
  // CHECK: qfuse.qconv %[[Q]], %{{.*}} zero_points(%{{.*}}, %{{.*}}) {dilations = array<i64: 1, 1>, input_uint8, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : {{.*}} -> tensor<1x8x6x6xi32>
  %acc = qfuse.qconv %q, %w zero_points(%zx, %zw) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, input_uint8} : (tensor<1x4x8x8xi8>, tensor<8x4x3x3xi8>, tensor<i32>, tensor<i32>) -> tensor<1x8x6x6xi32>
  %xl = arith.constant dense<1> : tensor<2x4xi8>
  %wl = arith.constant dense<2> : tensor<8x4xi8>
  // CHECK: qfuse.qlinear %{{.*}}, %{{.*}} zero_points(%{{.*}}, %{{.*}}) requantize(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {quant_max = 127 : i64, quant_min = -127 : i64} : {{.*}} -> tensor<2x8xi8>
  %l = qfuse.qlinear %xl, %wl zero_points(%zw, %zw) requantize(%sx, %sw, %sy, %zw) {quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x4xi8>, tensor<8x4xi8>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<8xf32>, tensor<f32>, tensor<i32>) -> tensor<2x8xi8>
  return %d, %acc, %l : tensor<1x8x8x8xf32>, tensor<1x8x6x6xi32>, tensor<2x8xi8>
}

// The kernel-level vector ops.
// CHECK-LABEL: func @vector_ops
func.func @vector_ops(%a: vector<16xi16>, %acc: vector<8xi32>, %q: vector<32xi8>, %x: vector<8xf32>, %y: vector<8xf32>) -> (vector<8xi32>, vector<8xi32>, vector<8xf32>) {
  // CHECK: qfuse.dot_pairs %{{.*}}, %{{.*}} : vector<16xi16> -> vector<8xi32>
  %p = qfuse.dot_pairs %a, %a : vector<16xi16> -> vector<8xi32>
  // CHECK: qfuse.dot_quads %{{.*}}, %{{.*}}, %{{.*}} {pairs_fit_i16} : vector<8xi32>, vector<32xi8>
  %d = qfuse.dot_quads %acc, %q, %q {pairs_fit_i16} : vector<8xi32>, vector<32xi8>
  // CHECK: qfuse.pair_sums %{{.*}}, %{{.*}} : vector<8xf32>
  %s = qfuse.pair_sums %x, %y : vector<8xf32>
  return %p, %d, %s : vector<8xi32>, vector<8xi32>, vector<8xf32>
}

// The kernels' cache hints on tensors (bufferized to memref ops).
// CHECK-LABEL: func @cache_hints
func.func @cache_hints(%t: tensor<4x16x8xf32>, %v: vector<8xf32>, %i: index) -> tensor<4x16x8xf32> {
  // CHECK: qfuse.prefetch %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] {locality = 3 : i32} : tensor<4x16x8xf32>
  qfuse.prefetch %t[%i, %i, %i] {locality = 3 : i32} : tensor<4x16x8xf32>
  // CHECK: qfuse.nontemporal_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : vector<8xf32> into tensor<4x16x8xf32>
  %r = qfuse.nontemporal_write %v, %t[%i, %i, %i] : vector<8xf32> into tensor<4x16x8xf32>
  // CHECK: qfuse.store_fence
  qfuse.store_fence
  return %r : tensor<4x16x8xf32>
}
