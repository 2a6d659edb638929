// The vector kernels' cache hints on tensors: bufferization turns
// qfuse.prefetch into memref.prefetch on the tensor's buffer, and
// qfuse.nontemporal_write into a store that is non-temporal (aligned to the
// vector's 32 bytes) exactly when the element's address is 32-byte aligned
// at run time, an ordinary store otherwise; qfuse-lower-dot-pairs turns
// qfuse.store_fence into sfence for x86.
// RUN: qfuse-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s
// Without a unit innermost stride in the buffer's type: an ordinary write.
// RUN: qfuse-opt %s --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=STRIDED
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avx2 | FileCheck %s --check-prefix=FENCE

// CHECK-LABEL: func.func @hints
// CHECK-SAME:    (%[[T:.*]]: memref<4x16x8xf32>, %[[V:.*]]: vector<8xf32>, %[[I:.*]]: index, %[[J:.*]]: index)
// CHECK:         memref.prefetch %[[T]][%[[I]], %[[J]], %[[C0:.*]]], read, locality<3>, data
// CHECK:         %{{.*}}, %[[OFF:.*]], %{{.*}}:3, %[[ST:.*]]:3 = memref.extract_strided_metadata %[[T]]
// CHECK:         %[[E0:.*]] = arith.muli %[[I]], %[[ST]]#0
// CHECK:         %[[E1:.*]] = arith.addi %[[OFF]], %[[E0]]
// CHECK:         %[[E2:.*]] = arith.muli %[[J]], %[[ST]]#1
// CHECK:         %[[E3:.*]] = arith.addi %[[E1]], %[[E2]]
// CHECK:         %[[E4:.*]] = arith.muli %[[C0]], %[[ST]]#2
// CHECK:         %[[E5:.*]] = arith.addi %[[E3]], %[[E4]]
// CHECK:         %[[BYTES:.*]] = arith.muli %[[E5]], %c4
// CHECK:         %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[T]]
// CHECK:         %[[ADDR:.*]] = arith.addi %[[PTR]], %[[BYTES]]
// CHECK:         %[[REM:.*]] = arith.remui %[[ADDR]], %c32
// CHECK:         %[[OK:.*]] = arith.cmpi eq, %[[REM]], %{{.*}}
// CHECK:         scf.if %[[OK]] {
// CHECK-NEXT:      vector.store %[[V]], %[[T]][%[[I]], %[[J]], %[[C0]]] {alignment = 32 : i64, nontemporal = true}
// CHECK-NEXT:    } else {
// CHECK-NEXT:      vector.store %[[V]], %[[T]][%[[I]], %[[J]], %[[C0]]] : memref
// CHECK-NEXT:    }
// CHECK:         qfuse.store_fence
// CHECK:         return %[[T]]
// STRIDED-LABEL: func.func @hints
// STRIDED-NOT:     nontemporal
// STRIDED:         vector.transfer_write %{{.*}} {in_bounds = [true]}
// STRIDED-NOT:     nontemporal
// FENCE-LABEL: func.func @hints
// FENCE:         llvm.call_intrinsic "llvm.x86.sse.sfence"() : () -> ()
// FENCE-NOT:     qfuse.store_fence
func.func @hints(%t: tensor<4x16x8xf32>, %v: vector<8xf32>, %i: index, %j: index) -> tensor<4x16x8xf32> {
  %c0 = arith.constant 0 : index
  qfuse.prefetch %t[%i, %j, %c0] {locality = 3 : i32} : tensor<4x16x8xf32>
  %r = qfuse.nontemporal_write %v, %t[%i, %j, %c0] : vector<8xf32> into tensor<4x16x8xf32>
  qfuse.store_fence
  return %r : tensor<4x16x8xf32>
}
