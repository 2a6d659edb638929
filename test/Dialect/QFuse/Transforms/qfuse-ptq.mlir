// The --qfuse-ptq pipeline on the bundled ResNet-style block: both
// batch-norms fold, the first relu fuses, the relu after the residual add
// stays, and the summary remark counts what happened.
// RUN: qfuse-opt %qfuse_src/examples/resnet_block.mlir --qfuse-ptq --remarks-filter=fold-bn --remark-format=emitRemark 2>&1 | FileCheck %s
// RUN: qfuse-opt %qfuse_src/examples/resnet_block.mlir --pass-pipeline='builtin.module(qfuse-ptq{fold-before-conv=false})' | FileCheck %s --check-prefix=IR

// CHECK-COUNT-2: remark: [Passed] FoldBatchNorm | Category:fold-bn:fold | Remark="batch-norm folded with constant weights (computed in f64, rounded once)"
// CHECK: remark: [Analysis] FoldBatchNormSummary | Category:fold-bn:summary | Remark="fold-bn summary: 2 batch-norms, folded-after 2"
// CHECK-LABEL: func.func @basic_block
// CHECK-NOT: qfuse.batch_norm

// IR-LABEL: func.func @basic_block
// IR: %[[C1:.*]] = qfuse.conv %arg0, %{{.*}}, %{{.*}} {activation = #qfuse.activation<relu>
// IR: %[[C2:.*]] = qfuse.conv %[[C1]], %{{.*}}, %{{.*}} {dilations
// IR: %[[S:.*]] = arith.addf %[[C2]], %arg0
// IR: %[[R:.*]] = qfuse.relu %[[S]]
// IR: return %[[R]]
