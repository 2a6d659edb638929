// --quantize: conv/linear between quantized tensors become integer ops.
// RUN: qfuse-opt %s --quantize -split-input-file --remarks-filter-passed=quantize --remark-format=emitRemark -verify-diagnostics | FileCheck %s

// Two fake-quantized convs: the activations become uint8, the weights int8
// constants quantized as the fake_quant computes them (1.0/0.5 = 2, 2.0/0.5 =
// 4), the bias int32 at s_x*s_w = 0.01 (0.5/0.01 = 50, -0.25/0.01 = -25),
// and the dequantize/quantize pair between the two layers cancels.
// CHECK-LABEL: func @chain
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[50, -25]> : tensor<2xi32>
// CHECK-DAG: %[[W1:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[2, 4]]], {{\[}}{{\[}}[-2, 0]]]]> : tensor<2x1x1x2xi8>
// CHECK: %[[XQ:.*]] = qfuse.quantize %arg0, %[[SX:.*]], %[[ZX:.*]] {quant_max = 255 : i64, quant_min = 0 : i64, uint8}
// CHECK: %[[H:.*]] = qfuse.qconv %[[XQ]], %[[W1]] bias(%[[B]]) zero_points(%[[ZX]], %{{.*}}) requantize(%[[SX]], %{{.*}}, %[[SH:.*]], %[[ZH:.*]]) {activation = #qfuse.activation<relu>, {{.*}}input_uint8, output_uint8, {{.*}}quant_max = 255 : i64, quant_min = 0 : i64
// CHECK: %[[Y:.*]] = qfuse.qconv %[[H]], %{{.*}} zero_points(%[[ZH]], %{{.*}}) requantize(%[[SH]], {{.*}} {{{.*}}input_uint8, {{.*}}quant_max = 127 : i64, quant_min = -128 : i64
// CHECK: %[[D:.*]] = qfuse.dequantize %[[Y]], {{.*}} -> tensor<1x2x4x3xf32>
// CHECK-NOT: qfuse.fake_quant
// CHECK: return %[[D]]
func.func @chain(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %sx = arith.constant dense<0.02> : tensor<f32>
  %zx = arith.constant dense<128> : tensor<i32>
  %w1 = arith.constant dense<[[[[1.0, 2.0]]], [[[-1.0, 0.0]]]]> : tensor<2x1x1x2xf32>
  %sw1 = arith.constant dense<0.5> : tensor<2xf32>
  %zw1 = arith.constant dense<0> : tensor<2xi32>
  %b1 = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %sh = arith.constant dense<0.1> : tensor<f32>
  %zh = arith.constant dense<0> : tensor<i32>
  %w2 = arith.constant dense<0.25> : tensor<2x2x1x1xf32>
  %sw2 = arith.constant dense<0.01> : tensor<f32>
  %zw2 = arith.constant dense<0> : tensor<i32>
  %sy = arith.constant dense<0.2> : tensor<f32>
  %zy = arith.constant dense<3> : tensor<i32>
  %xq = qfuse.fake_quant %x, %sx, %zx {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  %w1q = qfuse.fake_quant %w1, %sw1, %zw1 {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x1x1x2xf32>
  // expected-remark @+1 {{qfuse.conv made integer (int8 x int8 -> int32, requantize epilogue)}}
  %h = qfuse.conv %xq, %w1q, %b1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x2x4x3xf32>
  %hq = qfuse.fake_quant %h, %sh, %zh {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<1x2x4x3xf32>, tensor<f32>, tensor<i32>) -> tensor<1x2x4x3xf32>
  %w2q = qfuse.fake_quant %w2, %sw2, %zw2 {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x2x1x1xf32>, tensor<f32>, tensor<i32>) -> tensor<2x2x1x1xf32>
  // expected-remark @+1 {{qfuse.conv made integer}}
  %y = qfuse.conv %hq, %w2q {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x3xf32>
  %yq = qfuse.fake_quant %y, %sy, %zy {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x2x4x3xf32>, tensor<f32>, tensor<i32>) -> tensor<1x2x4x3xf32>
  return %yq : tensor<1x2x4x3xf32>
}

// -----

// The ONNX QDQ form: integer input and weight through dequantize, the result
// through quantize; the integer tensors are used as they are.
// CHECK-LABEL: func @qdq
// CHECK: %[[Y:.*]] = qfuse.qlinear %arg0, %[[W:.*]] zero_points({{.*}}) requantize({{.*}}) {quant_max = 127 : i64, quant_min = -128 : i64, weight_uint8} : (tensor<2x3xi8>, tensor<4x3xi8>
// CHECK-NEXT: return %[[Y]] : tensor<2x4xi8>
func.func @qdq(%x: tensor<2x3xi8>) -> tensor<2x4xi8> {
  %s = arith.constant dense<0.1> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %wz = arith.constant dense<128> : tensor<i32>
  %w = arith.constant dense<7> : tensor<4x3xi8>
  %xf = qfuse.dequantize %x, %s, %z : (tensor<2x3xi8>, tensor<f32>, tensor<i32>) -> tensor<2x3xf32>
  %wf = qfuse.dequantize %w, %s, %wz {uint8} : (tensor<4x3xi8>, tensor<f32>, tensor<i32>) -> tensor<4x3xf32>
  // expected-remark @+1 {{qfuse.linear made integer}}
  %y = qfuse.linear %xf, %wf : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %q = qfuse.quantize %y, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x4xf32>, tensor<f32>, tensor<i32>) -> tensor<2x4xi8>
  return %q : tensor<2x4xi8>
}

// -----

// A batch-norm fold-bn left in place (here: never run) between the conv and
// its quantize: it goes into the integer op. k = γ/sqrt(σ² + ε) = [1, -2]
// (σ² + ε = 1 to f32 precision); the weight scales become 0.5·|k| = [0.5, 1], the
// second channel's integers are negated (4 -> -4), the bias is
// (b − μ)·k + β = [0.5, 0] at s_x·s_w' (0.5/0.01 = 50), and the relu after
// the batch-norm is the fused activation.
// CHECK-LABEL: func @with_batch_norm
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[2]]], {{\[}}{{\[}}[-4]]]]> : tensor<2x1x1x1xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[50, 0]> : tensor<2xi32>
// CHECK: qfuse.qconv %{{.*}}, %[[W]] bias(%[[B]]) zero_points(%{{.*}}, %{{.*}}) requantize(%{{.*}}, %[[S]], %{{.*}}, %{{.*}}) {activation = #qfuse.activation<relu>
// CHECK-NOT: qfuse.batch_norm
// CHECK-NOT: qfuse.relu
func.func @with_batch_norm(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %sx = arith.constant dense<0.02> : tensor<f32>
  %zx = arith.constant dense<0> : tensor<i32>
  %w = arith.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %sw = arith.constant dense<0.5> : tensor<2xf32>
  %zw = arith.constant dense<0> : tensor<2xi32>
  %g = arith.constant dense<[1.0, -2.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %m = arith.constant dense<0.0> : tensor<2xf32>
  %v = arith.constant dense<0.99999> : tensor<2xf32>
  %sy = arith.constant dense<0.1> : tensor<f32>
  %xq = qfuse.fake_quant %x, %sx, %zx {quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x1x4x4xf32>
  %wq = qfuse.fake_quant %w, %sw, %zw {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : (tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x1x1x1xf32>
  // expected-remark @+1 {{qfuse.conv made integer}}
  %c = qfuse.conv %xq, %wq {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %bn = qfuse.batch_norm %c, %m, %v scale(%g) offset(%b) {epsilon = 1.0e-05 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  %r = qfuse.relu %bn : tensor<1x2x4x4xf32>
  %y = qfuse.fake_quant %r, %sy, %zx {quant_min = 0 : i64, quant_max = 255 : i64} : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<i32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}
