// The whole pipeline ends in the LLVM dialect, with a C interface wrapper.
// RUN: qfuse-opt %qfuse_src/examples/resnet_block.mlir --qfuse-lower-to-llvm | FileCheck %s
// RUN: qfuse-opt %qfuse_src/examples/resnet_block.mlir --pass-pipeline='builtin.module(qfuse-lower-to-llvm{results-to-out-params=1})' | FileCheck %s --check-prefix=OUT
// CHECK-NOT: qfuse.
// CHECK-NOT: {{(tensor|memref|linalg|arith|scf|func)\.}}
// CHECK: llvm.func @basic_block(
// CHECK: llvm.func @_mlir_ciface_basic_block(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// OUT: llvm.func @basic_block({{.*}}) attributes {llvm.emit_c_interface} {
// OUT: llvm.return{{$}}
