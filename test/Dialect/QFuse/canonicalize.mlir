// Folders and canonicalization patterns of the qfuse activations.
// RUN: qfuse-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func @relu_relu
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[R:.*]] = qfuse.relu %[[X]]
// CHECK-NEXT: return %[[R]]
func.func @relu_relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.relu %x : tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// relu after a clamp whose range is already non-negative is the identity.
// CHECK-LABEL: func @relu_of_relu6
// CHECK-NEXT: %[[C:.*]] = qfuse.clamp %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
// CHECK-NEXT: return %[[C]]
func.func @relu_of_relu6(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Must NOT fold: the clamp lets negative values through.
// CHECK-LABEL: func @relu_of_hardtanh
// CHECK: qfuse.clamp
// CHECK: qfuse.relu
func.func @relu_of_hardtanh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.clamp %x {min = -1.0 : f64, max = 1.0 : f64} : tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @clamp_clamp
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[C:.*]] = qfuse.clamp %[[X]] {max = 4.000000e+00 : f64, min = 1.000000e+00 : f64}
// CHECK-NEXT: return %[[C]]
func.func @clamp_clamp(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.clamp %x {min = 0.0 : f64, max = 4.0 : f64} : tensor<4xf32>
  %1 = qfuse.clamp %0 {min = 1.0 : f64, max = 6.0 : f64} : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// relu then clamp(-1, 6) is relu6.
// CHECK-LABEL: func @clamp_of_relu
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[C:.*]] = qfuse.clamp %[[X]] {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
// CHECK-NEXT: return %[[C]]
func.func @clamp_of_relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.relu %x : tensor<4xf32>
  %1 = qfuse.clamp %0 {min = -1.0 : f64, max = 6.0 : f64} : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Must NOT merge: disjoint ranges (the result is a constant, not a clamp).
// CHECK-LABEL: func @clamp_disjoint
// CHECK: qfuse.clamp %{{.*}} {max = 1.000000e+00 : f64, min = 0.000000e+00 : f64}
// CHECK: qfuse.clamp %{{.*}} {max = 3.000000e+00 : f64, min = 2.000000e+00 : f64}
func.func @clamp_disjoint(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.clamp %x {min = 0.0 : f64, max = 1.0 : f64} : tensor<4xf32>
  %1 = qfuse.clamp %0 {min = 2.0 : f64, max = 3.0 : f64} : tensor<4xf32>
  return %1 : tensor<4xf32>
}
