// qfuse-sequentialize-nested-parallel: nested parallel loops become scf.for;
// an outermost loop keeps the shortest prefix of dimensions with at least 64
// iterations parallel, the rest is a sequential nest inside (a row per
// OpenMP iteration, not an element). A sequential loop marked
// qfuse.fork_per_iteration keeps the parallel loops of its body.
// RUN: qfuse-opt %s --qfuse-sequentialize-nested-parallel --split-input-file | FileCheck %s

// 1 x 64 x 56 x 56: (n, c) parallel, rows and columns sequential.
// CHECK-LABEL: func.func @copy
// CHECK: scf.parallel (%[[N:.*]], %[[C:.*]]) = (%c0, %c0) to (%c1, %c64) step (%c1, %c1) {
// CHECK-NEXT: scf.for %[[H:.*]] = %c0 to %c56 step %c1 {
// CHECK-NEXT: scf.for %[[W:.*]] = %c0 to %c56 step %c1 {
// CHECK-NEXT: memref.load %arg0[%[[N]], %[[C]], %[[H]], %[[W]]]
// CHECK-NOT: scf.parallel
func.func @copy(%a: memref<1x64x56x56xf32>, %b: memref<1x64x56x56xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c56 = arith.constant 56 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%n, %c, %h, %w) = (%c0, %c0, %c0, %c0) to (%c1, %c64, %c56, %c56) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %a[%n, %c, %h, %w] : memref<1x64x56x56xf32>
    memref.store %v, %b[%n, %c, %h, %w] : memref<1x64x56x56xf32>
    scf.reduce
  }
  return
}

// -----

// Never 64 iterations: all dimensions stay parallel.
// CHECK-LABEL: func.func @small
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
// CHECK-NOT: scf.for
func.func @small(%a: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %v = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    memref.store %v, %a[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}

// -----

// A nested parallel loop becomes sequential; the outer one (128 iterations
// in its first dimension) keeps only that dimension.
// CHECK-LABEL: func.func @nested
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c128) step (%c1) {
// CHECK-NEXT: scf.for
// CHECK-NEXT: scf.for
// CHECK-NOT: scf.parallel
func.func @nested(%a: memref<128x4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c128 = arith.constant 128 : index
  %v = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c128, %c4) step (%c1, %c1) {
    scf.parallel (%k) = (%c0) to (%c4) step (%c1) {
      memref.store %v, %a[%i, %j, %k] : memref<128x4x4xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// A parallel loop inside a sequential loop (here over two images) becomes
// sequential too: each iteration would fork threads...
// CHECK-LABEL: func.func @in_sequential_loop
// CHECK: scf.for
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @in_sequential_loop(%a: memref<2x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %v = arith.constant 1.0 : f32
  scf.for %n = %c0 to %c2 step %c1 {
    scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
      memref.store %v, %a[%n, %i] : memref<2x128xf32>
      scf.reduce
    }
  }
  return
}

// -----

// ... unless the loop is marked qfuse.fork_per_iteration (the vector kernels'
// one-image-at-a-time loop): then it forks once per iteration.
// CHECK-LABEL: func.func @fork_per_iteration
// CHECK: scf.for
// CHECK-NEXT: scf.parallel (%{{.*}}) = (%c0) to (%c128) step (%c1) {
// CHECK: } {qfuse.fork_per_iteration}
func.func @fork_per_iteration(%a: memref<2x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  %v = arith.constant 1.0 : f32
  scf.for %n = %c0 to %c2 step %c1 {
    scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
      memref.store %v, %a[%n, %i] : memref<2x128xf32>
      scf.reduce
    }
  } {qfuse.fork_per_iteration}
  return
}
