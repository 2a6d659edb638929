// Upstream mlir-opt loads the qfuse dialect from the plugin module.
// RUN: mlir-opt %s --load-dialect-plugin=%qfuse_libs/QFusePlugin%shlibext | FileCheck %s
// RUN: mlir-opt %s --load-dialect-plugin=%qfuse_libs/QFusePlugin%shlibext -canonicalize | FileCheck %s --check-prefix=CANON

// CHECK-LABEL: func @plugin
// CHECK: qfuse.relu
// CHECK: qfuse.relu
// CANON-LABEL: func @plugin
// CANON: qfuse.relu
// CANON-NOT: qfuse.relu
// CANON-LABEL: func @plugin_fold
func.func @plugin(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qfuse.relu %x : tensor<4xf32>
  %1 = qfuse.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// The pass plugin registers --fold-bn with upstream mlir-opt.
// RUN: mlir-opt %s --load-dialect-plugin=%qfuse_libs/QFusePlugin%shlibext --load-pass-plugin=%qfuse_libs/QFusePlugin%shlibext --pass-pipeline='builtin.module(fold-bn)' | FileCheck %s --check-prefix=PASS
// PASS-LABEL: func @plugin_fold
// PASS-NOT: qfuse.batch_norm
// PASS: qfuse.linear {{.*}}activation = #qfuse.activation<relu>
func.func @plugin_fold(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x3xf32>
  %m = arith.constant dense<0.1> : tensor<2xf32>
  %0 = qfuse.linear %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %1 = qfuse.batch_norm %0, %m, %m {epsilon = 1.0e-3 : f64} : tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>
  %2 = qfuse.relu %1 : tensor<2x2xf32>
  return %2 : tensor<2x2xf32>
}
