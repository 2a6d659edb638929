// qfuse-fuse-elementwise (in qfuse-lower-to-llvm instead of upstream's
// linalg-fuse-elementwise-ops): an elementwise producer is fused into its
// consumer where the consumer reads it element for element (the ReLU into
// the batch-norm), but not where the consumer broadcasts it, which would
// recompute it per element (batch-norm's per-channel γ / sqrt(σ² + ε) and
// β − μ·alpha stay 1-D generics, computed once per channel).
// RUN: qfuse-opt %s --convert-qfuse-to-linalg --qfuse-fuse-elementwise | FileCheck %s
// Upstream's pass fuses them all into one generic, a square root per element:
// RUN: qfuse-opt %s --convert-qfuse-to-linalg --linalg-fuse-elementwise-ops | FileCheck %s --check-prefix=UPSTREAM

// CHECK-LABEL: func.func @bn_relu
// CHECK:         %[[ALPHA:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK:           math.sqrt
// CHECK:           arith.divf
// CHECK:         } -> tensor<4xf32>
// CHECK:         %[[SHIFT:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[ALPHA]], %{{.*}} : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK:         } -> tensor<4xf32>
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[ALPHA]], %[[SHIFT]] : tensor<2x4x3x5xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK-NOT:       math.sqrt
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:           arith.maximumf
// CHECK:         } -> tensor<2x4x3x5xf32>
// CHECK-NOT:     linalg.generic
// UPSTREAM-LABEL: func.func @bn_relu
// UPSTREAM:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// UPSTREAM:         math.sqrt
// UPSTREAM:         arith.maximumf
// UPSTREAM-NOT:   linalg.generic
func.func @bn_relu(%x: tensor<2x4x3x5xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<2x4x3x5xf32> {
  %0 = qfuse.batch_norm %x, %m, %v scale(%g) offset(%b) {epsilon = 1.0e-5 : f64} : tensor<2x4x3x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<2x4x3x5xf32>
  return %1 : tensor<2x4x3x5xf32>
}
