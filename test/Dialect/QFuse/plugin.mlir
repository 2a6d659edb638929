// Upstream mlir-opt loads the qfuse dialect from the plugin module.
// RUN: mlir-opt %s --load-dialect-plugin=%qfuse_libs/QFusePlugin%shlibext | FileCheck %s
// RUN: mlir-opt %s --load-dialect-plugin=%qfuse_libs/QFusePlugin%shlibext -canonicalize | FileCheck %s --check-prefix=CANON

// CHECK-LABEL: func @plugin
// CHECK: qfuse.relu
// CHECK: qfuse.relu
// CANON-LABEL: func @plugin
// CANON-COUNT-1: qfuse.relu
// CANON-NOT: qfuse.relu
func.func @plugin(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.relu %x : tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}
