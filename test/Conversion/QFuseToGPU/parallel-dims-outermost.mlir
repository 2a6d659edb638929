// qfuse-parallel-dims-outermost: linalg ops whose parallel dimensions follow
// a reduction are generalized and interchanged (parallel first, then the
// reductions, each in order), so that convert-linalg-to-parallel-loops gives
// one scf.parallel over every output element; ops already in that order, and
// ops inside a tiled schedule's forall, are left alone.
// RUN: qfuse-opt %s --split-input-file --qfuse-parallel-dims-outermost | FileCheck %s
// RUN: qfuse-opt %s --split-input-file --qfuse-parallel-dims-outermost --convert-linalg-to-parallel-loops | FileCheck %s --check-prefix=LOOPS

// A depthwise conv as qfuse lowers it: (n, g, f, c, kh, kw, oh, ow).
#in = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (g, f, c, kh, kw)>
#out = affine_map<(n, g, f, c, kh, kw, oh, ow) -> (n, g, f, oh, ow)>
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @depthwise
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// LOOPS-LABEL: func.func @depthwise
// LOOPS: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) = (%c0, %c0, %c0, %c0, %c0) to (%c1, %c4, %c1, %c6, %c6)
// LOOPS-NEXT: scf.for
// LOOPS-NEXT: scf.for
// LOOPS-NEXT: scf.for
// LOOPS-NOT: scf.parallel
func.func @depthwise(%x: memref<1x4x1x8x8xf32>, %w: memref<4x1x1x3x3xf32>,
                     %y: memref<1x4x1x6x6xf32>) {
  linalg.generic {indexing_maps = [#in, #w, #out],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "reduction", "reduction", "reduction",
                                    "parallel", "parallel"]}
      ins(%x, %w : memref<1x4x1x8x8xf32>, memref<4x1x1x3x3xf32>)
      outs(%y : memref<1x4x1x6x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A named op with a reduction after its last parallel dimension is in order
// already: it stays a named op.
// CHECK-LABEL: func.func @matmul_in_order
// LOOPS-LABEL: func.func @matmul_in_order
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
func.func @matmul_in_order(%a: memref<4x8xf32>, %b: memref<8x16xf32>,
                           %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>)
                outs(%c : memref<4x16xf32>)
  return
}

// -----

// A named op out of order: batch_reduce_matmul iterates (b, m, n, k) with
// the batch a reduction, so (m, n) move out and the batch stays the outer
// reduction.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d0, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3, d1)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @batch_reduce
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
func.func @batch_reduce(%a: memref<2x4x8xf32>, %b: memref<2x8x16xf32>,
                        %c: memref<4x16xf32>) {
  linalg.batch_reduce_matmul ins(%a, %b : memref<2x4x8xf32>, memref<2x8x16xf32>)
                             outs(%c : memref<4x16xf32>)
  return
}

// -----

// Inside a tiled schedule's forall the op is left as it is.
// CHECK-LABEL: func.func @in_schedule
// CHECK: scf.forall
// CHECK: linalg.batch_reduce_matmul
func.func @in_schedule(%a: memref<2x4x8xf32>, %b: memref<2x8x16xf32>,
                       %c: memref<4x16xf32>) {
  scf.forall (%i) in (2) {
    linalg.batch_reduce_matmul ins(%a, %b : memref<2x4x8xf32>, memref<2x8x16xf32>)
                               outs(%c : memref<4x16xf32>)
  } {mapping = [#gpu.block<x>]}
  return
}
