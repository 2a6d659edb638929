// qfuse-map-to-gpu: block/thread foralls and flat parallel loops become
// gpu.launch ops.
// RUN: qfuse-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qfuse-map-to-gpu),cse)' --verify-diagnostics | FileCheck %s
// RUN: qfuse-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qfuse-map-to-gpu{block-size=64}),cse)' --verify-diagnostics | FileCheck %s --check-prefix=B64

// A schedule: grid from the block mapping, block from the widest thread
// phase; the workgroup buffer becomes an attribution; the narrower phase is
// guarded; a barrier follows each phase but the last.
// CHECK-LABEL: func.func @schedule
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %{{.*}}) in (%{{.*}} = %[[C4]], %{{.*}} = %[[C3]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %[[TY:.*]], %{{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %[[C4]], %{{.*}} = %[[C1]]) workgroup(%[[SH:.*]] : memref<4x32xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: memref.alloc
// CHECK: memref.store %{{.*}}, %[[SH]][%[[TY]], %[[TX]]]
// CHECK-NEXT: gpu.barrier
// CHECK: %[[LT:.*]] = arith.cmpi ult, %[[TX]], %{{.*}} : index
// CHECK: scf.if %[[LT]] {
// CHECK: memref.load %[[SH]][%[[TY]], %[[TX]]]
// CHECK: memref.store %{{.*}}, %arg0[%[[BY]], %[[BX]], %[[TY]], %[[TX]]]
// CHECK: }
// CHECK-NEXT: gpu.terminator
// CHECK-NOT: scf.forall
func.func @schedule(%out: memref<3x4x4x16xf32>) {
  %c = arith.constant 2.0 : f32
  scf.forall (%by, %bx) in (3, 4) {
    %sh = memref.alloc() : memref<4x32xf32, #gpu.address_space<workgroup>>
    scf.forall (%ty, %tx) in (4, 32) {
      memref.store %c, %sh[%ty, %tx] : memref<4x32xf32, #gpu.address_space<workgroup>>
      scf.forall.in_parallel {}
    } {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
    scf.forall (%ty, %tx) in (4, 16) {
      %v = memref.load %sh[%ty, %tx] : memref<4x32xf32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%by, %bx, %ty, %tx] : memref<3x4x4x16xf32>
      scf.forall.in_parallel {}
    } {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
    scf.forall.in_parallel {}
  } {mapping = [#gpu.block<y>, #gpu.block<x>]}
  return
}

// -----

// A flat parallel loop: 5x7x9 = 315 iterations linearized over blocks of
// 256 (64) threads, a guard for the last block, innermost dimension fastest.
// CHECK-LABEL: func.func @flat
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256
// CHECK: %[[M:.*]] = arith.muli %[[B]], %c256
// CHECK: %[[L:.*]] = arith.addi %[[M]], %[[T]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[L]], %c315
// CHECK: scf.if %[[IN]] {
// CHECK: %[[I2:.*]] = arith.remui %[[L]], %c9
// CHECK: %[[R:.*]] = arith.divui %[[L]], %c9
// CHECK: %[[I1:.*]] = arith.remui %[[R]], %c7
// CHECK: %[[I0:.*]] = arith.divui %[[R]], %c7
// CHECK: memref.store %{{.*}}, %arg0[%[[I0]], %[[I1]], %[[I2]]]
// B64-LABEL: func.func @flat
// B64: gpu.launch blocks({{.*}}) in (%{{.*}} = %c5{{.*}}) threads({{.*}}) in (%{{.*}} = %c64
func.func @flat(%out: memref<5x7x9xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c9 = arith.constant 9 : index
  %v = arith.constant 1.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c5, %c7, %c9) step (%c1, %c1, %c1) {
    memref.store %v, %out[%i, %j, %k] : memref<5x7x9xf32>
    scf.reduce
  }
  return
}

// -----

func.func @dynamic(%out: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = arith.constant 1.0 : f32
  // expected-error @+1 {{qfuse-map-to-gpu: a parallel loop needs static bounds and steps}}
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %v, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

func.func @unmapped_inner(%out: memref<4x8xf32>) {
  %v = arith.constant 1.0 : f32
  scf.forall (%b) in (4) {
    // expected-error @+1 {{qfuse-map-to-gpu: a forall inside a block forall must be mapped to threads, on buffers}}
    scf.forall (%t) in (8) {
      memref.store %v, %out[%b, %t] : memref<4x8xf32>
      scf.forall.in_parallel {}
    }
    scf.forall.in_parallel {}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @too_many_threads(%out: memref<2048xf32>) {
  %v = arith.constant 1.0 : f32
  // expected-error @+1 {{qfuse-map-to-gpu: 2048 threads per block (at most 1024)}}
  scf.forall (%b) in (1) {
    scf.forall (%t) in (2048) {
      memref.store %v, %out[%t] : memref<2048xf32>
      scf.forall.in_parallel {}
    } {mapping = [#gpu.thread<x>]}
    scf.forall.in_parallel {}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @nested_threads(%out: memref<4x8xf32>) {
  %v = arith.constant 1.0 : f32
  scf.forall (%b) in (1) {
    scf.forall (%t) in (4) {
      // expected-error @+1 {{qfuse-map-to-gpu: thread foralls cannot nest}}
      scf.forall (%u) in (8) {
        memref.store %v, %out[%t, %u] : memref<4x8xf32>
        scf.forall.in_parallel {}
      } {mapping = [#gpu.thread<x>]}
      scf.forall.in_parallel {}
    } {mapping = [#gpu.thread<y>]}
    scf.forall.in_parallel {}
  } {mapping = [#gpu.block<x>]}
  return
}

// -----

func.func @nested_shared(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  %v = arith.constant 1.0 : f32
  scf.forall (%b) in (1) {
    scf.for %i = %c0 to %c2 step %c1 {
      // expected-error @+1 {{qfuse-map-to-gpu: shared memory must be allocated directly in the block forall}}
      %sh = memref.alloc() : memref<4xf32, #gpu.address_space<workgroup>>
      scf.forall (%t) in (4) {
        memref.store %v, %sh[%t] : memref<4xf32, #gpu.address_space<workgroup>>
        scf.forall.in_parallel {}
      } {mapping = [#gpu.thread<x>]}
    }
    scf.forall.in_parallel {}
  } {mapping = [#gpu.block<x>]}
  return
}
