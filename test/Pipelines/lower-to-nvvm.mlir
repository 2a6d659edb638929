// --qfuse-lower-to-nvvm: a fused conv (+bias+relu) becomes GPU kernels
// serialized to PTX (format isa: no CUDA needed), with the accumulation as
// fused multiply-adds.
// RUN: qfuse-opt %s --qfuse-lower-to-nvvm | FileCheck %s
// RUN: qfuse-opt %s --pass-pipeline='builtin.module(qfuse-lower-to-nvvm{chip=sm_90 features=+ptx80})' | FileCheck %s --check-prefix=SM90

// CHECK-NOT: qfuse.
// CHECK: gpu.launch_func
// CHECK: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<chip = "sm_80", features = "+ptx80">
// CHECK-SAME: .target sm_80
// CHECK: fma.rn.f32
// SM90: #nvvm.target<chip = "sm_90", features = "+ptx80">
// SM90-SAME: .target sm_90
func.func @conv_bias_relu(%x: tensor<1x8x16x16xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x16x16xf32> {
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x8x16x16xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  return %0 : tensor<1x16x16x16xf32>
}
