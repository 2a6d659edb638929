// qfuse-lower-to-llvm runs convert-qfuse-to-vector first (vectorize=true by
// default): the convolution becomes 8-wide vector FMAs (llvm.intr.fmuladd on
// vector<8xf32>, contracted to vfmadd by the x86 backend); vectorize=false
// keeps it on the generic scalar loops, and the two agree on data.
// RUN: qfuse-opt %s --qfuse-lower-to-llvm | FileCheck %s --check-prefix=VEC
// VEC: llvm.intr.fmuladd({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// VEC-NOT: qfuse.
// RUN: qfuse-opt %s --qfuse-lower-to-llvm=vectorize=false | FileCheck %s --check-prefix=GENERIC
// GENERIC-NOT: vector<8xf32>
// GENERIC: llvm.func @conv
// RUN: qfuse-run %s --random-inputs 3 --lowering=vectorize=false --compare-after=convert-qfuse-to-vector --tolerance 1e-6 | FileCheck %s --check-prefix=CMP
// CMP: result 0: max abs err
func.func @conv(%x: tensor<1x16x10x9xf32>, %w: tensor<32x16x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x10x9xf32> {
  %y = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x16x10x9xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) -> tensor<1x32x10x9xf32>
  return %y : tensor<1x32x10x9xf32>
}
