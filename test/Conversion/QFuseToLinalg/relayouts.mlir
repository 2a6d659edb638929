// Channel-blocked relayouts that no vector kernel took in (here around a
// qfuse.relu) are lowered with the qfuse ops: linalg.unpack from nChw8c as a
// transpose of the block's lanes before the rows and a collapse, linalg.pack
// as an expand and the transpose back, so that they bufferize. The numbers:
// test/Conversion/QFuseToVector/kernels-vs-pytorch.py (blocked depthwise
// cases, against this lowering).
// RUN: qfuse-opt %s --convert-qfuse-to-linalg | FileCheck %s
// RUN: qfuse-opt %s --qfuse-lower-to-llvm | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @roundtrip
// CHECK-SAME:    (%[[X5:.*]]: tensor<1x2x3x4x8xf32>)
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[X5]] : tensor<1x2x3x4x8xf32>) outs(%{{.*}} : tensor<1x2x8x3x4xf32>) permutation = [0, 1, 4, 2, 3]
// CHECK:         tensor.collapse_shape %[[T]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x8x3x4xf32> into tensor<1x16x3x4xf32>
// CHECK:         arith.maximumf
// CHECK:         %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 8, 3, 4] : tensor<1x16x3x4xf32> into tensor<1x2x8x3x4xf32>
// CHECK:         linalg.transpose ins(%[[E]] : tensor<1x2x8x3x4xf32>) outs(%{{.*}} : tensor<1x2x3x4x8xf32>) permutation = [0, 1, 3, 4, 2]
// CHECK-NOT:     linalg.pack
// CHECK-NOT:     linalg.unpack
// LLVM-LABEL:  llvm.func @roundtrip
// LLVM-NOT:    linalg.
func.func @roundtrip(%x5: tensor<1x2x3x4x8xf32>) -> tensor<1x2x3x4x8xf32> {
  %e = tensor.empty() : tensor<1x16x3x4xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] into %e : tensor<1x2x3x4x8xf32> -> tensor<1x16x3x4xf32>
  %y = qfuse.relu %x : tensor<1x16x3x4xf32>
  %e2 = tensor.empty() : tensor<1x2x3x4x8xf32>
  %y5 = linalg.pack %y inner_dims_pos = [1] inner_tiles = [8] into %e2 : tensor<1x16x3x4xf32> -> tensor<1x2x3x4x8xf32>
  return %y5 : tensor<1x2x3x4x8xf32>
}
