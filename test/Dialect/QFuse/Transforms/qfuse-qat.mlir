// The --qfuse-qat pipeline on the bundled ResNet-style block: both conv+BN
// pairs become QAT ops (the first takes in its relu), in the mode asked for;
// then, frozen, --qat-to-deploy gives the PTQ deploy form.
// RUN: qfuse-opt %qfuse_src/examples/resnet_block.mlir --qfuse-qat | FileCheck %s
// RUN: qfuse-opt %qfuse_src/examples/resnet_block.mlir --pass-pipeline='builtin.module(qfuse-qat{mode=frozen momentum=0.01},qat-to-deploy)' | FileCheck %s --check-prefix=DEPLOY
// RUN: qfuse-run %qfuse_src/examples/resnet_block.mlir --random-inputs 5 --compare-after='qfuse-qat{mode=frozen},qat-to-deploy' --tolerance 1e-5 | FileCheck %s --check-prefix=JIT

// CHECK-LABEL: func.func @basic_block
// CHECK: %[[Y1:.*]], %{{.*}}, %{{.*}} = qfuse.qat_conv_bn %arg0, {{.*}}activation = #qfuse.activation<relu>{{.*}}mode = #qfuse.qat_mode<train>
// CHECK: %[[Y2:.*]], %{{.*}}, %{{.*}} = qfuse.qat_conv_bn %[[Y1]],
// CHECK-NOT: qfuse.batch_norm
// CHECK: arith.addf %[[Y2]], %arg0

// DEPLOY-LABEL: func.func @basic_block
// DEPLOY-NOT: qat_conv_bn
// DEPLOY: qfuse.conv %arg0, {{.*}}activation = #qfuse.activation<relu>
// DEPLOY: qfuse.conv

// JIT: compare: OK within tolerance
