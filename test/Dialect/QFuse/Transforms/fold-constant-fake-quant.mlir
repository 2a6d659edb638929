// fake_quant of constants computed at compile time, bit for bit as its
// lowering computes it at run time.
// RUN: qfuse-opt %s --fold-constant-fake-quant | FileCheck %s
// RUN: qfuse-run %qfuse_src/examples/int8_block.mlir --random-inputs 3 --compare-after=fold-constant-fake-quant | FileCheck %s --check-prefix=JIT

// Per channel (scales 0.5 and 0.25): 0.26/0.5 -> 1, -0.74/0.5 -> -1, the
// ties 0.25/0.5 = 0.5 -> 0 and 0.75/0.5 = 1.5 -> 2 (half to even); 10/0.25
// clamps at 7; dequantized: 0.5, -0.5, 0, 1 | 1.75, -0.25, 0.125/0.25 = 0.5
// -> 0, -2.
// CHECK-LABEL: func @per_channel
// CHECK: %[[C:.*]] = arith.constant dense<{{\[}}[5.000000e-01, -5.000000e-01, 0.000000e+00, 1.000000e+00], [1.750000e+00, -2.500000e-01, 0.000000e+00, -2.000000e+00]]> : tensor<2x4xf32>
// CHECK-NOT: qfuse.fake_quant
// CHECK: return %[[C]]
func.func @per_channel() -> tensor<2x4xf32> {
  %w = arith.constant dense<[[0.26, -0.74, 0.25, 0.75], [10.0, -0.25, 0.125, -2.0]]> : tensor<2x4xf32>
  %s = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %z = arith.constant dense<0> : tensor<2xi32>
  %q = qfuse.fake_quant %w, %s, %z {axis = 0 : i64, quant_min = -8 : i64, quant_max = 7 : i64} : (tensor<2x4xf32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x4xf32>
  return %q : tensor<2x4xf32>
}

// A run-time input is left alone.
// CHECK-LABEL: func @runtime
// CHECK: qfuse.fake_quant %arg0
func.func @runtime(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = arith.constant dense<0.5> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %q = qfuse.fake_quant %x, %s, %z {quant_min = -8 : i64, quant_max = 7 : i64} : (tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
  return %q : tensor<4xf32>
}

// JIT: compare: before vs after 'fold-constant-fake-quant'
// JIT: result 0: max abs err 0.000000e+00
